//! The Rust side measured without Python (`cargo bench -p ferrax-core --features bench`):
//! elementwise and reduction kernels per dtype, matrix products, the cost of
//! one `bind` of a tiny op, and the backward pass's cost per tape node.
//!
//! The SIMD level is chosen once per process: run again under
//! `FERRAX_SIMD=scalar` (and `avx2` on an AVX-512 machine) to measure the
//! narrower paths. Every benchmark's name carries the level it ran at.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrax_core::kernels::simd::simd_level;
use ferrax_core::ops::{binary, linalg, reduce, unary, ReduceOp};
use ferrax_core::transforms::grad;
use ferrax_core::{Tensor, Value};

fn values<T: ferrax_core::tensor::Element>(n: usize, f: impl Fn(f64) -> T) -> Vec<T> {
    (0..n)
        .map(|i| f(((i * 7919) % 1000) as f64 / 250.0 - 2.0))
        .collect()
}

fn tensor32(shape: &[usize]) -> Value {
    let n = shape.iter().product();
    Value::Concrete(Tensor::from_slice(&values(n, |x| x as f32), shape).unwrap())
}

fn tensor64(shape: &[usize]) -> Value {
    let n = shape.iter().product();
    Value::Concrete(Tensor::from_slice(&values(n, |x| x), shape).unwrap())
}

/// An op's result, computed (large elementwise results are deferred until read).
fn done(v: Value) -> Value {
    if let Value::Concrete(t) = &v {
        t.realize().unwrap();
    }
    v
}

fn elementwise(c: &mut Criterion) {
    let level = simd_level();
    let mut g = c.benchmark_group(format!("elementwise/{level}"));
    for &n in &[4usize, 1_000, 1_000_000] {
        g.throughput(Throughput::Elements(n as u64));
        for (dtype, x) in [("f32", tensor32(&[n])), ("f64", tensor64(&[n]))] {
            g.bench_with_input(BenchmarkId::new(format!("exp/{dtype}"), n), &x, |b, x| {
                b.iter(|| done(unary::exp(black_box(x)).unwrap()))
            });
            g.bench_with_input(BenchmarkId::new(format!("mul/{dtype}"), n), &x, |b, x| {
                b.iter(|| done(binary::mul(black_box(x), x).unwrap()))
            });
        }
    }
    g.finish();
}

fn reductions(c: &mut Criterion) {
    let level = simd_level();
    let mut g = c.benchmark_group(format!("reduce/{level}"));
    g.throughput(Throughput::Elements(1_000_000));
    for (dtype, x) in [
        ("f32", tensor32(&[1000, 1000])),
        ("f64", tensor64(&[1000, 1000])),
    ] {
        for (name, op) in [("sum", ReduceOp::Sum), ("max", ReduceOp::Max)] {
            for (axis, axes) in [
                ("0", Some(&[0isize][..])),
                ("1", Some(&[1][..])),
                ("all", None),
            ] {
                let id = BenchmarkId::new(format!("{name}/{dtype}/axis={axis}"), "1000x1000");
                g.bench_with_input(id, &x, |b, x| {
                    b.iter(|| reduce::reduction(op, black_box(x), axes, false).unwrap())
                });
            }
        }
    }
    g.finish();
}

fn matmul(c: &mut Criterion) {
    let mut g = c.benchmark_group("matmul");
    g.sample_size(10);
    for &n in &[64usize, 256, 1024] {
        g.throughput(Throughput::Elements((2 * n * n * n) as u64)); // flops
        for (dtype, a) in [("f32", tensor32(&[n, n])), ("f64", tensor64(&[n, n]))] {
            g.bench_with_input(BenchmarkId::new(dtype, n), &a, |b, a| {
                b.iter(|| linalg::matmul(black_box(a), a).unwrap())
            });
        }
    }
    g.finish();
}

/// One `bind` of a tiny op (4 elements): dispatch, shape and dtype checks,
/// allocation of the output; what every op pays before its kernel.
fn bind_overhead(c: &mut Criterion) {
    let level = simd_level();
    let x = tensor64(&[4]);
    c.bench_function(&format!("bind/{level}/add 4 elements"), |b| {
        b.iter(|| binary::add(black_box(&x), &x).unwrap())
    });
}

/// The gradient of a chain of 100 tiny ops (4 elements): about 100 tape nodes
/// recorded and pulled back, so the time / 100 is the cost per node.
fn backward_per_node(c: &mut Criterion) {
    let x = tensor64(&[4]);
    c.bench_function(
        "grad/chain of 100 ops, 4 elements (time / 100 = per node)",
        |b| {
            b.iter(|| {
                grad(
                    |xs| {
                        let mut y = xs[0].clone();
                        for _ in 0..99 {
                            y = unary::sin(&y)?;
                        }
                        reduce::reduction(ReduceOp::Sum, &y, None, false)
                    },
                    std::slice::from_ref(black_box(&x)),
                )
                .unwrap()
            })
        },
    );
}

criterion_group!(
    benches,
    elementwise,
    reductions,
    matmul,
    bind_overhead,
    backward_per_node
);
criterion_main!(benches);

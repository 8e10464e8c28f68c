//! Outputs built on recycled memory (`Tensor::build_overwrite`) never show the
//! bytes of the buffer's last owner. Its own test binary so that nothing else
//! touches the buffer caches between the poisoning and the op: the op's output
//! then lands on a poisoned block for certain. One test uses the shared cache
//! of large blocks; the other the per-thread lists of small ones (each test
//! runs on its own thread, so it has its lists to itself).

use ferrax_core::ops::{binary, index, linalg, reduce, shape, unary, CompareOp, ReduceOp};
use ferrax_core::{DType, Tensor, Value};

/// Rows of the test arrays: every output below is >= 256 KiB, above the size from
/// which freed blocks are recycled.
const R: usize = 40_000;

fn val<T: ferrax_core::tensor::Element>(v: &[T], shape: &[usize]) -> Value {
    Value::Concrete(Tensor::from_slice(v, shape).unwrap())
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_concrete().unwrap().to_vec::<f64>().unwrap()
}

/// Fill the cache with blocks of `bytes` bytes holding NaN (as f64 and as
/// f32: 0xFF bytes), so the next fresh buffers of that size are dirty.
fn poison(bytes: usize) {
    let blocks: Vec<Tensor> = (0..4)
        .map(|_| {
            Tensor::from_slice(&vec![f64::from_bits(u64::MAX); bytes / 8], &[bytes / 8]).unwrap()
        })
        .collect();
    drop(blocks);
}

#[test]
fn stale_bytes_of_recycled_buffers_never_reach_results() {
    let n = 2 * R;
    let xs: Vec<f64> = (0..n).map(|i| (i % 17) as f64 * 0.25 - 2.0).collect();
    let x = val(&xs, &[R, 2]);

    poison(n * 8);
    let e = f64s(&unary::unary(ferrax_core::ops::UnaryOp::Exp, &x).unwrap());
    assert!(e
        .iter()
        .zip(&xs)
        .all(|(a, v)| (a - v.exp()).abs() <= 1e-15 * v.exp()));

    poison(n * 8);
    let s = f64s(&binary::add(&x, &x).unwrap());
    assert!(s.iter().zip(&xs).all(|(a, v)| *a == 2.0 * v));

    poison(n * 8);
    let row = val(&[1.0f64, -1.0], &[2]);
    let b = f64s(&binary::mul(&x, &row).unwrap());
    assert!(b
        .iter()
        .zip(&xs)
        .enumerate()
        .all(|(i, (a, v))| *a == if i % 2 == 0 { *v } else { -v }));

    poison(n * 8);
    let xt = shape::transpose(&x, &[1, 0]).unwrap();
    let t = ferrax_core::kernels::copy::contiguous(xt.as_concrete().unwrap())
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    assert!((0..R).all(|i| t[i] == xs[2 * i] && t[R + i] == xs[2 * i + 1]));

    poison(n * 8);
    let c = f64s(&shape::concatenate(&[x.clone(), x.clone()], 1).unwrap());
    assert!(
        (0..R).all(|i| c[4 * i..4 * i + 4] == [xs[2 * i], xs[2 * i + 1], xs[2 * i], xs[2 * i + 1]])
    );

    // Column sums: output of R elements (the reduction starts from its identity).
    let wide = val(&xs, &[2, R]);
    poison(R * 8);
    let cs = f64s(&reduce::reduction(ReduceOp::Sum, &wide, Some(&[0]), false).unwrap());
    assert!((0..R).all(|j| cs[j] == xs[j] + xs[R + j]));

    poison(R * 8);
    let am = reduce::arg_extremum(&x, Some(1), false, true).unwrap();
    let am = am.as_concrete().unwrap().to_vec::<i64>().unwrap();
    assert!((0..R).all(|i| am[i] == if xs[2 * i + 1] > xs[2 * i] { 1 } else { 0 }));

    poison(n * 8);
    let cum = f64s(&reduce::cumsum(&x, Some(1)).unwrap());
    assert!((0..R).all(|i| cum[2 * i] == xs[2 * i] && cum[2 * i + 1] == xs[2 * i] + xs[2 * i + 1]));

    poison(n * 8);
    let idx: Vec<i64> = (0..R as i64).rev().collect();
    let g = f64s(&index::gather(&x, &val(&idx, &[R])).unwrap());
    assert!((0..R).all(|i| g[2 * i] == xs[2 * (R - 1 - i)]));

    // Matmul with an empty inner dimension: an (R/100 x 100) block of zeros.
    let (m, k, nn) = (R / 100, 0usize, 100usize);
    poison(m * nn * 8);
    let a = val::<f64>(&[], &[m, k]);
    let bm = val::<f64>(&[], &[k, nn]);
    let z = f64s(&linalg::matmul(&a, &bm).unwrap());
    assert!(z.len() == m * nn && z.iter().all(|&v| v == 0.0));

    // ... and a real one.
    poison(m * nn * 8);
    let a = val(&vec![0.5f64; m * 3], &[m, 3]);
    let bm = val(&vec![2.0f64; 3 * nn], &[3, nn]);
    let p = f64s(&linalg::matmul(&a, &bm).unwrap());
    assert!(p.iter().all(|&v| v == 3.0));

    // float32 and bool outputs on dirty blocks of the same byte size.
    poison(n * 4);
    let x32 = shape::convert(&x, DType::F32).unwrap();
    let x32 = x32.as_concrete().unwrap().to_vec::<f32>().unwrap();
    assert!(x32.iter().zip(&xs).all(|(a, v)| *a == *v as f32));

    poison(n);
    let lt = binary::compare(CompareOp::Lt, &x, &val(&[0.0f64], &[])).unwrap();
    let lt = lt.as_concrete().unwrap().to_vec::<bool>().unwrap();
    assert!(lt.iter().zip(&xs).all(|(a, v)| *a == (*v < 0.0)));
}

/// Poison this thread's small-block list for `n`-element f64 buffers.
fn poison_small(n: usize) {
    let blocks: Vec<Tensor> = (0..4)
        .map(|_| Tensor::from_slice(&vec![f64::from_bits(u64::MAX); n], &[n]).unwrap())
        .collect();
    drop(blocks);
}

#[test]
fn stale_bytes_of_recycled_small_buffers_never_reach_results() {
    for n in 1..=40usize {
        let xs: Vec<f64> = (0..n).map(|i| (i % 7) as f64 * 0.5 - 1.5).collect();
        let x = val(&xs, &[n]);

        poison_small(n);
        let e = f64s(&unary::unary(ferrax_core::ops::UnaryOp::Exp, &x).unwrap());
        assert!(
            e.iter().zip(&xs).all(|(a, v)| *a == v.exp()),
            "exp, n = {n}"
        );

        poison_small(n);
        let s = f64s(&binary::add(&x, &x).unwrap());
        assert!(
            s.iter().zip(&xs).all(|(a, v)| *a == 2.0 * v),
            "add, n = {n}"
        );

        // zero-initialised outputs: zeros, and a matmul with an empty inner dimension
        poison_small(n);
        let z = Tensor::zeros(DType::F64, &[n])
            .unwrap()
            .to_vec::<f64>()
            .unwrap();
        assert!(z.iter().all(|&v| v == 0.0), "zeros, n = {n}");
        poison_small(n);
        let a = val::<f64>(&[], &[n, 0]);
        let b = val::<f64>(&[], &[0, 1]);
        let m = f64s(&linalg::matmul(&a, &b).unwrap());
        assert!(
            m.len() == n && m.iter().all(|&v| v == 0.0),
            "matmul, n = {n}"
        );

        // row sums of an (n, 2) array: n outputs from the reduction's identity
        let x2 = val(&[xs.clone(), xs.clone()].concat(), &[n, 2]);
        poison_small(n);
        let rs = f64s(&reduce::reduction(ReduceOp::Sum, &x2, Some(&[1]), false).unwrap());
        let flat = [xs.clone(), xs.clone()].concat();
        assert!(
            (0..n).all(|i| rs[i] == flat[2 * i] + flat[2 * i + 1]),
            "sum, n = {n}"
        );

        // bool outputs on dirty bytes of the same class
        poison_small(n);
        let lt = binary::compare(CompareOp::Lt, &x, &val(&[0.0f64], &[])).unwrap();
        let lt = lt.as_concrete().unwrap().to_vec::<bool>().unwrap();
        assert!(
            lt.iter().zip(&xs).all(|(a, v)| *a == (*v < 0.0)),
            "lt, n = {n}"
        );

        // float32 outputs
        poison_small(n);
        let x32 = shape::convert(&x, DType::F32).unwrap();
        let x32 = x32.as_concrete().unwrap().to_vec::<f32>().unwrap();
        assert!(
            x32.iter().zip(&xs).all(|(a, v)| *a == *v as f32),
            "f32, n = {n}"
        );
    }
}

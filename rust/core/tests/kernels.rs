//! Kernels against scalar references on awkward lengths and layouts, plus
//! property tests over shapes, strides and broadcasting.

use ferrax_core::ops::{binary, reduce, shape, unary, ReduceOp};
use ferrax_core::tensor::shape::{broadcast_shapes, numel};
use ferrax_core::{Tensor, Value};
use proptest::prelude::*;

const LENGTHS: [usize; 7] = [0, 1, 7, 15, 33, 1025, 65537];

fn data(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0
        })
        .collect()
}

fn val(v: &[f64], shape: &[usize]) -> Value {
    Value::Concrete(Tensor::from_slice(v, shape).unwrap())
}

fn out(v: &Value) -> Vec<f64> {
    v.as_concrete().unwrap().to_vec::<f64>().unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs()) || (a.is_nan() && b.is_nan())
}

type UnaryCase = (
    &'static str,
    fn(&Value) -> ferrax_core::Result<Value>,
    fn(f64) -> f64,
);

#[test]
fn unary_kernels_match_std_on_awkward_lengths_and_strides() {
    let cases: [UnaryCase; 6] = [
        ("exp", unary::exp, f64::exp),
        ("tanh", unary::tanh, f64::tanh),
        ("sin", unary::sin, f64::sin),
        ("cos", unary::cos, f64::cos),
        ("neg", unary::neg, |x| -x),
        (
            "sqrt",
            |x| unary::sqrt(&unary::abs(x)?),
            |x: f64| x.abs().sqrt(),
        ),
    ];
    for (name, f, r) in cases {
        for n in LENGTHS {
            let v = data(n, 7);
            let got = out(&f(&val(&v, &[n])).unwrap());
            for (g, x) in got.iter().zip(&v) {
                assert!(
                    close(*g, r(*x), 1e-14),
                    "{name} n={n} x={x}: {g} vs {}",
                    r(*x)
                );
            }
            // strided: every other element of a twice-as-long array
            let w = data(2 * n, 8);
            let t = Tensor::from_slice(&w, &[n, 2])
                .unwrap()
                .slice_view(&[0, 1], &[1, 1], &[n, 1]);
            let got = out(&f(&Value::Concrete(t)).unwrap());
            for (i, g) in got.iter().enumerate() {
                let x = w[2 * i + 1];
                assert!(close(*g, r(x), 1e-14), "{name} strided n={n}");
            }
        }
    }
}

#[test]
fn binary_kernels_broadcast_like_numpy() {
    for n in LENGTHS {
        let a = data(3 * n, 1);
        let b = data(n, 2);
        let r = out(&binary::add(&val(&a, &[3, n]), &val(&b, &[n])).unwrap());
        for i in 0..3 {
            for j in 0..n {
                assert_eq!(r[i * n + j], a[i * n + j] + b[j]);
            }
        }
        // column broadcast: (n, 1) * (1, 3)
        let r = out(&binary::mul(&val(&b, &[n, 1]), &val(&[1.0, 2.0, 3.0], &[1, 3])).unwrap());
        for j in 0..n {
            for k in 0..3 {
                assert_eq!(r[j * 3 + k], b[j] * (k + 1) as f64);
            }
        }
    }
}

#[test]
fn reductions_match_reference_on_every_axis() {
    for n in [1usize, 7, 33, 1025] {
        let v = data(4 * n, 3);
        let x = val(&v, &[4, n]);
        let s0 = out(&reduce::reduction(ReduceOp::Sum, &x, Some(&[0]), false).unwrap());
        let s1 = out(&reduce::reduction(ReduceOp::Max, &x, Some(&[1]), false).unwrap());
        for j in 0..n {
            let r: f64 = (0..4).map(|i| v[i * n + j]).sum();
            assert!(close(s0[j], r, 1e-14));
        }
        for i in 0..4 {
            let r = v[i * n..(i + 1) * n]
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(s1[i], r);
        }
    }
}

#[test]
fn large_inputs_use_threads_and_agree() {
    let n = 1 << 18;
    let v = data(n, 4);
    let s = out(&reduce::reduction(ReduceOp::Sum, &val(&v, &[n]), None, false).unwrap())[0];
    assert!(close(s, v.iter().sum::<f64>(), 1e-10));
    let e = out(&unary::exp(&val(&v, &[n])).unwrap());
    assert!(e.iter().zip(&v).all(|(a, x)| close(*a, x.exp(), 1e-14)));
}

fn shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..4, 0..4)
}

/// A shape and another that broadcasts against it.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    shape_strategy().prop_flat_map(|a| {
        let n = a.len();
        (
            Just(a.clone()),
            prop::collection::vec(any::<bool>(), n),
            0..=n,
        )
            .prop_map(move |(a, ones, drop)| {
                let b: Vec<usize> = a
                    .iter()
                    .zip(&ones)
                    .map(|(&d, &one)| if one { 1 } else { d })
                    .collect();
                (a, b[drop..].to_vec())
            })
    })
}

fn reference_binary(
    a: &[f64],
    sa: &[usize],
    b: &[f64],
    sb: &[usize],
    f: fn(f64, f64) -> f64,
) -> (Vec<usize>, Vec<f64>) {
    let s = broadcast_shapes(sa, sb).unwrap().to_vec();
    let n = numel(&s);
    let idx = |shape: &[usize], flat: usize| -> usize {
        // map an output flat index to an input flat index under broadcasting
        let mut rem = flat;
        let mut coords = vec![0; s.len()];
        for i in (0..s.len()).rev() {
            coords[i] = rem % s[i].max(1);
            rem /= s[i].max(1);
        }
        let pad = s.len() - shape.len();
        let mut k = 0;
        for (i, &d) in shape.iter().enumerate() {
            k = k * d + if d == 1 { 0 } else { coords[pad + i] };
        }
        k
    };
    let v = (0..n).map(|o| f(a[idx(sa, o)], b[idx(sb, o)])).collect();
    (s, v)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn broadcast_binary_matches_reference((sa, sb) in broadcast_pair(), swap in any::<bool>()) {
        let (sa, sb) = if swap { (sb, sa) } else { (sa, sb) };
        let a = data(numel(&sa), 11);
        let b = data(numel(&sb), 12);
        let (s, want) = reference_binary(&a, &sa, &b, &sb, |x, y| x * y - y);
        let got = binary::sub(&binary::mul(&val(&a, &sa), &val(&b, &sb)).unwrap(), &val(&b, &sb)).unwrap();
        prop_assert_eq!(got.shape().to_vec(), s);
        prop_assert_eq!(out(&got), want);
    }

    #[test]
    fn strided_views_read_the_right_elements(
        shape in prop::collection::vec(1usize..5, 1..4),
        steps in prop::collection::vec(prop::sample::select(vec![-2isize, -1, 1, 2, 3]), 3),
    ) {
        let n = numel(&shape);
        let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let x = val(&v, &shape);
        let nd = shape.len();
        let mut starts = vec![0usize; nd];
        let mut lens = vec![0usize; nd];
        let steps = &steps[..nd];
        for i in 0..nd {
            let st = steps[i];
            starts[i] = if st < 0 { shape[i] - 1 } else { 0 };
            lens[i] = (shape[i] as isize + st.abs() - 1) as usize / st.unsigned_abs();
        }
        let y = shape::slice(&x, &starts, steps, &lens).unwrap();
        // reference: walk the multi-index
        let strides: Vec<usize> = (0..nd).map(|i| shape[i + 1..].iter().product()).collect();
        let total = numel(&lens);
        let mut want = Vec::with_capacity(total);
        for flat in 0..total {
            let mut rem = flat;
            let mut k = 0isize;
            for i in (0..nd).rev() {
                let c = (rem % lens[i]) as isize;
                rem /= lens[i];
                k += (starts[i] as isize + c * steps[i]) * strides[i] as isize;
            }
            want.push(k as f64);
        }
        prop_assert_eq!(out(&y), want.clone());
        // and a reduction over the view agrees with the reference sum
        let s = out(&reduce::reduction(ReduceOp::Sum, &y, None, false).unwrap())[0];
        prop_assert_eq!(s, want.iter().sum::<f64>());
        // a copy-free transpose of the view reads the same elements in permuted order
        let perm: Vec<usize> = (0..nd).rev().collect();
        let yt = shape::transpose(&y, &perm).unwrap();
        let back = shape::transpose(&yt, &perm).unwrap();
        prop_assert_eq!(out(&back), want);
    }

    #[test]
    fn reshape_round_trips(shape in prop::collection::vec(1usize..5, 1..4)) {
        let n = numel(&shape);
        let v = data(n, 5);
        let x = val(&v, &shape);
        let flat = shape::reshape(&x, &[n]).unwrap();
        let back = shape::reshape(&flat, &shape).unwrap();
        prop_assert_eq!(out(&back), v);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    /// `max`/`min` over axis 0 (rows folded into an output row with explicit
    /// SIMD) against a scalar fold, with NaNs and infinities anywhere, in
    /// float32 and float64, for widths around every vector length.
    #[test]
    fn axis0_extrema_match_a_scalar_fold_with_nans(
        rows in 1usize..6,
        cols in 0usize..40,
        specials in prop::collection::vec((0usize..240, 0u8..3), 0..4),
    ) {
        let mut v = data(rows * cols, 9);
        for &(at, kind) in &specials {
            if rows * cols > 0 {
                v[at % (rows * cols)] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][kind as usize];
            }
        }
        for (op, pick) in [(ReduceOp::Max, true), (ReduceOp::Min, false)] {
            let want: Vec<f64> = (0..cols)
                .map(|j| {
                    let col = (0..rows).map(|i| v[i * cols + j]);
                    if col.clone().any(f64::is_nan) {
                        f64::NAN
                    } else if pick {
                        col.fold(f64::NEG_INFINITY, f64::max)
                    } else {
                        col.fold(f64::INFINITY, f64::min)
                    }
                })
                .collect();
            let x = val(&v, &[rows, cols]);
            let got = out(&reduce::reduction(op, &x, Some(&[0]), false).unwrap());
            let same = |a: &f64, b: &f64| a == b || (a.is_nan() && b.is_nan());
            prop_assert!(got.iter().zip(&want).all(|(a, b)| same(a, b)), "{:?} {:?}", got, want);
            let v32: Vec<f32> = v.iter().map(|&a| a as f32).collect();
            let x32 = Value::Concrete(Tensor::from_slice(&v32, &[rows, cols]).unwrap());
            let got32 = reduce::reduction(op, &x32, Some(&[0]), false).unwrap();
            let got32 = got32.as_concrete().unwrap().to_vec::<f32>().unwrap();
            prop_assert!(
                got32.iter().zip(&want).all(|(a, b)| same(&(*a as f64), &(*b as f32 as f64))),
                "{:?} {:?}", got32, want
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// `a @ I` and `I @ a` (the shortcut that returns `a`) against a scalar
    /// triple loop: the same values for finite `a`; with an inf or NaN in `a`,
    /// the NaNs a real product makes (`inf * 0`), in any layout of either
    /// operand (transposed views), and near-identities (one entry off) are
    /// multiplied as usual.
    #[test]
    fn products_with_the_identity_match_a_scalar_product(
        m in 1usize..48,
        k in 32usize..48,
        identity_left in any::<bool>(),
        transpose_a in any::<bool>(),
        transpose_eye in any::<bool>(),
        special in prop::option::of((0usize..4096, 0u8..3)),
        perturb in prop::option::of(0usize..4096),
    ) {
        let mut v = data(m * k, 11);
        if let Some((at, kind)) = special {
            v[at % (m * k)] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][kind as usize];
        }
        let mut e = vec![0.0; k * k];
        for i in 0..k {
            e[i * k + i] = 1.0;
        }
        if let Some(at) = perturb {
            e[at % (k * k)] += 0.5;
        }
        // `a` as (m, k) for a @ I, or (k, m) for I @ a; stored transposed on request
        let (ar, ac) = if identity_left { (k, m) } else { (m, k) };
        let a = if transpose_a {
            let stored: Vec<f64> = (0..ac).flat_map(|j| (0..ar).map(move |i| (i, j))).map(|(i, j)| v[i * ac + j]).collect();
            shape::transpose(&val(&stored, &[ac, ar]), &[1, 0]).unwrap()
        } else {
            val(&v, &[ar, ac])
        };
        let eye = if transpose_eye {
            let et: Vec<f64> = (0..k * k).map(|idx| e[(idx % k) * k + idx / k]).collect();
            shape::transpose(&val(&et, &[k, k]), &[1, 0]).unwrap()
        } else {
            val(&e, &[k, k])
        };
        let (l, r, lv, rv, (p, q, s)) = if identity_left {
            (&eye, &a, &e, &v, (k, k, m))
        } else {
            (&a, &eye, &v, &e, (m, k, k))
        };
        let want: Vec<f64> = (0..p * s)
            .map(|idx| (0..q).map(|t| lv[(idx / s) * q + t] * rv[t * s + idx % s]).sum())
            .collect();
        let got = out(&ferrax_core::ops::linalg::matmul(l, r).unwrap());
        let same = |x: &f64, y: &f64| (x - y).abs() <= 1e-12 * (1.0 + y.abs()) || x == y || (x.is_nan() && y.is_nan());
        prop_assert!(got.iter().zip(&want).all(|(x, y)| same(x, y)), "{:?} {:?}", got, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    /// Outer products (`k == 1`, computed without gemm) equal the elementwise
    /// products bit for bit, in float32 and float64, batched and broadcast,
    /// with either operand a transposed or reversed view.
    #[test]
    fn outer_products_are_exact_products(
        batch in 0usize..4,
        m in 0usize..40,
        n in 0usize..40,
        view_a in 0u8..2,
        reverse_b in any::<bool>(),
    ) {
        let av = data(batch.max(1) * m, 21);
        let bv = data(n, 22);
        let a_shape: Vec<usize> = if batch > 0 { vec![batch, m, 1] } else { vec![m, 1] };
        let a = if view_a == 1 && batch == 0 {
            // (1, m) stored, transposed to (m, 1)
            shape::transpose(&val(&av, &[1, m]), &[1, 0]).unwrap()
        } else {
            val(&av, &a_shape)
        };
        let b = if reverse_b {
            let rev: Vec<f64> = bv.iter().rev().copied().collect();
            ferrax_core::ops::composite::flip(&val(&rev, &[1, n]), Some(&[1])).unwrap()
        } else {
            val(&bv, &[1, n])
        };
        let rows = batch.max(1) * m;
        let want: Vec<f64> = (0..rows * n).map(|i| av[i / n.max(1)] * bv[i % n.max(1)]).collect();
        prop_assert_eq!(out(&ferrax_core::ops::linalg::matmul(&a, &b).unwrap()), want);
        let got32 = product32(&a, &b);
        let want32: Vec<f32> = (0..rows * n).map(|i| (av[i / n.max(1)] as f32) * (bv[i % n.max(1)] as f32)).collect();
        prop_assert_eq!(got32, want32);
    }
}

/// `a @ b` with both operands first converted to float32, as a flat vector.
fn product32(a: &Value, b: &Value) -> Vec<f32> {
    let a32 = shape::convert(a, ferrax_core::DType::F32).unwrap();
    let b32 = shape::convert(b, ferrax_core::DType::F32).unwrap();
    let got = ferrax_core::ops::linalg::matmul(&a32, &b32).unwrap();
    got.as_concrete().unwrap().to_vec::<f32>().unwrap()
}

/// A stored `rows x cols` operand in one of four layouts, as a view:
/// row-major, rows reversed (a negative row stride), transposed (stored
/// column-major), or a window of a wider matrix (rows further apart than
/// they are long, at a non-zero offset).
fn laid_out(v: &[f64], rows: usize, cols: usize, layout: u8) -> Value {
    match layout {
        0 => val(v, &[rows, cols]),
        1 => {
            let rev: Vec<f64> = v.chunks(cols).rev().flatten().copied().collect();
            ferrax_core::ops::composite::flip(&val(&rev, &[rows, cols]), Some(&[0])).unwrap()
        }
        2 => {
            let stored: Vec<f64> = (0..rows * cols)
                .map(|idx| v[(idx % rows) * cols + idx / rows])
                .collect();
            shape::transpose(&val(&stored, &[cols, rows]), &[1, 0]).unwrap()
        }
        _ => {
            let wide: Vec<f64> = (0..rows)
                .flat_map(|i| {
                    std::iter::once(9.0)
                        .chain(v[i * cols..(i + 1) * cols].iter().copied())
                        .chain([7.0, 8.0])
                })
                .collect();
            shape::slice(
                &val(&wide, &[rows, cols + 3]),
                &[0, 1],
                &[1, 1],
                &[rows, cols],
            )
            .unwrap()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Products large enough to be split across the kernel threads (at least
    /// 2^21 multiply-adds): as row blocks, with a ragged last block, or by
    /// gemm itself (few rows, or rows further apart than the output's),
    /// against a scalar triple loop, in float64 and float32, for every layout
    /// of either operand.
    #[test]
    fn products_split_across_threads_match_a_scalar_product(
        m in 1usize..80,
        n in 60usize..420,
        extra_k in 0usize..30,
        layout_a in 0u8..4,
        layout_b in 0u8..4,
    ) {
        ferrax_core::kernels::parallel::set_num_threads(2).unwrap();
        let k = (1usize << 21).div_ceil(m * n) + extra_k;
        let av = data(m * k, 31);
        let bv = data(k * n, 32);
        let a = laid_out(&av, m, k, layout_a);
        let b = laid_out(&bv, k, n, layout_b);
        let want: Vec<f64> = (0..m * n)
            .map(|idx| (0..k).map(|t| av[(idx / n) * k + t] * bv[t * n + idx % n]).sum())
            .collect();
        let got = out(&ferrax_core::ops::linalg::matmul(&a, &b).unwrap());
        // |error| within k ulps of sum |a_it b_tj| (at most 4k here: entries are within 2)
        let tol64 = 4.0 * k as f64 * k as f64 * f64::EPSILON;
        prop_assert!(got.iter().zip(&want).all(|(x, y)| (x - y).abs() <= tol64), "float64");
        let got32 = product32(&a, &b);
        let tol32 = 4.0 * k as f64 * k as f64 * f32::EPSILON as f64;
        prop_assert!(
            got32.iter().zip(&want).all(|(x, y)| (*x as f64 - y).abs() <= tol32),
            "float32"
        );
    }
}

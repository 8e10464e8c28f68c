//! Deferred elementwise chains (`kernels::fusion`) built through the ops
//! layer: pending until read, shared nodes, captured scalars, ragged tails,
//! deferred folds, the fold budget and the node cap.

use ferrax_core::kernels::fusion::{
    fusion_min, DEFAULT_FUSION_MIN, FOLD_BUDGET_BYTES, MAX_NODES, TILE,
};
use ferrax_core::ops::{self, binary, unary, UnaryOp};
use ferrax_core::{Tensor, Value};

fn val(v: &[f64]) -> Value {
    Value::Concrete(Tensor::from_slice(v, &[v.len()]).unwrap())
}

fn tensor(v: &Value) -> &Tensor {
    v.as_concrete().unwrap()
}

#[test]
fn a_chain_is_pending_until_read_and_equals_the_scalar_reference() {
    let n = DEFAULT_FUSION_MIN + 3 * TILE + 17; // tiles and a ragged tail
    let xs: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 / 250.0 - 2.0).collect();
    let x = val(&xs);
    let e = unary::unary(UnaryOp::Exp, &x).unwrap();
    let s = binary::mul(&e, &val(&[0.5])).unwrap(); // scalar operand captured
    let y = binary::add(&s, &e).unwrap(); // `e` shared: one node of the chain
    assert!(!tensor(&y).is_realized() || fusion_min() > n);
    let got = tensor(&y).to_vec::<f64>().unwrap();
    assert!(tensor(&y).is_realized());
    for (g, v) in got.iter().zip(&xs) {
        let want = 1.5 * v.exp();
        assert!((g - want).abs() <= 1e-15 * want, "{g} vs {want}");
    }
    // the intermediate was not kept, and reading it now computes it alone
    assert!(!tensor(&e).is_realized() || fusion_min() > n);
    assert_eq!(tensor(&e).to_vec::<f64>().unwrap().len(), n);
}

#[test]
fn whole_array_folds_of_a_chain_are_deferred_and_pairwise() {
    let n = DEFAULT_FUSION_MIN + 5 * TILE + 3;
    let xs: Vec<f64> = (0..n).map(|i| (i % 977) as f64 * 0.01).collect();
    let x = val(&xs);
    let y = binary::mul(&x, &val(&[3.0])).unwrap();
    let s = ops::reduce::reduction(ops::ReduceOp::Sum, &y, None, false).unwrap();
    let m = ops::reduce::reduction(ops::ReduceOp::Max, &y, None, false).unwrap();
    if fusion_min() <= n {
        assert!(!tensor(&s).is_realized() && !tensor(&y).is_realized());
    }
    let want: f64 = xs.iter().map(|v| v * 3.0).sum();
    let got = tensor(&s).item_f64().unwrap();
    assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
    assert_eq!(tensor(&m).item_f64().unwrap(), 976.0 * 0.01 * 3.0);
    // reading the reductions did not write the chain out
    assert!(!tensor(&y).is_realized() || fusion_min() > n);
}

#[test]
fn unread_reductions_hold_a_bounded_amount_of_input() {
    let n = 1 << 20;
    if fusion_min() > n {
        return;
    }
    let kept: Vec<Value> = (0..20)
        .map(|k| {
            let x = val(&vec![k as f64; n]);
            let y = binary::mul(&x, &val(&[2.0])).unwrap();
            ops::reduce::reduction(ops::ReduceOp::Sum, &y, None, false).unwrap()
        })
        .collect();
    // 20 x 8 MiB of chain input against a 64 MiB budget: most were computed at once
    let computed = kept.iter().filter(|s| tensor(s).is_realized()).count();
    assert!(computed >= 20 - FOLD_BUDGET_BYTES / (8 * n), "{computed}");
    for (k, s) in kept.iter().enumerate() {
        assert_eq!(tensor(s).item_f64().unwrap(), 2.0 * k as f64 * n as f64);
    }
}

#[test]
fn chains_are_cut_at_the_node_limit() {
    let n = DEFAULT_FUSION_MIN;
    let mut y = val(&vec![1.0; n]);
    let mut steps = Vec::new();
    for _ in 0..3 * MAX_NODES {
        y = binary::add(&y, &val(&[1.0])).unwrap();
        steps.push(y.clone());
    }
    // nothing was read, yet the cap computed some steps along the way
    let computed = steps.iter().filter(|s| tensor(s).is_realized()).count();
    assert!(
        (2..=3).contains(&computed) || fusion_min() > n,
        "{computed}"
    );
    let v = tensor(&y).to_vec::<f64>().unwrap();
    assert!(v.iter().all(|&a| a == 1.0 + 3.0 * MAX_NODES as f64));
}

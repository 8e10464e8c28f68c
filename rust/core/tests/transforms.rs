//! The engine from Rust: transforms over closures, nesting, and trace hygiene.

use ferrax_core::ops::{binary, composite, reduce, unary, ReduceOp};
use ferrax_core::trace::depth;
use ferrax_core::transforms::{grad, jvp, vjp, vmap};
use ferrax_core::{Error, Result, Tensor, Value};

fn s(x: f64) -> Value {
    Value::Concrete(Tensor::scalar(x))
}

fn v(x: &[f64]) -> Value {
    Value::Concrete(Tensor::from_slice(x, &[x.len()]).unwrap())
}

fn num(x: &Value) -> f64 {
    x.concrete().unwrap().item_f64().unwrap()
}

fn vec_of(x: &Value) -> Vec<f64> {
    x.concrete().unwrap().to_vec::<f64>().unwrap()
}

fn sum(x: &Value) -> Result<Value> {
    reduce::reduction(ReduceOp::Sum, x, None, false)
}

/// d/dx f at x, by reverse mode.
fn d(f: impl Fn(&Value) -> Result<Value>, x: &Value) -> Result<Value> {
    Ok(grad(|xs| f(&xs[0]), std::slice::from_ref(x))?.1.remove(0))
}

/// d/dx f at x, by forward mode.
fn d_fwd(f: impl Fn(&Value) -> Result<Value>, x: &Value) -> Result<Value> {
    let one = ferrax_core::ops::scalar(1.0, x.dtype());
    Ok(jvp(
        |xs| Ok(vec![f(&xs[0])?]),
        std::slice::from_ref(x),
        &[Some(one)],
    )?
    .1
    .remove(0))
}

#[test]
fn grad_of_a_polynomial() {
    let g = d(
        |x| sum(&binary::mul(x, &binary::mul(x, x)?)?),
        &v(&[1.0, 2.0]),
    )
    .unwrap();
    assert_eq!(vec_of(&g), vec![3.0, 12.0]);
}

#[test]
fn perturbation_confusion_is_avoided() {
    // D(x -> x * D(y -> x + y)(1))(1) == 1, in every combination of modes
    type Deriv = fn(&dyn Fn(&Value) -> Result<Value>, &Value) -> Result<Value>;
    let rev: Deriv = |f, x| d(f, x);
    let fwd: Deriv = |f, x| d_fwd(f, x);
    for outer in [rev, fwd] {
        for inner in [rev, fwd] {
            let r = outer(
                &|x: &Value| binary::mul(x, &inner(&|y: &Value| binary::add(x, y), &s(1.0))?),
                &s(1.0),
            );
            assert_eq!(num(&r.unwrap()), 1.0);
        }
    }
}

#[test]
fn third_derivative_of_sin() {
    let f3 = d(|x| d(|y| d(unary::sin, y), x), &s(0.5)).unwrap();
    assert!((num(&f3) + 0.5f64.cos()).abs() < 1e-15);
}

#[test]
fn ten_nested_grads_of_exp() {
    fn nest(k: usize, x: &Value) -> Result<Value> {
        if k == 0 {
            unary::exp(x)
        } else {
            d(|y| nest(k - 1, y), x)
        }
    }
    let r = nest(10, &s(0.3)).unwrap();
    assert!((num(&r) - 0.3f64.exp()).abs() < 1e-12);
    assert_eq!(depth(), 0);
}

#[test]
fn vjp_can_be_called_many_times() {
    let (out, pullback) = vjp(|xs| Ok(vec![unary::sin(&xs[0])?]), &[v(&[0.0, 1.0])]).unwrap();
    assert_eq!(vec_of(&out[0])[0], 0.0);
    for k in [1.0, 2.0, 3.0] {
        let g = pullback.call(&[Some(v(&[k, k]))], true).unwrap();
        assert_eq!(vec_of(&g[0]), vec![k, k * 1f64.cos()]);
    }
}

#[test]
fn vmap_matches_a_loop_and_keeps_unbatched_values_unbatched() {
    let xs = Value::Concrete(Tensor::from_slice(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2]).unwrap());
    let w = v(&[10.0, 20.0]);
    let out = vmap(
        |a| Ok(vec![sum(&binary::mul(&a[0], &a[1])?)?, a[1].clone()]),
        &[xs, w],
        &[Some(0), None],
        3,
    )
    .unwrap();
    assert!(out[0].1 && !out[1].1);
    assert_eq!(vec_of(&out[0].0), vec![50.0, 110.0, 170.0]);
}

#[test]
fn jacobian_by_vmap_of_vjp_equals_forward_mode() {
    // jacrev of x -> sin(x) * x at [0.5, 1.5]: diag(cos(x) x + sin(x))
    let x = v(&[0.5, 1.5]);
    let (_, pb) = vjp(
        |xs| Ok(vec![binary::mul(&unary::sin(&xs[0])?, &xs[0])?]),
        std::slice::from_ref(&x),
    )
    .unwrap();
    let eye = Value::Concrete(Tensor::from_slice(&[1.0, 0.0, 0.0, 1.0], &[2, 2]).unwrap());
    let j = vmap(
        |c| pb.call(&[Some(c[0].clone())], true),
        &[eye],
        &[Some(0)],
        2,
    )
    .unwrap();
    let jr = vec_of(&j[0].0);
    let want = [
        0.5f64.cos() * 0.5 + 0.5f64.sin(),
        1.5f64.cos() * 1.5 + 1.5f64.sin(),
    ];
    assert!((jr[0] - want[0]).abs() < 1e-15 && jr[1] == 0.0 && jr[2] == 0.0);
    assert!((jr[3] - want[1]).abs() < 1e-15);
}

#[test]
fn an_error_inside_the_function_leaves_no_trace_state() {
    let r = grad(|_| Err(Error::Value("boom".into())), &[s(1.0)]);
    assert!(matches!(r, Err(Error::Value(m)) if m == "boom"));
    assert_eq!(depth(), 0);
    let r = vmap(
        |_| Err(Error::Value("boom".into())),
        &[v(&[1.0])],
        &[Some(0)],
        1,
    );
    assert!(r.is_err());
    assert_eq!(depth(), 0);
    // and the engine still works
    assert_eq!(num(&d(|x| binary::mul(x, x), &s(3.0)).unwrap()), 6.0);
}

#[test]
fn an_escaped_tracer_is_refused() {
    let leaked = std::cell::RefCell::new(None);
    let _ = grad(
        |xs| {
            *leaked.borrow_mut() = Some(xs[0].clone());
            binary::mul(&xs[0], &xs[0])
        },
        &[s(2.0)],
    )
    .unwrap();
    let t = leaked.borrow().clone().unwrap();
    let e = unary::sin(&t).unwrap_err();
    assert!(matches!(e, Error::Trace(m) if m.contains("escaped")));
}

#[test]
fn non_scalar_grad_and_integer_inputs_are_type_errors() {
    assert!(
        matches!(grad(|xs| Ok(xs[0].clone()), &[v(&[1.0, 2.0])]), Err(Error::Type(m)) if m.contains("(2,)"))
    );
    let i = Value::Concrete(Tensor::scalar(3i64));
    assert!(matches!(
        grad(|xs| Ok(xs[0].clone()), &[i]),
        Err(Error::Type(_))
    ));
}

#[test]
fn max_gradient_splits_ties_evenly() {
    let g = d(
        |x| reduce::reduction(ReduceOp::Max, x, None, false),
        &v(&[1.0, 3.0, 3.0]),
    )
    .unwrap();
    assert_eq!(vec_of(&g), vec![0.0, 0.5, 0.5]);
    let g = d(|x| composite::logsumexp(x, None, false), &v(&[0.0, 0.0])).unwrap();
    assert_eq!(vec_of(&g), vec![0.5, 0.5]);
}

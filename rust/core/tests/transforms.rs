//! The engine from Rust: transforms over closures, nesting, and trace hygiene.

use ferrax_core::ops::{binary, composite, reduce, unary, ReduceOp};
use ferrax_core::trace::depth;
use ferrax_core::transforms::{
    batch_size, grad, hessian, jacfwd, jacrev, jvp, place_batch_axis, resolve_argnums,
    value_and_grad, vjp, vmap, Outputs,
};
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
    let mut fun = |xs: &[Value]| Ok(Outputs::from(vec![f(&xs[0])?]));
    Ok(jvp(&mut fun, std::slice::from_ref(x), &[Some(one)])?
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
    let mut sin = |xs: &[Value]| Ok(Outputs::from(vec![unary::sin(&xs[0])?]));
    let (out, pullback, _) = vjp(&mut sin, &[v(&[0.0, 1.0])], true).unwrap();
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
    let mut f = |a: &[Value]| {
        Ok(Outputs::from(vec![
            sum(&binary::mul(&a[0], &a[1])?)?,
            a[1].clone(),
        ]))
    };
    let (out, _) = vmap(&mut f, &[xs, w], &[Some(0), None], 3).unwrap();
    assert!(out[0].1 && !out[1].1);
    assert_eq!(vec_of(&out[0].0), vec![50.0, 110.0, 170.0]);
}

#[test]
fn jacobian_by_vmap_of_vjp_equals_forward_mode() {
    // jacrev of x -> sin(x) * x at [0.5, 1.5]: diag(cos(x) x + sin(x))
    let x = v(&[0.5, 1.5]);
    let mut f = |xs: &[Value]| {
        Ok(Outputs::from(vec![binary::mul(
            &unary::sin(&xs[0])?,
            &xs[0],
        )?]))
    };
    let (_, pb, _) = vjp(&mut f, std::slice::from_ref(&x), true).unwrap();
    let eye = Value::Concrete(Tensor::from_slice(&[1.0, 0.0, 0.0, 1.0], &[2, 2]).unwrap());
    let mut pull = |c: &[Value]| Ok(Outputs::from(pb.call(&[Some(c[0].clone())], true)?));
    let (j, _) = vmap(&mut pull, &[eye], &[Some(0)], 2).unwrap();
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
    let mut boom = |_: &[Value]| -> Result<Outputs> { Err(Error::Value("boom".into())) };
    let r = vmap(&mut boom, &[v(&[1.0])], &[Some(0)], 1);
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

/// f(x, y) = (sin(x) * y, x^2 y), x and y vectors of 2: Jacobians in closed form.
fn two_outputs(xs: &[Value]) -> Result<Outputs> {
    let (x, y) = (&xs[0], &xs[1]);
    Ok(Outputs::from(vec![
        binary::mul(&unary::sin(x)?, y)?,
        binary::mul(&binary::mul(x, x)?, y)?,
    ]))
}

#[test]
fn jacrev_and_jacfwd_agree_with_the_closed_form_for_any_chunking() {
    let (x, y) = (v(&[0.3, -1.2]), v(&[2.0, 0.5]));
    let (xs, ys) = ([0.3f64, -1.2], [2.0f64, 0.5]);
    for chunk in [None, Some(1), Some(2), Some(5)] {
        for rev in [true, false] {
            let args = [x.clone(), y.clone()];
            let (blocks, _) = if rev {
                jacrev(&mut two_outputs, &args, &[0, 1], chunk)
            } else {
                jacfwd(&mut two_outputs, &args, &[0, 1], chunk)
            }
            .unwrap();
            assert_eq!(blocks.len(), 2);
            assert!(blocks
                .iter()
                .flatten()
                .all(|b| b.shape().as_slice() == [2, 2]));
            // d(sin(x) y)/dx = diag(cos(x) y); d/dy = diag(sin(x)); d(x^2 y)/dx = diag(2xy)
            let want = [
                [xs[0].cos() * ys[0], xs[1].cos() * ys[1]],
                [xs[0].sin(), xs[1].sin()],
                [2.0 * xs[0] * ys[0], 2.0 * xs[1] * ys[1]],
                [xs[0] * xs[0], xs[1] * xs[1]],
            ];
            for (b, w) in blocks.iter().flatten().zip(want) {
                let got = vec_of(b);
                assert!((got[0] - w[0]).abs() < 1e-14 && (got[3] - w[1]).abs() < 1e-14);
                assert!(got[1] == 0.0 && got[2] == 0.0);
            }
        }
    }
}

#[test]
fn hessian_of_a_cubic_is_its_second_derivative() {
    // f(x) = sum(x^3) + x0 x1: H = diag(6x) + offdiagonal 1
    let mut f = |xs: &[Value]| {
        let x = &xs[0];
        let cube = sum(&binary::mul(x, &binary::mul(x, x)?)?)?;
        let cross = reduce::reduction(ReduceOp::Prod, x, None, false)?;
        Ok(Outputs::from(vec![binary::add(&cube, &cross)?]))
    };
    let (h, _) = hessian(&mut f, &[v(&[1.0, 2.0])], &[0], None).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(vec_of(&h[0][0]), vec![6.0, 1.0, 1.0, 12.0]);
}

#[test]
fn value_and_grad_differentiates_the_chosen_arguments_only() {
    let mut f = |xs: &[Value]| Ok(Outputs::from(vec![sum(&binary::mul(&xs[0], &xs[1])?)?]));
    let (val, g, _) =
        value_and_grad(&mut f, &[v(&[1.0, 2.0]), v(&[3.0, 4.0])], &[1], true).unwrap();
    assert_eq!(num(&val), 11.0);
    assert_eq!(g.len(), 1);
    assert_eq!(vec_of(&g[0]), vec![1.0, 2.0]);
    // not a scalar: a TypeError naming the shape
    let mut vecf = |xs: &[Value]| Ok(Outputs::from(vec![xs[0].clone()]));
    assert!(
        matches!(value_and_grad(&mut vecf, &[v(&[1.0, 2.0])], &[0], true), Err(Error::Type(m)) if m.contains("(2,)"))
    );
}

#[test]
fn aux_values_come_back_unwrapped() {
    let mut f = |xs: &[Value]| {
        let y = unary::sin(&xs[0])?;
        Ok(Outputs {
            values: vec![sum(&y)?],
            aux: vec![y],
        })
    };
    let (_, _, aux) = value_and_grad(&mut f, &[v(&[0.0])], &[0], true).unwrap();
    assert!(aux[0].as_concrete().is_some());
    assert_eq!(vec_of(&aux[0]), vec![0.0]);
}

#[test]
fn argnums_batch_sizes_and_out_axes_are_checked() {
    assert_eq!(resolve_argnums(&[-1, 0], 3, "grad").unwrap(), vec![2, 0]);
    assert!(
        matches!(resolve_argnums(&[0, 0], 2, "grad"), Err(Error::Value(m)) if m.contains("more than once"))
    );
    assert!(
        matches!(resolve_argnums(&[3], 2, "grad"), Err(Error::Value(m)) if m.contains("out of range"))
    );
    assert!(resolve_argnums(&[], 2, "grad").is_err());
    let m = Value::Concrete(Tensor::zeros(ferrax_core::DType::F64, &[3, 4]).unwrap());
    assert_eq!(
        batch_size(std::slice::from_ref(&m), &[Some(-1)], None).unwrap(),
        (vec![Some(1)], 4)
    );
    assert!(batch_size(&[m.clone(), v(&[1.0, 2.0])], &[Some(0), Some(0)], None).is_err());
    assert!(batch_size(std::slice::from_ref(&m), &[Some(2)], None).is_err());
    assert!(batch_size(std::slice::from_ref(&m), &[None], None).is_err());
    assert_eq!(
        batch_size(std::slice::from_ref(&m), &[None], Some(7))
            .unwrap()
            .1,
        7
    );
    // an unbatched output is broadcast; out_axes moves the batch axis
    let out = place_batch_axis(v(&[1.0, 2.0]), false, 3, Some(-1)).unwrap();
    assert_eq!(out.shape().as_slice(), [2, 3]);
    assert!(place_batch_axis(m, true, 3, None).is_err());
}

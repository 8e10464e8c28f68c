//! Gradients of scalar functions: one reverse pass seeded with 1.

use super::{splice, vjp, Fun, Outputs};
use crate::error::{Error, Result};
use crate::tensor::shape::fmt_shape;
use crate::trace::Value;

/// The value of the scalar function `f` at `args` and its gradient with
/// respect to the arguments at `wrt` (the others are constants), and the
/// auxiliary values. With `create_graph` false the value and the gradient
/// are constants to enclosing transforms.
pub fn value_and_grad(
    f: &mut Fun,
    args: &[Value],
    wrt: &[usize],
    create_graph: bool,
) -> Result<(Value, Vec<Value>, Vec<Value>)> {
    let primals: Vec<Value> = wrt.iter().map(|&i| args[i].clone()).collect();
    let mut restricted = |sub: &[Value]| f(&splice(args, wrt, sub));
    let (outs, pullback, aux) = vjp(&mut restricted, &primals, create_graph)?;
    let [out] = <[Value; 1]>::try_from(outs).map_err(|outs| {
        Error::Type(format!(
            "grad requires a function returning one scalar array, got {} outputs",
            outs.len()
        ))
    })?;
    if out.ndim() != 0 {
        return Err(Error::Type(format!(
            "grad requires a scalar output (shape ()), got shape {}; use fx.jacrev or fx.vjp \
             for non-scalar outputs, or reduce it with .sum()",
            fmt_shape(&out.shape())
        )));
    }
    if !out.dtype().is_float() {
        return Err(Error::Type(format!(
            "grad requires a float output, got dtype {}",
            out.dtype()
        )));
    }
    let one = crate::ops::scalar(1.0, out.dtype());
    let g = pullback.call(&[Some(one)], create_graph)?;
    Ok((out, g, aux))
}

/// Gradient of a scalar-valued `f` with respect to all its inputs (a
/// convenience for Rust callers: no aux, a differentiable result).
pub fn grad(
    mut f: impl FnMut(&[Value]) -> Result<Value>,
    primals: &[Value],
) -> Result<(Value, Vec<Value>)> {
    let wrt: Vec<usize> = (0..primals.len()).collect();
    let mut fun = |xs: &[Value]| Ok(Outputs::from(vec![f(xs)?]));
    let (v, g, _) = value_and_grad(&mut fun, primals, &wrt, true)?;
    Ok((v, g))
}

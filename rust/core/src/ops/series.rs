//! Differences, integrals and polynomials along an axis (NumPy's `diff`,
//! `ediff1d`, `trapezoid`, `polyval`), composed from views and arithmetic.

use crate::error::Result;
use crate::ops::arrange::range_along;
use crate::ops::binary::{add, div, mul, sub};
use crate::ops::composite::take;
use crate::ops::reduce::{reduction, ReduceOp};
use crate::ops::scalar;
use crate::ops::shape::{broadcast_to, concatenate, reshape};
use crate::tensor::shape::normalize_axis;
use crate::tensor::Tensor;
use crate::trace::Value;
use crate::value_err;

/// `x[1:] - x[:-1]` along `ax`.
fn step_difference(x: &Value, ax: usize) -> Result<Value> {
    let n = x.shape()[ax];
    sub(
        &range_along(x, ax, 1.min(n), n)?,
        &range_along(x, ax, 0, n.saturating_sub(1))?,
    )
}

/// A value to put before or after `x` along `ax`: a scalar becomes a slab of
/// length 1, an array must match `x` off the axis.
fn edge(v: &Value, x: &Value, ax: usize) -> Result<Value> {
    if v.ndim() == 0 {
        let mut s = x.shape().to_vec();
        s[ax] = 1;
        return broadcast_to(v, &s);
    }
    Ok(v.clone())
}

/// The `n`-th discrete difference along `axis` (NumPy's `diff`), with
/// `prepend` / `append` values joined to `x` first.
pub fn diff(
    x: &Value,
    n: i64,
    axis: isize,
    prepend: Option<&Value>,
    append: Option<&Value>,
) -> Result<Value> {
    if n < 0 {
        return value_err!("diff: order must be non-negative, got {n}");
    }
    if x.ndim() == 0 {
        return value_err!("diff requires input that is at least one dimensional");
    }
    let ax = normalize_axis(axis, x.ndim())?;
    let mut parts = Vec::with_capacity(3);
    if let Some(p) = prepend {
        parts.push(edge(p, x, ax)?);
    }
    parts.push(x.clone());
    if let Some(a) = append {
        parts.push(edge(a, x, ax)?);
    }
    let mut out = if parts.len() > 1 {
        concatenate(&parts, ax as isize)?
    } else {
        x.clone()
    };
    for _ in 0..n {
        out = step_difference(&out, ax)?;
    }
    Ok(out)
}

/// Differences of the flattened array, with values before and after (NumPy's `ediff1d`).
pub fn ediff1d(x: &Value, to_end: Option<&Value>, to_begin: Option<&Value>) -> Result<Value> {
    let flat = |v: &Value| reshape(v, &[v.size()]);
    let mut parts = Vec::with_capacity(3);
    if let Some(b) = to_begin {
        parts.push(flat(b)?);
    }
    parts.push(step_difference(&flat(x)?, 0)?);
    if let Some(e) = to_end {
        parts.push(flat(e)?);
    }
    concatenate(&parts, 0)
}

/// The integral of `y` along `axis` by the trapezoidal rule, over sample
/// points `x` (1-d along the axis, or shaped as `y`) or a spacing `dx`.
pub fn trapezoid(y: &Value, x: Option<&Value>, dx: f64, axis: isize) -> Result<Value> {
    let ax = normalize_axis(axis, y.ndim())?;
    let n = y.shape()[ax];
    let widths = match x {
        None => scalar(dx, y.dtype().to_float()),
        Some(x) if x.ndim() == 1 => {
            if x.size() != n {
                return value_err!(
                    "trapezoid: {} sample points for an axis of length {n}",
                    x.size()
                );
            }
            let d = step_difference(x, 0)?;
            let mut s = vec![1; y.ndim()];
            s[ax] = n.saturating_sub(1);
            reshape(&d, &s)?
        }
        Some(x) => step_difference(x, ax)?,
    };
    let heights = add(
        &range_along(y, ax, 1.min(n), n)?,
        &range_along(y, ax, 0, n.saturating_sub(1))?,
    )?;
    let areas = div(&mul(&widths, &heights)?, &scalar(2.0, y.dtype().to_float()))?;
    reduction(ReduceOp::Sum, &areas, Some(&[ax as isize]), false)
}

/// The polynomial with coefficients `p` (highest power first) at `x`, by
/// Horner's rule (NumPy's `polyval`).
pub fn polyval(p: &Value, x: &Value) -> Result<Value> {
    if p.ndim() != 1 {
        return value_err!(
            "polyval: coefficients must be 1-d, got {} dimensions",
            p.ndim()
        );
    }
    let coef = |i: usize| take(p, &Value::Concrete(Tensor::scalar(i as i64)), Some(0));
    let mut y = mul(&scalar(0.0, p.dtype()), x)?;
    for i in 0..p.size() {
        y = add(&mul(&y, x)?, &coef(i)?)?;
    }
    Ok(y)
}

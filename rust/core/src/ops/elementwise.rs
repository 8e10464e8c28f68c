//! Elementwise functions composed from primitives: angle conversions,
//! `sinc`, `heaviside`, `copysign`, `isclose`/`allclose`, and the real-input
//! forms of `real`, `imag` and `conjugate`.

use crate::error::Result;
use crate::ops::binary::{compare, div, mul, promote, sub, where_, CompareOp};
use crate::ops::reduce::{reduction, ReduceOp};
use crate::ops::shape::convert;
use crate::ops::unary::{abs, isnan, reciprocal, sin};
use crate::ops::{scalar_like, zeros_like};
use crate::trace::Value;

fn float(x: &Value) -> Result<Value> {
    if x.dtype().is_float() {
        Ok(x.clone())
    } else {
        convert(x, x.dtype().to_float())
    }
}

/// Degrees to radians.
pub fn deg2rad(x: &Value) -> Result<Value> {
    let x = float(x)?;
    mul(&x, &scalar_like(&x, std::f64::consts::PI / 180.0))
}

/// Radians to degrees.
pub fn rad2deg(x: &Value) -> Result<Value> {
    let x = float(x)?;
    mul(&x, &scalar_like(&x, 180.0 / std::f64::consts::PI))
}

/// `sin(pi x) / (pi x)`, 1 at 0 (where its derivative is 0).
pub fn sinc(x: &Value) -> Result<Value> {
    let x = float(x)?;
    let zero = compare(CompareOp::Eq, &x, &scalar_like(&x, 0.0))?;
    // the quotient is evaluated away from 0 only, so its derivative is finite there
    let safe = where_(&zero, &scalar_like(&x, 1.0), &x)?;
    let y = mul(&safe, &scalar_like(&x, std::f64::consts::PI))?;
    where_(&zero, &scalar_like(&x, 1.0), &div(&sin(&y)?, &y)?)
}

/// 0 for negative `x`, 1 for positive, `h0` at 0 (NaN stays NaN).
pub fn heaviside(x: &Value, h0: &Value) -> Result<Value> {
    let (x, h0) = promote(x, h0, true)?;
    let pos = compare(CompareOp::Gt, &x, &scalar_like(&x, 0.0))?;
    let neg = compare(CompareOp::Lt, &x, &scalar_like(&x, 0.0))?;
    let step = where_(&pos, &scalar_like(&x, 1.0), &h0)?;
    let step = where_(&neg, &scalar_like(&x, 0.0), &step)?;
    where_(&isnan(&x)?, &x, &step)
}

/// The magnitude of `a` with the sign of `b` (the sign of -0.0 included).
pub fn copysign(a: &Value, b: &Value) -> Result<Value> {
    let (a, b) = promote(a, b, true)?;
    let zero = scalar_like(&b, 0.0);
    let negative_zero = compare(
        CompareOp::And,
        &compare(CompareOp::Eq, &b, &zero)?,
        &compare(CompareOp::Lt, &reciprocal(&b)?, &zero)?,
    )?;
    let negative = compare(
        CompareOp::Or,
        &compare(CompareOp::Lt, &b, &zero)?,
        &negative_zero,
    )?;
    let m = abs(&a)?;
    where_(&negative, &crate::ops::unary::neg(&m)?, &m)
}

/// Whether `|a - b| <= atol + rtol |b|` elementwise (NumPy's `isclose`):
/// infinities are close only to themselves, NaNs to each other only with
/// `equal_nan`.
pub fn isclose(a: &Value, b: &Value, rtol: f64, atol: f64, equal_nan: bool) -> Result<Value> {
    let (a, b) = promote(a, b, true)?;
    let diff = abs(&sub(&a, &b)?)?;
    let tol = crate::ops::binary::add(
        &scalar_like(&b, atol),
        &mul(&scalar_like(&b, rtol), &abs(&b)?)?,
    )?;
    let close = compare(CompareOp::Le, &diff, &tol)?;
    // equal values (infinities included) are close
    let close = compare(CompareOp::Or, &close, &compare(CompareOp::Eq, &a, &b)?)?;
    if !equal_nan {
        return Ok(close);
    }
    let both_nan = compare(CompareOp::And, &isnan(&a)?, &isnan(&b)?)?;
    compare(CompareOp::Or, &close, &both_nan)
}

/// Whether every entry is `isclose` (a 0-d bool).
pub fn allclose(a: &Value, b: &Value, rtol: f64, atol: f64, equal_nan: bool) -> Result<Value> {
    let c = convert(&isclose(a, b, rtol, atol, equal_nan)?, crate::DType::I32)?;
    let m = reduction(ReduceOp::Min, &c, None, false)?;
    compare(CompareOp::Gt, &m, &scalar_like(&m, 0.0))
}

/// The real part of a real array: itself.
pub fn real(x: &Value) -> Result<Value> {
    Ok(x.clone())
}

/// The imaginary part of a real array: zeros.
pub fn imag(x: &Value) -> Result<Value> {
    zeros_like(x)
}

/// NumPy's `select`: where the first true condition of `condlist` holds, the
/// matching entry of `choicelist`; `default` where none does.
pub fn select(condlist: &[Value], choicelist: &[Value], default: &Value) -> Result<Value> {
    if condlist.len() != choicelist.len() {
        return crate::value_err!(
            "select: list of cases must be same length as list of conditions ({} and {})",
            condlist.len(),
            choicelist.len()
        );
    }
    let mut out = default.clone();
    for (c, v) in condlist.iter().zip(choicelist).rev() {
        if c.dtype() != crate::DType::Bool {
            return crate::type_err!(
                "select: invalid entry in condlist: should be boolean ndarray, got {}",
                c.dtype()
            );
        }
        out = where_(c, v, &out)?;
    }
    Ok(out)
}

//! Reductions that skip NaN (NumPy's `nansum`, `nanmean`, `nanmax`,
//! `nanmin`) and `nan_to_num`: masks of `isnan` and ordinary reductions.

use crate::error::Result;
use crate::ops::binary::{compare, div, where_, CompareOp};
use crate::ops::reduce::{reduction, ReduceOp};
use crate::ops::scalar_like;
use crate::ops::shape::convert;
use crate::ops::unary::{isnan, logical_not};
use crate::trace::Value;

/// `x` with its NaNs replaced by `fill` (integers have none).
fn without_nan(x: &Value, fill: f64) -> Result<Value> {
    if !x.dtype().is_float() {
        return Ok(x.clone());
    }
    where_(&isnan(x)?, &scalar_like(x, fill), x)
}

/// The sum, treating NaN as zero.
pub fn nansum(x: &Value, axis: Option<&[isize]>, keepdims: bool) -> Result<Value> {
    reduction(ReduceOp::Sum, &without_nan(x, 0.0)?, axis, keepdims)
}

/// The mean of the non-NaN entries (NaN where there are none).
pub fn nanmean(x: &Value, axis: Option<&[isize]>, keepdims: bool) -> Result<Value> {
    let x = if x.dtype().is_float() {
        x.clone()
    } else {
        convert(x, x.dtype().to_float())?
    };
    let count = convert(&logical_not(&isnan(&x)?)?, x.dtype())?;
    let n = reduction(ReduceOp::Sum, &count, axis, keepdims)?;
    div(&nansum(&x, axis, keepdims)?, &n)
}

fn nan_extremum(x: &Value, axis: Option<&[isize]>, keepdims: bool, op: ReduceOp) -> Result<Value> {
    if !x.dtype().is_float() {
        return reduction(op, x, axis, keepdims);
    }
    let fill = if op == ReduceOp::Max {
        f64::NEG_INFINITY
    } else {
        f64::INFINITY
    };
    let r = reduction(op, &without_nan(x, fill)?, axis, keepdims)?;
    // all-NaN slices stay NaN, as in NumPy
    let all_nan = reduction(
        ReduceOp::Min,
        &convert(&isnan(x)?, x.dtype())?,
        axis,
        keepdims,
    )?;
    let all_nan = compare(CompareOp::Gt, &all_nan, &scalar_like(&all_nan, 0.0))?;
    where_(&all_nan, &scalar_like(&r, f64::NAN), &r)
}

/// The maximum of the non-NaN entries (NaN for an all-NaN slice).
pub fn nanmax(x: &Value, axis: Option<&[isize]>, keepdims: bool) -> Result<Value> {
    nan_extremum(x, axis, keepdims, ReduceOp::Max)
}

/// The minimum of the non-NaN entries (NaN for an all-NaN slice).
pub fn nanmin(x: &Value, axis: Option<&[isize]>, keepdims: bool) -> Result<Value> {
    nan_extremum(x, axis, keepdims, ReduceOp::Min)
}

/// NaN, +inf and -inf replaced by `nan`, `posinf` and `neginf` (by default
/// 0 and the dtype's largest and smallest finite values); derivative 1 at
/// finite entries, 0 at replaced ones.
pub fn nan_to_num(x: &Value, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> Result<Value> {
    if !x.dtype().is_float() {
        return Ok(x.clone());
    }
    let big = if x.dtype() == crate::DType::F32 {
        f32::MAX as f64
    } else {
        f64::MAX
    };
    let pos = posinf.unwrap_or(big);
    let neg = neginf.unwrap_or(-big);
    let is = |v: f64| compare(CompareOp::Eq, x, &scalar_like(x, v));
    let r = where_(&is(f64::INFINITY)?, &scalar_like(x, pos), x)?;
    let r = where_(&is(f64::NEG_INFINITY)?, &scalar_like(x, neg), &r)?;
    where_(&isnan(x)?, &scalar_like(x, nan), &r)
}

//! Operations composed from primitives: differentiable and batchable because
//! their parts are.

use smallvec::SmallVec;

use crate::error::Result;
use crate::ops::binary::{add, div, maximum, minimum, mul, sub, where_};
use crate::ops::index::gather;
use crate::ops::reduce::{reduction, ReduceOp};
use crate::ops::shape::{broadcast_to, concatenate, convert, reshape, slice, transpose};
use crate::ops::unary::{exp, isnan, log, sqrt};
use crate::ops::{scalar, scalar_like};
use crate::tensor::shape::{broadcast_shapes, fmt_shape, normalize_axes, normalize_axis, numel};
use crate::tensor::{DType, Shape, Tensor};
use crate::trace::{stop_gradient, Value};
use crate::{shape_err, value_err};

fn float_of(x: &Value) -> Result<Value> {
    let dt = x.dtype();
    if dt.is_float() {
        Ok(x.clone())
    } else {
        convert(x, DType::F64)
    }
}

/// Number of elements a reduction over `axis` combines.
fn count(shape: &[usize], axis: Option<&[isize]>) -> Result<usize> {
    let axes = normalize_axes(axis, shape.len())?;
    Ok(axes.iter().map(|&a| shape[a]).product())
}

pub fn mean(x: &Value, axis: Option<&[isize]>, keepdims: bool) -> Result<Value> {
    let x = float_of(x)?;
    let n = count(&x.shape(), axis)?;
    let s = reduction(ReduceOp::Sum, &x, axis, keepdims)?;
    div(&s, &scalar_like(&x, n as f64))
}

/// Variance with `ddof` delta degrees of freedom (any real, as NumPy: the
/// divisor is `max(n - ddof, 0)`).
pub fn var(x: &Value, axis: Option<&[isize]>, keepdims: bool, ddof: f64) -> Result<Value> {
    let x = float_of(x)?;
    let n = count(&x.shape(), axis)?;
    let m = mean(&x, axis, true)?;
    let d = sub(&x, &m)?;
    let s = reduction(ReduceOp::Sum, &mul(&d, &d)?, axis, keepdims)?;
    div(&s, &scalar_like(&x, (n as f64 - ddof).max(0.0)))
}

pub fn std(x: &Value, axis: Option<&[isize]>, keepdims: bool, ddof: f64) -> Result<Value> {
    sqrt(&var(x, axis, keepdims, ddof)?)
}

/// `log(sum(exp(x)))`, shifted by the (gradient-stopped) max for stability.
pub fn logsumexp(x: &Value, axis: Option<&[isize]>, keepdims: bool) -> Result<Value> {
    let x = float_of(x)?;
    if count(&x.shape(), axis)? == 0 {
        // log of an empty sum: -inf, as JAX and SciPy
        return log(&reduction(ReduceOp::Sum, &x, axis, keepdims)?);
    }
    let m = stop_gradient(&reduction(ReduceOp::Max, &x, axis, true)?)?;
    // a max of -inf (all -inf) or inf would give nan: shift by 0 there instead
    let finite = crate::ops::unary::isfinite(&m)?;
    let m = crate::ops::binary::where_(&finite, &m, &scalar_like(&x, 0.0))?;
    let s = reduction(ReduceOp::Sum, &exp(&sub(&x, &m)?)?, axis, true)?;
    let r = add(&log(&s)?, &m)?;
    if keepdims {
        Ok(r)
    } else {
        let axes = normalize_axes(axis, x.ndim())?;
        let shape: Shape = r
            .shape()
            .iter()
            .enumerate()
            .filter(|(i, _)| !axes.contains(i))
            .map(|(_, &d)| d)
            .collect();
        reshape(&r, &shape)
    }
}

/// NumPy's `round(x, decimals)`: half to even at `decimals` digits after the
/// point (before it when negative), computed as NumPy does, by scaling with
/// a power of ten (so the same values); zero derivative, as `round`.
pub fn round_decimals(x: &Value, decimals: i32) -> Result<Value> {
    use crate::ops::unary::rint as round;
    if decimals == 0 || (x.dtype().is_int() && decimals > 0) || x.dtype() == DType::Bool {
        return if x.dtype().is_float() {
            round(x)
        } else {
            Ok(x.clone())
        };
    }
    if x.dtype().is_int() {
        let r = round_decimals(&convert(x, DType::F64)?, decimals)?;
        return convert(&r, x.dtype());
    }
    let f = scalar_like(x, 10f64.powi(decimals.abs()));
    if decimals > 0 {
        div(&round(&mul(x, &f)?)?, &f)
    } else {
        mul(&round(&div(x, &f)?)?, &f)
    }
}

/// `minimum(maximum(x, lo), hi)`; either bound may be absent.
pub fn clip(x: &Value, lo: Option<&Value>, hi: Option<&Value>) -> Result<Value> {
    let mut r = x.clone();
    if let Some(lo) = lo {
        r = maximum(&r, lo)?;
    }
    if let Some(hi) = hi {
        r = minimum(&r, hi)?;
    }
    Ok(r)
}

/// `pick(a, b)`, except that where one of them is NaN the other is taken.
fn nan_ignoring(a: &Value, b: &Value, pick: fn(&Value, &Value) -> Result<Value>) -> Result<Value> {
    let (a, b) = crate::ops::binary::promote(a, b, false)?;
    if !a.dtype().is_float() {
        return pick(&a, &b);
    }
    let picked = pick(&a, &b)?;
    let either = where_(&isnan(&a)?, &b, &picked)?;
    where_(&isnan(&b)?, &a, &either)
}

/// Elementwise maximum ignoring NaN (NumPy's `fmax`): NaN only where both are.
pub fn fmax(a: &Value, b: &Value) -> Result<Value> {
    nan_ignoring(a, b, maximum)
}

/// Elementwise minimum ignoring NaN (NumPy's `fmin`): NaN only where both are.
pub fn fmin(a: &Value, b: &Value) -> Result<Value> {
    nan_ignoring(a, b, minimum)
}

pub fn expand_dims(x: &Value, axes: &[isize]) -> Result<Value> {
    let s = x.shape();
    let nd = s.len() + axes.len();
    let mut ins: SmallVec<[usize; 6]> = SmallVec::new();
    for &a in axes {
        let a = normalize_axis(a, nd)?;
        if ins.contains(&a) {
            return value_err!("repeated axis {a} in expand_dims");
        }
        ins.push(a);
    }
    let mut it = s.iter();
    let shape: Shape = (0..nd)
        .map(|i| {
            if ins.contains(&i) {
                1
            } else {
                it.next().copied().unwrap_or(1) // s has nd - ins.len() entries
            }
        })
        .collect();
    reshape(x, &shape)
}

pub fn squeeze(x: &Value, axes: Option<&[isize]>) -> Result<Value> {
    let s = x.shape();
    let drop = match axes {
        None => s
            .iter()
            .enumerate()
            .filter(|(_, &d)| d == 1)
            .map(|(i, _)| i)
            .collect(),
        Some(a) => {
            let a = normalize_axes(Some(a), s.len())?;
            for &i in &a {
                if s[i] != 1 {
                    return value_err!(
                        "cannot select an axis to squeeze out which has size not equal to one \
                         (axis {i} of shape {})",
                        fmt_shape(&s)
                    );
                }
            }
            a
        }
    };
    let shape: Shape = s
        .iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(i))
        .map(|(_, &d)| d)
        .collect();
    reshape(x, &shape)
}

pub fn moveaxis(x: &Value, src: &[isize], dst: &[isize]) -> Result<Value> {
    let nd = x.ndim();
    if src.len() != dst.len() {
        return value_err!(
            "`source` and `destination` arguments must have the same number of elements"
        );
    }
    let s = normalize_axes_ordered(src, nd)?;
    let d = normalize_axes_ordered(dst, nd)?;
    let mut order: SmallVec<[usize; 6]> = (0..nd).filter(|i| !s.contains(i)).collect();
    let mut pairs: SmallVec<[(usize, usize); 6]> =
        d.iter().copied().zip(s.iter().copied()).collect();
    pairs.sort_unstable();
    for (dst, src) in pairs {
        order.insert(dst, src);
    }
    transpose(x, &order)
}

fn normalize_axes_ordered(a: &[isize], nd: usize) -> Result<SmallVec<[usize; 6]>> {
    let mut out: SmallVec<[usize; 6]> = SmallVec::new();
    for &x in a {
        let x = normalize_axis(x, nd)?;
        if out.contains(&x) {
            return value_err!("repeated axis {x}");
        }
        out.push(x);
    }
    Ok(out)
}

pub fn swapaxes(x: &Value, a: isize, b: isize) -> Result<Value> {
    let nd = x.ndim();
    let (a, b) = (normalize_axis(a, nd)?, normalize_axis(b, nd)?);
    let mut perm: SmallVec<[usize; 6]> = (0..nd).collect();
    perm.swap(a, b);
    transpose(x, &perm)
}

/// Reverse the order of elements along `axes` (None: all), as a view.
pub fn flip(x: &Value, axes: Option<&[isize]>) -> Result<Value> {
    let s = x.shape();
    let axes = normalize_axes(axes, s.len())?;
    let starts: SmallVec<[usize; 6]> = (0..s.len())
        .map(|i| {
            if axes.contains(&i) {
                s[i].saturating_sub(1)
            } else {
                0
            }
        })
        .collect();
    let steps: SmallVec<[isize; 6]> = (0..s.len())
        .map(|i| if axes.contains(&i) { -1 } else { 1 })
        .collect();
    if s.contains(&0) {
        return Ok(x.clone());
    }
    slice(x, &starts, &steps, &s)
}

pub fn stack(xs: &[Value], axis: isize) -> Result<Value> {
    if xs.is_empty() {
        return value_err!("need at least one array to stack");
    }
    let first = xs[0].shape();
    for x in xs {
        if x.shape() != first {
            return shape_err!(
                "all input arrays must have the same shape: {} and {}",
                fmt_shape(&first),
                fmt_shape(&x.shape())
            );
        }
    }
    let parts: Vec<Value> = xs
        .iter()
        .map(|x| expand_dims(x, &[axis]))
        .collect::<Result<_>>()?;
    concatenate(&parts, axis)
}

/// NumPy's `take(x, idx, axis)`; axis None indexes the flattened array.
pub fn take(x: &Value, idx: &Value, axis: Option<isize>) -> Result<Value> {
    let Some(axis) = axis else {
        return gather(&reshape(x, &[x.size()])?, idx);
    };
    let nd = x.ndim();
    let ax = normalize_axis(axis, nd)?;
    let moved = moveaxis(x, &[ax as isize], &[0])?;
    let g = gather(&moved, idx)?;
    let k = idx.ndim();
    // g: idx.shape + x.shape without ax; put the idx axes at position ax
    let mut perm: SmallVec<[usize; 6]> = (k..k + ax).collect();
    perm.extend(0..k);
    perm.extend(k + ax..g.ndim());
    transpose(&g, &perm)
}

/// NumPy's `take_along_axis(x, idx, axis)` (axis None: flattened).
pub fn take_along_axis(x: &Value, idx: &Value, axis: Option<isize>) -> Result<Value> {
    let Some(axis) = axis else {
        return gather(&reshape(x, &[x.size()])?, &reshape(idx, &[idx.size()])?);
    };
    let (xs, is) = (x.shape(), idx.shape());
    if xs.len() != is.len() {
        return value_err!(
            "`indices` and `arr` must have the same number of dimensions (shapes {} and {})",
            fmt_shape(&is),
            fmt_shape(&xs)
        );
    }
    let ax = normalize_axis(axis, xs.len())?;
    let x_last = moveaxis(x, &[ax as isize], &[-1])?;
    let i_last = moveaxis(idx, &[ax as isize], &[-1])?;
    let (xl, il) = (x_last.shape(), i_last.shape());
    let nd = xl.len();
    let batch = broadcast_shapes(&xl[..nd - 1], &il[..nd - 1])?;
    let n = xl[nd - 1];
    let m = il[nd - 1];
    let mut xb: Shape = batch.clone();
    xb.push(n);
    let mut ib: Shape = batch.clone();
    ib.push(m);
    let x_b = broadcast_to(&x_last, &xb)?;
    let i_b = broadcast_to(&i_last, &ib)?;
    let rows = numel(&batch);
    let base = Tensor::build_overwrite::<i64>(&[rows], |o| {
        for (r, v) in o.iter_mut().enumerate() {
            *v = r as i64 * n as i64;
        }
    })?;
    let mut bs: Shape = batch.clone();
    bs.push(1);
    let base = reshape(&Value::Concrete(base), &bs)?;
    let neg =
        crate::ops::binary::compare(crate::ops::CompareOp::Lt, &i_b, &scalar(0.0, DType::I64))?;
    let i_w = crate::ops::binary::where_(&neg, &add(&i_b, &scalar(n as f64, DType::I64))?, &i_b)?;
    if let Ok(iv) = i_w.concrete() {
        if iv.to_vec::<i64>()?.iter().any(|&v| v < 0 || v >= n as i64) {
            return Err(crate::Error::Index(format!(
                "index out of bounds for axis {ax} with size {n}"
            )));
        }
    }
    // out-of-range entries (possible when the indices are traced) must not read
    // a neighbouring row: send them outside the flattened array (IndexError)
    let ge0 =
        crate::ops::binary::compare(crate::ops::CompareOp::Ge, &i_w, &scalar(0.0, DType::I64))?;
    let ltn = crate::ops::binary::compare(
        crate::ops::CompareOp::Lt,
        &i_w,
        &scalar(n as f64, DType::I64),
    )?;
    let ok = crate::ops::binary::compare(crate::ops::CompareOp::And, &ge0, &ltn)?;
    let flat_idx = crate::ops::binary::where_(
        &ok,
        &add(&i_w, &base)?,
        &scalar(-((1i64 << 62) as f64), DType::I64),
    )?;
    let g = gather(&reshape(&x_b, &[rows * n])?, &flat_idx)?;
    moveaxis(&g, &[-1], &[ax as isize])
}

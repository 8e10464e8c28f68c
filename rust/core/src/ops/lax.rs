//! `jax.lax`'s dynamic slicing: windows whose start is a (possibly traced or
//! batched) integer, clamped into range as XLA does, composed from gathers
//! and scatters (so differentiable in the operand and the update, and
//! batchable in every argument).

use crate::error::Result;
use crate::ops::binary::add;
use crate::ops::composite::{clip, take};
use crate::ops::creation::arange;
use crate::ops::indexing::{at_update, AtOp, IndexItem};
use crate::ops::scalar;
use crate::ops::shape::{convert, reshape};
use crate::tensor::shape::fmt_shape;
use crate::tensor::{DType, Shape};
use crate::trace::Value;
use crate::{type_err, value_err};

/// The positions `start .. start + size` along an axis of length `dim`,
/// the start clamped to `[0, dim - size]` (XLA's rule: the window always
/// fits), as int64.
fn window(start: &Value, dim: usize, size: usize, what: &str) -> Result<Value> {
    if start.ndim() != 0 {
        return value_err!(
            "{what}: start indices must be scalars, got one of shape {}",
            fmt_shape(&start.shape())
        );
    }
    if start.dtype().is_float() || start.dtype() == DType::Bool {
        return type_err!(
            "{what}: start indices must be integers, got {}",
            start.dtype()
        );
    }
    let s = convert(start, DType::I64)?;
    let hi = (dim - size) as f64;
    let s = clip(
        &s,
        Some(&scalar(0.0, DType::I64)),
        Some(&scalar(hi, DType::I64)),
    )?;
    add(&s, &arange(0.0, size as f64, 1.0, DType::I64)?)
}

fn check_rank(x: &Value, n: usize, what: &str, of: &str) -> Result<()> {
    if n != x.ndim() {
        return value_err!(
            "{what}: {of} has {n} entries for an operand of {} dimensions",
            x.ndim()
        );
    }
    Ok(())
}

/// `x[starts[0] : starts[0] + sizes[0], ...]`, the starts clamped so the
/// window fits.
pub fn dynamic_slice(x: &Value, starts: &[Value], sizes: &[usize]) -> Result<Value> {
    let what = "dynamic_slice";
    check_rank(x, starts.len(), what, "start_indices")?;
    check_rank(x, sizes.len(), what, "slice_sizes")?;
    let shape = x.shape();
    let mut out = x.clone();
    for (axis, ((start, &size), &dim)) in starts.iter().zip(sizes).zip(shape.iter()).enumerate() {
        if size > dim {
            return value_err!(
                "{what}: slice size {size} exceeds the operand's dimension {dim} (axis {axis})"
            );
        }
        let idx = window(start, dim, size, what)?;
        out = take(&out, &idx, Some(axis as isize))?;
    }
    Ok(out)
}

/// `x` with the window at `starts` (clamped so it fits) replaced by `update`.
pub fn dynamic_update_slice(x: &Value, update: &Value, starts: &[Value]) -> Result<Value> {
    let what = "dynamic_update_slice";
    check_rank(x, starts.len(), what, "start_indices")?;
    if update.ndim() != x.ndim() {
        return value_err!(
            "{what}: the update has {} dimensions, the operand {}",
            update.ndim(),
            x.ndim()
        );
    }
    let (xs, us) = (x.shape(), update.shape());
    let nd = xs.len();
    let mut key = Vec::with_capacity(nd);
    for axis in 0..nd {
        if us[axis] > xs[axis] {
            return value_err!(
                "{what}: the update of shape {} does not fit in the operand of shape {}",
                fmt_shape(&us),
                fmt_shape(&xs)
            );
        }
        // an open mesh: this axis's positions, broadcast against the others
        let idx = window(&starts[axis], xs[axis], us[axis], what)?;
        let mut s: Shape = Shape::from_slice(&vec![1; nd]);
        s[axis] = us[axis];
        key.push(IndexItem::Array(reshape(&idx, &s)?));
    }
    at_update(x, &key, AtOp::Set, update)
}

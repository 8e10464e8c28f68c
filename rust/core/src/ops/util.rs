//! Helpers shared by the rules of every family.

use smallvec::SmallVec;

use crate::error::Result;
use crate::ops::{reduce, shape};
use crate::tensor::{DType, Shape, Tensor};
use crate::trace::Value;
use crate::with_dtype;

/// A 0-d constant of `dtype`.
pub fn scalar(v: f64, dtype: DType) -> Value {
    Value::Concrete(
        with_dtype!(dtype, T => Tensor::scalar(<T as crate::tensor::Element>::from_f64(v))),
    )
}

/// A 0-d constant with the dtype of `like`.
pub fn scalar_like(like: &Value, v: f64) -> Value {
    scalar(v, like.dtype())
}

/// Zeros of a shape and dtype (a broadcast view of one element: no memory).
pub fn zeros(shape: &[usize], dtype: DType) -> Result<Value> {
    Ok(Value::Concrete(Tensor::full(0.0, dtype, shape)?))
}

pub fn zeros_like(v: &Value) -> Result<Value> {
    zeros(&v.shape(), v.dtype())
}

/// Sum a broadcast cotangent back to the shape of the input it came from
/// (taken by value: one already of that shape is passed on, not copied).
pub fn reduce_to_shape(g: Value, target: &[usize]) -> Result<Value> {
    let gs = g.shape();
    if gs.as_slice() == target {
        return Ok(g);
    }
    let lead = gs.len() - target.len();
    let mut axes: SmallVec<[usize; 6]> = (0..lead).collect();
    for (i, &d) in target.iter().enumerate() {
        if d == 1 && gs[lead + i] != 1 {
            axes.push(lead + i);
        }
    }
    let s = if axes.is_empty() {
        g
    } else {
        reduce::sum_axes(&g, &axes)?
    };
    shape::reshape(&s, target)
}

/// Give a batched value (batch axis 0, logical rank `r`) logical rank `rank` by
/// inserting size-1 axes after the batch axis, so it broadcasts against
/// unbatched operands (which broadcast from the right) as its logical self would.
pub fn align_batched(v: &Value, rank: usize) -> Result<Value> {
    let s = v.shape();
    let r = s.len() - 1;
    if r >= rank {
        return Ok(v.clone());
    }
    let mut new: Shape = Shape::from_slice(&[s[0]]);
    new.extend(std::iter::repeat_n(1, rank - r));
    new.extend_from_slice(&s[1..]);
    shape::reshape(v, &new)
}

/// Materialise the batch axis of an unbatched value: `(size, ...)`.
pub fn broadcast_batch(v: &Value, size: usize) -> Result<Value> {
    let mut s: Shape = Shape::from_slice(&[size]);
    s.extend_from_slice(&v.shape());
    let mut r: Shape = Shape::from_slice(&[1]);
    r.extend_from_slice(&v.shape());
    shape::broadcast_to(&shape::reshape(v, &r)?, &s)
}

/// Every operand with a batch axis of `size` in front: the batched ones as
/// they are, the others with theirs materialised ([`broadcast_batch`]), for
/// primitives whose batch rule is "bind again on the physical values".
pub fn all_batched(vals: &[Value], batched: &[bool], size: usize) -> Result<Vec<Value>> {
    vals.iter()
        .zip(batched)
        .map(|(x, &b)| {
            if b {
                Ok(x.clone())
            } else {
                broadcast_batch(x, size)
            }
        })
        .collect()
}

/// Batch rule for any broadcasting elementwise primitive: align the batched
/// operands' ranks and apply the primitive to the physical values.
pub fn batch_elementwise(
    prim: &crate::ops::Prim,
    vals: &[Value],
    batched: &[bool],
) -> Result<(Value, bool)> {
    let rank = vals
        .iter()
        .zip(batched)
        .map(|(v, &b)| if b { v.ndim() - 1 } else { v.ndim() })
        .max()
        .unwrap_or(0);
    let args: SmallVec<[Value; 4]> = vals
        .iter()
        .zip(batched)
        .map(|(v, &b)| {
            if b {
                align_batched(v, rank)
            } else {
                Ok(v.clone())
            }
        })
        .collect::<Result<_>>()?;
    Ok((crate::trace::bind(prim, &args)?, batched.iter().any(|&b| b)))
}

/// Add two optional cotangents/tangents (`None` is zero).
pub fn add_opt(a: Option<Value>, b: Option<Value>) -> Result<Option<Value>> {
    Ok(match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(crate::ops::binary::add(&a, &b)?),
    })
}

/// `t` broadcast to `shape` if it is not already that shape.
pub fn broadcast_if_needed(t: Value, shape: &[usize]) -> Result<Value> {
    if t.shape().as_slice() == shape {
        Ok(t)
    } else {
        shape::broadcast_to(&t, shape)
    }
}

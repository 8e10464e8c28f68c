//! NumPy's matrix builders and products composed from primitives: `tril`,
//! `triu`, `diag`, `diagflat`, `kron`, `cross`. Differentiable and batchable
//! because their parts are.

use crate::error::Result;
use crate::ops::binary::{mul, sub, where_};
use crate::ops::composite::{moveaxis, stack, take};
use crate::ops::contract::diagonal;
use crate::ops::index::scatter_add;
use crate::ops::shape::{broadcast_to, reshape};
use crate::ops::zeros;
use crate::tensor::shape::{broadcast_shapes, normalize_axis};
use crate::tensor::Tensor;
use crate::trace::Value;
use crate::value_err;

/// `x` with the entries outside the band `keep(row, col)` of its last two
/// axes set to zero.
fn band(x: &Value, what: &str, keep: impl Fn(i64, i64) -> bool) -> Result<Value> {
    let s = x.shape();
    if s.len() < 2 {
        return value_err!(
            "{what} needs an array of at least 2 dimensions, got {}",
            s.len()
        );
    }
    let (m, n) = (s[s.len() - 2], s[s.len() - 1]);
    let mask: Vec<bool> = (0..m * n)
        .map(|i| keep((i / n.max(1)) as i64, (i % n.max(1)) as i64))
        .collect();
    let mask = Value::Concrete(Tensor::from_slice(&mask, &[m, n])?);
    where_(&mask, x, &zeros(&[], x.dtype())?)
}

/// The lower triangle of the last two axes: entries with `col - row <= k`.
pub fn tril(x: &Value, k: i64) -> Result<Value> {
    band(x, "tril", |i, j| j - i <= k)
}

/// The upper triangle of the last two axes: entries with `col - row >= k`.
pub fn triu(x: &Value, k: i64) -> Result<Value> {
    band(x, "triu", |i, j| j - i >= k)
}

/// A 1-d `v` placed on the `k`-th diagonal of a square matrix, or the `k`-th
/// diagonal of a 2-d `v` (NumPy's `diag`).
pub fn diag(v: &Value, k: i64) -> Result<Value> {
    match v.ndim() {
        1 => {
            let len = v.shape()[0];
            let n = len + k.unsigned_abs() as usize;
            let (r0, c0) = if k >= 0 {
                (0, k as usize)
            } else {
                ((-k) as usize, 0)
            };
            let pos: Vec<i64> = (0..len).map(|i| ((r0 + i) * n + c0 + i) as i64).collect();
            let pos = Value::Concrete(Tensor::from_slice(&pos, &[len])?);
            reshape(&scatter_add(v, &pos, n * n)?, &[n, n])
        }
        2 => diagonal(v, k, 0, 1),
        d => value_err!("diag: input must be 1-d or 2-d, got {d} dimensions"),
    }
}

/// The flattened `v` on the `k`-th diagonal of a square matrix.
pub fn diagflat(v: &Value, k: i64) -> Result<Value> {
    diag(&reshape(v, &[v.size()])?, k)
}

/// The Kronecker product: blocks `a[i] * b` (NumPy's `kron`; the shorter
/// shape is padded with leading ones).
pub fn kron(a: &Value, b: &Value) -> Result<Value> {
    let nd = a.ndim().max(b.ndim());
    let pad = |s: Vec<usize>| -> Vec<usize> {
        let mut p = vec![1; nd - s.len()];
        p.extend(s);
        p
    };
    let (sa, sb) = (pad(a.shape().to_vec()), pad(b.shape().to_vec()));
    // a as (a0, 1, a1, 1, ...), b as (1, b0, 1, b1, ...): their product's
    // interleaved axes merge pairwise into the result's
    let ia: Vec<usize> = sa.iter().flat_map(|&d| [d, 1]).collect();
    let ib: Vec<usize> = sb.iter().flat_map(|&d| [1, d]).collect();
    let p = mul(&reshape(a, &ia)?, &reshape(b, &ib)?)?;
    let out: Vec<usize> = sa.iter().zip(&sb).map(|(x, y)| x * y).collect();
    reshape(&p, &out)
}

/// The cross product of 3-vectors (or the z component for 2-vectors) along
/// `axis` of the broadcast `a` and `b` (NumPy's `cross`).
pub fn cross(a: &Value, b: &Value, axis: isize) -> Result<Value> {
    let (a, b) = crate::ops::binary::promote(a, b, false)?;
    let (ax_a, ax_b) = (
        normalize_axis(axis, a.ndim())?,
        normalize_axis(axis, b.ndim())?,
    );
    let (na, nb) = (a.shape()[ax_a], b.shape()[ax_b]);
    if na != nb || !(na == 2 || na == 3) {
        return value_err!(
            "cross: the vectors must both have 2 or 3 components along the axis, got {na} and {nb}"
        );
    }
    let a = moveaxis(&a, &[ax_a as isize], &[-1])?;
    let b = moveaxis(&b, &[ax_b as isize], &[-1])?;
    let shape = broadcast_shapes(&a.shape(), &b.shape())?;
    let (a, b) = (broadcast_to(&a, &shape)?, broadcast_to(&b, &shape)?);
    let comp = |x: &Value, i: i64| -> Result<Value> {
        let idx = Value::Concrete(Tensor::scalar(i));
        take(x, &idx, Some(-1))
    };
    let term = |i: i64, j: i64| -> Result<Value> {
        sub(
            &mul(&comp(&a, i)?, &comp(&b, j)?)?,
            &mul(&comp(&a, j)?, &comp(&b, i)?)?,
        )
    };
    if na == 2 {
        return term(0, 1);
    }
    let parts = [term(1, 2)?, term(2, 0)?, term(0, 1)?];
    let out = stack(&parts, -1)?;
    let last = out.ndim() as isize - 1;
    let at = (axis.rem_euclid(out.ndim() as isize)).min(last);
    moveaxis(&out, &[last], &[at])
}

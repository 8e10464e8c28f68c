//! NumPy indexing (`x[key]`) and functional updates (`x.at[key].set(v)`),
//! composed from primitives so that both are differentiable and batchable:
//! the basic part of a key (integers, slices, new axes, the ellipsis) becomes
//! one strided view and a reshape; integer arrays and masks become one gather
//! on a flattened view, whose adjoint is a scatter-add.

use crate::error::{Error, Result};
use crate::ops::binary::{self, compare, mul, sub, where_, CompareOp};
use crate::ops::index::{gather, scatter_add};
use crate::ops::reduce::reduction;
use crate::ops::shape::{broadcast_to, convert, reshape, slice, transpose};
use crate::ops::{scalar, ReduceOp};
use crate::tensor::shape::{broadcast_shapes, contiguous_strides, fmt_shape};
use crate::tensor::{DType, Tensor};
use crate::trace::Value;
use crate::{type_err, value_err};

/// One entry of an index key.
#[derive(Clone, Debug)]
pub enum IndexItem {
    /// An integer: selects one position and drops the axis.
    Int(i64),
    /// `start:stop:step`, each optional, with Python's slice semantics.
    Slice(Option<i64>, Option<i64>, Option<i64>),
    /// `None` (or a scalar `True`): a new axis of length 1.
    NewAxis,
    /// A scalar `False`: a new axis of length 0.
    EmptyAxis,
    /// `...`: as many full slices as the other entries leave axes.
    Ellipsis,
    /// An integer array (concrete, or traced under `vmap`).
    Array(Value),
    /// A boolean array: the positions of its true entries (concrete only).
    Mask(Value),
}

impl IndexItem {
    /// Axes of the indexed array this entry consumes.
    fn consumes(&self) -> usize {
        match self {
            IndexItem::Int(_) | IndexItem::Slice(..) | IndexItem::Array(_) => 1,
            IndexItem::Mask(m) => m.ndim(),
            IndexItem::NewAxis | IndexItem::EmptyAxis | IndexItem::Ellipsis => 0,
        }
    }
}

/// `(start, step, length)` of a Python slice over an axis of `n` (`slice.indices`).
pub fn slice_indices(
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
    n: usize,
) -> Result<(usize, isize, usize)> {
    let step = step.unwrap_or(1) as i128;
    if step == 0 {
        return value_err!("slice step cannot be zero");
    }
    let n = n as i128;
    let (lower, upper) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let clamp = |v: Option<i64>, default: i128| match v {
        None => default,
        Some(v) => {
            let v = v as i128;
            if v < 0 {
                (v + n).max(lower)
            } else {
                v.min(upper)
            }
        }
    };
    let start = clamp(start, if step > 0 { lower } else { upper });
    let stop = clamp(stop, if step > 0 { upper } else { lower });
    let len = if step > 0 && start < stop {
        (stop - start - 1) / step + 1
    } else if step < 0 && stop < start {
        (start - stop - 1) / (-step) + 1
    } else {
        0
    };
    // an empty selection starts at 0 (a start of -1 or n would be out of range)
    let start = if len > 0 { start } else { 0 };
    Ok((start as usize, step as isize, len as usize))
}

/// The key with its ellipsis expanded into full slices (and missing trailing
/// axes filled with full slices), checked against the array's rank.
fn expand_ellipsis(ndim: usize, items: &[IndexItem]) -> Result<Vec<IndexItem>> {
    let ellipses = items
        .iter()
        .filter(|k| matches!(k, IndexItem::Ellipsis))
        .count();
    if ellipses > 1 {
        return Err(Error::Index(
            "an index can only have a single ellipsis ('...')".into(),
        ));
    }
    let consumed: usize = items.iter().map(IndexItem::consumes).sum();
    if consumed > ndim {
        return Err(Error::Index(format!(
            "too many indices for tensor: tensor is {ndim}-dimensional, but {consumed} were indexed"
        )));
    }
    let fill = std::iter::repeat_n(IndexItem::Slice(None, None, None), ndim - consumed);
    let mut out = Vec::with_capacity(items.len() + ndim - consumed);
    match items.iter().position(|k| matches!(k, IndexItem::Ellipsis)) {
        Some(i) => {
            out.extend_from_slice(&items[..i]);
            out.extend(fill);
            out.extend_from_slice(&items[i + 1..]);
        }
        None => {
            out.extend_from_slice(items);
            out.extend(fill);
        }
    }
    Ok(out)
}

/// How `x[key]` selects: `x` reshaped to `shape` (new axes inserted), one
/// strided slice (`starts`/`steps`/`lens`), then, when the key has integer
/// arrays, a gather along `adv_dims` by `adv_arrays`. `out_dims` are the axes
/// of the slice that the basic result keeps.
struct Plan {
    shape: Vec<usize>,
    starts: Vec<usize>,
    steps: Vec<isize>,
    lens: Vec<usize>,
    out_dims: Vec<usize>,
    adv_dims: Vec<usize>,
    adv_arrays: Vec<Value>,
}

/// One axis of the (reshaped) array after new axes, masks and the ellipsis
/// were expanded: every entry now indexes exactly one axis.
enum AxisIndex {
    Int(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Array(Value),
}

fn mask_positions(m: &Value, first_axis: usize, shape: &[usize]) -> Result<Vec<Value>> {
    for (j, (&km, &n)) in m.shape().iter().zip(shape).enumerate() {
        if km != n {
            return Err(Error::Index(format!(
                "boolean index did not match indexed array along axis {}; size of axis is {n} \
                 but size of corresponding boolean axis is {km}",
                first_axis + j
            )));
        }
    }
    let Some(t) = m.as_concrete() else {
        return type_err!(
            "boolean mask indexing has a data-dependent shape and is not supported on traced \
             masks (inside vmap); use fx.where(mask, x, 0) instead"
        );
    };
    let flags = t.to_vec::<bool>()?;
    let strides = contiguous_strides(t.shape());
    let hits: Vec<usize> = (0..flags.len()).filter(|&i| flags[i]).collect();
    let mut out = Vec::with_capacity(t.ndim());
    for (d, &s) in strides.iter().enumerate() {
        let n = t.shape()[d];
        let coords: Vec<i64> = hits
            .iter()
            .map(|&i| ((i / s as usize) % n) as i64)
            .collect();
        out.push(Value::Concrete(Tensor::from_slice(&coords, &[hits.len()])?));
    }
    Ok(out)
}

/// A 0-d mask is a scalar boolean: a new axis of length 1 (true) or 0 (false).
fn scalar_mask(k: IndexItem) -> Result<IndexItem> {
    match k {
        IndexItem::Mask(m) if m.ndim() == 0 => match m.as_concrete() {
            Some(t) if t.to_vec::<bool>()?[0] => Ok(IndexItem::NewAxis),
            Some(_) => Ok(IndexItem::EmptyAxis),
            None => mask_positions(&m, 0, &[]).map(|_| IndexItem::NewAxis),
        },
        k => Ok(k),
    }
}

fn plan(x_shape: &[usize], key: &[IndexItem]) -> Result<Plan> {
    let key: Vec<IndexItem> = key
        .iter()
        .cloned()
        .map(scalar_mask)
        .collect::<Result<_>>()?;
    let items = expand_ellipsis(x_shape.len(), &key)?;
    // new axes: length 1 (0 for a scalar False), then indexed like any axis
    let mut shape = Vec::with_capacity(items.len());
    let mut pos = 0;
    for k in &items {
        match k {
            IndexItem::NewAxis | IndexItem::EmptyAxis => shape.push(1),
            IndexItem::Ellipsis => {}
            k => {
                let n = k.consumes();
                shape.extend_from_slice(&x_shape[pos..pos + n]);
                pos += n;
            }
        }
    }
    // masks: the coordinates of their true entries, one integer array per axis
    let mut axes: Vec<AxisIndex> = Vec::with_capacity(items.len());
    for k in items {
        let dim = axes.len();
        match k {
            IndexItem::Mask(m) => {
                let nd = m.ndim();
                let coords = mask_positions(&m, dim, &shape[dim..dim + nd])?;
                axes.extend(coords.into_iter().map(AxisIndex::Array));
            }
            // (expand_ellipsis left no ellipsis; one would index no axis)
            IndexItem::Ellipsis => {}
            IndexItem::NewAxis => axes.push(AxisIndex::Slice(None, None, None)),
            IndexItem::EmptyAxis => axes.push(AxisIndex::Slice(Some(0), Some(0), None)),
            IndexItem::Slice(a, b, c) => axes.push(AxisIndex::Slice(a, b, c)),
            IndexItem::Int(i) => axes.push(AxisIndex::Int(i)),
            IndexItem::Array(a) => axes.push(AxisIndex::Array(a)),
        }
    }
    let has_adv = axes.iter().any(|k| matches!(k, AxisIndex::Array(_)));
    let mut p = Plan {
        shape,
        starts: vec![],
        steps: vec![],
        lens: vec![],
        out_dims: vec![],
        adv_dims: vec![],
        adv_arrays: vec![],
    };
    for (d, k) in axes.into_iter().enumerate() {
        let n = p.shape[d];
        let (start, step, len) = match k {
            AxisIndex::Int(i) => {
                let j = if i < 0 {
                    i as i128 + n as i128
                } else {
                    i as i128
                };
                if !(0..n as i128).contains(&j) {
                    return Err(Error::Index(format!(
                        "index {i} is out of bounds for axis {d} with size {n}"
                    )));
                }
                if has_adv {
                    // combined with arrays, an integer is a 0-d array index
                    p.adv_dims.push(d);
                    p.adv_arrays.push(Value::Concrete(Tensor::scalar(j as i64)));
                    (0, 1, n)
                } else {
                    (j as usize, 1, 1)
                }
            }
            AxisIndex::Slice(a, b, s) => {
                p.out_dims.push(d);
                slice_indices(a, b, s, n)?
            }
            AxisIndex::Array(a) => {
                p.adv_dims.push(d);
                p.adv_arrays.push(a);
                (0, 1, n)
            }
        };
        p.starts.push(start);
        p.steps.push(step);
        p.lens.push(len);
    }
    Ok(p)
}

/// Where the broadcast advanced axes go in the result (NumPy's rule): in place
/// of the advanced indices when those are adjacent, else first.
fn adv_position(adv_dims: &[usize]) -> Option<usize> {
    let first = adv_dims[0];
    let adjacent = adv_dims.iter().enumerate().all(|(i, &d)| d == first + i);
    (adjacent && first > 0).then_some(first)
}

/// Moves the `b` leading axes of an `ndim`-axis array to position `at`.
fn leading_to(b: usize, at: usize, ndim: usize) -> Vec<usize> {
    (b..b + at).chain(0..b).chain(b + at..ndim).collect()
}

/// `x[key]` with NumPy's semantics.
pub fn getitem(x: &Value, key: &[IndexItem]) -> Result<Value> {
    let p = plan(&x.shape(), key)?;
    let x = if p.shape[..] != x.shape()[..] {
        reshape(x, &p.shape)?
    } else {
        x.clone()
    };
    let y = slice(&x, &p.starts, &p.steps, &p.lens)?;
    if p.adv_dims.is_empty() {
        let out: Vec<usize> = p.out_dims.iter().map(|&d| p.lens[d]).collect();
        return reshape(&y, &out);
    }
    let rest: Vec<usize> = (0..p.lens.len())
        .filter(|d| !p.adv_dims.contains(d))
        .collect();
    let perm: Vec<usize> = p.adv_dims.iter().chain(&rest).copied().collect();
    let adv_sizes: Vec<usize> = p.adv_dims.iter().map(|&d| p.lens[d]).collect();
    let mut flat_shape = vec![adv_sizes.iter().product()];
    flat_shape.extend(rest.iter().map(|&d| p.lens[d]));
    let flat = reshape(&transpose(&y, &perm)?, &flat_shape)?;
    let lin = linear_index(&p.adv_arrays, &adv_sizes, &p.adv_dims)?;
    let g = gather(&flat, &lin)?;
    match adv_position(&p.adv_dims) {
        Some(at) => transpose(&g, &leading_to(lin.ndim(), at, g.ndim())),
        None => Ok(g),
    }
}

/// A concrete integer index array as int64 values, each checked against an
/// axis of `n` (axis number `axis` in the message) and wrapped to `[0, n)`.
fn in_range(a: &Tensor, n: usize, axis: usize) -> Result<Vec<i64>> {
    let vals = match a.dtype() {
        DType::I64 => a.to_vec::<i64>()?,
        DType::I32 => a.to_vec::<i32>()?.into_iter().map(i64::from).collect(),
        d => return type_err!("arrays used as indices must be of integer type, got {d}"),
    };
    let n = n as i64;
    vals.into_iter()
        .map(|i| match i {
            i if (0..n).contains(&i) => Ok(i),
            i if (-n..0).contains(&i) => Ok(i + n),
            i => Err(Error::Index(format!(
                "index {i} is out of bounds for axis {axis} with size {n}"
            ))),
        })
        .collect()
}

/// Broadcast concrete index arrays: their common shape and, per array, its
/// range-checked values broadcast to that shape (row-major).
fn broadcast_concrete(
    arrays: &[&Tensor],
    sizes: &[usize],
    axes: &[usize],
) -> Result<(Vec<usize>, Vec<Vec<i64>>)> {
    let mut bs: Vec<usize> = vec![];
    for a in arrays {
        bs = broadcast_shapes(&bs, a.shape())
            .map_err(|_| {
                Error::Index(format!(
                    "shape mismatch: indexing arrays could not be broadcast together with shapes {}",
                    arrays
                        .iter()
                        .map(|a| fmt_shape(a.shape()))
                        .collect::<Vec<_>>()
                        .join(" ")
                ))
            })?
            .to_vec();
    }
    let mut vals = Vec::with_capacity(arrays.len());
    for ((a, &n), &axis) in arrays.iter().zip(sizes).zip(axes) {
        // check the array's own values, then spread them over the common shape
        let own = in_range(a, n, axis)?;
        let t = Tensor::from_slice(&own, a.shape())?;
        vals.push(t.broadcast_view(&bs).to_vec::<i64>()?);
    }
    Ok((bs, vals))
}

/// Row-major flat indices into the `sizes` block from one index array per
/// axis (broadcast together). Traced arrays map out-of-range entries to an
/// index the gather kernel rejects, never to a neighbouring element.
fn linear_index(arrays: &[Value], sizes: &[usize], axes: &[usize]) -> Result<Value> {
    let concrete: Option<Vec<&Tensor>> = arrays.iter().map(Value::as_concrete).collect();
    if let Some(ts) = concrete {
        let (bs, vals) = broadcast_concrete(&ts, sizes, axes)?;
        let len: usize = bs.iter().product();
        let mut lin = vec![0i64; len];
        for (v, &n) in vals.iter().zip(sizes) {
            for (l, &i) in lin.iter_mut().zip(v) {
                *l = *l * n as i64 + i;
            }
        }
        return Ok(Value::Concrete(Tensor::from_slice(&lin, &bs)?));
    }
    let i64c = |v: i64| scalar(v as f64, DType::I64);
    let mut lin: Option<Value> = None;
    let mut ok: Option<Value> = None;
    for ((a, &n), &axis) in arrays.iter().zip(sizes).zip(axes) {
        let a = match a.as_concrete() {
            Some(t) => {
                let v = in_range(t, n, axis)?;
                Value::Concrete(Tensor::from_slice(&v, t.shape())?)
            }
            None => convert(a, DType::I64)?,
        };
        let n = n as i64;
        let valid = compare(
            CompareOp::And,
            &compare(CompareOp::Ge, &a, &i64c(-n))?,
            &compare(CompareOp::Lt, &a, &i64c(n))?,
        )?;
        ok = Some(match ok {
            None => valid,
            Some(o) => compare(CompareOp::And, &o, &valid)?,
        });
        let neg = compare(CompareOp::Lt, &a, &i64c(0))?;
        let a = where_(&neg, &binary::add(&a, &i64c(n))?, &a)?;
        lin = Some(match lin {
            None => a,
            Some(l) => binary::add(&mul(&l, &i64c(n))?, &a)?,
        });
    }
    let total: usize = sizes.iter().product();
    match (lin, ok) {
        (Some(lin), Some(ok)) => where_(&ok, &lin, &i64c(-(total as i64) - 1)),
        _ => value_err!("an advanced index needs at least one array"),
    }
}

/// The flat (row-major) positions, in an array of `shape`, of the elements
/// `x[key]` selects, shaped as `x[key]`. Costs memory in proportion to the
/// selection, not to the array. The key must be concrete.
pub fn flat_positions(shape: &[usize], key: &[IndexItem]) -> Result<Tensor> {
    let p = plan(shape, key)?;
    let strides = contiguous_strides(&p.shape);
    // the selected offsets along axis d, scaled by its stride
    let coords = |d: usize| -> Vec<i64> {
        (0..p.lens[d])
            .map(|i| (p.starts[d] as i64 + p.steps[d] as i64 * i as i64) * strides[d] as i64)
            .collect()
    };
    // every sum of one coordinate per axis in `dims`, row-major
    let grid = |dims: &[usize]| -> Vec<i64> {
        let mut g = vec![0i64];
        for &d in dims {
            let c = coords(d);
            g = g
                .iter()
                .flat_map(|&o| c.iter().map(move |&x| o + x))
                .collect();
        }
        g
    };
    if p.adv_dims.is_empty() {
        let all: Vec<usize> = (0..p.lens.len()).collect();
        let out: Vec<usize> = p.out_dims.iter().map(|&d| p.lens[d]).collect();
        return Tensor::from_slice(&grid(&all), &out);
    }
    let arrays: Vec<&Tensor> = p
        .adv_arrays
        .iter()
        .map(|a| {
            a.as_concrete().ok_or_else(|| {
                Error::Type("flat positions need concrete (untraced) index arrays".into())
            })
        })
        .collect::<Result<_>>()?;
    let sizes: Vec<usize> = p.adv_dims.iter().map(|&d| p.lens[d]).collect();
    let (bs, vals) = broadcast_concrete(&arrays, &sizes, &p.adv_dims)?;
    let len: usize = bs.iter().product();
    let mut lin = vec![0i64; len];
    for (v, &d) in vals.iter().zip(&p.adv_dims) {
        for (l, &i) in lin.iter_mut().zip(v) {
            *l += i * strides[d] as i64;
        }
    }
    let rest: Vec<usize> = (0..p.lens.len())
        .filter(|d| !p.adv_dims.contains(d))
        .collect();
    let g = grid(&rest);
    let pos: Vec<i64> = lin
        .iter()
        .flat_map(|&l| g.iter().map(move |&o| l + o))
        .collect();
    let mut shape = bs.clone();
    shape.extend(rest.iter().map(|&d| p.lens[d]));
    let t = Tensor::from_slice(&pos, &shape)?;
    match adv_position(&p.adv_dims) {
        Some(at) => {
            let view = t.permute_view(&leading_to(bs.len(), at, shape.len()));
            let dims = view.shape().to_vec();
            Tensor::from_slice(&view.to_vec::<i64>()?, &dims)
        }
        None => Ok(t),
    }
}

/// The functional updates of `x.at[key]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtOp {
    /// `x[key] = v`; at repeated positions the last write wins.
    Set,
    /// `x[key] += v`; repeated positions accumulate.
    Add,
    /// `x[key] *= v`; repeated positions multiply.
    Multiply,
}

/// Flat positions of `x[key]` in `x`: concrete when the key is, else (traced
/// indices under `vmap`) computed by indexing the positions themselves.
fn positions(x: &Value, key: &[IndexItem]) -> Result<Value> {
    let traced = key.iter().any(|k| match k {
        IndexItem::Array(a) | IndexItem::Mask(a) => a.as_concrete().is_none(),
        _ => false,
    });
    if traced {
        let ids = crate::ops::creation::arange(0.0, x.size() as f64, 1.0, DType::I64)?;
        return getitem(&reshape(&ids, &x.shape())?, key);
    }
    Ok(Value::Concrete(flat_positions(&x.shape(), key)?))
}

/// `x` with `op(x[key], v)` written back at `key` (`v` broadcast to the shape
/// of `x[key]` and cast to the dtype of `x`). Differentiable in `x` and `v`.
pub fn at_update(x: &Value, key: &[IndexItem], op: AtOp, v: &Value) -> Result<Value> {
    let pos = positions(x, key)?;
    let v = if v.dtype() != x.dtype() {
        convert(v, x.dtype())?
    } else {
        v.clone()
    };
    let k = pos.size();
    let vals = reshape(&broadcast_to(&v, &pos.shape())?, &[k])?;
    let idx = reshape(&pos, &[k])?;
    let (n, shape) = (x.size(), x.shape());
    let full = |u: &Value| reshape(u, &shape);
    match (op, idx.as_concrete()) {
        (AtOp::Add, _) => binary::add(x, &full(&scatter_add(&vals, &idx, n)?)?),
        (AtOp::Set, Some(t)) => {
            // keep the last write to each position: the kept positions are distinct
            let p = t.to_vec::<i64>()?;
            let keep = last_occurrences(&p);
            let (vals, idx) = if keep.len() == p.len() {
                (vals, idx)
            } else {
                let kept: Vec<i64> = keep.iter().map(|&i| p[i as usize]).collect();
                let sel = Value::Concrete(Tensor::from_slice(&keep, &[keep.len()])?);
                let kept = Value::Concrete(Tensor::from_slice(&kept, &[kept.len()])?);
                (gather(&vals, &sel)?, kept)
            };
            let new = scatter_add(&vals, &idx, n)?;
            // one byte per element of x marks the written positions
            let ones = Value::Concrete(Tensor::full(1.0, DType::Bool, &idx.shape())?);
            let hit = scatter_add(&ones, &idx, n)?;
            where_(&full(&hit)?, &full(&new)?, x)
        }
        (AtOp::Set, None) => {
            // traced positions may repeat: average the writes rather than add them
            let new = scatter_add(&vals, &idx, n)?;
            let ones = Value::Concrete(Tensor::full(1.0, DType::I64, &[k])?);
            let hits = scatter_add(&ones, &idx, n)?;
            let count = convert(
                &binary::maximum(&hits, &scalar(1.0, DType::I64))?,
                x.dtype(),
            )?;
            let new = if x.dtype().is_float() {
                binary::divide(&new, &count)?
            } else {
                binary::floor_divide(&new, &count)?
            };
            let hit = compare(CompareOp::Gt, &hits, &scalar(0.0, DType::I64))?;
            where_(&full(&hit)?, &full(&new)?, x)
        }
        (AtOp::Multiply, Some(t)) => {
            // repeated positions in rounds by occurrence rank: each round's
            // positions are distinct, so a scatter-add of (v - 1) + 1 is a factor
            let p = t.to_vec::<i64>()?;
            let rounds = occurrence_rounds(&p);
            let mut out = x.clone();
            let one = scalar(1.0, x.dtype());
            for sel in rounds {
                let at: Vec<i64> = sel.iter().map(|&i| p[i as usize]).collect();
                let sel = Value::Concrete(Tensor::from_slice(&sel, &[sel.len()])?);
                let at = Value::Concrete(Tensor::from_slice(&at, &[at.len()])?);
                let minus_one = sub(&gather(&vals, &sel)?, &one)?;
                let factor = binary::add(&scatter_add(&minus_one, &at, n)?, &one)?;
                out = mul(&out, &full(&factor)?)?;
            }
            Ok(out)
        }
        (AtOp::Multiply, None) => {
            // traced, possibly repeated positions: one row of factors per
            // indexed element, multiplied together (differentiable, O(k * n))
            let ids = crate::ops::creation::arange(0.0, n as f64, 1.0, DType::I64)?;
            let hit = compare(
                CompareOp::Eq,
                &reshape(&idx, &[k, 1])?,
                &reshape(&ids, &[1, n])?,
            )?;
            let rows = where_(&hit, &reshape(&vals, &[k, 1])?, &scalar(1.0, x.dtype()))?;
            let factor = reduction(ReduceOp::Prod, &rows, Some(&[0]), false)?;
            mul(x, &full(&factor)?)
        }
    }
}

/// Indices (ascending) of the last occurrence of each distinct value of `p`.
fn last_occurrences(p: &[i64]) -> Vec<i64> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by_key(|&i| (p[i], i));
    let mut keep: Vec<i64> = order
        .iter()
        .enumerate()
        .filter(|&(j, &i)| order.get(j + 1).is_none_or(|&next| p[next] != p[i]))
        .map(|(_, &i)| i as i64)
        .collect();
    keep.sort_unstable();
    keep
}

/// Indices of `p` grouped by occurrence rank: round r holds, in order, every
/// index that is the (r+1)-th occurrence of its value.
fn occurrence_rounds(p: &[i64]) -> Vec<Vec<i64>> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by_key(|&i| (p[i], i));
    let mut rank = vec![0usize; p.len()];
    for j in 1..order.len() {
        if p[order[j]] == p[order[j - 1]] {
            rank[order[j]] = rank[order[j - 1]] + 1;
        }
    }
    let rounds = rank.iter().max().map_or(0, |&r| r + 1);
    let mut out = vec![Vec::new(); rounds];
    for (i, &r) in rank.iter().enumerate() {
        out[r].push(i as i64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_follow_python() {
        assert_eq!(slice_indices(None, None, None, 5).unwrap(), (0, 1, 5));
        assert_eq!(slice_indices(None, None, Some(-1), 5).unwrap(), (4, -1, 5));
        assert_eq!(slice_indices(Some(-2), None, None, 5).unwrap(), (3, 1, 2));
        assert_eq!(slice_indices(Some(7), Some(9), None, 5).unwrap().2, 0);
        assert_eq!(
            slice_indices(Some(1), Some(-1), Some(2), 6).unwrap(),
            (1, 2, 2)
        );
        assert_eq!(
            slice_indices(Some(i64::MIN), Some(i64::MAX), Some(i64::MAX), 3).unwrap(),
            (0, i64::MAX as isize, 1)
        );
        assert!(slice_indices(None, None, Some(0), 3).is_err());
    }

    #[test]
    fn repeated_positions_are_grouped() {
        assert_eq!(last_occurrences(&[3, 1, 3, 2, 1]), vec![2, 3, 4]);
        assert_eq!(
            occurrence_rounds(&[3, 1, 3, 2, 3]),
            vec![vec![0, 1, 3], vec![2], vec![4]]
        );
        assert!(occurrence_rounds(&[]).is_empty());
    }
}

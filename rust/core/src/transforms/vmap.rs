//! Batching: run the function once on values that carry a batch axis.

use super::{call_traced, Fun};
use crate::error::{Error, Result};
use crate::ops::composite::moveaxis;
use crate::ops::shape::{broadcast_to, concatenate, reshape, slice};
use crate::tensor::shape::fmt_shape;
use crate::trace::{LevelGuard, LevelKind, TracerKind, Value};

/// The mapped axis of each argument (`in_axes`, negative from the end,
/// `None`: not mapped) normalised, and the batch size: the mapped axes'
/// common length, or `axis_size` (required when nothing is mapped).
pub fn batch_size(
    args: &[Value],
    in_axes: &[Option<i64>],
    axis_size: Option<i64>,
) -> Result<(Vec<Option<usize>>, usize)> {
    if args.len() != in_axes.len() {
        return Err(Error::Value(format!(
            "vmap: {} in_axes entries for {} arguments",
            in_axes.len(),
            args.len()
        )));
    }
    let mut axes = Vec::with_capacity(args.len());
    let mut sizes: Vec<usize> = Vec::new();
    for (a, ax) in args.iter().zip(in_axes) {
        let Some(ax) = *ax else {
            axes.push(None);
            continue;
        };
        let s = a.shape();
        let n = s.len() as i64;
        if !(-n..n).contains(&ax) {
            return Err(Error::Value(format!(
                "vmap in_axes {ax} is out of range for an argument of shape {}",
                fmt_shape(&s)
            )));
        }
        let ax = ax.rem_euclid(n) as usize;
        if !sizes.contains(&s[ax]) {
            sizes.push(s[ax]);
        }
        axes.push(Some(ax));
    }
    if sizes.len() > 1 {
        sizes.sort_unstable();
        return Err(Error::Value(format!(
            "vmap got inconsistent sizes for the mapped axes: {sizes:?}"
        )));
    }
    let size = sizes.first().copied();
    let size = match (axis_size, size) {
        (Some(n), _) if n < 0 => {
            return Err(Error::Value(format!(
                "vmap axis_size must be a non-negative int, got {n}"
            )))
        }
        (Some(n), Some(m)) if n as usize != m => {
            return Err(Error::Value(format!(
                "vmap axis_size {n} does not match the mapped size {m}"
            )))
        }
        (Some(n), _) => n as usize,
        (None, Some(m)) => m,
        (None, None) => {
            return Err(Error::Value(
                "vmap needs at least one mapped argument (or axis_size)".into(),
            ))
        }
    };
    Ok((axes, size))
}

/// The outputs of [`vmap`]: each with its batch axis in front, and whether
/// it has one at all.
pub type Batched = Vec<(Value, bool)>;

/// Vectorising map. Each argument is batched along `in_axes[i]` (or not, for
/// `None`; axes already normalised, see [`batch_size`]); all batched axes
/// have length `size`. Returns each output with its batch axis in front and
/// whether it is batched at all, and the auxiliary values (which must not
/// depend on the mapped axis).
pub fn vmap(
    f: &mut Fun,
    args: &[Value],
    in_axes: &[Option<usize>],
    size: usize,
) -> Result<(Batched, Vec<Value>)> {
    let guard = LevelGuard::push(LevelKind::Batch { size });
    let level = guard.level();
    let mut wrapped = Vec::with_capacity(args.len());
    for (a, ax) in args.iter().zip(in_axes) {
        wrapped.push(match ax {
            None => a.clone(),
            Some(ax) => {
                let s = a.shape();
                if *ax >= s.len() || s[*ax] != size {
                    return Err(Error::Value(format!(
                        "vmap: axis {ax} of an argument of shape {} does not have the batch \
                         size {size}",
                        fmt_shape(&s)
                    )));
                }
                let moved = moveaxis(a, &[*ax as isize], &[0])?;
                Value::tracer(level, TracerKind::Batch { value: moved })
            }
        });
    }
    let (out_values, aux) = call_traced(f, &wrapped, level)?;
    drop(guard);
    let values = out_values
        .into_iter()
        .map(|o| match o.at(level) {
            Some(TracerKind::Batch { value }) => (value.clone(), true),
            _ => (o, false),
        })
        .collect();
    Ok((values, aux))
}

/// An output of [`vmap`] with its batch axis at `out_axis` (negative from the
/// end; `None`: the output must not depend on the mapped axis). An unbatched
/// output is broadcast along a new batch axis.
pub fn place_batch_axis(
    v: Value,
    batched: bool,
    size: usize,
    out_axis: Option<i64>,
) -> Result<Value> {
    let Some(ax) = out_axis else {
        if batched {
            return Err(Error::Value(
                "vmap out_axes None for an output that depends on the mapped axis".into(),
            ));
        }
        return Ok(v);
    };
    let v = if batched {
        v
    } else {
        let mut one = vec![1];
        one.extend(v.shape().iter());
        let mut full = vec![size];
        full.extend(v.shape().iter());
        broadcast_to(&reshape(&v, &one)?, &full)?
    };
    let nd = v.ndim() as i64;
    if !(-nd..nd).contains(&ax) {
        return Err(Error::Value(format!(
            "vmap out_axes {ax} is out of range for an output of rank {}",
            nd - 1
        )));
    }
    let ax = ax.rem_euclid(nd);
    if ax == 0 {
        Ok(v)
    } else {
        moveaxis(&v, &[0], &[ax as isize])
    }
}

/// `(start, count)` of each chunk of a batch of `size`: at most `chunk`
/// elements each (one empty chunk for an empty batch).
pub fn batch_chunks(size: usize, chunk: Option<usize>) -> Vec<(usize, usize)> {
    super::basis_chunks(&[size], chunk)
        .into_iter()
        .map(|c| (c.start, c.count))
        .collect()
}

/// The arguments of the batch elements `start..start + count`: each mapped
/// argument sliced along its axis (a view), the others as they are.
pub fn batch_slice(
    args: &[Value],
    axes: &[Option<usize>],
    start: usize,
    count: usize,
) -> Result<Vec<Value>> {
    args.iter()
        .zip(axes)
        .map(|(a, ax)| match ax {
            None => Ok(a.clone()),
            Some(ax) => {
                let shape = a.shape();
                let mut starts = vec![0; shape.len()];
                let mut lens = shape.to_vec();
                starts[*ax] = start;
                lens[*ax] = count;
                slice(a, &starts, &vec![1; shape.len()], &lens)
            }
        })
        .collect()
}

/// The outputs of a vmap evaluated in chunks, joined: output `i` of every
/// chunk (`parts[chunk][i]`, its batch axis already at `out_axes[i]`)
/// concatenated along that axis; an output with `out_axes` None does not
/// depend on the batch, and is the first chunk's.
pub fn join_batches(parts: Vec<Vec<Value>>, out_axes: &[Option<i64>]) -> Result<Vec<Value>> {
    if parts.is_empty() {
        return Err(Error::Value("vmap: no chunk to join".into()));
    }
    let n = out_axes.len();
    let mut per_output: Vec<Vec<Value>> = vec![Vec::with_capacity(parts.len()); n];
    for (c, chunk) in parts.into_iter().enumerate() {
        if chunk.len() != n {
            return Err(Error::Value(format!(
                "vmap: chunk {c} returned {} outputs where the first returned {n}",
                chunk.len()
            )));
        }
        for (i, v) in chunk.into_iter().enumerate() {
            per_output[i].push(v);
        }
    }
    per_output
        .into_iter()
        .zip(out_axes)
        .map(|(mut vs, ax)| match ax {
            None => Ok(vs.swap_remove(0)),
            Some(_) if vs.len() == 1 => Ok(vs.swap_remove(0)),
            Some(ax) => concatenate(&vs, *ax as isize),
        })
        .collect()
}

//! Shapes, strides, broadcasting and axis normalisation.

use smallvec::SmallVec;

use crate::error::Result;
use crate::{shape_err, value_err};

/// Dimensions, inline up to rank 6.
pub type Shape = SmallVec<[usize; 6]>;
/// Strides in elements (not bytes); negative for reversed views, 0 for broadcast.
pub type Strides = SmallVec<[isize; 6]>;

pub fn shape_of(dims: &[usize]) -> Shape {
    Shape::from_slice(dims)
}

pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// `numel` that reports overflow instead of wrapping.
pub fn checked_numel(shape: &[usize]) -> Result<usize> {
    let mut n: usize = 1;
    for &d in shape {
        n = match n.checked_mul(d) {
            Some(v) if v <= isize::MAX as usize => v,
            _ => {
                return value_err!(
                    "array of shape {} is too large (more elements than memory can address)",
                    fmt_shape(shape)
                )
            }
        };
    }
    Ok(n)
}

/// Row-major strides of a contiguous array.
/// The permutation that undoes `perm` (`perm` a permutation of `0..n`).
pub fn inverse_permutation(perm: &[usize]) -> SmallVec<[usize; 6]> {
    let mut inv: SmallVec<[usize; 6]> = SmallVec::from_elem(0, perm.len());
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    inv
}

pub fn contiguous_strides(shape: &[usize]) -> Strides {
    let mut strides: Strides = SmallVec::from_elem(0, shape.len());
    let mut acc: isize = 1;
    for i in (0..shape.len()).rev() {
        strides[i] = acc;
        acc *= shape[i].max(1) as isize;
    }
    strides
}

/// Python-style shape text: `(3,)`, `(2, 3)`, `()`.
/// The element offsets (relative to the first element) of the lowest and
/// highest elements a view `(shape, strides)` reaches; `None` when empty.
pub fn reach(shape: &[usize], strides: &[isize]) -> Option<(i128, i128)> {
    if shape.contains(&0) {
        return None;
    }
    let (mut lo, mut hi) = (0i128, 0i128);
    for (&d, &s) in shape.iter().zip(strides) {
        let r = (d as i128 - 1) * s as i128;
        if r < 0 {
            lo += r;
        } else {
            hi += r;
        }
    }
    Some((lo, hi))
}

pub fn fmt_shape(shape: &[usize]) -> String {
    match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// NumPy broadcasting of two shapes.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Result<Shape> {
    let n = a.len().max(b.len());
    let mut out: Shape = SmallVec::from_elem(0, n);
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return shape_err!(
                "shapes {} and {} cannot be broadcast together",
                fmt_shape(a),
                fmt_shape(b)
            );
        };
    }
    Ok(out)
}

/// Strides that read an array of `shape`/`strides` as if broadcast to `target`
/// (0 where a dimension is stretched). The caller has checked compatibility.
pub fn broadcast_strides(shape: &[usize], strides: &[isize], target: &[usize]) -> Strides {
    let pad = target.len() - shape.len();
    let mut out: Strides = SmallVec::from_elem(0, target.len());
    for i in 0..shape.len() {
        out[pad + i] = if shape[i] == 1 && target[pad + i] != 1 {
            0
        } else {
            strides[i]
        };
    }
    out
}

/// Normalise a possibly negative axis against `ndim`.
pub fn normalize_axis(axis: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    if axis < -n || axis >= n {
        return Err(crate::Error::Value(format!(
            "axis {axis} is out of bounds for array of dimension {ndim}"
        )));
    }
    Ok(if axis < 0 {
        (axis + n) as usize
    } else {
        axis as usize
    })
}

/// Normalise a list of axes (None = all), rejecting repeats; result sorted.
pub fn normalize_axes(axes: Option<&[isize]>, ndim: usize) -> Result<SmallVec<[usize; 6]>> {
    match axes {
        None => Ok((0..ndim).collect()),
        Some(list) => {
            let mut out: SmallVec<[usize; 6]> = SmallVec::new();
            for &a in list {
                let a = normalize_axis(a, ndim)?;
                if out.contains(&a) {
                    return value_err!("repeated axis {a} in reduction");
                }
                out.push(a);
            }
            out.sort_unstable();
            Ok(out)
        }
    }
}

/// Resolve a reshape target that may contain one `-1`.
pub fn resolve_reshape(from: &[usize], to: &[isize]) -> Result<Shape> {
    let total = numel(from);
    let mut known: usize = 1;
    let mut infer = None;
    for (i, &d) in to.iter().enumerate() {
        if d == -1 {
            if infer.replace(i).is_some() {
                return value_err!("can only specify one unknown dimension");
            }
        } else if d < 0 {
            return value_err!("negative dimension {d} in reshape");
        } else {
            known = known.saturating_mul(d as usize);
        }
    }
    let mut out: Shape = to.iter().map(|&d| d.max(0) as usize).collect();
    if let Some(i) = infer {
        if known == 0 || total % known != 0 {
            return shape_err!(
                "cannot reshape array of size {total} into shape {}",
                fmt_reshape(to)
            );
        }
        out[i] = total / known;
    } else if known != total {
        return shape_err!(
            "cannot reshape array of size {total} into shape {}",
            fmt_reshape(to)
        );
    }
    Ok(out)
}

fn fmt_reshape(to: &[isize]) -> String {
    match to.len() {
        1 => format!("({},)", to[0]),
        _ => format!(
            "({})",
            to.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Strides for viewing (`shape`, `strides`) as `new_shape` without a copy, if possible
/// (NumPy's `_attempt_nocopy_reshape`, simplified: works dimension group by group).
pub fn reshape_strides(shape: &[usize], strides: &[isize], new_shape: &[usize]) -> Option<Strides> {
    if numel(shape) == 0 {
        return Some(contiguous_strides(new_shape));
    }
    // Drop size-1 dims of the source: their strides do not matter.
    let src: SmallVec<[(usize, isize); 6]> = shape
        .iter()
        .zip(strides)
        .filter(|(&d, _)| d != 1)
        .map(|(&d, &s)| (d, s))
        .collect();
    let mut out: Strides = SmallVec::from_elem(0, new_shape.len());
    let (mut i, mut j) = (0usize, 0usize);
    while j < new_shape.len() && new_shape[j] == 1 {
        out[j] = 1;
        j += 1;
    }
    while i < src.len() {
        // Grow a group on each side until the products match.
        let (i0, j0) = (i, j);
        let mut p_src = src[i].0;
        let mut p_dst = new_shape.get(j).copied()?;
        i += 1;
        j += 1;
        while p_src != p_dst {
            if p_src < p_dst {
                p_src *= src.get(i)?.0;
                i += 1;
            } else {
                p_dst *= *new_shape.get(j)?;
                j += 1;
            }
        }
        // The source group must itself be contiguous-like.
        for k in i0..i - 1 {
            if src[k].1 != src[k + 1].1 * src[k + 1].0 as isize {
                return None;
            }
        }
        let mut stride = src[i - 1].1;
        for k in (j0..j).rev() {
            out[k] = stride;
            stride *= new_shape[k] as isize;
        }
        while j < new_shape.len() && new_shape[j] == 1 {
            out[j] = 1;
            j += 1;
        }
    }
    if j != new_shape.len() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting() {
        assert_eq!(broadcast_shapes(&[3, 1], &[4]).unwrap().as_slice(), &[3, 4]);
        assert_eq!(broadcast_shapes(&[], &[2, 3]).unwrap().as_slice(), &[2, 3]);
        assert_eq!(broadcast_shapes(&[0], &[1]).unwrap().as_slice(), &[0]);
        let e = broadcast_shapes(&[3], &[4]).unwrap_err().to_string();
        assert!(e.contains("(3,)") && e.contains("(4,)"), "{e}");
    }

    #[test]
    fn strides_and_axes() {
        assert_eq!(contiguous_strides(&[2, 3, 4]).as_slice(), &[12, 4, 1]);
        assert_eq!(normalize_axis(-1, 3).unwrap(), 2);
        assert!(normalize_axis(3, 3).is_err());
        assert!(normalize_axes(Some(&[0, -3]), 3).is_err());
        assert_eq!(
            broadcast_strides(&[3, 1], &[1, 1], &[2, 3, 4]).as_slice(),
            &[0, 1, 0]
        );
    }

    #[test]
    fn reshape_resolution() {
        assert_eq!(
            resolve_reshape(&[2, 6], &[3, -1]).unwrap().as_slice(),
            &[3, 4]
        );
        assert!(resolve_reshape(&[2, 6], &[5, -1]).is_err());
        assert!(resolve_reshape(&[2, 6], &[-1, -1]).is_err());
        assert_eq!(
            resolve_reshape(&[0, 3], &[-1, 3]).unwrap().as_slice(),
            &[0, 3]
        );
    }

    #[test]
    fn nocopy_reshape() {
        // contiguous: always a view
        assert_eq!(
            reshape_strides(&[2, 3], &[3, 1], &[6]).unwrap().as_slice(),
            &[1]
        );
        // (strides of size-1 dims are irrelevant)
        let s = reshape_strides(&[6], &[1], &[1, 2, 1, 3]).unwrap();
        assert_eq!((s[1], s[3]), (3, 1));
        // transposed (2,3) -> (6,) needs a copy
        assert!(reshape_strides(&[3, 2], &[1, 3], &[6]).is_none());
        // splitting a strided dim is fine
        assert_eq!(
            reshape_strides(&[6], &[2], &[2, 3]).unwrap().as_slice(),
            &[6, 2]
        );
        // broadcast dims
        assert_eq!(
            reshape_strides(&[4, 3], &[0, 1], &[4, 3, 1])
                .unwrap()
                .as_slice(),
            &[0, 1, 1]
        );
    }
}

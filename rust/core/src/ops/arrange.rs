//! Rearrangements composed from views, gathers and concatenation: `split`,
//! `tile`, `repeat` and `pad` (every NumPy mode but the statistical ones).
//! Differentiable and batchable because their parts are.

use crate::error::Result;
use crate::ops::binary::{add, mul, sub};
use crate::ops::composite::{expand_dims, flip, take};
use crate::ops::shape::{broadcast_to, concatenate, convert, reshape, slice};
use crate::tensor::shape::normalize_axis;
use crate::tensor::{DType, Tensor};
use crate::trace::Value;
use crate::value_err;

fn index(v: Vec<i64>) -> Result<Value> {
    let n = v.len();
    Ok(Value::Concrete(Tensor::from_slice(&v, &[n])?))
}

/// `x[lo:hi]` along `axis` (a view).
pub(crate) fn range_along(x: &Value, axis: usize, lo: usize, hi: usize) -> Result<Value> {
    let s = x.shape();
    let mut starts = vec![0; s.len()];
    let steps = vec![1; s.len()];
    let mut lens = s.to_vec();
    starts[axis] = if hi > lo { lo } else { 0 };
    lens[axis] = hi.saturating_sub(lo);
    slice(x, &starts, &steps, &lens)
}

/// How `split` cuts an axis: into equal sections, or at the given indices.
pub enum Sections {
    Equal(i64),
    At(Vec<i64>),
}

/// Cut `x` along `axis`: into `n` equal parts (`Sections::Equal`, which must
/// divide the axis unless `uneven`, as `array_split`), or at the indices.
pub fn split(x: &Value, sections: &Sections, axis: isize, uneven: bool) -> Result<Vec<Value>> {
    let ax = normalize_axis(axis, x.ndim())?;
    let n = x.shape()[ax] as i64;
    let bounds: Vec<i64> = match sections {
        Sections::Equal(k) => {
            let k = *k;
            if k <= 0 {
                return value_err!("number sections must be larger than 0, got {k}");
            }
            if !uneven && n % k != 0 {
                return value_err!(
                    "array split does not result in an equal division: {n} into {k}"
                );
            }
            // array_split: the first n % k parts are one longer
            let (q, r) = (n / k, n % k);
            let mut b = vec![0];
            for i in 0..k {
                b.push(b[i as usize] + q + i64::from(i < r));
            }
            b
        }
        Sections::At(idx) => {
            let mut b = vec![0];
            b.extend(
                idx.iter()
                    .map(|&i| if i < 0 { (i + n).max(0) } else { i.min(n) }),
            );
            b.push(n);
            b
        }
    };
    bounds
        .windows(2)
        .map(|w| range_along(x, ax, w[0] as usize, w[1].max(w[0]) as usize))
        .collect()
}

/// Repeat the whole array `reps` times along each axis (NumPy's `tile`), as
/// one broadcast of interleaved size-1 axes and a reshape.
pub fn tile(x: &Value, reps: &[i64]) -> Result<Value> {
    if let Some(r) = reps.iter().find(|&&r| r < 0) {
        return value_err!("tile: negative repetition {r}");
    }
    let d = reps.len().max(x.ndim());
    let reps: Vec<usize> = std::iter::repeat_n(1, d - reps.len())
        .chain(reps.iter().map(|&r| r as usize))
        .collect();
    let shape: Vec<usize> = std::iter::repeat_n(1, d - x.ndim())
        .chain(x.shape().iter().copied())
        .collect();
    let inter: Vec<usize> = shape.iter().flat_map(|&s| [1, s]).collect();
    let big: Vec<usize> = reps
        .iter()
        .zip(&shape)
        .flat_map(|(&r, &s)| [r, s])
        .collect();
    let y = broadcast_to(&reshape(x, &inter)?, &big)?;
    let out: Vec<usize> = reps.iter().zip(&shape).map(|(r, s)| r * s).collect();
    reshape(&y, &out)
}

/// How many times `repeat` repeats each element: all the same, or each its own.
pub enum Repeats {
    All(i64),
    Each(Vec<i64>),
}

/// Repeat each element along `axis` (flattened first when `None`; NumPy's `repeat`).
pub fn repeat(x: &Value, repeats: &Repeats, axis: Option<isize>) -> Result<Value> {
    let (x, ax) = match axis {
        None => (reshape(x, &[x.size()])?, 0),
        Some(a) => (x.clone(), normalize_axis(a, x.ndim())?),
    };
    let n = x.shape()[ax];
    match repeats {
        Repeats::All(r) => {
            if *r < 0 {
                return value_err!("repeat: negative repeats");
            }
            let y = expand_dims(&x, &[ax as isize + 1])?;
            let mut shape = y.shape().to_vec();
            shape[ax + 1] = *r as usize;
            let y = broadcast_to(&y, &shape)?;
            let mut out = x.shape().to_vec();
            out[ax] = n * *r as usize;
            reshape(&y, &out)
        }
        Repeats::Each(reps) => {
            if reps.len() != n {
                return value_err!(
                    "repeat: repeats has shape ({},), expected ({n},)",
                    reps.len()
                );
            }
            if reps.iter().any(|&r| r < 0) {
                return value_err!("repeat: negative repeats");
            }
            let idx: Vec<i64> = reps
                .iter()
                .enumerate()
                .flat_map(|(i, &r)| std::iter::repeat_n(i as i64, r as usize))
                .collect();
            take(&x, &index(idx)?, Some(ax as isize))
        }
    }
}

/// NumPy's `pad` modes (`stat` modes such as `mean` are not provided).
pub enum PadMode {
    /// The given values before and after, per axis.
    Constant(Vec<(f64, f64)>),
    Edge,
    Reflect,
    Symmetric,
    Wrap,
    /// A linear ramp from the given end values to the edge, per axis.
    LinearRamp(Vec<(f64, f64)>),
}

impl PadMode {
    fn name(&self) -> &'static str {
        match self {
            PadMode::Constant(_) => "constant",
            PadMode::Edge => "edge",
            PadMode::Reflect => "reflect",
            PadMode::Symmetric => "symmetric",
            PadMode::Wrap => "wrap",
            PadMode::LinearRamp(_) => "linear_ramp",
        }
    }
}

/// Pad `x` by `widths[axis] = (before, after)` elements (NumPy's `pad`).
pub fn pad(x: &Value, widths: &[(i64, i64)], mode: &PadMode) -> Result<Value> {
    if widths.len() != x.ndim() || widths.iter().any(|&(a, b)| a < 0 || b < 0) {
        return value_err!(
            "pad: pad_width {widths:?} does not fit an array of rank {} (one non-negative \
             (before, after) pair per axis)",
            x.ndim()
        );
    }
    let mut y = x.clone();
    for (ax, &(lo, hi)) in widths.iter().enumerate() {
        if lo == 0 && hi == 0 {
            continue;
        }
        let (lo, hi) = (lo as usize, hi as usize);
        let n = y.shape()[ax];
        if n == 0 && !matches!(mode, PadMode::Constant(_)) {
            return value_err!(
                "pad: can't extend an empty axis with mode '{}'",
                mode.name()
            );
        }
        y = match mode {
            PadMode::Constant(values) => {
                let (cl, ch) = values.get(ax).copied().unwrap_or((0.0, 0.0));
                let part = |w: usize, v: f64| -> Result<Value> {
                    let mut s = y.shape().to_vec();
                    s[ax] = w;
                    Ok(Value::Concrete(Tensor::full(v, y.dtype(), &s)?))
                };
                concatenate(&[part(lo, cl)?, y.clone(), part(hi, ch)?], ax as isize)?
            }
            PadMode::LinearRamp(ends) => {
                let (el, eh) = ends.get(ax).copied().unwrap_or((0.0, 0.0));
                let left = ramp(&range_along(&y, ax, 0, 1)?, el, lo, ax, false)?;
                let right = ramp(&range_along(&y, ax, n - 1, n)?, eh, hi, ax, true)?;
                concatenate(&[left, y.clone(), right], ax as isize)?
            }
            _ => {
                let idx: Vec<i64> = (0..lo + n + hi)
                    .map(|i| source(i as i64 - lo as i64, n as i64, mode))
                    .collect();
                take(&y, &index(idx)?, Some(ax as isize))?
            }
        };
    }
    Ok(y)
}

/// The element of an axis of `n` that position `i` (relative to its start)
/// copies, for the index-based modes.
fn source(i: i64, n: i64, mode: &PadMode) -> i64 {
    match mode {
        PadMode::Edge => i.clamp(0, n - 1),
        PadMode::Wrap => i.rem_euclid(n),
        PadMode::Reflect if n == 1 => 0,
        PadMode::Reflect => {
            let j = i.rem_euclid(2 * n - 2);
            if j < n {
                j
            } else {
                2 * n - 2 - j
            }
        }
        PadMode::Symmetric => {
            let j = i.rem_euclid(2 * n);
            if j < n {
                j
            } else {
                2 * n - 1 - j
            }
        }
        PadMode::Constant(_) | PadMode::LinearRamp(_) => i,
    }
}

/// `width` values from `end` towards `edge` (a size-1 slice along `axis`),
/// the edge itself excluded (`np.linspace(end, edge, width, endpoint=False)`),
/// reversed for the side after the array.
fn ramp(edge: &Value, end: f64, width: usize, axis: usize, after: bool) -> Result<Value> {
    let dt = if edge.dtype().is_float() {
        edge.dtype()
    } else {
        DType::F64
    };
    let e = convert(edge, dt)?;
    let w: Vec<f64> = (0..width).map(|k| k as f64 / width as f64).collect();
    let mut shape = vec![1; e.ndim()];
    shape[axis] = width;
    let w = convert(&Value::Concrete(Tensor::from_slice(&w, &shape)?), dt)?;
    let end = Value::Concrete(Tensor::full(end, dt, &[])?);
    // end + (edge - end) * w
    let r = add(&end, &mul(&sub(&e, &end)?, &w)?)?;
    let r = if after {
        flip(&r, Some(&[axis as isize]))?
    } else {
        r
    };
    convert(&r, edge.dtype())
}

/// `x` with at least `n` (1, 2 or 3) dimensions, as NumPy's `atleast_1d`,
/// `atleast_2d` and `atleast_3d` pad it: `(k,)` becomes `(1, k)` and `(1, k, 1)`,
/// `(m, k)` becomes `(m, k, 1)`.
pub fn atleast(x: &Value, n: usize) -> Result<Value> {
    let s = x.shape().to_vec();
    let shape: Vec<usize> = match (n, s.len()) {
        (_, d) if d >= n => return Ok(x.clone()),
        (_, 0) => vec![1; n],
        (2, 1) => vec![1, s[0]],
        (3, 1) => vec![1, s[0], 1],
        (3, 2) => vec![s[0], s[1], 1],
        _ => return value_err!("atleast: n must be 1, 2 or 3, got {n}"),
    };
    reshape(x, &shape)
}

fn each_atleast(xs: &[Value], n: usize) -> Result<Vec<Value>> {
    if xs.is_empty() {
        return value_err!("need at least one array to concatenate");
    }
    xs.iter().map(|x| atleast(x, n)).collect()
}

/// Stack row-wise: 1-d arrays become rows (NumPy's `vstack`).
pub fn vstack(xs: &[Value]) -> Result<Value> {
    concatenate(&each_atleast(xs, 2)?, 0)
}

/// Stack column-wise: along axis 1, or axis 0 for 1-d arrays (NumPy's `hstack`).
pub fn hstack(xs: &[Value]) -> Result<Value> {
    let parts = each_atleast(xs, 1)?;
    let axis = if parts[0].ndim() == 1 { 0 } else { 1 };
    concatenate(&parts, axis)
}

/// Stack depth-wise, along axis 2 (NumPy's `dstack`).
pub fn dstack(xs: &[Value]) -> Result<Value> {
    concatenate(&each_atleast(xs, 3)?, 2)
}

/// 1-d arrays as columns of a 2-d array; 2-d arrays stacked along axis 1.
pub fn column_stack(xs: &[Value]) -> Result<Value> {
    let parts = each_atleast(xs, 1)?
        .into_iter()
        .map(|x| match x.ndim() {
            1 => reshape(&x, &[x.size(), 1]),
            _ => Ok(x),
        })
        .collect::<Result<Vec<_>>>()?;
    concatenate(&parts, 1)
}

/// Which axis `hsplit`, `vsplit` and `dsplit` cut.
#[derive(Clone, Copy, Debug)]
pub enum SplitDirection {
    /// Along axis 1 (axis 0 for 1-d arrays).
    Horizontal,
    /// Along axis 0 of an array of at least 2 dimensions.
    Vertical,
    /// Along axis 2 of an array of at least 3 dimensions.
    Depth,
}

/// NumPy's `hsplit`, `vsplit` and `dsplit`.
pub fn split_direction(x: &Value, sections: &Sections, dir: SplitDirection) -> Result<Vec<Value>> {
    let (axis, min_ndim, name) = match dir {
        SplitDirection::Horizontal => (if x.ndim() == 1 { 0 } else { 1 }, 1, "hsplit"),
        SplitDirection::Vertical => (0, 2, "vsplit"),
        SplitDirection::Depth => (2, 3, "dsplit"),
    };
    if x.ndim() < min_ndim {
        return value_err!(
            "{name} only works on arrays of {min_ndim} or more dimensions, got {}",
            x.ndim()
        );
    }
    split(x, sections, axis, false)
}

/// Elements shifted by `shift` positions along `axis` (cyclically), as
/// NumPy's `roll`; several shifts go with as many axes (or one shift with
/// several axes). No axes: the flattened array is rolled.
pub fn roll(x: &Value, shifts: &[i64], axes: Option<&[isize]>) -> Result<Value> {
    let Some(axes) = axes else {
        let [shift] = shifts else {
            return value_err!(
                "roll: one shift rolls the flattened array, got {}",
                shifts.len()
            );
        };
        let flat = reshape(x, &[x.size()])?;
        return reshape(&roll(&flat, &[*shift], Some(&[0]))?, &x.shape());
    };
    let pairs: Vec<(i64, isize)> = match (shifts.len(), axes.len()) {
        (a, b) if a == b => shifts.iter().copied().zip(axes.iter().copied()).collect(),
        (1, _) => axes.iter().map(|&ax| (shifts[0], ax)).collect(),
        (_, 1) => shifts.iter().map(|&s| (s, axes[0])).collect(),
        (a, b) => return value_err!("roll: {a} shifts do not match {b} axes"),
    };
    let mut out = x.clone();
    for (shift, axis) in pairs {
        let ax = normalize_axis(axis, x.ndim())?;
        let n = x.shape()[ax];
        if n == 0 {
            continue;
        }
        let s = shift.rem_euclid(n as i64) as usize;
        if s == 0 {
            continue;
        }
        let tail = range_along(&out, ax, n - s, n)?;
        let head = range_along(&out, ax, 0, n - s)?;
        out = concatenate(&[tail, head], ax as isize)?;
    }
    Ok(out)
}

/// `x` rotated by 90 degrees `k` times in the plane of `axes`, from the first
/// axis towards the second (NumPy's `rot90`).
pub fn rot90(x: &Value, k: i64, axes: (isize, isize)) -> Result<Value> {
    let nd = x.ndim();
    if nd < 2 {
        return value_err!("rot90 needs an array of at least 2 dimensions, got {nd}");
    }
    let (a0, a1) = (normalize_axis(axes.0, nd)?, normalize_axis(axes.1, nd)?);
    if a0 == a1 {
        return value_err!("rot90: the axes must be different, got {a0} and {a1}");
    }
    let mut perm: Vec<usize> = (0..nd).collect();
    perm.swap(a0, a1);
    let (a0, a1) = (a0 as isize, a1 as isize);
    match k.rem_euclid(4) {
        0 => Ok(x.clone()),
        1 => crate::ops::shape::transpose(&flip(x, Some(&[a1]))?, &perm),
        2 => flip(x, Some(&[a0, a1])),
        _ => flip(&crate::ops::shape::transpose(x, &perm)?, Some(&[a1])),
    }
}

/// `values` appended to `x` along `axis`, or both flattened (NumPy's `append`).
pub fn append(x: &Value, values: &Value, axis: Option<isize>) -> Result<Value> {
    match axis {
        Some(ax) => concatenate(&[x.clone(), values.clone()], ax),
        None => concatenate(
            &[reshape(x, &[x.size()])?, reshape(values, &[values.size()])?],
            0,
        ),
    }
}

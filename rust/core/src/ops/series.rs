//! One-dimensional sequences along an axis, composed from views, gathers and
//! arithmetic: differences, integrals, polynomials and products (NumPy's
//! `diff`, `ediff1d`, `trapezoid`, `polyval`, `cumprod`, `gradient`), and
//! convolution, correlation and interpolation (`convolve`, `correlate`, `interp`).

use crate::error::Result;
use crate::ops::arrange::range_along;
use crate::ops::binary::{add, div, mul, sub};
use crate::ops::composite::take;
use crate::ops::reduce::{reduction, ReduceOp};
use crate::ops::scalar;
use crate::ops::shape::{broadcast_to, concatenate, convert, reshape};
use crate::tensor::shape::normalize_axis;
use crate::tensor::{DType, Tensor};
use crate::trace::Value;
use crate::value_err;

/// `x[1:] - x[:-1]` along `ax`.
fn step_difference(x: &Value, ax: usize) -> Result<Value> {
    let n = x.shape()[ax];
    sub(
        &range_along(x, ax, 1.min(n), n)?,
        &range_along(x, ax, 0, n.saturating_sub(1))?,
    )
}

/// A value to put before or after `x` along `ax`: a scalar becomes a slab of
/// length 1, an array must match `x` off the axis.
fn edge(v: &Value, x: &Value, ax: usize) -> Result<Value> {
    if v.ndim() == 0 {
        let mut s = x.shape().to_vec();
        s[ax] = 1;
        return broadcast_to(v, &s);
    }
    Ok(v.clone())
}

/// The `n`-th discrete difference along `axis` (NumPy's `diff`), with
/// `prepend` / `append` values joined to `x` first.
pub fn diff(
    x: &Value,
    n: i64,
    axis: isize,
    prepend: Option<&Value>,
    append: Option<&Value>,
) -> Result<Value> {
    if n < 0 {
        return value_err!("diff: order must be non-negative, got {n}");
    }
    if x.ndim() == 0 {
        return value_err!("diff requires input that is at least one dimensional");
    }
    let ax = normalize_axis(axis, x.ndim())?;
    let mut parts = Vec::with_capacity(3);
    if let Some(p) = prepend {
        parts.push(edge(p, x, ax)?);
    }
    parts.push(x.clone());
    if let Some(a) = append {
        parts.push(edge(a, x, ax)?);
    }
    let mut out = if parts.len() > 1 {
        concatenate(&parts, ax as isize)?
    } else {
        x.clone()
    };
    for _ in 0..n {
        out = step_difference(&out, ax)?;
    }
    Ok(out)
}

/// Differences of the flattened array, with values before and after (NumPy's `ediff1d`).
pub fn ediff1d(x: &Value, to_end: Option<&Value>, to_begin: Option<&Value>) -> Result<Value> {
    let flat = |v: &Value| reshape(v, &[v.size()]);
    let mut parts = Vec::with_capacity(3);
    if let Some(b) = to_begin {
        parts.push(flat(b)?);
    }
    parts.push(step_difference(&flat(x)?, 0)?);
    if let Some(e) = to_end {
        parts.push(flat(e)?);
    }
    concatenate(&parts, 0)
}

/// The integral of `y` along `axis` by the trapezoidal rule, over sample
/// points `x` (1-d along the axis, or shaped as `y`) or a spacing `dx`.
pub fn trapezoid(y: &Value, x: Option<&Value>, dx: f64, axis: isize) -> Result<Value> {
    let ax = normalize_axis(axis, y.ndim())?;
    let n = y.shape()[ax];
    let widths = match x {
        None => scalar(dx, y.dtype().to_float()),
        Some(x) if x.ndim() == 1 => {
            if x.size() != n {
                return value_err!(
                    "trapezoid: {} sample points for an axis of length {n}",
                    x.size()
                );
            }
            let d = step_difference(x, 0)?;
            let mut s = vec![1; y.ndim()];
            s[ax] = n.saturating_sub(1);
            reshape(&d, &s)?
        }
        Some(x) => step_difference(x, ax)?,
    };
    let heights = add(
        &range_along(y, ax, 1.min(n), n)?,
        &range_along(y, ax, 0, n.saturating_sub(1))?,
    )?;
    let areas = div(&mul(&widths, &heights)?, &scalar(2.0, y.dtype().to_float()))?;
    reduction(ReduceOp::Sum, &areas, Some(&[ax as isize]), false)
}

/// The polynomial with coefficients `p` (highest power first) at `x`, by
/// Horner's rule (NumPy's `polyval`).
pub fn polyval(p: &Value, x: &Value) -> Result<Value> {
    if p.ndim() != 1 {
        return value_err!(
            "polyval: coefficients must be 1-d, got {} dimensions",
            p.ndim()
        );
    }
    let coef = |i: usize| take(p, &Value::Concrete(Tensor::scalar(i as i64)), Some(0));
    let mut y = mul(&scalar(0.0, p.dtype()), x)?;
    for i in 0..p.size() {
        y = add(&mul(&y, x)?, &coef(i)?)?;
    }
    Ok(y)
}

/// The cumulative product along `axis` (`None`: of the flattened array), as
/// NumPy's `cumprod`: a log-depth scan of products of shifted copies, so it
/// is exact with zeros and negative numbers and differentiable everywhere.
pub fn cumprod(x: &Value, axis: Option<isize>) -> Result<Value> {
    let (src, ax) = match axis {
        None => (reshape(x, &[x.size()])?, 0),
        Some(a) => (x.clone(), normalize_axis(a, x.ndim())?),
    };
    let mut y = if matches!(src.dtype(), DType::Bool | DType::I32) {
        convert(&src, DType::I64)?
    } else {
        src
    };
    let n = y.shape()[ax];
    let mut shift = 1;
    while shift < n {
        let mut pad_shape = y.shape().to_vec();
        pad_shape[ax] = shift;
        let ones = Value::Concrete(Tensor::full(1.0, y.dtype(), &pad_shape)?);
        let prev = concatenate(&[ones, range_along(&y, ax, 0, n - shift)?], ax as isize)?;
        y = mul(&y, &prev)?;
        shift *= 2;
    }
    Ok(y)
}

/// The sample spacing along one axis of `gradient`: a constant step or the
/// coordinates of the samples.
pub enum Spacing {
    Step(f64),
    Coordinates(Value),
}

/// `v` (1-d, along the axis) shaped to broadcast along axis `ax` of an `nd`-d array.
fn along_axis(v: &Value, ax: usize, nd: usize) -> Result<Value> {
    let mut s = vec![1; nd];
    s[ax] = v.size();
    reshape(v, &s)
}

/// NumPy's `gradient` of `f` along each of `axes`: second-order central
/// differences inside, one-sided differences of `edge_order` 1 or 2 at the ends.
pub fn gradient(
    f: &Value,
    spacing: &[Spacing],
    axes: &[usize],
    edge_order: i64,
) -> Result<Vec<Value>> {
    if !(edge_order == 1 || edge_order == 2) {
        return value_err!("gradient: edge_order must be 1 or 2, got {edge_order}");
    }
    let f = if f.dtype().is_float() {
        f.clone()
    } else {
        convert(f, DType::F64)?
    };
    let nd = f.ndim();
    let dt = f.dtype();
    let c = |v: f64| scalar(v, dt);
    let mut out = Vec::with_capacity(axes.len());
    for (&ax, sp) in axes.iter().zip(spacing) {
        let n = f.shape()[ax];
        if n < edge_order as usize + 1 {
            return value_err!(
                "Shape of array too small to calculate a numerical gradient, at least \
                 (edge_order + 1) elements are required."
            );
        }
        let at = |lo: usize, hi: usize| range_along(&f, ax, lo, hi);
        let (interior, first, last) = match sp {
            Spacing::Step(h) => {
                let h2 = c(2.0 * h);
                let interior = div(&sub(&at(2, n)?, &at(0, n - 2)?)?, &h2)?;
                let (first, last) = if edge_order == 1 {
                    (
                        div(&sub(&at(1, 2)?, &at(0, 1)?)?, &c(*h))?,
                        div(&sub(&at(n - 1, n)?, &at(n - 2, n - 1)?)?, &c(*h))?,
                    )
                } else {
                    let lin =
                        |a: f64, i: usize, b: f64, j: usize, d: f64, k: usize| -> Result<Value> {
                            add(
                                &add(&mul(&c(a), &at(i, i + 1)?)?, &mul(&c(b), &at(j, j + 1)?)?)?,
                                &mul(&c(d), &at(k, k + 1)?)?,
                            )
                        };
                    (
                        div(&lin(-3.0, 0, 4.0, 1, -1.0, 2)?, &h2)?,
                        div(&lin(1.0, n - 3, -4.0, n - 2, 3.0, n - 1)?, &h2)?,
                    )
                };
                (interior, first, last)
            }
            Spacing::Coordinates(x) => {
                if x.ndim() != 1 || x.size() != n {
                    return value_err!(
                        "gradient: the coordinates along axis {ax} must be 1-d of length {n}, \
                         got {} values",
                        x.size()
                    );
                }
                let x = convert(x, dt)?;
                let dx = step_difference(&x, 0)?;
                let d = |i: usize| range_along(&dx, 0, i, i + 1);
                let dx1 = range_along(&dx, 0, 0, n - 2)?;
                let dx2 = range_along(&dx, 0, 1, n - 1)?;
                let sum = add(&dx1, &dx2)?;
                let a = div(&mul(&c(-1.0), &dx2)?, &mul(&dx1, &sum)?)?;
                let b = div(&sub(&dx2, &dx1)?, &mul(&dx1, &dx2)?)?;
                let cc = div(&dx1, &mul(&dx2, &sum)?)?;
                let w = |v: &Value| along_axis(v, ax, nd);
                let interior = add(
                    &add(
                        &mul(&w(&a)?, &at(0, n - 2)?)?,
                        &mul(&w(&b)?, &at(1, n - 1)?)?,
                    )?,
                    &mul(&w(&cc)?, &at(2, n)?)?,
                )?;
                let w1 = |v: &Value| along_axis(v, ax, nd);
                let (first, last) = if edge_order == 1 {
                    (
                        div(&sub(&at(1, 2)?, &at(0, 1)?)?, &w1(&d(0)?)?)?,
                        div(&sub(&at(n - 1, n)?, &at(n - 2, n - 1)?)?, &w1(&d(n - 2)?)?)?,
                    )
                } else {
                    let three = |p: [Value; 3], i: usize| -> Result<Value> {
                        add(
                            &add(
                                &mul(&w1(&p[0])?, &at(i, i + 1)?)?,
                                &mul(&w1(&p[1])?, &at(i + 1, i + 2)?)?,
                            )?,
                            &mul(&w1(&p[2])?, &at(i + 2, i + 3)?)?,
                        )
                    };
                    let (h1, h2) = (d(0)?, d(1)?);
                    let s = add(&h1, &h2)?;
                    let first = three(
                        [
                            div(
                                &mul(&c(-1.0), &add(&mul(&c(2.0), &h1)?, &h2)?)?,
                                &mul(&h1, &s)?,
                            )?,
                            div(&s, &mul(&h1, &h2)?)?,
                            div(&mul(&c(-1.0), &h1)?, &mul(&h2, &s)?)?,
                        ],
                        0,
                    )?;
                    let (h1, h2) = (d(n - 3)?, d(n - 2)?);
                    let s = add(&h1, &h2)?;
                    let last = three(
                        [
                            div(&h2, &mul(&h1, &s)?)?,
                            div(&mul(&c(-1.0), &s)?, &mul(&h1, &h2)?)?,
                            div(&add(&mul(&c(2.0), &h2)?, &h1)?, &mul(&h2, &s)?)?,
                        ],
                        n - 3,
                    )?;
                    (first, last)
                };
                (interior, first, last)
            }
        };
        out.push(concatenate(&[first, interior, last], ax as isize)?);
    }
    Ok(out)
}

/// NumPy's `convolve` modes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConvolveMode {
    Full,
    Same,
    Valid,
}

/// The discrete linear convolution of two 1-d arrays (NumPy's `convolve`):
/// one product of the sliding windows of `a` (a gather) with reversed `v`.
pub fn convolve(a: &Value, v: &Value, mode: ConvolveMode) -> Result<Value> {
    if a.ndim() != 1 || v.ndim() != 1 {
        return value_err!(
            "convolve: both inputs must be 1-dimensional, got {} and {} dimensions",
            a.ndim(),
            v.ndim()
        );
    }
    if a.size() == 0 || v.size() == 0 {
        return value_err!("convolve: inputs cannot be empty");
    }
    let (a, v) = crate::ops::binary::promote(a, v, false)?;
    // convolution commutes: slide the shorter one
    let (a, v) = if v.size() > a.size() { (v, a) } else { (a, v) };
    let (n, m) = (a.size(), v.size());
    let zeros = Value::Concrete(Tensor::full(0.0, a.dtype(), &[m - 1])?);
    let padded = concatenate(&[zeros.clone(), a, zeros], 0)?;
    let len = n + m - 1;
    let idx: Vec<i64> = (0..len)
        .flat_map(|k| (0..m).map(move |j| (k + j) as i64))
        .collect();
    let windows = take(
        &padded,
        &Value::Concrete(Tensor::from_slice(&idx, &[len, m])?),
        Some(0),
    )?;
    let rev = crate::ops::composite::flip(&v, None)?;
    let full = crate::ops::linalg::matmul(&windows, &rev)?;
    match mode {
        ConvolveMode::Full => Ok(full),
        ConvolveMode::Same => {
            let start = (m - 1) / 2;
            range_along(&full, 0, start, start + n)
        }
        ConvolveMode::Valid => range_along(&full, 0, m - 1, n),
    }
}

/// The cross-correlation of two 1-d arrays (NumPy's `correlate`, real input):
/// `convolve(a, v[::-1])`.
pub fn correlate(a: &Value, v: &Value, mode: ConvolveMode) -> Result<Value> {
    if v.ndim() != 1 {
        return value_err!("correlate: both inputs must be 1-dimensional");
    }
    convolve(a, &crate::ops::composite::flip(v, None)?, mode)
}

/// Piecewise-linear interpolation of the points `(xp, fp)` at `x` (NumPy's
/// `interp`; `xp` increasing); outside the range `left` / `right` (default
/// the end values). Differentiable in `x` and `fp` (and `xp`).
pub fn interp(
    x: &Value,
    xp: &Value,
    fp: &Value,
    left: Option<&Value>,
    right: Option<&Value>,
) -> Result<Value> {
    if xp.ndim() != 1 || fp.ndim() != 1 || xp.size() != fp.size() {
        return value_err!(
            "interp: xp and fp must be 1-d sequences of the same length, got {} and {} values",
            xp.size(),
            fp.size()
        );
    }
    let n = xp.size();
    if n == 0 {
        return value_err!("interp: array of sample points is empty");
    }
    let dt = DType::promote(DType::promote(x.dtype(), xp.dtype()), fp.dtype()).to_float();
    let (x, xp, fp) = (convert(x, dt)?, convert(xp, dt)?, convert(fp, dt)?);
    let first = take(&fp, &Value::Concrete(Tensor::scalar(0i64)), Some(0))?;
    let last = take(&fp, &Value::Concrete(Tensor::scalar(n as i64 - 1)), Some(0))?;
    let body = if n == 1 {
        mul(
            &first,
            &crate::ops::binary::add(&mul(&x, &scalar(0.0, dt))?, &scalar(1.0, dt))?,
        )?
    } else {
        let pos = crate::ops::sorting::searchsorted(&xp, &x, true)?;
        let one = scalar(1.0, DType::I64);
        let lo = crate::ops::binary::minimum(
            &crate::ops::binary::maximum(&sub(&pos, &one)?, &scalar(0.0, DType::I64))?,
            &scalar((n - 2) as f64, DType::I64),
        )?;
        let hi = add(&lo, &one)?;
        let (x0, x1) = (take(&xp, &lo, Some(0))?, take(&xp, &hi, Some(0))?);
        let (y0, y1) = (take(&fp, &lo, Some(0))?, take(&fp, &hi, Some(0))?);
        let t = div(&sub(&x, &x0)?, &sub(&x1, &x0)?)?;
        add(&y0, &mul(&t, &sub(&y1, &y0)?)?)?
    };
    let x_first = take(&xp, &Value::Concrete(Tensor::scalar(0i64)), Some(0))?;
    let x_last = take(&xp, &Value::Concrete(Tensor::scalar(n as i64 - 1)), Some(0))?;
    let below = crate::ops::binary::compare(crate::ops::CompareOp::Lt, &x, &x_first)?;
    let above = crate::ops::binary::compare(crate::ops::CompareOp::Gt, &x, &x_last)?;
    let lv = match left {
        Some(l) => convert(l, dt)?,
        None => first,
    };
    let rv = match right {
        Some(r) => convert(r, dt)?,
        None => last,
    };
    let r = crate::ops::binary::where_(&below, &lv, &body)?;
    crate::ops::binary::where_(&above, &rv, &r)
}

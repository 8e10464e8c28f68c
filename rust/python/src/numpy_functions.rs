//! Module-level functions for the rest of NumPy's everyday surface (matrix
//! builders, stacking and splitting, differences and integrals, NaN-skipping
//! reductions, elementwise helpers, statistics): argument parsing only, the
//! numerics are the core's.

use ferrax_core::ops::arrange::{self, SplitDirection};
use ferrax_core::ops::series::{ConvolveMode, Spacing};
use ferrax_core::ops::sorting::{self, QuantileMethod};
use ferrax_core::ops::{elementwise as ew, matrix, nan, series, stats};
use ferrax_core::Value;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::composites::{ints, parts, sections};
use crate::convert::{to_axes, to_value};
use crate::errors::guard;
use crate::functions::values;
use crate::tensor::{compute, wrap, PyTensor};

type R = PyResult<Py<PyTensor>>;

fn v(x: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_value(x, None)
}

/// Two operands, the second weakly typed after the first.
fn v2(a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> PyResult<(Value, Value)> {
    let a = to_value(a, None)?;
    let b = to_value(b, Some(a.dtype()))?;
    Ok((a, b))
}

fn opt(x: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Value>> {
    x.filter(|o| !o.is_none()).map(v).transpose()
}

macro_rules! unary_composite {
    ($($name:ident => $f:path, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[pyfunction]
        pub fn $name(py: Python<'_>, x: &Bound<'_, PyAny>) -> R {
            let x = v(x)?;
            compute(py, x.size(), || $f(&x))
        }
    )*};
}

unary_composite! {
    deg2rad => ew::deg2rad, "Degrees to radians.\n\n    >>> fx.deg2rad(180.0)\n    Tensor(3.14159265)";
    rad2deg => ew::rad2deg, "Radians to degrees.\n\n    >>> fx.rad2deg(3.141592653589793)\n    Tensor(180.)";
    radians => ew::deg2rad, "Degrees to radians (as `deg2rad`).\n\n    >>> fx.radians(90.0)\n    Tensor(1.57079633)";
    degrees => ew::rad2deg, "Radians to degrees (as `rad2deg`).\n\n    >>> fx.degrees(1.0)\n    Tensor(57.29577951)";
    sinc => ew::sinc, "`sin(pi x) / (pi x)`, 1 at 0.\n\n    >>> fx.sinc(fx.asarray([0.0, 0.5]))\n    Tensor([1.        , 0.63661977])";
    real => ew::real, "The real part (real inputs: the array itself).\n\n    >>> fx.real(fx.ones(2))\n    Tensor([1., 1.])";
    imag => ew::imag, "The imaginary part (real inputs: zeros).\n\n    >>> fx.imag(fx.ones(2))\n    Tensor([0., 0.])";
    conj => ew::real, "The complex conjugate (real inputs: the array itself).\n\n    >>> fx.conj(fx.ones(2))\n    Tensor([1., 1.])";
    conjugate => ew::real, "The complex conjugate (real inputs: the array itself).\n\n    >>> fx.conjugate(fx.ones(2))\n    Tensor([1., 1.])";
}

/// 0 for negative `x`, 1 for positive, `h0` at zero.
///
///     >>> fx.heaviside(fx.asarray([-1.0, 0.0, 2.0]), 0.5)
///     Tensor([0. , 0.5, 1. ])
#[pyfunction]
pub fn heaviside(py: Python<'_>, x: &Bound<'_, PyAny>, h0: &Bound<'_, PyAny>) -> R {
    let (x, h0) = v2(x, h0)?;
    compute(py, x.size(), || ew::heaviside(&x, &h0))
}

/// The magnitude of `a` with the sign of `b`.
///
///     >>> fx.copysign(fx.asarray([1.0, 2.0]), -1.0)
///     Tensor([-1., -2.])
#[pyfunction]
pub fn copysign(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> R {
    let (a, b) = v2(a, b)?;
    compute(py, a.size().max(b.size()), || ew::copysign(&a, &b))
}

macro_rules! closeness {
    ($($name:ident => $f:path, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (a, b, rtol=1e-5, atol=1e-8, equal_nan=false))]
        pub fn $name(
            py: Python<'_>,
            a: &Bound<'_, PyAny>,
            b: &Bound<'_, PyAny>,
            rtol: f64,
            atol: f64,
            equal_nan: bool,
        ) -> R {
            let (a, b) = v2(a, b)?;
            compute(py, a.size().max(b.size()), || $f(&a, &b, rtol, atol, equal_nan))
        }
    )*};
}

closeness! {
    isclose => ew::isclose, "Whether `|a - b| <= atol + rtol * |b|` elementwise (NaNs equal only with `equal_nan`).\n\n    >>> fx.isclose(fx.asarray([1.0, 2.0]), 1.0)\n    Tensor([ True, False])";
    allclose => ew::allclose, "Whether every entry is `isclose` (a 0-d bool tensor).\n\n    >>> bool(fx.allclose(fx.ones(3), 1.0 + 1e-9))\n    True";
}

/// The lower triangle of the last two axes (entries with `col - row <= k`).
///
///     >>> fx.tril(fx.ones((3, 3)))
///     Tensor([[1., 0., 0.],
///             [1., 1., 0.],
///             [1., 1., 1.]])
#[pyfunction]
#[pyo3(signature = (x, k=0))]
pub fn tril(py: Python<'_>, x: &Bound<'_, PyAny>, k: i64) -> R {
    let x = v(x)?;
    compute(py, x.size(), || matrix::tril(&x, k))
}

/// The upper triangle of the last two axes (entries with `col - row >= k`).
///
///     >>> fx.triu(fx.ones((3, 3)), 1)
///     Tensor([[0., 1., 1.],
///             [0., 0., 1.],
///             [0., 0., 0.]])
#[pyfunction]
#[pyo3(signature = (x, k=0))]
pub fn triu(py: Python<'_>, x: &Bound<'_, PyAny>, k: i64) -> R {
    let x = v(x)?;
    compute(py, x.size(), || matrix::triu(&x, k))
}

/// A 1-d array on the `k`-th diagonal of a square matrix, or the `k`-th diagonal of a 2-d one.
///
///     >>> fx.diag(fx.asarray([1.0, 2.0]))
///     Tensor([[1., 0.],
///             [0., 2.]])
#[pyfunction]
#[pyo3(signature = (v, k=0))]
pub fn diag(py: Python<'_>, v: &Bound<'_, PyAny>, k: i64) -> R {
    let x = to_value(v, None)?;
    compute(py, x.size(), || matrix::diag(&x, k))
}

/// The flattened input on the `k`-th diagonal of a square matrix.
///
///     >>> fx.diagflat(fx.ones((2, 1)))
///     Tensor([[1., 0.],
///             [0., 1.]])
#[pyfunction]
#[pyo3(signature = (v, k=0))]
pub fn diagflat(py: Python<'_>, v: &Bound<'_, PyAny>, k: i64) -> R {
    let x = to_value(v, None)?;
    compute(py, x.size(), || matrix::diagflat(&x, k))
}

/// The Kronecker product.
///
///     >>> fx.kron(fx.eye(2), fx.ones((2, 2))).shape
///     (4, 4)
#[pyfunction]
pub fn kron(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> R {
    let (a, b) = v2(a, b)?;
    compute(py, a.size() * b.size(), || matrix::kron(&a, &b))
}

/// The cross product of 3-vectors (the z component for 2-vectors) along `axis`.
///
///     >>> fx.cross(fx.asarray([1.0, 0, 0]), fx.asarray([0.0, 1, 0]))
///     Tensor([0., 0., 1.])
#[pyfunction]
#[pyo3(signature = (a, b, axis=-1))]
pub fn cross(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>, axis: isize) -> R {
    let (a, b) = v2(a, b)?;
    compute(py, a.size().max(b.size()), || matrix::cross(&a, &b, axis))
}

fn atleast<'py>(
    py: Python<'py>,
    xs: &Bound<'py, PyTuple>,
    n: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let outs = xs
        .iter()
        .map(|x| {
            let x = v(&x)?;
            Ok(wrap(py, guard(|| arrange::atleast(&x, n))?)?
                .into_bound(py)
                .into_any())
        })
        .collect::<PyResult<Vec<_>>>()?;
    if outs.len() == 1 {
        Ok(outs.into_iter().next().expect("one output"))
    } else {
        Ok(PyTuple::new(py, outs)?.into_any())
    }
}

/// Each input with at least one dimension (one input: a tensor; several: a tuple).
///
///     >>> fx.atleast_1d(1.0).shape
///     (1,)
#[pyfunction]
#[pyo3(signature = (*arys))]
pub fn atleast_1d<'py>(py: Python<'py>, arys: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
    atleast(py, arys, 1)
}

/// Each input with at least two dimensions (`(k,)` becomes `(1, k)`).
///
///     >>> fx.atleast_2d(fx.ones(3)).shape
///     (1, 3)
#[pyfunction]
#[pyo3(signature = (*arys))]
pub fn atleast_2d<'py>(py: Python<'py>, arys: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
    atleast(py, arys, 2)
}

/// Each input with at least three dimensions (`(k,)` becomes `(1, k, 1)`).
///
///     >>> fx.atleast_3d(fx.ones(3)).shape
///     (1, 3, 1)
#[pyfunction]
#[pyo3(signature = (*arys))]
pub fn atleast_3d<'py>(py: Python<'py>, arys: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
    atleast(py, arys, 3)
}

macro_rules! stacker {
    ($($name:ident => $f:path, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[pyfunction]
        pub fn $name(py: Python<'_>, tup: &Bound<'_, PyAny>) -> R {
            let xs = values(tup)?;
            let n: usize = xs.iter().map(|x| x.size()).sum();
            compute(py, n, || $f(&xs))
        }
    )*};
}

stacker! {
    vstack => arrange::vstack, "Stack arrays row-wise (1-d arrays become rows).\n\n    >>> fx.vstack([fx.ones(2), fx.zeros(2)]).shape\n    (2, 2)";
    hstack => arrange::hstack, "Stack arrays column-wise (along axis 1; axis 0 for 1-d arrays).\n\n    >>> fx.hstack([fx.ones(2), fx.zeros(3)]).shape\n    (5,)";
    dstack => arrange::dstack, "Stack arrays depth-wise (along axis 2).\n\n    >>> fx.dstack([fx.ones((2, 2)), fx.ones((2, 2))]).shape\n    (2, 2, 2)";
    column_stack => arrange::column_stack, "1-d arrays as the columns of a 2-d array.\n\n    >>> fx.column_stack([fx.ones(3), fx.zeros(3)]).shape\n    (3, 2)";
}

macro_rules! splitter {
    ($($name:ident => $dir:expr, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[pyfunction]
        pub fn $name(py: Python<'_>, x: &Bound<'_, PyAny>, indices_or_sections: &Bound<'_, PyAny>) -> PyResult<Py<PyList>> {
            let (x, s) = (v(x)?, sections(indices_or_sections)?);
            parts(py, guard(|| arrange::split_direction(&x, &s, $dir))?)
        }
    )*};
}

splitter! {
    hsplit => SplitDirection::Horizontal, "Split along axis 1 (axis 0 for 1-d arrays).\n\n    >>> len(fx.hsplit(fx.ones((2, 4)), 2))\n    2";
    vsplit => SplitDirection::Vertical, "Split along axis 0 (arrays of 2 or more dimensions).\n\n    >>> len(fx.vsplit(fx.ones((4, 2)), 2))\n    2";
    dsplit => SplitDirection::Depth, "Split along axis 2 (arrays of 3 or more dimensions).\n\n    >>> len(fx.dsplit(fx.ones((1, 1, 4)), 4))\n    4";
}

/// Shift elements cyclically by `shift` along `axis` (the flattened array when None).
///
///     >>> fx.roll(fx.arange(4), 1)
///     Tensor([3, 0, 1, 2])
#[pyfunction]
#[pyo3(signature = (x, shift, axis=None))]
pub fn roll(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    shift: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
) -> R {
    let x = v(x)?;
    let shifts = ints(shift, "shift")?;
    let axes = to_axes(axis)?;
    compute(py, x.size(), || arrange::roll(&x, &shifts, axes.as_deref()))
}

/// Rotate by 90 degrees `k` times in the plane of `axes`.
///
///     >>> fx.rot90(fx.asarray([[1.0, 2.0], [3.0, 4.0]]))
///     Tensor([[2., 4.],
///             [1., 3.]])
#[pyfunction]
#[pyo3(signature = (x, k=1, axes=(0, 1)))]
pub fn rot90(py: Python<'_>, x: &Bound<'_, PyAny>, k: i64, axes: (isize, isize)) -> R {
    let x = v(x)?;
    compute(py, x.size(), || arrange::rot90(&x, k, axes))
}

/// Reverse the order along axis 0.
///
///     >>> fx.flipud(fx.arange(3))
///     Tensor([2, 1, 0])
#[pyfunction]
pub fn flipud(py: Python<'_>, x: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    if x.ndim() < 1 {
        return Err(PyValueError::new_err(
            "flipud needs an array of at least 1 dimension",
        ));
    }
    compute(py, x.size(), || {
        ferrax_core::ops::composite::flip(&x, Some(&[0]))
    })
}

/// Reverse the order along axis 1.
///
///     >>> fx.fliplr(fx.eye(2))
///     Tensor([[0., 1.],
///             [1., 0.]])
#[pyfunction]
pub fn fliplr(py: Python<'_>, x: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    if x.ndim() < 2 {
        return Err(PyValueError::new_err(
            "fliplr needs an array of at least 2 dimensions",
        ));
    }
    compute(py, x.size(), || {
        ferrax_core::ops::composite::flip(&x, Some(&[1]))
    })
}

/// `values` appended to `x` along `axis` (both flattened when None).
///
///     >>> fx.append(fx.ones(2), 0.0)
///     Tensor([1., 1., 0.])
#[pyfunction]
#[pyo3(signature = (arr, values, axis=None))]
pub fn append(
    py: Python<'_>,
    arr: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    axis: Option<isize>,
) -> R {
    let (x, w) = v2(arr, values)?;
    compute(py, x.size() + w.size(), || arrange::append(&x, &w, axis))
}

/// The flattened array (a view when the layout allows).
///
///     >>> fx.ravel(fx.ones((2, 3))).shape
///     (6,)
#[pyfunction]
pub fn ravel(py: Python<'_>, x: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    compute(py, x.size(), || {
        ferrax_core::ops::shape::reshape(&x, &[x.size()])
    })
}

/// The `n`-th difference along `axis`, with values joined before and after.
///
///     >>> fx.diff(fx.asarray([1.0, 4.0, 9.0]))
///     Tensor([3., 5.])
#[pyfunction]
#[pyo3(signature = (a, n=1, axis=-1, prepend=None, append=None))]
pub fn diff(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    n: i64,
    axis: isize,
    prepend: Option<&Bound<'_, PyAny>>,
    append: Option<&Bound<'_, PyAny>>,
) -> R {
    let x = v(a)?;
    let dt = Some(x.dtype());
    let pre = prepend
        .filter(|o| !o.is_none())
        .map(|o| to_value(o, dt))
        .transpose()?;
    let app = append
        .filter(|o| !o.is_none())
        .map(|o| to_value(o, dt))
        .transpose()?;
    compute(py, x.size(), || {
        series::diff(&x, n, axis, pre.as_ref(), app.as_ref())
    })
}

/// Differences of the flattened array, with values before and after.
///
///     >>> fx.ediff1d(fx.asarray([1.0, 2.0, 4.0]), to_end=0.0)
///     Tensor([1., 2., 0.])
#[pyfunction]
#[pyo3(signature = (ary, to_end=None, to_begin=None))]
pub fn ediff1d(
    py: Python<'_>,
    ary: &Bound<'_, PyAny>,
    to_end: Option<&Bound<'_, PyAny>>,
    to_begin: Option<&Bound<'_, PyAny>>,
) -> R {
    let x = v(ary)?;
    let dt = Some(x.dtype());
    let end = to_end
        .filter(|o| !o.is_none())
        .map(|o| to_value(o, dt))
        .transpose()?;
    let begin = to_begin
        .filter(|o| !o.is_none())
        .map(|o| to_value(o, dt))
        .transpose()?;
    compute(py, x.size(), || {
        series::ediff1d(&x, end.as_ref(), begin.as_ref())
    })
}

/// The integral of `y` along `axis` by the trapezoidal rule (sample points `x`, or spacing `dx`).
///
///     >>> fx.trapezoid(fx.asarray([0.0, 1.0, 2.0]))
///     Tensor(2.)
#[pyfunction]
#[pyo3(signature = (y, x=None, dx=1.0, axis=-1))]
pub fn trapezoid(
    py: Python<'_>,
    y: &Bound<'_, PyAny>,
    x: Option<&Bound<'_, PyAny>>,
    dx: f64,
    axis: isize,
) -> R {
    let y = v(y)?;
    let x = opt(x)?;
    compute(py, y.size(), || series::trapezoid(&y, x.as_ref(), dx, axis))
}

/// The polynomial with coefficients `p` (highest power first) at `x`.
///
///     >>> fx.polyval(fx.asarray([1.0, 0.0, -1.0]), 3.0)
///     Tensor(8.)
#[pyfunction]
pub fn polyval(py: Python<'_>, p: &Bound<'_, PyAny>, x: &Bound<'_, PyAny>) -> R {
    let (p, x) = v2(p, x)?;
    compute(py, x.size() * p.size(), || series::polyval(&p, &x))
}

macro_rules! nan_reduction {
    ($($name:ident => $f:path, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[pyfunction]
        #[pyo3(signature = (x, axis=None, keepdims=false))]
        pub fn $name(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> R {
            let x = v(x)?;
            let ax = to_axes(axis)?;
            compute(py, x.size(), || $f(&x, ax.as_deref(), keepdims))
        }
    )*};
}

nan_reduction! {
    nansum => nan::nansum, "The sum, treating NaN as zero.\n\n    >>> fx.nansum(fx.asarray([1.0, float('nan')]))\n    Tensor(1.)";
    nanmean => nan::nanmean, "The mean of the non-NaN entries.\n\n    >>> fx.nanmean(fx.asarray([1.0, float('nan'), 3.0]))\n    Tensor(2.)";
    nanmax => nan::nanmax, "The maximum of the non-NaN entries.\n\n    >>> fx.nanmax(fx.asarray([1.0, float('nan')]))\n    Tensor(1.)";
    nanmin => nan::nanmin, "The minimum of the non-NaN entries.\n\n    >>> fx.nanmin(fx.asarray([1.0, float('nan')]))\n    Tensor(1.)";
}

/// NaN, +inf and -inf replaced by finite numbers (0 and the dtype's extremes by default).
///
///     >>> fx.nan_to_num(fx.asarray([float('nan'), 1.0]))
///     Tensor([0., 1.])
#[pyfunction]
#[pyo3(signature = (x, copy=true, nan=0.0, posinf=None, neginf=None))]
pub fn nan_to_num(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    copy: bool,
    nan: f64,
    posinf: Option<f64>,
    neginf: Option<f64>,
) -> R {
    let _ = copy; // tensors are immutable: the result is always new
    let x = v(x)?;
    compute(py, x.size(), || nan::nan_to_num(&x, nan, posinf, neginf))
}

/// The covariance matrix of the rows of `m` (columns when `rowvar=False`).
///
///     >>> fx.cov(fx.asarray([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
///     Tensor([[ 1., -1.],
///             [-1.,  1.]])
#[pyfunction]
#[pyo3(signature = (m, y=None, rowvar=true, bias=false, ddof=None))]
pub fn cov(
    py: Python<'_>,
    m: &Bound<'_, PyAny>,
    y: Option<&Bound<'_, PyAny>>,
    rowvar: bool,
    bias: bool,
    ddof: Option<i64>,
) -> R {
    let m = v(m)?;
    let y = opt(y)?;
    compute(py, m.size(), || {
        stats::cov(&m, y.as_ref(), rowvar, bias, ddof)
    })
}

/// Pearson correlation coefficients of the rows of `x` (columns when `rowvar=False`).
///
///     >>> fx.corrcoef(fx.asarray([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
///     Tensor([[ 1., -1.],
///             [-1.,  1.]])
#[pyfunction]
#[pyo3(signature = (x, y=None, rowvar=true))]
pub fn corrcoef(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: Option<&Bound<'_, PyAny>>,
    rowvar: bool,
) -> R {
    let x = v(x)?;
    let y = opt(y)?;
    compute(py, x.size(), || stats::corrcoef(&x, y.as_ref(), rowvar))
}

/// Coordinate arrays from coordinate vectors (`indexing='xy'` or `'ij'`).
///
///     >>> [g.shape for g in fx.meshgrid(fx.ones(3), fx.ones(2))]
///     [(2, 3), (2, 3)]
#[pyfunction]
#[pyo3(signature = (*xi, indexing="xy"))]
pub fn meshgrid(py: Python<'_>, xi: &Bound<'_, PyTuple>, indexing: &str) -> PyResult<Py<PyList>> {
    let xy = match indexing {
        "xy" => true,
        "ij" => false,
        other => {
            return Err(PyValueError::new_err(format!(
                "meshgrid: indexing must be 'xy' or 'ij', got {other:?}"
            )))
        }
    };
    let xs = xi.iter().map(|x| v(&x)).collect::<PyResult<Vec<_>>>()?;
    parts(py, guard(|| stats::meshgrid(&xs, xy))?)
}

fn axis_opt(axis: Option<&Bound<'_, PyAny>>) -> PyResult<Option<isize>> {
    axis.filter(|o| !o.is_none())
        .map(|o| o.extract::<isize>())
        .transpose()
}

/// `a` sorted along `axis` (`None`: flattened), NaN last; differentiable.
///
///     >>> fx.sort(fx.asarray([3.0, 1.0, 2.0]))
///     Tensor([1., 2., 3.])
#[pyfunction]
#[pyo3(signature = (a, axis=Some(-1), kind=None, order=None, *, stable=None, descending=false))]
pub fn sort(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    axis: Option<isize>,
    kind: Option<&Bound<'_, PyAny>>,
    order: Option<&Bound<'_, PyAny>>,
    stable: Option<bool>,
    descending: bool,
) -> R {
    let _ = (kind, stable); // always a stable sort
    if order.is_some_and(|o| !o.is_none()) {
        return Err(PyValueError::new_err(
            "sort: order= (structured arrays) is not supported",
        ));
    }
    let x = v(a)?;
    compute(py, x.size(), || sorting::sort(&x, axis, descending))
}

/// Indices that sort `a` along `axis` (stable, NaN last).
///
///     >>> fx.argsort(fx.asarray([3.0, 1.0, 2.0]))
///     Tensor([1, 2, 0])
#[pyfunction]
#[pyo3(signature = (a, axis=Some(-1), kind=None, order=None, *, stable=None, descending=false))]
pub fn argsort(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    axis: Option<isize>,
    kind: Option<&Bound<'_, PyAny>>,
    order: Option<&Bound<'_, PyAny>>,
    stable: Option<bool>,
    descending: bool,
) -> R {
    let _ = (kind, stable);
    if order.is_some_and(|o| !o.is_none()) {
        return Err(PyValueError::new_err(
            "argsort: order= (structured arrays) is not supported",
        ));
    }
    let x = v(a)?;
    compute(py, x.size(), || sorting::argsort(&x, axis, descending))
}

/// Insertion points of `v` in the sorted 1-d `a` (`side='left'` or `'right'`).
///
///     >>> fx.searchsorted(fx.asarray([1.0, 2.0, 3.0]), 2.5)
///     Tensor(2)
#[pyfunction]
#[pyo3(signature = (a, v, side="left", sorter=None))]
pub fn searchsorted(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    v: &Bound<'_, PyAny>,
    side: &str,
    sorter: Option<&Bound<'_, PyAny>>,
) -> R {
    let right = match side {
        "left" => false,
        "right" => true,
        _ => {
            return Err(PyValueError::new_err(format!(
                "searchsorted: side must be 'left' or 'right', got {side:?}"
            )))
        }
    };
    let (a, x) = v2(a, v)?;
    let sorter = opt(sorter)?;
    compute(py, x.size(), || {
        let a = match &sorter {
            Some(s) => ferrax_core::ops::composite::take(&a, s, Some(0))?,
            None => a.clone(),
        };
        sorting::searchsorted(&a, &x, right)
    })
}

fn quantile_method(method: &str) -> PyResult<QuantileMethod> {
    Ok(match method {
        "linear" => QuantileMethod::Linear,
        "lower" => QuantileMethod::Lower,
        "higher" => QuantileMethod::Higher,
        "nearest" => QuantileMethod::Nearest,
        "midpoint" => QuantileMethod::Midpoint,
        _ => {
            return Err(PyValueError::new_err(format!(
                "quantile: method {method:?} is not supported (linear, lower, higher, nearest, midpoint)"
            )))
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn quantile_of(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    q: &Bound<'_, PyAny>,
    scale: f64,
    axis: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
    method: &str,
    keepdims: bool,
    weights: Option<&Bound<'_, PyAny>>,
) -> R {
    if out.is_some_and(|o| !o.is_none()) {
        return Err(PyTypeError::new_err(
            "out= is not supported: ferrax tensors are immutable",
        ));
    }
    if weights.is_some_and(|o| !o.is_none()) {
        return Err(PyValueError::new_err("weights= is not supported"));
    }
    let m = quantile_method(method)?;
    let x = v(a)?;
    let q = to_value(q, Some(ferrax_core::DType::F64))?;
    let axes = to_axes(axis)?;
    compute(py, x.size(), || {
        let q = if scale == 1.0 {
            q.clone()
        } else {
            ferrax_core::ops::binary::div(&q, &ferrax_core::ops::scalar_like(&q, scale))?
        };
        sorting::quantile(&x, &q, axes.as_deref(), m, keepdims)
    })
}

/// The `q`-th quantiles (`q` in [0, 1]) along `axis`, NumPy's methods.
///
///     >>> fx.quantile(fx.asarray([1.0, 2.0, 3.0, 4.0]), 0.5)
///     Tensor(2.5)
#[pyfunction]
#[pyo3(signature = (a, q, axis=None, out=None, overwrite_input=false, method="linear", keepdims=false, *, weights=None))]
#[allow(clippy::too_many_arguments)]
pub fn quantile(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    q: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
    overwrite_input: bool,
    method: &str,
    keepdims: bool,
    weights: Option<&Bound<'_, PyAny>>,
) -> R {
    let _ = overwrite_input;
    quantile_of(py, a, q, 1.0, axis, out, method, keepdims, weights)
}

/// The `q`-th percentiles (`q` in [0, 100]) along `axis`.
///
///     >>> fx.percentile(fx.asarray([1.0, 2.0, 3.0, 4.0]), 50)
///     Tensor(2.5)
#[pyfunction]
#[pyo3(signature = (a, q, axis=None, out=None, overwrite_input=false, method="linear", keepdims=false, *, weights=None))]
#[allow(clippy::too_many_arguments)]
pub fn percentile(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    q: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
    overwrite_input: bool,
    method: &str,
    keepdims: bool,
    weights: Option<&Bound<'_, PyAny>>,
) -> R {
    let _ = overwrite_input;
    quantile_of(py, a, q, 100.0, axis, out, method, keepdims, weights)
}

/// The median along `axis` (the mean of the two middle values for even counts).
///
///     >>> fx.median(fx.asarray([3.0, 1.0, 4.0, 2.0]))
///     Tensor(2.5)
#[pyfunction]
#[pyo3(signature = (a, axis=None, out=None, overwrite_input=false, keepdims=false))]
pub fn median(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
    overwrite_input: bool,
    keepdims: bool,
) -> R {
    let _ = overwrite_input;
    let half = pyo3::types::PyFloat::new(py, 0.5).into_any();
    quantile_of(py, a, &half, 1.0, axis, out, "linear", keepdims, None)
}

/// The cumulative product along `axis` (`None`: flattened).
///
///     >>> fx.cumprod(fx.asarray([1.0, 2.0, 3.0]))
///     Tensor([1., 2., 6.])
#[pyfunction]
#[pyo3(signature = (a, axis=None, dtype=None, out=None))]
pub fn cumprod(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
) -> R {
    if out.is_some_and(|o| !o.is_none()) {
        return Err(PyTypeError::new_err(
            "out= is not supported: ferrax tensors are immutable",
        ));
    }
    let x = v(a)?;
    let ax = axis_opt(axis)?;
    let dt = dtype
        .filter(|d| !d.is_none())
        .map(|d| crate::convert::to_dtype(d))
        .transpose()?;
    compute(py, x.size(), || {
        let x = match dt {
            Some(d) => ferrax_core::ops::shape::convert(&x, d)?,
            None => x.clone(),
        };
        series::cumprod(&x, ax)
    })
}

/// The gradient of sampled values by central differences inside and
/// one-sided ones at the ends; spacings are scalars or coordinate arrays.
///
///     >>> fx.gradient(fx.asarray([1.0, 4.0, 9.0, 16.0]))
///     Tensor([3., 4., 6., 7.])
#[pyfunction]
#[pyo3(signature = (f, *varargs, axis=None, edge_order=1))]
pub fn gradient(
    py: Python<'_>,
    f: &Bound<'_, PyAny>,
    varargs: &Bound<'_, PyTuple>,
    axis: Option<&Bound<'_, PyAny>>,
    edge_order: i64,
) -> PyResult<Py<PyAny>> {
    let x = v(f)?;
    let nd = x.ndim();
    let axes: Vec<usize> = match to_axes(axis)? {
        None => (0..nd).collect(),
        Some(a) => a
            .iter()
            .map(|&i| ferrax_core::tensor::shape::normalize_axis(i, nd))
            .collect::<ferrax_core::Result<_>>()
            .map_err(crate::errors::to_pyerr)?,
    };
    let spacing_of = |o: &Bound<'_, PyAny>| -> PyResult<Spacing> {
        if let Ok(h) = o.extract::<f64>() {
            return Ok(Spacing::Step(h));
        }
        let c = v(o)?;
        if c.ndim() == 0 {
            return Ok(Spacing::Step(
                c.concrete()
                    .and_then(|t| t.item_f64())
                    .map_err(crate::errors::to_pyerr)?,
            ));
        }
        Ok(Spacing::Coordinates(c))
    };
    let spacing: Vec<Spacing> = match varargs.len() {
        0 => axes.iter().map(|_| Spacing::Step(1.0)).collect(),
        1 => {
            let s = varargs.get_item(0)?;
            axes.iter()
                .map(|_| spacing_of(&s))
                .collect::<PyResult<_>>()?
        }
        k if k == axes.len() => varargs
            .iter()
            .map(|s| spacing_of(&s))
            .collect::<PyResult<_>>()?,
        k => {
            return Err(PyTypeError::new_err(format!(
                "gradient: invalid number of spacing arguments ({k}) for {} axes",
                axes.len()
            )))
        }
    };
    let parts = guard(|| series::gradient(&x, &spacing, &axes, edge_order))?;
    if parts.len() == 1 {
        Ok(wrap(py, parts.into_iter().next().expect("one part"))?.into_any())
    } else {
        let items = parts
            .into_iter()
            .map(|p| wrap(py, p))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyTuple::new(py, items)?.into_any().unbind())
    }
}

fn convolve_mode(mode: &str) -> PyResult<ConvolveMode> {
    match mode {
        "full" => Ok(ConvolveMode::Full),
        "same" => Ok(ConvolveMode::Same),
        "valid" => Ok(ConvolveMode::Valid),
        _ => Err(PyValueError::new_err(format!(
            "mode must be 'full', 'same' or 'valid', got {mode:?}"
        ))),
    }
}

/// The discrete linear convolution of two 1-d sequences.
///
///     >>> fx.convolve(fx.asarray([1.0, 2.0, 3.0]), fx.asarray([0.0, 1.0, 0.5]))
///     Tensor([0. , 1. , 2.5, 4. , 1.5])
#[pyfunction]
#[pyo3(signature = (a, v, mode="full"))]
pub fn convolve(py: Python<'_>, a: &Bound<'_, PyAny>, v: &Bound<'_, PyAny>, mode: &str) -> R {
    let m = convolve_mode(mode)?;
    let (a, b) = v2(a, v)?;
    compute(py, a.size() * b.size(), || series::convolve(&a, &b, m))
}

/// The cross-correlation of two 1-d sequences (NumPy's `correlate`).
///
///     >>> fx.correlate(fx.asarray([1.0, 2.0, 3.0]), fx.asarray([0.0, 1.0, 0.5]))
///     Tensor([3.5])
#[pyfunction]
#[pyo3(signature = (a, v, mode="valid"))]
pub fn correlate(py: Python<'_>, a: &Bound<'_, PyAny>, v: &Bound<'_, PyAny>, mode: &str) -> R {
    let m = convolve_mode(mode)?;
    let (a, b) = v2(a, v)?;
    compute(py, a.size() * b.size(), || series::correlate(&a, &b, m))
}

/// Piecewise-linear interpolation of `(xp, fp)` at `x` (`xp` increasing).
///
///     >>> fx.interp(1.5, fx.asarray([1.0, 2.0]), fx.asarray([10.0, 20.0]))
///     Tensor(15.)
#[pyfunction]
#[pyo3(signature = (x, xp, fp, left=None, right=None, period=None))]
#[allow(clippy::too_many_arguments)]
pub fn interp(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    xp: &Bound<'_, PyAny>,
    fp: &Bound<'_, PyAny>,
    left: Option<&Bound<'_, PyAny>>,
    right: Option<&Bound<'_, PyAny>>,
    period: Option<&Bound<'_, PyAny>>,
) -> R {
    if period.is_some_and(|o| !o.is_none()) {
        return Err(PyValueError::new_err("interp: period= is not supported"));
    }
    let (x, xp, fp) = (v(x)?, v(xp)?, v(fp)?);
    let (l, r) = (opt(left)?, opt(right)?);
    compute(py, x.size(), || {
        series::interp(&x, &xp, &fp, l.as_ref(), r.as_ref())
    })
}

/// The entries of `choicelist` where the first true condition of `condlist`
/// holds, `default` elsewhere.
///
///     >>> fx.select([fx.asarray([True, False])], [fx.asarray([1.0, 2.0])], 0.0)
///     Tensor([1., 0.])
#[pyfunction]
#[pyo3(signature = (condlist, choicelist, default=None))]
pub fn select(
    py: Python<'_>,
    condlist: &Bound<'_, PyAny>,
    choicelist: &Bound<'_, PyAny>,
    default: Option<&Bound<'_, PyAny>>,
) -> R {
    let conds = values(condlist)?;
    let choices = values(choicelist)?;
    let dt = choices.first().map(Value::dtype);
    let default = match default.filter(|d| !d.is_none()) {
        Some(d) => to_value(d, dt)?,
        None => to_value(&0i64.into_pyobject(py)?.into_any(), dt)?,
    };
    let size = choices.iter().map(Value::size).max().unwrap_or(1);
    compute(py, size, || ew::select(&conds, &choices, &default))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(sort, m)?,
        wrap_pyfunction!(argsort, m)?,
        wrap_pyfunction!(searchsorted, m)?,
        wrap_pyfunction!(quantile, m)?,
        wrap_pyfunction!(percentile, m)?,
        wrap_pyfunction!(median, m)?,
        wrap_pyfunction!(cumprod, m)?,
        wrap_pyfunction!(gradient, m)?,
        wrap_pyfunction!(convolve, m)?,
        wrap_pyfunction!(correlate, m)?,
        wrap_pyfunction!(interp, m)?,
        wrap_pyfunction!(select, m)?,
        wrap_pyfunction!(deg2rad, m)?,
        wrap_pyfunction!(rad2deg, m)?,
        wrap_pyfunction!(radians, m)?,
        wrap_pyfunction!(degrees, m)?,
        wrap_pyfunction!(sinc, m)?,
        wrap_pyfunction!(real, m)?,
        wrap_pyfunction!(imag, m)?,
        wrap_pyfunction!(conj, m)?,
        wrap_pyfunction!(conjugate, m)?,
        wrap_pyfunction!(heaviside, m)?,
        wrap_pyfunction!(copysign, m)?,
        wrap_pyfunction!(isclose, m)?,
        wrap_pyfunction!(allclose, m)?,
        wrap_pyfunction!(tril, m)?,
        wrap_pyfunction!(triu, m)?,
        wrap_pyfunction!(diag, m)?,
        wrap_pyfunction!(diagflat, m)?,
        wrap_pyfunction!(kron, m)?,
        wrap_pyfunction!(cross, m)?,
        wrap_pyfunction!(atleast_1d, m)?,
        wrap_pyfunction!(atleast_2d, m)?,
        wrap_pyfunction!(atleast_3d, m)?,
        wrap_pyfunction!(vstack, m)?,
        wrap_pyfunction!(hstack, m)?,
        wrap_pyfunction!(dstack, m)?,
        wrap_pyfunction!(column_stack, m)?,
        wrap_pyfunction!(hsplit, m)?,
        wrap_pyfunction!(vsplit, m)?,
        wrap_pyfunction!(dsplit, m)?,
        wrap_pyfunction!(roll, m)?,
        wrap_pyfunction!(rot90, m)?,
        wrap_pyfunction!(flipud, m)?,
        wrap_pyfunction!(fliplr, m)?,
        wrap_pyfunction!(append, m)?,
        wrap_pyfunction!(ravel, m)?,
        wrap_pyfunction!(diff, m)?,
        wrap_pyfunction!(ediff1d, m)?,
        wrap_pyfunction!(trapezoid, m)?,
        wrap_pyfunction!(polyval, m)?,
        wrap_pyfunction!(nansum, m)?,
        wrap_pyfunction!(nanmean, m)?,
        wrap_pyfunction!(nanmax, m)?,
        wrap_pyfunction!(nanmin, m)?,
        wrap_pyfunction!(nan_to_num, m)?,
        wrap_pyfunction!(cov, m)?,
        wrap_pyfunction!(corrcoef, m)?,
        wrap_pyfunction!(meshgrid, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}

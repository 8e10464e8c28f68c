//! `fx.linalg` (NumPy's `numpy.linalg`) and `fx.scipy.linalg`: argument
//! parsing only, the numerics are the core's (`ops::numpy_linalg`,
//! `ops::scipy_linalg`). Registered as private `_linalg_*` / `_scipy_linalg_*`
//! names that the Python namespaces re-export.

use ferrax_core::ops::numpy_linalg::{self as nl, NormOrd, QrMode};
use ferrax_core::ops::scipy_linalg as sl;
use ferrax_core::Value;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::composites::norm_ord;
use crate::convert::{to_axes, to_value};
use crate::errors::guard;
use crate::interrupt::detached;
use crate::tensor::{wrap, PyTensor};

type R = PyResult<Py<PyTensor>>;

/// Elements above which a factorisation runs with the GIL released (its work
/// grows as the cube of the matrix size).
const GIL_FREE_ELEMENTS: usize = 4096;

fn v(x: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_value(x, None)
}

fn run<T: Send>(
    py: Python<'_>,
    size: usize,
    f: impl FnOnce() -> ferrax_core::Result<T> + Send,
) -> PyResult<T> {
    if size >= GIL_FREE_ELEMENTS {
        detached(py, f)
    } else {
        guard(f)
    }
}

fn one(py: Python<'_>, size: usize, f: impl FnOnce() -> ferrax_core::Result<Value> + Send) -> R {
    wrap(py, run(py, size, f)?)
}

fn tuple(py: Python<'_>, vs: Vec<Value>) -> PyResult<Py<PyTuple>> {
    let items = vs
        .into_iter()
        .map(|v| wrap(py, v))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(PyTuple::new(py, items)?.unbind())
}

/// `x` with `a @ x = b`; `b` is a vector when 1-d, else a stack of matrices.
/// A singular `a` raises `numpy.linalg.LinAlgError`.
///
///     >>> fx.linalg.solve(fx.eye(2) * 2.0, fx.asarray([2.0, 4.0]))
///     Tensor([1., 2.])
#[pyfunction]
pub fn solve(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> R {
    let (a, b) = (v(a)?, v(b)?);
    one(py, a.size(), || nl::solve(&a, &b))
}

/// The inverse of each square matrix (singular: `LinAlgError`).
///
///     >>> fx.linalg.inv(fx.eye(2) * 4.0)   # 0.25 * I
///     Tensor([[0.25, 0.  ],
///             [0.  , 0.25]])
#[pyfunction]
pub fn inv(py: Python<'_>, a: &Bound<'_, PyAny>) -> R {
    let a = v(a)?;
    one(py, a.size(), || nl::inv(&a))
}

/// The determinant of each square matrix.
///
///     >>> fx.linalg.det(fx.asarray([[1.0, 2.0], [3.0, 4.0]]))
///     Tensor(-2.)
#[pyfunction]
pub fn det(py: Python<'_>, a: &Bound<'_, PyAny>) -> R {
    let a = v(a)?;
    one(py, a.size(), || nl::det(&a))
}

/// `(sign, logabsdet)` of each square matrix; a singular one gives `(0, -inf)`.
///
///     >>> sign, logdet = fx.linalg.slogdet(fx.eye(3) * 2.0)   # (1, 3 log 2)
#[pyfunction]
pub fn slogdet(py: Python<'_>, a: &Bound<'_, PyAny>) -> PyResult<Py<PyTuple>> {
    let a = v(a)?;
    let (s, l) = run(py, a.size(), || nl::slogdet(&a))?;
    tuple(py, vec![s, l])
}

/// The Cholesky factor of symmetric positive-definite matrices: lower `L`
/// with `a = L @ L.T`, or upper `L.T` with `upper=True`. Reads the symmetric
/// part of `a`; a matrix that is not positive definite raises `LinAlgError`.
///
///     >>> fx.linalg.cholesky(fx.asarray([[4.0, 2.0], [2.0, 2.0]]))
///     Tensor([[2., 0.],
///             [1., 1.]])
#[pyfunction]
#[pyo3(signature = (a, /, *, upper=false))]
pub fn cholesky(py: Python<'_>, a: &Bound<'_, PyAny>, upper: bool) -> R {
    let a = v(a)?;
    one(py, a.size(), || nl::cholesky(&a, upper))
}

/// Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices:
/// `(w, v)`. Reads the symmetric part of `a` (`UPLO` is accepted for NumPy
/// compatibility).
///
///     >>> w, v = fx.linalg.eigh(fx.asarray([[2.0, 1.0], [1.0, 2.0]]))   # w = [1, 3]
#[pyfunction]
#[pyo3(signature = (a, UPLO="L"))]
#[allow(non_snake_case)]
pub fn eigh(py: Python<'_>, a: &Bound<'_, PyAny>, UPLO: &str) -> PyResult<Py<PyTuple>> {
    let a = v(a)?;
    let (w, vecs) = run(py, a.size(), || nl::eigh(&a, UPLO))?;
    tuple(py, vec![w, vecs])
}

/// Eigenvalues (ascending) of symmetric matrices.
///
///     >>> fx.linalg.eigvalsh(fx.asarray([[2.0, 1.0], [1.0, 2.0]]))
///     Tensor([1., 3.])
#[pyfunction]
#[pyo3(signature = (a, UPLO="L"))]
#[allow(non_snake_case)]
pub fn eigvalsh(py: Python<'_>, a: &Bound<'_, PyAny>, UPLO: &str) -> R {
    let a = v(a)?;
    one(py, a.size(), || nl::eigvalsh(&a, UPLO))
}

/// Singular value decomposition `a = U @ diag(s) @ Vh`: `(U, s, Vh)`, or `s`
/// alone with `compute_uv=False`. Its derivative needs `full_matrices=False`
/// unless `a` is square.
///
///     >>> u, s, vh = fx.linalg.svd(fx.eye(2) * 3.0)   # s = [3, 3]
#[pyfunction]
#[pyo3(signature = (a, full_matrices=true, compute_uv=true, hermitian=false))]
pub fn svd(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    full_matrices: bool,
    compute_uv: bool,
    hermitian: bool,
) -> PyResult<Py<PyAny>> {
    let _ = hermitian; // the general SVD is also right for symmetric input
    let a = v(a)?;
    let parts = run(py, a.size(), || nl::svd(&a, full_matrices, compute_uv))?;
    if compute_uv {
        Ok(tuple(py, parts)?.into_any())
    } else {
        let s = parts.into_iter().next().expect("svd returns s");
        Ok(wrap(py, s)?.into_any())
    }
}

/// Singular values (descending).
///
///     >>> fx.linalg.svdvals(fx.asarray([[3.0, 0.0], [0.0, 4.0]]))
///     Tensor([4., 3.])
#[pyfunction]
pub fn svdvals(py: Python<'_>, x: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    one(py, x.size(), || nl::svdvals(&x))
}

/// QR decomposition: `(Q, R)` (`mode='reduced'` or `'complete'`), or `R`
/// (`mode='r'`).
///
///     >>> q, r = fx.linalg.qr(fx.asarray([[3.0, 1.0], [4.0, 2.0]]))
#[pyfunction]
#[pyo3(signature = (a, mode="reduced"))]
pub fn qr(py: Python<'_>, a: &Bound<'_, PyAny>, mode: &str) -> PyResult<Py<PyAny>> {
    let m = match mode {
        "reduced" => QrMode::Reduced,
        "complete" => QrMode::Complete,
        "r" => QrMode::R,
        _ => {
            return Err(PyValueError::new_err(format!(
                "qr: unrecognised mode {mode:?} (ferrax offers 'reduced', 'complete' and 'r')"
            )))
        }
    };
    let a = v(a)?;
    let parts = run(py, a.size(), || nl::qr(&a, m))?;
    if m == QrMode::R {
        let r = parts.into_iter().next().expect("qr returns R");
        Ok(wrap(py, r)?.into_any())
    } else {
        Ok(tuple(py, parts)?.into_any())
    }
}

/// The Moore-Penrose pseudo-inverse; singular values at or below
/// `rcond * max(s)` count as zero (`rtol=None`: `max(m, n) * eps`).
///
///     >>> fx.linalg.pinv(fx.asarray([[1.0, 0.0], [0.0, 0.0]]))
///     Tensor([[1., 0.],
///             [0., 0.]])
#[pyfunction]
#[pyo3(signature = (a, rcond=None, hermitian=false, *, rtol=None))]
pub fn pinv(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    rcond: Option<f64>,
    hermitian: bool,
    rtol: Option<&Bound<'_, PyAny>>,
) -> R {
    let _ = hermitian;
    let a = v(a)?;
    let (m, n) = nl::matrix_dims(&a, "pinv").map_err(crate::errors::to_pyerr)?;
    let eps = if a.dtype() == ferrax_core::DType::F32 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    let rcond = match (rcond, rtol) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err(
                "`rtol` and `rcond` can't be both set.",
            ))
        }
        (Some(r), None) => r,
        (None, None) => 1e-15,
        (None, Some(r)) if r.is_none() => m.max(n) as f64 * eps,
        (None, Some(r)) => r.extract()?,
    };
    one(py, a.size(), || nl::pinv(&a, rcond))
}

/// Least squares: `(x, residuals, rank, s)` minimising `|b - a @ x|` (2-d `a`).
///
///     >>> x, res, rank, s = fx.linalg.lstsq(fx.eye(2), fx.asarray([1.0, 2.0]))
#[pyfunction]
#[pyo3(signature = (a, b, rcond=None))]
pub fn lstsq(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    rcond: Option<f64>,
) -> PyResult<Py<PyTuple>> {
    let (a, b) = (v(a)?, v(b)?);
    let r = run(py, a.size(), || nl::lstsq(&a, &b, rcond))?;
    tuple(py, r.into())
}

/// `a` raised to the integer power `n` (negative: of the inverse).
///
///     >>> fx.linalg.matrix_power(fx.asarray([[1.0, 1.0], [0.0, 1.0]]), 3)
///     Tensor([[1., 3.],
///             [0., 1.]])
#[pyfunction]
pub fn matrix_power(py: Python<'_>, a: &Bound<'_, PyAny>, n: &Bound<'_, PyAny>) -> R {
    let n: i64 = n
        .extract()
        .map_err(|_| PyTypeError::new_err("matrix_power: exponent must be an integer"))?;
    let a = v(a)?;
    one(py, a.size(), || nl::matrix_power(&a, n))
}

/// The numerical rank (count of singular values above the tolerance); no derivative.
///
///     >>> fx.linalg.matrix_rank(fx.ones((3, 3)))
///     Tensor(1)
#[pyfunction]
#[pyo3(signature = (A, tol=None, hermitian=false, *, rtol=None))]
#[allow(non_snake_case)]
pub fn matrix_rank(
    py: Python<'_>,
    A: &Bound<'_, PyAny>,
    tol: Option<f64>,
    hermitian: bool,
    rtol: Option<f64>,
) -> R {
    let _ = hermitian;
    if tol.is_some() && rtol.is_some() {
        return Err(PyValueError::new_err("`tol` and `rtol` can't be both set."));
    }
    let a = v(A)?;
    one(py, a.size(), || nl::matrix_rank(&a, tol, rtol))
}

/// Vector and matrix norms, every NumPy `ord`: vectors `None`/2, any `p`,
/// `±inf`, 0; matrices `'fro'`, `'nuc'`, `±1`, `±2`, `±inf`.
///
///     >>> fx.linalg.norm(fx.asarray([3.0, 4.0]))
///     Tensor(5.)
#[pyfunction]
#[pyo3(signature = (x, ord=None, axis=None, keepdims=false))]
pub fn norm(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    ord: Option<&Bound<'_, PyAny>>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
) -> R {
    let x = v(x)?;
    let ord = norm_ord(ord)?;
    let axes = to_axes(axis)?;
    one(py, x.size(), || {
        nl::norm(&x, ord, axes.as_deref(), keepdims)
    })
}

/// Vector norms over `axis` (all axes when `None`).
///
///     >>> fx.linalg.vector_norm(fx.ones((2, 2)))
///     Tensor(2.)
#[pyfunction]
#[pyo3(signature = (x, /, *, axis=None, keepdims=false, ord=None))]
pub fn vector_norm(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    ord: Option<&Bound<'_, PyAny>>,
) -> R {
    let x = v(x)?;
    let ord = match norm_ord(ord)? {
        NormOrd::Default => NormOrd::P(2.0),
        o => o,
    };
    let axes = to_axes(axis)?;
    one(py, x.size(), || {
        nl::vector_norm(&x, ord, axes.as_deref(), keepdims)
    })
}

/// Matrix norms over the last two axes (`ord='fro'` by default).
///
///     >>> fx.linalg.matrix_norm(fx.eye(2), ord=2)
///     Tensor(1.)
#[pyfunction]
#[pyo3(signature = (x, /, *, keepdims=false, ord=None))]
pub fn matrix_norm(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    keepdims: bool,
    ord: Option<&Bound<'_, PyAny>>,
) -> R {
    let x = v(x)?;
    let ord = norm_ord(ord)?;
    one(py, x.size(), || nl::matrix_norm(&x, ord, keepdims))
}

/// The condition number in the norm `p` (`None`: the 2-norm, from singular values).
///
///     >>> fx.linalg.cond(fx.asarray([[1.0, 0.0], [0.0, 4.0]]))
///     Tensor(4.)
#[pyfunction]
#[pyo3(signature = (x, p=None))]
pub fn cond(py: Python<'_>, x: &Bound<'_, PyAny>, p: Option<&Bound<'_, PyAny>>) -> R {
    let x = v(x)?;
    let p = match p.filter(|o| !o.is_none()) {
        None => None,
        Some(o) => Some(norm_ord(Some(o))?),
    };
    one(py, x.size(), || nl::cond(&x, p))
}

/// The product of a chain of matrices, in the cheapest order.
///
///     >>> fx.linalg.multi_dot([fx.ones((2, 3)), fx.ones((3, 4)), fx.ones(4)])
///     Tensor([12., 12.])
#[pyfunction]
pub fn multi_dot(py: Python<'_>, arrays: &Bound<'_, PyAny>) -> R {
    let xs: Vec<Value> = arrays
        .try_iter()?
        .map(|x| v(&x?))
        .collect::<PyResult<_>>()?;
    let size = xs.iter().map(Value::size).max().unwrap_or(0);
    one(py, size, || nl::multi_dot(&xs))
}

/// NumPy 2's `linalg.cross`: the cross product of 3-vectors along `axis`.
///
///     >>> fx.linalg.cross(fx.asarray([1.0, 0, 0]), fx.asarray([0.0, 1, 0]))
///     Tensor([0., 0., 1.])
#[pyfunction]
#[pyo3(signature = (x1, x2, /, *, axis=-1))]
pub fn cross(py: Python<'_>, x1: &Bound<'_, PyAny>, x2: &Bound<'_, PyAny>, axis: isize) -> R {
    let (a, b) = (v(x1)?, v(x2)?);
    let ax = |x: &Value| {
        x.shape()
            .get(ferrax_core::tensor::shape::normalize_axis(axis, x.ndim()).ok()?)
            .copied()
    };
    if ax(&a) != Some(3) || ax(&b) != Some(3) {
        return Err(PyValueError::new_err(
            "linalg.cross: both inputs must be 3-dimensional vectors along the axis",
        ));
    }
    one(py, a.size(), || {
        ferrax_core::ops::matrix::cross(&a, &b, axis)
    })
}

/// `x` with `tensordot(a, x, x.ndim) == b`.
///
///     >>> fx.linalg.tensorsolve(fx.eye(4).reshape(2, 2, 2, 2), fx.ones((2, 2)))
///     Tensor([[1., 1.],
///             [1., 1.]])
#[pyfunction]
#[pyo3(signature = (a, b, axes=None))]
pub fn tensorsolve(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    axes: Option<&Bound<'_, PyAny>>,
) -> R {
    let (a, b) = (v(a)?, v(b)?);
    let axes = to_axes(axes)?;
    one(py, a.size(), || nl::tensorsolve(&a, &b, axes.as_deref()))
}

/// The inverse of `a` seen as a map from its last axes to its first `ind`.
///
///     >>> fx.linalg.tensorinv(fx.eye(4).reshape(4, 2, 2), ind=1).shape
///     (2, 2, 4)
#[pyfunction]
#[pyo3(signature = (a, ind=2))]
pub fn tensorinv(py: Python<'_>, a: &Bound<'_, PyAny>, ind: i64) -> R {
    let a = v(a)?;
    one(py, a.size(), || nl::tensorinv(&a, ind))
}

fn trans_code(trans: &Bound<'_, PyAny>) -> PyResult<u8> {
    if let Ok(s) = trans.cast::<PyString>() {
        return match s.to_str()? {
            "N" => Ok(0),
            "T" => Ok(1),
            "C" => Ok(2),
            other => Err(PyValueError::new_err(format!(
                "trans must be 0, 1, 2, 'N', 'T' or 'C', got {other:?}"
            ))),
        };
    }
    let t: i64 = trans.extract()?;
    u8::try_from(t)
        .ok()
        .filter(|&t| t <= 2)
        .ok_or_else(|| PyValueError::new_err(format!("trans must be 0, 1 or 2, got {t}")))
}

/// `x` with `op(a) @ x = b` for triangular `a` (SciPy's `solve_triangular`).
///
///     >>> fx.scipy.linalg.solve_triangular(fx.asarray([[2.0, 0], [1, 1]]), fx.asarray([2.0, 3]), lower=True)
///     Tensor([1., 2.])
#[pyfunction]
#[pyo3(signature = (a, b, trans=None, lower=false, unit_diagonal=false, overwrite_b=false, check_finite=true))]
#[allow(clippy::too_many_arguments)]
pub fn solve_triangular(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    trans: Option<&Bound<'_, PyAny>>,
    lower: bool,
    unit_diagonal: bool,
    overwrite_b: bool,
    check_finite: bool,
) -> R {
    let _ = (overwrite_b, check_finite);
    let t = trans.map(trans_code).transpose()?.unwrap_or(0);
    let (a, b) = (v(a)?, v(b)?);
    one(py, a.size(), || {
        sl::solve_triangular(&a, &b, t, lower, unit_diagonal)
    })
}

/// SciPy's `cho_factor`: `(c, lower)`, `c` the Cholesky factor (other triangle zero).
///
///     >>> c, low = fx.scipy.linalg.cho_factor(fx.eye(2) * 4.0)
#[pyfunction]
#[pyo3(signature = (a, lower=false, overwrite_a=false, check_finite=true))]
pub fn cho_factor(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    lower: bool,
    overwrite_a: bool,
    check_finite: bool,
) -> PyResult<(Py<PyTensor>, bool)> {
    let _ = (overwrite_a, check_finite);
    let a = v(a)?;
    Ok((one(py, a.size(), || sl::cho_factor(&a, lower))?, lower))
}

/// `x` with `A @ x = b` from `cho_factor`'s `(c, lower)`.
///
///     >>> fx.scipy.linalg.cho_solve(fx.scipy.linalg.cho_factor(fx.eye(2) * 4.0), fx.ones(2))
///     Tensor([0.25, 0.25])
#[pyfunction]
#[pyo3(signature = (c_and_lower, b, overwrite_b=false, check_finite=true))]
pub fn cho_solve(
    py: Python<'_>,
    c_and_lower: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    overwrite_b: bool,
    check_finite: bool,
) -> R {
    let _ = (overwrite_b, check_finite);
    let (c, lower): (Bound<'_, PyAny>, bool) = c_and_lower.extract().map_err(|_| {
        PyTypeError::new_err("cho_solve: expected (c, lower) as cho_factor returns")
    })?;
    let (c, b) = (v(&c)?, v(b)?);
    one(py, c.size(), || sl::cho_solve(&c, lower, &b))
}

/// SciPy's `lu_factor`: `(lu, piv)` in LAPACK's layout (not differentiable).
///
///     >>> lu, piv = fx.scipy.linalg.lu_factor(fx.asarray([[1.0, 2], [3, 4]]))
#[pyfunction]
#[pyo3(signature = (a, overwrite_a=false, check_finite=true))]
pub fn lu_factor(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    overwrite_a: bool,
    check_finite: bool,
) -> PyResult<Py<PyTuple>> {
    let _ = (overwrite_a, check_finite);
    let a = v(a)?;
    let (lu, piv) = run(py, a.size(), || sl::lu_factor(&a))?;
    tuple(py, vec![lu, piv])
}

/// `x` with `A @ x = b` (`trans=1`: `A.T @ x = b`) from `lu_factor`'s `(lu, piv)`.
///
///     >>> fx.scipy.linalg.lu_solve(fx.scipy.linalg.lu_factor(fx.eye(2)), fx.ones(2))
///     Tensor([1., 1.])
#[pyfunction]
#[pyo3(signature = (lu_and_piv, b, trans=None, overwrite_b=false, check_finite=true))]
pub fn lu_solve(
    py: Python<'_>,
    lu_and_piv: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    trans: Option<&Bound<'_, PyAny>>,
    overwrite_b: bool,
    check_finite: bool,
) -> R {
    let _ = (overwrite_b, check_finite);
    let (lu, piv): (Bound<'_, PyAny>, Bound<'_, PyAny>) = lu_and_piv
        .extract()
        .map_err(|_| PyTypeError::new_err("lu_solve: expected (lu, piv) as lu_factor returns"))?;
    let t = trans.map(trans_code).transpose()?.unwrap_or(0);
    let (lu, piv, b) = (v(&lu)?, v(&piv)?, v(b)?);
    one(py, lu.size(), || sl::lu_solve(&lu, &piv, &b, t))
}

/// The matrix exponential (scaling and squaring, degree-13 Padé).
///
///     >>> fx.scipy.linalg.expm(fx.zeros((2, 2)))   # the identity
///     Tensor([[1., 0.],
///             [0., 1.]])
#[pyfunction]
pub fn expm(py: Python<'_>, a: &Bound<'_, PyAny>) -> R {
    let a = v(a)?;
    one(py, a.size(), || sl::expm(&a))
}

pub fn register_private(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for (name, f) in [
        ("_linalg_solve", wrap_pyfunction!(solve, m)?),
        ("_linalg_inv", wrap_pyfunction!(inv, m)?),
        ("_linalg_det", wrap_pyfunction!(det, m)?),
        ("_linalg_slogdet", wrap_pyfunction!(slogdet, m)?),
        ("_linalg_cholesky", wrap_pyfunction!(cholesky, m)?),
        ("_linalg_eigh", wrap_pyfunction!(eigh, m)?),
        ("_linalg_eigvalsh", wrap_pyfunction!(eigvalsh, m)?),
        ("_linalg_svd", wrap_pyfunction!(svd, m)?),
        ("_linalg_svdvals", wrap_pyfunction!(svdvals, m)?),
        ("_linalg_qr", wrap_pyfunction!(qr, m)?),
        ("_linalg_pinv", wrap_pyfunction!(pinv, m)?),
        ("_linalg_lstsq", wrap_pyfunction!(lstsq, m)?),
        ("_linalg_matrix_power", wrap_pyfunction!(matrix_power, m)?),
        ("_linalg_matrix_rank", wrap_pyfunction!(matrix_rank, m)?),
        ("_linalg_norm", wrap_pyfunction!(norm, m)?),
        ("_linalg_vector_norm", wrap_pyfunction!(vector_norm, m)?),
        ("_linalg_matrix_norm", wrap_pyfunction!(matrix_norm, m)?),
        ("_linalg_cond", wrap_pyfunction!(cond, m)?),
        ("_linalg_multi_dot", wrap_pyfunction!(multi_dot, m)?),
        ("_linalg_cross", wrap_pyfunction!(cross, m)?),
        ("_linalg_tensorsolve", wrap_pyfunction!(tensorsolve, m)?),
        ("_linalg_tensorinv", wrap_pyfunction!(tensorinv, m)?),
        (
            "_scipy_linalg_solve_triangular",
            wrap_pyfunction!(solve_triangular, m)?,
        ),
        ("_scipy_linalg_cho_factor", wrap_pyfunction!(cho_factor, m)?),
        ("_scipy_linalg_cho_solve", wrap_pyfunction!(cho_solve, m)?),
        ("_scipy_linalg_lu_factor", wrap_pyfunction!(lu_factor, m)?),
        ("_scipy_linalg_lu_solve", wrap_pyfunction!(lu_solve, m)?),
        ("_scipy_linalg_expm", wrap_pyfunction!(expm, m)?),
    ] {
        m.add(name, f)?;
    }
    Ok(())
}

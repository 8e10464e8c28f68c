//! Module-level functions over the core's composite operations (contractions,
//! rearrangements, neural-network functions, norms): argument parsing only.

use ferrax_core::ops::arrange::{self, PadMode, Repeats, Sections};
use ferrax_core::ops::numpy_linalg::NormOrd;
use ferrax_core::ops::{contract, nn};
use ferrax_core::{DType, Value};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::convert::{to_axes, to_dtype, to_value};
use crate::errors::guard;
use crate::tensor::{compute, wrap, PyTensor};

type R = PyResult<Py<PyTensor>>;

fn v(x: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_value(x, None)
}

/// An int, or a sequence of ints.
pub fn ints(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<i64>> {
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(vec![i]);
    }
    obj.extract::<Vec<i64>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "{what} must be an int or a sequence of ints, got {}",
            obj.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })
}

fn isizes(v: Vec<i64>) -> Vec<isize> {
    v.into_iter().map(|i| i as isize).collect()
}

/// Sum products over the given axes of `a` and `b` (NumPy's `tensordot`):
/// `axes=n` pairs the last `n` axes of `a` with the first `n` of `b`;
/// `axes=(axes_a, axes_b)` names them.
///
///     >>> fx.tensordot(fx.ones((2, 3)), fx.ones((3, 4)), axes=1).shape
///     (2, 4)
#[pyfunction]
#[pyo3(signature = (a, b, axes=None))]
pub fn tensordot(
    py: Python<'_>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
    axes: Option<&Bound<'_, PyAny>>,
) -> R {
    let (a, b) = (v(a)?, v(b)?);
    let n = a.size().max(b.size());
    match axes.filter(|x| !x.is_none()) {
        None => compute(py, n, || contract::tensordot_n(&a, &b, 2)),
        Some(x) if x.extract::<i64>().is_ok() => {
            let k: i64 = x.extract()?;
            compute(py, n, || contract::tensordot_n(&a, &b, k))
        }
        Some(x) => {
            let (xa, xb): (Bound<'_, PyAny>, Bound<'_, PyAny>) = x.extract().map_err(|_| {
                PyTypeError::new_err("tensordot: axes must be an int or a pair (axes_a, axes_b)")
            })?;
            let (xa, xb) = (isizes(ints(&xa, "axes")?), isizes(ints(&xb, "axes")?));
            compute(py, n, || contract::tensordot(&a, &b, &xa, &xb))
        }
    }
}

macro_rules! pair_fn {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[pyfunction]
        pub fn $name(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> R {
            let (a, b) = (v(a)?, v(b)?);
            compute(py, a.size().max(b.size()), || contract::$name(&a, &b))
        }
    };
}

pair_fn!(
    dot,
    "NumPy's `dot`: inner product of vectors, matrix product, and a sum over the last axis of `a` and the second-to-last of `b` for N-d arrays.\n\n    >>> fx.dot(fx.ones(3), fx.ones(3))\n    Tensor(3.)"
);
pair_fn!(
    vdot,
    "Dot product of the flattened arrays.\n\n    >>> fx.vdot(fx.ones((2, 2)), fx.ones((2, 2)))\n    Tensor(4.)"
);
pair_fn!(
    inner,
    "Sum of products over the last axes.\n\n    >>> fx.inner(fx.ones((2, 3)), fx.ones(3)).shape\n    (2,)"
);
pair_fn!(
    outer,
    "Outer product of the flattened arrays.\n\n    >>> fx.outer(fx.ones(2), fx.ones(3)).shape\n    (2, 3)"
);

/// Einstein summation: explicit (`"ij,jk->ik"`) or implicit subscripts, `...`
/// for broadcast leading axes; evaluated as pairwise matrix products.
///
///     >>> fx.einsum("ij,jk->ik", fx.ones((2, 3)), fx.ones((3, 4))).shape
///     (2, 4)
#[pyfunction]
#[pyo3(signature = (subscripts, *operands, **_kwargs))]
pub fn einsum(
    py: Python<'_>,
    subscripts: &Bound<'_, PyAny>,
    operands: &Bound<'_, PyTuple>,
    _kwargs: Option<&Bound<'_, pyo3::types::PyDict>>,
) -> R {
    let (spec, ops) = match subscripts.cast::<PyString>() {
        Ok(spec) => (
            spec.to_str()?.to_string(),
            operands
                .iter()
                .map(|o| v(&o))
                .collect::<PyResult<Vec<_>>>()?,
        ),
        Err(_) => sublist_form(subscripts, operands)?,
    };
    let n = ops.iter().map(Value::size).max().unwrap_or(0);
    compute(py, n, || contract::einsum(&spec, &ops))
}

/// NumPy's sublist form `einsum(op0, [0, 1], op1, [1, 2], [0, 2])` as a
/// subscripts string and its operands (axis labels 0-51 are letters, `...`
/// is Python's `Ellipsis`).
fn sublist_form(
    first: &Bound<'_, PyAny>,
    rest: &Bound<'_, PyTuple>,
) -> PyResult<(String, Vec<Value>)> {
    let mut all: Vec<Bound<'_, PyAny>> = vec![first.clone()];
    all.extend(rest.iter());
    let label = |item: &Bound<'_, PyAny>| -> PyResult<String> {
        if item.is(item.py().Ellipsis()) {
            return Ok("...".into());
        }
        let i: i64 = item.extract().map_err(|_| {
            PyTypeError::new_err("einsum: subscript lists hold ints in [0, 52) or Ellipsis")
        })?;
        match i {
            0..=25 => Ok(((b'a' + i as u8) as char).to_string()),
            26..=51 => Ok(((b'A' + (i - 26) as u8) as char).to_string()),
            _ => Err(PyValueError::new_err(format!(
                "einsum: subscript {i} is out of range [0, 52)"
            ))),
        }
    };
    let sub = |list: &Bound<'_, PyAny>| -> PyResult<String> {
        list.try_iter()
            .map_err(|_| {
                PyTypeError::new_err("einsum: expected a list of subscripts after each operand")
            })?
            .map(|x| label(&x?))
            .collect()
    };
    let mut ins = Vec::new();
    let mut ops = Vec::new();
    let mut i = 0;
    while i + 1 < all.len() {
        ops.push(v(&all[i])?);
        ins.push(sub(&all[i + 1])?);
        i += 2;
    }
    let mut spec = ins.join(",");
    if i < all.len() {
        spec.push_str("->");
        spec.push_str(&sub(&all[i])?);
    }
    Ok((spec, ops))
}

/// The diagonal over `axis1`/`axis2`, appended as the last axis (NumPy's rule).
///
///     >>> fx.diagonal(fx.eye(3))
///     Tensor([1., 1., 1.])
#[pyfunction]
#[pyo3(signature = (x, offset=0, axis1=0, axis2=1))]
pub fn diagonal(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    offset: i64,
    axis1: isize,
    axis2: isize,
) -> R {
    let x = v(x)?;
    compute(py, x.size(), || {
        contract::diagonal(&x, offset, axis1, axis2)
    })
}

/// Sum of the diagonal.
///
///     >>> fx.trace(fx.eye(3))
///     Tensor(3.)
#[pyfunction]
#[pyo3(signature = (x, offset=0, axis1=0, axis2=1))]
pub fn trace(py: Python<'_>, x: &Bound<'_, PyAny>, offset: i64, axis1: isize, axis2: isize) -> R {
    let x = v(x)?;
    compute(py, x.size(), || contract::trace(&x, offset, axis1, axis2))
}

pub fn sections(obj: &Bound<'_, PyAny>) -> PyResult<Sections> {
    if let Ok(k) = obj.extract::<i64>() {
        return Ok(Sections::Equal(k));
    }
    Ok(Sections::At(ints(obj, "indices_or_sections")?))
}

pub fn parts(py: Python<'_>, vs: Vec<Value>) -> PyResult<Py<PyList>> {
    Ok(PyList::new(
        py,
        vs.into_iter()
            .map(|v| wrap(py, v))
            .collect::<PyResult<Vec<_>>>()?,
    )?
    .unbind())
}

/// Split into equal sections (an int) or at the given indices, along `axis`.
///
///     >>> [p.shape for p in fx.split(fx.ones(6), 3)]
///     [(2,), (2,), (2,)]
#[pyfunction]
#[pyo3(signature = (x, indices_or_sections, axis=0))]
pub fn split(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    indices_or_sections: &Bound<'_, PyAny>,
    axis: isize,
) -> PyResult<Py<PyList>> {
    let (x, s) = (v(x)?, sections(indices_or_sections)?);
    parts(py, guard(|| arrange::split(&x, &s, axis, false))?)
}

/// Like `split`, but an int need not divide the axis (the first parts are
/// one longer), as NumPy's `array_split`.
///
///     >>> [p.shape for p in fx.array_split(fx.ones(7), 3)]
///     [(3,), (2,), (2,)]
#[pyfunction]
#[pyo3(signature = (x, indices_or_sections, axis=0))]
pub fn array_split(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    indices_or_sections: &Bound<'_, PyAny>,
    axis: isize,
) -> PyResult<Py<PyList>> {
    let (x, s) = (v(x)?, sections(indices_or_sections)?);
    parts(py, guard(|| arrange::split(&x, &s, axis, true))?)
}

/// Repeat the whole array `reps` times along each axis (NumPy's `tile`).
///
///     >>> fx.tile(fx.asarray([1.0, 2.0]), 2)
///     Tensor([1., 2., 1., 2.])
#[pyfunction]
pub fn tile(py: Python<'_>, x: &Bound<'_, PyAny>, reps: &Bound<'_, PyAny>) -> R {
    let (x, reps) = (v(x)?, ints(reps, "reps")?);
    compute(py, x.size(), || arrange::tile(&x, &reps))
}

/// Repeat each element `repeats` times (NumPy's `repeat`).
///
///     >>> fx.repeat(fx.asarray([1.0, 2.0]), 2)
///     Tensor([1., 1., 2., 2.])
#[pyfunction]
#[pyo3(signature = (x, repeats, axis=None))]
pub fn repeat(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    repeats: &Bound<'_, PyAny>,
    axis: Option<isize>,
) -> R {
    let x = v(x)?;
    let r = match repeats.extract::<i64>() {
        Ok(k) => Repeats::All(k),
        Err(_) => Repeats::Each(ints(repeats, "repeats")?),
    };
    compute(py, x.size(), || arrange::repeat(&x, &r, axis))
}

/// One `(before, after)` pair per axis from NumPy's broadcastable forms (a
/// scalar, `(n,)`, `(before, after)`, or one pair per axis).
fn per_axis<T: for<'a, 'py> FromPyObject<'a, 'py> + Copy>(
    obj: &Bound<'_, PyAny>,
    ndim: usize,
    what: &str,
) -> PyResult<Vec<(T, T)>> {
    let np = crate::convert::numpy(obj.py())?;
    let bad = |e: PyErr| {
        PyValueError::new_err(format!(
            "pad: {what} {} does not fit an array of rank {ndim}: {e}",
            obj.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    };
    let arr = np.call_method1("asarray", (obj,)).map_err(bad)?;
    let arr = np
        .call_method1("broadcast_to", (arr, (ndim, 2)))
        .map_err(bad)?;
    let rows: Vec<Vec<T>> = arr.call_method0("tolist")?.extract().map_err(bad)?;
    Ok(rows.into_iter().map(|r| (r[0], r[1])).collect())
}

/// Pad with NumPy's modes `constant` (`constant_values`), `edge`, `reflect`,
/// `symmetric`, `wrap` and `linear_ramp` (`end_values`); `pad_width`
/// broadcasts as in NumPy.
///
///     >>> fx.pad(fx.ones(2), 1)
///     Tensor([0., 1., 1., 0.])
#[pyfunction]
#[pyo3(signature = (x, pad_width, mode="constant", constant_values=None, end_values=None))]
pub fn pad(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    pad_width: &Bound<'_, PyAny>,
    mode: &str,
    constant_values: Option<&Bound<'_, PyAny>>,
    end_values: Option<&Bound<'_, PyAny>>,
) -> R {
    let x = v(x)?;
    let nd = x.ndim();
    let widths: Vec<(i64, i64)> = per_axis(pad_width, nd, "pad_width")?;
    let zero = 0i64.into_pyobject(py)?.into_any();
    let values = |o: Option<&Bound<'_, PyAny>>, what| per_axis::<f64>(o.unwrap_or(&zero), nd, what);
    let mode = match mode {
        "constant" => PadMode::Constant(values(constant_values, "constant_values")?),
        "edge" => PadMode::Edge,
        "reflect" => PadMode::Reflect,
        "symmetric" => PadMode::Symmetric,
        "wrap" => PadMode::Wrap,
        "linear_ramp" => PadMode::LinearRamp(values(end_values, "end_values")?),
        m => {
            return Err(PyValueError::new_err(format!(
                "pad: mode {m:?} is not supported (constant, edge, reflect, symmetric, wrap, \
                 linear_ramp)"
            )))
        }
    };
    compute(py, x.size(), || arrange::pad(&x, &widths, &mode))
}

/// Softmax along `axis` (shifted by the max for stability).
///
///     >>> fx.nn.softmax(fx.asarray([1.0, 2.0]))
///     Tensor([0.26894142, 0.73105858])
#[pyfunction]
#[pyo3(signature = (x, axis=None))]
pub fn softmax(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> R {
    let x = v(x)?;
    let axes = to_axes(axis)?.unwrap_or_else(|| vec![-1]);
    compute(py, x.size(), || nn::softmax(&x, &axes))
}

/// `x - logsumexp(x)` along `axis`.
///
///     >>> fx.nn.log_softmax(fx.asarray([1.0, 2.0]))
///     Tensor([-1.31326169, -0.31326169])
#[pyfunction]
#[pyo3(signature = (x, axis=None))]
pub fn log_softmax(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> R {
    let x = v(x)?;
    let axes = to_axes(axis)?.unwrap_or_else(|| vec![-1]);
    compute(py, x.size(), || nn::log_softmax(&x, &axes))
}

/// Gaussian error linear unit (tanh approximation by default, as JAX).
///
///     >>> fx.nn.gelu(fx.asarray([0.0, 1.0]))
///     Tensor([0.        , 0.84119199])
#[pyfunction]
#[pyo3(signature = (x, approximate=true))]
pub fn gelu(py: Python<'_>, x: &Bound<'_, PyAny>, approximate: bool) -> R {
    let x = v(x)?;
    compute(py, x.size(), || nn::gelu(&x, approximate))
}

/// `x * sigmoid(x)`.
///
///     >>> fx.nn.silu(fx.asarray([1.0]))
///     Tensor([0.73105858])
#[pyfunction]
pub fn silu(py: Python<'_>, x: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    compute(py, x.size(), || nn::silu(&x))
}

/// One-hot encoding of integer labels along a new last axis.
///
///     >>> fx.nn.one_hot(fx.asarray([0, 2]), 3)
///     Tensor([[1., 0., 0.],
///             [0., 0., 1.]])
#[pyfunction]
#[pyo3(signature = (labels, num_classes, dtype=None))]
pub fn one_hot(
    py: Python<'_>,
    labels: &Bound<'_, PyAny>,
    num_classes: i64,
    dtype: Option<&Bound<'_, PyAny>>,
) -> R {
    let labels = v(labels)?;
    let dt = match dtype.filter(|d| !d.is_none()) {
        Some(d) => to_dtype(d)?,
        None => DType::F64,
    };
    compute(py, labels.size(), || nn::one_hot(&labels, num_classes, dt))
}

/// Mean softmax cross-entropy over the batch: `labels` are integer class
/// indices (shape `logits.shape[:-1]`) or probabilities / one-hot rows.
///
///     >>> fx.nn.cross_entropy(fx.zeros((2, 3)), fx.asarray([0, 1]))   # log(3)
///     Tensor(1.09861229)
#[pyfunction]
pub fn cross_entropy(py: Python<'_>, logits: &Bound<'_, PyAny>, labels: &Bound<'_, PyAny>) -> R {
    let (logits, labels) = (v(logits)?, v(labels)?);
    compute(py, logits.size(), || nn::cross_entropy(&logits, &labels))
}

pub fn norm_ord(ord: Option<&Bound<'_, PyAny>>) -> PyResult<NormOrd> {
    let Some(o) = ord.filter(|o| !o.is_none()) else {
        return Ok(NormOrd::Default);
    };
    if let Ok(s) = o.extract::<String>() {
        return match s.as_str() {
            "fro" => Ok(NormOrd::Fro),
            "nuc" => Ok(NormOrd::Nuc),
            _ => Err(PyValueError::new_err(format!(
                "linalg.norm: invalid norm order {s:?}"
            ))),
        };
    }
    let p: f64 = o.extract().map_err(|_| {
        PyValueError::new_err(format!(
            "linalg.norm: invalid norm order {}",
            o.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })?;
    Ok(if p == f64::INFINITY {
        NormOrd::Inf
    } else if p == f64::NEG_INFINITY {
        NormOrd::NegInf
    } else {
        NormOrd::P(p)
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(tensordot, m)?,
        wrap_pyfunction!(dot, m)?,
        wrap_pyfunction!(vdot, m)?,
        wrap_pyfunction!(inner, m)?,
        wrap_pyfunction!(outer, m)?,
        wrap_pyfunction!(einsum, m)?,
        wrap_pyfunction!(diagonal, m)?,
        wrap_pyfunction!(trace, m)?,
        wrap_pyfunction!(split, m)?,
        wrap_pyfunction!(array_split, m)?,
        wrap_pyfunction!(tile, m)?,
        wrap_pyfunction!(repeat, m)?,
        wrap_pyfunction!(pad, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}

/// The functions of `fx.nn` (private names of the extension:
/// the submodules re-export them).
pub fn register_private(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for (name, f) in [
        ("_nn_softmax", wrap_pyfunction!(softmax, m)?),
        ("_nn_log_softmax", wrap_pyfunction!(log_softmax, m)?),
        ("_nn_gelu", wrap_pyfunction!(gelu, m)?),
        ("_nn_silu", wrap_pyfunction!(silu, m)?),
        ("_nn_one_hot", wrap_pyfunction!(one_hot, m)?),
        ("_nn_cross_entropy", wrap_pyfunction!(cross_entropy, m)?),
    ] {
        m.add(name, f)?;
    }
    Ok(())
}

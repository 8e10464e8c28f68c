//! `fx.scipy.special` (the functions of several arguments and the reductions;
//! the one-argument functions are unary ops, generated with the others) and
//! `fx.scipy.stats`: argument parsing only, the numerics are the core's
//! (`ops::special`, `ops::distributions`). Registered as private
//! `_special_*` / `_stats*` names that the Python namespaces re-export.

use ferrax_core::ops::distributions::{evaluate, Distribution, Method};
use ferrax_core::ops::nn;
use ferrax_core::ops::special as sp;
use ferrax_core::tensor::DType;
use ferrax_core::Value;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::convert::{is_py_scalar, to_axes, to_value};
use crate::errors::guard;
use crate::tensor::{compute, wrap, PyTensor};

type R = PyResult<Py<PyTensor>>;

/// The arguments as values in their common float dtype, Python scalars
/// weakly typed (they take the arrays' dtype, as in NumPy 2 and JAX).
fn float_args(objs: &[Bound<'_, PyAny>]) -> PyResult<Vec<Value>> {
    let mut ctx: Option<DType> = None;
    for o in objs.iter().filter(|o| !is_py_scalar(o)) {
        let dt = to_value(o, None)?.dtype();
        ctx = Some(ctx.map_or(dt, |c| DType::promote(c, dt)));
    }
    let ctx = ctx.map_or(DType::F64, DType::to_float);
    objs.iter()
        .map(|o| {
            let v = to_value(o, Some(ctx))?;
            if v.dtype() == ctx {
                Ok(v)
            } else {
                guard(|| ferrax_core::ops::shape::convert(&v, DType::promote(ctx, v.dtype())))
            }
        })
        .collect()
}

fn size(vs: &[Value]) -> usize {
    vs.iter().map(Value::size).max().unwrap_or(0)
}

/// `ψ⁽ⁿ⁾(x)`, the n-th derivative of the digamma function (`n` a
/// non-negative integer, not differentiated).
///
///     >>> fx.scipy.special.polygamma(1, 1.0)   # π²/6
///     Tensor(1.64493407)
#[pyfunction]
pub fn polygamma(py: Python<'_>, n: Bound<'_, PyAny>, x: Bound<'_, PyAny>) -> R {
    let a = float_args(&[n, x])?;
    compute(py, size(&a), || sp::polygamma(&a[0], &a[1]))
}

/// The regularised lower incomplete gamma function `P(a, x)`,
/// differentiable in `x` and `a`.
///
///     >>> fx.scipy.special.gammainc(2.0, 1.0)
///     Tensor(0.26424112)
#[pyfunction]
pub fn gammainc(py: Python<'_>, a: Bound<'_, PyAny>, x: Bound<'_, PyAny>) -> R {
    let v = float_args(&[a, x])?;
    compute(py, size(&v), || sp::gammainc(&v[0], &v[1]))
}

/// The regularised upper incomplete gamma function `Q(a, x) = 1 - P(a, x)`.
///
///     >>> fx.scipy.special.gammaincc(2.0, 1.0)
///     Tensor(0.73575888)
#[pyfunction]
pub fn gammaincc(py: Python<'_>, a: Bound<'_, PyAny>, x: Bound<'_, PyAny>) -> R {
    let v = float_args(&[a, x])?;
    compute(py, size(&v), || sp::gammaincc(&v[0], &v[1]))
}

/// The regularised incomplete beta function `I_x(a, b)`, differentiable in
/// `x`, `a` and `b`.
///
///     >>> fx.scipy.special.betainc(2.0, 3.0, 0.4)
///     Tensor(0.5248)
#[pyfunction]
pub fn betainc(py: Python<'_>, a: Bound<'_, PyAny>, b: Bound<'_, PyAny>, x: Bound<'_, PyAny>) -> R {
    let v = float_args(&[a, b, x])?;
    compute(py, size(&v), || sp::betainc(&v[0], &v[1], &v[2]))
}

/// `ln |B(a, b)|`, the log of the beta function.
///
///     >>> fx.scipy.special.betaln(2.0, 3.0)   # ln(1/12)
///     Tensor(-2.48490665)
#[pyfunction]
pub fn betaln(py: Python<'_>, a: Bound<'_, PyAny>, b: Bound<'_, PyAny>) -> R {
    let v = float_args(&[a, b])?;
    compute(py, size(&v), || sp::betaln(&v[0], &v[1]))
}

/// SciPy's `logsumexp`: `ln Σ b·e^a` over `axis` (all axes by default),
/// computed stably; with `return_sign`, `(ln |Σ b·e^a|, sign)`.
///
///     >>> fx.scipy.special.logsumexp(fx.asarray([1.0, 2.0]))
///     Tensor(2.31326169)
#[pyfunction]
#[pyo3(signature = (a, axis=None, b=None, keepdims=false, return_sign=false))]
pub fn logsumexp(
    py: Python<'_>,
    a: Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    b: Option<Bound<'_, PyAny>>,
    keepdims: bool,
    return_sign: bool,
) -> PyResult<Py<PyAny>> {
    let axes = to_axes(axis)?;
    let (av, bv) = match b.filter(|b| !b.is_none()) {
        Some(b) => {
            let v = float_args(&[a, b])?;
            (v[0].clone(), Some(v[1].clone()))
        }
        None => (to_value(&a, None)?, None),
    };
    let (r, s) = guard(|| sp::logsumexp(&av, axes.as_deref(), bv.as_ref(), keepdims, return_sign))?;
    let r = wrap(py, r)?;
    match s {
        Some(s) => Ok(PyTuple::new(py, [r, wrap(py, s)?])?.into_any().unbind()),
        None => Ok(r.into_any()),
    }
}

fn all_axes_if_none(x: &Value, axis: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<isize>> {
    Ok(to_axes(axis)?.unwrap_or_else(|| (0..x.ndim() as isize).collect()))
}

/// SciPy's `softmax`: `e^x / Σ e^x` over `axis` (all axes by default, as
/// SciPy; `fx.nn.softmax` defaults to the last axis).
///
///     >>> fx.scipy.special.softmax(fx.asarray([1.0, 2.0]))
///     Tensor([0.26894142, 0.73105858])
#[pyfunction]
#[pyo3(signature = (x, axis=None))]
pub fn softmax(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> R {
    let x = to_value(x, None)?;
    let axes = all_axes_if_none(&x, axis)?;
    compute(py, x.size(), || nn::softmax(&x, &axes))
}

/// SciPy's `log_softmax`: `x - logsumexp(x)` over `axis` (all axes by
/// default).
///
///     >>> fx.scipy.special.log_softmax(fx.asarray([1.0, 2.0]))
///     Tensor([-1.31326169, -0.31326169])
#[pyfunction]
#[pyo3(signature = (x, axis=None))]
pub fn log_softmax(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> R {
    let x = to_value(x, None)?;
    let axes = all_axes_if_none(&x, axis)?;
    compute(py, x.size(), || nn::log_softmax(&x, &axes))
}

/// `scipy.stats.<dist>.<method>(*args)` with every argument given.
#[pyfunction]
pub fn _stats(py: Python<'_>, dist: &str, method: &str, args: Vec<Bound<'_, PyAny>>) -> R {
    let (d, m) = guard(|| Ok((Distribution::parse(dist)?, Method::parse(method)?)))?;
    let v = float_args(&args)?;
    compute(py, size(&v), || evaluate(d, m, &v))
}

/// Every distribution: `(name, [(argument, default or None)], [methods])`,
/// from which the Python namespaces are built.
#[pyfunction]
pub fn _stats_table(py: Python<'_>) -> PyResult<Py<PyList>> {
    let rows = Distribution::ALL
        .iter()
        .map(|d| {
            let args: Vec<(&str, Option<f64>)> = d.arguments().to_vec();
            let methods: Vec<&str> = d.methods().iter().map(|m| m.name()).collect();
            (d.name(), args, methods)
        })
        .collect::<Vec<_>>();
    Ok(PyList::new(py, rows)?.unbind())
}

pub fn register_private(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for (name, f) in [
        ("_special_polygamma", wrap_pyfunction!(polygamma, m)?),
        ("_special_gammainc", wrap_pyfunction!(gammainc, m)?),
        ("_special_gammaincc", wrap_pyfunction!(gammaincc, m)?),
        ("_special_betainc", wrap_pyfunction!(betainc, m)?),
        ("_special_betaln", wrap_pyfunction!(betaln, m)?),
        ("_special_logsumexp", wrap_pyfunction!(logsumexp, m)?),
        ("_special_softmax", wrap_pyfunction!(softmax, m)?),
        ("_special_log_softmax", wrap_pyfunction!(log_softmax, m)?),
        ("_stats", wrap_pyfunction!(_stats, m)?),
        ("_stats_table", wrap_pyfunction!(_stats_table, m)?),
    ] {
        m.add(name, f)?;
    }
    Ok(())
}

//! `fx.lax`'s array functions (`dynamic_slice`, `dynamic_update_slice`) and
//! the one query its eager control flow needs (does any example of a
//! batched predicate hold?): argument parsing only.

use ferrax_core::ops::lax;
use ferrax_core::Value;
use pyo3::prelude::*;

use crate::convert::to_value;
use crate::errors::guard;
use crate::tensor::{compute, PyTensor};

type R = PyResult<Py<PyTensor>>;

fn values(objs: Vec<Bound<'_, PyAny>>) -> PyResult<Vec<Value>> {
    objs.iter().map(|o| to_value(o, None)).collect()
}

/// `operand[start_indices[i] : start_indices[i] + slice_sizes[i], ...]`, the
/// starts clamped so the window fits (XLA's rule).
///
///     >>> fx.lax.dynamic_slice(fx.arange(5.0), (3,), (2,))   # [3, 4]
#[pyfunction]
pub fn _lax_dynamic_slice(
    py: Python<'_>,
    operand: &Bound<'_, PyAny>,
    start_indices: Vec<Bound<'_, PyAny>>,
    slice_sizes: Vec<usize>,
) -> R {
    let x = to_value(operand, None)?;
    let starts = values(start_indices)?;
    compute(py, x.size(), || {
        lax::dynamic_slice(&x, &starts, &slice_sizes)
    })
}

/// `operand` with the window at `start_indices` (clamped) replaced by `update`.
///
///     >>> fx.lax.dynamic_update_slice(fx.zeros(4), fx.ones(2), (1,))   # [0, 1, 1, 0]
#[pyfunction]
pub fn _lax_dynamic_update_slice(
    py: Python<'_>,
    operand: &Bound<'_, PyAny>,
    update: &Bound<'_, PyAny>,
    start_indices: Vec<Bound<'_, PyAny>>,
) -> R {
    let x = to_value(operand, None)?;
    let u = to_value(update, Some(x.dtype()))?;
    let starts = values(start_indices)?;
    compute(py, x.size(), || lax::dynamic_update_slice(&x, &u, &starts))
}

/// Whether any element of `pred` holds, over every example of a value
/// batched by `vmap` (for loops that run until every example is done).
#[pyfunction]
pub fn _lax_any_example(pred: &Bound<'_, PyAny>) -> PyResult<bool> {
    let p = to_value(pred, None)?;
    guard(|| {
        let t = Value::Concrete(p.physical()?);
        let t = ferrax_core::ops::shape::convert(&t, ferrax_core::DType::F64)?;
        let m =
            ferrax_core::ops::reduce::reduction(ferrax_core::ops::ReduceOp::Max, &t, None, false)?;
        Ok(t.size() > 0 && m.concrete()?.item_f64()? != 0.0)
    })
}

pub fn register_private(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_lax_dynamic_slice, m)?)?;
    m.add_function(wrap_pyfunction!(_lax_dynamic_update_slice, m)?)?;
    m.add_function(wrap_pyfunction!(_lax_any_example, m)?)?;
    Ok(())
}

//! `fx.lax`'s array functions (`dynamic_slice`, `dynamic_update_slice`, the
//! convolutions) and the one query its eager control flow needs (does any
//! example of a batched predicate hold?): argument parsing only.

use ferrax_core::ops::conv::{self, DimNumbers, DimSpec, Padding};
use ferrax_core::ops::lax;
use ferrax_core::Value;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::convert::{to_dtype, to_value};
use crate::errors::guard;
use crate::tensor::{compute, PyTensor};

type R = PyResult<Py<PyTensor>>;

fn values(objs: Vec<Bound<'_, PyAny>>) -> PyResult<Vec<Value>> {
    objs.iter().map(|o| to_value(o, None)).collect()
}

/// `operand[start_indices[i] : start_indices[i] + slice_sizes[i], ...]`, the
/// starts clamped so the window fits (XLA's rule).
///
///     >>> fx.lax.dynamic_slice(fx.arange(5.0), (3,), (2,))
///     Tensor([3., 4.])
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
///     >>> fx.lax.dynamic_update_slice(fx.zeros(4), fx.ones(2), (1,))
///     Tensor([0., 1., 1., 0.])
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

/// A padding argument: a string, or a sequence of `(low, high)` pairs.
fn padding_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Padding> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Padding::Named(s.to_str()?.to_string()));
    }
    let bad = || {
        PyValueError::new_err(format!(
            "padding argument to {what} should be a string or a sequence of (low, high) pairs, got {}",
            obj.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    };
    let pairs: Vec<Bound<'_, PyAny>> = obj.extract().map_err(|_| bad())?;
    pairs
        .iter()
        .map(|p| match p.extract::<Vec<isize>>() {
            Ok(v) if v.len() == 2 => Ok((v[0], v[1])),
            _ => Err(bad()),
        })
        .collect::<PyResult<Vec<_>>>()
        .map(Padding::Explicit)
}

/// A `dimension_numbers` argument: None, three strings, or three sequences
/// of axis numbers (a `ConvDimensionNumbers`).
fn dims_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<DimSpec> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(DimSpec::Default);
    };
    let bad = || {
        PyTypeError::new_err(format!(
            "convolution dimension_numbers must be None, a tuple of three strings or a ConvDimensionNumbers, got {}",
            obj.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    };
    if obj.cast::<PyString>().is_ok() {
        return Err(bad());
    }
    let items: Vec<Bound<'_, PyAny>> = obj.extract().map_err(|_| bad())?;
    if items.len() != 3 {
        return Err(PyTypeError::new_err(format!(
            "convolution dimension_numbers must have length 3, got {}",
            items.len()
        )));
    }
    if let Ok(strs) = items
        .iter()
        .map(|i| i.extract::<String>())
        .collect::<PyResult<Vec<String>>>()
    {
        let [a, b, c]: [String; 3] = strs.try_into().map_err(|_| bad())?;
        return Ok(DimSpec::Strings([a, b, c]));
    }
    let nums = items
        .iter()
        .map(|i| i.extract::<Vec<usize>>())
        .collect::<PyResult<Vec<Vec<usize>>>>()
        .map_err(|_| bad())?;
    Ok(DimSpec::Numbers(DimNumbers {
        lhs: nums[0].iter().copied().collect(),
        rhs: nums[1].iter().copied().collect(),
        out: nums[2].iter().copied().collect(),
    }))
}

fn dtype_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<ferrax_core::DType>> {
    obj.filter(|o| !o.is_none()).map(to_dtype).transpose()
}

/// Work of a convolution, for the decision to release the GIL.
fn work(a: &Value, b: &Value) -> usize {
    a.size().saturating_mul(b.size().max(1))
}

/// JAX's `lax.conv_general_dilated`.
#[pyfunction]
#[pyo3(signature = (lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None, dimension_numbers=None, feature_group_count=1, batch_group_count=1, preferred_element_type=None))]
#[allow(clippy::too_many_arguments)]
pub fn _lax_conv_general_dilated(
    py: Python<'_>,
    lhs: &Bound<'_, PyAny>,
    rhs: &Bound<'_, PyAny>,
    window_strides: Vec<i64>,
    padding: &Bound<'_, PyAny>,
    lhs_dilation: Option<Vec<i64>>,
    rhs_dilation: Option<Vec<i64>>,
    dimension_numbers: Option<&Bound<'_, PyAny>>,
    feature_group_count: i64,
    batch_group_count: i64,
    preferred_element_type: Option<&Bound<'_, PyAny>>,
) -> R {
    let l = to_value(lhs, None)?;
    let r = to_value(rhs, None)?;
    let pad = padding_arg(padding, "conv_general_dilated")?;
    let dn = dims_arg(dimension_numbers)?;
    let pet = dtype_arg(preferred_element_type)?;
    compute(py, work(&l, &r), || {
        conv::conv_general_dilated(
            &l,
            &r,
            &window_strides,
            &pad,
            lhs_dilation.as_deref(),
            rhs_dilation.as_deref(),
            &dn,
            feature_group_count,
            batch_group_count,
            pet,
        )
    })
}

/// JAX's `lax.conv_transpose`.
#[pyfunction]
#[pyo3(signature = (lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None, transpose_kernel=false, use_consistent_padding=false, preferred_element_type=None))]
#[allow(clippy::too_many_arguments)]
pub fn _lax_conv_transpose(
    py: Python<'_>,
    lhs: &Bound<'_, PyAny>,
    rhs: &Bound<'_, PyAny>,
    strides: Vec<i64>,
    padding: &Bound<'_, PyAny>,
    rhs_dilation: Option<Vec<i64>>,
    dimension_numbers: Option<&Bound<'_, PyAny>>,
    transpose_kernel: bool,
    use_consistent_padding: bool,
    preferred_element_type: Option<&Bound<'_, PyAny>>,
) -> R {
    let l = to_value(lhs, None)?;
    let r = to_value(rhs, None)?;
    let pad = padding_arg(padding, "conv_transpose")?;
    let dn = dims_arg(dimension_numbers)?;
    let pet = dtype_arg(preferred_element_type)?;
    compute(py, work(&l, &r), || {
        conv::conv_transpose(
            &l,
            &r,
            &strides,
            &pad,
            rhs_dilation.as_deref(),
            &dn,
            transpose_kernel,
            use_consistent_padding,
            pet,
        )
    })
}

type Specs = (Vec<usize>, Vec<usize>, Vec<usize>);

/// JAX's `lax.conv_dimension_numbers`: the three specs as axis numbers.
#[pyfunction]
#[pyo3(signature = (lhs_shape, rhs_shape, dimension_numbers=None))]
pub fn _lax_conv_dimension_numbers(
    lhs_shape: Vec<usize>,
    rhs_shape: Vec<usize>,
    dimension_numbers: Option<&Bound<'_, PyAny>>,
) -> PyResult<Specs> {
    let dn = dims_arg(dimension_numbers)?;
    let d = guard(|| conv::conv_dimension_numbers(lhs_shape.len(), rhs_shape.len(), &dn))?;
    Ok((d.lhs.to_vec(), d.rhs.to_vec(), d.out.to_vec()))
}

pub fn register_private(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_lax_conv_general_dilated, m)?)?;
    m.add_function(wrap_pyfunction!(_lax_conv_transpose, m)?)?;
    m.add_function(wrap_pyfunction!(_lax_conv_dimension_numbers, m)?)?;
    m.add_function(wrap_pyfunction!(_lax_dynamic_slice, m)?)?;
    m.add_function(wrap_pyfunction!(_lax_dynamic_update_slice, m)?)?;
    m.add_function(wrap_pyfunction!(_lax_any_example, m)?)?;
    Ok(())
}

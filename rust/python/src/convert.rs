//! Python objects to core values: tensors, NumPy arrays, scalars (weakly typed),
//! dtypes, axes and shapes.

use std::borrow::Cow;

use ferrax_core::tensor::{AlignedBuf, Element};
use ferrax_core::{DType, Tensor, Value};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyTuple};

use crate::errors::guard;
use crate::tensor::PyTensor;

static NUMPY: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

pub fn numpy(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    Ok(NUMPY
        .get_or_try_init(py, || py.import("numpy").map(|m| m.unbind()))?
        .bind(py))
}

/// NumPy's ALIGNED flag: every element's address is a multiple of its size.
fn numpy_aligned(arr: &Bound<'_, PyUntypedArray>) -> PyResult<bool> {
    let py = arr.py();
    arr.getattr(pyo3::intern!(py, "flags"))?
        .getattr(pyo3::intern!(py, "aligned"))?
        .extract()
}

/// A copy of `arr` if it holds native `T`s at aligned addresses (None otherwise,
/// for the caller's conversions). Typed slices need aligned elements; for a
/// C-contiguous array that is the data pointer's alignment alone (its strides
/// are multiples of the itemsize), which saves asking NumPy for its flags on
/// the common path.
fn copy_array<T: Element + numpy::Element>(
    arr: &Bound<'_, PyUntypedArray>,
) -> PyResult<Option<Tensor>> {
    let Ok(a) = arr.cast::<PyArrayDyn<T>>() else {
        return Ok(None);
    };
    let c_order = a.is_c_contiguous();
    let aligned = if c_order {
        a.data() as usize % std::mem::align_of::<T>() == 0
    } else {
        numpy_aligned(arr)?
    };
    if !aligned {
        return Ok(None);
    }
    let ro = a.readonly();
    let t = if let (true, Ok(s)) = (c_order, ro.as_slice()) {
        guard(|| Tensor::from_slice(s, arr.shape()))?
    } else {
        let view = ro.as_array();
        let n = view.len();
        let buf = guard(|| AlignedBuf::from_iter_exact(n, view.iter().copied()))?;
        Tensor::from_buf(buf, arr.shape())
    };
    Ok(Some(t))
}

/// Copy a NumPy array into a tensor. Dtypes ferrax does not have are converted
/// the way NumPy would widen them (float16 → float32, small ints → int32/int64).
pub fn from_ndarray(arr: &Bound<'_, PyUntypedArray>) -> PyResult<Tensor> {
    let py = arr.py();
    // The common case first, with one type check: a native, aligned array of
    // a dtype ferrax has.
    let d = arr.dtype();
    let copied = match (d.kind(), d.itemsize()) {
        (b'f', 8) => copy_array::<f64>(arr)?,
        (b'f', 4) => copy_array::<f32>(arr)?,
        (b'i', 8) => copy_array::<i64>(arr)?,
        (b'i', 4) => copy_array::<i32>(arr)?,
        _ => None,
    };
    if let Some(t) = copied {
        return Ok(t);
    }
    // Typed slices need aligned data: realign (copy) the rare unaligned array first.
    if !numpy_aligned(arr)? {
        let kwargs = pyo3::types::PyDict::new(py);
        kwargs.set_item("requirements", ("A", "C"))?;
        let copy = numpy(py)?.call_method("require", (arr,), Some(&kwargs))?;
        return from_ndarray(copy.cast::<PyUntypedArray>()?);
    }
    if arr.dtype().kind() == b'b' {
        // NumPy bools are bytes that may hold any value (e.g. a uint8 view): read
        // bytes and compare with 0 rather than trusting them to be Rust bools.
        let bytes = arr.call_method1("view", ("uint8",))?;
        let a = bytes.cast::<PyArrayDyn<u8>>()?;
        let ro = a.readonly();
        let view = ro.as_array();
        let n = view.len();
        let buf = guard(|| AlignedBuf::from_iter_exact(n, view.iter().map(|&b| b != 0)))?;
        return Ok(Tensor::from_buf(buf, arr.shape()));
    }
    let target = match (d.kind(), d.itemsize()) {
        (b'f', s) if s <= 4 => "float32",
        (b'f', _) => "float64",
        // keep the width of non-native byte orders ('>i4' is an int32); unsigned
        // ints widen to the next signed type that holds all their values
        (b'i', s) if s <= 4 => "int32",
        (b'u', s) if s < 4 => "int32",
        (b'i', _) | (b'u', _) => "int64",
        (b'b', _) => "bool",
        _ => {
            return Err(PyTypeError::new_err(format!(
                "ferrax has no dtype for NumPy arrays of dtype {}; supported: float32, float64, \
                 int32, int64, bool",
                d.str()?
            )))
        }
    };
    if d.kind() == b'u' && d.itemsize() == 8 {
        let max = if arr.len() > 0 {
            Some(arr.call_method0("max")?)
        } else {
            None
        };
        if let Some(m) = max.filter(|m| m.gt(i64::MAX).unwrap_or(false)) {
            return Err(pyo3::exceptions::PyOverflowError::new_err(format!(
                "Python integer {m} out of bounds for int64 (ferrax has no uint64)"
            )));
        }
    }
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", target)?;
    kwargs.set_item("order", "C")?;
    let conv = numpy(py)?.call_method("asarray", (arr,), Some(&kwargs))?;
    from_ndarray(conv.cast::<PyUntypedArray>()?)
}

fn scalar_tensor(v: f64, dt: DType) -> Tensor {
    ferrax_core::with_dtype!(dt, T => Tensor::scalar(T::from_f64(v)))
}

/// The dtype a weakly typed Python scalar takes next to an operand of `ctx`.
fn weak_dtype(kind: char, ctx: Option<DType>) -> DType {
    match (kind, ctx) {
        ('f', Some(d)) if d.is_float() => d,
        ('f', _) => DType::F64,
        ('i', Some(d)) if d != DType::Bool => d,
        ('i', _) => DType::I64,
        ('b', Some(d)) => d,
        ('b', None) => DType::Bool,
        _ => DType::F64,
    }
}

/// [`to_value`] without a copy of a tensor's value: an op reads its operands
/// and never keeps them, so borrowing saves a clone and a drop of the value
/// (a 128-byte move and two atomic reference-count updates) on every call.
pub fn operand<'a>(obj: &'a Bound<'_, PyAny>, ctx: Option<DType>) -> PyResult<Cow<'a, Value>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(Cow::Borrowed(&t.get().v));
    }
    non_tensor_value(obj, ctx).map(Cow::Owned)
}

/// Any array-like to a value. Python scalars are weakly typed: they take the
/// dtype of `ctx` (the other operand) when the kinds allow, as in NumPy 2.
pub fn to_value(obj: &Bound<'_, PyAny>, ctx: Option<DType>) -> PyResult<Value> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.get().v.clone());
    }
    non_tensor_value(obj, ctx)
}

/// [`to_value`] of an object already known not to be a tensor.
fn non_tensor_value(obj: &Bound<'_, PyAny>, ctx: Option<DType>) -> PyResult<Value> {
    if let Ok(b) = obj.cast::<PyBool>() {
        let dt = weak_dtype('b', ctx);
        return Ok(Value::Concrete(scalar_tensor(b.is_true() as u8 as f64, dt)));
    }
    if obj.is_exact_instance_of::<PyFloat>()
        || obj.is_instance_of::<PyFloat>() && !is_numpy_scalar(obj)
    {
        let v: f64 = obj.extract()?;
        return Ok(Value::Concrete(scalar_tensor(v, weak_dtype('f', ctx))));
    }
    if obj.is_instance_of::<PyInt>() && !is_numpy_scalar(obj) {
        let dt = weak_dtype('i', ctx);
        return match obj.extract::<i64>() {
            Ok(v) if dt == DType::I32 && i32::try_from(v).is_err() => {
                Err(pyo3::exceptions::PyOverflowError::new_err(format!(
                    "Python integer {v} out of bounds for int32"
                )))
            }
            Ok(v) if dt.is_int() => Ok(Value::Concrete(
                ferrax_core::with_dtype!(dt, T => Tensor::scalar(T::from_i64(v))),
            )),
            Ok(v) => Ok(Value::Concrete(scalar_tensor(v as f64, dt))),
            Err(_) if dt.is_float() => {
                let v: f64 = obj.extract()?;
                Ok(Value::Concrete(scalar_tensor(v, dt)))
            }
            Err(_) => Err(pyo3::exceptions::PyOverflowError::new_err(format!(
                "Python integer {} out of bounds for {}",
                obj.repr()?,
                dt
            ))),
        };
    }
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        return Ok(Value::Concrete(from_ndarray(arr)?));
    }
    array_like(obj)
}

/// A Python bool, int or float (not a NumPy scalar): weakly typed.
pub fn is_py_scalar(obj: &Bound<'_, PyAny>) -> bool {
    (obj.is_instance_of::<PyFloat>() || obj.is_instance_of::<PyInt>()) && !is_numpy_scalar(obj)
}

fn is_numpy_scalar(obj: &Bound<'_, PyAny>) -> bool {
    obj.get_type()
        .module()
        .map(|m| m.to_str().map(|s| s == "numpy").unwrap_or(false))
        .unwrap_or(false)
}

/// Lists, tuples, NumPy scalars and anything with `__array__`, through `np.asarray`.
fn array_like(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let py = obj.py();
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        // a nested list holding tensors: stack them (differentiably)
        if contains_tensor(obj)? {
            return stack_nested(obj);
        }
    }
    let np = numpy(py)?;
    let arr = np.call_method1("asarray", (obj,)).map_err(|e| {
        PyTypeError::new_err(format!(
            "cannot convert {} to a ferrax tensor: {}",
            obj.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            e
        ))
    })?;
    let arr = arr.cast::<PyUntypedArray>()?;
    if arr.dtype().kind() == b'O' {
        return Err(PyTypeError::new_err(format!(
            "cannot convert {} to a ferrax tensor (it becomes a NumPy object array)",
            obj.repr()?
        )));
    }
    Ok(Value::Concrete(from_ndarray(arr)?))
}

fn contains_tensor(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    if obj.cast::<PyTensor>().is_ok() {
        return Ok(true);
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        for item in obj.try_iter()? {
            if contains_tensor(&item?)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn stack_nested(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let mut parts = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        let v = if item.is_instance_of::<PyList>() || item.is_instance_of::<PyTuple>() {
            stack_nested(&item)?
        } else {
            to_value(&item, None)?
        };
        parts.push(v);
    }
    if parts.is_empty() {
        return Ok(Value::Concrete(
            Tensor::zeros(DType::F64, &[0]).map_err(crate::errors::to_pyerr)?,
        ));
    }
    guard(|| ferrax_core::ops::composite::stack(&parts, 0))
}

/// A dtype from `fx.float32`, `np.float32`, `np.dtype(...)`, `"float32"`, `float`, ...
pub fn to_dtype(obj: &Bound<'_, PyAny>) -> PyResult<DType> {
    let py = obj.py();
    let d = numpy(py)?.getattr("dtype")?.call1((obj,)).map_err(|_| {
        PyTypeError::new_err(format!(
            "not a dtype: {}",
            obj.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })?;
    let name: String = d.getattr("name")?.extract()?;
    DType::from_name(&name).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "ferrax does not support dtype {name}; supported: float32, float64, int32, int64, bool"
        ))
    })
}

/// The NumPy dtype object for a ferrax dtype (what `Tensor.dtype` returns).
pub fn dtype_object(py: Python<'_>, dt: DType) -> PyResult<Bound<'_, PyAny>> {
    Ok(match dt {
        DType::F32 => numpy::dtype::<f32>(py).into_any(),
        DType::F64 => numpy::dtype::<f64>(py).into_any(),
        DType::I32 => numpy::dtype::<i32>(py).into_any(),
        DType::I64 => numpy::dtype::<i64>(py).into_any(),
        DType::Bool => numpy::dtype::<bool>(py).into_any(),
    })
}

/// `None` | int | sequence of ints  →  None | list of axes.
pub fn to_axes(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<isize>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => {
            if let Ok(i) = o.extract::<isize>() {
                return Ok(Some(vec![i]));
            }
            let v: Vec<isize> = o.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "axis must be None, an int or a tuple of ints, got {}",
                    o.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?;
            Ok(Some(v))
        }
    }
}

/// An int or a sequence of ints (a shape), possibly with one -1.
pub fn to_shape(obj: &Bound<'_, PyAny>) -> PyResult<Vec<isize>> {
    if let Ok(i) = obj.extract::<isize>() {
        return Ok(vec![i]);
    }
    obj.extract::<Vec<isize>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "a shape must be an int or a tuple of ints, got {}",
            obj.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    })
}

/// A shape with no -1 and no negative entries.
pub fn to_concrete_shape(obj: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    let s = to_shape(obj)?;
    s.iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| {
                PyValueError::new_err(format!("negative dimensions are not allowed, got {d}"))
            })
        })
        .collect()
}

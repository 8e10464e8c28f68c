//! `x[key]` and `x.at[key]`: Python index keys turned into the core's
//! [`IndexItem`]s. Every selection, check and update is the core's
//! (`ferrax_core::ops::indexing`); this file only reads Python objects.

use ferrax_core::ops::indexing::{at_update, flat_positions, getitem, AtOp, IndexItem};
use ferrax_core::{DType, Value};
use pyo3::exceptions::PyIndexError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyEllipsis, PyInt, PyList, PySlice, PyTuple};

use crate::convert::{from_ndarray, numpy, to_concrete_shape, to_value};
use crate::errors::guard;
use crate::tensor::{compute, wrap, PyTensor};

/// A slice bound: `None`, or any integer (`__index__`), clamped to i64 (a slice
/// clamps its bounds to the axis anyway).
fn slice_bound(obj: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if obj.is_none() {
        return Ok(None);
    }
    let i = obj.py().import("operator")?.call_method1("index", (obj,))?;
    Ok(Some(match i.extract::<i64>() {
        Ok(v) => v,
        Err(_) if i.gt(0)? => i64::MAX,
        Err(_) => i64::MIN,
    }))
}

fn index_dtype_error(dtype: impl std::fmt::Display) -> PyErr {
    PyIndexError::new_err(format!(
        "only integers, slices (`:`), ellipsis (`...`), None and integer or boolean arrays are \
         valid indices, got dtype {dtype}"
    ))
}

/// An integer index that does not fit in int64 is out of bounds for any axis.
fn int_index(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    obj.extract::<i64>().map_err(|_| {
        PyIndexError::new_err(format!(
            "index {} is out of bounds (larger than any axis)",
            obj.str().map(|s| s.to_string()).unwrap_or_default()
        ))
    })
}

fn item(k: &Bound<'_, PyAny>) -> PyResult<IndexItem> {
    let py = k.py();
    if k.is_none() {
        return Ok(IndexItem::NewAxis);
    }
    if k.is_instance_of::<PyEllipsis>() {
        return Ok(IndexItem::Ellipsis);
    }
    if let Ok(s) = k.cast::<PySlice>() {
        // interned names: no new string to build and hash per lookup
        return Ok(IndexItem::Slice(
            slice_bound(&s.getattr(intern!(py, "start"))?)?,
            slice_bound(&s.getattr(intern!(py, "stop"))?)?,
            slice_bound(&s.getattr(intern!(py, "step"))?)?,
        ));
    }
    if let Ok(t) = k.cast::<PyTensor>() {
        let v = t.get().v.clone();
        return match v.dtype() {
            DType::Bool => Ok(IndexItem::Mask(v)),
            d if d.is_int() => Ok(IndexItem::Array(v)),
            d => Err(index_dtype_error(d)),
        };
    }
    let np = numpy(py)?;
    // a scalar boolean (a 0-d mask), as NumPy: a new axis of length 1 or 0
    if k.is_instance_of::<PyBool>() || k.is_instance(&np.getattr("bool_")?)? {
        return Ok(if k.is_truthy()? {
            IndexItem::NewAxis
        } else {
            IndexItem::EmptyAxis
        });
    }
    if k.is_instance_of::<PyInt>() || k.is_instance(&np.getattr("integer")?)? {
        return Ok(IndexItem::Int(int_index(k)?));
    }
    let mut arr = np.call_method1("asarray", (k,))?;
    let dtype = arr.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    let size: usize = arr.getattr("size")?.extract()?;
    if kind == "O" {
        return Err(PyIndexError::new_err(format!(
            "invalid index {}",
            k.repr()?
        )));
    }
    if size == 0 && (k.is_instance_of::<PyList>() || k.is_instance_of::<PyTuple>()) {
        // `x[[]]`: an empty list is an empty integer index, as in NumPy
        arr = arr.call_method1("astype", ("int64",))?;
    }
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    let ndim: usize = arr.getattr("ndim")?.extract()?;
    match kind.as_str() {
        "b" => Ok(IndexItem::Mask(Value::Concrete(from_ndarray(arr.cast()?)?))),
        "i" | "u" => {
            if kind == "u" && size > 0 {
                // checked before any cast: 2**64 - 1 is out of range, not -1
                let max = arr.call_method0("max")?;
                if max.gt(i64::MAX)? {
                    return Err(PyIndexError::new_err(format!(
                        "index {max} is out of bounds (larger than any axis)"
                    )));
                }
            }
            if ndim == 0 {
                Ok(IndexItem::Int(int_index(&arr.call_method0("item")?)?))
            } else {
                let arr = arr.call_method1("astype", ("int64",))?;
                Ok(IndexItem::Array(Value::Concrete(from_ndarray(
                    arr.cast()?,
                )?)))
            }
        }
        _ => Err(index_dtype_error(dtype.str()?)),
    }
}

/// A Python index key (one entry or a tuple of them) as core index items.
pub fn parse_key(key: &Bound<'_, PyAny>) -> PyResult<Vec<IndexItem>> {
    match key.cast::<PyTuple>() {
        Ok(t) => t.iter().map(|k| item(&k)).collect(),
        Err(_) => Ok(vec![item(key)?]),
    }
}

/// `x[key]`.
pub fn tensor_getitem(py: Python<'_>, x: &Value, key: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
    let items = parse_key(key)?;
    // Integers, slices, new axes and ellipses make a view of a computed
    // tensor, whatever its size: not worth releasing the GIL for (0.1 us of
    // a 1.3 us slice). Array indices copy, and a deferred value computes.
    let view = x.as_concrete().is_some_and(|t| t.is_realized())
        && !items
            .iter()
            .any(|i| matches!(i, IndexItem::Array(_) | IndexItem::Mask(_)));
    compute(py, if view { 0 } else { x.size() }, || getitem(x, &items))
}

/// `x.at`: functional updates of `x` at an index (`x.at[key].set(v)`, `.add`,
/// `.multiply`, `.get`), all differentiable.
#[pyclass(name = "_AtIndexer", module = "ferrax", frozen)]
pub struct AtIndexer {
    pub x: Value,
}

#[pymethods]
impl AtIndexer {
    fn __getitem__(&self, key: &Bound<'_, PyAny>) -> PyResult<AtRef> {
        Ok(AtRef {
            x: self.x.clone(),
            key: parse_key(key)?,
        })
    }
}

/// `x.at[key]`: the updates of `x` at `key`.
#[pyclass(name = "_AtRef", module = "ferrax", frozen)]
pub struct AtRef {
    x: Value,
    key: Vec<IndexItem>,
}

impl AtRef {
    fn update(&self, py: Python<'_>, op: AtOp, v: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let v = to_value(v, Some(self.x.dtype()))?;
        compute(py, self.x.size(), || at_update(&self.x, &self.key, op, &v))
    }
}

#[pymethods]
impl AtRef {
    /// `x[key]`.
    ///
    ///     >>> fx.arange(5).at[1:3].get()
    ///     Tensor([1, 2])
    fn get(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        compute(py, self.x.size(), || getitem(&self.x, &self.key))
    }

    /// `x` with `x[key] = v` (at repeated indices the last write wins).
    ///
    ///     >>> fx.zeros(4).at[1].set(5.0)
    ///     Tensor([0., 5., 0., 0.])
    fn set(&self, py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        self.update(py, AtOp::Set, v)
    }

    /// `x` with `v` added at `key` (repeated indices accumulate).
    ///
    ///     >>> fx.zeros(3).at[[0, 0, 2]].add(1.0)
    ///     Tensor([2., 0., 1.])
    fn add(&self, py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        self.update(py, AtOp::Add, v)
    }

    /// `x` with `x[key] *= v` (repeated indices multiply).
    ///
    ///     >>> fx.ones(3).at[1].multiply(4.0)
    ///     Tensor([1., 4., 1.])
    fn multiply(&self, py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        self.update(py, AtOp::Multiply, v)
    }
}

/// The flat positions, in an array of `shape`, of the elements `x[key]`
/// selects, shaped as `x[key]` (what `.at` updates).
///
///     >>> fx._ferrax._flat_positions((2, 3), (slice(None), 1))
///     Tensor([1, 4])
#[pyfunction]
pub fn _flat_positions(
    py: Python<'_>,
    shape: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
) -> PyResult<Py<PyTensor>> {
    let shape = to_concrete_shape(shape)?;
    let items = parse_key(key)?;
    let t = guard(|| flat_positions(&shape, &items))?;
    wrap(py, Value::Concrete(t))
}

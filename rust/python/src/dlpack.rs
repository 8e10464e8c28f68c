//! DLPack, both ways, without copies: the storage adapter for memory another
//! library owns.
//!
//! Export (`Tensor.__dlpack__`) hands NumPy's DLPack implementation a
//! zero-copy NumPy view of a tensor (its array interface), so the capsule
//! points at ferrax's own buffer and keeps the tensor alive. DLPack 1.0
//! consumers (NumPy 2.1+) get the read-only flag. Legacy consumers (JAX's
//! `from_dlpack` asks for one) cannot be told: they get the capsule JAX's
//! own immutable arrays give, without the flag — a consumer that writes to
//! it (a torch tensor made from it) changes the tensor's values, so such
//! code must copy first (documented in `Tensor.__dlpack__`).
//!
//! Import (`fx.from_dlpack`) lets NumPy consume the producer's capsule (any
//! version, its deleter, its device check) and then reads that array's
//! memory in place: a tensor whose storage is the producer's buffer, kept
//! alive by a reference to the array, never written (tensors are
//! immutable). Layouts and dtypes ferrax cannot read in place (misaligned
//! data, strides that are not whole elements, bool — whose bytes ferrax must
//! check — and dtypes it does not have) are copied, or refused with
//! `copy=False`.

use std::ptr::NonNull;

use ferrax_core::tensor::shape::reach;
use ferrax_core::tensor::{AlignedBuf, Element};
use ferrax_core::{Tensor, Value};
use numpy::{
    PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyBufferError, PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::convert::{from_ndarray, numpy};
use crate::errors::guard;
use crate::tensor::{wrap, Holder, PyTensor};

/// `__dlpack__` of `tensor`: NumPy's capsule over the zero-copy view.
pub fn export<'py>(
    tensor: &Bound<'py, PyTensor>,
    stream: Option<&Bound<'py, PyAny>>,
    max_version: Option<&Bound<'py, PyAny>>,
    dl_device: Option<&Bound<'py, PyAny>>,
    copy: Option<bool>,
) -> PyResult<Bound<'py, PyAny>> {
    if stream.is_some_and(|s| !s.is_none()) {
        return Err(PyValueError::new_err(
            "stream must be None: ferrax tensors live in CPU memory",
        ));
    }
    let py = tensor.py();
    let kwargs = pyo3::types::PyDict::new(py);
    let versioned = max_version.filter(|v| !v.is_none());
    if let Some(v) = versioned {
        kwargs.set_item("max_version", v)?;
    }
    if let Some(d) = dl_device.filter(|d| !d.is_none()) {
        kwargs.set_item("dl_device", d)?;
    }
    if let Some(c) = copy {
        kwargs.set_item("copy", c)?;
    }
    if versioned.is_some() {
        let view = tensor.call_method0("__array__")?;
        match view.call_method("__dlpack__", (), Some(&kwargs)) {
            // NumPy before 2.1 knows no max_version: answer as a legacy producer
            Err(e) if e.is_instance_of::<PyTypeError>(py) => kwargs.del_item("max_version")?,
            r => return r,
        }
    }
    // a legacy capsule has no read-only flag: NumPy exports only a view it
    // may write, so give it one over the same memory
    let iface = tensor
        .getattr("__array_interface__")?
        .cast_into::<pyo3::types::PyDict>()?;
    let data = iface.get_item("data")?;
    let addr = data.ok_or_else(|| PyValueError::new_err("no data in the array interface"))?;
    let addr = addr.get_item(0)?;
    iface.set_item("data", (addr, false))?;
    let holder = Holder::new(tensor.clone().unbind(), iface.into_any().unbind());
    let view = numpy(py)?.call_method1("asarray", (Py::new(py, holder)?,))?;
    view.call_method("__dlpack__", (), Some(&kwargs))
}

/// A tensor of the DLPack producer `x` (or of anything NumPy's `from_dlpack`
/// reads), sharing its memory unless `copy` (or the layout) requires one.
pub fn import(py: Python<'_>, x: &Bound<'_, PyAny>, copy: Option<bool>) -> PyResult<Py<PyTensor>> {
    if let Ok(t) = x.cast::<PyTensor>() {
        return match copy {
            Some(true) => {
                let v = guard(|| t.get().v.concrete())?;
                wrap(
                    py,
                    Value::Concrete(guard(|| ferrax_core::kernels::copy::materialize(&v))?),
                )
            }
            _ => Ok(t.clone().unbind()),
        };
    }
    if !x.hasattr("__dlpack__")? {
        return Err(PyTypeError::new_err(format!(
            "from_dlpack needs an object with __dlpack__ (a NumPy, torch or JAX array, ...), \
             got {}",
            x.get_type().name()?
        )));
    }
    let arr = numpy(py)?.call_method1("from_dlpack", (x,))?;
    let arr = arr.cast::<PyUntypedArray>()?;
    if copy == Some(true) {
        return wrap(py, Value::Concrete(from_ndarray(arr)?));
    }
    match in_place(arr)? {
        Ok(t) => wrap(py, Value::Concrete(t)),
        Err(why) if copy == Some(false) => Err(PyBufferError::new_err(format!(
            "from_dlpack(copy=False): this array cannot be read in place ({why})"
        ))),
        Err(_) => wrap(py, Value::Concrete(from_ndarray(arr)?)),
    }
}

/// A tensor reading `arr`'s memory in place, or why it cannot.
fn in_place(arr: &Bound<'_, PyUntypedArray>) -> PyResult<Result<Tensor, String>> {
    let d = arr.dtype();
    Ok(match (d.kind(), d.itemsize()) {
        (b'f', 4) => borrow::<f32>(arr),
        (b'f', 8) => borrow::<f64>(arr),
        (b'i', 4) => borrow::<i32>(arr),
        (b'i', 8) => borrow::<i64>(arr),
        (b'b', _) => Err("bool bytes are checked on import".into()),
        _ => Err(format!("ferrax has no dtype {}", d.str()?)),
    })
}

/// The view of `arr` (dtype `T`) over its own memory.
fn borrow<T: Element + numpy::Element>(arr: &Bound<'_, PyUntypedArray>) -> Result<Tensor, String> {
    // (DLPack has no byte order: producers export native data only)
    let Ok(typed) = arr.cast::<PyArrayDyn<T>>() else {
        return Err(format!("its dtype is not {}", T::DTYPE));
    };
    let isz = std::mem::size_of::<T>() as isize;
    let shape: Vec<usize> = arr.shape().to_vec();
    let mut strides = Vec::with_capacity(shape.len());
    for &s in arr.strides() {
        if s % isz != 0 {
            return Err(format!(
                "a stride of {s} bytes is not a whole number of elements"
            ));
        }
        strides.push(s / isz);
    }
    let base = typed.data() as usize;
    if base % std::mem::align_of::<T>() != 0 {
        return Err("the data is not aligned for its dtype".into());
    }
    // the elements the view reaches: from its lowest to its highest address
    let (lo, len, ptr) = match reach(&shape, &strides) {
        None => (0, 0, NonNull::dangling()),
        Some((lo, hi)) => {
            let start = (base as i128 + lo * isz as i128) as usize;
            let ptr = NonNull::new(start as *mut T).ok_or("the data pointer is null")?;
            (lo, (hi - lo + 1) as usize, ptr)
        }
    };
    let owner: Box<dyn std::any::Any + Send + Sync> = Box::new(arr.clone().unbind());
    // SAFETY: `ptr` is `arr`'s lowest reachable element, aligned for T (checked
    // above), and the `len` elements from it are exactly those the array's
    // shape and strides reach — initialised values of T (NumPy checked the
    // dtype; every bit pattern is a valid f32/f64/i32/i64). `owner` holds a
    // strong reference to the array, which holds the producer's buffer (its
    // DLPack deleter runs only when the array is freed), so the memory stays
    // allocated at this address while the buffer lives. Ferrax never writes
    // through it (tensors are immutable); writes by the producer while a
    // tensor reads are the user's to avoid, as with any DLPack import
    // (documented in `from_dlpack`). An empty view gets a dangling, aligned
    // pointer with `len` 0, which reads nothing.
    let buf = unsafe { AlignedBuf::<T>::from_foreign(ptr, len, owner) };
    Tensor::from_storage_view(T::wrap(buf), &shape, &strides, (-lo) as usize)
        .map_err(|e| e.to_string())
}

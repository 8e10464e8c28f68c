//! Core errors to Python exceptions and the panic firewall.

use std::panic::{catch_unwind, AssertUnwindSafe};

use ferrax_core::Error;
use pyo3::exceptions::{PyIndexError, PyMemoryError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::PyErr;

// NumPy's own exception class, so `except np.linalg.LinAlgError` catches ours.
pyo3::import_exception!(numpy.linalg, LinAlgError);

pub fn to_pyerr(e: Error) -> PyErr {
    match e {
        Error::Shape(m) | Error::Value(m) => PyValueError::new_err(m),
        Error::Type(m) => PyTypeError::new_err(m),
        Error::Index(m) => PyIndexError::new_err(m),
        Error::LinAlg(m) => LinAlgError::new_err(m),
        Error::Trace(m) => PyRuntimeError::new_err(m),
        e @ Error::OutOfMemory(_) => PyMemoryError::new_err(format!("ferrax {e}")),
        Error::Interrupted => crate::interrupt::raised(),
        Error::External(b) => match b.downcast::<PyErr>() {
            Ok(e) => *e,
            Err(_) => PyRuntimeError::new_err("error raised by a user function"),
        },
    }
}

/// Carry a Python exception through the core unchanged.
pub fn external(e: PyErr) -> Error {
    Error::External(Box::new(e))
}

/// Run core code: errors become Python exceptions, and a panic (a bug) becomes a
/// RuntimeError instead of crossing the boundary.
#[inline]
pub fn guard<T>(f: impl FnOnce() -> ferrax_core::Result<T>) -> pyo3::PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_pyerr(e)),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .map(|s| s.as_str())
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            Err(PyRuntimeError::new_err(format!(
                "internal error in ferrax (please report): {msg}"
            )))
        }
    }
}

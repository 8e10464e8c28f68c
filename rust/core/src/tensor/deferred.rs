//! Values computed when first read.
//!
//! The tensor layer declares what a deferred value is ([`Pending`]: work that
//! produces a [`Storage`]) and how it is read ([`Deferred::get`], which returns
//! a `Result`: computing may fail, for example when memory runs out, and that
//! failure is an error value to the reader, never a panic). What the work is
//! (the tile evaluator of fused elementwise chains) lives above, in
//! `kernels::fusion`; this layer knows nothing of it.

use std::any::Any;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::Result;
use crate::tensor::{DType, Storage};

/// Work that computes the values of a deferred tensor.
pub trait Pending: Send + Sync + 'static {
    /// Compute the values: a storage of the deferred value's dtype and length.
    fn compute(&self) -> Result<Storage>;
    /// The work as `Any`, so its producer can recognise its own kind of work
    /// (to extend a pending chain instead of computing it).
    fn as_any(&self) -> &dyn Any;
}

/// The values of a tensor that are not computed yet: computed once, by the
/// first reader, and kept; the work (and what it holds alive) is dropped then.
pub struct Deferred {
    dtype: DType,
    len: usize,
    value: OnceLock<Storage>,
    /// `None` once computed. Held locked while computing, so that concurrent
    /// readers wait for the one computation instead of repeating it.
    work: Mutex<Option<Arc<dyn Pending>>>,
}

impl Deferred {
    pub fn new(dtype: DType, len: usize, work: Arc<dyn Pending>) -> Deferred {
        Deferred {
            dtype,
            len,
            value: OnceLock::new(),
            work: Mutex::new(Some(work)),
        }
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_computed(&self) -> bool {
        self.value.get().is_some()
    }

    /// The work, while the values are not computed.
    pub fn work(&self) -> Option<Arc<dyn Pending>> {
        if self.is_computed() {
            return None;
        }
        self.work.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The values, computed on the first call. A failed computation is
    /// returned as the error and nothing is kept: a later read tries again.
    pub fn get(&self) -> Result<&Storage> {
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let mut work = self.work.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = self.value.get() {
            return Ok(v); // computed by the reader we waited for
        }
        let storage = match work.as_ref() {
            Some(w) => w.compute()?,
            None => {
                return Err(crate::Error::Value(
                    "internal error: a deferred value lost its work before it was computed".into(),
                ))
            }
        };
        if storage.dtype() != self.dtype || storage.len() != self.len {
            return Err(crate::Error::Value(format!(
                "internal error: deferred work made {} {} elements for a {} value of {}",
                storage.len(),
                storage.dtype(),
                self.dtype,
                self.len
            )));
        }
        let v = self.value.get_or_init(|| storage);
        *work = None;
        Ok(v)
    }
}

/// What a tensor's data is: computed values, or values computed when read.
pub enum Data {
    Ready(Storage),
    Deferred(Deferred),
}

impl Data {
    pub fn dtype(&self) -> DType {
        match self {
            Data::Ready(s) => s.dtype(),
            Data::Deferred(d) => d.dtype(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Data::Ready(s) => s.len(),
            Data::Deferred(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The computed values (computing deferred ones first).
    pub fn storage(&self) -> Result<&Storage> {
        match self {
            Data::Ready(s) => Ok(s),
            Data::Deferred(d) => d.get(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::AlignedBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Count(AtomicUsize, bool);

    impl Pending for Count {
        fn compute(&self) -> Result<Storage> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            if self.1 && n == 0 {
                return Err(crate::Error::OutOfMemory(1 << 40));
            }
            Ok(Storage::F64(AlignedBuf::from_slice(&[n as f64, 2.0])?))
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    #[test]
    fn computed_once_and_kept() {
        let work = Arc::new(Count(AtomicUsize::new(0), false));
        let d = Deferred::new(DType::F64, 2, work.clone());
        assert!(!d.is_computed() && d.work().is_some());
        let first = d.get().unwrap().data_address();
        assert_eq!(d.get().unwrap().data_address(), first);
        assert_eq!(work.0.load(Ordering::SeqCst), 1);
        assert!(d.is_computed() && d.work().is_none());
    }

    #[test]
    fn a_failed_computation_is_an_error_and_is_retried() {
        let work = Arc::new(Count(AtomicUsize::new(0), true));
        let d = Deferred::new(DType::F64, 2, work);
        assert!(matches!(d.get(), Err(crate::Error::OutOfMemory(_))));
        assert!(!d.is_computed());
        let s = d.get().unwrap();
        assert_eq!(f64::view(s).unwrap(), &[1.0, 2.0]);
    }

    #[test]
    fn work_of_the_wrong_shape_is_an_error_not_a_bad_read() {
        let d = Deferred::new(DType::F32, 2, Arc::new(Count(AtomicUsize::new(0), false)));
        assert!(d.get().is_err());
    }

    use crate::tensor::Element;
}

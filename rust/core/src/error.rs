//! The one error type of the core. The bindings map each variant to a Python
//! exception class; nothing in the core panics on user input.

use std::any::Any;
use std::fmt;

pub enum Error {
    /// Shapes that do not fit together (broadcasting, matmul, concatenate...). → ValueError
    Shape(String),
    /// A value out of its domain (bad axis, bad argument). → ValueError
    Value(String),
    /// Wrong dtype or kind of argument. → TypeError
    Type(String),
    /// Index out of range. → IndexError
    Index(String),
    /// A matrix a factorisation cannot take: singular to a solve, not positive
    /// definite to Cholesky, an iteration that did not converge.
    /// → numpy.linalg.LinAlgError
    LinAlg(String),
    /// A traced value used outside the transform that made it, or a misuse of
    /// trace state. → RuntimeError
    Trace(String),
    /// An allocation failed. → MemoryError
    OutOfMemory(u128),
    /// The computation was interrupted (see `interrupt`). → KeyboardInterrupt
    Interrupted,
    /// An error raised by a user callback (a Python exception), carried through
    /// the core unchanged so the bindings can re-raise it as it was.
    External(Box<dyn Any + Send>),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(m)
            | Error::Value(m)
            | Error::Type(m)
            | Error::Index(m)
            | Error::LinAlg(m) => f.write_str(m),
            Error::Trace(m) => f.write_str(m),
            Error::OutOfMemory(n) => {
                write!(
                    f,
                    "could not allocate {n} bytes ({:.3} GiB)",
                    *n as f64 / (1u64 << 30) as f64
                )
            }
            Error::Interrupted => f.write_str("interrupted"),
            Error::External(_) => f.write_str("error raised by a user function"),
        }
    }
}

impl std::error::Error for Error {}

/// `Err(Error::Shape(format!(...)))`
#[macro_export]
macro_rules! shape_err {
    ($($t:tt)*) => { Err($crate::Error::Shape(format!($($t)*))) };
}
/// `Err(Error::Value(format!(...)))`
#[macro_export]
macro_rules! value_err {
    ($($t:tt)*) => { Err($crate::Error::Value(format!($($t)*))) };
}
/// `Err(Error::Type(format!(...)))`
#[macro_export]
macro_rules! type_err {
    ($($t:tt)*) => { Err($crate::Error::Type(format!($($t)*))) };
}

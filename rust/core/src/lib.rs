//! ferrax-core: tensors, kernels, primitives and the transform engine of
//! ferrax, with no Python dependency.
//!
//! Layers, bottom up: `tensor` (storage and strided layouts), `kernels` (loops
//! over slices: SIMD, threads), `ops` (the primitive set with forward, JVP, VJP
//! and batching rules), `trace` (levels and `bind`), `transforms` (vjp, jvp,
//! vmap over Rust closures).

pub mod error;
pub mod interrupt;
pub mod kernels;
pub mod ops;
pub mod tensor;
pub mod trace;
pub mod transforms;

pub use error::{Error, Result};
pub use tensor::{DType, Shape, Tensor};
pub use trace::Value;

//! Loops over slices: the only place numbers are crunched.

pub mod blas;
pub mod conv;
pub mod copy;
pub mod decomp;
pub mod elementwise;
pub mod fusion;
pub mod gather;
pub mod math;
pub mod matmul;
pub mod narrow_product;
pub mod parallel;
pub mod random;
pub mod reduce;
pub mod scan;
pub mod simd;
pub mod slice_fold;
pub mod special;
pub mod strided;

//! Scans along the last axis of a contiguous array: cumulative sums and arg-extrema.

use crate::error::Result;
use crate::tensor::{Element, Tensor};

/// Cumulative sum along the last axis (`reverse`: from the end), contiguous result.
pub fn cumsum_last<T: Element + std::ops::Add<Output = T>>(
    x: &Tensor,
    reverse: bool,
) -> Result<Tensor> {
    let x = crate::kernels::copy::contiguous(x)?;
    let len = *x.shape().last().unwrap_or(&1);
    let src = x.contiguous_slice::<T>()?;
    Tensor::build_overwrite::<T>(x.shape(), |out| {
        if len == 0 {
            return;
        }
        for (o, s) in out.chunks_mut(len).zip(src.chunks(len)) {
            let mut acc = T::ZERO;
            if reverse {
                for j in (0..len).rev() {
                    acc = acc + s[j];
                    o[j] = acc;
                }
            } else {
                for j in 0..len {
                    acc = acc + s[j];
                    o[j] = acc;
                }
            }
        }
    })
}

/// Index of the first maximum (or minimum) along the last axis; a NaN wins, as in NumPy.
pub fn arg_extremum_last<T: Element>(x: &Tensor, max: bool) -> Result<Tensor> {
    let x = crate::kernels::copy::contiguous(x)?;
    let len = *x.shape().last().unwrap_or(&1);
    let src = x.contiguous_slice::<T>()?;
    let out_shape = &x.shape()[..x.ndim().saturating_sub(1)];
    Tensor::build_overwrite::<i64>(out_shape, |out| {
        for (o, s) in out.iter_mut().zip(src.chunks(len.max(1))) {
            let mut best = 0usize;
            for j in 1..s.len() {
                #[allow(clippy::eq_op)]
                let best_nan = s[best] != s[best];
                if best_nan {
                    break;
                }
                #[allow(clippy::eq_op)]
                let nan = s[j] != s[j];
                let better = if max { s[j] > s[best] } else { s[j] < s[best] };
                if nan || better {
                    best = j;
                }
            }
            *o = best as i64;
        }
    })
}

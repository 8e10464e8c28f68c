//! Row gathers and scatter-adds along the leading axis: `x[idx]` and its adjoint.

use crate::error::{Error, Result};
use crate::kernels::copy::contiguous;
use crate::tensor::shape::Shape;
use crate::tensor::{Element, Tensor};

/// Resolve a possibly negative index against `n` (NumPy rules), or an IndexError.
#[inline]
fn resolve(i: i64, n: usize) -> Result<usize> {
    let j = if i < 0 { i + n as i64 } else { i };
    if j < 0 || j >= n as i64 {
        return Err(Error::Index(format!(
            "index {i} is out of bounds for axis 0 with size {n}"
        )));
    }
    Ok(j as usize)
}

/// `out[i, ...] = x[idx[i], ...]`: shape `idx.shape + x.shape[1:]`. `idx` is int64.
pub fn gather_rows<T: Element>(x: &Tensor, idx: &Tensor) -> Result<Tensor> {
    let x = contiguous(x)?;
    let ids = idx.to_vec::<i64>()?;
    let n = x.shape()[0];
    let row: usize = x.shape()[1..].iter().product();
    let mut shape: Shape = idx.shape().into();
    shape.extend_from_slice(&x.shape()[1..]);
    let src = x.contiguous_slice::<T>()?;
    // every output row is one gathered row: written whole
    Tensor::try_build_overwrite::<T>(&shape, |out| {
        for (k, &i) in ids.iter().enumerate() {
            let r = resolve(i, n)?;
            out[k * row..(k + 1) * row].copy_from_slice(&src[r * row..(r + 1) * row]);
        }
        Ok(())
    })
}

/// The adjoint of `gather_rows`: a `(n, ...)` tensor of zeros with `g`'s rows
/// combined into it at `idx` by `add` (repeated indices accumulate).
pub fn scatter_add_rows<T: Element>(
    g: &Tensor,
    idx: &Tensor,
    n: usize,
    add: impl Fn(T, T) -> T,
) -> Result<Tensor> {
    let g = contiguous(g)?;
    let ids = idx.to_vec::<i64>()?;
    let row: usize = g.shape()[idx.ndim()..].iter().product();
    let mut shape: Shape = Shape::from_slice(&[n]);
    shape.extend_from_slice(&g.shape()[idx.ndim()..]);
    let src = g.contiguous_slice::<T>()?;
    Tensor::try_build::<T>(&shape, |out| {
        for (k, &i) in ids.iter().enumerate() {
            let r = resolve(i, n)?;
            for (o, &v) in out[r * row..(r + 1) * row]
                .iter_mut()
                .zip(&src[k * row..(k + 1) * row])
            {
                *o = add(*o, v);
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_and_scatter_are_adjoint() {
        let x = Tensor::from_slice(&[1.0f64, 2., 3., 4., 5., 6.], &[3, 2]).unwrap();
        let idx = Tensor::from_slice(&[2i64, -3, 2], &[3]).unwrap();
        let g = gather_rows::<f64>(&x, &idx).unwrap();
        assert_eq!(g.to_vec::<f64>().unwrap(), vec![5., 6., 1., 2., 5., 6.]);
        let s = scatter_add_rows::<f64>(&g, &idx, 3, |a, b| a + b).unwrap();
        assert_eq!(s.to_vec::<f64>().unwrap(), vec![1., 2., 0., 0., 10., 12.]);
        let bad = Tensor::from_slice(&[3i64], &[1]).unwrap();
        assert!(matches!(gather_rows::<f64>(&x, &bad), Err(Error::Index(_))));
    }
}

//! Covariance and correlation matrices (NumPy's `cov`, `corrcoef`), from
//! means and a matrix product.

use crate::error::Result;
use crate::ops::arrange::atleast;
use crate::ops::binary::{div, sub};
use crate::ops::composite::{clip, mean, squeeze};
use crate::ops::contract::{diagonal, outer};
use crate::ops::linalg::matmul;
use crate::ops::scalar_like;
use crate::ops::shape::{concatenate, convert, transpose};
use crate::ops::unary::sqrt;
use crate::trace::Value;
use crate::value_err;

/// Variables as rows: `m` (and `y`), transposed first unless `rowvar`.
fn variables(m: &Value, y: Option<&Value>, rowvar: bool) -> Result<Value> {
    let rows = |v: &Value| -> Result<Value> {
        if v.ndim() > 2 {
            return value_err!(
                "cov: m and y must be at most 2-d, got {} dimensions",
                v.ndim()
            );
        }
        let v = atleast(v, 2)?;
        let v = if v.dtype().is_float() {
            v
        } else {
            convert(&v, v.dtype().to_float())?
        };
        // as NumPy: a single row is one variable whatever `rowvar` says
        if rowvar || v.shape()[0] == 1 {
            Ok(v)
        } else {
            transpose(&v, &[1, 0])
        }
    };
    let x = rows(m)?;
    match y {
        Some(y) => concatenate(&[x, rows(y)?], 0),
        None => Ok(x),
    }
}

/// The covariance matrix of the variables (rows of `m`, or columns when not
/// `rowvar`), normalised by `n - ddof` (`ddof` 1 unless `bias`). One
/// variable gives a 0-d result, as in NumPy.
pub fn cov(
    m: &Value,
    y: Option<&Value>,
    rowvar: bool,
    bias: bool,
    ddof: Option<i64>,
) -> Result<Value> {
    let x = variables(m, y, rowvar)?;
    let n = x.shape()[1] as f64;
    let ddof = ddof.unwrap_or(if bias { 0 } else { 1 }) as f64;
    let centered = sub(&x, &mean(&x, Some(&[1]), true)?)?;
    let c = matmul(&centered, &transpose(&centered, &[1, 0])?)?;
    let c = div(&c, &scalar_like(&c, n - ddof))?;
    if c.shape()[..] == [1, 1] {
        squeeze(&c, None)
    } else {
        Ok(c)
    }
}

/// Pearson correlation coefficients of the variables, clipped to [-1, 1].
pub fn corrcoef(m: &Value, y: Option<&Value>, rowvar: bool) -> Result<Value> {
    let c = cov(m, y, rowvar, false, None)?;
    if c.ndim() == 0 {
        return div(&c, &c);
    }
    let d = sqrt(&diagonal(&c, 0, 0, 1)?)?;
    let r = div(&c, &outer(&d, &d)?)?;
    let one = scalar_like(&r, 1.0);
    clip(&r, Some(&crate::ops::unary::neg(&one)?), Some(&one))
}

/// Coordinate arrays from coordinate vectors: `xy` indexing swaps the first
/// two outputs' axes, as NumPy's `meshgrid`.
pub fn meshgrid(xs: &[Value], xy: bool) -> Result<Vec<Value>> {
    let n = xs.len();
    let mut shape: Vec<usize> = xs.iter().map(|x| x.size()).collect();
    if xy && n >= 2 {
        shape.swap(0, 1);
    }
    xs.iter()
        .enumerate()
        .map(|(i, x)| {
            let mut s = vec![1; n];
            let at = if xy && n >= 2 && i < 2 { 1 - i } else { i };
            s[at] = x.size();
            let v = crate::ops::shape::reshape(x, &s)?;
            crate::ops::shape::broadcast_to(&v, &shape)
        })
        .collect()
}

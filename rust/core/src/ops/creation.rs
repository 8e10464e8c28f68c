//! Creation functions: arrays made from numbers, not from other arrays
//! (`eye`, `arange`, `linspace`, the one-hot bases of the Jacobians). Their
//! results are constants: no rule, no derivative.

use crate::error::Result;
use crate::tensor::{DType, Element, Tensor};
use crate::trace::Value;
use crate::{value_err, with_dtype};

/// NumPy's `eye(n, m, k)`: ones on the `k`-th diagonal of an `n x m` matrix.
pub fn eye(n: i64, m: Option<i64>, k: i64, dtype: DType) -> Result<Value> {
    let m = m.unwrap_or(n);
    if n < 0 || m < 0 {
        return value_err!("negative dimensions are not allowed, got {n}x{m}");
    }
    let (n, m) = (n as usize, m as usize);
    let t = with_dtype!(dtype, T => Tensor::build::<T>(&[n, m], |out| {
        for i in 0..n {
            let j = i as i64 + k;
            if j >= 0 && (j as usize) < m {
                out[i * m + j as usize] = T::ONE;
            }
        }
    }))?;
    Ok(Value::Concrete(t))
}

/// NumPy's `linspace`: `num` evenly spaced values from `start` to `stop`
/// (included when `endpoint`), computed in float64 then converted.
pub fn linspace(start: f64, stop: f64, num: i64, endpoint: bool, dtype: DType) -> Result<Value> {
    if num < 0 {
        return value_err!("Number of samples, {num}, must be non-negative.");
    }
    let num = num as usize;
    let div = if endpoint { num.saturating_sub(1) } else { num };
    let step = if div > 0 {
        (stop - start) / div as f64
    } else {
        0.0
    };
    // written straight into a fallible buffer: a huge `num` is a MemoryError
    let t = Tensor::build_overwrite::<f64>(&[num], |out| {
        for (i, o) in out.iter_mut().enumerate() {
            *o = if endpoint && i + 1 == num && num > 1 {
                stop
            } else {
                start + step * i as f64
            };
        }
    })?;
    crate::ops::shape::convert(&Value::Concrete(t), dtype)
}

/// NumPy's `arange(start, stop, step)` in `dtype`: `ceil((stop - start) /
/// step)` values `start + i * step` (integers computed exactly).
pub fn arange(start: f64, stop: f64, step: f64, dtype: DType) -> Result<Value> {
    if step == 0.0 || !step.is_finite() {
        return value_err!("arange: step must be finite and non-zero, got {step}");
    }
    if !start.is_finite() || !stop.is_finite() {
        return value_err!("arange: start and stop must be finite, got {start} and {stop}");
    }
    let n = ((stop - start) / step).ceil().max(0.0);
    if n > (1u64 << 53) as f64 {
        return Err(crate::Error::OutOfMemory(
            n as u128 * dtype.size_of() as u128,
        ));
    }
    let n = n as usize;
    let t = with_dtype!(dtype, T => Tensor::build_overwrite::<T>(&[n], |out| {
        if dtype.is_int() {
            let (s, d) = (start as i64, step as i64);
            for (i, o) in out.iter_mut().enumerate() {
                *o = T::from_i64(s.wrapping_add(d.wrapping_mul(i as i64)));
            }
        } else {
            for (i, o) in out.iter_mut().enumerate() {
                *o = T::from_f64(start + step * i as f64);
            }
        }
    }))?;
    Ok(Value::Concrete(t))
}

/// Rows `start .. start + count` of the identity over `shape`: a
/// `(count, *shape)` array whose row `r` is one at flat position `start + r`
/// (zero past the end). The chunks of the standard basis that `jacfwd` pushes
/// forward and `jacrev` pulls back.
pub fn one_hot_rows(start: usize, count: usize, shape: &[usize], dtype: DType) -> Result<Value> {
    let n: usize = shape.iter().product();
    let mut full = vec![count];
    full.extend_from_slice(shape);
    let t = with_dtype!(dtype, T => Tensor::build::<T>(&full, |out| {
        for r in 0..count.min(n.saturating_sub(start)) {
            out[r * n + start + r] = T::ONE;
        }
    }))?;
    Ok(Value::Concrete(t))
}

/// The seed matrix of a colouring: a `(count, *shape)` array whose row `c`
/// is one at every flat position of colour `c` (the tangents or cotangents
/// that compute a sparse Jacobian one colour per pass).
pub fn colour_seeds(colours: &[u32], count: usize, shape: &[usize], dtype: DType) -> Result<Value> {
    let n: usize = shape.iter().product();
    let mut full = vec![count];
    full.extend_from_slice(shape);
    let t = with_dtype!(dtype, T => Tensor::build::<T>(&full, |out| {
        for (v, &c) in colours.iter().enumerate() {
            out[c as usize * n + v] = T::ONE;
        }
    }))?;
    Ok(Value::Concrete(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(v: &Value) -> Vec<f64> {
        v.as_concrete().unwrap().to_vec::<f64>().unwrap()
    }

    #[test]
    fn eye_linspace_arange_and_bases() {
        assert_eq!(
            vals(&eye(2, Some(3), 1, DType::F64).unwrap()),
            [0., 1., 0., 0., 0., 1.]
        );
        assert!(eye(-1, None, 0, DType::F64).is_err());
        assert_eq!(
            vals(&linspace(0.0, 1.0, 5, true, DType::F64).unwrap()),
            [0., 0.25, 0.5, 0.75, 1.]
        );
        assert_eq!(
            vals(&linspace(0.0, 1.0, 4, false, DType::F64).unwrap()),
            [0., 0.25, 0.5, 0.75]
        );
        assert_eq!(
            vals(&arange(1.0, 2.0, 0.25, DType::F64).unwrap()),
            [1., 1.25, 1.5, 1.75]
        );
        let r = arange(5.0, 0.0, -2.0, DType::I64).unwrap();
        assert_eq!(r.as_concrete().unwrap().to_vec::<i64>().unwrap(), [5, 3, 1]);
        assert!(arange(0.0, 1.0, 0.0, DType::F64).is_err());
        let b = one_hot_rows(2, 3, &[2, 2], DType::F64).unwrap();
        assert_eq!(b.shape().as_slice(), [3, 2, 2]);
        assert_eq!(vals(&b), [0., 0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0.]);
    }
}

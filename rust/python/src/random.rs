//! `fx.random` (JAX's `jax.random`): argument parsing only; generation and
//! every distribution are the core's (`ops::random`).

use ferrax_core::ops::random as rnd;
use ferrax_core::tensor::DType;
use ferrax_core::Value;
use pyo3::prelude::*;

use crate::convert::{to_concrete_shape, to_dtype, to_value};
use crate::tensor::{compute, PyTensor};

type R = PyResult<Py<PyTensor>>;

fn v(x: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_value(x, None)
}

fn shape(s: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
    to_concrete_shape(s)
}

fn size(s: &[usize]) -> usize {
    s.iter().product()
}

#[pyfunction]
pub fn _random_key(py: Python<'_>, seed: i64) -> R {
    compute(py, 0, || rnd::key(seed))
}

#[pyfunction]
pub fn _random_split(py: Python<'_>, key: &Bound<'_, PyAny>, shape_: &Bound<'_, PyAny>) -> R {
    let (k, s) = (v(key)?, shape(shape_)?);
    compute(py, size(&s), || rnd::split(&k, &s))
}

#[pyfunction]
pub fn _random_fold_in(py: Python<'_>, key: &Bound<'_, PyAny>, data: i64) -> R {
    let k = v(key)?;
    compute(py, 0, || rnd::fold_in(&k, data))
}

#[pyfunction]
pub fn _random_bits(py: Python<'_>, key: &Bound<'_, PyAny>, shape_: &Bound<'_, PyAny>) -> R {
    let (k, s) = (v(key)?, shape(shape_)?);
    compute(py, size(&s), || rnd::bits(&k, &s))
}

#[pyfunction]
pub fn _random_uniform(
    py: Python<'_>,
    key: &Bound<'_, PyAny>,
    shape_: &Bound<'_, PyAny>,
    dtype: &Bound<'_, PyAny>,
    minval: &Bound<'_, PyAny>,
    maxval: &Bound<'_, PyAny>,
) -> R {
    let (k, s, dt) = (v(key)?, shape(shape_)?, to_dtype(dtype)?);
    let (lo, hi) = (to_value(minval, Some(dt))?, to_value(maxval, Some(dt))?);
    compute(py, size(&s), || rnd::uniform(&k, &s, dt, &lo, &hi))
}

#[pyfunction]
pub fn _random_normal(
    py: Python<'_>,
    key: &Bound<'_, PyAny>,
    shape_: &Bound<'_, PyAny>,
    dtype: &Bound<'_, PyAny>,
) -> R {
    let (k, s, dt) = (v(key)?, shape(shape_)?, to_dtype(dtype)?);
    compute(py, size(&s), || rnd::normal(&k, &s, dt))
}

#[pyfunction]
pub fn _random_truncated_normal(
    py: Python<'_>,
    key: &Bound<'_, PyAny>,
    lower: &Bound<'_, PyAny>,
    upper: &Bound<'_, PyAny>,
    shape_: &Bound<'_, PyAny>,
    dtype: &Bound<'_, PyAny>,
) -> R {
    let (k, s, dt) = (v(key)?, shape(shape_)?, to_dtype(dtype)?);
    let (lo, hi) = (to_value(lower, Some(dt))?, to_value(upper, Some(dt))?);
    compute(py, size(&s), || rnd::truncated_normal(&k, &lo, &hi, &s, dt))
}

#[pyfunction]
pub fn _random_bernoulli(
    py: Python<'_>,
    key: &Bound<'_, PyAny>,
    p: &Bound<'_, PyAny>,
    shape_: &Bound<'_, PyAny>,
) -> R {
    let (k, p, s) = (v(key)?, to_value(p, Some(DType::F32))?, shape(shape_)?);
    compute(py, size(&s), || rnd::bernoulli(&k, &p, &s))
}

#[pyfunction]
pub fn _random_gumbel(
    py: Python<'_>,
    key: &Bound<'_, PyAny>,
    shape_: &Bound<'_, PyAny>,
    dtype: &Bound<'_, PyAny>,
) -> R {
    let (k, s, dt) = (v(key)?, shape(shape_)?, to_dtype(dtype)?);
    compute(py, size(&s), || rnd::gumbel(&k, &s, dt))
}

#[pyfunction]
#[pyo3(signature = (key, logits, axis, shape_=None))]
pub fn _random_categorical(
    py: Python<'_>,
    key: &Bound<'_, PyAny>,
    logits: &Bound<'_, PyAny>,
    axis: isize,
    shape_: Option<&Bound<'_, PyAny>>,
) -> R {
    let (k, l) = (v(key)?, v(logits)?);
    let s = shape_.filter(|s| !s.is_none()).map(shape).transpose()?;
    compute(py, l.size(), || {
        rnd::categorical(&k, &l, axis, s.as_deref())
    })
}

#[pyfunction]
pub fn _random_randint(
    py: Python<'_>,
    key: &Bound<'_, PyAny>,
    shape_: &Bound<'_, PyAny>,
    minval: i64,
    maxval: i64,
    dtype: &Bound<'_, PyAny>,
) -> R {
    let (k, s, dt) = (v(key)?, shape(shape_)?, to_dtype(dtype)?);
    compute(py, size(&s), || rnd::randint(&k, &s, minval, maxval, dt))
}

#[pyfunction]
pub fn _random_permutation(py: Python<'_>, key: &Bound<'_, PyAny>, n: usize) -> R {
    let k = v(key)?;
    compute(py, n, || rnd::permutation_indices(&k, n))
}

#[pyfunction]
#[pyo3(signature = (key, n, shape_, replace, p=None))]
pub fn _random_choice(
    py: Python<'_>,
    key: &Bound<'_, PyAny>,
    n: usize,
    shape_: &Bound<'_, PyAny>,
    replace: bool,
    p: Option<&Bound<'_, PyAny>>,
) -> R {
    let (k, s) = (v(key)?, shape(shape_)?);
    let p = p.filter(|p| !p.is_none()).map(v).transpose()?;
    compute(py, n.max(size(&s)), || {
        rnd::choice_indices(&k, n, &s, replace, p.as_ref())
    })
}

pub fn register_private(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for f in [
        wrap_pyfunction!(_random_key, m)?,
        wrap_pyfunction!(_random_split, m)?,
        wrap_pyfunction!(_random_fold_in, m)?,
        wrap_pyfunction!(_random_bits, m)?,
        wrap_pyfunction!(_random_uniform, m)?,
        wrap_pyfunction!(_random_normal, m)?,
        wrap_pyfunction!(_random_truncated_normal, m)?,
        wrap_pyfunction!(_random_bernoulli, m)?,
        wrap_pyfunction!(_random_gumbel, m)?,
        wrap_pyfunction!(_random_categorical, m)?,
        wrap_pyfunction!(_random_randint, m)?,
        wrap_pyfunction!(_random_permutation, m)?,
        wrap_pyfunction!(_random_choice, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}

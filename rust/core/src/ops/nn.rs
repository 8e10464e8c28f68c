//! Neural-network functions, composed from differentiable primitives.

use crate::error::Result;
use crate::ops::binary::{add, compare, div, mul, sub, CompareOp};
use crate::ops::composite::{expand_dims, logsumexp, mean, take_along_axis};
use crate::ops::creation::arange;
use crate::ops::reduce::{reduction, ReduceOp};
use crate::ops::scalar_like;
use crate::ops::shape::convert;
use crate::ops::unary::{erf, exp, neg, sigmoid, tanh};
use crate::shape_err;
use crate::tensor::shape::fmt_shape;
use crate::tensor::DType;
use crate::trace::{stop_gradient, Value};

fn float_of(x: &Value) -> Result<Value> {
    if x.dtype().is_float() {
        Ok(x.clone())
    } else {
        convert(x, DType::F64)
    }
}

/// Softmax over `axes`, shifted by the (gradient-stopped) max for stability.
pub fn softmax(x: &Value, axes: &[isize]) -> Result<Value> {
    let x = float_of(x)?;
    let m = stop_gradient(&reduction(ReduceOp::Max, &x, Some(axes), true)?)?;
    let e = exp(&sub(&x, &m)?)?;
    div(&e, &reduction(ReduceOp::Sum, &e, Some(axes), true)?)
}

/// `x - logsumexp(x)` over `axes`.
pub fn log_softmax(x: &Value, axes: &[isize]) -> Result<Value> {
    let x = float_of(x)?;
    sub(&x, &logsumexp(&x, Some(axes), true)?)
}

/// Gaussian error linear unit: the tanh approximation (JAX's default) or the
/// exact form with `erf`.
pub fn gelu(x: &Value, approximate: bool) -> Result<Value> {
    let x = float_of(x)?;
    let c = |v: f64| scalar_like(&x, v);
    let half_x = mul(&c(0.5), &x)?;
    let inner = if approximate {
        let cube = mul(&mul(&x, &x)?, &x)?;
        let arg = mul(
            &c((2.0 / std::f64::consts::PI).sqrt()),
            &add(&x, &mul(&c(0.044715), &cube)?)?,
        )?;
        tanh(&arg)?
    } else {
        erf(&mul(&x, &c(std::f64::consts::FRAC_1_SQRT_2))?)?
    };
    mul(&half_x, &add(&c(1.0), &inner)?)
}

/// `x * sigmoid(x)`.
pub fn silu(x: &Value) -> Result<Value> {
    let x = float_of(x)?;
    mul(&x, &sigmoid(&x)?)
}

/// One-hot encoding of integer labels along a new last axis.
pub fn one_hot(labels: &Value, num_classes: i64, dtype: DType) -> Result<Value> {
    let classes = arange(0.0, num_classes.max(0) as f64, 1.0, DType::I64)?;
    let l = expand_dims(labels, &[-1])?;
    convert(&compare(CompareOp::Eq, &l, &classes)?, dtype)
}

/// Mean softmax cross-entropy over the batch: `labels` are integer class
/// indices (shape `logits.shape[:-1]`) or probabilities / one-hot rows (the
/// shape of `logits`).
pub fn cross_entropy(logits: &Value, labels: &Value) -> Result<Value> {
    let logp = log_softmax(logits, &[-1])?;
    if labels.dtype().is_int() {
        let picked = take_along_axis(&logp, &expand_dims(labels, &[-1])?, Some(-1))?;
        return neg(&mean(&picked, None, false)?);
    }
    if labels.shape() != logits.shape() {
        return shape_err!(
            "cross_entropy: labels of shape {} do not match logits of shape {} (pass class \
             indices or one row of probabilities per example)",
            fmt_shape(&labels.shape()),
            fmt_shape(&logits.shape())
        );
    }
    let per_example = reduction(ReduceOp::Sum, &mul(labels, &logp)?, Some(&[-1]), false)?;
    neg(&mean(&per_example, None, false)?)
}

//! SciPy's special functions of several arguments: `polygamma`, the
//! regularised incomplete gamma (`gammainc`, `gammaincc`) and beta
//! (`betainc`) functions, as broadcasting elementwise primitives with their
//! rules; and the composites built on them and on the unary special
//! functions (`betaln`, `logsumexp` with weights and sign).
//!
//! The derivatives in the shape parameters are primitives of their own
//! (computed with the value's series, see `kernels/special.rs`); like JAX's
//! they have no derivative themselves, and asking for one is a ValueError.

use crate::error::Result;
use crate::kernels::elementwise::{binary as map2, ternary};
use crate::kernels::special as k;
use crate::ops::binary::{add, mul, promote, sub, where_, xlog1py, xlogy};
use crate::ops::reduce::reduction;
use crate::ops::unary::{abs, exp, gammaln, log, neg, sign};
use crate::ops::{
    add_opt, batch_elementwise, broadcast_if_needed, reduce_to_shape, scalar_like, Cotangents,
    Family, Prim, ReduceOp,
};
use crate::tensor::{DType, Tensor};
use crate::trace::{bind, stop_gradient, Value};
use crate::{type_err, value_err};

/// The special functions of several broadcasting arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// `(n, x)`: the n-th derivative of digamma.
    Polygamma,
    /// `(a, x)`: P(a, x), or Q(a, x) when `upper`.
    Gammainc { upper: bool },
    /// `(a, x)`: ∂P/∂a (∂Q/∂a when `upper`).
    GammaincDa { upper: bool },
    /// `(a, b, x)`: I_x(a, b).
    Betainc,
    /// `(a, b, x)`: ∂I/∂a, or ∂I/∂b when `wrt_b`.
    BetaincDab { wrt_b: bool },
}

impl Special {
    fn name(self) -> &'static str {
        match self {
            Special::Polygamma => "polygamma",
            Special::Gammainc { upper: false } => "gammainc",
            Special::Gammainc { upper: true } => "gammaincc",
            Special::GammaincDa { .. } => "the a-derivative of gammainc",
            Special::Betainc => "betainc",
            Special::BetaincDab { .. } => "the a- and b-derivatives of betainc",
        }
    }

    fn eval_as<T: crate::ops::unary::Float>(self, x: &[&Tensor]) -> Result<Tensor> {
        let c = |v: f64| T::c(v);
        match self {
            Special::Polygamma => map2(x[0], x[1], move |n: T, v: T| {
                c(k::polygamma(n.to_f64(), v.to_f64()))
            }),
            Special::Gammainc { upper } => map2(x[0], x[1], move |a: T, v: T| {
                c(k::gammainc(a.to_f64(), v.to_f64(), upper))
            }),
            Special::GammaincDa { upper } => map2(x[0], x[1], move |a: T, v: T| {
                c(k::gammainc_da(a.to_f64(), v.to_f64(), upper))
            }),
            Special::Betainc => ternary(x[0], x[1], x[2], move |a: T, b: T, v: T| {
                c(k::betainc(a.to_f64(), b.to_f64(), v.to_f64()))
            }),
            Special::BetaincDab { wrt_b } => ternary(x[0], x[1], x[2], move |a: T, b: T, v: T| {
                c(k::betainc_dab(a.to_f64(), b.to_f64(), v.to_f64(), wrt_b))
            }),
        }
    }

    /// The partial derivative in input `i` (as a value to multiply by), or
    /// `None` where it is zero; an error where it is not defined.
    fn partial(self, p: &[Value], i: usize) -> Result<Option<Value>> {
        let c = |v: f64| scalar_like(&p[0], v);
        Ok(Some(match (self, i) {
            (Special::Polygamma, 0) => {
                return value_err!("polygamma has no derivative with respect to its order n")
            }
            (Special::Polygamma, _) => polygamma(&add(&p[0], &c(1.0))?, &p[1])?,
            (Special::Gammainc { upper }, 0) => bind(
                &Prim::Special(Special::GammaincDa { upper }),
                &[p[0].clone(), p[1].clone()],
            )?,
            // ± x^(a-1) e^-x / Γ(a): the gamma density
            (Special::Gammainc { upper }, _) => {
                let (a, x) = (&p[0], &p[1]);
                let d = exp(&sub(&sub(&xlogy(&sub(a, &c(1.0))?, x)?, x)?, &gammaln(a)?)?)?;
                if upper {
                    neg(&d)?
                } else {
                    d
                }
            }
            (Special::Betainc, 0 | 1) => bind(
                &Prim::Special(Special::BetaincDab { wrt_b: i == 1 }),
                &[p[0].clone(), p[1].clone(), p[2].clone()],
            )?,
            // x^(a-1) (1-x)^(b-1) / B(a, b): the beta density
            (Special::Betainc, _) => {
                let (a, b, x) = (&p[0], &p[1], &p[2]);
                let one = c(1.0);
                exp(&sub(
                    &add(
                        &xlogy(&sub(a, &one)?, x)?,
                        &xlog1py(&sub(b, &one)?, &neg(x)?)?,
                    )?,
                    &betaln(a, b)?,
                )?)?
            }
            (Special::GammaincDa { .. } | Special::BetaincDab { .. }, _) => {
                return value_err!(
                    "{} has no derivative (second derivatives of {} in its shape parameters \
                     are not implemented, as in JAX)",
                    self.name(),
                    if matches!(self, Special::GammaincDa { .. }) {
                        "gammainc"
                    } else {
                        "betainc"
                    }
                )
            }
        }))
    }
}

impl Family for Special {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        match inputs[0].dtype() {
            DType::F32 => self.eval_as::<f32>(inputs),
            DType::F64 => self.eval_as::<f64>(inputs),
            dt => type_err!("{} needs float inputs, got {dt:?}", self.name()),
        }
    }

    fn jvp(&self, p: &[Value], t: &[Option<Value>], out: &Value) -> Result<Option<Value>> {
        let mut acc = None;
        for (i, ti) in t.iter().enumerate() {
            if let Some(ti) = ti {
                if let Some(d) = self.partial(p, i)? {
                    acc = add_opt(acc, Some(mul(ti, &d)?))?;
                }
            }
        }
        acc.map(|t| broadcast_if_needed(t, &out.shape()))
            .transpose()
    }

    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        let mut cts = Cotangents::new();
        for (i, &need) in needs.iter().enumerate() {
            cts.push(match (need, self.partial(p, i)) {
                (false, _) => None,
                (true, Err(e)) => return Err(e),
                (true, Ok(None)) => None,
                (true, Ok(Some(d))) => Some(reduce_to_shape(mul(ct, &d)?, &p[i].shape())?),
            });
        }
        Ok(cts)
    }

    fn batch(&self, v: &[Value], b: &[bool], _size: usize) -> Result<(Value, bool)> {
        batch_elementwise(&Prim::Special(*self), v, b)
    }

    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        crate::ops::sparsity::elementwise(p, d, out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// The operands converted to their common float dtype (NumPy's promotion).
fn common_float(vals: &[&Value]) -> Result<Vec<Value>> {
    let mut dt = vals[0].dtype();
    for v in &vals[1..] {
        dt = DType::promote(dt, v.dtype());
    }
    let dt = dt.to_float();
    vals.iter()
        .map(|v| {
            if v.dtype() == dt {
                Ok((*v).clone())
            } else {
                crate::ops::shape::convert(v, dt)
            }
        })
        .collect()
}

fn special(op: Special, vals: &[&Value]) -> Result<Value> {
    bind(&Prim::Special(op), &common_float(vals)?)
}

/// `ψ⁽ⁿ⁾(x)`, the n-th derivative of the digamma function (n a non-negative
/// integer; NaN otherwise, as SciPy).
pub fn polygamma(n: &Value, x: &Value) -> Result<Value> {
    special(Special::Polygamma, &[n, x])
}

/// The regularised lower incomplete gamma function `P(a, x)`.
pub fn gammainc(a: &Value, x: &Value) -> Result<Value> {
    special(Special::Gammainc { upper: false }, &[a, x])
}

/// The regularised upper incomplete gamma function `Q(a, x) = 1 - P(a, x)`.
pub fn gammaincc(a: &Value, x: &Value) -> Result<Value> {
    special(Special::Gammainc { upper: true }, &[a, x])
}

/// The regularised incomplete beta function `I_x(a, b)`.
pub fn betainc(a: &Value, b: &Value, x: &Value) -> Result<Value> {
    special(Special::Betainc, &[a, b, x])
}

/// `ln |B(a, b)| = ln Γ(a) + ln Γ(b) - ln Γ(a + b)`.
pub fn betaln(a: &Value, b: &Value) -> Result<Value> {
    let (a, b) = promote(a, b, true)?;
    sub(
        &add(&gammaln(&a)?, &gammaln(&b)?)?,
        &gammaln(&add(&a, &b)?)?,
    )
}

/// SciPy's `logsumexp`: `ln |Σ b · e^a|` over `axis` (all axes when `None`),
/// shifted by the (gradient-stopped) maximum; with `return_sign`, also the
/// sign of the sum (else a negative sum gives NaN, as SciPy).
pub fn logsumexp(
    a: &Value,
    axis: Option<&[isize]>,
    b: Option<&Value>,
    keepdims: bool,
    return_sign: bool,
) -> Result<(Value, Option<Value>)> {
    let Some(b) = b else {
        let r = crate::ops::composite::logsumexp(a, axis, keepdims)?;
        // the sum e^r is never negative: sign 1, or 0 for an empty or all -inf sum
        let s = return_sign.then(|| sign(&exp(&r)?)).transpose()?;
        return Ok((r, s));
    };
    let (a, b) = promote(a, b, true)?;
    let shape = crate::tensor::shape::broadcast_shapes(&a.shape(), &b.shape())?;
    let a = broadcast_if_needed(a, &shape)?;
    let b = broadcast_if_needed(b, &shape)?;
    let m = stop_gradient(&reduction(ReduceOp::Max, &a, axis, true)?)?;
    let finite = crate::ops::unary::isfinite(&m)?;
    let m = where_(&finite, &m, &scalar_like(&a, 0.0))?;
    let s = reduction(ReduceOp::Sum, &mul(&b, &exp(&sub(&a, &m)?)?)?, axis, true)?;
    let m = if keepdims {
        m
    } else {
        crate::ops::composite::squeeze(&m, axis)?
    };
    let s = if keepdims {
        s
    } else {
        crate::ops::composite::squeeze(&s, axis)?
    };
    if return_sign {
        Ok((add(&log(&abs(&s)?)?, &m)?, Some(sign(&s)?)))
    } else {
        Ok((add(&log(&s)?, &m)?, None))
    }
}

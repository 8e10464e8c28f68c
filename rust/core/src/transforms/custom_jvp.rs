//! User-defined forward-mode rules (`custom_jvp`): a [`Rule`] whose forward
//! evaluation is the user's function and whose JVP is the user's rule.
//!
//! Reverse mode needs no second rule: the user's JVP is linear in the
//! tangents, so its transpose (obtained by reverse mode over the rule, with
//! respect to the tangents, at zero tangents) is the VJP. Under `vmap` the
//! function and the rule are batched by `vmap`-ing them. The outputs travel
//! through the rule's one output value as `custom_outputs.rs` describes.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::ops::shape::convert;
use crate::ops::{all_batched, zeros};
use crate::tensor::shape::fmt_shape;
use crate::tensor::{DType, Tensor};
use crate::trace::{bind, Cotangents, Rule, Value};

use super::custom_outputs::{vmap_all, OutputLayout};
use super::{vjp, Outputs};

/// The user's function and forward-mode rule, over flat lists of values.
pub trait CustomJvpFns: Send + Sync {
    /// The function.
    fn primal(&self, inputs: &[Value]) -> Result<Vec<Value>>;
    /// The rule: the tangents of the outputs for tangents of the inputs
    /// (every tangent given; zeros where there is none).
    fn jvp(&self, primals: &[Value], tangents: &[Value]) -> Result<Vec<Value>>;
}

/// A custom forward-mode rule; `lead` leading batch axes (added by `vmap`).
#[derive(Clone)]
pub struct CustomJvp {
    fns: Arc<dyn CustomJvpFns>,
    lead: usize,
    outputs: OutputLayout,
}

impl CustomJvp {
    fn with_lead(fns: Arc<dyn CustomJvpFns>, lead: usize) -> CustomJvp {
        CustomJvp {
            fns,
            lead,
            outputs: OutputLayout::new(lead),
        }
    }

    /// The rule's output tangents for `tangents`, checked against the outputs.
    fn tangents_out(&self, p: &[Value], tangents: &[Value]) -> Result<Value> {
        let touts = self.fns.jvp(p, tangents)?;
        let outputs = self.outputs.outputs()?;
        if touts.len() != outputs.len() {
            return Err(Error::Value(format!(
                "custom_jvp: the rule gave {} output tangents for {} outputs",
                touts.len(),
                outputs.len()
            )));
        }
        let mut fixed = Vec::with_capacity(touts.len());
        for (i, (t, (shape, dtype))) in touts.into_iter().zip(&outputs).enumerate() {
            if t.shape()[self.lead.min(t.ndim())..] != shape[..] {
                return Err(Error::Shape(format!(
                    "custom_jvp: the rule's tangent for output {i} has shape {}, but the output \
                     has shape {}",
                    fmt_shape(&t.shape()[self.lead.min(t.ndim())..]),
                    fmt_shape(shape)
                )));
            }
            fixed.push(if t.dtype() == *dtype {
                t
            } else {
                convert(&t, *dtype)?
            });
        }
        self.outputs.join(&fixed)
    }
}

impl Rule for CustomJvp {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let vals: Vec<Value> = inputs
            .iter()
            .map(|t| Value::Concrete((*t).clone()))
            .collect();
        let outs = self.fns.primal(&vals)?;
        self.outputs.record(&outs, "custom_jvp")?;
        match self.outputs.join(&outs)? {
            Value::Concrete(t) => Ok(t),
            Value::Tracer(_) => Err(Error::Value(
                "custom_jvp: the function returned a value traced by an enclosing transform \
                 (close over it as an argument instead)"
                    .into(),
            )),
        }
    }

    fn jvp(&self, p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        if t.iter().all(Option::is_none) {
            return Ok(None);
        }
        let full: Vec<Value> = t
            .iter()
            .zip(p)
            .map(|(t, p)| match t {
                Some(t) => Ok(t.clone()),
                None => zeros(&p.shape(), p.dtype()),
            })
            .collect::<Result<_>>()?;
        Ok(Some(self.tangents_out(p, &full)?))
    }

    /// The transpose of the rule: reverse mode over it, with respect to the
    /// tangents (it is linear in them), at zero tangents.
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        let zero: Vec<Value> = p
            .iter()
            .map(|v| {
                zeros(
                    &v.shape(),
                    if v.dtype().is_float() {
                        v.dtype()
                    } else {
                        DType::F64
                    },
                )
            })
            .collect::<Result<_>>()?;
        let (_, pullback, _) = vjp(
            &mut |ts| Ok(Outputs::from(vec![self.tangents_out(p, ts)?])),
            &zero,
            true,
        )?;
        let cts = pullback.call(&[Some(ct.clone())], true)?;
        cts.into_iter()
            .zip(needs)
            .zip(p)
            .map(|((g, &need), x)| {
                (need && x.dtype().is_float()).then(|| {
                    if g.dtype() == x.dtype() {
                        Ok(g)
                    } else {
                        convert(&g, x.dtype())
                    }
                })
            })
            .map(Option::transpose)
            .collect::<Result<_>>()
    }

    fn batch(&self, vals: &[Value], batched: &[bool], size: usize) -> Result<(Value, bool)> {
        let args = all_batched(vals, batched, size)?;
        let b = CustomJvp::with_lead(
            Arc::new(BatchedJvpFns {
                inner: self.fns.clone(),
                size,
            }),
            self.lead + 1,
        );
        let out = bind(&b, &args)?;
        self.outputs.adopt(&b.outputs)?;
        Ok((out, true))
    }

    fn sparsity(
        &self,
        _p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        // the user's rule is opaque: conservatively, everything
        crate::ops::sparsity::dense(d, out)
    }
    fn differentiable(&self) -> bool {
        true
    }

    fn boxed(&self) -> Box<dyn Rule> {
        Box::new(self.clone())
    }
}

/// The function and rule `vmap`-ed over a leading axis of every argument.
struct BatchedJvpFns {
    inner: Arc<dyn CustomJvpFns>,
    size: usize,
}

impl CustomJvpFns for BatchedJvpFns {
    fn primal(&self, inputs: &[Value]) -> Result<Vec<Value>> {
        vmap_all(self.size, inputs, |xs| self.inner.primal(xs))
    }

    fn jvp(&self, primals: &[Value], tangents: &[Value]) -> Result<Vec<Value>> {
        let n = primals.len();
        let args: Vec<Value> = primals.iter().chain(tangents).cloned().collect();
        vmap_all(self.size, &args, |xs| self.inner.jvp(&xs[..n], &xs[n..]))
    }
}

/// Apply a function with a custom forward-mode rule to `inputs`.
pub fn custom_jvp_call(fns: Arc<dyn CustomJvpFns>, inputs: &[Value]) -> Result<Vec<Value>> {
    let rule = CustomJvp::with_lead(fns, 0);
    let out = bind(&rule, inputs)?;
    rule.outputs.split(&out, 0)
}

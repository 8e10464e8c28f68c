//! User-defined reverse-mode rules (`custom_vjp`, and `checkpoint`, which is
//! one): a [`Rule`] whose forward and backward are the user's functions.
//!
//! The outputs travel through the rule's one output value as
//! `custom_outputs.rs` describes (unpacked by [`custom_vjp_call`] with
//! ordinary differentiable ops). The residuals stay with the rule (no copy); under a higher-order derivative
//! the forward function runs again on the traced inputs so that they are
//! differentiable functions of them.
//!
//! Under `vmap` the user's functions are batched by `vmap`-ing them (a
//! batched copy of the rule); under forward mode a `custom_vjp` function is
//! a TypeError, as in JAX (`checkpoint` has a forward mode: the JVP of its
//! function).

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::ops::shape::convert;
use crate::ops::{all_batched, zeros};
use crate::tensor::shape::fmt_shape;
use crate::tensor::Tensor;
use crate::trace::{bind, Cotangents, Rule, Value};

use super::custom_outputs::{vmap_all, OutputLayout};

/// The user's functions behind a custom reverse-mode rule, over flat lists
/// of values (the bindings flatten and rebuild the pytrees).
pub trait CustomVjpFns: Send + Sync {
    /// `fwd`: the outputs and the residuals the backward pass needs.
    fn forward(&self, inputs: &[Value]) -> Result<(Vec<Value>, Vec<Value>)>;
    /// `bwd`: one cotangent per input (`None`: zero) from the residuals and
    /// the cotangents of the outputs.
    fn backward(&self, residuals: &[Value], cts: &[Value]) -> Result<Vec<Option<Value>>>;
    /// The tangents of the outputs and of the residuals for tangents of the
    /// inputs (`None` among them: zero), if the rule has a forward mode
    /// (`checkpoint` does; a `custom_vjp` function does not).
    fn jvp(
        &self,
        _primals: &[Value],
        _tangents: &[Option<Value>],
    ) -> Result<Option<(Vec<Value>, Vec<Value>)>> {
        Ok(None)
    }
}

/// A custom reverse-mode rule; `lead` leading batch axes (added by `vmap`)
/// precede the packed axis.
#[derive(Clone)]
pub struct CustomVjp {
    fns: Arc<dyn CustomVjpFns>,
    lead: usize,
    outputs: OutputLayout,
    /// The residuals of the forward pass at concrete inputs (kept by the
    /// rule, not copied into its output).
    residuals: Arc<Mutex<Option<Vec<Value>>>>,
}

impl CustomVjp {
    pub fn new(fns: Arc<dyn CustomVjpFns>) -> CustomVjp {
        CustomVjp::with_lead(fns, 0)
    }

    fn with_lead(fns: Arc<dyn CustomVjpFns>, lead: usize) -> CustomVjp {
        CustomVjp {
            fns,
            lead,
            outputs: OutputLayout::new(lead),
            residuals: Arc::new(Mutex::new(None)),
        }
    }
}

impl Rule for CustomVjp {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let vals: Vec<Value> = inputs
            .iter()
            .map(|t| Value::Concrete((*t).clone()))
            .collect();
        let (outs, res) = self.fns.forward(&vals)?;
        self.outputs.record(&outs, "custom_vjp")?;
        *self.residuals.lock().unwrap_or_else(|e| e.into_inner()) = Some(res);
        match self.outputs.join(&outs)? {
            Value::Concrete(t) => Ok(t),
            Value::Tracer(_) => Err(Error::Value(
                "custom_vjp: the forward function returned a value traced by an enclosing \
                 transform (close over it as an argument instead)"
                    .into(),
            )),
        }
    }

    fn jvp(&self, p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        if t.iter().all(Option::is_none) {
            return Ok(None);
        }
        let Some((outs, _)) = self.fns.jvp(p, t)? else {
            return Err(Error::Type(
                "can't apply forward-mode autodiff (jvp, jacfwd, hessian) to a custom_vjp \
                 function; define the rule with custom_jvp instead"
                    .into(),
            ));
        };
        Ok(Some(self.outputs.join(&outs)?))
    }

    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        // At concrete inputs the forward pass's residuals serve. Under a
        // higher-order derivative (or vmap) the inputs are traced: the
        // forward function runs again on them, so that the residuals are
        // functions of the inputs that the enclosing levels differentiate.
        let stored = if p.iter().all(|v| matches!(v, Value::Concrete(_))) {
            self.residuals
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        } else {
            None
        };
        let residuals = match stored {
            Some(r) => r,
            None => self.fns.forward(p)?.1,
        };
        let cts = self.outputs.split(ct, self.lead)?;
        let got = self.fns.backward(&residuals, &cts)?;
        if got.len() != p.len() {
            return Err(Error::Value(format!(
                "custom_vjp: the backward function gave {} cotangents for {} inputs",
                got.len(),
                p.len()
            )));
        }
        let mut result = Cotangents::new();
        for (i, (g, x)) in got.into_iter().zip(p).enumerate() {
            result.push(match g {
                // a wrong shape is an error even where no cotangent is needed
                Some(g) if needs[i] || g.shape() != x.shape() => {
                    if g.shape() != x.shape() {
                        return Err(Error::Shape(format!(
                            "custom_vjp: the backward function's cotangent for input {i} has \
                             shape {}, but the input has shape {}",
                            fmt_shape(&g.shape()),
                            fmt_shape(&x.shape())
                        )));
                    }
                    Some(if g.dtype() == x.dtype() {
                        g
                    } else {
                        convert(&g, x.dtype())?
                    })
                }
                _ => None,
            });
        }
        Ok(result)
    }

    fn batch(&self, vals: &[Value], batched: &[bool], size: usize) -> Result<(Value, bool)> {
        let args = all_batched(vals, batched, size)?;
        let b = CustomVjp::with_lead(
            Arc::new(BatchedFns {
                inner: self.fns.clone(),
                size,
            }),
            self.lead + 1,
        );
        let out = bind(&b, &args)?;
        // the batched rule's layout has its batch axes stripped: it is ours
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

/// The user's functions `vmap`-ed over a leading axis of every argument.
struct BatchedFns {
    inner: Arc<dyn CustomVjpFns>,
    size: usize,
}

impl CustomVjpFns for BatchedFns {
    fn jvp(
        &self,
        primals: &[Value],
        tangents: &[Option<Value>],
    ) -> Result<Option<(Vec<Value>, Vec<Value>)>> {
        let n = primals.len();
        let mut args: Vec<Value> = primals.to_vec();
        for (t, p) in tangents.iter().zip(primals) {
            args.push(match t {
                Some(t) => t.clone(),
                None => zeros(&p.shape(), p.dtype())?,
            });
        }
        let n_out = std::cell::Cell::new(None);
        let all = vmap_all(self.size, &args, |xs| {
            let ts: Vec<Option<Value>> = xs[n..].iter().cloned().map(Some).collect();
            match self.inner.jvp(&xs[..n], &ts)? {
                None => Ok(vec![]),
                Some((o, r)) => {
                    n_out.set(Some(o.len()));
                    Ok(o.into_iter().chain(r).collect())
                }
            }
        })?;
        let Some(k) = n_out.get() else {
            return Ok(None);
        };
        let mut all = all;
        let res = all.split_off(k);
        Ok(Some((all, res)))
    }

    fn forward(&self, inputs: &[Value]) -> Result<(Vec<Value>, Vec<Value>)> {
        let n_out = std::cell::Cell::new(0);
        let all = vmap_all(self.size, inputs, |xs| {
            let (o, r) = self.inner.forward(xs)?;
            n_out.set(o.len());
            Ok(o.into_iter().chain(r).collect())
        })?;
        let mut all = all;
        let res = all.split_off(n_out.get());
        Ok((all, res))
    }

    fn backward(&self, residuals: &[Value], cts: &[Value]) -> Result<Vec<Option<Value>>> {
        let n_res = residuals.len();
        let args: Vec<Value> = residuals.iter().chain(cts).cloned().collect();
        let shapes = std::cell::RefCell::new(Vec::new());
        let outs = vmap_all(self.size, &args, |xs| {
            let got = self.inner.backward(&xs[..n_res], &xs[n_res..])?;
            // zero (None) cotangents are not mapped; remember where they were
            *shapes.borrow_mut() = got.iter().map(Option::is_some).collect::<Vec<_>>();
            Ok(got.into_iter().flatten().collect())
        })?;
        let present = shapes.into_inner();
        let mut it = outs.into_iter();
        Ok(present
            .into_iter()
            .map(|p| if p { it.next() } else { None })
            .collect())
    }
}

/// Apply a function with a custom reverse-mode rule to `inputs`: the user's
/// outputs (differentiable in reverse mode through `fns.backward`).
pub fn custom_vjp_call(fns: Arc<dyn CustomVjpFns>, inputs: &[Value]) -> Result<Vec<Value>> {
    let rule = CustomVjp::new(fns);
    let out = bind(&rule, inputs)?;
    rule.outputs.split(&out, 0)
}

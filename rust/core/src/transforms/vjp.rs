//! Reverse mode: trace the function on a tape, then pull cotangents back
//! through it, as many times as asked.

use std::sync::Arc;

use super::{call_traced, check_float, Aval, Fun};
use crate::error::{Error, Result};
use crate::ops::{add_opt, zeros};
use crate::tensor::shape::fmt_shape;
use crate::trace::{stop_gradient, LevelGuard, LevelKind, Tape, TracerKind, Value};

/// The pullback of a function traced by [`vjp`]; may be called many times.
pub struct VjpFn {
    pub(super) tape: Arc<Tape>,
    /// Elements the recorded ops produced: a measure of the backward pass's work.
    work: usize,
    pub(super) n_inputs: usize,
    pub(super) inputs: Vec<Aval>,
    pub(super) outputs: Vec<(Aval, Option<u32>)>,
}

/// Evaluate `f` at `primals`, recording what reverse mode needs. Returns the
/// outputs (constants to enclosing transforms unless `create_graph`), the
/// pullback and the auxiliary values.
pub fn vjp(
    f: &mut Fun,
    primals: &[Value],
    create_graph: bool,
) -> Result<(Vec<Value>, VjpFn, Vec<Value>)> {
    for (i, p) in primals.iter().enumerate() {
        check_float(p, "input", i)?;
    }
    let guard = LevelGuard::push(LevelKind::Rev(Tape::default()));
    let level = guard.level();
    let traced: Vec<Value> = primals
        .iter()
        .map(|p| crate::trace::new_leaf(level, p.clone()))
        .collect::<Result<_>>()?;
    let (out_values, aux) = call_traced(f, &traced, level)?;
    let LevelKind::Rev(tape) = guard.finish()? else {
        return Err(Error::Trace(
            "internal error: a reverse level lost its tape".into(),
        ));
    };
    let mut values = Vec::with_capacity(out_values.len());
    let mut outputs = Vec::with_capacity(out_values.len());
    for o in out_values {
        let (v, node) = match o.at(level) {
            Some(TracerKind::Rev { primal, node }) => (primal.clone(), Some(*node)),
            _ => (o, None),
        };
        outputs.push((Aval::of(&v), node));
        values.push(if create_graph { v } else { stop_gradient(&v)? });
    }
    let work = tape.nodes.iter().map(|n| n.output.size()).sum();
    let pullback = VjpFn {
        tape: Arc::new(tape),
        work,
        n_inputs: primals.len(),
        inputs: primals.iter().map(Aval::of).collect(),
        outputs,
    };
    Ok((values, pullback, aux))
}

impl VjpFn {
    pub fn output_avals(&self) -> impl Iterator<Item = &Aval> {
        self.outputs.iter().map(|(a, _)| a)
    }

    pub fn input_avals(&self) -> &[Aval] {
        &self.inputs
    }

    /// Elements the traced ops produced: about the work of one backward pass.
    pub fn work(&self) -> usize {
        self.work
    }

    /// Cotangents of the inputs for cotangents `cts` of the outputs (`None`: zero).
    /// With `create_graph` false the result is a constant to enclosing levels.
    pub fn call(&self, cts: &[Option<Value>], create_graph: bool) -> Result<Vec<Value>> {
        if cts.len() != self.outputs.len() {
            return Err(Error::Value(format!(
                "vjp function expected {} cotangents, got {}",
                self.outputs.len(),
                cts.len()
            )));
        }
        let nodes = &self.tape.nodes;
        let mut slots: Vec<Option<Value>> = vec![None; nodes.len()];
        for (i, (ct, (aval, node))) in cts.iter().zip(&self.outputs).enumerate() {
            let Some(ct) = ct else { continue };
            ct.check_live()?;
            if ct.shape() != aval.shape {
                return Err(Error::Shape(format!(
                    "vjp: cotangent {i} has shape {} but the output has shape {}",
                    fmt_shape(&ct.shape()),
                    fmt_shape(&aval.shape)
                )));
            }
            if ct.dtype() != aval.dtype {
                return Err(Error::Type(format!(
                    "vjp: cotangent {i} has dtype {} but the output has dtype {}",
                    ct.dtype(),
                    aval.dtype
                )));
            }
            if let Some(id) = node {
                let ct = if create_graph {
                    ct.clone()
                } else {
                    stop_gradient(ct)?
                };
                let id = *id as usize;
                slots[id] = add_opt(slots[id].take(), Some(ct))?;
            }
        }
        for id in (self.n_inputs..nodes.len()).rev() {
            let Some(g) = slots[id].take() else { continue };
            if crate::interrupt::poll() {
                return Err(Error::Interrupted);
            }
            let node = &nodes[id];
            let Some(rule) = node.rule.as_ref() else {
                continue; // an input: its cotangent is read below
            };
            let needs: smallvec::SmallVec<[bool; 4]> =
                node.parents.iter().map(|p| p.is_some()).collect();
            let cts = if create_graph {
                rule.vjp(&node.inputs, &node.output, &g, &needs)?
            } else {
                let ins: smallvec::SmallVec<[Value; 4]> = node
                    .inputs
                    .iter()
                    .map(stop_gradient)
                    .collect::<Result<_>>()?;
                rule.vjp(&ins, &stop_gradient(&node.output)?, &g, &needs)?
            };
            drop(g);
            for (parent, ct) in node.parents.iter().zip(cts) {
                if let (Some(p), Some(ct)) = (parent, ct) {
                    let p = *p as usize;
                    slots[p] = add_opt(slots[p].take(), Some(ct))?;
                }
            }
        }
        let mut out = Vec::with_capacity(self.n_inputs);
        for (slot, aval) in slots.into_iter().take(self.n_inputs).zip(&self.inputs) {
            out.push(match slot {
                None => zeros(&aval.shape, aval.dtype)?,
                Some(g) if g.dtype() != aval.dtype => crate::ops::shape::convert(&g, aval.dtype)?,
                Some(g) => g,
            });
        }
        Ok(out)
    }
}

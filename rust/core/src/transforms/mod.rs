//! The transforms over Rust closures: `vjp`, `jvp`, `vmap` (and `grad` built
//! on `vjp`). The bindings add pytrees, argnums, has_aux, jacobians and
//! hessians on top of these three.

use crate::error::{Error, Result};
use crate::ops::{add_opt, zeros};
use crate::tensor::shape::fmt_shape;
use crate::tensor::{DType, Shape};
use crate::trace::{stop_gradient, LevelGuard, LevelKind, Tape, TracerKind, Value};
use std::sync::Arc;

/// The shape and dtype of a value, as the transforms check them.
#[derive(Clone, Debug, PartialEq)]
pub struct Aval {
    pub shape: Shape,
    pub dtype: DType,
}

impl Aval {
    pub fn of(v: &Value) -> Aval {
        Aval {
            shape: v.shape(),
            dtype: v.dtype(),
        }
    }
}

fn check_float(v: &Value, what: &str, i: usize) -> Result<()> {
    if !v.dtype().is_float() {
        return Err(Error::Type(format!(
            "{what} {i} has dtype {}: only float32 and float64 inputs can be differentiated \
             (convert with .astype(fx.float64), or exclude it with argnums)",
            v.dtype()
        )));
    }
    Ok(())
}

/// The pullback of a function traced by [`vjp`]; may be called many times.
pub struct VjpFn {
    tape: Arc<Tape>,
    /// Elements the recorded ops produced: a measure of the backward pass's work.
    work: usize,
    n_inputs: usize,
    inputs: Vec<Aval>,
    outputs: Vec<(Aval, Option<u32>)>,
}

/// Evaluate `f` at `primals`, recording what reverse mode needs.
pub fn vjp<F>(f: F, primals: &[Value]) -> Result<(Vec<Value>, VjpFn)>
where
    F: FnOnce(&[Value]) -> Result<Vec<Value>>,
{
    for (i, p) in primals.iter().enumerate() {
        check_float(p, "input", i)?;
    }
    let guard = LevelGuard::push(LevelKind::Rev(Tape::default()));
    let level = guard.level();
    let traced: Vec<Value> = primals
        .iter()
        .map(|p| crate::trace::new_leaf(level, p.clone()))
        .collect::<Result<_>>()?;
    let outs = f(&traced)?;
    let LevelKind::Rev(tape) = guard.finish()? else {
        return Err(Error::Trace(
            "internal error: a reverse level lost its tape".into(),
        ));
    };
    let mut values = Vec::with_capacity(outs.len());
    let mut outputs = Vec::with_capacity(outs.len());
    for o in outs {
        match o.at(level) {
            Some(TracerKind::Rev { primal, node }) => {
                outputs.push((Aval::of(primal), Some(*node)));
                values.push(primal.clone());
            }
            _ => {
                outputs.push((Aval::of(&o), None));
                values.push(o);
            }
        }
    }
    let inputs = primals.iter().map(Aval::of).collect();
    let work = tape.nodes.iter().map(|n| n.output.size()).sum();
    Ok((
        values,
        VjpFn {
            work,
            tape: Arc::new(tape),
            n_inputs: primals.len(),
            inputs,
            outputs,
        },
    ))
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
                    "cotangent {i} has shape {} but the output has shape {}",
                    fmt_shape(&ct.shape()),
                    fmt_shape(&aval.shape)
                )));
            }
            if ct.dtype() != aval.dtype {
                return Err(Error::Type(format!(
                    "cotangent {i} has dtype {} but the output has dtype {}",
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
            let Some(prim) = node.rule.as_ref() else {
                continue; // an input: its cotangent is read below
            };
            let needs: smallvec::SmallVec<[bool; 4]> =
                node.parents.iter().map(|p| p.is_some()).collect();
            let cts = if create_graph {
                prim.vjp(&node.inputs, &node.output, &g, &needs)?
            } else {
                let ins: smallvec::SmallVec<[Value; 4]> = node
                    .inputs
                    .iter()
                    .map(stop_gradient)
                    .collect::<Result<_>>()?;
                prim.vjp(&ins, &stop_gradient(&node.output)?, &g, &needs)?
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

/// Gradient of a scalar-valued `f` with respect to each of its inputs.
pub fn grad<F>(f: F, primals: &[Value]) -> Result<(Value, Vec<Value>)>
where
    F: FnOnce(&[Value]) -> Result<Value>,
{
    let (outs, pullback) = vjp(|xs| Ok(vec![f(xs)?]), primals)?;
    let Some(out) = outs.into_iter().next() else {
        return Err(Error::Value("grad: the function returned no output".into()));
    };
    if out.ndim() != 0 {
        return Err(Error::Type(format!(
            "grad requires a scalar (shape ()) output, got shape {}; use jacrev, vjp, or reduce \
             the output with .sum()",
            fmt_shape(&out.shape())
        )));
    }
    if !out.dtype().is_float() {
        return Err(Error::Type(format!(
            "grad requires a float output, got {}",
            out.dtype()
        )));
    }
    let one = crate::ops::scalar(1.0, out.dtype());
    let g = pullback.call(&[Some(one)], true)?;
    Ok((out, g))
}

/// Forward mode: `f(primals)` and its derivative along `tangents` (`None`: zero).
pub fn jvp<F>(
    f: F,
    primals: &[Value],
    tangents: &[Option<Value>],
) -> Result<(Vec<Value>, Vec<Value>)>
where
    F: FnOnce(&[Value]) -> Result<Vec<Value>>,
{
    if primals.len() != tangents.len() {
        return Err(Error::Value(format!(
            "jvp got {} primals and {} tangents",
            primals.len(),
            tangents.len()
        )));
    }
    for (i, (p, t)) in primals.iter().zip(tangents).enumerate() {
        let Some(t) = t else { continue };
        check_float(p, "primal", i)?;
        t.check_live()?;
        if t.shape() != p.shape() {
            return Err(Error::Shape(format!(
                "tangent {i} has shape {} but its primal has shape {}",
                fmt_shape(&t.shape()),
                fmt_shape(&p.shape())
            )));
        }
        if t.dtype() != p.dtype() {
            return Err(Error::Type(format!(
                "tangent {i} has dtype {} but its primal has dtype {}",
                t.dtype(),
                p.dtype()
            )));
        }
    }
    let guard = LevelGuard::push(LevelKind::Jvp);
    let level = guard.level();
    let traced: Vec<Value> = primals
        .iter()
        .zip(tangents)
        .map(|(p, t)| match t {
            Some(t) => Value::tracer(
                level,
                TracerKind::Jvp {
                    primal: p.clone(),
                    tangent: t.clone(),
                },
            ),
            None => p.clone(),
        })
        .collect();
    let outs = f(&traced)?;
    drop(guard);
    let mut values = Vec::with_capacity(outs.len());
    let mut tans = Vec::with_capacity(outs.len());
    for o in outs {
        match o.at(level) {
            Some(TracerKind::Jvp { primal, tangent }) => {
                values.push(primal.clone());
                tans.push(tangent.clone());
            }
            _ => {
                tans.push(zeros(&o.shape(), o.dtype())?);
                values.push(o);
            }
        }
    }
    Ok((values, tans))
}

/// Vectorising map. Each argument is batched along `in_axes[i]` (or not, for
/// `None`); all batched axes must have length `size`. Returns each output with
/// its batch axis in front, and whether it is batched at all.
pub fn vmap<F>(
    f: F,
    args: &[Value],
    in_axes: &[Option<usize>],
    size: usize,
) -> Result<Vec<(Value, bool)>>
where
    F: FnOnce(&[Value]) -> Result<Vec<Value>>,
{
    let guard = LevelGuard::push(LevelKind::Batch { size });
    let level = guard.level();
    let mut wrapped = Vec::with_capacity(args.len());
    for (a, ax) in args.iter().zip(in_axes) {
        wrapped.push(match ax {
            None => a.clone(),
            Some(ax) => {
                let s = a.shape();
                if *ax >= s.len() {
                    return Err(Error::Value(format!(
                        "vmap in_axes {ax} is out of range for an argument of shape {}",
                        fmt_shape(&s)
                    )));
                }
                if s[*ax] != size {
                    return Err(Error::Value(format!(
                        "vmap got inconsistent sizes for the mapped axis: {} and {}",
                        s[*ax], size
                    )));
                }
                let moved = crate::ops::composite::moveaxis(a, &[*ax as isize], &[0])?;
                Value::tracer(level, TracerKind::Batch { value: moved })
            }
        });
    }
    let outs = f(&wrapped)?;
    drop(guard);
    Ok(outs
        .into_iter()
        .map(|o| match o.at(level) {
            Some(TracerKind::Batch { value }) => (value.clone(), true),
            _ => (o, false),
        })
        .collect())
}

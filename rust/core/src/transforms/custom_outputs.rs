//! How a user-rule (`custom_vjp`, `custom_jvp`, `checkpoint`) carries the
//! user's outputs through its one output value: one float output is that
//! value itself (no copy); several (or an integer one) travel packed, each
//! flattened, converted to float64 (exact for float32, ints up to 2^53 and
//! bools) and concatenated along one last axis, after the `lead` batch axes
//! a `vmap` adds. Also the `vmap` of the user's functions the rules' batch
//! rules share.

use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::ops::shape::{concatenate, convert, reshape, slice};
use crate::ops::{broadcast_batch, zeros};
use crate::tensor::{DType, Shape};
use crate::trace::Value;

use super::{vmap, Outputs};

/// Shapes (without the batch axes) and dtypes of the outputs, and whether
/// they travel packed.
#[derive(Clone, Debug)]
struct Layout {
    outputs: Vec<(Shape, DType)>,
    packed: bool,
}

/// The output layout of one rule (shared by its copies on a tape), learnt
/// from its first forward evaluation.
#[derive(Clone)]
pub(super) struct OutputLayout {
    lead: usize,
    cell: Arc<Mutex<Option<Layout>>>,
}

impl OutputLayout {
    pub(super) fn new(lead: usize) -> OutputLayout {
        OutputLayout {
            lead,
            cell: Arc::new(Mutex::new(None)),
        }
    }

    fn get(&self) -> Result<Layout> {
        self.cell
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| Error::Trace("internal error: a custom rule ran no forward pass".into()))
    }

    /// Take the layout another rule learnt (a batched copy: same layout).
    pub(super) fn adopt(&self, other: &OutputLayout) -> Result<()> {
        let l = other.get()?;
        *self.cell.lock().unwrap_or_else(|e| e.into_inner()) = Some(l);
        Ok(())
    }

    /// Learn the layout from the outputs of a forward evaluation.
    pub(super) fn record(&self, outs: &[Value], what: &str) -> Result<()> {
        let outputs = outs
            .iter()
            .map(|v| {
                let s = v.shape();
                if s.len() < self.lead {
                    return Err(Error::Value(format!(
                        "{what}: a batched function lost its batch axis"
                    )));
                }
                Ok((Shape::from_slice(&s[self.lead..]), v.dtype()))
            })
            .collect::<Result<Vec<_>>>()?;
        let packed = !(outs.len() == 1 && outs[0].dtype().is_float());
        *self.cell.lock().unwrap_or_else(|e| e.into_inner()) = Some(Layout { outputs, packed });
        Ok(())
    }

    /// Shapes and dtypes of the outputs (without the batch axes).
    pub(super) fn outputs(&self) -> Result<Vec<(Shape, DType)>> {
        Ok(self.get()?.outputs)
    }

    /// The outputs as the rule's one output value.
    pub(super) fn join(&self, outs: &[Value]) -> Result<Value> {
        if !self.get()?.packed {
            return Ok(outs[0].clone());
        }
        let lead: Vec<usize> = match outs.first() {
            Some(v) => v.shape()[..self.lead.min(v.ndim())].to_vec(),
            None => vec![],
        };
        pack(outs, &lead)
    }

    /// The outputs out of the rule's output value (`lead` batch axes in front).
    pub(super) fn split(&self, v: &Value, lead: usize) -> Result<Vec<Value>> {
        let l = self.get()?;
        if !l.packed {
            return Ok(vec![v.clone()]);
        }
        unpack(v, lead, &l.outputs)
    }
}

/// Leaves flattened after `lead` axes, as float64, concatenated.
fn pack(leaves: &[Value], lead: &[usize]) -> Result<Value> {
    let parts: Vec<Value> = leaves
        .iter()
        .map(|v| {
            let n: usize = v.shape()[lead.len()..].iter().product();
            let mut s: Shape = Shape::from_slice(lead);
            s.push(n);
            reshape(&convert(v, DType::F64)?, &s)
        })
        .collect::<Result<_>>()?;
    if parts.is_empty() {
        let mut s: Shape = Shape::from_slice(lead);
        s.push(0);
        return zeros(&s, DType::F64);
    }
    concatenate(&parts, lead.len() as isize)
}

/// The leaves of a packed value.
fn unpack(packed: &Value, lead: usize, leaves: &[(Shape, DType)]) -> Result<Vec<Value>> {
    let ps = packed.shape();
    let mut at = 0;
    let mut out = Vec::with_capacity(leaves.len());
    for (shape, dtype) in leaves {
        let n: usize = shape.iter().product();
        let mut starts = vec![0; ps.len()];
        let mut lens = ps.to_vec();
        starts[lead] = at;
        lens[lead] = n;
        let piece = slice(packed, &starts, &vec![1; ps.len()], &lens)?;
        let mut s: Shape = Shape::from_slice(&ps[..lead]);
        s.extend_from_slice(shape);
        out.push(convert(&reshape(&piece, &s)?, *dtype)?);
        at += n;
    }
    Ok(out)
}

/// `g` over axis 0 of every argument; every result batched (broadcast if
/// it does not depend on the axis).
pub(super) fn vmap_all(
    size: usize,
    args: &[Value],
    mut g: impl FnMut(&[Value]) -> Result<Vec<Value>>,
) -> Result<Vec<Value>> {
    let axes = vec![Some(0); args.len()];
    let (outs, _) = vmap(&mut |xs| Ok(Outputs::from(g(xs)?)), args, &axes, size)?;
    outs.into_iter()
        .map(|(v, b)| if b { Ok(v) } else { broadcast_batch(&v, size) })
        .collect()
}

//! The transforms, as Rust functions over Rust closures: `vjp`, `jvp`,
//! `linearize`, `vmap`, `value_and_grad`, `jacrev`, `jacfwd` and `hessian`. Each takes the
//! function as a [`Fun`] (flat lists of values in, [`Outputs`] out) and the
//! leaves it is applied to; pytrees, argnums and the like are the caller's
//! (the Python bindings map them onto these). They reach the primitives only
//! through `bind` (the ops' public functions) and the `Rule` of a tape node.
//!
//! Every check of the caller's input that needs no Python (dtypes, shapes,
//! argnums, axes, chunk sizes, scalar outputs) is made here, once.

mod args;
mod colouring;
mod custom_jvp;
mod custom_outputs;
mod custom_vjp;
mod grad;
mod jacobian;
mod jvp;
mod linearize;
mod sparse;
mod vjp;
mod vmap;

pub use args::{check_chunk_size, resolve_argnums};
pub use colouring::Colouring;
pub use custom_jvp::{custom_jvp_call, CustomJvp, CustomJvpFns};
pub use custom_vjp::{custom_vjp_call, CustomVjp, CustomVjpFns};
pub use grad::{grad, value_and_grad};
pub use jacobian::{
    basis_chunks, chunk_for_workers, hessian, jacfwd, jacobian_by_chunks, jacobian_chunk, jacrev,
    BasisChunk, ChunkRunner, JacobianMode,
};
pub use jvp::jvp;
pub use linearize::{linear_transpose, linearize};
pub use sparse::{
    hessian_sparsity_pattern, pattern_for, sparse_jacobian, sparsity_pattern, SparseJacobian,
    SparseMode, SparsePlan,
};
pub use vjp::{vjp, VjpFn};
pub use vmap::{batch_chunks, batch_size, batch_slice, join_batches, place_batch_axis, vmap};

use crate::error::{Error, Result};
use crate::tensor::{DType, Shape};
use crate::trace::{LevelRef, TracerKind, Value};

/// What a transformed function returns: its outputs (the values that are
/// differentiated or batched) and auxiliary values (returned as they are,
/// unwrapped from the transform's level: `has_aux`).
#[derive(Default, Clone)]
pub struct Outputs {
    pub values: Vec<Value>,
    pub aux: Vec<Value>,
}

impl From<Vec<Value>> for Outputs {
    fn from(values: Vec<Value>) -> Outputs {
        Outputs {
            values,
            aux: Vec::new(),
        }
    }
}

/// A function the transforms apply: leaves in, outputs out. Called once by
/// `vjp`, `jvp`, `vmap` and `value_and_grad`, once per basis chunk by
/// `jacfwd`.
pub type Fun<'a> = dyn FnMut(&[Value]) -> Result<Outputs> + 'a;

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

/// Only float values can be differentiated.
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

/// `f` called on values traced at `level`: its outputs (still traced) and
/// its auxiliary values unwrapped from the level.
fn call_traced(f: &mut Fun, traced: &[Value], level: LevelRef) -> Result<(Vec<Value>, Vec<Value>)> {
    let outs = f(traced)?;
    let aux = outs
        .aux
        .into_iter()
        .map(|a| unwrap_aux(a, level))
        .collect::<Result<Vec<_>>>()?;
    Ok((outs.values, aux))
}

/// An auxiliary value as the caller sees it: its primal at `level` if it is
/// traced there (aux is returned, never differentiated).
fn unwrap_aux(v: Value, level: LevelRef) -> Result<Value> {
    match v.at(level) {
        Some(
            TracerKind::Jvp { primal, .. }
            | TracerKind::Rev { primal, .. }
            | TracerKind::Sparse { primal, .. },
        ) => Ok(primal.clone()),
        Some(TracerKind::Batch { .. }) => Err(Error::Value(
            "an auxiliary output (has_aux) depends on the mapped axis of vmap; return it as an \
             output instead"
                .into(),
        )),
        None => Ok(v),
    }
}

/// `args` with the entries at `wrt` replaced by `sub` (in order).
fn splice(args: &[Value], wrt: &[usize], sub: &[Value]) -> Vec<Value> {
    let mut full = args.to_vec();
    for (&i, v) in wrt.iter().zip(sub) {
        full[i] = v.clone();
    }
    full
}

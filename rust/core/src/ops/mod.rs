//! The primitive set and its rules.
//!
//! Each family of primitives lives in one file with its forward evaluation,
//! JVP, VJP and batching rules, implemented through [`Rule`] (a trait with no
//! default methods, declared by `trace`: a family missing a rule does not compile), and `Prim`
//! dispatches with exhaustive matches (a new variant without rules does not
//! compile either). Everything else (mean, var, softmax, einsum, ...) is
//! composed from these in `composite.rs`, so it is differentiable and batchable
//! for free.

pub mod arrange;
pub mod binary;
pub mod composite;
pub mod contract;
pub mod conv;
pub mod creation;
pub mod decomp;
pub mod distributions;
pub mod elementwise;
pub mod index;
pub mod indexing;
pub mod lax;
pub mod linalg;
pub mod matrix;
pub mod nan;
pub mod nn;
pub mod numpy_linalg;
pub mod random;
pub mod reduce;
pub mod scipy_linalg;
pub mod series;
pub mod shape;
pub mod sorting;
pub mod sparsity;
pub mod special;
pub mod stats;
pub mod unary;
mod util;

use crate::error::Result;
use crate::tensor::Tensor;
pub use crate::trace::{Cotangents, Rule};
use crate::trace::{Deps, Value};

pub use binary::{BinaryOp, CompareOp};
pub use reduce::ReduceOp;
pub use unary::{PredicateOp, UnaryOp};
pub use util::*;

#[derive(Clone, Debug, PartialEq)]
pub enum Prim {
    Unary(UnaryOp),
    Predicate(PredicateOp),
    Binary(BinaryOp),
    Compare(CompareOp),
    Where(binary::Where),
    Reduce(reduce::Reduce),
    ArgReduce(reduce::ArgReduce),
    Cumsum(reduce::Cumsum),
    Reshape(shape::Reshape),
    BroadcastTo(shape::BroadcastTo),
    Transpose(shape::Transpose),
    Slice(shape::Slice),
    Unslice(shape::Unslice),
    Concat(shape::Concat),
    Convert(shape::Convert),
    Gather(index::Gather),
    ScatterAdd(index::ScatterAdd),
    MatMul(linalg::MatMul),
    Decomp(decomp::Decomp),
    Order(sorting::Order),
    Special(special::Special),
    Conv(conv::Conv),
}

macro_rules! each_prim {
    ($self:ident, $r:ident => $e:expr) => {
        match $self {
            Prim::Unary($r) => $e,
            Prim::Predicate($r) => $e,
            Prim::Binary($r) => $e,
            Prim::Compare($r) => $e,
            Prim::Where($r) => $e,
            Prim::Reduce($r) => $e,
            Prim::ArgReduce($r) => $e,
            Prim::Cumsum($r) => $e,
            Prim::Reshape($r) => $e,
            Prim::BroadcastTo($r) => $e,
            Prim::Transpose($r) => $e,
            Prim::Slice($r) => $e,
            Prim::Unslice($r) => $e,
            Prim::Concat($r) => $e,
            Prim::Convert($r) => $e,
            Prim::Gather($r) => $e,
            Prim::ScatterAdd($r) => $e,
            Prim::MatMul($r) => $e,
            Prim::Decomp($r) => $e,
            Prim::Order($r) => $e,
            Prim::Special($r) => $e,
            Prim::Conv($r) => $e,
        }
    };
}

/// The rules of one family of primitives: what [`Rule`] asks of a primitive,
/// with no default methods (a family missing one does not compile).
pub trait Family {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor>;
    fn jvp(
        &self,
        primals: &[Value],
        tangents: &[Option<Value>],
        out: &Value,
    ) -> Result<Option<Value>>;
    fn vjp(&self, primals: &[Value], out: &Value, ct: &Value, needs: &[bool])
        -> Result<Cotangents>;
    fn batch(&self, vals: &[Value], batched: &[bool], size: usize) -> Result<(Value, bool)>;
    fn sparsity(
        &self,
        primals: &[Value],
        deps: &[Option<&Deps>],
        out: &Value,
    ) -> Result<Option<Deps>>;
    fn differentiable(&self) -> bool;
}

impl Rule for Prim {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        each_prim!(self, r => r.eval(inputs))
    }
    fn jvp(&self, p: &[Value], t: &[Option<Value>], out: &Value) -> Result<Option<Value>> {
        each_prim!(self, r => r.jvp(p, t, out))
    }
    fn vjp(&self, p: &[Value], out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        each_prim!(self, r => r.vjp(p, out, ct, needs))
    }
    fn batch(&self, v: &[Value], b: &[bool], size: usize) -> Result<(Value, bool)> {
        each_prim!(self, r => r.batch(v, b, size))
    }
    fn sparsity(&self, p: &[Value], d: &[Option<&Deps>], out: &Value) -> Result<Option<Deps>> {
        each_prim!(self, r => r.sparsity(p, d, out))
    }
    fn differentiable(&self) -> bool {
        each_prim!(self, r => r.differentiable())
    }
    fn boxed(&self) -> Box<dyn Rule> {
        Box::new(self.clone())
    }
}

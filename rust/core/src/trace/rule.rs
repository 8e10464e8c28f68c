//! The rules every primitive gives. The trace declares them; `ops` implements
//! them for its primitive set (an exhaustive `match` over `ops::Prim`, so a
//! primitive missing a rule does not compile). The trace and the transforms
//! know primitives only through this trait.

use smallvec::SmallVec;

use crate::error::Result;
use crate::tensor::Tensor;
use crate::trace::{Deps, Value};

/// Cotangents for each input of a primitive (`None`: a symbolic zero).
pub type Cotangents = SmallVec<[Option<Value>; 4]>;

/// The rules every primitive must give (no default methods).
pub trait Rule: Send + Sync + 'static {
    /// Forward evaluation on concrete tensors (calls kernels).
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor>;
    /// Tangent of the output from the input tangents (`None`: zero), or `None`.
    fn jvp(
        &self,
        primals: &[Value],
        tangents: &[Option<Value>],
        out: &Value,
    ) -> Result<Option<Value>>;
    /// Cotangent of each input whose `needs` flag is set, from the output cotangent.
    fn vjp(&self, primals: &[Value], out: &Value, ct: &Value, needs: &[bool])
        -> Result<Cotangents>;
    /// Apply to values of which those flagged `batched` carry a leading batch axis of
    /// length `size`; returns the result and whether it carries one.
    fn batch(&self, vals: &[Value], batched: &[bool], size: usize) -> Result<(Value, bool)>;
    /// Which traced input elements each output element depends on, from the
    /// inputs' sets (`None`: untraced); `None` when it depends on none. Sets
    /// may over-approximate (a dependency the values make vanish is kept),
    /// never under-approximate.
    fn sparsity(
        &self,
        primals: &[Value],
        deps: &[Option<&Deps>],
        out: &Value,
    ) -> Result<Option<Deps>>;
    /// False for primitives whose outputs carry no derivative (comparisons, argmax).
    fn differentiable(&self) -> bool;
    /// A copy of this rule for a reverse-mode tape (which outlives the call).
    fn boxed(&self) -> Box<dyn Rule>;
}

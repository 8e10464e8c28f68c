//! Values, levels and `bind`: the interpreter stack that makes transforms nest.
//!
//! Every traced value carries the level (depth + unique id) of the transform
//! that owns it. `bind` finds the highest level among its inputs and applies
//! that level's rule; rules call ops on lower-level values, so derivatives are
//! themselves differentiable and the recursion ends at a kernel. Values of a
//! level that has exited are detected (the id no longer matches) and refused.

pub mod deps;
mod rule;
pub mod tape;

use std::cell::RefCell;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::tensor::{DType, Shape, Tensor};
pub use deps::Deps;
pub use rule::{Cotangents, Rule};
pub use tape::{Node, Tape};

/// A concrete tensor or a tracer of some transform level.
#[derive(Clone)]
pub enum Value {
    Concrete(Tensor),
    Tracer(Arc<Tracer>),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Concrete(t) => write!(f, "{t:?}"),
            Value::Tracer(t) => write!(f, "Tracer(level {}, {:?})", t.level.depth, self.dtype()),
        }
    }
}

impl From<Tensor> for Value {
    fn from(t: Tensor) -> Value {
        Value::Concrete(t)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LevelRef {
    pub depth: u32,
    pub id: u64,
}

pub struct Tracer {
    pub level: LevelRef,
    pub kind: TracerKind,
}

pub enum TracerKind {
    /// Forward mode: a primal and its (non-zero) tangent.
    Jvp { primal: Value, tangent: Value },
    /// Reverse mode: a primal and its node in the level's tape.
    Rev { primal: Value, node: u32 },
    /// Batching: the value with the batch axis in front (always axis 0).
    Batch { value: Value },
    /// Sparsity detection: a primal and which input elements each of its
    /// elements depends on.
    Sparse { primal: Value, deps: Arc<Deps> },
}

/// What kind of transform a level is.
pub enum LevelKind {
    Jvp,
    Rev(Tape),
    Batch { size: usize },
    Sparsity,
}

struct Level {
    id: u64,
    kind: LevelKind,
}

/// Level ids, unique process-wide.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    static STACK: RefCell<Vec<Level>> = const { RefCell::new(Vec::new()) };

}

/// Pushes a level on creation; pops it (and anything above it) when dropped,
/// so an error or a panic unwinding through a transform leaves no state behind.
pub struct LevelGuard {
    level: LevelRef,
    done: bool,
}

impl LevelGuard {
    pub fn push(kind: LevelKind) -> LevelGuard {
        // ids are unique across threads, so a tracer leaked from another thread can
        // never match a level of this one
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let depth = STACK.with(|s| {
            let mut s = s.borrow_mut();
            s.push(Level { id, kind });
            s.len() - 1
        });
        LevelGuard {
            level: LevelRef {
                depth: depth as u32,
                id,
            },
            done: false,
        }
    }

    pub fn level(&self) -> LevelRef {
        self.level
    }

    /// Pop the level and hand back its state (the tape of a reverse level).
    pub fn finish(mut self) -> Result<LevelKind> {
        self.done = true;
        STACK.with(|s| {
            let mut s = s.borrow_mut();
            let kind = s.drain(self.level.depth as usize..).next().map(|l| l.kind);
            kind.ok_or_else(|| internal("a transform level left the stack before it finished"))
        })
    }
}

impl Drop for LevelGuard {
    fn drop(&mut self) {
        if !self.done {
            STACK.with(|s| {
                if let Ok(mut s) = s.try_borrow_mut() {
                    s.truncate(self.level.depth as usize);
                }
            });
        }
    }
}

/// An error for a broken invariant of the trace (a bug, reported rather than panicking).
fn internal(what: &str) -> Error {
    Error::Trace(format!("internal error in ferrax (please report): {what}"))
}

/// Number of live levels on this thread (for tests and diagnostics).
pub fn depth() -> usize {
    STACK.with(|s| s.borrow().len())
}

#[derive(Clone, Copy)]
enum Top {
    Jvp,
    Rev,
    Batch(usize),
    Sparsity,
}

fn check_live(l: LevelRef) -> Result<()> {
    let ok = STACK.with(|s| s.borrow().get(l.depth as usize).map(|x| x.id) == Some(l.id));
    if ok {
        Ok(())
    } else {
        Err(escaped())
    }
}

fn escaped() -> Error {
    Error::Trace(
        "a traced value escaped the transform that created it (for example by being stored in \
         a global or returned through a side channel) and was used after that transform \
         finished; return it from the function instead"
            .into(),
    )
}

/// [`check_live`] for every tracer among `inputs`, then the kind of the level
/// at `depth`, in one access to the thread's stack (`bind` runs this on every
/// traced op).
fn live_and_top_kind(inputs: &[Value], depth: u32) -> Result<Top> {
    STACK.with(|s| {
        let s = s.borrow();
        for v in inputs {
            if let Value::Tracer(t) = v {
                if s.get(t.level.depth as usize).map(|x| x.id) != Some(t.level.id) {
                    return Err(escaped());
                }
            }
        }
        Ok(Top::of(&s[depth as usize].kind))
    })
}

fn top_kind(depth: u32) -> Top {
    STACK.with(|s| Top::of(&s.borrow()[depth as usize].kind))
}

impl Top {
    fn of(kind: &LevelKind) -> Top {
        match kind {
            LevelKind::Jvp => Top::Jvp,
            LevelKind::Rev(_) => Top::Rev,
            LevelKind::Batch { size } => Top::Batch(*size),
            LevelKind::Sparsity => Top::Sparsity,
        }
    }
}

/// The batch size of a live batch level.
pub fn batch_size(level: LevelRef) -> Result<usize> {
    check_live(level)?;
    match top_kind(level.depth) {
        Top::Batch(n) => Ok(n),
        _ => Err(Error::Trace("not a batch level".into())),
    }
}

impl Value {
    pub fn tracer(level: LevelRef, kind: TracerKind) -> Value {
        Value::Tracer(Arc::new(Tracer { level, kind }))
    }

    /// The tracer payload of this value if it is a tracer of `level`.
    pub fn at(&self, level: LevelRef) -> Option<&TracerKind> {
        match self {
            Value::Tracer(t) if t.level == level => Some(&t.kind),
            _ => None,
        }
    }

    /// The logical shape (without batch axes).
    pub fn shape(&self) -> Shape {
        match self {
            Value::Concrete(t) => Shape::from_slice(t.shape()),
            Value::Tracer(t) => match &t.kind {
                TracerKind::Jvp { primal, .. }
                | TracerKind::Rev { primal, .. }
                | TracerKind::Sparse { primal, .. } => primal.shape(),
                TracerKind::Batch { value } => {
                    let s = value.shape();
                    Shape::from_slice(&s[1..])
                }
            },
        }
    }

    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    pub fn size(&self) -> usize {
        self.shape().iter().product()
    }

    pub fn dtype(&self) -> DType {
        match self {
            Value::Concrete(t) => t.dtype(),
            Value::Tracer(t) => match &t.kind {
                TracerKind::Jvp { primal, .. }
                | TracerKind::Rev { primal, .. }
                | TracerKind::Sparse { primal, .. } => primal.dtype(),
                TracerKind::Batch { value } => value.dtype(),
            },
        }
    }

    pub fn as_concrete(&self) -> Option<&Tensor> {
        match self {
            Value::Concrete(t) => Some(t),
            Value::Tracer(_) => None,
        }
    }

    /// The concrete value behind any stack of differentiation tracers, for
    /// Python control flow. Under `vmap` there is no single value: an error says so.
    pub fn concrete(&self) -> Result<Tensor> {
        match self {
            Value::Concrete(t) => Ok(t.clone()),
            Value::Tracer(t) => {
                check_live(t.level)?;
                match &t.kind {
                    TracerKind::Jvp { primal, .. } | TracerKind::Rev { primal, .. } => {
                        primal.concrete()
                    }
                    TracerKind::Batch { .. } => Err(Error::Trace(
                        "a value-dependent Python branch (if/while/bool()/float()/item()) on a \
                         batched value inside vmap: a batched value has one value per example, \
                         not one; use fx.where(cond, a, b) instead of branching"
                            .into(),
                    )),
                    TracerKind::Sparse { .. } => Err(Error::Trace(
                        "sparsity detection cannot follow value-dependent control flow \
                         (if/while/bool()/float()/item() on a traced value, or an op that reads \
                         its input's values to decide a shape): the pattern would hold at this \
                         point only; pass the pattern explicitly with sparsity=, or write the \
                         branch with fx.where"
                            .into(),
                    )),
                }
            }
        }
    }

    /// The tensor behind any stack of tracers, batch axes included: under
    /// `vmap`, every example's value at once. For bounds that must hold for
    /// all examples (a step count, a scaling), never for per-example values.
    pub fn physical(&self) -> Result<Tensor> {
        match self {
            Value::Concrete(t) => Ok(t.clone()),
            Value::Tracer(t) => {
                check_live(t.level)?;
                match &t.kind {
                    TracerKind::Jvp { primal, .. }
                    | TracerKind::Rev { primal, .. }
                    | TracerKind::Sparse { primal, .. } => primal.physical(),
                    TracerKind::Batch { value } => value.physical(),
                }
            }
        }
    }

    /// Whether the value is a tracer of a level that no longer exists.
    pub fn check_live(&self) -> Result<()> {
        match self {
            Value::Concrete(_) => Ok(()),
            Value::Tracer(t) => check_live(t.level),
        }
    }
}

/// The value of `v` with zero derivative under every enclosing differentiation
/// level; batch levels are kept (it is still one value per example).
pub fn stop_gradient(v: &Value) -> Result<Value> {
    match v {
        Value::Concrete(_) => Ok(v.clone()),
        Value::Tracer(t) => {
            check_live(t.level)?;
            match &t.kind {
                TracerKind::Jvp { primal, .. }
                | TracerKind::Rev { primal, .. }
                | TracerKind::Sparse { primal, .. } => stop_gradient(primal),
                TracerKind::Batch { value } => Ok(Value::tracer(
                    t.level,
                    TracerKind::Batch {
                        value: stop_gradient(value)?,
                    },
                )),
            }
        }
    }
}

/// `prim` on concrete inputs, outside every transform: what [`bind`] does
/// when no input is traced, for callers that hold the tensors already (and
/// would otherwise clone them into `Value`s only to have them unwrapped).
#[inline]
pub fn eval_concrete<R: Rule + ?Sized>(prim: &R, inputs: &[&Tensor]) -> Result<Value> {
    let out = prim.eval(inputs)?;
    // an interrupted kernel stops early and leaves its result incomplete
    crate::interrupt::check()?;
    Ok(Value::Concrete(out))
}

/// Apply a primitive to values, at the level of the highest tracer among them.
pub fn bind<R: Rule + ?Sized>(prim: &R, inputs: &[Value]) -> Result<Value> {
    let mut top: Option<LevelRef> = None;
    for v in inputs {
        if let Value::Tracer(t) = v {
            if top.is_none_or(|l| t.level.depth > l.depth) {
                top = Some(t.level);
            }
        }
    }
    let Some(level) = top else {
        let ts: SmallVec<[&Tensor; 4]> = inputs.iter().filter_map(Value::as_concrete).collect();
        return eval_concrete(prim, &ts);
    };
    // one look at the level stack for every input's liveness and the top's kind
    let kind = live_and_top_kind(inputs, level.depth)?;
    for v in inputs {
        let ok = matches!(
            (v.at(level), kind),
            (None, _)
                | (Some(TracerKind::Jvp { .. }), Top::Jvp)
                | (Some(TracerKind::Rev { .. }), Top::Rev)
                | (Some(TracerKind::Batch { .. }), Top::Batch(_))
                | (Some(TracerKind::Sparse { .. }), Top::Sparsity)
        );
        if !ok {
            return Err(Error::Trace("a traced value does not belong to the transform level it claims (it escaped its transform)".into()));
        }
    }
    match kind {
        Top::Jvp => {
            let mut primals: SmallVec<[Value; 4]> = SmallVec::new();
            let mut tangents: SmallVec<[Option<Value>; 4]> = SmallVec::new();
            for v in inputs {
                match v.at(level) {
                    Some(TracerKind::Jvp { primal, tangent }) => {
                        primals.push(primal.clone());
                        tangents.push(Some(tangent.clone()));
                    }
                    _ => {
                        primals.push(v.clone());
                        tangents.push(None);
                    }
                }
            }
            let out = bind(prim, &primals)?;
            match prim.jvp(&primals, &tangents, &out)? {
                None => Ok(out),
                Some(tangent) => Ok(Value::tracer(
                    level,
                    TracerKind::Jvp {
                        primal: out,
                        tangent,
                    },
                )),
            }
        }
        Top::Rev => {
            let mut primals: SmallVec<[Value; 2]> = SmallVec::new();
            let mut parents: SmallVec<[Option<u32>; 2]> = SmallVec::new();
            for v in inputs {
                match v.at(level) {
                    Some(TracerKind::Rev { primal, node }) => {
                        primals.push(primal.clone());
                        parents.push(Some(*node));
                    }
                    _ => {
                        primals.push(v.clone());
                        parents.push(None);
                    }
                }
            }
            let out = bind(prim, &primals)?;
            if !prim.differentiable() || !out.dtype().is_float() {
                return Ok(out);
            }
            let node = Node {
                rule: Some(prim.boxed()),
                inputs: primals,
                output: out.clone(),
                parents,
            };
            let id = STACK.with(|s| match &mut s.borrow_mut()[level.depth as usize].kind {
                LevelKind::Rev(tape) => tape.push(node),
                _ => Err(internal("a reverse level without a tape")),
            })?;
            Ok(Value::tracer(
                level,
                TracerKind::Rev {
                    primal: out,
                    node: id,
                },
            ))
        }
        Top::Batch(size) => {
            let mut vals: SmallVec<[Value; 4]> = SmallVec::new();
            let mut batched: SmallVec<[bool; 4]> = SmallVec::new();
            for v in inputs {
                match v.at(level) {
                    Some(TracerKind::Batch { value }) => {
                        vals.push(value.clone());
                        batched.push(true);
                    }
                    _ => {
                        vals.push(v.clone());
                        batched.push(false);
                    }
                }
            }
            let (out, is_batched) = prim.batch(&vals, &batched, size)?;
            Ok(if is_batched {
                Value::tracer(level, TracerKind::Batch { value: out })
            } else {
                out
            })
        }
        Top::Sparsity => {
            let mut primals: SmallVec<[Value; 4]> = SmallVec::new();
            let mut deps: SmallVec<[Option<&Deps>; 4]> = SmallVec::new();
            for v in inputs {
                match v.at(level) {
                    Some(TracerKind::Sparse { primal, deps: d }) => {
                        primals.push(primal.clone());
                        deps.push(Some(d));
                    }
                    _ => {
                        primals.push(v.clone());
                        deps.push(None);
                    }
                }
            }
            let out = bind(prim, &primals)?;
            if !prim.differentiable() || !out.dtype().is_float() {
                return Ok(out);
            }
            match prim.sparsity(&primals, &deps, &out)? {
                Some(d) if !d.is_empty() => Ok(Value::tracer(
                    level,
                    TracerKind::Sparse {
                        primal: out,
                        deps: Arc::new(d),
                    },
                )),
                _ => Ok(out),
            }
        }
    }
}

/// Append a leaf (an input of a reverse level) to that level's tape.
pub fn new_leaf(level: LevelRef, primal: Value) -> Result<Value> {
    let node = Node {
        rule: None,
        inputs: SmallVec::new(),
        output: primal.clone(),
        parents: SmallVec::new(),
    };
    let id = STACK.with(|s| match &mut s.borrow_mut()[level.depth as usize].kind {
        LevelKind::Rev(tape) => tape.push(node),
        _ => Err(Error::Trace("not a reverse level".into())),
    })?;
    Ok(Value::tracer(level, TracerKind::Rev { primal, node: id }))
}

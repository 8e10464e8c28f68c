//! Deferred elementwise chains, evaluated tile by tile.
//!
//! A chain of elementwise ops over large arrays (a forward pass and the VJP
//! rules of its gradient, say) is bound by memory when every op makes a full
//! pass: once the live arrays outgrow the caches, each op streams its inputs
//! and output through DRAM. So on large inputs the elementwise drivers do not
//! compute: they return a tensor whose storage is [`Deferred`], holding the op's
//! tile kernel and its input tensors. The first access to the data (a kernel
//! that is not elementwise, NumPy, `repr`) evaluates the whole pending chain
//! below it in tiles of [`TILE`] elements: every intermediate of a tile stays
//! in cache and only the leaves and the result touch memory.
//!
//! Each op's element function is the same as in the eager path, so results are
//! bit-identical. Intermediates are not kept: one shared by two chains (a
//! forward value that the gradient reads again) is recomputed by the second,
//! which is cheaper than a memory pass; a third chain that needs it computes
//! and keeps it ([`MAX_INLINE`]), so work never grows beyond 3x. The size of
//! one chain is capped ([`MAX_NODES`]). Arrays below [`fusion_min`] elements (cache
//! resident anyway) are computed eagerly, as are broadcasts and strided views.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::kernels::parallel::{for_each_chunk_mut, map_tasks, num_threads, worth_parallel};
use crate::tensor::shape::numel;
use crate::tensor::{AlignedBuf, DType, Element, Storage, Tensor};
use crate::with_dtype;

/// Elements per tile: a tile of every node of a full chain fits in L2.
pub const TILE: usize = 2048;

/// Largest number of pending ops one chain may hold; a new op over larger
/// chains computes its inputs first.
pub const MAX_NODES: usize = 48;

/// How many chains may recompute a pending op before one keeps it.
pub const MAX_INLINE: usize = 2;

/// Default for [`fusion_min`].
const DEFAULT_FUSION_MIN: usize = 64 * 1024;

/// Arrays with at least this many elements are deferred.
/// `FERRAX_FUSION_MIN` overrides it at start-up (the tests set 1, to run every
/// op through the deferred path; a huge value turns deferral off).
pub fn fusion_min() -> usize {
    static MIN: OnceLock<usize> = OnceLock::new();
    *MIN.get_or_init(|| {
        std::env::var("FERRAX_FUSION_MIN")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(DEFAULT_FUSION_MIN)
            .max(1)
    })
}

/// A tile of a node's input, typed.
#[derive(Clone, Copy)]
pub enum TileIn<'a> {
    Bool(&'a [bool]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    F32(&'a [f32]),
    F64(&'a [f64]),
}

/// A tile of a node's output, typed.
pub enum TileOut<'a> {
    Bool(&'a mut [bool]),
    I32(&'a mut [i32]),
    I64(&'a mut [i64]),
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
}

impl<'a> TileIn<'a> {
    fn range(self, start: usize, end: usize) -> TileIn<'a> {
        match self {
            TileIn::Bool(s) => TileIn::Bool(&s[start..end]),
            TileIn::I32(s) => TileIn::I32(&s[start..end]),
            TileIn::I64(s) => TileIn::I64(&s[start..end]),
            TileIn::F32(s) => TileIn::F32(&s[start..end]),
            TileIn::F64(s) => TileIn::F64(&s[start..end]),
        }
    }
}

/// An op's kernel over one tile: `inputs` in the order of the op's inputs.
pub type TileKernel = Arc<dyn Fn(&[TileIn<'_>], TileOut<'_>) + Send + Sync>;

/// What a deferred storage computes: an elementwise op over its inputs
/// (part of a chain), or a whole-array reduction of a chain (its root).
#[derive(Clone)]
enum Pending {
    Map(Arc<Plan>),
    Fold(Arc<dyn Fn() -> Result<Storage> + Send + Sync>),
}

/// An elementwise op of a chain.
struct Plan {
    /// Contiguous tensors with exactly the output's number of elements.
    inputs: SmallVec<[Tensor; 2]>,
    kernel: TileKernel,
}

/// The storage of a tensor whose values are not computed yet.
pub struct Deferred {
    dtype: DType,
    len: usize,
    value: OnceLock<Box<Storage>>,
    /// Chains that have computed this op as an intermediate.
    inlined: AtomicUsize,
    /// Dropped once `value` is set (releasing the inputs).
    plan: Mutex<Option<Pending>>,
}

impl Deferred {
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_resolved(&self) -> bool {
        self.value.get().is_some()
    }

    /// The computed values (computing the chain on first call). Allocation
    /// failure panics with an [`Error::OutOfMemory`] payload, which the
    /// bindings turn into `MemoryError`.
    pub fn resolve(&self) -> &Storage {
        self.value.get_or_init(|| {
            let pending = self
                .plan
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .expect("a deferred value keeps its plan until computed");
            let computed = match pending {
                Pending::Map(plan) => evaluate(self.dtype, self.len, &plan),
                Pending::Fold(thunk) => thunk(),
            };
            let storage = match computed {
                Ok(s) => s,
                Err(e) => std::panic::panic_any(e),
            };
            *self.plan.lock().unwrap_or_else(|e| e.into_inner()) = None;
            Box::new(storage)
        })
    }

    /// The elementwise op, if the values are not computed yet (a pending
    /// reduction is not part of any chain: it is read as a computed leaf).
    fn pending(&self) -> Option<Arc<Plan>> {
        if self.value.get().is_some() {
            return None;
        }
        match &*self.plan.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(Pending::Map(p)) => Some(p.clone()),
            _ => None,
        }
    }
}

/// The deferred storage behind `t` if `t` reads it whole and in order (a
/// tile of `t` is then the same tile of the storage's chain). Slices, offset
/// views and the like of a deferred storage read it as a computed leaf.
fn whole_deferred(t: &Tensor) -> Option<&Deferred> {
    match &**t.storage() {
        Storage::Deferred(d) if t.offset() == 0 && t.size() == d.len && t.is_contiguous() => {
            Some(d)
        }
        _ => None,
    }
}

/// Distinct pending ops in the chains below `inputs`, counted up to `limit`
/// (a shared op counts once: a forward value read by several VJP rules).
fn pending_ops(inputs: &[Tensor], limit: usize) -> usize {
    fn visit(t: &Tensor, seen: &mut SmallVec<[usize; 64]>, limit: usize) {
        if seen.len() > limit {
            return;
        }
        let Some(d) = whole_deferred(t) else { return };
        let key = d as *const Deferred as usize;
        if seen.contains(&key) {
            return;
        }
        if let Some(plan) = d.pending() {
            seen.push(key);
            for u in &plan.inputs {
                visit(u, seen, limit);
            }
        }
    }
    let mut seen = SmallVec::new();
    for t in inputs {
        visit(t, &mut seen, limit);
    }
    seen.len()
}

/// Whether an elementwise op producing `size` elements from `inputs` (all of
/// exactly that size) should be deferred.
pub fn should_defer(size: usize, inputs: &[&Tensor]) -> bool {
    size >= fusion_min() && inputs.iter().all(|t| t.size() == size && t.is_contiguous())
}

/// A tensor of `shape` and `dtype` whose values are `kernel` applied to
/// `inputs` (contiguous, each of `numel(shape)` elements), computed when read.
pub fn defer(
    dtype: DType,
    shape: &[usize],
    inputs: SmallVec<[Tensor; 2]>,
    kernel: TileKernel,
) -> Tensor {
    // A pending storage read through a view (a slice, an offset) is a leaf of
    // this chain: compute it now, so that pending ops only ever link through
    // whole reads, which the cap below counts (otherwise a loop of `x[1:] + 1`
    // would nest pending ops without bound, and computing or dropping them
    // would recurse that deep).
    for t in &inputs {
        if let Storage::Deferred(d) = &**t.storage() {
            if whole_deferred(t).is_none() {
                d.resolve();
            }
        }
    }
    if 1 + pending_ops(&inputs, MAX_NODES) > MAX_NODES {
        // Cap the chain: compute the inputs now, so this op starts a new one.
        for t in &inputs {
            if let Some(d) = whole_deferred(t) {
                d.resolve();
            }
        }
    }
    let len = numel(shape);
    let storage = Storage::Deferred(Deferred {
        dtype,
        len,
        value: OnceLock::new(),
        inlined: AtomicUsize::new(0),
        plan: Mutex::new(Some(Pending::Map(Arc::new(Plan { inputs, kernel })))),
    });
    Tensor::from_storage(storage, shape)
}

/// Where a node of a chain reads an input from.
#[derive(Clone, Copy)]
enum Arg {
    /// A tensor with values (index into `Chain::leaves`).
    Leaf(usize),
    /// The tile of an earlier node.
    Node(usize),
}

/// A pending chain in evaluation order; the last node is the root.
struct Chain {
    leaves: Vec<Tensor>,
    nodes: Vec<(Arc<Plan>, DType, SmallVec<[Arg; 2]>)>,
    /// Deferred storages already placed, by address, and their node.
    seen: Vec<(usize, usize)>,
}

impl Chain {
    fn arg(&mut self, t: &Tensor) -> Arg {
        let key = Arc::as_ptr(t.storage()) as usize;
        if let Some(&(_, i)) = self.seen.iter().find(|(p, _)| *p == key) {
            return Arg::Node(i);
        }
        if let Some(d) = whole_deferred(t) {
            if d.inlined.fetch_add(1, Ordering::Relaxed) >= MAX_INLINE {
                d.resolve(); // computed and kept: a leaf from now on
            } else if let Some(plan) = d.pending() {
                let i = self.add(plan, d.dtype);
                self.seen.push((key, i));
                return Arg::Node(i);
            }
        }
        // the same data read twice (`x * x`) is one leaf
        let same = |l: &Tensor| {
            Arc::ptr_eq(l.storage(), t.storage())
                && l.offset() == t.offset()
                && l.dtype() == t.dtype()
        };
        if let Some(i) = self.leaves.iter().position(same) {
            return Arg::Leaf(i);
        }
        self.leaves.push(t.clone());
        Arg::Leaf(self.leaves.len() - 1)
    }

    fn add(&mut self, plan: Arc<Plan>, dtype: DType) -> usize {
        let args = plan.inputs.iter().map(|t| self.arg(t)).collect();
        self.nodes.push((plan, dtype, args));
        self.nodes.len() - 1
    }
}

impl Chain {
    /// The pending chain whose root is `plan` (of `dtype`).
    fn of(plan: &Arc<Plan>, dtype: DType) -> Chain {
        let mut chain = Chain {
            leaves: Vec::new(),
            nodes: Vec::new(),
            seen: Vec::new(),
        };
        chain.add(plan.clone(), dtype);
        chain
    }

    /// Leaves as whole slices (computing any deferred leaf happens here, before
    /// the tile loop: `resolve` of an already computed node is a load).
    fn leaf_slices(&self) -> Vec<TileIn<'_>> {
        self.leaves
            .iter()
            .map(|t| with_dtype!(t.dtype(), T => T::tile_in(t.as_slice::<T>().expect("contiguous leaf"))))
            .collect()
    }

    /// Scratch tiles: one per node but the root (one set per task).
    fn scratch(&self) -> Result<Vec<Storage>> {
        self.nodes[..self.nodes.len() - 1]
            .iter()
            .map(|(_, dt, _)| with_dtype!(*dt, T => Ok(T::wrap(AlignedBuf::<T>::for_overwrite(TILE)?))))
            .collect()
    }
}

/// Elements per task: several tiles (one scratch set per task), a few tasks
/// per thread.
fn task_len(len: usize) -> usize {
    if worth_parallel(len) {
        (len.div_ceil(4 * num_threads() * TILE)).max(1) * TILE
    } else {
        len.max(1)
    }
}

/// Compute a chain whose root is `plan` into a fresh storage of `len` elements.
fn evaluate(dtype: DType, len: usize, plan: &Arc<Plan>) -> Result<Storage> {
    let chain = Chain::of(plan, dtype);
    let leaves = chain.leaf_slices();
    let per_task = task_len(len);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let storage = with_dtype!(dtype, R => {
        let mut out = AlignedBuf::<R>::for_overwrite(len)?;
        for_each_chunk_mut(out.as_mut_slice(), per_task, |task, part| {
            let mut bufs = match chain.scratch() {
                Ok(b) => b,
                Err(e) => {
                    *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    return;
                }
            };
            let base = task * per_task;
            let mut start = 0;
            while start < part.len() {
                let end = (start + TILE).min(part.len());
                run_tile(&chain, &leaves, &mut bufs, base + start, base + end, R::tile_out(&mut part[start..end]));
                start = end;
            }
        });
        R::wrap(out)
    });
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(storage),
    }
}

/// Whether `x` is a pending elementwise chain read whole (a reduction over all
/// of it can be deferred with [`defer_fold`]).
pub fn is_pending_chain(x: &Tensor) -> bool {
    whole_deferred(x).is_some_and(|d| d.pending().is_some())
}

/// Bytes of chain input that unread reductions may keep alive: a kept loss
/// (`losses.append(fx.sum(...))`) holds its whole chain until read, so past
/// this budget new reductions are computed at once.
const FOLD_BUDGET_BYTES: usize = 64 << 20;

/// Bytes currently held by pending reductions (see [`FOLD_BUDGET_BYTES`]).
static FOLD_BYTES: AtomicUsize = AtomicUsize::new(0);

/// A share of the fold budget, returned when the reduction is computed or dropped.
struct FoldShare(usize);

impl Drop for FoldShare {
    fn drop(&mut self) {
        FOLD_BYTES.fetch_sub(self.0, Ordering::Relaxed);
    }
}

/// A 0-d tensor whose value is the reduction of the pending chain `x` (see
/// [`is_pending_chain`]): each tile of the chain is folded by `fold_tile` as
/// it is computed (the chain's result is never written), and the tile results
/// are combined pairwise in order. Computed when read, or at once when unread
/// reductions already hold [`FOLD_BUDGET_BYTES`]. `None` if `x` was computed
/// meanwhile (by another thread): the caller reduces it as usual.
pub fn defer_fold<T: Element>(
    x: &Tensor,
    fold_tile: impl Fn(&[T]) -> T + Send + Sync + 'static,
    combine: impl Fn(T, T) -> T + Send + Sync + 'static,
    identity: T,
) -> Option<Tensor> {
    let plan = whole_deferred(x).and_then(|d| d.pending())?;
    let len = x.size();
    let bytes = len * std::mem::size_of::<T>();
    let share = if FOLD_BYTES.fetch_add(bytes, Ordering::Relaxed) + bytes > FOLD_BUDGET_BYTES {
        FOLD_BYTES.fetch_sub(bytes, Ordering::Relaxed);
        None
    } else {
        Some(FoldShare(bytes))
    };
    let compute_now = share.is_none();
    let thunk = move || -> Result<Storage> {
        let _held = &share;
        let chain = Chain::of(&plan, T::DTYPE);
        let leaves = chain.leaf_slices();
        let per_task = task_len(len);
        let parts = map_tasks(len.div_ceil(per_task), |task| -> Result<Vec<T>> {
            let mut bufs = chain.scratch()?;
            let mut root = AlignedBuf::<T>::for_overwrite(TILE)?;
            let (lo, hi) = (task * per_task, ((task + 1) * per_task).min(len));
            let mut partial = Vec::with_capacity((hi - lo).div_ceil(TILE));
            let mut start = lo;
            while start < hi {
                let end = (start + TILE).min(hi);
                let tile = &mut root.as_mut_slice()[..end - start];
                run_tile(&chain, &leaves, &mut bufs, start, end, T::tile_out(tile));
                partial.push(fold_tile(tile));
                start = end;
            }
            Ok(partial)
        });
        let mut tiles = Vec::new();
        for p in parts {
            tiles.extend(p?);
        }
        let total = pairwise(&tiles, &combine).unwrap_or(identity);
        Ok(T::wrap(AlignedBuf::from_slice(&[total])?))
    };
    let storage = Storage::Deferred(Deferred {
        dtype: T::DTYPE,
        len: 1,
        value: OnceLock::new(),
        inlined: AtomicUsize::new(0),
        plan: Mutex::new(Some(Pending::Fold(Arc::new(thunk)))),
    });
    let t = Tensor::from_storage(storage, &[]);
    if compute_now {
        t.realize();
    }
    Some(t)
}

/// `combine` over `v` as a balanced tree (a float sum's error grows like
/// log(len)); `None` for an empty slice.
fn pairwise<T: Copy>(v: &[T], combine: &impl Fn(T, T) -> T) -> Option<T> {
    match v.len() {
        0 => None,
        1 => Some(v[0]),
        n => {
            let (a, b) = v.split_at(n / 2);
            Some(combine(pairwise(a, combine)?, pairwise(b, combine)?))
        }
    }
}

/// Every node of `chain` over elements `start..end`; the root writes `out`.
fn run_tile(
    chain: &Chain,
    leaves: &[TileIn<'_>],
    bufs: &mut [Storage],
    start: usize,
    end: usize,
    out: TileOut<'_>,
) {
    let n = end - start;
    let last = chain.nodes.len() - 1;
    for (i, (plan, _, args)) in chain.nodes[..last].iter().enumerate() {
        let (done, rest) = bufs.split_at_mut(i);
        let ins: SmallVec<[TileIn<'_>; 3]> = args
            .iter()
            .map(|a| input(*a, leaves, done, start, end, n))
            .collect();
        (plan.kernel)(&ins, tile_out(&mut rest[0], n));
    }
    let (plan, _, args) = &chain.nodes[last];
    let ins: SmallVec<[TileIn<'_>; 3]> = args
        .iter()
        .map(|a| input(*a, leaves, bufs, start, end, n))
        .collect();
    (plan.kernel)(&ins, out);
}

/// The tile an argument reads: a range of a leaf or an earlier node's scratch.
fn input<'a>(
    a: Arg,
    leaves: &[TileIn<'a>],
    done: &'a [Storage],
    start: usize,
    end: usize,
    n: usize,
) -> TileIn<'a> {
    match a {
        Arg::Leaf(l) => leaves[l].range(start, end),
        Arg::Node(k) => {
            with_dtype!(done[k].dtype(), T => T::tile_in(&T::view(&done[k]).expect("scratch dtype")[..n]))
        }
    }
}

fn tile_out(s: &mut Storage, n: usize) -> TileOut<'_> {
    match s {
        Storage::Bool(b) => TileOut::Bool(&mut b.as_mut_slice()[..n]),
        Storage::I32(b) => TileOut::I32(&mut b.as_mut_slice()[..n]),
        Storage::I64(b) => TileOut::I64(&mut b.as_mut_slice()[..n]),
        Storage::F32(b) => TileOut::F32(&mut b.as_mut_slice()[..n]),
        Storage::F64(b) => TileOut::F64(&mut b.as_mut_slice()[..n]),
        Storage::Deferred(_) => unreachable!("scratch tiles are computed storages"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{binary, unary, UnaryOp};
    use crate::Value;

    fn val(v: &[f64]) -> Value {
        Value::Concrete(Tensor::from_slice(v, &[v.len()]).unwrap())
    }

    fn tensor(v: &Value) -> &Tensor {
        v.as_concrete().unwrap()
    }

    #[test]
    fn a_chain_is_pending_until_read_and_equals_the_scalar_reference() {
        let n = DEFAULT_FUSION_MIN + 3 * TILE + 17; // tiles and a ragged tail
        let xs: Vec<f64> = (0..n).map(|i| (i % 1000) as f64 / 250.0 - 2.0).collect();
        let x = val(&xs);
        let e = unary::unary(UnaryOp::Exp, &x).unwrap();
        let s = binary::mul(&e, &val(&[0.5])).unwrap(); // scalar operand captured
        let y = binary::add(&s, &e).unwrap(); // `e` shared: one node of the chain
        assert!(!tensor(&y).is_realized() || fusion_min() > n);
        let got = tensor(&y).to_vec::<f64>().unwrap();
        assert!(tensor(&y).is_realized());
        for (g, v) in got.iter().zip(&xs) {
            let want = 1.5 * v.exp();
            assert!((g - want).abs() <= 1e-15 * want, "{g} vs {want}");
        }
        // the intermediate was not kept, and reading it now computes it alone
        assert!(!tensor(&e).is_realized() || fusion_min() > n);
        assert_eq!(tensor(&e).to_vec::<f64>().unwrap().len(), n);
    }

    #[test]
    fn whole_array_folds_of_a_chain_are_deferred_and_pairwise() {
        let n = DEFAULT_FUSION_MIN + 5 * TILE + 3;
        let xs: Vec<f64> = (0..n).map(|i| (i % 977) as f64 * 0.01).collect();
        let x = val(&xs);
        let y = binary::mul(&x, &val(&[3.0])).unwrap();
        let s = crate::ops::reduce::reduction(crate::ops::ReduceOp::Sum, &y, None, false).unwrap();
        let m = crate::ops::reduce::reduction(crate::ops::ReduceOp::Max, &y, None, false).unwrap();
        if fusion_min() <= n {
            assert!(!tensor(&s).is_realized() && !tensor(&y).is_realized());
        }
        let want: f64 = xs.iter().map(|v| v * 3.0).sum();
        let got = tensor(&s).item_f64().unwrap();
        assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
        assert_eq!(tensor(&m).item_f64().unwrap(), 976.0 * 0.01 * 3.0);
        // reading the reductions did not write the chain out
        assert!(!tensor(&y).is_realized() || fusion_min() > n);
        assert_eq!(pairwise(&[1, 2, 3, 4, 5], &|a, b| a + b), Some(15));
        assert_eq!(pairwise::<i32>(&[], &|a, b| a + b), None);
    }

    #[test]
    fn unread_reductions_hold_a_bounded_amount_of_input() {
        let n = 1 << 20;
        if fusion_min() > n {
            return;
        }
        let kept: Vec<Value> = (0..20)
            .map(|k| {
                let x = val(&vec![k as f64; n]);
                let y = binary::mul(&x, &val(&[2.0])).unwrap();
                crate::ops::reduce::reduction(crate::ops::ReduceOp::Sum, &y, None, false).unwrap()
            })
            .collect();
        // 20 x 8 MiB of chain input against a 64 MiB budget: most were computed at once
        let computed = kept.iter().filter(|s| tensor(s).is_realized()).count();
        assert!(computed >= 20 - FOLD_BUDGET_BYTES / (8 * n), "{computed}");
        for (k, s) in kept.iter().enumerate() {
            assert_eq!(tensor(s).item_f64().unwrap(), 2.0 * k as f64 * n as f64);
        }
    }

    #[test]
    fn chains_are_cut_at_the_node_limit() {
        let n = DEFAULT_FUSION_MIN;
        let mut y = val(&vec![1.0; n]);
        let mut steps = Vec::new();
        for _ in 0..3 * MAX_NODES {
            y = binary::add(&y, &val(&[1.0])).unwrap();
            steps.push(y.clone());
        }
        // nothing was read, yet the cap computed some steps along the way
        let computed = steps.iter().filter(|s| tensor(s).is_realized()).count();
        assert!(
            (2..=3).contains(&computed) || fusion_min() > n,
            "{computed}"
        );
        let v = tensor(&y).to_vec::<f64>().unwrap();
        assert!(v.iter().all(|&a| a == 1.0 + 3.0 * MAX_NODES as f64));
    }
}

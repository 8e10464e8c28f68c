//! Deferred elementwise chains, evaluated tile by tile.
//!
//! A chain of elementwise ops over large arrays (a forward pass and the VJP
//! rules of its gradient, say) is bound by memory when every op makes a full
//! pass: once the live arrays outgrow the caches, each op streams its inputs
//! and output through DRAM. So on large inputs the elementwise drivers do not
//! compute: they return a tensor whose values are [`Deferred`], with a
//! [`MapWork`] (the op's tile kernel and its input tensors) as the work. The
//! first read of the data (a kernel that is not elementwise, NumPy, `repr`)
//! evaluates the whole pending chain below it in tiles of [`TILE`] elements:
//! every intermediate of a tile stays in cache and only the leaves and the
//! result touch memory.
//!
//! Each op's element function is the same as in the eager path, so results are
//! bit-identical. Intermediates are not kept: one shared by two chains (a
//! forward value that the gradient reads again) is recomputed by the second,
//! which is cheaper than a memory pass; a third chain that needs it computes
//! and keeps it ([`MAX_INLINE`]), so work never grows beyond 3x. The size of
//! one chain is capped ([`MAX_NODES`]). Arrays below [`fusion_min`] elements (cache
//! resident anyway) are computed eagerly, as are broadcasts and strided views.
//!
//! Every read returns a `Result`: a computation that fails (memory runs out)
//! or is interrupted keeps nothing and reports the error to the reader.

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::kernels::parallel::{for_each_chunk_mut, map_tasks, num_threads, worth_parallel};
use crate::tensor::shape::numel;
use crate::tensor::{
    AlignedBuf, AnySlice, AnySliceMut, DType, Deferred, Element, Pending, Storage, Tensor,
};
use crate::with_dtype;

/// Elements per tile: a tile of every node of a full chain fits in L2.
pub const TILE: usize = 2048;

/// Largest number of pending ops one chain may hold; a new op over larger
/// chains computes its inputs first.
pub const MAX_NODES: usize = 48;

/// How many chains may recompute a pending op before one keeps it.
pub const MAX_INLINE: usize = 2;

/// Default for [`fusion_min`].
pub const DEFAULT_FUSION_MIN: usize = 64 * 1024;

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

/// An op's kernel over one tile: `inputs` in the order of the op's inputs.
/// It fails only on a dtype mismatch (a bug), reported rather than panicking.
pub type TileKernel = Arc<dyn Fn(&[AnySlice<'_>], AnySliceMut<'_>) -> Result<()> + Send + Sync>;

/// The typed slices of a tile, or an error naming the mismatch.
pub fn tile_in<T: Element>(s: AnySlice<'_>) -> Result<&[T]> {
    T::from_any(s).ok_or_else(|| mismatch(T::DTYPE))
}

/// The typed output slice of a tile.
pub fn tile_out<T: Element>(s: AnySliceMut<'_>) -> Result<&mut [T]> {
    T::from_any_mut(s).ok_or_else(|| mismatch(T::DTYPE))
}

fn mismatch(dt: DType) -> Error {
    Error::Value(format!(
        "internal error: a fused kernel for {dt} got a tile of another dtype"
    ))
}

/// An elementwise op of a pending chain: the work behind a deferred tensor.
pub struct MapWork {
    dtype: DType,
    len: usize,
    /// Contiguous tensors with exactly the output's number of elements.
    inputs: SmallVec<[Tensor; 2]>,
    kernel: TileKernel,
    /// Chains that have computed this op as an intermediate.
    inlined: AtomicUsize,
}

impl Pending for MapWork {
    fn compute(&self) -> Result<Storage> {
        evaluate(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A whole-array reduction of a pending chain (the chain's root).
struct FoldWork(Box<dyn Fn() -> Result<Storage> + Send + Sync>);

impl Pending for FoldWork {
    fn compute(&self) -> Result<Storage> {
        (self.0)()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The deferred values behind `t` if `t` reads them whole and in order (a
/// tile of `t` is then the same tile of the chain). Slices, offset views and
/// the like of deferred values read them as a computed leaf.
fn whole_deferred(t: &Tensor) -> Option<&Deferred> {
    t.deferred()
        .filter(|d| t.offset() == 0 && t.size() == d.len() && t.is_contiguous())
}

/// The elementwise op computing `d`, if not computed yet (a pending
/// reduction is not part of any chain: it is read as a computed leaf).
fn map_work(d: &Deferred) -> Option<Arc<dyn Pending>> {
    d.work().filter(|w| w.as_any().is::<MapWork>())
}

/// The op of `w` (a `map_work`).
fn op(w: &Arc<dyn Pending>) -> Result<&MapWork> {
    w.as_any()
        .downcast_ref::<MapWork>()
        .ok_or_else(|| Error::Value("internal error: a chain node is not an elementwise op".into()))
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
        if let Some(w) = map_work(d) {
            seen.push(key);
            if let Ok(m) = op(&w) {
                for u in &m.inputs {
                    visit(u, seen, limit);
                }
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
) -> Result<Tensor> {
    // Deferred values read through a view (a slice, an offset) are a leaf of
    // this chain: compute them now, so that pending ops only ever link through
    // whole reads, which the cap below counts (otherwise a loop of `x[1:] + 1`
    // would nest pending ops without bound, and computing or dropping them
    // would recurse that deep).
    for t in &inputs {
        if t.deferred().is_some() && whole_deferred(t).is_none() {
            t.realize()?;
        }
    }
    if 1 + pending_ops(&inputs, MAX_NODES) > MAX_NODES {
        // Cap the chain: compute the inputs now, so this op starts a new one.
        for t in &inputs {
            t.realize()?;
        }
    }
    let len = numel(shape);
    let work = MapWork {
        dtype,
        len,
        inputs,
        kernel,
        inlined: AtomicUsize::new(0),
    };
    Ok(Tensor::from_deferred(
        Deferred::new(dtype, len, Arc::new(work)),
        shape,
    ))
}

/// Where a node of a chain reads an input from.
#[derive(Clone, Copy)]
enum Arg {
    /// A tensor with values (index into `Chain::leaves`).
    Leaf(usize),
    /// The tile of an earlier node.
    Node(usize),
}

/// A node of a chain: its work (a `MapWork`) and where its inputs come from.
type Node = (Arc<dyn Pending>, SmallVec<[Arg; 2]>);

/// A pending chain in evaluation order; the last node is the root.
struct Chain {
    leaves: Vec<Tensor>,
    nodes: Vec<Node>,
    /// Deferred values already placed, by address, and their node.
    seen: Vec<(usize, usize)>,
}

impl Chain {
    /// The pending chain whose root is `root` (a `MapWork`).
    fn of(root: Arc<dyn Pending>) -> Result<Chain> {
        let mut chain = Chain {
            leaves: Vec::new(),
            nodes: Vec::new(),
            seen: Vec::new(),
        };
        chain.add(root)?;
        Ok(chain)
    }

    fn arg(&mut self, t: &Tensor) -> Result<Arg> {
        let key = Arc::as_ptr(t.data()) as *const () as usize;
        if let Some(&(_, i)) = self.seen.iter().find(|(p, _)| *p == key) {
            return Ok(Arg::Node(i));
        }
        if let Some(d) = whole_deferred(t) {
            if let Some(w) = map_work(d) {
                if op(&w)?.inlined.fetch_add(1, Ordering::Relaxed) >= MAX_INLINE {
                    t.realize()?; // computed and kept: a leaf from now on
                } else {
                    let i = self.add(w)?;
                    self.seen.push((key, i));
                    return Ok(Arg::Node(i));
                }
            }
        }
        // the same data read twice (`x * x`) is one leaf
        let same = |l: &Tensor| {
            Arc::ptr_eq(l.data(), t.data()) && l.offset() == t.offset() && l.dtype() == t.dtype()
        };
        if let Some(i) = self.leaves.iter().position(same) {
            return Ok(Arg::Leaf(i));
        }
        self.leaves.push(t.clone());
        Ok(Arg::Leaf(self.leaves.len() - 1))
    }

    fn add(&mut self, work: Arc<dyn Pending>) -> Result<usize> {
        let inputs = op(&work)?.inputs.clone();
        let args = inputs.iter().map(|t| self.arg(t)).collect::<Result<_>>()?;
        self.nodes.push((work, args));
        Ok(self.nodes.len() - 1)
    }

    /// Leaves as whole slices (computing any deferred leaf happens here, before
    /// the tile loop).
    fn leaf_slices(&self) -> Result<Vec<AnySlice<'_>>> {
        self.leaves
            .iter()
            .map(|t| with_dtype!(t.dtype(), T => Ok(T::any(t.contiguous_slice::<T>()?))))
            .collect()
    }

    /// Scratch tiles: one per node but the root (one set per task).
    fn scratch(&self) -> Result<Vec<Storage>> {
        self.nodes[..self.nodes.len() - 1]
            .iter()
            .map(|(w, _)| Storage::for_overwrite(op(w)?.dtype, TILE))
            .collect()
    }

    /// Every node over elements `start..end`; the root writes `out`.
    fn run_tile(
        &self,
        leaves: &[AnySlice<'_>],
        bufs: &mut [Storage],
        start: usize,
        end: usize,
        out: AnySliceMut<'_>,
    ) -> Result<()> {
        /// The tile an argument reads: a range of a leaf or an earlier node's scratch.
        fn input<'a>(
            a: Arg,
            leaves: &[AnySlice<'a>],
            done: &'a [Storage],
            at: (usize, usize),
        ) -> AnySlice<'a> {
            match a {
                Arg::Leaf(l) => leaves[l].range(at.0, at.1),
                Arg::Node(k) => done[k].head(at.1 - at.0),
            }
        }
        let at = (start, end);
        let last = self.nodes.len() - 1;
        for (i, (w, args)) in self.nodes[..last].iter().enumerate() {
            let (done, rest) = bufs.split_at_mut(i);
            let ins: SmallVec<[AnySlice<'_>; 3]> =
                args.iter().map(|a| input(*a, leaves, done, at)).collect();
            (op(w)?.kernel)(&ins, rest[0].head_mut(end - start))?;
        }
        let (w, args) = &self.nodes[last];
        let ins: SmallVec<[AnySlice<'_>; 3]> =
            args.iter().map(|a| input(*a, leaves, bufs, at)).collect();
        (op(w)?.kernel)(&ins, out)
    }
}

/// Tiles a task computes at most: a task of a full chain then takes a few
/// milliseconds, so an interrupt (checked between tasks) is seen quickly.
const MAX_TASK_TILES: usize = 32;

/// Elements per task: several tiles (one scratch set per task), a few tasks
/// per thread, at most [`MAX_TASK_TILES`] tiles.
fn task_len(len: usize) -> usize {
    let tiles = if worth_parallel(len) {
        len.div_ceil(4 * num_threads() * TILE)
    } else {
        len.div_ceil(TILE)
    };
    tiles.clamp(1, MAX_TASK_TILES) * TILE
}

/// The first error of a parallel run, kept until the run is over.
struct FirstError(Mutex<Option<Error>>);

impl FirstError {
    fn new() -> Self {
        FirstError(Mutex::new(None))
    }
    fn keep(&self, r: Result<()>) {
        if let Err(e) = r {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(e);
        }
    }
    /// The error, if any; an interrupted run (tasks skipped) is one too.
    fn into_result(self) -> Result<()> {
        match self.0.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => crate::interrupt::check(),
        }
    }
}

/// Compute the chain whose root is `root` into a fresh storage.
fn evaluate(root: &MapWork) -> Result<Storage> {
    // The root as a chain node: a handle that shares the root's kernel and inputs.
    let handle: Arc<dyn Pending> = Arc::new(MapWork {
        dtype: root.dtype,
        len: root.len,
        inputs: root.inputs.clone(),
        kernel: root.kernel.clone(),
        inlined: AtomicUsize::new(0),
    });
    let chain = Chain::of(handle)?;
    let leaves = chain.leaf_slices()?;
    let (len, per_task) = (root.len, task_len(root.len));
    let failed = FirstError::new();
    let storage = with_dtype!(root.dtype, R => {
        let mut out = AlignedBuf::<R>::for_overwrite(len)?;
        for_each_chunk_mut(out.as_mut_slice(), per_task, |task, part| {
            failed.keep((|| {
                let mut bufs = chain.scratch()?;
                let base = task * per_task;
                let mut start = 0;
                while start < part.len() {
                    let end = (start + TILE).min(part.len());
                    let tile = R::any_mut(&mut part[start..end]);
                    chain.run_tile(&leaves, &mut bufs, base + start, base + end, tile)?;
                    start = end;
                }
                Ok(())
            })())
        });
        R::wrap(out)
    });
    failed.into_result()?;
    Ok(storage)
}

/// Whether `x` is a pending elementwise chain read whole (a reduction over all
/// of it can be deferred with [`defer_fold`]).
pub fn is_pending_chain(x: &Tensor) -> bool {
    whole_deferred(x).is_some_and(|d| map_work(d).is_some())
}

/// Bytes of chain input that unread reductions may keep alive: a kept loss
/// (`losses.append(fx.sum(...))`) holds its whole chain until read, so past
/// this budget new reductions are computed at once.
pub const FOLD_BUDGET_BYTES: usize = 64 << 20;

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
) -> Result<Option<Tensor>> {
    let Some(root) = whole_deferred(x).and_then(map_work) else {
        return Ok(None);
    };
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
        let chain = Chain::of(root.clone())?;
        let leaves = chain.leaf_slices()?;
        let per_task = task_len(len);
        let parts = map_tasks(len.div_ceil(per_task), |task| -> Result<Vec<T>> {
            let mut bufs = chain.scratch()?;
            let mut tile = AlignedBuf::<T>::for_overwrite(TILE)?;
            let (lo, hi) = (task * per_task, ((task + 1) * per_task).min(len));
            let mut partial = Vec::with_capacity((hi - lo).div_ceil(TILE));
            let mut start = lo;
            while start < hi {
                let end = (start + TILE).min(hi);
                let t = &mut tile.as_mut_slice()[..end - start];
                chain.run_tile(&leaves, &mut bufs, start, end, T::any_mut(t))?;
                partial.push(fold_tile(t));
                start = end;
            }
            Ok(partial)
        })?;
        let mut tiles = Vec::new();
        for p in parts {
            tiles.extend(p?);
        }
        crate::interrupt::check()?;
        let total = pairwise(&tiles, &combine).unwrap_or(identity);
        Ok(T::wrap(AlignedBuf::from_slice(&[total])?))
    };
    let work = Arc::new(FoldWork(Box::new(thunk)));
    let t = Tensor::from_deferred(Deferred::new(T::DTYPE, 1, work), &[]);
    if compute_now {
        t.realize()?;
    }
    Ok(Some(t))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_folds_a_balanced_tree() {
        assert_eq!(pairwise(&[1, 2, 3, 4, 5], &|a, b| a + b), Some(15));
        assert_eq!(pairwise::<i32>(&[], &|a, b| a + b), None);
    }
}

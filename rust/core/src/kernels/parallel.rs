//! Where serial and parallel execution are decided, once for every kernel.
//!
//! Small work stays on the calling thread with no synchronisation at all;
//! work above [`GRAIN`] elements is split into chunks on a rayon pool whose size
//! `set_num_threads` / `FERRAX_NUM_THREADS` control.

use std::sync::{Arc, OnceLock, RwLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

/// An upper bound on the pool size that `set_num_threads` accepts.
pub const MAX_THREADS: usize = 1024;

/// Elements below which a kernel runs on one thread (ATen's choice).
pub const GRAIN: usize = 32 * 1024;

static POOL: OnceLock<RwLock<Arc<ThreadPool>>> = OnceLock::new();

fn default_threads() -> usize {
    std::env::var("FERRAX_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0 && n <= MAX_THREADS)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

fn build(n: usize) -> Arc<ThreadPool> {
    let pool = ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("ferrax-{i}"))
        .build()
        .or_else(|_| ThreadPoolBuilder::new().num_threads(1).build())
        .expect("a one-thread pool can always be built");
    Arc::new(pool)
}

fn cell() -> &'static RwLock<Arc<ThreadPool>> {
    POOL.get_or_init(|| RwLock::new(build(default_threads())))
}

/// The pool kernels run on.
pub fn pool() -> Arc<ThreadPool> {
    cell().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Number of kernel threads.
pub fn num_threads() -> usize {
    pool().current_num_threads()
}

/// Replace the kernel pool by one of `n` threads (`n >= 1`).
pub fn set_num_threads(n: usize) -> crate::Result<()> {
    if n == 0 || n > MAX_THREADS {
        return crate::value_err!("number of threads must be between 1 and {MAX_THREADS}, got {n}");
    }
    *cell().write().unwrap_or_else(|e| e.into_inner()) = build(n);
    Ok(())
}

/// Whether `work` elements are worth spreading over threads.
#[inline]
pub fn worth_parallel(work: usize) -> bool {
    work >= GRAIN && num_threads() > 1
}

/// Chunk length for splitting `n` items across the pool: a few chunks per thread,
/// never below the grain.
pub fn chunk_len(n: usize) -> usize {
    let t = num_threads().max(1);
    (n.div_ceil(4 * t)).max(GRAIN / 4).max(1)
}

/// Run `f` over disjoint chunks of `out` (with the chunk's start index), in
/// parallel when large, serially otherwise.
pub fn for_chunks<T: Send>(out: &mut [T], f: impl Fn(usize, &mut [T]) + Sync + Send) {
    let n = out.len();
    if !worth_parallel(n) {
        f(0, out);
        return;
    }
    use rayon::prelude::*;
    let chunk = chunk_len(n);
    pool().install(|| {
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, c)| f(i * chunk, c));
    });
}

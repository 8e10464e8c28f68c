//! Where serial and parallel execution are decided, once for every kernel.
//!
//! Small work stays on the calling thread with no synchronisation at all;
//! work above [`GRAIN`] elements is split into tasks ([`run_tasks`]) that the
//! calling thread starts on at once, while workers of a rayon pool (whose size
//! `set_num_threads` / `FERRAX_NUM_THREADS` control) join in as they wake.
//!
//! Why not `pool.install(|| par_iter)`: the caller then sleeps until pool
//! workers wake, run and report back, and waking an idle worker takes 30-50 us
//! on the virtual machines we run on, more than a whole 1e6-element
//! reduction. With the caller working from the first instant, a worker that
//! wakes late finds no work left and the op costs what the serial loop costs.
//!
//! A worker that has just finished its tasks stays awake for [`LINGER`],
//! watching for the next parallel op ([`linger`]): a program's ops come back
//! to back, so the next one finds a helper already running instead of paying
//! the wake-up again (OpenBLAS's threads do the same after a product).

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use rayon::{ThreadPool, ThreadPoolBuilder, Yield};

/// An upper bound on the pool size that `set_num_threads` accepts.
pub const MAX_THREADS: usize = 1024;

/// Elements below which a kernel runs on one thread. Measured here: at 32K a
/// cheap op (neg, add) or a sum is faster on one thread than split in two
/// (the hand-off costs a few microseconds); at 64K an `exp` gains 1.4x and a
/// cheap op breaks even.
pub const GRAIN: usize = 64 * 1024;

/// The pool and the fork generation it was built in.
struct PoolState {
    pool: Arc<ThreadPool>,
    generation: u64,
}

static POOL: OnceLock<RwLock<PoolState>> = OnceLock::new();

/// Incremented in the child of every `fork()`. A forked child has only the
/// thread that forked: the parent's pool workers do not exist there, and a
/// job handed to them would wait forever. A pool built before the last fork
/// is therefore replaced (and leaked: dropping it would signal threads that
/// do not exist, through locks they may have held).
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

#[cfg(unix)]
mod fork {
    use super::{Ordering, FORK_GENERATION};

    /// Runs in the child right after `fork()`; only async-signal-safe work here.
    extern "C" fn in_child() {
        FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
        // the parent's lingering workers are not in the child
        super::LINGERING.store(0, Ordering::Relaxed);
    }

    pub fn watch() {
        // SAFETY: `pthread_atfork` is given a plain function pointer that
        // lives for the whole process (a static fn) and only performs an
        // atomic increment, which is async-signal-safe as a child handler
        // must be. It is called once (from the pool's `OnceLock` init).
        unsafe {
            libc::pthread_atfork(None, None, Some(in_child as unsafe extern "C" fn()));
        }
    }
}

#[cfg(not(unix))]
mod fork {
    pub fn watch() {}
}

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

fn cell() -> &'static RwLock<PoolState> {
    POOL.get_or_init(|| {
        fork::watch();
        RwLock::new(PoolState {
            pool: build(default_threads()),
            generation: FORK_GENERATION.load(Ordering::Relaxed),
        })
    })
}

/// The pool kernels run on; `None` when work must stay on the calling thread
/// (only in a forked child whose pool cannot be rebuilt yet, because another
/// thread of the parent held the pool's lock at the moment of the fork).
pub fn pool() -> Option<Arc<ThreadPool>> {
    let generation = FORK_GENERATION.load(Ordering::Relaxed);
    let cell = cell();
    {
        let state = cell.read().unwrap_or_else(|e| e.into_inner());
        if state.generation == generation {
            return Some(state.pool.clone());
        }
    }
    // Forked since the pool was built: build a new one (never wait for the lock).
    let mut state = cell.try_write().ok()?;
    if state.generation != generation {
        let n = state.pool.current_num_threads();
        std::mem::forget(std::mem::replace(&mut state.pool, build(n)));
        state.generation = generation;
    }
    Some(state.pool.clone())
}

/// Number of kernel threads.
pub fn num_threads() -> usize {
    pool().map_or(1, |p| p.current_num_threads())
}

/// Replace the kernel pool by one of `n` threads (`n >= 1`).
pub fn set_num_threads(n: usize) -> crate::Result<()> {
    if n == 0 || n > MAX_THREADS {
        return crate::value_err!("number of threads must be between 1 and {MAX_THREADS}, got {n}");
    }
    let mut state = cell().write().unwrap_or_else(|e| e.into_inner());
    *state = PoolState {
        pool: build(n),
        generation: FORK_GENERATION.load(Ordering::Relaxed),
    };
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

/// The state a parallel run shares with pool workers. It outlives the run (a
/// worker may wake after the caller has returned), so the task is held as a
/// lifetime-erased pointer that is only dereferenced for claimed indices.
struct Shared {
    /// Next unclaimed task index.
    next: AtomicUsize,
    /// Tasks finished (run, skipped or panicked).
    done: AtomicUsize,
    tasks: usize,
    /// Set when the computation was interrupted: claimed tasks are skipped.
    cancelled: AtomicBool,
    /// The first panic's payload, re-raised by the caller (a core error inside
    /// a task then still reaches Python as its own exception).
    payload: Mutex<Option<Box<dyn std::any::Any + Send>>>,
    task: *const (dyn Fn(usize) + Sync + 'static),
}

// SAFETY: `task` points to a `Sync` closure, so calling it from several threads
// is allowed; it is dereferenced only for an index < `tasks` claimed through
// `next`, and `run_tasks` does not return (so the closure is alive) until
// `done == tasks`, i.e. until every such call has returned.
unsafe impl Send for Shared {}
// SAFETY: as for Send; every other field is atomic or immutable.
unsafe impl Sync for Shared {}

impl Shared {
    /// Claim and run tasks until none are left. The calling thread (`caller`)
    /// also polls for an interrupt between its tasks; once there is one, every
    /// task not yet started is skipped.
    fn work(&self, caller: bool) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.tasks {
                return;
            }
            if caller && crate::interrupt::poll() {
                self.cancelled.store(true, Ordering::Relaxed);
            }
            if !self.cancelled.load(Ordering::Relaxed) {
                // SAFETY: i < tasks was claimed by this thread alone, so the run that
                // owns the closure is still waiting for it (see `unsafe impl Send`).
                let task = unsafe { &*self.task };
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| task(i))) {
                    let mut first = self.payload.lock().unwrap_or_else(|e| e.into_inner());
                    if first.is_none() {
                        *first = Some(p);
                    }
                }
            }
            // Release: the task's writes are visible to whoever sees the count.
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// How long a pool worker stays awake after its last task, watching for more.
/// Between one parallel op and the next a program typically spends a few to
/// a few tens of microseconds in small serial ops and Python; waking a
/// sleeping worker costs 30-90 us here, so a GEMM of 128x784x256 (0.3 ms on
/// two cores) lost a quarter of its time to it.
const LINGER: Duration = Duration::from_micros(200);

/// Workers lingering now (see [`linger`]): each takes the next posted run
/// itself, so `run_tasks` spawns (and wakes) that many fewer.
static LINGERING: AtomicUsize = AtomicUsize::new(0);

/// The newest run posted for lingering workers, and a count of posts, which
/// they watch (an atomic read in their loop, the lock only once it changes).
static POSTED: Mutex<Option<Arc<Shared>>> = Mutex::new(None);
static POSTS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Set while this worker lingers: a job it runs meanwhile (from the pool's
    /// queue) does not start a second, nested, linger.
    static IN_LINGER: Cell<bool> = const { Cell::new(false) };
}

/// A pool worker's job for one run: its share of the tasks, then [`linger`].
fn help(shared: Arc<Shared>) {
    shared.work(false);
    drop(shared);
    linger();
}

/// Stay awake for [`LINGER`] after the last work done, taking posted runs
/// (and any other job of the pool, such as gemm's own split, so that none
/// waits for the linger to end), then return the thread to the pool's sleep.
fn linger() {
    if IN_LINGER.with(|l| l.replace(true)) {
        return;
    }
    LINGERING.fetch_add(1, Ordering::AcqRel);
    let mut seen = POSTS.load(Ordering::Acquire);
    let mut until = Instant::now() + LINGER;
    loop {
        let posts = POSTS.load(Ordering::Acquire);
        if posts != seen {
            seen = posts;
            let run = POSTED.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(run) = run {
                run.work(false);
            }
            until = Instant::now() + LINGER;
        } else if rayon::yield_now() == Some(Yield::Executed) {
            until = Instant::now() + LINGER;
        } else if Instant::now() >= until {
            break;
        } else {
            std::hint::spin_loop();
        }
    }
    LINGERING.fetch_sub(1, Ordering::AcqRel);
    IN_LINGER.with(|l| l.set(false));
}

/// Hand `shared` to the workers lingering now (at most `helpers` of them
/// count); returns how many helpers remain to be spawned. A worker whose
/// linger ends just before it sees the post leaves its share to the caller,
/// who runs every task no helper claims: slower once, never wrong.
fn post(shared: &Arc<Shared>, helpers: usize) -> usize {
    // a lingering worker running a task that starts a run of its own (nested
    // parallelism) is busy as that run's caller: it does not count
    let busy = IN_LINGER.with(|l| l.get()) as usize;
    let lingering = LINGERING
        .load(Ordering::Acquire)
        .saturating_sub(busy)
        .min(helpers);
    if lingering == 0 {
        return helpers;
    }
    // try_lock: never wait on a worker (or, in a forked child, on a lock a
    // parent's thread held at the fork)
    match POSTED.try_lock() {
        Ok(mut slot) => {
            *slot = Some(Arc::clone(shared));
            POSTS.fetch_add(1, Ordering::Release);
            helpers - lingering
        }
        Err(_) => helpers,
    }
}

/// Run `task(i)` for every `i < tasks`, each exactly once: on the calling
/// thread, which starts at once, and on up to `num_threads() - 1` pool
/// workers, which claim the tasks left when they wake. Returns when all have
/// finished; a panicking task is re-raised here (after the others finished).
/// Once the computation is interrupted (`crate::interrupt`), tasks not yet
/// started are skipped: the results are then incomplete, and the op that ran
/// them returns `Error::Interrupted` instead.
pub fn run_tasks(tasks: usize, task: impl Fn(usize) + Sync) {
    let pool = pool();
    let helpers = pool
        .as_ref()
        .map_or(0, |p| p.current_num_threads())
        .min(tasks)
        .saturating_sub(1);
    let (Some(pool), true) = (pool, helpers > 0) else {
        for i in 0..tasks {
            if crate::interrupt::poll() {
                return;
            }
            task(i);
        }
        return;
    };
    let task: &(dyn Fn(usize) + Sync) = &task;
    // SAFETY: only the lifetime is erased (same fat-pointer layout); the pointer
    // is dereferenced under the protocol described at `unsafe impl Send for Shared`.
    let task: *const (dyn Fn(usize) + Sync + 'static) = unsafe { std::mem::transmute(task) };
    let shared = Arc::new(Shared {
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        tasks,
        cancelled: AtomicBool::new(false),
        payload: Mutex::new(None),
        task,
    });
    for _ in 0..post(&shared, helpers) {
        let s = Arc::clone(&shared);
        pool.spawn(move || help(s));
    }
    shared.work(true);
    // Every task is claimed; wait for the ones still running elsewhere (each is
    // at most one task long, and its thread is awake).
    let mut spins = 0u32;
    while shared.done.load(Ordering::Acquire) < tasks {
        if spins < 1 << 12 {
            std::hint::spin_loop();
            spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
    let payload = shared
        .payload
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(p) = payload {
        std::panic::resume_unwind(p);
    }
}

/// `f(i)` for every `i < tasks` (in parallel as [`run_tasks`]), results in
/// order; `Err(Interrupted)` if the computation was interrupted first.
pub fn map_tasks<R: Send>(tasks: usize, f: impl Fn(usize) -> R + Sync) -> crate::Result<Vec<R>> {
    let slots: Vec<Mutex<Option<R>>> = (0..tasks).map(|_| Mutex::new(None)).collect();
    run_tasks(tasks, |i| {
        let r = f(i);
        *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
    });
    slots
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect::<Option<Vec<R>>>()
        .ok_or(crate::Error::Interrupted)
}

/// Run `f(index, chunk)` over `out` cut into consecutive chunks of `chunk`
/// elements (the last may be shorter), in parallel as [`run_tasks`].
pub fn for_each_chunk_mut<T: Send>(
    out: &mut [T],
    chunk: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let parts: Vec<Mutex<Option<&mut [T]>>> = out
        .chunks_mut(chunk.max(1))
        .map(|c| Mutex::new(Some(c)))
        .collect();
    run_tasks(parts.len(), |i| {
        // each chunk is claimed by exactly one task
        if let Some(part) = parts[i].lock().unwrap_or_else(|e| e.into_inner()).take() {
            f(i, part)
        }
    });
}

/// Run `f` over disjoint chunks of `out` (with the chunk's start index), in
/// parallel when large, serially otherwise.
pub fn for_chunks<T: Send>(out: &mut [T], f: impl Fn(usize, &mut [T]) + Sync) {
    let n = out.len();
    if !worth_parallel(n) {
        f(0, out);
        return;
    }
    let chunk = chunk_len(n);
    for_each_chunk_mut(out, chunk, |i, c| f(i * chunk, c));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_runs_once_and_results_keep_their_order() {
        for tasks in [0usize, 1, 2, 3, 17, 1000] {
            let counts: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
            run_tasks(tasks, |i| {
                counts[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
            assert_eq!(
                map_tasks(tasks, |i| i * i).unwrap(),
                (0..tasks).map(|i| i * i).collect::<Vec<_>>()
            );
        }
        let mut v = vec![0usize; 1001];
        for_each_chunk_mut(&mut v, 100, |i, c| c.iter_mut().for_each(|x| *x = i));
        assert!(v.iter().enumerate().all(|(j, &x)| x == j / 100));
    }

    proptest::proptest! {
        #[test]
        fn chunks_cover_the_output_exactly_once(n in 0usize..5000, chunk in 1usize..700) {
            let mut v = vec![usize::MAX; n];
            for_each_chunk_mut(&mut v, chunk, |i, c| {
                assert!(c.len() <= chunk);
                c.iter_mut().enumerate().for_each(|(j, x)| *x = i * chunk + j)
            });
            proptest::prop_assert!(v.iter().enumerate().all(|(j, &x)| x == j));
            let sums = map_tasks(n.div_ceil(chunk), |i| (i * chunk..((i + 1) * chunk).min(n)).sum::<usize>()).unwrap();
            proptest::prop_assert_eq!(sums.iter().sum::<usize>(), (0..n).sum::<usize>());
        }
    }

    #[test]
    fn back_to_back_runs_handed_to_lingering_workers_run_every_task_once() {
        // Runs in quick succession: after the first, the pool's worker lingers
        // and takes the next runs from the post, not from the pool's queue.
        for round in 0..3000usize {
            let tasks = 2 + round % 5;
            let counts: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
            run_tasks(tasks, |i| {
                // a few microseconds of work, so that both threads take tasks
                let mut x = i as u64;
                for _ in 0..2000 {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
                counts[i].fetch_add(1 + (x == 0) as usize, Ordering::Relaxed);
            });
            assert!(
                counts.iter().all(|c| c.load(Ordering::Relaxed) == 1),
                "round {round}"
            );
        }
    }

    #[test]
    fn nested_runs_inside_tasks_run_every_task_once() {
        // Tasks that start runs of their own, while workers linger from the
        // previous round: the inner runs are posted from pool threads too.
        for round in 0..200usize {
            let outer = 2 + round % 3;
            let counts: Vec<AtomicUsize> = (0..outer * 4).map(|_| AtomicUsize::new(0)).collect();
            run_tasks(outer, |i| {
                run_tasks(4, |j| {
                    counts[i * 4 + j].fetch_add(1, Ordering::Relaxed);
                })
            });
            assert!(
                counts.iter().all(|c| c.load(Ordering::Relaxed) == 1),
                "round {round}"
            );
        }
    }

    #[test]
    fn a_panicking_task_is_reraised_after_the_others_finish() {
        let finished = AtomicUsize::new(0);
        let r = catch_unwind(AssertUnwindSafe(|| {
            run_tasks(8, |i| {
                if i == 3 {
                    panic!("boom");
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
                finished.fetch_add(1, Ordering::Relaxed);
            })
        }));
        assert!(r.is_err());
        assert_eq!(finished.load(Ordering::Relaxed), 7);
    }
}

//! Typed, 64-byte aligned, reference-counted buffers — and, for arrays
//! imported without a copy (DLPack), read-only buffers another library owns.
//!
//! Every element type we store (bool, i32, i64, f32, f64) is valid for the
//! all-zero bit pattern, which is what makes `AlignedBuf::zeroed` sound. The
//! numeric ones are valid for *every* bit pattern, which is what lets
//! `AlignedBuf::for_overwrite` hand out a recycled block without clearing it.

use std::alloc::Layout;
use std::ptr::NonNull;

use crate::error::{Error, Result};
use crate::tensor::DType;
use crate::tensor::{block, small_blocks};

/// Cache-line alignment: full-width AVX-512 loads never straddle lines.
pub const ALIGN: usize = 64;

/// An element type a tensor can hold.
pub trait Element: Copy + Send + Sync + PartialEq + PartialOrd + std::fmt::Debug + 'static {
    const DTYPE: DType;
    const ZERO: Self;
    const ONE: Self;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
    fn to_i64(self) -> i64;
    fn from_i64(v: i64) -> Self;
    fn wrap(buf: AlignedBuf<Self>) -> Storage;
    /// The elements, if `storage` holds this type.
    fn view(storage: &Storage) -> Option<&[Self]>;
    /// The elements, mutably, if `storage` holds this type.
    fn view_mut(storage: &mut Storage) -> Option<&mut [Self]>;
    /// A slice of this type as a dtype-erased [`AnySlice`], and back.
    fn any(s: &[Self]) -> AnySlice<'_>;
    fn from_any(s: AnySlice<'_>) -> Option<&[Self]>;
    fn any_mut(s: &mut [Self]) -> AnySliceMut<'_>;
    fn from_any_mut(s: AnySliceMut<'_>) -> Option<&mut [Self]>;
}

/// A slice of elements of any dtype (the dtype erased until read back with
/// [`Element::from_any`]): how code that handles several dtypes at run time
/// passes typed slices around, e.g. the tiles of a fused chain.
#[derive(Clone, Copy)]
pub enum AnySlice<'a> {
    Bool(&'a [bool]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    F32(&'a [f32]),
    F64(&'a [f64]),
}

/// A mutable [`AnySlice`].
pub enum AnySliceMut<'a> {
    Bool(&'a mut [bool]),
    I32(&'a mut [i32]),
    I64(&'a mut [i64]),
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
}

impl<'a> AnySlice<'a> {
    /// Elements `start..end` (in range, as slicing).
    pub fn range(self, start: usize, end: usize) -> AnySlice<'a> {
        match self {
            AnySlice::Bool(s) => AnySlice::Bool(&s[start..end]),
            AnySlice::I32(s) => AnySlice::I32(&s[start..end]),
            AnySlice::I64(s) => AnySlice::I64(&s[start..end]),
            AnySlice::F32(s) => AnySlice::F32(&s[start..end]),
            AnySlice::F64(s) => AnySlice::F64(&s[start..end]),
        }
    }
}

macro_rules! element {
    ($t:ty, $dt:ident, $zero:expr, $one:expr, $to_f64:expr, $from_f64:expr, $to_i64:expr, $from_i64:expr) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            const ZERO: Self = $zero;
            const ONE: Self = $one;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                ($to_f64)(self)
            }
            #[inline(always)]
            fn from_f64(v: f64) -> Self {
                ($from_f64)(v)
            }
            #[inline(always)]
            fn to_i64(self) -> i64 {
                ($to_i64)(self)
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                ($from_i64)(v)
            }
            fn wrap(buf: AlignedBuf<Self>) -> Storage {
                Storage::$dt(buf)
            }
            fn view(storage: &Storage) -> Option<&[Self]> {
                match storage {
                    Storage::$dt(b) => Some(b.as_slice()),
                    _ => None,
                }
            }
            fn view_mut(storage: &mut Storage) -> Option<&mut [Self]> {
                match storage {
                    Storage::$dt(b) => Some(b.as_mut_slice()),
                    _ => None,
                }
            }
            #[inline]
            fn any(s: &[Self]) -> AnySlice<'_> {
                AnySlice::$dt(s)
            }
            #[inline]
            fn from_any(s: AnySlice<'_>) -> Option<&[Self]> {
                match s {
                    AnySlice::$dt(s) => Some(s),
                    _ => None,
                }
            }
            #[inline]
            fn any_mut(s: &mut [Self]) -> AnySliceMut<'_> {
                AnySliceMut::$dt(s)
            }
            #[inline]
            fn from_any_mut(s: AnySliceMut<'_>) -> Option<&mut [Self]> {
                match s {
                    AnySliceMut::$dt(s) => Some(s),
                    _ => None,
                }
            }
        }
    };
}

element!(
    f32,
    F32,
    0.0,
    1.0,
    |x: f32| x as f64,
    |v: f64| v as f32,
    |x: f32| x as i64,
    |v: i64| v as f32
);
element!(
    f64,
    F64,
    0.0,
    1.0,
    |x: f64| x,
    |v: f64| v,
    |x: f64| x as i64,
    |v: i64| v as f64
);
element!(
    i32,
    I32,
    0,
    1,
    |x: i32| x as f64,
    |v: f64| v as i32,
    |x: i32| x as i64,
    |v: i64| v as i32
);
element!(
    i64,
    I64,
    0,
    1,
    |x: i64| x as f64,
    |v: f64| v as i64,
    |x: i64| x,
    |v: i64| v
);
element!(
    bool,
    Bool,
    false,
    true,
    |x: bool| x as u8 as f64,
    |v: f64| v != 0.0,
    |x: bool| x as i64,
    |v: i64| v != 0
);

/// A heap buffer of `len` elements aligned to [`ALIGN`] bytes; or memory
/// another library owns (an array imported without a copy), kept alive by
/// `owner` and only ever read.
pub struct AlignedBuf<T: Element> {
    ptr: NonNull<T>,
    len: usize,
    owner: Option<Box<dyn std::any::Any + Send + Sync>>,
}

// SAFETY: AlignedBuf owns its allocation uniquely (like Vec<T>), or reads
// foreign memory through an owner that is itself Send + Sync; T is Send + Sync.
unsafe impl<T: Element> Send for AlignedBuf<T> {}
// SAFETY: shared access only hands out `&[T]`, and T is Sync.
unsafe impl<T: Element> Sync for AlignedBuf<T> {}

impl<T: Element> AlignedBuf<T> {
    fn layout(len: usize) -> Result<Layout> {
        let wanted = len as u128 * std::mem::size_of::<T>() as u128;
        let bytes = usize::try_from(wanted)
            .ok()
            .filter(|&b| b <= isize::MAX as usize - ALIGN)
            .ok_or(Error::OutOfMemory(wanted))?;
        // whole multiples of ALIGN (what an aligned allocation takes anyway):
        // buffers of 1 to 16 float32 share one size class of small blocks
        Layout::from_size_align(bytes.max(1).next_multiple_of(ALIGN), ALIGN)
            .map_err(|_| Error::OutOfMemory(wanted))
    }

    /// A buffer of `len` zeros. Fails with `OutOfMemory` instead of aborting.
    pub fn zeroed(len: usize) -> Result<Self> {
        Self::allocate(len, true)
    }

    /// A buffer of `len` elements whose values are unspecified (but valid `T`s):
    /// for callers that overwrite every element. A recycled block keeps the
    /// bytes of its last owner instead of paying a clearing pass (one full
    /// write of the buffer, about a third of a simple op's memory traffic);
    /// fresh memory is zeroed as in [`AlignedBuf::zeroed`] (large blocks are
    /// the OS's zero pages, see `block`). `bool` is valid only for the
    /// bytes 0 and 1, so a recycled block for bools is always cleared.
    pub fn for_overwrite(len: usize) -> Result<Self> {
        Self::allocate(len, T::DTYPE == DType::Bool)
    }

    /// Fresh zeroed memory, or a recycled block cleared when `clear_reused`.
    fn allocate(len: usize, clear_reused: bool) -> Result<Self> {
        let layout = Self::layout(len)?;
        let raw = match reuse(layout, clear_reused) {
            Some(p) => p.as_ptr() as *mut T,
            None => block::alloc_zeroed(layout) as *mut T,
        };
        let ptr = NonNull::new(raw).ok_or(Error::OutOfMemory(layout.size() as u128))?;
        Ok(AlignedBuf {
            ptr,
            len,
            owner: None,
        })
    }

    /// `len` elements at `ptr` that another library owns, kept alive by
    /// `owner` (dropped, never freed here, when the buffer is), and never
    /// written through this buffer (no `&mut` to a storage behind a tensor
    /// is ever taken: tensors are immutable).
    ///
    /// # Safety
    /// `ptr` must be aligned for `T` and point to `len` initialised, valid
    /// `T`s that stay allocated, at the same address, and unwritten while
    /// `owner` lives.
    pub unsafe fn from_foreign(
        ptr: NonNull<T>,
        len: usize,
        owner: Box<dyn std::any::Any + Send + Sync>,
    ) -> Self {
        AlignedBuf {
            ptr,
            len,
            owner: Some(owner),
        }
    }

    /// Whether another library owns this memory (an import without a copy).
    pub fn is_foreign(&self) -> bool {
        self.owner.is_some()
    }

    pub fn from_slice(data: &[T]) -> Result<Self> {
        let mut buf = Self::for_overwrite(data.len())?;
        buf.as_mut_slice().copy_from_slice(data);
        Ok(buf)
    }

    pub fn from_iter_exact(len: usize, it: impl Iterator<Item = T>) -> Result<Self> {
        let mut buf = Self::zeroed(len)?;
        for (o, v) in buf.as_mut_slice().iter_mut().zip(it) {
            *o = v;
        }
        Ok(buf)
    }

    #[inline(always)]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: ptr points to `len` initialised elements that live as long as
        // self: every block starts zeroed (block::alloc_zeroed) and is only ever written
        // with valid values; a recycled block is either cleared or, for the
        // numeric types, holds bytes that are valid for any of them (module docs);
        // foreign memory is valid and alive while its owner is (from_foreign).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    #[inline(always)]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        debug_assert!(self.owner.is_none(), "foreign memory is read-only");
        // SAFETY: as in as_slice, and &mut self guarantees unique access.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T: Element> Drop for AlignedBuf<T> {
    fn drop(&mut self) {
        if self.owner.take().is_some() {
            // foreign memory: releasing the owner is all (it was never ours)
            return;
        }
        let layout = Self::layout(self.len).expect("layout was valid at allocation");
        let p = self.ptr.cast::<u8>();
        if !recycle(p, layout) {
            // SAFETY: ptr was allocated (by block::alloc_zeroed, possibly via the
            // cache) with exactly this layout, and is not used after this point.
            unsafe { block::dealloc(p.as_ptr(), layout) }
        }
    }
}

// ---- a small cache of large buffers -----------------------------------------
//
// A transform allocates and frees many same-sized temporaries (every op of a
// gradient over a 1e6-element array makes a fresh 4-8 MB buffer). Fresh large
// allocations come from mmap and pay a page fault per 4 KiB page on first
// touch, which costs more than the SIMD kernel that fills them; recycling
// freed buffers of the same size avoids that. A reused block is cleared unless
// the new owner overwrites it whole anyway (`for_overwrite`). Mid-sized
// blocks (4 KiB to 256 KiB) come from the allocator, which must clear them
// (an aligned `alloc_zeroed` is an allocation plus a memset): a 64 x 100 x 10
// float32 per-example gradient spent 5% of its call clearing its 256 KB
// output before overwriting it, so they are cached too. Small blocks have
// their own per-thread lists (`small_blocks`), for the allocator's per-call
// cost.

/// Buffers smaller than this are not cached here (small ones have their lists).
const CACHE_MIN_BYTES: usize = small_blocks::MAX_BYTES + ALIGN;
/// At most this many MiB are held in the cache unless `FERRAX_BUFFER_CACHE_MB` says.
const DEFAULT_CACHE_MB: usize = 256;
const CACHE_MAX_ENTRIES: usize = 64;

/// The cache's bound in MiB that `FERRAX_BUFFER_CACHE_MB` asks for (a
/// non-negative integer; 0 turns the cache off), or the default when unset.
/// A value that is not such a number is an error, reported at import: a
/// mistyped bound would silently keep the memory it was meant to give back.
pub fn requested_cache_mb() -> std::result::Result<usize, String> {
    match std::env::var("FERRAX_BUFFER_CACHE_MB") {
        Err(_) => Ok(DEFAULT_CACHE_MB),
        Ok(v) => parse_cache_mb(&v),
    }
}

fn parse_cache_mb(v: &str) -> std::result::Result<usize, String> {
    v.trim()
        .parse::<usize>()
        .ok()
        .filter(|mb| mb.checked_mul(1 << 20).is_some())
        .ok_or_else(|| {
            format!(
                "FERRAX_BUFFER_CACHE_MB={v:?} is not a number of MiB (a non-negative \
                 integer; 0 turns the cache of freed buffers off, the default is \
                 {DEFAULT_CACHE_MB})"
            )
        })
}

/// At most this many bytes of freed buffers are held (read once).
fn cache_max_bytes() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| requested_cache_mb().unwrap_or(DEFAULT_CACHE_MB) << 20)
}

struct Cached(NonNull<u8>, Layout);
// SAFETY: a cached pointer is owned by the cache alone (no other reference exists
// once the buffer that owned it was dropped), so moving it between threads is fine.
unsafe impl Send for Cached {}

static CACHE: std::sync::Mutex<(usize, Vec<Cached>)> = std::sync::Mutex::new((0, Vec::new()));

/// A block of exactly `layout` from the cache, if one is there; cleared to
/// zero bytes when `clear`, else holding its last owner's (initialised) bytes.
fn reuse(layout: Layout, clear: bool) -> Option<NonNull<u8>> {
    if layout.size() <= small_blocks::MAX_BYTES {
        let p = small_blocks::take(layout)?;
        if clear {
            // SAFETY: the block has `layout` (its size class), is exclusively ours
            // now, and write_bytes stays within its `layout.size()` bytes.
            unsafe { std::ptr::write_bytes(p.as_ptr(), 0, layout.size()) };
        }
        return Some(p);
    }
    if layout.size() < CACHE_MIN_BYTES {
        return None;
    }
    let hit = {
        // try_lock: a busy cache is a miss, never a wait (and a lock held by
        // another thread when the process forked cannot hang the child)
        let mut c = CACHE.try_lock().ok()?;
        let i = c.1.iter().rposition(|b| b.1 == layout)?;
        let b = c.1.swap_remove(i);
        c.0 -= layout.size();
        b.0
    };
    if clear {
        // SAFETY: the block was allocated with `layout` (checked above), is exclusively
        // ours now, and write_bytes stays within its `layout.size()` bytes.
        unsafe { std::ptr::write_bytes(hit.as_ptr(), 0, layout.size()) };
    }
    Some(hit)
}

/// Keep a freed block for reuse; false if the caller must deallocate it.
fn recycle(p: NonNull<u8>, layout: Layout) -> bool {
    if layout.size() <= small_blocks::MAX_BYTES {
        return small_blocks::give(p, layout);
    }
    if layout.size() < CACHE_MIN_BYTES {
        return false;
    }
    let max_bytes = cache_max_bytes();
    if layout.size() > max_bytes {
        return false;
    }
    let Ok(mut c) = CACHE.try_lock() else {
        return false;
    };
    // Full: the oldest blocks make room (a cache that kept its first blocks
    // forever would stop helping once a workload's sizes change).
    while c.0 + layout.size() > max_bytes || c.1.len() >= CACHE_MAX_ENTRIES {
        let old = c.1.remove(0);
        c.0 -= old.1.size();
        // SAFETY: the cache owned the block alone, and it was allocated by
        // block::alloc_zeroed with exactly the layout stored beside it.
        unsafe { block::dealloc(old.0.as_ptr(), old.1) };
    }
    c.0 += layout.size();
    c.1.push(Cached(p, layout));
    true
}

/// The computed values behind one or more tensors (views share it through an
/// `Arc`): one typed, aligned buffer. Values not computed yet are not a
/// storage but a [`Deferred`](crate::tensor::Deferred) that makes one.
pub enum Storage {
    Bool(AlignedBuf<bool>),
    I32(AlignedBuf<i32>),
    I64(AlignedBuf<i64>),
    F32(AlignedBuf<f32>),
    F64(AlignedBuf<f64>),
}

impl Storage {
    pub fn dtype(&self) -> DType {
        match self {
            Storage::Bool(_) => DType::Bool,
            Storage::I32(_) => DType::I32,
            Storage::I64(_) => DType::I64,
            Storage::F32(_) => DType::F32,
            Storage::F64(_) => DType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Storage::Bool(b) => b.len(),
            Storage::I32(b) => b.len(),
            Storage::I64(b) => b.len(),
            Storage::F32(b) => b.len(),
            Storage::F64(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A buffer of `len` elements of `dtype` for a writer of every element
    /// (see [`AlignedBuf::for_overwrite`]).
    pub fn for_overwrite(dtype: DType, len: usize) -> Result<Storage> {
        Ok(match dtype {
            DType::Bool => Storage::Bool(AlignedBuf::for_overwrite(len)?),
            DType::I32 => Storage::I32(AlignedBuf::for_overwrite(len)?),
            DType::I64 => Storage::I64(AlignedBuf::for_overwrite(len)?),
            DType::F32 => Storage::F32(AlignedBuf::for_overwrite(len)?),
            DType::F64 => Storage::F64(AlignedBuf::for_overwrite(len)?),
        })
    }

    /// The first `n` elements as a dtype-erased slice.
    pub fn head(&self, n: usize) -> AnySlice<'_> {
        match self {
            Storage::Bool(b) => AnySlice::Bool(&b.as_slice()[..n]),
            Storage::I32(b) => AnySlice::I32(&b.as_slice()[..n]),
            Storage::I64(b) => AnySlice::I64(&b.as_slice()[..n]),
            Storage::F32(b) => AnySlice::F32(&b.as_slice()[..n]),
            Storage::F64(b) => AnySlice::F64(&b.as_slice()[..n]),
        }
    }

    /// The first `n` elements as a mutable dtype-erased slice.
    pub fn head_mut(&mut self, n: usize) -> AnySliceMut<'_> {
        match self {
            Storage::Bool(b) => AnySliceMut::Bool(&mut b.as_mut_slice()[..n]),
            Storage::I32(b) => AnySliceMut::I32(&mut b.as_mut_slice()[..n]),
            Storage::I64(b) => AnySliceMut::I64(&mut b.as_mut_slice()[..n]),
            Storage::F32(b) => AnySliceMut::F32(&mut b.as_mut_slice()[..n]),
            Storage::F64(b) => AnySliceMut::F64(&mut b.as_mut_slice()[..n]),
        }
    }

    /// Address of the first element, for zero-copy export (NumPy's array interface).
    pub fn data_address(&self) -> usize {
        match self {
            Storage::Bool(b) => b.as_slice().as_ptr() as usize,
            Storage::I32(b) => b.as_slice().as_ptr() as usize,
            Storage::I64(b) => b.as_slice().as_ptr() as usize,
            Storage::F32(b) => b.as_slice().as_ptr() as usize,
            Storage::F64(b) => b.as_slice().as_ptr() as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_and_zeroed() {
        for len in [0usize, 1, 7, 33, 1025] {
            let b = AlignedBuf::<f32>::zeroed(len).unwrap();
            assert_eq!(b.as_slice().as_ptr() as usize % ALIGN, 0);
            assert!(b.as_slice().iter().all(|&x| x == 0.0));
        }
    }

    #[test]
    fn recycled_buffers_come_back_zeroed() {
        let n = (CACHE_MIN_BYTES / 8) + 3;
        for round in 0..3 {
            let mut b = AlignedBuf::<f64>::zeroed(n).unwrap();
            assert!(b.as_slice().iter().all(|&x| x == 0.0), "round {round}");
            assert_eq!(b.as_slice().as_ptr() as usize % ALIGN, 0);
            b.as_mut_slice().fill(7.0);
        }
    }

    #[test]
    fn the_cache_bound_is_a_whole_number_of_mib() {
        assert_eq!(parse_cache_mb("0"), Ok(0));
        assert_eq!(parse_cache_mb(" 64 "), Ok(64));
        assert_eq!(parse_cache_mb("256"), Ok(DEFAULT_CACHE_MB));
        for bad in [
            "",
            "-1",
            "1.5",
            "1e3",
            "64MB",
            "lots",
            "18446744073709551615",
        ] {
            let e = parse_cache_mb(bad).unwrap_err();
            assert!(e.contains("FERRAX_BUFFER_CACHE_MB"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_full_cache_makes_room_for_new_sizes() {
        // fill the cache with blocks of one size, then free a block of another:
        // the oldest are evicted and the new size is kept (and handed out again)
        let old = Layout::from_size_align(CACHE_MIN_BYTES + 3 * 4096, ALIGN).unwrap();
        let new = Layout::from_size_align(CACHE_MIN_BYTES + 5 * 4096, ALIGN).unwrap();
        let keep = |layout: Layout| {
            let p = NonNull::new(block::alloc_zeroed(layout)).unwrap();
            // another test may hold the lock for a moment: a refused block is retried
            for _ in 0..10_000 {
                if recycle(p, layout) {
                    return;
                }
                std::thread::yield_now();
            }
            panic!("the cache refused a block");
        };
        for _ in 0..CACHE_MAX_ENTRIES {
            keep(old);
        }
        keep(new);
        let got = (0..10_000).find_map(|_| {
            reuse(new, true).or_else(|| {
                std::thread::yield_now();
                None
            })
        });
        let p = got.expect("the new size was kept");
        // SAFETY: the block came from the cache with exactly `new`, and is ours.
        unsafe { block::dealloc(p.as_ptr(), new) };
        while let Some(p) = reuse(old, false) {
            // SAFETY: as above, for the blocks of `old` still cached.
            unsafe { block::dealloc(p.as_ptr(), old) };
        }
    }

    #[test]
    fn bool_blocks_from_the_cache_are_cleared_even_for_overwrite() {
        // A freed numeric block whose bytes are all 1 would read as `true`s
        // (and any other byte would be an invalid bool) if handed out as is.
        let n = (CACHE_MIN_BYTES / 8) + 5;
        let mut f = AlignedBuf::<f64>::for_overwrite(n).unwrap();
        f.as_mut_slice().fill(f64::from_bits(0x0101_0101_0101_0101));
        drop(f);
        let b = AlignedBuf::<bool>::for_overwrite(n * 8).unwrap();
        assert_eq!(b.as_slice().as_ptr() as usize % ALIGN, 0);
        assert!(b.as_slice().iter().all(|&x| !x));
    }

    #[test]
    fn huge_allocation_is_an_error_not_an_abort() {
        assert!(matches!(
            AlignedBuf::<f64>::zeroed(usize::MAX / 4),
            Err(Error::OutOfMemory(_))
        ));
        assert!(matches!(
            AlignedBuf::<f64>::zeroed(1 << 60),
            Err(Error::OutOfMemory(_))
        ));
    }
}

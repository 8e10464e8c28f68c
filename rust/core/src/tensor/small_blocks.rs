//! A per-thread free list of small buffers.
//!
//! A tiny op's own work is a few nanoseconds; the 64-byte aligned block
//! for its result is not. glibc serves an aligned request by carving an
//! aligned chunk out of a larger one and freeing the remainders
//! (`_int_memalign`, `unlink_chunk`, `malloc_consolidate`), and profiles of
//! a 4-element multiply put about an eighth of the whole call there. Small
//! blocks therefore go back to a free list of the thread that drops them,
//! one list per size class of [`ALIGN`] bytes, and the next buffer of that
//! class takes one from there: no lock, no allocator call.
//!
//! Blocks are owned by the list alone while they sit in it, so a block made
//! on one thread and dropped on another simply changes lists; each thread's
//! list returns what it holds to the allocator when the thread ends.

use std::alloc::Layout;
use std::cell::RefCell;
use std::ptr::NonNull;

use crate::tensor::block;
use crate::tensor::storage::ALIGN;

/// Blocks up to this many bytes are kept (1024 float32 or 512 float64).
pub const MAX_BYTES: usize = 4096;
/// Size classes: 64, 128, ..., 4096 bytes.
const CLASSES: usize = MAX_BYTES / ALIGN;
/// At most this many blocks of one class per thread.
const PER_CLASS: usize = 16;
/// At most this many bytes held per thread (a bound on memory kept idle).
const MAX_HELD_BYTES: usize = 256 << 10;

struct FreeLists {
    len: [u8; CLASSES],
    blocks: [[Option<NonNull<u8>>; PER_CLASS]; CLASSES],
    held: usize,
}

thread_local! {
    static LISTS: RefCell<FreeLists> = const {
        RefCell::new(FreeLists {
            len: [0; CLASSES],
            blocks: [[None; PER_CLASS]; CLASSES],
            held: 0,
        })
    };
}

/// The class of a block of `layout`, if it is one this cache keeps: sizes
/// are multiples of [`ALIGN`] (as `AlignedBuf` rounds them) at that alignment.
#[inline]
fn class(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (size <= MAX_BYTES && size % ALIGN == 0 && size > 0 && layout.align() == ALIGN)
        .then(|| size / ALIGN - 1)
}

/// A block of exactly `layout` from this thread's list, if one is there
/// (holding its last owner's bytes, which the caller clears if it must).
#[inline]
pub fn take(layout: Layout) -> Option<NonNull<u8>> {
    let c = class(layout)?;
    LISTS
        .try_with(|lists| {
            let mut l = lists.try_borrow_mut().ok()?;
            let n = l.len[c] as usize;
            if n == 0 {
                return None;
            }
            l.len[c] -= 1;
            l.held -= layout.size();
            l.blocks[c][n - 1].take()
        })
        .ok()
        .flatten()
}

/// Keep a dropped block of `layout` for reuse; false if the caller must
/// return it to the allocator (not a small class, list full, or the thread
/// is ending and its list is gone).
#[inline]
pub fn give(p: NonNull<u8>, layout: Layout) -> bool {
    let Some(c) = class(layout) else {
        return false;
    };
    LISTS
        .try_with(|lists| {
            let Ok(mut l) = lists.try_borrow_mut() else {
                return false;
            };
            let n = l.len[c] as usize;
            if n == PER_CLASS || l.held + layout.size() > MAX_HELD_BYTES {
                return false;
            }
            l.blocks[c][n] = Some(p);
            l.len[c] += 1;
            l.held += layout.size();
            true
        })
        .unwrap_or(false)
}

impl Drop for FreeLists {
    fn drop(&mut self) {
        for (c, list) in self.blocks.iter_mut().enumerate() {
            let layout = Layout::from_size_align((c + 1) * ALIGN, ALIGN)
                .expect("a size class is a valid layout");
            for p in list.iter_mut().filter_map(Option::take) {
                // SAFETY: every block in the list came from block::alloc_zeroed
                // with its class's layout (`give` files it by that layout), the
                // list owned it alone, and it is not used after this.
                unsafe { block::dealloc(p.as_ptr(), layout) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(bytes: usize) -> Layout {
        Layout::from_size_align(bytes, ALIGN).unwrap()
    }

    #[test]
    fn a_given_block_is_taken_back_by_its_class_only() {
        let l = layout(128);
        let p = NonNull::new(block::alloc_zeroed(l)).unwrap();
        assert!(give(p, l));
        assert_eq!(take(layout(192)), None);
        assert_eq!(take(l), Some(p));
        assert_eq!(take(l), None);
        // SAFETY: p came from alloc_zeroed with layout l and is ours again.
        unsafe { block::dealloc(p.as_ptr(), l) };
    }

    #[test]
    fn large_odd_or_overaligned_layouts_are_not_kept() {
        let p = NonNull::<u8>::dangling();
        assert!(!give(p, layout(MAX_BYTES + ALIGN)));
        assert!(!give(p, layout(100)));
        assert!(!give(p, Layout::from_size_align(128, 128).unwrap()));
    }

    #[test]
    fn a_full_class_refuses_more() {
        let l = layout(ALIGN);
        let blocks: Vec<_> = (0..PER_CLASS + 1)
            .map(|_| NonNull::new(block::alloc_zeroed(l)).unwrap())
            .collect();
        // on a thread of its own, so the list starts empty; the kept blocks
        // go back to the allocator when the thread ends and its list drops
        let ptrs: Vec<usize> = blocks.iter().map(|p| p.as_ptr() as usize).collect();
        std::thread::spawn(move || {
            let mut kept = 0;
            for &a in &ptrs {
                let p = NonNull::new(a as *mut u8).unwrap();
                if give(p, l) {
                    kept += 1;
                } else {
                    // SAFETY: refused, so still ours: from alloc_zeroed with l.
                    unsafe { block::dealloc(p.as_ptr(), l) };
                }
            }
            assert_eq!(kept, PER_CLASS);
        })
        .join()
        .unwrap();
    }
}

//! Fresh zeroed memory for buffers: large blocks straight from the OS.
//!
//! The standard allocator cannot hand out zeroed memory at our 64-byte
//! alignment without clearing it itself: `alloc_zeroed` with an alignment
//! above 16 is `alloc` plus a `memset` of the whole block. For a large block
//! that pass is one single-threaded write of every page (and a page fault per
//! 4 KiB page) before the kernel that fills it even starts; on a 300 MB matmul
//! output it took 0.3-0.9 s, during which Ctrl-C could not be seen. Anonymous
//! `mmap` memory is zero by the OS's guarantee and page-aligned, so large
//! blocks come from there: their pages are faulted in by the kernel that
//! writes them, in parallel and between interrupt checks.

use std::alloc::{self, Layout};

/// Blocks of at least this many bytes are mapped directly (on Unix). The same
/// test decides how a block is returned, so it depends on the layout alone.
pub const MAP_MIN_BYTES: usize = 256 << 10;

/// Whether a block of this layout is mapped rather than allocated.
#[inline]
fn mapped(layout: Layout) -> bool {
    cfg!(unix) && layout.size() >= MAP_MIN_BYTES && layout.align() <= 4096
}

/// A zeroed block of `layout` (non-zero size), or null when memory is exhausted.
pub fn alloc_zeroed(layout: Layout) -> *mut u8 {
    #[cfg(unix)]
    if mapped(layout) {
        // SAFETY: an anonymous private mapping with no address hint touches no
        // existing memory; the kernel returns page-aligned (so `layout.align()`
        // <= 4096 aligned), zero-filled pages, or MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                layout.size(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        return if p == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            p as *mut u8
        };
    }
    // SAFETY: the caller's layout has non-zero size and a power-of-two alignment.
    unsafe { alloc::alloc_zeroed(layout) }
}

/// Return a block.
///
/// # Safety
/// `p` came from [`alloc_zeroed`] with this same `layout` and is not used again.
pub unsafe fn dealloc(p: *mut u8, layout: Layout) {
    #[cfg(unix)]
    if mapped(layout) {
        // SAFETY: (caller) p is the start of a mapping of exactly layout.size()
        // bytes made by alloc_zeroed, and nothing refers to it any more. munmap
        // fails only for arguments that are not such a mapping.
        unsafe { libc::munmap(p as *mut libc::c_void, layout.size()) };
        return;
    }
    // SAFETY: (caller) p came from alloc::alloc_zeroed with this layout.
    unsafe { alloc::dealloc(p, layout) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_of_every_size_are_zeroed_aligned_and_writable() {
        for bytes in [
            1,
            64,
            MAP_MIN_BYTES - 64,
            MAP_MIN_BYTES,
            3 * MAP_MIN_BYTES + 64,
        ] {
            let layout = Layout::from_size_align(bytes, 64).unwrap();
            let p = alloc_zeroed(layout);
            assert!(!p.is_null() && p as usize % 64 == 0);
            // SAFETY: p points to `bytes` bytes owned by this test until dealloc.
            let s = unsafe { std::slice::from_raw_parts_mut(p, bytes) };
            assert!(s.iter().all(|&b| b == 0));
            s.fill(7);
            assert_eq!(s[bytes - 1], 7);
            // SAFETY: p came from alloc_zeroed with this layout and is not used again.
            unsafe { dealloc(p, layout) };
        }
    }

    #[test]
    fn an_impossible_mapping_is_null_not_an_abort() {
        let layout = Layout::from_size_align(isize::MAX as usize - 4095, 64).unwrap();
        assert!(alloc_zeroed(layout).is_null());
    }
}

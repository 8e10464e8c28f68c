//! The Threefry-2x32 counter-based generator (Salmon et al., "Parallel
//! random numbers: as easy as 1, 2, 3", SC 2011) with 20 rounds, as JAX's
//! default PRNG computes it, and JAX's "partitionable" layout: element `i`
//! of a draw is the hash of the 64-bit counter `i` (split into two words)
//! under the key, so any element is computed independently (in parallel
//! above the grain) and the bits are JAX's, bit for bit.

use crate::kernels::parallel::for_chunks;

const ROTATIONS: [[u32; 4]; 2] = [[13, 15, 26, 6], [17, 29, 16, 24]];

/// Threefry-2x32 of the block `(x0, x1)` under the key `(k0, k1)`.
#[inline]
pub fn threefry2x32(k0: u32, k1: u32, x0: u32, x1: u32) -> (u32, u32) {
    let ks = [k0, k1, k0 ^ k1 ^ 0x1BD1_1BDA];
    let (mut x0, mut x1) = (x0.wrapping_add(ks[0]), x1.wrapping_add(ks[1]));
    for r in 0..5 {
        for rot in ROTATIONS[r % 2] {
            x0 = x0.wrapping_add(x1);
            x1 = x1.rotate_left(rot) ^ x0;
        }
        x0 = x0.wrapping_add(ks[(r + 1) % 3]);
        x1 = x1.wrapping_add(ks[(r + 2) % 3]).wrapping_add(r as u32 + 1);
    }
    (x0, x1)
}

/// `out[i] = f(threefry2x32(key, hi(i), lo(i)))` for the counters `i` of
/// `out` (a draw of `out.len()` elements).
pub fn draw<T: Send>(key: (u32, u32), out: &mut [T], f: impl Fn(u32, u32) -> T + Sync) {
    for_chunks(out, |start, part| {
        for (j, o) in part.iter_mut().enumerate() {
            let i = (start + j) as u64;
            let (a, b) = threefry2x32(key.0, key.1, (i >> 32) as u32, i as u32);
            *o = f(a, b);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_of_the_reference_implementation() {
        // Random123's kat_vectors for threefry2x32_20: zero key and block,
        // and the all-ones key and block
        assert_eq!(threefry2x32(0, 0, 0, 0), (0x6b20_0159, 0x99ba_4efe));
        assert_eq!(
            threefry2x32(u32::MAX, u32::MAX, u32::MAX, u32::MAX),
            (0x1cb9_96fc, 0xbb00_2be7)
        );
    }
}

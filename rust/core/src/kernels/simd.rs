//! Runtime SIMD dispatch for elementwise loops.
//!
//! The loop bodies are plain Rust over slices, written branch-free so that
//! LLVM vectorises them; `pulp::Arch::dispatch` compiles each body once per
//! instruction set (AVX-512, AVX2+FMA, NEON, scalar) and picks one at run time,
//! so a portable wheel still runs the widest code the CPU has.

use pulp::Arch;

/// The instruction set the dispatcher picked on this machine.
pub fn simd_level() -> &'static str {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        match Arch::new() {
            Arch::V4(_) => "avx512",
            Arch::V3(_) => "avx2+fma",
            _ => "scalar",
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        "neon"
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
    {
        "scalar"
    }
}

/// `out[i] = f(x[i])`, vectorised for the best instruction set available.
#[inline(always)]
pub fn map1<A: Copy, R: Copy>(x: &[A], out: &mut [R], f: impl Fn(A) -> R) {
    debug_assert_eq!(x.len(), out.len());
    Arch::new().dispatch(
        #[inline(always)]
        || {
            for (o, &a) in out.iter_mut().zip(x) {
                *o = f(a);
            }
        },
    )
}

/// `out[i] = f(a[i], b[i])`.
#[inline(always)]
pub fn map2<A: Copy, B: Copy, R: Copy>(a: &[A], b: &[B], out: &mut [R], f: impl Fn(A, B) -> R) {
    debug_assert!(a.len() == out.len() && b.len() == out.len());
    Arch::new().dispatch(
        #[inline(always)]
        || {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = f(x, y);
            }
        },
    )
}

/// `out[i] = f(a[i], b)` with a scalar second operand.
#[inline(always)]
pub fn map2_scalar_rhs<A: Copy, B: Copy, R: Copy>(
    a: &[A],
    b: B,
    out: &mut [R],
    f: impl Fn(A, B) -> R,
) {
    debug_assert_eq!(a.len(), out.len());
    Arch::new().dispatch(
        #[inline(always)]
        || {
            for (o, &x) in out.iter_mut().zip(a) {
                *o = f(x, b);
            }
        },
    )
}

/// `out[i] = f(a, b[i])` with a scalar first operand.
#[inline(always)]
pub fn map2_scalar_lhs<A: Copy, B: Copy, R: Copy>(
    a: A,
    b: &[B],
    out: &mut [R],
    f: impl Fn(A, B) -> R,
) {
    debug_assert_eq!(b.len(), out.len());
    Arch::new().dispatch(
        #[inline(always)]
        || {
            for (o, &y) in out.iter_mut().zip(b) {
                *o = f(a, y);
            }
        },
    )
}

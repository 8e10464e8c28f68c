//! Runtime SIMD dispatch for elementwise loops.
//!
//! The loop bodies are plain Rust over slices, written branch-free so that
//! LLVM vectorises them; `pulp::Arch::dispatch` compiles each body once per
//! instruction set (AVX-512, AVX2+FMA, NEON, scalar) and picks one at run time,
//! so a portable wheel still runs the widest code the CPU has.
//!
//! Each loop is a `pulp::WithSimd` struct whose `with_simd` is
//! `#[inline(always)]`: that guarantees the element function is inlined inside
//! pulp's target-feature function. (Dispatching a closure instead lets LLVM
//! outline large bodies, such as the f64 `erf` polynomial, into a function
//! without the target features, where every `mul_add` becomes a libm call.)

use pulp::{Arch, Simd, WithSimd};

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

struct Map1<'a, A, R, F> {
    x: &'a [A],
    out: &'a mut [R],
    f: F,
}

impl<A: Copy, R: Copy, F: Fn(A) -> R> WithSimd for Map1<'_, A, R, F> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        for (o, &a) in self.out.iter_mut().zip(self.x) {
            *o = (self.f)(a);
        }
    }
}

/// `out[i] = f(x[i])`, vectorised for the best instruction set available.
#[inline(always)]
pub fn map1<A: Copy, R: Copy>(x: &[A], out: &mut [R], f: impl Fn(A) -> R) {
    debug_assert_eq!(x.len(), out.len());
    Arch::new().dispatch(Map1 { x, out, f })
}

/// Where each operand of a binary loop comes from.
#[derive(Clone, Copy)]
enum Operand<'a, T> {
    Slice(&'a [T]),
    Scalar(T),
}

struct Map2<'a, A, B, R, F> {
    a: Operand<'a, A>,
    b: Operand<'a, B>,
    out: &'a mut [R],
    f: F,
}

impl<A: Copy, B: Copy, R: Copy, F: Fn(A, B) -> R> WithSimd for Map2<'_, A, B, R, F> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let f = self.f;
        match (self.a, self.b) {
            (Operand::Slice(a), Operand::Slice(b)) => {
                for ((o, &x), &y) in self.out.iter_mut().zip(a).zip(b) {
                    *o = f(x, y);
                }
            }
            (Operand::Slice(a), Operand::Scalar(y)) => {
                for (o, &x) in self.out.iter_mut().zip(a) {
                    *o = f(x, y);
                }
            }
            (Operand::Scalar(x), Operand::Slice(b)) => {
                for (o, &y) in self.out.iter_mut().zip(b) {
                    *o = f(x, y);
                }
            }
            (Operand::Scalar(x), Operand::Scalar(y)) => self.out.fill(f(x, y)),
        }
    }
}

/// `out[i] = f(a[i], b[i])`.
#[inline(always)]
pub fn map2<A: Copy, B: Copy, R: Copy>(a: &[A], b: &[B], out: &mut [R], f: impl Fn(A, B) -> R) {
    debug_assert!(a.len() == out.len() && b.len() == out.len());
    Arch::new().dispatch(Map2 {
        a: Operand::Slice(a),
        b: Operand::Slice(b),
        out,
        f,
    })
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
    Arch::new().dispatch(Map2 {
        a: Operand::Slice(a),
        b: Operand::Scalar(b),
        out,
        f,
    })
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
    Arch::new().dispatch(Map2 {
        a: Operand::Scalar(a),
        b: Operand::Slice(b),
        out,
        f,
    })
}

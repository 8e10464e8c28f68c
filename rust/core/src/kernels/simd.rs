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

use std::sync::OnceLock;

use pulp::{Arch, Simd, WithSimd};

/// The levels `FERRAX_SIMD` accepts on this architecture, narrowest first.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
const LEVELS: &[&str] = &["scalar", "avx2", "avx512"];
#[cfg(target_arch = "aarch64")]
const LEVELS: &[&str] = &["scalar", "neon"];
#[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
const LEVELS: &[&str] = &["scalar"];

/// The cap `FERRAX_SIMD` asks for, as an index into [`LEVELS`]: `Ok(None)`
/// when unset or empty, `Err` (naming the accepted values) when it names no
/// level of this architecture. The Python module refuses to import then, so
/// a typo never silently measures the wrong path.
pub fn requested_cap() -> Result<Option<usize>, String> {
    let Ok(v) = std::env::var("FERRAX_SIMD") else {
        return Ok(None);
    };
    let v = v.trim().to_ascii_lowercase();
    if v.is_empty() {
        return Ok(None);
    }
    LEVELS
        .iter()
        .position(|l| *l == v)
        .map(Some)
        .ok_or_else(|| {
            format!(
                "FERRAX_SIMD={v:?} is not an instruction set of this CPU architecture; \
             use one of {}",
                LEVELS.join(", ")
            )
        })
}

/// The instruction set every elementwise, reduction and fusion kernel
/// dispatches to: the widest this CPU has, capped by `FERRAX_SIMD` (read
/// once, at the first kernel) so that every path can be measured and tested
/// on one machine. A cap above the CPU's own level leaves it unchanged.
/// Matrix products with a narrow output (`narrow_product`) are capped too;
/// the others (the `gemm` crate, through faer too, and OpenBLAS) detect the
/// CPU themselves and are not.
#[inline]
pub fn arch() -> Arch {
    static ARCH: OnceLock<Arch> = OnceLock::new();
    *ARCH.get_or_init(|| match requested_cap() {
        Ok(Some(cap)) => capped(Arch::new(), cap),
        _ => Arch::new(),
    })
}

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn capped(best: Arch, cap: usize) -> Arch {
    match (best, cap) {
        (_, 0) => Arch::Scalar,
        (Arch::V4(_), 1) => pulp::x86::V3::try_new().map_or(Arch::Scalar, Arch::V3),
        (best, _) => best,
    }
}

#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
fn capped(best: Arch, cap: usize) -> Arch {
    if cap == 0 {
        Arch::Scalar
    } else {
        best
    }
}

/// The instruction set the kernels dispatch to ([`arch`]).
pub fn simd_level() -> &'static str {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        match arch() {
            Arch::V4(_) => "avx512",
            Arch::V3(_) => "avx2+fma",
            _ => "scalar",
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        match arch() {
            Arch::Scalar => "scalar",
            _ => "neon",
        }
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
    arch().dispatch(Map1 { x, out, f })
}

struct AllOf<'a, A, F> {
    x: &'a [A],
    f: F,
}

impl<A: Copy, F: Fn(A) -> bool> WithSimd for AllOf<'_, A, F> {
    type Output = bool;
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> bool {
        // `&`, not `&&`: without an early exit the loop vectorises
        self.x.iter().fold(true, |ok, &v| ok & (self.f)(v))
    }
}

/// Whether `f` holds for every element of `x`, vectorised: the whole slice is
/// read (no early exit), which for a check that usually passes is the fast way.
#[inline(always)]
pub fn all_of<A: Copy>(x: &[A], f: impl Fn(A) -> bool) -> bool {
    arch().dispatch(AllOf { x, f })
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
    arch().dispatch(Map2 {
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
    arch().dispatch(Map2 {
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
    arch().dispatch(Map2 {
        a: Operand::Scalar(a),
        b: Operand::Slice(b),
        out,
        f,
    })
}

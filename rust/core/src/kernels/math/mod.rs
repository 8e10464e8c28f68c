//! Vectorisable transcendental functions for `f32` and `f64`.
//!
//! Every function here is straight-line, branch-free code (value selects, bit
//! manipulation, polynomial evaluation) marked `#[inline(always)]`, so that
//! when it is inlined into a plain loop over slices inside a `pulp` dispatch
//! (`kernels::simd::map1`) LLVM vectorises the whole loop body for AVX2,
//! AVX-512 or NEON. There are no libm calls and no data-indexed tables.
//!
//! Design, shared by all families:
//! * Range reduction with Cody–Waite constants and round-to-nearest by adding
//!   the magic number `1.5 * 2^MANT`, whose low mantissa bits then hold the
//!   integer (used for `2^k` scaling and quadrant parity).
//! * Minimax polynomials (derived with a weighted Remez exchange in mpmath,
//!   coefficients rounded to the target type), evaluated by Horner.
//! * `2^k` built from exponent bits; results that are subnormal or overflow
//!   use two factors (`scale2`) so they round once and correctly.
//!
//! Fused multiply-add: polynomials and reductions use `mul_add` (via `fma`).
//! Inside a pulp dispatch for AVX2+FMA, AVX-512 or NEON it is one instruction
//! (about 1.4x faster than `a * b + c` here, and it makes the three-part
//! Cody–Waite trig reduction exact), and because it is correctly rounded all
//! SIMD paths give bit-identical results. On x86 CPUs without FMA (pulp's
//! scalar fallback) and when these functions are called outside a dispatched
//! loop, `mul_add` is a libm call: still correct, but about 10x slower. The
//! trig reduction relies on the fused product being exact, so `fma` must stay
//! fused.
//!
//! Inlining: the largest bodies (f64 `erf` and `softplus`) can exceed LLVM's
//! inline budget for the `FnOnce::call_once` shim of a closure handed to
//! `pulp::Arch::dispatch`; the loop then compiles without the target features
//! and every `mul_add` becomes a libm call (about 50x slower). Dispatching
//! through a `pulp::WithSimd` impl whose `with_simd` is `#[inline(always)]`
//! avoids that.
//!
//! Accuracy, measured by the tests at the bottom (10^7 random points per
//! function, plus a sweep over f32 bit patterns): f64 within 3 ulp of std
//! (system libm), f32 within 3 ulp of the correctly rounded result (test
//! bound: 2 ulp of std or 1e-6 relative). The one restriction is the size of
//! trig arguments: `sin`, `cos` and `tan` are accurate for `|x| <= TRIG_MAX`
//! (1e5 for f32, 1e9 for f64); for larger arguments run [`fix_trig_large`]
//! over the output. Every other function is accurate on its whole domain,
//! including subnormal inputs and outputs.

use core::ops::{Add, Div, Mul, Neg, Sub};

/// Elementwise transcendental functions, branch-free and vectorisable.
///
/// Special values follow std: NaN propagates, infinities and signed zeros map
/// as the corresponding `f32`/`f64` methods do.
pub trait FloatMath:
    Copy
    + Send
    + Sync
    + 'static
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// Largest `|x|` for which `sin`, `cos` and `tan` are accurate; see
    /// [`fix_trig_large`] for larger arguments.
    const TRIG_MAX: Self;

    fn exp(x: Self) -> Self;
    fn exp2(x: Self) -> Self;
    fn expm1(x: Self) -> Self;
    fn ln(x: Self) -> Self;
    fn log2(x: Self) -> Self;
    fn log10(x: Self) -> Self;
    fn ln1p(x: Self) -> Self;
    /// Accurate for `|x| <= TRIG_MAX`.
    fn sin(x: Self) -> Self;
    /// Accurate for `|x| <= TRIG_MAX`.
    fn cos(x: Self) -> Self;
    /// Accurate for `|x| <= TRIG_MAX`.
    fn tan(x: Self) -> Self;
    fn asin(x: Self) -> Self;
    fn acos(x: Self) -> Self;
    fn atan(x: Self) -> Self;
    fn atan2(y: Self, x: Self) -> Self;
    fn sinh(x: Self) -> Self;
    fn cosh(x: Self) -> Self;
    fn tanh(x: Self) -> Self;
    fn asinh(x: Self) -> Self;
    fn acosh(x: Self) -> Self;
    fn atanh(x: Self) -> Self;
    fn erf(x: Self) -> Self;
    /// `1 / (1 + exp(-x))`, relative-accurate in both tails.
    fn sigmoid(x: Self) -> Self;
    /// `ln(1 + exp(x))`: no overflow for large `x`, relative-accurate for very negative `x`.
    fn softplus(x: Self) -> Self;

    /// `sin`/`cos`/`tan` through std (libm, exact reduction for any argument).
    /// Scalar and slow; used by [`fix_trig_large`].
    fn trig_libm(x: Self, which: Trig) -> Self;
}

/// Which trigonometric function [`fix_trig_large`] recomputes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trig {
    Sin,
    Cos,
    Tan,
}

/// Recomputes `out[i]` with std's `sin`/`cos`/`tan` wherever
/// `|x[i]| > T::TRIG_MAX`, the range where the branch-free versions lose
/// accuracy. Meant to run after a vectorised `sin`/`cos`/`tan` pass: the scan
/// is a vectorised "any large element?" test per block, so on normal data it
/// costs a small fraction of the main pass and no element is recomputed.
pub fn fix_trig_large<T: FloatMath>(x: &[T], out: &mut [T], which: Trig) {
    assert_eq!(x.len(), out.len());
    const BLOCK: usize = 512;
    crate::kernels::simd::arch().dispatch(
        #[inline(always)]
        || {
            for (xb, ob) in x.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
                // Non-short-circuit `|` keeps the reduction branch-free.
                let any = xb.iter().fold(false, |acc, &v| {
                    acc | (v > T::TRIG_MAX) | (v < -T::TRIG_MAX)
                });
                if any {
                    for (o, &v) in ob.iter_mut().zip(xb) {
                        if v > T::TRIG_MAX || v < -T::TRIG_MAX {
                            *o = T::trig_libm(v, which);
                        }
                    }
                }
            }
        },
    )
}

mod consts;
use consts::{c32, c64};

/// Implements `FloatMath` for one float type. The algorithms are written once;
/// only the constants (module `$c`) and the integer types differ.
macro_rules! float_math_impl {
    ($m:ident, $f:ident, $u:ident, $i:ident, $c:ident) => {
        mod $m {
            use super::{$c as C, FloatMath, Trig};
            use core::$f::consts as K;

            type F = $f;
            type U = $u;
            type I = $i;

            const BITS: u32 = U::BITS;
            const MANT: u32 = F::MANTISSA_DIGITS - 1;
            const MANT_MASK: U = (1 << MANT) - 1;
            const SIGN: U = 1 << (BITS - 1);
            const BIAS: I = (F::MAX_EXP - 1) as I;

            // ---------------------------------------------------------------
            // Shared helpers
            // ---------------------------------------------------------------

            /// Fused multiply-add `a * b + c` (see the module docs).
            #[inline(always)]
            fn fma(a: F, b: F, c: F) -> F {
                a.mul_add(b, c)
            }

            /// Horner evaluation of `c[0] + c[1] x + ... + c[N-1] x^(N-1)`.
            /// `N` is a constant, so the loop is fully unrolled.
            #[inline(always)]
            fn poly<const N: usize>(x: F, c: &[F; N]) -> F {
                let mut acc = c[N - 1];
                for &ci in c[..N - 1].iter().rev() {
                    acc = fma(acc, x, ci);
                }
                acc
            }

            #[inline(always)]
            fn bits(x: F) -> U {
                x.to_bits()
            }

            #[inline(always)]
            fn from_bits(u: U) -> F {
                F::from_bits(u)
            }

            /// `mag` (non-negative, including +0 and NaN) with the sign of `s`.
            #[inline(always)]
            fn with_sign_of(mag: F, s: F) -> F {
                from_bits(bits(mag) | (bits(s) & SIGN))
            }

            /// Flips the sign of `x` where `mask` has its sign bit set.
            #[inline(always)]
            fn xor_sign(x: F, mask: U) -> F {
                from_bits(bits(x) ^ (mask & SIGN))
            }

            /// Clamp that keeps NaN (compiles to min/max instructions).
            #[inline(always)]
            fn clamp(x: F, lo: F, hi: F) -> F {
                let x = if x > hi { hi } else { x };
                if x < lo {
                    lo
                } else {
                    x
                }
            }

            /// `2^n` for `n` in the normal exponent range (`ldexp` via bits).
            #[inline(always)]
            fn pow2i(n: I) -> F {
                from_bits(((n + BIAS) as U) << MANT)
            }

            /// `p * 2^k` for `k` from the subnormal range to past overflow: two
            /// normal factors, so the only rounding is in the last product.
            #[inline(always)]
            fn scale2(p: F, k: I) -> F {
                // Biased exponents of 2^(k>>1) and 2^(k - (k>>1)) straight from k + 2 BIAS.
                let kb = k + 2 * BIAS;
                let k1 = kb >> 1;
                p * from_bits((k1 as U) << MANT) * from_bits(((kb - k1) as U) << MANT)
            }

            /// The integer `k` held by `t = y + MAGIC` (`|k| < 2^(MANT-1)`).
            #[inline(always)]
            fn int_of(t: F) -> I {
                (bits(t) as I).wrapping_sub(bits(C::MAGIC) as I)
            }

            /// Integer to float through the magic number (`|i| < 2^(MANT-1)`).
            #[inline(always)]
            fn to_float(i: I) -> F {
                from_bits((bits(C::MAGIC) as I).wrapping_add(i) as U) - C::MAGIC
            }

            // ---------------------------------------------------------------
            // exp, exp2, expm1
            // ---------------------------------------------------------------

            /// `e^x = p * 2^k`: `k = round(x / ln2)` (fma + magic add),
            /// `r = x - k ln2` with a two-part ln2 (`k * LN2_HI` is exact),
            /// `p = e^r = 1 + r Q(r)` minimax on `[-ln2/2, ln2/2]`.
            /// `x` must be clamped so that `|k| < 2^(MANT-1)`.
            #[inline(always)]
            fn exp_core(x: F) -> (F, I) {
                let t = fma(x, K::LOG2_E, C::MAGIC);
                let kf = t - C::MAGIC;
                let r = fma(kf, -C::LN2_HI, x);
                let r = fma(kf, -C::LN2_LO, r);
                (fma(r, poly(r, &C::EXP_Q), 1.0), int_of(t))
            }

            /// `expm1(y) = 2^k (1 + p) - 1` with `p = expm1(r) = r + r^2 P(r)`
            /// (same reduction as `exp_core`; `p` is relative-accurate near 0).
            #[inline(always)]
            fn expm1_core(y: F) -> (F, I) {
                let t = fma(y, K::LOG2_E, C::MAGIC);
                let kf = t - C::MAGIC;
                let r = fma(kf, -C::LN2_HI, y);
                let r = fma(kf, -C::LN2_LO, r);
                (fma(r * r, poly(r, &C::EXPM1_P), r), int_of(t))
            }

            #[inline(always)]
            pub(super) fn exp(x: F) -> F {
                // Clamping keeps k in range; overflow to inf and underflow
                // (through the subnormals) to 0 then happen in `scale2`.
                let (p, k) = exp_core(clamp(x, C::EXP_LO, C::EXP_HI));
                scale2(p, k)
            }

            /// `2^x = 2^k 2^f`, `k = round(x)`, `f = x - k` exact, `2^f = e^(f ln2)`
            /// through the exp polynomial.
            #[inline(always)]
            pub(super) fn exp2(x: F) -> F {
                let x = clamp(x, C::EXP2_LO, C::EXP2_HI);
                let t = x + C::MAGIC;
                let r = (x - (t - C::MAGIC)) * K::LN_2;
                scale2(fma(r, poly(r, &C::EXP_Q), 1.0), int_of(t))
            }

            #[inline(always)]
            pub(super) fn expm1(x: F) -> F {
                let (p, k) = expm1_core(clamp(x, C::EXPM1_LO, C::EXP_HI));
                // 2^k (1 + p) - 1 = 2 (s p + (s - 1/2)) with s = 2^(k-1): `s - 1/2`
                // is exact wherever it matters, the fma rounds once, and the
                // doubling overflows only when the result does.
                let s = pow2i(k - 1);
                let res = 2.0 * fma(s, p, s - 0.5);
                // Tiny |x|: the result is x (keeps -0 and subnormals exact).
                if x.abs() < C::TINY {
                    x
                } else {
                    res
                }
            }

            // ---------------------------------------------------------------
            // ln, log2, log10, ln1p
            // ---------------------------------------------------------------

            /// For normal `u > 0`: `u = 2^e m`, `m` in `[sqrt(1/2), sqrt(2))` (split by
            /// offsetting the bits by those of sqrt(1/2)), `f = m - 1` (exact) and
            /// `ln(m) = f + t` with `s = f / (2 + f)`, `2 atanh(s) = 2s + s^3 Q(s^2)`,
            /// rewritten as `f - s (f - s^2 Q)` so the large term `f` is exact.
            /// Returns `(e, f, t)`.
            #[inline(always)]
            fn log_kernel(u: F) -> (F, F, F) {
                let ix = bits(u).wrapping_sub(bits(K::FRAC_1_SQRT_2));
                let e = (ix as I) >> MANT;
                let m = from_bits((ix & MANT_MASK).wrapping_add(bits(K::FRAC_1_SQRT_2)));
                let f = m - 1.0;
                let s = f / (2.0 + f);
                let z = s * s;
                let r = z * poly(z, &C::LOG_Q);
                (to_float(e), f, -(s * (f - r)))
            }

            /// `k ln2 + f + t` with a two-part ln2 (`k * LN2_HI` is exact).
            #[inline(always)]
            fn ln_finish(k: F, f: F, t: F) -> F {
                fma(k, C::LN2_HI, f + fma(k, C::LN2_LO, t))
            }

            /// Special cases of a logarithm of `u`: 0 -> -inf, negative or NaN -> NaN,
            /// +inf -> +inf; `res` otherwise.
            #[inline(always)]
            fn log_special(u: F, res: F) -> F {
                let sp = if u == 0.0 { F::NEG_INFINITY } else { F::NAN };
                let res = if u > 0.0 { res } else { sp };
                if u == F::INFINITY {
                    u
                } else {
                    res
                }
            }

            /// `(e, f, t)` of `log_kernel` for any `x > 0`, subnormals included.
            #[inline(always)]
            fn log_parts(x: F) -> (F, F, F) {
                let sub = x < F::MIN_POSITIVE;
                let u = if sub { x * C::SUBNORMAL_SCALE } else { x };
                let (e, f, t) = log_kernel(u);
                (if sub { e - C::SUBNORMAL_SHIFT } else { e }, f, t)
            }

            #[inline(always)]
            pub(super) fn ln(x: F) -> F {
                let (k, f, t) = log_parts(x);
                log_special(x, ln_finish(k, f, t))
            }

            /// `k + (f + t) log2(e)`, the product done with a two-part log2(e)
            /// inside one fma so that log2 is as accurate as ln.
            #[inline(always)]
            pub(super) fn log2(x: F) -> F {
                let (k, f, t) = log_parts(x);
                let y = fma(f, K::LOG2_E, fma(t, K::LOG2_E, f * C::LOG2E_LO));
                log_special(x, k + y)
            }

            #[inline(always)]
            pub(super) fn log10(x: F) -> F {
                let (k, f, t) = log_parts(x);
                let y = fma(f, K::LOG10_E, fma(t, K::LOG10_E, f * C::LOG10E_LO));
                log_special(x, fma(k, C::LOG10_2_HI, fma(k, C::LOG10_2_LO, y)))
            }

            /// `ln(1 + x)` for any `x`: `u = 1 + x` rounds, but `1 + x = u + c`
            /// exactly with `c` computed below (Sterbenz), and
            /// `ln(u + c) = ln(u) + c/u` to within rounding.
            #[inline(always)]
            fn ln1p_core(x: F) -> F {
                let u = 1.0 + x;
                let c = if u > 2.0 {
                    1.0 - (u - x)
                } else {
                    x - (u - 1.0)
                };
                let (k, f, t) = log_kernel(u);
                log_special(u, ln_finish(k, f, t + c / u))
            }

            #[inline(always)]
            pub(super) fn ln1p(x: F) -> F {
                let res = ln1p_core(x);
                // Tiny |x|: the result is x (keeps the sign of zero).
                if x.abs() < C::TINY {
                    x
                } else {
                    res
                }
            }

            // ---------------------------------------------------------------
            // sin, cos, tan
            // ---------------------------------------------------------------

            /// `sin(r) = r + r^3 P(r^2)`, minimax on `|r| <= 1.01 pi/2`.
            #[inline(always)]
            fn sin_poly(r: F) -> F {
                let z = r * r;
                fma(r * z, poly(z, &C::SIN_P), r)
            }

            /// `a - n pi` with the three-part pi: the first fma is exact (its
            /// result fits the mantissa for `a <= TRIG_MAX`), the others round
            /// relative to the (small) result.
            #[inline(always)]
            fn reduce_pi(a: F, n: F) -> F {
                let r = fma(n, -C::PI_A, a);
                let r = fma(n, -C::PI_B, r);
                fma(n, -C::PI_C, r)
            }

            /// `a = q pi + r`, `q = round(a/pi)`, `|r| <= pi/2`: `sin(a) = (-1)^q sin(r)`,
            /// one odd polynomial; the parity of `q` is the low bit of `t`.
            #[inline(always)]
            pub(super) fn sin(x: F) -> F {
                let a = x.abs();
                let t = fma(a, K::FRAC_1_PI, C::MAGIC);
                let r = reduce_pi(a, t - C::MAGIC);
                xor_sign(sin_poly(r), (bits(t) << (BITS - 1)) ^ bits(x))
            }

            /// `a = (q + 1/2) pi + r`, `q = round(a/pi - 1/2)`:
            /// `cos(a) = (-1)^(q+1) sin(r)`.
            #[inline(always)]
            pub(super) fn cos(x: F) -> F {
                let a = x.abs();
                let t = fma(a, K::FRAC_1_PI, -0.5) + C::MAGIC;
                let r = reduce_pi(a, (t - C::MAGIC) + 0.5);
                xor_sign(sin_poly(r), !bits(t) << (BITS - 1))
            }

            /// `a = q pi/2 + r`, `|r| <= pi/4`, `T = 2 tan(r/2)` (odd polynomial),
            /// `tan(r) = T / (1 - T^2/4)`; for odd `q`, `tan(a) = -1/tan(r)`.
            /// One division for both cases.
            #[inline(always)]
            pub(super) fn tan(x: F) -> F {
                let a = x.abs();
                let t = fma(a, K::FRAC_2_PI, C::MAGIC);
                let r = reduce_pi(a, (t - C::MAGIC) * 0.5);
                let z = r * r;
                let tt = fma(r * z, poly(z, &C::TAN_P), r);
                let d = fma(-0.25 * tt, tt, 1.0);
                let odd = bits(t) & 1 != 0;
                let num = if odd { d } else { tt };
                let den = if odd { tt } else { d };
                xor_sign(num / den, (bits(t) << (BITS - 1)) ^ bits(x))
            }

            // ---------------------------------------------------------------
            // asin, acos, atan, atan2
            // ---------------------------------------------------------------

            /// `asin(s) = s + s^3 P(s^2)` for `s <= 1/2`, given `z = s^2`.
            #[inline(always)]
            fn asin_poly(s: F, z: F) -> F {
                fma(s * z, poly(z, &C::ASIN_P), s)
            }

            /// For `a = |x|`: `p = asin(s)` with `s = a` when `a <= 1/2`, else
            /// `s = sqrt((1 - a)/2)` (then `asin(a) = pi/2 - 2p`). `1 - a` is exact.
            /// `a > 1` gives `sqrt(negative)` = NaN, as does NaN.
            #[inline(always)]
            fn asin_parts(a: F) -> (bool, F) {
                let big = a > 0.5;
                let z = if big { (1.0 - a) * 0.5 } else { a * a };
                let s = if big { z.sqrt() } else { a };
                (big, asin_poly(s, z))
            }

            #[inline(always)]
            pub(super) fn asin(x: F) -> F {
                let (big, p) = asin_parts(x.abs());
                let res = if big {
                    K::FRAC_PI_2 - (2.0 * p - C::PIO2_LO)
                } else {
                    p
                };
                with_sign_of(res, x)
            }

            /// `acos(x) = pi/2 - asin(x)` for `|x| <= 1/2`, `2p` for `x > 1/2`,
            /// `pi - 2p` for `x < -1/2` (no cancellation in any branch).
            #[inline(always)]
            pub(super) fn acos(x: F) -> F {
                let (big, p) = asin_parts(x.abs());
                let neg = x < 0.0;
                let (hi, lo) = if !big {
                    (K::FRAC_PI_2, C::PIO2_LO)
                } else if neg {
                    (K::PI, C::PI_LO)
                } else {
                    (0.0, 0.0)
                };
                let term = if !big {
                    with_sign_of(p, x)
                } else if neg {
                    2.0 * p
                } else {
                    -2.0 * p
                };
                hi + (lo - term)
            }

            /// `atan(num/den)` plus a base angle `hi + lo`, with `|num/den| <= tan(pi/8)`.
            #[inline(always)]
            fn atan_reduced(t: F, hi: F, lo: F) -> F {
                let z = t * t;
                hi + (fma(t * z, poly(z, &C::ATAN_P), t) + lo)
            }

            /// Three ranges reduced to `|t| <= tan(pi/8)` with one division:
            /// `a <= tan(pi/8)`: `t = a`; `a > tan(3pi/8)`: `pi/2 + atan(-1/a)`;
            /// else `pi/4 + atan((a-1)/(a+1))`.
            #[inline(always)]
            pub(super) fn atan(x: F) -> F {
                let a = x.abs();
                let big = a > C::TAN_3PI_8;
                let mid = a > C::TAN_PI_8;
                let num = if big {
                    -1.0
                } else if mid {
                    a - 1.0
                } else {
                    a
                };
                let den = if big {
                    a
                } else if mid {
                    a + 1.0
                } else {
                    1.0
                };
                let (hi, lo) = if big {
                    (K::FRAC_PI_2, C::PIO2_LO)
                } else if mid {
                    (K::FRAC_PI_4, C::PIO4_LO)
                } else {
                    (0.0, 0.0)
                };
                with_sign_of(atan_reduced(num / den, hi, lo), x)
            }

            /// First-quadrant angle of `(|x|, |y|)` as in `atan` but from the ratio
            /// `|y|/|x|` without forming it, then reflected by the signs.
            #[inline(always)]
            pub(super) fn atan2(y: F, x: F) -> F {
                let ax = x.abs();
                let ay = y.abs();
                // Scale both by a power of two so that neither `by + bx` overflows
                // nor the range tests underflow (only ratios matter; the scaling
                // is exact wherever the scaled values are used for the result).
                let big = ax > 1.0 || ay > 1.0;
                let sc = if big { 0.25 } else { C::SUBNORMAL_SCALE };
                let (bx, by) = (ax * sc, ay * sc);
                let lo_reg = by < C::TAN_PI_8 * bx || ay == 0.0;
                let hi_reg = by * C::TAN_PI_8 > bx; // ay > tan(3pi/8) ax
                let num = if lo_reg {
                    ay
                } else if hi_reg {
                    -ax
                } else {
                    by - bx
                };
                let den = if lo_reg {
                    ax
                } else if hi_reg {
                    ay
                } else {
                    by + bx
                };
                let (hi, lo) = if lo_reg {
                    (0.0, 0.0)
                } else if hi_reg {
                    (K::FRAC_PI_2, C::PIO2_LO)
                } else {
                    (K::FRAC_PI_4, C::PIO4_LO)
                };
                let t = num / den;
                // 0/0 (both zero) and inf/inf (both infinite): the angle is the base.
                let t = if t.is_nan() { 0.0 } else { t };
                let th = atan_reduced(t, hi, lo);
                let th = if bits(x) & SIGN != 0 {
                    K::PI - (th - C::PI_LO)
                } else {
                    th
                };
                let res = with_sign_of(th, y);
                if x.is_nan() || y.is_nan() {
                    x + y
                } else {
                    res
                }
            }

            // ---------------------------------------------------------------
            // sinh, cosh, tanh, asinh, atanh
            // ---------------------------------------------------------------

            /// `e^a / 2` for `0 <= a`, overflowing only when the result does.
            #[inline(always)]
            fn exp_half(a: F) -> F {
                let (p, k) = exp_core(if a > C::SINH_HI { C::SINH_HI } else { a });
                scale2(p, k - 1)
            }

            /// `a + a^3 P(a^2)` for `a < 1` (relative-accurate near 0),
            /// else `h - 1/(4h)` with `h = e^a/2`.
            #[inline(always)]
            pub(super) fn sinh(x: F) -> F {
                let a = x.abs();
                let z = a * a;
                let small = fma(a * z, poly(z, &C::SINH_P), a);
                let h = exp_half(a);
                let large = h - 0.25 / h;
                with_sign_of(if a < 1.0 { small } else { large }, x)
            }

            #[inline(always)]
            pub(super) fn cosh(x: F) -> F {
                let h = exp_half(x.abs());
                h + 0.25 / h
            }

            /// `tanh(a) = E / (E + 2)` with `E = expm1(2a)`: relative-accurate
            /// near 0, one division; `a` clamped where tanh rounds to 1. Below
            /// TANH_POLY_MAX (f64 only) the odd minimax polynomial is used instead.
            #[inline(always)]
            pub(super) fn tanh(x: F) -> F {
                let a = x.abs();
                let a = if a > C::TANH_HI { C::TANH_HI } else { a };
                let (p, k) = expm1_core(a + a);
                // 0 <= k < MANT here, so 2^k and 2^k - 1 are exact.
                let s = pow2i(k);
                let e = fma(s, p, s - 1.0);
                let large = e / (e + 2.0);
                let z = a * a;
                let small = fma(a * z, poly(z, &C::TANH_P), a);
                with_sign_of(if a < C::TANH_POLY_MAX { small } else { large }, x)
            }

            /// `asinh(a) = ln1p(a + a^2 / (1 + sqrt(1 + a^2)))` (compensated
            /// `1 + w` as in `ln1p_core`), and `ln(a) + ln2` for large `a`.
            #[inline(always)]
            pub(super) fn asinh(x: F) -> F {
                let a = x.abs();
                let big = a > C::ASINH_BIG;
                let a2 = a * a;
                let w = a + a2 / (1.0 + (1.0 + a2).sqrt());
                let u = if big { a } else { 1.0 + w };
                let c = if big {
                    0.0
                } else if u > 2.0 {
                    1.0 - (u - w)
                } else {
                    w - (u - 1.0)
                };
                let (e, f, t) = log_kernel(u);
                let k = if big { e + 1.0 } else { e };
                let res = log_special(u, ln_finish(k, f, t + c / u));
                let res = if a < C::ASINH_TINY { a } else { res };
                with_sign_of(res, x)
            }

            /// `acosh(x) = ln(x + sqrt(x^2 - 1))` for `x >= 1` (NaN below), in
            /// three forms whose dominant term is exact: near 1 through
            /// `ln1p(t + sqrt(2t + t^2))` with `t = x - 1` (exact for `x <= 2`),
            /// then `ln(2x - 1/(x + sqrt(x^2 - 1)))`, and `ln(x) + ln 2` where
            /// `x^2` would overflow.
            #[inline(always)]
            pub(super) fn acosh(x: F) -> F {
                let t = x - 1.0;
                let near = ln1p_core(t + fma(t, t, t + t).sqrt());
                let mid = ln(2.0 * x - 1.0 / (x + fma(x, x, -1.0).sqrt()));
                let far = ln(x) + K::LN_2;
                let res = if x < 2.0 {
                    near
                } else if x < C::ASINH_BIG {
                    mid
                } else {
                    far
                };
                if x < 1.0 {
                    F::NAN
                } else {
                    res
                }
            }

            /// `atanh(a) = ln1p(2a / (1 - a)) / 2`, written for `a < 1/2` as
            /// `ln1p(2a + 2a^2/(1 - a))` so the dominant term is exact. One division.
            #[inline(always)]
            pub(super) fn atanh(x: F) -> F {
                let a = x.abs();
                let small = a < 0.5;
                let a2 = a + a;
                let d = (if small { a2 * a } else { a2 }) / (1.0 - a);
                let w = if small { a2 + d } else { d };
                with_sign_of(0.5 * ln1p_core(w), x)
            }

            // ---------------------------------------------------------------
            // erf
            // ---------------------------------------------------------------

            /// `a < 1`: odd polynomial. `a >= 1`: `1 - exp(-a^2) R(v)` with `R` a
            /// polynomial in `v = (a - c)/h` on `[1, ERF_HI]`, fitted for the
            /// absolute error of erf (erfc itself shrinks like exp(-a^2), so the
            /// rounding of `a^2` does not matter). Above ERF_HI erf rounds to 1.
            #[inline(always)]
            pub(super) fn erf(x: F) -> F {
                let a = x.abs();
                let a = if a > C::ERF_HI { C::ERF_HI } else { a };
                let z = a * a;
                // a * 2/sqrt(pi) exact inside the fma; the polynomial only corrects.
                let small = fma(
                    a,
                    K::FRAC_2_SQRT_PI,
                    a * fma(z, poly(z, &C::ERF_P), C::ERF_C0_LO),
                );
                let (p, k) = exp_core(-z);
                let e = p * pow2i(k);
                let v = fma(a, C::ERFC_V.0, C::ERFC_V.1);
                let large = fma(-e, poly(v, &C::ERFC_R), 1.0);
                with_sign_of(if a < 1.0 { small } else { large }, x)
            }

            // ---------------------------------------------------------------
            // sigmoid, softplus
            // ---------------------------------------------------------------

            /// With `e = exp(-|x|)` (never overflows): `1/(1+e)` for `x >= 0`,
            /// `e/(1+e)` for `x < 0`, so the tiny tail keeps full relative accuracy
            /// down through the subnormals.
            #[inline(always)]
            pub(super) fn sigmoid(x: F) -> F {
                let e = exp(-x.abs());
                let num = if x >= 0.0 { 1.0 } else { e };
                num / (1.0 + e)
            }

            /// `max(x, 0) + ln1p(exp(-|x|))`.
            #[inline(always)]
            pub(super) fn softplus(x: F) -> F {
                let m = if x > 0.0 { x } else { 0.0 };
                m + ln1p_core(exp(-x.abs()))
            }

            impl FloatMath for F {
                const TRIG_MAX: F = C::TRIG_MAX;

                #[inline(always)]
                fn exp(x: F) -> F {
                    exp(x)
                }
                #[inline(always)]
                fn exp2(x: F) -> F {
                    exp2(x)
                }
                #[inline(always)]
                fn expm1(x: F) -> F {
                    expm1(x)
                }
                #[inline(always)]
                fn ln(x: F) -> F {
                    ln(x)
                }
                #[inline(always)]
                fn log2(x: F) -> F {
                    log2(x)
                }
                #[inline(always)]
                fn log10(x: F) -> F {
                    log10(x)
                }
                #[inline(always)]
                fn ln1p(x: F) -> F {
                    ln1p(x)
                }
                #[inline(always)]
                fn sin(x: F) -> F {
                    sin(x)
                }
                #[inline(always)]
                fn cos(x: F) -> F {
                    cos(x)
                }
                #[inline(always)]
                fn tan(x: F) -> F {
                    tan(x)
                }
                #[inline(always)]
                fn asin(x: F) -> F {
                    asin(x)
                }
                #[inline(always)]
                fn acos(x: F) -> F {
                    acos(x)
                }
                #[inline(always)]
                fn atan(x: F) -> F {
                    atan(x)
                }
                #[inline(always)]
                fn atan2(y: F, x: F) -> F {
                    atan2(y, x)
                }
                #[inline(always)]
                fn sinh(x: F) -> F {
                    sinh(x)
                }
                #[inline(always)]
                fn cosh(x: F) -> F {
                    cosh(x)
                }
                #[inline(always)]
                fn tanh(x: F) -> F {
                    tanh(x)
                }
                #[inline(always)]
                fn asinh(x: F) -> F {
                    asinh(x)
                }
                #[inline(always)]
                fn acosh(x: F) -> F {
                    acosh(x)
                }
                #[inline(always)]
                fn atanh(x: F) -> F {
                    atanh(x)
                }
                #[inline(always)]
                fn erf(x: F) -> F {
                    erf(x)
                }
                #[inline(always)]
                fn sigmoid(x: F) -> F {
                    sigmoid(x)
                }
                #[inline(always)]
                fn softplus(x: F) -> F {
                    softplus(x)
                }
                fn trig_libm(x: F, which: Trig) -> F {
                    match which {
                        Trig::Sin => x.sin(),
                        Trig::Cos => x.cos(),
                        Trig::Tan => x.tan(),
                    }
                }
            }
        }
    };
}

float_math_impl!(imp32, f32, u32, i32, c32);
float_math_impl!(imp64, f64, u64, i64, c64);

#[cfg(test)]
mod tests;

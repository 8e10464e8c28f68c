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
    pulp::Arch::new().dispatch(
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

/// Constants for `f32`. Polynomial comments give the approximated function
/// and interval; the minimax error quoted is for the rounded coefficients.
mod c32 {
    type F = f32;

    /// 1.5 * 2^23: adding it rounds |x| < 2^22 to an integer held in the low bits.
    pub const MAGIC: F = 12582912.0;

    // exp family. Below EXP_LO the result rounds to 0, above EXP_HI to inf.
    pub const EXP_LO: F = -104.0;
    pub const EXP_HI: F = 89.0;
    pub const EXP2_LO: F = -151.0;
    pub const EXP2_HI: F = 129.0;
    pub const EXPM1_LO: F = -30.0;
    /// |x| below which expm1(x) and ln1p(x) round to x.
    pub const TINY: F = 2.9802322e-8; // 2^-25
    /// ln 2 = LN2_HI + LN2_LO, LN2_HI with 16 significant bits (k * LN2_HI exact).
    pub const LN2_HI: F = 6.9314575e-1;
    pub const LN2_LO: F = 1.4286068e-6;
    /// e^r = 1 + r*Q(r), |r| <= ln2/2, relative error 2^-27.
    pub const EXP_Q: [F; 6] = [
        1.0,
        4.9999994e-1,
        1.6666509e-1,
        4.1668024e-2,
        8.368853e-3,
        1.38294e-3,
    ];
    /// expm1(r) = r + r^2*P(r), |r| <= ln2/2, relative error 2^-25.3.
    pub const EXPM1_P: [F; 5] = [5.0e-1, 1.6666573e-1, 4.166664e-2, 8.363755e-3, 1.3912971e-3];

    // log family.
    /// Subnormal inputs are scaled by 2^24 first.
    pub const SUBNORMAL_SCALE: F = 16777216.0;
    pub const SUBNORMAL_SHIFT: F = 24.0;
    /// 2 atanh(s) = 2s + s^3*Q(s^2), |s| <= (sqrt2-1)/(sqrt2+1), relative error 2^-30.
    pub const LOG_Q: [F; 3] = [6.6666776e-1, 3.997758e-1, 2.987093e-1];
    /// log2(e) - LOG2_E, log10(e) - LOG10_E.
    pub const LOG2E_LO: F = 1.925963e-8;
    pub const LOG10E_LO: F = -1.010305e-8;
    /// log10(2) = LOG10_2_HI + LOG10_2_LO, HI with 16 significant bits.
    pub const LOG10_2_HI: F = 3.0103302e-1;
    pub const LOG10_2_LO: F = -3.0243555e-6;

    // trig. pi = PI_A + PI_B + PI_C (72 bits).
    pub const TRIG_MAX: F = 1.0e5;
    pub const PI_A: F = core::f32::consts::PI;
    pub const PI_B: F = -8.742278e-8;
    pub const PI_C: F = -3.430249e-15;
    /// Low parts of pi, pi/2, pi/4 (constant = consts::X + X_LO).
    pub const PI_LO: F = -8.742278e-8;
    pub const PIO2_LO: F = -4.371139e-8;
    pub const PIO4_LO: F = -2.1855694e-8;
    /// sin(r) = r + r^3*P(r^2), |r| <= 1.01*pi/2, relative error 2^-27.
    pub const SIN_P: [F; 4] = [-1.6666658e-1, 8.33303e-3, -1.980685e-4, 2.5995182e-6];
    /// 2 tan(r/2) = r + r^3*P(r^2), |r| <= 1.01*pi/4, relative error 2^-28.
    pub const TAN_P: [F; 4] = [8.3333224e-2, 8.335023e-3, 8.352289e-4, 1.00154095e-4];

    // inverse trig.
    pub const TAN_PI_8: F = 4.1421357e-1;
    pub const TAN_3PI_8: F = 2.4142137;
    /// asin(s) = s + s^3*P(s^2), |s| <= 0.5, relative error 2^-27.
    pub const ASIN_P: [F; 5] = [
        1.6666752e-1,
        7.495308e-2,
        4.5469463e-2,
        2.4182757e-2,
        4.2162407e-2,
    ];
    /// atan(t) = t + t^3*P(t^2), |t| <= tan(pi/8), relative error 2^-30.
    pub const ATAN_P: [F; 5] = [
        -3.3333316e-1,
        1.9998525e-1,
        -1.4244297e-1,
        1.05982654e-1,
        -6.087337e-2,
    ];

    // hyperbolic.
    /// tanh(x) rounds to +-1 above this.
    pub const TANH_HI: F = 10.0;
    /// Below this tanh uses TANH_P. Off for f32: the expm1 form alone is within
    /// 2 ulp and the branch compiles away (faster).
    pub const TANH_POLY_MAX: F = 0.0;
    /// tanh(a) = a + a^3*P(a^2), a <= 0.55, relative error 2^-24.7 (unused, see above).
    pub const TANH_P: [F; 4] = [-3.3332947e-1, 1.3320729e-1, -5.267201e-2, 1.6437879e-2];
    /// sinh/cosh overflow above this; the clamp keeps k in range.
    pub const SINH_HI: F = 90.0;
    /// sinh(a) = a + a^3*P(a^2), a <= 1, relative error 2^-25.
    pub const SINH_P: [F; 3] = [1.6666716e-1, 8.330271e-3, 2.037334e-4];
    /// asinh(a) = ln(2a) + O(a^-2) above this; asinh(a) rounds to a below ASINH_TINY.
    pub const ASINH_BIG: F = 4096.0;
    pub const ASINH_TINY: F = 2.4414062e-4; // 2^-12

    // erf. erf(a) rounds to 1 above ERF_HI.
    pub const ERF_HI: F = 4.0;
    /// erf(a) = a (2/sqrt(pi) + a^2 P(a^2)), a <= 1, with 2/sqrt(pi) =
    /// FRAC_2_SQRT_PI + ERF_C0_LO; relative error 2^-29.
    pub const ERF_C0_LO: F = -5.8635383e-8;
    pub const ERF_P: [F; 6] = [
        -3.761263e-1,
        1.1283603e-1,
        -2.6854202e-2,
        5.1885983e-3,
        -8.0093986e-4,
        7.842549e-5,
    ];
    /// erfc(a) = exp(-a^2)*R(v), v = (a - 2.5)/1.5 in [-1, 1] for a in [1, 4];
    /// absolute error of erf 2^-26.
    pub const ERFC_V: (F, F) = (1.0 / 1.5, -2.5 / 1.5);
    pub const ERFC_R: [F; 8] = [
        2.1080682e-01,
        -1.1144467e-01,
        5.6620702e-02,
        -2.6364489e-02,
        9.753313e-03,
        -1.5272013e-02,
        -9.408262e-03,
        -6.7298063e-03,
    ];
}

/// Constants for `f64`; same meaning as in [`c32`].
mod c64 {
    type F = f64;

    pub const MAGIC: F = 6755399441055744.0;

    pub const EXP_LO: F = -746.0;
    pub const EXP_HI: F = 710.0;
    pub const EXP2_LO: F = -1076.0;
    pub const EXP2_HI: F = 1025.0;
    pub const EXPM1_LO: F = -60.0;
    pub const TINY: F = 5.551115123125783e-17; // 2^-54
    /// ln2 = LN2_HI + LN2_LO, LN2_HI with 42 significant bits.
    pub const LN2_HI: F = 0.6931471805598903;
    pub const LN2_LO: F = 5.497923018708371e-14;
    /// e^r = 1 + r*Q(r), |r| <= ln2/2, relative error 2^-56.
    pub const EXP_Q: [F; 11] = [
        1.0,
        0.5000000000000006,
        0.16666666666666438,
        0.0416666666665758,
        0.008333333333481836,
        0.0013888888931698601,
        0.00019841269510813807,
        2.4801505216541164e-05,
        2.7557602457665856e-06,
        2.7626038346471835e-07,
        2.4989466681472274e-08,
    ];
    /// expm1(r) = r + r^2*P(r), |r| <= ln2/2, relative error 2^-60.
    pub const EXPM1_P: [F; 11] = [
        0.5,
        0.1666666666666667,
        0.041666666666666685,
        0.008333333333326129,
        0.0013888888888874387,
        0.0001984126987484235,
        2.4801587347368345e-05,
        2.755725537290247e-06,
        2.7557252884411257e-07,
        2.510522828671264e-08,
        2.0921598888909788e-09,
    ];

    pub const SUBNORMAL_SCALE: F = 18014398509481984.0; // 2^54
    pub const SUBNORMAL_SHIFT: F = 54.0;
    /// 2 atanh(s) = 2s + s^3*Q(s^2), |s| <= (sqrt2-1)/(sqrt2+1), relative error 2^-59.
    pub const LOG_Q: [F; 7] = [
        0.6666666666666734,
        0.3999999999941641,
        0.2857142874211452,
        0.2222219859348008,
        0.18183563569823014,
        0.15314063855892399,
        0.14795866660954915,
    ];
    pub const LOG2E_LO: F = 2.0355273740931033e-17;
    pub const LOG10E_LO: F = 1.098319650216765e-17;
    pub const LOG10_2_HI: F = 0.30102999566395283;
    pub const LOG10_2_LO: F = 2.8363394551044964e-14;

    /// pi = PI_A + PI_B + PI_C (159 bits).
    pub const TRIG_MAX: F = 1.0e9;
    pub const PI_A: F = core::f64::consts::PI;
    pub const PI_B: F = 1.2246467991473532e-16;
    pub const PI_C: F = -2.9947698097183397e-33;
    pub const PI_LO: F = 1.2246467991473532e-16;
    pub const PIO2_LO: F = 6.123233995736766e-17;
    pub const PIO4_LO: F = 3.061616997868383e-17;
    /// sin(r) = r + r^3*P(r^2), |r| <= 1.01*pi/2.
    pub const SIN_P: [F; 8] = [
        -0.16666666666666666,
        0.0083333333333332,
        -0.00019841269841208557,
        2.755731921073897e-06,
        -2.5052106817988663e-08,
        1.6058936260621132e-10,
        -7.642887803586034e-13,
        2.7199641768071077e-15,
    ];
    /// 2 tan(r/2) = r + r^3*P(r^2), |r| <= 1.01*pi/4, relative error 2^-58.
    pub const TAN_P: [F; 9] = [
        0.08333333333333384,
        0.008333333333300889,
        0.0008432539689644553,
        8.542768198374645e-05,
        8.655549440463204e-06,
        8.76817157579051e-07,
        8.922927350049963e-08,
        8.510075985579027e-09,
        1.2621742991484185e-09,
    ];

    pub const TAN_PI_8: F = 0.41421356237309503;
    pub const TAN_3PI_8: F = 2.414213562373095;
    /// asin(s) = s + s^3*P(s^2), |s| <= 0.5, relative error 2^-55.9.
    pub const ASIN_P: [F; 12] = [
        0.16666666666665406,
        0.07500000000337846,
        0.04464285682760585,
        0.030381959168002386,
        0.022371757280261292,
        0.017359716728592618,
        0.013885114126805684,
        0.012170027471073036,
        0.006524369178470962,
        0.019538335622982454,
        -0.01624035809799933,
        0.0319235085900582,
    ];
    /// atan(t) = t + t^3*P(t^2), |t| <= tan(pi/8), relative error 2^-59.
    pub const ATAN_P: [F; 11] = [
        -0.3333333333333319,
        0.19999999999952184,
        -0.14285714280054126,
        0.11111110776302668,
        -0.09090897551072255,
        0.07692056524796709,
        -0.0666306193689055,
        0.05847581584612762,
        -0.050379119772153244,
        0.03802901356899269,
        -0.017868100864492167,
    ];

    pub const TANH_HI: F = 20.0;
    /// Below this tanh uses TANH_P: E/(E+2) has up to ~2.2 ulp error where
    /// its result is below 1/2.
    pub const TANH_POLY_MAX: F = 0.55;
    /// tanh(a) = a + a^3*P(a^2), a <= 0.55, relative error 2^-55.5.
    pub const TANH_P: [F; 10] = [
        -0.33333333333332316,
        0.1333333333316893,
        -0.0539682538761626,
        0.02186948597641391,
        -0.00886319452232071,
        0.0035917198248531473,
        -0.0014532173134375196,
        0.0005791384989980497,
        -0.00021030460238381112,
        5.102287655987653e-05,
    ];
    pub const SINH_HI: F = 711.0;
    /// sinh(a) = a + a^3*P(a^2), a <= 1, relative error 2^-61.
    pub const SINH_P: [F; 7] = [
        0.16666666666666669,
        0.008333333333332912,
        0.0001984126984159341,
        2.755731910675569e-06,
        2.5052130999233813e-08,
        1.6056659078752659e-10,
        7.776605230643572e-13,
    ];
    pub const ASINH_BIG: F = 268435456.0; // 2^28
    pub const ASINH_TINY: F = 7.450580596923828e-09; // 2^-27

    pub const ERF_HI: F = 6.0;
    /// erf(a) = a (2/sqrt(pi) + a^2 P(a^2)), a <= 1, relative error 2^-56.8.
    pub const ERF_C0_LO: F = 1.533545961316588e-17;
    pub const ERF_P: [F; 11] = [
        -0.376126389031836,
        0.11283791670946283,
        -0.02686617064336508,
        0.0052239776078107794,
        -0.0008548325998117332,
        0.00012055295371093742,
        -1.4924742954213126e-05,
        1.644747292533528e-06,
        -1.6208700656417859e-07,
        1.372049479581471e-08,
        -7.795960135344008e-10,
    ];
    /// erfc(a) = exp(-a^2)*R(v), v = (a - 3.5)/2.5 in [-1, 1] for a in [1, 6];
    /// absolute error of erf 2^-56.
    pub const ERFC_V: (F, F) = (1.0 / 2.5, -3.5 / 2.5);
    pub const ERFC_R: [F; 21] = [
        0.15529365560718852,
        -0.10330894457769378,
        0.06663208341394143,
        -0.04176677817557419,
        0.025495567860146038,
        -0.015182898124885436,
        0.008831122679558654,
        -0.005031135854185178,
        0.0028221637117992783,
        -0.0014390598396813016,
        0.0009642547636084456,
        -0.0005689481003092018,
        -0.0006933301189261767,
        -0.001648559479405965,
        -0.0006526954845604899,
        0.00163206655892842,
        0.0037296697248931096,
        0.0037146098748674305,
        0.0021688480397304873,
        0.0007153630268985229,
        0.00010795126738698955,
    ];
}

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
mod tests {
    use super::*;

    // -------------------------------------------------------------------
    // Infrastructure: deterministic inputs, ulp distance, references
    // -------------------------------------------------------------------

    /// xorshift64* (deterministic, no crates).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
        }
        fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.unit()
        }
        fn sign(&mut self) -> f64 {
            if self.next() & 1 == 0 {
                1.0
            } else {
                -1.0
            }
        }
        /// Magnitude log-uniform in [lo, hi].
        fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
            (lo.ln() + (hi.ln() - lo.ln()) * self.unit()).exp()
        }
        fn signed_log(&mut self, lo: f64, hi: f64) -> f64 {
            self.sign() * self.log_uniform(lo, hi)
        }
        /// A random positive finite float of the given type, uniform in its bits
        /// (so log-uniform over the whole range, subnormals included).
        fn any_positive(&mut self, is32: bool) -> f64 {
            if is32 {
                f32::from_bits(1 + (self.next() % 0x7f7f_ffff) as u32) as f64
            } else {
                f64::from_bits(1 + self.next() % 0x7fef_ffff_ffff_ffff)
            }
        }
        fn choose(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Distance in ulps via the ordered bit patterns; 0 for equal values or two
    /// NaNs, infinite for NaN vs number, inf vs finite, or zeros of different sign.
    fn ulps64(a: f64, b: f64) -> f64 {
        if a.is_nan() || b.is_nan() {
            return if a.is_nan() && b.is_nan() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        if a.is_infinite() || b.is_infinite() {
            return if a == b { 0.0 } else { f64::INFINITY };
        }
        if a == b {
            return if a.is_sign_negative() == b.is_sign_negative() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        let ord = |x: f64| {
            let i = x.to_bits() as i64 as i128;
            if i < 0 {
                i64::MIN as i128 - i
            } else {
                i
            }
        };
        (ord(a) - ord(b)).abs() as f64
    }

    fn ulps32(a: f32, b: f32) -> f64 {
        if a.is_nan() || b.is_nan() {
            return if a.is_nan() && b.is_nan() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        if a.is_infinite() || b.is_infinite() {
            return if a == b { 0.0 } else { f64::INFINITY };
        }
        if a == b {
            return if a.is_sign_negative() == b.is_sign_negative() {
                0.0
            } else {
                f64::INFINITY
            };
        }
        let ord = |x: f32| {
            let i = x.to_bits() as i32 as i64;
            if i < 0 {
                i32::MIN as i64 - i
            } else {
                i
            }
        };
        (ord(a) - ord(b)).abs() as f64
    }

    // Double-double helpers for the references std does not have.
    fn two_sum(a: f64, b: f64) -> (f64, f64) {
        let s = a + b;
        let bb = s - a;
        (s, (a - (s - bb)) + (b - bb))
    }
    fn dd_add(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
        let (s, e) = two_sum(a.0, b.0);
        two_sum(s, e + a.1 + b.1)
    }
    fn dd_mul(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
        let p = a.0 * b.0;
        two_sum(p, a.0.mul_add(b.0, -p) + (a.0 * b.1 + a.1 * b.0))
    }
    fn dd_div(a: (f64, f64), d: f64) -> (f64, f64) {
        let q = a.0 / d;
        let r = (-q).mul_add(d, a.0) + a.1;
        two_sum(q, r / d)
    }

    /// erf to well under an ulp: Taylor series in double-double for |x| < 3
    /// (cancellation costs < 11 of its 106 bits), continued fraction for erfc
    /// beyond (erfc < 3e-5 there, so its relative accuracy matters little).
    fn erf_ref(x: f64) -> f64 {
        let a = x.abs();
        let v = if a < 3.0 {
            let a2 = dd_mul((a, 0.0), (a, 0.0));
            let mut term = (a, 0.0);
            let mut sum = (a, 0.0);
            for n in 1..400 {
                term = dd_div(dd_mul(term, a2), -(n as f64));
                let c = dd_div(term, (2 * n + 1) as f64);
                sum = dd_add(sum, c);
                if c.0.abs() < 1e-40 {
                    break;
                }
            }
            dd_mul(
                sum,
                (core::f64::consts::FRAC_2_SQRT_PI, 1.533545961316588e-17),
            )
            .0
        } else {
            let mut f = 0.0;
            for k in (1..600).rev() {
                f = (k as f64 * 0.5) / (a + f);
            }
            let hi = a * a;
            let lo = a.mul_add(a, -hi);
            let e = (-hi).exp() * (1.0 - lo);
            1.0 - e / (core::f64::consts::PI.sqrt() * (a + f))
        };
        v.copysign(x)
    }

    fn sigmoid_ref(x: f64) -> f64 {
        if x.is_nan() {
            return x;
        }
        let e = (-x.abs()).exp();
        let (s, sl) = two_sum(1.0, e);
        let num = if x >= 0.0 { 1.0 } else { e };
        let q = num / s;
        let r = (-q).mul_add(s, num) - q * sl;
        q + r / s
    }

    /// std's `asinh` overflows above ~1e308; use ln(2|x|) there.
    fn asinh_ref(x: f64) -> f64 {
        if x.abs() > 1e150 {
            (x.abs().ln() + core::f64::consts::LN_2).copysign(x)
        } else {
            x.asinh()
        }
    }

    /// std's `atanh` (0.5 ln1p(2x/(1-x))) loses accuracy near -1; this is the
    /// same formula on |x| with 2|x|/(1-|x|) in double-double.
    fn atanh_ref(x: f64) -> f64 {
        let a = x.abs();
        if a >= 1.0 {
            return if a == 1.0 {
                f64::INFINITY.copysign(x)
            } else {
                f64::NAN
            };
        }
        let (dh, dl) = two_sum(1.0, -a);
        let q = 2.0 * a / dh;
        let r = ((-q).mul_add(dh, 2.0 * a) - q * dl) / dh;
        (0.5 * (q.ln_1p() + r / (1.0 + q))).copysign(x)
    }

    fn softplus_ref(x: f64) -> f64 {
        if x > 0.0 {
            x + (-x).exp().ln_1p()
        } else {
            x.exp().ln_1p()
        }
    }

    // -------------------------------------------------------------------
    // Random-input accuracy against std
    // -------------------------------------------------------------------

    type Gen = fn(&mut Rng, bool) -> f64;

    struct Case {
        name: &'static str,
        gen: Gen,
        ours32: fn(f32) -> f32,
        std32: fn(f32) -> f32,
        ours64: fn(f64) -> f64,
        std64: fn(f64) -> f64,
    }

    macro_rules! case {
        ($name:ident, $gen:expr) => {
            case!($name, $gen, |x: f32| x.$name(), |x: f64| x.$name())
        };
        ($name:ident, $gen:expr, $std32:expr, $std64:expr) => {
            Case {
                name: stringify!($name),
                gen: $gen,
                ours32: <f32 as FloatMath>::$name,
                std32: $std32,
                ours64: <f64 as FloatMath>::$name,
                std64: $std64,
            }
        };
    }

    fn lim(is32: bool, a: f64, b: f64) -> f64 {
        if is32 {
            a
        } else {
            b
        }
    }
    fn g_exp(r: &mut Rng, s: bool) -> f64 {
        let hi = lim(s, 110.0, 760.0);
        match r.choose(3) {
            0 => r.uniform(-hi, hi),
            1 => r.signed_log(1e-12, hi),
            _ => r.uniform(-hi, -hi + 15.0), // the subnormal results
        }
    }
    fn g_exp2(r: &mut Rng, s: bool) -> f64 {
        let hi = lim(s, 160.0, 1100.0);
        match r.choose(3) {
            0 => r.uniform(-hi, hi),
            1 => r.signed_log(1e-12, hi),
            _ => r.uniform(-hi, -hi + 30.0),
        }
    }
    fn g_expm1(r: &mut Rng, s: bool) -> f64 {
        match r.choose(3) {
            0 => r.uniform(-lim(s, 30.0, 60.0), lim(s, 95.0, 715.0)),
            1 => r.signed_log(1e-30, 1.0),
            _ => r.uniform(-1.0, 1.0),
        }
    }
    fn g_pos(r: &mut Rng, s: bool) -> f64 {
        match r.choose(3) {
            0 => r.any_positive(s),
            1 => r.uniform(0.0, 4.0),
            _ => 1.0 + r.signed_log(1e-12, 0.5),
        }
    }
    fn g_ln1p(r: &mut Rng, s: bool) -> f64 {
        match r.choose(4) {
            0 => r.any_positive(s),
            1 => -r.unit(),
            2 => r.signed_log(1e-30, 1.0),
            _ => r.uniform(-1.0, 4.0),
        }
    }
    fn g_trig(r: &mut Rng, s: bool) -> f64 {
        let max = lim(s, c32::TRIG_MAX as f64, c64::TRIG_MAX);
        match r.choose(4) {
            0 => r.uniform(-10.0, 10.0),
            1 => r.signed_log(1e-30, max),
            2 => r.signed_log(1e-3, 100.0),
            // near multiples of pi/2 (rounded), where the reduction cancels
            _ => {
                let k = (r.log_uniform(1.0, max / 1.6)).round();
                r.sign() * k * core::f64::consts::FRAC_PI_2
            }
        }
    }
    fn g_unit(r: &mut Rng, _: bool) -> f64 {
        match r.choose(3) {
            0 => r.uniform(-1.0, 1.0),
            1 => r.signed_log(1e-30, 1.0),
            _ => r.sign() * (1.0 - r.log_uniform(1e-18, 0.5)),
        }
    }
    fn g_all(r: &mut Rng, s: bool) -> f64 {
        match r.choose(3) {
            0 => r.sign() * r.any_positive(s),
            1 => r.signed_log(1e-3, 1e3),
            _ => r.uniform(-4.0, 4.0),
        }
    }
    fn g_hyp(r: &mut Rng, s: bool) -> f64 {
        match r.choose(3) {
            0 => r.uniform(-lim(s, 92.0, 712.0), lim(s, 92.0, 712.0)),
            1 => r.signed_log(1e-30, lim(s, 92.0, 712.0)),
            _ => r.uniform(-3.0, 3.0),
        }
    }
    fn g_tanh(r: &mut Rng, s: bool) -> f64 {
        match r.choose(3) {
            0 => r.uniform(-lim(s, 12.0, 25.0), lim(s, 12.0, 25.0)),
            1 => r.signed_log(1e-30, 50.0),
            _ => r.uniform(-1.0, 1.0),
        }
    }
    fn g_erf(r: &mut Rng, _: bool) -> f64 {
        match r.choose(3) {
            0 => r.uniform(-7.0, 7.0),
            1 => r.signed_log(1e-30, 10.0),
            _ => r.uniform(-1.5, 1.5),
        }
    }
    fn g_sig(r: &mut Rng, s: bool) -> f64 {
        match r.choose(3) {
            0 => r.uniform(-lim(s, 110.0, 760.0), lim(s, 110.0, 760.0)),
            1 => r.signed_log(1e-30, 800.0),
            _ => r.uniform(-20.0, 20.0),
        }
    }

    fn cases() -> Vec<Case> {
        vec![
            case!(exp, g_exp),
            case!(exp2, g_exp2),
            case!(expm1, g_expm1, |x: f32| x.exp_m1(), |x: f64| x.exp_m1()),
            case!(ln, g_pos),
            case!(log2, g_pos),
            case!(log10, g_pos),
            case!(ln1p, g_ln1p, |x: f32| x.ln_1p(), |x: f64| x.ln_1p()),
            case!(sin, g_trig),
            case!(cos, g_trig),
            case!(tan, g_trig),
            case!(asin, g_unit),
            case!(acos, g_unit),
            case!(atan, g_all),
            case!(sinh, g_hyp),
            case!(cosh, g_hyp),
            case!(tanh, g_tanh),
            // std's f32 asinh/atanh are not accurate enough to test against.
            case!(asinh, g_all, |x: f32| asinh_ref(x as f64) as f32, asinh_ref),
            case!(
                atanh,
                g_unit,
                |x: f32| atanh_ref(x as f64) as f32,
                atanh_ref
            ),
            case!(erf, g_erf, |x: f32| erf_ref(x as f64) as f32, erf_ref),
            case!(
                sigmoid,
                g_sig,
                |x: f32| sigmoid_ref(x as f64) as f32,
                sigmoid_ref
            ),
            case!(
                softplus,
                g_sig,
                |x: f32| softplus_ref(x as f64) as f32,
                softplus_ref
            ),
        ]
    }

    /// Max errors of one function: f32 vs std's f32 (ulp), f32 vs the f64
    /// reference rounded to f32 (ulp), f64 vs std (ulp).
    struct Report {
        name: &'static str,
        ulp32_std: f64,
        ulp32_ref: f64,
        ulp64: f64,
        worst64: f64,
        /// First input outside the tolerance, if any.
        fail: Option<String>,
    }

    /// f32 passes within 2 ulp of std or 1e-6 relative; f64 within 4 ulp.
    fn f32_ok(ours: f32, reference: f32) -> bool {
        ulps32(ours, reference) <= 2.0
            || ((ours - reference).abs() as f64) <= 1e-6 * (reference.abs() as f64)
    }

    fn run_case(c: &Case, n: usize, seed: u64) -> Report {
        let mut rng = Rng(seed);
        let mut rep = Report {
            name: c.name,
            ulp32_std: 0.0,
            ulp32_ref: 0.0,
            ulp64: 0.0,
            worst64: 0.0,
            fail: None,
        };
        for _ in 0..n {
            let x64 = (c.gen)(&mut rng, false);
            let (o, s) = ((c.ours64)(x64), (c.std64)(x64));
            let u = ulps64(o, s);
            if u > 4.0 && rep.fail.is_none() {
                rep.fail = Some(format!(
                    "{}({x64:e}) f64: ours {o:e} std {s:e}, {u} ulp",
                    c.name
                ));
            }
            if u > rep.ulp64 {
                rep.worst64 = x64;
            }
            rep.ulp64 = rep.ulp64.max(u);

            let x32 = (c.gen)(&mut rng, true) as f32;
            let (o, s) = ((c.ours32)(x32), (c.std32)(x32));
            if !f32_ok(o, s) && rep.fail.is_none() {
                rep.fail = Some(format!("{}({x32:e}) f32: ours {o:e} std {s:e}", c.name));
            }
            rep.ulp32_std = rep.ulp32_std.max(ulps32(o, s));
            let r = (c.std64)(x32 as f64) as f32;
            rep.ulp32_ref = rep.ulp32_ref.max(ulps32(o, r));
        }
        rep
    }

    fn run_atan2(n: usize, seed: u64) -> Report {
        let mut rng = Rng(seed);
        let mut rep = Report {
            name: "atan2",
            ulp32_std: 0.0,
            ulp32_ref: 0.0,
            ulp64: 0.0,
            worst64: 0.0,
            fail: None,
        };
        for i in 0..n {
            let is32 = i % 2 == 1;
            let (y, x) = match rng.choose(3) {
                0 => (g_all(&mut rng, is32), g_all(&mut rng, is32)),
                1 => (rng.uniform(-5.0, 5.0), rng.uniform(-5.0, 5.0)),
                _ => {
                    // ratios near the range boundaries tan(pi/8), 1, tan(3pi/8)
                    let x = rng.signed_log(1e-6, 1e6);
                    let t = [0.41421356, 1.0, 2.41421356][rng.choose(3) as usize];
                    (rng.sign() * x * t * (1.0 + rng.uniform(-1e-6, 1e-6)), x)
                }
            };
            if is32 {
                let (y, x) = (y as f32, x as f32);
                let (o, s) = (<f32 as FloatMath>::atan2(y, x), y.atan2(x));
                if !f32_ok(o, s) && rep.fail.is_none() {
                    rep.fail = Some(format!("atan2({y:e}, {x:e}) f32: ours {o:e} std {s:e}"));
                }
                rep.ulp32_std = rep.ulp32_std.max(ulps32(o, s));
                let r = (y as f64).atan2(x as f64) as f32;
                rep.ulp32_ref = rep.ulp32_ref.max(ulps32(o, r));
            } else {
                let (o, s) = (<f64 as FloatMath>::atan2(y, x), y.atan2(x));
                let u = ulps64(o, s);
                if u > 4.0 && rep.fail.is_none() {
                    rep.fail = Some(format!("atan2({y:e}, {x:e}) f64: ours {o:e} std {s:e}"));
                }
                rep.ulp64 = rep.ulp64.max(u);
            }
        }
        rep
    }

    fn run_all(n: usize) -> Vec<Report> {
        let mut out: Vec<Report> = cases()
            .iter()
            .enumerate()
            .map(|(i, c)| run_case(c, n, 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1)))
            .collect();
        out.push(run_atan2(2 * n, 12345));
        out
    }

    fn print_reports(reps: &[Report]) {
        eprintln!("function   f32 vs std  f32 vs f64-ref  f64 vs std   (max ulp)");
        for r in reps {
            eprintln!(
                "{:10} {:10} {:15} {:11}   worst f64 x = {:e}",
                r.name, r.ulp32_std, r.ulp32_ref, r.ulp64, r.worst64
            );
        }
        let fails: Vec<&String> = reps.iter().filter_map(|r| r.fail.as_ref()).collect();
        assert!(fails.is_empty(), "out of tolerance:\n{fails:#?}");
    }

    #[test]
    fn accuracy_random() {
        print_reports(&run_all(100_000));
    }

    /// Longer run for the accuracy table: `cargo test --release -- --ignored`.
    #[test]
    #[ignore]
    fn accuracy_report() {
        print_reports(&run_all(10_000_000));
    }

    /// Every 61st f32 bit pattern against the f64 std reference rounded to f32
    /// (release mode, `-- --ignored`).
    #[test]
    #[ignore]
    fn f32_sweep() {
        for c in cases() {
            let mut worst = (0.0, 0.0f32);
            for i in (0..=u32::MAX).step_by(61) {
                let x = f32::from_bits(i);
                let trig = matches!(c.name, "sin" | "cos" | "tan");
                if trig && (x.is_nan() || x.abs() > f32::TRIG_MAX) {
                    continue;
                }
                let (o, r) = ((c.ours32)(x), (c.std64)(x as f64) as f32);
                let u = ulps32(o, r);
                if u > worst.0 {
                    worst = (u, x);
                }
                assert!(f32_ok(o, r), "{}({x:e}): ours {o:e} ref {r:e}", c.name);
            }
            eprintln!("{:10} max {} ulp at {:e}", c.name, worst.0, worst.1);
        }
    }

    // -------------------------------------------------------------------
    // Special values, tails and signed zeros
    // -------------------------------------------------------------------

    /// Results that must match the reference exactly (up to 4 ulp / f32_ok
    /// when finite and non-zero): specials, both zeros, extremes.
    macro_rules! specials_vs_std {
        ($t:ident, $ulps:ident, $ok:expr) => {{
            let sub = $t::from_bits(1);
            let xs: [$t; 22] = [
                0.0,
                -0.0,
                $t::INFINITY,
                $t::NEG_INFINITY,
                $t::NAN,
                sub,
                -sub,
                $t::MIN_POSITIVE,
                -$t::MIN_POSITIVE,
                $t::MIN_POSITIVE * 0.75,
                $t::MAX,
                -$t::MAX,
                1.0,
                -1.0,
                0.5,
                -0.5,
                2.0,
                -2.0,
                1e-10,
                -1e-10,
                30.0,
                -30.0,
            ];
            type S = fn($t) -> $t;
            let fns: [(&str, S, S); 18] = [
                ("exp", <$t as FloatMath>::exp, $t::exp),
                ("exp2", <$t as FloatMath>::exp2, $t::exp2),
                ("expm1", <$t as FloatMath>::expm1, $t::exp_m1),
                ("ln", <$t as FloatMath>::ln, $t::ln),
                ("log2", <$t as FloatMath>::log2, $t::log2),
                ("log10", <$t as FloatMath>::log10, $t::log10),
                ("ln1p", <$t as FloatMath>::ln1p, $t::ln_1p),
                ("sin", <$t as FloatMath>::sin, $t::sin),
                ("cos", <$t as FloatMath>::cos, $t::cos),
                ("tan", <$t as FloatMath>::tan, $t::tan),
                ("asin", <$t as FloatMath>::asin, $t::asin),
                ("acos", <$t as FloatMath>::acos, $t::acos),
                ("atan", <$t as FloatMath>::atan, $t::atan),
                ("sinh", <$t as FloatMath>::sinh, $t::sinh),
                ("cosh", <$t as FloatMath>::cosh, $t::cosh),
                ("tanh", <$t as FloatMath>::tanh, $t::tanh),
                ("asinh", <$t as FloatMath>::asinh, |x| {
                    asinh_ref(x as f64) as $t
                }),
                ("atanh", <$t as FloatMath>::atanh, |x| {
                    atanh_ref(x as f64) as $t
                }),
            ];
            for (name, ours, std) in fns {
                for &x in &xs {
                    let trig = matches!(name, "sin" | "cos" | "tan");
                    if trig && x.is_finite() && x.abs() > $t::TRIG_MAX {
                        continue;
                    }
                    let (o, s) = (ours(x), std(x));
                    let exact = !s.is_finite() || s == 0.0;
                    let good = if exact { $ulps(o, s) == 0.0 } else { $ok(o, s) };
                    assert!(
                        good,
                        "{name}({x:e}) {}: ours {o:e} std {s:e}",
                        stringify!($t)
                    );
                }
            }
        }};
    }

    #[test]
    fn specials_match_std() {
        specials_vs_std!(f32, ulps32, f32_ok);
        specials_vs_std!(f64, ulps64, |o, s| ulps64(o, s) <= 4.0);
    }

    /// Relative error.
    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn exp_log_limits() {
        type F = f64;
        assert_eq!(<F as FloatMath>::exp(1000.0), F::INFINITY);
        assert_eq!(<F as FloatMath>::exp(709.8), F::INFINITY);
        assert!(<F as FloatMath>::exp(709.7).is_finite());
        assert_eq!(<F as FloatMath>::exp(-1000.0).to_bits(), 0);
        assert_eq!(<f32 as FloatMath>::exp(88.8), f32::INFINITY);
        assert_eq!(<f32 as FloatMath>::exp(-104.0).to_bits(), 0);
        assert_eq!(<f32 as FloatMath>::exp2(128.0), f32::INFINITY);
        assert_eq!(<f32 as FloatMath>::exp2(-149.0), f32::from_bits(1));
        assert_eq!(<F as FloatMath>::exp2(-1074.0), F::from_bits(1));
        assert_eq!(<F as FloatMath>::exp2(3.0), 8.0);
        assert_eq!(<F as FloatMath>::exp(0.0), 1.0);
        // subnormal results, correctly scaled
        for x in [-740.0, -745.0, -708.5, -720.3] {
            assert!(ulps64(<F as FloatMath>::exp(x), x.exp()) <= 1.0, "exp({x})");
        }
        for x in [-88.0f32, -100.0, -103.0, -95.5] {
            assert!(
                ulps32(<f32 as FloatMath>::exp(x), x.exp()) <= 1.0,
                "exp({x})"
            );
        }
        assert_eq!(<F as FloatMath>::expm1(-1000.0), -1.0);
        assert_eq!(<F as FloatMath>::expm1(1000.0), F::INFINITY);
        assert!(ulps64(<F as FloatMath>::expm1(1e-10), 1e-10f64.exp_m1()) <= 1.0);
        assert!(ulps64(<F as FloatMath>::expm1(-3e-7), (-3e-7f64).exp_m1()) <= 1.0);

        assert_eq!(<F as FloatMath>::ln(0.0), F::NEG_INFINITY);
        assert_eq!(<F as FloatMath>::ln(-0.0), F::NEG_INFINITY);
        assert!(<F as FloatMath>::ln(-1e-300).is_nan());
        assert!(<F as FloatMath>::ln(F::NEG_INFINITY).is_nan());
        assert_eq!(<F as FloatMath>::ln(F::INFINITY), F::INFINITY);
        assert_eq!(<F as FloatMath>::ln(1.0).to_bits(), 0);
        assert_eq!(<F as FloatMath>::log2(1024.0), 10.0);
        assert_eq!(<F as FloatMath>::log2(F::from_bits(1)), -1074.0);
        assert_eq!(<f32 as FloatMath>::log2(f32::from_bits(1)), -149.0);
        for x in [
            F::from_bits(1),
            F::from_bits(12345),
            1e-310,
            F::MIN_POSITIVE * 0.5,
        ] {
            assert!(ulps64(<F as FloatMath>::ln(x), x.ln()) <= 1.0, "ln({x:e})");
        }
        assert_eq!(<F as FloatMath>::ln1p(-1.0), F::NEG_INFINITY);
        assert!(<F as FloatMath>::ln1p(-1.5).is_nan());
        assert!(ulps64(<F as FloatMath>::ln1p(1e-10), 1e-10f64.ln_1p()) <= 1.0);
        assert!(ulps64(<F as FloatMath>::ln1p(-2.5e-9), (-2.5e-9f64).ln_1p()) <= 1.0);
        assert_eq!(<F as FloatMath>::ln1p(1e300), 1e300f64.ln_1p());
    }

    #[test]
    fn hyperbolic_and_erf_tails() {
        for (x, s) in [
            (30.0, 1.0),
            (1e30, 1.0),
            (f64::INFINITY, 1.0),
            (-40.0, -1.0),
        ] {
            assert_eq!(<f64 as FloatMath>::tanh(x), s);
            assert_eq!(<f32 as FloatMath>::tanh(x as f32), s as f32);
            assert_eq!(<f64 as FloatMath>::erf(x), s);
            assert_eq!(<f32 as FloatMath>::erf(x as f32), s as f32);
        }
        assert_eq!(<f64 as FloatMath>::erf(-0.0).to_bits(), (-0.0f64).to_bits());
        assert!(<f64 as FloatMath>::erf(f64::NAN).is_nan());
        assert!(<f32 as FloatMath>::tanh(f32::NAN).is_nan());
        assert!(ulps64(<f64 as FloatMath>::sinh(1e-8), 1e-8f64.sinh()) <= 1.0);
        assert!(ulps64(<f64 as FloatMath>::sinh(-0.3), (-0.3f64).sinh()) <= 2.0);
        assert!(ulps64(<f64 as FloatMath>::sinh(710.0), 710f64.sinh()) <= 2.0);
        assert_eq!(<f64 as FloatMath>::cosh(-711.0), f64::INFINITY);
        assert!(rel(<f32 as FloatMath>::sinh(89.0) as f64, 89f64.sinh()) < 1e-6);
    }

    #[test]
    fn sigmoid_softplus_tails() {
        let s = <f64 as FloatMath>::sigmoid(-100.0);
        assert!(rel(s, 3.720075976020836e-44) < 4e-16, "{s:e}");
        assert!(rel(<f64 as FloatMath>::sigmoid(-700.0), (-700f64).exp()) < 4e-16);
        assert!(ulps64(<f64 as FloatMath>::sigmoid(-740.0), sigmoid_ref(-740.0)) <= 1.0);
        assert_eq!(<f64 as FloatMath>::sigmoid(-800.0), 0.0);
        assert_eq!(<f64 as FloatMath>::sigmoid(40.0), 1.0);
        assert_eq!(<f64 as FloatMath>::sigmoid(f64::INFINITY), 1.0);
        assert_eq!(<f64 as FloatMath>::sigmoid(f64::NEG_INFINITY), 0.0);
        assert!(<f64 as FloatMath>::sigmoid(f64::NAN).is_nan());
        assert!(
            rel(
                <f32 as FloatMath>::sigmoid(-80.0) as f64,
                sigmoid_ref(-80.0)
            ) < 1e-6
        );
        assert!(
            ulps32(
                <f32 as FloatMath>::sigmoid(-100.0),
                sigmoid_ref(-100.0) as f32
            ) <= 1.0
        );

        let sp = <f64 as FloatMath>::softplus(-50.0);
        assert!(rel(sp, (-50f64).exp()) < 4e-16, "{sp:e}");
        assert!(rel(<f64 as FloatMath>::softplus(-700.0), (-700f64).exp()) < 4e-16);
        assert_eq!(<f64 as FloatMath>::softplus(1000.0), 1000.0);
        assert_eq!(<f32 as FloatMath>::softplus(1000.0), 1000.0);
        assert_eq!(<f64 as FloatMath>::softplus(f64::INFINITY), f64::INFINITY);
        assert_eq!(<f64 as FloatMath>::softplus(f64::NEG_INFINITY), 0.0);
        assert!(<f64 as FloatMath>::softplus(f64::NAN).is_nan());
        assert!(rel(<f32 as FloatMath>::softplus(-50.0) as f64, (-50f64).exp()) < 1e-6);
        assert!((<f64 as FloatMath>::softplus(0.0) - core::f64::consts::LN_2).abs() < 1e-16);
    }

    #[test]
    fn inverse_trig_domain() {
        for x in [
            1.0000001f32,
            -1.5,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ] {
            assert!(<f32 as FloatMath>::asin(x).is_nan(), "asin({x})");
            assert!(<f32 as FloatMath>::acos(x).is_nan(), "acos({x})");
        }
        for x in [1.0 + f64::EPSILON, -2.0, 1e300, f64::NAN] {
            assert!(<f64 as FloatMath>::asin(x).is_nan(), "asin({x})");
            assert!(<f64 as FloatMath>::acos(x).is_nan(), "acos({x})");
            assert!(<f64 as FloatMath>::atanh(x).is_nan(), "atanh({x})");
        }
        assert_eq!(<f64 as FloatMath>::asin(1.0), core::f64::consts::FRAC_PI_2);
        assert_eq!(<f64 as FloatMath>::acos(-1.0), core::f64::consts::PI);
        assert_eq!(<f64 as FloatMath>::acos(1.0).to_bits(), 0);
        assert_eq!(<f64 as FloatMath>::atanh(-1.0), f64::NEG_INFINITY);
        assert_eq!(
            <f64 as FloatMath>::atan(f64::INFINITY),
            core::f64::consts::FRAC_PI_2
        );
        assert_eq!(
            <f64 as FloatMath>::asinh(f64::NEG_INFINITY),
            f64::NEG_INFINITY
        );
        assert!(ulps64(<f64 as FloatMath>::asinh(1e308), asinh_ref(1e308)) <= 1.0);
    }

    #[test]
    fn atan2_quadrants_and_zeros() {
        let v = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            2.5,
            -0.3,
            f64::MIN_POSITIVE,
            -f64::from_bits(1),
            f64::MAX,
            -f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for &y in &v {
            for &x in &v {
                let (o, s) = (<f64 as FloatMath>::atan2(y, x), y.atan2(x));
                assert!(
                    ulps64(o, s) <= 2.0,
                    "atan2({y:e}, {x:e}): ours {o:e} std {s:e}"
                );
                let (y, x) = (y as f32, x as f32);
                let (o, s) = (<f32 as FloatMath>::atan2(y, x), y.atan2(x));
                assert!(
                    ulps32(o, s) <= 2.0,
                    "atan2({y:e}, {x:e}): ours {o:e} std {s:e}"
                );
            }
        }
    }

    /// Arguments next to multiples of pi/2 up to TRIG_MAX, where the Cody–Waite
    /// reduction cancels the most.
    #[test]
    fn trig_near_multiples_of_half_pi() {
        let kmax32 = (f32::TRIG_MAX as f64 / core::f64::consts::FRAC_PI_2) as u64;
        for k in 1..=kmax32 {
            let c = (k as f64 * core::f64::consts::FRAC_PI_2) as f32;
            for x in [
                c,
                f32::from_bits(c.to_bits() - 1),
                f32::from_bits(c.to_bits() + 1),
            ] {
                for (name, o, s) in [
                    ("sin", <f32 as FloatMath>::sin(x), x.sin()),
                    ("cos", <f32 as FloatMath>::cos(x), x.cos()),
                    ("tan", <f32 as FloatMath>::tan(x), x.tan()),
                ] {
                    assert!(f32_ok(o, s), "{name}({x:e}): ours {o:e} std {s:e}");
                }
            }
        }
        let mut rng = Rng(99);
        let kmax64 = f64::TRIG_MAX / core::f64::consts::FRAC_PI_2;
        for _ in 0..100_000 {
            let k = rng.log_uniform(1.0, kmax64).round();
            let c = k * core::f64::consts::FRAC_PI_2;
            for x in [
                c,
                f64::from_bits(c.to_bits() - 1),
                f64::from_bits(c.to_bits() + 3),
            ] {
                for (name, o, s) in [
                    ("sin", <f64 as FloatMath>::sin(x), x.sin()),
                    ("cos", <f64 as FloatMath>::cos(x), x.cos()),
                    ("tan", <f64 as FloatMath>::tan(x), x.tan()),
                ] {
                    assert!(ulps64(o, s) <= 4.0, "{name}({x:e}): ours {o:e} std {s:e}");
                }
            }
        }
    }

    #[test]
    fn fix_trig_large_recomputes_only_large() {
        let mut x: Vec<f64> = (0..2000).map(|i| (i as f64 - 1000.0) * 0.37).collect();
        x[3] = 1e10;
        x[700] = -3.5e300;
        x[1999] = f64::INFINITY;
        x[1500] = f64::NAN;
        for which in [Trig::Sin, Trig::Cos, Trig::Tan] {
            let f: fn(f64) -> f64 = match which {
                Trig::Sin => <f64 as FloatMath>::sin,
                Trig::Cos => <f64 as FloatMath>::cos,
                Trig::Tan => <f64 as FloatMath>::tan,
            };
            let mut out: Vec<f64> = x.iter().map(|&v| f(v)).collect();
            let fast_small = out[10];
            fix_trig_large(&x, &mut out, which);
            assert_eq!(out[10], fast_small);
            for (&v, &o) in x.iter().zip(&out) {
                let s = f64::trig_libm(v, which);
                assert!(ulps64(o, s) <= 4.0, "{which:?}({v:e}): {o:e} vs {s:e}");
            }
        }
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut out: Vec<f32> = x32.iter().map(|&v| <f32 as FloatMath>::cos(v)).collect();
        fix_trig_large(&x32, &mut out, Trig::Cos);
        for (&v, &o) in x32.iter().zip(&out) {
            assert!(f32_ok(o, v.cos()), "cos({v:e}): {o:e}");
        }
    }
}

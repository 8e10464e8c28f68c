//! Special functions of statistics (what `scipy.special` computes), one
//! element at a time in f64 (f32 inputs round the f64 result). `erfc` and
//! `lgamma` come from `libm` (musl's, within an ulp); the rest are built on
//! them with the textbook methods named at each function. The derivatives of
//! the incomplete gamma and beta functions with respect to their shape
//! parameters are the derivatives of the series and continued fractions
//! themselves, carried through the iteration as dual numbers: they converge
//! with the value.

use std::f64::consts::{FRAC_1_SQRT_2, PI};
use std::ops::{Add, Div, Mul, Neg, Sub};

const EPS: f64 = f64::EPSILON;
/// ln(2π) / 2.
pub const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
/// Iteration cap of the series and continued fractions: enough for shape
/// parameters up to ~1e7; beyond it the result is NaN, never a hang.
const MAX_ITER: usize = 100_000;

/// `erfc(x) = 1 - erf(x)`, accurate in the upper tail.
pub fn erfc(x: f64) -> f64 {
    libm::erfc(x)
}

/// `erf(x)`.
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// `ln|Γ(x)|` (SciPy's `gammaln`): `+inf` at the poles 0, -1, -2, ...
pub fn gammaln(x: f64) -> f64 {
    libm::lgamma_r(x).0
}

/// `ln(p / (1 - p))`.
pub fn logit(p: f64) -> f64 {
    // ln(p) - ln1p(-p) keeps the relative accuracy near both ends
    p.ln() - (-p).ln_1p()
}

/// The standard normal CDF `Φ(x)`, as Cephes: `(1 + erf(x/√2)) / 2` near 0,
/// the `erfc` tail elsewhere (full relative accuracy for x → -∞).
pub fn ndtr(x: f64) -> f64 {
    let z = x * FRAC_1_SQRT_2;
    if z.abs() < FRAC_1_SQRT_2 {
        0.5 + 0.5 * erf(z)
    } else if z > 0.0 {
        1.0 - 0.5 * erfc(z)
    } else {
        0.5 * erfc(-z)
    }
}

/// `ln Φ(x)`: `ln1p(-Φ(-x))` above 0, `ln Φ(x)` down to -20, and
/// the asymptotic series of Mills' ratio below -20 (where Φ underflows).
pub fn log_ndtr(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 0.0 {
        // 1 - Φ(-x) rounds away the tail that ln keeps
        return (-ndtr(-x)).ln_1p();
    }
    if x > -20.0 {
        return ndtr(x).ln();
    }
    if x == f64::NEG_INFINITY {
        return x;
    }
    // Φ(x) = φ(x)/|x| · (1 - 1/x² + 3/x⁴ - 15/x⁶ + ...)
    let r = 1.0 / (x * x);
    let (mut term, mut sum) = (1.0, 1.0);
    for n in 1..30 {
        term *= -((2 * n - 1) as f64) * r;
        sum += term;
        if term.abs() < EPS * sum.abs() {
            break;
        }
    }
    -0.5 * x * x - (-x).ln() - HALF_LN_2PI + sum.ln()
}

/// `ln φ(x)`, the standard normal log density.
fn log_npdf(x: f64) -> f64 {
    -0.5 * x * x - HALF_LN_2PI
}

/// The inverse of [`ndtr`]: a rational first guess (Abramowitz & Stegun
/// 26.2.23, error < 4.5e-4), then Newton steps, on `Φ(x) - 1/2 = p - 1/2`
/// near the middle (exact differences keep the relative accuracy of tiny
/// results) and on `ln Φ(x) = ln p` in the tails.
pub fn ndtri(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if p == 0.5 {
        return 0.0;
    }
    if p > 0.5 {
        // 1 - p is exact here (Sterbenz)
        return -ndtri(1.0 - p);
    }
    let t = (-2.0 * p.ln()).sqrt();
    let mut x = -(t
        - (2.515_517 + 0.802_853 * t + 0.010_328 * t * t)
            / (1.0 + 1.432_788 * t + 0.189_269 * t * t + 0.001_308 * t * t * t));
    let middle = p > 0.25;
    let (dp, lp) = (p - 0.5, p.ln());
    for _ in 0..8 {
        let step = if middle {
            (0.5 * erf(x * FRAC_1_SQRT_2) - dp) / log_npdf(x).exp()
        } else {
            // d ln Φ / dx = φ / Φ
            (log_ndtr(x) - lp) / (log_npdf(x) - log_ndtr(x)).exp()
        };
        x -= step;
        if step.abs() <= 4.0 * EPS * x.abs() {
            break;
        }
    }
    x
}

/// The inverse of `erf` on (-1, 1): `ndtri((1 + y)/2)/√2` as a first
/// guess, then Newton steps on `erf(x) = y` near 0 and on
/// `erfc(|x|) = 1 - |y|` (exact for |y| >= 1/2) in the tails, so the
/// relative accuracy holds at both ends.
pub fn erfinv(y: f64) -> f64 {
    if y.is_nan() || !(-1.0..=1.0).contains(&y) {
        return f64::NAN;
    }
    if y.abs() == 1.0 {
        return y * f64::INFINITY;
    }
    if y == 0.0 {
        return y;
    }
    let a = y.abs();
    let mut x = ndtri(0.5 + 0.5 * a) * FRAC_1_SQRT_2;
    let two_over_sqrt_pi = std::f64::consts::FRAC_2_SQRT_PI;
    for _ in 0..4 {
        let r = if a < 0.5 {
            erf(x) - a
        } else {
            (1.0 - a) - erfc(x)
        };
        let step = r / (two_over_sqrt_pi * (-x * x).exp());
        x -= step;
        if step.abs() <= 2.0 * EPS * x.abs() {
            break;
        }
    }
    x.copysign(y)
}

/// Digamma `ψ(x) = d ln Γ(x) / dx`: reflection below 0, the recurrence
/// `ψ(x) = ψ(x + 1) - 1/x` up to x ≥ 10, then the asymptotic series.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return x;
    }
    if x <= 0.0 {
        if x == x.floor() {
            // a pole: SciPy gives -inf at 0 (from the right) and NaN at the others
            return if x == 0.0 {
                f64::NEG_INFINITY
            } else {
                f64::NAN
            };
        }
        // ψ(x) = ψ(1 - x) - π / tan(πx), with πx reduced exactly to (-π/2, π/2]
        let r = x - x.round();
        return digamma(1.0 - x) - PI / (PI * r).tan();
    }
    let (mut x, mut acc) = (x, 0.0);
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let r = 1.0 / (x * x);
    // Σ B_2k / (2k x^2k), k = 1..7
    let tail = r
        * (1.0 / 12.0
            - r * (1.0 / 120.0
                - r * (1.0 / 252.0
                    - r * (1.0 / 240.0 - r * (1.0 / 132.0 - r * (691.0 / 32760.0 - r / 12.0))))));
    acc + x.ln() - 0.5 / x - tail
}

/// The Bernoulli numbers B_2 .. B_18, for the Euler–Maclaurin tail of `zeta`.
const BERNOULLI: [f64; 9] = [
    1.0 / 6.0,
    -1.0 / 30.0,
    1.0 / 42.0,
    -1.0 / 30.0,
    5.0 / 66.0,
    -691.0 / 2730.0,
    7.0 / 6.0,
    -3617.0 / 510.0,
    43867.0 / 798.0,
];

/// Hurwitz zeta `ζ(s, q) = Σ_k (q + k)^-s` for an integer `s ≥ 2`: the first
/// terms summed directly until `q + k ≥ 16` (any real `q` off the poles), the
/// rest by Euler–Maclaurin.
fn hurwitz_zeta_int(s: i32, q: f64) -> f64 {
    if q <= 0.0 && q == q.floor() {
        return f64::INFINITY;
    }
    let mut sum = 0.0;
    let mut q = q;
    while q < 16.0 {
        sum += q.powi(-s);
        q += 1.0;
    }
    let sf = f64::from(s);
    sum += q.powf(1.0 - sf) / (sf - 1.0) + 0.5 * q.powi(-s);
    // Σ_j B_2j / (2j)! · s (s+1) ... (s+2j-2) · q^(-s-2j+1)
    let mut fact = sf / q.powi(s + 1); // s · q^(-s-1), the j = 1 factor without B_2/2!
    let mut denom = 2.0;
    for (j, b) in BERNOULLI.iter().enumerate() {
        let term = b * fact / denom;
        sum += term;
        if term.abs() < EPS * sum.abs() {
            break;
        }
        let k = 2.0 * (j as f64 + 1.0);
        fact *= (sf + k - 1.0) * (sf + k) / (q * q);
        denom *= (k + 1.0) * (k + 2.0);
    }
    sum
}

/// The polygamma function `ψ⁽ⁿ⁾(x)`: digamma for n = 0, else
/// `(-1)^(n+1) n! ζ(n + 1, x)`. NaN for a negative or fractional order.
pub fn polygamma(n: f64, x: f64) -> f64 {
    if n.is_nan() || n < 0.0 || n != n.floor() || x.is_nan() {
        return f64::NAN;
    }
    if n == 0.0 {
        return digamma(x);
    }
    if n > 170.0 {
        return f64::NAN; // n! overflows
    }
    let ni = n as i32;
    let fact: f64 = (1..=ni).map(f64::from).product();
    let sign = if ni % 2 == 1 { 1.0 } else { -1.0 };
    sign * fact * hurwitz_zeta_int(ni + 1, x)
}

// ---------------------------------------------------------------------------
// Dual numbers: a value with its partial derivatives in N directions.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Dual<const N: usize> {
    v: f64,
    d: [f64; N],
}

impl<const N: usize> Dual<N> {
    fn c(v: f64) -> Self {
        Dual { v, d: [0.0; N] }
    }
    fn var(v: f64, i: usize) -> Self {
        let mut d = [0.0; N];
        d[i] = 1.0;
        Dual { v, d }
    }
    /// `f(self)` given `f(v)` and `f'(v)`.
    fn chain(self, f: f64, df: f64) -> Self {
        Dual {
            v: f,
            d: self.d.map(|x| x * df),
        }
    }
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }
    fn gammaln(self) -> Self {
        self.chain(gammaln(self.v), digamma(self.v))
    }
    fn recip(self) -> Self {
        Dual::c(1.0) / self
    }
    /// Converged: the update `self` is below `tol` relative to `scale` in
    /// value, and its derivatives below a looser bound (they carry the
    /// rounding of the value's terms, amplified by their own magnitude).
    fn small(self, scale: Self, tol: f64) -> bool {
        let loose = 1e3 * tol;
        self.v.abs() <= tol * scale.v.abs()
            && self
                .d
                .iter()
                .zip(scale.d)
                .all(|(d, s)| d.abs() <= loose * s.abs().max(scale.v.abs()).max(1e-300))
    }
}

impl<const N: usize> Add for Dual<N> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        let mut d = self.d;
        for (x, y) in d.iter_mut().zip(o.d) {
            *x += y;
        }
        Dual { v: self.v + o.v, d }
    }
}
impl<const N: usize> Sub for Dual<N> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        self + (-o)
    }
}
impl<const N: usize> Neg for Dual<N> {
    type Output = Self;
    fn neg(self) -> Self {
        Dual {
            v: -self.v,
            d: self.d.map(|x| -x),
        }
    }
}
impl<const N: usize> Mul for Dual<N> {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        let mut d = self.d;
        for (x, y) in d.iter_mut().zip(o.d) {
            *x = *x * o.v + self.v * y;
        }
        Dual { v: self.v * o.v, d }
    }
}
impl<const N: usize> Div for Dual<N> {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        let v = self.v / o.v;
        let mut d = self.d;
        for (x, y) in d.iter_mut().zip(o.d) {
            *x = (*x - v * y) / o.v;
        }
        Dual { v, d }
    }
}
impl<const N: usize> Add<f64> for Dual<N> {
    type Output = Self;
    fn add(self, o: f64) -> Self {
        Dual {
            v: self.v + o,
            d: self.d,
        }
    }
}
impl<const N: usize> Mul<f64> for Dual<N> {
    type Output = Self;
    fn mul(self, o: f64) -> Self {
        Dual {
            v: self.v * o,
            d: self.d.map(|x| x * o),
        }
    }
}

/// Lentz's guard against a zero denominator in a continued fraction.
const TINY: f64 = 1e-300;

fn guard<const N: usize>(x: Dual<N>) -> Dual<N> {
    if x.v.abs() < TINY {
        Dual { v: TINY, d: x.d }
    } else {
        x
    }
}

// ---------------------------------------------------------------------------
// Regularised incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x)
// ---------------------------------------------------------------------------

/// `(P, Q)` and their derivatives in `a`: the power series of P for
/// `x < a + 1`, Legendre's continued fraction of Q otherwise (Numerical
/// Recipes §6.2), as dual numbers in `a`.
fn gammainc_dual(a: f64, x: f64) -> Option<(Dual<1>, Dual<1>)> {
    let ad = Dual::<1>::var(a, 0);
    if x < a + 1.0 {
        // P = x^a e^-x / Γ(a + 1) · Σ_n x^n / ((a+1)...(a+n))
        let (mut term, mut sum) = (Dual::c(1.0), Dual::c(1.0));
        let mut converged = false;
        for n in 1..MAX_ITER {
            term = term * Dual::c(x) / (ad + n as f64);
            sum = sum + term;
            if term.small(sum, EPS) {
                converged = true;
                break;
            }
        }
        if !converged {
            return None;
        }
        let front = (ad * x.ln() - Dual::c(x) - (ad + 1.0).gammaln()).exp();
        let p = front * sum;
        Some((p, Dual::c(1.0) - p))
    } else {
        // Q = x^a e^-x / Γ(a) · 1/(x+1-a- 1(1-a)/(x+3-a- 2(2-a)/(x+5-a- ...)))
        let mut b = Dual::c(x + 1.0) - ad;
        let mut c = Dual::c(1.0 / TINY);
        let mut d = b.recip();
        let mut h = d;
        let mut converged = false;
        for i in 1..MAX_ITER {
            let i = i as f64;
            let an = (ad + -i) * i; // -i (i - a)
            b = b + 2.0;
            d = guard(an * d + b).recip();
            c = guard(b + an / c);
            let del = d * c;
            h = h * del;
            if (del + -1.0).small(Dual::c(1.0), EPS) {
                converged = true;
                break;
            }
        }
        if !converged {
            return None;
        }
        let front = (ad * x.ln() - Dual::c(x) - ad.gammaln()).exp();
        let q = front * h;
        Some((Dual::c(1.0) - q, q))
    }
}

/// The edge values of P(a, x) (`None`: the interior, computed by the series).
fn gammainc_edges(a: f64, x: f64) -> Option<f64> {
    if a.is_nan() || x.is_nan() || a < 0.0 || x < 0.0 {
        Some(f64::NAN)
    } else if a == 0.0 {
        Some(if x > 0.0 { 1.0 } else { f64::NAN })
    } else if x == 0.0 {
        Some(0.0)
    } else if x == f64::INFINITY {
        Some(1.0)
    } else if a == f64::INFINITY {
        Some(0.0)
    } else {
        None
    }
}

/// The regularised lower incomplete gamma function `P(a, x)` (`upper`: Q).
pub fn gammainc(a: f64, x: f64, upper: bool) -> f64 {
    if let Some(p) = gammainc_edges(a, x) {
        return if upper { 1.0 - p } else { p };
    }
    match gammainc_dual(a, x) {
        Some((p, q)) => {
            if upper {
                q.v
            } else {
                p.v
            }
        }
        None => f64::NAN,
    }
}

/// `∂P(a, x)/∂a` (`upper`: `∂Q/∂a = -∂P/∂a`).
pub fn gammainc_da(a: f64, x: f64, upper: bool) -> f64 {
    if let Some(p) = gammainc_edges(a, x) {
        return if p.is_nan() { p } else { 0.0 };
    }
    match gammainc_dual(a, x) {
        Some((p, q)) => {
            if upper {
                q.d[0]
            } else {
                p.d[0]
            }
        }
        None => f64::NAN,
    }
}

// ---------------------------------------------------------------------------
// Regularised incomplete beta function I_x(a, b)
// ---------------------------------------------------------------------------

/// `I_x(a, b)` with its derivatives in `a` and `b`: the continued fraction
/// of Numerical Recipes §6.4 where it converges fast
/// (`x < (a + 1)/(a + b + 2)`), the symmetry `1 - I_{1-x}(b, a)` elsewhere.
fn betainc_dual(a: f64, b: f64, x: f64) -> Option<Dual<2>> {
    if x > (a + 1.0) / (a + b + 2.0) {
        let r = betainc_cf(Dual::var(b, 1), Dual::var(a, 0), 1.0 - x)?;
        return Some(Dual::c(1.0) - r);
    }
    betainc_cf(Dual::var(a, 0), Dual::var(b, 1), x)
}

fn betainc_cf(a: Dual<2>, b: Dual<2>, x: f64) -> Option<Dual<2>> {
    let one = Dual::c(1.0);
    let (qab, qap, qam) = (a + b, a + 1.0, a + -1.0);
    let mut c = one;
    let mut d = guard(one - qab * x / qap).recip();
    let mut h = d;
    let mut converged = false;
    for m in 1..MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = (b + -m) * (m * x) / ((qam + m2) * (a + m2));
        d = guard(one + aa * d).recip();
        c = guard(one + aa / c);
        h = h * d * c;
        let aa = -((a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
        d = guard(one + aa * d).recip();
        c = guard(one + aa / c);
        let del = d * c;
        h = h * del;
        if (del + -1.0).small(one, EPS) {
            converged = true;
            break;
        }
    }
    if !converged {
        return None;
    }
    // x^a (1-x)^b / (a B(a, b))
    let lbeta = a.gammaln() + b.gammaln() - qab.gammaln();
    let front = (a * x.ln() + b * (-x).ln_1p() - lbeta).exp() / a;
    Some(front * h)
}

/// The edge values of I_x(a, b) (`None`: the interior).
fn betainc_edges(a: f64, b: f64, x: f64) -> Option<f64> {
    let undefined = (a == 0.0 && b == 0.0) || (a.is_infinite() && b.is_infinite());
    // (a NaN x fails the range test)
    if a.is_nan() || b.is_nan() || a < 0.0 || b < 0.0 || !(0.0..=1.0).contains(&x) || undefined {
        Some(f64::NAN)
    } else if a == 0.0 || b.is_infinite() {
        Some(if x > 0.0 { 1.0 } else { 0.0 })
    } else if b == 0.0 || a.is_infinite() {
        Some(if x < 1.0 { 0.0 } else { 1.0 })
    } else if x == 0.0 || x == 1.0 {
        Some(x)
    } else {
        None
    }
}

/// The regularised incomplete beta function `I_x(a, b)`.
pub fn betainc(a: f64, b: f64, x: f64) -> f64 {
    if let Some(v) = betainc_edges(a, b, x) {
        return v;
    }
    betainc_dual(a, b, x).map_or(f64::NAN, |r| r.v)
}

/// `∂I_x(a, b)/∂a` (`wrt_b`: `∂/∂b`).
pub fn betainc_dab(a: f64, b: f64, x: f64, wrt_b: bool) -> f64 {
    if let Some(v) = betainc_edges(a, b, x) {
        return if v.is_nan() { v } else { 0.0 };
    }
    betainc_dual(a, b, x).map_or(f64::NAN, |r| r.d[usize::from(wrt_b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rtol: f64) {
        assert!(
            (a - b).abs() <= rtol * b.abs().max(1e-300),
            "{a} vs {b} (rel {:e})",
            (a - b).abs() / b.abs()
        );
    }

    #[test]
    fn values_against_known_results() {
        // ψ(1) = -γ, ψ(1/2) = -γ - 2 ln 2, ψ'(1) = π²/6, ψ''(1) = -2ζ(3)
        let gamma = 0.577_215_664_901_532_9;
        close(digamma(1.0), -gamma, 1e-15);
        close(digamma(0.5), -gamma - 2.0 * 2f64.ln(), 1e-15);
        close(digamma(-0.5), 0.036_489_973_978_576_52, 1e-13);
        close(polygamma(1.0, 1.0), PI * PI / 6.0, 1e-15);
        close(polygamma(2.0, 1.0), -2.0 * 1.202_056_903_159_594_3, 1e-15);
        close(polygamma(1.0, -0.5), 8.934_802_200_544_704, 1e-13);
        // Φ(-1), ln Φ(-40), Φ⁻¹(0.025)
        close(ndtr(-1.0), 0.158_655_253_931_457_05, 1e-15);
        close(log_ndtr(-40.0), -804.608_442_013_753_8, 1e-15);
        close(ndtri(0.025), -1.959_963_984_540_054, 1e-15);
        close(ndtri(1e-300), -37.047_096_299_361_2, 1e-14);
        let p = 0.5 + 1e-12; // p - 1/2 is exact
        close(ndtri(p), (p - 0.5) * (2.0 * PI).sqrt(), 1e-9);
        // P(1, x) = 1 - e^-x; P(a, a) for a large; I_x(1, 1) = x; I_x(2, 3)
        close(gammainc(1.0, 0.7, false), 1.0 - (-0.7f64).exp(), 1e-15);
        close(gammainc(1.0, 3.0, true), (-3.0f64).exp(), 1e-14);
        close(gammainc(2.5, 1.3, false), 0.238_634_732_154_986_04, 1e-13);
        close(betainc(1.0, 1.0, 0.3), 0.3, 1e-15);
        // I_x(2, 3) = 6x²(1/2 - 2x/3 + x²/4) ... = x²(6 - 8x + 3x²)
        let x = 0.4;
        close(
            betainc(2.0, 3.0, x),
            x * x * (6.0 - 8.0 * x + 3.0 * x * x),
            1e-14,
        );
    }

    #[test]
    fn shape_derivatives_match_differences() {
        let h = 1e-6;
        for &(a, x) in &[(0.5, 0.2), (2.5, 1.3), (3.0, 7.0), (40.0, 38.0)] {
            let fd = (gammainc(a + h, x, false) - gammainc(a - h, x, false)) / (2.0 * h);
            close(gammainc_da(a, x, false), fd, 1e-6);
            close(gammainc_da(a, x, true), -fd, 1e-6);
        }
        for &(a, b, x) in &[(0.7, 1.5, 0.3), (2.0, 3.0, 0.8), (30.0, 20.0, 0.6)] {
            let fa = (betainc(a + h, b, x) - betainc(a - h, b, x)) / (2.0 * h);
            let fb = (betainc(a, b + h, x) - betainc(a, b - h, x)) / (2.0 * h);
            close(betainc_dab(a, b, x, false), fa, 1e-6);
            close(betainc_dab(a, b, x, true), fb, 1e-6);
        }
    }

    #[test]
    fn erfinv_inverts_erf() {
        for &x in &[1e-300, 1e-8, 0.1, 0.4769, 1.0, 2.0] {
            close(erfinv(erf(x)), x, 1e-13);
            close(erfinv(-erf(x)), -x, 1e-13);
        }
        // in the tail, the residual of erfc (1 - y is exact there)
        for &y in &[0.9, 1.0 - 1e-9, 1.0 - 1e-15] {
            close(erfc(erfinv(y)), 1.0 - y, 1e-12);
        }
        assert_eq!(erfinv(1.0), f64::INFINITY);
        assert!(erfinv(1.5).is_nan());
    }

    #[test]
    fn domain_edges_give_nan_or_limits() {
        assert!(gammainc(-1.0, 1.0, false).is_nan());
        assert!(betainc(1.0, 1.0, 1.5).is_nan());
        assert!(ndtri(1.5).is_nan());
        assert_eq!(ndtri(0.0), f64::NEG_INFINITY);
        assert_eq!(gammainc(2.0, 0.0, true), 1.0);
        assert!(polygamma(0.5, 1.0).is_nan());
        assert_eq!(digamma(0.0), f64::NEG_INFINITY);
    }
}

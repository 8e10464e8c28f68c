//! Accuracy of the vectorised functions against std / correctly rounded
//! references, over NaN, infinities, subnormals, tails and dense sweeps.

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

/// `acosh(x) = 2 asinh(sqrt((x - 1) / 2))`: an identity independent of the
/// kernel's three forms, exact in its first steps (`x - 1` and the halving)
/// where the cancellation is; `ln(x) + ln 2` where `x^2` overflows.
fn acosh_ref(x: f64) -> f64 {
    if x.is_nan() || x < 1.0 {
        return f64::NAN;
    }
    if x > 1e150 {
        return x.ln() + core::f64::consts::LN_2;
    }
    2.0 * asinh_ref(((x - 1.0) / 2.0).sqrt())
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
fn g_acosh(r: &mut Rng, s: bool) -> f64 {
    match r.choose(4) {
        0 => 1.0 + r.log_uniform(1e-15, 1.0),
        1 => r.uniform(1.0, 4.0),
        2 => r.log_uniform(1.0, lim(s, 3e38, 1e308)),
        _ => r.uniform(-2.0, 1.0), // below the domain: NaN
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
            acosh,
            g_acosh,
            |x: f32| acosh_ref(x as f64) as f32,
            acosh_ref
        ),
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
        let fns: [(&str, S, S); 19] = [
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
            ("acosh", <$t as FloatMath>::acosh, |x| {
                acosh_ref(x as f64) as $t
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

//! Placeholder (std-backed) with the interface of the vectorised version.

pub trait FloatMath:
    Copy
    + Send
    + Sync
    + 'static
    + PartialOrd
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Div<Output = Self>
    + core::ops::Neg<Output = Self>
{
    fn exp(x: Self) -> Self;
    fn exp2(x: Self) -> Self;
    fn expm1(x: Self) -> Self;
    fn ln(x: Self) -> Self;
    fn log2(x: Self) -> Self;
    fn log10(x: Self) -> Self;
    fn ln1p(x: Self) -> Self;
    fn sin(x: Self) -> Self;
    fn cos(x: Self) -> Self;
    fn tan(x: Self) -> Self;
    fn asin(x: Self) -> Self;
    fn acos(x: Self) -> Self;
    fn atan(x: Self) -> Self;
    fn sinh(x: Self) -> Self;
    fn cosh(x: Self) -> Self;
    fn tanh(x: Self) -> Self;
    fn asinh(x: Self) -> Self;
    fn atanh(x: Self) -> Self;
    fn atan2(y: Self, x: Self) -> Self;
    fn erf(x: Self) -> Self;
    fn sigmoid(x: Self) -> Self;
    fn softplus(x: Self) -> Self;
    const TRIG_MAX: Self;
    fn std_trig(x: Self, which: Trig) -> Self;
}

impl FloatMath for f32 {
    fn exp(x: Self) -> Self {
        x.exp()
    }
    fn exp2(x: Self) -> Self {
        x.exp2()
    }
    fn expm1(x: Self) -> Self {
        x.exp_m1()
    }
    fn ln(x: Self) -> Self {
        x.ln()
    }
    fn log2(x: Self) -> Self {
        x.log2()
    }
    fn log10(x: Self) -> Self {
        x.log10()
    }
    fn ln1p(x: Self) -> Self {
        x.ln_1p()
    }
    fn sin(x: Self) -> Self {
        x.sin()
    }
    fn cos(x: Self) -> Self {
        x.cos()
    }
    fn tan(x: Self) -> Self {
        x.tan()
    }
    fn asin(x: Self) -> Self {
        x.asin()
    }
    fn acos(x: Self) -> Self {
        x.acos()
    }
    fn atan(x: Self) -> Self {
        x.atan()
    }
    fn sinh(x: Self) -> Self {
        x.sinh()
    }
    fn cosh(x: Self) -> Self {
        x.cosh()
    }
    fn tanh(x: Self) -> Self {
        x.tanh()
    }
    fn asinh(x: Self) -> Self {
        x.asinh()
    }
    fn atanh(x: Self) -> Self {
        x.atanh()
    }
    fn atan2(y: Self, x: Self) -> Self {
        y.atan2(x)
    }
    fn erf(x: Self) -> Self {
        let t = 1.0 / (1.0 + 0.3275911 * x.abs());
        let y = 1.0
            - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
                + 0.254829592)
                * t
                * (-x * x).exp();
        if x < 0.0 {
            -y
        } else {
            y
        }
    }
    fn sigmoid(x: Self) -> Self {
        1.0 / (1.0 + (-x).exp())
    }
    fn softplus(x: Self) -> Self {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }
    const TRIG_MAX: Self = 1e30;
    fn std_trig(x: Self, which: Trig) -> Self {
        match which {
            Trig::Sin => x.sin(),
            Trig::Cos => x.cos(),
            Trig::Tan => x.tan(),
        }
    }
}
impl FloatMath for f64 {
    fn exp(x: Self) -> Self {
        x.exp()
    }
    fn exp2(x: Self) -> Self {
        x.exp2()
    }
    fn expm1(x: Self) -> Self {
        x.exp_m1()
    }
    fn ln(x: Self) -> Self {
        x.ln()
    }
    fn log2(x: Self) -> Self {
        x.log2()
    }
    fn log10(x: Self) -> Self {
        x.log10()
    }
    fn ln1p(x: Self) -> Self {
        x.ln_1p()
    }
    fn sin(x: Self) -> Self {
        x.sin()
    }
    fn cos(x: Self) -> Self {
        x.cos()
    }
    fn tan(x: Self) -> Self {
        x.tan()
    }
    fn asin(x: Self) -> Self {
        x.asin()
    }
    fn acos(x: Self) -> Self {
        x.acos()
    }
    fn atan(x: Self) -> Self {
        x.atan()
    }
    fn sinh(x: Self) -> Self {
        x.sinh()
    }
    fn cosh(x: Self) -> Self {
        x.cosh()
    }
    fn tanh(x: Self) -> Self {
        x.tanh()
    }
    fn asinh(x: Self) -> Self {
        x.asinh()
    }
    fn atanh(x: Self) -> Self {
        x.atanh()
    }
    fn atan2(y: Self, x: Self) -> Self {
        y.atan2(x)
    }
    fn erf(x: Self) -> Self {
        let t = 1.0 / (1.0 + 0.3275911 * x.abs());
        let y = 1.0
            - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
                + 0.254829592)
                * t
                * (-x * x).exp();
        if x < 0.0 {
            -y
        } else {
            y
        }
    }
    fn sigmoid(x: Self) -> Self {
        1.0 / (1.0 + (-x).exp())
    }
    fn softplus(x: Self) -> Self {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }
    const TRIG_MAX: Self = 1e30;
    fn std_trig(x: Self, which: Trig) -> Self {
        match which {
            Trig::Sin => x.sin(),
            Trig::Cos => x.cos(),
            Trig::Tan => x.tan(),
        }
    }
}
#[derive(Clone, Copy, Debug)]
pub enum Trig {
    Sin,
    Cos,
    Tan,
}
pub fn fix_trig_large<T: FloatMath>(x: &[T], out: &mut [T], which: Trig) {
    for (o, &v) in out.iter_mut().zip(x) {
        if v > T::TRIG_MAX || v < -T::TRIG_MAX {
            *o = T::std_trig(v, which);
        }
    }
}

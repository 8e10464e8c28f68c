//! Elementwise functions of one argument. Each op declares its forward kernel
//! and its derivative `f'(x)` (written with ferrax ops, reusing the output `y`
//! where that is cheaper: exp, tanh, sigmoid, sqrt...); the JVP multiplies the
//! tangent by it and the VJP the cotangent, so one declaration serves both.

use crate::error::Result;
use crate::kernels::elementwise::{unary as map, unary_slices};
use crate::kernels::math::{fix_trig_large, FloatMath, Trig};
use crate::kernels::reduce::Arith;
use crate::kernels::simd::map1;
use crate::kernels::special::{self, HALF_LN_2PI};
use crate::ops::binary::{add, div, mul, sub};
use crate::ops::{scalar_like, Cotangents, Family, Prim};
use crate::tensor::{DType, Element, Tensor};
use crate::trace::{bind, Value};
use crate::{type_err, with_float};

/// Every elementwise function of one argument, declared once here: its
/// variant, its ferrax name (`fx.<name>`, and the core function of that name),
/// the NumPy (or SciPy) ufunc that computes the same function (`""`: none),
/// and whether integer inputs stay integer. Its forward kernels and its
/// derivative are the arms of the exhaustive matches `eval_float`, `eval_int`
/// and `derivative` below (a new entry without them does not compile). The
/// Python function, its registration and its NumPy-protocol entry are
/// generated from this list (`for_each_unary_op!`, used by the bindings).
macro_rules! unary_ops {
    ($d:tt $($var:ident => $name:ident, $numpy:literal, $ints:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum UnaryOp {
            $($var),*
        }

        impl UnaryOp {
            pub const ALL: &'static [UnaryOp] = &[$(UnaryOp::$var),*];

            /// The ferrax name of the function.
            pub fn name(self) -> &'static str {
                match self {
                    $(UnaryOp::$var => stringify!($name)),*
                }
            }

            /// The NumPy or SciPy ufunc computing the same function, if any.
            pub fn numpy_name(self) -> Option<&'static str> {
                let n = match self {
                    $(UnaryOp::$var => $numpy),*
                };
                (!n.is_empty()).then_some(n)
            }

            /// Integer inputs stay integer (the others compute in floating point).
            fn keeps_ints(self) -> bool {
                match self {
                    $(UnaryOp::$var => $ints),*
                }
            }
        }

        $(
            #[doc = concat!("Elementwise `", stringify!($name), "`.")]
            pub fn $name(x: &Value) -> Result<Value> {
                unary(UnaryOp::$var, x)
            }
        )*

        /// Calls `$m!(name, ...)` with the ferrax name of every unary op (the
        /// bindings generate the Python functions from it).
        #[macro_export]
        macro_rules! for_each_unary_op {
            ($d m:ident) => {
                $d m!($($name),*);
            };
        }
    };
}

unary_ops! { $
    Neg => neg, "negative", true;
    Abs => abs, "absolute", true;
    Sign => sign, "sign", true;
    Exp => exp, "exp", false;
    Exp2 => exp2, "exp2", false;
    Expm1 => expm1, "expm1", false;
    Log => log, "log", false;
    Log2 => log2, "log2", false;
    Log10 => log10, "log10", false;
    Log1p => log1p, "log1p", false;
    Sqrt => sqrt, "sqrt", false;
    Rsqrt => rsqrt, "", false;
    Square => square, "square", true;
    Reciprocal => reciprocal, "reciprocal", false;
    Sin => sin, "sin", false;
    Cos => cos, "cos", false;
    Tan => tan, "tan", false;
    Asin => arcsin, "arcsin", false;
    Acos => arccos, "arccos", false;
    Atan => arctan, "arctan", false;
    Sinh => sinh, "sinh", false;
    Cosh => cosh, "cosh", false;
    Tanh => tanh, "tanh", false;
    Asinh => arcsinh, "arcsinh", false;
    Acosh => arccosh, "arccosh", false;
    Atanh => arctanh, "arctanh", false;
    Sigmoid => sigmoid, "expit", false;
    Relu => relu, "", true;
    Softplus => softplus, "", false;
    Erf => erf, "erf", false;
    Erfc => erfc, "erfc", false;
    Logit => logit, "logit", false;
    Gammaln => gammaln, "gammaln", false;
    Digamma => digamma, "psi", false;
    Ndtr => ndtr, "ndtr", false;
    LogNdtr => log_ndtr, "log_ndtr", false;
    Ndtri => ndtri, "ndtri", false;
    Erfinv => erfinv, "erfinv", false;
    Floor => floor, "floor", true;
    Ceil => ceil, "ceil", true;
    Round => rint, "rint", true;
}

/// A scalar special function (computed in f64) over every element.
fn special_map<T: Float>(x: &Tensor, f: fn(f64) -> f64) -> Result<Tensor> {
    map(x, move |a: T| T::c(f(a.to_f64())))
}

/// Float element types: the std operations that compile to single instructions
/// plus our vectorisable transcendental functions.
pub trait Float: Element + FloatMath + Arith + std::ops::Neg<Output = Self> {
    fn abs(self) -> Self;
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    fn round_even(self) -> Self;
    fn sqrt(self) -> Self;
    /// C's `fmod`: `self - trunc(self / y) * y`, exactly.
    fn fmod(self, y: Self) -> Self;
    fn c(v: f64) -> Self;
}

macro_rules! float_impl {
    ($t:ty) => {
        impl Float for $t {
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            #[inline(always)]
            fn ceil(self) -> Self {
                <$t>::ceil(self)
            }
            #[inline(always)]
            fn round_even(self) -> Self {
                <$t>::round_ties_even(self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn fmod(self, y: Self) -> Self {
                self % y
            }
            #[inline(always)]
            fn c(v: f64) -> Self {
                v as $t
            }
        }
    };
}
float_impl!(f32);
float_impl!(f64);

/// sin/cos/tan: the vectorised kernel, then a scalar fix-up of the rare elements
/// beyond the fast range reduction. `f` is generic (not a `fn` pointer) so it
/// inlines into the SIMD loop.
fn trig<T: Float>(
    x: &Tensor,
    which: Trig,
    f: impl Fn(T) -> T + Copy + Send + Sync + 'static,
) -> Result<Tensor> {
    unary_slices::<T, T>(x, move |s, o| {
        map1(s, o, f);
        fix_trig_large(s, o, which);
    })
}

impl UnaryOp {
    fn eval_float<T: Float>(self, x: &Tensor) -> Result<Tensor> {
        use UnaryOp::*;
        match self {
            Neg => map(x, |a: T| -a),
            Abs => map(x, |a: T| a.abs()),
            Sign => map(x, |a: T| {
                if a > T::ZERO {
                    T::ONE
                } else if a < T::ZERO {
                    -T::ONE
                } else {
                    a // keeps ±0 and NaN
                }
            }),
            Exp => map(x, T::exp),
            Exp2 => map(x, T::exp2),
            Expm1 => map(x, T::expm1),
            Log => map(x, T::ln),
            Log2 => map(x, T::log2),
            Log10 => map(x, T::log10),
            Log1p => map(x, T::ln1p),
            Sqrt => map(x, |a: T| a.sqrt()),
            Rsqrt => map(x, |a: T| T::ONE / a.sqrt()),
            Square => map(x, |a: T| a * a),
            Reciprocal => map(x, |a: T| T::ONE / a),
            Sin => trig(x, Trig::Sin, T::sin),
            Cos => trig(x, Trig::Cos, T::cos),
            Tan => trig(x, Trig::Tan, T::tan),
            Asin => map(x, T::asin),
            Acos => map(x, T::acos),
            Atan => map(x, T::atan),
            Sinh => map(x, T::sinh),
            Cosh => map(x, T::cosh),
            Tanh => map(x, T::tanh),
            Asinh => map(x, T::asinh),
            Acosh => map(x, T::acosh),
            Atanh => map(x, T::atanh),
            Sigmoid => map(x, T::sigmoid),
            Relu => map(x, |a: T| {
                if a > T::ZERO || a.is_nan() {
                    a
                } else {
                    T::ZERO
                }
            }),
            Softplus => map(x, T::softplus),
            Erf => map(x, T::erf),
            Erfc => special_map::<T>(x, special::erfc),
            Logit => special_map::<T>(x, special::logit),
            Gammaln => special_map::<T>(x, special::gammaln),
            Digamma => special_map::<T>(x, special::digamma),
            Ndtr => special_map::<T>(x, special::ndtr),
            LogNdtr => special_map::<T>(x, special::log_ndtr),
            Ndtri => special_map::<T>(x, special::ndtri),
            Erfinv => special_map::<T>(x, special::erfinv),
            Floor => map(x, |a: T| a.floor()),
            Ceil => map(x, |a: T| a.ceil()),
            Round => map(x, |a: T| a.round_even()),
        }
    }

    fn eval_int<T: Arith + std::ops::Neg<Output = T>>(self, x: &Tensor) -> Result<Tensor> {
        use UnaryOp::*;
        match self {
            Neg => map(x, |a: T| T::ZERO + (-a)),
            Abs => map(x, |a: T| if a < T::ZERO { -a } else { a }),
            Sign => map(x, |a: T| {
                if a > T::ZERO {
                    T::ONE
                } else if a < T::ZERO {
                    -T::ONE
                } else {
                    T::ZERO
                }
            }),
            Square => map(x, |a: T| a * a),
            Relu => map(x, |a: T| if a > T::ZERO { a } else { T::ZERO }),
            Floor | Ceil | Round => Ok(x.clone()),
            _ => type_err!("{} is not defined for integer arrays", self.name()),
        }
    }

    /// `f'(x)` given `x` and `y = f(x)`; `None` where the derivative is zero.
    fn derivative(self, x: &Value, y: &Value) -> Result<Option<Value>> {
        use UnaryOp::*;
        let c = |v: f64| scalar_like(x, v);
        let one = || c(1.0);
        Ok(Some(match self {
            Neg => c(-1.0),
            // JAX's convention: the derivative at 0 is +1
            Abs => crate::ops::binary::where_(
                &crate::ops::binary::compare(crate::ops::CompareOp::Ge, x, &c(0.0))?,
                &one(),
                &c(-1.0),
            )?,
            Sign | Floor | Ceil | Round => return Ok(None),
            Exp => y.clone(),
            Exp2 => mul(y, &c(std::f64::consts::LN_2))?,
            Expm1 => add(y, &one())?,
            Log => reciprocal(x)?,
            Log2 => reciprocal(&mul(x, &c(std::f64::consts::LN_2))?)?,
            Log10 => reciprocal(&mul(x, &c(std::f64::consts::LN_10))?)?,
            Log1p => reciprocal(&add(x, &one())?)?,
            Sqrt => div(&c(0.5), y)?,
            Rsqrt => mul(&c(-0.5), &div(y, x)?)?,
            Square => mul(&c(2.0), x)?,
            Reciprocal => neg(&square(y)?)?,
            Sin => cos(x)?,
            Cos => neg(&sin(x)?)?,
            Tan => add(&one(), &square(y)?)?,
            Asin => rsqrt(&sub(&one(), &square(x)?)?)?,
            Acos => neg(&rsqrt(&sub(&one(), &square(x)?)?)?)?,
            Atan => reciprocal(&add(&one(), &square(x)?)?)?,
            Sinh => cosh(x)?,
            Cosh => sinh(x)?,
            Tanh => sub(&one(), &square(y)?)?,
            Asinh => rsqrt(&add(&square(x)?, &one())?)?,
            // 1 / sqrt((x - 1)(x + 1)): no cancellation in x^2 - 1 near 1
            Acosh => rsqrt(&mul(&sub(x, &one())?, &add(x, &one())?)?)?,
            Atanh => reciprocal(&sub(&one(), &square(x)?)?)?,
            Sigmoid => mul(y, &sub(&one(), y)?)?,
            Relu => crate::ops::binary::where_(
                &crate::ops::binary::compare(crate::ops::CompareOp::Gt, x, &c(0.0))?,
                &one(),
                &c(0.0),
            )?,
            Softplus => sigmoid(x)?,
            Erf => mul(
                &c(std::f64::consts::FRAC_2_SQRT_PI),
                &exp(&neg(&square(x)?)?)?,
            )?,
            Erfc => mul(
                &c(-std::f64::consts::FRAC_2_SQRT_PI),
                &exp(&neg(&square(x)?)?)?,
            )?,
            Logit => reciprocal(&mul(x, &sub(&one(), x)?)?)?,
            Gammaln => digamma(x)?,
            Digamma => crate::ops::special::polygamma(&c(1.0), x)?,
            // φ(x), and φ(x)/Φ(x) = exp(ln φ(x) - ln Φ(x)) (no 0/0 in the tail)
            Ndtr => exp(&sub(&mul(&c(-0.5), &square(x)?)?, &c(HALF_LN_2PI))?)?,
            LogNdtr => exp(&sub(
                &sub(&mul(&c(-0.5), &square(x)?)?, &c(HALF_LN_2PI))?,
                y,
            )?)?,
            // √π/2 e^(y²)
            Erfinv => mul(&c(std::f64::consts::PI.sqrt() / 2.0), &exp(&square(y)?)?)?,
            // 1/φ(y)
            Ndtri => exp(&add(&mul(&c(0.5), &square(y)?)?, &c(HALF_LN_2PI))?)?,
        }))
    }
}

impl UnaryOp {
    /// `g * f'(x)` in one elementwise pass (`g` a tangent or a cotangent),
    /// for the ops whose derivative is a little arithmetic on `x` or on
    /// `y = f(x)`, when all three are concrete: a first-order pass, whose
    /// result needs no derivative of its own. The generic rule builds the
    /// same product from two to four ops, each a dispatch and an output
    /// buffer, which is most of the cost of a small gradient (`1 - y²` of
    /// tanh was three). The arithmetic is the generic rule's, operation for
    /// operation, so both give the same bits. `None`: not such an op, or a
    /// traced operand; the caller uses the generic rule.
    fn times_derivative_fused(self, g: &Value, x: &Value, y: &Value) -> Result<Option<Value>> {
        let (Some(g), Some(x), Some(y)) = (g.as_concrete(), x.as_concrete(), y.as_concrete())
        else {
            return Ok(None);
        };
        let dt = g.dtype();
        if !dt.is_float() || x.dtype() != dt || y.dtype() != dt {
            return Ok(None);
        }
        let out = with_float!(dt, T => self.times_derivative_of::<T>(g, x, y)?, else None);
        Ok(out.map(Value::Concrete))
    }

    fn times_derivative_of<T: Float>(
        self,
        g: &Tensor,
        x: &Tensor,
        y: &Tensor,
    ) -> Result<Option<Tensor>> {
        use crate::kernels::elementwise::binary;
        use UnaryOp::*;
        let (zero, one) = (T::ZERO, T::ONE);
        let (half, two) = (T::c(0.5), T::c(2.0));
        Ok(Some(match self {
            Exp => binary(g, y, |g: T, y: T| g * y)?,
            Expm1 => binary(g, y, move |g: T, y: T| g * (y + one))?,
            Log => binary(g, x, move |g: T, x: T| g * (one / x))?,
            Log1p => binary(g, x, move |g: T, x: T| g * (one / (x + one)))?,
            Sqrt => binary(g, y, move |g: T, y: T| g * (half / y))?,
            Square => binary(g, x, move |g: T, x: T| g * (two * x))?,
            Reciprocal => binary(g, y, |g: T, y: T| g * -(y * y))?,
            Tanh => binary(g, y, move |g: T, y: T| g * (one - y * y))?,
            Sigmoid => binary(g, y, move |g: T, y: T| g * (y * (one - y)))?,
            Relu => binary(g, x, move |g: T, x: T| {
                g * if x > zero { one } else { zero }
            })?,
            Abs => binary(g, x, move |g: T, x: T| {
                g * if x >= zero { one } else { -one }
            })?,
            _ => return Ok(None),
        }))
    }
}

impl Family for UnaryOp {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        match x.dtype() {
            DType::F32 => self.eval_float::<f32>(x),
            DType::F64 => self.eval_float::<f64>(x),
            DType::I32 => self.eval_int::<i32>(x),
            DType::I64 => self.eval_int::<i64>(x),
            DType::Bool => type_err!("{} is not defined for bool arrays", self.name()),
        }
    }

    fn jvp(&self, p: &[Value], t: &[Option<Value>], out: &Value) -> Result<Option<Value>> {
        let Some(t) = &t[0] else { return Ok(None) };
        if let Some(g) = self.times_derivative_fused(t, &p[0], out)? {
            return Ok(Some(g));
        }
        match self.derivative(&p[0], out)? {
            None => Ok(None),
            Some(d) => Ok(Some(mul(t, &d)?)),
        }
    }

    fn vjp(&self, p: &[Value], out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        if let Some(g) = self.times_derivative_fused(ct, &p[0], out)? {
            return Ok(smallvec::smallvec![Some(g)]);
        }
        let d = self.derivative(&p[0], out)?;
        Ok(smallvec::smallvec![match d {
            None => None,
            Some(d) => Some(mul(ct, &d)?),
        }])
    }

    fn batch(&self, v: &[Value], _b: &[bool], _size: usize) -> Result<(Value, bool)> {
        Ok((bind(&Prim::Unary(*self), &v[..1])?, true))
    }

    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        if matches!(
            self,
            UnaryOp::Sign | UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Round
        ) {
            // piecewise constant: no derivative anywhere
            return Ok(None);
        }
        crate::ops::sparsity::elementwise(p, d, out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// Apply a unary op, converting integer inputs to float where NumPy does.
pub fn unary(op: UnaryOp, x: &Value) -> Result<Value> {
    let dt = x.dtype();
    if dt == DType::Bool && op == UnaryOp::Abs {
        return Ok(x.clone()); // NumPy: abs of a bool array is itself
    }
    if dt == DType::Bool && op != UnaryOp::Neg {
        let xf = crate::ops::shape::convert(
            x,
            if op.keeps_ints() {
                DType::I64
            } else {
                DType::F64
            },
        )?;
        return unary(op, &xf);
    }
    if !dt.is_float() && !op.keeps_ints() {
        let xf = crate::ops::shape::convert(x, dt.to_float())?;
        return bind(&Prim::Unary(op), &[xf]);
    }
    bind(&Prim::Unary(op), std::slice::from_ref(x))
}

/// Predicates: elementwise functions with a bool result and no derivative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredicateOp {
    Not,
    IsNan,
    IsFinite,
}

impl Family for PredicateOp {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        match self {
            PredicateOp::Not => {
                crate::with_dtype!(x.dtype(), T => map(x, |a: T| a == T::ZERO))
            }
            PredicateOp::IsNan => with_float!(x.dtype(), T => map(x, |a: T| a.is_nan()),
                else Tensor::full(0.0, DType::Bool, x.shape())),
            PredicateOp::IsFinite => with_float!(x.dtype(), T => map(x, finite::<T>),
                else Tensor::full(1.0, DType::Bool, x.shape())),
        }
    }
    fn jvp(&self, _: &[Value], _: &[Option<Value>], _: &Value) -> Result<Option<Value>> {
        Ok(None)
    }
    fn vjp(&self, _: &[Value], _: &Value, _: &Value, _: &[bool]) -> Result<Cotangents> {
        Ok(smallvec::smallvec![None])
    }
    fn batch(&self, v: &[Value], _b: &[bool], _size: usize) -> Result<(Value, bool)> {
        Ok((bind(&Prim::Predicate(*self), &v[..1])?, true))
    }
    fn sparsity(
        &self,
        _p: &[Value],
        _d: &[Option<&crate::trace::Deps>],
        _out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        Ok(None)
    }
    fn differentiable(&self) -> bool {
        false
    }
}

/// `x - x` is 0 for finite `x` and NaN for ±inf and NaN: one branch-free test.
#[inline(always)]
#[allow(clippy::eq_op)]
fn finite<T: Float>(a: T) -> bool {
    (a - a) == T::ZERO
}

pub fn logical_not(x: &Value) -> Result<Value> {
    bind(&Prim::Predicate(PredicateOp::Not), std::slice::from_ref(x))
}
pub fn isnan(x: &Value) -> Result<Value> {
    bind(
        &Prim::Predicate(PredicateOp::IsNan),
        std::slice::from_ref(x),
    )
}
pub fn isfinite(x: &Value) -> Result<Value> {
    bind(
        &Prim::Predicate(PredicateOp::IsFinite),
        std::slice::from_ref(x),
    )
}

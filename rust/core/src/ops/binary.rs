//! Elementwise functions of two (and three, `where`) broadcasting arguments.

use crate::error::Result;
use crate::kernels::elementwise::{binary as map2, ternary};
use crate::kernels::math::FloatMath;
use crate::ops::shape::convert;
use crate::ops::unary::{exp, exp2, log, Float};
use crate::ops::{
    add_opt, batch_elementwise, broadcast_if_needed, reduce_to_shape, scalar_like, zeros,
    Cotangents, Family, Prim,
};
use crate::tensor::{DType, Element, Tensor};
use crate::trace::{bind, eval_concrete, Value};
use crate::{type_err, with_dtype};

/// Every arithmetic function of two broadcasting arguments, declared once
/// here: its variant, its ferrax name (`fx.<name>`, and the core function of
/// that name), the NumPy ufunc computing it, and whether it computes in
/// floating point only (integer inputs are converted, as NumPy does). Its
/// kernels and its partial derivatives are the arms of the exhaustive
/// matches `eval_float`, `eval_int` and `partials` below; the Python
/// function, its registration and its NumPy-protocol entry are generated from
/// this list (`for_each_binary_op!`, used by the bindings).
macro_rules! binary_ops {
    ($d:tt $($var:ident => $name:ident, $numpy:literal, $float:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum BinaryOp {
            $($var),*
        }

        impl BinaryOp {
            pub const ALL: &'static [BinaryOp] = &[$(BinaryOp::$var),*];

            /// The ferrax name of the function.
            pub fn name(self) -> &'static str {
                match self {
                    $(BinaryOp::$var => stringify!($name)),*
                }
            }

            /// The NumPy ufunc computing the same function.
            pub fn numpy_name(self) -> &'static str {
                match self {
                    $(BinaryOp::$var => $numpy),*
                }
            }

            /// Computed in floating point only (integer inputs are converted).
            fn float_only(self) -> bool {
                match self {
                    $(BinaryOp::$var => $float),*
                }
            }
        }

        $(
            #[doc = concat!("Elementwise `", stringify!($name), "` with broadcasting.")]
            pub fn $name(a: &Value, b: &Value) -> Result<Value> {
                binary(BinaryOp::$var, a, b)
            }
        )*

        /// Calls `$m!(name, ...)` with the ferrax name of every binary op (the
        /// bindings generate the Python functions from it).
        #[macro_export]
        macro_rules! for_each_binary_op {
            ($d m:ident) => {
                $d m!($($name),*);
            };
        }
    };
}

binary_ops! { $
    Add => add, "add", false;
    Sub => subtract, "subtract", false;
    Mul => multiply, "multiply", false;
    Div => divide, "divide", true;
    Pow => power, "power", false;
    Max => maximum, "maximum", false;
    Min => minimum, "minimum", false;
    Atan2 => arctan2, "arctan2", true;
    Hypot => hypot, "hypot", true;
    LogAddExp => logaddexp, "logaddexp", true;
    LogAddExp2 => logaddexp2, "logaddexp2", true;
    Xlogy => xlogy, "xlogy", true;
    Xlog1py => xlog1py, "xlog1py", true;
    FloorDiv => floor_divide, "floor_divide", false;
    Rem => remainder, "remainder", false;
}

/// Integer arithmetic with NumPy's semantics: wrapping, and 0 for division by 0.
trait Int: crate::kernels::reduce::Arith {
    fn wadd(self, o: Self) -> Self;
    fn wsub(self, o: Self) -> Self;
    fn wmul(self, o: Self) -> Self;
    fn floordiv(self, o: Self) -> Self;
    fn rem(self, o: Self) -> Self;
    fn pow(self, o: Self) -> Self;
}

macro_rules! int_impl {
    ($t:ty) => {
        impl Int for $t {
            #[inline(always)]
            fn wadd(self, o: Self) -> Self {
                self.wrapping_add(o)
            }
            #[inline(always)]
            fn wsub(self, o: Self) -> Self {
                self.wrapping_sub(o)
            }
            #[inline(always)]
            fn wmul(self, o: Self) -> Self {
                self.wrapping_mul(o)
            }
            #[inline(always)]
            fn floordiv(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let q = self.wrapping_div(o);
                if (self.wrapping_rem(o) != 0) && ((self < 0) != (o < 0)) {
                    q - 1
                } else {
                    q
                }
            }
            #[inline(always)]
            fn rem(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let r = self.wrapping_rem(o);
                if r != 0 && ((r < 0) != (o < 0)) {
                    r + o
                } else {
                    r
                }
            }
            /// By squaring over the whole exponent (a cast of the exponent to
            /// `u32` would drop its high bits), wrapping as NumPy's integers do.
            #[inline(always)]
            fn pow(self, o: Self) -> Self {
                if o < 0 {
                    // NumPy refuses; `pow` below checks first, so only traced
                    // exponents get here. 1/x truncated is the arithmetic answer.
                    return match self {
                        1 => 1,
                        -1 if o % 2 == 0 => 1,
                        -1 => -1,
                        _ => 0,
                    };
                }
                let (mut base, mut e, mut acc) = (self, o, 1 as Self);
                while e > 0 {
                    if e & 1 == 1 {
                        acc = acc.wrapping_mul(base);
                    }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                acc
            }
        }
    };
}
int_impl!(i32);
int_impl!(i64);

impl BinaryOp {
    fn eval_float<T: Float>(self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        use BinaryOp::*;
        match self {
            Add => map2(a, b, |x: T, y: T| x + y),
            Sub => map2(a, b, |x: T, y: T| x - y),
            Mul => map2(a, b, |x: T, y: T| x * y),
            Div => map2(a, b, |x: T, y: T| x / y),
            Pow => map2(a, b, pow_float::<T>),
            Max => map2(a, b, |x: T, y: T| if (x > y) | x.is_nan() { x } else { y }),
            Min => map2(a, b, |x: T, y: T| if (x < y) | x.is_nan() { x } else { y }),
            Atan2 => map2(a, b, T::atan2),
            Hypot => map2(a, b, hypot_of::<T>),
            LogAddExp => map2(a, b, logaddexp_of::<T>),
            LogAddExp2 => map2(a, b, logaddexp2_of::<T>),
            // 0 where x == 0, unless y is NaN (SciPy's convention)
            Xlogy => map2(a, b, |x: T, y: T| {
                if x == T::ZERO && !y.is_nan() {
                    T::ZERO
                } else {
                    x * T::ln(y)
                }
            }),
            Xlog1py => map2(a, b, |x: T, y: T| {
                if x == T::ZERO && !y.is_nan() {
                    T::ZERO
                } else {
                    x * T::ln1p(y)
                }
            }),
            FloorDiv => map2(a, b, |x: T, y: T| divmod(x, y).0),
            Rem => map2(a, b, |x: T, y: T| divmod(x, y).1),
        }
    }

    fn eval_int<T: Int>(self, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        use BinaryOp::*;
        match self {
            Add => map2(a, b, |x: T, y: T| x.wadd(y)),
            Sub => map2(a, b, |x: T, y: T| x.wsub(y)),
            Mul => map2(a, b, |x: T, y: T| x.wmul(y)),
            Max => map2(a, b, |x: T, y: T| if x > y { x } else { y }),
            Min => map2(a, b, |x: T, y: T| if x < y { x } else { y }),
            FloorDiv => map2(a, b, |x: T, y: T| x.floordiv(y)),
            Rem => map2(a, b, |x: T, y: T| x.rem(y)),
            Pow => map2(a, b, |x: T, y: T| x.pow(y)),
            Div | Atan2 | Hypot | LogAddExp | LogAddExp2 | Xlogy | Xlog1py => {
                type_err!("{} needs float inputs", self.name())
            }
        }
    }
}

/// `x ** y` as C's pow (what NumPy gives); f32 goes through f64 so the
/// result is correctly rounded. Common exponents never get here (see `pow`).
#[inline(always)]
fn pow_float<T: Float>(x: T, y: T) -> T {
    T::c(x.to_f64().powf(y.to_f64()))
}

/// `sqrt(x^2 + y^2)` without overflow or underflow on the way: the larger
/// magnitude scaled out. An infinite argument gives +inf even with a NaN (as C's
/// `hypot`); the error is within 2 ulp.
#[inline(always)]
fn hypot_of<T: Float>(x: T, y: T) -> T {
    let (a, b) = (x.abs(), y.abs());
    let (big, small) = if a > b { (a, b) } else { (b, a) };
    let r = small / big;
    let h = big * (T::ONE + r * r).sqrt();
    if a == T::c(f64::INFINITY) || b == T::c(f64::INFINITY) {
        T::c(f64::INFINITY)
    } else if big == T::ZERO {
        T::ZERO
    } else if a.is_nan() || b.is_nan() {
        T::c(f64::NAN)
    } else {
        h
    }
}

/// `ln(e^x + e^y)` as `max + ln1p(e^-|x - y|)` (no overflow); equal arguments
/// (infinities included) give `x + ln 2`; a NaN gives NaN.
#[inline(always)]
fn logaddexp_of<T: Float>(x: T, y: T) -> T {
    let m = if x > y { x } else { y };
    let r = m + T::ln1p(T::exp(-(x - y).abs()));
    if x == y {
        x + T::c(std::f64::consts::LN_2)
    } else if x.is_nan() {
        x
    } else {
        r
    }
}

/// `log2(2^x + 2^y)` as `max + ln1p(2^-|x - y|) / ln 2`, as [`logaddexp_of`].
#[inline(always)]
fn logaddexp2_of<T: Float>(x: T, y: T) -> T {
    let m = if x > y { x } else { y };
    let r = m + T::ln1p(T::exp2(-(x - y).abs())) * T::c(std::f64::consts::LOG2_E);
    if x == y {
        x + T::ONE
    } else if x.is_nan() {
        x
    } else {
        r
    }
}

/// NumPy's float `divmod` (npy_divmod): the remainder from `fmod` (exact) moved to
/// the sign of the divisor, the quotient `(x - rem) / y` rounded to an integer.
#[inline(always)]
fn divmod<T: Float>(x: T, y: T) -> (T, T) {
    let m = x.fmod(y);
    if y == T::ZERO {
        return (x / y, m);
    }
    let mut div = (x - m) / y;
    let mut rem = m;
    if m != T::ZERO {
        if (y < T::ZERO) != (m < T::ZERO) {
            rem = m + y;
            div = div - T::ONE;
        }
    } else {
        rem = if y < T::ZERO { -T::ZERO } else { T::ZERO };
    }
    let q = if div != T::ZERO {
        let f = div.floor();
        if div - f > T::c(0.5) {
            f + T::ONE
        } else {
            f
        }
    } else if (x < T::ZERO) != (y < T::ZERO) {
        -T::ZERO
    } else {
        T::ZERO
    };
    (q, rem)
}

impl Family for BinaryOp {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (a, b) = (inputs[0], inputs[1]);
        match a.dtype() {
            DType::F32 => self.eval_float::<f32>(a, b),
            DType::F64 => self.eval_float::<f64>(a, b),
            DType::I32 => self.eval_int::<i32>(a, b),
            DType::I64 => self.eval_int::<i64>(a, b),
            DType::Bool => match self {
                BinaryOp::Add | BinaryOp::Max => map2(a, b, |x: bool, y: bool| x | y),
                BinaryOp::Mul | BinaryOp::Min => map2(a, b, |x: bool, y: bool| x & y),
                _ => type_err!("{} is not supported for bool arrays", self.name()),
            },
        }
    }

    fn jvp(&self, p: &[Value], t: &[Option<Value>], out: &Value) -> Result<Option<Value>> {
        let (da, db) = self.partials(&p[0], &p[1], out, t[0].is_some(), t[1].is_some())?;
        let r = add_opt(da.apply(t[0].as_ref())?, db.apply(t[1].as_ref())?)?;
        r.map(|t| broadcast_if_needed(t, &out.shape())).transpose()
    }

    fn vjp(&self, p: &[Value], out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        let (a, b) = (&p[0], &p[1]);
        let (da, db) = self.partials(a, b, out, needs[0], needs[1])?;
        let ga = da.apply(needs[0].then_some(ct))?;
        let gb = db.apply(needs[1].then_some(ct))?;
        Ok(smallvec::smallvec![
            ga.map(|g| reduce_to_shape(g, &a.shape())).transpose()?,
            gb.map(|g| reduce_to_shape(g, &b.shape())).transpose()?
        ])
    }

    fn batch(&self, v: &[Value], b: &[bool], _size: usize) -> Result<(Value, bool)> {
        batch_elementwise(&Prim::Binary(*self), v, b)
    }

    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        crate::ops::sparsity::elementwise(p, d, out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// A partial derivative of a binary op, kept symbolic where it is a constant
/// (so `a + b` costs no multiply, and a zero costs nothing at all).
enum Partial {
    Zero,
    One,
    MinusOne,
    /// The tangent times this value.
    Times(Value),
    /// The tangent divided by this value (`x / b`: one division, not two ops).
    Over(Value),
}

impl Partial {
    /// `t` times the partial (`None`: a zero tangent or cotangent).
    fn apply(&self, t: Option<&Value>) -> Result<Option<Value>> {
        let Some(t) = t else { return Ok(None) };
        Ok(match self {
            Partial::Zero => None,
            Partial::One => Some(t.clone()),
            Partial::MinusOne => Some(crate::ops::unary::neg(t)?),
            Partial::Times(d) => Some(mul(t, d)?),
            Partial::Over(d) => Some(div(t, d)?),
        })
    }
}

impl BinaryOp {
    /// (∂out/∂a, ∂out/∂b), one row per op: the JVP and the VJP both read this
    /// table, and a new op without a row does not compile. A partial that is
    /// not wanted may be given as `Zero` (it is never applied).
    fn partials(
        self,
        a: &Value,
        b: &Value,
        out: &Value,
        want_a: bool,
        want_b: bool,
    ) -> Result<(Partial, Partial)> {
        use BinaryOp::*;
        use Partial::*;
        let c = |v: f64| scalar_like(a, v);
        let when = |want: bool, f: &dyn Fn() -> Result<Partial>| if want { f() } else { Ok(Zero) };
        Ok(match self {
            Add => (One, One),
            Sub => (One, MinusOne),
            Mul => (
                when(want_a, &|| Ok(Times(b.clone())))?,
                when(want_b, &|| Ok(Times(a.clone())))?,
            ),
            // d/db (a / b) = -out / b
            Div => (
                Over(b.clone()),
                when(want_b, &|| {
                    Ok(Times(crate::ops::unary::neg(&div(out, b)?)?))
                })?,
            ),
            Pow => (
                // b * a**(b-1), taken as 0 where b == 0 (JAX's convention)
                when(want_a, &|| {
                    let d = mul(b, &pow(a, &sub(b, &c(1.0))?)?)?;
                    Ok(Times(where_(
                        &compare(CompareOp::Eq, b, &c(0.0))?,
                        &c(0.0),
                        &d,
                    )?))
                })?,
                // out * log(a), with log(0) replaced by 0 so that 0**b is smooth
                when(want_b, &|| {
                    let is0 = compare(CompareOp::Eq, a, &c(0.0))?;
                    let safe = where_(&is0, &c(1.0), a)?;
                    Ok(Times(where_(&is0, &c(0.0), &mul(out, &log(&safe)?)?)?))
                })?,
            ),
            Max | Min => {
                // Ties split the derivative evenly, as in JAX.
                let wins = compare(
                    if self == Max {
                        CompareOp::Gt
                    } else {
                        CompareOp::Lt
                    },
                    a,
                    b,
                )?;
                let ties = compare(CompareOp::Eq, a, b)?;
                let da = where_(&wins, &c(1.0), &where_(&ties, &c(0.5), &c(0.0))?)?;
                let db = sub(&c(1.0), &da)?;
                (Times(da), Times(db))
            }
            Atan2 => {
                let den = add(&mul(a, a)?, &mul(b, b)?)?;
                (
                    when(want_a, &|| Ok(Times(div(b, &den)?)))?,
                    when(want_b, &|| {
                        Ok(Times(crate::ops::unary::neg(&div(a, &den)?)?))
                    })?,
                )
            }
            // x / h and y / h, taken as 0 where h == 0 (the cone's apex)
            Hypot => {
                let is0 = compare(CompareOp::Eq, out, &c(0.0))?;
                let safe = where_(&is0, &c(1.0), out)?;
                let part = |v: &Value| -> Result<Partial> {
                    Ok(Times(where_(&is0, &c(0.0), &div(v, &safe)?)?))
                };
                (when(want_a, &|| part(a))?, when(want_b, &|| part(b))?)
            }
            // e^(x - out) and e^(y - out): the weights of the soft maximum
            LogAddExp => (
                when(want_a, &|| Ok(Times(exp(&sub(a, out)?)?)))?,
                when(want_b, &|| Ok(Times(exp(&sub(b, out)?)?)))?,
            ),
            LogAddExp2 => (
                when(want_a, &|| Ok(Times(exp2(&sub(a, out)?)?)))?,
                when(want_b, &|| Ok(Times(exp2(&sub(b, out)?)?)))?,
            ),
            // log(y) and x / y, as JAX (so -inf and NaN at x = y = 0)
            Xlogy => (
                when(want_a, &|| Ok(Times(log(b)?)))?,
                when(want_b, &|| Ok(Times(div(a, b)?)))?,
            ),
            Xlog1py => (
                when(want_a, &|| Ok(Times(crate::ops::unary::log1p(b)?)))?,
                when(want_b, &|| Ok(Times(div(a, &add(&c(1.0), b)?)?)))?,
            ),
            // piecewise constant: zero almost everywhere
            FloorDiv => (Zero, Zero),
            // a - b * floor(a / b)
            Rem => (
                One,
                when(want_b, &|| {
                    Ok(Times(crate::ops::unary::neg(&floor_divide(a, b)?)?))
                })?,
            ),
        })
    }
}

/// Convert two operands to their common dtype (NumPy promotion), optionally a float one.
pub fn promote(a: &Value, b: &Value, float: bool) -> Result<(Value, Value)> {
    let mut dt = DType::promote(a.dtype(), b.dtype());
    if float {
        dt = dt.to_float();
    }
    let ca = if a.dtype() == dt {
        a.clone()
    } else {
        convert(a, dt)?
    };
    let cb = if b.dtype() == dt {
        b.clone()
    } else {
        convert(b, dt)?
    };
    Ok((ca, cb))
}

/// Apply a binary op: NumPy's promotion, then the primitive (`power` first
/// takes its shortcuts for constant exponents, see [`pow`]).
pub fn binary(op: BinaryOp, a: &Value, b: &Value) -> Result<Value> {
    match op {
        BinaryOp::Pow => pow(a, b),
        _ => apply(op, a, b),
    }
}

/// Promote the operands as NumPy would and bind the op.
fn apply(op: BinaryOp, a: &Value, b: &Value) -> Result<Value> {
    let float = op.float_only();
    let same = a.dtype() == b.dtype() && a.dtype() != DType::Bool;
    if same && (!float || a.dtype().is_float()) {
        if let (Value::Concrete(ta), Value::Concrete(tb)) = (a, b) {
            // outside every transform: no Values to build for bind
            return eval_concrete(&Prim::Binary(op), &[ta, tb]);
        }
        return bind(&Prim::Binary(op), &[a.clone(), b.clone()]);
    }
    let (a, b) = promote(a, b, float)?;
    if a.dtype() == DType::Bool {
        match op {
            BinaryOp::Sub => {
                return type_err!("numpy boolean subtract, the `-` operator, is not supported")
            }
            // NumPy computes these on bools as small integers (int8); int32 is
            // ferrax's smallest integer dtype.
            BinaryOp::FloorDiv | BinaryOp::Rem | BinaryOp::Pow => {
                let (a, b) = (convert(&a, DType::I32)?, convert(&b, DType::I32)?);
                return bind(&Prim::Binary(op), &[a, b]);
            }
            _ => {}
        }
    }
    bind(&Prim::Binary(op), &[a, b])
}

/// `a - b` (short name used throughout the rules).
pub fn sub(a: &Value, b: &Value) -> Result<Value> {
    apply(BinaryOp::Sub, a, b)
}
/// `a * b`.
pub fn mul(a: &Value, b: &Value) -> Result<Value> {
    apply(BinaryOp::Mul, a, b)
}
/// `a / b`.
pub fn div(a: &Value, b: &Value) -> Result<Value> {
    apply(BinaryOp::Div, a, b)
}

/// `a ** b`. Integer arrays to negative integer powers are refused, as in NumPy.
/// A constant exponent of 2, 1 or 0.5 takes the exact and vectorised route
/// (`square`, identity, `sqrt`): same values and derivatives as the general rule.
pub fn pow(a: &Value, b: &Value) -> Result<Value> {
    if let Some(bc) = b.as_concrete() {
        // only when the exponent does not promote the result (float32 ** int32 is float64)
        let same = DType::promote(a.dtype(), b.dtype()) == a.dtype();
        if bc.ndim() == 0 && a.dtype().is_float() && same {
            let e = bc.item_f64()?;
            use crate::ops::unary::{reciprocal, rsqrt, sqrt, square};
            match e {
                1.0 => return Ok(a.clone()),
                2.0 => return square(a),
                3.0 => return mul(&square(a)?, a),
                4.0 => return square(&square(a)?),
                0.5 => return sqrt(a),
                -0.5 => return rsqrt(a),
                -1.0 => return reciprocal(a),
                -2.0 => return reciprocal(&square(a)?),
                _ => {}
            }
        }
    }
    if (a.dtype().is_int() || a.dtype() == DType::Bool) && b.dtype().is_int() {
        if let Ok(bc) = b.concrete() {
            let neg =
                with_dtype!(bc.dtype(), T => bc.to_vec::<T>()?.iter().any(|v| v.to_f64() < 0.0));
            if neg {
                return Err(crate::Error::Value(
                    "Integers to negative integer powers are not allowed.".into(),
                ));
            }
        }
    }
    apply(BinaryOp::Pow, a, b)
}

/// Comparisons and logical connectives: bool results, no derivative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Xor,
}

impl Family for CompareOp {
    // For T = bool, `x < y` is NumPy's order on booleans (false < true).
    #[allow(clippy::bool_comparison)]
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        use CompareOp::*;
        let (a, b) = (inputs[0], inputs[1]);
        with_dtype!(a.dtype(), T => match self {
            Eq => map2(a, b, |x: T, y: T| x == y),
            Ne => map2(a, b, |x: T, y: T| x != y),
            Lt => map2(a, b, |x: T, y: T| x < y),
            Le => map2(a, b, |x: T, y: T| x <= y),
            Gt => map2(a, b, |x: T, y: T| x > y),
            Ge => map2(a, b, |x: T, y: T| x >= y),
            And => map2(a, b, |x: T, y: T| x != T::ZERO && y != T::ZERO),
            Or => map2(a, b, |x: T, y: T| x != T::ZERO || y != T::ZERO),
            Xor => map2(a, b, |x: T, y: T| (x != T::ZERO) != (y != T::ZERO)),
        })
    }
    fn jvp(&self, _: &[Value], _: &[Option<Value>], _: &Value) -> Result<Option<Value>> {
        Ok(None)
    }
    fn vjp(&self, _: &[Value], _: &Value, _: &Value, _: &[bool]) -> Result<Cotangents> {
        Ok(smallvec::smallvec![None, None])
    }
    fn batch(&self, v: &[Value], b: &[bool], _size: usize) -> Result<(Value, bool)> {
        batch_elementwise(&Prim::Compare(*self), v, b)
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

pub fn compare(op: CompareOp, a: &Value, b: &Value) -> Result<Value> {
    let (a, b) = if a.dtype() == b.dtype() {
        (a.clone(), b.clone())
    } else {
        promote(a, b, false)?
    };
    bind(&Prim::Compare(op), &[a, b])
}

/// `where(cond, a, b)`: `a` where `cond` is true, else `b`, all broadcast.
#[derive(Clone, Debug, PartialEq)]
pub struct Where;

impl Family for Where {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (c, a, b) = (inputs[0], inputs[1], inputs[2]);
        with_dtype!(a.dtype(), T => ternary(c, a, b, |c: bool, x: T, y: T| if c { x } else { y }))
    }
    fn jvp(&self, p: &[Value], t: &[Option<Value>], out: &Value) -> Result<Option<Value>> {
        if t[1].is_none() && t[2].is_none() {
            return Ok(None);
        }
        let zero = || zeros(&out.shape(), out.dtype());
        let ta = match &t[1] {
            Some(t) => t.clone(),
            None => zero()?,
        };
        let tb = match &t[2] {
            Some(t) => t.clone(),
            None => zero()?,
        };
        Ok(Some(broadcast_if_needed(
            where_(&p[0], &ta, &tb)?,
            &out.shape(),
        )?))
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        let z = scalar_like(ct, 0.0);
        let ga = if needs[1] {
            Some(reduce_to_shape(where_(&p[0], ct, &z)?, &p[1].shape())?)
        } else {
            None
        };
        let gb = if needs[2] {
            Some(reduce_to_shape(where_(&p[0], &z, ct)?, &p[2].shape())?)
        } else {
            None
        };
        Ok(smallvec::smallvec![None, ga, gb])
    }
    fn batch(&self, v: &[Value], b: &[bool], _size: usize) -> Result<(Value, bool)> {
        batch_elementwise(&Prim::Where(Where), v, b)
    }
    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        crate::ops::sparsity::elementwise(p, d, out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// `where(cond, a, b)` with `cond` converted to bool and `a`, `b` promoted.
pub fn where_(cond: &Value, a: &Value, b: &Value) -> Result<Value> {
    let c = if cond.dtype() == DType::Bool {
        cond.clone()
    } else {
        convert(cond, DType::Bool)?
    };
    let (a, b) = if a.dtype() == b.dtype() {
        (a.clone(), b.clone())
    } else {
        promote(a, b, false)?
    };
    bind(&Prim::Where(Where), &[c, a, b])
}

#[allow(unused)]
fn _assert_float_math<T: FloatMath>() {}

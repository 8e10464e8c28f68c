//! JAX's explicit-key random numbers (`jax.random`), bit for bit: keys are
//! pairs of 32-bit words (held as int64 arrays of shape `(..., 2)`, values
//! `0 .. 2^32`), generation is Threefry-2x32 (`kernels/random.rs`) in JAX's
//! partitionable layout, and each distribution transforms the bits as JAX's
//! does. A stack of keys (under `vmap`, or given as `(n, 2)`) draws one
//! sample per key. Draws have no derivative; the distributions built on
//! them (`uniform`'s bounds, `normal`'s...) are ordinary ops.

use crate::error::Result;
use crate::kernels::random::{draw, threefry2x32};
use crate::ops::binary::{add, compare, div, maximum, mul, sub, CompareOp};
use crate::ops::composite::{clip, expand_dims, take};
use crate::ops::creation::arange;
use crate::ops::reduce::{arg_extremum, cumsum};
use crate::ops::shape::{convert, reshape};
use crate::ops::sorting::{argsort, searchsorted};
use crate::ops::unary::{erf, erfinv, log, neg};
use crate::ops::{all_batched, scalar, scalar_like, Cotangents};
use crate::tensor::shape::fmt_shape;
use crate::tensor::{DType, Shape, Tensor};
use crate::trace::{bind, Rule, Value};
use crate::{type_err, value_err};

/// What a draw computes from each key.
#[derive(Clone, Debug, PartialEq)]
enum Draw {
    /// `shape` new keys: `(*shape, 2)`.
    Split(Shape),
    /// One key: the key folded with the 64-bit `data` (JAX's `fold_in`).
    FoldIn(u64),
    /// 32 random bits per element (as int64).
    Bits(Shape),
    /// Uniform on `[lo, hi)` in `dtype` from 32 (float32) or 64 (float64)
    /// bits: `max(lo, fma(u, hi - lo, lo))` with `u` on [0, 1), as XLA
    /// computes JAX's `u * (maxval - minval) + minval` (one rounding).
    Unit(Shape, DType, f64, f64),
    /// JAX's `randint`: `minval + offset` from two 32-bit draws (of the two
    /// halves of a split key) combined modulo `span` with `multiplier`.
    RandInt {
        shape: Shape,
        minval: i64,
        span: u64,
        multiplier: u64,
    },
}

impl Draw {
    fn shape(&self) -> Shape {
        match self {
            Draw::Split(s) => {
                let mut s = s.clone();
                s.push(2);
                s
            }
            Draw::FoldIn(_) => Shape::from_slice(&[2]),
            Draw::Bits(s) | Draw::Unit(s, ..) | Draw::RandInt { shape: s, .. } => s.clone(),
        }
    }

    /// One key's integer draw into `o`.
    fn fill_ints(&self, key: (u32, u32), o: &mut [i64]) {
        match self {
            Draw::Split(_) => {
                let mut pairs = vec![(0u32, 0u32); o.len() / 2];
                draw(key, &mut pairs, |a, b| (a, b));
                for (i, (a, b)) in pairs.into_iter().enumerate() {
                    o[2 * i] = i64::from(a);
                    o[2 * i + 1] = i64::from(b);
                }
            }
            Draw::FoldIn(d) => {
                let (a, b) = threefry2x32(key.0, key.1, (d >> 32) as u32, *d as u32);
                o[0] = i64::from(a);
                o[1] = i64::from(b);
            }
            Draw::Bits(_) => draw(key, o, |a, b| i64::from(a ^ b)),
            Draw::RandInt {
                minval,
                span,
                multiplier,
                ..
            } => {
                // the two halves of split(key, 2): counters 0 and 1
                let k1 = threefry2x32(key.0, key.1, 0, 0);
                let k2 = threefry2x32(key.0, key.1, 0, 1);
                let (span, multiplier, minval) = (*span, *multiplier, *minval);
                for_each_counter(o, |i| {
                    let hi = u64::from(word(k1, i));
                    let lo = u64::from(word(k2, i));
                    // uint32 arithmetic, wrapping as JAX's
                    let off = ((hi % span) * multiplier + (lo % span)) & 0xFFFF_FFFF;
                    minval.wrapping_add((off % span) as i64)
                });
            }
            Draw::Unit(..) => {}
        }
    }
}

/// The 32 random bits of counter `i` under `key`.
fn word(key: (u32, u32), i: usize) -> u32 {
    let (a, b) = threefry2x32(key.0, key.1, (i as u64 >> 32) as u32, i as u32);
    a ^ b
}

/// `o[i] = f(i)`, in parallel above the grain.
fn for_each_counter(o: &mut [i64], f: impl Fn(usize) -> i64 + Sync) {
    crate::kernels::parallel::for_chunks(o, |start, part| {
        for (j, v) in part.iter_mut().enumerate() {
            *v = f(start + j);
        }
    });
}

/// The draw as a rule: keys `(..., 2)` in, one draw per key out.
#[derive(Clone, Debug)]
struct RandomDraw(Draw);

impl Rule for RandomDraw {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let keys = inputs[0];
        let words = keys.to_vec::<i64>()?;
        let mut shape: Vec<usize> = keys.shape()[..keys.ndim() - 1].to_vec();
        shape.extend_from_slice(&self.0.shape());
        let n: usize = self.0.shape().iter().product();
        let keys = words.chunks_exact(2).map(|k| (k[0] as u32, k[1] as u32));
        match &self.0 {
            &Draw::Unit(_, DType::F32, lo, hi) => Tensor::build_overwrite::<f32>(&shape, |o| {
                let (lo, hi) = (lo as f32, hi as f32);
                let span = hi - lo;
                for (k, part) in keys.zip(o.chunks_mut(n.max(1))) {
                    draw(k, part, |a, b| {
                        // 23 random mantissa bits under the exponent of 1.0: [1, 2) - 1
                        let u = f32::from_bits(((a ^ b) >> 9) | 0x3F80_0000) - 1.0;
                        lo.max(u.mul_add(span, lo))
                    });
                }
            }),
            &Draw::Unit(_, _, lo, hi) => Tensor::build_overwrite::<f64>(&shape, |o| {
                let span = hi - lo;
                for (k, part) in keys.zip(o.chunks_mut(n.max(1))) {
                    draw(k, part, |a, b| {
                        let bits = (u64::from(a) << 32) | u64::from(b);
                        let u = f64::from_bits((bits >> 12) | 0x3FF0_0000_0000_0000) - 1.0;
                        lo.max(u.mul_add(span, lo))
                    });
                }
            }),
            d => Tensor::build_overwrite::<i64>(&shape, |o| {
                for (k, part) in keys.zip(o.chunks_mut(n.max(1))) {
                    d.fill_ints(k, part);
                }
            }),
        }
    }
    fn jvp(&self, _: &[Value], _: &[Option<Value>], _: &Value) -> Result<Option<Value>> {
        Ok(None)
    }
    fn vjp(&self, _: &[Value], _: &Value, _: &Value, _: &[bool]) -> Result<Cotangents> {
        Ok(smallvec::smallvec![None])
    }
    fn batch(&self, v: &[Value], b: &[bool], size: usize) -> Result<(Value, bool)> {
        // keys carry their batch axis in front: one draw per key already
        Ok((bind(self, &all_batched(v, b, size)?)?, true))
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
    fn boxed(&self) -> Box<dyn Rule> {
        Box::new(self.clone())
    }
}

/// A key array: int64 (or int32) of shape `(..., 2)` with 32-bit words.
fn check_key(key: &Value, what: &str) -> Result<Value> {
    let s = key.shape();
    if s.last() != Some(&2) || !key.dtype().is_int() {
        return type_err!(
            "{what}: expected a key (an integer array of shape (..., 2), from fx.random.key), \
             got {} of shape {}",
            key.dtype(),
            fmt_shape(&s)
        );
    }
    if key.dtype() == DType::I64 {
        Ok(key.clone())
    } else {
        convert(key, DType::I64)
    }
}

fn draw_with(key: &Value, d: Draw, what: &str) -> Result<Value> {
    let key = check_key(key, what)?;
    bind(&RandomDraw(d), &[key])
}

/// `PRNGKey(seed)`: the words `[seed >> 32, seed & 0xFFFFFFFF]` of the
/// seed (for seeds in the int32 range, as JAX's default 32-bit mode: `[0,
/// seed]`, with a negative seed's two's complement in the low word).
pub fn key(seed: i64) -> Result<Value> {
    let hi = if i32::try_from(seed).is_ok() {
        0
    } else {
        (seed as u64 >> 32) as i64
    };
    let lo = i64::from(seed as u32);
    Ok(Value::Concrete(Tensor::from_slice(&[hi, lo], &[2])?))
}

/// `shape` new keys from `key`.
pub fn split(key: &Value, shape: &[usize]) -> Result<Value> {
    draw_with(key, Draw::Split(Shape::from_slice(shape)), "split")
}

/// `key` folded with the integer `data`.
pub fn fold_in(key: &Value, data: i64) -> Result<Value> {
    // JAX converts the data to uint32 first
    draw_with(key, Draw::FoldIn(u64::from(data as u32)), "fold_in")
}

/// 32 random bits per element, as int64 values in `[0, 2^32)`.
pub fn bits(key: &Value, shape: &[usize]) -> Result<Value> {
    draw_with(key, Draw::Bits(Shape::from_slice(shape)), "bits")
}

fn float_dtype(dtype: DType, what: &str) -> Result<DType> {
    if !dtype.is_float() {
        return type_err!("{what}: dtype must be a float dtype, got {dtype}");
    }
    Ok(dtype)
}

/// Uniform on `[minval, maxval)`: JAX's `u * (maxval - minval) + minval`,
/// floored at `minval`.
pub fn uniform(
    key: &Value,
    shape: &[usize],
    dtype: DType,
    minval: &Value,
    maxval: &Value,
) -> Result<Value> {
    let dtype = float_dtype(dtype, "uniform")?;
    let (lo, hi) = (convert(minval, dtype)?, convert(maxval, dtype)?);
    let constant = |v: &Value| match v {
        Value::Concrete(t) if t.size() == 1 => t.item_f64().ok(),
        _ => None,
    };
    if let (Some(a), Some(b)) = (constant(&lo), constant(&hi)) {
        // constant bounds: scaled in the kernel, with XLA's rounding
        return draw_with(
            key,
            Draw::Unit(Shape::from_slice(shape), dtype, a, b),
            "uniform",
        );
    }
    // bounds that are arrays or traced: ordinary (differentiable) ops
    let u = draw_with(
        key,
        Draw::Unit(Shape::from_slice(shape), dtype, 0.0, 1.0),
        "uniform",
    )?;
    maximum(&lo, &add(&mul(&u, &sub(&hi, &lo)?)?, &lo)?)
}

/// `nextafter(-1, 0)` in `dtype`: the open lower end of `normal`'s uniform.
fn above_minus_one(dtype: DType) -> f64 {
    if dtype == DType::F32 {
        f64::from(f32::from_bits((-1.0f32).to_bits() - 1))
    } else {
        f64::from_bits((-1.0f64).to_bits() - 1)
    }
}

/// Standard normal samples: `√2 erfinv(u)` for `u` uniform on (-1, 1).
pub fn normal(key: &Value, shape: &[usize], dtype: DType) -> Result<Value> {
    let dtype = float_dtype(dtype, "normal")?;
    let u = uniform(
        key,
        shape,
        dtype,
        &scalar(above_minus_one(dtype), dtype),
        &scalar(1.0, dtype),
    )?;
    mul(&scalar(std::f64::consts::SQRT_2, dtype), &erfinv(&u)?)
}

/// Normal samples truncated to `[lower, upper]`, as JAX: the uniform
/// between the bounds' `erf`, through `√2 erfinv`, clipped just inside.
pub fn truncated_normal(
    key: &Value,
    lower: &Value,
    upper: &Value,
    shape: &[usize],
    dtype: DType,
) -> Result<Value> {
    let dtype = float_dtype(dtype, "truncated_normal")?;
    let sqrt2 = scalar(std::f64::consts::SQRT_2, dtype);
    let (lower, upper) = (convert(lower, dtype)?, convert(upper, dtype)?);
    let a = erf(&div(&lower, &sqrt2)?)?;
    let b = erf(&div(&upper, &sqrt2)?)?;
    let u = uniform(key, shape, dtype, &a, &b)?;
    let out = mul(&sqrt2, &erfinv(&u)?)?;
    let next = |v: &Value, up: bool| -> Result<Value> {
        // the representable neighbour towards the inside
        let t = crate::trace::stop_gradient(v)?;
        let eps = scalar(if dtype == DType::F32 { 1.2e-7 } else { 2.3e-16 }, dtype);
        let step = mul(&crate::ops::unary::abs(&t)?, &eps)?;
        let step = maximum(&step, &scalar(f64::MIN_POSITIVE, dtype))?;
        if up {
            add(&t, &step)
        } else {
            sub(&t, &step)
        }
    };
    clip(
        &out,
        Some(&next(&lower, true)?),
        Some(&next(&upper, false)?),
    )
}

/// `uniform(shape) < p`.
pub fn bernoulli(key: &Value, p: &Value, shape: &[usize]) -> Result<Value> {
    let dtype = if p.dtype().is_float() {
        p.dtype()
    } else {
        DType::F32
    };
    let u = uniform(key, shape, dtype, &scalar(0.0, dtype), &scalar(1.0, dtype))?;
    compare(CompareOp::Lt, &u, &convert(p, dtype)?)
}

/// Gumbel samples: `-log(-log(u))`, `u` uniform on `[tiny, 1)`.
pub fn gumbel(key: &Value, shape: &[usize], dtype: DType) -> Result<Value> {
    let dtype = float_dtype(dtype, "gumbel")?;
    let tiny = if dtype == DType::F32 {
        f64::from(f32::MIN_POSITIVE)
    } else {
        f64::MIN_POSITIVE
    };
    let u = uniform(key, shape, dtype, &scalar(tiny, dtype), &scalar(1.0, dtype))?;
    neg(&log(&neg(&log(&u)?)?)?)
}

/// Samples of a categorical distribution over `axis` of `logits` (the
/// Gumbel-max trick, as JAX); `shape` (default: the logits' shape without
/// `axis`) must end with that batch shape.
pub fn categorical(
    key: &Value,
    logits: &Value,
    axis: isize,
    shape: Option<&[usize]>,
) -> Result<Value> {
    let ls = logits.shape();
    if ls.is_empty() {
        return value_err!("categorical: logits must have at least one dimension");
    }
    let ax = crate::tensor::shape::normalize_axis(axis, ls.len())?;
    let batch: Vec<usize> = ls
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != ax)
        .map(|(_, &d)| d)
        .collect();
    let shape: Vec<usize> = shape.map_or_else(|| batch.clone(), <[usize]>::to_vec);
    if shape.len() < batch.len() || shape[shape.len() - batch.len()..] != batch[..] {
        return value_err!(
            "categorical: shape {} must end with the logits' batch shape {}",
            fmt_shape(&shape),
            fmt_shape(&batch)
        );
    }
    let prefix = shape.len() - batch.len();
    let mut full: Vec<usize> = shape[..prefix].to_vec();
    let mut inner = batch.clone();
    inner.insert(ax, ls[ax]);
    full.extend_from_slice(&inner);
    let dtype = if logits.dtype().is_float() {
        logits.dtype()
    } else {
        DType::F32
    };
    let g = gumbel(key, &full, dtype)?;
    let lead: Vec<isize> = (0..prefix as isize).collect();
    let l = expand_dims(&convert(logits, dtype)?, &lead)?;
    arg_extremum(&add(&g, &l)?, Some((prefix + ax) as isize), false, true)
}

/// Integers uniform on `[minval, maxval)`, by JAX's algorithm (two draws of
/// 32 bits from a split key, combined modulo the span).
pub fn randint(
    key: &Value,
    shape: &[usize],
    minval: i64,
    maxval: i64,
    dtype: DType,
) -> Result<Value> {
    if !dtype.is_int() {
        return type_err!("randint: dtype must be an integer dtype, got {dtype}");
    }
    let (lo_limit, hi_limit) = if dtype == DType::I32 {
        (i64::from(i32::MIN), i64::from(i32::MAX))
    } else {
        (i64::MIN, i64::MAX)
    };
    let max_out = maxval > hi_limit;
    let minval = minval.clamp(lo_limit, hi_limit);
    let maxval = maxval.clamp(lo_limit, hi_limit);
    // the span as uint32; 1 when the range is empty (minval is returned);
    // one more when maxval was beyond the dtype
    let mut span: u64 = (maxval.wrapping_sub(minval) as u64) & 0xFFFF_FFFF;
    if maxval <= minval {
        span = 1;
    } else if max_out {
        span = (span + 1) & 0xFFFF_FFFF;
    }
    let span = span.max(1);
    let m = (1u64 << 16) % span;
    let multiplier = (m * m) % span;
    let r = draw_with(
        key,
        Draw::RandInt {
            shape: Shape::from_slice(shape),
            minval,
            span,
            multiplier,
        },
        "randint",
    )?;
    convert(&r, dtype)
}

/// A random permutation of `0 .. n` (JAX's shuffle: rounds of a stable sort
/// by 32 random bits, as many as JAX takes for `n`).
pub fn permutation_indices(key: &Value, n: usize) -> Result<Value> {
    let rounds = ((3.0 * (n.max(1) as f64).ln()) / (u32::MAX as f64).ln()).ceil() as usize;
    let mut x = arange(0.0, n as f64, 1.0, DType::I64)?;
    let mut key = key.clone();
    for _ in 0..rounds {
        let keys = split(&key, &[2])?;
        key = take(&keys, &scalar(0.0, DType::I64), Some(-2))?;
        let sub = take(&keys, &scalar(1.0, DType::I64), Some(-2))?;
        let order = argsort(&bits(&sub, &[n])?, Some(-1), false)?;
        x = crate::ops::composite::take_along_axis(&x, &order, Some(-1))?;
    }
    Ok(x)
}

/// Samples from `0 .. n` (`replace`: with replacement; `p`: with those
/// probabilities), as JAX's `choice` draws them.
pub fn choice_indices(
    key: &Value,
    n: usize,
    shape: &[usize],
    replace: bool,
    p: Option<&Value>,
) -> Result<Value> {
    let count: usize = shape.iter().product();
    if n == 0 && count > 0 {
        return value_err!("choice: cannot take a non-empty sample from an empty population");
    }
    if !replace && count > n {
        return value_err!(
            "choice: cannot take a larger sample ({count}) than the population ({n}) when \
             replace=False"
        );
    }
    let ind = match (p, replace) {
        (None, true) => randint(key, shape, 0, n as i64, DType::I64)?,
        (None, false) => {
            let perm = permutation_indices(key, n)?;
            let first = arange(0.0, count as f64, 1.0, DType::I64)?;
            reshape(&take(&perm, &first, Some(-1))?, shape)?
        }
        (Some(p), true) => {
            let dtype = if p.dtype().is_float() {
                p.dtype()
            } else {
                DType::F32
            };
            let cum = cumsum(&convert(p, dtype)?, Some(0))?;
            let total = take(&cum, &scalar((n - 1) as f64, DType::I64), Some(0))?;
            let u = uniform(key, shape, dtype, &scalar(0.0, dtype), &scalar(1.0, dtype))?;
            let r = mul(&total, &sub(&scalar_like(&u, 1.0), &u)?)?;
            let i = searchsorted(&cum, &r, false)?;
            clip(
                &i,
                Some(&scalar(0.0, DType::I64)),
                Some(&scalar((n - 1) as f64, DType::I64)),
            )?
        }
        (Some(p), false) => {
            let dtype = if p.dtype().is_float() {
                p.dtype()
            } else {
                DType::F32
            };
            let g = add(&gumbel(key, &[n], dtype)?, &log(&convert(p, dtype)?)?)?;
            let order = argsort(&neg(&g)?, Some(-1), false)?;
            let first = arange(0.0, count as f64, 1.0, DType::I64)?;
            reshape(&take(&order, &first, Some(-1))?, shape)?
        }
    };
    Ok(ind)
}

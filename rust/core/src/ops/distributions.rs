//! `scipy.stats` distributions as JAX's `jax.scipy.stats` has them: each
//! method a composite of differentiable ops (so every argument has a
//! derivative, and `vmap` batches it), with SciPy's values outside the
//! support (`-inf` log density, 0 density, NaN quantile).

use crate::error::Result;
use crate::kernels::special::HALF_LN_2PI;
use crate::ops::binary::{add, compare, div, mul, sub, where_, xlog1py, xlogy, CompareOp};
use crate::ops::composite::{clip, expand_dims};
use crate::ops::numpy_linalg::cholesky;
use crate::ops::reduce::reduction;
use crate::ops::scipy_linalg::solve_triangular;
use crate::ops::special::{betainc, betaln, gammainc, gammaincc};
use crate::ops::unary::{
    abs, arctan, exp, expm1, floor, gammaln, log, log1p, log_ndtr, logit, ndtr, ndtri, neg,
    sigmoid, square, tan,
};
use crate::ops::{scalar_like, ReduceOp};
use crate::tensor::shape::fmt_shape;
use crate::trace::Value;
use crate::value_err;
use std::f64::consts::PI;

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident => $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($var),*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),*];

            pub fn name(self) -> &'static str {
                match self {
                    $($name::$var => $s),*
                }
            }

            pub fn parse(s: &str) -> Result<Self> {
                match s {
                    $($s => Ok($name::$var),)*
                    _ => value_err!("unknown {} {s:?}", stringify!($name).to_lowercase()),
                }
            }
        }
    };
}

named_enum!(
    /// The distributions.
    Distribution {
        Norm => "norm",
        MultivariateNormal => "multivariate_normal",
        T => "t",
        Cauchy => "cauchy",
        Laplace => "laplace",
        Logistic => "logistic",
        Expon => "expon",
        Gamma => "gamma",
        Beta => "beta",
        Dirichlet => "dirichlet",
        Uniform => "uniform",
        Poisson => "poisson",
        Bernoulli => "bernoulli",
        Binom => "binom",
    }
);

named_enum!(
    /// What is evaluated.
    Method {
        Logpdf => "logpdf",
        Pdf => "pdf",
        Logpmf => "logpmf",
        Pmf => "pmf",
        Cdf => "cdf",
        Logcdf => "logcdf",
        Sf => "sf",
        Logsf => "logsf",
        Ppf => "ppf",
        Isf => "isf",
        Entropy => "entropy",
    }
);

impl Distribution {
    /// The arguments of every method, in order, with their defaults (the
    /// first is the point `x` or `k`, or the probability `q` of `ppf`/`isf`).
    pub fn arguments(self) -> &'static [(&'static str, Option<f64>)] {
        use Distribution::*;
        const LOC: (&str, Option<f64>) = ("loc", Some(0.0));
        const SCALE: (&str, Option<f64>) = ("scale", Some(1.0));
        match self {
            Norm | Cauchy | Laplace | Logistic | Expon | Uniform => &[("x", None), LOC, SCALE],
            MultivariateNormal => &[("x", None), ("mean", None), ("cov", None)],
            T => &[("x", None), ("df", None), LOC, SCALE],
            Gamma => &[("x", None), ("a", None), LOC, SCALE],
            Beta => &[("x", None), ("a", None), ("b", None), LOC, SCALE],
            Dirichlet => &[("x", None), ("alpha", None)],
            Poisson => &[("k", None), ("mu", None), LOC],
            Bernoulli => &[("k", None), ("p", None), LOC],
            Binom => &[("k", None), ("n", None), ("p", None), LOC],
        }
    }

    /// The methods it has (JAX's set).
    pub fn methods(self) -> &'static [Method] {
        use Distribution::*;
        use Method::*;
        match self {
            Norm | Cauchy => &[Logpdf, Pdf, Cdf, Logcdf, Sf, Logsf, Ppf, Isf],
            MultivariateNormal | T | Dirichlet => &[Logpdf, Pdf],
            Laplace => &[Logpdf, Pdf, Cdf],
            Logistic => &[Logpdf, Pdf, Cdf, Sf, Ppf, Isf],
            Expon => &[Logpdf, Pdf, Cdf, Logcdf, Sf, Logsf, Ppf],
            Gamma | Beta => &[Logpdf, Pdf, Cdf, Logcdf, Sf, Logsf],
            Uniform => &[Logpdf, Pdf, Cdf, Ppf],
            Poisson => &[Logpmf, Pmf, Cdf, Entropy],
            Bernoulli => &[Logpmf, Pmf, Cdf, Ppf],
            Binom => &[Logpmf, Pmf],
        }
    }
}

/// `dist.method(*args)`: the arguments in the order of
/// [`Distribution::arguments`], already in a common float dtype.
pub fn evaluate(dist: Distribution, method: Method, args: &[Value]) -> Result<Value> {
    if !dist.methods().contains(&method) {
        return value_err!(
            "scipy.stats.{} has no method {}",
            dist.name(),
            method.name()
        );
    }
    // entropy takes the parameters only (no point)
    let want = &dist.arguments()[usize::from(method == Method::Entropy)..];
    if args.len() != want.len() {
        return value_err!(
            "{}.{} takes {} arguments ({}), got {}",
            dist.name(),
            method.name(),
            want.len(),
            want.iter().map(|w| w.0).collect::<Vec<_>>().join(", "),
            args.len()
        );
    }
    let a = args;
    // the densities and masses come from their logs
    let (log_method, exp_it) = match method {
        Method::Pdf => (Method::Logpdf, true),
        Method::Pmf => (Method::Logpmf, true),
        m => (m, false),
    };
    let r = match dist {
        Distribution::Norm => norm(log_method, &a[0], &a[1], &a[2]),
        Distribution::MultivariateNormal => multivariate_normal(&a[0], &a[1], &a[2]),
        Distribution::T => t(&a[0], &a[1], &a[2], &a[3]),
        Distribution::Cauchy => cauchy(log_method, &a[0], &a[1], &a[2]),
        Distribution::Laplace => laplace(log_method, &a[0], &a[1], &a[2]),
        Distribution::Logistic => logistic(log_method, &a[0], &a[1], &a[2]),
        Distribution::Expon => expon(log_method, &a[0], &a[1], &a[2]),
        Distribution::Gamma => gamma(log_method, &a[0], &a[1], &a[2], &a[3]),
        Distribution::Beta => beta(log_method, &a[0], &a[1], &a[2], &a[3], &a[4]),
        Distribution::Dirichlet => dirichlet(&a[0], &a[1]),
        Distribution::Uniform => uniform(log_method, &a[0], &a[1], &a[2]),
        Distribution::Poisson if method == Method::Entropy => poisson_entropy(&a[0]),
        Distribution::Poisson => poisson(log_method, &a[0], &a[1], &a[2]),
        Distribution::Bernoulli => bernoulli(log_method, &a[0], &a[1], &a[2]),
        Distribution::Binom => binom(&a[0], &a[1], &a[2], &a[3]),
    }?;
    if exp_it {
        exp(&r)
    } else {
        Ok(r)
    }
}

fn c(like: &Value, v: f64) -> Value {
    scalar_like(like, v)
}

fn lt(a: &Value, b: &Value) -> Result<Value> {
    compare(CompareOp::Lt, a, b)
}

fn gt(a: &Value, b: &Value) -> Result<Value> {
    compare(CompareOp::Gt, a, b)
}

fn or(a: &Value, b: &Value) -> Result<Value> {
    compare(CompareOp::Or, a, b)
}

/// `(x - loc) / scale`.
fn standardize(x: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    div(&sub(x, loc)?, scale)
}

/// `q` outside [0, 1] (or NaN there) gives NaN.
fn nan_outside_unit(q: &Value, r: &Value) -> Result<Value> {
    let bad = or(&lt(q, &c(q, 0.0))?, &gt(q, &c(q, 1.0))?)?;
    where_(&bad, &c(r, f64::NAN), r)
}

fn norm(m: Method, x: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    if matches!(m, Method::Ppf | Method::Isf) {
        let z = ndtri(x)?;
        let z = if m == Method::Isf { neg(&z)? } else { z };
        return add(loc, &mul(scale, &z)?);
    }
    let z = standardize(x, loc, scale)?;
    match m {
        Method::Logpdf => sub(
            &sub(&mul(&c(&z, -0.5), &square(&z)?)?, &log(scale)?)?,
            &c(&z, HALF_LN_2PI),
        ),
        Method::Cdf => ndtr(&z),
        Method::Logcdf => log_ndtr(&z),
        Method::Sf => ndtr(&neg(&z)?),
        _ => log_ndtr(&neg(&z)?),
    }
}

fn multivariate_normal(x: &Value, mean: &Value, cov: &Value) -> Result<Value> {
    if mean.ndim() == 0 {
        let diff = sub(x, mean)?;
        // one dimension: cov is the variance
        return sub(
            &mul(&c(x, -0.5), &div(&square(&diff)?, cov)?)?,
            &mul(&c(x, 0.5), &add(&c(x, 2.0 * HALF_LN_2PI), &log(cov)?)?)?,
        );
    }
    let n = mean.shape()[mean.ndim() - 1];
    if x.ndim() == 0 || x.shape()[x.ndim() - 1] != n {
        return value_err!(
            "multivariate_normal: x of shape {} does not match the mean of shape {}",
            fmt_shape(&x.shape()),
            fmt_shape(&mean.shape())
        );
    }
    let diff = sub(x, mean)?;
    let nf = n as f64;
    let sq = |v: &Value| reduction(ReduceOp::Sum, &square(v)?, Some(&[-1]), false);
    if cov.ndim() == 0 {
        // isotropic: cov is the variance of every coordinate
        return sub(
            &mul(&c(x, -0.5), &div(&sq(&diff)?, cov)?)?,
            &mul(&c(x, nf / 2.0), &add(&c(x, 2.0 * HALF_LN_2PI), &log(cov)?)?)?,
        );
    }
    let cs = cov.shape();
    if cov.ndim() < 2 || cs[cs.len() - 2..] != [n, n] {
        return value_err!(
            "multivariate_normal: cov of shape {} must be ({n}, {n}) (with leading batch axes) \
             for a mean of shape {}",
            fmt_shape(&cs),
            fmt_shape(&mean.shape())
        );
    }
    // L Lᵀ = cov; y = L⁻¹ (x - mean); -|y|²/2 - n ln(2π)/2 - Σ ln diag L
    let l = cholesky(cov, false)?;
    let y = solve_triangular(&l, &expand_dims(&diff, &[-1])?, 0, true, false)?;
    let quad = reduction(ReduceOp::Sum, &square(&y)?, Some(&[-2, -1]), false)?;
    let logdiag = reduction(
        ReduceOp::Sum,
        &log(&crate::ops::contract::diagonal(&l, 0, -2, -1)?)?,
        Some(&[-1]),
        false,
    )?;
    sub(
        &sub(&mul(&c(x, -0.5), &quad)?, &c(x, nf * HALF_LN_2PI))?,
        &logdiag,
    )
}

fn t(x: &Value, df: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    let z = standardize(x, loc, scale)?;
    let half = |v: &Value| mul(v, &c(v, 0.5));
    let dfp1 = add(df, &c(df, 1.0))?;
    let norm_const = sub(
        &sub(&gammaln(&half(&dfp1)?)?, &gammaln(&half(df)?)?)?,
        &half(&log(&mul(df, &c(df, PI))?)?)?,
    )?;
    let tail = mul(&half(&dfp1)?, &log1p(&div(&square(&z)?, df)?)?)?;
    sub(&sub(&norm_const, &log(scale)?)?, &tail)
}

fn cauchy(m: Method, x: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    if matches!(m, Method::Ppf | Method::Isf) {
        let centred = if m == Method::Ppf {
            sub(x, &c(x, 0.5))?
        } else {
            sub(&c(x, 0.5), x)?
        };
        let z = tan(&mul(&c(x, PI), &centred)?)?;
        return nan_outside_unit(x, &add(loc, &mul(scale, &z)?)?);
    }
    let z = standardize(x, loc, scale)?;
    let cdf = |z: &Value| add(&c(z, 0.5), &div(&arctan(z)?, &c(z, PI))?);
    match m {
        Method::Logpdf => sub(
            &sub(&neg(&log1p(&square(&z)?)?)?, &log(scale)?)?,
            &c(&z, PI.ln()),
        ),
        Method::Cdf => cdf(&z),
        Method::Logcdf => log(&cdf(&z)?),
        Method::Sf => cdf(&neg(&z)?),
        _ => log(&cdf(&neg(&z)?)?),
    }
}

fn laplace(m: Method, x: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    let z = standardize(x, loc, scale)?;
    match m {
        Method::Logpdf => sub(&neg(&abs(&z)?)?, &log(&mul(&c(&z, 2.0), scale)?)?),
        // ½e^z below the centre, 1 - ½e^-z above
        _ => {
            let half_exp = |v: &Value| mul(&c(v, 0.5), &exp(v)?);
            let below = half_exp(&z)?;
            let above = sub(&c(&z, 1.0), &half_exp(&neg(&z)?)?)?;
            where_(&lt(&z, &c(&z, 0.0))?, &below, &above)
        }
    }
}

fn logistic(m: Method, x: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    if matches!(m, Method::Ppf | Method::Isf) {
        let z = logit(x)?;
        let z = if m == Method::Isf { neg(&z)? } else { z };
        return add(loc, &mul(scale, &z)?);
    }
    let z = standardize(x, loc, scale)?;
    match m {
        // -z - 2 ln(1 + e^-z) = -2 logaddexp(z/2, -z/2)
        Method::Logpdf => {
            let h = mul(&z, &c(&z, 0.5))?;
            sub(
                &mul(&c(&z, -2.0), &crate::ops::binary::logaddexp(&h, &neg(&h)?)?)?,
                &log(scale)?,
            )
        }
        Method::Cdf => sigmoid(&z),
        _ => sigmoid(&neg(&z)?),
    }
}

fn expon(m: Method, x: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    if m == Method::Ppf {
        let r = sub(loc, &mul(scale, &log1p(&neg(x)?)?)?)?;
        return nan_outside_unit(x, &r);
    }
    let z = standardize(x, loc, scale)?;
    let below = lt(&z, &c(&z, 0.0))?;
    let (outside, inside) = match m {
        Method::Logpdf => (f64::NEG_INFINITY, sub(&neg(&z)?, &log(scale)?)?),
        Method::Cdf => (0.0, neg(&expm1(&neg(&z)?)?)?),
        Method::Logcdf => (f64::NEG_INFINITY, log(&neg(&expm1(&neg(&z)?)?)?)?),
        Method::Sf => (1.0, exp(&neg(&z)?)?),
        _ => (0.0, neg(&z)?),
    };
    where_(&below, &c(&z, outside), &inside)
}

fn gamma(m: Method, x: &Value, a: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    let y = standardize(x, loc, scale)?;
    let zero = c(&y, 0.0);
    if m == Method::Logpdf {
        let lp = sub(
            &sub(&sub(&xlogy(&sub(a, &c(a, 1.0))?, &y)?, &y)?, &gammaln(a)?)?,
            &log(scale)?,
        )?;
        return where_(&lt(&y, &zero)?, &c(&y, f64::NEG_INFINITY), &lp);
    }
    let y = clip(&y, Some(&zero), None)?;
    match m {
        Method::Cdf => gammainc(a, &y),
        Method::Logcdf => log(&gammainc(a, &y)?),
        Method::Sf => gammaincc(a, &y),
        _ => log(&gammaincc(a, &y)?),
    }
}

fn beta(m: Method, x: &Value, a: &Value, b: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    let y = standardize(x, loc, scale)?;
    let (zero, one) = (c(&y, 0.0), c(&y, 1.0));
    if m == Method::Logpdf {
        let lp = sub(
            &sub(
                &add(
                    &xlogy(&sub(a, &c(a, 1.0))?, &y)?,
                    &xlog1py(&sub(b, &c(b, 1.0))?, &neg(&y)?)?,
                )?,
                &betaln(a, b)?,
            )?,
            &log(scale)?,
        )?;
        let outside = or(&lt(&y, &zero)?, &gt(&y, &one)?)?;
        return where_(&outside, &c(&y, f64::NEG_INFINITY), &lp);
    }
    let y = clip(&y, Some(&zero), Some(&one))?;
    match m {
        Method::Cdf => betainc(a, b, &y),
        Method::Logcdf => log(&betainc(a, b, &y)?),
        Method::Sf => betainc(b, a, &sub(&one, &y)?),
        _ => log(&betainc(b, a, &sub(&one, &y)?)?),
    }
}

fn dirichlet(x: &Value, alpha: &Value) -> Result<Value> {
    if alpha.ndim() != 1 {
        return value_err!(
            "dirichlet: alpha must be one-dimensional, got shape {}",
            fmt_shape(&alpha.shape())
        );
    }
    let k = alpha.shape()[0];
    let xs = x.shape();
    if x.ndim() == 0 || (xs[0] != k && xs[0] + 1 != k) {
        return value_err!(
            "dirichlet: x of shape {} must have {k} or {} entries along its first axis for \
             alpha of shape ({k},)",
            fmt_shape(&xs),
            k.saturating_sub(1)
        );
    }
    let x = if xs[0] + 1 == k {
        // the last component is 1 - the sum of the others
        let rest = sub(&c(x, 1.0), &reduction(ReduceOp::Sum, x, Some(&[0]), true)?)?;
        crate::ops::shape::concatenate(&[x.clone(), rest], 0)?
    } else {
        x.clone()
    };
    // alpha along the first axis of x
    let mut shape = crate::tensor::Shape::from_slice(&[k]);
    shape.extend(std::iter::repeat_n(1, x.ndim() - 1));
    let alpha_col = crate::ops::shape::reshape(alpha, &shape)?;
    let normalizer = sub(
        &reduction(ReduceOp::Sum, &gammaln(alpha)?, None, false)?,
        &gammaln(&reduction(ReduceOp::Sum, alpha, None, false)?)?,
    )?;
    let sum0 = |v: &Value| reduction(ReduceOp::Sum, v, Some(&[0]), false);
    let lp = sub(
        &sum0(&xlogy(&sub(&alpha_col, &c(alpha, 1.0))?, &x)?)?,
        &normalizer,
    )?;
    // on the simplex: every component >= 0 and the sum within 1e-6 of 1
    let min0 = reduction(ReduceOp::Min, &x, Some(&[0]), false)?;
    let sum_off = abs(&sub(&sum0(&x)?, &c(&x, 1.0))?)?;
    let outside = or(
        &lt(&min0, &c(&x, 0.0))?,
        &compare(CompareOp::Ge, &sum_off, &c(&x, 1e-6))?,
    )?;
    where_(&outside, &c(&lp, f64::NEG_INFINITY), &lp)
}

fn uniform(m: Method, x: &Value, loc: &Value, scale: &Value) -> Result<Value> {
    match m {
        Method::Ppf => nan_outside_unit(x, &add(loc, &mul(x, scale)?)?),
        Method::Cdf => {
            let z = standardize(x, loc, scale)?;
            clip(&z, Some(&c(&z, 0.0)), Some(&c(&z, 1.0)))
        }
        _ => {
            // 0 − log(scale), not −log(scale): +0.0 at scale 1, as SciPy
            let lp = sub(&c(scale, 0.0), &log(scale)?)?;
            let outside = or(&lt(x, loc)?, &gt(x, &add(loc, scale)?)?)?;
            where_(&outside, &c(x, f64::NEG_INFINITY), &lp)
        }
    }
}

fn poisson(m: Method, k: &Value, mu: &Value, loc: &Value) -> Result<Value> {
    let x = sub(k, loc)?;
    let below = lt(&x, &c(&x, 0.0))?;
    if m == Method::Cdf {
        let p = gammaincc(&add(&floor(&x)?, &c(&x, 1.0))?, mu)?;
        return where_(&below, &c(&p, 0.0), &p);
    }
    let lp = sub(
        &sub(&xlogy(&x, mu)?, &gammaln(&add(&x, &c(&x, 1.0))?)?)?,
        mu,
    )?;
    let fractional = compare(CompareOp::Ne, &floor(&x)?, &x)?;
    where_(&or(&below, &fractional)?, &c(&lp, f64::NEG_INFINITY), &lp)
}

fn bernoulli(m: Method, k: &Value, p: &Value, loc: &Value) -> Result<Value> {
    let one = c(p, 1.0);
    let bad_p = or(
        &or(&lt(p, &c(p, 0.0))?, &gt(p, &one)?)?,
        &compare(CompareOp::Ne, p, p)?,
    )?;
    match m {
        // the first argument is q
        Method::Ppf => {
            let q = k;
            // 1 above 1 - p, else 0 (q = 0 included, as JAX; SciPy gives -1 there)
            let r = add(&where_(&gt(q, &sub(&one, p)?)?, &one, &c(p, 0.0))?, loc)?;
            let r = where_(&bad_p, &c(&r, f64::NAN), &r)?;
            nan_outside_unit(q, &r)
        }
        Method::Cdf => {
            let x = sub(k, loc)?;
            let r = where_(
                &lt(&x, &c(&x, 0.0))?,
                &c(p, 0.0),
                &where_(&lt(&x, &c(&x, 1.0))?, &sub(&one, p)?, &one)?,
            )?;
            where_(
                &or(&bad_p, &compare(CompareOp::Ne, &x, &x)?)?,
                &c(p, f64::NAN),
                &r,
            )
        }
        _ => {
            let x = sub(k, loc)?;
            let lp = add(&xlogy(&x, p)?, &xlog1py(&sub(&c(&x, 1.0), &x)?, &neg(p)?)?)?;
            let outside = or(&lt(&x, &c(&x, 0.0))?, &gt(&x, &c(&x, 1.0))?)?;
            where_(&outside, &c(&lp, f64::NEG_INFINITY), &lp)
        }
    }
}

fn binom(k: &Value, n: &Value, p: &Value, loc: &Value) -> Result<Value> {
    let y = sub(k, loc)?;
    let one = c(&y, 1.0);
    let comb = sub(
        &sub(&gammaln(&add(n, &one)?)?, &gammaln(&add(&y, &one)?)?)?,
        &gammaln(&add(&sub(n, &y)?, &one)?)?,
    )?;
    let lin = add(&xlogy(&y, p)?, &xlog1py(&sub(n, &y)?, &neg(p)?)?)?;
    let lp = add(&comb, &lin)?;
    let inside = compare(
        CompareOp::And,
        &compare(CompareOp::Ge, &y, &c(&y, 0.0))?,
        &compare(CompareOp::Le, &y, n)?,
    )?;
    where_(&inside, &lp, &c(&lp, f64::NEG_INFINITY))
}

/// The entropy of Poisson(μ): `μ - μ ln μ + Σ_k p(k) ln k!`, summed over
/// every `k` with a non-negligible mass (up to `μ + 12√μ + 40` for the
/// largest μ), and by Stirling's series `½ ln(2πeμ) - 1/(12μ) - 1/(24μ²) -
/// 19/(360μ³)` above μ = 500, where the series is exact to ~1e-12 and the
/// sum's cancellation (`μ ln μ` against the sum) would cost digits. NaN for
/// μ < 0, 0 at μ = 0. Differentiable in μ.
fn poisson_entropy(mu: &Value) -> Result<Value> {
    const LARGE: f64 = 500.0;
    let m = mu.physical()?;
    let top = if m.size() == 0 {
        0.0
    } else {
        reduction(
            ReduceOp::Max,
            &crate::ops::shape::convert(&Value::Concrete(m), crate::tensor::DType::F64)?,
            None,
            false,
        )?
        .concrete()?
        .item_f64()?
    };
    let top = if top.is_finite() {
        top.min(LARGE)
    } else {
        LARGE
    };
    let kmax = (top + 12.0 * top.max(0.0).sqrt() + 40.0).ceil();
    let k = crate::ops::creation::arange(0.0, kmax, 1.0, mu.dtype())?;
    // μ on a new last axis against k
    let safe = where_(&gt(mu, &c(mu, LARGE))?, &c(mu, 1.0), mu)?;
    let mk = expand_dims(&safe, &[-1])?;
    let lfact = gammaln(&add(&k, &c(&k, 1.0))?)?;
    let logp = sub(&sub(&xlogy(&k, &mk)?, &mk)?, &lfact)?;
    let series = reduction(
        ReduceOp::Sum,
        &mul(&exp(&logp)?, &lfact)?,
        Some(&[-1]),
        false,
    )?;
    let direct = add(&sub(&safe, &xlogy(&safe, &safe)?)?, &series)?;
    let big = where_(&gt(mu, &c(mu, LARGE))?, mu, &c(mu, LARGE))?;
    let inv = div(&c(mu, 1.0), &big)?;
    let stirling = sub(
        &mul(
            &c(mu, 0.5),
            &log(&mul(&c(mu, 2.0 * PI * std::f64::consts::E), &big)?)?,
        )?,
        &mul(
            &inv,
            &add(
                &c(mu, 1.0 / 12.0),
                &mul(
                    &inv,
                    &add(&c(mu, 1.0 / 24.0), &mul(&inv, &c(mu, 19.0 / 360.0))?)?,
                )?,
            )?,
        )?,
    )?;
    let h = where_(&gt(mu, &c(mu, LARGE))?, &stirling, &direct)?;
    let h = where_(&compare(CompareOp::Eq, mu, &c(mu, 0.0))?, &c(mu, 0.0), &h)?;
    where_(&lt(mu, &c(mu, 0.0))?, &c(mu, f64::NAN), &h)
}

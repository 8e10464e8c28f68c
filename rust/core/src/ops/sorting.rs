//! Sorting and searching: the order primitives (`argsort` along the last
//! axis, `searchsorted` of values in sorted rows), which carry no derivative,
//! and what is composed from them: `sort` (a gather by the order, so its
//! derivative routes each cotangent to the element that moved there),
//! `quantile`, `percentile`, `median` (linear interpolation between sorted
//! neighbours, NumPy's default), `interp`.

use std::cmp::Ordering;

use crate::error::Result;
use crate::ops::binary::{add, compare, mul, sub, where_};
use crate::ops::composite::{moveaxis, take_along_axis};
use crate::ops::reduce::{reduction, ReduceOp};
use crate::ops::shape::{broadcast_to, convert, reshape};
use crate::ops::unary::{floor, isnan};
use crate::ops::{all_batched, scalar_like, CompareOp, Cotangents, Family, Prim};
use crate::tensor::shape::{fmt_shape, normalize_axis};
use crate::tensor::{DType, Element, Tensor};
use crate::trace::{bind, Value};
use crate::value_err;

/// The order primitives (no derivative).
#[derive(Clone, Debug, PartialEq)]
pub enum Order {
    /// Indices that sort each row (last axis) ascending, stably, NaN last (int64).
    Argsort { descending: bool },
    /// For rows `a (..., n)` sorted ascending and values `v (..., m)` of the
    /// same batch shape: where each value would be inserted to keep the row
    /// sorted (`right`: after equal entries), int64.
    SearchSorted { right: bool },
}

/// NumPy's order of floats: NaN after everything.
fn total<T: Element + PartialOrd>(a: &T, b: &T) -> Ordering {
    match a.partial_cmp(b) {
        Some(o) => o,
        None => {
            let (an, bn) = (a.to_f64().is_nan(), b.to_f64().is_nan());
            an.cmp(&bn)
        }
    }
}

fn argsort_rows<T: Element + PartialOrd>(x: &Tensor, descending: bool) -> Result<Tensor> {
    let n = *x.shape().last().unwrap_or(&1);
    let data = x.to_vec::<T>()?;
    let mut out = Vec::with_capacity(data.len());
    let mut idx: Vec<usize> = Vec::with_capacity(n);
    for row in data.chunks(n.max(1)) {
        idx.clear();
        idx.extend(0..row.len());
        if descending {
            // stable among equals, NaN first (the reverse of ascending, as NumPy's flip of argsort)
            idx.sort_by(|&i, &j| total(&row[j], &row[i]));
        } else {
            idx.sort_by(|&i, &j| total(&row[i], &row[j]));
        }
        out.extend(idx.iter().map(|&i| i as i64));
    }
    Tensor::from_slice(&out, x.shape())
}

fn search_rows<T: Element + PartialOrd>(a: &Tensor, v: &Tensor, right: bool) -> Result<Tensor> {
    let n = *a.shape().last().unwrap_or(&0);
    let m = *v.shape().last().unwrap_or(&0);
    let (ad, vd) = (a.to_vec::<T>()?, v.to_vec::<T>()?);
    let rows = vd.len().checked_div(m).unwrap_or(0);
    let mut out = Vec::with_capacity(vd.len());
    for r in 0..rows {
        let row = &ad[r * n..(r + 1) * n];
        for x in &vd[r * m..(r + 1) * m] {
            let pos = if right {
                row.partition_point(|e| total(e, x) != Ordering::Greater)
            } else {
                row.partition_point(|e| total(e, x) == Ordering::Less)
            };
            out.push(pos as i64);
        }
    }
    Tensor::from_slice(&out, v.shape())
}

impl Family for Order {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        match *self {
            Order::Argsort { descending } => {
                crate::with_dtype!(x.dtype(), T => argsort_rows::<T>(x, descending))
            }
            Order::SearchSorted { right } => {
                let v = inputs[1];
                crate::with_dtype!(x.dtype(), T => search_rows::<T>(x, v, right))
            }
        }
    }
    fn jvp(&self, _: &[Value], _: &[Option<Value>], _: &Value) -> Result<Option<Value>> {
        Ok(None)
    }
    fn vjp(&self, p: &[Value], _: &Value, _: &Value, _: &[bool]) -> Result<Cotangents> {
        Ok(p.iter().map(|_| None).collect())
    }
    fn batch(&self, v: &[Value], b: &[bool], size: usize) -> Result<(Value, bool)> {
        let args = all_batched(v, b, size)?;
        Ok((bind(&Prim::Order(self.clone()), &args)?, true))
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

/// `x` with `axis` last (`None`: flattened), and that axis.
fn along(x: &Value, axis: Option<isize>) -> Result<(Value, Option<usize>)> {
    match axis {
        None => Ok((reshape(x, &[x.size()])?, None)),
        Some(a) => {
            let ax = normalize_axis(a, x.ndim().max(1))?;
            if x.ndim() == 0 {
                return Ok((reshape(x, &[1])?, None));
            }
            Ok((moveaxis(x, &[ax as isize], &[-1])?, Some(ax)))
        }
    }
}

fn back(r: Value, ax: Option<usize>) -> Result<Value> {
    match ax {
        None => Ok(r),
        Some(a) => moveaxis(&r, &[-1], &[a as isize]),
    }
}

/// Indices that sort `x` along `axis` (NumPy's `argsort`; stable, NaN last).
pub fn argsort(x: &Value, axis: Option<isize>, descending: bool) -> Result<Value> {
    let (xl, ax) = along(x, axis)?;
    let r = bind(&Prim::Order(Order::Argsort { descending }), &[xl])?;
    back(r, ax)
}

/// `x` sorted along `axis` (NaN last); differentiable (a gather).
pub fn sort(x: &Value, axis: Option<isize>, descending: bool) -> Result<Value> {
    let (xl, ax) = along(x, axis)?;
    let order = bind(
        &Prim::Order(Order::Argsort { descending }),
        std::slice::from_ref(&xl),
    )?;
    back(take_along_axis(&xl, &order, Some(-1))?, ax)
}

/// Where `v`'s elements go in the sorted 1-d `a` (NumPy's `searchsorted`).
pub fn searchsorted(a: &Value, v: &Value, right: bool) -> Result<Value> {
    if a.ndim() != 1 {
        return value_err!(
            "searchsorted: a must be 1-dimensional, got shape {}",
            fmt_shape(&a.shape())
        );
    }
    let (a, v) = crate::ops::binary::promote(a, v, false)?;
    let shape = v.shape();
    let flat = reshape(&v, &[v.size()])?;
    let r = bind(&Prim::Order(Order::SearchSorted { right }), &[a, flat])?;
    reshape(&r, &shape)
}

/// How `quantile` picks between the two sorted neighbours of a position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QuantileMethod {
    Linear,
    Lower,
    Higher,
    Nearest,
    Midpoint,
}

/// NumPy's `quantile` (`q` in [0, 1], any shape: it leads the result's shape),
/// along `axis` (`None`: all elements). A slice holding NaN gives NaN.
pub fn quantile(
    x: &Value,
    q: &Value,
    axis: Option<&[isize]>,
    method: QuantileMethod,
    keepdims: bool,
) -> Result<Value> {
    let x = if x.dtype().is_float() {
        x.clone()
    } else {
        convert(x, DType::F64)?
    };
    let q = convert(q, x.dtype())?;
    if let Some(qc) = q.as_concrete() {
        let bad = qc
            .to_vec::<f64>()
            .ok()
            .and_then(|v| v.into_iter().find(|&p| !(0.0..=1.0).contains(&p)));
        let bad = bad.or_else(|| {
            qc.to_vec::<f32>().ok().and_then(|v| {
                v.into_iter()
                    .map(f64::from)
                    .find(|&p| !(0.0..=1.0).contains(&p))
            })
        });
        if let Some(p) = bad {
            return value_err!("quantiles must be in the range [0, 1], got {p}");
        }
    }
    let nd = x.ndim();
    // the reduced axes moved last and flattened into one
    let axes: Vec<usize> = match axis {
        None => (0..nd).collect(),
        Some(a) => {
            let mut v = a
                .iter()
                .map(|&i| normalize_axis(i, nd))
                .collect::<Result<Vec<_>>>()?;
            v.sort_unstable();
            v.dedup();
            v
        }
    };
    let kept: Vec<usize> = (0..nd).filter(|i| !axes.contains(i)).collect();
    let mut perm = kept.clone();
    perm.extend(&axes);
    let xt = crate::ops::shape::transpose(&x, &perm)?;
    let s = xt.shape();
    let kept_shape: Vec<usize> = s[..kept.len()].to_vec();
    let n: usize = axes.iter().map(|&i| x.shape()[i]).product();
    if n == 0 {
        return value_err!("quantile of an empty slice");
    }
    let mut flat_shape = kept_shape.clone();
    flat_shape.push(n);
    let rows = reshape(&xt, &flat_shape)?;
    let sorted = sort(&rows, Some(-1), false)?;
    // positions: q * (n - 1), one per quantile, broadcast against the rows
    let pos = mul(&q, &scalar_like(&q, (n - 1) as f64))?;
    let lo_f = floor(&pos)?;
    let frac = sub(&pos, &lo_f)?;
    let (lo_f, frac) = match method {
        QuantileMethod::Linear | QuantileMethod::Midpoint => (lo_f, frac),
        QuantileMethod::Lower => {
            let z = mul(&frac, &scalar_like(&frac, 0.0))?;
            (lo_f, z)
        }
        QuantileMethod::Higher => {
            let hi = crate::ops::unary::ceil(&pos)?;
            let z = mul(&frac, &scalar_like(&frac, 0.0))?;
            (hi, z)
        }
        QuantileMethod::Nearest => {
            // NumPy rounds half to even
            let r = crate::ops::unary::rint(&pos)?;
            let z = mul(&frac, &scalar_like(&frac, 0.0))?;
            (r, z)
        }
    };
    let lo = convert(&lo_f, DType::I64)?;
    let hi = crate::ops::binary::minimum(
        &add(&lo, &scalar_like(&lo, 1.0))?,
        &scalar_like(&lo, (n - 1) as f64),
    )?;
    // gather [q..., kept..., 1] from sorted [kept..., n]: put q's axes in front
    let qn = q.ndim();
    let mut gshape: Vec<usize> = q.shape().to_vec();
    gshape.extend(std::iter::repeat_n(1, kept_shape.len()));
    gshape.push(1);
    let mut full: Vec<usize> = q.shape().to_vec();
    full.extend(&kept_shape);
    full.push(1);
    let mut src_shape: Vec<usize> = std::iter::repeat_n(1, qn).collect();
    src_shape.extend(&flat_shape);
    let src = broadcast_to(&reshape(&sorted, &src_shape)?, &{
        let mut v = q.shape().to_vec();
        v.extend(&flat_shape);
        v
    })?;
    let pick = |i: &Value| -> Result<Value> {
        let idx = broadcast_to(&reshape(i, &gshape)?, &full)?;
        let g = take_along_axis(&src, &idx, Some(-1))?;
        let gs = g.shape();
        reshape(&g, &gs[..gs.len() - 1])
    };
    let (a, b) = (pick(&lo)?, pick(&hi)?);
    let frac = reshape(&frac, &{
        let mut v = q.shape().to_vec();
        v.extend(std::iter::repeat_n(1, kept_shape.len()));
        v
    })?;
    let mut r = match method {
        QuantileMethod::Midpoint => {
            let half = scalar_like(&a, 0.5);
            let is_int = compare(CompareOp::Eq, &frac, &scalar_like(&frac, 0.0))?;
            where_(&is_int, &a, &mul(&add(&a, &b)?, &half)?)?
        }
        _ => add(&a, &mul(&sub(&b, &a)?, &frac)?)?,
    };
    // a slice holding NaN has NaN quantiles (NumPy)
    let has_nan = reduction(
        ReduceOp::Max,
        &convert(&isnan(&rows)?, DType::I64)?,
        Some(&[-1]),
        false,
    )?;
    let has_nan = compare(CompareOp::Ne, &has_nan, &scalar_like(&has_nan, 0.0))?;
    r = where_(&has_nan, &scalar_like(&r, f64::NAN), &r)?;
    if keepdims {
        let mut ks: Vec<usize> = q.shape().to_vec();
        ks.extend((0..nd).map(|i| if axes.contains(&i) { 1 } else { x.shape()[i] }));
        r = reshape(&r, &ks)?;
    }
    Ok(r)
}

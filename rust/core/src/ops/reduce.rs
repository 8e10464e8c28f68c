//! Reductions (sum, prod, max, min over axes), arg-extrema and cumulative sums.

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::kernels::reduce::{reduce as fold, MaxFold, MinFold, ProdFold, SumFold};
use crate::kernels::scan::{arg_extremum_last, cumsum_last};
use crate::ops::binary::{compare, div, mul, CompareOp};
use crate::ops::shape::{broadcast_to, convert, reshape, transpose};
use crate::ops::{scalar_like, Cotangents, Family, Prim};
use crate::tensor::shape::{fmt_shape, normalize_axes, normalize_axis};
use crate::tensor::{DType, Shape, Tensor};
use crate::trace::{bind, Value};
use crate::{type_err, with_numeric};

pub type Axes = SmallVec<[usize; 6]>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Prod,
    Max,
    Min,
}

impl ReduceOp {
    fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Max => "maximum",
            ReduceOp::Min => "minimum",
        }
    }
}

/// Reduce over `axes` (sorted, distinct), dropping them from the shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Reduce {
    pub op: ReduceOp,
    pub axes: Axes,
}

/// The shape with the reduced axes kept as 1.
fn keep_shape(shape: &[usize], axes: &[usize]) -> Shape {
    shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect()
}

/// A reduced value broadcast back over the reduced axes of `in_shape`.
fn expand_back(v: &Value, in_shape: &[usize], axes: &[usize]) -> Result<Value> {
    // Leading reduced axes (a full reduction among them) are the ones
    // broadcasting adds back by itself: no reshape to put them back as 1s.
    if axes.iter().enumerate().all(|(i, &a)| a == i) {
        return broadcast_to(v, in_shape);
    }
    broadcast_to(&reshape(v, &keep_shape(in_shape, axes))?, in_shape)
}

impl Reduce {
    /// For max/min: where `x` attains the extremum, as a float mask, and how many
    /// elements tie for it (ties share the derivative evenly, as in JAX).
    fn argmask(&self, x: &Value, out: &Value) -> Result<(Value, Value)> {
        let shape = x.shape();
        let hit = compare(CompareOp::Eq, x, &expand_back(out, &shape, &self.axes)?)?;
        let mask = convert(&hit, x.dtype())?;
        let count = sum_axes(&mask, &self.axes)?;
        Ok((mask, count))
    }

    /// ∂prod/∂x_i = the product of the other elements, as the product of the
    /// exclusive cumulative products from the left and from the right. That is
    /// a polynomial in `x` built from differentiable primitives, so it is exact
    /// with zeros present and its own derivatives (Hessians of prod) are too.
    fn prod_others(&self, x: &Value) -> Result<Value> {
        let shape = x.shape();
        let nd = shape.len();
        let kept: Axes = (0..nd).filter(|i| !self.axes.contains(i)).collect();
        let mut perm = kept.clone();
        perm.extend(self.axes.iter().copied());
        let n: usize = self.axes.iter().map(|&a| shape[a]).product();
        let mut flat_shape: Shape = kept.iter().map(|&a| shape[a]).collect();
        let m = flat_shape.len();
        flat_shape.push(n);
        let flat = reshape(&transpose(x, &perm)?, &flat_shape)?;
        let others = if n <= 1 {
            crate::ops::binary::add(&mul(&flat, &scalar_like(x, 0.0))?, &scalar_like(x, 1.0))?
        } else {
            let left = shift_in_ones(&cumprod_last(&flat)?, 1)?;
            let rev = flip(&cumprod_last(&flip(&flat, m)?)?, m)?;
            let right = flip(&shift_in_ones(&flip(&rev, m)?, 1)?, m)?;
            mul(&left, &right)?
        };
        let mut moved: Shape = kept.iter().map(|&a| shape[a]).collect();
        moved.extend(self.axes.iter().map(|&a| shape[a]));
        let inv = crate::tensor::shape::inverse_permutation(&perm);
        transpose(&reshape(&others, &moved)?, &inv)
    }
}

/// Reverse the last axis (`axis` = its index).
fn flip(x: &Value, axis: usize) -> Result<Value> {
    crate::ops::composite::flip(x, Some(&[axis as isize]))
}

/// `[1]*k ++ x[..., :n-k]` along the last axis: a shift that brings in ones.
fn shift_in_ones(x: &Value, k: usize) -> Result<Value> {
    let s = x.shape();
    let nd = s.len();
    let n = s[nd - 1];
    let mut ones_shape = s.clone();
    ones_shape[nd - 1] = k.min(n);
    let ones = Value::Concrete(Tensor::full(1.0, x.dtype(), &ones_shape)?);
    if k >= n {
        return Ok(ones);
    }
    let mut lens = s.clone();
    lens[nd - 1] = n - k;
    let kept = crate::ops::shape::slice(
        x,
        &SmallVec::<[usize; 6]>::from_elem(0, nd),
        &SmallVec::<[isize; 6]>::from_elem(1, nd),
        &lens,
    )?;
    crate::ops::shape::concatenate(&[ones, kept], -1)
}

/// Inclusive cumulative product along the last axis by a log-depth scan of
/// multiplications (Hillis–Steele), so it differentiates like any product.
fn cumprod_last(x: &Value) -> Result<Value> {
    let n = *x.shape().last().unwrap_or(&1);
    let mut y = x.clone();
    let mut k = 1;
    while k < n {
        y = mul(&y, &shift_in_ones(&y, k)?)?;
        k *= 2;
    }
    Ok(y)
}

impl Family for Reduce {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        if matches!(self.op, ReduceOp::Max | ReduceOp::Min)
            && self.axes.iter().any(|&a| x.shape()[a] == 0)
        {
            return Err(Error::Value(format!(
                "zero-size array to reduction operation {} which has no identity (shape {})",
                self.op.name(),
                fmt_shape(x.shape())
            )));
        }
        with_numeric!(x.dtype(), T => match self.op {
            ReduceOp::Sum => fold::<T, _>(x, &self.axes, SumFold),
            ReduceOp::Prod => fold::<T, _>(x, &self.axes, ProdFold),
            ReduceOp::Max => fold::<T, _>(x, &self.axes, MaxFold),
            ReduceOp::Min => fold::<T, _>(x, &self.axes, MinFold),
        }, else type_err!("{} of bool arrays: convert to int first", self.op.name()))
    }

    fn jvp(&self, p: &[Value], t: &[Option<Value>], out: &Value) -> Result<Option<Value>> {
        let Some(t) = &t[0] else { return Ok(None) };
        Ok(Some(match self.op {
            ReduceOp::Sum => sum_axes(t, &self.axes)?,
            ReduceOp::Max | ReduceOp::Min => {
                let (mask, count) = self.argmask(&p[0], out)?;
                div(&sum_axes(&mul(t, &mask)?, &self.axes)?, &count)?
            }
            ReduceOp::Prod => sum_axes(&mul(t, &self.prod_others(&p[0])?)?, &self.axes)?,
        }))
    }

    fn vjp(&self, p: &[Value], out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        let shape = p[0].shape();
        let g = match self.op {
            ReduceOp::Sum => expand_back(ct, &shape, &self.axes)?,
            ReduceOp::Max | ReduceOp::Min => {
                let (mask, count) = self.argmask(&p[0], out)?;
                mul(&expand_back(&div(ct, &count)?, &shape, &self.axes)?, &mask)?
            }
            ReduceOp::Prod => mul(
                &expand_back(ct, &shape, &self.axes)?,
                &self.prod_others(&p[0])?,
            )?,
        };
        Ok(smallvec::smallvec![Some(g)])
    }

    fn batch(&self, v: &[Value], _b: &[bool], _size: usize) -> Result<(Value, bool)> {
        let axes = self.axes.iter().map(|a| a + 1).collect();
        Ok((
            bind(&Prim::Reduce(Reduce { op: self.op, axes }), &v[..1])?,
            true,
        ))
    }

    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        let Some(x) = d[0] else { return Ok(None) };
        crate::ops::sparsity::reduction(&p[0].shape(), &self.axes, x, out.size())
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// Reduce over already-normalised axes (internal: no dtype adjustment).
pub fn reduce(op: ReduceOp, x: &Value, axes: &[usize]) -> Result<Value> {
    if axes.is_empty() {
        return Ok(x.clone());
    }
    bind(
        &Prim::Reduce(Reduce {
            op,
            axes: Axes::from_slice(axes),
        }),
        std::slice::from_ref(x),
    )
}

/// Sum over already-normalised axes.
pub fn sum_axes(x: &Value, axes: &[usize]) -> Result<Value> {
    reduce(ReduceOp::Sum, x, axes)
}

/// The public reduction: NumPy axis handling, keepdims, and dtype (sums of
/// bools and small ints accumulate in int64).
pub fn reduction(op: ReduceOp, x: &Value, axis: Option<&[isize]>, keepdims: bool) -> Result<Value> {
    let shape = x.shape();
    let axes = normalize_axes(axis, shape.len())?;
    let mut x = x.clone();
    if matches!(op, ReduceOp::Sum | ReduceOp::Prod) && matches!(x.dtype(), DType::Bool | DType::I32)
    {
        x = convert(&x, DType::I64)?;
    } else if x.dtype() == DType::Bool {
        x = convert(&x, DType::I64)?;
        let r = reduction(op, &x, axis, keepdims)?;
        return convert(&r, DType::Bool);
    }
    let r = reduce(op, &x, &axes)?;
    if keepdims {
        reshape(&r, &keep_shape(&shape, &axes))
    } else {
        Ok(r)
    }
}

/// Index of the maximum (`max`) or minimum along one axis.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgReduce {
    pub max: bool,
    pub axis: usize,
}

impl Family for ArgReduce {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        if x.shape()[self.axis] == 0 {
            return Err(Error::Value(format!(
                "attempt to get {} of an empty sequence",
                if self.max { "argmax" } else { "argmin" }
            )));
        }
        let mut perm: SmallVec<[usize; 6]> = (0..x.ndim()).filter(|&i| i != self.axis).collect();
        perm.push(self.axis);
        let xt = x.permute_view(&perm);
        crate::with_dtype!(x.dtype(), T => arg_extremum_last::<T>(&xt, self.max))
    }
    fn jvp(&self, _: &[Value], _: &[Option<Value>], _: &Value) -> Result<Option<Value>> {
        Ok(None)
    }
    fn vjp(&self, _: &[Value], _: &Value, _: &Value, _: &[bool]) -> Result<Cotangents> {
        Ok(smallvec::smallvec![None])
    }
    fn batch(&self, v: &[Value], _b: &[bool], _size: usize) -> Result<(Value, bool)> {
        let p = Prim::ArgReduce(ArgReduce {
            max: self.max,
            axis: self.axis + 1,
        });
        Ok((bind(&p, &v[..1])?, true))
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

/// `argmax`/`argmin` along `axis` (None: of the flattened array), NumPy style.
pub fn arg_extremum(x: &Value, axis: Option<isize>, keepdims: bool, max: bool) -> Result<Value> {
    let shape = x.shape();
    let (src, ax) = match axis {
        None => (reshape(x, &[x.size()])?, 0),
        Some(a) => (x.clone(), normalize_axis(a, shape.len().max(1))?),
    };
    if src.ndim() == 0 {
        return arg_extremum(&reshape(&src, &[1])?, Some(0), keepdims, max);
    }
    let r = bind(&Prim::ArgReduce(ArgReduce { max, axis: ax }), &[src])?;
    if !keepdims {
        return Ok(r);
    }
    let ks: Shape = match axis {
        None => std::iter::repeat_n(1, shape.len()).collect(),
        Some(_) => keep_shape(&shape, &[ax]),
    };
    reshape(&r, &ks)
}

/// Cumulative sum along an axis (`reverse`: summing from the end).
#[derive(Clone, Debug, PartialEq)]
pub struct Cumsum {
    pub axis: usize,
    pub reverse: bool,
}

impl Family for Cumsum {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let x = inputs[0];
        let nd = x.ndim();
        let mut perm: SmallVec<[usize; 6]> = (0..nd).filter(|&i| i != self.axis).collect();
        perm.push(self.axis);
        let inv = crate::tensor::shape::inverse_permutation(&perm);
        let xt = x.permute_view(&perm);
        let r = with_numeric!(x.dtype(), T => cumsum_last::<T>(&xt, self.reverse)?,
            else return type_err!("cumsum of bool arrays: convert first"));
        Ok(r.permute_view(&inv))
    }
    fn jvp(&self, _p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        t[0].as_ref()
            .map(|t| bind(&Prim::Cumsum(self.clone()), std::slice::from_ref(t)))
            .transpose()
    }
    fn vjp(&self, _p: &[Value], _out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        let adj = Prim::Cumsum(Cumsum {
            axis: self.axis,
            reverse: !self.reverse,
        });
        Ok(smallvec::smallvec![Some(bind(
            &adj,
            std::slice::from_ref(ct)
        )?)])
    }
    fn batch(&self, v: &[Value], _b: &[bool], _size: usize) -> Result<(Value, bool)> {
        let p = Prim::Cumsum(Cumsum {
            axis: self.axis + 1,
            reverse: self.reverse,
        });
        Ok((bind(&p, &v[..1])?, true))
    }
    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        _out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        let Some(x) = d[0] else { return Ok(None) };
        let shape = p[0].shape();
        let inner: usize = shape[self.axis + 1..].iter().product();
        Ok(Some(x.prefix(shape[self.axis], inner, self.reverse)?))
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// NumPy's `cumsum(x, axis)`: axis None flattens; bools and int32 accumulate in int64.
pub fn cumsum(x: &Value, axis: Option<isize>) -> Result<Value> {
    let (src, ax) = match axis {
        None => (reshape(x, &[x.size()])?, 0),
        Some(a) => (x.clone(), normalize_axis(a, x.ndim())?),
    };
    let src = if matches!(src.dtype(), DType::Bool | DType::I32) {
        convert(&src, DType::I64)?
    } else {
        src
    };
    bind(
        &Prim::Cumsum(Cumsum {
            axis: ax,
            reverse: false,
        }),
        &[src],
    )
}

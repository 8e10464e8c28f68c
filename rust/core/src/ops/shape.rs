//! Shape primitives: reshape, broadcast, transpose, slicing and its adjoint,
//! concatenation, dtype conversion. All but concatenation and the adjoint of
//! slicing are views (no copy) on concrete tensors.

use smallvec::SmallVec;

use crate::error::Result;
use crate::kernels::copy::scatter_into;
use crate::kernels::elementwise::cast;
use crate::ops::{align_batched, all_batched, reduce_to_shape, Cotangents, Family, Prim};
use crate::tensor::shape::{broadcast_shapes, contiguous_strides, fmt_shape, numel};
use crate::tensor::{DType, Element, Shape, Tensor};
use crate::trace::{bind, Value};
use crate::{shape_err, value_err, with_dtype};

/// Reshape to a fully resolved shape of the same size.
#[derive(Clone, Debug, PartialEq)]
pub struct Reshape(pub Shape);

impl Family for Reshape {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        crate::kernels::copy::reshape(inputs[0], &self.0)
    }
    fn jvp(&self, _p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        t[0].as_ref().map(|t| reshape(t, &self.0)).transpose()
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        Ok(smallvec::smallvec![Some(reshape(ct, &p[0].shape())?)])
    }
    fn batch(&self, v: &[Value], _b: &[bool], size: usize) -> Result<(Value, bool)> {
        let mut s: Shape = Shape::from_slice(&[size]);
        s.extend_from_slice(&self.0);
        Ok((reshape(&v[0], &s)?, true))
    }
    fn sparsity(
        &self,
        _p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        _out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        // row-major order is kept
        Ok(d[0].cloned())
    }
    fn differentiable(&self) -> bool {
        true
    }
}

pub fn reshape(x: &Value, shape: &[usize]) -> Result<Value> {
    if x.shape().as_slice() == shape {
        return Ok(x.clone());
    }
    crate::tensor::shape::checked_numel(shape)?;
    if numel(&x.shape()) != numel(shape) {
        return shape_err!(
            "cannot reshape array of shape {} into shape {}",
            fmt_shape(&x.shape()),
            fmt_shape(shape)
        );
    }
    bind(
        &Prim::Reshape(Reshape(Shape::from_slice(shape))),
        std::slice::from_ref(x),
    )
}

/// Broadcast to a shape (NumPy rules), as a view.
#[derive(Clone, Debug, PartialEq)]
pub struct BroadcastTo(pub Shape);

impl Family for BroadcastTo {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        Ok(inputs[0].broadcast_view(&self.0))
    }
    fn jvp(&self, _p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        t[0].as_ref().map(|t| broadcast_to(t, &self.0)).transpose()
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        Ok(smallvec::smallvec![Some(reduce_to_shape(
            ct.clone(),
            &p[0].shape()
        )?)])
    }
    fn batch(&self, v: &[Value], _b: &[bool], size: usize) -> Result<(Value, bool)> {
        let aligned = align_batched(&v[0], self.0.len())?;
        let mut s: Shape = Shape::from_slice(&[size]);
        s.extend_from_slice(&self.0);
        Ok((broadcast_to(&aligned, &s)?, true))
    }
    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        crate::ops::sparsity::selection(|t| Family::eval(self, t), p, d, &[0], out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

pub fn broadcast_to(x: &Value, shape: &[usize]) -> Result<Value> {
    let xs = x.shape();
    if xs.as_slice() == shape {
        return Ok(x.clone());
    }
    crate::tensor::shape::checked_numel(shape)?;
    let ok = xs.len() <= shape.len()
        && broadcast_shapes(&xs, shape)
            .map(|s| s.as_slice() == shape)
            .unwrap_or(false);
    if !ok {
        return shape_err!(
            "cannot broadcast an array of shape {} to shape {}",
            fmt_shape(&xs),
            fmt_shape(shape)
        );
    }
    bind(
        &Prim::BroadcastTo(BroadcastTo(Shape::from_slice(shape))),
        std::slice::from_ref(x),
    )
}

/// Permute axes, as a view.
#[derive(Clone, Debug, PartialEq)]
pub struct Transpose(pub SmallVec<[usize; 6]>);

impl Family for Transpose {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        Ok(inputs[0].permute_view(&self.0))
    }
    fn jvp(&self, _p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        t[0].as_ref().map(|t| transpose(t, &self.0)).transpose()
    }
    fn vjp(&self, _p: &[Value], _out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        let inv = crate::tensor::shape::inverse_permutation(&self.0);
        Ok(smallvec::smallvec![Some(transpose(ct, &inv)?)])
    }
    fn batch(&self, v: &[Value], _b: &[bool], _size: usize) -> Result<(Value, bool)> {
        let perm: SmallVec<[usize; 6]> = std::iter::once(0)
            .chain(self.0.iter().map(|p| p + 1))
            .collect();
        Ok((transpose(&v[0], &perm)?, true))
    }
    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        crate::ops::sparsity::selection(|t| Family::eval(self, t), p, d, &[0], out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

pub fn transpose(x: &Value, perm: &[usize]) -> Result<Value> {
    let nd = x.ndim();
    let mut seen = vec![false; nd];
    if perm.len() != nd
        || perm
            .iter()
            .any(|&p| p >= nd || std::mem::replace(&mut seen[p], true))
    {
        return value_err!(
            "axes {:?} are not a permutation of the {} axes of the array",
            perm,
            nd
        );
    }
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(x.clone());
    }
    bind(
        &Prim::Transpose(Transpose(SmallVec::from_slice(perm))),
        std::slice::from_ref(x),
    )
}

/// Basic slicing: on each axis take `lens[i]` elements from `starts[i]` in
/// steps of `steps[i]` (negative steps walk backwards). A view.
#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    pub starts: SmallVec<[usize; 6]>,
    pub steps: SmallVec<[isize; 6]>,
    pub lens: Shape,
}

impl Family for Slice {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        Ok(inputs[0].slice_view(&self.starts, &self.steps, &self.lens))
    }
    fn jvp(&self, _p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        t[0].as_ref()
            .map(|t| bind(&Prim::Slice(self.clone()), std::slice::from_ref(t)))
            .transpose()
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        let un = Unslice {
            shape: p[0].shape(),
            starts: self.starts.clone(),
            steps: self.steps.clone(),
        };
        Ok(smallvec::smallvec![Some(bind(
            &Prim::Unslice(un),
            std::slice::from_ref(ct)
        )?)])
    }
    fn batch(&self, v: &[Value], _b: &[bool], size: usize) -> Result<(Value, bool)> {
        let s = Slice {
            starts: std::iter::once(0)
                .chain(self.starts.iter().copied())
                .collect(),
            steps: std::iter::once(1)
                .chain(self.steps.iter().copied())
                .collect(),
            lens: std::iter::once(size)
                .chain(self.lens.iter().copied())
                .collect(),
        };
        Ok((bind(&Prim::Slice(s), &v[..1])?, true))
    }
    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        crate::ops::sparsity::selection(|t| Family::eval(self, t), p, d, &[0], out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// Checked slice: every selected index must lie inside the array.
pub fn slice(x: &Value, starts: &[usize], steps: &[isize], lens: &[usize]) -> Result<Value> {
    let shape = x.shape();
    if starts.len() != shape.len() || steps.len() != shape.len() || lens.len() != shape.len() {
        return value_err!("slice needs one (start, step, length) per axis");
    }
    for i in 0..shape.len() {
        if steps[i] == 0 {
            return value_err!("slice step cannot be zero");
        }
        if lens[i] > 0 {
            // i128: a huge step must not wrap back into range
            let last = starts[i] as i128 + (lens[i] as i128 - 1) * steps[i] as i128;
            if starts[i] >= shape[i] || last < 0 || last >= shape[i] as i128 {
                return Err(crate::Error::Index(format!(
                    "slice out of range on axis {i} of size {}",
                    shape[i]
                )));
            }
        }
    }
    if lens == shape.as_slice() && steps.iter().all(|&s| s == 1) {
        return Ok(x.clone());
    }
    let s = Slice {
        starts: SmallVec::from_slice(starts),
        steps: SmallVec::from_slice(steps),
        lens: Shape::from_slice(lens),
    };
    bind(&Prim::Slice(s), std::slice::from_ref(x))
}

/// The adjoint of `Slice`: zeros of `shape` with the input written at the
/// sliced positions.
#[derive(Clone, Debug, PartialEq)]
pub struct Unslice {
    pub shape: Shape,
    pub starts: SmallVec<[usize; 6]>,
    pub steps: SmallVec<[isize; 6]>,
}

impl Family for Unslice {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let g = inputs[0];
        let base = contiguous_strides(&self.shape);
        let strides: SmallVec<[isize; 6]> =
            base.iter().zip(&self.steps).map(|(b, s)| b * s).collect();
        let offset: isize = if g.size() == 0 {
            0
        } else {
            self.starts
                .iter()
                .zip(&base)
                .map(|(&s, &b)| s as isize * b)
                .sum()
        };
        with_dtype!(g.dtype(), T => Tensor::try_build::<T>(&self.shape, |out| {
            scatter_into::<T>(g, out, &strides, offset as usize, |_, v| v)
        }))
    }
    fn jvp(&self, _p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        t[0].as_ref()
            .map(|t| bind(&Prim::Unslice(self.clone()), std::slice::from_ref(t)))
            .transpose()
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        let s = Slice {
            starts: self.starts.clone(),
            steps: self.steps.clone(),
            lens: p[0].shape(),
        };
        Ok(smallvec::smallvec![Some(bind(
            &Prim::Slice(s),
            std::slice::from_ref(ct)
        )?)])
    }
    fn batch(&self, v: &[Value], _b: &[bool], size: usize) -> Result<(Value, bool)> {
        let u = Unslice {
            shape: std::iter::once(size)
                .chain(self.shape.iter().copied())
                .collect(),
            starts: std::iter::once(0)
                .chain(self.starts.iter().copied())
                .collect(),
            steps: std::iter::once(1)
                .chain(self.steps.iter().copied())
                .collect(),
        };
        Ok((bind(&Prim::Unslice(u), &v[..1])?, true))
    }
    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        crate::ops::sparsity::selection(|t| Family::eval(self, t), p, d, &[0], out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// Join along an existing axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Concat(pub usize);

impl Family for Concat {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let axis = self.0;
        let mut shape: Shape = Shape::from_slice(inputs[0].shape());
        shape[axis] = inputs.iter().map(|t| t.shape()[axis]).sum();
        let strides = contiguous_strides(&shape);
        // the parts tile the output along `axis`: every element is written
        with_dtype!(inputs[0].dtype(), T => Tensor::try_build_overwrite::<T>(&shape, |out| {
            let mut at = 0usize;
            for t in inputs {
                if t.size() > 0 {
                    scatter_into::<T>(t, out, &strides, at * strides[axis] as usize, |_, v| v)?;
                }
                at += t.shape()[axis];
            }
            Ok(())
        }))
    }
    fn jvp(&self, p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        if t.iter().all(|t| t.is_none()) {
            return Ok(None);
        }
        let parts: Vec<Value> = p
            .iter()
            .zip(t)
            .map(|(p, t)| match t {
                Some(t) => Ok(t.clone()),
                None => crate::ops::zeros(&p.shape(), p.dtype()),
            })
            .collect::<Result<_>>()?;
        Ok(Some(bind(&Prim::Concat(self.clone()), &parts)?))
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        let axis = self.0;
        let full = ct.shape();
        let mut at = 0usize;
        let mut cts = Cotangents::new();
        for (x, &need) in p.iter().zip(needs) {
            let n = x.shape()[axis];
            if need {
                let mut starts: SmallVec<[usize; 6]> = SmallVec::from_elem(0, full.len());
                starts[axis] = at;
                let mut lens = full.clone();
                lens[axis] = n;
                let steps: SmallVec<[isize; 6]> = SmallVec::from_elem(1, full.len());
                cts.push(Some(slice(ct, &starts, &steps, &lens)?));
            } else {
                cts.push(None);
            }
            at += n;
        }
        Ok(cts)
    }
    fn batch(&self, v: &[Value], b: &[bool], size: usize) -> Result<(Value, bool)> {
        let parts = all_batched(v, b, size)?;
        Ok((bind(&Prim::Concat(Concat(self.0 + 1)), &parts)?, true))
    }
    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        let all: Vec<usize> = (0..p.len()).collect();
        crate::ops::sparsity::selection(|t| Family::eval(self, t), p, d, &all, out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// Concatenate along `axis` (shapes must agree elsewhere; dtypes are promoted).
pub fn concatenate(xs: &[Value], axis: isize) -> Result<Value> {
    if xs.is_empty() {
        return value_err!("need at least one array to concatenate");
    }
    let first = xs[0].shape();
    if first.is_empty() {
        return value_err!("zero-dimensional arrays cannot be concatenated");
    }
    let ax = crate::tensor::shape::normalize_axis(axis, first.len())?;
    let mut dt = xs[0].dtype();
    for x in xs {
        let s = x.shape();
        let ok = s.len() == first.len() && (0..s.len()).all(|i| i == ax || s[i] == first[i]);
        if !ok {
            return shape_err!(
                "all the input array dimensions except for the concatenation axis must match \
                 exactly: shapes {} and {} along axis {}",
                fmt_shape(&first),
                fmt_shape(&s),
                ax
            );
        }
        dt = DType::promote(dt, x.dtype());
    }
    let parts: Vec<Value> = xs
        .iter()
        .map(|x| {
            if x.dtype() == dt {
                Ok(x.clone())
            } else {
                convert(x, dt)
            }
        })
        .collect::<Result<_>>()?;
    if parts.len() == 1 {
        return Ok(parts[0].clone());
    }
    bind(&Prim::Concat(Concat(ax)), &parts)
}

/// Change the element type. Derivatives pass through float-to-float conversions only.
#[derive(Clone, Debug, PartialEq)]
pub struct Convert(pub DType);

fn cast_tensor(x: &Tensor, to: DType) -> Result<Tensor> {
    let from = x.dtype();
    if from == to {
        return Ok(x.clone());
    }
    with_dtype!(from, A => with_dtype!(to, R => {
        if to == DType::Bool {
            cast::<A, R>(x, |a: A| R::from_i64((a != A::ZERO) as i64))
        } else if from.is_float() || to.is_float() {
            cast::<A, R>(x, |a: A| R::from_f64(a.to_f64()))
        } else {
            cast::<A, R>(x, |a: A| R::from_i64(a.to_i64()))
        }
    }))
}

impl Family for Convert {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        cast_tensor(inputs[0], self.0)
    }
    fn jvp(&self, p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        if !self.0.is_float() || !p[0].dtype().is_float() {
            return Ok(None);
        }
        t[0].as_ref().map(|t| convert(t, self.0)).transpose()
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        let from = p[0].dtype();
        Ok(smallvec::smallvec![if from.is_float() {
            Some(convert(ct, from)?)
        } else {
            None
        }])
    }
    fn batch(&self, v: &[Value], _b: &[bool], _size: usize) -> Result<(Value, bool)> {
        Ok((bind(&Prim::Convert(self.clone()), &v[..1])?, true))
    }
    fn sparsity(
        &self,
        _p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        _out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        Ok(d[0].cloned())
    }
    fn differentiable(&self) -> bool {
        true
    }
}

pub fn convert(x: &Value, dtype: DType) -> Result<Value> {
    if x.dtype() == dtype {
        return Ok(x.clone());
    }
    bind(&Prim::Convert(Convert(dtype)), std::slice::from_ref(x))
}

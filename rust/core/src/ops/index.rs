//! Gathers along the leading axis and their adjoint (scatter-add). Every
//! integer-array index (`take`, `take_along_axis`, `x[idx]`, `x[i, j]`) is
//! expressed through these two.

use smallvec::SmallVec;

use crate::error::Result;
use crate::kernels::gather::{gather_rows, scatter_add_rows};
use crate::ops::binary::{add, compare, where_, CompareOp};
use crate::ops::shape::{convert, reshape, transpose};
use crate::ops::{broadcast_batch, scalar, Cotangents, Family, Prim};
use crate::tensor::{DType, Shape, Tensor};
use crate::trace::{bind, Value};
use crate::{type_err, with_dtype, with_numeric};

/// `x[idx]` along axis 0: shape `idx.shape + x.shape[1:]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gather;

/// `zeros((n,) + rest).at[idx].add(g)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScatterAdd(pub usize);

/// Non-negative indices (NumPy's wrap-around of negatives) for an axis of `n`.
/// Indices outside `[-n, n)` become a large negative number, so that after the
/// batch offsets are added they still fall outside the flattened array and the
/// gather kernel raises IndexError instead of reading a neighbouring row.
fn wrap(idx: &Value, n: usize) -> Result<Value> {
    let i64c = |v: f64| scalar(v, DType::I64);
    let neg = compare(CompareOp::Lt, idx, &i64c(0.0))?;
    let wrapped = where_(&neg, &add(idx, &i64c(n as f64))?, idx)?;
    let low = compare(CompareOp::Ge, &wrapped, &i64c(0.0))?;
    let high = compare(CompareOp::Lt, &wrapped, &i64c(n as f64))?;
    let ok = compare(CompareOp::And, &low, &high)?;
    where_(&ok, &wrapped, &i64c(-((1i64 << 62) as f64)))
}

/// `idx + n * arange(size)` over the leading (batch) axis: flat row numbers
/// into a `(size * n, ...)` array.
fn offset_batch(idx: &Value, n: usize, size: usize) -> Result<Value> {
    let ar = Tensor::from_slice(
        &(0..size as i64).map(|b| b * n as i64).collect::<Vec<_>>(),
        &[size],
    )?;
    let mut s: Shape = Shape::from_slice(&[size]);
    s.extend(std::iter::repeat_n(1, idx.ndim() - 1));
    add(&wrap(idx, n)?, &reshape(&Value::Concrete(ar), &s)?)
}

impl Family for Gather {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        with_dtype!(inputs[0].dtype(), T => gather_rows::<T>(inputs[0], inputs[1]))
    }
    fn jvp(&self, p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        t[0].as_ref()
            .map(|t| bind(&Prim::Gather(Gather), &[t.clone(), p[1].clone()]))
            .transpose()
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        let n = p[0].shape()[0];
        Ok(smallvec::smallvec![Some(scatter_add(ct, &p[1], n)?), None])
    }
    fn batch(&self, v: &[Value], b: &[bool], size: usize) -> Result<(Value, bool)> {
        let (x, idx) = (&v[0], &v[1]);
        match (b[0], b[1]) {
            (true, false) => {
                // (B, n, rest) -> (n, B, rest) -> gather -> (idx.., B, rest) -> (B, idx.., rest)
                let nd = x.ndim();
                let mut perm: SmallVec<[usize; 6]> = SmallVec::from_slice(&[1, 0]);
                perm.extend(2..nd);
                let g = bind(&Prim::Gather(Gather), &[transpose(x, &perm)?, idx.clone()])?;
                let k = idx.ndim();
                let mut back: SmallVec<[usize; 6]> = SmallVec::from_slice(&[k]);
                back.extend(0..k);
                back.extend(k + 1..g.ndim());
                Ok((transpose(&g, &back)?, true))
            }
            (false, true) => Ok((
                bind(&Prim::Gather(Gather), &[x.clone(), idx.clone()])?,
                true,
            )),
            _ => {
                let s = x.shape();
                let n = s[1];
                let mut flat: Shape = Shape::from_slice(&[size * n]);
                flat.extend_from_slice(&s[2..]);
                let xf = reshape(x, &flat)?;
                Ok((
                    bind(&Prim::Gather(Gather), &[xf, offset_batch(idx, n, size)?])?,
                    true,
                ))
            }
        }
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

impl Family for ScatterAdd {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let (g, idx) = (inputs[0], inputs[1]);
        // bools accumulate as NumPy's `+` on them: a logical or
        with_numeric!(g.dtype(), T => scatter_add_rows::<T>(g, idx, self.0, |a, b| a + b),
            else scatter_add_rows::<bool>(g, idx, self.0, |a, b| a | b))
    }
    fn jvp(&self, p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        t[0].as_ref()
            .map(|t| scatter_add(t, &p[1], self.0))
            .transpose()
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, _needs: &[bool]) -> Result<Cotangents> {
        Ok(smallvec::smallvec![
            Some(bind(&Prim::Gather(Gather), &[ct.clone(), p[1].clone()])?),
            None
        ])
    }
    fn batch(&self, v: &[Value], b: &[bool], size: usize) -> Result<(Value, bool)> {
        let (g, idx) = (&v[0], &v[1]);
        let n = self.0;
        if b[0] && !b[1] {
            // (B, idx.., rest) -> (idx.., B, rest) -> scatter -> (n, B, rest) -> (B, n, rest)
            let k = idx.ndim();
            let nd = g.ndim();
            let mut perm: SmallVec<[usize; 6]> = (1..=k).collect();
            perm.push(0);
            perm.extend(k + 1..nd);
            let s = bind(
                &Prim::ScatterAdd(self.clone()),
                &[transpose(g, &perm)?, idx.clone()],
            )?;
            let mut back: SmallVec<[usize; 6]> = SmallVec::from_slice(&[1, 0]);
            back.extend(2..s.ndim());
            return Ok((transpose(&s, &back)?, true));
        }
        let g = if b[0] {
            g.clone()
        } else {
            broadcast_batch(g, size)?
        };
        let s = bind(
            &Prim::ScatterAdd(ScatterAdd(size * n)),
            &[g, offset_batch(idx, n, size)?],
        )?;
        let mut shape: Shape = Shape::from_slice(&[size, n]);
        shape.extend_from_slice(&s.shape()[1..]);
        Ok((reshape(&s, &shape)?, true))
    }
    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        let Some(g) = d[0] else { return Ok(None) };
        // where each update element lands: gather the output's positions
        let mut shape = vec![self.0];
        shape.extend_from_slice(&p[0].shape()[p[1].ndim()..]);
        let ids = crate::trace::deps::position_ids(&shape, 0)?;
        let target = gather_rows::<i64>(&ids, &p[1].concrete()?)?;
        let map = crate::trace::deps::read_positions(&target)?;
        Ok(Some(crate::trace::Deps::scatter(out.size(), g, &map)?))
    }
    fn differentiable(&self) -> bool {
        true
    }
}

fn as_index(idx: &Value) -> Result<Value> {
    match idx.dtype() {
        DType::I64 => Ok(idx.clone()),
        DType::I32 => convert(idx, DType::I64),
        d => type_err!("arrays used as indices must be of integer type, got {d}"),
    }
}

/// `x[idx]` along axis 0 (`idx` an integer array of any shape).
pub fn gather(x: &Value, idx: &Value) -> Result<Value> {
    if x.ndim() == 0 {
        return Err(crate::Error::Index(
            "too many indices for a 0-d array".into(),
        ));
    }
    bind(&Prim::Gather(Gather), &[x.clone(), as_index(idx)?])
}

/// Rows of `g` added into zeros of `n` rows at `idx` (the adjoint of `gather`).
pub fn scatter_add(g: &Value, idx: &Value, n: usize) -> Result<Value> {
    let (gs, is) = (g.shape(), idx.shape());
    if gs.len() < is.len() || gs[..is.len()] != is[..] {
        return Err(crate::Error::Shape(format!(
            "scatter_add: updates of shape {} do not start with the index shape {}",
            crate::tensor::shape::fmt_shape(&gs),
            crate::tensor::shape::fmt_shape(&is)
        )));
    }
    bind(
        &Prim::ScatterAdd(ScatterAdd(n)),
        &[g.clone(), as_index(idx)?],
    )
}

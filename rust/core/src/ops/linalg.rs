//! Matrix multiplication (batched, broadcasting); dot, tensordot, einsum and
//! friends are composed from it in `contract.rs`, the factorisations are in
//! `decomp.rs` and NumPy's `linalg` surface in `numpy_linalg.rs`.

use smallvec::SmallVec;

use crate::error::Result;
use crate::kernels::matmul::matmul as gemm_matmul;
use crate::ops::shape::{convert, reshape, transpose};
use crate::ops::{add_opt, align_batched, reduce_to_shape, Cotangents, Family, Prim};
use crate::shape_err;
use crate::tensor::shape::fmt_shape;
use crate::tensor::{DType, Shape, Tensor};
use crate::trace::{bind, Value};

/// `a @ b` for `a: (..., m, k)`, `b: (..., k, n)`, batch axes broadcast.
#[derive(Clone, Debug, PartialEq)]
pub struct MatMul;

/// Swap the last two axes.
pub fn mt(x: &Value) -> Result<Value> {
    let nd = x.ndim();
    let mut perm: SmallVec<[usize; 6]> = (0..nd).collect();
    perm.swap(nd - 2, nd - 1);
    transpose(x, &perm)
}

impl Family for MatMul {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        gemm_matmul(inputs[0], inputs[1])
    }
    fn jvp(&self, p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        add_opt(
            t[0].as_ref().map(|t| matmul_nd(t, &p[1])).transpose()?,
            t[1].as_ref().map(|t| matmul_nd(&p[0], t)).transpose()?,
        )
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        let ga = if needs[0] {
            Some(reduce_to_shape(matmul_nd(ct, &mt(&p[1])?)?, &p[0].shape())?)
        } else {
            None
        };
        let gb = if needs[1] {
            Some(reduce_to_shape(matmul_nd(&mt(&p[0])?, ct)?, &p[1].shape())?)
        } else {
            None
        };
        Ok(smallvec::smallvec![ga, gb])
    }
    fn batch(&self, v: &[Value], b: &[bool], size: usize) -> Result<(Value, bool)> {
        if let Some(r) = batch_against_matrix(v, b, size)? {
            return Ok((r, true));
        }
        let rank = v
            .iter()
            .zip(b)
            .map(|(x, &bt)| x.ndim() - bt as usize)
            .max()
            .unwrap_or(2);
        let args: SmallVec<[Value; 2]> = v
            .iter()
            .zip(b)
            .map(|(x, &bt)| {
                if bt {
                    align_batched(x, rank)
                } else {
                    Ok(x.clone())
                }
            })
            .collect::<Result<_>>()?;
        Ok((bind(&Prim::MatMul(MatMul), &args)?, true))
    }
    fn sparsity(
        &self,
        p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        matmul_sparsity(p, d, out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// One batched 2-D operand against an unbatched matrix (`vmap` of a
/// matrix-vector product, a Jacobian's basis against weights): a single GEMM
/// with the batch folded into the rows, instead of `size` thin products.
/// The batch axis is at the front of the batched operand (`B`).
/// - `x: (B, m, k) @ w: (k, n)` = `reshape(x, (B m, k)) @ w`, reshaped back;
/// - `w: (m, k) @ x: (B, k, n)` = `(xᵀ @ wᵀ)ᵀ` per batch element, with
///   `xᵀ: (B, n, k)` folded the same way (a view when `n == 1`).
///
/// `None` when the operands have another form.
fn batch_against_matrix(v: &[Value], b: &[bool], size: usize) -> Result<Option<Value>> {
    let (x_first, x, w) = match (b[0], b[1]) {
        (true, false) => (true, &v[0], &v[1]),
        (false, true) => (false, &v[1], &v[0]),
        _ => return Ok(None),
    };
    if x.ndim() != 3 || w.ndim() != 2 {
        return Ok(None);
    }
    if x_first {
        let (m, k) = (x.shape()[1], x.shape()[2]);
        let n = w.shape()[1];
        let flat = reshape(x, &[size * m, k])?;
        let r = matmul_nd(&flat, w)?;
        Ok(Some(reshape(&r, &[size, m, n])?))
    } else {
        let (k, n) = (x.shape()[1], x.shape()[2]);
        let m = w.shape()[0];
        let xt = reshape(&mt(x)?, &[size * n, k])?;
        let r = matmul_nd(&xt, &mt(w)?)?; // (B n, m)
        Ok(Some(mt(&reshape(&r, &[size, n, m])?)?))
    }
}

/// Matmul of operands that are both at least 2-D.
fn matmul_nd(a: &Value, b: &Value) -> Result<Value> {
    bind(&Prim::MatMul(MatMul), &[a.clone(), b.clone()])
}

/// NumPy's `matmul`: 1-D operands are promoted to matrices and the added axis
/// removed afterwards; batch axes broadcast; dtypes promoted.
pub fn matmul(a: &Value, b: &Value) -> Result<Value> {
    let (sa, sb) = (a.shape(), b.shape());
    if sa.is_empty() || sb.is_empty() {
        return shape_err!(
            "matmul: input operand does not have enough dimensions (shapes {} and {}); use * for scalars",
            fmt_shape(&sa),
            fmt_shape(&sb)
        );
    }
    let (a, b) = if a.dtype() == b.dtype() {
        (a.clone(), b.clone())
    } else {
        crate::ops::binary::promote(a, b, false)?
    };
    if a.dtype() == DType::Bool {
        // NumPy: a logical or of ands, i.e. whether any product term is true
        let count = matmul(&convert(&a, DType::I64)?, &convert(&b, DType::I64)?)?;
        let zero = crate::ops::scalar_like(&count, 0.0);
        return crate::ops::binary::compare(crate::ops::CompareOp::Ne, &count, &zero);
    }
    let a2 = if sa.len() == 1 {
        reshape(&a, &[1, sa[0]])?
    } else {
        a
    };
    let b2 = if sb.len() == 1 {
        reshape(&b, &[sb[0], 1])?
    } else {
        b
    };
    let (ka, kb) = (a2.shape()[a2.ndim() - 1], b2.shape()[b2.ndim() - 2]);
    if ka != kb {
        return shape_err!(
            "matmul: shapes {} and {} are not aligned: {} != {} (contracted dimensions)",
            fmt_shape(&sa),
            fmt_shape(&sb),
            ka,
            kb
        );
    }
    crate::tensor::shape::broadcast_shapes(
        &a2.shape()[..a2.ndim() - 2],
        &b2.shape()[..b2.ndim() - 2],
    )
    .map_err(|_| {
        crate::Error::Shape(format!(
            "matmul: batch dimensions of shapes {} and {} cannot be broadcast",
            fmt_shape(&sa),
            fmt_shape(&sb)
        ))
    })?;
    let r = matmul_nd(&a2, &b2)?;
    if sa.len() == 1 || sb.len() == 1 {
        let rs = r.shape();
        let mut out: Shape = Shape::from_slice(&rs[..rs.len() - 2]);
        if sa.len() > 1 {
            out.push(rs[rs.len() - 2]);
        }
        if sb.len() > 1 {
            out.push(rs[rs.len() - 1]);
        }
        return reshape(&r, &out);
    }
    Ok(r)
}

/// Output `(..., i, j)` of `a @ b` depends on row `i` of `a` and column `j`
/// of `b` (of its batch).
fn matmul_sparsity(
    p: &[Value],
    d: &[Option<&crate::trace::Deps>],
    out: &Value,
) -> Result<Option<crate::trace::Deps>> {
    use crate::trace::deps::{position_ids, read_positions};
    let out_shape = out.shape();
    let mut lines = Vec::new();
    for (k, (x, deps)) in p.iter().zip(d).enumerate() {
        let Some(deps) = deps else { continue };
        let shape = x.shape();
        if shape.len() < 2 {
            return crate::ops::sparsity::dense(d, out);
        }
        // rows of `a` (its last axis summed over), columns of `b` (its second to last)
        let axis = shape.len() - 1 - k;
        let mut kept = shape.to_vec();
        kept[axis] = 1;
        let n: usize = kept.iter().product();
        let Some(line) = crate::ops::sparsity::reduction(&shape, &[axis], deps, n)? else {
            continue;
        };
        let map = read_positions(&position_ids(&kept, 0)?.broadcast_view(&out_shape))?;
        lines.push((line, map));
    }
    let sources: Vec<_> = lines.iter().map(|(l, m)| (l, m.as_slice())).collect();
    Ok(Some(crate::trace::Deps::pick(out.size(), &sources)?))
}

//! SciPy's `scipy.linalg` functions people differentiate through:
//! `solve_triangular`, `cho_factor`/`cho_solve`, `lu_factor`/`lu_solve`,
//! `expm` — composed from the primitives of `decomp.rs`, batched over leading
//! axes.

use crate::error::Result;
use crate::ops::binary::{binary, compare, mul, sub, BinaryOp};
use crate::ops::composite::expand_dims;
use crate::ops::decomp::{solve_same_batch, tri_solve, unpack, Decomp};
use crate::ops::linalg::{matmul, mt};
use crate::ops::numpy_linalg::{as_float, cholesky, linear_system, square_dims, unvector};
use crate::ops::shape::{broadcast_to, convert};
use crate::ops::{scalar_like, CompareOp, Prim};
use crate::tensor::shape::fmt_shape;
use crate::tensor::{DType, Tensor};
use crate::trace::{bind, Value};
use crate::value_err;

/// `x` with `op(a) x = b` for triangular `a` (`trans`: 0 for `a`, 1 or 2 for
/// `aᵀ`); only the `lower` or upper triangle is read, the diagonal taken as
/// ones when `unit_diagonal`. A zero on the diagonal is a `LinAlgError`.
pub fn solve_triangular(
    a: &Value,
    b: &Value,
    trans: u8,
    lower: bool,
    unit_diagonal: bool,
) -> Result<Value> {
    if trans > 2 {
        return value_err!(
            "solve_triangular: trans must be 0, 1 or 2 ('N', 'T', 'C'), got {trans}"
        );
    }
    let (a, b, vector) = linear_system(a, b, "solve_triangular")?;
    unvector(tri_solve(&a, &b, lower, trans != 0, unit_diagonal)?, vector)
}

/// SciPy's `cho_factor`: the Cholesky factor (lower, or upper `Lᵀ`), with
/// the other triangle zero.
pub fn cho_factor(a: &Value, lower: bool) -> Result<Value> {
    cholesky(a, !lower)
}

/// `x` with `A x = b` from `A`'s Cholesky factor `c` (lower or upper).
pub fn cho_solve(c: &Value, lower: bool, b: &Value) -> Result<Value> {
    let (c, b, vector) = linear_system(c, b, "cho_solve")?;
    // A = L Lᵀ: L y = b, Lᵀ x = y (upper U = Lᵀ: Uᵀ y = b, U x = y)
    let y = tri_solve(&c, &b, lower, !lower, false)?;
    unvector(tri_solve(&c, &y, lower, lower, false)?, vector)
}

/// SciPy's `lu_factor`: `(lu, piv)`, `lu` holding `U` and `L`'s strict
/// lower part, `piv` LAPACK's row swaps (int32). Not differentiable (the
/// derivative is taken through `solve` or `lu_solve`'s `b`).
pub fn lu_factor(a: &Value) -> Result<(Value, Value)> {
    let a = as_float(a)?;
    let n = square_dims(&a, "lu_factor")?;
    let packed = bind(&Prim::Decomp(Decomp::LuFactor), std::slice::from_ref(&a))?;
    let p = unpack(&packed, &[&[n, n], &[n]])?;
    Ok((
        p[0].clone(),
        convert(&crate::trace::stop_gradient(&p[1])?, DType::I32)?,
    ))
}

/// `x` with `A x = b` (`trans` 1 or 2: `Aᵀ x = b`) from `lu_factor`'s `(lu, piv)`.
pub fn lu_solve(lu: &Value, piv: &Value, b: &Value, trans: u8) -> Result<Value> {
    if trans > 2 {
        return value_err!("lu_solve: trans must be 0, 1 or 2, got {trans}");
    }
    let (lu, b, vector) = linear_system(lu, b, "lu_solve")?;
    let n = lu.shape()[lu.ndim() - 1];
    if piv.shape().last() != Some(&n) {
        return value_err!(
            "lu_solve: piv of shape {} does not match the {n}x{n} factors",
            fmt_shape(&piv.shape())
        );
    }
    // P: row i of P b is row order[i] of b (A = Pᵀ L U in this notation).
    let order = bind(
        &Prim::Decomp(Decomp::Permutation),
        std::slice::from_ref(piv),
    )?;
    let cols = Value::Concrete(Tensor::from_slice(
        &(0..n as i64).collect::<Vec<_>>(),
        &[n],
    )?);
    let p = convert(
        &compare(CompareOp::Eq, &expand_dims(&order, &[-1])?, &cols)?,
        lu.dtype(),
    )?;
    let x = if trans == 0 {
        let y = tri_solve(&lu, &matmul(&p, &b)?, true, false, true)?;
        tri_solve(&lu, &y, false, false, false)?
    } else {
        let z = tri_solve(&lu, &b, false, true, false)?;
        let w = tri_solve(&lu, &z, true, true, true)?;
        matmul(&mt(&p)?, &w)?
    };
    unvector(x, vector)
}

/// The coefficients of the degree-13 Padé approximant of `exp` (Higham 2005).
const PADE13: [f64; 14] = [
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
];

/// The largest 1-norm for which the degree-13 approximant is accurate to
/// double precision without scaling (Higham 2005, Table 2.3).
const THETA13: f64 = 5.371920351148152;

/// The matrix exponential by scaling and squaring with the degree-13 Padé
/// approximant (Higham 2005), differentiable through its matmuls and solve.
/// The number of squarings comes from the largest 1-norm in the batch.
pub fn expm(a: &Value) -> Result<Value> {
    let a = as_float(a)?;
    square_dims(&a, "expm")?;
    let norm = one_norm_bound(&a)?;
    let s = if norm > THETA13 {
        (norm / THETA13).log2().ceil() as i32
    } else {
        0
    };
    if !norm.is_finite() {
        // NaN or infinite entries: the result is NaN (no squaring loop to run)
        return mul(&a, &scalar_like(&a, f64::NAN));
    }
    let a = if s > 0 {
        mul(&a, &scalar_like(&a, 2f64.powi(-s)))?
    } else {
        a
    };
    let n = a.shape()[a.ndim() - 1];
    let eye = broadcast_to(
        &crate::ops::creation::eye(n as i64, None, 0, a.dtype())?,
        &a.shape(),
    )?;
    let c = |i: usize, x: &Value| mul(x, &scalar_like(x, PADE13[i]));
    let add = |x: &Value, y: &Value| binary(BinaryOp::Add, x, y);
    let a2 = matmul(&a, &a)?;
    let a4 = matmul(&a2, &a2)?;
    let a6 = matmul(&a4, &a2)?;
    let u_inner = add(&add(&c(13, &a6)?, &c(11, &a4)?)?, &c(9, &a2)?)?;
    let u_rest = add(
        &add(&add(&c(7, &a6)?, &c(5, &a4)?)?, &c(3, &a2)?)?,
        &c(1, &eye)?,
    )?;
    let u = matmul(&a, &add(&matmul(&a6, &u_inner)?, &u_rest)?)?;
    let v_inner = add(&add(&c(12, &a6)?, &c(10, &a4)?)?, &c(8, &a2)?)?;
    let v_rest = add(
        &add(&add(&c(6, &a6)?, &c(4, &a4)?)?, &c(2, &a2)?)?,
        &c(0, &eye)?,
    )?;
    let v = add(&matmul(&a6, &v_inner)?, &v_rest)?;
    let mut r = solve_same_batch(&sub(&v, &u)?, &add(&v, &u)?)?;
    for _ in 0..s {
        r = matmul(&r, &r)?;
    }
    Ok(r)
}

/// The largest 1-norm (maximum column sum of absolute values) over every
/// matrix the value stands for (all examples under `vmap`).
fn one_norm_bound(a: &Value) -> Result<f64> {
    let t = a.physical()?;
    let v: Vec<f64> = match t.dtype() {
        DType::F32 => t.to_vec::<f32>()?.into_iter().map(f64::from).collect(),
        _ => t.to_vec::<f64>()?,
    };
    let n = *t.shape().last().unwrap_or(&0);
    if n == 0 {
        return Ok(0.0);
    }
    let mut best = 0.0f64;
    for m in v.chunks(n * n) {
        for j in 0..n {
            let col: f64 = (0..n).map(|i| m[i * n + j].abs()).sum();
            if col.is_nan() {
                return Ok(f64::NAN);
            }
            best = best.max(col);
        }
    }
    Ok(best)
}

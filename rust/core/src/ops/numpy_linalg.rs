//! NumPy's `numpy.linalg`, composed from the factorisation primitives of
//! `decomp.rs` and matmul: differentiable in both modes and batchable over
//! leading axes because their parts are. Integer and bool inputs compute in
//! float64; float32 stays float32.
//!
//! `cholesky`, `eigh` and `eigvalsh` read the symmetric part `(A + Aᵀ)/2` of
//! their input (as JAX does): the same values as NumPy's for the symmetric
//! matrices they are meant for, and a symmetric derivative.

use crate::error::{Error, Result};
use crate::ops::binary::{compare, div, mul, promote, sub, where_};
use crate::ops::composite::{expand_dims, moveaxis};
use crate::ops::decomp::{slice_last, solve_same_batch, symmetric_part, unpack, Decomp};
use crate::ops::linalg::{matmul, mt};
use crate::ops::reduce::{reduction, ReduceOp};
use crate::ops::shape::{broadcast_to, convert, reshape};
use crate::ops::unary::{abs, exp, sqrt};
use crate::ops::{scalar_like, CompareOp, Prim};
use crate::tensor::shape::{broadcast_shapes, fmt_shape, normalize_axis};
use crate::tensor::{DType, Shape};
use crate::trace::{bind, stop_gradient, Value};
use crate::value_err;

/// `x` in floating point (ints and bools as float64).
pub fn as_float(x: &Value) -> Result<Value> {
    if x.dtype().is_float() {
        Ok(x.clone())
    } else {
        convert(x, DType::F64)
    }
}

fn linalg_err<T>(msg: String) -> Result<T> {
    Err(Error::LinAlg(msg))
}

/// Checks a stack of matrices: at least 2-d; returns `(m, n)`.
pub fn matrix_dims(x: &Value, what: &str) -> Result<(usize, usize)> {
    let s = x.shape();
    if s.len() < 2 {
        return linalg_err(format!(
            "{what}: {}-dimensional array given. Array must be at least two-dimensional",
            s.len()
        ));
    }
    Ok((s[s.len() - 2], s[s.len() - 1]))
}

/// Checks a stack of square matrices; returns `n`.
pub fn square_dims(x: &Value, what: &str) -> Result<usize> {
    let (m, n) = matrix_dims(x, what)?;
    if m != n {
        return linalg_err(format!(
            "{what}: last 2 dimensions of the array must be square, got {}",
            fmt_shape(&x.shape())
        ));
    }
    Ok(n)
}

fn identity_like(a: &Value) -> Result<Value> {
    let n = a.shape()[a.ndim() - 1];
    let eye = crate::ops::creation::eye(n as i64, None, 0, a.dtype())?;
    broadcast_to(&eye, &a.shape())
}

fn bind1(d: Decomp, x: &Value) -> Result<Value> {
    bind(&Prim::Decomp(d), std::slice::from_ref(x))
}

/// `a`'s batch axes and `b`'s broadcast together: both as `(..., rows, cols)`.
fn broadcast_batches(a: &Value, b: &Value) -> Result<(Value, Value)> {
    let (sa, sb) = (a.shape(), b.shape());
    let batch = broadcast_shapes(&sa[..sa.len() - 2], &sb[..sb.len() - 2])?;
    let with = |s: &[usize]| -> Shape {
        let mut v = batch.clone();
        v.extend_from_slice(&s[s.len() - 2..]);
        v
    };
    Ok((broadcast_to(a, &with(&sa))?, broadcast_to(b, &with(&sb))?))
}

/// The square `a` and its right-hand side `b` in a common float dtype, batch
/// axes broadcast: `(a, b as (..., n, k), b was a vector)` (NumPy 2's rule:
/// `b` is a vector only when it is 1-d). `what` names the caller in errors.
pub fn linear_system(a: &Value, b: &Value, what: &str) -> Result<(Value, Value, bool)> {
    let (a, b) = promote(&as_float(a)?, &as_float(b)?, true)?;
    let n = square_dims(&a, what)?;
    let vector = b.ndim() == 1;
    let b2 = if vector {
        expand_dims(&b, &[-1])?
    } else {
        b.clone()
    };
    if b2.ndim() < 2 || b2.shape()[b2.ndim() - 2] != n {
        return value_err!(
            "{what}: the right-hand side of shape {} does not match the {n}x{n} matrix",
            fmt_shape(&b.shape())
        );
    }
    let (a2, b2) = broadcast_batches(&a, &b2)?;
    Ok((a2, b2, vector))
}

/// The solution of a [`linear_system`] back in the right-hand side's form.
pub fn unvector(x: Value, vector: bool) -> Result<Value> {
    if vector {
        let s = x.shape();
        reshape(&x, &s[..s.len() - 1])
    } else {
        Ok(x)
    }
}

/// `x` with `a @ x = b` (`b` a vector when 1-d, else a stack of matrices,
/// batch axes broadcast). A singular `a` is a `LinAlgError`.
pub fn solve(a: &Value, b: &Value) -> Result<Value> {
    let (a, b, vector) = linear_system(a, b, "solve")?;
    unvector(solve_same_batch(&a, &b)?, vector)
}

/// The inverse of each square matrix; a singular one is a `LinAlgError`.
pub fn inv(a: &Value) -> Result<Value> {
    let a = as_float(a)?;
    square_dims(&a, "inv")?;
    solve_same_batch(&a, &identity_like(&a)?)
}

/// `(sign, log|det|)` of each square matrix (a singular one: `(0, -inf)`).
pub fn slogdet(a: &Value) -> Result<(Value, Value)> {
    let a = as_float(a)?;
    square_dims(&a, "slogdet")?;
    let p = unpack(&bind1(Decomp::Slogdet, &a)?, &[&[], &[]])?;
    Ok((stop_gradient(&p[0])?, p[1].clone()))
}

/// The determinant of each square matrix, `sign · exp(log|det|)`.
pub fn det(a: &Value) -> Result<Value> {
    let (sign, log) = slogdet(a)?;
    mul(&sign, &exp(&log)?)
}

/// The Cholesky factor: lower `L` with `A = L Lᵀ` (or upper `U = Lᵀ`); a
/// matrix that is not positive definite is a `LinAlgError`.
pub fn cholesky(a: &Value, upper: bool) -> Result<Value> {
    let a = as_float(a)?;
    square_dims(&a, "cholesky")?;
    let l = bind1(Decomp::Cholesky, &symmetric_part(&a)?)?;
    if upper {
        mt(&l)
    } else {
        Ok(l)
    }
}

fn check_uplo(uplo: &str) -> Result<()> {
    if uplo != "L" && uplo != "U" {
        return value_err!("UPLO argument must be 'L' or 'U', got {uplo:?}");
    }
    Ok(())
}

/// Eigenvalues (ascending) and eigenvectors (columns) of symmetric matrices.
pub fn eigh(a: &Value, uplo: &str) -> Result<(Value, Value)> {
    check_uplo(uplo)?;
    let a = as_float(a)?;
    let n = square_dims(&a, "eigh")?;
    let p = unpack(
        &bind1(Decomp::Eigh { vectors: true }, &symmetric_part(&a)?)?,
        &[&[n], &[n, n]],
    )?;
    Ok((p[0].clone(), p[1].clone()))
}

/// Eigenvalues (ascending) of symmetric matrices.
pub fn eigvalsh(a: &Value, uplo: &str) -> Result<Value> {
    check_uplo(uplo)?;
    let a = as_float(a)?;
    square_dims(&a, "eigvalsh")?;
    bind1(Decomp::Eigh { vectors: false }, &symmetric_part(&a)?)
}

/// `[U, s, Vh]` with `A = U diag(s) Vh` (`full_matrices`: `U` and `Vh`
/// square), or `[s]` alone without `compute_uv`.
pub fn svd(a: &Value, full_matrices: bool, compute_uv: bool) -> Result<Vec<Value>> {
    let a = as_float(a)?;
    let (m, n) = matrix_dims(&a, "svd")?;
    let k = m.min(n);
    if !compute_uv {
        return Ok(vec![svdvals(&a)?]);
    }
    let full = full_matrices && m != n;
    let (cu, cv) = if full { (m, n) } else { (k, k) };
    let packed = bind1(
        Decomp::Svd {
            vectors: true,
            full,
        },
        &a,
    )?;
    unpack(&packed, &[&[m, cu], &[k], &[cv, n]])
}

/// Singular values (descending).
pub fn svdvals(a: &Value) -> Result<Value> {
    let a = as_float(a)?;
    matrix_dims(&a, "svdvals")?;
    bind1(
        Decomp::Svd {
            vectors: false,
            full: false,
        },
        &a,
    )
}

/// NumPy's `qr` modes (`'raw'` is LAPACK's internal layout and not offered).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QrMode {
    Reduced,
    Complete,
    R,
}

/// `[Q, R]` (`Reduced`, `Complete`) or `[R]` (`R`).
pub fn qr(a: &Value, mode: QrMode) -> Result<Vec<Value>> {
    let a = as_float(a)?;
    let (m, n) = matrix_dims(&a, "qr")?;
    let complete = mode == QrMode::Complete && m > n;
    let c = if complete { m } else { m.min(n) };
    let p = unpack(&bind1(Decomp::Qr { complete }, &a)?, &[&[m, c], &[c, n]])?;
    Ok(match mode {
        QrMode::R => vec![p[1].clone()],
        _ => p,
    })
}

/// `1/s` where `s > cutoff`, else 0 (through a safe operand, so derivatives
/// stay finite).
fn inverse_above(s: &Value, cutoff: &Value) -> Result<Value> {
    let keep = compare(CompareOp::Gt, s, cutoff)?;
    let one = scalar_like(s, 1.0);
    let safe = where_(&keep, s, &one)?;
    where_(&keep, &div(&one, &safe)?, &scalar_like(s, 0.0))
}

/// The largest singular value of each matrix, keeping a last axis of 1.
fn top(s: &Value) -> Result<Value> {
    if s.shape()[s.ndim() - 1] == 0 {
        let mut shape = s.shape().to_vec();
        *shape.last_mut().expect("at least 1-d") = 1;
        return crate::ops::zeros(&shape, s.dtype());
    }
    reduction(ReduceOp::Max, s, Some(&[-1]), true)
}

/// The Moore-Penrose pseudo-inverse by SVD; singular values at or below
/// `rcond · max(s)` count as zero (NumPy's default `rcond = 1e-15`).
pub fn pinv(a: &Value, rcond: f64) -> Result<Value> {
    let a = as_float(a)?;
    matrix_dims(&a, "pinv")?;
    let p = svd(&a, false, true)?;
    let (u, s, vh) = (&p[0], &p[1], &p[2]);
    let cutoff = mul(&stop_gradient(&top(s)?)?, &scalar_like(s, rcond))?;
    let s_inv = inverse_above(s, &cutoff)?;
    matmul(&mt(vh)?, &mul(&expand_dims(&s_inv, &[-1])?, &mt(u)?)?)
}

/// NumPy's `lstsq` (2-d `a`): `(x, residuals, rank, s)`, singular values at
/// or below `rcond · max(s)` (default `eps · max(m, n)`) counting as zero.
pub fn lstsq(a: &Value, b: &Value, rcond: Option<f64>) -> Result<[Value; 4]> {
    let (a, b) = promote(&as_float(a)?, &as_float(b)?, true)?;
    if a.ndim() != 2 || !(b.ndim() == 1 || b.ndim() == 2) {
        return linalg_err(format!(
            "lstsq: a must be 2-d and b 1-d or 2-d, got shapes {} and {}",
            fmt_shape(&a.shape()),
            fmt_shape(&b.shape())
        ));
    }
    let (m, n) = (a.shape()[0], a.shape()[1]);
    if b.shape()[0] != m {
        return linalg_err(format!(
            "lstsq: incompatible dimensions: a has {m} rows, b has {}",
            b.shape()[0]
        ));
    }
    let eps = if a.dtype() == DType::F32 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    let rcond = rcond.unwrap_or(eps * m.max(n) as f64);
    let vector = b.ndim() == 1;
    let b2 = if vector {
        expand_dims(&b, &[-1])?
    } else {
        b.clone()
    };
    let p = svd(&a, false, true)?;
    let (u, s, vh) = (&p[0], &p[1], &p[2]);
    let cutoff = mul(&stop_gradient(&top(s)?)?, &scalar_like(s, rcond))?;
    let s_inv = inverse_above(s, &cutoff)?;
    let x = matmul(
        &mt(vh)?,
        &mul(&expand_dims(&s_inv, &[-1])?, &matmul(&mt(u)?, &b2)?)?,
    )?;
    let keep = compare(CompareOp::Gt, &stop_gradient(s)?, &stop_gradient(&cutoff)?)?;
    let rank = reduction(ReduceOp::Sum, &keep, None, false)?;
    // NumPy gives residuals only at full rank; under vmap the rank is per
    // example and the shape cannot depend on it: residuals are then given
    // whenever m > n.
    let full_rank = match rank.concrete() {
        Ok(r) => r.item_i64()? == n as i64,
        Err(_) => true,
    };
    let residuals = if full_rank && m > n {
        let r = sub(&b2, &matmul(&a, &x)?)?;
        reduction(ReduceOp::Sum, &mul(&r, &r)?, Some(&[0]), false)?
    } else {
        crate::ops::zeros(&[0], a.dtype())?
    };
    let x = if vector { reshape(&x, &[n])? } else { x };
    Ok([x, residuals, rank, s.clone()])
}

/// `a` to the integer power `n` by repeated squaring (`n < 0`: of the inverse;
/// `n = 0`: the identity).
pub fn matrix_power(a: &Value, n: i64) -> Result<Value> {
    square_dims(a, "matrix_power")?;
    if n == 0 {
        return identity_like(a);
    }
    let mut base = if n < 0 { inv(a)? } else { a.clone() };
    let mut e = n.unsigned_abs();
    let mut acc: Option<Value> = None;
    loop {
        if e & 1 == 1 {
            acc = Some(match acc {
                None => base.clone(),
                Some(x) => matmul(&x, &base)?,
            });
        }
        e >>= 1;
        if e == 0 {
            break;
        }
        base = matmul(&base, &base)?;
    }
    Ok(acc.expect("n != 0 sets a bit"))
}

/// The number of singular values above `tol` (default `max(s) · max(m, n) ·
/// eps`, or `max(s) · rtol`), as int64; no derivative. A vector's rank is 0
/// or 1 (whether any entry is non-zero).
pub fn matrix_rank(a: &Value, tol: Option<f64>, rtol: Option<f64>) -> Result<Value> {
    let a = stop_gradient(&as_float(a)?)?;
    if a.ndim() < 2 {
        let zero = scalar_like(&a, 0.0);
        let any = reduction(
            ReduceOp::Max,
            &convert(&compare(CompareOp::Ne, &a, &zero)?, DType::I64)?,
            None,
            false,
        );
        return if a.size() == 0 {
            Ok(crate::ops::scalar(0.0, DType::I64))
        } else {
            any
        };
    }
    let (m, n) = matrix_dims(&a, "matrix_rank")?;
    let s = svdvals(&a)?;
    let eps = if a.dtype() == DType::F32 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    let tol = match tol {
        Some(t) => scalar_like(&s, t),
        None => mul(
            &top(&s)?,
            &scalar_like(&s, rtol.unwrap_or(m.max(n) as f64 * eps)),
        )?,
    };
    let above = convert(&compare(CompareOp::Gt, &s, &tol)?, DType::I64)?;
    reduction(ReduceOp::Sum, &above, Some(&[-1]), false)
}

/// The `ord` of a norm (NumPy's `linalg.norm`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NormOrd {
    /// The 2-norm of vectors, the Frobenius norm of matrices.
    Default,
    Fro,
    Nuc,
    Inf,
    NegInf,
    /// `sum(|x|^p)^(1/p)` of vectors (`p = 0`: the count of non-zeros); for
    /// matrices `±1` and `±2` (column sums, singular values).
    P(f64),
}

/// NumPy's `linalg.norm`: vector norms over one axis (or a flattened array),
/// matrix norms over two (`'fro'`, `'nuc'`, `±1`, `±2`, `±inf`).
pub fn norm(x: &Value, ord: NormOrd, axis: Option<&[isize]>, keepdims: bool) -> Result<Value> {
    let x = as_float(x)?;
    let nd = x.ndim() as isize;
    match axis {
        Some(ax) if ax.len() == 2 => matrix_norm_axes(&x, ord, (ax[0], ax[1]), keepdims),
        Some(ax) if ax.len() == 1 => vector_norm(&x, ord, Some(ax), keepdims),
        Some(ax) => value_err!(
            "linalg.norm: improper number of dimensions to norm: {}",
            ax.len()
        ),
        None if ord == NormOrd::Default => vector_norm(&x, NormOrd::P(2.0), None, keepdims),
        None if nd == 2 => matrix_norm_axes(&x, ord, (0, 1), keepdims),
        None if nd == 1 => vector_norm(&x, ord, None, keepdims),
        None => value_err!(
            "linalg.norm: ord={ord:?} needs a 1-d or 2-d array (or an axis), got {nd} dimensions"
        ),
    }
}

/// Vector norms over `axis` (all axes, flattened, when `None`).
pub fn vector_norm(
    x: &Value,
    ord: NormOrd,
    axis: Option<&[isize]>,
    keepdims: bool,
) -> Result<Value> {
    use crate::ops::binary::pow;
    let x = as_float(x)?;
    let all: Vec<isize> = (0..x.ndim() as isize).collect();
    let axes = axis.unwrap_or(&all);
    let sum = |v: &Value| reduction(ReduceOp::Sum, v, Some(axes), keepdims);
    match ord {
        NormOrd::Default | NormOrd::P(2.0) => sqrt(&sum(&mul(&x, &x)?)?),
        NormOrd::Fro | NormOrd::Nuc => {
            value_err!("linalg.norm: ord {ord:?} is a matrix norm; it needs two axes")
        }
        NormOrd::Inf => reduction(ReduceOp::Max, &abs(&x)?, Some(axes), keepdims),
        NormOrd::NegInf => reduction(ReduceOp::Min, &abs(&x)?, Some(axes), keepdims),
        NormOrd::P(0.0) => {
            let zero = scalar_like(&x, 0.0);
            sum(&convert(&compare(CompareOp::Ne, &x, &zero)?, x.dtype())?)
        }
        NormOrd::P(1.0) => sum(&abs(&x)?),
        NormOrd::P(p) => {
            let pp = scalar_like(&x, p);
            let inv = scalar_like(&x, 1.0 / p);
            pow(&sum(&pow(&abs(&x)?, &pp)?)?, &inv)
        }
    }
}

/// Matrix norms over the last two axes.
pub fn matrix_norm(x: &Value, ord: NormOrd, keepdims: bool) -> Result<Value> {
    matrix_dims(x, "matrix_norm")?;
    matrix_norm_axes(&as_float(x)?, ord, (-2, -1), keepdims)
}

fn matrix_norm_axes(
    x: &Value,
    ord: NormOrd,
    axes: (isize, isize),
    keepdims: bool,
) -> Result<Value> {
    let nd = x.ndim();
    let (r, c) = (normalize_axis(axes.0, nd)?, normalize_axis(axes.1, nd)?);
    if r == c {
        return value_err!("linalg.norm: duplicate axes given");
    }
    let m = moveaxis(x, &[r as isize, c as isize], &[-2, -1])?;
    let sum_abs = |axis: isize| reduction(ReduceOp::Sum, &abs(&m)?, Some(&[axis]), false);
    let ext = |v: &Value, max: bool| {
        reduction(
            if max { ReduceOp::Max } else { ReduceOp::Min },
            v,
            Some(&[-1]),
            false,
        )
    };
    let out = match ord {
        NormOrd::Default | NormOrd::Fro => sqrt(&reduction(
            ReduceOp::Sum,
            &mul(&m, &m)?,
            Some(&[-2, -1]),
            false,
        )?)?,
        NormOrd::Nuc => reduction(ReduceOp::Sum, &svdvals(&m)?, Some(&[-1]), false)?,
        NormOrd::Inf => ext(&sum_abs(-1)?, true)?,
        NormOrd::NegInf => ext(&sum_abs(-1)?, false)?,
        NormOrd::P(1.0) => ext(&sum_abs(-2)?, true)?,
        NormOrd::P(-1.0) => ext(&sum_abs(-2)?, false)?,
        NormOrd::P(2.0) => ext(&svdvals(&m)?, true)?,
        NormOrd::P(-2.0) => ext(&svdvals(&m)?, false)?,
        NormOrd::P(p) => return value_err!("linalg.norm: invalid norm order {p} for matrices"),
    };
    if keepdims {
        let (lo, hi) = (r.min(c) as isize, r.max(c) as isize);
        expand_dims(&out, &[lo, hi])
    } else {
        Ok(out)
    }
}

/// The condition number: `max(s) / min(s)` for `p` of `None` or `2`
/// (`-2`: the reciprocal), else `norm(A, p) · norm(A⁻¹, p)`.
pub fn cond(x: &Value, p: Option<NormOrd>) -> Result<Value> {
    let x = as_float(x)?;
    matrix_dims(&x, "cond")?;
    match p {
        None | Some(NormOrd::P(2.0)) | Some(NormOrd::P(-2.0)) => {
            let s = svdvals(&x)?;
            let k = s.shape()[s.ndim() - 1];
            if k == 0 {
                return value_err!("cond: the matrix is empty");
            }
            let (hi, lo) = (slice_last(&s, 0)?, slice_last(&s, k - 1)?);
            if p == Some(NormOrd::P(-2.0)) {
                div(&lo, &hi)
            } else {
                div(&hi, &lo)
            }
        }
        Some(ord) => {
            square_dims(&x, "cond")?;
            mul(
                &matrix_norm(&x, ord, false)?,
                &matrix_norm(&inv(&x)?, ord, false)?,
            )
        }
    }
}

/// The product of a chain of matrices in the cheapest order (NumPy's
/// `multi_dot`): the first may be 1-d (a row), the last 1-d (a column), the
/// others 2-d.
pub fn multi_dot(arrays: &[Value]) -> Result<Value> {
    let k = arrays.len();
    if k < 2 {
        return value_err!("multi_dot: expecting at least two arrays, got {k}");
    }
    let mut mats: Vec<Value> = arrays.to_vec();
    let first_vec = mats[0].ndim() == 1;
    let last_vec = mats[k - 1].ndim() == 1;
    if first_vec {
        mats[0] = expand_dims(&mats[0], &[0])?;
    }
    if last_vec {
        mats[k - 1] = expand_dims(&mats[k - 1], &[-1])?;
    }
    for (i, m) in mats.iter().enumerate() {
        if m.ndim() != 2 {
            return linalg_err(format!(
                "multi_dot: array {i} has {} dimensions; 2 are needed (1 for the first and last)",
                arrays[i].ndim()
            ));
        }
    }
    // dims[i] x dims[i+1] is the shape of matrix i; cost[i][j] the cheapest
    // product of matrices i..=j, split[i][j] where it splits.
    let mut dims: Vec<usize> = mats.iter().map(|m| m.shape()[0]).collect();
    dims.push(mats[k - 1].shape()[1]);
    let mut cost = vec![vec![0u128; k]; k];
    let mut split = vec![vec![0usize; k]; k];
    for len in 1..k {
        for i in 0..k - len {
            let j = i + len;
            cost[i][j] = u128::MAX;
            for s in i..j {
                let c = cost[i][s] + cost[s + 1][j] + (dims[i] * dims[s + 1] * dims[j + 1]) as u128;
                if c < cost[i][j] {
                    cost[i][j] = c;
                    split[i][j] = s;
                }
            }
        }
    }
    fn product(mats: &[Value], split: &[Vec<usize>], i: usize, j: usize) -> Result<Value> {
        if i == j {
            return Ok(mats[i].clone());
        }
        let s = split[i][j];
        matmul(
            &product(mats, split, i, s)?,
            &product(mats, split, s + 1, j)?,
        )
    }
    let r = product(&mats, &split, 0, k - 1)?;
    let s = r.shape();
    match (first_vec, last_vec) {
        (true, true) => reshape(&r, &[]),
        (true, false) => reshape(&r, &[s[1]]),
        (false, true) => reshape(&r, &[s[0]]),
        (false, false) => Ok(r),
    }
}

/// `x` with `tensordot(a, x, x.ndim) = b` (NumPy's `tensorsolve`; `axes`
/// moves those axes of `a` to the end first).
pub fn tensorsolve(a: &Value, b: &Value, axes: Option<&[isize]>) -> Result<Value> {
    let mut a = a.clone();
    if let Some(axes) = axes {
        let an = a.ndim();
        let picked: Vec<usize> = axes
            .iter()
            .map(|&x| normalize_axis(x, an))
            .collect::<Result<_>>()?;
        let mut perm: Vec<usize> = (0..an).filter(|i| !picked.contains(i)).collect();
        perm.extend(&picked);
        a = crate::ops::shape::transpose(&a, &perm)?;
    }
    let (an, bn) = (a.ndim(), b.ndim());
    if bn > an {
        return linalg_err(format!(
            "tensorsolve: b has more dimensions ({bn}) than a ({an})"
        ));
    }
    let old: Vec<usize> = a.shape()[bn..].to_vec();
    let prod: usize = old.iter().product();
    if a.size() != prod * prod || b.size() != prod {
        return linalg_err(format!(
            "tensorsolve: input arrays must satisfy prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim]); \
             got a {} and b {}",
            fmt_shape(&a.shape()),
            fmt_shape(&b.shape())
        ));
    }
    let x = solve(&reshape(&a, &[prod, prod])?, &reshape(b, &[prod])?)?;
    reshape(&x, &old)
}

/// The inverse of `a` as a tensor of `ind` leading "row" axes (NumPy's
/// `tensorinv`): `tensordot(tensorinv(a), a, ind)` is the identity.
pub fn tensorinv(a: &Value, ind: i64) -> Result<Value> {
    if ind <= 0 {
        return value_err!("tensorinv: invalid ind argument {ind} (must be positive)");
    }
    let s = a.shape();
    let ind = (ind as usize).min(s.len());
    let rows: usize = s[..ind].iter().product();
    let cols: usize = s[ind..].iter().product();
    if rows != cols {
        return linalg_err(format!(
            "tensorinv: prod(a.shape[:ind]) = {rows} must equal prod(a.shape[ind:]) = {cols}"
        ));
    }
    let inverse = inv(&reshape(a, &[rows, cols])?)?;
    let mut shape: Vec<usize> = s[ind..].to_vec();
    shape.extend_from_slice(&s[..ind]);
    reshape(&inverse, &shape)
}

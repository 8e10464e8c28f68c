//! The factorisation primitives (solve, triangular solve, Cholesky, symmetric
//! eigen, SVD, QR, log-determinant, LU) and their rules. Everything else in
//! linear algebra (inverse, determinant, pseudo-inverse, least squares,
//! norms, `expm`, ...) is composed from these in `numpy_linalg.rs` and
//! `scipy_linalg.rs`.
//!
//! A primitive has one output; one with several results (eigenvalues and
//! eigenvectors, `U, s, Vh`, `Q, R`, sign and log-determinant) returns them
//! packed along one last axis, each result's elements row-major, one after
//! the other ([`unpack`] cuts them apart as views). Each primitive works on
//! any number of leading batch axes, so batching only moves the batch axis
//! in front. Inputs are float32 or float64 (the public functions convert).
//!
//! Derivatives, real case (Giles 2008; Murray 2016 for Cholesky; Townsend 2016
//! for the SVD; Walter & Lehmann 2018 for QR; the same rules JAX and autograd
//! use). Conventions at degenerate points, where the derivative does not
//! exist: eigenvector and singular-vector derivatives drop the coupling
//! between exactly equal eigenvalues (singular values) — exact for any
//! function of the eigenvalues alone — and `1/s` is taken as 0 for a zero
//! singular value (the pseudo-inverse convention).

use crate::error::Result;
use crate::kernels::decomp as k;
use crate::ops::binary::{binary, compare, mul, sub, where_, BinaryOp};
use crate::ops::composite::expand_dims;
use crate::ops::contract::diagonal;
use crate::ops::linalg::{matmul, mt};
use crate::ops::matrix::{tril, triu};
use crate::ops::shape::{broadcast_to, concatenate, reshape, slice};
use crate::ops::unary::reciprocal;
use crate::ops::CompareOp;
use crate::ops::{all_batched, scalar_like, zeros, Cotangents, Family, Prim};
use crate::tensor::Tensor;
use crate::trace::{bind, Value};
use crate::value_err;

/// The factorisation primitives.
#[derive(Clone, Debug, PartialEq)]
pub enum Decomp {
    /// `X` with `A X = B`: inputs `a (..., n, n)`, `b (..., n, k)`, same batch shape.
    Solve,
    /// `X` with `op(T) X = B`, `op(T) = T` or `Tᵀ`, `T` triangular (`lower` or
    /// upper triangle read; unit diagonal assumed when `unit`).
    TriangularSolve {
        lower: bool,
        transpose: bool,
        unit: bool,
    },
    /// The inverse of a triangular matrix (`lower` or upper triangle read).
    TriangularInverse { lower: bool },
    /// The lower Cholesky factor of a symmetric positive-definite matrix.
    Cholesky,
    /// Cholesky's VJP as a primitive of its own, so that the common first
    /// derivative runs the blocked reverse algorithm (about a third of the
    /// closed form's work): inputs `l (..., n, n)` and its cotangent
    /// `l̄`, lower triangles read; output the symmetric `Ā`.
    CholeskyAdjoint,
    /// `[w | V]` (or `[w]`): eigenvalues ascending and eigenvectors of a symmetric matrix.
    Eigh { vectors: bool },
    /// `[U | s | Vh]` (or `[s]`): singular values descending and vectors.
    Svd { vectors: bool, full: bool },
    /// `[Q | R]`: reduced (or `complete`) QR.
    Qr { complete: bool },
    /// `[sign, log|det|]`.
    Slogdet,
    /// `[LU | piv]`: LAPACK's `getrf` layout (pivots as floats).
    LuFactor,
    /// LAPACK's row swaps `piv (..., n)` as the row order they produce
    /// (int64; no derivative).
    Permutation,
}

const LU_NOT_DIFFERENTIABLE: &str = "lu_factor is not differentiable; differentiate through \
     solve, or through lu_solve with respect to b";

fn dims(x: &Value) -> (usize, usize) {
    let s = x.shape();
    (s[s.len() - 2], s[s.len() - 1])
}

/// Cut a packed value `(..., total)` into results of the given trailing shapes.
pub fn unpack(packed: &Value, parts: &[&[usize]]) -> Result<Vec<Value>> {
    let s = packed.shape();
    let lead = &s[..s.len() - 1];
    let mut out = Vec::with_capacity(parts.len());
    let mut start = 0;
    for dims in parts {
        let len: usize = dims.iter().product();
        let mut starts = vec![0; s.len()];
        let mut lens = s.to_vec();
        starts[s.len() - 1] = start;
        lens[s.len() - 1] = len;
        let piece = slice(packed, &starts, &vec![1; s.len()], &lens)?;
        let mut shape = lead.to_vec();
        shape.extend_from_slice(dims);
        out.push(reshape(&piece, &shape)?);
        start += len;
    }
    Ok(out)
}

/// Pack results with `lead` batch axes along one last axis (inverse of [`unpack`]).
fn pack(parts: &[Value], lead: usize) -> Result<Value> {
    let flat: Vec<Value> = parts
        .iter()
        .map(|p| {
            let s = p.shape();
            let mut shape = s[..lead].to_vec();
            shape.push(s[lead..].iter().product());
            reshape(p, &shape)
        })
        .collect::<Result<_>>()?;
    concatenate(&flat, -1)
}

fn add(a: &Value, b: &Value) -> Result<Value> {
    binary(BinaryOp::Add, a, b)
}

/// `x[..., None, :]`: a vector as a row, broadcasting down columns (`M S`
/// is `M * row(s)` for `S = diag(s)`).
fn row(v: &Value) -> Result<Value> {
    expand_dims(v, &[-2])
}

/// `x[..., :, None]` (`S M` is `col(s) * M`).
fn col(v: &Value) -> Result<Value> {
    expand_dims(v, &[-1])
}

/// `diag(v)` over a batch of vectors.
fn diag_embed(v: &Value) -> Result<Value> {
    let n = v.shape()[v.ndim() - 1];
    let eye = crate::ops::creation::eye(n as i64, None, 0, v.dtype())?;
    mul(&col(v)?, &eye)
}

/// `1 / x` where `x != 0`, else 0, with derivatives that stay finite (the
/// division only ever sees the safe operand).
fn safe_reciprocal(x: &Value) -> Result<Value> {
    let zero = scalar_like(x, 0.0);
    let is_zero = compare(CompareOp::Eq, x, &zero)?;
    let safe = where_(&is_zero, &scalar_like(x, 1.0), x)?;
    where_(&is_zero, &zero, &reciprocal(&safe)?)
}

/// `F[i, j] = 1 / (d[j] - d[i])` off the diagonal, 0 where `d[i] == d[j]`.
fn gap_inverse(d: &Value) -> Result<Value> {
    safe_reciprocal(&sub(&row(d)?, &col(d)?)?)
}

/// Solve with the triangular `t`.
pub fn tri_solve(t: &Value, b: &Value, lower: bool, transpose: bool, unit: bool) -> Result<Value> {
    bind(
        &Prim::Decomp(Decomp::TriangularSolve {
            lower,
            transpose,
            unit,
        }),
        &[t.clone(), b.clone()],
    )
}

/// The inverse of the triangular `t`.
pub fn tri_inverse(t: &Value, lower: bool) -> Result<Value> {
    bind(
        &Prim::Decomp(Decomp::TriangularInverse { lower }),
        std::slice::from_ref(t),
    )
}

/// `A⁻¹ B` for square `a`, `b` of the same batch shape.
pub fn solve_same_batch(a: &Value, b: &Value) -> Result<Value> {
    bind(&Prim::Decomp(Decomp::Solve), &[a.clone(), b.clone()])
}

/// The entries of the triangle a triangular solve reads.
fn triangle(x: &Value, lower: bool, unit: bool) -> Result<Value> {
    let k = if unit { 1 } else { 0 };
    if lower {
        tril(x, -k)
    } else {
        triu(x, k)
    }
}

/// `(x + xᵀ) / 2` over the last two axes.
pub(crate) fn symmetric_part(x: &Value) -> Result<Value> {
    mul(&add(x, &mt(x)?)?, &scalar_like(x, 0.5))
}

/// `tril(x)` with the diagonal halved: Cholesky's `Φ`.
fn phi(x: &Value) -> Result<Value> {
    let half = scalar_like(x, 0.5);
    add(
        &tril(x, -1)?,
        &mul(&diag_embed(&diagonal(x, 0, -2, -1)?)?, &half)?,
    )
}

impl Decomp {
    fn bind1(&self, x: &Value) -> Result<Value> {
        bind(&Prim::Decomp(self.clone()), std::slice::from_ref(x))
    }

    /// Eigenvalues and eigenvectors of `a` (recomputed when only the values were).
    fn eigh_parts(&self, a: &Value, out: &Value) -> Result<(Value, Value)> {
        let n = a.shape()[a.ndim() - 1];
        let packed = match self {
            Decomp::Eigh { vectors: true } => out.clone(),
            _ => Decomp::Eigh { vectors: true }.bind1(a)?,
        };
        let p = unpack(&packed, &[&[n], &[n, n]])?;
        Ok((p[0].clone(), p[1].clone()))
    }

    /// `U, s, V` (thin) of `a`, recomputed when only the values were.
    fn svd_parts(&self, a: &Value, out: &Value) -> Result<(Value, Value, Value)> {
        let (m, n) = dims(a);
        let kk = m.min(n);
        let packed = match self {
            Decomp::Svd { vectors: true, .. } => out.clone(),
            _ => Decomp::Svd {
                vectors: true,
                full: false,
            }
            .bind1(a)?,
        };
        let p = unpack(&packed, &[&[m, kk], &[kk], &[kk, n]])?;
        Ok((p[0].clone(), p[1].clone(), mt(&p[2])?))
    }

    fn check_differentiable(&self, a: &Value) -> Result<()> {
        let (m, n) = dims(a);
        match self {
            Decomp::Svd { full: true, .. } if m != n => value_err!(
                "the derivative of svd with full_matrices=True exists only for square matrices \
                 (got {m}x{n}); use full_matrices=False"
            ),
            Decomp::Qr { complete } if m < n || (*complete && m != n) => value_err!(
                "the derivative of qr is implemented for m >= n with mode='reduced' \
                 (and square matrices with mode='complete'), got {m}x{n}"
            ),
            _ => Ok(()),
        }
    }
}

impl Family for Decomp {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let a = inputs[0];
        match *self {
            Decomp::Solve => k::solve(a, inputs[1]),
            Decomp::TriangularSolve {
                lower,
                transpose,
                unit,
            } => k::triangular_solve(a, inputs[1], lower, transpose, unit),
            Decomp::TriangularInverse { lower } => k::triangular_inverse(a, lower),
            Decomp::Cholesky => k::cholesky(a),
            Decomp::CholeskyAdjoint => k::cholesky_adjoint(a, inputs[1]),
            Decomp::Eigh { vectors } => k::eigh(a, vectors),
            Decomp::Svd { vectors, full } => k::svd(a, vectors, full),
            Decomp::Qr { complete } => k::qr(a, complete),
            Decomp::Slogdet => k::slogdet(a),
            Decomp::LuFactor => k::lu_factor(a),
            Decomp::Permutation => k::pivots_to_permutation(a),
        }
    }

    fn jvp(&self, p: &[Value], t: &[Option<Value>], out: &Value) -> Result<Option<Value>> {
        if t.iter().all(Option::is_none) {
            return Ok(None);
        }
        self.check_differentiable(&p[0])?;
        let a = &p[0];
        let lead = a.ndim() - 2;
        let r = match *self {
            Decomp::Solve => {
                // Ẋ = A⁻¹ (Ḃ − Ȧ X)
                let mut rhs = t[1].clone();
                if let Some(ta) = &t[0] {
                    let ax = matmul(ta, out)?;
                    rhs = Some(match rhs {
                        Some(r) => sub(&r, &ax)?,
                        None => crate::ops::unary::neg(&ax)?,
                    });
                }
                solve_same_batch(a, &rhs.expect("some tangent is present"))?
            }
            Decomp::TriangularSolve {
                lower,
                transpose,
                unit,
            } => {
                // Ẋ = op(T)⁻¹ (Ḃ − op(Ṫ) X), Ṫ restricted to the triangle read
                let mut rhs = t[1].clone();
                if let Some(tt) = &t[0] {
                    let tt = triangle(tt, lower, unit)?;
                    let op = if transpose { mt(&tt)? } else { tt };
                    let tx = matmul(&op, out)?;
                    rhs = Some(match rhs {
                        Some(r) => sub(&r, &tx)?,
                        None => crate::ops::unary::neg(&tx)?,
                    });
                }
                tri_solve(a, &rhs.expect("some tangent"), lower, transpose, unit)?
            }
            Decomp::TriangularInverse { lower } => {
                // d(T⁻¹) = −T⁻¹ Ṫ T⁻¹, Ṫ restricted to the triangle read
                let ta = triangle(t[0].as_ref().expect("one input"), lower, false)?;
                crate::ops::unary::neg(&matmul(out, &matmul(&ta, out)?)?)?
            }
            Decomp::Cholesky => {
                // L̇ = L Φ(L⁻¹ sym(Ȧ) L⁻ᵀ): products with L⁻¹, which run at GEMM
                // speed. Ȧ is symmetrised so that the VJP (a symmetric Ā) is
                // exactly this map's adjoint.
                let ta = symmetric_part(t[0].as_ref().expect("one input"))?;
                let linv = tri_inverse(out, true)?;
                let x = matmul(&linv, &matmul(&ta, &mt(&linv)?)?)?;
                matmul(out, &phi(&x)?)?
            }
            Decomp::CholeskyAdjoint => {
                // Ā = sym(S), S = L⁻ᵀ P L⁻¹, P = Φ(Lᵀ L̄), differentiated in
                // closed form: Ṡ = (L⁻¹)˙ᵀ P L⁻¹ + L⁻ᵀ Ṗ L⁻¹ + L⁻ᵀ P (L⁻¹)˙ with
                // (L⁻¹)˙ = −L⁻¹ L̇ L⁻¹ and Ṗ = Φ(L̇ᵀ L̄ + Lᵀ L̄̇); tangents on the
                // lower triangles the primal reads.
                let (l, lbar) = (&p[0], &p[1]);
                let linv = tri_inverse(l, true)?;
                let pm = phi(&matmul(&mt(l)?, lbar)?)?;
                let mut ds: Option<Value> = None;
                let mut acc = |x: Value| -> Result<()> {
                    ds = Some(match ds.take() {
                        Some(d) => add(&d, &x)?,
                        None => x,
                    });
                    Ok(())
                };
                if let Some(tl) = &t[0] {
                    let tl = tril(tl, 0)?;
                    let dlinv = crate::ops::unary::neg(&matmul(&linv, &matmul(&tl, &linv)?)?)?;
                    acc(matmul(&mt(&dlinv)?, &matmul(&pm, &linv)?)?)?;
                    acc(matmul(&mt(&linv)?, &matmul(&pm, &dlinv)?)?)?;
                    acc(matmul(
                        &mt(&linv)?,
                        &matmul(&phi(&matmul(&mt(&tl)?, lbar)?)?, &linv)?,
                    )?)?;
                }
                if let Some(tb) = &t[1] {
                    let tb = tril(tb, 0)?;
                    acc(matmul(
                        &mt(&linv)?,
                        &matmul(&phi(&matmul(&mt(l)?, &tb)?)?, &linv)?,
                    )?)?;
                }
                symmetric_part(&ds.expect("some tangent is present"))?
            }
            Decomp::Eigh { vectors } => {
                let ta = t[0].as_ref().expect("one input");
                let (w, v) = self.eigh_parts(a, out)?;
                let m = matmul(&mt(&v)?, &matmul(ta, &v)?)?; // Vᵀ Ȧ V
                let dw = diagonal(&m, 0, -2, -1)?;
                if vectors {
                    let dv = matmul(&v, &mul(&gap_inverse(&w)?, &m)?)?;
                    pack(&[dw, dv], lead)?
                } else {
                    dw
                }
            }
            Decomp::Svd { vectors, .. } => {
                let ta = t[0].as_ref().expect("one input");
                let (u, s, v) = self.svd_parts(a, out)?;
                let (mm, nn) = dims(a);
                let kk = mm.min(nn);
                let m = matmul(&mt(&u)?, &matmul(ta, &v)?)?; // Uᵀ Ȧ V
                let ds = diagonal(&m, 0, -2, -1)?;
                if !vectors {
                    ds
                } else {
                    let f = gap_inverse(&mul(&s, &s)?)?;
                    let s_inv = safe_reciprocal(&s)?;
                    let ms = mul(&m, &row(&s)?)?; // M S
                    let sm = mul(&col(&s)?, &m)?; // S M
                    let mut du = matmul(&u, &mul(&f, &add(&ms, &mt(&ms)?)?)?)?;
                    let mut dv = matmul(&v, &mul(&f, &add(&sm, &mt(&sm)?)?)?)?;
                    if mm > kk {
                        let dav = matmul(ta, &v)?;
                        let proj = sub(&dav, &matmul(&u, &matmul(&mt(&u)?, &dav)?)?)?;
                        du = add(&du, &mul(&proj, &row(&s_inv)?)?)?;
                    }
                    if nn > kk {
                        let dau = matmul(&mt(ta)?, &u)?;
                        let proj = sub(&dau, &matmul(&v, &matmul(&mt(&v)?, &dau)?)?)?;
                        dv = add(&dv, &mul(&proj, &row(&s_inv)?)?)?;
                    }
                    pack(&[du, ds, mt(&dv)?], lead)?
                }
            }
            Decomp::Qr { .. } => {
                let ta = t[0].as_ref().expect("one input");
                let (q, r) = qr_parts(a, out)?;
                // X = Ȧ R⁻¹, C = Qᵀ X, Ω = tril(C, -1) − tril(C, -1)ᵀ
                let x = mt(&tri_solve(&r, &mt(ta)?, false, true, false)?)?;
                let c = matmul(&mt(&q)?, &x)?;
                let low = tril(&c, -1)?;
                let omega = sub(&low, &mt(&low)?)?;
                let dq = add(&matmul(&q, &sub(&omega, &c)?)?, &x)?;
                let dr = matmul(&sub(&c, &omega)?, &r)?;
                pack(&[dq, dr], lead)?
            }
            Decomp::Slogdet => {
                // d log|det A| = tr(A⁻¹ Ȧ); the sign is locally constant
                let ta = t[0].as_ref().expect("one input");
                let dl = crate::ops::contract::trace(&solve_same_batch(a, ta)?, 0, -2, -1)?;
                let dl = expand_dims(&dl, &[-1])?;
                concatenate(&[zeros(&dl.shape(), dl.dtype())?, dl], -1)?
            }
            Decomp::LuFactor => return value_err!("{LU_NOT_DIFFERENTIABLE}"),
            Decomp::Permutation => return Ok(None),
        };
        Ok(Some(r))
    }

    fn vjp(&self, p: &[Value], out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        self.check_differentiable(&p[0])?;
        let a = &p[0];
        let r: Cotangents = match *self {
            Decomp::Solve => {
                // B̄ = A⁻ᵀ X̄, Ā = −B̄ Xᵀ
                let gb = solve_same_batch(&mt(a)?, ct)?;
                let ga = if needs[0] {
                    Some(crate::ops::unary::neg(&matmul(&gb, &mt(out)?)?)?)
                } else {
                    None
                };
                smallvec::smallvec![ga, needs[1].then_some(gb)]
            }
            Decomp::TriangularSolve {
                lower,
                transpose,
                unit,
            } => {
                let gb = tri_solve(a, ct, lower, !transpose, unit)?;
                let ga = if needs[0] {
                    let g = if transpose {
                        matmul(out, &mt(&gb)?)?
                    } else {
                        matmul(&gb, &mt(out)?)?
                    };
                    Some(crate::ops::unary::neg(&triangle(&g, lower, unit)?)?)
                } else {
                    None
                };
                smallvec::smallvec![ga, needs[1].then_some(gb)]
            }
            Decomp::TriangularInverse { lower } => {
                // T̄ = −T⁻ᵀ Ḡ T⁻ᵀ on the triangle read
                let it = mt(out)?;
                let g = matmul(&it, &matmul(ct, &it)?)?;
                smallvec::smallvec![Some(crate::ops::unary::neg(&triangle(&g, lower, false)?)?)]
            }
            Decomp::Cholesky => {
                // Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹), by the blocked reverse algorithm
                let ga = bind(
                    &Prim::Decomp(Decomp::CholeskyAdjoint),
                    &[out.clone(), ct.clone()],
                )?;
                smallvec::smallvec![Some(ga)]
            }
            Decomp::CholeskyAdjoint => {
                // the adjoint of the JVP above: with S̄ = sym(Ḡ),
                // (L⁻¹)‾ = P L⁻¹ S̄ᵀ + Pᵀ L⁻¹ S̄, Q̄ = Φ(L⁻¹ S̄ L⁻ᵀ),
                // L̄_in = tril(L̄ Q̄ᵀ − L⁻ᵀ (L⁻¹)‾ L⁻ᵀ), L̄̄ = tril(L Q̄)
                let (l, lbar) = (&p[0], &p[1]);
                let linv = tri_inverse(l, true)?;
                let linv_t = mt(&linv)?;
                let sbar = symmetric_part(ct)?;
                let qbar = phi(&matmul(&linv, &matmul(&sbar, &linv_t)?)?)?;
                let g_l = if needs[0] {
                    let pm = phi(&matmul(&mt(l)?, lbar)?)?;
                    let pl = matmul(&pm, &linv)?;
                    let linv_bar = add(
                        &matmul(&pl, &mt(&sbar)?)?,
                        &matmul(&mt(&pm)?, &matmul(&linv, &sbar)?)?,
                    )?;
                    let from_inv = matmul(&linv_t, &matmul(&linv_bar, &linv_t)?)?;
                    Some(tril(&sub(&matmul(lbar, &mt(&qbar)?)?, &from_inv)?, 0)?)
                } else {
                    None
                };
                let g_lbar = if needs[1] {
                    Some(tril(&matmul(l, &qbar)?, 0)?)
                } else {
                    None
                };
                smallvec::smallvec![g_l, g_lbar]
            }
            Decomp::Eigh { vectors } => {
                let n = a.shape()[a.ndim() - 1];
                let (w, v) = self.eigh_parts(a, out)?;
                let (gw, inner) = if vectors {
                    let c = unpack(ct, &[&[n], &[n, n]])?;
                    let vtg = matmul(&mt(&v)?, &c[1])?;
                    (c[0].clone(), Some(mul(&gap_inverse(&w)?, &vtg)?))
                } else {
                    (ct.clone(), None)
                };
                let mut mid = diag_embed(&gw)?;
                if let Some(i) = inner {
                    mid = add(&mid, &i)?;
                }
                smallvec::smallvec![Some(matmul(&v, &matmul(&mid, &mt(&v)?)?)?)]
            }
            Decomp::Svd { vectors, .. } => {
                let (mm, nn) = dims(a);
                let kk = mm.min(nn);
                let (u, s, v) = self.svd_parts(a, out)?;
                let ga = if !vectors {
                    matmul(&u, &matmul(&diag_embed(ct)?, &mt(&v)?)?)?
                } else {
                    let c = unpack(ct, &[&[mm, kk], &[kk], &[kk, nn]])?;
                    let (gu, gs, gv) = (&c[0], &c[1], mt(&c[2])?);
                    let f = gap_inverse(&mul(&s, &s)?)?;
                    let s_inv = safe_reciprocal(&s)?;
                    let j = mul(&f, &matmul(&mt(&u)?, gu)?)?;
                    let kmat = mul(&f, &matmul(&mt(&v)?, &gv)?)?;
                    let mbar = add(
                        &add(
                            &mul(&add(&j, &mt(&j)?)?, &row(&s)?)?,
                            &mul(&col(&s)?, &add(&kmat, &mt(&kmat)?)?)?,
                        )?,
                        &diag_embed(gs)?,
                    )?;
                    let mut ga = matmul(&u, &matmul(&mbar, &mt(&v)?)?)?;
                    if mm > kk {
                        let proj = sub(gu, &matmul(&u, &matmul(&mt(&u)?, gu)?)?)?;
                        ga = add(&ga, &matmul(&mul(&proj, &row(&s_inv)?)?, &mt(&v)?)?)?;
                    }
                    if nn > kk {
                        let proj = sub(&gv, &matmul(&v, &matmul(&mt(&v)?, &gv)?)?)?;
                        ga = add(&ga, &matmul(&u, &mul(&col(&s_inv)?, &mt(&proj)?)?)?)?;
                    }
                    ga
                };
                smallvec::smallvec![Some(ga)]
            }
            Decomp::Qr { .. } => {
                let (q, r) = qr_parts(a, out)?;
                let (mm, nn) = dims(a);
                let c = unpack(ct, &[&[mm, nn], &[nn, nn]])?;
                let (gq, gr) = (&c[0], &c[1]);
                // G = QᵀQ̄ − R̄Rᵀ, C̄ = tril(G − Gᵀ, −1) − G, X̄ = Q C̄ + Q̄, Ā = X̄ R⁻ᵀ
                let g = sub(&matmul(&mt(&q)?, gq)?, &matmul(gr, &mt(&r)?)?)?;
                let cbar = sub(&tril(&sub(&g, &mt(&g)?)?, -1)?, &g)?;
                let xbar = add(&matmul(&q, &cbar)?, gq)?;
                smallvec::smallvec![Some(mt(&tri_solve(&r, &mt(&xbar)?, false, false, false)?)?)]
            }
            Decomp::Slogdet => {
                // Ā = l̄ A⁻ᵀ (the sign's cotangent has no effect: it is locally constant)
                let n = a.shape()[a.ndim() - 1];
                let eye = crate::ops::creation::eye(n as i64, None, 0, a.dtype())?;
                let inv_t = solve_same_batch(&mt(a)?, &broadcast_to(&eye, &a.shape())?)?;
                let gl = expand_dims(&slice_last(ct, 1)?, &[-1, -2])?;
                smallvec::smallvec![Some(mul(&gl, &inv_t)?)]
            }
            Decomp::LuFactor => return value_err!("{LU_NOT_DIFFERENTIABLE}"),
            Decomp::Permutation => smallvec::smallvec![None],
        };
        Ok(r)
    }

    fn batch(&self, v: &[Value], b: &[bool], size: usize) -> Result<(Value, bool)> {
        let args = all_batched(v, b, size)?;
        Ok((bind(&Prim::Decomp(self.clone()), &args)?, true))
    }

    fn sparsity(
        &self,
        _p: &[Value],
        d: &[Option<&crate::trace::Deps>],
        out: &Value,
    ) -> Result<Option<crate::trace::Deps>> {
        // a factorisation mixes every entry of its matrices
        crate::ops::sparsity::dense(d, out)
    }
    fn differentiable(&self) -> bool {
        *self != Decomp::Permutation
    }
}

/// `Q, R` of a reduced QR from its packed output.
fn qr_parts(a: &Value, out: &Value) -> Result<(Value, Value)> {
    let (m, n) = dims(a);
    let kk = m.min(n);
    let p = unpack(out, &[&[m, kk], &[kk, n]])?;
    Ok((p[0].clone(), p[1].clone()))
}

/// `x[..., i]` of a packed value.
pub(crate) fn slice_last(x: &Value, i: usize) -> Result<Value> {
    let s = x.shape();
    let mut starts = vec![0; s.len()];
    let mut lens = s.to_vec();
    starts[s.len() - 1] = i;
    lens[s.len() - 1] = 1;
    let piece = slice(x, &starts, &vec![1; s.len()], &lens)?;
    reshape(&piece, &s[..s.len() - 1])
}

//! Dense factorisations and solves over a batch of matrices, computed by
//! `faer`: LU with partial pivoting, Cholesky, QR, symmetric eigen, SVD,
//! triangular solves, determinants.
//!
//! Inputs are float tensors `(..., m, n)`; every matrix of the batch is read
//! in place (row-major, no copy when the tensor is contiguous). A kernel with
//! several results writes them packed: for each matrix, the row-major
//! elements of each result one after the other, along one last axis (the
//! `ops` layer slices them apart). Batches are spread over the kernel pool,
//! each matrix factorised sequentially; one large matrix alone (eigh, SVD)
//! runs faer's own parallel algorithm on the kernel pool instead. faer's
//! global parallelism is set to sequential before its first use, so faer
//! never reaches rayon's global pool (which a forked child could not
//! rebuild): parallel calls name the kernel pool explicitly.
//!
//! Failures NumPy reports as `LinAlgError` (a singular matrix to a solve, a
//! matrix that is not positive definite to Cholesky, an iteration that does not
//! converge) are `Error::LinAlg`. The iterative decompositions (eigen, SVD) of
//! a matrix holding NaN or infinity are all-NaN without running the iteration.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use std::sync::Once;

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::ComputeEigenvectors;
use faer::linalg::svd::ComputeSvdVectors;
use faer::traits::RealField;
use faer::{Mat, MatMut, MatRef, Par, Side};

use crate::error::{Error, Result};
use crate::kernels::copy::contiguous;
use crate::kernels::parallel::{pool, run_tasks};
use crate::tensor::{DType, Element, Tensor};

/// The float element types the factorisations run on.
pub trait Real: Element + RealField + Copy {}
impl Real for f32 {}
impl Real for f64 {}

/// Work (multiply-adds) below which a batch stays on the calling thread.
const PAR_WORK: usize = 1 << 16;

/// Run `f` on every matrix of `x: (..., m, n)`, each writing `out_len`
/// elements of a packed result of shape `(..., out_len)`.
fn per_matrix<T: Real>(
    x: &Tensor,
    out_len: usize,
    f: impl Fn(MatRef<'_, T>, &mut [T]) -> Result<()> + Sync,
) -> Result<Tensor> {
    faer_sequential_by_default();
    let (batch, m, n) = split_shape(x.shape());
    let x = contiguous(x)?;
    let data = x.contiguous_slice::<T>()?;
    let mut shape: Vec<usize> = x.shape()[..x.ndim() - 2].to_vec();
    shape.push(out_len);
    Tensor::try_build_overwrite::<T>(&shape, |out| {
        run_batch(batch, m * n * m.max(n), out, out_len, |i, o| {
            f(
                MatRef::from_row_major_slice(&data[i * m * n..(i + 1) * m * n], m, n),
                o,
            )
        })
    })
}

/// Like [`per_matrix`], for two operands with the same batch shape.
fn per_pair<T: Real>(
    a: &Tensor,
    b: &Tensor,
    out_len: usize,
    f: impl Fn(MatRef<'_, T>, MatRef<'_, T>, &mut [T]) -> Result<()> + Sync,
) -> Result<Tensor> {
    faer_sequential_by_default();
    let (batch, m, n) = split_shape(a.shape());
    let (_, p, q) = split_shape(b.shape());
    let (a, b) = (contiguous(a)?, contiguous(b)?);
    let (da, db) = (a.contiguous_slice::<T>()?, b.contiguous_slice::<T>()?);
    let mut shape: Vec<usize> = a.shape()[..a.ndim() - 2].to_vec();
    shape.push(out_len);
    Tensor::try_build_overwrite::<T>(&shape, |out| {
        run_batch(batch, m * n * m.max(q), out, out_len, |i, o| {
            f(
                MatRef::from_row_major_slice(&da[i * m * n..(i + 1) * m * n], m, n),
                MatRef::from_row_major_slice(&db[i * p * q..(i + 1) * p * q], p, q),
                o,
            )
        })
    })
}

/// faer's high-level calls read a process-wide parallelism, rayon's global
/// pool by default: make it sequential, once, before any of them runs.
fn faer_sequential_by_default() {
    static SEQ: Once = Once::new();
    SEQ.call_once(|| faer::set_global_parallelism(Par::Seq));
}

/// Multiply-adds (`m n max(m, n)`) from which one matrix alone is worth
/// faer's parallel algorithm on the kernel pool (measured: eigh at n = 512
/// takes 25 ms sequentially and 16 ms on two threads).
const PAR_MATRIX_WORK: usize = 192 * 192 * 192;

/// Like [`per_matrix`], giving `f` the parallelism to use: the kernel pool's
/// threads for one large matrix alone, sequential otherwise (a batch is
/// spread over the pool instead).
fn per_matrix_par<T: Real>(
    x: &Tensor,
    out_len: usize,
    f: impl Fn(MatRef<'_, T>, &mut [T], Par) -> Result<()> + Sync,
) -> Result<Tensor> {
    faer_sequential_by_default();
    let (batch, m, n) = split_shape(x.shape());
    let Some((pool, threads)) = single_matrix_pool(batch, m * n * m.max(n)) else {
        return per_matrix(x, out_len, |a, o| f(a, o, Par::Seq));
    };
    let x = contiguous(x)?;
    let data = x.contiguous_slice::<T>()?;
    on_pool(x.shape(), out_len, &pool, threads, |out, par| {
        f(MatRef::from_row_major_slice(data, m, n), out, par)
    })
}

/// `f(out, par)` for the one matrix of a batch of one, on the kernel pool's
/// `threads`, writing a packed result `(..., out_len)` after the batch axes
/// of `shape`; a panic inside faer becomes an error, and Ctrl-C is polled
/// after it.
fn on_pool<T: Real>(
    shape: &[usize],
    out_len: usize,
    pool: &rayon::ThreadPool,
    threads: usize,
    f: impl FnOnce(&mut [T], Par) -> Result<()> + Send,
) -> Result<Tensor> {
    let mut out_shape: Vec<usize> = shape[..shape.len() - 2].to_vec();
    out_shape.push(out_len);
    Tensor::try_build_overwrite::<T>(&out_shape, |out| {
        pool.install(|| guarded(|| f(out, Par::rayon(threads))))?;
        if crate::interrupt::poll() {
            return Err(Error::Interrupted);
        }
        Ok(())
    })
}

/// The kernel pool and its size, when one matrix alone (`batch == 1`) with
/// `work` multiply-adds is worth faer's parallel algorithm.
fn single_matrix_pool(
    batch: usize,
    work: usize,
) -> Option<(std::sync::Arc<rayon::ThreadPool>, usize)> {
    let p = pool()?;
    let threads = p.current_num_threads();
    (batch == 1 && work >= PAR_MATRIX_WORK && threads > 1).then_some((p, threads))
}

/// Like [`per_pair`], with the parallelism of [`per_matrix_par`].
fn per_pair_par<T: Real>(
    a: &Tensor,
    b: &Tensor,
    out_len: usize,
    f: impl Fn(MatRef<'_, T>, MatRef<'_, T>, &mut [T], Par) -> Result<()> + Sync,
) -> Result<Tensor> {
    faer_sequential_by_default();
    let (batch, m, n) = split_shape(a.shape());
    let (_, p, q) = split_shape(b.shape());
    let Some((pool, threads)) = single_matrix_pool(batch, m * n * m.max(q)) else {
        return per_pair(a, b, out_len, |x, y, o| f(x, y, o, Par::Seq));
    };
    let (a, b) = (contiguous(a)?, contiguous(b)?);
    let (da, db) = (a.contiguous_slice::<T>()?, b.contiguous_slice::<T>()?);
    on_pool(a.shape(), out_len, &pool, threads, |out, par| {
        f(
            MatRef::from_row_major_slice(da, m, n),
            MatRef::from_row_major_slice(db, p, q),
            out,
            par,
        )
    })
}

/// `task()`, with a panic inside faer (an internal assertion) turned into an
/// error, never an abort.
fn guarded<R>(task: impl FnOnce() -> Result<R>) -> Result<R> {
    catch_unwind(AssertUnwindSafe(task)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(Error::Value(format!(
            "internal error in a linear-algebra kernel: {msg}"
        )))
    })
}

/// `(batch count, rows, cols)` of a `(..., m, n)` shape.
fn split_shape(s: &[usize]) -> (usize, usize, usize) {
    let r = s.len();
    (s[..r - 2].iter().product(), s[r - 2], s[r - 1])
}

/// `task(i, out_i)` for each of `batch` matrices, whose outputs are
/// consecutive `out_len`-element pieces of `out`; over the pool when the
/// batch is worth it. The first error is returned; a panic inside faer (an
/// internal assertion) becomes an error, never an abort.
fn run_batch<T: Real>(
    batch: usize,
    work_each: usize,
    out: &mut [T],
    out_len: usize,
    task: impl Fn(usize, &mut [T]) -> Result<()> + Sync,
) -> Result<()> {
    let guarded = |i: usize, o: &mut [T]| -> Result<()> { guarded(|| task(i, o)) };
    if batch == 0 || out_len == 0 {
        return Ok(());
    }
    if batch == 1 || batch.saturating_mul(work_each) < PAR_WORK {
        for (i, o) in out.chunks_mut(out_len).enumerate() {
            if crate::interrupt::poll() {
                return Err(Error::Interrupted);
            }
            guarded(i, o)?;
        }
        return Ok(());
    }
    let pieces: Vec<Mutex<&mut [T]>> = out.chunks_mut(out_len).map(Mutex::new).collect();
    let first_err: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    run_tasks(batch, |i| {
        let mut o = pieces[i].lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = guarded(i, &mut o) {
            let mut slot = first_err.lock().unwrap_or_else(|e| e.into_inner());
            // Report the error of the lowest batch index, as a serial loop would.
            if slot.as_ref().is_none_or(|(j, _)| i < *j) {
                *slot = Some((i, e));
            }
        }
    });
    if crate::interrupt::poll() {
        return Err(Error::Interrupted);
    }
    match first_err.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

fn linalg_err<T>(msg: &str) -> Result<T> {
    Err(Error::LinAlg(msg.to_string()))
}

fn all_finite<T: Real>(a: MatRef<'_, T>) -> bool {
    (0..a.ncols()).all(|j| (0..a.nrows()).all(|i| a[(i, j)].to_f64().is_finite()))
}

/// Copy `m` (any layout) into `out` row-major.
fn write_rows<T: Real>(m: MatRef<'_, T>, out: &mut [T]) {
    let n = m.ncols();
    for i in 0..m.nrows() {
        for j in 0..n {
            out[i * n + j] = m[(i, j)];
        }
    }
}

fn nan<T: Real>() -> T {
    T::from_f64(f64::NAN)
}

macro_rules! float_dispatch {
    ($x:expr, $T:ident => $body:expr) => {
        match $x.dtype() {
            DType::F32 => {
                type $T = f32;
                $body
            }
            DType::F64 => {
                type $T = f64;
                $body
            }
            d => crate::type_err!("linear algebra needs float32 or float64 input, got {d}"),
        }
    };
}

/// `X` with `A X = B` for `a: (..., n, n)`, `b: (..., n, k)` (same batch
/// shape), by LU with partial pivoting. An exactly zero pivot is a singular
/// matrix (`LinAlgError`, as LAPACK's `gesv`).
pub fn solve(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (_, _, k) = split_shape(b.shape());
    let n = a.shape()[a.ndim() - 1];
    let t = float_dispatch!(a, T => per_pair::<T>(a, b, n * k, |a, b, out| {
        let lu = a.partial_piv_lu();
        let u = lu.U();
        if (0..n).any(|i| u[(i, i)] == T::from_f64(0.0)) {
            return linalg_err("Singular matrix");
        }
        let x = faer::linalg::solvers::Solve::solve(&lu, b);
        write_rows(x.as_ref(), out);
        Ok(())
    }))?;
    reshape_last(t, &[n, k])
}

/// Replace the packed last axis of `t` by `dims`.
fn reshape_last(t: Tensor, dims: &[usize]) -> Result<Tensor> {
    let mut shape: Vec<usize> = t.shape()[..t.ndim() - 1].to_vec();
    shape.extend_from_slice(dims);
    Ok(t.reshape_view(&shape)?
        .expect("a fresh contiguous tensor reshapes as a view"))
}

/// `X` with `op(T) X = B`, `op(T)` being `T` or `Tᵀ`, for triangular `t` of
/// which only the `lower` or upper triangle is read (its diagonal taken as
/// ones when `unit`). A zero on the diagonal is a singular matrix.
pub fn triangular_solve(
    t: &Tensor,
    b: &Tensor,
    lower: bool,
    transpose: bool,
    unit: bool,
) -> Result<Tensor> {
    let (_, n, k) = split_shape(b.shape());
    let r = float_dispatch!(t, T => per_pair_par::<T>(t, b, n * k, |t, b, out, par| {
        if !unit && (0..n).any(|i| t[(i, i)] == T::from_f64(0.0)) {
            return linalg_err("Singular matrix: a zero on the diagonal of the triangular matrix");
        }
        let mut x = b.to_owned();
        let (tri, low) = if transpose { (t.transpose(), !lower) } else { (t, lower) };
        let rhs: MatMut<'_, T> = x.as_mut();
        use faer::linalg::triangular_solve as ts;
        match (low, unit) {
            (true, false) => ts::solve_lower_triangular_in_place(tri, rhs, par),
            (true, true) => ts::solve_unit_lower_triangular_in_place(tri, rhs, par),
            (false, false) => ts::solve_upper_triangular_in_place(tri, rhs, par),
            (false, true) => ts::solve_unit_upper_triangular_in_place(tri, rhs, par),
        }
        write_rows(x.as_ref(), out);
        Ok(())
    }))?;
    reshape_last(r, &[n, k])
}

/// The inverse of each triangular matrix, reading its `lower` or upper
/// triangle (zeros in the other). A zero on the diagonal is a singular matrix.
pub fn triangular_inverse(t: &Tensor, lower: bool) -> Result<Tensor> {
    let n = t.shape()[t.ndim() - 1];
    let r = float_dispatch!(t, T => per_matrix_par::<T>(t, n * n, |t, out, par| {
        if (0..n).any(|i| t[(i, i)] == T::from_f64(0.0)) {
            return linalg_err("Singular matrix: a zero on the diagonal of the triangular matrix");
        }
        let mut inv = faer::Mat::<T>::zeros(n, n);
        use faer::linalg::triangular_inverse as ti;
        if lower {
            ti::invert_lower_triangular(inv.as_mut(), t, par);
        } else {
            ti::invert_upper_triangular(inv.as_mut(), t, par);
        }
        for i in 0..n {
            for j in 0..n {
                let inside = if lower { j <= i } else { j >= i };
                out[i * n + j] = if inside { inv[(i, j)] } else { T::from_f64(0.0) };
            }
        }
        Ok(())
    }))?;
    reshape_last(r, &[n, n])
}

/// The lower Cholesky factor `L` (`A = L Lᵀ`) of each matrix, reading its
/// lower triangle; zeros above the diagonal.
pub fn cholesky(a: &Tensor) -> Result<Tensor> {
    let n = a.shape()[a.ndim() - 1];
    let r = float_dispatch!(a, T => per_matrix::<T>(a, n * n, |a, out| {
        match a.llt(Side::Lower) {
            Ok(llt) => {
                let l = llt.L();
                for i in 0..n {
                    for j in 0..n {
                        out[i * n + j] = if j <= i { l[(i, j)] } else { T::from_f64(0.0) };
                    }
                }
                Ok(())
            }
            Err(_) => linalg_err("Matrix is not positive definite"),
        }
    }))?;
    reshape_last(r, &[n, n])
}

/// Columns per block of the blocked Cholesky adjoint: wide enough that its
/// rank-`NB` updates run at GEMM speed, narrow enough that the diagonal
/// blocks' closed-form adjoints (`NB³` each) stay a small part of the work.
const CHOLESKY_ADJOINT_NB: usize = 64;

/// The adjoint of the Cholesky factorisation: for each lower factor `L` (of
/// `A = L Lᵀ`) and cotangent `L̄`, the symmetric `Ā` with `⟨Ā, Ȧ⟩ = ⟨L̄, L̇⟩`
/// for every symmetric `Ȧ` (`sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)`; only the lower
/// triangles of `L` and `L̄` are read). Computed by Murray (2016)'s blocked
/// reverse algorithm: the forward's block steps undone last to first, each a
/// triangular solve or a product over the blocks the forward touched, about
/// twice the forward's multiply-adds where the closed form takes six times.
pub fn cholesky_adjoint(l: &Tensor, lbar: &Tensor) -> Result<Tensor> {
    let n = l.shape()[l.ndim() - 1];
    let r = float_dispatch!(l, T => per_pair_par::<T>(l, lbar, n * n, |l, lbar, out, par| {
        if (0..n).any(|i| l[(i, i)] == T::from_f64(0.0)) {
            return linalg_err("Singular matrix: a zero on the diagonal of the Cholesky factor");
        }
        let mut g = Mat::<T>::zeros(n, n);
        for j in 0..n {
            for i in j..n {
                g[(i, j)] = lbar[(i, j)];
            }
        }
        cholesky_reverse(l, g.as_mut(), CHOLESKY_ADJOINT_NB, par);
        // the lower-triangle adjoint as the symmetric matrix it stands for
        let half = T::from_f64(0.5);
        for i in 0..n {
            for j in 0..n {
                out[i * n + j] = match i.cmp(&j) {
                    std::cmp::Ordering::Greater => g[(i, j)] * half,
                    std::cmp::Ordering::Less => g[(j, i)] * half,
                    std::cmp::Ordering::Equal => g[(i, i)],
                };
            }
        }
        Ok(())
    }))?;
    reshape_last(r, &[n, n])
}

/// Turn `g`, holding `L̄` in its lower triangle, into the adjoint of the lower
/// triangle of `A` (left-looking blocked Cholesky reversed, blocks of `nb`).
/// For the block column `J = j..k` the forward computed
/// `L[J,J] = chol(A[J,J] − R Rᵀ)` and `L[K,J] = (A[K,J] − B Rᵀ) L[J,J]⁻ᵀ`
/// with `R = L[J,..j]`, `B = L[K,..j]`, `K = k..n`; each step is undone here.
fn cholesky_reverse<T: Real>(l: MatRef<'_, T>, g: MatMut<'_, T>, nb: usize, par: Par) {
    use faer::linalg::matmul::matmul;
    use faer::linalg::matmul::triangular::{matmul as tri_matmul, BlockStructure};
    use faer::linalg::triangular_solve::solve_upper_triangular_in_place;
    use faer::reborrow::{Reborrow, ReborrowMut};
    use faer::Accum;
    let n = l.nrows();
    let one = T::from_f64(1.0);
    let starts: Vec<usize> = (0..n).step_by(nb.max(1)).collect();
    let mut g = g;
    for &j in starts.iter().rev() {
        let k = (j + nb).min(n);
        let w = k - j;
        let d = l.submatrix(j, j, w, w);
        let r = l.submatrix(j, 0, w, j);
        let b = l.submatrix(k, 0, n - k, j);
        let y = l.submatrix(k, j, n - k, w);
        let (top, bottom) = g.rb_mut().split_at_row_mut(k);
        let (g_r, rest) = top.subrows_mut(j, w).split_at_col_mut(j);
        let mut g_r = g_r;
        let mut g_d = rest.subcols_mut(0, w);
        let (g_b, rest) = bottom.split_at_col_mut(j);
        let mut g_b = g_b;
        let mut g_c = rest.subcols_mut(0, w);
        // C̄ = Ȳ D⁻¹ (solve X D = Ȳ as Dᵀ Xᵀ = Ȳᵀ); C̄ is A[K,J]'s adjoint
        solve_upper_triangular_in_place(d.transpose(), g_c.rb_mut().transpose_mut(), par);
        // D̄ −= tril(C̄ᵀ Y); B̄ −= C̄ R; R̄ −= C̄ᵀ B
        tri_matmul(
            g_d.rb_mut(),
            BlockStructure::TriangularLower,
            Accum::Add,
            g_c.rb().transpose(),
            BlockStructure::Rectangular,
            y,
            BlockStructure::Rectangular,
            -one,
            par,
        );
        matmul(g_b.rb_mut(), Accum::Add, g_c.rb(), r, -one, par);
        matmul(g_r.rb_mut(), Accum::Add, g_c.rb().transpose(), b, -one, par);
        // the diagonal block's own factorisation, then R̄ −= (D̄ + D̄ᵀ) R
        let dbar = cholesky_block_adjoint(d, g_d.rb());
        g_d.copy_from_triangular_lower(dbar.as_ref());
        let mut both = dbar.clone();
        for c in 0..w {
            for i in c + 1..w {
                both[(c, i)] = dbar[(i, c)];
            }
            both[(c, c)] = dbar[(c, c)] + dbar[(c, c)];
        }
        matmul(g_r.rb_mut(), Accum::Add, both.as_ref(), r, -one, par);
    }
}

/// The adjoint of one small block's Cholesky factorisation in closed form:
/// the lower triangle of `S + Sᵀ` (diagonal `S`'s own), `S = D⁻ᵀ Φ(Dᵀ D̄) D⁻¹`.
fn cholesky_block_adjoint<T: Real>(d: MatRef<'_, T>, dbar: MatRef<'_, T>) -> Mat<T> {
    use faer::linalg::triangular_solve::solve_upper_triangular_in_place;
    let w = d.nrows();
    let mut p = Mat::<T>::zeros(w, w);
    faer::linalg::matmul::triangular::matmul(
        p.as_mut(),
        faer::linalg::matmul::triangular::BlockStructure::TriangularLower,
        faer::Accum::Replace,
        d.transpose(),
        faer::linalg::matmul::triangular::BlockStructure::TriangularUpper,
        dbar,
        faer::linalg::matmul::triangular::BlockStructure::TriangularLower,
        T::from_f64(1.0),
        Par::Seq,
    );
    for i in 0..w {
        p[(i, i)] = p[(i, i)] * T::from_f64(0.5);
    }
    // X = P D⁻¹ (as Dᵀ Xᵀ = Pᵀ), then S = D⁻ᵀ X
    solve_upper_triangular_in_place(d.transpose(), p.as_mut().transpose_mut(), Par::Seq);
    solve_upper_triangular_in_place(d.transpose(), p.as_mut(), Par::Seq);
    let mut out = Mat::<T>::zeros(w, w);
    for c in 0..w {
        out[(c, c)] = p[(c, c)];
        for i in c + 1..w {
            out[(i, c)] = p[(i, c)] + p[(c, i)];
        }
    }
    out
}

/// Eigenvalues (ascending) and, when `vectors`, eigenvectors (as columns) of
/// each symmetric matrix, reading its lower triangle. Packed per matrix as
/// `[w (n) | V (n × n)]`, or `[w]` alone.
pub fn eigh(a: &Tensor, vectors: bool) -> Result<Tensor> {
    let n = a.shape()[a.ndim() - 1];
    let len = n + if vectors { n * n } else { 0 };
    float_dispatch!(a, T => per_matrix_par::<T>(a, len, |a, out, par| {
        if !all_finite(a) {
            out.fill(nan());
            return Ok(());
        }
        let compute = if vectors {
            ComputeEigenvectors::Yes
        } else {
            ComputeEigenvectors::No
        };
        let mut s = Diag::<T>::zeros(n);
        let mut u = vectors.then(|| Mat::<T>::zeros(n, n));
        let mut buf = MemBuffer::new(faer::linalg::evd::self_adjoint_evd_scratch::<T>(
            n,
            compute,
            par,
            Default::default(),
        ));
        faer::linalg::evd::self_adjoint_evd(
            a,
            s.as_mut(),
            u.as_mut().map(|u| u.as_mut()),
            par,
            MemStack::new(&mut buf),
            Default::default(),
        )
        .or_else(|_| linalg_err("Eigenvalues did not converge"))?;
        let w = s.column_vector();
        for i in 0..n {
            out[i] = w[i];
        }
        if let Some(u) = &u {
            write_rows(u.as_ref(), &mut out[n..]);
        }
        Ok(())
    }))
}

/// Singular values (descending) and, when `vectors`, the singular vectors of
/// each `(m, n)` matrix, `k = min(m, n)`: packed per matrix as
/// `[U (m × c) | s (k) | Vh (c' × n)]` with `c = c' = k`, or `c = m`,
/// `c' = n` when `full`; `[s]` alone without vectors.
pub fn svd(a: &Tensor, vectors: bool, full: bool) -> Result<Tensor> {
    let (_, m, n) = split_shape(a.shape());
    let k = m.min(n);
    let (cu, cv) = if full { (m, n) } else { (k, k) };
    let len = k + if vectors { m * cu + cv * n } else { 0 };
    float_dispatch!(a, T => per_matrix_par::<T>(a, len, |a, out, par| {
        if !all_finite(a) {
            out.fill(nan());
            return Ok(());
        }
        let compute = match (vectors, full) {
            (false, _) => ComputeSvdVectors::No,
            (true, false) => ComputeSvdVectors::Thin,
            (true, true) => ComputeSvdVectors::Full,
        };
        let mut s = Diag::<T>::zeros(k);
        let mut u = vectors.then(|| Mat::<T>::zeros(m, cu));
        let mut v = vectors.then(|| Mat::<T>::zeros(n, cv));
        let mut buf = MemBuffer::new(faer::linalg::svd::svd_scratch::<T>(
            m,
            n,
            compute,
            compute,
            par,
            Default::default(),
        ));
        faer::linalg::svd::svd(
            a,
            s.as_mut(),
            u.as_mut().map(|u| u.as_mut()),
            v.as_mut().map(|v| v.as_mut()),
            par,
            MemStack::new(&mut buf),
            Default::default(),
        )
        .or_else(|_| linalg_err("SVD did not converge"))?;
        let sv = s.column_vector();
        let (Some(u), Some(v)) = (&u, &v) else {
            for i in 0..k {
                out[i] = sv[i];
            }
            return Ok(());
        };
        let (u_part, rest) = out.split_at_mut(m * cu);
        let (s_part, vh_part) = rest.split_at_mut(k);
        write_rows(u.as_ref(), u_part);
        for i in 0..k {
            s_part[i] = sv[i];
        }
        write_rows(v.as_ref().transpose(), vh_part);
        Ok(())
    }))
}

/// QR of each `(m, n)` matrix, `k = min(m, n)`: packed per matrix as
/// `[Q (m × c) | R (c × n)]`, `c = k` (reduced) or `c = m` (`complete`).
pub fn qr(a: &Tensor, complete: bool) -> Result<Tensor> {
    let (_, m, n) = split_shape(a.shape());
    let c = if complete { m } else { m.min(n) };
    float_dispatch!(a, T => per_matrix::<T>(a, m * c + c * n, |a, out| {
        let qr = a.qr();
        let (q_part, r_part) = out.split_at_mut(m * c);
        if complete {
            write_rows(qr.compute_Q().as_ref(), q_part);
            write_rows(qr.R(), r_part);
        } else {
            write_rows(qr.compute_thin_Q().as_ref(), q_part);
            write_rows(qr.thin_R(), r_part);
        }
        // faer stores R's strict lower part as garbage-free zeros only in
        // the upper-trapezoidal view; clear it so R is exactly triangular.
        for i in 0..c {
            for j in 0..i.min(n) {
                r_part[i * n + j] = T::from_f64(0.0);
            }
        }
        Ok(())
    }))
}

/// Sign and natural log of the absolute determinant of each square matrix,
/// packed as `[sign, logabsdet]` (a singular matrix: `[0, -inf]`), by LU.
pub fn slogdet(a: &Tensor) -> Result<Tensor> {
    let n = a.shape()[a.ndim() - 1];
    float_dispatch!(a, T => per_matrix::<T>(a, 2, |a, out| {
        let lu = a.partial_piv_lu();
        let u = lu.U();
        let mut sign = permutation_sign(lu.P().arrays().0);
        let mut log = 0.0f64;
        for i in 0..n {
            let d = u[(i, i)].to_f64();
            if d < 0.0 {
                sign = -sign;
            }
            log += d.abs().ln();
        }
        if log == f64::NEG_INFINITY {
            sign = 0.0;
        }
        if log.is_nan() {
            sign = f64::NAN;
        }
        out[0] = T::from_f64(sign);
        out[1] = T::from_f64(log);
        Ok(())
    }))
}

/// +1 or -1: the parity of a permutation given as `perm[i]`.
fn permutation_sign(perm: &[usize]) -> f64 {
    let mut seen = vec![false; perm.len()];
    let mut sign = 1.0;
    for start in 0..perm.len() {
        if seen[start] {
            continue;
        }
        let mut len = 0;
        let mut i = start;
        while !seen[i] {
            seen[i] = true;
            i = perm[i];
            len += 1;
        }
        if len % 2 == 0 {
            sign = -sign;
        }
    }
    sign
}

/// LU with partial pivoting of each square matrix, as LAPACK's `getrf`:
/// packed per matrix as `[LU (n × n) | piv (n)]`, `LU` holding `U` on and
/// above the diagonal and `L`'s strict lower part below it (unit diagonal
/// implied), `piv[i]` the row swapped with row `i` at step `i` (as a float).
pub fn lu_factor(a: &Tensor) -> Result<Tensor> {
    let n = a.shape()[a.ndim() - 1];
    float_dispatch!(a, T => per_matrix::<T>(a, n * n + n, |a, out| {
        let lu = a.partial_piv_lu();
        let (l, u) = (lu.L(), lu.U());
        for i in 0..n {
            for j in 0..n {
                out[i * n + j] = if j < i { l[(i, j)] } else { u[(i, j)] };
            }
        }
        // faer gives P as the final row order (row i of P A is row perm[i]
        // of A); LAPACK's pivots are the swaps that produce it, in order.
        let perm = lu.P().arrays().0;
        let mut order: Vec<usize> = (0..n).collect();
        let mut pos: Vec<usize> = (0..n).collect(); // where row r currently sits
        for i in 0..n {
            let want = perm[i];
            let at = pos[want];
            out[n * n + i] = T::from_f64(at as f64);
            let displaced = order[i];
            order.swap(i, at);
            pos[want] = i;
            pos[displaced] = at;
        }
        Ok(())
    }))
}

/// The row order produced by LAPACK's swaps `piv (..., n)` (applied in
/// order: row `i` exchanged with row `piv[i]`), as int64. A pivot out of
/// range is an `IndexError`.
pub fn pivots_to_permutation(piv: &Tensor) -> Result<Tensor> {
    let n = *piv.shape().last().unwrap_or(&0);
    let swaps: Vec<i64> = match piv.dtype() {
        DType::F32 | DType::F64 => {
            let v: Vec<f64> = if piv.dtype() == DType::F64 {
                piv.to_vec::<f64>()?
            } else {
                piv.to_vec::<f32>()?.into_iter().map(f64::from).collect()
            };
            // a fractional pivot is no row: mark it out of range
            v.iter()
                .map(|&v| if v.fract() == 0.0 { v as i64 } else { -1 })
                .collect()
        }
        DType::I32 => piv.to_vec::<i32>()?.iter().map(|&v| v as i64).collect(),
        DType::I64 => piv.to_vec::<i64>()?,
        DType::Bool => return crate::type_err!("pivot indices must be integers, got bool"),
    };
    if let Some(bad) = swaps.iter().find(|&&s| s < 0 || s as usize >= n) {
        return Err(Error::Index(format!(
            "pivot index {bad} is out of range for matrices of {n} rows"
        )));
    }
    let mut out = Vec::with_capacity(swaps.len());
    for chunk in swaps.chunks(n.max(1)) {
        let mut order: Vec<i64> = (0..n as i64).collect();
        for (i, &s) in chunk.iter().enumerate() {
            order.swap(i, s as usize);
        }
        out.extend(order);
    }
    Tensor::from_slice(&out, piv.shape())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f64], s: &[usize]) -> Tensor {
        Tensor::from_slice(v, s).unwrap()
    }

    #[test]
    fn permutation_parity() {
        assert_eq!(permutation_sign(&[0, 1, 2]), 1.0);
        assert_eq!(permutation_sign(&[1, 0, 2]), -1.0);
        assert_eq!(permutation_sign(&[1, 2, 0]), 1.0);
    }

    #[test]
    fn solve_and_singular() {
        let a = t(&[2.0, 1.0, 1.0, 3.0], &[2, 2]);
        let b = t(&[3.0, 5.0], &[2, 1]);
        let x = solve(&a, &b).unwrap().to_vec::<f64>().unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
        let s = t(&[1.0, 2.0, 2.0, 4.0], &[2, 2]);
        assert!(matches!(solve(&s, &b), Err(Error::LinAlg(_))));
    }

    #[test]
    fn lu_pivots_reproduce_the_matrix() {
        let a = t(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 8.0, 1.0], &[3, 3]);
        let p = lu_factor(&a).unwrap().to_vec::<f64>().unwrap();
        let (lu, piv) = (&p[..9], &p[9..]);
        // apply the swaps to the rows of A, then compare with L U
        let mut rows: Vec<Vec<f64>> = (0..3)
            .map(|i| a.to_vec::<f64>().unwrap()[i * 3..i * 3 + 3].to_vec())
            .collect();
        for (i, &s) in piv.iter().enumerate() {
            rows.swap(i, s as usize);
        }
        for i in 0..3 {
            for j in 0..3 {
                let mut acc = 0.0;
                for k in 0..3 {
                    let l = if k < i {
                        lu[i * 3 + k]
                    } else if k == i {
                        1.0
                    } else {
                        0.0
                    };
                    let u = if k <= j { lu[k * 3 + j] } else { 0.0 };
                    acc += l * u;
                }
                assert!((acc - rows[i][j]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn nan_input_gives_nan_not_a_hang() {
        let a = t(&[f64::NAN, 1.0, 1.0, 2.0], &[2, 2]);
        assert!(eigh(&a, true)
            .unwrap()
            .to_vec::<f64>()
            .unwrap()
            .iter()
            .all(|v| v.is_nan()));
        assert!(svd(&a, true, false)
            .unwrap()
            .to_vec::<f64>()
            .unwrap()
            .iter()
            .all(|v| v.is_nan()));
    }
}

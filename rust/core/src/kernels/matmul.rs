//! Batched matrix multiply: `gemm` for floats (strided operands, no copies for
//! transposed views), a plain loop for integers.

use gemm::Parallelism;

use crate::kernels::blas::{blas, BLAS_FLOPS};
use crate::kernels::narrow_product;

use crate::error::Result;
use crate::kernels::parallel::{for_each_chunk_mut, num_threads, pool};
use crate::kernels::simd;
use crate::kernels::strided::RowPlan;
use crate::tensor::shape::{broadcast_shapes, broadcast_strides, contiguous_strides, Shape};
use crate::tensor::{DType, Element, Tensor};
use crate::{shape_err, with_dtype};

/// Flops above which one product is split across threads by gemm itself.
const PAR_FLOPS: usize = 1 << 21;

/// `a @ b` for `a: (..., m, k)`, `b: (..., k, n)` (both at least 2-D, same dtype),
/// batch dimensions broadcast.
pub fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (ra, rb) = (a.ndim(), b.ndim());
    debug_assert!(ra >= 2 && rb >= 2 && a.dtype() == b.dtype());
    let (m, k) = (a.shape()[ra - 2], a.shape()[ra - 1]);
    let (k2, n) = (b.shape()[rb - 2], b.shape()[rb - 1]);
    if k != k2 {
        return shape_err!(
            "matmul: shapes {} and {} are not aligned: {} (dim {}) != {} (dim {})",
            crate::tensor::shape::fmt_shape(a.shape()),
            crate::tensor::shape::fmt_shape(b.shape()),
            k,
            ra - 1,
            k2,
            rb - 2
        );
    }
    if let Some(t) = identity_product(a, b)? {
        return Ok(t);
    }
    let batch = broadcast_shapes(&a.shape()[..ra - 2], &b.shape()[..rb - 2])?;
    let mut out_shape: Shape = batch.clone();
    out_shape.extend([m, n]);
    let sa = broadcast_strides(&a.shape()[..ra - 2], &a.strides()[..ra - 2], &batch);
    let sb = broadcast_strides(&b.shape()[..rb - 2], &b.strides()[..rb - 2], &batch);
    let so = contiguous_strides(&batch);
    let plan = RowPlan::<3>::new(&batch, [&so, &sa, &sb], [0, a.offset(), b.offset()]);
    let count = plan.rows() * plan.inner_len;
    crate::tensor::shape::checked_numel(&out_shape)?;
    let mut offsets: Vec<[usize; 3]> = Vec::new();
    offsets
        .try_reserve_exact(count)
        .map_err(|_| crate::Error::OutOfMemory(count as u128 * 24))?;
    plan.for_rows(0, plan.rows(), |_, [oo, oa, ob]| {
        for j in 0..plan.inner_len as isize {
            let [io, ia, ib] = plan.inner_strides;
            offsets.push([
                (oo as isize + j * io) as usize * m * n,
                (oa as isize + j * ia) as usize,
                (ob as isize + j * ib) as usize,
            ]);
        }
    });
    let a_rs = a.strides()[ra - 2];
    let a_cs = a.strides()[ra - 1];
    let b_rs = b.strides()[rb - 2];
    let b_cs = b.strides()[rb - 1];
    let geo = Geometry {
        m,
        n,
        k,
        a_rs,
        a_cs,
        b_rs,
        b_cs,
    };
    with_dtype!(a.dtype(), T => {
        let da = a.storage_slice::<T>()?;
        let db = b.storage_slice::<T>()?;
        // every product writes its whole m×n block (k == 0 writes zeros)
        Tensor::build_overwrite::<T>(&out_shape, |out| {
            if m * n == 0 {
                return;
            }
            run_batches(out, da, db, &offsets, geo)
        })
    })
}

/// `a @ I` or `I @ a` for a 2-D float `a` and an identity matrix: `a`
/// itself. Forward-mode Jacobians (jacfwd, hessian) push the identity basis
/// through every linear map, so `W @ x` becomes `W @ I`: a full GEMM (n³
/// flops) whose answer is `W`. Recognising the identity costs a scan of it
/// that stops at the first entry out of place (for any other matrix, within
/// the first few), plus a scan of `a` for non-finite values: with an inf or
/// NaN in `a`, the product has NaNs where `a` does not (`inf * 0`), so the
/// GEMM runs as usual. The values are the product's, bit for bit, except that
/// a negative zero in `a` may come out as a positive zero from the GEMM.
fn identity_product(a: &Tensor, b: &Tensor) -> Result<Option<Tensor>> {
    /// Smaller products cost less than the scans.
    const MIN_FLOPS: usize = 1 << 15;
    if a.ndim() != 2 || b.ndim() != 2 || !a.dtype().is_float() {
        return Ok(None);
    }
    let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
    if m * k * n < MIN_FLOPS {
        return Ok(None);
    }
    with_dtype!(a.dtype(), T => {
        if k == n && is_identity::<T>(b)? && all_finite::<T>(a)? {
            return Ok(Some(a.clone()));
        }
        if m == k && is_identity::<T>(a)? && all_finite::<T>(b)? {
            return Ok(Some(b.clone()));
        }
    });
    Ok(None)
}

/// `row(i, storage, start, column stride)` for each row `i` of a 2-D tensor
/// (its elements at `start + j * stride`), until one returns false.
fn for_each_row<T: Element>(
    t: &Tensor,
    mut row: impl FnMut(usize, &[T], usize, isize) -> bool,
) -> Result<bool> {
    let data = t.storage_slice::<T>()?;
    let (rows, cols) = (t.shape()[0], t.shape()[1]);
    let (rs, cs) = (t.strides()[0], t.strides()[1]);
    for i in 0..rows {
        let start = (t.offset() as isize + i as isize * rs) as usize;
        if !row(i, data, start, if cols > 0 { cs } else { 1 }) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether `t` (2-D, square) holds ones on its diagonal and zeros elsewhere.
fn is_identity<T: Element>(t: &Tensor) -> Result<bool> {
    let cols = t.shape()[1];
    for_each_row::<T>(t, |i, data, start, cs| {
        let at = |j: usize| data[(start as isize + j as isize * cs) as usize];
        // the diagonal and its neighbour first: any other matrix fails here
        if at(i) != T::ONE || (cols > 1 && at((i + 1) % cols) != T::ZERO) {
            return false;
        }
        if cs == 1 {
            let r = &data[start..start + cols];
            let zero = |v: T| v == T::ZERO;
            simd::all_of(&r[..i], zero) && simd::all_of(&r[i + 1..], zero)
        } else {
            (0..cols).filter(|&j| j != i).all(|j| at(j) == T::ZERO)
        }
    })
}

/// Whether every element of `t` (2-D) is finite.
fn all_finite<T: Element>(t: &Tensor) -> Result<bool> {
    let finite = |v: T| v.to_f64().is_finite();
    // Row- or column-major (a transposed operand, as in every Jacobian of a
    // product): the elements fill one range of the storage, scanned at once
    // whatever their order.
    if let Some(all) = t.as_slice::<T>()? {
        return Ok(simd::all_of(all, finite));
    }
    if let Some(all) = t.permute_view(&[1, 0]).as_slice::<T>()? {
        return Ok(simd::all_of(all, finite));
    }
    let cols = t.shape()[1];
    for_each_row::<T>(t, |_, data, start, cs| {
        if cs == 1 {
            simd::all_of(&data[start..start + cols], finite)
        } else {
            (0..cols).all(|j| {
                data[(start as isize + j as isize * cs) as usize]
                    .to_f64()
                    .is_finite()
            })
        }
    })
}

/// One `m×k @ k×n` product of strided operands into `out` (rows `out_rs`
/// elements apart), for kernels built on GEMM (convolution): `a` starts at
/// `oa` with row/column strides `a_rs`/`a_cs`, `b` at `ob` with `b_rs`/`b_cs`.
/// Split across up to `threads` threads as its size warrants (1: serial).
#[allow(clippy::too_many_arguments)]
pub(crate) fn product_into<T: Element>(
    out: &mut [T],
    out_rs: usize,
    (a, oa, a_rs, a_cs): (&[T], usize, isize, isize),
    (b, ob, b_rs, b_cs): (&[T], usize, isize, isize),
    m: usize,
    n: usize,
    k: usize,
    threads: usize,
) {
    let g = Geometry {
        m,
        n,
        k,
        a_rs,
        a_cs,
        b_rs,
        b_cs,
    };
    product(out, out_rs, a, b, oa, ob, g, threads.max(1))
}

#[derive(Clone, Copy)]
struct Geometry {
    m: usize,
    n: usize,
    k: usize,
    a_rs: isize,
    a_cs: isize,
    b_rs: isize,
    b_cs: isize,
}

impl Geometry {
    /// Largest element offset a product reads from an operand starting at `base`.
    fn span(rows: usize, cols: usize, rs: isize, cs: isize) -> (i128, i128) {
        let mut lo = 0i128;
        let mut hi = 0i128;
        for (d, s) in [(rows, rs), (cols, cs)] {
            if d == 0 {
                continue;
            }
            let e = (d as i128 - 1) * s as i128;
            if e < 0 {
                lo += e
            } else {
                hi += e
            }
        }
        (lo, hi)
    }
}

fn run_batches<T: Element>(out: &mut [T], da: &[T], db: &[T], offsets: &[[usize; 3]], g: Geometry) {
    let flops = g.m * g.n * g.k;
    let batches = offsets.len();
    let threads = num_threads();
    if batches > 1 && flops * batches >= PAR_FLOPS && threads > 1 && flops < TILE_FLOPS {
        for_each_chunk_mut(out, g.m * g.n, |i, o| {
            let [_, oa, ob] = offsets[i];
            one_product(o, g.n, da, db, oa, ob, g, Parallelism::None)
        });
        return;
    }
    for &[oo, oa, ob] in offsets {
        if crate::interrupt::poll() {
            return;
        }
        let o = &mut out[oo..oo + g.m * g.n];
        if flops >= TILE_FLOPS {
            tiled_product(o, da, db, oa, ob, g);
        } else {
            product(o, g.n, da, db, oa, ob, g, threads);
        }
    }
}

/// One product into `out` (rows `out_rs` apart), split across threads as its
/// size warrants.
#[allow(clippy::too_many_arguments)]
fn product<T: Element>(
    out: &mut [T],
    out_rs: usize,
    da: &[T],
    db: &[T],
    oa: usize,
    ob: usize,
    g: Geometry,
    threads: usize,
) {
    let flops = g.m * g.n * g.k;
    if flops >= BLAS_FLOPS && blas_product(out, out_rs, da, db, oa, ob, g, threads) {
        return;
    }
    if flops < PAR_FLOPS || threads == 1 {
        one_product(out, out_rs, da, db, oa, ob, g, Parallelism::None);
    } else if (flops < SPLIT_FLOPS || g.n <= narrow_product::MAX_COLS)
        && g.m >= ROW_BLOCK * threads
        && out_rs == g.n
    {
        // Row blocks as tasks: the calling thread starts at once and pool
        // workers join as they wake (see `parallel`); gemm's own rayon
        // split would park the caller until they do, 30-50 us here, which
        // costs more than the split gains on mid-sized products. Large ones
        // go to gemm, whose split shares the packed right-hand side (10%
        // faster at 512^3 than row blocks, measured), except narrow ones,
        // which pack nothing (`narrow_product`).
        let rows = g.m.div_ceil(threads).next_multiple_of(ROW_BLOCK);
        for_each_chunk_mut(&mut out[..g.m * g.n], rows * g.n, |i, block| {
            let r0 = i * rows;
            let part = Geometry {
                m: block.len() / g.n,
                ..g
            };
            let oa_block = (oa as isize + r0 as isize * g.a_rs) as usize;
            one_product(block, g.n, da, db, oa_block, ob, part, Parallelism::None)
        });
    } else {
        match pool() {
            Some(pool) => pool.install(|| {
                one_product(out, out_rs, da, db, oa, ob, g, Parallelism::Rayon(threads))
            }),
            None => one_product(out, out_rs, da, db, oa, ob, g, Parallelism::None),
        }
    }
}

/// Products of this many multiply-adds or more are computed tile by tile of
/// their output, with an interrupt check between tiles: a 6144^3 product
/// runs for seconds, and Ctrl-C must not wait for it.
const TILE_FLOPS: usize = 1 << 31;

/// Multiply-adds per tile (2048^3): 57 ms in float32 and 115 ms in float64
/// on the 2-core AVX-512 machine of benches/RESULTS.md, a few tenths of a
/// second where products run 3x slower, well inside the second Ctrl-C is
/// given. Smaller tiles cost throughput: at 2^29 (tiles of 512 rows and
/// columns) a 2048^3 product ran 15% slower than one call of the same
/// OpenBLAS, which repacked each operand panel once per tile.
const TILE_WORK: usize = 1 << 33;

/// Smallest tile edge: each tile packs its own panels of both operands, so
/// tiles are kept large enough that packing stays about a percent of the work.
const MIN_TILE_EDGE: usize = 512;

fn tiled_product<T: Element>(out: &mut [T], da: &[T], db: &[T], oa: usize, ob: usize, g: Geometry) {
    let edge = ((TILE_WORK / g.k.max(1)) as f64).sqrt() as usize;
    let edge = edge.max(MIN_TILE_EDGE).next_multiple_of(ROW_BLOCK);
    let threads = num_threads();
    for i0 in (0..g.m).step_by(edge) {
        for j0 in (0..g.n).step_by(edge) {
            if crate::interrupt::poll() {
                return;
            }
            let part = Geometry {
                m: edge.min(g.m - i0),
                n: edge.min(g.n - j0),
                ..g
            };
            let oa_t = (oa as isize + i0 as isize * g.a_rs) as usize;
            let ob_t = (ob as isize + j0 as isize * g.b_cs) as usize;
            product(
                &mut out[i0 * g.n + j0..],
                g.n,
                da,
                db,
                oa_t,
                ob_t,
                part,
                threads,
            );
        }
    }
}

/// Flops (m n k) below which a parallel product is split into row blocks by
/// us rather than by gemm.
const SPLIT_FLOPS: usize = 1 << 26;

/// Rows of the output a parallel task computes come in multiples of this
/// (gemm's register tile height for float32 on AVX-512; a multiple of the others).
const ROW_BLOCK: usize = 16;

/// Bounds: every read of the product stays inside the storages, every write
/// inside `out` (which the caller checked is not empty: m, n > 0).
fn assert_in_bounds<T>(
    out: &[T],
    out_rs: usize,
    da: &[T],
    db: &[T],
    oa: usize,
    ob: usize,
    g: Geometry,
) {
    let (alo, ahi) = Geometry::span(g.m, g.k, g.a_rs, g.a_cs);
    let (blo, bhi) = Geometry::span(g.k, g.n, g.b_rs, g.b_cs);
    assert!(out_rs >= g.n && out.len() >= (g.m - 1) * out_rs + g.n);
    assert!(g.k == 0 || (oa as i128 + alo >= 0 && oa as i128 + ahi < da.len() as i128));
    assert!(g.k == 0 || (ob as i128 + blo >= 0 && ob as i128 + bhi < db.len() as i128));
}

/// One float product through OpenBLAS (see `blas`) when the process has one
/// that splits products across as many threads as we were given (so a
/// product inside a parallel task, given one thread, stays on `gemm`, and a
/// thread budget set by the user is kept); `false` when it did not run.
#[allow(clippy::too_many_arguments)]
fn blas_product<T: Element>(
    out: &mut [T],
    out_rs: usize,
    da: &[T],
    db: &[T],
    oa: usize,
    ob: usize,
    g: Geometry,
    threads: usize,
) -> bool {
    if !matches!(T::DTYPE, DType::F32 | DType::F64) || g.m == 0 || g.n == 0 || g.k == 0 {
        return false;
    }
    let Some(lib) = blas().filter(|b| b.threads() == threads) else {
        return false;
    };
    assert_in_bounds(out, out_rs, da, db, oa, ob, g);
    let a = (da[oa..].as_ptr(), g.a_rs, g.a_cs);
    let b = (db[ob..].as_ptr(), g.b_rs, g.b_cs);
    let sizes = (g.m, g.n, g.k);
    let c = (out.as_mut_ptr(), out_rs);
    // SAFETY: `assert_in_bounds` checked that every element the product reads
    // (from `a`/`b` at their offsets with their strides, including negative
    // ones, which `product` refuses anyway) lies inside `da`/`db`, and every
    // element it writes lies inside `out`, a `&mut` that overlaps neither.
    // `T::DTYPE` is F32 or F64 (checked above), and `Element` is implemented
    // once per dtype, so T is f32 or f64 and the pointer casts change nothing.
    unsafe {
        match T::DTYPE {
            DType::F32 => lib.product::<f32>(
                sizes,
                (a.0.cast(), a.1, a.2),
                (b.0.cast(), b.1, b.2),
                (c.0.cast(), c.1),
            ),
            _ => lib.product::<f64>(
                sizes,
                (a.0.cast(), a.1, a.2),
                (b.0.cast(), b.1, b.2),
                (c.0.cast(), c.1),
            ),
        }
    }
}

/// A float product with few output columns, through `narrow_product` when
/// its layout suits (non-negative strides, the left operand's rows or columns
/// contiguous); `false` when it did not run.
#[allow(clippy::too_many_arguments)]
fn narrow_product<T: Element>(
    out: &mut [T],
    out_rs: usize,
    da: &[T],
    db: &[T],
    oa: usize,
    ob: usize,
    g: Geometry,
) -> bool {
    let strides = [g.a_rs, g.a_cs, g.b_rs, g.b_cs].map(usize::try_from);
    let [Ok(a_rs), Ok(a_cs), Ok(b_rs), Ok(b_cs)] = strides else {
        return false;
    };
    let a = narrow_product::Operand {
        data: &da[oa..],
        rs: a_rs,
        cs: a_cs,
    };
    let b = narrow_product::Operand {
        data: &db[ob..],
        rs: b_rs,
        cs: b_cs,
    };
    narrow_product::product(out, out_rs, a, b, (g.m, g.n, g.k))
}

/// One `m×k @ k×n` product into `out`, whose rows are `out_rs` elements apart.
#[allow(clippy::too_many_arguments)]
fn one_product<T: Element>(
    out: &mut [T],
    out_rs: usize,
    da: &[T],
    db: &[T],
    oa: usize,
    ob: usize,
    g: Geometry,
    par: Parallelism,
) {
    if g.m == 0 || g.n == 0 {
        return;
    }
    assert_in_bounds(out, out_rs, da, db, oa, ob, g);
    match T::DTYPE {
        DType::F32 | DType::F64 => {
            if g.k == 0 {
                for row in out.chunks_mut(out_rs).take(g.m) {
                    row[..g.n].fill(T::ZERO); // an empty sum
                }
                return;
            }
            if g.k == 1 {
                // An outer product: one multiply per element and no sums, less
                // than gemm's own setup costs; per-example gradients make one
                // per example (x_i ⊗ g_i). The same bits as gemm's: each
                // element is one correctly rounded product (for float32 the
                // float64 product of two float32s is exact, then rounded once).
                let mul = |x: T, y: T| T::from_f64(x.to_f64() * y.to_f64());
                for (i, row) in out.chunks_mut(out_rs).take(g.m).enumerate() {
                    let x = da[(oa as isize + i as isize * g.a_rs) as usize];
                    let row = &mut row[..g.n];
                    if g.b_cs == 1 && g.n >= 64 {
                        crate::kernels::simd::map2_scalar_lhs(x, &db[ob..ob + g.n], row, mul);
                    } else if g.b_cs == 1 {
                        // short rows: a plain loop, without the SIMD dispatch per row
                        for (o, &y) in row.iter_mut().zip(&db[ob..ob + g.n]) {
                            *o = mul(x, y);
                        }
                    } else {
                        for (j, o) in row.iter_mut().enumerate() {
                            *o = mul(x, db[(ob as isize + j as isize * g.b_cs) as usize]);
                        }
                    }
                }
                return;
            }
            if narrow_product(out, out_rs, da, db, oa, ob, g) {
                return;
            }
            // SAFETY: the asserts above checked that every element `gemm` reads,
            // a[oa + i*a_rs + p*a_cs] and b[ob + p*b_rs + j*b_cs] for i<m, p<k, j<n,
            // lies inside `da` / `db`, and that every element it writes,
            // out[i*out_rs + j] for i<m, j<n, lies inside `out`. T is f32 or f64
            // (checked by the match), which gemm supports.
            unsafe {
                gemm::gemm::<T>(
                    g.m,
                    g.n,
                    g.k,
                    out.as_mut_ptr(),
                    1,
                    out_rs as isize,
                    false,
                    da.as_ptr().add(oa),
                    g.a_cs,
                    g.a_rs,
                    db.as_ptr().add(ob),
                    g.b_cs,
                    g.b_rs,
                    T::ZERO,
                    T::ONE,
                    false,
                    false,
                    false,
                    par,
                )
            }
        }
        _ => {
            // Integers (and bools, which the ops layer never sends): exact loop.
            for i in 0..g.m {
                if crate::interrupt::poll() {
                    return;
                }
                for j in 0..g.n {
                    let mut acc = 0i64;
                    for p in 0..g.k {
                        let x =
                            da[(oa as isize + i as isize * g.a_rs + p as isize * g.a_cs) as usize];
                        let y =
                            db[(ob as isize + p as isize * g.b_rs + j as isize * g.b_cs) as usize];
                        acc = acc.wrapping_add(x.to_i64().wrapping_mul(y.to_i64()));
                    }
                    out[i * out_rs + j] = T::from_i64(acc);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    c[i * n + j] += a[i * k + p] * b[p * n + j];
                }
            }
        }
        c
    }

    #[test]
    fn matches_reference_including_transposed_views() {
        for &(m, k, n) in &[(1, 1, 1), (3, 4, 5), (7, 1, 3), (33, 17, 9), (2, 0, 3)] {
            let a: Vec<f64> = (0..m * k).map(|i| (i % 7) as f64 - 3.0).collect();
            let b: Vec<f64> = (0..k * n).map(|i| (i % 5) as f64 * 0.5).collect();
            let ta = Tensor::from_slice(&a, &[m, k]).unwrap();
            let tb = Tensor::from_slice(&b, &[k, n]).unwrap();
            let c = matmul(&ta, &tb).unwrap();
            assert_eq!(c.to_vec::<f64>().unwrap(), reference(&a, &b, m, k, n));
            // (bᵀ)ᵀ as a view: same result without copying
            let bt = Tensor::from_slice(&b, &[k, n]).unwrap();
            let btt = crate::kernels::copy::contiguous(&bt.permute_view(&[1, 0]))
                .unwrap()
                .permute_view(&[1, 0]);
            assert!(!btt.is_contiguous() || k <= 1 || n <= 1);
            assert_eq!(
                matmul(&ta, &btt).unwrap().to_vec::<f64>().unwrap(),
                reference(&a, &b, m, k, n)
            );
        }
    }

    #[test]
    fn batch_broadcasting() {
        let a =
            Tensor::from_slice(&(0..12).map(|i| i as f32).collect::<Vec<_>>(), &[2, 2, 3]).unwrap();
        let b = Tensor::from_slice(&[1f32, 0., 0., 1., 1., 1.], &[3, 2]).unwrap();
        let b3 = crate::kernels::copy::reshape(&b, &[1, 3, 2]).unwrap();
        let c = matmul(&a, &b3).unwrap();
        assert_eq!(c.shape(), &[2, 2, 2]);
        assert_eq!(
            c.to_vec::<f32>().unwrap(),
            vec![2., 3., 8., 9., 14., 15., 20., 21.]
        );
        let ints = Tensor::from_slice(&[1i64, 2, 3, 4], &[2, 2]).unwrap();
        assert_eq!(
            matmul(&ints, &ints).unwrap().to_vec::<i64>().unwrap(),
            vec![7, 10, 15, 22]
        );
    }
}

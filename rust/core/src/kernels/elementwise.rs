//! Generic drivers for elementwise kernels: strides, broadcasting, SIMD and
//! threads are handled here once, so an op is one scalar function.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::error::Result;
use crate::kernels::fusion;
use crate::kernels::parallel::{chunk_len, for_chunks, for_each_chunk_mut, worth_parallel};
use crate::kernels::simd;
use crate::kernels::strided::RowPlan;
use crate::tensor::shape::{
    broadcast_shapes, broadcast_strides, contiguous_strides, inverse_permutation,
};
use crate::tensor::{Element, Tensor};

/// Apply a slice kernel `f(input, output)` to every element of `x`.
/// Non-contiguous inputs are first made contiguous (one strided copy); large
/// contiguous ones give a deferred result (see `fusion`).
pub fn unary_slices<A: Element, R: Element>(
    x: &Tensor,
    f: impl Fn(&[A], &mut [R]) + Send + Sync + 'static,
) -> Result<Tensor> {
    if is_one_value(x) {
        // a broadcast constant: compute once, broadcast the result (a view)
        let v = x.storage_slice::<A>()?[x.offset()];
        let r = Tensor::build_overwrite::<R>(&[], |o| f(&[v], o))?;
        return Ok(r.broadcast_view(x.shape()));
    }
    if let Some(perm) = x.dense_order() {
        // a transposed (permuted) operand: one pass over its memory, and the
        // result in the same layout, as NumPy's K order gives
        let out = unary_slices::<A, R>(&x.permute_view(&perm), f)?;
        return Ok(out.permute_view(&inverse_permutation(&perm)));
    }
    if fusion::should_defer(x.size(), &[x]) {
        let kernel: fusion::TileKernel = Arc::new(move |ins, out| {
            f(fusion::tile_in::<A>(ins[0])?, fusion::tile_out::<R>(out)?);
            Ok(())
        });
        return fusion::defer(R::DTYPE, x.shape(), smallvec::smallvec![x.clone()], kernel);
    }
    let x = crate::kernels::copy::contiguous(x)?;
    let src = x.contiguous_slice::<A>()?;
    Tensor::build_overwrite::<R>(x.shape(), |out| {
        for_chunks(out, |start, chunk| {
            f(&src[start..start + chunk.len()], chunk)
        });
    })
}

/// `f` applied to every element of `x`, vectorised.
pub fn unary<A: Element, R: Element>(
    x: &Tensor,
    f: impl Fn(A) -> R + Sync + Send + Copy + 'static,
) -> Result<Tensor> {
    unary_slices::<A, R>(x, move |src, out| simd::map1(src, out, f))
}

/// Run `row(offsets, out_row)` over every row of the broadcast output, in
/// parallel above the grain. `out` is contiguous, operand 0 of the plan.
fn drive_rows<R: Element, const N: usize>(
    out: &mut [R],
    plan: &RowPlan<N>,
    row: impl Fn([usize; N], &mut [R]) + Sync,
) {
    let rows = plan.rows();
    let len = plan.inner_len;
    if rows == 0 {
        return;
    }
    if !worth_parallel(rows * len) || rows == 1 {
        let mut it = out.chunks_mut(len);
        plan.for_rows(0, rows, |_, off| {
            row(off, it.next().expect("one chunk per row"))
        });
        return;
    }
    let per = (chunk_len(rows * len) / len).max(1);
    for_each_chunk_mut(out, per * len, |c, chunk| {
        let start = c * per;
        let end = (start + per).min(rows);
        let mut it = chunk.chunks_mut(len);
        plan.for_rows(start, end, |_, off| {
            row(off, it.next().expect("one chunk per row"))
        });
    });
}

/// Whether `x` holds one value broadcast over several elements (every stride 0):
/// then that value sits at `x.offset()`.
fn is_one_value(x: &Tensor) -> bool {
    x.size() > 1 && x.strides().iter().all(|&s| s == 0)
}

/// `f(a, b)` with NumPy broadcasting.
pub fn binary<A: Element, B: Element, R: Element>(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> R + Sync + Send + Copy + 'static,
) -> Result<Tensor> {
    binary_in(a, b, f, true)
}

/// [`binary`]; `reorder`: whether to look for a memory order to run in (the
/// operands it is called again with are in that order already).
fn binary_in<A: Element, B: Element, R: Element>(
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(A, B) -> R + Sync + Send + Copy + 'static,
    reorder: bool,
) -> Result<Tensor> {
    // Small contiguous operands of one shape, where the call's fixed cost is
    // most of its cost: straight to the kernel (below fusion's size nothing
    // is deferred, and one shape needs no broadcasting plan).
    if a.shape() == b.shape() && a.size() < fusion::fusion_min() {
        if let (Some(sa), Some(sb)) = (a.as_slice::<A>()?, b.as_slice::<B>()?) {
            return Tensor::build_overwrite::<R>(a.shape(), |out| simd::map2(sa, sb, out, f));
        }
    }
    // ... and a small contiguous operand with one value (a scalar such as the
    // `1 - y²` of tanh's derivative) of no more axes, which broadcasting
    // leaves the other's shape.
    let scalar_of = |one: &Tensor, other: &Tensor| {
        one.size() == 1 && one.ndim() <= other.ndim() && other.size() < fusion::fusion_min()
    };
    if scalar_of(b, a) {
        if let Some(sa) = a.as_slice::<A>()? {
            let vb = b.storage_slice::<B>()?[b.offset()];
            return Tensor::build_overwrite::<R>(a.shape(), |out| {
                simd::map2_scalar_rhs(sa, vb, out, f)
            });
        }
    } else if scalar_of(a, b) {
        if let Some(sb) = b.as_slice::<B>()? {
            let va = a.storage_slice::<A>()?[a.offset()];
            return Tensor::build_overwrite::<R>(b.shape(), |out| {
                simd::map2_scalar_lhs(va, sb, out, f)
            });
        }
    }
    if reorder {
        if let Some((perm, pa, pb)) = in_memory_order(a, b) {
            // a transposed (permuted) output-sized operand: run in its memory
            // order, vectorised, the result in its layout (NumPy's K order)
            let out = binary_in::<A, B, R>(&pa, &pb, f, false)?;
            return Ok(out.permute_view(&inverse_permutation(&perm)));
        }
    }
    let shape = broadcast_shapes(a.shape(), b.shape())?;
    let a_one = a.size() == 1 || is_one_value(a);
    let b_one = b.size() == 1 || is_one_value(b);
    if a_one && b_one && shape.iter().product::<usize>() > 1 {
        // both operands constant: one evaluation, broadcast
        let va = a.storage_slice::<A>()?[a.offset()];
        let vb = b.storage_slice::<B>()?[b.offset()];
        return Ok(Tensor::scalar(f(va, vb)).broadcast_view(&shape));
    }
    if let Some(t) = defer_binary(a, b, a_one, b_one, &shape, f)? {
        return Ok(t);
    }
    // Fast path: same shape, both contiguous.
    if let (Some(sa), Some(sb)) = (a.as_slice::<A>()?, b.as_slice::<B>()?) {
        if a.shape() == b.shape() {
            return Tensor::build_overwrite::<R>(&shape, |out| {
                for_chunks(out, |s, c| {
                    simd::map2(&sa[s..s + c.len()], &sb[s..s + c.len()], c, f)
                })
            });
        }
    }
    let da = a.storage_slice::<A>()?;
    let db = b.storage_slice::<B>()?;
    let out_strides = contiguous_strides(&shape);
    let sa = broadcast_strides(a.shape(), a.strides(), &shape);
    let sb = broadcast_strides(b.shape(), b.strides(), &shape);
    let plan = RowPlan::<3>::new(
        &shape,
        [&out_strides, &sa, &sb],
        [0, a.offset(), b.offset()],
    );
    let [_, ia, ib] = plan.inner_strides;
    let len = plan.inner_len;
    Tensor::build_overwrite::<R>(&shape, |out| {
        drive_rows(out, &plan, |[_, oa, ob], o| match (ia, ib) {
            (1, 1) => simd::map2(&da[oa..oa + len], &db[ob..ob + len], o, f),
            (1, 0) => simd::map2_scalar_rhs(&da[oa..oa + len], db[ob], o, f),
            (0, 1) => simd::map2_scalar_lhs(da[oa], &db[ob..ob + len], o, f),
            // A forward-strided operand and one value (`a[:, ::2] * 2`): an
            // iterator stepping through the storage, with no index arithmetic
            // or bounds check per element as in the general loop below (0.85x
            // -> 0.93x NumPy for 1000x1000 float32; for two strided operands
            // zipped iterators measured slower than that loop).
            (ia, 0) if ia > 0 => {
                let y = db[ob];
                for (r, &x) in o.iter_mut().zip(da[oa..].iter().step_by(ia as usize)) {
                    *r = f(x, y);
                }
            }
            (0, ib) if ib > 0 => {
                let x = da[oa];
                for (r, &y) in o.iter_mut().zip(db[ob..].iter().step_by(ib as usize)) {
                    *r = f(x, y);
                }
            }
            _ => {
                for (j, r) in o.iter_mut().enumerate() {
                    let ja = (oa as isize + j as isize * ia) as usize;
                    let jb = (ob as isize + j as isize * ib) as usize;
                    *r = f(da[ja], db[jb]);
                }
            }
        })
    })
}

/// The operands viewed in the memory order of one that has the output's
/// shape and lies densely in a permuted order (a transposed matrix), with
/// that order, when the other is laid out alike or has one element (left as
/// it is: it broadcasts the same in any order). The kernel then runs
/// vectorised over memory and the result keeps the operands' layout. Not
/// for an operand broadcast along some axes: the result would take the
/// permuted layout and pass it on to ops mixing it with row-major values,
/// which measured slower (a Hessian of `A @ x`, 1.5x) than reading the
/// permuted operand strided here.
#[allow(clippy::type_complexity)]
fn in_memory_order(a: &Tensor, b: &Tensor) -> Option<(SmallVec<[usize; 6]>, Tensor, Tensor)> {
    let shape = broadcast_shapes(a.shape(), b.shape()).ok()?;
    let order = |t: &Tensor| (t.shape() == shape.as_slice()).then(|| t.dense_order())?;
    let perm = order(a).or_else(|| order(b))?;
    let view = |t: &Tensor| -> Option<Tensor> {
        if t.size() == 1 && t.ndim() <= shape.len() {
            return Some(t.clone());
        }
        if t.shape() != shape.as_slice() {
            return None;
        }
        let v = t.permute_view(&perm);
        v.is_contiguous().then_some(v)
    };
    let (pa, pb) = (view(a)?, view(b)?);
    Some((perm, pa, pb))
}

/// A deferred `f(a, b)` (see `fusion`) when the output is large and each
/// operand is either contiguous of the output's size or one value.
fn defer_binary<A: Element, B: Element, R: Element>(
    a: &Tensor,
    b: &Tensor,
    a_one: bool,
    b_one: bool,
    shape: &[usize],
    f: impl Fn(A, B) -> R + Sync + Send + Copy + 'static,
) -> Result<Option<Tensor>> {
    let size: usize = shape.iter().product();
    let full = |t: &Tensor| t.shape() == shape;
    // A one-value operand (a scalar, or a broadcast one like the cotangent of
    // a sum) is captured by value, whatever its layout.
    let (inputs, kernel): (_, fusion::TileKernel) = if full(a) && full(b) && !a_one && !b_one {
        if !fusion::should_defer(size, &[a, b]) {
            return Ok(None);
        }
        (
            smallvec::smallvec![a.clone(), b.clone()],
            Arc::new(move |ins, out| {
                let (a, b) = (fusion::tile_in::<A>(ins[0])?, fusion::tile_in::<B>(ins[1])?);
                simd::map2(a, b, fusion::tile_out::<R>(out)?, f);
                Ok(())
            }),
        )
    } else if full(a) && b_one && !a_one {
        if !fusion::should_defer(size, &[a]) {
            return Ok(None);
        }
        let vb = b.storage_slice::<B>()?[b.offset()];
        (
            smallvec::smallvec![a.clone()],
            Arc::new(move |ins, out| {
                let a = fusion::tile_in::<A>(ins[0])?;
                simd::map2_scalar_rhs(a, vb, fusion::tile_out::<R>(out)?, f);
                Ok(())
            }),
        )
    } else if a_one && full(b) && !b_one {
        if !fusion::should_defer(size, &[b]) {
            return Ok(None);
        }
        let va = a.storage_slice::<A>()?[a.offset()];
        (
            smallvec::smallvec![b.clone()],
            Arc::new(move |ins, out| {
                let b = fusion::tile_in::<B>(ins[0])?;
                simd::map2_scalar_lhs(va, b, fusion::tile_out::<R>(out)?, f);
                Ok(())
            }),
        )
    } else {
        return Ok(None);
    };
    fusion::defer(R::DTYPE, shape, inputs, kernel).map(Some)
}

/// `f(c, a, b)` with broadcasting over three operands (used by `where`).
pub fn ternary<C: Element, A: Element, B: Element, R: Element>(
    c: &Tensor,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(C, A, B) -> R + Sync + Send + Copy,
) -> Result<Tensor> {
    let shape = broadcast_shapes(&broadcast_shapes(c.shape(), a.shape())?, b.shape())?;
    let (dc, da, db) = (
        c.storage_slice::<C>()?,
        a.storage_slice::<A>()?,
        b.storage_slice::<B>()?,
    );
    let out_strides = contiguous_strides(&shape);
    let sc = broadcast_strides(c.shape(), c.strides(), &shape);
    let sa = broadcast_strides(a.shape(), a.strides(), &shape);
    let sb = broadcast_strides(b.shape(), b.strides(), &shape);
    let plan = RowPlan::<4>::new(
        &shape,
        [&out_strides, &sc, &sa, &sb],
        [0, c.offset(), a.offset(), b.offset()],
    );
    let [_, ic, ia, ib] = plan.inner_strides;
    Tensor::build_overwrite::<R>(&shape, |out| {
        drive_rows(out, &plan, |[_, oc, oa, ob], o| {
            for (j, r) in o.iter_mut().enumerate() {
                let j = j as isize;
                *r = f(
                    dc[(oc as isize + j * ic) as usize],
                    da[(oa as isize + j * ia) as usize],
                    db[(ob as isize + j * ib) as usize],
                );
            }
        })
    })
}

/// Copy `src` (any layout) into a fresh contiguous tensor, converting elements.
pub fn cast<A: Element, R: Element>(
    src: &Tensor,
    f: impl Fn(A) -> R + Sync + Send + Copy,
) -> Result<Tensor> {
    let data = src.storage_slice::<A>()?;
    let shape = src.shape();
    let out_strides = contiguous_strides(shape);
    let plan = RowPlan::<2>::new(shape, [&out_strides, src.strides()], [0, src.offset()]);
    let [_, is] = plan.inner_strides;
    let len = plan.inner_len;
    Tensor::build_overwrite::<R>(shape, |out| {
        drive_rows(out, &plan, |[_, os], o| {
            if is == 1 {
                simd::map1(&data[os..os + len], o, f);
            } else {
                for (j, r) in o.iter_mut().enumerate() {
                    *r = f(data[(os as isize + j as isize * is) as usize]);
                }
            }
        })
    })
}

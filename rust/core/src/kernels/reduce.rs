//! Reductions over any set of axes, for any layout.
//!
//! The input is walked row by row (see `RowPlan`) together with an output
//! layout whose strides are 0 on reduced axes. A row whose output stride is 0
//! folds into one element (lane-parallel accumulators, so it vectorises); a row
//! whose output stride is 1 accumulates elementwise into an output row (the
//! `axis=0` case). Large inputs are split across threads into private partial
//! outputs that are combined at the end.

use crate::error::Result;
use crate::kernels::fusion;
use crate::kernels::parallel::{chunk_len, map_tasks, num_threads, worth_parallel};
use crate::kernels::slice_fold::SliceFold;
use crate::kernels::strided::RowPlan;
use crate::tensor::shape::{contiguous_strides, Shape};
use crate::tensor::{Element, Tensor};

/// An associative fold with an identity.
pub trait Fold<T: Element>: Copy + Send + Sync {
    fn identity(self) -> T;
    fn combine(self, a: T, b: T) -> T;
    /// The fold of a whole contiguous slice (the hot loop of full and
    /// last-axis reductions).
    fn fold_contiguous(self, x: &[T]) -> T;
    /// `out[i] = combine(out[i], x[i])`: a contiguous row folded into a
    /// contiguous output row (the hot loop of `axis=0` reductions).
    fn fold_into(self, out: &mut [T], x: &[T]) {
        crate::kernels::simd::arch().dispatch(FoldInto { f: self, out, x });
    }
}

#[derive(Clone, Copy)]
pub struct SumFold;
#[derive(Clone, Copy)]
pub struct ProdFold;
#[derive(Clone, Copy)]
pub struct MaxFold;
#[derive(Clone, Copy)]
pub struct MinFold;

/// Arithmetic an element type needs for folding (bools reduce through ints).
pub trait Arith:
    Element + SliceFold + std::ops::Add<Output = Self> + std::ops::Mul<Output = Self>
{
    const LOWEST: Self;
    const HIGHEST: Self;
    /// `x != x`, false for integers.
    fn is_nan(self) -> bool;
}

macro_rules! arith {
    ($t:ty, $lo:expr, $hi:expr) => {
        impl Arith for $t {
            const LOWEST: Self = $lo;
            const HIGHEST: Self = $hi;
            #[inline(always)]
            #[allow(clippy::eq_op)]
            fn is_nan(self) -> bool {
                self != self
            }
        }
    };
}
arith!(f32, f32::NEG_INFINITY, f32::INFINITY);
arith!(f64, f64::NEG_INFINITY, f64::INFINITY);
arith!(i32, i32::MIN, i32::MAX);
arith!(i64, i64::MIN, i64::MAX);

impl<T: Arith> Fold<T> for SumFold {
    #[inline(always)]
    fn identity(self) -> T {
        T::ZERO
    }
    #[inline(always)]
    fn combine(self, a: T, b: T) -> T {
        a + b
    }
    fn fold_contiguous(self, x: &[T]) -> T {
        T::sum_of(x)
    }
}
impl<T: Arith> Fold<T> for ProdFold {
    #[inline(always)]
    fn identity(self) -> T {
        T::ONE
    }
    #[inline(always)]
    fn combine(self, a: T, b: T) -> T {
        a * b
    }
    fn fold_contiguous(self, x: &[T]) -> T {
        fold_slice(self, x)
    }
}
// max/min propagate NaN, as NumPy's do.
impl<T: Arith> Fold<T> for MaxFold {
    #[inline(always)]
    fn identity(self) -> T {
        T::LOWEST
    }
    #[inline(always)]
    fn combine(self, a: T, b: T) -> T {
        // `|`, not `||`: no branch, so the lane loop vectorises into blends
        if (b > a) | b.is_nan() {
            b
        } else {
            a
        }
    }
    fn fold_contiguous(self, x: &[T]) -> T {
        T::max_of(x)
    }
    fn fold_into(self, out: &mut [T], x: &[T]) {
        T::max_into(out, x)
    }
}
impl<T: Arith> Fold<T> for MinFold {
    #[inline(always)]
    fn identity(self) -> T {
        T::HIGHEST
    }
    #[inline(always)]
    fn combine(self, a: T, b: T) -> T {
        if (b < a) | b.is_nan() {
            b
        } else {
            a
        }
    }
    fn fold_contiguous(self, x: &[T]) -> T {
        T::min_of(x)
    }
    fn fold_into(self, out: &mut [T], x: &[T]) {
        T::min_into(out, x)
    }
}

const LANES: usize = 16;
/// Elements folded by the lane accumulators before a partial result is merged.
const BLOCK: usize = LANES * 64;

/// Fold a contiguous slice: blocks of [`LANES`] independent lanes
/// (vectorisable), and the block results merged pairwise (a binary-counter
/// cascade), so a float sum's rounding error grows like log(n) rather than n,
/// as NumPy's pairwise sum.
#[inline(always)]
pub(crate) fn fold_slice<T: Element, F: Fold<T>>(f: F, x: &[T]) -> T {
    crate::kernels::simd::arch().dispatch(FoldSlice { f, x })
}

/// `fold_slice` as a `WithSimd` body, so that it is compiled inside pulp's
/// target-feature function (a dispatched closure may be outlined without
/// them; see `kernels::simd`).
struct FoldSlice<'a, T, F> {
    f: F,
    x: &'a [T],
}

impl<T: Element, F: Fold<T>> pulp::WithSimd for FoldSlice<'_, T, F> {
    type Output = T;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> T {
        let f = self.f;
        // stack[k] holds the merge of 2^k blocks (or identity)
        let mut stack = [f.identity(); 48];
        let mut filled = [false; 48];
        for block in self.x.chunks(BLOCK) {
            let mut acc = [f.identity(); LANES];
            let mut chunks = block.chunks_exact(LANES);
            for c in &mut chunks {
                for i in 0..LANES {
                    acc[i] = f.combine(acc[i], c[i]);
                }
            }
            let mut w = LANES;
            while w > 1 {
                w /= 2;
                for i in 0..w {
                    acc[i] = f.combine(acc[i], acc[i + w]);
                }
            }
            let mut r = acc[0];
            for &v in chunks.remainder() {
                r = f.combine(r, v);
            }
            let mut k = 0;
            while filled[k] {
                r = f.combine(stack[k], r);
                filled[k] = false;
                k += 1;
            }
            stack[k] = r;
            filled[k] = true;
        }
        let mut total = f.identity();
        for k in (0..48).rev() {
            if filled[k] {
                total = f.combine(total, stack[k]);
            }
        }
        total
    }
}

/// `out[i] = f(out[i], x[i])`: one input row folded into an output row.
struct FoldInto<'a, T, F> {
    f: F,
    out: &'a mut [T],
    x: &'a [T],
}

impl<T: Element, F: Fold<T>> pulp::WithSimd for FoldInto<'_, T, F> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        for (a, &b) in self.out.iter_mut().zip(self.x) {
            *a = self.f.combine(*a, b);
        }
    }
}

/// Reduce `x` over the sorted, distinct `axes`; the result drops those axes.
pub fn reduce<T: Element, F: Fold<T> + 'static>(
    x: &Tensor,
    axes: &[usize],
    f: F,
) -> Result<Tensor> {
    if !axes.is_empty() && axes.len() == x.ndim() && fusion::is_pending_chain(x) {
        // A whole-array fold of a pending elementwise chain folds its tiles as
        // they are computed: the chain's values are never written out.
        let folded = fusion::defer_fold(
            x,
            move |tile: &[T]| f.fold_contiguous(tile),
            move |a, b| f.combine(a, b),
            f.identity(),
        )?;
        if let Some(t) = folded {
            return Ok(t);
        }
    }
    let shape = x.shape();
    let out_shape: Shape = shape
        .iter()
        .enumerate()
        .filter(|(i, _)| !axes.contains(i))
        .map(|(_, &d)| d)
        .collect();
    let out_full: Shape = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let mut out_strides = contiguous_strides(&out_full);
    for &a in axes {
        out_strides[a] = 0;
    }
    let data = x.storage_slice::<T>()?;
    let plan = RowPlan::<2>::new(shape, [x.strides(), &out_strides], [x.offset(), 0]);
    let rows = plan.rows();
    let len = plan.inner_len;
    let [ix, io] = plan.inner_strides;

    let run = |out: &mut [T], start: usize, end: usize| {
        plan.for_rows(start, end, |_, [ox, oo]| {
            if io == 0 {
                let r = if ix == 1 {
                    f.fold_contiguous(&data[ox..ox + len])
                } else {
                    let mut r = f.identity();
                    for j in 0..len as isize {
                        r = f.combine(r, data[(ox as isize + j * ix) as usize]);
                    }
                    r
                };
                out[oo] = f.combine(out[oo], r);
            } else if ix == 1 && io == 1 {
                f.fold_into(&mut out[oo..oo + len], &data[ox..ox + len]);
            } else {
                for j in 0..len as isize {
                    let k = (oo as isize + j * io) as usize;
                    out[k] = f.combine(out[k], data[(ox as isize + j * ix) as usize]);
                }
            }
        });
    };

    let n_out = out_shape.iter().product::<usize>();
    Tensor::try_build_overwrite::<T>(&out_shape, |out| {
        out.fill(f.identity());
        let work = rows * len;
        if !worth_parallel(work) {
            run(out, 0, rows);
        } else if rows == 1 && io == 0 && ix == 1 {
            // One long contiguous row: fold chunks in parallel.
            let [ox, oo] = plan.row_offsets(0);
            let s = &data[ox..ox + len];
            let chunk = chunk_len(len);
            let parts = map_tasks(len.div_ceil(chunk), |i| {
                f.fold_contiguous(&s[i * chunk..((i + 1) * chunk).min(len)])
            })?;
            out[oo] = parts.into_iter().fold(out[oo], |a, b| f.combine(a, b));
        } else if io == 0 && rows == n_out {
            // Each row folds into its own output element (e.g. the last axis of
            // a tall array): rows are folded in parallel, results placed after.
            let per = (chunk_len(work) / len.max(1)).max(1);
            let folded = map_tasks(rows.div_ceil(per), |t| {
                let mut r = Vec::with_capacity(per);
                plan.for_rows(t * per, ((t + 1) * per).min(rows), |_, [ox, _]| {
                    r.push(if ix == 1 {
                        f.fold_contiguous(&data[ox..ox + len])
                    } else {
                        let mut acc = f.identity();
                        for j in 0..len as isize {
                            acc = f.combine(acc, data[(ox as isize + j * ix) as usize]);
                        }
                        acc
                    })
                });
                r
            })?;
            let mut results = folded.into_iter().flatten();
            plan.for_rows(0, rows, |_, [_, oo]| {
                if let Some(r) = results.next() {
                    out[oo] = r; // one result per row
                }
            });
        } else {
            // Rows share outputs: one private partial output per thread.
            let tasks = num_threads().min(rows);
            let per = rows.div_ceil(tasks);
            let partials = map_tasks(tasks, |t| {
                let mut p = vec![f.identity(); n_out];
                run(&mut p, t * per, ((t + 1) * per).min(rows));
                p
            })?;
            for p in partials {
                for (o, v) in out.iter_mut().zip(p) {
                    *o = f.combine(*o, v);
                }
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(v: &[f64], s: &[usize]) -> Tensor {
        Tensor::from_slice(v, s).unwrap()
    }

    #[test]
    fn sums_over_each_axis() {
        let x = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
        let s0 = reduce::<f64, _>(&x, &[0], SumFold).unwrap();
        assert_eq!(s0.to_vec::<f64>().unwrap(), vec![5., 7., 9.]);
        let s1 = reduce::<f64, _>(&x, &[1], SumFold).unwrap();
        assert_eq!(s1.to_vec::<f64>().unwrap(), vec![6., 15.]);
        let all = reduce::<f64, _>(&x, &[0, 1], SumFold).unwrap();
        assert_eq!(all.to_vec::<f64>().unwrap(), vec![21.]);
        assert_eq!(all.shape(), &[] as &[usize]);
        let xt = x.permute_view(&[1, 0]);
        let st = reduce::<f64, _>(&xt, &[1], MaxFold).unwrap();
        assert_eq!(st.to_vec::<f64>().unwrap(), vec![4., 5., 6.]);
    }

    #[test]
    fn awkward_lengths_match_scalar_reference() {
        for n in [0usize, 1, 7, 15, 33, 1025, 65537] {
            let v: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64 - 6.0).collect();
            let x = t(&v, &[n]);
            let s = reduce::<f64, _>(&x, &[0], SumFold)
                .unwrap()
                .item_f64()
                .unwrap();
            assert_eq!(s, v.iter().sum::<f64>(), "n={n}");
            let m = reduce::<f64, _>(&x, &[0], MaxFold)
                .unwrap()
                .item_f64()
                .unwrap();
            assert_eq!(
                m,
                v.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                "n={n}"
            );
            // strided: every other element of a doubled array
            let v2: Vec<f64> = v.iter().flat_map(|&a| [a, 100.0]).collect();
            let x2 = t(&v2, &[n, 2]);
            let col = x2.slice_view(&[0, 0], &[1, 1], &[n, 1]);
            let s2 = reduce::<f64, _>(&col, &[0, 1], SumFold)
                .unwrap()
                .item_f64()
                .unwrap();
            assert_eq!(s2, v.iter().sum::<f64>(), "strided n={n}");
        }
    }

    #[test]
    fn nan_propagates_through_max() {
        let x = t(&[1.0, f64::NAN, 3.0], &[3]);
        assert!(reduce::<f64, _>(&x, &[0], MaxFold)
            .unwrap()
            .item_f64()
            .unwrap()
            .is_nan());
        assert!(reduce::<f64, _>(&x, &[0], MinFold)
            .unwrap()
            .item_f64()
            .unwrap()
            .is_nan());
    }
}

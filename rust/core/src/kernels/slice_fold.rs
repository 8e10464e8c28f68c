//! Sum, max and min of a contiguous float slice, with explicit SIMD: the
//! hot loops of full and last-axis reductions.
//!
//! Written as scalar lane arrays, these folds leave LLVM's SLP vectoriser with
//! one dependent chain per vector or no vectorisation at all, depending on the
//! unroll (3-6x below what the memory allows). Here four independent vector
//! accumulators hide the add / max latency.
//!
//! - The sum is pairwise across blocks (a binary-counter cascade), so its
//!   rounding error grows like log(n), as NumPy's does.
//! - NumPy's max propagates NaN. The hardware max may drop NaNs, so they are
//!   tracked apart in a lane mask (`x == x` is false only for NaN): the result
//!   is NaN iff one was seen.

use pulp::{Simd, WithSimd};

use crate::kernels::reduce::{fold_slice, SumFold};

/// Elements a block of the pairwise sum adds in vector lanes before the
/// block's total joins the cascade.
const SUM_BLOCK: usize = 1024;

/// Whole-slice folds; the identities (0, `-inf`, `+inf`, or the integer
/// bounds) for an empty slice.
pub trait SliceFold: Sized {
    fn sum_of(x: &[Self]) -> Self;
    fn max_of(x: &[Self]) -> Self;
    fn min_of(x: &[Self]) -> Self;
    /// `out[i] = max(out[i], x[i])` (NaN-propagating; equal lengths): one
    /// row folded into an output row, the hot loop of `axis=0` reductions.
    fn max_into(out: &mut [Self], x: &[Self]);
    /// `out[i] = min(out[i], x[i])`, as [`SliceFold::max_into`].
    fn min_into(out: &mut [Self], x: &[Self]);
}

/// Pairwise merging of block totals: `push` keeps at most one partial per
/// power of two, so every total is merged with another of similar size.
struct Cascade<T> {
    stack: [T; 48],
    filled: u64,
}

impl<T: Copy + std::ops::Add<Output = T>> Cascade<T> {
    #[inline(always)]
    fn new(zero: T) -> Self {
        Cascade {
            stack: [zero; 48],
            filled: 0,
        }
    }
    #[inline(always)]
    fn push(&mut self, mut r: T) {
        let mut k = 0;
        while self.filled & (1 << k) != 0 {
            r = self.stack[k] + r;
            self.filled &= !(1 << k);
            k += 1;
        }
        self.stack[k] = r;
        self.filled |= 1 << k;
    }
    #[inline(always)]
    fn total(self, zero: T) -> T {
        (0..48)
            .rev()
            .filter(|k| self.filled & (1 << k) != 0)
            .fold(zero, |acc, k| acc + self.stack[k])
    }
}

macro_rules! float_folds {
    ($t:ty, $body:ident, $sum_body:ident, $into:ident, $vecs:ident, $as_simd:ident, $splat:ident,
     $add:ident, $max:ident, $min:ident, $eq:ident, $and:ident, $not:ident,
     $first_true:ident, $rsum:ident, $rmax:ident, $rmin:ident) => {
        struct $sum_body<'a> {
            x: &'a [$t],
        }

        impl WithSimd for $sum_body<'_> {
            type Output = $t;
            #[inline(always)]
            fn with_simd<S: Simd>(self, s: S) -> $t {
                let mut cascade = Cascade::new(0.0);
                for block in self.x.chunks(SUM_BLOCK) {
                    let (head, tail) = S::$as_simd(block);
                    let mut acc = [s.$splat(0.0); 4];
                    let mut quads = head.chunks_exact(4);
                    for q in &mut quads {
                        for k in 0..4 {
                            acc[k] = s.$add(acc[k], q[k]);
                        }
                    }
                    for &v in quads.remainder() {
                        acc[0] = s.$add(acc[0], v);
                    }
                    let v = s.$add(s.$add(acc[0], acc[1]), s.$add(acc[2], acc[3]));
                    let mut r = s.$rsum(v);
                    for &v in tail {
                        r += v;
                    }
                    cascade.push(r);
                }
                cascade.total(0.0)
            }
        }

        struct $body<'a> {
            x: &'a [$t],
            max: bool,
        }

        impl WithSimd for $body<'_> {
            type Output = $t;
            #[inline(always)]
            fn with_simd<S: Simd>(self, s: S) -> $t {
                let max = self.max;
                let identity = if max {
                    <$t>::NEG_INFINITY
                } else {
                    <$t>::INFINITY
                };
                let pick = |a: S::$vecs, b: S::$vecs| if max { s.$max(a, b) } else { s.$min(a, b) };
                let (head, tail) = S::$as_simd(self.x);
                let init = s.$splat(identity);
                let mut acc = [init; 4];
                // lanes that have seen only numbers so far
                let mut ok = [s.$eq(init, init); 4];
                let mut quads = head.chunks_exact(4);
                for q in &mut quads {
                    for k in 0..4 {
                        acc[k] = pick(q[k], acc[k]);
                        ok[k] = s.$and(ok[k], s.$eq(q[k], q[k]));
                    }
                }
                for &v in quads.remainder() {
                    acc[0] = pick(v, acc[0]);
                    ok[0] = s.$and(ok[0], s.$eq(v, v));
                }
                let all = pick(pick(acc[0], acc[1]), pick(acc[2], acc[3]));
                let ok = s.$and(s.$and(ok[0], ok[1]), s.$and(ok[2], ok[3]));
                let lanes = std::mem::size_of::<S::$vecs>() / std::mem::size_of::<$t>();
                if s.$first_true(s.$not(ok)) < lanes {
                    return <$t>::NAN;
                }
                let mut r = if max { s.$rmax(all) } else { s.$rmin(all) };
                for &v in tail {
                    if v.is_nan() {
                        return <$t>::NAN;
                    }
                    if (max && v > r) || (!max && v < r) {
                        r = v;
                    }
                }
                r
            }
        }

        impl SliceFold for $t {
            #[inline]
            fn sum_of(x: &[$t]) -> $t {
                crate::kernels::simd::arch().dispatch($sum_body { x })
            }
            #[inline]
            fn max_of(x: &[$t]) -> $t {
                crate::kernels::simd::arch().dispatch($body { x, max: true })
            }
            #[inline]
            fn min_of(x: &[$t]) -> $t {
                crate::kernels::simd::arch().dispatch($body { x, max: false })
            }
            #[inline]
            fn max_into(out: &mut [$t], x: &[$t]) {
                crate::kernels::simd::arch().dispatch($into { out, x, max: true })
            }
            #[inline]
            fn min_into(out: &mut [$t], x: &[$t]) {
                crate::kernels::simd::arch().dispatch($into { out, x, max: false })
            }
        }
    };
}

float_folds!(
    f32,
    ExtremumF32,
    SumF32,
    ExtremumIntoF32,
    f32s,
    as_simd_f32s,
    splat_f32s,
    add_f32s,
    max_f32s,
    min_f32s,
    equal_f32s,
    and_m32s,
    not_m32s,
    first_true_m32s,
    reduce_sum_f32s,
    reduce_max_f32s,
    reduce_min_f32s
);
float_folds!(
    f64,
    ExtremumF64,
    SumF64,
    ExtremumIntoF64,
    f64s,
    as_simd_f64s,
    splat_f64s,
    add_f64s,
    max_f64s,
    min_f64s,
    equal_f64s,
    and_m64s,
    not_m64s,
    first_true_m64s,
    reduce_sum_f64s,
    reduce_max_f64s,
    reduce_min_f64s
);

// Elementwise max/min of two rows. As `out = select(b > a | b is NaN, b, a)`
// LLVM turns the loop into masked stores of `b` (`vmaskmovps`), microcoded and
// slow on AMD (the scalar select loop compiles the same way: 4-6x below a
// sum's speed). Here the hardware max is taken, then each operand's NaNs are
// blended back in (`x != x` only for NaN), so every vector is stored whole.
macro_rules! float_fold_into {
    ($t:ty, $body:ident, $as_simd:ident, $as_mut_simd:ident, $maxv:ident, $minv:ident,
     $eq:ident, $not:ident, $select:ident) => {
        struct $body<'a> {
            out: &'a mut [$t],
            x: &'a [$t],
            max: bool,
        }

        impl WithSimd for $body<'_> {
            type Output = ();
            #[inline(always)]
            fn with_simd<S: Simd>(self, s: S) {
                let n = self.out.len().min(self.x.len());
                let max = self.max;
                let (oh, ot) = S::$as_mut_simd(&mut self.out[..n]);
                let (xh, xt) = S::$as_simd(&self.x[..n]);
                for (o, &b) in oh.iter_mut().zip(xh) {
                    let a = *o;
                    let m = if max { s.$maxv(a, b) } else { s.$minv(a, b) };
                    let m = s.$select(s.$not(s.$eq(a, a)), a, m);
                    *o = s.$select(s.$not(s.$eq(b, b)), b, m);
                }
                for (o, &b) in ot.iter_mut().zip(xt) {
                    let better = if max { b > *o } else { b < *o };
                    if better | b.is_nan() {
                        *o = b;
                    }
                }
            }
        }
    };
}
float_fold_into!(
    f32,
    ExtremumIntoF32,
    as_simd_f32s,
    as_mut_simd_f32s,
    max_f32s,
    min_f32s,
    equal_f32s,
    not_m32s,
    select_f32s
);
float_fold_into!(
    f64,
    ExtremumIntoF64,
    as_simd_f64s,
    as_mut_simd_f64s,
    max_f64s,
    min_f64s,
    equal_f64s,
    not_m64s,
    select_f64s
);

macro_rules! int_folds {
    ($t:ty) => {
        impl SliceFold for $t {
            // Integer reductions are plain loop reductions, which LLVM
            // vectorises by itself (a sum wraps on overflow, as NumPy's).
            #[inline]
            fn sum_of(x: &[$t]) -> $t {
                fold_slice(SumFold, x)
            }
            #[inline]
            fn max_of(x: &[$t]) -> $t {
                x.iter().copied().max().unwrap_or(<$t>::MIN)
            }
            #[inline]
            fn min_of(x: &[$t]) -> $t {
                x.iter().copied().min().unwrap_or(<$t>::MAX)
            }
            #[inline]
            fn max_into(out: &mut [$t], x: &[$t]) {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = (*o).max(v);
                }
            }
            #[inline]
            fn min_into(out: &mut [$t], x: &[$t]) {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = (*o).min(v);
                }
            }
        }
    };
}
int_folds!(i32);
int_folds!(i64);

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f64], max: bool) -> f64 {
        let mut r = if max {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        for &v in x {
            if v.is_nan() {
                return f64::NAN;
            }
            if (max && v > r) || (!max && v < r) {
                r = v;
            }
        }
        r
    }

    #[test]
    fn matches_scalar_reference_with_nan_anywhere() {
        for n in [0usize, 1, 7, 15, 16, 33, 63, 64, 65, 1025, 4099] {
            let base: Vec<f64> = (0..n).map(|i| ((i * 7919) % 101) as f64 - 50.0).collect();
            // extreme value in every position class: head quads, remainder vectors, tail
            for pos in [0, n / 3, n.saturating_sub(1)] {
                for poison in [
                    None,
                    Some(f64::NAN),
                    Some(f64::INFINITY),
                    Some(f64::NEG_INFINITY),
                ] {
                    let mut v = base.clone();
                    if let (Some(p), true) = (poison, n > 0) {
                        v[pos] = p;
                    }
                    let v32: Vec<f32> = v.iter().map(|&a| a as f32).collect();
                    for max in [true, false] {
                        let want = reference(&v, max);
                        let (got, got32) = if max {
                            (f64::max_of(&v), f32::max_of(&v32))
                        } else {
                            (f64::min_of(&v), f32::min_of(&v32))
                        };
                        let ok = |g: f64| g == want || (g.is_nan() && want.is_nan());
                        assert!(
                            ok(got),
                            "f64 n={n} pos={pos} {poison:?} max={max}: {got} vs {want}"
                        );
                        assert!(
                            ok(got32 as f64),
                            "f32 n={n} pos={pos} {poison:?} max={max}: {got32} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sums_match_a_compensated_reference_on_awkward_lengths() {
        for n in [
            0usize, 1, 7, 15, 16, 33, 64, 65, 1023, 1024, 1025, 4099, 65537,
        ] {
            let v: Vec<f64> = (0..n)
                .map(|i| ((i * 7919) % 101) as f64 * 0.37 - 18.0)
                .collect();
            let exact: f64 = {
                // Neumaier summation: exact enough to judge the pairwise sums
                let (mut s, mut c) = (0.0f64, 0.0f64);
                for &x in &v {
                    let t = s + x;
                    c += if s.abs() >= x.abs() {
                        (s - t) + x
                    } else {
                        (x - t) + s
                    };
                    s = t;
                }
                s + c
            };
            let scale: f64 = v.iter().map(|x| x.abs()).sum::<f64>().max(1.0);
            assert!(
                (f64::sum_of(&v) - exact).abs() <= 1e-15 * scale,
                "f64 n={n}"
            );
            let v32: Vec<f32> = v.iter().map(|&a| a as f32).collect();
            let exact32: f64 = v32.iter().map(|&a| a as f64).sum();
            assert!(
                (f32::sum_of(&v32) as f64 - exact32).abs() <= 1e-6 * scale,
                "f32 n={n}"
            );
        }
        assert!(f64::sum_of(&[1.0, f64::NAN, 2.0]).is_nan());
    }

    #[test]
    fn integers() {
        assert_eq!(i64::max_of(&[3, -7, 9, 2]), 9);
        assert_eq!(i32::min_of(&[3, -7, 9, 2]), -7);
        assert_eq!(i64::max_of(&[]), i64::MIN);
        assert_eq!(i64::sum_of(&[3, -7, 9, 2]), 7);
    }
}

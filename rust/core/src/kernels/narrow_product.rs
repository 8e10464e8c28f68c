//! Float products with a narrow output (2 to [`MAX_COLS`] columns): a
//! classifier's `h @ W` with ten classes, its weight gradient `h.T @ g`, the
//! same under `jvp`.
//!
//! `gemm` packs both operands into panels shaped for wide outputs, and pads
//! the output to whole register tiles (8 or 16 columns). With ten columns
//! the packing and the padding cost more than the multiply-adds themselves:
//! 11 us for `128x256 @ 256x10` in float32 on AVX-512, where NumPy's OpenBLAS
//! takes 6-10 us. Here the output is computed in registers straight from the
//! operands (5.4-7.7 us), in one of two forms, chosen by the left operand's
//! layout:
//!
//! - **columns**: its columns are contiguous (a transposed view, as in a
//!   weight gradient). Vectors run down a column of it, each multiplied by a
//!   broadcast element of the right operand. No packing, no horizontal sums.
//! - **rows**: its rows are contiguous. Vectors run along a row of it and a
//!   column of the right operand (copied into rows first unless already
//!   contiguous: `n*k` elements, a tenth of the left operand here), then each
//!   accumulator is summed across its lanes.
//!
//! [`form`] says which products go here, by measurement; the vector width is
//! the one `FERRAX_SIMD` caps, so every level's code can be tested on one
//! machine.
//!
//! In both forms an output's summation order depends on `k` and the vector
//! width only, not on `m` or on where its rows start, so splitting rows across
//! threads, or stacking rows under `vmap`, gives the same bits.

use pulp::bytemuck::{self, Pod};
use pulp::{Simd, WithSimd};

use crate::kernels::simd;
use crate::tensor::{AnySlice, AnySliceMut, Element};

/// Widest output this module takes, with the exceptions in [`form`].
pub(crate) const MAX_COLS: usize = 10;

/// An `m×k` or `k×n` operand: its elements from `data[0]`, rows `rs` and
/// columns `cs` elements apart (`matmul` sends views with negative strides to
/// `gemm`).
#[derive(Clone, Copy)]
pub(crate) struct Operand<'a, T> {
    pub data: &'a [T],
    pub rs: usize,
    pub cs: usize,
}

impl<T> Operand<'_, T> {
    /// The same layout over `data`: the same elements, typed by the dtype match.
    fn over<'b, U>(&self, data: &'b [U]) -> Operand<'b, U> {
        Operand {
            data,
            rs: self.rs,
            cs: self.cs,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Form {
    Columns,
    Rows,
}

/// Which form computes an `m×k @ k×n` product faster than `gemm`, if one
/// does. Measured against `gemm` alone over m in 2..1000, k in 4..256 and
/// every n up to 16, in both dtypes, on AVX-512:
///
/// - at 8 and 16 columns gemm's register tiles fit the output exactly and
///   it is 1.2-7x faster than either form here; at 11-15 columns the two
///   trade places by shape and dtype, so those stay on gemm too;
/// - the columns form is faster at every other width (1.0-8x, the most for
///   the narrowest outputs and shortest sums);
/// - the rows form pays for copying the right operand and for its
///   horizontal sums: faster (1.1-6x) up to 6 columns, and at 7-10 only for
///   sums of 128 terms or more (0.7-0.95x below that at 10 columns).
fn form(m: usize, n: usize, k: usize, a: (usize, usize), b_rs: usize) -> Option<Form> {
    if !(2..=MAX_COLS).contains(&n) || n == 8 || k < 2 || m == 0 || b_rs == 0 {
        // (A right operand broadcast along k, b_rs == 0, is left to gemm too.)
        return None;
    }
    match a {
        // Both strides are 1 only for a single row (k >= 2), which the rows
        // form takes whole instead of as a partial vector.
        (1, cs) if cs != 1 => Some(Form::Columns),
        (_, 1) if n <= 6 || k >= 128 => Some(Form::Rows),
        _ => None,
    }
}

/// `out[i*out_rs + j] = Σ_p a[i, p] b[p, j]` for `i < m`, `j < n`, when the
/// operands are floats and [`form`] finds one of this module's forms faster
/// than `gemm`; `false` (nothing written) otherwise. Reads and writes are
/// bounds-checked slices; the caller has checked the operands' extents
/// already, so none fails.
pub(crate) fn product<T: Element>(
    out: &mut [T],
    out_rs: usize,
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    (m, n, k): (usize, usize, usize),
) -> bool {
    let Some(form) = form(m, n, k, (a.rs, a.cs), b.rs) else {
        return false;
    };
    let g = Sizes { m, n, k, out_rs };
    match (T::any_mut(out), T::any(a.data), T::any(b.data)) {
        (AnySliceMut::F32(out), AnySlice::F32(ad), AnySlice::F32(bd)) => {
            run(out, a.over(ad), b.over(bd), g, form)
        }
        (AnySliceMut::F64(out), AnySlice::F64(ad), AnySlice::F64(bd)) => {
            run(out, a.over(ad), b.over(bd), g, form)
        }
        _ => return false,
    }
    true
}

#[derive(Clone, Copy)]
struct Sizes {
    m: usize,
    n: usize,
    k: usize,
    out_rs: usize,
}

fn run<T: Lanes>(out: &mut [T], a: Operand<'_, T>, b: Operand<'_, T>, g: Sizes, form: Form) {
    if form == Form::Columns {
        simd::arch().dispatch(Columns { out, a, b, g })
    } else {
        // The rows form wants the right operand's columns contiguous.
        let packed: Vec<T>;
        let bt = if b.rs == 1 {
            Operand {
                data: b.data,
                rs: b.cs,
                cs: 1,
            }
        } else {
            // Column by column: sequential writes, and strided reads that
            // need no bounds check per element (`form` checked b.rs > 0).
            let mut t = vec![T::ZERO; g.n * g.k];
            for (j, col) in t.chunks_exact_mut(g.k).enumerate() {
                let src = b.data[j * b.cs..].iter().step_by(b.rs);
                for (o, &x) in col.iter_mut().zip(src) {
                    *o = x;
                }
            }
            packed = t;
            Operand {
                data: &packed,
                rs: g.k,
                cs: 1,
            }
        };
        simd::arch().dispatch(Rows { out, a, bt, g })
    }
}

/// Output columns per register block: the fewest blocks of at most `max`
/// columns, made as even as possible, so that ten columns are two blocks of
/// five rather than eight and a padded four.
#[inline(always)]
fn block_cols(n: usize, max: usize) -> usize {
    n.div_ceil(n.div_ceil(max))
}

/// The vector operations the kernels need, for `f32` and `f64` alike.
trait Lanes: Element + Pod {
    type V<S: Simd>: Copy + Pod;

    #[inline(always)]
    fn lanes<S: Simd>() -> usize {
        std::mem::size_of::<Self::V<S>>() / std::mem::size_of::<Self>()
    }
    /// `x` holds exactly one vector's lanes.
    #[inline(always)]
    fn load<S: Simd>(x: &[Self]) -> Self::V<S> {
        bytemuck::pod_read_unaligned(bytemuck::cast_slice(x))
    }
    #[inline(always)]
    fn lane_values<S: Simd>(v: &Self::V<S>) -> &[Self] {
        bytemuck::cast_slice(std::slice::from_ref(v))
    }
    fn splat<S: Simd>(s: S, x: Self) -> Self::V<S>;
    /// Fewer elements than lanes; the rest read as zero.
    fn load_partial<S: Simd>(s: S, x: &[Self]) -> Self::V<S>;
    /// `a * b + c`, fused where the instruction set has it.
    fn mul_add<S: Simd>(s: S, a: Self::V<S>, b: Self::V<S>, c: Self::V<S>) -> Self::V<S>;
    fn sum<S: Simd>(s: S, v: Self::V<S>) -> Self;
}

macro_rules! lanes {
    ($t:ty, $v:ident, $splat:ident, $partial:ident, $fma:ident, $sum:ident) => {
        impl Lanes for $t {
            type V<S: Simd> = S::$v;
            #[inline(always)]
            fn splat<S: Simd>(s: S, x: $t) -> S::$v {
                s.$splat(x)
            }
            #[inline(always)]
            fn load_partial<S: Simd>(s: S, x: &[$t]) -> S::$v {
                s.$partial(x)
            }
            #[inline(always)]
            fn mul_add<S: Simd>(s: S, a: S::$v, b: S::$v, c: S::$v) -> S::$v {
                s.$fma(a, b, c)
            }
            #[inline(always)]
            fn sum<S: Simd>(s: S, v: S::$v) -> $t {
                s.$sum(v)
            }
        }
    };
}

lanes!(
    f32,
    f32s,
    splat_f32s,
    partial_load_f32s,
    mul_add_e_f32s,
    reduce_sum_f32s
);
lanes!(
    f64,
    f64s,
    splat_f64s,
    partial_load_f64s,
    mul_add_e_f64s,
    reduce_sum_f64s
);

/// AVX-512 has 32 vector registers, AVX2 16: the register blocks below are
/// sized for the level dispatched to.
#[inline(always)]
fn many_registers<S: Simd>() -> bool {
    std::mem::size_of::<S::f32s>() >= 64
}

/// Calls `$f::<.., C>` with the const `C` equal to `$cols` (2 to 5).
macro_rules! with_block_cols {
    ($cols:expr, $f:ident::<$($p:ty),*>($($arg:expr),*)) => {
        match $cols {
            2 => $f::<$($p,)* 2>($($arg),*),
            3 => $f::<$($p,)* 3>($($arg),*),
            4 => $f::<$($p,)* 4>($($arg),*),
            _ => $f::<$($p,)* 5>($($arg),*),
        }
    };
}

/// The columns form: `out[i.., j] += a[i.., p] * b[p, j]`, vectors down `a`'s
/// columns, a block of two vectors of rows (where there are that many) by `C`
/// output columns at a time.
struct Columns<'a, T> {
    out: &'a mut [T],
    a: Operand<'a, T>,
    b: Operand<'a, T>,
    g: Sizes,
}

impl<T: Lanes> WithSimd for Columns<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let Columns { out, a, b, g } = self;
        let c = block_cols(g.n, 5);
        with_block_cols!(c, columns::<S, T>(s, out, a, b, g))
    }
}

#[inline(always)]
fn columns<S: Simd, T: Lanes, const C: usize>(
    s: S,
    out: &mut [T],
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    g: Sizes,
) {
    let l = T::lanes::<S>();
    // `b`'s columns in blocks of `C`, each as `k` rows of `C` elements `rs`
    // apart: in place when they are (`b`'s rows contiguous, a whole block),
    // else copied, `k * C` elements (columns past the output's last repeat
    // it; they are computed and dropped, which keeps the inner loop free of
    // branches).
    let mut packed: Vec<T> = Vec::new();
    let mut blocks = [(0usize, 0usize, false); MAX_COLS]; // (offset, rs, copied)
    for (jb, j0) in (0..g.n).step_by(C).enumerate() {
        let cols = C.min(g.n - j0);
        blocks[jb] = if b.cs == 1 && cols == C {
            (j0, b.rs, false)
        } else {
            let offset = packed.len();
            for p in 0..g.k {
                let row = &b.data[p * b.rs..];
                packed.extend((0..C).map(|c| row[(j0 + c.min(cols - 1)) * b.cs]));
            }
            (offset, C, true)
        };
    }
    // Row blocks outer, so that a block of `a`'s rows stays in L1 across
    // the column blocks.
    let mut i0 = 0;
    while i0 < g.m {
        let rows = (g.m - i0).min(4 * l);
        for (jb, j0) in (0..g.n).step_by(C).enumerate() {
            let cols = C.min(g.n - j0);
            let (offset, rs, copied) = blocks[jb];
            let bj = (
                if copied {
                    &packed[offset..]
                } else {
                    &b.data[offset..]
                },
                rs,
            );
            let mut i = i0;
            while i0 + rows - i >= 2 * l {
                column_block::<S, T, 2, C>(s, out, a, bj, g, i, 2 * l, j0, cols);
                i += 2 * l;
            }
            if i0 + rows - i >= l {
                column_block::<S, T, 1, C>(s, out, a, bj, g, i, l, j0, cols);
                i += l;
            }
            if i < i0 + rows {
                column_block::<S, T, 0, C>(s, out, a, bj, g, i, i0 + rows - i, j0, cols);
            }
        }
        i0 += rows;
    }
}

/// Rows `i0..i0 + rows` (`R` whole vectors of them, or, for `R == 0`, fewer
/// than one) by output columns `j0..j0 + cols`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn column_block<S: Simd, T: Lanes, const R: usize, const C: usize>(
    s: S,
    out: &mut [T],
    a: Operand<'_, T>,
    (bb, b_rs): (&[T], usize),
    g: Sizes,
    i0: usize,
    rows: usize,
    j0: usize,
    cols: usize,
) {
    let l = T::lanes::<S>();
    let zero = T::splat(s, T::ZERO);
    let mut acc = [[zero; C]; 2];
    for p in 0..g.k {
        let a_col = &a.data[p * a.cs + i0..][..rows];
        let b_row: &[T; C] = bb[p * b_rs..][..C].try_into().unwrap();
        column_step::<S, T, R, C>(s, &mut acc, a_col, b_row)
    }
    for r in 0..R.max(1) {
        let vals: [&[T]; C] = std::array::from_fn(|c| T::lane_values::<S>(&acc[r][c]));
        let live = if R == 0 { rows } else { l };
        for lane in 0..live {
            let row = &mut out[(i0 + r * l + lane) * g.out_rs + j0..][..cols];
            for (c, o) in row.iter_mut().enumerate() {
                *o = vals[c][lane];
            }
        }
    }
}

/// One term of the sums: `acc[r][c] += a_col[r-th vector] * b_row[c]`.
#[inline(always)]
fn column_step<S: Simd, T: Lanes, const R: usize, const C: usize>(
    s: S,
    acc: &mut [[T::V<S>; C]; 2],
    a_col: &[T],
    b_row: &[T; C],
) {
    let l = T::lanes::<S>();
    let zero = T::splat(s, T::ZERO);
    let av: [T::V<S>; 2] = std::array::from_fn(|r| {
        if R == 0 {
            T::load_partial(s, a_col)
        } else if r < R {
            T::load::<S>(&a_col[r * l..(r + 1) * l])
        } else {
            zero
        }
    });
    for c in 0..C {
        let bv = T::splat(s, b_row[c]);
        for r in 0..R.max(1) {
            acc[r][c] = T::mul_add(s, av[r], bv, acc[r][c]);
        }
    }
}

/// The rows form: `out[i, j] = Σ lanes(Σ_q a[i, q..] * bt[j, q..])`, vectors
/// along `a`'s rows and `bt`'s (the right operand's columns), a block of `R`
/// rows by `C` columns at a time.
struct Rows<'a, T> {
    out: &'a mut [T],
    a: Operand<'a, T>,
    bt: Operand<'a, T>,
    g: Sizes,
}

impl<T: Lanes> WithSimd for Rows<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) {
        let Rows { out, a, bt, g } = self;
        if many_registers::<S>() {
            let c = block_cols(g.n, 5);
            with_block_cols!(c, rows::<S, T>(s, out, a, bt, g))
        } else {
            let c = block_cols(g.n, 4);
            with_block_cols!(c, rows::<S, T>(s, out, a, bt, g))
        }
    }
}

#[inline(always)]
fn rows<S: Simd, T: Lanes, const C: usize>(
    s: S,
    out: &mut [T],
    a: Operand<'_, T>,
    bt: Operand<'_, T>,
    g: Sizes,
) {
    let mut i0 = 0;
    while i0 + 4 <= g.m && many_registers::<S>() {
        row_blocks::<S, T, 4, C>(s, out, a, bt, g, i0);
        i0 += 4;
    }
    while i0 + 2 <= g.m {
        row_blocks::<S, T, 2, C>(s, out, a, bt, g, i0);
        i0 += 2;
    }
    if i0 < g.m {
        row_blocks::<S, T, 1, C>(s, out, a, bt, g, i0);
    }
}

#[inline(always)]
fn row_blocks<S: Simd, T: Lanes, const R: usize, const C: usize>(
    s: S,
    out: &mut [T],
    a: Operand<'_, T>,
    bt: Operand<'_, T>,
    g: Sizes,
    i0: usize,
) {
    for j0 in (0..g.n).step_by(C) {
        let cols = C.min(g.n - j0);
        row_block::<S, T, R, C>(s, out, a, bt, g, i0, j0, cols);
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn row_block<S: Simd, T: Lanes, const R: usize, const C: usize>(
    s: S,
    out: &mut [T],
    a: Operand<'_, T>,
    bt: Operand<'_, T>,
    g: Sizes,
    i0: usize,
    j0: usize,
    cols: usize,
) {
    let l = T::lanes::<S>();
    let k = g.k;
    let a_rows: [&[T]; R] = std::array::from_fn(|r| &a.data[(i0 + r) * a.rs..][..k]);
    // Columns past the output's last repeat the last one (dropped at the store).
    let b_rows: [&[T]; C] =
        std::array::from_fn(|c| &bt.data[(j0 + c.min(cols - 1)) * bt.rs..][..k]);
    let zero = T::splat(s, T::ZERO);
    let mut acc = [[zero; C]; R];
    let whole = k / l * l;
    let mut q = 0;
    while q < whole {
        let av: [T::V<S>; R] = std::array::from_fn(|r| T::load::<S>(&a_rows[r][q..q + l]));
        let bv: [T::V<S>; C] = std::array::from_fn(|c| T::load::<S>(&b_rows[c][q..q + l]));
        for r in 0..R {
            for c in 0..C {
                acc[r][c] = T::mul_add(s, av[r], bv[c], acc[r][c]);
            }
        }
        q += l;
    }
    if whole < k {
        let av: [T::V<S>; R] = std::array::from_fn(|r| T::load_partial(s, &a_rows[r][whole..]));
        let bv: [T::V<S>; C] = std::array::from_fn(|c| T::load_partial(s, &b_rows[c][whole..]));
        for r in 0..R {
            for c in 0..C {
                acc[r][c] = T::mul_add(s, av[r], bv[c], acc[r][c]);
            }
        }
    }
    for (r, acc_r) in acc.iter().enumerate() {
        let row = &mut out[(i0 + r) * g.out_rs + j0..];
        for (o, v) in row.iter_mut().zip(acc_r).take(cols) {
            *o = T::sum(s, *v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small integers times halves: every product and partial sum is exact
    /// in both dtypes, so any order of summation gives the reference's bits.
    fn value(i: usize) -> f64 {
        ((i * 7 + 3) % 11) as f64 * 0.5 - 2.5
    }

    /// Every form, block shape and tail: `m` across the vector and block
    /// widths, every `n` the module takes (also those [`form`] leaves to gemm
    /// for speed), `k` with and without a partial vector, each operand row- or
    /// column-major, inside a larger buffer at an offset.
    fn check<T: Lanes>() {
        for m in [1, 2, 3, 5, 8, 15, 16, 17, 31, 33, 64, 70] {
            for n in 2..=MAX_COLS {
                for k in [2, 3, 9, 16, 17, 40] {
                    for (a_cols, b_cols) in
                        [(false, false), (true, false), (false, true), (true, true)]
                    {
                        let (pad_a, pad_b) = (5, 3);
                        let a: Vec<T> = (0..m * k + pad_a).map(|i| T::from_f64(value(i))).collect();
                        let b: Vec<T> = (0..k * n + pad_b)
                            .map(|i| T::from_f64(value(i * 3)))
                            .collect();
                        let (a_rs, a_cs) = if a_cols { (1, m) } else { (k, 1) };
                        let (b_rs, b_cs) = if b_cols { (1, k) } else { (n, 1) };
                        let out_rs = n + 2;
                        let mut out = vec![T::from_f64(99.0); m * out_rs];
                        run(
                            &mut out,
                            Operand {
                                data: &a[pad_a..],
                                rs: a_rs,
                                cs: a_cs,
                            },
                            Operand {
                                data: &b[pad_b..],
                                rs: b_rs,
                                cs: b_cs,
                            },
                            Sizes { m, n, k, out_rs },
                            if a_cols { Form::Columns } else { Form::Rows },
                        );
                        for i in 0..m {
                            for j in 0..out_rs {
                                let want = if j < n {
                                    (0..k)
                                        .map(|p| {
                                            a[pad_a + i * a_rs + p * a_cs].to_f64()
                                                * b[pad_b + p * b_rs + j * b_cs].to_f64()
                                        })
                                        .sum::<f64>()
                                } else {
                                    99.0 // outside the output: untouched
                                };
                                assert_eq!(
                                    out[i * out_rs + j].to_f64(),
                                    want,
                                    "{m}x{k}x{n} a_cols={a_cols} b_cols={b_cols} at ({i}, {j})"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn matches_the_reference_in_every_form_and_tail() {
        check::<f32>();
        check::<f64>();
    }

    #[test]
    fn takes_the_products_it_computes_faster_than_gemm() {
        let columns = (1, 64);
        let rows = (64, 1);
        assert_eq!(form(128, 10, 256, columns, 10), Some(Form::Columns));
        assert_eq!(form(128, 10, 4, columns, 10), Some(Form::Columns));
        assert_eq!(form(128, 10, 256, rows, 10), Some(Form::Rows));
        assert_eq!(form(128, 6, 4, rows, 6), Some(Form::Rows));
        // a single contiguous row goes whole to the rows form
        assert_eq!(form(1, 3, 64, (1, 1), 3), Some(Form::Rows));
        // to gemm: 8 and 11+ columns, short sums in the rows form beyond 6
        // columns, one column, k = 1, neither stride of `a` 1, `b` broadcast along k
        for (m, n, k, a, b_rs) in [
            (128, 8, 256, columns, 8),
            (128, 11, 256, columns, 11),
            (128, 16, 256, rows, 16),
            (128, 10, 64, rows, 10),
            (128, 1, 256, columns, 1),
            (128, 4, 1, columns, 4),
            (128, 4, 256, (2, 256), 4),
            (128, 4, 256, columns, 0),
            (0, 4, 256, columns, 4),
        ] {
            assert_eq!(form(m, n, k, a, b_rs), None, "{m}x{k}x{n} {a:?}");
        }
    }

    #[test]
    fn leaves_integers_and_declined_products_untouched() {
        let ints = [1i64; 16];
        let mut out = [7i64; 16];
        let op = Operand {
            data: &ints[..],
            rs: 4,
            cs: 1,
        };
        assert!(!product(&mut out, 4, op, op, (4, 4, 4)));
        let floats = [1.0f64; 64];
        let mut out = [7.0f64; 64];
        let op = |rs, cs| Operand {
            data: &floats[..],
            rs,
            cs,
        };
        assert!(!product(&mut out, 8, op(8, 1), op(8, 1), (8, 8, 8)));
        assert!(out.iter().all(|&x| x == 7.0) && ints.iter().all(|&x| x == 1));
        assert!(product(&mut out, 4, op(1, 8), op(4, 1), (8, 4, 8)));
        assert_eq!(out[..32], [8.0; 32]);
    }
}

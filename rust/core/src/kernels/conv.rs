//! N-d convolution (XLA's `ConvGeneralDilated`) on operands in canonical
//! order — `lhs: (batch, feature, spatial...)`, `rhs: (out feature, in
//! feature, spatial...)`, any strides — into a contiguous `(batch, out
//! feature, spatial...)` output: im2col then one GEMM per (example, group).
//!
//! The column matrix of one example and group has a row per (input channel,
//! kernel position) and a column per output position. It is laid out with
//! whichever of the two axes has the longer contiguous runs of the input:
//! output positions for a forward convolution (a run along an output row
//! copies a run of the input row), kernel positions when the window is larger
//! than the output (a weight gradient: the "kernel" is a whole image). GEMM
//! takes either through its strides.
//!
//! Examples (and groups) are spread over threads, each task with its own
//! column buffer allocated once; a single large product is split by GEMM.

use smallvec::SmallVec;

use crate::error::Result;
use crate::kernels::copy::contiguous;
use crate::kernels::matmul::product_into;
use crate::kernels::parallel::{for_each_chunk_mut, map_tasks, num_threads};
use crate::tensor::shape::checked_numel;
use crate::tensor::{Element, Shape, Tensor};
use crate::with_dtype;

/// The window parameters of a convolution, one entry per spatial dimension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvParams {
    pub strides: SmallVec<[usize; 3]>,
    /// `(low, high)` padding; negative values crop.
    pub padding: SmallVec<[(isize, isize); 3]>,
    pub lhs_dilation: SmallVec<[usize; 3]>,
    pub rhs_dilation: SmallVec<[usize; 3]>,
    pub feature_group_count: usize,
    pub batch_group_count: usize,
}

/// `1 + k (d - 1)` elements: `d` spread `k` apart (0 when `d == 0`).
pub fn dilate(d: usize, k: usize) -> usize {
    if d == 0 {
        0
    } else {
        1 + k * (d - 1)
    }
}

/// The extent of the padded, dilated input and the output length along one
/// spatial dimension (`None` when negative padding crops more than there is).
pub fn out_len(
    input: usize,
    window: usize,
    stride: usize,
    (lo, hi): (isize, isize),
    lhs_dil: usize,
    rhs_dil: usize,
) -> Option<usize> {
    let padded = dilate(input, lhs_dil) as isize + lo + hi;
    if padded < 0 {
        return None;
    }
    let w = dilate(window, rhs_dil) as isize;
    Some(if padded < w {
        0
    } else {
        ((padded - w) as usize) / stride + 1
    })
}

/// The canonical output shape `(batch / batch_group_count, out feature,
/// spatial...)`; the caller has checked the shapes agree.
pub fn out_shape(lhs: &[usize], rhs: &[usize], p: &ConvParams) -> Shape {
    let mut s: Shape = Shape::from_slice(&[lhs[0] / p.batch_group_count.max(1), rhs[0]]);
    for d in 0..lhs.len() - 2 {
        s.push(
            out_len(
                lhs[2 + d],
                rhs[2 + d],
                p.strides[d],
                p.padding[d],
                p.lhs_dilation[d],
                p.rhs_dilation[d],
            )
            .unwrap_or(0),
        );
    }
    s
}

/// Marks a position of the padded input that holds no input element.
const OUTSIDE: isize = isize::MIN;

/// One spatial dimension's geometry.
#[derive(Clone, Copy)]
struct Dim {
    input: usize,
    window: usize,
    out: usize,
    stride: isize,
    pad_lo: isize,
    lhs_dil: isize,
    rhs_dil: isize,
    /// The input's element stride along this dimension.
    x_stride: isize,
}

impl Dim {
    /// The input offset read at output position `o`, kernel position `k`
    /// (`OUTSIDE` in padding or between dilated elements).
    fn offset(&self, o: usize, k: usize) -> isize {
        let t = o as isize * self.stride + k as isize * self.rhs_dil - self.pad_lo;
        let extent = dilate(self.input, self.lhs_dil as usize) as isize;
        if t < 0 || t >= extent || t % self.lhs_dil != 0 {
            OUTSIDE
        } else {
            t / self.lhs_dil * self.x_stride
        }
    }

    /// `offset(o, k)` for every pair, `o` major.
    fn table(&self) -> Vec<isize> {
        let mut t = Vec::with_capacity(self.out * self.window);
        for o in 0..self.out {
            for k in 0..self.window {
                t.push(self.offset(o, k));
            }
        }
        t
    }
}

/// A run along the last spatial dimension, with the other index fixed:
/// `j` in `lo..hi` reads input offset `first + j * step`, the rest are zero
/// (when the input is dilated, `offsets` lists every position instead).
struct Run {
    lo: usize,
    hi: usize,
    first: isize,
    step: isize,
    offsets: Option<Vec<isize>>,
}

impl Run {
    /// The run over `len` positions whose padded-input coordinate is
    /// `t0 + j * q` (input stride `xs`).
    fn new(d: &Dim, t0: isize, q: isize, len: usize) -> Run {
        let extent = dilate(d.input, d.lhs_dil as usize) as isize;
        if d.lhs_dil != 1 {
            let offsets = (0..len as isize)
                .map(|j| {
                    let t = t0 + j * q;
                    if t < 0 || t >= extent || t % d.lhs_dil != 0 {
                        OUTSIDE
                    } else {
                        t / d.lhs_dil * d.x_stride
                    }
                })
                .collect();
            return Run {
                lo: 0,
                hi: 0,
                first: 0,
                step: 0,
                offsets: Some(offsets),
            };
        }
        // valid j: 0 <= t0 + j q <= extent - 1
        let lo = if t0 >= 0 { 0 } else { (-t0 + q - 1) / q };
        let hi = if t0 > extent - 1 {
            0
        } else {
            (extent - 1 - t0) / q + 1
        };
        let hi = (hi as usize).min(len);
        let lo = (lo as usize).min(hi);
        Run {
            lo,
            hi,
            first: t0 * d.x_stride,
            step: q * d.x_stride,
            offsets: None,
        }
    }

    /// Write the run starting at input offset `base` into `dst`.
    #[inline]
    fn copy<T: Element>(&self, dst: &mut [T], x: &[T], base: isize) {
        if let Some(offs) = &self.offsets {
            for (d, &o) in dst.iter_mut().zip(offs) {
                *d = if o == OUTSIDE {
                    T::ZERO
                } else {
                    x[(base + o) as usize]
                };
            }
            return;
        }
        dst[..self.lo].fill(T::ZERO);
        dst[self.hi..].fill(T::ZERO);
        let start = base + self.first + self.lo as isize * self.step;
        let n = self.hi - self.lo;
        if n == 0 {
            return;
        }
        if self.step == 1 {
            let s = start as usize;
            dst[self.lo..self.hi].copy_from_slice(&x[s..s + n]);
        } else {
            for (j, d) in dst[self.lo..self.hi].iter_mut().enumerate() {
                *d = x[(start + j as isize * self.step) as usize];
            }
        }
    }
}

/// Everything a task needs to build one column matrix and multiply.
struct Plan {
    dims: SmallVec<[Dim; 4]>,
    /// Per spatial dimension but the last: `offset(o, k)` tables.
    tables: Vec<Vec<isize>>,
    /// Runs along the last dimension: one per kernel position when the
    /// columns are output positions (`by_output`), one per output position
    /// otherwise.
    runs: Vec<Run>,
    /// Columns are output positions (row-major matrix, runs along outputs).
    by_output: bool,
    channels: usize,
    /// Kernel positions (`K`) and output positions (`P`).
    kernel: usize,
    positions: usize,
    x_batch: isize,
    x_chan: isize,
    x_off: isize,
}

impl Plan {
    /// Fill `col` (`channels * kernel` rows by `positions` columns) from
    /// example `b`, channels `c0 ..`.
    fn im2col<T: Element>(&self, col: &mut [T], x: &[T], b: usize, c0: usize) {
        let nd = self.dims.len();
        let last = self.dims[nd - 1];
        let (pre_k, pre_o) = (self.kernel / last.window, self.positions / last.out);
        let ck = self.channels * self.kernel;
        // mixed-radix counters over the leading spatial dims
        let mut ki: SmallVec<[usize; 4]> = SmallVec::from_elem(0, nd - 1);
        let mut oi: SmallVec<[usize; 4]> = SmallVec::from_elem(0, nd - 1);
        for c in 0..self.channels {
            let chan = self.x_off + b as isize * self.x_batch + (c0 + c) as isize * self.x_chan;
            ki.iter_mut().for_each(|v| *v = 0);
            for kp in 0..pre_k {
                oi.iter_mut().for_each(|v| *v = 0);
                for op in 0..pre_o {
                    // input offset of the leading dims, or OUTSIDE
                    let mut base = chan;
                    for d in 0..nd - 1 {
                        let off = self.tables[d][oi[d] * self.dims[d].window + ki[d]];
                        if off == OUTSIDE {
                            base = OUTSIDE;
                            break;
                        }
                        base += off;
                    }
                    let row0 = c * self.kernel + kp * last.window;
                    if self.by_output {
                        // rows (c, kp, kl), columns (op, ol): run over ol
                        for kl in 0..last.window {
                            let at = (row0 + kl) * self.positions + op * last.out;
                            let dst = &mut col[at..at + last.out];
                            if base == OUTSIDE {
                                dst.fill(T::ZERO);
                            } else {
                                self.runs[kl].copy(dst, x, base);
                            }
                        }
                    } else {
                        // column-major: element (row, p) at p * ck + row; run over kl
                        for ol in 0..last.out {
                            let at = (op * last.out + ol) * ck + row0;
                            let dst = &mut col[at..at + last.window];
                            if base == OUTSIDE {
                                dst.fill(T::ZERO);
                            } else {
                                self.runs[ol].copy(dst, x, base);
                            }
                        }
                    }
                    bump(&mut oi, &self.dims[..nd - 1], |d| d.out);
                }
                bump(&mut ki, &self.dims[..nd - 1], |d| d.window);
            }
        }
    }
}

/// Advance a row-major counter over `dims` (sizes from `size`).
fn bump(idx: &mut [usize], dims: &[Dim], size: impl Fn(&Dim) -> usize) {
    for d in (0..idx.len()).rev() {
        idx[d] += 1;
        if idx[d] < size(&dims[d]) {
            return;
        }
        idx[d] = 0;
    }
}

/// Multiply-adds below which the whole convolution runs on one thread.
const PAR_WORK: usize = 1 << 20;

/// The convolution of `lhs: (B, C, spatial...)` with `rhs: (O, C / groups,
/// window...)` (canonical order, any strides, one dtype), as a contiguous
/// `(B / batch_group_count, O, out...)` tensor. The caller has checked the
/// shapes and parameters (`ops::conv`).
pub fn conv(lhs: &Tensor, rhs: &Tensor, p: &ConvParams) -> Result<Tensor> {
    let shape = out_shape(lhs.shape(), rhs.shape(), p);
    checked_numel(&shape)?;
    let (b_all, _c) = (lhs.shape()[0], lhs.shape()[1]);
    let (o, ci) = (rhs.shape()[0], rhs.shape()[1]);
    let (fgc, bgc) = (p.feature_group_count, p.batch_group_count);
    let groups = fgc * bgc;
    let og = o / groups;
    let b_out = b_all / bgc;
    // spatial dims; a 0-d convolution gets one dim of length 1
    let nd = lhs.ndim() - 2;
    let mut dims: SmallVec<[Dim; 4]> = (0..nd)
        .map(|d| Dim {
            input: lhs.shape()[2 + d],
            window: rhs.shape()[2 + d],
            out: shape[2 + d],
            stride: p.strides[d] as isize,
            pad_lo: p.padding[d].0,
            lhs_dil: p.lhs_dilation[d] as isize,
            rhs_dil: p.rhs_dilation[d] as isize,
            x_stride: lhs.strides()[2 + d],
        })
        .collect();
    if nd == 0 {
        dims.push(Dim {
            input: 1,
            window: 1,
            out: 1,
            stride: 1,
            pad_lo: 0,
            lhs_dil: 1,
            rhs_dil: 1,
            x_stride: 0,
        });
    }
    let kernel: usize = dims.iter().map(|d| d.window).product();
    let positions: usize = dims.iter().map(|d| d.out).product();
    let last = *dims.last().expect("at least one dim");
    let by_output = last.out >= last.window;
    let runs = if by_output {
        (0..last.window)
            .map(|k| {
                Run::new(
                    &last,
                    k as isize * last.rhs_dil - last.pad_lo,
                    last.stride,
                    last.out,
                )
            })
            .collect()
    } else {
        (0..last.out)
            .map(|ol| {
                Run::new(
                    &last,
                    ol as isize * last.stride - last.pad_lo,
                    last.rhs_dil,
                    last.window,
                )
            })
            .collect()
    };
    // A window larger than the output (the weight gradient's shape) with one
    // group: accumulate over input features instead (see `by_features`).
    let per_feature = !by_output && groups == 1 && kernel > 0 && ci > 1;
    let plan = Plan {
        tables: dims[..dims.len() - 1].iter().map(Dim::table).collect(),
        dims,
        runs,
        by_output,
        channels: if per_feature { 1 } else { ci },
        kernel,
        positions,
        x_batch: lhs.strides()[0],
        x_chan: lhs.strides()[1],
        x_off: lhs.offset() as isize,
    };
    if per_feature {
        return by_features(lhs, rhs, &plan, &shape);
    }
    let w = contiguous(rhs)?; // (O, ci * K) row-major
    let ck = ci * kernel;
    let block = og * positions;
    let tasks = b_out * groups;
    let work = tasks * block * ck;
    with_dtype!(lhs.dtype(), T => {
        let x = lhs.storage_slice::<T>()?;
        let wd = w.contiguous_slice::<T>()?;
        let out = Tensor::build_overwrite::<T>(&shape, |out| {
            if block == 0 {
                return;
            }
            let threads = num_threads();
            // tasks run in chunks sharing one column buffer
            let task = |first: usize, chunk: &mut [T], gemm_threads: usize| {
                let mut col = vec![T::ZERO; ck * positions];
                for (i, dst) in chunk.chunks_mut(block).enumerate() {
                    if crate::interrupt::poll() {
                        return;
                    }
                    let t = first + i;
                    let (b, g) = (t / groups, t % groups);
                    let (bl, c0) = if bgc > 1 { (g * b_out + b, 0) } else { (b, g * ci) };
                    if ck > 0 {
                        plan.im2col(&mut col, x, bl, c0);
                    }
                    let (b_rs, b_cs) = if by_output {
                        (positions as isize, 1)
                    } else {
                        (1, ck as isize)
                    };
                    product_into(
                        dst,
                        positions,
                        (wd, g * og * ck, ck as isize, 1),
                        (&col, 0, b_rs, b_cs),
                        og,
                        positions,
                        ck,
                        gemm_threads,
                    );
                }
            };
            if threads > 1 && work >= PAR_WORK && tasks >= threads {
                let per = tasks.div_ceil(2 * threads);
                for_each_chunk_mut(out, per * block, |i, chunk| task(i * per, chunk, 1));
            } else {
                task(0, out, if work >= PAR_WORK { threads } else { 1 });
            }
        })?;
        if crate::interrupt::poll() {
            return Err(crate::Error::Interrupted);
        }
        Ok(out)
    })
}

/// Whether the spatial axes of `t` (from axis 2) are one run of stride
/// `strides[last]` when flattened.
fn spatial_flat(t: &Tensor) -> bool {
    let (sh, st) = (t.shape(), t.strides());
    let mut expected = st[sh.len() - 1];
    for d in (2..sh.len()).rev() {
        if sh[d] != 1 && st[d] != expected {
            return false;
        }
        expected = st[d] * sh[d] as isize;
    }
    true
}

/// The convolution as a sum over input features `i` of one GEMM each,
/// `out[(b, q), o] += col_i[(b, q), k] rhs[o, i, k]`, for a window larger
/// than the output and one group: the shape of a weight gradient, where
/// `rhs` is an output cotangent (large, used in place as the GEMM's right
/// operand) and the output is a small kernel. Features are split over
/// threads, each with its own accumulator, summed at the end.
fn by_features(lhs: &Tensor, rhs: &Tensor, plan: &Plan, shape: &[usize]) -> Result<Tensor> {
    let rhs = if spatial_flat(rhs) {
        rhs.clone()
    } else {
        contiguous(rhs)?
    };
    let (b_out, o) = (shape[0], shape[1]);
    let features = rhs.shape()[1];
    let (q, k) = (plan.positions, plan.kernel);
    let rows = b_out * q;
    if rows * o == 0 {
        return Tensor::zeros(lhs.dtype(), shape);
    }
    let rs = rhs.strides();
    let (w_o, w_i, w_k) = (
        rs[0],
        rs[1],
        if rhs.ndim() > 2 {
            rs[rhs.ndim() - 1]
        } else {
            1
        },
    );
    let work = rows * o * k * features;
    let chunks = if work >= PAR_WORK {
        num_threads().min(features)
    } else {
        1
    };
    let per = features.div_ceil(chunks);
    with_dtype!(lhs.dtype(), T => {
        let x = lhs.storage_slice::<T>()?;
        let wd = rhs.storage_slice::<T>()?;
        let partials = map_tasks(features.div_ceil(per), |t| {
            let mut acc = vec![T::ZERO; rows * o];
            let mut tmp = vec![T::ZERO; rows * o];
            let mut col = vec![T::ZERO; rows * k];
            for i in t * per..((t + 1) * per).min(features) {
                if crate::interrupt::poll() {
                    break;
                }
                for (b, c) in col.chunks_mut(q * k).enumerate() {
                    plan.im2col(c, x, b, i);
                }
                let ob = (rhs.offset() as isize + i as isize * w_i) as usize;
                product_into(
                    &mut tmp,
                    o,
                    (&col, 0, k as isize, 1),
                    (wd, ob, w_k, w_o),
                    rows,
                    o,
                    k,
                    1,
                );
                for (a, v) in acc.iter_mut().zip(&tmp) {
                    *a = add(*a, *v);
                }
            }
            acc
        })?;
        if crate::interrupt::poll() {
            return Err(crate::Error::Interrupted);
        }
        Tensor::build_overwrite::<T>(shape, |out| {
            // out[b, o, q] = sum over chunks of acc[(b q), o]
            for b in 0..b_out {
                for oo in 0..o {
                    for qq in 0..q {
                        let r = (b * q + qq) * o + oo;
                        out[(b * o + oo) * q + qq] =
                            partials.iter().fold(T::ZERO, |s, p| add(s, p[r]));
                    }
                }
            }
        })
    })
}

/// `a + b` for any element type (integers wrap, as the GEMM's loop does).
#[inline]
fn add<T: Element>(a: T, b: T) -> T {
    match T::DTYPE {
        crate::tensor::DType::F32 | crate::tensor::DType::F64 => {
            T::from_f64(a.to_f64() + b.to_f64())
        }
        _ => T::from_i64(a.to_i64().wrapping_add(b.to_i64())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, one output element at a time.
    #[allow(clippy::too_many_arguments)]
    fn reference(
        x: &[f64],
        xs: &[usize],
        w: &[f64],
        ws: &[usize],
        p: &ConvParams,
    ) -> (Vec<f64>, Shape) {
        let shape = out_shape(xs, ws, p);
        let nd = xs.len() - 2;
        let n: usize = shape.iter().product();
        let groups = p.feature_group_count * p.batch_group_count;
        let og = ws[0] / groups;
        let mut out = vec![0.0; n];
        let mut idx = vec![0usize; shape.len()];
        for v in out.iter_mut() {
            let (b, o) = (idx[0], idx[1]);
            let g = o / og;
            let (bl, c0) = if p.batch_group_count > 1 {
                (g * shape[0] + b, 0)
            } else {
                (b, g * ws[1])
            };
            let kn: usize = ws[2..].iter().product();
            for c in 0..ws[1] {
                'k: for kf in 0..kn {
                    let mut rem = kf;
                    let mut xi = bl * xs[1] + c0 + c;
                    let mut wi = o * ws[1] + c;
                    let mut kidx = vec![0; nd];
                    for d in (0..nd).rev() {
                        kidx[d] = rem % ws[2 + d];
                        rem /= ws[2 + d];
                    }
                    for d in 0..nd {
                        let t = idx[2 + d] as isize * p.strides[d] as isize
                            + kidx[d] as isize * p.rhs_dilation[d] as isize
                            - p.padding[d].0;
                        let l = p.lhs_dilation[d] as isize;
                        if t < 0 || t % l != 0 || t / l >= xs[2 + d] as isize {
                            continue 'k;
                        }
                        xi = xi * xs[2 + d] + (t / l) as usize;
                        wi = wi * ws[2 + d] + kidx[d];
                    }
                    *v += x[xi] * w[wi];
                }
            }
            for d in (0..shape.len()).rev() {
                idx[d] += 1;
                if idx[d] < shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        (out, shape)
    }

    fn params(nd: usize, s: usize, pad: (isize, isize), ld: usize, rd: usize) -> ConvParams {
        ConvParams {
            strides: SmallVec::from_elem(s, nd),
            padding: SmallVec::from_elem(pad, nd),
            lhs_dilation: SmallVec::from_elem(ld, nd),
            rhs_dilation: SmallVec::from_elem(rd, nd),
            feature_group_count: 1,
            batch_group_count: 1,
        }
    }

    fn check(xs: &[usize], ws: &[usize], p: &ConvParams) {
        let nx: usize = xs.iter().product();
        let nw: usize = ws.iter().product();
        let x: Vec<f64> = (0..nx).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
        let w: Vec<f64> = (0..nw).map(|i| ((i * 3) % 5) as f64 * 0.5 - 1.0).collect();
        let (want, shape) = reference(&x, xs, &w, ws, p);
        let got = conv(
            &Tensor::from_slice(&x, xs).unwrap(),
            &Tensor::from_slice(&w, ws).unwrap(),
            p,
        )
        .unwrap();
        assert_eq!(got.shape(), shape.as_slice());
        let got = got.to_vec::<f64>().unwrap();
        for (a, b) in got.iter().zip(&want) {
            assert!(
                (a - b).abs() < 1e-9,
                "{xs:?} {ws:?} {p:?}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn conv_matches_the_definition() {
        for (s, pad, ld, rd) in [
            (1, (0, 0), 1, 1),
            (2, (1, 2), 1, 1),
            (1, (-1, 2), 1, 2),
            (3, (2, 0), 2, 1),
            (2, (1, 1), 3, 2),
        ] {
            check(&[2, 3, 9], &[4, 3, 3], &params(1, s, pad, ld, rd));
            check(&[2, 3, 7, 6], &[4, 3, 2, 3], &params(2, s, pad, ld, rd));
            check(
                &[1, 2, 4, 5, 3],
                &[3, 2, 2, 3, 1],
                &params(3, s, pad, ld, rd),
            );
            // window wider than the output: the column-major layout
            check(&[3, 2, 9], &[2, 2, 8], &params(1, s, pad, ld, rd));
        }
        let mut g = params(2, 1, (1, 1), 1, 1);
        g.feature_group_count = 2;
        check(&[2, 4, 5, 5], &[6, 2, 3, 3], &g);
        let mut bg = params(2, 1, (0, 1), 1, 1);
        bg.batch_group_count = 3;
        check(&[6, 2, 4, 4], &[6, 2, 2, 2], &bg);
        // 0-d: a matrix product
        check(&[3, 4], &[5, 4], &params(0, 1, (0, 0), 1, 1));
    }

    #[test]
    fn large_enough_to_run_in_parallel() {
        check(&[16, 4, 20, 20], &[8, 4, 3, 3], &params(2, 1, (1, 1), 1, 1));
        // a weight gradient's shape: summed over features on threads
        check(
            &[8, 8, 24, 24],
            &[6, 8, 22, 22],
            &params(2, 1, (1, 0), 1, 1),
        );
        // with a kernel whose spatial axes are not one run (copied first)
        let w: Vec<f64> = (0..6 * 8 * 22 * 22)
            .map(|i| (i % 13) as f64 - 6.0)
            .collect();
        let wt = Tensor::from_slice(&w, &[6, 8, 22, 22])
            .unwrap()
            .permute_view(&[0, 1, 3, 2]);
        let x: Vec<f64> = (0..8 * 8 * 24 * 24).map(|i| (i % 7) as f64).collect();
        let xt = Tensor::from_slice(&x, &[8, 8, 24, 24]).unwrap();
        let p = params(2, 1, (0, 0), 1, 1);
        let got = conv(&xt, &wt, &p).unwrap();
        let want = conv(&xt, &contiguous(&wt).unwrap(), &p).unwrap();
        assert_eq!(got.to_vec::<f64>().unwrap(), want.to_vec::<f64>().unwrap());
    }
}

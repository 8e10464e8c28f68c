//! `jax.lax`'s general convolution as one primitive, [`Conv`]: N spatial
//! dimensions, window strides, explicit (possibly negative) padding, input
//! and kernel dilation, feature and batch groups, and any layout of the
//! operands (dimension numbers). Its rules are JAX's: linear in each operand
//! (JVP), transposed through convolutions of the same primitive (VJP), and
//! batched by folding the mapped axis into the batch or feature dimensions.
//! `conv_transpose` and the padding strings are composed on top. The kernel
//! (im2col and GEMM) is `kernels/conv.rs`.

use smallvec::SmallVec;

use crate::error::Result;
use crate::kernels::conv::{conv as conv_kernel, dilate, out_len, ConvParams};
use crate::ops::composite::{flip, moveaxis};
use crate::ops::shape::{convert, reshape, transpose};
use crate::ops::{add_opt, zeros, Cotangents, Family, Prim};
use crate::tensor::shape::fmt_shape;
use crate::tensor::{DType, Shape, Tensor};
use crate::trace::{bind, Deps, Value};
use crate::{type_err, value_err};

type Spec = SmallVec<[usize; 5]>;

/// Where each operand keeps its dimensions: `lhs = (batch, feature,
/// spatial...)`, `rhs = (out feature, in feature, spatial...)`, `out =
/// (batch, feature, spatial...)`, each the axis numbers of that operand
/// (JAX's `ConvDimensionNumbers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimNumbers {
    pub lhs: Spec,
    pub rhs: Spec,
    pub out: Spec,
}

/// How the caller gave the dimension numbers.
#[derive(Clone, Debug)]
pub enum DimSpec {
    /// `(0, 1, 2, ...)` for all three (`NCHW`, `OIHW`, `NCHW` in 2-d).
    Default,
    /// Strings such as `("NHWC", "HWIO", "NHWC")`.
    Strings([String; 3]),
    /// Axis numbers (a `ConvDimensionNumbers`).
    Numbers(DimNumbers),
}

/// The padding argument: a string, or one `(low, high)` pair per spatial
/// dimension.
#[derive(Clone, Debug)]
pub enum Padding {
    Named(String),
    Explicit(Vec<(isize, isize)>),
}

/// The convolution primitive: `lhs`, `rhs` in the layout `dn` names.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    pub params: ConvParams,
    pub dn: DimNumbers,
}

/// The positions of `spec`'s letters: `(a, b, spatial in the order of
/// `order`'s spatial letters)`.
fn permutation(spec: &str, pair: (char, char), order: &str) -> Spec {
    let chars: Vec<char> = spec.chars().collect();
    let pos = |c: char| chars.iter().position(|&x| x == c).expect("checked");
    let mut p: Spec = SmallVec::from_slice(&[pos(pair.0), pos(pair.1)]);
    let rhs: Vec<char> = order.chars().filter(|&c| c != 'O' && c != 'I').collect();
    for c in rhs {
        p.push(pos(c));
    }
    p
}

/// `dimension_numbers` in canonical form for operands of ranks `lhs_ndim`
/// and `rhs_ndim` (JAX's `conv_dimension_numbers`).
pub fn conv_dimension_numbers(
    lhs_ndim: usize,
    rhs_ndim: usize,
    spec: &DimSpec,
) -> Result<DimNumbers> {
    let what = "conv_dimension_numbers";
    match spec {
        DimSpec::Numbers(dn) => {
            check_numbers(dn, lhs_ndim, rhs_ndim)?;
            Ok(dn.clone())
        }
        _ if lhs_ndim != rhs_ndim => type_err!(
            "{what}: convolution requires lhs and rhs ndim to be equal, got {lhs_ndim} and {rhs_ndim}"
        ),
        DimSpec::Default => {
            let iota: Spec = (0..lhs_ndim).collect();
            Ok(DimNumbers {
                lhs: iota.clone(),
                rhs: iota.clone(),
                out: iota,
            })
        }
        DimSpec::Strings(s) => {
            let pairs = [('N', 'C'), ('O', 'I'), ('N', 'C')];
            for (i, (spec, &(a, b))) in s.iter().zip(&pairs).enumerate() {
                let n = spec.chars().count();
                if n != lhs_ndim {
                    return type_err!(
                        "{what}: dimension_numbers[{i}] must have length equal to the ndim of lhs and rhs, got {n} ({spec:?}) for rank {lhs_ndim}"
                    );
                }
                if spec.matches(a).count() != 1 || spec.matches(b).count() != 1 {
                    return type_err!(
                        "{what}: dimension_numbers[{i}] must contain the characters '{a}' and '{b}' exactly once, got {spec:?}"
                    );
                }
                let mut seen: Vec<char> = spec.chars().collect();
                seen.sort_unstable();
                seen.dedup();
                if seen.len() != n {
                    return type_err!(
                        "{what}: dimension_numbers[{i}] cannot have duplicate characters, got {spec:?}"
                    );
                }
            }
            let spatial = |spec: &str, pair: (char, char)| {
                let mut v: Vec<char> = spec.chars().filter(|&c| c != pair.0 && c != pair.1).collect();
                v.sort_unstable();
                v
            };
            let (l, r, o) = (
                spatial(&s[0], pairs[0]),
                spatial(&s[1], pairs[1]),
                spatial(&s[2], pairs[2]),
            );
            if l != r || r != o {
                return type_err!(
                    "{what}: dimension_numbers elements must each have the same set of spatial characters, got ({:?}, {:?}, {:?})",
                    s[0],
                    s[1],
                    s[2]
                );
            }
            Ok(DimNumbers {
                lhs: permutation(&s[0], pairs[0], &s[1]),
                rhs: permutation(&s[1], pairs[1], &s[1]),
                out: permutation(&s[2], pairs[2], &s[1]),
            })
        }
    }
}

/// Each of the three specs is a permutation of the operand's axes.
fn check_numbers(dn: &DimNumbers, lhs_ndim: usize, rhs_ndim: usize) -> Result<()> {
    for (name, spec, nd) in [
        ("lhs_spec", &dn.lhs, lhs_ndim),
        ("rhs_spec", &dn.rhs, rhs_ndim),
        ("out_spec", &dn.out, lhs_ndim),
    ] {
        let mut sorted = spec.clone();
        sorted.sort_unstable();
        if spec.len() != nd || sorted.iter().enumerate().any(|(i, &a)| a != i) {
            return type_err!(
                "conv_general_dilated: dimension numbers' {name} {spec:?} is not a permutation of the {nd} axes of its operand"
            );
        }
    }
    Ok(())
}

/// The `(low, high)` padding a padding string gives (`"SAME"`, `"SAME_LOWER"`,
/// `"VALID"`, any case) for inputs of `input` spatial lengths, windows of
/// `window` (dilated) lengths and `strides`.
pub fn padtype_to_pads(
    input: &[usize],
    window: &[usize],
    strides: &[usize],
    padding: &str,
) -> Result<Vec<(isize, isize)>> {
    let kind = padding.to_ascii_uppercase();
    match kind.as_str() {
        "VALID" => Ok(vec![(0, 0); input.len()]),
        "SAME" | "SAME_LOWER" => Ok(input
            .iter()
            .zip(window)
            .zip(strides)
            .map(|((&i, &w), &s)| {
                let out = i.div_ceil(s) as isize;
                let total = ((out - 1) * s as isize + w as isize - i as isize).max(0);
                let (small, big) = (total / 2, total - total / 2);
                if kind == "SAME" {
                    (small, big)
                } else {
                    (big, small)
                }
            })
            .collect()),
        _ => value_err!(
            "unrecognized padding type: expected 'VALID', 'SAME', or 'SAME_LOWER', got {padding:?}"
        ),
    }
}

fn take(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    axes.iter().map(|&a| shape[a]).collect()
}

/// Every check of a convolution's operands and parameters (one message per
/// check); the output shape in the layout `dn.out` names.
fn out_shape(lhs: &[usize], rhs: &[usize], c: &Conv) -> Result<Shape> {
    let what = "conv_general_dilated";
    let p = &c.params;
    if lhs.len() != rhs.len() {
        return value_err!(
            "{what}: lhs and rhs must have the same number of dimensions, got shapes {} and {}",
            fmt_shape(lhs),
            fmt_shape(rhs)
        );
    }
    if lhs.len() < 2 {
        return value_err!(
            "{what}: operands need a batch and a feature dimension (at least 2 dimensions), got shapes {} and {}",
            fmt_shape(lhs),
            fmt_shape(rhs)
        );
    }
    check_numbers(&c.dn, lhs.len(), rhs.len())?;
    let nd = lhs.len() - 2;
    for (name, n) in [
        ("window_strides", p.strides.len()),
        ("padding", p.padding.len()),
        ("lhs_dilation", p.lhs_dilation.len()),
        ("rhs_dilation", p.rhs_dilation.len()),
    ] {
        if n != nd {
            return value_err!(
                "{what}: {name} has {n} entries, the operands {nd} spatial dimensions"
            );
        }
    }
    for (name, v) in [
        ("window_strides", &p.strides),
        ("lhs_dilation", &p.lhs_dilation),
        ("rhs_dilation", &p.rhs_dilation),
    ] {
        if v.contains(&0) {
            return value_err!("{what}: {name} must be positive, got {v:?}");
        }
    }
    let (fgc, bgc) = (p.feature_group_count, p.batch_group_count);
    if fgc == 0 {
        return value_err!("{what}: feature_group_count must be a positive integer, got 0");
    }
    if bgc == 0 {
        return value_err!("{what}: batch_group_count must be a positive integer, got 0");
    }
    if fgc > 1 && bgc > 1 {
        return value_err!(
            "{what}: at most one of batch_group_count and feature_group_count may be > 1, got batch_group_count={bgc} and feature_group_count={fgc}"
        );
    }
    let (l, r) = (take(lhs, &c.dn.lhs), take(rhs, &c.dn.rhs));
    if l[1] % fgc != 0 {
        return value_err!(
            "{what}: feature_group_count must divide the lhs feature dimension size, but {fgc} does not divide {}",
            l[1]
        );
    }
    if l[1] / fgc != r[1] {
        return value_err!(
            "{what}: the lhs feature dimension size divided by feature_group_count must equal the rhs input feature dimension size, but {} // {fgc} != {} (shapes {} and {})",
            l[1],
            r[1],
            fmt_shape(lhs),
            fmt_shape(rhs)
        );
    }
    if r[0] % fgc != 0 {
        return value_err!(
            "{what}: the rhs output feature dimension size must be a multiple of feature_group_count, but {} is not a multiple of {fgc}",
            r[0]
        );
    }
    if l[0] % bgc != 0 {
        return value_err!(
            "{what}: batch_group_count must divide the lhs batch dimension size, but {bgc} does not divide {}",
            l[0]
        );
    }
    if r[0] % bgc != 0 {
        return value_err!(
            "{what}: the rhs output feature dimension size must be a multiple of batch_group_count, but {} is not a multiple of {bgc}",
            r[0]
        );
    }
    let mut canon: Shape = Shape::from_slice(&[l[0] / bgc, r[0]]);
    for d in 0..nd {
        match out_len(
            l[2 + d],
            r[2 + d],
            p.strides[d],
            p.padding[d],
            p.lhs_dilation[d],
            p.rhs_dilation[d],
        ) {
            Some(n) => canon.push(n),
            None => {
                return value_err!(
                    "{what}: negative padding {:?} is larger than the (dilated) input dimension {} it crops",
                    p.padding[d],
                    dilate(l[2 + d], p.lhs_dilation[d])
                )
            }
        }
    }
    let mut out: Shape = Shape::from_elem(0, lhs.len());
    for (i, &a) in c.dn.out.iter().enumerate() {
        out[a] = canon[i];
    }
    Ok(out)
}

/// Bind the primitive after checking its operands (the rules come here too).
fn conv_bind(lhs: &Value, rhs: &Value, c: &Conv) -> Result<Value> {
    out_shape(&lhs.shape(), &rhs.shape(), c)?;
    bind(&Prim::Conv(c.clone()), &[lhs.clone(), rhs.clone()])
}

/// JAX's `_reshape_axis_into`: move axis `src` next to axis `dst` (numbered
/// after `src` is removed) and merge them, `src` the major part.
fn axis_into(src: usize, dst: usize, x: &Value) -> Result<Value> {
    let shape = x.shape();
    let mut perm: Spec = (0..shape.len()).filter(|&i| i != src).collect();
    perm.insert(dst, src);
    let mut new: Shape = shape
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != src)
        .map(|(_, &d)| d)
        .collect();
    new[dst] *= shape[src];
    reshape(&transpose(x, &perm)?, &new)
}

/// JAX's `_reshape_axis_out_of`: split axis `src` into `(size, rest)`.
fn axis_out_of(src: usize, size: usize, x: &Value) -> Result<Value> {
    let shape = x.shape();
    let mut new: Shape = Shape::from_slice(&shape[..src]);
    new.push(size);
    new.push(shape[src] / size);
    new.extend_from_slice(&shape[src + 1..]);
    reshape(x, &new)
}

/// Swap the first two entries of a spec.
fn swapped(spec: &[usize]) -> Spec {
    let mut s: Spec = SmallVec::from_slice(spec);
    s.swap(0, 1);
    s
}

impl Conv {
    fn with(&self, f: impl FnOnce(&mut Conv)) -> Conv {
        let mut c = self.clone();
        f(&mut c);
        c
    }

    /// The cotangent of `lhs` (JAX's `_conv_general_dilated_transpose_lhs`).
    fn transpose_lhs(&self, ct: &Value, lhs_shape: &[usize], rhs: &Value) -> Result<Value> {
        let (dn, p) = (&self.dn, &self.params);
        let nd = p.strides.len();
        let (fgc, bgc) = (p.feature_group_count, p.batch_group_count);
        let rhs_shape = rhs.shape();
        let mut w = rhs.clone();
        let groups = fgc.max(bgc);
        if groups > 1 {
            w = axis_out_of(dn.rhs[0], groups, &w)?;
            w = axis_into(dn.rhs[0], dn.rhs[1], &w)?;
        }
        let (ls, ws, os) = (&dn.lhs[2..], &dn.rhs[2..], &dn.out[2..]);
        let ct_shape = ct.shape();
        let padding = (0..nd)
            .map(|d| {
                let lhs_d = dilate(lhs_shape[ls[d]], p.lhs_dilation[d]) as isize;
                let rhs_d = dilate(rhs_shape[ws[d]], p.rhs_dilation[d]) as isize;
                let out_d = dilate(ct_shape[os[d]], p.strides[d]) as isize;
                let before = rhs_d - p.padding[d].0 - 1;
                (before, lhs_d + rhs_d - 1 - out_d - before)
            })
            .collect();
        let axes: Vec<isize> = ws.iter().map(|&a| a as isize).collect();
        let revd = flip(&w, Some(&axes))?;
        let t = Conv {
            params: ConvParams {
                strides: p.lhs_dilation.clone(),
                padding,
                lhs_dilation: p.strides.clone(),
                rhs_dilation: p.rhs_dilation.clone(),
                feature_group_count: groups,
                batch_group_count: 1,
            },
            dn: DimNumbers {
                lhs: dn.out.clone(),
                rhs: swapped(&dn.rhs),
                out: dn.lhs.clone(),
            },
        };
        let mut out = conv_bind(ct, &revd, &t)?;
        if bgc > 1 {
            out = axis_out_of(dn.lhs[1], bgc, &out)?;
            out = axis_into(dn.lhs[1], dn.lhs[0], &out)?;
        }
        Ok(out)
    }

    /// The cotangent of `rhs` (JAX's `_conv_general_dilated_transpose_rhs`).
    fn transpose_rhs(&self, ct: &Value, lhs: &Value, rhs_shape: &[usize]) -> Result<Value> {
        if ct.size() == 0 {
            return zeros(rhs_shape, ct.dtype());
        }
        let (dn, p) = (&self.dn, &self.params);
        let nd = p.strides.len();
        let (fgc, bgc) = (p.feature_group_count, p.batch_group_count);
        let (fgc2, bgc2) = if bgc > 1 { (bgc, 1) } else { (1, fgc) };
        let lhs_shape = lhs.shape();
        let ct_shape = ct.shape();
        let (ls, ws, os) = (&dn.lhs[2..], &dn.rhs[2..], &dn.out[2..]);
        let padding = (0..nd)
            .map(|d| {
                let lhs_d = dilate(lhs_shape[ls[d]], p.lhs_dilation[d]) as isize;
                let rhs_d = dilate(rhs_shape[ws[d]], p.rhs_dilation[d]) as isize;
                let out_d = dilate(ct_shape[os[d]], p.strides[d]) as isize;
                let lo = p.padding[d].0;
                (lo, out_d - lhs_d + rhs_d - lo - 1)
            })
            .collect();
        let t = Conv {
            params: ConvParams {
                strides: p.rhs_dilation.clone(),
                padding,
                lhs_dilation: p.lhs_dilation.clone(),
                rhs_dilation: p.strides.clone(),
                feature_group_count: fgc2,
                batch_group_count: bgc2,
            },
            dn: DimNumbers {
                lhs: swapped(&dn.lhs),
                rhs: swapped(&dn.out),
                out: swapped(&dn.rhs),
            },
        };
        conv_bind(lhs, ct, &t)
    }

    /// The batching rule (JAX's `_conv_general_dilated_batch_rule`), batch
    /// axes in front; the result's batch axis is moved to the front too.
    fn batched(&self, v: &[Value], b: &[bool], size: usize) -> Result<Value> {
        let (dn, p) = (&self.dn, &self.params);
        let (fgc, bgc) = (p.feature_group_count, p.batch_group_count);
        let (out, at) = match (b[0], b[1]) {
            (true, true) => {
                let (lhs, c) = if bgc > 1 {
                    (
                        axis_into(0, dn.lhs[0], &v[0])?,
                        self.with(|c| c.params.batch_group_count *= size),
                    )
                } else {
                    (
                        axis_into(0, dn.lhs[1], &v[0])?,
                        self.with(|c| c.params.feature_group_count *= size),
                    )
                };
                let rhs = axis_into(0, dn.rhs[0], &v[1])?;
                let out = conv_bind(&lhs, &rhs, &c)?;
                (axis_out_of(dn.out[1], size, &out)?, dn.out[1])
            }
            (true, false) => {
                let lhs = if bgc == 1 {
                    axis_into(0, dn.lhs[0], &v[0])?
                } else {
                    let l = axis_out_of(dn.lhs[0] + 1, bgc, &v[0])?;
                    let l = axis_into(0, dn.lhs[0] + 1, &l)?;
                    axis_into(dn.lhs[0], dn.lhs[0], &l)?
                };
                let out = conv_bind(&lhs, &v[1], self)?;
                (axis_out_of(dn.out[0], size, &out)?, dn.out[0])
            }
            (false, true) => {
                if fgc == 1 && bgc == 1 {
                    let rhs = axis_into(0, dn.rhs[0], &v[1])?;
                    let out = conv_bind(&v[0], &rhs, self)?;
                    (axis_out_of(dn.out[1], size, &out)?, dn.out[1])
                } else {
                    let g = fgc.max(bgc);
                    let r = axis_out_of(dn.rhs[0] + 1, g, &v[1])?;
                    let r = axis_into(0, dn.rhs[0] + 1, &r)?;
                    let rhs = axis_into(dn.rhs[0], dn.rhs[0], &r)?;
                    let out = conv_bind(&v[0], &rhs, self)?;
                    let out = axis_out_of(dn.out[1], g, &out)?;
                    let out = axis_out_of(dn.out[1] + 1, size, &out)?;
                    (axis_into(dn.out[1], dn.out[1] + 1, &out)?, dn.out[1])
                }
            }
            (false, false) => return conv_bind(&v[0], &v[1], self),
        };
        moveaxis(&out, &[at as isize], &[0])
    }
}

impl Family for Conv {
    fn eval(&self, inputs: &[&Tensor]) -> Result<Tensor> {
        let lhs = inputs[0].permute_view(&self.dn.lhs);
        let rhs = inputs[1].permute_view(&self.dn.rhs);
        let out = conv_kernel(&lhs, &rhs, &self.params)?;
        Ok(out.permute_view(&crate::tensor::shape::inverse_permutation(&self.dn.out)))
    }
    fn jvp(&self, p: &[Value], t: &[Option<Value>], _out: &Value) -> Result<Option<Value>> {
        add_opt(
            t[0].as_ref()
                .map(|t| conv_bind(t, &p[1], self))
                .transpose()?,
            t[1].as_ref()
                .map(|t| conv_bind(&p[0], t, self))
                .transpose()?,
        )
    }
    fn vjp(&self, p: &[Value], _out: &Value, ct: &Value, needs: &[bool]) -> Result<Cotangents> {
        let gl = if needs[0] {
            Some(self.transpose_lhs(ct, &p[0].shape(), &p[1])?)
        } else {
            None
        };
        let gr = if needs[1] {
            Some(self.transpose_rhs(ct, &p[0], &p[1].shape())?)
        } else {
            None
        };
        Ok(smallvec::smallvec![gl, gr])
    }
    fn batch(&self, v: &[Value], b: &[bool], size: usize) -> Result<(Value, bool)> {
        Ok((self.batched(v, b, size)?, b.iter().any(|&x| x)))
    }
    fn sparsity(&self, p: &[Value], d: &[Option<&Deps>], out: &Value) -> Result<Option<Deps>> {
        conv_sparsity(self, p, d, out)
    }
    fn differentiable(&self) -> bool {
        true
    }
}

/// Output element `(b, o, y)` depends on the input elements its window
/// reads (padding and dilation holes excluded) and on the kernel entries of
/// its output feature that meet them: the receptive field, enumerated as
/// (output, input) pairs — as many as the convolution's multiply-adds.
fn conv_sparsity(c: &Conv, p: &[Value], d: &[Option<&Deps>], out: &Value) -> Result<Option<Deps>> {
    let (ls, rs, os) = (p[0].shape(), p[1].shape(), out.shape());
    let (l, r, o) = (
        take(&ls, &c.dn.lhs),
        take(&rs, &c.dn.rhs),
        take(&os, &c.dn.out),
    );
    let strides = |s: &[usize], spec: &[usize]| -> Vec<usize> {
        let full = crate::tensor::shape::contiguous_strides(s);
        spec.iter().map(|&a| full[a] as usize).collect()
    };
    let (lst, rst, ost) = (
        strides(&ls, &c.dn.lhs),
        strides(&rs, &c.dn.rhs),
        strides(&os, &c.dn.out),
    );
    let pr = &c.params;
    let nd = l.len() - 2;
    let bgc = pr.batch_group_count;
    let og = r[0] / (pr.feature_group_count * bgc);
    let kn: usize = r[2..].iter().product();
    let (mut out_map, mut lhs_map, mut rhs_map) = (Vec::new(), Vec::new(), Vec::new());
    let n_out: usize = o.iter().product();
    let mut idx = vec![0usize; o.len()];
    let mut kidx = vec![0usize; nd];
    for _ in 0..n_out {
        let (b, f) = (idx[0], idx[1]);
        let g = f / og;
        let (bl, c0) = if bgc > 1 {
            (g * o[0] + b, 0)
        } else {
            (b, g * r[1])
        };
        let of: usize = (0..o.len()).map(|i| idx[i] * ost[i]).sum();
        for ci in 0..r[1] {
            'k: for kf in 0..kn {
                let mut rem = kf;
                for dd in (0..nd).rev() {
                    kidx[dd] = rem % r[2 + dd];
                    rem /= r[2 + dd];
                }
                let mut lf = bl * lst[0] + (c0 + ci) * lst[1];
                let mut rf = f * rst[0] + ci * rst[1];
                for dd in 0..nd {
                    let t = idx[2 + dd] as isize * pr.strides[dd] as isize
                        + kidx[dd] as isize * pr.rhs_dilation[dd] as isize
                        - pr.padding[dd].0;
                    let ld = pr.lhs_dilation[dd] as isize;
                    if t < 0 || t % ld != 0 || t / ld >= l[2 + dd] as isize {
                        continue 'k;
                    }
                    lf += (t / ld) as usize * lst[2 + dd];
                    rf += kidx[dd] * rst[2 + dd];
                }
                out_map.push(of as i64);
                lhs_map.push(lf as i64);
                rhs_map.push(rf as i64);
            }
        }
        for i in (0..o.len()).rev() {
            idx[i] += 1;
            if idx[i] < o[i] {
                break;
            }
            idx[i] = 0;
        }
    }
    let mut parts = Vec::new();
    for (deps, map) in d.iter().zip([&lhs_map, &rhs_map]) {
        if let Some(deps) = deps {
            let per_pair = Deps::pick(map.len(), &[(*deps, map.as_slice())])?;
            parts.push(Deps::scatter(n_out, &per_pair, &out_map)?);
        }
    }
    let refs: Vec<&Deps> = parts.iter().collect();
    Ok(Some(Deps::union(&refs)?))
}

/// JAX's `lax.conv_general_dilated`: checks every argument, resolves padding
/// strings and dimension numbers, and binds the primitive.
#[allow(clippy::too_many_arguments)]
pub fn conv_general_dilated(
    lhs: &Value,
    rhs: &Value,
    window_strides: &[i64],
    padding: &Padding,
    lhs_dilation: Option<&[i64]>,
    rhs_dilation: Option<&[i64]>,
    dimension_numbers: &DimSpec,
    feature_group_count: i64,
    batch_group_count: i64,
    preferred_element_type: Option<DType>,
) -> Result<Value> {
    let what = "conv_general_dilated";
    let window_strides = &positive(what, "window_strides", window_strides)?;
    let lhs_dilation = lhs_dilation
        .map(|v| positive(what, "lhs_dilation", v))
        .transpose()?;
    let rhs_dilation = rhs_dilation
        .map(|v| positive(what, "rhs_dilation", v))
        .transpose()?;
    let (lhs_dilation, rhs_dilation) = (lhs_dilation.as_deref(), rhs_dilation.as_deref());
    let count = |name: &str, v: i64| -> Result<usize> {
        if v < 1 {
            return value_err!("{what}: {name} must be a positive integer, got {v}");
        }
        Ok(v as usize)
    };
    let feature_group_count = count("feature_group_count", feature_group_count)?;
    let batch_group_count = count("batch_group_count", batch_group_count)?;
    let (ls, rs) = (lhs.shape(), rhs.shape());
    if ls.len() != rs.len() {
        return value_err!(
            "{what}: lhs and rhs must have the same number of dimensions, got shapes {} and {}",
            fmt_shape(&ls),
            fmt_shape(&rs)
        );
    }
    if ls.len() < 2 {
        return value_err!(
            "{what}: operands need a batch and a feature dimension (at least 2 dimensions), got shapes {} and {}",
            fmt_shape(&ls),
            fmt_shape(&rs)
        );
    }
    let dn = conv_dimension_numbers(ls.len(), rs.len(), dimension_numbers)?;
    let nd = ls.len() - 2;
    let ones = vec![1usize; nd];
    let lhs_dilation = lhs_dilation.unwrap_or(&ones);
    let rhs_dilation = rhs_dilation.unwrap_or(&ones);
    if window_strides.len() != nd {
        return value_err!(
            "{what}: window_strides has {} entries, the operands {nd} spatial dimensions",
            window_strides.len()
        );
    }
    if rhs_dilation.len() != nd {
        return value_err!(
            "{what}: rhs_dilation has {} entries, the operands {nd} spatial dimensions",
            rhs_dilation.len()
        );
    }
    let padding = match padding {
        Padding::Explicit(p) => p.clone(),
        Padding::Named(s) => {
            if lhs_dilation.iter().any(|&d| d != 1) {
                return value_err!(
                    "{what}: string padding is not implemented for transposed convolution (lhs_dilation > 1); give the padding explicitly or use conv_transpose"
                );
            }
            let window: Vec<usize> = (0..nd)
                .map(|d| dilate(rs[dn.rhs[2 + d]], rhs_dilation[d]))
                .collect();
            let input = take(&ls, &dn.lhs[2..]);
            padtype_to_pads(&input, &window, window_strides, s)?
        }
    };
    let (lhs, rhs) = operands(lhs, rhs, preferred_element_type)?;
    let c = Conv {
        params: ConvParams {
            strides: SmallVec::from_slice(window_strides),
            padding: SmallVec::from_slice(&padding),
            lhs_dilation: SmallVec::from_slice(lhs_dilation),
            rhs_dilation: SmallVec::from_slice(rhs_dilation),
            feature_group_count,
            batch_group_count,
        },
        dn,
    };
    conv_bind(&lhs, &rhs, &c)
}

/// Strides or dilations: positive integers.
fn positive(what: &str, name: &str, v: &[i64]) -> Result<Vec<usize>> {
    if v.iter().any(|&x| x < 1) {
        return value_err!("{what}: {name} must be positive integers, got {v:?}");
    }
    Ok(v.iter().map(|&x| x as usize).collect())
}

/// Both operands in one numeric dtype: `preferred` if given, else their
/// promotion (booleans are refused).
fn operands(lhs: &Value, rhs: &Value, preferred: Option<DType>) -> Result<(Value, Value)> {
    if lhs.dtype() == DType::Bool || rhs.dtype() == DType::Bool {
        return type_err!(
            "conv_general_dilated: boolean operands are not supported (got {} and {})",
            lhs.dtype(),
            rhs.dtype()
        );
    }
    let dt = match preferred {
        Some(DType::Bool) => {
            return type_err!("conv_general_dilated: preferred_element_type cannot be bool")
        }
        Some(dt) => dt,
        None => DType::promote(lhs.dtype(), rhs.dtype()),
    };
    let cv = |x: &Value| {
        if x.dtype() == dt {
            Ok(x.clone())
        } else {
            convert(x, dt)
        }
    };
    Ok((cv(lhs)?, cv(rhs)?))
}

/// JAX's `_conv_transpose_padding` for one dimension: the padding of the
/// transposed convolution given the forward one's (`"SAME"`, `"VALID"`, or
/// a pair).
fn transpose_padding(
    k: usize,
    s: usize,
    padding: std::result::Result<&str, (isize, isize)>,
) -> Result<(isize, isize)> {
    let (k, s) = (k as isize, s as isize);
    let (pad_len, pad_a) = match padding {
        Ok("SAME") => {
            let len = k + s - 2;
            (len, if s > k - 1 { k - 1 } else { (len + 1) / 2 })
        }
        Ok("VALID") => (k + s - 2 + (k - s).max(0), k - 1),
        Ok(other) => {
            return value_err!("conv_transpose: invalid padding mode {other:?}: expected 'SAME', 'VALID' or (low, high) pairs")
        }
        Err((lo, hi)) => {
            let (a, b) = (k - lo - 1, k - hi - 1);
            (a + b, a)
        }
    };
    Ok((pad_a, pad_len - pad_a))
}

/// JAX's `lax.conv_transpose`: a fractionally strided convolution (the input
/// dilated by `strides`), with TensorFlow's default layouts; with
/// `transpose_kernel` the kernel's spatial axes are flipped and its feature
/// axes swapped (the gradient of `conv` with the same kernel).
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose(
    lhs: &Value,
    rhs: &Value,
    strides: &[i64],
    padding: &Padding,
    rhs_dilation: Option<&[i64]>,
    dimension_numbers: &DimSpec,
    transpose_kernel: bool,
    use_consistent_padding: bool,
    preferred_element_type: Option<DType>,
) -> Result<Value> {
    let what = "conv_transpose";
    let strides = &positive(what, "strides", strides)?;
    let rhs_dilation = rhs_dilation
        .map(|v| positive(what, "rhs_dilation", v))
        .transpose()?;
    let rhs_dilation = rhs_dilation.as_deref();
    let nd_all = lhs.ndim();
    if nd_all != rhs.ndim() || nd_all < 2 {
        return value_err!(
            "{what}: lhs and rhs must have the same number (at least 2) of dimensions, got shapes {} and {}",
            fmt_shape(&lhs.shape()),
            fmt_shape(&rhs.shape())
        );
    }
    let spec = match dimension_numbers {
        DimSpec::Default => {
            let s = |a: &str| a.to_string();
            match nd_all {
                2 => DimSpec::Strings([s("NC"), s("IO"), s("NC")]),
                3 => DimSpec::Strings([s("NHC"), s("HIO"), s("NHC")]),
                4 => DimSpec::Strings([s("NHWC"), s("HWIO"), s("NHWC")]),
                5 => DimSpec::Strings([s("NHWDC"), s("HWDIO"), s("NHWDC")]),
                _ => return value_err!("{what}: no default dimension numbers for {nd_all}-dimensional operands; give dimension_numbers"),
            }
        }
        other => other.clone(),
    };
    let dn = conv_dimension_numbers(nd_all, rhs.ndim(), &spec)?;
    let nd = nd_all - 2;
    if strides.len() != nd {
        return value_err!(
            "{what}: strides has {} entries, the operands {nd} spatial dimensions",
            strides.len()
        );
    }
    let ones = vec![1usize; nd];
    let rhs_dilation = rhs_dilation.unwrap_or(&ones);
    if rhs_dilation.len() != nd {
        return value_err!(
            "{what}: rhs_dilation has {} entries, the operands {nd} spatial dimensions",
            rhs_dilation.len()
        );
    }
    let rs = rhs.shape();
    let named = match padding {
        Padding::Named(s) => Some(s.to_ascii_uppercase()),
        Padding::Explicit(_) => None,
    };
    let pads = if use_consistent_padding || matches!(named.as_deref(), Some("SAME" | "VALID")) {
        if let Padding::Explicit(p) = padding {
            if p.len() != nd {
                return value_err!(
                    "{what}: padding has {} entries, the operands {nd} spatial dimensions",
                    p.len()
                );
            }
        }
        Padding::Explicit(
            (0..nd)
                .map(|d| {
                    let k = dilate(rs[dn.rhs[2 + d]], rhs_dilation[d]);
                    let p = match (&named, padding) {
                        (Some(n), _) => Ok(n.as_str()),
                        (None, Padding::Explicit(p)) => Err(p[d]),
                        (None, Padding::Named(_)) => unreachable!("named has the string"),
                    };
                    transpose_padding(k, strides[d], p)
                })
                .collect::<Result<_>>()?,
        )
    } else {
        padding.clone()
    };
    let rhs = if transpose_kernel {
        let axes: Vec<isize> = dn.rhs[2..].iter().map(|&a| a as isize).collect();
        let f = flip(rhs, Some(&axes))?;
        crate::ops::composite::swapaxes(&f, dn.rhs[0] as isize, dn.rhs[1] as isize)?
    } else {
        rhs.clone()
    };
    let as_i64 = |v: &[usize]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
    conv_general_dilated(
        lhs,
        &rhs,
        &as_i64(&ones),
        &pads,
        Some(&as_i64(strides)),
        Some(&as_i64(rhs_dilation)),
        &DimSpec::Numbers(dn),
        1,
        1,
        preferred_element_type,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv_of(dn: [&str; 3], nd: usize, fgc: usize, bgc: usize) -> Conv {
        let strings = DimSpec::Strings(dn.map(|s| s.to_string()));
        Conv {
            params: ConvParams {
                strides: SmallVec::from_elem(2, nd),
                padding: SmallVec::from_elem((1, -1), nd),
                lhs_dilation: SmallVec::from_elem(1, nd),
                rhs_dilation: SmallVec::from_elem(2, nd),
                feature_group_count: fgc,
                batch_group_count: bgc,
            },
            dn: conv_dimension_numbers(nd + 2, nd + 2, &strings).unwrap(),
        }
    }

    /// Which outputs a one-hot operand (the other all ones) reaches.
    fn reached(c: &Conv, shapes: [&[usize]; 2], which: usize, j: usize) -> Vec<bool> {
        let mk = |k: usize| {
            let n: usize = shapes[k].iter().product();
            let v: Vec<f64> = (0..n)
                .map(|i| if k != which || i == j { 1.0 } else { 0.0 })
                .collect();
            Tensor::from_slice(&v, shapes[k]).unwrap()
        };
        let out = Family::eval(c, &[&mk(0), &mk(1)]).unwrap();
        out.to_vec::<f64>()
            .unwrap()
            .iter()
            .map(|&v| v != 0.0)
            .collect()
    }

    #[test]
    fn sparsity_is_the_receptive_field() {
        let cases: [(Conv, &[usize], &[usize]); 3] = [
            (
                conv_of(["NHWC", "HWIO", "NCHW"], 2, 1, 1),
                &[2, 5, 4, 2],
                &[2, 2, 2, 3],
            ),
            (
                conv_of(["NCH", "OIH", "NCH"], 1, 2, 1),
                &[1, 4, 7],
                &[4, 2, 2],
            ),
            (
                conv_of(["NCH", "OIH", "NCH"], 1, 1, 2),
                &[4, 2, 6],
                &[4, 2, 2],
            ),
        ];
        for (c, ls, rs) in cases {
            let (nl, nr): (usize, usize) = (ls.iter().product(), rs.iter().product());
            let lhs = Value::Concrete(Tensor::full(1.0, DType::F64, ls).unwrap());
            let rhs = Value::Concrete(Tensor::full(1.0, DType::F64, rs).unwrap());
            let out = conv_bind(&lhs, &rhs, &c).unwrap();
            let (dl, dr) = (Deps::identity(nl, 0), Deps::identity(nr, nl));
            let deps = Family::sparsity(&c, &[lhs, rhs], &[Some(&dl), Some(&dr)], &out)
                .unwrap()
                .unwrap();
            let mut want: Vec<Vec<u32>> = vec![Vec::new(); out.size()];
            for (which, n, base) in [(0, nl, 0), (1, nr, nl)] {
                for j in 0..n {
                    for (i, hit) in reached(&c, [ls, rs], which, j).into_iter().enumerate() {
                        if hit {
                            want[i].push((base + j) as u32);
                        }
                    }
                }
            }
            for (i, w) in want.iter().enumerate() {
                assert_eq!(deps.row(i), w.as_slice(), "{c:?}, output {i}");
            }
        }
    }

    #[test]
    fn padding_strings_are_jax_s() {
        let p = padtype_to_pads(&[5, 6, 0], &[3, 4, 2], &[2, 3, 1], "same").unwrap();
        assert_eq!(p, vec![(1, 1), (0, 1), (0, 1)]);
        let p = padtype_to_pads(&[6], &[4], &[3], "SAME_LOWER").unwrap();
        assert_eq!(p, vec![(1, 0)]);
        assert!(padtype_to_pads(&[6], &[4], &[3], "FULL").is_err());
    }
}

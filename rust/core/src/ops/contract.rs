//! Contractions composed from `matmul`, `transpose`, `reshape` and sums:
//! `tensordot`, `dot`, `vdot`, `inner`, `outer`, `einsum`, and the
//! diagonals (`diagonal`, `trace`). Differentiable and batchable because
//! their parts are.

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::ops::binary::mul;
use crate::ops::composite::{moveaxis, take};
use crate::ops::linalg::matmul;
use crate::ops::reduce::{reduction, ReduceOp};
use crate::ops::shape::{broadcast_to, convert, reshape, transpose};
use crate::tensor::shape::{fmt_shape, normalize_axis};
use crate::tensor::{DType, Tensor};
use crate::trace::Value;
use crate::{shape_err, value_err};

/// Sum the products of `a` and `b` over `axes_a` of `a` paired with `axes_b`
/// of `b` (NumPy's `tensordot`): the free axes of `a`, then those of `b`.
pub fn tensordot(a: &Value, b: &Value, axes_a: &[isize], axes_b: &[isize]) -> Result<Value> {
    if axes_a.len() != axes_b.len() {
        return value_err!("tensordot: the two axes lists must have the same length");
    }
    let (sa, sb) = (a.shape(), b.shape());
    let ax_a: Vec<usize> = axes_a
        .iter()
        .map(|&d| normalize_axis(d, sa.len()))
        .collect::<Result<_>>()?;
    let ax_b: Vec<usize> = axes_b
        .iter()
        .map(|&d| normalize_axis(d, sb.len()))
        .collect::<Result<_>>()?;
    for (&i, &j) in ax_a.iter().zip(&ax_b) {
        if sa[i] != sb[j] {
            return shape_err!(
                "tensordot: shape mismatch for sum: shapes {} and {} (axis {i} has size {}, axis \
                 {j} has size {})",
                fmt_shape(&sa),
                fmt_shape(&sb),
                sa[i],
                sb[j]
            );
        }
    }
    let free_a: Vec<usize> = (0..sa.len()).filter(|d| !ax_a.contains(d)).collect();
    let free_b: Vec<usize> = (0..sb.len()).filter(|d| !ax_b.contains(d)).collect();
    let k: usize = ax_a.iter().map(|&d| sa[d]).product();
    let fa: Vec<usize> = free_a.iter().map(|&d| sa[d]).collect();
    let fb: Vec<usize> = free_b.iter().map(|&d| sb[d]).collect();
    let perm_a: Vec<usize> = free_a.iter().chain(&ax_a).copied().collect();
    let perm_b: Vec<usize> = ax_b.iter().chain(&free_b).copied().collect();
    let a2 = reshape(&transpose(a, &perm_a)?, &[fa.iter().product(), k])?;
    let b2 = reshape(&transpose(b, &perm_b)?, &[k, fb.iter().product()])?;
    let out: Vec<usize> = fa.iter().chain(&fb).copied().collect();
    reshape(&matmul(&a2, &b2)?, &out)
}

/// `tensordot(a, b, axes=n)`: the last `n` axes of `a` with the first `n` of `b`.
pub fn tensordot_n(a: &Value, b: &Value, n: i64) -> Result<Value> {
    let (ra, rb) = (a.ndim() as i64, b.ndim() as i64);
    if n < 0 || n > ra || n > rb {
        return value_err!(
            "tensordot: axes={n} does not fit arrays of rank {ra} and {rb} (0 <= axes <= rank)"
        );
    }
    let ax_a: Vec<isize> = (ra - n..ra).map(|d| d as isize).collect();
    let ax_b: Vec<isize> = (0..n).map(|d| d as isize).collect();
    tensordot(a, b, &ax_a, &ax_b)
}

/// NumPy's `dot`: a product with a scalar, the inner product of vectors, the
/// matrix product, and for N-d arrays a sum over the last axis of `a` and
/// the second-to-last of `b`.
pub fn dot(a: &Value, b: &Value) -> Result<Value> {
    let (ra, rb) = (a.ndim(), b.ndim());
    if ra == 0 || rb == 0 {
        return mul(a, b);
    }
    let bx = if rb == 1 { 0 } else { rb as isize - 2 };
    tensordot(a, b, &[ra as isize - 1], &[bx])
}

/// The dot product of the flattened arrays.
pub fn vdot(a: &Value, b: &Value) -> Result<Value> {
    if a.size() != b.size() {
        return shape_err!(
            "vdot: arrays of sizes {} and {} (shapes {} and {})",
            a.size(),
            b.size(),
            fmt_shape(&a.shape()),
            fmt_shape(&b.shape())
        );
    }
    let (fa, fb) = (reshape(a, &[a.size()])?, reshape(b, &[b.size()])?);
    reduction(ReduceOp::Sum, &mul(&fa, &fb)?, None, false)
}

/// Sum of products over the last axes.
pub fn inner(a: &Value, b: &Value) -> Result<Value> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return mul(a, b);
    }
    tensordot(a, b, &[-1], &[-1])
}

/// The outer product of the flattened arrays.
pub fn outer(a: &Value, b: &Value) -> Result<Value> {
    mul(&reshape(a, &[a.size(), 1])?, &reshape(b, &[1, b.size()])?)
}

/// The diagonal over `axis1`/`axis2` at `offset`, appended as the last axis
/// (NumPy's rule), taken as one gather on the flattened pair of axes.
pub fn diagonal(x: &Value, offset: i64, axis1: isize, axis2: isize) -> Result<Value> {
    let nd = x.ndim();
    if nd < 2 {
        return value_err!("diagonal requires an array of at least two dimensions");
    }
    let (a1, a2) = (normalize_axis(axis1, nd)?, normalize_axis(axis2, nd)?);
    if a1 == a2 {
        return value_err!("axis1 and axis2 cannot be the same");
    }
    let y = moveaxis(x, &[a1 as isize, a2 as isize], &[-2, -1])?;
    let s = y.shape();
    let (n, m) = (s[nd - 2] as i64, s[nd - 1] as i64);
    let (lo, hi) = (0.max(-offset), n.min(m - offset));
    let idx: Vec<i64> = (lo..hi.max(lo)).map(|r| r * m + r + offset).collect();
    let mut flat: Vec<usize> = s[..nd - 2].to_vec();
    flat.push((n * m) as usize);
    let idx = Value::Concrete(Tensor::from_slice(&idx, &[idx.len()])?);
    take(&reshape(&y, &flat)?, &idx, Some(-1))
}

/// Sum of the diagonal.
pub fn trace(x: &Value, offset: i64, axis1: isize, axis2: isize) -> Result<Value> {
    reduction(
        ReduceOp::Sum,
        &diagonal(x, offset, axis1, axis2)?,
        Some(&[-1]),
        false,
    )
}

// ------------------------------------------------------------------ einsum ---

/// One operand's subscripts, as letters (`None` for an axis of the ellipsis,
/// numbered from the right so that broadcasting lines them up).
type Labels = SmallVec<[char; 8]>;

/// Letters standing for the ellipsis axes: characters no subscript uses.
fn ellipsis_letter(k: usize) -> char {
    char::from_u32(0x2460 + k as u32).unwrap_or('\u{24ff}')
}

/// Parse `"ij,jk->ik"` (implicit output: the letters used once, sorted), with
/// `...` for any number of leading broadcast axes.
fn parse(spec: &str, ranks: &[usize]) -> Result<(Vec<Labels>, Labels)> {
    let spec: String = spec.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match spec.split_once("->") {
        Some((l, r)) => (l.to_string(), Some(r.to_string())),
        None => (spec.clone(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != ranks.len() {
        return value_err!(
            "einsum: {} operand subscripts for {} operands",
            terms.len(),
            ranks.len()
        );
    }
    let mut ell_rank = 0usize;
    let mut labels = Vec::with_capacity(terms.len());
    for (t, &r) in terms.iter().zip(ranks) {
        let (named, ell) = expand_ellipsis(t)?;
        let named_count = named.iter().filter(|c| c.is_some()).count();
        let l: Labels = if ell {
            if named_count > r {
                return value_err!(
                    "einsum: subscripts {t:?} have more axes than the operand's {r}"
                );
            }
            let e = r - named_count;
            ell_rank = ell_rank.max(e);
            named
                .iter()
                .flat_map(|c| match c {
                    Some(c) => vec![*c],
                    None => (0..e).rev().map(ellipsis_letter).collect(),
                })
                .collect()
        } else {
            if named_count != r {
                return value_err!(
                    "einsum: subscripts {t:?} have {named_count} axes but the operand has {r}"
                );
            }
            named.iter().flatten().copied().collect()
        };
        labels.push(l);
    }
    let ell: Labels = (0..ell_rank).rev().map(ellipsis_letter).collect();
    let out: Labels = match rhs {
        Some(r) => {
            let (named, has_ell) = expand_ellipsis(&r)?;
            let mut o = Labels::new();
            for c in named {
                match c {
                    Some(c) => o.push(c),
                    None => o.extend(ell.iter().copied()),
                }
            }
            if !has_ell && ell_rank > 0 {
                return value_err!(
                    "einsum: the inputs' '...' stands for {ell_rank} axes but the output has no \
                     '...' to put them in"
                );
            }
            o
        }
        None => {
            let all: Vec<char> = labels.iter().flatten().copied().collect();
            let mut once: Vec<char> = all
                .iter()
                .copied()
                .filter(|c| !ell.contains(c) && all.iter().filter(|d| *d == c).count() == 1)
                .collect();
            once.sort_unstable();
            once.dedup();
            ell.iter().copied().chain(once).collect()
        }
    };
    for (i, c) in out.iter().enumerate() {
        if out[..i].contains(c) {
            return value_err!("einsum: output subscript {c:?} appears more than once");
        }
        if !labels.iter().any(|l| l.contains(c)) {
            return value_err!("einsum: output subscript {c:?} does not appear in the inputs");
        }
    }
    Ok((labels, out))
}

/// Letters of one term, `None` where `...` stands; and whether it has one.
fn expand_ellipsis(t: &str) -> Result<(Vec<Option<char>>, bool)> {
    let n_ell = t.matches("...").count();
    if n_ell > 1 {
        return value_err!("einsum: more than one ellipsis in {t:?}");
    }
    let mut out = Vec::new();
    let mut rest = t;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("...") {
            out.push(None);
            rest = r;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        if !c.is_ascii_alphabetic() {
            return value_err!("einsum: invalid subscript {c:?} in {t:?} (use letters and ...)");
        }
        out.push(Some(c));
        rest = &rest[c.len_utf8()..];
    }
    Ok((out, n_ell == 1))
}

/// Einstein summation (explicit `"ij,jk->ik"` or implicit subscripts, `...`
/// for broadcast leading axes), evaluated as diagonals of repeated letters,
/// sums of letters private to one operand, then pairwise matrix products.
/// The result keeps the operands' common dtype (a sum of int32 stays int32).
pub fn einsum(spec: &str, operands: &[Value]) -> Result<Value> {
    if operands.is_empty() {
        return value_err!("einsum: at least one operand is needed");
    }
    let ranks: Vec<usize> = operands.iter().map(Value::ndim).collect();
    let (labels, out) = parse(spec, &ranks)?;
    let dtype = operands
        .iter()
        .map(Value::dtype)
        .reduce(DType::promote)
        .unwrap_or(DType::F64);
    // every letter's size; ellipsis axes broadcast (size 1 against n)
    let mut sizes: Vec<(char, usize)> = Vec::new();
    for (l, o) in labels.iter().zip(operands) {
        for (&c, &d) in l.iter().zip(o.shape().iter()) {
            match sizes.iter_mut().find(|(k, _)| *k == c) {
                None => sizes.push((c, d)),
                Some((_, s)) if *s == d => {}
                Some((_, s)) if !c.is_ascii_alphabetic() && (*s == 1 || d == 1) => *s = (*s).max(d),
                Some((_, s)) => {
                    return shape_err!(
                        "einsum: axis {c:?} has sizes {s} and {d} in different operands"
                    )
                }
            }
        }
    }
    let size = |c: char| sizes.iter().find(|(k, _)| *k == c).map_or(1, |(_, s)| *s);
    let mut terms: Vec<(Value, Labels)> = Vec::with_capacity(operands.len());
    for (o, l) in operands.iter().zip(labels) {
        let o = if o.dtype() == dtype {
            o.clone()
        } else {
            convert(o, dtype)?
        };
        let (o, l) = take_diagonals(o, l)?;
        // broadcast size-1 ellipsis axes to their common size
        let want: Vec<usize> = l.iter().map(|&c| size(c)).collect();
        let o = if o.shape().as_slice() != want.as_slice() {
            broadcast_to(&o, &want)?
        } else {
            o
        };
        terms.push((o, l));
    }
    // sum out letters private to one operand
    for i in 0..terms.len() {
        let private: Vec<isize> = terms[i]
            .1
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                !out.contains(c)
                    && !terms
                        .iter()
                        .enumerate()
                        .any(|(j, t)| j != i && t.1.contains(c))
            })
            .map(|(k, _)| k as isize)
            .collect();
        if !private.is_empty() {
            let (o, l) = &terms[i];
            let s = reduction(ReduceOp::Sum, o, Some(&private), false)?;
            let kept: Labels = l
                .iter()
                .enumerate()
                .filter(|(k, _)| !private.contains(&(*k as isize)))
                .map(|(_, c)| *c)
                .collect();
            terms[i] = (s, kept);
        }
    }
    while terms.len() > 1 {
        let (b, sb) = terms.remove(1);
        let (a, sa) = terms.remove(0);
        let keep = |c: &char| out.contains(c) || terms.iter().any(|t| t.1.contains(c));
        let shared: Labels = sa.iter().copied().filter(|c| sb.contains(c)).collect();
        let batch: Labels = shared.iter().copied().filter(|c| keep(c)).collect();
        let contract: Labels = shared.iter().copied().filter(|c| !keep(c)).collect();
        let fa: Labels = sa.iter().copied().filter(|c| !shared.contains(c)).collect();
        let fb: Labels = sb.iter().copied().filter(|c| !shared.contains(c)).collect();
        let pos = |l: &Labels, c: char| l.iter().position(|&d| d == c).unwrap_or(0);
        let perm_a: Vec<usize> = batch
            .iter()
            .chain(&fa)
            .chain(&contract)
            .map(|&c| pos(&sa, c))
            .collect();
        let perm_b: Vec<usize> = batch
            .iter()
            .chain(&contract)
            .chain(&fb)
            .map(|&c| pos(&sb, c))
            .collect();
        let nb: Vec<usize> = batch.iter().map(|&c| size(c)).collect();
        let prod = |l: &Labels| l.iter().map(|&c| size(c)).product::<usize>();
        let mut sha = nb.clone();
        sha.extend([prod(&fa), prod(&contract)]);
        let mut shb = nb.clone();
        shb.extend([prod(&contract), prod(&fb)]);
        let a3 = reshape(&transpose(&a, &perm_a)?, &sha)?;
        let b3 = reshape(&transpose(&b, &perm_b)?, &shb)?;
        let r = matmul(&a3, &b3)?;
        let mut shr = nb;
        shr.extend(fa.iter().chain(&fb).map(|&c| size(c)));
        let r = reshape(&r, &shr)?;
        let labels: Labels = batch.iter().chain(&fa).chain(&fb).copied().collect();
        terms.insert(0, (r, labels));
    }
    let (mut r, mut l) = terms.remove(0);
    let extra: Vec<isize> = l
        .iter()
        .enumerate()
        .filter(|(_, c)| !out.contains(c))
        .map(|(k, _)| k as isize)
        .collect();
    if !extra.is_empty() {
        r = reduction(ReduceOp::Sum, &r, Some(&extra), false)?;
        l.retain(|c| out.contains(c));
    }
    if l != out {
        let perm: Vec<usize> = out
            .iter()
            .map(|c| {
                l.iter()
                    .position(|d| d == c)
                    .ok_or_else(|| Error::Value("einsum".into()))
            })
            .collect::<Result<_>>()?;
        r = transpose(&r, &perm)?;
    }
    if r.dtype() != dtype {
        r = convert(&r, dtype)?;
    }
    Ok(r)
}

/// Diagonals for letters repeated within one operand (`"ii"`), the letter
/// moved to the end.
fn take_diagonals(mut o: Value, mut l: Labels) -> Result<(Value, Labels)> {
    while let Some((i, j)) =
        (0..l.len()).find_map(|i| (i + 1..l.len()).find(|&j| l[j] == l[i]).map(|j| (i, j)))
    {
        let c = l[i];
        o = diagonal(&o, 0, i as isize, j as isize)?;
        l = l
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != i && *k != j)
            .map(|(_, c)| *c)
            .collect();
        l.push(c);
    }
    Ok((o, l))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_explicit_implicit_and_ellipsis() {
        let (l, o) = parse("ij,jk->ik", &[2, 2]).unwrap();
        assert_eq!(
            (l[0].as_slice(), l[1].as_slice(), o.as_slice()),
            (&['i', 'j'][..], &['j', 'k'][..], &['i', 'k'][..])
        );
        let (_, o) = parse("ij,jk", &[2, 2]).unwrap();
        assert_eq!(o.as_slice(), ['i', 'k']);
        let (l, o) = parse("...ij,...jk->...ik", &[3, 2]).unwrap();
        assert_eq!(l[0].len(), 3);
        assert_eq!(l[1].len(), 2);
        assert_eq!(o.len(), 3);
        assert!(parse("ij->ii", &[2]).is_err());
        assert!(parse("i.j", &[2]).is_err());
        assert!(parse("ij,j", &[2]).is_err());
    }
}

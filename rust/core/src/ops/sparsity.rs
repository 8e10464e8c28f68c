//! The dependency rules the families share (see `trace::deps`): element-wise
//! ops, primitives that select (views, gathers, concatenation: evaluated on
//! position ids, so each rule is the primitive itself), reductions, and the
//! conservative "everything depends on everything".

use std::borrow::Cow;

use crate::error::Result;
use crate::tensor::Tensor;
use crate::trace::deps::{position_ids, read_positions};
use crate::trace::{Deps, Value};

/// Element-wise with NumPy broadcasting: output element `i` depends on the
/// element each input broadcasts to `i`.
pub fn elementwise(primals: &[Value], deps: &[Option<&Deps>], out: &Value) -> Result<Option<Deps>> {
    let out_shape = out.shape();
    let mut maps = Vec::new();
    for (p, d) in primals.iter().zip(deps) {
        if let Some(d) = d {
            let ids = position_ids(&p.shape(), 0)?;
            maps.push((*d, read_positions(&ids.broadcast_view(&out_shape))?));
        }
    }
    let sources: Vec<(&Deps, &[i64])> = maps.iter().map(|(d, m)| (*d, m.as_slice())).collect();
    Ok(Some(Deps::pick(out.size(), &sources)?))
}

/// For primitives whose output elements each copy one element of the inputs
/// at `data` (or are zero): `eval` is the primitive applied to position ids
/// in place of those inputs (the other inputs, indices, as they are).
pub fn selection(
    eval: impl FnOnce(&[&Tensor]) -> Result<Tensor>,
    primals: &[Value],
    deps: &[Option<&Deps>],
    data: &[usize],
    out: &Value,
) -> Result<Option<Deps>> {
    let mut tensors = Vec::with_capacity(primals.len());
    // each data input's rows, one after another (untraced ones depend on nothing)
    let mut parts: Vec<Cow<Deps>> = Vec::new();
    let mut base = 0;
    for (i, p) in primals.iter().enumerate() {
        if data.contains(&i) {
            tensors.push(position_ids(&p.shape(), base)?);
            base += p.size();
            parts.push(match deps[i] {
                Some(d) => Cow::Borrowed(d),
                None => Cow::Owned(Deps::empty(p.size())),
            });
        } else {
            tensors.push(p.concrete()?);
        }
    }
    let all = match parts.as_slice() {
        [one] => one.clone(),
        _ => Cow::Owned(Deps::stack(
            &parts.iter().map(|c| c.as_ref()).collect::<Vec<_>>(),
        )),
    };
    let refs: Vec<&Tensor> = tensors.iter().collect();
    let map = read_positions(&eval(&refs)?)?;
    Ok(Some(Deps::pick(out.size(), &[(&all, &map)])?))
}

/// A reduction of an input of `shape` over `axes`: each output element
/// depends on everything it accumulates.
pub fn reduction(
    shape: &[usize],
    axes: &[usize],
    d: &Deps,
    out_size: usize,
) -> Result<Option<Deps>> {
    let kept: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(i, &n)| if axes.contains(&i) { 1 } else { n })
        .collect();
    let ids = position_ids(&kept, 0)?;
    let map = read_positions(&ids.broadcast_view(shape))?;
    Ok(Some(Deps::scatter(out_size, d, &map)?))
}

/// Conservatively, every output element depends on every traced input element.
pub fn dense(deps: &[Option<&Deps>], out: &Value) -> Result<Option<Deps>> {
    let parts: Vec<&Deps> = deps.iter().flatten().copied().collect();
    let all = Deps::stack(&parts).all();
    Ok(Some(Deps::dense(out.size(), &all)?))
}

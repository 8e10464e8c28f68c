//! Full Jacobians and Hessians: `vmap` of the VJP over chunks of the
//! standard basis of the outputs (`jacrev`), `vmap` of the JVP over chunks of
//! the basis of the inputs (`jacfwd`), and `jacfwd` of `jacrev` (`hessian`).
//! The basis is made one chunk at a time, never as an `N x N` identity.

use super::{jvp, splice, vjp, vmap, Fun, Outputs};
use crate::error::Result;
use crate::ops::composite::moveaxis;
use crate::ops::creation::one_hot_rows;
use crate::ops::shape::{broadcast_to, concatenate, reshape};
use crate::trace::Value;

/// `(start, count)` of each chunk of `n` basis vectors (one empty chunk for n = 0).
fn chunks(n: usize, chunk: Option<usize>) -> Vec<(usize, usize)> {
    let step = chunk.unwrap_or(n).max(1);
    if n == 0 {
        return vec![(0, 0)];
    }
    (0..n).step_by(step).map(|s| (s, step.min(n - s))).collect()
}

/// A vmapped result as `(count, *shape)`: unbatched results are broadcast.
pub(super) fn batched(v: Value, is_batched: bool, count: usize) -> Result<Value> {
    if is_batched {
        return Ok(v);
    }
    let shape = v.shape();
    let mut one = vec![1];
    one.extend(shape.iter());
    let mut full = vec![count];
    full.extend(shape.iter());
    broadcast_to(&reshape(&v, &one)?, &full)
}

fn join(mut parts: Vec<Value>) -> Result<Value> {
    if parts.len() == 1 {
        if let Some(p) = parts.pop() {
            return Ok(p);
        }
    }
    concatenate(&parts, 0)
}

/// The Jacobian of `f` at `args` with respect to the arguments at `wrt`, by
/// reverse mode: `blocks[k][j]` has shape `S_out_k + S_in_j`. `chunk` bounds
/// how many basis vectors are pulled back at once. Also the auxiliary values.
pub fn jacrev(
    f: &mut Fun,
    args: &[Value],
    wrt: &[usize],
    chunk: Option<usize>,
) -> Result<(Vec<Vec<Value>>, Vec<Value>)> {
    let primals: Vec<Value> = wrt.iter().map(|&i| args[i].clone()).collect();
    let mut restricted = |sub: &[Value]| f(&splice(args, wrt, sub));
    let (outs, pullback, aux) = vjp(&mut restricted, &primals, true)?;
    let mut blocks = Vec::with_capacity(outs.len());
    for (k, o) in outs.iter().enumerate() {
        let s_out = o.shape();
        let mut pieces: Vec<Vec<Value>> = vec![Vec::new(); primals.len()];
        for (start, count) in chunks(o.size(), chunk) {
            let basis = one_hot_rows(start, count, &s_out, o.dtype())?;
            let mut pull = |ct: &[Value]| {
                let mut cts = vec![None; outs.len()];
                cts[k] = Some(ct[0].clone());
                Ok(Outputs::from(pullback.call(&cts, true)?))
            };
            let (gs, _) = vmap(&mut pull, &[basis], &[Some(0)], count)?;
            for (j, (g, is_b)) in gs.into_iter().enumerate() {
                pieces[j].push(batched(g, is_b, count)?);
            }
        }
        let mut row = Vec::with_capacity(primals.len());
        for (j, p) in pieces.into_iter().enumerate() {
            let mut shape = s_out.to_vec();
            shape.extend(primals[j].shape().iter());
            row.push(reshape(&join(p)?, &shape)?);
        }
        blocks.push(row);
    }
    Ok((blocks, aux))
}

/// The Jacobian of `f` at `args` with respect to the arguments at `wrt`, by
/// forward mode: same blocks as [`jacrev`]. `chunk` bounds how many basis
/// vectors are pushed forward at once (`f` is called once per chunk).
pub fn jacfwd(
    f: &mut Fun,
    args: &[Value],
    wrt: &[usize],
    chunk: Option<usize>,
) -> Result<(Vec<Vec<Value>>, Vec<Value>)> {
    for &i in wrt {
        super::check_float(&args[i], "input", i)?;
    }
    let primals: Vec<Value> = wrt.iter().map(|&i| args[i].clone()).collect();
    let mut aux = Vec::new();
    // per_input[j][k]: the block of output k and input j, as (n_j, S_out_k)
    let mut per_input: Vec<Vec<Value>> = Vec::with_capacity(primals.len());
    for (j, x) in primals.iter().enumerate() {
        let s_in = x.shape();
        let mut pieces: Vec<Vec<Value>> = Vec::new();
        for (start, count) in chunks(x.size(), chunk) {
            let basis = one_hot_rows(start, count, &s_in, x.dtype())?;
            let mut outs_seen = Vec::new();
            let mut push = |t: &[Value]| {
                let mut tangents = vec![None; primals.len()];
                tangents[j] = Some(t[0].clone());
                let mut restricted = |sub: &[Value]| f(&splice(args, wrt, sub));
                let (outs, tans, a) = jvp(&mut restricted, &primals, &tangents)?;
                outs_seen = outs;
                Ok(Outputs {
                    values: tans,
                    aux: a,
                })
            };
            let (tans, a) = vmap(&mut push, &[basis], &[Some(0)], count)?;
            aux = a;
            if pieces.is_empty() {
                pieces = vec![Vec::new(); tans.len()];
            }
            for (k, (t, is_b)) in tans.into_iter().enumerate() {
                pieces[k].push(batched(t, is_b, count)?);
            }
            drop(outs_seen);
        }
        per_input.push(pieces.into_iter().map(join).collect::<Result<_>>()?);
    }
    let n_out = per_input.first().map_or(0, |p| p.len());
    let mut columns: Vec<_> = per_input.into_iter().map(Vec::into_iter).collect();
    let mut blocks = Vec::with_capacity(n_out);
    for _ in 0..n_out {
        let mut row = Vec::with_capacity(primals.len());
        for (column, x) in columns.iter_mut().zip(&primals) {
            let Some(full) = column.next() else { break };
            let s_out: Vec<usize> = full.shape()[1..].to_vec();
            let moved = if full.ndim() > 1 {
                moveaxis(&full, &[0], &[-1])?
            } else {
                full
            };
            let mut shape = s_out;
            shape.extend(x.shape().iter());
            row.push(reshape(&moved, &shape)?);
        }
        blocks.push(row);
    }
    Ok((blocks, aux))
}

/// The Hessian of `f` at `args` with respect to the arguments at `wrt`:
/// `jacfwd(jacrev(f))`. `blocks[k * wrt.len() + j][i]` is the block of output
/// `k`, first input `j` and second input `i` (`S_out_k + S_j + S_i`).
pub fn hessian(
    f: &mut Fun,
    args: &[Value],
    wrt: &[usize],
) -> Result<(Vec<Vec<Value>>, Vec<Value>)> {
    let mut gradient = |xs: &[Value]| {
        let (blocks, aux) = jacrev(f, xs, wrt, None)?;
        Ok(Outputs {
            values: blocks.into_iter().flatten().collect(),
            aux,
        })
    };
    jacfwd(&mut gradient, args, wrt, None)
}

#[cfg(test)]
mod tests {
    use super::chunks;

    #[test]
    fn chunks_cover_the_basis() {
        assert_eq!(chunks(5, Some(2)), [(0, 2), (2, 2), (4, 1)]);
        assert_eq!(chunks(5, None), [(0, 5)]);
        assert_eq!(chunks(0, Some(3)), [(0, 0)]);
    }
}

//! Full Jacobians and Hessians: `vmap` of the VJP over chunks of the
//! standard basis of the outputs (`jacrev`), `vmap` of the JVP over chunks of
//! the basis of the inputs (`jacfwd`), and `jacfwd` of `jacrev` (`hessian`).
//! The basis is made one chunk at a time, never as an `N x N` identity.
//!
//! Chunks are independent, so a Jacobian is also three steps that can run
//! apart: a plan ([`BasisChunk`]s), each chunk's pieces ([`jacobian_chunk`],
//! anywhere: another process or machine) and their assembly, in order
//! ([`jacobian_by_chunks`]). The local transforms take the same three steps,
//! so a chunk computed elsewhere is bit for bit the chunk computed here.

use super::{jvp, splice, vjp, vmap, Fun, Outputs, VjpFn};
use crate::error::{Error, Result};
use crate::ops::composite::moveaxis;
use crate::ops::creation::one_hot_rows;
use crate::ops::shape::{broadcast_to, concatenate, reshape};
use crate::tensor::shape::fmt_shape;
use crate::trace::Value;

/// Which Jacobian: of the outputs by reverse mode, by forward mode, or the
/// Hessian (forward over reverse).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JacobianMode {
    Rev,
    Fwd,
    Hessian,
}

impl JacobianMode {
    pub fn name(self) -> &'static str {
        match self {
            JacobianMode::Rev => "jacrev",
            JacobianMode::Fwd => "jacfwd",
            JacobianMode::Hessian => "hessian",
        }
    }
}

/// One task of a chunked Jacobian: the basis vectors `start..start + count`
/// of leaf `leaf` — an output leaf for `jacrev`, a differentiated input leaf
/// for `jacfwd` and the Hessian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BasisChunk {
    pub leaf: usize,
    pub start: usize,
    pub count: usize,
}

/// Computes the chunks of a plan, wherever it likes: each chunk's
/// [`jacobian_chunk`], in plan order (see [`jacobian_by_chunks`]).
pub type ChunkRunner<'a> = dyn FnMut(&[BasisChunk]) -> Result<Vec<Vec<Value>>> + 'a;

/// The chunks of the bases of leaves of `sizes`, leaf by leaf, at most
/// `chunk` vectors each (one empty chunk for an empty leaf, so that every
/// leaf has a block).
pub fn basis_chunks(sizes: &[usize], chunk: Option<usize>) -> Vec<BasisChunk> {
    let mut out = Vec::new();
    for (leaf, &n) in sizes.iter().enumerate() {
        let step = chunk.unwrap_or(n).max(1);
        if n == 0 {
            out.push(BasisChunk {
                leaf,
                start: 0,
                count: 0,
            });
        }
        for start in (0..n).step_by(step) {
            out.push(BasisChunk {
                leaf,
                start,
                count: step.min(n - start),
            });
        }
    }
    out
}

/// The chunk size that gives each of `workers` about four tasks over a basis
/// of `total` vectors: few enough tasks that each is worth shipping (its
/// overhead is paid `4 * workers` times, not once per vector), enough that
/// a slow worker or a retried task does not hold up the others for long.
pub fn chunk_for_workers(total: usize, workers: usize) -> usize {
    total.div_ceil(4 * workers.max(1)).max(1)
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

/// The pieces of one reverse-mode chunk: the chunk of output `c.leaf`'s basis
/// pulled back, one `(count, *S_in_j)` value per input `j`.
fn pull_chunk(pullback: &VjpFn, outs: &[Value], c: BasisChunk) -> Result<Vec<Value>> {
    let o = &outs[c.leaf];
    let basis = one_hot_rows(c.start, c.count, &o.shape(), o.dtype())?;
    let mut pull = |ct: &[Value]| {
        let mut cts = vec![None; outs.len()];
        cts[c.leaf] = Some(ct[0].clone());
        Ok(Outputs::from(pullback.call(&cts, true)?))
    };
    let (gs, _) = vmap(&mut pull, &[basis], &[Some(0)], c.count)?;
    gs.into_iter()
        .map(|(g, is_b)| batched(g, is_b, c.count))
        .collect()
}

/// The pieces of one forward-mode chunk: the chunk of input `c.leaf`'s basis
/// pushed forward, one `(count, *S_out_k)` value per output `k`; and the
/// auxiliary values.
fn push_chunk(
    f: &mut Fun,
    args: &[Value],
    wrt: &[usize],
    c: BasisChunk,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let primals: Vec<Value> = wrt.iter().map(|&i| args[i].clone()).collect();
    let x = &primals[c.leaf];
    let basis = one_hot_rows(c.start, c.count, &x.shape(), x.dtype())?;
    let mut push = |t: &[Value]| {
        let mut tangents = vec![None; primals.len()];
        tangents[c.leaf] = Some(t[0].clone());
        let mut restricted = |sub: &[Value]| f(&splice(args, wrt, sub));
        let (_, tans, aux) = jvp(&mut restricted, &primals, &tangents)?;
        Ok(Outputs { values: tans, aux })
    };
    let (tans, aux) = vmap(&mut push, &[basis], &[Some(0)], c.count)?;
    let pieces = tans
        .into_iter()
        .map(|(t, is_b)| batched(t, is_b, c.count))
        .collect::<Result<_>>()?;
    Ok((pieces, aux))
}

/// The gradient of `f` as a function of all its arguments: every block of
/// `jacrev(f)` as one flat list of outputs (the function the Hessian's
/// forward pass differentiates).
fn gradient_of<'a, 'f: 'a>(f: &'a mut Fun<'f>, wrt: &'a [usize]) -> Box<Fun<'a>> {
    Box::new(move |xs: &[Value]| {
        let (blocks, aux) = jacrev(f, xs, wrt, None)?;
        Ok(Outputs {
            values: blocks.into_iter().flatten().collect(),
            aux,
        })
    })
}

fn check_inputs(args: &[Value], wrt: &[usize]) -> Result<()> {
    for &i in wrt {
        super::check_float(&args[i], "input", i)?;
    }
    Ok(())
}

/// A chunk's pieces that do not match the plan (a function whose outputs
/// change between calls, or a task that computed another chunk).
fn mismatch(mode: JacobianMode, c: BasisChunk, what: String) -> Error {
    Error::Value(format!(
        "{}: the chunk of {} basis vectors at {} of leaf {} {what}",
        mode.name(),
        c.count,
        c.start,
        c.leaf
    ))
}

/// `blocks[k][j]` of a reverse-mode Jacobian from each chunk's pieces (the
/// chunks over the outputs, in plan order).
fn assemble_rev(
    out_shapes: &[Vec<usize>],
    in_shapes: &[Vec<usize>],
    plan: &[BasisChunk],
    pieces: Vec<Vec<Value>>,
) -> Result<Vec<Vec<Value>>> {
    let mut per_out: Vec<Vec<Vec<Value>>> =
        vec![vec![Vec::new(); in_shapes.len()]; out_shapes.len()];
    for (c, ps) in plan.iter().zip(pieces) {
        if ps.len() != in_shapes.len() {
            return Err(mismatch(
                JacobianMode::Rev,
                *c,
                format!(
                    "has {} pieces, not one per input ({})",
                    ps.len(),
                    in_shapes.len()
                ),
            ));
        }
        for (j, p) in ps.into_iter().enumerate() {
            let mut want = vec![c.count];
            want.extend(&in_shapes[j]);
            if p.shape().as_slice() != want.as_slice() {
                return Err(mismatch(
                    JacobianMode::Rev,
                    *c,
                    format!(
                        "has a piece of shape {}, not {}",
                        fmt_shape(&p.shape()),
                        fmt_shape(&want)
                    ),
                ));
            }
            per_out[c.leaf][j].push(p);
        }
    }
    per_out
        .into_iter()
        .zip(out_shapes)
        .map(|(row, s_out)| {
            row.into_iter()
                .zip(in_shapes)
                .map(|(parts, s_in)| {
                    let mut shape = s_out.clone();
                    shape.extend(s_in);
                    reshape(&join(parts)?, &shape)
                })
                .collect()
        })
        .collect()
}

/// `blocks[k][j]` of a forward-mode Jacobian from each chunk's pieces (the
/// chunks over the inputs, in plan order).
fn assemble_fwd(
    mode: JacobianMode,
    in_shapes: &[Vec<usize>],
    plan: &[BasisChunk],
    pieces: Vec<Vec<Value>>,
) -> Result<Vec<Vec<Value>>> {
    let n_out = pieces.first().map_or(0, Vec::len);
    // per_in[j][k]: the parts of the block of output k and input j, as (n_j, S_out_k)
    let mut per_in: Vec<Vec<Vec<Value>>> = vec![vec![Vec::new(); n_out]; in_shapes.len()];
    for (c, ps) in plan.iter().zip(pieces) {
        if ps.len() != n_out {
            return Err(mismatch(
                mode,
                *c,
                format!("has {} pieces where the first chunk has {n_out}", ps.len()),
            ));
        }
        for (k, p) in ps.into_iter().enumerate() {
            if p.shape().first() != Some(&c.count) {
                return Err(mismatch(
                    mode,
                    *c,
                    format!("has a piece of shape {}", fmt_shape(&p.shape())),
                ));
            }
            per_in[c.leaf][k].push(p);
        }
    }
    let mut columns = Vec::with_capacity(in_shapes.len());
    for parts in per_in {
        columns.push(
            parts
                .into_iter()
                .map(join)
                .collect::<Result<Vec<_>>>()?
                .into_iter(),
        );
    }
    let mut blocks = Vec::with_capacity(n_out);
    for _ in 0..n_out {
        let mut row = Vec::with_capacity(in_shapes.len());
        for (column, s_in) in columns.iter_mut().zip(in_shapes) {
            let Some(full) = column.next() else { break };
            let mut shape: Vec<usize> = full.shape()[1..].to_vec();
            let moved = if full.ndim() > 1 {
                moveaxis(&full, &[0], &[-1])?
            } else {
                full
            };
            shape.extend(s_in);
            row.push(reshape(&moved, &shape)?);
        }
        blocks.push(row);
    }
    Ok(blocks)
}

fn shapes(vs: &[Value]) -> Vec<Vec<usize>> {
    vs.iter().map(|v| v.shape().to_vec()).collect()
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
    let sizes: Vec<usize> = outs.iter().map(Value::size).collect();
    let plan = basis_chunks(&sizes, chunk);
    let pieces = plan
        .iter()
        .map(|&c| pull_chunk(&pullback, &outs, c))
        .collect::<Result<Vec<_>>>()?;
    let blocks = assemble_rev(&shapes(&outs), &shapes(&primals), &plan, pieces)?;
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
    check_inputs(args, wrt)?;
    let in_shapes: Vec<Vec<usize>> = wrt.iter().map(|&i| args[i].shape().to_vec()).collect();
    let sizes: Vec<usize> = wrt.iter().map(|&i| args[i].size()).collect();
    let plan = basis_chunks(&sizes, chunk);
    let mut aux = Vec::new();
    let mut pieces = Vec::with_capacity(plan.len());
    for &c in &plan {
        let (p, a) = push_chunk(f, args, wrt, c)?;
        pieces.push(p);
        aux = a;
    }
    let blocks = assemble_fwd(JacobianMode::Fwd, &in_shapes, &plan, pieces)?;
    Ok((blocks, aux))
}

/// The Hessian of `f` at `args` with respect to the arguments at `wrt`:
/// `jacfwd(jacrev(f))`, the forward pass in chunks of at most `chunk` basis
/// vectors. `blocks[k * wrt.len() + j][i]` is the block of output `k`, first
/// input `j` and second input `i` (`S_out_k + S_j + S_i`).
pub fn hessian(
    f: &mut Fun,
    args: &[Value],
    wrt: &[usize],
    chunk: Option<usize>,
) -> Result<(Vec<Vec<Value>>, Vec<Value>)> {
    jacfwd(&mut *gradient_of(f, wrt), args, wrt, chunk)
}

/// The pieces of chunk `c` of the `mode` Jacobian of `f` at `args`: what one
/// task of [`jacobian_by_chunks`] computes, wherever it runs. A reverse-mode
/// chunk evaluates `f` once more (its own forward pass).
pub fn jacobian_chunk(
    mode: JacobianMode,
    f: &mut Fun,
    args: &[Value],
    wrt: &[usize],
    c: BasisChunk,
) -> Result<Vec<Value>> {
    match mode {
        JacobianMode::Rev => {
            let primals: Vec<Value> = wrt.iter().map(|&i| args[i].clone()).collect();
            let mut restricted = |sub: &[Value]| f(&splice(args, wrt, sub));
            let (outs, pullback, _) = vjp(&mut restricted, &primals, true)?;
            if c.leaf >= outs.len() || c.start + c.count > outs[c.leaf].size() {
                return Err(mismatch(mode, c, "is not in the function's outputs".into()));
            }
            pull_chunk(&pullback, &outs, c)
        }
        JacobianMode::Fwd | JacobianMode::Hessian => {
            check_inputs(args, wrt)?;
            if c.leaf >= wrt.len() || c.start + c.count > args[wrt[c.leaf]].size() {
                return Err(mismatch(
                    mode,
                    c,
                    "is not in the differentiated inputs".into(),
                ));
            }
            if mode == JacobianMode::Fwd {
                Ok(push_chunk(f, args, wrt, c)?.0)
            } else {
                Ok(push_chunk(&mut *gradient_of(f, wrt), args, wrt, c)?.0)
            }
        }
    }
}

/// The `mode` Jacobian of `f` at `args` (blocks as [`jacrev`], [`jacfwd`]
/// and [`hessian`] return them, and the auxiliary values), its chunks
/// computed by `run`: given the plan, `run` returns each chunk's
/// [`jacobian_chunk`] in plan order, computed wherever it likes. `f` is
/// evaluated here once, for the shapes of its outputs and the auxiliary
/// values. Without `chunk`, the basis is split for `workers` (see
/// [`chunk_for_workers`]).
pub fn jacobian_by_chunks(
    mode: JacobianMode,
    f: &mut Fun,
    args: &[Value],
    wrt: &[usize],
    chunk: Option<usize>,
    workers: usize,
    run: &mut ChunkRunner,
) -> Result<(Vec<Vec<Value>>, Vec<Value>)> {
    if mode != JacobianMode::Rev {
        check_inputs(args, wrt)?;
    }
    let evaluated = f(args)?;
    let in_shapes: Vec<Vec<usize>> = wrt.iter().map(|&i| args[i].shape().to_vec()).collect();
    let sizes: Vec<usize> = match mode {
        JacobianMode::Rev => evaluated.values.iter().map(Value::size).collect(),
        _ => wrt.iter().map(|&i| args[i].size()).collect(),
    };
    let chunk = chunk.unwrap_or_else(|| chunk_for_workers(sizes.iter().sum(), workers));
    let plan = basis_chunks(&sizes, Some(chunk));
    let pieces = run(&plan)?;
    if pieces.len() != plan.len() {
        return Err(Error::Value(format!(
            "{}: {} chunk results for a plan of {} chunks",
            mode.name(),
            pieces.len(),
            plan.len()
        )));
    }
    let blocks = match mode {
        JacobianMode::Rev => assemble_rev(&shapes(&evaluated.values), &in_shapes, &plan, pieces)?,
        _ => assemble_fwd(mode, &in_shapes, &plan, pieces)?,
    };
    Ok((blocks, evaluated.aux))
}

#[cfg(test)]
mod tests {
    use super::{basis_chunks, chunk_for_workers, BasisChunk};

    fn c(leaf: usize, start: usize, count: usize) -> BasisChunk {
        BasisChunk { leaf, start, count }
    }

    #[test]
    fn chunks_cover_the_basis() {
        assert_eq!(
            basis_chunks(&[5], Some(2)),
            [c(0, 0, 2), c(0, 2, 2), c(0, 4, 1)]
        );
        assert_eq!(basis_chunks(&[5], None), [c(0, 0, 5)]);
        assert_eq!(basis_chunks(&[0], Some(3)), [c(0, 0, 0)]);
        assert_eq!(
            basis_chunks(&[3, 0, 2], Some(2)),
            [c(0, 0, 2), c(0, 2, 1), c(1, 0, 0), c(2, 0, 2)]
        );
    }

    #[test]
    fn workers_get_about_four_tasks_each() {
        assert_eq!(chunk_for_workers(2000, 2), 250);
        assert_eq!(chunk_for_workers(2001, 2), 251);
        assert_eq!(chunk_for_workers(3, 16), 1);
        assert_eq!(chunk_for_workers(0, 0), 1);
    }
}

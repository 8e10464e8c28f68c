//! Sparse Jacobians and Hessians: detect which outputs depend on which
//! inputs (the sparsity level: a trace of `f` on dependency sets), colour the
//! pattern (`colouring`), push or pull one seed per colour through `f` (a
//! `vmap` of the JVP, VJP or Hessian-vector product over the colours'
//! seeds), and read every non-zero out of the compressed product by a gather
//! (so the result stays differentiable and batchable).
//!
//! One array argument is differentiated and `f` returns one array; the
//! pattern is over their flattened elements (`m x n`, row-major).

use std::sync::Arc;

use super::colouring::{colour_columns, colour_rows, star_colouring, star_sources, Colouring};
use super::jacobian::{batched, jacrev};
use super::{call_traced, check_float, jvp, splice, vjp, vmap, Fun, Outputs};
use crate::error::{Error, Result};
use crate::ops::creation::colour_seeds;
use crate::ops::index::{gather, scatter_add};
use crate::ops::shape::reshape;
use crate::tensor::shape::fmt_shape;
use crate::tensor::{Shape, Tensor};
use crate::trace::{Deps, LevelGuard, LevelKind, TracerKind, Value};

/// Which derivative a sparse computation makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SparseMode {
    /// Columns seeded together, pushed forward by JVPs.
    Fwd,
    /// Rows seeded together, pulled back by VJPs.
    Rev,
    /// A symmetric Hessian of a scalar function, by Hessian-vector products.
    Hessian,
}

impl SparseMode {
    pub fn name(self) -> &'static str {
        match self {
            SparseMode::Fwd => "jacfwd",
            SparseMode::Rev => "jacrev",
            SparseMode::Hessian => "hessian",
        }
    }
}

/// How the non-zeros of a pattern are computed: the colouring (one pass per
/// colour) and, per stored entry, where the compressed product holds it.
#[derive(Clone, Debug)]
pub struct SparsePlan {
    /// The entries computed: the given pattern (made symmetric for a Hessian).
    pub pattern: Deps,
    pub cols: usize,
    pub colouring: Colouring,
    /// For entry `k`: its colour and its position in that colour's product.
    sources: Vec<(u32, u32)>,
}

impl SparsePlan {
    /// The plan for `pattern` (`rows x cols`) in `mode`.
    pub fn new(mode: SparseMode, pattern: Deps, cols: usize) -> Result<SparsePlan> {
        // one-sided colourings: every entry read from its column's (J S) or
        // its row's (S^T J) colour
        let one_sided = |pattern: Deps, colouring: Colouring, by_row: bool| {
            let sources = (0..pattern.rows())
                .flat_map(|i| pattern.row(i).iter().map(move |&j| (i as u32, j)))
                .map(|(i, j)| {
                    if by_row {
                        (colouring.colours[i as usize], j)
                    } else {
                        (colouring.colours[j as usize], i)
                    }
                })
                .collect();
            SparsePlan {
                pattern,
                cols,
                colouring,
                sources,
            }
        };
        match mode {
            SparseMode::Fwd => {
                let colouring = colour_columns(&pattern, cols);
                Ok(one_sided(pattern, colouring, false))
            }
            SparseMode::Rev => {
                let colouring = colour_rows(&pattern, cols);
                Ok(one_sided(pattern, colouring, true))
            }
            SparseMode::Hessian => {
                if pattern.rows() != cols {
                    return Err(Error::Shape(format!(
                        "hessian: a sparsity pattern of shape ({}, {cols}) is not square",
                        pattern.rows()
                    )));
                }
                let pattern = pattern.symmetrized()?;
                let star = star_colouring(&pattern.without_diagonal()?);
                match star_sources(&pattern, &star) {
                    Some(sources) => Ok(SparsePlan {
                        pattern,
                        cols,
                        colouring: star,
                        sources,
                    }),
                    // not reached for a true star colouring; the one-sided one always works
                    None => {
                        let colouring = colour_columns(&pattern, cols);
                        Ok(one_sided(pattern, colouring, false))
                    }
                }
            }
        }
    }

    /// Passes (one per colour).
    pub fn passes(&self) -> usize {
        self.colouring.count
    }
}

/// A sparse Jacobian (Hessian): `data[k]` is the stored entry `k` of
/// `pattern` in CSR order; `dense_shape` is the dense Jacobian's shape
/// (`S_out + S_in`; a Hessian's `S_in + S_in`).
pub struct SparseJacobian {
    pub pattern: Deps,
    pub cols: usize,
    pub data: Value,
    pub passes: usize,
    pub dense_shape: Shape,
}

impl SparseJacobian {
    /// The dense Jacobian (zeros off the pattern), differentiable.
    pub fn to_dense(&self) -> Result<Value> {
        let rows = self.pattern.rows();
        let flat: Vec<i64> = (0..rows)
            .flat_map(|i| {
                self.pattern
                    .row(i)
                    .iter()
                    .map(move |&j| (i * self.cols + j as usize) as i64)
            })
            .collect();
        let at = Value::Concrete(Tensor::from_slice(&flat, &[flat.len()])?);
        reshape(
            &scatter_add(&self.data, &at, rows * self.cols)?,
            &self.dense_shape,
        )
    }
}

/// The one output a sparse Jacobian is taken of.
fn one_output(mut outs: Vec<Value>, name: &str) -> Result<Value> {
    if outs.len() != 1 {
        return Err(Error::Value(format!(
            "{name}: with sparsity the function must return one array, not {}",
            outs.len()
        )));
    }
    outs.pop()
        .ok_or_else(|| Error::Value(format!("{name}: no output")))
}

/// Which elements of `f`'s output depend on which elements of `args[wrt]`:
/// an `m x n` pattern over the flattened output and input, found by running
/// `f` once on dependency sets. Also the output's shape and the auxiliary
/// values. Code that branches on values cannot be followed (a clear error).
pub fn sparsity_pattern(
    f: &mut Fun,
    args: &[Value],
    wrt: usize,
) -> Result<(Deps, Shape, Vec<Value>)> {
    let x = &args[wrt];
    check_float(x, "input", wrt)?;
    let guard = LevelGuard::push(LevelKind::Sparsity);
    let level = guard.level();
    let traced = Value::tracer(
        level,
        TracerKind::Sparse {
            primal: x.clone(),
            deps: Arc::new(Deps::identity(x.size(), 0)),
        },
    );
    let (outs, aux) = call_traced(f, &splice(args, &[wrt], &[traced]), level)?;
    drop(guard);
    let out = one_output(outs, "sparsity_pattern")?;
    let deps = match out.at(level) {
        Some(TracerKind::Sparse { deps, .. }) => deps.as_ref().clone(),
        _ => Deps::empty(out.size()),
    };
    Ok((deps, out.shape(), aux))
}

/// The gradient of a scalar `f` with respect to `args[wrt]`, as a function.
fn gradient<'a, 'f: 'a>(
    f: &'a mut Fun<'f>,
    wrt: usize,
) -> impl FnMut(&[Value]) -> Result<Outputs> + use<'a, 'f> {
    move |xs: &[Value]| {
        let (blocks, aux) = jacrev(f, xs, &[wrt], None)?;
        let g = one_output(blocks.into_iter().flatten().collect(), "hessian")?;
        if g.shape() != xs[wrt].shape() {
            return Err(Error::Shape(format!(
                "hessian: with sparsity the function must return a scalar; its Jacobian has \
                 shape {}",
                fmt_shape(&g.shape())
            )));
        }
        Ok(Outputs {
            values: vec![g],
            aux,
        })
    }
}

/// The pattern of the Hessian of a scalar `f` (`n x n`, symmetric): the
/// dependencies of its gradient.
pub fn hessian_sparsity_pattern(
    f: &mut Fun,
    args: &[Value],
    wrt: usize,
) -> Result<(Deps, Vec<Value>)> {
    let mut g = gradient(f, wrt);
    let (deps, _, aux) = sparsity_pattern(&mut g, args, wrt)?;
    Ok((deps.symmetrized()?, aux))
}

/// The pattern `mode` computes for `f` at `args`: `given`, or detected.
pub fn pattern_for(
    mode: SparseMode,
    f: &mut Fun,
    args: &[Value],
    wrt: usize,
    given: Option<Deps>,
) -> Result<Deps> {
    match given {
        Some(p) => Ok(p),
        None if mode == SparseMode::Hessian => Ok(hessian_sparsity_pattern(f, args, wrt)?.0),
        None => Ok(sparsity_pattern(f, args, wrt)?.0),
    }
}

/// `f`'s JVPs along each of `count` seeds (stacked on axis 0), flattened to
/// `(count, m)`; also the output's shape and the auxiliary values.
fn push_seeds(
    f: &mut Fun,
    args: &[Value],
    wrt: usize,
    seeds: Value,
    count: usize,
) -> Result<(Value, Shape, Vec<Value>)> {
    let x = args[wrt].clone();
    let mut out_shape = Shape::new();
    let mut push = |t: &[Value]| {
        let mut restricted = |sub: &[Value]| f(&splice(args, &[wrt], sub));
        let (outs, tans, aux) = jvp(
            &mut restricted,
            std::slice::from_ref(&x),
            &[Some(t[0].clone())],
        )?;
        out_shape = one_output(outs, "jacfwd")?.shape();
        Ok(Outputs { values: tans, aux })
    };
    let (tans, aux) = vmap(&mut push, &[seeds], &[Some(0)], count)?;
    let (t, is_batched) = tans
        .into_iter()
        .next()
        .ok_or_else(|| Error::Value("jacfwd: no output".into()))?;
    let size: usize = out_shape.iter().product();
    let b = reshape(&batched(t, is_batched, count)?, &[count, size])?;
    Ok((b, out_shape, aux))
}

fn check_rows(mode: SparseMode, plan: &SparsePlan, m: usize, out_shape: &[usize]) -> Result<()> {
    if plan.pattern.rows() != m {
        return Err(Error::Shape(format!(
            "{}: the sparsity pattern has {} rows but the output (shape {}) has {m} elements",
            mode.name(),
            plan.pattern.rows(),
            fmt_shape(out_shape)
        )));
    }
    Ok(())
}

/// The Jacobian (`Fwd`, `Rev`) or Hessian of `f` with respect to `args[wrt]`
/// on the non-zeros of `plan`'s pattern, in one pass per colour. Also the
/// auxiliary values.
pub fn sparse_jacobian(
    mode: SparseMode,
    f: &mut Fun,
    args: &[Value],
    wrt: usize,
    plan: &SparsePlan,
) -> Result<(SparseJacobian, Vec<Value>)> {
    let x = &args[wrt];
    check_float(x, "input", wrt)?;
    let (n, s_in) = (x.size(), x.shape());
    if plan.cols != n {
        return Err(Error::Shape(format!(
            "{}: the sparsity pattern has {} columns but the input (shape {}) has {n} elements",
            mode.name(),
            plan.cols,
            fmt_shape(&s_in)
        )));
    }
    let count = plan.passes();
    let (product, out_shape, aux) = match mode {
        SparseMode::Fwd => {
            let seeds = colour_seeds(&plan.colouring.colours, count, &s_in, x.dtype())?;
            push_seeds(f, args, wrt, seeds, count)?
        }
        SparseMode::Hessian => {
            let seeds = colour_seeds(&plan.colouring.colours, count, &s_in, x.dtype())?;
            let mut g = gradient(f, wrt);
            let (b, _, aux) = push_seeds(&mut g, args, wrt, seeds, count)?;
            (b, s_in.clone(), aux)
        }
        SparseMode::Rev => {
            let mut restricted = |sub: &[Value]| f(&splice(args, &[wrt], sub));
            let (outs, pullback, aux) = vjp(&mut restricted, std::slice::from_ref(x), true)?;
            let out = one_output(outs, "jacrev")?;
            check_rows(mode, plan, out.size(), &out.shape())?;
            let seeds = colour_seeds(&plan.colouring.colours, count, &out.shape(), out.dtype())?;
            let mut pull =
                |ct: &[Value]| Ok(Outputs::from(pullback.call(&[Some(ct[0].clone())], true)?));
            let (gs, _) = vmap(&mut pull, &[seeds], &[Some(0)], count)?;
            let (g, is_batched) = gs
                .into_iter()
                .next()
                .ok_or_else(|| Error::Value("jacrev: no input".into()))?;
            let b = reshape(&batched(g, is_batched, count)?, &[count, n])?;
            (b, out.shape(), aux)
        }
    };
    let m: usize = out_shape.iter().product();
    if mode != SparseMode::Rev {
        check_rows(mode, plan, m, &out_shape)?;
    }
    let width = product.shape()[1];
    let at: Vec<i64> = plan
        .sources
        .iter()
        .map(|&(c, r)| (c as usize * width + r as usize) as i64)
        .collect();
    let at = Value::Concrete(Tensor::from_slice(&at, &[at.len()])?);
    let data = gather(&reshape(&product, &[count * width])?, &at)?;
    let mut dense_shape = out_shape;
    dense_shape.extend(s_in.iter().copied());
    Ok((
        SparseJacobian {
            pattern: plan.pattern.clone(),
            cols: n,
            data,
            passes: count,
            dense_shape,
        },
        aux,
    ))
}

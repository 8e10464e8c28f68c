//! `custom_vjp`, `custom_jvp` and `checkpoint` over Python functions: the user's
//! functions as the core's [`CustomVjpFns`] (pytrees flattened and rebuilt
//! here, with the structure checks that name the argument); the rule itself
//! and its batching are the core's (`transforms::custom_vjp`).

use std::sync::{Arc, Mutex};

use ferrax_core::transforms::{self as core, CustomJvpFns, CustomVjpFns};
use ferrax_core::Value;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::convert::to_value;
use crate::errors::{external, guard};
use crate::pytree::{describe, flatten, nodes_equal, Node};
use crate::tensor::wrap;

/// The differentiated positional arguments: position, structure, leaves.
struct Arg {
    pos: usize,
    tree: Node,
    len: usize,
}

/// What the user's functions share: the call's arguments (the
/// non-differentiated ones kept as Python objects) and the structures seen.
struct Call {
    fun: Py<PyAny>,
    args: Vec<Py<PyAny>>,
    diff: Vec<Arg>,
    nondiff: Vec<Py<PyAny>>,
    /// The output structure and the residuals' (from the forward function).
    trees: Mutex<Option<(Node, Node)>>,
}

fn leaves_to_py<'py>(py: Python<'py>, vs: &[Value]) -> PyResult<Vec<Bound<'py, PyAny>>> {
    vs.iter()
        .map(|v| Ok(wrap(py, v.clone())?.into_bound(py).into_any()))
        .collect()
}

fn to_values(leaves: &[Bound<'_, PyAny>]) -> PyResult<Vec<Value>> {
    leaves.iter().map(|l| to_value(l, None)).collect()
}

impl Call {
    /// The positional arguments with the differentiated ones rebuilt from `leaves`.
    fn rebuild<'py>(&self, py: Python<'py>, leaves: &[Value]) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let mut args: Vec<Bound<'py, PyAny>> =
            self.args.iter().map(|a| a.bind(py).clone()).collect();
        let mut at = 0;
        for a in &self.diff {
            args[a.pos] = a
                .tree
                .unflatten(py, leaves_to_py(py, &leaves[at..at + a.len])?)?;
            at += a.len;
        }
        Ok(args)
    }

    /// `f(output structure, residuals' structure)`.
    fn with_trees<T>(&self, f: impl FnOnce(&Node, &Node) -> PyResult<T>) -> PyResult<T> {
        let trees = self.trees.lock().unwrap_or_else(|e| e.into_inner());
        match trees.as_ref() {
            Some((ot, rt)) => f(ot, rt),
            None => Err(PyValueError::new_err(
                "custom_vjp: the forward function never ran",
            )),
        }
    }
}

/// `fwd(*args) -> (out, residuals)`, `bwd(*nondiff, residuals, ct) -> cts`.
struct VjpFns {
    call: Call,
    fwd: Py<PyAny>,
    bwd: Py<PyAny>,
}

impl VjpFns {
    fn forward_py(&self, inputs: &[Value]) -> PyResult<(Vec<Value>, Vec<Value>)> {
        Python::attach(|py| {
            let args = PyTuple::new(py, self.call.rebuild(py, inputs)?)?;
            let r = self.fwd.bind(py).call1(args)?;
            let pair = r
                .cast::<PyTuple>()
                .ok()
                .filter(|t| t.len() == 2)
                .map(|t| (t.get_item(0), t.get_item(1)));
            let Some((out, res)) = pair else {
                return Err(PyTypeError::new_err(
                    "custom_vjp: the forward function (fwd) must return a pair (output, residuals)",
                ));
            };
            let (out, res) = (out?, res?);
            let (mut ol, mut rl) = (Vec::new(), Vec::new());
            let ot = flatten(&out, None, &mut ol)?;
            let rt = flatten(&res, None, &mut rl)?;
            *self.call.trees.lock().unwrap_or_else(|e| e.into_inner()) = Some((ot, rt));
            Ok((to_values(&ol)?, to_values(&rl)?))
        })
    }

    fn backward_py(&self, residuals: &[Value], cts: &[Value]) -> PyResult<Vec<Option<Value>>> {
        Python::attach(|py| {
            let (res, ct) = self.call.with_trees(|ot, rt| {
                Ok((
                    rt.unflatten(py, leaves_to_py(py, residuals)?)?,
                    ot.unflatten(py, leaves_to_py(py, cts)?)?,
                ))
            })?;
            let mut args: Vec<Bound<'_, PyAny>> = self
                .call
                .nondiff
                .iter()
                .map(|a| a.bind(py).clone())
                .collect();
            args.push(res);
            args.push(ct);
            let r = self.bwd.bind(py).call1(PyTuple::new(py, args)?)?;
            let parts: Vec<Bound<'_, PyAny>> = match r.cast::<PyTuple>() {
                Ok(t) => t.iter().collect(),
                Err(_) => match r.cast::<PyList>() {
                    Ok(l) => l.iter().collect(),
                    Err(_) => {
                        return Err(PyTypeError::new_err(format!(
                            "custom_vjp: the backward function (bwd) must return a tuple with \
                             one cotangent per differentiated argument ({}), got {}",
                            self.call.diff.len(),
                            r.get_type().name()?
                        )))
                    }
                },
            };
            if parts.len() != self.call.diff.len() {
                return Err(PyValueError::new_err(format!(
                    "custom_vjp: the backward function (bwd) returned {} cotangents, but the \
                     function has {} differentiated arguments",
                    parts.len(),
                    self.call.diff.len()
                )));
            }
            let mut out = Vec::new();
            for (part, arg) in parts.iter().zip(&self.call.diff) {
                if part.is_none() {
                    out.extend(std::iter::repeat_n(None, arg.len));
                    continue;
                }
                // None stands for a zero cotangent, at any leaf (as JAX)
                let none_is_leaf = py.eval(c"lambda x: x is None", None, None)?;
                let mut leaves = Vec::new();
                let tree = flatten(part, Some(&none_is_leaf), &mut leaves)?;
                if !nodes_equal(&tree, &arg.tree, py)? {
                    return Err(PyValueError::new_err(format!(
                        "custom_vjp: the backward function's cotangent for argument {} has \
                         structure {}, but the argument has {}",
                        arg.pos,
                        describe(&tree, py)?,
                        describe(&arg.tree, py)?
                    )));
                }
                for l in &leaves {
                    out.push(if l.is_none() {
                        None
                    } else {
                        Some(to_value(l, None)?)
                    });
                }
            }
            Ok(out)
        })
    }
}

impl CustomVjpFns for VjpFns {
    fn forward(&self, inputs: &[Value]) -> ferrax_core::Result<(Vec<Value>, Vec<Value>)> {
        self.forward_py(inputs).map_err(external)
    }

    fn backward(
        &self,
        residuals: &[Value],
        cts: &[Value],
    ) -> ferrax_core::Result<Vec<Option<Value>>> {
        self.backward_py(residuals, cts).map_err(external)
    }
}

/// `checkpoint(fun)`: the forward pass keeps only the inputs (residuals);
/// the backward pass runs `fun` again under reverse mode.
struct CheckpointFns {
    call: Call,
}

impl CheckpointFns {
    fn primal(&self, inputs: &[Value]) -> ferrax_core::Result<ferrax_core::transforms::Outputs> {
        Python::attach(|py| -> PyResult<_> {
            let args = PyTuple::new(py, self.call.rebuild(py, inputs)?)?;
            let r = self.call.fun.bind(py).call1(args)?;
            let mut leaves = Vec::new();
            let t = flatten(&r, None, &mut leaves)?;
            *self.call.trees.lock().unwrap_or_else(|e| e.into_inner()) = Some((t, Node::leaf()));
            Ok(to_values(&leaves)?.into())
        })
        .map_err(external)
    }
}

impl CustomVjpFns for CheckpointFns {
    fn forward(&self, inputs: &[Value]) -> ferrax_core::Result<(Vec<Value>, Vec<Value>)> {
        Ok((self.primal(inputs)?.values, inputs.to_vec()))
    }

    fn backward(
        &self,
        residuals: &[Value],
        cts: &[Value],
    ) -> ferrax_core::Result<Vec<Option<Value>>> {
        let (_, pullback, _) = core::vjp(&mut |xs| self.primal(xs), residuals, true)?;
        let cts: Vec<Option<Value>> = cts.iter().cloned().map(Some).collect();
        Ok(pullback.call(&cts, true)?.into_iter().map(Some).collect())
    }

    /// Forward mode needs no saving: the JVP of the function itself; the
    /// residuals (the inputs) carry the input tangents.
    fn jvp(
        &self,
        primals: &[Value],
        tangents: &[Option<Value>],
    ) -> ferrax_core::Result<Option<(Vec<Value>, Vec<Value>)>> {
        let (_, touts, _) = core::jvp(&mut |xs| self.primal(xs), primals, tangents)?;
        let tres = tangents
            .iter()
            .zip(primals)
            .map(|(t, p)| match t {
                Some(t) => Ok(t.clone()),
                None => ferrax_core::ops::zeros(&p.shape(), p.dtype()),
            })
            .collect::<ferrax_core::Result<Vec<_>>>()?;
        Ok(Some((touts, tres)))
    }
}

/// `fun(*args)` and the rule `jvp(*nondiff, primals, tangents) -> (out, t_out)`.
struct JvpFns {
    call: Call,
    jvp: Py<PyAny>,
}

impl JvpFns {
    /// The differentiated arguments rebuilt from `leaves`, as a tuple.
    fn diff_tuple<'py>(&self, py: Python<'py>, leaves: &[Value]) -> PyResult<Bound<'py, PyTuple>> {
        let mut at = 0;
        let mut parts = Vec::with_capacity(self.call.diff.len());
        for a in &self.call.diff {
            parts.push(
                a.tree
                    .unflatten(py, leaves_to_py(py, &leaves[at..at + a.len])?)?,
            );
            at += a.len;
        }
        PyTuple::new(py, parts)
    }

    fn primal_py(&self, inputs: &[Value]) -> PyResult<Vec<Value>> {
        Python::attach(|py| {
            let args = PyTuple::new(py, self.call.rebuild(py, inputs)?)?;
            let r = self.call.fun.bind(py).call1(args)?;
            let mut leaves = Vec::new();
            let t = flatten(&r, None, &mut leaves)?;
            *self.call.trees.lock().unwrap_or_else(|e| e.into_inner()) = Some((t, Node::leaf()));
            to_values(&leaves)
        })
    }

    fn jvp_py(&self, primals: &[Value], tangents: &[Value]) -> PyResult<Vec<Value>> {
        Python::attach(|py| {
            let mut args: Vec<Bound<'_, PyAny>> = self
                .call
                .nondiff
                .iter()
                .map(|a| a.bind(py).clone())
                .collect();
            args.push(self.diff_tuple(py, primals)?.into_any());
            args.push(self.diff_tuple(py, tangents)?.into_any());
            let r = self.jvp.bind(py).call1(PyTuple::new(py, args)?)?;
            let pair = r
                .cast::<PyTuple>()
                .ok()
                .filter(|t| t.len() == 2)
                .map(|t| t.get_item(1));
            let Some(t_out) = pair else {
                return Err(PyTypeError::new_err(
                    "custom_jvp: the rule must return a pair (primal_out, tangent_out)",
                ));
            };
            let t_out = t_out?;
            let mut leaves = Vec::new();
            let tree = flatten(&t_out, None, &mut leaves)?;
            self.call.with_trees(|ot, _| {
                if nodes_equal(&tree, ot, py)? {
                    Ok(())
                } else {
                    Err(PyValueError::new_err(format!(
                        "custom_jvp: the rule's tangent output has structure {}, but the \
                         function's output has {}",
                        describe(&tree, py)?,
                        describe(ot, py)?
                    )))
                }
            })?;
            to_values(&leaves)
        })
    }
}

impl CustomJvpFns for JvpFns {
    fn primal(&self, inputs: &[Value]) -> ferrax_core::Result<Vec<Value>> {
        self.primal_py(inputs).map_err(external)
    }

    fn jvp(&self, primals: &[Value], tangents: &[Value]) -> ferrax_core::Result<Vec<Value>> {
        self.jvp_py(primals, tangents).map_err(external)
    }
}

/// `_custom_jvp_call(fun, jvp, nondiff_argnums, args)`.
#[pyfunction]
pub fn _custom_jvp_call<'py>(
    fun: &Bound<'py, PyAny>,
    jvp: &Bound<'py, PyAny>,
    nondiff_argnums: Vec<usize>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = fun.py();
    let (call, values) = prepare(fun, args, &nondiff_argnums)?;
    if !traced(&values) {
        return fun.call1(args);
    }
    let fns = Arc::new(JvpFns {
        call,
        jvp: jvp.clone().unbind(),
    });
    let outs = guard(|| core::custom_jvp_call(fns.clone(), &values))?;
    finish(py, &fns.call, outs)
}

/// The call's arguments split into differentiated leaves and the rest.
fn prepare(
    fun: &Bound<'_, PyAny>,
    args: &Bound<'_, PyTuple>,
    nondiff_argnums: &[usize],
) -> PyResult<(Call, Vec<Value>)> {
    let n = args.len();
    for &i in nondiff_argnums {
        if i >= n {
            return Err(PyValueError::new_err(format!(
                "nondiff_argnums: argument {i} does not exist (the function was called with {n} \
                 positional arguments)"
            )));
        }
    }
    let mut diff = Vec::new();
    let mut nondiff = Vec::new();
    let mut values = Vec::new();
    for (pos, a) in args.iter().enumerate() {
        if nondiff_argnums.contains(&pos) {
            nondiff.push(a.unbind());
            continue;
        }
        let mut leaves = Vec::new();
        let tree = flatten(&a, None, &mut leaves)?;
        values.extend(to_values(&leaves)?);
        diff.push(Arg {
            pos,
            len: tree.num_leaves(),
            tree,
        });
    }
    Ok((
        Call {
            fun: fun.clone().unbind(),
            args: args.iter().map(|a| a.unbind()).collect(),
            diff,
            nondiff,
            trees: Mutex::new(None),
        },
        values,
    ))
}

fn finish<'py>(py: Python<'py>, call: &Call, outs: Vec<Value>) -> PyResult<Bound<'py, PyAny>> {
    call.with_trees(|ot, _| ot.unflatten(py, leaves_to_py(py, &outs)?))
}

fn traced(values: &[Value]) -> bool {
    values.iter().any(|v| matches!(v, Value::Tracer(_)))
}

/// `_custom_vjp_call(fun, fwd, bwd, nondiff_argnums, args)`.
#[pyfunction]
pub fn _custom_vjp_call<'py>(
    fun: &Bound<'py, PyAny>,
    fwd: &Bound<'py, PyAny>,
    bwd: &Bound<'py, PyAny>,
    nondiff_argnums: Vec<usize>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = fun.py();
    let (call, values) = prepare(fun, args, &nondiff_argnums)?;
    if !traced(&values) {
        // nothing to differentiate or batch: the function itself, as JAX
        return fun.call1(args);
    }
    let fns = Arc::new(VjpFns {
        call,
        fwd: fwd.clone().unbind(),
        bwd: bwd.clone().unbind(),
    });
    let outs = guard(|| core::custom_vjp_call(fns.clone(), &values))?;
    finish(py, &fns.call, outs)
}

/// `_checkpoint_call(fun, static_argnums, args)`.
#[pyfunction]
pub fn _checkpoint_call<'py>(
    fun: &Bound<'py, PyAny>,
    static_argnums: Vec<usize>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = fun.py();
    let (call, values) = prepare(fun, args, &static_argnums)?;
    if !traced(&values) {
        return fun.call1(args);
    }
    let fns = Arc::new(CheckpointFns { call });
    let outs = guard(|| core::custom_vjp_call(fns.clone(), &values))?;
    finish(py, &fns.call, outs)
}

pub fn register_private(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_custom_vjp_call, m)?)?;
    m.add_function(wrap_pyfunction!(_checkpoint_call, m)?)?;
    m.add_function(wrap_pyfunction!(_custom_jvp_call, m)?)?;
    Ok(())
}

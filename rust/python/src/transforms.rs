//! The transforms over Python functions: each flattens the pytrees of its
//! arguments, wraps the Python function as a core [`Fun`], calls the core
//! transform once, and rebuilds the pytrees of the results. `argnums`,
//! `has_aux`, `in_axes`/`out_axes` and `chunk_size` are mapped onto the core
//! transforms here; every numeric step and every check the core can see is
//! the core's.

use std::cell::RefCell;
use std::sync::Arc;

use ferrax_core::transforms::{self as core, Outputs, VjpFn};
use ferrax_core::Value;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use crate::convert::to_value;
use crate::errors::{external, guard};
use crate::pytree::{describe, flatten, nodes_equal, Node};
use crate::tensor::{wrap, PyTensor};

// ------------------------------------------------------------ the closure ---

/// One differentiated (or mapped) positional argument: its position, its
/// structure and its leaves' range among all leaves.
struct Slot {
    pos: usize,
    tree: Node,
    start: usize,
    len: usize,
}

/// The pytrees the Python function returned, kept from its (last) call.
pub(crate) struct Returned {
    pub(crate) out: Node,
    pub(crate) aux: AuxTree,
}

/// The structure of an auxiliary output and its non-tensor leaves (the
/// tensor leaves, `None` here, travel through the core as values).
pub(crate) type AuxTree = Option<(Node, Vec<Option<Py<PyAny>>>)>;

/// A Python function as a core [`Fun`]: leaves in, the function called on
/// the rebuilt arguments, its results flattened.
pub(crate) struct PyFun<'py> {
    py: Python<'py>,
    fun: Bound<'py, PyAny>,
    args: Vec<Bound<'py, PyAny>>,
    kwargs: Option<Bound<'py, PyDict>>,
    slots: Vec<Slot>,
    has_aux: bool,
    /// A check of the output structure: grad wants one array, the Jacobians
    /// at least one.
    want: Want,
    name: &'static str,
    returned: RefCell<Option<Returned>>,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Want {
    Any,
    OneArray,
    SomeArrays,
}

/// The positional arguments at `positions` flattened: their slots and leaves.
fn slots_of<'py>(
    args: &[Bound<'py, PyAny>],
    positions: &[usize],
) -> PyResult<(Vec<Slot>, Vec<Value>)> {
    let mut slots = Vec::with_capacity(positions.len());
    let mut values = Vec::new();
    for &pos in positions {
        let mut leaves = Vec::new();
        let tree = flatten(&args[pos], None, &mut leaves)?;
        let start = values.len();
        for l in &leaves {
            values.push(to_value(l, None)?);
        }
        slots.push(Slot {
            pos,
            tree,
            start,
            len: leaves.len(),
        });
    }
    Ok((slots, values))
}

impl<'py> PyFun<'py> {
    /// `fun` called with `args` (and `kwargs`), differentiated (or mapped)
    /// in the positional arguments at `positions`; also returns their leaves.
    pub(crate) fn new(
        fun: &Bound<'py, PyAny>,
        args: Vec<Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
        positions: &[usize],
        has_aux: bool,
        want: Want,
        name: &'static str,
    ) -> PyResult<(Self, Vec<Value>)> {
        let (slots, values) = slots_of(&args, positions)?;
        let pf = PyFun {
            py: fun.py(),
            fun: fun.clone(),
            args,
            kwargs: kwargs.cloned(),
            slots,
            has_aux,
            want,
            name,
            returned: RefCell::new(None),
        };
        Ok((pf, values))
    }

    /// The arguments at the slots, rebuilt from `leaves` (tensors).
    pub(crate) fn rebuild(&self, leaves: &[Value]) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let mut args = self.args.clone();
        for s in &self.slots {
            let ls = leaves[s.start..s.start + s.len]
                .iter()
                .map(|v| Ok(wrap(self.py, v.clone())?.into_bound(self.py).into_any()))
                .collect::<PyResult<Vec<_>>>()?;
            args[s.pos] = s.tree.unflatten(self.py, ls)?;
        }
        Ok(args)
    }

    pub(crate) fn call(&self, leaves: &[Value]) -> ferrax_core::Result<Outputs> {
        self.call_py(leaves).map_err(external)
    }

    fn call_py(&self, leaves: &[Value]) -> PyResult<Outputs> {
        let py = self.py;
        let args = PyTuple::new(py, self.rebuild(leaves)?)?;
        let r = self.fun.call(args, self.kwargs.as_ref())?;
        let (out, aux) = if self.has_aux {
            let pair = r
                .cast::<PyTuple>()
                .ok()
                .filter(|t| t.len() == 2)
                .map(|t| (t.get_item(0), t.get_item(1)))
                .or_else(|| {
                    r.cast::<PyList>()
                        .ok()
                        .filter(|l| l.len() == 2)
                        .map(|l| (l.get_item(0), l.get_item(1)))
                });
            let Some((o, a)) = pair else {
                return Err(PyTypeError::new_err(format!(
                    "{} with has_aux=True needs the function to return a pair (output, aux)",
                    self.name
                )));
            };
            (o?, Some(a?))
        } else {
            (r, None)
        };
        let mut out_leaves = Vec::new();
        let out_tree = flatten(&out, None, &mut out_leaves)?;
        match self.want {
            Want::OneArray if !out_tree.is_leaf() => {
                return Err(PyTypeError::new_err(format!(
                    "{} requires a function returning one scalar array, got a {}",
                    self.name,
                    describe(&out_tree, py)?
                )))
            }
            Want::SomeArrays if out_tree.num_leaves() == 0 => {
                return Err(PyTypeError::new_err(format!(
                    "{} needs a function that returns arrays, but it returned {} (no array \
                     leaves); did the function forget to return its result?",
                    self.name,
                    describe(&out_tree, py)?
                )))
            }
            _ => {}
        }
        let values = out_leaves
            .iter()
            .map(|l| to_value(l, None))
            .collect::<PyResult<Vec<_>>>()?;
        let mut aux_values = Vec::new();
        let aux = match aux {
            None => None,
            Some(a) => {
                let mut leaves = Vec::new();
                let tree = flatten(&a, None, &mut leaves)?;
                let kept = leaves
                    .into_iter()
                    .map(|l| match l.cast::<PyTensor>() {
                        Ok(t) => {
                            aux_values.push(t.get().v.clone());
                            None
                        }
                        Err(_) => Some(l.unbind()),
                    })
                    .collect();
                Some((tree, kept))
            }
        };
        *self.returned.borrow_mut() = Some(Returned { out: out_tree, aux });
        Ok(Outputs {
            values,
            aux: aux_values,
        })
    }

    /// The structures of the last call's results.
    pub(crate) fn returned(&self) -> PyResult<Returned> {
        self.returned
            .borrow_mut()
            .take()
            .ok_or_else(|| PyValueError::new_err("the function was not called"))
    }

    /// The values grouped as the differentiated arguments: the argument
    /// itself (`single`) or a tuple of them.
    fn args_like(&self, values: &[Value], single: bool) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let parts = self
            .slots
            .iter()
            .map(|s| {
                let ls = values[s.start..s.start + s.len]
                    .iter()
                    .map(|v| Ok(wrap(py, v.clone())?.into_bound(py).into_any()))
                    .collect::<PyResult<Vec<_>>>()?;
                s.tree.unflatten(py, ls)
            })
            .collect::<PyResult<Vec<_>>>()?;
        if single {
            parts
                .into_iter()
                .next()
                .ok_or_else(|| PyValueError::new_err("no differentiated argument"))
        } else {
            Ok(PyTuple::new(py, parts)?.into_any())
        }
    }
}

/// The auxiliary pytree of a call: its non-tensor leaves as they were, its
/// tensor leaves the values the core unwrapped.
fn rebuild_aux<'py>(
    py: Python<'py>,
    aux: AuxTree,
    values: Vec<Value>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some((tree, kept)) = aux else {
        return Ok(py.None().into_bound(py));
    };
    let mut vs = values.into_iter();
    let leaves = kept
        .into_iter()
        .map(|k| match k {
            Some(o) => Ok(o.into_bound(py)),
            None => {
                let v = vs
                    .next()
                    .ok_or_else(|| PyValueError::new_err("aux values"))?;
                Ok(wrap(py, v)?.into_bound(py).into_any())
            }
        })
        .collect::<PyResult<Vec<_>>>()?;
    tree.unflatten(py, leaves)
}

fn wrap_values<'py>(py: Python<'py>, vs: Vec<Value>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    vs.into_iter()
        .map(|v| Ok(wrap(py, v)?.into_bound(py).into_any()))
        .collect()
}

/// `argnums` as the caller gave it: one int, or a sequence of them.
enum Argnums {
    One(i64),
    Many(Vec<i64>),
}

impl Argnums {
    fn parse(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Argnums> {
        let bad = || {
            PyTypeError::new_err(format!(
                "{name}: argnums must be an int or a sequence of ints, got {}",
                obj.repr().map(|r| r.to_string()).unwrap_or_default()
            ))
        };
        if obj.is_instance_of::<pyo3::types::PyBool>() {
            return Err(bad());
        }
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Argnums::One(i));
        }
        let items: Vec<Bound<'_, PyAny>> = obj
            .try_iter()
            .map_err(|_| bad())?
            .collect::<PyResult<_>>()?;
        items
            .iter()
            .map(|i| {
                if i.is_instance_of::<pyo3::types::PyBool>() {
                    Err(bad())
                } else {
                    i.extract::<i64>().map_err(|_| bad())
                }
            })
            .collect::<PyResult<Vec<_>>>()
            .map(Argnums::Many)
    }

    fn list(&self) -> Vec<i64> {
        match self {
            Argnums::One(i) => vec![*i],
            Argnums::Many(v) => v.clone(),
        }
    }

    /// As the caller wrote it: an int or a tuple of ints.
    fn to_object<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Argnums::One(i) => Ok(i.into_pyobject(py)?.into_any()),
            Argnums::Many(v) => Ok(PyTuple::new(py, v)?.into_any()),
        }
    }
}

/// `(type(obj), constructor arguments, obj.__dict__)`: how a transformed
/// function pickles (its `__dict__` holds the name, docstring and
/// `__wrapped__` the façade gave it), so that it can travel to a worker.
fn reduce_transformed<'py>(
    obj: &Bound<'py, PyAny>,
    ctor_args: Vec<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = obj.py();
    let state = obj.getattr("__dict__")?;
    PyTuple::new(
        py,
        [
            obj.get_type().into_any(),
            PyTuple::new(py, ctor_args)?.into_any(),
            state,
        ],
    )
}

/// `(*parts, aux)` when the function has an auxiliary output, else `parts`.
pub(crate) fn with_aux<'py>(
    py: Python<'py>,
    mut parts: Vec<Bound<'py, PyAny>>,
    aux: Option<(AuxTree, Vec<Value>)>,
) -> PyResult<Bound<'py, PyTuple>> {
    if let Some((tree, values)) = aux {
        parts.push(rebuild_aux(py, tree, values)?);
    }
    PyTuple::new(py, parts)
}

pub(crate) fn positional<'py>(args: &Bound<'py, PyTuple>) -> Vec<Bound<'py, PyAny>> {
    args.iter().collect()
}

// ------------------------------------------------------------------ grad ---

/// The function `grad` / `value_and_grad` return.
#[pyclass(name = "GradFunction", module = "ferrax", frozen, dict)]
pub struct GradFn {
    fun: Py<PyAny>,
    argnums: Argnums,
    create_graph: bool,
    has_aux: bool,
    with_value: bool,
    name: &'static str,
}

#[pymethods]
impl GradFn {
    #[new]
    #[pyo3(signature = (fun, argnums, create_graph, has_aux, with_value))]
    fn new(
        fun: Py<PyAny>,
        argnums: &Bound<'_, PyAny>,
        create_graph: bool,
        has_aux: bool,
        with_value: bool,
    ) -> PyResult<Self> {
        let name = if with_value { "value_and_grad" } else { "grad" };
        Ok(GradFn {
            argnums: Argnums::parse(argnums, name)?,
            fun,
            create_graph,
            has_aux,
            with_value,
            name,
        })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.get();
        reduce_transformed(
            slf.as_any(),
            vec![
                me.fun.bind(py).clone(),
                me.argnums.to_object(py)?,
                me.create_graph.into_pyobject(py)?.to_owned().into_any(),
                me.has_aux.into_pyobject(py)?.to_owned().into_any(),
                me.with_value.into_pyobject(py)?.to_owned().into_any(),
            ],
        )
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = args.py();
        let args = positional(args);
        let positions =
            guard(|| core::resolve_argnums(&self.argnums.list(), args.len(), self.name))?;
        let (pf, values) = PyFun::new(
            self.fun.bind(py),
            args,
            kwargs,
            &positions,
            self.has_aux,
            Want::OneArray,
            self.name,
        )?;
        let wrt: Vec<usize> = (0..values.len()).collect();
        let (value, grads, aux) = guard(|| {
            core::value_and_grad(&mut |xs| pf.call(xs), &values, &wrt, self.create_graph)
        })?;
        let single = matches!(self.argnums, Argnums::One(_));
        let g = pf.args_like(&grads, single)?;
        let returned = pf.returned()?;
        // grad discards the value: no Python object is made for it
        let value = move || Ok::<_, PyErr>(wrap(py, value)?.into_bound(py).into_any());
        let out = if self.has_aux {
            let aux = rebuild_aux(py, returned.aux, aux)?;
            if self.with_value {
                PyTuple::new(py, [PyTuple::new(py, [value()?, aux])?.into_any(), g])?
            } else {
                PyTuple::new(py, [g, aux])?
            }
            .into_any()
        } else if self.with_value {
            PyTuple::new(py, [value()?, g])?.into_any()
        } else {
            g
        };
        Ok(out)
    }
}

// ------------------------------------------------------------------- vjp ---

/// The pullback `vjp` returns: call it with a cotangent shaped like the output.
#[pyclass(name = "VjpFunction", module = "ferrax", frozen)]
pub struct PyVjpFn {
    inner: VjpFn,
    out_tree: Arc<Node>,
    in_trees: Vec<(Node, usize)>,
    create_graph: bool,
}

#[pymethods]
impl PyVjpFn {
    /// The cotangents of the primals (a tuple, one per primal) for the
    /// cotangent `ct` of the output (same structure, shapes and dtypes).
    fn __call__<'py>(&self, ct: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyTuple>> {
        let py = ct.py();
        let mut leaves = Vec::new();
        let tree = flatten(ct, None, &mut leaves)?;
        if !tree_eq(&tree, &self.out_tree, py)? {
            return Err(PyValueError::new_err(format!(
                "vjp: the cotangent has structure {} but the output has {}",
                describe(&tree, py)?,
                describe(&self.out_tree, py)?
            )));
        }
        let cts = leaves
            .iter()
            .zip(self.inner.output_avals())
            .map(|(l, a)| Ok(Some(to_value(l, Some(a.dtype))?)))
            .collect::<PyResult<Vec<_>>>()?;
        // the backward pass runs kernels only: other Python threads run meanwhile
        let g = if self.inner.work() >= crate::tensor::GIL_FREE_SIZE {
            crate::interrupt::detached(py, || self.inner.call(&cts, self.create_graph))?
        } else {
            guard(|| self.inner.call(&cts, self.create_graph))?
        };
        let mut vs = wrap_values(py, g)?.into_iter();
        let parts = self
            .in_trees
            .iter()
            .map(|(t, n)| t.unflatten(py, vs.by_ref().take(*n)))
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, parts)
    }
}

fn tree_eq(a: &Node, b: &Node, py: Python<'_>) -> PyResult<bool> {
    nodes_equal(a, b, py)
}

/// `vjp(fn, *primals, has_aux=False, create_graph=True)`.
#[pyfunction]
#[pyo3(signature = (fun, *primals, has_aux=false, create_graph=true))]
pub fn vjp<'py>(
    fun: &Bound<'py, PyAny>,
    primals: &Bound<'py, PyTuple>,
    has_aux: bool,
    create_graph: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = fun.py();
    let args = positional(primals);
    let every: Vec<usize> = (0..args.len()).collect();
    let (pf, values) = PyFun::new(fun, args, None, &every, has_aux, Want::Any, "vjp")?;
    let (outs, pullback, aux) = guard(|| core::vjp(&mut |xs| pf.call(xs), &values, create_graph))?;
    let returned = pf.returned()?;
    let out = returned.out.unflatten(py, wrap_values(py, outs)?)?;
    let in_trees = pf.slots.into_iter().map(|s| (s.tree, s.len)).collect();
    let f = Bound::new(
        py,
        PyVjpFn {
            inner: pullback,
            out_tree: Arc::new(returned.out),
            in_trees,
            create_graph,
        },
    )?
    .into_any();
    with_aux(py, vec![out, f], has_aux.then_some((returned.aux, aux)))
}

// ------------------------------------------------------------- linearize ---

/// The linear function `linearize` returns: `f_jvp(*tangents)`, one tangent
/// per primal (same structures, shapes and dtypes), without calling the
/// function again.
#[pyclass(name = "LinearizedFunction", module = "ferrax", frozen)]
pub struct PyLinearFn {
    inner: VjpFn,
    out_tree: Arc<Node>,
    in_trees: Vec<(Node, usize)>,
}

#[pymethods]
impl PyLinearFn {
    #[pyo3(signature = (*tangents))]
    fn __call__<'py>(&self, tangents: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        let py = tangents.py();
        if tangents.len() != self.in_trees.len() {
            return Err(PyTypeError::new_err(format!(
                "linearized function takes {} tangents (one per primal), got {}",
                self.in_trees.len(),
                tangents.len()
            )));
        }
        let mut leaves = Vec::new();
        for (i, (t, (tree, _))) in tangents.iter().zip(&self.in_trees).enumerate() {
            let got = flatten(&t, None, &mut leaves)?;
            if !tree_eq(&got, tree, py)? {
                return Err(PyValueError::new_err(format!(
                    "linearized function: tangent {i} has structure {} but its primal has {}",
                    describe(&got, py)?,
                    describe(tree, py)?
                )));
            }
        }
        let ts = leaves
            .iter()
            .zip(self.inner.input_avals())
            .map(|(l, a)| Ok(Some(to_value(l, Some(a.dtype))?)))
            .collect::<PyResult<Vec<_>>>()?;
        let out = if self.inner.work() >= crate::tensor::GIL_FREE_SIZE {
            crate::interrupt::detached(py, || self.inner.push_forward(&ts))?
        } else {
            guard(|| self.inner.push_forward(&ts))?
        };
        self.out_tree.unflatten(py, wrap_values(py, out)?)
    }
}

/// `linearize(fn, *primals, has_aux=False)`: `(out, f_jvp)`.
#[pyfunction]
#[pyo3(signature = (fun, *primals, has_aux=false))]
pub fn linearize<'py>(
    fun: &Bound<'py, PyAny>,
    primals: &Bound<'py, PyTuple>,
    has_aux: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = fun.py();
    let args = positional(primals);
    let every: Vec<usize> = (0..args.len()).collect();
    let (pf, values) = PyFun::new(fun, args, None, &every, has_aux, Want::Any, "linearize")?;
    let (outs, lin, aux) = guard(|| core::linearize(&mut |xs| pf.call(xs), &values))?;
    let returned = pf.returned()?;
    let out = returned.out.unflatten(py, wrap_values(py, outs)?)?;
    let in_trees = pf.slots.into_iter().map(|s| (s.tree, s.len)).collect();
    let f = Bound::new(
        py,
        PyLinearFn {
            inner: lin,
            out_tree: Arc::new(returned.out),
            in_trees,
        },
    )?
    .into_any();
    with_aux(py, vec![out, f], has_aux.then_some((returned.aux, aux)))
}

/// `linear_transpose(fn, *primals)`: the transpose of a linear `fn`.
#[pyfunction]
#[pyo3(signature = (fun, *primals))]
pub fn linear_transpose<'py>(
    fun: &Bound<'py, PyAny>,
    primals: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = fun.py();
    let args = positional(primals);
    let every: Vec<usize> = (0..args.len()).collect();
    let (pf, values) = PyFun::new(
        fun,
        args,
        None,
        &every,
        false,
        Want::Any,
        "linear_transpose",
    )?;
    let lin = guard(|| core::linear_transpose(&mut |xs| pf.call(xs), &values))?;
    let returned = pf.returned()?;
    let in_trees = pf.slots.into_iter().map(|s| (s.tree, s.len)).collect();
    Ok(Bound::new(
        py,
        PyVjpFn {
            inner: lin,
            out_tree: Arc::new(returned.out),
            in_trees,
            create_graph: true,
        },
    )?
    .into_any())
}

// ------------------------------------------------------------------- jvp ---

/// `jvp(fn, primals, tangents, *, has_aux=False, create_graph=True)`.
#[pyfunction]
#[pyo3(signature = (fun, primals, tangents, *, has_aux=false, create_graph=true))]
pub fn jvp<'py>(
    fun: &Bound<'py, PyAny>,
    primals: &Bound<'py, PyAny>,
    tangents: &Bound<'py, PyAny>,
    has_aux: bool,
    create_graph: bool,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = fun.py();
    let is_seq =
        |o: &Bound<'py, PyAny>| o.is_instance_of::<PyTuple>() || o.is_instance_of::<PyList>();
    if !is_seq(primals) || !is_seq(tangents) {
        return Err(PyTypeError::new_err(
            "jvp: primals and tangents must be tuples (or lists)",
        ));
    }
    let args: Vec<Bound<'py, PyAny>> = primals.try_iter()?.collect::<PyResult<_>>()?;
    let tans: Vec<Bound<'py, PyAny>> = tangents.try_iter()?.collect::<PyResult<_>>()?;
    let p_tuple = PyTuple::new(py, &args)?;
    let t_tuple = PyTuple::new(py, &tans)?;
    let (mut pl, mut tl) = (Vec::new(), Vec::new());
    let pt = flatten(p_tuple.as_any(), None, &mut pl)?;
    let tt = flatten(t_tuple.as_any(), None, &mut tl)?;
    if !tree_eq(&pt, &tt, py)? {
        return Err(PyValueError::new_err(format!(
            "jvp: primals have structure {} but tangents have structure {}",
            describe(&pt, py)?,
            describe(&tt, py)?
        )));
    }
    let every: Vec<usize> = (0..args.len()).collect();
    let (pf, values) = PyFun::new(fun, args, None, &every, has_aux, Want::Any, "jvp")?;
    let tangent_values = tl
        .iter()
        .zip(&values)
        .map(|(t, p)| Ok(Some(to_value(t, Some(p.dtype()))?)))
        .collect::<PyResult<Vec<_>>>()?;
    let (outs, touts, aux) = guard(|| core::jvp(&mut |xs| pf.call(xs), &values, &tangent_values))?;
    let (outs, touts) = if create_graph {
        (outs, touts)
    } else {
        let stop = |vs: Vec<Value>| -> PyResult<Vec<Value>> {
            guard(|| vs.iter().map(ferrax_core::trace::stop_gradient).collect())
        };
        (stop(outs)?, stop(touts)?)
    };
    let returned = pf.returned()?;
    let out = returned.out.unflatten(py, wrap_values(py, outs)?)?;
    let tan = returned.out.unflatten(py, wrap_values(py, touts)?)?;
    with_aux(py, vec![out, tan], has_aux.then_some((returned.aux, aux)))
}

// ------------------------------------------------------------------ vmap ---

/// `in_axes` / `out_axes` (a prefix of the values' pytree: ints, None, or
/// containers of those) expanded to one entry per leaf of `tree`.
fn axes_per_leaf(
    prefix: &Bound<'_, PyAny>,
    tree: &Bound<'_, PyAny>,
    what: &str,
    out: &mut Vec<Option<i64>>,
) -> PyResult<()> {
    if prefix.is_none() || prefix.is_instance_of::<pyo3::types::PyInt>() {
        let ax: Option<i64> = prefix.extract()?;
        let mut leaves = Vec::new();
        flatten(tree, None, &mut leaves)?;
        out.extend(std::iter::repeat_n(ax, leaves.len()));
        return Ok(());
    }
    let seq = |o: &Bound<'_, PyAny>| o.is_instance_of::<PyTuple>() || o.is_instance_of::<PyList>();
    if seq(prefix) && seq(tree) {
        let (p, t): (Vec<_>, Vec<_>) = (
            prefix.try_iter()?.collect::<PyResult<_>>()?,
            tree.try_iter()?.collect::<PyResult<_>>()?,
        );
        if p.len() != t.len() {
            return Err(PyValueError::new_err(format!(
                "vmap {what} {} has {} entries but there are {} values to map",
                prefix.repr()?,
                p.len(),
                t.len()
            )));
        }
        for (pp, tt) in p.iter().zip(&t) {
            axes_per_leaf(pp, tt, what, out)?;
        }
        return Ok(());
    }
    if let (Ok(p), Ok(t)) = (prefix.cast::<PyDict>(), tree.cast::<PyDict>()) {
        let sorted = prefix.py().import("builtins")?.getattr("sorted")?;
        let (pk, tk) = (sorted.call1((p,))?, sorted.call1((t,))?);
        if !pk.eq(&tk)? {
            return Err(PyValueError::new_err(format!(
                "vmap {what} keys {} do not match {}",
                pk.repr()?,
                tk.repr()?
            )));
        }
        for k in tk.try_iter()? {
            let k = k?;
            let (pv, tv) = (p.get_item(&k)?, t.get_item(&k)?);
            if let (Some(pv), Some(tv)) = (pv, tv) {
                axes_per_leaf(&pv, &tv, what, out)?;
            }
        }
        return Ok(());
    }
    Err(PyValueError::new_err(format!(
        "vmap {what} {} does not match the structure of the values {}",
        prefix.repr()?,
        tree.repr()?
    )))
}

/// The function `vmap` returns.
#[pyclass(name = "VmapFunction", module = "ferrax", frozen, dict)]
pub struct VmapFn {
    fun: Py<PyAny>,
    in_axes: Py<PyAny>,
    out_axes: Py<PyAny>,
    axis_size: Option<i64>,
    chunk: Option<usize>,
}

/// A dask array among the arguments (each top-level tensor costs one type
/// check; other arguments are flattened).
fn has_dask_leaf(args: &Bound<'_, PyTuple>) -> PyResult<bool> {
    let is_dask = |l: &Bound<'_, PyAny>| -> PyResult<bool> {
        Ok(!l.is_instance_of::<PyTensor>()
            && l.get_type().module()?.to_str()?.starts_with("dask.array"))
    };
    for a in args.iter() {
        if a.is_instance_of::<PyTensor>() {
            continue;
        }
        let mut leaves = Vec::new();
        flatten(&a, None, &mut leaves)?;
        for l in &leaves {
            if is_dask(l)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// A vmap call made ready: the mapped function over the leaves of all
/// positional arguments, those leaves, their normalised mapped axes and the
/// batch size.
struct MapCall<'py> {
    pf: PyFun<'py>,
    values: Vec<Value>,
    axes: Vec<Option<usize>>,
    size: usize,
}

impl VmapFn {
    fn prepare<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<MapCall<'py>> {
        let py = args.py();
        let in_axes = self.in_axes.bind(py);
        let mut axes = Vec::new();
        if let Ok(spec) = in_axes.cast::<PyTuple>() {
            if spec.len() != args.len() {
                return Err(PyValueError::new_err(format!(
                    "vmap in_axes {} has {} entries but the function was called with {} \
                     positional arguments",
                    in_axes.repr()?,
                    spec.len(),
                    args.len()
                )));
            }
            axes_per_leaf(spec.as_any(), args.as_any(), "in_axes", &mut axes)?;
        } else {
            for a in args.iter() {
                axes_per_leaf(in_axes, &a, "in_axes", &mut axes)?;
            }
        }
        let args_v = positional(args);
        let positions: Vec<usize> = (0..args_v.len()).collect();
        let (pf, values) = PyFun::new(
            self.fun.bind(py),
            args_v,
            kwargs,
            &positions,
            false,
            Want::Any,
            "vmap",
        )?;
        let (axes, size) = guard(|| core::batch_size(&values, &axes, self.axis_size))?;
        Ok(MapCall {
            pf,
            values,
            axes,
            size,
        })
    }

    /// `out_axes` per leaf of the structure the function returned.
    fn out_axes_for(&self, out: &Node, py: Python<'_>) -> PyResult<Vec<Option<i64>>> {
        // out_axes is a prefix of the output's structure
        let zeros: Vec<Bound<'_, PyAny>> = (0..out.num_leaves())
            .map(|_| pyo3::types::PyInt::new(py, 0).into_any())
            .collect();
        let structure = out.unflatten(py, zeros)?;
        let mut out_axes = Vec::new();
        axes_per_leaf(
            self.out_axes.bind(py),
            &structure,
            "out_axes",
            &mut out_axes,
        )?;
        Ok(out_axes)
    }

    /// One chunk of the batch mapped: its outputs, batch axes placed, and
    /// the structure they came in.
    fn map_chunk(
        &self,
        pf: &PyFun<'_>,
        values: &[Value],
        axes: &[Option<usize>],
        count: usize,
    ) -> PyResult<(Vec<Value>, Returned, Vec<Option<i64>>)> {
        let (outs, _) = guard(|| core::vmap(&mut |xs| pf.call(xs), values, axes, count))?;
        let returned = pf.returned()?;
        let out_axes = self.out_axes_for(&returned.out, pf.py)?;
        let placed = guard(|| {
            outs.into_iter()
                .zip(&out_axes)
                .map(|((v, b), ax)| core::place_batch_axis(v, b, count, *ax))
                .collect::<ferrax_core::Result<Vec<_>>>()
        })?;
        Ok((placed, returned, out_axes))
    }
}

#[pymethods]
impl VmapFn {
    #[new]
    #[pyo3(signature = (fun, in_axes, out_axes, axis_size, chunk_size=None))]
    fn new(
        fun: Py<PyAny>,
        in_axes: &Bound<'_, PyAny>,
        out_axes: Py<PyAny>,
        axis_size: Option<&Bound<'_, PyAny>>,
        chunk_size: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let py = in_axes.py();
        let axis_size = match axis_size.filter(|a| !a.is_none()) {
            None => None,
            Some(a) => Some(
                a.extract::<i64>()
                    .ok()
                    .filter(|_| !a.is_instance_of::<pyo3::types::PyBool>())
                    .ok_or_else(|| {
                        PyValueError::new_err(format!(
                            "vmap axis_size must be a non-negative int, got {}",
                            a.repr().map(|r| r.to_string()).unwrap_or_default()
                        ))
                    })?,
            ),
        };
        let in_axes = if in_axes.is_instance_of::<PyList>() {
            PyTuple::new(
                in_axes.py(),
                in_axes.try_iter()?.collect::<PyResult<Vec<_>>>()?,
            )?
            .into_any()
            .unbind()
        } else {
            in_axes.clone().unbind()
        };
        let ok = {
            let a = in_axes.bind(py);
            a.is_none()
                || a.is_instance_of::<pyo3::types::PyInt>()
                || a.is_instance_of::<PyTuple>()
                || a.is_instance_of::<PyDict>()
        };
        if !ok {
            return Err(PyValueError::new_err(format!(
                "vmap in_axes must be an int, None or a tuple, got {}",
                in_axes.bind(py).repr()?
            )));
        }
        let chunk = parse_chunk_size(chunk_size, "vmap")?;
        Ok(VmapFn {
            fun,
            in_axes,
            out_axes,
            axis_size,
            chunk,
        })
    }

    /// The mapped function, its `in_axes`, `out_axes` and `chunk_size`, as
    /// given (for the façade's distributed and dask evaluation).
    #[getter]
    fn _spec<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(
            py,
            [
                self.fun.bind(py).clone(),
                self.in_axes.bind(py).clone(),
                self.out_axes.bind(py).clone(),
                self.chunk.into_pyobject(py)?.into_any(),
            ],
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.get();
        reduce_transformed(
            slf.as_any(),
            vec![
                me.fun.bind(py).clone(),
                me.in_axes.bind(py).clone(),
                me.out_axes.bind(py).clone(),
                me.axis_size.into_pyobject(py)?.into_any(),
                me.chunk.into_pyobject(py)?.into_any(),
            ],
        )
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = args.py();
        if has_dask_leaf(args)? {
            // a lazy dask array back, one task per chunk of the mapped axis
            return py
                .import("ferrax._distributed")?
                .getattr("vmap_dask")?
                .call1((slf, args, kwargs));
        }
        let me = slf.get();
        let MapCall {
            pf,
            values,
            axes: norm,
            size,
        } = me.prepare(args, kwargs)?;
        let chunks = core::batch_chunks(size, me.chunk);
        if chunks.len() == 1 {
            let (placed, returned, _) = me.map_chunk(&pf, &values, &norm, size)?;
            return returned.out.unflatten(py, wrap_values(py, placed)?);
        }
        let mut parts = Vec::with_capacity(chunks.len());
        let mut first: Option<(Returned, Vec<Option<i64>>)> = None;
        for (start, count) in chunks {
            let sliced = guard(|| core::batch_slice(&values, &norm, start, count))?;
            let (placed, returned, out_axes) = me.map_chunk(&pf, &sliced, &norm, count)?;
            match &first {
                None => first = Some((returned, out_axes)),
                Some((r, _)) => same_structure(&r.out, &returned.out, py)?,
            }
            parts.push(placed);
        }
        let Some((returned, out_axes)) = first else {
            return Err(PyValueError::new_err("vmap: no chunk"));
        };
        let joined = guard(|| core::join_batches(parts, &out_axes))?;
        returned.out.unflatten(py, wrap_values(py, joined)?)
    }

    /// The arguments of each chunk of the batch, for the chunks to be
    /// mapped elsewhere: a list of `(count, args)`, `args` the positional
    /// arguments with each mapped leaf sliced (a view). Without
    /// `chunk_size`, the batch is split for `workers`.
    #[pyo3(signature = (workers, *args))]
    fn _split<'py>(
        &self,
        workers: usize,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Vec<(usize, Bound<'py, PyAny>)>> {
        let py = args.py();
        let MapCall {
            pf,
            values,
            axes: norm,
            size,
        } = self.prepare(args, None)?;
        let chunk = self
            .chunk
            .unwrap_or_else(|| core::chunk_for_workers(size, workers));
        core::batch_chunks(size, Some(chunk))
            .into_iter()
            .map(|(start, count)| {
                let sliced = guard(|| core::batch_slice(&values, &norm, start, count))?;
                Ok((count, PyTuple::new(py, pf.rebuild(&sliced)?)?.into_any()))
            })
            .collect()
    }

    /// The batch axis of each leaf of `out` (an output of this function),
    /// from the end resolved (None: not mapped).
    fn _leaf_out_axes(&self, out: &Bound<'_, PyAny>) -> PyResult<Vec<Option<i64>>> {
        let py = out.py();
        let mut leaves = Vec::new();
        let tree = flatten(out, None, &mut leaves)?;
        let axes = self.out_axes_for(&tree, py)?;
        leaves
            .iter()
            .zip(axes)
            .map(|(l, ax)| {
                let nd = to_value(l, None)?.ndim() as i64;
                Ok(ax.map(|a| if a < 0 { a + nd } else { a }))
            })
            .collect()
    }

    /// The results of the chunks `_split` made (each this function applied
    /// to its chunk), joined along their `out_axes` into the result of the
    /// whole batch.
    fn _join<'py>(&self, parts: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let py = parts.py();
        let mut joined_parts = Vec::new();
        let mut first: Option<(Node, Vec<Option<i64>>)> = None;
        for part in parts.try_iter()? {
            let mut leaves = Vec::new();
            let tree = flatten(&part?, None, &mut leaves)?;
            let values = leaves
                .iter()
                .map(|l| to_value(l, None))
                .collect::<PyResult<Vec<_>>>()?;
            match &first {
                None => {
                    let out_axes = self.out_axes_for(&tree, py)?;
                    first = Some((tree, out_axes));
                }
                Some((t, _)) => same_structure(t, &tree, py)?,
            }
            joined_parts.push(values);
        }
        let Some((tree, out_axes)) = first else {
            return Err(PyValueError::new_err("vmap: no chunk results to join"));
        };
        let joined = guard(|| core::join_batches(joined_parts, &out_axes))?;
        tree.unflatten(py, wrap_values(py, joined)?)
    }
}

/// Every chunk of a vmap must return the structure the first returned.
fn same_structure(first: &Node, other: &Node, py: Python<'_>) -> PyResult<()> {
    if nodes_equal(first, other, py)? {
        return Ok(());
    }
    Err(PyValueError::new_err(format!(
        "vmap: the chunks of the batch returned different structures ({} and {})",
        describe(first, py)?,
        describe(other, py)?
    )))
}

// ------------------------------------------------------------- jacobians ---

/// The function `jacrev`, `jacfwd` and `hessian` return.
#[pyclass(name = "JacobianFunction", module = "ferrax", frozen, dict)]
pub struct JacFn {
    fun: Py<PyAny>,
    mode: core::JacobianMode,
    argnums: Option<Argnums>,
    has_aux: bool,
    chunk: Option<usize>,
}

/// Where the chunks of a Jacobian are computed: here, or by a Python
/// callable given the plan (`fx.jacrev(..., executor=)`: the façade ships
/// each chunk to an executor) and the number of workers it has.
enum ChunksBy<'a, 'py> {
    Here,
    Runner(&'a Bound<'py, PyAny>, usize),
}

impl JacFn {
    /// The differentiated function over the leaves of the arguments at
    /// `argnums`, those leaves, and whether the result is for one argument.
    fn prepare<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<(PyFun<'py>, Vec<Value>, bool)> {
        let py = args.py();
        let name = self.mode.name();
        let args = positional(args);
        let (positions, single) = match &self.argnums {
            None => ((0..args.len()).collect::<Vec<_>>(), args.len() == 1),
            Some(a) => (
                guard(|| core::resolve_argnums(&a.list(), args.len(), name))?,
                matches!(a, Argnums::One(_)),
            ),
        };
        let (pf, values) = PyFun::new(
            self.fun.bind(py),
            args,
            kwargs,
            &positions,
            self.has_aux,
            Want::SomeArrays,
            name,
        )?;
        Ok((pf, values, single))
    }

    fn evaluate<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
        by: ChunksBy<'_, 'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = args.py();
        let (pf, values, single) = self.prepare(args, kwargs)?;
        let wrt: Vec<usize> = (0..values.len()).collect();
        let mut f = |xs: &[Value]| pf.call(xs);
        let (blocks, aux) = match by {
            ChunksBy::Here => guard(|| match self.mode {
                core::JacobianMode::Rev => core::jacrev(&mut f, &values, &wrt, self.chunk),
                core::JacobianMode::Fwd => core::jacfwd(&mut f, &values, &wrt, self.chunk),
                core::JacobianMode::Hessian => core::hessian(&mut f, &values, &wrt, self.chunk),
            })?,
            ChunksBy::Runner(run, workers) => {
                let mut run_plan =
                    |plan: &[core::BasisChunk]| run_chunks(run, plan).map_err(external);
                guard(|| {
                    core::jacobian_by_chunks(
                        self.mode,
                        &mut f,
                        &values,
                        &wrt,
                        self.chunk,
                        workers,
                        &mut run_plan,
                    )
                })?
            }
        };
        let returned = pf.returned()?;
        let n_in = values.len();
        // rows over the outputs; each row holds one block per input leaf (a
        // Hessian: per input leaf, another row over the input leaves)
        let rows = blocks
            .into_iter()
            .map(|row| pf.args_like(&row, single))
            .collect::<PyResult<Vec<_>>>()?;
        let rows = if self.mode == core::JacobianMode::Hessian {
            let mut out = Vec::new();
            let mut it = rows.into_iter();
            for _ in 0..returned.out.num_leaves() {
                let inner: Vec<Bound<'py, PyAny>> = it.by_ref().take(n_in).collect();
                out.push(slot_group(&pf, inner, single)?);
            }
            out
        } else {
            rows
        };
        let result = returned.out.unflatten(py, rows)?;
        if self.has_aux {
            Ok(with_aux(py, vec![result], Some((returned.aux, aux)))?.into_any())
        } else {
            Ok(result)
        }
    }
}

/// `run(plan)`: the plan as a list of `(leaf, start, count)`, each chunk's
/// pieces back as a list of tensors.
fn run_chunks(run: &Bound<'_, PyAny>, plan: &[core::BasisChunk]) -> PyResult<Vec<Vec<Value>>> {
    let py = run.py();
    let items = PyList::new(py, plan.iter().map(|c| (c.leaf, c.start, c.count)))?;
    run.call1((items,))?
        .try_iter()?
        .map(|pieces| {
            pieces?
                .try_iter()?
                .map(|t| to_value(&t?, None))
                .collect::<PyResult<Vec<_>>>()
        })
        .collect()
}

#[pymethods]
impl JacFn {
    #[new]
    #[pyo3(signature = (fun, mode, argnums, has_aux, chunk_size))]
    fn new(
        fun: Py<PyAny>,
        mode: &str,
        argnums: Option<&Bound<'_, PyAny>>,
        has_aux: bool,
        chunk_size: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mode = match mode {
            "jacrev" => core::JacobianMode::Rev,
            "jacfwd" => core::JacobianMode::Fwd,
            "hessian" => core::JacobianMode::Hessian,
            m => {
                return Err(PyValueError::new_err(format!(
                    "unknown Jacobian mode {m:?}"
                )))
            }
        };
        let name = mode.name();
        let argnums = argnums
            .filter(|a| !a.is_none())
            .map(|a| Argnums::parse(a, name))
            .transpose()?;
        let chunk = parse_chunk_size(chunk_size, name)?;
        Ok(JacFn {
            fun,
            mode,
            argnums,
            has_aux,
            chunk,
        })
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.evaluate(args, kwargs, ChunksBy::Here)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.get();
        let argnums = match &me.argnums {
            None => py.None().into_bound(py),
            Some(a) => a.to_object(py)?,
        };
        reduce_transformed(
            slf.as_any(),
            vec![
                me.fun.bind(py).clone(),
                me.mode.name().into_pyobject(py)?.into_any(),
                argnums,
                me.has_aux.into_pyobject(py)?.to_owned().into_any(),
                me.chunk.into_pyobject(py)?.into_any(),
            ],
        )
    }

    /// The Jacobian, its chunks computed by `run`: `run(plan)` gets the
    /// chunks as `(leaf, start, count)` and returns, in the same order, what
    /// `_chunk` returns for each. Without `chunk_size`, the basis is split
    /// for `workers`. The function is evaluated here once (output shapes,
    /// aux).
    #[pyo3(signature = (run, workers, *args, **kwargs))]
    fn _call_by_chunks<'py>(
        &self,
        run: &Bound<'py, PyAny>,
        workers: usize,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.evaluate(args, kwargs, ChunksBy::Runner(run, workers))
    }

    /// One chunk of the Jacobian (a task of `_call_by_chunks`, run wherever
    /// the executor runs it): its pieces, a list of tensors.
    #[pyo3(signature = (chunk, *args, **kwargs))]
    fn _chunk<'py>(
        &self,
        chunk: (usize, usize, usize),
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let py = args.py();
        let (pf, values, _) = self.prepare(args, kwargs)?;
        let wrt: Vec<usize> = (0..values.len()).collect();
        let (leaf, start, count) = chunk;
        let c = core::BasisChunk { leaf, start, count };
        let pieces =
            guard(|| core::jacobian_chunk(self.mode, &mut |xs| pf.call(xs), &values, &wrt, c))?;
        wrap_values(py, pieces)
    }
}

/// `chunk_size` as given: None, or a positive int (anything else refused
/// with the core's message).
fn parse_chunk_size(chunk_size: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<usize>> {
    match chunk_size.filter(|c| !c.is_none()) {
        None => Ok(None),
        Some(c) => {
            // not an int (a float, a bool, a string): refused with the core's message
            let as_int = c
                .extract::<i64>()
                .ok()
                .filter(|_| c.is_instance_of::<pyo3::types::PyInt>())
                .filter(|_| !c.is_instance_of::<pyo3::types::PyBool>());
            let given = c.repr()?.to_string();
            guard(|| core::check_chunk_size(Some(as_int.unwrap_or(0)), &given, name))
        }
    }
}

/// Python objects, one per input leaf, grouped as the differentiated arguments.
fn slot_group<'py>(
    pf: &PyFun<'py>,
    items: Vec<Bound<'py, PyAny>>,
    single: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let mut it = items.into_iter();
    let parts = pf
        .slots
        .iter()
        .map(|s| s.tree.unflatten(pf.py, it.by_ref().take(s.len)))
        .collect::<PyResult<Vec<_>>>()?;
    if single {
        parts
            .into_iter()
            .next()
            .ok_or_else(|| PyValueError::new_err("no differentiated argument"))
    } else {
        Ok(PyTuple::new(pf.py, parts)?.into_any())
    }
}

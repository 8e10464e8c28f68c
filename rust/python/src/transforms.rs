//! The three core transforms over Python callables. Pytrees, argnums, has_aux,
//! jacobians and hessians are composed on top of these in `ferrax/_transforms.py`.
//!
//! Protocol: the Python callable receives a list of tensors and returns
//! `(outputs, aux)`, two lists. Tensor entries of `aux` are unwrapped from the
//! transform's level (they are returned as values, not differentiated).

use std::cell::RefCell;

use ferrax_core::transforms;
use ferrax_core::{Error, Value};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert::to_value;
use crate::errors::{external, guard};
use crate::tensor::{wrap, PyTensor};

/// What the user's function returned besides its outputs.
struct Aux {
    /// Python objects, with tensors replaced by `None` (they travel as extra outputs).
    objects: Vec<Py<PyAny>>,
    tensor_slots: Vec<usize>,
}

fn call_user(
    py: Python<'_>,
    fun: &Bound<'_, PyAny>,
    xs: &[Value],
    aux_cell: &RefCell<Option<Aux>>,
    n_out_cell: &RefCell<usize>,
) -> ferrax_core::Result<Vec<Value>> {
    let args = PyList::new(
        py,
        xs.iter()
            .map(|x| wrap(py, x.clone()))
            .collect::<PyResult<Vec<_>>>()
            .map_err(external)?,
    )
    .map_err(external)?;
    let r = fun.call1((args,)).map_err(external)?;
    let (outs, aux): (Bound<'_, PyAny>, Bound<'_, PyAny>) = r.extract().map_err(external)?;
    let mut values = Vec::new();
    for o in outs.try_iter().map_err(external)? {
        let o = o.map_err(external)?;
        values.push(to_value(&o, None).map_err(external)?);
    }
    *n_out_cell.borrow_mut() = values.len();
    let mut objects = Vec::new();
    let mut tensor_slots = Vec::new();
    for (i, a) in aux.try_iter().map_err(external)?.enumerate() {
        let a = a.map_err(external)?;
        if let Ok(t) = a.cast::<PyTensor>() {
            values.push(t.get().v.clone());
            tensor_slots.push(i);
            objects.push(py.None());
        } else {
            objects.push(a.unbind());
        }
    }
    *aux_cell.borrow_mut() = Some(Aux {
        objects,
        tensor_slots,
    });
    Ok(values)
}

/// Put the unwrapped aux tensors back among the other aux objects.
fn rebuild_aux(py: Python<'_>, aux: Option<Aux>, extra: &[Value]) -> PyResult<Py<PyList>> {
    let Some(mut aux) = aux else {
        return Ok(PyList::empty(py).unbind());
    };
    for (slot, v) in aux.tensor_slots.iter().zip(extra) {
        aux.objects[*slot] = wrap(py, v.clone())?.into_any();
    }
    Ok(PyList::new(py, aux.objects)?.unbind())
}

fn to_values(items: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
    items.try_iter()?.map(|o| to_value(&o?, None)).collect()
}

fn wrap_all(py: Python<'_>, vs: &[Value]) -> PyResult<Py<PyList>> {
    Ok(PyList::new(
        py,
        vs.iter()
            .map(|v| wrap(py, v.clone()))
            .collect::<PyResult<Vec<_>>>()?,
    )?
    .unbind())
}

/// The pullback returned by `vjp`: call it with one cotangent per output.
#[pyclass(name = "VjpFunction", module = "ferrax", frozen)]
pub struct PyVjpFn {
    inner: transforms::VjpFn,
    n_out: usize,
    n_total: usize,
}

#[pymethods]
impl PyVjpFn {
    /// Cotangents of the inputs; `cts` holds one array-like (or None: zero) per output.
    #[pyo3(signature = (cts, create_graph=true))]
    fn __call__(
        &self,
        py: Python<'_>,
        cts: &Bound<'_, PyAny>,
        create_graph: bool,
    ) -> PyResult<Py<PyList>> {
        let avals: Vec<_> = self.inner.output_avals().cloned().collect();
        let mut values: Vec<Option<Value>> = Vec::with_capacity(self.n_total);
        for (i, c) in cts.try_iter()?.enumerate() {
            let c = c?;
            if i >= self.n_out {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "vjp function expected {} cotangents, got more",
                    self.n_out
                )));
            }
            values.push(if c.is_none() {
                None
            } else {
                Some(to_value(&c, Some(avals[i].dtype))?)
            });
        }
        if values.len() != self.n_out {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "vjp function expected {} cotangents, got {}",
                self.n_out,
                values.len()
            )));
        }
        values.resize(self.n_total, None);
        // the backward pass runs kernels only: other Python threads run meanwhile
        let r = if self.inner.work() >= crate::tensor::GIL_FREE_SIZE {
            crate::interrupt::detached(py, || self.inner.call(&values, create_graph))?
        } else {
            guard(|| self.inner.call(&values, create_graph))?
        };
        wrap_all(py, &r)
    }
}

/// `vjp(fun, primals) -> (outputs, pullback, aux)`.
#[pyfunction]
pub fn vjp(
    py: Python<'_>,
    fun: &Bound<'_, PyAny>,
    primals: &Bound<'_, PyAny>,
) -> PyResult<(Py<PyList>, PyVjpFn, Py<PyList>)> {
    let ps = to_values(primals)?;
    let aux = RefCell::new(None);
    let n_out = RefCell::new(0usize);
    let (outs, pullback) =
        guard(|| transforms::vjp(|xs| call_user(py, fun, xs, &aux, &n_out), &ps))?;
    let n = *n_out.borrow();
    let aux = rebuild_aux(py, aux.into_inner(), &outs[n..])?;
    let total = outs.len();
    Ok((
        wrap_all(py, &outs[..n])?,
        PyVjpFn {
            inner: pullback,
            n_out: n,
            n_total: total,
        },
        aux,
    ))
}

/// `jvp(fun, primals, tangents) -> (outputs, tangents_out, aux)`; a tangent may be None (zero).
#[pyfunction]
pub fn jvp(
    py: Python<'_>,
    fun: &Bound<'_, PyAny>,
    primals: &Bound<'_, PyAny>,
    tangents: &Bound<'_, PyAny>,
) -> PyResult<(Py<PyList>, Py<PyList>, Py<PyList>)> {
    let ps = to_values(primals)?;
    let mut ts: Vec<Option<Value>> = Vec::with_capacity(ps.len());
    for (i, t) in tangents.try_iter()?.enumerate() {
        let t = t?;
        ts.push(if t.is_none() {
            None
        } else {
            Some(to_value(&t, ps.get(i).map(|p| p.dtype()))?)
        });
    }
    let aux = RefCell::new(None);
    let n_out = RefCell::new(0usize);
    let (outs, tans) =
        guard(|| transforms::jvp(|xs| call_user(py, fun, xs, &aux, &n_out), &ps, &ts))?;
    let n = *n_out.borrow();
    let aux = rebuild_aux(py, aux.into_inner(), &outs[n..])?;
    Ok((wrap_all(py, &outs[..n])?, wrap_all(py, &tans[..n])?, aux))
}

/// `vmap(fun, args, in_axes, size) -> (outputs with the batch axis first, batched flags)`.
#[pyfunction]
pub fn vmap(
    py: Python<'_>,
    fun: &Bound<'_, PyAny>,
    args: &Bound<'_, PyAny>,
    in_axes: Vec<Option<usize>>,
    size: usize,
) -> PyResult<(Py<PyList>, Vec<bool>)> {
    let xs = to_values(args)?;
    if xs.len() != in_axes.len() {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "vmap: one in_axes entry per argument leaf",
        ));
    }
    let aux = RefCell::new(None);
    let n_out = RefCell::new(0usize);
    let outs = guard(|| {
        let r = transforms::vmap(|a| call_user(py, fun, a, &aux, &n_out), &xs, &in_axes, size)?;
        if r.len() != *n_out.borrow() {
            return Err(Error::Value(
                "vmap: functions under vmap cannot return aux values".into(),
            ));
        }
        Ok(r)
    })?;
    let values: Vec<Value> = outs.iter().map(|(v, _)| v.clone()).collect();
    let flags = outs.iter().map(|(_, b)| *b).collect();
    Ok((wrap_all(py, &values)?, flags))
}

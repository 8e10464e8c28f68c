//! Sparse Jacobians and Hessians (`jacfwd`/`jacrev`/`hessian` with
//! `sparsity=`), `sparsity_pattern` and `sparsity_coloring`: the core's
//! `transforms::sparse` for Python functions. Patterns cross the boundary
//! as CSR arrays (`indptr`, `indices`, shape); the Python façade turns them
//! into and out of `scipy.sparse`.

use ferrax_core::trace::Deps;
use ferrax_core::transforms::{self as core, SparseMode, SparsePlan};
use ferrax_core::Value;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::errors::guard;
use crate::tensor::wrap;
use crate::transforms::{positional, with_aux, PyFun, Want};

fn parse_mode(mode: &str) -> PyResult<SparseMode> {
    match mode {
        "jacfwd" => Ok(SparseMode::Fwd),
        "jacrev" => Ok(SparseMode::Rev),
        "hessian" => Ok(SparseMode::Hessian),
        m => Err(PyValueError::new_err(format!(
            "unknown sparse Jacobian mode {m:?}: expected 'jacfwd', 'jacrev' or 'hessian'"
        ))),
    }
}

/// A pattern handed over as CSR arrays.
fn pattern_of(
    indptr: PyReadonlyArray1<'_, i64>,
    indices: PyReadonlyArray1<'_, i64>,
    cols: usize,
) -> PyResult<Deps> {
    let indptr: Vec<usize> = indptr
        .as_array()
        .iter()
        .map(|&p| usize::try_from(p))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            PyValueError::new_err("sparsity: the pattern's indptr has a negative entry")
        })?;
    let indices = indices.as_array().to_vec();
    guard(|| Deps::from_csr(&indptr, &indices, cols))
}

/// `(indptr, indices)` of a pattern as NumPy arrays.
fn csr_arrays<'py>(
    py: Python<'py>,
    p: &Deps,
) -> (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>) {
    let indptr: Vec<i64> = p.indptr().iter().map(|&i| i as i64).collect();
    let indices: Vec<i64> = p.indices().iter().map(|&j| j as i64).collect();
    (
        PyArray1::from_vec(py, indptr),
        PyArray1::from_vec(py, indices),
    )
}

/// The one positional argument differentiated, as `argnum` picks it (`None`:
/// the only one).
fn one_argument(argnum: Option<i64>, nargs: usize, name: &str) -> PyResult<usize> {
    let argnum = match argnum {
        Some(a) => a,
        None if nargs == 1 => 0,
        None => {
            return Err(PyValueError::new_err(format!(
                "{name}: with sparsity one argument is differentiated, and the function was \
                 called with {nargs}: pass argnums=i"
            )))
        }
    };
    let positions = guard(|| core::resolve_argnums(&[argnum], nargs, name))?;
    Ok(positions[0])
}

fn one_leaf(values: &[Value], name: &str) -> PyResult<()> {
    if values.len() != 1 {
        return Err(PyValueError::new_err(format!(
            "{name}: with sparsity the differentiated argument must be one array, not a \
             structure of {} arrays",
            values.len()
        )));
    }
    Ok(())
}

/// The function `jacfwd`/`jacrev`/`hessian` return when given `sparsity=`.
/// Calling it returns `(data, indices, indptr, (m, n))` in CSR order, or the
/// dense Jacobian with `dense_output` (and the auxiliary value after it with
/// `has_aux`).
#[pyclass(name = "SparseJacobianFunction", module = "ferrax", frozen, dict)]
pub struct SparseJacFn {
    fun: Py<PyAny>,
    mode: SparseMode,
    argnum: Option<i64>,
    has_aux: bool,
    dense_output: bool,
    /// The colouring of a given pattern, made once; `None`: detect per call.
    plan: Option<SparsePlan>,
}

#[pymethods]
impl SparseJacFn {
    #[new]
    #[pyo3(signature = (fun, mode, argnum, has_aux, dense_output, indptr=None, indices=None, cols=0))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        fun: Py<PyAny>,
        mode: &str,
        argnum: Option<i64>,
        has_aux: bool,
        dense_output: bool,
        indptr: Option<PyReadonlyArray1<'_, i64>>,
        indices: Option<PyReadonlyArray1<'_, i64>>,
        cols: usize,
    ) -> PyResult<Self> {
        let mode = parse_mode(mode)?;
        let plan = match (indptr, indices) {
            (Some(p), Some(i)) => {
                let pattern = pattern_of(p, i, cols)?;
                Some(guard(|| SparsePlan::new(mode, pattern, cols))?)
            }
            _ => None,
        };
        Ok(SparseJacFn {
            fun,
            mode,
            argnum,
            has_aux,
            dense_output,
            plan,
        })
    }

    /// Passes (colours) of the given pattern's colouring; `None` when the
    /// pattern is detected at each call.
    #[getter]
    fn passes(&self) -> Option<usize> {
        self.plan.as_ref().map(SparsePlan::passes)
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = args.py();
        let name = self.mode.name();
        let args = positional(args);
        let pos = one_argument(self.argnum, args.len(), name)?;
        let (pf, values) = PyFun::new(
            self.fun.bind(py),
            args,
            kwargs,
            &[pos],
            self.has_aux,
            Want::SomeArrays,
            name,
        )?;
        one_leaf(&values, name)?;
        let mut f = |xs: &[Value]| pf.call(xs);
        let (jac, aux) = guard(|| {
            let detected;
            let plan = match &self.plan {
                Some(p) => p,
                None => {
                    let pattern = core::pattern_for(self.mode, &mut f, &values, 0, None)?;
                    detected = SparsePlan::new(self.mode, pattern, values[0].size())?;
                    &detected
                }
            };
            core::sparse_jacobian(self.mode, &mut f, &values, 0, plan)
        })?;
        let returned = pf.returned()?;
        let result = if self.dense_output {
            let dense = guard(|| jac.to_dense())?;
            wrap(py, dense)?.into_bound(py).into_any()
        } else {
            let (indptr, indices) = csr_arrays(py, &jac.pattern);
            let data = wrap(py, jac.data)?.into_bound(py).into_any();
            let shape = (jac.pattern.rows(), jac.cols).into_pyobject(py)?.into_any();
            PyTuple::new(py, [data, indices.into_any(), indptr.into_any(), shape])?.into_any()
        };
        if self.has_aux {
            Ok(with_aux(py, vec![result], Some((returned.aux, aux)))?.into_any())
        } else {
            Ok(result)
        }
    }
}

/// `sparsity_pattern(fun, argnum, *args, **kwargs)`: which output elements
/// of `fun` depend on which elements of argument `argnum`, as
/// `(indices, indptr, (m, n))`.
#[pyfunction]
#[pyo3(name = "_sparsity_pattern", signature = (fun, argnum, *args, **kwargs))]
pub fn sparsity_pattern<'py>(
    fun: &Bound<'py, PyAny>,
    argnum: Option<i64>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = fun.py();
    let name = "sparsity_pattern";
    let args = positional(args);
    let pos = one_argument(argnum, args.len(), name)?;
    let (pf, values) = PyFun::new(fun, args, kwargs, &[pos], false, Want::SomeArrays, name)?;
    one_leaf(&values, name)?;
    let (pattern, _, _) = guard(|| core::sparsity_pattern(&mut |xs| pf.call(xs), &values, 0))?;
    let (indptr, indices) = csr_arrays(py, &pattern);
    let shape = (pattern.rows(), values[0].size())
        .into_pyobject(py)?
        .into_any();
    PyTuple::new(py, [indices.into_any(), indptr.into_any(), shape])
}

/// `sparsity_coloring(indptr, indices, cols, mode)`: the colour of each
/// column (`jacfwd`), row (`jacrev`) or variable (`hessian`) that the sparse
/// Jacobians use; one pass per colour.
#[pyfunction]
#[pyo3(name = "_sparsity_coloring")]
pub fn sparsity_coloring<'py>(
    py: Python<'py>,
    indptr: PyReadonlyArray1<'py, i64>,
    indices: PyReadonlyArray1<'py, i64>,
    cols: usize,
    mode: &str,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let mode = parse_mode(mode)?;
    let pattern = pattern_of(indptr, indices, cols)?;
    let plan = guard(|| SparsePlan::new(mode, pattern, cols))?;
    let colours: Vec<i64> = plan.colouring.colours.iter().map(|&c| c as i64).collect();
    Ok(PyArray1::from_vec(py, colours))
}

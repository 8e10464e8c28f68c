//! `ferrax.Tensor`: an immutable n-d array (or a traced value inside a transform).
//!
//! Arithmetic, comparisons and metadata are implemented here so the per-op path
//! stays in Rust (indexing and `.at` in `indexing.rs`); `repr` and the NumPy
//! protocols delegate to Python hooks registered by `ferrax/__init__.py` (tables
//! of names and formatting, no numerics).

use ferrax_core::ops::reduce::reduction;
use ferrax_core::ops::{self, binary, unary, CompareOp, ReduceOp};
use ferrax_core::tensor::shape::resolve_reshape;
use ferrax_core::trace::TracerKind;
use ferrax_core::{DType, Value};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp as PyCompareOp;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::{dtype_object, operand, to_axes, to_dtype, to_shape, to_value};
use crate::errors::guard;
use crate::interrupt::detached;

/// An immutable n-dimensional array, or a traced value inside a transform.
///
/// Make tensors with `fx.asarray` (or `fx.zeros`, `fx.arange`, ...), not by
/// calling the class. Operators, NumPy functions and ferrax functions all
/// accept and return tensors.
///
///     >>> x = fx.asarray([1.0, 2.0, 3.0])
///     >>> (x * 2).sum()
///     Tensor(12.)
#[pyclass(name = "Tensor", module = "ferrax", frozen, weakref)]
pub struct PyTensor {
    pub v: Value,
}

pub struct Hooks {
    pub repr: Py<PyAny>,
    pub array_ufunc: Py<PyAny>,
    pub array_function: Py<PyAny>,
}

pub static HOOKS: PyOnceLock<Hooks> = PyOnceLock::new();

fn hooks(py: Python<'_>) -> PyResult<&Hooks> {
    HOOKS
        .get(py)
        .ok_or_else(|| PyTypeError::new_err("ferrax hooks are not registered (import ferrax)"))
}

/// Elements above which an op releases the GIL while its kernel runs.
pub const GIL_FREE_SIZE: usize = 16 * 1024;

/// Wrap a value as a Python tensor.
pub fn wrap(py: Python<'_>, v: Value) -> PyResult<Py<PyTensor>> {
    Py::new(py, PyTensor { v })
}

/// Run `f` (which calls kernels) with the GIL released (and Ctrl-C honoured)
/// when the data is large.
pub fn compute(
    py: Python<'_>,
    size: usize,
    f: impl FnOnce() -> ferrax_core::Result<Value> + Send,
) -> PyResult<Py<PyTensor>> {
    let v = if size >= GIL_FREE_SIZE {
        detached(py, f)?
    } else {
        guard(f)?
    };
    wrap(py, v)
}

/// Compute deferred values of `t` (if any) with the GIL released.
pub fn realize(py: Python<'_>, t: &ferrax_core::Tensor) -> PyResult<()> {
    if t.is_realized() {
        return Ok(());
    }
    detached(py, || t.realize())
}

type R = PyResult<Py<PyTensor>>;

impl PyTensor {
    /// The concrete value behind `self` for a conversion to a Python number or
    /// list (`what`): refused for a value that carries a derivative at a live
    /// transform level, whose derivative the conversion would silently drop.
    fn concrete_for(&self, what: &str) -> PyResult<ferrax_core::Tensor> {
        if let Value::Tracer(t) = &self.v {
            guard(|| self.v.check_live())?;
            if !matches!(t.kind, TracerKind::Batch { .. }) {
                return Err(PyTypeError::new_err(format!(
                    "{what} of a value that carries a derivative inside a transform (grad, vjp, \
                     jvp, jacfwd, ...): the result would be a constant and the derivative would \
                     be silently lost. Keep the computation in ferrax operations; to use the \
                     value as a constant on purpose, convert fx.stop_gradient(x); to get a value \
                     out of the function, return it as auxiliary output (has_aux=True). \
                     Comparisons and bool() are allowed (for Python control flow)"
                )));
            }
        }
        guard(|| self.v.concrete())
    }

    /// The reduction methods: parse `axis`, run `f` with the GIL released when large.
    fn reduce_by(
        &self,
        py: Python<'_>,
        axis: Option<&Bound<'_, PyAny>>,
        f: impl FnOnce(&Value, Option<&[isize]>) -> ferrax_core::Result<Value> + Send,
    ) -> R {
        let ax = to_axes(axis)?;
        compute(py, self.v.size(), || f(&self.v, ax.as_deref()))
    }
}

fn binop(
    py: Python<'_>,
    a: &Value,
    other: &Bound<'_, PyAny>,
    reflected: bool,
    f: fn(&Value, &Value) -> ferrax_core::Result<Value>,
) -> PyResult<Py<PyTensor>> {
    let b = operand(other, Some(a.dtype()))?;
    let size = a.size().max(b.size());
    if reflected {
        compute(py, size, || f(&b, a))
    } else {
        compute(py, size, || f(a, &b))
    }
}

fn cmp_fn(op: CompareOp) -> impl Fn(&Value, &Value) -> ferrax_core::Result<Value> {
    move |a, b| binary::compare(op, a, b)
}

#[pymethods]
impl PyTensor {
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.v.shape().iter())
    }
    #[getter]
    fn ndim(&self) -> usize {
        self.v.ndim()
    }
    #[getter]
    fn size(&self) -> usize {
        self.v.size()
    }
    /// Bytes per element.
    #[getter]
    fn itemsize(&self) -> usize {
        self.v.dtype().size_of()
    }
    /// Bytes of all elements (`size * itemsize`).
    #[getter]
    fn nbytes(&self) -> usize {
        self.v.size() * self.v.dtype().size_of()
    }
    #[getter]
    fn dtype<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        dtype_object(py, self.v.dtype())
    }
    /// The transpose (axes reversed), a view.
    #[getter(T)]
    fn t(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        let perm: Vec<usize> = (0..self.v.ndim()).rev().collect();
        wrap(py, guard(|| ops::shape::transpose(&self.v, &perm))?)
    }
    /// Whether this is a traced value inside a transform (rather than concrete data).
    #[getter]
    fn is_traced(&self) -> bool {
        matches!(self.v, Value::Tracer(_))
    }

    /// NumPy's array interface: zero-copy, read-only export of concrete data.
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let t = match &self.v {
            Value::Concrete(t) => t,
            Value::Tracer(_) => {
                self.concrete_for("conversion to a NumPy array")?;
                return Err(PyTypeError::new_err(
                    "a traced value cannot be converted to a NumPy array",
                ));
            }
        };
        realize(py, t)?;
        let d = PyDict::new(py);
        let isz = t.dtype().size_of();
        let addr = guard(|| t.storage())?.data_address() + t.offset() * isz;
        let typestr = match t.dtype() {
            DType::F32 => "<f4",
            DType::F64 => "<f8",
            DType::I32 => "<i4",
            DType::I64 => "<i8",
            DType::Bool => "|b1",
        };
        d.set_item("version", 3)?;
        d.set_item("typestr", typestr)?;
        d.set_item("shape", PyTuple::new(py, t.shape().iter())?)?;
        let strides: Vec<isize> = t.strides().iter().map(|s| s * isz as isize).collect();
        d.set_item("strides", PyTuple::new(py, strides)?)?;
        d.set_item("data", (addr, true))?;
        Ok(d)
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        slf: &Bound<'py, Self>,
        dtype: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let np = crate::convert::numpy(py)?;
        // go through the array interface (a view of our storage)
        let iface = slf.getattr("__array_interface__")?;
        let holder = Holder::new(slf.clone().unbind(), iface.unbind());
        let arr = np.call_method1("asarray", (Py::new(py, holder)?,))?;
        let arr = match dtype {
            Some(d) if !d.is_none() => arr.call_method1("astype", (d,))?,
            _ => arr,
        };
        if copy == Some(true) {
            return arr.call_method0("copy");
        }
        Ok(arr)
    }

    /// Export for DLPack consumers (`np.from_dlpack`, `torch.from_dlpack`,
    /// `jax.dlpack.from_dlpack`): no copy, the capsule points at this
    /// tensor's memory and keeps it alive. The memory is read-only: a DLPack
    /// 1.0 consumer (NumPy 2.1+) is told so by the capsule's flag; a legacy
    /// consumer (JAX's `from_dlpack`) cannot be, as with JAX's own arrays —
    /// writing through what it makes (a torch tensor, say) would change this
    /// tensor's values, so copy there first (`copy=True`).
    ///
    ///     >>> np.from_dlpack(fx.arange(3.0))
    ///     array([0., 1., 2.])
    #[pyo3(signature = (*, stream=None, max_version=None, dl_device=None, copy=None))]
    fn __dlpack__<'py>(
        slf: &Bound<'py, Self>,
        stream: Option<&Bound<'py, PyAny>>,
        max_version: Option<&Bound<'py, PyAny>>,
        dl_device: Option<&Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::dlpack::export(slf, stream, max_version, dl_device, copy)
    }

    /// The DLPack device: `(1, 0)`, the CPU.
    ///
    ///     >>> fx.ones(2).__dlpack_device__()
    ///     (1, 0)
    fn __dlpack_device__(&self) -> (i32, i32) {
        (1, 0)
    }

    /// Compute the values now and return this tensor.
    ///
    /// Large elementwise results are computed lazily, a whole chain of ops at a
    /// time, when first read (NumPy conversion, printing, a reduction or
    /// matmul...). Reading does this implicitly; call this to time a
    /// computation or to do its work at a chosen point (as JAX's method of
    /// the same name).
    ///
    /// >>> y = fx.exp(fx.arange(3.0)).block_until_ready()
    fn block_until_ready(slf: &Bound<'_, Self>) -> PyResult<Py<Self>> {
        let me = slf.borrow();
        if let Value::Concrete(t) = &me.v {
            realize(slf.py(), t)?;
        }
        Ok(slf.clone().unbind())
    }

    /// A NumPy array with the values (read-only, zero-copy where the layout allows).
    fn numpy<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::__array__(slf, None, None)
    }

    /// The value of a one-element tensor as a Python scalar.
    fn item<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.concrete_for(".item()")?;
        scalar_object(py, &t)
    }

    /// The values as nested Python lists.
    fn tolist<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let t = slf.get().concrete_for(".tolist()")?;
        let arr = Self::__array__(
            &Bound::new(
                py,
                PyTensor {
                    v: Value::Concrete(t),
                },
            )?,
            None,
            None,
        )?;
        arr.call_method0("tolist")
    }

    /// A copy converted to `dtype` (differentiable between float dtypes).
    fn astype(&self, py: Python<'_>, dtype: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let dt = to_dtype(dtype)?;
        compute(py, self.v.size(), || ops::shape::convert(&self.v, dt))
    }

    /// Reshape (a view when the layout allows); accepts `reshape(2, 3)` or `reshape((2, 3))`.
    #[pyo3(signature = (*shape))]
    fn reshape(&self, py: Python<'_>, shape: &Bound<'_, PyTuple>) -> PyResult<Py<PyTensor>> {
        let s = if shape.len() == 1 {
            to_shape(&shape.get_item(0)?)?
        } else {
            to_shape(shape.as_any())?
        };
        let v = guard(|| {
            let target = resolve_reshape(&self.v.shape(), &s)?;
            ops::shape::reshape(&self.v, &target)
        })?;
        wrap(py, v)
    }

    /// Permute axes (reversed when none are given), as a view.
    #[pyo3(signature = (*axes))]
    fn transpose(&self, py: Python<'_>, axes: &Bound<'_, PyTuple>) -> PyResult<Py<PyTensor>> {
        let nd = self.v.ndim();
        let perm: Vec<isize> = if axes.is_empty() {
            (0..nd as isize).rev().collect()
        } else if axes.len() == 1 && !axes.get_item(0)?.is_none() {
            to_shape(&axes.get_item(0)?)?
        } else if axes.len() == 1 {
            (0..nd as isize).rev().collect()
        } else {
            to_shape(axes.as_any())?
        };
        let v = guard(|| {
            let p: Vec<usize> = perm
                .iter()
                .map(|&a| ferrax_core::tensor::shape::normalize_axis(a, nd))
                .collect::<Result<_, _>>()?;
            ops::shape::transpose(&self.v, &p)
        })?;
        wrap(py, v)
    }

    /// The flattened tensor (a view when the layout allows).
    fn ravel(&self, py: Python<'_>) -> R {
        compute(py, self.v.size(), || {
            ops::shape::reshape(&self.v, &[self.v.size()])
        })
    }
    /// The flattened tensor (tensors are immutable, so as `ravel`).
    fn flatten(&self, py: Python<'_>) -> R {
        self.ravel(py)
    }
    /// Remove axes of length 1 (all of them, or the given ones).
    #[pyo3(signature = (axis=None))]
    fn squeeze(&self, py: Python<'_>, axis: Option<&Bound<'_, PyAny>>) -> R {
        let ax = to_axes(axis)?;
        compute(py, self.v.size(), || {
            ops::composite::squeeze(&self.v, ax.as_deref())
        })
    }
    /// `fx.dot(self, other)`.
    fn dot(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> R {
        let b = to_value(other, Some(self.v.dtype()))?;
        compute(py, self.v.size().max(b.size()), || {
            ops::contract::dot(&self.v, &b)
        })
    }
    /// `fx.clip(self, min, max)`.
    #[pyo3(signature = (min=None, max=None))]
    fn clip(
        &self,
        py: Python<'_>,
        min: Option<&Bound<'_, PyAny>>,
        max: Option<&Bound<'_, PyAny>>,
    ) -> R {
        let dt = Some(self.v.dtype());
        let bound = |o: Option<&Bound<'_, PyAny>>| {
            o.filter(|o| !o.is_none())
                .map(|o| to_value(o, dt))
                .transpose()
        };
        let (lo, hi) = (bound(min)?, bound(max)?);
        compute(py, self.v.size(), || {
            ops::composite::clip(&self.v, lo.as_ref(), hi.as_ref())
        })
    }
    /// Round to `decimals` decimal places (half to even, as NumPy).
    #[pyo3(signature = (decimals=0))]
    fn round(&self, py: Python<'_>, decimals: i32) -> R {
        compute(py, self.v.size(), || {
            ops::composite::round_decimals(&self.v, decimals)
        })
    }
    /// Cumulative sum along `axis` (the flattened tensor when None).
    #[pyo3(signature = (axis=None))]
    fn cumsum(&self, py: Python<'_>, axis: Option<isize>) -> R {
        compute(py, self.v.size(), || ops::reduce::cumsum(&self.v, axis))
    }

    #[pyo3(signature = (axis=None, keepdims=false))]
    fn sum(&self, py: Python<'_>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> R {
        self.reduce_by(py, axis, |x, a| reduction(ReduceOp::Sum, x, a, keepdims))
    }
    #[pyo3(signature = (axis=None, keepdims=false))]
    fn prod(&self, py: Python<'_>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> R {
        self.reduce_by(py, axis, |x, a| reduction(ReduceOp::Prod, x, a, keepdims))
    }
    #[pyo3(signature = (axis=None, keepdims=false))]
    fn max(&self, py: Python<'_>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> R {
        self.reduce_by(py, axis, |x, a| reduction(ReduceOp::Max, x, a, keepdims))
    }
    #[pyo3(signature = (axis=None, keepdims=false))]
    fn min(&self, py: Python<'_>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> R {
        self.reduce_by(py, axis, |x, a| reduction(ReduceOp::Min, x, a, keepdims))
    }
    #[pyo3(signature = (axis=None, keepdims=false))]
    fn mean(&self, py: Python<'_>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> R {
        self.reduce_by(py, axis, |x, a| ops::composite::mean(x, a, keepdims))
    }
    #[pyo3(signature = (axis=None, keepdims=false, ddof=0.0))]
    fn var(&self, py: Python<'_>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool, ddof: f64) -> R {
        self.reduce_by(py, axis, |x, a| ops::composite::var(x, a, keepdims, ddof))
    }
    #[pyo3(signature = (axis=None, keepdims=false, ddof=0.0))]
    fn std(&self, py: Python<'_>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool, ddof: f64) -> R {
        self.reduce_by(py, axis, |x, a| ops::composite::std(x, a, keepdims, ddof))
    }
    #[pyo3(signature = (axis=None, keepdims=false))]
    fn argmax(
        &self,
        py: Python<'_>,
        axis: Option<isize>,
        keepdims: bool,
    ) -> PyResult<Py<PyTensor>> {
        compute(py, self.v.size(), || {
            ops::reduce::arg_extremum(&self.v, axis, keepdims, true)
        })
    }
    #[pyo3(signature = (axis=None, keepdims=false))]
    fn argmin(
        &self,
        py: Python<'_>,
        axis: Option<isize>,
        keepdims: bool,
    ) -> PyResult<Py<PyTensor>> {
        compute(py, self.v.size(), || {
            ops::reduce::arg_extremum(&self.v, axis, keepdims, false)
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        self.v
            .shape()
            .first()
            .copied()
            .ok_or_else(|| PyTypeError::new_err("len() of unsized object (a 0-d tensor)"))
    }

    fn __iter__(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let n = slf.get().__len__()?;
        let items: Vec<Bound<'_, PyAny>> = (0..n)
            .map(|i| slf.as_any().get_item(i))
            .collect::<PyResult<_>>()?;
        Ok(pyo3::types::PyList::new(py, items)?
            .as_any()
            .try_iter()?
            .into_any()
            .unbind())
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        hooks(slf.py())?
            .repr
            .bind(slf.py())
            .call1((slf, true))?
            .extract()
    }
    fn __str__(slf: &Bound<'_, Self>) -> PyResult<String> {
        hooks(slf.py())?
            .repr
            .bind(slf.py())
            .call1((slf, false))?
            .extract()
    }

    fn __float__(&self) -> PyResult<f64> {
        let t = self.concrete_for("float()")?;
        one_element(&t)?;
        guard(|| t.item_f64())
    }
    fn __complex__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.concrete_for("complex()")?;
        one_element(&t)?;
        Ok(pyo3::types::PyComplex::from_doubles(py, guard(|| t.item_f64())?, 0.0).into_any())
    }
    fn __int__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.concrete_for("int()")?;
        one_element(&t)?;
        // exact, as Python's int(): int(1e300) has 301 digits
        scalar_object(py, &t)?.call_method0("__int__")
    }
    fn __index__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if !self.v.dtype().is_int() && self.v.dtype() != DType::Bool || self.v.ndim() != 0 {
            return Err(PyTypeError::new_err(
                "only 0-d integer tensors can be used as an index",
            ));
        }
        let t = self.concrete_for("operator.index()")?;
        scalar_object(py, &t)?.call_method0("__int__")
    }
    /// `round(x)`: a Python int for a 0-d tensor (as NumPy scalars), a rounded
    /// tensor otherwise; `round(x, n)`: a tensor rounded to `n` decimals.
    #[pyo3(signature = (ndigits=None))]
    fn __round__<'py>(&self, py: Python<'py>, ndigits: Option<i32>) -> PyResult<Bound<'py, PyAny>> {
        if ndigits.is_none() && self.v.ndim() == 0 {
            let t = self.concrete_for("round()")?;
            let builtins = py.import("builtins")?;
            return builtins.getattr("round")?.call1((scalar_object(py, &t)?,));
        }
        let d = ndigits.unwrap_or(0);
        Ok(compute(py, self.v.size(), || {
            ops::composite::round_decimals(&self.v, d)
        })?
        .into_bound(py)
        .into_any())
    }
    /// `format(x, spec)` and f-strings: a 0-d tensor formats as its Python
    /// scalar (as NumPy scalars do); an empty spec is `str(x)`.
    fn __format__(slf: &Bound<'_, Self>, spec: &str) -> PyResult<String> {
        if spec.is_empty() {
            return Ok(slf.str()?.to_string());
        }
        let me = slf.get();
        if me.v.ndim() != 0 {
            return Err(PyTypeError::new_err(format!(
                "unsupported format string passed to ferrax.Tensor.__format__: {spec:?} (only \
                 0-d tensors take a format spec; format x.tolist() or np.asarray(x) instead)"
            )));
        }
        // display only, so a traced value shows its primal (as repr does)
        let t = guard(|| me.v.concrete())?;
        let obj = scalar_object(slf.py(), &t)?;
        obj.call_method1("__format__", (spec,))?.extract()
    }
    /// Tensors are immutable: a copy is the tensor itself.
    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }
    /// Pickles as its values (a NumPy array: raw buffer, dtype and shape),
    /// rebuilt by `fx.from_dlpack`, which adopts the array's memory rather
    /// than copying it (with pickle protocol 5 the buffer travels out of
    /// band, so a tensor arrives on a worker with no copy at all).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let me = slf.get();
        let t = me.concrete_for("pickling")?;
        let plain = Bound::new(
            py,
            PyTensor {
                v: Value::Concrete(t),
            },
        )?;
        let arr = Self::__array__(&plain, None, None)?;
        let rebuild = py.import("ferrax")?.getattr("from_dlpack")?;
        Ok(PyTuple::new(py, [rebuild, PyTuple::new(py, [arr])?.into_any()])?.into_any())
    }
    /// Not constructible: tensors come from `fx.asarray` and the other creation functions.
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        Err(PyTypeError::new_err(
            "fx.Tensor cannot be called to make a tensor; use fx.asarray(data, dtype=None) \
             (or fx.array, fx.zeros, fx.arange, ...)",
        ))
    }
    fn __bool__(&self) -> PyResult<bool> {
        let t = guard(|| self.v.concrete())?;
        if t.size() != 1 {
            return Err(PyValueError::new_err(format!(
                "the truth value of a tensor with {} elements is ambiguous; use .any() or .all()",
                t.size()
            )));
        }
        Ok(guard(|| t.item_f64())? != 0.0)
    }
    fn __hash__(&self) -> PyResult<isize> {
        Err(PyTypeError::new_err(
            "unhashable type: 'Tensor' (tensors cannot be dict keys or set members)",
        ))
    }

    fn __getitem__<'py>(
        slf: &Bound<'py, Self>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::indexing::tensor_getitem(slf.py(), &slf.get().v, key)
            .map(|t| t.into_bound(slf.py()).into_any())
    }
    fn __setitem__(&self, _key: &Bound<'_, PyAny>, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "ferrax tensors are immutable: use the functional update x = x.at[idx].set(value) \
             (also .add, .multiply, .get), which is differentiable",
        ))
    }
    #[getter]
    fn at(&self) -> crate::indexing::AtIndexer {
        crate::indexing::AtIndexer { x: self.v.clone() }
    }

    #[pyo3(signature = (ufunc, method, *inputs, **kwargs))]
    fn __array_ufunc__<'py>(
        slf: &Bound<'py, Self>,
        ufunc: &Bound<'py, PyAny>,
        method: &Bound<'py, PyAny>,
        inputs: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = slf;
        hooks(ufunc.py())?
            .array_ufunc
            .bind(ufunc.py())
            .call1((ufunc, method, inputs, kwargs))
    }
    fn __array_function__<'py>(
        slf: &Bound<'py, Self>,
        func: &Bound<'py, PyAny>,
        types: &Bound<'py, PyAny>,
        args: &Bound<'py, PyAny>,
        kwargs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = (slf, types);
        hooks(func.py())?
            .array_function
            .bind(func.py())
            .call1((func, args, kwargs))
    }
    #[classattr]
    fn __array_priority__() -> f64 {
        1000.0
    }

    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, false, binary::add)
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, true, binary::add)
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, false, binary::sub)
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, true, binary::sub)
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, false, binary::mul)
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, true, binary::mul)
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, false, binary::div)
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, true, binary::div)
    }
    fn __floordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, false, binary::floor_divide)
    }
    fn __rfloordiv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, true, binary::floor_divide)
    }
    fn __mod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, false, binary::remainder)
    }
    fn __rmod__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        binop(py, &self.v, o, true, binary::remainder)
    }
    fn __pow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        if m.is_some_and(|m| !m.is_none()) {
            return Err(PyTypeError::new_err(
                "pow() with a modulus is not supported",
            ));
        }
        binop(py, &self.v, o, false, binary::pow)
    }
    fn __rpow__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        m: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyTensor>> {
        let _ = m;
        binop(py, &self.v, o, true, binary::pow)
    }
    fn __matmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let b = operand(o, None)?;
        compute(py, self.v.size().max(b.size()), || {
            ops::linalg::matmul(&self.v, &b)
        })
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let a = operand(o, None)?;
        compute(py, self.v.size().max(a.size()), || {
            ops::linalg::matmul(&a, &self.v)
        })
    }
    fn __and__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let b = to_value(o, Some(self.v.dtype()))?;
        wrap(py, guard(|| binary::compare(CompareOp::And, &self.v, &b))?)
    }
    fn __rand__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        self.__and__(py, o)
    }
    fn __or__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let b = to_value(o, Some(self.v.dtype()))?;
        wrap(py, guard(|| binary::compare(CompareOp::Or, &self.v, &b))?)
    }
    fn __ror__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        self.__or__(py, o)
    }
    fn __xor__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<Py<PyTensor>> {
        let b = to_value(o, Some(self.v.dtype()))?;
        wrap(py, guard(|| binary::compare(CompareOp::Xor, &self.v, &b))?)
    }
    fn __invert__(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        if self.v.dtype() != DType::Bool {
            return Err(PyTypeError::new_err("~ is only supported for bool tensors"));
        }
        wrap(py, guard(|| unary::logical_not(&self.v))?)
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        compute(py, self.v.size(), || unary::neg(&self.v))
    }
    fn __pos__(slf: Py<Self>) -> Py<Self> {
        slf
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<Py<PyTensor>> {
        compute(py, self.v.size(), || unary::abs(&self.v))
    }
    fn __richcmp__(
        &self,
        py: Python<'_>,
        o: &Bound<'_, PyAny>,
        op: PyCompareOp,
    ) -> PyResult<Py<PyAny>> {
        let c = match op {
            PyCompareOp::Eq => CompareOp::Eq,
            PyCompareOp::Ne => CompareOp::Ne,
            PyCompareOp::Lt => CompareOp::Lt,
            PyCompareOp::Le => CompareOp::Le,
            PyCompareOp::Gt => CompareOp::Gt,
            PyCompareOp::Ge => CompareOp::Ge,
        };
        let b = match to_value(o, Some(self.v.dtype())) {
            Ok(b) => b,
            Err(_) if matches!(op, PyCompareOp::Eq | PyCompareOp::Ne) => {
                return Ok(py.NotImplemented())
            }
            Err(e) => return Err(e),
        };
        let f = cmp_fn(c);
        Ok(compute(py, self.v.size().max(b.size()), || f(&self.v, &b))?.into_any())
    }
}

/// The one element of a size-1 tensor as a Python float, int or bool (exact
/// for integers: no trip through f64).
fn scalar_object<'py>(py: Python<'py>, t: &ferrax_core::Tensor) -> PyResult<Bound<'py, PyAny>> {
    let v = guard(|| t.item_f64())?;
    Ok(match t.dtype() {
        DType::F32 | DType::F64 => v.into_pyobject(py)?.into_any(),
        DType::Bool => (v != 0.0).into_pyobject(py)?.to_owned().into_any(),
        _ => {
            let i = guard(|| t.item_i64())?;
            i.into_pyobject(py)?.into_any()
        }
    })
}

/// NumPy: only size-1 arrays convert to Python scalars (a TypeError otherwise).
fn one_element(t: &ferrax_core::Tensor) -> PyResult<()> {
    if t.size() != 1 {
        return Err(PyTypeError::new_err(format!(
            "only length-1 tensors can be converted to Python scalars, got {} elements",
            t.size()
        )));
    }
    Ok(())
}

/// Keeps a tensor alive for as long as a NumPy array views its memory.
#[pyclass(frozen)]
pub struct Holder {
    _owner: Py<PyTensor>,
    iface: Py<PyAny>,
}

impl Holder {
    pub(crate) fn new(owner: Py<PyTensor>, iface: Py<PyAny>) -> Self {
        Holder {
            _owner: owner,
            iface,
        }
    }
}

#[pymethods]
impl Holder {
    #[getter]
    fn __array_interface__(&self, py: Python<'_>) -> Py<PyAny> {
        self.iface.clone_ref(py)
    }
}

//! Module-level operations (`fx.exp`, `fx.sum`, ...): argument parsing only;
//! every number is computed by the core.

use std::borrow::Cow;

use ferrax_core::ops::{self, binary, composite, reduce, shape as shp, unary, CompareOp, ReduceOp};
use ferrax_core::tensor::shape::{normalize_axis, resolve_reshape};
use ferrax_core::{DType, Tensor, Value};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{operand, to_axes, to_concrete_shape, to_dtype, to_shape, to_value};
use crate::errors::{guard, to_pyerr};
use crate::tensor::{compute, wrap, PyTensor};

type R = PyResult<Py<PyTensor>>;

fn v<'a>(x: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, Value>> {
    operand(x, None)
}

/// Round half to even, to `decimals` digits (NumPy's `round`); zero derivative.
///
///     >>> fx.round(fx.asarray([0.5, 1.5, 2.675]), 2)
///     Tensor([0.5 , 1.5 , 2.68])
#[pyfunction]
#[pyo3(signature = (x, decimals=0))]
pub fn round(py: Python<'_>, x: &Bound<'_, PyAny>, decimals: i32) -> R {
    let x = v(x)?;
    compute(py, x.size(), || composite::round_decimals(&x, decimals))
}

/// An index array: a value that does not fit ferrax's int64 (a uint64 above
/// 2**63 - 1) is out of range for any axis, so it is an `IndexError`, as every
/// other out-of-range index (NumPy would silently wrap it).
fn index_v(x: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_value(x, None).map_err(|e| {
        if e.is_instance_of::<pyo3::exceptions::PyOverflowError>(x.py()) {
            pyo3::exceptions::PyIndexError::new_err(format!("index out of bounds: {e}"))
        } else {
            e
        }
    })
}

/// Two operands, Python scalars taking the other's dtype.
fn v2<'a>(
    a: &'a Bound<'_, PyAny>,
    b: &'a Bound<'_, PyAny>,
) -> PyResult<(Cow<'a, Value>, Cow<'a, Value>)> {
    if crate::convert::is_py_scalar(a) {
        let bv = operand(b, None)?;
        Ok((operand(a, Some(bv.dtype()))?, bv))
    } else {
        let av = operand(a, None)?;
        let bv = operand(b, Some(av.dtype()))?;
        Ok((av, bv))
    }
}

/// The output of the unary functions' docstring example, by function name (`""` for a
/// function not listed: its example then shows no output, which the strict
/// doctest of the docs reports).
macro_rules! unary_example_output {
    (abs) => {
        "\n    Tensor([0.5, 1. ])"
    };
    (arccos) => {
        "\n    Tensor([1.04719755, 0.        ])"
    };
    (arccosh) => {
        "\n    Tensor([nan,  0.])"
    };
    (arcsin) => {
        "\n    Tensor([0.52359878, 1.57079633])"
    };
    (arcsinh) => {
        "\n    Tensor([0.48121183, 0.88137359])"
    };
    (arctan) => {
        "\n    Tensor([0.46364761, 0.78539816])"
    };
    (arctanh) => {
        "\n    Tensor([0.54930614,        inf])"
    };
    (ceil) => {
        "\n    Tensor([1., 1.])"
    };
    (cos) => {
        "\n    Tensor([0.87758256, 0.54030231])"
    };
    (cosh) => {
        "\n    Tensor([1.12762597, 1.54308063])"
    };
    (digamma) => {
        "\n    Tensor([-1.96351003, -0.57721566])"
    };
    (erf) => {
        "\n    Tensor([0.52049988, 0.84270079])"
    };
    (erfc) => {
        "\n    Tensor([0.47950012, 0.15729921])"
    };
    (erfinv) => {
        "\n    Tensor([0.47693628,        inf])"
    };
    (exp) => {
        "\n    Tensor([1.64872127, 2.71828183])"
    };
    (exp2) => {
        "\n    Tensor([1.41421356, 2.        ])"
    };
    (expm1) => {
        "\n    Tensor([0.64872127, 1.71828183])"
    };
    (floor) => {
        "\n    Tensor([0., 1.])"
    };
    (gammaln) => {
        "\n    Tensor([0.57236494, 0.        ])"
    };
    (isfinite) => {
        "\n    Tensor([ True,  True])"
    };
    (isnan) => {
        "\n    Tensor([False, False])"
    };
    (log) => {
        "\n    Tensor([-0.69314718,  0.        ])"
    };
    (log10) => {
        "\n    Tensor([-0.30103,  0.     ])"
    };
    (log1p) => {
        "\n    Tensor([0.40546511, 0.69314718])"
    };
    (log2) => {
        "\n    Tensor([-1.,  0.])"
    };
    (log_ndtr) => {
        "\n    Tensor([-0.36894642, -0.17275378])"
    };
    (logical_not) => {
        "\n    Tensor([False, False])"
    };
    (logit) => {
        "\n    Tensor([ 0., inf])"
    };
    (ndtr) => {
        "\n    Tensor([0.69146246, 0.84134475])"
    };
    (ndtri) => {
        "\n    Tensor([ 0., inf])"
    };
    (neg) => {
        "\n    Tensor([-0.5, -1. ])"
    };
    (reciprocal) => {
        "\n    Tensor([2., 1.])"
    };
    (relu) => {
        "\n    Tensor([0.5, 1. ])"
    };
    (rint) => {
        "\n    Tensor([0., 1.])"
    };
    (rsqrt) => {
        "\n    Tensor([1.41421356, 1.        ])"
    };
    (sigmoid) => {
        "\n    Tensor([0.62245933, 0.73105858])"
    };
    (sign) => {
        "\n    Tensor([1., 1.])"
    };
    (sin) => {
        "\n    Tensor([0.47942554, 0.84147098])"
    };
    (sinh) => {
        "\n    Tensor([0.52109531, 1.17520119])"
    };
    (softplus) => {
        "\n    Tensor([0.97407698, 1.31326169])"
    };
    (sqrt) => {
        "\n    Tensor([0.70710678, 1.        ])"
    };
    (square) => {
        "\n    Tensor([0.25, 1.  ])"
    };
    (tan) => {
        "\n    Tensor([0.54630249, 1.55740772])"
    };
    (tanh) => {
        "\n    Tensor([0.46211716, 0.76159416])"
    };
    ($other:ident) => {
        ""
    };
}

/// The output of the binary functions' docstring example, by function name (`""` for a
/// function not listed: its example then shows no output, which the strict
/// doctest of the docs reports).
macro_rules! binary_example_output {
    (add) => {
        "\n    Tensor([4., 5.])"
    };
    (arctan2) => {
        "\n    Tensor([0.32175055, 0.5880026 ])"
    };
    (divide) => {
        "\n    Tensor([0.33333333, 0.66666667])"
    };
    (equal) => {
        "\n    Tensor([False, False])"
    };
    (floor_divide) => {
        "\n    Tensor([0., 0.])"
    };
    (fmax) => {
        "\n    Tensor([3., 3.])"
    };
    (fmin) => {
        "\n    Tensor([1., 2.])"
    };
    (greater) => {
        "\n    Tensor([False, False])"
    };
    (greater_equal) => {
        "\n    Tensor([False, False])"
    };
    (hypot) => {
        "\n    Tensor([3.16227766, 3.60555128])"
    };
    (less) => {
        "\n    Tensor([ True,  True])"
    };
    (less_equal) => {
        "\n    Tensor([ True,  True])"
    };
    (logaddexp) => {
        "\n    Tensor([3.12692801, 3.31326169])"
    };
    (logaddexp2) => {
        "\n    Tensor([3.32192809, 3.5849625 ])"
    };
    (logical_and) => {
        "\n    Tensor([ True,  True])"
    };
    (logical_or) => {
        "\n    Tensor([ True,  True])"
    };
    (logical_xor) => {
        "\n    Tensor([False, False])"
    };
    (maximum) => {
        "\n    Tensor([3., 3.])"
    };
    (minimum) => {
        "\n    Tensor([1., 2.])"
    };
    (multiply) => {
        "\n    Tensor([3., 6.])"
    };
    (not_equal) => {
        "\n    Tensor([ True,  True])"
    };
    (power) => {
        "\n    Tensor([1., 8.])"
    };
    (remainder) => {
        "\n    Tensor([1., 2.])"
    };
    (subtract) => {
        "\n    Tensor([-2., -1.])"
    };
    (xlog1py) => {
        "\n    Tensor([1.38629436, 2.77258872])"
    };
    (xlogy) => {
        "\n    Tensor([1.09861229, 2.19722458])"
    };
    ($other:ident) => {
        ""
    };
}

/// The output of the reductions' docstring example, by function name (`""` for a
/// function not listed: its example then shows no output, which the strict
/// doctest of the docs reports).
macro_rules! reduce_example_output {
    (logsumexp) => {
        "\n    Tensor([[3.12692801, 4.12692801]])"
    };
    (max) => {
        "\n    Tensor([[3., 4.]])"
    };
    (mean) => {
        "\n    Tensor([[2., 3.]])"
    };
    (min) => {
        "\n    Tensor([[1., 2.]])"
    };
    (prod) => {
        "\n    Tensor([[3., 8.]])"
    };
    (sum) => {
        "\n    Tensor([[4., 6.]])"
    };
    ($other:ident) => {
        ""
    };
}

/// The docstring of a function made by `binary_fn!`.
macro_rules! binary_doc {
    (matmul) => {
        "Matrix product, NumPy's `matmul`: 1-d operands are promoted to a row or a column, leading axes broadcast (scalars are refused: use `*`).\n\n    >>> fx.matmul(fx.asarray([[1.0, 2.0], [3.0, 4.0]]), fx.asarray([1.0, 1.0]))\n    Tensor([3., 7.])"
    };
    ($name:ident) => {
        concat!("Elementwise `", stringify!($name), "` with broadcasting.\n\n    >>> fx.", stringify!($name), "(fx.asarray([1.0, 2.0]), 3.0)", binary_example_output!($name))
    };
}

/// One Python function over a core function of one argument.
macro_rules! unary_fn {
    ($name:ident) => {
        #[doc = concat!("Elementwise `", stringify!($name), "`, differentiable.\n\n    >>> fx.", stringify!($name), "(fx.asarray([0.5, 1.0]))", unary_example_output!($name))]
        #[pyfunction]
        pub fn $name(py: Python<'_>, x: &Bound<'_, PyAny>) -> R {
            let x = v(x)?;
            compute(py, x.size(), || unary::$name(&x))
        }
    };
}

/// The Python functions of every unary op the core declares, and their registration.
macro_rules! unary_py {
    ($($name:ident),* $(,)?) => {
        $( unary_fn!($name); )*
        pub fn add_unary(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $( m.add_function(wrap_pyfunction!($name, m)?)?; )*
            for f in [
                wrap_pyfunction!(logical_not, m)?,
                wrap_pyfunction!(isnan, m)?,
                wrap_pyfunction!(isfinite, m)?,
            ] {
                m.add_function(f)?;
            }
            Ok(())
        }
    };
}

ferrax_core::for_each_unary_op!(unary_py);
// predicates: bool results, no derivative
unary_fn!(logical_not);
unary_fn!(isnan);
unary_fn!(isfinite);

/// `(NumPy ufunc name, ferrax function name)` for every unary op the core
/// declares (`""` where neither NumPy nor SciPy has the function as a ufunc):
/// the NumPy protocol's table, and what the tests check for coverage.
#[pyfunction]
pub fn _unary_ufuncs() -> Vec<(&'static str, &'static str)> {
    ferrax_core::ops::UnaryOp::ALL
        .iter()
        .map(|op| (op.numpy_name().unwrap_or(""), op.name()))
        .collect()
}

/// One Python function over a core function of two broadcasting arguments.
macro_rules! binary_fn {
    ($name:ident => $f:expr) => {
        #[doc = binary_doc!($name)]
        #[pyfunction]
        pub fn $name(py: Python<'_>, a: &Bound<'_, PyAny>, b: &Bound<'_, PyAny>) -> R {
            let (a, b) = v2(a, b)?;
            let f = $f;
            compute(py, a.size().max(b.size()), || f(&a, &b))
        }
    };
}

binary_fn!(fmax => composite::fmax);
binary_fn!(fmin => composite::fmin);

/// The Python functions of every binary op the core declares, and the
/// registration of those and of the comparisons.
macro_rules! binary_py {
    ($($name:ident),* $(,)?) => {
        $( binary_fn!($name => binary::$name); )*
        pub fn add_binary(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $( m.add_function(wrap_pyfunction!($name, m)?)?; )*
            for f in [
                wrap_pyfunction!(equal, m)?,
                wrap_pyfunction!(not_equal, m)?,
                wrap_pyfunction!(less, m)?,
                wrap_pyfunction!(less_equal, m)?,
                wrap_pyfunction!(greater, m)?,
                wrap_pyfunction!(greater_equal, m)?,
                wrap_pyfunction!(logical_and, m)?,
                wrap_pyfunction!(logical_or, m)?,
                wrap_pyfunction!(logical_xor, m)?,
                wrap_pyfunction!(matmul, m)?,
                wrap_pyfunction!(fmax, m)?,
                wrap_pyfunction!(fmin, m)?,
            ] {
                m.add_function(f)?;
            }
            Ok(())
        }
    };
}

ferrax_core::for_each_binary_op!(binary_py);
binary_fn!(equal => |a: &Value, b: &Value| binary::compare(CompareOp::Eq, a, b));
binary_fn!(not_equal => |a: &Value, b: &Value| binary::compare(CompareOp::Ne, a, b));
binary_fn!(less => |a: &Value, b: &Value| binary::compare(CompareOp::Lt, a, b));
binary_fn!(less_equal => |a: &Value, b: &Value| binary::compare(CompareOp::Le, a, b));
binary_fn!(greater => |a: &Value, b: &Value| binary::compare(CompareOp::Gt, a, b));
binary_fn!(greater_equal => |a: &Value, b: &Value| binary::compare(CompareOp::Ge, a, b));
binary_fn!(logical_and => |a: &Value, b: &Value| binary::compare(CompareOp::And, a, b));
binary_fn!(logical_or => |a: &Value, b: &Value| binary::compare(CompareOp::Or, a, b));
binary_fn!(logical_xor => |a: &Value, b: &Value| binary::compare(CompareOp::Xor, a, b));
binary_fn!(matmul => ops::linalg::matmul);

/// `(NumPy ufunc name, ferrax function name)` for every binary op the core declares.
#[pyfunction]
pub fn _binary_ufuncs() -> Vec<(&'static str, &'static str)> {
    ferrax_core::ops::BinaryOp::ALL
        .iter()
        .map(|op| (op.numpy_name(), op.name()))
        .collect()
}

/// `a` where `cond` is true, else `b` (broadcasting).
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.where(x > 2.0, x, 0.0)
///     Tensor([[0., 0.],
///             [3., 4.]])
#[pyfunction(name = "where")]
pub fn where_(
    py: Python<'_>,
    cond: &Bound<'_, PyAny>,
    a: &Bound<'_, PyAny>,
    b: &Bound<'_, PyAny>,
) -> R {
    let c = v(cond)?;
    let (a, b) = v2(a, b)?;
    compute(py, c.size().max(a.size()).max(b.size()), || {
        binary::where_(&c, &a, &b)
    })
}

/// Limit values to `[lo, hi]` (either may be None); gradient 1 inside, 0 outside.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.clip(x, 1.5, 3.0)
///     Tensor([[1.5, 2. ],
///             [3. , 3. ]])
#[pyfunction]
#[pyo3(signature = (x, lo=None, hi=None))]
pub fn clip(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    lo: Option<&Bound<'_, PyAny>>,
    hi: Option<&Bound<'_, PyAny>>,
) -> R {
    let x = v(x)?;
    let dt = Some(x.dtype());
    let lo = lo
        .filter(|o| !o.is_none())
        .map(|o| to_value(o, dt))
        .transpose()?;
    let hi = hi
        .filter(|o| !o.is_none())
        .map(|o| to_value(o, dt))
        .transpose()?;
    compute(py, x.size(), || {
        composite::clip(&x, lo.as_ref(), hi.as_ref())
    })
}

macro_rules! reduce_py {
    ($($name:ident => $op:expr),* $(,)?) => {
        $(
            #[doc = concat!("`", stringify!($name), "` over `axis` (None, int or tuple), NumPy style.\n\n    >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])\n    >>> fx.", stringify!($name), "(x, axis=0, keepdims=True)", reduce_example_output!($name))]
            #[pyfunction]
            #[pyo3(signature = (x, axis=None, keepdims=false))]
            pub fn $name(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>, keepdims: bool) -> R {
                let x = v(x)?;
                let ax = to_axes(axis)?;
                let f = $op;
                compute(py, x.size(), || f(&x, ax.as_deref(), keepdims))
            }
        )*
        pub fn add_reductions(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $( m.add_function(wrap_pyfunction!($name, m)?)?; )*
            Ok(())
        }
    };
}

reduce_py!(
    sum => |x: &Value, a: Option<&[isize]>, k| reduce::reduction(ReduceOp::Sum, x, a, k),
    prod => |x: &Value, a: Option<&[isize]>, k| reduce::reduction(ReduceOp::Prod, x, a, k),
    max => |x: &Value, a: Option<&[isize]>, k| reduce::reduction(ReduceOp::Max, x, a, k),
    min => |x: &Value, a: Option<&[isize]>, k| reduce::reduction(ReduceOp::Min, x, a, k),
    mean => composite::mean,
    logsumexp => composite::logsumexp,
);

/// Variance over `axis` with `ddof` delta degrees of freedom.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.var(x, axis=0)
///     Tensor([1., 1.])
#[pyfunction]
#[pyo3(signature = (x, axis=None, keepdims=false, ddof=0.0))]
pub fn var(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    ddof: f64,
) -> R {
    let x = v(x)?;
    let ax = to_axes(axis)?;
    compute(py, x.size(), || {
        composite::var(&x, ax.as_deref(), keepdims, ddof)
    })
}

/// Standard deviation over `axis`.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.std(x)
///     Tensor(1.11803399)
#[pyfunction(name = "std")]
#[pyo3(signature = (x, axis=None, keepdims=false, ddof=0.0))]
pub fn std_(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    ddof: f64,
) -> R {
    let x = v(x)?;
    let ax = to_axes(axis)?;
    compute(py, x.size(), || {
        composite::std(&x, ax.as_deref(), keepdims, ddof)
    })
}

/// Index of the maximum (flattened when `axis` is None); not differentiable.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.argmax(x, axis=1)
///     Tensor([1, 1])
#[pyfunction]
#[pyo3(signature = (x, axis=None, keepdims=false))]
pub fn argmax(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<isize>, keepdims: bool) -> R {
    let x = v(x)?;
    compute(py, x.size(), || {
        reduce::arg_extremum(&x, axis, keepdims, true)
    })
}

/// Index of the minimum (flattened when `axis` is None); not differentiable.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.argmin(x)
///     Tensor(0)
#[pyfunction]
#[pyo3(signature = (x, axis=None, keepdims=false))]
pub fn argmin(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<isize>, keepdims: bool) -> R {
    let x = v(x)?;
    compute(py, x.size(), || {
        reduce::arg_extremum(&x, axis, keepdims, false)
    })
}

/// Cumulative sum along `axis` (flattened when None).
///
///     >>> fx.cumsum(fx.asarray([1.0, 2.0, 3.0]))
///     Tensor([1., 3., 6.])
#[pyfunction]
#[pyo3(signature = (x, axis=None))]
pub fn cumsum(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<isize>) -> R {
    let x = v(x)?;
    compute(py, x.size(), || reduce::cumsum(&x, axis))
}

/// Give a new shape (one entry may be -1); a view when the layout allows.
///
///     >>> fx.reshape(fx.arange(6.0), (2, 3))
///     Tensor([[0., 1., 2.],
///             [3., 4., 5.]])
#[pyfunction]
pub fn reshape(py: Python<'_>, x: &Bound<'_, PyAny>, shape: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    let s = to_shape(shape)?;
    wrap(
        py,
        guard(|| shp::reshape(&x, &resolve_reshape(&x.shape(), &s)?))?,
    )
}

/// Permute axes (reverse them when `axes` is None), as a view.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.transpose(x, (1, 0))
///     Tensor([[1., 3.],
///             [2., 4.]])
#[pyfunction]
#[pyo3(signature = (x, axes=None))]
pub fn transpose(py: Python<'_>, x: &Bound<'_, PyAny>, axes: Option<&Bound<'_, PyAny>>) -> R {
    let x = v(x)?;
    let nd = x.ndim();
    let perm: Vec<isize> = match axes.filter(|a| !a.is_none()) {
        None => (0..nd as isize).rev().collect(),
        Some(a) => to_shape(a)?,
    };
    wrap(
        py,
        guard(|| {
            let p: Vec<usize> = perm
                .iter()
                .map(|&a| normalize_axis(a, nd))
                .collect::<Result<_, _>>()?;
            shp::transpose(&x, &p)
        })?,
    )
}

/// Broadcast to `shape` (a view).
///
///     >>> fx.broadcast_to(fx.asarray([1.0, 2.0]), (3, 2))
///     Tensor([[1., 2.],
///             [1., 2.],
///             [1., 2.]])
#[pyfunction]
pub fn broadcast_to(py: Python<'_>, x: &Bound<'_, PyAny>, shape: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    let s = to_concrete_shape(shape)?;
    wrap(py, guard(|| shp::broadcast_to(&x, &s))?)
}

/// Swap two axes (a view).
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.swapaxes(x, 0, 1)
///     Tensor([[1., 3.],
///             [2., 4.]])
#[pyfunction]
pub fn swapaxes(py: Python<'_>, x: &Bound<'_, PyAny>, axis1: isize, axis2: isize) -> R {
    let x = v(x)?;
    wrap(py, guard(|| composite::swapaxes(&x, axis1, axis2))?)
}

/// Move axes to new positions (a view).
///
///     >>> fx.moveaxis(fx.ones((2, 3, 4)), 0, -1).shape
///     (3, 4, 2)
#[pyfunction]
pub fn moveaxis(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    source: &Bound<'_, PyAny>,
    destination: &Bound<'_, PyAny>,
) -> R {
    let x = v(x)?;
    let (s, d) = (to_shape(source)?, to_shape(destination)?);
    wrap(py, guard(|| composite::moveaxis(&x, &s, &d))?)
}

/// Insert size-1 axes at `axis` (int or tuple).
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.expand_dims(x, 0).shape
///     (1, 2, 2)
#[pyfunction]
pub fn expand_dims(py: Python<'_>, x: &Bound<'_, PyAny>, axis: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    let a = to_shape(axis)?;
    wrap(py, guard(|| composite::expand_dims(&x, &a))?)
}

/// Remove size-1 axes (all of them when `axis` is None).
///
///     >>> fx.squeeze(fx.zeros((1, 3)))
///     Tensor([0., 0., 0.])
#[pyfunction]
#[pyo3(signature = (x, axis=None))]
pub fn squeeze(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> R {
    let x = v(x)?;
    let a = to_axes(axis)?;
    wrap(py, guard(|| composite::squeeze(&x, a.as_deref()))?)
}

/// Reverse along `axis` (all axes when None), as a view.
///
///     >>> fx.flip(fx.arange(3.0))
///     Tensor([2., 1., 0.])
#[pyfunction]
#[pyo3(signature = (x, axis=None))]
pub fn flip(py: Python<'_>, x: &Bound<'_, PyAny>, axis: Option<&Bound<'_, PyAny>>) -> R {
    let x = v(x)?;
    let a = to_axes(axis)?;
    wrap(py, guard(|| composite::flip(&x, a.as_deref()))?)
}

pub fn values(seq: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
    let items: Vec<Bound<'_, PyAny>> = seq.try_iter()?.collect::<PyResult<_>>()?;
    let first_dt = items
        .iter()
        .find_map(|o| o.cast::<PyTensor>().ok().map(|t| t.get().v.dtype()));
    items.iter().map(|o| to_value(o, first_dt)).collect()
}

/// Join a sequence of arrays along an existing axis.
///
///     >>> fx.concatenate([fx.ones(2), fx.zeros(1)], axis=0)
///     Tensor([1., 1., 0.])
#[pyfunction]
#[pyo3(signature = (arrays, axis=Some(0)))]
pub fn concatenate(py: Python<'_>, arrays: &Bound<'_, PyAny>, axis: Option<isize>) -> R {
    let xs = values(arrays)?;
    let n: usize = xs.iter().map(|x| x.size()).sum();
    compute(py, n, || match axis {
        Some(axis) => shp::concatenate(&xs, axis),
        // NumPy: axis=None flattens every array first
        None => {
            let flat = xs
                .iter()
                .map(|x| shp::reshape(x, &[x.size()]))
                .collect::<ferrax_core::Result<Vec<_>>>()?;
            shp::concatenate(&flat, 0)
        }
    })
}

/// Join a sequence of same-shaped arrays along a new axis.
///
///     >>> fx.stack([fx.ones(2), fx.zeros(2)], axis=1)
///     Tensor([[1., 0.],
///             [1., 0.]])
#[pyfunction]
#[pyo3(signature = (arrays, axis=0))]
pub fn stack(py: Python<'_>, arrays: &Bound<'_, PyAny>, axis: isize) -> R {
    let xs = values(arrays)?;
    let n: usize = xs.iter().map(|x| x.size()).sum();
    compute(py, n, || composite::stack(&xs, axis))
}

/// Elements at integer `indices` along `axis` (flattened when None); the
/// gradient scatters back (adding at repeated indices).
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.take(x, fx.asarray([1, 0]), axis=0)
///     Tensor([[3., 4.],
///             [1., 2.]])
#[pyfunction]
#[pyo3(signature = (x, indices, axis=None))]
pub fn take(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    axis: Option<isize>,
) -> R {
    let x = v(x)?;
    let i = index_v(indices)?;
    compute(py, i.size(), || composite::take(&x, &i, axis))
}

/// NumPy's `take_along_axis`.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.take_along_axis(x, fx.argmax(x, axis=1, keepdims=True), axis=1)
///     Tensor([[2.],
///             [4.]])
#[pyfunction]
#[pyo3(signature = (x, indices, axis))]
pub fn take_along_axis(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    indices: &Bound<'_, PyAny>,
    axis: Option<isize>,
) -> R {
    let x = v(x)?;
    let i = index_v(indices)?;
    compute(py, i.size(), || composite::take_along_axis(&x, &i, axis))
}

/// The value of `x` with zero derivative under every enclosing transform.
///
///     >>> fx.grad(lambda x: fx.stop_gradient(x) * x)(3.0)
///     Tensor(3.)
#[pyfunction]
pub fn stop_gradient(py: Python<'_>, x: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    wrap(py, guard(|| ferrax_core::trace::stop_gradient(&x))?)
}

/// Basic slicing primitive (internal; indexing builds on it).
#[pyfunction]
pub fn _slice(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    starts: Vec<usize>,
    steps: Vec<isize>,
    lens: Vec<usize>,
) -> R {
    let x = v(x)?;
    wrap(py, guard(|| shp::slice(&x, &starts, &steps, &lens))?)
}

/// Gather rows along axis 0 (internal).
#[pyfunction]
pub fn _gather(py: Python<'_>, x: &Bound<'_, PyAny>, idx: &Bound<'_, PyAny>) -> R {
    let x = v(x)?;
    let i = index_v(idx)?;
    compute(py, i.size(), || ops::index::gather(&x, &i))
}

/// Scatter-add rows into `n` rows of zeros (internal).
#[pyfunction]
pub fn _scatter_add(py: Python<'_>, g: &Bound<'_, PyAny>, idx: &Bound<'_, PyAny>, n: usize) -> R {
    let g = v(g)?;
    let i = index_v(idx)?;
    compute(py, g.size(), || ops::index::scatter_add(&g, &i, n))
}

// ---- creation ---------------------------------------------------------------

/// Convert an array-like (tensor, NumPy array, nested list, scalar) to a tensor.
/// NumPy arrays keep their dtype; Python floats become float64 and ints int64.
///
///     >>> fx.asarray([1.0, 2.0], dtype=fx.float32)
///     Tensor([1., 2.], dtype=float32)
#[pyfunction]
#[pyo3(signature = (obj, dtype=None))]
pub fn asarray(py: Python<'_>, obj: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> R {
    let x = v(obj)?;
    match dtype.filter(|d| !d.is_none()) {
        None => wrap(py, x.into_owned()),
        Some(d) => {
            let dt = to_dtype(d)?;
            compute(py, x.size(), || shp::convert(&x, dt))
        }
    }
}

fn dtype_or(d: Option<&Bound<'_, PyAny>>, default: DType) -> PyResult<DType> {
    match d.filter(|d| !d.is_none()) {
        None => Ok(default),
        Some(d) => to_dtype(d),
    }
}

/// A new tensor of `shape` filled with `value`.
///
///     >>> fx.full((2, 2), 3.0)
///     Tensor([[3., 3.],
///             [3., 3.]])
#[pyfunction]
#[pyo3(signature = (shape, fill_value, dtype=None))]
pub fn full(
    py: Python<'_>,
    shape: &Bound<'_, PyAny>,
    fill_value: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> R {
    let s = to_concrete_shape(shape)?;
    let fv = v(fill_value)?;
    let dt = dtype_or(dtype, fv.dtype())?;
    if let Value::Tracer(_) = &*fv {
        // a traced fill (inside a transform): keep its derivative
        return wrap(
            py,
            guard(|| shp::broadcast_to(&shp::convert(&fv, dt)?, &s))?,
        );
    }
    let fv = fv.concrete().map_err(to_pyerr)?;
    let val = fv.item_f64().map_err(to_pyerr)?;
    wrap(
        py,
        Value::Concrete(Tensor::full_contiguous(val, dt, &s).map_err(to_pyerr)?),
    )
}

/// A tensor of zeros (float64 unless `dtype` says otherwise).
///
///     >>> fx.zeros((2, 3), dtype=fx.float32)
///     Tensor([[0., 0., 0.],
///             [0., 0., 0.]], dtype=float32)
#[pyfunction]
#[pyo3(signature = (shape, dtype=None))]
pub fn zeros(py: Python<'_>, shape: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> R {
    let s = to_concrete_shape(shape)?;
    let dt = dtype_or(dtype, DType::F64)?;
    wrap(
        py,
        Value::Concrete(Tensor::zeros(dt, &s).map_err(to_pyerr)?),
    )
}

/// A tensor of ones (float64 unless `dtype` says otherwise).
///
///     >>> fx.ones(3)
///     Tensor([1., 1., 1.])
#[pyfunction]
#[pyo3(signature = (shape, dtype=None))]
pub fn ones(py: Python<'_>, shape: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> R {
    let s = to_concrete_shape(shape)?;
    let dt = dtype_or(dtype, DType::F64)?;
    wrap(
        py,
        Value::Concrete(Tensor::full_contiguous(1.0, dt, &s).map_err(to_pyerr)?),
    )
}

/// The `n×m` identity (ones on diagonal `k`).
///
///     >>> fx.eye(3)
///     Tensor([[1., 0., 0.],
///             [0., 1., 0.],
///             [0., 0., 1.]])
#[pyfunction]
#[pyo3(signature = (n, m=None, k=0, dtype=None))]
pub fn eye(py: Python<'_>, n: i64, m: Option<i64>, k: i64, dtype: Option<&Bound<'_, PyAny>>) -> R {
    let dt = dtype_or(dtype, DType::F64)?;
    wrap(py, guard(|| ops::creation::eye(n, m, k, dt))?)
}

/// Evenly spaced values in `[start, stop)`, as NumPy's `arange`.
///
///     >>> fx.arange(5)          # int64
///     Tensor([0, 1, 2, 3, 4])
///     >>> fx.arange(0.0, 1.0, 0.25)
///     Tensor([0.  , 0.25, 0.5 , 0.75])
#[pyfunction]
#[pyo3(signature = (start, stop=None, step=None, dtype=None))]
pub fn arange(
    py: Python<'_>,
    start: &Bound<'_, PyAny>,
    stop: Option<&Bound<'_, PyAny>>,
    step: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> R {
    // NumPy's rule: int64 when every bound is an integer, float64 otherwise
    let bounds: Vec<&Bound<'_, PyAny>> = [Some(start), stop, step]
        .into_iter()
        .flatten()
        .filter(|b| !b.is_none())
        .collect();
    let all_int = bounds.iter().all(|b| {
        b.is_instance_of::<pyo3::types::PyInt>()
            || b.extract::<i64>().is_ok() && !b.is_instance_of::<pyo3::types::PyFloat>()
    });
    let num = |b: &Bound<'_, PyAny>| -> PyResult<f64> { b.extract::<f64>() };
    let (lo, hi) = match stop.filter(|s| !s.is_none()) {
        Some(s) => (num(start)?, num(s)?),
        None => (0.0, num(start)?),
    };
    let st = match step.filter(|s| !s.is_none()) {
        Some(s) => num(s)?,
        None => 1.0,
    };
    if st == 0.0 {
        // NumPy's exception for a zero step
        return Err(pyo3::exceptions::PyZeroDivisionError::new_err(
            "division by zero",
        ));
    }
    let dt = match dtype.filter(|d| !d.is_none()) {
        Some(d) => to_dtype(d)?,
        None if all_int => DType::I64,
        None => DType::F64,
    };
    wrap(py, guard(|| ops::creation::arange(lo, hi, st, dt))?)
}

/// `num` evenly spaced values from `start` to `stop` (inclusive by default).
///
///     >>> fx.linspace(0.0, 1.0, 5)
///     Tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
#[pyfunction]
#[pyo3(signature = (start, stop, num=50, endpoint=true, dtype=None))]
pub fn linspace(
    py: Python<'_>,
    start: f64,
    stop: f64,
    num: i64,
    endpoint: bool,
    dtype: Option<&Bound<'_, PyAny>>,
) -> R {
    let dt = dtype_or(dtype, DType::F64)?;
    wrap(
        py,
        guard(|| ops::creation::linspace(start, stop, num, endpoint, dt))?,
    )
}

fn like(x: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> PyResult<(Vec<usize>, DType)> {
    let x = v(x)?;
    Ok((x.shape().to_vec(), dtype_or(dtype, x.dtype())?))
}

/// Zeros with the shape and dtype of `x`.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.zeros_like(x)
///     Tensor([[0., 0.],
///             [0., 0.]])
#[pyfunction]
#[pyo3(signature = (x, dtype=None))]
pub fn zeros_like(py: Python<'_>, x: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> R {
    let (s, dt) = like(x, dtype)?;
    wrap(
        py,
        Value::Concrete(Tensor::zeros(dt, &s).map_err(to_pyerr)?),
    )
}

/// Ones with the shape and dtype of `x`.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.ones_like(x)
///     Tensor([[1., 1.],
///             [1., 1.]])
#[pyfunction]
#[pyo3(signature = (x, dtype=None))]
pub fn ones_like(py: Python<'_>, x: &Bound<'_, PyAny>, dtype: Option<&Bound<'_, PyAny>>) -> R {
    let (s, dt) = like(x, dtype)?;
    wrap(
        py,
        Value::Concrete(Tensor::full_contiguous(1.0, dt, &s).map_err(to_pyerr)?),
    )
}

/// `fill_value` with the shape and dtype of `x`.
///
///     >>> x = fx.asarray([[1.0, 2.0], [3.0, 4.0]])
///     >>> fx.full_like(x, 2.0)
///     Tensor([[2., 2.],
///             [2., 2.]])
#[pyfunction]
#[pyo3(signature = (x, fill_value, dtype=None))]
pub fn full_like(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    fill_value: &Bound<'_, PyAny>,
    dtype: Option<&Bound<'_, PyAny>>,
) -> R {
    let (s, dt) = like(x, dtype)?;
    let shape = PyTuple::new(py, s.iter())?;
    let dt_obj = crate::convert::dtype_object(py, dt)?;
    full(py, shape.as_any(), fill_value, Some(&dt_obj))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    add_unary(m)?;
    add_binary(m)?;
    add_reductions(m)?;
    for f in [
        wrap_pyfunction!(where_, m)?,
        wrap_pyfunction!(round, m)?,
        wrap_pyfunction!(_unary_ufuncs, m)?,
        wrap_pyfunction!(_binary_ufuncs, m)?,
        wrap_pyfunction!(clip, m)?,
        wrap_pyfunction!(var, m)?,
        wrap_pyfunction!(std_, m)?,
        wrap_pyfunction!(argmax, m)?,
        wrap_pyfunction!(argmin, m)?,
        wrap_pyfunction!(cumsum, m)?,
        wrap_pyfunction!(reshape, m)?,
        wrap_pyfunction!(transpose, m)?,
        wrap_pyfunction!(broadcast_to, m)?,
        wrap_pyfunction!(swapaxes, m)?,
        wrap_pyfunction!(moveaxis, m)?,
        wrap_pyfunction!(expand_dims, m)?,
        wrap_pyfunction!(squeeze, m)?,
        wrap_pyfunction!(flip, m)?,
        wrap_pyfunction!(concatenate, m)?,
        wrap_pyfunction!(stack, m)?,
        wrap_pyfunction!(take, m)?,
        wrap_pyfunction!(take_along_axis, m)?,
        wrap_pyfunction!(stop_gradient, m)?,
        wrap_pyfunction!(_slice, m)?,
        wrap_pyfunction!(_gather, m)?,
        wrap_pyfunction!(_scatter_add, m)?,
        wrap_pyfunction!(asarray, m)?,
        wrap_pyfunction!(full, m)?,
        wrap_pyfunction!(zeros, m)?,
        wrap_pyfunction!(ones, m)?,
        wrap_pyfunction!(eye, m)?,
        wrap_pyfunction!(arange, m)?,
        wrap_pyfunction!(linspace, m)?,
        wrap_pyfunction!(zeros_like, m)?,
        wrap_pyfunction!(ones_like, m)?,
        wrap_pyfunction!(full_like, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}

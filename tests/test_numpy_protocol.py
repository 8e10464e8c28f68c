"""NumPy functions and ufuncs applied to ferrax tensors run on ferrax and
return ferrax tensors; anything without a ferrax counterpart runs in NumPy on
concrete tensors and raises TypeError naming the function on traced ones (never
a silently detached NumPy result), except functions whose results carry no
derivative; ``out=`` a tensor is refused."""

from __future__ import annotations

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close, make_input

X = np.array([[0.5, -1.25, 2.0], [3.0, 0.75, -0.5]])
Y = np.array([[1.5, 0.25, -2.0], [0.5, 2.0, 1.0]])
V = np.array([1.0, -2.0, 0.5])
SQ = np.array([[2.0, 1.0, 0.5], [0.0, 3.0, 1.0], [1.0, 0.5, 4.0]])

# name -> function of two arrays (x: (2, 3), y: (2, 3)); applied once to NumPy
# arrays and once to ferrax tensors, the results must agree.
FUNCTIONS = {
    # ufuncs, unary
    "sin": lambda x, y: np.sin(x),
    "cos": lambda x, y: np.cos(x),
    "tan": lambda x, y: np.tan(x),
    "exp": lambda x, y: np.exp(x),
    "exp2": lambda x, y: np.exp2(x),
    "expm1": lambda x, y: np.expm1(x),
    "log": lambda x, y: np.log(np.abs(x)),
    "log2": lambda x, y: np.log2(np.abs(x)),
    "log10": lambda x, y: np.log10(np.abs(x)),
    "log1p": lambda x, y: np.log1p(np.abs(x)),
    "sqrt": lambda x, y: np.sqrt(np.abs(x)),
    "square": lambda x, y: np.square(x),
    "reciprocal": lambda x, y: np.reciprocal(x),
    "arcsin": lambda x, y: np.arcsin(x / 4),
    "arccos": lambda x, y: np.arccos(x / 4),
    "arctan": lambda x, y: np.arctan(x),
    "sinh": lambda x, y: np.sinh(x),
    "cosh": lambda x, y: np.cosh(x),
    "tanh": lambda x, y: np.tanh(x),
    "arcsinh": lambda x, y: np.arcsinh(x),
    "arctanh": lambda x, y: np.arctanh(x / 4),
    "floor": lambda x, y: np.floor(x),
    "ceil": lambda x, y: np.ceil(x),
    "rint": lambda x, y: np.rint(x),
    "round": lambda x, y: np.round(x),
    "around": lambda x, y: np.around(x * 2),
    "sign": lambda x, y: np.sign(x),
    "negative": lambda x, y: np.negative(x),
    "positive": lambda x, y: np.positive(x),
    "absolute": lambda x, y: np.absolute(x),
    "abs": lambda x, y: np.abs(x),
    "fabs": lambda x, y: np.fabs(x),
    "isnan": lambda x, y: np.isnan(x / (x - 0.5)),
    "isfinite": lambda x, y: np.isfinite(x / (x - 0.5)),
    "logical_not": lambda x, y: np.logical_not(x > 0),
    # ufuncs, binary
    "add": lambda x, y: np.add(x, y),
    "add_scalar": lambda x, y: np.add(x, 1),
    "subtract": lambda x, y: np.subtract(x, y),
    "multiply": lambda x, y: np.multiply(x, 2.5),
    "divide": lambda x, y: np.divide(x, y),
    "true_divide": lambda x, y: np.true_divide(x, y),
    "power": lambda x, y: np.power(np.abs(x), y),
    "pow": lambda x, y: np.pow(np.abs(x), 3),
    "maximum": lambda x, y: np.maximum(x, y),
    "minimum": lambda x, y: np.minimum(x, y),
    "arctan2": lambda x, y: np.arctan2(x, y),
    "floor_divide": lambda x, y: np.floor_divide(x, y),
    "remainder": lambda x, y: np.remainder(x, y),
    "mod": lambda x, y: np.mod(x, y),
    "equal": lambda x, y: np.equal(x, x),
    "not_equal": lambda x, y: np.not_equal(x, y),
    "less": lambda x, y: np.less(x, y),
    "less_equal": lambda x, y: np.less_equal(x, y),
    "greater": lambda x, y: np.greater(x, y),
    "greater_equal": lambda x, y: np.greater_equal(x, 0.5),
    "logical_and": lambda x, y: np.logical_and(x > 0, y > 0),
    "logical_or": lambda x, y: np.logical_or(x > 0, y > 0),
    "logical_xor": lambda x, y: np.logical_xor(x > 0, y > 0),
    "matmul_ufunc": lambda x, y: np.matmul(x, y.T),
    "add.reduce": lambda x, y: np.add.reduce(x, axis=1),
    "multiply.reduce": lambda x, y: np.multiply.reduce(x, axis=0),
    "maximum.reduce": lambda x, y: np.maximum.reduce(x, axis=1),
    "add.accumulate": lambda x, y: np.add.accumulate(x, axis=1),
    # array functions
    "sum": lambda x, y: np.sum(x),
    "sum_axis": lambda x, y: np.sum(x, axis=0),
    "sum_keepdims": lambda x, y: np.sum(x, axis=1, keepdims=True),
    "prod": lambda x, y: np.prod(x, axis=1),
    "max": lambda x, y: np.max(x, axis=0),
    "min": lambda x, y: np.min(x),
    "amax": lambda x, y: np.amax(x),
    "amin": lambda x, y: np.amin(x, axis=1),
    "mean": lambda x, y: np.mean(x),
    "mean_axis": lambda x, y: np.mean(x, axis=-1),
    "var": lambda x, y: np.var(x, axis=0),
    "var_ddof": lambda x, y: np.var(x, ddof=1),
    "std": lambda x, y: np.std(x, axis=1),
    "argmax": lambda x, y: np.argmax(x, axis=1),
    "argmin": lambda x, y: np.argmin(x),
    "cumsum": lambda x, y: np.cumsum(x, axis=1),
    "cumsum_flat": lambda x, y: np.cumsum(x),
    "dot": lambda x, y: np.dot(x, y.T),
    "vdot": lambda x, y: np.vdot(x, y),
    "inner": lambda x, y: np.inner(x, y),
    "outer": lambda x, y: np.outer(x[0], y[1]),
    "matmul": lambda x, y: np.matmul(x.T, y),
    "tensordot": lambda x, y: np.tensordot(x, y, axes=([1], [1])),
    "einsum": lambda x, y: np.einsum("ij,kj->ik", x, y),
    "einsum_trace": lambda x, y: np.einsum("ii", x @ y.T),
    "trace": lambda x, y: np.trace(x),
    "diagonal": lambda x, y: np.diagonal(x, 1),
    "linalg.norm": lambda x, y: np.linalg.norm(x),
    "linalg.norm_axis": lambda x, y: np.linalg.norm(x, axis=1),
    "reshape": lambda x, y: np.reshape(x, (3, 2)),
    "transpose": lambda x, y: np.transpose(x),
    "permute_dims": lambda x, y: np.permute_dims(x, (1, 0)),
    "swapaxes": lambda x, y: np.swapaxes(x, 0, 1),
    "moveaxis": lambda x, y: np.moveaxis(x, 0, -1),
    "expand_dims": lambda x, y: np.expand_dims(x, 1),
    "squeeze": lambda x, y: np.squeeze(np.expand_dims(x, 0)),
    "broadcast_to": lambda x, y: np.broadcast_to(x, (4, 2, 3)),
    "concatenate": lambda x, y: np.concatenate([x, y], axis=1),
    "concat": lambda x, y: np.concat([x, y]),
    "stack": lambda x, y: np.stack([x, y], axis=1),
    "flip": lambda x, y: np.flip(x, 1),
    "tile": lambda x, y: np.tile(x, (2, 1)),
    "repeat": lambda x, y: np.repeat(x, 2, axis=0),
    "pad": lambda x, y: np.pad(x, 1),
    "pad_edge": lambda x, y: np.pad(x, ((0, 1), (2, 0)), mode="edge"),
    "take": lambda x, y: np.take(x, [2, 0], axis=1),
    "take_along_axis": lambda x, y: np.take_along_axis(x, np.array([[2], [0]]), axis=1),
    "where": lambda x, y: np.where(x > 0, x, y),
    "where_scalar": lambda x, y: np.where(x > 0, x, 0.0),
    "clip": lambda x, y: np.clip(x, -1, 1),
    "zeros_like": lambda x, y: np.zeros_like(x),
    "ones_like": lambda x, y: np.ones_like(x),
    "full_like": lambda x, y: np.full_like(x, 3.0),
    # operators with NumPy arrays on the left
    "ndarray+tensor": lambda x, y: np.asarray(Y) + x,
    "ndarray*tensor": lambda x, y: np.asarray(Y) * x,
    "ndarray-tensor": lambda x, y: np.asarray(Y) - x,
    "ndarray/tensor": lambda x, y: np.asarray(Y) / x,
    "ndarray@tensor": lambda x, y: np.ascontiguousarray(Y.T) @ x,
    "fortran_ndarray@tensor": lambda x, y: np.asarray(Y).T @ x,
    "fortran_ndarray+tensor": lambda x, y: np.asfortranarray(Y) + x,
    "ndarray<tensor": lambda x, y: np.asarray(Y) < x,
    "npscalar*tensor": lambda x, y: np.float64(2.0) * x,
    "composite": lambda x, y: np.sum(np.sin(x) ** 2 + np.exp(-y), axis=1),
}


def _apply(f, x, y):
    with np.errstate(all="ignore"):
        return f(x, y)


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_numpy_function_returns_tensor(name, layout):
    f = FUNCTIONS[name]
    expected = _apply(f, X, Y)
    _, tx = make_input(X.shape, X.dtype, layout, data=X)
    _, ty = make_input(Y.shape, Y.dtype, layout, data=Y)
    got = _apply(f, tx, ty)
    assert isinstance(got, fx.Tensor), f"{name} returned {type(got).__name__}"
    assert_close(got, expected, kind="transcendental")


def test_numpy_split_returns_tensors():
    t = fx.asarray(X)
    parts = np.split(t, 3, axis=1)
    expected = np.split(X, 3, axis=1)
    assert len(parts) == 3
    for p, e in zip(parts, expected, strict=True):
        assert isinstance(p, fx.Tensor)
        assert_close(p, e)


def test_numpy_shape_queries():
    t = fx.asarray(X)
    assert np.shape(t) == (2, 3)
    assert np.ndim(t) == 2
    assert np.size(t) == 6


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_numpy_ufunc_keeps_dtype(dtype):
    a = np.array([1, 2, 3]).astype(dtype)
    t = fx.asarray(a)
    for f in (np.negative, np.square, lambda x: np.add(x, 1), lambda x: np.sum(x)):
        r = f(t)
        assert isinstance(r, fx.Tensor)
        assert_close(r, f(a))
    assert_close(np.sin(t), np.sin(a), kind="transcendental")
    assert_close(np.float32(2) * t, np.float32(2) * a)


def test_numpy_fmax_fmin_ignore_nan():
    # fmax/fmin differ from maximum/minimum: a NaN loses against a number
    a = np.array([np.nan, 1.0, 2.0, np.nan])
    b = np.array([1.0, np.nan, 3.0, np.nan])
    assert_close(np.fmax(fx.asarray(a), b), np.fmax(a, b))
    assert_close(np.fmin(fx.asarray(a), b), np.fmin(a, b))


def test_numpy_sum_dtype_argument():
    t = fx.asarray(X)
    r = np.sum(t, dtype=np.float32)
    assert isinstance(r, fx.Tensor)
    assert_close(r, np.sum(X, dtype=np.float32))


def test_plain_numpy_code_differentiates():
    # the example of the README
    x = np.linspace(0, 1, 5)
    g = fx.grad(lambda x: np.sum(np.sin(x) ** 2))(x)
    assert isinstance(g, fx.Tensor)
    assert_close(g, np.sin(2 * x), kind="transcendental")
    g2 = fx.grad(lambda x: np.mean(np.tanh(np.dot(x, x)) + np.einsum("i,i->", x, x)))(x)
    expected = 2 * x * (1 - np.tanh(x @ x) ** 2) + 2 * x
    assert_close(g2, expected, kind="transcendental")


NUMPY_ONLY = {
    "fft": lambda t: np.fft.fft(t),
    "partition": lambda t: np.partition(t, 1),
    "nancumprod": lambda t: np.nancumprod(t),
    "nanmedian": lambda t: np.nanmedian(t),
    "cbrt": lambda t: np.cbrt(t),
    "nextafter": lambda t: np.nextafter(t, t + 1),
    "outer": lambda t: np.add.outer(t, t),
    "nanpercentile": lambda t: np.nanpercentile(t, 50),
    "polyfit": lambda t: np.polyfit(t[0], t[1], 1),
    "unwrap": lambda t: np.unwrap(t[0]),
    "histogram": lambda t: np.histogram(t, bins=3),
    "sum_where": lambda t: np.sum(t, where=t > 0),
    "exp_dtype": lambda t: np.exp(t, dtype=np.float32),
    "reshape_F": lambda t: np.reshape(t, (3, 2), order="F"),
}


def _traced_call(f, t):
    """Call ``f`` on ``t`` traced by grad (what it returns is dropped)."""

    def g(x):
        f(x)
        return fx.sum(x)

    return fx.grad(g)(t)


@pytest.mark.parametrize("name", list(NUMPY_ONLY))
def test_numpy_only_functions_run_in_numpy_on_concrete_tensors(name):
    t = fx.asarray(X)
    got, want = NUMPY_ONLY[name](t), NUMPY_ONLY[name](X)
    for g, w in zip(
        got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)
    ):
        assert isinstance(g, (np.ndarray, np.generic))
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("name", list(NUMPY_ONLY))
def test_numpy_only_functions_refuse_traced_values(name):
    fname = {"sum_where": "sum", "exp_dtype": "exp", "reshape_F": "reshape"}.get(name, name)
    with pytest.raises(TypeError, match=fname) as info:
        _traced_call(NUMPY_ONLY[name], fx.asarray(X))
    assert "not supported on traced" in str(info.value)


def test_numpy_only_with_numpy_array_first():
    np.testing.assert_array_equal(np.nextafter(X, fx.asarray(X) + 1), np.nextafter(X, X + 1))
    with pytest.raises(TypeError, match="nextafter"):
        _traced_call(lambda x: np.nextafter(X, x), fx.asarray(X))


def test_everyday_numpy_calls_on_concrete_tensors():
    t = fx.asarray(X)
    counts, edges = np.histogram(t, bins=4)
    np.testing.assert_array_equal(counts, np.histogram(X, bins=4)[0])
    np.testing.assert_array_equal(np.unique(t), np.unique(X))
    assert np.allclose(t, X)
    np.testing.assert_array_equal(np.where(t > 0), np.where(X > 0))


def test_functions_without_derivatives_read_traced_values():
    seen = {}

    def f(x):
        seen["order"] = np.argsort(x)
        seen["close"] = np.allclose(x, X)
        seen["unique"] = np.unique(x)
        seen["pos"] = np.searchsorted(np.sort(X[0]), x[0])
        seen["nz"] = np.where(x > 0)
        seen["inf"] = np.isinf(x, where=True)  # a NumPy-only form of a ufunc without derivative
        return fx.sum(x * x)

    g = fx.grad(f)(fx.asarray(X))
    assert_close(g, 2 * X)
    np.testing.assert_array_equal(seen["order"], np.argsort(X))
    assert seen["close"] is True or seen["close"] == np.True_
    np.testing.assert_array_equal(seen["unique"], np.unique(X))
    np.testing.assert_array_equal(seen["pos"], np.searchsorted(np.sort(X[0]), X[0]))
    np.testing.assert_array_equal(seen["nz"], np.where(X > 0))
    np.testing.assert_array_equal(seen["inf"], np.isinf(X))


def test_functions_without_derivatives_refuse_batched_values():
    with pytest.raises(TypeError, match="argpartition"):
        fx.vmap(lambda x: fx.asarray(np.argpartition(x, 1)))(fx.asarray(X))
    # argsort is ferrax's own: batched like any op
    got = fx.vmap(lambda x: np.argsort(x))(fx.asarray(X))
    np.testing.assert_array_equal(np.asarray(got), np.argsort(X, axis=-1))


OUT_CALLS = {
    "sin": lambda t, o: np.sin(t, out=o),
    "add": lambda t, o: np.add(t, 1.0, out=o),
    "multiply_tuple": lambda t, o: np.multiply(2.0, t, out=(o,)),
    "sum": lambda t, o: np.sum(t, axis=0, out=o[0]),
    "mean": lambda t, o: np.mean(t, axis=0, out=o[0]),
    "max": lambda t, o: np.max(t, axis=0, out=o[0]),
    "var": lambda t, o: np.var(t, axis=0, out=o[0]),
    "add.accumulate": lambda t, o: np.add.accumulate(t, axis=0, out=o),
    "matmul": lambda t, o: np.matmul(t, np.eye(3), out=o),
    "cumsum": lambda t, o: np.cumsum(t, out=o.reshape(-1)),
    "dot": lambda t, o: np.dot(t, np.eye(3), out=o),
    "clip": lambda t, o: np.clip(t, 0, 1, out=o),
    "outer": lambda t, o: np.outer(t[0], t[1, :2], out=o[:, :2]),
    "take": lambda t, o: np.take(t, [1, 0], axis=0, out=o),
    "trace": lambda t, o: np.trace(t, out=o[0, 0]),
    "concatenate": lambda t, o: np.concatenate([t[:1], t[1:]], out=o),
    "stack": lambda t, o: np.stack([t[0], t[1]], out=o),
    "round": lambda t, o: np.round(t, out=o),
}


@pytest.mark.parametrize("name", list(OUT_CALLS))
def test_out_argument(name):
    t = fx.asarray(X)
    # a NumPy output array is NumPy's to fill, from concrete values
    o, want = np.zeros((2, 3)), np.zeros((2, 3))
    try:
        OUT_CALLS[name](X, want)
    except (TypeError, ValueError) as e:  # an output NumPy itself refuses
        with pytest.raises(type(e)):
            OUT_CALLS[name](t, o)
    else:
        r = OUT_CALLS[name](t, o)
        np.testing.assert_array_equal(o, want)
        assert not isinstance(r, fx.Tensor)
    # never from traced values, and never into a tensor
    o = np.zeros((2, 3))
    with pytest.raises(TypeError, match="not supported on traced"):
        _traced_call(lambda x: OUT_CALLS[name](x, o), t)
    np.testing.assert_array_equal(o, np.zeros((2, 3)))  # nothing was written
    with pytest.raises(TypeError, match="immutable"):
        np.sin(t, out=fx.zeros((2, 3)))


@pytest.mark.parametrize("decimals", [-2, -1, 0, 1, 2, 3])
def test_round_with_decimals_matches_numpy(decimals):
    x = np.array([0.125, 2.675, -1.5, 2.5, 1234.5678, -0.0049, 1e-9])
    assert_close(np.round(fx.asarray(x), decimals), np.round(x, decimals))
    assert_close(fx.round(fx.asarray(x), decimals), np.round(x, decimals))
    xi = np.array([1234, -1250, 7], dtype=np.int64)
    assert_close(fx.round(fx.asarray(xi), decimals), np.round(xi, decimals))
    # rounding has a zero derivative, whatever the digits
    g = fx.grad(lambda v: fx.sum(fx.round(v, decimals) * v))(x)
    np.testing.assert_allclose(np.asarray(g), np.round(x, decimals))


def test_np_asarray_is_plain_ndarray():
    r = np.asarray(fx.asarray(X))
    assert type(r) is np.ndarray
    np.testing.assert_array_equal(r, X)

"""Forward values of every operation against NumPy, in float32 and float64,
over a table of shapes (empty, 0-d, size-1 axes) and memory layouts (contiguous,
transposed, strided and broadcast views)."""

from __future__ import annotations

import math

import ferrax as fx
import numpy as np
import pytest
import scipy.special
from conftest import FLOAT_DTYPES, LAYOUTS, assert_close, make_input, random_array

SHAPES = [(), (1,), (7,), (3, 4), (2, 1, 5), (0,), (0, 3), (3, 0), (2, 0, 3), (1, 1, 3)]
BIG_SHAPES = [(17,), (1031,), (40_003,), (203, 301)]

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


# name -> (fx function, NumPy reference on float64 data, low, high, tolerance kind)
UNARY = {
    "neg": (fx.neg, np.negative, -3, 3, "exact"),
    "abs": (fx.abs, np.abs, -3, 3, "exact"),
    "sign": (fx.sign, np.sign, -3, 3, "exact"),
    "exp": (fx.exp, np.exp, -5, 5, "transcendental"),
    "exp2": (fx.exp2, np.exp2, -5, 5, "transcendental"),
    "expm1": (fx.expm1, np.expm1, -1, 1, "transcendental"),
    "log": (fx.log, np.log, 0.05, 5, "transcendental"),
    "log2": (fx.log2, np.log2, 0.05, 5, "transcendental"),
    "log10": (fx.log10, np.log10, 0.05, 5, "transcendental"),
    "log1p": (fx.log1p, np.log1p, -0.9, 3, "transcendental"),
    "sqrt": (fx.sqrt, np.sqrt, 0, 5, "transcendental"),
    "rsqrt": (fx.rsqrt, lambda x: 1.0 / np.sqrt(x), 0.05, 5, "transcendental"),
    "square": (fx.square, np.square, -3, 3, "exact"),
    "reciprocal": (fx.reciprocal, np.reciprocal, 0.2, 3, "exact"),
    "sin": (fx.sin, np.sin, -6, 6, "transcendental"),
    "cos": (fx.cos, np.cos, -6, 6, "transcendental"),
    "tan": (fx.tan, np.tan, -1.4, 1.4, "transcendental"),
    "arcsin": (fx.arcsin, np.arcsin, -0.99, 0.99, "transcendental"),
    "arccos": (fx.arccos, np.arccos, -0.99, 0.99, "transcendental"),
    "arctan": (fx.arctan, np.arctan, -5, 5, "transcendental"),
    "sinh": (fx.sinh, np.sinh, -4, 4, "transcendental"),
    "cosh": (fx.cosh, np.cosh, -4, 4, "transcendental"),
    "tanh": (fx.tanh, np.tanh, -4, 4, "transcendental"),
    "arcsinh": (fx.arcsinh, np.arcsinh, -5, 5, "transcendental"),
    "arccosh": (fx.arccosh, np.arccosh, 1.0, 6, "transcendental"),
    "arctanh": (fx.arctanh, np.arctanh, -0.99, 0.99, "transcendental"),
    "sigmoid": (fx.sigmoid, _sigmoid, -10, 10, "transcendental"),
    "relu": (fx.relu, lambda x: np.maximum(x, 0.0), -3, 3, "exact"),
    "softplus": (fx.softplus, _softplus, -10, 10, "transcendental"),
    "erf": (fx.erf, _erf, -3, 3, "transcendental"),
    "erfc": (fx.erfc, scipy.special.erfc, -3, 5, "transcendental"),
    "logit": (fx.logit, scipy.special.logit, 0.01, 0.99, "transcendental"),
    "gammaln": (fx.gammaln, scipy.special.gammaln, 0.05, 12, "transcendental"),
    "digamma": (fx.digamma, scipy.special.digamma, 0.05, 12, "transcendental"),
    "ndtr": (fx.ndtr, scipy.special.ndtr, -6, 6, "transcendental"),
    "log_ndtr": (fx.log_ndtr, scipy.special.log_ndtr, -30, 8, "transcendental"),
    "ndtri": (fx.ndtri, scipy.special.ndtri, 0.001, 0.999, "transcendental"),
    "erfinv": (fx.erfinv, scipy.special.erfinv, -0.999, 0.999, "transcendental"),
    "floor": (fx.floor, np.floor, -5, 5, "exact"),
    "ceil": (fx.ceil, np.ceil, -5, 5, "exact"),
    "round": (fx.round, np.round, -5, 5, "exact"),
    "rint": (fx.rint, np.rint, -5, 5, "exact"),
    "negative_alias": (fx.negative, np.negative, -3, 3, "exact"),
    "absolute_alias": (fx.absolute, np.abs, -3, 3, "exact"),
    "stop_gradient": (fx.stop_gradient, lambda x: x, -3, 3, "exact"),
    "nn.relu": (fx.nn.relu, lambda x: np.maximum(x, 0.0), -3, 3, "exact"),
}


def _ref(f, a, dtype):
    with np.errstate(all="ignore"):
        return np.asarray(f(a.astype(np.float64))).astype(dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, dtype, shape, layout):
    f, ref, lo, hi, kind = UNARY[name]
    a, t = make_input(shape, dtype, layout, lo, hi)
    assert_close(f(t), _ref(ref, a, dtype), kind=kind)


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("shape", BIG_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", [n for n in UNARY if "alias" not in n])
def test_unary_large(name, dtype, shape, layout):
    """Sizes that cross SIMD widths, tails and the multithreading grain."""
    f, ref, lo, hi, kind = UNARY[name]
    a, t = make_input(shape, dtype, layout, lo, hi, seed=3)
    assert_close(f(t), _ref(ref, a, dtype), kind=kind)


def test_unary_accepts_numpy_and_lists():
    assert_close(fx.exp(np.array([0.0, 1.0])), np.exp([0.0, 1.0]), kind="transcendental")
    assert_close(fx.sin([0.0, 1.0]), np.sin([0.0, 1.0]), kind="transcendental")
    assert_close(fx.sqrt(4.0), np.array(2.0))
    assert_close(fx.abs(np.float32(-2.0)), np.array(2.0, np.float32))


def test_unary_operators():
    a, t = make_input((3, 4), np.float32, "transposed")
    assert_close(-t, -a)
    assert_close(abs(t), np.abs(a))


def _special(dtype) -> np.ndarray:
    """Zeros, infinities, NaN, the smallest subnormals and the largest finite values
    of ``dtype`` (made in it, not cast into it: no overflow on the way)."""
    fi = np.finfo(dtype)
    tiny, big = fi.smallest_subnormal, fi.max
    return np.array([0.0, -0.0, np.inf, -np.inf, np.nan, tiny, -tiny, big, -1.0, 1.0], dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "name",
    ["neg", "abs", "sign", "exp", "expm1", "log", "log1p", "sqrt", "square", "sin", "cos"]
    + ["tanh", "sigmoid", "softplus", "arctan", "floor", "ceil", "round", "erf", "exp2"]
    + ["arcsinh", "log2", "log10", "cosh", "sinh", "arccosh", "rint"],
)
def test_unary_special_values(name, dtype):
    f, ref, _, _, _ = UNARY[name]
    a = _special(dtype)
    assert_close(f(fx.asarray(a)), _ref(ref, a, dtype), kind="transcendental")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_unary_out_of_domain_is_nan(dtype):
    a = np.array([-1.0, -2.5, 2.0], dtype)
    for f in (fx.log, fx.sqrt, fx.log2, fx.log10):
        assert np.isnan(np.asarray(f(a))[:2]).all()
    b = np.array([1.5, -1.5], dtype)
    for f in (fx.arcsin, fx.arccos):
        assert np.isnan(np.asarray(f(b))).all()
    assert_close(fx.arctanh(np.array([1.0, -1.0], dtype)), np.array([np.inf, -np.inf], dtype))
    assert_close(fx.log1p(np.array([-1.0], dtype)), np.array([-np.inf], dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_round_half_to_even(dtype):
    a = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, 3.5, 1e10 + 0.5], dtype)
    assert_close(fx.round(a), np.round(a))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_numerically_stable_functions(dtype):
    lo = -80.0 if dtype == np.float32 else -700.0  # results stay normal numbers (no subnormals)
    x = np.array([lo, -30.0, 0.0, 30.0, 100.0, 1e-8, -1e-8], dtype)
    assert_close(fx.sigmoid(x), _ref(_sigmoid, x, dtype), kind="transcendental", atol=0)
    assert_close(fx.softplus(x), _ref(_softplus, x, dtype), kind="transcendental", atol=0)
    small = np.array([1e-10, -1e-10, 1e-20], dtype)
    assert_close(fx.expm1(small), _ref(np.expm1, small, dtype), kind="transcendental", atol=0)
    assert_close(fx.log1p(small), _ref(np.log1p, small, dtype), kind="transcendental", atol=0)
    assert_close(fx.tanh(small), _ref(np.tanh, small, dtype), kind="transcendental", atol=0)
    assert_close(fx.erf(small), _ref(_erf, small, dtype), kind="transcendental", atol=0)


# ---------------------------------------------------------------- elementwise on ints


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_unary(dtype):
    a = np.array([-3, -1, 0, 2, 5], dtype)
    t = fx.asarray(a)
    assert_close(fx.neg(t), -a)
    assert_close(fx.abs(t), np.abs(a))
    assert_close(fx.sign(t), np.sign(a))
    assert_close(fx.square(t), np.square(a))
    assert_close(-t, -a)
    assert_close(fx.exp(t), np.exp(a), kind="transcendental")  # float64 like NumPy
    assert_close(fx.sqrt(fx.abs(t)), np.sqrt(np.abs(a)), kind="transcendental")


# ---------------------------------------------------------------- binary


def _nonzero(shape, dtype, layout, seed):
    """Data in +-[0.5, 2.5) (kept away from zero for denominators)."""
    mag = random_array(shape, np.float64, 0.5, 2.5, seed)
    sgn = np.where(random_array(shape, np.bool_, seed=seed), 1.0, -1.0)
    return make_input(shape, dtype, layout, data=(mag * sgn).astype(dtype), seed=seed)


def _arange_like(shape, dtype, layout, seed):
    # values on a half-integer grid so that ties and exact halves occur
    data = np.round(random_array(shape, np.float64, -3, 3, seed) * 2) / 2
    return make_input(shape, dtype, layout, data=data.astype(dtype), seed=seed)


BINARY = {
    "add": (fx.add, np.add, "any", "exact"),
    "subtract": (fx.subtract, np.subtract, "any", "exact"),
    "multiply": (fx.multiply, np.multiply, "any", "exact"),
    "divide": (fx.divide, np.divide, "nonzero", "exact"),
    "power": (fx.power, np.power, "positive", "transcendental"),
    "maximum": (fx.maximum, np.maximum, "grid", "exact"),
    "minimum": (fx.minimum, np.minimum, "grid", "exact"),
    "arctan2": (fx.arctan2, np.arctan2, "any", "transcendental"),
    "hypot": (fx.hypot, np.hypot, "any", "exact"),
    "logaddexp": (fx.logaddexp, np.logaddexp, "any", "transcendental"),
    "logaddexp2": (fx.logaddexp2, np.logaddexp2, "any", "transcendental"),
    "xlogy": (fx.xlogy, scipy.special.xlogy, "positive", "transcendental"),
    "xlog1py": (fx.xlog1py, scipy.special.xlog1py, "positive", "transcendental"),
    "floor_divide": (fx.floor_divide, np.floor_divide, "nonzero", "exact"),
    "remainder": (fx.remainder, np.remainder, "nonzero", "exact"),
    "pow_alias": (fx.pow, np.power, "positive", "transcendental"),
}

COMPARE = {
    "equal": (fx.equal, np.equal),
    "not_equal": (fx.not_equal, np.not_equal),
    "less": (fx.less, np.less),
    "less_equal": (fx.less_equal, np.less_equal),
    "greater": (fx.greater, np.greater),
    "greater_equal": (fx.greater_equal, np.greater_equal),
    "logical_and": (fx.logical_and, np.logical_and),
    "logical_or": (fx.logical_or, np.logical_or),
    "logical_xor": (fx.logical_xor, np.logical_xor),
}


def _binary_inputs(domain, shape, dtype, layout, seed):
    if domain == "nonzero":
        return _nonzero(shape, dtype, layout, seed)
    if domain == "positive":
        if seed == 0:
            return make_input(shape, dtype, layout, 0.1, 3.0, seed=seed)
        return make_input(shape, dtype, layout, -2.5, 2.5, seed=seed)
    if domain == "grid":
        return _arange_like(shape, dtype, layout, seed)
    return make_input(shape, dtype, layout, -3, 3, seed=seed)


def _binary_ref(ref, a, b, dtype):
    with np.errstate(all="ignore"):
        return np.asarray(ref(a.astype(np.float64), b.astype(np.float64))).astype(dtype)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary(name, dtype, shape, layout):
    f, ref, domain, kind = BINARY[name]
    a, ta = _binary_inputs(domain, shape, dtype, layout, 0)
    b, tb = _binary_inputs(
        domain, shape, dtype, "contiguous" if layout == "broadcast" else layout, 1
    )
    if name in ("floor_divide", "remainder"):
        # NumPy's own float32 result (floor division is discontinuous)
        expected = ref(a, b)
    else:
        expected = _binary_ref(ref, a, b, dtype)
    assert_close(f(ta, tb), expected, kind=kind)


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("shape", BIG_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", [n for n in BINARY if "alias" not in n])
def test_binary_large(name, dtype, shape, layout):
    f, ref, domain, kind = BINARY[name]
    a, ta = _binary_inputs(domain, shape, dtype, layout, 0)
    b, tb = _binary_inputs(domain, shape, dtype, layout, 1)
    expected = ref(a, b) if name in ("floor_divide", "remainder") else _binary_ref(ref, a, b, dtype)
    assert_close(f(ta, tb), expected, kind=kind)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize(
    "dtype", [*FLOAT_DTYPES, np.int32, np.bool_], ids=lambda d: np.dtype(d).name
)
@pytest.mark.parametrize("name", list(COMPARE))
def test_comparisons_and_logical(name, dtype, shape, layout):
    f, ref = COMPARE[name]
    a, ta = _arange_like(shape, np.float64, layout, 0)
    b, tb = _arange_like(shape, np.float64, "contiguous", 1)
    if np.dtype(dtype).kind == "b":
        a, b = a > 0, b > 0
        ta, tb = ta > 0, tb > 0
    else:
        a, b = a.astype(dtype), b.astype(dtype)
        ta, tb = ta.astype(dtype), tb.astype(dtype)
    r = f(ta, tb)
    assert_close(r, ref(a, b))
    assert r.dtype == fx.bool_


@pytest.mark.parametrize(
    "dtype", [*FLOAT_DTYPES, np.int64, np.bool_], ids=lambda d: np.dtype(d).name
)
def test_logical_not(dtype):
    a = np.array([[0, 1, 2], [-1, 0, 3]]).astype(dtype)
    assert_close(fx.logical_not(fx.asarray(a)), np.logical_not(a))
    assert_close(fx.logical_not(fx.asarray(a).T), np.logical_not(a.T))


def test_logical_with_nan_is_true():
    a = np.array([np.nan, 0.0, 1.0])
    assert_close(fx.logical_and(a, a), np.logical_and(a, a))
    assert_close(fx.logical_not(a), np.logical_not(a))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_comparisons_with_nan(dtype):
    a = np.array([np.nan, 1.0, np.inf, -np.inf, 0.0], dtype)
    b = np.array([np.nan, np.nan, np.inf, 0.0, -0.0], dtype)
    for name in ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]:
        f, ref = COMPARE[name]
        assert_close(f(a, b), ref(a, b))
    assert_close(fx.maximum(a, b), np.maximum(a, b))
    assert_close(fx.minimum(a, b), np.minimum(a, b))


OPERATORS = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "/": lambda x, y: x / y,
    "//": lambda x, y: x // y,
    "%": lambda x, y: x % y,
    "**": lambda x, y: abs(x) ** y,
    "==": lambda x, y: x == y,
    "!=": lambda x, y: x != y,
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
}


@pytest.mark.parametrize("op", list(OPERATORS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_operators(dtype, op):
    f = OPERATORS[op]
    kind = "transcendental" if op == "**" else "exact"
    a, ta = _nonzero((3, 4), dtype, "transposed", 0)
    b, tb = _nonzero((3, 4), dtype, "strided", 1)
    assert_close(f(ta, tb), f(a, b), kind=kind)
    assert_close(f(ta, b), f(a, b), kind=kind)
    assert_close(f(a, tb), f(a, b), kind=kind)
    assert_close(f(ta, 1.5), f(a, dtype(1.5)), kind=kind)
    assert_close(f(-1.5, tb), f(dtype(-1.5), b), kind=kind)
    assert_close(f(ta, ta), f(a, a), kind=kind)


BROADCAST_PAIRS = [
    ((3, 1), (4,)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((2, 1, 3), (4, 1)),
    ((1,), (5,)),
    ((5,), (1,)),
    ((0, 3), (1, 3)),
    ((0,), ()),
    ((2, 3, 1), (1, 1, 4)),
    ((4, 1, 1), (3, 2)),
]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", [n for n in BINARY if "alias" not in n] + list(COMPARE))
def test_binary_broadcasting(name, dtype, shapes):
    sa, sb = shapes
    if name in BINARY:
        f, ref, domain, kind = BINARY[name]
    else:
        (f, ref), domain, kind = COMPARE[name], "grid", "exact"
    a, ta = _binary_inputs(domain, sa, dtype, "contiguous", 0)
    b, tb = _binary_inputs(domain, sb, dtype, "transposed", 1)
    if name in BINARY and name not in ("floor_divide", "remainder"):
        expected = _binary_ref(ref, a, b, dtype)
    else:
        expected = ref(a, b)
    assert_close(f(ta, tb), expected, kind=kind)
    assert_close(
        f(tb, ta) if name not in COMPARE else f(tb, ta),
        _swap_ref(name, ref, a, b, dtype),
        kind=kind,
    )


def _swap_ref(name, ref, a, b, dtype):
    if name in BINARY and name not in ("floor_divide", "remainder"):
        return _binary_ref(ref, b, a, dtype)
    with np.errstate(all="ignore"):
        return ref(b, a)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_binary(dtype):
    a = np.array([7, -7, 7, -7, 0, 5, -1, 9], dtype)
    b = np.array([2, 2, -2, -2, 3, 5, 4, -4], dtype)
    ta, tb = fx.asarray(a), fx.asarray(b)
    for name in ["add", "subtract", "multiply", "maximum", "minimum", "floor_divide", "remainder"]:
        assert_close(getattr(fx, name)(ta, tb), getattr(np, name)(a, b))
    assert_close(ta // tb, a // b)
    assert_close(ta % tb, a % b)
    assert_close(ta / tb, a / b)  # float64
    assert_close(fx.divide(ta, tb), np.divide(a, b))
    e = np.abs(b) % 4
    assert_close(ta ** fx.asarray(e), a**e)
    assert_close(fx.power(ta, fx.asarray(e)), np.power(a, e))
    assert_close(ta**2, a**2)
    assert_close(ta**0, a**0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_floor_divide_remainder_python_semantics(dtype):
    a = np.array([7.0, -7.0, 7.0, -7.0, 7.5, -7.5, 0.0, -0.5, 6.0], dtype)
    b = np.array([2.0, 2.0, -2.0, -2.0, 2.0, 2.0, 3.0, 1.0, -3.0], dtype)
    _check_floor_divide_remainder(a, b, dtype)


def _check_floor_divide_remainder(a, b, dtype):
    assert_close(fx.floor_divide(a, b), np.floor_divide(a, b))
    assert_close(fx.remainder(a, b), np.remainder(a, b))
    assert_close(fx.asarray(a) // 2.0, a // dtype(2.0))
    assert_close(fx.asarray(a) % -2.0, a % dtype(-2.0))
    # same as Python's divmod on each element
    q_all, r_all = np.asarray(fx.floor_divide(a, b)), np.asarray(fx.remainder(a, b))
    for x, y, q, r in zip(a, b, q_all, r_all, strict=True):
        pq, pr = divmod(float(x), float(y))
        assert q == pq and r == pr


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_floor_divide_remainder_infinite_divisor(dtype):
    # Python: 3 % inf == 3, -3 % inf == inf, -3 // inf == -1, 3 // inf == 0
    a = np.array([3.0, -3.0, 0.0, np.inf], dtype)
    b = np.array([np.inf, np.inf, -np.inf, 2.0], dtype)
    with np.errstate(all="ignore"):
        assert_close(fx.floor_divide(a, b), np.floor_divide(a, b))
        assert_close(fx.remainder(a, b), np.remainder(a, b))


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_division_overflow_wraps_like_numpy(dtype):
    # MIN // -1 overflows; NumPy wraps to MIN (with a warning) and MIN % -1 is 0.
    # It must not panic in the Rust core (a RuntimeError "internal error").
    lo = np.iinfo(dtype).min
    a = np.array([lo, lo, 7], dtype)
    b = np.array([-1, 1, -1], dtype)
    with np.errstate(all="ignore"):
        assert_close(fx.floor_divide(a, b), np.floor_divide(a, b))
        assert_close(fx.remainder(a, b), np.remainder(a, b))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_floor_divide_remainder_inexact_quotients(dtype):
    # 1.0 // 0.1 is 9.0 in Python and NumPy (0.1 is slightly more than 1/10), and
    # 1.0 % 0.1 is 0.09999999999999995: floor(a / b) rounds the quotient first.
    a = np.array([1.0, -1.0, 0.3, 7.0, 1.0, 2.0], dtype)
    b = np.array([0.1, 0.1, 0.1, 0.7, -0.1, 0.2], dtype)
    _check_floor_divide_remainder(a, b, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_power_cases(dtype):
    x = np.array([-2.0, -1.5, -0.5, 0.0, 0.5, 1.0, 3.0], dtype)
    t = fx.asarray(x)
    with np.errstate(all="ignore"):
        assert_close(t**2, x**2)
        assert_close(t**3, x**3, kind="transcendental")
        assert_close(t**2.0, x**2.0)
        assert_close(t**0, x**0)
        assert_close(t**0.0, x**0.0)
        assert_close(t**1, x**1)
        assert_close(t**-1, x**-1.0, kind="transcendental")
        assert_close(t**-2, x**-2.0, kind="transcendental")
        assert_close(t**0.5, x**0.5, kind="transcendental")  # nan for negative bases
        assert_close(t**1.5, x**1.5, kind="transcendental")
        assert_close(fx.power(t, 3.0), np.power(x, dtype(3.0)), kind="transcendental")
        assert_close(fx.square(t), np.square(x))
        # negative base, integer exponent given as a float array
        e = np.array([2.0, 3.0, 5.0, 1.0, 2.0, 3.0, -1.0], dtype)
        assert_close(fx.power(t, e), np.power(x, e), kind="transcendental")
        assert_close(fx.asarray(0.0) ** fx.asarray(0.0), np.array(1.0))


def test_where():
    c = np.array([[True, False, True], [False, False, True]])
    a, ta = make_input((2, 3), np.float64, "transposed")
    b, tb = make_input((2, 3), np.float64, "strided", seed=5)
    assert_close(fx.where(c, ta, tb), np.where(c, a, b))
    assert_close(fx.where(fx.asarray(c), ta, tb), np.where(c, a, b))
    # broadcasting of all three
    c2 = np.array([True, False, True])
    assert_close(fx.where(c2, ta, 0.0), np.where(c2, a, 0.0))
    assert_close(fx.where(c2[:, None, None], 1.0, ta), np.where(c2[:, None, None], 1.0, a))
    assert_close(fx.where(ta > 0, ta, -ta), np.where(a > 0, a, -a))
    # dtype promotion and weak scalars
    a32 = a.astype(np.float32)
    assert_close(fx.where(c, fx.asarray(a32), 0.0), np.where(c, a32, np.float32(0.0)))
    i = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert_close(fx.where(c, fx.asarray(i), fx.asarray(a32)), np.where(c, i, a32))
    assert_close(fx.where(c, fx.asarray(i), 7), np.where(c, i, np.int32(7)))
    # a non-bool condition is truthiness, as in NumPy
    assert_close(fx.where(fx.asarray(i), 1.0, 2.0), np.where(i, 1.0, 2.0))
    assert_close(fx.where(True, ta, tb), np.where(True, a, b))
    assert_close(
        fx.where(np.zeros((0, 3), bool), 1.0, 2.0), np.where(np.zeros((0, 3), bool), 1.0, 2.0)
    )


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_clip(dtype, layout):
    a, t = make_input((3, 4), dtype, layout, -3, 3)
    assert_close(fx.clip(t, -1.0, 1.5), np.clip(a, dtype(-1.0), dtype(1.5)))
    assert_close(fx.clip(t, None, 0.5), np.clip(a, None, dtype(0.5)))
    assert_close(fx.clip(t, -0.5, None), np.clip(a, dtype(-0.5), None))
    lo = np.array([-1.0, 0.0, -2.0, 1.0], dtype)
    hi = np.array([[0.5], [1.0], [2.0]], dtype)
    assert_close(fx.clip(t, lo, hi), np.clip(a, lo, hi))
    assert_close(fx.clip(t, fx.asarray(lo), fx.asarray(hi)), np.clip(a, lo, hi))


def test_clip_int():
    a = np.array([-5, 0, 3, 9], np.int32)
    assert_close(fx.clip(fx.asarray(a), 0, 4), np.clip(a, 0, 4))


@pytest.mark.parametrize("dtype", [*FLOAT_DTYPES, np.int32], ids=lambda d: np.dtype(d).name)
def test_isnan_isfinite(dtype):
    if np.dtype(dtype).kind == "f":
        a = np.array([[0.0, np.nan, np.inf], [-np.inf, -1.5, np.nan]], dtype)
    else:
        a = np.array([[0, 1, 2], [-3, 4, 5]], dtype)
    for layout in ["contiguous", "transposed"]:
        _, t = make_input(a.shape, dtype, layout, data=a)
        assert_close(fx.isnan(t), np.isnan(a))
        assert_close(fx.isfinite(t), np.isfinite(a))
    assert_close(fx.isnan(fx.asarray(np.nan)), np.isnan(np.array(np.nan)))


# ---------------------------------------------------------------- reductions

RED_AXES = [None, 0, 1, -1, (0, 2), (2, 0), (), (0, 1, 2), -3]


def _lse(a, axis=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    r = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        r = np.squeeze(r, axis=axis if axis is not None else tuple(range(a.ndim)))
    return r


REDUCTIONS = {
    "sum": (fx.sum, np.sum, "exact"),
    "mean": (fx.mean, np.mean, "exact"),
    "prod": (fx.prod, np.prod, "exact"),
    "max": (fx.max, np.max, "exact"),
    "min": (fx.min, np.min, "exact"),
    "var": (fx.var, np.var, "exact"),
    "std": (fx.std, np.std, "transcendental"),
    "logsumexp": (fx.logsumexp, _lse, "transcendental"),
    "nn.logsumexp": (fx.nn.logsumexp, _lse, "transcendental"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", RED_AXES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction(name, dtype, axis, keepdims, layout):
    f, ref, kind = REDUCTIONS[name]
    a, t = make_input((2, 3, 4), dtype, layout, 0.5, 1.5 if name == "prod" else 3.0)
    expected = ref(a.astype(np.float64), axis=axis, keepdims=keepdims).astype(dtype)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-11}
    assert_close(f(t, axis=axis, keepdims=keepdims), expected, kind=kind, **tol)


@pytest.mark.parametrize("shape", [(), (1,), (7,), (1, 1, 3), (5, 1)], ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_small_shapes(name, dtype, shape):
    f, ref, kind = REDUCTIONS[name]
    a, t = make_input(shape, dtype, "contiguous", 0.5, 2.0)
    axes = [None] + list(range(-len(shape), len(shape)))
    for axis in axes:
        expected = ref(a.astype(np.float64), axis=axis).astype(dtype)
        assert_close(
            f(t, axis=axis), expected, kind=kind, rtol=2e-5 if dtype == np.float32 else None
        )


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_reduction_of_empty(dtype):
    a = np.zeros((0, 3), dtype)
    t = fx.asarray(a)
    assert_close(fx.sum(t), np.sum(a))
    assert_close(fx.sum(t, axis=0), np.sum(a, axis=0))
    assert_close(fx.sum(t, axis=1), np.sum(a, axis=1))
    assert_close(fx.prod(t, axis=0), np.prod(a, axis=0))
    assert_close(fx.max(t, axis=1), np.max(a, axis=1))
    assert_close(fx.cumsum(t, axis=0), np.cumsum(a, axis=0))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_logsumexp_of_empty_axis_is_neg_inf(dtype):
    # log(sum(exp(x))) over nothing is log(0) = -inf (as JAX and scipy give)
    t = fx.zeros((0, 3), dtype=dtype)
    assert_close(fx.logsumexp(t, axis=0), np.full(3, -np.inf, dtype))
    assert_close(fx.logsumexp(t, axis=1), np.zeros(0, dtype))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_var_std_ddof(dtype):
    a, t = make_input((4, 5), dtype, "transposed")
    for ddof in (0, 1, 2):
        for axis in (None, 0, 1):
            assert_close(
                fx.var(t, axis=axis, ddof=ddof),
                np.var(a, axis=axis, ddof=ddof),
                rtol=1e-5 if dtype == np.float32 else 1e-11,
            )
            assert_close(
                fx.std(t, axis=axis, ddof=ddof),
                np.std(a, axis=axis, ddof=ddof),
                rtol=1e-5 if dtype == np.float32 else 1e-11,
            )


def test_var_is_not_catastrophically_cancelling():
    a = np.array([1e8 + 1.0, 1e8 + 2.0, 1e8 + 3.0, 1e8 + 4.0])
    assert_close(fx.var(a), np.var(a), rtol=1e-9)
    assert_close(fx.std(a), np.std(a), rtol=1e-9)


def test_logsumexp_is_stable():
    a = np.array([[1000.0, 1000.0, -1000.0], [-1e4, -1e4, -1e4]])
    assert_close(fx.logsumexp(a), _lse(a), kind="transcendental")
    assert_close(fx.logsumexp(a, axis=1), _lse(a, axis=1), kind="transcendental")
    b = np.array([-np.inf, -np.inf])
    assert_close(fx.logsumexp(b), np.array(-np.inf))
    c = np.array([np.inf, 1.0])
    assert_close(fx.logsumexp(c), np.array(np.inf))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
def test_reduction_dtypes_of_ints_and_bools(dtype):
    a = random_array((3, 4), dtype, -5, 5)
    t = fx.asarray(a)
    for axis in (None, 0, (0, 1)):
        assert_close(fx.sum(t, axis=axis), np.sum(a, axis=axis))  # int64 like NumPy
        assert_close(fx.prod(t, axis=axis), np.prod(a, axis=axis))
        assert_close(fx.max(t, axis=axis), np.max(a, axis=axis))
        assert_close(fx.min(t, axis=axis), np.min(a, axis=axis))
        assert_close(fx.mean(t, axis=axis), np.mean(a, axis=axis))
        assert_close(fx.var(t, axis=axis), np.var(a, axis=axis))
        assert_close(
            fx.argmax(t, axis=axis if axis != (0, 1) else None),
            np.argmax(a, axis=axis if axis != (0, 1) else None),
        )
    assert_close(fx.cumsum(t, axis=0), np.cumsum(a, axis=0))
    assert_close(fx.cumsum(t), np.cumsum(a))


def test_sum_dtype_examples():
    assert fx.sum(fx.asarray(np.array([1, 2], np.int32))).dtype == fx.int64
    assert fx.sum(fx.asarray([True, True, False])).dtype == fx.int64
    assert fx.sum(fx.asarray([True, True, False])).item() == 2
    assert fx.sum(fx.asarray(np.ones(3, np.float32))).dtype == fx.float32
    assert fx.mean(fx.asarray(np.ones(3, np.float32))).dtype == fx.float32
    assert fx.mean(fx.asarray(np.arange(4, dtype=np.int32))).dtype == fx.float64


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_max_min_nan_propagates(dtype):
    a = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0], [np.nan, -1.0, np.inf]], dtype)
    t = fx.asarray(a)
    with np.errstate(all="ignore"):
        for axis in (None, 0, 1):
            assert_close(fx.max(t, axis=axis), np.max(a, axis=axis))
            assert_close(fx.min(t, axis=axis), np.min(a, axis=axis))
            assert_close(fx.sum(t, axis=axis), np.sum(a, axis=axis))
        # NaN first as well (a comparison-based max would drop it)
        b = np.array([np.nan, 1.0, 2.0], dtype)
        assert_close(fx.max(b), np.max(b))
        assert_close(fx.min(b), np.min(b))
        assert_close(fx.argmax(b), np.argmax(b))
        assert_close(fx.argmin(fx.asarray(a), axis=1), np.argmin(a, axis=1))
        assert_close(fx.argmax(fx.asarray(a), axis=0), np.argmax(a, axis=0))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [*FLOAT_DTYPES, np.int32], ids=lambda d: np.dtype(d).name)
def test_argmax_argmin(dtype, layout):
    base = np.round(random_array((3, 4, 5), np.float64, -4, 4, seed=2))  # with ties
    a, t = make_input((3, 4, 5), dtype, layout, data=base.astype(dtype))
    for axis in (None, 0, 1, 2, -1):
        for kd in (False, True):
            assert_close(fx.argmax(t, axis=axis, keepdims=kd), np.argmax(a, axis=axis, keepdims=kd))
            assert_close(fx.argmin(t, axis=axis, keepdims=kd), np.argmin(a, axis=axis, keepdims=kd))


def test_argmax_ties_first():
    a = np.array([1.0, 3.0, 3.0, 0.0, 3.0])
    assert fx.argmax(a).item() == 1
    assert fx.argmin(-a).item() == 1
    assert fx.argmax(a).dtype == fx.int64


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_cumsum(dtype, layout):
    a, t = make_input((3, 4, 5), dtype, layout)
    for axis in (None, 0, 1, 2, -1, -3):
        assert_close(
            fx.cumsum(t, axis=axis),
            np.cumsum(a, axis=axis),
            rtol=1e-5 if dtype == np.float32 else None,
            atol=1e-5 if dtype == np.float32 else None,
        )
    assert_close(fx.cumsum(fx.asarray(np.array(2.0, dtype))), np.cumsum(np.array(2.0, dtype)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "logsumexp", "var"])
def test_reduction_large(name, dtype):
    f, ref, kind = REDUCTIONS[name]
    a, t = make_input(
        (257, 301), dtype, "contiguous", 0.999, 1.001 if name == "prod" else 2.0, seed=9
    )
    for axis in (None, 0, 1):
        expected = ref(a.astype(np.float64), axis=axis)
        # a float32 product of n factors drifts like sqrt(n) * eps in any order: 1.7e-5 here
        tol = (1e-4 if name == "prod" else 2e-5) if dtype == np.float32 else 1e-10
        assert_close(f(t, axis=axis), expected.astype(dtype), kind=kind, rtol=tol)
    b, tt = make_input((257, 301), dtype, "transposed", 0.999, 1.001 if name == "prod" else 2.0)
    for axis in (0, 1):
        expected = ref(b.astype(np.float64), axis=axis)
        tol = 2e-5 if dtype == np.float32 else 1e-10
        assert_close(f(tt, axis=axis), expected.astype(dtype), kind=kind, rtol=tol)


def test_float32_sum_accuracy():
    # NumPy's pairwise summation gets this to ~1e-7; a naive float32 loop drifts by ~1.4e-4.
    t = fx.full(100_000, 0.1, dtype=fx.float32)
    assert abs(fx.sum(t).item() - 10_000.0) < 0.1
    assert abs(fx.mean(t).item() - 0.1) < 2e-6


# ---------------------------------------------------------------- linear algebra

LA_TOL = {
    np.dtype(np.float32): dict(rtol=2e-5, atol=2e-5),
    np.dtype(np.float64): dict(rtol=1e-11, atol=1e-12),
}

MATMUL_SHAPES = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
    ((1, 4), (4, 1)),
    ((0, 4), (4, 3)),
    ((3, 0), (0, 4)),
    ((2, 0, 3), (3, 2)),
    ((65, 130), (130, 67)),
    ((7, 1, 33, 17), (3, 17, 9)),
]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_matmul(dtype, shapes, layout):
    a, ta = make_input(shapes[0], dtype, layout, seed=1)
    b, tb = make_input(shapes[1], dtype, layout, seed=2)
    expected = np.matmul(a, b)
    assert_close(fx.matmul(ta, tb), expected, **LA_TOL[np.dtype(dtype)])
    assert_close(ta @ tb, expected, **LA_TOL[np.dtype(dtype)])
    assert_close(ta @ b, expected, **LA_TOL[np.dtype(dtype)])
    assert_close(a @ tb, expected, **LA_TOL[np.dtype(dtype)])


def test_matmul_broadcast_views():
    a, ta = make_input((3, 4, 5), np.float64, "broadcast")
    b, tb = make_input((5, 2), np.float64, "transposed")
    assert_close(ta @ tb, a @ b, **LA_TOL[np.dtype(np.float64)])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("side", ["left", "right"])
def test_matmul_with_the_identity_is_the_product(dtype, side):
    # a product with the identity returns the other operand without a GEMM;
    # the values must be the GEMM's: equal for finite operands, and with an
    # inf the NaNs a real product makes (inf * 0)
    a = random_array((48, 40), dtype, -3, 3)
    eye = np.eye(48 if side == "left" else 40, dtype=dtype)
    prod = (lambda x, e: e @ x) if side == "left" else (lambda x, e: x @ e)
    for layout in (a, np.asfortranarray(a)):
        np.testing.assert_array_equal(np.asarray(prod(fx.asarray(layout), fx.asarray(eye.T))), a)
    a[3, 5] = np.inf
    with np.errstate(invalid="ignore"):
        want = prod(a, eye)
    got = np.asarray(prod(fx.asarray(a), fx.asarray(eye)))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(got).any()
    np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("where", [(0, 0), (17, 23), (47, 39)])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_identity_shortcut_sees_every_non_finite_entry(dtype, where, bad):
    # the scans behind the shortcut are vectorised without an early exit: a
    # non-finite entry anywhere (first, middle, the last, in a SIMD loop's
    # tail) must still send the product to the GEMM, for an operand that is a
    # row-major view at an offset, a column-major (transposed) view, or a
    # strided view
    a = random_array((48, 40), dtype, -3, 3)
    a[where] = bad
    padded = np.zeros((50, 40), dtype)
    padded[2:] = a
    wide = np.zeros((48, 80), dtype)
    wide[:, ::2] = a
    views = {
        "offset": fx.asarray(padded)[2:],
        "transposed": fx.asarray(np.ascontiguousarray(a.T)).T,
        "strided": fx.asarray(wide)[:, ::2],
    }
    eye = np.eye(40, dtype=dtype)
    with np.errstate(invalid="ignore"):
        want = a @ eye
    for name, view in views.items():
        got = np.asarray(view @ fx.asarray(eye))
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
        np.testing.assert_array_equal(got[~np.isnan(got)], want[~np.isnan(want)], err_msg=name)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("where", [(0, 39), (20, 3), (39, 38)])
def test_a_near_identity_is_multiplied(dtype, where):
    # one stray entry anywhere in a row (also past a SIMD loop's last full
    # vector) makes the matrix not the identity: the product is computed
    a = random_array((48, 40), dtype, -3, 3)
    near = np.eye(40, dtype=dtype)
    near[where] = 0.5
    assert_close(fx.asarray(a) @ fx.asarray(near), a @ near, **LA_TOL[np.dtype(dtype)])
    assert_close(fx.asarray(near) @ fx.asarray(a.T), near @ a.T, **LA_TOL[np.dtype(dtype)])


@pytest.mark.parametrize(
    "d1, d2",
    [(np.int32, np.int32), (np.int64, np.int64), (np.float32, np.float64), (np.int32, np.float32)],
)
def test_matmul_dtypes(d1, d2):
    a = random_array((3, 4), d1, -3, 3)
    b = random_array((4, 2), d2, -3, 3)
    assert_close(fx.matmul(a, b), np.matmul(a, b), rtol=1e-6)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_dot_vdot_inner_outer(dtype):
    tol = LA_TOL[np.dtype(dtype)]
    cases = [
        ((4,), (4,)),
        ((3, 4), (4, 2)),
        ((2, 3, 4), (4,)),
        ((2, 3, 4), (5, 4, 6)),
        ((3,), (3, 2)),
    ]
    for sa, sb in cases:
        a, ta = make_input(sa, dtype, "transposed", seed=1)
        b, tb = make_input(sb, dtype, "contiguous", seed=2)
        assert_close(fx.dot(ta, tb), np.dot(a, b), **tol)
    a, ta = make_input((3,), dtype, seed=1)
    assert_close(fx.dot(ta, dtype(2.5)), np.dot(a, dtype(2.5)), **tol)
    assert_close(fx.dot(dtype(2.5), ta), np.dot(dtype(2.5), a), **tol)
    for sa, sb in [((6,), (6,)), ((2, 3), (3, 2)), ((2, 3), (6,))]:
        a, ta = make_input(sa, dtype, "transposed", seed=1)
        b, tb = make_input(sb, dtype, "strided", seed=2)
        assert_close(fx.vdot(ta, tb), np.vdot(a, b), **tol)
    for sa, sb in [((4,), (4,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,)), ((), (2, 3))]:
        a, ta = make_input(sa, dtype, "transposed", seed=1)
        b, tb = make_input(sb, dtype, "contiguous", seed=2)
        assert_close(fx.inner(ta, tb), np.inner(a, b), **tol)
    for sa, sb in [((4,), (3,)), ((2, 2), (3,)), ((0,), (2,)), ((), (3,))]:
        a, ta = make_input(sa, dtype, "transposed", seed=1)
        b, tb = make_input(sb, dtype, "strided", seed=2)
        assert_close(fx.outer(ta, tb), np.outer(a, b), **tol)


@pytest.mark.parametrize(
    "sa, sb, axes",
    [
        ((3, 4), (4, 5), 1),
        ((2, 3, 4), (3, 4, 5), 2),
        ((2, 3), (4, 5), 0),
        ((3, 4), (3, 4), 2),
        ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])),
        ((3, 4), (5, 3), ([0], [1])),
        ((3, 4), (5, 3), (0, 1)),
        ((2, 3, 4), (4, 2), ([-1, 0], [0, -1])),
    ],
    ids=str,
)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_tensordot(dtype, sa, sb, axes):
    a, ta = make_input(sa, dtype, "transposed", seed=1)
    b, tb = make_input(sb, dtype, "strided", seed=2)
    assert_close(
        fx.tensordot(ta, tb, axes=axes), np.tensordot(a, b, axes=axes), **LA_TOL[np.dtype(dtype)]
    )


def test_tensordot_default_axes():
    a, ta = make_input((2, 3, 4), np.float64, seed=1)
    b, tb = make_input((3, 4, 5), np.float64, seed=2)
    assert_close(fx.tensordot(ta, tb), np.tensordot(a, b), **LA_TOL[np.dtype(np.float64)])


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("ijk,kj->i", [(2, 3, 4), (4, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ba", [(3, 4)]),
    ("i->", [(0,)]),
    ("iij->j", [(3, 3, 2)]),
    ("bi,bi->b", [(4, 3), (4, 3)]),
]


@pytest.mark.parametrize("case", EINSUM_CASES, ids=lambda c: c[0])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_einsum(dtype, case):
    spec, shapes = case
    pairs = [
        make_input(s, dtype, "transposed" if i % 2 else "contiguous", seed=i)
        for i, s in enumerate(shapes)
    ]
    expected = np.einsum(spec, *[p[0] for p in pairs])
    assert_close(fx.einsum(spec, *[p[1] for p in pairs]), expected, **LA_TOL[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_trace_diagonal(dtype):
    a, t = make_input((4, 5), dtype, "transposed")
    for off in (0, 1, -1, 3, -3, 6, -6):
        assert_close(fx.diagonal(t, offset=off), np.diagonal(a, offset=off))
        assert_close(fx.trace(t, offset=off), np.trace(a, offset=off), **LA_TOL[np.dtype(dtype)])
    b, tb = make_input((2, 3, 4), dtype, "strided")
    for off, a1, a2 in [(0, 0, 1), (1, 1, 2), (0, 2, 0), (-1, -1, 0), (0, 0, 2)]:
        assert_close(fx.diagonal(tb, off, a1, a2), np.diagonal(b, off, a1, a2))
        assert_close(fx.trace(tb, off, a1, a2), np.trace(b, off, a1, a2), **LA_TOL[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_linalg_norm(dtype):
    tol = LA_TOL[np.dtype(dtype)]
    v, tv = make_input((7,), dtype, "strided")
    for o in (None, 2, 1, np.inf, -np.inf, 3, 0.5):
        assert_close(
            fx.linalg.norm(tv, ord=o), np.linalg.norm(v, ord=o), kind="transcendental", **tol
        )
    m, tm = make_input((3, 4), dtype, "transposed")
    assert_close(fx.linalg.norm(tm), np.linalg.norm(m), **tol)
    assert_close(fx.linalg.norm(tm, "fro"), np.linalg.norm(m, "fro"), **tol)
    for axis in (0, 1, -1):
        for o in (None, 1, np.inf):
            assert_close(
                fx.linalg.norm(tm, ord=o, axis=axis), np.linalg.norm(m, ord=o, axis=axis), **tol
            )
    assert_close(
        fx.linalg.norm(tm, axis=1, keepdims=True), np.linalg.norm(m, axis=1, keepdims=True), **tol
    )
    c, tc = make_input((2, 3, 4), dtype)
    assert_close(fx.linalg.norm(tc), np.linalg.norm(c), **tol)
    assert_close(fx.linalg.norm(tc, axis=(1, 2)), np.linalg.norm(c, axis=(1, 2)), **tol)


def test_linalg_norm_int_input():
    assert_close(fx.linalg.norm(fx.asarray([3, 4])), np.linalg.norm(np.array([3, 4])))


def _spd(n, dtype, seed=0):
    m = random_array((n, n), np.float64, -1, 1, seed)
    return (m @ m.T + n * np.eye(n)).astype(dtype)


# ---------------------------------------------------------------- shape ops


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize(
    "dtype", [*FLOAT_DTYPES, np.int32, np.bool_], ids=lambda d: np.dtype(d).name
)
def test_reshape_transpose_family(dtype, layout):
    a, t = make_input((2, 3, 4), dtype, layout)
    for shape in [(24,), (-1,), (4, 6), (2, -1), (1, 2, 1, 12), (3, 2, 4), (-1, 2, 3)]:
        assert_close(fx.reshape(t, shape), np.reshape(a, shape))
    for axes in [None, (0, 1, 2), (2, 0, 1), (1, 0, 2), (-1, -2, -3)]:
        assert_close(fx.transpose(t, axes), np.transpose(a, axes))
        assert_close(fx.permute_dims(t, axes), np.transpose(a, axes))
    assert_close(fx.swapaxes(t, 0, 2), np.swapaxes(a, 0, 2))
    assert_close(fx.swapaxes(t, -1, 1), np.swapaxes(a, -1, 1))
    assert_close(fx.moveaxis(t, 0, -1), np.moveaxis(a, 0, -1))
    assert_close(fx.moveaxis(t, [0, 1], [2, 0]), np.moveaxis(a, [0, 1], [2, 0]))
    assert_close(fx.moveaxis(t, -1, 0), np.moveaxis(a, -1, 0))
    for axis in [0, 1, 3, -1, -4, (0, 2), (0, -1)]:
        assert_close(fx.expand_dims(t, axis), np.expand_dims(a, axis))
    assert_close(fx.flip(t), np.flip(a))
    for axis in [0, 1, -1, (0, 2)]:
        assert_close(fx.flip(t, axis), np.flip(a, axis))


def test_reshape_zero_and_scalar():
    assert_close(fx.reshape(fx.zeros((0, 3)), (3, 0)), np.zeros((3, 0)))
    assert_close(fx.reshape(fx.zeros((0, 3)), (-1, 3)), np.zeros((0, 3)))
    assert_close(fx.reshape(fx.asarray(2.0), (1, 1, 1)), np.full((1, 1, 1), 2.0))
    assert_close(fx.reshape(fx.ones((1, 1)), ()), np.array(1.0))
    assert_close(fx.reshape(fx.ones((1, 1)), -1), np.ones(1))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_squeeze(layout):
    a, t = make_input((1, 3, 1, 2), np.float64, layout)
    for axis in [None, 0, 2, -2, (0, 2), (-4, -2)]:
        assert_close(fx.squeeze(t, axis), np.squeeze(a, axis))
    assert_close(fx.squeeze(fx.ones((1, 1))), np.array(1.0))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_broadcast_to(layout):
    a, t = make_input((3, 1), np.float32, layout)
    for shape in [(3, 1), (3, 4), (2, 3, 4), (0, 3, 5), (1, 3, 1)]:
        assert_close(fx.broadcast_to(t, shape), np.broadcast_to(a, shape))
    assert_close(fx.broadcast_to(fx.asarray(2.0), (2, 2)), np.full((2, 2), 2.0))
    assert_close(fx.broadcast_to(np.arange(3), (2, 3)), np.broadcast_to(np.arange(3), (2, 3)))
    assert_close(fx.broadcast_to(fx.ones(3), 3), np.ones(3))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_concatenate_stack(layout):
    a, ta = make_input((2, 3), np.float64, layout, seed=1)
    b, tb = make_input((2, 3), np.float64, "contiguous", seed=2)
    c, tc = make_input((1, 3), np.float64, "transposed", seed=3)
    assert_close(fx.concatenate([ta, tb, tc]), np.concatenate([a, b, c]))
    assert_close(fx.concatenate((ta, tb), axis=1), np.concatenate((a, b), axis=1))
    assert_close(fx.concatenate([ta, tb], axis=-1), np.concatenate([a, b], axis=-1))
    assert_close(fx.concatenate([ta]), a)
    assert_close(fx.concatenate([ta, np.zeros((0, 3))]), np.concatenate([a, np.zeros((0, 3))]))
    assert_close(fx.concatenate([a, tb]), np.concatenate([a, b]))
    for axis in [0, 1, 2, -1, -3]:
        assert_close(fx.stack([ta, tb], axis=axis), np.stack([a, b], axis=axis))
    assert_close(fx.stack([ta]), np.stack([a]))
    assert_close(fx.stack([fx.asarray(1.0), fx.asarray(2.0)]), np.stack([1.0, 2.0]))


def test_concatenate_stack_promote():
    a32 = np.ones((2,), np.float32)
    i64 = np.arange(3)
    assert_close(fx.concatenate([fx.asarray(a32), fx.asarray(i64)]), np.concatenate([a32, i64]))
    f64 = np.ones(2)
    assert_close(fx.concatenate([fx.asarray(a32), fx.asarray(f64)]), np.concatenate([a32, f64]))
    i32 = np.arange(2, dtype=np.int32)
    assert_close(fx.stack([fx.asarray(i32), fx.asarray(a32)]), np.stack([i32, a32]))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_split(layout):
    a, t = make_input((6, 4), np.float64, layout)
    for ios, axis in [
        (3, 0),
        (2, 1),
        (1, 0),
        ([1, 4], 0),
        ([2], 1),
        ([0, 3, 3, 10], 0),
        ([], 0),
        (2, -1),
        ([5, 2], 0),
    ]:
        got = fx.split(t, ios, axis=axis)
        exp = np.split(a, ios, axis=axis)
        assert isinstance(got, list) and len(got) == len(exp)
        for g, e in zip(got, exp, strict=True):
            assert_close(g, e)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_tile_repeat(layout):
    a, t = make_input((2, 3), np.float64, layout)
    for reps in [2, (2,), (1, 2), (2, 1), (2, 3), (2, 1, 2), (0, 2), 1]:
        assert_close(fx.tile(t, reps), np.tile(a, reps))
    for r, axis in [(2, None), (2, 0), (3, 1), (1, -1), (0, 0)]:
        assert_close(fx.repeat(t, r, axis=axis), np.repeat(a, r, axis=axis))
    for r, axis in [
        ([1, 0, 2], 1),
        ([2, 1], 0),
        (np.array([0, 3]), -2),
        ([1, 2, 0, 1, 1, 3], None),
    ]:
        assert_close(fx.repeat(t, r, axis=axis), np.repeat(a, r, axis=axis))
    s = fx.asarray(5.0)
    assert_close(fx.tile(s, 3), np.tile(np.array(5.0), 3))
    assert_close(fx.repeat(s, 3), np.repeat(np.array(5.0), 3))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [*FLOAT_DTYPES, np.int64], ids=lambda d: np.dtype(d).name)
def test_pad(dtype, layout):
    a, t = make_input((2, 3), dtype, layout)
    for pw in [1, (1, 2), ((1, 0), (0, 2)), ((0, 0), (3, 1)), [[2, 2], [1, 1]], 0]:
        assert_close(fx.pad(t, pw), np.pad(a, pw))
        assert_close(fx.pad(t, pw, mode="edge"), np.pad(a, pw, mode="edge"))
        assert_close(fx.pad(t, pw, constant_values=7), np.pad(a, pw, constant_values=7))
    v, tv = make_input((4,), dtype, layout)
    assert_close(fx.pad(tv, (2, 3), mode="edge"), np.pad(v, (2, 3), mode="edge"))
    assert_close(fx.pad(tv, ((1, 1),), mode="constant"), np.pad(v, ((1, 1),), mode="constant"))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_take(layout):
    a, t = make_input((4, 5), np.float64, layout)
    cases = [
        ([0, 3, 19], None),
        ([-1, -20, 7], None),
        (np.array([[1, 2], [0, 0]]), None),
        (2, None),
        ([3, 0, 3], 0),
        ([-1, 1], 0),
        ([4, 0, -5], 1),
        ([[1, 2], [3, 4]], -1),
        (np.array([], dtype=np.int64), 0),
        (-2, -1),
        (np.array([1, 2], np.int32), 1),
    ]
    for idx, axis in cases:
        assert_close(fx.take(t, idx, axis=axis), np.take(a, idx, axis=axis))
    assert_close(fx.take(t, fx.asarray([1, 0]), axis=0), np.take(a, [1, 0], axis=0))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_take_along_axis(layout):
    a, t = make_input((3, 4), np.float64, layout)
    idx0 = np.array([[0, 2, 1, 2], [1, 1, 0, 0]])
    idx1 = np.array([[3], [0], [-1]])
    assert_close(fx.take_along_axis(t, idx0, axis=0), np.take_along_axis(a, idx0, axis=0))
    assert_close(fx.take_along_axis(t, idx1, axis=1), np.take_along_axis(a, idx1 % 4, axis=1))
    assert_close(fx.take_along_axis(t, idx1 % 4, axis=-1), np.take_along_axis(a, idx1 % 4, axis=-1))
    order = np.argsort(a, axis=1)
    assert_close(fx.take_along_axis(t, fx.asarray(order), axis=1), np.sort(a, axis=1))
    b, tb = make_input((2, 3, 4), np.float64, layout)
    i = np.argmax(b, axis=1)[:, None, :]
    assert_close(fx.take_along_axis(tb, i, axis=1), np.take_along_axis(b, i, axis=1))
    flat = np.array([5, 0, 23])
    assert_close(fx.take_along_axis(tb, flat, axis=None), np.take_along_axis(b, flat, axis=None))


# ---------------------------------------------------------------- indexing

KEYS = [
    1,
    -1,
    (1, 2),
    (-4, -5, -6),
    (1, 2, 3),
    slice(1, 3),
    slice(None, None, 2),
    slice(None, None, -1),
    slice(-1, 0, -2),
    slice(10, 20),
    slice(3, 1),
    (slice(None), slice(1, None, 3)),
    (slice(None, None, -2), slice(4, 0, -3), slice(None, None, 5)),
    Ellipsis,
    (Ellipsis, 1),
    (0, Ellipsis, -1),
    (None,),
    (None, 1),
    (1, None, slice(None), None),
    (Ellipsis, None),
    np.array([0, 2, 3]),
    [0, -1, 0],
    np.array([[0, 1], [2, 3]]),
    np.array([], dtype=np.int64),
    (np.array([0, 1]), np.array([2, 3])),
    (np.array([[0], [3]]), np.array([1, 2, 4])),
    (np.array([0, 1]), slice(None), np.array([2, 3])),
    (slice(None), np.array([0, 4]), np.array([2, 3])),
    (1, slice(None), np.array([0, 2])),
    (np.array([0, 2]), 1),
    (slice(1, 3), np.array([[0, 1], [2, 3]])),
    (Ellipsis, np.array([5, -6])),
    (None, np.array([1, 2]), slice(None), 0),
    np.array([True, False, True, True]),
    (slice(None), np.array([True, False, False, True, True])),
    np.arange(20).reshape(4, 5) % 3 == 0,
    (np.array([True, False, True, False]), slice(None), 2),
    np.int64(2),
    np.array(3),
    (np.array(1), np.array([1, 2])),
]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("key", KEYS, ids=lambda k: repr(k).replace("\n", ""))
def test_getitem(key, layout):
    a, t = make_input((4, 5, 6), np.float64, layout)
    assert_close(t[key], a[key])


def test_getitem_broadcast_view_and_dtypes():
    a, t = make_input((4, 5, 6), np.float32, "broadcast")
    assert_close(t[1:, ::2, -1], a[1:, ::2, -1])
    assert_close(t[np.array([3, 0]), 1], a[np.array([3, 0]), 1])
    i = np.arange(12, dtype=np.int32).reshape(3, 4)
    ti = fx.asarray(i)
    assert_close(ti[1], i[1])
    assert_close(ti[:, [0, 3]], i[:, [0, 3]])
    assert_close(ti[i > 5], i[i > 5])


def test_getitem_with_tensor_indices():
    a, t = make_input((4, 5), np.float64)
    assert_close(t[fx.asarray([2, 0])], a[[2, 0]])
    assert_close(t[fx.asarray([2, 0], dtype=fx.int32), fx.asarray([1, -1])], a[[2, 0], [1, -1]])
    assert_close(t[t > 0], a[a > 0])
    assert_close(t[fx.asarray(2)], a[2])
    assert_close(
        t[:, fx.asarray([True, False, True, False, False])], a[:, [True, False, True, False, False]]
    )


def test_getitem_on_scalar_and_empty():
    s = fx.asarray(3.0)
    assert_close(s[()], np.array(3.0))
    assert_close(s[None], np.array([3.0]))
    assert_close(s[...], np.array(3.0))
    e = fx.zeros((0, 3))
    assert_close(e[:, 1], np.zeros((0,)))
    assert_close(e[np.array([], dtype=np.int64)], np.zeros((0, 3)))


def test_chained_indexing():
    a, t = make_input((6, 7), np.float64, "transposed")
    assert_close(t[::2][1:, ::-1][0], a[::2][1:, ::-1][0])
    assert_close(t[1:5:2, ::-3][np.array([1, 0])], a[1:5:2, ::-3][np.array([1, 0])])


# ---------------------------------------------------------------- nn


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_nn_activations(dtype, layout):
    a, t = make_input((3, 5), dtype, layout, -4, 4)
    x = a.astype(np.float64)
    tr = "transcendental"
    gelu_tanh = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    gelu_erf = 0.5 * x * (1 + _erf(x / np.sqrt(2)))
    assert_close(fx.nn.relu(t), np.maximum(a, 0))
    assert_close(fx.nn.gelu(t), gelu_tanh.astype(dtype), kind=tr)
    assert_close(fx.nn.gelu(t, approximate=True), gelu_tanh.astype(dtype), kind=tr)
    assert_close(fx.nn.gelu(t, approximate=False), gelu_erf.astype(dtype), kind=tr)
    assert_close(fx.nn.silu(t), (x * _sigmoid(x)).astype(dtype), kind=tr)
    for axis in (-1, 0, 1):
        sm = _np_softmax(x, axis)
        assert_close(fx.nn.softmax(t, axis=axis), sm.astype(dtype), kind=tr)
        assert_close(fx.nn.log_softmax(t, axis=axis), np.log(sm).astype(dtype), kind=tr)
        assert_close(fx.nn.logsumexp(t, axis=axis), _lse(x, axis=axis).astype(dtype), kind=tr)
    assert_close(fx.nn.softmax(t, axis=(0, 1)), _np_softmax(x, (0, 1)).astype(dtype), kind=tr)


def test_nn_softmax_stable():
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -1000.0]])
    assert_close(fx.nn.softmax(x), _np_softmax(x), kind="transcendental")
    assert_close(fx.nn.log_softmax(x), np.log(_np_softmax(x)), kind="transcendental")


def test_nn_one_hot():
    labels = np.array([0, 2, 1, 2])
    oh = fx.nn.one_hot(labels, 3)
    assert_close(oh, np.eye(3)[labels], dtype=False)
    assert oh.dtype.kind == "f"
    assert_close(
        fx.nn.one_hot(fx.asarray(labels), 4, dtype=fx.float32), np.eye(4, dtype=np.float32)[labels]
    )
    lab2 = np.array([[1, 0], [3, 3]], np.int32)
    assert_close(fx.nn.one_hot(lab2, 4), np.eye(4)[lab2], dtype=False)
    # out-of-range labels give all-zero rows (as in JAX)
    assert_close(fx.nn.one_hot(np.array([5, -1]), 3), np.zeros((2, 3)), dtype=False)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=lambda d: np.dtype(d).name)
def test_nn_cross_entropy(dtype):
    logits, tl = make_input((4, 5), dtype, "transposed", -3, 3)
    labels = np.array([0, 4, 2, 2])
    logp = np.log(_np_softmax(logits.astype(np.float64)))
    expected = -np.mean(logp[np.arange(4), labels])
    assert_close(fx.nn.cross_entropy(tl, labels), np.array(expected, dtype), kind="transcendental")
    assert_close(
        fx.nn.cross_entropy(tl, fx.asarray(labels, dtype=fx.int32)),
        np.array(expected, dtype),
        kind="transcendental",
    )
    onehot = np.eye(5, dtype=dtype)[labels]
    assert_close(fx.nn.cross_entropy(tl, onehot), np.array(expected, dtype), kind="transcendental")
    probs = _np_softmax(random_array((4, 5), np.float64)).astype(dtype)
    expected_p = -np.mean(np.sum(probs * logp, axis=-1))
    assert_close(fx.nn.cross_entropy(tl, probs), np.array(expected_p, dtype), kind="transcendental")
    assert_close(
        fx.nn.cross_entropy(fx.zeros((2, 3)), np.array([0, 1])),
        np.array(np.log(3.0)),
        kind="transcendental",
    )

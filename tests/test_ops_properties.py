"""Property tests: elementwise ops, reductions, views and indexing equal NumPy over
random shapes, broadcast-compatible shape pairs, axes, permutations and strided
slices (random steps, also negative)."""

from __future__ import annotations

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True)

float_dtypes = st.sampled_from([np.float32, np.float64])
any_dtypes = st.sampled_from([np.float32, np.float64, np.int32, np.int64])


def _elements(dtype, lo=-10.0, hi=10.0):
    if np.dtype(dtype).kind == "f":
        return st.floats(lo, hi, width=np.dtype(dtype).itemsize * 8)
    return st.integers(int(lo), int(hi))


@st.composite
def arrays(draw, dtype=None, shape=None, lo=-10.0, hi=10.0, max_dims=4):
    dtype = draw(float_dtypes) if dtype is None else dtype
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=5))
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype, lo, hi)))


@st.composite
def strided_views(draw, dtype=None):
    """A NumPy array ``base`` and a key of random slices (steps in -3..3): returns
    ``(base[key], fx.asarray(base)[key])``."""
    base = draw(arrays(dtype=dtype, max_dims=3))
    key = []
    for n in base.shape:
        step = draw(st.sampled_from([1, 2, 3, -1, -2, -3]))
        start = draw(st.none() | st.integers(-n - 1, n + 1))
        stop = draw(st.none() | st.integers(-n - 1, n + 1))
        key.append(slice(start, stop, step))
    key = tuple(key)
    return base[key], fx.asarray(base)[key]


def _tol(dtype, n=1):
    if np.dtype(dtype) == np.float32:
        return {"rtol": 1e-5, "atol": 1e-5 * max(n, 1)}
    return {"rtol": 1e-11, "atol": 1e-12 * max(n, 1)}


BINARY = {
    "add": (fx.add, np.add),
    "subtract": (fx.subtract, np.subtract),
    "multiply": (fx.multiply, np.multiply),
    "maximum": (fx.maximum, np.maximum),
    "minimum": (fx.minimum, np.minimum),
    "equal": (fx.equal, np.equal),
    "less": (fx.less, np.less),
    "greater_equal": (fx.greater_equal, np.greater_equal),
    "not_equal": (fx.not_equal, np.not_equal),
}


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
    d1=any_dtypes,
    d2=any_dtypes,
    name=st.sampled_from(sorted(BINARY)),
    data=st.data(),
)
def test_binary_broadcasting_matches_numpy(shapes, d1, d2, name, data):
    sa, sb = shapes.input_shapes
    a = data.draw(arrays(dtype=d1, shape=sa))
    b = data.draw(arrays(dtype=d2, shape=sb))
    f, ref = BINARY[name]
    expected = ref(a, b)
    assert_close(f(fx.asarray(a), fx.asarray(b)), expected, **_tol(expected.dtype))
    assert_close(f(fx.asarray(a), b), expected, **_tol(expected.dtype))


@SETTINGS
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
    dtype=float_dtypes,
    data=st.data(),
)
def test_divide_family_matches_numpy(shapes, dtype, data):
    sa, sb = shapes.input_shapes
    a = data.draw(arrays(dtype=dtype, shape=sa))
    mag = data.draw(arrays(dtype=dtype, shape=sb, lo=0.25, hi=8.0))
    sign = data.draw(hnp.arrays(np.bool_, sb))
    b = np.where(sign, mag, -mag).astype(dtype)
    ta, tb = fx.asarray(a), fx.asarray(b)
    assert_close(ta / tb, a / b, **_tol(dtype))
    assert_close(fx.floor_divide(ta, tb), np.floor_divide(a, b), **_tol(dtype))
    assert_close(fx.remainder(ta, tb), np.remainder(a, b), **_tol(dtype, 10))
    assert_close(fx.arctan2(ta, tb), np.arctan2(a, b), kind="transcendental")


@SETTINGS
@given(
    a=arrays(lo=-3.0, hi=3.0),
    name=st.sampled_from(["exp", "sin", "tanh", "abs", "sigmoid", "square", "arctan", "floor"]),
)
def test_unary_matches_numpy(a, name):
    refs = {"sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x))}
    ref = refs[name] if name in refs else getattr(np, name)
    expected = ref(a.astype(np.float64)).astype(a.dtype)
    assert_close(getattr(fx, name)(fx.asarray(a)), expected, kind="transcendental")


@st.composite
def array_and_axis(draw, dtype=None):
    a = draw(arrays(dtype=dtype, max_dims=4))
    nd = a.ndim
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or nd == 0:
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        axes = draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))
        axis = tuple(ax - nd if draw(st.booleans()) else ax for ax in axes)
    return a, axis


def _reduced_size(a, axis):
    if axis is None:
        return a.size
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([a.shape[ax] for ax in axes]))


@SETTINGS
@given(
    aa=array_and_axis(),
    name=st.sampled_from(["sum", "mean", "max", "min", "prod", "var", "std"]),
    keepdims=st.booleans(),
    layout=st.sampled_from(["contiguous", "transposed"]),
)
def test_reductions_match_numpy(aa, name, keepdims, layout):
    a, axis = aa
    if name == "prod":
        a = (np.abs(a) % 1.5 + 0.5).astype(a.dtype)
    n = _reduced_size(a, axis)
    if name in ("max", "min") and n == 0 and a.size == 0:
        return  # NumPy raises (no identity); covered by the error tests
    if name in ("mean", "var", "std") and n == 0:
        return  # NumPy warns and returns nan; not part of the contract
    t = fx.asarray(a) if layout == "contiguous" else fx.asarray(np.array(a.T, order="C")).T
    r = getattr(fx, name)(t, axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(a.astype(np.float64), axis=axis, keepdims=keepdims)
    scale = float(np.max(np.abs(a))) if a.size else 1.0
    tol = _tol(a.dtype, n * max(scale, 1.0))
    if name == "prod":
        tol["atol"] = 0
        tol["rtol"] = 1e-5 * max(n, 1) if a.dtype == np.float32 else 1e-12 * max(n, 1)
    assert_close(r, expected.astype(a.dtype), **tol)


@SETTINGS
@given(aa=array_and_axis(dtype=np.int32), name=st.sampled_from(["sum", "max", "min", "prod"]))
def test_integer_reductions_dtype_and_value(aa, name):
    a, axis = aa
    a = (a % 4).astype(np.int32)
    if name in ("max", "min") and _reduced_size(a, axis) == 0 and a.size == 0:
        return
    r = getattr(fx, name)(fx.asarray(a), axis=axis)
    assert_close(r, getattr(np, name)(a, axis=axis))


@SETTINGS
@given(aa=array_and_axis())
def test_argmax_argmin_cumsum_match_numpy(aa):
    a, axis = aa
    if not isinstance(axis, int):
        axis = None
    t = fx.asarray(a)
    assert_close(fx.cumsum(t, axis=axis), np.cumsum(a, axis=axis), **_tol(a.dtype, a.size * 10))
    if a.size == 0 or (axis is not None and a.shape[axis] == 0):
        return
    assert_close(fx.argmax(t, axis=axis), np.argmax(a, axis=axis))
    assert_close(fx.argmin(t, axis=axis), np.argmin(a, axis=axis))


@SETTINGS
@given(
    view=strided_views(),
    name=st.sampled_from(["exp", "neg", "sum", "max", "T", "reshape", "scalar"]),
)
def test_strided_views_match_numpy(view, name):
    a, t = view
    assert_close(t, a)
    if name == "exp":
        assert_close(fx.exp(t), np.exp(a.astype(np.float64)).astype(a.dtype), kind="transcendental")
    elif name == "neg":
        assert_close(-t, -a)
    elif name == "sum":
        assert_close(
            fx.sum(t, axis=0 if a.ndim else None),
            np.sum(a, axis=0 if a.ndim else None),
            **_tol(a.dtype, 100),
        )
    elif name == "max" and a.size:
        assert_close(fx.max(t), np.max(a))
    elif name == "T":
        assert_close(t.T + 1.0, a.T + a.dtype.type(1.0))
    elif name == "reshape":
        assert_close(fx.reshape(t, (-1,)), a.reshape(-1))
    elif name == "scalar":  # the strided operand on either side of one value
        assert_close(t * 2.0, a * a.dtype.type(2.0))
        assert_close(3.0 - t, a.dtype.type(3.0) - a)


@SETTINGS
@given(v1=strided_views(dtype=np.float64), v2=strided_views(dtype=np.float64))
def test_binary_on_two_strided_views(v1, v2):
    a, ta = v1
    b, tb = v2
    try:
        expected = a * b - b
    except ValueError:
        return  # shapes do not broadcast; the error tests cover that
    assert_close(ta * tb - tb, expected)


@SETTINGS
@given(a=arrays(max_dims=4), data=st.data())
def test_transpose_and_moveaxis_match_numpy(a, data):
    perm = data.draw(st.permutations(list(range(a.ndim))))
    t = fx.asarray(a)
    assert_close(fx.transpose(t, tuple(perm)), np.transpose(a, perm))
    assert_close(fx.transpose(t, tuple(perm)) * 2.0, np.transpose(a, perm) * a.dtype.type(2.0))
    if a.ndim:
        src = data.draw(st.integers(-a.ndim, a.ndim - 1))
        dst = data.draw(st.integers(-a.ndim, a.ndim - 1))
        assert_close(fx.moveaxis(t, src, dst), np.moveaxis(a, src, dst))
        assert_close(fx.flip(t, src), np.flip(a, src))


@SETTINGS
@given(a=arrays(max_dims=3), data=st.data())
def test_random_basic_indexing_matches_numpy(a, data):
    key = []
    for n in a.shape:
        if n and data.draw(st.booleans()):
            key.append(data.draw(st.integers(-n, n - 1)))
        else:
            key.append(
                slice(
                    data.draw(st.none() | st.integers(-n - 2, n + 2)),
                    data.draw(st.none() | st.integers(-n - 2, n + 2)),
                    data.draw(st.sampled_from([None, 1, 2, -1, -3])),
                )
            )
    if key and data.draw(st.booleans()):
        key.insert(data.draw(st.integers(0, len(key))), None)
    key = tuple(key)
    assert_close(fx.asarray(a)[key], a[key])


@SETTINGS
@given(a=arrays(max_dims=3), data=st.data())
def test_random_integer_array_indexing_matches_numpy(a, data):
    if a.ndim == 0 or a.shape[0] == 0:
        return
    n = a.shape[0]
    idx = data.draw(
        hnp.arrays(
            np.int64,
            data.draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=4)),
            elements=st.integers(-n, n - 1),
        )
    )
    t = fx.asarray(a)
    assert_close(t[idx], a[idx])
    assert_close(fx.take(t, idx, axis=0), np.take(a, idx, axis=0))
    mask = data.draw(hnp.arrays(np.bool_, a.shape))
    assert_close(t[mask], a[mask])


decimals = st.integers(-60, 60).map(lambda k: k / 10)
nonzero_decimals = st.integers(1, 30).map(lambda k: k / 10) | st.integers(-30, -1).map(
    lambda k: k / 10
)


@SETTINGS
@given(
    a=hnp.arrays(np.float64, st.integers(1, 8), elements=decimals),
    b=nonzero_decimals,
)
def test_floor_divide_remainder_match_python_divmod(a, b):
    # Python's float // and % (which NumPy follows), element by element
    q = np.asarray(fx.floor_divide(fx.asarray(a), b))
    r = np.asarray(fx.remainder(fx.asarray(a), b))
    for x, qi, ri in zip(a.tolist(), q.tolist(), r.tolist(), strict=True):
        assert (qi, ri) == divmod(x, b), (x, b)


@st.composite
def permuted_pairs(draw):
    """``(a, b)``: ``a`` a permuted (transposed) view of a random array, ``b``
    what an elementwise op meets beside it: an array permuted the same way, a
    row-major one of the same shape, one broadcast against it (fewer axes,
    axes of length 1), or a one-element array of no more or of more axes."""
    dtype = draw(float_dtypes)
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=5))
    perm = draw(st.permutations(list(range(len(shape)))))
    base = draw(arrays(dtype=dtype, shape=tuple(shape[p] for p in np.argsort(perm))))
    a = base.transpose(perm)
    kind = draw(st.sampled_from(["alike", "row-major", "broadcast", "one", "one-more-axes"]))
    if kind == "alike":
        b = draw(arrays(dtype=dtype, shape=base.shape)).transpose(perm)
    elif kind == "row-major":
        b = draw(arrays(dtype=dtype, shape=a.shape))
    elif kind == "broadcast":
        lead = draw(st.integers(0, a.ndim - 1))
        b_shape = tuple(1 if draw(st.booleans()) else n for n in a.shape[lead:])
        b = draw(arrays(dtype=dtype, shape=b_shape))
    elif kind == "one":
        b = draw(arrays(dtype=dtype, shape=(1,) * draw(st.integers(0, a.ndim))))
    else:
        b = draw(arrays(dtype=dtype, shape=(1,) * (a.ndim + 1)))
    return a, b


@SETTINGS
@given(pair=permuted_pairs(), swap=st.booleans())
def test_elementwise_on_permuted_views_match_numpy(pair, swap):
    # a permuted operand runs in its memory order (NumPy's K order) when the
    # other is laid out alike or has one element, and strided otherwise
    a, b = pair
    ta, tb = _same_view(a), _same_view(b)
    x, y, tx, ty = (b, a, tb, ta) if swap else (a, b, ta, tb)
    assert_close(tx * ty - ty, x * y - y)
    assert_close(fx.exp(ta), np.exp(a.astype(np.float64)).astype(a.dtype), kind="transcendental")
    assert_close(ta + 1.0, a + a.dtype.type(1.0))


def _perm_of(a: np.ndarray) -> list[int]:
    """The axis order in which ``a``'s elements lie in memory (largest stride first)."""
    return sorted(range(a.ndim), key=lambda i: -a.strides[i])


def _same_view(b: np.ndarray):
    """A ferrax view laid out as ``b`` (a permuted view of a contiguous base)."""
    perm = _perm_of(b)
    base = b.transpose(perm).copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
    view = fx.transpose(fx.asarray(base), tuple(int(i) for i in np.argsort(perm)))
    assert_close(view, b)
    return view


def test_permuted_results_keep_the_operands_layout():
    # as NumPy: exp of a transposed matrix, and the sum of two, are
    # column-major; each an elementwise pass, and above the fusion threshold a
    # deferred chain through the views
    for n in (4, 300):
        a = np.arange(n * n, dtype=np.float64).reshape(n, n) / n**2
        t = fx.asarray(a)
        for got, want in (
            (fx.exp(t.T), np.exp(a.T)),
            (t.T + t.T, a.T + a.T),
            (t.T * 2.0, a.T * 2.0),
            (fx.sin(fx.exp(t.T)) * t.T + 1.0, np.sin(np.exp(a.T)) * a.T + 1.0),
        ):
            out = np.asarray(got)
            assert out.flags.f_contiguous and not out.flags.c_contiguous
            np.testing.assert_allclose(out, want, rtol=1e-14)


@st.composite
def narrow_products(draw):
    """Operands of a product with 2 to 16 output columns (the narrow-output
    kernels), each row-major, column-major (a transposed view) or strided (a
    slice with a step), inside a larger array at an offset, sometimes with a
    batch of left operands against one right operand."""
    dtype = draw(float_dtypes)
    m = draw(st.integers(1, 70))
    k = draw(st.integers(2, 40))
    n = draw(st.integers(2, 16))
    batch = draw(st.sampled_from([(), (3,)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def operand(shape, layout):
        rows, cols = shape[-2:]
        if layout == "columns":
            base = rng.standard_normal((*shape[:-2], cols + 1, rows + 2)).astype(dtype)
            view = np.swapaxes(base[..., 1:, 2:], -1, -2)
            return view, fx.moveaxis(fx.asarray(base)[..., 1:, 2:], -1, -2)
        step = 2 if layout == "strided" else 1
        base = rng.standard_normal((*shape[:-2], rows + 1, cols * step + 3)).astype(dtype)
        key = (..., slice(1, None), slice(3, None, step))
        return base[key], fx.asarray(base)[key]

    layouts = st.sampled_from(["rows", "columns", "strided"])
    a, ta = operand((*batch, m, k), draw(layouts))
    b, tb = operand((k, n), draw(layouts))
    return a, ta, b, tb


@SETTINGS
@given(case=narrow_products())
def test_narrow_products_match_numpy(case):
    a, ta, b, tb = case
    expected = (a.astype(np.float64) @ b.astype(np.float64)).astype(a.dtype)
    k = a.shape[-1]
    assert_close(ta @ tb, expected, **_tol(a.dtype, k))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_narrow_products_give_each_row_the_same_bits_however_rows_are_grouped(dtype, layout):
    """A row of a narrow product is computed the same way whether it comes
    alone (one example), in a block of rows, or in a share of rows run on
    another thread (1000x256x10 is large enough to be split)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1000, 256)).astype(dtype)
    w = fx.asarray(rng.standard_normal((256, 10)).astype(dtype))
    tx = fx.asarray(x) if layout == "rows" else fx.asarray(np.ascontiguousarray(x.T)).T
    whole = np.asarray(tx @ w)
    for i in (0, 1, 15, 16, 17, 500, 999):
        np.testing.assert_array_equal(np.asarray(tx[i : i + 1] @ w), whole[i : i + 1])
    exact = x.astype(np.float64) @ np.asarray(w).astype(np.float64)
    np.testing.assert_allclose(whole, exact, **_tol(dtype, 256))

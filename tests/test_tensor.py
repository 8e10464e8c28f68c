"""The Tensor type — attributes, methods, conversions, immutability and
functional updates, dtypes and promotion, creation functions."""

from __future__ import annotations

import math

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close, make_input

ALL_DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_]


def _sample(dtype):
    return {
        np.float32: np.array([[1.5, -2.25, 3.0], [0.5, 4.0, -6.75]], np.float32),
        np.float64: np.array([[1.5, -2.25, 3.0], [0.5, 4.0, -6.75]]),
        np.int32: np.array([[1, -2, 3], [40, 5, -6]], np.int32),
        np.int64: np.array([[1, -2, 3], [40, 5, -6]], np.int64),
        np.bool_: np.array([[True, False, True], [False, False, True]]),
    }[dtype]


# ---------------------------------------------------------------- attributes


@pytest.mark.parametrize("shape", [(), (1,), (5,), (2, 3), (2, 0, 4), (2, 3, 4)])
def test_shape_ndim_size(shape):
    a, t = make_input(shape)
    assert isinstance(t.shape, tuple)
    assert t.shape == shape
    assert all(type(n) is int for n in t.shape)
    assert t.ndim == len(shape)
    assert t.size == math.prod(shape)
    assert type(t.size) is int and type(t.ndim) is int


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_dtype_attribute(dtype):
    t = fx.asarray(_sample(dtype))
    assert t.dtype == np.dtype(dtype)
    assert np.dtype(t.dtype) == np.dtype(dtype)


def test_dtype_constants_are_numpy_dtypes():
    assert fx.float32 == np.float32 and fx.float64 == np.float64
    assert fx.int32 == np.int32 and fx.int64 == np.int64 and fx.bool_ == np.bool_
    assert fx.zeros(2, dtype=fx.int32).dtype == fx.int32


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 4)])
def test_T(shape):
    a, t = make_input(shape)
    assert_close(t.T, a.T)
    assert_close(t.T.T, a)


# ---------------------------------------------------------------- conversions


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_numpy_method(dtype):
    a = _sample(dtype)
    r = fx.asarray(a).numpy()
    assert type(r) is np.ndarray
    assert r.dtype == a.dtype
    np.testing.assert_array_equal(r, a)


@pytest.mark.parametrize("layout", ["transposed", "strided", "broadcast"])
def test_numpy_of_views(layout):
    a, t = make_input((3, 4), np.float64, layout)
    np.testing.assert_array_equal(t.numpy(), a)
    np.testing.assert_array_equal(np.asarray(t), a)


@pytest.mark.parametrize(
    "value, dtype, pytype",
    [(2.5, np.float64, float), (-1.5, np.float32, float), (7, np.int32, int), (-9, np.int64, int)]
    + [(True, np.bool_, bool), (False, np.bool_, bool)],
)
def test_item(value, dtype, pytype):
    for shape in [(), (1,), (1, 1)]:
        t = fx.asarray(np.full(shape, value, dtype=dtype))
        r = t.item()
        assert type(r) is pytype
        assert r == value


def test_item_needs_one_element():
    with pytest.raises(ValueError, match="size|element|scalar"):
        fx.ones(3).item()


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_tolist(dtype):
    a = _sample(dtype)
    r = fx.asarray(a).tolist()
    assert r == a.tolist()
    assert type(r[0][0]) is type(a.tolist()[0][0])
    assert fx.asarray(a[0, 0]).tolist() == a[0, 0].tolist()
    assert fx.zeros((2, 0)).tolist() == [[], []]


@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("dst", ALL_DTYPES)
def test_astype(src, dst):
    a = _sample(src)
    if np.dtype(src).kind == "f":
        a = a.copy()
        a[0, 0] = -2.75  # truncation toward zero
    r = fx.asarray(a).astype(dst)
    assert_close(r, a.astype(dst))


@pytest.mark.parametrize("spec", [fx.float32, np.float32, "float32", np.dtype("float32"), "f4"])
def test_astype_accepts_dtype_spellings(spec):
    r = fx.asarray([1.0, 2.0]).astype(spec)
    assert r.dtype == np.float32
    assert_close(r, np.array([1.0, 2.0], np.float32))


def test_astype_float32_rounds():
    r = fx.asarray([0.1, 1.0 / 3.0]).astype(fx.float32)
    np.testing.assert_array_equal(np.asarray(r), np.array([0.1, 1.0 / 3.0], np.float32))


def test_reshape_method():
    a, t = make_input((2, 3, 4))
    assert_close(t.reshape(6, 4), a.reshape(6, 4))
    assert_close(t.reshape((4, 6)), a.reshape((4, 6)))
    assert_close(t.reshape(-1), a.reshape(-1))
    assert_close(t.reshape(2, -1, 3), a.reshape(2, -1, 3))
    assert_close(t.reshape(24, 1), a.reshape(24, 1))
    assert_close(fx.asarray(5.0).reshape(1, 1), np.full((1, 1), 5.0))
    assert_close(fx.ones((1, 1)).reshape(()), np.array(1.0))


@pytest.mark.parametrize("layout", ["transposed", "strided", "broadcast"])
def test_reshape_method_on_views(layout):
    a, t = make_input((4, 6), np.float64, layout)
    assert_close(t.reshape(3, 8), a.reshape(3, 8))
    assert_close(t.reshape(-1), a.reshape(-1))


def test_transpose_method():
    a, t = make_input((2, 3, 4))
    assert_close(t.transpose(), a.transpose())
    assert_close(t.transpose(1, 0, 2), a.transpose(1, 0, 2))
    assert_close(t.transpose((2, 0, 1)), a.transpose((2, 0, 1)))
    assert_close(t.transpose(-1, 0, 1), a.transpose(-1, 0, 1))


def test_reduction_methods():
    a, t = make_input((3, 4, 2))
    assert_close(t.sum(), a.sum())
    assert_close(t.sum(axis=1), a.sum(axis=1))
    assert_close(t.sum(axis=(0, 2), keepdims=True), a.sum(axis=(0, 2), keepdims=True))
    assert_close(t.mean(), a.mean())
    assert_close(t.mean(axis=-1), a.mean(axis=-1))
    assert_close(t.max(), a.max())
    assert_close(t.max(axis=0), a.max(axis=0))
    assert_close(t.min(), a.min())
    assert_close(t.min(axis=2, keepdims=True), a.min(axis=2, keepdims=True))


def test_reduction_methods_int():
    a = np.array([[3, -1, 7], [2, 9, -4]], np.int32)
    t = fx.asarray(a)
    assert_close(t.sum(), a.sum())  # int64, as NumPy
    assert_close(t.max(axis=1), a.max(axis=1))
    assert_close(t.min(), a.min())
    assert_close(t.mean(), a.mean())  # float64


# ---------------------------------------------------------------- __array__


def _data_ptr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_asarray_no_copy_for_contiguous(dtype):
    t = fx.asarray(_sample(dtype))
    a1, a2 = np.asarray(t), np.asarray(t)
    assert _data_ptr(a1) == _data_ptr(a2)
    assert np.shares_memory(a1, a2)
    assert a1.dtype == np.dtype(dtype) and a1.shape == t.shape


def test_asarray_readonly_view_and_array_copy():
    t = fx.asarray([1.0, 2.0, 3.0])
    a = np.asarray(t)
    # A view of an immutable tensor must not be writable.
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 10.0
    c = np.array(t)
    assert not np.shares_memory(c, a)
    c[0] = 10.0
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0, 3.0])


def test_np_asarray_with_dtype():
    t = fx.asarray([1.5, 2.5])
    a = np.asarray(t, dtype=np.float32)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, [1.5, 2.5])


def test_asarray_of_tensor_keeps_values():
    t = fx.asarray([[1, 2], [3, 4]], dtype=fx.int32)
    u = fx.asarray(t)
    assert_close(u, np.array([[1, 2], [3, 4]], np.int32))
    assert_close(fx.asarray(t, dtype=fx.float64), np.array([[1, 2], [3, 4]], np.float64))


# ---------------------------------------------------------------- len / iter / repr


def test_len_and_iter():
    a, t = make_input((3, 2))
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3
    for r, ar in zip(rows, a, strict=True):
        assert_close(r, ar)
    assert len(fx.zeros((0, 4))) == 0
    assert list(fx.zeros((0, 4))) == []
    vals = [x.item() for x in fx.asarray([4, 5, 6])]
    assert vals == [4, 5, 6]


def test_len_iter_zero_d():
    t = fx.asarray(1.0)
    with pytest.raises(TypeError, match="0-d|unsized|scalar"):
        len(t)
    with pytest.raises(TypeError, match="0-d|unsized|scalar|iter"):
        iter(t)


def _expected_repr(a: np.ndarray) -> str:
    lines = repr(a).split("\n")
    assert lines[0].startswith("array(")
    return "\n".join(
        ["Tensor(" + lines[0][len("array(") :]] + [" " + ln if ln else ln for ln in lines[1:]]
    )


@pytest.mark.parametrize(
    "a",
    [
        np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        np.array([1.5, -2.25], np.float32),
        np.array([[1, 2], [30, -4]], np.int32),
        np.array([1, 2, 3], np.int64),
        np.array([True, False]),
        np.array(3.5),
        np.array(7),
        np.array([0.1, 1e-8, 123456.0]),
        np.zeros((0,)),
        np.zeros((0, 3), np.float32),
        np.arange(24.0).reshape(2, 3, 4),
        np.arange(2000.0),  # summarised with "..."
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_repr_and_str_like_numpy(a):
    t = fx.asarray(a)
    assert repr(t) == _expected_repr(a)
    assert str(t) == str(a)


def test_repr_of_view():
    a, t = make_input((3, 4), np.float64, "transposed")
    assert repr(t) == _expected_repr(a)


# ---------------------------------------------------------------- scalar conversion


def test_float_int_bool_of_one_element():
    for shape in [(), (1,), (1, 1)]:
        assert float(fx.full(shape, 2.5)) == 2.5
        assert type(float(fx.full(shape, 2.5))) is float
        assert int(fx.full(shape, 7, dtype=fx.int32)) == 7
        assert int(fx.full(shape, -2.75)) == -2
        assert bool(fx.full(shape, 0.0)) is False
        assert bool(fx.full(shape, 3.0)) is True
        assert bool(fx.full(shape, True, dtype=fx.bool_)) is True
    assert float(fx.asarray(3)) == 3.0
    if fx.asarray([1.0, 2.0])[1] > 1.5:
        pass
    else:
        raise AssertionError("bool() of a comparison")


@pytest.mark.parametrize("conv", [float, int])
def test_float_int_of_many_elements_raise(conv):
    # NumPy: TypeError "only length-1 arrays can be converted to Python scalars"
    with pytest.raises(TypeError, match="one element|length-1|size-1|scalar"):
        conv(fx.ones(3))
    with pytest.raises(TypeError, match="one element|length-1|size-1|scalar"):
        conv(fx.zeros((0,)))


def test_bool_of_many_elements_raises():
    with pytest.raises(ValueError, match="ambiguous"):
        bool(fx.ones((2, 2)))
    with pytest.raises(ValueError, match="ambiguous"):
        if fx.asarray([1.0, 2.0]) > 0:
            pass


def test_unhashable():
    t = fx.ones(2)
    with pytest.raises(TypeError, match="unhashable"):
        hash(t)
    with pytest.raises(TypeError):
        _ = {t: 1}
    with pytest.raises(TypeError):
        _ = {t}


# ---------------------------------------------------------------- immutability, .at


def test_setitem_raises_pointing_to_at():
    t = fx.asarray([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"\.at"):
        t[0] = 1.0
    with pytest.raises(TypeError, match=r"\.at"):
        t[1:] = fx.zeros(2)
    assert_close(t, np.array([1.0, 2.0, 3.0]))


def test_no_attribute_mutation_of_data():
    t = fx.asarray([1.0, 2.0])
    with pytest.raises((AttributeError, TypeError)):
        t.shape = (1, 2)
    assert t.shape == (2,)


def _np_set(a, idx, v):
    r = a.copy()
    r[idx] = v
    return r


def _np_ufunc_at(f, a, idx, v):
    r = a.copy()
    f.at(r, idx, v)
    return r


AT_CASES = [
    (2, 10.0),
    (-1, 10.0),
    (slice(1, 4), 10.0),
    (slice(None, None, -2), np.array([1.0, 2.0, 3.0])),
    (np.array([0, 2, 5]), np.array([1.0, 2.0, 3.0])),
    (np.array([1, 3, 1, 1]), np.array([1.0, 2.0, 3.0, 4.0])),  # repeated indices
    ([4, -2, 0], 2.5),
    (np.array([True, False, True, False, False, True]), 3.0),
]


@pytest.mark.parametrize("idx, v", AT_CASES)
def test_at_1d(idx, v):
    a = np.array([1.0, -2.0, 3.0, -4.0, 5.0, 6.0])
    t = fx.asarray(a)
    assert_close(t.at[idx].get(), a[idx])
    assert_close(t.at[idx].add(v), _np_ufunc_at(np.add, a, idx, v))
    assert_close(t.at[idx].multiply(v), _np_ufunc_at(np.multiply, a, idx, v))
    assert_close(t.at[idx].set(v), _np_set(a, idx, v))
    # the original is untouched
    assert_close(t, a)


def test_at_set_repeated_last_wins():
    t = fx.zeros(4)
    r = t.at[np.array([1, 1, 1, 3])].set(np.array([5.0, 6.0, 7.0, 8.0]))
    assert_close(r, np.array([0.0, 7.0, 0.0, 8.0]))


@pytest.mark.parametrize(
    "idx, v",
    [
        ((1, 2), 9.0),
        ((slice(None), 0), np.array([1.0, 2.0, 3.0])),
        (0, np.array([1.0, 2.0, 3.0, 4.0])),
        ((np.array([0, 2, 0]), np.array([1, 3, 1])), np.array([1.0, 2.0, 3.0])),
        (np.array([2, 0, 2]), 1.5),
        ((slice(1, None), slice(None, None, 2)), np.array([[1.0], [2.0]])),
        ((Ellipsis, -1), 0.0),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_at_2d(idx, v, dtype):
    a = np.arange(12).reshape(3, 4).astype(dtype)
    t = fx.asarray(a)
    vv = np.asarray(v).astype(dtype)
    assert_close(t.at[idx].get(), a[idx])
    assert_close(t.at[idx].set(vv), _np_set(a, idx, vv))
    assert_close(t.at[idx].add(vv), _np_ufunc_at(np.add, a, idx, vv))
    assert_close(t.at[idx].multiply(vv), _np_ufunc_at(np.multiply, a, idx, vv))


def test_at_on_view():
    a, t = make_input((4, 3), np.float64, "transposed")
    assert_close(t.at[1, 2].set(0.0), _np_set(a, (1, 2), 0.0))
    assert_close(t.at[:, 1].add(1.0), _np_ufunc_at(np.add, a, (slice(None), 1), 1.0))


# ---------------------------------------------------------------- dtypes and promotion

_PROMO_VALUES = {
    np.float32: np.array([1.5, -2.0], np.float32),
    np.float64: np.array([0.25, 3.0]),
    np.int32: np.array([3, -4], np.int32),
    np.int64: np.array([-7, 2], np.int64),
    np.bool_: np.array([True, False]),
}


@pytest.mark.parametrize("d1", ALL_DTYPES)
@pytest.mark.parametrize("d2", ALL_DTYPES)
@pytest.mark.parametrize("op", ["add", "multiply", "maximum"])
def test_array_promotion(d1, d2, op):
    a, b = _PROMO_VALUES[d1], _PROMO_VALUES[d2]
    if op == "add" and d1 == d2 == np.bool_:
        expected = np.add(a, b)  # bool or (NumPy's bool + bool)
    else:
        expected = getattr(np, op)(a, b)
    assert_close(getattr(fx, op)(fx.asarray(a), fx.asarray(b)), expected)


@pytest.mark.parametrize("d1", ALL_DTYPES)
@pytest.mark.parametrize("d2", ALL_DTYPES)
def test_operator_promotion(d1, d2):
    a, b = _PROMO_VALUES[d1], _PROMO_VALUES[d2]
    ta, tb = fx.asarray(a), fx.asarray(b)
    if not (d1 == d2 == np.bool_):
        assert_close(ta - tb, a - b)
    assert_close(ta * tb, a * b)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = a / b
    assert_close(ta / tb, expected)


@pytest.mark.parametrize(
    "dtype, scalar",
    [
        (d, s)
        for d in ALL_DTYPES
        for s in (2, 2.5, True, -3)
        if not (d == np.bool_ and isinstance(s, bool))
    ],
)
def test_python_scalars_are_weak(dtype, scalar):
    a = _PROMO_VALUES[dtype]
    t = fx.asarray(a)
    assert_close(t * scalar, a * scalar)
    assert_close(scalar * t, scalar * a)
    assert_close(t + scalar, a + scalar)
    assert_close(scalar - t, scalar - a)


def test_promotion_examples_from_spec():
    f32 = fx.asarray(np.array([1.0, 2.0], np.float32))
    i32 = fx.asarray(np.array([1, 2], np.int32))
    i64 = fx.asarray(np.array([1, 2], np.int64))
    assert (f32 * 2.0).dtype == fx.float32
    assert (2.0 * f32).dtype == fx.float32
    assert (f32 / 3).dtype == fx.float32
    assert_close(i32 + 1.5, np.array([2.5, 3.5]))
    assert (i32 + 1).dtype == fx.int32
    assert (i32 + i64).dtype == fx.int64
    assert_close(i32 + f32, np.array([2.0, 4.0]))  # float64
    assert (i32 / i32).dtype == fx.float64
    assert (f32**2).dtype == fx.float32
    assert (f32 > 1).dtype == fx.bool_


def test_mixed_with_numpy_arrays_promotes():
    f32 = fx.asarray(np.array([1.0, 2.0], np.float32))
    r = f32 + np.array([1.0, 1.0])  # a float64 array is strongly typed
    assert_close(r, np.array([2.0, 3.0]))
    r = np.array([1, 2], np.int32) * fx.asarray(np.array([2, 2], np.int64))
    assert isinstance(r, fx.Tensor)
    assert_close(r, np.array([2, 4], np.int64))


@pytest.mark.parametrize("spec", [fx.float32, np.float32, "float32", np.dtype(np.float32)])
def test_dtype_spellings_in_creation(spec):
    for t in [
        fx.zeros(3, dtype=spec),
        fx.ones((2,), dtype=spec),
        fx.full((2,), 1.5, dtype=spec),
        fx.asarray([1, 2], dtype=spec),
        fx.arange(3, dtype=spec),
        fx.eye(2, dtype=spec),
        fx.linspace(0, 1, 3, dtype=spec),
    ]:
        assert t.dtype == np.float32


@pytest.mark.parametrize(
    "spec, expected",
    [("int32", np.int32), ("int64", np.int64), ("bool", np.bool_), (np.bool_, np.bool_)]
    + [("float64", np.float64), (np.int64, np.int64), (fx.bool_, np.bool_), (float, np.float64)]
    + [(int, np.int64), (bool, np.bool_)],
)
def test_dtype_spellings_more(spec, expected):
    t = fx.zeros(2, dtype=spec)
    assert t.dtype == np.dtype(expected)
    assert_close(t, np.zeros(2, expected))


# ---------------------------------------------------------------- creation


@pytest.mark.parametrize(
    "obj",
    [
        [1.0, 2.0, 3.5],
        [[1, 2], [3, 4]],
        [True, False],
        [1, 2.5],
        [[1.0], [2.0]],
        3.0,
        4,
        True,
        [],
        [[], []],
        (1, 2, 3),
        [np.float32(1.5), np.float32(2)],
    ],
    ids=repr,
)
def test_asarray_from_python(obj):
    assert_close(fx.asarray(obj), np.asarray(obj))
    assert_close(fx.array(obj), np.array(obj))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_asarray_from_numpy_keeps_dtype(dtype):
    a = _sample(dtype)
    assert_close(fx.asarray(a), a)
    assert_close(fx.array(a), a)
    assert_close(fx.asarray(a[0, 1]), a[0, 1])
    # non-contiguous NumPy inputs
    assert_close(fx.asarray(a.T), a.T)  # Fortran-ordered
    assert_close(fx.asarray(np.asfortranarray(a)), a)
    assert_close(fx.asarray(a[:, ::2]), a[:, ::2])
    assert_close(fx.asarray(a[::-1]), a[::-1])


def test_asarray_copies_numpy_input():
    a = np.array([1.0, 2.0, 3.0])
    t = fx.asarray(a)
    a[0] = 100.0
    assert_close(t, np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_asarray_with_dtype_argument(dtype):
    obj = [[1.0, 0.0], [2.0, -3.0]]
    assert_close(fx.asarray(obj, dtype=dtype), np.asarray(obj, dtype=dtype))


def test_asarray_python_scalar_types():
    assert fx.asarray(1.0).dtype == fx.float64
    assert fx.asarray(1).dtype == fx.int64
    assert fx.asarray(True).dtype == fx.bool_
    assert fx.asarray(1.0).shape == ()


@pytest.mark.parametrize("shape", [3, (3,), (2, 3), (), (0, 2), [2, 2]])
@pytest.mark.parametrize("dtype", [None, *ALL_DTYPES])
def test_zeros_ones(shape, dtype):
    assert_close(fx.zeros(shape, dtype=dtype), np.zeros(shape, dtype=dtype))
    assert_close(fx.ones(shape, dtype=dtype), np.ones(shape, dtype=dtype))


@pytest.mark.parametrize(
    "shape, value, dtype",
    [((2, 3), 2.5, None), ((4,), 3, None), ((), -1.5, None), ((2,), True, None)]
    + [((2, 2), 7, np.float32), ((3,), 2.9, np.int32), ((0,), 1.0, None), (3, 1, np.bool_)],
)
def test_full(shape, value, dtype):
    assert_close(fx.full(shape, value, dtype=dtype), np.full(shape, value, dtype=dtype))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_like_functions(dtype):
    a = _sample(dtype)
    t = fx.asarray(a)
    assert_close(fx.zeros_like(t), np.zeros_like(a))
    assert_close(fx.ones_like(t), np.ones_like(a))
    assert_close(fx.full_like(t, 1), np.full_like(a, 1))
    assert_close(fx.zeros_like(t, dtype=np.float32), np.zeros_like(a, dtype=np.float32))
    assert_close(fx.ones_like(t, dtype="int32"), np.ones_like(a, dtype="int32"))
    assert_close(fx.full_like(t, 2.5, dtype=fx.float64), np.full_like(a, 2.5, dtype=np.float64))
    assert_close(fx.zeros_like(a), np.zeros_like(a))


def test_full_like_casts_value_to_dtype():
    a = np.array([1, 2, 3], np.int32)
    assert_close(fx.full_like(fx.asarray(a), 2.7), np.full_like(a, 2.7))


@pytest.mark.parametrize(
    "args, kwargs",
    [((3,), {}), ((2, 4), {}), ((4, 2), {}), ((3,), {"k": 1}), ((3, 4), {"k": -1})]
    + [((3,), {"k": 5}), ((3,), {"dtype": np.int32}), ((0,), {}), ((1,), {})],
)
def test_eye(args, kwargs):
    assert_close(fx.eye(*args, **kwargs), np.eye(*args, **kwargs))


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((5,), {}),
        ((0,), {}),
        ((2, 9), {}),
        ((1, 10, 3), {}),
        ((10, 1, -2), {}),
        ((5.0,), {}),
        ((0.0, 1.0, 0.25), {}),
        ((0, 1, 0.1), {}),
        ((-1.5, 2.0, 0.5), {}),
        ((5,), {"dtype": np.float32}),
        ((3,), {"dtype": "int32"}),
        ((4, 2), {}),
    ],
)
def test_arange(args, kwargs):
    assert_close(fx.arange(*args, **kwargs), np.arange(*args, **kwargs))


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((0, 1, 5), {}),
        ((0.0, 1.0), {}),
        ((-2, 3, 7), {}),
        ((1, 0, 4), {}),
        ((0, 1, 5), {"endpoint": False}),
        ((0, 1, 1), {}),
        ((0, 1, 0), {}),
        ((0, 1, 4), {"dtype": np.float32}),
        ((2.5, 2.5, 3), {}),
    ],
)
def test_linspace(args, kwargs):
    assert_close(fx.linspace(*args, **kwargs), np.linspace(*args, **kwargs))


def test_creation_results_are_tensors():
    for t in [fx.zeros(2), fx.ones(2), fx.full(2, 1.0), fx.eye(2), fx.arange(2)]:
        assert isinstance(t, fx.Tensor)
    assert isinstance(fx.linspace(0, 1, 3), fx.Tensor)
    assert isinstance(fx.zeros_like(fx.ones(2)), fx.Tensor)


@pytest.mark.parametrize(
    "value, dtype",
    [
        (np.int8(3), np.int32),
        (np.int16(-4), np.int32),
        (np.uint8(200), np.int32),
        (np.uint32(7), np.int64),
        (np.float16(1.5), np.float32),
        (np.array(3, np.int8), np.int32),
        (np.array(1.5, np.float16), np.float32),
        (np.array([1, -2], np.int8), np.int32),
        (np.array([[1.5], [2.5]], np.float16), np.float32),
    ],
    ids=repr,
)
def test_asarray_converts_narrow_numpy_dtypes_keeping_shape(value, dtype):
    # dtypes ferrax lacks are widened losslessly, and the shape is kept (0-d stays 0-d)
    t = fx.asarray(value)
    assert t.shape == np.shape(value)
    assert_close(t, np.asarray(value).astype(dtype))

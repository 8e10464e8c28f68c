"""What a user can rely on at the edges: no silently wrong derivative from a
Python conversion, NumPy's index checks, exact integer arithmetic and
conversions, tensors that pickle, copy and format like NumPy scalars, and the
contract's argument checks. Each test here failed before its fix."""

from __future__ import annotations

import copy
import gc
import operator
import pickle
import subprocess
import sys
import textwrap
import warnings
import weakref

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close

X = np.array([0.5, -1.25, 2.0])

# ----------------------------------------------- conversions of traced values


CONVERSIONS = {
    "float": float,
    "int": int,
    "complex": complex,
    "item": lambda t: t.item(),
    "tolist": lambda t: t.tolist(),
    "index": operator.index,
    "round": round,
    "numpy": np.asarray,
    "pickle": pickle.dumps,
}


# operator.index takes integer tensors, which never carry a derivative
@pytest.mark.parametrize("name", [n for n in CONVERSIONS if n != "index"])
@pytest.mark.parametrize("transform", ["grad", "jvp", "vjp", "jacfwd", "jacrev", "hessian"])
def test_converting_a_value_that_carries_a_derivative_raises_type_error(name, transform):
    conv = CONVERSIONS[name]

    def f(x):
        y = x * 2.0
        conv(y)  # the conversion itself must refuse
        return y * y

    x = fx.asarray(3.0)
    run = {
        "grad": lambda: fx.grad(f)(x),
        "jvp": lambda: fx.jvp(f, (x,), (fx.asarray(1.0),)),
        "vjp": lambda: fx.vjp(f, x),
        "jacfwd": lambda: fx.jacfwd(f)(x),
        "jacrev": lambda: fx.jacrev(f)(x),
        "hessian": lambda: fx.hessian(f)(x),
    }[transform]
    with pytest.raises(TypeError) as info:
        run()
    msg = str(info.value)
    assert "derivative" in msg and "stop_gradient" in msg and "has_aux" in msg
    assert fx._ferrax._trace_depth() == 0


def test_the_reported_silent_wrong_derivative_is_now_an_error():
    # grad(x * float(x)) at 3 is 6; it used to return 3.0 silently
    with pytest.raises(TypeError, match=r"float\(\)"):
        fx.grad(lambda x: x * float(x))(3.0)
    with pytest.raises(TypeError, match=r"\.item\(\)"):
        fx.grad(lambda x: x * x.item())(3.0)


def test_allowed_inside_transforms_bool_comparisons_stop_gradient_and_constants():
    def f(x):
        c = float(fx.stop_gradient(x))  # on purpose: a constant
        k = int(x > 1.0) + int(fx.asarray(2))  # comparisons carry no derivative
        if x > 0 and bool(x < 10):  # Python control flow on primal values
            return x * c + k * x
        return -x

    assert float(fx.grad(f)(3.0)) == 3.0 + 3.0  # c + k
    assert float(fx.grad(f)(0.5)) == 0.5 + 2.0
    # display of a traced value (f-strings in a training loop) shows its primal
    seen = []
    fx.grad(lambda x: (seen.append(f"{x:.2f}"), x * x)[1])(1.5)
    assert seen == ["1.50"]


def test_conversions_under_vmap_say_vmap():
    for conv in (float, lambda t: t.item(), int):
        with pytest.raises(RuntimeError, match="vmap"):
            fx.vmap(lambda a, conv=conv: a * conv(a[0]))(np.ones((2, 3)))


def test_escaped_values_still_raise_the_leak_error_on_conversion():
    box = []
    fx.grad(lambda x: (box.append(x * 2), fx.sum(x))[1])(X)
    for conv in (float, lambda t: t.tolist(), pickle.dumps):
        with pytest.raises(RuntimeError, match="escaped"):
            conv(box[0][0] if conv is float else box[0])


# -------------------------------------------------------------- indexing


def test_boolean_masks_must_match_the_indexed_axes():
    x = fx.ones((3, 4))
    bad = np.array([True, False])
    with pytest.raises(IndexError, match="axis 0; size of axis is 3 .* boolean axis is 2"):
        x[bad]
    with pytest.raises(IndexError, match="axis 1; size of axis is 4"):
        x[:, np.array([True, False, True])]
    with pytest.raises(IndexError, match="boolean index did not match"):
        x[np.ones((3, 3), bool)]
    with pytest.raises(IndexError, match="boolean index did not match"):
        x.at[bad].set(0.0)
    with pytest.raises(IndexError, match="boolean index did not match"):
        fx.grad(lambda v: fx.sum(v[bad]))(np.ones((3, 4)))
    with pytest.raises(IndexError, match="boolean index did not match"):
        fx.jvp(lambda v: v.at[bad].set(1.0), (np.ones((3, 4)),), (np.ones((3, 4)),))
    # right-shaped masks still work, in every position
    a = np.arange(12.0).reshape(3, 4)
    m = np.array([True, False, True])
    assert_close(fx.asarray(a)[m], a[m])
    assert_close(fx.asarray(a)[:, a[0] > 1], a[:, a[0] > 1])
    assert_close(fx.asarray(a)[a > 4], a[a > 4])
    assert_close(fx.asarray(a).at[m].set(-1.0), np.where(m[:, None], -1.0, a))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int64])
def test_out_of_range_indices_raise_whatever_their_dtype(dtype):
    x = fx.arange(12.0).reshape(3, 4)
    big = np.array([np.iinfo(dtype).max], dtype=dtype)
    for use in (
        lambda: x[big],
        lambda: x[:, big],
        lambda: x[big, big],
        lambda: x.at[big].set(0.0),
        lambda: x.at[big].add(1.0),
        lambda: fx.take(x, big, axis=0),
        lambda: fx.grad(lambda v: fx.sum(v[big]))(np.ones((3, 4))),
    ):
        with pytest.raises(IndexError, match="out of bounds"):
            use()
    ok = np.array([2], dtype=dtype)
    assert_close(x[ok], np.arange(12.0).reshape(3, 4)[[2]])


def test_scalar_bool_and_empty_list_indices_as_numpy():
    a = np.arange(6.0).reshape(2, 3)
    t = fx.asarray(a)
    for key in (True, False, (True, 0), (Ellipsis, False), [], ([], 0)):
        assert_close(t[key], a[key])


def test_at_set_on_a_large_bool_tensor_costs_bytes_not_words_per_element():
    # `.at[i].set` used to build int64 positions of the whole tensor (8 bytes
    # per element); now a one-byte mask, the updates and the result.
    code = textwrap.dedent(
        """
        import resource, ferrax as fx, numpy as np
        n = 200_000_000
        x = fx.zeros(n, dtype=bool).block_until_ready()
        np.asarray(x)  # touch it
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        y = x.at[5].set(True)
        assert bool(y[5]) and not bool(y[4])
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) * 1024 / n)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    bytes_per_element = float(out.stdout)
    assert bytes_per_element < 4.0, bytes_per_element


# ------------------------------------------------------ integer arithmetic


def test_integer_power_uses_the_whole_exponent():
    assert_close(fx.asarray([3]) ** (2**32 + 1), np.array([3]) ** (2**32 + 1))
    for e in (0, 1, 2, 31, 32, 33, 40, 63, 64, 2**31 + 3, 2**40 + 7):
        for base in (-3, -1, 0, 1, 2, 7):
            b = np.array([base], dtype=np.int64)
            assert_close(fx.asarray(b) ** e, b ** np.int64(e))
    b32 = np.array([3, -2, 5], dtype=np.int32)
    e32 = np.array([31, 2**31 - 1, 20], dtype=np.int32)
    assert_close(fx.asarray(b32) ** fx.asarray(e32), b32**e32)
    with pytest.raises(ValueError, match="negative integer powers"):
        fx.asarray([2]) ** -1


def test_int_of_a_float_tensor_is_exact_like_python():
    for v in (1e300, -1e300, 2.0**63, 2.0**64 + 2048, -(2.0**70), 123.99, -123.99):
        assert int(fx.asarray(v)) == int(v)
        assert int(fx.asarray(np.float32(v))) == int(np.float32(v)) if abs(v) < 3e38 else True
    with pytest.raises(OverflowError):
        int(fx.asarray(np.inf))
    with pytest.raises(ValueError):
        int(fx.asarray(np.nan))
    big = np.array([2**62 + 1], dtype=np.int64)
    assert int(fx.asarray(big)[0]) == 2**62 + 1
    assert operator.index(fx.asarray(big)[0]) == 2**62 + 1
    assert fx.asarray(big)[0].item() == 2**62 + 1


@pytest.mark.parametrize("code", [">i4", ">i8", ">f4", ">f8", "<i4", ">i2", ">u2", ">u4"])
def test_non_native_byte_orders_keep_their_width(code):
    a = np.array([1, -2, 3] if "u" not in code else [1, 2, 3], dtype=code)
    want = np.asarray(a, dtype=a.dtype.newbyteorder("="))
    want = want.astype({"i2": np.int32, "u2": np.int32, "u4": np.int64}.get(code[1:], want.dtype))
    assert_close(fx.asarray(a), want)


@pytest.mark.parametrize("op", ["floordiv", "mod", "pow", "matmul"])
def test_bool_operands_of_integer_ops_follow_numpy(op):
    a = np.array([[True, False], [True, True]])
    b = np.array([[True, True], [False, True]])
    f = getattr(operator, op)
    with np.errstate(divide="ignore"):  # x // False is 0, as NumPy
        want = f(a, b)
        got = f(fx.asarray(a), fx.asarray(b))
        if want.dtype == np.int8:  # ferrax's smallest integer is int32
            want = want.astype(np.int32)
        assert_close(got, want)
        # with a Python int, NumPy's weak scalar gives the default int (NumPy's
        # `bool ** int` alone gives int8, an exception ferrax does not copy)
        if op != "matmul":
            assert_close(f(fx.asarray(a), 2), f(a.astype(np.int64), 2))


# ------------------------------------------------ transforms' argument checks


@pytest.mark.parametrize("transform", [fx.grad, fx.value_and_grad, fx.jacrev, fx.jacfwd])
def test_repeated_argnums_are_refused(transform):
    f = lambda a, b: fx.sum(a * b)  # noqa: E731
    for argnums in ((0, 0), (1, -1), (0, 1, 0)):
        with pytest.raises(ValueError, match="more than once"):
            transform(f, argnums=argnums)(X, X)
    with pytest.raises(ValueError, match="more than once"):
        fx.hessian(f, argnums=(0, 0))(X, X)


@pytest.mark.parametrize("transform", [fx.jacrev, fx.jacfwd])
@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_chunk_size_must_be_a_positive_int(transform, bad):
    with pytest.raises(ValueError, match="chunk_size"):
        transform(fx.sin, chunk_size=bad)
    assert_close(transform(fx.sin, chunk_size=2)(X), np.diag(np.cos(X)))


@pytest.mark.parametrize("transform", [fx.jacrev, fx.jacfwd, fx.hessian])
def test_jacobians_of_a_function_returning_none_raise_type_error(transform):
    with pytest.raises(TypeError, match="returned"):
        transform(lambda x: None)(X)
    with pytest.raises(TypeError, match="returned"):
        transform(lambda x: [None, ()])(X)


def test_var_and_std_take_any_real_ddof():
    a = np.array([[1.0, 4.0, 2.5], [0.5, -1.0, 3.0]])
    for ddof in (-1, 0, 1, 0.5, 2, 3, 5):
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            # NumPy warns for ddof >= n (and returns inf or nan, as ferrax)
            warnings.simplefilter("ignore", RuntimeWarning)
            assert_close(fx.var(a, ddof=ddof), np.var(a, ddof=ddof))
            assert_close(fx.asarray(a).std(axis=1, ddof=ddof), np.std(a, axis=1, ddof=ddof))
            assert_close(np.var(fx.asarray(a), axis=0, ddof=ddof), np.var(a, axis=0, ddof=ddof))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64])
def test_mean_in_a_given_dtype(dtype):
    a = np.array([[1, 2, 4], [7, 7, 8]])
    for axis in (None, 0, 1):
        assert_close(np.mean(fx.asarray(a), axis=axis, dtype=dtype), np.mean(a, axis, dtype))


# ------------------------------------------------- tensors as Python objects


def test_tensors_pickle_copy_deepcopy_and_weakref():
    t = fx.asarray(np.arange(12.0).reshape(3, 4))[:, ::-2]  # a strided view
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        r = pickle.loads(pickle.dumps(t, protocol=proto))
        assert isinstance(r, fx.Tensor)
        assert_close(r, np.asarray(t))
    tree = {"w": fx.ones((2, 2), dtype=fx.float32), "b": [fx.arange(3), (fx.asarray(True),)]}
    back = pickle.loads(pickle.dumps(tree))
    assert back["w"].dtype == np.float32 and back["b"][1][0].dtype == np.bool_
    assert_close(back["b"][0], np.arange(3))
    assert copy.copy(t) is t and copy.deepcopy(tree)["w"] is tree["w"]  # immutable
    ref = weakref.ref(t)
    assert ref() is t
    del t, r
    gc.collect()
    assert ref() is None
    # pickles compactly: the raw buffer, not one object per element
    big = fx.zeros(100_000)
    assert len(pickle.dumps(big)) < 8 * 100_000 + 500


def test_format_round_and_the_constructor():
    t = fx.asarray(2.675)
    assert f"{t:.2f}" == f"{2.675:.2f}" and format(t, "e") == format(2.675, "e")
    assert f"{fx.asarray(7):05d}" == "00007" and f"{t}" == str(t)
    with pytest.raises(TypeError, match="format"):
        f"{fx.ones(2):.2f}"
    assert round(fx.asarray(2.5)) == 2 and isinstance(round(fx.asarray(2.5)), int)
    r = round(fx.asarray([1.25, 2.35]), 1)
    assert isinstance(r, fx.Tensor)
    assert_close(r, np.round(np.array([1.25, 2.35]), 1))
    with pytest.raises(TypeError, match="asarray"):
        fx.Tensor([1.0, 2.0])
    assert fx.Tensor.__doc__ and "asarray" in fx.Tensor.__doc__


POSITION_KEYS = [
    2,
    -1,
    (1, 2),
    slice(None, None, -2),
    (slice(1, None), slice(None, None, 3)),
    (None, 0, Ellipsis),
    (Ellipsis, None),
    True,
    (False, 1),
    [],
    np.array([2, 0, 2]),
    (np.array([[0], [2]]), np.array([1, 3])),
    (slice(None), np.array([3, 0])),
    (np.array([1, 0]), slice(None), np.array([0, 1])),  # separated: axes go first
    (0, slice(None), np.array([1, 2])),
    (slice(None), np.array([0, 2]), np.array([1, 1])),
    np.arange(60).reshape(3, 4, 5) % 3 == 0,
    (np.array([True, False, True]), slice(None, 2)),
    (Ellipsis, np.array([True, False, False, True, True])),
    np.array([0, 1], dtype=np.uint64),
]


@pytest.mark.parametrize("key", POSITION_KEYS, ids=[str(i) for i in range(len(POSITION_KEYS))])
def test_flat_positions_match_numpy_indexing_of_an_arange(key):
    flat_positions = fx._ferrax._flat_positions
    shape = (3, 4, 5)
    want = np.arange(60).reshape(shape)[key]
    got = flat_positions(shape, key)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    # and `.at` writes exactly there
    a = np.arange(60.0).reshape(shape)
    expect = a.copy()
    expect[key] = -1.0
    assert_close(fx.asarray(a).at[key].set(-1.0), expect)

"""The error contract for operations: bad input gets a clear Python exception whose message names
the offending shapes/values, never a crash; the library stays usable afterwards."""

from __future__ import annotations

import re

import ferrax as fx
import numpy as np
import pytest


def _raises(exc, *fragments):
    """``pytest.raises(exc)`` whose message must contain every fragment (literally)."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# ---------------------------------------------------------------- shape mismatches


@pytest.mark.parametrize(
    "call, shapes",
    [
        (lambda: fx.ones(3) + fx.ones(4), ("(3,)", "(4,)")),
        (lambda: fx.add(fx.ones((2, 3)), fx.ones(4)), ("(2, 3)", "(4,)")),
        (lambda: fx.multiply(fx.ones(3), np.ones(4)), ("(3,)", "(4,)")),
        (lambda: np.ones((5, 2)) - fx.ones((3, 2)), ("(5, 2)", "(3, 2)")),
        (lambda: fx.maximum(fx.ones((2, 3, 4)), fx.ones((3, 3))), ("(2, 3, 4)", "(3, 3)")),
        (lambda: fx.arctan2(fx.ones(2), fx.ones(3)), ("(2,)", "(3,)")),
        (lambda: fx.ones(3) < fx.ones(2), ("(3,)", "(2,)")),
        (lambda: fx.logical_and(fx.ones(3) > 0, fx.ones(2) > 0), ("(3,)", "(2,)")),
        (lambda: fx.where(fx.ones(3) > 0, fx.ones(4), 0.0), ("(3,)", "(4,)")),
        (lambda: fx.clip(fx.ones(3), fx.zeros(4), 1.0), ("(3,)", "(4,)")),
        (lambda: fx.ones((2, 3)).T + fx.ones((2, 3)), ("(3, 2)", "(2, 3)")),
    ],
)
def test_broadcast_mismatch(call, shapes):
    with _raises(ValueError, *shapes):
        call()


@pytest.mark.parametrize(
    "a, b",
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (4,)), ((5,), (4, 2)), ((2, 3, 4), (2, 5, 6))]
    + [((2, 3, 4), (3, 4, 5))],
)
def test_matmul_mismatch(a, b):
    sa, sb = str(a), str(b)
    with _raises(ValueError, sa, sb):
        fx.matmul(fx.ones(a), fx.ones(b))
    with _raises(ValueError, sa, sb):
        fx.ones(a) @ fx.ones(b)
    with _raises(ValueError, sa, sb):
        fx.ones(a) @ np.ones(b)


def test_matmul_scalar_operand():
    with _raises(ValueError, "()", "(3,)"):
        fx.matmul(fx.asarray(1.0), fx.ones(3))


def test_dot_tensordot_einsum_mismatch():
    with _raises(ValueError, "(3,)", "(4,)"):
        fx.dot(fx.ones(3), fx.ones(4))
    with _raises(ValueError, "(2, 3)", "(4, 5)"):
        fx.tensordot(fx.ones((2, 3)), fx.ones((4, 5)), axes=1)
    with _raises(ValueError, "3", "4"):
        fx.einsum("ij,jk->ik", fx.ones((2, 3)), fx.ones((4, 5)))
    with _raises(ValueError, "(2, 2)", "(3,)"):
        fx.vdot(fx.ones((2, 2)), fx.ones(3))


@pytest.mark.parametrize(
    "arrays, axis, shapes",
    [
        ([(2, 3), (2, 4)], 0, ("(2, 3)", "(2, 4)")),
        ([(2, 3), (3,)], 0, ("(2, 3)", "(3,)")),
        ([(2, 3), (4, 3)], 1, ("(2, 3)", "(4, 3)")),
    ],
)
def test_concatenate_mismatch(arrays, axis, shapes):
    with _raises(ValueError, *shapes):
        fx.concatenate([fx.ones(s) for s in arrays], axis=axis)


def test_concatenate_stack_empty_and_stack_mismatch():
    with _raises(ValueError, "at least one"):
        fx.concatenate([])
    with _raises(ValueError, "at least one"):
        fx.stack([])
    with _raises(ValueError, "(3,)", "(4,)"):
        fx.stack([fx.ones(3), fx.ones(4)])


@pytest.mark.parametrize("shape", [(4, 2), (7,), (4, -1), (5, -1, 2), (0,)])
def test_reshape_wrong_size(shape):
    with _raises(ValueError, "size 6", str(shape)):
        fx.reshape(fx.ones((2, 3)), shape)
    with _raises(ValueError, "size 6"):
        fx.ones((2, 3)).reshape(shape)


def test_reshape_two_unknowns():
    with _raises(ValueError, "one unknown"):
        fx.reshape(fx.ones(6), (-1, -1))


def test_broadcast_to_incompatible():
    with _raises(ValueError, "(3,)", "(4,)"):
        fx.broadcast_to(fx.ones(3), (4,))
    with _raises(ValueError, "(2, 3)", "(3,)"):
        fx.broadcast_to(fx.ones((2, 3)), (3,))


def test_split_unequal():
    with _raises(ValueError, "equal division"):
        fx.split(fx.ones(5), 2)


def test_repeat_bad_repeats():
    with _raises(ValueError, "(2,)", "(3,)"):
        fx.repeat(fx.ones(3), [1, 2])


def test_cross_entropy_label_shape():
    with _raises(ValueError, "(2, 4)", "(2, 3)"):
        fx.nn.cross_entropy(fx.ones((2, 3)), fx.ones((2, 4)))


# ---------------------------------------------------------------- axes


AXIS_CASES = {
    "sum": (lambda x: fx.sum(x, axis=2), "2"),
    "sum_neg": (lambda x: fx.sum(x, axis=-3), "-3"),
    "sum_tuple": (lambda x: fx.sum(x, axis=(0, 5)), "5"),
    "mean": (lambda x: fx.mean(x, axis=2), "2"),
    "prod": (lambda x: fx.prod(x, axis=3), "3"),
    "max": (lambda x: fx.max(x, axis=2), "2"),
    "min": (lambda x: fx.min(x, axis=-4), "-4"),
    "var": (lambda x: fx.var(x, axis=2), "2"),
    "std": (lambda x: fx.std(x, axis=2), "2"),
    "logsumexp": (lambda x: fx.logsumexp(x, axis=2), "2"),
    "argmax": (lambda x: fx.argmax(x, axis=2), "2"),
    "argmin": (lambda x: fx.argmin(x, axis=-3), "-3"),
    "cumsum": (lambda x: fx.cumsum(x, axis=2), "2"),
    "transpose": (lambda x: fx.transpose(x, (0, 2)), "2"),
    "swapaxes": (lambda x: fx.swapaxes(x, 0, 2), "2"),
    "moveaxis": (lambda x: fx.moveaxis(x, 0, 2), "2"),
    "expand_dims": (lambda x: fx.expand_dims(x, 4), "4"),
    "squeeze": (lambda x: fx.squeeze(x, 3), "3"),
    "flip": (lambda x: fx.flip(x, 2), "2"),
    "take": (lambda x: fx.take(x, [0], axis=2), "2"),
    "concatenate": (lambda x: fx.concatenate([x, x], axis=2), "2"),
    "stack": (lambda x: fx.stack([x, x], axis=4), "4"),
    "softmax": (lambda x: fx.nn.softmax(x, axis=2), "2"),
    "split": (lambda x: fx.split(x, 2, axis=2), "2"),
    "norm": (lambda x: fx.linalg.norm(x, axis=2), "2"),
    "repeat": (lambda x: fx.repeat(x, 2, axis=2), "2"),
    "diagonal": (lambda x: fx.diagonal(x, 0, 0, 3), "3"),
    "trace": (lambda x: fx.trace(x, 0, 0, 2), "2"),
    "tensordot": (lambda x: fx.tensordot(x, fx.ones((3, 2)), axes=([3], [0])), "3"),
    "take_along_axis": (lambda x: fx.take_along_axis(x, np.zeros((2, 1), int), 2), "2"),
    "log_softmax": (lambda x: fx.nn.log_softmax(x, axis=-3), "-3"),
}


@pytest.mark.parametrize("name", list(AXIS_CASES))
def test_axis_out_of_range(name):
    call, axis = AXIS_CASES[name]
    x = fx.ones((2, 3))
    with _raises(ValueError, axis) as info:
        call(x)
    assert re.search(r"out of (bounds|range)", str(info.value)), str(info.value)


def test_repeated_axis():
    with _raises(ValueError, "repeated"):
        fx.sum(fx.ones((2, 3)), axis=(0, 0))
    with _raises(ValueError, "[0, 0]"):
        fx.transpose(fx.ones((2, 3)), (0, 0))


def test_squeeze_non_unit_axis():
    with _raises(ValueError, "size", "(2, 3)"):
        fx.squeeze(fx.ones((2, 3)), 0)


def test_reduction_of_empty_without_identity():
    with _raises(ValueError, "zero-size", "(0, 3)"):
        fx.max(fx.zeros((0, 3)))
    with _raises(ValueError, "empty"):
        fx.argmax(fx.zeros((0,)))


# ---------------------------------------------------------------- indexing


@pytest.mark.parametrize(
    "key, fragments",
    [
        (3, ("3", "size 3")),
        (-4, ("-4", "size 3")),
        ((0, 5), ("5", "axis 1")),
        ((slice(None), -6), ("-6", "axis 1")),
        (np.array([0, 3]), ("3", "axis 0")),
        (np.array([[-4]]), ("-4",)),
        ((np.array([0, 1]), np.array([1, 9])), ("9", "axis 1")),
    ],
)
def test_index_out_of_range(key, fragments):
    t = fx.ones((3, 5)) if isinstance(key, tuple) else fx.ones(3)
    with _raises(IndexError, "out of bounds", *fragments):
        t[key]


def test_take_out_of_range():
    with _raises(IndexError, "5", "out of bounds"):
        fx.take(fx.ones(3), [5])
    with _raises(IndexError, "-4", "out of bounds"):
        fx.take(fx.ones((2, 3)), [-4], axis=1)
    with _raises(IndexError, "out of bounds", "size 3"):
        fx.take_along_axis(fx.ones((2, 3)), np.array([[5]]), axis=1)


def test_at_out_of_range():
    with _raises(IndexError, "5", "out of bounds"):
        fx.ones(3).at[5].set(1.0)
    with _raises(IndexError, "out of bounds"):
        fx.ones(3).at[np.array([0, 7])].add(1.0)


@pytest.mark.parametrize(
    "shape, key",
    [((3,), (0, 0)), ((3,), (slice(None), None, 0)), ((2, 2), (0, 0, 0)), ((), 0)]
    + [((2, 3), (Ellipsis, 0, 0, 0))],
)
def test_too_many_indices(shape, key):
    with _raises(IndexError, "too many indices"):
        fx.ones(shape)[key]


def test_bad_index_types():
    t = fx.ones(3)
    with _raises(IndexError, "integers"):
        t["a"]
    with _raises(IndexError, "integers"):
        t[1.5]
    with _raises(IndexError, "integers"):
        t[np.array([0.5])]
    with _raises(IndexError, "ellipsis"):
        t[..., ...]
    with _raises(IndexError, "integers", "float"):
        t[fx.asarray([1.0])]
    with _raises(IndexError, "invalid index"):
        t[[object()]]
    with _raises(ValueError, "slice step cannot be zero"):
        t[::0]


def test_indices_beyond_int64_are_out_of_bounds_not_wrapped():
    t = fx.arange(3)
    for key in (2**70, -(2**70), np.uint64(2**64 - 1), np.array(2**63, dtype=np.uint64)):
        with _raises(IndexError, "out of bounds"):
            t[key]
        with _raises(IndexError, "out of bounds"):
            t.at[key].set(0)
    # slice bounds beyond int64 clamp to the axis, as in Python
    np.testing.assert_array_equal(t[-(2**70) : 2**70 : 2**65], [0])
    np.testing.assert_array_equal(t[2**70 :: -1], [2, 1, 0])


def test_boolean_mask_shape_mismatch():
    with pytest.raises(IndexError, match="size|shape|bounds|match"):
        fx.ones((2, 3))[np.array([True, False, True])]


def test_index_arrays_not_broadcastable():
    with _raises(IndexError, "(2,)", "(3,)"):
        fx.ones((4, 4))[np.array([0, 1]), np.array([0, 1, 2])]


# ---------------------------------------------------------------- types and dtypes


@pytest.mark.parametrize("spec", ["foo", "floatt64", "bogus"])
def test_bad_dtype_string(spec):
    with _raises(TypeError, spec):
        fx.zeros(3, dtype=spec)
    with _raises(TypeError, spec):
        fx.ones(2).astype(spec)
    with _raises(TypeError, spec):
        fx.asarray([1.0], dtype=spec)


@pytest.mark.parametrize("spec", ["float16", "complex128", np.uint8, "U3"])
def test_unsupported_dtype(spec):
    name = np.dtype(spec).name
    with _raises(TypeError, name):
        fx.zeros(3, dtype=spec)
    with _raises(TypeError, name):
        fx.arange(3, dtype=spec)


@pytest.mark.parametrize(
    "obj, fragment",
    [({"a": 1}, "{'a': 1}"), ("abc", "<U3"), (None, "None"), (np.array([1 + 2j]), "complex128")]
    + [([1, [2, 3]], "list"), (object(), "object"), (np.array(["x"]), "<U1")],
)
def test_unsupported_input(obj, fragment):
    with _raises(TypeError, fragment):
        fx.asarray(obj)


def test_unsupported_operands_in_ops():
    t = fx.ones(3)
    with _raises(TypeError, "<U1"):
        fx.sin("x")
    with _raises(TypeError, "{}"):
        t + {}  # noqa: B018
    with pytest.raises(TypeError):
        t + "x"  # noqa: B018
    with _raises(TypeError, "{'a': 1}"):
        fx.matmul(t, {"a": 1})


def test_integer_overflow_is_not_silent():
    # NumPy: OverflowError "Python integer 1099511627776 out of bounds for int32"
    with _raises(OverflowError, "1099511627776", "int32"):
        fx.ones(2, dtype=fx.int32) + 2**40
    # 2**63 does not fit int64 (NumPy makes a uint64 array); wrapping it is wrong
    with pytest.raises((OverflowError, TypeError, ValueError), match="9223372036854775808"):
        fx.asarray([2**63])


def test_len_of_zero_d():
    with _raises(TypeError, "len()", "0-d"):
        len(fx.asarray(1.0))


def test_bool_of_many_elements():
    with _raises(ValueError, "ambiguous"):
        bool(fx.ones(2))
    with _raises(ValueError, "ambiguous"):
        fx.ones((2, 2)) and 1


@pytest.mark.parametrize("dtype", [fx.int32, fx.int64])
def test_integer_to_negative_integer_power(dtype):
    with _raises(ValueError, "negative integer powers"):
        fx.asarray([2, 3], dtype=dtype) ** fx.asarray([-1, 2], dtype=dtype)
    with _raises(ValueError, "negative integer powers"):
        fx.asarray([2, 3], dtype=dtype) ** -1
    with _raises(ValueError, "negative integer powers"):
        fx.power(fx.asarray(2, dtype=dtype), -2)
    # a float exponent is fine, as in NumPy
    r = fx.asarray([2, 4], dtype=dtype) ** -1.0
    np.testing.assert_allclose(np.asarray(r), [0.5, 0.25])


def test_negative_dimensions():
    with _raises(ValueError, "negative", "-1"):
        fx.zeros((-1, 3))
    with _raises(ValueError, "negative", "-2"):
        fx.ones(-2)
    with _raises(ValueError, "negative", "-1"):
        fx.eye(-1)
    with _raises(ValueError, "-1"):
        fx.linspace(0.0, 1.0, -1)


def test_arange_zero_step():
    with _raises(ZeroDivisionError, "division by zero"):
        fx.arange(0, 10, 0)


@pytest.mark.parametrize(
    "shape",
    [(1 << 45,), (1 << 40, 1 << 20), (1 << 62,), (1 << 31, 1 << 31, 1 << 31), (1 << 36, 1 << 30)],
    ids=str,
)
def test_huge_allocation(shape):
    with pytest.raises((MemoryError, ValueError)) as info:
        fx.zeros(shape)
    msg = str(info.value)
    nbytes = int(np.prod(shape, dtype=object)) * 8
    # the message says what could not be allocated: the shape or the right byte count
    if isinstance(info.value, MemoryError):
        assert str(shape) in msg or str(nbytes) in msg or "EiB" in msg, msg
    else:
        assert str(shape) in msg and "large" in msg, msg
    # the process survives and the library still works
    np.testing.assert_array_equal(np.asarray(fx.ones(3) + 1.0), [2.0, 2.0, 2.0])


def test_huge_allocation_via_broadcast_and_ops():
    big = fx.broadcast_to(fx.asarray(1.0), (1 << 31, 1 << 31))  # a view: no allocation
    assert big.shape == (1 << 31, 1 << 31)
    # an op on a broadcast constant is evaluated once and stays a view: no allocation
    shifted = big + 1.0
    assert shifted.shape == (1 << 31, 1 << 31)
    assert float(shifted[12345, 678]) == 2.0
    # a result of 2**47 elements from small inputs: refused before any work
    # (inputs stay small, so the test itself needs no memory)
    wide = fx.broadcast_to(fx.asarray(1.0), (1 << 31, 1 << 16))
    with pytest.raises((MemoryError, ValueError), match="alloc|large|memory"):
        wide + fx.arange(float(1 << 16))
    with pytest.raises((MemoryError, ValueError), match="alloc|large|memory"):
        fx.ones((1 << 20,)) * fx.ones((1 << 22, 1))
    np.testing.assert_array_equal(np.asarray(fx.sum(fx.ones(4))), 4.0)


# ---------------------------------------------------------------- misc


def test_diagonal_needs_2d():
    with _raises(ValueError, "two dimensions"):
        fx.diagonal(fx.ones(3))


def test_pad_bad_width_and_mode():
    with _raises(ValueError, "pad_width"):
        fx.pad(fx.ones(3), -1)
    with _raises(ValueError, "mean"):
        fx.pad(fx.ones(3), 1, mode="mean")
    with _raises(ValueError, "empty axis"):
        fx.pad(fx.ones(0), 1, mode="wrap")


def test_norm_unsupported_matrix_ord():
    with _raises(ValueError, "ord"):
        fx.linalg.norm(fx.ones((2, 3)), ord=3)


def test_immutable_setitem_message():
    t = fx.ones(3)
    with _raises(TypeError, ".at[", ".set("):
        t[0] = 1.0


def test_library_usable_after_errors():
    for bad in (
        lambda: fx.ones(3) + fx.ones(4),
        lambda: fx.ones(3)[5],
        lambda: fx.sum(fx.ones(3), axis=3),
        lambda: fx.asarray({"a": 1}),
        lambda: fx.zeros((1 << 62,)),
    ):
        with pytest.raises((ValueError, IndexError, TypeError, MemoryError)):
            bad()
    np.testing.assert_allclose(np.asarray(fx.exp(fx.zeros(2)) @ fx.ones(2)), 2.0)


EMPTY_OPS = {
    "exp": fx.exp,
    "neg": fx.neg,
    "abs": fx.abs,
    "transpose_mul": lambda x: x.T * 2.0,
    "cumsum0": lambda x: fx.cumsum(x, axis=0),
    "cumsum-1": lambda x: fx.cumsum(x, axis=-1),
    "gather": lambda x: x[np.array([], dtype=np.int64)],
    "take": lambda x: fx.take(x, np.array([], dtype=np.int64), axis=-1),
}


@pytest.mark.parametrize("shape", [(0, 0), (3, 0), (2, 0, 3)], ids=str)
@pytest.mark.parametrize("name", list(EMPTY_OPS))
def test_no_internal_errors_on_empty_tensors(name, shape):
    # A Rust panic surfaces as RuntimeError("internal error ..."); empty inputs of any
    # shape must simply give the empty result NumPy gives.
    ref = {
        "exp": np.exp,
        "neg": np.negative,
        "abs": np.abs,
        "transpose_mul": lambda x: x.T * 2.0,
        "cumsum0": lambda x: np.cumsum(x, axis=0),
        "cumsum-1": lambda x: np.cumsum(x, axis=-1),
        "gather": lambda x: x[np.array([], dtype=np.int64)],
        "take": lambda x: np.take(x, np.array([], dtype=np.int64), axis=-1),
    }[name]
    r = EMPTY_OPS[name](fx.zeros(shape))
    expected = ref(np.zeros(shape))
    assert r.shape == expected.shape
    assert np.asarray(r).dtype == expected.dtype

"""The error contract for the transforms: every misuse raises a clear Python exception of the
documented type whose message names the offending value, and the library keeps
working afterwards (no stale trace state)."""

from __future__ import annotations

import re

import ferrax as fx
import numpy as np
import pytest

X = np.array([1.0, 2.0, 3.0])


def _depth() -> int:
    return fx._ferrax._trace_depth()


@pytest.fixture(autouse=True)
def _no_stale_trace_state():
    assert _depth() == 0
    yield
    assert _depth() == 0
    # and a transform still works after whatever the test raised
    np.testing.assert_array_equal(np.asarray(fx.grad(lambda a: fx.sum(a * a))(X)), 2 * X)


# ------------------------------------------------------- non-scalar grad ---


@pytest.mark.parametrize("transform", [fx.grad, fx.value_and_grad])
@pytest.mark.parametrize(
    "f, shape",
    [
        (lambda a: a * 2, "(3,)"),
        (lambda a: fx.outer(a, a), "(3, 3)"),
        (lambda a: fx.reshape(a, (1, 3, 1)), "(1, 3, 1)"),
    ],
)
def test_grad_of_non_scalar_output(transform, f, shape: str) -> None:
    with pytest.raises(TypeError) as info:
        transform(f)(X)
    msg = str(info.value)
    assert shape in msg
    assert "jacrev" in msg and "vjp" in msg and "sum" in msg


def test_grad_of_pytree_output_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="scalar"):
        fx.grad(lambda a: (fx.sum(a), fx.sum(a)))(X)


def test_grad_of_integer_output_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="int64"):
        fx.grad(lambda a: fx.sum(a).astype("int64"))(X)


# ------------------------------------------------ integer and bool inputs ---


INT_INPUTS = [
    np.array([1, 2, 3]),
    np.array([1, 2], dtype=np.int32),
    np.array([True, False]),
    3,
    True,
]


@pytest.mark.parametrize("value", INT_INPUTS, ids=["int64", "int32", "bool", "pyint", "pybool"])
@pytest.mark.parametrize(
    "call",
    [
        lambda v: fx.grad(lambda a: fx.sum(a * 1.0))(v),
        lambda v: fx.value_and_grad(lambda a: fx.sum(a * 1.0))(v),
        lambda v: fx.grad(lambda p: fx.sum(p["a"] * 1.0))({"a": v}),
        lambda v: fx.grad(lambda a, b: fx.sum(a * b), argnums=1)(X, v),
        lambda v: fx.jacrev(lambda a: a * 1.0)(v),
        lambda v: fx.jacfwd(lambda a: a * 1.0)(v),
        lambda v: fx.hessian(lambda a: fx.sum(a * 1.0))(v),
        lambda v: fx.vjp(lambda a: a * 1.0, v),
        lambda v: fx.jvp(lambda a: a * 1.0, (v,), (np.ones(np.shape(v)),)),
    ],
    ids=[
        "grad",
        "value_and_grad",
        "grad_pytree",
        "grad_argnums",
        "jacrev",
        "jacfwd",
        "hessian",
        "vjp",
        "jvp",
    ],
)
def test_integer_or_bool_input_at_a_differentiated_position(call, value) -> None:
    with pytest.raises(TypeError) as info:
        call(value)
    dtype = np.asarray(value).dtype
    assert str(dtype) in str(info.value)


def test_integer_input_at_a_non_differentiated_position_is_fine() -> None:
    g = fx.grad(lambda a, n: fx.sum(a * n))(X, np.array([1, 2, 3]))
    np.testing.assert_array_equal(np.asarray(g), [1.0, 2.0, 3.0])
    j = fx.jacrev(lambda a, n: a * n, argnums=0)(X, np.array([2, 2, 2]))
    np.testing.assert_array_equal(np.asarray(j), 2 * np.eye(3))


# ------------------------------------------- tangents and cotangents ---


@pytest.mark.parametrize(
    "primal, tangent",
    [
        (X, np.ones(2)),
        (X, np.ones((3, 1))),
        (np.ones((2, 3)), np.ones((3, 2))),
        (np.float64(1.0), np.ones(1)),
    ],
)
def test_jvp_tangent_shape_mismatch(primal, tangent) -> None:
    with pytest.raises(ValueError) as info:
        fx.jvp(lambda a: a * 2, (primal,), (tangent,))
    msg = str(info.value)
    for shape in (np.shape(primal), np.shape(tangent)):
        assert _shape_text(shape) in msg, (shape, msg)


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


@pytest.mark.parametrize(
    "out_fn, cotangent, shapes",
    [
        (lambda a: a * 2, np.ones(2), ((3,), (2,))),
        (lambda a: fx.sum(a), np.ones(2), ((), (2,))),
        (lambda a: fx.outer(a, a), np.ones((3, 1)), ((3, 3), (3, 1))),
        (lambda a: (a, fx.sum(a)), (np.ones(3), np.ones(3)), ((), (3,))),
    ],
)
def test_vjp_cotangent_shape_mismatch(out_fn, cotangent, shapes) -> None:
    _, vjp_fn = fx.vjp(out_fn, X)
    with pytest.raises(ValueError) as info:
        vjp_fn(cotangent)
    msg = str(info.value)
    for shape in shapes:
        assert _shape_text(shape) in msg, (shape, msg)
    # the vjp function is still usable with a correct cotangent
    good = tuple(np.ones(np.shape(c)) for c in cotangent) if isinstance(cotangent, tuple) else None
    if good is None:
        out = out_fn(fx.asarray(X))
        good = np.ones(tuple(out.shape))
    (g,) = vjp_fn(good if not isinstance(cotangent, tuple) else (np.ones(3), np.array(1.0)))
    assert tuple(g.shape) == (3,)


def test_structure_mismatch_of_tangents_and_cotangents() -> None:
    with pytest.raises(ValueError, match="structure"):
        fx.jvp(lambda a: a * 2, (X,), (np.ones(3), np.ones(3)))
    with pytest.raises(ValueError, match="structure") as info:
        fx.jvp(lambda d: d["a"] * 2, ({"a": X},), ({"b": X},))
    assert "'a'" in str(info.value) and "'b'" in str(info.value)
    _, vjp_fn = fx.vjp(lambda a: (a, a), X)
    with pytest.raises(ValueError, match="structure"):
        vjp_fn(np.ones(3))
    with pytest.raises(ValueError, match="structure"):
        vjp_fn([np.ones(3), np.ones(3)])
    _, vjp_fn = fx.vjp(lambda a: {"u": a}, X)
    with pytest.raises(ValueError, match="structure"):
        vjp_fn({"v": np.ones(3)})


@pytest.mark.parametrize("bad", [np.float32, np.int64])
def test_tangent_and_cotangent_dtype_mismatch(bad) -> None:
    with pytest.raises(TypeError) as info:
        fx.jvp(lambda a: a * 2, (X,), (np.ones(3, dtype=bad),))
    msg = str(info.value)
    assert np.dtype(bad).name in msg and "float64" in msg
    _, vjp_fn = fx.vjp(lambda a: a * 2, X)
    with pytest.raises(TypeError) as info:
        vjp_fn(np.ones(3, dtype=bad))
    msg = str(info.value)
    assert np.dtype(bad).name in msg and "float64" in msg


def test_jvp_primals_must_be_a_tuple() -> None:
    with pytest.raises(TypeError, match="tuple"):
        fx.jvp(lambda a: a * 2, X, X)


def test_has_aux_requires_a_pair() -> None:
    for call in (
        lambda: fx.grad(lambda a: fx.sum(a), has_aux=True)(X),
        lambda: fx.jacrev(lambda a: a, has_aux=True)(X),
        lambda: fx.vjp(lambda a: (a, a, a), X, has_aux=True),
    ):
        with pytest.raises(TypeError, match="aux"):
            call()


# ------------------------------------------------------------ argnums ---


@pytest.mark.parametrize(
    "make, argnums, bad",
    [
        (fx.grad, 2, "2"),
        (fx.grad, -3, "-3"),
        (fx.grad, (0, 5), "5"),
        (fx.value_and_grad, 7, "7"),
        (fx.jacrev, 2, "2"),
        (fx.jacfwd, (1, -4), "-4"),
        (fx.hessian, 3, "3"),
    ],
)
def test_argnums_out_of_range(make, argnums, bad: str) -> None:
    def f(a, b):
        return fx.sum(a * b)

    with pytest.raises(ValueError) as info:
        make(f, argnums=argnums)(X, X)
    msg = str(info.value)
    assert "argnums" in msg
    assert re.search(rf"(?<![\d-]){re.escape(bad)}(?!\d)", msg), msg


# --------------------------------------------------------------- vmap ---


@pytest.mark.parametrize(
    "in_axes, args, bad",
    [
        ((0,), (X, X), "(0,)"),
        ((0, 0, 0), (X, X), "(0, 0, 0)"),
        (({"b": 0},), ({"a": X},), "'b'"),
        (([0, 0, 0],), ([X, X],), "[0, 0, 0]"),
        ("x", (X,), "'x'"),
    ],
)
def test_vmap_wrong_in_axes_structure(in_axes, args, bad: str) -> None:
    with pytest.raises(ValueError) as info:
        fx.vmap(lambda *a: a[0], in_axes=in_axes)(*args)
    assert bad in str(info.value)


@pytest.mark.parametrize(
    "in_axes, arg, bad",
    [(1, X, "1"), (-2, X, "-2"), (5, np.ones((2, 3)), "5"), (0, np.float64(3.0), "0")],
)
def test_vmap_in_axis_out_of_range(in_axes, arg, bad: str) -> None:
    with pytest.raises(ValueError) as info:
        fx.vmap(lambda a: a, in_axes=in_axes)(arg)
    msg = str(info.value)
    assert "in_axes" in msg and bad in msg and _shape_text(np.shape(arg)) in msg


@pytest.mark.parametrize(
    "out_axes, bad",
    [(2, "2"), (-3, "-3"), ((0, 0, 0), "(0, 0, 0)")],
)
def test_vmap_out_axes_errors(out_axes, bad: str) -> None:
    with pytest.raises(ValueError) as info:
        fx.vmap(lambda a: (a, a * 2), out_axes=out_axes)(X)
    assert bad in str(info.value)


def test_vmap_out_axes_none_for_a_batched_output() -> None:
    with pytest.raises(ValueError, match="None"):
        fx.vmap(lambda a: a, out_axes=None)(X)


@pytest.mark.parametrize(
    "args, sizes",
    [
        ((X, np.ones(4)), ["3", "4"]),
        ((X, np.ones(4), np.ones((5, 2))), ["3", "4", "5"]),
        (({"a": X, "b": np.ones((2, 7))},), ["2", "3"]),
    ],
)
def test_vmap_inconsistent_batch_sizes(args, sizes) -> None:
    with pytest.raises(ValueError) as info:
        fx.vmap(lambda *a: a[0])(*args)
    msg = str(info.value)
    for s in sizes:
        assert s in msg


def test_vmap_axis_size_mismatch_and_nothing_mapped() -> None:
    with pytest.raises(ValueError) as info:
        fx.vmap(lambda a: a, axis_size=4)(X)
    assert "4" in str(info.value) and "3" in str(info.value)
    with pytest.raises(ValueError, match="axis_size"):
        fx.vmap(lambda a: a, in_axes=None)(X)


def test_vmap_negative_axis_size() -> None:
    with pytest.raises(ValueError) as info:
        fx.vmap(lambda a: a * 2, in_axes=None, axis_size=-1)(X)
    assert "axis_size" in str(info.value) and "-1" in str(info.value)


def test_vmap_value_dependent_branch() -> None:
    with pytest.raises(RuntimeError, match="vmap"):
        fx.vmap(lambda a: a if fx.sum(a) > 0 else -a)(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="vmap"):
        fx.vmap(lambda a: a * float(a[0]))(np.ones((2, 3)))
    # boolean-mask indexing has a data-dependent shape: unsupported inside vmap, and says so
    with pytest.raises((RuntimeError, TypeError), match="vmap"):
        fx.vmap(lambda a: a[a > 0])(np.ones((2, 3)))


# ----------------------------------------------------------- escaped tracers ---


def _leak(transform: str):
    box = []

    def f(a):
        box.append(fx.sin(a))
        box.append(a)
        return fx.sum(a**2)

    if transform == "grad":
        fx.grad(f)(X)
    elif transform == "vjp":
        fx.vjp(f, X)
    elif transform == "jvp":
        fx.jvp(f, (X,), (np.ones(3),))
    elif transform == "vmap":
        fx.vmap(f)(np.ones((2, 3)))
    elif transform == "jacrev":
        fx.jacrev(f)(X)
    else:
        fx.jacfwd(f)(X)
    return box


LEAK_USES = {
    "mul": lambda t: t * 2,
    "sin": lambda t: fx.sin(t),
    "float": lambda t: float(fx.sum(t)),
    "index": lambda t: t[0] + 1.0,
    "numpy": lambda t: np.asarray(t),
    "in_grad": lambda t: fx.grad(lambda a: fx.sum(a * t))(X),
    "in_jvp": lambda t: fx.jvp(lambda a: a * t, (X,), (X,)),
    "in_vmap": lambda t: fx.vmap(lambda a: a * t)(np.ones((2, 3))),
    "as_input": lambda t: fx.grad(lambda a: fx.sum(a))(t),
}


@pytest.mark.parametrize("use", list(LEAK_USES))
@pytest.mark.parametrize("transform", ["grad", "vjp", "jvp", "vmap", "jacrev", "jacfwd"])
def test_escaped_tracer_raises_runtime_error_explaining_the_leak(transform: str, use: str) -> None:
    box = _leak(transform)
    for leaked in box:
        with pytest.raises(RuntimeError) as info:
            LEAK_USES[use](leaked)
        msg = str(info.value).lower()
        assert "escaped" in msg or "leak" in msg, msg


def test_escaped_tracer_from_a_nested_level() -> None:
    box = []

    def inner(b):
        box.append(b * 3)
        return fx.sum(b**3)

    g = fx.grad(lambda a: fx.sum(fx.grad(inner)(a) * a))(X)
    np.testing.assert_allclose(np.asarray(g), 9 * X**2)
    with pytest.raises(RuntimeError):
        box[0] + 1.0


def test_escaped_vjp_function_raises_runtime_error() -> None:
    box = []

    def f(a):
        _, vjp_fn = fx.vjp(fx.sin, a)
        box.append(vjp_fn)
        return fx.sum(vjp_fn(np.ones(3))[0])

    np.testing.assert_allclose(np.asarray(fx.grad(f)(X)), -np.sin(X), rtol=1e-15)
    with pytest.raises(RuntimeError) as info:
        box[0](np.ones(3))
    assert "escaped" in str(info.value)
    with pytest.raises(RuntimeError):
        fx.grad(lambda c: fx.sum(box[0](c)[0]))(np.ones(3))


# ---------------------------------------------- user exceptions propagate ---


class MyError(Exception):
    def __init__(self, msg, code):
        super().__init__(msg)
        self.code = code


def _raiser(box):
    def f(*args):
        err = MyError("custom failure #42", code=7)
        box.append(err)
        raise err

    return f


TRANSFORM_CALLS = {
    "grad": lambda f: fx.grad(f)(X),
    "value_and_grad": lambda f: fx.value_and_grad(f)(X),
    "vjp": lambda f: fx.vjp(f, X),
    "jvp": lambda f: fx.jvp(f, (X,), (X,)),
    "vmap": lambda f: fx.vmap(f)(np.ones((2, 3))),
    "jacrev": lambda f: fx.jacrev(f)(X),
    "jacfwd": lambda f: fx.jacfwd(f)(X),
    "hessian": lambda f: fx.hessian(f)(X),
    "grad_of_vmap": lambda f: fx.grad(lambda a: fx.sum(fx.vmap(f)(fx.stack([a, a]))))(X),
    "vmap_of_grad": lambda f: fx.vmap(fx.grad(f))(np.ones((2, 3))),
    "jvp_of_grad": lambda f: fx.jvp(fx.grad(f), (X,), (X,)),
}


@pytest.mark.parametrize("name", list(TRANSFORM_CALLS))
def test_user_exception_propagates_unchanged(name: str) -> None:
    box = []
    with pytest.raises(MyError) as info:
        TRANSFORM_CALLS[name](_raiser(box))
    assert info.value is box[0]
    assert str(info.value) == "custom failure #42" and info.value.code == 7
    assert _depth() == 0
    # the next transform call works and gives correct values
    np.testing.assert_allclose(np.asarray(fx.hessian(lambda a: fx.sum(a**3))(X)), np.diag(6 * X))


@pytest.mark.parametrize("exc", [KeyError("k"), ZeroDivisionError("zero"), StopIteration(5)])
def test_builtin_exceptions_propagate_with_their_type(exc) -> None:
    def f(a):
        _ = fx.sin(a) * 2
        raise exc

    for name in ("grad", "jacfwd", "vmap"):
        with pytest.raises(type(exc)) as info:
            TRANSFORM_CALLS[name](f)
        assert info.value is exc
        assert _depth() == 0


def test_exception_raised_midway_through_chunks() -> None:
    calls = []

    def f(a):
        calls.append(1)
        if len(calls) == 2:
            raise MyError("second call", code=2)
        return fx.sin(a)

    with pytest.raises(MyError, match="second call"):
        fx.jacfwd(f, chunk_size=1)(X)
    assert _depth() == 0
    np.testing.assert_allclose(
        np.asarray(fx.jacfwd(fx.sin, chunk_size=1)(X)), np.diag(np.cos(X)), rtol=1e-15
    )


def test_exception_deep_inside_nested_transforms() -> None:
    def bad(a):
        b = fx.sin(a)
        if fx.sum(b) > -10:
            raise MyError("deep", code=3)
        return b

    with pytest.raises(MyError, match="deep"):
        fx.grad(lambda a: fx.sum(fx.jacfwd(lambda r: fx.jvp(bad, (r,), (r,))[1])(a)))(X)
    assert _depth() == 0
    # a traced value created before the failure is not usable afterwards either
    box = []

    def leaky(a):
        box.append(a * 2)
        raise MyError("after leak", code=4)

    with pytest.raises(MyError):
        fx.grad(leaky)(X)
    with pytest.raises(RuntimeError):
        box[0] + 1.0


def test_errors_from_ops_inside_a_transform_propagate() -> None:
    with pytest.raises(ValueError) as info:
        fx.grad(lambda a: fx.sum(a + np.ones(4)))(X)
    assert "(3,)" in str(info.value) and "(4,)" in str(info.value)
    assert _depth() == 0
    with pytest.raises(ValueError):
        fx.vmap(lambda a: a @ np.ones((2, 2)))(np.ones((2, 3)))
    assert _depth() == 0

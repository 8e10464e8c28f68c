"""The parts of JAX's autodiff toolbox beyond the core transforms:
``linearize``, ``linear_transpose``, ``hvp``, ``jacobian``, ``jit`` and
``fx.test_util.check_grads`` — values against finite differences and JAX,
call counts, nesting, and the error paths."""

from __future__ import annotations

from functools import partial

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close
from ferrax.test_util import check_grads, check_jvp, check_vjp
from gradcheck import fd_jvp

rng = np.random.default_rng(3)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def f2(x, y):
    """Two inputs, a pytree output."""
    return {"a": fx.sin(x) * y[0], "b": fx.sum(fx.exp(x) * y[1])}


X = rng.standard_normal(4)
Y = (rng.standard_normal(4), rng.standard_normal(()))


# ------------------------------------------------------------- linearize ---


def test_linearize_matches_jvp_and_does_not_call_again():
    calls = []

    def f(x, y):
        calls.append(1)
        return f2(x, y)

    out, f_jvp = fx.linearize(f, X, Y)
    assert len(calls) == 1
    assert_close(out["a"], np.sin(X) * Y[0], kind="exact", rtol=1e-15)
    for seed in range(3):
        r = np.random.default_rng(seed)
        tx, ty = r.standard_normal(4), (r.standard_normal(4), r.standard_normal(()))
        got = f_jvp(tx, ty)
        _, want = fx.jvp(f2, (X, Y), (tx, ty))
        assert_close(got["a"], want["a"], kind="exact", rtol=1e-14)
        assert_close(got["b"], want["b"], kind="exact", rtol=1e-14)
        fd = fd_jvp(lambda x, y: f2(x, y), (X, Y), (tx, ty))
        assert_close(np.concatenate([np.ravel(got["a"]), np.ravel(got["b"])]), fd, rtol=1e-6)
    assert len(calls) == 1  # f_jvp never re-ran f


def test_linearize_is_linear_and_differentiable_and_batchable():
    out, f_jvp = fx.linearize(lambda x: fx.tanh(x) ** 2, X)
    t = rng.standard_normal(4)
    assert_close(f_jvp(2.0 * t), 2.0 * np.asarray(f_jvp(t)), kind="exact", rtol=1e-14)
    # the linear map under vmap (many tangents at once) and under grad
    ts = rng.standard_normal((5, 4))
    assert_close(fx.vmap(f_jvp)(ts), np.stack([np.asarray(f_jvp(ti)) for ti in ts]), rtol=1e-14)
    g = fx.grad(lambda t: fx.sum(f_jvp(t)))(t)
    assert_close(g, fx.jacfwd(lambda x: fx.tanh(x) ** 2)(X).sum(0), kind="exact", rtol=1e-13)
    # has_aux, and a constant output gets a zero tangent
    out, f_jvp, aux = fx.linearize(lambda x: (fx.asarray(3.0), x * 2), X, has_aux=True)
    assert float(f_jvp(t)) == 0.0
    assert_close(aux, 2 * X)


def test_linearize_matches_jax():
    jax = _jax()
    f = lambda x: x[0] * fx.sin(x) + fx.log1p(x**2)  # noqa: E731
    jf = lambda x: x[0] * jax.numpy.sin(x) + jax.numpy.log1p(x**2)  # noqa: E731
    t = rng.standard_normal(4)
    _, f_jvp = fx.linearize(f, X)
    _, jf_jvp = jax.linearize(jf, X)
    assert_close(f_jvp(t), np.asarray(jf_jvp(t)), kind="exact", rtol=1e-13)


def test_linearize_errors():
    _, f_jvp = fx.linearize(f2, X, Y)
    with pytest.raises(TypeError, match="takes 2 tangents"):
        f_jvp(X)
    with pytest.raises(ValueError, match="structure"):
        f_jvp(X, X)
    with pytest.raises(ValueError, match="tangent 0 has shape"):
        f_jvp(np.ones(3), Y)
    with pytest.raises(TypeError, match="only float32 and float64"):
        fx.linearize(lambda x: x, np.arange(3))


# ------------------------------------------------------- linear_transpose ---


def test_linear_transpose_of_linear_maps():
    a = rng.standard_normal((3, 4))
    f_t = fx.linear_transpose(lambda x: fx.asarray(a) @ x, np.zeros(4))
    ct = rng.standard_normal(3)
    (got,) = f_t(ct)
    assert_close(got, a.T @ ct, kind="exact", rtol=1e-14)
    # several inputs, pytrees, a cumsum (a non-trivial linear map)
    f_t = fx.linear_transpose(lambda x, y: (fx.cumsum(x), 2.0 * y["w"] - x[:2]), X, {"w": X[:2]})
    cx, cy = f_t((np.ones(4), np.ones(2)))
    assert_close(cx, np.array([4.0, 3.0, 2.0, 1.0]) - np.array([1, 1, 0, 0]))
    assert_close(cy["w"], np.full(2, 2.0))
    jax = pytest.importorskip("jax")
    jf_t = jax.linear_transpose(lambda x: jax.numpy.cumsum(x) * 3.0, X)
    (want,) = jf_t(ct[:1].repeat(4))
    (got,) = fx.linear_transpose(lambda x: fx.cumsum(x) * 3.0, X)(ct[:1].repeat(4))
    assert_close(got, np.asarray(want), kind="exact", rtol=1e-14)


def test_linear_transpose_refuses_nonlinear_functions():
    for f in (lambda x: x**2, lambda x: x + 1.0, lambda x: fx.sin(x)):
        with pytest.raises(ValueError, match="not linear"):
            fx.linear_transpose(f, X)


# ------------------------------------------------------ hvp and jacobian ---


def test_hvp_matches_hessian_and_jax():
    f = lambda x: fx.sum(fx.sin(x) * x**2)  # noqa: E731
    v = rng.standard_normal(4)
    h = np.asarray(fx.hessian(f)(X))
    assert_close(fx.hvp(f, (X,), (v,)), h @ v, kind="exact", rtol=1e-12)
    # two primals: a tuple of blocks
    g = lambda x, y: fx.sum(x * x * y)  # noqa: E731
    hx, hy = fx.hvp(g, (X, X), (v, v))
    assert_close(hx, 2 * X * v + 2 * X * v, kind="exact", rtol=1e-13)
    assert_close(hy, 2 * X * v, kind="exact", rtol=1e-13)
    jax = _jax()
    jf = lambda x: jax.numpy.sum(jax.numpy.sin(x) * x**2)  # noqa: E731
    want = jax.jvp(jax.grad(jf), (X,), (v,))[1]
    assert_close(fx.hvp(f, (X,), (v,)), np.asarray(want), kind="exact", rtol=1e-13)


def test_jacobian_is_jacrev():
    f = lambda x: fx.sin(x) * x[0]  # noqa: E731
    assert_close(fx.jacobian(f)(X), fx.jacrev(f)(X))
    assert_close(fx.jacobian(lambda a, b: a * b, argnums=1)(X, X), np.diag(X))


# ------------------------------------------------------------------- jit ---


def test_jit_runs_the_function_unchanged():
    calls = []

    @fx.jit
    def f(x, n):
        calls.append(n)
        return fx.sin(x) * n

    assert_close(f(X, 2), 2 * np.sin(X), kind="exact", rtol=1e-15)
    assert f.__name__ == "f" and f.__wrapped__ is not None

    @partial(fx.jit, static_argnums=(1,), donate_argnums=0)
    def g(x, n):
        return x * n

    assert_close(g(fx.asarray(X), 3), 3 * X)
    # transforms see through it
    assert_close(fx.grad(lambda x: fx.sum(f(x, 1)))(X), np.cos(X), kind="exact", rtol=1e-15)
    assert_close(fx.jit(fx.vmap(fx.grad(fx.sin)))(X), np.cos(X), kind="exact", rtol=1e-15)
    assert calls == [2, 1]
    with pytest.raises(TypeError, match="static_argnums must be ints"):
        fx.jit(f, static_argnums=("x",))
    with pytest.raises(TypeError, match="expected a function"):
        fx.jit(3)


# -------------------------------------------------------------- test_util ---


def test_check_grads_passes_on_correct_derivatives():
    check_grads(lambda x: fx.sum(fx.tanh(x) ** 2), (X,), order=2)
    check_grads(f2, (X, Y), order=2, modes=("fwd", "rev", "lin"))
    check_grads(fx.sin, (X.astype(np.float32),), order=1)


def test_check_grads_catches_wrong_derivatives():
    # a derivative off by 1%: the jvp check and the vjp check both fail
    wrong = lambda x: fx.sin(x) + 0.01 * fx.stop_gradient(x) * x  # noqa: E731
    with pytest.raises(AssertionError, match="tangent"):
        check_jvp(wrong, partial(fx.jvp, wrong), (X,))
    with pytest.raises(AssertionError, match="cotangent projection"):
        check_vjp(wrong, partial(fx.vjp, wrong), (X,))
    with pytest.raises(AssertionError):
        check_grads(wrong, (X,), order=1, modes=("rev",))
    with pytest.raises(ValueError, match="unknown modes"):
        check_grads(fx.sin, (X,), order=1, modes=("sideways",))


def test_check_grads_agrees_with_jax_on_a_jax_program():
    jax = _jax()
    from jax import test_util as jtu

    jtu.check_grads(lambda x: jax.numpy.sum(jax.numpy.tanh(x) ** 3), (X,), order=2)
    check_grads(lambda x: fx.sum(fx.tanh(x) ** 3), (X,), order=2)

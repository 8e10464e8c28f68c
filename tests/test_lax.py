"""``fx.lax``: control flow (values, derivatives in both modes, batched
predicates and indices under ``vmap``) and dynamic slicing (clamping,
derivatives, batched starts), against JAX where installed."""

from __future__ import annotations

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close
from ferrax import lax
from gradcheck import check_all, check_vmap

rng = np.random.default_rng(12)
X = rng.standard_normal(4)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def test_fori_loop_scan_map_values_and_derivatives():
    f = lambda x: lax.fori_loop(0, 3, lambda i, v: fx.sin(v) * (i + 1.0), x)  # noqa: E731
    want = X
    for i in range(3):
        want = np.sin(want) * (i + 1.0)
    assert_close(f(X), want, kind="exact", rtol=1e-15)
    check_all(f, [X])

    def step(c, x):
        return c * x + 1.0, c**2

    carry, ys = lax.scan(step, fx.asarray(0.5), fx.asarray(X))
    c, expect = 0.5, []
    for x in X:
        expect.append(c**2)
        c = c * x + 1.0
    assert_close(carry, c, kind="exact", rtol=1e-15)
    assert_close(ys, np.array(expect), kind="exact", rtol=1e-15)
    check_all(lambda c0, xs: lax.scan(step, c0, xs)[0], [np.asarray(0.5), X])
    # reverse, no xs, pytrees
    _, r = lax.scan(lambda c, x: (c, x * 2.0), 0.0, fx.asarray(X), reverse=True)
    assert_close(r, 2 * X)
    c, ys = lax.scan(lambda c, _: (c + 1.0, {"c": c}), 0.0, length=3)
    assert float(c) == 3.0 and list(np.asarray(ys["c"])) == [0.0, 1.0, 2.0]
    assert_close(lax.map(fx.exp, fx.asarray(X)), np.exp(X), kind="exact", rtol=1e-15)
    with pytest.raises(ValueError, match="length must be given"):
        lax.scan(lambda c, x: (c, x), 0.0)
    with pytest.raises(ValueError, match="different leading lengths"):
        lax.scan(lambda c, x: (c, x), 0.0, (np.ones(2), np.ones(3)))


def test_cond_switch_select():
    assert_close(lax.cond(True, fx.sin, fx.cos, 0.3), np.sin(0.3))
    assert_close(lax.cond(fx.asarray(0.0) > 1, fx.sin, fx.cos, 0.3), np.cos(0.3))
    # batched predicate: each example its own branch; derivatives too
    f = fx.vmap(lambda x: lax.cond(x > 0, fx.sin, fx.cos, x))
    assert_close(f(X), np.where(X > 0, np.sin(X), np.cos(X)), kind="exact", rtol=1e-15)
    g = fx.vmap(fx.grad(lambda x: lax.cond(x > 0, fx.sin, fx.cos, x)))(X)
    assert_close(g, np.where(X > 0, np.cos(X), -np.sin(X)), kind="exact", rtol=1e-15)
    br = [fx.sin, fx.cos, lambda v: v * 3.0]
    assert_close(lax.switch(1, br, 0.2), np.cos(0.2))
    assert_close(lax.switch(9, br, fx.asarray(0.2)), 0.6)  # clamped
    idx = fx.asarray([0, 1, 2, -4])
    want = np.array([np.sin(1.0), np.cos(1.0), 3.0, np.sin(1.0)])
    assert_close(fx.vmap(lambda i: lax.switch(i, br, fx.asarray(1.0)))(idx), want, rtol=1e-15)
    assert_close(
        lax.select(fx.asarray([True, False]), fx.ones(2), fx.zeros(2)), np.array([1.0, 0.0])
    )
    with pytest.raises(ValueError, match="empty"):
        lax.switch(0, [], 1.0)


def test_while_loop_eager_and_batched():
    body = lambda v: v * 1.5 + 0.1  # noqa: E731
    f = lambda x: lax.while_loop(lambda v: v < 5.0, body, x)  # noqa: E731
    x0 = np.array([0.5, 2.0, 7.0])
    want = []
    for v in x0:
        while v < 5.0:
            v = v * 1.5 + 0.1
        want.append(v)
    assert_close(fx.vmap(f)(x0), np.array(want), kind="exact", rtol=1e-15)
    # differentiable in reverse mode too (JAX cannot), per example
    g = fx.vmap(fx.grad(f))(x0)
    steps = [
        int(np.ceil(np.log((5.0 + 0.2) / (v + 0.2)) / np.log(1.5))) if v < 5 else 0 for v in x0
    ]
    assert_close(g, 1.5 ** np.array([max(s, 0) for s in steps], float), rtol=1e-12)
    # traced bounds in fori_loop go through while_loop
    h = fx.vmap(lambda n, x: lax.fori_loop(0, n, lambda i, v: v + i, x))
    assert_close(h(fx.asarray([0, 1, 4]), fx.zeros(3)), np.array([0.0, 0.0, 6.0]))


def test_dynamic_slicing():
    a = fx.asarray(np.arange(20.0).reshape(4, 5))
    assert_close(lax.dynamic_slice(a, (1, 2), (2, 3)), np.arange(20.0).reshape(4, 5)[1:3, 2:5])
    # clamped as XLA: the window always fits
    assert_close(lax.dynamic_slice(a, (3, -2), (2, 2)), np.arange(20.0).reshape(4, 5)[2:4, 0:2])
    u = lax.dynamic_update_slice(a, fx.ones((2, 2)), (9, 1))
    want = np.arange(20.0).reshape(4, 5)
    want[2:4, 1:3] = 1.0
    assert_close(u, want)
    assert_close(
        lax.dynamic_slice_in_dim(a, 1, 2, axis=1),
        want[:, 1:3] * 0 + np.arange(20.0).reshape(4, 5)[:, 1:3],
    )
    assert_close(lax.dynamic_index_in_dim(a, 2, keepdims=False), np.arange(20.0).reshape(4, 5)[2])
    assert_close(lax.dynamic_update_slice_in_dim(a, fx.zeros((1, 5)), 0, axis=0)[0], np.zeros(5))
    # derivatives in the operand and the update; batched starts
    check_all(lambda x: lax.dynamic_slice(x, (1,), (2,)), [X])
    check_all(lambda x, v: lax.dynamic_update_slice(x, v, (2,)), [X, X[:2]])
    check_vmap(lambda s: lax.dynamic_slice(fx.asarray(X), (s,), (2,)), [np.array([0, 1, 3])])
    check_vmap(
        lambda s, v: lax.dynamic_update_slice(fx.asarray(X), v, (s,)),
        [np.array([0, 3]), rng.standard_normal((2, 2))],
    )
    with pytest.raises(ValueError, match="exceeds"):
        lax.dynamic_slice(a, (0, 0), (5, 1))
    with pytest.raises(ValueError, match="start_indices has 1 entries"):
        lax.dynamic_slice(a, (0,), (1, 1))
    with pytest.raises(TypeError, match="integers"):
        lax.dynamic_slice(a, (0.5, 0), (1, 1))
    with pytest.raises(ValueError, match="does not fit"):
        lax.dynamic_update_slice(a, fx.ones((5, 1)), (0, 0))


def test_lax_matches_jax():
    jax = _jax()
    jl, jnp = jax.lax, jax.numpy

    def fx_prog(x):
        c, ys = lax.scan(lambda c, x: (fx.sin(c) + x, c * x), 0.1, x)
        y = lax.fori_loop(0, 3, lambda i, v: v * fx.cos(v), c)
        return y + fx.sum(ys) + fx.sum(lax.dynamic_slice(x, (1,), (2,)) ** 2)

    def jax_prog(x):
        c, ys = jl.scan(lambda c, x: (jnp.sin(c) + x, c * x), 0.1, x)
        y = jl.fori_loop(0, 3, lambda i, v: v * jnp.cos(v), c)
        return y + jnp.sum(ys) + jnp.sum(jl.dynamic_slice(x, (1,), (2,)) ** 2)

    assert_close(fx_prog(X), np.asarray(jax_prog(X)), kind="exact", rtol=1e-14)
    assert_close(fx.grad(fx_prog)(X), np.asarray(jax.grad(jax_prog)(X)), kind="exact", rtol=1e-13)
    xs = rng.standard_normal((3, 4))
    f = lambda x: lax.cond(x[0] > 0, lambda v: v * 2.0, lambda v: -v, x)  # noqa: E731
    jf = lambda x: jl.cond(x[0] > 0, lambda v: v * 2.0, lambda v: -v, x)  # noqa: E731
    assert_close(fx.vmap(f)(xs), np.asarray(jax.vmap(jf)(xs)), kind="exact", rtol=1e-15)

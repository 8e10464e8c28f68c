"""``fx.custom_vjp`` and ``fx.checkpoint``: rules that deliberately differ
from the true derivative (so a test fails if the rule is ignored), pytrees
and ``nondiff_argnums``, ``vmap`` of the rules, nesting to second order,
forward mode, JAX's values, and every error path."""

from __future__ import annotations

from functools import partial

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close
from gradcheck import check_all, check_vmap

rng = np.random.default_rng(8)
X = rng.standard_normal(5)


@fx.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (fx.clip(g, -1.0, 1.0),))


def test_the_rule_replaces_the_derivative():
    assert float(fx.grad(lambda x: 3.0 * clip_gradient(x))(2.0)) == 1.0
    assert float(fx.grad(lambda x: 0.5 * clip_gradient(x))(2.0)) == 0.5
    # the primal is the function's
    assert_close(clip_gradient(fx.asarray(X)), X)
    assert_close(fx.value_and_grad(lambda x: fx.sum(3.0 * clip_gradient(x)))(X)[1], np.ones(5))


@fx.custom_vjp
def cube(x):
    return x**3


def _cube_fwd(x):
    return x**3, x


def _cube_bwd(x, g):
    return (6.0 * x**2 * g,)  # twice the true derivative, written with fx ops


cube.defvjp(_cube_fwd, _cube_bwd)


def test_nested_rules_differentiate_the_backward_function():
    x = 1.5
    assert_close(fx.grad(cube)(x), 6 * x**2, kind="exact", rtol=1e-15)
    # the second derivative is the derivative of the (doubled) rule: 12 x
    assert_close(fx.grad(fx.grad(cube))(x), 12 * x, kind="exact", rtol=1e-15)
    third = np.zeros((5, 5, 5))
    third[np.arange(5), np.arange(5), np.arange(5)] = 12 * X
    assert_close(fx.jacrev(fx.jacrev(cube))(X), third, kind="exact", rtol=1e-14)


def test_vmap_batches_the_rules():
    g = fx.vmap(fx.grad(cube))(X)
    assert_close(g, 6 * X**2, kind="exact", rtol=1e-15)
    # grad of a vmapped custom function; vmap with an unbatched argument
    assert_close(fx.grad(lambda x: fx.sum(fx.vmap(cube)(x)))(X), 6 * X**2, kind="exact", rtol=1e-15)
    check_vmap(cube, [X])
    h = fx.vmap(lambda a, b: fx.grad(lambda t: fx.sum(cube(t) * b))(a), in_axes=(0, None))
    assert_close(h(X, 2.0), 12 * X**2, kind="exact", rtol=1e-15)
    assert_close(fx.jacrev(cube)(X), np.diag(6 * X**2), kind="exact", rtol=1e-14)


@partial(fx.custom_vjp, nondiff_argnums=(0,))
def scaled_norm(scale, p):
    return scale * fx.sqrt(fx.sum(p["w"] ** 2) + p["b"] ** 2)


def _sn_fwd(scale, p):
    n = fx.sqrt(fx.sum(p["w"] ** 2) + p["b"] ** 2)
    return scale * n, (p, n)


def _sn_bwd(scale, res, g):
    p, n = res
    # the true cotangent for w, and None (zero) for b
    return ({"w": scale * g * p["w"] / n, "b": None},)


scaled_norm.defvjp(_sn_fwd, _sn_bwd)


def test_pytrees_nondiff_argnums_and_none_cotangents():
    p = {"w": X, "b": fx.asarray(2.0)}
    n = np.sqrt(np.sum(X**2) + 4.0)
    assert_close(scaled_norm(3.0, p), 3 * n, kind="exact", rtol=1e-15)
    g = fx.grad(lambda p: scaled_norm(3.0, p))(p)
    assert_close(g["w"], 3 * X / n, kind="exact", rtol=1e-14)
    assert float(g["b"]) == 0.0  # the rule said zero; the true derivative is not
    # keyword arguments bind to their positions
    assert_close(fx.grad(lambda p: scaled_norm(scale=2.0, p=p))(p)["w"], 2 * X / n, rtol=1e-14)


def test_forward_mode_is_a_type_error():
    with pytest.raises(TypeError, match="forward-mode"):
        fx.jvp(cube, (1.0,), (1.0,))
    with pytest.raises(TypeError, match="forward-mode"):
        fx.jacfwd(cube)(X)


def test_errors_name_the_problem():
    @fx.custom_vjp
    def f(x, y):
        return x * y

    with pytest.raises(AttributeError, match="No VJP defined"):
        f(1.0, 2.0)
    f.defvjp(lambda x, y: x * y, lambda r, g: (g, g))
    with pytest.raises(TypeError, match="must return a pair"):
        fx.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (g,))
    with pytest.raises(ValueError, match="returned 1 cotangents, but the function has 2"):
        fx.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (g, (g, g)))
    with pytest.raises(ValueError, match="argument 1 has structure"):
        fx.grad(f)(1.0, 2.0)
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (g, fx.ones(3)))
    with pytest.raises(ValueError, match=r"input 1 has shape \(3,\), but the input has shape \(\)"):
        fx.grad(f)(1.0, 2.0)
    g = fx.custom_vjp(lambda x: x, nondiff_argnums=(4,))
    g.defvjp(lambda x: (x, None), lambda r, g: (g,))
    with pytest.raises(ValueError, match="nondiff_argnums: argument 4"):
        fx.grad(g)(1.0)
    # the process stays usable
    assert float(fx.grad(cube)(1.0)) == 6.0


def test_custom_vjp_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)

    @jax.custom_vjp
    def jcube(x):
        return x**3

    jcube.defvjp(lambda x: (x**3, x), lambda x, g: (6.0 * x**2 * g,))
    want = jax.vmap(jax.grad(jax.grad(jcube)))(X)
    assert_close(fx.vmap(fx.grad(fx.grad(cube)))(X), np.asarray(want), kind="exact", rtol=1e-14)


# ------------------------------------------------------------- checkpoint ---


def _layer(w, x):
    return fx.tanh(w @ x)


def test_checkpoint_gives_the_same_derivatives():
    w = rng.standard_normal((5, 5)) / 3
    layer = fx.checkpoint(_layer)

    def deep(w, x, f):
        for _ in range(4):
            x = f(w, x)
        return fx.sum(x**2)

    plain = fx.grad(deep, argnums=(0, 1))(w, X, _layer)
    remat = fx.grad(deep, argnums=(0, 1))(w, X, layer)
    for a, b in zip(plain, remat, strict=True):
        assert_close(a, b, kind="exact", rtol=1e-13)
    # forward mode, second order, vmap, finite differences
    assert_close(
        fx.hessian(lambda x: deep(w, x, layer))(X),
        fx.hessian(lambda x: deep(w, x, _layer))(X),
        rtol=1e-12,
    )
    check_all(lambda w, x: layer(w, x), [w, X])
    check_vmap(lambda x: layer(w, x), [rng.standard_normal((3, 5))])


def test_checkpoint_recomputes_instead_of_storing():
    calls = []

    def f(x):
        calls.append(1)
        return fx.sin(x) * x

    g = fx.checkpoint(f)
    fx.grad(lambda x: fx.sum(g(x)))(X)
    assert len(calls) == 2  # once forward (nothing kept), once in the backward pass
    calls.clear()
    g(X)
    assert len(calls) == 1  # outside transforms: just the function


def test_checkpoint_options():
    g = fx.checkpoint(lambda x, n: x * n, static_argnums=(1,))
    assert_close(fx.grad(lambda x: fx.sum(g(x, 3)))(X), np.full(5, 3.0))

    @partial(fx.remat, prevent_cse=False)
    def h(x):
        return fx.exp(x)

    assert_close(fx.grad(lambda x: fx.sum(h(x)))(X), np.exp(X), kind="exact", rtol=1e-15)
    with pytest.raises(NotImplementedError, match="policies"):
        fx.checkpoint(h, policy=lambda *a: True)
    with pytest.raises(TypeError, match="static_argnums"):
        fx.checkpoint(h, static_argnums=("a",))


def test_checkpoint_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    w = rng.standard_normal((5, 5)) / 3
    jl = jax.checkpoint(lambda w, x: jax.numpy.tanh(w @ x))
    want = jax.grad(lambda w: jax.numpy.sum(jl(w, jl(w, X)) ** 2))(w)
    layer = fx.checkpoint(_layer)
    got = fx.grad(lambda w: fx.sum(layer(w, layer(w, X)) ** 2))(w)
    assert_close(got, np.asarray(want), kind="exact", rtol=1e-13)


# -------------------------------------------------------------- custom_jvp ---


@fx.custom_jvp
def log1pexp(x):
    return fx.log1p(fx.exp(x))


# the stable derivative, deliberately scaled by 2 so an ignored rule fails
log1pexp.defjvps(lambda g, ans, x: 2.0 * g * fx.sigmoid(x))


def test_custom_jvp_rule_in_both_modes():
    x = np.array([-3.0, 0.5, 100.0])
    want = 2.0 / (1.0 + np.exp(-x))
    assert_close(fx.vmap(fx.grad(log1pexp))(x), want, kind="exact", rtol=1e-14)
    _, t = fx.jvp(log1pexp, (x,), (np.ones(3),))
    assert_close(t, want, kind="exact", rtol=1e-14)
    assert_close(fx.jacfwd(log1pexp)(x), np.diag(want), kind="exact", rtol=1e-14)
    assert_close(fx.jacrev(log1pexp)(x), np.diag(want), kind="exact", rtol=1e-14)
    # second order differentiates the rule: d/dx 2 sigmoid(x)
    s = 1.0 / (1.0 + np.exp(-x))
    assert_close(fx.vmap(fx.grad(fx.grad(log1pexp)))(x), 2 * s * (1 - s), kind="exact", rtol=1e-12)
    assert_close(fx.hessian(lambda v: fx.sum(log1pexp(v)))(x), np.diag(2 * s * (1 - s)), rtol=1e-12)


@partial(fx.custom_jvp, nondiff_argnums=(0,))
def power_sum(n, x, y):
    return fx.sum(x**n) + fx.sum(y)


@power_sum.defjvp
def _power_sum_jvp(n, primals, tangents):
    x, y = primals
    tx, ty = tangents
    # the true rule for x; 2 sum(ty) for y, where the true one is sum(ty)
    return power_sum(n, x, y), fx.sum(n * x ** (n - 1) * tx) + 2.0 * fx.sum(ty)


def test_custom_jvp_defjvp_with_nondiff_and_vmap():
    x, y = X, rng.standard_normal(3)
    gx, gy = fx.grad(power_sum, argnums=(1, 2))(3, x, y)
    assert_close(gx, 3 * X**2, kind="exact", rtol=1e-14)
    assert_close(gy, np.full(3, 2.0), kind="exact", rtol=1e-14)
    per = fx.vmap(fx.grad(lambda x: power_sum(2, x, y)))(rng.standard_normal((4, 5)))
    assert per.shape == (4, 5)
    check_vmap(lambda x: power_sum(2, x, y), [rng.standard_normal((4, 5))])


def test_custom_jvp_errors():
    @fx.custom_jvp
    def f(x):
        return x * 2.0

    with pytest.raises(AttributeError, match="No JVP defined"):
        f(1.0)
    f.defjvp(lambda p, t: p[0] * 2.0)
    with pytest.raises(TypeError, match="pair"):
        fx.jvp(f, (1.0,), (1.0,))
    f.defjvp(lambda p, t: (p[0] * 2.0, (t[0], t[0])))
    with pytest.raises(ValueError, match="structure"):
        fx.grad(f)(1.0)
    f.defjvp(lambda p, t: (p[0] * 2.0, fx.ones(3)))
    with pytest.raises(ValueError, match=r"output 0 has shape \(3,\)"):
        fx.jvp(f, (1.0,), (1.0,))
    f.defjvps(lambda g, ans, x: g, lambda g, ans, x: g)
    with pytest.raises(TypeError, match="2 tangent functions for 1"):
        fx.grad(f)(1.0)


def test_custom_jvp_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)

    @jax.custom_jvp
    def jf(x):
        return jax.numpy.log1p(jax.numpy.exp(x))

    jf.defjvps(lambda g, ans, x: 2.0 * g * jax.nn.sigmoid(x))
    x = np.array([-3.0, 0.5, 10.0])
    want = jax.vmap(jax.grad(jax.grad(jf)))(x)
    assert_close(fx.vmap(fx.grad(fx.grad(log1pexp)))(x), np.asarray(want), kind="exact", rtol=1e-12)

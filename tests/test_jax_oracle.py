"""ferrax against JAX (float64) on small models: grad, jacrev, jacfwd, hessian and
vmap(grad) agree within 1e-9 relative. Skipped only when JAX is not installed."""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import ferrax as fx
import numpy as np
import pytest
from ferrax import tree_util as tu

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

RTOL = 1e-9
ATOL = 1e-12


FX = SimpleNamespace(
    lib="ferrax",
    tanh=fx.tanh,
    sum=fx.sum,
    mean=fx.mean,
    log=fx.log,
    sigmoid=fx.sigmoid,
    sqrt=math.sqrt,
    transpose=fx.transpose,
    softmax=fx.nn.softmax,
    log_softmax=fx.nn.log_softmax,
    cross_entropy=fx.nn.cross_entropy,
    stack=fx.stack,
    grad=fx.grad,
    jacrev=fx.jacrev,
    jacfwd=fx.jacfwd,
    hessian=fx.hessian,
    vmap=fx.vmap,
)


def _jax_cross_entropy(logits, labels):
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, labels[..., None], axis=-1))


JX = SimpleNamespace(
    lib="jax",
    tanh=jnp.tanh,
    sum=jnp.sum,
    mean=jnp.mean,
    log=jnp.log,
    sigmoid=jax.nn.sigmoid,
    sqrt=math.sqrt,
    transpose=jnp.transpose,
    softmax=jax.nn.softmax,
    log_softmax=jax.nn.log_softmax,
    cross_entropy=_jax_cross_entropy,
    stack=jnp.stack,
    grad=jax.grad,
    jacrev=jax.jacrev,
    jacfwd=jax.jacfwd,
    hessian=jax.hessian,
    vmap=jax.vmap,
)

_rng = np.random.default_rng(1234)


def _r(*shape, scale=0.5):
    return _rng.standard_normal(shape) * scale


# ------------------------------------------------------------------- models ---
# Each model: loss(m, params, *data) -> scalar, out(m, params, *data) -> array,
# with m the op namespace (ferrax or jax), and per-example data for vmap(grad).


def mlp_out(m, p, x):
    h = m.tanh(x @ p["w1"] + p["b1"])
    return m.tanh(h @ p["w2"] + p["b2"])


def mlp_loss(m, p, x, y):
    return m.mean((mlp_out(m, p, x) - y) ** 2)


def softmax_ce_out(m, p, x):
    return m.log_softmax(x @ p["w"] + p["b"], axis=-1)


def softmax_ce_loss(m, p, x, labels):
    return m.cross_entropy(x @ p["w"] + p["b"], labels)


def logreg_out(m, p, x):
    return m.sigmoid(x @ p[0] + p[1])


def logreg_loss(m, p, x, y):
    q = logreg_out(m, p, x)
    return -m.mean(y * m.log(q) + (1.0 - y) * m.log(1.0 - q))


def rosen_out(m, x):
    return 100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2


def rosen_loss(m, x):
    return m.sum(rosen_out(m, x))


def rnn_out(m, p, xs):
    h = p["h0"]
    states = []
    for t in range(4):
        h = m.tanh(p["W"] @ h + p["U"] @ xs[t] + p["b"])
        states.append(h)
    return m.stack(states)


def rnn_loss(m, p, xs):
    hs = rnn_out(m, p, xs)
    return m.sum(hs[-1] * p["v"]) + 0.1 * m.sum(hs**2)


def attn_out(m, p, x):
    q, k, v = x @ p["wq"], x @ p["wk"], x @ p["wv"]
    a = m.softmax(q @ m.transpose(k) / m.sqrt(q.shape[-1]), axis=-1)
    return a @ v


def attn_loss(m, p, x):
    return m.mean(m.tanh(attn_out(m, p, x)) ** 2)


MLP_P = {"w1": _r(3, 4), "b1": _r(4), "w2": _r(4, 2), "b2": _r(2)}
MLP_X, MLP_Y = _r(5, 3, scale=1.0), _r(5, 2)
CE_P = {"w": _r(3, 4), "b": _r(4)}
CE_X, CE_LABELS = _r(6, 3, scale=1.0), _rng.integers(0, 4, size=6)
LR_P = (_r(3), np.array(0.1))
LR_X, LR_Y = _r(8, 3, scale=1.0), (_rng.uniform(size=8) > 0.5).astype(np.float64)
ROSEN_X = np.array([-1.2, 1.0, 0.5, 0.8])
RNN_P = {"h0": _r(3), "W": _r(3, 3), "U": _r(3, 2), "b": _r(3), "v": _r(3)}
RNN_XS = _r(4, 2, scale=1.0)
ATTN_P = {"wq": _r(3, 3), "wk": _r(3, 3), "wv": _r(3, 3)}
ATTN_X = _r(4, 3, scale=1.0)

# name: (loss, out, params, data, batched data for vmap(grad), in_axes for the data)
MODELS = {
    "mlp": (mlp_loss, mlp_out, MLP_P, (MLP_X, MLP_Y), (MLP_X[:, None], MLP_Y[:, None])),
    "softmax_ce": (
        softmax_ce_loss,
        softmax_ce_out,
        CE_P,
        (CE_X, CE_LABELS),
        (CE_X[:, None], CE_LABELS[:, None]),
    ),
    "logreg": (logreg_loss, logreg_out, LR_P, (LR_X, LR_Y), (LR_X[:, None], LR_Y[:, None])),
    "rosenbrock": (
        lambda m, x: rosen_loss(m, x),
        lambda m, x: rosen_out(m, x),
        ROSEN_X,
        (),
        None,
    ),
    "rnn": (rnn_loss, rnn_out, RNN_P, (RNN_XS,), (np.stack([RNN_XS, -RNN_XS, 0.5 * RNN_XS]),)),
    "attention": (
        attn_loss,
        attn_out,
        ATTN_P,
        (ATTN_X,),
        (np.stack([ATTN_X, ATTN_X[::-1], 2.0 * ATTN_X]),),
    ),
}


def _to_jax(tree):
    leaves, td = tu.tree_flatten(tree)
    return tu.tree_unflatten(td, [jnp.asarray(x) for x in leaves])


def _compare(ours, theirs, what: str) -> None:
    o_leaves, o_td = tu.tree_flatten(ours)
    t_leaves, t_td = tu.tree_flatten(jax.tree_util.tree_map(np.asarray, theirs))
    assert o_td == t_td, f"{what}: structure {o_td!r} != {t_td!r}"
    for i, (o, t) in enumerate(zip(o_leaves, t_leaves, strict=True)):
        assert isinstance(o, fx.Tensor), f"{what}: leaf {i} is {type(o)}"
        o = np.asarray(o)
        assert o.shape == t.shape, f"{what}: leaf {i} shape {o.shape} != {t.shape}"
        assert o.dtype == np.float64, f"{what}: leaf {i} dtype {o.dtype}"
        scale = max(1.0, float(np.max(np.abs(t)))) if t.size else 1.0
        np.testing.assert_allclose(o, t, rtol=RTOL, atol=ATOL * scale, err_msg=f"{what} leaf {i}")


def _transform(m, name: str, kind: str):
    """The function computing ``kind`` for model ``name`` with the library ``m``."""
    loss, out, _, _, _ = MODELS[name]

    def f_loss(pp, *dd):
        return loss(m, pp, *dd)

    def f_out(pp, *dd):
        return out(m, pp, *dd[:1])

    return {
        "value": f_loss,
        "grad": m.grad(f_loss),
        "jacrev": m.jacrev(f_out, argnums=0),
        "jacfwd": m.jacfwd(f_out, argnums=0),
        "hessian": m.hessian(f_loss),
        "jacrev_of_grad": m.jacrev(m.grad(f_loss), argnums=0),
    }[kind]


@functools.cache
def _jax_result(name: str, kind: str):
    _, _, params, data, _ = MODELS[name]
    # jit: one XLA compilation instead of one per primitive (much faster on first use)
    f = jax.jit(_transform(JX, name, kind))
    return f(_to_jax(params), *[jnp.asarray(d) for d in data])


@pytest.mark.parametrize("kind", ["value", "grad", "jacrev", "jacfwd", "hessian", "jacrev_of_grad"])
@pytest.mark.parametrize("name", list(MODELS))
def test_model_against_jax(name: str, kind: str) -> None:
    _, _, params, data, _ = MODELS[name]
    ours = _transform(FX, name, kind)(params, *data)
    if kind == "value":
        ours = fx.asarray(ours)
    _compare(ours, _jax_result(name, kind), f"{name} {kind}")


@pytest.mark.parametrize("name", list(MODELS))
def test_per_example_gradients_against_jax(name: str) -> None:
    loss, _, params, _, batched = MODELS[name]
    if batched is None:  # a batch of points for a function of one argument
        pts = np.stack([ROSEN_X, ROSEN_X[::-1], ROSEN_X * 0.5])
        ours = fx.vmap(fx.grad(lambda x: loss(FX, x)))(pts)
        theirs = jax.jit(jax.vmap(jax.grad(lambda x: loss(JX, x))))(jnp.asarray(pts))
        _compare(ours, theirs, f"{name} vmap(grad)")
        ours = fx.vmap(fx.hessian(lambda x: loss(FX, x)))(pts)
        theirs = jax.jit(jax.vmap(jax.hessian(lambda x: loss(JX, x))))(jnp.asarray(pts))
        _compare(ours, theirs, f"{name} vmap(hessian)")
        return
    in_axes = (None,) + (0,) * len(batched)
    ours = fx.vmap(fx.grad(lambda p, *d: loss(FX, p, *d)), in_axes=in_axes)(params, *batched)
    theirs = jax.jit(jax.vmap(jax.grad(lambda p, *d: loss(JX, p, *d)), in_axes=in_axes))(
        _to_jax(params), *[jnp.asarray(b) for b in batched]
    )
    _compare(ours, theirs, f"{name} vmap(grad)")
    # gradients w.r.t. the (float) data, batched over the data
    if np.asarray(batched[0]).dtype.kind == "f":
        axes = (0, None) + (0,) * (len(batched) - 1)
        ours = fx.vmap(fx.grad(lambda d0, p, *d: loss(FX, p, d0, *d)), in_axes=axes)(
            batched[0], params, *batched[1:]
        )
        theirs = jax.jit(jax.vmap(jax.grad(lambda d0, p, *d: loss(JX, p, d0, *d)), in_axes=axes))(
            jnp.asarray(batched[0]), _to_jax(params), *[jnp.asarray(b) for b in batched[1:]]
        )
        _compare(ours, theirs, f"{name} vmap(grad wrt data)")


def test_training_steps_track_jax() -> None:
    # ten SGD steps on the MLP: the parameter trajectories stay together
    lr = 0.5
    p_fx = {k: v.copy() for k, v in MLP_P.items()}
    p_jx = _to_jax(MLP_P)
    g_fx_fn = fx.value_and_grad(lambda p: mlp_loss(FX, p, MLP_X, MLP_Y))
    g_jx_fn = jax.jit(
        jax.value_and_grad(lambda p: mlp_loss(JX, p, jnp.asarray(MLP_X), jnp.asarray(MLP_Y)))
    )
    for _ in range(10):
        v_fx, g_fx = g_fx_fn(p_fx)
        v_jx, g_jx = g_jx_fn(p_jx)
        np.testing.assert_allclose(float(v_fx), float(v_jx), rtol=RTOL)
        p_fx = {k: np.asarray(p_fx[k]) - lr * np.asarray(g_fx[k]) for k in p_fx}
        p_jx = {k: p_jx[k] - lr * g_jx[k] for k in p_jx}
    _compare(tu.tree_map(fx.asarray, p_fx), p_jx, "parameters after 10 steps")

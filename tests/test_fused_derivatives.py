"""The one-pass derivative products of unary ops.

A first-order gradient or JVP of `exp`, `log`, `tanh`, ... on concrete values
multiplies the cotangent (or tangent) by the derivative in one elementwise
pass; under `vmap` or a higher-order transform the same product is built
from separate ops. Both do the same arithmetic in the same order, so they
must agree bit for bit, special values included: these tests compare the
fused result (a plain `grad` or `jvp` per example) with the generic one (the
same transform under `vmap`, whose batched values take the generic rule).
"""

from __future__ import annotations

import ferrax as fx
import numpy as np
import pytest

FUSED = {
    "exp": fx.exp,
    "expm1": fx.expm1,
    "log": fx.log,
    "log1p": fx.log1p,
    "sqrt": fx.sqrt,
    "square": fx.square,
    "reciprocal": fx.reciprocal,
    "tanh": fx.tanh,
    "sigmoid": fx.sigmoid,
    "relu": fx.nn.relu,
    "abs": fx.abs,
}

# every sign of zero, infinities, NaN, values outside log's and sqrt's domain
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.75, 3.0, -1e-30, 1e30, np.inf, -np.inf, np.nan]


def examples(dtype: str, n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    x = np.concatenate([SPECIAL, rng.standard_normal(n - len(SPECIAL)) * 2])
    return x.astype(dtype)


def same_bits(got, want) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    # NaN payloads aside, equal values and equal signs of zero
    both_nan = np.isnan(got) & np.isnan(want)
    assert np.array_equal(np.signbit(got) | both_nan, np.signbit(want) | both_nan)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FUSED))
def test_grad_matches_the_generic_rule(name: str, dtype: str) -> None:
    op = FUSED[name]
    xs = fx.asarray(examples(dtype, 16).reshape(8, 2))
    weights = fx.asarray(np.array([1.5, -2.0], dtype))

    def f(x):
        return fx.sum(op(x) * weights)

    fused = np.stack([np.asarray(fx.grad(f)(xs[i])) for i in range(8)])
    same_bits(fused, fx.vmap(fx.grad(f))(xs))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FUSED))
def test_jvp_matches_the_generic_rule(name: str, dtype: str) -> None:
    op = FUSED[name]
    x = fx.asarray(examples(dtype, 12))
    ts = fx.asarray(np.random.default_rng(3).standard_normal((4, 12)).astype(dtype))
    fused = np.stack([np.asarray(fx.jvp(op, (x,), (ts[i],))[1]) for i in range(4)])
    generic = fx.vmap(lambda t: fx.jvp(op, (x,), (t,))[1])(ts)
    same_bits(fused, generic)


@pytest.mark.parametrize("name", sorted(FUSED))
def test_large_and_broadcast_cotangents(name: str) -> None:
    # above the size where elementwise ops are deferred and fused into tiles,
    # with the broadcast cotangent `sum` gives and a strided operand
    op = FUSED[name]
    rng = np.random.default_rng(11)
    base = rng.standard_normal((300, 512)) + 1.5
    x = fx.asarray(base)[:, ::2]  # a strided view, 300 x 256
    g = fx.grad(lambda x: fx.sum(op(x)))(x)
    _, pullback = fx.vjp(op, x)
    (generic,) = fx.vmap(pullback)(fx.ones((1, 300, 256), "float64"))
    same_bits(g, generic[0])


def test_second_order_is_unchanged() -> None:
    # the gradient of a gradient goes through traced values: the generic rule
    x = fx.asarray(np.linspace(-2.0, 2.0, 9))
    h = fx.grad(lambda x: fx.sum(fx.grad(lambda y: fx.sum(fx.tanh(y)))(x)))(x)
    t = np.tanh(np.linspace(-2.0, 2.0, 9))
    np.testing.assert_allclose(h, -2 * t * (1 - t**2), rtol=1e-14)

"""``fx.random``: JAX's explicit-key generator, bit for bit (keys, splits,
fold_in, bits, float32 uniform, randint, permutation, choice, bernoulli,
categorical), ``normal`` to float32 rounding, statistics of every
distribution, batching over keys, and the error paths."""

from __future__ import annotations

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close

rf = fx.random


@pytest.fixture
def jax32():
    """JAX in its default 32-bit mode (other tests turn x64 on globally)."""
    jax = pytest.importorskip("jax")
    before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    try:
        yield jax
    finally:
        jax.config.update("jax_enable_x64", before)


def test_threefry_bits_match_jax(jax32):
    jax = jax32
    jr = jax.random
    for seed in (0, 42, 2**31 - 1, -5):
        k, jk = rf.key(seed), jr.PRNGKey(seed)
        assert np.array_equal(np.asarray(k), np.asarray(jk))
        assert np.array_equal(np.asarray(rf.split(k, 4)), np.asarray(jr.split(jk, 4)))
        assert np.array_equal(np.asarray(rf.split(k, (2, 3))), np.asarray(jr.split(jk, (2, 3))))
        assert np.array_equal(np.asarray(rf.fold_in(k, 123)), np.asarray(jr.fold_in(jk, 123)))
        assert np.array_equal(np.asarray(rf.bits(k, (7, 3))), np.asarray(jr.bits(jk, (7, 3))))
        u = rf.uniform(k, (2000,), fx.float32, -2.0, 3.0)
        assert u.dtype == np.float32
        assert np.array_equal(
            np.asarray(u), np.asarray(jr.uniform(jk, (2000,), minval=-2.0, maxval=3.0))
        )
        assert np.array_equal(
            np.asarray(rf.randint(k, (500,), -3, 11, np.int32)),
            np.asarray(jr.randint(jk, (500,), -3, 11)),
        )
        assert np.array_equal(np.asarray(rf.permutation(k, 50)), np.asarray(jr.permutation(jk, 50)))
        assert np.array_equal(
            np.asarray(rf.bernoulli(k, np.float32(0.3), (300,))),
            np.asarray(jr.bernoulli(jk, 0.3, (300,))),
        )
        assert np.array_equal(
            np.asarray(rf.choice(k, 20, (6,), replace=False)),
            np.asarray(jr.choice(jk, 20, (6,), replace=False)),
        )
        assert np.array_equal(
            np.asarray(rf.choice(k, 20, (6,))), np.asarray(jr.choice(jk, 20, (6,)))
        )
        logits = np.log(np.array([0.1, 0.2, 0.7], np.float32))
        assert np.array_equal(
            np.asarray(rf.categorical(k, logits, shape=(40,))),
            np.asarray(jr.categorical(jk, logits, shape=(40,))),
        )
        # JAX's float32 erfinv is a polynomial approximation (off by up to
        # 3e-6 relative in the tails), ours is correctly rounded
        n = np.asarray(rf.normal(k, (2000,), fx.float32))
        np.testing.assert_allclose(n, np.asarray(jr.normal(jk, (2000,))), rtol=5e-6, atol=2e-6)
    # batching over keys, as jax.vmap does
    keys = rf.split(rf.key(3), 4)
    got = fx.vmap(lambda kk: rf.uniform(kk, (3,), fx.float32))(keys)
    want = jax.vmap(lambda kk: jr.uniform(kk, (3,)))(jr.split(jr.PRNGKey(3), 4))
    assert np.array_equal(np.asarray(got), np.asarray(want))


def test_float64_draws_match_jax_in_64_bit_mode():
    pytest.importorskip("jax")
    import subprocess
    import sys

    code = (
        "import numpy as np, jax; "
        "print(' '.join(map(repr, np.asarray(jax.random.uniform(jax.random.PRNGKey(7), (50,), "
        "dtype=np.float64)).tolist())))"
    )
    env = {**__import__("os").environ, "JAX_ENABLE_X64": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    want = np.array([float(v) for v in out.stdout.split()])
    assert np.array_equal(np.asarray(rf.uniform(rf.key(7), (50,))), want)


def test_statistics_of_the_distributions():
    k = rf.key(1)
    n = 200_000
    u = np.asarray(rf.uniform(k, (n,), minval=2.0, maxval=5.0))
    assert u.min() >= 2.0 and u.max() < 5.0 and abs(u.mean() - 3.5) < 0.01
    z = np.asarray(rf.normal(k, (n,)))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    t = np.asarray(rf.truncated_normal(k, -1.0, 2.0, (n,)))
    assert t.min() > -1.0 and t.max() < 2.0
    g = np.asarray(rf.gumbel(k, (n,)))
    assert abs(g.mean() - 0.5772) < 0.02
    r = np.asarray(rf.randint(k, (n,), 0, 7))
    assert set(np.unique(r)) == set(range(7)) and abs(r.mean() - 3) < 0.03
    c = np.asarray(rf.categorical(k, np.log([0.2, 0.8]), shape=(n,)))
    assert abs(c.mean() - 0.8) < 0.01
    p = np.asarray(rf.permutation(k, 1000))
    assert sorted(p) == list(range(1000))
    ch = np.asarray(rf.choice(k, 5, (n,), p=np.array([0.1, 0.1, 0.1, 0.1, 0.6])))
    assert abs((ch == 4).mean() - 0.6) < 0.01
    x = fx.asarray(np.arange(12.0).reshape(4, 3))
    assert sorted(np.asarray(rf.permutation(k, x))[:, 0]) == [0.0, 3.0, 6.0, 9.0]


def test_uniform_is_differentiable_in_its_bounds():
    k = rf.key(0)
    u = np.asarray(rf.uniform(k, (5,)))
    g = fx.grad(lambda lo, hi: fx.sum(rf.uniform(k, (5,), minval=lo, maxval=hi)), argnums=(0, 1))(
        1.0, 3.0
    )
    assert_close(g[0], np.sum(1 - u), rtol=1e-12)
    assert_close(g[1], np.sum(u), rtol=1e-12)


def test_random_errors():
    with pytest.raises(TypeError, match="expected a key"):
        rf.uniform(fx.ones(3), (2,))
    with pytest.raises(TypeError, match="float dtype"):
        rf.normal(rf.key(0), (2,), np.int32)
    with pytest.raises(ValueError, match="larger sample"):
        rf.choice(rf.key(0), 3, (5,), replace=False)
    with pytest.raises(ValueError, match="must end with"):
        rf.categorical(rf.key(0), np.zeros((2, 3)), shape=(4,))
    with pytest.raises(TypeError, match="integer dtype"):
        rf.randint(rf.key(0), (2,), 0, 3, np.float32)
    with pytest.raises(NotImplementedError):
        rf.permutation(rf.key(0), fx.ones((2, 2)), independent=True)

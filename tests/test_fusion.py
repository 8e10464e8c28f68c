"""Deferred elementwise chains (kernels/fusion.rs): large elementwise results are
computed when first read, a whole pending chain at a time, in cache-sized tiles.

The semantics must not change: values equal the eager ones bit for bit, views
and slices of pending results read the right elements, concurrent readers agree,
and long chains stay bounded. The whole suite also runs once with every op
deferred (FERRAX_FUSION_MIN=1), in a subprocess.
"""

import os
import subprocess
import sys
import threading

import ferrax as fx
import numpy as np
import pytest

N = 200_003  # above the default threshold, not a multiple of the tile


def _w6(x):
    return fx.sin(x) * fx.exp(-(x**2)) + fx.cos(x) ** 3 / (1 + x**2)


def _w6_np(x):
    return np.sin(x) * np.exp(-(x**2)) + np.cos(x) ** 3 / (1 + x**2)


def _eager(code: str) -> np.ndarray:
    """Run `code` (which prints an array's bytes as hex) with deferral off."""
    env = dict(os.environ, FERRAX_FUSION_MIN=str(2**62))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return np.frombuffer(bytes.fromhex(out.stdout.strip()), dtype=np.float64)


def test_chain_values_are_bit_identical_to_eager():
    x = np.linspace(-4, 4, N)
    fused = np.asarray(_w6(x))
    grad = np.asarray(fx.grad(lambda v: fx.sum(_w6(v)))(x))
    code = (
        "import numpy as np, ferrax as fx\n"
        f"x = np.linspace(-4, 4, {N})\n"
        "f = lambda x: fx.sin(x) * fx.exp(-(x**2)) + fx.cos(x) ** 3 / (1 + x**2)\n"
        "print((np.asarray(f(x)).tobytes() + "
        "np.asarray(fx.grad(lambda v: fx.sum(f(v)))(x)).tobytes()).hex())"
    )
    eager = _eager(code)
    np.testing.assert_array_equal(fused, eager[:N])
    np.testing.assert_array_equal(grad, eager[N:])
    np.testing.assert_allclose(fused, _w6_np(x), rtol=1e-13, atol=1e-15)


def test_views_of_pending_results_read_the_right_elements():
    x = np.linspace(-1, 1, N)
    y = fx.exp(x) * 2.0  # pending
    want = np.exp(x) * 2.0
    # slices, reversed, offset and reshaped views feeding further pending ops
    np.testing.assert_allclose(np.asarray(y[1:] + y[:-1]), want[1:] + want[:-1], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(y[::-1] * 3.0), want[::-1] * 3.0, rtol=1e-15)
    m = (N - 3) // 4
    z = fx.reshape(fx.sin(x[: 4 * m]), (m, 4)).T
    np.testing.assert_allclose(np.asarray(z + 1.0), np.sin(x[: 4 * m]).reshape(m, 4).T + 1.0)
    # the same pending array read twice, and through a broadcast
    s = fx.tanh(x)
    np.testing.assert_allclose(np.asarray(s * s), np.tanh(x) ** 2, rtol=1e-15)
    col = fx.reshape(fx.cos(x[:70_000]), (70_000, 1))
    np.testing.assert_allclose(
        np.asarray(col + fx.asarray(np.ones((1, 3)))), np.cos(x[:70_000])[:, None] + np.ones((1, 3))
    )


def test_mixed_dtypes_comparisons_and_reductions_of_pending_values():
    x = np.linspace(-3, 3, N).astype(np.float32)
    t = fx.asarray(x)
    mask = fx.exp(t) > 1.5  # a bool chain
    np.testing.assert_array_equal(np.asarray(mask), np.exp(x) > 1.5)
    np.testing.assert_array_equal(
        np.asarray(fx.where(mask, t, 0.0)), np.where(np.exp(x) > 1.5, x, 0)
    )
    np.testing.assert_allclose(
        float(fx.sum(fx.sin(t) ** 2)), np.sum(np.sin(x) ** 2, dtype=np.float64), rtol=1e-4
    )
    np.testing.assert_allclose(np.asarray((t * 2).astype(fx.float64)), (x * 2).astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_whole_array_reductions_of_pending_chains(dtype):
    """sum/max/min/mean over all of a pending chain fold its tiles as they are
    computed (the chain is never written out); NaN still propagates."""
    x = np.linspace(-3, 3, N).astype(dtype)
    t = fx.asarray(x)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    ref = np.sin(x.astype(np.float64)) * 2.0 + 1.0
    for name in ("sum", "max", "min", "mean"):
        got = float(getattr(fx, name)(fx.sin(t) * 2.0 + 1.0))
        np.testing.assert_allclose(got, getattr(np, name)(ref), rtol=tol, err_msg=name)
    # 2-D, reduced over both axes; and a loss read through value_and_grad
    m = fx.reshape(fx.exp(t[: 4 * (N // 4)]), (4, N // 4))
    np.testing.assert_allclose(
        float(fx.sum(m)), np.exp(x[: 4 * (N // 4)].astype(np.float64)).sum(), rtol=tol
    )
    val, g = fx.value_and_grad(lambda v: fx.sum(fx.sin(v) ** 2))(t)
    np.testing.assert_allclose(float(val), np.sum(np.sin(x.astype(np.float64)) ** 2), rtol=tol)
    np.testing.assert_allclose(
        np.asarray(g), np.sin(2 * x.astype(np.float64)), rtol=10 * tol, atol=10 * tol
    )
    bad = x.copy()
    bad[N // 2] = np.nan
    assert np.isnan(float(fx.max(fx.asarray(bad) * 2.0)))
    assert np.isnan(float(fx.sum(fx.asarray(bad) + 1.0)))


def test_long_loops_through_slices_of_pending_results_stay_flat():
    """`x = x[1:] + 1` reads a pending result through an offset view: that
    input is computed when the new op is made, so nothing nests (a deep nest
    used to overflow the stack when computed or dropped)."""
    x = fx.asarray(np.zeros(90_000))
    for _ in range(20_000):
        x = x[1:] + 1.0
    got = np.asarray(x)
    assert got.shape == (70_000,)
    np.testing.assert_array_equal(got, np.full(70_000, 20_000.0))
    y = fx.asarray(np.zeros(90_000))
    for _ in range(20_000):
        y = y[1:] + 1.0
    del y  # dropping an unread result must not recurse either


def test_long_chains_are_cut_and_stay_exact():
    x = np.linspace(0, 1, N)
    y = fx.asarray(x)
    want = x.copy()
    for _ in range(300):  # far beyond one chain's node limit
        y = y * 0.999 + 0.001
        want = want * 0.999 + 0.001
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-14)


def test_intermediates_read_in_reverse_order_are_right():
    """Reading a chain's intermediates last-first makes each read recompute the
    chain below it; from the third time an op is needed it is kept instead."""
    x = np.linspace(-1, 1, N)
    steps = [fx.asarray(x)]
    want = [x]
    for k in range(40):
        steps.append(fx.sin(steps[-1]) + 0.1 * k)
        want.append(np.sin(want[-1]) + 0.1 * k)
    for k in range(40, 0, -1):
        np.testing.assert_allclose(float(fx.sum(steps[k])), want[k].sum(), rtol=1e-12, atol=1e-8)
        np.testing.assert_allclose(
            np.asarray(steps[k] * 2.0), want[k] * 2.0, rtol=1e-12, atol=1e-13
        )


def test_concurrent_readers_of_one_pending_value_agree():
    x = np.linspace(-2, 2, N)
    y = fx.sin(x) * fx.cos(x) + fx.exp(-x)
    results = [None] * 6

    def read(i):
        results[i] = np.asarray(y + float(i)) - float(i)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    want = np.sin(x) * np.cos(x) + np.exp(-x)
    for r in results:
        np.testing.assert_allclose(r, want, rtol=1e-12, atol=1e-14)


# Modules the deferred run leaves out. No numerics: the docs build, the type
# check, the packaging. Nothing deferral changes, at about a tenth of the
# deferred run's time: matrix products and which library runs them
# (test_blas); signals, forks and memory limits in child interpreters, whose
# deferred cases test_stress sets up itself; and the examples, whose
# operations the numeric modules cover one by one (test_examples).
NOT_DEFERRED = [
    "test_docs.py",
    "test_typing.py",
    "test_packaging.py",
    "test_blas.py",
    "test_stress.py",
    "test_examples.py",
]


@pytest.mark.skipif(os.environ.get("FERRAX_FUSION_MIN") == "1", reason="already the fused run")
def test_the_whole_suite_with_every_op_deferred():
    env = dict(os.environ, FERRAX_FUSION_MIN="1")
    here = os.path.dirname(os.path.abspath(__file__))
    ignored = [arg for name in NOT_DEFERRED for arg in ("--ignore", os.path.join(here, name))]
    out = subprocess.run(
        [sys.executable, *("-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", here), *ignored],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]

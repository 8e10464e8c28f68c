"""Kernel thread settings: fx.set_num_threads and FERRAX_NUM_THREADS."""

import os
import subprocess
import sys

import ferrax as fx
import numpy as np
import pytest


def test_set_num_threads_changes_the_pool_and_not_the_results():
    before = fx.get_num_threads()
    x = np.linspace(-3, 3, 200_001)  # above the parallel grain
    try:
        fx.set_num_threads(1)
        assert fx.get_num_threads() == 1
        one = np.asarray(fx.sum(fx.exp(x)))
        fx.set_num_threads(2)
        assert fx.get_num_threads() == 2
        two = np.asarray(fx.sum(fx.exp(x)))
    finally:
        fx.set_num_threads(before)
    np.testing.assert_allclose(one, two, rtol=1e-12)
    np.testing.assert_allclose(one, np.sum(np.exp(x)), rtol=1e-12)


def test_zero_threads_is_a_value_error():
    with pytest.raises(ValueError, match="between 1 and"):
        fx.set_num_threads(0)


def test_environment_variable_sets_the_default():
    env = dict(os.environ, FERRAX_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", "import ferrax as fx; print(fx.get_num_threads())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1"


def test_simd_level_is_reported():
    assert fx.simd_level() in {"avx512", "avx2+fma", "neon", "scalar"}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_large_reductions_match_numpy_on_every_path(threads, dtype):
    """Sizes above the parallel grain, odd lengths (SIMD tails), a NaN or an inf
    at random places, and the three parallel reduction paths: one long row,
    one output per row (tall arrays, last axis) and shared outputs (axis 0)."""
    rng = np.random.default_rng(7)
    before = fx.get_num_threads()
    fx.set_num_threads(threads)
    try:
        for shape in [(200_003,), (70_001, 3), (3, 70_001), (501, 257)]:
            base = rng.standard_normal(shape).astype(dtype)
            for poison in (None, np.nan, np.inf, -np.inf):
                a = base.copy()
                if poison is not None:
                    a.flat[rng.integers(a.size)] = poison
                t = fx.asarray(a)
                for axis in (None, 0, -1):
                    for name in ("max", "min", "sum"):
                        got = np.asarray(getattr(fx, name)(t, axis=axis))
                        want = getattr(np, name)(a.astype(np.float64), axis=axis)
                        tol = 1e-4 if dtype == np.float32 else 1e-12
                        np.testing.assert_allclose(
                            got,
                            want,
                            rtol=tol,
                            atol=tol * np.sqrt(a.size),
                            err_msg=f"{name} {shape} {axis} {poison}",
                        )
                # a transposed view walks the strided paths
                np.testing.assert_array_equal(np.asarray(fx.max(t.T, axis=0)), np.max(a.T, axis=0))
    finally:
        fx.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2])
def test_parallel_matmul_paths_match_numpy(threads):
    """Products big enough to be split: row blocks (mid-sized), gemm's own
    split (large), batches; with reversed rows (negative strides) and
    transposed views, whose row blocks start at shifted offsets."""
    rng = np.random.default_rng(11)
    before = fx.get_num_threads()
    fx.set_num_threads(threads)
    try:
        for m, k, n in [(200, 130, 150), (97, 300, 120), (640, 320, 400)]:
            a = rng.standard_normal((m, k))
            b = rng.standard_normal((k, n))
            ta, tb = fx.asarray(a), fx.asarray(b)
            cases = {
                "plain": (ta, tb, a, b),
                "reversed rows": (ta[::-1], tb[::-1], a[::-1], b[::-1]),
                "transposed": (
                    fx.asarray(np.ascontiguousarray(a.T)).T,
                    fx.asarray(np.ascontiguousarray(b.T)).T,
                    a,
                    b,
                ),
            }
            for name, (tx, ty, x, y) in cases.items():
                np.testing.assert_allclose(
                    np.asarray(tx @ ty), x @ y, rtol=1e-10, atol=1e-10, err_msg=name
                )
        batch = rng.standard_normal((3, 150, 140))
        other = rng.standard_normal((140, 130))
        np.testing.assert_allclose(
            np.asarray(fx.asarray(batch) @ other), batch @ other, rtol=1e-10, atol=1e-10
        )
    finally:
        fx.set_num_threads(before)


def test_kernel_threads_go_back_to_sleep_when_the_program_is_idle():
    """Pool workers stay awake briefly after a parallel op, watching for the
    next one; once the program stops computing they must sleep, not spin.
    Over half a second of idleness after a burst of parallel products the
    process uses a small fraction of the CPU time a spinning worker would."""
    code = (
        "import os, time\n"
        "import numpy as np, ferrax as fx\n"
        "fx.set_num_threads(2)\n"
        "a = fx.asarray(np.ones((256, 256), np.float32))\n"
        "for _ in range(200):\n"
        "    (a @ a).block_until_ready()\n"
        "t = os.times()\n"
        "time.sleep(0.5)\n"
        "u = os.times()\n"
        "print((u.user - t.user) + (u.system - t.system))\n"
    )
    # one OpenBLAS thread: its own workers spin after NumPy's products, not ours
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert float(out.stdout) < 0.1, out.stdout

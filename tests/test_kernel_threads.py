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

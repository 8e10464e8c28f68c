"""Every SIMD path the machine has, tested on one machine: ``FERRAX_SIMD``
caps the instruction set the kernels dispatch to, so the kernel tests run
again, in a fresh process, under each narrower level (the widest runs in the
main suite). A value that names no level is refused at import."""

from __future__ import annotations

import os
import pathlib
import platform
import subprocess
import sys

import ferrax as fx
import pytest

HERE = pathlib.Path(__file__).resolve().parent

# the level each cap gives, by the widest level the CPU has
NARROWER = {
    "avx512": {"scalar": "scalar", "avx2": "avx2+fma"},
    "avx2+fma": {"scalar": "scalar"},
    "neon": {"scalar": "scalar"},
    "scalar": {},
}
CAPS = sorted(NARROWER[fx.simd_level()].items())

# the modules that check kernel values (against NumPy, over shapes, strides,
# broadcasting and dtypes, with Hypothesis)
KERNEL_TESTS = ["test_ops_properties.py", "test_ops.py"]


def run(code: str, cap: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, FERRAX_SIMD=cap)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(("cap", "level"), CAPS, ids=[c for c, _ in CAPS])
def test_cap_selects_the_level(cap, level):
    r = run("import ferrax as fx; print(fx.simd_level())", cap)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == level


def test_cap_above_the_cpu_keeps_the_cpu_level():
    widest = {"avx512": "avx512", "avx2+fma": "avx512", "neon": "neon", "scalar": ""}
    cap = widest[fx.simd_level()]
    if not cap:  # a scalar-only machine: nothing above it to ask for
        cap = "scalar"
    r = run("import ferrax as fx; print(fx.simd_level())", cap)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == fx.simd_level()


def test_capped_levels_compute_the_same_values():
    """The same expression under every level: equal to within rounding (the
    vector and scalar polynomials round differently in the last bits)."""
    code = (
        "import ferrax as fx, numpy as np;"
        "x = fx.asarray(np.linspace(-4, 4, 10007));"
        "y = fx.sum(fx.exp(x) * fx.sin(x) + fx.tanh(x) ** 2 - fx.log1p(x * x));"
        "print(repr(float(y)))"
    )
    base = float(run(code, "").stdout)
    for cap, _ in CAPS:
        r = run(code, cap)
        assert r.returncode == 0, r.stderr
        assert float(r.stdout) == pytest.approx(base, rel=1e-13)


# names of no level here: a typo, and the other architecture's level
OTHER_ARCH = "avx2" if platform.machine().lower() in {"arm64", "aarch64"} else "neon"


@pytest.mark.parametrize("cap", ["sse9", "avx-512", OTHER_ARCH])
def test_a_value_naming_no_level_is_refused_at_import(cap):
    r = run("import ferrax", cap)
    assert r.returncode != 0
    assert "FERRAX_SIMD" in r.stderr and "scalar" in r.stderr and "ValueError" in r.stderr


@pytest.mark.parametrize("cap", [c for c, _ in CAPS] or ["scalar"])
def test_kernel_tests_pass_under_each_narrower_level(cap):
    if not CAPS:
        # a scalar-only machine: the main suite already ran the only path
        assert fx.simd_level() == "scalar"
        return
    env = dict(os.environ, FERRAX_SIMD=cap)
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *KERNEL_TESTS],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " passed" in r.stdout

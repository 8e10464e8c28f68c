"""Products of 2**27 multiply-adds or more go to the OpenBLAS NumPy loaded.

FERRAX_BLAS is read once, at import, so each setting runs in a fresh
interpreter. Products are checked against NumPy and against ferrax's own
GEMM (the same process, switched with the private `_set_blas_enabled`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

LINUX = sys.platform.startswith("linux")


def _openblas_loaded() -> bool:
    if not LINUX:
        return False
    with open("/proc/self/maps") as maps:
        return any("openblas" in line.rsplit("/", 1)[-1].lower() for line in maps)


def run(code: str, blas: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("FERRAX_BLAS", None)
    if blas is not None:
        env["FERRAX_BLAS"] = blas
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_loaded_openblas_is_found_and_off_turns_it_off():
    out = run("import ferrax as fx; print(fx.blas_library())", None)
    assert out.returncode == 0, out.stderr
    if _openblas_loaded():
        assert out.stdout.startswith("OpenBLAS"), out.stdout
    else:
        assert out.stdout.strip() == "None"
    for value in ("auto", " AUTO "):
        again = run("import ferrax as fx; print(fx.blas_library())", value)
        assert again.stdout == out.stdout, again.stderr
    off = run("import ferrax as fx; print(fx.blas_library())", "off")
    assert off.returncode == 0 and off.stdout.strip() == "None", off.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/no/such/libopenblas.so", "cannot open shared object file"),
        ("libm.so.6", "not an OpenBLAS"),
    ],
)
def test_a_library_that_cannot_be_used_is_refused_at_import(value, message):
    if not LINUX:
        pytest.skip("loading a BLAS is Linux only")
    out = run("import ferrax", value)
    assert out.returncode != 0
    assert "ValueError" in out.stderr
    assert "FERRAX_BLAS" in out.stderr and message in out.stderr


@pytest.mark.skipif(LINUX, reason="on Linux FERRAX_BLAS loads libraries")
def test_other_platforms_refuse_a_path():
    out = run("import ferrax", "/some/libopenblas.so")
    assert out.returncode != 0 and "Linux only" in out.stderr


PRODUCTS = """
import numpy as np
import ferrax as fx
from ferrax import _ferrax as C

fx.set_num_threads(2)  # OpenBLAS's count, set before NumPy's import
lib = fx.blas_library()
assert lib is not None and lib.startswith("OpenBLAS"), lib
rng = np.random.default_rng(0)


def both(f, *args):
    C._set_blas_enabled(True)
    with_blas = np.asarray(f(*args))
    C._set_blas_enabled(False)
    without = np.asarray(f(*args))
    C._set_blas_enabled(True)
    return with_blas, without


def check(a, b, f=lambda a, b: fx.asarray(a) @ fx.asarray(b)):
    got, own = both(f, a, b)
    want = np.asarray(a, np.float64) @ np.asarray(b, np.float64)
    tol = 2e-5 if a.dtype == np.float32 else 1e-12
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    assert got.dtype == a.dtype and got.shape == want.shape
    assert np.all(np.abs(got - want) <= tol * scale), np.max(np.abs(got - want) / scale)
    assert np.all(np.abs(own - want) <= tol * scale)
    return got, own


differs = 0
for dt in (np.float32, np.float64):
    # 520 * 530 * 540 multiply-adds: above the 2**27 threshold
    a = rng.standard_normal((520, 530)).astype(dt)
    b = rng.standard_normal((530, 540)).astype(dt)
    got, own = check(a, b)
    differs += bool(np.any(got != own))  # the OpenBLAS path ran: other bits
    check(a.T.copy().T, b)  # column-major left operand
    check(np.ascontiguousarray(b.T), np.ascontiguousarray(a.T))
    ta = fx.asarray(rng.standard_normal((530, 520)).astype(dt))
    tb = fx.asarray(rng.standard_normal((540, 530)).astype(dt))
    got, _ = both(lambda: ta.T @ tb.T)  # transposed views, no copies
    want = np.asarray(ta).T @ np.asarray(tb).T
    assert np.allclose(got, want, rtol=1e-4, atol=1e-3)
    wide = fx.asarray(rng.standard_normal((520, 1100)).astype(dt))
    got, _ = both(lambda: wide[:, 10:540] @ fx.asarray(b))  # rows wider than the slice
    assert np.allclose(got, np.asarray(wide)[:, 10:540] @ b, rtol=1e-4, atol=1e-3)
    got, own = both(lambda: wide[:, ::-1][:, :530] @ fx.asarray(b))  # reversed: gemm's path
    assert np.array_equal(got, own)
    got, own = both(lambda: wide[:, ::2][:, :530] @ fx.asarray(b))  # strided: gemm's
    assert np.array_equal(got, own)
    batch = rng.standard_normal((2, 520, 530)).astype(dt)
    got, _ = both(lambda: fx.asarray(batch) @ fx.asarray(b))  # broadcast batch
    assert np.allclose(got, batch @ b, rtol=1e-4, atol=1e-3)
    # just below the threshold: gemm's path, the same bits either way
    small = rng.standard_normal((500, 500)).astype(dt)
    got, own = both(lambda: fx.asarray(small) @ fx.asarray(small))
    assert np.array_equal(got, own)
    # gradients through the products
    g = fx.grad(lambda x: fx.sum(fx.tanh(x @ fx.asarray(b)) ** 2))
    got, own = both(g, fx.asarray((a / np.sqrt(530)).astype(dt)))  # x @ b ~ 1: tanh not flat
    tol = 1e-4 if dt == np.float32 else 1e-12
    assert np.max(np.abs(got - own)) <= tol * np.max(np.abs(own))
    # a thread budget OpenBLAS does not share keeps products on gemm
    fx.set_num_threads(1)
    got, own = both(lambda: fx.asarray(a) @ fx.asarray(b))
    assert np.array_equal(got, own)
    fx.set_num_threads(2)
assert differs >= 1
print("ok", lib)
"""


@pytest.mark.skipif(not _openblas_loaded(), reason="this NumPy loaded no OpenBLAS")
def test_products_through_openblas_match_numpy_and_our_gemm():
    code = "import os\nos.environ['OPENBLAS_NUM_THREADS'] = '2'\n" + PRODUCTS
    out = run(code, "openblas")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok OpenBLAS")


@pytest.mark.skipif(not _openblas_loaded(), reason="this NumPy loaded no OpenBLAS")
def test_a_path_to_an_openblas_is_loaded():
    with open("/proc/self/maps") as maps:
        path = next(
            line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1].lower()
        )
    out = run("import ferrax as fx; print(fx.blas_library())", path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("OpenBLAS") and os.path.basename(path) in out.stdout

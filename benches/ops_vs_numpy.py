"""Forward operations of ferrax against NumPy, in one process.

    python benches/ops_vs_numpy.py            # prints a Markdown table

Inputs are float32/float64 from fixed seeds; each ferrax result is checked
against NumPy's before it is timed. Calls under 50 us are timed in batches
alternating between ferrax and NumPy (medians over 41 rounds), so that both
see the same state of a shared machine; longer ones one library after the
other, and NumPy's GEMM in a process of its own. ferrax computes elementwise
results of 64K elements or more when they are first read: those calls are
timed with `block_until_ready()`, smaller ones (computed before the call
returns) as they are, like NumPy's.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

from _harness import clean_env_or_reexec, git_rev, machine_facts, timeit

clean_env_or_reexec()

import ferrax as fx  # noqa: E402
import numpy as np  # noqa: E402

_NUMPY_GEMM_ALONE = """
import sys
import numpy as np
from _harness import timeit
n = int(sys.argv[1])
rng = np.random.default_rng(1)
a = rng.standard_normal((n, n)).astype("float32")
b = rng.standard_normal((n, n)).astype("float32")
print(timeit(lambda: a @ b))
"""


def numpy_gemm_alone(n: int) -> float:
    """Seconds per float32 `a @ b` of size n in a fresh process without ferrax:
    in this one, ferrax's pool workers share the two cores with OpenBLAS's."""
    out = subprocess.check_output(
        [sys.executable, "-c", _NUMPY_GEMM_ALONE, str(n)],
        cwd=__file__.rsplit("/", 1)[0] or ".",
        text=True,
    )
    return float(out.strip())


def one_blas_thread():
    """NumPy's BLAS on one thread for the reference products: OpenBLAS's
    threads spin for a while after a call, on the cores the next timing uses."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


# Calls faster than this are timed interleaved with NumPy's; slower ones each
# in one run of their own, hot (interleaving a millisecond-long kernel with
# NumPy's would time the thread pool's wake-up and cold caches every batch).
FAST_CALL = 50e-6


def interleaved(f, g, rounds: int = 41) -> tuple[float, float]:
    """Median seconds per call of `f` and of `g`, timed in alternating batches
    of about a millisecond: a fast call's time drifts by tens of percent over
    seconds on a shared machine, so two timings taken one after the other
    would compare two machine states rather than two libraries."""
    f(), g()
    t0 = time.perf_counter()
    f()
    calls = max(1, int(1e-3 / max(time.perf_counter() - t0, 1e-9)))
    tf: list[float] = []
    tg: list[float] = []
    for _ in range(rounds):
        for fn, out in ((f, tf), (g, tg)):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            out.append((time.perf_counter() - t0) / calls)
    return sorted(tf)[rounds // 2], sorted(tg)[rounds // 2]


# ferrax computes elementwise results of this many elements or more lazily,
# when first read; smaller ones before the call returns (its documented
# contract, "Fusion").
FUSION_MIN = int(os.environ.get("FERRAX_FUSION_MIN", 64 * 1024))


def row(name: str, fx_fn, np_fn, check=None) -> str:
    if check is not None:
        check()
    # Large elementwise results are computed lazily: time the values. A small
    # result is computed already, and block_until_ready would add a method
    # call (36 ns, 15% of a 100-element exp) that NumPy's side does not make.
    if fx_fn().size < FUSION_MIN:
        fx_call = fx_fn
    else:
        fx_call = lambda: fx_fn().block_until_ready()  # noqa: E731
    t_fx = timeit(fx_call)
    if t_fx < FAST_CALL:
        t_fx, t_np = interleaved(fx_call, np_fn)
    else:
        t_np = timeit(np_fn)
    return f"| {name} | {t_np * 1e3:.4f} | {t_fx * 1e3:.4f} | {t_np / t_fx:.2f}x |"


def main() -> None:
    rng = np.random.default_rng(0)
    lines = [
        f"ferrax forward ops vs NumPy (commit {git_rev()})",
        "",
        machine_facts(),
        "",
        "| op | NumPy ms | ferrax ms | speed-up |",
        "|---|---:|---:|---:|",
    ]
    unary = {
        "exp": (fx.exp, np.exp),
        "tanh": (fx.tanh, np.tanh),
        "sin": (fx.sin, np.sin),
        "cos": (fx.cos, np.cos),
    }
    for dtype in ("float32", "float64"):
        for n in (100, 10_000, 1_000_000):
            a = rng.uniform(-3, 3, n).astype(dtype)
            b = rng.uniform(-3, 3, n).astype(dtype)
            ta, tb = fx.asarray(a), fx.asarray(b)
            for name, (f, g) in unary.items():
                tol = 2e-6 if dtype == "float32" else 1e-13

                def check(f=f, g=g, ta=ta, a=a, tol=tol):
                    np.testing.assert_allclose(np.asarray(f(ta)), g(a), rtol=tol, atol=tol)

                lines.append(
                    row(
                        f"{name} {dtype} n={n:.0e}",
                        lambda f=f, ta=ta: f(ta),
                        lambda g=g, a=a: g(a),
                        check,
                    )
                )
            # broadcast add: (n/100, 100) + (100,)
            m = a.reshape(-1, 100)
            v = b[:100]
            tm, tv = fx.asarray(m), fx.asarray(v)
            lines.append(
                row(
                    f"broadcast add {dtype} n={n:.0e}",
                    lambda tm=tm, tv=tv: tm + tv,
                    lambda m=m, v=v: m + v,
                    lambda tm=tm, tv=tv, m=m, v=v: np.testing.assert_array_equal(
                        np.asarray(tm + tv), m + v
                    ),
                )
            )
    x = rng.standard_normal((1000, 1000)).astype("float32")
    tx = fx.asarray(x)
    for axis in (0, 1, None):
        for name, f, g in (("sum", fx.sum, np.sum), ("max", fx.max, np.max)):
            lines.append(
                row(
                    f"{name} axis={axis} 1000x1000 float32",
                    lambda f=f, axis=axis: f(tx, axis=axis),
                    lambda g=g, axis=axis: g(x, axis=axis),
                    lambda f=f, g=g, axis=axis: np.testing.assert_allclose(
                        np.asarray(f(tx, axis=axis)), g(x, axis=axis), rtol=1e-3, atol=1e-2
                    ),
                )
            )
    # (tiny results are never deferred: these time the whole call as it is).
    # Before the GEMMs: NumPy's reference products start OpenBLAS's threads,
    # which spin for a while after each call and would share the cores.
    small = fx.asarray(np.ones(4, dtype=np.float32))
    small_np = np.ones(4, dtype=np.float32)
    for name, f, g in (
        ("4-element multiply", lambda: small * small, lambda: small_np * small_np),
        ("4-element fx.exp", lambda: fx.exp(small), lambda: np.exp(small_np)),
    ):
        t, tn = interleaved(f, g)
        lines.append(
            f"| {name} (per call) | {tn * 1e6:.3f} us | {t * 1e6:.3f} us | {tn / t:.2f}x |"
        )
    for n in (64, 256, 1024):
        a = rng.standard_normal((n, n)).astype("float32")
        b = rng.standard_normal((n, n)).astype("float32")
        ta, tb = fx.asarray(a), fx.asarray(b)
        t = timeit(lambda ta=ta, tb=tb: (ta @ tb).block_until_ready())
        tn = numpy_gemm_alone(n)
        with one_blas_thread():
            want = a @ b
        np.testing.assert_allclose(np.asarray(ta @ tb), want, rtol=1e-3, atol=1e-3)
        flops = 2 * n**3
        lines.append(
            f"| matmul {n} float32 (NumPy in its own process) | "
            f"{tn * 1e3:.4f} ({flops / tn / 1e9:.0f} GFLOP/s) | "
            f"{t * 1e3:.4f} ({flops / t / 1e9:.0f} GFLOP/s) | {tn / t:.2f}x |"
        )
    print("\n".join(lines))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

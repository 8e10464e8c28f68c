"""Shared timing helpers for the benchmark scripts (no timed assertions anywhere)."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import time

_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_CAP_VARS = ("NPY_DISABLE_CPU_FEATURES", "XLA_FLAGS")
# set in the restarted interpreter, so that it does not restart again
_RESTARTED = "_FERRAX_BENCH_ENV_SET"


def clean_env_or_reexec() -> None:
    """Restart the interpreter, before NumPy is imported, with the environment
    a fair comparison needs:

    - without the OpenBLAS variables this machine sets, which halve NumPy's
      GEMM speed;
    - when `FERRAX_SIMD` caps ferrax below the CPU's widest level, with NumPy
      and XLA capped to the same level (`peer_caps`), so that both sides of a
      comparison run the same instruction set."""
    if os.environ.get(_RESTARTED):
        return
    env = {k: v for k, v in os.environ.items() if k not in _OPENBLAS_VARS}
    env.update(peer_caps(os.environ.get("FERRAX_SIMD", "")))
    if env != dict(os.environ):
        env[_RESTARTED] = "1"
        os.execvpe(sys.executable, [sys.executable, *sys.argv], env)


def peer_caps(level: str) -> dict[str, str]:
    """Environment variables that keep NumPy and JAX's XLA at ferrax's capped
    SIMD `level` (`FERRAX_SIMD`): on an AVX-512 machine, `avx2` keeps NumPy's
    ufuncs to their AVX2 (x86-64-v3) loops and XLA's generated code to AVX2;
    `scalar` keeps NumPy to its baseline (SSE4.2 in NumPy 2 wheels; it cannot go
    lower). No cap, or one at the CPU's own level, changes nothing.

    Matrix products are left at the CPU's level on every side: ferrax's `gemm`
    crate and XLA's matrix-product library detect the CPU themselves and
    ignore both caps (XLA's 1024^3 float32 product ran at 290 GFLOP/s under
    `--xla_cpu_max_isa=AVX2` on an AVX-512 machine, as fast as without it), so
    capping the OpenBLAS that NumPy and ferrax's large products share would
    slow one side only."""
    if level not in ("avx2", "scalar") or platform.machine() not in ("x86_64", "AMD64"):
        return {}
    code = (
        "try:\n from numpy._core import _multiarray_umath as m\n"
        "except ImportError:\n from numpy.core import _multiarray_umath as m\n"
        "print(' '.join(k for k in m.__cpu_dispatch__ if m.__cpu_features__.get(k)))"
    )
    # the dispatched targets this CPU runs, asked of NumPy in a process of its own
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    targets = out.stdout.split() if out.returncode == 0 else []
    if level == "avx2":
        off = [t for t in targets if t.startswith("AVX512") or t == "X86_V4"]
        if not off:
            return {}  # an AVX2 machine: nothing to cap
        caps = {"XLA_FLAGS": "--xla_cpu_max_isa=AVX2"}
    else:
        off = targets
        caps = {"XLA_FLAGS": "--xla_cpu_max_isa=SSE4_2"}
    if off:
        caps["NPY_DISABLE_CPU_FEATURES"] = " ".join(off)
    return caps


def timeit(fn, min_calls: int = 5, min_time: float = 1.0, max_calls: int = 100_000) -> float:
    """Median seconds per call: one warm-up, then at least `min_calls` and ~`min_time` s."""
    fn()
    samples: list[float] = []
    start = time.perf_counter()
    # batch very fast calls so timer resolution does not dominate
    t0 = time.perf_counter()
    fn()
    single = time.perf_counter() - t0
    reps = max(1, int(2e-4 / max(single, 1e-9)))
    while len(samples) < min_calls or (
        time.perf_counter() - start < min_time and len(samples) < max_calls
    ):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        samples.append((time.perf_counter() - t0) / reps)
    samples.sort()
    return samples[len(samples) // 2]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def file_rss_mb() -> float | None:
    """The part of the current RSS backed by files (RssFile: the pages of the
    interpreter's, the libraries' and the extensions' code and read-only data
    that were touched), or None where /proc does not say. These pages are clean
    and shared with every process that maps the same file; the rest of the RSS
    (RssAnon, RssShmem) is the process's own memory: arrays, heaps, stacks."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("RssFile:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def fmt_rss(peak_mb: float, file_mb: float | None) -> str:
    """A peak RSS for a table, with its file-backed part in brackets when known."""
    return f"{peak_mb:.0f}" + (f" ({file_mb:.0f})" if file_mb is not None else "")


def cpu_model() -> str:
    """The CPU's model name with its family and model numbers (from /proc/cpuinfo)."""
    cpu = "unknown"
    ids = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in ids:
                    ids[key] = value.strip()
        cpu = ids.get("model name", cpu)
        if "cpu family" in ids:
            # "AMD EPYC" alone does not tell Zen 4 (family 25) from Zen 5 (26),
            # which differ 2x in AVX-512 throughput
            cpu += f" (family {ids['cpu family']}, model {ids.get('model', '?')})"
    except OSError:
        pass
    return cpu


def machine_facts() -> str:
    cpu = cpu_model()
    import ferrax as fx
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        )
    except ImportError:
        blas = "threadpoolctl not installed"
    return (
        f"- CPU: {cpu}, {os.cpu_count()} logical cores; {platform.system()} {platform.release()}\n"
        f"- Python {platform.python_version()}, NumPy {np.__version__} (BLAS: {blas}), "
        f"ferrax {fx.__version__} (SIMD {fx.simd_level()}, {fx.get_num_threads()} threads)\n"
        f"- {env_line()}"
    )


def env_line() -> str:
    """What the run's environment set for the libraries, for the facts list."""
    caps = {k: os.environ[k] for k in _CAP_VARS if k in os.environ}
    unset = "OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for the run"
    if not caps:
        return unset
    return (
        f"{unset}; FERRAX_SIMD={os.environ.get('FERRAX_SIMD')}, and the peers capped to match: "
        + ", ".join(f"{k}={v}" for k, v in caps.items())
        + "; matrix products are not capped, on any side (the `gemm` crate and XLA's"
        " matrix-product library detect the CPU themselves; OpenBLAS is left alike)"
    )


def git_rev() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"

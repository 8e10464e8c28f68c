"""Shared timing helpers for the benchmark scripts (no timed assertions anywhere)."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import time

_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def clean_env_or_reexec() -> None:
    """This machine sets OpenBLAS variables that halve NumPy's GEMM speed: drop
    them and restart the interpreter before NumPy is imported."""
    if any(v in os.environ for v in _OPENBLAS_VARS):
        env = {k: v for k, v in os.environ.items() if k not in _OPENBLAS_VARS}
        os.execvpe(sys.executable, [sys.executable, *sys.argv], env)


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
        f"- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for the run"
    )


def git_rev() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"

"""Sparse Jacobians and Hessians against dense ones: passes, time and peak
memory, each method in a fresh subprocess (peak RSS is per process).

    python benches/sparse.py [n]      # prints a Markdown table; n = 10_000 by default

Two workloads, float64:

- the Jacobian of a 1-D finite-difference PDE residual, ``r(u) = (u[i-1] -
  2 u[i] + u[i+1]) / h^2 - exp(u[i])`` with zero boundary values
  (tridiagonal, n x n);
- the Hessian of an arrowhead function, ``f(x) = x[0] * sum(x^2) + sum(cos
  x)`` (a dense first row and column and the diagonal).

Methods: ferrax with ``sparsity=`` a pattern found once by
``fx.sparsity_pattern`` (the colouring made once, when the transform is
built), ferrax with ``sparsity='auto'`` (detection at every call), ferrax's
dense ``jacfwd``/``hessian``, and JAX's dense ``jacfwd``/``hessian`` under
``jax.jit`` (compile time reported apart) when JAX is installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from _harness import clean_env_or_reexec, git_rev, machine_facts

clean_env_or_reexec()

CHILD = """
import json, sys, time
sys.path.insert(0, {here!r})
from _harness import peak_rss_mb, timeit
import numpy as np

n, workload, method = {n}, {workload!r}, {method!r}
h2 = (1.0 / (n + 1)) ** 2
rng = np.random.default_rng(0)
x0 = rng.uniform(0.1, 0.9, n)

def residual(u, xp):
    padded = xp.concatenate([xp.zeros(1), u, xp.zeros(1)])
    return (padded[:-2] - 2.0 * padded[1:-1] + padded[2:]) / h2 - xp.exp(u)

def arrow(x, xp):
    return x[0] * xp.sum(x ** 2) + xp.sum(xp.cos(x))

fun = residual if workload == "pde" else arrow
result = {{}}
if method.startswith("jax"):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    f = lambda v: fun(v, jnp)
    d = jax.jit(jax.jacfwd(f) if workload == "pde" else jax.hessian(f))
    x = jnp.asarray(x0)
    base = peak_rss_mb()
    t0 = time.perf_counter()
    d(x).block_until_ready()
    result["compile_s"] = time.perf_counter() - t0
    call = lambda: d(x).block_until_ready()
    result["passes"] = n
    total = float(d(x).sum())
else:
    import ferrax as fx
    import scipy.sparse  # imported before any timing
    f = lambda v: fun(v, fx)
    x = fx.asarray(x0)
    transform = fx.jacfwd if workload == "pde" else fx.hessian
    if method == "ferrax dense":
        d = transform(f)
        result["passes"] = n
    else:
        if method == "ferrax sparse (pattern given)":
            g = f if workload == "pde" else fx.grad(f)
            t0 = time.perf_counter()
            pattern = fx.sparsity_pattern(g, x)
            result["detect_ms"] = (time.perf_counter() - t0) * 1e3
            t0 = time.perf_counter()
            d = transform(f, sparsity=pattern)  # colours the pattern
            result["plan_ms"] = (time.perf_counter() - t0) * 1e3
            result["passes"] = d.passes
        else:
            d = transform(f, sparsity="auto")
            result["passes"] = int(fx.sparsity_coloring(
                fx.sparsity_pattern(f if workload == "pde" else fx.grad(f), x),
                "jacfwd" if workload == "pde" else "hessian").max() + 1)
    base = peak_rss_mb()
    call = lambda: np.asarray(d(x).sum())
    # a CSR result is summed as it is: no dense copy
    total = float(np.asarray(d(x).sum()))
# a check of the values: the analytic derivative's sum
if workload == "pde":
    want = (-2.0 * n + 2.0 * (n - 1)) / h2 - np.exp(x0).sum()
else:
    want = (2 * x0[0] - np.cos(x0)).sum() + 4 * x0[0] + 4 * x0[1:].sum()
result["sum_error"] = abs(total - want) / abs(want)
call()
result["peak_mb"] = peak_rss_mb() - base
result["ms"] = timeit(call, min_calls=3, min_time=0.5) * 1e3
print(json.dumps(result))
"""

METHODS = {
    "pde": [
        "ferrax sparse (pattern given)",
        "ferrax sparse ('auto')",
        "ferrax dense",
        "jax jit dense",
    ],
    "arrow": [
        "ferrax sparse (pattern given)",
        "ferrax sparse ('auto')",
        "ferrax dense",
        "jax jit dense",
    ],
}


def run(n: int, workload: str, method: str) -> dict | None:
    here = os.path.dirname(os.path.abspath(__file__))
    code = CHILD.format(here=here, n=n, workload=workload, method=method)
    try:
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=900
        )
    except subprocess.CalledProcessError as e:
        if method.startswith("jax") and "No module named 'jax'" in e.stderr:
            return None
        raise
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(machine_facts())
    print(f"- ferrax at {git_rev()}; n = {n}, float64\n")
    names = {"pde": "PDE residual Jacobian (tridiagonal)", "arrow": "arrowhead Hessian"}
    print("| workload | method | passes | ms per call | peak RSS above inputs MB | notes |")
    print("|---|---|---:|---:|---:|---|")
    for workload, methods in METHODS.items():
        for method in methods:
            r = run(n, workload, method)
            if r is None:
                print(f"| {names[workload]} | {method} | | | | JAX not installed |")
                continue
            notes = []
            if "compile_s" in r:
                notes.append(f"compile {r['compile_s']:.2f} s")
            if "detect_ms" in r:
                notes.append(
                    f"pattern detected once in {r['detect_ms']:.1f} ms, "
                    f"coloured once in {r['plan_ms']:.1f} ms"
                )
            if "sum_error" in r:
                notes.append(f"relative error of the sum {r['sum_error']:.1e}")
            print(
                f"| {names[workload]} | {method} | {r['passes']} | {r['ms']:.2f} | "
                f"{r['peak_mb']:.0f} | {'; '.join(notes)} |"
            )


if __name__ == "__main__":
    main()

"""The benchmark workloads W1-W9, each in its own subprocess.

    python benches/workloads.py                 # all workloads, ferrax
    python benches/workloads.py --only W1,W2
    python benches/workloads.py --backends ferrax,jax-eager,jax-jit --json out.json

For every (workload, backend): one first call (timed), one warm-up, then at
least 5 timed calls and ~2 s; the median is reported with the subprocess's
peak RSS. Inputs are float32 from fixed seeds. Peers plug in as further
entries of BACKENDS: JAX eager and jit (whose first call is its compile) are
there; torch.func and autograd are not yet. Every backend's result is
checked against ferrax's (the float64 sum of its leaves, to float32
rounding) and a disagreement is marked in the table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _harness import clean_env_or_reexec, git_rev, peak_rss_mb, timeit  # noqa: E402

DESCRIPTIONS = {
    "W1": "grad wrt x of sum(tanh(x*w+b)**2), 16 elements",
    "W2": "value_and_grad, MLP 784-256-256-10 tanh, softmax CE, batch 128",
    "W3": "jacrev of tanh(W@x+b)*sin(x), x in R^256",
    "W4": "jacfwd of the same",
    "W5": "hessian of sum(log1p(exp(A@x)))+0.5*sum(x**2), x in R^128, A 512x128",
    "W6": "grad of sum(sin(x)*exp(-x**2)+cos(x)**3/(1+x**2)), 1e6 elements",
    "W7": "vmap(grad(loss), (None,0,0)), W 100x10, batch 64",
    "W8": "jvp of the W2 MLP logits wrt params, batch 128",
    "W9": "grad wrt A of sum((A@B@C)**2), 1024x1024",
}
TARGETS_MS = {
    "W1": 0.010,
    "W2": 0.80,
    "W3": 0.30,
    "W4": 0.20,
    "W5": 0.50,
    "W6": 2.5,
    "W7": 0.10,
    "W8": 0.45,
    "W9": 19.8,
}


def inputs(name: str):
    import numpy as np

    rng = np.random.default_rng(42)
    f32 = np.float32
    if name == "W1":
        return {k: rng.standard_normal(16).astype(f32) for k in ("x", "w", "b")}
    if name in ("W2", "W8"):
        p = {
            "W1": (rng.standard_normal((784, 256)) * 0.05).astype(f32),
            "b1": np.zeros(256, f32),
            "W2": (rng.standard_normal((256, 256)) * 0.05).astype(f32),
            "b2": np.zeros(256, f32),
            "W3": (rng.standard_normal((256, 10)) * 0.05).astype(f32),
            "b3": np.zeros(10, f32),
        }
        x = rng.standard_normal((128, 784)).astype(f32)
        y = np.eye(10, dtype=f32)[rng.integers(0, 10, 128)]
        d = {k: rng.standard_normal(v.shape).astype(f32) for k, v in p.items()}
        return {"params": p, "x": x, "y": y, "dir": d}
    if name in ("W3", "W4"):
        return {
            "W": (rng.standard_normal((256, 256)) / 16).astype(f32),
            "b": rng.standard_normal(256).astype(f32),
            "x": rng.standard_normal(256).astype(f32),
        }
    if name == "W5":
        return {
            "A": (rng.standard_normal((512, 128)) / 11).astype(f32),
            "x": rng.standard_normal(128).astype(f32),
        }
    if name == "W6":
        return {"x": rng.standard_normal(1_000_000).astype(f32)}
    if name == "W7":
        return {
            "W": (rng.standard_normal((100, 10)) * 0.1).astype(f32),
            "x": rng.standard_normal((64, 100)).astype(f32),
            "y": rng.standard_normal((64, 10)).astype(f32),
        }
    if name == "W9":
        return {k: (rng.standard_normal((1024, 1024)) / 32).astype(f32) for k in ("A", "B", "C")}
    raise KeyError(name)


def ferrax_workload(name: str, d: dict):
    fn = _ferrax_workload(name, d)
    import ferrax as fx

    def blocking():
        # ferrax computes large elementwise results lazily: time the values,
        # not the promise of them (as JAX's block_until_ready)
        out = fn()
        for leaf in fx.tree_util.tree_leaves(out):
            if isinstance(leaf, fx.Tensor):
                leaf.block_until_ready()
        return out

    return blocking


def _ferrax_workload(name: str, d: dict):
    import ferrax as fx

    def mlp_logits(p, x):
        h = fx.tanh(x @ p["W1"] + p["b1"])
        h = fx.tanh(h @ p["W2"] + p["b2"])
        return h @ p["W3"] + p["b3"]

    if name == "W1":
        f = fx.grad(lambda x, w, b: fx.sum(fx.tanh(x * w + b) ** 2))
        return lambda: f(d["x"], d["w"], d["b"])
    if name == "W2":

        def loss(p, x, y):
            return -fx.mean(fx.sum(y * fx.nn.log_softmax(mlp_logits(p, x)), axis=-1))

        f = fx.value_and_grad(loss)
        return lambda: f(d["params"], d["x"], d["y"])
    if name in ("W3", "W4"):
        W, b = d["W"], d["b"]
        jac = fx.jacrev if name == "W3" else fx.jacfwd
        f = jac(lambda x: fx.tanh(W @ x + b) * fx.sin(x))
        return lambda: f(d["x"])
    if name == "W5":
        A = d["A"]
        f = fx.hessian(lambda x: fx.sum(fx.log1p(fx.exp(A @ x))) + 0.5 * fx.sum(x**2))
        return lambda: f(d["x"])
    if name == "W6":
        f = fx.grad(lambda x: fx.sum(fx.sin(x) * fx.exp(-(x**2)) + fx.cos(x) ** 3 / (1 + x**2)))
        return lambda: f(d["x"])
    if name == "W7":
        f = fx.vmap(
            fx.grad(lambda W, x, y: fx.sum((fx.tanh(x @ W) - y) ** 2)), in_axes=(None, 0, 0)
        )
        return lambda: f(d["W"], d["x"], d["y"])
    if name == "W8":
        p, x, t = d["params"], d["x"], d["dir"]
        return lambda: fx.jvp(lambda q: mlp_logits(q, x), (p,), (t,))
    if name == "W9":
        B, C = d["B"], d["C"]
        f = fx.grad(lambda A: fx.sum((A @ B @ C) ** 2))
        return lambda: f(d["A"])
    raise KeyError(name)


def _jax_workload(name: str, d: dict, jit: bool):
    import jax
    import jax.numpy as jnp

    def mlp_logits(p, x):
        h = jnp.tanh(x @ p["W1"] + p["b1"])
        h = jnp.tanh(h @ p["W2"] + p["b2"])
        return h @ p["W3"] + p["b3"]

    d = jax.tree_util.tree_map(jnp.asarray, d)
    wrap = jax.jit if jit else (lambda f: f)
    if name == "W1":
        f = wrap(jax.grad(lambda x, w, b: jnp.sum(jnp.tanh(x * w + b) ** 2)))
        call = lambda: f(d["x"], d["w"], d["b"])  # noqa: E731
    elif name == "W2":

        def loss(p, x, y):
            return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(mlp_logits(p, x)), axis=-1))

        f = wrap(jax.value_and_grad(loss))
        call = lambda: f(d["params"], d["x"], d["y"])  # noqa: E731
    elif name in ("W3", "W4"):
        W, b = d["W"], d["b"]
        jac = jax.jacrev if name == "W3" else jax.jacfwd
        f = wrap(jac(lambda x: jnp.tanh(W @ x + b) * jnp.sin(x)))
        call = lambda: f(d["x"])  # noqa: E731
    elif name == "W5":
        A = d["A"]
        f = wrap(jax.hessian(lambda x: jnp.sum(jnp.log1p(jnp.exp(A @ x))) + 0.5 * jnp.sum(x**2)))
        call = lambda: f(d["x"])  # noqa: E731
    elif name == "W6":
        f = wrap(
            jax.grad(
                lambda x: jnp.sum(jnp.sin(x) * jnp.exp(-(x**2)) + jnp.cos(x) ** 3 / (1 + x**2))
            )
        )
        call = lambda: f(d["x"])  # noqa: E731
    elif name == "W7":
        f = wrap(
            jax.vmap(
                jax.grad(lambda W, x, y: jnp.sum((jnp.tanh(x @ W) - y) ** 2)), in_axes=(None, 0, 0)
            )
        )
        call = lambda: f(d["W"], d["x"], d["y"])  # noqa: E731
    elif name == "W8":
        p, x, t = d["params"], d["x"], d["dir"]
        f = wrap(lambda p, t: jax.jvp(lambda q: mlp_logits(q, x), (p,), (t,)))
        call = lambda: f(p, t)  # noqa: E731
    elif name == "W9":
        B, C = d["B"], d["C"]
        f = wrap(jax.grad(lambda A: jnp.sum((A @ B @ C) ** 2)))
        call = lambda: f(d["A"])  # noqa: E731
    else:
        raise KeyError(name)
    return lambda: jax.block_until_ready(call())


def checksum(out) -> float:
    """The float64 sum of every leaf of a result (the same for every backend,
    to float32 rounding), to check backends compute the same thing."""
    import numpy as np

    def leaves(x):
        if isinstance(x, dict):
            for k in sorted(x):
                yield from leaves(x[k])
        elif isinstance(x, (tuple, list)):
            for v in x:
                yield from leaves(v)
        else:
            yield x

    return float(sum(np.asarray(v, np.float64).sum() for v in leaves(out)))


BACKENDS = {
    "ferrax": ferrax_workload,
    "jax-eager": lambda name, d: _jax_workload(name, d, jit=False),
    "jax-jit": lambda name, d: _jax_workload(name, d, jit=True),
}


def child(name: str, backend: str) -> None:
    d = inputs(name)
    fn = BACKENDS[backend](name, d)
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    median = timeit(fn, min_calls=5, min_time=2.0)
    print(
        json.dumps(
            {
                "first_ms": first * 1e3,
                "median_ms": median * 1e3,
                "rss_mb": peak_rss_mb(),
                "checksum": checksum(out),
            }
        )
    )


def import_time_ms(module: str) -> float:
    def run(code: str) -> float:
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            best = min(best, time.perf_counter() - t0)
        return best

    return (run(f"import {module}") - run("pass")) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=",".join(DESCRIPTIONS))
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--child", nargs=2, metavar=("WORKLOAD", "BACKEND"))
    ap.add_argument("--json", help="also write the results to this file")
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    rows = [
        f"Workloads W1-W9 (commit {git_rev()}), median of >=5 calls and ~2 s, ms",
        "",
        "| id | workload | backend | first call | median | peak RSS MB | target |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    results = []
    for name in a.only.split(","):
        reference = None
        for backend in a.backends.split(","):
            out = subprocess.run(
                [sys.executable, __file__, "--child", name, backend], capture_output=True, text=True
            )
            if out.returncode != 0:
                rows.append(
                    f"| {name} | {DESCRIPTIONS[name]} | {backend} | failed: {out.stderr.strip().splitlines()[-1]} | | | |"
                )
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if reference is None:
                reference = r["checksum"]
            agree = abs(r["checksum"] - reference) <= 1e-3 * max(1.0, abs(reference))
            results.append({"workload": name, "backend": backend, "agrees": agree, **r})
            rows.append(
                f"| {name} | {DESCRIPTIONS[name]} | {backend} | {r['first_ms']:.3f} | "
                f"{r['median_ms']:.4f}{'' if agree else ' (RESULT DIFFERS)'} | "
                f"{r['rss_mb']:.0f} | {TARGETS_MS[name]} |"
            )
            print(rows[-1], file=sys.stderr)
    rows += ["", f"`import ferrax`: {import_time_ms('ferrax'):.0f} ms"]
    print("\n".join(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"commit": git_rev(), "results": results}, f, indent=1)


if __name__ == "__main__":
    clean_env_or_reexec()
    main()

"""ferrax against its peers on the benchmark workloads W1-W9.

    python benches/compare.py                      # every workload, every backend
    python benches/compare.py --only W1,W2 --backends ferrax,jax-jit
    python benches/compare.py --rounds 5 --json results.json

Backends: ferrax, ferrax-numpy, jax-eager, jax-jit, torch-func (torch.func)
and autograd (HIPS autograd). Each backend gets the inputs as its own array
type, converted once before timing (ferrax tensors, JAX arrays, torch tensors,
NumPy arrays for autograd); ferrax-numpy is ferrax handed the NumPy arrays
themselves, which it copies in every call, as plain NumPy code would. A
backend whose package is not installed is skipped with a note; a workload a
backend cannot express (autograd has no vmap and no forward-mode Jacobian) is
marked n/a.

Every run is one (workload, backend) in its own subprocess: build the
function, one first call (timed: for jax-jit that is the compile), then the
result's checksum (the float64 sum of every output leaf) is compared with
ferrax's *before* anything is timed. A run whose result differs is reported
as such and not timed. Otherwise: one warm-up, then at least 5 timed calls
and ~--min-time seconds, and the median call is the run's time, with the
subprocess's peak RSS.

Runs are interleaved: for each workload, --rounds rounds (3 by default) of
every backend, the order rotated by one backend each round (round 1 starts
with ferrax, whose result is the reference for the cross-checks). The table
reports, per (workload, backend), the MEDIAN of the runs' medians (and of
their first calls), the range of the runs' medians, and the largest peak RSS.
Inputs are float32 from fixed seeds (`inputs()`), the same for every backend.
The machine's facts (CPU, cores, ferrax's SIMD level, load average at the
start and end, the peers' versions, the commit) are printed with the table.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _harness import (  # noqa: E402
    clean_env_or_reexec,
    cpu_model,
    env_line,
    file_rss_mb,
    fmt_rss,
    git_rev,
    peak_rss_mb,
    timeit,
)

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


def ferrax_workload(name: str, d: dict, numpy_inputs: bool = False):
    """ferrax's call of workload `name`. Its inputs are made ferrax tensors once,
    outside the timed call, as every peer's are (JAX's `jnp.asarray`, torch's
    `from_numpy`); with `numpy_inputs` they stay NumPy arrays, converted in
    every call, as in plain NumPy code handed to ferrax."""
    import ferrax as fx

    if not numpy_inputs:
        d = fx.tree_util.tree_map(fx.asarray, d)
    fn = _ferrax_workload(name, d)

    def blocking():
        # ferrax computes large elementwise results lazily: time the values,
        # not the promise of them (as JAX's block_until_ready). A lone tensor
        # (W1, W6, W9) is blocked on directly: flattening it as a tree took
        # 0.5 us, 9% of W1.
        out = fn()
        if isinstance(out, fx.Tensor):
            out.block_until_ready()
            return out
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


def _torch_workload(name: str, d: dict):
    import torch
    from torch.func import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vmap

    def to_torch(x):
        if isinstance(x, dict):
            return {k: to_torch(v) for k, v in x.items()}
        return torch.from_numpy(x)

    def mlp_logits(p, x):
        h = torch.tanh(x @ p["W1"] + p["b1"])
        h = torch.tanh(h @ p["W2"] + p["b2"])
        return h @ p["W3"] + p["b3"]

    d = to_torch(d)
    if name == "W1":
        f = grad(lambda x, w, b: torch.sum(torch.tanh(x * w + b) ** 2))
        return lambda: f(d["x"], d["w"], d["b"])
    if name == "W2":

        def loss(p, x, y):
            return -torch.mean(torch.sum(y * torch.log_softmax(mlp_logits(p, x), dim=-1), dim=-1))

        f = grad_and_value(loss)

        def call():
            g, v = f(d["params"], d["x"], d["y"])
            return v, g  # ferrax's order (value, grad); the checksum does not mind

        return call
    if name in ("W3", "W4"):
        W, b = d["W"], d["b"]
        jac = jacrev if name == "W3" else jacfwd
        f = jac(lambda x: torch.tanh(W @ x + b) * torch.sin(x))
        return lambda: f(d["x"])
    if name == "W5":
        A = d["A"]
        f = hessian(lambda x: torch.sum(torch.log1p(torch.exp(A @ x))) + 0.5 * torch.sum(x**2))
        return lambda: f(d["x"])
    if name == "W6":
        f = grad(
            lambda x: torch.sum(torch.sin(x) * torch.exp(-(x**2)) + torch.cos(x) ** 3 / (1 + x**2))
        )
        return lambda: f(d["x"])
    if name == "W7":
        f = vmap(
            grad(lambda W, x, y: torch.sum((torch.tanh(x @ W) - y) ** 2)), in_dims=(None, 0, 0)
        )
        return lambda: f(d["W"], d["x"], d["y"])
    if name == "W8":
        p, x, t = d["params"], d["x"], d["dir"]
        return lambda: jvp(lambda q: mlp_logits(q, x), (p,), (t,))
    if name == "W9":
        B, C = d["B"], d["C"]
        f = grad(lambda A: torch.sum((A @ B @ C) ** 2))
        return lambda: f(d["A"])
    raise KeyError(name)


def _autograd_workload(name: str, d: dict):
    import autograd
    import autograd.numpy as anp

    def mlp_logits(p, x):
        h = anp.tanh(x @ p["W1"] + p["b1"])
        h = anp.tanh(h @ p["W2"] + p["b2"])
        return h @ p["W3"] + p["b3"]

    def log_softmax(z):
        # autograd.scipy's logsumexp would need SciPy: the same, written out
        z = z - anp.max(z, axis=-1, keepdims=True)
        return z - anp.log(anp.sum(anp.exp(z), axis=-1, keepdims=True))

    if name == "W1":
        f = autograd.grad(lambda x, w, b: anp.sum(anp.tanh(x * w + b) ** 2))
        return lambda: f(d["x"], d["w"], d["b"])
    if name == "W2":

        def loss(p, x, y):
            return -anp.mean(anp.sum(y * log_softmax(mlp_logits(p, x)), axis=-1))

        f = autograd.value_and_grad(loss)
        return lambda: f(d["params"], d["x"], d["y"])
    if name == "W3":
        # autograd's jacobian: one reverse pass per output element
        W, b = d["W"], d["b"]
        f = autograd.jacobian(lambda x: anp.tanh(W @ x + b) * anp.sin(x))
        return lambda: f(d["x"])
    if name == "W5":
        # autograd's hessian: jacobian(jacobian(f)), reverse over reverse
        A = d["A"]
        f = autograd.hessian(lambda x: anp.sum(anp.log1p(anp.exp(A @ x))) + 0.5 * anp.sum(x**2))
        return lambda: f(d["x"])
    if name == "W6":
        f = autograd.grad(
            lambda x: anp.sum(anp.sin(x) * anp.exp(-(x**2)) + anp.cos(x) ** 3 / (1 + x**2))
        )
        return lambda: f(d["x"])
    if name == "W8":
        # make_jvp: autograd's forward mode
        p, x, t = d["params"], d["x"], d["dir"]
        f = autograd.make_jvp(lambda q: mlp_logits(q, x))
        return lambda: f(p)(t)
    if name == "W9":
        B, C = d["B"], d["C"]
        f = autograd.grad(lambda A: anp.sum((A @ B @ C) ** 2))
        return lambda: f(d["A"])
    raise KeyError(name)


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
        elif hasattr(x, "detach"):  # a torch tensor
            yield x.detach().numpy()
        else:
            yield x

    return float(sum(np.asarray(v, np.float64).sum() for v in leaves(out)))


def agrees(value: float, reference: float) -> bool:
    return abs(value - reference) <= 1e-3 * max(1.0, abs(reference))


def _numpy_gemm_floor(name: str, d: dict):
    """W9's four matrix products alone, in NumPy (its OpenBLAS): the floor
    W9's target is set against. The shapes and layouts are the workload's:
    two plain products forward, then the cotangent times C transposed and
    that times B transposed (views, as the backward pass passes them)."""
    if name != "W9":
        raise KeyError(name)
    a, b, c = d["A"], d["B"], d["C"]

    def products():
        y = (a @ b) @ c
        return (y @ c.T) @ b.T

    return products


BACKENDS = {
    "ferrax": ferrax_workload,
    "ferrax-numpy": lambda name, d: ferrax_workload(name, d, numpy_inputs=True),
    "jax-eager": lambda name, d: _jax_workload(name, d, jit=False),
    "jax-jit": lambda name, d: _jax_workload(name, d, jit=True),
    "torch-func": _torch_workload,
    "autograd": _autograd_workload,
    "numpy-gemm-floor": _numpy_gemm_floor,
}
# rows that time a bound rather than the workload: not cross-checked
FLOORS = {"numpy-gemm-floor"}
# the package each backend needs: without it the backend is skipped with a note
PACKAGES = {
    "ferrax": "ferrax",
    "ferrax-numpy": "ferrax",
    "jax-eager": "jax",
    "jax-jit": "jax",
    "torch-func": "torch",
    "autograd": "autograd",
    "numpy-gemm-floor": "numpy",
}
# workloads a backend's API cannot express: n/a, not a failure (emulating
# them with a Python loop would time another workload)
NOT_APPLICABLE = {
    ("autograd", "W4"): "autograd has no forward-mode Jacobian (only make_jvp, one tangent)",
    ("autograd", "W7"): "autograd has no vmap",
    **{
        ("numpy-gemm-floor", w): "a floor is set for W9 only"
        for w in ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8")
    },
}


def child(name: str, backend: str, reference: float | None, min_time: float) -> None:
    d = inputs(name)
    fn = BACKENDS[backend](name, d)
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    r = {"first_ms": first * 1e3, "checksum": checksum(out)}
    # the cross-check comes before any timing: a wrong result is not timed
    r["agrees"] = reference is None or agrees(r["checksum"], reference)
    if r["agrees"]:
        r["median_ms"] = timeit(fn, min_calls=5, min_time=min_time) * 1e3
    r["rss_mb"] = peak_rss_mb()
    r["file_rss_mb"] = file_rss_mb()
    print(json.dumps(r))


def facts() -> dict:
    """Machine and package facts, gathered in a subprocess (the parent
    imports neither NumPy nor any backend, so no idle thread pools of
    theirs share the cores with the timed runs)."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = cpu_model()
    import platform

    import ferrax as fx
    import numpy as np

    out = {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "ferrax": fx.__version__,
        "ferrax_simd": fx.simd_level(),
        "ferrax_threads": fx.get_num_threads(),
        "env": env_line(),
    }
    for pkg in ("jax", "jaxlib", "torch", "autograd"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    if out["torch"] is not None:
        import torch

        out["torch_threads"] = torch.get_num_threads()
    return out


def import_time_ms(module: str) -> float:
    def run(code: str) -> float:
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            best = min(best, time.perf_counter() - t0)
        return best

    return (run(f"import {module}") - run("pass")) * 1e3


THREAD_VARS = ("FERRAX_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_child(
    name: str, backend: str, reference: float | None, min_time: float, threads: int | None
) -> dict:
    cmd = [sys.executable, __file__, "--child", name, backend, "--min-time", str(min_time)]
    if reference is not None:
        cmd += ["--reference", repr(reference)]
    env = None
    if threads is not None:
        env = {**os.environ, **dict.fromkeys(THREAD_VARS, str(threads))}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines() or [f"exit status {out.returncode}"]
        return {"failed": lines[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def summarize(runs: list[dict]) -> dict:
    """One (workload, backend)'s runs: the median of the runs' medians and
    first calls, the range of the medians, the largest peak RSS."""
    failed = [r["failed"] for r in runs if "failed" in r]
    if failed:
        return {"failed": failed[0], "runs": runs}
    if not all(r["agrees"] for r in runs):
        return {"differs": True, "checksum": runs[0]["checksum"], "runs": runs}
    medians = [r["median_ms"] for r in runs]
    return {
        "first_ms": statistics.median(r["first_ms"] for r in runs),
        "median_ms": statistics.median(medians),
        "min_median_ms": min(medians),
        "max_median_ms": max(medians),
        "rss_mb": max(r["rss_mb"] for r in runs),
        # at the end of the run with the largest peak
        "file_rss_mb": max(runs, key=lambda r: r["rss_mb"]).get("file_rss_mb"),
        "checksum": runs[0]["checksum"],
        "runs": runs,
    }


def _loadavg() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def facts_lines(m: dict, load_start: str, load_end: str, commit: str) -> list[str]:
    peers = []
    if m.get("jax"):
        peers.append(f"JAX {m['jax']} (jaxlib {m.get('jaxlib')})")
    if m.get("torch"):
        peers.append(f"torch {m['torch']} ({m.get('torch_threads')} threads, its default)")
    if m.get("autograd"):
        peers.append(f"autograd {m['autograd']}")
    return [
        f"- CPU: {m['cpu']}, {m['logical_cores']} logical cores; {m['system']}",
        f"- Python {m['python']}, NumPy {m['numpy']}, ferrax {m['ferrax']} at commit {commit} "
        f"(SIMD {m['ferrax_simd']}, {m['ferrax_threads']} threads)",
        f"- peers: {', '.join(peers) or 'none installed'}",
        f"- {m['env']}",
        f"- load average (1 / 5 / 15 min): {load_start} at the start, {load_end} at the end",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=",".join(DESCRIPTIONS), help="workloads, e.g. W1,W2")
    ap.add_argument("--backends", default=",".join(BACKENDS), help="backends, ferrax first")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each (workload, backend)")
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds of timed calls per run")
    ap.add_argument(
        "--threads",
        type=int,
        help="set FERRAX_NUM_THREADS, OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and "
        "MKL_NUM_THREADS in every run (default: each library's own default)",
    )
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--child", nargs=2, metavar=("WORKLOAD", "BACKEND"), help=argparse.SUPPRESS)
    ap.add_argument("--reference", type=float, help=argparse.SUPPRESS)
    ap.add_argument("--facts", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child, a.reference, a.min_time)
        return
    if a.facts:
        print(json.dumps(facts()))
        return

    workloads = a.only.split(",")
    for name in workloads:
        if name not in DESCRIPTIONS:
            ap.error(f"unknown workload {name!r} (known: {', '.join(DESCRIPTIONS)})")
    backends, notes = [], []
    for b in a.backends.split(","):
        if b not in BACKENDS:
            ap.error(f"unknown backend {b!r} (known: {', '.join(BACKENDS)})")
        if importlib.util.find_spec(PACKAGES[b]) is None:
            notes.append(f"{b} skipped: the `{PACKAGES[b]}` package is not installed")
        else:
            backends.append(b)
    if not backends:
        sys.exit("no backend installed")
    commit = git_rev()
    load_start = _loadavg()
    m = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--facts"], capture_output=True, text=True, check=True
        ).stdout
    )

    summary: dict[tuple[str, str], dict] = {}
    for name in workloads:
        runs: dict[str, list[dict]] = {b: [] for b in backends}
        reference = None
        for rnd in range(a.rounds):
            k = rnd % len(backends)
            for b in backends[k:] + backends[:k]:
                if (b, name) in NOT_APPLICABLE:
                    continue
                check = None if b in FLOORS else reference
                r = run_child(name, b, check, a.min_time, a.threads)
                if reference is None and "checksum" in r and b not in FLOORS:
                    # the first backend of round 1 (ferrax by default) is the reference
                    reference = r["checksum"]
                    r["reference"] = True
                runs[b].append(r)
                shown = r.get("failed") or (
                    f"{r.get('median_ms', float('nan')):.4f} ms" if r["agrees"] else "DIFFERS"
                )
                print(f"{name} round {rnd + 1} {b}: {shown}", file=sys.stderr)
        for b in backends:
            if (b, name) not in NOT_APPLICABLE:
                summary[name, b] = summarize(runs[b])
    load_end = _loadavg()

    rows = [
        f"Workloads W1-W9, each (workload, backend) run {a.rounds} times in its own process, "
        f"backends interleaved; median of the runs' medians (each >=5 calls and ~{a.min_time:g} s), ms",
        "",
        *facts_lines(m, load_start, load_end, commit),
        *(f"- {n}" for n in notes),
        *(
            [f"- threads: {', '.join(THREAD_VARS)}={a.threads} in every run"]
            if a.threads is not None
            else ["- threads: each library's default"]
        ),
        "",
        "| id | workload | backend | first call | median | runs' range | peak RSS MB "
        "(files) | time / ferrax's | target |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    results = []
    for name in workloads:
        ours = summary.get((name, backends[0]), {}).get("median_ms")
        for i, b in enumerate(backends):
            desc = DESCRIPTIONS[name] if i == 0 else ""
            target = TARGETS_MS[name] if b == "ferrax" else ""
            if (b, name) in NOT_APPLICABLE:
                if b in FLOORS:
                    continue  # a floor row only where a floor is defined
                why = NOT_APPLICABLE[b, name]
                rows.append(f"| {name} | {desc} | {b} | n/a: {why} | | | | | |")
                results.append({"workload": name, "backend": b, "not_applicable": why})
                continue
            s = summary[name, b]
            results.append({"workload": name, "backend": b, **s})
            if "failed" in s:
                rows.append(f"| {name} | {desc} | {b} | failed: {s['failed']} | | | | | |")
            elif s.get("differs"):
                rows.append(
                    f"| {name} | {desc} | {b} | RESULT DIFFERS (checksum {s['checksum']:.6g}), "
                    f"not timed | | | | | |"
                )
            else:
                ratio = f"{s['median_ms'] / ours:.2f}" if ours and i else ""
                rss = fmt_rss(s["rss_mb"], s.get("file_rss_mb"))
                rows.append(
                    f"| {name} | {desc} | {b} | {s['first_ms']:.3f} | {s['median_ms']:.4f} | "
                    f"{s['min_median_ms']:.4f}-{s['max_median_ms']:.4f} | {rss} | "
                    f"{ratio} | {target} |"
                )
    rows += ["", f"`import ferrax`: {import_time_ms('ferrax'):.0f} ms"]
    print("\n".join(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(
                {
                    "commit": commit,
                    "machine": m,
                    "load_average_start": load_start,
                    "load_average_end": load_end,
                    "rounds": a.rounds,
                    "min_time_s": a.min_time,
                    "statistic": "median of the runs' medians",
                    "threads": a.threads,
                    "notes": notes,
                    "results": results,
                },
                f,
                indent=1,
            )


if __name__ == "__main__":
    clean_env_or_reexec()
    main()

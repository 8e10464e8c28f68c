"""Jacobians and per-example gradients beyond one process: ``executor=`` and
``vmap`` over dask arrays on a 2-worker ``dask.distributed.LocalCluster``.

    python benches/distributed.py               # the full run (a few minutes)
    python benches/distributed.py --quick       # small sizes, one timed run each
    python benches/distributed.py --json out.json

The script starts ``LocalCluster(n_workers=2, threads_per_worker=1,
processes=True)`` itself and measures

a. the Jacobian of ``f(x) = tanh(W @ x) * sin(x)``, ``W`` n x n float64
   (n = 2000): local ``jacrev`` (whole basis, and the cluster's chunk size)
   against ``jacrev(f, executor=client.get_executor())``; where the
   distributed call's time goes (pickling, scatter, tasks, the caller's
   forward pass and assembly), the tasks' compute time on the workers, the
   bytes shipped, and the bits (``np.array_equal`` with the local call of the
   same chunk size);
b. per-example gradients of a 91-parameter MLP over 10^6 examples (float32):
   local ``vmap(grad(loss), (None, 0, 0))`` summed, against the same over dask
   arrays (``.sum(0)`` computed on the cluster) and with ``executor=``;
c. scheduling overhead: trivial tasks through ``Client.get_executor().submit``
   and ``dask.delayed``, and ferrax's own per-task cost (a ``jacrev`` of a
   tiny function in chunks of one basis vector);
d. pickling a 10^6-element float64 tensor against the same ndarray.

Then it fits the scaling model of docs/distributed.md to these numbers and
prints its prediction for N workers on separate machines (``--bandwidth``
between them). Medians of ``--reps`` timed runs after a warm-up. No timed
assertions: the machine is shared and noisy; the results' equality is
checked and printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import math
import os
import pickle
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# this file is named like the `distributed` package it uses: keep its folder
# off the import path (also in the workers, which inherit the path) and load
# the shared helpers by file
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
_spec = importlib.util.spec_from_file_location("_harness", os.path.join(HERE, "_harness.py"))
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)
clean_env_or_reexec, git_rev = _harness.clean_env_or_reexec, _harness.git_rev
machine_facts, timeit = _harness.machine_facts, _harness.timeit

WORKERS = 2


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2]


def timed(fn, reps: int, warmup: bool = True) -> tuple[float, object]:
    """Median seconds of `reps` calls after one warm-up, and the last result."""
    out = fn() if warmup else None
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        samples.append(time.perf_counter() - t0)
    return median(samples), out


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def task_compute_times(stream: list[dict], prefix: str) -> list[float]:
    """Seconds each task whose key starts with `prefix` computed on its worker
    (Dask's task stream)."""
    out = []
    for rec in stream:
        key = rec.get("key")
        name = key[0] if isinstance(key, tuple) else str(key)
        if not str(name).startswith(prefix):
            continue
        for ss in rec.get("startstops", ()):
            if ss.get("action") == "compute":
                out.append(ss["stop"] - ss["start"])
    return out


# --------------------------------------------------------- a. Jacobian ---


class Phases:
    """Wraps ferrax._distributed's pickling, scatter and task runner to time
    each part of one distributed call (the rest is the caller's forward pass
    and assembly)."""

    def __init__(self, D):
        self.D = D
        self.times: dict[str, float] = {}
        self.payload_bytes = 0

    def __enter__(self):
        D = self.D
        self.saved = (D._dumps, D._share, D._run_all)
        dumps, share, run_all = self.saved

        def clocked(name, fn, after=None):
            def wrapper(*a, **k):
                t0 = time.perf_counter()
                out = fn(*a, **k)
                self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - t0
                if after:
                    after(out)
                return out

            return wrapper

        D._dumps = clocked("pickle", dumps, lambda p: setattr(self, "payload_bytes", len(p)))
        D._share = clocked("scatter", share)
        D._run_all = clocked("tasks", run_all)
        return self

    def __exit__(self, *exc):
        self.D._dumps, self.D._share, self.D._run_all = self.saved


def bench_jacobian(client, n: int, reps: int) -> dict:
    import cloudpickle
    import ferrax as fx
    import numpy as np
    from distributed import get_task_stream
    from ferrax import _distributed as D

    rng = np.random.default_rng(0)
    W = fx.asarray(rng.standard_normal((n, n)) / math.sqrt(n))
    x = fx.asarray(rng.standard_normal(n))

    def f(x):
        return fx.tanh(W @ x) * fx.sin(x)

    executor = client.get_executor()
    workers = D.workers_of(executor)
    chunk = math.ceil(n / (4 * workers))  # the core's rule (chunk_for_workers)
    tasks = math.ceil(n / chunk)

    t_fwd, _ = timed(lambda: np.asarray(f(x)), max(reps, 5))
    t_local, J_local = timed(lambda: np.asarray(fx.jacrev(f)(x)), reps)
    t_local_c, J_local_c = timed(lambda: np.asarray(fx.jacrev(f, chunk_size=chunk)(x)), reps)

    # one task as a worker runs it, here in the caller (the payload already
    # unpickled, as on a worker after its first task)
    payload = D._dumps((f, "jacrev", 0, False, (x,), {}), "jacrev")
    t_task, pieces = timed(lambda: D._jacobian_task(payload, (0, 0, chunk)), max(reps, 3))
    result_bytes = sum(np.asarray(p).nbytes for p in pieces)
    result_pickled = len(cloudpickle.dumps(pieces))

    dist = fx.jacrev(f, executor=executor)
    np.asarray(dist(x))  # warm-up: workers import ferrax, unpickle a first payload
    samples, phases, worker_compute = [], [], []
    J_dist = None
    for _ in range(reps):
        with Phases(D) as ph, get_task_stream(client) as ts:
            t0 = time.perf_counter()
            J_dist = np.asarray(dist(x))
            samples.append(time.perf_counter() - t0)
        phases.append(ph.times)
        worker_compute.append(task_compute_times(ts.data, "_jacobian_task"))
    i = samples.index(median(samples))
    ph = dict(phases[i])
    ph["caller (forward pass + assembly)"] = samples[i] - sum(ph.values())
    computes = worker_compute[i]
    return {
        "n": n,
        "workers": workers,
        "chunk_size": chunk,
        "tasks": tasks,
        "forward_s": t_fwd,
        "local_s": t_local,
        "local_same_chunk_s": t_local_c,
        "task_in_caller_s": t_task,
        "distributed_s": samples[i],
        "distributed_samples_s": samples,
        "phases_s": ph,
        "worker_task_compute_s": computes,
        "worker_task_compute_median_s": median(computes) if computes else float("nan"),
        "payload_bytes": len(payload),
        "result_chunk_bytes": result_bytes,
        "result_chunk_pickled_bytes": result_pickled,
        "result_bytes": int(J_dist.nbytes),
        "equal_same_chunk": bool(np.array_equal(J_dist, J_local_c)),
        "equal_whole_basis": bool(np.array_equal(J_dist, J_local)),
        "max_abs_diff_whole_basis": float(np.abs(J_dist - J_local).max()),
    }


# ------------------------------------------- b. per-example gradients ---


def mlp_problem(n: int, d: int = 16, h: int = 5):
    import numpy as np

    rng = np.random.default_rng(1)
    f32 = np.float32
    X = rng.standard_normal((n, d)).astype(f32)
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0).astype(f32)
    params = {
        "W1": (rng.standard_normal((d, h)) * 0.3).astype(f32),
        "b1": np.zeros(h, f32),
        "w2": (rng.standard_normal(h) * 0.3).astype(f32),
        "b2": np.zeros((), f32),
    }
    return params, X, y


def loss(p, x, y):
    import ferrax as fx

    z = fx.tanh(x @ p["W1"] + p["b1"]) @ p["w2"] + p["b2"]
    return fx.log1p(fx.exp(-y * z))


def bench_per_example(client, n: int, reps: int, blocks: int) -> dict:
    import dask
    import dask.array as da
    import ferrax as fx
    import numpy as np
    from distributed import get_task_stream, wait

    params, X, y = mlp_problem(n)
    n_params = sum(v.size for v in params.values())
    per_ex = fx.vmap(fx.grad(loss), in_axes=(None, 0, 0))
    chunk = math.ceil(n / blocks)

    def summed(out):
        return {k: np.asarray(v).sum(0) for k, v in out.items()}

    t_local, ref = timed(lambda: summed(per_ex(params, X, y)), reps)
    chunked = fx.vmap(fx.grad(loss), in_axes=(None, 0, 0), chunk_size=chunk)
    t_local_c, _ = timed(lambda: summed(chunked(params, X, y)), reps)

    Xd = da.from_array(X, chunks=(chunk, X.shape[1]))
    yd = da.from_array(y, chunks=(chunk,))

    def on_dask():
        t0 = time.perf_counter()
        lazy = per_ex(params, Xd, yd)  # a dict of lazy dask arrays
        built = time.perf_counter() - t0
        # one compute for every leaf: the blocks are computed once
        (sums,) = dask.compute({k: v.sum(0) for k, v in lazy.items()})
        return built, sums

    graph: dict = {}
    for v in per_ex(params, Xd, yd).values():
        graph.update(dict(v.sum(0).__dask_graph__()))
    on_dask()  # warm-up
    samples, builds, computes = [], [], []
    got_dask = None
    for _ in range(reps):
        with get_task_stream(client) as ts:
            t0 = time.perf_counter()
            built, got_dask = on_dask()
            samples.append(time.perf_counter() - t0)
        builds.append(built)
        computes.append(task_compute_times(ts.data, "_vmap_block"))
    i = samples.index(median(samples))

    # the same with the inputs already in the workers' memory (as when the
    # workers load them from storage): nothing large leaves the caller
    Xp, yp = dask.persist(Xd, yd)
    wait([Xp, yp])

    def on_persisted():
        lazy = per_ex(params, Xp, yp)
        (sums,) = dask.compute({k: v.sum(0) for k, v in lazy.items()})
        return sums

    t_persisted, got_persisted = timed(on_persisted, reps)

    dist = fx.vmap(fx.grad(loss), in_axes=(None, 0, 0), executor=client.get_executor())
    t_exec, got_exec = timed(lambda: summed(dist(params, X, y)), reps)

    def close(got):
        return all(np.allclose(got[k], ref[k], rtol=1e-4, atol=1e-3) for k in ref)

    def max_rel(got):
        return max(
            float(np.abs(got[k] - ref[k]).max() / max(1e-30, np.abs(ref[k]).max())) for k in ref
        )

    return {
        "examples": n,
        "features": X.shape[1],
        "params": int(n_params),
        "blocks": math.ceil(n / chunk),
        "chunk_size": chunk,
        "local_s": t_local,
        "local_same_chunk_s": t_local_c,
        "dask_s": samples[i],
        "dask_samples_s": samples,
        "dask_graph_build_s": builds[i],
        "dask_graph_keys": len(graph),
        "dask_worker_block_compute_s": computes[i],
        "dask_worker_block_compute_median_s": median(computes[i]) if computes[i] else float("nan"),
        "dask_persisted_s": t_persisted,
        "executor_s": t_exec,
        "input_bytes": int(X.nbytes + y.nbytes),
        "per_example_result_bytes": int(n * n_params * 4),
        "dask_close": close(got_dask),
        "dask_persisted_close": close(got_persisted),
        "executor_close": close(got_exec),
        "dask_max_rel_diff": max_rel(got_dask),
        "executor_max_rel_diff": max_rel(got_exec),
    }


# ------------------------------------------------------- c. overhead ---


def noop(i):
    return i


def bench_overhead(client, m: int, reps: int) -> dict:
    import dask
    import ferrax as fx
    import numpy as np

    executor = client.get_executor()

    def through_executor():
        futures = [executor.submit(noop, i) for i in range(m)]
        return [f.result() for f in futures]

    def one_by_one():
        return [executor.submit(noop, i).result() for i in range(min(m, 50))]

    def through_delayed():
        return dask.compute(*[dask.delayed(noop, pure=False)(i) for i in range(m)])

    t_exec, _ = timed(through_executor, reps)
    t_rt, _ = timed(one_by_one, reps)
    t_delayed, _ = timed(through_delayed, reps)

    x = fx.asarray(np.linspace(-1.0, 1.0, m))

    def tiny(x):
        return fx.sin(x) * 2.0

    t_local, J_local = timed(lambda: np.asarray(fx.jacrev(tiny, chunk_size=1)(x)), reps)
    dist = fx.jacrev(tiny, chunk_size=1, executor=executor)
    t_dist, J_dist = timed(lambda: np.asarray(dist(x)), reps)
    return {
        "tasks": m,
        "executor_submit_per_task_ms": t_exec / m * 1e3,
        "executor_round_trip_ms": t_rt / min(m, 50) * 1e3,
        "delayed_per_task_ms": t_delayed / m * 1e3,
        "ferrax_jacrev_local_per_chunk_ms": t_local / m * 1e3,
        "ferrax_jacrev_distributed_per_task_ms": t_dist / m * 1e3,
        "ferrax_over_local_per_task_ms": (t_dist - t_local) / m * 1e3,
        "ferrax_equal": bool(np.array_equal(J_dist, J_local)),
    }


# --------------------------------------------------------- d. pickle ---


def bench_pickle(size: int) -> dict:
    import ferrax as fx
    import numpy as np

    a = np.random.default_rng(2).standard_normal(size)
    t = fx.asarray(a)
    out = {"elements": size, "default_protocol": pickle.DEFAULT_PROTOCOL}
    for name, obj in (("ndarray", a), ("tensor", t)):
        for proto in (pickle.DEFAULT_PROTOCOL, 5):
            blob = pickle.dumps(obj, protocol=proto)
            out[f"{name}_p{proto}_bytes"] = len(blob)
            out[f"{name}_p{proto}_dumps_ms"] = (
                timeit(lambda o=obj, p=proto: pickle.dumps(o, protocol=p), min_time=0.5) * 1e3
            )
            out[f"{name}_p{proto}_loads_ms"] = (
                timeit(lambda b=blob: pickle.loads(b), min_time=0.5) * 1e3
            )
        # protocol 5 out of band (what Dask's serialisation does): the buffer
        # is not copied into the pickle
        buffers: list = []
        head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
        out[f"{name}_p5_oob_bytes"] = len(head) + sum(memoryview(b).nbytes for b in buffers)
        out[f"{name}_p5_oob_dumps_ms"] = (
            timeit(
                lambda o=obj: pickle.dumps(o, protocol=5, buffer_callback=lambda b: None),
                min_time=0.5,
            )
            * 1e3
        )
        out[f"{name}_p5_oob_loads_ms"] = (
            timeit(lambda h=head, bs=buffers: pickle.loads(h, buffers=bs), min_time=0.5) * 1e3
        )
    back = pickle.loads(pickle.dumps(t))
    out["tensor_roundtrip_equal"] = bool(np.array_equal(np.asarray(back), a))
    return out


# ---------------------------------------------------------- the model ---


def model(
    a: dict,
    b: dict,
    c: dict,
    bandwidth: float,
    overhead_s: float | None = None,
    workers=(1, 2, 4, 8, 16, 32, 64),
) -> dict:
    """The scaling model of docs/distributed.md fitted to this run:

        time(N) = T_plan + ceil(tasks/N) * T_task
                  + max(ceil(tasks/N) * T_ovh, tasks * t_sched) + transfer

    with the default chunking (tasks = 4N, so each worker runs 4 tasks).
    T_ovh is ferrax's per-task cost over local as each of the two workers
    saw it; t_sched the cluster's throughput limit per trivial task (one
    scheduler and one caller serve every task). Transfer: the Jacobian's
    payload leaves the caller once and Dask replicates it to N workers with
    branching factor 2 (1 + 2 ceil(log3 N) payload times on the slowest
    path), its result comes back to the caller; the per-example inputs leave
    the caller once (they are in its memory) and only sums come back.
    `overhead_s` replaces both measured overheads by an assumed one."""
    ovh = c["ferrax_over_local_per_task_ms"] * 1e-3 * WORKERS
    sched = c["executor_submit_per_task_ms"] * 1e-3
    if overhead_s is not None:  # an assumed cost in place of the measured ones
        ovh = sched = overhead_s
    # a: a task is a forward pass plus `count` pulled-back vectors
    per_vec = max(0.0, (a["task_in_caller_s"] - a["forward_s"]) / a["chunk_size"])
    plan_a = a["phases_s"]["pickle"] + a["phases_s"]["caller (forward pass + assembly)"]
    compute_b = b["local_same_chunk_s"]
    rows = []
    for N in workers:
        tasks = 4 * N
        per_worker = math.ceil(tasks / N)
        overhead = max(per_worker * ovh, tasks * sched)
        count = math.ceil(a["n"] / tasks)
        task_a = a["forward_s"] + count * per_vec
        copies = 1 + 2 * math.ceil(math.log(N, 3)) if N > 1 else 1
        ta = (
            plan_a
            + per_worker * task_a
            + overhead
            + (copies * a["payload_bytes"] + a["result_bytes"]) / bandwidth
        )
        tb = (
            b["dask_graph_build_s"]
            + per_worker * compute_b / tasks
            + overhead
            + b["input_bytes"] / bandwidth
        )
        rows.append(
            {
                "workers": N,
                "jacobian_s": ta,
                "jacobian_speedup": a["local_s"] / ta,
                "per_example_s": tb,
                "per_example_speedup": b["local_s"] / tb,
            }
        )
    return {
        "bandwidth_bytes_per_s": bandwidth,
        "overhead_per_task_s": ovh,
        "scheduler_per_task_s": sched,
        "jacobian_plan_s": plan_a,
        "jacobian_per_vector_s": per_vec,
        "per_example_compute_s": compute_b,
        "rows": rows,
    }


# -------------------------------------------------------------- report ---


def mb(x: float) -> str:
    return f"{x / 1e6:.1f} MB"


def report(facts: str, res: dict) -> str:
    a, b, c, d = res["jacobian"], res["per_example"], res["overhead"], res["pickle"]
    L = [
        f"Distributed Jacobians and per-example gradients (commit {res['commit']}), "
        f"LocalCluster(n_workers=2, threads_per_worker=1, processes=True), "
        f"median of {res['reps']} runs after a warm-up",
        "",
        facts,
        f"- workers: {res['worker_threads']} ferrax kernel threads each, SIMD {res['worker_simd']}",
        f"- load average before / after: {res['load_before']} / {res['load_after']}",
        "",
        f"### a. jacrev of tanh(W @ x) * sin(x), n = {a['n']}, float64",
        "",
        "| variant | s | speed-up vs local |",
        "|---|---:|---:|",
        f"| forward pass f(x) | {a['forward_s']:.4f} | |",
        f"| local jacrev (whole basis) | {a['local_s']:.3f} | 1.00x |",
        f"| local jacrev, chunk_size={a['chunk_size']} | {a['local_same_chunk_s']:.3f} | "
        f"{a['local_s'] / a['local_same_chunk_s']:.2f}x |",
        f"| jacrev executor= ({a['tasks']} tasks of {a['chunk_size']}) | {a['distributed_s']:.3f} | "
        f"{a['local_s'] / a['distributed_s']:.2f}x |",
        "",
        "| where the distributed call's time goes | s |",
        "|---|---:|",
        *[f"| {k} | {v:.3f} |" for k, v in a["phases_s"].items()],
        f"| one task (count {a['chunk_size']}) in the caller | {a['task_in_caller_s']:.3f} |",
        f"| one task on a worker (median of {len(a['worker_task_compute_s'])}) | "
        f"{a['worker_task_compute_median_s']:.3f} |",
        "",
        f"- bytes: payload {mb(a['payload_bytes'])} (scattered once to each worker); result chunk "
        f"{mb(a['result_chunk_bytes'])} ({mb(a['result_chunk_pickled_bytes'])} pickled); "
        f"whole result {mb(a['result_bytes'])}",
        f"- equal to local with chunk_size={a['chunk_size']}: {a['equal_same_chunk']}; "
        f"to local whole-basis: {a['equal_whole_basis']} (max |diff| {a['max_abs_diff_whole_basis']:.1e})",
        "",
        f"### b. per-example gradients, MLP {b['features']}-5-1 ({b['params']} parameters), "
        f"{b['examples']:,} examples, float32, summed",
        "",
        "| variant | s | speed-up vs local |",
        "|---|---:|---:|",
        f"| local vmap(grad) then sum | {b['local_s']:.3f} | 1.00x |",
        f"| local, chunk_size={b['chunk_size']} | {b['local_same_chunk_s']:.3f} | "
        f"{b['local_s'] / b['local_same_chunk_s']:.2f}x |",
        f"| dask arrays ({b['blocks']} blocks), .sum(0) on the cluster | {b['dask_s']:.3f} | "
        f"{b['local_s'] / b['dask_s']:.2f}x |",
        f"| dask arrays persisted on the workers first | {b['dask_persisted_s']:.3f} | "
        f"{b['local_s'] / b['dask_persisted_s']:.2f}x |",
        f"| executor= (per-example results shipped back) | {b['executor_s']:.3f} | "
        f"{b['local_s'] / b['executor_s']:.2f}x |",
        "",
        f"- dask: graph of {b['dask_graph_keys']} keys before optimisation, built in "
        f"{b['dask_graph_build_s'] * 1e3:.1f} ms; a block on a worker "
        f"{b['dask_worker_block_compute_median_s']:.3f} s (median); inputs {mb(b['input_bytes'])}; "
        f"per-example gradients {mb(b['per_example_result_bytes'])}",
        f"- allclose to local: dask {b['dask_close']} (max rel diff {b['dask_max_rel_diff']:.1e}), "
        f"persisted {b['dask_persisted_close']}, "
        f"executor {b['executor_close']} (max rel diff {b['executor_max_rel_diff']:.1e})",
        "",
        f"### c. per-task overhead ({c['tasks']} tasks)",
        "",
        "| path | ms per task |",
        "|---|---:|",
        f"| executor.submit, trivial task, all submitted at once | {c['executor_submit_per_task_ms']:.2f} |",
        f"| executor.submit(...).result(), one at a time (round trip) | {c['executor_round_trip_ms']:.2f} |",
        f"| dask.delayed, trivial task | {c['delayed_per_task_ms']:.2f} |",
        f"| ferrax jacrev chunk_size=1, local, per chunk | {c['ferrax_jacrev_local_per_chunk_ms']:.3f} |",
        f"| ferrax jacrev chunk_size=1, executor=, per task | {c['ferrax_jacrev_distributed_per_task_ms']:.2f} |",
        f"| ferrax's distributed cost over local, per task | {c['ferrax_over_local_per_task_ms']:.2f} |",
        "",
        f"- results equal: {c['ferrax_equal']}",
        "",
        f"### d. pickle of {d['elements']:,} float64 (default protocol {d['default_protocol']})",
        "",
        "| object | protocol | bytes | dumps ms | loads ms |",
        "|---|---|---:|---:|---:|",
    ]
    for name in ("ndarray", "tensor"):
        for proto in sorted({d["default_protocol"], 5}):
            L.append(
                f"| {name} | {proto} | {d[f'{name}_p{proto}_bytes']:,} | "
                f"{d[f'{name}_p{proto}_dumps_ms']:.3f} | {d[f'{name}_p{proto}_loads_ms']:.3f} |"
            )
        L.append(
            f"| {name} | 5, out of band | {d[f'{name}_p5_oob_bytes']:,} | "
            f"{d[f'{name}_p5_oob_dumps_ms']:.3f} | {d[f'{name}_p5_oob_loads_ms']:.3f} |"
        )
    for m in res["models"]:
        label = (
            "measured overheads"
            if m["assumed_overhead"] is None
            else f"ASSUMED {m['assumed_overhead'] * 1e3:.0f} ms per task (not measured)"
        )
        L += [
            "",
            f"### model: N workers on separate machines, "
            f"{m['bandwidth_bytes_per_s'] / 1e9:.2f} GB/s links, {label}",
            "",
            f"- overhead {m['overhead_per_task_s'] * 1e3:.1f} ms per task on a worker, "
            f"scheduler {m['scheduler_per_task_s'] * 1e3:.1f} ms per task; "
            f"jacobian caller time {m['jacobian_plan_s']:.3f} s, "
            f"{m['jacobian_per_vector_s'] * 1e3:.3f} ms per pulled-back vector; "
            f"per-example compute {m['per_example_compute_s']:.3f} s",
            "",
            "| workers | a. predicted s | a. speed-up | b. predicted s | b. speed-up |",
            "|---:|---:|---:|---:|---:|",
            *[
                f"| {r['workers']} | {r['jacobian_s']:.3f} | {r['jacobian_speedup']:.2f}x | "
                f"{r['per_example_s']:.3f} | {r['per_example_speedup']:.2f}x |"
                for r in m["rows"]
            ],
        ]
    return "\n".join(L)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, one timed run each")
    ap.add_argument("--reps", type=int, help="timed runs per measurement (default 3, quick 1)")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument(
        "--bandwidth",
        type=float,
        default=1.0,
        help="GB/s between machines for the scaling model (default 1.0, about 10 GbE)",
    )
    ap.add_argument(
        "--assume-overhead-ms",
        type=float,
        default=1.0,
        help="a second model table with this per-task overhead in place of the measured "
        "ones (default 1.0, a Dask scheduler with a core to itself)",
    )
    a = ap.parse_args()
    reps = a.reps or (1 if a.quick else 3)
    n_jac = 400 if a.quick else 2000
    n_ex = 100_000 if a.quick else 1_000_000
    m_tasks = 40 if a.quick else 200
    n_pickle = 100_000 if a.quick else 1_000_000

    import cloudpickle
    import ferrax as fx
    from distributed import Client, LocalCluster

    # the workers import ferrax, not this script: its functions go by value
    if __name__ != "__main__":
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    facts = machine_facts()
    load_before = load()
    t_start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        worker_threads = sorted(set(client.run(fx.get_num_threads).values()))
        worker_simd = sorted(set(client.run(fx.simd_level).values()))
        print("a. Jacobian ...", file=sys.stderr)
        jac = bench_jacobian(client, n_jac, reps)
        print("b. per-example gradients ...", file=sys.stderr)
        per = bench_per_example(client, n_ex, reps, blocks=4 * WORKERS)
        print("c. overhead ...", file=sys.stderr)
        ovh = bench_overhead(client, m_tasks, reps)
    print("d. pickle ...", file=sys.stderr)
    pk = bench_pickle(n_pickle)
    res = {
        "commit": git_rev(),
        "quick": a.quick,
        "reps": reps,
        "machine": facts,
        "worker_threads": worker_threads,
        "worker_simd": worker_simd,
        "load_before": load_before,
        "load_after": load(),
        "jacobian": jac,
        "per_example": per,
        "overhead": ovh,
        "pickle": pk,
        "models": [
            {"assumed_overhead": o, **model(jac, per, ovh, a.bandwidth * 1e9, o)}
            for o in (None, a.assume_overhead_ms * 1e-3)
        ],
        "wall_s": time.perf_counter() - t_start,
    }
    print(report(facts, res))
    print(f"\n(total {res['wall_s']:.0f} s)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    clean_env_or_reexec()
    main()

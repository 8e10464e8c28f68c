"""Threads: transforms run concurrently from several Python threads, each with its
own trace state; an exception in one thread does not disturb the others."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import ferrax as fx
import numpy as np
import pytest

N_THREADS = 4
N_ITERS = 20


def _np(x):
    return np.array(np.asarray(x))


def _loss(p, x):
    h = fx.tanh(x @ p["w"] + p["b"])
    return fx.mean(h**2)


def _inputs(seed: int):
    rng = np.random.default_rng(seed)
    p = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    x = rng.standard_normal((5, 3))
    v = rng.standard_normal(4)
    return p, x, v


TASKS = {
    "grad": lambda p, x, v: fx.grad(_loss)(p, x),
    "jacrev": lambda p, x, v: fx.jacrev(lambda a: fx.sin(a) * fx.sum(a**2))(v),
    "jacfwd_chunked": lambda p, x, v: fx.jacfwd(lambda a: fx.cumsum(fx.exp(a)), chunk_size=3)(v),
    "vmap_grad": lambda p, x, v: fx.vmap(fx.grad(_loss), in_axes=(None, 0))(p, x[:, None, :]),
    "hessian": lambda p, x, v: fx.hessian(lambda a: fx.sum(a**3) + fx.prod(a[:2]))(v),
    "jvp": lambda p, x, v: fx.jvp(lambda a: fx.tanh(a) @ a, (v,), (v[::-1].copy(),)),
    "vjp": lambda p, x, v: fx.vjp(lambda a: fx.outer(a, a), v)[1](np.ones((4, 4))),
}


def _analytic(name: str, p, x, v):
    """Expected values computed with NumPy only."""
    if name == "grad":
        z = x @ p["w"] + p["b"]
        h = np.tanh(z)
        dz = 2 * h * (1 - h**2) / h.size
        return {"b": dz.sum(0), "w": x.T @ dz}
    if name == "jacrev":
        s = np.sum(v**2)
        return np.diag(np.cos(v) * s) + 2 * np.outer(np.sin(v), v)
    if name == "jacfwd_chunked":
        return np.tril(np.ones((4, 4))) * np.exp(v)[None, :]
    if name == "vmap_grad":
        rows = [_analytic("grad", p, x[i : i + 1], v) for i in range(len(x))]
        return {"b": np.stack([r["b"] for r in rows]), "w": np.stack([r["w"] for r in rows])}
    if name == "hessian":
        h = np.diag(6 * v)
        h[0, 1] += 1.0
        h[1, 0] += 1.0
        return h
    if name == "jvp":
        t = v[::-1]
        return (np.tanh(v) @ v, (1 - np.tanh(v) ** 2) * t @ v + np.tanh(v) @ t)
    if name == "vjp":
        return (2 * v.sum() * np.ones(4),)
    raise AssertionError(name)


def _assert_close(actual, expected, what: str) -> None:
    if isinstance(expected, dict):
        assert set(actual) == set(expected), what
        for k in expected:
            _assert_close(actual[k], expected[k], f"{what}[{k}]")
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected), what
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_close(a, e, f"{what}[{i}]")
    else:
        np.testing.assert_allclose(_np(actual), expected, rtol=1e-11, atol=1e-13, err_msg=what)


def _worker(tid: int) -> int:
    names = list(TASKS)
    done = 0
    for it in range(N_ITERS):
        name = names[(tid + it) % len(names)]
        p, x, v = _inputs(1000 * tid + it)
        _assert_close(TASKS[name](p, x, v), _analytic(name, p, x, v), f"thread {tid} {name} #{it}")
        assert fx._ferrax._trace_depth() == 0
        done += 1
    return done


def test_analytic_references_match_single_threaded_results() -> None:
    p, x, v = _inputs(0)
    for name, task in TASKS.items():
        _assert_close(task(p, x, v), _analytic(name, p, x, v), name)


def test_threads_running_different_transforms_get_correct_results() -> None:
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = list(pool.map(_worker, range(N_THREADS)))
    assert results == [N_ITERS] * N_THREADS


class Boom(Exception):
    pass


def _failing_worker(tid: int) -> tuple[int, int]:
    raised = ok = 0
    for it in range(N_ITERS):
        p, x, v = _inputs(7 * tid + it)
        if it % 2 == 0:

            def bad(a, it=it):
                _ = fx.sin(a) * 2.0  # some traced work first
                raise Boom(f"thread {tid} iteration {it}")

            for call in (
                lambda v=v, bad=bad: fx.grad(lambda a: fx.sum(bad(a)))(v),
                lambda v=v, bad=bad: fx.jacrev(bad)(v),
                lambda x=x, bad=bad: fx.vmap(bad)(x),
            ):
                with pytest.raises(Boom, match=f"thread {tid} iteration {it}$"):
                    call()
                raised += 1
        else:
            _assert_close(TASKS["hessian"](p, x, v), _analytic("hessian", p, x, v), "hessian")
            _assert_close(TASKS["grad"](p, x, v), _analytic("grad", p, x, v), "grad")
            ok += 1
        assert fx._ferrax._trace_depth() == 0
    return raised, ok


def test_exception_in_one_thread_does_not_affect_the_others() -> None:
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        failing = pool.submit(_failing_worker, 0)
        healthy = [pool.submit(_worker, tid) for tid in range(1, N_THREADS)]
        assert [f.result() for f in healthy] == [N_ITERS] * (N_THREADS - 1)
        assert failing.result() == (3 * N_ITERS // 2, N_ITERS // 2)


def test_all_threads_inside_a_transform_at_the_same_time() -> None:
    # every thread pauses inside its own grad (trace depth 1) until all have arrived
    barrier = threading.Barrier(N_THREADS, timeout=30)
    depths: dict[int, list[int]] = {}

    def run(tid: int):
        scale = float(tid + 1)

        def f(a):
            depths.setdefault(tid, []).append(fx._ferrax._trace_depth())
            barrier.wait()
            y = fx.sum(fx.sin(a) * scale)
            barrier.wait()
            return y

        g = fx.grad(f)(np.array([0.1, 0.2, 0.3]) * scale)
        h = fx.jacfwd(lambda a: fx.grad(f)(a))(np.array([0.5]))
        return tid, g, h

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = list(pool.map(run, range(N_THREADS)))
    for tid, g, h in results:
        scale = tid + 1.0
        np.testing.assert_allclose(_np(g), scale * np.cos(np.array([0.1, 0.2, 0.3]) * scale))
        np.testing.assert_allclose(_np(h), [[-scale * np.sin(0.5)]])
        # trace depth is per thread: the same in every thread, whatever the others do
        assert depths[tid][0] == 1
        assert depths[tid][1] == depths[0][1] > 1


def test_a_tracer_of_another_thread_is_not_usable() -> None:
    inside, release = threading.Event(), threading.Event()
    box = {}

    def other():
        def f(a):
            box["tracer"] = a
            inside.set()
            release.wait(10)
            return fx.sum(a**2)

        box["g"] = fx.grad(f)(np.array([1.0, 2.0]))

    t = threading.Thread(target=other)
    t.start()
    try:
        assert inside.wait(10)
        # this thread has no transform running, whatever the other thread does
        assert fx._ferrax._trace_depth() == 0
        np.testing.assert_allclose(_np(fx.grad(lambda a: fx.sum(a**3))(np.array([2.0]))), [12.0])
        with pytest.raises(RuntimeError):
            box["tracer"] * 2.0
        with pytest.raises(RuntimeError):
            fx.grad(lambda a: fx.sum(a * box["tracer"]))(np.array([1.0, 1.0]))
    finally:
        release.set()
        t.join(10)
    np.testing.assert_allclose(_np(box["g"]), [2.0, 4.0])


def test_large_kernels_concurrently() -> None:
    # big enough to release the GIL and use the kernel thread pool from several threads
    x = np.linspace(-2.0, 2.0, 200_001)
    a = np.sin(np.arange(120 * 130.0)).reshape(120, 130)

    def run(k: int):
        s = 1.0 + k
        g = fx.grad(lambda v: fx.sum(fx.exp(v * s) * 0.5))(x)
        ga = fx.grad(lambda m: fx.sum((m @ m.T) * s))(a)
        return k, g, ga

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = list(pool.map(run, range(2 * N_THREADS)))
    ones = np.ones((120, 120))
    for k, g, ga in results:
        s = 1.0 + k
        np.testing.assert_allclose(_np(g), 0.5 * s * np.exp(s * x), rtol=1e-12)
        np.testing.assert_allclose(_np(ga), s * (ones @ a + ones.T @ a), rtol=1e-10, atol=1e-9)

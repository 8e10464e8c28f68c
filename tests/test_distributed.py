"""Jacobians, Hessians and per-example gradients beyond one process: ``executor=``
on jacrev/jacfwd/hessian/vmap (a real ``dask.distributed.LocalCluster`` with two
worker processes, and the standard process and thread pools), ``vmap`` over dask
arrays, ``chunk_size`` on vmap and hessian, and the pickling that carries
functions and tensors to workers. Every distributed result is compared bit for
bit with the same call evaluated locally."""

from __future__ import annotations

import logging
import os
import pickle
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import cloudpickle
import dask
import dask.array as da
import ferrax as fx
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_worker
from ferrax import tree_util as tu
from gradcheck import check_jac, check_vmap

# The workers import ferrax, not this module: ship this module's functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

RNG = np.random.default_rng(7)


def assert_identical(actual, expected):
    """Same structure, shapes, dtypes and bits."""
    a_leaves, a_tree = tu.tree_flatten(actual)
    e_leaves, e_tree = tu.tree_flatten(expected)
    assert a_tree == e_tree
    for a, e in zip(a_leaves, e_leaves, strict=True):
        a, e = np.asarray(a), np.asarray(e)
        assert a.dtype == e.dtype and a.shape == e.shape
        assert np.array_equal(a, e), np.abs(a - e).max()


def on_worker() -> bool:
    try:
        get_worker()
    except ValueError:
        return False
    return True


# a function of two pytree arguments with two outputs
def model(params, x):
    h = fx.tanh(params["W"] @ x + params["b"])
    return h * fx.sum(x**2), fx.sum(fx.sin(h))


PARAMS = {"W": fx.asarray(RNG.normal(size=(6, 9))), "b": fx.asarray(RNG.normal(size=6))}
X = fx.asarray(RNG.normal(size=9))


def loss(params, x, y):
    return (fx.sum(fx.tanh(params["W"] @ x + params["b"])) - y) ** 2


XS = fx.asarray(RNG.normal(size=(40, 9)))
YS = fx.asarray(RNG.normal(size=40))


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def process_pool():
    with ProcessPoolExecutor(2) as ex:
        yield ex


@pytest.fixture(scope="module")
def thread_pool():
    with ThreadPoolExecutor(2) as ex:
        yield ex


# ------------------------------------------------------ on a dask cluster ---


@pytest.mark.parametrize("mode", [fx.jacrev, fx.jacfwd])
@pytest.mark.parametrize("chunk_size", [None, 5])
def test_jacobian_on_cluster_is_the_local_one(client, mode, chunk_size):
    ex = client.get_executor()
    got = mode(model, argnums=(0, 1), chunk_size=chunk_size, executor=ex)(PARAMS, X)
    # without chunk_size the executor splits the basis for its two workers
    # (about four tasks each); the local call with that chunking is bit-identical
    n = 6 + 1 if mode is fx.jacrev else 6 * 9 + 6 + 9
    local_chunk = chunk_size or -(-n // 8)
    assert_identical(got, mode(model, argnums=(0, 1), chunk_size=local_chunk)(PARAMS, X))
    # and equal to the one-pass Jacobian to rounding
    want = mode(model, argnums=(0, 1))(PARAMS, X)
    for a, b in zip(tu.tree_leaves(got), tu.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-13, atol=1e-14)


def test_hessian_on_cluster_is_the_local_one(client):
    def f(p):
        return fx.sum(fx.log1p(fx.exp(p["W"] @ X + p["b"]))) + fx.sum(p["W"] ** 4)

    ex = client.get_executor()
    got = fx.hessian(f, chunk_size=7, executor=ex)(PARAMS)
    assert_identical(got, fx.hessian(f, chunk_size=7)(PARAMS))
    assert got["W"]["W"].shape == (6, 9, 6, 9)
    whole = fx.hessian(f)(PARAMS)
    for a, b in zip(tu.tree_leaves(got), tu.tree_leaves(whole)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-13)


def test_has_aux_comes_from_the_caller(client):
    def f(x):
        return fx.sin(x), {"norm": fx.sum(x**2), "tag": "kept"}

    jac, aux = fx.jacrev(f, has_aux=True, executor=client.get_executor())(X)
    np.testing.assert_allclose(np.asarray(jac), np.diag(np.cos(np.asarray(X))), rtol=1e-15)
    assert aux["tag"] == "kept" and float(aux["norm"]) == float(fx.sum(X**2))


def test_per_example_gradients_on_cluster(client):
    per_example = fx.vmap(fx.grad(loss), in_axes=(None, 0, 0))
    ex = client.get_executor()
    got = fx.vmap(fx.grad(loss), in_axes=(None, 0, 0), chunk_size=7, executor=ex)(PARAMS, XS, YS)
    assert_identical(
        got, fx.vmap(fx.grad(loss), in_axes=(None, 0, 0), chunk_size=7)(PARAMS, XS, YS)
    )
    want = per_example(PARAMS, XS, YS)
    for a, b in zip(tu.tree_leaves(got), tu.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-14, atol=1e-15)
    # the default split: about four chunks per worker
    default = fx.vmap(fx.grad(loss), in_axes=(None, 0, 0), executor=ex)(PARAMS, XS, YS)
    assert_identical(
        default, fx.vmap(fx.grad(loss), in_axes=(None, 0, 0), chunk_size=5)(PARAMS, XS, YS)
    )


def test_dask_array_vmap_is_lazy_and_per_chunk(client):
    Xd = da.from_array(np.asarray(XS), chunks=(12, 9))
    yd = da.from_array(np.asarray(YS), chunks=12)
    lazy = fx.vmap(fx.grad(loss), in_axes=(None, 0, 0))(PARAMS, Xd, yd)
    assert set(lazy) == {"W", "b"}
    assert isinstance(lazy["W"], da.Array) and lazy["W"].shape == (40, 6, 9)
    assert lazy["W"].chunks[0] == (12, 12, 12, 4)
    graph = dict(lazy["W"].__dask_graph__())
    # one task per chunk of the mapped axis; the unmapped params are one key of
    # the graph (scattered once), not copied into every task
    vmap_tasks = [k for k in graph if str(k).startswith("_vmap_block")]
    assert len(vmap_tasks) == 4, graph.keys()
    assert len([k for k in graph if str(k).startswith("bytes-")]) == 1
    want = fx.vmap(fx.grad(loss), in_axes=(None, 0, 0))(PARAMS, XS, YS)
    W, b = dask.compute(lazy["W"], lazy["b"])  # on the cluster (the client is the default)
    np.testing.assert_allclose(W, np.asarray(want["W"]), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(b, np.asarray(want["b"]), rtol=1e-14, atol=1e-15)
    total = lazy["W"].sum(0).compute()
    np.testing.assert_allclose(total, np.asarray(want["W"]).sum(0), rtol=1e-12)


def test_dask_array_vmap_axes_and_mixed_arguments(client):
    a = RNG.normal(size=(5, 14))
    A = da.from_array(a, chunks=(5, 4))  # mapped along axis 1, chunked along it
    b = RNG.normal(size=14)  # a NumPy array mapped alongside
    c = fx.asarray(RNG.normal(size=5))  # unmapped

    def f(col, s, v):
        return {"dot": fx.sum(col * v) * s, "outer": fx.outer(col, v) + s}, v

    out, same = fx.vmap(f, in_axes=(1, 0, None), out_axes=({"dot": 0, "outer": 2}, None))(A, b, c)
    want, _ = fx.vmap(f, in_axes=(1, 0, None), out_axes=({"dot": 0, "outer": 2}, None))(
        fx.asarray(a), fx.asarray(b), c
    )
    assert out["outer"].shape == (5, 5, 14) and out["outer"].chunks[2] == (4, 4, 4, 2)
    np.testing.assert_array_equal(out["dot"].compute(), np.asarray(want["dot"]))
    np.testing.assert_array_equal(out["outer"].compute(), np.asarray(want["outer"]))
    np.testing.assert_array_equal(same.compute(), np.asarray(c))


def test_dask_vmap_chunk_size_rechunks():
    x = da.from_array(np.arange(10.0), chunks=10)
    out = fx.vmap(lambda v: v * 2.0, chunk_size=3)(x)
    assert out.chunks == ((3, 3, 3, 1),)
    np.testing.assert_array_equal(out.compute(scheduler="sync"), np.arange(10.0) * 2)


def test_a_killed_worker_is_retried(client, tmp_path):
    marker = tmp_path / "killed"

    def fragile(x):
        # the first task to run on a worker kills that worker's process
        if on_worker() and not marker.exists():
            marker.write_text("once")
            os._exit(1)
        return fx.tanh(x) * fx.sum(x)

    got = fx.jacrev(fragile, chunk_size=3, executor=client.get_executor())(X)
    assert marker.exists()  # a worker did die
    assert_identical(got, fx.jacrev(fragile, chunk_size=3)(X))
    client.wait_for_workers(2, timeout=60)


def test_an_exception_on_a_worker_is_raised_with_its_traceback(client):
    def failing_on_worker(x):
        if on_worker():
            raise ArithmeticError("the user's function failed on a worker")
        return fx.sin(x)

    with pytest.raises(ArithmeticError, match="failed on a worker") as info:
        fx.jacfwd(failing_on_worker, executor=client.get_executor())(X)
    tb = "".join(traceback.format_exception(info.value))
    assert "failing_on_worker" in tb
    with pytest.raises(ArithmeticError, match="failed on a worker"):
        fx.vmap(failing_on_worker, executor=client.get_executor())(XS)


# --------------------------------------------- standard executors, errors ---


@pytest.mark.parametrize("pool", ["process_pool", "thread_pool"])
def test_standard_pools(request, pool):
    ex = request.getfixturevalue(pool)
    for mode in (fx.jacrev, fx.jacfwd):
        got = mode(model, argnums=0, chunk_size=4, executor=ex)(PARAMS, X)
        assert_identical(got, mode(model, argnums=0, chunk_size=4)(PARAMS, X))
    f = fx.grad(loss)
    got = fx.vmap(f, in_axes=(None, 0, 0), chunk_size=16, executor=ex)(PARAMS, XS, YS)
    assert_identical(got, fx.vmap(f, in_axes=(None, 0, 0), chunk_size=16)(PARAMS, XS, YS))


def test_process_pool_exception_carries_the_remote_traceback(process_pool):
    def bad(x):
        if os.getpid() != PARENT:
            raise ValueError("raised in a worker process")
        return x * 2.0

    with pytest.raises(ValueError, match="raised in a worker process") as info:
        fx.jacrev(bad, executor=process_pool)(X)
    assert "def bad" in "".join(traceback.format_exception(info.value)) or "bad" in str(
        info.value.__cause__
    )


PARENT = os.getpid()


def test_executor_errors(thread_pool):
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        fx.jacrev(fx.sin, executor=object())
    with pytest.raises(TypeError, match="concurrent.futures.Executor"):
        fx.vmap(fx.sin, executor="dask")
    with pytest.raises(ValueError, match="cannot be combined"):
        fx.jacrev(fx.sin, sparsity="auto", executor=thread_pool)
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        fx.vmap(fx.sin, chunk_size=0)
    with pytest.raises(ValueError, match="chunk_size must be a positive int"):
        fx.hessian(fx.sin, chunk_size=-1)
    # inside another transform the arguments are traced values: refused
    inner = fx.jacrev(fx.sin, executor=thread_pool)
    with pytest.raises(TypeError, match="executor"):
        fx.grad(lambda x: fx.sum(inner(x)))(X)
    with pytest.raises(ValueError, match="dask"):
        fx.vmap(fx.sin, executor=thread_pool)(da.ones(4, chunks=2))


def test_dask_vmap_errors():
    A = da.ones((4, 3), chunks=(2, 3))
    with pytest.raises(ValueError, match="must be mapped"):
        fx.vmap(lambda a, b: a + b, in_axes=(0, None))(fx.ones(3), A)
    with pytest.raises(TypeError, match="positional arguments themselves"):
        fx.vmap(lambda t, b: t[0] + b, in_axes=(None, 0))((A,), fx.ones((4, 3)))
    with pytest.raises(TypeError, match="maps whole positional arguments"):
        fx.vmap(lambda d, a: d["x"] + a)({"x": fx.ones((4, 3))}, A)
    with pytest.raises(ValueError, match="inconsistent sizes"):
        fx.vmap(lambda a, b: a + b)(A, da.ones((5, 3), chunks=(2, 3)))
    with pytest.raises(ValueError, match="out of range"):
        fx.vmap(lambda a: a, in_axes=2)(A)


# -------------------------------------------------------------- chunk_size ---


@pytest.mark.parametrize("chunk", [1, 3, 7, 40])
def test_vmap_chunk_size_equals_unchunked(chunk):
    def f(x, p):
        return {"y": fx.tanh(p["W"] @ x), "s": fx.sum(x)}, p["b"] * 2.0

    for out_axes in (0, ({"y": 1, "s": 0}, None)):
        mapped = fx.vmap(f, in_axes=(0, None), out_axes=out_axes, chunk_size=chunk)
        whole = fx.vmap(f, in_axes=(0, None), out_axes=out_axes)
        got, want = mapped(XS, PARAMS), whole(XS, PARAMS)
        for a, b in zip(tu.tree_leaves(got), tu.tree_leaves(want)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-15, atol=1e-15)
    check_vmap(lambda x: fx.sin(x) * fx.sum(x), [np.asarray(XS)], 0)


def test_chunked_vmap_differentiates_in_both_modes():
    def f(x):
        return fx.vmap(lambda r: fx.sum(fx.sin(r) * r), chunk_size=3)(x)

    x = np.asarray(XS[:7, :4])
    check_jac(f, [x])
    # and agrees with the unchunked map's derivatives
    g = fx.jacrev(lambda x: fx.vmap(lambda r: fx.sum(fx.sin(r) * r))(x))(fx.asarray(x))
    np.testing.assert_allclose(np.asarray(fx.jacfwd(f)(fx.asarray(x))), np.asarray(g), rtol=1e-14)
    # chunked vmap under an outer vmap
    outer = fx.vmap(f)(fx.asarray(np.stack([x, 2 * x])))
    np.testing.assert_allclose(np.asarray(outer[1]), np.asarray(f(fx.asarray(2 * x))), rtol=1e-15)


def test_vmap_chunks_must_agree_in_structure():
    calls = []

    def f(x):  # a function whose output changes between calls
        calls.append(1)
        return (x, x) if len(calls) == 1 else x

    with pytest.raises(ValueError, match="different structures"):
        fx.vmap(f, chunk_size=1)(fx.asarray([[1.0], [-1.0]]))
    calls.clear()
    parts = [(x,) if i == 0 else [x] for i, x in enumerate([fx.ones((1, 2)), fx.ones((1, 2))])]
    with pytest.raises(ValueError, match="different structures"):
        fx.vmap(fx.sin)._join(parts)


def test_hessian_chunk_size():
    f = lambda x: fx.sum(fx.exp(x[:-1] * x[1:]))  # noqa: E731
    x = fx.asarray(RNG.normal(size=11))
    for c in (1, 4, 11, 50):
        np.testing.assert_allclose(
            np.asarray(fx.hessian(f, chunk_size=c)(x)), np.asarray(fx.hessian(f)(x)), rtol=1e-14
        )


# ---------------------------------------------------------------- pickling ---


def test_transformed_functions_pickle():
    fns = [
        fx.grad(loss),
        fx.value_and_grad(loss, argnums=(0, 2), has_aux=False),
        fx.vmap(fx.grad(loss), in_axes=(None, 0, 0), chunk_size=5),
        fx.jacrev(model, argnums=(0, 1), chunk_size=3),
        fx.jacfwd(model),
        fx.hessian(lambda x: fx.sum(x**3), chunk_size=2),
    ]
    for fn in fns:
        back = cloudpickle.loads(cloudpickle.dumps(fn))
        assert back.__name__ == fn.__name__ and back.__wrapped__ is not None
    args = (PARAMS, XS, YS)
    assert_identical(cloudpickle.loads(cloudpickle.dumps(fns[2]))(*args), fns[2](*args))
    assert_identical(cloudpickle.loads(cloudpickle.dumps(fns[3]))(PARAMS, X), fns[3](PARAMS, X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_tensors_pickle_as_their_raw_buffer(dtype):
    a = (RNG.normal(size=(300, 17)) * 10).astype(dtype)
    t = fx.asarray(a)
    for protocol in (2, 4, 5):
        data = pickle.dumps(t, protocol=protocol)
        # the buffer, dtype and shape: within a small constant of NumPy's own pickle
        assert len(data) <= len(pickle.dumps(a, protocol=protocol)) + 100
        back = pickle.loads(data)
        assert isinstance(back, fx.Tensor) and back.dtype == t.dtype and back.shape == t.shape
        np.testing.assert_array_equal(np.asarray(back), a)
    # protocol 5, buffers out of band (as Dask sends them): no copy on either side
    buffers = []
    data = pickle.dumps(t, protocol=5, buffer_callback=buffers.append)
    assert len(data) < 300 and len(buffers) == 1
    back = pickle.loads(data, buffers=buffers)
    raw = np.frombuffer(buffers[0].raw(), dtype=np.uint8)
    assert np.shares_memory(np.asarray(back), raw) or a.dtype == np.bool_
    np.testing.assert_array_equal(np.asarray(back), a)
    # a strided view pickles its values only
    view = t[::3, 2:9]
    assert len(pickle.dumps(view)) <= len(pickle.dumps(a[::3, 2:9])) + 100
    np.testing.assert_array_equal(np.asarray(pickle.loads(pickle.dumps(view))), a[::3, 2:9])


def test_dask_vmap_probes_one_element_when_an_empty_batch_is_refused():
    calls = []

    def f(row):
        calls.append(1)
        if len(calls) == 1:  # the zero-element probe
            raise ValueError("this function cannot take an empty batch")
        return fx.sum(row) * 2.0

    x = np.arange(12.0).reshape(4, 3)
    out = fx.vmap(f)(da.from_array(x, chunks=(2, 3)))
    assert len(calls) == 2 and out.shape == (4,)
    np.testing.assert_array_equal(out.compute(scheduler="sync"), x.sum(1) * 2)

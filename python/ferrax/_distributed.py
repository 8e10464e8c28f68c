"""Beyond one process: the chunks of ``jacrev``, ``jacfwd``, ``hessian`` and
``vmap`` evaluated as tasks of a ``concurrent.futures.Executor``
(``executor=``), and ``vmap`` over dask arrays as a lazy dask array.

This module only schedules. The Rust core plans the chunks, computes each
one (on the worker, through the same code as a local call) and assembles the
results in order, so a distributed result is bit for bit the local one. What
travels: the function and its arguments, pickled with cloudpickle (by value
for functions defined in ``__main__`` or a notebook); tensors as their raw
buffers.
"""

from __future__ import annotations

import functools
import operator
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _ferrax as _C
from . import tree_util as _tu


def _cloudpickle() -> Any:
    try:
        import cloudpickle
    except ImportError as e:  # pragma: no cover - the [distributed] extra installs it
        raise ImportError(
            "executor= ships the function to the workers with cloudpickle, which is not "
            "installed: pip install 'ferrax[distributed]' (or pip install cloudpickle)"
        ) from e
    return cloudpickle


def _check_executor(executor: Any, name: str) -> None:
    if not callable(getattr(executor, "submit", None)):
        raise TypeError(
            f"{name}: executor must be a concurrent.futures.Executor (an object with a "
            f"submit method, such as dask.distributed.Client.get_executor()), got "
            f"{type(executor).__name__}"
        )


def workers_of(executor: Any) -> int:
    """How many tasks ``executor`` runs at once: a Dask cluster's threads, a
    standard pool's ``max_workers``, else this machine's CPUs."""
    client = getattr(executor, "_client", None)  # distributed.client.ClientExecutor
    if client is not None and callable(getattr(client, "nthreads", None)):
        total = sum(client.nthreads().values())
        if total > 0:
            return int(total)
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int) and n > 0:
        return n
    return os.cpu_count() or 1


def _dumps(obj: Any, name: str) -> bytes:
    try:
        return bytes(_cloudpickle().dumps(obj))
    except TypeError as e:
        raise TypeError(
            f"{name} with executor=: the function and its arguments must be picklable, "
            f"concrete values (an executor cannot run inside another transform): {e}"
        ) from e


def _share(executor: Any, payload: bytes) -> Any:
    """The payload every task reads: on a Dask cluster, scattered to each
    worker once; on other executors, shipped with each task."""
    client = getattr(executor, "_client", None)
    if client is not None and callable(getattr(client, "scatter", None)):
        return client.scatter(payload, broadcast=True, hash=False)
    return payload


@functools.lru_cache(maxsize=4)
def _loads(payload: bytes) -> Any:
    # a worker runs several tasks of one call: unpickle their shared payload once
    return _cloudpickle().loads(payload)


def _run_all(executor: Any, task: Callable, shared: Any, items: Sequence[Any]) -> list:
    """``task(shared, item)`` for each item on the executor, results in order.
    The first failure is raised here (the worker's exception, with its
    traceback) and the tasks not yet started are cancelled."""
    futures = [executor.submit(task, shared, item) for item in items]
    try:
        return [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()
        raise


# ------------------------------------------------------------- jacobians ---


def _jacobian_task(payload: bytes, chunk: tuple[int, int, int]) -> list:
    fun, mode, argnums, has_aux, args, kwargs = _loads(payload)
    jf = _C.JacobianFunction(fun, mode, argnums, has_aux, None)
    return list(jf._chunk(tuple(chunk), *args, **kwargs))


def jacobian_on(
    executor: Any,
    jf: Any,
    fun: Callable,
    mode: str,
    argnums: Any,
    has_aux: bool,
) -> Callable:
    """``jf`` (a JacobianFunction) with its chunks evaluated on ``executor``."""
    _check_executor(executor, mode)

    def distributed(*args: Any, **kwargs: Any) -> Any:
        def run(plan: list[tuple[int, int, int]]) -> list:
            payload = _dumps((fun, mode, argnums, has_aux, args, kwargs), mode)
            return _run_all(executor, _jacobian_task, _share(executor, payload), plan)

        return jf._call_by_chunks(run, workers_of(executor), *args, **kwargs)

    return distributed


# ------------------------------------------------------------------ vmap ---


def _vmap_task(payload: bytes, item: tuple[int, tuple]) -> Any:
    fun, in_axes, out_axes, kwargs = _loads(payload)
    count, args = item
    return _C.VmapFunction(fun, in_axes, out_axes, count)(*args, **kwargs)


def vmap_on(executor: Any, vf: Any) -> Callable:
    """``vf`` (a VmapFunction) with its batch split into chunks evaluated on
    ``executor``."""
    _check_executor(executor, "vmap")

    def distributed(*args: Any, **kwargs: Any) -> Any:
        if _has_dask_array(args):
            raise ValueError(
                "vmap: dask array arguments are computed by dask's own scheduler "
                "(vmap returns a lazy dask array); executor= is for arguments in memory"
            )
        fun, in_axes, out_axes, _ = vf._spec
        payload = _dumps((fun, in_axes, out_axes, kwargs), "vmap")
        chunks = vf._split(workers_of(executor), *args)
        results = _run_all(executor, _vmap_task, _share(executor, payload), chunks)
        return vf._join(results)

    return distributed


def _is_dask_array(x: Any) -> bool:
    return type(x).__module__.startswith("dask.array")


def _has_dask_array(args: Sequence[Any]) -> bool:
    return any(_is_dask_array(leaf) for leaf in _tu.tree_leaves(list(args)))


def _vmap_block(payload: bytes, count: int, *blocks: Any) -> Any:
    """One block of a dask-array vmap, on a worker: the dask blocks put in
    their argument positions, the function mapped, the output leaves as
    NumPy arrays (a tuple of them when there are several)."""
    fun, in_axes, out_axes, kwargs, template, positions = _loads(payload)
    args = list(template)
    for pos, block in zip(positions, blocks):
        args[pos] = _C.asarray(block)
    out = _C.VmapFunction(fun, in_axes, out_axes, count)(*args, **kwargs)
    leaves = [np.asarray(leaf) for leaf in _tu.tree_leaves(out)]
    return leaves[0] if len(leaves) == 1 else tuple(leaves)


def _probe(
    fun: Callable,
    batch_axes: tuple,
    out_axes: Any,
    kwargs: dict,
    template: list,
    positions: list[int],
    arrays: list,
) -> Any:
    """The function mapped over a batch of zero elements, for the shapes,
    dtypes and structure of its output without reading any data; if it
    cannot take an empty batch, over the first element (one row read)."""

    def mapped(take: Callable[[Any], Any], size: int) -> Any:
        probe_args = list(template)
        for i, x in zip(positions, arrays):
            probe_args[i] = _C.asarray(take(x))
        return _C.VmapFunction(fun, batch_axes, out_axes, size)(*probe_args, **kwargs)

    try:
        return mapped(lambda x: np.empty((0, *x.shape[1:]), dtype=x.dtype), 0)
    except Exception:
        return mapped(lambda x: np.asarray(x[:1].compute()), 1)


def vmap_dask(vf: Any, args: tuple, kwargs: dict | None) -> Any:
    """``vf(*args, **kwargs)`` where some positional arguments are dask
    arrays: a lazy dask array (a pytree of them), one task per chunk of the
    mapped axis. Unmapped arguments are scattered once (one key of the
    graph), not once per task."""
    import dask
    import dask.array as da

    kwargs = kwargs or {}
    fun, in_axes, out_axes, chunk = vf._spec
    n = len(args)
    if isinstance(in_axes, tuple):
        if len(in_axes) != n:
            raise ValueError(
                f"vmap in_axes {in_axes!r} has {len(in_axes)} entries but the function was "
                f"called with {n} positional arguments"
            )
        axes = list(in_axes)
    elif isinstance(in_axes, int) or in_axes is None:
        axes = [in_axes] * n
    else:
        raise TypeError(
            "vmap over dask arrays takes in_axes as an int, None or a tuple with one entry "
            f"per positional argument, got {in_axes!r}"
        )
    mapped: dict[int, Any] = {}  # position -> dask array with the batch axis first
    template: list[Any] = list(args)
    for i, (a, ax) in enumerate(zip(args, axes)):
        array_like = _is_dask_array(a) or isinstance(a, (np.ndarray, _C.Tensor))
        if ax is None:
            if _is_dask_array(a):
                raise ValueError(
                    f"vmap: the dask array at position {i} has in_axes None; a dask array "
                    "argument must be mapped (compute it first to pass it whole)"
                )
            if any(_is_dask_array(leaf) for leaf in _tu.tree_leaves(a)):
                raise TypeError(
                    "vmap: dask arrays must be positional arguments themselves, not leaves "
                    f"of a container (position {i})"
                )
            continue
        if not isinstance(ax, int) or not array_like:
            raise TypeError(
                "vmap over dask arrays maps whole positional arguments: each mapped argument "
                f"must be an array with an int in_axes entry (position {i}: in_axes {ax!r}, "
                f"{type(a).__name__})"
            )
        x = a if _is_dask_array(a) else da.from_array(np.asarray(a), chunks=-1)
        if not -x.ndim <= ax < x.ndim:
            raise ValueError(
                f"vmap in_axes {ax} is out of range for an argument of shape {tuple(x.shape)}"
            )
        mapped[i] = da.moveaxis(x, ax, 0) if ax % x.ndim != 0 else x
        template[i] = None
    sizes = sorted({x.shape[0] for x in mapped.values()})
    if len(sizes) > 1:
        raise ValueError(f"vmap got inconsistent sizes for the mapped axes: {sizes}")
    # one chunking of the batch for every mapped argument: chunk_size if
    # given, else the first dask argument's; whole along the other axes
    first = next(x for i, x in mapped.items() if _is_dask_array(args[i]))
    batch_chunks = first.chunks[0] if chunk is None else chunk
    positions = sorted(mapped)
    arrays = [
        mapped[i].rechunk({0: batch_chunks, **{d: -1 for d in range(1, mapped[i].ndim)}})
        for i in positions
    ]
    counts = arrays[0].chunks[0]
    batch_axes = tuple(0 if i in mapped else axes[i] for i in range(n))

    probe = _probe(fun, batch_axes, out_axes, kwargs, template, positions, arrays)
    leaves, tree = _tu.tree_flatten(probe)
    leaf_axes = vf._leaf_out_axes(probe)

    payload = _dumps((fun, batch_axes, out_axes, kwargs, template, positions), "vmap")
    shared = dask.delayed(payload, pure=True)
    blocks = [x.to_delayed().ravel() for x in arrays]
    tasks = [
        dask.delayed(_vmap_block, pure=True)(shared, count, *[b[k] for b in blocks])
        for k, count in enumerate(counts)
    ]
    outputs = []
    for j, (leaf, ax) in enumerate(zip(leaves, leaf_axes)):
        dtype = np.dtype(str(leaf.dtype))
        values = [
            t if len(leaves) == 1 else dask.delayed(operator.getitem, pure=True)(t, j)
            for t in tasks
        ]
        if ax is None:  # does not depend on the batch: the first block's
            outputs.append(da.from_delayed(values[0], shape=tuple(leaf.shape), dtype=dtype))
            continue
        pieces = []
        for value, count in zip(values, counts):
            shape = list(leaf.shape)
            shape[ax] = count
            pieces.append(da.from_delayed(value, shape=tuple(shape), dtype=dtype))
        outputs.append(da.concatenate(pieces, axis=ax))
    return _tu.tree_unflatten(tree, outputs)

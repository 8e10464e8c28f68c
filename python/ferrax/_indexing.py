"""Indexing (``x[key]``) and functional updates (``x.at[key].set(v)``), NumPy
semantics, expressed with differentiable primitives: basic indices become one
strided view (``_slice``) and a reshape; integer arrays become one gather on a
flattened view, whose gradient is a scatter-add."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from . import _ferrax as _C

Tensor = _C.Tensor


def _as_index_array(k: Any) -> Any:
    if isinstance(k, Tensor):
        return k
    arr = np.asarray(k)
    if arr.dtype == object:
        raise IndexError(f"invalid index {k!r}")
    if arr.size == 0 and isinstance(k, (list, tuple)):
        # `x[[]]`: an empty list is an empty integer index, as in NumPy
        arr = arr.astype(np.intp)
    return arr


def _mask_mismatch(axis: int, n: int, k: int) -> IndexError:
    return IndexError(
        f"boolean index did not match indexed array along axis {axis}; size of axis is {n} "
        f"but size of corresponding boolean axis is {k}"
    )


def _normalize(x_ndim: int, key: Any) -> list:
    if not isinstance(key, tuple):
        key = (key,)
    items: list = []
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, slice):
            items.append(k)
        elif isinstance(k, (bool, np.bool_)):
            # a scalar boolean (a 0-d mask), as NumPy: a new axis of length 1 or 0
            items.append(None if k else "empty")
        elif isinstance(k, (int, np.integer)):
            items.append(int(k))
        else:
            a = _as_index_array(k)
            kind = a.dtype.kind
            if kind == "b":
                items.append(("mask", a))
            elif kind in "iu":
                if isinstance(a, np.ndarray) and a.ndim == 0:
                    items.append(int(a))
                else:
                    items.append(("array", a))
            else:
                raise IndexError(
                    "only integers, slices (`:`), ellipsis (`...`), None and integer or boolean "
                    f"arrays are valid indices, got dtype {a.dtype}"
                )
    n_ell = sum(1 for k in items if k is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(
        (k[1].ndim if isinstance(k, tuple) and k[0] == "mask" else 1)
        for k in items
        if k is not None and k is not Ellipsis and k != "empty"
    )
    if consumed > x_ndim:
        raise IndexError(
            f"too many indices for tensor: tensor is {x_ndim}-dimensional, but {consumed} were indexed"
        )
    fill = [slice(None)] * (x_ndim - consumed)
    if n_ell:
        i = items.index(Ellipsis)
        items = items[:i] + fill + items[i + 1 :]
    else:
        items = items + fill
    return items


class _Plan(NamedTuple):
    """How ``x[key]`` selects: ``x`` reshaped to ``shape`` (new axes for None and
    scalar bools), one strided slice (``starts``/``steps``/``lens``), then, for
    advanced indices, a gather along ``adv_dims`` by ``adv_arrays``."""

    shape: tuple
    starts: list
    steps: list
    lens: list
    out_dims: list
    adv_dims: list
    adv_arrays: list


def _plan(x_shape: tuple, key: Any) -> _Plan:
    items = _normalize(len(x_shape), key)
    shape = list(x_shape)
    # None (and a scalar True / False): a new axis of length 1 (0 for False)
    if any(k is None or k == "empty" for k in items):
        new_shape, pos = [], 0
        for k in items:
            if k is None or k == "empty":
                new_shape.append(1)
            else:
                n = k[1].ndim if isinstance(k, tuple) and k[0] == "mask" else 1
                new_shape.extend(shape[pos : pos + n])
                pos += n
        shape = new_shape
        items = [slice(None) if k is None else slice(0, 0) if k == "empty" else k for k in items]
    # boolean masks: their nonzero positions (needs concrete values); a mask must
    # have exactly the shape of the axes it indexes
    expanded: list = []
    dim = 0
    for k in items:
        if isinstance(k, tuple) and k[0] == "mask":
            m = k[1]
            for j, (km, n) in enumerate(zip(m.shape, shape[dim : dim + m.ndim])):
                if km != n:
                    raise _mask_mismatch(dim + j, n, km)
            if isinstance(m, Tensor):
                try:
                    m = np.asarray(m)
                except (TypeError, RuntimeError):
                    raise TypeError(
                        "boolean mask indexing has a data-dependent shape and is not supported "
                        "on traced masks (inside vmap); use fx.where(mask, x, 0) instead"
                    ) from None
            for nz in np.nonzero(m):
                expanded.append(("array", nz))
            dim += m.ndim
        else:
            expanded.append(k)
            dim += 1
    items = expanded
    has_adv = any(isinstance(k, tuple) for k in items)
    starts, steps, lens, out_dims = [], [], [], []
    adv_dims, adv_arrays = [], []
    for d, k in enumerate(items):
        n = shape[d]
        if isinstance(k, int):
            i = k + n if k < 0 else k
            if not 0 <= i < n:
                raise IndexError(f"index {k} is out of bounds for axis {d} with size {n}")
            if has_adv:
                adv_dims.append(d)
                adv_arrays.append(np.asarray(i))
                starts.append(0), steps.append(1), lens.append(n)
            else:
                starts.append(i), steps.append(1), lens.append(1)
        elif isinstance(k, slice):
            start, stop, step = k.indices(n)
            length = len(range(start, stop, step))
            starts.append(start if length else 0), steps.append(step), lens.append(length)
            out_dims.append(d)
        else:
            adv_dims.append(d)
            adv_arrays.append(k[1])
            starts.append(0), steps.append(1), lens.append(n)
    return _Plan(tuple(shape), starts, steps, lens, out_dims, adv_dims, adv_arrays)


def getitem(x: Tensor, key: Any) -> Tensor:
    p = _plan(tuple(x.shape), key)
    if p.shape != tuple(x.shape):
        x = _C.reshape(x, p.shape)
    y = _C._slice(x, p.starts, p.steps, p.lens)
    if not p.adv_dims:
        return _C.reshape(y, tuple(p.lens[d] for d in p.out_dims))
    return _advanced(y, p.lens, p.adv_dims, p.adv_arrays)


def _adv_position(adv_dims: list, ndim: int) -> int | None:
    """Where the broadcast advanced axes go in the result (NumPy's rule): in
    place of the advanced indices when those are adjacent, else first."""
    contiguous = adv_dims == list(range(adv_dims[0], adv_dims[0] + len(adv_dims)))
    return adv_dims[0] if contiguous and adv_dims[0] > 0 else None


def flat_positions(x_shape: tuple, key: Any) -> np.ndarray:
    """The flat (row-major) positions in an array of ``x_shape`` of the
    elements ``x[key]`` selects, shaped as ``x[key]``: NumPy arithmetic on the
    index plan, in memory proportional to the selection (not to ``x``)."""
    p = _plan(x_shape, key)
    strides = [math.prod(p.shape[d + 1 :]) for d in range(len(p.shape))]

    def coords(d: int) -> np.ndarray:
        return (p.starts[d] + p.steps[d] * np.arange(p.lens[d], dtype=np.int64)) * strides[d]

    def grid(dims: list) -> np.ndarray:
        g = np.zeros((1,) * len(dims), dtype=np.int64)
        for k, d in enumerate(dims):
            g = g + coords(d).reshape((-1,) + (1,) * (len(dims) - 1 - k))
        return g

    if not p.adv_dims:
        return grid(list(range(len(p.lens)))).reshape(tuple(p.lens[d] for d in p.out_dims))
    arrays = [
        _in_range(np.asarray(a), p.lens[d], d) * strides[d]
        for a, d in zip(p.adv_arrays, p.adv_dims)
    ]
    lin = sum(np.broadcast_arrays(*arrays)) if len(arrays) > 1 else arrays[0]
    rest = [d for d in range(len(p.lens)) if d not in p.adv_dims]
    pos = lin.reshape(lin.shape + (1,) * len(rest)) + grid(rest).reshape(
        (1,) * lin.ndim + tuple(p.lens[d] for d in rest)
    )
    at = _adv_position(p.adv_dims, len(p.lens))
    if at is not None:
        b = lin.ndim
        pos = pos.transpose(list(range(b, b + at)) + list(range(b)) + list(range(b + at, pos.ndim)))
    return pos


def _advanced(y: Tensor, lens: list, adv_dims: list, arrays: list) -> Tensor:
    rest = [d for d in range(len(lens)) if d not in adv_dims]
    yt = _C.transpose(y, tuple(adv_dims + rest))
    adv_sizes = [lens[d] for d in adv_dims]
    rest_shape = tuple(lens[d] for d in rest)
    flat = _C.reshape(yt, (math.prod(adv_sizes), *rest_shape))
    lin = _linear_index(arrays, adv_sizes)
    g = _C._gather(flat, lin)
    b = lin.ndim
    p = _adv_position(adv_dims, len(lens))
    if p is not None:
        perm = list(range(b, b + p)) + list(range(b)) + list(range(b + p, g.ndim))
        g = _C.transpose(g, tuple(perm))
    return g


def _linear_index(arrays: list, sizes: list) -> Tensor:
    arrays = [np.asarray(a) if isinstance(a, Tensor) and not a.is_traced else a for a in arrays]
    concrete = all(isinstance(a, np.ndarray) for a in arrays)
    if concrete:
        try:
            bs = np.broadcast_shapes(*[a.shape for a in arrays])
        except ValueError:
            raise IndexError(
                "shape mismatch: indexing arrays could not be broadcast together with shapes "
                + " ".join(str(a.shape) for a in arrays)
            ) from None
        lin = np.zeros(bs, dtype=np.int64)
        for d, (a, n) in enumerate(zip(arrays, sizes)):
            lin = lin * n + _in_range(a, n, d)
        return _C.asarray(lin)
    # traced (batched) indices: out-of-range entries map to a flat index that the
    # gather kernel rejects with IndexError, never to a neighbouring element
    lin = None
    ok = None
    for d, (a, n) in enumerate(zip(arrays, sizes)):
        a = _C.asarray(_in_range(a, n, d) if isinstance(a, np.ndarray) else a, dtype=np.int64)
        valid = (a >= -n) & (a < n)
        ok = valid if ok is None else ok & valid
        a = _C.where(a < 0, a + n, a)
        lin = a if lin is None else lin * n + a
    return _C.where(ok, lin, -(math.prod(sizes) + 1))


def _in_range(a: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Integer indices ``a`` for an axis of size ``n`` as non-negative int64, or
    IndexError for any index out of range. Bounds are checked before any cast:
    a uint64 index of 2**64 - 1 is out of range, not -1 after a wrap."""
    bad = (a >= n) if a.dtype.kind == "u" else (a < -n) | (a >= n)
    if bad.any():
        raise IndexError(f"index {a[bad].flat[0]} is out of bounds for axis {axis} with size {n}")
    a = a.astype(np.int64)
    return np.where(a < 0, a + n, a)


class _AtIndexer:
    __slots__ = ("_x",)

    def __init__(self, x: Tensor):
        self._x = x

    def __getitem__(self, key: Any) -> _AtRef:
        return _AtRef(self._x, key)


class _AtRef:
    """Functional updates of ``x`` at ``key``, all differentiable."""

    __slots__ = ("_x", "_key")

    def __init__(self, x: Tensor, key: Any):
        self._x, self._key = x, key

    def _positions(self) -> Tensor:
        """Flat positions in ``x`` of the elements ``key`` selects, shaped as ``x[key]``.

        Costs memory in proportion to the selection, not to ``x`` (see
        :func:`flat_positions`), except for traced indices under ``vmap``.
        """
        x = self._x
        key = self._key if isinstance(self._key, tuple) else (self._key,)
        if any(isinstance(k, Tensor) and k.is_traced for k in key):
            # traced (batched) indices select per example: index the positions themselves
            ids = _C.reshape(_C.arange(x.size), tuple(x.shape))
            return getitem(ids, self._key)
        pos = flat_positions(tuple(x.shape), self._key)
        return _C.asarray(np.ascontiguousarray(pos, dtype=np.int64))

    def get(self) -> Tensor:
        """``x[key]``."""
        return getitem(self._x, self._key)

    def _flat_values(self, v: Any, pos: Tensor) -> Tensor:
        v = _C.asarray(v) if not isinstance(v, Tensor) else v
        if v.dtype != self._x.dtype:
            v = v.astype(self._x.dtype)
        return _C.reshape(_C.broadcast_to(v, tuple(pos.shape)), (-1,))

    def add(self, v: Any) -> Tensor:
        """``x`` with ``v`` added at ``key`` (repeated indices accumulate)."""
        x = self._x
        pos = self._positions()
        vals = self._flat_values(v, pos)
        upd = _C._scatter_add(vals, _C.reshape(pos, (-1,)), x.size)
        return x + _C.reshape(upd, tuple(x.shape))

    def set(self, v: Any) -> Tensor:
        """``x`` with ``x[key] = v`` (the last write wins at repeated indices)."""
        x = self._x
        pos = self._positions()
        vals = self._flat_values(v, pos)
        p = _concrete(pos)
        if p is None:
            # traced (batched) indices: taken as distinct, as JAX does for scatter
            idx = _C.reshape(pos, (-1,))
        else:
            _, first_in_rev = np.unique(p[::-1], return_index=True)
            keep = np.sort(len(p) - 1 - first_in_rev)
            if len(keep) != len(p):
                vals = _C.take(vals, _C.asarray(keep))
                p = p[keep]
            idx = _C.asarray(p)
        new = _C._scatter_add(vals, idx, x.size)
        if p is None:
            # traced indices may repeat: average the writes rather than adding them
            hit = _C._scatter_add(_C.ones_like(idx), idx, x.size)
            new = new / _C.maximum(hit, 1).astype(new.dtype)
            hit = hit > 0
        else:
            # one byte per element of x (the positions are distinct here)
            hit = _C._scatter_add(_C.ones(idx.shape, dtype=np.bool_), idx, x.size)
        return _C.where(_C.reshape(hit, tuple(x.shape)), _C.reshape(new, tuple(x.shape)), x)

    def multiply(self, v: Any) -> Tensor:
        """``x`` with ``x[key] *= v`` (repeated indices multiply)."""
        x = self._x
        pos = self._positions()
        vals = self._flat_values(v, pos)
        p = _concrete(pos)
        if p is None:
            # traced (batched) indices, possibly repeated: one row of factors per
            # indexed element, multiplied together (differentiable, O(k * size))
            idx = _C.reshape(pos, (-1, 1))
            hit = idx == _C.reshape(_C.arange(x.size), (1, -1))
            rows = _C.where(hit, _C.reshape(vals, (-1, 1)), _C.ones_like(vals)[:1])
            factor = _C.prod(rows, axis=0)
            return x * _C.reshape(factor, tuple(x.shape))
        # group repeated positions by occurrence rank; each group has unique positions
        order = np.argsort(p, kind="stable")
        rank = np.empty_like(order)
        sp = p[order]
        starts = np.r_[0, np.flatnonzero(sp[1:] != sp[:-1]) + 1] if len(sp) else np.array([0])
        run_id = np.zeros(len(sp), dtype=np.int64)
        if len(sp):
            run_id[starts[1:]] = 1
            run_id = np.cumsum(run_id)
            rank[order] = np.arange(len(sp)) - starts[run_id]
        out = x
        for r in range(int(rank.max()) + 1 if len(p) else 0):
            sel = np.flatnonzero(rank == r)
            idx = _C.asarray(p[sel])
            factor = _C._scatter_add(_C.take(vals, _C.asarray(sel)) - 1, idx, x.size) + 1
            out = out * _C.reshape(factor, tuple(x.shape))
        return out


def _concrete(pos: Tensor) -> np.ndarray | None:
    """The flat positions as a NumPy array, or None when they are traced (under vmap)."""
    if pos.is_traced:
        return None
    return np.asarray(pos).reshape(-1)


def at(x: Tensor) -> _AtIndexer:
    return _AtIndexer(x)

"""Array functions composed from ferrax primitives (so they are differentiable
and batchable): products and contractions, diagonals, splitting, tiling, padding."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _ferrax as _C

Tensor = _C.Tensor


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else _C.asarray(x)


def _axis(axis: int, ndim: int) -> int:
    """Normalise an axis; out of range is NumPy's AxisError (a ValueError and IndexError)."""
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def permute_dims(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes (the array-API name of :func:`transpose`).

    >>> fx.permute_dims(fx.ones((2, 3)), (1, 0)).shape   # (3, 2)
    """
    return _C.transpose(x, axes)


def tensordot(a: Any, b: Any, axes: int | Sequence = 2) -> Tensor:
    """Sum products over the given axes of ``a`` and ``b`` (NumPy's ``tensordot``).

    >>> fx.tensordot(fx.ones((2, 3)), fx.ones((3, 4)), axes=1).shape   # (2, 4)
    """
    a, b = _t(a), _t(b)
    if isinstance(axes, int):
        if axes < 0:
            raise ValueError(f"tensordot: axes must be non-negative, got {axes}")
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, int) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, int) else list(ax_b)
    if len(ax_a) != len(ax_b):
        raise ValueError("tensordot: the two axes lists must have the same length")
    ax_a = [_axis(d, a.ndim) for d in ax_a]
    ax_b = [_axis(d, b.ndim) for d in ax_b]
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(
                f"tensordot: shape mismatch for sum: shapes {tuple(a.shape)} and {tuple(b.shape)} "
                f"(axis {i} has size {a.shape[i]}, axis {j} has size {b.shape[j]})"
            )
    free_a = [d for d in range(a.ndim) if d not in ax_a]
    free_b = [d for d in range(b.ndim) if d not in ax_b]
    k = math.prod(a.shape[d] for d in ax_a)
    fa = [a.shape[d] for d in free_a]
    fb = [b.shape[d] for d in free_b]
    a2 = _C.reshape(_C.transpose(a, tuple(free_a + ax_a)), (math.prod(fa), k))
    b2 = _C.reshape(_C.transpose(b, tuple(ax_b + free_b)), (k, math.prod(fb)))
    return _C.reshape(_C.matmul(a2, b2), tuple(fa + fb))


def dot(a: Any, b: Any) -> Tensor:
    """NumPy's ``dot``: inner product of vectors, matrix product, and sums over the
    last axis of ``a`` and the second-to-last of ``b`` for N-d arrays.

    >>> fx.dot(fx.ones(3), fx.ones(3))   # 3.0
    """
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1:
        return tensordot(a, b, axes=([a.ndim - 1], [0]))
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def vdot(a: Any, b: Any) -> Tensor:
    """Dot product of the flattened arrays.

    >>> fx.vdot(fx.ones((2, 2)), fx.ones((2, 2)))   # 4.0
    """
    a, b = _t(a), _t(b)
    if a.size != b.size:
        raise ValueError(
            f"vdot: arrays of sizes {a.size} and {b.size} (shapes {tuple(a.shape)} and {tuple(b.shape)})"
        )
    return _C.sum(_C.reshape(a, (-1,)) * _C.reshape(b, (-1,)))


def inner(a: Any, b: Any) -> Tensor:
    """Sum of products over the last axes.

    >>> fx.inner(fx.ones((2, 3)), fx.ones(3)).shape   # (2,)
    """
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(a: Any, b: Any) -> Tensor:
    """Outer product of the flattened arrays.

    >>> fx.outer(fx.ones(2), fx.ones(3)).shape   # (2, 3)
    """
    a, b = _t(a), _t(b)
    return _C.reshape(a, (-1, 1)) * _C.reshape(b, (1, -1))


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal over ``axis1``/``axis2``, appended as the last axis (NumPy's rule).

    >>> fx.diagonal(fx.eye(3))   # [1., 1., 1.]
    """
    x = _t(x)
    if x.ndim < 2:
        raise ValueError("diagonal requires an array of at least two dimensions")
    a1, a2 = _axis(axis1, x.ndim), _axis(axis2, x.ndim)
    if a1 == a2:
        raise ValueError("axis1 and axis2 cannot be the same")
    y = _C.moveaxis(x, (a1, a2), (-2, -1))
    n, m = y.shape[-2], y.shape[-1]
    rows = (
        np.arange(max(0, -offset), min(n, m - offset))
        if offset < m and -offset < n
        else np.arange(0)
    )
    idx = rows * m + rows + offset
    flat = _C.reshape(y, (*y.shape[:-2], n * m))
    return _C.take(flat, _C.asarray(idx.astype(np.int64)), axis=-1)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum of the diagonal.

    >>> fx.trace(fx.eye(3))   # 3.0
    """
    return _C.sum(diagonal(x, offset, axis1, axis2), axis=-1)


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation with explicit (``"ij,jk->ik"``) or implicit subscripts,
    evaluated as a sequence of pairwise matrix products.

    >>> fx.einsum("ij,jk->ik", fx.ones((2, 3)), fx.ones((3, 4))).shape   # (2, 4)
    """
    ops = [_t(o) for o in operands]
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise ValueError("einsum: ellipsis ('...') subscripts are not supported; name every axis")
    if "->" in spec:
        lhs, out = spec.split("->")
    else:
        lhs = spec
        letters = lhs.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = lhs.split(",")
    if len(ins) != len(ops):
        raise ValueError(f"einsum: {len(ins)} operand subscripts for {len(ops)} operands")
    sizes: dict[str, int] = {}
    for s, o in zip(ins, ops):
        if len(s) != o.ndim:
            raise ValueError(
                f"einsum: subscripts {s!r} have {len(s)} axes but the operand has shape {tuple(o.shape)}"
            )
        for c, d in zip(s, o.shape):
            if c in sizes and sizes[c] != d:
                raise ValueError(
                    f"einsum: axis {c!r} has sizes {sizes[c]} and {d} in different operands"
                )
            sizes[c] = d
    for c in out:
        if c not in sizes:
            raise ValueError(f"einsum: output subscript {c!r} does not appear in the inputs")
    terms = [(_diag_repeated(o, s)) for o, s in zip(ops, ins)]

    def needed_elsewhere(idx: int, c: str) -> bool:
        return c in out or any(c in s for j, (_, s) in enumerate(terms) if j != idx)

    # sum out indices private to one operand
    for i, (o, s) in enumerate(terms):
        private = [k for k, c in enumerate(s) if not needed_elsewhere(i, c)]
        if private:
            o = _C.sum(o, axis=tuple(private))
            s = "".join(c for k, c in enumerate(s) if k not in private)
            terms[i] = (o, s)
    while len(terms) > 1:
        (a, sa), (b, sb) = terms[0], terms[1]
        rest = terms[2:]
        keep = set(out).union(*[set(s) for _, s in rest]) if rest else set(out)
        shared = [c for c in sa if c in sb]
        batch = [c for c in shared if c in keep]
        contract = [c for c in shared if c not in keep]
        fa = [c for c in sa if c not in shared]
        fb = [c for c in sb if c not in shared]
        a2 = _C.transpose(a, tuple(sa.index(c) for c in batch + fa + contract))
        b2 = _C.transpose(b, tuple(sb.index(c) for c in batch + contract + fb))
        nb = [sizes[c] for c in batch]
        a3 = _C.reshape(
            a2, (*nb, math.prod(sizes[c] for c in fa), math.prod(sizes[c] for c in contract))
        )
        b3 = _C.reshape(
            b2, (*nb, math.prod(sizes[c] for c in contract), math.prod(sizes[c] for c in fb))
        )
        r = _C.matmul(a3, b3)
        r = _C.reshape(r, tuple(nb + [sizes[c] for c in fa] + [sizes[c] for c in fb]))
        terms = [(r, "".join(batch + fa + fb))] + rest
    r, s = terms[0]
    extra = [k for k, c in enumerate(s) if c not in out]
    if extra:
        r = _C.sum(r, axis=tuple(extra))
        s = "".join(c for c in s if c in out)
    if s != out:
        r = _C.transpose(r, tuple(s.index(c) for c in out))
    # NumPy's einsum keeps the operands' common dtype (a sum of int32 stays int32)
    dtype = np.result_type(*[o.dtype for o in ops])
    return r if r.dtype == dtype else r.astype(dtype)


def _diag_repeated(o: Tensor, s: str) -> tuple[Tensor, str]:
    """Take diagonals for letters repeated within one operand (``"ii"``)."""
    while len(set(s)) != len(s):
        c = next(c for c in s if s.count(c) > 1)
        i = s.index(c)
        j = s.index(c, i + 1)
        o = diagonal(o, 0, i, j)
        s = "".join(ch for k, ch in enumerate(s) if k not in (i, j)) + c
    return o, s


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Split into equal sections (an int) or at the given indices, along ``axis``.

    >>> [p.shape for p in fx.split(fx.ones(6), 3)]   # [(2,), (2,), (2,)]
    """
    x = _t(x)
    ax = _axis(axis, x.ndim)
    n = x.shape[ax]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"array split does not result in an equal division: {n} into {k}")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0, *[min(max(int(i), 0), n) for i in indices_or_sections], n]
    pre = (slice(None),) * ax
    return [x[(*pre, slice(lo, max(lo, hi)))] for lo, hi in zip(bounds[:-1], bounds[1:])]


def tile(x: Any, reps: int | Sequence[int]) -> Tensor:
    """Repeat the whole array ``reps`` times along each axis (NumPy's ``tile``).

    >>> fx.tile(fx.asarray([1.0, 2.0]), 2)   # [1., 2., 1., 2.]
    """
    x = _t(x)
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    d = max(len(reps), x.ndim)
    reps = (1,) * (d - len(reps)) + tuple(int(r) for r in reps)
    shape = (1,) * (d - x.ndim) + tuple(x.shape)
    inter = []
    for s in shape:
        inter += [1, s]
    big = []
    for r, s in zip(reps, shape):
        big += [r, s]
    y = _C.broadcast_to(_C.reshape(x, tuple(inter)), tuple(big))
    return _C.reshape(y, tuple(r * s for r, s in zip(reps, shape)))


def repeat(x: Any, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (NumPy's ``repeat``).

    >>> fx.repeat(fx.asarray([1.0, 2.0]), 2)   # [1., 1., 2., 2.]
    """
    x = _t(x)
    if axis is None:
        x = _C.reshape(x, (-1,))
        axis = 0
    ax = _axis(axis, x.ndim)
    n = x.shape[ax]
    if isinstance(repeats, (int, np.integer)):
        r = int(repeats)
        if r < 0:
            raise ValueError("repeat: negative repeats")
        y = _C.expand_dims(x, ax + 1)
        shape = list(y.shape)
        shape[ax + 1] = r
        y = _C.broadcast_to(y, tuple(shape))
        out = list(x.shape)
        out[ax] = n * r
        return _C.reshape(y, tuple(out))
    reps = np.asarray(repeats, dtype=np.int64)
    if reps.shape != (n,):
        raise ValueError(f"repeat: repeats has shape {reps.shape}, expected ({n},)")
    idx = np.repeat(np.arange(n), reps)
    return _C.take(x, _C.asarray(idx), axis=ax)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0) -> Tensor:
    """Pad with a constant (``mode="constant"``) or the edge values (``mode="edge"``).

    >>> fx.pad(fx.ones(2), 1)   # [0., 1., 1., 0.]
    """
    x = _t(x)
    pw = np.asarray(pad_width, dtype=np.int64)
    pw = np.broadcast_to(pw, (x.ndim, 2)) if pw.ndim <= 1 else pw
    if pw.shape != (x.ndim, 2) or (pw < 0).any():
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit an array of rank {x.ndim}")
    if mode not in ("constant", "edge"):
        raise ValueError(f"pad: mode {mode!r} is not supported (use 'constant' or 'edge')")
    for ax in range(x.ndim):
        lo, hi = int(pw[ax, 0]), int(pw[ax, 1])
        if lo == hi == 0:
            continue
        parts = []
        for width, at_start in ((lo, True), (hi, False)):
            if not width:
                parts.append(None)
                continue
            shape = list(x.shape)
            shape[ax] = width
            if mode == "constant":
                parts.append(_C.full(tuple(shape), constant_values, dtype=x.dtype))
            else:
                if x.shape[ax] == 0:
                    raise ValueError("pad: can't extend an empty axis with mode 'edge'")
                pre = (slice(None),) * ax
                edge = x[(*pre, slice(0, 1) if at_start else slice(-1, None))]
                parts.append(_C.broadcast_to(edge, tuple(shape)))
        seq = [p for p in (parts[0], x, parts[1]) if p is not None]
        x = _C.concatenate(seq, axis=ax)
    return x

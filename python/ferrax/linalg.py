"""Linear algebra: ``norm`` (solve, inv, det, slogdet and cholesky come with the linear-algebra issue)."""

from __future__ import annotations

from typing import Any

from . import _ferrax as _C

__all__ = ["norm"]


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Vector p-norms and the Frobenius norm (NumPy's ``linalg.norm``).

    ``ord=None`` gives the 2-norm of vectors and the Frobenius norm of matrices.

    >>> fx.linalg.norm(fx.asarray([3.0, 4.0]))   # 5.0
    """
    x = x if isinstance(x, _C.Tensor) else _C.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype("float64")
    if axis is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axis, int):
        axes = (axis,)
    else:
        axes = tuple(axis)
    matrix = len(axes) == 2
    if ord is None or (matrix and ord == "fro") or (not matrix and ord == 2):
        if axis is None and ord is not None and x.ndim == 2 and ord == 2:
            raise ValueError("linalg.norm: the matrix 2-norm (spectral) is not supported yet")
        return _C.sqrt(_C.sum(x * x, axis=axes, keepdims=keepdims))
    if matrix:
        raise ValueError(f"linalg.norm: matrix norm ord={ord!r} is not supported (use 'fro')")
    a = _C.abs(x)
    if ord == float("inf"):
        return _C.max(a, axis=axes, keepdims=keepdims)
    if ord == -float("inf"):
        return _C.min(a, axis=axes, keepdims=keepdims)
    if ord == 0:
        return _C.sum((x != 0).astype(x.dtype), axis=axes, keepdims=keepdims)
    if ord == 1:
        return _C.sum(a, axis=axes, keepdims=keepdims)
    p = float(ord)
    return _C.sum(a**p, axis=axes, keepdims=keepdims) ** (1.0 / p)

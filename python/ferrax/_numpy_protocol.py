"""NumPy's ``__array_ufunc__`` / ``__array_function__`` protocols: plain NumPy
code given ferrax tensors runs on ferrax (and so is differentiable). A NumPy
function without a ferrax counterpart raises ``TypeError`` naming it: never a
silently detached result."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _ferrax as _C
from . import linalg

# Every unary and binary op the core declares, under the NumPy (or SciPy) ufunc
# name that computes the same function; then the ufuncs that map onto others.
_UFUNCS: dict[str, Any] = {
    np_name: getattr(_C, name)
    for np_name, name in _C._unary_ufuncs() + _C._binary_ufuncs()
    if np_name
}
_UFUNCS.update(
    {
        name: getattr(_C, name)
        for name in (
            "equal not_equal less less_equal greater greater_equal logical_and logical_or "
            "logical_xor logical_not isnan isfinite matmul"
        ).split()
    }
)
_UFUNCS.update(
    true_divide=_C.divide,
    positive=lambda x: x,
    fabs=_C.abs,
    mod=_C.remainder,
    # fmax/fmin: a NaN loses (unlike maximum/minimum, where it wins)
    fmax=_C.fmax,
    fmin=_C.fmin,
    bitwise_and=_C.logical_and,
    bitwise_or=_C.logical_or,
    bitwise_xor=_C.logical_xor,
    invert=_C.logical_not,
)
_BOOL_ONLY = {"bitwise_and", "bitwise_or", "bitwise_xor", "invert"}
_REDUCE = {"add": _C.sum, "multiply": _C.prod, "maximum": _C.max, "minimum": _C.min}


def _unsupported(name: str) -> TypeError:
    return TypeError(
        f"numpy.{name} is not supported on ferrax tensors (it has no differentiable ferrax "
        "counterpart); use a ferrax function, or convert explicitly outside transforms"
    )


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict | None) -> Any:
    name = ufunc.__name__
    kwargs = dict(kwargs or {})
    if kwargs.get("out") is not None:
        raise TypeError(f"numpy.{name}(..., out=...): ferrax tensors are immutable")
    kwargs.pop("out", None)
    if method == "__call__":
        f = _UFUNCS.get(name)
        if f is None or kwargs:
            raise _unsupported(name if not kwargs else f"{name} with {sorted(kwargs)}")
        if name in _BOOL_ONLY and any(
            np.dtype(getattr(x, "dtype", np.asarray(x).dtype)).kind != "b" for x in inputs
        ):
            raise _unsupported(f"{name} (on non-bool arrays)")
        return f(*inputs)
    if method == "reduce" and name in _REDUCE:
        axis = kwargs.pop("axis", 0)
        keepdims = kwargs.pop("keepdims", False)
        if kwargs.get("dtype") is None:
            kwargs.pop("dtype", None)
        if kwargs:
            raise _unsupported(f"{name}.reduce with {sorted(kwargs)}")
        return _REDUCE[name](inputs[0], axis=axis, keepdims=keepdims)
    if method == "accumulate" and name == "add" and not kwargs.keys() - {"axis"}:
        return _C.cumsum(inputs[0], axis=kwargs.get("axis", 0))
    raise _unsupported(f"{name}.{method}")


def _reduction(f):
    def g(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if out is not None or kw.get("where", True) is not True or kw.get("initial") is not None:
            raise TypeError("ferrax reductions do not support out=, where= or initial=")
        # NumPy accumulates in `dtype`: convert first, not afterwards
        return f(_cast(a, dtype), axis=axis, keepdims=keepdims)

    return g


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
    if out is not None or kw.get("where", True) is not True:
        raise TypeError("ferrax reductions do not support out= or where=")
    m = _C.mean(_cast(a, dtype), axis=axis, keepdims=keepdims)
    # NumPy returns the mean in an integer `dtype` too (the quotient truncated)
    return m if dtype is None or np.dtype(dtype).kind == "f" else m.astype(dtype)


def _cast(a, dtype):
    if dtype is None:
        return a
    return (a if isinstance(a, _C.Tensor) else _C.asarray(a)).astype(dtype)


def _var(f):
    def g(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        if out is not None or kw.get("where", True) is not True:
            raise TypeError("ferrax var/std do not support out= or where=")
        return f(_cast(a, dtype), axis=axis, keepdims=keepdims, ddof=ddof)

    return g


def _arg(f):
    def g(a, axis=None, out=None, *, keepdims=False):
        if out is not None:
            raise TypeError("out= is not supported")
        return f(a, axis=axis, keepdims=keepdims)

    return g


_FUNCTIONS: dict[Any, Any] = {
    np.sum: _reduction(_C.sum),
    np.prod: _reduction(_C.prod),
    np.max: _reduction(_C.max),
    np.min: _reduction(_C.min),
    np.amax: _reduction(_C.max),
    np.amin: _reduction(_C.min),
    np.mean: _mean,
    np.var: _var(_C.var),
    np.std: _var(_C.std),
    np.argmax: _arg(_C.argmax),
    np.argmin: _arg(_C.argmin),
    np.cumsum: lambda a, axis=None, dtype=None, out=None: _C.cumsum(_cast(a, dtype), axis=axis),
    np.dot: lambda a, b, out=None: _C.dot(a, b),
    np.vdot: _C.vdot,
    np.inner: _C.inner,
    np.outer: lambda a, b, out=None: _C.outer(a, b),
    np.matmul: lambda a, b, **kw: _C.matmul(a, b),
    np.tensordot: _C.tensordot,
    np.einsum: lambda subscripts, *ops, **kw: _C.einsum(subscripts, *ops),
    np.trace: lambda a, offset=0, axis1=0, axis2=1, dtype=None, out=None: _C.trace(
        a, offset, axis1, axis2
    ),
    np.diagonal: _C.diagonal,
    np.reshape: lambda a, shape=None, order="C", **kw: (
        _C.reshape(a, shape if shape is not None else kw["newshape"])
        if order == "C"
        else _unsupported_order(order)
    ),
    np.transpose: lambda a, axes=None: _C.transpose(a, axes),
    np.swapaxes: _C.swapaxes,
    np.moveaxis: _C.moveaxis,
    np.expand_dims: _C.expand_dims,
    np.squeeze: lambda a, axis=None: _C.squeeze(a, axis),
    np.broadcast_to: lambda a, shape, subok=False: _C.broadcast_to(a, shape),
    np.concatenate: lambda arrays, axis=0, out=None, dtype=None, **kw: _cast(
        _C.concatenate(arrays, axis), dtype
    ),
    np.stack: lambda arrays, axis=0, out=None, dtype=None, **kw: _cast(
        _C.stack(arrays, axis), dtype
    ),
    np.split: _C.split,
    np.flip: lambda a, axis=None: _C.flip(a, axis),
    np.tile: _C.tile,
    np.repeat: _C.repeat,
    np.pad: lambda a, pad_width, mode="constant", **kw: _C.pad(a, pad_width, mode, **kw),
    np.array_split: _C.array_split,
    np.take: lambda a, indices, axis=None, out=None, mode=None: _C.take(a, indices, axis),
    np.take_along_axis: lambda arr, indices, axis: _C.take_along_axis(arr, indices, axis),
    np.where: lambda c, x=None, y=None: (
        _C.where(c, x, y) if x is not None else _unsupported_where()
    ),
    np.clip: lambda a, a_min=None, a_max=None, out=None, **kw: _C.clip(
        a, kw.get("min", a_min), kw.get("max", a_max)
    ),
    np.round: lambda a, decimals=0, out=None: _C.round(a, decimals),
    np.around: lambda a, decimals=0, out=None: _C.round(a, decimals),
    np.zeros_like: lambda a, dtype=None, **kw: _C.zeros_like(a, dtype),
    np.ones_like: lambda a, dtype=None, **kw: _C.ones_like(a, dtype),
    np.full_like: lambda a, fill_value, dtype=None, **kw: _C.full_like(a, fill_value, dtype),
    np.shape: lambda a: tuple(a.shape),
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    np.linalg.norm: linalg.norm,
}


def _unsupported_order(order):
    raise TypeError(f"numpy.reshape with order={order!r} is not supported on ferrax tensors")


def _unsupported_where():
    raise TypeError("numpy.where with one argument (nonzero) is not supported on ferrax tensors")


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    f = _FUNCTIONS.get(func)
    if f is None:
        raise _unsupported(getattr(func, "__name__", repr(func)))
    if kwargs.get("out") is not None:
        raise TypeError(f"numpy.{func.__name__}(..., out=...): ferrax tensors are immutable")
    kwargs = {k: v for k, v in kwargs.items() if not (k == "out" and v is None)}
    return f(*args, **kwargs)

"""NumPy's ``__array_ufunc__`` / ``__array_function__`` protocols: plain NumPy
code given ferrax tensors runs on ferrax (and so is differentiable).

A NumPy function without a ferrax counterpart runs in NumPy when no argument
is traced (as with JAX arrays: on zero-copy views of the tensors, returning
NumPy's result). On a traced value it raises ``TypeError`` naming it, never a
silently detached result, except for the functions whose result carries no
derivative (``allclose``, ``argsort``, ``unique``, ...), which read the values
of their traced arguments."""

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
            "logical_xor logical_not isnan isfinite matmul deg2rad rad2deg radians degrees "
            "heaviside copysign conjugate"
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
    # scipy.special's ufuncs of several arguments
    gammainc=_C._special_gammainc,
    gammaincc=_C._special_gammaincc,
    betainc=_C._special_betainc,
    betaln=_C._special_betaln,
)
_BOOL_ONLY = {"bitwise_and", "bitwise_or", "bitwise_xor", "invert"}
_REDUCE = {"add": _C.sum, "multiply": _C.prod, "maximum": _C.max, "minimum": _C.min}


def _unsupported(name: str) -> TypeError:
    return TypeError(
        f"numpy.{name} is not supported on traced ferrax tensors (inside grad, vjp, jvp, "
        "vmap, ...): it has no differentiable ferrax counterpart, and its NumPy result would "
        "silently drop the derivative; use ferrax functions, or call it outside the transform"
    )


class _Unsupported(Exception):
    """A form of a NumPy function (an argument, an option) ferrax does not
    implement: NumPy runs it instead, if no argument is traced."""


def _unsupported_form() -> Any:
    raise _Unsupported


# NumPy functions whose results carry no derivative: on traced values they run
# in NumPy on the values (the primal), as comparisons do.
_NO_DERIVATIVE = {
    np.allclose,
    np.array_equal,
    np.array_equiv,
    np.argpartition,
    np.lexsort,
    np.unique,
    np.nonzero,
    np.flatnonzero,
    np.argwhere,
    np.count_nonzero,
    np.digitize,
    np.isin,
    np.shares_memory,
    np.may_share_memory,
}
_NO_DERIVATIVE_UFUNCS = {"isinf", "isneginf", "isposinf", "signbit", "sign", "floor", "ceil"}


def _traced(obj: Any) -> bool:
    if isinstance(obj, _C.Tensor):
        return obj.is_traced
    if isinstance(obj, (list, tuple)):
        return any(_traced(o) for o in obj)
    if isinstance(obj, dict):
        return any(_traced(o) for o in obj.values())
    return False


def _to_numpy(obj: Any) -> Any:
    """``obj`` with every tensor in it (in lists, tuples and dicts) as a NumPy
    array: a zero-copy view of a concrete tensor, the values of a traced one."""
    if isinstance(obj, _C.Tensor):
        return np.asarray(_C._primal(obj) if obj.is_traced else obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_numpy(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_numpy(v) for k, v in obj.items()}
    return obj


def _in_numpy(name: str, f: Any, args: Any, kwargs: dict, no_derivative: bool) -> Any:
    """NumPy's ``f`` on the tensors' values, or TypeError when that would drop
    a derivative (or when the values are batched by vmap, one per example)."""
    if _traced((args, kwargs)) and not no_derivative:
        raise _unsupported(name)
    try:
        args, kwargs = _to_numpy(args), _to_numpy(kwargs)
    except RuntimeError as e:
        raise TypeError(f"numpy.{name} on a value batched by vmap: {e}") from None
    return f(*args, **kwargs)


def _writes_tensor(out: Any) -> bool:
    outs = out if isinstance(out, tuple) else (out,)
    return any(isinstance(o, _C.Tensor) for o in outs)


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict | None) -> Any:
    name = ufunc.__name__
    kwargs = dict(kwargs or {})
    if kwargs.get("out") is not None:
        if _writes_tensor(kwargs["out"]):
            raise TypeError(f"numpy.{name}(..., out=...): ferrax tensors are immutable")
        # NumPy writes the caller's array: only for values without a derivative
        return _in_numpy(name, getattr(ufunc, method), inputs, kwargs, False)
    kwargs.pop("out", None)
    if method == "__call__":
        f = _UFUNCS.get(name)
        bool_only_ok = name not in _BOOL_ONLY or all(
            np.dtype(getattr(x, "dtype", np.asarray(x).dtype)).kind == "b" for x in inputs
        )
        if f is not None and not kwargs and bool_only_ok:
            return f(*inputs)
        return _in_numpy(name, ufunc, inputs, kwargs, name in _NO_DERIVATIVE_UFUNCS)
    if method == "reduce" and name in _REDUCE:
        rkw = dict(kwargs)
        axis = rkw.pop("axis", 0)
        keepdims = rkw.pop("keepdims", False)
        if rkw.get("dtype") is None:
            rkw.pop("dtype", None)
        if not rkw:
            return _REDUCE[name](inputs[0], axis=axis, keepdims=keepdims)
    if method == "accumulate" and name == "add" and not kwargs.keys() - {"axis"}:
        return _C.cumsum(inputs[0], axis=kwargs.get("axis", 0))
    return _in_numpy(f"{name}.{method}", getattr(ufunc, method), inputs, kwargs, False)


def _reduction(f):
    def g(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if out is not None or kw.get("where", True) is not True or kw.get("initial") is not None:
            raise _Unsupported
        # NumPy accumulates in `dtype`: convert first, not afterwards
        return f(_cast(a, dtype), axis=axis, keepdims=keepdims)

    return g


def _mean_of(f):
    def g(a, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if out is not None or kw.get("where", True) is not True:
            raise _Unsupported
        m = f(_cast(a, dtype), axis=axis, keepdims=keepdims)
        # NumPy returns the mean in an integer `dtype` too (the quotient truncated)
        return m if dtype is None or np.dtype(dtype).kind == "f" else m.astype(dtype)

    return g


_mean = _mean_of(_C.mean)


def _cast(a, dtype):
    if dtype is None:
        return a
    return (a if isinstance(a, _C.Tensor) else _C.asarray(a)).astype(dtype)


def _var(f):
    def g(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kw):
        if out is not None or kw.get("where", True) is not True:
            raise _Unsupported
        return f(_cast(a, dtype), axis=axis, keepdims=keepdims, ddof=ddof)

    return g


def _arg(f):
    def g(a, axis=None, out=None, *, keepdims=False):
        if out is not None:
            raise _Unsupported
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
    np.sort: _C.sort,
    np.argsort: _C.argsort,
    np.searchsorted: _C.searchsorted,
    np.quantile: _C.quantile,
    np.percentile: _C.percentile,
    np.median: _C.median,
    np.cumprod: _C.cumprod,
    np.gradient: _C.gradient,
    np.convolve: _C.convolve,
    np.correlate: _C.correlate,
    np.interp: _C.interp,
    np.select: _C.select,
    np.trace: lambda a, offset=0, axis1=0, axis2=1, dtype=None, out=None: _C.trace(
        a, offset, axis1, axis2
    ),
    np.diagonal: _C.diagonal,
    np.reshape: lambda a, shape=None, order="C", **kw: (
        _C.reshape(a, shape if shape is not None else kw["newshape"])
        if order == "C"
        else _unsupported_form()
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
    np.where: lambda c, x=None, y=None: _C.where(c, x, y) if x is not None else _unsupported_form(),
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
    np.linalg.solve: linalg.solve,
    np.linalg.inv: linalg.inv,
    np.linalg.det: linalg.det,
    np.linalg.slogdet: linalg.slogdet,
    np.linalg.cholesky: lambda a, /, *, upper=False: linalg.cholesky(a, upper=upper),
    np.linalg.eigh: linalg.eigh,
    np.linalg.eigvalsh: linalg.eigvalsh,
    np.linalg.svd: linalg.svd,
    np.linalg.svdvals: linalg.svdvals,
    np.linalg.qr: linalg.qr,
    np.linalg.pinv: linalg.pinv,
    np.linalg.lstsq: linalg.lstsq,
    np.linalg.matrix_power: linalg.matrix_power,
    np.linalg.matrix_rank: linalg.matrix_rank,
    np.linalg.vector_norm: linalg.vector_norm,
    np.linalg.matrix_norm: linalg.matrix_norm,
    np.linalg.cond: linalg.cond,
    np.linalg.multi_dot: lambda arrays, *, out=None: linalg.multi_dot(arrays),
    np.linalg.cross: linalg.cross,
    np.linalg.tensorsolve: linalg.tensorsolve,
    np.linalg.tensorinv: linalg.tensorinv,
    np.isclose: _C.isclose,
    np.tril: _C.tril,
    np.triu: _C.triu,
    np.diag: _C.diag,
    np.diagflat: _C.diagflat,
    np.kron: _C.kron,
    np.cross: lambda a, b, axisa=-1, axisb=-1, axisc=-1, axis=None: (
        _C.cross(a, b, -1 if axis is None else axis)
        if (axisa, axisb, axisc) == (-1, -1, -1)
        else _unsupported_form()
    ),
    np.atleast_1d: _C.atleast_1d,
    np.atleast_2d: _C.atleast_2d,
    np.atleast_3d: _C.atleast_3d,
    np.vstack: lambda tup, *, dtype=None, casting="same_kind": _cast(_C.vstack(tup), dtype),
    np.hstack: lambda tup, *, dtype=None, casting="same_kind": _cast(_C.hstack(tup), dtype),
    np.dstack: _C.dstack,
    np.column_stack: _C.column_stack,
    np.hsplit: _C.hsplit,
    np.vsplit: _C.vsplit,
    np.dsplit: _C.dsplit,
    np.roll: _C.roll,
    np.rot90: _C.rot90,
    np.flipud: _C.flipud,
    np.fliplr: _C.fliplr,
    np.append: _C.append,
    np.ravel: lambda a, order="C": _C.ravel(a) if order == "C" else _unsupported_form(),
    np.diff: _C.diff,
    np.ediff1d: _C.ediff1d,
    np.polyval: _C.polyval,
    np.nansum: _reduction(_C.nansum),
    np.nanmean: _mean_of(_C.nanmean),
    np.nanmax: _reduction(_C.nanmax),
    np.nanmin: _reduction(_C.nanmin),
    np.nan_to_num: _C.nan_to_num,
    np.sinc: _C.sinc,
    np.real: _C.real,
    np.imag: _C.imag,
    np.cov: lambda m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None: (
        _cast(_C.cov(m, y, rowvar, bias, ddof), dtype)
        if fweights is None and aweights is None
        else _unsupported_form()
    ),
    np.corrcoef: lambda x, y=None, rowvar=True, *, dtype=None: _cast(
        _C.corrcoef(x, y, rowvar), dtype
    ),
    np.meshgrid: lambda *xi, copy=True, sparse=False, indexing="xy": (
        _C.meshgrid(*xi, indexing=indexing) if not sparse else _unsupported_form()
    ),
}
if hasattr(np, "trapezoid"):
    _FUNCTIONS[np.trapezoid] = _C.trapezoid


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    name = getattr(func, "__name__", repr(func))
    out = kwargs.get("out")
    if out is not None and _writes_tensor(out):
        raise TypeError(f"numpy.{name}(..., out=...): ferrax tensors are immutable")
    f = _FUNCTIONS.get(func)
    if f is not None and out is None:
        kwargs = {k: v for k, v in kwargs.items() if k != "out"}
        try:
            return f(*args, **kwargs)
        except _Unsupported:
            pass
    # np.where(cond) is nonzero: positions, no derivative
    indices_only = func is np.where and len(args) + len(kwargs) == 1
    return _in_numpy(name, func, args, kwargs, func in _NO_DERIVATIVE or indices_only)

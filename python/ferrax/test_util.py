"""Derivative checks for users' own tests, as ``jax.test_util``: the JVP
against a central finite difference along a random tangent, the VJP against
it through ``<ct, J t> = <Jᵀ ct, t>``, recursively up to ``order``.

    >>> from ferrax.test_util import check_grads
    >>> check_grads(fx.sin, (fx.asarray([0.3, 1.2]),), order=2)
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

from functools import partial as _partial

import numpy as _np

from . import _ferrax as _C
from . import tree_util as _tu
from ._transforms import jvp as _jvp
from ._transforms import linearize as _linearize
from ._transforms import vjp as _vjp

__all__ = ["check_grads", "check_jvp", "check_vjp"]

_EPS = 1e-4
# JAX's default gradient tolerances
_TOLERANCE = {_np.dtype(_np.float32): 2e-3, _np.dtype(_np.float64): 1e-5}


def _dtype(x: Any) -> _np.dtype:
    return _np.dtype(getattr(x, "dtype", None) or _np.asarray(x).dtype)


def _tol(tol: float | dict | None, dtype: _np.dtype) -> float:
    if isinstance(tol, dict):
        return {_np.dtype(k): v for k, v in tol.items()}.get(dtype, _TOLERANCE.get(dtype, 1e-5))
    return _TOLERANCE.get(dtype, 1e-5) if tol is None else tol


def _rand_like(rng: _np.random.RandomState, x: Any) -> Any:
    a = _np.asarray(x)
    return _C.asarray(_np.asarray(rng.randn(*a.shape), dtype=a.dtype))


def _close(xs: Any, ys: Any, atol: Any, rtol: Any, err_msg: str) -> None:
    for x, y in zip(_tu.tree_leaves(xs), _tu.tree_leaves(ys), strict=True):
        x, y = _np.asarray(x), _np.asarray(y)
        dt = _dtype(x)
        _np.testing.assert_allclose(x, y, atol=_tol(atol, dt), rtol=_tol(rtol, dt), err_msg=err_msg)


def _numerical_jvp(f: Callable, primals: tuple, tangents: tuple, eps: float) -> Any:
    """``(f(x + eps t) - f(x - eps t)) / 2 eps``, computed by ferrax."""
    plus = _tu.tree_map(lambda p, t: _C.add(p, _C.multiply(t, eps)), primals, tangents)
    minus = _tu.tree_map(lambda p, t: _C.subtract(p, _C.multiply(t, eps)), primals, tangents)
    return _tu.tree_map(lambda a, b: _C.multiply(_C.subtract(a, b), 0.5 / eps), f(*plus), f(*minus))


def _inner(xs: Any, ys: Any) -> _np.ndarray:
    """``<xs, ys>`` summed over the leaves, in the least precise of their
    dtypes (so the tolerance is that dtype's, as JAX's)."""
    pairs = list(zip(_tu.tree_leaves(xs), _tu.tree_leaves(ys), strict=True))
    total = sum(
        _np.dot(_np.asarray(x, _np.float64).ravel(), _np.asarray(y, _np.float64).ravel())
        for x, y in pairs
    )
    dtypes = [_dtype(v) for pair in pairs for v in pair]
    return _np.asarray(total, _np.float32 if _np.dtype(_np.float32) in dtypes else _np.float64)


def check_jvp(
    f: Callable,
    f_jvp: Callable,
    args: Sequence[Any],
    atol: Any = None,
    rtol: Any = None,
    eps: float = _EPS,
    err_msg: str = "",
) -> None:
    """Check ``f_jvp(args, tangents)`` (``partial(fx.jvp, f)``) against a
    central difference of ``f`` along a random tangent.

    >>> check_jvp(fx.exp, partial(fx.jvp, fx.exp), (fx.asarray(0.5),))
    """
    args = tuple(args)
    tangent = _tu.tree_map(_partial(_rand_like, _np.random.RandomState(0)), args)
    v_out, t_out = f_jvp(args, tangent)
    _close(v_out, f(*args), atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    expected = _numerical_jvp(f, args, tangent, eps)
    _close(t_out, expected, atol, rtol, f"{err_msg} tangent" if err_msg else "tangent")


def check_vjp(
    f: Callable,
    f_vjp: Callable,
    args: Sequence[Any],
    atol: Any = None,
    rtol: Any = None,
    eps: float = _EPS,
    err_msg: str = "",
) -> None:
    """Check ``f_vjp(*args)`` (``partial(fx.vjp, f)``) through the identity
    ``<ct, J t> = <Jᵀ ct, t>``, ``J t`` by central differences.

    >>> check_vjp(fx.exp, partial(fx.vjp, fx.exp), (fx.asarray(0.5),))
    """
    args = tuple(args)
    rng = _np.random.RandomState(0)
    v_out, vjp_fn = f_vjp(*args)
    _close(v_out, f(*args), atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    tangent = _tu.tree_map(_partial(_rand_like, rng), args)
    tangent_out = _numerical_jvp(f, args, tangent, eps)
    cotangent = _tu.tree_map(_partial(_rand_like, rng), v_out)
    cotangent_out = vjp_fn(cotangent)
    what = f"{err_msg} cotangent projection" if err_msg else "cotangent projection"
    _close(_inner(tangent, cotangent_out), _inner(tangent_out, cotangent), atol, rtol, what)


def _jvp_from_lin(f: Callable, primals: tuple, tangents: tuple) -> tuple:
    out, f_lin = _linearize(f, *primals)
    return out, f_lin(*tangents)


def check_grads(
    f: Callable,
    args: Sequence[Any],
    order: int,
    modes: Sequence[str] = ("fwd", "rev"),
    atol: Any = None,
    rtol: Any = None,
    eps: float | None = None,
) -> None:
    """Check the derivatives of ``f`` at ``args`` up to ``order``, in forward
    mode (``"fwd"``), reverse mode (``"rev"``) and through ``linearize``
    (``"lin"``), against finite differences along random directions (JAX's
    ``jax.test_util.check_grads``). Raises ``AssertionError`` on a mismatch.

    >>> check_grads(lambda x: fx.sum(fx.tanh(x) ** 2), (fx.asarray([0.1, 0.7]),), order=2)
    """
    args = tuple(args)
    eps = eps or _EPS
    unknown = set(modes) - {"fwd", "rev", "lin"}
    if unknown:
        raise ValueError(f"check_grads: unknown modes {sorted(unknown)}; use 'fwd', 'rev', 'lin'")

    def rec(f: Callable, args: tuple, order: int, err_msg: str = "") -> None:
        if "fwd" in modes:
            msg = f"JVP of {err_msg}" if err_msg else "JVP"
            check_jvp(f, _partial(_jvp, f), args, atol, rtol, eps, msg)
            if order > 1:
                rec(_partial(_jvp, f), (args, args), order - 1, msg)
        if "rev" in modes:
            msg = f"VJP of {err_msg}" if err_msg else "VJP"
            check_vjp(f, _partial(_vjp, f), args, atol, rtol, eps, msg)
            if order > 1:

                def f_vjp(*a: Any) -> Any:
                    out, pullback = _vjp(f, *a)
                    return pullback(out)

                rec(f_vjp, args, order - 1, msg)
        if "lin" in modes:
            msg = f"LIN of {err_msg}" if err_msg else "LIN"
            check_jvp(f, _partial(_jvp_from_lin, f), args, atol, rtol, eps, msg)
            if order > 1:
                rec(_partial(_jvp_from_lin, f), (args, args), order - 1, msg)

    rec(f, args, order)


# The namespace is the API: drop what only the code above needed.
del annotations

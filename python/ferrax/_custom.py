"""Custom derivative rules and rematerialisation: ``custom_vjp``,
``custom_jvp``, ``checkpoint`` (``remat``). The rules run in the Rust core
(``transforms/custom_vjp.rs``); this module binds keyword arguments to
positions and gives the decorators their Python shape."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from . import _ferrax as _C
from . import tree_util


def _positional(fun: Callable, args: tuple, kwargs: dict) -> tuple:
    """``args`` and ``kwargs`` as positional arguments of ``fun``."""
    if not kwargs:
        return args
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{getattr(fun, '__name__', fun)}: {e}") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(
            f"{getattr(fun, '__name__', fun)}: keyword-only arguments "
            f"({', '.join(bound.kwargs)}) cannot be differentiated by a custom rule; "
            "make them positional"
        )
    return bound.args


def _argnums(nums: int | Sequence[int], name: str) -> tuple[int, ...]:
    nums = (nums,) if isinstance(nums, int) else tuple(nums)
    for n in nums:
        if not isinstance(n, int) or n < 0:
            raise TypeError(f"{name} must be non-negative ints, got {n!r}")
    return nums


class custom_vjp:  # noqa: N801 (JAX's name)
    """A function with a user-defined reverse-mode derivative, as JAX's
    ``jax.custom_vjp``: define it with ``f.defvjp(fwd, bwd)``, where
    ``fwd(*args)`` returns ``(output, residuals)`` and
    ``bwd(*nondiff_args, residuals, cotangent)`` returns a tuple with one
    cotangent per differentiated argument (``None`` for a zero). Works under
    ``grad``, ``vjp``, ``jacrev`` and ``vmap`` (the rules are batched by
    ``vmap``-ing them), nested to any order; forward mode raises
    ``TypeError``, as in JAX. Everything differentiated must be passed as
    an argument (not closed over).

    >>> @fx.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (fx.clip(g, -1.0, 1.0),))
    >>> fx.grad(lambda x: 3.0 * clip_gradient(x))(2.0)   # 1.0, not 3.0
    Tensor(1.)
    """

    def __init__(self, fun: Callable, nondiff_argnums: int | Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = _argnums(nondiff_argnums, "nondiff_argnums")
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable, symbolic_zeros: bool = False) -> None:
        """Set the forward function ``fwd(*args) -> (out, residuals)`` and the
        backward function ``bwd(*nondiff_args, residuals, g) -> cotangents``.

        >>> f = fx.custom_vjp(lambda x: 2.0 * x)
        >>> f.defvjp(lambda x: (2.0 * x, None), lambda res, g: (10.0 * g,))
        >>> fx.grad(f)(1.0)   # the rule's 10, not 2
        Tensor(10.)
        """
        if symbolic_zeros:
            raise NotImplementedError("custom_vjp: symbolic_zeros is not supported")
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fwd is None or self.bwd is None:
            raise AttributeError(
                f"No VJP defined for custom_vjp function {self.fun.__name__} using defvjp."
            )
        args = _positional(self.fun, args, kwargs)
        return _C._custom_vjp_call(self.fun, self.fwd, self.bwd, list(self.nondiff_argnums), args)


def checkpoint(
    fun: Callable | None = None,
    *,
    prevent_cse: bool = True,
    policy: Callable | None = None,
    static_argnums: int | Sequence[int] = (),
) -> Any:
    """Rematerialisation (JAX's ``jax.checkpoint``): under reverse mode,
    ``fun``'s intermediates are not kept; only its inputs are, and the
    backward pass runs ``fun`` again to differentiate it. Trades compute for
    memory: checkpoint each layer of a deep network and the tape holds one
    activation per layer. ``prevent_cse`` is accepted (ferrax does no common
    subexpression elimination); a ``policy`` other than None raises
    ``NotImplementedError``. Arguments at ``static_argnums`` are passed as
    they are (not differentiated). Everything differentiated must be passed
    as an argument (not closed over).

    >>> layer = fx.checkpoint(lambda w, x: fx.tanh(w @ x))
    >>> fx.grad(lambda w, x: fx.sum(layer(w, layer(w, x))))(fx.eye(3), fx.ones(3))
    Tensor([[0.69454575, 0.69454575, 0.69454575],
            [0.69454575, 0.69454575, 0.69454575],
            [0.69454575, 0.69454575, 0.69454575]])
    """
    del prevent_cse
    if policy is not None:
        raise NotImplementedError("checkpoint: policies are not supported (only policy=None)")
    statics = _argnums(static_argnums, "static_argnums")
    if fun is None:
        return functools.partial(checkpoint, static_argnums=statics)

    def remat_fun(*args: Any, **kwargs: Any) -> Any:
        return _C._checkpoint_call(fun, list(statics), _positional(fun, args, kwargs))

    return functools.update_wrapper(remat_fun, fun)


remat = checkpoint


class custom_jvp:  # noqa: N801 (JAX's name)
    """A function with a user-defined forward-mode derivative, as JAX's
    ``jax.custom_jvp``: ``f.defjvp(rule)`` with
    ``rule(*nondiff_args, primals, tangents) -> (primal_out, tangent_out)``
    (``primals``/``tangents``: tuples of the differentiated arguments), or
    ``f.defjvps(*tangent_fns)`` with one ``fn(g, ans, *args)`` per argument
    (``None``: no dependence). Reverse mode uses the rule too: its transpose
    (the rule must be linear in the tangents), so one rule serves ``grad``,
    ``jacrev``, ``jvp``, ``hessian``; ``vmap`` batches it.

    >>> @fx.custom_jvp
    ... def safe_log1pexp(x):
    ...     return fx.log1p(fx.exp(x))
    >>> safe_log1pexp.defjvps(lambda g, ans, x: g * fx.sigmoid(x))
    >>> fx.grad(safe_log1pexp)(100.0)   # 1.0, not nan
    Tensor(1.)
    """

    def __init__(self, fun: Callable, nondiff_argnums: int | Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = _argnums(nondiff_argnums, "nondiff_argnums")
        self.jvp: Callable | None = None

    def defjvp(self, jvp: Callable, symbolic_zeros: bool = False) -> Callable:
        """Set the rule ``jvp(*nondiff_args, primals, tangents) -> (out, t_out)``.

        >>> f = fx.custom_jvp(lambda x: x ** 2)
        >>> @f.defjvp
        ... def f_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return x ** 2, 2.0 * x * t
        >>> fx.jvp(f, (fx.asarray(3.0),), (fx.asarray(1.0),))
        (Tensor(9.), Tensor(6.))
        """
        if symbolic_zeros:
            raise NotImplementedError("custom_jvp: symbolic_zeros is not supported")
        self.jvp = jvp
        return jvp

    def defjvps(self, *tangent_fns: Callable | None) -> None:
        """One ``fn(g, ans, *args)`` per differentiated argument (``None``: no
        contribution); the output tangent is their sum.

        >>> f = fx.custom_jvp(lambda x, y: x * y)
        >>> f.defjvps(lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x)
        >>> fx.grad(f, argnums=(0, 1))(2.0, 3.0)
        (Tensor(3.), Tensor(2.))
        """
        nondiff = self.nondiff_argnums
        fun = self.fun

        def rule(*args: Any) -> tuple:
            fixed, (primals, tangents) = args[:-2], args[-2:]
            if len(tangent_fns) != len(primals):
                raise TypeError(
                    f"custom_jvp: defjvps got {len(tangent_fns)} tangent functions for "
                    f"{len(primals)} differentiated arguments"
                )
            full = _merge(nondiff, fixed, primals)
            ans = fun(*full)
            out = None
            for fn, t in zip(tangent_fns, tangents, strict=True):
                if fn is None:
                    continue
                term = fn(t, ans, *full)
                out = term if out is None else tree_util.tree_map(_C.add, out, term)
            if out is None:
                out = tree_util.tree_map(_C.zeros_like, ans)
            return ans, out

        self.jvp = rule

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.jvp is None:
            raise AttributeError(
                f"No JVP defined for custom_jvp function {self.fun.__name__} using defjvp."
            )
        args = _positional(self.fun, args, kwargs)
        return _C._custom_jvp_call(self.fun, self.jvp, list(self.nondiff_argnums), args)


def _merge(nondiff: tuple[int, ...], fixed: tuple, primals: tuple) -> list:
    """The full positional arguments from the non-differentiated ones (at
    their positions) and the differentiated ones (in order)."""
    full: list = []
    fixed_it, primal_it = iter(fixed), iter(primals)
    for i in range(len(fixed) + len(primals)):
        full.append(next(fixed_it) if i in nondiff else next(primal_it))
    return full

"""``scipy.stats`` distributions as ``jax.scipy.stats`` has them, computed by
the Rust core: every method differentiable in every argument (the point, the
location, the scale and the shape parameters) and batchable by ``vmap``.

Each distribution is a namespace of functions (``norm.logpdf(x, loc=0,
scale=1)``...), with the methods JAX gives it:

=======================  ====================================================
``norm``, ``cauchy``     logpdf pdf cdf logcdf sf logsf ppf isf
``multivariate_normal``  logpdf pdf (``x``, ``mean``, ``cov``)
``t``                    logpdf pdf (``x``, ``df``, ``loc``, ``scale``)
``laplace``              logpdf pdf cdf
``logistic``             logpdf pdf cdf sf ppf isf
``expon``                logpdf pdf cdf logcdf sf logsf ppf
``gamma``                logpdf pdf cdf logcdf sf logsf (``x``, ``a``, ...)
``beta``                 logpdf pdf cdf logcdf sf logsf (``x``, ``a``, ``b``, ...)
``dirichlet``            logpdf pdf (``x`` with the components on axis 0, ``alpha``)
``uniform``              logpdf pdf cdf ppf
``poisson``              logpmf pmf cdf entropy (``k``, ``mu``, ``loc``)
``bernoulli``            logpmf pmf cdf ppf (``k``, ``p``, ``loc``)
``binom``                logpmf pmf (``k``, ``n``, ``p``, ``loc``)
=======================  ====================================================

    >>> import ferrax as fx
    >>> from ferrax.scipy.stats import norm
    >>> fx.grad(lambda mu: norm.logpdf(1.5, loc=mu).sum())(0.5)
    Tensor(1.)
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
    from types import SimpleNamespace
    from typing import Any

import inspect as _inspect
from types import SimpleNamespace as _SimpleNamespace

from .. import _ferrax as _C

_WHAT = {
    "logpdf": "log probability density",
    "pdf": "probability density",
    "logpmf": "log probability mass",
    "pmf": "probability mass",
    "cdf": "cumulative distribution function",
    "logcdf": "log of the cumulative distribution function",
    "sf": "survival function (1 - cdf)",
    "logsf": "log of the survival function",
    "ppf": "percent point function (the inverse of the cdf)",
    "isf": "inverse survival function",
    "entropy": "entropy",
}


# the docstrings' example arguments (any valid point will do)
_EXAMPLE = {
    "x": "0.5",
    "q": "0.25",
    "k": "1",
    "df": "3.0",
    "a": "2.0",
    "b": "3.0",
    "mu": "2.0",
    "p": "0.3",
    "n": "5",
    ("multivariate_normal", "x"): "fx.asarray([0.5, -0.5])",
    ("multivariate_normal", "mean"): "fx.zeros(2)",
    ("multivariate_normal", "cov"): "fx.eye(2)",
    ("dirichlet", "x"): "fx.asarray([0.2, 0.3, 0.5])",
    ("dirichlet", "alpha"): "fx.asarray([1.0, 2.0, 3.0])",
}


def _method(dist: str, method: str, arguments: list[tuple[str, float | None]]) -> Any:
    names = [a for a, _ in arguments]
    if method in ("ppf", "isf"):
        names[0] = "q"
    if method == "entropy":  # of the parameters alone
        names, arguments = names[1:], arguments[1:]
    params = [
        _inspect.Parameter(
            n,
            _inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=_inspect.Parameter.empty if d is None else (int(d) if d == int(d) else d),
        )
        for n, (_, d) in zip(names, arguments)
    ]
    if dist == "multivariate_normal":
        params.append(
            _inspect.Parameter("allow_singular", _inspect.Parameter.KEYWORD_ONLY, default=None)
        )
    sig = _inspect.Signature(params)

    def f(*args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)
        if values.pop("allow_singular", None) is not None:
            raise NotImplementedError(
                "multivariate_normal: allow_singular is not supported (as in JAX)"
            )
        return _C._stats(dist, method, list(values.values()))

    f.__name__ = f.__qualname__ = method
    f.__signature__ = sig  # type: ignore[attr-defined]
    first = names[0]
    f.__doc__ = (
        f"The {_WHAT[method]} of ``scipy.stats.{dist}``"
        + ("" if method == "entropy" else f" at ``{first}``")
        + ", differentiable in "
        f"every argument.\n\n    >>> fx.scipy.stats.{dist}.{method}"
        f"({', '.join(_EXAMPLE.get((dist, n), _EXAMPLE.get(n, n)) for n, (_, d) in zip(names, arguments) if d is None)})\n"
    )
    return f


def _namespace(dist: str, arguments: list, methods: list[str]) -> SimpleNamespace:
    ns = _SimpleNamespace(**{m: _method(dist, m, arguments) for m in methods})
    ns.__doc__ = f"``scipy.stats.{dist}``: {', '.join(methods)}."
    return ns


_TABLE = _C._stats_table()
globals().update({name: _namespace(name, args, methods) for name, args, methods in _TABLE})

__all__ = [name for name, _, _ in _TABLE]

# The namespace is the API: drop what only the code above needed.
del annotations

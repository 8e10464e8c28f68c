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


# the docstrings' example outputs (a method not listed shows none, which the
# strict doctest of the docs reports)
_EXAMPLE_OUTPUT = {
    ("norm", "logpdf"): "Tensor(-1.04393853)",
    ("norm", "pdf"): "Tensor(0.35206533)",
    ("norm", "cdf"): "Tensor(0.69146246)",
    ("norm", "logcdf"): "Tensor(-0.36894642)",
    ("norm", "sf"): "Tensor(0.30853754)",
    ("norm", "logsf"): "Tensor(-1.17591176)",
    ("norm", "ppf"): "Tensor(-0.67448975)",
    ("norm", "isf"): "Tensor(0.67448975)",
    ("multivariate_normal", "logpdf"): "Tensor(-2.08787707)",
    ("multivariate_normal", "pdf"): "Tensor(0.12394999)",
    ("t", "logpdf"): "Tensor(-1.16097426)",
    ("t", "pdf"): "Tensor(0.31318091)",
    ("cauchy", "logpdf"): "Tensor(-1.36787344)",
    ("cauchy", "pdf"): "Tensor(0.25464791)",
    ("cauchy", "cdf"): "Tensor(0.64758362)",
    ("cauchy", "logcdf"): "Tensor(-0.43450735)",
    ("cauchy", "sf"): "Tensor(0.35241638)",
    ("cauchy", "logsf"): "Tensor(-1.0429419)",
    ("cauchy", "ppf"): "Tensor(-1.)",
    ("cauchy", "isf"): "Tensor(1.)",
    ("laplace", "logpdf"): "Tensor(-1.19314718)",
    ("laplace", "pdf"): "Tensor(0.30326533)",
    ("laplace", "cdf"): "Tensor(0.69673467)",
    ("logistic", "logpdf"): "Tensor(-1.44815397)",
    ("logistic", "pdf"): "Tensor(0.23500371)",
    ("logistic", "cdf"): "Tensor(0.62245933)",
    ("logistic", "sf"): "Tensor(0.37754067)",
    ("logistic", "ppf"): "Tensor(-1.09861229)",
    ("logistic", "isf"): "Tensor(1.09861229)",
    ("expon", "logpdf"): "Tensor(-0.5)",
    ("expon", "pdf"): "Tensor(0.60653066)",
    ("expon", "cdf"): "Tensor(0.39346934)",
    ("expon", "logcdf"): "Tensor(-0.93275213)",
    ("expon", "sf"): "Tensor(0.60653066)",
    ("expon", "logsf"): "Tensor(-0.5)",
    ("expon", "ppf"): "Tensor(0.28768207)",
    ("gamma", "logpdf"): "Tensor(-1.19314718)",
    ("gamma", "pdf"): "Tensor(0.30326533)",
    ("gamma", "cdf"): "Tensor(0.09020401)",
    ("gamma", "logcdf"): "Tensor(-2.40568139)",
    ("gamma", "sf"): "Tensor(0.90979599)",
    ("gamma", "logsf"): "Tensor(-0.09453489)",
    ("beta", "logpdf"): "Tensor(0.40546511)",
    ("beta", "pdf"): "Tensor(1.5)",
    ("beta", "cdf"): "Tensor(0.6875)",
    ("beta", "logcdf"): "Tensor(-0.37469345)",
    ("beta", "sf"): "Tensor(0.3125)",
    ("beta", "logsf"): "Tensor(-1.16315081)",
    ("dirichlet", "logpdf"): "Tensor(1.5040774)",
    ("dirichlet", "pdf"): "Tensor(4.5)",
    ("uniform", "logpdf"): "Tensor(0.)",
    ("uniform", "pdf"): "Tensor(1.)",
    ("uniform", "cdf"): "Tensor(0.5)",
    ("uniform", "ppf"): "Tensor(0.25)",
    ("poisson", "logpmf"): "Tensor(-1.30685282)",
    ("poisson", "pmf"): "Tensor(0.27067057)",
    ("poisson", "cdf"): "Tensor(0.40600585)",
    ("poisson", "entropy"): "Tensor(1.70488264)",
    ("bernoulli", "logpmf"): "Tensor(-1.2039728)",
    ("bernoulli", "pmf"): "Tensor(0.3)",
    ("bernoulli", "cdf"): "Tensor(1.)",
    ("bernoulli", "ppf"): "Tensor(0.)",
    ("binom", "logpmf"): "Tensor(-1.02123467)",
    ("binom", "pmf"): "Tensor(0.36015)",
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
        + (f"    {_EXAMPLE_OUTPUT[dist, method]}\n" if (dist, method) in _EXAMPLE_OUTPUT else "")
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

"""JAX's explicit-key random numbers (``jax.random``), computed by the Rust
core with the same Threefry-2x32 generator in JAX's default (partitionable)
layout: the same key gives the same bits as JAX, and in float32 the same
``uniform`` numbers (``normal`` and the others agree to rounding).

A key is an int64 array ``[hi, lo]`` of two 32-bit words (what JAX prints
for ``jax.random.PRNGKey``). The default float dtype is float64, as
everywhere in ferrax; pass ``dtype=fx.float32`` to draw what JAX's default
32-bit mode draws. Draws are batched by ``vmap`` over keys.

    >>> key = fx.random.key(0)
    >>> k1, k2 = fx.random.split(key)
    >>> fx.random.normal(k1, (3,)).shape
    (3,)
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


import numpy as _np

from . import _ferrax as _C

__all__ = [
    "PRNGKey",
    "bernoulli",
    "bits",
    "categorical",
    "choice",
    "fold_in",
    "gumbel",
    "key",
    "key_data",
    "normal",
    "permutation",
    "randint",
    "split",
    "truncated_normal",
    "uniform",
]

_F64 = _np.dtype("float64")
_I64 = _np.dtype("int64")


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, (int, _np.integer)) else tuple(shape)


def key(seed: int) -> Any:
    """A key from an integer seed (JAX's ``PRNGKey``: ``[0, seed]`` for seeds
    in the int32 range).

    >>> fx.random.key(42)
    Tensor([ 0, 42])
    """
    return _C._random_key(int(seed))


PRNGKey = key


def key_data(keys: Any) -> Any:
    """The words of a key (ferrax's keys are their words already).

    >>> fx.random.key_data(fx.random.key(1))
    Tensor([0, 1])
    """
    return keys


def split(key: Any, num: int | Sequence[int] = 2) -> Any:
    """``num`` new keys (a shape gives that many, shaped), as JAX's ``split``.

    >>> k1, k2 = fx.random.split(fx.random.key(0))
    """
    return _C._random_split(key, _shape(num))


def fold_in(key: Any, data: int) -> Any:
    """A new key from ``key`` and an integer.

    >>> fx.random.fold_in(fx.random.key(0), 7)
    Tensor([2716826189,  292468403])
    """
    return _C._random_fold_in(key, int(data))


def bits(key: Any, shape: Sequence[int] = (), dtype: Any = None) -> Any:
    """32 random bits per element (as int64 values in ``[0, 2**32)``).

    >>> fx.random.bits(fx.random.key(0), (4,))
    Tensor([4070199207, 4202968722, 1427181096, 2012915765])
    """
    if dtype is not None and _np.dtype(dtype) not in (_np.dtype("uint32"), _np.dtype("int64")):
        raise TypeError("bits: only 32-bit draws are supported (dtype uint32, held as int64)")
    return _C._random_bits(key, _shape(shape))


def uniform(
    key: Any, shape: Sequence[int] = (), dtype: Any = _F64, minval: Any = 0.0, maxval: Any = 1.0
) -> Any:
    """Uniform on ``[minval, maxval)``.

    >>> fx.random.uniform(fx.random.key(0), (3,), fx.float32).dtype
    dtype('float32')
    """
    return _C._random_uniform(key, _shape(shape), dtype, minval, maxval)


def normal(key: Any, shape: Sequence[int] = (), dtype: Any = _F64) -> Any:
    """Standard normal samples (``√2 erfinv(u)``, as JAX).

    >>> fx.random.normal(fx.random.key(0), (3,)).shape
    (3,)
    """
    return _C._random_normal(key, _shape(shape), dtype)


def truncated_normal(
    key: Any, lower: Any, upper: Any, shape: Sequence[int] | None = None, dtype: Any = _F64
) -> Any:
    """Standard normal samples truncated to ``[lower, upper]``.

    >>> fx.random.truncated_normal(fx.random.key(0), -1.0, 1.0, (3,)).shape
    (3,)
    """
    if shape is None:
        shape = _np.broadcast_shapes(_np.shape(lower), _np.shape(upper))
    return _C._random_truncated_normal(key, lower, upper, _shape(shape), dtype)


def bernoulli(key: Any, p: Any = 0.5, shape: Sequence[int] | None = None) -> Any:
    """Booleans, true with probability ``p``.

    >>> fx.random.bernoulli(fx.random.key(0), 0.3, (5,))
    Tensor([False, False, False, False, False])
    """
    if shape is None:
        shape = _np.shape(p)
    return _C._random_bernoulli(key, p, _shape(shape))


def gumbel(key: Any, shape: Sequence[int] = (), dtype: Any = _F64) -> Any:
    """Standard Gumbel samples.

    >>> fx.random.gumbel(fx.random.key(0), (3,)).shape
    (3,)
    """
    return _C._random_gumbel(key, _shape(shape), dtype)


def categorical(key: Any, logits: Any, axis: int = -1, shape: Sequence[int] | None = None) -> Any:
    """Indices drawn with probabilities ``softmax(logits)`` along ``axis``
    (the Gumbel-max trick, as JAX).

    >>> fx.random.categorical(fx.random.key(0), fx.log(fx.asarray([0.2, 0.8])), shape=(5,))
    Tensor([1, 0, 1, 1, 1])
    """
    return _C._random_categorical(key, logits, axis, None if shape is None else _shape(shape))


def randint(key: Any, shape: Sequence[int], minval: int, maxval: int, dtype: Any = _I64) -> Any:
    """Integers uniform on ``[minval, maxval)`` (JAX's algorithm and bits).

    >>> fx.random.randint(fx.random.key(0), (4,), 0, 10)
    Tensor([9, 0, 2, 3])
    """
    return _C._random_randint(key, _shape(shape), int(minval), int(maxval), dtype)


def permutation(key: Any, x: Any, axis: int = 0, independent: bool = False) -> Any:
    """A random permutation of ``range(x)`` (an int), or of ``x`` along ``axis``.

    >>> fx.random.permutation(fx.random.key(0), 5)
    Tensor([0, 1, 4, 3, 2])
    """
    if independent:
        raise NotImplementedError("permutation: independent=True is not supported")
    if isinstance(x, (int, _np.integer)):
        return _C._random_permutation(key, int(x))
    x = _C.asarray(x)
    if x.ndim == 0:
        raise TypeError("permutation: x must be an int or an array with at least one axis")
    idx = _C._random_permutation(key, x.shape[axis])
    return _C.take(x, idx, axis=axis)


def choice(
    key: Any,
    a: Any,
    shape: Sequence[int] = (),
    replace: bool = True,
    p: Any = None,
    axis: int = 0,
) -> Any:
    """Samples from ``range(a)`` (an int) or from ``a`` along ``axis``, with
    or without replacement, uniformly or with probabilities ``p``.

    >>> fx.random.choice(fx.random.key(0), 5, (3,), replace=False)
    Tensor([0, 1, 4])
    """
    shape = _shape(shape)
    if isinstance(a, (int, _np.integer)):
        return _C._random_choice(key, int(a), shape, replace, p)
    a = _C.asarray(a)
    n = a.shape[axis] if a.ndim else 0
    idx = _C._random_choice(key, n, shape, replace, p)
    return _C.take(a, idx, axis=axis)


# The namespace is the API: drop what only the code above needed.
del annotations

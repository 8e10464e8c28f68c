"""Neural-network helpers, composed from differentiable ferrax operations."""

from __future__ import annotations

import math
from typing import Any

from . import _ferrax as _C

__all__ = [
    "cross_entropy",
    "gelu",
    "log_softmax",
    "logsumexp",
    "one_hot",
    "relu",
    "silu",
    "softmax",
]

relu = _C.relu
logsumexp = _C.logsumexp


def _t(x: Any) -> Any:
    return x if isinstance(x, _C.Tensor) else _C.asarray(x)


def gelu(x: Any, approximate: bool = True) -> Any:
    """Gaussian error linear unit (tanh approximation by default, as JAX).

    >>> fx.nn.gelu(fx.asarray([0.0, 1.0]))
    """
    x = _t(x)
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        return 0.5 * x * (1.0 + _C.tanh(c * (x + 0.044715 * (x * x * x))))
    return 0.5 * x * (1.0 + _C.erf(x / math.sqrt(2.0)))


def silu(x: Any) -> Any:
    """``x * sigmoid(x)``.

    >>> fx.nn.silu(fx.asarray([1.0]))
    """
    x = _t(x)
    return x * _C.sigmoid(x)


def softmax(x: Any, axis: int = -1) -> Any:
    """Softmax along ``axis`` (shifted by the max for stability).

    >>> fx.nn.softmax(fx.asarray([1.0, 2.0]))
    """
    x = _t(x)
    e = _C.exp(x - _C.stop_gradient(_C.max(x, axis=axis, keepdims=True)))
    return e / _C.sum(e, axis=axis, keepdims=True)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """``x - logsumexp(x)`` along ``axis``.

    >>> fx.nn.log_softmax(fx.asarray([1.0, 2.0]))
    """
    x = _t(x)
    return x - _C.logsumexp(x, axis=axis, keepdims=True)


def one_hot(labels: Any, num_classes: int, dtype: Any = "float64") -> Any:
    """One-hot encoding of integer labels along a new last axis.

    >>> fx.nn.one_hot(fx.asarray([0, 2]), 3)
    """
    labels = _t(labels)
    classes = _C.arange(num_classes)
    return (_C.expand_dims(labels, -1) == classes).astype(dtype)


def cross_entropy(logits: Any, labels: Any) -> Any:
    """Mean softmax cross-entropy over the batch.

    ``labels`` are integer class indices (shape ``logits.shape[:-1]``) or
    probabilities / one-hot rows (same shape as ``logits``).

    >>> fx.nn.cross_entropy(fx.zeros((2, 3)), fx.asarray([0, 1]))   # log(3)
    """
    logits, labels = _t(logits), _t(labels)
    logp = log_softmax(logits, axis=-1)
    if labels.dtype.kind in "iu":
        picked = _C.take_along_axis(logp, _C.expand_dims(labels, -1), axis=-1)
        return -_C.mean(picked)
    if tuple(labels.shape) != tuple(logits.shape):
        raise ValueError(
            f"cross_entropy: labels of shape {tuple(labels.shape)} do not match logits of shape "
            f"{tuple(logits.shape)} (pass class indices or one row of probabilities per example)"
        )
    return -_C.mean(_C.sum(labels * logp, axis=-1))

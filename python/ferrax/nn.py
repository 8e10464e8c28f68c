"""Neural-network functions (as ``jax.nn``), computed by the Rust core."""

from __future__ import annotations

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
softmax = _C._nn_softmax
log_softmax = _C._nn_log_softmax
gelu = _C._nn_gelu
silu = _C._nn_silu
one_hot = _C._nn_one_hot
cross_entropy = _C._nn_cross_entropy

# The namespace is the API: drop what only the code above needed.
del annotations

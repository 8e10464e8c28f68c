"""SciPy's functions on ferrax tensors, differentiable: ``fx.scipy.linalg``,
``fx.scipy.special`` and ``fx.scipy.stats``.

SciPy itself is not needed: these are computed by the Rust core.
"""

from __future__ import annotations

from . import linalg, special, stats

__all__ = ["linalg", "special", "stats"]

# The namespace is the API: drop what only the code above needed.
del annotations

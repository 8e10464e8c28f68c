"""SciPy's functions on ferrax tensors, differentiable (``fx.scipy.linalg``).

SciPy itself is not needed: these are computed by the Rust core.
"""

from __future__ import annotations

from . import linalg

__all__ = ["linalg"]

"""Linear algebra (as ``numpy.linalg``), computed by the Rust core."""

from __future__ import annotations

from . import _ferrax as _C

__all__ = ["norm"]

norm = _C._linalg_norm

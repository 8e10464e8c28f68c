"""``scipy.linalg`` functions, computed by the Rust core and differentiable.

Batched over leading axes like ``fx.linalg``; ``overwrite_*`` and
``check_finite`` are accepted for compatibility (ferrax never overwrites
inputs, and non-finite input gives NaN or ``LinAlgError``).

    >>> import ferrax as fx
    >>> a = fx.asarray([[2.0, 0.0], [1.0, 1.0]])
    >>> fx.scipy.linalg.solve_triangular(a, fx.asarray([2.0, 3.0]), lower=True)
    Tensor([1., 2.])
"""

from __future__ import annotations

from .. import _ferrax as _C

__all__ = ["cho_factor", "cho_solve", "expm", "lu_factor", "lu_solve", "solve_triangular"]

solve_triangular = _C._scipy_linalg_solve_triangular
cho_factor = _C._scipy_linalg_cho_factor
cho_solve = _C._scipy_linalg_cho_solve
lu_factor = _C._scipy_linalg_lu_factor
lu_solve = _C._scipy_linalg_lu_solve
expm = _C._scipy_linalg_expm

# The namespace is the API: drop what only the code above needed.
del annotations

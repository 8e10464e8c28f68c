"""Sparse Jacobians and Hessians: the façade of the core's sparse transforms.

Patterns cross into the core as CSR arrays over the flattened output and
input (``m x n``); results come back as CSR arrays and become a
``scipy.sparse.csr_array`` here. Detection, colouring, the compressed passes
and the recovery of the non-zeros all happen in the Rust core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _ferrax as _C


def _scipy_sparse() -> Any:
    try:
        import scipy.sparse
    except ImportError as e:
        raise ImportError(
            "sparse Jacobians are returned as scipy.sparse.csr_array: install SciPy "
            "(pip install 'ferrax[sparse]'), or pass dense_output=True for a dense ferrax array"
        ) from e
    return scipy.sparse


def _csr_of(sparsity: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """``(indptr, indices, cols)`` of a pattern: a ``scipy.sparse`` matrix or
    array (its stored non-zeros), or a 2-D array-like (its non-zeros)."""
    if _is_scipy_sparse(sparsity):
        csr = sparsity.tocsr(copy=True)
        csr.eliminate_zeros()
        indptr, indices = csr.indptr, csr.indices
        cols = csr.shape[1]
    else:
        dense = np.asarray(sparsity)
        if dense.ndim != 2:
            raise ValueError(
                f"sparsity: a dense pattern must be 2-D (outputs x inputs, both flattened), "
                f"got shape {dense.shape}; reshape it to (output.size, input.size)"
            )
        if dense.dtype == object:
            raise TypeError("sparsity: a pattern must be a boolean or numeric array")
        rows, indices = np.nonzero(dense)
        indptr = np.zeros(dense.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=indptr[1:])
        cols = dense.shape[1]
    return (
        np.ascontiguousarray(indptr, dtype=np.int64),
        np.ascontiguousarray(indices, dtype=np.int64),
        int(cols),
    )


def _is_scipy_sparse(x: Any) -> bool:
    module = type(x).__module__
    return module.startswith("scipy.sparse") and hasattr(x, "tocsr")


def _as_csr_array(data: Any, indices: np.ndarray, indptr: np.ndarray, shape: Any) -> Any:
    if getattr(data, "is_traced", False):
        raise TypeError(
            "a sparse Jacobian inside another transform (grad, vmap, ...) cannot become a "
            "scipy.sparse array, which would drop its derivative: pass dense_output=True"
        )
    return _scipy_sparse().csr_array((np.asarray(data), indices, indptr), shape=tuple(shape))


def _one_argnum(argnums: Any, name: str) -> int | None:
    if argnums is None or (isinstance(argnums, int) and not isinstance(argnums, bool)):
        return argnums
    if isinstance(argnums, Sequence) and len(argnums) == 1:
        return _one_argnum(argnums[0], name)
    raise TypeError(
        f"{name}: with sparsity= one argument is differentiated: argnums must be one int, "
        f"got {argnums!r}"
    )


def sparse_jacobian(
    fun: Callable,
    mode: str,
    argnums: Any,
    has_aux: bool,
    sparsity: Any,
    dense_output: bool,
) -> Callable:
    """The function ``jacfwd``/``jacrev``/``hessian`` return with ``sparsity=``."""
    argnum = _one_argnum(argnums, mode)
    if isinstance(sparsity, str):
        if sparsity != "auto":
            raise ValueError(
                f"{mode}: sparsity must be 'auto', a boolean array or a scipy.sparse matrix, "
                f"got {sparsity!r}"
            )
        inner = _C.SparseJacobianFunction(fun, mode, argnum, has_aux, dense_output)
    else:
        indptr, indices, cols = _csr_of(sparsity)
        inner = _C.SparseJacobianFunction(
            fun, mode, argnum, has_aux, dense_output, indptr, indices, cols
        )

    def jacobian(*args: Any, **kwargs: Any) -> Any:
        result = inner(*args, **kwargs)
        if has_aux:
            result, aux = result
        if not dense_output:
            result = _as_csr_array(*result)
        return (result, aux) if has_aux else result

    jacobian.passes = inner.passes  # type: ignore[attr-defined]
    return jacobian


def sparsity_pattern(
    fun: Callable, *primals: Any, argnums: int | None = None, **kwargs: Any
) -> Any:
    """Which elements of ``fun``'s output depend on which elements of its input.

    ``fun`` is traced once on dependency sets (no derivatives are computed)
    at ``primals``; the result is a boolean ``scipy.sparse.csr_array`` of
    shape ``(output.size, input.size)`` over the flattened output and the
    flattened differentiated argument (``argnums``: the only one by default).
    It can be passed as ``sparsity=`` to :func:`jacfwd`, :func:`jacrev`, and
    (for ``fx.grad(f)``) :func:`hessian`, to skip the detection at each call.

    The pattern is the one at ``primals``: a Python branch on a comparison,
    or an index computed from the values (``x[fx.argmax(x)]``), is followed
    where it is taken, so reuse a pattern at other points only for code
    whose structure does not depend on the values (``fx.where`` keeps both
    branches; ``sparsity='auto'`` detects again at every call). A value
    that leaves the trace (``float(x)``, ``np.asarray(x)``) raises a
    ``TypeError`` that says so.

    >>> def residual(u):               # a 1-D finite-difference operator
    ...     return u[:-2] - 2.0 * u[1:-1] + u[2:]
    >>> fx.sparsity_pattern(residual, fx.ones(6)).toarray().astype(int)
    array([[1, 1, 1, 0, 0, 0],
           [0, 1, 1, 1, 0, 0],
           [0, 0, 1, 1, 1, 0],
           [0, 0, 0, 1, 1, 1]])
    """
    indices, indptr, shape = _C._sparsity_pattern(
        fun, _one_argnum(argnums, "sparsity_pattern"), *primals, **kwargs
    )
    data = np.ones(len(indices), dtype=bool)
    return _scipy_sparse().csr_array((data, indices, indptr), shape=shape)


def sparsity_coloring(sparsity: Any, mode: str = "jacfwd") -> np.ndarray:
    """The colouring a sparse Jacobian (Hessian) of pattern ``sparsity`` uses:
    the colour of each column (``'jacfwd'``: columns that share no row share
    a colour), row (``'jacrev'``) or variable (``'hessian'``: a star colouring
    of the symmetric pattern). The number of passes is ``colors.max() + 1``.

    >>> tridiagonal = np.eye(6, k=-1) + np.eye(6) + np.eye(6, k=1)
    >>> int(fx.sparsity_coloring(tridiagonal).max()) + 1    # 3 passes, not 6
    3
    """
    indptr, indices, cols = _csr_of(sparsity)
    return _C._sparsity_coloring(indptr, indices, cols, mode)

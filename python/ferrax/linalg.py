"""Linear algebra as ``numpy.linalg``, computed by the Rust core.

Every function works on stacks of matrices (leading batch axes), in float32
and float64 (integer input computes in float64), and is differentiable in
both modes and under ``vmap``. Failures NumPy reports as
``numpy.linalg.LinAlgError`` (a singular matrix to ``solve``/``inv``, one that
is not positive definite to ``cholesky``) raise that same class, inside any
transform. Results with several parts are named tuples, as NumPy's.

    >>> import ferrax as fx
    >>> a = fx.asarray([[4.0, 2.0], [2.0, 3.0]])
    >>> fx.grad(lambda a: fx.linalg.slogdet(a)[1])(a)   # inv(a).T
    Tensor([[ 0.375, -0.25 ],
            [-0.25 ,  0.5  ]])
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
    from typing import Any


from numpy.linalg import LinAlgError

from . import _ferrax as _C

__all__ = [
    "EighResult",
    "LinAlgError",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "cholesky",
    "cond",
    "cross",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vector_norm",
]


class EighResult(_typing.NamedTuple):
    """``eigh``'s result: ascending eigenvalues and eigenvectors (columns)."""

    eigenvalues: Any
    eigenvectors: Any


class SVDResult(_typing.NamedTuple):
    """``svd``'s result: ``a = U @ diag(S) @ Vh``."""

    U: Any
    S: Any
    Vh: Any


class SlogdetResult(_typing.NamedTuple):
    """``slogdet``'s result: ``det = sign * exp(logabsdet)``."""

    sign: Any
    logabsdet: Any


class QRResult(_typing.NamedTuple):
    """``qr``'s result: ``a = Q @ R``."""

    Q: Any
    R: Any


def eigh(a: Any, UPLO: str = "L") -> EighResult:  # noqa: N803 (NumPy's name)
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices.

    Reads the symmetric part ``(a + a.T) / 2`` (as JAX does), so the
    derivative is symmetric; ``UPLO`` is accepted for NumPy compatibility.

        >>> w, v = fx.linalg.eigh(fx.asarray([[2.0, 1.0], [1.0, 2.0]]))   # w = [1, 3]
    """
    return EighResult(*_C._linalg_eigh(a, UPLO))


def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """Singular value decomposition: ``SVDResult(U, S, Vh)``, or ``S`` alone.

    Differentiable for ``full_matrices=False`` (or square ``a``).

        >>> u, s, vh = fx.linalg.svd(fx.eye(2) * 3.0)   # s = [3, 3]
    """
    r = _C._linalg_svd(a, full_matrices, compute_uv, hermitian)
    return SVDResult(*r) if compute_uv else r


def slogdet(a: Any) -> SlogdetResult:
    """Sign and natural log of the absolute determinant (singular: ``(0, -inf)``).

    >>> sign, logdet = fx.linalg.slogdet(fx.eye(3) * 2.0)   # (1, 3 log 2)
    """
    return SlogdetResult(*_C._linalg_slogdet(a))


def qr(a: Any, mode: str = "reduced") -> Any:
    """QR decomposition: ``QRResult(Q, R)``, or ``R`` alone for ``mode='r'``.

    >>> q, r = fx.linalg.qr(fx.asarray([[3.0, 1.0], [4.0, 2.0]]))
    """
    r = _C._linalg_qr(a, mode)
    return r if mode == "r" else QRResult(*r)


solve = _C._linalg_solve
inv = _C._linalg_inv
det = _C._linalg_det
cholesky = _C._linalg_cholesky
eigvalsh = _C._linalg_eigvalsh
svdvals = _C._linalg_svdvals
pinv = _C._linalg_pinv
lstsq = _C._linalg_lstsq
matrix_power = _C._linalg_matrix_power
matrix_rank = _C._linalg_matrix_rank
norm = _C._linalg_norm
vector_norm = _C._linalg_vector_norm
matrix_norm = _C._linalg_matrix_norm
cond = _C._linalg_cond
multi_dot = _C._linalg_multi_dot
cross = _C._linalg_cross
tensorsolve = _C._linalg_tensorsolve
tensorinv = _C._linalg_tensorinv

# The namespace is the API: drop what only the code above needed.
del annotations

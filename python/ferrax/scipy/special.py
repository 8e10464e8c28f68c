"""``scipy.special`` functions, computed by the Rust core and differentiable.

Each is a ferrax op: it takes tensors, arrays or Python numbers, broadcasts,
keeps float32 as float32, and has derivatives in both modes, to any order
(except the second derivatives of ``gammainc``, ``gammaincc`` and
``betainc`` in their shape parameters, as in JAX), and under ``vmap``.
SciPy's own ufuncs (``scipy.special.gammaln(t)``...) dispatch to these when
called on ferrax tensors.

    >>> import ferrax as fx
    >>> fx.grad(fx.scipy.special.gammaln)(3.0)   # digamma(3) = 1.5 - 0.5772...
    Tensor(0.92278434)
"""

from __future__ import annotations

from .. import _ferrax as _C

__all__ = [
    "betainc",
    "betaln",
    "digamma",
    "erf",
    "erfc",
    "erfinv",
    "expit",
    "gammainc",
    "gammaincc",
    "gammaln",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "softmax",
    "xlog1py",
    "xlogy",
]

erf = _C.erf
erfc = _C.erfc
erfinv = _C.erfinv
expit = _C.sigmoid
logit = _C.logit
xlogy = _C.xlogy
xlog1py = _C.xlog1py
gammaln = _C.gammaln
digamma = _C.digamma
psi = _C.digamma
ndtr = _C.ndtr
log_ndtr = _C.log_ndtr
ndtri = _C.ndtri
polygamma = _C._special_polygamma
gammainc = _C._special_gammainc
gammaincc = _C._special_gammaincc
betainc = _C._special_betainc
betaln = _C._special_betaln
logsumexp = _C._special_logsumexp
softmax = _C._special_softmax
log_softmax = _C._special_log_softmax

# The namespace is the API: drop what only the code above needed.
del annotations

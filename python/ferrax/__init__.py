"""ferrax: automatic differentiation by function transforms, on a Rust core.

>>> import ferrax as fx
>>> fx.grad(lambda x: fx.sum(fx.sin(x) ** 2))(fx.linspace(0.0, 1.0, 5))
Tensor([0.        , 0.47942554, 0.84147098, 0.99749499, 0.90929743])

Transforms: :func:`grad`, :func:`value_and_grad`, :func:`vjp`, :func:`jvp`,
:func:`linearize`, :func:`linear_transpose`, :func:`jacrev` (:func:`jacobian`),
:func:`jacfwd`, :func:`hessian` (sparse ones with ``sparsity=``:
:func:`sparsity_pattern`), :func:`hvp`, :func:`vmap`; :func:`jit` for
porting JAX code. Every number is
computed by the Rust core (``ferrax._ferrax``).
"""

from __future__ import annotations

import numpy as _np

from . import _numpy_protocol, _repr, lax, linalg, nn, random, scipy, test_util, tree_util
from ._custom import checkpoint, custom_jvp, custom_vjp, remat
from ._ferrax import *  # every public function of the core (see _ferrax.__all__)
from ._ferrax import LinearizedFunction, Tensor, VjpFunction, _register_hooks
from ._ferrax import __version__ as _core_version
from ._sparse import sparsity_coloring, sparsity_pattern
from ._transforms import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jit,
    jvp,
    linear_transpose,
    linearize,
    value_and_grad,
    vjp,
    vmap,
)


def __getattr__(name: str) -> str:
    """``fx.__version__``, read from the installed distribution on first use.

    The installed distribution's version is pyproject's dynamic version, which
    maturin takes from Cargo.toml, as the extension's own copy (_core_version) is;
    that copy serves only where ferrax runs from a source tree without being
    installed. It is looked up lazily because importlib.metadata (with the email,
    csv and socket modules it loads) was over half of ``import ferrax``'s own time.
    """
    if name == "__version__":
        from importlib import metadata

        try:
            version = metadata.version("ferrax")
        except metadata.PackageNotFoundError:
            version = _core_version
        globals()["__version__"] = version
        return version
    raise AttributeError(f"module 'ferrax' has no attribute {name!r}")


float32 = _np.dtype("float32")
float64 = _np.dtype("float64")
int32 = _np.dtype("int32")
int64 = _np.dtype("int64")
bool_ = _np.dtype("bool")

negative = neg
absolute = abs
pow = power
array = asarray
permute_dims = transpose

_register_hooks(
    _repr.tensor_repr,
    _numpy_protocol.array_ufunc,
    _numpy_protocol.array_function,
)

__all__ = [name for name in dir() if not name.startswith("_") and name not in {"annotations"}]

# The namespace is the API: drop what only the code above needed.
del annotations

"""Write the API reference's pages from the public namespaces' ``__all__``.

Run by ``conf.py`` at every build, so a public name added to ferrax appears in
the reference without editing the docs: names of the top-level namespace that
no group below lists go to "Other functions", and ``tests/test_docs.py``
checks that every public name has a page.
"""

from __future__ import annotations

import inspect
import types
from pathlib import Path

import ferrax
import numpy as np

# Groups of the top-level namespace, in page order.
GROUPS: list[tuple[str, str]] = [
    (
        "Transforms",
        "grad value_and_grad vjp jvp linearize linear_transpose jacrev jacobian jacfwd "
        "hessian hvp vmap jit checkpoint remat custom_vjp custom_jvp stop_gradient "
        "sparsity_pattern sparsity_coloring",
    ),
    (
        "What the transforms return",
        "GradFunction VjpFunction LinearizedFunction JacobianFunction "
        "SparseJacobianFunction VmapFunction",
    ),
    ("Tensors", "Tensor"),
    (
        "Creating tensors",
        "asarray array zeros ones full zeros_like ones_like full_like eye arange linspace meshgrid",
    ),
    (
        "Elementwise functions",
        "neg negative abs absolute sign exp exp2 expm1 log log2 log10 log1p sqrt rsqrt "
        "square reciprocal sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh "
        "arccosh arctanh sigmoid relu softplus erf erfc erfinv gammaln digamma logit "
        "ndtr ndtri log_ndtr floor ceil round rint deg2rad rad2deg degrees radians sinc "
        "real imag conj conjugate nan_to_num",
    ),
    (
        "Binary elementwise functions",
        "add subtract multiply divide floor_divide remainder power pow maximum minimum "
        "fmax fmin arctan2 hypot logaddexp logaddexp2 copysign heaviside xlogy xlog1py "
        "where clip select",
    ),
    (
        "Comparisons and logic",
        "equal not_equal less less_equal greater greater_equal logical_and logical_or "
        "logical_not logical_xor isnan isfinite isclose allclose",
    ),
    (
        "Reductions",
        "sum mean prod max min var std logsumexp argmax argmin cumsum cumprod median "
        "quantile percentile nansum nanmean nanmax nanmin",
    ),
    (
        "Products and linear algebra",
        "matmul dot vdot inner outer tensordot einsum trace diagonal kron cross",
    ),
    (
        "Shapes, joining and splitting",
        "reshape ravel transpose permute_dims swapaxes moveaxis expand_dims squeeze "
        "broadcast_to atleast_1d atleast_2d atleast_3d concatenate stack vstack hstack "
        "dstack column_stack append split array_split hsplit vsplit dsplit flip flipud "
        "fliplr roll rot90 tile repeat pad",
    ),
    ("Indexing, sorting and searching", "take take_along_axis sort argsort searchsorted"),
    (
        "Matrices, differences and signals",
        "tril triu diag diagflat diff ediff1d gradient trapezoid polyval cov corrcoef "
        "convolve correlate interp",
    ),
    ("Pytrees", "tree_flatten tree_unflatten register_pytree_node PyTreeDef"),
    ("Threads, SIMD and BLAS", "set_num_threads get_num_threads simd_level blas_library"),
]

DTYPES = ["float32", "float64", "int32", "int64", "bool_"]

# Submodules: (module, title, intro), each a page listing its __all__.
SUBMODULES: list[tuple[str, str, str]] = [
    ("ferrax.linalg", "ferrax.linalg", "NumPy's ``numpy.linalg``, batched and differentiable."),
    ("ferrax.scipy.linalg", "ferrax.scipy.linalg", "Parts of ``scipy.linalg``."),
    ("ferrax.scipy.special", "ferrax.scipy.special", "Parts of ``scipy.special``."),
    ("ferrax.lax", "ferrax.lax", "JAX's ``jax.lax``: control flow, slicing, convolution."),
    ("ferrax.random", "ferrax.random", "JAX's explicit-key random numbers (Threefry)."),
    ("ferrax.nn", "ferrax.nn", "Neural-network helpers."),
    ("ferrax.tree_util", "ferrax.tree_util", "Pytrees: flatten, map, rebuild."),
    ("ferrax.test_util", "ferrax.test_util", "Derivative checks by finite differences."),
]


def _kind(obj) -> str:
    return "class" if isinstance(obj, type) else "function"


def _autosummary(module: str, names: list[str]) -> list[str]:
    lines = [
        f".. currentmodule:: {module}",
        "",
        ".. autosummary::",
        "   :toctree: ../generated",
        "   :nosignatures:",
        "",
    ]
    lines += [f"   {n}" for n in names]
    return lines + [""]


def _title(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def top_level_names() -> list[str]:
    return [
        n
        for n in ferrax.__all__
        if not isinstance(getattr(ferrax, n), (types.ModuleType, np.dtype))
    ]


def write(out: Path) -> dict[str, list[str]]:
    """Write the pages into ``out``; return {module: names documented}."""
    out.mkdir(parents=True, exist_ok=True)
    documented: dict[str, list[str]] = {}

    names = top_level_names()
    listed = set()
    lines = _title("ferrax", "=")
    lines += [
        ".. automodule:: ferrax",
        "   :no-members:",
        "   :no-index:",
        "",
        "Data types",
        "----------",
        "",
        "NumPy dtype objects; NumPy's own dtypes and dtype strings are accepted",
        "wherever these are.",
        "",
    ]
    for d in DTYPES:
        lines += [
            f".. py:data:: ferrax.{d}",
            f"   :value: numpy.dtype({str(getattr(ferrax, d))!r})",
            "",
        ]
    for title, group in GROUPS:
        group_names = [n for n in group.split() if n in names]
        missing = [n for n in group.split() if n not in names]
        if missing:
            raise RuntimeError(f"api_pages.GROUPS names what ferrax does not export: {missing}")
        listed.update(group_names)
        lines += _title(title, "-") + _autosummary("ferrax", group_names)
    rest = [n for n in names if n not in listed]
    if rest:
        lines += _title("Other functions", "-") + _autosummary("ferrax", rest)
    (out / "ferrax.rst").write_text("\n".join(lines))
    documented["ferrax"] = names

    for module, title, intro in SUBMODULES:
        mod = __import__(module, fromlist=["*"])
        mod_names = list(mod.__all__)
        lines = _title(title, "=")
        lines += [f".. automodule:: {module}", "   :no-members:", "", intro, ""]
        lines += _autosummary(module, mod_names)
        (out / f"{module}.rst").write_text("\n".join(lines))
        documented[module] = mod_names

    # scipy.stats: each distribution is a namespace of functions
    import ferrax.scipy.stats as stats

    lines = _title("ferrax.scipy.stats", "=")
    lines += [".. automodule:: ferrax.scipy.stats", "   :no-members:", ""]
    for dist in stats.__all__:
        ns = getattr(stats, dist)
        methods = [m for m in vars(ns) if not m.startswith("_") and callable(getattr(ns, m))]
        lines += _title(f"``{dist}``", "-")
        lines += [".. currentmodule:: ferrax.scipy.stats", ""]
        for m in methods:
            fn = getattr(ns, m)
            try:
                sig = str(inspect.signature(fn))
            except (TypeError, ValueError):
                sig = "(...)"
            lines += [f".. autofunction:: ferrax.scipy.stats.{dist}.{m}{sig}", ""]
    (out / "ferrax.scipy.stats.rst").write_text("\n".join(lines))
    documented["ferrax.scipy.stats"] = list(stats.__all__)
    return documented

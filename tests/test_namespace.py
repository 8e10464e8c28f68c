"""The public namespaces hold only public names: what ``__all__`` lists and
the public submodules — no helper imports (``annotations``, ``Any``, ``np``)
for tab completion or ``dir()`` to offer as API."""

from __future__ import annotations

import types

import ferrax as fx
import pytest

MODULES = {
    "ferrax": (fx, {"lax", "linalg", "nn", "random", "scipy", "test_util", "tree_util"}),
    "ferrax.nn": (fx.nn, set()),
    "ferrax.linalg": (fx.linalg, set()),
    "ferrax.lax": (fx.lax, set()),
    "ferrax.random": (fx.random, set()),
    "ferrax.tree_util": (fx.tree_util, set()),
    "ferrax.test_util": (fx.test_util, set()),
    "ferrax.scipy": (fx.scipy, {"linalg", "special", "stats"}),
    "ferrax.scipy.linalg": (fx.scipy.linalg, set()),
    "ferrax.scipy.special": (fx.scipy.special, set()),
    "ferrax.scipy.stats": (fx.scipy.stats, set()),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_only_public_names(name):
    module, submodules = MODULES[name]
    public = set(module.__all__) | submodules
    extra = sorted(
        n for n in vars(module) if n.isidentifier() and not n.startswith("_") and n not in public
    )
    assert not extra, f"{name} exposes non-API names: {extra}"
    for sub in submodules:
        assert isinstance(getattr(module, sub), types.ModuleType)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_listed_name_exists(name):
    module, _ = MODULES[name]
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, missing

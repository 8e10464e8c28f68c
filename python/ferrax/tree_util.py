"""Pytrees: nested containers whose leaves are arrays, as in ``jax.tree_util``.

Containers are ``tuple``, ``list``, ``dict`` (keys in sorted order),
namedtuples, ``None`` (a container with no children) and any type registered
with :func:`register_pytree_node`. Everything else is a leaf. Flattening and
rebuilding are done by the Rust bindings (the transforms use the same code).

>>> from ferrax import tree_util as tu
>>> leaves, tree = tu.tree_flatten({"b": (1, 2), "a": 3})
>>> leaves
[3, 1, 2]
>>> tu.tree_unflatten(tree, [x * 10 for x in leaves])
{'a': 30, 'b': (10, 20)}
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


from . import _ferrax as _C

__all__ = [
    "PyTreeDef",
    "register_pytree_node",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_structure",
    "tree_unflatten",
]

PyTreeDef = _C.PyTreeDef
tree_flatten = _C.tree_flatten
tree_unflatten = _C.tree_unflatten
register_pytree_node = _C.register_pytree_node


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    """The leaves of a pytree.

    >>> tree_leaves({"a": 1, "b": [2, 3]})
    [1, 2, 3]
    """
    return _C.tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The structure of a pytree.

    >>> tree_structure((1, 2))
    PyTreeDef((*, *))
    """
    return _C.tree_flatten(tree, is_leaf)[1]


def tree_map(
    f: Callable, tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """Apply ``f`` leafwise over one or more pytrees of the same structure.

    >>> tree_map(lambda a, b: a + b, (1, [2]), (10, [20]))
    (11, [22])
    """
    leaves, td = _C.tree_flatten(tree, is_leaf)
    others = []
    for r in rest:
        rl, rtd = _C.tree_flatten(r, is_leaf)
        if rtd != td:
            raise ValueError(f"tree_map: structures differ: {td!r} and {rtd!r}")
        others.append(rl)
    return _C.tree_unflatten(td, [f(*xs) for xs in zip(leaves, *others)])


# The namespace is the API: drop what only the code above needed.
del annotations

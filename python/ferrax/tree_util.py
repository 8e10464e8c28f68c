"""Pytrees: nested containers whose leaves are arrays, as in ``jax.tree_util``.

Containers are ``tuple``, ``list``, ``dict`` (keys in sorted order),
namedtuples, ``None`` (a container with no children) and any type registered
with :func:`register_pytree_node`. Everything else is a leaf.

>>> from ferrax import tree_util as tu
>>> leaves, tree = tu.tree_flatten({"b": (1, 2), "a": 3})
>>> leaves
[3, 1, 2]
>>> tu.tree_unflatten(tree, [x * 10 for x in leaves])
{'a': 30, 'b': (10, 20)}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "PyTreeDef",
    "register_pytree_node",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_structure",
    "tree_unflatten",
]

# type -> (flatten: x -> (children, aux_data), unflatten: (aux_data, children) -> x)
_registry: dict[type, tuple[Callable, Callable]] = {}


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Iterable[Any], Any]],
    unflatten_func: Callable[[Any, Iterable[Any]], Any],
) -> None:
    """Make ``nodetype`` a pytree container.

    ``flatten_func(x)`` returns ``(children, aux_data)`` and
    ``unflatten_func(aux_data, children)`` rebuilds the node.

    >>> class Pair:
    ...     def __init__(self, a, b): self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda _, c: Pair(*c))
    """
    if nodetype in _registry or nodetype in (tuple, list, dict, type(None)):
        raise ValueError(f"{nodetype!r} is already registered as a pytree node")
    _registry[nodetype] = (flatten_func, unflatten_func)


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


class PyTreeDef:
    """The structure of a pytree: what :func:`tree_unflatten` needs to rebuild it."""

    __slots__ = ("kind", "aux", "children", "num_leaves")

    def __init__(self, kind: Any, aux: Any, children: tuple[PyTreeDef, ...], num_leaves: int):
        self.kind = kind  # None for a leaf, else the container type
        self.aux = aux
        self.children = children
        self.num_leaves = num_leaves

    @property
    def num_nodes(self) -> int:
        return 1 + sum(c.num_nodes for c in self.children)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return (
            self.kind is other.kind
            and self.num_leaves == other.num_leaves
            and self.aux == other.aux
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.num_leaves, len(self.children)))

    def __repr__(self) -> str:
        return f"PyTreeDef({self._str()})"

    def _str(self) -> str:
        if self.kind is None:
            return "*"
        inner = ", ".join(c._str() for c in self.children)
        if self.kind is tuple:
            return f"({inner}{',' if len(self.children) == 1 else ''})"
        if self.kind is list:
            return f"[{inner}]"
        if self.kind is dict:
            return (
                "{" + ", ".join(f"{k!r}: {c._str()}" for k, c in zip(self.aux, self.children)) + "}"
            )
        if self.kind is type(None):
            return "None"
        return f"{getattr(self.kind, '__name__', self.kind)}({inner})"

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        return tree_unflatten(self, leaves)


_LEAF = PyTreeDef(None, None, (), 1)
_NONE = PyTreeDef(type(None), None, (), 0)


def _flatten(x: Any, leaves: list, is_leaf: Callable[[Any], bool] | None) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    t = type(x)
    if t is tuple or t is list:
        kids = tuple(_flatten(c, leaves, is_leaf) for c in x)
        return PyTreeDef(t, None, kids, sum(k.num_leaves for k in kids))
    if t is dict:
        keys = sorted(x)
        kids = tuple(_flatten(x[k], leaves, is_leaf) for k in keys)
        return PyTreeDef(dict, tuple(keys), kids, sum(k.num_leaves for k in kids))
    if x is None:
        return _NONE
    reg = _registry.get(t)
    if reg is not None:
        children, aux = reg[0](x)
        kids = tuple(_flatten(c, leaves, is_leaf) for c in children)
        return PyTreeDef(t, aux, kids, sum(k.num_leaves for k in kids))
    if _is_namedtuple(x):
        kids = tuple(_flatten(c, leaves, is_leaf) for c in x)
        return PyTreeDef(t, None, kids, sum(k.num_leaves for k in kids))
    leaves.append(x)
    return _LEAF


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, PyTreeDef]:
    """Split a pytree into its leaves (left to right) and its structure.

    >>> tree_flatten([1, (2, None)])[0]
    [1, 2]
    """
    leaves: list = []
    return leaves, _flatten(tree, leaves, is_leaf)


def _build(td: PyTreeDef, it) -> Any:
    k = td.kind
    if k is None:
        return next(it)
    if k is type(None):
        return None
    kids = [_build(c, it) for c in td.children]
    if k is tuple or k is list:
        return k(kids)
    if k is dict:
        return dict(zip(td.aux, kids))
    reg = _registry.get(k)
    if reg is not None:
        return reg[1](td.aux, kids)
    return k(*kids)  # namedtuple


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuild a pytree of structure ``treedef`` from ``leaves``.

    >>> leaves, td = tree_flatten((1, {"x": 2}))
    >>> tree_unflatten(td, [5, 6])
    (5, {'x': 6})
    """
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree structure {treedef!r} has {treedef.num_leaves} leaves, got {len(leaves)}"
        )
    return _build(treedef, iter(leaves))


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list:
    """The leaves of a pytree.

    >>> tree_leaves({"a": 1, "b": [2, 3]})
    [1, 2, 3]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The structure of a pytree.

    >>> tree_structure((1, 2))
    PyTreeDef((*, *))
    """
    return tree_flatten(tree, is_leaf)[1]


def tree_map(
    f: Callable, tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None
) -> Any:
    """Apply ``f`` leafwise over one or more pytrees of the same structure.

    >>> tree_map(lambda a, b: a + b, (1, [2]), (10, [20]))
    (11, [22])
    """
    leaves, td = tree_flatten(tree, is_leaf)
    others = []
    for r in rest:
        rl, rtd = tree_flatten(r, is_leaf)
        if rtd != td:
            raise ValueError(f"tree_map: structures differ: {td!r} and {rtd!r}")
        others.append(rl)
    return tree_unflatten(td, [f(*xs) for xs in zip(leaves, *others)])

"""The public transforms: pytrees, argnums, has_aux and Jacobians over the
three core transforms of the Rust engine (``vjp``, ``jvp``, ``vmap``)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

from . import _ferrax as _C
from .tree_util import PyTreeDef, tree_flatten, tree_unflatten

Tensor = _C.Tensor


# ---------------------------------------------------------------- helpers ---


def _argnums_tuple(argnums: int | Sequence[int], nargs: int, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError(f"{name}: argnums must not be empty")
    out = []
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"{name}: argnums must be ints, got {a!r}")
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{name}: argnums {a} is out of range for a function called with {nargs} "
                "positional argument(s)"
            )
        a %= nargs
        if a in out:
            raise ValueError(
                f"{name}: argnums {tuple(nums)!r} names argument {a} more than once; "
                "each argument can be differentiated once"
            )
        out.append(a)
    return tuple(out)


def _partial_args(fun: Callable, args: tuple, nums: tuple[int, ...], kwargs: dict) -> Callable:
    """``fun`` as a function of the arguments at ``nums`` only."""

    def inner(*diff):
        full = list(args)
        for i, d in zip(nums, diff):
            full[i] = d
        return fun(*full, **kwargs)

    return inner


def _shape_str(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def _leaf_shape(x: Any) -> tuple:
    return tuple(_C._shape(x))


def _split_aux(out: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(
            f"{name} with has_aux=True needs the function to return a pair (output, aux)"
        )
    return out[0], out[1]


# -------------------------------------------------------------------- vjp ---


def _vjp_core(fn: Callable, primals: tuple, has_aux: bool, name: str):
    """Run the core vjp on a pytree function; returns (out, pullback over flat leaves, aux, trees)."""
    flat, in_tree = tree_flatten(primals)
    store: dict[str, Any] = {}

    def flat_fn(leaves):
        out = fn(*tree_unflatten(in_tree, leaves))
        out, aux = _split_aux(out, has_aux, name)
        out_leaves, out_tree = tree_flatten(out)
        store["out_tree"] = out_tree
        if has_aux:
            aux_leaves, store["aux_tree"] = tree_flatten(aux)
        else:
            aux_leaves = []
        return out_leaves, aux_leaves

    outs, pullback, aux = _C.vjp(flat_fn, flat)
    out_tree: PyTreeDef = store["out_tree"]
    aux_val = tree_unflatten(store["aux_tree"], aux) if has_aux else None
    return outs, out_tree, pullback, in_tree, aux_val


def vjp(fn: Callable, *primals: Any, has_aux: bool = False, create_graph: bool = True):
    """Evaluate ``fn(*primals)`` and return its vector-Jacobian product function.

    Returns ``(out, vjp_fn)`` (or ``(out, vjp_fn, aux)``); ``vjp_fn(cotangent)``
    takes a cotangent shaped like ``out`` and returns one cotangent per primal.

    >>> out, f_vjp = fx.vjp(fx.sin, fx.asarray([0.0, 1.0]))
    >>> f_vjp(fx.ones(2))          # (cos(x),)
    """
    outs, out_tree, pullback, in_tree, aux = _vjp_core(fn, primals, has_aux, "vjp")
    out = tree_unflatten(out_tree, outs)
    shapes = [tuple(o.shape) for o in outs]

    def vjp_fn(cotangent):
        ct_leaves, ct_tree = tree_flatten(cotangent)
        if ct_tree != out_tree:
            raise ValueError(
                f"vjp: the cotangent has structure {ct_tree!r} but the output has {out_tree!r}"
            )
        for i, (c, s) in enumerate(zip(ct_leaves, shapes)):
            cs = _leaf_shape(c)
            if cs != s:
                raise ValueError(
                    f"vjp: cotangent {i} has shape {_shape_str(cs)} but the output has shape "
                    f"{_shape_str(s)}"
                )
        grads = pullback(ct_leaves, create_graph)
        return tree_unflatten(in_tree, grads)

    if not create_graph:
        out = _stop(out)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _stop(tree: Any) -> Any:
    leaves, td = tree_flatten(tree)
    return tree_unflatten(td, [_C.stop_gradient(x) if isinstance(x, Tensor) else x for x in leaves])


# ------------------------------------------------------------------- grad ---


def _check_scalar_output(out_tree: PyTreeDef, outs: list, name: str) -> None:
    if out_tree.num_leaves != 1 or out_tree.kind is not None:
        raise TypeError(
            f"{name} requires a function returning one scalar array, got a {out_tree!r}"
        )
    out = outs[0]
    if out.ndim != 0:
        raise TypeError(
            f"{name} requires a scalar output (shape ()), got shape {_shape_str(tuple(out.shape))}; "
            "use fx.jacrev or fx.vjp for non-scalar outputs, or reduce it with .sum()"
        )
    if out.dtype.kind != "f":
        raise TypeError(f"{name} requires a float output, got dtype {out.dtype}")


def _grad_impl(fun, argnums, create_graph, has_aux, with_value, name):
    single = isinstance(argnums, int) and not isinstance(argnums, bool) and not has_aux

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        if single and -len(args) <= argnums < len(args):
            return _grad_single(fun, args, kwargs, argnums, create_graph, with_value, name)
        nums = _argnums_tuple(argnums, len(args), name)
        inner = _partial_args(fun, args, nums, kwargs)
        outs, out_tree, pullback, in_tree, aux = _vjp_core(
            inner, tuple(args[i] for i in nums), has_aux, name
        )
        _check_scalar_output(out_tree, outs, name)
        out = outs[0]
        g = tree_unflatten(in_tree, pullback([1.0], create_graph))
        g = g[0] if isinstance(argnums, int) else g
        if not create_graph:
            out = _C.stop_gradient(out)
        if with_value:
            return ((out, aux) if has_aux else out), g
        return (g, aux) if has_aux else g

    return wrapped


def _grad_single(fun, args, kwargs, i, create_graph, with_value, name):
    """The common case of grad (one int argnums, no aux), with the least Python per call."""
    leaves, in_tree = tree_flatten(args[i])
    plain_leaf = in_tree.kind is None
    store: list = []

    def flat_fn(ls):
        full = list(args)
        full[i] = ls[0] if plain_leaf else tree_unflatten(in_tree, ls)
        out = fun(*full, **kwargs)
        if type(out) is Tensor:
            store.append(None)
            return [out], ()
        out_leaves, out_tree = tree_flatten(out)
        store.append(out_tree)
        return out_leaves, ()

    outs, pullback, _ = _C.vjp(flat_fn, leaves)
    out_tree = store[0]
    if out_tree is not None or outs[0].ndim != 0 or outs[0].dtype.kind != "f":
        _check_scalar_output(out_tree or tree_flatten(outs[0])[1], outs, name)
    grads = pullback((1.0,), create_graph)
    g = grads[0] if plain_leaf else tree_unflatten(in_tree, grads)
    out = outs[0] if create_graph else _C.stop_gradient(outs[0])
    return (out, g) if with_value else g


def grad(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    create_graph: bool = True,
    realize: bool = True,
    *,
    has_aux: bool = False,
) -> Callable:
    """Gradient of a scalar-valued ``fun`` with respect to argument(s) ``argnums``.

    The gradient has the pytree structure of the differentiated argument (a
    tuple of them when ``argnums`` is a tuple). ``create_graph=False`` returns
    constants to enclosing transforms; ``realize`` is accepted for API
    compatibility (results are always evaluated).

    >>> fx.grad(lambda x: fx.sum(x ** 2))(fx.asarray([1.0, 2.0]))   # [2., 4.]
    """
    del realize
    return _grad_impl(fun, argnums, create_graph, has_aux, False, "grad")


def value_and_grad(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    create_graph: bool = True,
    realize: bool = True,
    *,
    has_aux: bool = False,
) -> Callable:
    """Like :func:`grad`, returning ``(value, grad)`` (``((value, aux), grad)`` with has_aux).

    >>> v, g = fx.value_and_grad(lambda x: fx.sum(x ** 2))(fx.asarray([3.0]))
    """
    del realize
    return _grad_impl(fun, argnums, create_graph, has_aux, True, "value_and_grad")


# -------------------------------------------------------------------- jvp ---


def jvp(
    fn: Callable,
    primals: Sequence[Any],
    tangents: Sequence[Any],
    *,
    has_aux: bool = False,
    create_graph: bool = True,
):
    """Forward mode: ``(fn(*primals), J @ tangents)`` (and ``aux`` with has_aux).

    >>> fx.jvp(fx.sin, (fx.asarray(0.0),), (fx.asarray(1.0),))   # (0.0, 1.0)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (or lists)")
    p_leaves, p_tree = tree_flatten(tuple(primals))
    t_leaves, t_tree = tree_flatten(tuple(tangents))
    if p_tree != t_tree:
        raise ValueError(
            f"jvp: primals have structure {p_tree!r} but tangents have structure {t_tree!r}"
        )
    for i, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        ps, ts = _leaf_shape(p), _leaf_shape(t)
        if ps != ts:
            raise ValueError(
                f"jvp: tangent {i} has shape {_shape_str(ts)} but its primal has shape {_shape_str(ps)}"
            )
    store: dict[str, Any] = {}

    def flat_fn(leaves):
        out = fn(*tree_unflatten(p_tree, leaves))
        out, aux = _split_aux(out, has_aux, "jvp")
        out_leaves, store["out_tree"] = tree_flatten(out)
        aux_leaves: list = []
        if has_aux:
            aux_leaves, store["aux_tree"] = tree_flatten(aux)
        return out_leaves, aux_leaves

    outs, tans, aux = _C.jvp(flat_fn, p_leaves, t_leaves)
    out = tree_unflatten(store["out_tree"], outs)
    tan = tree_unflatten(store["out_tree"], tans)
    if not create_graph:
        out, tan = _stop(out), _stop(tan)
    if has_aux:
        return out, tan, tree_unflatten(store["aux_tree"], aux)
    return out, tan


# ------------------------------------------------------------------- vmap ---


def _broadcast_prefix(prefix: Any, tree: Any, what: str) -> list:
    """Expand a pytree prefix (of ints / None) to one entry per leaf of ``tree``."""
    out: list = []

    def rec(p, t):
        if p is None or isinstance(p, int):
            out.extend([p] * len(tree_flatten(t)[0]))
            return
        if isinstance(p, (tuple, list)) and isinstance(t, (tuple, list)):
            if len(p) != len(t):
                raise ValueError(
                    f"vmap {what} {p!r} has {len(p)} entries but there are {len(t)} values to map"
                )
            for pp, tt in zip(p, t):
                rec(pp, tt)
            return
        if isinstance(p, dict) and isinstance(t, dict):
            if sorted(p) != sorted(t):
                raise ValueError(f"vmap {what} keys {sorted(p)} do not match {sorted(t)}")
            for k in sorted(t):
                rec(p[k], t[k])
            return
        raise ValueError(f"vmap {what} {p!r} does not match the structure of the values {t!r}")

    rec(prefix, tree)
    return out


def vmap(
    fun: Callable,
    in_axes: Any = 0,
    out_axes: Any = 0,
    axis_size: int | None = None,
) -> Callable:
    """Vectorise ``fun`` over an axis of its arguments (``in_axes``) and results (``out_axes``).

    ``in_axes``/``out_axes`` are ints, None (not mapped) or pytrees of those, as in JAX.

    >>> fx.vmap(lambda a, b: a @ b, in_axes=(0, None))(fx.ones((5, 2, 3)), fx.ones(3))
    """

    @functools.wraps(fun)
    def batched(*args, **kwargs):
        if isinstance(in_axes, list):
            axes_spec = tuple(in_axes)
        else:
            axes_spec = in_axes
        if isinstance(axes_spec, tuple):
            if len(axes_spec) != len(args):
                raise ValueError(
                    f"vmap in_axes {in_axes!r} has {len(axes_spec)} entries but the function "
                    f"was called with {len(args)} positional arguments"
                )
        elif not (axes_spec is None or isinstance(axes_spec, (int, dict))):
            raise ValueError(f"vmap in_axes must be an int, None or a tuple, got {in_axes!r}")
        leaves, in_tree = tree_flatten(args)
        flat_axes = _broadcast_prefix(
            axes_spec if isinstance(axes_spec, tuple) else (axes_spec,) * len(args), args, "in_axes"
        )
        norm: list = []
        sizes = set()
        for leaf, ax in zip(leaves, flat_axes):
            if ax is None:
                norm.append(None)
                continue
            shape = _leaf_shape(leaf)
            if not -len(shape) <= ax < max(len(shape), 1) or not shape:
                raise ValueError(
                    f"vmap in_axes {ax} is out of range for an argument of shape {_shape_str(shape)}"
                )
            ax %= len(shape)
            norm.append(ax)
            sizes.add(shape[ax])
        if len(sizes) > 1:
            raise ValueError(f"vmap got inconsistent sizes for the mapped axes: {sorted(sizes)}")
        if axis_size is not None and (not isinstance(axis_size, int) or axis_size < 0):
            raise ValueError(f"vmap axis_size must be a non-negative int, got {axis_size!r}")
        if axis_size is not None:
            if sizes and axis_size not in sizes:
                raise ValueError(
                    f"vmap axis_size {axis_size} does not match the mapped size {sizes.pop()}"
                )
            size = axis_size
        elif sizes:
            size = sizes.pop()
        else:
            raise ValueError("vmap needs at least one mapped argument (or axis_size)")
        store: dict[str, Any] = {}

        def flat_fn(ls):
            out = fun(*tree_unflatten(in_tree, ls), **kwargs)
            out_leaves, store["out_tree"] = tree_flatten(out)
            return out_leaves, []

        outs, flags = _C.vmap(flat_fn, leaves, norm, size)
        out_tree = store["out_tree"]
        out_struct = tree_unflatten(out_tree, [0] * out_tree.num_leaves)
        flat_out_axes = _broadcast_prefix(out_axes, out_struct, "out_axes")
        results = []
        for o, batched_flag, oax in zip(outs, flags, flat_out_axes):
            if oax is None:
                if batched_flag:
                    raise ValueError(
                        "vmap out_axes None for an output that depends on the mapped axis"
                    )
                results.append(o)
                continue
            if not batched_flag:
                o = _C.broadcast_to(_C.expand_dims(o, 0), (size, *o.shape))
            nd = o.ndim
            if not -nd <= oax < nd:
                raise ValueError(
                    f"vmap out_axes {oax} is out of range for an output of rank {nd - 1}"
                )
            results.append(_C.moveaxis(o, 0, oax) if oax % nd else o)
        return tree_unflatten(out_tree, results)

    return batched


# -------------------------------------------------------------- jacobians ---


def _jac_setup(fun, argnums, args, kwargs, name):
    if argnums is None:
        nums = tuple(range(len(args)))
        single = len(args) == 1
    else:
        nums = _argnums_tuple(argnums, len(args), name)
        single = isinstance(argnums, int)
    inner = _partial_args(fun, args, nums, kwargs)
    diff = tuple(args[i] for i in nums)
    in_struct = diff[0] if single else diff
    return inner, diff, in_struct, single


def _check_chunk_size(chunk_size: Any, name: str) -> None:
    if chunk_size is None:
        return
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ValueError(f"{name}: chunk_size must be a positive int or None, got {chunk_size!r}")


def _check_outputs(out_tree: PyTreeDef, name: str) -> None:
    if out_tree.num_leaves == 0:
        raise TypeError(
            f"{name} needs a function that returns arrays, but it returned {out_tree!r} "
            "(no array leaves); did the function forget to return its result?"
        )


def _chunks(n: int, chunk_size: int | None):
    step = n if not chunk_size else chunk_size
    start = 0
    while start < n:
        yield start, min(step, n - start)
        start += step
    if n == 0:
        yield 0, 0


def jacrev(
    fun: Callable,
    argnums: int | Sequence[int] | None = None,
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
) -> Callable:
    """Jacobian by reverse mode: ``vmap`` of the VJP over one-hot output cotangents.

    An output leaf of shape ``S_out`` and an input leaf of shape ``S_in`` give
    a block of shape ``S_out + S_in``. ``chunk_size`` bounds how many basis
    vectors are pushed back at once.

    >>> fx.jacrev(lambda x: fx.sin(x) * x)(fx.ones(3)).shape   # (3, 3)
    """

    _check_chunk_size(chunk_size, "jacrev")

    @functools.wraps(fun)
    def jac(*args, **kwargs):
        inner, diff, in_struct, single = _jac_setup(fun, argnums, args, kwargs, "jacrev")
        outs, out_tree, pullback, in_tree, aux = _vjp_core(inner, diff, has_aux, "jacrev")
        _check_outputs(out_tree, "jacrev")
        in_leaves = tree_flatten(diff)[0]
        in_shapes = [_leaf_shape(x) for x in in_leaves]
        blocks_per_out = []
        for k, o in enumerate(outs):
            s_out = tuple(o.shape)
            n = math.prod(s_out)
            pieces: list[list] = [[] for _ in in_leaves]
            for start, count in _chunks(n, chunk_size):
                basis = _C._basis_chunk(start, count, list(s_out), o.dtype)

                def pull(ls, k=k):
                    cts = [None] * len(outs)
                    cts[k] = ls[0]
                    return pullback(cts, True), []

                gs, flags = _C.vmap(pull, [basis], [0], count)
                for j, (g, f) in enumerate(zip(gs, flags)):
                    if not f:
                        g = _C.broadcast_to(_C.expand_dims(g, 0), (count, *in_shapes[j]))
                    pieces[j].append(g)
            blocks = []
            for j, s_in in enumerate(in_shapes):
                full = pieces[j][0] if len(pieces[j]) == 1 else _C.concatenate(pieces[j], 0)
                blocks.append(_C.reshape(full, s_out + s_in))
            blocks_per_out.append(
                tree_unflatten(in_tree, blocks)[0] if single else tree_unflatten(in_tree, blocks)
            )
        result = tree_unflatten(out_tree, blocks_per_out)
        return (result, aux) if has_aux else result

    return jac


def jacfwd(
    fun: Callable,
    argnums: int | Sequence[int] | None = None,
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
) -> Callable:
    """Jacobian by forward mode: ``vmap`` of the JVP over one-hot input tangents.

    Same shapes and nesting as :func:`jacrev`.

    >>> fx.jacfwd(lambda x: x ** 2)(fx.asarray([1.0, 2.0]))   # diag([2., 4.])
    """

    _check_chunk_size(chunk_size, "jacfwd")

    @functools.wraps(fun)
    def jac(*args, **kwargs):
        inner, diff, in_struct, single = _jac_setup(fun, argnums, args, kwargs, name := "jacfwd")
        in_leaves, in_tree = tree_flatten(diff)
        in_leaves = [x if isinstance(x, Tensor) else _C.asarray(x) for x in in_leaves]
        for i, x in enumerate(in_leaves):
            if x.dtype.kind != "f":
                raise TypeError(
                    f"{name}: input {i} has dtype {x.dtype}; only float inputs can be differentiated"
                )
        store: dict[str, Any] = {}
        per_input: list[list] = []  # [j][k] -> block (S_out_k + S_in_j)
        for j, x in enumerate(in_leaves):
            s_in = tuple(x.shape)
            n = math.prod(s_in)
            pieces: list[list] = []
            for start, count in _chunks(n, chunk_size):
                basis = _C._basis_chunk(start, count, list(s_in), x.dtype)

                def push(ls, j=j):
                    tangents = [None] * len(in_leaves)
                    tangents[j] = ls[0]

                    def flat_fn(leaves):
                        out = inner(*tree_unflatten(in_tree, leaves))
                        out, aux = _split_aux(out, has_aux, name)
                        out_leaves, store["out_tree"] = tree_flatten(out)
                        aux_leaves: list = []
                        if has_aux:
                            aux_leaves, store["aux_tree"] = tree_flatten(aux)
                        return out_leaves, aux_leaves

                    outs, tans, aux = _C.jvp(flat_fn, in_leaves, tangents)
                    store["outs"] = outs
                    store["aux"] = aux
                    return tans, []

                tans, flags = _C.vmap(push, [basis], [0], count)
                chunk = []
                for t, f, o in zip(tans, flags, store["outs"]):
                    if not f:
                        t = _C.broadcast_to(_C.expand_dims(t, 0), (count, *o.shape))
                    chunk.append(t)
                pieces.append(chunk)
            blocks = []
            for k in range(len(pieces[0])):
                parts = [p[k] for p in pieces]
                full = parts[0] if len(parts) == 1 else _C.concatenate(parts, 0)
                s_out = tuple(full.shape[1:])
                moved = _C.moveaxis(full, 0, -1) if full.ndim > 1 else full
                blocks.append(_C.reshape(moved, s_out + s_in))
            per_input.append(blocks)
        out_tree = store["out_tree"]
        _check_outputs(out_tree, name)
        n_out = out_tree.num_leaves
        blocks_per_out = []
        for k in range(n_out):
            row = [per_input[j][k] for j in range(len(in_leaves))]
            blocks_per_out.append(
                tree_unflatten(in_tree, row)[0] if single else tree_unflatten(in_tree, row)
            )
        result = tree_unflatten(out_tree, blocks_per_out)
        if has_aux:
            aux = _unbatch_aux(store)
            return result, aux
        return result

    return jac


def _unbatch_aux(store):
    # aux of the last basis chunk: computed from primals only, so it is not batched
    return tree_unflatten(store["aux_tree"], store["aux"])


def hessian(fun: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """Hessian: ``jacfwd(jacrev(fun, argnums), argnums)``.

    >>> fx.hessian(lambda x: fx.sum(x ** 3))(fx.arange(3.0))   # diag(6x)
    """
    return jacfwd(jacrev(fun, argnums), argnums)

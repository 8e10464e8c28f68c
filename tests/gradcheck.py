"""Derivative checks for ferrax against central finite differences in float64.

All helpers take a function ``f`` of positional arguments ``args`` (pytrees whose
leaves are arrays) and an optional ``argnums``: the positions that are
differentiated (default: every argument). The other arguments are held fixed.

- :func:`check_jvp` — ``fx.jvp`` against a central difference along random tangents.
- :func:`check_vjp` — ``fx.vjp`` with random cotangents against ``ct @ J_fd``.
- :func:`check_jac` — ``fx.jacfwd == fx.jacrev == J_fd`` (shapes ``S_out + S_in``).
- :func:`check_vmap` — ``fx.vmap(f, in_axes)`` against a Python loop + stack.
- :func:`check_vmap_jvp` / :func:`check_vmap_vjp` — ``vmap`` of the JVP / VJP.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import ferrax as fx
import numpy as np
from ferrax import tree_util as tu

EPS = 1e-6


# ------------------------------------------------------------------ basics ---


def to_np(x: Any) -> np.ndarray:
    """A leaf as a NumPy array (a copy of a ferrax tensor's values)."""
    return np.array(np.asarray(x))


def tree_to_np(tree: Any) -> Any:
    return tu.tree_map(to_np, tree)


def assert_tree_allclose(
    actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8, err_msg: str = ""
) -> None:
    """Leafwise ``assert_allclose`` with equal structure and equal leaf shapes."""
    a_leaves, a_tree = tu.tree_flatten(actual)
    e_leaves, e_tree = tu.tree_flatten(expected)
    assert a_tree == e_tree, f"{err_msg}: structure {a_tree!r} != {e_tree!r}"
    for i, (a, e) in enumerate(zip(a_leaves, e_leaves, strict=True)):
        a, e = to_np(a), to_np(e)
        assert a.shape == e.shape, f"{err_msg}: leaf {i} shape {a.shape} != {e.shape}"
        np.testing.assert_allclose(
            a.astype(np.float64) if a.dtype.kind == "b" else a,
            e.astype(np.float64) if e.dtype.kind == "b" else e,
            rtol=rtol,
            atol=atol,
            err_msg=f"{err_msg} (leaf {i})",
        )


def _nums(argnums: int | Sequence[int] | None, nargs: int) -> tuple[int, ...]:
    if argnums is None:
        return tuple(range(nargs))
    if isinstance(argnums, int):
        return (argnums % nargs,)
    return tuple(a % nargs for a in argnums)


def partial_fn(f: Callable, args: Sequence[Any], argnums: Any = None) -> tuple[Callable, tuple]:
    """``f`` as a function of the arguments at ``argnums`` only, and those arguments."""
    nums = _nums(argnums, len(args))
    args = list(args)

    def g(*diff):
        full = list(args)
        for i, d in zip(nums, diff, strict=True):
            full[i] = d
        return f(*full)

    return g, tuple(args[i] for i in nums)


def _as_tensor_tree(tree: Any) -> Any:
    return tu.tree_map(lambda x: fx.asarray(x), tree)


def _flat_out(out: Any) -> np.ndarray:
    leaves = tu.tree_leaves(out)
    if not leaves:
        return np.zeros(0)
    return np.concatenate([to_np(x).astype(np.float64).ravel() for x in leaves])


def _rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(0 if seed is None else seed)


def random_like(tree: Any, rng: np.random.Generator) -> Any:
    """Standard-normal pytree with the shapes and dtypes of ``tree``."""

    def one(x):
        a = to_np(x)
        return rng.standard_normal(a.shape).astype(a.dtype)

    return tu.tree_map(one, tree)


def fd_jvp(g: Callable, primals: tuple, tangents: tuple, eps: float = EPS) -> np.ndarray:
    """Central difference of ``g`` at ``primals`` along ``tangents`` (flattened output)."""
    p_leaves, p_tree = tu.tree_flatten(primals)
    t_leaves = tu.tree_leaves(tangents)
    p_np = [to_np(p).astype(np.float64) for p in p_leaves]
    t_np = [to_np(t).astype(np.float64) for t in t_leaves]
    scale = max([1.0] + [float(np.max(np.abs(p))) for p in p_np if p.size])
    h = eps * scale
    dtypes = [to_np(p).dtype for p in p_leaves]

    def at(sign):
        leaves = [
            fx.asarray((p + sign * h * t).astype(d))
            for p, t, d in zip(p_np, t_np, dtypes, strict=True)
        ]
        return _flat_out(g(*tu.tree_unflatten(p_tree, leaves)))

    return (at(1.0) - at(-1.0)) / (2 * h)


def fd_jacobian(g: Callable, primals: tuple, eps: float = EPS) -> np.ndarray:
    """Dense finite-difference Jacobian of the flattened output w.r.t. the flattened inputs."""
    p_leaves, p_tree = tu.tree_flatten(primals)
    sizes = [to_np(p).size for p in p_leaves]
    n = sum(sizes)
    cols = []
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1.0
        parts, off = [], 0
        for p, s in zip(p_leaves, sizes, strict=True):
            parts.append(e[off : off + s].reshape(to_np(p).shape))
            off += s
        cols.append(fd_jvp(g, primals, tu.tree_unflatten(p_tree, parts), eps))
    m = _flat_out(g(*_as_tensor_tree(primals))).size
    return np.stack(cols, axis=1) if cols else np.zeros((m, 0))


# ------------------------------------------------------------------ checks ---


def check_jvp(
    f: Callable,
    args: Sequence[Any],
    argnums: Any = None,
    *,
    seed: int | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-7,
    eps: float = EPS,
    trials: int = 2,
) -> None:
    """``fx.jvp`` (primal and tangent outputs) against ``f`` and central differences."""
    g, primals = partial_fn(f, args, argnums)
    rng = _rng(seed)
    expected_out = g(*_as_tensor_tree(primals))
    for trial in range(trials):
        tangents = random_like(primals, rng)
        out, t_out = fx.jvp(g, primals, tangents)
        assert_tree_allclose(out, expected_out, 1e-12, 1e-12, "jvp primal output")
        assert tu.tree_structure(t_out) == tu.tree_structure(out)
        for o, t in zip(tu.tree_leaves(out), tu.tree_leaves(t_out), strict=True):
            assert to_np(t).shape == to_np(o).shape, "tangent shape differs from output"
            assert to_np(t).dtype == to_np(o).dtype, "tangent dtype differs from output"
        np.testing.assert_allclose(
            _flat_out(t_out),
            fd_jvp(g, primals, tangents, eps),
            rtol=rtol,
            atol=atol,
            err_msg=f"jvp vs finite differences (trial {trial})",
        )


def check_vjp(
    f: Callable,
    args: Sequence[Any],
    argnums: Any = None,
    *,
    seed: int | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-7,
    eps: float = EPS,
    trials: int = 2,
) -> None:
    """``fx.vjp`` with random cotangents against ``ct @ J`` with ``J`` by finite differences."""
    g, primals = partial_fn(f, args, argnums)
    rng = _rng(seed)
    out, vjp_fn = fx.vjp(g, *primals)
    assert_tree_allclose(out, g(*_as_tensor_tree(primals)), 1e-12, 1e-12, "vjp primal output")
    jac = fd_jacobian(g, primals, eps)
    p_leaves, p_tree = tu.tree_flatten(primals)
    for trial in range(trials):
        ct = random_like(out, rng)
        cts = vjp_fn(ct)
        assert isinstance(cts, tuple) and len(cts) == len(primals)
        assert tu.tree_structure(cts) == tu.tree_structure(tuple(primals)), "vjp structure"
        for c, p in zip(tu.tree_leaves(cts), p_leaves, strict=True):
            assert to_np(c).shape == to_np(p).shape, "cotangent shape differs from primal"
            assert to_np(c).dtype == to_np(p).dtype, "cotangent dtype differs from primal"
        np.testing.assert_allclose(
            _flat_out(cts),
            _flat_out(ct) @ jac,
            rtol=rtol,
            atol=atol,
            err_msg=f"vjp vs finite differences (trial {trial})",
        )


def check_jac(
    f: Callable,
    args: Sequence[Any],
    argnums: Any = None,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-7,
    eps: float = EPS,
) -> None:
    """``jacfwd == jacrev`` (tight) and both equal the finite-difference Jacobian.

    ``f`` must return a single array; the differentiated arguments must be arrays.
    """
    g, primals = partial_fn(f, args, argnums)
    nums = tuple(range(len(primals)))
    jf = fx.jacfwd(g, argnums=nums)(*primals)
    jr = fx.jacrev(g, argnums=nums)(*primals)
    out = to_np(g(*_as_tensor_tree(primals)))
    fd = fd_jacobian(g, primals, eps)
    off = 0
    for i, p in enumerate(primals):
        s_in = to_np(p).shape
        n = math.prod(s_in)
        expected = fd[:, off : off + n].reshape(out.shape + s_in)
        off += n
        a, b = to_np(jf[i]), to_np(jr[i])
        assert a.shape == out.shape + s_in, f"jacfwd shape {a.shape}"
        assert b.shape == out.shape + s_in, f"jacrev shape {b.shape}"
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=f"jacfwd != jacrev ({i})")
        np.testing.assert_allclose(a, expected, rtol=rtol, atol=atol, err_msg=f"jacfwd vs FD ({i})")


def check_hessian(
    f: Callable,
    args: Sequence[Any],
    argnums: Any = None,
    *,
    seed: int | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    eps: float = EPS,
) -> None:
    """Second derivatives: the Hessian of ``s = sum(w * f(args))`` (random weights ``w``)
    by ``fx.hessian`` (forward over reverse) and by ``jacrev(jacrev)`` equals the
    finite-difference Jacobian of ``fx.grad(s)``."""
    g, primals = partial_fn(f, args, argnums)
    rng = _rng(seed)
    w = random_like(g(*_as_tensor_tree(primals)), rng)

    def s(*p):
        out = g(*p)
        total = 0.0
        for o, wi in zip(tu.tree_leaves(out), tu.tree_leaves(w), strict=True):
            total = total + fx.sum(o * wi)
        return fx.asarray(total) if not isinstance(total, fx.Tensor) else total

    nums = tuple(range(len(primals)))
    grad_s = fx.grad(s, argnums=nums)
    fd = fd_jacobian(lambda *p: grad_s(*p), primals, eps)
    n = fd.shape[1]
    for name, hfun in (("hessian", fx.hessian), ("jacrev(jacrev)", _jacrev_jacrev)):
        h = hfun(s, argnums=nums)(*primals)
        rows = []
        for i in range(len(primals)):
            rows.append(
                np.concatenate(
                    [
                        to_np(h[i][j]).reshape(to_np(primals[i]).size, to_np(primals[j]).size)
                        for j in range(len(primals))
                    ],
                    axis=1,
                )
            )
        dense = np.concatenate(rows, axis=0) if rows else np.zeros((0, n))
        np.testing.assert_allclose(dense, fd, rtol=rtol, atol=atol, err_msg=f"{name} vs FD")


def _jacrev_jacrev(f: Callable, argnums: Any) -> Callable:
    return fx.jacrev(fx.jacrev(f, argnums=argnums), argnums=argnums)


def _take(x: Any, i: int, axis: int | None) -> Any:
    if axis is None:
        return x
    return np.take(to_np(x), i, axis=axis)


def _flat_axes(in_axes: Any, args: Sequence[Any]) -> list:
    """One axis (or None) per leaf of ``args`` from an ``in_axes`` prefix."""
    if in_axes is None or isinstance(in_axes, int):
        in_axes = (in_axes,) * len(args)
    out: list = []

    def rec(p, t):
        if p is None or isinstance(p, int):
            out.extend([p] * len(tu.tree_leaves(t)))
        elif isinstance(p, dict):
            for k in sorted(t):
                rec(p[k], t[k])
        else:
            for pp, tt in zip(p, t, strict=True):
                rec(pp, tt)

    rec(tuple(in_axes), tuple(args))
    return out


def vmap_loop(f: Callable, args: Sequence[Any], in_axes: Any = 0, out_axes: int = 0) -> Any:
    """The reference for ``vmap``: call ``f`` per batch index and stack the results."""
    leaves, tree = tu.tree_flatten(tuple(args))
    axes = _flat_axes(in_axes, args)
    sizes = {to_np(x).shape[a] for x, a in zip(leaves, axes, strict=True) if a is not None}
    assert len(sizes) == 1, f"batch sizes {sizes}"
    (n,) = sizes
    outs = []
    for i in range(n):
        sl = [fx.asarray(_take(x, i, a)) for x, a in zip(leaves, axes, strict=True)]
        outs.append(f(*tu.tree_unflatten(tree, sl)))
    o_leaves = [tu.tree_leaves(o) for o in outs]
    o_tree = tu.tree_structure(outs[0])
    stacked = [
        np.stack([to_np(o[k]) for o in o_leaves], axis=out_axes) for k in range(len(o_leaves[0]))
    ]
    return tu.tree_unflatten(o_tree, stacked)


def check_vmap(
    f: Callable,
    args: Sequence[Any],
    in_axes: Any = 0,
    out_axes: int = 0,
    *,
    rtol: float = 1e-12,
    atol: float = 1e-12,
) -> None:
    """``fx.vmap(f, in_axes, out_axes)(*args)`` equals a Python loop over the batch."""
    got = fx.vmap(f, in_axes=in_axes, out_axes=out_axes)(*args)
    expected = vmap_loop(f, args, in_axes, out_axes)
    assert_tree_allclose(got, expected, rtol, atol, f"vmap in_axes={in_axes!r}")
    for leaf in tu.tree_leaves(got):
        assert isinstance(leaf, fx.Tensor)


def batch_args(args: Sequence[Any], in_axes: Any, size: int = 3, seed: int = 1) -> tuple:
    """Batched versions of ``args``: ``size`` perturbed copies stacked at each ``in_axes``
    (entries ``None`` keep the argument as it is). Integer and bool leaves are repeated."""
    rng = np.random.default_rng(seed)
    leaves, tree = tu.tree_flatten(tuple(args))
    axes = _flat_axes(in_axes, args)
    out = []
    for x, a in zip(leaves, axes, strict=True):
        x = to_np(x)
        if a is None:
            out.append(x)
            continue
        if x.dtype.kind == "f":
            copies = [
                x + 0.1 * k * rng.standard_normal(x.shape).astype(x.dtype) for k in range(size)
            ]
            copies = [c.astype(x.dtype) for c in copies]
        else:
            copies = [x] * size
        out.append(np.stack(copies, axis=a))
    return tu.tree_unflatten(tree, out)


def check_vmap_jvp(
    f: Callable,
    args: Sequence[Any],
    argnums: Any = None,
    in_axes: Any = 0,
    *,
    size: int = 3,
    rtol: float = 1e-12,
    atol: float = 1e-12,
) -> None:
    """``vmap`` over (primals, tangents) of ``jvp`` equals a loop of ``jvp``.

    ``in_axes`` is an int or a tuple with one entry per differentiated argument."""
    g, primals = partial_fn(f, args, argnums)
    rng = np.random.default_rng(5)
    bp = batch_args(primals, in_axes, size)
    bt = tuple(
        tu.tree_map(lambda x: rng.standard_normal(to_np(x).shape).astype(to_np(x).dtype), p)
        for p in bp
    )
    k = len(primals)

    def h(*pt):
        return fx.jvp(g, tuple(pt[:k]), tuple(pt[k:]))

    axes = tuple(in_axes) if isinstance(in_axes, (tuple, list)) else (in_axes,) * k
    check_vmap(h, (*bp, *bt), axes + axes, rtol=rtol, atol=atol)


def check_vmap_vjp(
    f: Callable,
    args: Sequence[Any],
    argnums: Any = None,
    in_axes: Any = 0,
    *,
    size: int = 3,
    rtol: float = 1e-12,
    atol: float = 1e-12,
) -> None:
    """``vmap`` over (primals, cotangent) of ``vjp`` equals a loop of ``vjp``.

    ``in_axes`` is an int or a tuple with one entry per differentiated argument."""
    g, primals = partial_fn(f, args, argnums)
    rng = np.random.default_rng(6)
    bp = batch_args(primals, in_axes, size)
    out = g(*_as_tensor_tree(primals))
    ct = tu.tree_map(
        lambda o: np.stack(
            [rng.standard_normal(to_np(o).shape).astype(to_np(o).dtype) for _ in range(size)],
            axis=0,
        ),
        out,
    )
    k = len(primals)

    def h(*pc):
        _, vjp_fn = fx.vjp(g, *pc[:k])
        return vjp_fn(pc[k])

    axes = tuple(in_axes) if isinstance(in_axes, (tuple, list)) else (in_axes,) * k
    check_vmap(h, (*bp, ct), axes + (0,), rtol=rtol, atol=atol)


def check_all(f: Callable, args: Sequence[Any], argnums: Any = None, **tol: float) -> None:
    """jvp, vjp and Jacobian checks together."""
    check_jvp(f, args, argnums, **tol)
    check_vjp(f, args, argnums, **tol)
    check_jac(f, args, argnums, **tol)

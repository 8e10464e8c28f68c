"""The semantics of the transforms (pytrees, argnums, has_aux, kwargs,
Jacobian shapes and nesting, chunking, vmap axes, create_graph/realize, Python
control flow, reusable vjp functions) and ``fx.tree_util``."""

from __future__ import annotations

from collections import namedtuple

import ferrax as fx
import numpy as np
import pytest
from ferrax import tree_util as tu
from gradcheck import assert_tree_allclose, check_vmap, fd_jacobian, to_np

Params = namedtuple("Params", ["w", "b"])


class Affine:
    """A registered pytree node with static auxiliary data (``name``)."""

    def __init__(self, scale, shift, name="affine"):
        self.scale, self.shift, self.name = scale, shift, name

    def __eq__(self, other):  # structure-aware equality for tests
        return isinstance(other, Affine) and self.name == other.name


tu.register_pytree_node(
    Affine,
    lambda a: ((a.scale, a.shift), a.name),
    lambda name, children: Affine(*children, name=name),
)

X = np.array([0.5, -1.0, 2.0])
Y = np.array([[1.0, 2.0], [-0.5, 0.25]])


def _np(x):
    return to_np(x)


# ------------------------------------------------------------------ pytrees ---


def _tree_loss(p):
    """A scalar function of a nested pytree with every container kind."""
    (a, none_leaf), lst, d, nt, node = p
    assert none_leaf is None
    return (
        fx.sum(a**2)
        + fx.sum(fx.sin(lst[0]) * lst[1])
        + fx.sum(d["x"] * d["y"][0])
        + fx.sum(nt.w * nt.b)
        + fx.sum(node.scale * fx.exp(node.shift))
    )


def _tree_value():
    return (
        (np.array([1.0, 2.0]), None),
        [np.array([0.3, 0.4]), np.array(1.5)],
        {"y": (np.array([3.0, 4.0]),), "x": np.array([-1.0, 0.5])},
        Params(w=np.array([[1.0, 2.0]]), b=np.array([[0.5, -0.5]])),
        Affine(np.array(2.0), np.array([0.0, 1.0]), name="n1"),
    )


def test_grad_of_every_pytree_kind() -> None:
    p = _tree_value()
    g = fx.grad(_tree_loss)(p)
    (ga, gnone), glst, gd, gnt, gnode = g
    assert gnone is None
    assert isinstance(glst, list) and isinstance(gd, dict) and isinstance(gnt, Params)
    assert isinstance(gnode, Affine) and gnode.name == "n1"
    assert tu.tree_structure(g) == tu.tree_structure(p)
    assert all(isinstance(leaf, fx.Tensor) for leaf in tu.tree_leaves(g))
    np.testing.assert_allclose(_np(ga), [2.0, 4.0])
    np.testing.assert_allclose(_np(glst[0]), np.cos([0.3, 0.4]) * 1.5)
    np.testing.assert_allclose(_np(glst[1]), np.sin(0.3) + np.sin(0.4))
    assert _np(glst[1]).shape == ()
    np.testing.assert_allclose(_np(gd["x"]), [3.0, 4.0])
    np.testing.assert_allclose(_np(gd["y"][0]), [-1.0, 0.5])
    np.testing.assert_allclose(_np(gnt.w), [[0.5, -0.5]])
    np.testing.assert_allclose(_np(gnt.b), [[1.0, 2.0]])
    np.testing.assert_allclose(_np(gnode.scale), 1 + np.e)
    np.testing.assert_allclose(_np(gnode.shift), [2.0, 2.0 * np.e])


def test_pytree_outputs_of_jvp_vjp_and_vmap() -> None:
    def f(d):
        return {
            "sum": fx.sum(d["a"]),
            "pair": (d["a"] * 2.0, None),
            "lst": [Params(d["a"], -d["a"])],
        }

    d = {"a": X}
    out, t = fx.jvp(f, (d,), ({"a": np.ones(3)},))
    assert tu.tree_structure(out) == tu.tree_structure(t)
    assert t["pair"][1] is None and isinstance(t["lst"][0], Params)
    np.testing.assert_allclose(_np(t["sum"]), 3.0)
    np.testing.assert_allclose(_np(t["lst"][0].b), -np.ones(3))
    out, vjp_fn = fx.vjp(f, d)
    ct = {
        "sum": np.array(1.0),
        "pair": (np.array([1.0, 0.0, 0.0]), None),
        "lst": [Params(np.zeros(3), np.array([0.0, 0.0, 1.0]))],
    }
    (gd,) = vjp_fn(ct)
    np.testing.assert_allclose(_np(gd["a"]), [3.0, 1.0, 0.0])
    batched = fx.vmap(f)({"a": np.stack([X, 2 * X])})
    assert batched["pair"][1] is None
    np.testing.assert_allclose(_np(batched["sum"]), [X.sum(), 2 * X.sum()])
    check_vmap(f, ({"a": np.stack([X, 2 * X, -X], axis=0)},))


def test_registered_node_aux_data_survives_transforms() -> None:
    node = Affine(np.array([1.0, 2.0]), np.array([0.5, 0.5]), name="keep-me")

    def f(n):
        return Affine(n.scale * n.shift, n.shift**2, name=n.name + "!")

    out, t = fx.jvp(f, (node,), (Affine(np.ones(2), np.zeros(2), name="keep-me"),))
    assert out.name == "keep-me!" and t.name == "keep-me!"
    np.testing.assert_allclose(_np(t.scale), [0.5, 0.5])
    jac = fx.jacrev(f)(node)
    # output structure outside, input structure inside
    assert isinstance(jac, Affine) and isinstance(jac.scale, Affine)
    np.testing.assert_allclose(_np(jac.scale.scale), np.diag([0.5, 0.5]))
    np.testing.assert_allclose(_np(jac.scale.shift), np.diag([1.0, 2.0]))
    np.testing.assert_allclose(_np(jac.shift.scale), np.zeros((2, 2)))
    np.testing.assert_allclose(_np(jac.shift.shift), np.diag([1.0, 1.0]))
    jf = fx.jacfwd(f)(node)
    assert_tree_allclose(jf, jac, 1e-15, 1e-15, "jacfwd vs jacrev on a registered node")


def test_tree_util_functions() -> None:
    tree = {"b": (1, [2, None]), "a": Params(3, 4)}
    leaves, td = tu.tree_flatten(tree)
    assert leaves == [3, 4, 1, 2]  # dict keys sorted; None has no leaves
    assert tu.tree_leaves(tree) == leaves
    assert tu.tree_structure(tree) == td
    assert td.num_leaves == 4
    rebuilt = tu.tree_unflatten(td, [10, 20, 30, 40])
    assert rebuilt == {"a": Params(10, 20), "b": (30, [40, None])}
    assert type(rebuilt["a"]) is Params
    assert tu.tree_map(lambda x, y: x * y, (1, [2]), (3, [4])) == (3, [8])
    with pytest.raises(ValueError):
        tu.tree_map(lambda x, y: x, (1, 2), [1, 2])
    with pytest.raises(ValueError):
        tu.tree_unflatten(td, [1, 2])
    assert tu.tree_structure((1, 2)) != tu.tree_structure([1, 2])
    node = Affine(1, 2, name="z")
    leaves, td = tu.tree_flatten([node])
    assert leaves == [1, 2]
    assert tu.tree_unflatten(td, [5, 6])[0].name == "z"
    with pytest.raises(ValueError):
        tu.register_pytree_node(Affine, lambda a: ((), None), lambda aux, c: Affine(0, 0))


# ------------------------------------------------------------------ argnums ---


def _f3(a, b, c):
    return fx.sum(a * b**2 * fx.sin(c))


A3, B3, C3 = np.array([1.0, 2.0]), np.array([0.5, -1.5]), np.array([0.3, 0.9])


def _expected_f3_grads():
    return (B3**2 * np.sin(C3), 2 * A3 * B3 * np.sin(C3), A3 * B3**2 * np.cos(C3))


@pytest.mark.parametrize(
    "argnums, picks",
    [(0, 0), (1, 1), (2, 2), (-1, 2), (-3, 0), ((0, 2), (0, 2)), ((2, 0), (2, 0)), ((-1,), (2,))],
)
def test_grad_argnums(argnums, picks) -> None:
    exp = _expected_f3_grads()
    for transform in (fx.grad, lambda f, argnums: lambda *a: fx.value_and_grad(f, argnums)(*a)[1]):
        g = transform(_f3, argnums=argnums)(A3, B3, C3)
        if isinstance(argnums, int):
            assert isinstance(g, fx.Tensor)
            np.testing.assert_allclose(_np(g), exp[picks], rtol=1e-14)
        else:
            assert isinstance(g, tuple) and len(g) == len(picks)
            for gi, k in zip(g, picks, strict=True):
                np.testing.assert_allclose(_np(gi), exp[k], rtol=1e-14)


def test_value_and_grad_value() -> None:
    v, g = fx.value_and_grad(_f3, argnums=(0, 1))(A3, B3, C3)
    np.testing.assert_allclose(float(v), float(np.sum(A3 * B3**2 * np.sin(C3))), rtol=1e-15)
    assert isinstance(v, fx.Tensor) and v.shape == ()
    np.testing.assert_allclose(_np(g[1]), _expected_f3_grads()[1], rtol=1e-14)


@pytest.mark.parametrize("jac", [fx.jacrev, fx.jacfwd])
def test_jacobian_argnums(jac) -> None:
    def f(a, b):
        return a * b[0] + b[1] ** 2

    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.5, -2.0])
    # argnums=None with several arguments: a tuple with one entry per argument
    ja, jb = jac(f)(a, b)
    np.testing.assert_allclose(_np(ja), 0.5 * np.eye(3))
    np.testing.assert_allclose(_np(jb), np.stack([a, np.full(3, -4.0)], axis=1))
    # int argnums: the entry alone; tuple: a tuple; negative counts from the end
    np.testing.assert_allclose(_np(jac(f, argnums=1)(a, b)), _np(jb))
    np.testing.assert_allclose(_np(jac(f, argnums=-2)(a, b)), _np(ja))
    (only_b,) = jac(f, argnums=(1,))(a, b)
    np.testing.assert_allclose(_np(only_b), _np(jb))
    # argnums=None with a single argument: the entry alone, not a 1-tuple
    j = jac(lambda x: x**2)(a)
    assert isinstance(j, fx.Tensor)
    np.testing.assert_allclose(_np(j), np.diag(2 * a))
    jt = jac(lambda p: p[0] * p[1])((a, a))
    assert isinstance(jt, tuple) and len(jt) == 2
    np.testing.assert_allclose(_np(jt[0]), np.diag(a))


# ------------------------------------------------------------------ has_aux ---


def test_has_aux_grad_and_value_and_grad() -> None:
    def f(x):
        return fx.sum(x**2), {"double": 2 * x, "label": "aux", "n": 3}

    g, aux = fx.grad(f, has_aux=True)(X)
    np.testing.assert_allclose(_np(g), 2 * X)
    np.testing.assert_allclose(_np(aux["double"]), 2 * X)
    assert aux["label"] == "aux" and aux["n"] == 3
    (v, aux2), g2 = fx.value_and_grad(f, has_aux=True)(X)
    np.testing.assert_allclose(float(v), np.sum(X**2))
    np.testing.assert_allclose(_np(g2), 2 * X)
    np.testing.assert_allclose(_np(aux2["double"]), 2 * X)
    # aux is a value, not differentiated: a gradient through aux in an outer grad is allowed
    outer = fx.grad(lambda x: fx.sum(fx.grad(f, has_aux=True)(x)[1]["double"] * x))(X)
    np.testing.assert_allclose(_np(outer), 4 * X)


def test_has_aux_vjp_and_jvp() -> None:
    def f(x):
        return fx.sin(x), (x * 3, [fx.sum(x)])

    out, vjp_fn, aux = fx.vjp(f, X, has_aux=True)
    np.testing.assert_allclose(_np(out), np.sin(X))
    np.testing.assert_allclose(_np(aux[0]), 3 * X)
    np.testing.assert_allclose(_np(aux[1][0]), X.sum())
    (g,) = vjp_fn(np.ones(3))
    np.testing.assert_allclose(_np(g), np.cos(X))
    out, t, aux = fx.jvp(f, (X,), (np.array([1.0, 0.0, 2.0]),), has_aux=True)
    np.testing.assert_allclose(_np(t), np.cos(X) * [1.0, 0.0, 2.0])
    np.testing.assert_allclose(_np(aux[0]), 3 * X)
    assert isinstance(aux[1], list)


@pytest.mark.parametrize("jac", [fx.jacrev, fx.jacfwd])
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_has_aux_jacobians(jac, chunk_size) -> None:
    def f(x):
        return x**2, {"val": fx.exp(x), "s": fx.sum(x)}

    j, aux = jac(f, has_aux=True, chunk_size=chunk_size)(X)
    np.testing.assert_allclose(_np(j), np.diag(2 * X))
    # aux is the plain value at the primal point (not batched over the basis)
    assert _np(aux["val"]).shape == (3,)
    np.testing.assert_allclose(_np(aux["val"]), np.exp(X))
    np.testing.assert_allclose(_np(aux["s"]), X.sum())


def test_hessian_with_has_aux_like_usage() -> None:
    # jacfwd of a has_aux jacrev: aux is passed through both levels
    f = lambda x: (fx.sum(x**3), x * 2)  # noqa: E731
    h, aux = fx.jacfwd(fx.jacrev(f, has_aux=True), has_aux=True)(X)
    np.testing.assert_allclose(_np(h), np.diag(6 * X))
    np.testing.assert_allclose(_np(aux), 2 * X)


# ------------------------------------------------------------------- kwargs ---


def test_kwargs_are_passed_through_and_not_differentiated() -> None:
    seen = []

    def f(x, *, scale, shift=0.0, tag="t"):
        seen.append(tag)
        return fx.sum(scale * x**2 + shift)

    scale = np.array([1.0, 2.0, 3.0])
    g = fx.grad(f)(X, scale=scale, shift=np.array(5.0), tag="grad")
    np.testing.assert_allclose(_np(g), 2 * scale * X)
    v, g = fx.value_and_grad(f)(X, scale=scale, tag="vg")
    np.testing.assert_allclose(float(v), np.sum(scale * X**2))
    jr = fx.jacrev(lambda x, k: x * k)(X, k=scale)
    jf = fx.jacfwd(lambda x, k: x * k)(X, k=scale)
    assert isinstance(jr, fx.Tensor)  # only the positional argument is differentiated
    np.testing.assert_allclose(_np(jr), np.diag(scale))
    np.testing.assert_allclose(_np(jf), np.diag(scale))
    h = fx.hessian(f)(X, scale=scale, tag="h")
    np.testing.assert_allclose(_np(h), np.diag(2 * scale))
    assert {"grad", "vg", "h"} <= set(seen)


def test_kwargs_of_vmap_are_passed_through_unmapped() -> None:
    # keyword arguments are passed through (only in_axes decide what is mapped)
    out = fx.vmap(lambda x, *, w: x * w)(np.ones((4, 3)), w=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(_np(out), np.tile([1.0, 2.0, 3.0], (4, 1)))
    g = fx.vmap(fx.grad(lambda x, *, w: fx.sum(x * w)))(np.ones((2, 3)), w=np.arange(3.0))
    np.testing.assert_allclose(_np(g), np.tile(np.arange(3.0), (2, 1)))


# --------------------------------------------------------- Jacobian shapes ---


@pytest.mark.parametrize("jac", [fx.jacrev, fx.jacfwd])
@pytest.mark.parametrize(
    "s_in, s_out",
    [((), ()), ((3,), ()), ((), (2,)), ((2, 3), (4,)), ((3,), (2, 2)), ((2, 1), (1, 3, 2))],
)
def test_jacobian_shape_is_out_plus_in(jac, s_in, s_out) -> None:
    n_in, n_out = int(np.prod(s_in)), int(np.prod(s_out))
    m = np.sin(np.arange(1.0, n_in * n_out + 1)).reshape(n_out, n_in)

    def f(x):
        flat = fx.reshape(x, (n_in,))
        return fx.reshape(fx.tanh(fx.asarray(m) @ flat), s_out)

    x = np.cos(np.arange(n_in, dtype=float)).reshape(s_in)
    j = jac(f)(x)
    assert tuple(j.shape) == s_out + s_in
    expected = fd_jacobian(f, (x,)).reshape(s_out + s_in)
    np.testing.assert_allclose(_np(j), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("jac", [fx.jacrev, fx.jacfwd])
def test_jacobian_pytree_of_pytrees(jac) -> None:
    def f(p, q):
        return {
            "u": p["a"] * q[0],  # (3,)
            "v": [fx.sum(p["b"] ** 2), p["b"] @ p["a"][:2]],  # (), ()
        }

    p = {"a": np.array([1.0, 2.0, 3.0]), "b": np.array([0.5, -1.0])}
    q = (np.array(2.0), np.array([7.0]))
    j = jac(f)(p, q)
    # output structure outside, then the tuple of arguments, then each input's structure
    assert set(j) == {"u", "v"} and isinstance(j["v"], list)
    ju_p, ju_q = j["u"]
    assert set(ju_p) == {"a", "b"} and isinstance(ju_q, tuple)
    np.testing.assert_allclose(_np(ju_p["a"]), 2 * np.eye(3))
    assert _np(ju_p["b"]).shape == (3, 2)
    np.testing.assert_allclose(_np(ju_p["b"]), np.zeros((3, 2)))
    np.testing.assert_allclose(_np(ju_q[0]), p["a"])
    assert _np(ju_q[1]).shape == (3, 1)
    np.testing.assert_allclose(_np(ju_q[1]), np.zeros((3, 1)))
    jv0_p = j["v"][0][0]
    np.testing.assert_allclose(_np(jv0_p["b"]), 2 * p["b"])
    assert _np(jv0_p["a"]).shape == (3,)
    jv1_p = j["v"][1][0]
    np.testing.assert_allclose(_np(jv1_p["a"]), [0.5, -1.0, 0.0])
    np.testing.assert_allclose(_np(jv1_p["b"]), [1.0, 2.0])
    # the other mode gives the same pytree
    other = (fx.jacfwd if jac is fx.jacrev else fx.jacrev)(f)(p, q)
    assert_tree_allclose(j, other, 1e-15, 1e-15, "jacrev vs jacfwd")


@pytest.mark.parametrize("jac", [fx.jacrev, fx.jacfwd])
@pytest.mark.parametrize("chunk_size", [1, 2, 5, 7, 100])
def test_chunk_size_gives_the_same_jacobian(jac, chunk_size) -> None:
    def f(a, b):
        return {"x": fx.sin(a) @ b, "y": fx.cumsum(a.reshape(-1) * b[0, 0])}

    a = np.linspace(-1, 1, 6).reshape(2, 3)  # n_in = 6 (+ 12), n_out = 8 (+ 6)
    b = np.cos(np.arange(12.0)).reshape(3, 4)
    full = jac(f)(a, b)
    chunked = jac(f, chunk_size=chunk_size)(a, b)
    assert_tree_allclose(chunked, full, 0, 1e-15, f"chunk_size={chunk_size}")
    ref = fx.jacfwd(f)(a, b) if jac is fx.jacrev else fx.jacrev(f)(a, b)
    assert_tree_allclose(chunked, ref, 1e-14, 1e-14, "vs the other mode")
    np.testing.assert_allclose(
        _np(chunked["x"][0]).reshape(8, 6),
        fd_jacobian(lambda x: f(x, b)["x"], (a,)),
        rtol=1e-6,
        atol=1e-8,
    )


# --------------------------------------------------------------------- vmap ---


def test_vmap_in_axes_ints_none_negative() -> None:
    a = np.arange(24.0).reshape(2, 3, 4) / 10
    b = np.arange(4.0) + 1
    f = lambda x, y: fx.sum(x * y, axis=-1)  # noqa: E731
    cases = [
        (0, (a, np.stack([b, -b]))),
        ((1, None), (a, b)),
        ((-1, 0), (a, np.arange(12.0).reshape(4, 3))),
        ((-3, None), (a, b)),
        ([0, None], (a, b)),
        ((None, 1), (a, np.arange(20.0).reshape(4, 5))),
        ((-2, -1), (a, np.arange(12.0).reshape(4, 3))),
    ]
    for axes, args in cases:
        check_vmap(f, args, tuple(axes) if isinstance(axes, list) else axes)
    out = fx.vmap(f, in_axes=(-1, 0))(a, np.arange(12.0).reshape(4, 3))
    expected = np.einsum("ijk,kj->ki", a, np.arange(12.0).reshape(4, 3))
    np.testing.assert_allclose(_np(out), expected, rtol=1e-14)


def test_vmap_out_axes() -> None:
    x = np.arange(6.0).reshape(2, 3)

    def f(r):
        return {"row": r * 2, "sum": fx.sum(r)}

    for out_axes, row_shape in [
        (0, (2, 3)),
        (-1, (3, 2)),
        ({"row": 1, "sum": 0}, (3, 2)),
        ({"row": -1, "sum": -1}, (3, 2)),
        ({"row": 0, "sum": -1}, (2, 3)),
    ]:
        out = fx.vmap(f, out_axes=out_axes)(x)
        assert tuple(out["row"].shape) == row_shape
        expected = 2 * x if row_shape == (2, 3) else 2 * x.T
        np.testing.assert_allclose(_np(out["row"]), expected)
        np.testing.assert_allclose(_np(out["sum"]), x.sum(1))
    # out_axes=None for an output that does not depend on the mapped axis
    out = fx.vmap(lambda r, c: (r * 2, c + 1), in_axes=(0, None), out_axes=(0, None))(x, X)
    np.testing.assert_allclose(_np(out[1]), X + 1)
    # a 3-d output moved to the middle
    out = fx.vmap(lambda r: fx.outer(r, r), out_axes=1)(x)
    assert tuple(out.shape) == (3, 2, 3)
    np.testing.assert_allclose(_np(out), np.einsum("bi,bj->ibj", x, x))


def test_vmap_pytree_in_axes() -> None:
    params = {"w": np.arange(6.0).reshape(3, 2), "b": np.array([1.0, -1.0])}
    xs = np.arange(12.0).reshape(4, 3) / 10

    def f(p, x):
        return fx.tanh(x @ p["w"] + p["b"])

    out = fx.vmap(f, in_axes=({"w": None, "b": None}, 0))(params, xs)
    np.testing.assert_allclose(_np(out), np.tanh(xs @ params["w"] + params["b"]), rtol=1e-14)
    check_vmap(f, (params, xs), ({"w": None, "b": None}, 0))
    # mapped over the parameters instead: a batch of biases, shared weights
    bs = np.stack([params["b"], 2 * params["b"], 0 * params["b"]])
    pb = {"w": params["w"], "b": bs}
    out = fx.vmap(f, in_axes=({"w": None, "b": 0}, None))(pb, xs[0])
    np.testing.assert_allclose(_np(out), np.tanh(xs[0] @ params["w"] + bs), rtol=1e-14)
    # nested tuple in_axes
    out = fx.vmap(lambda t: t[0] * t[1], in_axes=((1, None),))((np.ones((3, 5)), X))
    assert tuple(out.shape) == (5, 3)
    np.testing.assert_allclose(_np(out), np.tile(X, (5, 1)))


def test_vmap_axis_size() -> None:
    out = fx.vmap(lambda x: x * 2, in_axes=None, axis_size=4)(X)
    assert tuple(out.shape) == (4, 3)
    np.testing.assert_allclose(_np(out), np.tile(2 * X, (4, 1)))
    out = fx.vmap(lambda x, y: x + y, in_axes=(0, None), axis_size=2)(np.ones((2, 3)), X)
    np.testing.assert_allclose(_np(out), 1 + np.tile(X, (2, 1)))
    out = fx.vmap(lambda: fx.ones(2), axis_size=3)()
    np.testing.assert_allclose(_np(out), np.ones((3, 2)))


def test_vmap_nested_and_of_transforms() -> None:
    a = np.arange(24.0).reshape(2, 3, 4) / 10
    f = lambda x, y: fx.sin(x) * y  # noqa: E731
    out = fx.vmap(fx.vmap(f, in_axes=(1, None)), in_axes=(0, 0))(a, a[:, :, 0])
    expected = np.sin(np.moveaxis(a, 1, 2)) * a[:, None, :, 0]
    np.testing.assert_allclose(_np(out), expected, rtol=1e-14)
    check_vmap(fx.vmap(lambda r: fx.sum(fx.exp(r))), (a,), 2)
    check_vmap(fx.jacfwd(lambda r: fx.cumsum(r**2)), (a[0],), 1)


# --------------------------------------------------- create_graph, realize ---


def test_create_graph_false_results_are_constants() -> None:
    cube = lambda b: b**3  # noqa: E731
    assert float(fx.grad(lambda a: fx.grad(cube, create_graph=False)(a))(2.0)) == 0.0
    assert float(fx.grad(lambda a: fx.grad(cube)(a))(2.0)) == 12.0
    vg = lambda a: fx.value_and_grad(cube, create_graph=False)(a)  # noqa: E731
    assert float(fx.grad(lambda a: vg(a)[0] + vg(a)[1])(2.0)) == 0.0
    assert float(fx.grad(lambda a: fx.jvp(cube, (a,), (1.0,), create_graph=False)[1])(2.0)) == 0.0
    assert float(fx.grad(lambda a: fx.jvp(cube, (a,), (1.0,))[1])(2.0)) == 12.0
    assert float(fx.grad(lambda a: fx.vjp(cube, a, create_graph=False)[1](1.0)[0])(2.0)) == 0.0
    assert float(fx.grad(lambda a: fx.vjp(cube, a)[1](1.0)[0])(2.0)) == 12.0
    # the value itself is right
    assert float(fx.grad(cube, create_graph=False)(2.0)) == 12.0
    # forward mode over it: also a constant
    _, t = fx.jvp(lambda a: fx.grad(cube, create_graph=False)(a), (2.0,), (1.0,))
    assert float(t) == 0.0


@pytest.mark.parametrize("create_graph", [True, False])
def test_realize_false_equals_realize_true(create_graph: bool) -> None:
    f = lambda x, y: fx.sum(fx.tanh(x @ y) ** 2)  # noqa: E731
    x, y = Y, np.array([[0.5, 1.0, -1.0], [2.0, 0.1, 0.3]])
    a = fx.grad(f, argnums=(0, 1), create_graph=create_graph, realize=True)(x, y)
    b = fx.grad(f, argnums=(0, 1), create_graph=create_graph, realize=False)(x, y)
    assert_tree_allclose(b, a, 0, 0, "realize")
    va, ga = fx.value_and_grad(f, realize=True)(x, y)
    vb, gb = fx.value_and_grad(f, realize=False)(x, y)
    assert float(va) == float(vb)
    np.testing.assert_array_equal(_np(gb), _np(ga))
    # unrealized results compose with further operations and transforms
    h = fx.jacfwd(lambda x: fx.grad(f, realize=False)(x, y))(x)
    h2 = fx.jacfwd(lambda x: fx.grad(f)(x, y))(x)
    np.testing.assert_array_equal(_np(h), _np(h2))
    gl = fx.grad(f, realize=False)(x, y)
    np.testing.assert_array_equal(_np(gl * 2), 2 * _np(ga))


# ------------------------------------------------------- Python control flow ---


def _branchy(x):
    if fx.sum(x) > 0:
        return x**2
    return x**3


def _sqrt_newton(a):
    y = a
    err = fx.max(fx.abs(y * y - a))
    while err > 1e-13:
        y = 0.5 * (y + a / y)
        err = fx.max(fx.abs(y * y - a))
    return y


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_control_flow_on_values_under_every_differentiating_transform(sign: float) -> None:
    x = sign * np.array([0.5, 1.0, 2.0])
    d = 2 * x if sign > 0 else 3 * x**2
    np.testing.assert_allclose(_np(fx.grad(lambda v: fx.sum(_branchy(v)))(x)), d)
    _, t = fx.jvp(_branchy, (x,), (np.ones(3),))
    np.testing.assert_allclose(_np(t), d)
    np.testing.assert_allclose(_np(fx.jacfwd(_branchy)(x)), np.diag(d))
    np.testing.assert_allclose(_np(fx.jacrev(_branchy)(x)), np.diag(d))
    (g,) = fx.vjp(_branchy, x)[1](np.ones(3))
    np.testing.assert_allclose(_np(g), d)
    dd = 2.0 if sign > 0 else 6 * x
    np.testing.assert_allclose(
        _np(fx.hessian(lambda v: fx.sum(_branchy(v)))(x)), np.diag(np.broadcast_to(dd, (3,)))
    )


def test_while_loop_on_values() -> None:
    a = np.array([2.0, 9.0, 0.25])
    np.testing.assert_allclose(_np(_sqrt_newton(fx.asarray(a))), np.sqrt(a), rtol=1e-14)
    d = 0.5 / np.sqrt(a)
    np.testing.assert_allclose(_np(fx.grad(lambda v: fx.sum(_sqrt_newton(v)))(a)), d, rtol=1e-10)
    np.testing.assert_allclose(_np(fx.jacfwd(_sqrt_newton)(a)), np.diag(d), rtol=1e-10)
    np.testing.assert_allclose(_np(fx.jacrev(_sqrt_newton)(a)), np.diag(d), rtol=1e-10)
    _, t = fx.jvp(_sqrt_newton, (a,), (np.ones(3),))
    np.testing.assert_allclose(_np(t), d, rtol=1e-10)
    # the iteration count depends on the value: comparisons and bool() work, and
    # int() of a comparison (a bool without derivative) too
    f = lambda v: v * (2.0 if v > 0 else 3.0) + v * int(v > 1)  # noqa: E731
    assert float(fx.grad(f)(1.5)) == 3.0
    assert float(fx.grad(f)(-1.5)) == 3.0


def test_value_dependent_branch_under_vmap_raises_and_mentions_vmap() -> None:
    xs = np.ones((3, 2))
    for fn in (
        _branchy,
        lambda x: x * float(fx.sum(x)),
        lambda x: x if bool(x[0] > 0) else -x,
        lambda x: x * x.sum().item(),
        _sqrt_newton,
    ):
        with pytest.raises(Exception, match="vmap") as info:
            fx.vmap(fn)(xs)
        assert isinstance(info.value, (RuntimeError, TypeError, ValueError))
    # the same error through an enclosing transform, and nothing leaks afterwards
    with pytest.raises(Exception, match="vmap"):
        fx.grad(lambda x: fx.sum(fx.vmap(_branchy)(x)))(xs)
    assert fx._ferrax._trace_depth() == 0
    np.testing.assert_allclose(_np(fx.vmap(lambda x: x * 2)(xs)), 2 * xs)
    # branching on an unmapped argument inside vmap is fine
    out = fx.vmap(lambda x, c: x * 2 if float(c) > 0 else x, in_axes=(0, None))(xs, 1.0)
    np.testing.assert_allclose(_np(out), 2 * xs)


# ---------------------------------------------------------- vjp_fn reuse ---


def test_vjp_fn_can_be_called_many_times() -> None:
    a = np.array([[0.5, -1.0], [2.0, 0.3]])
    out, vjp_fn = fx.vjp(lambda m, v: fx.tanh(m @ v), a, X[:2])
    jac_m = fd_jacobian(lambda m: fx.tanh(m @ X[:2]), (a,))
    jac_v = fd_jacobian(lambda v: fx.tanh(a @ v), (X[:2],))
    rng = np.random.default_rng(0)
    for _ in range(12):
        ct = rng.standard_normal(2)
        gm, gv = vjp_fn(ct)
        np.testing.assert_allclose(_np(gm).ravel(), ct @ jac_m, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(_np(gv), ct @ jac_v, rtol=1e-6, atol=1e-8)
        # other transforms between the calls do not disturb it
        fx.grad(lambda z: fx.sum(z**2))(X)
    # and it is itself differentiable / batchable
    cts = rng.standard_normal((5, 2))
    batched = fx.vmap(vjp_fn)(cts)
    np.testing.assert_allclose(_np(batched[1]), cts @ jac_v, rtol=1e-6, atol=1e-8)
    g = fx.grad(lambda c: fx.sum(vjp_fn(c)[1] ** 2))(np.array([1.0, 0.0]))
    np.testing.assert_allclose(_np(g), 2 * jac_v @ jac_v[0], rtol=1e-5, atol=1e-8)


def test_zero_and_partial_derivatives() -> None:
    # inputs that do not reach the output get zeros of their shape and dtype
    g = fx.grad(lambda a, b: fx.sum(b**2), argnums=(0, 1))(X.astype(np.float32), X)
    assert g[0].dtype == np.float32 and tuple(g[0].shape) == (3,)
    np.testing.assert_array_equal(_np(g[0]), np.zeros(3))
    _, vjp_fn = fx.vjp(lambda a, b: a * 2, X, Y)
    ga, gb = vjp_fn(np.ones(3))
    np.testing.assert_array_equal(_np(gb), np.zeros((2, 2)))
    _, t = fx.jvp(lambda a, b: a * b, (X, X), (np.ones(3), np.zeros(3)))
    np.testing.assert_allclose(_np(t), X)
    _, t = fx.jvp(lambda a: fx.ones(3), (X,), (np.ones(3),))
    np.testing.assert_array_equal(_np(t), np.zeros(3))
    j = fx.jacrev(lambda a: fx.ones(2))(X)
    np.testing.assert_array_equal(_np(j), np.zeros((2, 3)))
    j = fx.jacfwd(lambda a: fx.ones(2))(X)
    np.testing.assert_array_equal(_np(j), np.zeros((2, 3)))
    assert float(fx.grad(lambda a: 1.0)(3.0)) == 0.0


def test_python_scalars_and_numpy_arrays_as_primals() -> None:
    g = fx.grad(lambda a, b: a * b**2, argnums=(0, 1))(3.0, np.float64(2.0))
    assert all(isinstance(x, fx.Tensor) for x in g)
    assert float(g[0]) == 4.0 and float(g[1]) == 12.0
    assert g[0].dtype == np.float64
    out, t = fx.jvp(lambda a: a * a, (3.0,), (1.0,))
    assert isinstance(out, fx.Tensor) and float(out) == 9.0 and float(t) == 6.0
    j = fx.jacfwd(lambda a: a**2)(3.0)
    assert tuple(j.shape) == () and float(j) == 6.0
    j = fx.jacrev(lambda a: fx.stack([a, a**2]))(3.0)
    np.testing.assert_allclose(_np(j), [1.0, 6.0])


def test_transform_outputs_are_ferrax_tensors() -> None:
    for out in (
        fx.grad(lambda x: fx.sum(x))(X),
        fx.jacrev(lambda x: x)(X),
        fx.jacfwd(lambda x: x)(X),
        fx.hessian(lambda x: fx.sum(x**2))(X),
        fx.vmap(lambda x: x)(Y),
        fx.jvp(lambda x: x, (X,), (X,))[1],
        fx.vjp(lambda x: x, X)[1](X)[0],
    ):
        assert isinstance(out, fx.Tensor)


def test_branch_on_an_unbatched_traced_value_inside_vmap() -> None:
    xs = np.arange(6.0).reshape(2, 3)

    def f(w):
        return fx.sum(fx.vmap(lambda x: x * w if w > 0 else x)(xs))

    assert float(fx.grad(f)(2.0)) == xs.sum()
    assert float(fx.grad(f)(-2.0)) == 0.0
    # jacfwd: the primal is unbatched although the tangent basis is batched
    j = fx.jacfwd(
        lambda w: fx.vmap(lambda x, v: x * v if fx.sum(v) > 0 else x, in_axes=(0, None))(xs, w)
    )(np.array([1.0, 2.0, 3.0]))
    expected = np.zeros((2, 3, 3))
    for b in range(2):
        expected[b] = np.diag(xs[b])
    np.testing.assert_allclose(_np(j), expected)


def test_has_aux_with_argnums_tuples_and_chunks() -> None:
    a, b = np.array([0.0, 1.0, 2.0]), np.array([3.0, 4.0, 5.0])
    (ga, gb), aux = fx.grad(lambda x, y: (fx.sum(x * y), "aux"), argnums=(0, 1), has_aux=True)(a, b)
    np.testing.assert_allclose(_np(ga), b)
    np.testing.assert_allclose(_np(gb), a)
    assert aux == "aux"
    (v, aux), (ga, gb) = fx.value_and_grad(
        lambda x, y: (fx.sum(x * y), {"k": x}), argnums=(1, 0), has_aux=True
    )(a, b)
    assert float(v) == 14.0
    np.testing.assert_allclose(_np(ga), a)  # argnums order is kept: (d/dy, d/dx)
    np.testing.assert_allclose(_np(gb), b)
    np.testing.assert_allclose(_np(aux["k"]), a)
    for jac in (fx.jacrev, fx.jacfwd):
        (ja, jb), aux = jac(
            lambda x, y: (x * y, x + 1), argnums=(0, 1), has_aux=True, chunk_size=2
        )(a, b)
        np.testing.assert_allclose(_np(ja), np.diag(b))
        np.testing.assert_allclose(_np(jb), np.diag(a))
        np.testing.assert_allclose(_np(aux), a + 1)


def test_none_leaves_in_outputs() -> None:
    for jac in (fx.jacrev, fx.jacfwd):
        j = jac(lambda x: (x * 2, None))(X)
        assert j[1] is None
        np.testing.assert_allclose(_np(j[0]), 2 * np.eye(3))
    out = fx.vmap(lambda x: {"a": x, "n": None})(Y)
    assert out["n"] is None
    np.testing.assert_allclose(_np(out["a"]), Y)


def test_hessian_argnums_tuple_is_nested() -> None:
    a, b = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    h = fx.hessian(lambda x, y: fx.sum(x * x * y), argnums=(0, 1))(a, b)
    assert isinstance(h, tuple) and all(isinstance(r, tuple) and len(r) == 2 for r in h)
    np.testing.assert_allclose(_np(h[0][0]), np.diag(2 * b))
    np.testing.assert_allclose(_np(h[0][1]), np.diag(2 * a))
    np.testing.assert_allclose(_np(h[1][0]), np.diag(2 * a))
    np.testing.assert_allclose(_np(h[1][1]), np.zeros((2, 2)))
    h1 = fx.hessian(lambda x, y: fx.sum(x * x * y), argnums=1)(a, b)
    np.testing.assert_allclose(_np(h1), np.zeros((2, 2)))


@pytest.mark.parametrize("n", [1, 3])
def test_vmap_of_matmul_against_an_unbatched_matrix_folds_into_one_product(n):
    """Both operand orders of the folded batch rule, vector (n=1) and matrix
    right-hand sides, values against a loop, and derivatives through it."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 5))
    xs = rng.standard_normal((6, 5, n))
    ys = rng.standard_normal((6, 2, 4))
    left = fx.vmap(lambda x: w @ x)(xs)
    np.testing.assert_allclose(np.asarray(left), np.stack([w @ x for x in xs]), rtol=1e-12)
    right = fx.vmap(lambda y: y @ w)(ys)
    np.testing.assert_allclose(np.asarray(right), np.stack([y @ w for y in ys]), rtol=1e-12)
    # a non-contiguous batched operand (batch on axis 2)
    xt = np.ascontiguousarray(np.moveaxis(xs, 0, 2))
    moved = fx.vmap(lambda x: w @ x, in_axes=2)(xt)
    np.testing.assert_allclose(np.asarray(moved), np.stack([w @ x for x in xs]), rtol=1e-12)

    # jacobians go through the rule in both modes; compare with finite differences
    def f(x):
        return fx.tanh(w @ x) * 2.0

    x0 = rng.standard_normal(5)
    jr, jf = fx.jacrev(f)(x0), fx.jacfwd(f)(x0)
    fd = fd_jacobian(f, (x0,))
    np.testing.assert_allclose(np.asarray(jr), fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.asarray(jf), fd, rtol=1e-6, atol=1e-8)
    h = fx.hessian(lambda x: fx.sum(fx.sin(w @ x)))(x0)
    want = w.T @ np.diag(-np.sin(w @ x0)) @ w
    np.testing.assert_allclose(np.asarray(h), want, rtol=1e-10, atol=1e-12)

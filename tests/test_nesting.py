"""Transforms nested in every combination: Hessians four ways, higher derivatives,
vmap of derivatives and derivatives of vmap, and perturbation confusion."""

from __future__ import annotations

import math

import ferrax as fx
import numpy as np
import pytest
from gradcheck import assert_tree_allclose, check_vmap, fd_jacobian, to_np


def _np(x):
    return to_np(x)


# f(x) = sum(x^3) + x0 * x1 * exp(x2) + sum(sin(x) * x)       (x of length 3)
def _f(x):
    return fx.sum(x**3) + x[0] * x[1] * fx.exp(x[2]) + fx.sum(fx.sin(x) * x)


def _f_hessian(x):
    h = np.diag(6 * x + 2 * np.cos(x) - np.sin(x) * x)
    e = np.exp(x[2])
    h[0, 1] += e
    h[1, 0] += e
    h[0, 2] += x[1] * e
    h[2, 0] += x[1] * e
    h[1, 2] += x[0] * e
    h[2, 1] += x[0] * e
    h[2, 2] += x[0] * x[1] * e
    return h


HESSIANS = {
    "jacfwd(jacrev)": lambda f: fx.jacfwd(fx.jacrev(f)),
    "jacrev(jacfwd)": lambda f: fx.jacrev(fx.jacfwd(f)),
    "jacfwd(jacfwd)": lambda f: fx.jacfwd(fx.jacfwd(f)),
    "jacrev(jacrev)": lambda f: fx.jacrev(fx.jacrev(f)),
    "hessian": fx.hessian,
    "jacfwd(grad)": lambda f: fx.jacfwd(fx.grad(f)),
    "jacrev(grad)": lambda f: fx.jacrev(fx.grad(f)),
}


@pytest.mark.parametrize("x", [[0.5, -1.0, 0.3], [2.0, 0.0, -0.7]])
def test_four_hessians_agree_with_the_analytic_one(x) -> None:
    x = np.asarray(x)
    expected = _f_hessian(x)
    results = {name: _np(make(_f)(x)) for name, make in HESSIANS.items()}
    for name, h in results.items():
        assert h.shape == (3, 3), name
        np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-12, err_msg=name)
    for name, h in results.items():
        np.testing.assert_allclose(h, results["hessian"], rtol=1e-13, atol=1e-13, err_msg=name)


def test_hessians_of_a_matrix_argument() -> None:
    # f(W) = sum(tanh(W @ v)) : Hessian of shape (2, 3, 2, 3)
    v = np.array([0.3, -0.5, 1.0])
    w = np.array([[0.1, 0.2, -0.3], [0.4, -0.1, 0.2]])

    def f(m):
        return fx.sum(fx.tanh(m @ v))

    z = w @ v
    d2 = -2 * np.tanh(z) * (1 - np.tanh(z) ** 2)
    expected = np.zeros((2, 3, 2, 3))
    for i in range(2):
        expected[i, :, i, :] = d2[i] * np.outer(v, v)
    for name, make in HESSIANS.items():
        h = _np(make(f)(w))
        assert h.shape == (2, 3, 2, 3), name
        np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-14, err_msg=name)


def test_third_order_tensor() -> None:
    x = np.array([0.5, -1.0, 0.3])

    def f(v):
        return fx.sum(v**3) + v[0] * v[1] * v[2]

    expected = np.zeros((3, 3, 3))
    for i in range(3):
        expected[i, i, i] = 6.0
    for p in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]:
        expected[p] = 1.0
    for t3 in (
        fx.jacrev(fx.jacrev(fx.jacrev(f))),
        fx.jacfwd(fx.jacfwd(fx.jacfwd(f))),
        fx.jacfwd(fx.hessian(f)),
        fx.jacrev(fx.jacfwd(fx.grad(f))),
    ):
        np.testing.assert_allclose(_np(t3(x)), expected, rtol=1e-14, atol=1e-14)


def test_grad_grad_grad() -> None:
    g3 = fx.grad(fx.grad(fx.grad(lambda x: x**4)))
    for x in (0.0, 0.5, -2.0, 3.0):
        np.testing.assert_allclose(float(g3(x)), 24 * x, rtol=1e-14, atol=1e-14)
    s3 = fx.grad(fx.grad(fx.grad(fx.sin)))
    for x in (0.0, 0.5, -2.0):
        np.testing.assert_allclose(float(s3(x)), -math.cos(x), rtol=1e-14, atol=1e-15)

    # mixed with forward mode
    def d_fwd(f):
        return lambda x: fx.jvp(f, (x,), (1.0,))[1]

    m3 = d_fwd(fx.grad(d_fwd(lambda x: x**4)))
    np.testing.assert_allclose(float(m3(1.5)), 36.0, rtol=1e-14)


def test_ten_nested_grads_are_right() -> None:
    d = lambda x: x**12 + fx.exp(2.0 * x)  # noqa: E731
    for _ in range(10):
        d = fx.grad(d)
    x = 0.7
    value = float(d(x))
    expected = math.factorial(12) / math.factorial(2) * x**2 + 2**10 * math.exp(2 * x)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    # the tenth derivative of a degree-9 polynomial is zero
    p = lambda x: x**9 - 3.0 * x**5 + x  # noqa: E731
    for _ in range(10):
        p = fx.grad(p)
    assert float(p(1.3)) == 0.0


def test_jacfwd_of_grad_and_vmap_of_grad() -> None:
    def loss(w, x):
        return fx.sum(fx.tanh(x @ w) ** 2)

    w = np.array([[0.2, -0.4], [0.5, 0.1], [-0.3, 0.3]])
    xs = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    # per-example gradients
    per = fx.vmap(fx.grad(loss), in_axes=(None, 0))(w, xs)
    assert tuple(per.shape) == (4, 3, 2)
    for i in range(4):
        gi = fx.grad(loss)(w, xs[i])
        np.testing.assert_allclose(_np(per[i]), _np(gi), rtol=1e-14, atol=1e-15)
        fd = fd_jacobian(lambda m, i=i: loss(m, xs[i]), (w,)).reshape(3, 2)
        np.testing.assert_allclose(_np(per[i]), fd, rtol=1e-6, atol=1e-9)
    # the sum of per-example gradients is the gradient of the summed loss
    total = fx.grad(lambda m: fx.sum(fx.vmap(lambda x: loss(m, x))(xs)))(w)
    np.testing.assert_allclose(_np(total), _np(per).sum(0), rtol=1e-13, atol=1e-15)
    # jacfwd(grad) is the Hessian
    h = fx.jacfwd(fx.grad(loss), argnums=0)(w, xs[0])
    np.testing.assert_allclose(_np(h), _np(fx.hessian(loss)(w, xs[0])), rtol=1e-13, atol=1e-15)


def test_vmap_of_jacrev_and_of_hessian() -> None:
    xs = np.array([[0.5, -1.0, 0.3], [2.0, 0.0, -0.7], [0.1, 0.2, 0.3]])
    f = lambda x: fx.sin(x) * fx.sum(x**2)  # noqa: E731
    jr = fx.vmap(fx.jacrev(f))(xs)
    assert tuple(jr.shape) == (3, 3, 3)
    for i in range(3):
        np.testing.assert_allclose(_np(jr[i]), _np(fx.jacrev(f)(xs[i])), rtol=1e-14)
        np.testing.assert_allclose(_np(jr[i]), fd_jacobian(f, (xs[i],)), rtol=1e-6, atol=1e-8)
    check_vmap(fx.jacrev(f), (xs,), 1)
    check_vmap(fx.jacfwd(f), (xs,), 0)
    hs = fx.vmap(fx.hessian(_f))(xs)
    for i in range(3):
        np.testing.assert_allclose(_np(hs[i]), _f_hessian(xs[i]), rtol=1e-12, atol=1e-12)
    check_vmap(fx.vmap(fx.grad(_f)), (np.stack([xs, 2 * xs]),), 1)


def test_grad_of_vmap() -> None:
    xs = np.array([[0.5, -1.0, 0.3], [2.0, 0.0, -0.7]])

    def batched_loss(w):
        per = fx.vmap(lambda x: fx.sum(fx.sin(x * w)), in_axes=0)(xs)
        return fx.sum(per**2)

    w = np.array([0.3, -0.2, 1.1])
    g = fx.grad(batched_loss)(w)
    per = np.sin(xs * w).sum(1)
    expected = (2 * per[:, None] * np.cos(xs * w) * xs).sum(0)
    np.testing.assert_allclose(_np(g), expected, rtol=1e-13)
    # a Hessian through vmap
    h = fx.hessian(batched_loss)(w)
    np.testing.assert_allclose(
        _np(h), fd_jacobian(fx.grad(batched_loss), (w,)), rtol=1e-6, atol=1e-8
    )
    # forward mode through vmap
    _, t = fx.jvp(batched_loss, (w,), (np.array([1.0, 0.0, 0.0]),))
    np.testing.assert_allclose(float(t), expected[0], rtol=1e-13)


def test_jvp_of_vjp_and_vjp_of_jvp() -> None:
    x = np.array([0.4, -0.8, 1.2])
    f = lambda v: fx.sin(v) * v[::-1]  # noqa: E731
    j = fd_jacobian(f, (x,))
    ct = np.array([1.0, -2.0, 0.5])

    def pull(v):
        return fx.vjp(f, v)[1](ct)[0]

    # d/dx (ct^T J(x)) along t: jvp of the vjp
    t = np.array([0.3, 0.1, -1.0])
    out, tan = fx.jvp(pull, (x,), (t,))
    np.testing.assert_allclose(_np(out), ct @ j, rtol=1e-6, atol=1e-8)
    expected = fd_jacobian(pull, (x,)) @ t
    np.testing.assert_allclose(_np(tan), expected, rtol=1e-6, atol=1e-8)
    # vjp of a jvp (the transpose of forward mode)
    push = lambda v: fx.jvp(f, (v,), (t,))[1]  # noqa: E731
    (g,) = fx.vjp(push, x)[1](ct)
    np.testing.assert_allclose(_np(g), ct @ fd_jacobian(push, (x,)), rtol=1e-6, atol=1e-8)
    # linearity of the vjp function in the cotangent, under jvp
    _, vjp_fn = fx.vjp(f, x)
    _, tan = fx.jvp(lambda c: vjp_fn(c)[0], (ct,), (np.array([1.0, 0.0, 0.0]),))
    np.testing.assert_allclose(_np(tan), j[0], rtol=1e-6, atol=1e-8)


# ---------------------------------------------------- perturbation confusion ---


def _d_grad(f):
    return fx.grad(f)


def _d_jvp(f):
    return lambda x: fx.jvp(f, (x,), (1.0,))[1]


def _d_vjp(f):
    return lambda x: fx.vjp(f, x)[1](1.0)[0]


def _d_jacfwd(f):
    return fx.jacfwd(f)


def _d_jacrev(f):
    return fx.jacrev(f)


DERIVATIVES = {
    "grad": _d_grad,
    "jvp": _d_jvp,
    "vjp": _d_vjp,
    "jacfwd": _d_jacfwd,
    "jacrev": _d_jacrev,
}


@pytest.mark.parametrize("outer", list(DERIVATIVES))
@pytest.mark.parametrize("inner", list(DERIVATIVES))
def test_perturbation_confusion(outer: str, inner: str) -> None:
    d_out, d_in = DERIVATIVES[outer], DERIVATIVES[inner]
    # D(x -> x * D(y -> x + y)(1))(1) == 1   (confusing the perturbations gives 2)
    r = d_out(lambda x: x * d_in(lambda y: x + y)(1.0))(1.0)
    assert float(r) == 1.0
    # D(x -> D(y -> x * y)(2))(3): the inner derivative is x, its derivative 1
    assert float(d_out(lambda x: d_in(lambda y: x * y)(2.0))(3.0)) == 1.0
    # D(x -> x * D(y -> x * y)(1))(1.5) == d/dx x^2 == 3
    assert float(d_out(lambda x: x * d_in(lambda y: x * y)(1.0))(1.5)) == 3.0
    # the inner function closes over x and is differentiated at a point depending on x
    r = d_out(lambda x: d_in(lambda y: fx.sin(x * y))(x))(0.5)
    # d/dx [x cos(x^2)] = cos(x^2) - 2 x^2 sin(x^2)
    np.testing.assert_allclose(float(r), math.cos(0.25) - 0.5 * math.sin(0.25), rtol=1e-14)


def test_perturbation_confusion_under_vmap() -> None:
    def g(x):
        return fx.grad(lambda xx: xx * fx.grad(lambda y: xx + y)(1.0))(x)

    out = fx.vmap(g)(np.array([1.0, 2.0, -3.0]))
    np.testing.assert_array_equal(_np(out), [1.0, 1.0, 1.0])

    # and vmap nested inside: the batch axis of the inner vmap is not the outer one
    def h(x):
        return fx.sum(fx.vmap(lambda y: x * y)(np.array([1.0, 2.0])))

    assert float(fx.grad(h)(5.0)) == 3.0
    out = fx.vmap(lambda x: fx.vmap(lambda y: x * y)(np.array([1.0, 2.0])))(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(_np(out), [[3.0, 6.0], [4.0, 8.0]])


def test_hessian_of_dict_params() -> None:
    params = {"w": np.array([[0.3, -0.2], [0.1, 0.5]]), "b": np.array([0.1, -0.1])}
    x = np.array([1.0, -2.0])

    def loss(p):
        h = fx.tanh(p["w"] @ x + p["b"])
        return fx.sum(h**2)

    h = fx.hessian(loss)(params)
    assert set(h) == {"w", "b"} and set(h["w"]) == {"w", "b"} and set(h["b"]) == {"w", "b"}
    assert tuple(h["w"]["w"].shape) == (2, 2, 2, 2)
    assert tuple(h["w"]["b"].shape) == (2, 2, 2)
    assert tuple(h["b"]["w"].shape) == (2, 2, 2)
    assert tuple(h["b"]["b"].shape) == (2, 2)

    # against finite differences of the gradient, flattened in tree order (b, w)
    def flat_grad(v):
        p = {"b": v[:2], "w": fx.reshape(v[2:], (2, 2))}
        g = fx.grad(loss)(p)
        return fx.concatenate([g["b"], fx.reshape(g["w"], (4,))])

    v = np.concatenate([params["b"], params["w"].ravel()])
    fd = fd_jacobian(flat_grad, (v,))
    hb_b = _np(h["b"]["b"])
    hb_w = _np(h["b"]["w"]).reshape(2, 4)
    hw_b = _np(h["w"]["b"]).reshape(4, 2)
    hw_w = _np(h["w"]["w"]).reshape(4, 4)
    full = np.block([[hb_b, hb_w], [hw_b, hw_w]])
    np.testing.assert_allclose(full, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(full, full.T, rtol=1e-13, atol=1e-15)
    # the other three combinations give the same pytree
    for make in (
        HESSIANS["jacrev(jacfwd)"],
        HESSIANS["jacfwd(jacfwd)"],
        HESSIANS["jacrev(jacrev)"],
    ):
        assert_tree_allclose(make(loss)(params), h, 1e-12, 1e-14, "hessian of dict params")


def test_newton_step_with_hessian() -> None:
    # minimise a strictly convex quadratic + quartic with a few Newton steps
    a = np.array([[3.0, 0.5], [0.5, 2.0]])
    b = np.array([1.0, -1.0])

    def f(x):
        return 0.5 * x @ (fx.asarray(a) @ x) - b @ x + 0.1 * fx.sum(x**4)

    x = np.zeros(2)
    for _ in range(20):
        g = _np(fx.grad(f)(x))
        h = _np(fx.hessian(f)(x))
        x = x - np.linalg.solve(h, g)
    np.testing.assert_allclose(_np(fx.grad(f)(x)), np.zeros(2), atol=1e-12)
    np.testing.assert_allclose(a @ x - b + 0.4 * x**3, np.zeros(2), atol=1e-12)

"""Differential fuzzing of ferrax's derivatives (float64) against central finite
differences of the same random program evaluated by NumPy.

Programs are generated away from kinks and discontinuities (see fxfuzz.py), so
the finite differences are meaningful. Checked: ``grad`` / ``value_and_grad`` of
``sum(program)`` and of a random linear functional, ``vjp`` with a random
cotangent, ``jvp`` with a random tangent, ``jacfwd == jacrev``, ``vmap(grad)``
against a loop, Hessian-vector products (``jvp(grad)``, ``grad`` of ``grad``),
``jacfwd(jacrev)`` / ``jacrev(jacrev)`` / ``hessian``, and gradients of large
(fused) programs.

Long campaign: ``FERRAX_FUZZ_EXAMPLES=20000 python -m pytest -q tests/fuzz``.
"""

from __future__ import annotations

import ferrax as fx
import fxfuzz as fz
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

FD_RTOL = 1e-5
FD_ATOL = 1e-6  # times max(1, max |reference|)


@pytest.fixture(autouse=True, scope="module")
def _summary(request):
    fz.register_summary(request.config)


def _argnums(prog):
    return tuple(range(prog.n_inputs))


def _functional(prog, kind: str):
    """``s(*xs)``: a scalar linear functional of the program's output, and its weights."""
    out = prog.run_numpy(prog.data())
    rng = np.random.default_rng(prog.seed ^ 0x5EED)
    w = np.ones(out.shape) if kind == "sum" else rng.standard_normal(out.shape)
    f = prog.fn()
    if kind == "sum":
        return (lambda *xs: fx.sum(f(*xs))), w
    if kind == "vdot":
        return (lambda *xs: fx.vdot(w, f(*xs))), w
    return (lambda *xs: fx.sum(f(*xs) * w)), w


def _np_functional(prog, w):
    return lambda xs: np.sum(prog.run_numpy(xs) * w)


def _tangents(prog, salt: int):
    rng = np.random.default_rng(prog.seed ^ salt)
    return [rng.standard_normal(x.shape) for x in prog.data()]


def _check_grads_of(prog, grads, np_fn, what, full_max=32):
    """``grads`` (one per input) against finite differences of the scalar ``np_fn``."""
    xs = prog.data()
    assert len(grads) == len(xs), f"{what}: {len(grads)} gradients for {len(xs)} inputs"
    for g, x in zip(grads, xs):
        assert isinstance(g, fx.Tensor), f"{what}: got {type(g).__name__}\n{prog!r}"
        assert g.dtype == x.dtype and g.shape == x.shape, (
            f"{what}: gradient {g.dtype}{g.shape} for input {x.dtype}{x.shape}\n{prog!r}"
        )
    if sum(x.size for x in xs) <= full_max:
        fz.close(fz.flat(grads), fz.fd_jacobian(np_fn, xs).ravel(), FD_RTOL, FD_ATOL, what, prog)
    else:
        for salt in (1, 2):
            ts = _tangents(prog, salt)
            got = float(np.dot(fz.flat(grads), fz.flat(ts)))
            fz.close(got, fz.fd_directional(np_fn, xs, ts), FD_RTOL, FD_ATOL, what, prog)


grad_programs = fz.programs(mode="grad", max_side=4)
small_programs = fz.programs(mode="grad", max_inputs=2, max_dims=2, max_side=3, max_total=12)


@fz.fuzz("grad")
@given(prog=grad_programs, kind=st.sampled_from(["sum", "weighted", "vdot"]))
@fz.panics_are_failures
def test_grad_matches_finite_differences(prog, kind):
    fz.count("grad")
    s, w = _functional(prog, kind)
    np_s = _np_functional(prog, w)
    value, grads = fx.value_and_grad(s, argnums=_argnums(prog))(*prog.fx_inputs())
    fz.close(value, np_s(prog.data()), 1e-9, 1e-11 * prog.scale, "value_and_grad value", prog)
    _check_grads_of(prog, grads, np_s, f"grad of {kind}(program)")
    # grad with a single int argnums returns one array, not a tuple
    g0 = fx.grad(s)(*prog.fx_inputs())
    fz.close(g0, grads[0], 1e-12, 1e-12, "grad(argnums=0) vs argnums=all", prog)


@fz.fuzz("vjp")
@given(prog=grad_programs)
@fz.panics_are_failures
def test_vjp_matches_finite_differences(prog):
    fz.count("vjp")
    xs = prog.data()
    out, vjp_fn = fx.vjp(prog.fn(), *prog.fx_inputs())
    fz.check_value(out, prog.run_numpy(xs), prog, "vjp primal output")
    ct = np.random.default_rng(prog.seed ^ 7).standard_normal(out.shape)
    cts = vjp_fn(ct)
    assert isinstance(cts, tuple) and len(cts) == len(xs), f"vjp returned {type(cts)}\n{prog!r}"
    _check_grads_of(prog, cts, lambda z: np.sum(prog.run_numpy(z) * ct), "vjp", full_max=32)


@fz.fuzz("jvp")
@given(prog=grad_programs)
@fz.panics_are_failures
def test_jvp_matches_finite_differences(prog):
    fz.count("jvp")
    xs = prog.data()
    ts = _tangents(prog, 3)
    out, t_out = fx.jvp(prog.fn(), tuple(prog.fx_inputs()), tuple(ts))
    expected = prog.run_numpy(xs)
    fz.check_value(out, expected, prog, "jvp primal output")
    assert isinstance(t_out, fx.Tensor), f"jvp tangent is {type(t_out).__name__}\n{prog!r}"
    assert t_out.dtype == out.dtype and t_out.shape == out.shape, f"jvp tangent\n{prog!r}"
    fz.close(t_out, fz.fd_directional(prog.run_numpy, xs, ts), FD_RTOL, FD_ATOL, "jvp", prog)


@fz.fuzz("jacobian")
@given(prog=small_programs)
@fz.panics_are_failures
def test_jacfwd_equals_jacrev_and_finite_differences(prog):
    fz.count("jacobian")
    xs = prog.data()
    out = prog.run_numpy(xs)
    nums = _argnums(prog)
    jf = fx.jacfwd(prog.fn(), argnums=nums)(*prog.fx_inputs())
    jr = fx.jacrev(prog.fn(), argnums=nums)(*prog.fx_inputs())
    fd = fz.fd_jacobian(prog.run_numpy, xs)
    off = 0
    for i, x in enumerate(xs):
        want_shape = out.shape + x.shape
        assert jf[i].shape == want_shape, f"jacfwd[{i}] shape {jf[i].shape}\n{prog!r}"
        assert jr[i].shape == want_shape, f"jacrev[{i}] shape {jr[i].shape}\n{prog!r}"
        fz.close(jf[i], jr[i], 1e-10, 1e-12, f"jacfwd[{i}] vs jacrev[{i}]", prog)
        expected = fd[:, off : off + x.size].reshape(want_shape)
        off += x.size
        fz.close(jf[i], expected, FD_RTOL, FD_ATOL, f"jacfwd[{i}] vs finite differences", prog)


@fz.fuzz("vmap_grad")
@given(prog=fz.programs(mode="grad", n_data=3, vmap=True, max_side=3))
@fz.panics_are_failures
def test_vmap_of_grad_equals_a_loop(prog):
    fz.count("vmap_grad")
    n = len(prog.inputs[0].data)
    out0 = prog.run_numpy(prog.data(0))
    w = np.random.default_rng(prog.seed).standard_normal(out0.shape)
    f = prog.fn()
    nums = _argnums(prog)
    g = fx.grad(lambda *xs: fx.sum(f(*xs) * w), argnums=nums)
    batched = []
    for inp, ax in zip(prog.inputs, prog.in_axes):
        if ax is None:
            batched.append(fz.build_fx(inp.data[0], inp.layout, inp.small and inp.small[0]))
        else:
            small = None if inp.small is None else np.stack(inp.small, axis=ax)
            batched.append(fz.build_fx(np.stack(inp.data, axis=ax), inp.layout, small))
    got = fx.vmap(g, in_axes=tuple(prog.in_axes))(*batched)
    for d in range(n):
        per = g(*prog.fx_inputs(d))
        for i in range(len(nums)):
            fz.close(got[i][d], per[i], 1e-10, 1e-12, f"vmap(grad)[{i}] example {d}", prog)
    # and the loop itself against finite differences (first example)
    ts = _tangents(prog, 4)
    np_s = lambda xs: np.sum(prog.run_numpy(xs) * w)  # noqa: E731
    dot = float(np.dot(fz.flat(g(*prog.fx_inputs(0))), fz.flat(ts)))
    fz.close(dot, fz.fd_directional(np_s, prog.data(0), ts), FD_RTOL, FD_ATOL, "grad", prog)


def _fd_of_grad(grad_fn, xs, vs, eps=1e-6):
    """Central difference of ``grad_fn`` (tensors -> tuple of tensors) along ``vs``."""
    scale = max([1.0] + [float(np.max(np.abs(x))) for x in xs if x.size])
    h = eps * scale
    plus = grad_fn(*[fx.asarray(x + h * v) for x, v in zip(xs, vs)])
    minus = grad_fn(*[fx.asarray(x - h * v) for x, v in zip(xs, vs)])
    return (fz.flat(plus) - fz.flat(minus)) / (2 * h)


@fz.fuzz("hvp")
@given(
    prog=st.one_of(
        fz.programs(mode="grad", max_side=3),
        fz.programs(mode="grad", scalar_inputs=True, max_inputs=2),
    )
)
@fz.panics_are_failures
def test_hessian_vector_products(prog):
    """``jvp(grad)`` and ``grad`` of ``<grad, v>`` against differences of ``grad``; for
    programs of one scalar input also the literal ``grad(grad(f))``."""
    fz.count("hvp")
    s, _ = _functional(prog, "weighted")
    nums = _argnums(prog)
    g = fx.grad(s, argnums=nums)
    xs = prog.data()
    vs = _tangents(prog, 5)
    ref = _fd_of_grad(g, xs, vs)
    g0, hv1 = fx.jvp(g, tuple(prog.fx_inputs()), tuple(vs))
    fz.close(fz.flat(g0), fz.flat(g(*prog.fx_inputs())), 1e-12, 1e-12, "jvp(grad) primal", prog)
    fz.close(fz.flat(hv1), ref, 1e-5, 1e-6, "jvp(grad) vs differences of grad", prog)

    def gv(*x):
        total = 0.0
        for gi, vi in zip(g(*x), vs):
            total = total + fx.sum(gi * vi)
        return total

    hv2 = fx.grad(gv, argnums=nums)(*prog.fx_inputs())
    fz.close(fz.flat(hv2), fz.flat(hv1), 1e-9, 1e-10, "grad(<grad, v>) vs jvp(grad)", prog)
    if prog.n_inputs == 1 and xs[0].ndim == 0:
        gg = fx.grad(fx.grad(s))(*prog.fx_inputs())
        assert gg.shape == () and gg.dtype == np.float64, f"grad(grad) {gg.dtype}{gg.shape}"
        fz.close(float(gg) * vs[0].ravel(), ref, 1e-5, 1e-6, "grad(grad(f)) vs differences", prog)


@fz.fuzz("hessian")
@given(prog=fz.programs(mode="grad", max_inputs=2, max_dims=2, max_side=3, max_total=8))
@fz.panics_are_failures
def test_jacfwd_of_jacrev_is_the_hessian(prog):
    fz.count("hessian")
    s, _ = _functional(prog, "weighted")
    nums = _argnums(prog)
    xs = prog.data()
    g = fx.grad(s, argnums=nums)
    n = sum(x.size for x in xs)
    cols = []
    for i, x in enumerate(xs):
        for k in range(x.size):
            vs = [np.zeros_like(y) for y in xs]
            vs[i].flat[k] = 1.0
            cols.append(_fd_of_grad(g, xs, vs))
    fd = np.stack(cols, axis=1) if cols else np.zeros((n, n))
    results = {
        "jacfwd(jacrev)": fx.jacfwd(fx.jacrev(s, argnums=nums), argnums=nums),
        "jacrev(jacrev)": fx.jacrev(fx.jacrev(s, argnums=nums), argnums=nums),
        "hessian": fx.hessian(s, argnums=nums),
    }
    dense = {}
    for name, h in results.items():
        hh = h(*prog.fx_inputs())
        rows = []
        for i, xi in enumerate(xs):
            row = []
            for j, xj in enumerate(xs):
                assert hh[i][j].shape == xi.shape + xj.shape, f"{name}[{i}][{j}] shape\n{prog!r}"
                row.append(np.asarray(hh[i][j]).reshape(xi.size, xj.size))
            rows.append(np.concatenate(row, axis=1))
        dense[name] = np.concatenate(rows, axis=0)
        fz.close(dense[name], fd, 1e-5, 1e-6, f"{name} vs differences of grad", prog)
    fz.close(dense["jacfwd(jacrev)"], dense["jacrev(jacrev)"], 1e-9, 1e-10, "fwd vs rev", prog)


@fz.fuzz("grad_large")
@given(prog=fz.large_programs(mode="grad"))
@fz.panics_are_failures
def test_large_gradients(prog):
    """Arrays above fusion's default threshold: the gradient of a deferred chain."""
    fz.count("grad_large")
    s, w = _functional(prog, "weighted")
    np_s = _np_functional(prog, w)
    value, grads = fx.value_and_grad(s, argnums=_argnums(prog))(*prog.fx_inputs())
    fz.close(value, np_s(prog.data()), 1e-9, 1e-9, "value", prog)
    _check_grads_of(prog, grads, np_s, "grad (large)", full_max=0)
    ts = _tangents(prog, 6)
    _, t_out = fx.jvp(prog.fn(), tuple(prog.fx_inputs()), tuple(ts))
    ref = fz.fd_directional(prog.run_numpy, prog.data(), ts)
    fz.close(t_out, ref, FD_RTOL, FD_ATOL, "jvp (large)", prog)

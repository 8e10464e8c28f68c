"""Linear algebra (``fx.linalg``, ``fx.scipy.linalg``): values against NumPy
and SciPy over shapes (batched, empty, 1x1) and dtypes; derivatives against
central finite differences in float64 in both modes, under ``vmap`` and
nested; Jacobians against JAX when it is installed; ``LinAlgError`` paths
inside transforms.

Eigenvectors and singular vectors are unique only up to sign, so their values
and derivatives are checked through sign-free functions of them
(reconstructions, projectors, spectral functions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close
from gradcheck import check_all, check_hessian, check_vmap, check_vmap_jvp, check_vmap_vjp

rng = np.random.default_rng(11)


def spd(n: int, *batch: int) -> np.ndarray:
    x = rng.standard_normal((*batch, n, n))
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def general(m: int, n: int, *batch: int) -> np.ndarray:
    x = rng.standard_normal((*batch, m, n))
    if m == n:
        x = x + 3.0 * np.eye(n)
    return x


A3 = general(3, 3)
S3 = spd(3)
S4B = spd(4, 2)
B3 = rng.standard_normal(3)
B32 = rng.standard_normal((3, 2))
T43 = general(4, 3)
T34 = general(3, 4)
GB = general(3, 3, 2)
LOW = np.tril(general(3, 3)) + 2.0 * np.eye(3)
UP = np.triu(general(3, 3)) + 2.0 * np.eye(3)


def _recon_eigh(L, a):
    w, v = L.eigh(a)
    return (
        v @ (np.sin(w)[..., None] * np.swapaxes(v, -1, -2))
        if L is np.linalg
        else (v @ (fx.sin(w)[..., None] * fx.swapaxes(v, -1, -2)))
    )


@dataclass
class Case:
    name: str
    f: Callable  # f(L, *args), L = fx.linalg or np.linalg
    args: tuple
    jax: Callable | None = None  # f(jnp.linalg, *args)
    grad: bool = True


def sym(x):
    return (x + np.swapaxes(x, -1, -2)) / 2


CASES = [
    Case("solve_vector", lambda L, a, b: L.solve(a, b), (A3, B3), lambda J, a, b: J.solve(a, b)),
    Case("solve_matrix", lambda L, a, b: L.solve(a, b), (A3, B32), lambda J, a, b: J.solve(a, b)),
    Case("solve_batched", lambda L, a, b: L.solve(a, b), (GB, B32)),
    Case("inv", lambda L, a: L.inv(a), (A3,), lambda J, a: J.inv(a)),
    Case("inv_batched", lambda L, a: L.inv(a), (GB,)),
    Case("det", lambda L, a: L.det(a), (A3,), lambda J, a: J.det(a)),
    Case("det_batched", lambda L, a: L.det(a), (GB,)),
    Case("slogdet_log", lambda L, a: L.slogdet(a)[1], (A3,), lambda J, a: J.slogdet(a)[1]),
    Case("slogdet_sign", lambda L, a: L.slogdet(-a)[0], (A3,), grad=False),
    Case("cholesky", lambda L, a: L.cholesky(a), (S3,), lambda J, a: J.cholesky(sym(a))),
    Case("cholesky_upper", lambda L, a: L.cholesky(a, upper=True), (S4B,)),
    Case("eigvalsh", lambda L, a: L.eigvalsh(a), (S3,), lambda J, a: J.eigvalsh(a)),
    Case("eigvalsh_batched", lambda L, a: L.eigvalsh(a), (S4B,)),
    Case("eigh_spectral", _recon_eigh, (S3,)),
    Case("eigh_spectral_batched", _recon_eigh, (S4B,)),
    Case("svdvals_tall", lambda L, a: L.svd(a, compute_uv=False), (T43,)),
    Case("svdvals_wide", lambda L, a: L.svdvals(a), (T34,), lambda J, a: J.svdvals(a)),
    Case(
        "svd_projector_tall",
        lambda L, a: (lambda u: u @ u.T)(L.svd(a, full_matrices=False)[0]),
        (T43,),
    ),
    Case(
        "svd_projector_wide",
        lambda L, a: (lambda vh: vh.T @ vh)(L.svd(a, full_matrices=False)[2]),
        (T34,),
    ),
    Case(
        "svd_weighted",
        lambda L, a: (lambda r: (r[0] * r[1] ** 2) @ r[2])(L.svd(a, full_matrices=False)),
        (T43,),
    ),
    Case("svd_square_default", lambda L, a: (lambda r: r[0] @ r[2])(L.svd(a)), (A3,)),
    Case("qr_tall", lambda L, a: L.qr(a)[0] * 2.0 + L.qr(a)[1].sum(), (T43,)),
    Case("qr_r", lambda L, a: L.qr(a, mode="r"), (A3,), lambda J, a: J.qr(a, mode="r")),
    Case("qr_square_complete", lambda L, a: L.qr(a, mode="complete")[0], (A3,)),
    Case("pinv_tall", lambda L, a: L.pinv(a), (T43,), lambda J, a: J.pinv(a)),
    Case("pinv_wide", lambda L, a: L.pinv(a), (T34,)),
    Case("lstsq_x", lambda L, a, b: L.lstsq(a, b)[0], (T43, B32[:, 0].repeat(2)[:4])),
    Case("lstsq_residuals", lambda L, a, b: L.lstsq(a, b)[1], (T43, rng.standard_normal((4, 2)))),
    Case("matrix_power_3", lambda L, a: L.matrix_power(a, 3), (A3,)),
    Case("matrix_power_neg", lambda L, a: L.matrix_power(a, -2), (A3,)),
    Case("matrix_power_0", lambda L, a: L.matrix_power(a, 0), (A3,), grad=False),
    Case("norm_fro", lambda L, a: L.norm(a, "fro"), (T43,)),
    Case("norm_nuc", lambda L, a: L.norm(a, "nuc"), (T43,), lambda J, a: J.norm(a, "nuc")),
    Case("norm_2", lambda L, a: L.norm(a, 2), (T43,), lambda J, a: J.norm(a, 2)),
    Case("norm_minus2", lambda L, a: L.norm(a, -2), (A3,)),
    Case("norm_1", lambda L, a: L.norm(a, 1), (T43,)),
    Case("norm_minus1", lambda L, a: L.norm(a, -1), (T43,)),
    Case("norm_inf", lambda L, a: L.norm(a, np.inf), (T43,)),
    Case("norm_minus_inf", lambda L, a: L.norm(a, -np.inf), (T43,)),
    Case("norm_axes_keepdims", lambda L, a: L.norm(a, 2, axis=(2, 0), keepdims=True), (S4B,)),
    Case("norm_vector_3", lambda L, a: L.norm(a, 3, axis=1), (T43,)),
    Case("vector_norm", lambda L, a: L.vector_norm(a, ord=1, axis=0), (T43,)),
    Case("vector_norm_all", lambda L, a: L.vector_norm(a), (S4B,)),
    Case("matrix_norm", lambda L, a: L.matrix_norm(a, ord="nuc"), (S4B,)),
    Case("cond", lambda L, a: L.cond(a), (A3,), lambda J, a: J.cond(a)),
    Case("cond_fro", lambda L, a: L.cond(a, "fro"), (A3,)),
    Case("cond_minus2", lambda L, a: L.cond(a, -2), (T43,)),
    Case("multi_dot", lambda L, a, b, c: L.multi_dot([a, b, c]), (B3, A3, T34)),
    Case("multi_dot_vec_end", lambda L, a, b, c: L.multi_dot([a, b, c]), (T43, A3, B3)),
    Case("cross", lambda L, a, b: L.cross(a, b), (B3, A3)),
    Case(
        "tensorsolve",
        lambda L, a, b: L.tensorsolve(a, b),
        (general(6, 6).reshape(2, 3, 6), rng.standard_normal((2, 3))),
    ),
    Case("tensorinv", lambda L, a: L.tensorinv(a, ind=1), (general(4, 4).reshape(4, 2, 2),)),
]


def _ids(cases):
    return [c.name for c in cases]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_values_match_numpy_through_fx_and_numpy(case):
    want = case.f(np.linalg, *case.args)
    got = case.f(fx.linalg, *case.args)
    assert_close(got, want, kind="transcendental", rtol=1e-10, atol=1e-11)
    tensors = tuple(fx.asarray(a) for a in case.args)
    got_np = case.f(np.linalg, *tensors)  # dispatched to ferrax by NumPy
    assert isinstance(got_np, fx.Tensor)
    assert_close(got_np, want, kind="transcendental", rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_float32_values(case):
    args = tuple(np.asarray(a, np.float32) for a in case.args)
    want = case.f(np.linalg, *case.args)
    got = case.f(fx.linalg, *args)
    if np.asarray(want).dtype.kind == "f":
        assert np.asarray(got).dtype == np.float32
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=2e-3, atol=2e-3)


DIFF = [c for c in CASES if c.grad]


@pytest.mark.parametrize("case", DIFF, ids=_ids(DIFF))
def test_derivatives_in_both_modes(case):
    check_all(lambda *a: case.f(fx.linalg, *a), case.args, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", DIFF, ids=_ids(DIFF))
def test_vmap_and_its_derivatives(case):
    a0 = case.args[0]
    batched = np.stack([a0, a0 + 0.05 * np.eye(*a0.shape[-2:]) if a0.ndim >= 2 else 1.1 * a0])
    args = (batched, *case.args[1:])
    in_axes = (0,) + (None,) * (len(args) - 1)
    f = lambda *a: case.f(fx.linalg, *a)  # noqa: E731
    check_vmap(f, args, in_axes, rtol=1e-10, atol=1e-11)
    check_vmap_jvp(f, case.args, None, in_axes, rtol=1e-8, atol=1e-9)
    check_vmap_vjp(f, case.args, None, in_axes, rtol=1e-8, atol=1e-9)


WITH_JAX = [c for c in CASES if c.jax is not None]


@pytest.mark.parametrize("case", WITH_JAX, ids=_ids(WITH_JAX))
def test_jacobians_match_jax(case):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    for i in range(len(case.args)):
        want = jax.jacrev(lambda *a: case.jax(jax.numpy.linalg, *a), argnums=i)(*case.args)
        got = fx.jacrev(lambda *a: case.f(fx.linalg, *a), argnums=i)(*case.args)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-7, atol=1e-9)


def test_second_derivatives():
    check_hessian(lambda a: fx.linalg.slogdet(a)[1], (A3,))
    check_hessian(lambda a: fx.sum(fx.linalg.cholesky(a) ** 2), (S3,))
    check_hessian(lambda a: fx.sum(fx.linalg.eigvalsh(a) ** 3), (S3,))
    check_hessian(lambda a, b: fx.sum(fx.linalg.solve(a, b) ** 2), (A3, B3))
    check_hessian(lambda a: _recon_eigh(fx.linalg, a), (S3,))
    check_hessian(lambda a: fx.linalg.qr(a)[0] * fx.linalg.qr(a)[1][0, 0], (T43,))
    check_hessian(lambda a: fx.linalg.svd(a, full_matrices=False)[0] ** 2, (T43,))
    check_hessian(lambda a, b: fx.scipy.linalg.solve_triangular(a, b, lower=True), (LOW, B3))
    check_hessian(fx.scipy.linalg.expm, (0.5 * A3,))


def _cholesky_vjp_closed_form(a: np.ndarray, lbar: np.ndarray) -> np.ndarray:
    """sym(L^-T Phi(L^T Lbar) L^-1) in NumPy (Murray 2016), per matrix."""
    lo = np.linalg.cholesky(a)
    li = np.linalg.inv(lo)
    p = lo.T @ lbar
    p = np.tril(p, -1) + np.diag(np.diag(p)) / 2
    s = li.T @ p @ li
    return (s + s.T) / 2


@pytest.mark.parametrize("n", [63, 64, 65, 129, 200])
def test_cholesky_vjp_over_several_blocks(n):
    """The VJP runs a blocked algorithm (64 columns a block): sizes around and
    across block edges agree with the closed form."""
    a = spd(n)
    lbar = rng.standard_normal((n, n))
    _, pullback = fx.vjp(fx.linalg.cholesky, a)
    got = np.asarray(pullback(lbar)[0])
    want = _cholesky_vjp_closed_form(a, lbar)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cholesky_vjp_batched_and_vmapped(dtype):
    a = spd(70, 3)
    lbar = rng.standard_normal((3, 70, 70))
    want = np.stack([_cholesky_vjp_closed_form(a[i], lbar[i]) for i in range(3)])
    _, pullback = fx.vjp(fx.linalg.cholesky, a.astype(dtype))
    got = np.asarray(pullback(lbar.astype(dtype))[0])
    tol = 2e-3 if dtype == np.float32 else 1e-9
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    vm = fx.vmap(lambda x, c: fx.vjp(fx.linalg.cholesky, x)[1](c)[0])
    got = np.asarray(vm(a.astype(dtype), lbar.astype(dtype)))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def test_cholesky_second_derivatives_over_several_blocks():
    """Forward over reverse and reverse over reverse through the blocked VJP
    (its own JVP and VJP rules), against central differences of the gradient."""
    n = 70
    a = spd(n)
    v = rng.standard_normal((n, n))
    w = rng.standard_normal((n, n))

    def f(x):
        return fx.sum(fx.linalg.cholesky(x) ** 3)

    grad = fx.grad(f)
    eps = 1e-5
    fd = (np.asarray(grad(a + eps * v)) - np.asarray(grad(a - eps * v))) / (2 * eps)
    hvp = np.asarray(fx.jvp(grad, (a,), (v,))[1])
    np.testing.assert_allclose(hvp, fd, rtol=1e-6, atol=1e-7 * np.abs(fd).max())
    # reverse over reverse: d/da <grad f(a), w>, read along v
    rr = np.asarray(fx.grad(lambda x: fx.sum(grad(x) * w))(a))
    np.testing.assert_allclose(np.sum(rr * v), np.sum(fd * w), rtol=1e-6)


def test_cholesky_gradient_over_several_blocks_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    a = spd(100)
    want = jax.grad(lambda x: jax.numpy.sum(jax.numpy.linalg.cholesky(x) ** 3))(a)
    got = fx.grad(lambda x: fx.sum(fx.linalg.cholesky(x) ** 3))(a)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- SciPy ---

SCIPY_CASES = [
    Case(
        "solve_triangular_lower",
        lambda S, a, b: S.solve_triangular(a, b, lower=True),
        (LOW, B32),
        lambda J, a, b: J.solve_triangular(a, b, lower=True),
    ),
    Case("solve_triangular_upper_T", lambda S, a, b: S.solve_triangular(a, b, trans="T"), (UP, B3)),
    Case(
        "solve_triangular_unit",
        lambda S, a, b: S.solve_triangular(a, b, lower=True, unit_diagonal=True, trans=1),
        (LOW, B32),
    ),
    Case("cho_solve_lower", lambda S, a, b: S.cho_solve(S.cho_factor(a, lower=True), b), (S3, B32)),
    Case("cho_solve_upper", lambda S, a, b: S.cho_solve(S.cho_factor(a), b), (S3, B3)),
    Case("lu_solve", lambda S, a, b: S.lu_solve(S.lu_factor(a), b), (A3, B32)),
    Case("lu_solve_trans", lambda S, a, b: S.lu_solve(S.lu_factor(a), b, trans=1), (A3, B3)),
    Case("expm_small", lambda S, a: S.expm(a), (0.1 * A3,), lambda J, a: J.expm(a)),
    Case("expm_scaled", lambda S, a: S.expm(a), (3.0 * A3,), lambda J, a: J.expm(a)),
]


@pytest.mark.parametrize("case", SCIPY_CASES, ids=_ids(SCIPY_CASES))
def test_scipy_values(case):
    scipy_linalg = pytest.importorskip("scipy.linalg")
    want = case.f(scipy_linalg, *case.args)
    assert_close(case.f(fx.scipy.linalg, *case.args), want, kind="transcendental", rtol=1e-9)


SCIPY_DIFF = [c for c in SCIPY_CASES if "lu_solve" not in c.name]


@pytest.mark.parametrize("case", SCIPY_DIFF, ids=_ids(SCIPY_DIFF))
def test_scipy_derivatives(case):
    check_all(lambda *a: case.f(fx.scipy.linalg, *a), case.args, rtol=1e-5, atol=1e-6)
    a0 = case.args[0]
    args = (np.stack([a0, 1.01 * a0]), *case.args[1:])
    in_axes = (0,) + (None,) * (len(args) - 1)
    check_vmap(lambda *a: case.f(fx.scipy.linalg, *a), args, in_axes, rtol=1e-10, atol=1e-11)


def test_lu_solve_differentiates_in_b_and_batches():
    lu, piv = fx.scipy.linalg.lu_factor(A3)
    check_all(lambda b: fx.scipy.linalg.lu_solve((lu, piv), b), (B32,))
    batched = np.stack([A3, A3.T])
    got = fx.vmap(lambda a: fx.scipy.linalg.lu_solve(fx.scipy.linalg.lu_factor(a), B3))(batched)
    assert_close(got, np.linalg.solve(batched, B3[None, :, None])[..., 0], rtol=1e-10)


def test_lu_factor_matches_scipy_and_refuses_derivatives():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    a = general(5, 5)
    lu, piv = fx.scipy.linalg.lu_factor(a)
    want_lu, want_piv = scipy_linalg.lu_factor(a)
    assert_close(lu, want_lu, rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(piv), want_piv)
    with pytest.raises(ValueError, match="lu_factor is not differentiable"):
        fx.grad(lambda a: fx.sum(fx.scipy.linalg.lu_factor(a)[0]))(a)


@pytest.mark.parametrize("bad", [np.array([0, 5, 2]), np.array([0.5, 1, 2])])
def test_lu_solve_rejects_bad_pivots(bad):
    with pytest.raises(IndexError, match="pivot"):
        fx.scipy.linalg.lu_solve((A3, bad), B3)


# ------------------------------------------------------ shapes and dtypes ---


def test_sign_free_values_of_decompositions():
    for a in (T43, T34, A3, general(5, 2, 3)):
        u, s, vh = fx.linalg.svd(a, full_matrices=False)
        assert_close(u @ (s[..., None] * vh), a, rtol=1e-12, atol=1e-12)
        assert_close(s, np.linalg.svd(a, compute_uv=False), rtol=1e-12)
        uf, sf, vhf = fx.linalg.svd(a)
        m, n = a.shape[-2:]
        assert uf.shape[-2:] == (m, m) and vhf.shape[-2:] == (n, n)
        assert_close(fx.swapaxes(uf, -1, -2) @ uf, np.broadcast_to(np.eye(m), uf.shape), atol=1e-12)
        q, r = fx.linalg.qr(a)
        assert_close(q @ r, a, rtol=1e-12, atol=1e-12)
        assert_close(r, np.triu(np.asarray(r)))
        qc, rc = fx.linalg.qr(a, mode="complete")
        assert qc.shape[-2:] == (m, m) and rc.shape[-2:] == (m, n)
        assert_close(qc @ rc, a, rtol=1e-12, atol=1e-12)
    w, v = fx.linalg.eigh(S4B)
    assert_close(v @ (w[..., None] * fx.swapaxes(v, -1, -2)), S4B, rtol=1e-12, atol=1e-12)
    res = fx.linalg.eigh(S3)
    assert res.eigenvalues.shape == (3,) and res.eigenvectors.shape == (3, 3)


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_one_by_one(n):
    a = np.eye(n) * 2.0
    assert_close(fx.linalg.inv(a), np.linalg.inv(a))
    assert_close(fx.linalg.det(a), np.linalg.det(a))
    assert_close(fx.linalg.solve(a, np.ones(n)), np.linalg.solve(a, np.ones(n)))
    assert_close(fx.linalg.cholesky(a), np.linalg.cholesky(a))
    assert_close(fx.linalg.eigvalsh(a), np.linalg.eigvalsh(a))
    assert_close(fx.linalg.svdvals(a), np.linalg.svdvals(a))
    assert_close(fx.linalg.pinv(a), np.linalg.pinv(a))
    assert_close(fx.linalg.slogdet(a)[1], np.linalg.slogdet(a)[1])


def test_empty_batch():
    a = np.zeros((0, 3, 3))
    assert fx.linalg.inv(a).shape == (0, 3, 3)
    assert fx.linalg.eigh(a)[1].shape == (0, 3, 3)
    assert fx.linalg.svd(a)[0].shape == (0, 3, 3)


def test_integer_input_computes_in_float64():
    a = np.array([[2, 1], [1, 3]])
    assert_close(fx.linalg.inv(a), np.linalg.inv(a))
    assert_close(fx.linalg.det(a), np.linalg.det(a), rtol=1e-12)


def test_matrix_rank():
    a = np.outer(B3, B3)
    assert int(fx.linalg.matrix_rank(a)) == np.linalg.matrix_rank(a) == 1
    assert int(fx.linalg.matrix_rank(A3)) == 3
    assert int(fx.linalg.matrix_rank(np.zeros(3))) == 0
    batch = np.stack([a, A3])
    np.testing.assert_array_equal(np.asarray(fx.linalg.matrix_rank(batch)), [1, 3])
    assert int(fx.linalg.matrix_rank(A3, tol=10.0)) == np.linalg.matrix_rank(A3, tol=10.0)


def test_lstsq_rank_and_singular_values():
    x, res, rank, s = fx.linalg.lstsq(T43, B32[:, 0].repeat(2)[:4])
    want = np.linalg.lstsq(T43, B32[:, 0].repeat(2)[:4])
    assert int(rank) == want[2]
    assert_close(s, want[3], rtol=1e-12)
    assert_close(res, want[1], rtol=1e-10)
    deficient = np.c_[T43[:, :2], T43[:, :1]]
    x, res, rank, s = fx.linalg.lstsq(deficient, B32[:, 0].repeat(2)[:4])
    want = np.linalg.lstsq(deficient, B32[:, 0].repeat(2)[:4])
    assert int(rank) == want[2] == 2 and res.shape == (0,)
    assert_close(x, want[0], rtol=1e-9, atol=1e-10)


# ------------------------------------------------------------ errors ---

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])


@pytest.mark.parametrize(
    "call",
    [
        lambda: fx.linalg.solve(SINGULAR, np.ones(2)),
        lambda: fx.linalg.inv(SINGULAR),
        lambda: fx.linalg.inv(np.stack([np.eye(2), SINGULAR])),
        lambda: fx.linalg.cholesky(NOT_PD),
        lambda: fx.scipy.linalg.cho_factor(NOT_PD),
        lambda: fx.scipy.linalg.solve_triangular(np.zeros((2, 2)), np.ones(2)),
        lambda: fx.grad(lambda a: fx.sum(fx.linalg.inv(a)))(SINGULAR),
        lambda: fx.jacfwd(lambda a: fx.linalg.solve(a, np.ones(2)))(SINGULAR),
        lambda: fx.jacrev(lambda a: fx.linalg.cholesky(a))(NOT_PD),
        lambda: fx.vmap(fx.linalg.inv)(np.stack([np.eye(2), SINGULAR])),
        lambda: fx.vmap(fx.grad(lambda a: fx.sum(fx.linalg.cholesky(a))))(np.stack([NOT_PD])),
        lambda: fx.grad(lambda a: fx.linalg.slogdet(a)[1])(SINGULAR),
        lambda: fx.linalg.inv(np.ones((2, 3))),
        lambda: fx.linalg.det(np.ones(3)),
    ],
)
def test_linalg_errors_are_numpy_linalgerror(call):
    with pytest.raises(np.linalg.LinAlgError):
        call()
    # the process stays usable
    assert_close(fx.linalg.inv(np.eye(2) * 2.0), np.eye(2) / 2.0)


def test_linalgerror_is_a_valueerror_and_names_the_problem():
    with pytest.raises(ValueError, match="Singular matrix"):
        fx.linalg.solve(SINGULAR, np.ones(2))
    with pytest.raises(fx.linalg.LinAlgError, match="not positive definite"):
        fx.linalg.cholesky(NOT_PD)


@pytest.mark.parametrize(
    "call, exc, fragment",
    [
        (lambda: fx.linalg.solve(A3, np.ones(4)), ValueError, "does not match"),
        (lambda: fx.linalg.eigh(S3, UPLO="X"), ValueError, "UPLO"),
        (lambda: fx.linalg.qr(A3, mode="raw"), ValueError, "mode"),
        (lambda: fx.linalg.norm(A3, "bad"), ValueError, "norm order"),
        (lambda: fx.linalg.norm(A3, 3), ValueError, "invalid norm order"),
        (lambda: fx.linalg.norm(B3, "fro"), ValueError, "matrix norm"),
        (lambda: fx.linalg.multi_dot([A3]), ValueError, "at least two"),
        (lambda: fx.linalg.tensorinv(A3, ind=0), ValueError, "ind"),
        (lambda: fx.linalg.matrix_power(A3, 1.5), TypeError, "integer"),
        (lambda: fx.linalg.cross(np.ones(2), np.ones(2)), ValueError, "3-dimensional"),
        (lambda: fx.linalg.pinv(A3, rcond=0.1, rtol=0.1), ValueError, "both"),
        (lambda: fx.scipy.linalg.solve_triangular(A3, B3, trans=3), ValueError, "trans"),
        (lambda: fx.scipy.linalg.cho_solve(A3, B3), TypeError, "cho_factor"),
        (
            lambda: fx.grad(lambda a: fx.sum(fx.linalg.svd(a)[0]))(T43),
            ValueError,
            "full_matrices",
        ),
        (lambda: fx.grad(lambda a: fx.sum(fx.linalg.qr(a)[1]))(T34), ValueError, "m >= n"),
        (lambda: fx.linalg.inv(np.ones((2, 2), bool) * 1j), TypeError, "complex128"),
    ],
)
def test_argument_errors(call, exc, fragment):
    with pytest.raises(exc, match=fragment):
        call()


def test_nan_input_gives_nan_not_a_hang():
    a = S3.copy()
    a[0, 1] = a[1, 0] = np.nan
    for f in (fx.linalg.eigvalsh, fx.linalg.svdvals, fx.linalg.det, fx.scipy.linalg.expm):
        assert np.isnan(np.asarray(f(a))).any()
    assert np.isnan(np.asarray(fx.linalg.eigh(a)[1])).all()


def test_repeated_eigenvalues_give_finite_eigenvalue_derivatives():
    g = fx.grad(lambda a: fx.sum(fx.linalg.eigvalsh(a) ** 2))(np.eye(3))
    assert_close(g, 2.0 * np.eye(3))
    g = fx.grad(lambda a: fx.sum(fx.linalg.svdvals(a)))(np.eye(3))
    assert_close(g, np.eye(3))


def test_symmetric_derivative_convention():
    """cholesky and eigh read (A + A.T)/2, so their gradients are symmetric (as JAX's)."""
    g = np.asarray(fx.grad(lambda a: fx.sum(fx.linalg.cholesky(a)))(S3))
    np.testing.assert_allclose(g, g.T, atol=1e-14)


def test_parallel_factorisations_work_after_fork():
    """One large matrix runs faer's parallel algorithm on the kernel pool;
    a forked child (whose pool threads do not exist) must rebuild the pool,
    not hang on the parent's."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import os, numpy as np, ferrax as fx
        x = np.random.default_rng(0).standard_normal((400, 400))
        s = x @ x.T
        w = np.asarray(fx.linalg.eigvalsh(s))
        pid = os.fork()
        if pid == 0:
            ok = np.allclose(np.asarray(fx.linalg.eigvalsh(s)), w, rtol=1e-10, atol=1e-8)
            ok &= np.allclose(np.asarray(fx.linalg.svdvals(x)), np.linalg.svd(x, compute_uv=False))
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "child 0" in out.stdout

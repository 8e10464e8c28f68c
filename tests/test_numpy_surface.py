"""The rest of NumPy's everyday surface (matrix builders, stacking and
splitting, differences and integrals, NaN-skipping reductions, elementwise
helpers, statistics, Tensor methods): values against NumPy through ``fx.name``
and ``np.name(tensor)``; derivatives against finite differences in both modes
and under vmap, and against JAX when it is installed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close
from gradcheck import check_all, check_vmap

rng = np.random.default_rng(7)
M = rng.standard_normal((3, 4))
SQ = rng.standard_normal((3, 3))
V3 = rng.standard_normal(3)
W3 = rng.standard_normal(3)
V5 = np.sort(rng.standard_normal(5))
B = rng.standard_normal((2, 3, 3))
P = np.array([0.5, -1.0, 2.0])
NANS = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [-2.0, 0.5, np.nan]])
INFS = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0])


@dataclass
class Case:
    name: str
    f: Callable  # f(module, *args): module is fx or np
    args: tuple
    grad: bool = True
    jax: Callable | None = None  # f(jnp, *args)
    kwargs: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("tril", lambda m, x: m.tril(x, -1), (M,), jax=lambda j, x: j.tril(x, -1)),
    Case("triu", lambda m, x: m.triu(x, 1), (B,), jax=lambda j, x: j.triu(x, 1)),
    Case("diag_1d", lambda m, x: m.diag(x, 1), (V3,), jax=lambda j, x: j.diag(x, 1)),
    Case("diag_1d_negative_k", lambda m, x: m.diag(x, -2), (V3,)),
    Case("diag_2d", lambda m, x: m.diag(x, -1), (M,), jax=lambda j, x: j.diag(x, -1)),
    Case("diagflat", lambda m, x: m.diagflat(x), (SQ[:2, :2],)),
    Case("kron", lambda m, a, b: m.kron(a, b), (SQ[:2], V3), jax=lambda j, a, b: j.kron(a, b)),
    Case("cross", lambda m, a, b: m.cross(a, b), (V3, W3), jax=lambda j, a, b: j.cross(a, b)),
    Case("cross_batched", lambda m, a, b: m.cross(a, b), (B[0], V3)),
    Case("cross_axis0", lambda m, a, b: m.cross(a, b, axis=0), (M[:, :3], SQ)),
    Case("vstack", lambda m, a, b: m.vstack([a, b]), (V3, W3)),
    Case("hstack", lambda m, a, b: m.hstack([a, b]), (M, SQ)),
    Case("hstack_1d", lambda m, a, b: m.hstack([a, b]), (V3, V5)),
    Case("dstack", lambda m, a, b: m.dstack([a, b]), (M, M)),
    Case("column_stack", lambda m, a, b: m.column_stack([a, b]), (V3, SQ)),
    Case("atleast_2d", lambda m, x: m.atleast_2d(x), (V3,)),
    Case("atleast_3d", lambda m, x: m.atleast_3d(x), (M,)),
    Case("hsplit", lambda m, x: m.hsplit(x, 2)[1], (M,)),
    Case("vsplit", lambda m, x: m.vsplit(x, [1])[1], (M,)),
    Case("dsplit", lambda m, x: m.dsplit(x, 3)[2], (B,)),
    Case("roll", lambda m, x: m.roll(x, 2), (M,), jax=lambda j, x: j.roll(x, 2)),
    Case("roll_axes", lambda m, x: m.roll(x, (1, -2), axis=(0, 1)), (M,)),
    Case("rot90", lambda m, x: m.rot90(x), (M,), jax=lambda j, x: j.rot90(x)),
    Case("rot90_k3_axes", lambda m, x: m.rot90(x, 3, axes=(1, 2)), (B,)),
    Case("rot90_k2", lambda m, x: m.rot90(x, 2), (M,)),
    Case("flipud", lambda m, x: m.flipud(x), (M,)),
    Case("fliplr", lambda m, x: m.fliplr(x), (M,)),
    Case("append", lambda m, a, b: m.append(a, b), (M, V3)),
    Case("append_axis", lambda m, a, b: m.append(a, b, axis=0), (SQ, M[:1, :3])),
    Case("ravel", lambda m, x: m.ravel(x), (B,)),
    Case("diff", lambda m, x: m.diff(x), (M,), jax=lambda j, x: j.diff(x)),
    Case("diff_n2_axis0", lambda m, x: m.diff(x, n=2, axis=0), (M,)),
    Case("diff_prepend_append", lambda m, x: m.diff(x, prepend=0.5, append=V3[:, None]), (SQ,)),
    Case("ediff1d", lambda m, x: m.ediff1d(x, to_end=[1.0, 2.0], to_begin=-1.0), (M,)),
    Case("trapezoid_dx", lambda m, y: m.trapezoid(y, dx=0.5), (M,)),
    Case("trapezoid_x", lambda m, y, x: m.trapezoid(y, x), (M, V5[:4])),
    Case("trapezoid_axis0", lambda m, y: m.trapezoid(y, axis=0), (M,)),
    Case("polyval", lambda m, p, x: m.polyval(p, x), (P, M), jax=lambda j, p, x: j.polyval(p, x)),
    Case("nansum", lambda m, x: m.nansum(x, axis=1), (NANS,)),
    Case("nanmean", lambda m, x: m.nanmean(x, axis=0), (NANS[[0, 2]],)),
    Case("nanmax", lambda m, x: m.nanmax(x), (NANS,)),
    Case("nanmin", lambda m, x: m.nanmin(x, axis=1, keepdims=True), (NANS[[0, 2]],)),
    Case("nan_to_num", lambda m, x: m.nan_to_num(x), (INFS,)),
    Case(
        "nan_to_num_values",
        lambda m, x: m.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0),
        (INFS,),
    ),
    Case("deg2rad", lambda m, x: m.deg2rad(x), (M,), jax=lambda j, x: j.deg2rad(x)),
    Case("rad2deg", lambda m, x: m.rad2deg(x), (M,)),
    Case("radians", lambda m, x: m.radians(x), (M,)),
    Case("degrees", lambda m, x: m.degrees(x), (M,)),
    Case("sinc", lambda m, x: m.sinc(x), (np.append(M.ravel(), 0.0),), jax=lambda j, x: j.sinc(x)),
    Case(
        "heaviside",
        lambda m, x: m.heaviside(x, 0.5),
        (np.array([-1.0, 0.0, 2.0, np.nan]),),
        grad=False,
    ),
    Case("copysign", lambda m, a, b: m.copysign(a, b), (M, np.array([1.0, -2.0, 0.5, -0.25]))),
    Case(
        "copysign_zeros",
        lambda m, a, b: m.copysign(a, b),
        (M, np.array([0.0, -0.0, -1.0, 2.0])),
        grad=False,
    ),
    Case(
        "isclose",
        lambda m, a, b: m.isclose(a, b),
        (np.array([1.0, np.inf, np.nan, 2.0]), np.array([1.0 + 1e-9, np.inf, np.nan, 2.1])),
        grad=False,
    ),
    Case("real", lambda m, x: m.real(x), (M,)),
    Case("imag", lambda m, x: m.imag(x), (M,)),
    Case("conjugate", lambda m, x: m.conjugate(x), (M,)),
    Case("cov", lambda m, x: m.cov(x), (M,), jax=lambda j, x: j.cov(x)),
    Case("cov_columns_bias", lambda m, x: m.cov(x, rowvar=False, bias=True), (M,)),
    Case("cov_xy", lambda m, x, y: m.cov(x, y), (V5, V5[::-1] ** 2)),
    Case("cov_one_variable", lambda m, x: m.cov(x), (V5,)),
    Case("corrcoef", lambda m, x: m.corrcoef(x), (M,), jax=lambda j, x: j.corrcoef(x)),
    Case("meshgrid", lambda m, a, b: m.meshgrid(a, b)[0] * m.meshgrid(a, b)[1], (V3, V5)),
    Case("meshgrid_ij", lambda m, a, b: m.meshgrid(a, b, indexing="ij")[1], (V3, V5)),
    Case("sort", lambda m, x: m.sort(x), (M,), jax=lambda j, x: j.sort(x)),
    Case("sort_axis0", lambda m, x: m.sort(x, axis=0), (B,)),
    Case("sort_flat", lambda m, x: m.sort(x, axis=None), (M,)),
    Case("sort_nan_last", lambda m, x: m.sort(x), (NANS,), grad=False),
    Case("argsort", lambda m, x: m.argsort(x, axis=0), (M,), grad=False),
    Case(
        "argsort_stable_ties",
        lambda m, x: m.argsort(x),
        (np.array([2.0, 1, 2, 1, np.nan, 0]),),
        grad=False,
    ),
    Case(
        "searchsorted",
        lambda m, a, v: m.searchsorted(a, v),
        (V5, np.array([[-3.0, 0.1], [V5[2], 9.0]])),
        grad=False,
    ),
    Case(
        "searchsorted_right",
        lambda m, a, v: m.searchsorted(a, v, side="right"),
        (np.array([1.0, 2, 2, 3]), np.array([2.0, 0.5, 3.0])),
        grad=False,
    ),
    Case("median", lambda m, x: m.median(x), (M,), jax=lambda j, x: j.median(x)),
    Case("median_axis_keepdims", lambda m, x: m.median(x, axis=1, keepdims=True), (B,)),
    Case("median_odd", lambda m, x: m.median(x, axis=0), (M,)),
    Case("quantile", lambda m, x: m.quantile(x, 0.3, axis=1), (M,)),
    Case(
        "quantile_array_q",
        lambda m, x: m.quantile(x, np.array([0.1, 0.5, 1.0]), axis=(0, 2)),
        (B,),
        jax=lambda j, x: j.quantile(x, np.array([0.1, 0.5, 1.0]), axis=(0, 2)),
    ),
    Case("quantile_lower", lambda m, x: m.quantile(x, 0.3, method="lower"), (M,)),
    Case("quantile_higher", lambda m, x: m.quantile(x, 0.3, method="higher"), (M,)),
    Case("quantile_nearest", lambda m, x: m.quantile(x, 0.45, method="nearest"), (M,)),
    Case("quantile_midpoint", lambda m, x: m.quantile(x, 0.3, method="midpoint", axis=0), (M,)),
    Case("quantile_nan", lambda m, x: m.quantile(x, 0.5, axis=1), (NANS,), grad=False),
    Case("percentile", lambda m, x: m.percentile(x, [25, 75]), (M,)),
    Case("cumprod", lambda m, x: m.cumprod(x), (M,), jax=lambda j, x: j.cumprod(x)),
    Case("cumprod_axis", lambda m, x: m.cumprod(x, axis=1), (B,)),
    Case(
        "cumprod_zeros",
        lambda m, x: m.cumprod(x),
        (np.array([2.0, -1.5, 0.0, 3.0, -2.0, 0.5, 1.5]),),
    ),
    Case("cumprod_int", lambda m, x: m.cumprod(x), (np.array([1, 2, 3, -4]),), grad=False),
    Case("gradient_1d", lambda m, x: m.gradient(x), (V5,), jax=lambda j, x: j.gradient(x)),
    Case("gradient_2d", lambda m, x: m.gradient(x, 0.5, 2.0)[1], (M,)),
    Case("gradient_2d_axis0", lambda m, x: m.gradient(x, 0.5, 2.0)[0], (M,)),
    Case("gradient_axis_edge2", lambda m, x: m.gradient(x, axis=1, edge_order=2), (M,)),
    Case(
        "gradient_coords", lambda m, x: m.gradient(x, V5 * 3.0 + np.arange(5)), (V3.repeat(2)[:5],)
    ),
    Case(
        "gradient_coords_edge2",
        lambda m, x: m.gradient(x, np.cumsum(np.abs(V5) + 0.5), edge_order=2),
        (V5**2,),
    ),
    Case(
        "convolve_full",
        lambda m, a, v: m.convolve(a, v),
        (V5, V3),
        jax=lambda j, a, v: j.convolve(a, v),
    ),
    Case("convolve_same", lambda m, a, v: m.convolve(a, v, mode="same"), (V3, V5)),
    Case("convolve_valid", lambda m, a, v: m.convolve(a, v, mode="valid"), (V5, V3)),
    Case("correlate_valid", lambda m, a, v: m.correlate(a, v), (V5, V3)),
    Case("correlate_full_short_a", lambda m, a, v: m.correlate(a, v, "full"), (V3, V5)),
    Case("correlate_same", lambda m, a, v: m.correlate(a, v, "same"), (V5, W3)),
    Case(
        "interp",
        lambda m, x, xp, fp: m.interp(x, xp, fp),
        (np.array([-5.0, 0.1, 7.0, V5[2] + 1e-3, 0.5 * (V5[0] + V5[1])]), V5, V5**3),
        jax=lambda j, x, xp, fp: j.interp(x, xp, fp),
    ),
    Case(
        "interp_at_knots",
        lambda m, x, xp, fp: m.interp(x, xp, fp),
        (V5[[0, 2, 4]], V5, V5**3),
        grad=False,
    ),
    Case(
        "interp_left_right",
        lambda m, x, xp, fp: m.interp(x, xp, fp, left=-1.0, right=2.0),
        (np.array([-5.0, 0.2, 7.0]), V5, np.sin(V5)),
    ),
    Case(
        "select",
        lambda m, a, b: m.select([a > 0, b < 0], [a, b * 2.0], 0.5),
        (M, M[::-1]),
    ),
    Case(
        "einsum_sublist",
        lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        (M, M.T),
    ),
    Case("einsum_sublist_implicit", lambda m, a: m.einsum(a, [Ellipsis, 0, 0]), (B,)),
]


def _ids(cases):
    return [c.name for c in cases]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_values_match_numpy_through_fx_and_numpy(case):
    want = case.f(np, *case.args)
    assert_close(case.f(fx, *case.args), want, kind="transcendental")
    tensors = tuple(fx.asarray(a) for a in case.args)
    assert_close(case.f(np, *tensors), want, kind="transcendental")


DIFF = [c for c in CASES if c.grad]


def _finite(args):
    """NaN- and inf-free inputs for the derivative checks."""
    return tuple(np.nan_to_num(a, nan=0.25, posinf=2.0, neginf=-2.0) for a in args)


@pytest.mark.parametrize("case", DIFF, ids=_ids(DIFF))
def test_derivatives_in_both_modes(case):
    check_all(lambda *a: case.f(fx, *a), _finite(case.args))


@pytest.mark.parametrize("case", DIFF, ids=_ids(DIFF))
def test_derivatives_under_vmap(case):
    args = _finite(case.args)
    batched = np.stack([args[0], 0.5 * args[0] - 0.25, -args[0]])
    in_axes = (0,) + (None,) * (len(args) - 1)
    check_vmap(lambda *a: case.f(fx, *a), (batched, *args[1:]), in_axes)


WITH_JAX = [c for c in CASES if c.jax is not None]


@pytest.mark.parametrize("case", WITH_JAX, ids=_ids(WITH_JAX))
def test_jacobians_match_jax(case):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    args = _finite(case.args)
    for i in range(len(args)):
        want = jax.jacrev(lambda *a: case.jax(jax.numpy, *a), argnums=i)(*args)
        got = fx.jacrev(lambda *a: case.f(fx, *a), argnums=i)(*args)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-9, atol=1e-12)


def test_nan_reductions_of_all_nan_slices_are_nan():
    assert np.isnan(float(fx.nanmax(np.full(3, np.nan))))
    got = fx.nanmean(NANS, axis=1)
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanmean(NANS, axis=1)
    assert_close(got, want)


def test_allclose_and_isclose_work_under_vmap():
    x = np.stack([V3, V3 + 1.0])
    got = fx.vmap(lambda a: fx.allclose(a, V3))(x)
    np.testing.assert_array_equal(np.asarray(got), [True, False])
    assert bool(fx.allclose(M, M + 1e-12))
    assert not bool(fx.allclose(M, M + 1e-3))


def test_atleast_with_several_inputs_returns_a_tuple():
    a, b = fx.atleast_1d(1.0, V3)
    assert a.shape == (1,) and b.shape == (3,)
    assert fx.atleast_3d(np.float64(2.0)).shape == (1, 1, 1)


def test_tensor_methods():
    t = fx.asarray(B)
    assert_close(t.ravel(), B.ravel())
    assert_close(t.flatten(), B.flatten())
    assert_close(fx.asarray(M[:1]).squeeze(), M[0])
    assert_close(t[0].dot(V3), B[0].dot(V3))
    assert_close(t.clip(-0.5, 0.5), B.clip(-0.5, 0.5))
    assert_close(t.round(2), B.round(2))
    assert_close(t.cumsum(), B.cumsum())
    assert_close(t.cumsum(axis=1), B.cumsum(axis=1))
    assert t.nbytes == B.nbytes and t.itemsize == B.itemsize
    f32 = fx.asarray(B, dtype=fx.float32)
    assert f32.itemsize == 4 and f32.nbytes == 4 * B.size
    check_all(lambda x: x.clip(-0.5, 0.5).cumsum(axis=0).ravel(), (B,))


@pytest.mark.parametrize(
    "call, exc, fragment",
    [
        (lambda: fx.tril(V3), ValueError, "at least 2"),
        (lambda: fx.diag(B), ValueError, "1-d or 2-d"),
        (lambda: fx.cross(V3, V5), ValueError, "2 or 3 components"),
        (lambda: fx.vsplit(V3, 3), ValueError, "2 or more"),
        (lambda: fx.dsplit(M, 2), ValueError, "3 or more"),
        (lambda: fx.hsplit(M, 3), ValueError, "equal division"),
        (lambda: fx.roll(M, (1, 2), axis=(0, 1, 1)), ValueError, "shifts"),
        (lambda: fx.rot90(V3), ValueError, "at least 2"),
        (lambda: fx.rot90(M, axes=(1, 1)), ValueError, "different"),
        (lambda: fx.fliplr(V3), ValueError, "at least 2"),
        (lambda: fx.diff(M, n=-1), ValueError, "non-negative"),
        (lambda: fx.diff(np.float64(1.0)), ValueError, "at least one dimensional"),
        (lambda: fx.trapezoid(M, V3), ValueError, "sample points"),
        (lambda: fx.polyval(M, V3), ValueError, "1-d"),
        (lambda: fx.cov(B), ValueError, "at most 2-d"),
        (lambda: fx.meshgrid(V3, indexing="xz"), ValueError, "indexing"),
        (lambda: fx.append(M, V3, axis=0), ValueError, "dimensions"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, exc, fragment):
    with pytest.raises(exc, match=fragment):
        call()

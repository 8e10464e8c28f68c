"""``fx.lax`` convolutions: values against JAX (1-d/2-d/3-d, strides,
paddings, dilations, groups, batch groups, layouts, ``conv_transpose``) and a
NumPy reference (a property test), derivatives in both modes against finite
differences and JAX, ``vmap`` over either operand or both, second order, and
one test per error."""

from __future__ import annotations

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close
from ferrax import lax
from gradcheck import check_all, check_hessian, check_vmap
from hypothesis import given, settings
from hypothesis import strategies as st

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jlax = jax.lax
jnp = jax.numpy

rng = np.random.default_rng(7)


def rand(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# (lhs shape, rhs shape, keyword arguments of conv_general_dilated)
CASES = [
    # 1-d
    ((2, 3, 9), (4, 3, 3), dict(window_strides=(1,), padding="VALID")),
    ((2, 3, 9), (4, 3, 3), dict(window_strides=(2,), padding="SAME")),
    ((2, 3, 10), (4, 3, 4), dict(window_strides=(3,), padding="SAME_LOWER")),
    ((1, 2, 8), (3, 2, 3), dict(window_strides=(1,), padding=[(2, -1)], rhs_dilation=(2,))),
    ((1, 2, 5), (3, 2, 3), dict(window_strides=(1,), padding=[(2, 2)], lhs_dilation=(3,))),
    # 2-d
    ((2, 3, 7, 6), (5, 3, 3, 2), dict(window_strides=(1, 1), padding="SAME")),
    ((2, 3, 8, 7), (4, 3, 3, 3), dict(window_strides=(2, 3), padding="VALID")),
    (
        (1, 2, 6, 6),
        (3, 2, 2, 3),
        dict(
            window_strides=(2, 1),
            padding=[(1, 2), (-1, 1)],
            lhs_dilation=(2, 1),
            rhs_dilation=(1, 2),
        ),
    ),
    (
        (2, 4, 5, 5),
        (6, 2, 3, 3),
        dict(window_strides=(1, 1), padding="SAME", feature_group_count=2),
    ),
    (
        (2, 4, 5, 5),
        (4, 1, 3, 3),
        dict(window_strides=(1, 1), padding="VALID", feature_group_count=4),
    ),
    (
        (6, 2, 4, 5),
        (6, 2, 2, 2),
        dict(window_strides=(1, 1), padding=[(0, 1), (1, 0)], batch_group_count=3),
    ),
    # layouts
    (
        (2, 6, 5, 3),
        (3, 2, 3, 4),
        dict(window_strides=(1, 2), padding="SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")),
    ),
    (
        (5, 2, 3, 6),
        (4, 3, 3, 2),
        dict(window_strides=(1, 1), padding="VALID", dimension_numbers=("HNCW", "OHIW", "CWNH")),
    ),
    (
        (2, 6, 5, 4),
        (3, 2, 2, 6),
        dict(
            window_strides=(1, 1),
            padding="SAME",
            feature_group_count=2,
            dimension_numbers=("NHWC", "HWIO", "NCHW"),
        ),
    ),
    # 3-d
    ((1, 2, 4, 5, 3), (3, 2, 2, 3, 1), dict(window_strides=(1, 1, 1), padding="SAME")),
    (
        (2, 2, 5, 4, 4),
        (2, 1, 2, 2, 2),
        dict(
            window_strides=(2, 1, 2), padding="VALID", rhs_dilation=(1, 2, 1), feature_group_count=2
        ),
    ),
    # 0-d: a matrix product
    ((3, 4), (5, 4), dict(window_strides=(), padding="VALID")),
]
IDS = [f"case{i}" for i in range(len(CASES))]


def _jkw(kw):
    kw = dict(kw)
    if isinstance(kw.get("padding"), list):
        kw["padding"] = [tuple(p) for p in kw["padding"]]
    return kw


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_and_vjp_match_jax(case):
    ls, rs, kw = case
    x, w = rand(*ls), rand(*rs)
    got = lax.conv_general_dilated(x, w, **kw)
    want = jlax.conv_general_dilated(x, w, **_jkw(kw))
    assert_close(got, np.asarray(want), rtol=1e-12, atol=1e-12)
    # both cotangents (transposed convolutions of the same primitive)
    ct = rand(*want.shape)
    _, vjp = fx.vjp(lambda a, b: lax.conv_general_dilated(a, b, **kw), x, w)
    _, jvjp = jax.vjp(lambda a, b: jlax.conv_general_dilated(a, b, **_jkw(kw)), x, w)
    for g, j in zip(vjp(ct), jvjp(ct)):
        assert_close(g, np.asarray(j), rtol=1e-11, atol=1e-11)
    # the tangent, both operands at once
    tx, tw = rand(*ls), rand(*rs)
    _, t = fx.jvp(lambda a, b: lax.conv_general_dilated(a, b, **kw), (x, w), (tx, tw))
    _, jt = jax.jvp(lambda a, b: jlax.conv_general_dilated(a, b, **_jkw(kw)), (x, w), (tx, tw))
    assert_close(t, np.asarray(jt), rtol=1e-11, atol=1e-11)


def test_float32_int_and_preferred_element_type():
    x, w = rand(2, 3, 9, 8, dtype=np.float32), rand(4, 3, 3, 3, dtype=np.float32)
    got = lax.conv(x, w, (1, 1), "SAME")
    assert got.dtype == np.float32
    want = jlax.conv(x, w, (1, 1), "SAME", precision="highest")
    assert_close(got, np.asarray(want), rtol=2e-5, atol=2e-5)
    xi = rng.integers(-3, 4, (1, 2, 5, 5)).astype(np.int64)
    wi = rng.integers(-3, 4, (3, 2, 2, 2)).astype(np.int64)
    gi = lax.conv(xi, wi, (1, 1), "VALID")
    assert gi.dtype == np.int64
    assert_close(gi, np.asarray(jlax.conv(xi, wi, (1, 1), "VALID")))
    gp = lax.conv(xi, wi, (1, 1), "VALID", preferred_element_type=np.float64)
    assert_close(gp, np.asarray(jlax.conv(xi, wi, (1, 1), "VALID")).astype(np.float64))


def test_conv_with_general_padding_and_dimension_numbers():
    x, w = rand(2, 3, 7, 6), rand(4, 3, 3, 2)
    kw = dict(
        window_strides=(2, 1), padding=[(1, 0), (2, 1)], lhs_dilation=(1, 2), rhs_dilation=(2, 1)
    )
    got = lax.conv_with_general_padding(x, w, **kw)
    want = jlax.conv_with_general_padding(x, w, **kw)
    assert_close(got, np.asarray(want), rtol=1e-12, atol=1e-12)
    for spec in [("NHWC", "HWIO", "NHWC"), ("NCHW", "OIHW", "NCHW"), ("NWHC", "WHOI", "CNHW")]:
        dn = lax.conv_dimension_numbers((1, 2, 3, 4), (1, 2, 3, 4), spec)
        jdn = jlax.conv_dimension_numbers((1, 2, 3, 4), (1, 2, 3, 4), spec)
        assert tuple(dn) == tuple(tuple(s) for s in jdn)
        assert isinstance(dn, lax.ConvDimensionNumbers)
    # a ConvDimensionNumbers object is taken as it is
    dn = lax.conv_dimension_numbers(x.shape, w.shape, ("NCHW", "OIHW", "NHWC"))
    got = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=dn)
    want = jlax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NHWC")
    )
    assert_close(got, np.asarray(want), rtol=1e-12, atol=1e-12)


TRANSPOSE_CASES = [
    ((1, 4, 4, 2), (3, 3, 2, 5), dict(strides=(2, 2), padding="SAME")),
    ((2, 5, 3, 2), (3, 2, 2, 4), dict(strides=(2, 1), padding="VALID")),
    ((1, 4, 4, 2), (3, 3, 5, 2), dict(strides=(2, 2), padding="SAME", transpose_kernel=True)),
    ((1, 3, 5, 2), (2, 3, 2, 3), dict(strides=(1, 2), padding=[(1, 0), (2, 1)])),
    (
        (1, 3, 5, 2),
        (3, 3, 2, 3),
        dict(strides=(2, 2), padding=[(1, 1), (0, 1)], use_consistent_padding=True),
    ),
    ((2, 6, 3), (3, 3, 4), dict(strides=(3,), padding="SAME", rhs_dilation=(2,))),
    (
        (1, 2, 4, 4),
        (3, 2, 3, 3),
        dict(strides=(2, 2), padding="SAME", dimension_numbers=("NCHW", "OIHW", "NCHW")),
    ),
    ((1, 3, 3, 2, 2), (2, 2, 2, 2, 3), dict(strides=(2, 1, 2), padding="VALID")),
]


@pytest.mark.parametrize(
    "case", TRANSPOSE_CASES, ids=[f"t{i}" for i in range(len(TRANSPOSE_CASES))]
)
def test_conv_transpose_matches_jax(case):
    ls, rs, kw = case
    x, w = rand(*ls), rand(*rs)
    got = lax.conv_transpose(x, w, **kw)
    want = jlax.conv_transpose(x, w, **_jkw(kw))
    assert_close(got, np.asarray(want), rtol=1e-12, atol=1e-12)
    g = fx.grad(lambda a, b: fx.sum(fx.sin(lax.conv_transpose(a, b, **kw))), argnums=(0, 1))(x, w)
    jg = jax.grad(
        lambda a, b: jnp.sum(jnp.sin(jlax.conv_transpose(a, b, **_jkw(kw)))), argnums=(0, 1)
    )(x, w)
    for a, b in zip(g, jg):
        assert_close(a, np.asarray(b), rtol=1e-11, atol=1e-11)


def test_conv_transpose_is_the_gradient_of_conv():
    x, w = rand(1, 6, 6, 3), rand(3, 3, 3, 4)
    dn = ("NHWC", "HWIO", "NHWC")
    y, vjp = fx.vjp(
        lambda a: lax.conv_general_dilated(a, w, (2, 2), "SAME", dimension_numbers=dn), x
    )
    ct = rand(*y.shape)
    t = lax.conv_transpose(ct, w, (2, 2), "SAME", dimension_numbers=dn, transpose_kernel=True)
    assert_close(t, np.asarray(vjp(ct)[0]), rtol=1e-12, atol=1e-12)


# -------------------------------------------------------- derivatives (FD) ---

FD_CASES = [
    ((1, 2, 5), (2, 2, 3), dict(window_strides=(2,), padding="SAME", rhs_dilation=(2,))),
    (
        (2, 2, 4, 3),
        (2, 1, 2, 2),
        dict(window_strides=(1, 2), padding=[(1, 0), (0, 1)], feature_group_count=2),
    ),
    ((2, 2, 3, 3), (4, 2, 2, 2), dict(window_strides=(1, 1), padding="VALID", batch_group_count=2)),
    (
        (1, 2, 3, 3),
        (2, 2, 2, 2),
        dict(window_strides=(1, 1), padding=[(1, 1), (0, 0)], lhs_dilation=(2, 1)),
    ),
    ((1, 2, 3, 2, 2), (1, 2, 2, 1, 2), dict(window_strides=(1, 1, 1), padding="SAME")),
]


@pytest.mark.parametrize("case", FD_CASES, ids=[f"fd{i}" for i in range(len(FD_CASES))])
def test_derivatives_against_finite_differences(case):
    ls, rs, kw = case
    f = lambda a, b: lax.conv_general_dilated(a, b, **kw)  # noqa: E731
    check_all(f, [rand(*ls), rand(*rs)])


def test_second_order():
    x, w = rand(1, 2, 4, 4), rand(3, 2, 2, 2)
    kw = dict(window_strides=(1, 1), padding="SAME")
    check_hessian(lambda a, b: fx.tanh(lax.conv_general_dilated(a, b, **kw)), [x, w])

    # a Hessian-vector product through two convolutions, against JAX
    vx, vw = rand(*x.shape), rand(*w.shape)
    w2 = rand(3, 3, 2, 2)

    def f_fx(a, b):
        h = fx.tanh(lax.conv_general_dilated(a, b, **kw))
        return fx.sum(lax.conv_general_dilated(h, w2, **kw) ** 2)

    def f_jax(a, b):
        h = jnp.tanh(jlax.conv_general_dilated(a, b, **kw))
        return jnp.sum(jlax.conv_general_dilated(h, w2, **kw) ** 2)

    _, hv = fx.jvp(fx.grad(f_fx, argnums=(0, 1)), (x, w), (vx, vw))
    _, jhv = jax.jvp(jax.grad(f_jax, argnums=(0, 1)), (x, w), (vx, vw))
    for a, b in zip(hv, jhv):
        assert_close(a, np.asarray(b), rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------- vmap ---

VMAP_CASES = [CASES[1], CASES[5], CASES[8], CASES[10], CASES[11], CASES[14]]


@pytest.mark.parametrize("case", VMAP_CASES, ids=[f"v{i}" for i in range(len(VMAP_CASES))])
@pytest.mark.parametrize("axes", [(0, None), (None, 0), (0, 0), (1, 2)])
def test_vmap_matches_jax(case, axes):
    ls, rs, kw = case
    size = 3
    bx = rand(*((size,) + ls)) if axes[0] is not None else rand(*ls)
    bw = rand(*((size,) + rs)) if axes[1] is not None else rand(*rs)
    if axes[0] is not None:
        bx = np.moveaxis(bx, 0, axes[0])
    if axes[1] is not None:
        bw = np.moveaxis(bw, 0, axes[1])
    got = fx.vmap(lambda a, b: lax.conv_general_dilated(a, b, **kw), in_axes=axes)(bx, bw)
    want = jax.vmap(lambda a, b: jlax.conv_general_dilated(a, b, **_jkw(kw)), in_axes=axes)(bx, bw)
    assert_close(got, np.asarray(want), rtol=1e-12, atol=1e-12)


def test_vmap_of_gradients_and_jacobians():
    x, w = rand(2, 2, 4, 4), rand(3, 2, 2, 2)
    kw = dict(window_strides=(1, 1), padding="SAME")

    def loss(mod, l_, a, b):
        return mod.sum(mod.sin(l_.conv_general_dilated(a, b, **kw)))

    per_example = fx.vmap(fx.grad(lambda a, b: loss(fx, lax, a[None], b), argnums=1), (0, None))(
        x, w
    )
    want = jax.vmap(jax.grad(lambda a, b: loss(jnp, jlax, a[None], b), argnums=1), (0, None))(x, w)
    assert_close(per_example, np.asarray(want), rtol=1e-11, atol=1e-11)
    check_vmap(lambda a: lax.conv_general_dilated(a[None], w, **kw), [x])
    jf = fx.jacfwd(lambda b: lax.conv_general_dilated(x, b, **kw))(w)
    jr = fx.jacrev(lambda b: lax.conv_general_dilated(x, b, **kw))(w)
    jj = jax.jacrev(lambda b: jlax.conv_general_dilated(x, b, **kw))(w)
    assert_close(jf, np.asarray(jj), rtol=1e-12, atol=1e-12)
    assert_close(jr, np.asarray(jj), rtol=1e-12, atol=1e-12)


# --------------------------------------------------- property: vs NumPy ---


def np_conv(x, w, strides, padding, lhs_dil, rhs_dil, groups):
    """The definition in NumPy: dilate, pad (negative crops), slide."""
    nd = x.ndim - 2
    if any(d > 1 for d in lhs_dil):
        shape = x.shape[:2] + tuple(
            (n - 1) * d + 1 if n else 0 for n, d in zip(x.shape[2:], lhs_dil)
        )
        xd = np.zeros(shape)
        xd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in lhs_dil)] = x
        x = xd
    pads = [(0, 0), (0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in padding]
    x = np.pad(x, pads)
    crop = (slice(None), slice(None)) + tuple(
        slice(-min(lo, 0), x.shape[2 + i] + min(hi, 0)) for i, (lo, hi) in enumerate(padding)
    )
    x = x[crop]
    ks = w.shape[2:]
    win = [(k - 1) * d + 1 for k, d in zip(ks, rhs_dil)]
    outs = [max(0, (x.shape[2 + i] - win[i]) // strides[i] + 1) for i in range(nd)]
    b, c = x.shape[:2]
    o, ci = w.shape[:2]
    og = o // groups
    y = np.zeros((b, o, *outs))
    if 0 in outs:
        return y
    for kpos in np.ndindex(*ks):
        sl = tuple(
            slice(
                kpos[i] * rhs_dil[i],
                kpos[i] * rhs_dil[i] + (outs[i] - 1) * strides[i] + 1,
                strides[i],
            )
            for i in range(nd)
        )
        patch = x[(slice(None), slice(None)) + sl]  # (b, c, outs...)
        for g in range(groups):
            wg = w[(slice(g * og, (g + 1) * og), slice(None), *kpos)]  # (og, ci)
            pg = patch[:, g * ci : (g + 1) * ci]
            y[:, g * og : (g + 1) * og] += np.einsum("oc,bc...->bo...", wg, pg)
    return y


@settings(max_examples=60, deadline=None)
@given(
    nd=st.integers(1, 3),
    data=st.data(),
)
def test_forward_matches_numpy(nd, data):
    groups = data.draw(st.sampled_from([1, 2]))
    ci = data.draw(st.integers(1, 2))
    b = data.draw(st.integers(1, 2))
    o = groups * data.draw(st.integers(1, 2))
    ins = [data.draw(st.integers(1, 6)) for _ in range(nd)]
    ks = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    strides = [data.draw(st.integers(1, 3)) for _ in range(nd)]
    lhs_dil = [data.draw(st.integers(1, 2)) for _ in range(nd)]
    rhs_dil = [data.draw(st.integers(1, 2)) for _ in range(nd)]
    padding = []
    for i in range(nd):
        extent = (ins[i] - 1) * lhs_dil[i] + 1
        lo = data.draw(st.integers(-min(2, extent - 1), 2))
        hi = data.draw(st.integers(-min(2, extent - 1 + lo), 2))
        padding.append((lo, hi))
    x = rand(b, ci * groups, *ins)
    w = rand(o, ci, *ks)
    got = lax.conv_general_dilated(
        x, w, strides, padding, lhs_dil, rhs_dil, feature_group_count=groups
    )
    want = np_conv(x, w, strides, padding, lhs_dil, rhs_dil, groups)
    assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_large_parallel_and_window_wider_than_output():
    # the threaded path and the column-major im2col (a weight gradient's shape)
    x, w = rand(16, 8, 20, 20), rand(8, 8, 3, 3)
    y = lax.conv(x, w, (1, 1), "SAME")
    assert_close(y, np.asarray(jlax.conv(x, w, (1, 1), "SAME")), rtol=1e-11, atol=1e-11)
    g = fx.grad(lambda b: fx.sum(lax.conv(x, b, (1, 1), "SAME") ** 2))(w)
    jg = jax.grad(lambda b: jnp.sum(jlax.conv(x, b, (1, 1), "SAME") ** 2))(w)
    assert_close(g, np.asarray(jg), rtol=1e-10, atol=1e-9)


# ------------------------------------------------------------------ errors ---


def test_errors():
    x, w = np.ones((1, 4, 5, 5)), np.ones((2, 4, 3, 3))
    conv = lax.conv_general_dilated
    with pytest.raises(ValueError, match="same number of dimensions"):
        conv(x, np.ones((2, 4, 3)), (1, 1), "SAME")
    with pytest.raises(ValueError, match="input feature dimension"):
        conv(x, np.ones((2, 3, 3, 3)), (1, 1), "SAME")
    with pytest.raises(ValueError, match="feature_group_count must divide"):
        conv(x, np.ones((3, 1, 3, 3)), (1, 1), "SAME", feature_group_count=3)
    with pytest.raises(ValueError, match="multiple of feature_group_count"):
        conv(x, np.ones((3, 2, 3, 3)), (1, 1), "SAME", feature_group_count=2)
    with pytest.raises(ValueError, match="batch_group_count must divide"):
        conv(np.ones((3, 4, 5, 5)), np.ones((2, 4, 3, 3)), (1, 1), "SAME", batch_group_count=2)
    with pytest.raises(ValueError, match="multiple of batch_group_count"):
        conv(np.ones((4, 4, 5, 5)), np.ones((3, 4, 3, 3)), (1, 1), "SAME", batch_group_count=2)
    with pytest.raises(ValueError, match="at most one"):
        conv(
            np.ones((4, 4, 5, 5)),
            np.ones((4, 2, 3, 3)),
            (1, 1),
            "SAME",
            feature_group_count=2,
            batch_group_count=2,
        )
    with pytest.raises(ValueError, match="feature_group_count must be a positive"):
        conv(x, w, (1, 1), "SAME", feature_group_count=0)
    with pytest.raises(ValueError, match="batch_group_count must be a positive"):
        conv(x, w, (1, 1), "SAME", batch_group_count=-1)
    with pytest.raises(ValueError, match="padding type"):
        conv(x, w, (1, 1), "FULL")
    with pytest.raises(ValueError, match="padding argument"):
        conv(x, w, (1, 1), [1, 2])
    with pytest.raises(ValueError, match="padding has 1 entries"):
        conv(x, w, (1, 1), [(1, 1)])
    with pytest.raises(ValueError, match="negative padding"):
        conv(x, w, (1, 1), [(-4, -3), (0, 0)])
    with pytest.raises(ValueError, match="window_strides must be positive"):
        conv(x, w, (0, 1), "SAME")
    with pytest.raises(ValueError, match="window_strides must be positive"):
        conv(x, w, (-1, 1), "VALID")
    with pytest.raises(ValueError, match="window_strides has 1 entries"):
        conv(x, w, (1,), "VALID")
    with pytest.raises(ValueError, match="rhs_dilation must be positive"):
        conv(x, w, (1, 1), "SAME", rhs_dilation=(1, 0))
    with pytest.raises(ValueError, match="lhs_dilation must be positive"):
        conv(x, w, (1, 1), [(0, 0)] * 2, lhs_dilation=(-2, 1))
    with pytest.raises(ValueError, match="transposed convolution"):
        conv(x, w, (1, 1), "SAME", lhs_dilation=(2, 1))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        conv(np.ones(3), np.ones(3), (), "VALID")
    with pytest.raises(TypeError, match="exactly once"):
        conv(x, w, (1, 1), "SAME", dimension_numbers=("NHWN", "HWIO", "NHWC"))
    with pytest.raises(TypeError, match="duplicate"):
        conv(x, w, (1, 1), "SAME", dimension_numbers=("NCHH", "OIHW", "NCHW"))
    with pytest.raises(TypeError, match="length equal"):
        conv(x, w, (1, 1), "SAME", dimension_numbers=("NCH", "OIHW", "NCHW"))
    with pytest.raises(TypeError, match="same set of spatial"):
        conv(x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHX", "NCHW"))
    with pytest.raises(TypeError, match="not a permutation"):
        conv(
            x,
            w,
            (1, 1),
            "SAME",
            dimension_numbers=lax.ConvDimensionNumbers((0, 1, 2, 2), (0, 1, 2, 3), (0, 1, 2, 3)),
        )
    with pytest.raises(TypeError, match="length 3"):
        conv(x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW"))
    with pytest.raises(TypeError, match="dimension_numbers must be"):
        conv(x, w, (1, 1), "SAME", dimension_numbers="NCHW")
    with pytest.raises(TypeError, match="boolean"):
        conv(x > 0, w, (1, 1), "SAME")
    with pytest.raises(ValueError, match="invalid padding mode"):
        lax.conv_transpose(x, w, (1, 1), "FULL", use_consistent_padding=True)
    with pytest.raises(ValueError, match="strides must be positive"):
        lax.conv_transpose(x, w, (0, 1), "SAME")
    with pytest.raises(ValueError, match="no default dimension numbers"):
        lax.conv_transpose(np.ones((1,) * 6), np.ones((1,) * 6), (1,) * 4, "SAME")

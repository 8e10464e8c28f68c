"""Sparse Jacobians and Hessians (``sparsity=`` on jacfwd/jacrev/hessian),
``sparsity_pattern`` and ``sparsity_coloring``: equal to the dense
derivatives (and to finite differences and JAX) on random patterns with
empty rows and columns and dense rows, pass counts equal to the known
chromatic numbers, detection through the primitives, and the error paths."""

from __future__ import annotations

import sys

import ferrax as fx
import numpy as np
import pytest
from gradcheck import fd_jacobian

sp = pytest.importorskip("scipy.sparse")

rng = np.random.default_rng(11)


def close(actual, expected, rtol=1e-13, atol=1e-13):
    """Values (of scipy, NumPy or concrete ferrax arrays) and shapes agree."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def random_pattern(m, n, density, seed, dense_row=None, dense_col=None, empty_row=None):
    r = np.random.default_rng(seed)
    p = r.random((m, n)) < density
    if dense_row is not None:
        p[dense_row] = True
    if dense_col is not None:
        p[:, dense_col] = True
    if empty_row is not None:
        p[empty_row] = False
    return p


def function_with_pattern(p, seed=0):
    """``f(x)_i = sum_{j in p_i} w_ij tanh(x_j) x_j``: its Jacobian's
    structure is exactly ``p`` (a gather and a scatter-add)."""
    rows, cols = np.nonzero(p)
    w = np.random.default_rng(seed).uniform(0.5, 1.5, len(rows))
    m = p.shape[0]

    def f(x):
        terms = w * fx.tanh(x[cols]) * x[cols]
        return fx.zeros(m).at[rows].add(terms)

    def jac(x):
        d = np.tanh(x) + x * (1 - np.tanh(x) ** 2)
        out = np.zeros(p.shape)
        np.add.at(out, (rows, cols), w * d[cols])
        return out

    return f, jac


PATTERNS = {
    "random": dict(m=12, n=9, density=0.2),
    "dense_row_empty_row": dict(m=10, n=14, density=0.15, dense_row=3, empty_row=7),
    "dense_column": dict(m=9, n=9, density=0.1, dense_col=0),
    "empty_columns": dict(m=6, n=11, density=0.1),
    "wide": dict(m=3, n=20, density=0.3),
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
@pytest.mark.parametrize("given", ["auto", "bool", "scipy"])
def test_sparse_jacobian_equals_dense(name, mode, given):
    cfg = PATTERNS[name]
    p = random_pattern(
        cfg["m"],
        cfg["n"],
        cfg["density"],
        seed=len(name),
        **{k: v for k, v in cfg.items() if k in ("dense_row", "dense_col", "empty_row")},
    )
    f, jac = function_with_pattern(p, seed=1)
    x = rng.standard_normal(p.shape[1])
    sparsity = {"auto": "auto", "bool": p, "scipy": sp.csr_array(p)}[given]
    transform = getattr(fx, mode)
    J = transform(f, sparsity=sparsity)(x)
    assert isinstance(J, sp.csr_array) and J.shape == p.shape
    assert np.array_equal(J.toarray() != 0, p)  # the structure itself
    close(J.toarray(), jac(x), rtol=1e-13, atol=1e-13)
    close(J.toarray(), transform(f)(x), rtol=1e-13, atol=1e-13)
    close(J.toarray(), fd_jacobian(f, (x,)), rtol=1e-6, atol=1e-7)
    dense = transform(f, sparsity=sparsity, dense_output=True)(x)
    assert isinstance(dense, fx.Tensor)
    close(dense, jac(x), rtol=1e-13, atol=1e-13)


def test_sparse_jacobian_of_multidimensional_arrays_is_over_flattened_elements():
    def f(x):  # (3, 4) -> (4, 3), elementwise on the transpose
        return fx.sin(x.T) * 2.0

    x = rng.standard_normal((3, 4))
    J = fx.jacfwd(f, sparsity="auto")(x)
    assert J.shape == (12, 12) and J.nnz == 12
    dense = fx.jacfwd(f)(x)  # (4, 3, 3, 4)
    close(J.toarray().reshape(4, 3, 3, 4), dense, rtol=1e-14)
    Jd = fx.jacrev(f, sparsity="auto", dense_output=True)(x)
    assert Jd.shape == (4, 3, 3, 4)
    close(Jd, dense, rtol=1e-14)


def quadratic_with_pattern(p, seed=0):
    """``f(x) = sum_{(i,j) in p} c_ij x_i x_j + sum x^4 / 4``: its Hessian's
    structure is ``p + p.T`` and the diagonal."""
    rows, cols = np.nonzero(p)
    c = np.random.default_rng(seed).uniform(0.5, 1.5, len(rows))

    def f(x):
        return fx.sum(c * x[rows] * x[cols]) + fx.sum(x**4) / 4.0

    def hess(x):
        h = np.zeros(p.shape)
        np.add.at(h, (rows, cols), c)
        h = h + h.T
        return h + np.diag(3.0 * x**2)

    return f, hess


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("given", ["auto", "given"])
def test_sparse_hessian_equals_dense(seed, given):
    n = 7 + 3 * seed
    p = random_pattern(n, n, 0.12, seed, dense_row=seed % n if seed % 2 else None)
    f, hess = quadratic_with_pattern(p, seed)
    x = rng.standard_normal(n)
    sparsity = "auto" if given == "auto" else p | np.eye(n, dtype=bool)
    H = fx.hessian(f, sparsity=sparsity)(x)
    assert isinstance(H, sp.csr_array)
    close(H.toarray(), hess(x), rtol=1e-13, atol=1e-13)
    close(H.toarray(), fx.hessian(f)(x), rtol=1e-13, atol=1e-13)
    Hd = fx.hessian(f, sparsity=sparsity, dense_output=True)(x)
    close(Hd, hess(x), rtol=1e-13, atol=1e-13)


def test_sparse_hessian_of_an_arrow_takes_two_passes():
    n = 200

    def arrow(x):
        return x[0] * fx.sum(x**2) + fx.sum(fx.cos(x))

    x = rng.standard_normal(n)
    pattern = fx.sparsity_pattern(fx.grad(arrow), x)
    assert pattern.nnz == 3 * n - 2
    hess = fx.hessian(arrow, sparsity=pattern)
    assert hess.passes == 2
    H = hess(x)
    want = np.diag(2 * x[0] - np.cos(x))
    want[0, 1:] += 2 * x[1:]
    want[1:, 0] += 2 * x[1:]
    want[0, 0] = 6 * x[0] - np.cos(x[0])
    close(H.toarray(), want, rtol=1e-13, atol=1e-13)


def test_sparse_results_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def residual(u, xp):
        return xp.exp(u[1:-1]) - (u[:-2] - 2.0 * u[1:-1] + u[2:]) * 25.0

    u = rng.standard_normal(30)
    J = fx.jacfwd(lambda u: residual(u, fx), sparsity="auto")(u)
    close(J.toarray(), jax.jacfwd(lambda u: residual(u, jnp))(u), rtol=1e-13)
    J = fx.jacrev(lambda u: residual(u, fx), sparsity="auto")(u)
    close(J.toarray(), jax.jacrev(lambda u: residual(u, jnp))(u), rtol=1e-13)

    def energy(u, xp):
        return xp.sum((u[1:] - u[:-1]) ** 2) + xp.sum(xp.sin(u) * u**2)

    H = fx.hessian(lambda u: energy(u, fx), sparsity="auto")(u)
    close(H.toarray(), jax.hessian(lambda u: energy(u, jnp))(u), rtol=1e-12)


# ---------------------------------------------------- transforms around it ---


def test_dense_output_is_differentiable_and_batchable():
    def stencil(u):
        return u[:-2] * u[1:-1] - fx.sin(u[2:])

    def trace_of_jac(u):
        J = fx.jacfwd(stencil, sparsity="auto", dense_output=True)(u)
        return fx.sum(J * J)

    u = rng.standard_normal(8)
    want = fx.grad(lambda u: fx.sum(fx.jacfwd(stencil)(u) ** 2))(u)
    close(fx.grad(trace_of_jac)(u), want, rtol=1e-12)
    us = rng.standard_normal((3, 8))
    pattern = fx.sparsity_pattern(stencil, u)
    batched = fx.vmap(fx.jacrev(stencil, sparsity=pattern, dense_output=True))(us)
    for k in range(3):
        close(batched[k], fx.jacrev(stencil)(us[k]), rtol=1e-13)


def test_sparse_output_inside_a_transform_says_to_use_dense_output():
    def f(u):
        J = fx.jacfwd(fx.sin, sparsity="auto")(u)
        return fx.sum(J.data)

    with pytest.raises(TypeError, match="dense_output=True"):
        fx.grad(f)(fx.ones(3))


def test_has_aux_argnums_and_float32():
    def f(a, x):
        return fx.cumsum(x * a), {"norm": fx.sum(x**2)}

    x = rng.standard_normal(5).astype(np.float32)
    J, aux = fx.jacrev(f, argnums=1, has_aux=True, sparsity="auto")(2.0, x)
    assert J.dtype == np.float32
    close(J.toarray(), 2.0 * np.tril(np.ones((5, 5))), rtol=1e-6)
    close(aux["norm"], np.sum(x**2), rtol=1e-5)
    J = fx.jacfwd(f, argnums=(1,), has_aux=True, sparsity="auto")(2.0, x)[0]
    assert J.nnz == 15


def test_a_pattern_missing_nonzeros_gives_only_its_entries():
    # the pattern is the caller's promise: entries outside it are not computed
    f, _ = function_with_pattern(np.eye(4, dtype=bool))
    J = fx.jacfwd(f, sparsity=np.eye(4, k=1, dtype=bool) | np.eye(4, dtype=bool))(np.ones(4))
    assert J.nnz == 7 and np.allclose(np.diag(J.toarray(), 1), 0.0)


# ----------------------------------------------------------- the patterns ---


def test_sparsity_pattern_through_the_primitives():
    x = rng.standard_normal(6)
    A = rng.standard_normal((4, 6))
    cases = {
        "stencil": (
            lambda u: u[:-2] - 2 * u[1:-1] + u[2:],
            np.eye(4, 6) + np.eye(4, 6, 1) + np.eye(4, 6, 2),
        ),
        "matmul": (lambda u: A @ u, np.ones((4, 6))),
        "reshape_T": (lambda u: u.reshape(2, 3).T, np.eye(6)[[0, 3, 1, 4, 2, 5]]),
        "cumsum": (fx.cumsum, np.tril(np.ones((6, 6)))),
        "sum_axis": (lambda u: fx.sum(u.reshape(2, 3), axis=1), np.kron(np.eye(2), np.ones(3))),
        "broadcast": (lambda u: u[:2, None] * u[None, 4:], None),
        "concat_flip": (
            lambda u: fx.concatenate([u[::-1], u[:1]]),
            np.vstack([np.eye(6)[::-1], np.eye(6)[:1]]),
        ),
        "where_both_branches": (
            lambda u: fx.where(u > 0, fx.sin(u), u[::-1]),
            np.eye(6) + np.eye(6)[::-1],
        ),
        "constant_output": (lambda u: fx.ones(3) + 0 * fx.sum(fx.floor(u)), np.zeros((3, 6))),
        "max": (lambda u: fx.max(u.reshape(3, 2), axis=1), np.kron(np.eye(3), np.ones(2))),
    }
    for name, (f, want) in cases.items():
        got = fx.sparsity_pattern(f, x)
        assert isinstance(got, sp.csr_array) and got.dtype == bool, name
        if want is None:  # the outer product of x[:2] and x[4:]
            want = np.zeros((2, 2, 6))
            for i in range(2):
                for j in range(2):
                    want[i, j, [i, 4 + j]] = 1
            want = want.reshape(4, 6)
        assert np.array_equal(got.toarray(), want != 0), name
        # the detected pattern covers the true one
        J = np.asarray(fx.jacfwd(f)(x)).reshape(got.shape)
        assert not np.any((J != 0) & ~got.toarray()), name


def test_sparsity_pattern_of_a_gradient_is_the_hessian_pattern():
    def f(x):
        return fx.sum(fx.exp(x[1:] * x[:-1]))

    p = fx.sparsity_pattern(fx.grad(f), rng.standard_normal(7))
    tri = np.eye(7) + np.eye(7, k=1) + np.eye(7, k=-1)
    assert np.array_equal(p.toarray(), tri != 0)


def test_sparsity_pattern_holds_at_the_point_it_was_taken():
    def f(x):
        if fx.sum(x) > 0:  # a Python branch on a value: followed where it is taken
            return x * 2
        return x[::-1]

    up, down = np.ones(3), -np.ones(3)
    assert np.array_equal(fx.sparsity_pattern(f, up).toarray(), np.eye(3, dtype=bool))
    assert np.array_equal(fx.sparsity_pattern(f, down).toarray(), np.eye(3, dtype=bool)[::-1])
    # 'auto' detects at every call, so it is right on both sides
    close(fx.jacfwd(f, sparsity="auto")(down).toarray(), fx.jacfwd(f)(down))
    # indices computed from the values: the elements read at this point
    p = fx.sparsity_pattern(lambda x: x[fx.argmax(x)] * x, np.array([1.0, 3.0, 2.0]))
    assert np.array_equal(p.toarray(), np.eye(3, dtype=bool) | (np.arange(3) == 1))


def test_sparsity_pattern_refuses_values_leaving_the_trace():
    with pytest.raises(TypeError, match="float()"):
        fx.sparsity_pattern(lambda x: x * float(fx.sum(x)), fx.ones(3))
    with pytest.raises(TypeError, match="NumPy array"):
        fx.jacfwd(lambda x: x * np.asarray(x), sparsity="auto")(fx.ones(3))
    # the same branch written with where is followed on both sides
    p = fx.sparsity_pattern(lambda x: fx.where(fx.sum(x) > 0, x * 2, x), fx.ones(3))
    assert np.array_equal(p.toarray(), np.eye(3, dtype=bool))


# ---------------------------------------------------------- the colouring ---


def band(n, half):
    return np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= half


@pytest.mark.parametrize("half", [0, 1, 2, 5])
def test_bands_colour_with_their_width(half):
    p = band(60, half)
    for mode in ("jacfwd", "jacrev"):
        colors = fx.sparsity_coloring(p, mode)
        assert colors.max() + 1 == 2 * half + 1
        # columns (rows) that share a row (column) never share a colour
        q = p if mode == "jacfwd" else p.T
        for row in q:
            c = colors[row]
            assert len(np.unique(c)) == len(c)


def test_arrows_colour_by_direction():
    n = 40
    dense_row = np.eye(n, dtype=bool)
    dense_row[0] = True
    assert fx.sparsity_coloring(dense_row, "jacfwd").max() + 1 == n
    assert fx.sparsity_coloring(dense_row, "jacrev").max() + 1 == 2
    arrow = dense_row | dense_row.T
    assert fx.sparsity_coloring(arrow, "hessian").max() + 1 == 2  # star colouring
    assert fx.sparsity_coloring(band(n, 1), "hessian").max() + 1 == 3  # a path needs 3
    f, _ = function_with_pattern(dense_row)
    assert fx.jacrev(f, sparsity=dense_row).passes == 2
    assert fx.jacfwd(f, sparsity=dense_row).passes == n
    assert fx.jacfwd(f, sparsity="auto").passes is None


# ------------------------------------------------------------------ errors ---


def test_errors():
    f, _ = function_with_pattern(np.eye(4, dtype=bool))
    x = np.ones(4)
    with pytest.raises(ValueError, match="columns but the input"):
        fx.jacfwd(f, sparsity=np.eye(4, 5, dtype=bool))(x)
    with pytest.raises(ValueError, match="rows but the output"):
        fx.jacfwd(f, sparsity=np.eye(3, 4, dtype=bool))(x)
    with pytest.raises(ValueError, match="rows but the output"):
        fx.jacrev(f, sparsity=np.eye(5, 4, dtype=bool))(x)
    with pytest.raises(ValueError, match="not square"):
        fx.hessian(fx.sum, sparsity=np.ones((3, 4), dtype=bool))
    with pytest.raises(ValueError, match="scalar"):
        fx.hessian(fx.sin, sparsity="auto")(x)
    with pytest.raises(ValueError, match="2-D"):
        fx.jacfwd(f, sparsity=np.ones(4, dtype=bool))
    with pytest.raises(ValueError, match="'auto'"):
        fx.jacfwd(f, sparsity="yes")
    with pytest.raises(TypeError, match="one int"):
        fx.jacfwd(lambda a, b: a * b, argnums=(0, 1), sparsity="auto")
    with pytest.raises(ValueError, match="argnums=i"):
        fx.jacfwd(lambda a, b: a * b, sparsity="auto")(x, x)
    with pytest.raises(ValueError, match="one array"):
        fx.jacfwd(lambda x: (x, x), sparsity="auto")(x)
    with pytest.raises(ValueError, match="one array"):
        fx.jacfwd(lambda t: t[0] * t[1], sparsity="auto")((x, x))
    with pytest.raises(TypeError, match="only float32 and float64"):
        fx.jacfwd(lambda t: t * 2, sparsity="auto")(np.arange(3))
    with pytest.raises(ValueError, match="mode"):
        fx.sparsity_coloring(np.eye(3), "both")
    bad = sp.csr_array(np.eye(3))
    bad.indices[0] = 7  # corrupt: out of range
    with pytest.raises(ValueError, match="out of range"):
        fx.jacfwd(fx.sin, sparsity=bad)


@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
def test_edge_shapes(mode):
    t = getattr(fx, mode)
    assert t(lambda x: x * 2, sparsity="auto")(fx.zeros(0)).shape == (0, 0)
    assert t(lambda x: x * 2, sparsity="auto", dense_output=True)(fx.zeros(0)).shape == (0, 0)
    close(t(fx.sin, sparsity="auto")(fx.asarray(1.0)).toarray(), [[np.cos(1.0)]])
    close(t(lambda x: fx.sum(x**2), sparsity="auto")(fx.ones(3)).toarray(), [[2.0, 2.0, 2.0]])
    g = t(lambda x: fx.sum(x**2), sparsity="auto", dense_output=True)(fx.ones(3))
    close(g, [2.0, 2.0, 2.0])  # the dense Jacobian's shape: S_out + S_in
    constant = t(lambda x: fx.ones(2), sparsity="auto")(fx.ones(3))
    assert constant.shape == (2, 3) and constant.nnz == 0
    empty = t(lambda x: x * 2, sparsity=np.zeros((3, 3), bool))(fx.ones(3))
    assert empty.nnz == 0
    close(fx.hessian(lambda x: x**3, sparsity="auto")(fx.asarray(2.0)).toarray(), [[12.0]])
    assert fx.hessian(fx.sum, sparsity="auto")(fx.ones(3)).nnz == 0


@pytest.mark.parametrize(
    "kw",
    [
        dict(window_strides=(1,), padding="SAME"),
        dict(window_strides=(2,), padding="VALID", rhs_dilation=(2,)),
        dict(window_strides=(1,), padding=[(1, 2)], lhs_dilation=(2,), feature_group_count=2),
    ],
)
def test_convolution_patterns_are_receptive_fields(kw):
    lhs = rng.standard_normal((2, 4, 9))  # N, C, W
    rhs = rng.standard_normal((6, 4 // kw.get("feature_group_count", 1), 3))

    def conv_in_lhs(x):
        return fx.lax.conv_general_dilated(x, rhs, **kw)

    def conv_in_rhs(w):
        return fx.lax.conv_general_dilated(lhs, w, **kw)

    for f, x in ((conv_in_lhs, lhs), (conv_in_rhs, rhs)):
        p = fx.sparsity_pattern(f, x).toarray()
        J = np.asarray(fx.jacfwd(f)(x)).reshape(p.shape)
        assert np.array_equal(p, J != 0)  # exact: no weight or input is zero here
        close(fx.jacrev(f, sparsity="auto")(x).toarray(), J, rtol=1e-12, atol=1e-12)


def test_patterns_too_large_to_hold_are_refused_before_allocating():
    # every one of 20,000 outputs depends on every input: 4e8 entries
    with pytest.raises(ValueError, match="without sparsity="):
        fx.sparsity_pattern(lambda x: x * fx.sum(x), fx.ones(20_000))


def test_without_scipy_csr_results_say_how_and_dense_ones_work(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)  # `import scipy.sparse` fails
    with pytest.raises(ImportError, match="dense_output=True"):
        fx.jacfwd(fx.sin, sparsity="auto")(fx.ones(3))
    dense = fx.jacfwd(fx.sin, sparsity=np.eye(3, dtype=bool), dense_output=True)(fx.ones(3))
    close(dense, np.diag(np.cos(np.ones(3))))

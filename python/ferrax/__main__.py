"""The ferrax tour: ``python -m ferrax``.

Prints the build facts (version, SIMD level chosen at run time, kernel threads)
and shows every transform on a small real problem, checked against central
finite differences.
"""

from __future__ import annotations

import time

import numpy as np

import ferrax as fx


def _fd_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return g


def _fd_jac(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps))
    return np.stack(cols, axis=-1)


def _line(name: str, value, err: float) -> None:
    ok = "ok" if err < 1e-6 else "MISMATCH"
    print(f"  {name:<44} max |ferrax - finite diff| = {err:.1e}  {ok}")
    del value


def main() -> None:
    print(
        f"ferrax {fx.__version__}  |  SIMD: {fx.simd_level()}  |  kernel threads: {fx.get_num_threads()}"
    )
    print()
    print("Tensors and operations (computed by the Rust core)")
    x = fx.linspace(0.0, 1.0, 5)
    print("  x           =", x)
    print("  sin(x)**2   =", fx.sin(x) ** 2)
    print("  x @ x       =", x @ x)
    print("  x[::-2]     =", x[::-2], "(a view)")
    print("  x.at[0].set(9.0) =", x.at[0].set(9.0))
    print()
    print("Transforms, each checked against central finite differences (float64)")
    rng = np.random.default_rng(0)

    # grad: logistic-regression loss
    X = rng.normal(size=(20, 3))
    y = (rng.uniform(size=20) > 0.5).astype(np.float64)

    def loss(w):
        z = X @ w
        return fx.mean(fx.softplus(z) - y * z)

    w0 = rng.normal(size=3)
    g = fx.grad(loss)(w0)
    _line("grad: logistic regression", g, np.abs(np.asarray(g) - _fd_grad(loss, w0)).max())

    # value_and_grad with a dict of parameters
    params = {"W": rng.normal(size=(3, 4)), "b": np.zeros(4)}

    def mlp(p, xb):
        return fx.sum(fx.tanh(xb @ p["W"] + p["b"]) ** 2)

    v, gp = fx.value_and_grad(mlp)(params, X)
    fd_w = _fd_grad(lambda W: mlp({"W": W, "b": params["b"]}, X), params["W"])
    _line("value_and_grad: MLP with dict params", gp, np.abs(np.asarray(gp["W"]) - fd_w).max())

    # jvp and vjp of a vector function
    def f(x):
        return fx.sin(x) * fx.exp(-(x**2)) + fx.cos(x) ** 3

    x0 = rng.normal(size=4)
    J = _fd_jac(f, x0)
    t = rng.normal(size=4)
    _, jt = fx.jvp(f, (x0,), (t,))
    _line("jvp: directional derivative", jt, np.abs(np.asarray(jt) - J @ t).max())
    _, pull = fx.vjp(f, x0)
    (vt,) = pull(fx.asarray(t))
    _line("vjp: pullback of a cotangent", vt, np.abs(np.asarray(vt) - t @ J).max())

    # jacrev / jacfwd
    W = rng.normal(size=(4, 4))

    def layer(x):
        return fx.tanh(W @ x) * fx.sin(x)

    Jr = fx.jacrev(layer)(x0)
    Jf = fx.jacfwd(layer)(x0)
    Jfd = _fd_jac(layer, x0)
    _line("jacrev: Jacobian of tanh(W x) * sin(x)", Jr, np.abs(np.asarray(Jr) - Jfd).max())
    _line("jacfwd: the same Jacobian, forward mode", Jf, np.abs(np.asarray(Jf) - Jfd).max())

    # hessian: one Newton step on a smooth convex function
    A = rng.normal(size=(6, 3))

    def energy(x):
        return fx.sum(fx.log1p(fx.exp(A @ x))) + 0.5 * fx.sum(x**2)

    H = fx.hessian(energy)(w0)
    Hfd = _fd_jac(lambda x: fx.grad(energy)(x), w0)
    _line("hessian: softplus energy", H, np.abs(np.asarray(H) - Hfd).max())
    # Newton's method with these exact Hessians: the gradient norm squares
    # at each step once close (quadratic convergence), to machine precision
    w, norms = np.asarray(w0, dtype=np.float64), []
    for _ in range(5):
        g = np.asarray(fx.grad(energy)(w))
        norms.append(np.linalg.norm(g))
        w = w - np.linalg.solve(np.asarray(fx.hessian(energy)(w)), g)
    norms.append(np.linalg.norm(np.asarray(fx.grad(energy)(w))))
    print("    Newton's method, |grad| per step: " + " -> ".join(f"{n:.0e}" for n in norms))

    # sparse Jacobian: a tridiagonal stencil in 3 JVPs whatever its size
    def stencil(u):
        return u[:-2] - 2.0 * u[1:-1] + u[2:] - fx.exp(u[1:-1])

    u0 = rng.normal(size=12)
    sparse_jac = fx.jacfwd(stencil, sparsity="auto", dense_output=True)
    Js = sparse_jac(u0)
    _line(
        "jacfwd(sparsity='auto'): stencil, 3 JVPs",
        Js,
        np.abs(np.asarray(Js) - _fd_jac(stencil, u0)).max(),
    )

    # vmap: per-example gradients
    per_ex = fx.vmap(fx.grad(lambda w, xi, yi: (fx.dot(xi, w) - yi) ** 2), in_axes=(None, 0, 0))(
        w0, X, y
    )
    loop = np.stack([_fd_grad(lambda w, i=i: (X[i] @ w - y[i]) ** 2, w0) for i in range(len(X))])
    _line("vmap(grad): 20 per-example gradients", per_ex, np.abs(np.asarray(per_ex) - loop).max())

    # plain NumPy code, differentiated unchanged
    def numpy_code(x):
        return np.sum(np.sin(x) ** 2)

    gx = fx.grad(numpy_code)(x0)
    _line(
        "grad of plain NumPy code (np.sin, np.sum)",
        gx,
        np.abs(np.asarray(gx) - _fd_grad(numpy_code, x0)).max(),
    )

    # nesting: third derivative, and no perturbation confusion
    d3 = fx.grad(fx.grad(fx.grad(lambda x: fx.sin(x))))(0.5)
    _line("grad(grad(grad(sin)))(0.5) = -cos(0.5)", d3, abs(float(d3) + np.cos(0.5)))
    pc = fx.grad(lambda x: x * fx.grad(lambda y: x + y)(1.0))(1.0)
    print(f"  perturbation confusion: D(x -> x * D(y -> x + y)(1))(1) = {float(pc)} (expected 1.0)")
    print()
    t0 = time.perf_counter()
    gfun = fx.grad(lambda x: fx.sum(fx.tanh(x * 1.5 + 0.1) ** 2))
    xs = np.ones(16, dtype=np.float32)
    for _ in range(200):
        gfun(xs)
    dt = (time.perf_counter() - t0) / 200
    print(
        f"Per-call time of grad on 16 elements: {dt * 1e6:.1f} us (see benches/ for the full suite)"
    )
    big = np.linspace(-3.0, 3.0, 1_000_000, dtype=np.float32)
    gbig = fx.grad(lambda x: fx.sum(fx.sin(x) * fx.exp(-(x**2)) + fx.cos(x) ** 3 / (1 + x**2)))
    gbig(big).block_until_ready()
    t0 = time.perf_counter()
    for _ in range(10):
        gbig(big).block_until_ready()
    dt = (time.perf_counter() - t0) / 10
    print(
        f"Gradient of a 1e6-element elementwise chain, fused into cache-sized tiles: {dt * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()

"""Linear algebra of ferrax against NumPy's LAPACK and JAX, in one run.

    python benches/linalg.py            # prints a Markdown table

For `solve`, `cholesky`, `eigh` and `svd` at n = 64 and 512 (float64): the
forward time of NumPy, JAX (jit, steady state; skipped when JAX is not
installed) and ferrax, ferrax's ratio to NumPy, and the time of ferrax's
reverse pass (a `vjp` of the forward result, seeded with ones, pullback only)
as a multiple of its forward. Each ferrax result is checked against NumPy's
first (through sign-free quantities for the decompositions).
"""

from __future__ import annotations

from _harness import clean_env_or_reexec, git_rev, machine_facts, timeit

clean_env_or_reexec()

import ferrax as fx  # noqa: E402
import numpy as np  # noqa: E402

try:
    import jax  # noqa: E402

    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
except ImportError:  # JAX is an optional peer
    jax = None


def spd(n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.standard_normal((n, n))
    return x @ x.T + n * np.eye(n)


def cases(n: int, rng: np.random.Generator):
    a = rng.standard_normal((n, n)) + n**0.5 * np.eye(n)
    s = spd(n, rng)
    b = rng.standard_normal((n, 1))
    return [
        ("solve", (a, b), fx.linalg.solve, np.linalg.solve, "solve"),
        ("cholesky", (s,), fx.linalg.cholesky, np.linalg.cholesky, "cholesky"),
        ("eigh", (s,), fx.linalg.eigh, np.linalg.eigh, "eigh"),
        (
            "svd",
            (a,),
            lambda x: fx.linalg.svd(x, full_matrices=False),
            lambda x: np.linalg.svd(x, full_matrices=False),
            "svd",
        ),
    ]


def check(name: str, got, want) -> None:
    if name == "eigh":
        np.testing.assert_allclose(np.asarray(got[0]), want[0], rtol=1e-8, atol=1e-8)
    elif name == "svd":
        np.testing.assert_allclose(np.asarray(got[1]), want[1], rtol=1e-8, atol=1e-8)
    else:
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-8, atol=1e-8)


def jax_fn(name: str):
    if jax is None:
        return None
    f = {
        "solve": jnp.linalg.solve,
        "cholesky": jnp.linalg.cholesky,
        "eigh": jnp.linalg.eigh,
        "svd": lambda x: jnp.linalg.svd(x, full_matrices=False),
    }[name]
    return jax.jit(f)


def ready(tree):
    return fx.tree_util.tree_map(lambda t: t.block_until_ready(), tree)


def measure(name, n, args, f_fx, f_np, jf) -> str:
    check(name, f_fx(*args), f_np(*args))
    t_np = timeit(lambda: f_np(*args))
    jax_col = "—"
    if jf is not None:
        jargs = [jnp.asarray(a) for a in args]
        jax_col = f"{timeit(lambda: jax.block_until_ready(jf(*jargs))) * 1e3:.3f}"
    targs = [fx.asarray(a) for a in args]
    t_fx = timeit(lambda: ready(f_fx(*targs)))
    out, pullback = fx.vjp(f_fx, *targs)
    seed = fx.tree_util.tree_map(fx.ones_like, out)
    t_vjp = timeit(lambda: ready(pullback(seed)))
    return (
        f"| {name} | {n} | {t_np * 1e3:.3f} | {jax_col} | {t_fx * 1e3:.3f} | "
        f"{t_fx / t_np:.2f}x | {t_vjp / t_fx:.2f}x |"
    )


def main() -> None:
    rng = np.random.default_rng(0)
    lines = [
        f"ferrax linear algebra vs NumPy and JAX (commit {git_rev()}, float64)",
        "",
        machine_facts(),
        "",
        "| op | n | NumPy ms | JAX jit ms | ferrax ms | ferrax / NumPy | ferrax VJP / forward |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n in (64, 512):
        for name, args, f_fx, f_np, jname in cases(n, rng):
            lines.append(measure(name, n, args, f_fx, f_np, jax_fn(jname)))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

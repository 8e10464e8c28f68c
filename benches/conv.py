"""Convolution: the gradient of a small CNN, ferrax against JAX (jit and
eager) and PyTorch (when installed), in one run.

    python benches/conv.py            # prints a Markdown table

A batch of 32 float32 images 3x32x32 (NCHW), two 3x3 'SAME' convolutions
of 16 and 32 channels (OIHW), each followed by relu, then the mean: the time
of one gradient with respect to both kernels (forward and backward), and of
the forward alone. Every peer's gradient is checked against ferrax's first.
"""

from __future__ import annotations

from _harness import clean_env_or_reexec, git_rev, machine_facts, timeit

clean_env_or_reexec()

import ferrax as fx  # noqa: E402
import numpy as np  # noqa: E402

try:
    import jax  # noqa: E402

    jnp = jax.numpy
except ImportError:  # JAX is an optional peer
    jax = None
try:
    import torch  # noqa: E402
except ImportError:  # so is PyTorch
    torch = None

rng = np.random.default_rng(0)
X = rng.standard_normal((32, 3, 32, 32)).astype(np.float32)
W1 = (rng.standard_normal((16, 3, 3, 3)) / np.sqrt(27)).astype(np.float32)
W2 = (rng.standard_normal((32, 16, 3, 3)) / np.sqrt(144)).astype(np.float32)


def fx_loss(w1, w2, x):
    h = fx.nn.relu(fx.lax.conv(x, w1, (1, 1), "SAME"))
    h = fx.nn.relu(fx.lax.conv(h, w2, (1, 1), "SAME"))
    return fx.mean(h)


def jax_loss(w1, w2, x):
    h = jax.nn.relu(jax.lax.conv(x, w1, (1, 1), "SAME"))
    h = jax.nn.relu(jax.lax.conv(h, w2, (1, 1), "SAME"))
    return jnp.mean(h)


def torch_loss(w1, w2, x):
    f = torch.nn.functional
    h = torch.relu(f.conv2d(x, w1, padding="same"))
    h = torch.relu(f.conv2d(h, w2, padding="same"))
    return h.mean()


def peers():
    """(name, forward, gradient) with each call's result ready as NumPy."""
    xf, w1f, w2f = fx.asarray(X), fx.asarray(W1), fx.asarray(W2)
    g = fx.grad(fx_loss, argnums=(0, 1))
    yield (
        "ferrax",
        lambda: float(fx_loss(w1f, w2f, xf)),
        lambda: [np.asarray(t) for t in g(w1f, w2f, xf)],
    )
    if jax is not None:
        xj, w1j, w2j = jnp.asarray(X), jnp.asarray(W1), jnp.asarray(W2)
        jf, jg = jax.jit(jax_loss), jax.jit(jax.grad(jax_loss, argnums=(0, 1)))
        yield (
            "JAX jit",
            lambda: float(jf(w1j, w2j, xj)),
            lambda: [np.asarray(t) for t in jg(w1j, w2j, xj)],
        )
        eg = jax.grad(jax_loss, argnums=(0, 1))
        yield (
            "JAX eager",
            lambda: float(jax_loss(w1j, w2j, xj)),
            lambda: [np.asarray(t) for t in eg(w1j, w2j, xj)],
        )
    if torch is not None:
        xt = torch.from_numpy(X)

        def tgrad():
            w1t = torch.from_numpy(W1).requires_grad_()
            w2t = torch.from_numpy(W2).requires_grad_()
            torch_loss(w1t, w2t, xt).backward()
            return [w1t.grad.numpy(), w2t.grad.numpy()]

        def tfwd():
            with torch.no_grad():
                return float(torch_loss(torch.from_numpy(W1), torch.from_numpy(W2), xt))

        yield "PyTorch", tfwd, tgrad


def main() -> None:
    print(machine_facts())
    extra = []
    if jax is not None:
        extra.append(f"JAX {jax.__version__}")
    if torch is not None:
        extra.append(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"- ferrax at {git_rev()}; {', '.join(extra) or 'no peers installed'}\n")
    rows = []
    reference = None
    for name, fwd, grad in peers():
        g = grad()
        if reference is None:
            reference = g
        for a, b in zip(g, reference):
            np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-5, err_msg=name)
        rows.append((name, timeit(fwd) * 1e3, timeit(grad, min_time=2.0) * 1e3))
    ours = rows[0]
    print(
        "| CNN 32x3x32x32, conv 16 + conv 32 | forward ms | gradient ms | ferrax's gradient time / theirs |"
    )
    print("|---|---:|---:|---:|")
    for name, f, g in rows:
        ratio = "" if name == "ferrax" else f"{ours[2] / g:.2f}"
        print(f"| {name} | {f:.2f} | {g:.2f} | {ratio} |")


if __name__ == "__main__":
    main()

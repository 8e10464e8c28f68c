"""Per-example gradients of a small MLP with vmap(grad), checked against a loop.

python examples/per_example_gradients.py
"""

import ferrax as fx
import numpy as np
from numpy.typing import NDArray


def loss(
    params: dict[str, NDArray[np.float64]], x: NDArray[np.float64], y: NDArray[np.int64]
) -> fx.Tensor:
    h = fx.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    return fx.nn.cross_entropy(logits[None, :], y[None])


def main() -> None:
    rng = np.random.default_rng(0)
    params = {
        "W1": rng.normal(size=(8, 16)) * 0.3,
        "b1": np.zeros(16),
        "W2": rng.normal(size=(16, 3)) * 0.3,
        "b2": np.zeros(3),
    }
    xs = rng.normal(size=(32, 8))
    ys = rng.integers(0, 3, size=32)
    per_example = fx.vmap(fx.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    loop = [fx.grad(loss)(params, xs[i], ys[i]) for i in range(len(xs))]
    for k in params:
        stacked = np.stack([np.asarray(g[k]) for g in loop])
        err = np.abs(np.asarray(per_example[k]) - stacked).max()
        print(
            f"{k}: per-example gradients {tuple(per_example[k].shape)}, max |vmap - loop| = {err:.1e}"
        )
    norms = np.sqrt(
        sum(
            np.sum(np.asarray(per_example[k]) ** 2, axis=tuple(range(1, per_example[k].ndim)))
            for k in params
        )
    )
    print("per-example gradient norms (first 5):", np.round(norms[:5], 4))


if __name__ == "__main__":
    main()

"""Newton's method for L2-regularised logistic regression, with exact Hessians.

python examples/newton_with_hessians.py
"""

import ferrax as fx
import numpy as np
from numpy.typing import NDArray


def main() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5))
    w_true = rng.normal(size=5)
    y = (rng.uniform(size=200) < 1 / (1 + np.exp(-X @ w_true))).astype(np.float64)

    def loss(w: NDArray[np.float64]) -> fx.Tensor:
        z = X @ w
        return fx.mean(fx.softplus(z) - y * z) + 0.01 * fx.sum(w**2)

    w = np.zeros(5)
    for step in range(8):
        g = np.asarray(fx.grad(loss)(w))
        H = np.asarray(fx.hessian(loss)(w))
        w = w - np.linalg.solve(H, g)
        print(f"step {step}: loss {float(loss(w)):.10f}  |grad| {np.linalg.norm(g):.2e}")
    print("estimate:", np.round(w, 3))
    print("truth:   ", np.round(w_true, 3))


if __name__ == "__main__":
    main()

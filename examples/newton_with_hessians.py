"""Newton's method for L2-regularised logistic regression, with exact Hessians.

python examples/newton_with_hessians.py
"""

import ferrax as fx
import numpy as np
from numpy.typing import NDArray


def fit(
    X: NDArray[np.float64], y: NDArray[np.float64], lam: float, verbose: bool
) -> NDArray[np.float64]:
    """The minimiser of the L2-regularised logistic loss, by Newton's method."""

    def loss(w: NDArray[np.float64]) -> fx.Tensor:
        z = X @ w
        return fx.mean(fx.softplus(z) - y * z) + lam * fx.sum(w**2)

    w = np.zeros(X.shape[1])
    for step in range(8):
        g = np.asarray(fx.grad(loss)(w))
        H = np.asarray(fx.hessian(loss)(w))
        w = w - np.linalg.solve(H, g)
        if verbose:
            print(f"step {step}: loss {float(loss(w)):.10f}  |grad| {np.linalg.norm(g):.2e}")
    return w


def main() -> None:
    rng = np.random.default_rng(1)
    w_true = rng.normal(size=5)

    def data(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        X = rng.normal(size=(n, 5))
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-X @ w_true))).astype(np.float64)
        return X, y

    w = fit(*data(200), lam=0.01, verbose=True)
    # Newton finds the minimiser exactly (|grad| ~ 1e-17); the minimiser itself
    # differs from the truth because 200 noisy labels say little and the
    # penalty shrinks w toward 0. More data and a lighter penalty close the gap.
    w_big = fit(*data(20_000), lam=1e-4, verbose=False)
    print("truth:                              ", np.round(w_true, 3))
    print("estimate, 200 samples, lam = 0.01:  ", np.round(w, 3))
    print("estimate, 20,000 samples, lam = 1e-4:", np.round(w_big, 3))


if __name__ == "__main__":
    main()

"""Gaussian-process regression with hyperparameters fitted by ``fx.grad`` through a Cholesky.

The data are from scikit-learn's bundled diabetes set (442 patients, no download): body-mass
index (kg/m^2) against a quantitative measure of disease progression one year later. A GP
with a squared-exponential (RBF) kernel plus white noise,

    k(x, x') = s^2 exp(-(x - x')^2 / (2 l^2)) + n^2 [x = x'],

has three hyperparameters, optimised on the log scale (theta = log l, log s^2, log n^2) so
they stay positive. They are chosen by minimising the negative log marginal likelihood

    NLL(theta) = 1/2 y^T K^-1 y + sum(log diag L) + n/2 log(2 pi),   K = L L^T,

computed with ``fx.linalg.cholesky`` and ``fx.scipy.linalg.solve_triangular`` (|L^-1 y|^2 is
y^T K^-1 y). ``fx.value_and_grad(nll)`` differentiates through the Cholesky factorisation
and the triangular solve, so the gradient with respect to theta needs no hand-derived
formula (the textbook one is 1/2 tr((a a^T - K^-1) dK/dtheta) with a = K^-1 y). SciPy's
L-BFGS-B does the optimisation, fed ferrax's value and gradient.

Trust, twice over: the gradient is checked against central finite differences *and* against
scikit-learn's own analytic gradient of the log marginal likelihood
(``GaussianProcessRegressor.log_marginal_likelihood(..., eval_gradient=True)``), and the
fitted NLL against scikit-learn's value. The predictive mean and variance use
``fx.scipy.linalg.cho_factor`` / ``cho_solve``.

Run ``python examples/gaussian_process.py``. It writes ``gaussian_process.png``: the data, the
posterior mean, and 2-sigma bands for the latent function and for new observations.
"""

import pathlib
from typing import Any, cast

import ferrax as fx
import matplotlib
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from sklearn.datasets import load_diabetes
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)


def rbf(
    x1: NDArray[np.float64], x2: NDArray[np.float64], log_lengthscale: Any, log_signal_var: Any
) -> fx.Tensor:
    d = x1[:, None] - x2[None, :]
    return fx.exp(log_signal_var) * fx.exp(-0.5 * d**2 * fx.exp(-2 * log_lengthscale))


def nll(theta: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64]) -> fx.Tensor:
    """Negative log marginal likelihood of zero-mean GP regression; theta = logs of l, s^2, n^2."""
    K = rbf(x, x, theta[0], theta[1]) + fx.exp(theta[2]) * fx.eye(len(x))
    L = fx.linalg.cholesky(K)
    a = fx.scipy.linalg.solve_triangular(L, y, lower=True)  # |a|^2 = y^T K^-1 y
    # (cast: NumPy's stubs type np.log of a Python float as Any)
    return cast(
        fx.Tensor,
        0.5 * fx.sum(a**2) + fx.sum(fx.log(fx.diagonal(L))) + 0.5 * len(x) * np.log(2 * np.pi),
    )


def predict(
    theta: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    x_new: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Posterior mean and variance of the latent function at x_new."""
    K = rbf(x, x, theta[0], theta[1]) + np.exp(theta[2]) * np.eye(len(x))
    factor = fx.scipy.linalg.cho_factor(K, lower=True)
    K_star = rbf(x_new, x, theta[0], theta[1])
    mean = K_star @ fx.scipy.linalg.cho_solve(factor, y)
    var = np.exp(theta[1]) - fx.sum(K_star * fx.scipy.linalg.cho_solve(factor, K_star.T).T, axis=1)
    return np.asarray(mean), np.maximum(np.asarray(var), 0.0)


def sklearn_gp(theta0: NDArray[np.float64]) -> tuple[Any, list[int]]:
    """The same model in scikit-learn; its theta is (log s^2, log l, log n^2)."""
    kernel = ConstantKernel(np.exp(theta0[1])) * RBF(np.exp(theta0[0])) + WhiteKernel(
        np.exp(theta0[2])
    )
    return GaussianProcessRegressor(kernel, alpha=0.0, optimizer=None), [1, 0, 2]


def check_gradient(
    theta: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64], h: float = 1e-6
) -> float:
    g = np.asarray(fx.grad(nll)(theta, x, y))
    fd = np.array(
        [
            (float(nll(theta + h * e, x, y)) - float(nll(theta - h * e, x, y))) / (2 * h)
            for e in np.eye(len(theta))
        ]
    )
    gp, order = sklearn_gp(theta)
    gp.fit(x[:, None], y)
    lml, lml_grad = gp.log_marginal_likelihood(theta[order], eval_gradient=True)
    sk = -lml_grad[np.argsort(order)]  # back to (l, s^2, n^2) order, sign of the NLL
    fd_err: float = np.abs(g - fd).max() / np.abs(fd).max()
    sk_err: float = np.abs(g - sk).max() / np.abs(sk).max()
    print(f"gradient at the initial theta: {np.array2string(g, precision=6)}")
    print(f"  relative error vs finite differences {fd_err:.1e}, vs scikit-learn {sk_err:.1e}")
    return max(fd_err, sk_err)


def main(small: bool = False, out_dir: str = ".", seed: int = 0) -> dict[str, Any]:
    X, target = load_diabetes(return_X_y=True, scaled=False)
    bmi = X[:, 2]
    if small:  # a random subset of 120 patients keeps the test fast
        keep = np.random.default_rng(seed).choice(len(bmi), 120, replace=False)
        bmi, target = bmi[keep], target[keep]
    # standardise both axes; the GP works in these units, the plot in the original ones
    x_mean, x_std, y_mean, y_std = bmi.mean(), bmi.std(), target.mean(), target.std()
    x, y = (bmi - x_mean) / x_std, (target - y_mean) / y_std

    theta0 = np.array([np.log(0.3), 0.0, np.log(0.5)])
    grad_error = check_gradient(theta0, x, y)

    value_and_grad = fx.value_and_grad(nll)
    history: list[float] = []

    def objective(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        value, grad = value_and_grad(theta, x, y)
        history.append(float(value))
        return float(value), np.asarray(grad)

    iterates = [theta0]
    result = minimize(
        objective,
        theta0,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-10, "ftol": 1e-15},
        callback=lambda theta: iterates.append(np.copy(theta)),
    )
    theta = result.x
    nll0, nll_fit = history[0], float(nll(theta, x, y))
    gaps = [float(nll(t, x, y)) - nll_fit for t in iterates]
    final_grad = np.asarray(fx.grad(nll)(theta, x, y))
    gp, order = sklearn_gp(theta)
    sk_nll = -gp.fit(x[:, None], y).log_marginal_likelihood(theta[order])
    print(f"L-BFGS-B: {result.nit} iterations, {len(history)} value-and-gradient evaluations")
    print(
        f"NLL {nll0:.4f} at the initial theta -> {nll_fit:.4f} fitted (scikit-learn: {sk_nll:.4f})"
    )
    print(f"|gradient| at the fit {np.linalg.norm(final_grad):.1e}")
    lengthscale = np.exp(theta[0]) * x_std
    signal_sd, noise_sd = np.exp(theta[1] / 2) * y_std, np.exp(theta[2] / 2) * y_std
    print(
        f"fitted hyperparameters: lengthscale {lengthscale:.2f} kg/m^2, "
        f"signal sd {signal_sd:.1f}, noise sd {noise_sd:.1f} (target units)"
    )

    grid = np.linspace(bmi.min() - 2, bmi.max() + 2, 300)
    mean, var = predict(theta, x, y, (grid - x_mean) / x_std)
    mean, f_sd = mean * y_std + y_mean, np.sqrt(var) * y_std
    y_sd = np.sqrt(f_sd**2 + noise_sd**2)

    fig, (ax, ax_nll) = plt.subplots(
        1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2.2, 1]}
    )
    ax.scatter(bmi, target, s=10, color="k", alpha=0.5, label=f"patients (n = {len(bmi)})")
    ax.fill_between(grid, mean - 2 * y_sd, mean + 2 * y_sd, color="C0", alpha=0.12)
    ax.fill_between(grid, mean - 2 * f_sd, mean + 2 * f_sd, color="C0", alpha=0.35)
    ax.plot(grid, mean, color="C0", lw=2, label="posterior mean")
    ax.fill_between([], [], [], color="C0", alpha=0.35, label="±2σ, latent function")
    ax.fill_between([], [], [], color="C0", alpha=0.12, label="±2σ, new observation")
    ax.set(
        xlabel="body-mass index (kg/m²)",
        ylabel="disease progression after one year",
        title=f"GP regression, RBF kernel: lengthscale {lengthscale:.1f} kg/m², "
        f"noise sd {noise_sd:.0f}",
    )
    ax.legend(loc="upper left", fontsize=9)
    ax_nll.plot(np.arange(len(gaps) - 1), gaps[:-1], marker="o", ms=3)  # the last gap is 0
    ax_nll.set_yscale("log")
    ax_nll.set(
        xlabel="L-BFGS-B iteration",
        ylabel=r"NLL($\theta_k$) − NLL($\hat\theta$)",
        title="Hyperparameter fit (fx.value_and_grad)",
    )
    ax_nll.grid(alpha=0.3, which="both")
    fig.tight_layout()
    plot_path = pathlib.Path(out_dir) / "gaussian_process.png"
    fig.savefig(plot_path, dpi=120)
    plt.close(fig)
    print(f"plot written to {plot_path}")
    return {
        "theta": theta,
        "nll_initial": nll0,
        "nll_fitted": nll_fit,
        "nll_sklearn": sk_nll,
        "final_grad": final_grad,
        "grad_error": grad_error,
        "plot": plot_path,
    }


if __name__ == "__main__":
    main()

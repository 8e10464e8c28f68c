"""A stiff ODE, Robertson's chemical kinetics, by implicit Euler with ``fx.jacfwd`` Jacobians.

Robertson's problem (1966) is the classic stiff test case: three species react as

    y1' = -0.04 y1 + 1e4 y2 y3
    y2' =  0.04 y1 - 1e4 y2 y3 - 3e7 y2^2
    y3' =                        3e7 y2^2,        y(0) = (1, 0, 0).

The rate constants span nine orders of magnitude, so an explicit method would need steps of
about 1e-4 for stability over a time span of 1e10. Implicit Euler,

    y_{n+1} = y_n + h f(y_{n+1}),

is stable for any step, so the steps can grow geometrically with time. Each step solves the
nonlinear equation G(y) = y - y_n - h f(y) = 0 by Newton's method, which needs the Jacobian
dG/dy = I - h df/dy. Here ``fx.jacfwd(rhs)`` computes df/dy by forward mode (one
Jacobian-vector product per input coordinate, three here) from the same Python function that
defines the right-hand side: no hand-derived Jacobian to get wrong. It is checked once
against the analytic Jacobian, and the whole solution against SciPy's Radau solver.

Mass is conserved exactly by the equations (the three rates sum to 0), and implicit Euler
with Newton preserves that linear invariant to rounding: y1 + y2 + y3 = 1 is checked at the end.

Run ``python examples/robertson_ode.py``. It writes ``robertson_ode.png``: y1, 1e4 * y2 and y3
on a log time axis (y2 is scaled as is customary: it never exceeds about 4e-5).
"""

import pathlib
from typing import Any

import ferrax as fx
import matplotlib
import numpy as np
from numpy.typing import NDArray
from scipy.integrate import solve_ivp

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)

K1, K2, K3 = 0.04, 1e4, 3e7


def rhs(y: NDArray[np.float64]) -> fx.Tensor:
    y1, y2, y3 = y[0], y[1], y[2]
    return fx.stack(
        [
            -K1 * y1 + K2 * y2 * y3,
            K1 * y1 - K2 * y2 * y3 - K3 * y2**2,
            K3 * y2**2,
        ]
    )


jacobian = fx.jacfwd(rhs)  # y -> 3x3 matrix df/dy


def numpy_rhs(t: float, y: NDArray[np.float64]) -> NDArray[np.float64]:
    """The same equations in plain NumPy, for the independent SciPy reference."""
    y1, y2, y3 = y
    return np.array([-K1 * y1 + K2 * y2 * y3, K1 * y1 - K2 * y2 * y3 - K3 * y2**2, K3 * y2**2])


def analytic_jacobian(y: NDArray[np.float64]) -> NDArray[np.float64]:
    y1, y2, y3 = y
    return np.array(
        [
            [-K1, K2 * y3, K2 * y2],
            [K1, -K2 * y3 - 2 * K3 * y2, -K2 * y2],
            [0.0, 2 * K3 * y2, 0.0],
        ]
    )


def implicit_euler_step(
    y_n: NDArray[np.float64], h: float, tol: float = 1e-12, max_newton: int = 20
) -> tuple[NDArray[np.float64], int]:
    """Solve y = y_n + h f(y) by Newton's method from the guess y_n; return (y, iterations)."""
    y = y_n.copy()
    eye = np.eye(len(y))
    for iteration in range(1, max_newton + 1):
        residual = y - y_n - h * np.asarray(rhs(y))
        delta = np.linalg.solve(eye - h * np.asarray(jacobian(y)), -residual)
        y = y + delta
        if np.abs(delta).max() <= tol * max(1.0, np.abs(y).max()):
            return y, iteration
    raise RuntimeError(f"Newton did not converge in {max_newton} iterations (h = {h:g})")


def integrate(
    t_grid: NDArray[np.float64], y0: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    ys, newton_iters = [y0], []
    for t0, t1 in zip(t_grid[:-1], t_grid[1:]):
        y, iters = implicit_euler_step(ys[-1], t1 - t0)
        ys.append(y)
        newton_iters.append(iters)
    return np.array(ys), np.array(newton_iters)


def main(small: bool = False, out_dir: str = ".") -> dict[str, Any]:
    n_steps = 60 if small else 400
    t_end = 1e10
    t_grid = np.concatenate([[0.0], np.geomspace(1e-6, t_end, n_steps)])
    y0 = np.array([1.0, 0.0, 0.0])

    y_test = np.array([0.7, 2e-5, 0.3])
    jac_err = np.abs(np.asarray(jacobian(y_test)) - analytic_jacobian(y_test)).max()
    print(f"Jacobian check: max |jacfwd - analytic| = {jac_err:.1e}")

    ys, newton_iters = integrate(t_grid, y0)
    mass_err = np.abs(ys.sum(axis=1) - 1.0).max()
    print(
        f"{n_steps} implicit Euler steps from t = 1e-6 to {t_end:g} "
        f"(step ratio {t_grid[2] / t_grid[1]:.3f}); "
        f"Newton iterations per step: mean {newton_iters.mean():.1f}, max {newton_iters.max()}"
    )
    print(f"mass conservation: max |y1 + y2 + y3 - 1| = {mass_err:.1e}")
    print(f"peak of y2: {ys[:, 1].max():.3e} at t = {t_grid[ys[:, 1].argmax()]:.2e}")

    # independent reference: SciPy's Radau (5th-order implicit) on the NumPy equations
    ref = solve_ivp(
        numpy_rhs,
        (0.0, t_end),
        y0,
        method="Radau",
        t_eval=t_grid,
        rtol=1e-8,
        atol=[1e-12, 1e-16, 1e-12],
        jac=lambda t, y: analytic_jacobian(y),
    )
    rel_err = np.abs(ys - ref.y.T).max(axis=0) / np.abs(ref.y).max(axis=1)
    print(
        "max deviation from SciPy Radau, relative to each species' peak: "
        + ", ".join(f"y{i + 1} {e:.1e}" for i, e in enumerate(rel_err))
        + " (implicit Euler is first order)"
    )
    print(f"at t = {t_end:g}: y = {np.array2string(ys[-1], precision=4)}")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    t = t_grid[1:]
    for i, (scale, label) in enumerate([(1, "$y_1$"), (1e4, "$10^4\\, y_2$"), (1, "$y_3$")]):
        ax.plot(t, scale * ref.y[i, 1:], color=f"C{i}", lw=4, alpha=0.3)
        ax.plot(t, scale * ys[1:, i], color=f"C{i}", label=label)
    ax.plot([], [], color="gray", lw=4, alpha=0.3, label="SciPy Radau reference")
    ax.set_xscale("log")
    ax.set(
        xlabel="time t",
        ylabel="concentration",
        title=f"Robertson kinetics: implicit Euler ({n_steps} steps), Newton with fx.jacfwd",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(title="thin lines: implicit Euler")
    fig.tight_layout()
    plot_path = pathlib.Path(out_dir) / "robertson_ode.png"
    fig.savefig(plot_path, dpi=120)
    plt.close(fig)
    print(f"plot written to {plot_path}")
    return {
        "ys": ys,
        "t": t_grid,
        "mass_error": mass_err,
        "jacobian_error": jac_err,
        "reference_error": rel_err,
        "newton_iterations": newton_iters,
        "plot": plot_path,
    }


if __name__ == "__main__":
    main()

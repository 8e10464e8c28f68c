"""The examples run and reach their stated results.

The real-data examples (scikit-learn's bundled data sets, matplotlib plots) each run their
``main(small=True)`` setting here: a few seconds on a development build.
"""

import pathlib
import runpy

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("name", ["per_example_gradients.py", "newton_with_hessians.py"])
def test_example_runs(name, capsys):
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    out = capsys.readouterr().out
    if name == "per_example_gradients.py":
        errs = [float(line.split("= ")[-1]) for line in out.splitlines() if "vmap - loop" in line]
        assert len(errs) == 4 and max(errs) < 1e-12, out
    else:
        steps = [line for line in out.splitlines() if line.startswith("step ")]
        assert len(steps) == 8, out
        assert float(steps[-1].split("|grad|")[1]) < 1e-10, out
        # with 100x the data the estimate is close to the truth
        rows = {line.split(":")[0]: line.split(":", 1)[1] for line in out.splitlines()}
        truth = np.array(rows["truth"].strip(" []").split(), float)
        big = np.array(rows["estimate, 20,000 samples, lam = 1e-4"].strip(" []").split(), float)
        assert np.abs(big - truth).max() < 0.15 * np.abs(truth).max(), out


def load_example(name):
    """The example's globals (its functions), without running its __main__ block."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    return runpy.run_path(str(EXAMPLES / name))


def assert_plot(path):
    path = pathlib.Path(path)
    assert path.is_file() and path.stat().st_size > 10_000, path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mlp_digits(tmp_path):
    result = load_example("mlp_digits.py")["main"](small=True, out_dir=tmp_path)
    assert result["grad_error"] < 1e-5
    losses = result["history"]["loss"]
    assert losses[-1] < 0.3 * losses[0], losses
    assert result["test_accuracy"] >= 0.93, result["test_accuracy"]
    assert_plot(result["plot"])


def test_dp_sgd_digits(tmp_path):
    example = load_example("dp_sgd_digits.py")
    result = example["main"](small=True, out_dir=tmp_path)
    assert result["grad_error"] < 1e-12
    assert len(result["first_norms"]) == len(result["last_norms"]) == 1347
    assert result["test_accuracy"] >= 0.8, result["test_accuracy"]
    assert result["baseline_accuracy"] >= 0.9, result["baseline_accuracy"]
    assert_plot(result["plot"])
    # the RDP accountant against Google's dp_accounting 0.6.0 (RdpAccountant, orders 2..256,
    # add-or-remove-one), values computed when the example was written
    rdp_epsilon = example["rdp_epsilon"]
    q = 64 / 1347
    for (rate, sigma, steps), (eps, order) in {
        (q, 1.5, 63): (1.4635839473056784, 11),
        (q, 1.5, 420): (3.575917214915499, 6),
        (0.01, 1.1, 1000): (1.7252908180449444, 9),
    }.items():
        got = rdp_epsilon(rate, sigma, steps, 1e-5)
        assert got[1] == order and got[0] == pytest.approx(eps, rel=1e-10), (got, eps, order)
    assert result["epsilon"] == pytest.approx(1.4635839473056784, rel=1e-10)


def test_newton_logistic(tmp_path):
    result = load_example("newton_logistic.py")["main"](small=True, out_dir=tmp_path)
    assert result["deriv_error"] < 1e-12
    newton = [g for _, g in result["newton_history"]]
    gd = [g for _, g in result["gd_history"]]
    assert newton[-1] < 1e-10 and result["newton_steps"] <= 10, newton
    # gradient descent is still far from the tolerance after 300 steps
    assert result["gd_steps"] is None and gd[-1] > 1e-4, gd[-1]
    # quadratic convergence: |g_{k+1}| <= C |g_k|^2 over the last three steps
    for g_prev, g_next in zip(newton[-4:-1], newton[-3:]):
        assert g_next <= 100 * g_prev**2, newton
    # both reach (about) the same loss, Newton's no higher
    assert result["newton_history"][-1][0] <= result["gd_history"][-1][0] + 1e-15
    assert result["test_accuracy"] >= 0.93
    assert_plot(result["plot"])


def test_robertson_ode(tmp_path):
    result = load_example("robertson_ode.py")["main"](small=True, out_dir=tmp_path)
    ys = result["ys"]
    assert result["jacobian_error"] < 1e-12
    assert result["mass_error"] < 1e-13
    assert np.all(ys >= -1e-15)
    # y2's peak, about 3.65e-5 near t = 0.004 to 0.01 (Hairer & Wanner's reference value)
    assert ys[:, 1].max() == pytest.approx(3.65e-5, rel=0.02)
    assert ys[-1, 2] > 0.9999
    assert result["reference_error"].max() < 0.1  # first order on 60 steps
    assert result["newton_iterations"].max() <= 6
    assert_plot(result["plot"])


def test_gaussian_process(tmp_path):
    result = load_example("gaussian_process.py")["main"](small=True, out_dir=tmp_path)
    assert result["grad_error"] < 1e-6
    assert result["nll_fitted"] < result["nll_initial"] - 5
    assert result["nll_fitted"] == pytest.approx(result["nll_sklearn"], abs=1e-8)
    assert np.linalg.norm(result["final_grad"]) < 1e-4
    assert_plot(result["plot"])


def test_tour_runs_and_agrees_with_finite_differences():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "ferrax"], capture_output=True, text=True, check=True
    ).stdout
    assert "SIMD:" in out and "kernel threads:" in out
    assert "MISMATCH" not in out
    assert out.count(" ok") >= 10, out

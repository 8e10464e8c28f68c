"""The examples run and reach their stated results."""

import pathlib
import runpy

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
        last_grad = float(out.strip().splitlines()[-3].split("|grad|")[1])
        assert last_grad < 1e-10, out


def test_tour_runs_and_agrees_with_finite_differences():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "ferrax"], capture_output=True, text=True, check=True
    ).stdout
    assert "SIMD:" in out and "kernel threads:" in out
    assert "MISMATCH" not in out
    assert out.count(" ok") >= 10, out

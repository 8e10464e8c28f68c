"""Matrix products on ferrax's own GEMM (the `gemm` crate) or on OpenBLAS.

By default (and with `FERRAX_BLAS=openblas`) float products of 2**27
multiply-adds (512^3) or more go to the OpenBLAS NumPy loaded; with
`FERRAX_BLAS=off` every product stays on ferrax's own GEMM. This measures
whether that pays on this machine: single products of each size (NumPy's the
reference) and the GEMM-heavy workloads of `compare.py` (W2 an MLP's value_and_grad, W5 a Hessian, W8 the
MLP's jvp, W9 three 1024^3 products and their gradient). The setting is read
at import, so every measurement runs in its own process, the two settings
alternating over rounds; each cell is the median of the rounds' medians.

    python benches/blas.py [--rounds 3] [--only W2,W9]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import clean_env_or_reexec, machine_facts, timeit  # noqa: E402

# (m, k, n): squares, and the MLP's forward and backward shapes (batch 128)
SHAPES = [
    (128, 128, 128),
    (256, 256, 256),
    (512, 512, 512),
    (1024, 1024, 1024),
    (128, 784, 256),
    (784, 128, 256),
    (128, 256, 784),
    (128, 256, 256),
]
WORKLOADS = ["W2", "W5", "W8", "W9"]
SETTINGS = {"gemm": "off", "OpenBLAS": "openblas"}


def child(what: str, setting: str) -> None:
    """Time one product shape or workload under the FERRAX_BLAS already set."""
    import ferrax as fx
    import numpy as np

    if what.startswith("W"):
        import compare

        fn = compare.ferrax_workload(what, compare.inputs(what))
        print(json.dumps({"ferrax": timeit(fn, min_time=1.5)}))
        return
    m, k, n = map(int, what.split("x"))
    out = {}
    for dt in ("float32", "float64"):
        rng = np.random.default_rng(0)
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        ta, tb = fx.asarray(a), fx.asarray(b)
        out[dt] = timeit(lambda ta=ta, tb=tb: (ta @ tb).block_until_ready(), min_time=0.5)
        if setting == "off":  # NumPy once per round is enough
            out["numpy " + dt] = timeit(lambda a=a, b=b: a @ b, min_time=0.5)
    print(json.dumps(out))


def run(what: str, setting: str) -> dict:
    env = dict(os.environ, FERRAX_BLAS=setting)
    out = subprocess.run(
        [sys.executable, __file__, "--child", what, setting],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", help="comma-separated workloads and/or shapes such as 256x256x256")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    clean_env_or_reexec()
    import ferrax as fx

    items = [f"{m}x{k}x{n}" for m, k, n in SHAPES] + WORKLOADS
    if a.only:
        items = a.only.split(",")
    probe = subprocess.run(
        [sys.executable, "-c", "import ferrax as fx; print(fx.blas_library())"],
        env=dict(os.environ, FERRAX_BLAS="openblas"),
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        sys.exit(f"no OpenBLAS to compare with: {probe.stderr.strip().splitlines()[-1]}")
    print(machine_facts())
    print(f"- ferrax {fx.__version__}; OpenBLAS: {probe.stdout.strip()}")
    print(f"- {a.rounds} rounds, settings alternating, medians of the rounds\n")
    print("| product or workload | dtype | gemm ms | OpenBLAS ms | NumPy ms | OpenBLAS speed-up |")
    print("|---|---|---:|---:|---:|---:|")
    for what in items:
        rounds: dict[str, list[dict]] = {s: [] for s in SETTINGS}
        for r in range(a.rounds):
            order = list(SETTINGS) if r % 2 == 0 else list(reversed(SETTINGS))
            for name in order:
                rounds[name].append(run(what, SETTINGS[name]))
        keys = [k for k in rounds["gemm"][0] if not k.startswith("numpy")]
        for key in keys:
            med = {s: statistics.median(x[key] for x in rounds[s]) for s in SETTINGS}
            ref = rounds["gemm"][0].get("numpy " + key)
            numpy_ms = (
                f"{statistics.median(x['numpy ' + key] for x in rounds['gemm']) * 1e3:.3f}"
                if ref is not None
                else ""
            )
            dtype = key if key != "ferrax" else "float32"
            print(
                f"| {what} | {dtype} | {med['gemm'] * 1e3:.3f} | {med['OpenBLAS'] * 1e3:.3f} "
                f"| {numpy_ms} | {med['gemm'] / med['OpenBLAS']:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Matrix products against NumPy over sizes, dtypes and operand layouts.

    python benches/matmul_layouts.py [--max 2048]

Squares from 64 up to `--max`, and the MLP's shapes of the workloads (batch
128: 128x784x256 and its backward shapes, 128x256x10 and its backward
shapes 256x128x10 and 10x128x256), in
float32 and float64, each plain (NN), with the left operand transposed (TN,
a column-major view) and with the right one transposed (NT). Both libraries
run in this one process, alternating per cell (a minimum over repeats of
about 0.3 s, 1 s for the large ones); their BLAS threads and ferrax's pool
share the two cores, so the smallest products are the noisiest cells.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import clean_env_or_reexec, machine_facts, timeit  # noqa: E402

MLP = [
    (128, 784, 256),
    (784, 128, 256),
    (128, 256, 784),
    (128, 256, 256),
    (128, 256, 10),
    (256, 128, 10),
    (10, 128, 256),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max", type=int, default=2048, help="largest square size")
    a = ap.parse_args()
    import ferrax as fx
    import numpy as np

    squares = [(n, n, n) for n in (64, 128, 256, 512, 1024, 2048, 4096) if n <= a.max]
    print(
        machine_facts(),
        "",
        "| product | dtype | layout | NumPy ms | ferrax ms | speed-up |",
        "|---|---|---|---:|---:|---:|",
        sep="\n",
    )
    for dt in ("float32", "float64"):
        for m, k, n in squares + MLP:
            rng = np.random.default_rng(0)
            a_np = rng.standard_normal((m, k)).astype(dt)
            b_np = rng.standard_normal((k, n)).astype(dt)
            for layout in ("NN", "TN", "NT"):
                # the transposed operand is a column-major view on both sides
                x = np.ascontiguousarray(a_np.T).T if layout == "TN" else a_np
                y = np.ascontiguousarray(b_np.T).T if layout == "NT" else b_np
                tx = fx.asarray(np.ascontiguousarray(a_np.T)).T if layout == "TN" else fx.asarray(x)
                ty = fx.asarray(np.ascontiguousarray(b_np.T)).T if layout == "NT" else fx.asarray(y)
                np.testing.assert_allclose(np.asarray(tx @ ty), x @ y, rtol=1e-3, atol=1e-3 * k)
                t = 0.3 if m * k * n < 1e8 else 1.0
                tn = timeit(lambda x=x, y=y: x @ y, min_time=t)
                tf = timeit(lambda tx=tx, ty=ty: (tx @ ty).block_until_ready(), min_time=t)
                print(
                    f"| {m}x{k}x{n} | {dt} | {layout} | {tn * 1e3:.4f} | {tf * 1e3:.4f} | {tn / tf:.2f}x |",
                    flush=True,
                )


if __name__ == "__main__":
    clean_env_or_reexec()
    main()

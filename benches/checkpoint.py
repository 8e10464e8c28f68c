"""Rematerialisation: peak memory and time of the gradient of a 100-layer
tanh MLP, with and without `fx.checkpoint` on every layer, each in a fresh
subprocess (peak RSS is per process).

    python benches/checkpoint.py      # prints a Markdown table

Width 512, batch 256, float64: one activation is 1 MiB. Without
checkpointing the tape keeps every layer's intermediates; with it, only each
layer's input, and the backward pass runs each layer again.
"""

from __future__ import annotations

import json
import subprocess
import sys

from _harness import clean_env_or_reexec, git_rev, machine_facts

clean_env_or_reexec()

CHILD = """
import json, sys, time
sys.path.insert(0, {here!r})
from _harness import peak_rss_mb
import numpy as np
import ferrax as fx

layers, width, batch = 100, 512, 256
rng = np.random.default_rng(0)
ws = [fx.asarray(rng.standard_normal((width, width)) / width**0.5) for _ in range(layers)]
x = fx.asarray(rng.standard_normal((batch, width)))

def layer(w, h):
    return fx.tanh(h @ w) * 0.9 + 0.1 * h

step = fx.checkpoint(layer) if {remat} else layer

def loss(ws, x):
    h = x
    for w in ws:
        h = step(w, h)
    return fx.sum(h ** 2)

grad = fx.grad(loss)
base = peak_rss_mb()
g = grad(ws, x)
np.asarray(g[0])
peak = peak_rss_mb()  # one gradient: the tape, the backward pass, the result
del g
t0 = time.perf_counter()
for _ in range(3):
    g = grad(ws, x)
    np.asarray(g[0])
    del g  # (a kept result would sit next to the next one's)
print(json.dumps({{"base_mb": base, "peak_mb": peak, "ms": (time.perf_counter() - t0) / 3 * 1e3}}))
"""


def run(remat: bool) -> dict:
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(here=here, remat=remat)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(machine_facts())
    print(f"- ferrax at {git_rev()}\n")
    print("| 100-layer tanh MLP gradient | peak RSS MB | above the inputs MB | ms per gradient |")
    print("|---|---:|---:|---:|")
    rows = {name: run(remat) for name, remat in (("plain", False), ("checkpoint per layer", True))}
    for name, r in rows.items():
        print(
            f"| {name} | {r['peak_mb']:.0f} | {r['peak_mb'] - r['base_mb']:.0f} | {r['ms']:.0f} |"
        )


if __name__ == "__main__":
    main()

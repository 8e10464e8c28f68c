"""ferrax's memory on the benchmark workloads: NumPy arguments copied or shared,
and the cache of freed buffers on or off.

    python benches/memory.py                    # W2, W6, W9
    python benches/memory.py --only W9 --rounds 5

Each run is one (workload, setting) in its own subprocess, as in compare.py
(the same inputs, function and timing loop), reporting the median call and
the peak RSS, with the part backed by files in brackets. Settings:

- ``copy``: the workload as compare.py runs it; NumPy arguments are copied
  into ferrax's storage when read.
- ``shared``: every NumPy input passed through ``fx.from_dlpack`` first,
  which shares its memory instead (nothing writes to the inputs here).
- ``no cache``: as ``copy``, with ``FERRAX_BUFFER_CACHE_MB=0``: freed buffers
  go back to the system at once instead of being kept for reuse.

Settings are interleaved over rounds; the table gives the median of the runs'
medians and the largest peak.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from _harness import clean_env_or_reexec, file_rss_mb, fmt_rss, peak_rss_mb, timeit  # noqa: E402

SETTINGS = {
    "copy": {},
    "shared": {},
    "no cache": {"FERRAX_BUFFER_CACHE_MB": "0"},
}


def child(name: str, setting: str, min_time: float) -> None:
    import compare
    import ferrax as fx
    import numpy as np

    d = compare.inputs(name)
    if setting == "shared":
        d = fx.tree_util.tree_map(
            lambda v: fx.from_dlpack(v) if isinstance(v, np.ndarray) else v, d
        )
    fn = compare.ferrax_workload(name, d, numpy_inputs=True)
    r = {"median_ms": timeit(fn, min_time=min_time) * 1e3}
    r["rss_mb"] = peak_rss_mb()
    r["file_rss_mb"] = file_rss_mb()
    print(json.dumps(r))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="W2,W6,W9", help="workloads, e.g. W9")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=1.0, help="seconds of calls per run")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child, a.min_time)
        return

    rows = [
        f"{a.rounds} rounds, each (workload, setting) in its own process; "
        "median of the runs' medians, ms; largest peak RSS, MB (files)",
        "",
        "| workload | setting | median ms | peak RSS MB (files) |",
        "|---|---|---:|---:|",
    ]
    for name in a.only.split(","):
        runs: dict[str, list[dict]] = {s: [] for s in SETTINGS}
        for rnd in range(a.rounds):
            order = list(SETTINGS)
            first = rnd % len(order)
            for s in order[first:] + order[:first]:
                env = {k: v for k, v in os.environ.items() if k != "FERRAX_BUFFER_CACHE_MB"}
                env.update(SETTINGS[s])
                out = subprocess.run(
                    [sys.executable, __file__, "--child", name, s, "--min-time", str(a.min_time)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs[s].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for s, rs in runs.items():
            peak = max(rs, key=lambda r: r["rss_mb"])
            rss = fmt_rss(peak["rss_mb"], peak["file_rss_mb"])
            median = statistics.median(r["median_ms"] for r in rs)
            rows.append(f"| {name} | {s} | {median:.3f} | {rss} |")
    print("\n".join(rows))


if __name__ == "__main__":
    clean_env_or_reexec()
    main()

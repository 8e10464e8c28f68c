"""Two builds of ferrax on the same workloads, in paired processes.

Shared machines drift by more than the effect of most changes, so this runs
both builds in every round, one fresh process each, in alternating order,
and reports the median of the per-round ratios and how many rounds each
build won. Install the other build somewhere first, for example
`pip install --no-deps --target /tmp/old-ferrax dist/ferrax-*.whl`.

    python benches/ab_builds.py /tmp/old-ferrax [--rounds 15] [--only W2,W8] [--seconds 0.3]

The installed ferrax is "new"; the one under the given directory (put first
on PYTHONPATH) is "old".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(names: str, seconds: float) -> None:
    """Median call of each workload in this process, ms."""
    sys.path.insert(0, str(HERE))
    import compare

    out = {}
    for name in names.split(","):
        fn = compare.ferrax_workload(name, compare.inputs(name))
        for _ in range(20):
            fn()
        times = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times) * 1e3
    print(json.dumps(out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("old", help="directory holding the other build's ferrax package")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--only", default="W1,W2,W3,W4,W5,W6,W7,W8,W9")
    p.add_argument("--seconds", type=float, default=0.3, help="of calls per workload and run")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        child(a.only, a.seconds)
        return
    builds = [("old", dict(os.environ, PYTHONPATH=a.old)), ("new", dict(os.environ))]
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    cmd = [
        sys.executable,
        __file__,
        a.old,
        "--child",
        "--only",
        a.only,
        "--seconds",
        str(a.seconds),
    ]
    for r in range(a.rounds):
        for label, env in builds if r % 2 == 0 else builds[::-1]:
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            runs[label].append(json.loads(out.stdout))
    print(f"{a.rounds} rounds, both builds in each (alternating order), {a.seconds} s of calls")
    print()
    print(
        "| workload | old median ms | new median ms | median of per-round ratios | rounds new was faster |"
    )
    print("|---|---:|---:|---:|---:|")
    for name in a.only.split(","):
        old = [r[name] for r in runs["old"]]
        new = [r[name] for r in runs["new"]]
        ratios = [o / n for o, n in zip(old, new)]
        print(
            f"| {name} | {statistics.median(old):.4f} | {statistics.median(new):.4f} | "
            f"{statistics.median(ratios):.2f} | {sum(x > 1 for x in ratios)}/{a.rounds} |"
        )


if __name__ == "__main__":
    main()

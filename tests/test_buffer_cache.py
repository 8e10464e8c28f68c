"""The cache of freed buffers and its bound, ``FERRAX_BUFFER_CACHE_MB``.

Freed buffers of more than 4 KiB are kept for reuse (a fresh large block costs
a page fault per 4 KiB page, more than the kernel that fills it), up to 256 MiB
by default. The variable bounds what is kept (0 keeps nothing, so freed memory
goes back to the system at once), and a value that is not a whole number of
MiB is refused at import. Each case runs in a fresh process, since the bound
is read once and the resident memory is the process's.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads RssAnon from /proc/self/status"
)

# Three 32 MB tensors made and dropped: how many MB of the process's own memory
# (RssAnon) stay resident afterwards, above what it held before, and whether
# tensors made after the drop (from reused blocks) hold the right values.
SCRIPT = r"""
import gc
import numpy as np
import ferrax as fx

def anon_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024

x = np.arange(4_000_000, dtype=np.float64)
fx.asarray(x[:10])
gc.collect()
base = anon_mb()
ts = [fx.asarray(x) for _ in range(3)]
assert all(float(t[-1]) == 3_999_999.0 for t in ts)
del ts
gc.collect()
held = anon_mb() - base
again = [fx.asarray(x + k) for k in range(3)]
ok = all(np.array_equal(np.asarray(t), x + k) for k, t in enumerate(again))
print(held, ok)
"""


def held_mb(value: str | None) -> float:
    env = dict(os.environ)
    env.pop("FERRAX_BUFFER_CACHE_MB", None)
    if value is not None:
        env["FERRAX_BUFFER_CACHE_MB"] = value
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    held, ok = r.stdout.split()
    assert ok == "True", "a tensor made from a reused block has the wrong values"
    return float(held)


def test_by_default_freed_buffers_are_kept_for_reuse():
    assert held_mb(None) > 80  # all three 32 MB blocks


def test_a_bound_of_zero_gives_freed_buffers_back_at_once():
    assert held_mb("0") < 16


def test_the_bound_limits_what_is_kept():
    # 40 MiB holds one 32 MB block, not two
    assert 24 < held_mb("40") < 48


@pytest.mark.parametrize("bad", ["lots", "-1", "1.5", "64MB", ""])
def test_a_bound_that_is_not_whole_mib_is_refused_at_import(bad):
    env = dict(os.environ, FERRAX_BUFFER_CACHE_MB=bad)
    r = subprocess.run(
        [sys.executable, "-c", "import ferrax"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0
    assert "ValueError" in r.stderr and "FERRAX_BUFFER_CACHE_MB" in r.stderr

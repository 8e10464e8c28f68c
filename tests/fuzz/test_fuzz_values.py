"""Differential fuzzing of ferrax's forward values against NumPy.

Random programs (chains of 1..6 ops over 1..3 inputs of random small shapes,
dtypes float32/float64/int32/int64/bool, memory layouts including transposed,
strided, negatively strided and broadcast views, sometimes NaN/inf inputs) run
through ferrax and through NumPy; the results must agree in type, dtype (NumPy 2
promotion, Python scalars weak), shape and value. See fxfuzz.py for the design.

Long campaign: ``FERRAX_FUZZ_EXAMPLES=20000 python -m pytest -q tests/fuzz``
(add ``FERRAX_FUZZ_SEED=<int>`` for a different, still reproducible, sample).
"""

from __future__ import annotations

import ferrax as fx
import fxfuzz as fz
import numpy as np
import pytest
from hypothesis import given


@pytest.fixture(autouse=True, scope="module")
def _summary(request):
    fz.register_summary(request.config)


@fz.fuzz("values")
@given(prog=fz.programs(mode="values", max_side=5))
@fz.panics_are_failures
def test_values_match_numpy(prog):
    fz.count("values")
    expected = prog.run_numpy(prog.data())
    got = prog.run_fx(prog.fx_inputs())
    fz.check_value(got, expected, prog)


@fz.fuzz("vmap")
@given(prog=fz.programs(mode="values", n_data=3, vmap=True), data=fz.st.data())
@fz.panics_are_failures
def test_vmap_matches_a_numpy_loop(prog, data):
    """``fx.vmap`` over random in_axes (None = shared) / out_axes equals NumPy per example."""
    fz.count("vmap")
    n = len(prog.inputs[0].data)
    outs = [prog.run_numpy(prog.data(d)) for d in range(n)]
    out_axes = data.draw(fz.st.integers(-outs[0].ndim - 1, outs[0].ndim), label="out_axes")
    expected = np.stack(outs, axis=out_axes)
    batched = []
    for inp, ax in zip(prog.inputs, prog.in_axes):
        if ax is None:
            batched.append(fz.build_fx(inp.data[0], inp.layout, inp.small and inp.small[0]))
        else:
            full = np.stack(inp.data, axis=ax)
            small = None if inp.small is None else np.stack(inp.small, axis=ax)
            batched.append(fz.build_fx(full, inp.layout, small))
    got = fx.vmap(prog.fn(), in_axes=tuple(prog.in_axes), out_axes=out_axes)(*batched)
    fz.check_value(got, expected, prog, f"vmap(in_axes={prog.in_axes}, out_axes={out_axes})")


@fz.fuzz("values_large")
@given(prog=fz.large_programs(mode="values"))
@fz.panics_are_failures
def test_large_values_match_numpy(prog):
    """Arrays above fusion's default threshold (65,536 elements): deferred chains."""
    fz.count("values_large")
    expected = prog.run_numpy(prog.data())
    got = prog.run_fx(prog.fx_inputs())
    fz.check_value(got, expected, prog)

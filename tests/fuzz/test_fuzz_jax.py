"""Differential fuzzing of ferrax against JAX (float64): the same random program
(see fxfuzz.py) evaluated by ``jax.numpy`` must give the same value, gradient
and forward-mode tangent. Skipped when JAX is not installed.

Long campaign: ``FERRAX_FUZZ_EXAMPLES=20000 python -m pytest -q tests/fuzz``.
"""

from __future__ import annotations

from types import SimpleNamespace

import ferrax as fx
import fxfuzz as fz
import numpy as np
import pytest
from hypothesis import given

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

JNP = SimpleNamespace(
    **{name: getattr(jnp, name) for name in fz.NP_NAMES},
    sigmoid=jax.nn.sigmoid,
    softplus=jax.nn.softplus,
    erf=jax.scipy.special.erf,
    logsumexp=jax.nn.logsumexp,
)
JAX_BACKEND = {"fx": JNP, "np": JNP, "op": JNP}


@pytest.fixture(autouse=True, scope="module")
def _summary(request):
    fz.register_summary(request.config)


@fz.fuzz("jax")
@given(prog=fz.programs(mode="grad", max_side=4, jax=True))
@fz.panics_are_failures
def test_values_gradients_and_tangents_match_jax(prog):
    fz.count("jax")
    xs = prog.data()
    rng = np.random.default_rng(prog.seed ^ 0x1A)
    out = prog.run_numpy(xs)
    w = rng.standard_normal(out.shape)
    ts = [rng.standard_normal(x.shape) for x in xs]
    nums = tuple(range(prog.n_inputs))

    def f_jax(*args):
        return prog.run(args, JAX_BACKEND)

    f_fx = prog.fn()

    @jax.jit  # one compilation for value, gradient and tangent (eager JAX is slower)
    def jax_all(xs, ts):
        grads = jax.grad(lambda *a: jnp.sum(f_jax(*a) * w), argnums=nums)(*xs)
        _, tangent = jax.jvp(f_jax, tuple(xs), tuple(ts))
        return f_jax(*xs), grads, tangent

    j_out, j_grads, j_t = jax_all([jnp.asarray(x) for x in xs], [jnp.asarray(t) for t in ts])
    j_out = np.asarray(j_out)
    got = f_fx(*prog.fx_inputs())
    assert isinstance(got, fx.Tensor)
    assert got.dtype == j_out.dtype and got.shape == j_out.shape, (
        f"ferrax {got.dtype}{got.shape} vs jax {j_out.dtype}{j_out.shape}\n{prog!r}"
    )
    fz.close(got, j_out, 1e-9, 1e-11 * prog.scale, "value vs jax", prog)
    grads = fx.grad(lambda *a: fx.sum(f_fx(*a) * w), argnums=nums)(*prog.fx_inputs())
    fz.close(fz.flat(grads), fz.flat(j_grads), 1e-8, 1e-10, "grad vs jax", prog)
    _, t = fx.jvp(f_fx, tuple(prog.fx_inputs()), tuple(ts))
    fz.close(t, np.asarray(j_t), 1e-8, 1e-10, "jvp vs jax", prog)

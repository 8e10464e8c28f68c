"""Shared test helpers: NumPy comparisons with dtype-aware tolerances and inputs in
several memory layouts (contiguous, transposed, strided, broadcast views)."""

from __future__ import annotations

import zlib

import ferrax as fx
import numpy as np

FLOAT_DTYPES = [np.float32, np.float64]
INT_DTYPES = [np.int32, np.int64]
LAYOUTS = ["contiguous", "transposed", "strided", "broadcast"]

# (rtol, atol) per dtype: "exact" for correctly rounded ops (add, mul, ...),
# "transcendental" for exp, sin, ... (a few ulp in float64, ~1e-6 relative in float32).
TOLERANCES = {
    "exact": {np.dtype(np.float64): (1e-12, 1e-14), np.dtype(np.float32): (2e-6, 1e-6)},
    "transcendental": {np.dtype(np.float64): (1e-10, 1e-12), np.dtype(np.float32): (2e-6, 1e-6)},
}


def to_numpy(x) -> np.ndarray:
    """The value of a ferrax tensor (or anything array-like) as a NumPy array."""
    return np.asarray(x)


def assert_close(actual, expected, dtype=None, *, kind="exact", rtol=None, atol=None):
    """Assert that ``actual`` (a ferrax tensor) equals ``expected`` (NumPy) in value,
    shape and dtype. ``dtype`` defaults to ``expected``'s dtype; pass ``False`` to skip
    the dtype check. ``kind`` is ``"exact"`` or ``"transcendental"``. Integer and bool
    results must match exactly; NaNs must match NaNs."""
    assert isinstance(actual, fx.Tensor), f"expected an fx.Tensor, got {type(actual).__name__}"
    got = np.asarray(actual)
    exp = np.asarray(expected)
    if dtype is not False:
        want = np.dtype(exp.dtype if dtype is None else dtype)
        assert got.dtype == want, f"dtype {got.dtype} != expected {want}"
    assert got.shape == exp.shape, f"shape {got.shape} != expected {exp.shape}"
    if got.dtype.kind in "biu" and exp.dtype.kind in "biu":
        np.testing.assert_array_equal(got, exp)
        return
    tol_dtype = got.dtype if got.dtype.kind == "f" else np.dtype(np.float64)
    r, a = TOLERANCES[kind].get(tol_dtype, (1e-12, 1e-14))
    np.testing.assert_allclose(
        got.astype(np.float64),
        exp.astype(np.float64),
        rtol=r if rtol is None else rtol,
        atol=a if atol is None else atol,
        equal_nan=True,
    )


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def random_array(shape, dtype=np.float64, low=-2.0, high=2.0, seed=0) -> np.ndarray:
    """Deterministic random data: uniform in [low, high) for floats, integers in
    [low, high] for ints, random booleans for bool."""
    shape = tuple(shape)
    dt = np.dtype(dtype)
    rng = _rng(shape, dt.str, low, high, seed)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dt)
    return rng.uniform(low, high, size=shape).astype(dt)


def make_input(shape, dtype=np.float64, layout="contiguous", low=-2.0, high=2.0, seed=0, data=None):
    """Return ``(np_array, fx_tensor)`` holding the same values of the given shape and
    dtype; the tensor is laid out as

    - ``"contiguous"``: a fresh row-major tensor;
    - ``"transposed"``: ``.T`` of a contiguous tensor of the reversed shape;
    - ``"strided"``: ``big[1::2, 1::2, ...]`` of a tensor twice as big on every axis;
    - ``"broadcast"``: ``fx.broadcast_to`` of a smaller tensor (a leading axis dropped,
      or a size-1 axis for 1-d shapes), so its data repeats.

    ``data`` (a NumPy array of ``shape``) overrides the random values; for
    ``"broadcast"`` only its first row (along axis 0) is used and repeated."""
    shape = tuple(shape)
    dt = np.dtype(dtype)
    if data is None:
        data = random_array(shape, dt, low, high, seed)
    data = np.asarray(data, dtype=dt)
    assert data.shape == shape
    if layout == "contiguous":
        return data.copy(), fx.asarray(data.copy())
    if layout == "transposed":
        base = np.array(data.T, order="C")
        return data.copy(), fx.asarray(base).T
    if layout == "strided":
        big_shape = tuple(2 * n + 1 for n in shape) if shape else (3,)
        big = random_array(big_shape, dt, low, high, seed + 1)
        if shape:
            sl = tuple(slice(1, 1 + 2 * n, 2) for n in shape)
            big[sl] = data
            return data.copy(), fx.asarray(big)[sl]
        big[1] = data
        return data.copy(), fx.asarray(big)[1]
    if layout == "broadcast":
        if len(shape) >= 2:
            small = data[0] if shape[0] else random_array(shape[1:], dt, low, high, seed)
        elif len(shape) == 1:
            small = data[:1] if shape[0] else random_array((1,), dt, low, high, seed)
        else:
            small = data
        small = np.array(small, order="C")
        return np.broadcast_to(small, shape).copy(), fx.broadcast_to(fx.asarray(small), shape)
    raise ValueError(f"unknown layout {layout!r}")

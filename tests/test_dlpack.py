"""DLPack both ways: ``Tensor.__dlpack__`` and ``fx.from_dlpack`` share
memory with NumPy and JAX without copies; exports are read-only where the
consumer can be told; imports of any strides read the producer's memory in
place and keep it alive; layouts that cannot be read in place are copied, or
refused with ``copy=False``."""

from __future__ import annotations

import gc

import ferrax as fx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

NUMPY_VERSIONED = tuple(int(p) for p in np.__version__.split(".")[:2]) >= (2, 1)


def address(t) -> int:
    return t.__array_interface__["data"][0]


# ---------------------------------------------------------------- export ---


def test_numpy_reads_a_tensor_without_a_copy_and_cannot_write_it():
    t = fx.arange(6.0).reshape(2, 3) * 2
    a = np.from_dlpack(t)
    np.testing.assert_array_equal(a, np.arange(6.0).reshape(2, 3) * 2)
    assert a.ctypes.data == address(t)
    if NUMPY_VERSIONED:
        assert not a.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            a[0, 0] = 1.0
    np.testing.assert_array_equal(np.asarray(t)[0], [0.0, 2.0, 4.0])


def test_the_export_keeps_the_tensor_alive():
    t = fx.exp(fx.arange(1000.0) / 1000)
    want = np.exp(np.arange(1000.0) / 1000)
    a = np.from_dlpack(t)
    del t
    gc.collect()
    np.testing.assert_allclose(a, want, rtol=1e-15)


@pytest.mark.skipif(not NUMPY_VERSIONED, reason="the versioned protocol needs NumPy >= 2.1")
def test_versioned_capsule_and_copy():
    t = fx.arange(3.0)
    cap = t.__dlpack__(max_version=(1, 0))
    assert "dltensor_versioned" in repr(cap)
    c = np.from_dlpack(t, copy=True)
    assert c.flags.writeable and c.ctypes.data != address(t)
    c[0] = 7.0
    assert float(t[0]) == 0.0


def test_dlpack_device_is_the_cpu():
    assert fx.ones(2).__dlpack_device__() == (1, 0)


def test_exporting_needs_cpu_and_no_stream():
    with pytest.raises(ValueError, match="stream"):
        fx.ones(2).__dlpack__(stream=1)


def test_a_traced_value_cannot_be_exported():
    def f(x):
        x.__dlpack__()
        return fx.sum(x)

    with pytest.raises(TypeError, match="NumPy array"):
        fx.grad(f)(fx.ones(2))


# ---------------------------------------------------------------- import ---


def test_import_shares_numpy_memory():
    a = np.arange(12.0).reshape(3, 4)
    t = fx.from_dlpack(a)
    assert address(t) == a.ctypes.data
    np.testing.assert_array_equal(np.asarray(t), a)
    # the tensor reads the producer's memory (documented: don't write to it)
    a[0, 0] = 100.0
    assert float(t[0, 0]) == 100.0


def test_import_keeps_the_producer_alive():
    def make():
        return fx.from_dlpack(np.full(10_000, 3.0))

    t = make()
    gc.collect()
    assert float(fx.sum(t)) == 30_000.0


def test_copy_true_is_independent():
    a = np.arange(4.0)
    t = fx.from_dlpack(a, copy=True)
    a[:] = -1
    np.testing.assert_array_equal(np.asarray(t), [0.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("array", "why"),
    [
        (np.array([True, False]), "bool"),
        (np.arange(3, dtype=np.int16), "int16"),
        (np.frombuffer(np.zeros(17, np.uint8).tobytes(), np.uint8)[1:].view(np.float64), "aligned"),
    ],
    ids=["bool", "int16", "misaligned"],
)
def test_layouts_read_only_by_copy(array, why):
    t = fx.from_dlpack(array)
    np.testing.assert_array_equal(np.asarray(t), np.asarray(array).astype(np.asarray(t).dtype))
    with pytest.raises(BufferError, match=why):
        fx.from_dlpack(array, copy=False)


def test_import_errors():
    # DLPack has no byte order: NumPy refuses to export a big-endian array
    with pytest.raises(BufferError, match="byte order"):
        fx.from_dlpack(np.arange(3, dtype=">f8"))
    with pytest.raises(TypeError, match="__dlpack__"):
        fx.from_dlpack([1.0, 2.0])
    with pytest.raises(ValueError, match="CPU"):
        fx.from_dlpack(np.ones(2), device="cuda")
    t = fx.ones(2)
    assert fx.from_dlpack(t, device="cpu") is t
    assert address(fx.from_dlpack(t, copy=True)) != address(t)


def test_imported_tensors_are_differentiable():
    a = np.linspace(0.0, 1.0, 5)
    g = fx.grad(lambda x: fx.sum(fx.sin(x) ** 2))(fx.from_dlpack(a))
    np.testing.assert_allclose(np.asarray(g), np.sin(2 * a), rtol=1e-14)


DTYPES = [np.float32, np.float64, np.int32, np.int64]


@st.composite
def strided_views(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.lists(st.integers(0, 5), min_size=0, max_size=4))
    base = (np.arange(int(np.prod([s + 2 for s in shape]))) - 7).astype(dtype)
    base = base.reshape([s + 2 for s in shape])
    index = tuple(
        slice(None, None, draw(st.sampled_from([1, 2, -1, -2])))
        if draw(st.booleans())
        else slice(draw(st.integers(0, 2)), None)
        for _ in shape
    )
    view = base[index] if index else base[...]
    if view.ndim > 1 and draw(st.booleans()):
        view = view.transpose(draw(st.permutations(range(view.ndim))))
    return base, view


@settings(max_examples=150, deadline=None)
@given(strided_views())
def test_any_strided_view_imports_in_place(case):
    """Shapes (empty ones too), negative and non-unit strides, transposes and
    every in-place dtype: the values, the memory and what ops compute on them."""
    base, view = case
    t = fx.from_dlpack(view)
    got = np.asarray(t)
    np.testing.assert_array_equal(got, view)
    assert got.dtype == view.dtype
    if view.size:
        assert np.shares_memory(got, base)
    np.testing.assert_array_equal(np.asarray(t + 1), view + 1)
    if view.ndim:
        np.testing.assert_array_equal(np.asarray(fx.sum(t, axis=0)), view.sum(axis=0))
    np.testing.assert_array_equal(np.asarray(fx.reshape(t, (-1,))), view.reshape(-1))


# ------------------------------------------------------------------- JAX ---


def test_jax_round_trip_without_copies():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    t = fx.arange(8.0) * 3
    j = jnp.from_dlpack(t)
    assert j.unsafe_buffer_pointer() == address(t)
    np.testing.assert_array_equal(np.asarray(j), np.arange(8.0) * 3)
    ja = jnp.arange(6.0).reshape(2, 3)
    back = fx.from_dlpack(ja)
    assert address(back) == ja.unsafe_buffer_pointer()
    np.testing.assert_array_equal(np.asarray(back), np.arange(6.0).reshape(2, 3))
    # a gradient computed by ferrax on JAX's memory
    g = fx.grad(lambda x: fx.sum(x**3))(back)
    np.testing.assert_allclose(np.asarray(g), 3 * np.arange(6.0).reshape(2, 3) ** 2)


# ----------------------------------------------------------------- torch ---


def test_torch_round_trip_without_copies():
    # runs where PyTorch is installed (it is not in the test extras: PyPI's
    # Linux wheel is the CUDA build, several GB)
    torch = pytest.importorskip("torch")
    t = fx.arange(8.0) * 3
    tt = torch.from_dlpack(t)
    assert tt.data_ptr() == address(t) and tt.dtype == torch.float64
    np.testing.assert_array_equal(tt.numpy(), np.arange(8.0) * 3)
    src = torch.arange(6.0, dtype=torch.float64).reshape(2, 3)
    back = fx.from_dlpack(src)
    assert address(back) == src.data_ptr()
    # a transposed (strided) torch view is read in place too
    bt = fx.from_dlpack(src.t())
    assert address(bt) == src.data_ptr()
    np.testing.assert_array_equal(np.asarray(bt), src.numpy().T)
    f32 = fx.from_dlpack(torch.ones(3, dtype=torch.float32))
    assert f32.dtype == fx.float32
    g = fx.grad(lambda x: fx.sum(x**3))(back)
    np.testing.assert_allclose(np.asarray(g), 3 * src.numpy() ** 2)
    # the export carries DLPack's read-only flag, but PyTorch has no read-only
    # tensors and ignores it: an in-place torch op writes through (the sharp
    # bit docs/sharp-bits.md describes; clone before writing)
    tt[0] = 5.0
    assert float(np.asarray(t)[0]) == 5.0

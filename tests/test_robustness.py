"""Regressions for inputs that once crashed, read out of bounds or gave silently
wrong answers (found in review)."""

import threading

import ferrax as fx
import numpy as np
import pytest


def test_huge_slice_step_is_an_index_error_not_a_wild_view():
    step = (2**64 + 2) // 3
    with pytest.raises(IndexError, match="out of range"):
        fx._ferrax._slice(fx.asarray(np.arange(10.0)), [0], [step], [4])


def test_bool_arrays_with_non_canonical_bytes():
    t = fx.asarray(np.array([2, 0, 1], np.uint8).view(bool))
    np.testing.assert_array_equal(np.asarray(fx.logical_not(t)), [False, True, False])
    assert int(fx.sum(t)) == 2
    np.testing.assert_array_equal(np.asarray(t == True), [True, False, True])  # noqa: E712


def test_unaligned_numpy_input_is_copied_correctly():
    raw = np.zeros(8 * 4 + 1, np.uint8)
    a = raw[1:].view(np.float64)
    a[:] = [1.0, 2.0, 3.0, 4.0]
    assert not a.flags.aligned
    np.testing.assert_array_equal(np.asarray(fx.asarray(a)), [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_strided_numpy_input_aligned_or_not_is_copied_correctly(dtype):
    item = np.dtype(dtype).itemsize
    for shift in (0, 1):  # aligned, then every element one byte off
        raw = np.zeros(item * 12 + shift, np.uint8)
        a = raw[shift:].view(dtype).reshape(3, 4)
        a[:] = np.arange(12).reshape(3, 4)
        for view in (a[:, ::2], a.T, a[::-1, 1:]):
            assert view.flags.aligned == (shift == 0)
            np.testing.assert_array_equal(np.asarray(fx.asarray(view)), view)
            np.testing.assert_array_equal(np.asarray(fx.asarray(view) * 2), view * 2)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: x[fx.asarray([0]), fx.asarray([5])],
        lambda x: x[0, fx.asarray([4])],
        lambda x: fx.vmap(lambda r, i: r[i])(x, np.array([4, 0, 1])),
        lambda x: fx.vmap(lambda r, i: fx.take_along_axis(r, i, 0))(x, np.array([[4], [0], [1]])),
    ],
)
def test_out_of_range_tensor_indices_raise(f):
    x = fx.asarray(np.arange(12.0).reshape(3, 4))
    with pytest.raises(IndexError, match="out of bounds"):
        f(x)


def test_leaked_tracer_used_in_another_thread_is_refused():
    leak = []
    fx.grad(lambda x: (leak.append(x), fx.sum(x))[1])(np.array([5.0, 7.0]))
    errors = []

    def other():
        try:
            fx.grad(lambda y: fx.sum(y * leak[0]))(np.array([1.0, 2.0]))
        except RuntimeError as e:
            errors.append(str(e))
        try:
            fx.vmap(lambda y: y + leak[0])(np.ones((3, 2)))
        except RuntimeError as e:
            errors.append(str(e))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert len(errors) == 2 and all("escaped" in e for e in errors), errors


def test_allocation_failures_do_not_abort():
    with pytest.raises(MemoryError, match="could not allocate"):
        fx.linspace(0.0, 1.0, 2**40)
    with pytest.raises(ValueError, match="too large"):
        fx.broadcast_to(fx.asarray([1.0, 2.0]), (2**62, 4, 2))
    with pytest.raises(ValueError, match="between 1 and"):
        fx.set_num_threads(2**40)
    with pytest.raises((MemoryError, ValueError)):
        fx.broadcast_to(fx.ones((1, 1, 1)), (2**40, 1, 1)) @ fx.ones((1, 1))


def test_traced_fill_values_keep_their_derivative():
    assert float(fx.grad(lambda c: fx.sum(fx.full((3,), c)))(2.0)) == 3.0
    assert float(fx.grad(lambda c: fx.sum(fx.full_like(np.ones(4), c)))(2.0)) == 4.0


def test_int_of_large_integers_is_exact():
    assert int(fx.asarray(2**62 + 1)) == 2**62 + 1


def test_scatter_add_checks_shapes():
    with pytest.raises(ValueError, match="index shape"):
        fx._ferrax._scatter_add(fx.ones(2), fx.asarray([[0, 1]]), 3)


def test_at_set_under_vmap_with_repeated_indices_does_not_add():
    r = fx.vmap(lambda a, j: a.at[j].set(7.0))(np.zeros((2, 3)), np.array([[1, 1], [0, 2]]))
    np.testing.assert_array_equal(np.asarray(r), [[0.0, 7.0, 0.0], [7.0, 0.0, 7.0]])


def test_numpy_protocol_honours_or_refuses_its_arguments():
    x = fx.asarray(np.arange(6.0))
    # a form ferrax does not implement runs in NumPy on concrete values...
    np.testing.assert_array_equal(
        np.reshape(x, (2, 3), order="F"), np.reshape(np.arange(6.0), (2, 3), order="F")
    )
    # ...and is refused on traced ones
    with pytest.raises(TypeError, match="reshape"):
        fx.grad(lambda v: fx.sum(fx.asarray(np.reshape(v, (2, 3), order="F"))))(x)
    a = np.full(100_000, 1.0000001, np.float32)
    assert float(np.sum(fx.asarray(a), dtype=np.float64)) == pytest.approx(
        np.sum(a, dtype=np.float64), rel=1e-12
    )
    assert np.cumsum(fx.asarray(np.array([1, 2], np.int32)), dtype=np.float32).dtype == np.float32
    assert np.concatenate([x, x], dtype=np.float32).dtype == np.float32

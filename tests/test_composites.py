"""Composite operations computed by the core (contractions, rearrangements,
padding): values against NumPy, derivatives against finite differences."""

from __future__ import annotations

import ferrax as fx
import numpy as np
import pytest
from conftest import assert_close
from gradcheck import check_all, check_vmap

A = np.arange(12.0).reshape(3, 4) / 7.0 - 0.6


@pytest.mark.parametrize(
    "mode", ["constant", "edge", "reflect", "symmetric", "wrap", "linear_ramp"]
)
@pytest.mark.parametrize("width", [1, (2, 1), ((0, 3), (4, 1)), ((5, 6),)])
def test_pad_modes_match_numpy_and_differentiate(mode, width):
    kw = {"constant_values": ((1.5, -2.0),)} if mode == "constant" else {}
    if mode == "linear_ramp":
        kw = {"end_values": 0.25}
    want = np.pad(A, width, mode=mode, **kw)
    assert_close(fx.pad(A, width, mode=mode, **kw), want)
    assert_close(np.pad(fx.asarray(A), width, mode=mode, **kw), want)
    check_all(lambda x: fx.pad(x, width, mode=mode, **kw), (A,))
    check_vmap(lambda x: fx.pad(x, width, mode=mode, **kw), (np.stack([A, 2 * A, -A]),), 0)


def test_pad_of_one_element_axes_and_int_arrays():
    for mode in ("reflect", "symmetric", "wrap", "edge"):
        assert_close(fx.pad(np.array([3.0]), 4, mode=mode), np.pad(np.array([3.0]), 4, mode=mode))
    ints = np.arange(5)
    assert_close(fx.pad(ints, 2, mode="reflect"), np.pad(ints, 2, mode="reflect"))


@pytest.mark.parametrize(
    "spec,shapes",
    [
        ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
        ("...ii->...i", [(2, 3, 3)]),
        ("i...,i...->...", [(3, 2, 2), (3, 1, 2)]),
        ("ij,jk", [(2, 3), (3, 4)]),
        ("ii", [(3, 3)]),
        ("i,i", [(4,), (4,)]),
        ("abc,cd,db->a", [(2, 3, 4), (4, 5), (5, 3)]),
    ],
)
def test_einsum_with_ellipsis_matches_numpy(spec, shapes):
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s) for s in shapes]
    assert_close(fx.einsum(spec, *ops), np.einsum(spec, *ops))
    check_all(lambda *xs: fx.einsum(spec, *xs), tuple(ops))
    batch = tuple(np.stack([o, 0.5 * o]) for o in ops)
    check_vmap(lambda *xs: fx.einsum(spec, *xs), batch, 0)


def test_einsum_errors_and_dtypes():
    with pytest.raises(ValueError, match="'...'"):
        fx.einsum("...ij->ij", np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="operand"):
        fx.einsum("ij,jk", np.ones((2, 3)))
    ints = np.arange(6, dtype=np.int32).reshape(2, 3)
    assert_close(fx.einsum("ij->j", ints), np.einsum("ij->j", ints))


@pytest.mark.parametrize("sections", [3, [1, 4], [2, -1, 9]])
def test_array_split_matches_numpy(sections):
    x = np.arange(7.0)
    got = fx.array_split(x, sections)
    want = np.array_split(x, sections)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close(g, w)
    assert [p.shape for p in np.array_split(fx.asarray(x), sections)] == [w.shape for w in want]


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_ignore_nan_and_differentiate(name):
    a = np.array([1.0, np.nan, 3.0, np.nan, -2.0])
    b = np.array([2.0, 5.0, np.nan, np.nan, -4.0])
    want = getattr(np, name)(a, b)
    assert_close(getattr(fx, name)(a, b), want)
    assert_close(getattr(np, name)(fx.asarray(a), b), want)
    assert_close(getattr(fx, name)(np.arange(3), 1), getattr(np, name)(np.arange(3), 1))
    x, y = np.array([0.3, -1.2, 2.0]), np.array([0.5, -1.5, 1.0])
    check_all(getattr(fx, name), (x, y))
    check_vmap(getattr(fx, name), (np.stack([x, y, -x]), y), (0, None))

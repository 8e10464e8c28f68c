"""An elementwise op is one declaration in the core (its name, NumPy's name,
its kernel and derivative); everything else follows from it. These tests fail
when something that should follow does not: the Python function, the type
stub, the NumPy-protocol entry, and the op's value and derivative tests."""

from __future__ import annotations

import ast
import pathlib

import ferrax as fx
import numpy as np
import pytest
import test_grad_ops
import test_ops

C = fx._ferrax
DECLARED = C._unary_ufuncs() + C._binary_ufuncs()
UNARY = {name for _, name in C._unary_ufuncs()}


def _stub_names() -> set[str]:
    stub = pathlib.Path(fx.__file__).with_name("_ferrax.pyi")
    tree = ast.parse(stub.read_text())
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("np_name,name", DECLARED, ids=[n for _, n in DECLARED])
def test_every_declared_op_is_public_typed_dispatched_and_tested(np_name, name):
    assert callable(getattr(fx, name)), f"fx.{name} is missing"
    assert name in C.__all__
    assert name in _stub_names(), f"{name} is missing from _ferrax.pyi"
    table = test_ops.UNARY if name in UNARY else test_ops.BINARY
    assert name in table, f"{name} has no value test in tests/test_ops.py"
    assert any(i == name or i.startswith(name + "(") for i in test_grad_ops.CASE_IDS), (
        f"{name} has no derivative test in tests/test_grad_ops.py"
    )
    # NumPy (or SciPy) code calling the ufunc gets the ferrax op
    ufunc = getattr(np, np_name, None)
    if ufunc is None and np_name:
        special = pytest.importorskip("scipy.special")
        ufunc = getattr(special, np_name)
    if ufunc is not None:
        args = (fx.asarray([1.5, 2.5]),) * (1 if name in UNARY else 2)
        out = ufunc(*args)
        assert isinstance(out, fx.Tensor)
        np.testing.assert_allclose(np.asarray(out), np.asarray(getattr(fx, name)(*args)))


def test_the_extension_exports_exactly_its_public_names():
    public = {n for n in dir(C) if not n.startswith("_")}
    assert set(C.__all__) == public
    assert all(hasattr(fx, n) for n in public)

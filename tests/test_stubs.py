"""The extension ships type stubs: every public name of ferrax._ferrax is declared."""

import ast
import pathlib

import ferrax


def test_stub_declares_every_extension_name():
    stub = pathlib.Path(ferrax.__file__).with_name("_ferrax.pyi")
    assert stub.exists(), "ferrax/_ferrax.pyi is missing from the package"
    tree = ast.parse(stub.read_text())
    declared = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))} | {
        t.id for n in tree.body if isinstance(n, ast.AnnAssign) for t in [n.target]
    }
    names = {n for n in dir(ferrax._ferrax) if not n.startswith("__")} | {"__version__"}
    missing = sorted(names - declared)
    assert not missing, f"names missing from _ferrax.pyi: {missing}"
    assert (pathlib.Path(ferrax.__file__).with_name("py.typed")).exists()

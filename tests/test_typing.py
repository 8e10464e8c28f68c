"""The package's stubs type-check its users' code: ``mypy --strict examples/`` is clean.

mypy reads the *installed* package (its ``__init__.pyi``, ``_ferrax.pyi`` and ``py.typed``),
as a user's type checker does: it runs from the repository root, where ``python/`` is not
a package root, and the configuration (``[tool.mypy]`` in pyproject.toml) sets no
``mypy_path``. ``__init__.pyi`` repeats the namespace that ``__init__.py`` builds at run
time; the tests below keep the two equal.
"""

import ast
import importlib
import pathlib
import subprocess
import sys

import ferrax as fx
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = pathlib.Path(fx.__file__).parent


@pytest.fixture(scope="module")
def mypy(tmp_path_factory):
    """Run ``python -m mypy --strict ARGS`` from the repository root; return (code, output)."""
    pytest.importorskip("mypy")
    cache = tmp_path_factory.mktemp("mypy_cache")  # shared: the second run reuses the first's

    def run(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        return proc.returncode, proc.stdout + proc.stderr

    return run


def test_installed_package_ships_stubs():
    for name in ["__init__.pyi", "_ferrax.pyi", "py.typed"]:
        assert (PACKAGE / name).is_file(), f"{name} missing from the installed {PACKAGE}"


def test_examples_type_check_strict(mypy):
    pytest.importorskip("matplotlib")  # typed (inline); sklearn and scipy are ignored
    code, out = mypy("examples/")
    assert code == 0, f"mypy --strict examples/ failed:\n{out}"


def test_every_public_name_is_visible_to_mypy(mypy, tmp_path):
    """Each name of the runtime ``fx.__all__`` resolves under ``mypy --strict``."""
    names = sorted(fx.__all__)
    source = "import ferrax as fx\n\n" + "".join(f"_{n} = fx.{n}\n" for n in names)
    source += "_version: str = fx.__version__\n"
    path = tmp_path / "uses_every_name.py"
    path.write_text(source)
    code, out = mypy(str(path))
    assert code == 0, f"mypy --strict on fx.<every name of fx.__all__> failed:\n{out}"


def _stub_declared(tree):
    """Names a stub defines itself: functions, classes, annotated and assigned names."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def test_init_stub_matches_runtime_namespace():
    """``__init__.pyi`` declares exactly ``fx.__all__`` (and ``__version__``), each name as
    the object it is at run time, and takes from the extension only what _ferrax.pyi declares."""
    tree = ast.parse((PACKAGE / "__init__.pyi").read_text())
    core_declared = _stub_declared(ast.parse((PACKAGE / "_ferrax.pyi").read_text()))
    exported, problems = [], []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            module = importlib.import_module("ferrax" + ("." + node.module if node.module else ""))
            for alias in node.names:
                if alias.asname != alias.name:
                    continue  # not a re-export (`from m import x as x` is)
                name = alias.name
                exported.append(name)
                if getattr(fx, name, None) is not getattr(module, name, object()):
                    problems.append(f"{name}: fx.{name} is not {module.__name__}.{name}")
                if node.module == "_ferrax" and name not in core_declared:
                    problems.append(f"{name}: not declared in _ferrax.pyi")
        elif isinstance(node, ast.Assign):  # NumPy's other names: `negative = neg`
            (target,) = node.targets
            exported.append(target.id)
            value = node.value
            if not (
                isinstance(value, ast.Name) and getattr(fx, target.id) is getattr(fx, value.id)
            ):
                problems.append(f"{target.id}: fx.{target.id} is not fx.{ast.unparse(value)}")
        elif isinstance(node, ast.AnnAssign) and node.target.id == "__version__":
            exported.append("__version__")
            if ast.unparse(node.annotation) != "str" or not isinstance(fx.__version__, str):
                problems.append("__version__: declared as a str, a str at run time")
        elif isinstance(node, ast.AnnAssign):  # the dtypes: `float32: _np.dtype[_np.float32]`
            name = node.target.id
            exported.append(name)
            scalar = ast.unparse(node.annotation).removeprefix("_np.dtype[_np.").removesuffix("]")
            if getattr(fx, name) != np.dtype(getattr(np, scalar)):
                problems.append(f"{name}: annotated {ast.unparse(node.annotation)}")
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            exported.append(node.name)
    assert not problems, problems
    duplicates = sorted({n for n in exported if exported.count(n) > 1})
    assert not duplicates, f"declared twice in __init__.pyi: {duplicates}"
    expected = set(fx.__all__) | {"__version__"}
    missing, extra = sorted(expected - set(exported)), sorted(set(exported) - expected)
    assert not missing, f"public names missing from __init__.pyi: {missing}"
    assert not extra, f"names in __init__.pyi that fx.__all__ lacks: {extra}"

"""The installed distribution's metadata: the version fx.__version__ reports and what PyPI
shows (classifiers, keywords, links), each as pyproject.toml and Cargo.toml declare it."""

import pathlib
import subprocess
import sys
from importlib import metadata

import ferrax
import pytest
from packaging.version import Version

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _toml(name):
    return tomllib.loads((ROOT / name).read_text(encoding="utf-8"))


def test_version_is_the_metadata_version_and_cargo_toml_is_its_one_source():
    version = metadata.version("ferrax")
    assert ferrax.__version__ == version
    # The extension was compiled from the same Cargo.toml (a stale build would differ).
    assert ferrax._ferrax.__version__ == version
    assert _toml("pyproject.toml")["project"]["dynamic"] == ["version"]
    assert _toml("Cargo.toml")["workspace"]["package"]["version"] == version


def test_version_is_pep440_in_normal_form():
    version = ferrax.__version__
    assert str(Version(version)) == version


def test_metadata_has_pyproject_classifiers_and_keywords():
    project = _toml("pyproject.toml")["project"]
    meta = metadata.metadata("ferrax")
    classifiers = meta.get_all("Classifier") or []
    assert classifiers == project["classifiers"]
    for needed in (
        "Intended Audience :: Science/Research",
        "Programming Language :: Python :: 3",
        "Programming Language :: Rust",
        "Topic :: Scientific/Engineering :: Mathematics",
        "Operating System :: POSIX :: Linux",
    ):
        assert needed in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert any(c.startswith("License :: OSI Approved :: ") for c in classifiers)
    keywords = [k.strip() for k in (meta.get("Keywords") or "").split(",") if k.strip()]
    assert keywords == project["keywords"]
    assert "automatic differentiation" in keywords


def test_metadata_links_are_pyprojects_and_absolute():
    urls = _toml("pyproject.toml")["project"].get("urls", {})
    links = dict(
        (label.strip(), url.strip())
        for label, url in (
            entry.split(",", 1)
            for entry in metadata.metadata("ferrax").get_all("Project-URL") or []
        )
    )
    assert links == urls
    for url in links.values():
        assert url.startswith("https://"), url


def test_the_version_is_read_lazily_and_other_names_still_raise():
    # importlib.metadata (with email, csv, socket) was over half of import ferrax's time
    code = (
        "import sys, numpy\n"
        "before = set(sys.modules)\n"
        "import ferrax\n"
        "print(sorted({'importlib.metadata', 'email'} & (set(sys.modules) - before)))\n"
        "print(ferrax.__version__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lazy, version = out.stdout.splitlines()
    assert lazy == "[]"
    assert version == metadata.version("ferrax")
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        ferrax.no_such_name  # noqa: B018

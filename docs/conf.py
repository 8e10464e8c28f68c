"""Sphinx configuration of ferrax's documentation site.

Build (from the repository root, after ``pip install ".[docs]"``)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

and run every docstring and page example with ``-b doctest`` in place of
``-b html``. The site documents the *installed* ferrax (the compiled core's
docstrings come from the wheel), so install the package first.
"""

from __future__ import annotations

import doctest
import os
import shutil
import sys
import time
from pathlib import Path

import ferrax

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))

import api_pages  # noqa: E402  (docs/api_pages.py)

# the API reference's pages, from the public namespaces' __all__
api_pages.write(DOCS / "api" / "_autogen")

project = "ferrax"
author = "the ferrax developers"
copyright = "the ferrax developers"  # noqa: A001 (Sphinx's name)
release = ferrax.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "_gallery_src",
    "api_pages.py",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "**.zip",
]
templates_path = ["_templates"]
# No intersphinx: the build must not reach the network.
# sphinx-gallery's configuration holds functions (the scraper and the reset
# hook), which Sphinx cannot pickle into its environment cache: it then
# rebuilds on every run, which is what a docs build wants anyway.
suppress_warnings = ["config.cache"]

# --- MyST ----------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# --- autodoc / autosummary / napoleon -----------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
# The compiled core's functions carry their signatures in __text_signature__
# (PyO3); the stub file gives the same names and types to type checkers.
napoleon_numpy_docstring = True
napoleon_google_docstring = True
add_module_names = False

# --- doctest -------------------------------------------------------------------
doctest_global_setup = """
from functools import partial
import numpy as np
import ferrax as fx
from ferrax import lax
from ferrax.tree_util import (tree_flatten, tree_leaves, tree_map, tree_structure,
                              tree_unflatten, register_pytree_node)
from ferrax.test_util import check_grads, check_jvp, check_vjp
np.set_printoptions(precision=8, suppress=False)
"""
doctest_default_flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# Docstring examples are tested where autodoc puts them on the API pages
# (plain ``>>>`` blocks), as well as the pages' ``{doctest}`` blocks.
doctest_test_doctest_blocks = "default"

# --- sphinx-gallery ------------------------------------------------------------
# The gallery runs the scripts of examples/ at build time. sphinx-gallery wants
# each docstring to open with a reST title; the examples open with a sentence,
# so the build runs copies (in docs/_gallery_src/, not committed) whose first
# docstring line is made the title. The code is run unchanged.
EXAMPLES_DIR = ROOT / "examples"
GALLERY_SRC = DOCS / "_gallery_src"

GALLERY_HEADER = """\
Examples
========

Runnable scripts from the repository's ``examples/`` folder, each run when this
site is built; the figures are the ones the scripts save. The real-data ones use
data sets bundled with scikit-learn (nothing is downloaded) and check their
derivatives once (finite differences, a closed form or an independent library)
before using them. Run one yourself with::

    python -m pip install ".[examples]"
    python examples/mlp_digits.py        # writes ./mlp_digits.png

"""


def _stage_examples() -> None:
    GALLERY_SRC.mkdir(exist_ok=True)
    (GALLERY_SRC / "GALLERY_HEADER.rst").write_text(GALLERY_HEADER)
    wanted = set()
    for src in sorted(EXAMPLES_DIR.glob("*.py")):
        text = src.read_text()
        if not text.startswith('"""'):
            raise RuntimeError(f"{src} does not open with a docstring")
        first, _, rest = text[3:].partition("\n")
        title = first.strip().rstrip('"').strip()
        # the docstrings write norms as |x|; in reST a "|" starts a substitution
        doc, sep, code = rest.partition('"""')
        rest = doc.replace("|", "\\|") + sep + code
        staged = '"""' + title + "\n" + "=" * len(title) + "\n" + rest
        if rest.lstrip().startswith('"""'):  # one-line docstring
            staged = '"""' + title + "\n" + "=" * len(title) + '\n"""' + rest.split('"""', 1)[1]
        dest = GALLERY_SRC / src.name
        wanted.add(dest.name)
        if not dest.exists() or dest.read_text() != staged:
            dest.write_text(staged)
    for old in GALLERY_SRC.glob("*.py"):
        if old.name not in wanted:
            old.unlink()


_stage_examples()


class SavedPngScraper:
    """Collect the PNG files an example wrote into its working directory.

    The examples save their figure with ``fig.savefig(out_dir / name)`` into
    the current directory (sphinx-gallery runs each one from ``examples/``)
    and close it, so matplotlib's scraper sees no open figure. This scraper
    moves every PNG written since the example started to the image paths
    sphinx-gallery assigns, so the gallery page shows exactly the file the
    example saved and nothing is left behind in ``examples/``.
    """

    started = 0.0

    def __repr__(self) -> str:  # sphinx-gallery caches by repr
        return "SavedPngScraper"

    def __call__(self, block, block_vars, gallery_conf):
        from sphinx_gallery.scrapers import figure_rst

        src_dir = Path(block_vars["src_file"]).parent
        new = sorted(
            p
            for p in src_dir.glob("*.png")
            if p.stat().st_mtime >= SavedPngScraper.started and p.stat().st_size > 0
        )
        paths = []
        for png, dest in zip(new, block_vars["image_path_iterator"]):
            shutil.move(str(png), dest)
            paths.append(dest)
        return figure_rst(paths, gallery_conf["src_dir"])


def _mark_start(gallery_conf, fname, when=None):
    """sphinx-gallery's per-example reset hook: remember when the example started."""
    if when in (None, "before"):
        SavedPngScraper.started = time.time() - 1.0
        import matplotlib

        matplotlib.use("Agg")


sphinx_gallery_conf = {
    "examples_dirs": [str(GALLERY_SRC)],
    "gallery_dirs": ["auto_examples"],
    # every script in examples/ is an example (none has the plot_ prefix)
    "filename_pattern": r".*\.py$",
    "ignore_pattern": r"__init__\.py$",
    "image_scrapers": ("matplotlib", SavedPngScraper()),
    "reset_modules": (_mark_start, "matplotlib"),
    "reset_modules_order": "before",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "within_subsection_order": "FileNameSortKey",
    "show_signature": False,
    # the doctest builder does not need the examples run again
    "plot_gallery": os.environ.get("FERRAX_DOCS_PLOT_GALLERY", "True"),
}

# --- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"ferrax {release}"
# (docs/_static holds no tracked file, so a fresh checkout has no such folder;
# naming a missing one is a warning, which -W turns into a failed build)
html_static_path = ["_static"] if (DOCS / "_static").is_dir() else []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    # no external icon links or version switcher: the site is built offline
}
html_show_sourcelink = False
html_copy_source = False

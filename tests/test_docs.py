"""The documentation site: it builds with warnings as errors, every docstring
and page example passes doctest, every public name has a page, and the pages
a reader lands on render in a real browser (headless Chromium) with no error
block and with the gallery's images loaded.

Needs the ``docs`` extra (``pip install ".[docs]"``) and Chromium (Debian:
``apt-get install chromium``). ``FERRAX_DOCS_HTML=path`` reuses an HTML build
made with the command in docs/building-the-docs.md instead of building again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _require_sphinx() -> None:
    try:
        import myst_parser  # noqa: F401
        import pydata_sphinx_theme  # noqa: F401
        import sphinx  # noqa: F401
        import sphinx_gallery  # noqa: F401
    except ImportError as e:  # a missing extra is a failure, not a skip
        pytest.fail(f'the docs extra is not installed ({e}): python -m pip install ".[docs]"')


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium is needed to render the docs: apt-get install -y chromium")


def _sphinx(builder: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-b", builder]
    cmd += ["-d", str(out / ".doctrees"), *extra, str(DOCS), str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    _require_sphinx()
    reuse = os.environ.get("FERRAX_DOCS_HTML")
    if reuse:
        return Path(reuse)
    out = tmp_path_factory.mktemp("docs") / "html"
    r = _sphinx("html", out)
    assert r.returncode == 0, f"sphinx html build failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return out


def test_every_docstring_and_page_example_passes_doctest(tmp_path):
    _require_sphinx()
    r = _sphinx("doctest", tmp_path / "doctest", "-D", "plot_gallery=0")
    report = (tmp_path / "doctest" / "output.txt").read_text() if r.returncode == 0 else ""
    assert r.returncode == 0, f"doctest failed:\n{r.stdout[-6000:]}\n{r.stderr[-3000:]}"
    tests = int(re.search(r"Doctest summary\n=+\n\s*(\d+) tests", report).group(1))
    assert "0 failures in tests" in report
    assert tests > 300, f"only {tests} doctests ran: are the API pages missing?"


def test_every_public_name_has_a_page(html):
    sys.path.insert(0, str(DOCS))
    try:
        import api_pages
    finally:
        sys.path.remove(str(DOCS))
    import ferrax

    missing = [
        f"ferrax.{n}"
        for n in api_pages.top_level_names()
        if not (html / "api" / "generated" / f"ferrax.{n}.html").exists()
    ]
    for module, _, _ in api_pages.SUBMODULES:
        mod = __import__(module, fromlist=["*"])
        missing += [
            f"{module}.{n}"
            for n in mod.__all__
            if not (html / "api" / "generated" / f"{module}.{n}.html").exists()
        ]
    assert not missing, f"public names without an API page: {missing}"
    stats = (html / "api" / "_autogen" / "ferrax.scipy.stats.html").read_text()
    for dist in ferrax.scipy.stats.__all__:
        assert f"{dist}.logp" in stats, dist


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs).get("src", ""))


# a script appended to a copy of the page: after load it writes every image's
# naturalWidth into an attribute that --dump-dom shows
_PROBE = """
<script>
window.addEventListener("load", () => {
  const w = Array.from(document.images).map(i => i.complete ? i.naturalWidth : -1);
  document.body.setAttribute("data-image-widths", w.join(","));
});
</script>
"""


def _render(page: Path) -> str:
    """The DOM of ``page`` after Chromium loaded and ran it."""
    probe = page.with_name("_probe_" + page.name)
    probe.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
    try:
        r = subprocess.run(
            [
                _chromium(),
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--allow-file-access-from-files",
                "--virtual-time-budget=10000",
                "--run-all-compositor-stages-before-draw",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        probe.unlink()
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


PAGES = [
    "index.html",
    "getting-started.html",
    "contract/index.html",
    "api/generated/ferrax.grad.html",
    "auto_examples/gaussian_process.html",
    "auto_examples/index.html",
]


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_without_errors_in_chromium(html, name):
    page = html / name
    assert page.exists(), f"{name} was not built"
    dom = _render(page)
    assert "<article" in dom and len(dom) > 5000, f"{name}: the page did not render"
    # Sphinx marks reST problems with system-message blocks; sphinx-gallery and
    # MyST show failures as tracebacks or error admonitions
    for bad in ("system-message", 'class="admonition error"', "problematic"):
        assert bad not in dom, f"{name} shows an error block ({bad!r})"
    if "auto_examples" in name:  # pages may show tracebacks on purpose; an example may not
        assert "Traceback (most recent call last)" not in dom, f"{name}: the example failed"
    widths = re.search(r'data-image-widths="([^"]*)"', dom)
    assert widths is not None, f"{name}: the probe script did not run"
    parser = _Images()
    parser.feed(page.read_text())
    for src in parser.srcs:
        if src.startswith("data:"):
            continue
        target = (page.parent / src.split("#")[0]).resolve()
        assert target.is_file() and target.stat().st_size > 0, f"{name}: image {src} is missing"
    if widths.group(1):
        bad = [w for w in widths.group(1).split(",") if int(w) <= 0]
        assert not bad, f"{name}: images that did not load: {widths.group(1)}"


def test_gallery_pages_show_the_examples_figures(html):
    gallery = html / "auto_examples"
    plotted = ["mlp_digits", "dp_sgd_digits", "newton_logistic", "robertson_ode"]
    plotted.append("gaussian_process")
    for name in plotted:
        text = (gallery / f"{name}.html").read_text()
        imgs = re.findall(r'<img[^>]+src="([^"]+sphx_glr_[^"]+\.png)"', text)
        assert imgs, f"the {name} example's page shows no figure"
        for src in imgs:
            assert (gallery / src).resolve().stat().st_size > 10_000, src
    dom = _render(gallery / "gaussian_process.html")
    widths = [int(w) for w in re.search(r'data-image-widths="([^"]*)"', dom).group(1).split(",")]
    assert max(widths) > 500, f"the figure did not load at its size: {widths}"

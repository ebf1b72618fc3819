"""Shared fixtures: the book built once per test session."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so two runs of the suite agree.
settings.register_profile("book", derandomize=True, deadline=None)
settings.load_profile("book")

ROOT = Path(__file__).resolve().parents[1]

#: Front matter that makes a Markdown file a MyST notebook, for the synthetic chapters of tests.
MYST_HEAD = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def build_book(source: Path, output: Path) -> Path:
    """Build the book at ``source`` into ``output`` the way the README does; return its HTML folder.

    The build's whole output (stdout and stderr) is kept in ``output/build.log``.
    """
    jb = Path(sys.executable).with_name("jupyter-book")
    if not jb.exists():
        jb = Path(shutil.which("jupyter-book"))
    out = subprocess.run(
        [str(jb), "build", str(source), "--warningiserror", "--nitpick", "--keep-going",
         "--path-output", str(output)],
        capture_output=True, text=True, timeout=1800,
    )
    (output / "build.log").write_text(out.stdout + out.stderr)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return output / "_build" / "html"


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """The HTML folder of the whole book, built from scratch once per session (fresh cache).

    ``BOOK_HTML=path/to/_build/html`` reuses a book built earlier (for quick local runs).
    """
    given = os.environ.get("BOOK_HTML")
    if given:
        path = Path(given)
        if not (path / "index.html").is_file():
            pytest.fail(f"BOOK_HTML={given} holds no built book")
        return path
    return build_book(ROOT, tmp_path_factory.mktemp("book"))


def build_synthetic_book(src: Path, pages=None, *, config=None, files=None, output=None, env=None,
                         succeed=True, timeout=600):
    """Write (if ``pages`` is given) and build a small synthetic book with the book's own configuration.

    The one helper behind the cache, rebuild, failure and link tests.

    Parameters
    ----------
    src : Path
        The book's folder (created if needed).
    pages : dict, optional
        ``{name: Markdown text}``; the first is the root of the table of contents, the others
        its chapters.  ``None`` rebuilds what ``src`` holds.
    config : dict, optional
        Entries that override the real ``_config.yml``'s ``sphinx.config`` (e.g. ``book_cache_keep``).
    files : dict, optional
        More files, ``{relative path: text}`` (a tiny library, say).
    output : Path, optional
        ``--path-output`` (default ``src/../out``).
    env : dict, optional
        The build's environment (default: this one).
    succeed : bool
        Assert that the build succeeds (True) or fails (False); its output is in the message.

    Returns
    -------
    types.SimpleNamespace
        ``returncode``, ``log`` (stdout and stderr) and ``html`` (the HTML folder).
    """
    import types

    import yaml

    src = Path(src)
    output = Path(output) if output is not None else src.parent / "out"
    if pages is not None:
        src.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "references.bib", src)
        book = yaml.safe_load((ROOT / "_config.yml").read_text())
        book["sphinx"]["config"].update(config or {})
        (src / "_config.yml").write_text(yaml.safe_dump(book, sort_keys=False))
        names = list(pages)
        toc = f"format: jb-book\nroot: {names[0]}\n"
        if names[1:]:
            toc += "chapters:\n" + "".join(f"  - file: {n}\n" for n in names[1:])
        (src / "_toc.yml").write_text(toc)
        for name, text in pages.items():
            (src / f"{name}.md").write_text(text)
    for rel, text in (files or {}).items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    jb = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run([str(jb), "build", str(src), "--warningiserror", "--nitpick", "--keep-going",
                          "--path-output", str(output)], capture_output=True, text=True, timeout=timeout, env=env)
    log = run.stdout + run.stderr
    if succeed:
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    else:
        assert run.returncode != 0, "the build should have failed:\n" + log[-4000:]
    return types.SimpleNamespace(returncode=run.returncode, log=log, html=output / "_build" / "html")


# ---------------------------------------------------------------- glued values of the session build
# A chapter test at the chapter's default parameters reads the numbers the session build glued,
# instead of executing the chapter once more through papermill; papermill stays for re-runs with
# changed parameters.  The reader below is written here, independently of the book's tooling.

#: MIME prefix of the outputs myst_nb.glue writes (the scrapbook convention).
GLUE_PREFIX = "application/papermill.record/"


def executed_notebook(html: Path, chapter: str) -> Path:
    """The executed notebook of ``chapter`` (e.g. ``"flat"``) in the build whose HTML folder is ``html``.

    The build offers each executed notebook, with its outputs, for download as
    ``html/_sources/chapters/<chapter>.ipynb`` (outputs merged from the execution cache);
    ``<build>/jupyter_execute/chapters/<chapter>.ipynb`` is the fallback (with the cache, myst-nb
    writes it without outputs, so it only serves builds that executed in place).
    """
    candidates = [html / "_sources" / "chapters" / f"{chapter}.ipynb",
                  html.parent / "jupyter_execute" / "chapters" / f"{chapter}.ipynb"]
    for path in candidates:
        if path.is_file() and read_glued(path):
            return path
    raise FileNotFoundError(f"no executed notebook with glued values for chapter {chapter!r} in "
                            f"{[str(p) for p in candidates]}")


def read_glued(path: Path) -> dict:
    """Map each name a notebook glued to its value, decoded as the rerun command's ``glued()`` decodes it.

    A glue output carries ``metadata.scrapbook.name`` and the value's plain-text repr under
    ``<mime_prefix>text/plain``; a repr that is a Python literal becomes that literal (float, int,
    bool, str, list, dict ...), any other repr stays a string.
    """
    import ast
    import json

    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("scrapbook")
            if not meta:
                continue
            data = output.get("data", {})
            text = data.get(meta.get("mime_prefix", "") + "text/plain")
            if text is None:
                text = data.get(GLUE_PREFIX + "text/plain", data.get("text/plain"))
            if isinstance(text, list):          # nbformat may store multi-line strings as lists of lines
                text = "".join(text)
            try:
                out[meta["name"]] = ast.literal_eval(text)
            except (ValueError, SyntaxError, TypeError):
                out[meta["name"]] = text
    return out


@pytest.fixture(scope="session")
def book_glue(built_book):
    """``book_glue("flat")``: the values chapter ``flat`` glued in the session's build (read once)."""
    cache: dict[str, dict] = {}

    def read(chapter: str) -> dict:
        if chapter not in cache:
            cache[chapter] = read_glued(executed_notebook(built_book, chapter))
        return cache[chapter]

    return read


#: Test modules of the book's tooling (not of the science package); ``make test-fast`` leaves them out.
TOOLING_MODULES = {"test_book", "test_browser", "test_explorer", "test_failing_cell", "test_ledger", "test_links",
                   "test_networks_claims", "test_rebuild", "test_rerun", "test_status", "test_ledger_data", "test_verdicts"}


def pytest_collection_modifyitems(config, items):
    """Mark ``book`` every test that needs the session build (directly or through a fixture), and
    ``tooling`` every test of the book's tooling."""
    for item in items:
        if "built_book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.book)
        if item.path.stem in TOOLING_MODULES:
            item.add_marker(pytest.mark.tooling)


def rerun_glue(chapter: str, parameters: dict) -> dict:
    """Execute ``chapter`` with changed ``parameters`` through papermill; return the values it glued.

    Only for re-runs: a chapter at its default parameters is read from the session build
    (:func:`book_glue`), so an empty ``parameters`` is refused.
    """
    if not parameters:
        raise ValueError("parameters: a re-run changes at least one parameter; read the defaults with book_glue")
    from adamdyn_book.rerun import execute_chapter, glued

    return glued(execute_chapter(ROOT / "chapters" / f"{chapter}.md", parameters))

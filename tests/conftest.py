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

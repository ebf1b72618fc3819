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

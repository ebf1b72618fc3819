"""The whole book builds with warnings as errors (nitpicky), executing every chapter."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.book
def test_book_builds_without_warnings(tmp_path):
    jb = Path(sys.executable).with_name("jupyter-book")
    if not jb.exists():
        jb = shutil.which("jupyter-book")
    out = subprocess.run(
        [str(jb), "build", str(ROOT), "--warningiserror", "--nitpick", "--keep-going",
         "--path-output", str(tmp_path)],
        capture_output=True, text=True, timeout=1800,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    html = tmp_path / "_build" / "html"
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html"))
    for chapter in (ROOT / "chapters").glob("*.md"):
        assert f"chapters/{chapter.stem}.html" in pages

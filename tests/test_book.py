"""The whole book builds with warnings as errors (nitpicky), executing every chapter.

The build itself is the session fixture ``built_book`` (tests/conftest.py), which fails on
any warning; the browser and link tests read the same build, so the suite builds once.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.book
def test_book_builds_every_chapter(built_book):
    pages = {p.relative_to(built_book).as_posix() for p in built_book.rglob("*.html")}
    missing = [c.stem for c in (ROOT / "chapters").glob("*.md") if f"chapters/{c.stem}.html" not in pages]
    assert missing == []
    # every chapter executed: its page carries cell outputs (the front page and bibliography have no code)
    for chapter in (ROOT / "chapters").glob("*.md"):
        if "{code-cell}" in chapter.read_text():
            html = (built_book / "chapters" / f"{chapter.stem}.html").read_text()
            assert 'class="cell_output' in html, f"{chapter.stem} shows no executed output"

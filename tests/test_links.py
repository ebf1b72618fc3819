"""Internal links and cross-references of the built book resolve.

Cross-references ({ref}, {numref}, {cite}, {prf:ref}) are checked by the nitpicky build.
adamdyn.book also checks every internal href/src and #anchor of the built HTML when the build
finishes (a broken one is a warning, so the build fails under --warningiserror); these tests
show that check on the real book, on handmade pages, and inside a tiny build.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adamdyn.book import broken_internal_links

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.book
def test_built_book_has_no_broken_internal_links(built_book):
    assert broken_internal_links(built_book) == []
    # the check saw the real book: every chapter page is there and links to the next one
    pages = {p.relative_to(built_book).as_posix() for p in built_book.rglob("*.html")}
    assert {f"chapters/{c.stem}.html" for c in (ROOT / "chapters").glob("*.md")} <= pages


def test_checker_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_text(
        '<h1 id="top">A</h1><a href="sub/b.html#part">ok</a> <a href="#top">ok</a> '
        '<a href="https://example.org/x#y">external, not followed</a> <a href="mailto:x@y">mail</a> '
        '<img src="data:image/png;base64,AAAA"> <a href="sub/b.html#nope">bad anchor</a> '
        '<img src="missing.png"> <a href="../outside.html">outside</a> <a href="sub/">dir</a>')
    (tmp_path / "sub" / "b.html").write_text('<p id="part">B</p><a href="../a.html#top">back</a>')
    (tmp_path / "sub" / "index.html").write_text('<a name="n" href="b.html">b</a>')
    broken = broken_internal_links(tmp_path)
    assert sorted(broken) == sorted([
        "a.html: <a> sub/b.html#nope (no such anchor)",
        "a.html: <img> missing.png (no such file)",
        "a.html: <a> ../outside.html points outside the book",
    ])


PAGE = """# Home

Raw HTML escapes the nitpicky reference check: <a href="intro.html#no-such-anchor">broken</a>.
"""


@pytest.mark.book
def test_broken_link_fails_the_build(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "_config.yml", src)
    shutil.copy(ROOT / "references.bib", src)
    (src / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (src / "intro.md").write_text(PAGE)
    jb = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run([str(jb), "build", str(src), "--warningiserror", "--nitpick", "--keep-going",
                          "--path-output", str(tmp_path / "out")], capture_output=True, text=True, timeout=600)
    assert run.returncode != 0
    assert "broken internal link: intro.html: <a> intro.html#no-such-anchor (no such anchor)" in run.stdout + run.stderr

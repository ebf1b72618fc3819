"""Internal links and cross-references of the built book resolve.

Cross-references ({ref}, {numref}, {cite}, {prf:ref}) are checked by the nitpicky build.
adamdyn_book.sphinx also checks every internal href/src and #anchor of the built HTML when the build
finishes (a broken one is a warning, so the build fails under --warningiserror); these tests
show that check on the real book, on handmade pages, and inside a tiny build.
"""

from pathlib import Path

import pytest

from adamdyn_book.sphinx.links import _start_tags, broken_internal_links, external_resources
from conftest import build_synthetic_book

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.book
def test_built_book_has_no_broken_internal_links(built_book):
    assert broken_internal_links(built_book) == []
    # the check saw the real book: every chapter page is there and links to the next one
    pages = {p.relative_to(built_book).as_posix() for p in built_book.rglob("*.html")}
    assert {f"chapters/{c.stem}.html" for c in (ROOT / "chapters").glob("*.md")} <= pages


def _parser_start_tags(text):
    """The start tags as the standard library's HTML parser reports them (the second method)."""
    from html.parser import HTMLParser

    tags = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(reversed(attrs))))  # the first of a repeated attribute wins

        handle_startendtag = handle_starttag

    Parser(convert_charrefs=True).feed(text)
    return tags


TRICKY_HTML = (
    '<!DOCTYPE html><HTML lang=en><!-- <a href="in-a-comment.html"> --><A HREF="x.html#a&amp;b" '
    "id='one'>x</A><div data-x=\"a > b\" id=two>y</div><img src=pic.png alt=\"<no tag>\"/>"
    '<script src="s.js" defer></script><script>var s = "<a href=\'in-a-script.html\'>";</script>'
    '<style>a::before { content: "<a href=in-style.html>"; }</style><input disabled id="three" >'
    '<a href="y.html" href="z.html" name="n" title="">dup</a><br/><p\nid="four"\nclass="c">line breaks</p>'
)


def test_the_tag_scan_agrees_with_the_html_parser():
    assert list(_start_tags(TRICKY_HTML)) == _parser_start_tags(TRICKY_HTML)


@pytest.mark.book
def test_the_tag_scan_agrees_with_the_html_parser_on_the_built_book(built_book):
    for page in built_book.rglob("*.html"):
        text = page.read_text(encoding="utf-8", errors="replace")
        assert list(_start_tags(text)) == _parser_start_tags(text), page


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
    run = build_synthetic_book(tmp_path / "src", {"intro": PAGE}, succeed=False)
    assert "broken internal link: intro.html: <a> intro.html#no-such-anchor (no such anchor)" in run.log


def test_offline_checker_finds_every_kind_of_external_load(tmp_path):
    """The static half of the no-CDN promise, on a handmade page: it needs no browser."""
    (tmp_path / "_static").mkdir()
    (tmp_path / "page.html").write_text(
        '<html><head><script src="https://cdn.example.org/mathjax.js"></script>'
        '<script src="_static/local.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/css?family=X">'
        '<link rel="preload" as="font" href="http://cdn.example.org/f.woff2">'
        '<link rel="canonical" href="https://example.org/page.html">'
        '<style>@font-face { src: url("https://fonts.example.org/a.woff") }</style></head>'
        '<body><img src="data:image/png;base64,AAAA"> <img srcset="a.png 1x, https://img.example.org/b.png 2x">'
        '<div style="background: url(https://img.example.org/bg.png)"></div>'
        '<a href="https://example.org/">a link is not a load</a>'
        '<iframe src="https://www.example.org/embed"></iframe></body></html>')
    (tmp_path / "_static" / "theme.css").write_text('@import "https://fonts.example.org/x.css";\n'
                                                     'a { background: url(../img/local.png) }\n')
    found = external_resources(tmp_path)
    assert sorted(found) == sorted([
        "page.html: <script> https://cdn.example.org/mathjax.js",
        "page.html: <link> //fonts.example.org/css?family=X",
        "page.html: <link> http://cdn.example.org/f.woff2",
        "page.html: <style> https://fonts.example.org/a.woff",
        "page.html: <img> https://img.example.org/b.png",
        "page.html: <div style> https://img.example.org/bg.png",
        "page.html: <iframe> https://www.example.org/embed",
        "_static/theme.css: css https://fonts.example.org/x.css",
    ])
    (tmp_path / "page.html").write_text('<script src="_static/local.js"></script><a href="https://x.org">x</a>')
    (tmp_path / "_static" / "theme.css").write_text("a { color: red }")
    assert external_resources(tmp_path) == []

"""The whole book builds with warnings as errors (nitpicky), executing every chapter.

The build itself is the session fixture ``built_book`` (tests/conftest.py), which fails on
any warning; the browser and link tests read the same build, so the suite builds once.
"""

import re
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


#: What a warning looks like in the build's output: Sphinx's and the kernels' loggers
#: ("WARNING"), Python's warnings module ("SomethingWarning:").  The configuration dump that
#: Jupyter Book prints holds "suppress_warnings=[]", which neither pattern matches.
WARNING_LINE = re.compile(r"\bWARNING\b|\w+Warning:")


@pytest.mark.book
def test_build_log_has_no_warnings(built_book):
    log = built_book.parents[1] / "build.log"
    if not log.is_file():
        pytest.skip("BOOK_HTML names a book built elsewhere; its log is not at hand")
    warnings = [line for line in log.read_text().splitlines() if WARNING_LINE.search(line)]
    assert warnings == []


def test_warning_pattern_catches_the_kinds_of_warning_a_build_prints():
    assert WARNING_LINE.search("[IPKernelApp] WARNING | Kernel is running over TCP without encryption.")
    assert WARNING_LINE.search("chapters/flat.md:12: WARNING: undefined label")
    assert WARNING_LINE.search("/x.py:3: RuntimeWarning: overflow encountered")
    assert not WARNING_LINE.search("MdParserConfig(suppress_warnings=[], highlight_code_blocks=True)")


@pytest.mark.book
def test_no_page_shows_stderr_or_an_error(built_book):
    """A warning a cell raises lands in its output (myst-nb's "output stderr" block), not in the
    build log; an error would be a traceback block.  Checked on the HTML, with or without Chromium."""
    noisy = {}
    for page in sorted(built_book.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        found = re.findall(r'class="output (stderr|traceback)', html)
        if found:
            noisy[page.relative_to(built_book).as_posix()] = found
    assert noisy == {}


@pytest.mark.book
def test_no_page_loads_anything_from_outside_the_book(built_book):
    """The pages work offline (no CDN): checked statically on the built HTML and CSS, so it runs
    whether or not Chromium is installed (test_browser checks the requests themselves)."""
    from adamdyn_book.sphinx.links import external_resources

    assert external_resources(built_book) == []
    # and the check saw MathJax served from the book itself
    page = (built_book / "chapters" / "flat.html").read_text(encoding="utf-8")
    assert 'src="../_static/mathjax/tex-chtml.js"' in page
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_ledger_is_offered_as_data_with_one_record_per_row(built_book):
    import csv
    import json
    import re

    page = (built_book / "chapters" / "ledger.html").read_text(encoding="utf-8")
    rows = json.loads((built_book / "chapters" / "ledger.json").read_text(encoding="utf-8"))
    with open(built_book / "chapters" / "ledger.csv", encoding="utf-8", newline="") as f:
        assert list(csv.DictReader(f)) == rows
    assert len({r["id"] for r in rows}) == len(rows)
    # every row of the page's tables is a record (a table row's first cell is the row's id)
    ids_on_page = set(re.findall(r"<tr[^>]*>\s*<td[^>]*><p>([^<]+)</p></td>", page))
    assert ids_on_page == {r["id"] for r in rows}
    for r in rows:
        assert r["verdict"] in ("verified", "corrected", "not reproduced", "depends on an unstated setting",
                                "untestable")
        if r["link"]:
            target, _, anchor = r["link"].partition("#")
            html = (built_book / target).read_text(encoding="utf-8")
            assert f'id="{anchor}"' in html, r["link"]
    assert {r["source"] for r in rows} >= {"Kaiser, Exploring the Dynamics of Adam", "Gould & Tanaka (abstract)"}


def _box_rows(html: str):
    """(verdict label, source's value, ours, anchor) of each row of a page's verdict box."""
    import html as html_lib

    match = re.search(r'<div class="[^"]*adamdyn-verdicts[^"]*">(.*?)</table>', html, re.S)
    if match is None:
        return None
    out = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(1), re.S)[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        text = [html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()) for c in cells]
        anchor = re.search(r'href="[^"#]*#([^"]+)"', cells[-1]).group(1)
        out.append((text[0], text[2], text[3], anchor))
    return out


@pytest.mark.book
def test_every_chapter_with_ledger_rows_opens_with_their_verdict_box(built_book):
    """The box of each page holds exactly the ledger's rows decided on that page, in ledger order,
    each with its ReScience-style label and a link to the deciding section."""
    import json

    from adamdyn_book.sphinx.verdicts import LABELS

    rows = json.loads((built_book / "chapters" / "ledger.json").read_text(encoding="utf-8"))
    expected: dict[str, list] = {}
    for r in rows:
        if r["link"]:
            page, _, anchor = r["link"].partition("#")
            expected.setdefault(page, []).append((LABELS[r["verdict"]], r["paper"] or "-", r["ours"] or "-", anchor))
    assert len(expected) >= 10, sorted(expected)
    for page in sorted(p.relative_to(built_book).as_posix() for p in built_book.rglob("*.html")
                       if not p.relative_to(built_book).parts[0].startswith("_")):
        html = (built_book / page).read_text(encoding="utf-8")
        found = _box_rows(html)
        if page not in expected:
            assert found is None, f"{page} has a verdict box but decides no ledger row"
            continue
        assert found is not None, f"{page} decides {len(expected[page])} ledger rows but has no verdict box"
        norm = [(v, re.sub(r"\s+", " ", p).strip(), re.sub(r"\s+", " ", o).strip(), a) for v, p, o, a in expected[page]]
        assert found == norm, page
        # right after the page's title, before its narrative
        article = html[html.index('<article class="bd-article">'):]
        title_end = article.index("</h1>")
        assert article.index("adamdyn-verdicts") - title_end < 100, page


#: Every page, its HTML plus the images, scripts and media it references, is at most this many bytes.
PAGE_BUDGET = 1_500_000
_REFERENCE = re.compile(r'<(?:img|script|video|source|audio|iframe|embed)\b[^>]*?\ssrc="([^"]+)"', re.I)


def page_weight(html_root: Path, page: Path) -> tuple[int, dict]:
    """Bytes of ``page`` and of every file it references that is its own (not under ``_static/``,
    the theme's and the book's shared assets, loaded once for all pages)."""
    import urllib.parse

    html = page.read_text(encoding="utf-8")
    parts = {"html": page.stat().st_size}
    for url in set(_REFERENCE.findall(html)):
        split = urllib.parse.urlsplit(url)
        if split.scheme or split.netloc:
            continue  # data: URIs are inside the HTML already; nothing external is loaded (tested above)
        target = (page.parent / urllib.parse.unquote(split.path)).resolve()
        rel = target.relative_to(html_root.resolve()).as_posix() if target.is_relative_to(html_root.resolve()) else str(target)
        if rel.startswith("_static/") or not target.is_file():
            continue
        parts[rel] = target.stat().st_size
    return sum(parts.values()), parts


@pytest.mark.book
def test_every_page_weighs_at_most_one_and_a_half_megabytes(built_book):
    weights = {}
    for page in built_book.rglob("*.html"):
        rel = page.relative_to(built_book).as_posix()
        if rel.startswith("_"):
            continue
        weights[rel] = page_weight(built_book, page)
    heaviest = sorted(weights.items(), key=lambda kv: -kv[1][0])[:5]
    report = "\n".join(f"{rel}: {total / 1e6:.2f} MB (HTML {parts['html'] / 1e6:.2f} MB, "
                       f"{len(parts) - 1} files of its own)" for rel, (total, parts) in heaviest)
    print("heaviest pages:\n" + report)
    over = {rel: total for rel, (total, _) in weights.items() if total > PAGE_BUDGET}
    assert not over, f"pages over {PAGE_BUDGET / 1e6} MB:\n{report}"

"""The verdict box of each chapter (adamdyn_book.sphinx.verdicts), generated from the ledger's rows."""

import json
import re

import pytest
from conftest import MYST_HEAD, build_synthetic_book

from adamdyn_book.ledger import Claim
from adamdyn_book.ledger.export import records
from adamdyn_book.sphinx.verdicts import LABELS, rows_by_document, verdict_label

LEDGER = MYST_HEAD + """
# Ledger

```{{code-cell}} ipython3
:tags: [remove-cell]
from myst_nb import glue
glue("ledger_records", {payload!r}, display=False)
```
"""

ALPHA = """# Alpha

Some narrative.

(alpha-prop)=
## A proposition

Decided here.

(alpha-fig)=
## A figure section

More.
"""

BETA = "# Beta\n\nNo claim is decided here.\n"


def _payload(*claims):
    return json.dumps(records({"Kaiser": list(claims)}))


def _box(html: str) -> str:
    match = re.search(r'<div class="[^"]*adamdyn-verdicts[^"]*">(.*?)</table>', html, re.S)
    return match.group(1) if match else ""


def _rows(html: str):
    """(verdict label, source's value, ours, link) of each row of the page's box."""
    out = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", _box(html), re.S)[1:]:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip() for c in cells]
        href = re.search(r'href="([^"]+)"', cells[-1]).group(1)
        out.append((text[0], text[2], text[3], href))
    return out


def test_every_verdict_has_a_plain_label():
    from adamdyn_book.ledger.claim import STATUSES

    assert set(LABELS) == set(STATUSES)
    assert verdict_label("verified") == "[Re]" and verdict_label("not reproduced") == "[not Re]"
    with pytest.raises(ValueError, match="verdict"):
        verdict_label("maybe")


def test_rows_go_to_the_document_that_defines_their_label():
    rows = [{"where": "a"}, {"where": "b"}, {"where": "missing"}, {"where": "a2"}]
    labels = {"a": ("one", "a", "A"), "a2": ("one", "a2", "A2"), "b": ("two", "b", "B")}
    assert rows_by_document(rows, labels) == {"one": [rows[0], rows[3]], "two": [rows[1]]}
    assert rows_by_document(None, labels) == {}


def test_boxes_follow_the_ledger_and_are_rewritten_when_it_changes(tmp_path):
    first = [Claim("X1", "4", "Steps are bounded", "7.3 eta", "7.31 eta", "verified", "alpha-prop"),
             Claim("X2", "5", "Twelve-periodic orbit", "12", "2, 4, 12", "not reproduced", "alpha-fig"),
             Claim("X3", "6", "Somewhere else", "", "", "untestable", "nowhere")]
    pages = {"intro": "# Intro\n", "alpha": ALPHA, "beta": BETA, "ledger": LEDGER.format(payload=_payload(*first))}
    src, out = tmp_path / "src", tmp_path / "out"
    run = build_synthetic_book(src, pages, config={"book_ledger_page": "ledger"}, output=out)
    alpha = (run.html / "alpha.html").read_text(encoding="utf-8")
    assert _rows(alpha) == [("[Re]", "7.3 eta", "7.31 eta", "#alpha-prop"),
                            ("[not Re]", "12", "2, 4, 12", "#alpha-fig")]
    # the box sits right after the title, before the narrative
    assert alpha.index("</h1>") < alpha.index("adamdyn-verdicts") < alpha.index("Some narrative")
    assert "Steps are bounded" in _box(alpha) and "Kaiser, § 4" in _box(alpha)
    for page in ("beta", "intro", "ledger"):  # no row is decided there: no box at all
        assert "adamdyn-verdicts" not in (run.html / f"{page}.html").read_text(encoding="utf-8")

    # only the ledger changes: alpha's source is untouched, yet its box must follow
    second = [Claim("X1", "4", "Steps are bounded", "7.3 eta", "7.4 eta", "corrected", "alpha-prop")]
    (src / "ledger.md").write_text(LEDGER.format(payload=_payload(*second)))
    run = build_synthetic_book(src, output=out)
    alpha = (run.html / "alpha.html").read_text(encoding="utf-8")
    assert _rows(alpha) == [("corrected", "7.3 eta", "7.4 eta", "#alpha-prop")]

    # and when no row is left for a page, its box goes
    (src / "ledger.md").write_text(LEDGER.format(payload=_payload(first[2])))
    run = build_synthetic_book(src, output=out)
    assert "adamdyn-verdicts" not in (run.html / "alpha.html").read_text(encoding="utf-8")

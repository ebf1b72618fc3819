"""The ledger as data (adamdyn_book.ledger.export, adamdyn_book.sphinx.ledger_data)."""

import csv
import io
import json

import pytest
from conftest import MYST_HEAD, build_synthetic_book

from adamdyn_book.ledger import Claim
from adamdyn_book.ledger.export import FIELDS, records, to_csv, to_json

A = Claim("P1", "4", 'Steps are "small" | bounded', "7.3 eta", "7.31 eta", "verified", "flat-prop1")
B = Claim("GT-1", "abstract", "A stable region,\nwith a line break", "", "beta1^2 < beta2", "corrected", "sr")


def test_records_keep_order_source_and_every_field():
    rows = records({"Kaiser": [A], "Gould & Tanaka": [B]})
    assert [r["id"] for r in rows] == ["P1", "GT-1"]
    assert rows[0]["source"] == "Kaiser" and rows[1]["source"] == "Gould & Tanaka"
    assert rows[0]["claim"] == A.statement and rows[0]["verdict"] == "verified" and rows[0]["where"] == "flat-prop1"
    assert all(set(r) == set(FIELDS) for r in rows)


def test_repeated_id_is_refused():
    with pytest.raises(ValueError, match="groups"):
        records({"one": [A], "two": [A]})


def test_csv_and_json_round_trip_quotes_pipes_and_newlines():
    rows = records({"Kaiser": [A], "Gould & Tanaka": [B]})
    back = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert back == rows  # every value is text, so CSV gives them back exactly
    assert json.loads(to_json(rows)) == rows
    assert to_csv(rows).splitlines()[0] == ",".join(FIELDS)


LEDGER = MYST_HEAD + """
(the-ledger)=
# Ledger

<a href="ledger.csv" download>ledger.csv</a>

```{{code-cell}} ipython3
:tags: [remove-cell]
from myst_nb import glue
glue("ledger_records", {payload!r}, display=False)
```
"""


def test_build_writes_the_glued_rows_with_resolved_links(tmp_path):
    rows = records({"Kaiser": [Claim("X1", "4", "a claim", "1", "1", "verified", "the-ledger"),
                               Claim("X2", "5", "no such label", "", "", "untestable", "nowhere")]})
    pages = {"intro": "# Intro\n", "ledger": LEDGER.format(payload=json.dumps(rows))}
    run = build_synthetic_book(tmp_path / "src", pages, config={"book_ledger_page": "ledger"})
    written = json.loads((run.html / "ledger.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in written] == ["X1", "X2"]
    assert written[0]["link"] == "ledger.html#the-ledger"
    assert written[1]["link"] == ""  # an undefined label gives no link, never a broken one
    assert list(csv.DictReader(io.StringIO((run.html / "ledger.csv").read_text(encoding="utf-8")))) == written

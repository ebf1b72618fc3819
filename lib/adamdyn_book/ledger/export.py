"""The ledger as data: one record per row, written as CSV and JSON next to the ledger's page.

A record has the fields of :data:`FIELDS`: a stable ``id`` (the row's id, unique across the
ledger), the ``source`` (the ledger section that holds the row), the source's ``section``, the
``claim`` as the source states it, the source's printed value (``paper``), ours, the
``verdict`` and the label of the deciding section (``where``).  The book's Sphinx extension
(:mod:`adamdyn_book.sphinx.ledger_data`) adds ``link``, the URL of that section in the built
book, and writes the files; the ledger chapter hands it the records through a glued value.
"""

from __future__ import annotations

import csv
import io
import json

__all__ = ["FIELDS", "records", "to_csv", "to_json"]

#: The fields of a record, in the order of the CSV columns.
FIELDS = ("id", "source", "section", "claim", "paper", "ours", "verdict", "where", "link")


def records(groups) -> list[dict]:
    """One record per row of ``groups`` (``{source: [Claim, ...]}``), in order; ``link`` empty.

    Raises
    ------
    ValueError
        If two rows share an id: a record's id must identify it across the whole ledger.
    """
    out, seen = [], set()
    for source, claims in groups.items():
        for c in claims:
            if c.id in seen:
                raise ValueError(f"groups must not repeat a row id; {c.id!r} appears twice")
            seen.add(c.id)
            out.append({"id": c.id, "source": source, "section": c.section, "claim": c.statement,
                        "paper": c.paper, "ours": c.ours, "verdict": c.status, "where": c.where,
                        "link": ""})
    return out


def to_csv(rows) -> str:
    """The records as CSV (RFC 4180 quoting), with a header line of :data:`FIELDS`."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def to_json(rows) -> str:
    """The records as a JSON array of objects (UTF-8 text, keys in the order of :data:`FIELDS`)."""
    return json.dumps([{k: r[k] for k in FIELDS} for r in rows], ensure_ascii=False, indent=1) + "\n"

"""The ledger offered as data: ``ledger.csv`` and ``ledger.json`` next to the ledger's page.

The ledger chapter glues its records (:func:`adamdyn_book.ledger.export.records`, as JSON text)
under the name ``book_ledger_glue``; once the HTML is written, this module reads them from the
executed notebook that :mod:`.downloads` put beside the page, fills in each record's ``link``
(the deciding section's URL, relative to the book's root, from the label the row names) and
writes both files.  Nothing is recomputed: the files hold exactly the rows the page shows.

:func:`ledger_records` reads the same rows once all documents have been read (from the ledger's
execution-cache entry); :mod:`.verdicts` builds each chapter's verdict box from them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

_RECORD_PREFIX = "application/papermill.record/"


def glued_value(nb, name: str):
    """The value glued under ``name`` in the executed notebook ``nb`` (None if absent)."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("metadata", {}).get("scrapbook", {}).get("name") != name:
                continue
            data = output.get("data", {})
            if _RECORD_PREFIX + "text/plain" in data:
                return ast.literal_eval(data[_RECORD_PREFIX + "text/plain"])
    return None


def ledger_records(app) -> list[dict] | None:
    """The ledger's rows as glued by the ledger chapter, read from its executed notebook.

    The notebook is the one myst-nb wrote to ``jupyter_execute/`` while reading the ledger, with
    the outputs of its execution-cache entry merged in (as :mod:`.downloads` does).  ``None``
    when the book has no ledger page or the page glued no rows.
    """
    import nbformat

    from .downloads import _with_cached_outputs

    page = app.config.book_ledger_page
    executed = Path(app.outdir).parent / "jupyter_execute" / (page + ".ipynb")
    if page not in app.env.found_docs or not executed.is_file():
        return None
    nb = _with_cached_outputs(app, nbformat.read(executed, as_version=4))
    text = glued_value(nb, app.config.book_ledger_glue)
    return None if text is None else json.loads(text)


def _link(env, builder, label: str) -> str:
    from .verdicts import label_targets

    target = label_targets(env).get(label)
    if not target:
        return ""
    docname, anchor, _ = target
    return builder.get_target_uri(docname) + (f"#{anchor}" if anchor else "")


def _on_build_finished(app, exception):
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    import nbformat

    from ..ledger.export import to_csv, to_json

    page = app.config.book_ledger_page
    executed = Path(app.outdir) / "_sources" / (page + ".ipynb")
    if not executed.is_file():
        return
    text = glued_value(nbformat.read(executed, as_version=4), app.config.book_ledger_glue)
    if text is None:
        return
    rows = json.loads(text)
    for row in rows:
        row["link"] = _link(app.env, app.builder, row["where"])
    folder = (Path(app.outdir) / page).parent
    (folder / "ledger.csv").write_text(to_csv(rows), encoding="utf-8")
    (folder / "ledger.json").write_text(to_json(rows), encoding="utf-8")


def setup(app):
    app.add_config_value("book_ledger_page", "chapters/ledger", "")
    app.add_config_value("book_ledger_glue", "ledger_records", "")
    app.connect("build-finished", _on_build_finished, priority=500)  # before the link check (900)

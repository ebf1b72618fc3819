"""A verdict box at the top of every chapter, generated from the ledger (no edit to the chapters).

The ledger chapter glues its rows (:func:`.ledger_data.ledger_records`); each row names the label
of the section that decides it (``where``).  A chapter's box lists every row whose label that
chapter defines: the claim, the source's value, ours and the verdict, labelled in the manner of
ReScience (:data:`LABELS`), each row linking to its deciding section.

How it is kept right:

* ``doctree-read`` puts a placeholder after the title of every document (so the box also reaches
  the LaTeX builder, which assembles all documents into one tree);
* ``env-updated`` (all documents read, all labels known) reads the ledger's rows from its
  execution-cache entry, assigns each row to the document that defines its label, and returns
  every document whose rows changed since the last build: those pages are rewritten even when
  their own sources did not change, so no box is ever stale;
* a post-transform replaces each placeholder by its box (or removes it when no row belongs there).
"""

from __future__ import annotations

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform

from .ledger_data import ledger_records

__all__ = ["LABELS", "label_targets", "rows_by_document", "setup", "verdict_label"]

#: The plain label of each ledger verdict, in the manner of ReScience ([Re] = replicated).
LABELS = {
    "verified": "[Re]",
    "not reproduced": "[not Re]",
    "corrected": "corrected",
    "depends on an unstated setting": "depends on an unstated setting",
    "untestable": "untestable",
}

_ENV_ROWS = "adamdyn_verdict_rows"


class _VerdictsNode(nodes.General, nodes.Element):
    """Placeholder for a document's verdict box, filled once the ledger's rows are known."""


def verdict_label(verdict: str) -> str:
    """The label a reader sees for a ledger verdict (``"verified"`` -> ``"[Re]"``)."""
    try:
        return LABELS[verdict]
    except KeyError:
        raise ValueError(f"verdict must be one of {tuple(LABELS)}, got {verdict!r}") from None


def label_targets(env) -> dict:
    """``{label: (docname, anchor, section name)}`` for every label of the book.

    Sphinx keeps a label set above a section, figure or table in the ``std`` domain's ``labels``
    (with the title as its name) and every other one, such as a label above a paragraph, only in
    ``anonlabels``; those get an empty name.
    """
    std = env.domaindata.get("std", {})
    targets = {label: (doc, anchor, "") for label, (doc, anchor) in std.get("anonlabels", {}).items()}
    targets.update(std.get("labels", {}))
    return targets


def rows_by_document(rows, labels) -> dict[str, list[dict]]:
    """``{docname: [row, ...]}``: each row under the document that defines its ``where`` label.

    Parameters
    ----------
    rows : list of dict
        Ledger records (:func:`adamdyn_book.ledger.export.records`), in ledger order.
    labels : dict
        :func:`label_targets`, ``{label: (docname, anchor, section name)}``.  Rows whose
        label is not defined anywhere belong to no document.
    """
    out: dict[str, list[dict]] = {}
    for row in rows or []:
        target = labels.get(row.get("where", ""))
        if target:
            out.setdefault(target[0], []).append(row)
    return out


def _on_doctree_read(app, doctree):
    section = doctree.next_node(nodes.section)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        return
    section.insert(1, _VerdictsNode(docname=app.env.docname))


def _on_env_updated(app, env):
    """Store this build's rows per document; return the documents whose box changed."""
    labels = label_targets(env)
    new = rows_by_document(ledger_records(app), labels)
    old = getattr(env, _ENV_ROWS, {})
    setattr(env, _ENV_ROWS, new)
    changed = {d for d in set(old) | set(new) if old.get(d) != new.get(d)}
    return sorted(d for d in changed if d in env.found_docs)


def _cell(content) -> nodes.entry:
    entry = nodes.entry()
    entry += content if isinstance(content, nodes.Node) else nodes.paragraph(text=str(content) or "-")
    return entry


def _verdict(verdict: str) -> nodes.paragraph:
    key = {"[Re]": "re", "[not Re]": "not-re"}.get(verdict_label(verdict), verdict.split()[0])
    return nodes.paragraph("", "", nodes.inline(text=verdict_label(verdict),
                                                classes=["adamdyn-verdict", f"adamdyn-verdict-{key}"]))


def _claim(row) -> nodes.paragraph:
    para = nodes.paragraph(text=row["claim"])
    where = f"{row['source']}, § {row['section']}" if row.get("section") else row["source"]
    para += nodes.inline(text=f" ({where})", classes=["adamdyn-verdict-source"])
    return para


def _link(refdoc: str, row, section_name: str) -> nodes.paragraph:
    ref = pending_xref(refdoc=refdoc, refdomain="std", reftype="ref", reftarget=row["where"],
                       refexplicit=True, refwarn=True)
    ref += nodes.inline(text=section_name or row["where"])
    return nodes.paragraph("", "", ref)


#: Relative column widths in print (LaTeX), where an automatic layout squeezes the short columns.
_PRINT_WIDTHS = (13, 35, 14, 25, 13)


def box(rows, refdoc: str, labels, *, paged: bool = False) -> nodes.container:
    """The verdict box: a heading line and one table row per ledger row.

    ``paged`` (the LaTeX builder): fixed column widths and a table that breaks across pages.
    """
    container = nodes.container(classes=["adamdyn-verdicts"])
    heading = nodes.paragraph(classes=["adamdyn-verdicts-title"])
    heading += nodes.strong(text="Verdicts decided on this page")
    heading += nodes.Text(f" ({len(rows)} ledger row{'s' if len(rows) != 1 else ''}; "
                          "[Re]: reproduced, [not Re]: not reproduced)")
    container += heading
    header = ("verdict", "claim", "source's value", "ours", "decided in")
    layout = ["longtable", "colwidths-given"] if paged else ["colwidths-auto"]
    table = nodes.table(classes=layout + ["adamdyn-verdicts-table"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group.extend(nodes.colspec(colwidth=w if paged else 1) for w in _PRINT_WIDTHS)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    head += nodes.row("", *(_cell(h) for h in header))
    for r in rows:
        body += nodes.row("", _cell(_verdict(r["verdict"])), _cell(_claim(r)), _cell(r["paper"]),
                          _cell(r["ours"]), _cell(_link(refdoc, r, labels[r["where"]][2])))
    container += table
    return container


class _FillVerdicts(SphinxPostTransform):
    default_priority = 8  # before the reference resolvers, which resolve the rows' links

    def run(self, **kwargs):
        placeholders = list(self.document.findall(_VerdictsNode))
        if not placeholders:
            return
        by_doc = getattr(self.env, _ENV_ROWS, {})
        labels = label_targets(self.env)
        for node in placeholders:
            rows = by_doc.get(node["docname"])
            if rows:
                node.replace_self(box(rows, self.env.docname, labels, paged=self.app.builder.format == "latex"))
            else:
                node.parent.remove(node)


def setup(app):
    app.add_node(_VerdictsNode)
    app.add_post_transform(_FillVerdicts)
    app.connect("doctree-read", _on_doctree_read)
    app.connect("env-updated", _on_env_updated)

"""One row of the claims ledger (:class:`Claim`), the verdicts, and the Markdown rendering.

A leaf module: the row modules import :class:`Claim` from here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Claim", "STATUSES", "markdown_table"]

#: The verdicts a claim can receive.
STATUSES = ("verified", "corrected", "not reproduced", "depends on an unstated setting", "untestable")


@dataclass(frozen=True)
class Claim:
    """One row of the ledger.

    Attributes
    ----------
    id : str
        Short identifier, e.g. ``"P1"`` or ``"S6-count-adam-smooth"``.
    section : str
        Section of the main paper, e.g. ``"4"``.
    statement : str
        What the paper says (a short quote or paraphrase).
    paper : str
        The paper's number or formula as printed ("" if none).
    ours : str
        Our computed value or finding.
    status : str
        One of :data:`STATUSES`.
    where : str
        The label of the book section that decides it (for a ``{ref}`` link).
    """

    id: str
    section: str
    statement: str
    paper: str
    ours: str
    status: str
    where: str

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


def _cell(text: str) -> str:
    # A pipe would split the table cell; a newline would end the row.
    return str(text).replace("\n", " ").replace("|", r"\|").strip()


def _link(label: str, section: str, labels) -> str:
    # explicit link text: a label may sit above a figure or a proof, which has no title to borrow
    if labels is None or label in labels:
        return f"{{ref}}`{label} <{label}>`"
    return f"`{label}` (no such label yet)"


def markdown_table(claims, labels=None) -> str:
    """The ledger as a MyST Markdown table; each row links to the deciding section.

    Parameters
    ----------
    claims : list of Claim
    labels : set of str, optional
        Labels known to exist (from :func:`~adamdyn_book.ledger.core.known_labels`).  Rows whose label is
        not in it are shown without a link.  ``None`` links every row.

    Returns
    -------
    str
        Render it with ``IPython.display.Markdown`` in a cell whose metadata sets
        ``mystnb: {markdown_format: myst}`` so that the ``{ref}`` roles resolve.
    """
    head = "| id | § | the paper says | paper | ours | status | decided in |\n"
    head += "|---|---|---|---|---|---|---|\n"
    body = "".join(
        f"| {_cell(c.id)} | {_cell(c.section)} | {_cell(c.statement)} | {_cell(c.paper)} | "
        f"{_cell(c.ours)} | **{_cell(c.status)}** | {_link(c.where, c.section, labels)} |\n"
        for c in claims
    )
    return head + body

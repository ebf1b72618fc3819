"""The claims ledger: every claim, proposition and printed number of the main paper.

Each topic module of :mod:`adamdyn` that decides claims exposes a function
``claims()`` returning a list of :class:`Claim`; the ledger chapter collects
them with :func:`collect`.  The status and our value are *computed* by the
module (from the same functions its chapter calls), never typed by hand.
To add rows, add a :class:`Claim` to the ``claims()`` of the module that
decides it, and list that module in :data:`MODULES` if it is new.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["Claim", "STATUSES", "MODULES", "collect"]

#: The four verdicts a claim can receive.
STATUSES = ("verified", "corrected", "not reproduced", "untestable")

#: Modules whose ``claims()`` feed the ledger, in the order of the paper.
MODULES = [
    "adamdyn.symbolic",
    "adamdyn.noise",
    "adamdyn.bounds",
    "adamdyn.saddle",
    "adamdyn.valleys",
]


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


def collect(modules=None) -> list[Claim]:
    """Gather the claims of every module that exists and defines ``claims()``."""
    rows: list[Claim] = []
    for name in modules or MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        if hasattr(mod, "claims"):
            rows.extend(mod.claims())
    return rows

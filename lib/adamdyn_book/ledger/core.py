"""The claims ledger: collect the rows of the row modules, report what is missing, summarise.

Every row module of this package (one per source or section: :mod:`.kaiser_s2` ...
:mod:`.kaiser_s6` for the main paper, :mod:`.belotto_gazeau`, :mod:`.dereich_jentzen_kassing`,
:mod:`.gould_tanaka` for the other sources, ``networks_*`` for Part III) has a function
``claims()`` returning a list of :class:`~.claim.Claim`.  The status and our value are
*computed* there by importing the mathematical functions of :mod:`adamdyn` that the deciding
chapter calls, never typed by hand; the ledger chapter collects the rows with :func:`collect`
(or :func:`collect_report`, which also says which modules are missing or broken).

The chapters do not import the row modules (only the ledger chapter does), so rewording a row
re-executes the ledger chapter alone: a chapter's cache key covers the modules it imports.

How to add a row
----------------
1. In the row module of the source or section (e.g. :mod:`.kaiser_s4` for section 4), add a
   :class:`~.claim.Claim` to the list its ``claims()`` returns.  Compute ``ours`` and
   ``status`` from the functions of :mod:`adamdyn` the deciding chapter calls; quote the
   paper in ``paper``.
2. Put the label named in ``where`` (e.g. ``(flat-prop2)=``) above the section of the chapter
   that decides it, so that the ledger's link resolves.
3. If the row module is new, append its dotted name to :data:`MODULES` (or :data:`SOURCES`,
   :data:`PART3_MODULES`), and list the paper's claims it will decide in :data:`EXPECTED` so
   that the ledger shows them as *awaiting* until the module lands.

A label the chapters do not define is shown as plain text (never a broken ``{ref}``), and
:func:`collect_report` lists it, so a typo cannot break the nitpicky build.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .claim import STATUSES, Claim, _cell, markdown_table

__all__ = [
    "Claim",
    "STATUSES",
    "MODULES",
    "EXPECTED",
    "SUMMARY",
    "LedgerReport",
    "collect",
    "collect_report",
    "summary_claims",
    "known_labels",
    "status_counts",
    "markdown_table",
    "pending_table",
    "SOURCES",
    "collect_sources",
    "PART3_MODULES",
]

#: Row modules of the main paper's ledger, one per section, in the order of the paper.
MODULES = [
    "adamdyn_book.ledger.kaiser_s2",
    "adamdyn_book.ledger.kaiser_s3",
    "adamdyn_book.ledger.kaiser_s4",
    "adamdyn_book.ledger.kaiser_s5",
    "adamdyn_book.ledger.kaiser_s6",
]

#: What each module is expected to decide: ``(section, the paper's claim, the paper's value)``.
#: Shown as "awaiting its chapter" while the module is missing; these are quotes
#: or paraphrases of the paper, not results.
EXPECTED = {
    "adamdyn_book.ledger.kaiser_s2": [
        ("2.1", "AdaGrad, Eq. (2): the step divides by the sum of squared gradients", "Eq. (2)"),
        ("2.1", "RMSProp, Eq. (3): the second moment is averaged with weights beta_2 and (1 - beta_1)", "Eq. (3)"),
        ("2.2", "Eq. (4) with eps-hat = eps sqrt(1 - beta_2^t) restates Algorithm 1", "Eq. (4)"),
        ("2.2", "Explicit sums for g_T and sigma_T^2 in terms of the gradient history", ""),
        ("2.2", "For large t the bias correction is negligible, giving Eq. (5)", "Eq. (5)"),
        ("2.3", "The step eta g/(sigma + eps) has no units", ""),
    ],
    "adamdyn_book.ledger.kaiser_s3": [
        ("3", "The mean and variance of g_T under unbiased noise", ""),
        ("3", "The variance of g_T tends to zero like 1/sqrt(T)", "1/sqrt(T)"),
        ("3", "Kingma and Ba's bias-correction argument needs a gradient constant in time", ""),
        ("3", "With a constant expected gradient the step is about -sgn(grad) eta (1 - beta_1^t)/sqrt(1 - beta_2^t)", ""),
    ],
    "adamdyn_book.ledger.kaiser_s4": [
        ("4", "sqrt(1 - beta_2^t)/(1 - beta_1^t) <= 1 for all t >= 1 (proof by induction)", "<= 1"),
        ("4", "Proposition 1: every step is at most eta sqrt(beta_2)(1 - beta_1)/sqrt((1 - beta_2)(beta_2 - beta_1^2))", "7.3 eta"),
        ("4", "Proposition 2: the distance crossed on a flat is bounded", "73 eta"),
        ("4", "That distance is about 10 steps", "10 steps"),
    ],
    "adamdyn_book.ledger.kaiser_s5": [],
    "adamdyn_book.ledger.kaiser_s6": [],
}

#: Claims of the abstract and the conclusion.  Each is decided by rows of the sections (by id):
#: ``(id, section, statement, [ids of the deciding rows])``; see :func:`summary_claims`.
SUMMARY = [
    ("A-noise", "abstract", "The variance of Adam's steps may converge to zero, but much slower than Adam converges",
     ["S3-var-limit"]),
    ("A-flat", "abstract", "Adam can cross flats to a certain extent (about ten steps)", ["P2", "S4-10-steps"]),
    ("A-saddle", "abstract", "Adam outperforms other competitive optimizers in saddle dynamics", ["S5-fig2a", "S5-lr"]),
    ("A-valley", "abstract", "In valleys Adam's performance appears dominated by RMSProp's", ["S6-rms-faster"]),
    ("C-bias", "7", "The bias of the moving average of the gradients helps Adam cross a flat and escape a saddle",
     ["P2", "S5-momentum"]),
]

_LABEL = re.compile(r"^\(([A-Za-z0-9_.:-]+)\)=\s*$", re.MULTILINE)


def collect(modules=None) -> list[Claim]:
    """Gather the claims of every module that exists and defines ``claims()``."""
    rows: list[Claim] = []
    for name in modules or MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but one of its imports is missing
                raise
            continue
        if hasattr(mod, "claims"):
            rows.extend(mod.claims())
    return rows


@dataclass
class LedgerReport:
    """What :func:`collect_report` found.

    Attributes
    ----------
    claims : list of Claim
        Every row delivered, in the order of :data:`MODULES`.
    by_module : dict
        Module name to the number of rows it delivered.
    missing : list of str
        Modules not written yet (or without ``claims()``).
    errors : dict
        Module name to the error that stopped it (the ledger still renders).
    rows : dict
        Module name to the rows it delivered (see :meth:`rows_of`).
    """

    claims: list = field(default_factory=list)
    by_module: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)

    def rows_of(self, module: str) -> list:
        """The rows of one row module, by dotted or short name (``"kaiser_s4"``); [] if it delivered none."""
        for name, rows in self.rows.items():
            if name == module or name.rpartition(".")[2] == module:
                return rows
        return []

    def problems_of(self, module: str) -> list:
        """Markdown lines saying that a row module is missing or failed (empty if it delivered)."""
        out = []
        for name in self.missing:
            if name == module or name.rpartition(".")[2] == module:
                out.append(f"- `{name}` has not delivered rows yet")
        for name, err in self.errors.items():
            if name == module or name.rpartition(".")[2] == module:
                out.append(f"- `{name}` failed while computing its rows: `{err}`")
        return out


def collect_report(modules=None) -> LedgerReport:
    """Like :func:`collect`, but a missing or failing module is recorded instead of raised.

    The ledger chapter must build whether or not the other chapters' modules
    have landed; a module whose ``claims()`` raises is reported by name with
    its error message.
    """
    rep = LedgerReport()
    for name in modules or MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                rep.missing.append(name)
            else:
                rep.errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        except Exception as exc:  # a colleague's module mid-edit must not break the ledger
            rep.errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        if not hasattr(mod, "claims"):
            rep.missing.append(name)
            continue
        try:
            rows = list(mod.claims())
            bad = [r for r in rows if not isinstance(r, Claim)]
            if bad:
                raise TypeError(f"claims() returned {len(bad)} objects that are not Claim")
        except Exception as exc:
            rep.errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        rep.claims.extend(rows)
        rep.by_module[name] = len(rows)
        rep.rows[name] = rows
    return rep


def summary_claims(claims) -> tuple[list, list]:
    """Rows for :data:`SUMMARY`, decided by the section rows they name.

    The verdict is the weakest of the deciding rows' (verified > corrected >
    depends on an unstated setting > not reproduced; untestable if any is untestable), and ``ours`` lists them,
    so the reader sees what the verdict rests on.  Summary claims whose deciding
    rows have not all landed are returned separately, by id.

    Returns
    -------
    rows : list of Claim
    waiting : list of (id, missing ids)
    """
    by_id = {c.id: c for c in claims}
    order = {"verified": 0, "corrected": 1, "depends on an unstated setting": 2, "not reproduced": 3, "untestable": 4}
    rows, waiting = [], []
    for sid, section, statement, ids in SUMMARY:
        missing = [i for i in ids if i not in by_id]
        if missing:
            waiting.append((sid, missing))
            continue
        parts = [by_id[i] for i in ids]
        worst = max(parts, key=lambda c: order[c.status])
        rows.append(Claim(sid, section, statement, "", "; ".join(f"{c.id}: {c.status}" for c in parts),
                          worst.status, worst.where))
    return rows, waiting


def known_labels(chapters_dir) -> set:
    """The MyST target labels ``(label)=`` defined in the chapters under ``chapters_dir``."""
    d = Path(chapters_dir)
    if not d.is_dir():
        raise ValueError(f"chapters_dir must be an existing directory, got {str(d)!r}")
    labels = set()
    for f in sorted(d.glob("*.md")):
        labels.update(_LABEL.findall(f.read_text(encoding="utf-8")))
    return labels


def status_counts(claims) -> dict:
    """Number of claims per status, in the order of :data:`STATUSES` (zeros included)."""
    counts = {s: 0 for s in STATUSES}
    for c in claims:
        counts[c.status] += 1
    return counts


def pending_table(report: LedgerReport) -> str:
    """The paper's claims whose deciding module has not landed (from :data:`EXPECTED`)."""
    rows = []
    for name in report.missing + list(report.errors):
        for section, statement, paper in EXPECTED.get(name, []):
            rows.append(f"| {_cell(section)} | {_cell(statement)} | {_cell(paper)} | `{name}` |\n")
    if not rows:
        return ""
    return "| § | the paper says | paper | awaiting |\n|---|---|---|---|\n" + "".join(rows)


# ---------------------------------------------------------------------------
# The other three sources (Belotto da Silva & Gazeau, Dereich-Jentzen-Kassing, Gould & Tanaka)
# ---------------------------------------------------------------------------

#: Source (as the ledger's section heading names it) to the row modules whose ``claims()`` give its
#: rows, in the order of the book.  Rows of these modules are not part of :data:`MODULES`
#: (the main paper's ledger); :func:`collect_sources` gathers them by source.
SOURCES = {
    "Belotto da Silva & Gazeau (poster)": ["adamdyn_book.ledger.belotto_gazeau"],
    "Dereich, Jentzen & Kassing (abstract), with the Adam symmetry theorem": ["adamdyn_book.ledger.dereich_jentzen_kassing"],
    "Gould & Tanaka (abstract)": ["adamdyn_book.ledger.gould_tanaka"],
}


def collect_sources(sources=None) -> dict:
    """One :class:`LedgerReport` per source of :data:`SOURCES` (by :func:`collect_report`)."""
    return {name: collect_report(mods) for name, mods in (sources or SOURCES).items()}


# ----------------------------------------------------------------------------- Part III
#: Part III's modules: the sources' claims tested on real networks (JAX).  Their rows form a
#: section of their own in the ledger chapter (``collect_report(PART3_MODULES)``); their
#: experiments are memoised (:mod:`adamdyn.memo`), so the ledger reuses the chapters' runs.
PART3_MODULES = [
    "adamdyn_book.ledger.networks_figure1",
    "adamdyn_book.ledger.networks_noise",
    "adamdyn_book.ledger.networks_limits",
    "adamdyn_book.ledger.networks_stable_region",
    "adamdyn_book.ledger.networks_k_adam",
    "adamdyn_book.ledger.networks_saddles",
    "adamdyn_book.ledger.networks_eos",
]

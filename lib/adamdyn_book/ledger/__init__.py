"""The claims ledger: every claim of the sources next to a computed verdict.

:mod:`.claim` defines a row (:class:`Claim`) and its Markdown rendering; :mod:`.core` collects
the rows of the row modules named in :data:`MODULES`, :data:`SOURCES` and :data:`PART3_MODULES`
(one module per source or section, e.g. :mod:`.kaiser_s4` for section 4 of the main paper).
Only the ledger chapter imports this package.
"""

from .claim import STATUSES, Claim, markdown_table
from .core import (
    EXPECTED,
    MODULES,
    PART3_MODULES,
    SOURCES,
    SUMMARY,
    LedgerReport,
    collect,
    collect_report,
    collect_sources,
    known_labels,
    pending_table,
    status_counts,
    summary_claims,
)

__all__ = [
    "Claim", "STATUSES", "markdown_table", "EXPECTED", "MODULES", "PART3_MODULES", "SOURCES", "SUMMARY",
    "LedgerReport", "collect", "collect_report", "collect_sources", "known_labels", "pending_table",
    "status_counts", "summary_claims",
]

"""Part III's experiments are memoised with :mod:`adamdyn.memo` (kept for the modules' imports).

A chapter and the ledger call the same experiment with the same arguments, so it runs once
per build; see :mod:`adamdyn.memo` for the key (function, arguments, package fingerprint)
and the store.
"""

from ..memo import memoised

__all__ = ["memoised"]

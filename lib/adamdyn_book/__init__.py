"""adamdyn_book: the tooling of *The Dynamics of Adam, Executed*, apart from its science (:mod:`adamdyn`).

- :mod:`adamdyn_book.sphinx`: the book's Sphinx extension (cache keys that cover the library,
  parallel execution over IPC kernels, offline MathJax, notebook downloads, the link check).
- :mod:`adamdyn_book.rerun`: re-run a chapter with other parameters (``python -m adamdyn_book.rerun``).
- :mod:`adamdyn_book.ledger`: the claims ledger, one row module per source or section.
- :mod:`adamdyn_book.plotting`, :mod:`adamdyn_book.display`, :mod:`adamdyn_book.explorer`,
  :mod:`adamdyn_book.progress`: the chapters' presentation (figure style, display math, links to
  the in-browser explorer, progress lines).

This file imports nothing: a chapter that imports :mod:`adamdyn_book.display` depends (for its
cache key) on that module alone, not on the ledger or the extension.
"""

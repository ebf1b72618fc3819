"""Progress of a long loop: shown when a person runs a notebook, silent in the built book.

The book's Sphinx extension (:mod:`adamdyn_book.sphinx`) sets ``ADAMDYN_BOOK_BUILD=1`` for the
kernels it starts, and the rerun command (:mod:`adamdyn_book.rerun`) sets ``ADAMDYN_PROGRESS=0``,
so neither a page nor a written notebook carries progress lines.  Imports nothing heavy.
"""

from __future__ import annotations

import os
import sys
import time

__all__ = ["BUILD_ENV", "PROGRESS_ENV", "interactive", "progress"]

#: Set (to ``1``) by the book build for its kernels.
BUILD_ENV = "ADAMDYN_BOOK_BUILD"
#: ``1`` / ``0`` forces progress on or off.
PROGRESS_ENV = "ADAMDYN_PROGRESS"


def interactive() -> bool:
    """Whether progress should be shown.

    ``ADAMDYN_PROGRESS=1`` / ``0`` decides if set.  Otherwise progress is hidden during a book
    build (``ADAMDYN_BOOK_BUILD`` is set by the book build and inherited by the kernels) and
    shown in a Jupyter kernel or on a terminal.
    """
    forced = os.environ.get(PROGRESS_ENV)
    if forced is not None:
        return forced.strip().lower() not in ("", "0", "false", "no", "off")
    if os.environ.get(BUILD_ENV):
        return False
    if "ipykernel" in sys.modules:
        return True
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def progress(iterable, total: int | None = None, label: str = "", every: float = 0.5):
    """Iterate over ``iterable``, showing ``label i/total`` on stderr when :func:`interactive`.

    In a built page (and under papermill re-runs) this is plain iteration and prints nothing.

    Parameters
    ----------
    iterable : iterable
        What to loop over.
    total : int, optional
        Its length, if ``len(iterable)`` is not defined.
    label : str
        Shown before the count.
    every : float
        Seconds between two updates of the line.
    """
    if not interactive():
        return iter(iterable)
    if total is None:
        try:
            total = len(iterable)
        except TypeError:
            total = None
    return _progress(iterable, total, label, every)


def _progress(iterable, total, label, every):
    start = last = time.monotonic()
    i = 0

    def show(i, end=""):
        count = f"{i}/{total} ({100 * i / total:.0f}%)" if total else f"{i}"
        sys.stderr.write(f"\r{label + ' ' if label else ''}{count}  {time.monotonic() - start:.1f} s{end}")
        sys.stderr.flush()

    for i, item in enumerate(iterable, 1):
        yield item
        now = time.monotonic()
        if now - last >= every:
            last = now
            show(i)
    show(i, end="\n")

"""Numbered cross-references (``{numref}``) resolved from each target page's doctree read once.

To number a reference, Sphinx's standard domain unpickles the whole doctree of the target page
(``env.get_doctree``), only to look at the target node's type and ids, and it does so again for
every reference: with the book's generated links to numbered sections this was about 15 % of a
build that executes nothing, all of it in the serial part of the write.  While Sphinx resolves
one such reference, :func:`install` lets ``env.get_doctree`` return the doctree it unpickled
for that page before, as long as the page's stored doctree (its file's size and modification
time) is the same.  The resolver only reads that doctree; every other caller of
``env.get_doctree`` gets a fresh copy as before.
"""

from __future__ import annotations

import contextlib
import functools
import os
import weakref

__all__ = ["install"]

# per environment: {docname: ((size, mtime_ns), doctree)}
_READ = weakref.WeakKeyDictionary()


def _stamp(env, docname):
    st = os.stat(os.path.join(env.doctreedir, docname + ".doctree"))
    return st.st_size, st.st_mtime_ns


@contextlib.contextmanager
def _doctrees_read_once(env):
    fresh = env.get_doctree
    seen = _READ.setdefault(env, {})

    def get_doctree(docname):
        stamp = _stamp(env, docname)
        entry = seen.get(docname)
        if entry is None or entry[0] != stamp:
            entry = seen[docname] = (stamp, fresh(docname))
        return entry[1]

    env.get_doctree = get_doctree
    try:
        yield
    finally:
        del env.get_doctree  # the class's method again


def install() -> None:
    """Wrap ``StandardDomain._resolve_numref_xref`` (Sphinx 7.4) so that it reads doctrees once."""
    from sphinx.domains.std import StandardDomain

    original = StandardDomain._resolve_numref_xref
    if getattr(original, "_reads_doctrees_once", False):
        return

    @functools.wraps(original)
    def resolve(self, env, *args, **kwargs):
        with _doctrees_read_once(env):
            return original(self, env, *args, **kwargs)

    resolve._reads_doctrees_once = True
    StandardDomain._resolve_numref_xref = resolve

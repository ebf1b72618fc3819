"""pybtex's plugin lookups, answered once per build instead of once per citation.

pybtex finds its plugins (backends, styles) in the entry points of the installed distributions,
and it reads them again on every lookup: ``importlib.metadata.entry_points(group=..., name=...)``
opens the metadata of every distribution in the environment.  sphinxcontrib-bibtex asks for the
plain-text backend once for every citation it resolves, so the book's few hundred ``{cite}``
references made the lookup about a tenth of a build that executes nothing.  The installed
distributions do not change during a build, so each ``(group, name)`` is looked up once and the
same entry points are returned after that.  Plugins registered at run time
(``pybtex.plugin.register_plugin``) are consulted by pybtex before the entry points, as before.
"""

from __future__ import annotations

import functools

__all__ = ["cached_entry_points", "install"]


def cached_entry_points(lookup):
    """``lookup`` (``importlib.metadata.entry_points``) with its keyword-only queries memoised.

    A call with positional arguments, or with unhashable values, goes to ``lookup`` itself.
    """

    @functools.cache
    def _query(items):
        return lookup(**dict(items))

    @functools.wraps(lookup)
    def entry_points(*args, **kwargs):
        if args:
            return lookup(*args, **kwargs)
        try:
            return _query(tuple(sorted(kwargs.items())))
        except TypeError:  # an unhashable value: not a lookup pybtex makes
            return lookup(**kwargs)

    entry_points.cache_clear = _query.cache_clear
    return entry_points


def install() -> bool:
    """Make :mod:`pybtex.plugin` use :func:`cached_entry_points`; False when pybtex is absent."""
    try:
        from pybtex import plugin
    except ImportError:
        return False
    if not hasattr(plugin.entry_points, "cache_clear"):
        plugin.entry_points = cached_entry_points(plugin.entry_points)
    return True

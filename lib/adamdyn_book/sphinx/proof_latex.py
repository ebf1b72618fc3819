"""sphinx-proof's LaTeX labels and numbers, found for every page, apostrophes in titles included.

In the LaTeX build all pages are one doctree, and sphinx-proof (0.4) names the page a theorem or
proposition lives on by walking up to the section whose ``names`` hold the page's title
(``sphinx_proof.nodes.find_parent``).  Those names are the title as written (``Adam's``), but the
title Sphinx records has been through smart quotes (``Adam’s``), so on a page whose title has an
apostrophe nothing matches: the proposition's label becomes ``None:prop-...``, every reference to
it is undefined in the PDF, and its heading loses its number ("Proposition  (...)").  Sphinx
stamps each section of an inlined page with that page's ``docname``
(``sphinx.util.nodes.inline_all_toctrees``), so the nearest ancestor that carries one names the
page, whatever its title; that is what :func:`page_of` returns.  HTML output never calls it.
"""

from __future__ import annotations

__all__ = ["install", "page_of"]

#: sphinx-proof's own lookup, kept by :func:`install` (the tests show the bug with it)
_ORIGINAL: dict = {}


def page_of(env, node, parent_tag="section"):
    """The ``docname`` of the nearest ancestor of ``node`` that has one, else None.

    Same signature as ``sphinx_proof.nodes.find_parent``, which it replaces (``env`` and
    ``parent_tag`` are not needed: the stamp is on the section itself).
    """
    node = node.parent
    while node is not None:
        docname = node.get("docname") if hasattr(node, "get") else None
        if docname:
            return docname
        node = node.parent
    return None


def install() -> bool:
    """Make sphinx-proof's LaTeX visitors use :func:`page_of`; False when sphinx-proof is absent."""
    try:
        from sphinx_proof import nodes
    except ImportError:
        return False
    if nodes.find_parent is not page_of:
        _ORIGINAL.setdefault("find_parent", nodes.find_parent)
        nodes.find_parent = page_of
    return True

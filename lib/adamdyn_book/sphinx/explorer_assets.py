"""The explorer's scripts are loaded only where an explorer is.

Jupyter Book links every ``.js`` and ``.css`` file under ``_static`` into every page; the
explorer's (``_static/explorer/``) are kept out of that list and linked only into pages whose
body holds an element with the :data:`EXPLORER_MARK` attribute (see :mod:`adamdyn_book.explorer`).
"""

from __future__ import annotations

__all__ = ["EXPLORER_JS", "EXPLORER_CSS", "EXPLORER_MARK"]

#: The explorer's static files (under ``_static``), in load order, and the mark of a page that uses them.
EXPLORER_JS = ("explorer/explorer-core.js", "explorer/explorer.js")

EXPLORER_CSS = ("explorer/explorer.css",)

EXPLORER_MARK = "data-adam-explorer"


def _on_config_inited(app, config):
    explorer = set(EXPLORER_JS + EXPLORER_CSS)
    for name in ("html_js_files", "html_css_files"):
        files = getattr(config, name, None) or []
        setattr(config, name, [f for f in files if (f[0] if isinstance(f, (tuple, list)) else f) not in explorer])


def _on_html_page_context(app, pagename, templatename, context, doctree):
    """Link the explorer's scripts and style into a page that holds an explorer."""
    if EXPLORER_MARK not in (context.get("body") or ""):
        return
    for js in EXPLORER_JS:  # the builder's lists are reset after each page: this page only
        app.builder.add_js_file(js)
    for css in EXPLORER_CSS:
        app.builder.add_css_file(css)

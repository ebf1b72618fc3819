"""Repairs of what the theme's extensions write into every page."""

from __future__ import annotations


def _dedupe_scripts(context):
    """Drop repeated inline scripts: sphinx-thebe registers its `const THEBE_JS_URL = ...`
    twice under jupyter-book 1.0.4, a JavaScript SyntaxError on every page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        key = (getattr(js, "filename", str(js)) or "", getattr(js, "attributes", {}).get("body"))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    context["script_files"] = kept


def _on_html_page_context(app, pagename, templatename, context, doctree):
    _dedupe_scripts(context)

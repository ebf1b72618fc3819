"""Each executed notebook is offered for download (``.ipynb`` in the page's download menu), with
its outputs and without the hidden stamp cell; two builds of the same sources give the same file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .cache_keys import STAMP_TAG, _stamps


def _with_cached_outputs(app, nb):
    """The notebook with the outputs of its cache entry (myst-nb 1.4 writes a notebook served
    from the cache to jupyter_execute/ without its outputs)."""
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return nb
    try:
        from jupyter_cache import get_cache

        return get_cache(config.execution_cache_path).merge_match_into_notebook(nb)[1]
    except KeyError:
        return nb


def _on_html_page_context(app, pagename, templatename, context, doctree):
    """Put the executed notebook next to the page's source and offer it for download."""
    import nbformat

    if pagename not in _stamps(app.env):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / (pagename + ".ipynb")
    if not executed.is_file():
        return
    nb = nbformat.read(executed, as_version=4)
    nb = _with_cached_outputs(app, nb)
    keep = [STAMP_TAG not in c.get("metadata", {}).get("tags", []) for c in nb.cells]
    nb.cells = [c for c, k in zip(nb.cells, keep) if k]
    source_map = nb.metadata.get("source_map")
    if isinstance(source_map, list) and len(source_map) == len(keep):
        nb.metadata["source_map"] = [line for line, k in zip(source_map, keep) if k]
    for index, cell in enumerate(nb.cells):
        # the reader gives each cell a random id; one from its place and source keeps the file stable
        cell["id"] = hashlib.sha256(f"{index}\n{cell.source}".encode()).hexdigest()[:8]
    target = Path(app.outdir) / "_sources" / (pagename + ".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    context["ipynb_source"] = pagename + ".ipynb"

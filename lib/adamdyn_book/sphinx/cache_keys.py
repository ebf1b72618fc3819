"""Cache keys that cover the library: a hidden stamp cell per chapter, and outdated pages.

For every chapter the hash of the library modules it depends on (:mod:`.libgraph`) goes into a
hidden last cell (tagged ``remove-cell`` and :data:`STAMP_TAG`), so it is part of the notebook
jupyter-cache hashes: a library edit changes exactly the notebooks that depend on it, which miss
the cache and are executed again; reverting the edit hits the old entry.  The same hash, kept in
the Sphinx environment, marks the page outdated for an incremental build (``env-get-outdated``),
so Sphinx re-reads it even though its own source did not change.
"""

from __future__ import annotations

from .libgraph import LibGraph, code_of, distribution_versions, imported_names, is_notebook, lib_stamp

__all__ = ["STAMP_TAG"]

#: Tag of the hidden cell that carries a chapter's library hash.
STAMP_TAG = "adamdyn-lib-stamp"


def _stamp_cell(stamp: str, modules) -> str:
    listed = ", ".join(modules) if modules else "none"
    return (f"\n\n```{{code-cell}} ipython3\n:tags: [remove-cell, {STAMP_TAG}]\n\n"
            f"# adamdyn_book lib stamp: {stamp}\n# depends on: {listed}\n```\n")


def _graph(app) -> LibGraph:
    graph = getattr(app, "_adamdyn_lib_graph", None)
    if graph is None:
        graph = LibGraph(app.config.book_cache_packages)
        missing = [p for p in app.config.book_cache_packages if p not in graph.package_of.values()]
        if missing:
            from sphinx.util import logging

            # without its sources an edit to the package could not invalidate cached notebooks
            logging.getLogger(__name__).warning(
                "book_cache_packages: cannot import %s from the build's Python", ", ".join(missing),
                type="adamdyn", subtype="cache")
        app._adamdyn_lib_graph = graph
        app._adamdyn_versions = distribution_versions(app.config.book_cache_distributions)
    return graph


def _stamps(env) -> dict:
    if not hasattr(env, "adamdyn_lib_stamps"):
        env.adamdyn_lib_stamps = {}
    return env.adamdyn_lib_stamps


def _on_source_read(app, docname, source):
    text = source[0]
    if not is_notebook(text):
        _stamps(app.env).pop(docname, None)
        return
    graph = _graph(app)
    direct = sorted(imported_names(code_of(text)) & graph.modules.keys())
    modules = graph.closure(direct)
    stamp = lib_stamp(modules, graph, app._adamdyn_versions)
    _stamps(app.env)[docname] = (direct, stamp)
    source[0] = text.rstrip("\n") + "\n" + _stamp_cell(stamp, modules)


def _on_env_get_outdated(app, env, added, changed, removed):
    graph = _graph(app)
    outdated = []
    for docname, (direct, stamp) in list(_stamps(env).items()):
        if docname in added or docname in changed or docname in removed:
            continue
        if lib_stamp(graph.closure(direct), graph, app._adamdyn_versions) != stamp:
            outdated.append(docname)
    return outdated


def _on_env_purge_doc(app, env, docname):
    _stamps(env).pop(docname, None)


def _on_env_merge_info(app, env, docnames, other):
    _stamps(env).update({d: v for d, v in _stamps(other).items() if d in docnames})

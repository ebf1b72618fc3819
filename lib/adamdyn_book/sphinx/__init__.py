"""The book's Sphinx extension (``sphinx.extra_extensions: [adamdyn_book.sphinx]`` in ``_config.yml``).

One module per concern:

* :mod:`.libgraph` and :mod:`.cache_keys`: **the execution cache is keyed on the library too.**
  A chapter's key covers the sources of the modules of ``book_cache_packages`` (default
  ``["adamdyn", "adamdyn_book"]``) that it imports, closed over their own imports, and the
  versions of Python and of ``book_cache_distributions``; a library edit re-executes exactly
  the chapters that depend on it, never showing a stale result.
* :mod:`.execution`: the notebooks that miss the cache are **executed in parallel**
  (``book_execute_workers``, default 2) over IPC kernels, while Sphinx reads the pages already
  executed; the cache is **pruned** to the ``book_cache_keep`` (default 3) most recently used
  entries of each notebook; the pages are **written in parallel** (``book_write_workers``,
  default 2).
* :mod:`.offline`: **MathJax is served from the book** (``_static/mathjax``), never from a CDN.
* :mod:`.downloads`: **each executed notebook is offered for download**, with its outputs.
* :mod:`.explorer_assets`: **the explorer's scripts load only where an explorer is.**
* :mod:`.ledger_data`: **the ledger as data**: ``ledger.csv`` and ``ledger.json`` beside its page.
* :mod:`.verdicts`: **a verdict box at the top of every chapter**, generated from the ledger's rows
  ([Re] / [not Re] / corrected / depends on an unstated setting / untestable), each linking to the
  deciding section; a change of the ledger rewrites every page whose box changed.
* :mod:`.links`: **every internal link and ``#anchor`` of the built HTML is checked.**
* :mod:`.status`: **the execution-status page**: each chapter's execution time, cache state and
  result in the last build, and the environment (``{execution-status}``, ``{environment-table}``).
* :mod:`.theme_fixes`: a doubled inline script of the theme is dropped.
* :mod:`.plugin_lookup`: pybtex's plugin lookups are answered once per build, not once per citation.
* :mod:`.numref_targets`: a numbered reference reads its target page's doctree once, not once per reference.
* :mod:`.proof_latex`: in the PDF, sphinx-proof's propositions keep their labels and numbers on pages
  whose title has an apostrophe.

It also sets ``ADAMDYN_BOOK_BUILD=1`` so that :func:`adamdyn_book.progress.progress` stays
silent in built pages.
"""

from __future__ import annotations

import os

from .. import progress as _progress
from . import (cache_keys, downloads, execution, explorer_assets, ledger_data, links, numref_targets, offline, plugin_lookup,
               proof_latex, status, theme_fixes, verdicts)

__all__ = ["setup"]


def _on_config_inited(app, config):
    # kernels started by the build inherit this: progress() stays silent in pages
    os.environ[_progress.BUILD_ENV] = "1"


def setup(app):
    plugin_lookup.install()
    numref_targets.install()
    proof_latex.install()
    app.add_config_value("book_cache_packages", ["adamdyn", "adamdyn_book"], "env")
    app.add_config_value("book_cache_keep", 3, "")
    app.add_config_value("book_execute_workers", min(2, os.cpu_count() or 1), "")
    app.add_config_value("book_kernel_zygote", True, "")
    app.add_config_value("book_write_workers", min(2, os.cpu_count() or 1), "")
    app.add_config_value("book_cache_distributions",
                         ["numpy", "scipy", "sympy", "numba", "matplotlib", "jax", "jaxlib", "optax",
                          "scikit-learn", "myst-nb", "ipykernel"], "env")
    app.connect("config-inited", _on_config_inited)
    app.connect("config-inited", offline._on_config_inited)
    app.connect("config-inited", explorer_assets._on_config_inited)
    app.connect("builder-inited", offline._on_builder_inited)
    app.connect("builder-inited", execution._on_builder_inited_start_zygote, priority=900)  # after myst-nb's
    app.connect("source-read", cache_keys._on_source_read)
    app.connect("source-read", execution._on_source_read_wait)
    app.connect("doctree-read", offline._on_doctree_read)
    app.connect("env-get-outdated", cache_keys._on_env_get_outdated)
    app.connect("env-before-read-docs", execution._on_env_before_read_docs, priority=900)
    app.connect("env-purge-doc", cache_keys._on_env_purge_doc)
    app.connect("env-merge-info", cache_keys._on_env_merge_info)
    app.connect("html-page-context", explorer_assets._on_html_page_context, priority=400)  # before the dedupe
    app.connect("html-page-context", theme_fixes._on_html_page_context, priority=500)
    app.connect("html-page-context", downloads._on_html_page_context, priority=500)
    app.connect("build-finished", offline._on_build_finished_copy_mathjax)
    app.connect("env-updated", execution._on_env_updated_close, priority=100)  # before the verdicts
    app.connect("env-updated", execution._on_env_updated_parallel_write)
    app.connect("build-finished", execution._on_build_finished_close, priority=100)
    app.connect("build-finished", execution._on_build_finished_prune_cache)
    app.connect("build-finished", links._on_build_finished_check_links, priority=900)  # after all copies
    status.setup(app)
    ledger_data.setup(app)
    verdicts.setup(app)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 2}  # 2: the verdict boxes' placeholders in every doctree

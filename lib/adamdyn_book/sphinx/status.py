"""The execution-status page: how every chapter fared in the last build, and in which environment.

QuantEcon's lectures publish such a page; this one has two directives:

``{execution-status}``
    One row per executed chapter: its execution time, its cache state (executed by this build, or
    served from the cache that an earlier build filled) and its result.  The numbers are those
    myst-nb records while it reads each notebook, so the table is filled in after every document
    has been read (a placeholder node and a post-transform, as myst-nb's own ``nb-exec-table``).
``{environment-table}``
    Python and every pinned distribution the book declares (the ``adamdyn`` distribution's
    requirements, book and test extras included), with the installed version.

Both pages change with every build by design; the chapters themselves carry no timings, so two
builds of one commit give identical chapters.
"""

from __future__ import annotations

import platform
import re
import time
from importlib import metadata

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective

__all__ = ["cache_state", "pinned_distributions", "setup"]


_HAS_STATUS = "adamdyn_has_execution_status"
_REQUIREMENT_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^;\s]+)")


class _StatusNode(nodes.General, nodes.Element):
    """Placeholder for the execution-status table, replaced once every chapter has been read."""


def cache_state(executed_at: float | None, build_started: float) -> str:
    """``"executed"`` if the chapter's cache entry was made by this build, else ``"cached"``.

    Parameters
    ----------
    executed_at : float or None
        POSIX time of the cache entry (myst-nb's ``exec_data["mtime"]``).
    build_started : float
        POSIX time at which this build started.
    """
    if executed_at is None:
        return "not executed"
    return "executed" if executed_at >= build_started else "cached"


def pinned_distributions(distribution: str = "adamdyn") -> list[tuple[str, str, str]]:
    """``(name, pinned, installed)`` for every ``name==version`` requirement of ``distribution``.

    The installed version is ``"missing"`` when the distribution is not installed (an optional
    extra the reader did not ask for).
    """
    rows = []
    for requirement in metadata.requires(distribution) or []:
        match = _REQUIREMENT_RE.match(requirement)
        if match is None:
            continue
        name, pinned = match.groups()
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "missing"
        rows.append((name, pinned, installed))
    return rows


def _table(header, rows) -> nodes.table:
    table = nodes.table(classes=["colwidths-auto"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in header)
    head, body = nodes.thead(), nodes.tbody()
    group += head
    group += body
    for cells, parent in [(header, head)] + [(r, body) for r in rows]:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += cell if isinstance(cell, nodes.Node) else nodes.paragraph(text=str(cell))
            row += entry
        parent += row
    return table


class ExecutionStatus(SphinxDirective):
    """Place the execution-status table here (filled in after every chapter has been read)."""

    def run(self):
        from myst_nb.sphinx_ import NbMetadataCollector

        NbMetadataCollector.set_doc_data(self.env, self.env.docname, _HAS_STATUS, True)
        return [_StatusNode()]


class EnvironmentTable(SphinxDirective):
    """A table of Python and the book's pinned distributions with their installed versions."""

    def run(self):
        rows = [("Python", "3.11 or newer", platform.python_version())]
        rows += pinned_distributions()
        return [_table(("package", "pinned", "installed in this build"), rows)]


class _FillStatus(SphinxPostTransform):
    default_priority = 8  # before the reference resolvers, which resolve our pending_xref links

    def run(self, **kwargs):
        from myst_nb.sphinx_ import NbMetadataCollector

        placeholders = list(self.document.findall(_StatusNode))
        if not placeholders:
            return
        started = getattr(self.app, "_adamdyn_build_started", time.time())
        data = NbMetadataCollector.get_doc_data(self.env)
        rows = []
        for docname in sorted(data):
            exec_data = data[docname].get("exec_data")
            if not exec_data:
                continue
            link = pending_xref(refdoc=self.env.docname, refdomain="std", reftype="doc", refexplicit=True,
                                reftarget="/" + docname, classes=["xref", "doc"])
            link += nodes.inline(text=self.env.titles[docname].astext() if docname in self.env.titles else docname)
            runtime = exec_data.get("runtime")
            rows.append((nodes.paragraph("", "", link),
                         "-" if runtime is None else f"{runtime:.1f}",
                         cache_state(exec_data.get("mtime"), started),
                         "passed" if exec_data.get("succeeded") else "failed"))
        for node in placeholders:
            node.replace_self(_table(("chapter", "execution time (s)", "cache", "result"), rows))


def _on_builder_inited(app):
    app._adamdyn_build_started = time.time()


def _on_env_get_outdated(app, env, added, changed, removed):
    """Re-read the status pages on every build: their tables are the build's."""
    from myst_nb.sphinx_ import NbMetadataCollector

    return [d for d, v in NbMetadataCollector.get_doc_data(env).items() if v.get(_HAS_STATUS) and d in env.found_docs]


def setup(app):
    app.add_node(_StatusNode)
    app.add_directive("execution-status", ExecutionStatus)
    app.add_directive("environment-table", EnvironmentTable)
    app.add_post_transform(_FillStatus)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("env-get-outdated", _on_env_get_outdated)

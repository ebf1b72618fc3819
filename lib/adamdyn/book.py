"""Build support for the book: never-stale caching, offline MathJax, notebook downloads, progress.

As a Sphinx extension (``sphinx.extra_extensions: [adamdyn.book]`` in ``_config.yml``) it

* **keys the execution cache on the library too.**  jupyter-cache (``execute_notebooks: cache``)
  hashes only a notebook's code, so an edit to ``lib/adamdyn`` would otherwise show stale
  results.  For every chapter we find the modules of the packages named in the config value
  ``book_cache_packages`` (default ``["adamdyn"]``) that the chapter imports, close that set
  over the modules' own imports (a module that imports dynamically, with ``importlib``, counts
  as importing its whole package), and hash their sources together with the versions of the
  distributions in ``book_cache_distributions`` and the Python version.  The hash goes into a
  hidden last cell of the chapter (tagged ``remove-cell``), so it is part of the notebook
  jupyter-cache hashes: a library edit changes exactly the notebooks that depend on it, which
  then miss the cache and are executed again; reverting the edit hits the old entry.  The same
  hash, kept in the Sphinx environment, marks the page outdated for an incremental build
  (``env-get-outdated``), so Sphinx re-reads it even though its own source did not change.
* **executes the notebooks that miss the cache in parallel** (``book_execute_workers``, default
  2) before Sphinx reads them one by one, so a cold build takes the time of the slowest chain,
  not the sum of all chapters.  Its kernels talk to the build over IPC (Unix sockets in the
  Jupyter runtime folder), not plain TCP on localhost, so they neither expose the code on a port
  nor log ipykernel's warning about unencrypted TCP into the build log.
* **prunes the cache** to the ``book_cache_keep`` (default 3) most recently used entries of each
  notebook, so that it does not grow with every library edit.
* **serves MathJax from the book** (``_static/mathjax``), copied from the
  ``sphinx-mathjax-offline`` distribution (MathJax 3.2.2), never from a CDN.
* **offers each executed notebook for download** (``.ipynb`` in the page's download menu).
* **loads the explorer's scripts only where an explorer is.**  Jupyter Book links every ``.js``
  and ``.css`` file under ``_static`` into every page; the explorer's (``_static/explorer/``)
  are kept out of that list and linked only into pages whose body holds an element with the
  ``data-adam-explorer`` attribute (see :mod:`adamdyn.explorer`).
* **checks every internal link and ``#anchor`` of the built HTML** when the build finishes
  (a broken one is a warning, so an error under ``--warningiserror``).
* sets ``ADAMDYN_BOOK_BUILD=1`` so that :func:`progress` stays silent in built pages.

Imported in a notebook only :func:`progress` is meant for use; it imports nothing heavy.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from traitlets.config import Config

__all__ = ["progress", "interactive", "lib_dependencies", "lib_stamp", "broken_internal_links", "setup"]

#: Tag of the hidden cell that carries a chapter's library hash.
STAMP_TAG = "adamdyn-lib-stamp"
_STAMP_RE = re.compile(r"^# adamdyn\.book lib stamp: ([0-9a-f]+)", re.M)
_BUILD_ENV = "ADAMDYN_BOOK_BUILD"
_PROGRESS_ENV = "ADAMDYN_PROGRESS"
_MATHJAX_DIST = "sphinx-mathjax-offline"
_MATHJAX_ENTRY = "mathjax/tex-chtml.js"
#: The explorer's static files (under ``_static``), in load order, and the mark of a page that uses them.
EXPLORER_JS = ("explorer/explorer-core.js", "explorer/explorer.js")
EXPLORER_CSS = ("explorer/explorer.css",)
EXPLORER_MARK = "data-adam-explorer"


# ---------------------------------------------------------------------------------------------
# progress: visible when a person runs the notebook, silent in the built book
# ---------------------------------------------------------------------------------------------

def interactive() -> bool:
    """Whether progress should be shown.

    ``ADAMDYN_PROGRESS=1`` / ``0`` decides if set.  Otherwise progress is hidden during a book
    build (``ADAMDYN_BOOK_BUILD`` is set by this extension and inherited by the kernels) and
    shown in a Jupyter kernel or on a terminal.
    """
    forced = os.environ.get(_PROGRESS_ENV)
    if forced is not None:
        return forced.strip().lower() not in ("", "0", "false", "no", "off")
    if os.environ.get(_BUILD_ENV):
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


# ---------------------------------------------------------------------------------------------
# which library sources a chapter depends on
# ---------------------------------------------------------------------------------------------

_CODE_CELL_RE = re.compile(r"^(`{3,}|~{3,})\{code-cell\}[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)
_IMPORT_LINE_RE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([^#\n]+)|import\s+([^#\n]+))", re.M)


def _package_modules(package: str) -> dict[str, Path]:
    """``{dotted module name: source file}`` of an importable package (or single module)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None:
        return {}
    if not spec.submodule_search_locations:
        return {package: Path(spec.origin)} if spec.origin and spec.origin.endswith(".py") else {}
    out = {}
    for location in spec.submodule_search_locations:
        root = Path(location)
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            if any(part.startswith(".") or part == "__pycache__" for part in rel):
                continue
            out[".".join((package,) + rel)] = path
    return out


def _imported_names(source: str, current: str | None = None, is_package: bool = False) -> set[str]:
    """Dotted names a piece of code imports (with their parent packages).

    ``current`` is the module the code belongs to, to resolve relative imports.  Code that does
    not parse (IPython magics) falls back to reading ``import`` lines.
    """
    names: set[str] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        for m in _IMPORT_LINE_RE.finditer(source):
            if m.group(1):
                base = m.group(1)
                names.add(base)
                for alias in m.group(2).replace("(", " ").replace(")", " ").split(","):
                    if alias.split():
                        names.add(f"{base}.{alias.split()[0]}")
            else:
                for alias in m.group(3).split(","):
                    if alias.split():
                        names.add(alias.split()[0])
    else:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    if current is None:
                        continue
                    parts = current.split(".") if is_package else current.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
    # importing a.b.c runs a/__init__ and a/b/__init__ too
    return {".".join(n.split(".")[: k + 1]) for n in names if n for k in range(n.count(".") + 1)}


def _dynamic_import(source: str) -> bool:
    """Whether code calls ``importlib.import_module`` or ``__import__`` (or cannot be parsed)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                return True
    return False


class _LibGraph:
    """The import graph of the cached packages' modules, read once per build."""

    def __init__(self, packages):
        self.modules: dict[str, Path] = {}
        self.package_of: dict[str, str] = {}
        for package in packages:
            for name, path in _package_modules(package).items():
                self.modules[name] = path
                self.package_of[name] = package
        self.sources = {name: path.read_bytes() for name, path in self.modules.items()}
        self.edges: dict[str, set[str]] = {}
        for name, path in self.modules.items():
            text = self.sources[name].decode("utf-8", "replace")
            deps = _imported_names(text, name, path.name == "__init__.py") & self.modules.keys()
            if _dynamic_import(text):
                deps |= {m for m, p in self.package_of.items() if p == self.package_of[name]}
            self.edges[name] = deps - {name}

    def closure(self, names) -> list[str]:
        todo = [n for n in names if n in self.modules]
        seen: set[str] = set()
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.edges[n] - seen)
        return sorted(seen)


def _code_of(text: str) -> str:
    cells = []
    for m in _CODE_CELL_RE.finditer(text):
        body = m.group(2)
        # drop the cell's option block (":tags: ..." lines or a --- yaml block) and magics
        lines = [ln for ln in body.splitlines() if not re.match(r"\s*(:\w[\w-]*:|[%!])", ln)]
        cells.append("\n".join(lines))
    return "\n".join(cells)


def lib_dependencies(text: str, graph: _LibGraph) -> list[str]:
    """Library modules a MyST notebook's code cells depend on (directly or through the lib)."""
    return graph.closure(_imported_names(_code_of(text)))


def _distribution_versions(names) -> str:
    from importlib import metadata

    out = [f"python {sys.version.split()[0]}"]
    for name in names:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} -")
    return "; ".join(out)


def lib_stamp(modules, graph: _LibGraph, versions: str) -> str:
    """Hash of the given modules' sources and of the environment's versions."""
    h = hashlib.sha256(versions.encode())
    for name in modules:
        h.update(b"\0" + name.encode() + b"\0" + graph.sources[name])
    return h.hexdigest()[:20]


def _is_notebook(text: str) -> bool:
    return _CODE_CELL_RE.search(text) is not None


def _stamp_cell(stamp: str, modules) -> str:
    listed = ", ".join(modules) if modules else "none"
    return (f"\n\n```{{code-cell}} ipython3\n:tags: [remove-cell, {STAMP_TAG}]\n\n"
            f"# adamdyn.book lib stamp: {stamp}\n# depends on: {listed}\n```\n")


# ---------------------------------------------------------------------------------------------
# Sphinx hooks
# ---------------------------------------------------------------------------------------------

def _graph(app) -> _LibGraph:
    graph = getattr(app, "_adamdyn_lib_graph", None)
    if graph is None:
        graph = _LibGraph(app.config.book_cache_packages)
        missing = [p for p in app.config.book_cache_packages if p not in graph.package_of.values()]
        if missing:
            from sphinx.util import logging

            # without its sources an edit to the package could not invalidate cached notebooks
            logging.getLogger(__name__).warning(
                "book_cache_packages: cannot import %s from the build's Python", ", ".join(missing),
                type="adamdyn", subtype="cache")
        app._adamdyn_lib_graph = graph
        app._adamdyn_versions = _distribution_versions(app.config.book_cache_distributions)
    return graph


def _stamps(env) -> dict:
    if not hasattr(env, "adamdyn_lib_stamps"):
        env.adamdyn_lib_stamps = {}
    return env.adamdyn_lib_stamps


def _on_config_inited(app, config):
    # kernels started by the build inherit this: progress() stays silent in pages
    os.environ[_BUILD_ENV] = "1"
    path = config.mathjax_path or ""
    if not path or "://" in path or path.startswith("//"):
        config.mathjax_path = _MATHJAX_ENTRY
    # the explorer's files are linked only into the pages that hold an explorer
    explorer = set(EXPLORER_JS + EXPLORER_CSS)
    for name in ("html_js_files", "html_css_files"):
        files = getattr(config, name, None) or []
        setattr(config, name, [f for f in files if (f[0] if isinstance(f, (tuple, list)) else f) not in explorer])


def _on_html_page_context_explorer(app, pagename, templatename, context, doctree):
    """Link the explorer's scripts and style into a page that holds an explorer."""
    if EXPLORER_MARK not in (context.get("body") or ""):
        return
    for js in EXPLORER_JS:  # the builder's lists are reset after each page: this page only
        app.builder.add_js_file(js)
    for css in EXPLORER_CSS:
        app.builder.add_css_file(css)


def _on_source_read(app, docname, source):
    text = source[0]
    if not _is_notebook(text):
        _stamps(app.env).pop(docname, None)
        return
    graph = _graph(app)
    direct = sorted(_imported_names(_code_of(text)) & graph.modules.keys())
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


def _mathjax_source() -> Path:
    from importlib import metadata

    try:
        dist = metadata.distribution(_MATHJAX_DIST)
    except metadata.PackageNotFoundError:
        from sphinx.errors import ExtensionError

        raise ExtensionError(f"adamdyn.book serves MathJax from the {_MATHJAX_DIST!r} package; "
                             "install the book environment (make env)") from None
    return Path(dist.locate_file(f"{_MATHJAX_DIST}/static/mathjax"))


def _on_builder_inited(app):
    if app.builder.format == "html":
        _mathjax_source()  # fail early, not after executing every chapter


# ---------------------------------------------------------------------------------------------
# internal link check of the built HTML
# ---------------------------------------------------------------------------------------------

_LINK_ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src",
               "video": "src", "iframe": "src", "embed": "src"}
_EXTERNAL_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|//)")


def _parse_html(path: Path):
    """(ids, links) of an HTML file: every id/name anchor, and every (tag, url) it refers to."""
    from html.parser import HTMLParser

    ids: set[str] = set()
    links: list[tuple[str, str]] = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            for key in ("id", "name"):
                if attrs.get(key):
                    ids.add(attrs[key])
            url = attrs.get(_LINK_ATTRS.get(tag, ""))
            if url is not None:
                links.append((tag, url))

    parser = Parser(convert_charrefs=True)
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return ids, links


def broken_internal_links(html_dir) -> list[str]:
    """Every internal link of a built HTML book whose file or ``#anchor`` does not exist.

    External URLs (with a scheme, e.g. ``https:``, ``mailto:``, ``data:``) are not followed.
    Pages under ``_static``/``_sources`` etc. (theme templates, sources) are not checked.
    """
    from urllib.parse import unquote, urlsplit

    root = Path(html_dir).resolve()
    cache: dict[Path, tuple[set, list]] = {}

    def parsed(path):
        if path not in cache:
            cache[path] = _parse_html(path)
        return cache[path]

    broken = []
    pages = sorted(p for p in root.rglob("*.html") if not p.relative_to(root).parts[0].startswith("_"))
    for page in pages:
        rel = page.relative_to(root).as_posix()
        for tag, url in parsed(page)[1]:
            url = url.strip()
            if not url or _EXTERNAL_RE.match(url):
                continue
            parts = urlsplit(url)
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if root != target and root not in target.parents:
                broken.append(f"{rel}: <{tag}> {url} points outside the book")
            elif not target.is_file():
                broken.append(f"{rel}: <{tag}> {url} (no such file)")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in parsed(target)[0]:
                broken.append(f"{rel}: <{tag}> {url} (no such anchor)")
    return broken


def _on_build_finished_check_links(app, exception):
    if exception is not None or app.builder is None or app.builder.name not in ("html", "dirhtml"):
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for problem in broken_internal_links(app.outdir):
        logger.warning("broken internal link: %s", problem, type="adamdyn", subtype="links")


def _ipc_kernel_config(folder: str) -> Config:
    """Kernel-manager configuration for one kernel over IPC, its sockets under ``folder``.

    Each kernel gets a folder of its own: jupyter_client picks IPC "ports" by looking for
    existing socket files, so two kernels started at once under one prefix could pick the same.
    """
    return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(folder, "kernel")}})


def _on_env_before_read_docs(app, env, docnames):
    """Execute the notebooks about to be read that miss the cache, ``book_execute_workers`` at a
    time, and put them in the cache; the (serial) read then finds every one there.

    Speed and the kernels' transport (IPC) are at stake: a notebook whose key we do not
    reproduce exactly, or that fails, is left to myst-nb, which executes it (again, over TCP) and
    reports its error as usual.
    """
    config = getattr(env, "mystnb_config", None)
    workers = int(app.config.book_execute_workers or 0)
    if config is None or config.execution_mode != "cache" or workers < 1:
        return
    from concurrent.futures import ThreadPoolExecutor

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.executors.utils import single_nb_execution
    from myst_nb.core.read import create_nb_reader

    cache = get_cache(config.execution_cache_path)
    jobs = []
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if not _is_notebook(text):
            continue
        source = [text]
        _on_source_read(app, docname, source)  # the same hidden stamp cell as the real read
        reader = create_nb_reader(str(path), env.myst_config, config, source[0])
        if reader is None:
            continue
        nb = reader.read(source[0])
        if config.metadata_key in nb.metadata:
            continue  # per-notebook execution options: leave it to myst-nb
        try:
            cache.match_cache_notebook(nb)
            continue
        except KeyError:
            jobs.append((path, nb))
    if not jobs:
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    logger.info("executing %d notebooks, %d at a time", len(jobs), workers)

    def execute(job):
        path, nb = job
        # a short path: a Unix socket's name is limited to about a hundred bytes
        with tempfile.TemporaryDirectory(prefix="adamdyn-ipc-", dir="/tmp" if os.path.isdir("/tmp") else None) as ipc:
            return path, single_nb_execution(nb, cwd=str(path.parent), timeout=config.execution_timeout,
                                             allow_errors=config.execution_allow_errors, meta_override=True,
                                             config=_ipc_kernel_config(ipc))

    # longest first would be ideal; the cache's last execution times give a proxy when known
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for path, result in pool.map(execute, jobs):
            if result.err is None:
                cache.cache_notebook_bundle(
                    CacheBundleIn(result.nb, str(path), data={"execution_seconds": result.time}),
                    check_validity=False, overwrite=True)
                logger.info("executed %s in %.1f s", path.name, result.time)


def _on_build_finished_prune_cache(app, exception):
    """Keep the ``book_cache_keep`` most recently used cache entries of each notebook.

    Each library edit adds entries (the key changes); without pruning the cache only grows.
    Keeping a few lets a reverted edit still hit the cache.
    """
    if exception is not None or getattr(app.env, "mystnb_config", None) is None:
        return
    if app.env.mystnb_config.execution_mode != "cache":
        return
    path = Path(app.env.mystnb_config.execution_cache_path)
    if not path.is_dir():
        return
    from jupyter_cache import get_cache

    cache = get_cache(str(path))
    by_uri: dict[str, list] = {}
    for record in cache.list_cache_records():
        by_uri.setdefault(record.uri, []).append(record)
    for records in by_uri.values():
        records.sort(key=lambda r: (r.accessed, r.pk), reverse=True)
        for record in records[max(1, int(app.config.book_cache_keep)):]:
            try:
                cache.remove_cache(record.pk)
            except KeyError:  # its files are already gone; pruning is best effort
                pass


# matplotlib's JavaScript animation player (FuncAnimation.to_jshtml) links Font Awesome 4 from a
# CDN; the theme already ships Font Awesome, so the page needs no network for the player's icons.
_CDN_FONT_AWESOME_RE = re.compile(r"<link[^>]*//maxcdn\.bootstrapcdn\.com/font-awesome/[^>]*>\s*")


def _on_doctree_read(app, doctree):
    from docutils import nodes

    for node in list(doctree.findall(nodes.raw)):
        if "html" in node.get("format", "").split() and _CDN_FONT_AWESOME_RE.search(node.astext()):
            text = _CDN_FONT_AWESOME_RE.sub("", node.astext())
            node.replace_self(nodes.raw(text, text, format=node["format"], classes=node["classes"]))


def _on_build_finished(app, exception):
    if exception is not None or app.builder is None or app.builder.format != "html":
        return
    from importlib import metadata

    from sphinx.util.fileutil import copy_asset

    src = _mathjax_source()
    dst = Path(app.outdir) / "_static" / "mathjax"
    marker = dst / ".adamdyn-version"
    version = metadata.version(_MATHJAX_DIST)
    if marker.is_file() and marker.read_text() == version and (dst / "tex-chtml.js").is_file():
        return
    copy_asset(str(src), str(dst))
    marker.write_text(version)


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

    _dedupe_scripts(context)
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
    target = Path(app.outdir) / "_sources" / (pagename + ".ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    context["ipynb_source"] = pagename + ".ipynb"


def setup(app):
    app.add_config_value("book_cache_packages", ["adamdyn"], "env")
    app.add_config_value("book_cache_keep", 3, "")
    app.add_config_value("book_execute_workers", min(2, os.cpu_count() or 1), "")
    app.add_config_value("book_cache_distributions",
                         ["numpy", "scipy", "sympy", "numba", "matplotlib", "myst-nb", "ipykernel"], "env")
    app.connect("config-inited", _on_config_inited)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("source-read", _on_source_read)
    app.connect("doctree-read", _on_doctree_read)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.connect("env-before-read-docs", _on_env_before_read_docs, priority=900)
    app.connect("env-purge-doc", _on_env_purge_doc)
    app.connect("env-merge-info", _on_env_merge_info)
    app.connect("html-page-context", _on_html_page_context_explorer, priority=400)  # before the dedupe
    app.connect("html-page-context", _on_html_page_context, priority=500)
    app.connect("build-finished", _on_build_finished)
    app.connect("build-finished", _on_build_finished_prune_cache)
    app.connect("build-finished", _on_build_finished_check_links, priority=900)  # after all copies
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}

"""Fast rebuilds never show stale results.

The book executes chapters through jupyter-cache, whose key is the notebook's code only.
adamdyn_book.sphinx adds the sources of the library modules a chapter imports to that key.  A tiny
synthetic book (the real _config.yml, two chapters, a two-module library `tinylib`) shows:
an unchanged rebuild executes nothing; an edit to `tinylib/a.py` re-executes the chapter that
imports it, and only that one, and its page shows the new value; reverting hits the cache.
"""

import os
import sys
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

from adamdyn_book.sphinx.libgraph import (LibGraph, distribution_versions, imported_names, is_notebook,
                                          lib_dependencies, lib_stamp)
from conftest import MYST_HEAD, build_synthetic_book

ROOT = Path(__file__).resolve().parents[1]

CHAPTER = MYST_HEAD + """({name})=
# Chapter {name}

```{{code-cell}} ipython3
:tags: [parameters]

seed = 0
```

```{{code-cell}} ipython3
import os
from myst_nb import glue
from tinylib.{module} import VALUE
with open(os.environ["EXEC_LOG"], "a") as f:
    f.write("{name}\\n")
glue("value", VALUE, display=False)
from adamdyn_book.progress import progress
steps = sum(1 for _ in progress(range(5), label="sweeping"))  # silent in the built page
```

```{{code-cell}} ipython3
import sympy
sympy.init_printing()  # in a notebook this offers both a PNG and LaTeX of each expression
sympy.Symbol("beta") ** 2
```

{prose} The value is {{glue:text}}`value`.
"""


class Book:
    def __init__(self, root: Path):
        self.src, self.out, self.log = root / "src", root / "out", root / "exec.log"
        self.pages = {"intro": "# Intro\n\nChapters {ref}`ca` and {ref}`cb`.\n",
                      "ca": self.chapter("ca", "a"), "cb": self.chapter("cb", "b")}
        self.files = {"tinylib/__init__.py": '"""A tiny library."""\n', "tinylib/a.py": "VALUE = 1\n",
                      "tinylib/b.py": "VALUE = 10\n"}
        self.config = {"book_cache_packages": ["tinylib"], "book_cache_keep": 2}
        self.first = True

    def write_lib(self, module, value):
        (self.src / "tinylib" / f"{module}.py").write_text(f"VALUE = {value}\n")

    @staticmethod
    def chapter(name, module, prose="First version."):
        return CHAPTER.format(name=name, module=module, prose=prose)

    def write_chapter(self, name, module, prose="First version."):
        (self.src / f"{name}.md").write_text(self.chapter(name, module, prose))

    def build(self, out=None):
        """Build; return the chapters executed during this build."""
        self.log.write_text("")
        env = dict(os.environ, PYTHONPATH=str(self.src), EXEC_LOG=str(self.log),
                   PYTHONDONTWRITEBYTECODE="1")  # an edit in the same second must not hit a stale .pyc
        env.pop("ADAMDYN_PROGRESS", None)
        pages, files = (self.pages, self.files) if self.first else (None, None)
        self.first = False
        build_synthetic_book(self.src, pages, config=self.config, files=files, output=out or self.out, env=env)
        return sorted(self.log.read_text().split())

    def shown(self, name, out=None):
        html = ((out or self.out) / "_build" / "html" / f"{name}.html").read_text()
        marker = 'The value is <span class="pasted-text">'
        assert html.count(marker) == 1
        return html.split(marker)[1].split("<")[0]


@pytest.mark.book
def test_lib_edit_reexecutes_exactly_the_dependent_chapter(tmp_path):
    book = Book(tmp_path)
    assert book.build() == ["ca", "cb"]
    assert (book.shown("ca"), book.shown("cb")) == ("1", "10")
    page = (book.out / "_build" / "html" / "ca.html").read_text()
    assert "sweeping 5" not in page and "stderr" not in page  # no progress line in the page
    # sympy output is typeset by MathJax, not shown as a PNG
    tail = page[page.index("init_printing"):]
    output = tail[tail.index('class="cell_output'):].split("<p>")[0]
    assert "\\beta^{2}" in output and "text_latex math" in output and "<img" not in output
    executed = nbformat.read(book.out / "_build" / "html" / "_sources" / "ca.ipynb", as_version=4)
    offered = [set(o.get("data", {})) for c in executed.cells for o in c.get("outputs", [])
               if "init_printing" in c.source]
    assert offered and "text/latex" in offered[0]  # (the kernel may also offer image/png)
    # ... and the downloadable notebook carries the outputs
    # the cache lives inside this build's output folder: a fresh clone cannot inherit one
    assert (book.out / "_build" / ".jupyter_cache").is_dir()

    assert book.build() == []  # unchanged: nothing executed

    book.write_lib("a", 2)
    assert book.build() == ["ca"]  # cb does not import tinylib.a
    assert (book.shown("ca"), book.shown("cb")) == ("2", "10")

    book.write_chapter("cb", "b", prose="Edited prose.")
    assert book.build() == []  # prose edits re-render from the cache
    assert "Edited prose." in (book.out / "_build" / "html" / "cb.html").read_text()
    # the page was served from the cache, and its download still carries the outputs
    served = nbformat.read(book.out / "_build" / "html" / "_sources" / "cb.ipynb", as_version=4)
    latex = [o for c in served.cells if "init_printing" in c.source for o in c.get("outputs", [])]
    assert latex and "\\beta^{2}" in latex[0]["data"]["text/latex"]
    glued = [o for c in served.cells if "glue(" in c.source for o in c.get("outputs", [])]
    assert any("scrapbook" in o.get("metadata", {}) for o in glued)  # the glued value, 10

    book.write_lib("a", 1)
    assert book.build() == []  # back to the first source: the first cache entry is valid again
    assert book.shown("ca") == "1"

    (book.src / "tinylib" / "__init__.py").write_text('"""A tiny library, edited."""\n')
    assert book.build() == ["ca", "cb"]  # both import the package, so both run its __init__
    # ca has been executed with three library versions; the two most recently used are kept
    from jupyter_cache import get_cache

    uris = [r.uri for r in get_cache(str(book.out / "_build" / ".jupyter_cache")).list_cache_records()]
    assert sorted(Path(u).name for u in uris) == ["ca.md", "ca.md", "cb.md", "cb.md"]

    # another output folder starts with an empty cache of its own
    other = tmp_path / "other"
    assert book.build(out=other) == ["ca", "cb"]
    assert book.shown("ca", out=other) == "1"
    # two builds of the same sources offer the same notebook (no random cell ids)
    ids = [[c.id for c in nbformat.read(out / "_build" / "html" / "_sources" / "ca.ipynb", as_version=4).cells]
           for out in (book.out, other)]
    assert ids[0] == ids[1] and len(set(ids[0])) == len(ids[0])

    # the executed notebook is offered for download, without the hidden stamp cell
    page = (book.out / "_build" / "html" / "ca.html").read_text()
    assert "_sources/ca.ipynb" in page
    nb = nbformat.read(book.out / "_build" / "html" / "_sources" / "ca.ipynb", as_version=4)
    assert any("from tinylib.a import VALUE" in cell.source for cell in nb.cells)
    assert any("parameters" in cell.metadata.get("tags", []) for cell in nb.cells)
    assert not any("lib stamp" in cell.source for cell in nb.cells)


def test_imports_are_resolved_through_the_package(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .core import f\n")
    (pkg / "core.py").write_text("from . import util\n")
    (pkg / "util.py").write_text("X = 1\n")
    (pkg / "lonely.py").write_text("Y = 2\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "deep.py").write_text("from ..lonely import Y\n")
    (pkg / "registry.py").write_text("import importlib\nM = importlib.import_module('pkg.util')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = LibGraph(["pkg"])
    base = ["pkg", "pkg.core", "pkg.util"]
    code = "```{code-cell} ipython3\n:tags: [x]\n%matplotlib inline\nimport pkg.sub.deep as d\n```\n"
    assert lib_dependencies(code, graph) == sorted(base + ["pkg.lonely", "pkg.sub", "pkg.sub.deep"])
    assert lib_dependencies("```{code-cell} ipython3\nfrom pkg import lonely\n```\n", graph) == \
        sorted(base + ["pkg.lonely"])
    assert lib_dependencies("```{code-cell} ipython3\nimport numpy\n```\n", graph) == []
    # a module that imports dynamically depends on the whole package
    assert len(lib_dependencies("```{code-cell} ipython3\nimport pkg.registry\n```\n", graph)) == 7
    # prose imports outside code cells do not count
    assert lib_dependencies("```python\nimport pkg.lonely\n```\n", graph) == []


def test_imported_names_fallback_for_magics():
    names = imported_names("%time x = 1\nfrom pkg.a import (b,\n c)\nimport q.r as s, t\n")
    assert {"pkg", "pkg.a", "pkg.a.b", "q", "q.r", "t"} <= names


def test_imported_names_finds_imports_nested_in_any_statement():
    import ast

    source = """
import top
def f():
    import in_function
    class C:
        from in_class import x
for i in []:
    pass
else:
    import in_for_else
try:
    import in_try
except ImportError:
    import in_except
finally:
    import in_finally
with open("f") as h:
    if h:
        import in_with_if
    elif h is None:
        import in_elif
match top:
    case 1:
        import in_case
async def g():
    async with h:
        import in_async_with
"""
    # the second method: every Import/ImportFrom node that ast.walk reaches in the whole tree
    walked = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            walked.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            walked.update({node.module, f"{node.module}.x"})
    assert len(walked) == 12 and imported_names(source) == walked


def test_progress_is_silent_in_builds_and_visible_interactively(monkeypatch, capsys):
    from adamdyn_book.progress import progress

    monkeypatch.setenv("ADAMDYN_PROGRESS", "1")
    assert list(progress(range(4), label="sweep", every=0)) == [0, 1, 2, 3]
    err = capsys.readouterr().err
    assert "sweep 4/4 (100%)" in err and err.endswith("\n")
    assert list(progress(iter("ab"), label="gen")) == ["a", "b"]  # no len(): a plain count
    assert "gen 2" in capsys.readouterr().err

    monkeypatch.setenv("ADAMDYN_PROGRESS", "0")
    assert list(progress(range(3), label="sweep")) == [0, 1, 2]
    monkeypatch.delenv("ADAMDYN_PROGRESS")
    monkeypatch.setenv("ADAMDYN_BOOK_BUILD", "1")  # what the book build sets for its kernels
    assert list(progress(range(3), label="sweep")) == [0, 1, 2]
    assert capsys.readouterr().err == ""


NOTEBOOK_HEAD = MYST_HEAD


@pytest.mark.book
def test_failing_cell_fails_the_parallel_build(tmp_path):
    """With two notebooks the cache misses are executed in parallel first; a failing one must
    still fail the build with its error (myst-nb executes it again and reports it)."""
    pages = {"broken": NOTEBOOK_HEAD + '# Broken\n\n```{code-cell} ipython3\n'
                       'raise RuntimeError("this cell fails on purpose")\n```\n',
             "fine": NOTEBOOK_HEAD + "# Fine\n\n```{code-cell} ipython3\n1 + 1\n```\n"}
    # two workers whatever the machine's core count
    run = build_synthetic_book(tmp_path / "src", pages, config={"book_execute_workers": 2}, succeed=False)
    assert "executing 2 notebooks, 2 at a time" in run.log
    assert "this cell fails on purpose" in run.log


# --------------------------------------------------------------------------- the real book's keys

def _chapter_stamps(graph, versions="fixed versions"):
    """Each real chapter's cache stamp, as the extension computes it (sources and versions)."""
    out = {}
    for chapter in sorted((ROOT / "chapters").glob("*.md")):
        text = chapter.read_text(encoding="utf-8")
        if is_notebook(text):
            out[chapter.stem] = lib_stamp(lib_dependencies(text, graph), graph, versions)
    return out


def _row_modules(graph):
    return sorted(m for m in graph.modules if m.startswith("adamdyn_book.ledger.")
                  and m.rpartition(".")[2] not in ("core", "claim", "export"))


def test_rewording_a_ledger_row_rekeys_only_the_ledger_chapter():
    """Each row module's text enters the ledger chapter's key and no other chapter's."""
    graph = LibGraph(["adamdyn", "adamdyn_book"])
    rows = _row_modules(graph)
    assert len(rows) >= 15  # one module per source or section (5 + 3 + 7 today)
    before = _chapter_stamps(graph)
    assert "ledger" in before and len(before) >= 20
    for row in rows:
        original = graph.sources[row]
        graph.sources[row] = original.replace(b"def claims", b"# a reworded row\ndef claims", 1)
        assert graph.sources[row] != original
        after = _chapter_stamps(graph)
        graph.sources[row] = original
        changed = sorted(name for name in before if after[name] != before[name])
        assert changed == ["ledger"], (row, changed)


def test_a_chapter_depends_on_the_modules_it_imports_and_not_on_the_tooling():
    graph = LibGraph(["adamdyn", "adamdyn_book"])
    deps = lib_dependencies((ROOT / "chapters" / "flat.md").read_text(), graph)
    assert "adamdyn.bounds" in deps and "adamdyn_book.plotting" in deps and "adamdyn_book.display" in deps
    assert not [d for d in deps if d.startswith(("adamdyn_book.ledger", "adamdyn_book.sphinx", "adamdyn_book.rerun"))]
    # the ledger's collector imports its rows by name: it depends on the rows, not on the extension
    ledger = lib_dependencies((ROOT / "chapters" / "ledger.md").read_text(), graph)
    assert set(_row_modules(graph)) <= set(ledger) and "adamdyn.valleys" in ledger
    assert not [d for d in ledger if d.startswith(("adamdyn_book.sphinx", "adamdyn_book.rerun"))]


def test_a_new_package_or_python_version_changes_the_cache_key(monkeypatch):
    graph = LibGraph(["adamdyn_book"])
    modules = graph.closure(["adamdyn_book.display"])
    base = distribution_versions(["numpy", "sympy"])
    assert f"python {sys.version.split()[0]}" in base and f"numpy {metadata.version('numpy')}" in base
    real_version = metadata.version
    with monkeypatch.context() as m:
        m.setattr(metadata, "version", lambda name: "0.0.1" if name == "numpy" else real_version(name))
        bumped_numpy = distribution_versions(["numpy", "sympy"])
    with monkeypatch.context() as m:
        m.setattr(sys, "version", "3.99.0 (a future Python)")
        other_python = distribution_versions(["numpy", "sympy"])
    assert "numpy 0.0.1" in bumped_numpy and "python 3.99.0" in other_python
    stamps = {lib_stamp(modules, graph, v) for v in (base, bumped_numpy, other_python)}
    assert len(stamps) == 3
    assert lib_stamp(modules, graph, base) == lib_stamp(modules, graph, distribution_versions(["numpy", "sympy"]))


def test_the_key_covers_every_pinned_dependency():
    """A bump of any science pin (pyproject's dependencies) re-keys every chapter: each is listed."""
    import re
    import tomllib

    import adamdyn_book.sphinx as ext

    values = {}

    class App:
        def add_config_value(self, name, default, rebuild):
            values[name] = default

        def __getattr__(self, name):  # connect, add_node, add_directive, ...: nothing to record
            return lambda *args, **kwargs: None

        def __getattr__(self, name):  # add_node, add_directive, ...: not what this test reads
            return lambda *args, **kwargs: None

    ext.setup(App())
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[=<>!~ ]", p)[0].lower() for p in pins}
    assert names <= {n.lower() for n in values["book_cache_distributions"]}
    assert values["book_cache_packages"] == ["adamdyn", "adamdyn_book"]

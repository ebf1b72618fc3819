"""Fast rebuilds never show stale results.

The book executes chapters through jupyter-cache, whose key is the notebook's code only.
adamdyn.book adds the sources of the library modules a chapter imports to that key.  A tiny
synthetic book (the real _config.yml, two chapters, a two-module library `tinylib`) shows:
an unchanged rebuild executes nothing; an edit to `tinylib/a.py` re-executes the chapter that
imports it, and only that one, and its page shows the new value; reverting hits the cache.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from adamdyn.book import _imported_names, _LibGraph, lib_dependencies
from conftest import MYST_HEAD

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
from adamdyn.book import progress
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
        self.src.mkdir()
        (self.src / "tinylib").mkdir()
        shutil.copy(ROOT / "references.bib", self.src)
        config = yaml.safe_load((ROOT / "_config.yml").read_text())
        config["sphinx"]["config"]["book_cache_packages"] = ["tinylib"]
        config["sphinx"]["config"]["book_cache_keep"] = 2
        (self.src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        (self.src / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                           "  - file: ca\n  - file: cb\n")
        (self.src / "intro.md").write_text("# Intro\n\nChapters {ref}`ca` and {ref}`cb`.\n")
        (self.src / "tinylib" / "__init__.py").write_text('"""A tiny library."""\n')
        self.write_lib("a", 1)
        self.write_lib("b", 10)
        self.write_chapter("ca", "a")
        self.write_chapter("cb", "b")

    def write_lib(self, module, value):
        (self.src / "tinylib" / f"{module}.py").write_text(f"VALUE = {value}\n")

    def write_chapter(self, name, module, prose="First version."):
        (self.src / f"{name}.md").write_text(CHAPTER.format(name=name, module=module, prose=prose))

    def build(self, out=None):
        """Build; return the chapters executed during this build."""
        self.log.write_text("")
        env = dict(os.environ, PYTHONPATH=str(self.src), EXEC_LOG=str(self.log),
                   PYTHONDONTWRITEBYTECODE="1")  # an edit in the same second must not hit a stale .pyc
        env.pop("ADAMDYN_PROGRESS", None)
        jb = Path(sys.executable).with_name("jupyter-book")
        run = subprocess.run([str(jb), "build", str(self.src), "--warningiserror", "--nitpick",
                              "--keep-going", "--path-output", str(out or self.out)],
                             capture_output=True, text=True, timeout=600, env=env)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
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
    graph = _LibGraph(["pkg"])
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
    names = _imported_names("%time x = 1\nfrom pkg.a import (b,\n c)\nimport q.r as s, t\n")
    assert {"pkg", "pkg.a", "pkg.a.b", "q", "q.r", "t"} <= names


def test_progress_is_silent_in_builds_and_visible_interactively(monkeypatch, capsys):
    from adamdyn.book import progress

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
    src = tmp_path / "src"
    src.mkdir()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["sphinx"]["config"]["book_execute_workers"] = 2  # whatever the machine's core count
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    shutil.copy(ROOT / "references.bib", src)
    (src / "_toc.yml").write_text("format: jb-book\nroot: broken\nchapters:\n  - file: fine\n")
    (src / "broken.md").write_text(NOTEBOOK_HEAD + '# Broken\n\n```{code-cell} ipython3\n'
                                   'raise RuntimeError("this cell fails on purpose")\n```\n')
    (src / "fine.md").write_text(NOTEBOOK_HEAD + "# Fine\n\n```{code-cell} ipython3\n1 + 1\n```\n")
    jb = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run([str(jb), "build", str(src), "--warningiserror", "--nitpick",
                          "--path-output", str(tmp_path / "out")], capture_output=True, text=True, timeout=600)
    assert run.returncode != 0
    assert "executing 2 notebooks, 2 at a time" in run.stdout
    assert "this cell fails on purpose" in run.stdout + run.stderr

"""The execution-status page (adamdyn_book.sphinx.status): times, cache state, result, environment."""

import platform
import re
from importlib import metadata

from conftest import MYST_HEAD, build_synthetic_book

from adamdyn_book.sphinx.status import cache_state, pinned_distributions

NOTEBOOK = MYST_HEAD + """
# {title}

```{{code-cell}} ipython3
x = {value}
x
```
"""

STATUS = """# Status

```{execution-status}
```

```{environment-table}
```
"""


def _rows(html):
    """(chapter title, time, cache state, result) for each row of the status table."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
             for r in rows]
    return {c[0]: c[1:] for c in cells if len(c) == 4 and c[0] != "chapter"}


def test_cache_state_compares_with_the_build_start():
    assert cache_state(100.0, 50.0) == "executed"
    assert cache_state(50.0, 50.0) == "executed"
    assert cache_state(49.9, 50.0) == "cached"
    assert cache_state(None, 50.0) == "not executed"


def test_pinned_distributions_are_the_declared_pins():
    rows = {name: (pinned, installed) for name, pinned, installed in pinned_distributions()}
    assert rows["numpy"][0] == rows["numpy"][1] == metadata.version("numpy")
    assert "jupyter-book" in rows and "pytest" in rows  # the extras are pinned too


def test_status_page_reports_execution_then_cache(tmp_path):
    pages = {"intro": "# Intro\n", "first": NOTEBOOK.format(title="First", value=1),
             "second": NOTEBOOK.format(title="Second", value=2), "status": STATUS}
    src, out = tmp_path / "src", tmp_path / "out"
    first = build_synthetic_book(src, pages, output=out)
    page = (first.html / "status.html").read_text(encoding="utf-8")
    rows = _rows(page)
    assert set(rows) == {"First", "Second"}
    assert all(state == "executed" and result == "passed" for _, state, result in rows.values())
    assert all(float(seconds) >= 0 for seconds, _, _ in rows.values())
    assert platform.python_version() in page and metadata.version("sympy") in page

    # a second build of the same sources serves both from the cache, and says so
    (src / "second.md").write_text(NOTEBOOK.format(title="Second", value=3))
    second = build_synthetic_book(src, output=out)
    rows = _rows((second.html / "status.html").read_text(encoding="utf-8"))
    assert rows["First"][1] == "cached" and rows["Second"][1] == "executed"

"""The code a reader sees: no bookkeeping in sight, and formatted to the page width.

For every chapter (read with jupytext, as the build reads it):

- a code cell that the page shows without a toggle (not tagged ``remove-cell``,
  ``remove-input``, ``hide-input`` or ``hide-cell``) calls neither ``glue(`` nor
  ``glue_values(`` and does not close figures (``plt.close``): glued values live in removed
  cells, and a figure is declared in its cell's metadata (``mystnb: figure:``);
- every code cell whose source reaches the page (all but ``remove-cell`` and ``remove-input``;
  toggled cells too) is unchanged by ``ruff format`` with the project's configuration;
- ruff's line length (pyproject.toml) is what the page shows without sideways scrolling: the
  browser tests at the end load a built chapter at a 1400-px window, open every toggle and
  measure how many characters of the code font fit across each code block. Measured: 88 in a
  plain code cell (ruff's 88 fit exactly), 86 in a toggled one (an expected failure, strict, so
  that the fix of either the CSS or the line length shows).

The first two are fast (one ruff call per chapter) and run in ``make test-fast``; the last needs
a built book and Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.md"))
PYPROJECT = ROOT / "pyproject.toml"

#: Tags that take a cell's source off the page.
REMOVED = {"remove-cell", "remove-input"}
#: Tags that put a cell's source behind a toggle.
TOGGLED = {"hide-input", "hide-cell"}
BOOKKEEPING = re.compile(r"\bglue(_values)?\s*\(|\bplt\.close\s*\(")
#: IPython syntax that ruff cannot format as Python (magics, shell escapes, help)
IPYTHON = re.compile(r"^\s*[%!]|^\s*\w[\w.]*\?\s*$", re.M)


def code_cells(path: Path) -> list[tuple[int, set[str], str]]:
    """``(index, tags, source)`` of each code cell of the chapter, in order.

    A page that is not a notebook (no ``{code-cell}``, e.g. the front page) has none: its
    fenced blocks are shell commands for the reader, not cells.
    """
    import jupytext

    if "```{code-cell}" not in path.read_text(encoding="utf-8"):
        return []
    nb = jupytext.read(path)
    return [
        (i, set(c.metadata.get("tags", [])), c.source)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
    ]


def ruff() -> list[str]:
    exe = Path(sys.executable).with_name("ruff")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("ruff")
    return [found] if found else [sys.executable, "-m", "ruff"]


def ruff_format_diff(path: Path) -> subprocess.CompletedProcess:
    """``ruff format --diff`` of a file or folder with the project's configuration (exit 1: a diff)."""
    command = [*ruff(), "format", "--config", str(PYPROJECT), "--diff", "--no-cache", str(path)]
    return subprocess.run(command, capture_output=True, text=True, cwd=path if path.is_dir() else None)


def line_length() -> int:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["ruff"]["line-length"]


def test_there_are_chapters():
    assert len(CHAPTERS) > 10, CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_bookkeeping_in_sight(chapter):
    """No cell shown without a toggle glues values or closes a figure."""
    bad = []
    for i, tags, source in code_cells(chapter):
        if tags & (REMOVED | TOGGLED):
            continue
        for n, line in enumerate(source.splitlines(), 1):
            if BOOKKEEPING.search(line):
                bad.append(f"cell {i}, line {n}: {line.strip()}")
    assert not bad, (
        f"{chapter.name}: bookkeeping in cells a reader sees:\n" + "\n".join(bad)
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_code_on_the_page_is_ruff_formatted(chapter, tmp_path):
    """Every cell whose source is on the page (toggled or not) is as `ruff format` writes it."""
    cells = {
        i: source
        for i, tags, source in code_cells(chapter)
        if not tags & REMOVED and source.strip() and not IPYTHON.search(source)
    }
    if not cells:
        pytest.skip(f"{chapter.name} shows no Python code")
    for i, source in cells.items():
        (tmp_path / f"cell_{i:03d}.py").write_text(source.rstrip("\n") + "\n")
    out = ruff_format_diff(tmp_path)
    assert out.returncode == 0, (
        f"{chapter.name}: cells not formatted as `ruff format` would (numbers are cell indices):\n"
        + (out.stdout + out.stderr)[:6000]
    )


def test_ruff_configuration_is_the_page_width():
    """One formatter, configured once: ruff in the test extra, 88 columns in pyproject.toml."""
    config = tomllib.loads(PYPROJECT.read_text())
    assert config["tool"]["ruff"]["line-length"] == 88
    assert any(
        dep.startswith("ruff==")
        for dep in config["project"]["optional-dependencies"]["test"]
    )


def test_the_format_check_can_fail(tmp_path):
    """The check above catches an unformatted cell (and the bookkeeping pattern a glue call)."""
    bad = tmp_path / "cell.py"
    bad.write_text("x = {'a':1,  'b':2}\n")
    out = ruff_format_diff(bad)
    assert out.returncode == 1 and '"a": 1' in out.stdout
    assert BOOKKEEPING.search('glue("x", 1, display=False)')
    assert BOOKKEEPING.search("glue_values(a=1)")
    assert BOOKKEEPING.search("plt.close(fig)")
    assert not BOOKKEEPING.search("{glue:text}`x`")


# Runs in a built chapter page: opens every toggle, then reports how many characters of the
# code font fit across each code block (inside its padding), and whether the block is toggled.
WIDTH_JS = r"""
(() => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  const out = [];
  for (const pre of document.querySelectorAll('div.cell_input pre')) {
    if (pre.offsetParent === null || pre.clientWidth === 0) continue;
    const probe = document.createElement('span');
    probe.textContent = 'x'.repeat(100);
    pre.appendChild(probe);
    const charWidth = probe.getBoundingClientRect().width / 100;
    probe.remove();
    const style = getComputedStyle(pre);
    const inner = pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    out.push({toggled: !!pre.closest('details'), fits: Math.floor(inner / charWidth + 1e-6)});
  }
  return JSON.stringify(out);
})()
"""


def columns_at_1400px(html: Path, chapter: str = "conditions_map") -> list[dict]:
    """Per code block of a built chapter at a 1400-px window: the columns it shows, toggled or not."""
    from test_browser import Chromium, find_chromium

    exe = find_chromium()
    if exe is None:
        pytest.skip("no chromium found")
    page = html / "chapters" / f"{chapter}.html"
    assert page.is_file(), page
    browser = Chromium(exe)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        browser.send("Page.enable", session=session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        browser.send("Page.navigate", {"url": page.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired", session, timeout=60)
        time.sleep(0.5)
        result = browser.send(
            "Runtime.evaluate",
            {"expression": WIDTH_JS, "returnByValue": True},
            session=session,
        )
        return json.loads(result["result"]["value"])
    finally:
        browser.close()


@pytest.fixture(scope="module")
def code_block_columns(built_book):
    return columns_at_1400px(built_book)


@pytest.mark.book
def test_ruff_line_length_fits_a_code_block_at_1400px(code_block_columns):
    """At a 1400-px window a code block shows at least ruff's line length: no sideways scrolling.

    Measured (Chromium, the book's theme): 88 columns in a plain code cell."""
    plain = [b["fits"] for b in code_block_columns if not b["toggled"]]
    assert plain, "no visible code block on the page"
    print(
        f"plain code blocks at 1400 px show {sorted(set(plain))} columns; ruff writes {line_length()}"
    )
    assert min(plain) >= line_length()


@pytest.mark.book
def test_ruff_line_length_fits_a_toggled_code_block_at_1400px(code_block_columns):
    """A toggled (hide-input) block fits ruff's line length as well (_static/adamdyn.css removes
    the toggle's side padding; with it, such a block showed 86 columns)."""
    toggled = [b["fits"] for b in code_block_columns if b["toggled"]]
    assert toggled, "no toggled code block on the page"
    print(
        f"toggled code blocks at 1400 px show {sorted(set(toggled))} columns; ruff writes {line_length()}"
    )
    assert min(toggled) >= line_length()

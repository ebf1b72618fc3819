"""A failing cell must fail the build: the book's own configuration is used on a tiny copy."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MYST_HEAD

ROOT = Path(__file__).resolve().parents[1]

CHAPTER = MYST_HEAD + """# Broken

```{code-cell} ipython3
raise RuntimeError("this cell fails on purpose")
```
"""


@pytest.mark.book
def test_failing_cell_fails_build(tmp_path):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: broken\n")
    (tmp_path / "broken.md").write_text(CHAPTER)
    jb = Path(sys.executable).with_name("jupyter-book")
    out = subprocess.run([str(jb), "build", str(tmp_path), "--warningiserror", "--nitpick"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode != 0
    assert "this cell fails on purpose" in out.stdout + out.stderr

"""One command re-runs a chapter with new parameters and writes the executed notebook.

A tiny synthetic MyST chapter (in tmp_path) keeps this independent of the real chapters:
it glues a partial geometric sum  S = sum_{k<n} beta1^k = (1 - beta1^n) / (1 - beta1),
so the expected values follow from the closed form, not from running the code.
"""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from adamdyn_book.rerun import execute_chapter, glued, parameters_of
from conftest import MYST_HEAD

ROOT = Path(__file__).resolve().parents[1]

CHAPTER = MYST_HEAD + """# Synthetic

```{code-cell} ipython3
:tags: [parameters]

beta1 = 0.9
steps = 10
```

```{code-cell} ipython3
from myst_nb import glue
glue("partial_sum", sum(beta1**k for k in range(steps)), display=False)
glue("where", __import__("os").getcwd(), display=False)
from adamdyn.book import progress
count = sum(1 for _ in progress(range(steps), label="sweeping"))
```
"""


def closed_form(beta1, n):
    return (1 - beta1**n) / (1 - beta1)


@pytest.fixture
def chapter(tmp_path):
    path = tmp_path / "chapters" / "syn.md"
    path.parent.mkdir()
    path.write_text(CHAPTER)
    return path


def test_parameters_are_listed(chapter):
    assert parameters_of(chapter) == {"beta1": "0.9", "steps": "10"}


def test_cli_rerun_changes_results_and_writes_notebook(chapter, tmp_path):
    out = tmp_path / "out" / "syn-0.5.ipynb"
    run = subprocess.run(
        [sys.executable, "-m", "adamdyn_book.rerun", str(chapter), "beta1=0.5", "-p", "steps", "4",
         "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    g = glued(nb)
    assert g["partial_sum"] == pytest.approx(closed_form(0.5, 4), rel=1e-12)  # 1.875, not the default 6.51
    assert abs(g["partial_sum"] - closed_form(0.9, 10)) > 1
    assert f"partial_sum = {g['partial_sum']}" in run.stdout
    # no progress lines in a written notebook
    assert not any("sweeping" in o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    # the chapter runs in its own folder, as in the book build
    assert Path(g["where"]) == chapter.parent.resolve()
    # papermill recorded the injected values in the executed notebook
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "beta1 = 0.5" in injected[0].source and "steps = 4" in injected[0].source


def test_defaults_reproduce_closed_form(chapter):
    g = glued(execute_chapter(chapter))
    assert g["partial_sum"] == pytest.approx(closed_form(0.9, 10), rel=1e-12)


def test_unknown_parameter_is_refused(chapter, tmp_path):
    with pytest.raises(ValueError, match="beta3"):
        execute_chapter(chapter, {"beta3": 0.5})
    run = subprocess.run([sys.executable, "-m", "adamdyn_book.rerun", str(chapter), "beta3=0.5",
                          "-o", str(tmp_path / "x.ipynb")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "beta3" in run.stderr
    assert not (tmp_path / "x.ipynb").exists()


def test_make_rerun_wrapper(chapter, tmp_path):
    """`make rerun` passes CHAPTER, PARAMS and OUT through to the same command."""
    run = subprocess.run(
        ["make", "-s", "-n", "rerun", f"CHAPTER={chapter}", "PARAMS=beta1=0.5 steps=4",
         f"OUT={tmp_path / 'o.ipynb'}"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    cmd = run.stdout.strip().splitlines()[-1]
    assert "-m adamdyn_book.rerun" in cmd and str(chapter) in cmd
    assert "beta1=0.5 steps=4" in cmd and f"-o {tmp_path / 'o.ipynb'}" in cmd


def test_binder_environment_can_rerun_chapters():
    """Binder builds environment.yml (at the root, no binder/ folder overrides it): it must install
    the book's package and what opening and re-running a MyST chapter needs."""
    import yaml

    assert not (ROOT / "binder").exists() or (ROOT / "binder" / "environment.yml").exists()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert any(str(d).startswith("python=") for d in env["dependencies"])
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    names = {r.split("==")[0].lower() for r in pip}
    assert "-e ." in pip  # adamdyn itself
    assert {"jupytext", "papermill", "ipykernel", "myst-nb", "matplotlib"} <= names

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

from adamdyn_book.rerun import check_parameters, execute_chapter, glued, parameters_of, resolve_chapter
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
from adamdyn_book.progress import progress
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


def _cli(*args, cwd=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "adamdyn_book.rerun", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


NO_PARAMETERS = MYST_HEAD + """# No knobs

```{code-cell} ipython3
x = 1
```
"""

TYPED = MYST_HEAD + """# Typed

```{code-cell} ipython3
:tags: [parameters]

lr = 1e-3
steps = 10**3         # an expression: its value, 1000, is an int
seeds = (0, 1)
name = "mse"
fast = False
nothing = None
a, b = 1, 2.5
```
"""


def test_list_prints_the_parameters_and_runs_nothing(chapter, tmp_path):
    run = _cli(chapter, "--list", "-o", tmp_path / "never.ipynb")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["beta1 = 0.9", "steps = 10"]
    assert not (tmp_path / "never.ipynb").exists()


def test_bare_chapter_names_resolve(chapter, tmp_path, monkeypatch):
    # below the current folder's chapters/ ...
    run = _cli("syn", "--list", cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.splitlines() == ["beta1 = 0.9", "steps = 10"]
    monkeypatch.chdir(tmp_path)
    assert resolve_chapter("syn").samefile(chapter) and resolve_chapter("syn.md").samefile(chapter)
    # ... and below the book's root, from anywhere: the book's own ledger chapter
    assert resolve_chapter("ledger").samefile(ROOT / "chapters" / "ledger.md")
    run = _cli("ledger", "--list", cwd=tmp_path)
    assert run.returncode == 0 and "show_pending = True" in run.stdout
    with pytest.raises(ValueError, match="chapter"):
        resolve_chapter("no_such_chapter")
    run = _cli("no_such_chapter", "--list", cwd=tmp_path)
    assert run.returncode == 2 and "no_such_chapter" in run.stderr


@pytest.mark.parametrize("item", ["beta1", "=0.5", " =1"])
def test_malformed_assignment_is_refused(chapter, tmp_path, item):
    run = _cli(chapter, item, "-o", tmp_path / "x.ipynb")
    assert run.returncode == 2 and "NAME=VALUE" in run.stderr
    assert not (tmp_path / "x.ipynb").exists()


def test_value_of_the_wrong_type_is_refused(chapter, tmp_path):
    run = _cli(chapter, "beta1=abc", "-o", tmp_path / "x.ipynb")
    assert run.returncode == 2, run.stdout
    assert "beta1" in run.stderr and "float" in run.stderr and "abc" in run.stderr
    assert not (tmp_path / "x.ipynb").exists()
    with pytest.raises(ValueError, match=r"steps must be an int"):
        execute_chapter(chapter, {"steps": 2.5})
    with pytest.raises(ValueError, match=r"beta1 must be a float"):
        execute_chapter(chapter, {"beta1": "0.5"})  # a string, even one that looks like a number


def test_types_follow_the_defaults(tmp_path):
    path = tmp_path / "typed.md"
    path.write_text(TYPED)
    defaults = parameters_of(path)
    assert defaults == {"lr": "0.001", "steps": "10 ** 3", "seeds": "(0, 1)", "name": "'mse'", "fast": "False",
                        "nothing": "None", "a": "1", "b": "2.5"}
    ok = [{"lr": 1}, {"lr": 0.1}, {"steps": 5}, {"seeds": [0]}, {"seeds": (1, 2, 3)}, {"name": "ce"},
          {"fast": True}, {"nothing": 3}, {"nothing": "x"}, {"a": 2}, {"b": 3}]
    for new in ok:
        check_parameters(new, defaults, "typed.md")
    refused = {"lr": (True, "float"), "steps": (1.0, "int"), "seeds": (0, "tuple or list"), "name": (1, "str"),
               "fast": (1, "bool"), "a": (2.0, "int"), "b": ("x", "float")}
    for name, (value, kind) in refused.items():
        with pytest.raises(ValueError, match=rf"{name} must be an? {kind}.*got {value!r}"):
            check_parameters({name: value}, defaults, "typed.md")


def test_chapter_without_parameters_cell(tmp_path):
    path = tmp_path / "plain.md"
    path.write_text(NO_PARAMETERS)
    assert parameters_of(path) == {}
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        execute_chapter(path, {"x": 2})
    run = _cli(path, "x=2", "-o", tmp_path / "x.ipynb")
    assert run.returncode == 2 and "no cell tagged 'parameters'" in run.stderr
    run = _cli(path, "--list")
    assert run.returncode == 0 and "has no cell tagged 'parameters'" in run.stdout


def test_rerun_kernel_talks_over_ipc_without_the_tcp_warning(chapter, tmp_path):
    # the kernel runs over IPC (adamdyn_book.kernels), so jupyter_client has nothing to warn about
    run = subprocess.run([sys.executable, "-m", "adamdyn_book.rerun", str(chapter), "beta1=0.5",
                          "-o", str(tmp_path / "out.ipynb")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "without encryption" not in run.stderr and "TCP" not in run.stderr, run.stderr[-3000:]
    assert "warning" not in run.stderr.lower(), run.stderr[-3000:]

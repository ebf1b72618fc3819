"""The science package stands alone: `adamdyn` imports none of the book's tooling.

Readers import adamdyn for their own experiments; the book's build, rerun command and ledger
live in adamdyn_book, with their own optional dependencies (pyproject's `book` extra).
"""

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCIENCE = ROOT / "lib" / "adamdyn"

#: What the science must not pull in (distribution names differ: myst-nb is myst_nb, and so on).
TOOLING = ["sphinx", "docutils", "myst_nb", "jupyter_cache", "papermill", "jupytext", "adamdyn_book"]


def _science_modules():
    out = []
    for path in sorted(SCIENCE.rglob("*.py")):
        parts = path.relative_to(SCIENCE.parent).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_importing_every_science_module_loads_no_tooling():
    modules = _science_modules()
    assert "adamdyn.optimizers" in modules and "adamdyn.networks.training" in modules
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {TOOLING!r})))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == []


def test_no_science_file_imports_the_tooling():
    offenders = []
    for path in sorted(SCIENCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in TOOLING]
    assert offenders == []


def test_no_science_module_holds_ledger_rows():
    holders = [str(p.relative_to(ROOT)) for p in sorted(SCIENCE.rglob("*.py"))
               if any(isinstance(n, ast.FunctionDef) and n.name == "claims"
                      for n in ast.parse(p.read_text(encoding="utf-8")).body)]
    assert holders == []


def test_declared_dependencies_are_the_science_only():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split("==")[0].lower() for d in project["dependencies"]}
    book = {d.split("==")[0].lower() for d in project["optional-dependencies"]["book"]}
    tooling = {"sphinx", "docutils", "myst-nb", "jupyter-cache", "papermill", "jupytext", "jupyter-book",
               "ipykernel", "matplotlib"}
    assert not names & tooling
    assert {"sphinx", "myst-nb", "jupyter-cache", "papermill", "jupytext", "jupyter-book"} <= book

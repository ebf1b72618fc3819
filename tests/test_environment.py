"""environment.yml (conda, Binder) and pyproject.toml must pin the same packages."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(req: str) -> str:
    name, _, version = req.partition("==")
    return f"{re.sub(r'[-_.]+', '-', name.strip().lower())}=={version.strip()}"


def pyproject_pins() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += extra
    return {_norm(r) for r in reqs}


def environment_pins() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {_norm(r) for r in pip if not r.startswith("-e")}


def test_every_pin_is_exact():
    assert all("==" in p and p.split("==")[1] for p in pyproject_pins())


def test_environment_matches_pyproject():
    py, env = pyproject_pins(), environment_pins()
    assert py - env == set(), f"in pyproject.toml only: {sorted(py - env)}"
    assert env - py == set(), f"in environment.yml only: {sorted(env - py)}"


def test_constraints_agree_with_pins():
    """The full lock (constraints.txt) must not contradict a direct pin."""
    lock = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = _norm(line).split("==")
            lock[name] = version
    for pin in pyproject_pins():
        name, version = pin.split("==")
        assert lock.get(name) == version, f"{name}: pyproject {version}, constraints {lock.get(name)}"


def test_python_version_agrees():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    minimum = data["project"]["requires-python"].removeprefix(">=")
    assert py.split("=")[1] == minimum

"""CITATION.cff: the book's citation metadata agrees with the book and the package it describes."""

import tomllib
from pathlib import Path

import pytest
import yaml  # PyYAML: a dependency of jupyter-book

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cff():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_file_format_fields(cff):
    # the fields the Citation File Format 1.2.0 requires
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert cff[key], key
    assert all("name" in a or "family-names" in a for a in cff["authors"])


def test_citation_matches_book_and_package(cff):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert cff["title"] == config["title"]
    assert cff["version"] == project["version"]
    assert cff["license"] == project["license"]


def test_citation_cites_the_four_sources(cff):
    bib = (ROOT / "references.bib").read_text(encoding="utf-8")
    titles = [r["title"] for r in cff["references"]]
    assert len(titles) == 4
    for title in titles:
        # references.bib protects capitals with braces: compare without them
        assert title.replace("{", "") in bib.replace("{", "").replace("}", ""), title


def test_front_page_cites_the_same_version(cff):
    intro = (ROOT / "chapters" / "intro.md").read_text(encoding="utf-8")
    assert "(how-to-cite)=" in intro
    assert f"*{cff['title'].split(', ')[0]}" in intro and f"Version {cff['version']}" in intro

"""`make pdf`: the whole book as one PDF (Jupyter Book's LaTeX builder, XeLaTeX).

Built from the session build's execution cache (the same ``--path-output`` as ``built_book``),
so no chapter executes again; read back with pdftotext.  Skips, saying why, where xelatex,
latexmk or pdftotext is missing (.ci/install-latex installs Debian's packages for them).
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ("xelatex", "latexmk", "pdftotext")


def chapter_titles() -> dict[str, str]:
    """``{chapter: title}`` for every file of the table of contents (its first ``# `` heading)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    out = {}
    for name in files:
        heading = next(line for line in (ROOT / f"{name}.md").read_text().splitlines() if line.startswith("# "))
        out[name] = heading[2:].strip()
    return out


def _normal(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\ufb01", "fi").replace("\ufb02", "fl")
    return re.sub(r"\s+", " ", re.sub(r"-\n", "-", text)).lower()


@pytest.fixture(scope="module")
def pdf_text(built_book):
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (run .ci/install-latex for Debian's LaTeX packages)")
    output = built_book.parents[1]  # the session build's --path-output: its execution cache is reused
    jb = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run([str(jb), "build", str(ROOT), "--warningiserror", "--nitpick", "--keep-going",
                          "--builder", "pdflatex", "--path-output", str(output)],
                         capture_output=True, text=True, timeout=1800)
    (output / "_build" / "pdf-build.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    pdf = output / "_build" / "latex" / "book.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 100_000
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=300).stdout
    return text


@pytest.mark.book
def test_every_chapter_is_in_the_pdf(pdf_text):
    text = _normal(pdf_text)
    missing = [f"{name}: {title}" for name, title in chapter_titles().items() if _normal(title) not in text]
    assert missing == []
    # the explorer falls back to the library's static picture of its opening setting
    assert "the explorer's opening setting, computed by the library" in text


@pytest.mark.book
def test_the_pdf_shows_no_terminal_colours_or_warnings(pdf_text):
    assert "\x1b[" not in pdf_text and not re.search(r"\[\d+(;\d+)*m", pdf_text)
    assert not re.search(r"\bwarning\b", pdf_text, re.I), re.findall(r".{60}\bwarning\b.{60}", pdf_text, re.I)[:5]
    assert "IPython.core.display" not in pdf_text  # an HTML-only output printed as its Python repr


@pytest.mark.book
def test_every_cross_reference_resolves_in_the_pdf(pdf_text, built_book):
    """LaTeX reports a reference whose label is missing ('?? ' in the PDF) only in its log; the
    propositions on pages whose title has an apostrophe used to lose their labels (proof_latex)."""
    log = (built_book.parents[1] / "_build" / "latex" / "book.log").read_text(errors="replace")
    # LaTeX wraps its log at 79 columns: join the lines before searching
    undefined = re.findall(r"reference `([^']+)' on page \d+ undefined", log.replace("\n", ""))
    assert undefined == []
    assert "There were undefined references" not in log

# Two targets a reader needs: `make book` and `make test`.
# `make rerun CHAPTER=flat PARAMS="beta1=0.8 beta2=0.99" [OUT=flat.ipynb]` re-executes one chapter
# with new parameters (papermill) and writes the executed notebook.
# Both create the pinned environment in .venv on first use (Python >= 3.11).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The chapters' kernel is this environment's, whatever kernels the machine has.
export JUPYTER_PATH := $(abspath $(VENV))/share/jupyter
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: env book test test-fast bench clean rerun pdf

CHAPTER ?=
PARAMS  ?=
OUT     ?=

env: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going --builder html

test: $(STAMP)
	$(BIN)/python -m pytest

# the library and property tests only: no chapter execution, no book build, no network training
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not chapter and not book and not tooling and not slow"

rerun:
	@test -n "$(CHAPTER)" || { echo 'usage: make rerun CHAPTER=flat PARAMS="beta1=0.8 beta2=0.99" [OUT=flat.ipynb]' >&2; exit 2; }
	@$(MAKE) --no-print-directory env
	$(BIN)/python -m adamdyn_book.rerun $(CHAPTER) $(PARAMS) $(if $(OUT),-o $(OUT))

# The whole book as one PDF (_build/latex/book.pdf) through Jupyter Book's LaTeX builder and
# XeLaTeX; it needs Debian's LaTeX packages (.ci/install-latex), which `make book` does not.
pdf: $(STAMP)
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null || \
	  { echo 'make pdf needs xelatex and latexmk: run .ci/install-latex (Debian packages) first' >&2; exit 2; }
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going --builder pdflatex
	@echo "PDF: _build/latex/book.pdf"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_optimizers.py

clean:
	rm -rf _build

"""Execute a chapter with other parameters, and read back the numbers it glued.

The chapters are MyST Markdown notebooks.  :func:`execute_chapter` converts one
to a notebook in memory (jupytext), injects new values into its cell tagged
``parameters`` and executes it with papermill.  :func:`glued` returns the values
the chapter published with ``myst_nb.glue``: the same numbers its prose shows.

Command line::

    python -m adamdyn.notebooks chapters/flat.md -p beta1 0.8 -p beta2 0.99 -o flat-0.8.ipynb
"""

from __future__ import annotations

import argparse
import ast
import os
import tempfile
from pathlib import Path

__all__ = ["execute_chapter", "glued", "main"]

_GLUE_PREFIX = "application/papermill.record/"


def execute_chapter(path, parameters: dict | None = None, output=None, timeout: int = 1200):
    """Execute the MyST chapter at ``path`` and return the executed notebook.

    Parameters
    ----------
    path : path-like
        A chapter, e.g. ``chapters/flat.md``.
    parameters : dict, optional
        New values for the variables of the cell tagged ``parameters``.
    output : path-like, optional
        Where to write the executed ``.ipynb`` (a temporary file if omitted).
    """
    import jupytext
    import nbformat
    import papermill

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path must be an existing chapter file, got {str(path)!r}")
    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / (path.stem + ".ipynb")
        nbformat.write(nb, src)
        dst = Path(output) if output is not None else Path(tmp) / (path.stem + ".out.ipynb")
        papermill.execute_notebook(
            str(src), str(dst), parameters=parameters or {}, kernel_name="python3",
            cwd=str(path.parent.resolve()), progress_bar=False, execution_timeout=timeout,
        )
        return nbformat.read(dst, as_version=4)


def glued(nb) -> dict:
    """Map each glued name to its value (parsed from its plain-text repr where possible)."""
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            meta = o.get("metadata", {}).get("scrapbook")
            if not meta:
                continue
            data = o.get("data", {})
            text = data.get(meta.get("mime_prefix", "") + "text/plain")
            if text is None:
                text = data.get(_GLUE_PREFIX + "text/plain", data.get("text/plain"))
            try:
                out[meta["name"]] = ast.literal_eval(text)
            except (ValueError, SyntaxError, TypeError):
                out[meta["name"]] = text
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m adamdyn.notebooks",
                                description="Re-run a chapter with new parameters (papermill).")
    p.add_argument("chapter", help="e.g. chapters/flat.md")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="a parameter and its new value (Python literal); repeatable")
    p.add_argument("-o", "--output", help="where to write the executed notebook (.ipynb)")
    args = p.parse_args(argv)
    params = {}
    for name, value in args.parameter:
        try:
            params[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[name] = value
    output = args.output or os.path.splitext(os.path.basename(args.chapter))[0] + ".executed.ipynb"
    nb = execute_chapter(args.chapter, params, output=output)
    for k, v in sorted(glued(nb).items()):
        print(f"{k} = {v}")
    print(f"executed notebook written to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

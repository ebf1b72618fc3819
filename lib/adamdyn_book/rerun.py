"""Execute a chapter with other parameters, and read back the numbers it glued.

The chapters are MyST Markdown notebooks.  :func:`execute_chapter` converts one
to a notebook in memory (jupytext), injects new values into its cell tagged
``parameters`` and executes it with papermill.  :func:`glued` returns the values
the chapter published with ``myst_nb.glue``: the same numbers its prose shows.

Command line (``make rerun CHAPTER=flat PARAMS="beta1=0.8 beta2=0.99"`` wraps it)::

    python -m adamdyn_book.rerun chapters/flat.md -p beta1 0.8 -p beta2 0.99 -o flat-0.8.ipynb
    python -m adamdyn_book.rerun flat beta1=0.8 beta2=0.99         # the same, shorter
    python -m adamdyn_book.rerun flat --list                       # show the parameters

The executed notebook (outputs, figures and glued values) is written to ``-o``
(default ``<chapter>.executed.ipynb`` in the current directory); open it in
Jupyter, or compare the printed glued numbers with the published page.

A new value must have the type of the parameter's default (an ``int`` or a ``float`` where the
default is a ``float``, a tuple or a list where it is a sequence, and so on); a name the
parameters cell does not define, a malformed ``NAME=VALUE`` and a chapter without a parameters
cell are refused too, with a message, before anything runs.
"""

from __future__ import annotations

import argparse
import ast
import os
import tempfile
from pathlib import Path

__all__ = ["execute_chapter", "glued", "parameters_of", "resolve_chapter", "check_parameters", "main"]

_GLUE_PREFIX = "application/papermill.record/"
_BOOK_ROOT = Path(__file__).resolve().parents[2]


def resolve_chapter(chapter) -> Path:
    """The chapter file for ``chapter``: a path, or a bare name such as ``"flat"``.

    A bare name is looked up as ``chapters/<name>.md`` below the current
    directory, then below the book's root.
    """
    path = Path(chapter)
    if path.is_file():
        return path
    for base in (Path.cwd(), _BOOK_ROOT):
        for candidate in (base / path, base / "chapters" / path.with_suffix(".md").name):
            if candidate.is_file():
                return candidate
    raise ValueError(f"chapter must be an existing chapter file or a chapter name, got {str(chapter)!r}")


def _read_notebook(path: Path):
    import jupytext

    nb = jupytext.read(path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _parameters_cell(nb):
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def parameters_of(chapter) -> dict:
    """The defaults of a chapter's ``parameters`` cell, as ``{name: source of the value}``.

    ``a, b = 1, 2`` defines two parameters.
    """
    cell = _parameters_cell(_read_notebook(resolve_chapter(chapter)))
    if cell is None:
        return {}
    out = {}
    for node in ast.parse(cell.source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        value = getattr(node, "value", None)
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                out[target.id] = ast.unparse(value)
            elif (isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                  and len(target.elts) == len(value.elts)):
                for t, v in zip(target.elts, value.elts):
                    if isinstance(t, ast.Name):
                        out[t.id] = ast.unparse(v)
    return out


#: AST nodes of a default whose value can be computed without running the chapter (``10**6``).
_ARITHMETIC = (ast.Expression, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Tuple, ast.List, ast.operator,
               ast.unaryop, ast.Load)


def _default_value(source: str):
    """The value of a default's source, or ``...`` if it is not plain arithmetic on literals."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        return ...
    if not all(isinstance(node, _ARITHMETIC) for node in ast.walk(tree)):
        return ...
    try:
        return eval(compile(tree, "<default>", "eval"), {"__builtins__": {}})
    except Exception:  # e.g. 1/0: leave such a parameter unchecked
        return ...


def _expected_type(default):
    """``(description, accepts)`` of the values a parameter with this default takes, or None."""
    if isinstance(default, bool):
        return "a bool (True or False)", lambda v: isinstance(v, bool)
    if isinstance(default, int):
        return "an int", lambda v: isinstance(v, int) and not isinstance(v, bool)
    if isinstance(default, float):
        return "a float", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    if isinstance(default, str):
        return "a str (quoted)", lambda v: isinstance(v, str)
    if isinstance(default, (tuple, list)):
        return "a tuple or list", lambda v: isinstance(v, (tuple, list))
    return None  # None or anything else: any value


def check_parameters(parameters: dict, defaults: dict, chapter: str = "the chapter") -> None:
    """Refuse names the parameters cell does not define and values of the wrong type.

    Parameters
    ----------
    parameters : dict
        New values, ``{name: value}``.
    defaults : dict
        :func:`parameters_of` of the chapter: ``{name: source of the default}``.
    chapter : str
        The chapter's name, for the messages.

    Raises
    ------
    ValueError
        Naming the first unknown parameter(s), or the parameter whose value does not have the
        type of its default (and that type).
    """
    unknown = sorted(set(parameters) - set(defaults))
    if unknown:
        raise ValueError(f"parameters: {unknown} not defined in the parameters cell of {chapter}; "
                         f"allowed: {sorted(defaults)}")
    for name, value in parameters.items():
        expected = _expected_type(_default_value(defaults[name]))
        if expected is not None and not expected[1](value):
            raise ValueError(f"parameters: {name} must be {expected[0]} like its default "
                             f"{defaults[name]}, got {value!r}")


def execute_chapter(path, parameters: dict | None = None, output=None, timeout: int = 1200):
    """Execute the MyST chapter at ``path`` and return the executed notebook.

    Parameters
    ----------
    path : path-like
        A chapter, e.g. ``chapters/flat.md`` (or a bare name such as ``"flat"``).
    parameters : dict, optional
        New values for variables of the cell tagged ``parameters``.  A name that
        cell does not define, or a value whose type differs from its default's,
        raises ``ValueError`` (:func:`check_parameters`): a typo would otherwise be
        ignored silently, or passed on as a string.
    output : path-like, optional
        Where to write the executed ``.ipynb`` (a temporary file if omitted).
    timeout : int
        Seconds one cell may run.
    """
    path = resolve_chapter(path)
    parameters = dict(parameters or {})
    nb = _read_notebook(path)
    if parameters:
        cell = _parameters_cell(nb)
        if cell is None:
            raise ValueError(f"parameters: {path.name} has no cell tagged 'parameters'")
        check_parameters(parameters, parameters_of(path), path.name)
    # a re-run writes a notebook, not a terminal: adamdyn_book.progress stays silent in it
    quiet = "ADAMDYN_PROGRESS" not in os.environ
    if quiet:
        os.environ["ADAMDYN_PROGRESS"] = "0"
    try:
        return _execute(path, nb, parameters, output, timeout)
    finally:
        if quiet:
            os.environ.pop("ADAMDYN_PROGRESS", None)


def _execute(path, nb, parameters, output, timeout):
    import nbformat
    import papermill

    from .kernels import ipc_folder, ipc_kernel_config

    with tempfile.TemporaryDirectory() as tmp, ipc_folder() as ipc:
        src = Path(tmp) / (path.stem + ".ipynb")
        nbformat.write(nb, src)
        dst = Path(output) if output is not None else Path(tmp) / (path.stem + ".out.ipynb")
        dst.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(
            str(src), str(dst), parameters=parameters, kernel_name="python3",
            cwd=str(path.parent.resolve()), progress_bar=False, execution_timeout=timeout,
            # over IPC, not TCP: no "Kernel is running over TCP without encryption" warning
            config=ipc_kernel_config(ipc),
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


def _literal(value: str):
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m adamdyn_book.rerun",
                                description="Re-run a chapter with new parameters (papermill) and "
                                            "write the executed notebook.")
    p.add_argument("chapter", help="a chapter file (chapters/flat.md) or name (flat)")
    p.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                   help="new parameter values (Python literals), e.g. beta1=0.8")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="a parameter and its new value (Python literal); repeatable")
    p.add_argument("-o", "--output", help="where to write the executed notebook (.ipynb)")
    p.add_argument("--list", action="store_true", help="print the chapter's parameters and exit")
    args = p.parse_args(argv)
    try:
        chapter = resolve_chapter(args.chapter)
        if args.list:
            defaults = parameters_of(chapter)
            if not defaults:
                print(f"{chapter.name} has no cell tagged 'parameters'")
            for name, value in defaults.items():
                print(f"{name} = {value}")
            return 0
        params = {}
        for item in args.assignments:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"assignments must look like NAME=VALUE, got {item!r}")
            params[name.strip()] = _literal(value.strip())
        for name, value in args.parameter:
            params[name] = _literal(value)
        output = args.output or chapter.stem + ".executed.ipynb"
        nb = execute_chapter(chapter, params, output=output)
    except ValueError as err:
        p.error(str(err))
    for k, v in sorted(glued(nb).items()):
        print(f"{k} = {v}")
    print(f"executed notebook written to {os.path.abspath(output)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Which library sources a chapter depends on, and the hash of them that keys its cache entry.

jupyter-cache hashes only a notebook's code.  :class:`LibGraph` reads the import graph of the
packages whose sources should count (``book_cache_packages``); :func:`lib_dependencies` closes
the modules a chapter's code cells import over that graph, and :func:`lib_stamp` hashes their
sources together with the versions of the environment (:func:`distribution_versions`: Python and
the distributions named in ``book_cache_distributions``).  A module that imports dynamically
(``importlib.import_module``) counts as importing every module of its own package folder: the
ledger's collector, which imports its row modules by name, depends on the ledger's rows and
nothing else.

Pure Python: nothing here imports Sphinx, so the tests can call it directly.
"""

from __future__ import annotations

import ast
import hashlib
import re
import sys
from pathlib import Path

__all__ = ["LibGraph", "code_of", "distribution_versions", "imported_names", "is_notebook",
           "lib_dependencies", "lib_stamp"]


_CODE_CELL_RE = re.compile(r"^(`{3,}|~{3,})\{code-cell\}[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)

_IMPORT_LINE_RE = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([^#\n]+)|import\s+([^#\n]+))", re.M)

def package_modules(package: str) -> dict[str, Path]:
    """``{dotted module name: source file}`` of an importable package (or single module)."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None:
        return {}
    if not spec.submodule_search_locations:
        return {package: Path(spec.origin)} if spec.origin and spec.origin.endswith(".py") else {}
    out = {}
    for location in spec.submodule_search_locations:
        root = Path(location)
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("").parts
            if rel[-1] == "__init__":
                rel = rel[:-1]
            if any(part.startswith(".") or part == "__pycache__" for part in rel):
                continue
            out[".".join((package,) + rel)] = path
    return out


def imported_names(source: str, current: str | None = None, is_package: bool = False) -> set[str]:
    """Dotted names a piece of code imports (with their parent packages).

    ``current`` is the module the code belongs to, to resolve relative imports.  Code that does
    not parse (IPython magics) falls back to reading ``import`` lines.
    """
    names: set[str] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        for m in _IMPORT_LINE_RE.finditer(source):
            if m.group(1):
                base = m.group(1)
                names.add(base)
                for alias in m.group(2).replace("(", " ").replace(")", " ").split(","):
                    if alias.split():
                        names.add(f"{base}.{alias.split()[0]}")
            else:
                for alias in m.group(3).split(","):
                    if alias.split():
                        names.add(alias.split()[0])
    else:
        for node in _statements(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    if current is None:
                        continue
                    parts = current.split(".") if is_package else current.split(".")[:-1]
                    parts = parts[: len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
    # importing a.b.c runs a/__init__ and a/b/__init__ too
    return {".".join(n.split(".")[: k + 1]) for n in names if n for k in range(n.count(".") + 1)}


def _statements(tree):
    """Every statement of a module, nested ones (in functions, classes, branches) included.

    An import is a statement, so only statement lists need walking, not the expressions that
    make up most of a tree (``ast.walk`` visits those too, several times slower).
    """
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            todo.extend(getattr(node, field, None) or ())


def dynamic_import(source: str) -> bool:
    """Whether code calls ``importlib.import_module`` or ``__import__`` (or cannot be parsed)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                return True
    return False


class LibGraph:
    """The import graph of the cached packages' modules, read once per build."""

    def __init__(self, packages):
        self.modules: dict[str, Path] = {}
        self.package_of: dict[str, str] = {}
        for package in packages:
            for name, path in package_modules(package).items():
                self.modules[name] = path
                self.package_of[name] = package
        self.sources = {name: path.read_bytes() for name, path in self.modules.items()}
        self.edges: dict[str, set[str]] = {}
        for name, path in self.modules.items():
            text = self.sources[name].decode("utf-8", "replace")
            deps = imported_names(text, name, path.name == "__init__.py") & self.modules.keys()
            # (a text that never names them cannot call them: most modules skip the second parse)
            if ("import_module" in text or "__import__" in text) and dynamic_import(text):
                # it may import any module of its own folder (a package's __init__: of the package)
                folder = name if path.name == "__init__.py" else name.rpartition(".")[0] or name
                deps |= {m for m in self.modules if m == folder or m.startswith(folder + ".")}
            self.edges[name] = deps - {name}

    def closure(self, names) -> list[str]:
        todo = [n for n in names if n in self.modules]
        seen: set[str] = set()
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo.extend(self.edges[n] - seen)
        return sorted(seen)


def code_of(text: str) -> str:
    cells = []
    for m in _CODE_CELL_RE.finditer(text):
        body = m.group(2)
        # drop the cell's option block (":tags: ..." lines or a --- yaml block) and magics
        lines = [ln for ln in body.splitlines() if not re.match(r"\s*(:\w[\w-]*:|[%!])", ln)]
        cells.append("\n".join(lines))
    return "\n".join(cells)


def lib_dependencies(text: str, graph: LibGraph) -> list[str]:
    """Library modules a MyST notebook's code cells depend on (directly or through the lib)."""
    return graph.closure(imported_names(code_of(text)))


def distribution_versions(names) -> str:
    from importlib import metadata

    out = [f"python {sys.version.split()[0]}"]
    for name in names:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} -")
    return "; ".join(out)


def lib_stamp(modules, graph: LibGraph, versions: str) -> str:
    """Hash of the given modules' sources and of the environment's versions."""
    h = hashlib.sha256(versions.encode())
    for name in modules:
        h.update(b"\0" + name.encode() + b"\0" + graph.sources[name])
    return h.hexdigest()[:20]


def is_notebook(text: str) -> bool:
    return _CODE_CELL_RE.search(text) is not None

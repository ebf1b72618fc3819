"""A disk memo for expensive deterministic calls, so that a chapter and the ledger share one run.

The book's computations are deterministic (seeded; two runs give bit-identical numbers), so
a stored result *is* the recomputed one.  A chapter and the ledger row that reports it call
the same function with the same arguments: the first call computes and stores, the second
reads.  Two ways to use it:

- :func:`memoised`, a decorator for a function of the package that is always worth storing
  (Part III's experiments);
- :func:`call`, to memoise one call of any function of the package, e.g.
  ``memo.call(saddle.escape_table, horizon=10**6)``, where the function itself stays plain.

The key of a call is the function's dotted name, its arguments (bound to its signature, with
the defaults filled in, so that ``f()`` and ``f(x=default)`` share one entry) and a
fingerprint of the package: the source of every module of :mod:`adamdyn` and the versions of
Python and of the numerical libraries (:data:`DISTRIBUTIONS`).  Any edit of the package
therefore invalidates every entry; nothing stale is ever read.  Arguments are encoded
exactly (floats by their bits, arrays by dtype, shape and bytes); a call whose arguments
hold a function or class from outside the package and the fingerprinted libraries (whose
code the key would not cover) is computed, not memoised.

The store is the directory named by the environment variable ``ADAMDYN_RESULTS_CACHE``; by
default, in a source checkout of the book, ``_build/.adamdyn_results`` (deleted with the
build, so a cold build computes every result once); otherwise nothing is stored on disk.  It holds
one folder per fingerprint and keeps the :data:`KEEP_VERSIONS` most recently used, so that an
edit of the package leaves its predecessors' results behind only a few times.
Each key has its own lock file (``fcntl``), so two notebooks executing at once compute a
result once: the second waits for the first.  Within one process results are also kept in
memory; the same object is returned to every caller, so do not modify it in place.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import inspect
import io
import os
import pickle
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["DISTRIBUTIONS", "KEEP_VERSIONS", "call", "fingerprint", "key_of", "memoised", "store"]

_PKG = Path(__file__).resolve().parent

#: Distributions whose versions enter the fingerprint (a missing one counts as "-").
DISTRIBUTIONS = ("numpy", "scipy", "sympy", "numba", "jax", "jaxlib", "optax", "scikit-learn")

# modules whose functions and classes may appear inside arguments: their code is covered by
# the fingerprint (the package's sources, the libraries' versions) or is Python's own
_COVERED = ("adamdyn", "numpy", "scipy", "sympy", "numba", "jax", "jaxlib", "optax", "sklearn",
            "builtins", "copyreg", "collections", "functools", "operator", "math", "fractions",
            "decimal", "_codecs", "typing")

#: How many fingerprints' folders the store keeps: the most recently used (by any process).
KEEP_VERSIONS = 3

_memory: dict[str, object] = {}
_folders_used: set[Path] = set()
_fingerprint_cache: dict[tuple, str] = {}


class _NotMemoisable(Exception):
    """An argument whose meaning the key cannot capture."""


def store() -> Path | None:
    """The directory results are stored in, or None (memory only)."""
    env = os.environ.get("ADAMDYN_RESULTS_CACHE")
    if env:
        return Path(env)
    root = _PKG.parents[1]
    return root / "_build" / ".adamdyn_results" if (root / "_config.yml").is_file() else None


def fingerprint() -> str:
    """Hash of the package's sources and of the versions of Python and :data:`DISTRIBUTIONS`.

    Recomputed only when a source file's size or modification time changes.
    """
    files = sorted(_PKG.rglob("*.py"))
    stats = tuple((str(f), s.st_size, s.st_mtime_ns) for f in files for s in [f.stat()])
    if stats not in _fingerprint_cache:
        h = hashlib.sha256(sys.version.encode())
        for name in DISTRIBUTIONS:
            try:
                h.update(f"\0{name} {metadata.version(name)}".encode())
            except metadata.PackageNotFoundError:
                h.update(f"\0{name} -".encode())
        for f in files:
            h.update(b"\0" + f.relative_to(_PKG).as_posix().encode() + b"\0" + f.read_bytes())
        _fingerprint_cache.clear()
        _fingerprint_cache[stats] = h.hexdigest()
    return _fingerprint_cache[stats]


def _covered(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] in _COVERED


class _KeyPickler(pickle.Pickler):
    """Pickles arguments exactly, refusing code whose source the fingerprint does not cover."""

    def reducer_override(self, obj):
        if isinstance(obj, type) or callable(obj) and hasattr(obj, "__qualname__"):
            module = getattr(obj, "__module__", None)
            if not _covered(module) or "<lambda>" in obj.__qualname__ or "<locals>" in obj.__qualname__:
                raise _NotMemoisable(f"{module}.{obj.__qualname__}")
        if type(obj).__module__ == "numpy" and type(obj).__name__ == "ndarray" and not obj.dtype.hasobject:
            # by value only: NumPy pickles a strided view differently from a contiguous copy,
            # and a chapter's row of a run and the ledger's must share one key (numpy is not
            # imported here: an array argument means it already is)
            return _array_key, (obj.dtype.str, obj.shape, obj.tobytes(order="C"))
        return NotImplemented  # pickled as usual (an instance's class comes back here)


def _array_key(dtype, shape, data):
    """Stands for an array in a key (keys are hashed, never unpickled)."""
    raise NotImplementedError


def _encode(value) -> bytes:
    buffer = io.BytesIO()
    pickler = _KeyPickler(buffer, protocol=5)
    # no memo: an object met twice is written out twice, so that the encoding depends on values
    # only, not on which of them happen to be one object (a function's two equal default tuples
    # are one constant; a notebook's two equal literals, compiled statement by statement, are two)
    pickler.fast = True
    try:
        pickler.dump(value)
    except _NotMemoisable:
        raise
    except Exception as exc:  # unpicklable or self-referential arguments (generators, files, ...)
        raise _NotMemoisable(repr(exc)) from exc
    return buffer.getvalue()


def key_of(fn, args=(), kwargs=None) -> str | None:
    """The key of ``fn(*args, **kwargs)``, or None if the call cannot be memoised."""
    if not _covered(getattr(fn, "__module__", None)) or not fn.__module__.startswith("adamdyn"):
        return None
    bound = inspect.signature(fn).bind(*args, **(kwargs or {}))
    bound.apply_defaults()
    arguments = sorted(bound.arguments.items())
    try:
        encoded = _encode(arguments)
    except _NotMemoisable:
        return None
    h = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__}\0{fingerprint()}\0".encode())
    h.update(encoded)
    return h.hexdigest()[:32]


def _version_folder() -> Path | None:
    """The store's folder of the current fingerprint (None: memory only).

    A process's first use marks the folder used and prunes the store to :data:`KEEP_VERSIONS`.
    """
    base = store()
    if base is None:
        return None
    folder = base / fingerprint()[:16]
    if folder not in _folders_used:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "last-used").touch()
        _folders_used.add(folder)
        _prune(base, KEEP_VERSIONS)
    return folder


def _prune(base: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recently used fingerprint folders of the store ``base``,
    and the entries an older layout left at its top."""
    import shutil

    def last_used(folder):
        try:
            return (folder / "last-used").stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    folders = sorted((p for p in base.iterdir() if p.is_dir()), key=last_used, reverse=True)
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    for path in base.iterdir():
        if path.is_file() and path.suffix in (".pickle", ".lock", ".tmp"):
            path.unlink(missing_ok=True)


def _compute_or_load(fn, args, kwargs, key):
    if key in _memory:
        return _memory[key]
    folder = _version_folder()
    if folder is None:
        result = fn(*args, **kwargs)
    else:
        path = folder / f"{fn.__name__}-{key}.pickle"
        # one computation per key even when two notebooks execute at once: the second waits
        with path.with_suffix(".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if path.is_file():
                with path.open("rb") as fh:
                    result = pickle.load(fh)
            else:
                result = fn(*args, **kwargs)
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                try:
                    with tmp.open("wb") as fh:
                        pickle.dump(result, fh, protocol=5)
                except Exception:  # an unpicklable result is returned, not stored
                    tmp.unlink(missing_ok=True)
                else:
                    tmp.replace(path)
    _memory[key] = result
    return result


def call(fn, /, *args, **kwargs):
    """``fn(*args, **kwargs)``, memoised (see the module's docstring for the key and the store).

    Parameters
    ----------
    fn : callable
        A function of :mod:`adamdyn` (a function from elsewhere is called, not memoised: the
        fingerprint does not cover its code).
    *args, **kwargs
        Its arguments.

    Returns
    -------
    object
        What ``fn`` returns, computed once per key.
    """
    fn = getattr(fn, "uncached", fn)  # a memoised function: one key, one lock
    key = key_of(fn, args, kwargs)
    if key is None:
        return fn(*args, **kwargs)
    return _compute_or_load(fn, args, kwargs, key)


def memoised(fn):
    """Decorate a function of :mod:`adamdyn` so that every call of it is memoised (:func:`call`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        key = key_of(fn, args, kwargs)
        if key is None:
            return fn(*args, **kwargs)
        return _compute_or_load(fn, args, kwargs, key)

    wrapper.uncached = fn
    return wrapper

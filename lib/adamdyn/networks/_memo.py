"""Disk memo for Part III's experiments, so that a chapter and the ledger share one computation.

The experiments are deterministic (seeded, bit-identical across runs), so a stored result
*is* the recomputed one.  The key is the function's name, its arguments, the source of
the modules the result depends on and the versions of jax, optax and numpy.  The store
is the directory named by ``ADAMDYN_RESULTS_CACHE``; by default, in a source checkout of
the book, ``_build/.adamdyn_results`` (deleted with the build, so a cold build computes
every experiment once); otherwise nothing is stored.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import inspect
import os
import pickle
from pathlib import Path

import jax
import numpy as np
import optax

_PKG = Path(__file__).resolve().parent
# every module of the science package: a hand-kept list of the ones the experiments import went
# stale when the update rule moved into modules of its own
_SOURCES = sorted(_PKG.parent.rglob("*.py"))


def _store() -> Path | None:
    env = os.environ.get("ADAMDYN_RESULTS_CACHE")
    if env:
        return Path(env)
    root = _PKG.parents[2]
    return root / "_build" / ".adamdyn_results" if (root / "_config.yml").is_file() else None


def _fingerprint() -> str:
    h = hashlib.sha256()
    for f in _SOURCES:
        h.update(f.read_bytes())
    h.update(f"{jax.__version__} {optax.__version__} {np.__version__}".encode())
    return h.hexdigest()


def memoised(fn):
    """Memoise ``fn(**kwargs)`` in memory and, if a store exists, on disk (keyword arguments only)."""
    memory = {}
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(**kwargs):
        # defaults filled in, so that f() and f(x=default) share one entry
        bound = signature.bind(**kwargs)
        bound.apply_defaults()
        kwargs = dict(bound.arguments)
        key = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__} {sorted(kwargs.items())!r} {_fingerprint()}"
                             .encode()).hexdigest()[:32]
        if key in memory:
            return memory[key]
        store = _store()
        path = store / f"{fn.__name__}-{key}.pickle" if store else None
        if path is None:
            result = fn(**kwargs)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            # one computation per key even when two notebooks execute at once: the second waits
            with path.with_suffix(".lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if path.is_file():
                    with path.open("rb") as fh:
                        result = pickle.load(fh)
                else:
                    result = fn(**kwargs)
                    tmp = path.with_suffix(f".{os.getpid()}.tmp")
                    with tmp.open("wb") as fh:
                        pickle.dump(result, fh)
                    tmp.replace(path)
        memory[key] = result
        return result

    return wrapper

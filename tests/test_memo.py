"""The disk memo (adamdyn.memo): one computation per key, keys that see every input."""

import subprocess
import sys

import numpy as np
import pytest

from adamdyn import memo


def _package_function(fn):
    """A test function dressed as one of the package's (the memo memoises only those)."""
    fn.__module__, fn.__qualname__ = "adamdyn.memo_test_helpers", fn.__name__
    return fn


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAMDYN_RESULTS_CACHE", str(tmp_path))
    monkeypatch.setattr(memo, "_memory", {})
    monkeypatch.setattr(memo, "_folders_used", set())
    return tmp_path


def test_defaults_are_filled_in_and_results_stored_on_disk(store):
    calls = []

    @memo.memoised
    @_package_function
    def f(a, b=2, *, c=3):
        calls.append((a, b, c))
        return np.array([a, b, c])

    assert np.array_equal(f(1), f(1, 2)) and np.array_equal(f(a=1, c=3), f(1)) and len(calls) == 1
    assert len(list(store.glob("*/f-*.pickle"))) == 1
    f(1, b=3)
    assert len(calls) == 2
    memo._memory.clear()  # a new process: read from disk, not recomputed
    assert np.array_equal(f(1, 3), [1, 3, 3]) and len(calls) == 2
    assert memo.call(f, 1) is f(1)  # call() of a memoised function: the same entry, no second lock


def test_keys_tell_values_apart_exactly():
    @_package_function
    def g(x):
        return x

    key = lambda x: memo.key_of(g, (x,))  # noqa: E731
    assert key(0.1) == key(0.1) and key(0.1) != key(float(np.nextafter(0.1, 1.0)))
    assert key(1) != key(1.0) != key(np.float32(1.0))
    a = np.arange(6.0)
    assert key(a) == key(a.copy()) != key(a.reshape(2, 3)) != key(a.astype(np.float32))
    b = a.copy()
    b[3] = np.nextafter(b[3], 10)
    assert key(a) != key(b)
    assert key((1, 2)) != key([1, 2])


def test_keys_depend_on_values_not_on_which_values_are_one_object():
    """A notebook compiles each statement apart, so its equal literals are distinct objects,
    while a function's equal default tuples are one constant: both calls must share a key."""

    @_package_function
    def h(a=(1e-3, 3e-3), b=(1e-3, 3e-3)):
        return a, b

    assert h.__defaults__[0] is h.__defaults__[1]
    ns = {}
    exec(compile("a = (1e-3, 3e-3)", "cell", "exec"), ns)
    exec(compile("b = (1e-3, 3e-3)", "cell", "exec"), ns)
    assert ns["a"] is not ns["b"]
    assert memo.key_of(h) == memo.key_of(h, (ns["a"], ns["b"])) == memo.key_of(h, (), dict(b=ns["b"]))
    loop = []
    loop.append(loop)
    assert memo.key_of(h, (loop,)) is None  # self-referential: computed, not memoised


def test_what_the_fingerprint_does_not_cover_is_computed_not_memoised(store):
    calls = []

    def outside(x):  # a function from outside the package: its code is not fingerprinted
        calls.append(x)
        return x

    assert memo.key_of(outside, (1,)) is None
    memo.call(outside, 1), memo.call(outside, 1)
    assert calls == [1, 1]

    @_package_function
    def apply(fn, x):
        return fn(x)

    assert memo.key_of(apply, (lambda x: x, 1)) is None  # a user's lambda as an argument
    assert memo.key_of(apply, (outside, 1)) is None
    assert memo.key_of(apply, (np.sqrt, 1.0)) is not None  # numpy's code: covered by its version


def test_the_fingerprint_covers_the_sources_and_versions():
    fp = memo.fingerprint()
    assert fp == memo.fingerprint() and len(fp) == 64
    assert "jax" in memo.DISTRIBUTIONS and "numpy" in memo.DISTRIBUTIONS


def test_the_memo_imports_no_numerical_library():
    """Importing the memo costs nothing: the fingerprint reads versions from metadata."""
    code = "import sys, adamdyn.memo; print(sorted(m for m in ('jax', 'numpy', 'sympy', 'numba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_array_is_keyed_by_its_values_not_its_memory_layout():
    """A chapter passes a strided row of a run, the ledger the same row of the run read back."""

    @_package_function
    def g(x):
        return x

    def key(x):
        return memo.key_of(g, (x,))

    a = np.random.default_rng(0).random((50, 4, 2))
    row = a[:, 1, 0]
    assert not row.flags.c_contiguous
    assert key(row) == key(row.copy()) == key(np.asfortranarray(a)[:, 1, 0])
    assert key(a) == key(np.asfortranarray(a)) != key(a.transpose(1, 0, 2))
    assert key(row) != key(a[:, 2, 0]) and key(row) != key(row.astype(np.float32))


def test_the_store_keeps_the_most_recently_used_versions(store, monkeypatch):
    import os

    @memo.memoised
    @_package_function
    def f(a):
        return a

    (store / "f-0123.pickle").write_bytes(b"an entry of the older, flat layout")
    versions = ["a" * 64, "b" * 64, "c" * 64, "d" * 64]
    for i, version in enumerate(versions + versions[:1]):  # a, b, c, d, then a again
        monkeypatch.setattr(memo, "fingerprint", lambda version=version: version)
        monkeypatch.setattr(memo, "_folders_used", set())  # a new process
        monkeypatch.setattr(memo, "_memory", {})
        assert f(i) == i
        os.utime(store / version[:16] / "last-used", ns=(i * 10**9, i * 10**9))  # used at i s
    # worked out by hand: at d's first use a is the least recent of four and goes; when a comes
    # back, b is; the flat entry goes at the first use
    assert sorted(p.name for p in store.iterdir()) == ["a" * 16, "c" * 16, "d" * 16]
    # a's folder was made anew: it holds the entry of f(4) only
    assert len(list((store / ("a" * 16)).glob("f-*.pickle"))) == 1

"""The build's cached pybtex plugin lookups (adamdyn_book.sphinx.plugin_lookup)."""

from importlib.metadata import entry_points

import pytest
from adamdyn_book.sphinx import plugin_lookup as P


def test_repeated_query_reads_the_metadata_once():
    calls = []

    def lookup(**kwargs):
        calls.append(kwargs)
        return (kwargs["group"], kwargs["name"])

    cached = P.cached_entry_points(lookup)
    for _ in range(5):
        assert cached(group="g", name="a") == ("g", "a")
    assert cached(name="b", group="g") == ("g", "b")
    assert calls == [{"group": "g", "name": "a"}, {"group": "g", "name": "b"}]


def test_unhashable_and_positional_queries_are_passed_through():
    calls = []

    def lookup(*args, **kwargs):
        calls.append((args, kwargs))
        return len(calls)

    cached = P.cached_entry_points(lookup)
    assert cached(group=["unhashable"]) == 1
    assert cached(group=["unhashable"]) == 2
    assert cached("positional") == 3


def test_installed_lookup_finds_the_same_plugins_as_the_metadata():
    plugin = pytest.importorskip("pybtex.plugin")
    assert P.install() and P.install()  # idempotent: wrapped once
    assert not hasattr(plugin.entry_points.__wrapped__, "cache_clear")
    for group, name in (("pybtex.backends", "plaintext"), ("pybtex.style.formatting", "unsrt"),
                        ("pybtex.style.formatting", "plain")):
        expected = next(ep.load() for ep in entry_points(group=group, name=name))
        assert plugin.find_plugin(group, name) is expected
        assert plugin.find_plugin(group, name) is expected

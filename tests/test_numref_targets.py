"""Numbered references read each target page's doctree once (adamdyn_book.sphinx.numref_targets)."""

import os

from adamdyn_book.sphinx import numref_targets as N


class _Env:
    """The two things of a Sphinx environment the cache uses: the doctree folder and get_doctree."""

    def __init__(self, folder):
        self.doctreedir = str(folder)
        self.reads = []

    def get_doctree(self, docname):
        self.reads.append(docname)
        return {"doc": docname, "copy": len(self.reads)}


def _store(folder, docname, text):
    path = folder / f"{docname}.doctree"
    path.write_text(text)
    return path


def test_a_page_is_read_once_while_its_doctree_is_unchanged(tmp_path):
    env = _Env(tmp_path)
    _store(tmp_path, "a", "one")
    _store(tmp_path, "b", "two")
    with N._doctrees_read_once(env):
        first = env.get_doctree("a")
        assert env.get_doctree("a") is first
        env.get_doctree("b")
    with N._doctrees_read_once(env):  # a later reference: still the same stored doctree
        assert env.get_doctree("a") is first
    assert env.reads == ["a", "b"]


def test_a_rewritten_doctree_is_read_again(tmp_path):
    env = _Env(tmp_path)
    path = _store(tmp_path, "a", "one")
    with N._doctrees_read_once(env):
        first = env.get_doctree("a")
    path.write_text("a longer doctree")
    os.utime(path, ns=(1, 1))
    with N._doctrees_read_once(env):
        assert env.get_doctree("a") is not first
    assert env.reads == ["a", "a"]


def test_other_callers_get_fresh_doctrees(tmp_path):
    env = _Env(tmp_path)
    _store(tmp_path, "a", "one")
    with N._doctrees_read_once(env):
        env.get_doctree("a")
    assert "get_doctree" not in vars(env)  # the method again, outside a numbered reference
    assert env.get_doctree("a") is not env.get_doctree("a")


def test_install_wraps_the_standard_domain_once():
    from sphinx.domains.std import StandardDomain

    N.install()
    wrapped = StandardDomain._resolve_numref_xref
    N.install()
    assert StandardDomain._resolve_numref_xref is wrapped and wrapped._reads_doctrees_once
    assert not getattr(wrapped.__wrapped__, "_reads_doctrees_once", False)

"""sphinx-proof's LaTeX labels on pages whose title has an apostrophe (adamdyn_book.sphinx.proof_latex)."""

import pytest
from docutils import nodes

from adamdyn_book.sphinx import proof_latex as P


class _Env:
    """What sphinx-proof's own lookup reads: the page titles as Sphinx records them (smart quotes)."""

    titles = {"chapters/stable_region": nodes.title(text="Adam\u2019s stable hyperparameter region")}


def _inlined_page():
    """A page as the LaTeX builder inlines it: its sections stamped with its docname, the top
    section named by the title as written (a straight apostrophe), a proposition two levels down."""
    top = nodes.section(docname="chapters/stable_region", names=["adam's stable hyperparameter region"])
    sub = nodes.section(docname="chapters/stable_region", names=["the stable region"])
    prop = nodes.container()
    sub += prop
    top += sub
    return top, prop


def test_the_page_is_found_whatever_its_title():
    _, prop = _inlined_page()
    assert P.page_of(_Env(), prop, "section") == "chapters/stable_region"


def test_sphinx_proofs_own_lookup_misses_the_page_only_for_the_apostrophe():
    """The bug the module works around (the label becomes 'None:...'): sphinx-proof's lookup finds
    the page when the recorded title is written as the source writes it, and misses it when smart
    quotes changed the apostrophe. If the second assertion fails, sphinx-proof has fixed it."""
    pytest.importorskip("sphinx_proof.nodes")
    assert P.install()
    original = P._ORIGINAL["find_parent"]
    _, prop = _inlined_page()
    straight = _Env()
    straight.titles = {"chapters/stable_region": nodes.title(text="Adam's stable hyperparameter region")}
    assert original(straight, prop, "section") == "chapters/stable_region"
    assert original(_Env(), prop, "section") is None


def test_a_node_outside_any_page_has_none():
    assert P.page_of(_Env(), nodes.container(), "section") is None


def test_install_replaces_the_lookup_sphinx_proof_uses():
    sp = pytest.importorskip("sphinx_proof.nodes")
    assert P.install() and P.install()  # idempotent
    assert sp.find_parent is P.page_of

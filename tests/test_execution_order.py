"""The order the build executes notebooks in (longest first, the readers of results before a tail of
short chapters) and the
order Sphinx reads them in meanwhile (by expected finishing time)."""

from pathlib import Path

from adamdyn_book.sphinx.execution import (READS_RESULTS, STARTS_FIRST, TYPICAL_SECONDS, estimated_seconds, execution_order,
                                           read_order)
from adamdyn_book.sphinx.libgraph import code_of, imported_names

ROOT = Path(__file__).resolve().parents[1]


def test_longest_first_and_the_readers_last():
    seconds = {"a": 3.0, "b": 30.0, "ledger": 50.0, "c": 10.0}
    assert execution_order(seconds, {"ledger"}) == ["b", "c", "a", "ledger"]


def test_the_readers_start_before_the_shortest_tail_that_lasts_as_long_as_they_do():
    seconds = {"chapters/flat": 30.0, "big": 40.0, "mid": 12.0, "ledger": 9.5, "s1": 7.0, "s2": 3.0, "s3": 1.0}
    # from the end: s3 + s2 = 4 s < 9.5 s, s3 + s2 + s1 = 11 s >= 9.5 s
    assert execution_order(seconds, {"ledger"}) == ["chapters/flat", "big", "mid", "ledger", "s1", "s2", "s3"]
    # 11 s is s1 + s2 + s3 exactly; 11.5 s would need mid, longer than the ledger: then it runs last
    assert execution_order({**seconds, "ledger": 11.0}, {"ledger"})[3] == "ledger"
    assert execution_order({**seconds, "ledger": 11.5}, {"ledger"})[-1] == "ledger"


def test_a_chapter_that_is_short_only_by_the_memo_is_not_in_the_readers_tail():
    # its last run read its experiment from the memo (3 s); a cold build computes it (TYPICAL_SECONDS)
    name = "chapters/networks_figure1"
    seconds = {"chapters/flat": 30.0, "chapters/ledger": 9.0, name: 3.0, "s1": 5.0, "s2": 5.0}
    assert TYPICAL_SECONDS[name] > 9.0
    # last by its 3 s, it ends the tail, which then cannot reach the ledger's 9 s: the ledger runs last
    assert execution_order(seconds, {"chapters/ledger"}) == ["chapters/flat", "s1", "s2", name, "chapters/ledger"]


def test_the_readers_never_start_before_the_chapters_that_start_first():
    seconds = {"chapters/flat": 30.0, "a": 2.0, "ledger": 5.0}
    assert execution_order(seconds, {"ledger"}) == ["chapters/flat", "a", "ledger"]


def test_the_chapter_that_compiles_the_shared_kernel_starts_first():
    seconds = {"chapters/flat": 30.0, "chapters/vector_field": 41.0, "chapters/ode": 27.0}
    assert execution_order(seconds) == ["chapters/flat", "chapters/vector_field", "chapters/ode"]
    assert execution_order({"a": 1.0, "b": 2.0}, first=("a",)) == ["a", "b"]
    assert set(STARTS_FIRST) <= set(TYPICAL_SECONDS)


def test_unknown_times_fall_back_to_the_typical_ones_then_the_median():
    seconds = {"chapters/flat": None, "chapters/reference_implementations": None, "x": 20.0, "new": None}
    order = execution_order(seconds)
    assert TYPICAL_SECONDS["chapters/flat"] > 20.0 > TYPICAL_SECONDS["chapters/reference_implementations"]
    # "new" is unknown everywhere: it takes the median of the known (20, from "x"), ties by name
    assert order == ["chapters/flat", "new", "x", "chapters/reference_implementations"]
    assert execution_order({"p": None, "q": None}) == ["p", "q"]  # nothing known: by name


def test_the_last_time_in_the_cache_wins_over_the_typical_one():
    assert execution_order({"chapters/ode": 1.0, "chapters/reference_implementations": 2.0}) == [
        "chapters/reference_implementations", "chapters/ode"]


def test_the_ledger_is_the_one_chapter_that_reads_the_others_results():
    readers = sorted(p.stem for p in (ROOT / "chapters").glob("*.md")
                     if READS_RESULTS in imported_names(code_of(p.read_text(encoding="utf-8"))))
    assert readers == ["ledger"]


def test_every_typical_time_names_a_chapter():
    assert {name.split("/")[1] for name in TYPICAL_SECONDS} <= {p.stem for p in (ROOT / "chapters").glob("*.md")}


def test_documents_are_read_in_the_order_their_notebooks_finish():
    # two workers: b (30 s) and c (10 s) start at 0; a (3 s) follows c and ends at 13 s; the
    # ledger (8 s) follows a, ending at 21 s, before b ends at 30 s (worked out by hand)
    seconds = {"a": 3.0, "b": 30.0, "ledger": 8.0, "c": 10.0}
    order = execution_order(seconds, {"ledger"})
    docnames = ["a", "b", "c", "intro", "ledger", "status"]
    assert read_order(docnames, order, seconds, 2) == ["intro", "status", "c", "a", "ledger", "b"]
    # one worker: the execution order itself
    assert read_order(docnames, order, seconds, 1) == ["intro", "status", "b", "c", "a", "ledger"]
    # ties (equal finishing times) keep the execution order
    assert read_order(["x", "y"], ["y", "x"], {"x": 5.0, "y": 5.0}, 2) == ["y", "x"]


def test_estimated_seconds_fill_the_unknown_times():
    assert estimated_seconds({"chapters/flat": None, "x": 4.0, "y": None}) == {
        "chapters/flat": TYPICAL_SECONDS["chapters/flat"], "x": 4.0, "y": 4.0}
    assert estimated_seconds({"y": None}) == {"y": 10.0}

"""Two builds of one commit give identical pages: no chapter reads the wall clock.

Timings belong to the execution-status page (built from myst-nb's records) and to benchmarks/.
"""

import re
from pathlib import Path

import pytest

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("*.md"))
CLOCK = re.compile(r"\b(?:time\.(?:perf_counter|perf_counter_ns|time|time_ns|monotonic|process_time)"
                   r"|datetime(?:\.datetime)?\.(?:now|today|utcnow)|date\.today)\s*\(")


def test_the_clock_pattern_catches_the_usual_calls():
    for call in ["t0 = time.perf_counter()", "time.time()", "datetime.now()", "datetime.datetime.now(tz)",
                 "date.today()"]:
        assert CLOCK.search(call), call
    assert not CLOCK.search("timeout = 3  # the time.perf_counter docs")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_reads_the_wall_clock(chapter):
    hits = [f"{chapter.name}:{n}: {line.strip()}" for n, line in enumerate(chapter.read_text().splitlines(), 1)
            if CLOCK.search(line)]
    assert not hits, "wall-clock timings make pages differ between builds:\n" + "\n".join(hits)

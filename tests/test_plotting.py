"""The book's colours: one per optimizer name, and distinct ones for numbered series."""

import numpy as np

from adamdyn_book.plotting import COLORS, color_of


def test_numbered_series_get_distinct_colours():
    # a figure that colours its series by index (Part III does) must not draw them all grey
    assert len({color_of(i) for i in range(10)}) == 10
    assert color_of(np.int64(2)) == color_of(2) == "C2"


def test_names_keep_the_book_colours():
    assert color_of("Adam") == COLORS["Adam"]
    assert color_of("no such optimizer") == "#7f7f7f"

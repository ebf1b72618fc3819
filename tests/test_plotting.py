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


def test_legends_are_drawn_at_least_8_points_whatever_a_chapter_asks():
    import io

    import matplotlib
    import matplotlib.pyplot as plt

    from adamdyn_book.plotting import use_book_style

    matplotlib.use("agg")
    use_book_style()
    fig, (ax0, ax1) = plt.subplots(1, 2)
    ax0.plot([0, 1], label="small")
    ax0.legend(fontsize=5, title="t", title_fontsize=4)
    ax1.plot([0, 1], label="large")
    ax1.legend(fontsize=11)
    fig.savefig(io.BytesIO(), format="png")
    assert [t.get_fontsize() for t in ax0.get_legend().get_texts()] == [8.0]
    assert ax0.get_legend().get_title().get_fontsize() == 8.0
    assert [t.get_fontsize() for t in ax1.get_legend().get_texts()] == [11.0]  # larger stays
    plt.close(fig)

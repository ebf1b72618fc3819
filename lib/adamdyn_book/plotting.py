"""One figure style for the whole book.

Every chapter calls :func:`use_book_style` once; figures then share fonts,
sizes, a white card background (readable in the theme's light and dark
modes) and retina PNG output.  :data:`COLORS` fixes one colour per optimizer
so that Adam is the same colour on every page.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import matplotlib.pyplot as plt

__all__ = ["COLORS", "LEGEND_MIN_POINTS", "use_book_style", "color_of", "figure", "enforce_legend_minimum"]

#: The smallest legend text (points) a figure of the book shows: at the book's 100 dpi a
#: smaller legend is unreadable on a phone.
LEGEND_MIN_POINTS = 8.0

#: One colour per optimizer, used on every page.
COLORS = {
    "SGD": "#4d4d4d",
    "momentum": "#8c564b",
    "AdaGrad": "#2ca02c",
    "RMSProp": "#1f77b4",
    "Adam": "#d62728",
    "AdamW": "#ff7f0e",
    "ODE": "#9467bd",
}


def color_of(name) -> str:
    """The book's colour for an optimizer name (grey for unknown names), or, for an integer
    ``i``, the ``i``-th colour of matplotlib's default cycle (``"C0"``, ``"C1"``, ...), so that the
    series of one figure indexed by number get distinct colours."""
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        return f"C{int(name) % 10}"
    return COLORS.get(name, "#7f7f7f")


def use_book_style() -> None:
    """Set the book's matplotlib style and ask the notebook for retina PNGs."""
    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
        "axes.titlesize": 10,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "lines.linewidth": 1.4,
        "image.cmap": "viridis",
        # every pyplot figure raises its legends' text to LEGEND_MIN_POINTS when drawn
        "figure.hooks": ["adamdyn_book.plotting:enforce_legend_minimum"],
    })
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # outside a notebook kernel there is nothing to configure
        return
    set_matplotlib_formats("retina")


def figure(ncols: int = 1, nrows: int = 1, width: float = 6.4, height: float = 4.0, **kwargs):
    """``plt.subplots`` with the book's default size per panel and constrained layout."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols if ncols > 1 else width, height * nrows),
                        layout="constrained", **kwargs)


def _raise_legend_text(fig, minimum: float) -> None:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.get_axes()]
    for legend in filter(None, legends):
        for text in list(legend.get_texts()) + [legend.get_title()]:
            if text.get_fontsize() < minimum:
                text.set_fontsize(minimum)


def enforce_legend_minimum(fig, minimum: float = LEGEND_MIN_POINTS):
    """Make every draw of ``fig`` raise its legends' text to at least ``minimum`` points.

    A chapter may ask for a small legend (``ax.legend(fontsize=6)``) to fit a crowded panel;
    the book keeps legends readable whatever the chapter asked.  Installed on every pyplot
    figure by :func:`use_book_style` (matplotlib's ``figure.hooks``); the legend's box is laid
    out at draw time, so it grows with its text.
    """
    draw = fig.draw

    def draw_with_readable_legends(renderer):
        _raise_legend_text(fig, minimum)
        return draw(renderer)

    fig.draw = draw_with_readable_legends
    return fig

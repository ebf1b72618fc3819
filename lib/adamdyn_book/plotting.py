"""One figure style for the whole book.

Every chapter calls :func:`use_book_style` once; figures then share fonts,
sizes, a white card background (readable in the theme's light and dark
modes) and retina PNG output.  :data:`COLORS` fixes one colour per optimizer
so that Adam is the same colour on every page.

Rendering is a large part of a chapter's run time, so the style also keeps it cheap: a figure
laid out by a layout engine (:func:`figure`'s constrained layout) already lies inside its own
canvas, and the notebook prints it at that size, without IPython's ``bbox_inches="tight"``
pass (one more walk over every artist to measure and crop); a figure without a layout is
cropped as before (:func:`retina_png`).  The mathtext expressions of the figures (log-scale
tick labels such as :math:`10^{-2}`) are parsed once per process, not once per renderer
(:func:`share_mathtext_parses`).
"""

from __future__ import annotations

import functools

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "COLORS",
    "LEGEND_MIN_POINTS",
    "color_of",
    "enforce_legend_minimum",
    "figure",
    "retina_png",
    "share_mathtext_parses",
    "use_book_style",
    "warm_mathtext",
]

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
    """Set the book's matplotlib style and ask the notebook for retina PNGs.

    The notebook shows figures as :func:`retina_png` draws them.
    """
    share_mathtext_parses()
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
    from IPython import get_ipython
    from matplotlib.figure import Figure

    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, retina_png)


def retina_png(fig):
    """A figure as the notebook stores it: a PNG at twice ``figure.dpi`` (base64) and its size.

    A figure with constrained or tight layout is printed at its own size (``bbox_inches=None``):
    the layout already keeps its labels, legends and colour bars inside the canvas, and
    IPython's default ``"tight"`` would measure every artist once more to crop it.  A figure
    without a layout engine (``plt.subplots`` without ``layout=``) is cropped to its content as
    before, since it may reach past its canvas.
    """
    from IPython.core.pylabtools import retina_figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

    laid_out = isinstance(fig.get_layout_engine(), (ConstrainedLayoutEngine, TightLayoutEngine))
    return retina_figure(fig, base64=True, bbox_inches=None if laid_out else "tight")


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


@functools.lru_cache(maxsize=1024)
def _shared_parse(parse, output_type, s, dpi, prop, antialiased, load_glyph_flags):
    return parse(_PARSERS[output_type], s, dpi, prop, antialiased, load_glyph_flags)


_PARSERS: dict = {}


def share_mathtext_parses() -> None:
    """Parse each mathtext expression once per process, whatever renderer asks (idempotent).

    Matplotlib caches a parse per ``MathTextParser`` instance, and every renderer (one per
    figure and canvas size) makes its own, in a shared cache of only 50 entries; so each figure
    parsed its tick labels (``$\\mathdefault{10^{-2}}$``, at several milliseconds each) anew.  The
    parse depends only on the expression, dpi, font, antialiasing and hinting (the cache's own
    key, without the instance), so one cache per output type (``"vector"``/``"raster"``)
    returns the same result.
    """
    from matplotlib.mathtext import MathTextParser

    if getattr(MathTextParser._parse_cached, "_adamdyn_shared", False):
        return
    parse = MathTextParser._parse_cached.__wrapped__  # matplotlib's uncached parse

    def parse_shared(self, s, dpi, prop, antialiased, load_glyph_flags):
        _PARSERS.setdefault(self._output_type, self)
        return _shared_parse(parse, self._output_type, s, dpi, prop, antialiased, load_glyph_flags)

    parse_shared._adamdyn_shared = True
    MathTextParser._parse_cached = parse_shared


def warm_mathtext() -> None:
    """Build matplotlib's mathtext grammar and load the fonts of a first parse (about 0.1 s).

    Pure Python objects and font files, no backend and no thread: the build's kernel zygote
    calls this once, so that each chapter's kernel does not repeat it for its first tick label.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    MathTextParser("path").parse(r"$\mathdefault{10^{-2}}\ \alpha_t$", 200, FontProperties())

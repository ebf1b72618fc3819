"""Every figure of the book fits its canvas.

The notebook prints a laid-out figure at its own size (``bbox_inches=None``, see
:func:`adamdyn_book.plotting.retina_png`), so nothing crops it to its content any more: a
label, legend or title that constrained layout could not keep inside the canvas is cut at the
edge.  A cut shows in the image as ink on its outermost pixel frame, which is otherwise the
white background; the book's every PNG is checked for that.
"""

import io
import re

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from adamdyn_book.plotting import share_mathtext_parses, use_book_style
from PIL import Image

WHITE = (255, 255, 255)


@pytest.fixture(autouse=True)
def _agg():
    matplotlib.use("agg")


def ink_on_frame(png, background=WHITE) -> int:
    """How many pixels of the image's outermost frame (its first and last rows and columns)
    differ from ``background``; ``png`` is a path or PNG bytes.  Transparent pixels count as
    background (a transparent PNG's frame is the page)."""
    source = io.BytesIO(png) if isinstance(png, bytes) else png
    rgba = np.asarray(Image.open(source).convert("RGBA"))
    frame = np.concatenate([rgba[0], rgba[-1], rgba[1:-1, 0], rgba[1:-1, -1]])
    differs = np.any(frame[:, :3] != np.array(background, dtype=np.uint8), axis=1) & (frame[:, 3] > 0)
    return int(differs.sum())


def _png(fig, **kwargs) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **kwargs)
    plt.close(fig)
    return buffer.getvalue()


def test_the_check_passes_a_figure_kept_inside_its_canvas():
    use_book_style()
    fig, ax = plt.subplots(figsize=(3, 2), layout="constrained")
    ax.plot([1, 10, 100], [1e-3, 1e-1, 1])
    ax.set(yscale="log", xlabel="a long x label, $t$", ylabel=r"$\|\theta_t\|$", title="a title")
    ax.legend(["Adam"], loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside the axes
    assert ink_on_frame(_png(fig)) == 0


def test_the_check_finds_a_label_cut_at_the_canvas_edge():
    use_book_style()
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1])
    fig.text(0.9, 0.5, "cut off", fontsize=20)  # a figure text: no layout moves it
    assert ink_on_frame(_png(fig)) > 0
    fig, ax = plt.subplots(figsize=(3, 2), layout="none")
    ax.plot([0, 1])
    ax.set_ylabel("a y label without a layout")  # the axes fill the canvas: the label is cut
    fig.subplots_adjust(left=0.0)
    assert ink_on_frame(_png(fig)) > 0


def test_laid_out_figures_print_uncropped_and_others_cropped_at_retina_resolution():
    import base64

    from adamdyn_book.plotting import figure, retina_png
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    use_book_style()
    assert InteractiveShell.instance().display_formatter.formatters["image/png"].lookup_by_type(
        Figure) is retina_png  # what the notebook stores
    fig, ax = figure(width=3.0, height=2.0)
    ax.plot([0, 1])
    data, size = retina_png(fig)
    png = base64.b64decode(data)
    assert Image.open(io.BytesIO(png)).size == (600, 400)  # 200 dpi, the whole canvas
    assert size == {"width": 300, "height": 200}
    assert ink_on_frame(png) == 0
    fig, ax = plt.subplots(figsize=(3.0, 2.0))  # no layout: cropped to its content
    ax.plot([0, 1])
    ax.set_ylabel("a label")
    data, size = retina_png(fig)
    png = base64.b64decode(data)
    assert Image.open(io.BytesIO(png)).size != (600, 400)
    assert ink_on_frame(png) == 0
    plt.close("all")


def test_a_shared_mathtext_parse_draws_the_same_pixels():
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    share_mathtext_parses()
    share_mathtext_parses()  # idempotent
    expression, prop = r"$\mathdefault{10^{-7}}\beta_2$", FontProperties(size=9)
    first = MathTextParser("path").parse(expression, 200, prop)
    assert MathTextParser("path").parse(expression, 200, prop.copy()) is first  # another renderer's
    assert MathTextParser("agg").parse(expression, 200, prop) is not first  # other output type

    def log_figure():
        fig, ax = plt.subplots(figsize=(2.5, 2), layout="constrained")
        ax.semilogy([1, 2, 3], [3e-6, 1e-3, 2e-1])
        ax.set_xlabel(r"$\alpha_{17}$")
        return _png(fig)

    assert log_figure() == log_figure()  # the second renderer draws from the first one's parses


@pytest.mark.book
def test_no_figure_of_the_book_is_cut_at_its_edge(built_book):
    # the images the pages show (an incremental build leaves earlier ones in _images)
    shown = {m for page in built_book.rglob("*.html")
             for m in re.findall(r"_images/([\w.-]+\.png)", page.read_text(encoding="utf-8"))}
    images = [built_book / "_images" / name for name in sorted(shown)]
    assert len(images) > 50
    cut = {p.name: n for p in images if (n := ink_on_frame(p))}
    assert cut == {}

"""What a chapter shows and cites: :func:`show` typesets a sympy expression as a display equation;
:func:`glue_values` glues several named values for the prose in one call."""

from __future__ import annotations

__all__ = ["show", "glue_values"]


def show(expr) -> None:
    """Display ``expr`` (a sympy expression, equation or matrix) as typeset display math.

    In a notebook this is ``IPython.display.display(Math(sympy.latex(expr)))``: the page shows
    the equation through MathJax, not a plain-text repr.
    """
    import sympy as sp
    from IPython.display import Math, display

    display(Math(sp.latex(expr)))


def glue_values(**values) -> None:
    """Glue each keyword argument as a named value for the prose, without displaying it.

    ``glue_values(sr_c=0.1, sr_rtol=1e-10)`` is ``glue("sr_c", 0.1, display=False)`` and
    ``glue("sr_rtol", 1e-10, display=False)``: the text cites them as ``{glue:text}`sr_c```.
    """
    from myst_nb import glue

    for name, value in values.items():
        glue(name, value, display=False)

"""Display math in a chapter: :func:`show` typesets a sympy expression as a display equation."""

from __future__ import annotations

__all__ = ["show"]


def show(expr) -> None:
    """Display ``expr`` (a sympy expression, equation or matrix) as typeset display math.

    In a notebook this is ``IPython.display.display(Math(sympy.latex(expr)))``: the page shows
    the equation through MathJax, not a plain-text repr.
    """
    import sympy as sp
    from IPython.display import Math, display

    display(Math(sp.latex(expr)))

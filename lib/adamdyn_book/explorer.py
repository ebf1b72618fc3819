r"""Links to the book's in-browser explorer, preloaded with a chapter's setting.

The explorer page (``chapters/explorer.md``) recomputes the runs of :func:`adamdyn.run` in the
reader's browser, with the same update rule in the same floating-point order (its JavaScript
is tested against this package bit for bit).  Its settings travel in the URL's query string;
:func:`explorer_url` writes that string from the names this package uses, checking every value
the way :func:`adamdyn.adam` and friends do, so that a chapter can link each trajectory figure
to the same runs, live.

Examples
--------
>>> explorer_url(landscape="saddle", optimizers=["SGD", "Adam"], start=(1e-3, 1.0), steps=10**6)[:41]
'explorer.html?landscape=saddle&optimizers'
"""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np

from adamdyn.validation import as_param, check_beta, check_int, check_nonnegative, check_positive

__all__ = ["LANDSCAPES", "OPTIMIZERS", "MAX_STEPS", "explorer_url", "explorer_link", "explorer_embed",
           "default_setting", "static_figure", "html_with_text"]

#: Landscape names the explorer knows (:mod:`adamdyn.landscapes`: ``saddle``, ``smooth_valley``,
#: ``sharp_valley``, ``plateau``, ``quartic`` and a two-coordinate ``quadratic``).
LANDSCAPES = ("saddle", "smooth", "sharp", "plateau", "quartic", "quadratic")
#: Optimizer names, as ``Trajectory.names``.
OPTIMIZERS = ("SGD", "momentum", "AdaGrad", "RMSProp", "Adam", "AdamW")
#: The longest run the explorer computes.
MAX_STEPS = 10**6


def _scalar(check, name, value) -> float:
    arr = check(name, value)
    if arr.size != 1:
        raise ValueError(f"{name} must be a single number, got {value!r}")
    return float(arr[0])


def _number(x: float) -> str:
    """Shortest text that reads back as the same float64 (JavaScript's ``Number`` reads it exactly)."""
    return repr(float(x)).replace("e-0", "e-").replace("e+0", "e+")


def _pair(name, value) -> tuple[float, float]:
    arr = as_param(name, value)
    if arr.size != 2:
        raise ValueError(f"{name} must have two coordinates, got {value!r}")
    return float(arr[0]), float(arr[1])


def explorer_url(landscape: str = "saddle", optimizers=("SGD", "AdaGrad", "RMSProp", "Adam"), *,
                 start=(1e-3, 1.0), steps: int = 10_000, lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8, rmsprop_beta2: float = 0.99,
                 adagrad_eps: float = 1e-10, momentum: float = 0.9, weight_decay: float = 1e-2,
                 bias_correction: bool = True, eps_inside: bool = False, coeffs=None, plateau=None,
                 view=None, page: str = "explorer.html") -> str:
    r"""The explorer's address with a setting preloaded.

    Parameters
    ----------
    landscape : str
        One of :data:`LANDSCAPES`.
    optimizers : sequence of str
        Any of :data:`OPTIMIZERS`, each run from ``start`` with the hyperparameters below, as
        :func:`adamdyn.saddle.four_optimizers` builds them: ``SGD`` is ``sgd(lr)``, ``momentum``
        is ``momentum(lr, momentum)``, ``AdaGrad`` is ``adagrad(lr, adagrad_eps)``, ``RMSProp``
        is ``rmsprop(lr, rmsprop_beta2, eps)``, ``Adam`` and ``AdamW`` are
        ``adam(lr, beta1, beta2, eps, bias_correction, eps_inside)`` (``AdamW`` with
        ``weight_decay``).
    start : (float, float)
        The common starting point :math:`w_0`.
    steps : int
        Number of updates, 1 to :data:`MAX_STEPS`.
    coeffs : (float, float), optional
        :math:`(a_1, a_2)` of the quadratic :math:`a_1 w_1^2 + a_2 w_2^2` (``landscape="quadratic"``).
    plateau : (float, float, float), optional
        ``(edge, slope, power)`` of :func:`adamdyn.landscapes.plateau` (``landscape="plateau"``).
    view : (float, float, float, float), optional
        ``(w1_min, w1_max, w2_min, w2_max)`` of the contour plot (default: the landscape's).
    page : str
        The explorer page, relative to the linking page (chapters sit beside it).

    Returns
    -------
    str
        ``page`` followed by the query string the explorer reads.

    Raises
    ------
    ValueError
        Naming the parameter and its allowed range.
    """
    if landscape not in LANDSCAPES:
        raise ValueError(f"landscape must be one of {', '.join(LANDSCAPES)}, got {landscape!r}")
    if isinstance(optimizers, str):
        optimizers = [optimizers]
    optimizers = list(optimizers)
    if not optimizers or any(o not in OPTIMIZERS for o in optimizers) or len(set(optimizers)) != len(optimizers):
        raise ValueError(f"optimizers must be distinct names among {', '.join(OPTIMIZERS)}, got {optimizers!r}")
    w0 = _pair("start", start)
    steps = check_int("steps", steps, 1)
    if steps > MAX_STEPS:
        raise ValueError(f"steps must be an integer in [1, {MAX_STEPS}], got {steps!r}")
    query = {
        "landscape": landscape,
        "optimizers": ",".join(optimizers),
        "start": ",".join(_number(c) for c in w0),
        "steps": str(steps),
        "lr": _number(_scalar(check_positive, "lr", lr)),
        "beta1": _number(_scalar(check_beta, "beta1", beta1)),
        "beta2": _number(_scalar(check_beta, "beta2", beta2)),
        "eps": _number(_scalar(check_nonnegative, "eps", eps)),
        "rmsprop_beta2": _number(_scalar(check_beta, "rmsprop_beta2", rmsprop_beta2)),
        "adagrad_eps": _number(_scalar(check_nonnegative, "adagrad_eps", adagrad_eps)),
        "momentum": _number(_scalar(check_beta, "momentum", momentum)),
        "weight_decay": _number(_scalar(check_nonnegative, "weight_decay", weight_decay)),
        "bias_correction": "1" if _flag("bias_correction", bias_correction) else "0",
        "eps_inside": "1" if _flag("eps_inside", eps_inside) else "0",
    }
    if coeffs is not None:
        if landscape != "quadratic":
            raise ValueError(f"coeffs applies to landscape='quadratic' only, got landscape={landscape!r}")
        query["coeffs"] = ",".join(_number(c) for c in _pair("coeffs", coeffs))
    if plateau is not None:
        if landscape != "plateau":
            raise ValueError(f"plateau applies to landscape='plateau' only, got landscape={landscape!r}")
        p = as_param("plateau", plateau)
        if p.size != 3 or p[1] <= 0 or p[2] < 1:
            raise ValueError(f"plateau must be (edge, slope > 0, power >= 1), got {plateau!r}")
        query["plateau"] = ",".join(_number(c) for c in p)
    if view is not None:
        v = as_param("view", view)
        if v.size != 4 or not (v[0] < v[1] and v[2] < v[3]):
            raise ValueError(f"view must be (w1_min, w1_max, w2_min, w2_max) with min < max, got {view!r}")
        query["view"] = ",".join(_number(c) for c in v)
    return f"{page}?{urlencode(query, safe=',')}"


def _flag(name, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def html_with_text(html: str, text: str):
    """An :class:`IPython.display.HTML` output whose plain-text form is ``text``.

    A page shows the HTML; the PDF (whose LaTeX builder takes ``text/plain``) shows ``text``
    instead of ``<IPython.core.display.HTML object>``.
    """
    from IPython.display import HTML

    class _HTMLWithText(HTML):
        def __repr__(self):
            return text

    return _HTMLWithText(html)


def explorer_link(text: str, **settings):
    """An HTML link (for a chapter's output) to :func:`explorer_url` ``(**settings)``.

    Returns an :class:`IPython.display.HTML` object; ``text`` is shown as the link (and, in the
    PDF, as plain text naming the online book's explorer).
    """
    from html import escape

    url = explorer_url(**settings)
    return html_with_text(f'<p class="explorer-link"><a href="{escape(url)}">{escape(text)}</a></p>',
                          f"{text}: in the online book's explorer.")


def explorer_embed(**settings):
    """The explorer itself, embedded in a chapter's output with the setting of :func:`explorer_url`.

    Returns an :class:`IPython.display.HTML` element.  The book's Sphinx extension
    (:mod:`adamdyn_book.sphinx.explorer_assets`) links the explorer's scripts into every page that holds one; an
    embedded explorer leaves the page's address alone, so a page may hold several.
    """
    from html import escape

    query = explorer_url(page="", **settings).removeprefix("?")
    return html_with_text(f'<div data-adam-explorer data-settings="{escape(query)}"></div>',
                          "(An interactive explorer: in the online book.)")


def default_setting() -> dict:
    """The setting the explorer opens with (no query string): :func:`explorer_url`'s defaults,
    which are those of the page's script (``DEFAULTS`` in ``_static/explorer/explorer.js``)."""
    import inspect

    return {name: p.default for name, p in inspect.signature(explorer_url).parameters.items()
            if p.default is not inspect.Parameter.empty and name != "page"}


def _default_runs(setting):
    import adamdyn as ad
    from adamdyn import landscapes as L

    if setting["landscape"] != "saddle":
        raise ValueError(f"landscape: the static figure draws the explorer's default, the saddle; "
                         f"got {setting['landscape']!r}")
    make = {"SGD": lambda: ad.sgd(lr=setting["lr"]),
            "AdaGrad": lambda: ad.adagrad(lr=setting["lr"], eps=setting["adagrad_eps"]),
            "RMSProp": lambda: ad.rmsprop(lr=setting["lr"], beta2=setting["rmsprop_beta2"], eps=setting["eps"]),
            "Adam": lambda: ad.adam(lr=setting["lr"], beta1=setting["beta1"], beta2=setting["beta2"],
                                    eps=setting["eps"], bias_correction=setting["bias_correction"],
                                    eps_inside=setting["eps_inside"])}
    land = L.saddle()
    return land, {name: ad.run(make[name](), land, list(setting["start"]), setting["steps"])
                  for name in setting["optimizers"]}


def static_figure():
    """The explorer's opening view as a still picture, for the PDF (which cannot run the page's
    script): the library's own runs (:func:`adamdyn.run`) of :func:`default_setting`, their paths
    on the saddle's contours and :math:`|w_1|` against the step."""
    import matplotlib.pyplot as plt

    from .plotting import color_of, figure

    setting = default_setting()
    land, runs = _default_runs(setting)
    fig, (ax0, ax1) = figure(2, width=3.6, height=3.0)
    g0, g1 = np.meshgrid(np.linspace(-0.6, 2.2, 160), np.linspace(-0.6, 1.2, 120))
    ax0.contour(g0, g1, land.value(np.stack([g0, g1], -1)), levels=21, colors="0.82", linewidths=0.6)
    for name, tr in runs.items():
        ax0.plot(tr.path[:, 0, 0], tr.path[:, 0, 1], color=color_of(name), label=name)
        ax1.loglog(np.maximum(tr.times, 1), np.abs(tr.path[:, 0, 0]) + 1e-300, color=color_of(name), label=name)
    ax0.plot(*setting["start"], "k*", ms=8)
    ax0.set(xlim=(-0.6, 2.2), ylim=(-0.6, 1.2), xlabel="$w_1$", ylabel="$w_2$", title="paths")
    ax0.legend(loc="upper right")
    ax1.set(xlabel="step", ylabel="$|w_1|$", title="$|w_1|$ against the step", ylim=(1e-4, 1e3))
    plt.close(fig)
    return fig

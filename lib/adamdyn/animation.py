"""Small HTML/JavaScript animations of optimizer paths (Radford-style), without ffmpeg.

:func:`animate_paths` draws the contours of a landscape and lets every
optimizer's path grow frame by frame; :func:`to_html` turns the animation into
a self-contained ``<div>`` with matplotlib's JavaScript player
(``FuncAnimation.to_jshtml``), which needs no video encoder.  Frames are PNGs
embedded in the page, so the defaults (30 frames, 50 dpi) keep a page light.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

from .plotting import color_of
from .validation import check_int

__all__ = ["frame_indices", "animate_paths", "animate_panels", "thin_path", "to_html", "MAX_FRAMES"]

#: Upper limit on frames, so that an animation stays a few hundred kilobytes.
MAX_FRAMES = 60


def thin_path(times, path, dense=400, every=10):
    """Keep every step up to ``dense``, then every ``every``-th: lighter lines, same picture at low dpi."""
    t = np.asarray(times)
    keep = (t <= dense) | (np.arange(t.size) % check_int("every", every, 1) == 0) | (np.arange(t.size) == t.size - 1)
    return t[keep], np.asarray(path)[keep]


def frame_indices(times, frames=40, log=True) -> np.ndarray:
    """Indices into ``times`` for each frame: evenly spaced in log(1 + t) (or in t), strictly increasing.

    Log spacing shows both the fast start and the slow end of a :math:`10^6`-step run.
    """
    frames = check_int("frames", frames, 2)
    if frames > MAX_FRAMES:
        raise ValueError(f"frames must be <= {MAX_FRAMES} to keep pages light, got {frames}")
    t = np.asarray(times, float)
    if t.ndim != 1 or t.size < 2:
        raise ValueError("times must be a 1-D array with at least two entries")
    grid = np.expm1(np.linspace(np.log1p(t[0]), np.log1p(t[-1]), frames)) if log else np.linspace(t[0], t[-1], frames)
    idx = np.unique(np.clip(np.searchsorted(t, grid), 0, t.size - 1))
    return idx


def animate_paths(landscape, times, path, names, xlim, ylim, frames=30, log=True, title="", dpi=50,
                  size=(3.8, 2.8), levels=15):
    """A :class:`~matplotlib.animation.FuncAnimation` of the paths ``path[:k]`` growing over the contours.

    Parameters
    ----------
    landscape : Landscape
        Its ``value`` gives the contours.
    times : array, shape (K,)
    path : array, shape (K, runs, 2)
    names : sequence of str
        Optimizer of each run (for colours and the legend).
    xlim, ylim : (float, float)
    frames : int
        At most :data:`MAX_FRAMES`.
    """
    return animate_panels([dict(landscape=landscape, path=path, names=names, xlim=xlim, ylim=ylim, title=title)],
                          times, frames=frames, log=log, dpi=dpi, size=size, levels=levels)


def animate_panels(panels, times, frames=30, log=True, dpi=50, size=(3.8, 2.8), levels=15):
    """Several side-by-side panels sharing one clock (one PNG per frame, so cheaper than separate animations).

    Each panel is a dict with keys ``landscape``, ``path`` (K, runs, 2), ``names``, ``xlim``, ``ylim``
    and optionally ``title``; every ``path`` is recorded at the same ``times``.
    """
    if not panels:
        raise ValueError("panels must hold at least one panel")
    for pnl in panels:
        P = np.asarray(pnl["path"], float)
        if P.ndim != 3 or P.shape[2] != 2 or P.shape[0] != len(times) or P.shape[1] != len(pnl["names"]):
            raise ValueError("each panel's path must have shape (len(times), len(names), 2)")
    idx = frame_indices(times, frames, log)
    fig, axes = plt.subplots(1, len(panels), figsize=(size[0] * len(panels), size[1]), dpi=dpi,
                             layout="constrained", squeeze=False)
    artists = []
    for ax, pnl in zip(axes[0], panels):
        xlim, ylim = pnl["xlim"], pnl["ylim"]
        gx, gy = np.meshgrid(np.linspace(*xlim, 120), np.linspace(*ylim, 120))
        ax.contour(gx, gy, pnl["landscape"].value(np.stack([gx, gy], axis=-1)), levels=levels,
                   colors="0.8", linewidths=0.6)
        ax.set(xlim=xlim, ylim=ylim, xlabel="$w_1$", ylabel="$w_2$")
        lines = [ax.plot([], [], color=color_of(n), lw=1.2, label=n)[0] for n in pnl["names"]]
        heads = [ax.plot([], [], "o", color=color_of(n), ms=4)[0] for n in pnl["names"]]
        stamp = ax.set_title(pnl.get("title", ""))
        ax.legend(loc="upper right", fontsize=7)
        artists.append((np.asarray(pnl["path"], float), lines, heads, stamp, pnl.get("title", "")))

    def draw(j):
        k = idx[j]
        out = []
        for path, lines, heads, stamp, title in artists:
            for r, (ln, hd) in enumerate(zip(lines, heads)):
                ln.set_data(path[: k + 1, r, 0], path[: k + 1, r, 1])
                hd.set_data(path[k : k + 1, r, 0], path[k : k + 1, r, 1])
            stamp.set_text(f"{title}  step {int(times[k]):,}".strip())
            out += lines + heads + [stamp]
        return out

    anim = FuncAnimation(fig, draw, frames=len(idx), interval=120, blit=False)
    plt.close(fig)
    return anim


def to_html(anim) -> str:
    """The animation as self-contained HTML/JavaScript (no ffmpeg), looping by default."""
    return anim.to_jshtml(default_mode="loop")

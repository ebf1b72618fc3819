"""Part III: k-Adam and 2-Adam against LayerNorm and a scale-invariant layer.

Decided in the networks_k_adam chapter; computed from :mod:`adamdyn.networks.kadam_norm` (the
chapter's memoised runs, at its default parameters).
"""

from __future__ import annotations

from adamdyn.networks.kadam_norm import (
    DEFAULT_LABEL,
    SHARED_LABEL,
    TOLERANCE,
    _z,
    large_rate_excess,
    norm_experiment,
    readings,
)

from .claim import Claim

__all__ = ["claims"]


def claims() -> list[Claim]:
    """Part III rows for 2-Adam against a normalisation layer and for k-Adam against Adam, at the chapter's defaults."""

    exp = norm_experiment()
    reads = readings(exp)
    norm_names = ("Adam + LayerNorm", "Adam + scale-invariant layer")
    gains, beats, robust = [], [], []
    for label, t in reads.items():
        d2, adam = t["derived 2-Adam"], t["Adam (k=1)"]
        for nn in norm_names:
            # the layer's effect on the loss, and whether 2-Adam has it: 2-Adam more than 2 s.e. below Adam and
            # not more than 2 s.e. above the normalised network, where the layer itself is 2 s.e. below Adam
            layer_gain = _z(t[nn], adam) < -2
            gains.append((label, nn, layer_gain, layer_gain and _z(d2, adam) < -2 and _z(d2, t[nn]) < 2))
        for k in ("k-Adam k=2", "k-Adam k=3", "derived 2-Adam"):
            beats.append((label, k, _z(t[k], adam) < -2))
    for wd in exp.wds:
        t = reads[f"tuned, wd {wd:g}"]
        ex = large_rate_excess(t, exp.lrs, t["Adam (k=1)"]["lr"])
        robust.append((wd, ex))
    tuned = reads[f"tuned, wd {exp.wds[0]:g}"]
    cell = ", ".join(f"{n} {tuned[n]['loss']:.4f} ± {tuned[n]['loss_se']:.4f} (lr {tuned[n]['lr']:.3g}"
                     f"{', edge' if tuned[n]['edge'] else ''}; test acc {tuned[n]['acc']:.1%})" for n in exp.names)
    n_layer = sum(g[2] for g in gains)
    n_rep = sum(g[3] for g in gains)
    beat_where = sorted({lab for lab, _, b in beats if b})
    n_beat = sum(b[2] for b in beats)
    # as tolerant as the layer (or within TOLERANCE of its own best), while Adam is not
    rob_ok = [wd for wd, ex in robust if ex["derived 2-Adam"] <= max(TOLERANCE, ex["Adam + LayerNorm"])
              < ex["Adam (k=1)"]]
    rob_cell = "; ".join(f"wd {wd:g}: LayerNorm {ex['Adam + LayerNorm']:.2f}, derived 2-Adam {ex['derived 2-Adam']:.2f}, "
                         f"Adam {ex['Adam (k=1)']:.2f}, k=2 {ex['k-Adam k=2']:.2f}" for wd, ex in robust)
    status = lambda n, of: "verified" if n == of else "not reproduced" if n == 0 else "depends on an unstated setting"  # noqa: E731
    st = exp.setting
    where = (f"{st['model']}, {st['steps']} steps, {len(st['seeds'])} seeds, {len(reads)} readings "
             f"(tuned on the full/even/odd grid, {SHARED_LABEL}, {DEFAULT_LABEL}; weight decay {', '.join(f'{w:g}' for w in exp.wds)})")
    return [
        Claim("GT-2adam-norm-loss", "Gould & Tanaka, abstract", "2-Adam corresponds to Adam with a normalisation "
              "layer: our derived 2-Adam on a plain MLP gives the layer's gain in final training loss", "",
              f"{where}; tuned, wd {exp.wds[0]:g}, final training loss (mean ± s.e.): {cell}; the layer beats Adam by "
              f"> 2 s.e. in {n_layer} of {len(gains)} (reading, layer) pairs, 2-Adam matches such a gain in {n_rep}",
              "not reproduced" if n_layer == 0 else status(n_rep, n_layer), "net-ka-norm"),
        Claim("GT-2adam-norm-rates", "Gould & Tanaka, abstract", "2-Adam corresponds to Adam with a normalisation "
              "layer: the layer's tolerance of large learning rates", "",
              f"largest ratio of the final loss to its own tuned loss at rates >= 10x Adam's tuned rate (2-Adam "
              f"reproduces the layer's tolerance if its ratio is <= max({TOLERANCE:g}, the layer's) < Adam's): {rob_cell}", status(len(rob_ok), len(robust)), "net-ka-rates"),
        Claim("GT-kadam-beats", "Gould & Tanaka, abstract", "k-Adam (k = 2, 3, and the derived 2-Adam) improves on Adam",
              "", f"{where}: more than 2 s.e. below Adam in {n_beat} of {len(beats)} (reading, optimizer) pairs"
              + (f", all at the readings {', '.join(beat_where)}" if beat_where else ""),
              status(n_beat, len(beats)), "net-ka-kadam"),
    ]

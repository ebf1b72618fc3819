r"""The Adam symmetry theorem (Dereich, Do, Jentzen, von Wurstemberger), tested on :math:`F = (\theta - X)^2/2`.

For :math:`F(\theta, X) = \tfrac12(\theta - X)^2` the minimiser of :math:`\mathbb E F` is
:math:`\mathbb E X`.  The theorem says that the zero of the Adam vector field
(:mod:`adamdyn.vector_field`) is the minimiser when the law of :math:`X` is symmetric, and in
general is not.  :func:`symmetry_gaps` finds the zero of the series field for several laws and
decay pairs and compares its distance to the minimiser with the series' error bound.

References
----------
S. Dereich, T. Do, A. Jentzen, P. von Wurstemberger, "Adam symmetry theorem: characterization of the
convergence of the stochastic Adam optimizer", arXiv:2511.06675, 2025.
"""

from __future__ import annotations

import numpy as np

from .vector_field import field_series, field_zero, quadratic_gradient_values

__all__ = ["symmetry_gaps", "symmetry_table", "symmetry_verdict"]


def _is_symmetric(values, probs, tol=1e-12):
    """True if the law of X is symmetric about its mean (values and probabilities mirror)."""
    x, p = np.asarray(values, float), np.asarray(probs, float)
    mu = p @ x
    order, mirror = np.argsort(x - mu), np.argsort(mu - x)
    return bool(np.allclose((x - mu)[order], (mu - x)[mirror], atol=tol) and np.allclose(p[order], p[mirror], atol=tol))


def symmetry_gaps(laws, betas, eps=0.0, eps_placement="outside", half_width=0.45):
    r"""Zero of the field minus the minimiser :math:`\mathbb E X`, for each law and :math:`(\beta_1,\beta_2)`.

    Parameters
    ----------
    laws : dict
        Name to ``(values, probs)`` of :math:`X`.
    betas : list of (beta1, beta2)

    Returns
    -------
    dict
        Name to a list (one per pair) of dicts with ``gap`` (zero minus mean), ``bound`` (the
        series' error bound divided by the field's slope: the uncertainty of the zero),
        ``z = |gap| / bound`` and ``symmetric`` (the law's symmetry, decided from the values).
    """
    out = {}
    for name, (values, probs) in laws.items():
        x, p = np.asarray(values, float), np.asarray(probs, float)
        mu = float(p @ x)
        rows = []
        for b1, b2 in betas:
            def field(t, err=False):
                return _law_field(x, p, t, b1, b2, eps, eps_placement, err)
            z0 = field_zero(lambda t: float(field(t).value), mu - half_width, mu + half_width)
            slope = (float(field(z0 + 1e-4).value) - float(field(z0 - 1e-4).value)) / 2e-4
            bound = float(field(z0, True).error) / abs(slope)
            gap = z0 - mu
            rows.append(dict(beta1=b1, beta2=b2, gap=gap, bound=bound,
                             z=abs(gap) / bound if bound > 0 else np.inf, symmetric=_is_symmetric(x, p)))
        out[name] = rows
    return out


def _law_field(x, p, theta, beta1, beta2, eps, eps_placement, error):
    """The field of :math:`(\theta - X)^2/2` at scalar :math:`\theta` (helper of :func:`symmetry_gaps`)."""
    return field_series(quadratic_gradient_values(theta, x), p, beta1, beta2, eps=eps,
                        eps_placement=eps_placement, error=error)


def symmetry_table(rows) -> str:
    """Markdown table of :func:`symmetry_gaps`."""
    lines = ["| law of $X$ | symmetric | $(\\beta_1,\\beta_2)$ | zero $-$ minimiser | uncertainty | ratio |",
             "|---|---|---|---|---|---|"]
    for name, rs in rows.items():
        for r in rs:
            ratio = "exact 0" if r["gap"] == 0 else f"{r['z']:.0f}"
            lines.append(f"| {name} | {'yes' if r['symmetric'] else 'no'} | ({r['beta1']:g}, {r['beta2']:g}) | "
                         f"{r['gap']:.2e} | {r['bound']:.1e} | {ratio} |")
    return "\n".join(lines)


def symmetry_verdict(rows, z_min=10.0) -> str:
    """'verified' if every symmetric law has gap within its bound and every asymmetric law a gap > z_min bounds."""
    ok = all((abs(r["gap"]) <= r["bound"]) if r["symmetric"] else (r["z"] > z_min)
             for rs in rows.values() for r in rs)
    return "verified" if ok else "not reproduced"

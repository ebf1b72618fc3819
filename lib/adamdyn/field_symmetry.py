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

from .validation import (
    check_betas,
    check_choice,
    real_array,
    scalar_nonnegative,
    scalar_positive,
)
from .vector_field import field_series, field_zero, quadratic_gradient_values


def _law(name, law):
    """A discrete law ``(values, probs)``: finite values, probabilities >= 0 summing to 1, equal lengths."""
    if not isinstance(law, (tuple, list)) or len(law) != 2:
        raise ValueError(f"laws[{name!r}] must be a pair (values, probs), got {law!r}")
    x, p = (np.atleast_1d(real_array("laws", a)) for a in law)
    if x.ndim != 1 or x.shape != p.shape or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"laws[{name!r}] must hold finite values and probabilities of equal 1-D shape")
    if not np.all(p >= 0) or not np.isclose(p.sum(), 1.0, rtol=0, atol=1e-12):
        raise ValueError(f"laws[{name!r}] must have probabilities >= 0 that sum to 1, got {p!r}")
    return x, p


def _rows(rows):
    if not isinstance(rows, dict) or not all(
            isinstance(rs, list) and all(isinstance(r, dict) for r in rs) for rs in rows.values()):
        raise ValueError("rows must be the dict name -> list of row dicts returned by symmetry_gaps")
    return rows

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
    if not isinstance(laws, dict) or not laws:
        raise ValueError(f"laws must be a non-empty dict name -> (values, probs), got {laws!r}")
    if not isinstance(betas, (list, tuple)) or not betas or not all(
            isinstance(b, (list, tuple)) and len(b) == 2 for b in betas):
        raise ValueError(f"betas must be a non-empty list of (beta1, beta2) pairs, got {betas!r}")
    for b1, b2 in betas:
        try:
            check_betas(b1, b2)
        except ValueError as err:
            raise ValueError(f"betas must hold (beta1, beta2) pairs in [0, 1): {err}") from err
    eps = scalar_nonnegative("eps", eps)
    check_choice("eps_placement", eps_placement, ("inside", "outside"))
    half_width = scalar_positive("half_width", half_width)
    out = {}
    for name, law in laws.items():
        x, p = _law(name, law)
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
    _rows(rows)
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
    _rows(rows)
    z_min = scalar_positive("z_min", z_min)
    ok = all((abs(r["gap"]) <= r["bound"]) if r["symmetric"] else (r["z"] > z_min)
             for rs in rows.values() for r in rs)
    return "verified" if ok else "not reproduced"

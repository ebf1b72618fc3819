"""Every public function of the analysis modules refuses bad input with a ValueError naming the parameter.

The table below gives, per public function, one valid call and, per parameter, bad values of each
kind that applies: a wrong type (string, complex, bool), a value out of range, NaN or inf, a vector
where one number is meant.  Each bad call must raise ``ValueError`` whose message names the
parameter.  A second test checks that the table covers every public function (every name in each
module's ``__all__``), and a hypothesis property checks that no accepted input emits a
``RuntimeWarning``.
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings
from fractions import Fraction

import adamdyn as ad
import numpy as np
import pytest
import sympy as sp
from adamdyn import bounds as B
from adamdyn import continuous_adam as CA
from adamdyn import convergence as CV
from adamdyn import field_flow as FF
from adamdyn import field_symmetry as FS
from adamdyn import flat_distance as FD
from adamdyn import floating_point as FP
from adamdyn import gradient_memory as GM
from adamdyn import landscapes as L
from adamdyn import near_flat as NF
from adamdyn import ode as O
from adamdyn import ode_lyapunov as OL
from adamdyn import relations as RL
from adamdyn import saddle as SD
from adamdyn import stability as S
from adamdyn import symbolic as SY
from adamdyn import validation as V
from adamdyn import valley_counts as VC
from adamdyn import valleys as VL
from hypothesis import given, settings
from hypothesis import strategies as st

MODULES = ["bounds", "flat_distance", "near_flat", "saddle", "gradient_memory", "valleys", "valley_counts",
           "floating_point", "ode", "ode_lyapunov", "field_flow", "field_symmetry", "continuous_adam", "relations",
           "convergence", "symbolic", "symbols", "validation", "stability"]
#: Another helper owns this function's checks.
NOT_OURS = {("stability", "closed_loop_updates")}

# the kinds of bad value
STR, CPLX, NONE = "0.5", 0.5 + 1j, None
BETA = [STR, CPLX, True, np.nan, 1.0, -0.1, np.inf]                    # decay rates (arrays allowed)
POS = [STR, CPLX, True, np.nan, np.inf, -1.0, 0.0, [1.0, 2.0]]        # one number > 0
NONNEG = [STR, CPLX, True, np.nan, np.inf, -1.0, [1.0, 2.0]]          # one number >= 0
REAL = [STR, CPLX, True, np.nan, np.inf, [1.0, 2.0], NONE]            # one finite number
INT1 = [0, -1, 2.5, True, "3", np.nan, NONE]                          # an integer >= 1
INT0 = [-1, 2.5, True, "3", np.nan, NONE]                             # an integer >= 0
BOOL = ["no", 1, 0.0, NONE]                                           # a switch
SEED = [-1, 1.5, "0", True, NONE]                                     # a seed
COUNTS1 = [0, -1, 2.5, np.nan, np.inf, STR, CPLX, True]               # whole numbers >= 1 (arrays allowed)
POS_ARRAY = [STR, CPLX, True, np.nan, np.inf, -1.0, 0.0, [1.0, -1.0]]  # numbers > 0 (arrays allowed)
SYM_N = [0, -1, 2.5, "t", True]                                       # a sympy step count
FUNC = ["grad", 3.0, NONE]                                            # a callable


def _opt1():
    return ad.adam(lr=1e-2)


def _traj():
    return ad.run(ad.adam(lr=1e-2), L.saddle(), [1e-3, 1.0], 5)


def _long_run():
    return VL.long_runs(L.smooth_valley(), SD.four_optimizers(), steps=10, coarse=5, early=2, tail=2)


def _scan():
    return VC.count_scan({"smooth": L.smooth_valley()}, [0.5], [0.5],
                         {("RMSProp", 0.9): ad.rmsprop(lr=1e-2, beta2=0.9)}, horizon=5, chunk=5)


def _rows():
    return {"law": [{"beta1": 0.9, "beta2": 0.99, "gap": 0.0, "bound": 1e-3, "z": 0.0, "symmetric": True}]}


def _grad(x):
    return np.asarray(x, float)


def _ode_coeffs():
    return O.adam_coefficients(0.0, 1.0, 2.0)


_SQ = sp.Symbol("x")
_X = np.array([-1.0, 1.0])
_P = np.array([0.5, 0.5])

# (function, valid keyword arguments, {parameter: bad values}); values given as a zero-argument
# callable are built when the case runs (optimizers, runs, scans)
TABLE = [
    # ---------------------------------------------------------------- bounds
    (B.bias_factor_expr, {}, {"n": SYM_N}),
    (B.lemma_rearranged, {}, {"n": SYM_N}),
    (B.lemma_paper_rearranged, {}, {"n": SYM_N}),
    (B.bias_lemma_holds, {"beta1": 0.9, "beta2": 0.999}, {"beta1": BETA, "beta2": BETA}),
    (B.bias_lemma_first_failure, {"beta1": 0.9, "beta2": 0.999, "horizon": 10},
     {"beta1": BETA, "beta2": BETA, "horizon": INT1}),
    (B.bias_factor, {"beta1": 0.9, "beta2": 0.999, "n": 3}, {"beta1": BETA, "beta2": BETA, "n": COUNTS1}),
    (B.finite_step_sup_expr, {}, {"n": SYM_N}),
    (B.step_bound, {"beta1": 0.9, "beta2": 0.999, "eta": 1.0}, {"beta1": BETA, "beta2": BETA, "eta": POS_ARRAY}),
    (B.step_bound_exists, {"beta1": 0.9, "beta2": 0.999}, {"beta1": BETA, "beta2": BETA}),
    (B.bias_corrected_sup_expr, {}, {"n": SYM_N}),
    (B.am_gm_gap_expr, {}, {"n": SYM_N}),
    (B.finite_step_sup, {"beta1": 0.9, "beta2": 0.999, "n": 5},
     {"beta1": BETA, "beta2": BETA, "n": COUNTS1 + [[-1, 2]], "bias_correction": BOOL}),
    (B.extremal_history, {"beta1": 0.9, "beta2": 0.999, "steps": 5},
     {"beta1": BETA, "beta2": BETA + [0.0], "steps": INT1, "scale": POS}),
    (B.extremal_moments, {"beta1": 0.9, "beta2": 0.999, "steps": 5},
     {"beta1": BETA, "beta2": BETA + [0.0], "steps": INT1, "scale": POS}),
    (B.max_step_history, {"steps": 3, "restarts": 1},
     {"beta1": BETA + [[0.5, 0.6]], "beta2": BETA, "steps": INT1, "eps": NONNEG, "bias_correction": BOOL,
      "restarts": INT1, "seed": SEED, "box": POS}),
    # ---------------------------------------------------------------- flat_distance
    (FD.flat_distance_bound, {"beta1": 0.9, "beta2": 0.999},
     {"beta1": BETA, "beta2": BETA, "eta": POS_ARRAY}),
    (FD.flat_distance_bound_exists, {"beta1": 0.9, "beta2": 0.999}, {"beta1": BETA, "beta2": BETA}),
    (FD.flat_distance_finite, {"beta1": 0.9, "beta2": 0.999, "n": 5, "steps": 5},
     {"beta1": BETA, "beta2": BETA, "n": COUNTS1, "steps": INT0, "bias_correction": BOOL}),
    (FD.arrival_state, {"beta1": 0.9, "beta2": 0.999, "steps": 5},
     {"beta1": BETA, "beta2": BETA + [0.0], "steps": INT1, "edge": REAL, "eta": POS, "bias_correction": BOOL,
      "eps": NONNEG}),
    (FD.simulate_flat_map, {"beta1": 0.9, "beta2": 0.999, "arrival_steps": 5, "flat_steps": 5},
     {"beta1": BETA, "beta2": BETA, "arrival_steps": INT1, "flat_steps": INT1, "eta": POS}),
    (FD.crossing_distances, {"path": np.zeros((3, 2, 1)), "edge": 0.0},
     {"path": [STR, np.zeros((3, 2)), np.zeros((3, 2, 2)), [[[CPLX]]]], "edge": REAL}),
    (FD.plateau_arrival, {"beta1": 0.9, "beta2": 0.999, "power": 1.0, "flat_steps": 1, "lr": 0.5},
     {"power": REAL + [0.5], "lr": POS, "approach": POS, "flat_steps": INT0, "bias_correction": BOOL,
      "beta1": BETA, "beta2": BETA, "eps": [STR, -1.0, np.nan]}),
    # ---------------------------------------------------------------- near_flat
    (NF.half_recovery_steps, {"slope": 1e-3},
     {"slope": POS_ARRAY, "eps_": NONNEG, "beta2_": [STR, CPLX, np.nan, 0.0, 1.0, [0.9, 0.99]], "v0_": POS}),
    (NF.final_step, {"slope": 1e-3}, {"slope": POS_ARRAY, "eps_": NONNEG}),
    (NF.edge_steps, {"optimizer": _opt1}, {"optimizer": ["adam", NONE], "approach": POS}),
    (NF.near_flat_steps, {"optimizer": _opt1, "slopes": [1e-3], "flat_steps": 2},
     {"optimizer": ["adam", NONE], "slopes": POS_ARRAY + [np.ones((2, 2))], "flat_steps": INT1,
      "travel_bound": [[1.0, 2.0], -1.0, STR]}),
    (NF.recovery_steps, {"steps_per_eta": np.ones((3, 2)), "target": 0.5},
     {"steps_per_eta": [STR, np.ones(3), [[CPLX]]], "target": [np.nan, STR, [1.0, 2.0, 3.0]]}),
    (NF.near_flat_check, {"flat_steps": 2},
     {"slopes": POS_ARRAY, "flat_steps": INT1, "approach": POS, "lr": POS, "beta1_": BETA,
      "beta2_": [STR, 0.0, 1.0, np.nan], "eps_": NONNEG}),
    # ---------------------------------------------------------------- saddle
    (SD.four_optimizers, {}, {"lr": POS_ARRAY, "rmsprop_beta2": BETA, "beta1": BETA, "beta2": BETA,
                              "eps": [STR, -1.0, np.nan]}),
    (SD.escape_runs, {"optimizer": _opt1, "steps": 2},
     {"optimizer": ["adam", NONE], "x0": [STR, [np.nan, 1.0], [1.0, 2.0, 3.0]], "steps": INT0,
      "radius": POS, "record_every": INT1}),
    (SD.sgd_escape_time, {"delta": 1e-3},
     {"delta": POS, "y0": REAL, "lr": POS + [1.0, 2.0], "radius": POS}),
    (SD.closest_approach, {"trajectory": _traj}, {"trajectory": [np.zeros((3, 1, 2)), NONE]}),
    (SD.reading_optimizers, {}, {"reading": ["Shared", 1, NONE], "lr": POS_ARRAY, "rmsprop_beta2": BETA}),
    (SD.time_near, {"optimizer": _opt1, "steps": 2},
     {"optimizer": ["adam"], "near_radius": POS, "steps": INT1}),
    (SD.escape_table, {"horizon": 2, "near_steps": 2},
     {"decays": BETA, "horizon": INT1, "near_steps": INT1, "near_radius": POS, "radius": POS}),
    (SD.lr_scan, {"lrs": [1e-3], "horizon": 2}, {"lrs": POS_ARRAY, "decays": BETA, "horizon": INT1}),
    (SD.ranking, {"escapes": {"a": 1}}, {"escapes": [[1, 2], {"a": 1.5}, {"a": True}]}),
    (SD.ablation, {"steps": 2}, {"beta1s": BETA, "beta2s": BETA, "steps": INT1}),
    (SD.diagonal_defect, {"optimizer": _opt1, "steps": 2}, {"optimizer": ["adam"], "steps": INT1}),
    (SD.step_ratios, {"optimizer": _opt1, "steps": 2}, {"optimizer": ["adam"], "steps": INT1}),
    # ---------------------------------------------------------------- gradient_memory
    (GM.single_impulse_ratio, {"beta1": 0.9, "beta2": 0.999, "age": 3},
     {"beta1": BETA, "beta2": BETA + [0.0], "age": [-1, 2.5, np.nan, STR, True]}),
    (GM.impulse_updates, {"T": 5, "ages": (0, 1)},
     {"beta1": BETA, "beta2": BETA, "T": INT1, "ages": [[-1], [2.5], [5], STR, [np.nan]],
      "bias_correction": BOOL}),
    (GM.geometric_history_ratio, {"beta1": 0.5, "beta2": 0.5, "r": 2.0},
     {"beta1": BETA, "beta2": BETA, "r": [STR, CPLX, np.nan, np.inf, 0.1]}),
    (GM.reversal_gaps, {"n_histories": 3, "T": 3},
     {"n_histories": INT1, "T": INT1, "beta1": BETA, "beta2": BETA, "seed": SEED}),
    (GM.reversal_violation_map, {"beta1s": [0.9], "beta2s": [0.99], "n_histories": 2, "T": 3},
     {"beta1s": BETA, "beta2s": BETA, "n_histories": INT1, "T": INT1, "seed": SEED}),
    # ---------------------------------------------------------------- valleys
    (VL.valley, {"kind": "smooth"}, {"kind": ["Smooth", 1, NONE]}),
    (VL.long_runs, {"landscape": L.smooth_valley(), "steps": 10, "coarse": 5, "early": 2, "tail": 2},
     {"landscape": ["smooth", NONE], "optimizer": ["adam"], "steps": INT1, "coarse": INT1, "early": INT0,
      "tail": INT0, "tol": POS}),
    (VL.second_moment_along, {"run": _long_run, "landscape": L.smooth_valley(), "index": 3, "beta2": 0.999},
     {"run": [NONE, "run"], "landscape": ["smooth"], "index": [-1, 4, 1.5, True], "beta2": BETA}),
    (VL.marker_points, {"run": _long_run}, {"run": [NONE], "fractions": [[1.5], [-0.1], [np.nan], STR, []]}),
    (VL.valley_long_runs, {"kind": "smooth", "steps": 20384},
     {"kind": ["Smooth", NONE], "lr": POS, "rmsprop_beta2": BETA, "beta1": BETA, "beta2": BETA,
      "eps": [STR, CPLX, -1.0, np.nan], "bias_correction": BOOL, "eps_inside": BOOL,
      "x0": [STR, [1.0], [np.nan, 1.0], [[1.0, 1.0], [0.5, 0.5]]], "steps": INT1 + [20383],
      "rmsprop_only": BOOL}),
    (VL.headline_optimizers, {}, {"lr": POS_ARRAY, "rmsprop_beta2": BETA, "beta1": BETA, "beta2": BETA,
                                  "bias_correction": BOOL, "eps_inside": BOOL}),
    (VL.gradient_flow_path, {"kind": "smooth"},
     {"kind": ["Smooth", NONE], "x0": [STR, [1.0], [np.nan, 1.0]], "tau_max": REAL + [20.0, 5.0]}),
    (VL.flow_deviation, {"kind": "smooth", "path": np.ones((2, 1, 2))},
     {"kind": ["x"], "path": [np.ones((2, 2)), STR, np.full((2, 1, 2), np.nan)], "x0": [STR, [1.0]]}),
    (VL.flow_distance_at_matched_loss, {"kind": "smooth", "path": np.ones((2, 1, 2)), "levels": 3},
     {"kind": ["x"], "path": [np.ones((2, 2)), STR], "levels": [1, 2.5, True]}),
    (VL.adagrad_sharp_arrival, {"x0": [0.5, 0.5]},
     {"x0": [STR, [np.nan, 1.0], [1.0]], "lr": POS, "tol": POS, "max_steps": INT1}),
    # ---------------------------------------------------------------- valley_counts
    (VC.arrival_steps, {"optimizer": _opt1, "landscape": L.smooth_valley(), "starts": [[0.5, 0.5]], "horizon": 3},
     {"optimizer": ["adam"], "landscape": ["smooth"], "starts": [STR, [[np.nan, 1.0]], [1.0]],
      "horizon": INT1, "chunk": INT1, "tol": POS}),
    (VC.reading_optimizers, {}, {"lr": POS_ARRAY, "beta1": BETA, "beta2": BETA,
                                 "adam_readings": [{"x": ("yes", False)}, [1, 2], {"x": (True,)}],
                                 "rmsprop_decays": BETA}),
    (VC.count_scan, {"landscapes": {"smooth": L.smooth_valley()}, "xs": [0.5], "ys": [0.5],
                         "readings": {("RMSProp", 0.9): ad.rmsprop(lr=1e-2, beta2=0.9)}, "horizon": 3},
     {"landscapes": [{"smooth": "smooth"}, [], {}], "xs": [STR, [np.nan], []], "ys": [STR, [np.inf]],
      "readings": [{"a": 1}, {}], "horizon": INT1, "chunk": INT1}),
    (VC.match_mask, {"count": [900], "paper": 900}, {"count": [STR, [CPLX]], "paper": POS, "rtol": NONNEG}),
    (VC.joint_match, {"scan": _scan}, {"scan": [NONE, {}], "rtol": NONNEG}),
    # ---------------------------------------------------------------- floating_point
    (FP.subnormal_count, {"a": [1.0]}, {"a": [STR, [CPLX], [True]]}),
    (FP.sgd_underflow_stall, {}, {"lr": POS + [1e-320], "a": POS}),
    (FP.rmsprop_underflow, {"steps": 2},
     {"x0": [STR, [1.0]], "decay": BETA, "lr": POS, "eps": NONNEG, "steps": INT1, "seed": POS}),
    # ---------------------------------------------------------------- ode
    (O.heavy_ball_coefficients, {}, {"gamma": POS}),
    (O.nesterov_coefficients, {}, {"r": POS}),
    (O.rmsprop_coefficients, {}, {"alpha2": POS}),
    (O.adagrad_coefficients, {}, {"p": POS}),
    (O.adam_coefficients, {"lam": 0.0, "alpha1": 1.0, "alpha2": 2.0},
     {"lam": NONNEG, "alpha1": POS, "alpha2": POS}),
    (O.adam_alphas, {"beta1": 0.9, "beta2": 0.999, "s": 1e-3}, {"beta1": BETA + [0.0], "beta2": BETA, "s": POS}),
    (O.g_adam, {"t": 1.0, "lam": 0.0, "alpha": 1.0},
     {"t": [0.0, -1.0, np.nan, STR, CPLX, [1.0, 0.0]], "lam": NONNEG, "alpha": POS}),
    (O.solve, {"coeffs": _ode_coeffs, "grad": _grad, "theta0": [1.0], "m0": [1.0], "v0": [1.0], "t_span": (0.1, 1.0)},
     {"coeffs": ["adam", NONE], "grad": FUNC, "theta0": [STR, [np.nan]], "m0": [STR, [np.inf]],
      "v0": [[-1.0], STR], "t_span": [(1.0, 0.5), (0.0, 1.0), (0.1,), STR, (0.1, np.inf)],
      "eps": POS, "t_eval": [[2.0], [np.nan], STR, [0.0]], "method": ["rk45", 1], "rtol": POS, "atol": POS}),
    (O.solve_adam, {"grad": _grad, "theta0": [1.0], "alpha1": 1.0, "alpha2": 2.0, "T": 1.0},
     {"grad": FUNC, "theta0": [STR, [np.nan]], "alpha1": POS, "alpha2": POS, "T": POS, "lam": NONNEG,
      "eps": POS, "t_eval": [[np.nan], STR, [-1.0]], "delta": POS}),
    (O.pole_deviation, {"grad": _grad, "theta0": [1.0], "alpha1": 1.0, "alpha2": 2.0, "t_eval": [0.5, 1.0]},
     {"grad": FUNC, "theta0": [STR], "alpha1": POS, "alpha2": POS, "t_eval": [[np.nan], STR, [-1.0], []],
      "lam": NONNEG, "delta": POS, "kick": REAL}),
    # ---------------------------------------------------------------- ode_lyapunov
    (OL.poster_condition, {"beta1": 0.9, "beta2": 0.999}, {"beta1": BETA + [0.0], "beta2": BETA + [0.0]}),
    (OL.lyapunov_margin, {"beta1": 0.9, "beta2": 0.999, "tau": 1.0},
     {"beta1": BETA, "beta2": BETA, "tau": [-1.0, np.nan, STR, CPLX]}),
    (OL.lyapunov_condition, {"beta1": 0.9, "beta2": 0.999}, {"beta1": BETA, "beta2": BETA, "uniform": BOOL}),
    (OL.lyapunov_condition_expr, {}, {"uniform": BOOL}),
    (OL.interior_margin_gap, {"beta1": 0.9, "beta2": 0.999},
     {"beta1": BETA + [0.0], "beta2": BETA + [0.0], "log_tau_bounds": [(1.0, -1.0), (0.0, 0.0), (STR, 1.0),
                                                                       (np.nan, 1.0)]}),
    (OL.lyapunov_values, {"f": lambda th: np.zeros(len(th)), "t": [1.0], "theta": np.ones((1, 1)), "m": np.ones((1, 1)),
                              "v": np.ones((1, 1)), "h": lambda t: np.ones_like(t), "eps": 1e-8},
     {"f": FUNC, "h": FUNC, "eps": NONNEG, "m": [STR], "v": [-np.ones((1, 1)), np.full((1, 1), np.nan)],
      "t": [STR, [CPLX]]}),
    # ---------------------------------------------------------------- field_flow
    (FF.field_spline_1d, {"x": _X, "probs": _P, "beta1": 0.9, "beta2": 0.99, "lo": -0.5, "hi": 0.5, "points": 5},
     {"lo": REAL, "hi": REAL + [-1.0], "points": [3, 4.5, True]}),
    (FF.flow, {"field": lambda z: -z, "theta0": [1.0], "times": [0.0, 1.0]},
     {"field": FUNC, "theta0": [STR, [np.nan], []], "times": [[1.0, 0.5], [-1.0, 1.0], [0.0], STR, [np.nan]]}),
    (FF.least_squares_objective, {"theta": [1.0], "A": [[1.0], [2.0]], "y": [0.0, 1.0]},
     {"theta": [STR, [np.nan], [1.0, 2.0]], "A": [STR, [1.0, 2.0], [[np.inf], [1.0]]],
      "y": [STR, [0.0], [np.nan, 1.0]]}),
    (FF.lyapunov_rate, {"theta": [1.0], "A": [[1.0], [2.0]], "y": [0.0, 1.0]},
     {"theta": [STR, [np.nan]], "A": [STR], "y": [STR, [0.0]]}),
    (FF.lyapunov_crossover_radius, {"values": np.ones((1, 2)), "probs": _P, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8,
                                        "grad": [1.0]},
     {"eps": POS, "grad": [STR, [np.nan], [CPLX]]}),
    # ---------------------------------------------------------------- field_symmetry
    (FS.symmetry_gaps, {"laws": {"sym": (_X, _P)}, "betas": [(0.9, 0.99)]},
     {"laws": [{}, [1, 2], {"a": (_X,)}, {"a": (_X, [0.3, 0.3])}, {"a": ([np.nan, 1.0], _P)},
               {"a": (_X, [1.5, -0.5])}],
      "betas": [[], [(0.9,)], [(1.0, 0.99)], [(STR, 0.99)], 0.9],
      "eps": NONNEG, "eps_placement": ["Inside", NONE], "half_width": POS}),
    (FS.symmetry_table, {"rows": _rows}, {"rows": [[1], {"a": 1}, NONE]}),
    (FS.symmetry_verdict, {"rows": _rows}, {"rows": [[1], {"a": [1]}], "z_min": POS}),
    # ---------------------------------------------------------------- continuous_adam
    (CA.continuous_sup_integral, {}, {"tau": [-1.0, np.nan, STR, CPLX, sp.Integer(-1)]}),
    (CA.rates_from_betas, {}, {"mapping": ["Exp", 1, NONE]}),
    (CA.betas_from_rates, {"a": 1.0, "b": 2.0, "eta_value": 1e-3}, {"a": POS_ARRAY, "b": POS_ARRAY,
                                                              "eta_value": POS_ARRAY}),
    (CA.continuous_worst_case_ratio, {"a": 1.0, "b": 1.0, "tau": 1.0},
     {"a": POS, "b": POS, "tau": [-1.0, np.nan, STR, CPLX]}),
    (CA.continuous_extremal_ratio, {"a": 1.0, "b": 1.0, "taus": [1.0]},
     {"a": POS, "b": POS, "taus": [[0.0], [-1.0], [np.nan], STR], "rtol": POS, "atol": POS}),
    (CA.adam_ode, {"grad": _grad, "x0": [1.0], "horizon": 1.0, "a": 1.0, "b": 1.0},
     {"grad": FUNC, "x0": [STR, [np.nan]], "horizon": POS, "a": POS, "b": POS, "eps": NONNEG,
      "weight_decay": NONNEG, "times": [[2.0], [-1.0], [np.nan], STR], "rtol": POS, "atol": POS}),
    (CA.discrete_adam_path, {"landscape": L.quadratic([0.5]), "x0": [1.0], "horizon": 0.01, "a": 1.0, "b": 1.0,
                                 "eta_value": 1e-3},
     {"landscape": ["quadratic", NONE], "x0": [STR, [np.nan]], "horizon": POS + [1e-5], "a": POS_ARRAY,
      "b": POS_ARRAY, "eta_value": POS, "eps": [STR, -1.0], "weight_decay": [STR, -1.0]}),
    # ---------------------------------------------------------------- relations
    (RL.relation_margin, {"relation": sp.StrictLessThan(B.beta1**2, B.beta2), "beta1_values": [0.5],
                              "beta2_values": [0.5]},
     {"relation": [STR, 1.0, B.beta1], "beta1_values": [STR, [CPLX], True],
      "beta2_values": [STR, [CPLX]], "symbols": [("b1", "b2"), (B.beta1,)]}),
    (RL.relation_at, {"relation": sp.StrictLessThan(B.beta1**2, B.beta2), "b1": 0.9, "b2": 0.81},
     {"relation": [STR, B.beta1], "b1": REAL, "b2": REAL, "symbols": [("b1", "b2")]}),
    (RL.positivity_condition, {"expr": B.beta2 - B.beta1}, {"expr": [STR, 1.0, NONE]}),
    (RL.decimal_fraction, {"x": 0.99}, {"x": REAL}),
    (RL.decide_exactly, {"margin": [0.0], "exact_margin": lambda a: a, "values": ([0.5],), "strict": True},
     {"margin": [STR, [CPLX]], "exact_margin": FUNC, "strict": BOOL, "values": [([STR],)]}),
    # ---------------------------------------------------------------- convergence
    (CV.curvature_threshold, {}, {"beta1_": BETA, "eta": POS, "eps": NONNEG}),
    (CV.curvature_scan, {"curvatures": [1e-4], "steps": 4, "record_every": 2},
     {"curvatures": POS_ARRAY, "eta": POS, "beta1_": BETA, "beta2_": BETA, "eps": NONNEG, "steps": INT1,
      "w0": REAL, "record_every": INT1}),
    (CV.reddi_counterexample, {"steps": 6},
     {"C": POS + [2.0], "steps": INT1, "alpha": POS, "beta2": BETA, "eps": NONNEG, "bias_correction": BOOL,
      "x0": REAL + [1.5], "beta1": BETA}),
    # ---------------------------------------------------------------- symbolic
    (SY.simplify_positive, {"expr": SY.t}, {"expr": [STR, NONE, CPLX]}),
    (SY.eq4_update, {}, {"epsilon_hat": [STR, CPLX]}),
    (SY.recursive_moment, {"T": 2, "beta": SY.beta1, "weight": 1 - SY.beta1},
     {"T": INT1, "beta": [STR, NONE], "weight": [STR], "squared": BOOL}),
    (SY.explicit_moment, {"T": 2, "beta": SY.beta1, "weight": 1 - SY.beta1},
     {"T": INT1, "beta": [STR, NONE], "weight": [STR], "squared": BOOL}),
    (SY.first_negligible_step, {"tol": 1e-2}, {"tol": POS + [1.0], "b1": BETA, "b2": BETA, "horizon": INT1[:-1]}),
    (SY.simulated_bias_factor, {"T": 3}, {"T": INT1, "b1": BETA, "b2": BETA}),
    (SY.loss_scale_ratio, {"update": SY.adagrad_update_corrected()}, {"update": [STR, 0], "epsilon": [STR]}),
    (SY.eq4_path, {"grad": _grad, "x0": [1.0, 1.0], "steps": 2},
     {"grad": FUNC, "x0": [STR, [np.nan, 1.0]], "steps": INT0, "lr": POS, "b1": BETA, "b2": BETA,
      "epsilon": NONNEG}),
    (SY.eq4_check, {"steps": 2, "n_random": 2},
     {"steps": INT1, "x0": [STR, [1.0]], "lr": POS, "b1": BETA, "b2": BETA, "epsilon": NONNEG,
      "n_random": INT1, "seed": SEED}),
    # ---------------------------------------------------------------- validation (the checks themselves)
    (V.real_array, {"name": "x", "value": 1.0}, {"x": [STR, CPLX, True, NONE, [[1.0], [1.0, 2.0]]]}),
    (V.as_param, {"name": "x", "value": 1.0}, {"x": [STR, np.nan, [], np.ones((2, 2))]}),
    (V.check_scalar, {"name": "x", "value": 1.0}, {"x": REAL}),
    (V.scalar_beta, {"name": "x", "value": 0.5}, {"x": BETA + [[0.5, 0.6]]}),
    (V.scalar_positive, {"name": "x", "value": 0.5}, {"x": POS}),
    (V.scalar_nonnegative, {"name": "x", "value": 0.5}, {"x": NONNEG}),
    (V.check_beta, {"name": "x", "value": 0.5}, {"x": BETA}),
    (V.check_betas, {"beta1": 0.5, "beta2": 0.5}, {"beta1": BETA, "beta2": BETA}),
    (V.check_positive, {"name": "x", "value": 0.5}, {"x": POS_ARRAY}),
    (V.check_nonnegative, {"name": "x", "value": 0.5}, {"x": [STR, CPLX, np.nan, -1.0]}),
    (V.check_int, {"name": "x", "value": 1, "minimum": 1}, {"x": INT1}),
    (V.check_points, {"name": "x", "value": [1.0]}, {"x": [STR, [CPLX], [np.nan], []]}),
    (V.check_vector, {"name": "x", "value": [1.0]}, {"x": [STR, [CPLX], [np.nan], [[1.0]]]}),
    (V.check_bool, {"name": "x", "value": True}, {"x": BOOL}),
    (V.check_seed, {"name": "x", "value": 0}, {"x": SEED}),
    (V.integer_values, {"name": "x", "value": 1, "minimum": 1}, {"x": COUNTS1}),
    (V.check_integers, {"name": "x", "value": [1, 2], "low": 1}, {"x": [0, 2.5, np.nan, STR, CPLX, True]}),
    (V.check_callable, {"name": "x", "value": abs}, {"x": FUNC}),
    (V.check_choice, {"name": "x", "value": "a", "choices": ("a", "b")}, {"x": ["c", 1, NONE]}),
    (V.check_instance, {"name": "x", "value": 1.0, "cls": float}, {"x": ["1", NONE]}),
    # ---------------------------------------------------------------- stability
    (S.discrete_sup_series, {}, {"t": SYM_N}),
    (S.stable_region_holds, {"beta1": 0.9, "beta2": 0.999}, {"beta1": BETA, "beta2": BETA}),
    (S.worst_case_ratio, {"beta1": 0.9, "beta2": 0.999, "t": 3}, {"beta1": BETA, "beta2": BETA, "t": COUNTS1}),
    (S.growth_rate, {"beta1": 0.9, "beta2": 0.999}, {"beta1": BETA + [0.0], "beta2": BETA}),
    (S.extremal_gradients, {"beta1": 0.9, "beta2": 0.999, "steps": 3},
     {"beta1": BETA + [0.0], "beta2": BETA + [0.0], "steps": INT1, "scale": POS_ARRAY, "centered": BOOL}),
    (S.extremal_second_moment, {"beta1": 0.9, "beta2": 0.999, "t": 3},
     {"beta1": BETA + [0.0], "beta2": BETA, "t": [-1, 2.5, np.nan, STR], "scale": POS}),
    (S.measured_growth_slopes, {"beta1": 0.9, "beta2": 0.999, "steps": 10},
     {"beta1": BETA, "beta2": BETA, "steps": INT1, "eps": [STR, -1.0, np.nan], "bias_correction": BOOL,
      "scale": POS_ARRAY, "start_fraction": REAL + [1.0, -0.1]}),
    (S.predicted_window_slopes, {"beta1": 0.9, "beta2": 0.999, "steps": 10},
     {"beta1": BETA, "beta2": BETA, "steps": INT1, "start_fraction": REAL + [1.0, -0.1]}),
]

#: Public functions without parameters (sympy derivations): nothing to refuse.
NO_PARAMETERS = {
    "bias_lemma_condition_expr", "step_bound_expr", "flat_distance_bound_expr", "flat_distance_from_flat_expr",
    "half_recovery_steps_expr", "single_impulse_symbolic", "geometric_history_symbolic", "gradient_flow_symbolic",
    "lyapunov_derivative", "continuous_stable_condition", "continuous_growth_rate_expr", "stable_region_expr",
    "linear_rate_region_expr", "stability_threshold_expr", "algorithm1_update", "eps_hat",
    "eq4_minus_algorithm1", "eq4_plain_eps_minus_algorithm1", "bias_factor_at_start",
    "explicit_minus_recursive", "constant_gradient_moments", "no_bias_correction_gain", "negligible_bias_time",
    "adagrad_update_printed", "adagrad_update_corrected", "rmsprop_fixed_point_printed",
    "rmsprop_fixed_point_corrected", "rmsprop_printed_step_ratio", "algorithm1_scale_ratio",
    "discrete_sup_series", "discrete_stable_condition", "discrete_growth_rate_expr",
}
# symbolic.bias_factor is parameterless; bounds.bias_factor is in the table (same name, other module)


def _build(kwargs):
    return {k: (v() if callable(v) and getattr(v, "__name__", "") in {"_opt1", "_traj", "_long_run", "_scan",
                                                                         "_rows", "_ode_coeffs"} else v)
            for k, v in kwargs.items()}


def _cases():
    for fn, good, bad in TABLE:
        for param, values in bad.items():
            for value in values:
                name = f"{fn.__module__.split('.')[-1]}.{fn.__name__}-{param}-{value!r}"[:90]
                yield pytest.param(fn, good, param, value, id=name)


def _call(fn, good, param, value):
    kw = _build(good)
    if fn.__module__ == "adamdyn.validation" and "name" in kw:
        kw["value"] = value  # the checks take the parameter's name as an argument: here "x"
    else:
        kw[param] = value
    return fn(**kw)


@pytest.mark.parametrize("fn,good,param,value", list(_cases()))
def test_bad_value_is_refused_and_names_the_parameter(fn, good, param, value):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a refusal must not be preceded by warnings either
        with pytest.raises(ValueError, match=rf"(^|\W){re.escape(param)}(\W|$)"):
            _call(fn, good, param, value)


@pytest.mark.parametrize("fn,good", [pytest.param(fn, good, id=f"{fn.__module__}.{fn.__name__}")
                                     for fn, good, _ in TABLE])
def test_the_valid_call_of_each_row_is_accepted(fn, good):
    """Each row's valid call runs, so the refusals above are caused by the bad value alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fn(**_build(good))


def test_the_table_covers_every_public_function():
    covered = {(fn.__module__.split(".")[-1], fn.__name__) for fn, _, _ in TABLE}
    missing = []
    for mod in MODULES:
        M = importlib.import_module(f"adamdyn.{mod}")
        for name in M.__all__:
            obj = getattr(M, name)
            if not inspect.isfunction(obj) or obj.__module__ != M.__name__ or (mod, name) in NOT_OURS:
                continue  # constants, sympy symbols, dataclasses, names re-exported from another module
            if (mod, name) in covered:
                continue
            if not inspect.signature(obj).parameters and name in NO_PARAMETERS | {"bias_factor"}:
                continue
            missing.append(f"{mod}.{name}")
    assert not missing, f"public functions without bad-input rows: {missing}"


# ---------------------------------------------------------------- the probe's cases, by name
def test_probe_cases():
    with pytest.raises(ValueError, match="^steps must be an integer >= 0"):
        FD.flat_distance_finite(0.9, 0.999, 5, -1)
    with pytest.raises(ValueError, match="^n must be integers >= 1"):
        B.finite_step_sup(0.9, 0.999, -1)
    with pytest.raises(ValueError, match="^steps must be an integer >= 1"):
        FD.arrival_state(0.9, 0.999, 0)
    for n in (np.nan, 2.5):
        with pytest.raises(ValueError, match="^n must be integers >= 1"):
            B.bias_factor(0.9, 0.999, n)
    with pytest.raises(ValueError, match="^arrival_steps must be an integer >= 1"):
        FD.simulate_flat_map(0.9, 0.999, arrival_steps=-1)
    with pytest.raises(ValueError, match="^seed must be an integer >= 0"):
        GM.reversal_gaps(3, 3, seed=-1)
    with pytest.raises(ValueError, match="^bias_correction must be True or False"):
        B.finite_step_sup(0.9, 0.999, 5, bias_correction="no")


# ---------------------------------------------------------------- beta2 = 0
def test_finite_step_sup_at_beta2_zero_is_derived():
    r"""At beta2 = 0, v_n = delta_n^2 and m_n = (1-b1) sum_i b1^i delta_{n-i} (hand computation).

    n = 1: |m|/sqrt(v) = 1 - b1.  b1 = 0: m = delta_n, ratio 1 for every n.  n >= 2, b1 > 0: the history
    (1, ..., 1, h) gives (1-b1)(h + b1 + ... + b1^(n-1))/h -> +inf as h -> 0, so the supremum is +inf.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert B.finite_step_sup(0.0, 0.0, 5) == 1.0
        assert B.finite_step_sup(0.0, 0.0, 5, bias_correction=True) == 1.0
        assert B.finite_step_sup(0.5, 0.0, 5) == np.inf
        assert B.finite_step_sup(0.5, 0.0, 5, bias_correction=True) == np.inf
        assert B.finite_step_sup(0.5, 0.0, 1) == 0.5
        assert B.finite_step_sup(0.5, 0.0, 1, bias_correction=True) == 1.0  # r_1 = 1 / (1 - b1)
        assert FD.flat_distance_finite(0.5, 0.0, 1, 1) == 0.5  # the slope step alone
        assert FD.flat_distance_finite(0.5, 0.0, 1, 2) == np.inf  # v = 0 on the flat, m = b1 m_0 != 0
        assert S.growth_rate(0.5, 0.0)[0] == np.inf
    # the history of the docstring, h small: the ratio exceeds any bound (second method)
    b1, n = 0.5, 5
    for h in (1e-3, 1e-6, 1e-9):
        hist = np.r_[np.ones(n - 1), h]
        m = (1 - b1) * sum(b1**i * hist[n - 1 - i] for i in range(n))
        assert m / abs(h) > 0.4 / h
    # and the limit beta2 -> 0+ of the formula grows without bound
    vals = [B.finite_step_sup(0.5, b2, 5) for b2 in (1e-2, 1e-4, 1e-8)]
    assert vals[0] < vals[1] < vals[2] and vals[2] > 1e5


# ---------------------------------------------------------------- boundaries decided exactly
def test_boundaries_are_decided_at_the_decimal_a_float_prints_as():
    # the bias lemma at (0.9, 0.99): r_1 = sqrt(1 - 99/100) / (1 - 9/10) = (1/10) / (1/10) = 1 exactly (hand)
    assert (1 - Fraction(99, 100)) == (1 - Fraction(9, 10)) ** 2
    assert bool(B.bias_lemma_holds(0.9, 0.99)) is True       # the boundary belongs to the lemma's region
    assert (1.0 - 0.99) > (1.0 - 0.9) ** 2                   # ... which doubles alone get wrong
    assert bool(B.bias_lemma_holds(0.9, np.nextafter(0.99, 0))) is False
    assert bool(B.bias_lemma_holds(0.9, np.nextafter(0.99, 1))) is True
    # beta2 = beta1^2 at (0.9, 0.81): 81/100 = (9/10)^2, on the boundary, which the stable region excludes
    assert Fraction(81, 100) == Fraction(9, 10) ** 2
    assert S.stable_region_holds(0.9, 0.81) is False
    assert bool(B.step_bound_exists(0.9, 0.81)) is False
    assert B.step_bound(0.9, 0.81) == np.inf
    # as binary doubles 0.81 > 0.9**2: reading the floats' exact binary values would say "inside"
    assert Fraction(0.81) > Fraction(0.9) ** 2
    above, below = np.nextafter(0.81, 1), np.nextafter(0.81, 0)
    assert S.stable_region_holds(0.9, above) is True and S.stable_region_holds(0.9, below) is False
    assert np.isfinite(B.step_bound(0.9, above))
    # other boundary points of the same curve, and the poster's 3 + beta2 = 4 beta1
    for b1 in (0.1, 0.3, 0.5, 0.7, 0.99):
        b2 = float(Fraction(repr(b1)) ** 2)
        if Fraction(repr(b2)) == Fraction(repr(b1)) ** 2:  # the square is a short decimal
            assert S.stable_region_holds(b1, b2) is False
    assert bool(OL.poster_condition(0.8, 0.2)) is False  # 3.2 = 3.2: excluded
    assert bool(OL.poster_condition(0.8, np.nextafter(0.2, 1))) is True
    # arrays: the same decisions elementwise, and agreement with relation_at (sympy, rationals)
    b1 = np.array([0.9, 0.9, 0.5, 0.3])
    b2 = np.array([0.81, 0.99, 0.25, 0.09])
    rel = sp.StrictLessThan(B.beta1**2, B.beta2)
    assert list(S.stable_region_holds(b1, b2)) == [RL.relation_at(rel, x, y) for x, y in zip(b1, b2)]
    lemma = B.bias_lemma_condition_expr()
    assert list(B.bias_lemma_holds(b1, b2)) == [RL.relation_at(lemma, x, y) for x, y in zip(b1, b2)]


def test_decide_exactly_keeps_float_decisions_away_from_the_boundary():
    rng = np.random.default_rng(3)
    b1, b2 = rng.uniform(0, 1, 10_000), rng.uniform(0, 1, 10_000)
    assert np.array_equal(np.asarray(B.step_bound_exists(b1, b2)), b1**2 < b2)
    assert np.array_equal(np.asarray(B.bias_lemma_holds(b1, b2)), (1.0 - b2) <= (1.0 - b1) ** 2)


# ---------------------------------------------------------------- no RuntimeWarning on accepted input
EDGE_BETAS = [0.0, 5e-324, 1e-300, 1e-8, 0.5, 0.9, 0.999, 1 - 1e-12, float(np.nextafter(1.0, 0.0))]
betas = st.one_of(st.sampled_from(EDGE_BETAS), st.floats(0.0, 1.0, exclude_max=True))
open_betas = st.one_of(st.sampled_from([5e-324, 1e-300, 1e-8, 0.5, 0.9, 0.999, float(np.nextafter(1.0, 0.0))]),
                       st.floats(0.0, 1.0, exclude_min=True, exclude_max=True))
counts = st.integers(1, 300)
small_counts = st.integers(1, 40)
# rates, slopes and scales over 200 decades (their results stay inside float64)
positive = st.one_of(st.sampled_from([1e-100, 1e-8, 1.0, 1e8, 1e100]),
                     st.floats(1e-100, 1e100, allow_nan=False, allow_infinity=False))
nonneg = st.one_of(st.just(0.0), positive)


def _accepted(fn, *args, **kw):
    """Call ``fn``; a ValueError (a refusal) is fine, any RuntimeWarning is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return fn(*args, **kw)
        except ValueError:
            return None


@settings(max_examples=150, deadline=None)
@given(b1=betas, b2=betas, n=counts, k=small_counts, bc=st.booleans())
def test_no_runtime_warning_on_beta_functions(b1, b2, n, k, bc):
    _accepted(B.bias_lemma_holds, b1, b2)
    _accepted(B.bias_lemma_first_failure, b1, b2, horizon=k)
    _accepted(B.bias_factor, b1, b2, n)
    _accepted(B.step_bound, b1, b2)
    _accepted(B.step_bound_exists, b1, b2)
    _accepted(B.finite_step_sup, b1, b2, n, bias_correction=bc)
    _accepted(B.extremal_history, b1, b2, k)
    _accepted(B.extremal_moments, b1, b2, k)
    _accepted(FD.flat_distance_bound, b1, b2)
    _accepted(FD.flat_distance_finite, b1, b2, n, k, bias_correction=bc)
    _accepted(FD.arrival_state, b1, b2, k, bias_correction=bc)
    _accepted(S.stable_region_holds, b1, b2)
    _accepted(S.worst_case_ratio, b1, b2, n)
    _accepted(S.growth_rate, b1, b2)
    _accepted(S.extremal_gradients, b1, b2, k)
    _accepted(S.extremal_second_moment, b1, b2, k)
    _accepted(GM.single_impulse_ratio, b1, b2, k)
    _accepted(OL.poster_condition, b1, b2)
    _accepted(OL.lyapunov_condition, b1, b2)


@pytest.mark.parametrize("b1", EDGE_BETAS)
def test_no_runtime_warning_on_curvature_threshold(b1):
    _accepted(CV.curvature_threshold, b1)  # a sympy solve per call: the edges only
    _accepted(CV.curvature_threshold, b1, eps=0.0)


@settings(max_examples=100, deadline=None)
@given(b1=open_betas, b2=open_betas, tau=st.one_of(st.sampled_from([0.0, 1e-300, 1.0, 1e300, np.inf]),
                                                   st.floats(0, 1e6)), s=positive, r=positive)
def test_no_runtime_warning_on_rates_and_margins(b1, b2, tau, s, r):
    _accepted(OL.lyapunov_margin, b1, b2, tau)
    _accepted(O.adam_alphas, b1, b2, s)
    _accepted(CA.betas_from_rates, s, r, 1e-3)
    _accepted(CA.continuous_worst_case_ratio, s, r, tau if np.isfinite(tau) else 1.0)
    _accepted(O.g_adam, tau if tau > 0 else 1.0, 0.0, s)
    _accepted(GM.geometric_history_ratio, b1, b2, 1.0 + r)


@settings(max_examples=100, deadline=None)
@given(slope=positive, eps=nonneg, b2=open_betas, v0=positive, lr=positive, a=positive)
def test_no_runtime_warning_on_scalar_helpers(slope, eps, b2, v0, lr, a):
    _accepted(NF.half_recovery_steps, slope, eps, b2, v0)
    _accepted(NF.final_step, slope, eps)
    _accepted(FP.subnormal_count, [slope, v0])
    if lr * a >= 1e-300 and lr * a <= 1e300:
        _accepted(FP.sgd_underflow_stall, lr, a)

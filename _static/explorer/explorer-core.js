/* The explorer's numerics: the book's landscapes and its one generic update rule, in JavaScript.
 *
 * This is a port of adamdyn.optimizers._kernel (the compiled numba kernel) and of the built-in
 * gradients of adamdyn.landscapes, with the same floating-point operations in the same order, so
 * that a run here is bit-for-bit the run of adamdyn.run (tests/test_explorer.py checks it in a
 * headless browser).  In particular:
 *   - b1^t and b2^t are running products (p1 *= b1 each step), as in the kernel, not powers;
 *   - v = b2 v + (c2 g) g, mhat = m / (1 - b1^t), d = sqrt(vhat) + eps or sqrt(vhat + eps);
 *   - a zero denominator gives a zero step; w = w (1 - lr wd) - lr u;
 *   - a run whose iterate or moments leave [-1e150, 1e150] is frozen at its last good state.
 * Nothing here touches the page: the UI (explorer.js) and the tests call run() directly.
 */
(function (root) {
  "use strict";

  const DIVERGENCE_LIMIT = 1e150;

  // Landscape kinds, as adamdyn.landscapes.KIND_*.
  const KIND_QUADRATIC = 0, KIND_ABS = 1, KIND_PLATEAU = 2, KIND_QUARTIC = 3;

  /* The built-in landscapes: kind, gradient parameters, objective (for the contours), and the
   * view of the contour plot.  `params` follows adamdyn.landscapes (coefficients a_i; for the
   * plateau [edge, slope, power]). */
  function landscape(name, settings) {
    const s = settings || {};
    switch (name) {
      case "saddle":
        return quadraticLandscape("saddle", [-0.5, 0.5], "½(−w₁² + w₂²)");
      case "smooth":
        return quadraticLandscape("smooth valley", [1.0, 1e-3], "w₁² + 10⁻³ w₂²");
      case "quadratic": {
        const a = s.coeffs || [1.0, 1.0];
        return quadraticLandscape("quadratic", a, `${a[0]} w₁² + ${a[1]} w₂²`);
      }
      case "sharp":
        return {
          name: "sharp valley", kind: KIND_ABS, params: [1.0, 1e-4], formula: "|w₁| + 10⁻⁴ |w₂|",
          value: (x, y) => Math.abs(x) + 1e-4 * Math.abs(y),
        };
      case "plateau": {
        const p = s.plateau || [0.0, 1.0, 1.0];
        const [e, c, pw] = p;
        const f1 = (w) => (w < e ? (c / pw) * Math.pow(e - w, pw) : 0.0);
        return {
          name: "plateau", kind: KIND_PLATEAU, params: [e, c, pw],
          formula: `Σᵢ (${c}/${pw}) max(${e} − wᵢ, 0)^${pw}`, value: (x, y) => f1(x) + f1(y),
        };
      }
      case "quartic":
        return {
          name: "quartic", kind: KIND_QUARTIC, params: [], formula: "(w₁ + w₂)⁴ + (w₁/2 − w₂/2)⁴",
          value: (x, y) => Math.pow(x + y, 4) + Math.pow(x / 2 - y / 2, 4),
        };
      default:
        throw new RangeError(`landscape must be one of ${LANDSCAPES.join(", ")}, got ${name}`);
    }
  }

  function quadraticLandscape(name, a, formula) {
    return {
      name, kind: KIND_QUADRATIC, params: [a[0], a[1]], formula,
      value: (x, y) => a[0] * x * x + a[1] * y * y,
    };
  }

  const LANDSCAPES = ["saddle", "smooth", "sharp", "plateau", "quartic", "quadratic"];

  /* The gradient at (x[0], x[1]) into g, as adamdyn.optimizers._grad (same order of operations).
   * Numba evaluates a cube as (s * s) * s; a power p - 1 of the plateau goes through pow(). */
  function grad(kind, p, x, g) {
    if (kind === KIND_QUADRATIC) {
      g[0] = 2.0 * p[0] * x[0];
      g[1] = 2.0 * p[1] * x[1];
    } else if (kind === KIND_ABS) {
      for (let i = 0; i < 2; i++) {
        const xi = x[i];
        g[i] = xi > 0.0 ? p[i] : (xi < 0.0 ? -p[i] : 0.0);
      }
    } else if (kind === KIND_PLATEAU) {
      const e = p[0], c = p[1], pw = p[2];
      for (let i = 0; i < 2; i++) {
        const d = e - x[i];
        g[i] = d > 0.0 ? (pw === 1.0 ? -c : -c * Math.pow(d, pw - 1.0)) : 0.0;
      }
    } else {
      const s = x[0] + x[1];
      const q = 0.5 * x[0] - 0.5 * x[1];
      const u = 4.0 * (s * s * s);
      const w = 2.0 * (q * q * q);
      g[0] = u + w;
      g[1] = u - w;
    }
  }

  /* One optimizer's hyperparameters in the generic form of adamdyn.optimizers (b1, c1, b2, c2,
   * eps, weight decay, flags), built the way adamdyn.sgd/momentum/adagrad/rmsprop/adam/adamw do. */
  const OPTIMIZERS = ["SGD", "momentum", "AdaGrad", "RMSProp", "Adam", "AdamW"];

  function optimizer(name, s) {
    const base = {name, lr: s.lr, b1: 0.0, c1: 1.0, b2: 0.0, c2: 0.0, eps: 0.0, wd: 0.0,
                  epsInside: false, bias1: false, bias2: false, adaptive: true};
    switch (name) {
      case "SGD":
        return {...base, adaptive: false};
      case "momentum":
        return {...base, b1: s.momentum, adaptive: false};
      case "AdaGrad":
        return {...base, b2: 1.0, c2: 1.0, eps: s.adagrad_eps};
      case "RMSProp":
        return {...base, b2: s.rmsprop_beta2, c2: 1.0 - s.rmsprop_beta2, eps: s.eps};
      case "Adam":
      case "AdamW":
        return {...base, b1: s.beta1, c1: 1.0 - s.beta1, b2: s.beta2, c2: 1.0 - s.beta2, eps: s.eps,
                wd: name === "AdamW" ? s.weight_decay : 0.0, epsInside: !!s.eps_inside,
                bias1: !!s.bias_correction, bias2: !!s.bias_correction};
      default:
        throw new RangeError(`optimizer must be one of ${OPTIMIZERS.join(", ")}, got ${name}`);
    }
  }

  /* Advance one run for `steps` updates from x0 (length 2).
   *
   * `observe(t, x0, x1, dx0, dx1)`, if given, is called after every accepted step with the new
   * iterate and the update; `path` (a Float64Array of length 2 (steps + 1)), if given, receives
   * every iterate (a frozen run repeats its last one), as adamdyn.run(..., record_every=1).
   * Returns {x, m, v, t, diverged, divergedStep, exitStep, hitStep}: exitStep is the first step
   * farther than `radius` from the origin, hitStep the first within `tol` of it (or -1), as
   * adamdyn.run's center/radius and target/tol with center = target = 0.
   */
  function run(land, o, x0, steps, options) {
    const opts = options || {};
    const observe = opts.observe || null;
    const path = opts.path || null;
    const radius = opts.radius || 0.0;
    const tol = opts.tol || 0.0;
    const kind = land.kind, lp = land.params;
    const x = new Float64Array([x0[0], x0[1]]);
    const m = new Float64Array(2), v = new Float64Array(2), g = new Float64Array(2);
    const xn = new Float64Array(2), mn = new Float64Array(2), vn = new Float64Array(2);
    const lr = o.lr, b1 = o.b1, c1 = o.c1, b2 = o.b2, c2 = o.c2, eps = o.eps, wd = o.wd;
    const epsInside = o.epsInside, bias1 = o.bias1, bias2 = o.bias2, adaptive = o.adaptive;
    const limit = DIVERGENCE_LIMIT;
    let p1 = 1.0, p2 = 1.0, div = false, divStep = -1, exitStep = -1, hitStep = -1;
    if (tol > 0.0 && x[0] * x[0] + x[1] * x[1] <= tol * tol) hitStep = 0;
    if (radius > 0.0 && x[0] * x[0] + x[1] * x[1] > radius * radius) exitStep = 0;
    if (path) { path[0] = x[0]; path[1] = x[1]; }
    for (let t = 1; t <= steps; t++) {
      if (!div) {
        grad(kind, lp, x, g);
        p1 *= b1;
        p2 *= b2;
        const den1 = bias1 ? 1.0 - p1 : 1.0;
        const den2 = bias2 ? 1.0 - p2 : 1.0;
        let ok = true;
        for (let i = 0; i < 2; i++) {
          const gi = g[i];
          const mi = b1 * m[i] + c1 * gi;
          const vi = b2 * v[i] + c2 * gi * gi;
          const mh = mi / den1;
          let u;
          if (adaptive) {
            const vh = vi / den2;
            const d = epsInside ? Math.sqrt(vh + eps) : Math.sqrt(vh) + eps;
            u = d > 0.0 ? mh / d : 0.0;
          } else {
            u = mh;
          }
          const xi = x[i] * (1.0 - lr * wd) - lr * u;
          if (!(Math.abs(xi) <= limit && Math.abs(mi) <= limit && vi <= limit)) ok = false;
          xn[i] = xi;
          mn[i] = mi;
          vn[i] = vi;
        }
        if (ok) {
          const d0 = xn[0] - x[0], d1 = xn[1] - x[1];
          x[0] = xn[0]; x[1] = xn[1];
          m[0] = mn[0]; m[1] = mn[1];
          v[0] = vn[0]; v[1] = vn[1];
          if (tol > 0.0 && hitStep < 0 && x[0] * x[0] + x[1] * x[1] <= tol * tol) hitStep = t;
          if (radius > 0.0 && exitStep < 0 && x[0] * x[0] + x[1] * x[1] > radius * radius) exitStep = t;
          if (observe) observe(t, x[0], x[1], d0, d1);
        } else {
          div = true;
          divStep = t;
        }
      }
      if (path) { path[2 * t] = x[0]; path[2 * t + 1] = x[1]; }
    }
    return {x: Array.from(x), m: Array.from(m), v: Array.from(v), t: steps, diverged: div,
            divergedStep: divStep, exitStep, hitStep};
  }

  /* The book's (beta1, beta2) conditions (see the conditions-map chapter). */
  const CONDITIONS = [
    {key: "prop1", label: "Prop. 1 bound exists / stable region: β₂ > β₁²", holds: (b1, b2) => b1 * b1 < b2,
     boundary: (b1) => b1 * b1},
    {key: "linear", label: "stable region, linear rates: β₂ > 2β₁ − 1", holds: (b1, b2) => b2 > 2 * b1 - 1,
     boundary: (b1) => 2 * b1 - 1},
    {key: "lemma", label: "bias lemma: 1 − β₂ ≤ (1 − β₁)²", holds: (b1, b2) => 1 - b2 <= (1 - b1) * (1 - b1),
     boundary: (b1) => 1 - (1 - b1) * (1 - b1)},
    {key: "poster", label: "poster's Theorem 1: 3 + β₂ > 4β₁", holds: (b1, b2) => 3 + b2 > 4 * b1,
     boundary: (b1) => 4 * b1 - 3},
  ];

  /* Proposition 1's bound on |w_t - w_{t-1}| / eta (no bias correction, eps = 0), NaN outside. */
  function stepBound(b1, b2) {
    if (!(b1 * b1 < b2)) return NaN;
    return Math.sqrt(b2) * (1 - b1) / Math.sqrt((1 - b2) * (b2 - b1 * b1));
  }

  /* The supremum of that ratio over histories of length n (adamdyn.bounds.finite_step_sup),
   * times the bias factor sqrt(1 - b2^n) / (1 - b1^n) if bias-corrected. */
  function finiteStepSup(b1, b2, n, biasCorrection) {
    const q = b1 * b1 / b2;
    const geo = Math.abs(q - 1) < 1e-15 ? n : (q > 0 ? Math.expm1(n * Math.log(q)) / (q - 1) : 1.0);
    let out = (1 - b1) / Math.sqrt(1 - b2) * Math.sqrt(geo);
    if (biasCorrection) out *= Math.sqrt(-Math.expm1(n * Math.log(b2))) / -Math.expm1(n * Math.log(b1));
    return out;
  }

  root.AdamExplorerCore = {DIVERGENCE_LIMIT, LANDSCAPES, OPTIMIZERS, CONDITIONS, landscape, optimizer, grad,
                           run, stepBound, finiteStepSup};
})(typeof window !== "undefined" ? window : globalThis);

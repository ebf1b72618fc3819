/* The explorer's page: controls, drawings and the URL state, around explorer-core.js.
 *
 * Every element with the attribute data-adam-explorer becomes one explorer.  Its settings are
 * read from the page's query string (the names of adamdyn.explorer.explorer_url), and every
 * change is written back to it, so that the address always reproduces what is drawn.  An
 * explorer embedded in another page (adamdyn.explorer.explorer_embed) reads its settings from
 * its data-settings attribute instead and leaves the page's address alone.
 * Plain canvas, no library, nothing fetched.
 */
(function () {
  "use strict";

  const C = window.AdamExplorerCore;
  const COLORS = {SGD: "#4d4d4d", momentum: "#8c564b", AdaGrad: "#2ca02c", RMSProp: "#1f77b4",
                  Adam: "#d62728", AdamW: "#ff7f0e"};
  const CONDITION_STYLE = {prop1: ["#d62728", []], linear: ["#9467bd", [6, 3]], lemma: ["#2ca02c", [2, 3]],
                           poster: ["#1f77b4", [8, 3, 2, 3]]};
  const MAX_STEPS = 1000000;
  const DEFAULTS = {
    landscape: "saddle", optimizers: ["SGD", "AdaGrad", "RMSProp", "Adam"], start: [1e-3, 1.0],
    steps: 10000, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, rmsprop_beta2: 0.99,
    adagrad_eps: 1e-10, momentum: 0.9, weight_decay: 1e-2, bias_correction: true, eps_inside: false,
    coeffs: [1.0, 1.0], plateau: [0.0, 1.0, 1.0], view: null,
  };
  const VIEWS = {saddle: [-0.6, 2.2, -0.6, 1.2], smooth: [-1.2, 1.2, -0.2, 1.2], sharp: [-1.2, 1.2, -0.2, 1.2],
                 plateau: [-2.0, 0.5, -2.0, 0.5], quartic: [-1.2, 1.2, -1.2, 1.2],
                 quadratic: [-1.2, 1.2, -1.2, 1.2]};
  // the saddle chapter's escape radius and the valleys chapter's arrival distance (adamdyn.saddle.RADIUS,
  // adamdyn.valleys.TOL), reported in the status line
  const ESCAPE_RADIUS = {saddle: 2.0};
  const ARRIVAL_TOL = {smooth: 1e-3, sharp: 1e-3, quartic: 1e-3, quadratic: 1e-3};
  const BINS = 600;                 // log-spaced step bins of the two step plots
  const PATH_CAPACITY = 50000;      // points kept per drawn path (then only the latest is updated)
  const STROKE_CHUNK = 400;         // segments per stroked sub-path: long self-crossing paths rasterize slowly

  /* ---------------------------------------------------------------- settings <-> URL */
  const SCALARS = {
    // name: [lower, upper, lower open?, upper open?]
    lr: [0, Infinity, true, true], beta1: [0, 1, false, true], beta2: [0, 1, false, true],
    eps: [0, Infinity, false, true], rmsprop_beta2: [0, 1, false, true], adagrad_eps: [0, Infinity, false, true],
    momentum: [0, 1, false, true], weight_decay: [0, Infinity, false, true],
  };

  function inRange(name, x) {
    const [lo, hi, loOpen, hiOpen] = SCALARS[name];
    return Number.isFinite(x) && (loOpen ? x > lo : x >= lo) && (hiOpen ? x < hi : x <= hi);
  }

  /* A number from text; empty text is not zero (as Number("") would have it). */
  function toNumber(text) {
    return String(text).trim() === "" ? NaN : Number(text);
  }

  function numbers(text, n) {
    const parts = String(text).split(",").map(toNumber);
    return parts.length === n && parts.every(Number.isFinite) ? parts : null;
  }

  /* Settings from a query string; invalid entries keep their defaults and are listed in `rejected`. */
  function parse(search) {
    const q = new URLSearchParams(search);
    const s = JSON.parse(JSON.stringify(DEFAULTS));
    const rejected = [];
    const take = (name, ok, value) => { if (ok) s[name] = value; else rejected.push(name); };
    if (q.has("landscape")) take("landscape", C.LANDSCAPES.includes(q.get("landscape")), q.get("landscape"));
    if (q.has("optimizers")) {
      const names = q.get("optimizers").split(",").filter((x) => x);
      take("optimizers", names.length > 0 && names.every((x) => C.OPTIMIZERS.includes(x)), names);
    }
    for (const name of Object.keys(SCALARS)) {
      if (q.has(name)) { const x = toNumber(q.get(name)); take(name, inRange(name, x), x); }
    }
    if (q.has("steps")) {
      const n = toNumber(q.get("steps"));
      take("steps", Number.isInteger(n) && n >= 1 && n <= MAX_STEPS, n);
    }
    for (const name of ["bias_correction", "eps_inside"]) {
      if (q.has(name)) take(name, ["0", "1"].includes(q.get(name)), q.get(name) === "1");
    }
    if (q.has("start")) { const p = numbers(q.get("start"), 2); take("start", !!p, p); }
    if (q.has("coeffs")) { const p = numbers(q.get("coeffs"), 2); take("coeffs", !!p, p); }
    if (q.has("plateau")) {
      const p = numbers(q.get("plateau"), 3);
      take("plateau", !!p && p[1] > 0 && p[2] >= 1, p);
    }
    if (q.has("view")) {
      const p = numbers(q.get("view"), 4);
      take("view", !!p && p[0] < p[1] && p[2] < p[3], p);
    }
    return {settings: s, rejected};
  }

  /* The query string of a setting, in the order and format of adamdyn.explorer.explorer_url. */
  function serialize(s) {
    const parts = [
      ["landscape", s.landscape], ["optimizers", s.optimizers.join(",")], ["start", s.start.map(fmt).join(",")],
      ["steps", String(s.steps)], ["lr", fmt(s.lr)], ["beta1", fmt(s.beta1)], ["beta2", fmt(s.beta2)],
      ["eps", fmt(s.eps)], ["rmsprop_beta2", fmt(s.rmsprop_beta2)], ["adagrad_eps", fmt(s.adagrad_eps)],
      ["momentum", fmt(s.momentum)], ["weight_decay", fmt(s.weight_decay)],
      ["bias_correction", s.bias_correction ? "1" : "0"], ["eps_inside", s.eps_inside ? "1" : "0"],
    ];
    if (s.landscape === "quadratic") parts.push(["coeffs", s.coeffs.map(fmt).join(",")]);
    if (s.landscape === "plateau") parts.push(["plateau", s.plateau.map(fmt).join(",")]);
    if (s.view) parts.push(["view", s.view.map(fmt).join(",")]);
    return parts.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/g, ",")}`).join("&");
  }

  /* Shortest text that reads back as the same double (as Python's repr, without exponent zeros). */
  function fmt(x) {
    return String(x).replace("e-0", "e-").replace("e+0", "e+");
  }

  function shortText(x) {
    if (x === 0) return "0";
    const a = Math.abs(x);
    return a >= 1e-3 && a < 1e5 ? String(Number(x.toPrecision(4))) : Number(x.toPrecision(3)).toExponential().replace("e+", "e");
  }

  /* ---------------------------------------------------------------- one computation */
  /* Runs every selected optimizer and keeps what the drawings need: the path, thinned to what
   * is visible at the plot's resolution (every step up to 1000, then a point whenever the
   * iterate moved by half a pixel, 1/800 of the view, at most PATH_CAPACITY points), and per
   * log-spaced step bin the range of w1 and the largest |w_t - w_{t-1}| / eta. */
  function compute(s) {
    const land = C.landscape(s.landscape, s);
    const view = s.view || VIEWS[s.landscape];
    const tolx = (view[1] - view[0]) / 800, toly = (view[3] - view[2]) / 800;
    const edges = binEdges(s.steps);
    const runs = [];
    const t0 = performance.now();
    for (const name of s.optimizers) {
      const o = C.optimizer(name, s);
      const path = new Float64Array(2 * Math.min(PATH_CAPACITY, s.steps + 1));
      let n = 1, lastx = s.start[0], lasty = s.start[1];
      path[0] = lastx; path[1] = lasty;
      const w1lo = new Float64Array(BINS).fill(Infinity), w1hi = new Float64Array(BINS).fill(-Infinity);
      const stepHi = new Float64Array(BINS).fill(-Infinity);
      let bin = 0, next = edges[1];
      const inv = 1.0 / o.lr;
      const observe = (t, x, y, dx, dy) => {
        while (t >= next && bin < BINS - 1) { bin++; next = edges[bin + 1]; }
        if (x < w1lo[bin]) w1lo[bin] = x;
        if (x > w1hi[bin]) w1hi[bin] = x;
        const st = Math.max(Math.abs(dx), Math.abs(dy)) * inv;
        if (st > stepHi[bin]) stepHi[bin] = st;
        if (t <= 1000 || Math.abs(x - lastx) > tolx || Math.abs(y - lasty) > toly || t === s.steps) {
          if (n < PATH_CAPACITY) n++;
          path[2 * n - 2] = x; path[2 * n - 1] = y; lastx = x; lasty = y;
        }
      };
      const result = C.run(land, o, s.start, s.steps, {observe, radius: ESCAPE_RADIUS[s.landscape] || 0.0,
                                                       tol: ARRIVAL_TOL[s.landscape] || 0.0});
      runs.push({name, path: path.subarray(0, 2 * n), w1lo, w1hi, stepHi, result});
    }
    return {land, view, edges, runs, seconds: (performance.now() - t0) / 1000};
  }

  /* Bin k holds the steps t with edges[k] <= t < edges[k + 1], log-spaced over [1, steps]. */
  function binEdges(steps) {
    const e = new Float64Array(BINS + 1);
    const top = Math.log(steps + 1);
    for (let k = 0; k <= BINS; k++) e[k] = Math.exp(top * k / BINS);
    e[0] = 1;
    e[BINS] = steps + 1;
    return e;
  }

  /* ---------------------------------------------------------------- canvas helpers */
  function makeCanvas(parent, cssWidth, cssHeight, label) {
    const c = document.createElement("canvas");
    const dpr = Math.max(1, Math.min(window.devicePixelRatio || 1, 3));
    c.width = Math.round(cssWidth * dpr);
    c.height = Math.round(cssHeight * dpr);
    c.style.width = `${cssWidth}px`;
    c.style.height = `${cssHeight}px`;
    c.setAttribute("role", "img");
    c.setAttribute("aria-label", label);
    parent.appendChild(c);
    const ctx = c.getContext("2d");
    ctx.scale(dpr, dpr);
    return {canvas: c, ctx, w: cssWidth, h: cssHeight};
  }

  const MARGIN = {l: 52, r: 18, t: 22, b: 36};

  function frame(ctx, w, h, title, xlabel, ylabel) {
    ctx.save();
    ctx.setTransform(ctx.getTransform());
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, w, h);
    ctx.strokeStyle = "#333";
    ctx.lineWidth = 1;
    ctx.strokeRect(MARGIN.l + 0.5, MARGIN.t + 0.5, w - MARGIN.l - MARGIN.r, h - MARGIN.t - MARGIN.b);
    ctx.fillStyle = "#222";
    ctx.font = "12px sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(title, (MARGIN.l + w - MARGIN.r) / 2, 15);
    ctx.fillText(xlabel, (MARGIN.l + w - MARGIN.r) / 2, h - 4);
    ctx.save();
    ctx.translate(12, (MARGIN.t + h - MARGIN.b) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(ylabel, 0, 0);
    ctx.restore();
    ctx.restore();
  }

  function clip(ctx, w, h) {
    ctx.beginPath();
    ctx.rect(MARGIN.l, MARGIN.t, w - MARGIN.l - MARGIN.r, h - MARGIN.t - MARGIN.b);
    ctx.clip();
  }

  function xTicks(ctx, w, h, ticks) {
    ctx.fillStyle = "#222";
    ctx.strokeStyle = "#333";
    ctx.font = "10px sans-serif";
    ctx.textAlign = "center";
    for (const [px, text] of ticks) {
      ctx.beginPath();
      ctx.moveTo(px, h - MARGIN.b);
      ctx.lineTo(px, h - MARGIN.b + 4);
      ctx.stroke();
      ctx.fillText(text, px, h - MARGIN.b + 14);
    }
  }

  function yTicks(ctx, ticks) {
    ctx.fillStyle = "#222";
    ctx.strokeStyle = "#333";
    ctx.font = "10px sans-serif";
    ctx.textAlign = "right";
    for (const [py, text] of ticks) {
      ctx.beginPath();
      ctx.moveTo(MARGIN.l - 4, py);
      ctx.lineTo(MARGIN.l, py);
      ctx.stroke();
      ctx.fillText(text, MARGIN.l - 6, py + 3);
    }
  }

  function linearTicks(lo, hi, count) {
    const raw = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((k) => k * mag).find((k) => k >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12 * step; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  /* Marching squares: the segments of f = level on a grid of values (nx by ny, row-major in y). */
  function isolines(ctx, F, nx, ny, level, px, py) {
    ctx.beginPath();
    for (let j = 0; j < ny - 1; j++) {
      for (let i = 0; i < nx - 1; i++) {
        const a = F[j * nx + i], b = F[j * nx + i + 1], c = F[(j + 1) * nx + i + 1], d = F[(j + 1) * nx + i];
        const pts = [];
        const edge = (f0, f1, x0, y0, x1, y1) => {
          if ((f0 < level) !== (f1 < level)) {
            const r = (level - f0) / (f1 - f0);
            pts.push([px(x0 + r * (x1 - x0)), py(y0 + r * (y1 - y0))]);
          }
        };
        edge(a, b, i, j, i + 1, j);
        edge(b, c, i + 1, j, i + 1, j + 1);
        edge(c, d, i + 1, j + 1, i, j + 1);
        edge(d, a, i, j + 1, i, j);
        for (let k = 0; k + 1 < pts.length; k += 2) {
          ctx.moveTo(pts[k][0], pts[k][1]);
          ctx.lineTo(pts[k + 1][0], pts[k + 1][1]);
        }
      }
    }
    ctx.stroke();
  }

  /* y -> screen for the symmetric-log axis: linear within +-lin, logarithmic outside. */
  function symlog(y, lin) {
    const a = Math.abs(y);
    return a <= lin ? y / lin : Math.sign(y) * (1 + Math.log10(a / lin));
  }

  /* ---------------------------------------------------------------- the explorer */
  class Explorer {
    constructor(root) {
      this.root = root;
      const embedded = root.dataset.settings;
      this.writesUrl = embedded === undefined;
      const parsed = parse(this.writesUrl ? window.location.search : embedded);
      this.settings = parsed.settings;
      this.initial = JSON.parse(JSON.stringify(parsed.settings));
      this.rejected = parsed.rejected;
      this.pending = false;
      this.lastDraw = null;
      this.build();
      this.update(false);
    }

    build() {
      const r = this.root;
      r.classList.add("adam-explorer");
      r.innerHTML = "";
      const controls = el("div", "ae-controls", r);
      const plots = el("div", "ae-plots", r);
      this.status = el("p", "ae-status", r);
      this.status.setAttribute("aria-live", "polite");
      this.inputs = {};

      // landscape and optimizers
      const row = el("div", "ae-row", controls);
      const lab = el("label", "ae-label", row);
      lab.textContent = "landscape ";
      const sel = el("select", "", lab);
      sel.name = "landscape";
      for (const name of C.LANDSCAPES) {
        const o = el("option", "", sel);
        o.value = name;
        o.textContent = C.landscape(name, DEFAULTS).name;
      }
      sel.addEventListener("change", () => {
        this.settings.landscape = sel.value;
        this.settings.view = null;
        this.update(true);
      });
      this.inputs.landscape = sel;
      const opts = el("fieldset", "ae-optimizers", controls);
      el("legend", "", opts).textContent = "optimizers";
      this.checks = {};
      for (const name of C.OPTIMIZERS) {
        const l = el("label", "ae-check", opts);
        const cb = el("input", "", l);
        cb.type = "checkbox";
        cb.name = `opt-${name}`;
        const sw = el("span", "ae-swatch", l);
        sw.style.background = COLORS[name];
        l.appendChild(document.createTextNode(name));
        cb.addEventListener("change", () => {
          const chosen = C.OPTIMIZERS.filter((n) => this.checks[n].checked);
          if (chosen.length === 0) { cb.checked = true; return; }
          this.settings.optimizers = chosen;
          this.update(true);
        });
        this.checks[name] = cb;
      }

      const sliders = el("div", "ae-sliders", controls);
      const logScale = (lo, hi) => ({to: (x) => Math.log10(x), from: (p) => Math.pow(10, p), lo, hi, step: 0.01});
      // a decay rate beta is shown on the scale -log10(1 - beta): 0.9, 0.99, 0.999 are evenly spaced
      const betaScale = {to: (b) => -Math.log10(1 - b), from: (p) => 1 - Math.pow(10, -p), lo: 0, hi: 4, step: 0.005};
      const epsScale = {to: (x) => (x > 0 ? Math.log10(x) : -17), from: (p) => (p <= -17 ? 0 : Math.pow(10, p)),
                        lo: -17, hi: -1, step: 0.05};
      this.slider(sliders, "lr", "learning rate η", logScale(-5, 0));
      this.slider(sliders, "beta1", "β₁ (Adam)", betaScale);
      this.slider(sliders, "beta2", "β₂ (Adam)", betaScale);
      this.slider(sliders, "eps", "ε (Adam, RMSProp; 0 at the left)", epsScale);
      this.slider(sliders, "rmsprop_beta2", "RMSProp decay ρ", betaScale);
      this.slider(sliders, "momentum", "momentum μ", betaScale);
      this.slider(sliders, "adagrad_eps", "ε (AdaGrad; 0 at the left)", epsScale);
      this.slider(sliders, "weight_decay", "weight decay λ (AdamW)", {...logScale(-6, 0), ...{
        to: (x) => (x > 0 ? Math.log10(x) : -6), from: (p) => (p <= -6 ? 0 : Math.pow(10, p))}});
      this.slider(sliders, "steps", "steps", {to: (n) => Math.log10(n), from: (p) => Math.round(Math.pow(10, p)),
                                              lo: 0, hi: 6, step: 0.01, integer: true});

      const flags = el("div", "ae-row", controls);
      for (const [name, text] of [["bias_correction", "bias correction (Adam, AdamW)"],
                                  ["eps_inside", "ε inside the root (Adam, AdamW)"]]) {
        const l = el("label", "ae-check", flags);
        const cb = el("input", "", l);
        cb.type = "checkbox";
        cb.name = name;
        l.appendChild(document.createTextNode(text));
        cb.addEventListener("change", () => { this.settings[name] = cb.checked; this.update(true); });
        this.inputs[name] = cb;
      }

      // start, landscape parameters, view: exact values as text
      const exact = el("div", "ae-row", controls);
      this.vectorInput(exact, "start", "start w₀ (or click the contours)", 2);
      this.vectorInput(exact, "coeffs", "quadratic a₁, a₂", 2);
      this.vectorInput(exact, "plateau", "plateau edge, slope, power", 3, (p) => p[1] > 0 && p[2] >= 1);
      this.vectorInput(exact, "view", "view w₁ min, max, w₂ min, max", 4, (p) => p[0] < p[1] && p[2] < p[3]);
      const reset = el("button", "ae-button", exact);
      reset.type = "button";
      reset.textContent = "reset";
      reset.title = "back to the setting this explorer was opened with";
      reset.addEventListener("click", () => { this.settings = JSON.parse(JSON.stringify(this.initial)); this.update(true); });

      // drawings
      this.contour = makeCanvas(el("div", "ae-plot", plots), 460, 360, "contours of the landscape with the paths");
      this.w1plot = makeCanvas(el("div", "ae-plot", plots), 335, 250, "w1 against the step");
      this.stepplot = makeCanvas(el("div", "ae-plot", plots), 335, 250, "step size over eta against the step");
      const mapBox = el("div", "ae-plot", plots);
      this.betamap = makeCanvas(mapBox, 360, 330, "the (beta1, beta2) map of the book's conditions");
      this.mapInfo = el("p", "ae-mapinfo", mapBox);
      this.contour.canvas.addEventListener("click", (ev) => this.clickStart(ev));
      this.contour.canvas.classList.add("ae-clickable");
      this.betamap.canvas.addEventListener("mousemove", (ev) => this.hoverMap(ev));
      this.betamap.canvas.addEventListener("mouseleave", () => this.describeMap(null));
      this.betamap.canvas.addEventListener("click", (ev) => this.clickMap(ev));
      this.betamap.canvas.classList.add("ae-clickable");
    }

    slider(parent, name, text, scale) {
      const row = el("div", "ae-slider", parent);
      const l = el("label", "", row);
      l.textContent = text;
      const range = el("input", "", row);
      range.type = "range";
      range.name = name;
      range.min = scale.lo;
      range.max = scale.hi;
      range.step = scale.step;
      const box = el("input", "ae-number", row);
      box.type = "text";
      box.name = `${name}-value`;
      box.setAttribute("aria-label", `${text}, exact value`);
      range.addEventListener("input", () => {
        let x = scale.from(Number(range.value));
        x = scale.integer ? Math.max(1, x) : Number(x.toPrecision(3));
        if (name !== "steps" && !inRange(name, x)) return;
        this.settings[name] = x;
        this.update(true, name);
      });
      box.addEventListener("change", () => {
        const x = toNumber(box.value);
        const ok = name === "steps" ? Number.isInteger(x) && x >= 1 && x <= MAX_STEPS : inRange(name, x);
        box.classList.toggle("ae-invalid", !ok);
        if (!ok) return;
        this.settings[name] = x;
        this.update(true);
      });
      this.inputs[name] = {range, box, scale};
    }

    vectorInput(parent, name, text, n, valid) {
      const l = el("label", "ae-vector", parent);
      l.textContent = `${text} `;
      const box = el("input", "ae-number", l);
      box.type = "text";
      box.name = name;
      box.addEventListener("change", () => {
        if (name === "view" && box.value.trim() === "") { this.settings.view = null; this.update(true); return; }
        const p = numbers(box.value, n);
        const ok = !!p && (!valid || valid(p));
        box.classList.toggle("ae-invalid", !ok);
        if (!ok) return;
        this.settings[name] = p;
        this.update(true);
      });
      this.inputs[name] = {box, label: l};
    }

    /* Show the settings in the controls, write them to the URL, and redraw (once per frame). */
    update(writeUrl, fromSlider) {
      const s = this.settings;
      this.inputs.landscape.value = s.landscape;
      for (const name of C.OPTIMIZERS) this.checks[name].checked = s.optimizers.includes(name);
      for (const name of [...Object.keys(SCALARS), "steps"]) {
        const {range, box, scale} = this.inputs[name];
        if (name !== fromSlider) range.value = Math.min(scale.hi, Math.max(scale.lo, scale.to(s[name])));
        box.value = fmt(s[name]);
        box.classList.remove("ae-invalid");
      }
      this.inputs.bias_correction.checked = s.bias_correction;
      this.inputs.eps_inside.checked = s.eps_inside;
      for (const name of ["start", "coeffs", "plateau", "view"]) {
        const v = name === "view" ? s.view || VIEWS[s.landscape] : s[name];
        this.inputs[name].box.value = v.map(fmt).join(", ");
      }
      this.inputs.coeffs.label.hidden = s.landscape !== "quadratic";
      this.inputs.plateau.label.hidden = s.landscape !== "plateau";
      if (writeUrl && this.writesUrl) {
        try {
          window.history.replaceState(null, "", `?${serialize(s)}${window.location.hash}`);
        } catch (e) {
          // some viewers forbid changing the address of a local file; the drawing still updates
        }
      }
      if (!this.pending) {
        this.pending = true;
        window.requestAnimationFrame(() => { this.pending = false; this.redraw(); });
      }
    }

    /* Recompute every run and draw everything; returns the times taken (seconds). */
    redraw() {
      const t0 = performance.now();
      const out = compute(this.settings);
      const t1 = performance.now();
      this.drawContour(out);
      this.drawW1(out);
      this.drawSteps(out);
      this.drawMap();
      const t2 = performance.now();
      this.lastDraw = {compute: (t1 - t0) / 1000, draw: (t2 - t1) / 1000, total: (t2 - t0) / 1000,
                       steps: this.settings.steps, runs: out.runs.length,
                       finals: out.runs.map((r) => ({name: r.name, x: r.result.x, diverged: r.result.diverged,
                                                     divergedStep: r.result.divergedStep,
                                                     exitStep: r.result.exitStep, hitStep: r.result.hitStep}))};
      const parts = out.runs.map((r) => {
        const f = r.result;
        let text = `${r.name}: w = (${shortText(f.x[0])}, ${shortText(f.x[1])})`;
        if (f.diverged) text += `, diverged at step ${f.divergedStep} (frozen)`;
        const radius = ESCAPE_RADIUS[this.settings.landscape], tol = ARRIVAL_TOL[this.settings.landscape];
        if (radius) text += f.exitStep >= 0 ? `, farther than ${radius} from 0 at step ${f.exitStep}` : `, within ${radius} of 0`;
        if (tol) text += f.hitStep >= 0 ? `, within ${tol} of 0 at step ${f.hitStep}` : `, never within ${tol} of 0`;
        return text;
      });
      const note = this.rejected.length ? ` Ignored invalid URL settings: ${this.rejected.join(", ")}.` : "";
      this.status.textContent = `After ${this.settings.steps} steps. ${parts.join("; ")}. `
        + `Computed in ${(this.lastDraw.compute * 1000).toFixed(0)} ms, drawn in `
        + `${(this.lastDraw.draw * 1000).toFixed(0)} ms.${note}`;
      this.root.dataset.drawn = String((Number(this.root.dataset.drawn) || 0) + 1);
      return this.lastDraw;
    }

    contourScales() {
      const {w, h} = this.contour;
      const v = this.settings.view || VIEWS[this.settings.landscape];
      const px = (x) => MARGIN.l + (x - v[0]) / (v[1] - v[0]) * (w - MARGIN.l - MARGIN.r);
      const py = (y) => h - MARGIN.b - (y - v[2]) / (v[3] - v[2]) * (h - MARGIN.t - MARGIN.b);
      const ix = (p) => v[0] + (p - MARGIN.l) / (w - MARGIN.l - MARGIN.r) * (v[1] - v[0]);
      const iy = (p) => v[2] + (h - MARGIN.b - p) / (h - MARGIN.t - MARGIN.b) * (v[3] - v[2]);
      return {v, px, py, ix, iy};
    }

    drawContour(out) {
      const {ctx, w, h} = this.contour;
      const {v, px, py} = this.contourScales();
      frame(ctx, w, h, `${out.land.name}: f(w) = ${out.land.formula}`, "w₁", "w₂");
      ctx.save();
      clip(ctx, w, h);
      const nx = 121, ny = 91;
      const F = new Float64Array(nx * ny);
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          F[j * nx + i] = out.land.value(v[0] + (v[1] - v[0]) * i / (nx - 1), v[2] + (v[3] - v[2]) * j / (ny - 1));
        }
      }
      // levels at quantiles of the values in view, so that a narrow valley shows its shape too
      const sorted = Array.from(F).sort((a, b) => a - b);
      const levels = [...new Set(Array.from({length: 19}, (_, k) => sorted[Math.floor((k + 1) / 20 * (sorted.length - 1))]))];
      ctx.strokeStyle = "#c8c8c8";
      ctx.lineWidth = 0.8;
      const gx = (i) => px(v[0] + (v[1] - v[0]) * i / (nx - 1));
      const gy = (j) => py(v[2] + (v[3] - v[2]) * j / (ny - 1));
      for (const level of levels) isolines(ctx, F, nx, ny, level, gx, gy);
      ctx.lineWidth = 1.4;
      for (const r of out.runs) {
        ctx.strokeStyle = COLORS[r.name];
        for (let k0 = 0; k0 + 2 < r.path.length; k0 += 2 * STROKE_CHUNK) {
          ctx.beginPath();
          ctx.moveTo(px(r.path[k0]), py(r.path[k0 + 1]));
          const end = Math.min(r.path.length, k0 + 2 * STROKE_CHUNK + 2);
          for (let k = k0 + 2; k < end; k += 2) ctx.lineTo(px(r.path[k]), py(r.path[k + 1]));
          ctx.stroke();
        }
        const n = r.path.length;
        ctx.fillStyle = COLORS[r.name];
        ctx.beginPath();
        ctx.arc(px(r.path[n - 2]), py(r.path[n - 1]), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
      star(ctx, px(this.settings.start[0]), py(this.settings.start[1]), 6);
      ctx.restore();
      xTicks(ctx, w, h, linearTicks(v[0], v[1], 6).map((x) => [px(x), shortText(x)]));
      yTicks(ctx, linearTicks(v[2], v[3], 5).map((y) => [py(y), shortText(y)]));
      legend(ctx, w, out.runs.map((r) => [r.name, COLORS[r.name], []]));
    }

    stepAxis(w, steps) {
      const top = Math.log10(steps + 1);
      return (t) => MARGIN.l + Math.log10(t) / top * (w - MARGIN.l - MARGIN.r);
    }

    stepTicks(ctx, w, h, steps) {
      const px = this.stepAxis(w, steps);
      const ticks = [];
      for (let k = 0; Math.pow(10, k) <= steps + 1; k++) ticks.push([px(Math.pow(10, k)), k === 0 ? "1" : `10${superscript(k)}`]);
      xTicks(ctx, w, h, ticks);
    }

    drawW1(out) {
      const {ctx, w, h} = this.w1plot;
      const steps = this.settings.steps;
      let top = 0;
      for (const r of out.runs) for (let k = 0; k < BINS; k++) {
        if (r.w1hi[k] >= r.w1lo[k]) top = Math.max(top, Math.abs(r.w1hi[k]), Math.abs(r.w1lo[k]));
      }
      // a run that leaves the view far behind (SGD off the saddle) is clipped at 100 views' width
      const view = out.view;
      top = Math.min(top, 100 * Math.max(Math.abs(view[0]), Math.abs(view[1])));
      const lin = Math.max(this.settings.lr / 100, 1e-300);
      const ymax = Math.max(symlog(top, lin), 1) * 1.05;
      const px = this.stepAxis(w, steps);
      const py = (y) => MARGIN.t + (1 - (symlog(y, lin) + ymax) / (2 * ymax)) * (h - MARGIN.t - MARGIN.b);
      frame(ctx, w, h, "w₁ (symmetric log, linear within ±η/100)", "step t", "w₁");
      ctx.save();
      clip(ctx, w, h);
      ctx.strokeStyle = "#bbb";
      ctx.beginPath();
      ctx.moveTo(MARGIN.l, py(0));
      ctx.lineTo(w - MARGIN.r, py(0));
      ctx.stroke();
      this.envelopes(ctx, out, px, py, (r) => [r.w1lo, r.w1hi]);
      ctx.restore();
      this.stepTicks(ctx, w, h, steps);
      const yt = [[py(0), "0"]];
      for (let k = Math.ceil(Math.log10(lin)); Math.pow(10, k) <= top * 1.0001 && yt.length < 12; k += Math.max(1, Math.ceil(Math.log10(top / lin) / 4))) {
        const y = Math.pow(10, k);
        yt.push([py(y), shortText(y)], [py(-y), shortText(-y)]);
      }
      yTicks(ctx, yt);
    }

    /* For each run and bin: a band from the bin's lowest to its highest value, so that an
     * oscillation faster than a pixel shows as its range. */
    envelopes(ctx, out, px, py, lohi) {
      for (const r of out.runs) {
        const [lo, hi] = lohi(r);
        const pts = [];
        for (let k = 0; k < BINS; k++) {
          if (hi[k] >= lo[k]) pts.push([px(Math.max(out.edges[k], 1)), px(Math.max(out.edges[k + 1] - 1, out.edges[k], 1)), py(lo[k]), py(hi[k])]);
        }
        if (!pts.length) continue;
        ctx.fillStyle = COLORS[r.name] + "55";
        ctx.strokeStyle = COLORS[r.name];
        ctx.lineWidth = 1.2;
        ctx.beginPath();
        pts.forEach(([xa, xb, , yh], i) => { if (i === 0) ctx.moveTo(xa, yh); else ctx.lineTo(xa, yh); ctx.lineTo(xb, yh); });
        for (let i = pts.length - 1; i >= 0; i--) { ctx.lineTo(pts[i][1], pts[i][2]); ctx.lineTo(pts[i][0], pts[i][2]); }
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      }
    }

    drawSteps(out) {
      const {ctx, w, h} = this.stepplot;
      const s = this.settings;
      const bound = C.stepBound(s.beta1, s.beta2);
      let lo = Infinity, hi = -Infinity;
      for (const r of out.runs) for (let k = 0; k < BINS; k++) {
        if (r.stepHi[k] > 0) { lo = Math.min(lo, r.stepHi[k]); hi = Math.max(hi, r.stepHi[k]); }
      }
      if (Number.isFinite(bound)) { lo = Math.min(lo, bound); hi = Math.max(hi, bound); }
      if (!(hi > 0)) { lo = 1e-3; hi = 1; }
      // twelve decades at most, up to 10^4 times the bound: a diverging run is clipped
      hi = Math.min(hi, 1e4 * Math.max(Number.isFinite(bound) ? bound : 1, 1));
      lo = Math.max(Math.min(lo, hi / 10), hi * 1e-12);
      const ylo = Math.log10(lo) - 0.2, yhi = Math.log10(hi) + 0.2;
      const px = this.stepAxis(w, s.steps);
      const py = (y) => h - MARGIN.b - (Math.log10(Math.max(y, 1e-300)) - ylo) / (yhi - ylo) * (h - MARGIN.t - MARGIN.b);
      frame(ctx, w, h, "largest |wₜ − wₜ₋₁| / η, and Proposition 1's bound", "step t", "step / η");
      ctx.save();
      clip(ctx, w, h);
      for (const r of out.runs) {
        ctx.strokeStyle = COLORS[r.name];
        ctx.lineWidth = 1.3;
        ctx.beginPath();
        let first = true;
        for (let k = 0; k < BINS; k++) {
          if (!(r.stepHi[k] > 0)) continue;
          const x = px(Math.max(out.edges[k], 1)), y = py(r.stepHi[k]);
          if (first) ctx.moveTo(x, y); else ctx.lineTo(x, y);
          first = false;
        }
        ctx.stroke();
      }
      const lines = [];
      if (Number.isFinite(bound)) {
        ctx.strokeStyle = "#000";
        ctx.setLineDash([6, 4]);
        ctx.beginPath();
        ctx.moveTo(MARGIN.l, py(bound));
        ctx.lineTo(w - MARGIN.r, py(bound));
        ctx.stroke();
        lines.push([`Prop. 1: ${bound.toFixed(3)}`, "#000", [6, 4]]);
      }
      // the supremum over histories of length t (bias-corrected if Adam is)
      ctx.strokeStyle = "#777";
      ctx.setLineDash([2, 3]);
      ctx.beginPath();
      for (let k = 0; k <= 200; k++) {
        const t = Math.pow(s.steps + 1, k / 200);
        const y = C.finiteStepSup(s.beta1, s.beta2, t, s.bias_correction);
        if (k === 0) ctx.moveTo(px(t), py(y)); else ctx.lineTo(px(t), py(y));
      }
      ctx.stroke();
      ctx.setLineDash([]);
      lines.push([s.bias_correction ? "sup over histories, bias-corrected" : "sup over histories", "#777", [2, 3]]);
      ctx.restore();
      if (!Number.isFinite(bound)) lines.push(["Prop. 1: no bound (β₁² ≥ β₂)", "#000", []]);
      this.stepTicks(ctx, w, h, s.steps);
      const yt = [];
      for (let k = Math.ceil(ylo); k <= Math.floor(yhi); k += Math.max(1, Math.ceil((yhi - ylo) / 6))) yt.push([py(Math.pow(10, k)), shortText(Math.pow(10, k))]);
      yTicks(ctx, yt);
      legend(ctx, w, lines);
    }

    mapScales() {
      const {w, h} = this.betamap;
      const top = 4;  // -log10(1 - beta) up to 4, i.e. beta up to 0.9999
      const px = (b) => MARGIN.l + Math.min(top, -Math.log10(1 - b)) / top * (w - MARGIN.l - MARGIN.r);
      const py = (b) => h - MARGIN.b - Math.min(top, -Math.log10(1 - b)) / top * (h - MARGIN.t - MARGIN.b);
      const ix = (p) => 1 - Math.pow(10, -top * (p - MARGIN.l) / (w - MARGIN.l - MARGIN.r));
      const iy = (p) => 1 - Math.pow(10, -top * (h - MARGIN.b - p) / (h - MARGIN.t - MARGIN.b));
      return {px, py, ix, iy, top};
    }

    drawMap() {
      const {ctx, w, h} = this.betamap;
      const {px, py, ix, iy} = this.mapScales();
      const s = this.settings;
      frame(ctx, w, h, "(β₁, β₂): the book's conditions", "β₁ (scale −log₁₀(1 − β₁))", "β₂");
      ctx.save();
      clip(ctx, w, h);
      // shade where all four hold
      ctx.fillStyle = "#cfe5cf";
      for (let i = MARGIN.l; i < w - MARGIN.r; i += 3) {
        for (let j = MARGIN.t; j < h - MARGIN.b; j += 3) {
          const b1 = ix(i + 1.5), b2 = iy(j + 1.5);
          if (C.CONDITIONS.every((c) => c.holds(b1, b2))) ctx.fillRect(i, j, 3, 3);
        }
      }
      ctx.lineWidth = 1.5;
      for (const c of C.CONDITIONS) {
        const [color, dash] = CONDITION_STYLE[c.key];
        ctx.strokeStyle = color;
        ctx.setLineDash(dash);
        ctx.beginPath();
        let on = false;
        for (let i = MARGIN.l; i <= w - MARGIN.r; i += 1) {
          const b1 = ix(i), b2 = c.boundary(b1);
          if (!(b2 > 0 && b2 < 1)) { on = false; continue; }
          if (!on) ctx.moveTo(i, py(b2)); else ctx.lineTo(i, py(b2));
          on = true;
        }
        ctx.stroke();
      }
      ctx.setLineDash([]);
      star(ctx, px(s.beta1), py(s.beta2), 7);
      ctx.restore();
      const ticks = [0, 0.9, 0.99, 0.999, 0.9999];
      xTicks(ctx, w, h, ticks.map((b) => [px(b), String(b)]));
      yTicks(ctx, ticks.map((b) => [py(b), String(b)]));
      const names = {prop1: "β₂ = β₁² (Prop. 1, stable region)", linear: "β₂ = 2β₁ − 1 (linear rates)",
                     lemma: "1 − β₂ = (1 − β₁)² (bias lemma)", poster: "β₂ = 4β₁ − 3 (poster)"};
      const entries = C.CONDITIONS.map((c) => [names[c.key], ...CONDITION_STYLE[c.key]])
        .concat([["all four hold", "#cfe5cf", [], true]]);
      ctx.font = "10px sans-serif";
      const width = Math.max(...entries.map(([t]) => ctx.measureText(t).width)) + 30;
      legendAt(ctx, w - MARGIN.r - width - 2, h - MARGIN.b - 14 * entries.length - 6, entries);
      if (!this.hovering) this.describeMap(null);
    }

    describeMap(point) {
      const s = this.settings;
      const [b1, b2] = point || [s.beta1, s.beta2];
      const which = C.CONDITIONS.map((c) => `${c.holds(b1, b2) ? "✓" : "✗"} ${c.label}`);
      this.mapInfo.textContent = `${point ? "At" : "Current"} β₁ = ${shortText(b1)}, β₂ = ${shortText(b2)}: `
        + which.join("; ") + (point ? " (click to use)" : "");
      this.mapInfo.dataset.point = JSON.stringify([b1, b2]);
      this.hovering = !!point;
    }

    eventPoint(canvas, ev) {
      const rect = canvas.getBoundingClientRect();
      return [(ev.clientX - rect.left) * (canvas.clientWidth / rect.width || 1),
              (ev.clientY - rect.top) * (canvas.clientHeight / rect.height || 1)];
    }

    hoverMap(ev) {
      const [x, y] = this.eventPoint(this.betamap.canvas, ev);
      const {ix, iy} = this.mapScales();
      const b1 = Number(Math.max(0, ix(x)).toPrecision(4)), b2 = Number(Math.max(0, iy(y)).toPrecision(4));
      if (b1 < 0 || b1 >= 1 || b2 < 0 || b2 >= 1) return;
      this.describeMap([b1, b2]);
    }

    clickMap(ev) {
      const [x, y] = this.eventPoint(this.betamap.canvas, ev);
      const {ix, iy} = this.mapScales();
      const b1 = Number(Math.max(0, ix(x)).toPrecision(4)), b2 = Number(Math.max(0, iy(y)).toPrecision(4));
      if (!(inRange("beta1", b1) && inRange("beta2", b2))) return;
      this.settings.beta1 = b1;
      this.settings.beta2 = b2;
      this.hovering = false;
      this.update(true);
    }

    clickStart(ev) {
      const [x, y] = this.eventPoint(this.contour.canvas, ev);
      const {ix, iy} = this.contourScales();
      const {w, h} = this.contour;
      if (x < MARGIN.l || x > w - MARGIN.r || y < MARGIN.t || y > h - MARGIN.b) return;
      this.settings.start = [Number(ix(x).toPrecision(4)), Number(iy(y).toPrecision(4))];
      this.update(true);
    }
  }

  function superscript(k) {
    return String(k).split("").map((c) => "⁰¹²³⁴⁵⁶⁷⁸⁹"[Number(c)]).join("");
  }

  function star(ctx, x, y, r) {
    ctx.fillStyle = "#000";
    ctx.beginPath();
    for (let k = 0; k < 10; k++) {
      const a = -Math.PI / 2 + k * Math.PI / 5, rr = k % 2 ? r * 0.45 : r;
      if (k === 0) ctx.moveTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
      else ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
    }
    ctx.closePath();
    ctx.fill();
  }

  function legend(ctx, w, entries) {
    ctx.save();
    ctx.font = "10px sans-serif";
    const width = Math.max(...entries.map(([t]) => ctx.measureText(t).width)) + 30;
    ctx.restore();
    legendAt(ctx, w - MARGIN.r - width - 4, MARGIN.t + 4, entries);
  }

  function legendAt(ctx, x, y, entries) {
    ctx.save();
    ctx.font = "10px sans-serif";
    ctx.textAlign = "left";
    const width = Math.max(...entries.map(([t]) => ctx.measureText(t).width)) + 30;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(x, y, width, 14 * entries.length + 4);
    entries.forEach(([text, color, dash, filled], i) => {
      if (filled) {
        ctx.fillStyle = color;
        ctx.fillRect(x + 4, y + 5 + 14 * i, 18, 9);
      }
      ctx.strokeStyle = filled ? "transparent" : color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(dash);
      ctx.beginPath();
      ctx.moveTo(x + 4, y + 10 + 14 * i);
      ctx.lineTo(x + 22, y + 10 + 14 * i);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = "#222";
      ctx.fillText(text, x + 26, y + 13 + 14 * i);
    });
    ctx.restore();
  }

  function el(tag, cls, parent) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (parent) parent.appendChild(e);
    return e;
  }

  const instances = [];
  function start() {
    document.querySelectorAll("[data-adam-explorer]").forEach((node) => instances.push(new Explorer(node)));
  }
  window.AdamExplorer = {DEFAULTS, VIEWS, parse, serialize, compute, instances};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

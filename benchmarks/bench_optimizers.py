"""Throughput and memory of adamdyn's optimizers beside torch.optim.Adam, measured in one run.

Run:  python benchmarks/bench_optimizers.py [--quick] [--threads N]

Everything runs Adam's defaults in float64 on the smooth valley x^2 + 1e-3 y^2:

1. a batched sweep of 10^4 runs x 2 dims x 10^3 steps through the public API
   (``adamdyn.run`` with per-run learning rates, divergence checks, final state
   recorded), in element-steps per second (runs x dims x steps / s);
2. the bare kernel (``adamdyn._kernels.bare_adam_sweep``: the same arithmetic,
   bit for bit, without diagnostics or per-run hyperparameters) on the same
   sweep, to show how close the real kernel runs to the arithmetic's limit;
3. one 2-D trajectory of 10^6 steps with the full path recorded, in steps/s,
   and the peak memory (tracemalloc) of that run;
4. where torch is importable: ``torch.optim.Adam`` on a (10^4, 2) tensor, both
   its multi-tensor (``foreach=True``) and its per-tensor update, the better of
   the two being the comparison, and on a single 2-D tensor (fewer steps
   timed, reported per step).  The gradient is computed by hand in torch
   (``p.grad = 2 * coeffs * p``; no autograd).

torch gets as many threads as numba's kernel uses (``--threads``, by default
numba's thread count); both counts are printed.  Because a shared machine's
load changes from one second to the next, every ratio comes from measurements
taken in the same run, alternating the two sides; the 1-minute load average is
printed.  Compile time is excluded (a warm-up call precedes every timing);
each figure is the best of several repeats.  Targets (the book's issue):
batched >= 5x torch, single >= 500x torch, a 10^6-step path <= 100 MB.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numba
import numpy as np

import adamdyn as ad
from adamdyn import _kernels
from adamdyn import landscapes as L

COEFFS = np.array([1.0, 1e-3])  # the smooth valley
LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


def seconds(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def best_of(fns, repeats):
    """Best time of each function, the functions taking turns so that they share the machine's load."""
    best = [np.inf] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], seconds(fn))
    return best


def adamdyn_cases(single_steps, runs, batch_steps):
    """The three adamdyn measurements as zero-argument functions, warmed up (compiled)."""
    land = L.smooth_valley()
    opt = ad.adam(lr=LR, beta1=B1, beta2=B2, eps=EPS)
    x0 = np.random.default_rng(0).uniform(-1, 1, size=(runs, 2))
    batch_opt = ad.adam(lr=np.full(runs, LR), beta1=B1, beta2=B2, eps=EPS)

    def single():
        return ad.run(opt, land, x0=[1.0, 1.0], steps=single_steps)

    def batched():
        return ad.run(batch_opt, land, x0=x0, steps=batch_steps, record_every=batch_steps)

    def bare():
        x, m, v = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
        _kernels.bare_adam_sweep(x, m, v, COEFFS, LR, B1, B2, EPS, batch_steps)
        return x

    ad.run(opt, land, x0=[1.0, 1.0], steps=10)
    ad.run(batch_opt, land, x0=x0, steps=2, record_every=2)
    x, m, v = x0.copy(), np.zeros_like(x0), np.zeros_like(x0)
    _kernels.bare_adam_sweep(x, m, v, COEFFS, LR, B1, B2, EPS, 2)
    return single, batched, bare


def torch_cases(torch, single_steps, runs, batch_steps):
    """torch.optim.Adam on one (runs, 2) tensor (multi-tensor and per-tensor update) and on one 2-vector."""
    coeffs2 = torch.tensor(2 * COEFFS, dtype=torch.float64)

    def make(x0, steps, foreach):
        def go(n=steps):
            p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            opt = torch.optim.Adam([p], lr=LR, betas=(B1, B2), eps=EPS, foreach=foreach)
            with torch.no_grad():
                for _ in range(n):
                    p.grad = coeffs2 * p
                    opt.step()
            return p
        go(20)  # warm-up
        return go

    x0 = np.random.default_rng(0).uniform(-1, 1, size=(runs, 2))
    return (make(np.array([1.0, 1.0]), single_steps, False), make(x0, batch_steps, True),
            make(x0, batch_steps, False))


def bench_adamdyn(single_steps, runs, batch_steps, repeats):
    """adamdyn alone (no torch): rates and the memory of the single trajectory."""
    single, batched, bare = adamdyn_cases(single_steps, runs, batch_steps)
    t_single, t_batched, t_bare = best_of([single, batched, bare], repeats)
    tracemalloc.start()
    tr = single()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    elems = runs * 2 * batch_steps
    return {"single_steps_per_s": single_steps / t_single, "batched_elem_steps_per_s": elems / t_batched,
            "bare_elem_steps_per_s": elems / t_bare, "peak_bytes": peak,
            "path_bytes": tr.path.nbytes, "times_bytes": tr.times.nbytes}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test, not the targets)")
    p.add_argument("--threads", type=int, default=numba.get_num_threads(),
                   help="threads for numba's kernel and for torch (default: numba's thread count)")
    args = p.parse_args(argv)
    if args.quick:
        single_steps, runs, batch_steps, torch_single, repeats = 10**5, 10**3, 10**2, 2000, 1
    else:
        single_steps, runs, batch_steps, torch_single, repeats = 10**6, 10**4, 10**3, 20_000, 3
    numba.set_num_threads(args.threads)
    try:
        import torch
    except ImportError:
        torch = None
    elems = runs * 2 * batch_steps

    cases = list(adamdyn_cases(single_steps, runs, batch_steps))
    if torch is not None:
        torch.set_num_threads(args.threads)
        cases += list(torch_cases(torch, torch_single, runs, batch_steps))
    times = best_of(cases, repeats)
    tracemalloc.start()
    tr = cases[0]()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    single, batched, bare = single_steps / times[0], elems / times[1], elems / times[2]
    print(f"adamdyn {ad.__version__}: numba {numba.__version__}, {numba.get_num_threads()} thread(s) "
          f"(blocks shared by Python threads over nogil kernels); machine: {os.cpu_count()} cores, "
          f"1-min load average {os.getloadavg()[0]:.1f}; best of {repeats}, sides alternating")
    print(f"  batched sweep {runs:.0e} runs x 2 dims x {batch_steps:.0e} steps (adamdyn.run): "
          f"{batched:.3g} element-steps/s")
    print(f"  bare kernel, same sweep, no diagnostics: {bare:.3g} element-steps/s "
          f"-> the real kernel runs at {batched / bare:.2f} of it")
    print(f"  single 2-D trajectory, {single_steps:.0e} steps, full path: {single:.3g} steps/s")
    print(f"  memory of the {single_steps:.0e}-step trajectory: path {tr.path.nbytes / 1e6:.1f} MB, "
          f"step numbers {tr.times.nbytes / 1e6:.1f} MB, tracemalloc peak {peak / 1e6:.1f} MB")
    checks = [("1e6-step trajectory <= 100 MB", peak <= 100e6)]
    if torch is not None:
        t_single = torch_single / times[3]
        t_foreach, t_loop = elems / times[4], elems / times[5]
        t_batched = max(t_foreach, t_loop)
        r_batched, r_single = batched / t_batched, single / t_single
        print(f"torch {torch.__version__}, torch.optim.Adam, float64, gradient by hand (no autograd), "
              f"{torch.get_num_threads()} thread(s)")
        print(f"  batched ({runs:.0e} x 2 tensor, {batch_steps:.0e} steps): foreach=True {t_foreach:.3g}, "
              f"foreach=False {t_loop:.3g} element-steps/s  -> adamdyn/torch = {r_batched:.1f}x (vs the better)")
        print(f"  single 2-D tensor ({torch_single:.0e} steps timed): {t_single:.3g} steps/s"
              f"  -> adamdyn/torch = {r_single:.0f}x")
        checks += [("batched >= 5x torch", r_batched >= 5), ("single >= 500x torch", r_single >= 500)]
    else:
        print("torch is not importable here: no torch comparison")
    if not args.quick:
        print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))


if __name__ == "__main__":
    main()

"""Throughput and memory of adamdyn's optimizers, and of torch.optim.Adam where torch is installed.

Run:  python benchmarks/bench_optimizers.py [--quick]

Measures, on the smooth valley x^2 + 1e-3 y^2 with Adam's defaults, in float64:

1. steps/s of one 2-D trajectory of 10^6 steps with the full path recorded;
2. element-steps/s (runs x dims x steps per second) of a batched sweep of
   10^4 runs x 2 dims x 10^3 steps;
3. the peak memory (tracemalloc) of the 10^6-step full trajectory.

Numba compile time is excluded: every measurement is preceded by a warm-up
call, and the best of several repeats is reported.  torch (if importable) runs
torch.optim.Adam on a float64 tensor with the gradient computed by hand in
torch (``p.grad = 2 * coeffs * p``; no autograd), one thread
(``torch.set_num_threads(1)``, as numba's kernel uses one core); the single
trajectory is timed over fewer steps and reported per step.  Targets (from
the book's issue): single >= 2e5 steps/s and >= 20x torch; batched >= 2e7
element-steps/s; 10^6 steps <= 100 MB.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import adamdyn as ad
from adamdyn import landscapes as L

COEFFS = np.array([1.0, 1e-3])  # the smooth valley
LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_adamdyn(single_steps, runs, batch_steps, repeats):
    land = L.smooth_valley()
    opt = ad.adam(lr=LR, beta1=B1, beta2=B2, eps=EPS)
    # warm-up: load or compile the numba kernel before any timing
    ad.run(opt, land, x0=[1.0, 1.0], steps=10)
    single = best_of(lambda: ad.run(opt, land, x0=[1.0, 1.0], steps=single_steps), repeats)

    x0 = np.random.default_rng(0).uniform(-1, 1, size=(runs, 2))
    batch_opt = ad.adam(lr=np.full(runs, LR), beta1=B1, beta2=B2, eps=EPS)
    ad.run(batch_opt, land, x0=x0, steps=2, record_every=batch_steps)
    batched = best_of(lambda: ad.run(batch_opt, land, x0=x0, steps=batch_steps, record_every=batch_steps), repeats)

    tracemalloc.start()
    tr = ad.run(opt, land, x0=[1.0, 1.0], steps=single_steps)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"single_steps_per_s": single_steps / single,
            "batched_elem_steps_per_s": runs * 2 * batch_steps / batched,
            "peak_bytes": peak, "path_bytes": tr.path.nbytes, "times_bytes": tr.times.nbytes}


def bench_torch(single_steps, runs, batch_steps, repeats):
    import torch

    torch.set_num_threads(1)
    coeffs2 = torch.tensor(2 * COEFFS, dtype=torch.float64)

    def run(x0, steps):
        p = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=LR, betas=(B1, B2), eps=EPS)
        with torch.no_grad():
            for _ in range(steps):
                p.grad = coeffs2 * p
                opt.step()
        return p

    run(np.array([1.0, 1.0]), 50)  # warm-up
    single = best_of(lambda: run(np.array([1.0, 1.0]), single_steps), repeats)
    x0 = np.random.default_rng(0).uniform(-1, 1, size=(runs, 2))
    batched = best_of(lambda: run(x0, batch_steps), repeats)
    return {"single_steps_per_s": single_steps / single,
            "batched_elem_steps_per_s": runs * 2 * batch_steps / batched,
            "version": torch.__version__}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes (a smoke test, not the targets)")
    args = p.parse_args(argv)
    if args.quick:
        single_steps, runs, batch_steps, torch_steps, repeats = 10**5, 10**3, 10**2, 2000, 1
    else:
        single_steps, runs, batch_steps, torch_steps, repeats = 10**6, 10**4, 10**3, 20_000, 3

    ours = bench_adamdyn(single_steps, runs, batch_steps, repeats)
    print(f"adamdyn {ad.__version__} (numba kernel, compile time excluded by a warm-up call; best of {repeats})")
    print(f"  single 2-D Adam trajectory, {single_steps:.0e} steps, full path: "
          f"{ours['single_steps_per_s']:.3g} steps/s")
    print(f"  batched sweep {runs:.0e} runs x 2 dims x {batch_steps:.0e} steps: "
          f"{ours['batched_elem_steps_per_s']:.3g} element-steps/s")
    print(f"  memory of the {single_steps:.0e}-step full trajectory: path {ours['path_bytes'] / 1e6:.1f} MB, "
          f"step numbers {ours['times_bytes'] / 1e6:.1f} MB, tracemalloc peak {ours['peak_bytes'] / 1e6:.1f} MB")

    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    if have_torch:
        theirs = bench_torch(torch_steps, runs, batch_steps, repeats)
        r1 = ours["single_steps_per_s"] / theirs["single_steps_per_s"]
        r2 = ours["batched_elem_steps_per_s"] / theirs["batched_elem_steps_per_s"]
        print(f"torch {theirs['version']} torch.optim.Adam, float64, gradient by hand in torch (no autograd), "
              f"1 thread; best of {repeats}")
        print(f"  single 2-D trajectory ({torch_steps:.0e} steps timed): {theirs['single_steps_per_s']:.3g} steps/s"
              f"  -> adamdyn/torch = {r1:.1f}x")
        print(f"  batched ({runs:.0e} x 2 tensor, {batch_steps:.0e} steps): "
              f"{theirs['batched_elem_steps_per_s']:.3g} element-steps/s  -> adamdyn/torch = {r2:.1f}x")
    else:
        r1 = None
        print("torch is not importable here: no torch comparison")

    if not args.quick:
        checks = [("single >= 2e5 steps/s", ours["single_steps_per_s"] >= 2e5),
                  ("batched >= 2e7 element-steps/s", ours["batched_elem_steps_per_s"] >= 2e7),
                  ("1e6-step trajectory <= 100 MB", ours["peak_bytes"] <= 100e6)]
        if r1 is not None:
            checks.append(("single >= 20x torch.optim.Adam", r1 >= 20))
        print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks))


if __name__ == "__main__":
    main()

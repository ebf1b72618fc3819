"""The cost of subnormal arithmetic: gradient descent on the smooth valley, with and without underflow.

Run:  python benchmarks/bench_subnormals.py [--steps N] [--repeats R]

The valleys chapter (section "Underflow: subnormal numbers") shows that gradient descent's x
underflows into the subnormal range on the smooth valley x^2 + 1e-3 y^2 and stalls there.  This
script measures what that costs in time: 10^6 steps of SGD (lr = 1e-3) from (1, 1), where x
becomes subnormal, against the same steps from (0, 1), where x stays exactly zero and y does the
same work.  It prints both times (best of ``--repeats``, numba compile time excluded by a warm-up
call) and their ratio.  Timings are of this machine under its present load; they are kept out of
the book so that two builds of one commit give identical pages.
"""

from __future__ import annotations

import argparse
import time

import adamdyn as ad
from adamdyn import landscapes as L


def best_seconds(fn, repeats: int) -> float:
    """The shortest of ``repeats`` wall-clock times of ``fn()``."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10**6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args(argv)
    land, opt = L.smooth_valley(), ad.sgd(lr=args.lr)
    ad.run(opt, land, x0=[1.0, 1.0], steps=10)  # compile outside the timing
    seconds = {start: best_seconds(lambda: ad.run(opt, land, x0=list(start), steps=args.steps,
                                                  record_every=args.steps), args.repeats)
               for start in [(1.0, 1.0), (0.0, 1.0)]}
    t_sub, t_zero = seconds[(1.0, 1.0)], seconds[(0.0, 1.0)]
    print(f"SGD, {args.steps} steps on the smooth valley (best of {args.repeats}):")
    print(f"  from (1, 1), x underflows to subnormal: {t_sub:.3f} s")
    print(f"  from (0, 1), x stays exactly zero:      {t_zero:.3f} s")
    print(f"  ratio: {t_sub / t_zero:.2f} ({100 * (t_sub / t_zero - 1):+.0f} %)")


if __name__ == "__main__":
    main()

"""Agreement speed: :func:`attnprobe.analyses.agreement.agreement` against scipy row by row.

On ``--sentences`` (1,000) random attention/attribution pairs of 5-60 source and
target tokens (ties included), reports the time of the vectorised agreement
(every row of a sentence at once with numpy) and of the former way, scipy's
``spearmanr`` and ``kendalltau`` called once per row, with their ratio (the
median over ``--reps`` interleaved repetitions, CPU time of this thread) and
the largest difference between the two.

Run it by hand::

    .venv/bin/python -m benchmarks.bench_agreement [--sentences 1000] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from attnprobe.analyses.agreement import agreement


def scipy_rows(attentions, attributions) -> tuple[np.ndarray, np.ndarray]:
    """rho and tau per step, scipy once per row (the former implementation's cost)."""
    from scipy.stats import kendalltau, spearmanr

    rho, tau = [], []
    for att, attr in zip(attentions, attributions, strict=True):
        for a, b in zip(np.abs(att), np.abs(attr), strict=True):
            ok = a.size > 1 and np.ptp(a) > 0 and np.ptp(b) > 0
            rho.append(float(spearmanr(a, b).statistic) if ok else np.nan)
            tau.append(float(kendalltau(a, b).statistic) if ok else np.nan)
    return np.array(rho), np.array(tau)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    shapes = rng.integers(5, 61, (args.sentences, 2))
    att = [rng.dirichlet(np.ones(s), t) for t, s in shapes]
    attr = [np.round(rng.normal(size=(t, s)), 1) for t, s in shapes]  # rounding: ties
    times, ratios = {"numpy": [], "scipy": []}, []
    for rep in range(args.reps):
        order = ("numpy", "scipy") if rep % 2 == 0 else ("scipy", "numpy")
        for name in order:
            start = time.thread_time()
            out = agreement(att, attr) if name == "numpy" else scipy_rows(att, attr)
            times[name].append(time.thread_time() - start)
            if name == "numpy":
                fast = out
            else:
                slow = out
        ratios.append(times["scipy"][-1] / times["numpy"][-1])
    diff = max(
        float(np.nanmax(np.abs(fast.rho - slow[0]))), float(np.nanmax(np.abs(fast.tau - slow[1])))
    )
    steps = int(shapes[:, 0].sum())
    fast_s, slow_s = statistics.median(times["numpy"]), statistics.median(times["scipy"])
    print(
        f"{args.sentences} sentences, {steps} steps: agreement {fast_s:.2f} s (all metrics), "
        f"scipy rho+tau row by row {slow_s:.2f} s; "
        f"scipy / agreement {statistics.median(ratios):.1f}x; max |difference| {diff:.1e}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

"""Scoring speed: attnprobe's vectorised scorer against per-sentence Python sets.

Scores 1,000,000 sentence alignments, synthesised by repeating the En-Fr
Hansards gold (447 sentences, 1-based, sure and possible links) and
awesome-align's predictions for it, and reports sentences per second for

* ``python sets``: the straightforward scorer, one loop over sentences with
  set intersections on prebuilt ``Alignment`` frozensets (corpus counts only);
* ``attnprobe``: :func:`attnprobe.alignment.score_alignments` on prebuilt
  :class:`~attnprobe.alignment.LinkTable` objects (tables pack their links when
  they are made, as sets hash theirs), corpus scores only, and with the
  per-sentence counts and per-sentence AER as well.

Both must give the same counts, per sentence too (checked once, untimed). The
scorers run interleaved repetition by repetition (the order alternates); each
speed-up is the ratio to the Python sets of the same repetition, reported as
min / median / max over the repetitions. Times are the CPU time of this thread
by default (``--clock cpu``: everything runs on one thread, and time spent
waiting for a busy shared machine does not count); ``--clock wall`` measures
wall-clock time. Run it by hand (it needs ``../shared/data``)::

    .venv/bin/python -m benchmarks.bench_alignment [--sentences N] [--reps 5] [--clock cpu]

Measured 2026-12-07 on the shared 2-core machine (load average 5.4-6.7), 7
repetitions, cpu clock, min / median / max speed-up (Python sets 3.1-3.5 s):

=============================  ======================  ======================
scorer                         before (main 36a07ce)   after
=============================  ======================  ======================
corpus scores                  12.9x / 14.0x / 16.5x   12.5x / 15.7x / 25.8x
+ per-sentence counts and AER   4.5x /  6.6x /  9.6x   11.5x / 19.4x / 21.4x
=============================  ======================  ======================

With ``--clock wall --reps 5`` (load average 5.5-6.3; Python sets 4.3 s
before, 7.2 s after): corpus scores 7.7x / 11.7x / 15.5x before, 12.2x / 17.3x
/ 23.8x after; with per-sentence AER 5.0x / 6.1x / 8.0x before, 14.2x / 18.1x
/ 22.5x after.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from attnprobe.alignment import LinkTable, read_alignments, read_link_table, score_alignments

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gold" / "awesome-align"

CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}


def python_sets(gold, hyp):
    """The straightforward per-sentence scorer (corpus counts only)."""
    links = sure = hits_sure = hits_possible = 0
    for g, h in zip(gold, hyp, strict=True):
        links += len(h.possible)
        sure += len(g.sure)
        hits_sure += len(h.possible & g.sure)
        hits_possible += len(h.possible & g.possible)
    return links, sure, hits_sure, hits_possible


def python_per_sentence(gold, hyp):
    """``(|A∩S|, |A∩P|)`` of every sentence, by sets (for the check, untimed)."""
    pairs = zip(gold, hyp, strict=True)
    both = [(len(h.possible & g.sure), len(h.possible & g.possible)) for g, h in pairs]
    return np.array(both, dtype=np.int64).reshape(-1, 2).T


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args(argv)
    n, clock = args.sentences, CLOCKS[args.clock]
    gold_file, hyp_file = DATA / "enfr.gold", DATA / "enfr.awesome-align.out"
    if not gold_file.exists():
        raise SystemExit(f"needs the En-Fr gold at {gold_file}")

    def timed(fn):
        start = clock()
        out = fn()
        return out, clock() - start

    repeats = -(-n // 447)
    gold_list = (read_alignments(gold_file, one_based=True) * repeats)[:n]
    hyp_list = (read_alignments(hyp_file) * repeats)[:n]
    base_gold = read_link_table(gold_file, one_based=True)
    base_hyp = read_link_table(hyp_file)

    def build(t):  # the corpus repeated, cut to n sentences
        return LinkTable.concatenate([t] * repeats)[:n]

    (gold, hyp), t_build = timed(lambda: (build(base_gold), build(base_hyp)))
    print(f"{n:,} sentences; {gold.n_links:,} gold links, {hyp.n_links:,} hypothesis links")
    print(f"(building both tables, packing included: {t_build:.2f} s; the Python sets are")
    print(" prebuilt too: each scorer is timed on its own ready data structures)")

    first, t_first = timed(lambda: score_alignments(gold, hyp))
    counts = python_sets(gold_list, hyp_list)
    ours = (first.links, first.sure, first.hits_sure, first.hits_possible)
    per = first.per_sentence()
    expected = python_per_sentence(gold_list, hyp_list)
    same = np.array_equal(per.hits_sure, expected[0]) and np.array_equal(
        per.hits_possible, expected[1]
    )
    if ours != counts or not same:
        raise SystemExit(f"MISMATCH: attnprobe {ours}, python sets {counts}")
    print(f"AER {100 * first.aer:.2f}% (both scorers agree on every count, per sentence too)")

    def with_per_sentence():
        scores = score_alignments(gold, hyp).per_sentence()
        return scores.aer

    runs = {
        "python sets": lambda: python_sets(gold_list, hyp_list),
        "attnprobe": lambda: score_alignments(gold, hyp),
        "attnprobe + per-sentence": with_per_sentence,
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for r in range(args.reps):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))
        for name in order:
            times[name].append(timed(runs[name])[1])

    py = times["python sets"]
    print(
        f"{args.reps} interleaved repetitions, {args.clock} time; speed-up = python sets / "
        "scorer, per repetition (min / median / max)"
    )
    print(f"{'python sets (per sentence)':34s} {statistics.median(py):7.3f} s  (median)")
    print(f"{'attnprobe, first call':34s} {t_first:7.3f} s  {py[0] / t_first:6.1f}x (one run)")
    rows = [
        ("attnprobe, corpus scores", "attnprobe"),
        ("attnprobe + per-sentence AER", "attnprobe + per-sentence"),
    ]
    for label, name in rows:
        ratios = sorted(p / t for p, t in zip(py, times[name], strict=True))
        seconds = statistics.median(times[name])
        print(
            f"{label:34s} {seconds:7.3f} s  {n / seconds:>14,.0f} sentences/s  "
            f"{ratios[0]:5.1f}x / {statistics.median(ratios):5.1f}x / {ratios[-1]:5.1f}x"
        )


if __name__ == "__main__":
    main()

"""Scoring speed: attnprobe's vectorised scorer against per-sentence Python sets.

Scores 1,000,000 sentence alignments, synthesised by repeating the En-Fr
Hansards gold (447 sentences, 1-based, sure and possible links) and
awesome-align's predictions for it, and reports sentences per second for

* ``python sets``: the straightforward scorer, one loop over sentences with
  set intersections on prebuilt ``Alignment`` frozensets;
* ``attnprobe``: :func:`attnprobe.alignment.score_alignments` on prebuilt
  :class:`~attnprobe.alignment.LinkTable` objects (tables pack their links when
  they are made, as sets hash theirs), and with per-sentence scores as well.

Both must give the same counts. Run it by hand (it needs ``../shared/data``)::

    .venv/bin/python -m benchmarks.bench_alignment [--sentences N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from attnprobe.alignment import LinkTable, read_alignments, read_link_table, score_alignments

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "gold" / "awesome-align"


def python_sets(gold, hyp):
    """The straightforward per-sentence scorer (counts only)."""
    links = sure = hits_sure = hits_possible = 0
    for g, h in zip(gold, hyp, strict=True):
        links += len(h.possible)
        sure += len(g.sure)
        hits_sure += len(h.possible & g.sure)
        hits_possible += len(h.possible & g.possible)
    return links, sure, hits_sure, hits_possible


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1_000_000)
    n = parser.parse_args(argv).sentences
    gold_file, hyp_file = DATA / "enfr.gold", DATA / "enfr.awesome-align.out"
    if not gold_file.exists():
        raise SystemExit(f"needs the En-Fr gold at {gold_file}")

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

    counts, t_py = timed(lambda: python_sets(gold_list, hyp_list))
    first, t_first = timed(lambda: score_alignments(gold, hyp))
    again, t_again = timed(lambda: score_alignments(gold, hyp))
    per, t_per = timed(lambda: score_alignments(gold, hyp).per_sentence())
    ours = (first.links, first.sure, first.hits_sure, first.hits_possible)
    if ours != counts or per.hits_sure.sum() != counts[2]:
        raise SystemExit(f"MISMATCH: attnprobe {ours}, python sets {counts}")
    print(f"AER {100 * first.aer:.2f}% (both scorers agree on every count)")

    rows = [
        ("python sets (per sentence)", t_py),
        ("attnprobe, first call", t_first),
        ("attnprobe, repeated call", t_again),
        ("attnprobe + per-sentence scores", t_per),
    ]
    for name, seconds in rows:
        print(
            f"{name:34s} {seconds:7.3f} s  {n / seconds:>14,.0f} sentences/s  "
            f"{t_py / seconds:6.1f}x"
        )


if __name__ == "__main__":
    main()

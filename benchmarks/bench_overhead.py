"""Benchmark the attention-only ``analyze`` against a bare batched forward, in CPU time.

Target (issue 15): the attention-only analysis (capture, extraction with the
default methods, scoring, per-sentence records) costs at most 2x the bare
batched teacher-forced forward pass over the same sentences. Same measurement
as ``benchmarks.bench_analyze``, but in CPU seconds of this process (one torch
thread) as well as wall seconds: on a shared machine the wall clock moves
with the other processes, the CPU time much less. Each side runs ``--repeat``
times and keeps its fastest.

    python -m benchmarks.bench_overhead                    # 1,000 toy test pairs
    python -m benchmarks.bench_overhead --sentences 300 --profile 25
"""

from __future__ import annotations

import argparse
import os
import time


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv=None) -> None:
    import torch

    from attnprobe.data import ParallelCorpus
    from attnprobe.pipeline.driver import analyze, default_corpus
    from benchmarks.bench_analyze import _model, bare_forward

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?")
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side (the fastest kept)")
    ap.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    model = _model(args.model)
    corpus, gold = default_corpus(model)
    n = min(args.sentences, len(corpus))
    corpus = ParallelCorpus(corpus.src[:n], corpus.tgt[:n], corpus.name)
    gold = gold[:n]

    def run():
        analyze(model, corpus, gold, analyses=["alignment"], batch_size=args.batch_size,
                progress=False)  # fmt: skip

    print(f"load average before: {os.getloadavg()}")
    run()  # warm-up: imports, caches
    forward = min((_timed(lambda: bare_forward(model, corpus, args.batch_size))
                   for _ in range(args.repeat)), key=lambda t: t[1])  # fmt: skip
    analysis = min((_timed(run) for _ in range(args.repeat)), key=lambda t: t[1])
    print(f"model: {model.cfg.name}; {n} sentences, batch size {args.batch_size}, 1 thread")
    for name, (wall, cpu) in (("bare forward", forward), ("attention-only analyze", analysis)):
        print(f"{name:24} {wall:7.2f} s wall  {cpu:7.2f} s CPU  ({n / cpu:6.0f} sentences/CPU s)")
    print(
        f"ratio analyze / forward: {analysis[1] / forward[1]:.2f} in CPU time, "
        f"{analysis[0] / forward[0]:.2f} in wall time (target <= 2)"
    )
    print(f"load average after: {os.getloadavg()}")
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(run)
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()

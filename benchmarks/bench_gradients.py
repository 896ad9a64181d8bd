"""Gradient flow: the sweep engine against the old per-step replication, time and peak memory.

:func:`attnprobe.runs.gradients.gradient_matrices` with ``method="sweep"`` (one
forward per batch, all target steps by the decoder sweep) against
``method="replicate"`` (each sentence copied once per target step, one forward
and backward over the enlarged batch), on the first ``--sentences`` (64) test
sentences of a fixture (``fixtures/models/enfr-bahdanau.pt`` by default; an
untrained model of the default size on the toy En-Fr test set when no fixture
is there), batches of ``--batch-size`` (8, the default of the analysis). It
reports

* ``time``: replicate / sweep, the median of the per-repetition ratios (the two
  run interleaved, the order alternating, CPU time of this thread with one
  torch thread), so that drifting load on a shared machine cancels out;
* ``peak memory``: the growth of the peak resident set (``ru_maxrss``) of a
  fresh child process per method, from after loading the model (and one
  warm-up sentence) to after the run, and the whole child's peak (torch's
  allocator is invisible to ``tracemalloc``); 0 means the run stayed below
  the setup's own peak;
* the largest relative difference between the two methods' matrices;
* ``saliency``: the per-step gradients of one padded batch of the first
  ``--saliency-batch`` (64) sentences by the engine (decoder sweep on groups
  of rows of similar lengths, encoder pass vectorised per source length)
  against a naive loop of T backward passes from one forward (engine / loop,
  target <= 0.5), with the largest difference per sentence relative to its
  largest gradient, in float32 and in float64 (float32 rounding depends on
  which rows share a forward, and the longest sentences' gradients reach the
  hundreds; float64 shows the arithmetic is the same), and saliency plus
  input x gradient in one
  :func:`~attnprobe.runs.attribution.attribute_methods` call against two
  :func:`~attnprobe.runs.attribution.attribute_batch` calls (same medians of
  interleaved ratios).

Run it by hand::

    .venv/bin/python -m benchmarks.bench_gradients [--sentences 64] [--reps 5] [--model PATH]
        [--saliency-batch 64]
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "models" / "enfr-bahdanau.pt"


def load(path: str | None, n: int):
    """The model and its first ``n`` test sentences (see ``bench_attribution.load_model``)."""
    from attnprobe.data import ParallelCorpus
    from benchmarks.bench_attribution import load_model

    model, corpus, _ = load_model(Path(path) if path else None)
    return model.eval(), ParallelCorpus(corpus.src[:n], corpus.tgt[:n])


def child(path: str | None, n: int, batch_size: int, method: str) -> None:
    """Run one method in this (fresh) process; print its peak resident growth as JSON."""
    from attnprobe.data import ParallelCorpus
    from attnprobe.runs.gradients import gradient_matrices

    torch.set_num_threads(1)
    model, corpus = load(path, n)
    gradient_matrices(model, ParallelCorpus(corpus.src[:1], corpus.tgt[:1]), method=method)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    gradient_matrices(model, corpus, batch_size=batch_size, method=method)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_mib": (after - before) / 1024, "total_mib": after / 1024}))


def peak_mib(path: str | None, n: int, batch_size: int, method: str) -> dict:
    code = (
        "from benchmarks.bench_gradients import child; "
        f"child({path!r}, {n}, {batch_size}, {method!r})"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleaved(cases: dict, reps: int) -> tuple[dict, list]:
    """Median CPU seconds of each case and the per-repetition ratios second / first."""
    times = {k: [] for k in cases}
    ratios = []
    names = list(cases)
    for rep in range(reps):
        for name in names if rep % 2 == 0 else names[::-1]:
            start = time.thread_time()
            cases[name]()
            times[name].append(time.thread_time() - start)
        ratios.append(times[names[1]][-1] / times[names[0]][-1])
    return {k: statistics.median(v) for k, v in times.items()}, ratios


def bench_saliency(model, corpus, n: int, reps: int) -> None:
    from attnprobe.data import ParallelCorpus
    from attnprobe.runs.attribution import (
        _Batch,
        _gradients_at,
        _inputs,
        attribute_batch,
        attribute_methods,
    )
    from attnprobe.runs.forward import model_batches
    from attnprobe.runs.sweep import Runner

    sub = ParallelCorpus(corpus.src[:n], corpus.tgt[:n])
    batch = next(model_batches(model, sub, n))
    b = _Batch(batch.src, batch.src_lens, batch.tgt_in, batch.tgt_out, batch.tgt_lens)

    class Looping(Runner):
        sweeps = False  # the naive loop: one backward per step from one shared forward

    engine, loop = Runner(model, "log_prob", False), Looping(model, "log_prob", False)
    xs, _ = _inputs(engine, b, "pad")
    T, lengths = b.tgt_in.shape[1], len(set(b.lens.tolist()))
    med, ratios = interleaved(
        {
            "engine": lambda: _gradients_at(engine, b, xs),
            "loop": lambda: _gradients_at(loop, b, xs),
        },
        reps,
    )
    diffs = {}
    for name, m in (("float32", model), ("float64", copy.deepcopy(model).double())):
        e, lp = Runner(m, "log_prob", False), Looping(m, "log_prob", False)
        x, _ = _inputs(e, b, "pad")
        swept, looped = _gradients_at(e, b, x)[0], _gradients_at(lp, b, x)[0]
        diffs[name] = max(  # per sentence, relative to its largest gradient
            float((swept[:t, r, :s] - looped[:t, r, :s]).abs().max())
            / max(float(looped[:t, r, :s].abs().max()), 1e-30)
            for r, (s, t) in enumerate(zip(b.lens.tolist(), b.tgt_lens.tolist(), strict=True))
        )
    print(
        f"saliency gradients, one padded batch of {n} sentences x {T} steps ({lengths} source "
        f"lengths): engine {med['engine']:.2f} s, loop of T backwards {med['loop']:.2f} s; "
        f"engine / loop {1 / statistics.median(ratios):.2f} (per repetition "
        f"{', '.join(f'{1 / r:.2f}' for r in sorted(ratios))}; target <= 0.5); largest "
        f"relative difference per sentence {diffs['float32']:.1e} in float32, "
        f"{diffs['float64']:.1e} in float64 (target 1e-6)"
    )
    both = ["saliency", "input_x_gradient"]
    med, ratios = interleaved(
        {
            "shared": lambda: attribute_methods(model, batch, both),
            "separate": lambda: [attribute_batch(model, batch, m) for m in both],
        },
        reps,
    )
    print(
        f"saliency + input x gradient: one call {med['shared']:.2f} s, two calls "
        f"{med['separate']:.2f} s; two / one {statistics.median(ratios):.2f}x"
    )


def main(argv=None) -> None:
    from attnprobe.runs.gradients import gradient_matrices

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(FIXTURE) if FIXTURE.exists() else None)
    parser.add_argument("--sentences", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--saliency-batch", type=int, default=64)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    model, corpus = load(args.model, args.sentences)
    steps = sum(len(t) + 1 for t in corpus.tgt)
    print(f"model: {args.model or 'untrained'}; {len(corpus)} sentences, {steps} target steps")

    def run(method):
        start = time.thread_time()
        out = gradient_matrices(model, corpus, batch_size=args.batch_size, method=method)
        return time.thread_time() - start, out

    ratios, times = [], {"sweep": [], "replicate": []}
    for rep in range(args.reps):
        order = ("sweep", "replicate") if rep % 2 == 0 else ("replicate", "sweep")
        got = {m: run(m) for m in order}
        for m in order:
            times[m].append(got[m][0])
        ratios.append(got["replicate"][0] / got["sweep"][0])
    diff = max(
        float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))
        for a, b in zip(got["sweep"][1], got["replicate"][1], strict=True)
    )
    print(
        f"time: sweep {statistics.median(times['sweep']):.2f} s, replicate "
        f"{statistics.median(times['replicate']):.2f} s (CPU, median of {args.reps}); "
        f"replicate / sweep {statistics.median(ratios):.2f}x "
        f"(per repetition {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    print(f"max relative difference sweep vs replicate: {diff:.1e}")
    bench_saliency(model, corpus, args.saliency_batch, args.reps)
    peaks = {m: peak_mib(args.model, args.sentences, args.batch_size, m) for m in times}
    grow = {m: p["peak_mib"] for m, p in peaks.items()}
    print(
        f"peak memory growth over the setup's peak (child process ru_maxrss): sweep "
        f"{grow['sweep']:.0f} MiB, replicate {grow['replicate']:.0f} MiB; whole process peak: "
        f"sweep {peaks['sweep']['total_mib']:.0f} MiB, replicate "
        f"{peaks['replicate']['total_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

"""Attribution speed: batched per-step attribution against one captum call per target step.

On the first ``--sentences`` (200) test sentences of a fixture model
(``fixtures/models/enfr-bahdanau.pt`` by default; ``--model`` is repeatable; an
untrained model of the default size on the toy En-Fr test set when no fixture
is there), reports

* Integrated Gradients (50 Gauss-Legendre steps) for every target step:
  :func:`attnprobe.runs.attribution.attribute` (one forward per sentence, the
  per-step gradients by the decoder sweep) against the straightforward use of
  captum, ``LayerIntegratedGradients`` called once per (sentence, target step),
  on ``--loop-sentences`` of them spread evenly over the source lengths (the
  cost grows with the square of the length), each timed ``--repeat`` times
  (the best run counts), with the largest difference between the two. The
  two sides alternate sentence by sentence (and which goes first alternates),
  so that a load that drifts during the run weighs on both alike; the times
  are this thread's CPU time by default (``--clock cpu``: with one torch
  thread every op runs on it, and waiting for a busy machine does not count),
  wall-clock time with ``--clock wall``; both sides run once before (imports and
  first calls are not timed). The speed-up is total against total,
  with the smallest, median and largest of the per-sentence ratios;
* sentences per second for every method on all the sentences, and the peak
  resident memory above the level before the method ran (sampled every 2 ms).

Run it by hand::

    .venv/bin/python -m benchmarks.bench_attribution [--model PATH ...] [--sentences 200]
        [--loop-sentences 20] [--repeat 1] [--clock cpu] [--methods saliency,...]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from math import inf
from pathlib import Path

import numpy as np
import torch

from attnprobe.data import PAD_ID, ParallelCorpus, Vocab, make_batch
from attnprobe.runs.attribution import attribute
from attnprobe.runs.sweep import select as _select

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class PeakMemory:
    """Peak resident memory above the starting level while the block runs."""

    def __enter__(self):
        self.start = self.peak = rss()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, rss())
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        self.mib = (self.peak - self.start) / 2**20


def load_model(path: Path | None):
    import attnprobe
    from attnprobe.pipeline.common import default_corpus

    if path is not None:
        model = attnprobe.load(path)
        corpus, _ = default_corpus(model)
        return model, corpus, path.name
    from attnprobe.data.toy import generate_split
    from attnprobe.models.reference.rnn import ModelConfig, build_model

    examples = generate_split("enfr", "test")
    corpus = ParallelCorpus([list(e.src) for e in examples], [list(e.tgt) for e in examples])
    sv, tv = Vocab.build(corpus.src), Vocab.build(corpus.tgt)
    model = build_model(ModelConfig(len(sv), len(tv)), seed=0)
    model.src_vocab, model.tgt_vocab = sv, tv
    return model, corpus, "untrained bahdanau (no fixture)"


CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}
_clock = CLOCKS["cpu"]


def best_time(fn, repeat: int):
    """(seconds of the fastest of ``repeat`` runs, the last result)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        start = _clock()
        out = fn()
        best = min(best, _clock() - start)
    return best, out


def captum_loop(model, corpus: ParallelCorpus, n_steps: int) -> list[np.ndarray]:
    """One LayerIntegratedGradients call per (sentence, target step): L2 over the embedding."""
    from captum.attr import LayerIntegratedGradients

    def f(src, lens, tgt_in, tgt_out, t):
        return _select(model(src, lens, tgt_in).logits, tgt_out, "log_prob")[:, t]

    lig = LayerIntegratedGradients(f, model.source_embedding)
    model.eval()
    out = []
    for s, t in zip(corpus.src, corpus.tgt, strict=True):
        b = make_batch([s], [t], model.src_vocab, model.tgt_vocab)
        rows = []
        for step in range(int(b.tgt_lens[0])):
            a = lig.attribute(
                b.src,
                baselines=torch.full_like(b.src, PAD_ID),
                additional_forward_args=(b.src_lens, b.tgt_in, b.tgt_out, step),
                n_steps=n_steps,
            )
            rows.append(a[0].norm(dim=-1))
        out.append(torch.stack(rows).detach().numpy())
    return out


def bench(path: Path | None, args, opts: dict) -> None:
    from attnprobe.pipeline.common import _spread

    model, corpus, name = load_model(path)
    n = min(args.sentences, len(corpus))
    corpus = ParallelCorpus(corpus.src[:n], corpus.tgt[:n])
    words = sum(len(t) + 1 for t in corpus.tgt)
    print(f"model: {name}; {n} sentences, {words} target steps; torch threads {args.threads}")

    # the speed-up on the same k sentences, spread over the lengths (no extrapolation)
    picks = sorted(_spread([len(s) for s in corpus.src], min(args.loop_sentences, n)))
    sub = ParallelCorpus([corpus.src[i] for i in picks], [corpus.tgt[i] for i in picks])
    k, lengths = len(picks), [len(corpus.src[i]) for i in picks]
    # both sides run once before the timing (imports, first calls), on the shortest pair
    j = min(range(k), key=lambda j: len(sub.src[j]))
    one = ParallelCorpus(sub.src[j : j + 1], sub.tgt[j : j + 1])
    attribute(model, one, "integrated_gradients", n_steps=50, delta_tolerance=inf, **opts)
    captum_loop(model, one, 50)
    # sentence by sentence, the two sides alternating (which goes first alternates too),
    # so that a load that drifts during the run weighs on both alike
    batched = looped = 0.0
    ratios, diff, ig_rows = [], 0.0, []
    for j in range(k):
        one = ParallelCorpus(sub.src[j : j + 1], sub.tgt[j : j + 1])
        sides = {
            "ig": lambda one=one: attribute(
                model, one, "integrated_gradients", n_steps=50, delta_tolerance=inf, **opts
            ),
            "loop": lambda one=one: captum_loop(model, one, 50),
        }
        times, out = {}, {}
        for side in ("ig", "loop") if j % 2 == 0 else ("loop", "ig"):
            times[side], out[side] = best_time(sides[side], args.repeat)
        batched += times["ig"]
        looped += times["loop"]
        ratios.append(times["loop"] / times["ig"])
        diff = max(diff, float(np.abs(out["ig"].matrices[0] - out["loop"][0]).max()))
        ig_rows.append(out["ig"])
    ratios.sort()
    max_delta = max(r.max_delta for r in ig_rows)
    gains = sum(float(np.abs(g).sum()) for r in ig_rows for g in r.gain)
    gaps = sum(float(np.abs(d).sum()) for r in ig_rows for d in r.delta)
    print(
        f"IG-50 on {k} sentences of {min(lengths)}-{max(lengths)} words ({args.clock} time): "
        f"batched {batched:.1f} s ({k / batched:.3f} sent/s); captum per step {looped:.1f} s "
        f"({k / looped:.3f} sent/s); speed-up {looped / batched:.2f}x (per sentence: min "
        f"{ratios[0]:.2f}x, median {ratios[len(ratios) // 2]:.2f}x, max {ratios[-1]:.2f}x); "
        f"max |difference| {diff:.2e}; completeness gap max {max_delta:.2e} (all gaps: "
        f"{100 * gaps / max(gains, 1e-30):.1f}% of all f(x) - f(x'))",
        flush=True,
    )

    methods = {
        "integrated_gradients": {"n_steps": 50},
        "saliency": {},
        "input_x_gradient": {},
        "gradient_shap": {"n_samples": 20},
        "occlusion": {},
    }
    print(f"{'method':<22} {'sent/s':>8} {'peak MiB':>9}")
    chosen = [m.strip() for m in args.methods.split(",") if m.strip()]
    for method, extra in ((m, methods[m]) for m in chosen):
        with PeakMemory() as mem:
            start = time.perf_counter()
            attribute(model, corpus, method, delta_tolerance=float("inf"), **opts, **extra)
            seconds = time.perf_counter() - start
        print(f"{method:<22} {n / seconds:>8.2f} {mem.mib:>9.1f}", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", help="checkpoint (repeatable)")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--loop-sentences", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="timings per side; the best counts")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--internal-batch-size", type=int, default=None)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (busy machine: 1)"
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: this thread's CPU time (with one torch thread every op runs on it, and time "
        "spent waiting for a busy machine does not count); wall: wall-clock time",
    )
    parser.add_argument(
        "--methods",
        default="integrated_gradients,saliency,input_x_gradient,gradient_shap,occlusion",
        help="comma-separated methods of the sentences/s table ('' skips it)",
    )
    args = parser.parse_args(argv)
    global _clock
    _clock = CLOCKS[args.clock]
    torch.set_num_threads(args.threads)
    default = ROOT / "fixtures" / "models" / "enfr-bahdanau.pt"
    paths = args.model or [default if default.exists() else None]
    opts = {"batch_size": args.batch_size, "internal_batch_size": args.internal_batch_size}
    for path in paths:
        bench(path, args, opts)


if __name__ == "__main__":
    main()

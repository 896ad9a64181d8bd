"""Benchmark ``attnprobe analyze``: attention-only analysis vs the bare forward pass.

Target (issue 7): the attention-only analysis (capture, extraction with the
default methods, scoring) takes at most 3x the time of the bare batched
teacher-forced forward pass over the same data; the report for 1,000
sentences is under 5 MB.

    .venv/bin/python -m benchmarks.bench_analyze [MODEL.pt] [--sentences N]
        [--analyses alignment,quality,patterns,gradflow,attribution,faithfulness]

With ``--analyses`` it times those analyses instead of the attention-only one
(target of issue 16: all six on 200 sentences within 1 GB peak resident memory
and half the time of ea41b1b) and prints the process's peak resident memory.
ea41b1b's time: copy this script out of the repository and run it with
``PYTHONPATH`` on a worktree of that commit (``git worktree add /tmp/ea41
ea41b1b``; its pipeline is one module, which the script falls back to) and the
model path given, alternating with this version; measured 2026-12-07: 0.29-0.35
of its wall time, 0.34-0.37 of its CPU time, 0.65-0.68 GiB against 3.8-3.9
(``docs/attribution.md``, Speed).

Without a model it uses ``fixtures/models/enfr-bahdanau.pt`` when present, else
a freshly initialised Bahdanau model on the toy En-Fr test split (attention
is then diffuse, which makes extraction no cheaper).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "enfr-bahdanau.pt"


def _model(path: str | None):
    import attnprobe

    if path or FIXTURE.is_file():
        return attnprobe.load(path or FIXTURE)
    from attnprobe.data import Vocab
    from attnprobe.data.toy import generate_split
    from attnprobe.models.reference.rnn import ModelConfig, build_model

    ex = generate_split("enfr", "train")[:5000]
    sv, tv = Vocab.build(e.src for e in ex), Vocab.build(e.tgt for e in ex)
    model = build_model(ModelConfig(len(sv), len(tv)), seed=0)
    model.src_vocab, model.tgt_vocab = sv, tv
    model.meta = {"data": {"toy": "enfr"}}
    return model


def bare_forward(model, corpus, batch_size: int) -> float:
    """Seconds for the batched teacher-forced forward pass alone (batching included)."""
    import torch

    from attnprobe.data import bucket_batches, make_batch

    start = time.perf_counter()
    with torch.no_grad():
        for idx in bucket_batches(corpus.lengths, batch_size):
            b = make_batch(
                [corpus.src[i] for i in idx],
                [corpus.tgt[i] for i in idx],
                model.src_vocab,
                model.tgt_vocab,
            )
            model(b.src, b.src_lens, b.tgt_in)
    return time.perf_counter() - start


def main(argv=None) -> None:
    import torch

    from attnprobe.data import ParallelCorpus

    try:
        from attnprobe.pipeline.driver import analyze, default_corpus
    except ImportError:  # an older checkout (the issue-16 baseline, ea41b1b): one module
        from attnprobe.pipeline import analyze, default_corpus

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?")
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--analyses", default="alignment", help="comma-separated analyses to time")
    args = ap.parse_args(argv)
    analyses = [a.strip() for a in args.analyses.split(",") if a.strip()]
    torch.set_num_threads(1)
    model = _model(args.model)
    corpus, gold = default_corpus(model)
    n = min(args.sentences, len(corpus))
    corpus = ParallelCorpus(corpus.src[:n], corpus.tgt[:n], corpus.name)
    gold = gold[:n]
    bare_forward(model, corpus, args.batch_size)  # warm-up
    forward = min(bare_forward(model, corpus, args.batch_size) for _ in range(2))
    start, cpu = time.perf_counter(), time.process_time()
    res = analyze(
        model, corpus, gold, analyses=analyses, batch_size=args.batch_size, progress=False
    )
    attention_only = time.perf_counter() - start
    cpu = time.process_time() - cpu
    if analyses != ["alignment"]:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
        print(f"model: {model.cfg.name}; {n} sentences, batch size {args.batch_size}, 1 thread")
        print(f"analyses {','.join(analyses)}: {attention_only:.1f} s wall, {cpu:.1f} s CPU")
        print(f"peak resident memory of the process: {peak:.2f} GiB (target <= 1 GB)")
        return
    from attnprobe.report.html import render_report

    html = render_report(res).encode()
    print(f"model: {model.cfg.name}; {n} sentences, batch size {args.batch_size}, 1 thread")
    print(f"bare forward:            {forward:7.2f} s  ({n / forward:7.0f} sentences/s)")
    print(
        f"attention-only analysis: {attention_only:7.2f} s  ({n / attention_only:7.0f} sentences/s)"
    )
    print(f"ratio analysis / forward: {attention_only / forward:.2f} (target <= 3)")
    print(f"report.html for {n} sentences: {len(html) / 1e6:.2f} MB (target < 5 MB)")


if __name__ == "__main__":
    main()

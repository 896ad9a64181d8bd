"""Capture overhead: a teacher-forced pass with ``attnprobe.capture`` against without.

For a Bahdanau reference model (the fixture ``enfr-bahdanau.pt`` when it has
been built, else a freshly initialised model of the default size: the timing
does not depend on the weights), batch 64, it reports the ratios

* ``forward``: capture (default sites, the trace built) / plain forward, under
  ``torch.no_grad`` (issue 16 asks for <= 1.05);
* ``forward+backward``: ``capture(grads=True)`` / plain, a cross-entropy loss and
  ``backward()`` (issue 16 asks for <= 1.05);

and, for information, the same forward through a ``read="softmax"`` site (the
``TorchFunctionMode`` path used for user models) and an ``nn.Transformer``'s
cross-attention (the ``nn.MultiheadAttention`` path).

All cases run in one process with one torch thread, interleaved repetition by
repetition (the order alternates), and each ratio is the median of the
per-repetition ratios, so that drifting machine load cancels out (the minimum
and maximum of those ratios are printed too). Times are the
CPU time of this thread by default (``--clock cpu``: with one torch thread every
op runs on it, and time spent waiting for a busy shared machine does not count);
``--clock wall`` measures wall-clock time. Run it by hand::

    .venv/bin/python -m benchmarks.bench_capture [--reps 30] [--batch 64] [--clock cpu]

Measured 2026-12-07 on the shared 2-core machine under load (load average
5.9-7.8), ``--reps 150``, cpu clock, two runs each, before (main 36a07ce) and
after the capture changes of that morning, median per-repetition ratio of each
run (single repetitions ranged from 0.3 to 3.4: the machine was busy):

================================  =============  =============
case                              before         after
================================  =============  =============
forward                           1.085, 1.093   1.051, 1.057
forward+backward (grads=True)     1.074, 1.094   1.047, 1.058
forward, read='softmax' site      1.156, 1.165   1.102, 1.134
nn.Transformer cross-attention    1.090, 1.118   1.064, 1.091
================================  =============  =============

The same day's second round (per call only a check and a copy in the module's
own layout, made canonical once per trace; the padding check when the
attention is first read; no reference cycle left for the garbage collector;
an output site and the model's inputs read from inside the forward where
nothing else hooks the module), four runs of ``--reps 150`` at load average
3.5-4.9: forward 1.038, 1.062, 1.041, 1.056; forward+backward 1.024, 1.026,
1.025, 1.046; softmax site 1.116, 1.112, 1.112, 1.094; nn.Transformer 1.060,
1.075, 1.065, 1.055. At these loads the median of 150 ratios moves by about
+-0.015 from run to run. In one process, with the previous capture code
(main 0bc59ba) imported beside the new one and the three cases alternating
(load 2.5-3.3), the forward's median ratio to the plain forward was 1.062 and
1.066 before, 1.047 and 1.044 after (two runs of 150; new / old 0.981 and
0.976), forward+backward 1.021 before and 1.004 after (60 repetitions).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import attnprobe
from attnprobe.capturing.sites import Site
from attnprobe.models.reference.rnn import ModelConfig, build_model

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "enfr-bahdanau.pt"


def reference_model() -> tuple[nn.Module, str]:
    if FIXTURE.is_file():
        return attnprobe.load(FIXTURE).eval(), FIXTURE.name
    cfg = ModelConfig(src_vocab=120, tgt_vocab=140, attention="bahdanau")
    return build_model(cfg, seed=0).eval(), "bahdanau (untrained, default size)"


def inputs(model, B: int, S: int = 20, T: int = 22):
    g = torch.Generator().manual_seed(0)
    V_src, V_tgt = model.encoder.embedding.num_embeddings, model.decoder.embedding.num_embeddings
    lens = torch.randint(S // 2, S + 1, (B,), generator=g)
    lens[0] = S
    src = torch.randint(4, V_src, (B, S), generator=g)
    src = src.masked_fill(torch.arange(S)[None, :] >= lens[:, None], 0)
    tgt_in = torch.randint(4, V_tgt, (B, T), generator=g)
    tgt_out = torch.randint(4, V_tgt, (B, T), generator=g)
    return src, lens, tgt_in, tgt_out


CLOCKS = {"cpu": time.thread_time, "wall": time.perf_counter}
_clock = CLOCKS["cpu"]


def clock(fn) -> float:
    start = _clock()
    fn()
    return _clock() - start


def cases(model, B: int) -> dict[str, dict[str, callable]]:
    src, lens, tgt_in, tgt_out = inputs(model, B)
    soft = [Site("decoder.attention", read="softmax")]

    def forward():
        with torch.no_grad():
            model(src, lens, tgt_in)

    def captured(sites=None):
        def run():
            with torch.no_grad(), attnprobe.capture(model, sites=sites) as cap:
                model(src, lens, tgt_in)
            cap.trace  # noqa: B018 (building the trace is part of the cost)

        return run

    def backward():
        logits = model(src, lens, tgt_in).logits
        F.cross_entropy(logits.transpose(1, 2), tgt_out).backward()

    def captured_backward():
        with attnprobe.capture(model, grads=True) as cap:
            backward()
        cap.trace  # noqa: B018

    torch.manual_seed(0)
    tf = nn.Transformer(
        d_model=128,
        nhead=4,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=256,
        dropout=0.0,
        batch_first=True,
    ).eval()
    x, y = torch.randn(B, 20, 128), torch.randn(B, 22, 128)
    mask = nn.Transformer.generate_square_subsequent_mask(22)

    def tf_plain():
        with torch.no_grad():
            tf(x, y, tgt_mask=mask)

    def tf_captured():
        with torch.no_grad(), attnprobe.capture(tf, sites=["decoder.layers.1.multihead_attn"]) as c:
            tf(x, y, tgt_mask=mask)
        c.trace  # noqa: B018

    return {
        "forward": {"plain": forward, "capture": captured()},
        "forward+backward (grads=True)": {"plain": backward, "capture": captured_backward},
        "forward, read='softmax' site": {"plain": forward, "capture": captured(soft)},
        "nn.Transformer cross-attention": {"plain": tf_plain, "capture": tf_captured},
    }


def measure(pair: dict[str, callable], reps: int) -> tuple[float, float, list[float]]:
    """Median plain time, median captured time, the per-repetition ratios (sorted)."""
    for fn in pair.values():  # warm up
        fn()
    plain, captured, ratios = [], [], []
    for r in range(reps):
        order = ("plain", "capture") if r % 2 == 0 else ("capture", "plain")
        t = {name: clock(pair[name]) for name in order}
        plain.append(t["plain"])
        captured.append(t["capture"])
        ratios.append(t["capture"] / t["plain"])
    return statistics.median(plain), statistics.median(captured), sorted(ratios)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    args = parser.parse_args(argv)
    global _clock
    _clock = CLOCKS[args.clock]
    torch.set_num_threads(1)
    model, name = reference_model()
    print(
        f"model: {name}; batch {args.batch}; {args.reps} interleaved repetitions; 1 thread; "
        f"{args.clock} time"
    )
    for label, pair in cases(model, args.batch).items():
        p, c, ratios = measure(pair, args.reps)
        print(
            f"{label:34s} plain {p * 1e3:8.2f} ms  capture {c * 1e3:8.2f} ms  ratio "
            f"{statistics.median(ratios):.3f} (min {ratios[0]:.3f}, max {ratios[-1]:.3f})"
        )


if __name__ == "__main__":
    main()

"""Step ``quality``: greedy decoding; exact match, accuracy, NLL and BLEU by length."""

from __future__ import annotations

import numpy as np

from attnprobe.analyses.bottleneck import quality_by_length
from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
)


class QualityAnalysis:
    """Greedy decoding per batch; exact match, token accuracy, NLL and BLEU by source length."""

    title = "Quality"
    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx

    def update(self, cb: CapturedBatch) -> None:
        model, batch = self.ctx.model, cb.batch
        hyps = model.greedy(batch.src, batch.src_lens)
        for b, rec in enumerate(cb.records):
            rec["hypothesis"] = model.decode_ids(hyps[b].tokens)
            rec["exact"] = rec["hypothesis"] == rec["tgt"]

    def finish(self, done: dict) -> dict:
        recs = self.ctx.sentences
        steps = [r["steps"] for r in recs]  # the model's decoder steps (EOS included)
        nll = [r["nll"] for r in recs]
        correct = [r["correct"] for r in recs]
        buckets = quality_by_length(
            [r["src_len"] for r in recs],
            steps,
            nll,
            correct,
            [r["exact"] for r in recs],
            [r["hypothesis"] for r in recs],
            [r["tgt"] for r in recs],
        )
        return {
            "token_accuracy": sum(correct) / sum(steps),
            "nll_per_token": sum(nll) / sum(steps),
            "exact_match": float(np.mean([r["exact"] for r in recs])),
            "buckets": [b.to_dict() for b in buckets],
        }

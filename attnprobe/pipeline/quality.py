"""Step ``quality``: greedy decoding; exact match, accuracy, NLL and BLEU by length.

Per batch it decodes greedily and adds, per source-length bucket, the counts
the corpus numbers are made of: sentences, exact matches, correct steps,
steps, summed NLL and BLEU's n-gram statistics
(:func:`~attnprobe.analyses.bottleneck.bleu_statistics`), so BLEU of merged
shards is the BLEU of the whole corpus, not an average of shard BLEUs.
"""

from __future__ import annotations

import numpy as np

from attnprobe.analyses.bottleneck import (
    BUCKETS,
    BucketQuality,
    bleu_from_statistics,
    bleu_statistics,
    bucket_of,
)
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
        self.buckets: dict = {}  # str(bucket index) -> sums

    def update(self, cb: CapturedBatch) -> None:
        model, batch = self.ctx.model, cb.batch
        hyps = model.greedy(batch.src, batch.src_lens)
        for b, rec in enumerate(cb.records):
            rec["hypothesis"] = model.decode_ids(hyps[b].tokens)
            rec["exact"] = rec["hypothesis"] == rec["tgt"]
            k = bucket_of(rec["src_len"])  # -1: no bucket (counted in the totals only)
            s = self.buckets.setdefault(str(k), {"sentences": 0, "exact": 0, "correct": 0})
            s["sentences"] += 1
            s["exact"] += int(rec["exact"])
            s["correct"] += rec["correct"]
            s["steps"] = s.get("steps", 0) + rec["steps"]  # the model's steps (EOS included)
            s["nll"] = s.get("nll", 0.0) + rec["nll"]
            s["bleu"] = s.get("bleu", 0) + bleu_statistics(rec["hypothesis"], rec["tgt"])

    def stats(self) -> dict:
        """This part's sums per source-length bucket."""
        return {"buckets": self.buckets}

    def finish(self, done: dict, stats: dict) -> dict:
        sums = stats.get("buckets", {})
        rows = []
        for k, (lo, hi) in enumerate(BUCKETS):
            s = sums.get(str(k))
            if not s:
                continue
            rows.append(
                BucketQuality(
                    lo,
                    hi,
                    s["sentences"],
                    s["exact"] / s["sentences"],
                    s["correct"] / s["steps"],
                    s["nll"] / s["steps"],
                    bleu_from_statistics(s["bleu"]),
                )
            )
        total = {
            name: sum(s[name] for s in sums.values())
            for name in ("sentences", "exact", "correct", "steps", "nll")
        }
        return {
            "token_accuracy": total["correct"] / total["steps"],
            "nll_per_token": total["nll"] / total["steps"],
            "exact_match": float(np.float64(total["exact"]) / total["sentences"]),
            "buckets": [b.to_dict() for b in rows],
        }

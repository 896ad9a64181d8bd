"""Step ``patterns``: the shape of the attention (reordering, fertility, coverage).

Per batch, each sentence's patterns are computed at every offset and reduced at
once to the sums, counts and counters that
:func:`~attnprobe.analyses.patterns.corpus_patterns` reports (they add up over
shards); ``finish`` reads them at the offset the alignment step found best.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _clean,
    choose_later,
    word_masks,
)
from attnprobe.pipeline.scale.stats import Max

if TYPE_CHECKING:
    from attnprobe.analyses.patterns import CorpusPatterns, SentencePatterns


@dataclass(frozen=True)
class PatternsResult:
    """What the ``patterns`` step found: the corpus patterns of one site at one offset."""

    site: str  # the primary cross-attention site
    offset: int  # the target offset the summary was read at
    corpus: CorpusPatterns

    def to_dict(self) -> dict:
        """``site``, ``offset`` and the fields of :class:`CorpusPatterns` (JSON-able)."""
        return {"site": self.site, "offset": self.offset, **self.corpus.to_dict()}


def _nan_sum(values) -> dict:
    """Sum and count of the values that are not NaN (a mean that merges)."""
    a = np.asarray(list(values), np.float64)
    a = a[~np.isnan(a)]
    return {"sum": float(a.sum()), "n": int(a.size)}


def pattern_sums(p: SentencePatterns) -> dict:
    """One sentence's patterns as the additive statistics of :func:`corpus_from_sums`."""
    return {
        "sentences": 1,
        "steps": len(p.entropy),
        "source_words": p.n_src,
        "entropy": _nan_sum(p.entropy),
        "kendall_tau": _nan_sum([p.monotonicity.kendall_tau]),
        "crossings": p.monotonicity.crossings,
        "sentences_with_crossings": int(p.monotonicity.crossings > 0),
        "jump_counts": dict(Counter(str(j) for j in p.jumps.steps)),
        "forward_jumps": p.jumps.forward,
        "backward_jumps": p.jumps.backward,
        "longest_backward": Max(p.jumps.longest_backward),
        "one_to_many": len(p.one_to_many),
        "many_to_one": len(p.many_to_one),
        "under": len(p.coverage.under),
        "over": len(p.coverage.over),
        "special_mass": _nan_sum(p.special_mass),
        "block_sizes": dict(Counter(f"{len(s)}-{len(t)}" for s, t in p.blocks)),
    }


def corpus_from_sums(s: dict) -> CorpusPatterns:
    """:class:`CorpusPatterns` from merged :func:`pattern_sums` (as ``corpus_patterns``)."""
    from attnprobe.analyses.patterns import CorpusPatterns

    def mean(s):
        return s["sum"] / s["n"] if s["n"] else float("nan")

    return CorpusPatterns(
        sentences=s["sentences"],
        steps=s["steps"],
        source_words=s["source_words"],
        mean_entropy=mean(s["entropy"]),
        mean_kendall_tau=mean(s["kendall_tau"]),
        crossings=s["crossings"],
        sentences_with_crossings=s["sentences_with_crossings"],
        jump_counts={int(k): v for k, v in sorted(s["jump_counts"].items(), key=_int_key)},
        forward_jumps=s["forward_jumps"],
        backward_jumps=s["backward_jumps"],
        longest_backward=s["longest_backward"].value or 0,
        one_to_many=s["one_to_many"],
        many_to_one=s["many_to_one"],
        under=s["under"],
        over=s["over"],
        mean_special_mass=mean(s["special_mass"]),
        block_sizes=dict(sorted(s["block_sizes"].items())),
    )


def _int_key(item):
    return int(item[0])


class PatternsAnalysis:
    """Attention patterns of the primary site (:mod:`attnprobe.analyses.patterns`).

    Computed at every offset while streaming; the summary uses the offset that
    the alignment step found best (it requires that step: the driver runs it first).
    """

    requires: tuple[str, ...] = ("alignment",)

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.sums: dict = {}  # str(offset) -> merged pattern_sums
        self.choices: dict[str, int] = {}

    def update(self, cb: CapturedBatch) -> None:
        from attnprobe.analyses.patterns import sentence_patterns
        from attnprobe.pipeline.scale.stats import merge

        site = self.ctx.sites[0]
        for b, rec in enumerate(cb.records):
            masks = word_masks(rec["src_len"], rec["tgt_len"])
            for o in self.ctx.offsets:
                p = sentence_patterns(cb.attention[site][b], offset=o, **masks)
                self.sums[str(o)] = merge(self.sums.get(str(o), {}), pattern_sums(p))
                fields = {
                    "tau": _clean(p.monotonicity.kendall_tau),
                    "crossings": p.monotonicity.crossings,
                }
                choose_later(rec, "patterns", o, fields)

    def stats(self) -> dict:
        """This part's pattern sums per offset."""
        return {"sums": self.sums}

    def finish(self, done: dict, stats: dict) -> PatternsResult:
        alignment, primary = done.get("alignment"), f"{self.ctx.sites[0]}/{self.ctx.methods[0]}"
        # the offset the alignment step found best (the first offset without gold)
        offset = alignment["best_offset"][primary] if alignment else self.ctx.offsets[0]
        self.choices["patterns"] = offset
        return PatternsResult(
            self.ctx.sites[0], offset, corpus_from_sums(stats["sums"][str(offset)])
        )

"""Step ``patterns``: the shape of the attention (reordering, fertility, coverage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _clean,
    word_masks,
)

if TYPE_CHECKING:
    from attnprobe.analyses.patterns import CorpusPatterns


@dataclass(frozen=True)
class PatternsResult:
    """What the ``patterns`` step found: the corpus patterns of one site at one offset."""

    site: str  # the primary cross-attention site
    offset: int  # the target offset the summary was read at
    corpus: CorpusPatterns

    def to_dict(self) -> dict:
        """``site``, ``offset`` and the fields of :class:`CorpusPatterns` (JSON-able)."""
        return {"site": self.site, "offset": self.offset, **self.corpus.to_dict()}


class PatternsAnalysis:
    """Attention patterns of the primary site (:mod:`attnprobe.analyses.patterns`).

    Computed at every offset while streaming; the summary uses the offset that
    the alignment step found best (it requires that step: the driver runs it first).
    """

    requires: tuple[str, ...] = ("alignment",)

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.found = {o: [None] * len(ctx.sentences) for o in ctx.offsets}

    def update(self, cb: CapturedBatch) -> None:
        from attnprobe.analyses.patterns import sentence_patterns

        site = self.ctx.sites[0]
        for b, pos in enumerate(cb.positions):
            rec = cb.records[b]
            masks = word_masks(rec["src_len"], rec["tgt_len"])
            for o in self.ctx.offsets:
                self.found[o][pos] = sentence_patterns(cb.attention[site][b], offset=o, **masks)

    def finish(self, done: dict) -> PatternsResult:
        from attnprobe.analyses.patterns import corpus_patterns

        alignment, primary = done.get("alignment"), f"{self.ctx.sites[0]}/{self.ctx.methods[0]}"
        # the offset the alignment step found best (the first offset without gold)
        offset = alignment["best_offset"][primary] if alignment else self.ctx.offsets[0]
        found = self.found[offset]
        for rec, p in zip(self.ctx.sentences, found, strict=True):
            rec["tau"] = _clean(p.monotonicity.kendall_tau)
            rec["crossings"] = p.monotonicity.crossings
        return PatternsResult(self.ctx.sites[0], offset, corpus_patterns(found))

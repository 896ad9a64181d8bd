"""Step ``patterns``: the shape of the attention (reordering, fertility, coverage).

With gold alignments, the crossings and one-to-many words of the attention's
links (argmax per target word, the links the pattern counts read) are also
scored against the gold (:func:`attnprobe.analyses.patterns.pattern_score`):
a raw count says how often attention shows a phenomenon, the score how often
the gold agrees. The scores are kept as sums over sentences, so the numbers of
parts of a corpus add up.
"""

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
    from attnprobe.analyses.patterns import CorpusPatterns, PatternScore

#: the links the link patterns read, and that are scored against the gold
LINK_METHOD = "argmax-target"


@dataclass(frozen=True)
class PatternsResult:
    """What the ``patterns`` step found: the corpus patterns of one site at one offset."""

    site: str  # the primary cross-attention site
    offset: int  # the target offset the summary was read at
    corpus: CorpusPatterns
    gold: PatternScore | None = None  # crossings and one-to-many against the gold (sums)

    def to_dict(self) -> dict:
        """``site``, ``offset``, the fields of :class:`CorpusPatterns` and, with gold,
        ``against_gold`` (:meth:`PatternScore.to_dict` and the link method) (JSON-able)."""
        out = {"site": self.site, "offset": self.offset, **self.corpus.to_dict()}
        if self.gold is not None:
            out["against_gold"] = {"method": LINK_METHOD, **self.gold.to_dict()}
        return out


class PatternsAnalysis:
    """Attention patterns of the primary site (:mod:`attnprobe.analyses.patterns`).

    Computed at every offset while streaming; the summary uses the offset that
    the alignment step found best (it requires that step: the driver runs it first).
    """

    requires: tuple[str, ...] = ("alignment",)

    def __init__(self, ctx: AnalysisContext):
        from attnprobe.analyses.patterns import PatternScore

        self.ctx = ctx
        self.found = {o: [None] * len(ctx.sentences) for o in ctx.offsets}
        # against the gold: per offset, the sum over sentences and each sentence's part
        self.scored = {o: [None] * len(ctx.sentences) for o in ctx.offsets}
        self.totals = {o: PatternScore() for o in ctx.offsets}

    def update(self, cb: CapturedBatch) -> None:
        from attnprobe.analyses.extraction import extract_alignment
        from attnprobe.analyses.patterns import pattern_score, sentence_patterns

        site, gold = self.ctx.sites[0], self.ctx.gold
        for b, pos in enumerate(cb.positions):
            rec, att = cb.records[b], cb.attention[site][b]
            masks = word_masks(rec["src_len"], rec["tgt_len"])
            for o in self.ctx.offsets:
                self.found[o][pos] = sentence_patterns(att, offset=o, **masks)
                if gold is not None:
                    links = extract_alignment(att, LINK_METHOD, offset=o, **masks)
                    self.scored[o][pos] = sc = pattern_score(links, gold[pos])
                    self.totals[o] = self.totals[o] + sc

    def finish(self, done: dict) -> PatternsResult:
        from attnprobe.analyses.patterns import corpus_patterns

        alignment, primary = done.get("alignment"), f"{self.ctx.sites[0]}/{self.ctx.methods[0]}"
        # the offset the alignment step found best (the first offset without gold)
        offset = alignment["best_offset"][primary] if alignment else self.ctx.offsets[0]
        found, scored = self.found[offset], self.scored[offset]
        for rec, p, sc in zip(self.ctx.sentences, found, scored, strict=True):
            rec["tau"] = _clean(p.monotonicity.kendall_tau)
            rec["crossings"] = p.monotonicity.crossings
            rec["one_to_many"] = len(p.one_to_many)
            rec["fertility"] = _clean(max(p.coverage.fertility, default=float("nan")))
            if sc is not None:
                rec["gold_crossings"] = sc.gold_crossings
                rec["gold_one_to_many"] = sc.gold_one_to_many
        gold = self.totals[offset] if self.ctx.gold is not None else None
        return PatternsResult(self.ctx.sites[0], offset, corpus_patterns(found), gold)

"""Step ``patterns``: the shape of the attention (reordering, fertility, coverage).

Per batch, each sentence's patterns are computed at every offset and reduced at
once to the sums, counts and counters that
:func:`~attnprobe.analyses.patterns.corpus_patterns` reports (they add up over
shards); ``finish`` reads them at the offset the alignment step found best.

With gold alignments, the crossings and one-to-many words of the attention's
links (argmax per target word, the links the pattern counts read) are also
scored against the gold (:func:`attnprobe.analyses.patterns.pattern_score`):
a raw count says how often attention shows a phenomenon, the score how often
the gold agrees. The scores are sums over sentences too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
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
    from attnprobe.analyses.patterns import CorpusPatterns, PatternScore, SentencePatterns

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
        self.gold: dict = {}  # str(offset) -> PatternScore fields, summed (with gold)
        self.choices: dict[str, int] = {}

    def update(self, cb: CapturedBatch) -> None:
        from attnprobe.analyses.extraction import extract_alignment
        from attnprobe.analyses.patterns import pattern_score, sentence_patterns
        from attnprobe.pipeline.scale.stats import merge

        site, gold = self.ctx.sites[0], self.ctx.gold
        for b, (pos, rec) in enumerate(zip(cb.positions, cb.records, strict=True)):
            att = cb.attention[site][b]
            masks = word_masks(rec["src_len"], rec["tgt_len"])
            for o in self.ctx.offsets:
                p = sentence_patterns(att, offset=o, **masks)
                self.sums[str(o)] = merge(self.sums.get(str(o), {}), pattern_sums(p))
                fields = {
                    "tau": _clean(p.monotonicity.kendall_tau),
                    "crossings": p.monotonicity.crossings,
                    "one_to_many": len(p.one_to_many),
                    "fertility": _clean(max(p.coverage.fertility, default=float("nan"))),
                }
                if gold is not None:
                    links = extract_alignment(att, LINK_METHOD, offset=o, **masks)
                    sc = pattern_score(links, gold[pos])
                    self.gold[str(o)] = merge(self.gold.get(str(o), {}), asdict(sc))
                    fields["gold_crossings"] = sc.gold_crossings
                    fields["gold_one_to_many"] = sc.gold_one_to_many
                choose_later(rec, "patterns", o, fields)

    def stats(self) -> dict:
        """This part's pattern sums per offset (and the scores against the gold)."""
        return {"sums": self.sums, "gold": self.gold}

    def finish(self, done: dict, stats: dict) -> PatternsResult:
        alignment, primary = done.get("alignment"), f"{self.ctx.sites[0]}/{self.ctx.methods[0]}"
        # the offset the alignment step found best (the first offset without gold)
        offset = alignment["best_offset"][primary] if alignment else self.ctx.offsets[0]
        from attnprobe.analyses.patterns import PatternScore

        self.choices["patterns"] = offset
        gold = stats.get("gold", {}).get(str(offset))
        return PatternsResult(
            self.ctx.sites[0],
            offset,
            corpus_from_sums(stats["sums"][str(offset)]),
            None if self.ctx.gold is None else PatternScore(**gold),
        )

"""Step ``faithfulness``: does changing the attention change the output?"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from attnprobe.data import ParallelCorpus
from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _spread,
    sentence_words,
    skipped,
)

#: sentences the faithfulness analysis edits (spread over the source lengths); each runs
#: the model once per edit (7 with three permutation seeds) and decodes 5 times
FAITHFULNESS_SENTENCES = 200
#: of those, the sentences of the erasure comparison (occlusion: one forward per source token)
ERASURE_SENTENCES = 50


@dataclass(frozen=True)
class FaithfulnessResult:
    """What the ``faithfulness`` step found (numbers only; the report words them).

    ``summaries`` maps each attention edit to its
    :meth:`~attnprobe.analyses.faithfulness.EditSummary.to_dict` (bootstrap
    intervals as ``{mean, low, high, level}``), ``params`` the edit run's
    parameters, ``erasure`` the
    :meth:`~attnprobe.analyses.faithfulness.ErasureComparison.to_dict` on
    ``erasure_sentences`` of the ``sentences`` edited.
    """

    site: str  # the cross-attention site whose attention was edited
    sentences: int
    summaries: dict[str, dict]
    params: dict
    erasure: dict
    erasure_sentences: int

    def to_dict(self) -> dict:
        """Plain JSON-able data."""
        return asdict(self)


class FaithfulnessAnalysis:
    """Does changing the attention change the output? (:func:`runs.faithfulness.run_edits`).

    Runs in ``finish`` on up to :data:`FAITHFULNESS_SENTENCES` sentences spread
    over the source lengths: the attention of the first cross-attention site is
    replaced (uniform, permuted with seeds 0-2, top source zeroed, the previous
    step's row; identity as a check) through capture edits, and the change of the
    output distribution is summarised with bootstrap intervals. On up to
    :data:`ERASURE_SENTENCES` of them, erasing the top-attended source token is
    compared with erasing the top-attributed one (leave-one-out drops,
    :func:`attnprobe.analyses.faithfulness.compare_erasure`; attribution: the
    first method of ``AnalysisContext.attribution``, else saliency). The
    sentences are picked once from the whole corpus (:meth:`sample`); the
    shards hand over the attention of the erasure sentences, and the edits run
    once, in the driver.
    """

    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.picks = ctx.picks["faithfulness"]
        every = max(1, -(-len(self.picks) // ERASURE_SENTENCES))
        self.erasure = self.picks[::every]
        self.attention: dict[str, np.ndarray] = {}  # str(position) -> [T, S] of the erasure
        self.method = ctx.attribution[0] if ctx.attribution else "saliency"
        self.names = tuple(dict.fromkeys((self.method, "occlusion")))
        # what the attribution step of this part left for the erasure sentences: method ->
        # str(position) -> [T, S] words (computed once per run: see AttributionCache)
        self.attributed: dict[str, dict[str, np.ndarray]] = {}
        for name in self.names:
            ctx.attribution_cache.want(name, self.erasure)

    @staticmethod
    def sample(lengths) -> list[int]:
        """The positions the step edits (sorted), from the source lengths of the whole corpus."""
        return sorted(_spread(lengths, FAITHFULNESS_SENTENCES))

    def update(self, cb: CapturedBatch) -> None:  # the edits run the model in finish()
        keep = set(self.erasure)
        for b, pos in enumerate(cb.positions):
            if self.ctx.sites and pos in keep:
                self.attention[str(pos)] = cb.attention[self.ctx.sites[0]][b]
            for name in self.names if pos in keep else ():  # the attribution step ran first
                m = self.ctx.attribution_cache.take(name, pos)
                if m is not None:
                    self.attributed.setdefault(name, {})[str(pos)] = m

    def stats(self) -> dict:
        """The forward pass's attention of the erasure sentences that fell in this part, and
        the attribution matrices the attribution step computed for them."""
        return {"attention": self.attention, "attributed": self.attributed}

    def _erasure(self, attention: dict, attributed: dict):
        from attnprobe.analyses.faithfulness import compare_erasure
        from attnprobe.runs.attribution import attribute

        ctx = self.ctx
        method = self.method

        def words(name):  # per sentence, pooled to words like the attention
            # the attribution step of this run may have left them (same sentences, same
            # method); only the missing ones are attributed here
            got = {k: attributed.get(name, {}).get(str(k)) for k in self.erasure}
            missing = [k for k in self.erasure if got[k] is None]
            if missing:
                sub = ParallelCorpus(
                    [ctx.corpus.src[k] for k in missing], [ctx.corpus.tgt[k] for k in missing]
                )
                mats = attribute(ctx.model, sub, name, batch_size=ctx.batch_size).matrices
                got.update(zip(missing, sentence_words(ctx.model, sub, mats), strict=True))
            return [got[k] for k in self.erasure]

        occlusion = words("occlusion")
        attributed = occlusion if method == "occlusion" else words(method)
        attention = [attention[str(k)] for k in self.erasure]
        return compare_erasure(occlusion, attention, attributed, method=method, seed=ctx.seed)

    def finish(self, done: dict, stats: dict) -> FaithfulnessResult | dict:
        from attnprobe.runs.faithfulness import run_edits

        ctx = self.ctx
        if not ctx.sites:
            return skipped("this model has no attention to edit")
        picks = self.picks
        sub = ParallelCorpus([ctx.corpus.src[k] for k in picks], [ctx.corpus.tgt[k] for k in picks])
        f = run_edits(ctx.model, sub, batch_size=ctx.batch_size, seed=ctx.seed)
        edits = f.to_dict()
        return FaithfulnessResult(
            site=ctx.sites[0],
            sentences=len(sub),
            summaries=edits["summaries"],
            params=edits["params"],
            erasure=self._erasure(stats["attention"], stats.get("attributed", {})).to_dict(),
            erasure_sentences=len(self.erasure),
        )

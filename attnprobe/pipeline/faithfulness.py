"""Step ``faithfulness``: does changing the attention change the output?"""

from __future__ import annotations

import numpy as np

from attnprobe.data import ParallelCorpus
from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _clean,
    _interval,
    _spread,
)

#: sentences the faithfulness analysis edits (spread over the source lengths); each runs
#: the model once per edit (7 with three permutation seeds) and decodes 5 times
FAITHFULNESS_SENTENCES = 200
#: of those, the sentences of the erasure comparison (occlusion: one forward per source token)
ERASURE_SENTENCES = 50


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
    first method of ``AnalysisContext.attribution``, else saliency).
    """

    title = "Faithfulness"
    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.picks = sorted(_spread(ctx.corpus.lengths, FAITHFULNESS_SENTENCES))
        every = max(1, -(-len(self.picks) // ERASURE_SENTENCES))
        self.erasure = self.picks[::every]
        self.attention: dict[int, np.ndarray] = {}

    def update(self, cb: CapturedBatch) -> None:  # the edits run the model in finish()
        keep = set(self.erasure)
        for b, pos in enumerate(cb.positions):
            if self.ctx.sites and pos in keep:
                self.attention[pos] = cb.attention[self.ctx.sites[0]][b]

    def _erasure(self):
        from attnprobe.analyses.faithfulness import compare_erasure
        from attnprobe.runs.attribution import attribute

        ctx = self.ctx
        sub = ParallelCorpus(
            [ctx.corpus.src[k] for k in self.erasure], [ctx.corpus.tgt[k] for k in self.erasure]
        )
        method = ctx.attribution[0] if ctx.attribution else "saliency"
        occlusion = attribute(ctx.model, sub, "occlusion", batch_size=ctx.batch_size).matrices
        attributed = (
            occlusion
            if method == "occlusion"
            else attribute(ctx.model, sub, method, batch_size=ctx.batch_size).matrices
        )
        attention = [self.attention[k] for k in self.erasure]
        return compare_erasure(occlusion, attention, attributed, method=method, seed=ctx.seed)

    def finish(self, done: dict) -> dict:
        from attnprobe.runs.faithfulness import run_edits

        ctx = self.ctx
        if not ctx.sites:
            return {"title": self.title, "description": "This model has no attention to edit."}
        picks = self.picks
        sub = ParallelCorpus([ctx.corpus.src[k] for k in picks], [ctx.corpus.tgt[k] for k in picks])
        f = run_edits(ctx.model, sub, batch_size=ctx.batch_size, seed=ctx.seed)
        erasure = self._erasure()
        tables = []
        rows = [
            [
                key,
                _interval(s.tvd),
                _interval(s.jsd),
                _interval(s.delta_logp),
                _interval(s.argmax_change),
                _interval(s.greedy_change),
            ]
            for key, s in f.summaries.items()
        ]
        uniform = f.summaries.get("uniform")
        tables.append(
            {
                "title": f"erasing the top-attended vs the top-attributed ({erasure.method}) "
                f"source token, {len(self.erasure)} sentences: mean [95% interval]",
                "columns": ["", "value", "how to read it"],
                "rows": [
                    [
                        "drop of log p(y), top-attended erased",
                        _interval(erasure.attended),
                        "f(x) - f(x without the token); larger: the token mattered more",
                    ],
                    ["drop of log p(y), top-attributed erased", _interval(erasure.attributed), ""],
                    [
                        "attributed token hurts more",
                        _interval(erasure.attributed_wins),
                        "share of steps; above 0.5: attribution finds the used token more often",
                    ],
                    ["same token", _interval(erasure.same_token), "share of steps"],
                ],
            }
        )
        metrics = [
            ("sentences", len(sub), "spread over the source lengths"),
            (
                "TVD, uniform attention",
                uniform.tvd.mean if uniform else None,
                "total variation distance of the next-token distribution per step (0: no change)",
            ),
            (
                "greedy change rate, uniform attention",
                uniform.greedy_change.mean if uniform and uniform.greedy_change else None,
                "share of sentences whose greedy translation changes",
            ),
        ]
        return {
            "title": self.title,
            "description": (
                f"The attention of {ctx.sites[0]} replaced through capture edits, teacher-forced: "
                "how much does the output move? Means over target steps (greedy: over "
                "sentences) with 95% bootstrap intervals over sentences. Large changes mean the "
                "model uses its attention; the identity edit must give exactly 0."
            ),
            "metrics": [{"label": k, "value": _clean(v), "help": h} for k, v, h in metrics],
            "tables": [
                {
                    "title": "output change per attention edit: mean [95% interval]",
                    "columns": [
                        "edit",
                        "TVD",
                        "JSD (bits)",
                        "Δ log p(y)",
                        "argmax change",
                        "greedy change",
                    ],
                    "rows": rows,
                },
                *tables,
            ],
            "figures": ["faithfulness"],
            "data": {
                **f.to_dict(),
                "erasure": erasure.to_dict(),
                "erasure_sentences": len(self.erasure),
            },
        }

"""Step ``patterns``: the shape of the attention (reordering, fertility, coverage)."""

from __future__ import annotations

from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _clean,
    word_masks,
)


class PatternsAnalysis:
    """Attention patterns of the primary site (:mod:`attnprobe.analyses.patterns`).

    Computed at every offset while streaming; the summary uses the offset that
    the alignment step found best (it requires that step: the driver runs it first).
    """

    title = "Attention patterns"
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

    def finish(self, done: dict) -> dict:
        from attnprobe.analyses.patterns import corpus_patterns

        alignment, primary = done.get("alignment"), f"{self.ctx.sites[0]}/{self.ctx.methods[0]}"
        # the offset the alignment step found best (the first offset without gold)
        offset = alignment["best_offset"][primary] if alignment else self.ctx.offsets[0]
        found = self.found[offset]
        for rec, p in zip(self.ctx.sentences, found, strict=True):
            rec["tau"] = _clean(p.monotonicity.kendall_tau)
            rec["crossings"] = p.monotonicity.crossings
        c = corpus_patterns(found)
        rows = [
            ("mean entropy", c.mean_entropy, "nats per target step over real source words"),
            (
                "mean Kendall tau",
                c.mean_kendall_tau,
                "1: monotonic argmax links; lower: reordering",
            ),
            ("crossing link pairs", c.crossings, "pairs of argmax links that cross (reordering)"),
            ("sentences with crossings", c.sentences_with_crossings, ""),
            ("backward jumps", c.backward_jumps, "steps whose argmax moves back in the source"),
            ("longest backward jump", c.longest_backward, "in source words"),
            ("one-to-many source words", c.one_to_many, "argmax of two or more target steps"),
            (
                "many-to-one steps",
                c.many_to_one,
                "steps with two or more source words above the threshold",
            ),
            ("under-covered source words", c.under_rate, "share with total attention < 0.5"),
            ("over-covered source words", c.over_rate, "share with total attention > 1.5"),
            ("mass on special tokens", c.mean_special_mass, "mean attention on EOS per step"),
        ]
        return {
            "title": self.title,
            "description": f"Shape of the attention of {self.ctx.sites[0]} at offset {offset}.",
            "metrics": [{"label": k, "value": _clean(v), "help": h} for k, v, h in rows],
            "tables": [
                {
                    "title": "argmax jumps (source positions moved per step)",
                    "columns": ["jump", "steps"],
                    "rows": [[int(k), v] for k, v in c.jump_counts.items()],
                }
            ],
            "data": c.to_dict(),
        }

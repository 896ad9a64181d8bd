"""Step ``heads``: alignment quality of every cross-attention layer x head (Transformers).

Per batch it reads every head of every cross-attention site from the shared
teacher-forced pass (``CapturedBatch.weights``: no second run of the model);
each sentence's links are extracted at once
(:func:`attnprobe.analyses.heads.sentence_links`) under both schedules
(Naive-Att and Shift-Att), so only links are kept. ``finish`` scores them
against the gold and picks the best head and layer on the even-numbered
sentences (dev) and reports them on the odd-numbered ones (test): the number
shown was not chosen on the sentences it is measured on.
"""

from __future__ import annotations

from attnprobe.analyses.heads import SCHEDULES, score_links, select_head, sentence_links
from attnprobe.pipeline.common import AnalysisContext, CapturedBatch, skipped


class HeadsAnalysis:
    """AER per cross-attention layer x head, per layer and averaged; best head on dev."""

    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.links = {s: [None] * len(ctx.sentences) for s in SCHEDULES}

    def update(self, cb: CapturedBatch) -> None:
        import torch

        ctx, batch = self.ctx, cb.batch
        if ctx.gold is None or not ctx.sites:
            return
        w = torch.stack([cb.weights[k] for k in ctx.sites], 1)  # [B, L, H, T, S], every head
        for b, pos in enumerate(cb.positions):
            s, t = int(batch.src_lens[b]), int(batch.tgt_lens[b])
            a = w[b, :, :, :t, :s].double().numpy()  # [L, H, t, s]
            rec = cb.records[b]
            for schedule in SCHEDULES:
                self.links[schedule][pos] = sentence_links(
                    a, *batch.word_ids(b, s, t), rec["src_len"], rec["tgt_len"], schedule
                )

    def finish(self, done: dict) -> dict:
        """Per schedule: the table on all sentences and the dev/test choice (JSON data;
        worded by :func:`attnprobe.report.sections.heads_section`)."""
        ctx = self.ctx
        if ctx.gold is None:
            return skipped("no gold alignments to score the heads against")
        n = len(ctx.sentences)
        dev, test = list(range(0, n, 2)), list(range(1, n, 2)) or [0]
        out: dict = {"dev": len(dev), "test": len(test), "schedules": {}}
        for schedule in SCHEDULES:
            links = self.links[schedule]

            def table(rows, links=links, schedule=schedule):
                return score_links([links[k] for k in rows], [ctx.gold[k] for k in rows], schedule)

            choice = select_head(table(dev), table(test))
            out["schedules"][schedule] = {
                "all": table(range(n)).to_dict(),
                "choice": choice.to_dict(),
            }
        return out

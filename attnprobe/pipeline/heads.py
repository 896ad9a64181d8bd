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

#: sentences (the first ones of the corpus) whose every head the explorer can show;
#: every sentence keeps every layer's heads-averaged matrix
EXPLORER_HEAD_SENTENCES = 50


def _keep_for_explorer(sites, cb: CapturedBatch, w) -> None:
    """Word-level 8-bit matrices for the report's explorer: every site but the primary
    (whose matrix the record has already), heads averaged, into ``site_attention``; every
    head of every site into ``head_attention`` for the first sentences only (the size)."""
    from attnprobe.analyses.pooling import pool_words
    from attnprobe.report.quantized import quantize

    for b, pos in enumerate(cb.positions):
        rec = cb.records[b]
        rec["site_attention"] = {k: quantize(cb.attention[k][b]) for k in sites[1:]}
        if pos < EXPLORER_HEAD_SENTENCES:
            s, t = int(cb.batch.src_lens[b]), int(cb.batch.tgt_lens[b])
            ids = cb.batch.word_ids(b, s, t)
            a = w[b, :, :, :t, :s].double().numpy()  # [L, H, t, s]
            rec["head_attention"] = {
                k: [quantize(pool_words(head, *ids)) for head in a[layer]]
                for layer, k in enumerate(sites)
            }


class HeadsAnalysis:
    """AER per cross-attention layer x head, per layer and averaged; best head on dev."""

    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.links = {s: [None] * len(ctx.sentences) for s in SCHEDULES}

    def update(self, cb: CapturedBatch) -> None:
        import torch

        ctx, batch = self.ctx, cb.batch
        if not ctx.sites:
            return
        w = torch.stack([cb.weights[k] for k in ctx.sites], 1)  # [B, L, H, T, S], every head
        _keep_for_explorer(ctx.sites, cb, w)
        if ctx.gold is None:
            return
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

"""Step ``heads``: alignment quality of every cross-attention layer x head (Transformers).

Per batch it reads every head of every cross-attention site from the shared
teacher-forced pass (``CapturedBatch.weights``: no second run of the model);
each sentence's links are extracted at once
(:func:`attnprobe.analyses.heads.sentence_links`) under both schedules
(Naive-Att and Shift-Att) and counted against the gold at once (link counts
per head, per layer and for the average: statistics that add up over shards).
The best head and layer are picked on the even-numbered sentences (dev) and
reported on the odd-numbered ones (test): the number shown was not chosen on
the sentences it is measured on.
"""

from __future__ import annotations

import numpy as np

from attnprobe.alignment import score_alignments
from attnprobe.alignment.subwords import POOLING
from attnprobe.analyses.heads import SCHEDULES, HeadTable, select_head, sentence_links
from attnprobe.pipeline.alignment import link_counts, scores_of
from attnprobe.pipeline.common import AnalysisContext, CapturedBatch, skipped

#: sentences (the first ones of the corpus) whose every head the explorer can show;
#: every sentence keeps every layer's heads-averaged matrix
EXPLORER_HEAD_SENTENCES = 50


def _keep_for_explorer(sites, layers, cb: CapturedBatch, w) -> None:
    """Word-level 8-bit matrices for the report's explorer: every site but the primary
    ``sites[0]`` (whose matrix the record has already), heads averaged, into
    ``site_attention``; every head of every site (``w``'s ``layers``, in the model's
    order) into ``head_attention`` for the first sentences only (the size)."""
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
                for layer, k in enumerate(layers)
            }


def _counts(links, gold) -> dict:
    """Link counts of ``links`` (SentenceLinks) against ``gold``: heads, layers, average."""
    L, H = len(links[0].heads), len(links[0].heads[0]) if links[0].heads else 0

    def count(hyps):
        return link_counts(score_alignments(gold, list(hyps)))

    return {
        "heads": np.array(
            [[count(x.heads[l][h] for x in links) for h in range(H)] for l in range(L)], np.int64
        ).reshape(L, H, -1),
        "layers": np.array([count(x.layers[l] for x in links) for l in range(L)], np.int64),
        "average": count(x.average for x in links),
    }


def _table(c: dict, schedule: str, extraction: str = "argmax-target") -> HeadTable:
    """The :class:`HeadTable` of summed :func:`_counts` (as ``score_links`` scores them)."""

    def aer(counts) -> float:
        return float(scores_of(counts).aer)

    heads = np.array([[aer(x) for x in row] for row in c["heads"]]).reshape(c["heads"].shape[:2])
    signature = {
        "schedule": schedule,
        "pooling": dict(POOLING),
        "extraction": extraction,
        "aer": "micro-averaged over sentences",
    }
    layers = np.array([aer(x) for x in c["layers"]])
    n = int(c["average"][-1])
    return HeadTable(heads, layers, aer(c["average"]), schedule, n, signature)


class HeadsAnalysis:
    """AER per cross-attention layer x head, per layer and averaged; best head on dev."""

    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.counts: dict = {}  # schedule -> "dev" | "test" -> _counts

    def update(self, cb: CapturedBatch) -> None:
        import torch

        from attnprobe.runs.forward import cross_sites

        ctx, batch = self.ctx, cb.batch
        if not ctx.sites:
            return
        # layers in the model's order (ctx.sites has the primary site first)
        layers = [k for k in cross_sites(ctx.model) if k in ctx.sites]
        w = torch.stack([cb.weights[k] for k in layers], 1)  # [B, L, H, T, S], every head
        _keep_for_explorer(ctx.sites, layers, cb, w)
        if ctx.gold is None:
            return
        links = {s: {"dev": [], "test": []} for s in SCHEDULES}
        gold = {"dev": [], "test": []}
        for b, pos in enumerate(cb.positions):
            s, t = int(batch.src_lens[b]), int(batch.tgt_lens[b])
            a = w[b, :, :, :t, :s].double().numpy()  # [L, H, t, s]
            rec, part = cb.records[b], "test" if pos % 2 else "dev"
            gold[part].append(ctx.gold[pos])
            for schedule in SCHEDULES:
                links[schedule][part].append(
                    sentence_links(
                        a, *batch.word_ids(b, s, t), rec["src_len"], rec["tgt_len"], schedule
                    )
                )
        for schedule in SCHEDULES:
            for part, found in links[schedule].items():
                if found:
                    c = self.counts.setdefault(schedule, {})
                    new = _counts(found, gold[part])
                    c[part] = {k: c[part][k] + v for k, v in new.items()} if part in c else new

    def stats(self) -> dict:
        """This part's link counts per schedule, dev (even positions) and test (odd)."""
        return {"counts": self.counts}

    def finish(self, done: dict, stats: dict) -> dict:
        """Per schedule: the table on all sentences and the dev/test choice (JSON data;
        worded by :func:`attnprobe.report.sections.heads_section`)."""
        ctx = self.ctx
        if ctx.gold is None:
            return skipped("no gold alignments to score the heads against")
        n = ctx.sentences
        out: dict = {"dev": len(range(0, n, 2)), "test": len(range(1, n, 2)) or 1, "schedules": {}}
        for schedule in SCHEDULES:
            c = stats["counts"][schedule]
            test = c.get("test", c["dev"])  # one sentence: it is dev and test
            every = {k: c["dev"][k] + c["test"][k] for k in c["dev"]} if "test" in c else c["dev"]
            choice = select_head(_table(c["dev"], schedule), _table(test, schedule))
            out["schedules"][schedule] = {
                "all": _table(every, schedule).to_dict(),
                "choice": choice.to_dict(),
            }
        return out

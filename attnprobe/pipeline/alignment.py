"""Step ``alignment``: extract alignments per site x method x offset, score them."""

from __future__ import annotations

from attnprobe.alignment import score_alignments
from attnprobe.analyses.extraction import diagonal_alignment, extract_alignment
from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _clean,
    _score_dict,
    word_masks,
)


class AlignmentAnalysis:
    """Extract alignments per site x method x offset; score them against the gold."""

    title = "Alignment"
    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.combos = [(s, m, o) for s in ctx.sites for m in ctx.methods for o in ctx.offsets]
        self.hyp = {c: [None] * len(ctx.sentences) for c in self.combos}

    def update(self, cb: CapturedBatch) -> None:
        for b, pos in enumerate(cb.positions):
            rec = cb.records[b]
            masks = word_masks(rec["src_len"], rec["tgt_len"])
            for site, method, offset in self.combos:
                self.hyp[site, method, offset][pos] = extract_alignment(
                    cb.attention[site][b], method, offset=offset, **masks
                )

    def finish(self, done: dict) -> dict:
        ctx = self.ctx
        rows, best = [], {}
        for site in ctx.sites:
            for method in ctx.methods:
                scored = {}
                if ctx.gold is not None:
                    for o in ctx.offsets:
                        scored[o] = score_alignments(list(ctx.gold), self.hyp[site, method, o])
                    offset = min(ctx.offsets, key=lambda o: (scored[o].aer, abs(o)))
                else:
                    offset = ctx.offsets[0]
                best[f"{site}/{method}"] = offset
                for o, sc in scored.items():
                    rows.append(
                        {
                            "site": site,
                            "method": method,
                            "offset": o,
                            "best": o == offset,
                            **_score_dict(sc),
                        }
                    )
                for pos, rec in enumerate(ctx.sentences):
                    a = self.hyp[site, method, offset][pos]
                    rec.setdefault("links", {})[f"{site}/{method}"] = sorted(map(list, a.sure))
                if ctx.gold is not None and (site, method) == (ctx.sites[0], ctx.methods[0]):
                    per = scored[offset].per_sentence()
                    for k, rec in enumerate(ctx.sentences):
                        rec["aer"] = _clean(per.aer[k])
                        rec["precision"] = _clean(per.precision[k])
                        rec["recall"] = _clean(per.recall[k])
        out = {"scores": rows, "best_offset": best, "keys": list(best)}
        if ctx.gold is not None:  # the word-blind baseline attention's AER is read against
            diagonal = [diagonal_alignment(r["src_len"], r["tgt_len"]) for r in ctx.sentences]
            out["diagonal"] = _score_dict(score_alignments(list(ctx.gold), diagonal))
        return out

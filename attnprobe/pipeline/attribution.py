"""Step ``attribution``: attention vs gradient attribution."""

from __future__ import annotations

import numpy as np

from attnprobe.alignment import score_alignments
from attnprobe.analyses.extraction import extract_alignment
from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _clean,
    word_masks,
)

#: attribution methods ``analyze`` runs by default: one shared forward and one backward per
#: target step each (Integrated Gradients with 50 points costs about 30 times more: ask for it)
DEFAULT_ATTRIBUTION = ("saliency", "input_x_gradient")


class AttributionAnalysis:
    """Attention vs gradient attribution (:mod:`attnprobe.runs.attribution`, issue 5).

    Per batch, each method of ``AnalysisContext.attribution`` attributes every
    target step's log-probability to the source tokens
    (:func:`attnprobe.runs.attribution.attribute_batch`, the same batches as the
    forward pass); :mod:`attnprobe.analyses.agreement` compares the rows with
    the attention of every cross-attention site (Kendall tau, Spearman rho,
    JSD, top-1, top-3), and alignments are extracted from ``|attribution|``
    with the first extraction method, scored against the gold beside the
    attention's (same extraction, same gold). Keeps per sentence only the
    per-step agreement numbers, the extracted links and an 8-bit copy of each
    matrix (rows scaled to their largest ``|value|``) for the explorer.
    """

    title = "Attention vs attribution"
    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.methods = tuple(ctx.attribution) or DEFAULT_ATTRIBUTION
        self.extraction = ctx.methods[0]
        n = len(ctx.sentences)
        self.agree = {(s, m): [None] * n for s in ctx.sites for m in self.methods}
        sources = [*self.methods, *(["attention"] if ctx.sites else [])]
        self.hyp = {(src, o): [None] * n for src in sources for o in ctx.offsets}
        self.seconds = dict.fromkeys(self.methods, 0.0)
        self.max_delta: float | None = None
        self.gaps = [0.0, 0.0]  # IG: sum |delta|, sum |f(x) - f(x')|

    def update(self, cb: CapturedBatch) -> None:
        import time

        from attnprobe.analyses.agreement import agreement
        from attnprobe.results import quantize
        from attnprobe.runs.attribution import attribute_batch

        ctx = self.ctx
        for b, pos in enumerate(cb.positions):
            if ctx.sites:
                rec = cb.records[b]
                masks = word_masks(rec["src_len"], rec["tgt_len"])
                for o in ctx.offsets:
                    self.hyp["attention", o][pos] = extract_alignment(
                        cb.attention[ctx.sites[0]][b], self.extraction, offset=o, **masks
                    )
        for method in self.methods:
            start = time.perf_counter()
            mats, delta, _, gain = attribute_batch(ctx.model, cb.batch, method)
            self.seconds[method] += time.perf_counter() - start
            if delta is not None:
                worst = max(float(np.abs(d).max()) for d in delta)
                self.max_delta = max(worst, self.max_delta or 0.0)
                self.gaps[0] += sum(float(np.abs(d).sum()) for d in delta)
                self.gaps[1] += sum(float(np.abs(g).sum()) for g in gain)
            for b, pos in enumerate(cb.positions):
                rec, m = cb.records[b], np.asarray(mats[b], np.float64)  # [T, S]
                size = np.abs(m)
                masks = word_masks(rec["src_len"], rec["tgt_len"])
                for o in ctx.offsets:
                    self.hyp[method, o][pos] = extract_alignment(
                        size, self.extraction, offset=o, **masks
                    )
                for site in ctx.sites:
                    self.agree[site, method][pos] = agreement(
                        [cb.attention[site][b]], [m], site=site, method=method
                    )
                peak = size.max(1, keepdims=True)
                rec.setdefault("attribution", {})[method] = quantize(
                    size / np.where(peak > 0, peak, 1.0)
                )
                if ctx.sites and method == self.methods[0]:
                    tau = self.agree[ctx.sites[0], method][pos].tau
                    rec["attr_tau"] = _clean(np.nanmean(tau)) if np.isfinite(tau).any() else None

    def finish(self, done: dict) -> dict:
        from attnprobe.analyses.agreement import Agreement

        ctx = self.ctx
        n = len(ctx.sentences)
        agreements = {k: Agreement.concat(v, *k) for k, v in self.agree.items()}
        table = [
            [
                site,
                method,
                *(_clean(s[x]) for x in ("tau", "rho", "jsd", "top1", "topk")),
                s["steps"],
            ]
            for (site, method), a in agreements.items()
            for s in [a.summary()]
        ]
        aer_rows, best, files = [], {}, {}
        for src in [*(["attention"] if ctx.sites else []), *self.methods]:
            scored = {}
            if ctx.gold is not None:
                scored = {
                    o: score_alignments(list(ctx.gold), self.hyp[src, o]) for o in ctx.offsets
                }
                offset = min(ctx.offsets, key=lambda o: (scored[o].aer, abs(o)))
            else:
                offset = 0 if 0 in ctx.offsets else ctx.offsets[0]
            best[src] = offset
            if scored:
                label = f"attention ({ctx.sites[0]})" if src == "attention" else src
                aer_rows.append(
                    [label, self.extraction]
                    + [_clean(scored[o].aer) for o in ctx.offsets]
                    + [offset, _clean(scored[offset].precision), _clean(scored[offset].recall)]
                )
            if src != "attention":
                key = f"attribution.{src}/{self.extraction}"
                files[f"attribution.{src}.{self.extraction}.txt"] = key
                for rec, a in zip(ctx.sentences, self.hyp[src, offset], strict=True):
                    rec.setdefault("links", {})[key] = sorted(map(list, a.sure))
        first = (ctx.sites[0], self.methods[0]) if ctx.sites else None
        rows = []
        if first:
            s = agreements[first].summary()
            rows += [
                (
                    f"mean Kendall tau ({first[1]})",
                    s["tau"],
                    "attention vs attribution ranks per "
                    "step: 1 same order, 0 unrelated, -1 reversed",
                ),
                (
                    f"mean JSD ({first[1]})",
                    s["jsd"],
                    "bits between the normalised rows: 0 identical, 1 disjoint",
                ),
                (
                    f"top-1 agreement ({first[1]})",
                    s["top1"],
                    "share of steps whose most attended and most attributed source token coincide",
                ),
            ]
        rows += [
            (f"sentences/s ({m})", n / sec if sec > 0 else None, "attribution speed in this run")
            for m, sec in self.seconds.items()
        ]
        relative = self.gaps[0] / self.gaps[1] if self.gaps[1] > 0 else None
        if self.max_delta is not None:
            rows += [
                (
                    "IG completeness gap, max",
                    self.max_delta,
                    "|sum(attr) - (f(x) - f(x'))| of one step; large: raise n_steps",
                ),
                (
                    "IG completeness gaps, relative",
                    relative,
                    "all |gaps| over all |f(x) - f(x')|: how far off the 50-point integral "
                    "is; large on long sentences of recurrent models (docs/attribution.md)",
                ),
            ]
        tables = [
            {
                "title": "agreement per step (means over all target steps)",
                "columns": ["site", "method", "tau", "rho", "JSD", "top-1", "top-3", "steps"],
                "rows": table,
            }
        ]
        if aer_rows:
            tables.append(
                {
                    "title": "AER of attention vs attribution alignments (same gold, same "
                    "extraction)",
                    "columns": ["source", "extraction"]
                    + [f"AER@{o}" for o in ctx.offsets]
                    + ["best offset", "precision", "recall"],
                    "rows": aer_rows,
                }
            )
        return {
            "title": self.title,
            "description": (
                "Does attention agree with what gradient attribution says the model used? "
                "Each method attributes the log-probability of every target word to the source "
                "tokens (absolute values compared); tau and JSD compare each attention row with "
                "the attribution row of the same step, AER scores the alignments extracted from "
                "both against the same gold. The explorer's 'tau attr' column is the mean tau of "
                f"the sentence ({self.methods[0]})."
            ),
            "metrics": [{"label": k, "value": _clean(v), "help": h} for k, v, h in rows],
            "tables": tables,
            "figures": ["tau_distribution"],
            "alignment_files": files,
            "data": {
                "methods": list(self.methods),
                "extraction": self.extraction,
                "agreement": {
                    f"{s}/{m}": {k: _clean(v) for k, v in a.summary().items()}
                    for (s, m), a in agreements.items()
                },
                "aer": {
                    src: {str(o): row[2 + k] for k, o in enumerate(ctx.offsets)}
                    for src, row in zip(
                        [*(["attention"] if ctx.sites else []), *self.methods],
                        aer_rows,
                        strict=False,
                    )
                },
                "best_offset": best,
                "tau": {
                    m: [None if x != x else round(float(x), 4) for x in a.tau]
                    for (s, m), a in agreements.items()
                    if s == ctx.sites[0]
                },
                "seconds": self.seconds,
                "max_delta": self.max_delta,
                "relative_delta": relative,
            },
        }

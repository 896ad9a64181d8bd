"""Step ``attribution``: attention vs gradient attribution."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from attnprobe.alignment import score_alignments
from attnprobe.analyses.extraction import extract_alignment
from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _clean,
    row_words,
    word_masks,
)

#: attribution methods ``analyze`` runs by default: one shared forward and one backward per
#: target step each (Integrated Gradients with 50 points costs about 20 times more: ask for it)
DEFAULT_ATTRIBUTION = ("saliency", "input_x_gradient")


@dataclass(frozen=True)
class AttributionResult:
    """What the ``attribution`` step found (numbers only; the report words them).

    ``agreement`` maps ``"site/method"`` to the corpus means of
    :meth:`attnprobe.analyses.agreement.Agreement.summary`; ``aer`` maps each
    alignment source (``"attention"`` of ``site``, then each method) to its AER
    per offset (``str(offset)`` keys; empty without gold), ``precision`` and
    ``recall`` to its scores at its ``best_offset``; ``tau`` holds the per-step
    Kendall tau of each method on ``site``; ``seconds`` the attribution time of all
    methods together over ``sentences`` sentences (one call shares their gradients;
    key: the methods joined by " + "); ``max_delta`` and ``relative_delta``
    the Integrated Gradients completeness gaps (None without IG);
    ``alignment_files`` maps the Pharaoh file names to the sentences' links keys.
    """

    methods: list[str]
    extraction: str  # the extraction method of every alignment compared
    site: str | None  # the primary cross-attention site (None: the model has none)
    offsets: list[int]
    sentences: int
    agreement: dict[str, dict]
    aer: dict[str, dict[str, float | None]]
    precision: dict[str, float | None]
    recall: dict[str, float | None]
    best_offset: dict[str, int]
    tau: dict[str, list[float | None]]
    seconds: dict[str, float]
    max_delta: float | None
    relative_delta: float | None
    alignment_files: dict[str, str]

    def to_dict(self) -> dict:
        """Plain JSON-able data."""
        return asdict(self)


class AttributionAnalysis:
    """Attention vs gradient attribution (:mod:`attnprobe.runs.attribution`, issue 5).

    Per batch, each method of ``AnalysisContext.attribution`` attributes every
    target step's log-probability to the source tokens
    (:func:`attnprobe.runs.attribution.attribute_methods`, the same batches as the
    forward pass); :mod:`attnprobe.analyses.agreement` compares the rows with
    the attention of every cross-attention site (Kendall tau, Spearman rho,
    JSD, top-1, top-3), and alignments are extracted from ``|attribution|``
    with the first extraction method, scored against the gold beside the
    attention's (same extraction, same gold). Keeps per sentence only the
    per-step agreement numbers, the extracted links and an 8-bit copy of each
    matrix (rows scaled to their largest ``|value|``) for the explorer.
    """

    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.methods = tuple(ctx.attribution) or DEFAULT_ATTRIBUTION
        self.extraction = ctx.methods[0]
        n = len(ctx.sentences)
        self.agree = {(s, m): [None] * n for s in ctx.sites for m in self.methods}
        sources = [*self.methods, *(["attention"] if ctx.sites else [])]
        self.hyp = {(src, o): [None] * n for src in sources for o in ctx.offsets}
        self.timed = " + ".join(self.methods)  # timed together: they share one sweep
        self.seconds = {self.timed: 0.0}
        self.max_delta: float | None = None
        self.gaps = [0.0, 0.0]  # IG: sum |delta|, sum |f(x) - f(x')|

    def update(self, cb: CapturedBatch) -> None:
        import time

        from attnprobe.analyses.agreement import agreement
        from attnprobe.results import quantize
        from attnprobe.runs.attribution import attribute_methods

        ctx = self.ctx
        for b, pos in enumerate(cb.positions):
            if ctx.sites:
                rec = cb.records[b]
                masks = word_masks(rec["src_len"], rec["tgt_len"])
                for o in ctx.offsets:
                    self.hyp["attention", o][pos] = extract_alignment(
                        cb.attention[ctx.sites[0]][b], self.extraction, offset=o, **masks
                    )
        start = time.perf_counter()  # one call: the methods share their gradients
        results = attribute_methods(ctx.model, cb.batch, self.methods)
        self.seconds[self.timed] += time.perf_counter() - start
        for method in self.methods:
            mats, delta, _, gain = results[method]
            if delta is not None:
                worst = max(float(np.abs(d).max()) for d in delta)
                self.max_delta = max(worst, self.max_delta or 0.0)
                self.gaps[0] += sum(float(np.abs(d).sum()) for d in delta)
                self.gaps[1] += sum(float(np.abs(g).sum()) for g in gain)
            for b, pos in enumerate(cb.positions):
                rec, m = cb.records[b], row_words(mats[b], cb.batch, b)  # [T, S] words
                ctx.attribution_cache.offer(method, pos, m)  # faithfulness's erasure reads it
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

    def finish(self, done: dict) -> AttributionResult:
        from attnprobe.analyses.agreement import Agreement

        ctx = self.ctx
        agreements = {k: Agreement.concat(v, *k) for k, v in self.agree.items()}
        aer, precision, recall, best, files = {}, {}, {}, {}, {}
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
                aer[src] = {str(o): _clean(scored[o].aer) for o in ctx.offsets}
                precision[src] = _clean(scored[offset].precision)
                recall[src] = _clean(scored[offset].recall)
            if src != "attention":
                key = f"attribution.{src}/{self.extraction}"
                files[f"attribution.{src}.{self.extraction}.txt"] = key
                for rec, a in zip(ctx.sentences, self.hyp[src, offset], strict=True):
                    rec.setdefault("links", {})[key] = sorted(map(list, a.sure))
        return AttributionResult(
            methods=list(self.methods),
            extraction=self.extraction,
            site=ctx.sites[0] if ctx.sites else None,
            offsets=list(ctx.offsets),
            sentences=len(ctx.sentences),
            agreement={
                f"{s}/{m}": {k: _clean(v) for k, v in a.summary().items()}
                for (s, m), a in agreements.items()
            },
            aer=aer,
            precision=precision,
            recall=recall,
            best_offset=best,
            tau={
                m: [None if x != x else round(float(x), 4) for x in a.tau]
                for (s, m), a in agreements.items()
                if s == ctx.sites[0]
            },
            seconds=dict(self.seconds),
            max_delta=self.max_delta,
            relative_delta=self.gaps[0] / self.gaps[1] if self.gaps[1] > 0 else None,
            alignment_files=files,
        )

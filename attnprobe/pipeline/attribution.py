"""Step ``attribution``: attention vs gradient attribution."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from attnprobe.alignment import score_alignments
from attnprobe.analyses.extraction import extract_alignment
from attnprobe.pipeline.alignment import link_counts, scores_of
from attnprobe.pipeline.common import (
    AnalysisContext,
    CapturedBatch,
    _clean,
    choose_later,
    row_words,
    word_masks,
)
from attnprobe.pipeline.scale.stats import Max, Rows

#: attribution methods ``analyze`` runs by default: one shared forward and one backward per
#: target step each (Integrated Gradients with 50 points costs about 10 times more: ask for it)
DEFAULT_ATTRIBUTION = ("saliency", "input_x_gradient")

#: the k of the agreement's top-k overlap
TOP_K = 3


@dataclass(frozen=True)
class AttributionResult:
    """What the ``attribution`` step found (numbers only; the report words them).

    ``agreement`` maps ``"site/method"`` to the corpus means of
    :meth:`attnprobe.analyses.agreement.AgreementTotals.summary`, ``agreement_intervals``
    to each mean's 95% bootstrap interval over sentences
    (:meth:`~attnprobe.analyses.agreement.AgreementTotals.intervals`: 1,000 resamples,
    seed 0); ``aer`` maps each alignment source (``"attention"`` of ``site``, then
    each method) to its AER per offset (``str(offset)`` keys; empty without gold), ``precision`` and
    ``recall`` to its scores at its ``best_offset``; ``tau`` holds the distribution
    of the per-step Kendall tau of each method on ``site`` (:func:`tau_histogram`:
    a fixed size, whatever the corpus; the per-sentence means are the records'
    ``attr_tau``); ``seconds`` the attribution time of all
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
    agreement_intervals: dict[str, dict]
    aer: dict[str, dict[str, float | None]]
    precision: dict[str, float | None]
    recall: dict[str, float | None]
    best_offset: dict[str, int]
    tau: dict[str, dict]
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
    attention's (same extraction, same gold). A sentence's record keeps its
    mean tau, the extracted links and an 8-bit copy of each matrix (rows
    scaled to their largest ``|value|``) for the explorer; the statistics keep
    12 numbers a sentence per site and method (its position and the sums of
    :class:`~attnprobe.analyses.agreement.AgreementTotals`) and a fixed-size
    histogram of Kendall tau, whatever the sentences' lengths.
    """

    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx
        self.methods = tuple(ctx.attribution) or DEFAULT_ATTRIBUTION
        self.extraction = ctx.methods[0]
        self.sources = [*(["attention"] if ctx.sites else []), *self.methods]
        self.timed = " + ".join(self.methods)  # timed together: they share one sweep
        # statistics (see stats()): per-sentence agreement sums, link counts, timings
        self.agree: dict = {}  # site -> method -> rows [position, AgreementTotals sums]
        self.tau_bins = {m: np.zeros(TAU_BINS, np.int64) for m in self.methods}
        self.counts: dict = {}  # source -> str(offset) -> link counts
        self.seconds = {self.timed: 0.0}
        self.max_delta = Max(None)
        self.gaps = np.zeros(2)  # IG: sum |delta|, sum |f(x) - f(x')|
        self.choices: dict[str, int] = {}

    def _links(self, cb: CapturedBatch, source: str, matrices) -> None:
        """Extract ``source``'s links at every offset; count them; keep them per sentence."""
        ctx = self.ctx
        gold = None if ctx.gold is None else [ctx.gold[p] for p in cb.positions]
        masks = [word_masks(r["src_len"], r["tgt_len"]) for r in cb.records]
        for o in ctx.offsets:
            hyp = [
                extract_alignment(m, self.extraction, offset=o, **mask)
                for m, mask in zip(matrices, masks, strict=True)
            ]
            if gold is not None:
                per = self.counts.setdefault(source, {})
                per[str(o)] = per.get(str(o), 0) + link_counts(score_alignments(gold, hyp))
            if source != "attention":
                key = f"attribution.{source}/{self.extraction}"
                for rec, a in zip(cb.records, hyp, strict=True):
                    fields = {"links": {key: sorted(map(list, a.sure))}}
                    choose_later(rec, f"attribution {source}", o, fields)

    def update(self, cb: CapturedBatch) -> None:
        import time

        from attnprobe.analyses.agreement import agreement
        from attnprobe.results import quantize
        from attnprobe.runs.attribution import attribute_methods

        ctx = self.ctx
        if ctx.sites:
            self._links(cb, "attention", cb.attention[ctx.sites[0]])
        start = time.perf_counter()  # one call: the methods share their gradients
        results = attribute_methods(ctx.model, cb.batch, self.methods)
        self.seconds[self.timed] += time.perf_counter() - start
        for method in self.methods:
            mats, delta, _, gain = results[method]
            if delta is not None:
                worst = max(float(np.abs(d).max()) for d in delta)
                self.max_delta = self.max_delta + Max(worst)
                self.gaps[0] += sum(float(np.abs(d).sum()) for d in delta)
                self.gaps[1] += sum(float(np.abs(g).sum()) for g in gain)
            words = [row_words(mats[b], cb.batch, b) for b in range(len(cb.records))]  # [T, S]
            self._links(cb, method, [np.abs(m) for m in words])
            for b, pos in enumerate(cb.positions):
                rec, m = cb.records[b], words[b]
                ctx.attribution_cache.offer(method, pos, m)  # faithfulness's erasure reads it
                size = np.abs(m)
                for site in ctx.sites:
                    a = agreement([cb.attention[site][b]], [m], k=TOP_K, site=site, method=method)
                    found = self.agree.setdefault(site, {}).setdefault(method, [])
                    found.append(np.concatenate([[pos], a.totals().sums[0]]))
                    if site == ctx.sites[0]:
                        self.tau_bins[method] += tau_bins(a.tau)
                        if method == self.methods[0]:
                            tau = a.tau
                            rec["attr_tau"] = (
                                _clean(np.nanmean(tau)) if np.isfinite(tau).any() else None
                            )
                peak = size.max(1, keepdims=True)
                rec.setdefault("attribution", {})[method] = quantize(
                    size / np.where(peak > 0, peak, 1.0)
                )

    def stats(self) -> dict:
        """This part's agreement sums (a row per sentence: its position, then its
        :class:`~attnprobe.analyses.agreement.AgreementTotals` sums), Kendall tau
        histogram, link counts, timings and IG gaps."""
        return {
            "agree": {
                site: {m: Rows(np.stack(rows)) for m, rows in by_method.items()}
                for site, by_method in self.agree.items()
            },
            "tau_bins": self.tau_bins,
            "counts": self.counts,
            "seconds": dict(self.seconds),
            "max_delta": self.max_delta,
            "gaps": self.gaps,
        }

    def _agreements(self, stats: dict) -> dict:
        """``(site, method)`` -> the corpus :class:`AgreementTotals`, sentences in corpus order."""
        from attnprobe.analyses.agreement import AgreementTotals

        out = {}
        for site in self.ctx.sites:
            for method in self.methods:
                rows = stats["agree"][site][method].array
                rows = rows[np.argsort(rows[:, 0], kind="stable")]
                out[site, method] = AgreementTotals(site, method, TOP_K, rows[:, 1:])
        return out

    def finish(self, done: dict, stats: dict) -> AttributionResult:
        ctx = self.ctx
        agreements = self._agreements(stats)
        aer, precision, recall, best, files = {}, {}, {}, {}, {}
        for src in self.sources:
            scored = {}
            if ctx.gold is not None:
                scored = {o: scores_of(stats["counts"][src][str(o)]) for o in ctx.offsets}
                offset = min(ctx.offsets, key=lambda o: (scored[o].aer, abs(o)))
            else:
                offset = 0 if 0 in ctx.offsets else ctx.offsets[0]
            best[src] = offset
            if scored:
                aer[src] = {str(o): _clean(scored[o].aer) for o in ctx.offsets}
                precision[src] = _clean(scored[offset].precision)
                recall[src] = _clean(scored[offset].recall)
            if src != "attention":
                files[f"attribution.{src}.{self.extraction}.txt"] = (
                    f"attribution.{src}/{self.extraction}"
                )
                self.choices[f"attribution {src}"] = offset
        gaps = stats["gaps"]
        return AttributionResult(
            methods=list(self.methods),
            extraction=self.extraction,
            site=ctx.sites[0] if ctx.sites else None,
            offsets=list(ctx.offsets),
            sentences=ctx.sentences,
            agreement={
                f"{s}/{m}": {k: _clean(v) for k, v in a.summary().items()}
                for (s, m), a in agreements.items()
            },
            agreement_intervals={
                f"{s}/{m}": {
                    name: {k: _clean(v) for k, v in iv.items()}
                    for name, iv in a.intervals().items()
                }
                for (s, m), a in agreements.items()
            },
            aer=aer,
            precision=precision,
            recall=recall,
            best_offset=best,
            tau={
                m: tau_histogram(stats["tau_bins"][m], a.summary()["tau"], a.sums)
                for (s, m), a in agreements.items()
                if s == ctx.sites[0]
            },
            seconds=dict(stats["seconds"]),
            max_delta=stats["max_delta"].value,
            relative_delta=float(gaps[0] / gaps[1]) if gaps[1] > 0 else None,
            alignment_files=files,
        )


#: bins of the per-step Kendall tau distribution in ``metrics.json`` (over [-1, 1])
TAU_BINS = 20


def tau_bins(tau) -> np.ndarray:
    """How many of the per-step Kendall tau values fall in each of :data:`TAU_BINS` equal
    bins over [-1, 1] (the last one closed; ``nan`` left out): counts that add up over
    sentences.

    Examples
    --------
    >>> b = tau_bins([1.0, 0.55, -1.0, float("nan")])
    >>> int(b[0]), int(b[15]), int(b[-1]), int(b.sum())
    (1, 1, 1, 3)
    """
    tau = np.asarray(tau, dtype=float)
    ok = tau[np.isfinite(tau)]
    edges = np.linspace(-1.0, 1.0, TAU_BINS + 1)
    return np.histogram(np.clip(ok, -1.0, 1.0), bins=edges)[0].astype(np.int64)


def tau_histogram(bins, mean: float, sums: np.ndarray) -> dict:
    """The distribution of per-step Kendall tau values in ``metrics.json``: the counts of
    :func:`tau_bins` with their edges, the mean, and how many steps have no tau (``nan``:
    all steps of the per-sentence ``sums`` of
    :class:`~attnprobe.analyses.agreement.AgreementTotals` less those with a tau).

    Its size does not depend on the number of steps.

    Examples
    --------
    >>> tau = [1.0, 0.55, -1.0, float("nan")]  # one sentence of four steps, three with a tau
    >>> sums = np.array([[4.0, 0.55, 0, 0, 0, 0, 3, 0, 0, 0, 0]])
    >>> h = tau_histogram(tau_bins(tau), 0.55 / 3, sums)
    >>> h["counts"][0], h["counts"][15], h["counts"][-1], sum(h["counts"]), h["undefined"]
    (1, 1, 1, 3, 1)
    >>> h["mean"]  # (1 + 0.55 - 1) / 3
    0.1833
    >>> h["edges"][:3], len(h["edges"])
    ([-1.0, -0.9, -0.8], 21)
    """
    bins = np.asarray(bins, np.int64)
    defined = int(bins.sum())
    steps = int(sums[:, 0].sum()) if len(sums) else 0
    return {
        "edges": [round(float(e), 6) for e in np.linspace(-1.0, 1.0, TAU_BINS + 1)],
        "counts": bins.tolist(),
        "mean": round(float(mean), 4) if defined else None,
        "undefined": steps - defined,
    }

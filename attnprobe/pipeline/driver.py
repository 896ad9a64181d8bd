"""Compose the pieces: model + corpus (+ gold) -> results (``analyze``).

Only this module, :mod:`attnprobe.pipeline.comparison` and the CLI on top of them see
models, data and analyses together. The model runs in :mod:`attnprobe.runs.evaluate`;
every summary is a pure function from :mod:`attnprobe.analyses` and :mod:`attnprobe.alignment`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from attnprobe.alignment import Alignment, score_alignments
from attnprobe.analyses.bottleneck import quality_by_length
from attnprobe.analyses.extraction import extract_alignment
from attnprobe.analyses.gradflow import gradient_profile
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "OFFSETS",
    "default_corpus",
    "attention_aer",
    "analyze",
    "ANALYSES",
    "DEFAULT_ANALYSES",
    "DEFAULT_METHODS",
    "AnalysisContext",
    "CapturedBatch",
    "DEFAULT_ATTRIBUTION",
]

#: target offsets tried when scoring attention against gold (see DESIGN.md, Offsets)
OFFSETS = (0, -1)
#: distances (|target step - source position|) summarised as "near" and "far" gradient
NEAR, FAR = (0, 2), (20, None)


def default_corpus(model) -> tuple[ParallelCorpus, list[Alignment] | None]:
    """The corpus a checkpoint names as its own: a toy pair's test split with gold.

    Examples
    --------
    >>> class M: meta = {"data": {"toy": "enfr"}}
    >>> corpus, gold = default_corpus(M())
    >>> len(corpus) == len(gold) >= 1000
    True
    """
    data = (getattr(model, "meta", None) or {}).get("data") or {}
    if "toy" not in data:
        raise InputError(
            "the model names no built-in test data",
            fix="give a corpus (Python: corpus=...; CLI: --src/--tgt or --bitext)",
        )
    from attnprobe.data.toy import split_corpus

    return split_corpus(data["toy"], "test")


def word_masks(src_len: int, tgt_len: int) -> dict:
    """Masks that drop the source EOS column and the target EOS position.

    A teacher-forced attention matrix is ``[tgt_len + 1, src_len + 1]``: the
    last row is the step that predicts EOS, the last column the source EOS.

    Examples
    --------
    >>> {k: v.tolist() for k, v in word_masks(2, 1).items()}
    {'src_mask': [True, True, False], 'tgt_mask': [True, False]}
    """
    src = np.ones(src_len + 1, bool)
    src[-1] = False
    tgt = np.ones(tgt_len + 1, bool)
    tgt[-1] = False
    return {"src_mask": src, "tgt_mask": tgt}


def attention_aer(
    attentions: Sequence[np.ndarray],
    gold: Sequence[Alignment],
    offsets=OFFSETS,
    method: str = "argmax-target",
) -> dict[int, float]:
    """AER of the alignment that ``method`` extracts from the attention, per offset.

    ``attentions`` are teacher-forced ``[T, S]`` matrices (EOS row and column
    included, as :func:`attnprobe.runs.evaluate.run_corpus` returns them); ``method``
    is a key of :data:`attnprobe.analyses.extraction.EXTRACTORS` (default: the
    one-to-one argmax, one link per target word).

    Examples
    --------
    >>> att = [np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])]
    >>> gold = [Alignment.from_links([(0, 1), (1, 0)], src_len=2, tgt_len=2)]
    >>> attention_aer(att, gold)   # offset 0 gives exactly the crossing gold links
    {0: 0.0, -1: 1.0}
    >>> attention_aer(att, gold, offsets=(0,), method="argmax-source")
    {0: 0.0}
    """
    out = {}
    for offset in offsets:
        hyp = [
            extract_alignment(
                a, method, offset=offset, **word_masks(a.shape[1] - 1, a.shape[0] - 1)
            )
            for a in attentions
        ]
        out[offset] = float(score_alignments(list(gold), hyp).aer)
    return out


# ============================================================== analyze
#
# One streaming pass over the corpus: each batch runs the model once inside
# capture() (teacher forcing), and every requested analysis sees the batch
# through ``update`` and summarises in ``finish``. Only compact per-sentence data
# is kept (numbers, links, 8-bit attention of the primary site), so memory grows
# by a few kilobytes per sentence, never by full traces.

#: extraction methods scored by default (all: attnprobe.analyses.extraction.EXTRACTORS)
DEFAULT_METHODS = ("argmax-target", "argmax-source", "intersection", "itermax")

#: share of unknown tokens above which the corpus is probably not the model's language
UNK_WARNING = 0.5

log = logging.getLogger("attnprobe")


@dataclass
class AnalysisContext:
    """What every analysis may read: the model, the data and the run's options."""

    model: object
    corpus: ParallelCorpus
    gold: Sequence[Alignment] | None
    sites: list[str]  # cross-attention site keys, capture order
    methods: tuple[str, ...]
    offsets: tuple[int, ...]
    seed: int
    batch_size: int
    sentences: list[dict]  # the per-sentence records, in corpus order (filled while streaming)
    primary_offset: int | None = None  # best offset of the first site and method (set by alignment)
    attribution: tuple[str, ...] = ()  # attribution methods (attnprobe.runs.attribution.METHODS)


@dataclass
class CapturedBatch:
    """One batch after its forward pass: tokens, attention per site, records to fill.

    ``attention[site][b]`` is sentence b's ``[T, S]`` float64 matrix (heads
    averaged; T = target words + 1, S = source words + 1); ``records[b]`` is its
    per-sentence dict, where analyses add their numbers.
    """

    positions: list[int]  # indices into AnalysisContext.sentences
    batch: object  # the attnprobe.data.Batch (tensors), for analyses that run the model
    attention: dict[str, list[np.ndarray]]
    records: list[dict]


class AlignmentAnalysis:
    """Extract alignments per site x method x offset; score them against the gold."""

    title = "Alignment"

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

    def finish(self) -> dict:
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
                if (site, method) == (ctx.sites[0], ctx.methods[0]):
                    ctx.primary_offset = offset
                if ctx.gold is not None and (site, method) == (ctx.sites[0], ctx.methods[0]):
                    per = scored[offset].per_sentence()
                    for k, rec in enumerate(ctx.sentences):
                        rec["aer"] = _clean(per.aer[k])
                        rec["precision"] = _clean(per.precision[k])
                        rec["recall"] = _clean(per.recall[k])
        return {"scores": rows, "best_offset": best, "keys": list(best)}


def _clean(x) -> float | int | None:
    if isinstance(x, int | np.integer):
        return int(x)
    x = float(x)
    return None if np.isnan(x) else round(x, 6)


def _score_dict(sc) -> dict:
    return {
        "aer": _clean(sc.aer),
        "precision": _clean(sc.precision),
        "recall": _clean(sc.recall),
        "f1": _clean(sc.f1),
        "links": int(sc.links),
        "sure": int(sc.sure),
    }


class QualityAnalysis:
    """Greedy decoding per batch; exact match, token accuracy, NLL and BLEU by source length."""

    title = "Quality"

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx

    def update(self, cb: CapturedBatch) -> None:
        model, batch = self.ctx.model, cb.batch
        hyps = model.greedy(batch.src, batch.src_lens)
        for b, rec in enumerate(cb.records):
            rec["hypothesis"] = model.tgt_vocab.decode(hyps[b].tokens)
            rec["exact"] = rec["hypothesis"] == rec["tgt"]

    def finish(self) -> dict:
        recs = self.ctx.sentences
        steps = [r["tgt_len"] + 1 for r in recs]
        nll = [r["nll"] for r in recs]
        correct = [r["correct"] for r in recs]
        buckets = quality_by_length(
            [r["src_len"] for r in recs],
            steps,
            nll,
            correct,
            [r["exact"] for r in recs],
            [r["hypothesis"] for r in recs],
            [r["tgt"] for r in recs],
        )
        return {
            "token_accuracy": sum(correct) / sum(steps),
            "nll_per_token": sum(nll) / sum(steps),
            "exact_match": float(np.mean([r["exact"] for r in recs])),
            "buckets": [b.to_dict() for b in buckets],
        }


class PatternsAnalysis:
    """Attention patterns of the primary site (:mod:`attnprobe.analyses.patterns`).

    Computed at every offset while streaming; the summary uses the offset that
    the alignment analysis found best (or the first offset without it).
    """

    title = "Attention patterns"

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

    def finish(self) -> dict:
        from attnprobe.analyses.patterns import corpus_patterns

        offset = self.ctx.primary_offset
        offset = self.ctx.offsets[0] if offset is None else offset
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


#: sentences the gradient-flow analysis runs on (spread over the source lengths),
#: and how many of them the path decomposition uses (it runs the model 3 times)
GRADFLOW_SENTENCES, GRADFLOW_PATH_SENTENCES = 32, 12
#: sentence lengths (words) of the dependency-graph table
GRADFLOW_LENGTHS = (5, 10, 20, 40)


def _spread(lengths: Sequence[int], n: int) -> list[int]:
    """``n`` positions spread evenly over the length-sorted corpus (shortest to longest).

    Examples
    --------
    >>> _spread([5, 1, 9, 3, 7], 3)         # lengths 1, 5, 9
    [1, 0, 2]
    """
    order = sorted(range(len(lengths)), key=lambda k: (lengths[k], k))
    if len(order) <= n:
        return order
    picks = np.linspace(0, len(order) - 1, n).round().astype(int)
    return [order[k] for k in dict.fromkeys(picks.tolist())]


class GradflowAnalysis:
    """Gradient flow (:mod:`attnprobe.analyses.gradflow`, :mod:`attnprobe.runs.gradients`).

    Runs the model itself, in ``finish``, on :data:`GRADFLOW_SENTENCES` sentences
    spread over the source lengths (long distances need long sentences):
    ``|| d log p(y_t) / d e_s ||`` by distance ``|t - s|`` and by position from
    the end of the source, the split of the gradient into the attention and
    the recurrent path (stop-gradient runs through capture edits), and the
    shortest gradient path of the unrolled computation with and without
    attention edges.
    """

    title = "Gradient flow"

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx

    def update(self, cb: CapturedBatch) -> None:  # runs the model itself in finish()
        return None

    def finish(self) -> dict:
        from attnprobe.analyses.gradflow import decompose_paths, path_lengths
        from attnprobe.runs.gradients import gradient_matrices, path_gradients

        model, data = self.ctx.model, self.ctx.corpus
        picks = _spread(data.lengths, GRADFLOW_SENTENCES)
        sub = ParallelCorpus([data.src[k] for k in picks], [data.tgt[k] for k in picks])
        mats = gradient_matrices(model, sub, batch_size=self.ctx.batch_size)
        masks = [word_masks(g.shape[1] - 1, g.shape[0] - 1) for g in mats]
        by_distance = gradient_profile(mats, masks=masks)
        from_end = gradient_profile(mats, "from-end", masks=masks)
        near, far = by_distance.mean_between(*NEAR), by_distance.mean_between(*FAR)
        rows = [
            ("sentences", len(sub), "spread over the source lengths"),
            ("mean gradient norm, distance 0-2", near, "|| d log p(y_t) / d e_s ||"),
            ("mean gradient norm, distance >= 20", far, "long distances (nan: none that long)"),
            ("far / near", far / near if near > 0 else None, "1: no decay with distance"),
        ]
        data_out = {
            "sentences": len(sub),
            "profile": by_distance.to_dict(),
            "from_end": from_end.to_dict(),
        }
        tables = [
            {
                "title": "mean gradient norm by distance |t - s| (words)",
                "columns": ["distance", "mean", "median", "entries"],
                "rows": [
                    [k, m, md, c]
                    for k, m, md, c in zip(
                        by_distance.keys,
                        by_distance.mean,
                        by_distance.median,
                        by_distance.count,
                        strict=True,
                    )
                    if k % 5 == 0 or k < 5
                ],
            }
        ]
        if model.decoder.attention is not None:
            every = max(1, len(sub) // GRADFLOW_PATH_SENTENCES)
            few = ParallelCorpus(sub.src[::every], sub.tgt[::every])
            runs = path_gradients(model, few, batch_size=self.ctx.batch_size, stops=STOP_PAIR)
            flat = {
                k: np.concatenate([g.reshape(-1, g.shape[-1]) for g in v]) for k, v in runs.items()
            }
            d = decompose_paths(
                flat["total"], {"attention": flat["init"], "recurrent": flat["attention"]}
            )
            rows += [
                (
                    "share through the attention",
                    d.projection["attention"],
                    "projection of the gradient with the initial state detached",
                ),
                (
                    "share through the initial state",
                    d.projection["recurrent"],
                    "projection of the gradient with the encoder states detached",
                ),
                ("decomposition gap", d.residual, "|| total - sum of parts || / || total ||"),
            ]
            data_out["paths"] = d.to_dict()
        lengths = {}
        for n in GRADFLOW_LENGTHS:
            with_attn = path_lengths(model.cfg, n + 1, n + 1)
            without = path_lengths(model.cfg, n + 1, n + 1, attention_edges=False)
            lengths[n] = (_finite_max(with_attn), _finite_max(without))
        dist = np.abs(np.arange(21)[:, None] - np.arange(21)[None, :])
        graph20 = {
            name: path_lengths(model.cfg, 21, 21, attention_edges=edges)
            for name, edges in (("with", True), ("without", False))
        }
        data_out["path_lengths"] = {
            "distance": list(range(21)),
            **{
                name: [_finite_mean(m[dist == k]) for k in range(21)] for name, m in graph20.items()
            },
        }
        tables.append(
            {
                "title": "longest shortest gradient path (edges) by sentence length",
                "columns": ["words", "with attention edges", "without attention edges"],
                "rows": [[n, a, b] for n, (a, b) in lengths.items()],
            }
        )
        return {
            "title": self.title,
            "description": (
                "How large the gradient reaching each source word is, by distance to the "
                "target step, and which path it takes (stop-gradient runs through capture "
                "edits); the dependency graph makes the attention shortcut concrete."
            ),
            "metrics": [{"label": k, "value": _clean(v), "help": h} for k, v, h in rows],
            "tables": tables,
            "figures": ["gradient_by_distance", "path_length"],
            "data": data_out,
        }


#: the two stop-gradient runs of a clean cut (attention vs initial-state path)
STOP_PAIR = ("init", "attention")


def _finite_max(m: np.ndarray) -> float | None:
    m = m[np.isfinite(m)]
    return float(m.max()) if m.size else None


def _finite_mean(m: np.ndarray) -> float | None:
    m = m[np.isfinite(m)]
    return float(m.mean()) if m.size else None


#: attribution methods ``analyze`` runs by default: one shared forward and one backward per
#: target step each (Integrated Gradients with 50 points costs about 30 times more: ask for it)
DEFAULT_ATTRIBUTION = ("saliency", "input_x_gradient")


def _interval(iv) -> str:
    """``mean [low, high]`` of a bootstrap interval (``-`` when not measured).

    Examples
    --------
    >>> from attnprobe.analyses.faithfulness import Interval
    >>> _interval(Interval(0.25, 0.2, 0.3125, 0.95)), _interval(None)
    ('0.250 [0.200, 0.312]', '-')
    """
    if iv is None or iv.mean != iv.mean:
        return "-"
    return f"{iv.mean:.3f} [{iv.low:.3f}, {iv.high:.3f}]"


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

    def finish(self) -> dict:
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

    def finish(self) -> dict:
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


#: analysis name -> factory(AnalysisContext) returning an object with
#: ``update(CapturedBatch)`` (called once per batch) and ``finish() -> dict``
#: (JSON-able; stored as ``metrics[name]``, or under ``metrics["sections"]`` for
#: plug-ins, rendered by the report's generic section: ``title``, ``description``,
#: ``metrics`` [{label, value, help}], ``tables`` [{title, columns, rows}]).
#: Per-sentence numbers go into ``CapturedBatch.records`` and show up in the
#: explorer when listed in ``COLUMNS``. The analyses of issues 5 and 6 plug in here.
ANALYSES: dict[str, Callable[[AnalysisContext], object]] = {
    "alignment": AlignmentAnalysis,
    "quality": QualityAnalysis,
    "patterns": PatternsAnalysis,
    "gradflow": GradflowAnalysis,
    "attribution": AttributionAnalysis,
    "faithfulness": FaithfulnessAnalysis,
}

#: analyses whose modules have not landed yet: name -> what provides them
PLANNED_ANALYSES: dict[str, str] = {}

#: analyses whose results the report shows in fixed places (not as generic sections)
CORE_ANALYSES = ("alignment", "quality")

DEFAULT_ANALYSES = ("alignment", "quality")

#: per-sentence columns of the explorer and of sentences.jsonl: key, label, help, digits
COLUMNS = [
    {"key": "aer", "label": "AER", "help": "alignment error rate of this sentence", "digits": 3},
    {"key": "src_len", "label": "src", "help": "source length (words)", "digits": 0},
    {"key": "tgt_len", "label": "tgt", "help": "target length (words)", "digits": 0},
    {
        "key": "entropy",
        "label": "entropy",
        "help": "mean attention entropy per target step (nats; 0 = one-hot)",
        "digits": 2,
    },
    {
        "key": "nll_per_token",
        "label": "NLL/tok",
        "help": "teacher-forced negative log-likelihood per target step (nats)",
        "digits": 2,
    },
    {"key": "exact", "label": "exact", "help": "greedy output equals the reference"},
    {
        "key": "tau",
        "label": "tau",
        "digits": 2,
        "help": "Kendall tau of target position vs argmax source position (1: monotonic)",
    },
    {
        "key": "attr_tau",
        "label": "tau attr",
        "digits": 2,
        "help": "mean Kendall tau between attention and attribution rows "
        "(the first attribution method; 1: same ranking)",
    },
]


def _check_analyses(names) -> tuple[str, ...]:
    names = tuple(DEFAULT_ANALYSES if names is None else names)
    for name in names:
        if name in PLANNED_ANALYSES and name not in ANALYSES:
            raise InputError(
                f"analysis {name!r} is not available yet: it needs {PLANNED_ANALYSES[name]}",
                fix=f"choose from {', '.join(ANALYSES)}",
            )
        if name not in ANALYSES:
            raise UnknownNameError("analysis", name, ANALYSES)
    return names


def _check_attribution(methods) -> tuple[str, ...]:
    """The attribution methods of the ``attribution`` analysis, checked (did you mean)."""
    from attnprobe.runs.attribution import METHODS as ATTRIBUTION_METHODS

    methods = tuple(methods)
    for m in methods:
        if m not in ATTRIBUTION_METHODS:
            raise UnknownNameError("attribution method", m, ATTRIBUTION_METHODS)
    if not methods:
        raise InputError("give at least one attribution method")
    return methods


def _check_gold(corpus: ParallelCorpus, gold) -> list[Alignment] | None:
    if gold is None:
        return None
    gold = list(gold)
    if len(gold) != len(corpus):
        raise InputError(
            f"{len(gold)} gold alignments for {len(corpus)} sentence pairs",
            fix="give a gold file with one line per sentence pair of the corpus",
        )
    for k, a in enumerate(gold):
        n, m = len(corpus.src[k]), len(corpus.tgt[k])
        for i, j in a.possible:
            if i >= n or j >= m:
                raise InputError(
                    f"gold link {i}-{j} points outside sentence pair {k + 1} ({n}x{m} words)",
                    line=k + 1,
                    fix="check the gold's index base (--gold-one-based) and direction "
                    "(--reverse-gold), and that it belongs to this corpus",
                )
    return gold


def _too_long(model, corpus: ParallelCorpus) -> dict[int, str]:
    """Sentences a location-attention model cannot score (source + EOS > max_src_len)."""
    cfg = model.cfg
    if getattr(cfg, "score", None) != "location" or getattr(cfg, "attention", None) == "none":
        return {}
    limit = cfg.max_src_len
    return {
        k: f"{n} source words + EOS exceed the location-attention limit of {limit} positions"
        for k, n in enumerate(corpus.lengths)
        if n + 1 > limit
    }


def _entropy(att: np.ndarray) -> float:
    p = np.clip(att, 1e-12, 1.0)
    return float(-(att * np.log(p)).sum(1).mean())


def _model_card(model) -> dict:
    from attnprobe.models.reference.rnn import config_dict

    meta = getattr(model, "meta", None) or {}
    cfg = model.cfg
    attention = getattr(model.decoder, "attention", None)
    return {
        "name": os.path.basename(meta.get("path", cfg.name)).removesuffix(".pt"),
        "arch": cfg.name,
        "score": getattr(cfg, "score", None) if getattr(cfg, "attention", "") != "none" else None,
        "parameters": sum(p.numel() for p in model.parameters()),
        "attention_parameters": 0
        if attention is None
        else sum(p.numel() for p in attention.parameters()),
        "config": config_dict(cfg),
        "train": meta.get("train"),
        "data": meta.get("data"),
        "path": meta.get("path"),
        "sha256": meta.get("sha256"),
        "src_vocab": len(model.src_vocab),
        "tgt_vocab": len(model.tgt_vocab),
    }


def _corpus_hash(corpus: ParallelCorpus) -> str:
    h = hashlib.sha256()
    for s, t in zip(corpus.src, corpus.tgt, strict=True):
        h.update((" ".join(s) + "\t" + " ".join(t) + "\n").encode("utf-8"))
    return h.hexdigest()


def _forward(model, batch, sites: list[str]):
    """Teacher-forced pass inside capture(): per-sentence NLL, correct steps, attention."""
    import torch
    from torch.nn import functional as F

    from attnprobe.capturing.hooks import capture
    from attnprobe.data import PAD_ID

    with torch.no_grad():
        if sites:
            with capture(model, sites) as cap:
                out = model(batch.src, batch.src_lens, batch.tgt_in)
            trace = cap.trace
        else:
            out, trace = model(batch.src, batch.src_lens, batch.tgt_in), None
        nll = F.cross_entropy(
            out.logits.transpose(1, 2), batch.tgt_out, ignore_index=PAD_ID, reduction="none"
        ).sum(1)  # [B]
        correct = ((out.logits.argmax(-1) == batch.tgt_out) & (batch.tgt_out != PAD_ID)).sum(1)
    attention = {}
    for key in sites:
        w = trace.weights(key).mean(1).double().numpy()  # [B, T, S], heads averaged
        attention[key] = [
            w[b, : int(batch.tgt_lens[b]), : int(batch.src_lens[b])] for b in range(len(w))
        ]
    return nll.tolist(), correct.tolist(), attention


def analyze(
    model,
    corpus: ParallelCorpus | None = None,
    gold: Sequence[Alignment] | None = None,
    analyses: Sequence[str] | None = None,
    methods: Sequence[str] = DEFAULT_METHODS,
    limit: int | None = None,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool | None = None,
    attribution: Sequence[str] = DEFAULT_ATTRIBUTION,
):
    """Analyse a model on a corpus: alignment scores, per-sentence numbers, quality.

    Parameters
    ----------
    model : a checkpoint path or a loaded :class:`~attnprobe.models.reference.rnn.Seq2Seq`.
    corpus, gold : the sentence pairs and their gold alignments (one per pair,
        or None). Default: the checkpoint's own toy test split with its gold.
    analyses : names from :data:`ANALYSES` (default :data:`DEFAULT_ANALYSES`).
    methods : extraction methods scored (names from
        :data:`attnprobe.analyses.extraction.EXTRACTORS`); the first one is the
        explorer's.
    limit : analyse only the first ``limit`` sentence pairs.
    batch_size : sentences per forward pass.
    seed : seeds torch's generator for analyses that draw random numbers (the
        global generator is restored afterwards).
    progress : show a progress bar (None: when writing to a terminal).
    attribution : attribution methods of the ``attribution`` analysis (names
        from :data:`attnprobe.runs.attribution.METHODS`; default
        :data:`DEFAULT_ATTRIBUTION`; ``integrated_gradients`` uses 50 steps).

    Returns
    -------
    Results : corpus-level ``metrics`` (with the signature) and per-sentence records.

    Raises
    ------
    InputError : gold of the wrong size or links outside their sentences, bad limit.
    UnknownNameError : an unknown analysis or extraction method (did you mean).

    Examples
    --------
    >>> res = analyze("fixtures/models/enfr-bahdanau.pt", limit=50)  # doctest: +SKIP
    >>> res.score()["aer"] < 0.2                                         # doctest: +SKIP
    True
    >>> analyze(None, analyses=["alignmnet"])
    Traceback (most recent call last):
    ...
    attnprobe.errors.UnknownNameError: unknown analysis 'alignmnet'; did you mean 'alignment'? ...
    """
    import torch
    from tqdm.auto import tqdm

    import attnprobe
    from attnprobe.analyses.extraction import EXTRACTORS
    from attnprobe.data import bucket_batches, make_batch
    from attnprobe.models.checkpoint import load
    from attnprobe.results import Results, quantize

    names = _check_analyses(analyses)
    methods = tuple(methods)
    for m in methods:
        if m not in EXTRACTORS:
            raise UnknownNameError("extraction method", m, EXTRACTORS)
    if not methods:
        raise InputError("give at least one extraction method")
    attribution = _check_attribution(attribution) if "attribution" in names else tuple(attribution)
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    if isinstance(model, str | os.PathLike):
        model = load(model)
    if corpus is None:
        if gold is not None:
            raise InputError("gold alignments without a corpus", fix="give the corpus too")
        corpus, gold = default_corpus(model)
    gold = _check_gold(corpus, gold)
    total = len(corpus)
    if limit is not None and limit < total:
        corpus = ParallelCorpus(corpus.src[:limit], corpus.tgt[:limit], corpus.name)
        gold = None if gold is None else gold[:limit]

    warnings_ = []
    skipped = _too_long(model, corpus)
    keep = [k for k in range(len(corpus)) if k not in skipped]
    if skipped:
        warnings_.append(
            f"{len(skipped)} sentence pairs are longer than this location-attention model can "
            f"score (max_src_len {model.cfg.max_src_len}); they are listed and left out"
        )
    if not keep:
        raise InputError("no sentence pair left to analyse", fix="give shorter sentences")
    data = ParallelCorpus([corpus.src[k] for k in keep], [corpus.tgt[k] for k in keep], corpus.name)
    gold_kept = None if gold is None else [gold[k] for k in keep]

    site_keys = [s.key for s in getattr(model, "sites", []) if s.role == "cross"]
    records = [
        {
            "index": k,
            "src": data.src[p],
            "tgt": data.tgt[p],
            "src_len": len(data.src[p]),
            "tgt_len": len(data.tgt[p]),
            "unk_src": model.src_vocab.count_unknown(data.src[p]),
            "unk_tgt": model.tgt_vocab.count_unknown(data.tgt[p]),
            "gold": None
            if gold_kept is None
            else {
                "sure": sorted(map(list, gold_kept[p].sure)),
                "possible": sorted(map(list, gold_kept[p].possible_only)),
            },
        }
        for p, k in enumerate(keep)
    ]
    ctx = AnalysisContext(
        model,
        data,
        gold_kept,
        site_keys,
        methods,
        OFFSETS,
        seed,
        batch_size,
        records,
        attribution=attribution if "attribution" in names else (),
    )
    runners = {
        name: ANALYSES[name](ctx) for name in names if not (name == "alignment" and not site_keys)
    }

    src_tok, tgt_tok = sum(r["src_len"] for r in records), sum(r["tgt_len"] for r in records)
    unk_src, unk_tgt = sum(r["unk_src"] for r in records), sum(r["unk_tgt"] for r in records)
    for side, unk, tok in (("source", unk_src, src_tok), ("target", unk_tgt, tgt_tok)):
        if tok and unk / tok > UNK_WARNING:
            warnings_.append(
                f"{unk / tok:.0%} of the {side} words are unknown to the model (mapped to <unk>): "
                f"is the corpus in the model's language, and the sides in the right order?"
            )
    for w in warnings_:
        log.warning(w)

    model.eval()
    bar = tqdm(
        total=len(data),
        unit="sent",
        desc="analyze",
        disable=None if progress is None else not progress,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            for positions in bucket_batches(data.lengths, batch_size):
                batch = make_batch(
                    [data.src[p] for p in positions],
                    [data.tgt[p] for p in positions],
                    model.src_vocab,
                    model.tgt_vocab,
                )
                nll, correct, attention = _forward(model, batch, site_keys)
                recs = [records[p] for p in positions]
                for b, rec in enumerate(recs):
                    steps = rec["tgt_len"] + 1
                    rec["nll"] = float(nll[b])
                    rec["correct"] = int(correct[b])
                    rec["nll_per_token"] = round(float(nll[b]) / steps, 6)
                    rec["token_accuracy"] = round(int(correct[b]) / steps, 6)
                    if site_keys:
                        att = attention[site_keys[0]][b]
                        rec["entropy"] = round(_entropy(att), 6)
                        rec["attention"] = quantize(att)
                cb = CapturedBatch(list(positions), batch, attention, recs)
                for runner in runners.values():
                    runner.update(cb)
                bar.update(len(positions))
        finally:
            bar.close()
        finished = {name: runner.finish() for name, runner in runners.items()}

    alignment = finished.pop("alignment", None)
    primary = {"site": site_keys[0] if site_keys else None, "method": methods[0], "offset": 0}
    if alignment:
        primary["offset"] = alignment["best_offset"][f"{site_keys[0]}/{methods[0]}"]
    metrics = {
        "signature": {
            "attnprobe": attnprobe.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "checkpoint_sha256": (getattr(model, "meta", None) or {}).get("sha256"),
            "sites": site_keys,
            "options": {
                "analyses": list(names),
                "methods": list(methods),
                "attribution": list(attribution) if "attribution" in names else [],
                "offsets": list(OFFSETS),
                "limit": limit,
                "batch_size": batch_size,
            },
            "corpus_sha256": _corpus_hash(corpus),
            "seed": seed,
        },
        "model": _model_card(model),
        "corpus": {
            "name": corpus.name,
            "sentences": total,
            "analysed": len(records),
            "src_tokens": src_tok,
            "tgt_tokens": tgt_tok,
            "src_unk": unk_src,
            "tgt_unk": unk_tgt,
            "src_unk_rate": unk_src / src_tok if src_tok else 0.0,
            "tgt_unk_rate": unk_tgt / tgt_tok if tgt_tok else 0.0,
            "mean_src_len": src_tok / len(records),
            "mean_tgt_len": tgt_tok / len(records),
            "gold": gold is not None,
        },
        "sites": site_keys,
        "primary": primary,
        "alignment": alignment,
        "quality": finished.pop("quality", None),
        "entropy": float(np.mean([r["entropy"] for r in records])) if site_keys else None,
        "columns": [c for c in COLUMNS if any(c["key"] in r for r in records)],
        "sections": finished,
        "warnings": warnings_,
        "skipped": [
            {"index": k, "src_len": corpus.lengths[k], "reason": why} for k, why in skipped.items()
        ],
    }
    return Results(metrics, records)

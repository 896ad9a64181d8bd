"""Compose the pieces: model + corpus (+ gold) -> results (``analyze``).

Only this package and the CLI on top of it see models, data and analyses
together. The model runs in :mod:`attnprobe.runs.forward` (one teacher-forced
pass per batch); each analysis is a step module of this package
(:mod:`attnprobe.pipeline.common` describes the contract); every summary is a
pure function from :mod:`attnprobe.analyses` and :mod:`attnprobe.alignment`.
The model is reached only through :class:`attnprobe.models.interface.Seq2SeqModel`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence

import numpy as np

from attnprobe.alignment import Alignment
from attnprobe.alignment.subwords import POOLING
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError, SiteError, UnknownNameError
from attnprobe.models.interface import CapabilityError
from attnprobe.pipeline.alignment import AlignmentAnalysis
from attnprobe.pipeline.attribution import DEFAULT_ATTRIBUTION, AttributionAnalysis
from attnprobe.pipeline.common import (
    OFFSETS,
    AnalysisContext,
    CapturedBatch,
    attention_aer,
    default_corpus,
    skipped,
)
from attnprobe.pipeline.faithfulness import FaithfulnessAnalysis
from attnprobe.pipeline.gradflow import GradflowAnalysis
from attnprobe.pipeline.heads import HeadsAnalysis
from attnprobe.pipeline.patterns import PatternsAnalysis
from attnprobe.pipeline.quality import QualityAnalysis

__all__ = [
    "OFFSETS",
    "default_corpus",
    "attention_aer",
    "analyze",
    "check_analyses",
    "check_attribution",
    "ANALYSES",
    "DEFAULT_ANALYSES",
    "DEFAULT_METHODS",
    "AnalysisContext",
    "CapturedBatch",
    "DEFAULT_ATTRIBUTION",
]


# ============================================================== analyze
#
# One streaming pass over the corpus: each batch runs the model once inside
# capture() (teacher forcing), and every requested analysis sees the batch
# through ``update`` and summarises in ``finish``. Only compact per-sentence data
# is kept (numbers, links, 8-bit attention of the primary site), so memory grows
# by a few kilobytes per sentence, never by full traces.

#: extraction methods scored by default (all: attnprobe.analyses.extraction.EXTRACTORS)
DEFAULT_METHODS = ("argmax-target", "argmax-source", "intersection", "itermax")

#: share of unknown words above which the scores mostly measure the vocabulary, not attention
UNK_WARNING = 0.05

log = logging.getLogger("attnprobe")


#: analysis name -> step class (see :mod:`attnprobe.pipeline.common`): ``requires`` names
#: the steps whose results ``finish(done)`` reads; steps run in this dict's order (every
#: step after those it requires), whatever order the user lists them in. ``finish``
#: returns data only (a result dataclass with ``to_dict()``, a plain dict of numbers, or
#: ``skipped(reason)``), stored as ``metrics[name]`` for the core steps and under
#: ``metrics["sections"][name]`` for the others; :mod:`attnprobe.report.sections` words
#: it (titles, labels, help texts, tables). Per-sentence numbers go into
#: ``CapturedBatch.records`` and show up in the explorer when listed in
#: :data:`attnprobe.report.sections.COLUMNS`.
ANALYSES: dict[str, Callable[[AnalysisContext], object]] = {
    "alignment": AlignmentAnalysis,
    "quality": QualityAnalysis,
    "patterns": PatternsAnalysis,
    "gradflow": GradflowAnalysis,
    "attribution": AttributionAnalysis,
    "faithfulness": FaithfulnessAnalysis,
    "heads": HeadsAnalysis,
}

#: analyses whose modules have not landed yet: name -> what provides them
PLANNED_ANALYSES: dict[str, str] = {}

#: analyses whose results the report shows in fixed places (not as generic sections)
CORE_ANALYSES = ("alignment", "quality")

DEFAULT_ANALYSES = ("alignment", "quality")


def check_analyses(names) -> tuple[str, ...]:
    """The steps to run for ``names`` (None: :data:`DEFAULT_ANALYSES`), checked (did you mean).

    Adds the steps they require and puts them in :data:`ANALYSES` order.

    Examples
    --------
    >>> check_analyses(["patterns"])
    ('alignment', 'patterns')
    """
    names = tuple(DEFAULT_ANALYSES if names is None else names)
    for name in names:
        if name in PLANNED_ANALYSES and name not in ANALYSES:
            raise InputError(
                f"analysis {name!r} is not available yet: it needs {PLANNED_ANALYSES[name]}",
                fix=f"choose from {', '.join(ANALYSES)}",
            )
        if name not in ANALYSES:
            raise UnknownNameError("analysis", name, ANALYSES)
    wanted, todo = set(), list(names)
    while todo:  # the steps asked for and every step they require
        name = todo.pop()
        if name not in wanted:
            wanted.add(name)
            todo.extend(ANALYSES[name].requires)
    return tuple(n for n in ANALYSES if n in wanted)  # the fixed order: results never depend on
    # the order the user lists the steps in


def check_attribution(methods) -> tuple[str, ...]:
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
    """Sentences longer than the model can score (location attention: source + EOS > limit)."""
    from attnprobe.models.interface import has_capability

    limit = model.max_source_length if has_capability(model, "max_source_length") else None
    if not limit:
        return {}
    return {
        k: f"{n} source words + EOS exceed the model's limit of {limit} source positions"
        for k, n in enumerate(corpus.lengths)
        if n + 1 > limit
    }


def _entropy(att: np.ndarray) -> float:
    p = np.clip(att, 1e-12, 1.0)
    return float(-(att * np.log(p)).sum(1).mean())


def _corpus_hash(corpus: ParallelCorpus) -> str:
    h = hashlib.sha256()
    for s, t in zip(corpus.src, corpus.tgt, strict=True):
        h.update((" ".join(s) + "\t" + " ".join(t) + "\n").encode("utf-8"))
    return h.hexdigest()


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
    threads: int | None = 1,
):
    """Analyse a model on a corpus: alignment scores, per-sentence numbers, quality.

    Parameters
    ----------
    model : a model path (see :func:`attnprobe.load`) or a model implementing
        :class:`~attnprobe.models.interface.Seq2SeqModel` (a loaded checkpoint, a
        :func:`attnprobe.wrap` of your own ``nn.Module``). Its training/eval mode
        is restored afterwards.
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
    threads : torch CPU threads while it runs (the caller's count is restored after;
        None: leave it). One is fastest for these small models on a shared machine.

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
    from attnprobe.models.interface import check_model
    from attnprobe.models.registry import load
    from attnprobe.results import Results, quantize
    from attnprobe.runs.forward import (
        cross_sites,
        eval_mode,
        model_batches,
        teacher_forced,
        torch_threads,
    )

    names = check_analyses(analyses)
    methods = tuple(methods)
    for m in methods:
        if m not in EXTRACTORS:
            raise UnknownNameError("extraction method", m, EXTRACTORS)
    if not methods:
        raise InputError("give at least one extraction method")
    attribution = check_attribution(attribution) if "attribution" in names else tuple(attribution)
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    if isinstance(model, str | os.PathLike):
        model = load(model)
    check_model(model)
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
    too_long = _too_long(model, corpus)
    keep = [k for k in range(len(corpus)) if k not in too_long]
    if too_long:
        warnings_.append(
            f"{len(too_long)} sentence pairs are longer than this model can score (at most "
            f"{model.max_source_length} source positions); they are listed and left out"
        )
    if not keep:
        raise InputError("no sentence pair left to analyse", fix="give shorter sentences")
    data = ParallelCorpus([corpus.src[k] for k in keep], [corpus.tgt[k] for k in keep], corpus.name)
    gold_kept = None if gold is None else [gold[k] for k in keep]

    site_keys = cross_sites(model)
    records = [
        {
            "index": k,
            "src": data.src[p],
            "tgt": data.tgt[p],
            "src_len": len(data.src[p]),
            "tgt_len": len(data.tgt[p]),
            "unk_src": len(unk_src),
            "unk_tgt": len(unk_tgt),
            "unk_src_at": unk_src,  # positions of the words the model maps to <unk>
            "unk_tgt_at": unk_tgt,
            "gold": None
            if gold_kept is None
            else {
                "sure": sorted(map(list, gold_kept[p].sure)),
                "possible": sorted(map(list, gold_kept[p].possible_only)),
            },
        }
        for p, k in enumerate(keep)
        for unk_src, unk_tgt in [
            [
                [j for j, w in enumerate(words) if model.count_unknown([w], side)]
                for words, side in ((data.src[p], "src"), (data.tgt[p], "tgt"))
            ]
        ]
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
                f"{unk / tok:.1%} of the {side} words ({unk} of {tok}) are unknown to the model "
                f"(mapped to <unk>): check the language, the side order and the casing; for text "
                f"outside the training vocabulary use a subword model "
                f"(attnprobe train --subwords 8000)"
            )
    for w in warnings_:
        log.warning(w)

    bar = tqdm(
        total=len(data),
        unit="sent",
        desc="analyze",
        disable=None if progress is None else not progress,
    )
    log.info("analyze: %d sentence pairs, steps %s", len(data), ", ".join(names))
    with torch_threads(threads), eval_mode(model), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            for n_batch, batch in enumerate(model_batches(model, data, batch_size)):
                if n_batch == 0 and callable(getattr(model, "check", None)):
                    model.check(batch)  # a foreign model: its own log-probabilities, reproduced?
                positions = batch.index.tolist()
                fb = teacher_forced(model, batch, site_keys)
                recs = [records[p] for p in positions]
                for b, rec in enumerate(recs):
                    steps = int(fb.steps[b])
                    rec["steps"] = steps
                    rec["nll"] = float(fb.nll[b])
                    rec["correct"] = int(fb.correct[b])
                    rec["nll_per_token"] = round(float(fb.nll[b]) / steps, 6)
                    rec["token_accuracy"] = round(int(fb.correct[b]) / steps, 6)
                    if site_keys:
                        att = fb.attention[site_keys[0]][b]
                        rec["entropy"] = round(_entropy(att), 6)
                        rec["attention"] = quantize(att)
                cb = CapturedBatch(positions, batch, fb.attention, recs, fb.weights)
                for runner in runners.values():
                    runner.update(cb)
                bar.update(len(positions))
        finally:
            bar.close()
        finished = {}
        for name, runner in runners.items():  # ANALYSES order: requirements first
            log.info("analyze: finishing %s", name)
            try:
                finished[name] = runner.finish({k: finished.get(k) for k in runner.requires})
            except (CapabilityError, SiteError) as exc:  # it cannot run on this model: say so
                log.warning("%s: %s", name, exc)
                warnings_.append(f"{name}: {exc}")
                finished[name] = skipped(str(exc))
        finished = {k: v.to_dict() if hasattr(v, "to_dict") else v for k, v in finished.items()}

    alignment = finished.pop("alignment", None)
    primary = {"site": site_keys[0] if site_keys else None, "method": methods[0], "offset": 0}
    if alignment:
        primary["offset"] = alignment["best_offset"][f"{site_keys[0]}/{methods[0]}"]
    metrics = {
        "signature": {
            "attnprobe": attnprobe.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "checkpoint_sha256": model.card().get("sha256"),
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
            "pooling": POOLING,  # pieces to words (word-level models: the identity)
            "seed": seed,
        },
        "model": model.card(),
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
        "sections": finished,
        "warnings": warnings_,
        "skipped": [
            {"index": k, "src_len": corpus.lengths[k], "reason": why} for k, why in too_long.items()
        ],
    }
    return Results(metrics, records)

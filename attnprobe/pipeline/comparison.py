"""Several models side by side on one corpus: ``compare`` and its tables.

Quality by source length (with and without attention: the fixed-vector
bottleneck), AER per extraction method and offset beside the AER of the
word-blind diagonal alignment on the same gold, attention entropy and EOS
mass, and optionally gradient norms by distance, each model's relative to the
model without attention evaluated on the same data. ``attnprobe compare`` prints
:func:`format_comparison` of :func:`compare`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from attnprobe.alignment import Alignment
from attnprobe.analyses.bottleneck import BucketQuality, quality_by_length
from attnprobe.analyses.gradflow import GradientProfile, gradient_profile
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.pipeline.common import FAR, NEAR, attention_aer, default_corpus, word_masks

__all__ = [
    "COMPARE_METHODS",
    "ModelComparison",
    "compare",
    "diagonal_aer",
    "aer_interval",
    "format_comparison",
    "FAST_ALIGN_FILES",
    "read_fast_align_outputs",
    "reference_scores",
    "BottleneckResult",
    "bottleneck",
    "format_bottleneck",
]

#: extraction methods :func:`compare` scores (all: attnprobe.analyses.extraction.EXTRACTORS)
COMPARE_METHODS = ("argmax-target", "argmax-source", "intersection", "union", "itermax")


@dataclass
class ModelComparison:
    """One model's quality, attention and gradient figures on one corpus."""

    name: str
    arch: str
    parameters: int  # all trainable parameters
    attention_parameters: int  # parameters of the attention module (dot: 0)
    file_bytes: int | None
    train_seconds: float | None
    sentences: int
    token_accuracy: float  # teacher-forced, micro-averaged over target steps
    exact_match: float  # greedy output == reference
    buckets: list[BucketQuality] = field(default_factory=list)
    aer: dict[int, float] = field(default_factory=dict)  # offset -> argmax AER
    aer_methods: dict[str, dict[int, float]] = field(default_factory=dict)  # method -> offset
    entropy: float | None = None  # mean attention entropy per word step, nats
    eos_mass: float | None = None  # mean attention on the source EOS per word step
    gradient: GradientProfile | None = None  # ||d log p(y_t) / d e_s|| by |t - s|
    data: str | None = None  # the corpus it was evaluated on (rows compare within one)
    diagonal_aer: float | None = None  # AER of the diagonal alignment on the same gold
    # 95% bootstrap intervals over sentences: {"aer", "low", "high", "level"} (+ "offset")
    aer_interval: dict | None = None  # of the argmax AER at the best offset
    diagonal_interval: dict | None = None  # of the diagonal alignment's AER

    @property
    def best_offset(self) -> int | None:
        """The offset whose argmax alignment has the lowest AER (None without attention)."""
        return min(self.aer, key=self.aer.get) if self.aer else None

    @property
    def gradient_near(self) -> float | None:
        """Mean gradient norm at distances :data:`NEAR` (None when not measured)."""
        return None if self.gradient is None else self.gradient.mean_between(*NEAR)

    @property
    def gradient_far(self) -> float | None:
        """Mean gradient norm at distances :data:`FAR` (None when not measured)."""
        return None if self.gradient is None else self.gradient.mean_between(*FAR)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["buckets"] = [b.to_dict() for b in self.buckets]
        d["aer"] = {str(k): v for k, v in self.aer.items()}
        d["aer_methods"] = {
            m: {str(k): v for k, v in by.items()} for m, by in self.aer_methods.items()
        }
        d["gradient"] = None if self.gradient is None else self.gradient.to_dict()
        d["gradient_near"], d["gradient_far"] = self.gradient_near, self.gradient_far
        d["best_offset"] = self.best_offset
        return d


def _attention_stats(attentions: Sequence[np.ndarray]) -> tuple[float, float]:
    """Mean entropy over the real words and mean mass on the source EOS, per word step."""
    from attnprobe.analyses.patterns import attention_entropy, special_mass

    ent, eos = [], []
    for a in attentions:
        masks = word_masks(a.shape[1] - 1, a.shape[0] - 1)
        ent.append(attention_entropy(a, **masks))
        eos.append(special_mass(a, masks["src_mask"], tgt_mask=masks["tgt_mask"]))
    ent_all, eos_all = np.concatenate(ent), np.concatenate(eos)
    return float(np.nanmean(ent_all)), float(eos_all.mean())


def _gradient_summary(model, data: ParallelCorpus, sentences: int) -> GradientProfile:
    """Gradient norms by distance over the first ``sentences`` pairs (words only)."""
    from attnprobe.runs.gradients import gradient_matrices

    sub = ParallelCorpus(data.src[:sentences], data.tgt[:sentences], name=data.name)
    mats = gradient_matrices(model, sub)
    masks = [word_masks(g.shape[1] - 1, g.shape[0] - 1) for g in mats]
    return gradient_profile(mats, masks=masks)


def _aer_reduce(s) -> float:
    """AER of summed ``[links, sure, hits_sure, hits_possible]`` counts."""
    return float(1.0 - (s[2] + s[3]) / (s[0] + s[1])) if s[0] + s[1] else float("nan")


def aer_interval(
    gold: Sequence[Alignment],
    hyp: Sequence[Alignment],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict:
    """Corpus AER of ``hyp`` against ``gold`` with a percentile bootstrap interval over
    sentences (each resample's AER from its summed link counts, as the corpus AER).

    Returns ``{"aer", "low", "high", "level"}``.

    Examples
    --------
    Two sentences, one aligned right (AER 0), one wrong (AER 1): corpus AER
    1 - 2/4 = 0.5; a resample holds both, or one of them twice (AER 0 or 1):

    >>> gold = [Alignment.from_links([(0, 0)]), Alignment.from_links([(0, 0)])]
    >>> hyp = [Alignment.from_links([(0, 0)]), Alignment.from_links([(0, 1)])]
    >>> aer_interval(gold, hyp)
    {'aer': 0.5, 'low': 0.0, 'high': 1.0, 'level': 0.95}
    """
    from attnprobe.alignment import score_alignments
    from attnprobe.analyses.intervals import seed_bootstrap

    per = score_alignments(list(gold), list(hyp)).per_sentence()
    counts = np.stack([per.links, per.sure, per.hits_sure, per.hits_possible], 1)
    e = seed_bootstrap([counts], _aer_reduce, n_boot=n_boot, level=level, seed=seed)
    return {"aer": e.mean, "low": e.low, "high": e.high, "level": level}


def diagonal_aer(corpus: ParallelCorpus, gold: Sequence[Alignment]) -> float:
    """AER of :func:`~attnprobe.analyses.extraction.diagonal_alignment` against ``gold``.

    Examples
    --------
    >>> c = ParallelCorpus([["a", "b"]], [["x", "y"]])
    >>> diagonal_aer(c, [Alignment.from_links([(0, 1), (1, 0)])])   # crossing: all wrong
    1.0
    """
    from attnprobe.alignment import score_alignments
    from attnprobe.analyses.extraction import diagonal_alignment

    hyp = [diagonal_alignment(len(s), len(t)) for s, t in zip(corpus.src, corpus.tgt, strict=True)]
    return float(score_alignments(list(gold), hyp).aer)


#: the statistical aligner's outputs in ``shared/data/reference-outputs/lilt-fastalign``:
#: name -> (file name pattern for a pair, whether the file lists target-source links)
FAST_ALIGN_FILES = {
    "fast_align forward": ("test.{pair}.talp", False),
    "fast_align reverse": ("test.{pair}.reverse.talp", True),
    "fast_align intersection": ("test.{pair}.intersection.talp", False),
    "fast_align grow-diagonal": ("test.{pair}.grow-diagonal.talp", False),
    "fast_align grow-diagonal-final": ("test.{pair}.grow-diagonal-final.talp", False),
    "fast_align union": ("test.{pair}.union.talp", False),
}


def read_fast_align_outputs(
    folder: str | os.PathLike, pair: str = "enfr"
) -> dict[str, list[Alignment]]:
    """The fast_align outputs of one test set (0-based Pharaoh, source-target links).

    Parameters
    ----------
    folder : the ``lilt-fastalign`` folder of reference outputs (its README
        describes the files: forward, reverse with target-source links, and
        four symmetrisations).
    pair : ``enfr``, ``roen`` or ``deen``.

    Returns
    -------
    dict : name (the keys of :data:`FAST_ALIGN_FILES`) -> one Alignment per sentence;
    files that are absent are left out.

    Raises
    ------
    InputError : the folder has none of the pair's files.

    Examples
    --------
    >>> refs = read_fast_align_outputs("../shared/data/reference-outputs/lilt-fastalign")
    ... # doctest: +SKIP
    >>> len(refs["fast_align forward"])                       # doctest: +SKIP
    447
    """
    from pathlib import Path

    from attnprobe.alignment import read_alignments

    out = {}
    for name, (pattern, reverse) in FAST_ALIGN_FILES.items():
        path = Path(folder) / pattern.format(pair=pair)
        if path.is_file():
            out[name] = read_alignments(path, one_based=False, reverse=reverse)
    if not out:
        raise InputError(
            f"no fast_align output for {pair!r} in this folder",
            path=folder,
            fix="give the lilt-fastalign folder of the reference outputs and a pair it has "
            "(enfr, roen, deen)",
        )
    return out


def reference_scores(
    gold: Sequence[Alignment], references: dict[str, Sequence[Alignment]]
) -> dict[str, dict]:
    """AER, precision, recall and F1 of other aligners' outputs on the same gold.

    What attention's AER is read beside: a statistical aligner's on the same
    sentences (e.g. :func:`read_fast_align_outputs` on the Hansards gold). Each
    reference holds one alignment per gold sentence, in the same order.

    Returns
    -------
    dict : name -> ``{"aer", "precision", "recall", "f1", "links", "sure"}``
    (what the report shows beside attention's scores).

    Raises
    ------
    InputError : a reference with another number of sentences than the gold.

    Examples
    --------
    >>> gold = [Alignment.from_links([(0, 0), (1, 1)])]
    >>> reference_scores(gold, {"half": [Alignment.from_links([(0, 0)])]})["half"]["aer"]
    0.333333
    """
    from attnprobe.alignment import score_alignments
    from attnprobe.pipeline.common import _score_dict

    out = {}
    for name, alignments in references.items():
        alignments = list(alignments)
        if len(alignments) != len(gold):
            raise InputError(
                f"the reference {name!r} has {len(alignments)} sentences, the gold {len(gold)}",
                fix="give the reference alignments of exactly the gold's sentences, in order",
            )
        out[name] = _score_dict(score_alignments(list(gold), alignments))
    return out


def compare(
    models: Sequence,
    corpus: ParallelCorpus | None = None,
    gold: Sequence[Alignment] | None = None,
    batch_size: int = 64,
    progress: bool | None = None,
    methods: Sequence[str] = COMPARE_METHODS,
    gradients: int = 0,
    n_boot: int = 1000,
) -> list[ModelComparison]:
    """Evaluate several models on the same corpus: quality by length, attention, gradients.

    Parameters
    ----------
    models : checkpoint paths or loaded models.
    corpus, gold : the test data; by default each model's own test split
        (a toy pair's, with its gold alignments).
    methods : extraction methods whose AER is reported per offset (with gold).
    gradients : measure gradient norms by distance on this many sentences
        (0: skip; a few dozen suffice, each costs one backward per target word).
    n_boot : bootstrap resamples of the sentences for the 95% intervals of the
        argmax AER (at its best offset) and of the diagonal's AER (0: none).

    Examples
    --------
    >>> rows = compare(["fixtures/models/enfr-bahdanau.pt"])  # doctest: +SKIP
    >>> rows[0].token_accuracy > 0.97                           # doctest: +SKIP
    True
    """
    from attnprobe.analyses.extraction import EXTRACTORS
    from attnprobe.models.registry import load
    from attnprobe.runs.forward import run_corpus

    for method in methods:
        if method not in EXTRACTORS:
            raise UnknownNameError("extraction method", method, EXTRACTORS)
    if gradients < 0:
        raise InputError(f"gradients must be a number of sentences >= 0, got {gradients}")
    rows = []
    for spec in models:
        model = load(spec) if isinstance(spec, str | os.PathLike) else spec
        data, ref = (corpus, gold) if corpus is not None else default_corpus(model)
        results = run_corpus(model, data, batch_size=batch_size, progress=progress)
        exact = [r.exact(data.tgt[r.index]) for r in results]
        buckets = quality_by_length(
            [r.src_len for r in results],
            [r.steps for r in results],
            [r.nll for r in results],
            [r.correct for r in results],
            exact,
            [r.hypothesis for r in results],
            data.tgt,
        )
        attentions = [r.attention for r in results]
        has_attention = results[0].attention is not None
        aer_methods = {}
        if ref is not None and has_attention:
            aer_methods = {m: attention_aer(attentions, ref, method=m) for m in methods}
        entropy = eos_mass = None
        if has_attention:
            entropy, eos_mass = _attention_stats(attentions)
        card = model.card()
        meta = getattr(model, "meta", {}) or {}
        intervals = _intervals(data, ref, attentions, aer_methods, has_attention, n_boot)
        rows.append(
            ModelComparison(
                name=card["name"],
                arch=card["arch"],
                parameters=card["parameters"],
                attention_parameters=card.get("attention_parameters"),
                file_bytes=os.path.getsize(meta["path"]) if "path" in meta else None,
                train_seconds=(meta.get("train") or {}).get("seconds"),
                sentences=len(results),
                token_accuracy=sum(r.correct for r in results) / sum(r.steps for r in results),
                exact_match=float(np.mean(exact)),
                buckets=buckets,
                aer=aer_methods.get("argmax-target")
                or (attention_aer(attentions, ref) if ref is not None and has_attention else {}),
                aer_methods=aer_methods,
                entropy=entropy,
                eos_mass=eos_mass,
                gradient=_gradient_summary(model, data, gradients) if gradients else None,
                data=data.name,
                diagonal_aer=diagonal_aer(data, ref) if ref is not None else None,
                **intervals,
            )
        )
    return rows


def _intervals(data, ref, attentions, aer_methods, has_attention, n_boot) -> dict:
    """Bootstrap intervals of the argmax AER at its best offset and of the diagonal's AER."""
    from attnprobe.analyses.extraction import diagonal_alignment, extract_alignment

    if ref is None or not n_boot:
        return {}
    diag = [diagonal_alignment(len(s), len(t)) for s, t in zip(data.src, data.tgt, strict=True)]
    out = {"diagonal_interval": aer_interval(ref, diag, n_boot=n_boot)}
    if has_attention:
        by_offset = aer_methods.get("argmax-target") or attention_aer(attentions, ref)
        offset = min(by_offset, key=by_offset.get)
        hyp = [
            extract_alignment(
                a, "argmax-target", offset=offset, **word_masks(a.shape[1] - 1, a.shape[0] - 1)
            )
            for a in attentions
        ]
        out["aer_interval"] = {**aer_interval(ref, hyp, n_boot=n_boot), "offset": offset}
    return out


def _fmt(x: float | None, spec: str) -> str:
    """``x`` formatted, "-" for nothing; a value that rounds to zero has no minus sign.

    Examples
    --------
    >>> _fmt(-0.0001, ".3f"), _fmt(-0.5, ".2f"), _fmt(None, ".2f"), _fmt(-1e-9, ".2e")
    ('0.000', '-0.50', '-', '-1.00e-09')
    """
    if x is None or x != x:
        return "-"
    text = format(x, spec)
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def _ci(iv: dict | None) -> str:
    """``"0.110-0.132"``, or "-".

    Examples
    --------
    >>> _ci({"aer": 0.12, "low": 0.11, "high": 0.132}), _ci(None)
    ('0.110-0.132', '-')
    """
    return "-" if iv is None else f"{_fmt(iv['low'], '.3f')}-{_fmt(iv['high'], '.3f')}"


def _render(table: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in table]
        lines.insert(1, "|" + "---|" * len(table[0]))
        return "\n".join(lines)
    widths = [max(len(row[k]) for row in table) for k in range(len(table[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    )


#: what each column of :func:`format_comparison` means (its legend, in table order)
COLUMN_LEGEND = {
    "params": "trainable parameters",
    "attn": "parameters of the attention module (dot scores: 0)",
    "size KB": "checkpoint file size",
    "train s": "training time, seconds",
    "tok acc": "teacher-forced token accuracy (target words and EOS)",
    "EM": "greedy exact match with the reference; EM a-b: sentences of a to b source words",
    "AER (offset)": "alignment error rate of the argmax alignment at the target offset that "
    "fits the gold best (0 is perfect)",
    "AER 95% CI": "95% bootstrap interval of that AER, resampling sentences",
    "diag AER": "AER of the word-blind diagonal alignment on the same gold (the baseline)",
    "diag 95% CI": "95% bootstrap interval of the diagonal alignment's AER",
    "H": "mean attention entropy per target word, nats (0: all on one word)",
    "EOS": "mean attention mass on the source end-of-sentence token per target word",
    "grad far": "mean gradient norm ||d log p(y_t) / d e_s|| at |t - s| >= 20",
    "far/none": "grad far relative to the no-attention model of the same data",
    "far/near": "grad far relative to the model's own gradient at |t - s| <= 2",
    "-": "not measured, or not applicable (no attention, no gold)",
}


def _legend(head: list[str], markdown: bool) -> str:
    keys = [k for k in COLUMN_LEGEND if k in head or k == "-"]
    keys = [k for k in keys if k != "EM" or any(h.startswith("EM") for h in head)]
    if markdown:
        return "\n".join(f"- `{k}`: {COLUMN_LEGEND[k]}" for k in keys)
    width = max(len(k) for k in keys)
    return "\n".join(f"{k.ljust(width)}  {COLUMN_LEGEND[k]}" for k in keys)


def format_comparison(
    rows: Sequence[ModelComparison], markdown: bool = False, legend: bool = True
) -> str:
    """Tables of :func:`compare` results: one line per model.

    The first table: parameters (all, attention module), checkpoint size,
    train time, token accuracy, exact match per source-length bucket, argmax AER
    at the best offset beside the AER of the diagonal alignment on the same
    gold (``diag AER``: what attention's AER means something next to), attention
    entropy ``H`` (nats) and mass on the source EOS, and, when measured, the
    mean gradient norm far from the diagonal (``|t - s| >= 20``) relative to the
    model without attention evaluated on the same data (``-`` when there is
    none; without any no-attention row, relative to the model's own near gradient).
    A second table gives the AER of every extraction method at each offset;
    with ``legend``, the tables are followed by what each column means
    (:data:`COLUMN_LEGEND`). No number is printed as "-0.00".

    Examples
    --------
    >>> row = ModelComparison("m", "luong-dot", 1000, 0, 4096, 12.0, 10, 0.98, 0.5,
    ...                       aer={0: 0.2, -1: 0.1}, entropy=0.25, eos_mass=0.05)
    >>> print(format_comparison([row], legend=False))
    model  arch       params  attn  size KB  train s  tok acc  EM    AER (offset)  H     EOS
    m      luong-dot  1000    0     4        12       0.980    0.50  0.100 (-1)    0.25  0.05
    >>> row.aer_methods = {"argmax-target": {0: 0.2, -1: 0.1}, "union": {0: 0.3, -1: 0.15}}
    >>> print(format_comparison([row]).split("\\n\\n")[1])
    model  argmax-target@0  argmax-target@-1  union@0  union@-1
    m      0.200            0.100             0.300    0.150
    >>> print(format_comparison([row]).split("\\n\\n")[2].splitlines()[-3])
    H             mean attention entropy per target word, nats (0: all on one word)
    """
    labels = [b.label for b in rows[0].buckets] if rows else []
    with_grad = any(r.gradient is not None for r in rows)
    with_diag = any(r.diagonal_aer is not None for r in rows)
    with_ci = any(r.aer_interval is not None for r in rows)
    with_diag_ci = any(r.diagonal_interval is not None for r in rows)
    baselines: dict[str | None, ModelComparison] = {}  # data -> its no-attention row
    for r in rows:
        if r.arch == "none" and r.gradient is not None:
            baselines.setdefault(r.data, r)
    head = ["model", "arch", "params", "attn", "size KB", "train s", "tok acc", "EM"]
    head += [f"EM {x}" for x in labels] + ["AER (offset)"]
    head += ["AER 95% CI"] if with_ci else []
    head += ["diag AER"] if with_diag else []
    head += ["diag 95% CI"] if with_diag_ci else []
    head += ["H", "EOS"]
    if with_grad:
        head += ["grad far", "far/none" if baselines else "far/near"]
    table = [head]
    for r in rows:
        by_label = {b.label: b for b in r.buckets}
        cells = [
            r.name,
            r.arch,
            str(r.parameters),
            str(r.attention_parameters),
            "-" if r.file_bytes is None else str(round(r.file_bytes / 1024)),
            _fmt(r.train_seconds, ".0f"),
            _fmt(r.token_accuracy, ".3f"),
            _fmt(r.exact_match, ".2f"),
        ]
        cells += [_fmt(by_label[x].exact_match, ".2f") if x in by_label else "-" for x in labels]
        best = r.best_offset
        cells.append("-" if best is None else f"{_fmt(r.aer[best], '.3f')} ({best})")
        if with_ci:
            cells.append(_ci(r.aer_interval))
        if with_diag:
            cells.append(_fmt(r.diagonal_aer, ".3f"))
        if with_diag_ci:
            cells.append(_ci(r.diagonal_interval))
        cells += [_fmt(r.entropy, ".2f"), _fmt(r.eos_mass, ".2f")]
        if with_grad:
            far = r.gradient_far
            if baselines:
                base = baselines.get(r.data)
                ref = base.gradient_far if base is not None else None
            else:
                ref = r.gradient_near
            ratio = None if far is None or not ref else far / ref
            cells += [_fmt(far, ".2e"), _fmt(ratio, ".2f")]
        table.append(cells)
    out = _render(table, markdown)
    keys = [(m, o) for m in (rows[0].aer_methods if rows else {}) for o in rows[0].aer_methods[m]]
    if keys:
        second = [["model"] + [f"{m}@{o}" for m, o in keys]]
        for r in rows:
            second.append(
                [r.name] + [_fmt(r.aer_methods.get(m, {}).get(o), ".3f") for m, o in keys]
            )
        out += "\n\n" + _render(second, markdown)
    if legend:
        out += "\n\n" + _legend(head, markdown)
    return out


@dataclass
class BottleneckResult:
    """BLEU and exact match by source length, per architecture over its seeds."""

    points: list  # attnprobe.analyses.bottleneck.LengthPoint, per architecture and bucket
    models: list[dict]  # per model: name, arch, seed, and its training record
    data: str | None = None  # the test corpus
    n_boot: int = 1000
    train_max_len: int | None = None  # longest training sentence, when the models record one

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "n_boot": self.n_boot,
            "train_max_len": self.train_max_len,
            "models": self.models,
            "points": [p.to_dict() for p in self.points],
        }


def _train_record(model) -> dict:
    meta = getattr(model, "meta", {}) or {}
    train = meta.get("train") or {}
    config = train.get("config") or {}
    return {
        "name": model.card()["name"],
        "arch": model.card()["arch"],
        "seed": config.get("seed"),
        "steps": train.get("steps"),
        "best_step": train.get("best_step"),
        "stopped": train.get("stopped"),
        "max_steps": config.get("max_steps"),
        "dev_loss": train.get("dev_loss"),
        "seconds": train.get("seconds"),
        "max_len": train.get("max_len"),
    }


def bottleneck(
    models: Sequence,
    corpus: ParallelCorpus | None = None,
    *,
    batch_size: int = 64,
    n_boot: int = 1000,
    seed: int = 0,
    progress: bool | None = None,
) -> BottleneckResult:
    """Greedy BLEU and exact match by source length, models grouped by architecture.

    Each architecture's curve is the mean over its models (seeds) with a
    bootstrap interval over test sentences and the per-seed values
    (:func:`attnprobe.analyses.bottleneck.length_curves`).

    Parameters
    ----------
    models : checkpoint paths or loaded models (several seeds per architecture).
    corpus : the test sentences; by default the first model's own test split
        (every model must then have the same one).
    n_boot, seed : bootstrap resamples and their seed.

    Raises
    ------
    InputError : models whose default test splits differ.

    Examples
    --------
    >>> res = bottleneck(["fixtures/models/bottleneck/bahdanau-seed0.pt"])  # doctest: +SKIP
    >>> res.points[-1].label                                       # doctest: +SKIP
    'all'
    """
    from attnprobe.analyses.bottleneck import bleu_statistics, length_curves
    from attnprobe.models.registry import load
    from attnprobe.runs.forward import run_corpus

    loaded = [load(m) if isinstance(m, str | os.PathLike) else m for m in models]
    if not loaded:
        raise InputError("bottleneck needs at least one model")
    if corpus is None:
        corpus = default_corpus(loaded[0])[0]
        for m in loaded[1:]:
            other = default_corpus(m)[0]
            if other.src != corpus.src or other.tgt != corpus.tgt:
                raise InputError(
                    f"{m.card()['name']} has another test split than {loaded[0].card()['name']}",
                    fix="compare models of the same toy pair, or give the test data",
                )
    by_arch: dict[str, list] = {}
    records = []
    for m in loaded:
        results = run_corpus(m, corpus, batch_size=batch_size, progress=progress)
        exact = [r.exact(corpus.tgt[r.index]) for r in results]
        stats = np.stack([bleu_statistics(r.hypothesis, corpus.tgt[r.index]) for r in results])
        arch = m.card()["arch"]
        by_arch.setdefault(arch, []).append((exact, stats))
        records.append(_train_record(m))
    points = length_curves(corpus.lengths, by_arch, n_boot=n_boot, seed=seed)
    lens = {r["max_len"] for r in records}
    return BottleneckResult(
        points,
        records,
        corpus.name,
        n_boot,
        lens.pop() if len(lens) == 1 else None,
    )


def format_bottleneck(result: BottleneckResult, markdown: bool = False) -> str:
    """Tables of :func:`bottleneck`: BLEU and exact match per bucket and architecture, then
    each model's training record.

    A cell reads ``mean [low, high] (min-max)``: the mean over seeds, its 95%
    bootstrap interval over sentences, and the range of the seeds' values.

    Examples
    --------
    >>> from attnprobe.analyses.bottleneck import LengthPoint, SeedEstimate
    >>> e = SeedEstimate(50.0, 45.0, 55.0, (48.0, 52.0))
    >>> r = BottleneckResult([LengthPoint("none", 1, 10, 7, e, SeedEstimate(.5, .4, .6, (.5,)))],
    ...                      [{"name": "m", "arch": "none", "seed": 0}])
    >>> print(format_bottleneck(r).splitlines()[1])
    none  1     1-10  7          50.0 [45.0, 55.0] (48.0-52.0)  0.50 [0.40, 0.60] (0.50-0.50)
    """
    table = [["arch", "seeds", "source words", "sentences", "BLEU", "exact match"]]
    seeds = {}
    for rec in result.models:
        seeds[rec["arch"]] = seeds.get(rec["arch"], 0) + 1

    def cell(e, spec):
        lo, hi = e.spread
        return (
            f"{_fmt(e.mean, spec)} [{_fmt(e.low, spec)}, {_fmt(e.high, spec)}] "
            f"({_fmt(lo, spec)}-{_fmt(hi, spec)})"
        )

    for p in result.points:
        table.append(
            [
                p.arch,
                str(seeds.get(p.arch, len(p.bleu.seeds))),
                p.label,
                str(p.sentences),
                cell(p.bleu, ".1f"),
                cell(p.exact_match, ".2f"),
            ]
        )
    out = _render(table, markdown)
    keys = ["name", "arch", "seed", "steps", "best_step", "stopped", "dev_loss", "seconds"]
    second = [["model", "arch", "seed", "steps", "best step", "stopped", "dev loss", "train s"]]
    for rec in result.models:
        row = []
        for k in keys:
            v = rec.get(k)
            if k == "dev_loss":
                row.append(_fmt(v, ".4f"))
            elif k == "seconds":
                row.append(_fmt(v, ".0f"))
            else:
                row.append("-" if v is None else str(v))
        second.append(row)
    out += "\n\n" + _render(second, markdown)
    return out

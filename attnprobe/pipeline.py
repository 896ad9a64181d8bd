"""Compose the pieces: model + corpus (+ gold) -> results.

Only this module (and the CLI on top of it) sees models, data and analyses
together. The model runs in :mod:`attnprobe.evaluate`; every summary is a
pure function from :mod:`attnprobe.analyses` and :mod:`attnprobe.alignment`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from attnprobe.alignment import Alignment, score_alignments
from attnprobe.analyses.bottleneck import BucketQuality, quality_by_length
from attnprobe.analyses.extraction import argmax_target
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError

__all__ = [
    "OFFSETS",
    "ModelComparison",
    "default_corpus",
    "attention_aer",
    "compare",
    "format_comparison",
]

#: target offsets tried when scoring attention against gold (see DESIGN.md, Offsets)
OFFSETS = (0, -1)


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
    from attnprobe.toy import generate_split

    examples = generate_split(data["toy"], "test")
    corpus = ParallelCorpus(
        [list(e.src) for e in examples],
        [list(e.tgt) for e in examples],
        name=f"toy {data['toy']} test",
    )
    return corpus, [e.alignment for e in examples]


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
    attentions: Sequence[np.ndarray], gold: Sequence[Alignment], offsets=OFFSETS
) -> dict[int, float]:
    """AER of the one-to-one argmax alignment (one link per target word), per offset.

    ``attentions`` are teacher-forced ``[T, S]`` matrices (EOS row and column
    included, as :func:`attnprobe.evaluate.run_corpus` returns them).

    Examples
    --------
    >>> att = [np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])]
    >>> gold = [Alignment.from_links([(0, 1), (1, 0)], src_len=2, tgt_len=2)]
    >>> attention_aer(att, gold)   # offset 0 gives exactly the crossing gold links
    {0: 0.0, -1: 1.0}
    """
    out = {}
    for offset in offsets:
        hyp = [
            argmax_target(a, offset=offset, **word_masks(a.shape[1] - 1, a.shape[0] - 1))
            for a in attentions
        ]
        out[offset] = float(score_alignments(list(gold), hyp).aer)
    return out


@dataclass
class ModelComparison:
    """One model's quality and alignment figures on one corpus."""

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

    @property
    def best_offset(self) -> int | None:
        """The offset whose argmax alignment has the lowest AER (None without attention)."""
        return min(self.aer, key=self.aer.get) if self.aer else None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["buckets"] = [b.to_dict() for b in self.buckets]
        d["aer"] = {str(k): v for k, v in self.aer.items()}
        d["best_offset"] = self.best_offset
        return d


def compare(
    models: Sequence,
    corpus: ParallelCorpus | None = None,
    gold: Sequence[Alignment] | None = None,
    batch_size: int = 64,
    progress: bool | None = None,
) -> list[ModelComparison]:
    """Evaluate several models on the same corpus: quality by length, argmax AER.

    Parameters
    ----------
    models : checkpoint paths or loaded models.
    corpus, gold : the test data; by default each model's own test split
        (a toy pair's, with its gold alignments).

    Examples
    --------
    >>> rows = compare(["fixtures/models/enfr-bahdanau.pt"])  # doctest: +SKIP
    >>> rows[0].token_accuracy > 0.97                           # doctest: +SKIP
    True
    """
    from attnprobe.evaluate import run_corpus
    from attnprobe.models.checkpoint import load

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
        aer = {}
        if ref is not None and results[0].attention is not None:
            aer = attention_aer([r.attention for r in results], ref)
        attention = model.decoder.attention
        meta = getattr(model, "meta", {}) or {}
        rows.append(
            ModelComparison(
                name=os.path.basename(meta.get("path", model.cfg.name)).removesuffix(".pt"),
                arch=model.cfg.name,
                parameters=sum(p.numel() for p in model.parameters()),
                attention_parameters=0
                if attention is None
                else sum(p.numel() for p in attention.parameters()),
                file_bytes=os.path.getsize(meta["path"]) if "path" in meta else None,
                train_seconds=(meta.get("train") or {}).get("seconds"),
                sentences=len(results),
                token_accuracy=sum(r.correct for r in results) / sum(r.steps for r in results),
                exact_match=float(np.mean(exact)),
                buckets=buckets,
                aer=aer,
            )
        )
    return rows


def format_comparison(rows: Sequence[ModelComparison], markdown: bool = False) -> str:
    """A table of :func:`compare` results: one line per model.

    Columns: parameters, checkpoint size, train time, token accuracy, exact
    match per source-length bucket, and argmax AER at the best offset.

    Examples
    --------
    >>> row = ModelComparison("m", "luong-dot", 1000, 0, 4096, 12.0, 10, 0.98, 0.5,
    ...                       aer={0: 0.2, -1: 0.1})
    >>> print(format_comparison([row]))
    model  arch       params  size KB  train s  tok acc  EM    AER (offset)
    m      luong-dot  1000    4        12       0.980    0.50  0.100 (-1)
    """
    labels = [b.label for b in rows[0].buckets] if rows else []
    head = ["model", "arch", "params", "size KB", "train s", "tok acc", "EM"]
    head += [f"EM {x}" for x in labels] + ["AER (offset)"]
    table = [head]
    for r in rows:
        by_label = {b.label: b for b in r.buckets}
        cells = [
            r.name,
            r.arch,
            str(r.parameters),
            "-" if r.file_bytes is None else str(round(r.file_bytes / 1024)),
            "-" if r.train_seconds is None else f"{r.train_seconds:.0f}",
            f"{r.token_accuracy:.3f}",
            f"{r.exact_match:.2f}",
        ]
        cells += [f"{by_label[x].exact_match:.2f}" if x in by_label else "-" for x in labels]
        best = r.best_offset
        cells.append("-" if best is None else f"{r.aer[best]:.3f} ({best})")
        table.append(cells)
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in table]
        lines.insert(1, "|" + "---|" * len(head))
        return "\n".join(lines)
    widths = [max(len(row[k]) for row in table) for k in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in table
    )

"""What the analysis steps share: the run's context, one batch's capture, small helpers.

Each step of :func:`attnprobe.pipeline.driver.analyze` is a module of its own
in this package (``alignment``, ``quality``, ``patterns``, ``gradflow``,
``attribution``, ``faithfulness``, ``heads``): a class with ``name``,
``requires`` (the steps whose results it reads) and three methods:

- ``update(CapturedBatch)``, once per batch of a shard: adds to the step's
  statistics and writes per-sentence numbers into the batch's records;
- ``stats()``: the shard's sufficient statistics, a dict that
  :func:`attnprobe.pipeline.scale.stats.merge` adds up exactly over shards (counts,
  sums, per-sentence values; never a per-shard average);
- ``finish(done, stats)``, once per run, on the driver's context with the
  merged statistics and the finished results of the steps it requires.

A per-sentence number that depends on a corpus-level choice (the links at
the best offset, found only when every shard is in) is written for every
option with :func:`choose_later`; ``finish`` records the choice in the step's
``choices`` dict and :func:`resolve_choices` keeps the chosen option's fields.
Steps that run the model on a small sample (``gradflow``, ``faithfulness``)
name their sentences with ``sample(lengths)``, computed once over the whole
corpus, and run in ``finish``. Steps never write into a shared context, so
results do not depend on the order a user lists them in, nor on the shards.

``finish`` returns data only: a result dataclass with ``to_dict()`` (or a plain
dict of numbers and lists), or :func:`skipped` with the reason. Titles, labels,
help texts and table layouts are the report's (:mod:`attnprobe.report.sections`
turns each step's data into the section it shows), so ``metrics.json`` holds
numbers and a report can be re-worded without running a model again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from attnprobe.alignment import Alignment, score_alignments
from attnprobe.analyses.extraction import extract_alignment
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError

log = logging.getLogger("attnprobe")

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
    included, as :func:`attnprobe.runs.forward.run_corpus` returns them); ``method``
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


@dataclass
class AttributionCache:
    """Per-sentence word-pooled attribution matrices shared by the steps of one run.

    A step that will need some asks for them up front (:meth:`want`, in its
    constructor); the step that computes attributions anyway leaves those it
    computed (:meth:`offer`); the first reads them back with :meth:`take`
    and computes the missing ones itself, so that no sentence is attributed
    twice in one run and no result depends on the cache.

    Examples
    --------
    >>> c = AttributionCache()
    >>> c.want("saliency", [3])
    >>> c.offer("saliency", 3, np.ones((2, 2))), c.offer("saliency", 4, np.ones((2, 2)))
    (True, False)
    >>> c.take("saliency", 3).shape, c.take("saliency", 3)
    ((2, 2), None)
    """

    wanted: set = field(default_factory=set)  # {(method, position)}
    matrices: dict = field(default_factory=dict)  # {(method, position): [T, S] words}

    def want(self, method: str, positions) -> None:
        """Ask for ``method``'s matrices of the sentences at ``positions``."""
        self.wanted.update((method, int(p)) for p in positions)

    def offer(self, method: str, position: int, matrix) -> bool:
        """Keep ``matrix`` if someone asked for it; True when kept."""
        key = (method, int(position))
        if key in self.wanted:
            self.matrices[key] = matrix
            return True
        return False

    def take(self, method: str, position: int):
        """The matrix left for ``(method, position)``, removed from the cache (or None)."""
        return self.matrices.pop((method, int(position)), None)


@dataclass
class AnalysisContext:
    """What every analysis may read: the model, the data and the run's options.

    In a shard, ``corpus`` holds the shard's sentence pairs and ``gold`` maps a
    position of the run (``CapturedBatch.positions``) to its gold alignment; in
    the driver (``finish``) they are the whole analysed corpus and its gold.
    """

    model: object
    corpus: ParallelCorpus
    gold: Sequence[Alignment] | None
    sites: list[str]  # cross-attention site keys, capture order
    methods: tuple[str, ...]
    offsets: tuple[int, ...]
    seed: int
    batch_size: int
    sentences: int  # sentence pairs of the whole run (the corpus, not the shard)
    attribution: tuple[str, ...] = ()  # attribution methods (attnprobe.runs.attribution.METHODS)
    picks: dict = field(default_factory=dict)  # step -> the positions of its sample, sorted
    #: word-pooled attribution matrices one step computed and another will need in the same
    #: run (a cache, never a result: a step computes what it does not find there itself):
    #: ``matrices[(method, position)]`` is filled for the keys in ``wanted``
    attribution_cache: AttributionCache = field(default_factory=AttributionCache)


@dataclass
class CapturedBatch:
    """One batch after its forward pass: tokens, attention per site, records to fill.

    ``attention[site][b]`` is sentence b's ``[T, S]`` float64 matrix (heads
    averaged; T = target words + 1, S = source words + 1); ``weights[site]`` the
    site's captured ``[B, H, T, S]`` weights at token positions, every head;
    ``records[b]`` is its per-sentence dict, where analyses add their numbers.
    """

    positions: list[int]  # positions in the analysed corpus (the run's, not the shard's)
    batch: object  # the attnprobe.data.Batch (tensors), for analyses that run the model
    attention: dict[str, list[np.ndarray]]
    records: list[dict]
    weights: dict = field(default_factory=dict)


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


def _finite_max(m: np.ndarray) -> float | None:
    m = m[np.isfinite(m)]
    return float(m.max()) if m.size else None


def _finite_mean(m: np.ndarray) -> float | None:
    m = m[np.isfinite(m)]
    return float(m.mean()) if m.size else None


def skipped(reason: str) -> dict:
    """The result of a step that could not run on this model: data, worded by the report.

    Examples
    --------
    >>> skipped("no attention")
    {'skipped': True, 'reason': 'no attention'}
    """
    return {"skipped": True, "reason": reason}


def row_words(matrix, batch, b: int) -> np.ndarray:
    """Row ``b``'s ``[T_b, S_b]`` position matrix (attribution, occlusion) pooled to words
    ``[m + 1, n + 1]``, as the attention of the forward pass is
    (:func:`attnprobe.analyses.pooling.pool_words`; word-level models: unchanged)."""
    from attnprobe.analyses.pooling import pool_words

    m = np.asarray(matrix, np.float64)
    T, S = m.shape
    return pool_words(m, *batch.word_ids(b, S, T))


def sentence_words(model, corpus: ParallelCorpus, matrices) -> list[np.ndarray]:
    """:func:`row_words` for per-sentence matrices of ``corpus`` (each pair encoded alone)."""
    return [
        row_words(m, model.encode([s], [t]), 0)
        for s, t, m in zip(corpus.src, corpus.tgt, matrices, strict=True)
    ]


def choose_later(rec: dict, choice: str, option, fields: dict) -> None:
    """Keep a sentence's ``fields`` for one ``option`` of a corpus-level ``choice``.

    The choice (say, the best offset of an extraction method) is made by a
    step's ``finish`` on merged statistics; :func:`resolve_choices` then keeps
    the fields of the chosen option. A dict field is merged into the record's dict.

    Fields are JSON values, except that a list of pairs may hold them as tuples:
    a step that keeps many pairs for every option (links) saves the garbage
    collector their upkeep (a tuple of numbers is not tracked once collected;
    every list is, until it dies), and :func:`resolve_choices` gives the chosen
    ones back as lists, as a JSON round trip of the record would.

    Examples
    --------
    >>> rec = {"links": {}}
    >>> choose_later(rec, "offset", 0, {"links": {"a": [(0, 0), (1, 2)]}, "aer": 0.5})
    >>> choose_later(rec, "offset", -1, {"links": {"a": []}, "aer": 1.0})
    >>> resolve_choices(rec, {"offset": 0})
    {'links': {'a': [[0, 0], [1, 2]]}, 'aer': 0.5}
    """
    rec.setdefault("_choices", {}).setdefault(choice, {})[str(option)] = fields


def _as_lists(value):
    """``value`` with each list of tuples (in dicts too) made a list of lists."""
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return list(map(list, value))
    return value


def resolve_choices(rec: dict, chosen: dict) -> dict:
    """``rec`` with the fields of each chosen option (see :func:`choose_later`), in place."""
    for choice, options in rec.pop("_choices", {}).items():
        for key, value in options[str(chosen[choice])].items():
            value = _as_lists(value)
            if isinstance(value, dict) and isinstance(rec.get(key), dict):
                rec[key].update(value)
            else:
                rec[key] = value
    return rec

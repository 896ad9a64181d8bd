"""Which layer and head of a Transformer aligns words? AER per layer x head, chosen on dev.

A Transformer decoder has ``L`` cross-attention layers of ``H`` heads each;
some heads align words much better than others, and the average of all of
them is usually worse than the best layer (Garg et al. 2019; Chen et al.
2020). This module scores every head, every layer (heads averaged) and the
average of all layers and heads against gold word alignments, under two
schedules of which target word a decoder step's attention row aligns:

* ``naive`` (Naive-Att): row ``t`` aligns the word that step ``t`` *outputs*;
* ``shift`` (Shift-Att, Chen et al. 2020): row ``t`` aligns the word that step
  ``t`` *reads*, the output of step ``t - 1``; the row of the decoder start
  aligns nothing (the query of a step is computed from its input token, so
  its attention often looks at the source of that token).

Subword rows and columns are pooled to words first
(:func:`attnprobe.alignment.subwords.pool_matrix`: sum over a word's source
pieces, mean over its target pieces; special tokens dropped), then each
target word is linked with :func:`attnprobe.analyses.extraction.extract_alignment`
(``argmax-target`` by default), and AER is micro-averaged over the corpus.
:func:`select_head` picks the best head and the best layer on a dev set and
reports their AER on a test set, so that the reported number was not chosen
on the data it is measured on.

Pure functions of arrays: no torch, no model, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from attnprobe.alignment import Alignment, score_alignments
from attnprobe.alignment.subwords import POOLING, pool_matrix
from attnprobe.analyses.extraction import extract_alignment
from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "SCHEDULES",
    "HeadTable",
    "HeadChoice",
    "SentenceLinks",
    "row_words",
    "sentence_links",
    "score_links",
    "head_table",
    "select_head",
]

#: which target word a decoder step's attention row aligns
SCHEDULES = {
    "naive": "row t aligns the word step t outputs (Naive-Att)",
    "shift": "row t aligns the word step t reads, the output of step t-1 (Shift-Att)",
}


@dataclass(frozen=True)
class HeadTable:
    """AER (in [0, 1]) of every head, every layer and of all of them averaged, on one corpus.

    Attributes
    ----------
    heads : ``[L, H]``, the AER of each head's own attention.
    layers : ``[L]``, the AER of each layer's attention averaged over its heads.
    average : the AER of the attention averaged over all layers and heads.
    schedule : a key of :data:`SCHEDULES`.
    sentences : how many sentence pairs were scored.
    signature : how the numbers were made (schedule, pooling, extraction).
    """

    heads: np.ndarray
    layers: np.ndarray
    average: float
    schedule: str
    sentences: int
    signature: dict = field(default_factory=dict)

    def best_head(self) -> tuple[int, int]:
        """``(layer, head)`` with the lowest AER (the first one on ties)."""
        layer, head = np.unravel_index(int(np.argmin(self.heads)), self.heads.shape)
        return int(layer), int(head)

    def best_layer(self) -> int:
        """The layer whose head-averaged attention has the lowest AER."""
        return int(np.argmin(self.layers))

    def to_dict(self) -> dict:
        """Plain JSON: lists of floats."""
        return {
            "heads": self.heads.tolist(),
            "layers": self.layers.tolist(),
            "average": self.average,
            "schedule": self.schedule,
            "sentences": self.sentences,
            "signature": self.signature,
        }


@dataclass(frozen=True)
class HeadChoice:
    """The best head and layer chosen on dev, with their AER on dev and on test."""

    schedule: str
    head: tuple[int, int]
    head_dev: float
    head_test: float
    layer: int
    layer_dev: float
    layer_test: float
    average_test: float

    def to_dict(self) -> dict:
        return {
            "schedule": self.schedule,
            "head": list(self.head),
            "head_dev": self.head_dev,
            "head_test": self.head_test,
            "layer": self.layer,
            "layer_dev": self.layer_dev,
            "layer_test": self.layer_test,
            "average_test": self.average_test,
        }


def row_words(tgt_words: Sequence[int], schedule: str) -> list[int]:
    """The target word each attention row aligns under ``schedule`` (``-1``: none).

    ``tgt_words[t]`` is the word that step ``t`` outputs (``-1``: EOS, a language code).

    Examples
    --------
    >>> row_words([0, 1, 1, -1], "naive")
    [0, 1, 1, -1]
    >>> row_words([0, 1, 1, -1], "shift")       # step 0 reads the decoder start
    [-1, 0, 1, 1]
    """
    if schedule not in SCHEDULES:
        raise UnknownNameError("alignment schedule", schedule, SCHEDULES)
    words = [int(w) for w in tgt_words]
    return words if schedule == "naive" else [-1, *words[:-1]]


def _lengths(gold: Alignment, src_words, tgt_words) -> tuple[int, int]:
    n_src = gold.src_len if gold.src_len is not None else max(src_words, default=-1) + 1
    n_tgt = gold.tgt_len if gold.tgt_len is not None else max(tgt_words, default=-1) + 1
    return int(n_src), int(n_tgt)


def _extract(w: np.ndarray, method: str, n_src: int, n_tgt: int) -> Alignment:
    """Links of a word matrix ``[n_tgt, n_src]``; a target word without rows gets none."""
    if n_src == 0:
        return Alignment(frozenset(), frozenset(), n_src, n_tgt)
    links = extract_alignment(w, method).sure
    empty = set(np.flatnonzero(w.sum(1) == 0).tolist())
    return Alignment(
        frozenset(link for link in links if link[1] not in empty), frozenset(), n_src, n_tgt
    )


@dataclass(frozen=True)
class SentenceLinks:
    """One sentence's extracted links: per head ``[L][H]``, per layer ``[L]``, averaged."""

    heads: tuple[tuple[Alignment, ...], ...]
    layers: tuple[Alignment, ...]
    average: Alignment


def sentence_links(
    attention,
    src_words: Sequence[int],
    tgt_words: Sequence[int],
    n_src: int,
    n_tgt: int,
    schedule: str = "naive",
    method: str = "argmax-target",
) -> SentenceLinks:
    """Extract one sentence's links from every head, layer and the average (see :func:`head_table`).

    Examples
    --------
    >>> w = np.array([[[[0.9, 0.1], [0.2, 0.8]]]])         # [L=1, H=1, T=2, S=2]
    >>> sorted(sentence_links(w, [0, -1], [0, -1], 1, 1).heads[0][0].sure)
    [(0, 0)]
    """
    a = np.asarray(attention, dtype=np.float64)
    if a.ndim != 4 or a.shape[2:] != (len(tgt_words), len(src_words)):
        raise InputError(
            f"attention {a.shape} does not fit [L, H, T={len(tgt_words)}, S={len(src_words)}]",
            fix="pass one [L, H, T, S] array per sentence, trimmed to its lengths",
        )
    L, H = a.shape[:2]
    w = pool_matrix(a, src_words, row_words(tgt_words, schedule), n_src, n_tgt)  # [L, H, m, n]
    layer_mean = w.mean(1)  # [L, n_tgt, n_src]
    return SentenceLinks(
        tuple(tuple(_extract(w[l, h], method, n_src, n_tgt) for h in range(H)) for l in range(L)),
        tuple(_extract(layer_mean[l], method, n_src, n_tgt) for l in range(L)),
        _extract(layer_mean.mean(0), method, n_src, n_tgt),
    )


def score_links(
    links: Sequence[SentenceLinks],
    gold: Sequence[Alignment],
    schedule: str = "naive",
    method: str = "argmax-target",
) -> HeadTable:
    """Micro-averaged AER of every head, layer and the average over sentences' links."""
    if len(links) != len(gold):
        raise InputError(f"{len(links)} sentences of links, {len(gold)} gold alignments")
    if not links:
        raise InputError("no sentences to score")
    shapes = {(len(x.heads), len(x.heads[0]) if x.heads else 0) for x in links}
    if len(shapes) > 1:
        raise InputError(f"sentences with different layers x heads: {sorted(shapes)}")
    (L, H), gold = shapes.pop(), list(gold)

    def aer(hyps) -> float:
        return float(score_alignments(gold, list(hyps)).aer)

    heads = np.array([[aer(x.heads[l][h] for x in links) for h in range(H)] for l in range(L)])
    layers = np.array([aer(x.layers[l] for x in links) for l in range(L)])
    signature = {
        "schedule": schedule,
        "pooling": dict(POOLING),
        "extraction": method,
        "aer": "micro-averaged over sentences",
    }
    return HeadTable(heads, layers, aer(x.average for x in links), schedule, len(links), signature)


def head_table(
    attention: Sequence,
    src_words: Sequence[Sequence[int]],
    tgt_words: Sequence[Sequence[int]],
    gold: Sequence[Alignment],
    schedule: str = "naive",
    method: str = "argmax-target",
) -> HeadTable:
    """Score every layer x head, every layer and the average against ``gold``.

    Parameters
    ----------
    attention : one ``[L, H, T, S]`` array per sentence (cross-attention of
        every layer and head, trimmed to the sentence's steps and positions).
    src_words : per sentence, the word of each source position (``-1``: special).
    tgt_words : per sentence, the word each step outputs (``-1``: special).
    gold : per sentence, the gold word alignment (source word, target word); its
        lengths, when known, give the numbers of words.
    schedule : ``"naive"`` or ``"shift"`` (:data:`SCHEDULES`).
    method : the extraction method (:data:`attnprobe.analyses.extraction.EXTRACTORS`).

    Returns
    -------
    HeadTable

    Raises
    ------
    InputError : different numbers of sentences, shapes that disagree, or
        sentences with different numbers of layers and heads.

    Examples
    --------
    Two layers of one head; two words per side, one piece each, then EOS:

    >>> diag = [[0.9, 0.1, 0.0], [0.1, 0.9, 0.0], [0.0, 0.0, 1.0]]
    >>> anti = [[0.1, 0.9, 0.0], [0.9, 0.1, 0.0], [0.0, 0.0, 1.0]]
    >>> gold = Alignment.from_links([(0, 0), (1, 1)], src_len=2, tgt_len=2)
    >>> t = head_table([np.array([[diag], [anti]])], [[0, 1, -1]], [[0, 1, -1]], [gold])
    >>> t.heads.tolist(), t.layers.tolist(), t.average
    ([[0.0], [1.0]], [0.0, 1.0], 0.5)
    """
    n = len(attention)
    if not (n == len(src_words) == len(tgt_words) == len(gold)):
        raise InputError(
            f"{n} attention arrays, {len(src_words)} source and {len(tgt_words)} target "
            f"word lists, {len(gold)} gold alignments: one of each per sentence"
        )
    links = []
    for k in range(n):
        n_src, n_tgt = _lengths(gold[k], src_words[k], tgt_words[k])
        try:
            links.append(
                sentence_links(
                    attention[k], src_words[k], tgt_words[k], n_src, n_tgt, schedule, method
                )
            )
        except InputError as exc:
            raise InputError(f"sentence {k}: {exc.message}", fix=exc.fix) from None
    return score_links(links, gold, schedule, method)


def select_head(dev: HeadTable, test: HeadTable) -> HeadChoice:
    """The best head and the best layer on ``dev``, with their AER on ``test``.

    Raises
    ------
    InputError : the tables differ in schedule or in layers x heads.

    Examples
    --------
    >>> dev = HeadTable(np.array([[0.5, 0.2], [0.3, 0.4]]), np.array([0.4, 0.3]), 0.35,
    ...                 "shift", 10)
    >>> test = HeadTable(np.array([[0.6, 0.25], [0.2, 0.5]]), np.array([0.45, 0.35]), 0.4,
    ...                  "shift", 10)
    >>> c = select_head(dev, test)
    >>> c.head, c.head_test, c.layer, c.layer_test     # chosen on dev, not on test
    ((0, 1), 0.25, 1, 0.35)
    """
    if dev.schedule != test.schedule or dev.heads.shape != test.heads.shape:
        raise InputError(
            f"dev ({dev.schedule}, {dev.heads.shape}) and test ({test.schedule}, "
            f"{test.heads.shape}) tables differ; score both with the same model and schedule"
        )
    head = dev.best_head()
    layer = dev.best_layer()
    return HeadChoice(
        schedule=dev.schedule,
        head=head,
        head_dev=float(dev.heads[head]),
        head_test=float(test.heads[head]),
        layer=layer,
        layer_dev=float(dev.layers[layer]),
        layer_test=float(test.layers[layer]),
        average_test=test.average,
    )

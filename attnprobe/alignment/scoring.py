"""Alignment error rate, precision, recall and F1, as the reference scorers compute them.

Scoring follows the standard definitions (Och & Ney 2003), micro-averaged over
the corpus: precision ``|A∩P|/|A|``, recall ``|A∩S|/|S|``,
``AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)``, where ``A`` is every hypothesis
link (possible-marked ones too) and ``P`` includes ``S``.

A ratio whose denominator is zero is **undefined**, not 0 or 1: it is NaN
here, ``null`` in JSON and ``n/a`` in text, with one warning line. F1 is
undefined when precision or recall is; when both are 0 it is 0 (the harmonic
mean is at most twice the smaller of the two).

Sentences are paired by :mod:`.matching` (by id when both sides have ids, by
position otherwise); the counting then runs on :class:`LinkTable` arrays in a
few vectorised passes.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from attnprobe.alignment.formats import read_side
from attnprobe.alignment.matching import Side, pair_sentences
from attnprobe.alignment.types import (
    Alignment,
    LinkTable,
    _cell_layout,
    _len_str,
    _outside,
)
from attnprobe.errors import InputError

__all__ = ["AlignmentScores", "SentenceScores", "score_alignments", "score_files"]


def _gold_hits(gold: LinkTable, hyp: LinkTable) -> np.ndarray:
    """Bool ``[L_gold]``: whether each gold link is also a hypothesis link.

    Block by block of sentences, the hypothesis links are marked in a dense byte
    array of cells (:meth:`LinkTable._cells`) and every gold link reads its
    cell: no sort, each link touched once. A block marks with its own stamp, so
    that the marks of earlier blocks need no clearing (until the stamps wrap).
    """
    layout = _cell_layout(*(max(g, h) for g, h in zip(gold._widths(), hyp._widths(), strict=True)))
    if layout is None:  # very long sentences: sort-based membership instead
        return _gold_hits_sorted(gold, hyp)
    bs, bt, k = layout
    gcells, hcells = gold._cells(layout), hyp._cells(layout)
    n = len(gold)
    ends = [*range(0, n, 1 << k), n]
    goff, hoff = gold.offsets[ends].tolist(), hyp.offsets[ends].tolist()
    mark = np.zeros(1 << (bs + bt + k), np.uint8)
    hits = np.empty(len(gcells), bool)
    read = np.empty(int(np.diff(goff).max(initial=0)), np.uint8)  # one block's gold cells
    stamp = 0
    for b in range(len(ends) - 1):
        stamp += 1
        if stamp == 256:
            mark.fill(0)
            stamp = 1
        mark[hcells[hoff[b] : hoff[b + 1]]] = stamp
        g0, g1 = goff[b], goff[b + 1]
        np.take(mark, gcells[g0:g1], out=read[: g1 - g0])
        np.equal(read[: g1 - g0], stamp, out=hits[g0:g1])
    return hits


_POPCOUNT = np.array([bin(v).count("1") for v in range(256)], np.uint8)  # bits set per byte


def _bit_count(words: np.ndarray) -> np.ndarray:
    """Bits set in each uint64 of ``words`` (``np.bitwise_count`` where numpy has it)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    as_bytes = np.ascontiguousarray(words, "<u8").view(np.uint8).reshape(len(words), 8)
    return _POPCOUNT[as_bytes].sum(1, dtype=np.uint8)


def _hit_counts(gold: LinkTable, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence ``(|A∩S|, |A∩P|)`` from the gold links' hit flags, int64 ``[N]`` each.

    Counts are differences of prefix sums of the hits, taken at the sentence and
    sure-block bounds. The prefix sums are kept per 64 links only (bit-packed
    flags, one popcount per word); a bound inside a word adds the bits of that
    word below it.
    """
    packed = np.packbits(hits, bitorder="little")  # link i is bit i % 8 of byte i // 8
    words = np.zeros(len(packed) // 8 + 1, "<u8")  # ... and bit i % 64 of word i // 64
    words.view(np.uint8)[: len(packed)] = packed  # (one word past the last bound, all zero)
    before = np.zeros(len(words), np.int64)  # hits in the words before word q
    np.cumsum(_bit_count(words[:-1]), out=before[1:])

    def prefix(pos: np.ndarray) -> np.ndarray:  # hits among links [0, pos)
        q = pos >> 6
        below = (np.uint64(1) << (pos & 63).astype(np.uint64)) - np.uint64(1)
        return before[q] + _bit_count(words[q] & below)

    at_start = prefix(gold.offsets)
    first = at_start[:-1]
    return prefix(gold.sure_end) - first, at_start[1:] - first


def _gold_hits_sorted(gold: LinkTable, hyp: LinkTable) -> np.ndarray:
    """:func:`_gold_hits` by sorting (sentence, link) keys: memory linear in the links.

    Indices are at most ``MAX_INDEX < 2**31``, so ``src << 31 | tgt`` is one
    int64 key per link whatever the values; a table holds no link twice.
    """
    n_gold = gold.n_links
    sentence = np.concatenate([gold._sentence_ids(), hyp._sentence_ids()])
    pair = np.concatenate([(gold.src << 31) | gold.tgt, (hyp.src << 31) | hyp.tgt])
    is_gold = np.concatenate([np.ones(n_gold, bool), np.zeros(hyp.n_links, bool)])
    order = np.lexsort((is_gold, pair, sentence))  # within a key, the hypothesis copy first
    sentence, pair, is_gold = sentence[order], pair[order], is_gold[order]
    after_same = np.zeros(len(order), bool)
    after_same[1:] = (sentence[1:] == sentence[:-1]) & (pair[1:] == pair[:-1])
    hits = np.empty(n_gold, bool)
    hits[order[is_gold]] = after_same[is_gold]
    return hits


def _ratio(num, den):
    """``num / den`` elementwise; NaN (undefined) where ``den == 0``."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den != 0)
    return out if out.ndim else float(out)


def _metrics(links, sure, hits_sure, hits_possible):
    """Precision, recall, AER, F1 from link counts (scalars or arrays); NaN = undefined."""
    precision = _ratio(hits_possible, links)
    recall = _ratio(hits_sure, sure)
    aer = 1.0 - _ratio(np.add(hits_sure, hits_possible), np.add(links, sure))
    pr = np.add(precision, recall)  # NaN when either is undefined
    f1 = np.where(pr == 0, 0.0, _ratio(2 * np.multiply(precision, recall), pr))
    return precision, recall, aer, (f1 if np.ndim(f1) else float(f1))


@dataclass(frozen=True)
class SentenceScores:
    """Per-sentence counts and scores, arrays of length ``N``.

    The same definitions as :class:`AlignmentScores`; an undefined score is NaN.

    Examples
    --------
    >>> gold = [Alignment.from_links([(0, 0)]), Alignment.from_links([(0, 0), (1, 1)])]
    >>> hyp = [Alignment.from_links([(0, 0)]), Alignment.from_links([(0, 1)])]
    >>> score_alignments(gold, hyp).per_sentence().aer.tolist()
    [0.0, 1.0]
    """

    links: np.ndarray
    sure: np.ndarray
    possible: np.ndarray
    hits_sure: np.ndarray
    hits_possible: np.ndarray

    @cached_property
    def precision(self) -> np.ndarray:
        """``|A∩P| / |A|`` per sentence (NaN where ``A`` is empty)."""
        return _ratio(self.hits_possible, self.links)

    @cached_property
    def recall(self) -> np.ndarray:
        """``|A∩S| / |S|`` per sentence (NaN where ``S`` is empty)."""
        return _ratio(self.hits_sure, self.sure)

    @cached_property
    def aer(self) -> np.ndarray:
        """Alignment error rate per sentence (NaN where ``A`` and ``S`` are both empty)."""
        return 1.0 - _ratio(self.hits_sure + self.hits_possible, self.links + self.sure)

    @cached_property
    def f1(self) -> np.ndarray:
        """Harmonic mean of precision and recall per sentence (NaN where either is)."""
        p, r = self.precision, self.recall
        pr = p + r  # NaN when either is undefined
        return np.where(pr == 0, 0.0, _ratio(2 * p * r, pr))


_SHOWN = {"aer": "AER", "precision": "precision", "recall": "recall", "f1": "F1"}
_UNDEFINED_WHY = {
    "precision": "the hypothesis has no link",
    "recall": "the gold has no sure link",
}


@dataclass(frozen=True)
class AlignmentScores:
    """Corpus-level (micro-averaged) alignment scores, with per-sentence detail on demand.

    Scores are fractions in [0, 1], or NaN where undefined (a zero
    denominator); :meth:`as_dict` turns NaN into None (JSON ``null``) and
    ``str()`` prints ``n/a``.

    Attributes
    ----------
    links : ``|A|``, hypothesis links.
    sure : ``|S|``, sure gold links.
    possible : ``|P|``, possible gold links, sure ones included.
    hits_sure, hits_possible : ``|A∩S|`` and ``|A∩P|``.
    sentences : number of sentence pairs scored.
    warnings : one-line notes for the user (undefined scores, sentences read
        as empty, an index base that looks wrong).

    Examples
    --------
    >>> gold = [Alignment.from_links([(0, 0), (1, 1)], possible=[(1, 2)])]
    >>> hyp = [Alignment.from_links([(0, 0), (1, 2), (2, 2)])]
    >>> s = score_alignments(gold, hyp)
    >>> round(s.precision, 4), s.recall, round(s.aer, 4)
    (0.6667, 0.5, 0.4)
    >>> e = score_alignments(gold, [Alignment.from_links([])])
    >>> e.precision, e.recall, e.as_dict()["precision"]
    (nan, 0.0, None)
    >>> e.warnings
    ('precision and F1 are undefined (the hypothesis has no link): reported as n/a (null)',)
    """

    links: int
    sure: int
    possible: int
    hits_sure: int
    hits_possible: int
    sentences: int
    warnings: tuple[str, ...] = field(default=(), compare=False)
    _gold: LinkTable | None = field(default=None, repr=False, compare=False)
    _hyp: LinkTable | None = field(default=None, repr=False, compare=False)
    _hits: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def _all(self):
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)

    @property
    def precision(self) -> float:
        """``|A∩P| / |A|`` (NaN for an empty hypothesis)."""
        return self._all()[0]

    @property
    def recall(self) -> float:
        """``|A∩S| / |S|`` (NaN when the gold has no sure link)."""
        return self._all()[1]

    @property
    def aer(self) -> float:
        """``1 - (|A∩S| + |A∩P|) / (|A| + |S|)`` (NaN when A and S are both empty)."""
        return self._all()[2]

    @property
    def f1(self) -> float:
        """``2 P R / (P + R)``: NaN when P or R is, 0.0 when both are 0."""
        return self._all()[3]

    def undefined(self) -> list[str]:
        """Names of the scores that are undefined, in the order aer, precision, recall, f1.

        Examples
        --------
        >>> score_alignments([Alignment.from_links([])], [Alignment.from_links([])]).undefined()
        ['aer', 'precision', 'recall', 'f1']
        """
        values = dict(zip(("precision", "recall", "aer", "f1"), self._all(), strict=True))
        return [name for name in ("aer", "precision", "recall", "f1") if math.isnan(values[name])]

    def per_sentence(self) -> SentenceScores:
        """Counts and scores of every sentence, as arrays of length ``N``.

        The counts are made with the corpus scores (one vectorised pass); each
        score array is computed when first read.

        Examples
        --------
        >>> g = [Alignment.from_links([(0, 0)]), Alignment.from_links([])]
        >>> score_alignments(g, g).per_sentence().links.tolist()
        [1, 0]
        """
        if self._gold is None:
            raise InputError("these scores were not computed from a corpus; use score_alignments")
        g, h = self._gold, self._hyp
        hits_sure, hits_possible = self._hits
        return SentenceScores(
            links=np.diff(h.offsets),
            sure=g.sure_end - g.offsets[:-1],
            possible=np.diff(g.offsets),
            hits_sure=hits_sure,
            hits_possible=hits_possible,
        )

    def as_dict(self) -> dict:
        """Plain numbers for JSON: scores as fractions in [0, 1] or None, link counts.

        Examples
        --------
        >>> g = [Alignment.from_links([(0, 0)])]
        >>> score_alignments(g, g).as_dict()["aer"]
        0.0
        """
        precision, recall, aer, f1 = (None if math.isnan(v) else v for v in self._all())
        return {
            "aer": aer,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "links": self.links,
            "sure": self.sure,
            "possible": self.possible,
            "hits_sure": self.hits_sure,
            "hits_possible": self.hits_possible,
            "sentences": self.sentences,
        }

    def to_json(self) -> str:
        """:meth:`as_dict` as a JSON object on one line (undefined scores are ``null``)."""
        return json.dumps(self.as_dict())

    def __str__(self) -> str:
        def pct(v):
            return "n/a" if math.isnan(v) else f"{100 * v:.2f}%"

        return (
            f"AER {pct(self.aer)}  precision {pct(self.precision)}  "
            f"recall {pct(self.recall)}  F1 {pct(self.f1)}  "
            f"({self.links} links; gold {self.sure} sure, {self.possible} possible; "
            f"{self.sentences} sentences)"
        )


def _undefined_note(scores: AlignmentScores) -> str | None:
    names = scores.undefined()
    if not names:
        return None
    if "aer" in names:
        why = "the hypothesis and the gold's sure links are both empty"
    else:
        why = "; ".join(text for name, text in _UNDEFINED_WHY.items() if name in names)
    shown = [_SHOWN[name] for name in names]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return (
        f"{listed} {'is' if len(shown) == 1 else 'are'} undefined ({why}): reported as n/a (null)"
    )


def _as_table(x, name: str) -> LinkTable:
    if isinstance(x, LinkTable):
        return x
    if isinstance(x, Alignment):
        raise InputError(
            f"{name} must be a sequence of alignments (one per sentence), got a single Alignment",
            fix=f"pass [{name}]",
        )
    return LinkTable.from_alignments(list(x))


def score_alignments(gold, hyp, *, match: str = "auto") -> AlignmentScores:
    """Score hypothesis alignments against gold alignments, like the reference scorers.

    Micro-averaged over the corpus (counts are summed before dividing):
    precision ``|A∩P|/|A|``, recall ``|A∩S|/|S|``,
    ``AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)``, F1 of precision and recall.
    ``A`` is every hypothesis link (sure or possible), ``P`` includes ``S``.
    A score with a zero denominator is NaN and named in ``warnings``.

    Parameters
    ----------
    gold, hyp : :class:`LinkTable`, or sequences of :class:`Alignment`, one per
        sentence and in the same orientation (source, target).
    match : how sentences pair up (:mod:`attnprobe.alignment.matching`):
        ``"auto"`` pairs tables that both have ids by id (a gold sentence the
        hypothesis lacks scores as empty, with a warning) and others by
        position; ``"line"`` and ``"position"`` say how to pair a table with
        ids and one without.

    Raises
    ------
    InputError
        Different numbers of sentences; a hypothesis id the gold lacks; known
        sentence lengths that differ; hypothesis links outside the gold's
        known lengths.

    Examples
    --------
    >>> gold = [Alignment.from_links([(0, 0), (1, 1)], possible=[(1, 2)])]
    >>> s = score_alignments(gold, [Alignment.from_links([(0, 0), (1, 2), (2, 2)])])
    >>> s.links, s.hits_sure, s.hits_possible, round(s.f1, 4)
    (3, 1, 2, 0.5714)
    """
    gold, hyp = _as_table(gold, "gold"), _as_table(hyp, "hyp")
    return _score(
        gold,
        Side(len(gold), gold.ids, "the gold"),
        hyp,
        Side(len(hyp), hyp.ids, "the hypothesis"),
        match,
        [],
    )


def _score(gold, gold_side, hyp, hyp_side, match, warnings) -> AlignmentScores:
    pairing = pair_sentences(gold_side, hyp_side, match)
    gold, hyp = _rows(gold, pairing.rows_a), _rows(hyp, pairing.rows_b)
    _check_lengths(gold, hyp)
    hits_sure, hits_possible = _hit_counts(gold, _gold_hits(gold, hyp))
    scores = AlignmentScores(
        links=hyp.n_links,
        sure=gold.n_sure,
        possible=gold.n_links,
        hits_sure=int(hits_sure.sum()),
        hits_possible=int(hits_possible.sum()),
        sentences=len(gold),
        _gold=gold,
        _hyp=hyp,
        _hits=(hits_sure, hits_possible),
    )
    notes = [*warnings, *pairing.warnings, _undefined_note(scores)]
    return replace(scores, warnings=tuple(n for n in notes if n))


def _rows(table: LinkTable, rows: np.ndarray) -> LinkTable:
    """The table's sentences in the order ``rows`` (itself when that is every row in order)."""
    if len(rows) == len(table) and (rows == np.arange(len(table))).all():
        return table
    return table._select(rows)


def _check_lengths(gold: LinkTable, hyp: LinkTable) -> None:
    for name in ("src_len", "tgt_len"):
        g, h = getattr(gold, name), getattr(hyp, name)
        if g is not None and h is not None:
            differ = np.flatnonzero((g >= 0) & (h >= 0) & (g != h))
            if len(differ):
                s = int(differ[0])
                raise InputError(
                    f"sentence {s + 1}: gold {name} {g[s]}, hypothesis {h[s]}",
                    fix="check that the files belong to the same corpus",
                )
    sentence = hyp._sentence_ids() if gold.src_len is not None or gold.tgt_len is not None else None
    if sentence is not None:
        bad = _outside(sentence, hyp.src, hyp.tgt, gold.src_len, gold.tgt_len)
        if bad is not None:
            s = int(sentence[bad])
            raise InputError(
                f"sentence {s + 1}: hypothesis link {hyp.src[bad]}-{hyp.tgt[bad]} points outside "
                f"the {_len_str(gold.src_len, s)}x{_len_str(gold.tgt_len, s)} sentence pair",
                fix="check the index base and direction options of the hypothesis",
            )


def score_files(
    gold_path: str | os.PathLike,
    hyp_path: str | os.PathLike,
    *,
    format: str = "auto",
    gold_one_based: bool | None = None,
    hyp_one_based: bool | None = None,
    reverse_gold: bool = False,
    reverse_hyp: bool = False,
    lengths: Sequence[tuple[int, int]] | None = None,
    match: str = "auto",
) -> AlignmentScores:
    """Read a gold and a hypothesis file and score them (what ``attnprobe score`` runs).

    Both files are read with :func:`~attnprobe.alignment.read_link_table`;
    ``format`` applies to each file (``auto`` detects each one separately).
    Sentences pair up by ``match`` (:mod:`attnprobe.alignment.matching`): by id
    when both files carry ids (NAACL, ``id<TAB>``), by position when neither
    does. With ``lengths`` (one pair of sentence lengths per corpus line, e.g.
    from :func:`~attnprobe.alignment.read_bitext_lengths`) each file is paired
    with the corpus instead, and every link is checked to lie inside its sentence.
    Notes for the user (sentences read as empty, undefined scores, an index
    base that looks wrong) are in the result's ``warnings``.

    Raises
    ------
    InputError
        Naming the file and line, for anything the readers reject and for
        sentences that do not pair up.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "gold").write_text("1-1 2-2 2p3\\n")      # 1-based, p = possible
    >>> _ = (d / "hyp").write_text("0-0 1-2 2-2\\n")       # 0-based
    >>> s = score_files(d / "gold", d / "hyp", gold_one_based=True)
    >>> round(s.aer, 4)
    0.4
    """
    warnings: list[str] = []
    sides = []
    for path, one_based, reverse in (
        (gold_path, gold_one_based, reverse_gold),
        (hyp_path, hyp_one_based, reverse_hyp),
    ):
        sides.append(
            read_side(
                path,
                format=format,
                one_based=one_based,
                reverse=reverse,
                lengths=lengths,
                match=match,
                warnings=warnings,
            )
        )
    (gold, gold_side), (hyp, hyp_side) = sides
    return _score(gold, gold_side, hyp, hyp_side, match, warnings)

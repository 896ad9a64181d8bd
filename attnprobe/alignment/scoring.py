"""AER, precision, recall and F1, micro-averaged, as the reference scorers compute them.

Scoring follows the standard definitions (Och & Ney 2003): precision
``|A∩P|/|A|``, recall ``|A∩S|/|S|``, ``AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from attnprobe.alignment.formats import file_format, read_link_table
from attnprobe.alignment.types import (
    _CELL_BITS,
    _MIN_BITS,
    Alignment,
    LinkTable,
    _len_str,
    _outside,
)
from attnprobe.errors import InputError

__all__ = ["AlignmentScores", "SentenceScores", "score_alignments", "score_files"]


# --------------------------------------------------------------------------- scoring


def _gold_hits(gold: LinkTable, hyp: LinkTable) -> np.ndarray:
    """Bool ``[L_gold]``: whether each gold link is also a hypothesis link."""
    n = len(gold)
    bits = max(_MIN_BITS, gold._max_index().bit_length(), hyp._max_index().bit_length())
    if 2 * bits > _CELL_BITS:  # very long sentences: sort-based membership instead
        return _gold_hits_sorted(gold, hyp)
    per_chunk = 1 << (_CELL_BITS - 2 * bits)
    gcells, hcells = gold._cells(bits), hyp._cells(bits)
    goff, hoff = gold.offsets, hyp.offsets
    mark = np.zeros(1 << _CELL_BITS, np.uint8)
    hits = np.empty(len(gcells), bool)
    stamp = 0
    for s0 in range(0, n, per_chunk):
        s1 = min(n, s0 + per_chunk)
        stamp += 1
        if stamp == 256:  # stamps make clearing the marks of the last block unnecessary
            mark.fill(0)
            stamp = 1
        mark[hcells[hoff[s0] : hoff[s1]]] = stamp
        g0, g1 = goff[s0], goff[s1]
        np.equal(mark[gcells[g0:g1]], stamp, out=hits[g0:g1])
    return hits


def _gold_hits_sorted(gold: LinkTable, hyp: LinkTable) -> np.ndarray:
    width = max(gold._max_index(), hyp._max_index()) + 1
    if len(gold) * width * width >= 2**62:
        raise InputError(f"corpus too large to score: {len(gold)} sentences of up to {width} words")

    def keys(t):
        return (t._sentence_ids() * width + t.src) * width + t.tgt

    return np.isin(keys(gold), keys(hyp))


def _ratio(num, den, empty):
    """``num / den`` elementwise, ``empty`` where ``den == 0``."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.divide(
        num, den, out=np.full(np.broadcast(num, den).shape, float(empty)), where=den != 0
    )
    return out if out.ndim else float(out)


def _metrics(links, sure, hits_sure, hits_possible):
    """Precision, recall, AER, F1 from link counts (scalars or arrays).

    Empty denominators follow vacuous truth: no proposed link means precision 1,
    no sure link means recall 1, and nothing to compare means AER 0.
    """
    precision = _ratio(hits_possible, links, 1.0)
    recall = _ratio(hits_sure, sure, 1.0)
    aer = 1.0 - _ratio(np.add(hits_sure, hits_possible), np.add(links, sure), 1.0)
    pr = np.add(precision, recall)
    f1 = _ratio(2 * np.multiply(precision, recall), pr, 0.0)
    return precision, recall, aer, f1


@dataclass(frozen=True)
class SentenceScores:
    """Per-sentence counts and scores, arrays of length ``N``.

    The same definitions and empty-set conventions as :class:`AlignmentScores`.

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

    @property
    def precision(self) -> np.ndarray:
        """``|A∩P| / |A|`` per sentence (1 where ``A`` is empty)."""
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)[0]

    @property
    def recall(self) -> np.ndarray:
        """``|A∩S| / |S|`` per sentence (1 where ``S`` is empty)."""
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)[1]

    @property
    def aer(self) -> np.ndarray:
        """Alignment error rate per sentence (0 where ``A`` and ``S`` are empty)."""
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)[2]

    @property
    def f1(self) -> np.ndarray:
        """Harmonic mean of precision and recall per sentence."""
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)[3]


@dataclass(frozen=True)
class AlignmentScores:
    """Corpus-level (micro-averaged) alignment scores, with per-sentence detail on demand.

    Attributes
    ----------
    links : ``|A|``, hypothesis links.
    sure : ``|S|``, sure gold links.
    possible : ``|P|``, possible gold links, sure ones included.
    hits_sure, hits_possible : ``|A∩S|`` and ``|A∩P|``.
    sentences : number of sentence pairs.

    Examples
    --------
    >>> gold = [Alignment.from_links([(0, 0), (1, 1)], possible=[(1, 2)])]
    >>> hyp = [Alignment.from_links([(0, 0), (1, 2), (2, 2)])]
    >>> s = score_alignments(gold, hyp)
    >>> round(s.precision, 4), s.recall, round(s.aer, 4)
    (0.6667, 0.5, 0.4)
    """

    links: int
    sure: int
    possible: int
    hits_sure: int
    hits_possible: int
    sentences: int
    _gold: LinkTable | None = field(default=None, repr=False, compare=False)
    _hyp: LinkTable | None = field(default=None, repr=False, compare=False)
    _hits: np.ndarray | None = field(default=None, repr=False, compare=False)

    def _all(self):
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)

    @property
    def precision(self) -> float:
        """``|A∩P| / |A|`` (1.0 for an empty hypothesis: no proposed link is wrong)."""
        return self._all()[0]

    @property
    def recall(self) -> float:
        """``|A∩S| / |S|`` (1.0 when the gold has no sure link)."""
        return self._all()[1]

    @property
    def aer(self) -> float:
        """``1 - (|A∩S| + |A∩P|) / (|A| + |S|)`` (0.0 when A and S are both empty)."""
        return self._all()[2]

    @property
    def f1(self) -> float:
        """``2 P R / (P + R)`` (0.0 when both are 0)."""
        return self._all()[3]

    def per_sentence(self) -> SentenceScores:
        """Counts and scores of every sentence (computed on first use).

        Examples
        --------
        >>> g = [Alignment.from_links([(0, 0)]), Alignment.from_links([])]
        >>> score_alignments(g, g).per_sentence().links.tolist()
        [1, 0]
        """
        if self._gold is None:
            raise InputError("these scores were not computed from a corpus; use score_alignments")
        g, h = self._gold, self._hyp
        start = g.offsets[:-1]
        sure = g.sure_end - start
        possible = np.diff(g.offsets)
        # one segment sum per block: [sure links of s, possible-only links of s, ...]
        bounds = np.stack([start, g.sure_end], axis=1).reshape(-1)
        sizes = np.stack([sure, possible - sure], axis=1).reshape(-1)
        sums = np.zeros(len(bounds), np.int64)
        inside = bounds < len(self._hits)  # blocks starting at the end are empty
        if inside.any():
            sums[inside] = np.add.reduceat(self._hits, bounds[inside], dtype=np.int32)
            sums[sizes == 0] = 0  # reduceat gives the element itself for an empty block
        hits_sure, hits_only = sums[0::2], sums[1::2]
        return SentenceScores(
            links=np.diff(h.offsets),
            sure=sure,
            possible=possible,
            hits_sure=hits_sure,
            hits_possible=hits_sure + hits_only,
        )

    def as_dict(self) -> dict:
        """Plain numbers for JSON: scores as fractions in [0, 1], link counts.

        Examples
        --------
        >>> g = [Alignment.from_links([(0, 0)])]
        >>> score_alignments(g, g).as_dict()["aer"]
        0.0
        """
        precision, recall, aer, f1 = self._all()
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
        """:meth:`as_dict` as a JSON object on one line."""
        return json.dumps(self.as_dict())

    def __str__(self) -> str:
        return (
            f"AER {100 * self.aer:.2f}%  precision {100 * self.precision:.2f}%  "
            f"recall {100 * self.recall:.2f}%  F1 {100 * self.f1:.2f}%  "
            f"({self.links} links; gold {self.sure} sure, {self.possible} possible; "
            f"{self.sentences} sentences)"
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


def score_alignments(gold, hyp) -> AlignmentScores:
    """Score hypothesis alignments against gold alignments, like the reference scorers.

    Micro-averaged over the corpus (counts are summed before dividing):
    precision ``|A∩P|/|A|``, recall ``|A∩S|/|S|``,
    ``AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)``, F1 of precision and recall.
    ``A`` is every hypothesis link (sure or possible), ``P`` includes ``S``.
    Empty sets never divide by zero: see :class:`AlignmentScores`.

    Parameters
    ----------
    gold, hyp : :class:`LinkTable`, or sequences of :class:`Alignment`, one per
        sentence and in the same orientation (source, target).

    Raises
    ------
    InputError
        Different numbers of sentences; known sentence lengths that differ;
        hypothesis links outside the gold's known lengths.

    Examples
    --------
    >>> gold = [Alignment.from_links([(0, 0), (1, 1)], possible=[(1, 2)])]
    >>> s = score_alignments(gold, [Alignment.from_links([(0, 0), (1, 2), (2, 2)])])
    >>> s.links, s.hits_sure, s.hits_possible, round(s.f1, 4)
    (3, 1, 2, 0.5714)
    """
    gold, hyp = _as_table(gold, "gold"), _as_table(hyp, "hyp")
    if len(gold) != len(hyp):
        raise InputError(
            f"gold has {len(gold)} sentences, the hypothesis {len(hyp)}",
            fix="score files with one entry per sentence of the same corpus",
        )
    _check_lengths(gold, hyp)
    hits = _gold_hits(gold, hyp)
    sure = gold.sure
    return AlignmentScores(
        links=hyp.n_links,
        sure=int(sure.sum()),
        possible=gold.n_links,
        hits_sure=int(np.count_nonzero(hits & sure)),
        hits_possible=int(np.count_nonzero(hits)),
        sentences=len(gold),
        _gold=gold,
        _hyp=hyp,
        _hits=hits,
    )


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
) -> AlignmentScores:
    """Read a gold and a hypothesis file and score them (what ``attnprobe score`` runs).

    Both files are read with :func:`read_link_table`; ``format`` applies to
    each file (``auto`` detects each one separately). A NAACL file lacks lines
    for trailing sentences without links, so it is padded to the sentence count
    of the other file; two Pharaoh files must have the same number of lines.

    Raises
    ------
    InputError
        Naming the file and line, for anything :func:`read_link_table` rejects
        and for sentence counts that differ.

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
    formats = {}
    for name, path in (("gold", gold_path), ("hyp", hyp_path)):
        formats[name] = file_format(path) if format == "auto" else format
    options = {
        "gold": dict(
            path=gold_path,
            format=formats["gold"],
            one_based=gold_one_based,
            reverse=reverse_gold,
            lengths=lengths,
        ),
        "hyp": dict(
            path=hyp_path,
            format=formats["hyp"],
            one_based=hyp_one_based,
            reverse=reverse_hyp,
            lengths=lengths,
        ),
    }
    gold = read_link_table(**options["gold"])
    hyp = read_link_table(**options["hyp"])
    if len(gold) != len(hyp):
        short, other = ("gold", gold) if len(gold) < len(hyp) else ("hyp", hyp)
        longer = hyp if short == "gold" else gold
        if formats[short] == "naacl":
            padded = read_link_table(**options[short], n_sentences=len(longer))
            gold, hyp = (padded, hyp) if short == "gold" else (gold, padded)
        else:
            path = options[short]["path"]
            long_path = options["hyp" if short == "gold" else "gold"]["path"]
            raise InputError(
                f"file ends after {len(other)} sentence lines, but {long_path} has {len(longer)}",
                path=path,
                line=len(other) + 1,
                fix="give one line per sentence of the same corpus in both files "
                "(an empty line for a sentence without links)",
            )
    return score_alignments(gold, hyp)

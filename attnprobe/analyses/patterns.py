"""Attention patterns: what shape the soft alignment a model learned has.

The attention literature describes attention with a handful of recurring
observations: it is mostly sharp (low entropy), mostly monotonic but crossing
where the languages reorder (adjectives in French, verbs in Japanese), it jumps
ahead and back inside reordered phrases (Bahdanau et al. 2015: "European
Economic Area" -> "zone économique européenne"), one source word can receive
several target steps (one-to-many, "potato" -> "pomme de terre") and one step
can look at several source words (many-to-one, "look for" -> "cherche"), and a
word that receives too little or too much attention in total is a candidate for
under- or over-translation (Tu et al. 2016, coverage). Each observation is one
function here, so that each can be checked on a hand-made matrix.

Two kinds of input, one convention (see :mod:`attnprobe.analyses.extraction`):

* **soft** metrics (entropy, jumps, fertility, coverage, mass on special tokens)
  read a ``[T, S]`` matrix. ``offset`` and the masks go through
  :func:`~attnprobe.analyses.extraction.word_matrix`, so rows and columns are
  the real words.
* **link** metrics (monotonicity, crossings, one-to-many, many-to-one, phrase
  blocks) read links: an :class:`~attnprobe.alignment.Alignment` (its *sure*
  links) or a matrix, from which links are extracted with ``method`` (one of
  :data:`~attnprobe.analyses.extraction.EXTRACTORS`).

:func:`sentence_patterns` computes everything for one sentence;
:func:`corpus_patterns` summarises many. :func:`pattern_score` scores the
crossings and one-to-many words of an extracted alignment against a gold
alignment, as additive counts (:class:`PatternScore` adds up over sentences and
over shards of a corpus). Pure: numpy, scipy and networkx in,
frozen dataclasses out; no torch, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from attnprobe.alignment import Alignment
from attnprobe.analyses.extraction import extract_alignment, word_matrix
from attnprobe.errors import InputError

__all__ = [
    "UNDER",
    "OVER",
    "LINK_THRESHOLD",
    "alignment_matrix",
    "attention_entropy",
    "monotonicity",
    "crossings",
    "jumps",
    "fertility",
    "coverage",
    "one_to_many",
    "many_to_one",
    "special_mass",
    "phrase_blocks",
    "Monotonicity",
    "Jumps",
    "Coverage",
    "SentencePatterns",
    "CorpusPatterns",
    "sentence_patterns",
    "corpus_patterns",
    "PatternScore",
    "pattern_score",
]

#: total attention below which a source word is an under-translation candidate (Tu et al. 2016)
UNDER = 0.5
#: total attention above which a source word is an over-translation candidate
OVER = 1.5
#: weight above which a source word counts as attended by a step (many-to-one)
LINK_THRESHOLD = 0.3


# --------------------------------------------------------------------------- inputs


def _links(x, method: str, offset, src_mask, tgt_mask, **params) -> Alignment:
    """An Alignment as given (sure links), or the links extracted from a matrix."""
    if isinstance(x, Alignment):
        if offset != 0 or src_mask is not None or tgt_mask is not None:
            raise InputError(
                "offset and masks apply to attention matrices; an Alignment already "
                "numbers real words",
                fix="pass the alignment without offset/src_mask/tgt_mask",
            )
        return Alignment(x.sure, frozenset(), x.src_len, x.tgt_len)
    return extract_alignment(
        x, method, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask, **params
    )


def _link_array(al: Alignment) -> np.ndarray:
    """Sure links as an int array ``[n, 2]`` of (src, tgt), sorted by target then source."""
    links = sorted(al.sure, key=lambda st: (st[1], st[0]))
    return np.array(links, dtype=np.int64).reshape(-1, 2)


def _soft(attention, offset, src_mask, tgt_mask) -> np.ndarray:
    if isinstance(attention, Alignment):
        raise InputError(
            "this metric reads attention weights, got an Alignment",
            fix="convert it with alignment_matrix(alignment) first",
        )
    w = word_matrix(attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask).weights
    if (w < 0).any():
        raise InputError("attention weights must be non-negative")
    return w


def alignment_matrix(alignment: Alignment, *, possible: bool = False) -> np.ndarray:
    """A 0/1 matrix ``[tgt_len, src_len]`` with a 1 at each link (target rows).

    Parameters
    ----------
    alignment : an alignment with known lengths.
    possible : also mark the possible links (default: sure links only).

    Raises
    ------
    InputError
        The alignment does not know its lengths.

    Examples
    --------
    >>> al = Alignment.from_links([(0, 0), (1, 2), (2, 1)], src_len=3, tgt_len=3)
    >>> alignment_matrix(al).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    if alignment.src_len is None or alignment.tgt_len is None:
        raise InputError(
            "alignment_matrix needs an alignment with src_len and tgt_len",
            fix="build it with Alignment.from_links(links, src_len=..., tgt_len=...)",
        )
    m = np.zeros((alignment.tgt_len, alignment.src_len))
    for s, t in alignment.possible if possible else alignment.sure:
        m[t, s] = 1.0
    return m


# --------------------------------------------------------------------------- soft metrics


def attention_entropy(attention, *, offset=0, src_mask=None, tgt_mask=None) -> np.ndarray:
    """Entropy (nats) of each step's attention over the real source words.

    Each kept row is renormalised over the kept columns first (the mass on masked
    special tokens is reported by :func:`special_mass`); pass no ``src_mask`` for
    the entropy of the full distribution. A row with no mass there gives NaN.

    Parameters
    ----------
    attention : ``[T, S]`` weights; ``offset``, ``src_mask``, ``tgt_mask`` as in
        :func:`~attnprobe.analyses.extraction.word_matrix`.

    Returns
    -------
    float64 ``[t]``, one entropy per kept row (0 = one-hot, ``ln S`` = uniform).

    Examples
    --------
    >>> attention_entropy([[1.0, 0.0], [0.5, 0.5]]).round(4).tolist()
    [0.0, 0.6931]
    """
    w = _soft(attention, offset, src_mask, tgt_mask)
    mass = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = w / mass
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    h = terms.sum(axis=1)
    h[mass[:, 0] <= 0] = np.nan
    return h


@dataclass(frozen=True)
class Jumps:
    """How the most-attended source word moves from one step to the next.

    ``steps[k]`` = argmax of row k+1 minus argmax of row k: 1 is the monotone
    step, 0 a stay (one-to-many), > 1 a forward jump that skips words, < 0 a jump
    back (reordering).
    """

    steps: tuple[int, ...]
    forward: int  # steps > 1
    backward: int  # steps < 0
    stays: int  # steps == 0
    longest_forward: int  # largest step (0 when none is > 1)
    longest_backward: int  # largest backward distance, as a positive number (0 when none)

    def to_dict(self) -> dict:
        return {**asdict(self), "steps": list(self.steps)}


def jumps(attention, *, offset=0, src_mask=None, tgt_mask=None) -> Jumps:
    """Jumps of the attention argmax between consecutive steps.

    Examples
    --------
    "European Economic Area" -> "zone économique européenne": the argmax goes
    2, 1, 0 (two jumps back of 1), then to the next word 3 (a jump forward of 3):

    >>> a = [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
    >>> j = jumps(a)
    >>> j.steps, j.forward, j.backward, j.longest_forward, j.longest_backward
    ((-1, -1, 3), 1, 2, 3, 1)
    """
    w = _soft(attention, offset, src_mask, tgt_mask)
    arg = w.argmax(axis=1) if w.size else np.zeros(0, np.int64)
    d = np.diff(arg)
    return Jumps(
        steps=tuple(int(x) for x in d),
        forward=int((d > 1).sum()),
        backward=int((d < 0).sum()),
        stays=int((d == 0).sum()),
        longest_forward=int(d.max()) if (d > 1).any() else 0,
        longest_backward=int(-d.min()) if (d < 0).any() else 0,
    )


def fertility(attention, *, offset=0, src_mask=None, tgt_mask=None) -> np.ndarray:
    """Total attention each real source word receives over the kept steps ``[s]``.

    Examples
    --------
    >>> fertility([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]).round(3).tolist()
    [1.7, 1.3]
    """
    return _soft(attention, offset, src_mask, tgt_mask).sum(axis=0)


@dataclass(frozen=True)
class Coverage:
    """Source words by total attention (Tu et al. 2016).

    ``under``: words with total attention < the lower bound (candidates for
    under-translation); ``over``: > the upper bound (over-translation).
    """

    fertility: tuple[float, ...]
    under: tuple[int, ...]
    over: tuple[int, ...]
    lower: float
    upper: float

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def coverage(
    attention,
    *,
    lower: float = UNDER,
    upper: float = OVER,
    offset=0,
    src_mask=None,
    tgt_mask=None,
) -> Coverage:
    """Under- and over-attended source words.

    Examples
    --------
    >>> c = coverage([[0.9, 0.1, 0.0], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    >>> c.under, c.over
    ((1,), (0,))
    """
    if not lower <= upper:
        raise InputError(f"coverage needs lower <= upper, got {lower} and {upper}")
    fert = fertility(attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask)
    return Coverage(
        fertility=tuple(float(x) for x in fert),
        under=tuple(int(i) for i in np.flatnonzero(fert < lower)),
        over=tuple(int(i) for i in np.flatnonzero(fert > upper)),
        lower=float(lower),
        upper=float(upper),
    )


def special_mass(attention, src_mask, *, offset=0, tgt_mask=None) -> np.ndarray:
    """Attention mass each kept step puts on special source tokens (``src_mask`` False).

    Parameters
    ----------
    attention : ``[T, S]`` weights.
    src_mask : bool ``[S]``, True at real words; the rest (EOS, BOS, ...) is special.
    offset, tgt_mask : select the rows as in :func:`~attnprobe.analyses.extraction.word_matrix`.

    Examples
    --------
    >>> special_mass([[0.7, 0.1, 0.2], [0.0, 0.5, 0.5]], [True, True, False]).tolist()
    [0.2, 0.5]
    """
    if src_mask is None:
        raise InputError("special_mass needs src_mask (True at real words)")
    w = _soft(attention, offset, None, tgt_mask)
    keep = np.asarray(src_mask, dtype=bool)
    if keep.shape != (w.shape[1],):
        raise InputError(f"src_mask must have shape [{w.shape[1]}], got {keep.shape}")
    return w[:, ~keep].sum(axis=1)


# --------------------------------------------------------------------------- link metrics


@dataclass(frozen=True)
class Monotonicity:
    """How monotonic an alignment is.

    ``kendall_tau``: Kendall's tau-b between target and source positions of the
    links (1 = monotone, -1 = reversed; NaN with fewer than two distinct
    positions on a side); ``crossings``: pairs of links that cross.
    """

    kendall_tau: float
    crossings: int
    links: int

    def to_dict(self) -> dict:
        return asdict(self)


def crossings(
    x, *, method: str = "argmax-target", offset=0, src_mask=None, tgt_mask=None, **params
) -> int:
    """Number of crossing link pairs: ``(i, j)``, ``(i', j')`` with ``(i - i')(j - j') < 0``.

    Links that share a word do not cross.

    Parameters
    ----------
    x : an :class:`~attnprobe.alignment.Alignment` (sure links) or a ``[T, S]``
        matrix, whose links ``method`` extracts (with ``params``).

    Examples
    --------
    "the black cat" -> "le chat noir": black-noir and cat-chat cross once.

    >>> crossings(Alignment.from_links([(0, 0), (1, 2), (2, 1)]))
    1
    """
    links = _link_array(_links(x, method, offset, src_mask, tgt_mask, **params))
    s, t = links[:, 0], links[:, 1]
    cross = (s[:, None] - s[None, :]) * (t[:, None] - t[None, :]) < 0  # [n, n], symmetric
    return int(np.triu(cross, 1).sum())


def monotonicity(
    x, *, method: str = "argmax-target", offset=0, src_mask=None, tgt_mask=None, **params
) -> Monotonicity:
    """Kendall tau between target and source positions of the links, and crossings.

    Examples
    --------
    >>> m = monotonicity(Alignment.from_links([(0, 0), (1, 2), (2, 1)]))
    >>> round(m.kendall_tau, 4), m.crossings
    (0.3333, 1)
    """
    from scipy.stats import kendalltau

    al = _links(x, method, offset, src_mask, tgt_mask, **params)
    links = _link_array(al)
    s, t = links[:, 0], links[:, 1]
    tau = np.nan
    if len(np.unique(s)) > 1 and len(np.unique(t)) > 1:
        tau = float(kendalltau(t, s).statistic)
    return Monotonicity(kendall_tau=tau, crossings=crossings(al), links=len(links))


def _multiple(al: Alignment, side: int) -> tuple[int, ...]:
    counts = Counter(link[side] for link in al.sure)
    return tuple(sorted(k for k, n in counts.items() if n >= 2))


def one_to_many(
    x, *, method: str = "argmax-target", offset=0, src_mask=None, tgt_mask=None, **params
) -> tuple[int, ...]:
    """Source words linked to two or more target words.

    From a matrix (default ``method``): source words that are the argmax of two
    or more target steps.

    Examples
    --------
    "potato" -> "pomme de terre": all three steps look at word 0.

    >>> one_to_many([[1.0, 0.0], [0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    (0,)
    """
    return _multiple(_links(x, method, offset, src_mask, tgt_mask, **params), 0)


def many_to_one(
    x,
    *,
    method: str = "threshold",
    value: float = LINK_THRESHOLD,
    offset=0,
    src_mask=None,
    tgt_mask=None,
    **params,
) -> tuple[int, ...]:
    """Target words (steps) linked to two or more source words.

    From a matrix (default ``method``): steps with two or more source words of
    weight above ``value``. ``value`` is ignored for an Alignment.

    Examples
    --------
    "look for" -> "cherche": one step looks at two words.

    >>> many_to_one([[0.45, 0.45, 0.1], [0.1, 0.1, 0.8]])
    (0,)
    """
    if method == "threshold" and not isinstance(x, Alignment):
        params["value"] = value
    return _multiple(_links(x, method, offset, src_mask, tgt_mask, **params), 1)


def phrase_blocks(
    x, *, method: str = "argmax-target", offset=0, src_mask=None, tgt_mask=None, **params
) -> tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]:
    """Connected components of the alignment as a bipartite graph: ``(source words, target words)``.

    Words without links are in no block. Blocks are sorted by their first
    target word (then source word).

    Examples
    --------
    >>> phrase_blocks(Alignment.from_links([(0, 0), (0, 1), (0, 2), (1, 3), (2, 3)]))
    (((0,), (0, 1, 2)), ((1, 2), (3,)))
    """
    import networkx as nx

    al = _links(x, method, offset, src_mask, tgt_mask, **params)
    graph = nx.Graph()
    graph.add_edges_from((("s", s), ("t", t)) for s, t in al.sure)
    blocks = []
    for component in nx.connected_components(graph):
        src = tuple(sorted(i for side, i in component if side == "s"))
        tgt = tuple(sorted(i for side, i in component if side == "t"))
        blocks.append((src, tgt))
    return tuple(sorted(blocks, key=lambda b: (b[1], b[0])))


# --------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class SentencePatterns:
    """Every pattern of one sentence's attention (see :func:`sentence_patterns`)."""

    n_src: int
    n_tgt: int
    entropy: tuple[float, ...]  # per kept step, nats, over real source words
    monotonicity: Monotonicity  # of the argmax-target links
    jumps: Jumps
    coverage: Coverage
    one_to_many: tuple[int, ...]  # source words, argmax of >= 2 steps
    many_to_one: tuple[int, ...]  # target words with >= 2 source words above the threshold
    special_mass: tuple[float, ...]  # per kept step (empty without a src_mask)
    blocks: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]  # of the argmax-target links

    @property
    def mean_entropy(self) -> float:
        """Mean entropy over the steps (NaN for no steps)."""
        return float(np.mean(self.entropy)) if self.entropy else float("nan")

    def to_dict(self) -> dict:
        return {
            "n_src": self.n_src,
            "n_tgt": self.n_tgt,
            "entropy": list(self.entropy),
            "mean_entropy": self.mean_entropy,
            "monotonicity": self.monotonicity.to_dict(),
            "jumps": self.jumps.to_dict(),
            "coverage": self.coverage.to_dict(),
            "one_to_many": list(self.one_to_many),
            "many_to_one": list(self.many_to_one),
            "special_mass": list(self.special_mass),
            "blocks": [[list(s), list(t)] for s, t in self.blocks],
        }


def sentence_patterns(
    attention,
    *,
    offset: int = 0,
    src_mask=None,
    tgt_mask=None,
    value: float = LINK_THRESHOLD,
    lower: float = UNDER,
    upper: float = OVER,
) -> SentencePatterns:
    """All patterns of one ``[T, S]`` attention matrix.

    Link metrics use the argmax-target links (many-to-one: links above
    ``value``); coverage uses ``lower`` and ``upper``.

    Examples
    --------
    >>> a = [[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]]
    >>> p = sentence_patterns(a, src_mask=[True, True, True])
    >>> p.monotonicity.crossings, p.jumps.steps, p.coverage.over, p.blocks
    (1, (2, -1), (), (((0,), (0,)), ((2,), (1,)), ((1,), (2,))))
    """
    opts = {"offset": offset, "src_mask": src_mask, "tgt_mask": tgt_mask}
    wm = word_matrix(attention, **opts)
    return SentencePatterns(
        n_src=wm.n_src,
        n_tgt=wm.n_tgt,
        entropy=tuple(float(h) for h in attention_entropy(attention, **opts)),
        monotonicity=monotonicity(attention, **opts),
        jumps=jumps(attention, **opts),
        coverage=coverage(attention, lower=lower, upper=upper, **opts),
        one_to_many=one_to_many(attention, **opts),
        many_to_one=many_to_one(attention, value=value, **opts),
        special_mass=()
        if src_mask is None
        else tuple(
            float(m) for m in special_mass(attention, src_mask, offset=offset, tgt_mask=tgt_mask)
        ),
        blocks=phrase_blocks(attention, **opts),
    )


@dataclass(frozen=True)
class CorpusPatterns:
    """Patterns summed or averaged over a corpus (see :func:`corpus_patterns`)."""

    sentences: int
    steps: int  # kept steps (rows) in all
    source_words: int
    mean_entropy: float  # over all steps
    mean_kendall_tau: float  # over sentences where it is defined (NaN if none)
    crossings: int
    sentences_with_crossings: int
    jump_counts: dict[int, int]  # argmax step -> how often
    forward_jumps: int
    backward_jumps: int
    longest_backward: int
    one_to_many: int  # source words
    many_to_one: int  # target steps
    under: int  # source words below the lower coverage bound
    over: int
    mean_special_mass: float  # per step (NaN without masks)
    block_sizes: dict[str, int]  # "s-t" words per block -> how many blocks

    @property
    def under_rate(self) -> float:
        """Share of source words below the lower coverage bound."""
        return self.under / self.source_words if self.source_words else float("nan")

    @property
    def over_rate(self) -> float:
        """Share of source words above the upper coverage bound."""
        return self.over / self.source_words if self.source_words else float("nan")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["jump_counts"] = {str(k): v for k, v in self.jump_counts.items()}
        return {**d, "under_rate": self.under_rate, "over_rate": self.over_rate}


def _nanmean(values) -> float:
    arr = np.asarray(list(values), dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else float("nan")


def corpus_patterns(sentences: Sequence[SentencePatterns]) -> CorpusPatterns:
    """Summarise per-sentence patterns over a corpus.

    Examples
    --------
    >>> a = sentence_patterns([[1.0, 0.0], [0.0, 1.0]])
    >>> b = sentence_patterns([[0.0, 1.0], [1.0, 0.0]])
    >>> c = corpus_patterns([a, b])
    >>> c.crossings, c.sentences_with_crossings, c.jump_counts, c.mean_kendall_tau
    (1, 1, {-1: 1, 1: 1}, 0.0)
    """
    sentences = list(sentences)
    jump_counts = Counter(j for p in sentences for j in p.jumps.steps)
    blocks = Counter(f"{len(s)}-{len(t)}" for p in sentences for s, t in p.blocks)
    return CorpusPatterns(
        sentences=len(sentences),
        steps=sum(len(p.entropy) for p in sentences),
        source_words=sum(p.n_src for p in sentences),
        mean_entropy=_nanmean(h for p in sentences for h in p.entropy),
        mean_kendall_tau=_nanmean(p.monotonicity.kendall_tau for p in sentences),
        crossings=sum(p.monotonicity.crossings for p in sentences),
        sentences_with_crossings=sum(p.monotonicity.crossings > 0 for p in sentences),
        jump_counts=dict(sorted(jump_counts.items())),
        forward_jumps=sum(p.jumps.forward for p in sentences),
        backward_jumps=sum(p.jumps.backward for p in sentences),
        longest_backward=max((p.jumps.longest_backward for p in sentences), default=0),
        one_to_many=sum(len(p.one_to_many) for p in sentences),
        many_to_one=sum(len(p.many_to_one) for p in sentences),
        under=sum(len(p.coverage.under) for p in sentences),
        over=sum(len(p.coverage.over) for p in sentences),
        mean_special_mass=_nanmean(m for p in sentences for m in p.special_mass),
        block_sizes=dict(sorted(blocks.items())),
    )


# --------------------------------------------------------------------------- against gold


def _crossing_pairs(links) -> set[frozenset]:
    """Every pair of links that crosses, each as a frozenset of two ``(src, tgt)`` links."""
    links = sorted(links)
    return {
        frozenset((a, b))
        for k, a in enumerate(links)
        for b in links[k + 1 :]
        if (a[0] - b[0]) * (a[1] - b[1]) < 0
    }


def _fanning_out(links) -> set[int]:
    """Source words linked to two or more target words."""
    counts = Counter(s for s, _ in links)
    return {s for s, n in counts.items() if n >= 2}


@dataclass(frozen=True)
class PatternScore:
    """Crossings and one-to-many words of an alignment scored against gold: additive counts.

    Scored as AER scores links (Och and Ney 2003): a predicted pattern is correct
    when the gold allows it (its *sure or possible* links show it), a gold pattern
    is found when the gold's *sure* links show it and the prediction does too.

    * crossings are pairs of links that cross; a predicted crossing pair is
      correct when both its links are gold links, a sure gold crossing pair is
      found when both its links are predicted;
    * one-to-many words are source words linked to two or more target words; a
      predicted one is correct when it is one-to-many in the gold (sure or
      possible links), a sure one is found when it is one-to-many in the prediction.

    Every field is a sum over sentences, so scores of parts of a corpus add up
    with ``+`` (``sum(scores, PatternScore())``) and the rates are computed last.
    """

    sentences: int = 0
    crossings: int = 0  # predicted crossing link pairs
    gold_crossings: int = 0  # crossing pairs of sure gold links
    correct_crossings: int = 0  # predicted pairs whose both links the gold has
    found_crossings: int = 0  # sure gold pairs whose both links are predicted
    one_to_many: int = 0  # predicted one-to-many source words
    gold_one_to_many: int = 0  # one-to-many source words of the sure gold links
    correct_one_to_many: int = 0  # predicted ones that are one-to-many in the gold
    found_one_to_many: int = 0  # sure gold ones that are one-to-many in the prediction

    def __add__(self, other: PatternScore) -> PatternScore:
        if not isinstance(other, PatternScore):
            return NotImplemented
        return PatternScore(
            *(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__)
        )

    @staticmethod
    def _rate(num: int, den: int) -> float:
        return num / den if den else float("nan")

    @property
    def crossing_precision(self) -> float:
        """Share of predicted crossing pairs that the gold has (NaN without any)."""
        return self._rate(self.correct_crossings, self.crossings)

    @property
    def crossing_recall(self) -> float:
        """Share of sure gold crossing pairs that are predicted (NaN without any)."""
        return self._rate(self.found_crossings, self.gold_crossings)

    @property
    def one_to_many_precision(self) -> float:
        """Share of predicted one-to-many words that are one-to-many in the gold."""
        return self._rate(self.correct_one_to_many, self.one_to_many)

    @property
    def one_to_many_recall(self) -> float:
        """Share of sure gold one-to-many words that are one-to-many in the prediction."""
        return self._rate(self.found_one_to_many, self.gold_one_to_many)

    def to_dict(self) -> dict:
        """The counts and the four rates (None where undefined: JSON null)."""
        rates = {
            "crossing_precision": self.crossing_precision,
            "crossing_recall": self.crossing_recall,
            "one_to_many_precision": self.one_to_many_precision,
            "one_to_many_recall": self.one_to_many_recall,
        }
        return {**asdict(self), **{k: None if v != v else v for k, v in rates.items()}}


def pattern_score(hyp: Alignment, gold: Alignment) -> PatternScore:
    """Score one sentence's predicted crossings and one-to-many words against its gold.

    Parameters
    ----------
    hyp : the predicted alignment (its sure links; e.g. what
        :func:`~attnprobe.analyses.extraction.extract_alignment` gives).
    gold : the gold alignment (sure links, and possible ones if it has them).

    Returns
    -------
    PatternScore : the counts of this sentence (``sentences == 1``).

    Examples
    --------
    "the black cat" -> "le chat noir": the prediction has the gold's crossing,
    and a second one because it also links "the" to "noir", which makes "the"
    one-to-many where the gold is not:

    >>> gold = Alignment.from_links([(0, 0), (1, 2), (2, 1)])
    >>> hyp = Alignment.from_links([(0, 0), (0, 2), (1, 2), (2, 1)])
    >>> sc = pattern_score(hyp, gold)
    >>> sc.crossings, sc.gold_crossings, sc.correct_crossings, sc.found_crossings
    (2, 1, 1, 1)
    >>> sc.one_to_many, sc.gold_one_to_many, sc.one_to_many_precision
    (1, 0, 0.0)
    """
    predicted, sure, allowed = set(hyp.sure), set(gold.sure), set(gold.possible)
    hyp_pairs, gold_pairs = _crossing_pairs(predicted), _crossing_pairs(sure)
    hyp_many, sure_many = _fanning_out(predicted), _fanning_out(sure)
    return PatternScore(
        sentences=1,
        crossings=len(hyp_pairs),
        gold_crossings=len(gold_pairs),
        correct_crossings=sum(pair <= allowed for pair in hyp_pairs),
        found_crossings=sum(pair <= predicted for pair in gold_pairs),
        one_to_many=len(hyp_many),
        gold_one_to_many=len(sure_many),
        correct_one_to_many=len(hyp_many & _fanning_out(allowed)),
        found_one_to_many=len(sure_many & hyp_many),
    )

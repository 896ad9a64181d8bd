"""Quality as a function of source length: the fixed-vector bottleneck.

Bahdanau et al. (2015, Fig. 2) showed that an encoder-decoder without
attention, which must squeeze the source into one vector, degrades on long
sentences while an attentional one holds up. :func:`quality_by_length` buckets
a test set by source length and reports, per bucket, greedy exact match,
teacher-forced token accuracy, per-token negative log-likelihood and BLEU.
Pure: it takes per-sentence numbers, not a model (see :mod:`attnprobe.runs.forward`).

With several trained seeds per architecture, :func:`seed_bootstrap` gives the
mean over seeds of a corpus statistic (BLEU, exact match, AER) with a
percentile bootstrap interval over sentences and the per-seed values, and
:func:`length_curves` does so per source-length bucket: what
``attnprobe bottleneck`` prints and draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from attnprobe.analyses.intervals import SeedEstimate, seed_bootstrap
from attnprobe.errors import InputError

__all__ = [
    "BUCKETS",
    "BucketQuality",
    "bucket_of",
    "quality_by_length",
    "corpus_bleu",
    "bleu_statistics",
    "bleu_from_statistics",
    "SeedEstimate",
    "seed_bootstrap",
    "LengthPoint",
    "length_curves",
]

#: n-gram orders of BLEU
BLEU_ORDER = 4

#: source-length buckets (inclusive bounds; None = no upper bound)
BUCKETS: tuple[tuple[int, int | None], ...] = (
    (1, 10),
    (11, 20),
    (21, 30),
    (31, 40),
    (41, 50),
    (51, 60),
    (61, None),
)


@dataclass(frozen=True)
class BucketQuality:
    """Quality of the sentences whose source length falls in ``[lo, hi]``."""

    lo: int
    hi: int | None
    sentences: int
    exact_match: float  # share of greedy outputs equal to the reference
    token_accuracy: float  # teacher-forced argmax accuracy over target steps (EOS included)
    nll_per_token: float  # teacher-forced negative log-likelihood per target step, nats
    bleu: float | None  # corpus BLEU of the bucket's greedy outputs (sacrebleu), or None

    @property
    def label(self) -> str:
        """``"1-10"``, ..., ``"61+"``."""
        return f"{self.lo}-{self.hi}" if self.hi is not None else f"{self.lo}+"

    def to_dict(self) -> dict:
        return {**asdict(self), "label": self.label}


def bucket_of(length: int, buckets=BUCKETS) -> int:
    """Index of the bucket holding ``length`` (-1 if none does).

    Examples
    --------
    >>> bucket_of(1), bucket_of(10), bucket_of(11), bucket_of(99), bucket_of(0)
    (0, 0, 1, 6, -1)
    """
    for k, (lo, hi) in enumerate(buckets):
        if length >= lo and (hi is None or length <= hi):
            return k
    return -1


def quality_by_length(
    src_lens: Sequence[int],
    steps: Sequence[int],
    nll: Sequence[float],
    correct: Sequence[int],
    exact: Sequence[bool],
    hypotheses: Sequence[Sequence[str]] | None = None,
    references: Sequence[Sequence[str]] | None = None,
    buckets=BUCKETS,
) -> list[BucketQuality]:
    """Per-bucket quality from per-sentence numbers; empty buckets are left out.

    Parameters
    ----------
    src_lens : source length in words, per sentence.
    steps : target steps (reference words + EOS), per sentence.
    nll : summed teacher-forced negative log-likelihood, per sentence.
    correct : teacher-forced correct steps, per sentence.
    exact : whether greedy decoding reproduced the reference, per sentence.
    hypotheses, references : token lists for BLEU (both or neither).

    Examples
    --------
    >>> rows = quality_by_length([3, 5, 15], [4, 6, 10], [4.0, 2.0, 5.0], [4, 3, 10],
    ...                          [True, False, True])
    >>> [(r.label, r.sentences, r.exact_match, r.token_accuracy, r.nll_per_token) for r in rows]
    [('1-10', 2, 0.5, 0.7, 0.6), ('11-20', 1, 1.0, 1.0, 0.5)]
    """
    n = len(src_lens)
    if not all(len(x) == n for x in (steps, nll, correct, exact)):
        raise InputError("per-sentence sequences must all have one entry per sentence")
    if (hypotheses is None) != (references is None):
        raise InputError("BLEU needs both hypotheses and references")
    which = np.array([bucket_of(int(x), buckets) for x in src_lens])
    steps_a, nll_a = np.asarray(steps, float), np.asarray(nll, float)
    correct_a, exact_a = np.asarray(correct, float), np.asarray(exact, float)
    rows = []
    for k, (lo, hi) in enumerate(buckets):
        members = np.flatnonzero(which == k)
        if members.size == 0:
            continue
        bleu = None
        if hypotheses is not None:
            bleu = corpus_bleu([hypotheses[i] for i in members], [references[i] for i in members])
        tokens = steps_a[members].sum()
        rows.append(
            BucketQuality(
                lo,
                hi,
                int(members.size),
                float(exact_a[members].mean()),
                float(correct_a[members].sum() / tokens),
                float(nll_a[members].sum() / tokens),
                bleu,
            )
        )
    return rows


def corpus_bleu(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU (sacrebleu, on already tokenised text: ``tokenize="none"``).

    Examples
    --------
    >>> round(corpus_bleu([["a", "b", "c", "d"]], [["a", "b", "c", "d"]]), 6)
    100.0
    """
    import sacrebleu

    hyp = [" ".join(h) for h in hypotheses]
    ref = [" ".join(r) for r in references]
    return float(sacrebleu.corpus_bleu(hyp, [ref], tokenize="none").score)


def bleu_statistics(hypothesis: Sequence[str], reference: Sequence[str]) -> np.ndarray:
    """BLEU's sufficient statistics of one sentence: they add up over a corpus.

    ``[hyp_len, ref_len, matches_1..4, hyp_ngrams_1..4]`` (int64), with matches
    clipped by the reference counts, as sacrebleu counts them on whitespace tokens.

    Examples
    --------
    >>> bleu_statistics(["a", "b", "a"], ["a", "b"]).tolist()
    [3, 2, 2, 1, 0, 0, 3, 2, 1, 0]
    """
    from collections import Counter

    hyp, ref = " ".join(hypothesis).split(), " ".join(reference).split()
    out = np.zeros(2 + 2 * BLEU_ORDER, np.int64)
    out[0], out[1] = len(hyp), len(ref)
    for n in range(1, BLEU_ORDER + 1):
        h = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
        r = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
        out[1 + n] = sum(min(c, r[g]) for g, c in h.items())
        out[1 + BLEU_ORDER + n] = sum(h.values())
    return out


def bleu_from_statistics(stats) -> float:
    """Corpus BLEU from summed :func:`bleu_statistics` (sacrebleu's formula, exp smoothing).

    Equal to :func:`corpus_bleu` of the sentences whose statistics were summed.

    Examples
    --------
    >>> s = bleu_statistics(["a", "b", "c", "d"], ["a", "b", "c", "d"])
    >>> round(bleu_from_statistics(s), 6)
    100.0
    """
    from sacrebleu.metrics.bleu import BLEU

    s = [int(x) for x in stats]
    correct, total = s[2 : 2 + BLEU_ORDER], s[2 + BLEU_ORDER :]
    return float(BLEU.compute_bleu(correct, total, s[0], s[1], smooth_method="exp").score)


@dataclass(frozen=True)
class LengthPoint:
    """One architecture's quality on one source-length bucket, over its seeds."""

    arch: str
    lo: int
    hi: int | None
    sentences: int
    bleu: SeedEstimate
    exact_match: SeedEstimate

    @property
    def label(self) -> str:
        """``"1-10"``, ..., ``"61+"``, or ``"all"`` for the whole test set."""
        if self.lo == 0:
            return "all"
        return f"{self.lo}-{self.hi}" if self.hi is not None else f"{self.lo}+"

    def to_dict(self) -> dict:
        return {
            "arch": self.arch,
            "lo": self.lo,
            "hi": self.hi,
            "label": self.label,
            "sentences": self.sentences,
            "bleu": self.bleu.to_dict(),
            "exact_match": self.exact_match.to_dict(),
        }


def _em_reduce(s) -> float:
    return float(s[0] / s[1])


def length_curves(
    src_lens: Sequence[int],
    models: dict[str, Sequence[tuple[Sequence[bool], Sequence]]],
    buckets=BUCKETS,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> list[LengthPoint]:
    """BLEU and exact match per source-length bucket and architecture, over seeds.

    Parameters
    ----------
    src_lens : source length in words of each test sentence.
    models : architecture -> one ``(exact, bleu_stats)`` per seed: greedy exact
        match per sentence and :func:`bleu_statistics` rows ``[N, 10]``, all on
        the sentences of ``src_lens`` in that order.
    buckets : source-length buckets; empty ones are left out. A last point
        per architecture (``lo = 0``, label ``"all"``) covers every sentence.

    Examples
    --------
    >>> ok = bleu_statistics(["a", "b", "c", "d"], ["a", "b", "c", "d"])
    >>> bad = bleu_statistics(["x"], ["a", "b", "c", "d"])
    >>> # all: BP exp(1 - 8/5), precisions 4/5, 3/3, 2/2, 1/1 -> 100 * 0.549 * 0.8 ** 0.25
    >>> pts = length_curves([3, 15], {"m": [([True, False], [ok, bad])]}, n_boot=20)
    >>> [(p.label, p.sentences, p.exact_match.mean, round(p.bleu.mean, 1)) for p in pts]
    [('1-10', 1, 1.0, 100.0), ('11-20', 1, 0.0, 0.0), ('all', 2, 0.5, 51.9)]
    """
    lens = np.asarray(src_lens)
    which = np.array([bucket_of(int(x), buckets) for x in lens])
    groups = [(lo, hi, np.flatnonzero(which == k)) for k, (lo, hi) in enumerate(buckets)]
    groups.append((0, None, np.arange(len(lens))))
    out = []
    for arch, runs in models.items():
        exact = [np.asarray(e, np.float64) for e, _ in runs]
        stats = [np.asarray(b, np.float64).reshape(len(lens), -1) for _, b in runs]
        for e in exact:
            if len(e) != len(lens):
                raise InputError(f"{arch}: {len(e)} sentences scored, {len(lens)} lengths given")
        for lo, hi, members in groups:
            if members.size == 0:
                continue
            em = [np.stack([e[members], np.ones(members.size)], 1) for e in exact]
            bl = [s[members] for s in stats]
            kw = {"n_boot": n_boot, "level": level, "seed": seed}
            out.append(
                LengthPoint(
                    arch,
                    lo,
                    hi,
                    int(members.size),
                    seed_bootstrap(bl, bleu_from_statistics, **kw),
                    seed_bootstrap(em, _em_reduce, **kw),
                )
            )
    return out

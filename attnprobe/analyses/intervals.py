"""Bootstrap intervals that resample sentences (pure numpy): per-step means
(:func:`bootstrap_ci`) and statistics of summed per-sentence counts over several
models, e.g. BLEU or AER by seed (:func:`seed_bootstrap`).

Steps of one sentence are not independent (they share the source, the model's
state and usually the same difficulty), so every interval here resamples whole
sentences with replacement and recomputes the statistic of each resample (for
per-step values, the micro mean: all steps' total over all steps' count); the
interval is the percentile interval of those values. ``nan`` values (a step
where the quantity is undefined) are left out of both the total and the count.
Resamples come from one seeded generator, so a seed gives the same interval on
every run; they are drawn in blocks that bound memory, which gives the same
numbers as drawing them all at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from attnprobe.errors import InputError

__all__ = [
    "Interval",
    "bootstrap_ci",
    "bootstrap_by_sentence",
    "bootstrap_ratio",
    "sentence_sums",
    "SeedEstimate",
    "seed_bootstrap",
]

#: most resampled sentence indices held at once (blocks of resamples stay under it)
_BLOCK_CELLS = 1 << 22


@dataclass(frozen=True)
class Interval:
    """A mean and its bootstrap confidence interval.

    Examples
    --------
    >>> Interval(0.5, 0.25, 0.75, 0.95).to_dict()
    {'mean': 0.5, 'low': 0.25, 'high': 0.75, 'level': 0.95}
    """

    mean: float
    low: float
    high: float
    level: float

    def to_dict(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "level": self.level}


def bootstrap_ci(
    per_sentence: Sequence, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> Interval:
    """Mean over all steps, with a percentile bootstrap interval resampling sentences.

    ``per_sentence`` holds one array of per-step values per sentence; the
    statistic is the micro mean (total over total steps) of each resample.

    Examples
    --------
    >>> bootstrap_ci([[1.0, 1.0], [1.0]]).to_dict()
    {'mean': 1.0, 'low': 1.0, 'high': 1.0, 'level': 0.95}
    """
    sums = np.array([np.nansum(np.asarray(v, np.float64)) for v in per_sentence])
    counts = np.array([np.isfinite(np.asarray(v, np.float64)).sum() for v in per_sentence])
    return bootstrap_ratio(sums, counts, n_boot=n_boot, level=level, seed=seed)


def bootstrap_by_sentence(
    values, sentence, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> Interval:
    """:func:`bootstrap_ci` of flat per-step ``values`` whose sentence ids are ``sentence``.

    ``sentence`` holds, for each step, the index (0, 1, ...) of the sentence it
    belongs to (as :class:`attnprobe.analyses.agreement.Agreement` keeps them);
    the result equals ``bootstrap_ci`` of the values grouped by sentence.

    Examples
    --------
    Two sentences, one with steps 1 and 0 (mean 0.5), one with a single 1:
    the micro mean is 2/3; resamples give 1/2 (the first twice), 2/3 or 1:

    >>> iv = bootstrap_by_sentence([1.0, 0.0, 1.0], [0, 0, 1])
    >>> round(iv.mean, 4), iv.low, iv.high
    (0.6667, 0.5, 1.0)
    """
    sums, counts = sentence_sums(values, sentence)
    return bootstrap_ratio(sums, counts, n_boot=n_boot, level=level, seed=seed)


def sentence_sums(values, sentence) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence (ids 0 .. max of ``sentence``): the sum of its finite ``values`` and
    how many there are, as float arrays (what :func:`bootstrap_ratio` resamples).

    Examples
    --------
    >>> sums, counts = sentence_sums([1.0, float("nan"), 0.5, 2.0], [0, 0, 1, 1])
    >>> sums.tolist(), counts.tolist()
    ([1.0, 2.5], [1.0, 2.0])
    """
    v = np.asarray(values, np.float64)
    ids = np.asarray(sentence, np.int64)
    if v.shape != ids.shape or v.ndim != 1:
        raise InputError(
            f"values and sentence ids must be 1-D and alike, got {v.shape}, {ids.shape}"
        )
    if ids.size and ids.min() < 0:
        raise InputError("sentence ids must be 0 or more")
    n = int(ids.max()) + 1 if ids.size else 0
    ok = np.isfinite(v)
    sums = np.bincount(ids[ok], weights=v[ok], minlength=n)
    return sums, np.bincount(ids[ok], minlength=n).astype(np.float64)


def bootstrap_ratio(
    sums, counts, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> Interval:
    """``sum(sums) / sum(counts)`` with a percentile interval over sentence resamples.

    ``sums[i]`` and ``counts[i]`` are sentence ``i``'s total and number of
    values (what :func:`bootstrap_ci` computes from the values themselves); the
    resamples are those of :func:`bootstrap_ci` for as many sentences.

    Examples
    --------
    >>> iv = bootstrap_ratio([1.0, 1.0], [2, 1])  # steps 1, 0 and 1: as bootstrap_by_sentence
    >>> round(iv.mean, 4), iv.low, iv.high
    (0.6667, 0.5, 1.0)
    """
    _check(n_boot, level)
    sums, counts = np.asarray(sums, np.float64), np.asarray(counts, np.float64)
    if counts.sum() == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, level)
    with np.errstate(invalid="ignore"):
        blocks = _resamples(len(sums), n_boot, seed)
        means = np.concatenate([sums[pick].sum(1) / counts[pick].sum(1) for pick in blocks])
    lo, hi = np.nanquantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(sums.sum() / counts.sum()), float(lo), float(hi), level)


def _check(n_boot: int, level: float) -> None:
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if n_boot < 1:
        raise InputError(f"n_boot must be at least 1, got {n_boot}")


def _resamples(n: int, n_boot: int, seed: int):
    """``n_boot`` resamples of ``n`` sentence indices (with replacement), in blocks of rows
    that hold at most :data:`_BLOCK_CELLS` indices; the same draws as one ``[n_boot, n]``."""
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_CELLS // n)
    for start in range(0, n_boot, block):
        yield rng.integers(0, n, size=(min(n_boot, start + block) - start, n))


@dataclass(frozen=True)
class SeedEstimate:
    """A corpus statistic over several models (seeds) evaluated on the same sentences.

    ``mean`` is the mean over seeds of the statistic on all sentences; ``low``
    and ``high`` bound it by a percentile bootstrap over sentences (each
    resample the same sentences for every seed); ``seeds`` are the per-seed
    values (their min and max: the spread over seeds).
    """

    mean: float
    low: float
    high: float
    seeds: tuple[float, ...]
    level: float = 0.95

    @property
    def spread(self) -> tuple[float, float]:
        """``(min, max)`` over seeds.

        Examples
        --------
        >>> SeedEstimate(0.5, 0.4, 0.6, (0.3, 0.7)).spread
        (0.3, 0.7)
        """
        return min(self.seeds), max(self.seeds)

    def to_dict(self) -> dict:
        return {**asdict(self), "seeds": list(self.seeds), "spread": list(self.spread)}


def seed_bootstrap(
    stats: Sequence,
    reduce,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> SeedEstimate:
    """Mean over seeds of a statistic of summed per-sentence counts, with a bootstrap interval.

    Parameters
    ----------
    stats : one ``[N, K]`` array per seed (model) of additive per-sentence
        counts, the same ``N`` sentences in the same order for every seed
        (e.g. :func:`bleu_statistics` rows; ``[exact, 1]`` for exact match).
    reduce : the statistic of a ``[K]`` sum of rows (e.g. :func:`bleu_from_statistics`).
    n_boot : bootstrap resamples of the ``N`` sentences (drawn with replacement,
        the same resample for every seed, so the interval is that of the seed mean).
    level : coverage of the percentile interval.
    seed : seeds the resampling.

    Examples
    --------
    Exact match of two seeds on two sentences: seed A gets one of them, seed B
    both. The seed mean is (0.5 + 1.0) / 2; a resample gives seed A 0, 0.5 or 1
    (and B always 1), so the mean ranges over 0.5 to 1.0:

    >>> a = [[1, 1], [0, 1]]; b = [[1, 1], [1, 1]]
    >>> e = seed_bootstrap([a, b], lambda s: s[0] / s[1])
    >>> e.mean, (e.low, e.high), e.seeds
    (0.75, (0.5, 1.0), (0.5, 1.0))
    """
    _check(n_boot, level)
    arrays = [np.asarray(a, np.float64) for a in stats]
    if not arrays:
        raise InputError("seed_bootstrap needs the statistics of at least one model")
    arrays = [a.reshape(len(a), -1) for a in arrays]
    n = len(arrays[0])
    if n == 0 or any(len(a) != n for a in arrays):
        raise InputError(
            "every model needs statistics for the same (non-zero) number of sentences, got "
            + ", ".join(str(len(a)) for a in arrays)
        )
    per_seed = tuple(float(reduce(a.sum(0))) for a in arrays)
    boot = np.array(
        [
            np.mean([reduce(a[idx].sum(0)) for a in arrays])
            for pick in _resamples(n, n_boot, seed)
            for idx in pick
        ]
    )
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return SeedEstimate(float(np.mean(per_seed)), float(lo), float(hi), per_seed, level)

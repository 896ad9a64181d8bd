"""Bootstrap intervals of per-step means, resampling sentences (pure numpy).

Steps of one sentence are not independent (they share the source, the model's
state and usually the same difficulty), so every interval here resamples whole
sentences with replacement and recomputes the micro mean (all steps' total over
all steps' count) of each resample; the interval is the percentile interval of
those means. ``nan`` values (a step where the quantity is undefined) are left
out of both the total and the count. Resamples are drawn from one seeded
generator, so a seed gives the same interval on every run; the draws are made
in blocks that bound memory, which gives the same numbers as drawing them all
at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from attnprobe.errors import InputError

__all__ = ["Interval", "bootstrap_ci", "bootstrap_by_sentence"]

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
    return _ratio_bootstrap(sums, counts, n_boot, level, seed)


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
    counts = np.bincount(ids[ok], minlength=n)
    return _ratio_bootstrap(sums, counts, n_boot, level, seed)


def _ratio_bootstrap(sums, counts, n_boot: int, level: float, seed: int) -> Interval:
    """Percentile interval of ``sum(sums[pick]) / sum(counts[pick])`` over sentence resamples."""
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    if n_boot < 1:
        raise InputError(f"n_boot must be at least 1, got {n_boot}")
    if counts.sum() == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, level)
    n = len(sums)
    rng = np.random.default_rng(seed)
    block = max(1, _BLOCK_CELLS // n)
    means = np.empty(n_boot)
    for start in range(0, n_boot, block):
        stop = min(n_boot, start + block)
        pick = rng.integers(0, n, size=(stop - start, n))
        with np.errstate(invalid="ignore"):
            means[start:stop] = sums[pick].sum(1) / counts[pick].sum(1)
    lo, hi = np.nanquantile(means, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(sums.sum() / counts.sum()), float(lo), float(hi), level)

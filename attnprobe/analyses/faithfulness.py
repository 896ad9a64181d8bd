"""Faithfulness summaries: how much does changing attention change the output? (pure)

The model runs elsewhere (:mod:`attnprobe.runs.faithfulness`, through capture
edits); this module turns its per-step numbers into distances and
corpus-level summaries with seeded bootstrap confidence intervals, and
compares erasing the top-attended source token with erasing the top-attributed
one, from a leave-one-out (occlusion) matrix. Resampling is over sentences:
steps of one sentence are not independent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from attnprobe.analyses.agreement import js_divergence
from attnprobe.analyses.intervals import Interval, bootstrap_ci
from attnprobe.errors import InputError

__all__ = [
    "total_variation",
    "output_jsd",
    "bootstrap_ci",
    "Interval",
    "EditSummary",
    "summarize_edit",
    "ErasureComparison",
    "compare_erasure",
]


def total_variation(p, q) -> np.ndarray:
    """Total variation distance ``1/2 sum |p - q|`` along the last axis.

    Examples
    --------
    >>> float(total_variation([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]))
    0.5
    """
    return 0.5 * np.abs(np.asarray(p, np.float64) - np.asarray(q, np.float64)).sum(-1)


def output_jsd(p, q) -> np.ndarray:
    """Jensen-Shannon divergence (bits) between output distributions (last axis).

    Examples
    --------
    >>> float(output_jsd([1.0, 0.0], [1.0, 0.0]))
    0.0
    """
    return js_divergence(p, q)


@dataclass
class EditSummary:
    """Corpus summary of one attention edit (means with bootstrap intervals)."""

    edit: str
    tvd: Interval  # total variation distance of the output distribution, per step
    jsd: Interval  # Jensen-Shannon divergence (bits), per step
    delta_logp: Interval  # change of log p(y_t) of the gold token (edited - original)
    argmax_change: Interval  # share of teacher-forced steps whose argmax changes
    greedy_change: Interval | None  # share of sentences whose greedy translation changes

    def to_dict(self) -> dict:
        d = {"edit": self.edit}
        for name in ("tvd", "jsd", "delta_logp", "argmax_change", "greedy_change"):
            v = getattr(self, name)
            d[name] = None if v is None else v.to_dict()
        return d


def summarize_edit(
    edit: str,
    original: Sequence,
    edited: Sequence,
    gold: Sequence,
    greedy_changed: Sequence[bool] | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> EditSummary:
    """Summarise per-step output distributions before and after an edit.

    Parameters
    ----------
    original, edited : one ``[T_i, V]`` probability matrix per sentence.
    gold : one ``[T_i]`` array of gold target ids per sentence.
    greedy_changed : per sentence, whether greedy decoding changed.

    Examples
    --------
    >>> p = [np.array([[0.5, 0.5], [0.9, 0.1]])]
    >>> q = [np.array([[0.5, 0.5], [0.1, 0.9]])]
    >>> s = summarize_edit("x", p, q, [np.array([0, 0])])
    >>> round(s.tvd.mean, 3), round(s.argmax_change.mean, 3)     # (0 + 0.8) / 2, 1 of 2
    (0.4, 0.5)
    """
    if not len(original) == len(edited) == len(gold):
        raise InputError("original, edited and gold need one entry per sentence")
    tvd, jsd, dlogp, flips = [], [], [], []
    for p, q, y in zip(original, edited, gold, strict=True):
        p, q, y = np.asarray(p, np.float64), np.asarray(q, np.float64), np.asarray(y)
        if p.shape != q.shape or p.shape[0] != y.shape[0]:
            raise InputError(f"shapes differ: original {p.shape}, edited {q.shape}, gold {y.shape}")
        tvd.append(total_variation(p, q))
        jsd.append(output_jsd(p, q))
        rows = np.arange(len(y))
        with np.errstate(divide="ignore"):
            dlogp.append(np.log(q[rows, y]) - np.log(p[rows, y]))
        flips.append((p.argmax(-1) != q.argmax(-1)).astype(np.float64))

    def ci(values):
        return bootstrap_ci(values, n_boot=n_boot, seed=seed)

    greedy = None
    if greedy_changed is not None:
        greedy = ci([[float(c)] for c in greedy_changed])
    return EditSummary(edit, ci(tvd), ci(jsd), ci(dlogp), ci(flips), greedy)


@dataclass
class ErasureComparison:
    """Erasing the top-attended vs the top-attributed source token, per step.

    ``attended`` and ``attributed`` are the drops ``f(x) - f(x without the
    token)`` (from an occlusion matrix); ``attributed_wins`` the share of
    steps where the top-attributed token's erasure hurts more, ``same_token``
    where both explanations pick the same token.
    """

    method: str | None
    attended: Interval
    attributed: Interval
    attributed_wins: Interval
    same_token: Interval

    def to_dict(self) -> dict:
        d = {"method": self.method}
        for name in ("attended", "attributed", "attributed_wins", "same_token"):
            d[name] = getattr(self, name).to_dict()
        return d


def compare_erasure(
    occlusion: Sequence,
    attentions: Sequence,
    attributions: Sequence,
    *,
    method: str | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> ErasureComparison:
    """Which explanation's top token matters more to the output?

    Parameters
    ----------
    occlusion : per sentence ``[T, S]`` leave-one-out drops ``f(x) - f(x \\ s)``
        (:func:`attnprobe.runs.attribution.attribute` with ``method="occlusion"``).
    attentions, attributions : per sentence ``[T, S]``; attribution by absolute value.

    Examples
    --------
    >>> occ = [np.array([[0.1, 2.0]])]
    >>> c = compare_erasure(occ, [np.array([[0.9, 0.1]])], [np.array([[0.0, -3.0]])])
    >>> c.attended.mean, c.attributed.mean, c.attributed_wins.mean
    (0.1, 2.0, 1.0)
    """
    if not len(occlusion) == len(attentions) == len(attributions):
        raise InputError("occlusion, attention and attribution need one matrix per sentence")
    att_drop, attr_drop, wins, same = [], [], [], []
    for occ, att, attr in zip(occlusion, attentions, attributions, strict=True):
        occ, att, attr = (np.asarray(x, np.float64) for x in (occ, att, attr))
        if not occ.shape == att.shape == attr.shape:
            raise InputError(f"shapes differ: {occ.shape}, {att.shape}, {attr.shape}")
        rows = np.arange(occ.shape[0])
        a, b = np.argmax(att, -1), np.argmax(np.abs(attr), -1)
        att_drop.append(occ[rows, a])
        attr_drop.append(occ[rows, b])
        wins.append((occ[rows, b] > occ[rows, a]).astype(np.float64))
        same.append((a == b).astype(np.float64))

    def ci(values):
        return bootstrap_ci(values, n_boot=n_boot, seed=seed)

    return ErasureComparison(method, ci(att_drop), ci(attr_drop), ci(wins), ci(same))

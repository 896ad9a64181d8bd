"""Does attention agree with attribution? Rank, distribution and top-token agreement, and AER.

Pure functions on ``[T, S]`` matrices (numpy): one attention matrix and
one attribution matrix per sentence, rows = target steps, columns = source
tokens, as :mod:`attnprobe.runs.attribution` and a Trace give them. Attribution rows
are compared by their absolute values (a strongly negative attribution is a
token the model used, as a large attention weight is); nothing is modified in
place. Per step:

- Kendall tau (tau-b) and Spearman rho between the two rows (``nan`` for rows
  of one token, or a constant row, where no rank order exists), computed for
  all rows of a sentence at once with numpy (average ranks for ties: the same
  numbers as scipy's ``kendalltau`` and ``spearmanr``, tested);
- Jensen-Shannon divergence (base 2, so in [0, 1]) between the rows normalised
  to sum to 1;
- top-1 agreement (same argmax) and top-k overlap ``|top_k(a) & top_k(b)| / k``
  (``k`` capped at the row's length).

Corpus figures average over every step of every sentence (micro average), and
ignore ``nan``. :func:`attribution_aer` scores alignments extracted from
attribution matrices with the same extraction functions as attention, so their
AER compares directly with attention's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from attnprobe.analyses.intervals import bootstrap_ratio, sentence_sums
from attnprobe.errors import InputError

__all__ = [
    "js_divergence",
    "rank_rows",
    "row_agreement",
    "rows_agreement",
    "Agreement",
    "AgreementTotals",
    "agreement",
    "agreement_table",
    "attribution_aer",
]


def js_divergence(p, q) -> np.ndarray:
    """Jensen-Shannon divergence (bits) between distributions along the last axis.

    Inputs are normalised to sum to 1 (all-zero rows count as uniform).

    Examples
    --------
    >>> float(js_divergence([1.0, 0.0], [0.0, 1.0]))
    1.0
    >>> round(float(js_divergence([0.5, 0.5], [1.0, 0.0])), 5)
    0.31128
    """
    p, q = _normalise(p), _normalise(q)
    m = (p + q) / 2

    def kl(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(a > 0, a * np.log2(a / b), 0.0)
        return terms.sum(-1)

    return np.clip((kl(p, m) + kl(q, m)) / 2, 0.0, 1.0)


def _normalise(x) -> np.ndarray:
    x = np.abs(np.asarray(x, dtype=np.float64))
    total = x.sum(-1, keepdims=True)
    uniform = np.full_like(x, 1.0 / max(x.shape[-1], 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, x / np.where(total > 0, total, 1.0), uniform)


def rank_rows(x) -> np.ndarray:
    """Ranks (1-based) along the last axis, ties given their average rank, as scipy's
    ``rankdata(method="average")`` row by row, but for all rows at once.

    Examples
    --------
    >>> rank_rows([[0.5, 0.1, 0.5, 0.2], [3.0, 2.0, 1.0, 0.0]]).tolist()
    [[3.5, 1.0, 3.5, 2.0], [4.0, 3.0, 2.0, 1.0]]
    """
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)
    R, S = flat.shape
    order = np.argsort(flat, axis=-1, kind="stable")
    ordered = np.take_along_axis(flat, order, -1)  # [R, S] each row ascending
    starts = np.ones((R, S), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]  # a new value begins a tie group
    group = np.cumsum(starts, axis=-1) - 1 + (np.arange(R) * S)[:, None]  # [R, S] global id
    positions = np.broadcast_to(np.arange(1, S + 1, dtype=np.float64), (R, S))
    mean = np.bincount(group.ravel(), positions.ravel(), R * S) / np.maximum(
        np.bincount(group.ravel(), minlength=R * S), 1
    )  # the average position of each tie group
    ranks = np.empty((R, S))
    np.put_along_axis(ranks, order, mean[group], -1)
    return ranks.reshape(x.shape)


def _spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rho of each row pair: Pearson correlation of the average ranks. [R, S] -> [R]."""
    ra, rb = rank_rows(a), rank_rows(b)
    ra -= ra.mean(-1, keepdims=True)
    rb -= rb.mean(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ra * rb).sum(-1) / np.sqrt((ra * ra).sum(-1) * (rb * rb).sum(-1))


def _kendall(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kendall tau-b of each row pair (scipy's default), from the signs of all pairs.

    ``sum sign(a_i - a_j) sign(b_i - b_j)`` over pairs is concordant minus
    discordant; ``sum |sign(a_i - a_j)|`` is the pairs not tied in ``a``.
    """
    sa = np.sign(a[:, :, None] - a[:, None, :])  # [R, S, S]
    sb = np.sign(b[:, :, None] - b[:, None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sa * sb).sum((1, 2)) / np.sqrt(np.abs(sa).sum((1, 2)) * np.abs(sb).sum((1, 2)))


def rows_agreement(attention, attribution, k: int = 3) -> dict[str, np.ndarray]:
    """:func:`row_agreement` for every row of two ``[R, S]`` matrices at once: arrays [R].

    Examples
    --------
    >>> r = rows_agreement([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]], [[3.0, -1.0, 2.0], [1, 1, 1]], k=2)
    >>> r["rho"].round(4).tolist(), r["top1"].tolist()
    ([0.5, nan], [1.0, 0.0])
    """
    a = np.abs(np.asarray(attention, dtype=np.float64))
    b = np.abs(np.asarray(attribution, dtype=np.float64))
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] == 0:
        raise InputError(f"rows must be [R, S] of one shape, S > 0, got {a.shape} and {b.shape}")
    R, S = a.shape
    # no rank order in a row of one token or a constant row
    ranked = (S > 1) & (np.ptp(a, axis=-1) > 0) & (np.ptp(b, axis=-1) > 0)  # [R]
    tau = np.where(ranked, _kendall(a, b), np.nan)
    rho = np.where(ranked, _spearman(a, b), np.nan)
    kk = min(k, S)
    rows = np.arange(R)[:, None]
    top_a, top_b = np.zeros((R, S), bool), np.zeros((R, S), bool)
    top_a[rows, np.argsort(-a, axis=-1, kind="stable")[:, :kk]] = True
    top_b[rows, np.argsort(-b, axis=-1, kind="stable")[:, :kk]] = True
    return {
        "tau": tau,
        "rho": rho,
        "jsd": np.asarray(js_divergence(a, b), dtype=np.float64).reshape(R),
        "top1": (np.argmax(a, -1) == np.argmax(b, -1)).astype(np.float64),
        "topk": (top_a & top_b).sum(-1) / kk,
    }


def row_agreement(attention_row, attribution_row, k: int = 3) -> dict:
    """Agreement of one attention row and one attribution row (absolute values).

    Examples
    --------
    >>> r = row_agreement([0.6, 0.3, 0.1], [3.0, -1.0, 2.0], k=2)
    >>> round(r["tau"], 4), round(r["rho"], 4), r["top1"], r["topk"]
    (0.3333, 0.5, 1.0, 0.5)
    """
    a, b = np.asarray(attention_row), np.asarray(attribution_row)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise InputError(f"rows must be 1-D and of one length, got {a.shape} and {b.shape}")
    return {name: float(v[0]) for name, v in rows_agreement(a[None], b[None], k).items()}


_METRICS = ("tau", "rho", "jsd", "top1", "topk")


@dataclass
class Agreement:
    """Per-step agreement over a corpus (all arrays have one entry per step).

    ``sentence`` and ``step`` locate each entry; ``tau``, ``rho``, ``jsd``,
    ``top1``, ``topk`` as in :func:`row_agreement`.
    """

    site: str | None
    method: str | None
    k: int
    sentence: np.ndarray
    step: np.ndarray
    tau: np.ndarray
    rho: np.ndarray
    jsd: np.ndarray
    top1: np.ndarray
    topk: np.ndarray

    def totals(self) -> AgreementTotals:
        """Per-sentence sums: what the corpus means and their intervals are made of.

        Examples
        --------
        >>> a = agreement([np.eye(2), np.eye(3)], [np.eye(2), 1 - np.eye(3)])
        >>> a.totals().sums[:, 0].tolist()  # steps of each sentence
        [2.0, 3.0]
        """
        steps = sentence_sums(np.zeros(len(self.sentence)), self.sentence)[1]
        per_metric = [sentence_sums(getattr(self, n), self.sentence) for n in _METRICS]
        sums, counts = zip(*per_metric, strict=True)
        return AgreementTotals(
            self.site, self.method, self.k, np.stack([steps, *sums, *counts], axis=1)
        )

    def summary(self) -> dict:
        """Corpus means (``nan`` ignored) and the number of steps.

        Examples
        --------
        >>> agreement([np.eye(2)], [np.eye(2)]).summary()["tau"]
        1.0
        """
        return self.totals().summary()

    def intervals(self, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict:
        """Each corpus mean of :meth:`summary` with a bootstrap interval over sentences.

        Resamples whole sentences (their steps are not independent; see
        :mod:`attnprobe.analyses.intervals`), the same resamples for every
        metric; returns ``{metric: Interval.to_dict()}``.

        Examples
        --------
        One sentence agrees on both steps, the other on neither: top-1 is 0.5,
        and a resample holds two, one or no copies of the agreeing one:

        >>> a, b = agreement([np.eye(2)], [np.eye(2)]), agreement([np.eye(2)], [np.eye(2)[::-1]])
        >>> iv = Agreement.concat([a, b]).intervals()["top1"]
        >>> iv["mean"], iv["low"], iv["high"]
        (0.5, 0.0, 1.0)
        """
        return self.totals().intervals(n_boot=n_boot, level=level, seed=seed)

    @classmethod
    def concat(cls, parts: Sequence[Agreement], site=None, method=None) -> Agreement:
        """One corpus from per-sentence parts: part ``k`` becomes sentence ``k``.

        Examples
        --------
        >>> a, b = agreement([np.eye(2)], [np.eye(2)]), agreement([np.eye(3)], [np.eye(3)])
        >>> both = Agreement.concat([a, b], site="s", method="m")
        >>> both.sentence.tolist(), both.step.tolist(), both.summary()["top1"]
        ([0, 0, 1, 1, 1], [0, 1, 0, 1, 2], 1.0)
        """
        arrays = {
            "sentence": np.concatenate(
                [np.full(p.step.size, k, np.int64) for k, p in enumerate(parts)]
            )
        }
        for name in ("step", *_METRICS):
            arrays[name] = np.concatenate([getattr(p, name) for p in parts])
        return cls(site=site, method=method, k=parts[0].k, **arrays)

    def to_dict(self) -> dict:
        """Plain-JSON form: the summary and the per-step arrays."""
        d = {"site": self.site, "method": self.method, "summary": self.summary()}
        for name in ("sentence", "step", *_METRICS):
            d[name] = np.asarray(getattr(self, name)).tolist()
        return d


@dataclass(eq=False)
class AgreementTotals:
    """Per-sentence sums of an :class:`Agreement`: enough for its corpus means and intervals.

    ``sums`` is a ``[sentences, 11]`` float array: column 0 the sentence's steps,
    columns 1-5 the sums of ``tau``, ``rho``, ``jsd``, ``top1``, ``topk`` over its
    steps where defined, columns 6-10 how many steps each sum holds: 11 numbers
    a sentence instead of six a step.
    """

    site: str | None
    method: str | None
    k: int
    sums: np.ndarray

    def summary(self) -> dict:
        """Corpus means (micro: all steps' total over their count) and the number of steps.

        Examples
        --------
        >>> AgreementTotals(None, None, 3, np.array([[2.0, 1, 1, 0, 2, 2, 1, 1, 2, 2, 2],
        ...     [1.0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1]])).summary()
        {'steps': 3, 'k': 3, 'tau': 1.0, 'rho': 1.0, 'jsd': 0.0, 'top1': 1.0, 'topk': 1.0}
        """
        total = self.sums.sum(axis=0) if len(self.sums) else np.zeros(1 + 2 * len(_METRICS))
        out = {"steps": int(total[0]), "k": self.k}
        m = len(_METRICS)
        for j, name in enumerate(_METRICS):
            count = total[1 + m + j]
            out[name] = float(total[1 + j] / count) if count else float("nan")
        return out

    def intervals(self, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict:
        """:meth:`Agreement.intervals` from the sums: the same resamples, the same numbers.

        Examples
        --------
        >>> t = AgreementTotals(None, None, 3, np.array([[2.0, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2],
        ...     [2.0, -2, -2, 1, 0, 0, 2, 2, 2, 2, 2]]))
        >>> iv = t.intervals()["top1"]
        >>> iv["mean"], iv["low"], iv["high"]
        (0.5, 0.0, 1.0)
        """
        m = len(_METRICS)
        return {
            name: bootstrap_ratio(
                self.sums[:, 1 + j], self.sums[:, 1 + m + j], n_boot=n_boot, level=level, seed=seed
            ).to_dict()
            for j, name in enumerate(_METRICS)
        }


def agreement(
    attentions: Sequence,
    attributions: Sequence,
    *,
    k: int = 3,
    site: str | None = None,
    method: str | None = None,
) -> Agreement:
    """Per-step agreement of attention and attribution matrices, sentence by sentence.

    Parameters
    ----------
    attentions, attributions : one ``[T_i, S_i]`` matrix each per sentence
        (the same shapes; rows are target steps).
    k : for the top-k overlap.
    site, method : labels kept in the result.

    Examples
    --------
    >>> att = [np.array([[0.5, 0.3, 0.2]])]
    >>> a = agreement(att, [np.array([[0.1, 0.2, 0.7]])])
    >>> float(a.tau[0]), float(a.rho[0]), float(a.top1[0])
    (-1.0, -1.0, 0.0)
    """
    if len(attentions) != len(attributions):
        raise InputError(
            f"{len(attentions)} attention matrices but {len(attributions)} attribution ones",
            fix="give one matrix of each per sentence of the same corpus",
        )
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    rows: dict[str, list] = {name: [] for name in ("sentence", "step", *_METRICS)}
    for i, (att, attr) in enumerate(zip(attentions, attributions, strict=True)):
        att, attr = np.asarray(att), np.asarray(attr)
        if att.shape != attr.shape or att.ndim != 2:
            raise InputError(
                f"sentence {i}: attention {att.shape} and attribution {attr.shape} must be "
                "[T, S] matrices of one shape",
            )
        T = att.shape[0]
        rows["sentence"].append(np.full(T, i, np.int64))
        rows["step"].append(np.arange(T, dtype=np.int64))
        if T == 0:
            for name in _METRICS:
                rows[name].append(np.zeros(0))
            continue
        r = rows_agreement(att, attr, k)  # every step of the sentence at once
        for name in _METRICS:
            rows[name].append(r[name])
    arrays = {
        n: np.concatenate(v) if v else np.zeros(0, np.int64 if n in ("sentence", "step") else None)
        for n, v in rows.items()
    }
    return Agreement(site=site, method=method, k=k, **arrays)


def _matrices(x) -> Sequence:
    return getattr(x, "matrices", x)


def agreement_table(
    attentions: Mapping[str, Sequence], attributions: Mapping[str, Sequence], *, k: int = 3
) -> dict[tuple[str, str], Agreement]:
    """Agreement for every (attention site, attribution method) pair.

    ``attributions`` values are lists of matrices or
    :class:`~attnprobe.runs.attribution.Attribution` results.

    Examples
    --------
    >>> t = agreement_table({"dec": [np.eye(2)]}, {"ig": [np.eye(2)], "sal": [1 - np.eye(2)]})
    >>> {key: a.summary()["top1"] for key, a in t.items()}
    {('dec', 'ig'): 1.0, ('dec', 'sal'): 0.0}
    """
    return {
        (site, method): agreement(att, _matrices(attr), k=k, site=site, method=method)
        for site, att in attentions.items()
        for method, attr in attributions.items()
    }


def attribution_aer(
    matrices: Sequence,
    gold: Sequence,
    *,
    extraction: str = "argmax-target",
    offsets: Sequence[int] = (0, -1),
    **options,
) -> dict[int, float]:
    """AER of alignments extracted from teacher-forced ``[m + 1, n + 1]`` matrices, per offset.

    The absolute values are extracted with
    :func:`attnprobe.analyses.extraction.extract_alignment`, the source EOS
    column and the target EOS row masked as for attention
    (:func:`attnprobe.pipeline.driver.word_masks`). Row t of an attribution matrix
    explains the prediction of target word t, so ``offset=0`` is its natural
    reading.

    Examples
    --------
    >>> from attnprobe.alignment import Alignment
    >>> m = [np.array([[0.1, -0.9, 0.0], [0.8, 0.1, 0.0], [0.1, 0.1, 0.1]])]
    >>> gold = [Alignment.from_links([(1, 0), (0, 1)], src_len=2, tgt_len=2)]
    >>> attribution_aer(m, gold)   # offset -1: links (0, 0) and (0, 1), one of them gold
    {0: 0.0, -1: 0.5}
    """
    from attnprobe.alignment import score_alignments
    from attnprobe.analyses.extraction import extract_alignment

    matrices = _matrices(matrices)
    if len(matrices) != len(gold):
        raise InputError(f"{len(matrices)} matrices but {len(gold)} gold alignments")
    out = {}
    for offset in offsets:
        hyp = []
        for m in matrices:
            m = np.abs(np.asarray(m, dtype=np.float64))
            # the masks of pipeline.driver.word_masks (analyses do not import the pipeline)
            src, tgt = np.ones(m.shape[1], bool), np.ones(m.shape[0], bool)
            src[-1] = tgt[-1] = False
            masks = {"src_mask": src, "tgt_mask": tgt}
            hyp.append(extract_alignment(m, extraction, offset=offset, **masks, **options))
        out[offset] = float(score_alignments(list(gold), hyp).aer)
    return out

"""Does attention agree with attribution? Rank, distribution and top-token agreement, and AER.

Pure functions on ``[T, S]`` matrices (numpy, scipy): one attention matrix and
one attribution matrix per sentence, rows = target steps, columns = source
tokens, as :mod:`attnprobe.runs.attribution` and a Trace give them. Attribution rows
are compared by their absolute values (a strongly negative attribution is a
token the model used, as a large attention weight is); nothing is modified in
place. Per step:

- Kendall tau and Spearman rho between the two rows (``nan`` for rows of one
  token, or a constant row, where no rank order exists);
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

from attnprobe.errors import InputError

__all__ = [
    "js_divergence",
    "row_agreement",
    "Agreement",
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


def row_agreement(attention_row, attribution_row, k: int = 3) -> dict:
    """Agreement of one attention row and one attribution row (absolute values).

    Examples
    --------
    >>> r = row_agreement([0.6, 0.3, 0.1], [3.0, -1.0, 2.0], k=2)
    >>> round(r["tau"], 4), round(r["rho"], 4), r["top1"], r["topk"]
    (0.3333, 0.5, 1.0, 0.5)
    """
    from scipy.stats import kendalltau, spearmanr

    a = np.abs(np.asarray(attention_row, dtype=np.float64))
    b = np.abs(np.asarray(attribution_row, dtype=np.float64))
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise InputError(f"rows must be 1-D and of one length, got {a.shape} and {b.shape}")
    ranked = a.size > 1 and np.ptp(a) > 0 and np.ptp(b) > 0
    tau = float(kendalltau(a, b).statistic) if ranked else float("nan")
    rho = float(spearmanr(a, b).statistic) if ranked else float("nan")
    kk = min(k, a.size)
    top_a = set(np.argsort(-a, kind="stable")[:kk].tolist())
    top_b = set(np.argsort(-b, kind="stable")[:kk].tolist())
    return {
        "tau": tau,
        "rho": rho,
        "jsd": float(js_divergence(a, b)),
        "top1": float(np.argmax(a) == np.argmax(b)),
        "topk": len(top_a & top_b) / kk,
    }


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

    def summary(self) -> dict:
        """Corpus means (``nan`` ignored) and the number of steps.

        Examples
        --------
        >>> agreement([np.eye(2)], [np.eye(2)]).summary()["tau"]
        1.0
        """
        out = {"steps": int(self.step.size), "k": self.k}
        for name in _METRICS:
            v = getattr(self, name)
            out[name] = float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
        return out

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
        for t in range(att.shape[0]):
            r = row_agreement(att[t], attr[t], k)
            rows["sentence"].append(i)
            rows["step"].append(t)
            for name in _METRICS:
                rows[name].append(r[name])
    arrays = {
        n: np.asarray(v, dtype=np.int64 if n in ("sentence", "step") else np.float64)
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

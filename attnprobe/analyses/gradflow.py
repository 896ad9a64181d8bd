"""Gradient flow: how much gradient reaches each source word, and along which paths.

Attention gives backpropagation a short path from every target step to every
source position (the "shortcut"), which should keep the gradient from
vanishing over long distances. Two pure views of that claim live here:

* **Measured**: per-sentence matrices ``G[t, s] = || d log p(y_t) / d e_s ||``
  (computed by :mod:`attnprobe.runs.gradients`, which runs the model) summarised by
  the distance between target step and source position, or by the source
  position counted from the end of the sentence (:func:`gradient_profile`), and
  compared between models (:func:`gradient_ratio`).
* **Shortcut**: the same matrices grouped by the length of the path through
  the recurrence (``t + s``) or by distance, each sentence's gradient divided
  by its own near gradient, as medians over sentences with bootstrap intervals
  (:func:`shortcut_profile`), and the ratio of two models' medians with a
  paired bootstrap (:func:`shortcut_ratio`). Dividing by the near gradient
  makes untrained models of different architectures comparable: what is left
  is how much of the gradient survives the long path.
* **Structural**: the unrolled computation as a networkx graph built from a
  model configuration (:func:`dependency_graph`), and the shortest path from
  each output ``y_t`` back to each source embedding, with and without the
  attention edges (:func:`path_lengths`): the shortcut made concrete.

Pure: numpy and networkx in, frozen dataclasses and arrays out. The
configuration is read by attribute or key (``attention``, ``bidirectional``,
``input_feeding``, ``mode``, ``window``), so a
:class:`~attnprobe.models.reference.rnn.ModelConfig` or a checkpoint's ``arch`` dict both
work and torch is never imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from attnprobe.analyses.extraction import word_matrix
from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "PROFILES",
    "GradientProfile",
    "gradient_profile",
    "gradient_ratio",
    "SHORTCUT_KEYS",
    "SHORTCUT_BUCKETS",
    "Estimate",
    "ShortcutProfile",
    "bucket_labels",
    "relative_reach",
    "median_estimate",
    "shortcut_profile",
    "shortcut_ratio",
    "PathDecomposition",
    "decompose_paths",
    "dependency_graph",
    "path_lengths",
    "path_length_range",
]

#: what a gradient profile groups the matrix entries by
PROFILES = ("distance", "signed", "from-end")


@dataclass(frozen=True)
class GradientProfile:
    """Gradient norms grouped by a key (distance, signed distance, or position from the end).

    ``keys[k]`` groups ``count[k]`` matrix entries whose norms have mean
    ``mean[k]`` and median ``median[k]``; ``total[k]`` is their sum.
    """

    by: str
    keys: tuple[int, ...]
    mean: tuple[float, ...]
    median: tuple[float, ...]
    count: tuple[int, ...]
    total: tuple[float, ...]

    def mean_between(self, lo: int, hi: int | None = None) -> float:
        """Mean norm over all entries whose key lies in ``[lo, hi]`` (NaN if none).

        Examples
        --------
        >>> p = gradient_profile([[[4.0, 2.0], [1.0, 4.0]]])
        >>> p.mean_between(0), p.mean_between(1)   # all entries; distance 1 only
        (2.75, 1.5)
        """
        keys = np.asarray(self.keys)
        sel = (keys >= lo) & (keys <= (np.inf if hi is None else hi))
        n = int(np.asarray(self.count)[sel].sum())
        return float(np.asarray(self.total)[sel].sum() / n) if n else float("nan")

    def to_dict(self) -> dict:
        return {
            "by": self.by,
            "keys": list(self.keys),
            "mean": list(self.mean),
            "median": list(self.median),
            "count": list(self.count),
        }


def gradient_profile(
    matrices: Sequence, by: str = "distance", *, offset: int = 0, masks: Sequence | None = None
) -> GradientProfile:
    """Group the entries of per-sentence gradient matrices ``[T, S]`` by a key.

    Parameters
    ----------
    matrices : per-sentence ``G[t, s]`` (target rows, source columns), non-negative.
    by : ``"distance"`` = ``|t - s|``, ``"signed"`` = ``t - s`` (positive: the
        source word lies before the target step's position), ``"from-end"`` =
        ``S' - 1 - s`` (0 = the last source word kept), for every ``t``.
    offset : row ``t`` belongs to target position ``t + offset`` (as in
        :func:`~attnprobe.analyses.extraction.word_matrix`); distances use positions.
    masks : one ``{"src_mask": ..., "tgt_mask": ...}`` per sentence (e.g.
        :func:`attnprobe.pipeline.driver.word_masks`), or None to keep every entry.

    Raises
    ------
    InputError
        Negative or non-finite norms, or a mask list of the wrong length.
    UnknownNameError
        An unknown ``by``.

    Examples
    --------
    >>> g = [[4.0, 2.0], [1.0, 4.0]]      # one sentence, 2 steps x 2 words
    >>> p = gradient_profile([g])
    >>> p.keys, p.mean, p.count
    ((0, 1), (4.0, 1.5), (2, 2))
    >>> gradient_profile([g], "signed").keys, gradient_profile([g], "signed").mean
    ((-1, 0, 1), (2.0, 4.0, 1.0))
    >>> gradient_profile([g], "from-end").mean    # last word: 2, 4; first word: 4, 1
    (3.0, 2.5)
    """
    if by not in PROFILES:
        raise UnknownNameError("gradient profile", by, PROFILES)
    if masks is not None and len(masks) != len(matrices):
        raise InputError(f"{len(masks)} masks for {len(matrices)} matrices")
    keys, values = [], []
    for k, g in enumerate(matrices):
        wm = word_matrix(g, offset=offset, **(masks[k] if masks is not None else {}))
        w = wm.weights  # [t, s]
        if (w < 0).any():
            raise InputError(f"gradient norms must be non-negative (sentence {k})")
        t = wm.tgt_words[:, None]  # [t, 1] target positions
        s = np.arange(w.shape[1])[None, :]  # [1, s]
        key = {"distance": np.abs(t - s), "signed": t - s, "from-end": w.shape[1] - 1 - s}[by]
        keys.append(np.broadcast_to(key, w.shape).ravel())
        values.append(w.ravel())
    key = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    val = np.concatenate(values) if values else np.zeros(0)
    uniq = np.unique(key)
    groups = [val[key == u] for u in uniq]
    return GradientProfile(
        by=by,
        keys=tuple(int(u) for u in uniq),
        mean=tuple(float(g.mean()) for g in groups),
        median=tuple(float(np.median(g)) for g in groups),
        count=tuple(len(g) for g in groups),
        total=tuple(float(g.sum()) for g in groups),
    )


def gradient_ratio(a: GradientProfile, b: GradientProfile, lo: int, hi: int | None = None) -> float:
    """Mean norm of ``a`` over keys in ``[lo, hi]`` divided by that of ``b``.

    With ``a`` an attention model and ``b`` one without attention, a ratio above
    1 at long distances is the shortcut at work.

    Examples
    --------
    >>> a = gradient_profile([[[1.0, 1.0, 1.0]]])
    >>> b = gradient_profile([[[1.0, 0.5, 0.1]]])
    >>> round(gradient_ratio(a, b, 1), 4)          # (1 + 1) / 2 over (0.5 + 0.1) / 2
    3.3333
    """
    if a.by != b.by:
        raise InputError(f"profiles group by different keys: {a.by!r} and {b.by!r}")
    den = b.mean_between(lo, hi)
    return a.mean_between(lo, hi) / den if den > 0 else float("nan")


# --------------------------------------------------------------------------- shortcut

#: what a shortcut profile groups entries by: ``"path"`` = ``t + s`` (target step
#: plus source position: the steps a gradient walks back through the decoder and the
#: backward encoder when it cannot take the attention), ``"distance"`` = ``|t - s|``
SHORTCUT_KEYS = ("path", "distance")
#: lower bounds of the buckets (the last is open-ended); the first bucket is the
#: near band that every sentence's gradient is divided by
SHORTCUT_BUCKETS = {"path": (0, 3, 10, 20, 30, 40), "distance": (0, 3, 10, 20)}


@dataclass(frozen=True)
class Estimate:
    """A median over sentences and its percentile bootstrap interval (``n`` sentences)."""

    value: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


def bucket_labels(bounds: Sequence[int]) -> tuple[str, ...]:
    """Labels of the buckets that start at ``bounds`` (the last is open-ended).

    Examples
    --------
    >>> bucket_labels((0, 3, 10))
    ('0-2', '3-9', '>= 10')
    """
    labels = [f"{lo}-{hi - 1}" if hi - 1 > lo else str(lo) for lo, hi in pairwise(bounds)]
    return (*labels, f">= {bounds[-1]}")


def _check_buckets(by: str, buckets) -> tuple[int, ...]:
    if by not in SHORTCUT_KEYS:
        raise UnknownNameError("shortcut key", by, SHORTCUT_KEYS)
    bounds = tuple(int(b) for b in (SHORTCUT_BUCKETS[by] if buckets is None else buckets))
    if len(bounds) < 2 or any(b >= c for b, c in pairwise(bounds)) or bounds[0] < 0:
        raise InputError(
            f"buckets must be at least two increasing lower bounds >= 0, got {bounds}",
            fix="e.g. buckets=(0, 3, 10, 20); the first bucket is the near band",
        )
    return bounds


def relative_reach(
    matrices: Sequence, by: str = "path", *, buckets: Sequence[int] | None = None, masks=None
) -> np.ndarray:
    """Each sentence's mean gradient norm per bucket over its mean in the first bucket.

    Parameters
    ----------
    matrices : per-sentence ``G[t, s]`` (target rows, source columns), non-negative.
    by : ``"path"`` groups entry ``(t, s)`` by ``t + s``, ``"distance"`` by ``|t - s|``
        (positions after the masks).
    buckets : lower bounds of the buckets, increasing; the last is open-ended.
        Default: :data:`SHORTCUT_BUCKETS`. The first bucket is the near band.
    masks : one ``{"src_mask": ..., "tgt_mask": ...}`` per sentence, or None.

    Returns
    -------
    ``[N, K]`` floats (sentences x buckets): 1 in the near bucket; NaN where a
    sentence has no entry in a bucket or no near gradient.

    Examples
    --------
    >>> g = [[4.0, 2.0, 1.0],      # t + s: 0 1 2
    ...      [2.0, 1.0, 0.5]]      #        1 2 3
    >>> relative_reach([g], buckets=(0, 2)).round(6).tolist()   # near 8/3, far 2.5/3
    [[1.0, 0.3125]]
    """
    bounds = _check_buckets(by, buckets)
    if masks is not None and len(masks) != len(matrices):
        raise InputError(f"{len(masks)} masks for {len(matrices)} matrices")
    out = np.full((len(matrices), len(bounds)), np.nan)
    for k, g in enumerate(matrices):
        wm = word_matrix(g, **(masks[k] if masks is not None else {}))
        w = wm.weights  # [t, s]
        if (w < 0).any():
            raise InputError(f"gradient norms must be non-negative (sentence {k})")
        t, s = wm.tgt_words[:, None], np.arange(w.shape[1])[None, :]
        key = t + s if by == "path" else np.abs(t - s)  # [t, s]
        bucket = np.searchsorted(bounds, key, side="right") - 1  # [t, s]
        sums = np.bincount(bucket.ravel(), w.ravel(), minlength=len(bounds))
        counts = np.bincount(bucket.ravel(), minlength=len(bounds))
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        if means[0] > 0:
            out[k] = means / means[0]
    return out


def _bootstrap(stat, n: int, n_boot: int, level: float, seed: int) -> tuple[float, float]:
    if not 0 < level < 1:
        raise InputError(f"level must be in (0, 1), got {level}")
    pick = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))  # [n_boot, n]
    lo, hi = np.quantile(stat(pick), [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def median_estimate(values, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> Estimate:
    """Median of the finite ``values`` (one per sentence), bootstrap interval over sentences.

    Examples
    --------
    >>> median_estimate([3.0, 1.0, float("nan"), 2.0]).value
    2.0
    >>> median_estimate([0.5, 0.5]).to_dict()
    {'value': 0.5, 'low': 0.5, 'high': 0.5, 'n': 2}
    """
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    lo, hi = _bootstrap(lambda pick: np.median(v[pick], axis=1), len(v), n_boot, level, seed)
    return Estimate(float(np.median(v)), lo, hi, len(v))


@dataclass(frozen=True)
class ShortcutProfile:
    """Relative gradient reach by bucket: per-sentence values and their medians.

    ``values[k][j]`` is sentence ``k``'s mean gradient norm in bucket ``j``
    divided by its mean in bucket 0 (the near band), NaN where it has none;
    ``estimates[j]`` is the median over sentences with its bootstrap interval.
    """

    by: str
    buckets: tuple[int, ...]
    values: tuple[tuple[float, ...], ...]
    estimates: tuple[Estimate, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return bucket_labels(self.buckets)

    def to_dict(self) -> dict:
        return {
            "by": self.by,
            "buckets": list(self.labels),
            "median": [e.to_dict() for e in self.estimates],
            "per_sentence": [list(v) for v in self.values],
        }


def shortcut_profile(
    matrices: Sequence,
    by: str = "path",
    *,
    buckets: Sequence[int] | None = None,
    masks=None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> ShortcutProfile:
    """:func:`relative_reach` of every sentence and its median per bucket.

    Examples
    --------
    >>> g1 = [[4.0, 1.0]]                  # t + s: 0 1 -> near 4, far 1: 0.25
    >>> g2 = [[2.0, 1.0]]                  # 0.5
    >>> p = shortcut_profile([g1, g2], buckets=(0, 1))
    >>> p.labels, p.estimates[1].value, p.estimates[1].n
    (('0', '>= 1'), 0.375, 2)
    """
    values = relative_reach(matrices, by, buckets=buckets, masks=masks)  # [N, K]
    bounds = _check_buckets(by, buckets)
    estimates = tuple(
        median_estimate(values[:, j], n_boot=n_boot, level=level, seed=seed)
        for j in range(len(bounds))
    )
    rows = tuple(tuple(float(x) for x in row) for row in values)
    return ShortcutProfile(by, bounds, rows, estimates)


def shortcut_ratio(
    a: ShortcutProfile,
    b: ShortcutProfile,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[Estimate, ...]:
    """Per bucket: median of ``a`` over median of ``b``, paired bootstrap over sentences.

    ``a`` and ``b`` must be measured on the same sentences (in the same order),
    e.g. an attention model and one without attention; a resample draws the
    same sentences for both. Sentences where either value is NaN are left out.

    Examples
    --------
    >>> a = ShortcutProfile("path", (0, 1), ((1.0, 0.4), (1.0, 0.2), (1.0, 0.6)), ())
    >>> b = ShortcutProfile("path", (0, 1), ((1.0, 0.002), (1.0, 0.001), (1.0, 0.003)), ())
    >>> [(e.value, e.low, e.high) for e in shortcut_ratio(a, b)]   # 200x in every resample
    [(1.0, 1.0, 1.0), (200.0, 200.0, 200.0)]
    """
    if (a.by, a.buckets) != (b.by, b.buckets) or len(a.values) != len(b.values):
        raise InputError(
            f"profiles differ: {a.by} {a.buckets} over {len(a.values)} sentences vs "
            f"{b.by} {b.buckets} over {len(b.values)}",
            fix="measure both models on the same sentences with the same buckets",
        )
    va, vb = np.asarray(a.values, np.float64), np.asarray(b.values, np.float64)  # [N, K]
    out = []
    for j in range(len(a.buckets)):
        ok = np.isfinite(va[:, j]) & np.isfinite(vb[:, j])
        x, y = va[ok, j], vb[ok, j]
        if not ok.any() or np.median(y) <= 0:
            out.append(Estimate(float("nan"), float("nan"), float("nan"), int(ok.sum())))
            continue

        def ratio(pick, x=x, y=y):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.median(x[pick], axis=1) / np.median(y[pick], axis=1)

        lo, hi = _bootstrap(ratio, len(x), n_boot, level, seed)
        out.append(Estimate(float(np.median(x) / np.median(y)), lo, hi, len(x)))
    return tuple(out)


# --------------------------------------------------------------------------- path decomposition


@dataclass(frozen=True)
class PathDecomposition:
    """How the gradient vectors split over computation paths.

    Each part is the gradient measured with every *other* path stopped, so that
    the parts of a clean cut (paths that meet only at the source) add up to the
    total gradient vector exactly; norms never add up (``||a + b|| <= ||a|| + ||b||``).

    ``projection[p]`` = sum of ``<g_p, g>`` / sum of ``||g||^2`` over all entries:
    shares that sum to ``1 - residual_projection`` and are the natural "share of
    the gradient". ``norm[p]`` = sum of ``||g_p||`` / sum of ``||g||``.
    ``residual`` = ``||g - sum_p g_p|| / ||g||`` over all entries: the part of
    the total that no part explains (paths through several stopped points, or
    counted twice); 0 up to rounding for a clean cut.
    """

    parts: tuple[str, ...]
    projection: dict[str, float]
    norm: dict[str, float]
    residual: float
    residual_projection: float
    entries: int

    def to_dict(self) -> dict:
        return {
            "parts": list(self.parts),
            "projection": dict(self.projection),
            "norm": dict(self.norm),
            "residual": self.residual,
            "residual_projection": self.residual_projection,
            "entries": self.entries,
        }


def decompose_paths(total, parts: Mapping[str, object]) -> PathDecomposition:
    """Split gradient vectors ``total`` ``[..., D]`` into per-path parts of the same shape.

    Examples
    --------
    Two entries; the parts add up exactly, and the second part is orthogonal to the total
    in the first entry:

    >>> g = [[3.0, 0.0], [0.0, 1.0]]
    >>> d = decompose_paths(g, {"attention": [[3.0, 1.0], [0.0, 1.0]],
    ...                         "init": [[0.0, -1.0], [0.0, 0.0]]})
    >>> d.projection, d.residual
    ({'attention': 1.0, 'init': 0.0}, 0.0)
    >>> round(d.norm["attention"], 4), d.norm["init"]   # (sqrt(10) + 1) / 4, 1 / 4
    (1.0406, 0.25)
    """
    g = np.asarray(total, dtype=np.float64)
    if g.ndim < 1:
        raise InputError("total must hold gradient vectors [..., D]")
    g = g.reshape(-1, g.shape[-1])  # [N, D]
    arrays = {}
    for name, part in parts.items():
        a = np.asarray(part, dtype=np.float64)
        if a.size != g.size:
            raise InputError(f"part {name!r} has {a.size} values, the total {g.size}")
        arrays[name] = a.reshape(g.shape)
    sq = float((g * g).sum())
    norm_total = float(np.linalg.norm(g, axis=1).sum())
    if sq == 0:
        raise InputError("the total gradient is zero; nothing to decompose")
    rest = g - sum(arrays.values()) if arrays else g
    projection = {k: float((a * g).sum() / sq) for k, a in arrays.items()}
    return PathDecomposition(
        parts=tuple(arrays),
        projection=projection,
        norm={k: float(np.linalg.norm(a, axis=1).sum() / norm_total) for k, a in arrays.items()},
        residual=float(np.sqrt((rest * rest).sum() / sq)),
        residual_projection=float((rest * g).sum() / sq),
        entries=len(g),
    )


# --------------------------------------------------------------------------- dependency graph


def _field(cfg, name: str, default=None):
    if isinstance(cfg, Mapping):
        return cfg.get(name, default)
    return getattr(cfg, name, default)


def dependency_graph(cfg, src_len: int, tgt_len: int, *, attention_edges: bool = True):
    """The unrolled computation of a reference model as a directed graph.

    Nodes (tuples): ``("e", s)`` source embedding, ``("f", s)`` / ``("b", s)``
    forward / backward encoder state, ``("init",)`` the decoder's initial state,
    ``("s", t)`` the decoder state after step ``t``, ``("c", t)`` the context
    vector, ``("a", t)`` Luong's attentional state ``h~_t``, ``("y", t)`` the
    output distribution of step ``t``. Edges point along the computation, as in
    :mod:`attnprobe.models.reference.rnn` (layers are collapsed into one node per step;
    target embeddings are not source-dependent and are left out):

    * encoder: ``e_s -> f_s``, ``f_{s-1} -> f_s``; bidirectional also
      ``e_s -> b_s``, ``b_{s+1} -> b_s``;
    * initial state: Bahdanau (bidirectional) from ``b_0``; otherwise from the
      final states ``f_{S-1}`` (and ``b_0``);
    * Bahdanau: ``s_{t-1} -> c_t`` (query), ``c_t, s_{t-1} -> s_t``,
      ``c_t, s_{t-1} -> y_t`` (the readout uses the previous state);
    * Luong: ``s_{t-1} -> s_t`` (and ``a_{t-1} -> s_t`` with input feeding),
      ``s_t -> c_t``, ``c_t, s_t -> a_t -> y_t``;
    * none: ``s_{t-1} -> s_t -> y_t``;
    * attention edges (when ``attention_edges``): every encoder state ``-> c_t``
      (keys and values); for ``local-m`` only the positions inside the window
      ``|s - t| <= window``; ``local-p`` predicts its window, so every position
      may be reached.

    ``s_{-1}`` is ``("init",)``.

    Parameters
    ----------
    cfg : a ModelConfig or a mapping with ``attention``, ``bidirectional``,
        ``input_feeding``, ``mode``, ``window``.
    src_len, tgt_len : source positions ``S`` and target steps ``T``.
    attention_edges : keep the edges from the encoder states to the contexts.

    Examples
    --------
    >>> g = dependency_graph({"attention": "none", "bidirectional": False}, 2, 1)
    >>> sorted(g.edges)
    [(('e', 0), ('f', 0)), (('e', 1), ('f', 1)), (('f', 0), ('f', 1)), (('f', 1), ('init',)), \
(('init',), ('s', 0)), (('s', 0), ('y', 0))]
    """
    import networkx as nx

    attention = _field(cfg, "attention")
    if attention not in ("bahdanau", "luong", "none"):
        raise UnknownNameError("attention type", str(attention), ("bahdanau", "luong", "none"))
    if src_len < 1 or tgt_len < 1:
        raise InputError(f"need at least one source position and step, got {src_len}, {tgt_len}")
    bidir = bool(_field(cfg, "bidirectional", True))
    feeding = bool(_field(cfg, "input_feeding", True))
    mode, window = _field(cfg, "mode", "global"), int(_field(cfg, "window", 5))
    S, T = src_len, tgt_len
    g = nx.DiGraph()
    for s in range(S):
        g.add_edge(("e", s), ("f", s))
        if s:
            g.add_edge(("f", s - 1), ("f", s))
        if bidir:
            g.add_edge(("e", s), ("b", s))
            if s:
                g.add_edge(("b", s), ("b", s - 1))
    if attention == "bahdanau" and bidir:
        g.add_edge(("b", 0), ("init",))
    else:
        g.add_edge(("f", S - 1), ("init",))
        if bidir:
            g.add_edge(("b", 0), ("init",))
    states = [("f", s) for s in range(S)] + ([("b", s) for s in range(S)] if bidir else [])
    for t in range(T):
        prev = ("s", t - 1) if t else ("init",)
        c, st, y = ("c", t), ("s", t), ("y", t)
        if attention == "bahdanau":
            g.add_edges_from([(prev, c), (c, st), (prev, st), (c, y), (prev, y)])
        elif attention == "luong":
            a = ("a", t)
            g.add_edges_from([(prev, st), (st, c), (c, a), (st, a), (a, y)])
            if feeding and t:
                g.add_edge(("a", t - 1), st)
        else:
            g.add_edges_from([(prev, st), (st, y)])
        if attention != "none" and attention_edges:
            for node in states:
                if mode != "local-m" or abs(node[1] - t) <= window:
                    g.add_edge(node, c)
    return g


def path_lengths(cfg, src_len: int, tgt_len: int, *, attention_edges: bool = True) -> np.ndarray:
    """Shortest path length from each source embedding to each output: ``L[t, s]``.

    The gradient of ``log p(y_t)`` reaches ``e_s`` along the same path backwards.
    Pairs without a path are ``inf``.

    Examples
    --------
    Bahdanau, bidirectional, 3 source positions, 2 steps. With attention:
    ``e_s -> f_s -> c_t -> y_t`` = 3 for every pair. Without: only through
    ``s_0 = tanh(W b_0)``: ``e_s -> b_s -> ... -> b_0 -> init -> (s_0 ... ->) y_t``
    = ``s + 3 + t``.

    >>> cfg = {"attention": "bahdanau", "bidirectional": True}
    >>> path_lengths(cfg, 3, 2).tolist()
    [[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]
    >>> path_lengths(cfg, 3, 2, attention_edges=False).tolist()
    [[3.0, 4.0, 5.0], [4.0, 5.0, 6.0]]
    """
    import networkx as nx

    g = dependency_graph(cfg, src_len, tgt_len, attention_edges=attention_edges)
    out = np.full((tgt_len, src_len), np.inf)
    for s in range(src_len):
        reach = nx.single_source_shortest_path_length(g, ("e", s))
        for t in range(tgt_len):
            out[t, s] = reach.get(("y", t), np.inf)
    return out


def path_length_range(lengths) -> dict[str, list]:
    """Shortest path lengths ``L[t, s]`` summarised per distance ``|t - s|``: min, median, max.

    Without attention the path from a source word to a target step depends on
    where both lie, not only on their distance (``s + 3 + t`` for Bahdanau's
    initial state), so an average per distance hides a wide range.
    Unreachable pairs (``inf``) are left out; a distance without a finite
    entry gets None.

    Examples
    --------
    >>> L = path_lengths({"attention": "bahdanau", "bidirectional": True}, 3, 3,
    ...                  attention_edges=False)        # s + 3 + t
    >>> r = path_length_range(L)
    >>> r["distance"], r["min"], r["median"], r["max"]
    ([0, 1, 2], [3.0, 4.0, 5.0], [5.0, 5.0, 5.0], [7.0, 6.0, 5.0])
    """
    m = np.asarray(lengths, dtype=np.float64)
    if m.ndim != 2:
        raise InputError(f"path lengths must be one [T, S] matrix, got shape {m.shape}")
    T, S = m.shape
    dist = np.abs(np.arange(T)[:, None] - np.arange(S)[None, :])  # [T, S]
    out: dict[str, list] = {"distance": [], "min": [], "median": [], "max": []}
    for d in range(max(T, S)):
        v = m[(dist == d) & np.isfinite(m)]
        out["distance"].append(d)
        for name, f in (("min", np.min), ("median", np.median), ("max", np.max)):
            out[name].append(float(f(v)) if v.size else None)
    return out

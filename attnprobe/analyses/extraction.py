"""Hard word alignments from soft attention (or similarity) matrices.

Every function takes one matrix ``[T, S]`` (target rows, source columns) and
returns an :class:`~attnprobe.alignment.Alignment` of sure links
``(source word, target word)``. Two conversions happen first, the same for
every method (:func:`word_matrix`):

* **offset**: row ``t`` belongs to target position ``t + offset``. Which
  offset is right depends on the architecture (Luong et al. 2015, footnote
  14): an attention row computed from the decoder state that has just read
  ``y_{t-1}`` aligns that input word (``offset=-1`` when row 0 is the step that
  reads BOS and target position 0 is the first real word), while a row that
  predicts ``y_t`` aligns it (``offset=0``). Rows that fall outside the target
  positions are dropped.
* **masks**: ``src_mask`` ``[S]`` and ``tgt_mask`` ``[n target positions]``
  mark the real words (False for BOS, EOS, padding). Masked positions are
  removed and the rest renumbered, so link indices count real words only and
  can be scored against gold alignments directly.

Each method is a kernel on word matrices (bool links out), written for a padded
stack of sentences; one matrix is a stack of one. A caller that runs several
methods on one sentence converts it once with :func:`word_matrix` and asks
:func:`word_links` for each method's links as two int arrays sorted by
``(src, tgt)``; a caller with a batch stacks the sentences' matrices
(:class:`WordBatch`) and gets every sentence's links from each method in one
pass. Arrays are the form a :class:`~attnprobe.alignment.LinkTable` is built
from (:meth:`~attnprobe.alignment.LinkTable.from_offsets`), without an
:class:`~attnprobe.alignment.Alignment` per sentence.

The matrices are numpy arrays; anything ``np.asarray`` understands (a CPU
torch tensor too) is accepted, and torch is never imported here.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from attnprobe.alignment import Alignment
from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "EXTRACTORS",
    "WordMatrix",
    "WordBatch",
    "word_matrix",
    "word_links",
    "extract_alignment",
    "argmax_target",
    "argmax_source",
    "argmax_intersection",
    "argmax_union",
    "threshold",
    "itermax",
    "max_weight_matching",
    "top_p",
    "diagonal_alignment",
    "diagonal_links",
]


@dataclass(frozen=True)
class WordMatrix:
    """Attention restricted to real words, with word numbers for rows and columns.

    Attributes
    ----------
    weights : float64 ``[t, s]``, the rows that map to a real target word and the
        columns of real source words.
    tgt_words : int ``[t]``, the target word number of each row.
    n_src, n_tgt : numbers of real source and target words.
    """

    weights: np.ndarray
    tgt_words: np.ndarray
    n_src: int
    n_tgt: int

    def to_alignment(self, links: np.ndarray) -> Alignment:
        """Links given as a bool ``[t, s]`` matrix over ``weights`` -> word alignment."""
        rows, cols = np.nonzero(links)
        pairs = zip(cols.tolist(), self.tgt_words[rows].tolist(), strict=True)
        return Alignment(frozenset(pairs), frozenset(), self.n_src, self.n_tgt)

    def to_links(self, links: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Links given as a bool ``[t, s]`` matrix over ``weights`` -> ``(src, tgt)`` word
        numbers, int64 arrays sorted by ``(src, tgt)``.

        Examples
        --------
        >>> w = word_matrix([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]], offset=-1,
        ...                 tgt_mask=[True, True, False])
        >>> src, tgt = w.to_links(np.array([[True, True], [True, False]]))
        >>> src.tolist(), tgt.tolist()
        ([0, 0, 1], [0, 1, 0])
        """
        # column by column (source word), rows in order: tgt_words rises with the row
        cols, rows = np.nonzero(np.asarray(links).T)
        return cols.astype(np.int64, copy=False), self.tgt_words[rows].astype(np.int64, copy=False)


def _mask(mask, size: int | None, name: str) -> np.ndarray | None:
    if mask is None:
        return None
    arr = np.asarray(mask)
    if arr.ndim != 1 or (size is not None and len(arr) != size):
        want = f"[{size}]" if size is not None else "1-D"
        raise InputError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.dtype != bool:
        if not np.isin(arr, (0, 1)).all():
            raise InputError(f"{name} must be boolean (True = real word), got values {arr[:5]}")
        arr = arr.astype(bool)
    return arr


def word_matrix(attention, *, offset: int = 0, src_mask=None, tgt_mask=None) -> WordMatrix:
    """Apply the target offset and the masks: the matrix every method works on.

    Parameters
    ----------
    attention : ``[T, S]`` weights, target rows and source columns.
    offset : row ``t`` belongs to target position ``t + offset`` (often 0 or -1).
    src_mask : bool ``[S]``, True for real source words (default: all).
    tgt_mask : bool ``[n]`` over target positions, True for real words
        (default: ``T`` positions, all real).

    Raises
    ------
    InputError
        Not a 2-D finite matrix, masks of the wrong shape, or an offset that is
        not an integer.

    Examples
    --------
    Target tokens ``[w0, w1, EOS]``; row ``t`` reads ``y_{t-1}`` (row 0 reads BOS):

    >>> a = [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]
    >>> w = word_matrix(a, offset=-1, tgt_mask=[True, True, False])
    >>> w.weights.tolist(), w.tgt_words.tolist(), w.n_src, w.n_tgt
    ([[0.2, 0.8], [0.5, 0.5]], [0, 1], 2, 2)

    Row ``t`` predicts ``y_t``; the EOS row goes:

    >>> w = word_matrix(a, offset=0, tgt_mask=[True, True, False])
    >>> w.weights.tolist(), w.tgt_words.tolist()
    ([[0.9, 0.1], [0.2, 0.8]], [0, 1])
    """
    a = np.asarray(attention, dtype=np.float64)
    if a.ndim != 2:
        raise InputError(
            f"attention must be one [T, S] matrix, got shape {a.shape}",
            fix="select one sentence (and head) first, e.g. attention[b, 0, :T, :S]",
        )
    if not np.isfinite(a).all():
        raise InputError("attention contains NaN or infinite values")
    if isinstance(offset, bool) or not isinstance(offset, int | np.integer):
        raise InputError(f"offset must be an integer, got {offset!r}")
    T, S = a.shape
    offset = int(offset)
    src = _mask(src_mask, S, "src_mask")
    tgt = _mask(tgt_mask, None, "tgt_mask")
    if tgt is None:
        tgt = np.ones(T, bool)
    cols = np.arange(S) if src is None else np.flatnonzero(src)
    # rows lo..hi-1 fall on target positions 0..len(tgt)-1 (row t on position t + offset)
    lo = max(0, -offset)
    rows = np.arange(lo, max(lo, min(T, len(tgt) - offset)))
    first = lo + offset  # the position of row lo
    rows = rows[tgt[first : first + len(rows)]]  # rows on real words
    # the rows on real words hold consecutive word numbers, from the real words before `first`
    tgt_words = np.count_nonzero(tgt[:first]) + np.arange(len(rows))
    return WordMatrix(
        weights=_submatrix(a, rows, cols),
        tgt_words=tgt_words,
        n_src=len(cols),
        n_tgt=int(np.count_nonzero(tgt)),
    )


def _submatrix(a: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """A copy of ``a[rows][:, cols]`` (runs of consecutive numbers are sliced: cheaper)."""

    def span(idx):  # a run of consecutive numbers (or none) as a slice
        if len(idx) == 0:
            return slice(0, 0)
        if idx[-1] - idx[0] == len(idx) - 1:
            return slice(int(idx[0]), int(idx[-1]) + 1)
        return idx

    r, c = span(rows), span(cols)
    if isinstance(r, slice) and isinstance(c, slice):
        return a[r, c].copy()
    if isinstance(r, slice) or isinstance(c, slice):
        return a[r, c]
    return a[np.ix_(r, c)]


@dataclass(frozen=True)
class WordBatch:
    """The word matrices of several sentences in one padded stack: each method runs
    on all of them at once.

    Build it with :meth:`stack`; :meth:`links` gives every sentence's links, the
    same as :func:`word_links` on each matrix alone.

    Attributes
    ----------
    matrices : the sentences' :class:`WordMatrix`, in order.
    weights : float64 ``[B, t, s]``; sentence ``b``'s matrix in the top-left corner
        of ``weights[b]``, zeros around it.
    valid : bool ``[B, t, s]``, True inside each sentence's matrix.
    tgt_words : int64 ``[B, t]``, the target word number of each row (-1 outside).
    """

    matrices: tuple[WordMatrix, ...]
    weights: np.ndarray
    valid: np.ndarray
    tgt_words: np.ndarray

    @classmethod
    def stack(cls, matrices: Sequence[WordMatrix]) -> WordBatch:
        """Pad the sentences' word matrices (from :func:`word_matrix`) into one stack.

        Examples
        --------
        >>> a = word_matrix([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
        >>> b = word_matrix([[0.4, 0.6]])
        >>> words = WordBatch.stack([a, b])
        >>> words.weights.shape, words.valid[1].tolist(), words.tgt_words.tolist()
        ((2, 2, 3), [[True, True, False], [False, False, False]], [[0, 1], [0, -1]])
        """
        matrices = tuple(matrices)
        shapes = [wm.weights.shape for wm in matrices]
        t = max((r for r, _ in shapes), default=0)
        s = max((c for _, c in shapes), default=0)
        weights = np.zeros((len(matrices), t, s))
        tgt_words = np.full((len(matrices), t), -1, np.int64)
        for b, wm in enumerate(matrices):
            r, c = wm.weights.shape
            weights[b, :r, :c] = wm.weights
            tgt_words[b, :r] = wm.tgt_words
        rows, cols = np.array(shapes, np.int64).reshape(-1, 2).T
        valid = (np.arange(t) < rows[:, None])[:, :, None] & (np.arange(s) < cols[:, None])[
            :, None, :
        ]
        return cls(matrices, weights, valid, tgt_words)

    @property
    def n_src(self) -> np.ndarray:
        """Int64 ``[B]``: each sentence's real source words."""
        return np.array([wm.n_src for wm in self.matrices], np.int64)

    @property
    def n_tgt(self) -> np.ndarray:
        """Int64 ``[B]``: each sentence's real target words."""
        return np.array([wm.n_tgt for wm in self.matrices], np.int64)

    def links(
        self, method: str = "argmax-target", **params
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every sentence's links by ``method``, grouped by sentence.

        Parameters and errors as :func:`word_links`.

        Returns
        -------
        ``(offsets, src, tgt)`` : int64 ``[B + 1]`` and ``[L]``; sentence ``b``'s links
        are ``offsets[b]:offsets[b + 1]``, sorted by ``(src, tgt)`` (the layout of
        :meth:`~attnprobe.alignment.LinkTable.from_offsets`).

        Examples
        --------
        >>> a = word_matrix([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
        >>> b = word_matrix([[0.4, 0.6]])
        >>> offsets, src, tgt = WordBatch.stack([a, b]).links("argmax-target")
        >>> offsets.tolist(), src.tolist(), tgt.tolist()
        ([0, 2, 3], [0, 2, 1], [0, 1, 0])
        """
        kernel = _kernel(method)
        links = kernel(self.weights, self.valid, **_kernel_params(method, params))
        # sentence by sentence, source word by source word, rows in order (tgt_words rises
        # with the row): the flat positions of the [B, s, t] view, split into their indices
        _, t, s = links.shape
        b, rest = np.divmod(np.flatnonzero(links.transpose(0, 2, 1)), s * t)
        src, row = np.divmod(rest, t)
        offsets = np.zeros(len(self.matrices) + 1, np.int64)
        np.cumsum(np.bincount(b, minlength=len(self.matrices)), out=offsets[1:])
        return offsets, src.astype(np.int64, copy=False), self.tgt_words[b, row]


# Kernels: word matrices in, links out. A kernel works on a padded stack of
# sentences, ``w`` float ``[B, t, s]`` and ``valid`` bool ``[B, t, s]`` (True inside
# each sentence's matrix, which sits in the top-left corner of its slice), and
# returns bool links ``[B, t, s]``, never outside ``valid``; one matrix is a stack
# of one. Each sentence's links are those of its own matrix alone.


def _argmax_links(w: np.ndarray, valid: np.ndarray, axis: int) -> np.ndarray:
    """The largest valid weight of each row (axis 2) or column (axis 1); ties: the first."""
    links = np.zeros(w.shape, bool)
    if w.size:
        best = np.where(valid, w, -np.inf).argmax(axis=axis)
        np.put_along_axis(links, np.expand_dims(best, axis), True, axis=axis)
    return links & valid  # a row or column without a valid weight has no link


def _row_argmax(w, valid):
    return _argmax_links(w, valid, 2)


def _col_argmax(w, valid):
    return _argmax_links(w, valid, 1)


def _each_sentence(kernel: Callable[..., np.ndarray]):
    """A kernel on one ``[t, s]`` matrix, made a kernel on a stack (one sentence at a time)."""

    @functools.wraps(kernel)
    def run(w, valid, **params):
        links = np.zeros(w.shape, bool)
        rows = valid.any(axis=2).sum(axis=1)  # [B] each sentence's rows (0 if no column)
        cols = valid.any(axis=1).sum(axis=1)  # [B] its columns
        for b, (t, s) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
            links[b, :t, :s] = kernel(w[b, :t, :s], **params)
        return links

    return run


def _one(kernel: Callable[..., np.ndarray], w: np.ndarray, **params) -> np.ndarray:
    """Run a kernel on one ``[t, s]`` matrix."""
    return kernel(w[None], np.ones((1, *w.shape), bool), **params)[0]


def _extractor(kernel: Callable[..., np.ndarray]):
    """Wrap a kernel on the word matrix into the public signature."""

    def run(attention, *, offset=0, src_mask=None, tgt_mask=None, **params) -> Alignment:
        wm = word_matrix(attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask)
        return wm.to_alignment(_one(kernel, wm.weights, **params))

    run.__name__ = kernel.__name__.lstrip("_")
    return run


def argmax_target(attention, *, offset=0, src_mask=None, tgt_mask=None) -> Alignment:
    """Link every target word to the source word it attends to most.

    One link per target word, as Luong et al. (2015, Table 6) extract alignments
    from attention. Ties go to the first source word.

    Parameters
    ----------
    attention, offset, src_mask, tgt_mask : see :func:`word_matrix`.

    Examples
    --------
    >>> a = [[0.7, 0.2, 0.1],
    ...      [0.1, 0.1, 0.8]]
    >>> sorted(argmax_target(a).sure)
    [(0, 0), (2, 1)]
    """
    return _extractor(_row_argmax)(attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask)


def argmax_source(attention, *, offset=0, src_mask=None, tgt_mask=None) -> Alignment:
    """Link every source word to the target word that attends to it most.

    Examples
    --------
    >>> a = [[0.7, 0.2, 0.1],
    ...      [0.1, 0.1, 0.8]]
    >>> sorted(argmax_source(a).sure)
    [(0, 0), (1, 0), (2, 1)]
    """
    return _extractor(_col_argmax)(attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask)


def _intersection(w, valid):
    return _row_argmax(w, valid) & _col_argmax(w, valid)


def _union(w, valid):
    return _row_argmax(w, valid) | _col_argmax(w, valid)


def argmax_intersection(attention, *, offset=0, src_mask=None, tgt_mask=None) -> Alignment:
    """Links that are the argmax in both directions (mutual argmax).

    Examples
    --------
    >>> a = [[0.7, 0.2, 0.1],
    ...      [0.1, 0.1, 0.8]]
    >>> sorted(argmax_intersection(a).sure)
    [(0, 0), (2, 1)]
    """
    return _extractor(_intersection)(attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask)


def argmax_union(attention, *, offset=0, src_mask=None, tgt_mask=None) -> Alignment:
    """Links that are the argmax in either direction.

    Examples
    --------
    >>> a = [[0.7, 0.2, 0.1],
    ...      [0.1, 0.1, 0.8]]
    >>> sorted(argmax_union(a).sure)
    [(0, 0), (1, 0), (2, 1)]
    """
    return _extractor(_union)(attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask)


def _threshold(w, valid, *, value: float = 0.5):
    if not np.isfinite(value):
        raise InputError(f"threshold must be a finite number, got {value!r}")
    return (w > value) & valid


def threshold(attention, value: float = 0.5, *, offset=0, src_mask=None, tgt_mask=None):
    """Links whose weight is strictly greater than ``value``.

    Examples
    --------
    >>> a = [[0.5, 0.4, 0.1],
    ...      [0.1, 0.3, 0.6]]
    >>> sorted(threshold(a, 0.35).sure)
    [(0, 0), (1, 0), (2, 1)]
    """
    return _extractor(_threshold)(
        attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask, value=float(value)
    )


def _itermax(w, valid, *, alpha: float = 0.9, max_iter: int = 2):
    if not 0.0 <= alpha <= 1.0:
        raise InputError(f"alpha must lie in [0, 1], got {alpha}")
    if max_iter < 1:
        raise InputError(f"max_iter must be >= 1, got {max_iter}")
    links = _intersection(w, valid)
    real_row = valid.any(axis=2)  # [B, t]
    real_col = valid.any(axis=1)  # [B, s]
    for _ in range(max_iter - 1):
        row_done = links.any(axis=2)  # [B, t] target word aligned
        col_done = links.any(axis=1)  # [B, s] source word aligned
        # a sentence whose target or source words are all aligned is finished
        going = ~((row_done | ~real_row).all(axis=1) | (col_done | ~real_col).all(axis=1))
        if not going.any():
            break
        row_done, col_done = row_done[:, :, None], col_done[:, None, :]
        # both words aligned: out; one aligned: discounted by alpha; none: as is
        factor = np.where(row_done & col_done, 0.0, np.where(row_done | col_done, alpha, 1.0))
        new = _intersection(w * factor, valid) & (factor > 0) & ~links & going[:, None, None]
        if not new.any():  # (a sentence without new links would find none later either)
            break
        links |= new
    return links


def itermax(
    attention, *, alpha: float = 0.9, max_iter: int = 2, offset=0, src_mask=None, tgt_mask=None
) -> Alignment:
    """IterMax (Jalili Sabet et al., 2020): mutual argmax, repeated for unaligned words.

    Starts from the mutual argmax. Each further iteration recomputes the mutual
    argmax on a modified matrix in which a pair whose two words are both aligned
    is excluded and a pair with one aligned word is discounted by ``alpha``, and
    adds the new links. Stops after ``max_iter`` rounds, when one side is fully
    aligned, or when nothing changes. Weights should be non-negative.

    Examples
    --------
    >>> a = [[0.6, 0.4, 0.0],
    ...      [0.5, 0.1, 0.0],
    ...      [0.0, 0.0, 1.0]]
    >>> sorted(itermax(a, max_iter=1).sure)    # mutual argmax
    [(0, 0), (2, 2)]
    >>> sorted(itermax(a).sure)     # round 2 links the unaligned words to aligned ones
    [(0, 0), (0, 1), (1, 0), (2, 2)]
    """
    return _extractor(_itermax)(
        attention,
        offset=offset,
        src_mask=src_mask,
        tgt_mask=tgt_mask,
        alpha=float(alpha),
        max_iter=int(max_iter),
    )


@_each_sentence
def _matching(w):
    import networkx as nx  # only this method needs it

    links = np.zeros(w.shape, bool)
    graph = nx.Graph()
    rows, cols = np.nonzero(w > 0)  # non-positive edges never raise a matching's weight
    graph.add_weighted_edges_from(
        (("t", r), ("s", c), float(w[r, c]))
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
    )
    for u, v in nx.max_weight_matching(graph):
        (_, r), (_, c) = (u, v) if u[0] == "t" else (v, u)
        links[r, c] = True
    return links


def max_weight_matching(attention, *, offset=0, src_mask=None, tgt_mask=None) -> Alignment:
    """The one-to-one alignment with the largest total weight (bipartite matching).

    Solved with networkx's ``max_weight_matching``; only positive weights count.

    Examples
    --------
    >>> a = [[0.6, 0.5],
    ...      [0.5, 0.0]]
    >>> sorted(max_weight_matching(a).sure)    # 0.5 + 0.5 beats 0.6
    [(0, 1), (1, 0)]
    """
    return _extractor(_matching)(attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask)


@_each_sentence
def _top_p(w, *, p: float = 0.5):
    if not 0.0 < p <= 1.0:
        raise InputError(f"p must lie in (0, 1], got {p}")
    if (w < 0).any():
        raise InputError("top-p needs non-negative weights (attention probabilities)")
    order = np.argsort(-w, axis=1, kind="stable")  # [t, s] heaviest first
    sorted_w = np.take_along_axis(w, order, axis=1)
    mass = w.sum(axis=1, keepdims=True)  # over real source words only
    before = np.cumsum(sorted_w, axis=1) - sorted_w  # mass of the heavier words
    keep_sorted = (before < p * mass) & (sorted_w > 0)
    links = np.zeros(w.shape, bool)
    np.put_along_axis(links, order, keep_sorted, axis=1)
    return links


def top_p(attention, p: float = 0.5, *, offset=0, src_mask=None, tgt_mask=None) -> Alignment:
    """Per target word, the fewest source words that hold a fraction ``p`` of its attention.

    The heaviest source words are taken until their weight reaches ``p`` times
    the row's weight over the real source words (so masking special tokens
    renormalises implicitly). Weights must be non-negative.

    Examples
    --------
    >>> a = [[0.5, 0.3, 0.2],
    ...      [0.1, 0.1, 0.8]]
    >>> sorted(top_p(a, 0.7).sure)
    [(0, 0), (1, 0), (2, 1)]
    """
    return _extractor(_top_p)(
        attention, offset=offset, src_mask=src_mask, tgt_mask=tgt_mask, p=float(p)
    )


def diagonal_alignment(n_src: int, n_tgt: int) -> Alignment:
    """The alignment that ignores the words: each target word linked to the diagonal.

    Target word ``j`` is linked to the source word whose share of the sentence
    holds the target word's centre, ``i = floor((j + 1/2) * n_src / n_tgt)``: one
    link per target word, monotone, the identity when the lengths are equal. Its
    AER is the baseline that attention's AER should be read against: it is what a
    model that learned nothing but "go left to right" would score.

    Raises
    ------
    InputError
        A negative length.

    Examples
    --------
    >>> sorted(diagonal_alignment(2, 4).sure)     # centres 0.25, 0.75, 1.25, 1.75
    [(0, 0), (0, 1), (1, 2), (1, 3)]
    >>> sorted(diagonal_alignment(3, 3).sure)
    [(0, 0), (1, 1), (2, 2)]
    """
    src, tgt = diagonal_links(n_src, n_tgt)
    links = zip(src.tolist(), tgt.tolist(), strict=True)
    return Alignment(frozenset(links), frozenset(), n_src, n_tgt)


def diagonal_links(n_src: int, n_tgt: int) -> tuple[np.ndarray, np.ndarray]:
    """The links of :func:`diagonal_alignment` as ``(src, tgt)`` int64 arrays, in target order
    (which is ``(src, tgt)`` order: the diagonal never goes back).

    Raises
    ------
    InputError
        A negative length.

    Examples
    --------
    >>> src, tgt = diagonal_links(2, 4)
    >>> src.tolist(), tgt.tolist()
    ([0, 0, 1, 1], [0, 1, 2, 3])
    >>> [a.tolist() for a in diagonal_links(0, 3)]     # no source word: no link
    [[], []]
    """
    if n_src < 0 or n_tgt < 0:
        raise InputError(f"sentence lengths must be >= 0, got {n_src} and {n_tgt}")
    tgt = np.arange(n_tgt if n_src else 0, dtype=np.int64)
    # integer arithmetic: floor((2j + 1) * n_src / (2 n_tgt)), no rounding at exact halves
    return (2 * tgt + 1) * n_src // max(2 * n_tgt, 1), tgt


#: Extraction methods by name; parameters (``value``, ``p``, ``alpha``, ...) pass through.
EXTRACTORS: dict[str, Callable[..., Alignment]] = {
    "argmax-target": argmax_target,
    "argmax-source": argmax_source,
    "intersection": argmax_intersection,
    "union": argmax_union,
    "threshold": threshold,
    "itermax": itermax,
    "matching": max_weight_matching,
    "top-p": top_p,
}


#: The kernel of each method in :data:`EXTRACTORS`: word matrix weights in, bool links out;
#: the parameters' defaults are those of the public functions.
_KERNELS: dict[str, Callable[..., np.ndarray]] = {
    "argmax-target": _row_argmax,
    "argmax-source": _col_argmax,
    "intersection": _intersection,
    "union": _union,
    "threshold": _threshold,
    "itermax": _itermax,
    "matching": _matching,
    "top-p": _top_p,
}
#: how the public functions convert each method parameter
_PARAM_TYPES: dict[str, Callable] = {"value": float, "p": float, "alpha": float, "max_iter": int}


def word_links(
    matrix: WordMatrix, method: str = "argmax-target", **params
) -> tuple[np.ndarray, np.ndarray]:
    """The links ``method`` finds in a word matrix, as ``(src, tgt)`` arrays.

    The same links as :func:`extract_alignment` with the same method and
    parameters, for a matrix already converted by :func:`word_matrix`: a caller
    that runs several methods on one sentence converts it once, and gets arrays
    it can put in a :class:`~attnprobe.alignment.LinkTable`
    (:meth:`~attnprobe.alignment.LinkTable.from_offsets`) or a JSON list
    without making an :class:`~attnprobe.alignment.Alignment`.

    Parameters
    ----------
    matrix : a :class:`WordMatrix` (see :func:`word_matrix`).
    method : a key of :data:`EXTRACTORS`.
    **params : the method's own parameters (``value``, ``p``, ``alpha``,
        ``max_iter``), with the public functions' defaults.

    Returns
    -------
    ``(src, tgt)`` : int64 arrays ``[L]`` of word numbers, sorted by ``(src, tgt)``.

    Raises
    ------
    UnknownNameError
        An unknown method.
    InputError
        A parameter the method does not take, or one outside its range.

    Examples
    --------
    >>> w = word_matrix([[0.7, 0.2, 0.1],
    ...                  [0.1, 0.1, 0.8]])
    >>> [x.tolist() for x in word_links(w, "argmax-source")]
    [[0, 1, 2], [0, 0, 1]]
    >>> [x.tolist() for x in word_links(w, "threshold", value=0.15)]
    [[0, 1, 2], [0, 0, 1]]
    """
    kernel = _kernel(method)
    return matrix.to_links(_one(kernel, matrix.weights, **_kernel_params(method, params)))


def _kernel(method: str) -> Callable[..., np.ndarray]:
    kernel = _KERNELS.get(method)
    if kernel is None:
        raise UnknownNameError("extraction method", method, EXTRACTORS)
    return kernel


def _kernel_params(method: str, params: dict) -> dict:
    """``params`` checked against ``method``'s kernel and converted as the public functions do."""
    takes = inspect.unwrap(_KERNELS[method]).__kwdefaults__ or {}  # parameters with defaults
    unknown = sorted(set(params) - set(takes))
    if unknown:
        raise InputError(
            f"extraction method {method!r} has no parameter {unknown[0]!r}",
            fix=f"its parameters: {', '.join(takes) or 'none'}",
        )
    try:
        return {k: _PARAM_TYPES[k](v) for k, v in params.items()}
    except (TypeError, ValueError) as exc:
        raise InputError(f"extraction method {method!r}: {exc}") from None


def extract_alignment(attention, method: str = "argmax-target", **options) -> Alignment:
    """Extract a hard alignment with the method named ``method`` (see :data:`EXTRACTORS`).

    Parameters
    ----------
    attention : ``[T, S]`` matrix.
    method : ``argmax-target``, ``argmax-source``, ``intersection``, ``union``,
        ``threshold``, ``itermax``, ``matching`` or ``top-p``.
    **options : ``offset``, ``src_mask``, ``tgt_mask`` and the method's own
        parameters (``value`` for threshold, ``p`` for top-p, ``alpha`` and
        ``max_iter`` for itermax).

    Raises
    ------
    UnknownNameError
        An unknown method (with "did you mean").

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[0.1, 0.8, 0.1],     # row 0 reads BOS: dropped by offset=-1
    ...               [0.8, 0.1, 0.1],
    ...               [0.1, 0.1, 0.8]])
    >>> sorted(extract_alignment(a, "argmax-target", offset=-1,
    ...                          src_mask=[True, True, False]).sure)
    [(0, 0), (0, 1)]
    """
    run = EXTRACTORS.get(method)
    if run is None:
        raise UnknownNameError("extraction method", method, EXTRACTORS)
    try:
        return run(attention, **options)
    except TypeError as exc:  # a parameter the method does not take
        raise InputError(f"extraction method {method!r}: {exc}") from None

"""The two alignment types: :class:`Alignment` for one sentence, :class:`LinkTable` for a corpus.

Inside attnprobe a link is ``(i, j)`` = (source index, target index), 0-based,
as in Pharaoh ``i-j``. Possible links include the sure ones (S ⊆ P).

Two representations, one for people and one for speed:

* :class:`Alignment` holds one sentence pair as frozensets of links; it is what
  extraction and symmetrisation return and what a researcher inspects.
* :class:`LinkTable` holds a whole corpus as flat numpy arrays (links grouped by
  sentence, sure links first), with the sentence ids of its file when it had
  any. Scoring runs on tables, so that a million sentences are scored in
  vectorised passes instead of a Python loop over sets.

Word positions are bounded by :data:`MAX_INDEX`, so that memory and time depend
on the size of a corpus, never on the values written in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from attnprobe.errors import InputError

__all__ = ["Alignment", "LinkTable", "Link", "MAX_INDEX"]

Link = tuple[int, int]

#: The largest word position attnprobe accepts (2**31 - 1); larger ones are input errors.
MAX_INDEX = 2**31 - 1

# Scoring marks the hypothesis links of a block of sentences in a dense byte array
# and looks every gold link up in it (see scoring.py). A link of sentence s is the
# cell ``(s mod C) << (bs + bt) | src << bt | tgt``, with ``bs`` and ``bt`` bits for
# the source and target positions; a table packs its links into cells once, when
# it is made, at its own widths (at least _MIN_BITS each, so that tables of
# sentences up to 32 words share one packing).
_CELL_BITS = 24  # a block's marks span at most 2**24 cells (16 MiB)
_MIN_BITS = 5


def _cell_layout(bs: int, bt: int) -> tuple[int, int, int] | None:
    """``(bs, bt, k)``: cell widths and ``2**k`` sentences per block; None if too wide.

    Blocks hold 1,024 sentences, more when sentences are narrow (so that the
    marks span at least 2**20 cells), fewer when they are wide (at most
    2**_CELL_BITS cells); a sentence wider than 2**_CELL_BITS cells is scored by
    sorting instead.
    """
    width = bs + bt
    if width > _CELL_BITS:
        return None
    return bs, bt, min(_CELL_BITS - width, max(10, 20 - width))


def _check_index(i: int, j: int) -> None:
    if i < 0 or j < 0:
        raise InputError(f"link {i}-{j} has a negative index")
    if i > MAX_INDEX or j > MAX_INDEX:
        raise InputError(f"link {i}-{j}: word positions must not exceed {MAX_INDEX}")


@dataclass(frozen=True)
class Alignment:
    """The gold or predicted word alignment of one sentence pair.

    Parameters
    ----------
    sure : links ``(src, tgt)``, 0-based.
    possible : links that are acceptable; always a superset of ``sure``
        (the constructor adds the sure links).
    src_len, tgt_len : sentence lengths in words, when known; links must lie inside.

    Raises
    ------
    InputError
        A negative index, one above :data:`MAX_INDEX`, or a link outside the lengths.

    Examples
    --------
    >>> a = Alignment.from_links([(0, 0), (1, 2)], possible=[(1, 1)], src_len=2, tgt_len=3)
    >>> sorted(a.possible)
    [(0, 0), (1, 1), (1, 2)]
    >>> a.possible_only
    frozenset({(1, 1)})
    """

    sure: frozenset[Link]
    possible: frozenset[Link]
    src_len: int | None = None
    tgt_len: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "sure", frozenset(self.sure))
        object.__setattr__(self, "possible", frozenset(self.possible) | self.sure)
        for i, j in self.possible:
            _check_index(i, j)
            if (self.src_len is not None and i >= self.src_len) or (
                self.tgt_len is not None and j >= self.tgt_len
            ):
                raise InputError(
                    f"link {i}-{j} points outside a {self.src_len}x{self.tgt_len} sentence pair",
                    fix="check the index base (0- or 1-based) and the direction of the file",
                )

    @classmethod
    def from_links(
        cls,
        sure: Iterable[Link],
        possible: Iterable[Link] = (),
        src_len: int | None = None,
        tgt_len: int | None = None,
    ) -> Alignment:
        """Build an alignment from iterables of ``(src, tgt)`` pairs.

        Examples
        --------
        >>> Alignment.from_links([(0, 1)]).sure
        frozenset({(0, 1)})
        """
        return cls(frozenset(map(tuple, sure)), frozenset(map(tuple, possible)), src_len, tgt_len)

    @property
    def possible_only(self) -> frozenset[Link]:
        """Possible links that are not sure.

        Examples
        --------
        >>> Alignment.from_links([(0, 0)], [(0, 0), (1, 0)]).possible_only
        frozenset({(1, 0)})
        """
        return self.possible - self.sure

    def reversed(self) -> Alignment:
        """The same alignment seen from the other side: ``(i, j)`` becomes ``(j, i)``.

        Examples
        --------
        >>> a = Alignment.from_links([(0, 2)], [(1, 2)], src_len=2, tgt_len=3).reversed()
        >>> sorted(a.sure), sorted(a.possible_only), a.src_len, a.tgt_len
        ([(2, 0)], [(2, 1)], 3, 2)
        """
        return Alignment(
            frozenset((j, i) for i, j in self.sure),
            frozenset((j, i) for i, j in self.possible),
            self.tgt_len,
            self.src_len,
        )


# --------------------------------------------------------------------------- tables


def _int_array(values, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"{name} must be a 1-D integer array, got shape {arr.shape} {arr.dtype}")
    if arr.dtype == np.uint64 and arr.max() > np.iinfo(np.int64).max:
        raise InputError(f"{name} holds values beyond int64")
    return arr.astype(np.int64, copy=False)


def _id_tuple(ids, n: int) -> tuple[str, ...] | None:
    """Sentence ids as a tuple of distinct strings, one per sentence (or None)."""
    if ids is None:
        return None
    ids = tuple(str(i) for i in ids)
    if len(ids) != n:
        raise InputError(f"{len(ids)} sentence ids for {n} sentences")
    if len(set(ids)) != n:
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))
        raise InputError(f"sentence id {dup[:40]!r} occurs twice", fix="give each sentence one id")
    return ids


@dataclass(frozen=True, eq=False)
class LinkTable:
    """All links of a corpus in flat arrays: the fast form for scoring.

    Links are grouped by sentence (``offsets`` in CSR style); inside a sentence
    the sure links come first, then the possible-only ones, and no link occurs
    twice. Build tables with :meth:`from_links`, :meth:`from_alignments` or
    :func:`~attnprobe.alignment.read_link_table`, which establish these
    invariants; do not fill the fields by hand.

    Attributes
    ----------
    offsets : int64 ``[N + 1]``; links of sentence ``s`` are ``offsets[s]:offsets[s+1]``.
    sure_end : int64 ``[N]``; links ``offsets[s]:sure_end[s]`` are sure, the rest possible-only.
    src, tgt : int64 ``[L]``; 0-based source and target indices.
    src_len, tgt_len : int64 ``[N]`` sentence lengths (-1 where unknown), or None.
    ids : the sentence ids of the file (NAACL sentence numbers, ``id<TAB>``
        prefixes), distinct strings, one per sentence; None when sentences are
        known by position only. Scoring pairs sentences by id when both tables
        have ids.

    Examples
    --------
    >>> t = LinkTable.from_alignments([Alignment.from_links([(0, 0), (1, 1)], [(1, 2)]),
    ...                                Alignment.from_links([])])
    >>> len(t), t.n_links, t.n_sure
    (2, 3, 2)
    >>> sorted(t[0].possible_only)
    [(1, 2)]
    """

    offsets: np.ndarray
    sure_end: np.ndarray
    src: np.ndarray
    tgt: np.ndarray
    src_len: np.ndarray | None = None
    tgt_len: np.ndarray | None = None
    ids: tuple[str, ...] | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        # Pack once, when the table is made (as a set is hashed when it is built), so
        # that scoring only reads: the sure flags and the cells at the table's own width.
        self.sure  # noqa: B018 - fills the cache
        layout = _cell_layout(*self._widths())
        if layout is not None:
            self._cells(layout)

    # ---- construction

    @classmethod
    def from_links(
        cls,
        sentence,
        src,
        tgt,
        sure=None,
        *,
        n_sentences: int,
        src_len=None,
        tgt_len=None,
        ids: Sequence[str] | None = None,
    ) -> LinkTable:
        """Build a table from parallel arrays, one entry per link.

        Duplicates are merged (a link listed as sure and as possible is sure),
        and links are checked against the lengths where those are known (>= 0).

        Parameters
        ----------
        sentence, src, tgt : integer arrays ``[L]``, 0-based.
        sure : bool array ``[L]``; default all sure.
        n_sentences : number of sentences ``N`` (sentences without links are empty).
        src_len, tgt_len : integer arrays ``[N]`` (-1 = unknown), or None.
        ids : ``N`` distinct sentence ids, or None.

        Raises
        ------
        InputError
            Negative indices or indices above :data:`MAX_INDEX`, sentence numbers
            outside ``[0, N)``, links outside the known lengths, arrays of
            different lengths, duplicate ids.

        Examples
        --------
        >>> t = LinkTable.from_links([1, 0, 1], [0, 0, 0], [1, 0, 1], [False, True, True],
        ...                          n_sentences=3)
        >>> [sorted(a.sure) for a in t.to_alignments()]
        [[(0, 0)], [(0, 1)], []]
        """
        sentence = _int_array(sentence, "sentence")
        src = _int_array(src, "src")
        tgt = _int_array(tgt, "tgt")
        n = len(sentence)
        sure = np.ones(n, bool) if sure is None else np.asarray(sure, dtype=bool).reshape(-1)
        if not (len(src) == len(tgt) == len(sure) == n):
            raise InputError(
                f"sentence, src, tgt and sure must have the same length, got "
                f"{n}, {len(src)}, {len(tgt)}, {len(sure)}"
            )
        if n_sentences < 0:
            raise InputError(f"n_sentences must be >= 0, got {n_sentences}")
        ids = _id_tuple(ids, n_sentences)
        if n and (sentence.min() < 0 or sentence.max() >= n_sentences):
            raise InputError(
                f"sentence numbers must lie in [0, {n_sentences}), "
                f"found {sentence.min()}..{sentence.max()}"
            )
        src_len = None if src_len is None else _lengths(src_len, n_sentences, "src_len")
        tgt_len = None if tgt_len is None else _lengths(tgt_len, n_sentences, "tgt_len")
        _check_links(sentence, src, tgt, src_len, tgt_len)
        # merge duplicates: sort so that, per (sentence, src, tgt), a sure copy comes first
        order = np.lexsort((~sure, tgt, src, sentence))
        sentence, src, tgt, sure = sentence[order], src[order], tgt[order], sure[order]
        keep = np.ones(n, bool)
        keep[1:] = (np.diff(sentence) != 0) | (np.diff(src) != 0) | (np.diff(tgt) != 0)
        sentence, src, tgt, sure = sentence[keep], src[keep], tgt[keep], sure[keep]
        # group: by sentence, sure links first (stable, so src/tgt order is kept)
        order = np.lexsort((~sure, sentence))
        sentence, src, tgt, sure = sentence[order], src[order], tgt[order], sure[order]
        counts = np.bincount(sentence, minlength=n_sentences)
        offsets = np.zeros(n_sentences + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        sure_end = offsets[:-1] + np.bincount(sentence[sure], minlength=n_sentences)
        return cls(offsets, sure_end, src, tgt, src_len, tgt_len, ids)

    @classmethod
    def from_offsets(
        cls,
        offsets,
        src,
        tgt,
        *,
        src_len=None,
        tgt_len=None,
        ids: Sequence[str] | None = None,
    ) -> LinkTable:
        """Build a table of sure links already grouped by sentence and sorted.

        The way in for links that are made in order, such as an extracted
        hypothesis (:func:`~attnprobe.analyses.extraction.word_links`): sentence
        ``s`` holds the links ``offsets[s]:offsets[s+1]`` of ``src`` and ``tgt``,
        in strictly increasing ``(src, tgt)`` order, the order a table keeps its
        sure links in. Nothing is sorted or merged, only checked: the table equals
        :meth:`from_links` of the same links.

        Parameters
        ----------
        offsets : integer array ``[N + 1]``, from 0 to ``L``, non-decreasing.
        src, tgt : integer arrays ``[L]``, 0-based.
        src_len, tgt_len : integer arrays ``[N]`` (-1 = unknown), or None.
        ids : ``N`` distinct sentence ids, or None.

        Raises
        ------
        InputError
            Offsets that do not run from 0 to ``L`` or go back, negative indices
            or indices above :data:`MAX_INDEX`, links outside the known lengths,
            a sentence whose links are not in increasing ``(src, tgt)`` order
            (or repeat one), arrays of different lengths, duplicate ids.

        Examples
        --------
        >>> t = LinkTable.from_offsets([0, 2, 2, 3], [0, 1, 0], [1, 0, 0])
        >>> [sorted(a.sure) for a in t.to_alignments()]
        [[(0, 1), (1, 0)], [], [(0, 0)]]
        >>> t.n_sure == t.n_links == 3
        True
        """
        offsets = _int_array(offsets, "offsets")
        src = _int_array(src, "src")
        tgt = _int_array(tgt, "tgt")
        if len(tgt) != len(src):
            raise InputError(f"src and tgt must have the same length, got {len(src)}, {len(tgt)}")
        n = len(offsets) - 1
        if n < 0 or offsets[0] != 0 or offsets[-1] != len(src) or (np.diff(offsets) < 0).any():
            shown = ", ".join(map(str, offsets[:6].tolist())) + (", ..." if n > 5 else "")
            raise InputError(
                f"offsets must rise from 0 to the number of links ({len(src)}), got [{shown}]"
            )
        ids = _id_tuple(ids, n)
        sentence = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
        src_len = None if src_len is None else _lengths(src_len, n, "src_len")
        tgt_len = None if tgt_len is None else _lengths(tgt_len, n, "tgt_len")
        _check_links(sentence, src, tgt, src_len, tgt_len)
        # inside a sentence every link comes after the one before it in (src, tgt) order
        same = sentence[1:] == sentence[:-1]
        rises = (src[1:] > src[:-1]) | ((src[1:] == src[:-1]) & (tgt[1:] > tgt[:-1]))
        back = np.flatnonzero(same & ~rises)
        if len(back):
            k = int(back[0]) + 1
            raise InputError(
                f"sentence {sentence[k]}: link {src[k]}-{tgt[k]} does not come after "
                f"{src[k - 1]}-{tgt[k - 1]}",
                fix="sort each sentence's links by (src, tgt) and drop repeats, or use from_links",
            )
        return cls(offsets, offsets[1:].copy(), src, tgt, src_len, tgt_len, ids)

    @classmethod
    def from_alignments(
        cls, alignments: Sequence[Alignment], ids: Sequence[str] | None = None
    ) -> LinkTable:
        """Build a table from one :class:`Alignment` per sentence (and optional ids).

        Examples
        --------
        >>> t = LinkTable.from_alignments([Alignment.from_links([(0, 1)], src_len=1, tgt_len=2)])
        >>> t.to_alignments()[0] == Alignment.from_links([(0, 1)], src_len=1, tgt_len=2)
        True
        >>> LinkTable.from_alignments([Alignment.from_links([])], ids=["s7"]).ids
        ('s7',)
        """
        sentence: list[int] = []
        links: list[Link] = []
        sure: list[bool] = []
        for s, a in enumerate(alignments):
            for group, flag in ((a.sure, True), (a.possible_only, False)):
                links.extend(group)
                sentence.extend([s] * len(group))
                sure.extend([flag] * len(group))
        src_len = [-1 if a.src_len is None else a.src_len for a in alignments]
        tgt_len = [-1 if a.tgt_len is None else a.tgt_len for a in alignments]
        pairs = np.array(links, dtype=np.int64).reshape(-1, 2)
        return cls.from_links(
            sentence,
            pairs[:, 0],
            pairs[:, 1],
            sure,
            n_sentences=len(alignments),
            src_len=None if max(src_len, default=-1) < 0 else src_len,
            tgt_len=None if max(tgt_len, default=-1) < 0 else tgt_len,
            ids=ids,
        )

    @classmethod
    def concatenate(cls, tables: Sequence[LinkTable]) -> LinkTable:
        """One table with the sentences of ``tables`` one after the other.

        The result has ids when every table has them (they must stay distinct).

        Examples
        --------
        >>> t = LinkTable.from_alignments([Alignment.from_links([(0, 0)])])
        >>> u = LinkTable.concatenate([t, t, t])
        >>> len(u), u.n_links
        (3, 3)
        """
        if not tables:
            return cls.from_links([], [], [], n_sentences=0)
        shifts = np.cumsum([0] + [t.n_links for t in tables[:-1]])
        pairs = list(zip(tables, shifts, strict=True))
        offsets = np.concatenate([[0]] + [t.offsets[1:] + k for t, k in pairs])
        sure_end = np.concatenate([t.sure_end + k for t, k in pairs])

        def lengths(name):
            parts = [getattr(t, name) for t in tables]
            if all(p is None for p in parts):
                return None
            return np.concatenate(
                [
                    np.full(len(t), -1) if p is None else p
                    for t, p in zip(tables, parts, strict=True)
                ]
            )

        ids = None
        if all(t.ids is not None for t in tables):
            ids = _id_tuple([i for t in tables for i in t.ids], len(offsets) - 1)
        elif any(t.ids is not None for t in tables):
            raise InputError("cannot concatenate tables with sentence ids and tables without")
        return cls(
            offsets,
            sure_end,
            np.concatenate([t.src for t in tables]),
            np.concatenate([t.tgt for t in tables]),
            lengths("src_len"),
            lengths("tgt_len"),
            ids,
        )

    # ---- views

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_links(self) -> int:
        """Number of links, sure and possible-only (``|P|`` for a gold table)."""
        return int(self.offsets[-1])

    @property
    def n_sure(self) -> int:
        """Number of sure links (``|S|`` for a gold table)."""
        return int((self.sure_end - self.offsets[:-1]).sum())

    @property
    def sure(self) -> np.ndarray:
        """Bool ``[L]``: which links are sure (cached)."""
        if "sure" not in self._cache:
            start = self.offsets[:-1]
            counts = np.stack([self.sure_end - start, self.offsets[1:] - self.sure_end], axis=1)
            flags = np.tile(np.array([True, False]), len(self))
            self._cache["sure"] = np.repeat(flags, counts.reshape(-1))
        return self._cache["sure"]

    def __getitem__(self, s):
        """Sentence ``s`` as an :class:`Alignment`, or a slice of sentences as a table."""
        if isinstance(s, slice):
            return self._slice(s)
        if not -len(self) <= s < len(self):
            raise IndexError(f"sentence {s} out of range for {len(self)} sentences")
        s %= len(self)
        a, m, b = self.offsets[s], self.sure_end[s], self.offsets[s + 1]
        pairs = list(zip(self.src[a:b].tolist(), self.tgt[a:b].tolist(), strict=True))
        return Alignment(
            frozenset(pairs[: m - a]),
            frozenset(pairs),
            _known(self.src_len, s),
            _known(self.tgt_len, s),
        )

    def _slice(self, which: slice) -> LinkTable:
        start, stop, step = which.indices(len(self))
        if step != 1:
            raise InputError("only contiguous sentence ranges can be sliced (step 1)")
        stop = max(start, stop)
        a, b = self.offsets[start], self.offsets[stop]

        def cut(lengths):
            return None if lengths is None else lengths[start:stop]

        return LinkTable(
            self.offsets[start : stop + 1] - a,
            self.sure_end[start:stop] - a,
            self.src[a:b],
            self.tgt[a:b],
            cut(self.src_len),
            cut(self.tgt_len),
            None if self.ids is None else self.ids[start:stop],
        )

    def _select(self, rows: np.ndarray) -> LinkTable:
        """The sentences ``rows`` in that order; row -1 gives an empty sentence.

        The result is known by position (no ids); lengths follow their rows (-1 for -1).
        """
        rows = np.asarray(rows, dtype=np.int64)

        def per_row(values, empty):  # values per sentence, plus one for row -1 at the end
            return np.append(values, empty)[rows]

        counts = per_row(np.diff(self.offsets), 0)
        sure_counts = per_row(self.sure_end - self.offsets[:-1], 0)
        starts = per_row(self.offsets[:-1], 0)
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        # gather index of every kept link: its row's start plus its rank inside the row
        take = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1] - starts, counts)

        def lengths(values):
            return None if values is None else per_row(values, -1)

        return LinkTable(
            offsets,
            offsets[:-1] + sure_counts,
            self.src[take],
            self.tgt[take],
            lengths(self.src_len),
            lengths(self.tgt_len),
        )

    def to_alignments(self) -> list[Alignment]:
        """One :class:`Alignment` per sentence.

        Examples
        --------
        >>> LinkTable.from_links([0], [2], [1], n_sentences=1).to_alignments()[0].sure
        frozenset({(2, 1)})
        """
        return [self[s] for s in range(len(self))]

    def reversed(self) -> LinkTable:
        """The table seen from the other side: source and target swap.

        Examples
        --------
        >>> LinkTable.from_links([0], [2], [1], n_sentences=1).reversed()[0].sure
        frozenset({(1, 2)})
        """
        return LinkTable(
            self.offsets, self.sure_end, self.tgt, self.src, self.tgt_len, self.src_len, self.ids
        )

    # ---- the packed form used by the scorer

    def _sentence_ids(self) -> np.ndarray:
        """Int64 ``[L]``: the sentence number (row) of every link."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets))

    def _widths(self) -> tuple[int, int]:
        """Bits for the source and target positions of every link (at least ``_MIN_BITS``)."""
        if "widths" not in self._cache:
            top = (int(self.src.max()), int(self.tgt.max())) if self.n_links else (0, 0)
            self._cache["widths"] = tuple(max(_MIN_BITS, int(v).bit_length()) for v in top)
        return self._cache["widths"]

    def _cells(self, layout: tuple[int, int, int]) -> np.ndarray:
        """Block-local cell numbers ``(s mod 2**k) << (bs + bt) | src << bt | tgt``.

        ``layout`` is ``(bs, bt, k)`` from :func:`_cell_layout`, wide enough for
        every link; cached per layout.
        """
        key = ("cells", layout)
        if key not in self._cache:
            bs, bt, k = layout
            local = np.arange(len(self), dtype=np.int64) & ((1 << k) - 1)
            cells = np.repeat(local << (bs + bt), np.diff(self.offsets))
            cells |= self.tgt
            cells |= self.src << bt
            self._cache[key] = cells
        return self._cache[key]


def _lengths(values, n: int, name: str) -> np.ndarray:
    arr = _int_array(values, name)
    if len(arr) != n:
        raise InputError(f"{name} has {len(arr)} entries for {n} sentences")
    return arr


def _known(lengths: np.ndarray | None, s: int) -> int | None:
    if lengths is None or lengths[s] < 0:
        return None
    return int(lengths[s])


def _len_str(lengths, s) -> str:
    return "?" if lengths is None or lengths[s] < 0 else str(lengths[s])


def _check_links(sentence, src, tgt, src_len, tgt_len) -> None:
    """Raise :class:`InputError` for the first link with a bad index or outside its sentence."""
    if len(src) and (min(src.min(), tgt.min()) < 0 or max(src.max(), tgt.max()) > MAX_INDEX):
        k = int(np.flatnonzero((src < 0) | (tgt < 0) | (src > MAX_INDEX) | (tgt > MAX_INDEX))[0])
        try:
            _check_index(int(src[k]), int(tgt[k]))
        except InputError as exc:
            raise InputError(f"sentence {sentence[k]}: {exc.message}") from None
    bad = _outside(sentence, src, tgt, src_len, tgt_len)
    if bad is not None:
        s = sentence[bad]
        raise InputError(
            f"sentence {s}: link {src[bad]}-{tgt[bad]} points outside a "
            f"{_len_str(src_len, s)}x{_len_str(tgt_len, s)} sentence pair",
            fix="check the index base (0- or 1-based) and the direction of the file",
        )


def _outside(sentence, src, tgt, src_len, tgt_len) -> int | None:
    """Index of the first link outside the known lengths, or None."""
    bad = np.zeros(len(sentence), bool)
    for idx, lengths in ((src, src_len), (tgt, tgt_len)):
        if lengths is not None:
            limit = lengths[sentence]
            bad |= (limit >= 0) & (idx >= limit)
    hits = np.flatnonzero(bad)
    return int(hits[0]) if len(hits) else None

"""Word alignments: the :class:`Alignment` type, its file formats, and AER scoring.

Inside attnprobe a link is ``(i, j)`` = (source index, target index), 0-based,
as in Pharaoh ``i-j``. Index base and direction are converted once, at the file
boundary, by explicit options. Possible links include the sure ones (S ⊆ P).

Two representations, one for people and one for speed:

* :class:`Alignment` holds one sentence pair as frozensets of links; it is what
  extraction and symmetrisation return and what a researcher inspects.
* :class:`LinkTable` holds a whole corpus as flat numpy arrays (links grouped by
  sentence, sure links first). Scoring runs on tables, so that a million
  sentences are scored in vectorised passes instead of a Python loop over sets.

Scoring follows the standard definitions (Och & Ney 2003) as the reference
scorers implement them, micro-averaged over the corpus: precision
``|A∩P|/|A|``, recall ``|A∩S|/|S|``, ``AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from attnprobe.errors import InputError, UnknownNameError
from attnprobe.fileio import write_text_atomic

__all__ = [
    "Alignment",
    "LinkTable",
    "AlignmentScores",
    "SentenceScores",
    "FORMATS",
    "format_pharaoh",
    "write_pharaoh",
    "format_naacl",
    "write_naacl",
    "detect_format",
    "file_format",
    "read_alignments",
    "read_link_table",
    "read_bitext_lengths",
    "score_alignments",
    "score_files",
]

Link = tuple[int, int]

#: File formats the readers understand; ``auto`` detects them from the first link line.
FORMATS = ("auto", "pharaoh", "naacl")


@dataclass(frozen=True)
class Alignment:
    """The gold or predicted word alignment of one sentence pair.

    Parameters
    ----------
    sure : links ``(src, tgt)``, 0-based.
    possible : links that are acceptable; always a superset of ``sure``
        (the constructor adds the sure links).
    src_len, tgt_len : sentence lengths in words, when known; links must lie inside.

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
            if i < 0 or j < 0:
                raise InputError(f"link {i}-{j} has a negative index")
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
    return arr.astype(np.int64, copy=False)


@dataclass(frozen=True, eq=False)
class LinkTable:
    """All links of a corpus in flat arrays: the fast form for scoring.

    Links are grouped by sentence (``offsets`` in CSR style); inside a sentence
    the sure links come first, then the possible-only ones, and no link occurs
    twice. Build tables with :meth:`from_links`, :meth:`from_alignments` or
    :func:`read_link_table`, which establish these invariants; do not fill the
    fields by hand.

    Attributes
    ----------
    offsets : int64 ``[N + 1]``; links of sentence ``s`` are ``offsets[s]:offsets[s+1]``.
    sure_end : int64 ``[N]``; links ``offsets[s]:sure_end[s]`` are sure, the rest possible-only.
    src, tgt : int64 ``[L]``; 0-based source and target indices.
    src_len, tgt_len : int64 ``[N]`` sentence lengths (-1 where unknown), or None.

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
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        # Pack once, when the table is made (as a set is hashed when it is built), so
        # that scoring only reads: the sure flags and the cells at the table's own width.
        self.sure  # noqa: B018 - fills the cache
        self._cells(max(_MIN_BITS, self._max_index().bit_length()))

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

        Raises
        ------
        InputError
            Negative indices, sentence numbers outside ``[0, N)``, links outside
            the known lengths, or arrays of different lengths.

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
        if n and (sentence.min() < 0 or sentence.max() >= n_sentences):
            raise InputError(
                f"sentence numbers must lie in [0, {n_sentences}), "
                f"found {sentence.min()}..{sentence.max()}"
            )
        if n and min(src.min(), tgt.min()) < 0:
            k = int(np.flatnonzero((src < 0) | (tgt < 0))[0])
            raise InputError(f"sentence {sentence[k]}: link {src[k]}-{tgt[k]} has a negative index")
        src_len = None if src_len is None else _lengths(src_len, n_sentences, "src_len")
        tgt_len = None if tgt_len is None else _lengths(tgt_len, n_sentences, "tgt_len")
        bad = _outside(sentence, src, tgt, src_len, tgt_len)
        if bad is not None:
            s = sentence[bad]
            raise InputError(
                f"sentence {s}: link {src[bad]}-{tgt[bad]} points outside a "
                f"{_len_str(src_len, s)}x{_len_str(tgt_len, s)} sentence pair",
                fix="check the index base (0- or 1-based) and the direction of the file",
            )
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
        return cls(offsets, sure_end, src, tgt, src_len, tgt_len)

    @classmethod
    def from_alignments(cls, alignments: Sequence[Alignment]) -> LinkTable:
        """Build a table from one :class:`Alignment` per sentence.

        Examples
        --------
        >>> t = LinkTable.from_alignments([Alignment.from_links([(0, 1)], src_len=1, tgt_len=2)])
        >>> t.to_alignments()[0] == Alignment.from_links([(0, 1)], src_len=1, tgt_len=2)
        True
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
        )

    @classmethod
    def concatenate(cls, tables: Sequence[LinkTable]) -> LinkTable:
        """One table with the sentences of ``tables`` one after the other.

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

        return cls(
            offsets,
            sure_end,
            np.concatenate([t.src for t in tables]),
            np.concatenate([t.tgt for t in tables]),
            lengths("src_len"),
            lengths("tgt_len"),
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
            self.offsets, self.sure_end, self.tgt, self.src, self.tgt_len, self.src_len
        )

    # ---- the packed form used by the scorer

    def _sentence_ids(self) -> np.ndarray:
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.offsets))

    def _max_index(self) -> int:
        if "max" not in self._cache:
            self._cache["max"] = int(max(self.src.max(), self.tgt.max())) if self.n_links else 0
        return self._cache["max"]

    def _cells(self, bits: int) -> np.ndarray:
        """Chunk-local cell numbers ``(s mod C) << 2b | src << b | tgt`` (cached per ``b``)."""
        key = ("cells", bits)
        if key not in self._cache and 2 * bits <= _CELL_BITS:
            local = np.arange(len(self), dtype=np.int64) & ((1 << (_CELL_BITS - 2 * bits)) - 1)
            cells = np.repeat(local << (2 * bits), np.diff(self.offsets))
            cells |= self.tgt
            cells |= self.src << bits
            self._cache[key] = cells
        return self._cache.get(key)


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


def _outside(sentence, src, tgt, src_len, tgt_len) -> int | None:
    """Index of the first link outside the known lengths, or None."""
    bad = np.zeros(len(sentence), bool)
    for idx, lengths in ((src, src_len), (tgt, tgt_len)):
        if lengths is not None:
            limit = lengths[sentence]
            bad |= (limit >= 0) & (idx >= limit)
    hits = np.flatnonzero(bad)
    return int(hits[0]) if len(hits) else None


# --------------------------------------------------------------------------- writers


def format_pharaoh(alignment: Alignment, possible_mark: str = "p") -> str:
    """One Pharaoh line: sure links as ``i-j``, possible-only links as ``ipj``.

    Links are sorted by target, then source, so that files are deterministic.

    Examples
    --------
    >>> format_pharaoh(Alignment.from_links([(1, 0), (0, 1)], [(2, 2)]))
    '1-0 0-1 2p2'
    >>> format_pharaoh(Alignment.from_links([], [(2, 2)]), possible_mark="?")
    '2?2'
    """
    if possible_mark not in ("p", "?"):
        raise InputError(f"possible-link mark must be 'p' or '?', got {possible_mark!r}")
    marked = [(j, i, "-") for i, j in alignment.sure]
    marked += [(j, i, possible_mark) for i, j in alignment.possible_only]
    return " ".join(f"{i}{mark}{j}" for j, i, mark in sorted(marked))


def write_pharaoh(path: str | os.PathLike, alignments: Sequence[Alignment], possible_mark="p"):
    """Write one Pharaoh line per sentence, atomically (whole file or nothing).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.gold"
    >>> write_pharaoh(p, [Alignment.from_links([(0, 0)]), Alignment.from_links([])])
    >>> p.read_text()
    '0-0\\n\\n'
    """
    text = "".join(format_pharaoh(a, possible_mark) + "\n" for a in alignments)
    write_text_atomic(path, text)


def format_naacl(alignment: Alignment, sentence_id: int) -> str:
    """NAACL/WPT lines ``sent i j S|P`` for one sentence: 1-based positions and id.

    ``sentence_id`` is written as given (the file convention starts at 1).
    Lines are sorted by source, then target; a sentence without links gives ``""``.

    Examples
    --------
    >>> print(format_naacl(Alignment.from_links([(0, 0)], [(1, 0)]), 7))
    7 1 1 S
    7 2 1 P
    """
    rows = [(i, j, "S" if (i, j) in alignment.sure else "P") for i, j in alignment.possible]
    return "".join(f"{sentence_id} {i + 1} {j + 1} {mark}\n" for i, j, mark in sorted(rows))


def write_naacl(path: str | os.PathLike, alignments: Sequence[Alignment]) -> None:
    """Write NAACL/WPT lines for all sentences (ids from 1), atomically.

    Sentences without links have no line; readers recover them from the ids.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.wa"
    >>> write_naacl(p, [Alignment.from_links([(0, 1)]), Alignment.from_links([]),
    ...                 Alignment.from_links([], [(2, 0)])])
    >>> print(p.read_text(), end="")
    1 1 2 S
    3 3 1 P
    """
    write_text_atomic(path, "".join(format_naacl(a, s + 1) for s, a in enumerate(alignments)))


# --------------------------------------------------------------------------- readers

_PHARAOH_LINK = re.compile(r"(\d+)([-p?])(\d+)")
_PHARAOH_LINE = re.compile(r"\s*(?:\d+[-p?]\d+\s*)*")
_NAACL_LINE = re.compile(r"\s*(\d+)\s+(\d+)\s+(\d+)(?:\s+(\S+))?(?:\s+(\S+))?\s*")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_ID_PREFIX = re.compile(r"\s*([^\s]+)\t(.*)", re.S)

_EXPECTED = {
    "pharaoh": "Pharaoh links 'i-j' (sure) or 'ipj' / 'i?j' (possible), space-separated",
    "naacl": "a NAACL line 'sentence i j [S|P] [confidence]'",
}


def _strip_id(line: str) -> str:
    m = _ID_PREFIX.fullmatch(line)
    if m and not _PHARAOH_LINK.fullmatch(m.group(1)):
        return m.group(2)  # "id<TAB>links"
    return line


def detect_format(lines: Iterable[str], path="<input>") -> str:
    """Tell ``pharaoh`` from ``naacl`` by the first line that holds a link.

    A file with no links at all is read as Pharaoh (every sentence empty).

    Raises
    ------
    InputError
        The first non-empty line is neither format.

    Examples
    --------
    >>> detect_format(["", "0-0 1p2"]), detect_format(["0001 3 4 S"])
    ('pharaoh', 'naacl')
    """
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if _NAACL_LINE.fullmatch(line):
            return "naacl"
        body = _strip_id(line)
        if _PHARAOH_LINE.fullmatch(body) or any(map(_PHARAOH_LINK.fullmatch, body.split())):
            return "pharaoh"  # a malformed link among good ones is reported by the reader
        raise InputError(
            f"cannot tell the alignment format from {line.strip()[:60]!r}; expected "
            f"{_EXPECTED['pharaoh']}, or {_EXPECTED['naacl']}",
            path=path,
            line=number,
            fix="convert the file to Pharaoh or NAACL lines, or pass the format explicitly",
        )
    return "pharaoh"


def file_format(path: str | os.PathLike) -> str:
    """The format of an alignment file, ``pharaoh`` or ``naacl`` (see :func:`detect_format`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "test.wa"
    >>> _ = p.write_text("0001 1 1 S\\n0001 2 2 P\\n")
    >>> file_format(p)
    'naacl'
    """
    return detect_format(_read_lines(path), path)


def _read_lines(path) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline=None) as f:  # CRLF becomes LF
            text = f.read()
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=path) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


class _Parsed:
    """Links collected while reading: parallel lists plus the file line of each link."""

    def __init__(self):
        self.sentence: list[int] = []
        self.src: list[int] = []
        self.tgt: list[int] = []
        self.sure: list[bool] = []
        self.line: list[int] = []
        self.n_sentences = 0


def _parse_pharaoh(lines, path, shift: int) -> _Parsed:
    out = _Parsed()
    for s, line in enumerate(lines):
        body = _strip_id(line)
        if not _PHARAOH_LINE.fullmatch(body):
            bad = next(t for t in body.split() if not _PHARAOH_LINK.fullmatch(t))
            raise InputError(
                f"malformed link {bad[:40]!r}; expected {_EXPECTED['pharaoh']}",
                path=path,
                line=s + 1,
                fix="write each link as two word indices joined by '-', 'p' or '?'",
            )
        for i, mark, j in _PHARAOH_LINK.findall(body):
            out.sentence.append(s)
            out.src.append(int(i) - shift)
            out.tgt.append(int(j) - shift)
            out.sure.append(mark == "-")
            out.line.append(s + 1)
    out.n_sentences = len(lines)
    return out


def _parse_naacl(lines, path, shift: int, null: str) -> _Parsed:
    out = _Parsed()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        m = _NAACL_LINE.fullmatch(line)
        label = m and m.group(4)
        confidence = m and m.group(5)
        if label and label not in ("S", "P", "s", "p") and confidence is None:
            label, confidence = None, label  # 'sent i j confidence'
        elif label and label.upper() not in ("S", "P"):
            m = None
        if not m or (confidence is not None and not _NUMBER.fullmatch(confidence)):
            raise InputError(
                f"malformed line {line.strip()[:60]!r}; expected {_EXPECTED['naacl']}",
                path=path,
                line=number,
                fix="give three integers, then optionally S or P and a confidence",
            )
        sent, i, j = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if sent < 1:
            raise InputError(
                f"sentence id {sent}; NAACL sentence ids start at 1",
                path=path,
                line=number,
                fix="number the sentences from 1",
            )
        if shift and (i == 0 or j == 0):  # position 0 is NULL in 1-based files
            if null == "drop":
                continue
            if null == "error":
                raise InputError(
                    f"link {i} {j} aligns a word to NULL (position 0)",
                    path=path,
                    line=number,
                    fix="drop NULL links (null='drop')",
                )
        shift_here = 0 if null == "keep" else shift  # keep: NULL stays 0, words count from 1
        out.sentence.append(sent - 1)
        out.src.append(i - shift_here)
        out.tgt.append(j - shift_here)
        out.sure.append(label is None or label.upper() == "S")
        out.line.append(number)
    out.n_sentences = max(out.sentence, default=-1) + 1
    return out


def read_link_table(
    path: str | os.PathLike,
    *,
    format: str = "auto",
    one_based: bool | None = None,
    reverse: bool = False,
    null: str = "drop",
    n_sentences: int | None = None,
    lengths: Sequence[tuple[int, int]] | None = None,
) -> LinkTable:
    """Read an alignment file into a :class:`LinkTable` (the fast form for scoring).

    Parameters
    ----------
    path : the file. Formats:

        * ``pharaoh``: one line per sentence, links ``i-j`` (sure) and ``ipj`` or
          ``i?j`` (possible), optionally after ``id<TAB>``; an empty line is a
          sentence without links.
        * ``naacl``: one line per link, ``sentence i j [S|P] [confidence]``
          (WPT 2003); a missing label means S; ids need not be contiguous.
        * ``auto`` (default): detected from the first link line (:func:`detect_format`).
    one_based : whether word positions start at 1. Default: the format's own
        convention (Pharaoh 0-based, NAACL 1-based).
    reverse : the file lists ``target-source`` links; swap them (after the base shift).
    null : in 1-based files position 0 is NULL: ``"drop"`` such links (default),
        ``"error"`` on them, or ``"keep"`` them, in which case no shift is applied
        at all (index 0 is NULL, words count from 1).
    n_sentences : for NAACL files, the corpus size (trailing sentences without
        links have no line); must be >= the largest id.
    lengths : ``(src_len, tgt_len)`` per sentence in the final orientation;
        links outside are an error.

    Raises
    ------
    InputError
        Naming the file and line: malformed links, an undetectable format,
        links outside the sentence, index 0 in a 1-based Pharaoh file.
    UnknownNameError
        An unknown ``format`` or ``null`` choice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "gold.txt"
    >>> _ = p.write_text("1-1 2p3\\n\\n")
    >>> t = read_link_table(p, one_based=True)
    >>> len(t), t.n_links, t.n_sure
    (2, 2, 1)
    """
    if format not in FORMATS:
        raise UnknownNameError("alignment format", format, FORMATS)
    if null not in ("drop", "keep", "error"):
        raise UnknownNameError("NULL-link handling", null, ["drop", "keep", "error"])
    lines = _read_lines(path)
    if format == "auto":
        format = detect_format(lines, path)
    if one_based is None:
        one_based = format == "naacl"
    shift = 1 if one_based else 0
    if format == "pharaoh":
        parsed = _parse_pharaoh(lines, path, shift)
    else:
        parsed = _parse_naacl(lines, path, shift, null)
    n = parsed.n_sentences
    if format == "naacl" and n_sentences is None and lengths is not None:
        n_sentences = len(lengths)
    if format == "naacl" and n_sentences is not None:
        if n_sentences < n:
            raise InputError(
                f"sentence id {n} is larger than the corpus size {n_sentences}",
                path=path,
                fix="check that the files belong together",
            )
        n = n_sentences
    sentence = np.array(parsed.sentence, dtype=np.int64)
    src = np.array(parsed.src, dtype=np.int64)
    tgt = np.array(parsed.tgt, dtype=np.int64)
    if reverse:
        src, tgt = tgt, src
    if len(src) and min(src.min(), tgt.min()) < 0:
        k = int(np.flatnonzero((src < 0) | (tgt < 0))[0])
        raise InputError(
            "a link has position 0, which does not exist in a 1-based file",
            path=path,
            line=parsed.line[k],
            fix="read the file as 0-based (drop the one-based option)",
        )
    src_len = tgt_len = None
    if lengths is not None:
        if len(lengths) != n:
            raise InputError(
                f"{n} sentences, but {len(lengths)} sentence lengths were given",
                path=path,
                fix="check that the text and alignment files belong together",
            )
        src_len = np.array([a for a, _ in lengths], dtype=np.int64).reshape(n)
        tgt_len = np.array([b for _, b in lengths], dtype=np.int64).reshape(n)
        bad = _outside(sentence, src, tgt, src_len, tgt_len)
        if bad is not None:
            s = sentence[bad]
            raise InputError(
                f"link {src[bad]}-{tgt[bad]} (0-based source-target) points outside sentence "
                f"{s + 1}, which has {src_len[s]} source and {tgt_len[s]} target words",
                path=path,
                line=parsed.line[bad],
                fix="check the index base (0- or 1-based) and the direction (reverse) options",
            )
    return LinkTable.from_links(
        sentence,
        src,
        tgt,
        np.array(parsed.sure, dtype=bool),
        n_sentences=n,
        src_len=src_len,
        tgt_len=tgt_len,
    )


def read_alignments(path: str | os.PathLike, **options) -> list[Alignment]:
    """Read an alignment file: one :class:`Alignment` per sentence.

    Takes the same options as :func:`read_link_table` (``format``,
    ``one_based``, ``reverse``, ``null``, ``n_sentences``, ``lengths``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "trial.a"
    >>> _ = p.write_text("0-0 1?1\\r\\n2-1\\r\\n")          # French first, CRLF
    >>> [sorted(a.possible) for a in read_alignments(p, reverse=True)]
    [[(0, 0), (1, 1)], [(1, 2)]]
    """
    return read_link_table(path, **options).to_alignments()


def read_bitext_lengths(path: str | os.PathLike) -> list[tuple[int, int]]:
    """Sentence lengths ``(source words, target words)`` from ``source ||| target`` lines.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "enfr.src-tgt"
    >>> _ = p.write_text("the house ||| la maison bleue\\n")
    >>> read_bitext_lengths(p)
    [(2, 3)]
    """
    out = []
    for number, line in enumerate(_read_lines(path), 1):
        parts = line.split(" ||| ") if " ||| " in line else line.split("|||")
        if len(parts) != 2:
            raise InputError(
                f"expected 'source words ||| target words', found {len(parts) - 1} "
                "'|||' separators",
                path=path,
                line=number,
            )
        out.append((len(parts[0].split()), len(parts[1].split())))
    return out


# --------------------------------------------------------------------------- scoring

# Scoring marks the hypothesis links of a block of sentences in a dense byte array
# of 2**_CELL_BITS cells and looks every gold link up in it: a few vectorised
# passes over the corpus instead of a Python loop over sets.
_CELL_BITS = 24
_MIN_BITS = 7  # sentences up to 128 words share one packing


def _gold_hits(gold: LinkTable, hyp: LinkTable) -> np.ndarray:
    """Bool ``[L_gold]``: whether each gold link is also a hypothesis link."""
    n = len(gold)
    bits = max(_MIN_BITS, gold._max_index().bit_length(), hyp._max_index().bit_length())
    if 2 * bits > _CELL_BITS:  # very long sentences: sort-based membership instead
        return _gold_hits_sorted(gold, hyp)
    per_chunk = 1 << (_CELL_BITS - 2 * bits)
    gcells, hcells = gold._cells(bits), hyp._cells(bits)
    goff, hoff = gold.offsets, hyp.offsets
    mark = np.zeros(1 << _CELL_BITS, np.uint8)
    hits = np.empty(len(gcells), bool)
    stamp = 0
    for s0 in range(0, n, per_chunk):
        s1 = min(n, s0 + per_chunk)
        stamp += 1
        if stamp == 256:  # stamps make clearing the marks of the last block unnecessary
            mark.fill(0)
            stamp = 1
        mark[hcells[hoff[s0] : hoff[s1]]] = stamp
        g0, g1 = goff[s0], goff[s1]
        np.equal(mark[gcells[g0:g1]], stamp, out=hits[g0:g1])
    return hits


def _gold_hits_sorted(gold: LinkTable, hyp: LinkTable) -> np.ndarray:
    width = max(gold._max_index(), hyp._max_index()) + 1
    if len(gold) * width * width >= 2**62:
        raise InputError(f"corpus too large to score: {len(gold)} sentences of up to {width} words")

    def keys(t):
        return (t._sentence_ids() * width + t.src) * width + t.tgt

    return np.isin(keys(gold), keys(hyp))


def _ratio(num, den, empty):
    """``num / den`` elementwise, ``empty`` where ``den == 0``."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.divide(
        num, den, out=np.full(np.broadcast(num, den).shape, float(empty)), where=den != 0
    )
    return out if out.ndim else float(out)


def _metrics(links, sure, hits_sure, hits_possible):
    """Precision, recall, AER, F1 from link counts (scalars or arrays).

    Empty denominators follow vacuous truth: no proposed link means precision 1,
    no sure link means recall 1, and nothing to compare means AER 0.
    """
    precision = _ratio(hits_possible, links, 1.0)
    recall = _ratio(hits_sure, sure, 1.0)
    aer = 1.0 - _ratio(np.add(hits_sure, hits_possible), np.add(links, sure), 1.0)
    pr = np.add(precision, recall)
    f1 = _ratio(2 * np.multiply(precision, recall), pr, 0.0)
    return precision, recall, aer, f1


@dataclass(frozen=True)
class SentenceScores:
    """Per-sentence counts and scores, arrays of length ``N``.

    The same definitions and empty-set conventions as :class:`AlignmentScores`.

    Examples
    --------
    >>> gold = [Alignment.from_links([(0, 0)]), Alignment.from_links([(0, 0), (1, 1)])]
    >>> hyp = [Alignment.from_links([(0, 0)]), Alignment.from_links([(0, 1)])]
    >>> score_alignments(gold, hyp).per_sentence().aer.tolist()
    [0.0, 1.0]
    """

    links: np.ndarray
    sure: np.ndarray
    possible: np.ndarray
    hits_sure: np.ndarray
    hits_possible: np.ndarray

    @property
    def precision(self) -> np.ndarray:
        """``|A∩P| / |A|`` per sentence (1 where ``A`` is empty)."""
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)[0]

    @property
    def recall(self) -> np.ndarray:
        """``|A∩S| / |S|`` per sentence (1 where ``S`` is empty)."""
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)[1]

    @property
    def aer(self) -> np.ndarray:
        """Alignment error rate per sentence (0 where ``A`` and ``S`` are empty)."""
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)[2]

    @property
    def f1(self) -> np.ndarray:
        """Harmonic mean of precision and recall per sentence."""
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)[3]


@dataclass(frozen=True)
class AlignmentScores:
    """Corpus-level (micro-averaged) alignment scores, with per-sentence detail on demand.

    Attributes
    ----------
    links : ``|A|``, hypothesis links.
    sure : ``|S|``, sure gold links.
    possible : ``|P|``, possible gold links, sure ones included.
    hits_sure, hits_possible : ``|A∩S|`` and ``|A∩P|``.
    sentences : number of sentence pairs.

    Examples
    --------
    >>> gold = [Alignment.from_links([(0, 0), (1, 1)], possible=[(1, 2)])]
    >>> hyp = [Alignment.from_links([(0, 0), (1, 2), (2, 2)])]
    >>> s = score_alignments(gold, hyp)
    >>> round(s.precision, 4), s.recall, round(s.aer, 4)
    (0.6667, 0.5, 0.4)
    """

    links: int
    sure: int
    possible: int
    hits_sure: int
    hits_possible: int
    sentences: int
    _gold: LinkTable | None = field(default=None, repr=False, compare=False)
    _hyp: LinkTable | None = field(default=None, repr=False, compare=False)
    _hits: np.ndarray | None = field(default=None, repr=False, compare=False)

    def _all(self):
        return _metrics(self.links, self.sure, self.hits_sure, self.hits_possible)

    @property
    def precision(self) -> float:
        """``|A∩P| / |A|`` (1.0 for an empty hypothesis: no proposed link is wrong)."""
        return self._all()[0]

    @property
    def recall(self) -> float:
        """``|A∩S| / |S|`` (1.0 when the gold has no sure link)."""
        return self._all()[1]

    @property
    def aer(self) -> float:
        """``1 - (|A∩S| + |A∩P|) / (|A| + |S|)`` (0.0 when A and S are both empty)."""
        return self._all()[2]

    @property
    def f1(self) -> float:
        """``2 P R / (P + R)`` (0.0 when both are 0)."""
        return self._all()[3]

    def per_sentence(self) -> SentenceScores:
        """Counts and scores of every sentence (computed on first use).

        Examples
        --------
        >>> g = [Alignment.from_links([(0, 0)]), Alignment.from_links([])]
        >>> score_alignments(g, g).per_sentence().links.tolist()
        [1, 0]
        """
        if self._gold is None:
            raise InputError("these scores were not computed from a corpus; use score_alignments")
        g, h = self._gold, self._hyp
        start = g.offsets[:-1]
        sure = g.sure_end - start
        possible = np.diff(g.offsets)
        # one segment sum per block: [sure links of s, possible-only links of s, ...]
        bounds = np.stack([start, g.sure_end], axis=1).reshape(-1)
        sizes = np.stack([sure, possible - sure], axis=1).reshape(-1)
        sums = np.zeros(len(bounds), np.int64)
        inside = bounds < len(self._hits)  # blocks starting at the end are empty
        if inside.any():
            sums[inside] = np.add.reduceat(self._hits, bounds[inside], dtype=np.int32)
            sums[sizes == 0] = 0  # reduceat gives the element itself for an empty block
        hits_sure, hits_only = sums[0::2], sums[1::2]
        return SentenceScores(
            links=np.diff(h.offsets),
            sure=sure,
            possible=possible,
            hits_sure=hits_sure,
            hits_possible=hits_sure + hits_only,
        )

    def as_dict(self) -> dict:
        """Plain numbers for JSON: scores as fractions in [0, 1], link counts.

        Examples
        --------
        >>> g = [Alignment.from_links([(0, 0)])]
        >>> score_alignments(g, g).as_dict()["aer"]
        0.0
        """
        precision, recall, aer, f1 = self._all()
        return {
            "aer": aer,
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "links": self.links,
            "sure": self.sure,
            "possible": self.possible,
            "hits_sure": self.hits_sure,
            "hits_possible": self.hits_possible,
            "sentences": self.sentences,
        }

    def to_json(self) -> str:
        """:meth:`as_dict` as a JSON object on one line."""
        return json.dumps(self.as_dict())

    def __str__(self) -> str:
        return (
            f"AER {100 * self.aer:.2f}%  precision {100 * self.precision:.2f}%  "
            f"recall {100 * self.recall:.2f}%  F1 {100 * self.f1:.2f}%  "
            f"({self.links} links; gold {self.sure} sure, {self.possible} possible; "
            f"{self.sentences} sentences)"
        )


def _as_table(x, name: str) -> LinkTable:
    if isinstance(x, LinkTable):
        return x
    if isinstance(x, Alignment):
        raise InputError(
            f"{name} must be a sequence of alignments (one per sentence), got a single Alignment",
            fix=f"pass [{name}]",
        )
    return LinkTable.from_alignments(list(x))


def score_alignments(gold, hyp) -> AlignmentScores:
    """Score hypothesis alignments against gold alignments, like the reference scorers.

    Micro-averaged over the corpus (counts are summed before dividing):
    precision ``|A∩P|/|A|``, recall ``|A∩S|/|S|``,
    ``AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)``, F1 of precision and recall.
    ``A`` is every hypothesis link (sure or possible), ``P`` includes ``S``.
    Empty sets never divide by zero: see :class:`AlignmentScores`.

    Parameters
    ----------
    gold, hyp : :class:`LinkTable`, or sequences of :class:`Alignment`, one per
        sentence and in the same orientation (source, target).

    Raises
    ------
    InputError
        Different numbers of sentences; known sentence lengths that differ;
        hypothesis links outside the gold's known lengths.

    Examples
    --------
    >>> gold = [Alignment.from_links([(0, 0), (1, 1)], possible=[(1, 2)])]
    >>> s = score_alignments(gold, [Alignment.from_links([(0, 0), (1, 2), (2, 2)])])
    >>> s.links, s.hits_sure, s.hits_possible, round(s.f1, 4)
    (3, 1, 2, 0.5714)
    """
    gold, hyp = _as_table(gold, "gold"), _as_table(hyp, "hyp")
    if len(gold) != len(hyp):
        raise InputError(
            f"gold has {len(gold)} sentences, the hypothesis {len(hyp)}",
            fix="score files with one entry per sentence of the same corpus",
        )
    _check_lengths(gold, hyp)
    hits = _gold_hits(gold, hyp)
    sure = gold.sure
    return AlignmentScores(
        links=hyp.n_links,
        sure=int(sure.sum()),
        possible=gold.n_links,
        hits_sure=int(np.count_nonzero(hits & sure)),
        hits_possible=int(np.count_nonzero(hits)),
        sentences=len(gold),
        _gold=gold,
        _hyp=hyp,
        _hits=hits,
    )


def _check_lengths(gold: LinkTable, hyp: LinkTable) -> None:
    for name in ("src_len", "tgt_len"):
        g, h = getattr(gold, name), getattr(hyp, name)
        if g is not None and h is not None:
            differ = np.flatnonzero((g >= 0) & (h >= 0) & (g != h))
            if len(differ):
                s = int(differ[0])
                raise InputError(
                    f"sentence {s + 1}: gold {name} {g[s]}, hypothesis {h[s]}",
                    fix="check that the files belong to the same corpus",
                )
    sentence = hyp._sentence_ids() if gold.src_len is not None or gold.tgt_len is not None else None
    if sentence is not None:
        bad = _outside(sentence, hyp.src, hyp.tgt, gold.src_len, gold.tgt_len)
        if bad is not None:
            s = int(sentence[bad])
            raise InputError(
                f"sentence {s + 1}: hypothesis link {hyp.src[bad]}-{hyp.tgt[bad]} points outside "
                f"the {_len_str(gold.src_len, s)}x{_len_str(gold.tgt_len, s)} sentence pair",
                fix="check the index base and direction options of the hypothesis",
            )


def score_files(
    gold_path: str | os.PathLike,
    hyp_path: str | os.PathLike,
    *,
    format: str = "auto",
    gold_one_based: bool | None = None,
    hyp_one_based: bool | None = None,
    reverse_gold: bool = False,
    reverse_hyp: bool = False,
    lengths: Sequence[tuple[int, int]] | None = None,
) -> AlignmentScores:
    """Read a gold and a hypothesis file and score them (what ``attnprobe score`` runs).

    Both files are read with :func:`read_link_table`; ``format`` applies to
    each file (``auto`` detects each one separately). A NAACL file lacks lines
    for trailing sentences without links, so it is padded to the sentence count
    of the other file; two Pharaoh files must have the same number of lines.

    Raises
    ------
    InputError
        Naming the file and line, for anything :func:`read_link_table` rejects
        and for sentence counts that differ.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "gold").write_text("1-1 2-2 2p3\\n")      # 1-based, p = possible
    >>> _ = (d / "hyp").write_text("0-0 1-2 2-2\\n")       # 0-based
    >>> s = score_files(d / "gold", d / "hyp", gold_one_based=True)
    >>> round(s.aer, 4)
    0.4
    """
    formats = {}
    for name, path in (("gold", gold_path), ("hyp", hyp_path)):
        formats[name] = file_format(path) if format == "auto" else format
    options = {
        "gold": dict(
            path=gold_path,
            format=formats["gold"],
            one_based=gold_one_based,
            reverse=reverse_gold,
            lengths=lengths,
        ),
        "hyp": dict(
            path=hyp_path,
            format=formats["hyp"],
            one_based=hyp_one_based,
            reverse=reverse_hyp,
            lengths=lengths,
        ),
    }
    gold = read_link_table(**options["gold"])
    hyp = read_link_table(**options["hyp"])
    if len(gold) != len(hyp):
        short, other = ("gold", gold) if len(gold) < len(hyp) else ("hyp", hyp)
        longer = hyp if short == "gold" else gold
        if formats[short] == "naacl":
            padded = read_link_table(**options[short], n_sentences=len(longer))
            gold, hyp = (padded, hyp) if short == "gold" else (gold, padded)
        else:
            path = options[short]["path"]
            long_path = options["hyp" if short == "gold" else "gold"]["path"]
            raise InputError(
                f"file ends after {len(other)} sentence lines, but {long_path} has {len(longer)}",
                path=path,
                line=len(other) + 1,
                fix="give one line per sentence of the same corpus in both files "
                "(an empty line for a sentence without links)",
            )
    return score_alignments(gold, hyp)

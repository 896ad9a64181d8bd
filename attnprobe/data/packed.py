"""Sentence pairs packed into arrays, and views of a corpus's sentences, for large corpora.

A :class:`~attnprobe.data.ParallelCorpus` holds a Python list of strings per
sentence (about 200 bytes a sentence pair before its words); a corpus of a
million pairs then fills the memory of the process that runs ``analyze``
before any work starts. A :class:`PackedCorpus` holds each side as one
array of word numbers (the narrowest integer type) into a shared word list,
cut by offsets: 2 bytes a word below 65,536 distinct words (else 4) and 8 a
sentence. ``corpus.src[k]`` decodes sentence ``k`` to its
token list when it is read, so a packed corpus reads like a ParallelCorpus
(``len``, ``src[k]``, ``tgt[k]``, ``lengths``, ``name``, iteration) and every
function that only indexes a corpus takes either.

:func:`select` views some positions of a corpus (or of a gold sequence)
without copying their sentences: the driver's ``--limit`` and the pairs it
keeps are such views.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["PackedCorpus", "PackedSide", "PackedGold", "select", "Picked", "CorpusView"]


class PackedSide(Sequence):
    """One side of a :class:`PackedCorpus`: sentence ``k`` is the words numbered
    ``ids[offsets[k]:offsets[k+1]]``.

    Examples
    --------
    >>> side = PackedSide(["a", "b"], np.array([0, 1, 1], np.int32), np.array([0, 2, 3]))
    >>> len(side), side[0], side[-1], side[:1]
    (2, ['a', 'b'], ['b'], [['a', 'b']])
    """

    def __init__(self, words: list[str], ids: np.ndarray, offsets: np.ndarray):
        self.words, self.ids, self.offsets = words, ids, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        n = len(self)
        if not -n <= k < n:
            raise IndexError(f"sentence {k} out of range for {n} sentences")
        k %= n
        words = self.words
        return [words[i] for i in self.ids[self.offsets[k] : self.offsets[k + 1]].tolist()]

    def __iter__(self):
        for k in range(len(self)):
            yield self[k]

    @property
    def lengths(self) -> list[int]:
        """Words per sentence."""
        return np.diff(self.offsets).tolist()


class PackedCorpus:
    """Sentence pairs as packed word numbers (see the module docstring); reads like a
    :class:`~attnprobe.data.ParallelCorpus`.

    Examples
    --------
    >>> c = PackedCorpus.pack([["the", "cat"], ["a", "cat"]], [["le", "chat"], ["un", "chat"]])
    >>> len(c), c.src[1], c.tgt[0], c.lengths
    (2, ['a', 'cat'], ['le', 'chat'], [2, 2])
    >>> c.words  # every source word, then the target words not seen yet
    ['the', 'cat', 'a', 'le', 'chat', 'un']
    """

    def __init__(
        self,
        words: list[str],
        src: tuple[np.ndarray, np.ndarray],
        tgt: tuple[np.ndarray, np.ndarray],
        name: str | None = None,
    ):
        from attnprobe.errors import InputError

        self.words = words
        self.src = PackedSide(words, *src)
        self.tgt = PackedSide(words, *tgt)
        self.name = name
        if len(self.src) != len(self.tgt):
            raise InputError(f"{len(self.src)} source sentences but {len(self.tgt)} target ones")
        self.lengths = self.src.lengths

    def __len__(self) -> int:
        return len(self.src)

    def __repr__(self) -> str:
        return f"PackedCorpus({len(self)} sentence pairs, {len(self.words)} words, {self.name!r})"

    @classmethod
    def pack(
        cls,
        src: Iterable[Sequence[str]],
        tgt: Iterable[Sequence[str]],
        name: str | None = None,
    ) -> PackedCorpus:
        """Pack token lists (any iterables: one sentence at a time is enough).

        Examples
        --------
        >>> PackedCorpus.pack(iter([["x"]]), iter([["y", "x"]])).tgt[0]
        ['y', 'x']
        """
        number: dict[str, int] = {}
        packed = []
        for side in (src, tgt):
            ids, offsets = array("i"), array("q", [0])
            for sentence in side:
                ids.extend(number.setdefault(w, len(number)) for w in sentence)
                offsets.append(len(ids))
            packed.append((np.frombuffer(ids, np.int32), np.frombuffer(offsets, np.int64)))
        kind = np.min_scalar_type(max(len(number) - 1, 0))  # 2 bytes a word below 65,536 words
        packed = [(ids.astype(kind), offsets) for ids, offsets in packed]
        return cls(list(number), packed[0], packed[1], name=name)

    @classmethod
    def read(cls, src_path, tgt_path, name: str | None = None) -> PackedCorpus:
        """Read whitespace-tokenised source and target files, as
        :meth:`ParallelCorpus.read <attnprobe.data.ParallelCorpus.read>` does (same checks).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a.src").write_text("the cat\\n"); _ = (d / "a.tgt").write_text("le chat\\n")
        >>> PackedCorpus.read(d / "a.src", d / "a.tgt").tgt[0]
        ['le', 'chat']
        """
        from attnprobe.data import _read_pair_lines

        src, tgt = _read_pair_lines(src_path, tgt_path)
        return cls.pack((s.split() for s in src), (t.split() for t in tgt), name=name)

    @classmethod
    def read_bitext(cls, path, name: str | None = None) -> PackedCorpus:
        """Read ``source tokens ||| target tokens`` lines (the checks of
        :meth:`ParallelCorpus.read_bitext <attnprobe.data.ParallelCorpus.read_bitext>`).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "b.txt"
        >>> _ = p.write_text("the  cat ||| le chat\\n")
        >>> PackedCorpus.read_bitext(p).src[0]
        ['the', 'cat']
        """
        from attnprobe.data import _bitext_sides

        sides = list(_bitext_sides(path))  # checked whole before anything is packed
        return cls.pack((s.split() for s, _ in sides), (t.split() for _, t in sides), name=name)


class PackedGold(Sequence):
    """Gold alignments, one per sentence pair, in a few small arrays (for large corpora).

    The links of a :class:`~attnprobe.alignment.types.LinkTable` (its layout:
    sentence ``s`` has links ``offsets[s]:offsets[s+1]``, the sure ones up to
    ``sure_end[s]``) in the narrowest integer type that holds the word
    positions, without the table's scoring caches: about 4 bytes a link
    instead of 25. ``gold[k]`` makes sentence ``k``'s
    :class:`~attnprobe.alignment.Alignment` when it is read.

    Examples
    --------
    >>> from attnprobe.alignment import Alignment
    >>> a = Alignment.from_links([(0, 0), (2, 1)], [(1, 1)])
    >>> g = PackedGold.of([a, Alignment.from_links([])])
    >>> len(g), sorted(g[0].sure), sorted(g[0].possible_only), g[1].possible, g.src.dtype
    (2, [(0, 0), (2, 1)], [(1, 1)], frozenset(), dtype('uint8'))
    >>> sorted(g.take([1, 0])[1].possible) == sorted(g[0].possible)
    True
    """

    def __init__(self, offsets, sure_end, src, tgt):
        self.offsets, self.sure_end, self.src, self.tgt = offsets, sure_end, src, tgt

    @classmethod
    def of(cls, gold) -> PackedGold:
        """Pack a LinkTable, or a sequence of Alignments (through a LinkTable)."""
        from attnprobe.alignment.types import LinkTable

        table = gold if isinstance(gold, LinkTable) else LinkTable.from_alignments(list(gold))
        top = int(max(table.src.max(initial=0), table.tgt.max(initial=0)))
        kind = np.min_scalar_type(top)
        return cls(
            table.offsets.copy(),
            table.sure_end.copy(),
            table.src.astype(kind),
            table.tgt.astype(kind),
        )

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, k):
        from attnprobe.alignment import Alignment

        n = len(self)
        if not -n <= k < n:
            raise IndexError(f"sentence {k} out of range for {n} sentences")
        k %= n
        a, m, b = int(self.offsets[k]), int(self.sure_end[k]), int(self.offsets[k + 1])
        pairs = list(zip(self.src[a:b].tolist(), self.tgt[a:b].tolist(), strict=True))
        return Alignment(frozenset(pairs[: m - a]), frozenset(pairs))

    @property
    def sure(self) -> np.ndarray:
        """Bool per link: sure (else possible only)."""
        start = self.offsets[:-1]
        counts = np.stack([self.sure_end - start, self.offsets[1:] - self.sure_end], axis=1)
        return np.repeat(np.tile(np.array([True, False]), len(self)), counts.reshape(-1))

    def take(self, rows) -> PackedGold:
        """The gold of sentences ``rows`` (in that order), packed."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        counts = ends - starts
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        links = np.repeat(starts - offsets[:-1], counts) + np.arange(offsets[-1])
        sure_end = offsets[:-1] + (self.sure_end[rows] - starts)
        return PackedGold(offsets, sure_end, self.src[links], self.tgt[links])


class Picked(Sequence):
    """The items of ``seq`` at ``positions``, read from ``seq`` when asked for (no copy).

    Examples
    --------
    >>> p = Picked(["a", "b", "c"], [2, 0])
    >>> len(p), p[0], list(p), p[-1]
    (2, 'c', ['c', 'a'], 'a')
    """

    def __init__(self, seq, positions):
        self.seq = seq
        self.positions = np.asarray(positions, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        return self.seq[int(self.positions[k])]

    def __iter__(self):
        for p in self.positions.tolist():
            yield self.seq[p]


class CorpusView:
    """Some sentence pairs of a corpus (by position), read from it when asked for."""

    def __init__(self, corpus, positions, name: str | None = None):
        self.src = Picked(corpus.src, positions)
        self.tgt = Picked(corpus.tgt, positions)
        lengths = corpus.lengths
        self.lengths = [lengths[p] for p in self.src.positions.tolist()]
        self.name = name

    def __len__(self) -> int:
        return len(self.src)


def select(items, positions, whole: int | None = None):
    """``items`` (a corpus or a sequence such as the gold) at ``positions``, as a view.

    ``whole``: the number of items; positions ``0 .. whole-1`` in order give
    ``items`` itself. A corpus (``src``, ``tgt`` and ``lengths``) gives a
    :class:`CorpusView`, anything else a :class:`Picked`; neither copies the
    sentences.

    Examples
    --------
    >>> from attnprobe.data import ParallelCorpus
    >>> c = ParallelCorpus([["a"], ["b", "c"], ["d"]], [["x"], ["y"], ["z"]], name="t")
    >>> v = select(c, [1, 2])
    >>> len(v), v.src[0], v.tgt[1], v.lengths, v.name
    (2, ['b', 'c'], ['z'], [2, 1], 't')
    >>> select(c, range(3), whole=3) is c
    True
    """
    positions = np.asarray(positions, dtype=np.int64)
    if (
        whole is not None
        and len(positions) == whole
        and np.array_equal(positions, np.arange(whole))
    ):
        return items
    if all(hasattr(items, a) for a in ("src", "tgt", "lengths")):  # a corpus
        return CorpusView(items, positions, getattr(items, "name", None))
    return Picked(items, positions)

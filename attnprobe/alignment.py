"""Word alignments: the :class:`Alignment` type and its file formats.

Inside attnprobe a link is ``(i, j)`` = (source index, target index), 0-based,
as in Pharaoh ``i-j``. Index base and direction are converted once, at the file
boundary, by explicit options. Possible links include the sure ones (S ⊆ P).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from attnprobe.errors import InputError
from attnprobe.fileio import write_text_atomic

__all__ = ["Alignment", "format_pharaoh", "write_pharaoh"]

Link = tuple[int, int]


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

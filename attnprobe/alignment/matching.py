"""Which sentence of one alignment file pairs with which sentence of another.

Files name their sentences in two ways: by **position** (Pharaoh lines, a
bitext) or by **id** (NAACL sentence numbers, Pharaoh ``id<TAB>`` prefixes).
The rules, the same for every reader and command:

* both sides carry ids: pair by id, in the order of the first side (the gold,
  the forward file, the corpus). An id of the second side that the first lacks
  is an error; a sentence of the first side that the second lacks is read as a
  sentence without links there, and a warning gives the count.
* neither side carries ids: pair by position; the sentence counts must agree.
* one side carries ids and the other does not ("mixing"): accepted as it is only
  when the ids are ``1, 2, ..., N`` in order for the N sentences of the other
  side (then pairing by id and by position agree); otherwise the caller says how:
  ``match="line"`` (an id is a 1-based line number of the other side, the WPT
  convention) or ``match="position"`` (ids are ignored, the k-th sentence of
  each side form a pair).

A sentence count is always the number of sentences, never the largest id. This
module only computes the pairing (row numbers); it reads no file and knows no
link.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from attnprobe.errors import InputError, UnknownNameError

__all__ = ["MATCHING"]

#: How to pair the sentences of two files (the CLI's ``--match`` choices).
MATCHING = ("auto", "line", "position")

_DIGITS = re.compile(r"[0-9]+")


def show(text: str, width: int = 40) -> str:
    """``repr`` of ``text`` cut to ``width`` characters, for one-line messages.

    Examples
    --------
    >>> show("abc"), show("x" * 50, 5)
    ("'abc'", "'xxxxx'...")
    """
    return repr(text[:width]) + ("..." if len(text) > width else "")


def canonical_id(token: str) -> str:
    """A sentence id as attnprobe compares it: digits lose their leading zeros.

    Examples
    --------
    >>> canonical_id("0026"), canonical_id("000"), canonical_id("s-07")
    ('26', '0', 's-07')
    """
    if _DIGITS.fullmatch(token):
        return token.lstrip("0") or "0"
    return token


@dataclass(frozen=True)
class Side:
    """How one file (or corpus) names its sentences, and where to point in messages.

    Attributes
    ----------
    n : number of sentences.
    ids : distinct sentence ids in file order, or None (known by position).
    label : the name used in messages (a path, "the gold", "the corpus").
    path : the file, for error locations; None for data in memory.
    lines : the file line where each sentence starts (1-based), or None.
    end_line : for line-per-sentence files, the line after the last sentence.

    Examples
    --------
    >>> side = Side(2, ("26", "29"), "g.wa", path="g.wa", lines=[1, 4])
    >>> str(side.error("sentence id '29' is not in h.txt", row=1))
    "g.wa:4: sentence id '29' is not in h.txt"
    """

    n: int
    ids: tuple[str, ...] | None
    label: str
    path: str | None = None
    lines: Sequence[int] | None = None
    end_line: int | None = None

    def error(self, message: str, row: int | None = None, fix: str | None = None) -> InputError:
        """An :class:`InputError` located at sentence ``row`` of this side."""
        line = None
        if row is not None and self.lines is not None:
            line = int(self.lines[row])
        return InputError(message, path=self.path, line=line, fix=fix)


@dataclass(frozen=True)
class Pairing:
    """Rows of the two sides that form each sentence pair (-1: the side has no entry).

    ``ids`` are the ids of the pairs when they were paired by id, else None.
    ``warnings`` are one-line notes on sentences read as empty.

    Examples
    --------
    >>> p = pair_sentences(Side(2, ("7", "8"), "gold"), Side(1, ("8",), "hyp"))
    >>> p.ids, p.rows_b.tolist()
    (('7', '8'), [-1, 0])
    """

    rows_a: np.ndarray
    rows_b: np.ndarray
    ids: tuple[str, ...] | None
    warnings: tuple[str, ...]


_FIX_MIXED = (
    "say how to pair them: match 'line' (an id is a line number of {plain}) "
    "or 'position' (the k-th sentence of each)"
)


def pair_sentences(a: Side, b: Side, match: str = "auto") -> Pairing:
    """Pair the sentences of ``a`` (the reference side) with those of ``b``.

    See the module docstring for the rules.

    Raises
    ------
    InputError
        Located in the offending file and line where there is one: different
        sentence counts, an id of ``b`` missing from ``a``, ids that do not
        number the other side, mixed sides without an explicit ``match``.
    UnknownNameError
        An unknown ``match``.

    Examples
    --------
    >>> gold = Side(3, ("1", "2", "5"), "gold")
    >>> p = pair_sentences(gold, Side(2, ("5", "1"), "hyp"))
    >>> p.rows_a.tolist(), p.rows_b.tolist()
    ([0, 1, 2], [1, -1, 0])
    >>> p.warnings
    ('hyp: no entry for 1 of 3 sentences; read as sentences without links',)
    >>> pair_sentences(gold, Side(5, None, "hyp.txt"), "line").rows_a.tolist()
    [0, 1, -1, -1, 2]
    """
    if match not in MATCHING:
        raise UnknownNameError("sentence matching", match, MATCHING)
    if match == "position" or (a.ids is None and b.ids is None):
        _same_count(a, b)
        rows = np.arange(a.n, dtype=np.int64)
        return _finish(a, b, rows, rows, None)
    if a.ids is not None and b.ids is not None:
        return _by_id(a, b)
    keyed, plain = (a, b) if a.ids is not None else (b, a)
    if match == "auto":
        wrong = _first_not_numbered(keyed.ids, plain.n)
        if wrong is not None or keyed.n != plain.n:
            shown = ", ".join(i[:12] for i in keyed.ids[:3]) + (", ..." if keyed.n > 3 else "")
            if wrong is None and keyed.n > plain.n:
                wrong = plain.n  # the first id past the other side's end
            raise keyed.error(
                f"sentences carry ids ({shown}) but {plain.label} has none, and the ids are "
                f"not 1..{plain.n} in order",
                row=wrong,
                fix=_FIX_MIXED.format(plain=plain.label),
            )
        rows = np.arange(a.n, dtype=np.int64)
        return _finish(a, b, rows, rows, None)
    keyed_rows = _line_rows(keyed, plain)
    plain_rows = np.arange(plain.n, dtype=np.int64)
    if keyed is a:
        return _finish(a, b, keyed_rows, plain_rows, None)
    return _finish(a, b, plain_rows, keyed_rows, None)


def _same_count(a: Side, b: Side) -> None:
    if a.n == b.n:
        return
    short, long_ = (a, b) if a.n < b.n else (b, a)
    if short.end_line is not None:
        raise InputError(
            f"file ends after {short.n} sentence lines, but {long_.label} has {long_.n}",
            path=short.path,
            line=short.end_line,
            fix="give one line per sentence of the same corpus in both files "
            "(an empty line for a sentence without links)",
        )
    raise InputError(
        f"{short.label} has {short.n} sentences, but {long_.label} has {long_.n}",
        path=short.path,
        fix="give the sentences of the same corpus on both sides",
    )


def _by_id(a: Side, b: Side) -> Pairing:
    row_of = {sid: k for k, sid in enumerate(b.ids)}
    known = set(a.ids)
    for k, sid in enumerate(b.ids):
        if sid not in known:
            raise b.error(
                f"sentence id {show(sid)} is not in {a.label}",
                row=k,
                fix="give the sentences of the same corpus in both files",
            )
    rows_b = np.array([row_of.get(sid, -1) for sid in a.ids], dtype=np.int64)
    return _finish(a, b, np.arange(a.n, dtype=np.int64), rows_b, a.ids)


def _first_not_numbered(ids: Sequence[str], n: int) -> int | None:
    """The first row whose id is not its 1-based row number (within ``n`` rows), or None."""
    for k, sid in enumerate(ids[:n]):
        if sid != str(k + 1):
            return k
    return None


def _line_rows(keyed: Side, plain: Side) -> np.ndarray:
    """Row of ``keyed`` for each line of ``plain`` (-1: none), reading ids as line numbers."""
    rows = np.full(plain.n, -1, dtype=np.int64)
    for k, sid in enumerate(keyed.ids):
        digits = sid.lstrip("0")
        if not _DIGITS.fullmatch(sid):
            raise keyed.error(
                f"sentence id {show(sid)} is not a line number",
                row=k,
                fix="pair by position (match 'position') instead",
            )
        if not digits or len(digits) > len(str(plain.n)) or int(digits) > plain.n:
            raise keyed.error(
                f"sentence id {show(sid)} is not a line of {plain.label}, which has {plain.n}",
                row=k,
                fix="check that the files belong together",
            )
        line = int(digits)
        if rows[line - 1] >= 0:
            raise keyed.error(f"sentence id {show(sid)} names line {line} a second time", row=k)
        rows[line - 1] = k
    return rows


def _finish(a: Side, b: Side, rows_a, rows_b, ids) -> Pairing:
    notes = []
    for side, rows in ((a, rows_a), (b, rows_b)):
        missing = int(np.count_nonzero(rows < 0))
        if missing:
            notes.append(
                f"{side.label}: no entry for {missing} of {len(rows)} sentences; "
                "read as sentences without links"
            )
    return Pairing(rows_a, rows_b, ids, tuple(notes))

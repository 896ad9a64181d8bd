"""Alignment files: Pharaoh and NAACL readers and writers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

import numpy as np

from attnprobe.alignment.types import Alignment, LinkTable, _outside
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.fileio import write_text_atomic

__all__ = [
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
]

#: File formats the readers understand; ``auto`` detects them from the first link line.
FORMATS = ("auto", "pharaoh", "naacl")


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

"""Alignment files: reading and writing Pharaoh and NAACL lines, and the text line reader.

Every file attnprobe reads as text goes through :func:`read_text_lines`: UTF-8
(a BOM is skipped), lines end at ``\\n`` or ``\\r\\n`` only (never at U+2028,
U+2029 or U+0085 inside a line), and anything else (a missing file, a folder,
NUL bytes, bytes that are not UTF-8) is one :class:`~attnprobe.errors.InputError`
naming the file and line.

The parsers turn each line into links, ids and line numbers; malformed input
is reported at its line, with the offending token cut short. Index base and
direction are converted here, once. How the sentences of a file pair with
those of another file or of a corpus is decided in :mod:`.matching`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from attnprobe.alignment.matching import MATCHING, Side, canonical_id, pair_sentences, show
from attnprobe.alignment.types import MAX_INDEX, Alignment, LinkTable, _outside
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.fileio import write_text_atomic

__all__ = [
    "FORMATS",
    "NULL_LINKS",
    "read_text_lines",
    "format_pharaoh",
    "format_links",
    "write_pharaoh",
    "format_naacl",
    "write_naacl",
    "detect_format",
    "file_format",
    "read_alignments",
    "read_link_table",
    "read_bitext_lengths",
]

log = logging.getLogger("attnprobe")

#: File formats the readers understand; ``auto`` detects them from the first link line.
FORMATS = ("auto", "pharaoh", "naacl")

#: What the readers do with NULL links (position 0) in 1-based NAACL files.
NULL_LINKS = ("drop", "keep", "error")

_BOM = b"\xef\xbb\xbf"


def read_text_lines(path: str | os.PathLike, *, allow_empty: bool = False) -> list[str]:
    """The lines of a UTF-8 text file, without their line ends.

    Lines end at ``\\n`` (a ``\\r`` before it is dropped); a final line end is
    optional; a UTF-8 byte-order mark is skipped. Other characters that
    :meth:`str.splitlines` treats as line ends (U+2028, U+2029, U+0085, a lone
    ``\\r``) stay inside their line.

    Raises
    ------
    InputError
        Naming the file (and line): not found, a folder, unreadable, NUL bytes,
        not UTF-8, or empty (unless ``allow_empty``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_bytes("\\ufeffa\\u2028b\\r\\nc".encode())
    >>> read_text_lines(p)
    ['a\\u2028b', 'c']
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=path, fix="check the path") from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", path=path, fix="give a file") from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", path=path) from None
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data and not allow_empty:
        raise InputError("empty file", path=path, fix="give a file with one line per sentence")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            "NUL byte: not a text file (UTF-16 or binary?)",
            path=path,
            line=data.count(b"\n", 0, nul) + 1,
            fix="convert the file to UTF-8 text",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
            path=path,
            line=data.count(b"\n", 0, exc.start) + 1,
            fix="convert the file to UTF-8",
        ) from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


# --------------------------------------------------------------------------- writers


def _check_pharaoh_id(sentence_id: str) -> str:
    sid = str(sentence_id)
    if not sid or _FIELD_SEP.search(sid) or re.search(r"[\r\n]", sid) or _loose_link(sid):
        raise InputError(
            f"sentence id {show(sid)} cannot start a Pharaoh line",
            fix="use ids without spaces, tabs or line ends that do not look like a link",
        )
    return sid


def format_pharaoh(alignment: Alignment, possible_mark: str = "p", sentence_id=None) -> str:
    """One Pharaoh line: sure links as ``i-j``, possible-only links as ``ipj``.

    Links are sorted by target, then source, so that files are deterministic.
    With ``sentence_id`` the line starts with ``id<TAB>``.

    Examples
    --------
    >>> format_pharaoh(Alignment.from_links([(1, 0), (0, 1)], [(2, 2)]))
    '1-0 0-1 2p2'
    >>> format_pharaoh(Alignment.from_links([], [(2, 2)]), possible_mark="?")
    '2?2'
    >>> format_pharaoh(Alignment.from_links([(0, 0)]), sentence_id="s7")
    's7\\t0-0'
    """
    if possible_mark not in ("p", "?"):
        raise InputError(f"possible-link mark must be 'p' or '?', got {show(possible_mark)}")
    marked = [(j, i, "-") for i, j in alignment.sure]
    marked += [(j, i, possible_mark) for i, j in alignment.possible_only]
    links = " ".join(f"{i}{mark}{j}" for j, i, mark in sorted(marked))
    return links if sentence_id is None else f"{_check_pharaoh_id(sentence_id)}\t{links}"


def format_links(pairs) -> str:
    """One Pharaoh line of sure links given as ``(i, j)`` pairs, as records store them.

    The line :func:`format_pharaoh` writes for the same sure links (sorted by
    target, then source), without building an :class:`Alignment`: the fast path
    for writing alignment files from millions of per-sentence records.

    Examples
    --------
    >>> format_links([[1, 0], [0, 1], [2, 2], [1, 0]])
    '1-0 0-1 2-2'
    >>> format_links([])
    ''
    """
    links = sorted({(int(j), int(i)) for i, j in pairs})
    return " ".join(f"{i}-{j}" for j, i in links)


def _alignments_and_ids(alignments, ids):
    if isinstance(alignments, LinkTable):
        return alignments.to_alignments(), alignments.ids if ids is None else ids
    alignments = list(alignments)
    if ids is not None and len(ids) != len(alignments):
        raise InputError(f"{len(ids)} sentence ids for {len(alignments)} sentences")
    return alignments, ids


def write_pharaoh(
    path: str | os.PathLike,
    alignments: Sequence[Alignment] | LinkTable,
    possible_mark: str = "p",
    ids: Sequence[str] | None = None,
) -> None:
    """Write one Pharaoh line per sentence, atomically (whole file or nothing).

    ``ids`` (or the ids of a :class:`LinkTable`) are written as ``id<TAB>`` prefixes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.gold"
    >>> write_pharaoh(p, [Alignment.from_links([(0, 0)]), Alignment.from_links([])])
    >>> p.read_text()
    '0-0\\n\\n'
    >>> write_pharaoh(p, [Alignment.from_links([(0, 0)])], ids=["12"])
    >>> p.read_text()
    '12\\t0-0\\n'
    """
    alignments, ids = _alignments_and_ids(alignments, ids)
    ids = [None] * len(alignments) if ids is None else ids
    lines = (
        format_pharaoh(a, possible_mark, i) + "\n" for a, i in zip(alignments, ids, strict=True)
    )
    write_text_atomic(path, "".join(lines))


def format_naacl(alignment: Alignment, sentence_id) -> str:
    """NAACL/WPT lines ``sent i j S|P`` for one sentence: 1-based positions and id.

    ``sentence_id`` is written as given (the file convention: a number from 1).
    Lines are sorted by source, then target; a sentence without links gives ``""``.

    Examples
    --------
    >>> print(format_naacl(Alignment.from_links([(0, 0)], [(1, 0)]), 7))
    7 1 1 S
    7 2 1 P
    """
    rows = [(i, j, "S" if (i, j) in alignment.sure else "P") for i, j in alignment.possible]
    return "".join(f"{sentence_id} {i + 1} {j + 1} {mark}\n" for i, j, mark in sorted(rows))


def write_naacl(
    path: str | os.PathLike,
    alignments: Sequence[Alignment] | LinkTable,
    ids: Sequence[str] | None = None,
) -> None:
    """Write NAACL/WPT lines for all sentences, atomically.

    Sentence ids are ``ids`` (or the table's), else 1, 2, ...; they must be
    positive integers. Sentences without links have no line: read such a file
    back with ``match="line"`` and the corpus size to recover them.

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
    alignments, ids = _alignments_and_ids(alignments, ids)
    ids = [str(s + 1) for s in range(len(alignments))] if ids is None else [str(i) for i in ids]
    for sid in ids:
        if not _DIGITS.fullmatch(sid) or canonical_id(sid) == "0":
            raise InputError(
                f"NAACL sentence ids are positive integers, got {show(sid)}",
                fix="write Pharaoh lines (with 'id<TAB>' prefixes) for other ids",
            )
    text = "".join(format_naacl(a, i) for a, i in zip(alignments, ids, strict=True))
    write_text_atomic(path, text)


# --------------------------------------------------------------------------- parsing

_FIELD_SEP = re.compile(r"[ \t]+")
_DIGITS = re.compile(r"[0-9]+")
_PHARAOH_LINK = re.compile(r"([0-9]+)([-p?])([0-9]+)")
# a whole line of links separated by spaces or tabs ("0-01-1" is not two links)
_PHARAOH_BODY = re.compile(r"(?:[ \t]*[0-9]+[-p?][0-9]+(?=[ \t]|\Z))*[ \t]*")
_LOOSE_LINK = re.compile(r"(-?[0-9.]+)([-p?])(-?[0-9.]+)")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_LABELS = ("S", "P", "s", "p")

_NAACL_FIX = "give 'sentence i j', then optionally S or P and a confidence"
_EXPECTED = {
    "pharaoh": "Pharaoh links 'i-j' (sure) or 'ipj' / 'i?j' (possible)",
    "naacl": "a NAACL line 'sentence i j [S|P] [confidence]'",
}


def _fields(line: str) -> list[str]:
    stripped = line.strip(" \t")
    return _FIELD_SEP.split(stripped) if stripped else []


def _loose_link(token: str) -> bool:
    return _LOOSE_LINK.fullmatch(token) is not None


def _split_id(line: str) -> tuple[str | None, str]:
    """``("id", "links")`` for an ``id<TAB>links`` line, else ``(None, line)``."""
    tab = line.find("\t")
    if tab < 0:
        return None, line
    head = line[:tab].strip(" ")
    if not head or " " in head or _loose_link(head):
        return None, line  # links separated by a tab, not an id
    return head, line[tab + 1 :]


def _looks_naacl(line: str) -> bool:
    f = _fields(line)
    return 3 <= len(f) <= 5 and all(_DIGITS.fullmatch(x) for x in f[:3])


def _too_big(digits: str) -> bool:
    digits = digits.lstrip("0")
    return len(digits) > len(str(MAX_INDEX)) or (bool(digits) and int(digits) > MAX_INDEX)


def _index_problem(token: str) -> str | None:
    """Why ``token`` is not a word position, or None when it is one."""
    if _DIGITS.fullmatch(token):
        return None if not _too_big(token) else f"index {show(token, 20)} is beyond {MAX_INDEX}"
    if token.startswith("-") and _NUMBER.fullmatch(token):
        return f"index {show(token, 20)} is negative"
    if _NUMBER.fullmatch(token):
        return f"index {show(token, 20)} is not an integer"
    return f"{show(token, 20)} is not a word position"


def _pharaoh_problem(body: str) -> str:
    """Why a Pharaoh line body does not parse (its first bad token)."""
    for token in _fields(body):
        m = _PHARAOH_LINK.fullmatch(token)
        if m:
            big = next((x for x in (m.group(1), m.group(3)) if _too_big(x)), None)
            if big is not None:
                return f"link {show(token, 30)}: index {show(big, 20)} is beyond {MAX_INDEX}"
            continue
        m = _LOOSE_LINK.fullmatch(token)
        if m:
            for part in (m.group(1), m.group(3)):
                problem = _index_problem(part)
                if problem:
                    return f"link {show(token, 30)}: {problem}"
        return f"malformed link {show(token)}; expected {_EXPECTED['pharaoh']}"
    return f"malformed line; expected {_EXPECTED['pharaoh']}"


def detect_format(lines: Iterable[str], path="<input>") -> str:
    """Tell ``pharaoh`` from ``naacl`` by the first line that is not blank.

    A line with a Pharaoh link, or an ``id<TAB>`` prefix and nothing else, is
    Pharaoh; three to five fields that start with three integers are NAACL. A
    file without such a line is read as Pharaoh (every sentence empty).

    Raises
    ------
    InputError
        The first non-blank line is neither format.

    Examples
    --------
    >>> detect_format(["", "0-0 1p2"]), detect_format(["0001 3 4 S"]), detect_format(["7\\t"])
    ('pharaoh', 'naacl', 'pharaoh')
    """
    for number, line in enumerate(lines, 1):
        fields = _fields(line)
        if not fields:
            continue
        sid, body = _split_id(line)
        if any(map(_loose_link, _fields(body))) or (sid is not None and not _fields(body)):
            return "pharaoh"  # a malformed link among good ones is reported by the reader
        if 3 <= len(fields) <= 5 and _DIGITS.fullmatch(fields[0]):
            return "naacl"
        raise InputError(
            f"cannot tell the alignment format from {show(line.strip())}; expected "
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
    return detect_format(read_text_lines(path), path)


@dataclass
class _Parsed:
    """What a parser found: one entry per link, and per sentence its id and first line."""

    sentence: list[int] = field(default_factory=list)
    src: list[int] = field(default_factory=list)
    tgt: list[int] = field(default_factory=list)
    sure: list[bool] = field(default_factory=list)
    line: list[int] = field(default_factory=list)
    ids: list[str] | None = None
    first_lines: list[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.first_lines)

    def add(self, sentence: int, i: int, j: int, sure: bool, line: int) -> None:
        self.sentence.append(sentence)
        self.src.append(i)
        self.tgt.append(j)
        self.sure.append(sure)
        self.line.append(line)


def _parse_pharaoh(lines: list[str], path, shift: int) -> _Parsed:
    out = _Parsed()
    first = next((k for k, line in enumerate(lines) if _fields(line)), None)
    with_ids = first is not None and _split_id(lines[first])[0] is not None
    seen: dict[str, int] = {}
    if with_ids:
        out.ids = []
    for s, line in enumerate(lines):
        number = s + 1
        sid, body = _split_id(line)
        if with_ids != (sid is not None):
            if with_ids:
                what = "an empty line" if not _fields(line) else "a line without an id"
                raise InputError(
                    f"{what}, but line {first + 1} starts with an id",
                    path=path,
                    line=number,
                    fix="start every line with 'id<TAB>' (a sentence without links: 'id<TAB>')",
                )
            raise InputError(
                f"a line that starts with an id ({show(sid, 20)}), but line {first + 1} has none",
                path=path,
                line=number,
                fix="give an 'id<TAB>' prefix on every line or on none",
            )
        if sid is not None:
            sid = canonical_id(sid)
            if sid in seen:
                raise InputError(
                    f"sentence id {show(sid)} was already used on line {seen[sid]}",
                    path=path,
                    line=number,
                    fix="give each sentence one line",
                )
            seen[sid] = number
            out.ids.append(sid)
        out.first_lines.append(number)
        if not _PHARAOH_BODY.fullmatch(body):
            hint = " (a NAACL line in a Pharaoh file?)" if _looks_naacl(line) else ""
            raise InputError(
                _pharaoh_problem(body) + hint,
                path=path,
                line=number,
                fix="write each link as two word indices joined by '-', 'p' or '?'",
            )
        for i, mark, j in _PHARAOH_LINK.findall(body):
            if len(i) > 9 or len(j) > 9:  # could be above MAX_INDEX (10 digits)
                if _too_big(i) or _too_big(j):
                    raise InputError(_pharaoh_problem(body), path=path, line=number)
                i, j = i.lstrip("0") or "0", j.lstrip("0") or "0"
            out.add(s, int(i) - shift, int(j) - shift, mark == "-", number)
    return out


def _parse_naacl(lines: list[str], path, shift: int, null: str) -> _Parsed:
    out = _Parsed(ids=[])
    row_of: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        fields = _fields(line)
        if not fields:
            continue

        def bad(message, fix=_NAACL_FIX, number=number):
            return InputError(message, path=path, line=number, fix=fix)

        if not 3 <= len(fields) <= 5:
            hint = " (a Pharaoh line in a NAACL file?)" if any(map(_loose_link, fields)) else ""
            raise bad(f"{len(fields)} fields; expected {_EXPECTED['naacl']}{hint}")
        sid, i, j = fields[:3]
        if not _DIGITS.fullmatch(sid):
            raise bad(f"sentence id {show(sid, 20)} is not a number")
        sid = canonical_id(sid)
        if sid == "0":
            raise bad("sentence id 0; NAACL sentence ids start at 1", "number the sentences from 1")
        for token in (i, j):
            problem = _index_problem(token)
            if problem:
                raise bad(problem)
        label, confidence = None, None
        rest = fields[3:]
        if len(rest) == 1 and rest[0] not in _LABELS and _NUMBER.fullmatch(rest[0]):
            confidence = rest[0]  # 'sent i j confidence'
        elif rest:
            label, confidence = rest[0], (rest[1] if len(rest) == 2 else None)
        if label is not None and label not in _LABELS:
            raise bad(f"label {show(label, 20)}; expected S or P (or a number, a confidence)")
        if confidence is not None and not _NUMBER.fullmatch(confidence):
            raise bad(f"confidence {show(confidence, 20)} is not a number")
        if sid not in row_of:
            row_of[sid] = len(out.ids)
            out.ids.append(sid)
            out.first_lines.append(number)
        i, j = int(i.lstrip("0") or "0"), int(j.lstrip("0") or "0")
        if shift and (i == 0 or j == 0):  # position 0 is NULL in 1-based files
            if null == "drop":
                continue
            if null == "error":
                raise bad(f"link {i} {j} aligns a word to NULL (position 0)", "drop NULL links")
        shift_here = 0 if null == "keep" else shift  # keep: NULL stays 0, words count from 1
        out.add(row_of[sid], i - shift_here, j - shift_here, label in (None, "S", "s"), number)
    return out


# --------------------------------------------------------------------------- reading


def _note(warnings: list | None, message: str) -> None:
    """Collect ``message`` in ``warnings`` when the caller gave a list, else log it."""
    if warnings is None:
        log.warning(message)
    else:
        warnings.append(message)


_HINT_SENTENCES = 3  # index-base notes need links in at least this many sentences


def _base_hint(path, src, tgt, sentence, shift, src_len, tgt_len) -> str | None:
    """A note when the indices look like the other index base than the one read."""
    if len(np.unique(sentence)) < _HINT_SENTENCES:
        return None  # too little evidence either way
    if shift == 0 and src.min() > 0 and tgt.min() > 0:
        return (
            f"{path}: no link uses word position 0 on either side, as in a 1-based file, "
            "but the file was read 0-based (if it is 1-based, pass its one-based option)"
        )
    if shift and src_len is not None and tgt_len is not None:
        last_src, last_tgt = src_len[sentence] - 1, tgt_len[sentence] - 1
        known = (last_src >= 0) & (last_tgt >= 0)
        if known.any() and not ((src == last_src) | (tgt == last_tgt))[known].any():
            return (
                f"{path}: no link reaches the last word of its sentence, as in a 0-based "
                "file, but the file was read 1-based (if it is 0-based, read it so)"
            )
    return None


def read_side(
    path: str | os.PathLike,
    *,
    format: str = "auto",
    one_based: bool | None = None,
    reverse: bool = False,
    null: str = "drop",
    n_sentences: int | None = None,
    lengths: Sequence[tuple[int, int]] | None = None,
    match: str = "auto",
    warnings: list | None = None,
) -> tuple[LinkTable, Side]:
    """:func:`read_link_table`, with how the file names its sentences (for pairing files).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.wa"
    >>> _ = p.write_text("26 1 1\\r\\n29 2 2\\r\\n")
    >>> table, side = read_side(p)
    >>> len(table), side.ids, list(side.lines)
    (2, ('26', '29'), [1, 2])
    """
    if format not in FORMATS:
        raise UnknownNameError("alignment format", format, FORMATS)
    if null not in NULL_LINKS:
        raise UnknownNameError("NULL-link handling", null, NULL_LINKS)
    if match not in MATCHING:
        raise UnknownNameError("sentence matching", match, MATCHING)
    size = n_sentences
    if lengths is not None:
        if n_sentences is not None and n_sentences != len(lengths):
            raise InputError(f"n_sentences={n_sentences}, but {len(lengths)} lengths were given")
        size = len(lengths)
    # an empty file is an error, except a NAACL file (told so) for a corpus without any link
    lines = read_text_lines(path, allow_empty=size is not None and format == "naacl")
    if format == "auto":
        format = detect_format(lines, path)
    if one_based is None:
        one_based = format == "naacl"  # each format's own convention
    shift = 1 if one_based else 0
    if format == "pharaoh":
        parsed = _parse_pharaoh(lines, path, shift)
    else:
        parsed = _parse_naacl(lines, path, shift, null)
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
    side = Side(
        parsed.n,
        None if parsed.ids is None else tuple(parsed.ids),
        str(path),
        str(path),
        parsed.first_lines,
        parsed.n + 1 if format == "pharaoh" else None,
    )
    sure = np.array(parsed.sure, dtype=bool)
    src_len = tgt_len = None
    if size is not None:
        sentence = _to_corpus(side, sentence, size, lengths is not None, match, warnings)
        side = Side(size, None, str(path), str(path))
        if lengths is not None:
            src_len = np.array([a for a, _ in lengths], dtype=np.int64).reshape(size)
            tgt_len = np.array([b for _, b in lengths], dtype=np.int64).reshape(size)
            _check_inside(path, parsed, sentence, src, tgt, src_len, tgt_len)
    hint = _base_hint(path, src, tgt, sentence, shift, src_len, tgt_len)
    if hint:
        _note(warnings, hint)
    table = LinkTable.from_links(
        sentence,
        src,
        tgt,
        sure,
        n_sentences=side.n,
        src_len=src_len,
        tgt_len=tgt_len,
        ids=side.ids,
    )
    return table, side


def _to_corpus(side: Side, sentence, size: int, have_lengths: bool, match, warnings):
    """Corpus position of each link's sentence (the corpus is known by position)."""
    if (side.ids is None or match == "position") and side.n != size:
        given = f"{size} sentence lengths were given" if have_lengths else f"the corpus has {size}"
        beyond = side.end_line if side.n < size else side.lines[size]
        raise InputError(
            f"{side.n} sentences, but {given}",
            path=side.path,
            line=beyond,
            fix="check that the text and alignment files belong together",
        )
    pairing = pair_sentences(Side(size, None, "the corpus"), side, match)
    for note in pairing.warnings:
        _note(warnings, note)
    position = np.full(side.n, -1, dtype=np.int64)
    placed = np.flatnonzero(pairing.rows_b >= 0)
    position[pairing.rows_b[placed]] = placed
    return position[sentence]


def _check_inside(path, parsed: _Parsed, sentence, src, tgt, src_len, tgt_len) -> None:
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


def read_link_table(
    path: str | os.PathLike,
    *,
    format: str = "auto",
    one_based: bool | None = None,
    reverse: bool = False,
    null: str = "drop",
    n_sentences: int | None = None,
    lengths: Sequence[tuple[int, int]] | None = None,
    match: str = "auto",
    warnings: list | None = None,
) -> LinkTable:
    """Read an alignment file into a :class:`LinkTable` (the fast form for scoring).

    Parameters
    ----------
    path : the file. Formats:

        * ``pharaoh``: one line per sentence, links ``i-j`` (sure) and ``ipj`` or
          ``i?j`` (possible), separated by spaces or tabs; an empty line is a
          sentence without links. Lines may start with ``id<TAB>``; then every
          line must, and each id once.
        * ``naacl``: one line per link, ``sentence i j [S|P] [confidence]``
          (WPT 2003); a missing label means S. Sentence ids are ids: the
          sentences are the ids that occur, in order of first occurrence.
        * ``auto`` (default): detected from the first line (:func:`detect_format`).
    one_based : whether word positions start at 1. Default: the format's own
        convention (Pharaoh 0-based, NAACL 1-based).
    reverse : the file lists ``target-source`` links; swap them (after the base shift).
    null : in 1-based NAACL files position 0 is NULL: ``"drop"`` such links
        (default), ``"error"`` on them, or ``"keep"`` them, in which case no
        shift is applied at all (index 0 is NULL, words count from 1).
    n_sentences, lengths : the corpus the file aligns, known by position: its
        size, or ``(src_len, tgt_len)`` per sentence in the final orientation
        (links outside are an error). The table then has one sentence per corpus
        sentence, paired with the file's sentences by ``match`` (see
        :mod:`attnprobe.alignment.matching`); without them it has the file's
        sentences and ids.
    match : ``"auto"``, ``"line"`` or ``"position"`` (used with a corpus).
    warnings : a list that collects one-line notes (an index base that looks
        wrong, corpus sentences the file has no entry for); without it they are
        logged.

    Raises
    ------
    InputError
        Naming the file and line: malformed links, bad indices (negative, not
        integers, above :data:`~attnprobe.alignment.MAX_INDEX`, outside the
        sentence), bad labels or field counts, ids given twice or on some lines
        only, an undetectable format, encoding errors, an empty file (allowed
        only as ``format="naacl"`` with a corpus size: a corpus without links),
        a sentence count that differs from the corpus.
    UnknownNameError
        An unknown ``format``, ``null`` or ``match`` choice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "gold.txt"
    >>> _ = p.write_text("1-1 2p3\\n\\n")
    >>> t = read_link_table(p, one_based=True)
    >>> len(t), t.n_links, t.n_sure
    (2, 2, 1)
    >>> _ = p.write_text("0007 1 1 S\\n0003 2 2 P\\n")          # NAACL: ids are ids
    >>> read_link_table(p).ids
    ('7', '3')
    """
    return read_side(
        path,
        format=format,
        one_based=one_based,
        reverse=reverse,
        null=null,
        n_sentences=n_sentences,
        lengths=lengths,
        match=match,
        warnings=warnings,
    )[0]


def read_alignments(path: str | os.PathLike, **options) -> list[Alignment]:
    """Read an alignment file: one :class:`Alignment` per sentence.

    Takes the same options as :func:`read_link_table` (``format``,
    ``one_based``, ``reverse``, ``null``, ``n_sentences``, ``lengths``,
    ``match``, ``warnings``). Sentence ids are not kept: use
    :func:`read_link_table` for them.

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
    for number, line in enumerate(read_text_lines(path), 1):
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

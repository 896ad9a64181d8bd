"""Symmetrisation: combine a forward and a reverse word alignment into one.

Directional aligners (IBM models, fast_align, one attention direction) link each
word of one side to at most one word of the other. Koehn, Och & Marcu (2003)
combine the two directions: start from their intersection (high precision),
grow towards their union (high recall) through neighbouring points, and
finally add remaining links of either direction for still-unaligned words.

The heuristics leave an order open: which candidate point is tried first
decides which of two competing points wins. Moses' ``symal`` and fast_align's
``atools`` fill that gap differently and so differ on some sentences. This
module follows **fast_align's atools**:

* *grow*: the candidates are the union points not yet aligned, visited in
  ``(source, target)`` order; a candidate is added when one of its 8 neighbours
  (4 for ``grow``) is already aligned and at least one of its two words is
  unaligned, with the alignment updated at once; such passes repeat until a
  pass adds nothing.
* *final*: the forward links, then the reverse links, each in ``(source,
  target)`` order, are added when at least one of their words is unaligned
  (``final``) or both are (``final-and``).

Both inputs are in the same orientation, ``(source, target)``: read a reverse
file that lists ``target-source`` links with ``reverse=True``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from attnprobe.alignment.formats import read_side
from attnprobe.alignment.matching import pair_sentences
from attnprobe.alignment.types import Alignment, Link, LinkTable
from attnprobe.errors import InputError, UnknownNameError

__all__ = ["SYMMETRIZATIONS", "symmetrize", "symmetrize_corpus", "symmetrize_files"]

log = logging.getLogger("attnprobe")

_SIDE = ((-1, 0), (0, -1), (1, 0), (0, 1))
_DIAGONAL = ((-1, -1), (-1, 1), (1, -1), (1, 1))


class _Grid:
    """The alignment being built, with which words are already aligned."""

    def __init__(self, links: set[Link]):
        self.links = set(links)
        self.src = {i for i, _ in links}
        self.tgt = {j for _, j in links}

    def add(self, link: Link) -> None:
        self.links.add(link)
        self.src.add(link[0])
        self.tgt.add(link[1])

    def one_unaligned(self, link: Link) -> bool:
        return link[0] not in self.src or link[1] not in self.tgt

    def both_unaligned(self, link: Link) -> bool:
        return link[0] not in self.src and link[1] not in self.tgt


def _grow(grid: _Grid, union: set[Link], neighbours) -> None:
    pending = sorted(union - grid.links)
    while pending:
        added = []
        for i, j in pending:
            if grid.one_unaligned((i, j)) and any(
                (i + di, j + dj) in grid.links for di, dj in neighbours
            ):
                grid.add((i, j))
                added.append((i, j))
        if not added:
            return
        pending = [p for p in pending if p not in grid.links]


def _final(grid: _Grid, links: set[Link], both: bool) -> None:
    for link in sorted(links):
        if link not in grid.links and (
            grid.both_unaligned(link) if both else grid.one_unaligned(link)
        ):
            grid.add(link)


def _heuristic(neighbours, final: str | None) -> Callable[[set, set], set]:
    def run(forward: set[Link], reverse: set[Link]) -> set[Link]:
        grid = _Grid(forward & reverse)
        _grow(grid, forward | reverse, neighbours)
        if final is not None:
            _final(grid, forward, both=final == "and")
            _final(grid, reverse, both=final == "and")
        return grid.links

    return run


#: Symmetrisation heuristics by name (the CLI's ``--method`` choices).
SYMMETRIZATIONS: dict[str, Callable[[set, set], set]] = {
    "intersection": lambda f, r: f & r,
    "union": lambda f, r: f | r,
    "grow": _heuristic(_SIDE, None),
    "grow-diag": _heuristic(_SIDE + _DIAGONAL, None),
    "grow-diag-final": _heuristic(_SIDE + _DIAGONAL, "or"),
    "grow-diag-final-and": _heuristic(_SIDE + _DIAGONAL, "and"),
}


def symmetrize(
    forward: Alignment, reverse: Alignment, method: str = "grow-diag-final"
) -> Alignment:
    """Combine a forward and a reverse alignment of one sentence pair.

    Follows fast_align's ``atools`` visiting order (see the module docstring).
    Only sure links take part (a directional aligner makes no possible links;
    :func:`symmetrize_files` says how many it ignored).

    Parameters
    ----------
    forward, reverse : the two directional alignments, both ``(source, target)``.
    method : one of :data:`SYMMETRIZATIONS`: ``intersection``, ``union``,
        ``grow``, ``grow-diag``, ``grow-diag-final``, ``grow-diag-final-and``.

    Returns
    -------
    Alignment
        Sure links only; lengths taken from the inputs where known.

    Raises
    ------
    UnknownNameError
        An unknown method (with "did you mean").
    InputError
        The inputs disagree on a known sentence length.

    Examples
    --------
    >>> f = Alignment.from_links([(0, 0), (1, 1), (2, 1)])
    >>> r = Alignment.from_links([(0, 0), (1, 1), (1, 2)])
    >>> sorted(symmetrize(f, r, "intersection").sure)
    [(0, 0), (1, 1)]
    >>> sorted(symmetrize(f, r, "grow-diag-final").sure)
    [(0, 0), (1, 1), (1, 2), (2, 1)]
    """
    run = SYMMETRIZATIONS.get(method)
    if run is None:
        raise UnknownNameError("symmetrisation method", method, SYMMETRIZATIONS)
    src_len = _same(forward.src_len, reverse.src_len, "source")
    tgt_len = _same(forward.tgt_len, reverse.tgt_len, "target")
    links = run(set(forward.sure), set(reverse.sure))
    return Alignment(frozenset(links), frozenset(), src_len, tgt_len)


def _same(a: int | None, b: int | None, side: str) -> int | None:
    if a is not None and b is not None and a != b:
        raise InputError(
            f"forward and reverse alignments disagree on the {side} length: {a} vs {b}"
        )
    return a if a is not None else b


def symmetrize_corpus(
    forward: Sequence[Alignment], reverse: Sequence[Alignment], method: str = "grow-diag-final"
) -> list[Alignment]:
    """:func:`symmetrize` every sentence pair of a corpus.

    Raises
    ------
    InputError
        The two sides have different numbers of sentences.

    Examples
    --------
    >>> f = [Alignment.from_links([(0, 0)]), Alignment.from_links([(0, 1)])]
    >>> r = [Alignment.from_links([(0, 0)]), Alignment.from_links([(1, 1)])]
    >>> [sorted(a.sure) for a in symmetrize_corpus(f, r, "union")]
    [[(0, 0)], [(0, 1), (1, 1)]]
    """
    if len(forward) != len(reverse):
        raise InputError(
            f"forward has {len(forward)} sentences, reverse {len(reverse)}",
            fix="give both directions of the same corpus",
        )
    if method not in SYMMETRIZATIONS:
        raise UnknownNameError("symmetrisation method", method, SYMMETRIZATIONS)
    return [symmetrize(f, r, method) for f, r in zip(forward, reverse, strict=True)]


def symmetrize_files(
    forward_path,
    reverse_path,
    method: str = "grow-diag-final",
    *,
    format: str = "auto",
    forward_one_based: bool | None = None,
    reverse_one_based: bool | None = None,
    reverse_forward: bool = False,
    reverse_reverse: bool = False,
    match: str = "auto",
    warnings: list | None = None,
) -> LinkTable:
    """Read a forward and a reverse alignment file and symmetrise them.

    Both files are read with :func:`~attnprobe.alignment.read_link_table`;
    ``reverse_reverse=True`` swaps the links of a reverse file that lists
    ``target-source`` links, so that both sides are ``(source, target)``.
    Sentences pair up as in scoring (:mod:`attnprobe.alignment.matching`), the
    forward file in the gold's role: by id when both files carry ids (a forward
    sentence missing from the reverse file has no reverse links; a reverse id
    the forward file lacks is an error), by position when neither does, and as
    ``match`` says when one does. Links marked possible are ignored (a note
    says how many): symmetrisation combines sure links.

    Parameters
    ----------
    warnings : a list that collects one-line notes; without it they are logged.

    Returns
    -------
    LinkTable
        One sentence per pair, sure links only; with the forward file's ids
        when the files were paired by id (write it with
        :func:`~attnprobe.alignment.write_pharaoh` to keep them).

    Raises
    ------
    InputError
        Naming the file and line: unreadable links, sentences that do not pair up.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "fwd").write_text("0-0 1-1\\n")
    >>> _ = (d / "rev").write_text("0-0 2-1\\n")     # target-source
    >>> out = symmetrize_files(d / "fwd", d / "rev", "union", reverse_reverse=True)
    >>> sorted(out[0].sure)
    [(0, 0), (1, 1), (1, 2)]
    """
    if method not in SYMMETRIZATIONS:
        raise UnknownNameError("symmetrisation method", method, SYMMETRIZATIONS)
    notes: list[str] = []
    read = []
    for path, one_based, reverse in (
        (forward_path, forward_one_based, reverse_forward),
        (reverse_path, reverse_one_based, reverse_reverse),
    ):
        table, side = read_side(
            path, format=format, one_based=one_based, reverse=reverse, warnings=notes
        )
        if table.n_links > table.n_sure:
            notes.append(
                f"{path}: {table.n_links - table.n_sure} links marked possible were ignored "
                "(symmetrisation combines sure links only)"
            )
        read.append((table, side))
    (fwd, fwd_side), (rev, rev_side) = read
    pairing = pair_sentences(fwd_side, rev_side, match)
    notes.extend(pairing.warnings)
    forward = fwd._select(pairing.rows_a).to_alignments()
    backward = rev._select(pairing.rows_b).to_alignments()
    result = LinkTable.from_alignments(symmetrize_corpus(forward, backward, method), pairing.ids)
    if warnings is None:
        for note in notes:
            log.warning(note)
    else:
        warnings.extend(notes)
    return result

"""Pairing the sentences of two files: by id, by position, and the explicit choices."""

from __future__ import annotations

import pytest

from attnprobe.alignment.matching import Side, canonical_id, pair_sentences
from attnprobe.errors import InputError, UnknownNameError


def rows(pairing):
    return pairing.rows_a.tolist(), pairing.rows_b.tolist()


def test_positions_pair_when_neither_side_has_ids():
    p = pair_sentences(Side(3, None, "gold"), Side(3, None, "hyp"))
    assert rows(p) == ([0, 1, 2], [0, 1, 2]) and p.ids is None and p.warnings == ()


def test_position_counts_must_agree():
    pharaoh = Side(2, None, "h.txt", path="h.txt", end_line=3)
    with pytest.raises(InputError, match=r"^h\.txt:3: file ends after 2 sentence lines, but g"):
        pair_sentences(Side(3, None, "g.txt", path="g.txt"), pharaoh)
    with pytest.raises(InputError, match=r"^the hypothesis has 2 sentences, but the gold has 3"):
        pair_sentences(Side(3, None, "the gold"), Side(2, None, "the hypothesis"))


def test_ids_pair_in_the_order_of_the_first_side():
    gold = Side(3, ("a", "b", "c"), "g.txt")
    p = pair_sentences(gold, Side(2, ("c", "a"), "h.txt"))
    assert rows(p) == ([0, 1, 2], [1, -1, 0]) and p.ids == ("a", "b", "c")
    assert p.warnings == ("h.txt: no entry for 1 of 3 sentences; read as sentences without links",)


def test_an_id_of_the_second_side_must_be_in_the_first():
    hyp = Side(2, ("a", "z"), "h.txt", path="h.txt", lines=[4, 9])
    with pytest.raises(InputError, match=r"^h\.txt:9: sentence id 'z' is not in g\.txt"):
        pair_sentences(Side(1, ("a",), "g.txt"), hyp)


@pytest.mark.parametrize("match", ["auto", "line", "position"])
def test_ids_that_number_the_lines_pair_whatever_the_choice(match):
    p = pair_sentences(Side(3, ("1", "2", "3"), "g.wa"), Side(3, None, "h.txt"), match)
    assert rows(p) == ([0, 1, 2], [0, 1, 2])


@pytest.mark.parametrize(
    "ids, n, line",
    [
        (("26", "27", "29"), 3, 10),  # WPT 2005: the first id is not 1
        (("1", "2", "4"), 3, 30),  # a gap: the third sentence
        (("1", "2"), 3, None),  # fewer sentences than lines: no line to point at
        (("1", "2", "3"), 2, 30),  # more: the first id past the end
    ],
)
def test_mixing_without_a_choice_is_an_error(ids, n, line):
    keyed = Side(len(ids), ids, "g.wa", path="g.wa", lines=[10, 20, 30][: len(ids)])
    where = "g.wa" if line is None else f"g.wa:{line}"
    with pytest.raises(InputError, match=rf"^{where}: sentences carry ids .* h\.txt has none"):
        pair_sentences(keyed, Side(n, None, "h.txt"))


def test_line_reads_ids_as_line_numbers_either_way_round():
    keyed = Side(2, ("3", "1"), "g.wa")
    p = pair_sentences(keyed, Side(4, None, "h.txt"), "line")
    assert rows(p) == ([1, -1, 0, -1], [0, 1, 2, 3]) and p.ids is None
    assert p.warnings == ("g.wa: no entry for 2 of 4 sentences; read as sentences without links",)
    q = pair_sentences(Side(4, None, "g.txt"), Side(2, ("3", "1"), "h.wa"), "line")
    assert rows(q) == ([0, 1, 2, 3], [1, -1, 0, -1])


@pytest.mark.parametrize(
    "ids, message",
    [
        (("x",), "sentence id 'x' is not a line number"),
        (("0",), "sentence id '0' is not a line of h.txt, which has 2"),
        (("3",), "sentence id '3' is not a line of h.txt, which has 2"),
        (("9" * 5000,), "is not a line of h.txt"),
        (("1", "01"), "names line 1 a second time"),
    ],
)
def test_line_errors(ids, message):
    with pytest.raises(InputError, match=message):
        pair_sentences(Side(len(ids), ids, "g.wa"), Side(2, None, "h.txt"), "line")


def test_position_ignores_ids():
    p = pair_sentences(Side(2, ("26", "29"), "g.wa"), Side(2, ("b", "a"), "h.txt"), "position")
    assert rows(p) == ([0, 1], [0, 1]) and p.ids is None


def test_unknown_choice_suggests_a_name():
    with pytest.raises(UnknownNameError, match="did you mean 'line'"):
        pair_sentences(Side(0, None, "a"), Side(0, None, "b"), "lines")


def test_canonical_ids():
    assert [canonical_id(x) for x in ("0026", "26", "0", "00", "a01")] == [
        "26",
        "26",
        "0",
        "0",
        "a01",
    ]

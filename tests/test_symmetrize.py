"""Symmetrisation heuristics, in fast_align atools' visiting order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnprobe.alignment import Alignment, read_alignments
from attnprobe.alignment.symmetrize import (
    SYMMETRIZATIONS,
    symmetrize,
    symmetrize_corpus,
    symmetrize_files,
)
from attnprobe.errors import InputError, UnknownNameError

A = Alignment.from_links


def links(method, forward, reverse):
    return sorted(symmetrize(A(forward), A(reverse), method).sure)


# (forward, reverse, method, expected links), all worked out by hand
CASES = [
    pytest.param([(0, 0), (1, 1)], [(0, 0), (1, 2)], "intersection", [(0, 0)], id="intersection"),
    pytest.param([(0, 0), (1, 1)], [(0, 0), (1, 2)], "union", [(0, 0), (1, 1), (1, 2)], id="union"),
    # (1, 1) touches (0, 0) only diagonally
    pytest.param([(0, 0), (1, 1)], [(0, 0)], "grow", [(0, 0)], id="grow-needs-side-neighbour"),
    pytest.param([(0, 0), (1, 1)], [(0, 0)], "grow-diag", [(0, 0), (1, 1)], id="grow-diag"),
    # Order matters: the candidates (0, 0) and (1, 0) both touch (1, 1). atools visits
    # (0, 0) first; after it, words 1 and 0 of (1, 0) are both aligned, so (1, 0) is out.
    # Koehn's pseudo-code (as Moses symal) walks the neighbours of (1, 1) in the order
    # side-then-diagonal and adds (1, 0) first, then (0, 0): three links there.
    pytest.param(
        [(1, 1), (0, 0)],
        [(1, 1), (1, 0)],
        "grow-diag",
        [(0, 0), (1, 1)],
        id="atools-order-grow-diag",
    ),
    pytest.param(
        [(1, 1), (0, 0)],
        [(1, 1), (1, 0)],
        "grow-diag-final",
        [(0, 0), (1, 1)],
        id="atools-order-final",
    ),
    # (0, 0) only becomes a neighbour once (1, 1) is in: a second pass picks it up
    pytest.param(
        [(2, 2), (1, 1)],
        [(2, 2), (0, 0)],
        "grow-diag",
        [(0, 0), (1, 1), (2, 2)],
        id="repeated-passes",
    ),
    # final: one word unaligned is enough; final-and: both must be
    pytest.param(
        [(0, 0), (0, 3), (3, 3)], [(0, 0)], "grow-diag-final", [(0, 0), (0, 3), (3, 3)], id="final"
    ),
    pytest.param(
        [(0, 0), (0, 3), (3, 3)], [(0, 0)], "grow-diag-final-and", [(0, 0), (3, 3)], id="final-and"
    ),
    # forward links are tried before reverse ones
    pytest.param(
        [(0, 0), (2, 3)],
        [(0, 0), (2, 4)],
        "grow-diag-final-and",
        [(0, 0), (2, 3)],
        id="final-and-forward-first",
    ),
    pytest.param(
        [(0, 0), (2, 3)],
        [(0, 0), (2, 4)],
        "grow-diag-final",
        [(0, 0), (2, 3), (2, 4)],
        id="final-or",
    ),
    pytest.param([], [], "grow-diag-final", [], id="empty"),
    pytest.param([(0, 0)], [], "grow-diag-final-and", [(0, 0)], id="one-side-empty"),
]


@pytest.mark.parametrize("forward, reverse, method, expected", CASES)
def test_hand_made_cases(forward, reverse, method, expected):
    assert links(method, forward, reverse) == expected


def test_unknown_method_suggests_a_name():
    with pytest.raises(UnknownNameError, match="did you mean 'grow-diag-final'"):
        symmetrize(A([]), A([]), "grow-diag-finel")


def test_lengths_are_kept_and_checked():
    out = symmetrize(A([(0, 0)], src_len=2, tgt_len=3), A([(0, 0)]), "union")
    assert (out.src_len, out.tgt_len) == (2, 3)
    with pytest.raises(InputError, match="disagree on the source length"):
        symmetrize(A([], src_len=2), A([], src_len=3))


def test_corpus_length_mismatch():
    with pytest.raises(InputError, match="forward has 1 sentences, reverse 2"):
        symmetrize_corpus([A([])], [A([]), A([])])


side = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=10)


@settings(max_examples=200, deadline=None)
@given(side, side)
def test_heuristics_lie_between_intersection_and_union(forward, reverse):
    f, r = A(forward), A(reverse)
    get = {m: symmetrize(f, r, m).sure for m in SYMMETRIZATIONS}
    for method, result in get.items():
        assert get["intersection"] <= result <= get["union"], method
    # the final steps only add links (greedy orders make other inclusions fail)
    assert get["grow-diag"] <= get["grow-diag-final-and"]
    assert get["grow-diag"] <= get["grow-diag-final"]
    # every word aligned in either direction is aligned after grow-diag-final
    assert {i for i, _ in get["union"]} == {i for i, _ in get["grow-diag-final"]}
    assert {j for _, j in get["union"]} == {j for _, j in get["grow-diag-final"]}


def test_files_of_different_length(tmp_path):
    (tmp_path / "f").write_text("0-0\n0-0\n")
    (tmp_path / "r").write_text("0-0\n")
    with pytest.raises(InputError, match=r"r:2: file ends after 1 sentence lines"):
        symmetrize_files(tmp_path / "f", tmp_path / "r")


def test_files_pair_by_id_and_keep_the_forward_ids(tmp_path):
    (tmp_path / "f").write_text("b\t0-0\na\t1-1 2p2\n")
    (tmp_path / "r").write_text("a\t1-1 1-2\n")  # no line for b: no reverse links there
    notes: list[str] = []
    out = symmetrize_files(tmp_path / "f", tmp_path / "r", "union", warnings=notes)
    assert out.ids == ("b", "a")
    assert [sorted(a.sure) for a in out.to_alignments()] == [[(0, 0)], [(1, 1), (1, 2)]]
    assert notes == [
        f"{tmp_path / 'f'}: 1 links marked possible were ignored "
        "(symmetrisation combines sure links only)",
        f"{tmp_path / 'r'}: no entry for 1 of 2 sentences; read as sentences without links",
    ]
    (tmp_path / "r").write_text("c\t0-0\n")
    with pytest.raises(InputError, match=r"r:1: sentence id 'c' is not in .*f"):
        symmetrize_files(tmp_path / "f", tmp_path / "r")


@pytest.mark.parametrize("pair", ["enfr", "roen", "deen"])
def test_lilt_reference_files(shared_data, pair):
    folder = shared_data / "reference-outputs" / "lilt-fastalign"
    forward = folder / f"test.{pair}.talp"
    reverse = folder / f"test.{pair}.reverse.talp"  # i = target: swap on reading
    for method in ("intersection", "union"):
        ours = symmetrize_files(forward, reverse, method, reverse_reverse=True).to_alignments()
        assert ours == read_alignments(folder / f"test.{pair}.{method}.talp")
    # The reference grow step is non-standard (diagonal neighbours only, both words
    # unaligned, set-order dependent): agreement is information, not a target.
    ours = symmetrize_files(forward, reverse, "grow-diag-final", reverse_reverse=True)
    ours = ours.to_alignments()
    theirs = read_alignments(folder / f"test.{pair}.grow-diagonal-final.talp")
    agree = sum(a.sure == b.sure for a, b in zip(ours, theirs, strict=True))
    assert 0 < agree < len(ours)

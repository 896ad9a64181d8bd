"""Hard alignments from attention matrices: offsets, masks and every method."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import linear_sum_assignment

from attnprobe.analyses.extraction import (
    EXTRACTORS,
    argmax_source,
    argmax_target,
    diagonal_alignment,
    extract_alignment,
    itermax,
    max_weight_matching,
    threshold,
    top_p,
    word_matrix,
)
from attnprobe.errors import InputError, UnknownNameError

# rows = target steps, columns = source words
M = np.array(
    [
        [0.70, 0.20, 0.10],
        [0.10, 0.10, 0.80],
        [0.30, 0.60, 0.10],
    ]
)


@pytest.mark.parametrize(
    "method, options, expected",
    [
        ("argmax-target", {}, {(0, 0), (2, 1), (1, 2)}),
        ("argmax-source", {}, {(0, 0), (1, 2), (2, 1)}),
        ("intersection", {}, {(0, 0), (1, 2), (2, 1)}),
        ("union", {}, {(0, 0), (1, 2), (2, 1)}),
        ("threshold", {"value": 0.25}, {(0, 0), (2, 1), (0, 2), (1, 2)}),
        ("threshold", {"value": 0.3}, {(0, 0), (2, 1), (1, 2)}),  # strictly greater
        ("top-p", {"p": 0.75}, {(0, 0), (1, 0), (2, 1), (1, 2), (0, 2)}),
        ("matching", {}, {(0, 0), (2, 1), (1, 2)}),
        ("itermax", {}, {(0, 0), (2, 1), (1, 2)}),
        # offset -1: row t aligns target word t-1, row 0 is dropped
        ("argmax-target", {"offset": -1}, {(2, 0), (1, 1)}),
        # offset +1: row t aligns target word t+1; the last row falls outside
        ("argmax-target", {"offset": 1}, {(0, 1), (2, 2)}),
        # source word 2 (say EOS) masked: rows choose among words 0, 1
        ("argmax-target", {"src_mask": [True, True, False]}, {(0, 0), (0, 1), (1, 2)}),
        # target position 1 masked: row 2 becomes word 1
        ("argmax-target", {"tgt_mask": [True, False, True]}, {(0, 0), (1, 1)}),
    ],
)
def test_methods_on_a_hand_made_matrix(method, options, expected):
    assert extract_alignment(M, method, **options).sure == expected


def test_argmax_source_differs_from_argmax_target_on_one_to_many():
    a = np.array([[0.9, 0.8], [0.1, 0.2]])
    assert argmax_target(a).sure == {(0, 0), (1, 1)}  # one source word per target row
    assert argmax_source(a).sure == {(0, 0), (1, 0)}  # target 0 is each column's maximum


def test_lengths_count_real_words_only():
    out = argmax_target(M, offset=-1, src_mask=[True, True, False], tgt_mask=[True, True, False])
    assert (out.src_len, out.tgt_len) == (2, 2)
    assert out.sure == {(1, 1), (0, 0)}


def test_ties_go_to_the_first_word():
    assert argmax_target([[0.5, 0.5]]).sure == {(0, 0)}


def test_empty_after_masking():
    out = argmax_target(M, src_mask=[False, False, False])
    assert out.sure == frozenset() and out.src_len == 0


def test_itermax_adds_links_for_unaligned_words():
    a = [[0.6, 0.4, 0.0], [0.5, 0.1, 0.0], [0.0, 0.0, 1.0]]
    # round 1 (mutual argmax): (0,0), (2,2). Round 2, modified matrix:
    # [[0, .36, 0], [.45, .1, 0], [0, 0, 0]] -> mutual argmax adds rows 0/1 crosswise
    assert itermax(a, max_iter=1).sure == {(0, 0), (2, 2)}
    assert itermax(a).sure == {(0, 0), (1, 0), (0, 1), (2, 2)}
    assert itermax(a, alpha=0.0).sure == {(0, 0), (2, 2), (1, 1)}


def test_top_p_takes_the_fewest_heaviest_words():
    a = [[0.5, 0.3, 0.2]]
    assert top_p(a, 0.5).sure == {(0, 0)}
    assert top_p(a, 0.51).sure == {(0, 0), (1, 0)}
    assert top_p(a, 1.0).sure == {(0, 0), (1, 0), (2, 0)}
    # masking the heaviest word renormalises over the rest: 0.3 of 0.5 is 60%
    assert top_p(a, 0.6, src_mask=[False, True, True]).sure == {(0, 0)}


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(0.01, 1.0)
    )
)
def test_matching_has_the_optimal_weight(a):
    links = max_weight_matching(a).sure
    rows, cols = linear_sum_assignment(a, maximize=True)  # an independent solver
    assert len({i for i, _ in links}) == len({j for _, j in links}) == len(links)
    ours = sum(a[j, i] for i, j in links)
    assert ours == pytest.approx(a[rows, cols].sum())


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=st.floats(0.0, 1.0)
    ),
    st.integers(-2, 2),
)
def test_one_link_per_target_row_inside(a, offset):
    out = argmax_target(a, offset=offset)
    T = a.shape[0]
    rows_inside = sum(0 <= t + offset < T for t in range(T))
    assert len(out.sure) == rows_inside
    assert len({j for _, j in out.sure}) == rows_inside
    for name in EXTRACTORS:
        if name != "threshold":
            assert extract_alignment(a, name, offset=offset).sure <= {
                (i, j) for i in range(a.shape[1]) for j in range(T)
            }


def test_accepts_array_likes_without_torch():
    class Tensorish:  # what np.asarray sees in a CPU torch tensor
        def __array__(self, dtype=None, copy=None):
            return M if dtype is None else M.astype(dtype)

    assert argmax_target(Tensorish()).sure == argmax_target(M).sure


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: argmax_target(np.zeros((1, 2, 2))), r"one \[T, S\] matrix"),
        (lambda: argmax_target([[np.nan, 1.0]]), "NaN"),
        (lambda: argmax_target(M, offset=0.5), "offset must be an integer"),
        (lambda: argmax_target(M, src_mask=[True, False]), r"src_mask must have shape \[3\]"),
        (lambda: argmax_target(M, tgt_mask=[2, 0, 1]), "must be boolean"),
        (lambda: threshold(M, float("nan")), "finite"),
        (lambda: top_p(M, 0.0), r"p must lie in \(0, 1\]"),
        (lambda: top_p(-M, 0.5), "non-negative"),
        (lambda: itermax(M, alpha=2.0), r"alpha must lie in \[0, 1\]"),
        (lambda: itermax(M, max_iter=0), "max_iter must be >= 1"),
        (lambda: extract_alignment(M, "argmax-target", p=0.5), "'argmax-target'"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_unknown_method():
    with pytest.raises(UnknownNameError, match="did you mean 'itermax'"):
        extract_alignment(M, "itermx")


def test_word_matrix_keeps_rows_of_real_words():
    w = word_matrix(M, offset=-1, tgt_mask=[True, True, False])
    assert w.weights.tolist() == M[1:].tolist() and w.tgt_words.tolist() == [0, 1]


def test_extraction_does_not_import_torch():
    code = (
        "import sys, attnprobe.analyses.extraction, attnprobe.analyses; "
        "sys.exit('torch' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --------------------------------------------------------------------------- diagonal baseline


@pytest.mark.parametrize(
    ("n_src", "n_tgt", "links"),
    [
        (3, 3, [(0, 0), (1, 1), (2, 2)]),  # equal lengths: the identity
        # 5 source words, 2 target words: centres 0.5 * 5/2 = 1.25 -> 1, 1.5 * 5/2 = 3.75 -> 3
        (5, 2, [(1, 0), (3, 1)]),
        # 2 source words, 3 target words: 0.5 * 2/3 = 0.33 -> 0, 1.0 -> exactly word 1, 1.67 -> 1
        (2, 3, [(0, 0), (1, 1), (1, 2)]),
        (1, 1, [(0, 0)]),
        (4, 0, []),
        (0, 2, []),
    ],
)
def test_diagonal_alignment_by_hand(n_src, n_tgt, links):
    a = diagonal_alignment(n_src, n_tgt)
    assert sorted(a.sure) == links and a.possible == a.sure
    assert (a.src_len, a.tgt_len) == (n_src, n_tgt)


def test_diagonal_alignment_refuses_negative_lengths():
    with pytest.raises(InputError, match=">= 0"):
        diagonal_alignment(-1, 2)

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
    WordBatch,
    argmax_source,
    argmax_target,
    diagonal_alignment,
    diagonal_links,
    extract_alignment,
    itermax,
    max_weight_matching,
    threshold,
    top_p,
    word_links,
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


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_word_matrix_equals_a_loop_over_positions(data):
    T, S = data.draw(st.integers(0, 6)), data.draw(st.integers(0, 6))
    a = data.draw(arrays(np.float64, (T, S), elements=st.floats(0, 1)))
    offset = data.draw(st.integers(-3, 3))
    n = data.draw(st.integers(0, 7))  # target positions need not match the rows
    tgt = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    src = data.draw(st.lists(st.booleans(), min_size=S, max_size=S))
    w = word_matrix(a, offset=offset, src_mask=src, tgt_mask=tgt)
    kept = [t for t in range(T) if 0 <= t + offset < n and tgt[t + offset]]
    cols = [j for j in range(S) if src[j]]
    assert w.weights.shape == (len(kept), len(cols))
    assert w.weights.tolist() == [[a[t, j] for j in cols] for t in kept]
    assert w.tgt_words.tolist() == [sum(tgt[: t + offset]) for t in kept]
    assert (w.n_src, w.n_tgt) == (sum(src), sum(tgt))
    w.weights[...] = -1.0  # a copy: the caller's matrix is not touched
    assert (a >= 0).all()


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


@pytest.mark.parametrize(("n_src", "n_tgt"), [(3, 3), (5, 2), (2, 3), (1, 1), (4, 0), (0, 2)])
def test_diagonal_links_are_the_diagonal_alignment_in_order(n_src, n_tgt):
    src, tgt = diagonal_links(n_src, n_tgt)
    assert list(zip(src.tolist(), tgt.tolist(), strict=True)) == sorted(
        diagonal_alignment(n_src, n_tgt).sure
    )
    with pytest.raises(InputError, match=">= 0"):
        diagonal_links(2, -1)


# --------------------------------------------------------------------------- links as arrays


def _pairs(src, tgt):
    return list(zip(src.tolist(), tgt.tolist(), strict=True))


@pytest.mark.parametrize(
    ("method", "options", "params", "links"),
    [  # M by hand, links (src, tgt) in (src, tgt) order
        ("argmax-target", {}, {}, [(0, 0), (1, 2), (2, 1)]),
        ("argmax-source", {}, {}, [(0, 0), (1, 2), (2, 1)]),
        ("threshold", {}, {"value": 0.25}, [(0, 0), (0, 2), (1, 2), (2, 1)]),
        ("threshold", {}, {}, [(0, 0), (1, 2), (2, 1)]),  # default 0.5
        ("top-p", {}, {"p": 0.75}, [(0, 0), (0, 2), (1, 0), (1, 2), (2, 1)]),
        # offset -1: rows 1, 2 are target words 0, 1; their maxima are columns 2 and 1
        ("argmax-target", {"offset": -1}, {}, [(1, 1), (2, 0)]),
        ("argmax-target", {"src_mask": [False, False, False]}, {}, []),
    ],
)
def test_word_links_by_hand(method, options, params, links):
    src, tgt = word_links(word_matrix(M, **options), method, **params)
    assert src.dtype == tgt.dtype == np.int64
    assert _pairs(src, tgt) == links


def test_word_links_refuses_what_extract_alignment_refuses():
    w = word_matrix(M)
    with pytest.raises(UnknownNameError, match="did you mean 'itermax'"):
        word_links(w, "itermx")
    with pytest.raises(InputError, match="'argmax-target' has no parameter 'p'"):
        word_links(w, "argmax-target", p=0.5)
    with pytest.raises(InputError, match="'top-p'"):
        word_links(w, "top-p", p="most")
    with pytest.raises(InputError, match=r"p must lie in \(0, 1\]"):
        word_links(w, "top-p", p=0.0)


# M (3 x 3), N (1 x 2), and M without source words (3 x 0), stacked
N = [[0.4, 0.6]]


@pytest.mark.parametrize(
    ("method", "offsets", "links"),
    [
        # M: rows pick columns 0, 2, 1; N: row 0 picks column 1; nothing in the empty one
        ("argmax-target", [0, 3, 4, 4], [(0, 0), (1, 2), (2, 1), (1, 0)]),
        # N: both columns have their maximum in its only row
        ("argmax-source", [0, 3, 5, 5], [(0, 0), (1, 2), (2, 1), (0, 0), (1, 0)]),
        ("intersection", [0, 3, 4, 4], [(0, 0), (1, 2), (2, 1), (1, 0)]),
        ("union", [0, 3, 5, 5], [(0, 0), (1, 2), (2, 1), (0, 0), (1, 0)]),
        # weights above 0.35: M .7, .8, .6; N .4 and .6
        ("threshold", [0, 3, 5, 5], [(0, 0), (1, 2), (2, 1), (0, 0), (1, 0)]),
        ("top-p", [0, 3, 4, 4], [(0, 0), (1, 2), (2, 1), (1, 0)]),
        ("matching", [0, 3, 4, 4], [(0, 0), (1, 2), (2, 1), (1, 0)]),
    ],
)
def test_word_batch_links_by_hand(method, offsets, links):
    words = WordBatch.stack([word_matrix(M), word_matrix(N), word_matrix(M, src_mask=[0, 0, 0])])
    params = {"value": 0.35} if method == "threshold" else {}
    got_offsets, src, tgt = words.links(method, **params)
    assert got_offsets.tolist() == offsets and _pairs(src, tgt) == links
    assert words.n_src.tolist() == [3, 2, 0] and words.n_tgt.tolist() == [3, 1, 3]


def test_itermax_in_a_batch_stops_each_sentence_on_its_own():
    # A: round 1 links (0,0), (2,2); round 2 adds (0,1), (1,0) (see the itermax docstring).
    # B: its one target word is aligned after round 1, so B is finished; had round 2 run on
    # B anyway, the discounted source word 1 (0.9 * 0.1) would have been linked too.
    a = [[0.6, 0.4, 0.0], [0.5, 0.1, 0.0], [0.0, 0.0, 1.0]]
    b = [[0.9, 0.1]]
    offsets, src, tgt = WordBatch.stack([word_matrix(a), word_matrix(b)]).links("itermax")
    assert offsets.tolist() == [0, 4, 5]
    assert _pairs(src, tgt) == [(0, 0), (0, 1), (1, 0), (2, 2), (0, 0)]
    assert sorted(itermax(b).sure) == [(0, 0)]
    # one round only: the mutual argmax
    offsets, src, tgt = WordBatch.stack([word_matrix(a), word_matrix(b)]).links(
        "itermax", max_iter=1
    )
    assert _pairs(src, tgt) == [(0, 0), (2, 2), (0, 0)]


def test_an_empty_stack():
    offsets, src, tgt = WordBatch.stack([]).links("itermax")
    assert offsets.tolist() == [0] and src.tolist() == tgt.tolist() == []


def _ref_argmax(w):
    """Row and column maxima of a list-of-lists matrix, as sets of (row, col); ties: first."""
    t, s = len(w), len(w[0]) if w else 0
    rows = {(r, max(range(s), key=lambda c: w[r][c])) for r in range(t)} if s else set()
    cols = {(max(range(t), key=lambda r: w[r][c]), c) for c in range(s)} if t else set()
    return rows, cols


def _ref_itermax(w, alpha=0.9, max_iter=2):
    """IterMax written out with sets, as the paper describes it."""
    rows, cols = _ref_argmax(w)
    links = rows & cols
    t, s = len(w), len(w[0]) if w else 0
    for _ in range(max_iter - 1):
        done_r, done_c = {r for r, _ in links}, {c for _, c in links}
        if len(done_r) == t or len(done_c) == s:
            break

        def factor(r, c, done_r=done_r, done_c=done_c):
            both, either = r in done_r and c in done_c, r in done_r or c in done_c
            return 0.0 if both else alpha if either else 1.0

        rows, cols = _ref_argmax([[w[r][c] * factor(r, c) for c in range(s)] for r in range(t)])
        new = {(r, c) for r, c in rows & cols if factor(r, c) > 0} - links
        if not new:
            break
        links |= new
    return links


def _reference(method, w):
    rows, cols = _ref_argmax(w)
    return {
        "argmax-target": lambda: rows,
        "argmax-source": lambda: cols,
        "intersection": lambda: rows & cols,
        "union": lambda: rows | cols,
        "threshold": lambda: {
            (r, c) for r, row in enumerate(w) for c, x in enumerate(row) if x > 0.5
        },
        "itermax": lambda: _ref_itermax(w),
        "itermax-3": lambda: _ref_itermax(w, alpha=0.5, max_iter=3),
    }[method]()


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        arrays(
            np.float64,
            st.tuples(st.integers(0, 6), st.integers(0, 6)),
            elements=st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.6, 1.0]),  # many ties
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(-1, 1),
)
def test_word_batch_equals_a_set_based_reference_per_sentence(matrices, offset):
    wms = [word_matrix(a, offset=offset) for a in matrices]
    words = WordBatch.stack(wms)
    for method in ("argmax-target", "argmax-source", "intersection", "union", "threshold",
                   "itermax", "itermax-3"):  # fmt: skip
        params = {"alpha": 0.5, "max_iter": 3} if method == "itermax-3" else {}
        offsets, src, tgt = words.links(method.removesuffix("-3"), **params)
        for b, wm in enumerate(wms):
            want = sorted(
                (c, int(wm.tgt_words[r])) for r, c in _reference(method, wm.weights.tolist())
            )
            cut = slice(offsets[b], offsets[b + 1])
            assert _pairs(src[cut], tgt[cut]) == want, (method, b)
            one = word_links(wm, method.removesuffix("-3"), **params)
            assert _pairs(*one) == want


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        arrays(
            np.float64, st.tuples(st.integers(0, 5), st.integers(0, 5)), elements=st.floats(0, 1)
        ),
        min_size=1,
        max_size=4,
    )
)
def test_word_batch_and_word_links_equal_extract_alignment(matrices):
    wms = [word_matrix(a, offset=-1) for a in matrices]
    words = WordBatch.stack(wms)
    for method in EXTRACTORS:
        offsets, src, tgt = words.links(method)
        for b, a in enumerate(matrices):
            want = sorted(extract_alignment(a, method, offset=-1).sure)
            cut = slice(offsets[b], offsets[b + 1])
            assert _pairs(src[cut], tgt[cut]) == want, method
            assert _pairs(*word_links(wms[b], method)) == want

"""Gradient-flow summaries and the dependency graph, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attnprobe.analyses.gradflow import (
    ShortcutProfile,
    bucket_labels,
    dependency_graph,
    gradient_profile,
    gradient_ratio,
    median_estimate,
    path_length_range,
    path_lengths,
    relative_reach,
    shortcut_profile,
    shortcut_ratio,
)
from attnprobe.errors import InputError, UnknownNameError

# --------------------------------------------------------------------------- profiles


def test_profile_by_distance_two_sentences():
    g1 = [[1.0, 2.0], [6.0, 4.0]]  # d0: 1, 4   d1: 2, 6
    g2 = [[3.0]]  # d0: 3
    p = gradient_profile([g1, g2])
    assert p.keys == (0, 1)
    assert p.count == (3, 2)
    assert p.mean == pytest.approx((8 / 3, 4.0))
    assert p.median == pytest.approx((3.0, 4.0))
    assert p.mean_between(0) == pytest.approx(16 / 5)
    assert math.isnan(p.mean_between(5))


def test_profile_masks_and_offset():
    # teacher-forced [m + 1, n + 1] with m = n = 2: the EOS row and column go
    g = [[1.0, 2.0, 9.0], [6.0, 4.0, 9.0], [9.0, 9.0, 9.0]]
    masks = [{"src_mask": [True, True, False], "tgt_mask": [True, True, False]}]
    p = gradient_profile([g], masks=masks)
    assert p.mean == pytest.approx((2.5, 4.0))  # d0: 1, 4   d1: 2, 6
    # offset -1: rows 1, 2 are target words 0, 1 -> [[6, 4], [9, 9]]
    #   d0: 6, 9 -> 7.5   d1: 4, 9 -> 6.5
    p = gradient_profile([g], offset=-1, masks=masks)
    assert p.mean == pytest.approx((7.5, 6.5))
    # from the end over the kept words: last word (s=1): 4, 9; first (s=0): 6, 9
    p = gradient_profile([g], "from-end", offset=-1, masks=masks)
    assert p.keys == (0, 1) and p.mean == pytest.approx((6.5, 7.5))


def test_ratio_and_errors():
    a = gradient_profile([[[1.0, 1.0, 1.0]]])
    b = gradient_profile([[[2.0, 0.5, 0.25]]])
    # distances 1..2: a (1 + 1) / 2 = 1, b (0.5 + 0.25) / 2 = 0.375
    assert gradient_ratio(a, b, 1) == pytest.approx(1 / 0.375)
    assert gradient_ratio(a, b, 2, 2) == pytest.approx(4.0)
    with pytest.raises(InputError, match="different keys"):
        gradient_ratio(a, gradient_profile([[[1.0]]], "signed"), 0)
    with pytest.raises(UnknownNameError, match="did you mean"):
        gradient_profile([[[1.0]]], "distanse")
    with pytest.raises(InputError, match="non-negative"):
        gradient_profile([[[-1.0]]])
    with pytest.raises(InputError, match="1 masks for 2"):
        gradient_profile([[[1.0]], [[1.0]]], masks=[{}])


# --------------------------------------------------------------------------- shortcut, by hand

# 2 words x 3 words, plus an EOS row and column (9s) that the masks drop
G = [[1.0, 2.0, 3.0, 9.0], [4.0, 5.0, 6.0, 9.0], [9.0, 9.0, 9.0, 9.0]]
WORDS = {"src_mask": [True, True, True, False], "tgt_mask": [True, True, False]}


def test_relative_reach_by_path_length():
    # t + s = [[0, 1, 2], [1, 2, 3]]; buckets 0-1 | 2 | >= 3
    # near: 1, 2, 4 -> 7/3; t + s = 2: 3, 5 -> 4; t + s = 3: 6
    got = relative_reach([G], "path", buckets=(0, 2, 3), masks=[WORDS])
    assert got.shape == (1, 3)
    assert got[0].tolist() == pytest.approx([1.0, 12 / 7, 18 / 7])


def test_relative_reach_by_distance():
    # |t - s| = [[0, 1, 2], [1, 0, 1]]: d0 1, 5 -> 3; d1 2, 4, 6 -> 4; d2 3
    got = relative_reach([G], "distance", buckets=(0, 1, 2), masks=[WORDS])
    assert got.shape == (1, 3)
    assert got[0].tolist() == pytest.approx([1.0, 4 / 3, 1.0])


def test_relative_reach_missing_bucket_and_zero_near_are_nan():
    got = relative_reach([[[2.0, 1.0]], [[0.0, 1.0]]], buckets=(0, 1, 5))
    assert got[0, :2].tolist() == [1.0, 0.5]
    assert math.isnan(got[0, 2])  # a 2-word sentence never reaches t + s = 5
    assert np.isnan(got[1]).all()  # no near gradient: nothing to divide by


def test_bucket_labels():
    assert bucket_labels((0, 3, 10, 20)) == ("0-2", "3-9", "10-19", ">= 20")
    assert bucket_labels((0, 1)) == ("0", ">= 1")


def test_median_estimate_by_hand():
    e = median_estimate([5.0, 1.0, 3.0, float("nan")])
    assert (e.value, e.n) == (3.0, 3)
    assert 1.0 <= e.low <= 3.0 <= e.high <= 5.0
    # two values 1 and 3: a resample's median is 1, 2 or 3 with probability 1/4, 1/2, 1/4,
    # so the 2.5 % and 97.5 % quantiles of 1,000 resamples are 1 and 3
    e = median_estimate([1.0, 3.0])
    assert (e.value, e.low, e.high) == (2.0, 1.0, 3.0)
    empty = median_estimate([float("nan")])
    assert empty.n == 0 and math.isnan(empty.value)


def test_shortcut_profile_medians():
    # per sentence, t + s >= 1 over t + s = 0: 1/4, 2/2, 3/1 -> median 1
    mats = [[[4.0, 1.0]], [[2.0, 2.0]], [[1.0, 3.0]]]
    p = shortcut_profile(mats, buckets=(0, 1))
    assert p.values == ((1.0, 0.25), (1.0, 1.0), (1.0, 3.0))
    assert p.estimates[1].value == 1.0 and p.estimates[1].n == 3
    assert p.to_dict()["buckets"] == ["0", ">= 1"]


def test_shortcut_ratio_is_paired_and_skips_nan():
    nan = float("nan")
    a = ShortcutProfile("path", (0, 1), ((1.0, 0.3), (1.0, 0.1), (1.0, 0.5), (1.0, nan)), ())
    b = ShortcutProfile("path", (0, 1), ((1.0, 0.003), (1.0, 0.001), (1.0, 0.005), (1.0, 9.0)), ())
    near, far = shortcut_ratio(a, b)
    assert (near.value, near.low, near.high, near.n) == (1.0, 1.0, 1.0, 4)
    # the 4th sentence has no value for a; each of the other three is 100x: every
    # paired resample gives 100 (an unpaired one would not)
    assert far.n == 3
    assert (far.value, far.low, far.high) == pytest.approx((100.0, 100.0, 100.0))


def test_shortcut_errors():
    with pytest.raises(UnknownNameError, match="did you mean"):
        relative_reach([G], "pathh")
    with pytest.raises(InputError, match="increasing"):
        relative_reach([G], buckets=(0, 0, 3))
    with pytest.raises(InputError, match="non-negative"):
        relative_reach([[[1.0, -1.0]]], buckets=(0, 1))
    a = shortcut_profile([G], buckets=(0, 2))
    b = shortcut_profile([G, G], buckets=(0, 2))
    with pytest.raises(InputError, match="same sentences"):
        shortcut_ratio(a, b)


# --------------------------------------------------------------------------- graph, by hand


BAHDANAU = {"attention": "bahdanau", "bidirectional": True}
LUONG = {"attention": "luong", "bidirectional": True, "input_feeding": True}
NONE = {"attention": "none", "bidirectional": True}


def test_path_lengths_bahdanau_three_words():
    # with attention: e_s -> f_s -> c_t -> y_t = 3 everywhere
    assert path_lengths(BAHDANAU, 3, 2).tolist() == [[3, 3, 3], [3, 3, 3]]
    # without: s_0 = tanh(W b_0): e_s -> b_s ... b_0 (s + 1) -> init (+1) -> y_0 (+1);
    # each later step adds one decoder state: L = s + 3 + t
    assert path_lengths(BAHDANAU, 3, 2, attention_edges=False).tolist() == [
        [3, 4, 5],
        [4, 5, 6],
    ]


def test_path_lengths_luong_three_words():
    # with attention: e_s -> f_s -> c_t -> h~_t -> y_t = 4
    assert path_lengths(LUONG, 3, 2).tolist() == [[4, 4, 4], [4, 4, 4]]
    # without: init from f_2 and b_0: min(3 - s, s + 1) encoder hops + 1 (init)
    #   + 1 (s_0) + 1 (h~_0) + 1 (y_0); s = 0: 1 + 4 = 5, s = 1: 2 + 4 = 6, s = 2: 5
    assert path_lengths(LUONG, 3, 2, attention_edges=False).tolist() == [
        [5, 6, 5],
        [6, 7, 6],
    ]


def test_path_lengths_no_attention_three_words():
    # the attention edges do not exist: the same with and without
    # min(3 - s, s + 1) + 1 (init) + 1 (s_0) + 1 (y_0) = [4, 5, 4]
    for edges in (True, False):
        assert path_lengths(NONE, 3, 2, attention_edges=edges).tolist() == [
            [4, 5, 4],
            [5, 6, 5],
        ]
    # unidirectional: only f_2 feeds init: (3 - s) + 3 = [6, 5, 4]
    uni = {"attention": "none", "bidirectional": False}
    assert path_lengths(uni, 3, 2).tolist() == [[6, 5, 4], [7, 6, 5]]


def test_local_m_window_limits_the_shortcut():
    cfg = {**LUONG, "mode": "local-m", "window": 1}
    # step 0 sees positions 0, 1 (4 hops); position 2 reaches c_0 via b_2 -> b_1: 5
    # step 1 sees all three
    assert path_lengths(cfg, 3, 2).tolist() == [[4, 4, 5], [4, 4, 4]]


def test_graph_nodes_and_edges():
    g = dependency_graph(LUONG, 3, 2)
    # 3 e + 3 f + 3 b + init + 2 x (s, c, a, y)
    assert g.number_of_nodes() == 3 + 3 + 3 + 1 + 8
    assert g.has_edge(("a", 0), ("s", 1))  # input feeding
    assert not dependency_graph({**LUONG, "input_feeding": False}, 3, 2).has_edge(
        ("a", 0), ("s", 1)
    )
    # no path from a later output back into an earlier step
    assert not g.has_edge(("s", 1), ("s", 0))


def test_graph_reads_a_model_config():
    from attnprobe.models.reference.rnn import ModelConfig

    cfg = ModelConfig(10, 10, attention="luong", score="dot", bidirectional=False)
    # unidirectional with attention: e_s -> f_s -> c_t -> h~_t -> y_t = 4
    assert path_lengths(cfg, 3, 1).tolist() == [[4, 4, 4]]


def test_path_length_grows_without_attention():
    # longest path over all (t, s) for a sentence of n words (T = S = n)
    longest = [path_lengths(BAHDANAU, n, n, attention_edges=False).max() for n in (5, 10, 20)]
    # (n - 1) + 3 + (n - 1) = 2n + 1
    assert longest == [11, 21, 41]
    assert {path_lengths(BAHDANAU, n, n).max() for n in (5, 10, 20)} == {3}


def test_graph_errors():
    with pytest.raises(UnknownNameError):
        dependency_graph({"attention": "bahdanu"}, 2, 2)
    with pytest.raises(InputError, match="at least one"):
        dependency_graph(NONE, 0, 2)
    assert np.isinf(path_lengths(NONE, 1, 1)).sum() == 0


def test_path_length_range_by_hand():
    # distance 0: 3, 5, 7; distance 1: 4, 4, 6, 6; distance 2: 5, 5; an unreachable pair dropped
    L = [[3.0, 4.0, 5.0], [4.0, 5.0, 6.0], [5.0, 6.0, 7.0]]
    r = path_length_range(L)
    assert r == {
        "distance": [0, 1, 2],
        "min": [3.0, 4.0, 5.0],
        "median": [5.0, 5.0, 5.0],
        "max": [7.0, 6.0, 5.0],
    }
    r = path_length_range([[math.inf, 2.0]])  # 1 step x 2 words
    assert r["min"] == [None, 2.0] and r["max"] == [None, 2.0]


def test_path_length_range_without_attention_is_wide():
    # a 20-word Bahdanau model without its attention edges: at distance 0 the path
    # runs from 3 (t = s = 0) to 3 + 19 + 19 = 41 edges
    L = path_lengths(
        {"attention": "bahdanau", "bidirectional": True}, 20, 20, attention_edges=False
    )
    r = path_length_range(L)
    assert (r["min"][0], r["max"][0]) == (3.0, 41.0)

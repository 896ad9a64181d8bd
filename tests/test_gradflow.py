"""Gradient-flow summaries and the dependency graph, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attnprobe.analyses.gradflow import (
    dependency_graph,
    gradient_profile,
    gradient_ratio,
    path_lengths,
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

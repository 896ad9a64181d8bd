"""Score functions and the attention module, on tiny cases computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from attnprobe.errors import InputError, UnknownNameError
from attnprobe.models.reference.attention import (
    AdditiveScore,
    Attention,
    DotScore,
    GeneralScore,
    LocationScore,
    make_score,
)


def softmax(xs):
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


def run(attn, query, keys, lengths, step=0):
    memory = attn.prepare(torch.tensor(keys), torch.tensor(lengths))
    return attn(torch.tensor(query), memory, step=step)


def test_dot_scores_weights_and_context_by_hand():
    keys = [[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]]
    context, w = run(Attention(DotScore(2, 2)), [[1.0, 2.0]], keys, [3])
    expected = softmax([1.0, 2.0, 3.0])  # q.h_s = 1, 2, 3
    assert w[0].tolist() == pytest.approx(expected, abs=1e-6)
    assert context[0].tolist() == pytest.approx(
        [expected[0] + expected[2], expected[1] + expected[2]], abs=1e-6
    )


def test_general_is_a_weighted_dot_product():
    score = GeneralScore(2, 2)
    with torch.no_grad():
        score.W_a.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    _, w = run(Attention(score), [[1.0, 1.0]], [[[1.0, 0.0], [0.0, 1.0]]], [2])
    assert w[0].tolist() == pytest.approx(softmax([1.0, 2.0]), abs=1e-6)


def test_concat_and_additive_are_a_one_hidden_layer_net_with_vector_output():
    score = make_score("concat", 1, 1, attn_dim=1)
    assert isinstance(score, AdditiveScore) and score.v.weight.shape == (1, 1)
    with torch.no_grad():
        score.W.weight.fill_(1.0)
        score.U.weight.fill_(1.0)
        score.U.bias.fill_(-0.5)
        score.v.weight.fill_(2.0)
    _, w = run(Attention(score), [[0.5]], [[[0.0], [1.0]]], [2])
    # v tanh(W q + U h_s + b) = 2 tanh(0.5 + h_s - 0.5)
    assert w[0].tolist() == pytest.approx(softmax([2 * math.tanh(0.0), 2 * math.tanh(1.0)]))


def test_location_scores_ignore_the_keys_and_mask_past_the_end():
    score = LocationScore(1, 1, max_len=4)
    with torch.no_grad():
        score.W_a.weight.copy_(torch.tensor([[1.0], [2.0], [3.0], [4.0]]))
    keys = [[[5.0], [-5.0], [0.0]], [[0.0], [0.0], [0.0]]]
    _, w = run(Attention(score), [[1.0], [1.0]], keys, [3, 2])
    assert w[0].tolist() == pytest.approx(softmax([1.0, 2.0, 3.0]), abs=1e-6)
    assert w[1].tolist() == pytest.approx(softmax([1.0, 2.0]) + [0.0], abs=1e-6)


def test_location_refuses_sources_longer_than_its_maximum():
    with pytest.raises(InputError, match="longer than"):
        Attention(LocationScore(1, 1, max_len=2)).prepare(torch.zeros(1, 3, 1), torch.tensor([3]))


def test_local_m_window_is_centred_on_the_step_and_clamped_to_the_sentence():
    attn = Attention(DotScore(1, 1), mode="local-m", window=1)
    keys = [[[0.0]] * 5]
    _, w = run(attn, [[0.0]], keys, [5], step=0)
    assert w[0].tolist() == pytest.approx([0.5, 0.5, 0, 0, 0])
    _, w = run(attn, [[0.0]], keys, [3], step=9)  # p_t clamped to the last real position
    assert w[0].tolist() == pytest.approx([0, 0.5, 0.5, 0, 0])


def test_local_p_multiplies_the_window_softmax_by_a_gaussian():
    attn = Attention(DotScore(2, 2), mode="local-p", window=2, query_dim=2)
    with torch.no_grad():
        attn.v_p.weight.zero_()  # sigmoid(0) = 1/2: p_t = (S - 1) / 2 = 2 for S = 5
    _, w = run(attn, [[0.0, 0.0]], [[[0.0, 0.0]] * 5], [5])
    sigma = 1.0  # D / 2
    expected = [0.2 * math.exp(-((s - 2) ** 2) / (2 * sigma**2)) for s in range(5)]
    assert w[0].tolist() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("name", ["dot", "general", "concat", "location"])
def test_weights_sum_to_one_over_valid_positions_and_zero_on_padding(name):
    torch.manual_seed(0)
    attn = Attention(make_score(name, 4, 4, max_len=6))
    keys, lengths = torch.randn(3, 6, 4), torch.tensor([6, 2, 4])
    _, w = attn(torch.randn(3, 4), attn.prepare(keys, lengths))
    assert w.sum(-1).tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-6)
    for b, n in enumerate(lengths.tolist()):
        assert torch.all(w[b, n:] == 0)


def test_dot_needs_equal_sizes_and_unknown_names_suggest():
    with pytest.raises(InputError, match="equal query and key"):
        DotScore(3, 4)
    with pytest.raises(UnknownNameError, match="did you mean 'concat'"):
        make_score("conact", 2, 2)
    with pytest.raises(UnknownNameError, match="attention mode"):
        Attention(DotScore(2, 2), mode="local")


def test_replacing_the_weights_at_the_hook_point_changes_the_context():
    attn = Attention(DotScore(2, 2))
    keys = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    memory = attn.prepare(keys, torch.tensor([2]))
    handle = attn.hook_weights.register_forward_hook(
        lambda mod, inp, out: torch.tensor([[1.0, 0.0]])
    )
    try:
        context, w = attn(torch.tensor([[0.0, 5.0]]), memory)
    finally:
        handle.remove()
    assert w.tolist() == [[1.0, 0.0]] and context.tolist() == [[1.0, 0.0]]

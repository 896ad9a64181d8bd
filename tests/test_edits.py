"""Attention edits on hand-made tensors."""

from __future__ import annotations

import pytest
import torch

from attnprobe.capturing.edits import EditInfo, identity, permute, replace, uniform, zero_topk
from attnprobe.errors import InputError, UnknownNameError

# two sentences, 2 heads, one step; the second sentence has 2 real positions of 4
W = torch.tensor(
    [
        [[[0.1, 0.2, 0.3, 0.4]], [[0.4, 0.3, 0.2, 0.1]]],
        [[[0.75, 0.25, 0.0, 0.0]], [[0.5, 0.5, 0.0, 0.0]]],
    ]
)
MASK = torch.tensor([[True] * 4, [True, True, False, False]])
INFO = EditInfo("attn", step=2, rows=slice(2, 3), mask=MASK)


def test_identity_returns_the_same_object():
    assert identity()(W, INFO) is W


def test_uniform_over_real_positions_and_over_the_support():
    out = uniform()(W, INFO)
    assert out[0].flatten().tolist() == [0.25] * 8
    assert out[1].flatten().tolist() == [0.5, 0.5, 0.0, 0.0] * 2
    window = torch.tensor([[[[0.0, 0.6, 0.4, 0.0]]]])
    info = EditInfo("a", 0, slice(0, 1), torch.ones(1, 4, dtype=torch.bool))
    assert uniform("nonzero")(window, info).flatten().tolist() == [0.0, 0.5, 0.5, 0.0]
    with pytest.raises(UnknownNameError, match="did you mean 'source'"):
        uniform("sources")


def test_zero_topk_renormalises_to_the_row_mass():
    out = zero_topk(2)(W, INFO)
    # row [0.1, 0.2, 0.3, 0.4]: keep 0.1 and 0.2 -> 1/3, 2/3
    torch.testing.assert_close(out[0, 0, 0], torch.tensor([1 / 3, 2 / 3, 0.0, 0.0]))
    assert out[1, 0, 0].tolist() == [0.0, 0.0, 0.0, 0.0]  # nothing left: zeros, no NaN
    local_p = torch.tensor([[[[0.4, 0.2, 0.2]]]])  # sums to 0.8
    info = EditInfo("a", 0, slice(0, 1), torch.ones(1, 3, dtype=torch.bool))
    torch.testing.assert_close(zero_topk(1)(local_p, info), torch.tensor([[[[0.0, 0.4, 0.4]]]]))
    with pytest.raises(InputError):
        zero_topk(0)


def test_permute_moves_weights_only_among_real_positions_and_is_seeded():
    a, b = permute(seed=3)(W, INFO), permute(seed=3)(W, INFO)
    assert torch.equal(a, b)
    for i in range(2):
        n = int(MASK[i].sum())
        for h in range(2):
            assert sorted(a[i, h, 0, :n].tolist()) == sorted(W[i, h, 0, :n].tolist())
            assert a[i, h, 0, n:].tolist() == W[i, h, 0, n:].tolist()
    # same permutation for every head of a sentence
    order = [W[0, 0, 0].tolist().index(x) for x in a[0, 0, 0].tolist()]
    assert a[0, 1, 0].tolist() == [W[0, 1, 0, j].item() for j in order]


def test_replace_takes_the_rows_of_the_call():
    m = torch.arange(2 * 4 * 4, dtype=torch.float32).view(2, 4, 4)  # [B, T, S]
    out = replace(m)(W, INFO)
    assert out.shape == W.shape
    assert out[1, 1, 0].tolist() == m[1, 2].tolist()
    with pytest.raises(InputError, match="rows 2..2"):
        replace(torch.zeros(2, 2, 4))(W, INFO)
    with pytest.raises(InputError):
        replace([[1.0]])

"""Reference encoder-decoders: shapes, masks, padding invariance, decoding, hook points."""

from __future__ import annotations

import pytest
import torch

from attnprobe.data import BOS_ID
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.models.reference.rnn import ARCHS, ModelConfig, arch_fields, build_model

SMALL = {"src_vocab": 11, "tgt_vocab": 13, "emb_dim": 6, "enc_dim": 4, "hidden_dim": 8}
VARIANTS = {
    **{name: {} for name in ARCHS},
    "luong-general-lstm-2layers": {**ARCHS["luong-general"], "cell": "lstm", "layers": 2},
    "bahdanau-lstm": {"cell": "lstm"},
    "luong-dot-no-feeding": {**ARCHS["luong-dot"], "input_feeding": False},
    "none-unidirectional": {**ARCHS["none"], "bidirectional": False},
}


def model_for(name: str, seed: int = 0):
    fields = dict(ARCHS[name]) if name in ARCHS else dict(VARIANTS[name])
    if fields.get("score") == "dot" and not fields.get("bidirectional", True):
        fields["enc_dim"] = SMALL["hidden_dim"]
    return build_model(ModelConfig(**SMALL, max_src_len=12, **fields), seed=seed).eval()


def batch():
    """Three sentences of different lengths (source EOS included), padded."""
    src = torch.tensor([[4, 5, 6, 7, 3], [8, 3, 0, 0, 0], [9, 4, 3, 0, 0]])
    lens = torch.tensor([5, 2, 3])
    tgt_in = torch.tensor([[BOS_ID, 5, 6, 7], [BOS_ID, 8, 0, 0], [BOS_ID, 9, 10, 0]])
    return src, lens, tgt_in, torch.tensor([4, 2, 3])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_shapes_and_attention_rows_sum_to_one_on_valid_positions(name):
    model = model_for(name)
    src, lens, tgt_in, _ = batch()
    out = model(src, lens, tgt_in)
    assert out.logits.shape == (3, 4, 13)
    if model.cfg.attention == "none":
        assert out.attention is None
        return
    assert out.attention.shape == (3, 4, 5)
    for b, n in enumerate(lens.tolist()):
        assert torch.all(out.attention[b, :, n:] == 0), "attention leaked to padding"
        if model.cfg.mode != "local-p":  # local-p is windowed softmax x Gaussian (<= 1)
            assert out.attention[b].sum(-1).tolist() == pytest.approx([1.0] * 4, abs=1e-6)
        else:
            assert torch.all(out.attention[b].sum(-1) <= 1 + 1e-6)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_batched_equals_one_by_one(name):
    model = model_for(name)
    src, lens, tgt_in, tgt_lens = batch()
    out = model(src, lens, tgt_in)
    for b in range(3):
        S, T = int(lens[b]), int(tgt_lens[b])
        one = model(src[b : b + 1, :S], lens[b : b + 1], tgt_in[b : b + 1, :T])
        torch.testing.assert_close(out.logits[b, :T], one.logits[0], atol=1e-6, rtol=0)
        if one.attention is not None:
            torch.testing.assert_close(
                out.attention[b, :T, :S], one.attention[0], atol=1e-6, rtol=0
            )


@pytest.mark.parametrize("name", ["bahdanau", "luong-general", "luong-location", "none"])
def test_greedy_equals_beam_of_one_and_returns_attention_per_step(name):
    model = model_for(name, seed=3)
    src, lens, _, _ = batch()
    greedy = model.greedy(src, lens, max_len=6)
    beam = model.beam(src, lens, beam_size=1, max_len=6)
    for b, (g, k) in enumerate(zip(greedy, beam, strict=True)):
        assert g.tokens == k.tokens
        assert g.score == pytest.approx(k.score, abs=1e-5)
        if model.cfg.attention != "none":
            S = int(lens[b])
            assert g.attention.shape[1] == S
            torch.testing.assert_close(g.attention, k.attention, atol=1e-6, rtol=0)


def test_greedy_attention_rows_match_teacher_forcing_on_the_greedy_output():
    model = model_for("bahdanau", seed=1)
    src, lens = torch.tensor([[4, 5, 3]]), torch.tensor([3])
    hyp = model.greedy(src, lens, max_len=5)[0]
    tgt_in = torch.tensor([[BOS_ID, *hyp.tokens]])
    forced = model(src, lens, tgt_in).attention[0]
    rows = hyp.attention.shape[0]  # T = n + 1 with EOS, n when max_len cut it
    torch.testing.assert_close(hyp.attention, forced[:rows], atol=1e-6, rtol=0)


def test_editing_attention_weights_changes_the_output():
    model = model_for("luong-general")
    src, lens, tgt_in, _ = batch()
    plain = model(src, lens, tgt_in).logits

    def uniform(module, inputs, weights):
        valid = (weights > 0).float()
        return valid / valid.sum(-1, keepdim=True)

    handle = model.decoder.attention.hook_weights.register_forward_hook(uniform)
    try:
        edited = model(src, lens, tgt_in).logits
    finally:
        handle.remove()
    assert (plain - edited).abs().max() > 1e-4


def test_dot_attention_parameters_are_none_and_configs_validate():
    dot = model_for("luong-dot")
    assert sum(p.numel() for p in dot.decoder.attention.parameters()) == 0
    assert arch_fields("luong-concat")["score"] == "concat"
    with pytest.raises(UnknownNameError, match="did you mean 'bahdanau'"):
        arch_fields("bahdanu")
    with pytest.raises(InputError, match="global and additive"):
        ModelConfig(**SMALL, attention="bahdanau", score="dot")
    with pytest.raises(InputError, match="max_src_len"):
        build_model(ModelConfig(**SMALL, attention="luong", score="location"))

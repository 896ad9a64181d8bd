"""capture(): oracles (captured == what the model returns), gradients, edits, cleanup, misuse."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from attention_zoo import (
    AttentionLayer,
    AttnDecoderRNN,
    FusedAttention,
    GlobalAttention,
    TwoSoftmaxes,
)
from torch import nn

import attnprobe
from attnprobe.capturing import edits
from attnprobe.capturing.sites import Site
from attnprobe.data import BOS_ID, ParallelCorpus, Vocab
from attnprobe.errors import SiteError, UnknownNameError
from attnprobe.models.reference.rnn import ARCHS, ModelConfig, build_model
from attnprobe.models.reference.train import TrainConfig, train

SMALL = {"src_vocab": 11, "tgt_vocab": 13, "emb_dim": 6, "enc_dim": 4, "hidden_dim": 8}
ATTENTIVE = sorted(a for a in ARCHS if a != "none")


def model_for(name: str, seed: int = 0, dtype=torch.float32):
    fields = dict(ARCHS[name])
    return build_model(ModelConfig(**SMALL, max_src_len=12, **fields), seed=seed).to(dtype).eval()


def batch():
    """Three sentences of different lengths (source EOS included), padded."""
    src = torch.tensor([[4, 5, 6, 7, 3], [8, 3, 0, 0, 0], [9, 4, 3, 0, 0]])
    lens = torch.tensor([5, 2, 3])
    tgt_in = torch.tensor([[BOS_ID, 5, 6, 7], [BOS_ID, 8, 0, 0], [BOS_ID, 9, 10, 0]])
    return src, lens, tgt_in


def hooks_left(model: nn.Module) -> bool:
    return any(
        m._forward_hooks
        or m._forward_pre_hooks
        or m._backward_hooks
        or m._backward_pre_hooks
        or "forward" in vars(m)  # a read from inside the forward, left in place
        for m in model.modules()
    )


class Nudge(nn.Module):
    """Test-only stand-in for an identity hook point: adds ``eps`` at (call ``t``, index ``s``)."""

    def __init__(self, t: int, s, eps: float):
        super().__init__()
        self.t, self.s, self.eps, self.calls = t, s, eps, 0

    def forward(self, x):
        if self.calls == self.t:
            x = x.clone()
            x[(slice(None), *self.s)] += self.eps
        self.calls += 1
        return x


class UniformPoint(nn.Module):
    """Test-only stand-in for hook_weights: uniform weights over the first ``lens`` positions."""

    def __init__(self, lens):
        super().__init__()
        self.lens = lens

    def forward(self, w):
        mask = (torch.arange(w.shape[-1])[None, :] < self.lens[:, None]).to(w.dtype)
        return mask / mask.sum(-1, keepdim=True)


# --------------------------------------------------------------------- reference models


@pytest.mark.parametrize("name", ATTENTIVE)
def test_reference_models_captured_weights_equal_returned_weights(name):
    model = model_for(name)
    src, lens, tgt_in = batch()
    with attnprobe.capture(model) as cap:
        out = model(src, lens, tgt_in)
    w = cap.trace.attention["decoder.attention"]
    assert w.shape == (3, 1, 4, 5)
    assert (w[:, 0] - out.attention).abs().max().item() <= 1e-7
    assert cap.trace.src_lens.tolist() == [5, 2, 3] and cap.trace.tgt_lens.tolist() == [4, 2, 3]


@pytest.mark.parametrize("name", ["bahdanau", "luong-general-local-p", "luong-location"])
def test_batched_capture_equals_one_by_one(name):
    model = model_for(name)
    src, lens, tgt_in = batch()
    with attnprobe.capture(model) as cap:
        model(src, lens, tgt_in)
    batched = cap.trace
    for i in range(3):
        S, T = int(lens[i]), int((tgt_in[i] != 0).sum())
        with attnprobe.capture(model) as one:
            model(src[i : i + 1, :S], lens[i : i + 1], tgt_in[i : i + 1, :T])
        alone = one.trace.example(0).matrix()
        assert alone.shape == (T, S)
        torch.testing.assert_close(batched.example(i).matrix(), alone, atol=1e-6, rtol=0)


def test_capture_reads_tokens_from_the_model_vocabularies():
    model = model_for("bahdanau")
    model.src_vocab = Vocab([*Vocab.build([]).tokens, *"abcdefg"])
    model.tgt_vocab = Vocab([*Vocab.build([]).tokens, *"nopqrstuv"])
    src, lens, tgt_in = batch()
    with attnprobe.capture(model) as cap:
        model(src, lens, tgt_in)
    ex = cap.trace.example(1)
    assert ex.src_tokens == ("e", "</s>") and ex.tgt_tokens == ("<s>", "r")
    assert ex.matrix().shape == (2, 2)


def test_greedy_decoding_loop_is_captured_per_step():
    model = model_for("luong-dot")
    src, lens, _ = batch()
    with attnprobe.capture(model, src_lens=lens, tgt_lens=[6, 6, 6]) as cap:
        hyps = model.greedy(src, lens, max_len=6)
    w = cap.trace.attention["decoder.attention"][:, 0]  # [B, steps, S]
    for b, hyp in enumerate(hyps):
        rows = hyp.attention.shape[0]
        assert (w[b, :rows, : int(lens[b])] - hyp.attention).abs().max().item() <= 1e-7


def test_softmax_site_reads_and_edits_like_the_hook_point():
    model = model_for("bahdanau")
    src, lens, tgt_in = batch()
    soft = Site("decoder.attention", read="softmax", name="soft")
    with attnprobe.capture(model, sites=[soft]) as cap:
        out = model(src, lens, tgt_in)
    assert (cap.trace.attention["soft"][:, 0] - out.attention).abs().max().item() <= 1e-7
    with attnprobe.capture(model, sites=[soft], edits={"soft": edits.uniform()}):
        by_mode = model(src, lens, tgt_in).logits
    with attnprobe.capture(model, edits={"decoder.attention": edits.uniform()}):
        by_hook = model(src, lens, tgt_in).logits
    assert torch.equal(by_mode, by_hook)


# --------------------------------------------------------------------------- gradients


def _loss(model, src, lens, tgt_in, tgt_out):
    logits = model(src, lens, tgt_in).logits
    return F.cross_entropy(logits.transpose(1, 2), tgt_out, ignore_index=0, reduction="sum")


@pytest.mark.parametrize("name", ["bahdanau", "luong-general"])
def test_weight_gradients_agree_with_finite_differences(name):
    torch.manual_seed(0)
    model = model_for(name, dtype=torch.float64)
    src, lens, tgt_in = batch()
    tgt_out = torch.cat([tgt_in[:, 1:], torch.full((3, 1), 3)], 1).masked_fill(tgt_in == 0, 0)
    with attnprobe.capture(model, grads=True, states=True, state_grads=True) as cap:
        _loss(model, src, lens, tgt_in, tgt_out).backward()
    g = cap.trace.grads["decoder.attention"][:, 0]  # [B, T, S]
    attn = model.decoder.attention
    eps = 1e-6
    for t, b, s in [(0, 0, 0), (1, 0, 3), (2, 2, 1), (3, 0, 4)]:
        diffs = []
        for sign in (1, -1):
            nudge = Nudge(t, (s,), sign * eps)
            attn.hook_weights = nudge
            with torch.no_grad():
                logits = model(src, lens, tgt_in).logits
            nll = F.cross_entropy(
                logits[b].unsqueeze(0).transpose(1, 2),
                tgt_out[b : b + 1],
                ignore_index=0,
                reduction="sum",
            )
            diffs.append(nll.item())
        attn.hook_weights = attnprobe.models.reference.attention.HookPoint()
        assert g[b, t, s].item() == pytest.approx(
            (diffs[0] - diffs[1]) / (2 * eps), rel=1e-5, abs=1e-8
        )
    # encoder states: one entry through the same kind of nudge on encoder.hook_states
    diffs = []
    for sign in (1, -1):
        model.encoder.hook_states = Nudge(0, (1, 2), sign * eps)
        with torch.no_grad():
            diffs.append(_loss(model, src, lens, tgt_in, tgt_out).item())
    model.encoder.hook_states = attnprobe.models.reference.attention.HookPoint()
    expected = (diffs[0] - diffs[1]) / (2 * eps)
    assert cap.trace.state_grads[:, 1, 2].sum().item() == pytest.approx(expected, rel=1e-5)
    assert cap.trace.states.shape == (3, 5, 8)


def test_grads_need_a_backward_and_autograd():
    model = model_for("bahdanau")
    src, lens, tgt_in = batch()
    with (
        pytest.raises(SiteError, match="none reached it"),
        attnprobe.capture(model, grads=True),
    ):
        model(src, lens, tgt_in)
    cap2 = attnprobe.capture(model, grads=True)
    with pytest.raises(SiteError, match="no_grad"), cap2, torch.no_grad():
        model(src, lens, tgt_in)
    assert not hooks_left(model)


# ------------------------------------------------------------------------------- edits


def test_identity_edit_changes_nothing_bitwise():
    model = model_for("luong-concat")
    src, lens, tgt_in = batch()
    plain = model(src, lens, tgt_in).logits
    for edit in (edits.identity(), lambda w, info: w):
        with attnprobe.capture(model, edits={"decoder.attention": edit}):
            edited = model(src, lens, tgt_in).logits
        assert torch.equal(plain, edited)


def test_uniform_edit_equals_a_model_with_uniform_attention_built_by_hand():
    model = model_for("bahdanau", dtype=torch.float64)
    src, lens, tgt_in = batch()
    plain = model(src, lens, tgt_in).logits
    with attnprobe.capture(model, edits={"decoder.attention": edits.uniform()}) as cap:
        edited = model(src, lens, tgt_in).logits
    model.decoder.attention.hook_weights = UniformPoint(lens)
    by_hand = model(src, lens, tgt_in).logits
    assert (edited - by_hand).abs().max().item() <= 1e-7
    assert (edited - plain).abs().max().item() > 1e-3
    assert cap.trace.example(1).matrix().tolist() == [[0.5, 0.5], [0.5, 0.5]]
    assert cap.trace.meta["edits"] == {"decoder.attention": "uniform(source)"}


def test_replace_edit_puts_the_given_matrix_in_the_trace():
    model = model_for("luong-dot")
    src, lens, tgt_in = batch()
    target = torch.zeros(3, 4, 5)
    target[:, :, 0] = 1.0  # every step attends to the first word
    with attnprobe.capture(model, edits={"decoder.attention": edits.replace(target)}) as cap:
        model(src, lens, tgt_in)
    assert torch.equal(cap.trace.attention["decoder.attention"][:, 0], target)


REVERSE = [["a", "b", "c", "d", "e"][i : i + n] for n in (2, 3, 4) for i in range(5 - n + 1)]


@pytest.fixture(scope="module")
def trained():
    """A Luong model trained to reverse short sequences (needs its attention)."""
    data = ParallelCorpus(REVERSE * 8, [list(reversed(s)) for s in REVERSE] * 8)
    cfg = ModelConfig(
        src_vocab=5,
        tgt_vocab=5,
        attention="luong",
        score="general",
        emb_dim=16,
        enc_dim=16,
        hidden_dim=32,
    )
    result = train(
        cfg,
        data,
        data,
        TrainConfig(lr=0.01, max_steps=150, eval_every=50, batch_size=16),
        progress=False,
    )
    return result.model, data


def _kl(p_logits, q_logits):
    p = torch.log_softmax(p_logits, -1)
    return (p.exp() * (p - torch.log_softmax(q_logits, -1))).sum(-1)


def test_uniform_attention_changes_a_trained_models_predictions(trained):
    from attnprobe.data import make_batch

    model, data = trained
    b = make_batch(data.src[:9], data.tgt[:9], model.src_vocab, model.tgt_vocab)
    plain = model(b.src, b.src_lens, b.tgt_in).logits
    with attnprobe.capture(model, edits={"decoder.attention": edits.uniform()}):
        uniform = model(b.src, b.src_lens, b.tgt_in).logits
    real = b.tgt_out != 0
    assert (plain.argmax(-1) == b.tgt_out)[real].float().mean() == 1.0
    assert (uniform.argmax(-1) == b.tgt_out)[real].float().mean() < 0.9
    assert _kl(plain, uniform)[real].mean() > 0.1


def test_uniform_attention_on_a_fixture_model():
    from conftest import FIXTURES

    path = FIXTURES / "models" / "enfr-bahdanau.pt"
    if not path.is_file():
        pytest.skip(f"fixture model {path} not built yet (make fixtures)")
    from attnprobe.data import make_batch

    model = attnprobe.load(path)
    src = [["the", "cat", "sees", "the", "dog"], ["a", "small", "cow", "runs"]]
    b = make_batch(src, [["le"], ["une"]], model.src_vocab, model.tgt_vocab)
    plain = model(b.src, b.src_lens, b.tgt_in).logits
    with attnprobe.capture(model, edits={"decoder.attention": edits.uniform()}):
        uniform = model(b.src, b.src_lens, b.tgt_in).logits
    assert _kl(plain, uniform).mean() > 1e-3


# -------------------------------------------------------------------- other people's code


def test_tutorial_decoder_in_the_users_own_loop():
    torch.manual_seed(0)
    H, V, L = 8, 10, 6
    decoder = AttnDecoderRNN(H, V, max_length=L).train()  # dropout on: capture turns it off
    encoder_outputs, hidden = torch.randn(L, H), torch.zeros(1, 1, H)
    with attnprobe.capture(decoder) as cap:
        assert not decoder.training
        returned, token = [], torch.tensor([[BOS_ID]])
        for _ in range(4):
            out, hidden, w = decoder(token, hidden, encoder_outputs)
            returned.append(w)
            token = out.argmax(-1, keepdim=True)
    assert decoder.training
    w = cap.trace.attention[cap.trace.keys[0]]
    assert w.shape == (1, 1, 4, L)
    assert (w[0, 0] - torch.cat(returned)).abs().max().item() <= 1e-7


def test_tutorial_decoder_softmax_site_takes_edits_and_gradients():
    torch.manual_seed(0)
    decoder = AttnDecoderRNN(8, 10, max_length=5, dropout_p=0.0)
    enc, h0 = torch.randn(5, 8), torch.zeros(1, 1, 8)
    site = Site("", read="softmax", name="attn")
    plain, _, _ = decoder(torch.tensor([[2]]), h0, enc)
    with attnprobe.capture(
        decoder, sites=[site], edits={"attn": edits.uniform()}, grads=True
    ) as cap:
        out, _, w = decoder(torch.tensor([[2]]), h0, enc)
        out[0, 3].backward()
    assert torch.allclose(w, torch.full((1, 5), 0.2)) and not torch.allclose(out, plain)
    assert cap.trace.grads["attn"].shape == (1, 1, 1, 5)
    assert not w._backward_hooks  # the tensor hook went with the capture


def test_fairseq_and_opennmt_style_modules_per_step():
    torch.manual_seed(0)
    B, S, D = 2, 4, 6
    fair, onmt = AttentionLayer(D), GlobalAttention(D)
    model = nn.ModuleDict({"fair": fair, "onmt": onmt})
    hids = torch.randn(S, B, D)
    pad = torch.tensor([[False, False], [False, False], [False, True], [False, True]])  # [S, B]
    lens = torch.tensor([4, 2])
    with attnprobe.capture(model, src_lens=lens, tgt_lens=[3, 3]) as cap:
        x, fair_rows, onmt_rows = torch.randn(B, D), [], []
        for _ in range(3):
            x, a = fair(x, hids, pad)
            fair_rows.append(a.t())  # [B, S]
            x, b = onmt(x, hids.transpose(0, 1), lens)
            onmt_rows.append(b)
    t = cap.trace
    assert t.keys == ["fair", "onmt"]
    assert (t.attention["fair"][:, 0] - torch.stack(fair_rows, 1)).abs().max() <= 1e-7
    assert (t.attention["onmt"][:, 0] - torch.stack(onmt_rows, 1)).abs().max() <= 1e-7
    assert t.example(1).matrix("fair").shape == (3, 2)


# --------------------------------------------------------------------------- nn.Transformer


def _transformer(batch_first=True):
    torch.manual_seed(0)
    return nn.Transformer(
        d_model=8,
        nhead=2,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=16,
        dropout=0.1,
        batch_first=batch_first,
    ).double()


def _cross_by_hand(model, src, tgt, tgt_mask, kpm, layer_index, weights=None):
    """Run the decoder by hand; return the cross weights of one layer, and the output.

    With ``weights`` (a [B, H, T, S] tensor), layer ``layer_index`` uses them instead.
    """
    memory = model.encoder(src, src_key_padding_mask=kpm)
    x, found = tgt, None
    for i, layer in enumerate(model.decoder.layers):
        x = layer.norm1(x + layer.self_attn(x, x, x, attn_mask=tgt_mask, need_weights=False)[0])
        ctx, w = layer.multihead_attn(
            x, memory, memory, key_padding_mask=kpm, average_attn_weights=False
        )
        if i == layer_index:
            found = w
            if weights is not None:
                ctx = _mha_by_hand(layer.multihead_attn, memory, weights)
        x = layer.norm2(x + ctx)
        x = layer.norm3(x + layer.linear2(F.relu(layer.linear1(x))))
    return found, model.decoder.norm(x)


def _mha_by_hand(mha, value, weights):
    E, H = mha.embed_dim, mha.num_heads
    v = value @ mha.in_proj_weight[2 * E :].t() + mha.in_proj_bias[2 * E :]  # [B, S, E]
    B, S, _ = v.shape
    heads = v.view(B, S, H, E // H).permute(0, 2, 1, 3)  # [B, H, S, E/H]
    ctx = (weights @ heads).permute(0, 2, 1, 3).reshape(B, -1, E)
    return mha.out_proj(ctx)


def _transformer_batch():
    torch.manual_seed(1)
    src, tgt = torch.randn(2, 5, 8, dtype=torch.float64), torch.randn(2, 4, 8, dtype=torch.float64)
    kpm = torch.tensor([[False] * 5, [False, False, False, True, True]])  # second: 3 words
    return src, tgt, nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64), kpm


def test_transformer_cross_attention_equals_the_weights_it_computes():
    model = _transformer().eval()
    src, tgt, tgt_mask, kpm = _transformer_batch()
    plain = model(
        src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=kpm, memory_key_padding_mask=kpm
    )
    model.train()
    with attnprobe.capture(model, src_lens=[5, 3], tgt_lens=[4, 4]) as cap:
        out = model(
            src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=kpm, memory_key_padding_mask=kpm
        )
    assert model.training  # restored
    model.eval()
    torch.testing.assert_close(out, plain, atol=1e-10, rtol=0)
    roles = {s.key: s.role for s in cap.trace.sites}
    assert roles["decoder.layers.1.multihead_attn"] == "cross"
    assert roles["decoder.layers.0.self_attn"] == "decoder-self"
    assert roles["encoder.layers.0.self_attn"] == "encoder-self"
    for i in range(2):
        expected, _ = _cross_by_hand(model, src, tgt, tgt_mask, kpm, i)
        got = cap.trace.attention[f"decoder.layers.{i}.multihead_attn"]
        assert got.shape == (2, 2, 4, 5)
        assert (got - expected).abs().max().item() <= 1e-7
    assert cap.trace.example(1).matrix("decoder.layers.0.multihead_attn", head=1).shape == (4, 3)
    assert cap.trace.example(1).attention["decoder.layers.0.self_attn"].shape == (2, 4, 4)


def test_transformer_sequence_first_layout():
    model = _transformer(batch_first=False).eval()
    src, tgt, tgt_mask, _ = _transformer_batch()
    site = "decoder.layers.0.multihead_attn"
    with attnprobe.capture(model, sites=[site]) as cap:
        model(src.transpose(0, 1), tgt.transpose(0, 1), tgt_mask=tgt_mask)
    memory = model.encoder(src.transpose(0, 1))
    layer = model.decoder.layers[0]
    x = tgt.transpose(0, 1)
    x = layer.norm1(x + layer.self_attn(x, x, x, attn_mask=tgt_mask)[0])
    _, expected = layer.multihead_attn(x, memory, memory, average_attn_weights=False)
    assert (cap.trace.attention[site] - expected).abs().max().item() <= 1e-7


def test_transformer_cross_attention_edit_and_gradient_match_a_hand_computation():
    model = _transformer().eval()
    src, tgt, tgt_mask, kpm = _transformer_batch()
    site = "decoder.layers.0.multihead_attn"
    uniform = torch.zeros(2, 2, 4, 5, dtype=torch.float64)
    uniform[0] = 1 / 5
    uniform[1, :, :, :3] = 1 / 3
    with attnprobe.capture(
        model, sites=[site], edits={site: edits.uniform()}, src_lens=[5, 3], tgt_lens=[4, 4]
    ) as cap:
        out = model(
            src, tgt, tgt_mask=tgt_mask, memory_key_padding_mask=kpm, src_key_padding_mask=kpm
        )
    assert (cap.trace.attention[site] - uniform).abs().max().item() <= 1e-12
    _, by_hand = _cross_by_hand(model, src, tgt, tgt_mask, kpm, 0, weights=uniform)
    assert (out - by_hand).abs().max().item() <= 1e-7
    # gradient of a loss with respect to the (unedited) weights, against autograd by hand
    with attnprobe.capture(model, sites=[site], grads=True) as cap:
        out = model(
            src, tgt, tgt_mask=tgt_mask, memory_key_padding_mask=kpm, src_key_padding_mask=kpm
        )
        out.square().sum().backward()
    w, _ = _cross_by_hand(model, src, tgt, tgt_mask, kpm, 0)
    w = w.detach().requires_grad_()
    _, out2 = _cross_by_hand(model, src, tgt, tgt_mask, kpm, 0, weights=w)
    out2.square().sum().backward()
    assert (cap.trace.grads[site] - w.grad).abs().max().item() <= 1e-7


def test_encoder_fast_path_is_switched_off_while_capturing():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True).eval()
    enc = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False).eval()
    x = torch.randn(2, 3, 8)
    site = "layers.0.self_attn"  # named: zero-config capture wants a cross-attention
    with torch.no_grad(), attnprobe.capture(enc, sites=[site]) as cap:  # the fused path
        enc(x)
    assert cap.trace.attention["layers.0.self_attn"].shape == (2, 2, 3, 3)
    assert torch.backends.mha.get_fastpath_enabled()


# ------------------------------------------------------------------ cleanup on exceptions


class Boom(Exception):
    pass


class BoomAt(nn.Module):
    """Identity that raises on its ``n``-th call (a failure mid-forward)."""

    def __init__(self, n):
        super().__init__()
        self.n, self.calls = n, 0

    def forward(self, x):
        self.calls += 1
        if self.calls == self.n:
            raise Boom("mid-forward")
        return x


class BoomBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        raise Boom("mid-backward")


@pytest.mark.parametrize("read", ["output", "softmax"])
def test_exception_mid_forward_removes_every_hook_and_restores_state(read):
    model = model_for("bahdanau").train()
    model.encoder.eval()  # a mixed state must come back as it was
    model.decoder.attention.score.v = nn.Sequential(model.decoder.attention.score.v, BoomAt(3))
    path = "decoder.attention" + (".hook_weights" if read == "output" else "")
    site = Site(path, read=read, name="a")
    src, lens, tgt_in = batch()
    with pytest.raises(Boom), attnprobe.capture(model, sites=[site], grads=True, states=True):
        model(src, lens, tgt_in)
    assert not hooks_left(model) and torch._C._len_torch_function_stack() == 0
    assert model.training and model.decoder.training and not model.encoder.training


def test_a_site_read_from_inside_its_forward_sees_what_a_hook_would():
    # a module nothing else hooks is read from inside its forward; one with a hook of the
    # caller's gets a registered hook after it, which sees the caller's replacement
    model = model_for("bahdanau")
    src, lens, tgt_in = batch()
    point = model.decoder.attention.hook_weights
    with attnprobe.capture(model) as cap:
        assert "forward" in vars(point) and not point._forward_hooks
        out = model(src, lens, tgt_in)
    assert not hooks_left(model)
    assert torch.equal(cap.trace.weights()[:, 0], out.attention)
    handle = point.register_forward_hook(lambda m, a, o: o * 0.5)
    try:
        with attnprobe.capture(model) as cap:
            assert "forward" not in vars(point) and len(point._forward_hooks) == 2
            halved = model(src, lens, tgt_in)
    finally:
        handle.remove()
    assert torch.equal(cap.trace.attention["decoder.attention"][:, 0], halved.attention)
    assert torch.allclose(halved.attention.sum(-1), torch.full_like(halved.attention[..., 0], 0.5))


def test_exception_mid_backward_removes_every_hook():
    decoder = AttnDecoderRNN(8, 10, max_length=5, dropout_p=0.0)
    enc, h0 = torch.randn(5, 8), torch.zeros(1, 1, 8)
    with pytest.raises(Boom), attnprobe.capture(decoder, grads=True):
        out, _, w = decoder(torch.tensor([[2]]), h0, enc)
        BoomBackward.apply(out).sum().backward()
    assert not hooks_left(decoder) and not w._backward_hooks


def test_exception_in_an_edit_removes_every_hook():
    model = model_for("bahdanau")

    def broken(w, info):
        raise Boom("edit")

    with pytest.raises(Boom), attnprobe.capture(model, edits={"decoder.attention": broken}):
        model(*batch())
    assert not hooks_left(model)


# ------------------------------------------------------------------------------ misuse


def test_unknown_site_path_suggests_the_right_one():
    model = model_for("bahdanau")
    with pytest.raises(UnknownNameError, match="did you mean 'decoder.attention'"):
        attnprobe.capture(model, sites=["decoder.atention"]).__enter__()
    assert not hooks_left(model)


def test_site_whose_output_has_no_weights():
    model = model_for("bahdanau")
    logits_site = Site("decoder.out", read="output")
    with (
        pytest.raises(SiteError, match="not attention weights"),
        attnprobe.capture(model, sites=[logits_site]),
    ):
        model(*batch())
    index_site = Site("decoder.out", read=1)
    with (
        pytest.raises(SiteError, match="read=1 indexes"),
        attnprobe.capture(model, sites=[index_site]),
    ):
        model(*batch())
    with pytest.raises(SiteError, match="not a known attention module"):
        attnprobe.capture(model, sites=["decoder.out"]).__enter__()
    assert not hooks_left(model)


def test_fused_attention_is_refused_clearly():
    model = nn.ModuleDict({"attn": FusedAttention()})
    q = torch.randn(1, 3, 4)
    site = Site("attn", read="softmax", pattern="full")
    with pytest.raises(SiteError, match="fused kernel"), attnprobe.capture(model, sites=[site]):
        model["attn"](q, q, q)


def test_module_never_called_is_an_error():
    model = model_for("bahdanau")
    with pytest.raises(SiteError, match="never fired"), attnprobe.capture(model):
        model.encoder(*batch()[:2])
    none = model_for("none")
    with pytest.raises(SiteError, match="no attention sites"):
        attnprobe.capture(none).__enter__()


def test_edits_on_returned_weights_are_refused():
    decoder = AttnDecoderRNN(8, 10, max_length=5)
    with pytest.raises(SiteError, match="would not change the model's output"):
        attnprobe.capture(decoder, edits={"": edits.uniform()}).__enter__()
    with pytest.raises(UnknownNameError, match="site to edit"):
        attnprobe.capture(decoder, edits={"nope": edits.uniform()}).__enter__()


def test_several_softmaxes_need_a_call_index():
    model = nn.ModuleDict({"m": TwoSoftmaxes()})
    q, k = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    with (
        pytest.raises(SiteError, match="2 softmaxes"),
        attnprobe.capture(model, sites=[Site("m", read="softmax", pattern="full")]),
    ):
        model["m"](q, k)
    site = Site("m", read="softmax", pattern="full", call=1)
    with attnprobe.capture(model, sites=[site]) as cap:
        _, weights = model["m"](q, k)
    assert (cap.trace.attention["m"][:, 0] - weights).abs().max() <= 1e-7


def test_trace_is_for_one_forward_pass_and_only_after_the_block():
    model = model_for("bahdanau")
    with attnprobe.capture(model) as cap:
        model(*batch())
        with pytest.raises(SiteError, match="with block ends"):
            cap.trace  # noqa: B018
        model(*batch())
    with pytest.raises(SiteError, match="2 forward passes"):
        cap.trace  # noqa: B018


def test_results_are_deterministic():
    model = model_for("luong-general-local-m")
    traces = []
    for _ in range(2):
        with attnprobe.capture(model) as cap:
            model(*batch())
        traces.append(cap.trace.attention["decoder.attention"])
    assert torch.equal(*traces)
    assert not math.isnan(traces[0].sum().item())


class ReturnsDict(nn.Module):
    def forward(self, q, k):  # q [B, T, D], k [B, S, D]
        weights = torch.softmax(q @ k.transpose(1, 2), -1)  # [B, T, S]
        return {"context": weights @ k, "weights": weights}


def test_weights_read_by_output_key():
    model = nn.ModuleDict({"m": ReturnsDict()})
    q, k = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    with attnprobe.capture(model, sites=[Site("m", read="weights", pattern="full")]) as cap:
        out = model["m"](q, k)
    assert torch.equal(cap.trace.attention["m"][:, 0], out["weights"])
    with (
        pytest.raises(UnknownNameError, match="did you mean 'weights'"),
        attnprobe.capture(model, sites=[Site("m", read="weight", pattern="full")]),
    ):
        model["m"](q, k)


def test_the_leftover_hook_check_sees_module_hooks():
    import conftest

    m = nn.Linear(1, 1)
    handle = m.register_forward_pre_hook(lambda *args: None)
    try:
        assert "Linear._forward_pre_hooks" in conftest._leftover_hooks()
    finally:
        handle.remove()
    assert conftest._leftover_hooks() == []


# ------------------------------------------------------------------ bookkeeping of a capture


class FixedWeights(nn.Module):
    """Returns the weights it was built with, whatever the input ([B, S] per call)."""

    def __init__(self, weights: torch.Tensor):
        super().__init__()
        self.weights = weights

    def forward(self, x):
        return self.weights[: x.shape[0]]


def test_weight_on_padded_source_positions_is_refused_by_hand():
    # sentence 0 puts all its weight on column 0, sentence 1 on column 2
    model = nn.ModuleDict({"a": FixedWeights(torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))})
    site = Site("a", pattern="per_step")
    for lens in ([1, 3], [3, 3]):  # column 2 is real for sentence 1: no weight on padding
        with attnprobe.capture(model, sites=[site], src_lens=lens) as cap:
            model["a"](torch.zeros(2))
        assert cap.trace.attention["a"][1, 0, 0].tolist() == [0.0, 0.0, 1.0]
    with attnprobe.capture(model, sites=[site], src_lens=[1, 2]) as cap:
        model["a"](torch.zeros(2))
    trace = cap.trace  # the weights are checked when first read, and on every read after
    for read in (lambda: trace.attention["a"], trace.weights, lambda: trace.example(1)):
        with pytest.raises(SiteError, match="puts weight 1 outside the given lengths"):
            read()


def test_per_step_calls_of_different_batch_sizes_are_refused():
    model = nn.ModuleDict({"a": FixedWeights(torch.full((3, 4), 0.25))})
    with attnprobe.capture(model, sites=[Site("a", pattern="per_step")]) as cap:
        model["a"](torch.zeros(3))
        model["a"](torch.zeros(2))  # a beam that shrank
    with pytest.raises(SiteError, match=r"different shapes \[\(2, 1, 4\), \(3, 1, 4\)\]"):
        cap.trace  # noqa: B018


def test_weights_in_any_axis_order_come_out_as_b_h_t_s():
    w = torch.tensor([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])  # [B=2, S=3]
    for layout, given in (("BS", w), ("SB", w.T.contiguous())):
        model = nn.ModuleDict({"a": FixedWeights(given)})
        site = Site("a", pattern="per_step", layout=layout)
        with attnprobe.capture(model, sites=[site]) as cap:
            model["a"](torch.zeros(len(given)))
            model["a"](torch.zeros(len(given)))
        got = cap.trace.attention["a"]
        assert got.shape == (2, 1, 2, 3)
        assert got[1, 0, 1].tolist() == pytest.approx([0.6, 0.3, 0.1])
        assert got[0, 0, 0].tolist() == pytest.approx([0.1, 0.2, 0.7])


class CountsTrain(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.ModuleDict({"a": FixedWeights(torch.tensor([[0.5, 0.5]]))})
        self.train_calls = 0

    def train(self, mode: bool = True):
        self.train_calls += 1
        return super().train(mode)


def test_a_model_in_eval_mode_is_left_alone_and_a_training_one_restored():
    model = CountsTrain().eval()
    model.train_calls = 0
    site = Site("inner.a", pattern="per_step")
    with attnprobe.capture(model, sites=[site]):
        model.inner["a"](torch.zeros(1))
    assert model.train_calls == 0 and not any(m.training for m in model.modules())
    model.train()
    model.inner.eval()  # mixed: the root trains, its child does not
    with attnprobe.capture(model, sites=[site]):
        assert not any(m.training for m in model.modules())
        model.inner["a"](torch.zeros(1))
    assert model.training and not model.inner.training and not model.inner["a"].training

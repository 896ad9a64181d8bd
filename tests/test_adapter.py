"""wrap(): a user's own model behind the reference-model interface, captured like one."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import attnprobe
from attnprobe.capturing import edits
from attnprobe.capturing.sites import Site
from attnprobe.data import BOS_ID, EOS_ID, Vocab, make_batch
from attnprobe.errors import InputError, SiteError, UnknownNameError
from attnprobe.models.reference.rnn import Seq2SeqOutput
from attnprobe.models.wrap import Wrapped

SRC = Vocab.build([["a", "b", "c", "d"]])
TGT = Vocab.build([["w", "x", "y", "z", "q"]])


class Dot(nn.Module):
    def forward(self, s, h, mask):  # s [B, D], h [B, S, D], mask [B, S]
        scores = torch.bmm(h, s.unsqueeze(2)).squeeze(2).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # [B, S]
        return torch.bmm(weights.unsqueeze(1), h).squeeze(1), weights


class UserModel(nn.Module):
    """A GRU encoder-decoder with dot attention that returns (logits, attention)."""

    def __init__(self, d=8):
        super().__init__()
        self.src_emb, self.tgt_emb = nn.Embedding(len(SRC), d), nn.Embedding(len(TGT), d)
        self.enc = nn.GRU(d, d, batch_first=True)
        self.att = Dot()
        self.cell = nn.GRUCell(2 * d, d)
        self.out = nn.Linear(2 * d, len(TGT))

    def forward(self, src, lens, tgt_in):
        h, _ = self.enc(self.src_emb(src))
        mask = torch.arange(src.shape[1])[None, :] < lens[:, None]
        s = h[:, 0] * 0
        logits, rows = [], []
        for t in range(tgt_in.shape[1]):
            c, a = self.att(s, h, mask)
            s = self.cell(torch.cat([self.tgt_emb(tgt_in[:, t]), c], -1), s)
            logits.append(self.out(torch.cat([s, c], -1)))
            rows.append(a)
        return torch.stack(logits, 1), torch.stack(rows, 1)


SITE = Site("att", read="softmax", name="att")


def wrapped(**kw) -> Wrapped:
    torch.manual_seed(0)
    args = dict(
        forward=lambda m, s, l, t: m(s, l, t),
        src_vocab=SRC,
        tgt_vocab=TGT,
        sites=[SITE],
        source_embedding="src_emb",
    )
    return attnprobe.wrap(UserModel().double(), **{**args, **kw})


def batch():
    return make_batch([["a", "b", "c"], ["d"]], [["w", "x"], ["y", "z", "q"]], SRC, TGT)


def test_wrapped_model_has_the_reference_interface():
    model = wrapped()
    b = batch()
    out = model(b.src, b.src_lens, b.tgt_in)
    assert isinstance(out, Seq2SeqOutput) and out.logits.shape == (2, 4, len(TGT))
    assert out.attention.shape == (2, 4, 4)
    assert model.source_embedding is model.module.src_emb
    assert model.src_vocab is SRC and model.sites == [SITE] and model.name == "UserModel"
    listed = attnprobe.wrap(
        UserModel(),
        forward=lambda m, s, l, t: m(s, l, t)[0],
        src_vocab=SRC.tokens,
        tgt_vocab=TGT.tokens,
        sites=[SITE],
    )
    assert listed.src_vocab == SRC and listed(b.src, b.src_lens, b.tgt_in).attention is None
    with pytest.raises(InputError, match="no source embedding"):
        listed.source_embedding  # noqa: B018


def test_capture_through_wrap_equals_the_attention_the_model_returns():
    model = wrapped()
    b = batch()
    states = Site("enc", read=0, pattern="full", role="states")  # nn.GRU returns (out, h)
    with attnprobe.capture(model, states=states) as cap:
        out = model(b.src, b.src_lens, b.tgt_in)
    t = cap.trace
    assert (t.attention["att"][:, 0] - out.attention).abs().max().item() <= 1e-7
    assert t.src_tokens == (("a", "b", "c", "</s>"), ("d", "</s>"))
    assert t.tgt_tokens == (("<s>", "w", "x"), ("<s>", "y", "z", "q"))
    assert t.example(0).matrix().shape == (3, 4) and t.states.shape == (2, 4, 8)
    assert t.meta["model"] == "UserModel"


def test_edits_and_gradients_through_wrap():
    model = wrapped()
    b = batch()
    plain = model(b.src, b.src_lens, b.tgt_in)
    with attnprobe.capture(model, edits={"att": edits.uniform()}, grads=True) as cap:
        out = model(b.src, b.src_lens, b.tgt_in)
        out.logits.logsumexp(-1).sum().backward()
    assert torch.allclose(out.attention[1, :, :2], torch.full((4, 2), 0.5, dtype=torch.float64))
    assert not torch.allclose(out.logits, plain.logits)
    assert cap.trace.grads["att"].shape == (2, 1, 4, 4)
    assert cap.trace.grads["att"][0].abs().sum() > 0


def test_greedy_agrees_with_a_teacher_forced_pass_on_its_own_output():
    model = wrapped()
    b = batch()
    hyps = model.greedy(b.src, b.src_lens, max_len=5)
    for i, hyp in enumerate(hyps):
        tgt_in = torch.tensor([[BOS_ID, *hyp.tokens]])
        logits = model(b.src[i : i + 1], b.src_lens[i : i + 1], tgt_in).logits[0]
        expected = hyp.tokens + ([EOS_ID] if len(hyp.tokens) < 5 else [])
        assert logits.argmax(-1).tolist()[: len(expected)] == expected


def test_wrap_refuses_what_cannot_work():
    def make(**kw):
        return wrapped(**kw)

    with pytest.raises(UnknownNameError, match="did you mean 'att'"):
        make(sites=["attt"])
    with pytest.raises(SiteError, match="not a known attention module"):
        make(sites=["out"])
    with pytest.raises(InputError, match="at least one"):
        make(sites=[])
    with pytest.raises(UnknownNameError, match="did you mean 'src_emb'"):
        make(source_embedding="src_embb")
    with pytest.raises(InputError, match="not a submodule"):
        make(source_embedding=nn.Embedding(2, 2))
    with pytest.raises(InputError, match="Vocab or the model's token list"):
        make(src_vocab="abc")
    with pytest.raises(InputError, match="must be a function"):
        make(forward=None)
    with pytest.raises(InputError, match=r"logits \[B=2, T=4"):
        b = batch()
        make(forward=lambda m, s, l, t: m(s, l, t)[0][:, :2])(b.src, b.src_lens, b.tgt_in)

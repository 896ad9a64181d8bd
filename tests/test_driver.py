"""analyze() on any encoder-decoder: models nobody here wrote, through wrap(), get the report.

The oracle: a reference fixture brought in through ``wrap()`` with its vocabulary
shuffled (every id differs) gives the same numbers as the checkpoint loaded
directly. Then four user models that attnprobe did not make (the GRU + Bahdanau
model of docs/capture.md, an ``nn.Transformer``, a tutorial-style step decoder
with its own special ids, a logits-only forward) run the full analysis; what
needs a capability they lack (gradient flow needs the recurrent graph of a
reference model) is reported as skipped and the rest runs.
"""

from __future__ import annotations

import copy
import json
import os
import random

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import attnprobe
from attnprobe import Site
from attnprobe.data import Vocab
from attnprobe.data.toy import generate_split

FIXTURE = "fixtures/models/enfr-bahdanau.pt"
FULL = ["alignment", "quality", "patterns", "attribution", "faithfulness"]


def toy_pairs(n: int, max_len: int):
    ex = [e for e in generate_split("enfr", "test") if len(e.src) <= max_len][:n]
    corpus = attnprobe.ParallelCorpus([list(e.src) for e in ex], [list(e.tgt) for e in ex])
    return corpus, [e.alignment for e in ex]


# -- the oracle: the same model, its vocabulary shuffled -----------------------------------


def shuffled_copy(model, seed: int = 0):
    """A deep copy of a reference model whose token ids are permuted on both sides, as a
    user's own module would number them; returns (module, src tokens, tgt tokens)."""
    mod = copy.deepcopy(model)
    rng = random.Random(seed)
    tokens = {}
    for side, vocab, emb in (
        ("src", model.src_vocab, mod.encoder.embedding),
        ("tgt", model.tgt_vocab, mod.decoder.embedding),
    ):
        order = list(range(len(vocab)))
        rng.shuffle(order)  # new id k holds old id order[k]
        perm = torch.tensor(order)
        with torch.no_grad():
            emb.weight.copy_(emb.weight[perm])
            if side == "tgt":
                mod.decoder.out.weight.copy_(mod.decoder.out.weight[perm])
                mod.decoder.out.bias.copy_(mod.decoder.out.bias[perm])
        emb.padding_idx = order.index(vocab.pad_id)
        tokens[side] = [vocab.tokens[i] for i in order]
    return mod, tokens["src"], tokens["tgt"]


@pytest.fixture(scope="module")
def oracle_pair():
    direct = attnprobe.load(FIXTURE).double()  # float64: the two runs' arithmetic is not
    # in the same order (the reference model's decoder sweep vs per-step backward passes)
    module, src_tokens, tgt_tokens = shuffled_copy(direct)
    assert src_tokens[:4] != direct.src_vocab.tokens[:4]  # the specials moved too
    wrapped = attnprobe.wrap(
        module,
        forward=lambda m, src, lens, tgt_in: m(src, lens, tgt_in),
        src_vocab=src_tokens,
        tgt_vocab=tgt_tokens,
        sites=["decoder.attention"],
        source_embedding="encoder.embedding",
    )
    return direct, wrapped


def _numbers(results):
    """Every metric and per-sentence record of a run, without what names the model."""
    metrics = json.loads(json.dumps(results.metrics))
    for key in ("signature", "model"):
        metrics.pop(key)
    metrics["sections"].pop("gradflow", None)  # the wrapped model has no recurrent graph
    for section in metrics["sections"].values():  # timings vary from run to run
        section.pop("seconds", None)
    return metrics, json.loads(json.dumps(results.sentences))


def _close(a, b, path="") -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{k}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert b == pytest.approx(a, abs=1e-6, nan_ok=True), path
    else:
        assert a == b, path


@pytest.mark.slow
def test_a_wrapped_model_with_shuffled_ids_gives_the_checkpoint_s_numbers(oracle_pair, tmp_path):
    direct, wrapped = oracle_pair
    corpus, gold = toy_pairs(12, 10)
    options = dict(analyses=FULL, attribution=["saliency", "integrated_gradients"], seed=3)
    a = attnprobe.analyze(direct, corpus, gold, **options)
    b = attnprobe.analyze(wrapped, corpus, gold, **options)
    _close(_numbers(a), _numbers(b))
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    files = sorted(p.name for p in (tmp_path / "a" / "alignments").iterdir())
    assert files
    for name in files:
        text = (tmp_path / "a" / "alignments" / name).read_text()
        assert (tmp_path / "b" / "alignments" / name).read_text() == text
    for method in ("saliency", "integrated_gradients"):
        ma = attnprobe.attribute(direct, corpus, method).matrices
        mb = attnprobe.attribute(wrapped, corpus, method).matrices
        for x, y in zip(ma, mb, strict=True):
            np.testing.assert_allclose(y, x, atol=1e-6, rtol=0)


def test_wrap_keeps_the_model_s_ids_and_refuses_a_vocabulary_too_large(oracle_pair):
    direct, wrapped = oracle_pair
    batch = wrapped.encode([["the", "cat"]], [["le", "chat"]])
    src_tokens = wrapped.src_vocab.tokens
    assert [src_tokens[i] for i in batch.src[0].tolist()] == ["the", "cat", "</s>"]
    assert batch.src[0].tolist() != direct.encode([["the", "cat"]], [["x"]]).src[0].tolist()
    with pytest.raises(attnprobe.InputError, match="embedding 'encoder.embedding' has"):
        attnprobe.wrap(
            wrapped.module,
            forward=lambda m, src, lens, tgt_in: m(src, lens, tgt_in),
            src_vocab=[*src_tokens, "extra"],
            tgt_vocab=wrapped.tgt_vocab.tokens,
            sites=["decoder.attention"],
            source_embedding="encoder.embedding",
        )


# -- models nobody here wrote ------------------------------------------------------------


class Additive(nn.Module):
    """Bahdanau attention as in docs/capture.md: score = v^T tanh(W s + U h)."""

    def __init__(self, dec_dim, enc_dim, dim):
        super().__init__()
        self.W, self.U = nn.Linear(dec_dim, dim, bias=False), nn.Linear(enc_dim, dim)
        self.v = nn.Linear(dim, 1, bias=False)

    def forward(self, s, h, mask):  # s [B, Dd], h [B, S, De], mask [B, S]
        scores = self.v(torch.tanh(self.W(s)[:, None] + self.U(h))).squeeze(2)  # [B, S]
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        return torch.bmm(weights[:, None], h).squeeze(1), weights


class GruTranslator(nn.Module):
    """The user-written GRU + Bahdanau model of docs/capture.md."""

    def __init__(self, n_src, n_tgt, emb=8, hid=12):
        super().__init__()
        self.src_emb, self.tgt_emb = nn.Embedding(n_src, emb), nn.Embedding(n_tgt, emb)
        self.encoder = nn.GRU(emb, hid, batch_first=True, bidirectional=True)
        self.attention = Additive(hid, 2 * hid, hid)
        self.cell = nn.GRUCell(emb + 2 * hid, hid)
        self.out = nn.Linear(3 * hid, n_tgt)

    def forward(self, src, src_lens, tgt_in):
        h, _ = self.encoder(self.src_emb(src))  # [B, S, 2H]
        mask = torch.arange(src.shape[1])[None, :] < src_lens[:, None]  # [B, S]
        s = h.new_zeros(src.shape[0], self.cell.hidden_size)
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            context, a = self.attention(s, h, mask)
            s = self.cell(torch.cat([self.tgt_emb(tgt_in[:, t]), context], -1), s)
            logits.append(self.out(torch.cat([s, context], -1)))
            weights.append(a)
        return torch.stack(logits, 1), torch.stack(weights, 1)  # [B, T, V], [B, T, S]


class TransformerTranslator(nn.Module):
    """An ``nn.Transformer`` encoder-decoder with embeddings and an output layer."""

    def __init__(self, n_src, n_tgt, d=8):
        super().__init__()
        self.src_emb, self.tgt_emb = nn.Embedding(n_src, d), nn.Embedding(n_tgt, d)
        self.transformer = nn.Transformer(
            d, nhead=2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16,
            dropout=0.0, batch_first=True,
        )  # fmt: skip
        self.out = nn.Linear(d, n_tgt)

    def forward(self, src, src_lens, tgt_in):
        pad = torch.arange(src.shape[1])[None, :] >= src_lens[:, None]  # [B, S] padding
        T = tgt_in.shape[1]
        causal = torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
        y = self.transformer(
            self.src_emb(src), self.tgt_emb(tgt_in), tgt_mask=causal,
            src_key_padding_mask=pad, memory_key_padding_mask=pad,
        )  # fmt: skip
        return self.out(y)


class TutorialDecoder(nn.Module):
    """A PyTorch-tutorial-style decoder step: (input ids [B], hidden [1, B, H], encoder
    outputs [B, S, H], mask [B, S]) -> (log-probs [B, V], hidden, attention weights [B, S])."""

    def __init__(self, hidden, vocab):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden)
        self.gru = nn.GRU(2 * hidden, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, input, hidden, encoder_outputs, mask):
        embedded = self.embedding(input)  # [B, H]
        scores = (encoder_outputs @ hidden[0][:, :, None])[..., 0]  # [B, S]
        attn_weights = F.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)
        context = torch.bmm(attn_weights[:, None], encoder_outputs)[:, 0]  # [B, H]
        output, hidden = self.gru(torch.cat([embedded, context], 1)[None], hidden)
        return F.log_softmax(self.out(output[0]), dim=1), hidden, attn_weights


class TutorialSeq2Seq(nn.Module):
    """An encoder and a step decoder called once per target step, as in the tutorial."""

    def __init__(self, n_src, n_tgt, hidden=12):
        super().__init__()
        self.embedding = nn.Embedding(n_src, hidden)
        self.encoder = nn.GRU(hidden, hidden, batch_first=True)
        self.decoder = TutorialDecoder(hidden, n_tgt)

    def forward(self, src, src_lens, tgt_in):
        outputs, hidden = self.encoder(self.embedding(src))  # [B, S, H], [1, B, H]
        mask = torch.arange(src.shape[1])[None, :] < src_lens[:, None]
        steps = []
        for t in range(tgt_in.shape[1]):
            logp, hidden, _ = self.decoder(tgt_in[:, t], hidden, outputs, mask)
            steps.append(logp)
        return torch.stack(steps, 1)  # [B, T, V]


# own special ids: <s> 0, </s> 1 (and padding 2, unknown 3), words after them
OWN_SPECIALS = {"bos": "<s>", "eos": "</s>", "pad": "<blank>", "unk": "<?>"}


def own_vocab(sentences) -> list[str]:
    words = sorted({w for s in sentences for w in s})
    return ["<s>", "</s>", "<blank>", "<?>", *words]


def user_models(corpus):
    """name -> a wrapped model nobody here wrote (untrained: the analysis needs no skill)."""
    torch.manual_seed(0)
    sv, tv = Vocab.build(corpus.src), Vocab.build(corpus.tgt)
    gru = GruTranslator(len(sv), len(tv))
    common = dict(src_vocab=sv, tgt_vocab=tv, source_embedding="src_emb")
    softmax_site = Site("attention", read="softmax", pattern="per_step", role="cross")
    src_own, tgt_own = own_vocab(corpus.src), own_vocab(corpus.tgt)
    return {
        "gru-bahdanau": attnprobe.wrap(
            gru, forward=lambda m, s, lens, t: m(s, lens, t), sites=[softmax_site], **common
        ),
        "logits-only": attnprobe.wrap(
            copy.deepcopy(gru),
            forward=lambda m, s, lens, t: m(s, lens, t)[0],
            sites=[softmax_site],
            **common,
        ),
        "nn.Transformer": attnprobe.wrap(
            TransformerTranslator(len(sv), len(tv)),
            forward=lambda m, s, lens, t: m(s, lens, t),
            sites=[f"transformer.decoder.layers.{k}.multihead_attn" for k in (0, 1)],
            **common,
        ),
        "tutorial": attnprobe.wrap(
            TutorialSeq2Seq(len(src_own), len(tgt_own)),
            forward=lambda m, s, lens, t: m(s, lens, t),
            src_vocab=src_own,
            tgt_vocab=tgt_own,
            specials=OWN_SPECIALS,
            sites=[Site("decoder", read="softmax", pattern="per_step", role="cross")],
            source_embedding="embedding",
        ),
    }


@pytest.fixture(scope="module")
def small():
    return toy_pairs(6, 6)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gru-bahdanau", "logits-only", "nn.Transformer", "tutorial"])
def test_the_full_analysis_runs_on_a_model_nobody_here_wrote(name, small, tmp_path):
    corpus, gold = small
    model = user_models(corpus)[name]
    res = attnprobe.analyze(
        model, corpus, gold, analyses=[*FULL, "gradflow"],
        attribution=["saliency", "integrated_gradients"],
    )  # fmt: skip
    m = res.metrics
    assert m["model"]["family"] == "wrapped nn.Module"
    assert m["alignment"]["scores"] and 0.0 <= m["primary"]["offset"] + 1 <= 1
    assert {r["aer"] is not None for r in res.sentences} == {True}
    sections = m["sections"]
    assert sections["gradflow"]["skipped"]
    assert "recurrent computation graph" in sections["gradflow"]["reason"]
    assert any("gradflow" in w for w in m["warnings"])
    for step in ("patterns", "attribution", "faithfulness"):
        assert not sections[step].get("skipped"), step
    tvd = sections["faithfulness"]["summaries"]["identity"]["tvd"]["mean"]
    assert tvd == pytest.approx(0.0, abs=1e-9)  # the identity edit changes nothing
    rows = len(corpus)
    assert sum("attribution" in r for r in res.sentences) == rows
    out = res.save(tmp_path / "report")
    assert (out / "report.html").stat().st_size > 10_000


def test_the_tutorial_model_s_own_special_ids_are_used():
    corpus, _ = toy_pairs(2, 4)
    model = user_models(corpus)["tutorial"]
    batch = model.encode(corpus.src[:1], corpus.tgt[:1])
    assert batch.tgt_in[0, 0] == 0 and batch.tgt_out[0, len(corpus.tgt[0])] == 1
    assert batch.src[0, len(corpus.src[0])] == 1  # the source ends with its own </s>
    assert model.special_ids == {"pad": 2, "unk": 3, "bos": 0, "eos": 1}


# -- results do not depend on the order of options; the caller's state is left alone ------


@pytest.mark.slow
def test_results_do_not_depend_on_the_order_of_analyses(small):
    corpus, gold = small
    model = attnprobe.load(FIXTURE)
    one = attnprobe.analyze(model, corpus, gold, analyses=["alignment", "patterns", "quality"])
    two = attnprobe.analyze(model, corpus, gold, analyses=["patterns", "quality", "alignment"])
    alone = attnprobe.analyze(model, corpus, gold, analyses=["patterns"])  # requires alignment
    assert _numbers(one) == _numbers(two)
    p = one.metrics["sections"]["patterns"]
    assert alone.metrics["sections"]["patterns"] == p
    assert one.metrics["signature"]["options"]["analyses"] == ["alignment", "quality", "patterns"]


def test_analyze_and_report_leave_the_caller_s_state_as_they_found_it(small, tmp_path):
    corpus, gold = small
    model = attnprobe.load(FIXTURE).train()
    model.decoder.eval()  # a mixed state must come back exactly
    flags = [m.training for m in model.modules()]
    backend, umask = matplotlib.get_backend(), os.umask(0o027)
    try:
        threads = torch.get_num_threads()
        res = attnprobe.analyze(model, corpus, gold, analyses=["alignment", "patterns"])
        res.save(tmp_path / "out")
        assert [m.training for m in model.modules()] == flags
        assert matplotlib.get_backend() == backend
        assert torch.get_num_threads() == threads
        assert os.umask(0o027) == 0o027  # still what the caller set
    finally:
        os.umask(umask)

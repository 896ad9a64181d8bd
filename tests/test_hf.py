"""The Hugging Face adapter: captured attention and gradients against transformers' own.

Tiny random-init MarianMT, T5, BART and M2M100 models are built here (no files,
no hub) with a SentencePiece tokenizer trained on a few sentences into a
temporary folder. The references are independent of the code under test:
transformers' eager ``output_attentions`` on a copy of the model, autograd on
those returned weights, and the model's own forward from token ids.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

transformers = pytest.importorskip("transformers", reason="the [hf] extra is not installed")
spm = pytest.importorskip("sentencepiece", reason="the [hf] extra is not installed")

import torch  # noqa: E402

import attnprobe  # noqa: E402
from attnprobe.capturing import edits  # noqa: E402
from attnprobe.errors import InputError  # noqa: E402
from attnprobe.models.hf import HFSeq2Seq, position_limit  # noqa: E402

SENTENCES = [
    "the black cat sees the small dog near the house",
    "le chat noir voit le petit chien près de la maison",
    "a man in an orange hat is looking at something",
    "un homme avec un chapeau orange regarde quelque chose",
    "two dogs are running on the green grass",
    "deux chiens courent sur l' herbe verte",
]
SRC = [["the", "black", "cat", "sees", "the", "dog"], ["two", "dogs", "run"]]
TGT = [["le", "chat", "noir", "voit", "le", "chien"], ["deux", "chiens"]]


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory) -> Path:
    """A MarianTokenizer folder: a SentencePiece unigram model trained on SENTENCES,
    ``</s>`` 0, ``<unk>`` 1, pieces, then ``<pad>`` last (the opus-mt layout)."""
    d = tmp_path_factory.mktemp("tokenizer")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(SENTENCES * 4),
        model_prefix=str(d / "sp"),
        vocab_size=80,
        model_type="unigram",
        eos_id=0,
        unk_id=1,
        bos_id=-1,
        pad_id=-1,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    for name in ("source.spm", "target.spm"):
        (d / name).write_bytes((d / "sp.model").read_bytes())
    sp = spm.SentencePieceProcessor(model_file=str(d / "sp.model"))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    vocab["<pad>"] = len(vocab)
    (d / "vocab.json").write_text(json.dumps(vocab))
    tok = transformers.MarianTokenizer(
        str(d / "source.spm"), str(d / "target.spm"), str(d / "vocab.json")
    )
    tok.save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def tokenizer(tokenizer_dir):
    return transformers.MarianTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)


def tiny_model(family: str, tok, scale_embedding: bool = True):
    """A random-init model of ``family`` with 2 layers, 2 heads, d_model 16, in train mode."""
    V, pad, eos = len(tok), tok.pad_token_id, tok.eos_token_id
    common = dict(vocab_size=V, pad_token_id=pad, eos_token_id=eos, decoder_start_token_id=pad)
    layers = dict(
        d_model=16,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        scale_embedding=scale_embedding,
        dropout=0.1,
        attention_dropout=0.1,
        init_std=0.3,  # sharper than the default 0.02: outputs depend visibly on the inputs
    )
    torch.manual_seed(0)
    if family == "marian":
        cfg = transformers.MarianConfig(**common, **layers, decoder_vocab_size=V)
        model = transformers.MarianMTModel(cfg)
    elif family == "bart":
        cfg = transformers.BartConfig(**common, **layers, bos_token_id=eos, forced_eos_token_id=eos)
        model = transformers.BartForConditionalGeneration(cfg)
    elif family == "m2m_100":
        cfg = transformers.M2M100Config(**common, **layers, bos_token_id=eos)
        model = transformers.M2M100ForConditionalGeneration(cfg)
    else:
        cfg = transformers.T5Config(
            **common,
            d_model=16,
            d_kv=8,
            d_ff=32,
            num_layers=2,
            num_decoder_layers=2,
            num_heads=2,
            relative_attention_num_buckets=8,
            dropout_rate=0.1,
            initializer_factor=2.0,
        )
        model = transformers.T5ForConditionalGeneration(cfg)
    return model.train()


FAMILIES = ["marian", "t5", "bart", "m2m_100"]


def eager_reference(model, batch, grads: bool = False):
    """transformers' own attention (eager, ``output_attentions``) on a copy of ``model``;
    with ``grads``, d(sum of gold log-probs)/d(weights) by autograd on the returned weights."""
    config = copy.deepcopy(model.config)
    config._attn_implementation = "eager"  # built so: T5 copies it into each stack
    ref = type(model)(config).eval()
    ref.load_state_dict(model.state_dict())
    assert all(
        m.config._attn_implementation == "eager" for m in ref.modules() if hasattr(m, "config")
    )
    mask = (torch.arange(batch.src.shape[1])[None, :] < batch.src_lens[:, None]).long()
    out = ref(
        input_ids=batch.src,
        attention_mask=mask,
        decoder_input_ids=batch.tgt_in,
        output_attentions=True,
        use_cache=False,
    )
    weights = {
        "cross": list(out.cross_attentions),
        "decoder-self": list(out.decoder_attentions),
        "encoder-self": list(out.encoder_attentions),
    }
    if grads:
        for w in weights["cross"]:
            w.retain_grad()
        gold_log_probs(out.logits, batch).backward()
    return out, weights


def gold_log_probs(logits, batch):
    """The summed log-probability of the gold tokens over the real target steps."""
    lp = logits.log_softmax(-1).gather(2, batch.tgt_out[..., None])[..., 0]  # [B, T]
    real = torch.arange(lp.shape[1])[None, :] < batch.tgt_lens[:, None]
    return (lp * real).sum()


@pytest.fixture(params=FAMILIES)
def family(request):
    return request.param


def test_captured_attention_equals_output_attentions(family, tokenizer):
    model = tiny_model(family, tokenizer)
    adapter = HFSeq2Seq(model, tokenizer)
    batch = adapter.encode(SRC, TGT)
    assert int(batch.src_lens.min()) < batch.src.shape[1]  # padding is exercised
    _, ref = eager_reference(model, batch)
    with attnprobe.capture(adapter, sites=adapter.sites + adapter.self_sites) as cap:
        adapter(batch.src, batch.src_lens, batch.tgt_in)
    trace = cap.trace
    n = 0
    for role, layers in ref.items():
        assert len(layers) == 2
        # rows of padded query positions are not compared: M2M100 numbers the positions of
        # padding differently from ids than from embeddings (they reach nothing real)
        rows = batch.src_lens if role == "encoder-self" else batch.tgt_lens
        for k, want in enumerate(layers):
            got = trace.attention[f"{role}.{k}"]  # [B, H, T, S]
            assert got.shape == want.shape
            for b, t in enumerate(rows.tolist()):
                torch.testing.assert_close(
                    got[b, :, :t], want[b, :, :t].detach(), atol=1e-6, rtol=0
                )
            n += 1
    assert n == 6
    # the caller's state is back: train mode, the attention implementation it loaded
    assert model.training and adapter.hf.config._attn_implementation == "sdpa"
    assert trace.src_lens.tolist() == batch.src_lens.tolist()
    assert trace.tgt_lens.tolist() == batch.tgt_lens.tolist()


def test_gradients_equal_autograd(family, tokenizer):
    model = tiny_model(family, tokenizer)
    adapter = HFSeq2Seq(model, tokenizer)
    batch = adapter.encode(SRC, TGT)
    _, ref = eager_reference(model, batch, grads=True)
    with attnprobe.capture(adapter, grads=True) as cap:
        out = adapter(batch.src, batch.src_lens, batch.tgt_in)
        gold_log_probs(out.logits, batch).backward()
    for k, want in enumerate(ref["cross"]):
        assert want.grad is not None and float(want.grad.abs().max()) > 0
        got = cap.trace.grads[f"cross.{k}"]  # [B, H, T, S]
        # real rows and columns: the gradient of a weight on padding is that padding's value
        # vector, and M2M100's padded encoder states differ (positions, see above)
        for b, (s, t) in enumerate(
            zip(batch.src_lens.tolist(), batch.tgt_lens.tolist(), strict=True)
        ):
            torch.testing.assert_close(
                got[b, :, :t, :s], want.grad[b, :, :t, :s], atol=1e-6, rtol=0
            )


def per_step_saliency(adapter, model, batch) -> list[torch.Tensor]:
    """Plain autograd, one backward per step through one full forward of the adapter (the
    embeddings' output made a leaf by a hook: no attnprobe code): [T_b, S_b] L2 norms of
    d p(gold token) / d source embedding, per batch row."""
    leaf = {}

    def make_leaf(module, args, out):
        leaf["x"] = out.detach().requires_grad_()
        return leaf["x"]

    handle = adapter.source_embedding.register_forward_hook(make_leaf)
    model.eval()  # as attribution runs it (no dropout)
    try:
        with torch.enable_grad():
            logits = adapter(batch.src, batch.src_lens, batch.tgt_in).logits
    finally:
        handle.remove()
        model.train()
    p = logits.softmax(-1).gather(2, batch.tgt_out.clamp_min(0)[..., None])[..., 0]  # [B, T]
    return [
        torch.stack(
            [
                torch.autograd.grad(p[b, t], leaf["x"], retain_graph=True)[0][b, :s_b].norm(dim=-1)
                for t in range(t_b)
            ]
        )
        for b, (s_b, t_b) in enumerate(
            zip(batch.src_lens.tolist(), batch.tgt_lens.tolist(), strict=True)
        )
    ]


def test_per_step_saliency_over_decoder_prefixes_equals_one_backward_per_step(family, tokenizer):
    """The adapter declares a causal decoder and runs in two halves, so the encoder runs
    once, each target step's backward runs over a prefix of the decoder down to the
    encoder's output, and then through the encoder; the second row ends before the last
    prefix block, which runs the first row alone. The reference is plain autograd."""
    from attnprobe.models.interface import has_capability
    from attnprobe.runs.attribution import _prefix_ends, attribute_batch

    model = tiny_model(family, tokenizer)
    adapter = HFSeq2Seq(model, tokenizer)
    assert has_capability(adapter, "causal_decoder")
    batch = adapter.encode(SRC, TGT)
    assert int(batch.tgt_lens.min()) <= _prefix_ends(batch.tgt_in.shape[1])[-2]
    got = attribute_batch(adapter, batch, "saliency", target="prob", aggregate="l2").matrices
    for m, want in zip(got, per_step_saliency(adapter, model, batch), strict=True):
        assert m.shape == tuple(want.shape)
        torch.testing.assert_close(torch.as_tensor(m, dtype=want.dtype), want, rtol=1e-4, atol=1e-7)


def test_vectorized_encoder_pass_equals_one_backward_per_step(tokenizer):
    """``vectorize=True``: the steps' cotangents of the encoder's output go back through
    the encoder in one vmapped backward; the same numbers as plain autograd."""
    from attnprobe.runs.attribution import attribute_batch

    model = tiny_model("marian", tokenizer)
    adapter = HFSeq2Seq(model, tokenizer)
    batch = adapter.encode(SRC, TGT)
    got = attribute_batch(adapter, batch, "saliency", target="prob", vectorize=True).matrices
    for m, want in zip(got, per_step_saliency(adapter, model, batch), strict=True):
        torch.testing.assert_close(torch.as_tensor(m, dtype=want.dtype), want, rtol=1e-4, atol=1e-7)


def test_the_two_halves_give_the_models_own_logits(family, tokenizer):
    """``encode_source`` then ``decode_states`` (a padded batch): transformers' own eager
    forward on the ids, and the encoder's states as its encoder computes them."""
    model = tiny_model(family, tokenizer)
    adapter = HFSeq2Seq(model, tokenizer)
    batch = adapter.encode(SRC, TGT)
    want, _ = eager_reference(model, batch)
    model.eval()
    try:
        with torch.no_grad():
            states = adapter.encode_source(batch.src, batch.src_lens)
            logits = adapter.decode_states(states, batch.src_lens, batch.tgt_in).logits
    finally:
        model.train()
    for b, (s, t) in enumerate(zip(batch.src_lens.tolist(), batch.tgt_lens.tolist(), strict=True)):
        torch.testing.assert_close(
            states[b, :s], want.encoder_last_hidden_state[b, :s], atol=1e-5, rtol=0
        )
        torch.testing.assert_close(logits[b, :t], want.logits[b, :t], atol=1e-5, rtol=0)


@pytest.mark.parametrize("family", ["marian", "bart", "m2m_100"])
def test_scaled_embeddings_give_the_models_own_log_probs(family, tokenizer):
    model = tiny_model(family, tokenizer, scale_embedding=True).eval()
    adapter = HFSeq2Seq(model, tokenizer)
    batch = adapter.encode(SRC, TGT)
    mask = (torch.arange(batch.src.shape[1])[None, :] < batch.src_lens[:, None]).long()
    with torch.no_grad():
        own = model(input_ids=batch.src, attention_mask=mask, decoder_input_ids=batch.tgt_in)
        mine = adapter(batch.src, batch.src_lens, batch.tgt_in)
        # the raw table rows, unscaled (sqrt(16) = 4 is missing): a different output
        naive = model(
            inputs_embeds=model.get_encoder().get_input_embeddings().weight[batch.src],
            attention_mask=mask,
            decoder_input_ids=batch.tgt_in,
        )
    real = torch.arange(batch.tgt_in.shape[1])[None, :] < batch.tgt_lens[:, None]
    lp_own, lp_mine = own.logits.log_softmax(-1)[real], mine.logits.log_softmax(-1)[real]
    torch.testing.assert_close(lp_mine, lp_own, atol=1e-5, rtol=0)
    assert float((naive.logits.log_softmax(-1)[real] - lp_own).abs().max()) > 0.1
    assert adapter.source_embedding.scale == 4.0


def test_check_refuses_a_wrong_embedding_scale(tokenizer):
    model = tiny_model("marian", tokenizer, scale_embedding=True)
    adapter = HFSeq2Seq(model, tokenizer)
    adapter.source_embedding.scale = 1.0  # what a tool feeding inputs_embeds gets wrong
    with pytest.raises(attnprobe.errors.AttnprobeError, match="log-probabilities up to"):
        adapter.check()


def test_identity_edit_is_bitwise_and_uniform_edit_changes_output(family, tokenizer):
    model = tiny_model(family, tokenizer).eval()
    adapter = HFSeq2Seq(model, tokenizer)
    batch = adapter.encode(SRC, TGT)
    with torch.no_grad():
        plain = adapter(batch.src, batch.src_lens, batch.tgt_in).logits
        with attnprobe.capture(adapter, edits={"cross.1": edits.identity()}):
            same = adapter(batch.src, batch.src_lens, batch.tgt_in).logits
        with attnprobe.capture(adapter, edits={"cross.1": edits.uniform()}) as cap:
            changed = adapter(batch.src, batch.src_lens, batch.tgt_in).logits
    assert torch.equal(same, plain)
    assert float((changed - plain).abs().max()) > 1e-3
    # the edited weights are uniform over the real source positions of each sentence
    w = cap.trace.attention["cross.1"]
    for b, n in enumerate(batch.src_lens.tolist()):
        torch.testing.assert_close(w[b, :, :, :n], torch.full_like(w[b, :, :, :n], 1 / n))


def test_encode_word_ids_and_decoder_input(tokenizer):
    model = tiny_model("marian", tokenizer)
    adapter = HFSeq2Seq(model, tokenizer)
    b = adapter.encode([["the", "cat"]], [["le", "chat"]])
    pieces = [tokenizer.convert_ids_to_tokens(i) for i in b.src[0].tolist()]
    # the tokenizer's own pieces, one word at a time, then </s>
    want = [p for w in ("the", "cat") for p in tokenizer.tokenize(w)] + ["</s>"]
    assert pieces == want
    assert b.src_words[0] == [0] * len(tokenizer.tokenize("the")) + [1] * len(
        tokenizer.tokenize("cat")
    ) + [-1]
    assert b.tgt_in[0, 0] == tokenizer.pad_token_id  # Marian's decoder start is <pad>
    assert b.tgt_in[0, 1:].tolist() == b.tgt_out[0, :-1].tolist()
    assert b.tgt_out[0, -1] == tokenizer.eos_token_id and b.tgt_words[0][-1] == -1
    assert adapter.tokenisation_mismatches == {"src": [], "tgt": []}


def test_a_sentence_longer_than_the_position_table_is_refused_by_name(tokenizer):
    # the tiny configs read 128 positions: a 130-word source has at least 131 pieces
    assert position_limit(tiny_model("marian", tokenizer)) == 128
    assert position_limit(tiny_model("bart", tokenizer)) == 128
    assert position_limit(tiny_model("t5", tokenizer)) is None  # relative positions
    assert position_limit(tiny_model("m2m_100", tokenizer)) is None  # sinusoids that grow
    adapter = HFSeq2Seq(tiny_model("marian", tokenizer), tokenizer)
    adapter.encode([["the"] * 60], [["le"] * 60])  # within the table: fine
    with pytest.raises(InputError, match=r"sentence 7 has \d+ source and \d+ target pieces, "
                       r"more than the 128 positions") as err:  # fmt: skip
        adapter.encode([["the"], ["the"] * 130], [["le"], ["le"]], index=[3, 7])
    assert "leave the longest sentences out" in str(err.value)


def test_only_long_pairs_are_tokenised_and_checked_against_the_position_table(tokenizer):
    adapter = HFSeq2Seq(tiny_model("marian", tokenizer), tokenizer)
    per_word = len(tokenizer.tokenize("the"))  # the tokenizer's own pieces of one word
    # 40 words of 3 letters could make 160 pieces: tokenised, and they fit
    assert 40 * per_word + 1 <= 128 and adapter.too_long(["the"] * 40, ["le"]) is None
    why = adapter.too_long(["the"] * 130, ["le"])
    assert why.startswith(f"{130 * per_word + 1} source and ") and "128 positions" in why
    # T5's relative positions have no table: nothing is too long
    t5 = HFSeq2Seq(tiny_model("t5", tokenizer), tokenizer)
    assert t5.too_long(["the"] * 300, ["le"]) is None


def test_analyze_leaves_out_and_lists_pairs_longer_than_the_position_table(tokenizer):
    from attnprobe.data import ParallelCorpus
    from attnprobe.pipeline.driver import analyze

    adapter = HFSeq2Seq(tiny_model("marian", tokenizer).eval(), tokenizer)
    corpus = ParallelCorpus([SRC[0], ["the"] * 130, SRC[1]], [TGT[0], ["le"], TGT[1]])
    res = analyze(adapter, corpus, analyses=["alignment"], progress=False)
    assert res.n_sentences == 2
    assert [s["index"] for s in res.metrics["skipped"]] == [1]
    assert "128 positions" in res.metrics["skipped"][0]["reason"]
    assert any("pair 2:" in w and "left out" in w for w in res.metrics["warnings"])


def test_integrated_gradients_passes_hold_at_most_pass_rows_unless_asked(tokenizer):
    from attnprobe.runs.attribution import PASS_ROWS, attribute_batch

    adapter = HFSeq2Seq(tiny_model("marian", tokenizer).eval(), tokenizer)
    batch = adapter.encode(SRC[:1], TGT[:1])
    rows: list[int] = []
    hook = adapter.hf.get_encoder().register_forward_pre_hook(
        lambda module, args, kwargs: rows.append(kwargs["inputs_embeds"].shape[0]),
        with_kwargs=True,
    )
    try:
        capped = attribute_batch(adapter, batch, "integrated_gradients")
        assert rows and max(rows) == PASS_ROWS  # 50 points: two passes of 25
        rows.clear()
        whole = attribute_batch(adapter, batch, "integrated_gradients", internal_batch_size=50)
        assert max(rows) == 50
    finally:
        hook.remove()
    # the same integral, summed in two parts
    np.testing.assert_allclose(capped.matrices[0], whole.matrices[0], rtol=1e-5, atol=1e-7)


def test_target_padding_is_not_the_decoder_start(tokenizer):
    """Marian starts the decoder with its padding id: the decoder input is padded with EOS,
    so that capture counts the real steps of every row, a one-step target too."""
    adapter = HFSeq2Seq(tiny_model("marian", tokenizer), tokenizer)
    assert adapter.start_id == tokenizer.pad_token_id
    assert adapter.pad_id("tgt") == tokenizer.eos_token_id
    assert adapter.pad_id("src") == tokenizer.pad_token_id
    b = adapter.encode([["the", "black", "cat"], ["dog"]], [["le", "chat", "noir"], []])
    counted = (b.tgt_in != adapter.pad_id("tgt")).sum(1)
    assert counted.tolist() == b.tgt_lens.tolist() and b.tgt_lens[1] == 1
    with torch.no_grad(), attnprobe.capture(adapter) as cap:
        adapter(b.src, b.src_lens, b.tgt_in)
    assert cap.trace.tgt_lens.tolist() == b.tgt_lens.tolist()
    assert cap.trace.src_lens.tolist() == b.src_lens.tolist()


def test_greedy_and_decode(tokenizer):
    adapter = HFSeq2Seq(tiny_model("marian", tokenizer).eval(), tokenizer)
    batch = adapter.encode(SRC, TGT)
    hyps = adapter.greedy(batch.src, batch.src_lens, max_len=5)
    assert len(hyps) == 2 and all(len(h.tokens) <= 5 for h in hyps)
    # the score is the sum of the chosen tokens' log-probabilities under teacher forcing
    h = hyps[0]
    eos = [adapter.eos_id] if len(h.tokens) < 5 else []
    tgt_in = torch.tensor([[adapter.start_id, *h.tokens, *eos][: len(h.tokens) + len(eos)]])
    with torch.no_grad():
        lp = adapter(batch.src[:1], batch.src_lens[:1], tgt_in).logits.log_softmax(-1)
    chosen = torch.tensor([*h.tokens, *eos])
    assert h.score == pytest.approx(float(lp[0].gather(1, chosen[:, None]).sum()), abs=1e-4)
    assert isinstance(adapter.decode_ids(h.tokens), list)


def test_load_a_saved_folder_and_refuse_missing_files(tmp_path, tokenizer, tokenizer_dir):
    model = tiny_model("marian", tokenizer).eval()
    d = tmp_path / "tiny-marian"
    model.save_pretrained(d)
    tokenizer.save_pretrained(d)
    loaded = attnprobe.load(d)
    assert isinstance(loaded, HFSeq2Seq) and loaded.name == "tiny-marian"
    assert loaded.card()["sites"] == ["cross.0", "cross.1"]
    assert not loaded.training
    for f in d.glob("*.spm"):
        f.unlink()
    with pytest.raises(InputError, match="no usable tokenizer") as err:
        attnprobe.load(d)
    assert "\n" not in str(err.value)
    (d / "model.safetensors").unlink()
    with pytest.raises(InputError, match="no weights file"):
        attnprobe.load(d)


# --- against a peer tool: inseq 0.7.1 on the shared trained Marian --------------------


@pytest.fixture(scope="module")
def marian(request):
    root = Path(__file__).resolve().parent.parent.parent / "shared"
    model_dir = root / "models" / "marian-enfr-multi30k"
    reference = root / "data" / "reference-outputs" / "inseq-marian" / "reference_attributions.json"
    if not (model_dir.is_dir() and reference.is_file()):
        pytest.skip(f"the shared Marian model or inseq's reference is not under {root}")
    return attnprobe.load(model_dir), json.loads(reference.read_text())


@pytest.mark.slow
def test_attention_and_gradients_equal_inseqs(marian):
    """Pairs 0-2 of Multi30k test_2016_flickr, batched (padding: inseq ran them one by one).

    inseq attributes the probability of the forced token to the encoder's input
    embeddings; its unnormalised L2 norm over the hidden size and its signed sum
    are compared. Integrated gradients with inseq's settings as the file records
    them: 50 Gauss-Legendre points, the ``<unk>`` embedding as the baseline of
    every source token except ``</s>``, which keeps its own (``baseline_keep``).
    """
    from attnprobe.runs.attribution import attribute_batch

    model, ref = marian
    pairs = ref["pairs"]
    batch = model.encode(
        [p["source_text"].split() for p in pairs], [p["target_text"].split() for p in pairs]
    )
    with attnprobe.capture(model) as cap:
        logits = model(batch.src, batch.src_lens, batch.tgt_in).logits
    probs = logits.softmax(-1).gather(2, batch.tgt_out[..., None])[..., 0]  # [B, T]
    runs = {
        ("saliency", "vnorm_unnormalised_tgt_x_src"): ("saliency", "l2"),
        ("input_x_gradient", "vnorm_unnormalised_tgt_x_src"): ("input_x_gradient", "l2"),
        ("input_x_gradient", "sum_over_hidden_tgt_x_src"): ("input_x_gradient", "signed_sum"),
        ("integrated_gradients", "vnorm_unnormalised_tgt_x_src"): ("integrated_gradients", "l2"),
        ("integrated_gradients", "sum_over_hidden_tgt_x_src"): (
            "integrated_gradients",
            "signed_sum",
        ),
    }
    ig = {"n_steps": 50, "integration": "gausslegendre", "baseline": "unk"}
    ig["baseline_keep"] = ("eos",)
    assert ref["inseq_settings"]["ig"]["n_steps"] == ig["n_steps"]
    assert "<unk>" in ref["inseq_settings"]["ig_baseline"]
    got = {
        key: attribute_batch(
            model,
            batch,
            method,
            target="prob",
            aggregate=agg,
            **(ig if method == "integrated_gradients" else {}),
        ).matrices
        for key, (method, agg) in runs.items()
    }
    for b, p in enumerate(pairs):
        S, T = int(batch.src_lens[b]), int(batch.tgt_lens[b])
        tokens = model.src_vocab.tokens
        assert [tokens[i] for i in batch.src[b, :S]] == p["source_tokens"]
        assert [tokens[i] for i in batch.tgt_in[b, :T]] + ["</s>"] == p["target_tokens"]
        np.testing.assert_allclose(
            probs[b, :T].detach(), p["hf_forward_target_probs"], atol=1e-5, rtol=0
        )
        want = np.array(p["methods"]["attention"]["raw_tgt_x_src_layer_head"])  # [T, S, L, H]
        mine = np.stack([cap.trace.attention[s.key][b, :, :T, :S] for s in model.sites])
        np.testing.assert_allclose(mine.transpose(2, 3, 0, 1), want, atol=1e-5, rtol=0)
        for (method, key), matrices in got.items():
            np.testing.assert_allclose(
                matrices[b], np.array(p["methods"][method][key]), atol=1e-5, rtol=0
            )


@pytest.mark.slow
def test_analyze_a_hugging_face_folder_from_the_command_line(tmp_path, tokenizer):
    from click.testing import CliRunner

    from attnprobe.cli.main import cli

    model = tiny_model("marian", tokenizer).eval()
    d = tmp_path / "tiny-marian"
    model.save_pretrained(d)
    tokenizer.save_pretrained(d)
    (tmp_path / "t.txt").write_text("the black cat ||| le chat noir\ntwo dogs ||| deux chiens\n")
    (tmp_path / "t.gold").write_text("0-0 1-2 2-1\n0-0 1-1\n")
    out = tmp_path / "report"
    args = ["analyze", str(d), "--bitext", str(tmp_path / "t.txt"), "--gold"]
    args += [str(tmp_path / "t.gold"), "--analyses", "alignment,heads", "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    heads = metrics["sections"]["heads"]["schedules"]
    assert [len(heads[s]["all"]["heads"]) for s in ("naive", "shift")] == [2, 2]  # 2 layers
    assert "Layers and heads" in (out / "report.html").read_text()
    assert metrics["model"]["family"] == "huggingface"
    # the explorer's matrices: the other layer heads averaged, every head of both layers;
    # pooling pieces to words is linear, so the heads' mean is the layer's matrix
    from attnprobe.report.quantized import dequantize

    rec = json.loads((out / "sentences.jsonl").read_text().splitlines()[0])
    first, *others = metrics["sites"]
    assert list(rec["site_attention"]) == others and len(others) == 1
    for site in metrics["sites"]:
        heads = [dequantize(q) for q in rec["head_attention"][site]]
        layer = rec["attention"] if site == first else rec["site_attention"][site]
        assert len(heads) == 2
        assert np.abs(np.mean(heads, 0) - dequantize(layer)).max() <= 1.5 / 255


@pytest.mark.slow
def test_inspect_and_translate_a_hugging_face_folder(tmp_path, tokenizer):
    from click.testing import CliRunner

    from attnprobe.cli.main import cli

    model = tiny_model("marian", tokenizer).eval()
    d = tmp_path / "tiny-marian"
    model.save_pretrained(d)
    tokenizer.save_pretrained(d)
    shown = CliRunner().invoke(cli, ["inspect", str(d)])
    assert shown.exit_code == 0, shown.output
    assert "huggingface, marian" in shown.stdout and "cross.1  (cross" in shown.stdout
    said = CliRunner().invoke(cli, ["translate", str(d), "the black cat"])
    assert said.exit_code == 0, said.output
    lines = said.stdout.splitlines()  # (the loader's progress goes to stderr)
    assert lines[0] == "the black cat" and lines[1].startswith("  -> ")
    # the attention grid of the translation: one row per output word and </s>
    words = lines[1].removeprefix("  -> ").split()
    grid_rows = [ln for ln in lines[2:] if ln.strip() and not ln.startswith("      ")]
    assert len(grid_rows) >= len(words) + 1
    beam = CliRunner().invoke(cli, ["translate", "--beam", "2", str(d), "the cat"])
    assert beam.exit_code == 2 and "has no beam search" in beam.output

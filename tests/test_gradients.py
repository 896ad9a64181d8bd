"""Gradient matrices and stop-gradient runs, checked against direct autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from attnprobe.analyses.gradflow import decompose_paths
from attnprobe.data import ParallelCorpus, Vocab, make_batch
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.models.interface import CapabilityError
from attnprobe.models.reference.rnn import ModelConfig, build_model
from attnprobe.runs.gradients import gradient_matrices, path_gradients

CORPUS = ParallelCorpus(
    [["a", "b", "c"], ["b"], ["c", "a"]],
    [["x", "y"], ["y", "z", "x"], ["z"]],
)
VOCAB = Vocab.build(CORPUS.src + CORPUS.tgt)


def tiny(attention="bahdanau", **kw):
    fields = {"score": "general"} if attention == "luong" else {}
    fields = {"hidden_dim": 6, **fields, **kw}
    cfg = ModelConfig(len(VOCAB), len(VOCAB), attention=attention, emb_dim=4, enc_dim=4, **fields)
    model = build_model(cfg, seed=0)
    model.src_vocab = model.tgt_vocab = VOCAB
    return model


class AddDelta(nn.Module):
    """Stands in for the identity hook point: e + delta, so d/d delta = d/d e."""

    def __init__(self, delta):
        super().__init__()
        self.delta = delta

    def forward(self, x):
        return x + self.delta


def direct_gradient(model, i: int, t: int) -> np.ndarray:
    """|| d log p(y_t) / d e_s || for sentence i, by autograd on an explicit input."""
    b = make_batch([CORPUS.src[i]], [CORPUS.tgt[i]], VOCAB, VOCAB)
    delta = torch.zeros(1, b.src.shape[1], model.cfg.emb_dim, requires_grad=True)
    hook = model.encoder.hook_embeddings
    model.encoder.hook_embeddings = AddDelta(delta)
    try:
        model.eval()
        logp = torch.log_softmax(model(b.src, b.src_lens, b.tgt_in).logits, -1)
        (g,) = torch.autograd.grad(logp[0, t, b.tgt_out[0, t]], delta)
    finally:
        model.encoder.hook_embeddings = hook
    return g[0].norm(dim=-1).numpy()


@pytest.mark.parametrize("attention", ["bahdanau", "luong", "none"])
def test_matrix_matches_direct_autograd(attention):
    model = tiny(attention)
    G = gradient_matrices(model, CORPUS, batch_size=2)
    assert [g.shape for g in G] == [(3, 4), (4, 2), (2, 3)]  # [m + 1, n + 1]
    for i, t in [(0, 0), (0, 2), (1, 3), (2, 1)]:
        np.testing.assert_allclose(G[i][t], direct_gradient(model, i, t), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("method", ["sweep", "replicate"])
def test_methods_equal_loop_in_float32(method):
    model = tiny("luong", score="general")
    a = gradient_matrices(model, CORPUS, method=method)
    b = gradient_matrices(model, CORPUS, method="loop")
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    "attention,kw",
    [("bahdanau", {}), ("luong", {"score": "dot", "hidden_dim": 8}), ("luong", {"cell": "lstm"})],
)
def test_attention_and_init_paths_add_up(attention, kw):
    model = tiny(attention, **kw)
    runs = path_gradients(model, CORPUS, stops=("init", "attention", "scores"))
    total = np.concatenate([g.reshape(-1, g.shape[-1]) for g in runs["total"]])
    part = {k: np.concatenate([g.reshape(-1, g.shape[-1]) for g in runs[k]]) for k in runs}
    # the two paths meet only at the encoder: the vectors add up exactly
    np.testing.assert_allclose(part["init"] + part["attention"], total, atol=1e-6)
    d = decompose_paths(total, {"attention": part["init"], "init": part["attention"]})
    assert d.residual < 1e-5
    assert d.projection["attention"] + d.projection["init"] == pytest.approx(1.0, abs=1e-5)
    # the weights are one of several routes: stopping them changes the gradient
    assert not np.allclose(part["scores"], total, atol=1e-6)


def test_no_attention_model_has_one_path():
    model = tiny("none")
    with pytest.raises(InputError, match="one path"):
        gradient_matrices(model, CORPUS, stop="init")


def test_gradient_wrt_states_and_errors():
    model = tiny("bahdanau")
    G = gradient_matrices(model, CORPUS, wrt="states")
    assert G[0].shape == (3, 4) and (G[0] > 0).all()
    with pytest.raises(UnknownNameError, match="did you mean"):
        gradient_matrices(model, CORPUS, wrt="embedings")
    with pytest.raises(UnknownNameError):
        gradient_matrices(model, CORPUS, stop="inti")
    with pytest.raises(CapabilityError, match="recurrent computation graph"):
        gradient_matrices(nn.Linear(2, 2), CORPUS)


class Detach(nn.Module):
    def forward(self, x):
        return x.detach()


@pytest.mark.parametrize(
    "stop,path",
    [("context", "hook_context"), ("init", "hook_init"), ("attention", "hook_states")],
)
def test_stops_match_direct_autograd_with_the_tensor_detached(stop, path):
    model = tiny("luong")
    G = gradient_matrices(model, CORPUS, stop=stop)
    owner = {
        "hook_context": model.decoder.attention,
        "hook_init": model.decoder,
        "hook_states": model.encoder,
    }[path]
    old = getattr(owner, path)
    setattr(owner, path, Detach())
    try:
        for i, t in [(0, 1), (1, 2), (2, 0)]:
            np.testing.assert_allclose(G[i][t], direct_gradient(model, i, t), rtol=1e-5, atol=1e-8)
    finally:
        setattr(owner, path, old)


def test_context_stop_leaves_less_than_the_attention_stop():
    """Detaching every context also cuts init -> query -> attention: a strict part of it."""
    model = tiny("bahdanau")
    runs = path_gradients(model, CORPUS, stops=("attention", "context"))
    for a, c in zip(runs["attention"], runs["context"], strict=True):
        assert not np.allclose(a, c, atol=1e-7)
    with pytest.raises(InputError, match="zero by construction"):
        gradient_matrices(model, CORPUS, wrt="states", stop="attention")


# -- the sweep engine == the per-step loop (no replication) -----------------------


@pytest.mark.parametrize(
    "attention,kw",
    [
        ("bahdanau", {}),
        ("luong", {"score": "general", "cell": "lstm"}),
        ("luong", {"score": "dot", "hidden_dim": 8, "layers": 2}),
        ("none", {}),
    ],
)
@pytest.mark.parametrize("stop", [None, "init", "scores", "attention", "context"])
def test_sweep_equals_loop_in_float64(attention, kw, stop):
    """Padded batches (batch_size=3 mixes source lengths 1-3): to 1e-10 in float64."""
    if attention == "none" and stop is not None:
        pytest.skip("a model without attention has no path to stop")
    model = tiny(attention, **kw).double()
    targets = ["embeddings"]
    if attention != "none" and stop != "attention":
        targets.append("states")
    for wrt in targets:
        want = gradient_matrices(model, CORPUS, wrt=wrt, stop=stop, method="loop", batch_size=3)
        got = gradient_matrices(model, CORPUS, wrt=wrt, stop=stop, method="sweep", batch_size=3)
        for g, w in zip(got, want, strict=True):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_sweep_equals_loop_on_a_fixture():
    """A trained fixture, float32, padded batches of real sentences: to 1e-5."""
    from conftest import FIXTURES

    import attnprobe
    from attnprobe.pipeline.common import default_corpus

    model = attnprobe.load(FIXTURES / "models" / "enfr-bahdanau.pt")
    corpus, _ = default_corpus(model)
    corpus = ParallelCorpus(corpus.src[:6], corpus.tgt[:6])
    assert len(set(map(len, corpus.src))) > 1  # padded batches
    want = gradient_matrices(model, corpus, method="loop", batch_size=6)
    got = gradient_matrices(model, corpus, batch_size=6)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5 * float(np.abs(w).max()))

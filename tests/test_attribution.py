"""Attribution: closed-form answers on an analytic model, and batched == captum called plainly.

The oracle for every method is captum's own class called the straightforward
way (one sentence and one target step per call), which shares no code with the
batched path in attnprobe.runs.attribution.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import attnprobe
from attnprobe.data import PAD_ID, ParallelCorpus, Vocab, make_batch
from attnprobe.errors import UnknownNameError
from attnprobe.models.reference.rnn import ModelConfig
from attnprobe.models.reference.train import TrainConfig, train
from attnprobe.runs.attribution import (
    _DEFAULTS,
    AttributionError,
    _Batch,
    _gradient_shap,
    _row,
    attribute,
    attribute_batch,
    attribute_methods,
)
from attnprobe.runs.sweep import Runner

SRC = [["a", "b", "c"], ["b"], ["c", "a"], ["a", "c", "b", "a"]]
TGT = [["x", "y", "z"], ["y"], ["z", "x"], ["x", "z", "y", "x"]]


# -- an analytic model: logits = W e(src_0) + c, the same at every step -----------------


class FirstToken(nn.Module):
    """Output logits are linear in the embedding of source position 0 only."""

    def __init__(self, vocab: int, dim: int = 3):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=PAD_ID)
        self.temb = nn.Embedding(vocab, dim, padding_idx=PAD_ID)
        self.out = nn.Linear(dim, vocab)
        self.attn = nn.Softmax(-1)  # a site, so that wrap() accepts the model

    def forward(self, src, tgt_in):
        e = self.emb(src)  # [B, S, E]
        q = self.temb(tgt_in)  # [B, T, E]
        self.attn(q @ e.transpose(1, 2))  # unused
        B, T = tgt_in.shape
        return self.out(e[:, 0])[:, None, :].expand(B, T, -1)  # [B, T, V]


def _wrap(module, v):
    """A test module (``forward(src, tgt_in)``, embedding ``emb``) behind the interface."""
    return attnprobe.wrap(
        module,
        forward=lambda m, src, lens, tgt_in: m(src, tgt_in),
        src_vocab=v,
        tgt_vocab=v,
        sites=[attnprobe.Site("attn", read="output", pattern="full")],
        source_embedding="emb",
    )


@pytest.fixture(scope="module")
def analytic():
    torch.manual_seed(0)
    v = Vocab.build(SRC + TGT)
    module = FirstToken(len(v)).double()
    model = _wrap(module, v)
    return model, module, v


@pytest.mark.parametrize("method", ["integrated_gradients", "input_x_gradient"])
def test_linear_model_attribution_is_weight_times_embedding(analytic, method):
    model, module, v = analytic
    batch = make_batch(SRC, TGT, v, v)
    m, delta, _, gain = attribute_batch(
        model, batch, method, target="logit", aggregate="signed_sum", n_steps=8
    )
    W = module.out.weight.detach()
    for n, mat in enumerate(m):
        e0 = module.emb.weight[batch.src[n, 0]].detach()
        # logit_t(y) = W[y] . e0 + c: all of it goes to source position 0, exactly
        want = np.zeros_like(mat)
        for t in range(mat.shape[0]):
            want[t, 0] = float(W[batch.tgt_out[n, t]] @ e0)
        np.testing.assert_allclose(mat, want, atol=1e-12)
        if gain is not None:  # f(x) - f(PAD baseline = zero vector) = W[y] . e0
            np.testing.assert_allclose(gain[n], want[:, 0], atol=1e-12)
    if delta is not None:
        assert max(abs(d).max() for d in delta) < 1e-12


class SumOfTokens(nn.Module):
    """Output logits are linear in the sum of the source embeddings (all positions)."""

    def __init__(self, vocab: int, dim: int = 3):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=PAD_ID)
        self.out = nn.Linear(dim, vocab)
        self.attn = nn.Softmax(-1)  # a site, so that wrap() accepts the model

    def forward(self, src, tgt_in):
        e = self.emb(src)  # [B, S, E]; PAD rows are zero
        self.attn(e.sum(-1))  # unused
        B, T = tgt_in.shape
        return self.out(e.sum(1))[:, None, :].expand(B, T, -1)  # [B, T, V]


def test_baseline_keep_keeps_eos_in_the_baseline():
    """logit_t = W[y_t] . sum_s e_s + c: IG gives W[y_t] . (e_s - b_s) at position s, with
    b_s = e(UNK) except at EOS, where the baseline keeps e(EOS) and the attribution is 0."""
    torch.manual_seed(1)
    v = Vocab.build(SRC + TGT)
    module = SumOfTokens(len(v)).double()
    model = _wrap(module, v)
    batch = make_batch(SRC, TGT, v, v)
    opts = dict(target="logit", aggregate="signed_sum", n_steps=4, baseline="unk")
    kept = attribute_batch(model, batch, "integrated_gradients", baseline_keep=("eos",), **opts)
    plain = attribute_batch(model, batch, "integrated_gradients", **opts)
    W, E = module.out.weight.detach(), module.emb.weight.detach()
    unk, eos = v.unk_id, v.eos_id
    for n in range(len(SRC)):
        S, T = int(batch.src_lens[n]), int(batch.tgt_lens[n])
        want = np.zeros((T, S))
        for t in range(T):
            for s in range(S):
                tok = int(batch.src[n, s])
                base = E[tok] if tok == eos else E[unk]
                want[t, s] = float(W[batch.tgt_out[n, t]] @ (E[tok] - base))
        assert int(batch.src[n, S - 1]) == eos
        np.testing.assert_allclose(kept.matrices[n], want, atol=1e-12)
        np.testing.assert_allclose(kept.gain[n], want.sum(1), atol=1e-12)  # f(x) - f(x')
        want[:, S - 1] = (W[batch.tgt_out[n, :T]] @ (E[eos] - E[unk])).numpy()
        np.testing.assert_allclose(plain.matrices[n], want, atol=1e-12)
    with pytest.raises(UnknownNameError, match="eos"):
        attribute_batch(model, batch, "integrated_gradients", baseline_keep=("end",))
    with pytest.raises(attnprobe.InputError, match="baseline_keep"):
        attribute_batch(model, batch, "integrated_gradients", baseline_keep="eos")


def test_ig_completeness_at_64_steps(analytic):
    model, _, v = analytic
    batch = make_batch(SRC, TGT, v, v)
    # log-softmax of a linear function: non-linear, smooth
    _, delta, _, _ = attribute_batch(model, batch, "integrated_gradients", n_steps=64)
    assert max(abs(d).max() for d in delta) < 1e-4


def test_l2_and_sum_aggregations(analytic):
    model, module, v = analytic
    batch = make_batch(SRC[:1], TGT[:1], v, v)
    e0 = module.emb.weight[batch.src[0, 0]].detach()
    w = module.out.weight[batch.tgt_out[0, 0]].detach()
    per_dim = (e0 * w).numpy()  # InputXGradient of the logit, position 0
    for how, want in (("l2", np.linalg.norm(per_dim)), ("sum", np.abs(per_dim).sum())):
        (m,), _, _, _ = attribute_batch(
            model, batch, "input_x_gradient", target="logit", aggregate=how
        )
        assert m[0, 0] == pytest.approx(want, abs=1e-12)
        assert m[0, 1:].tolist() == [0.0] * (m.shape[1] - 1)


# -- batched == captum, one sentence and one step per call -------------------------------


@pytest.fixture(scope="module")
def trained():
    data = ParallelCorpus(SRC * 2, TGT * 2)
    cfg = ModelConfig(
        src_vocab=8,
        tgt_vocab=8,
        attention="luong",
        score="general",
        emb_dim=6,
        enc_dim=5,
        hidden_dim=8,
    )
    model = train(cfg, data, data, TrainConfig(max_steps=8, eval_every=4), progress=False).model
    model = model.double().eval()
    return model, make_batch(SRC, TGT, model.src_vocab, model.tgt_vocab)


@pytest.fixture(scope="module")
def fixture_model():
    """The En-Fr Bahdanau fixture checkpoint in float64, on 3 short test pairs."""
    from conftest import FIXTURES

    from attnprobe.pipeline.common import default_corpus

    model = attnprobe.load(FIXTURES / "models" / "enfr-bahdanau.pt").double().eval()
    corpus, _ = default_corpus(model)
    short = [i for i, s in enumerate(corpus.src) if 3 <= len(s) <= 6][:3]
    src, tgt = [corpus.src[i] for i in short], [corpus.tgt[i] for i in short]
    return model, make_batch(src, tgt, model.src_vocab, model.tgt_vocab)


#: the captum comparisons run on the tiny trained model and on a fixture checkpoint
MODELS = ["trained", pytest.param("fixture_model", marks=pytest.mark.slow)]


def _step_fn(model):
    from attnprobe.runs.sweep import select as _select

    def f(src, lens, tgt_in, tgt_out, t):
        return _select(model(src, lens, tgt_in).logits, tgt_out, "log_prob")[:, t]

    return f


def _captum_loop(model, batch, call):
    """[T_n, S_n, E] (or [T_n, S_n]) per sentence, one captum call per (sentence, step)."""
    out = []
    for n in range(batch.src.shape[0]):
        s, T = int(batch.src_lens[n]), int(batch.tgt_lens[n])
        src = batch.src[n : n + 1, :s]
        args = (
            batch.src_lens[n : n + 1],
            batch.tgt_in[n : n + 1, :T],
            batch.tgt_out[n : n + 1, :T],
        )
        out.append(torch.stack([call(src, (*args, t))[0] for t in range(T)]).detach())
    return out


def _agg(a, how):
    return {"l2": a.norm(dim=-1), "sum": a.abs().sum(-1), "signed_sum": a.sum(-1)}[how].numpy()


def _check(model, batch, method, want, aggs=("l2", "signed_sum"), **opts):
    for how in aggs:
        got = attribute_batch(model, batch, method, aggregate=how, **opts).matrices
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, _agg(w, how) if w.dim() == 3 else w.numpy(), atol=1e-5)


@pytest.mark.parametrize("which", MODELS)
def test_integrated_gradients_equals_captum(which, request):
    from captum.attr import LayerIntegratedGradients

    model, batch = request.getfixturevalue(which)
    lig = LayerIntegratedGradients(_step_fn(model), model.source_embedding)
    want = _captum_loop(
        model,
        batch,
        lambda src, args: lig.attribute(
            src, baselines=torch.full_like(src, PAD_ID), additional_forward_args=args, n_steps=12
        ),
    )
    # internal_batch_size=8: several forwards per batch, as captum's memory control
    _check(model, batch, "integrated_gradients", want, n_steps=12, internal_batch_size=8)
    # the per-step backward as one vmap (is_grads_batched) gives the same numbers
    _check(model, batch, "integrated_gradients", want, n_steps=12, vectorize=True)


@pytest.mark.parametrize("which", MODELS)
def test_saliency_and_input_x_gradient_equal_captum(which, request):
    from captum.attr import LayerGradientXActivation

    model, batch = request.getfixturevalue(which)
    grad = LayerGradientXActivation(
        _step_fn(model), model.source_embedding, multiply_by_inputs=False
    )
    want = _captum_loop(
        model, batch, lambda src, args: grad.attribute(src, additional_forward_args=args).abs()
    )
    _check(model, batch, "saliency", want, aggs=("l2", "sum"))
    ixg = LayerGradientXActivation(_step_fn(model), model.source_embedding)
    want = _captum_loop(
        model, batch, lambda src, args: ixg.attribute(src, additional_forward_args=args)
    )
    _check(model, batch, "input_x_gradient", want)


def test_methods_share_one_sweep_on_a_padded_batch(trained, monkeypatch):
    """Saliency and input x gradient from one sweep; the encoder pass vectorised per length."""
    from captum.attr import LayerGradientXActivation

    import attnprobe.runs.attribution as A
    import attnprobe.runs.sweep as W

    model, batch = trained
    assert len(set(batch.src_lens.tolist())) > 1  # padded
    calls = {"sweep": 0, "encoder": 0}

    def count(name, fn):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(A, "sweep", count("sweep", A.sweep))
    monkeypatch.setattr(W, "_backward_rows", count("encoder", W._backward_rows))
    got = attribute_methods(model, batch, ["saliency", "input_x_gradient"], aggregate="signed_sum")
    # one sweep; one vmapped encoder backward per source length, none per target step
    assert calls == {"sweep": 1, "encoder": len(set(batch.src_lens.tolist()))}
    for method, multiply in (("saliency", False), ("input_x_gradient", True)):
        lga = LayerGradientXActivation(
            _step_fn(model), model.source_embedding, multiply_by_inputs=multiply
        )
        want = _captum_loop(
            model,
            batch,
            lambda src, args, lga=lga: lga.attribute(src, additional_forward_args=args),
        )
        if method == "saliency":
            want = [w.abs() for w in want]
        for g, w in zip(got[method].matrices, want, strict=True):
            np.testing.assert_allclose(g, w.sum(-1).numpy(), atol=1e-10)
    with pytest.raises(UnknownNameError):
        attribute_methods(model, batch, ["saliency", "salience"])


@pytest.mark.slow
@pytest.mark.parametrize("which", MODELS)
def test_gradient_shap_equals_captum(which, request, monkeypatch):
    # captum's LayerGradientShap interpolates the *inputs* (token ids), which an
    # embedding cannot take; the plain GradientShap on the embeddings is the
    # straightforward use, with the model run from embeddings as IG's tests check it
    from captum.attr import GradientShap

    model, batch = request.getfixturevalue(which)
    drawn = []
    uniform = np.random.uniform

    def record(*args, **kwargs):
        drawn.append(uniform(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(np.random, "uniform", record)
    run = Runner(model, "log_prob", False)

    def f(x, lens, tgt_in, tgt_out, t):
        mask = torch.ones(x.shape[:2], dtype=torch.bool)
        return run.scores(x, mask, lens, tgt_in, tgt_out)[:, t]

    gs = GradientShap(f)
    for n in (1, 2):  # two sentences: captum's GradientShap is slow per step
        one = _row(batch, n)
        x = run.embed(one.src)
        drawn.clear()
        want = []
        for t in range(int(one.tgt_lens[0])):
            np.random.seed(3)  # the same random points for every step of a sentence
            want.append(
                gs.attribute(
                    x,
                    baselines=torch.zeros_like(x),
                    n_samples=4,
                    stdevs=0.0,
                    additional_forward_args=(one.src_lens, one.tgt_in, one.tgt_out, t),
                )[0]
            )
        alphas = torch.tensor(drawn[0], dtype=torch.float64)[:, None]  # [n_samples, N=1]
        assert all(np.array_equal(d, drawn[0]) for d in drawn)
        b = _Batch(one.src, one.src_lens, one.tgt_in, one.tgt_out, one.tgt_lens)
        opts = {**_DEFAULTS, "n_samples": 4}
        (got,) = _gradient_shap(run, b, opts, alphas=alphas)
        np.testing.assert_allclose(got[:, 0].numpy(), torch.stack(want).numpy(), atol=1e-5)


@pytest.mark.parametrize("which", MODELS)
def test_occlusion_equals_captum_feature_ablation(which, request):
    from captum.attr import FeatureAblation

    model, batch = request.getfixturevalue(which)
    ablation = FeatureAblation(_step_fn(model))
    for baseline, token in (("pad", PAD_ID), ("unk", 1)):
        want = _captum_loop(
            model,
            batch,
            lambda src, args, token=token: ablation.attribute(
                src, baselines=token, additional_forward_args=args
            ),
        )
        _check(model, batch, "occlusion", want, aggs=("l2",), baseline=baseline)


def test_occlusion_in_bounded_chunks_gives_the_same_numbers(trained, monkeypatch):
    import attnprobe.runs.attribution as A

    model, batch = trained
    whole = attribute_batch(model, batch, "occlusion").matrices
    monkeypatch.setattr(A, "OCCLUSION_ELEMENTS", 1)  # one (sentence, position) per forward
    chunked = attribute_batch(model, batch, "occlusion").matrices
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert max(float(np.abs(a).max()) for a in whole) > 0


# -- the decoder sweep of reference models == the plain per-step loop ---------------------

SWEEP_ARCHS = [
    {"attention": "bahdanau"},
    {"attention": "luong", "score": "general", "cell": "lstm"},
    {"attention": "luong", "score": "dot", "mode": "local-p", "layers": 2},
    {"attention": "luong", "score": "location", "input_feeding": False, "max_src_len": 8},
    {"attention": "luong", "score": "concat", "bidirectional": False},
    {"attention": "none"},
]


@pytest.mark.parametrize(
    ("arch", "stops", "leaves"),
    [
        ({"attention": "bahdanau"}, (), ["keys"]),
        ({"attention": "luong", "score": "general"}, (), ["keys", "prepared"]),
        ({"attention": "luong", "score": "dot", "hidden_dim": 6}, (), ["keys", "prepared"]),
        ({"attention": "luong", "score": "concat"}, (), ["keys"]),
        (
            {"attention": "luong", "score": "general"},
            ("decoder.attention.hook_context",),
            ["prepared"],
        ),
        (
            {"attention": "luong", "score": "dot", "hidden_dim": 6},
            ("decoder.hook_state",),
            ["keys"],
        ),
        ({"attention": "none"}, (), []),
    ],
)
def test_the_sweep_sets_apart_the_memory_that_one_product_reaches(arch, stops, leaves):
    # the keys reach a step only through its context, a dot-product score's prepared keys
    # only through its scores: their gradients are summed over steps by matrix products.
    # A stop on a tensor those products need keeps them in the steps' own backwards
    # (on the context: the keys; on the query of a dot score: the prepared keys)
    from attnprobe.capturing.edits import detach
    from attnprobe.models.reference.rnn import build_model
    from attnprobe.runs.sweep import _taps

    v = Vocab.build(SRC + TGT)
    dims = {"emb_dim": 4, "enc_dim": 3, "hidden_dim": 6, **arch}
    model = build_model(ModelConfig(len(v), len(v), **dims), seed=1)
    model.src_vocab = model.tgt_vocab = v
    run = Runner(model, "log_prob", False, stops={s: detach() for s in stops})
    assert [t.leaf for t in _taps(run)] == leaves


# vectorize=True on a padded source: pack_padded_sequence's backward has no batching rule
@pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")
@pytest.mark.parametrize("arch", SWEEP_ARCHS, ids=lambda a: "-".join(map(str, a.values())))
@pytest.mark.parametrize("padded", [False, True], ids=["one-length", "padded"])
def test_sweep_equals_per_step_backward(arch, padded, monkeypatch):
    import attnprobe.runs.sweep as A
    from attnprobe.models.reference.rnn import build_model
    from attnprobe.runs.attribution import _gradients_at, _inputs

    v = Vocab.build(SRC + TGT)
    dims = {"emb_dim": 4, "enc_dim": 3, "hidden_dim": 6}
    if arch.get("score") == "dot":
        dims["hidden_dim"] = 6 if arch.get("bidirectional", True) else 3
    model = build_model(ModelConfig(len(v), len(v), **arch, **dims), seed=1).double().eval()
    model.src_vocab = model.tgt_vocab = v
    rows = [0, 3] if padded else [0]  # source lengths 3 and 4, or one sentence
    b = make_batch([SRC[r] for r in rows], [TGT[r] for r in rows], v, v)
    batch = _Batch(b.src, b.src_lens, b.tgt_in, b.tgt_out, b.tgt_lens)
    cells, held = A.SWEEP_CELLS, A.TAP_ELEMENTS
    for share, budget in ((False, A.SWEEP_ELEMENTS), (True, 1)):  # 1: one adjoint per pass
        monkeypatch.setattr(A, "SWEEP_ELEMENTS", budget)
        monkeypatch.setattr(A, "SWEEP_CELLS", 1 if share else cells)  # 1: one row per sweep
        monkeypatch.setattr(A, "TAP_ELEMENTS", 1 if share else held)  # 1: one step per block
        run = Runner(model, "log_prob", share)
        xs, base = _inputs(run, batch, "pad")
        points = [torch.cat([x, 0.5 * (x + b)]) for x, b in zip(xs, base, strict=True)]
        assert run.sweeps
        swept = _gradients_at(run, batch, points)
        monkeypatch.setattr(Runner, "sweeps", property(lambda self: False))
        looped = _gradients_at(run, batch, points)
        run.vectorize = True  # all steps in one vmapped backward, through the whole model
        vectorized = _gradients_at(run, batch, points)
        monkeypatch.setattr(Runner, "sweeps", property(lambda self: True))
        assert len(swept) == len(looped) == len(vectorized) == 1 + share
        for g, want, v in zip(swept, looped, vectorized, strict=True):
            assert g.shape == want.shape == v.shape
            np.testing.assert_allclose(g.numpy(), want.numpy(), atol=1e-12)
            np.testing.assert_allclose(v.numpy(), want.numpy(), atol=1e-12)
        assert any(float(g.abs().max()) > 0 for g in swept)


def test_deeplift_is_refused_on_recurrent_models(trained):
    model, batch = trained
    with pytest.raises(AttributionError, match="DeepLift is not supported.*recurrent"):
        attribute_batch(model, batch, "deeplift")


# -- the corpus API ----------------------------------------------------------------------


def test_attribute_corpus_order_share_and_json(trained):
    model, batch = trained
    corpus = ParallelCorpus(SRC, TGT)
    result = attribute(
        model, corpus, "integrated_gradients", batch_size=3, n_steps=8, target_share=True
    )
    alone, _, _, _ = attribute_batch(
        model, batch, "integrated_gradients", n_steps=8, target_share=True
    )
    for got, want in zip(result.matrices, alone, strict=True):  # corpus order, any batching
        np.testing.assert_allclose(got, want, atol=1e-10)
    assert [m.shape for m in result.matrices] == [
        (len(t) + 1, len(s) + 1) for s, t in zip(SRC, TGT, strict=True)
    ]
    for share in result.source_share:
        assert ((share > 0) & (share <= 1)).all()
    d = result.to_dict()
    assert d["method"] == "integrated_gradients" and d["signature"]["n_steps"] == 8
    assert len(d["delta"]) == len(SRC)


def test_large_delta_is_logged(trained, caplog):
    model, _ = trained
    with caplog.at_level("WARNING", logger="attnprobe"):
        attribute(
            model,
            ParallelCorpus(SRC, TGT),
            n_steps=2,
            integration="riemann_left",
            delta_tolerance=1e-9,
        )
    assert "completeness gap" in caplog.text


def test_bad_options_name_the_choices(trained):
    model, batch = trained
    with pytest.raises(UnknownNameError, match="integrated_gradients"):
        attribute_batch(model, batch, "integrated_gradient")
    with pytest.raises(UnknownNameError, match="aggregation"):
        attribute_batch(model, batch, "saliency", aggregate="l1")
    with pytest.raises(UnknownNameError, match="n_steps"):
        attribute_batch(model, batch, "saliency", nsteps=3)


def test_context_backward_under_vmap_equals_plain_bmm():
    """The attention context's own backward (rows folded into one bmm under vmap) gives what
    autograd gives for ``bmm`` row by row, with the keys shared or batched."""
    from attnprobe.models.reference.attention import _context, _WeightsGrad

    gen = torch.Generator().manual_seed(0)
    w = torch.rand(3, 5, generator=gen, dtype=torch.float64).requires_grad_()
    keys = torch.randn(3, 5, 4, generator=gen, dtype=torch.float64).requires_grad_()
    cots = torch.randn(6, 3, 4, generator=gen, dtype=torch.float64)

    def plain(cot, k):
        c = torch.bmm(w.unsqueeze(1), k).squeeze(1)
        return torch.autograd.grad(c, [w, k], cot)

    c = _context(w, keys)
    got = torch.func.vmap(lambda g: torch.autograd.grad(c, [w, keys], g, retain_graph=True))(cots)
    want = [torch.stack(x) for x in zip(*(plain(g, keys) for g in cots), strict=True)]
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    # the weights' gradient with the keys batched too (one set of keys per row)
    many = keys.detach()[None] + torch.arange(6.0, dtype=torch.float64)[:, None, None, None]
    got = torch.func.vmap(_WeightsGrad.apply)(cots, many)
    want = torch.stack(
        [
            torch.bmm(g.unsqueeze(1), k.transpose(1, 2))[:, 0]
            for g, k in zip(cots, many, strict=True)
        ]
    )
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    got = torch.func.vmap(_WeightsGrad.apply, in_dims=(None, 0))(cots[0], many)
    torch.testing.assert_close(
        got[1], torch.bmm(cots[0].unsqueeze(1), many[1].transpose(1, 2))[:, 0]
    )

"""Trace records: trimming, masks, validation, save/load without pickle, no model references."""

from __future__ import annotations

import gc
import json
import weakref

import pytest
import torch

import attnprobe
from attnprobe.capturing.sites import Site
from attnprobe.capturing.trace import Trace, load_trace
from attnprobe.errors import InputError, SiteError, UnknownNameError
from attnprobe.models.reference.rnn import ModelConfig, build_model

CROSS = Site("cross")
SELF = Site("self", pattern="full", role="decoder-self")


def make_trace(**extra):
    # sentence 0: S=3, T=2; sentence 1: S=2, T=1 (padded to S=3, T=2); 2 heads
    cross = torch.arange(2 * 2 * 2 * 3, dtype=torch.float32).view(2, 2, 2, 3)
    self_ = torch.arange(2 * 2 * 2 * 2, dtype=torch.float32).view(2, 2, 2, 2)
    return Trace(
        sites=(CROSS, SELF),
        attention={"cross": cross, "self": self_},
        src_lens=torch.tensor([3, 2]),
        tgt_lens=torch.tensor([2, 1]),
        src_tokens=[["a", "b", "</s>"], ["c", "</s>"]],
        tgt_tokens=[["<s>", "x"], ["<s>"]],
        **extra,
    )


def test_example_trims_every_site_by_its_role():
    ex = make_trace().example(1)
    assert (ex.src_len, ex.tgt_len, ex.src_tokens, ex.tgt_tokens) == (2, 1, ("c", "</s>"), ("<s>",))
    assert ex.attention["cross"].tolist() == [[[12.0, 13.0]], [[18.0, 19.0]]]  # [H, T=1, S=2]
    assert ex.attention["self"].tolist() == [[[8.0]], [[12.0]]]  # [H, T=1, T=1]
    assert ex.matrix(head=1).tolist() == [[18.0, 19.0]]
    with pytest.raises(SiteError, match="2 heads"):
        ex.matrix()
    with pytest.raises(UnknownNameError):
        ex.matrix("nope", head=0)
    assert make_trace().example(-1).index == 1
    with pytest.raises(InputError, match="out of range"):
        make_trace().example(2)


def test_mask_and_lengths_follow_the_role():
    t = make_trace()
    assert t.mask("cross")[1, 0].tolist() == [[True, True, False], [False, False, False]]
    assert t.mask("self")[0, 0].tolist() == [[True, True], [True, True]]
    assert t.site().key == "cross" and t.weights().shape == (2, 2, 2, 3)
    assert [x.tolist() for x in t.lengths("self")] == [[2, 1], [2, 1]]


def test_trace_is_frozen_and_detached():
    w = torch.ones(1, 1, 1, 1, requires_grad=True) * 1.0
    t = Trace((CROSS,), {"cross": w}, torch.tensor([1]), torch.tensor([1]))
    assert not t.attention["cross"].requires_grad
    with pytest.raises(AttributeError):
        t.src_lens = torch.tensor([2])
    with pytest.raises(TypeError):
        t.attention["other"] = w


def test_bad_traces_are_refused():
    with pytest.raises(InputError, match="do not match the attention"):
        Trace((CROSS,), {"x": torch.ones(1, 1, 1, 1)}, torch.tensor([1]), torch.tensor([1]))
    with pytest.raises(InputError, match=r"\[B=1, H, T, S\]"):
        Trace((CROSS,), {"cross": torch.ones(1, 1, 1)}, torch.tensor([1]), torch.tensor([1]))


def test_save_and_load_round_trip_without_pickle(tmp_path):
    t = make_trace(grads={"cross": torch.full((2, 2, 2, 3), -1.0)}, meta={"edits": {}})
    tensors, sidecar = t.save(tmp_path / "run.safetensors")
    assert sidecar.name == "run.json"
    assert b"pickle" not in tensors.read_bytes()[:200] and tensors.read_bytes()[8:9] == b"{"
    back = load_trace(tensors)
    for key in t.attention:
        assert torch.equal(back.attention[key], t.attention[key])
    assert torch.equal(back.grads["cross"], t.grads["cross"])
    assert back.sites == t.sites and back.src_tokens == t.src_tokens
    assert back.tgt_lens.tolist() == [2, 1] and back.meta["edits"] == {}


def test_load_refuses_a_mismatched_or_missing_sidecar(tmp_path):
    a, b = make_trace(), make_trace(meta={"other": 1})
    a.save(tmp_path / "a.safetensors")
    b.save(tmp_path / "b.safetensors")
    (tmp_path / "a.json").write_text((tmp_path / "b.json").read_text())
    info = json.loads((tmp_path / "a.json").read_text())
    info["tensors_sha256"] = "0" * 64
    (tmp_path / "a.json").write_text(json.dumps(info))
    with pytest.raises(InputError, match="keep the .safetensors and .json"):
        Trace.load(tmp_path / "a.safetensors")
    (tmp_path / "b.json").unlink()
    with pytest.raises(InputError, match="not found"):
        Trace.load(tmp_path / "b.safetensors")
    with pytest.raises(InputError, match="cannot end in .json"):
        a.save(tmp_path / "x.json")


def test_a_captured_trace_keeps_no_reference_to_the_model():
    model = build_model(ModelConfig(src_vocab=8, tgt_vocab=8, emb_dim=4, enc_dim=4, hidden_dim=8))
    with attnprobe.capture(model, grads=True, states=True) as cap:
        out = model(torch.tensor([[4, 5, 3]]), torch.tensor([3]), torch.tensor([[2, 6]]))
        out.logits.sum().backward()
    trace = cap.trace
    ref = weakref.ref(model)
    del model, cap, out
    gc.collect()
    assert ref() is None
    assert trace.example(0).matrix().shape == (2, 3) and trace.states.shape == (1, 3, 8)


def test_tokens_are_spelled_on_first_read_and_need_no_model():
    from attnprobe.capturing.trace import LazyTokens
    from attnprobe.data import Vocab, make_batch

    src, tgt = [["a", "b", "c"], ["b"]], [["x", "y"], ["y", "x", "x"]]
    v = Vocab.build(src + tgt)
    model = build_model(ModelConfig(len(v), len(v), emb_dim=4, enc_dim=4, hidden_dim=8), seed=0)
    model.src_vocab = model.tgt_vocab = v
    b = make_batch(src, tgt, v, v)  # padded: source lengths 4 and 2
    with attnprobe.capture(model, src_lens=b.src_lens, tgt_lens=b.tgt_lens) as cap:
        model(b.src, b.src_lens, b.tgt_in)
    trace = cap.trace
    assert isinstance(trace.__dict__["_src_tokens"], LazyTokens)  # nothing spelled yet

    # the expected rows: the vocabulary read directly, row by row
    def spelled(ids, lens):
        return tuple(tuple(v.tokens[i] for i in r[:n]) for r, n in zip(ids, lens, strict=True))

    want_src, want_tgt = spelled(b.src.tolist(), [4, 2]), spelled(b.tgt_in.tolist(), [3, 4])
    ref = weakref.ref(model)
    del model, cap
    gc.collect()
    assert ref() is None  # the lazy tokens keep no model alive
    assert trace.src_tokens == want_src and trace.tgt_tokens == want_tgt
    assert trace.src_tokens[1] == ("b", "</s>") and trace.tgt_tokens[0][0] == "<s>"
    assert trace.src_tokens is trace.src_tokens  # spelled once, then kept

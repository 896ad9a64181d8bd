"""Output edits (any module's output replaced during a capture), states-only capture, live()."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import attnprobe
from attnprobe.capturing import edits
from attnprobe.capturing.sites import Site
from attnprobe.data import BOS_ID
from attnprobe.errors import InputError, SiteError, UnknownNameError
from attnprobe.models.reference.rnn import ARCHS, ModelConfig, build_model

SMALL = {"src_vocab": 11, "tgt_vocab": 13, "emb_dim": 6, "enc_dim": 4, "hidden_dim": 8}


def model_for(name: str, seed: int = 0):
    return build_model(ModelConfig(**SMALL, max_src_len=12, **ARCHS[name]), seed=seed).eval()


def batch():
    src = torch.tensor([[4, 5, 6, 7, 3], [8, 3, 0, 0, 0], [9, 4, 3, 0, 0]])
    lens = torch.tensor([5, 2, 3])
    tgt_in = torch.tensor([[BOS_ID, 5, 6, 7], [BOS_ID, 8, 0, 0], [BOS_ID, 9, 10, 0]])
    return src, lens, tgt_in


class Replace(nn.Module):
    """Stands in for an identity hook point: an independent way to edit its output."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def swapped(model, path: str, fn):
    """A context in which the hook point at ``path`` is replaced by ``Replace(fn)``."""
    parent, name = path.rsplit(".", 1)
    owner = model.get_submodule(parent)

    class Swap:
        def __enter__(self):
            self.old = getattr(owner, name)
            setattr(owner, name, Replace(fn))

        def __exit__(self, *exc):
            setattr(owner, name, self.old)

    return Swap()


def embedding_grad(model, loss_fn, **capture_kw):
    """d loss / d (source embeddings) read from a capture's states record."""
    src, lens, tgt_in = batch()
    with attnprobe.capture(
        model, states="encoder.hook_embeddings", state_grads=True, **capture_kw
    ) as cap:
        out = model(src, lens, tgt_in)
        loss_fn(out.logits).backward()
    return out.logits.detach(), cap.trace.state_grads


def direct_embedding_grad(model, loss_fn):
    """The same gradient by plain autograd on an explicit embedding tensor (no capture)."""
    src, lens, tgt_in = batch()
    emb = model.encoder.embedding(src).detach().requires_grad_()
    with swapped(model, "encoder.hook_embeddings", lambda x: emb):
        out = model(src, lens, tgt_in)
        f = loss_fn(out.logits)
        (g,) = torch.autograd.grad(f, emb, allow_unused=True) if f.requires_grad else (None,)
    return out.logits.detach(), torch.zeros_like(emb) if g is None else g


def loss(logits):
    return torch.log_softmax(logits, -1)[:, -1, 5].sum()


@pytest.mark.parametrize("path", ["decoder.hook_init", "decoder.attention.hook_context"])
def test_identity_output_edit_changes_nothing_bitwise(path):
    model = model_for("bahdanau")
    src, lens, tgt_in = batch()
    plain = model(src, lens, tgt_in)
    with attnprobe.capture(model, edits={path: edits.identity()}) as cap:
        out = model(src, lens, tgt_in)
    assert torch.equal(out.logits, plain.logits)
    assert torch.equal(out.attention, plain.attention)
    assert cap.trace.meta["edits"] == {path: "identity"}


@pytest.mark.parametrize(
    "arch,path",
    [
        ("bahdanau", "decoder.hook_init"),
        ("luong-general", "decoder.hook_init"),
        ("luong-dot", "decoder.attention.hook_context"),
        ("bahdanau", "encoder.hook_states"),
        ("none", "decoder.hook_init"),
    ],
)
def test_detach_changes_gradients_not_outputs(arch, path):
    model = model_for(arch)
    ref_logits, ref_grad = embedding_grad(model, loss)
    logits, grad = embedding_grad(model, loss, edits={path: edits.detach()})
    assert torch.equal(logits, ref_logits)  # a detached tensor keeps its value
    assert not torch.allclose(grad, ref_grad, atol=1e-6)
    # independently: the hook point swapped for a module that detaches
    _, direct = direct_embedding_grad_swapped(model, path)
    torch.testing.assert_close(grad, direct, rtol=1e-5, atol=1e-7)


def direct_embedding_grad_swapped(model, path):
    with swapped(model, path, lambda x: x.detach()):
        return direct_embedding_grad(model, loss)


def test_detaching_the_only_path_of_a_plain_model_leaves_no_gradient():
    """With an output edit, a gradient cut to nothing is a zero record, not an error."""
    model = model_for("none")
    _, grad = embedding_grad(model, loss, edits={"decoder.hook_init": edits.detach()})
    assert grad.shape == (3, 5, SMALL["emb_dim"]) and torch.count_nonzero(grad) == 0


def test_model_without_attention_is_capturable_for_its_states():
    model = model_for("none")
    src, lens, tgt_in = batch()
    with attnprobe.capture(model, states=True) as cap:
        model(src, lens, tgt_in)
    trace = cap.trace
    assert trace.attention == {} and trace.keys == []
    assert trace.src_lens.tolist() == [5, 2, 3]
    with torch.no_grad():
        expected = model.encoder(src, lens).states  # [B, S, D]
    torch.testing.assert_close(trace.states, expected)
    # its gradient (the states feed no attention here: only the embeddings get one)
    _, grad = embedding_grad(model, loss)
    assert grad.shape == (3, 5, SMALL["emb_dim"]) and torch.count_nonzero(grad[0]) > 0
    # the encoder-only path: an explicit empty site list works too
    with attnprobe.capture(model, sites=[], states=True):
        model(src, lens, tgt_in)
    # nothing asked at all is still an error
    with pytest.raises(SiteError, match="no attention sites"):
        attnprobe.capture(model).__enter__()
    with pytest.raises(InputError, match="sites is empty"):
        attnprobe.capture(model, sites=[]).__enter__()


def test_constant_embeddings_match_a_direct_run():
    model = model_for("luong-concat")
    src, lens, tgt_in = batch()
    x = torch.randn(3, 5, SMALL["emb_dim"], generator=torch.Generator().manual_seed(0))
    x.requires_grad_()
    with attnprobe.capture(model, edits={"encoder.hook_embeddings": edits.constant(x)}):
        out = model(src, lens, tgt_in)
        (g,) = torch.autograd.grad(loss(out.logits), x)
    with swapped(model, "encoder.hook_embeddings", lambda e: x):
        direct = model(src, lens, tgt_in)
        (g_direct,) = torch.autograd.grad(loss(direct.logits), x)
    assert torch.equal(out.logits, direct.logits)
    torch.testing.assert_close(g, g_direct, rtol=1e-6, atol=1e-8)


def test_states_site_key_and_record_after_the_edit():
    """Keyed by Site(..., role="states"); the record on the same module sees the edit."""
    model = model_for("bahdanau")
    src, lens, tgt_in = batch()
    site = Site("encoder.hook_embeddings", pattern="full", role="states", name="emb")
    x = torch.full((3, 5, SMALL["emb_dim"]), 0.25)
    with attnprobe.capture(model, edits={site: edits.constant(x)}, states=site) as cap:
        model(src, lens, tgt_in)
    assert torch.equal(cap.trace.states, x)


def test_tuple_output_edited_by_index():
    model = nn.ModuleDict({"gru": nn.GRU(3, 4, batch_first=True)})
    x = torch.randn(2, 5, 3)
    site = Site("gru", read=1, pattern="full", role="states")  # (output, h_n): edit h_n
    states = Site("gru", read=0, pattern="full", role="states")
    with attnprobe.capture(model, sites=[], edits={site: lambda h, info: h * 0}, states=states):
        out, h = model["gru"](x)
    assert torch.count_nonzero(h) == 0 and torch.count_nonzero(out) > 0


def test_site_key_of_a_plain_module_is_an_output_edit():
    """A Site of a module that is no attention site edits its output (any role)."""
    model = model_for("bahdanau")
    src, lens, tgt_in = batch()
    seen = []

    def record(states, info):
        seen.append(states.shape)
        return states

    with attnprobe.capture(model, edits={Site("encoder", read=0): record}):
        model(src, lens, tgt_in)
    assert seen == [torch.Size([3, 5, 2 * SMALL["enc_dim"]])]  # EncoderOutput.states


def test_output_edit_errors_and_cleanup():
    model = model_for("bahdanau")
    src, lens, tgt_in = batch()
    with pytest.raises(UnknownNameError, match="did you mean 'decoder.hook_init'"):
        attnprobe.capture(model, edits={"decoder.hook_int": edits.detach()}).__enter__()
    with (
        pytest.raises(SiteError, match=r"expected a tensor \[1, 3, 8\]"),
        attnprobe.capture(model, edits={"decoder.hook_init": lambda h, info: h[0]}),
    ):
        model(src, lens, tgt_in)
    with (
        pytest.raises(SiteError, match="never fired"),
        attnprobe.capture(model, edits={"decoder.hook_init": edits.detach()}),
    ):
        model.encoder(src, lens)
    with pytest.raises(InputError, match="constant"):
        edits.constant([1.0])

    class Boom(Exception):
        pass

    def broken(h, info):
        raise Boom

    with pytest.raises(Boom), attnprobe.capture(model, edits={"decoder.hook_init": broken}):
        model(src, lens, tgt_in)
    assert not any(m._forward_hooks for m in model.modules())  # removed, also on exceptions
    assert model(src, lens, tgt_in).logits.isfinite().all()


def test_per_step_output_edit_sees_every_step():
    model = model_for("luong-general")
    src, lens, tgt_in = batch()
    seen = []

    def only_step_2(c, info):
        seen.append((info.site, info.step, info.rows, info.mask))
        return c.detach() if info.step == 2 else c

    with attnprobe.capture(model, edits={"decoder.attention.hook_context": only_step_2}):
        model(src, lens, tgt_in)
    assert seen == [("decoder.attention.hook_context", t, None, None) for t in range(4)]


def test_live_tensor_gives_batched_per_step_gradients():
    model = model_for("bahdanau")
    src, lens, tgt_in = batch()
    tgt_out = torch.tensor([[5, 6, 7, 3], [8, 3, 0, 0], [9, 10, 3, 0]])
    site = Site("encoder.hook_embeddings", pattern="full", role="states", name="emb")
    with attnprobe.capture(model, states=site) as cap:
        logits = model(src, lens, tgt_in).logits  # [B, T, V]
        emb = cap.live("emb")  # [B, S, E], the tensor the encoder used
        f = torch.log_softmax(logits, -1).gather(-1, tgt_out[..., None])[..., 0]  # [B, T]
        T = f.shape[1]
        one_hot = torch.eye(T)[:, None, :].expand(T, 3, T)  # [T, B, T]: step t of each row
        (batched,) = torch.autograd.grad(f, emb, grad_outputs=one_hot, is_grads_batched=True)
    with pytest.raises(SiteError, match="inside the with block"):
        cap.live("emb")
    for t in range(T):  # one step at a time, without capture
        _, g = direct_embedding_grad(
            model,
            lambda lg, t=t: torch.log_softmax(lg, -1)[:, t].gather(-1, tgt_out[:, t, None]).sum(),
        )
        torch.testing.assert_close(batched[t], g, rtol=1e-5, atol=1e-7)


def test_live_refuses_per_step_sites_and_unknown_keys():
    model = model_for("bahdanau")
    src, lens, tgt_in = batch()
    with attnprobe.capture(model, states=True) as cap:
        with pytest.raises(SiteError, match="not fired yet"):
            cap.live("encoder.states")
        model(src, lens, tgt_in)
        with pytest.raises(SiteError, match="per-step"):
            cap.live("decoder.attention")
        with pytest.raises(UnknownNameError):
            cap.live("decoder.atention")

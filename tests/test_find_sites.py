"""find_sites whatever the modules are called: by reading their code, by running an example.

Every site proposed is then captured and compared with the weights the module
itself returns or stores (oracles), or with a value computed by hand.
"""

from __future__ import annotations

import math

import attention_zoo as zoo
import pytest
import torch
from discovery_zoo import (
    Additive,
    AttnDecoderRNN,
    EitherAttention,
    FusedSeq2Seq,
    MixedSeq2Seq,
    MlpAttender,
    ReturningAttender,
    ReturnsDict,
    SdpaAttention,
    StepDecoder,
)
from torch import nn

import attnprobe
from attnprobe.capturing.discovery import find_sites
from attnprobe.capturing.hooks import probe
from attnprobe.capturing.sites import Site, Skipped, find_unreadable
from attnprobe.errors import InputError


class TutorialStep(zoo.AttnDecoderRNN):
    """The PyTorch tutorial's step decoder under a class name no spec knows: its attention
    is ``F.softmax(self.attn(torch.cat(...)))`` inside the decoder's own forward."""


class TutorialLoop(AttnDecoderRNN):
    """The newer tutorial's looping decoder under a class name no spec knows."""


def sites(candidates, spec=None) -> list[Site]:
    return [c.site for c in candidates if spec is None or c.spec == spec]


# ------------------------------------------------------------------ reading the code


def test_code_finds_attention_whatever_the_module_is_called():
    model = nn.ModuleDict(
        {
            "attender": MlpAttender(4, 3),  # stores its weights, returns the context
            "returning": ReturningAttender(4, 3),  # returns (context, weights)
            "scorer": Additive(4, 3),  # returns (context, alpha)
            "dec": TutorialStep(4, 5, max_length=3),  # returns (logp, hidden, weights)
            "dict": ReturnsDict(),  # returns {"context": ..., "weights": ...}
            "fused": SdpaAttention(4),  # no weights: not a site
            "proj": nn.Linear(2, 2),
        }
    )
    found = find_sites(model)
    assert sites(found, "code") == [
        Site("attender", read="softmax"),
        Site("returning", read=1),
        Site("scorer", read=1),
        Site("dec", read=2),
        Site("dict", read="weights"),
    ]
    reasons = {c.site.path: c.reason for c in found}
    assert "does not return it" in reasons["attender"] and "at index 1" in reasons["scorer"]
    assert "check pattern" in reasons["dec"]
    # the tutorial's score layer is still only named like attention: a guess, as before
    assert sites(found, "name") == [
        Site("dec.attn", read="softmax"),
        Site("dec.attn_combine", read="softmax"),
    ]


def test_fused_modules_are_unreadable_not_sites():
    assert find_unreadable(FusedSeq2Seq()) == [
        Skipped(
            "cross",
            "SdpaAttention runs torch.nn.functional.scaled_dot_product_attention, a fused "
            "kernel that never materialises the attention weights",
        )
    ]
    assert [s.path for s in find_unreadable(MixedSeq2Seq())] == ["prenet"]  # not the MHAs
    assert find_unreadable(nn.Transformer(8, 2, 1, 1, 16, batch_first=True)) == []
    # a module with a fused path and an explicit one is a site, with a warning
    (c,) = find_sites(nn.ModuleDict({"either": EitherAttention(4)}))
    assert c.site == Site("either", read=1) and "scaled_dot_product_attention" in c.reason
    assert find_unreadable(nn.ModuleDict({"either": EitherAttention(4)})) == []


def test_code_without_source_is_no_candidate():
    namespace: dict = {"nn": nn, "torch": torch}
    exec(  # noqa: S102 -- a class whose source inspect cannot find
        "class NoSource(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return torch.softmax(x, -1), x\n",
        namespace,
    )
    assert find_sites(nn.ModuleDict({"m": namespace["NoSource"]()})) == []


def test_code_suggestion_captures_what_the_module_returns():
    torch.manual_seed(0)
    dec = StepDecoder(ReturningAttender(4, 3), 4)
    (site,) = sites(find_sites(dec), "code")
    assert site == Site("attender", read=1)
    memory = torch.randn(2, 5, 4)
    with attnprobe.capture(dec, sites=[site]) as cap:
        dec(memory, 3)
    expected = torch.stack(dec.attender.attention_vecs, 1)  # what it stored: [B, T, S]
    torch.testing.assert_close(cap.trace.attention["attender"][:, 0], expected, rtol=0, atol=0)


# ------------------------------------------------------------------ running an example


def test_example_finds_a_stored_attention_per_step_and_capture_reads_it():
    torch.manual_seed(0)
    dec = StepDecoder(MlpAttender(4, 3), 4)
    memory = torch.randn(2, 5, 4)
    (c,) = find_sites(dec, example=lambda: dec(memory, 3))
    assert c.spec == "example"
    assert c.site == Site("attender", read="softmax", pattern="per_step")
    assert "[2, 5]" in c.reason and "3 calls" in c.reason
    dec.attender.attention_vecs.clear()
    with attnprobe.capture(dec, sites=[c.site]) as cap:
        dec(memory, 4)
    expected = torch.stack(dec.attender.attention_vecs, 1)  # the attender's own record
    assert cap.trace.attention["attender"].shape == (2, 1, 4, 5)
    torch.testing.assert_close(cap.trace.attention["attender"][:, 0], expected, rtol=0, atol=0)


def test_example_on_the_tutorial_decoder_under_another_name():
    torch.manual_seed(0)
    dec = TutorialStep(6, 7, max_length=5, dropout_p=0.0)
    memory, h0 = torch.randn(5, 6), torch.zeros(1, 1, 6)

    def decode(steps=3):
        token, h, weights = torch.tensor([[0]]), h0, []
        for _ in range(steps):
            out, h, w = dec(token, h, memory)
            weights.append(w)
            token = out.argmax(-1, keepdim=True)
        return torch.cat(weights)  # [T, S]

    # the score layer named `attn` ran and computed no softmax: no longer a guess
    assert sites(find_sites(dec, example=decode)) == [Site("", read="softmax")]
    with attnprobe.capture(dec, sites=[Site("", read="softmax")]) as cap:
        returned = decode(4)
    torch.testing.assert_close(cap.trace.attention["root"][0, 0], returned, rtol=0, atol=0)


def test_example_bahdanau_scorer_weights_by_hand():
    scorer = Additive(1, 1)
    with torch.no_grad():
        scorer.W.weight.zero_()
        scorer.U.weight.fill_(1.0)
        scorer.v.weight.fill_(2.0)
    # e_j = 2 tanh(h_j): h = (0, atanh(ln(3) / 2)) gives e = (0, ln 3), alpha = (1/4, 3/4)
    h = torch.tensor([[[0.0], [math.atanh(math.log(3) / 2)]]], dtype=torch.float64)
    s = torch.zeros(1, 1, dtype=torch.float64)
    model = nn.ModuleDict({"scorer": scorer.double()})
    (c,) = find_sites(model, example=lambda: scorer(s, h), src_len=2)
    assert c.site == Site("scorer", read="softmax")
    with attnprobe.capture(model, sites=[c.site]) as cap:
        scorer(s, h)
    w = cap.trace.attention["scorer"][0, 0, 0]
    assert w.tolist() == pytest.approx([0.25, 0.75], abs=1e-12)


def test_example_src_len_picks_the_softmax_over_the_source():
    model = zoo.TwoSoftmaxes()  # a gate over T = 3, then the attention over S = 5
    q, k = torch.randn(2, 3, 4), torch.randn(2, 5, 4)
    assert sites(find_sites(model, example=((q, k), {}))) == [
        Site("", read="softmax", call=0),  # the gate [B, T]: a distribution too
        Site("", read="softmax", pattern="full", call=1),
    ]
    (c,) = find_sites(model, example=((q, k), {}), src_len=5)
    assert c.site == Site("", read="softmax", pattern="full", call=1)
    with attnprobe.capture(model, sites=[c.site]) as cap:
        _, weights = model(q, k)
    torch.testing.assert_close(cap.trace.attention["root"][:, 0], weights, rtol=0, atol=0)


def test_example_source_first_weights_get_their_layout():
    class SourceFirst(zoo.AttentionLayer):
        """fairseq's LSTM attention ([S, B] weights) under a class name no spec knows."""

    torch.manual_seed(0)
    S, B, D = 4, 2, 3
    layer, hids = SourceFirst(D), torch.randn(S, B, D)
    pad = torch.zeros(S, B, dtype=torch.bool)

    def steps(n):
        x, rows = torch.randn(B, D), []
        for _ in range(n):
            x, a = layer(x, hids, pad)
            rows.append(a.t())  # [B, S]
        return torch.stack(rows, 1)  # [B, T, S]

    (c,) = find_sites(layer, example=lambda: steps(2), src_len=S)
    assert c.site == Site("", read="softmax", layout="SB")
    with attnprobe.capture(layer, sites=[c.site]) as cap:
        returned = steps(3)
    torch.testing.assert_close(cap.trace.attention["root"][:, 0], returned, rtol=0, atol=0)


def test_example_on_a_looping_decoder_finds_the_step_and_the_stacked_weights():
    torch.manual_seed(0)
    dec = TutorialLoop(6, 7, steps=3)
    memory, h0 = torch.randn(2, 5, 6), torch.zeros(1, 2, 6)
    found = sites(find_sites(dec, example=((memory, h0), {})))
    assert found == [
        Site("", read=2, pattern="full"),  # the loop returns them stacked: [B, T, S]
        Site("attention", read="softmax"),  # its attention module, once per step: [B, 1, S]
    ]
    with attnprobe.capture(dec, sites=found) as cap:
        _, _, attentions = dec(memory, h0)
    for key in ("root", "attention"):
        torch.testing.assert_close(cap.trace.attention[key][:, 0], attentions, rtol=0, atol=0)


def test_example_keeps_name_guesses_only_for_modules_that_did_not_run():
    model = nn.ModuleDict({"attn_proj": nn.Linear(2, 2), "attn_idle": nn.Linear(2, 2)})
    (c,) = find_sites(model, example=lambda: model["attn_proj"](torch.zeros(1, 2)))
    assert c.site.path == "attn_idle" and "did not run in the example" in c.reason


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"example": torch.zeros(2)}, "example must be"),
        ({"example": (torch.zeros(2), torch.zeros(2))}, "example must be"),
        ({"example": nn.Linear(2, 2)}, "example must be"),
        ({"src_len": 3}, "needs an example"),
        ({"example": lambda: None, "src_len": 0}, "positive int"),
    ],
)
def test_bad_examples_are_refused(kwargs, message):
    with pytest.raises(InputError, match=message):
        find_sites(nn.Linear(2, 2), **kwargs)


# ------------------------------------------------------------------ the probe run


class Boom(Exception):
    pass


def test_probe_puts_everything_back_when_the_example_raises():
    dec = StepDecoder(MlpAttender(4, 3), 4).train()
    dec.cell.eval()  # a mixed state comes back as it was

    def run():
        dec(torch.randn(1, 3, 4), 2)
        raise Boom("in the example")

    with pytest.raises(Boom):
        find_sites(dec, example=run)
    assert dec.training and dec.attender.training and not dec.cell.training
    assert torch.is_grad_enabled() and torch._C._len_torch_function_stack() == 0
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in dec.modules())


def test_probe_ignores_softmaxes_outside_every_module_and_counts_calls():
    model = nn.ModuleDict({"norm": nn.Softmax(-1), "idle": nn.Softmax(-1)})

    def run():
        torch.softmax(torch.zeros(2, 3), -1)  # the example's own: no module's
        for _ in range(3):
            model["norm"](torch.zeros(2, 4))

    seen, calls = probe(model, run)
    assert [(o.path, o.read, o.shape, o.axis, o.calls) for o in seen] == [
        ("norm", "softmax", (2, 4), 1, 3)
    ]
    assert calls == {"norm": 3}
    # an nn.Softmax is read at its output (the softmax inside it is its whole forward)
    assert sites(find_sites(model, example=run)) == [Site("norm", read="output")]

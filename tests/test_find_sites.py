"""find_sites whatever the modules are called: by reading their code.

Every site proposed is then captured and compared with the weights the module
itself returns or stores (oracles), or with a value computed by hand.
"""

from __future__ import annotations

import attention_zoo as zoo
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
from attnprobe.capturing.sites import Site, Skipped, find_sites, find_unreadable


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

"""capture(model) without sites: what it captures, what it skips and says so, when it refuses."""

from __future__ import annotations

import logging

import pytest
import torch
from discovery_zoo import (
    AttnDecoderRNN,
    FusedSeq2Seq,
    MixedSeq2Seq,
    ReturningAttender,
    StepDecoder,
    renamed_step_decoder,
)
from torch import nn

import attnprobe
from attnprobe.capturing.discovery import find_sites
from attnprobe.capturing.sites import Site
from attnprobe.errors import SiteError

SDPA = "torch.nn.functional.scaled_dot_product_attention"


def no_hooks(model: nn.Module) -> bool:
    return not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_a_fused_cross_attention_is_named_and_refused(caplog):
    model = FusedSeq2Seq().train()
    with (
        caplog.at_level(logging.WARNING, logger="attnprobe"),
        pytest.raises(SiteError) as err,
    ):
        attnprobe.capture(model).__enter__()
    message = str(err.value)
    assert "found no cross-attention" in message
    assert "found only encoder.layers.0.self_attn (encoder-self)" in message
    assert f"[cross: SdpaAttention runs {SDPA}" in message
    assert "Site(path, read=...)" in message and "without a fused kernel" in message
    assert "\n" not in message  # the CLI shows errors as one line
    (record,) = [r for r in caplog.records if r.name == "attnprobe"]
    assert record.levelno == logging.WARNING and "cross: SdpaAttention" in record.getMessage()
    assert model.training and no_hooks(model)  # refused before anything changed


def test_only_self_attention_is_refused_with_the_sites_to_name():
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    enc = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    with pytest.raises(SiteError, match="no cross-attention") as err:
        attnprobe.capture(enc).__enter__()
    assert "name it: sites=['layers.0.self_attn', 'layers.1.self_attn']" in str(err.value)
    assert "Skipped" not in str(err.value) and "skipped" not in str(err.value)


def test_a_readable_cross_attention_is_captured_and_the_fused_module_listed(caplog):
    torch.manual_seed(0)
    model = MixedSeq2Seq().eval()
    src, tgt = torch.randn(2, 5, 8), torch.randn(2, 3, 8)
    with caplog.at_level(logging.WARNING, logger="attnprobe"), attnprobe.capture(model) as cap:
        model(src, tgt)
    assert [s.path for s in cap.skipped] == ["prenet"]
    assert cap.skipped[0].reason.startswith(f"SdpaAttention runs {SDPA}")
    assert any("prenet: SdpaAttention" in r.getMessage() for r in caplog.records)
    trace = cap.trace
    assert trace.meta["skipped"] == [{"path": "prenet", "reason": cap.skipped[0].reason}]
    assert {s.key: s.role for s in trace.sites} == {
        "layer.self_attn": "decoder-self",
        "layer.multihead_attn": "cross",
    }
    # the cross weights, computed by hand from the layer's parts
    layer = model.layer
    with torch.no_grad():
        x = tgt + model.prenet(tgt, tgt)
        x = layer.norm1(x + layer.self_attn(x, x, x, need_weights=False)[0])
        _, expected = layer.multihead_attn(x, src, src, average_attn_weights=False)
    torch.testing.assert_close(trace.attention["layer.multihead_attn"], expected)


def test_nothing_is_skipped_on_a_transformer():
    model = nn.Transformer(8, 2, 1, 1, 16, batch_first=True).eval()
    with attnprobe.capture(model) as cap:
        model(torch.randn(1, 3, 8), torch.randn(1, 2, 8))
    assert cap.skipped == [] and cap.trace.meta["skipped"] == []


def test_an_attender_found_by_its_code_is_skipped_with_the_site_to_declare():
    torch.manual_seed(0)
    dec = StepDecoder(ReturningAttender(4, 3), 4)
    with pytest.raises(SiteError, match="no cross-attention") as err:
        attnprobe.capture(dec).__enter__()
    assert "declare it to capture it: sites=[Site('attender', read=1)]" in str(err.value)
    # declared as suggested, it is captured: the weights the attender stored
    site = next(c.site for c in find_sites(dec) if c.site.path == "attender")
    memory = torch.randn(2, 5, 4)
    with attnprobe.capture(dec, sites=[site]) as cap:
        dec(memory, 3)
    expected = torch.stack(dec.attender.attention_vecs, 1)  # [B, T, S]
    torch.testing.assert_close(cap.trace.attention["attender"][:, 0], expected, rtol=0, atol=0)
    assert cap.skipped == []  # sites were given: nothing was discovered, nothing skipped


def test_a_model_without_any_attention_still_captures_its_states_alone():
    model = nn.ModuleDict({"enc": nn.GRU(3, 4, batch_first=True)})
    states = Site("enc", read=0, pattern="full", role="states")
    with attnprobe.capture(model, states=states) as cap:
        model["enc"](torch.randn(2, 5, 3))
    assert cap.skipped == [] and cap.trace.states.shape == (2, 5, 4)
    with pytest.raises(SiteError, match="no attention sites known"):
        attnprobe.capture(model).__enter__()


# ------------------------------------------- the tutorial decoders, parameters renamed


def test_tutorial_step_decoder_with_renamed_parameters():
    torch.manual_seed(0)
    dec = renamed_step_decoder(8, 10, max_length=6)
    memory, h = torch.randn(6, 8), torch.zeros(1, 1, 8)
    with attnprobe.capture(dec) as cap:
        returned, token = [], torch.tensor([[0]])
        for _ in range(4):
            out, h, w = dec(token, h, memory)  # [1, 6] each
            returned.append(w)
            token = out.argmax(-1, keepdim=True)
    assert cap.trace.sites == (Site("", read=2, layout="BS"),)
    torch.testing.assert_close(
        cap.trace.attention["root"][0, 0], torch.cat(returned), rtol=0, atol=0
    )


def test_tutorial_loop_decoder_with_renamed_parameters():
    torch.manual_seed(0)
    dec = AttnDecoderRNN(6, 7, steps=3)
    memory, h0 = torch.randn(2, 5, 6), torch.zeros(1, 2, 6)
    with attnprobe.capture(dec) as cap:
        _, _, attentions = dec(memory, h0)  # [B, T, S]
    assert cap.trace.sites == (Site("", read=2, pattern="full", layout="BTS"),)
    torch.testing.assert_close(cap.trace.attention["root"][:, 0], attentions, rtol=0, atol=0)
    assert cap.skipped == []  # its attention module is covered by the decoder's spec

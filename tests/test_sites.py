"""Site specs: validation, layouts, built-in specs and find_sites on known model families."""

from __future__ import annotations

import discovery_zoo
import pytest
from attention_zoo import AttentionLayer, AttnDecoderRNN, GlobalAttention
from torch import nn

from attnprobe.capturing.discovery import find_sites
from attnprobe.capturing.sites import Site, builtin_site, resolve_module
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.models.reference.rnn import ModelConfig, build_model


def test_site_defaults_and_key():
    s = Site("decoder.attention.hook_weights")
    assert (s.read, s.pattern, s.role, s.layout) == ("output", "per_step", "cross", None)
    assert s.key == "decoder.attention.hook_weights"
    assert Site("", read=2).key == "root" and Site("x", name="n").key == "n"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"pattern": "per-step"}, UnknownNameError, "did you mean 'per_step'"),
        ({"role": "crossattn"}, UnknownNameError, "site role"),
        ({"read": -1}, InputError, ">= 0"),
        ({"read": True}, InputError, "Site.read"),
        ({"read": 1.5}, InputError, "Site.read"),
        ({"call": 1}, InputError, "needs read='softmax'"),
        ({"layout": "BX"}, InputError, "bad layout"),
        ({"layout": "BBS"}, InputError, "bad layout"),
        ({"layout": "BS", "pattern": "full"}, InputError, "bad layout"),
        ({"role": "states", "read": "softmax"}, InputError, "not a softmax"),
    ],
)
def test_bad_sites_are_refused_with_a_reason(kwargs, error, message):
    with pytest.raises(error, match=message):
        Site("attn", **kwargs)


@pytest.mark.parametrize(
    ("site", "ndim", "layout"),
    [
        (Site("a"), 2, "BS"),
        (Site("a"), 3, "BHS"),
        (Site("a"), 4, "BHTS"),
        (Site("a"), 5, None),
        (Site("a", pattern="full"), 3, "BTS"),
        (Site("a", pattern="full"), 2, None),
        (Site("a", layout="SB"), 2, "SB"),
        (Site("a", layout="SB"), 3, None),
        (Site("a", role="states", pattern="full"), 3, "BSD"),
    ],
)
def test_layout_by_dimension(site, ndim, layout):
    assert site.layout_for(ndim) == layout


def test_site_round_trips_through_a_dict():
    s = Site("m", read="softmax", pattern="full", role="decoder-self", call=1, name="k")
    assert Site.from_dict(s.to_dict()) == s


def test_find_sites_on_a_reference_model():
    model = build_model(ModelConfig(src_vocab=8, tgt_vocab=8, emb_dim=4, enc_dim=4, hidden_dim=8))
    (c,) = find_sites(model)
    assert c.site == model.sites[0] and c.spec == "attnprobe"
    assert "hook_weights" in c.reason
    none = build_model(ModelConfig(src_vocab=8, tgt_vocab=8, attention="none"))
    assert find_sites(none) == [] and none.sites == []


def test_find_sites_on_other_peoples_modules():
    model = nn.ModuleDict(
        {
            "tutorial": AttnDecoderRNN(4, 5, max_length=3),
            "fairseq": AttentionLayer(4),
            "onmt": GlobalAttention(4),
            "my_attention": nn.Linear(2, 2),
            "plain": nn.Linear(2, 2),
        }
    )
    found = {c.site.path: c for c in find_sites(model)}
    assert set(found) == {"tutorial", "fairseq", "onmt", "my_attention"}  # not tutorial.attn
    assert found["tutorial"].site == Site("tutorial", read=2, layout="BS")
    assert found["fairseq"].site == Site("fairseq", read=1, layout="SB")
    assert found["onmt"].site.read == 1
    guess = found["my_attention"]
    assert guess.spec == "name" and guess.site.read == "softmax" and "check" in guess.reason
    assert str(found["fairseq"]).startswith("fairseq: fairseq LSTM AttentionLayer")


def test_builtin_site_for_a_path():
    layer = nn.TransformerDecoderLayer(8, 2, 16, batch_first=True)
    assert builtin_site(layer, "self_attn").role == "decoder-self"
    assert builtin_site(layer, "multihead_attn") == Site(
        "multihead_attn", read="mha", pattern="full"
    )
    assert builtin_site(layer, "linear1") is None
    enc = nn.TransformerEncoderLayer(8, 2, 16)
    assert builtin_site(enc, "self_attn").role == "encoder-self"
    assert builtin_site(nn.MultiheadAttention(4, 1), "").role == "cross"


def test_resolve_module_did_you_mean():
    layer = nn.TransformerDecoderLayer(8, 2, 16)
    assert isinstance(resolve_module(layer, "multihead_attn"), nn.MultiheadAttention)
    with pytest.raises(UnknownNameError, match="did you mean 'multihead_attn'"):
        resolve_module(layer, "multihead_atn")


def test_a_spec_matched_at_the_root_covers_its_submodules():
    dec = AttnDecoderRNN(4, 5, max_length=3)  # its `attn` layer is named like attention
    assert [c.site for c in find_sites(dec)] == [Site("", read=2, layout="BS")]


def test_tutorial_decoder_specs_go_by_the_signatures_shape_not_its_names():
    step = discovery_zoo.renamed_step_decoder(4, 5, max_length=3)  # (token, state, memory)
    assert builtin_site(step, "") == Site("", read=2, layout="BS")
    loop = discovery_zoo.AttnDecoderRNN(4, 5, steps=2)  # (memory, h0, teacher=None)
    assert builtin_site(loop, "") == Site("", read=2, pattern="full", layout="BTS")

    class AttnDecoderRNN(nn.Module):  # the class name, but neither tutorial's signature
        def forward(self, *inputs):
            return inputs

    assert builtin_site(AttnDecoderRNN(), "") is None


@pytest.mark.parametrize(
    "site",
    [
        Site("a"),
        Site("", read=2, layout="BS"),
        Site("dec.attn", read="softmax", pattern="full", role="decoder-self", call=1),
        Site("m", read="weights", name="w"),
    ],
)
def test_site_as_code_rebuilds_the_site(site):
    assert eval(site.to_code(), {"Site": Site}) == site  # noqa: S307
    assert "pattern" not in site.to_code() or site.pattern != "per_step"

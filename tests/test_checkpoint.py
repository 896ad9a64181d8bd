"""Checkpoint format: bit-exact round trip, safe loading, clear errors."""

from __future__ import annotations

import pytest
import torch

from attnprobe.data import Vocab
from attnprobe.errors import CheckpointError
from attnprobe.models.checkpoint import FORMAT, load, save
from attnprobe.models.reference.rnn import ModelConfig, build_model


@pytest.fixture
def model():
    src, tgt = Vocab.build([["a", "b", "c"]]), Vocab.build([["x", "y"]])
    cfg = ModelConfig(
        len(src), len(tgt), attention="luong", score="general", emb_dim=4, enc_dim=4, hidden_dim=8
    )
    m = build_model(cfg, seed=0)
    m.src_vocab, m.tgt_vocab = src, tgt
    return m


def test_round_trip_is_bit_exact(model, tmp_path):
    path = save(model, tmp_path / "m.pt", data={"toy": "enfr"}, train={"steps": 3})
    loaded = load(path)
    assert loaded.cfg == model.cfg and not loaded.training
    for (k, v), (k2, v2) in zip(
        model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert k == k2 and torch.equal(v, v2)
    assert loaded.src_vocab == model.src_vocab and loaded.tgt_vocab == model.tgt_vocab
    assert loaded.meta["data"] == {"toy": "enfr"} and loaded.meta["train"] == {"steps": 3}
    assert len(loaded.meta["sha256"]) == 64
    src, lens, tgt = torch.tensor([[4, 5, 3]]), torch.tensor([3]), torch.tensor([[2, 4]])
    assert torch.equal(model.eval()(src, lens, tgt).logits, loaded(src, lens, tgt).logits)


def test_checkpoint_is_plain_data_loadable_with_weights_only(model, tmp_path):
    blob = torch.load(save(model, tmp_path / "m.pt"), weights_only=True)
    assert blob["format"] == FORMAT and blob["vocab"]["tgt"][4:] == ["x", "y"]


def test_truncated_file_is_a_clear_error(model, tmp_path):
    path = save(model, tmp_path / "m.pt")
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="m.pt: cannot be read.*truncated"):
        load(path)


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "t.txt").write_text("hello")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load(tmp_path / "t.txt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an attnprobe checkpoint"):
        load(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="file not found"):
        load(tmp_path / "missing.pt")


def test_pickled_module_needs_trust(model, tmp_path):
    torch.save(model, tmp_path / "pickled.pt")
    with pytest.raises(CheckpointError, match="pickled Python objects.*trust"):
        load(tmp_path / "pickled.pt")
    trusted = load(tmp_path / "pickled.pt", trust=True)
    assert trusted.cfg == model.cfg
    torch.save(torch.nn.Linear(2, 2), tmp_path / "linear.pt")
    with pytest.raises(CheckpointError, match="pickled Linear, not an attnprobe model"):
        load(tmp_path / "linear.pt", trust=True)


def test_failed_save_leaves_no_file(model, tmp_path):
    model.src_vocab = None
    with pytest.raises(Exception, match="no vocabularies"):
        save(model, tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []

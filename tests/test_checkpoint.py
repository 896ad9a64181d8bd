"""Checkpoint format: bit-exact round trip, safe loading, clear errors."""

from __future__ import annotations

import pickle
import sys
import types

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


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file (0 bytes)"),
        (bytes(range(7, 250)) * 8, "not a torch checkpoint (neither a zip archive nor a pickle)"),
        (b"hello", "not a torch checkpoint (neither a zip archive nor a pickle)"),
        (pickle.dumps({"a": 1}, protocol=4), "a plain Python pickle, not a torch checkpoint"),
    ],
)
@pytest.mark.parametrize("trust", [False, True])
def test_files_that_are_no_torch_checkpoint(tmp_path, content, message, trust):
    (tmp_path / "m.pt").write_bytes(content)
    with pytest.raises(CheckpointError) as info:
        load(tmp_path / "m.pt", trust=trust)
    assert str(info.value).startswith(f"{tmp_path / 'm.pt'}: {message} (fix: ")
    assert "trust" not in str(info.value)  # trusting would not help: no such advice


def test_not_an_attnprobe_checkpoint(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not an attnprobe checkpoint"):
        load(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="file not found"):
        load(tmp_path / "missing.pt")
    with pytest.raises(CheckpointError, match="is a folder, not a checkpoint file"):
        load(tmp_path)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy-format"])
def test_pickled_module_needs_trust(model, tmp_path, legacy):
    path = tmp_path / "pickled.pt"
    torch.save(model, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError) as info:
        load(path)
    assert str(info.value) == (
        f"{path}: holds an attnprobe Seq2Seq module; unpickling it runs code stored in the file "
        "(fix: pass trust=True (CLI: --trust-pickle) only if you trust its source, "
        "or re-save it with attnprobe.save)"
    )
    trusted = load(path, trust=True)
    assert trusted.cfg == model.cfg and not trusted.training


def test_a_pickled_foreign_module_gets_no_trust_advice(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "linear.pt")
    for trust in (False, True):
        with pytest.raises(CheckpointError) as info:
            load(tmp_path / "linear.pt", trust=trust)
        assert str(info.value) == (
            f"{tmp_path / 'linear.pt'}: holds a pickled torch.nn.modules.linear.Linear, not an "
            "attnprobe checkpoint (fix: load it in Python yourself and pass the module to "
            "attnprobe.wrap(...))"
        )


def test_trusted_pickle_that_cannot_be_unpickled_is_one_error(tmp_path, monkeypatch):
    gone = types.ModuleType("attnprobe_test_gone")

    class Thing:
        pass

    Thing.__module__, Thing.__qualname__ = gone.__name__, "Thing"
    gone.Thing = Thing
    monkeypatch.setitem(sys.modules, gone.__name__, gone)
    torch.save({"format": FORMAT, "extra": Thing()}, tmp_path / "m.pt")
    monkeypatch.delitem(sys.modules, gone.__name__)  # the code it needs is not installed
    with pytest.raises(CheckpointError, match="Python objects besides tensors.*trust=True"):
        load(tmp_path / "m.pt")
    with pytest.raises(CheckpointError) as info:
        load(tmp_path / "m.pt", trust=True)
    assert str(info.value).startswith(
        f"{tmp_path / 'm.pt'}: cannot be unpickled (ModuleNotFoundError: No module named "
        "'attnprobe_test_gone')"
    )


def test_failed_save_leaves_no_file(model, tmp_path):
    model.src_vocab = None
    with pytest.raises(Exception, match="no vocabularies"):
        save(model, tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []

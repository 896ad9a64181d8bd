"""The trainer: learns a tiny task, is deterministic for a seed, stops as told."""

from __future__ import annotations

import pytest
import torch

from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError
from attnprobe.models.reference.rnn import ModelConfig
from attnprobe.models.reference.train import TrainConfig, evaluate_loss, train

# reverse a 2-4 word sequence: needs the source, position by position
WORDS = ["a", "b", "c", "d", "e"]
PAIRS = [[WORDS[(i + k) % 5] for k in range(n)] for i in range(5) for n in (2, 3, 4)]
DATA = ParallelCorpus(PAIRS * 4, [list(reversed(p)) for p in PAIRS] * 4)
CFG = ModelConfig(
    src_vocab=5,
    tgt_vocab=5,
    attention="luong",
    score="general",
    emb_dim=16,
    enc_dim=16,
    hidden_dim=32,
)


def test_learns_to_reverse_and_restores_best_weights():
    result = train(
        CFG,
        DATA,
        DATA,
        TrainConfig(lr=0.01, max_steps=150, eval_every=25, batch_size=16),
        progress=False,
    )
    assert result.dev_accuracy == 1.0
    loss, acc = evaluate_loss(result.model, DATA)
    assert acc == 1.0 and loss == pytest.approx(result.dev_loss, abs=1e-6)
    assert result.model.src_vocab.tokens[4:] == WORDS and not result.model.training
    meta = result.metadata(TrainConfig())
    assert meta["steps"] == result.steps and meta["config"]["lr"] == 3e-3


def test_same_seed_same_weights_other_seed_other_weights():
    cfg = TrainConfig(max_steps=5, eval_every=5, seed=7)
    a = train(CFG, DATA, DATA, cfg, progress=False).model.state_dict()
    b = train(CFG, DATA, DATA, cfg, progress=False).model.state_dict()
    c = train(
        CFG, DATA, DATA, TrainConfig(max_steps=5, eval_every=5, seed=8), progress=False
    ).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_stops_on_patience_and_restores_threads():
    threads = torch.get_num_threads()
    result = train(
        CFG, DATA, DATA, TrainConfig(lr=1e-9, eval_every=1, patience=2, threads=1), progress=False
    )
    assert result.stopped == "converged" and result.steps == 3
    assert torch.get_num_threads() == threads


def test_rejects_bad_settings():
    with pytest.raises(InputError, match="batch_size must be at least 1"):
        TrainConfig(batch_size=0)
    with pytest.raises(InputError, match="must not be empty"):
        train(CFG, ParallelCorpus([], []), DATA, progress=False)

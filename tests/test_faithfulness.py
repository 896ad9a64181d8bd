"""Faithfulness: summaries by hand; edits on a trained model change (or not) its output."""

from __future__ import annotations

import numpy as np
import pytest

from attnprobe.analyses.faithfulness import (
    bootstrap_ci,
    compare_erasure,
    summarize_edit,
    total_variation,
)
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.models.reference.rnn import ModelConfig
from attnprobe.models.reference.train import TrainConfig, train
from attnprobe.runs.faithfulness import run_edits

SRC = [["a", "b", "c"], ["b"], ["c", "a"], ["a", "c", "b", "a"]]
TGT = [["x", "y", "z"], ["y"], ["z", "x"], ["x", "z", "y", "x"]]


def test_summaries_by_hand():
    p = [np.array([[0.5, 0.5], [1.0, 0.0]])]
    q = [np.array([[0.25, 0.75], [1.0, 0.0]])]
    s = summarize_edit("e", p, q, [np.array([1, 0])], greedy_changed=[True], n_boot=50)
    assert s.tvd.mean == pytest.approx(0.125)  # (0.25 + 0) / 2
    assert s.delta_logp.mean == pytest.approx(np.log(1.5) / 2)  # log(0.75 / 0.5), then 0
    assert s.argmax_change.mean == 1 / 2  # argmax 0 (tie) -> 1 at step 0
    assert s.greedy_change.to_dict()["mean"] == 1.0
    assert float(total_variation([1, 0, 0], [0, 0, 1])) == 1.0


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = [[0.0], [1.0], [0.5, 0.5], [2.0]]
    a, b = bootstrap_ci(values, seed=3), bootstrap_ci(values, seed=3)
    assert a == b and a.mean == pytest.approx(0.8)  # 4 / 5 steps
    assert a.low <= a.mean <= a.high
    with pytest.raises(InputError, match="level"):
        bootstrap_ci(values, level=1.5)


def test_erasure_comparison_by_hand():
    occ = [np.array([[0.1, 2.0, 0.0], [0.5, 0.1, 0.0]])]
    att = [np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0]])]
    attr = [np.array([[0.0, -3.0, 0.1], [1.0, 0.5, 0.0]])]
    c = compare_erasure(occ, att, attr, n_boot=20)
    # step 0: attended token 0 (drop 0.1), attributed token 1 (drop 2.0); step 1: both token 0
    assert c.attended.mean == pytest.approx(0.3) and c.attributed.mean == pytest.approx(1.25)
    assert c.attributed_wins.mean == 0.5 and c.same_token.mean == 0.5


@pytest.fixture(scope="module")
def model():
    data = ParallelCorpus(SRC * 2, TGT * 2)
    cfg = ModelConfig(src_vocab=8, tgt_vocab=8, emb_dim=6, enc_dim=5, hidden_dim=8)
    return train(cfg, data, data, TrainConfig(max_steps=30, eval_every=10), progress=False).model


def test_identity_changes_nothing_and_uniform_changes_the_output(model):
    f = run_edits(model, ParallelCorpus(SRC, TGT), n_boot=50, seeds=(0, 1), batch_size=3)
    ident = f.summaries["identity"]
    assert (ident.tvd.mean, ident.jsd.mean, ident.delta_logp.mean) == (0.0, 0.0, 0.0)
    assert ident.argmax_change.mean == 0.0 and ident.greedy_change.mean == 0.0
    assert f.summaries["uniform"].tvd.mean > 0
    assert set(f.summaries) == {
        "identity",
        "uniform",
        "permute(seed=0)",
        "permute(seed=1)",
        "zero_top",
        "other_step",
    }
    assert f.summaries["other_step"].greedy_change is None
    assert f.to_dict()["summaries"]["uniform"]["tvd"]["level"] == 0.95


def test_unknown_edit_and_attentionless_model_are_refused(model):
    with pytest.raises(UnknownNameError, match="uniform"):
        run_edits(model, ParallelCorpus(SRC, TGT), ["unifrom"])
    data = ParallelCorpus(SRC, TGT)
    plain = train(
        ModelConfig(8, 8, attention="none", emb_dim=4, enc_dim=4, hidden_dim=8),
        data,
        data,
        TrainConfig(max_steps=1),
        progress=False,
    ).model
    with pytest.raises(InputError, match="no cross-attention site"):
        run_edits(plain, data)

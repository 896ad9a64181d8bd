"""The gradient shortcut over training: checkpoints of training runs, attention vs none."""

from __future__ import annotations

import functools
import json
import math

import pytest
from click.testing import CliRunner

from attnprobe.cli.main import cli
from attnprobe.data import ParallelCorpus, Vocab
from attnprobe.errors import InputError
from attnprobe.models.reference.rnn import ModelConfig, arch_fields
from attnprobe.models.reference.train import TrainConfig, train
from attnprobe.runs.shortcut import (
    format_over_training,
    measure_over_training,
    plot_over_training,
    training_runs,
)


@functools.cache
def _toy_test():
    """The toy test split: the measured sentences come from it, so its words are known."""
    from attnprobe.data.toy import split_corpus

    return split_corpus("enfr", "test")[0]


def _run(folder, arch: str, seed: int, steps: int = 1) -> None:
    data = _toy_test()
    small = ParallelCorpus(data.src[:64], data.tgt[:64])
    cfg = ModelConfig(5, 5, **arch_fields(arch), emb_dim=8, enc_dim=8, hidden_dim=16)
    tc = TrainConfig(
        batch_size=16, max_steps=steps, eval_every=1, seed=seed, checkpoint_every=1,
        keep_checkpoints=0,
    )  # fmt: skip
    src, tgt = Vocab.build(data.src), Vocab.build(data.tgt)
    train(cfg, small, small, tc, src, tgt, progress=False, work_dir=folder)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for arch in ("bahdanau", "none"):
        _run(root / f"{arch}.work", arch, 0)
    return root


@pytest.fixture(scope="module")
def measured(runs):
    return measure_over_training(
        [runs / "bahdanau.work", runs / "none.work"], sentences=2, n_boot=50
    )


def test_runs_are_read_from_their_checkpoints(runs):
    found = training_runs([runs / "none.work", runs / "bahdanau.work"])
    assert sorted(found) == [("bahdanau", 0), ("none", 0)]
    assert sorted(found[("none", 0)]) == [0, 1]  # step 0: the initial weights


def test_ratio_is_attention_over_none_at_the_same_step(measured):
    run = measured
    assert run.steps == [0, 1] and run.archs == ["bahdanau", "none"] and run.seeds == [0]
    assert run.baseline == "none" and run.lengths == [12, 60]
    for step in run.steps:
        b = run.profiles["bahdanau"][0][step]["path"].estimates
        n = run.profiles["none"][0][step]["path"].estimates
        r = run.ratios["bahdanau"][0][step]["path"]
        for j in range(len(r)):
            if math.isfinite(r[j].value):
                assert r[j].value == pytest.approx(b[j].value / n[j].value)
    # near bucket: every sentence divided by itself
    assert run.profiles["none"][0][1]["path"].estimates[0].value == 1.0
    # at initialisation the far source words get more gradient through attention
    far = run.ratios["bahdanau"][0][0]["path"][-1]
    assert far.value > 1 and far.n == 1  # only the 60-word sentence reaches t + s >= 40


def test_table_figure_and_json(measured):
    text = format_over_training(measured)
    assert "path length t + s >= 40:" in text and "bahdanau / none" in text
    rows = [line.split()[0] for line in text.splitlines() if line[:1].isdigit()]
    assert rows == ["0", "1"] * 2  # one table per grouping
    fig = plot_over_training(measured)
    assert [ax.get_xlabel() for ax in fig.axes[:2]] == ["training step (updates)"] * 2
    d = json.loads(json.dumps(measured.to_dict()))
    assert d["signature"]["steps"] == [0, 1]
    assert set(d["ratio"]["bahdanau"]["0"]) == {"0", "1"}


def test_bad_folders(runs, tmp_path):
    with pytest.raises(InputError, match="no step-N.pt checkpoints"):
        training_runs([tmp_path])
    with pytest.raises(InputError, match="a second run of none with seed 0"):
        training_runs([runs / "none.work", runs / "none.work"])
    _run(tmp_path / "other.work", "bahdanau", 1)
    (tmp_path / "other.work" / "step-00000000.pt").unlink()
    (tmp_path / "other.work" / "step-00000001.pt").rename(
        tmp_path / "other.work" / "step-00000005.pt"
    )
    with pytest.raises(InputError, match="share no checkpoint step"):
        measure_over_training([runs / "none.work", tmp_path / "other.work"], sentences=1)


def test_cli(runs, tmp_path):
    r = CliRunner().invoke(
        cli,
        ["shortcut", "--training", str(runs / "bahdanau.work"), "--training"]
        + [str(runs / "none.work"), "--sentences", "1", "--bootstrap", "20"]
        + ["--json", str(tmp_path / "s.json"), "--plot", str(tmp_path / "s.png")],
    )
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Gradient reaching far source words over training")
    assert (tmp_path / "s.png").stat().st_size > 0
    assert json.loads((tmp_path / "s.json").read_text())["signature"]["archs"] == [
        "bahdanau",
        "none",
    ]

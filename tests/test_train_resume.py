"""The trainer's long-run machinery: checkpoints and resume, a hard time limit, progress lines."""

from __future__ import annotations

import pytest
import torch

from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError
from attnprobe.models.checkpoint import load, read_resume
from attnprobe.models.reference.rnn import ModelConfig
from attnprobe.models.reference.train import (
    TrainConfig,
    latest_checkpoint,
    train,
    work_area,
)

WORDS = ["a", "b", "c", "d", "e", "f"]
PAIRS = [[WORDS[(i + k) % 6] for k in range(n)] for i in range(6) for n in (2, 3, 4, 5)]
# 24 pairs, batches of 5: 5 batches an epoch, so 8 steps cross an epoch boundary mid-epoch
DATA = ParallelCorpus(PAIRS, [list(reversed(p)) for p in PAIRS])
DEV = ParallelCorpus(PAIRS[::3], [list(reversed(p)) for p in PAIRS[::3]])
# dropout on: the resumed run must also restore torch's RNG to match
ARCH = ModelConfig(5, 5, attention="bahdanau", emb_dim=8, enc_dim=8, hidden_dim=16, dropout=0.3)


def _cfg(steps: int, **kw) -> TrainConfig:
    return TrainConfig(batch_size=5, lr=0.01, max_steps=steps, eval_every=4, seed=3, **kw)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_k_steps_then_resume_to_2k_equals_2k_straight(tmp_path):
    straight = train(ARCH, DATA, DEV, _cfg(16), progress=False)
    work = tmp_path / "m.work"
    first = train(ARCH, DATA, DEV, _cfg(8, checkpoint_every=8), progress=False, work_dir=work)
    assert first.stopped == "max_steps" and first.checkpoint == work / "step-00000008.pt"
    resumed = train(
        ARCH,
        DATA,
        DEV,
        _cfg(16, checkpoint_every=8),
        progress=False,
        work_dir=work,
        resume=True,
    )
    assert resumed.steps == straight.steps == 16
    # the best weights (early stopping's choice) and the last weights both agree
    assert resumed.best_step == straight.best_step
    assert resumed.dev_loss == straight.dev_loss
    assert _same(resumed.model.state_dict(), straight.model.state_dict())
    last = load(work / "step-00000016.pt").state_dict()
    straight_last = train(
        ARCH, DATA, DEV, _cfg(16, checkpoint_every=16), progress=False, work_dir=tmp_path / "s"
    )
    assert _same(last, load(straight_last.checkpoint).state_dict())
    # a checkpoint without a different seed's weights: the test can fail
    other = train(ARCH, DATA, DEV, TrainConfig(**{**_cfg(16).__dict__, "seed": 4}), progress=False)
    assert not _same(other.model.state_dict(), straight.model.state_dict())


def test_checkpoints_are_models_and_old_ones_are_pruned(tmp_path):
    work = tmp_path / "w"
    result = train(
        ARCH,
        DATA,
        DEV,
        _cfg(10, checkpoint_every=3, keep_checkpoints=2),
        progress=False,
        work_dir=work,
    )
    # steps 3, 6, 9 periodic, 10 at the end; the newest two stay
    assert sorted(p.name for p in work.iterdir()) == ["step-00000009.pt", "step-00000010.pt"]
    assert result.checkpoint == work / "step-00000010.pt" == latest_checkpoint(work)
    state = read_resume(result.checkpoint)
    # 5 batches an epoch: stopped after the last batch of the second epoch (epoch 1)
    assert state["state"]["step"] == 10 and state["state"]["epoch"] == 1
    assert state["state"]["batch_in_epoch"] == 5 and state["config"]["seed"] == 3
    assert load(result.checkpoint).src_vocab.tokens[4:] == sorted(WORDS)


def test_resume_refuses_missing_checkpoint_and_changed_settings(tmp_path):
    with pytest.raises(InputError, match="no checkpoint to resume from"):
        train(ARCH, DATA, DEV, _cfg(4), progress=False, work_dir=tmp_path, resume=True)
    train(ARCH, DATA, DEV, _cfg(4, checkpoint_every=4), progress=False, work_dir=tmp_path)
    with pytest.raises(InputError, match=r"other settings: lr 0.01 -> 0.02"):
        cfg = TrainConfig(batch_size=5, lr=0.02, max_steps=8, eval_every=4, seed=3)
        train(ARCH, DATA, DEV, cfg, progress=False, work_dir=tmp_path, resume=True)
    bigger = ModelConfig(5, 5, attention="bahdanau", emb_dim=8, enc_dim=8, hidden_dim=32)
    with pytest.raises(InputError, match=r"another architecture: hidden_dim 16 \(asked 32\)"):
        train(bigger, DATA, DEV, _cfg(8), progress=False, work_dir=tmp_path, resume=True)
    with pytest.raises(InputError, match="need a work folder"):
        train(ARCH, DATA, DEV, _cfg(4, checkpoint_every=2), progress=False)


def test_time_limit_is_checked_every_update(monkeypatch):
    # a slow update (0.05 s on a simulated clock) and evaluations far apart: the limit must
    # still hold. The trainer reads time only through time.perf_counter, so a fake clock
    # that advances by 0.05 s per update makes the test exact (no real time measured).
    from attnprobe.models.reference import train as trainer

    class Clock:
        now = 0.0

        def perf_counter(self):
            return self.now

    clock, real = Clock(), trainer._token_stats

    def slow(model, batch):
        clock.now += 0.05
        return real(model, batch)

    monkeypatch.setattr(trainer, "time", clock)
    monkeypatch.setattr(trainer, "_token_stats", slow)
    lines = []
    result = train(
        ARCH,
        DATA,
        DEV,
        TrainConfig(batch_size=5, eval_every=10_000, time_limit=1.0, epochs=1000),
        progress=False,
        on_progress=lines.append,
    )
    assert result.stopped == "time_limit"
    # 1 s at 0.05 s an update, less the time kept back for the final dev check (which runs
    # updates' worth of _token_stats too): it stopped before the limit, not long before it
    assert clock.now <= 1.0 + 0.05 * 4
    assert 5 < result.steps <= 20
    assert "stopped on time" in lines[-1] and f"at step {result.steps}" in lines[-1]


def test_progress_lines_without_a_terminal():
    lines = []
    train(
        ARCH,
        DATA,
        DEV,
        TrainConfig(batch_size=5, max_steps=12, eval_every=4, log_every=5, log_seconds=1e9),
        progress=False,
        on_progress=lines.append,
    )
    steps = [line.split()[1] for line in lines[:-1]]
    assert steps == ["5/12", "10/12"]
    assert "dev " in lines[0] and "steps/s" in lines[0] and "ETA" in lines[0]
    assert lines[-1].startswith("stopped at step 12 (12 steps done)")


def test_work_area_sits_beside_the_output():
    assert work_area("out/x.pt").as_posix() == "out/x.work"
    assert work_area("x").as_posix() == "x.work"


def test_step_zero_checkpoint_holds_the_initial_weights(tmp_path):
    import dataclasses

    from attnprobe.models.reference.rnn import build_model

    cfg = _cfg(2, checkpoint_every=2, keep_checkpoints=0)
    train(ARCH, DATA, DEV, cfg, progress=False, work_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-00000000.pt", "step-00000002.pt"]
    # 6 words + 4 specials on each side; built with the run's seed outside the trainer
    fresh = build_model(dataclasses.replace(ARCH, src_vocab=10, tgt_vocab=10), seed=3)
    assert _same(load(tmp_path / "step-00000000.pt").state_dict(), fresh.state_dict())
    assert not _same(load(tmp_path / "step-00000002.pt").state_dict(), fresh.state_dict())

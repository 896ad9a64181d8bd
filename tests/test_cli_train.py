"""`attnprobe train` for long runs: progress lines, checkpoints, resume, the work folder."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from attnprobe.cli.main import cli
from attnprobe.models.checkpoint import load


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def files(tmp_path):
    (tmp_path / "t.src").write_text("a b\nb c\nc a\na\n" * 4)
    (tmp_path / "t.tgt").write_text("x y\ny z\nz x\nx\n" * 4)
    return tmp_path


def _train(d, out, steps, *extra):
    return invoke(
        "train",
        "--train",
        d / "t.src",
        d / "t.tgt",
        "--dev",
        d / "t.src",
        d / "t.tgt",
        "--max-steps",
        steps,
        "--epochs",
        "100",
        "--batch-size",
        "4",
        "--eval-every",
        "3",
        "--emb-dim",
        "8",
        "--enc-dim",
        "8",
        "--hidden-dim",
        "16",
        "--log-every",
        "2",
        "-o",
        out,
        *extra,
    )


def test_progress_lines_checkpoints_and_resume(files):
    d = files
    first = _train(d, d / "m.pt", 6, "--checkpoint-every", "3")
    assert first.exit_code == 0, first.output
    # CliRunner's stderr is no terminal: progress comes as lines
    lines = [x for x in first.stderr.splitlines() if x.startswith("step ")]
    assert [x.split()[1] for x in lines] == ["2/6", "4/6", "6/6"]
    assert "stopped at step 6 (6 steps done)" in first.stderr
    work = d / "m.work"
    assert sorted(p.name for p in work.iterdir()) == ["step-00000003.pt", "step-00000006.pt"]
    # a fresh run into the same work folder would mix two runs' checkpoints
    again = _train(d, d / "m2.pt", 6, "--checkpoint-every", "3")
    assert again.exit_code == 0  # another output, another work folder
    clash = _train(d, d / "m.pt", 6, "--checkpoint-every", "3", "--force")
    assert clash.exit_code == 0  # --force starts afresh
    refused = invoke("train", "--toy", "enfr", "-o", d / "m3.pt", "--resume")
    assert refused.exit_code == 2 and "no checkpoint to resume from" in refused.output
    # m.pt (6 steps) stays: the resumed run replaces it
    resumed = _train(d, d / "m.pt", 12, "--checkpoint-every", "3", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert _train(d, d / "s.pt", 12).exit_code == 0
    a, b = load(d / "m.pt"), load(d / "s.pt")
    assert a.meta["train"]["steps"] == 12 and a.meta["train"]["best_step"] > 0
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


def test_an_earlier_runs_checkpoints_are_not_silently_reused(files):
    d = files
    assert _train(d, d / "m.pt", 3, "--checkpoint-every", "3").exit_code == 0
    (d / "m.pt").unlink()
    clash = _train(d, d / "m.pt", 3, "--checkpoint-every", "3")
    assert clash.exit_code == 2
    assert "holds the checkpoints of an earlier run (newest step-00000003.pt)" in clash.output
    assert "pass --resume to continue it, or --force" in clash.output

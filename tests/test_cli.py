"""The command line: help, version, training and translating, and one-line errors."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from attnprobe import __version__
from attnprobe.cli.main import cli
from attnprobe.models.checkpoint import load


def invoke(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


def test_version_and_help():
    assert invoke("--version").output.strip() == f"attnprobe, version {__version__}"
    result = invoke("--help")
    assert result.exit_code == 0 and "train" in result.output and "translate" in result.output
    assert "Examples:" in invoke("train", "--help").output


@pytest.fixture
def tiny_files(tmp_path):
    (tmp_path / "t.src").write_text("a b\nb c\nc a\na\n" * 4)
    (tmp_path / "t.tgt").write_text("x y\ny z\nz x\nx\n" * 4)
    return tmp_path


def test_train_writes_a_checkpoint_then_translate_shows_attention(tiny_files):
    d = tiny_files
    out = d / "m.pt"
    result = invoke(
        "train",
        "--train",
        d / "t.src",
        d / "t.tgt",
        "--dev",
        d / "t.src",
        d / "t.tgt",
        "--arch",
        "luong-general",
        "--max-steps",
        "40",
        "--epochs",
        "100",
        "--eval-every",
        "20",
        "--lr",
        "0.02",
        "--emb-dim",
        "8",
        "--enc-dim",
        "8",
        "--hidden-dim",
        "16",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "dev token accuracy" in result.output
    model = load(out)
    assert model.cfg.name == "luong-general" and model.meta["train"]["steps"] == 40
    again = invoke(
        "train", "--train", d / "t.src", d / "t.tgt", "--dev", d / "t.src", d / "t.tgt", "-o", out
    )
    assert again.exit_code == 2 and "already exists (fix: pass --force" in again.output
    shown = invoke("translate", out, "a b q")
    assert shown.exit_code == 0, shown.output
    assert "-> " in shown.output and "(1 unknown source word)" in shown.output
    assert "</s>" in shown.output  # the attention grid's source EOS column


def test_errors_are_one_line_with_exit_status_2(tmp_path):
    missing = invoke("translate", tmp_path / "none.pt", "a")
    assert missing.exit_code == 2
    assert (
        missing.output.strip() == f"attnprobe: error: {tmp_path / 'none.pt'}: file not found "
        "(fix: check the path)"
    )
    both = invoke("train", "-o", tmp_path / "m.pt")
    assert both.exit_code == 2 and "either --toy PAIR or --train" in both.output
    bad_arch = invoke("train", "--toy", "enfr", "--arch", "bahdanu", "-o", tmp_path / "m.pt")
    assert bad_arch.exit_code == 2 and "did you mean 'bahdanau'" in bad_arch.output
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.slow
def test_train_on_a_toy_pair(tmp_path):
    out = tmp_path / "toy.pt"
    result = invoke(
        "train",
        "--toy",
        "enja",
        "--arch",
        "none",
        "--max-steps",
        "2",
        "--eval-every",
        "2",
        "--emb-dim",
        "8",
        "--enc-dim",
        "8",
        "--hidden-dim",
        "8",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    model = load(out)
    assert model.meta["data"] == {"toy": "enja"} and model.meta["train"]["steps"] == 2

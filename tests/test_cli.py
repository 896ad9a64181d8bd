"""The command line: help, version, training and translating, one-line errors, exit codes."""

from __future__ import annotations

import logging
import os
import stat

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


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_with_an_example(command):
    r = invoke(command, "--help")
    assert r.exit_code == 0 and "Usage: cli " + command in r.output
    assert "Example" in r.output and f"attnprobe {command} " in r.output


@pytest.fixture
def umask():
    """Set the process umask for one test, and restore it (the test changes it, not attnprobe)."""
    saved = os.umask(0o022)
    yield os.umask
    os.umask(saved)


@pytest.fixture
def tiny_files(tmp_path):
    (tmp_path / "t.src").write_text("a b\nb c\nc a\na\n" * 4)
    (tmp_path / "t.tgt").write_text("x y\ny z\nz x\nx\n" * 4)
    return tmp_path


def test_train_writes_a_checkpoint_then_translate_shows_attention(tiny_files, umask):
    d = tiny_files
    out = d / "m.pt"
    umask(0o022)
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
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # as open() makes it under umask 022
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
    no_folder = invoke("train", "--toy", "enfr", "-o", tmp_path / "models" / "m.pt")
    assert no_folder.output == (
        f"attnprobe: error: {tmp_path / 'models'}: folder not found "
        "(fix: create it first, or choose another output path)\n"
    )


def one_line_error(result, message: str) -> None:
    """Exit status 2 and exactly one line on stderr, ``attnprobe: error: MESSAGE``."""
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and result.stderr == f"attnprobe: error: {message}\n"


@pytest.mark.parametrize("trust", [[], ["--trust-pickle"]])
def test_broken_model_files_are_one_line_errors(tmp_path, trust):
    (tmp_path / "empty.pt").write_bytes(b"")
    one_line_error(
        invoke("translate", *trust, tmp_path / "empty.pt", "a"),
        f"{tmp_path / 'empty.pt'}: empty file (0 bytes) "
        "(fix: the download or save did not finish; redo it)",
    )
    (tmp_path / "random.pt").write_bytes(bytes(range(256)) * 4)
    one_line_error(
        invoke("inspect", *trust, tmp_path / "random.pt"),
        f"{tmp_path / 'random.pt'}: not a torch checkpoint (neither a zip archive nor a pickle) "
        "(fix: give a .pt file written by `attnprobe train` or attnprobe.save)",
    )


def test_translate_refuses_an_empty_sentence(tiny_checkpoint):
    m = tiny_checkpoint / "m.pt"
    one_line_error(
        invoke("translate", m, "a b", "  "),
        "sentence 2 of 2 is empty: there is nothing to translate (fix: give the source words, "
        'e.g. "the black cat sees a dog")',
    )
    one_line_error(
        invoke("translate", m, input="\n  \n"),
        "no sentence to translate: none given and standard input is empty "
        '(fix: give a sentence as an argument, e.g. "the black cat sees a dog")',
    )
    ok = invoke("translate", m, "--no-attention", input="a b\n\nc\n")
    assert ok.exit_code == 0 and ok.stdout.count("  -> ") == 2


def test_ctrl_c_exits_130_with_one_line(tiny_checkpoint, monkeypatch):
    import attnprobe.models.checkpoint as checkpoint

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "load", interrupted)
    r = invoke("translate", tiny_checkpoint / "m.pt", "a b")
    assert r.exit_code == 130 and r.stderr == "attnprobe: interrupted\n" and r.stdout == ""


def test_os_errors_are_one_line_errors(tiny_checkpoint, monkeypatch):
    import attnprobe.models.checkpoint as checkpoint

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/models/m.pt")

    monkeypatch.setattr(checkpoint, "load", denied)
    one_line_error(
        invoke("translate", tiny_checkpoint / "m.pt", "a"), "/models/m.pt: Permission denied"
    )


def test_verbose_shows_attnprobe_stages_only_and_restores_logging(tiny_checkpoint):
    logger, root = logging.getLogger("attnprobe"), logging.getLogger()
    before = (logger.level, list(logger.handlers), logger.propagate, list(root.handlers))
    quiet = invoke("translate", tiny_checkpoint / "m.pt", "a b")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    one = invoke("-v", "translate", tiny_checkpoint / "m.pt", "a b")
    assert one.stderr == f"attnprobe: info: loading model {tiny_checkpoint / 'm.pt'}\n"
    two = invoke("-vv", "translate", tiny_checkpoint / "m.pt", "a b")
    lines = two.stderr.splitlines()
    assert lines[0] == one.stderr.strip() and lines[1].startswith("attnprobe: debug: loaded ")
    assert all(line.startswith("attnprobe: ") for line in lines)  # no matplotlib, no root logs
    assert before == (logger.level, list(logger.handlers), logger.propagate, list(root.handlers))


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

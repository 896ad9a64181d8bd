"""`attnprobe analyze`, `report` and `inspect`: output folder, one-line errors, exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from attnprobe.cli.main import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_analyze_writes_the_folder_and_report_rerenders(tiny_checkpoint, tmp_path):
    d, out = tiny_checkpoint, tmp_path / "rep"
    r = invoke(
        "analyze",
        d / "m.pt",
        "--src",
        d / "t.src",
        "--tgt",
        d / "t.tgt",
        "--gold",
        d / "t.gold",
        "--out",
        out,
        "--batch-size",
        2,
    )
    assert r.exit_code == 0, r.output
    assert "3 sentences, AER" in r.output and "report.html" in r.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["corpus"]["analysed"] == 3 and metrics["signature"]["options"]["batch_size"] == 2
    assert len((out / "sentences.jsonl").read_text().splitlines()) == 3
    assert (out / "alignments" / "attention.decoder.attention.argmax-target.txt").is_file()
    (out / "report.html").unlink()
    assert invoke("report", out).exit_code == 0 and (out / "report.html").is_file()
    again = invoke("analyze", d / "m.pt", "--src", d / "t.src", "--tgt", d / "t.tgt", "--out", out)
    assert again.exit_code == 2 and "already exists" in again.output


def test_inspect_prints_architecture_sites_and_metadata(tiny_checkpoint):
    r = invoke("inspect", tiny_checkpoint / "m.pt")
    assert r.exit_code == 0, r.output
    assert "bahdanau" in r.output and "decoder.attention" in r.output and "sha256:" in r.output


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--gold", "{tmp}/short.gold"], "2 sentences, but 3 sentence lengths"),
        (["--analyses", "alignmnt"], "did you mean 'alignment'"),
        (["--analyses", "attribution", "--attribution", "ig"], "unknown attribution method"),
        (["--src", "{d}/missing.src"], "file not found"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_folder(tiny_checkpoint, tmp_path, extra, message):
    d = tiny_checkpoint
    (tmp_path / "short.gold").write_text("0-0\n0-0\n")
    args = ["analyze", d / "m.pt", "--out", tmp_path / "rep"]
    if "--src" not in extra:
        args += ["--src", d / "t.src"]
    args += ["--tgt", d / "t.tgt"] + [a.format(d=d, tmp=tmp_path) for a in extra]
    r = invoke(*args)
    assert r.exit_code == 2 and message in r.output, r.output
    assert len(r.output.strip().splitlines()) == 1 and not (tmp_path / "rep").exists()


def test_a_file_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "x.pt").write_text("not a model")
    r = invoke("analyze", tmp_path / "x.pt", "--out", tmp_path / "rep")
    assert r.exit_code == 2 and "x.pt" in r.output and not (tmp_path / "rep").exists()

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


def test_reference_alignments_are_scored_beside_attention(tiny_checkpoint, tmp_path):
    d, out = tiny_checkpoint, tmp_path / "rep"
    (tmp_path / "perfect.txt").write_text((d / "t.gold").read_text())
    (tmp_path / "half.txt").write_text("0-0\n0-1 1-0\n\n")
    r = invoke(
        "analyze", d / "m.pt", "--src", d / "t.src", "--tgt", d / "t.tgt", "--gold", d / "t.gold",
        "--analyses", "alignment", "--out", out,
        "--reference-alignments", f"perfect={tmp_path / 'perfect.txt'}",
        "--reference-alignments", f"half={tmp_path / 'half.txt'}", "--threads", 2,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["signature"]["threads"] == 2  # said where the numbers are
    refs = metrics["alignment"]["references"]
    assert refs["perfect"]["aer"] == 0.0 and refs["perfect"]["recall"] == 1.0
    # gold: 6 sure links; "half" has 3 links, 1 of them sure:
    # precision 1/3, recall 1/6, AER = 1 - (1 + 1) / (3 + 6) = 7/9
    assert refs["half"]["precision"] == pytest.approx(1 / 3, abs=1e-6)
    assert refs["half"]["recall"] == pytest.approx(1 / 6, abs=1e-6)
    assert refs["half"]["aer"] == pytest.approx(7 / 9, abs=1e-6)
    html = (out / "report.html").read_text()
    assert "perfect" in html and "half" in html


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
        (["--reference-alignments", "fa={d}/t.gold"], "scored against the gold"),
        (["--gold", "{d}/t.gold", "--reference-alignments", "{d}/t.gold"], "is not NAME=FILE"),
        (
            ["--gold", "{d}/t.gold", "--reference-alignments", "fa={tmp}/short.gold"],
            "2 sentences, but 3 sentence lengths",
        ),
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


def data_args(d):
    return ["--src", d / "t.src", "--tgt", d / "t.tgt"]


@pytest.fixture
def fake_analysis(monkeypatch):
    """Replace the pipeline's analyze() by a stand-in that logs one of its two warnings
    and writes the output folder (``out``), as the real one does.

    Keeps these tests about the command (logging, output folder, exit codes), and
    independent of how the pipeline reports what it found.
    """
    import logging

    import attnprobe.pipeline.driver as driver
    from tests.report_data import hand_made_results

    calls = []

    def analyze(model, corpus, gold, **options):
        calls.append(len(corpus))
        logging.getLogger("attnprobe").warning("logged and listed")
        results = hand_made_results()
        results.metrics["warnings"] = ["logged and listed", "only listed"]
        results.save(options["out"], force=options["force"])
        return results

    monkeypatch.setattr(driver, "analyze", analyze)
    return calls


def test_each_warning_is_printed_once(tiny_checkpoint, tmp_path, fake_analysis):
    r = invoke(
        "analyze", tiny_checkpoint / "m.pt", *data_args(tiny_checkpoint), "-o", tmp_path / "r"
    )
    assert r.exit_code == 0, r.output
    assert r.stderr.splitlines() == [
        "attnprobe: warning: logged and listed",
        "attnprobe: warning: only listed",
    ]
    report = tmp_path / "r" / "report.html"
    assert r.stdout == f"3 sentences, AER 0.125 (argmax-target on dec, offset 0) -> {report}\n"


def test_the_real_unknown_word_warning_is_printed_once(tiny_checkpoint, tmp_path):
    (tmp_path / "q.src").write_text("q r\nr s q\ns\n")  # no word the model knows
    args = ["--src", tmp_path / "q.src", "--tgt", tiny_checkpoint / "t.tgt"]
    r = invoke("analyze", tiny_checkpoint / "m.pt", *args, "-o", tmp_path / "r")
    assert r.exit_code == 0, r.output
    assert r.stderr.count("100.0% of the source words (6 of 6) are unknown") == 1, r.stderr
    assert all(line.startswith("attnprobe: warning: ") for line in r.stderr.splitlines())


def test_verbose_shows_the_stages_of_analyze(tiny_checkpoint, tmp_path):
    d, out = tiny_checkpoint, tmp_path / "r"
    r = invoke("-v", "analyze", d / "m.pt", *data_args(d), "--gold", d / "t.gold", "-o", out)
    assert r.exit_code == 0, r.output
    info = [x for x in r.stderr.splitlines() if x.startswith("attnprobe: info: ")]
    for stage in (
        f"corpus {d / 't.src'} / {d / 't.tgt'}: 3 sentence pairs, with gold alignments",
        f"loading model {d / 'm.pt'}",
        "running analyses: alignment, quality",
        f"writing {out}",
        "writing metrics.json and sentences.jsonl (3 sentences)",
        "drawing figures/",
        "writing report.html",
    ):
        assert f"attnprobe: info: {stage}" in info, r.stderr
    assert "attnprobe: debug:" not in r.stderr
    vv = invoke("-vv", "analyze", d / "m.pt", *data_args(d), "-o", out, "--force")
    assert vv.exit_code == 0 and "attnprobe: debug: loaded " in vv.stderr
    # matplotlib draws the figures, but its font debugging stays out: only attnprobe's logger
    assert all(x.startswith("attnprobe: ") for x in vv.stderr.splitlines()), vv.stderr


def test_attribution_methods_without_the_attribution_analysis(tiny_checkpoint, tmp_path):
    r = invoke(
        "analyze", tiny_checkpoint / "m.pt", *data_args(tiny_checkpoint),
        "--attribution", "saliency", "-o", tmp_path / "r",
    )  # fmt: skip
    assert r.exit_code == 2 and r.stderr == (
        "attnprobe: error: --attribution picks the methods of the attribution analysis, which "
        "--analyses leaves out (alignment,quality) "
        "(fix: add it: --analyses alignment,quality,attribution)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_output_folder_is_checked_before_any_work(
    tiny_checkpoint, tmp_path, fake_analysis, monkeypatch
):
    import attnprobe.fileio as fileio

    m, data = tiny_checkpoint / "m.pt", data_args(tiny_checkpoint)
    r = invoke("analyze", m, *data, "-o", tmp_path / "no" / "r")
    assert r.exit_code == 2 and r.stderr == (
        f"attnprobe: error: {tmp_path / 'no'}: folder not found "
        "(fix: create it first, or choose another output path)\n"
    )

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(fileio.tempfile, "mkstemp", refuse)
    r = invoke("analyze", m, *data, "-o", tmp_path / "r")
    assert r.exit_code == 2 and r.stderr == (
        f"attnprobe: error: {tmp_path}: cannot write: Permission denied "
        "(fix: choose a folder you may write to)\n"
    )
    assert fake_analysis == [] and list(tmp_path.iterdir()) == []  # nothing ran


def test_a_full_disk_while_writing_is_one_line(
    tiny_checkpoint, tmp_path, fake_analysis, monkeypatch
):
    import errno

    import attnprobe.results as results

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results, "write_text_atomic", full)
    r = invoke(
        "analyze", tiny_checkpoint / "m.pt", *data_args(tiny_checkpoint), "-o", tmp_path / "r"
    )
    assert r.exit_code == 2 and r.stderr.splitlines()[-1] == (
        f"attnprobe: error: {tmp_path / 'r'}: cannot write: No space left on device "
        "(fix: free some space or write elsewhere)"
    )
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_while_writing_leaves_nothing_and_exits_130(
    tiny_checkpoint, tmp_path, fake_analysis, monkeypatch
):
    import attnprobe.report.figures as figures

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(figures, "write_figures", interrupt)
    r = invoke(
        "analyze", tiny_checkpoint / "m.pt", *data_args(tiny_checkpoint), "-o", tmp_path / "r"
    )
    assert r.exit_code == 130 and r.stderr.splitlines()[-1] == "attnprobe: interrupted"
    assert r.stdout == "" and list(tmp_path.iterdir()) == []


def test_report_names_what_is_missing_before_checking_where_to_write(tmp_path):
    r = invoke("report", tmp_path / "none", "-o", tmp_path / "no" / "r.html")
    assert r.exit_code == 2 and r.stderr == (
        f"attnprobe: error: {tmp_path / 'none' / 'metrics.json'}: not found "
        "(fix: give a folder written by `attnprobe analyze`)\n"
    )


@pytest.mark.parametrize(
    "args,cpus,want",
    [
        ((), 2, 1),  # automatic: one thread per 4 CPUs, at least 1
        ((), 16, 4),
        (("--threads", "2"), 16, 2),  # as asked
    ],
)
def test_analyze_and_compare_run_torch_on_the_threads_asked_then_restore(
    tiny_checkpoint, tmp_path, monkeypatch, args, cpus, want
):
    import os

    import torch

    import attnprobe.pipeline.comparison as comparison
    import attnprobe.pipeline.driver as driver
    from tests.report_data import hand_made_results

    seen = []

    def analyze(model, corpus, gold, **options):
        seen.append(torch.get_num_threads())
        return hand_made_results()

    def compare(models, corpus, gold, **options):
        seen.append(torch.get_num_threads())
        return []

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    monkeypatch.setattr(driver, "analyze", analyze)
    monkeypatch.setattr(comparison, "compare", compare)
    monkeypatch.setattr(comparison, "format_comparison", lambda rows, markdown: "table")
    before = torch.get_num_threads()
    torch.set_num_threads(3)  # the caller's own setting, different from both
    try:
        d = tiny_checkpoint
        r = invoke("-v", "analyze", d / "m.pt", *data_args(d), "-o", tmp_path / "r", *args)
        assert r.exit_code == 0, r.output
        assert f"torch threads: {want} per worker" in r.output
        r = invoke("compare", d / "m.pt", *data_args(d), *args)
        assert r.exit_code == 0, r.output
        assert seen == [want, want] and torch.get_num_threads() == 3
        r = invoke("compare", d / "m.pt", *data_args(d), "--threads", "0")
        assert r.exit_code == 2 and "--threads" in r.output
    finally:
        torch.set_num_threads(before)


def test_the_cli_knows_the_engines_and_shard_size_of_the_library():
    import attnprobe.cli.analysis as command
    import attnprobe.pipeline.driver as driver

    assert command.ENGINES == driver.ENGINES and command.SHARD_SIZE == driver.SHARD_SIZE


def test_the_ray_engine_without_ray_is_one_line_naming_the_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    r = invoke("analyze", "model.pt", "--engine", "ray", "-o", tmp_path / "r")
    assert r.exit_code == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith("attnprobe: error: the ray engine needs Ray Data")
    assert r.stderr.endswith("(fix: install it: pip install 'attnprobe[ray]')\n")


def test_an_address_needs_the_ray_engine(tmp_path):
    r = invoke("analyze", "model.pt", "--address", "auto", "-o", tmp_path / "r")
    assert r.exit_code == 2 and r.stderr == (
        "attnprobe: error: --address names a Ray cluster (fix: add --engine ray)\n"
    )


@pytest.mark.slow
def test_two_workers_read_packed_data_and_write_what_one_process_writes(
    tiny_checkpoint, tmp_path, monkeypatch
):
    """A sharded run reads the corpus and gold packed (the driver keeps a few bytes a word
    and a link); its folder equals the in-process run's."""
    from attnprobe.cli import options

    d = tiny_checkpoint
    seen = []
    read = options._read_data
    monkeypatch.setattr(options, "_read_data", lambda **kw: seen.append(kw["packed"]) or read(**kw))
    monkeypatch.setattr("attnprobe.cli.analysis._read_data", options._read_data)
    outs = {}
    for name, extra in (("one", ()), ("two", ("--workers", 2, "--shard-size", 1))):
        outs[name] = tmp_path / name
        r = invoke(
            "analyze", d / "m.pt", "--src", d / "t.src", "--tgt", d / "t.tgt",
            "--gold", d / "t.gold", "--analyses", "alignment", "-o", outs[name], *extra,
        )  # fmt: skip
        assert r.exit_code == 0, r.output
    assert seen == [False, True]
    one, two = (json.loads((outs[k] / "metrics.json").read_text()) for k in ("one", "two"))
    assert one["alignment"]["scores"] == two["alignment"]["scores"]
    for path in sorted((outs["one"] / "alignments").iterdir()):
        assert path.read_text() == (outs["two"] / "alignments" / path.name).read_text()
    assert (outs["one"] / "sentences.jsonl").read_text() == (
        outs["two"] / "sentences.jsonl"
    ).read_text()

"""attnprobe compare: --methods, --gradients, tables and JSON."""

from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner

from attnprobe.cli.main import cli
from attnprobe.data import Vocab
from attnprobe.models.checkpoint import save
from attnprobe.models.reference.rnn import ModelConfig, build_model

SRC = ["a b c", "b a", "c"]
TGT = ["x y z", "y x", "z"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def checkpoints(tmp_path):
    (tmp_path / "t.src").write_text("\n".join(SRC) + "\n")
    (tmp_path / "t.tgt").write_text("\n".join(TGT) + "\n")
    (tmp_path / "t.gold").write_text("0-0 1-1 2-2\n0-0 1-1\n0-0\n")
    sv = Vocab.build([s.split() for s in SRC])
    tv = Vocab.build([t.split() for t in TGT])
    paths = []
    for attention in ("bahdanau", "none"):
        cfg = ModelConfig(len(sv), len(tv), attention=attention, emb_dim=4, enc_dim=4, hidden_dim=8)
        model = build_model(cfg, seed=0)
        model.src_vocab, model.tgt_vocab = sv, tv
        paths.append(save(model, tmp_path / f"{attention}.pt", train={"steps": 0}))
    data = ["--src", tmp_path / "t.src", "--tgt", tmp_path / "t.tgt", "--gold", tmp_path / "t.gold"]
    return paths, data


def test_compare_with_methods_and_gradients(tmp_path):
    paths, data = checkpoints(tmp_path)
    out = tmp_path / "rows.json"
    r = invoke(
        "compare", *paths, *data, "--methods", "argmax-target,itermax", "--gradients", 2,
        "--json", out, "--markdown",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "| bahdanau" in r.output and "| none" in r.output
    rows = json.loads(out.read_text())
    assert [r["arch"] for r in rows] == ["bahdanau", "none"]
    assert set(rows[0]["aer_methods"]) == {"argmax-target", "itermax"}
    assert rows[1]["aer_methods"] == {}  # no attention, no alignment
    # 2 sentences: 3x3 and 2x2 word pairs, by distance 0: 3 + 2, 1: 4 + 2, 2: 2
    assert rows[0]["gradient"]["count"] == [5, 6, 2] == rows[1]["gradient"]["count"]


def test_compare_refuses_unknown_methods_and_negative_gradients(tmp_path):
    paths, data = checkpoints(tmp_path)
    r = invoke("compare", paths[0], *data, "--methods", "argmax-targt")
    assert r.exit_code == 2 and "did you mean 'argmax-target'" in r.output
    r = invoke("compare", paths[0], *data, "--gradients", -1)
    assert r.exit_code == 2


@pytest.fixture
def umask_027():
    saved = os.umask(0o027)
    yield
    os.umask(saved)


def test_compare_plots_exact_match_by_length(tmp_path, umask_027):
    paths, data = checkpoints(tmp_path)
    r = invoke("compare", *paths, *data, "--plot", tmp_path / "bottleneck.svg")
    assert r.exit_code == 0, r.output
    # written through a temporary file (0600), then given the umask's mode like open() would
    assert stat.S_IMODE((tmp_path / "bottleneck.svg").stat().st_mode) == 0o640
    svg = (tmp_path / "bottleneck.svg").read_text()
    assert "greedy exact match" in svg and "bahdanau" in svg and "none" in svg
    r = invoke("compare", paths[0], *data, "--plot", tmp_path / "bottleneck.pdf")
    assert r.exit_code == 2 and ".png or .svg" in r.output
    assert not (tmp_path / "bottleneck.pdf").exists()
    r = invoke("compare", paths[0], *data, "--json", tmp_path / "no" / "rows.json")
    assert r.exit_code == 2 and r.stderr == (
        f"attnprobe: error: {tmp_path / 'no'}: folder not found "
        "(fix: create it first, or choose another output path)\n"
    )

"""The measured claims: seed-and-sentence bootstrap, length curves, AER intervals, and the
commands of docs/bottleneck.md, docs/score-functions.md, docs/interpretability.md and
docs/real-text.md."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from attnprobe.alignment import Alignment
from attnprobe.analyses.bottleneck import bleu_statistics, length_curves, seed_bootstrap
from attnprobe.cli.main import cli
from attnprobe.errors import InputError
from attnprobe.pipeline.comparison import aer_interval


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def share(s):
    return s[0] / s[1]


# -- seed_bootstrap ------------------------------------------------------------------


def test_one_seed_two_sentences_interval_spans_both_outcomes():
    # exact match [1, 0]: a resample is {both} (0.5, prob 1/2), {first twice} (1, 1/4) or
    # {second twice} (0, 1/4): the 2.5% quantile is 0 and the 97.5% quantile 1
    e = seed_bootstrap([[[1, 1], [0, 1]]], share, n_boot=2000)
    assert e.mean == 0.5 and (e.low, e.high) == (0.0, 1.0)
    assert e.seeds == (0.5,) and e.spread == (0.5, 0.5)


def test_identical_sentences_give_a_point_interval():
    e = seed_bootstrap([[[1, 1]] * 5, [[0, 1]] * 5], share, n_boot=50)
    # seeds 1.0 and 0.0: mean 0.5; every resample gives the same two values
    assert (e.mean, e.low, e.high, e.spread) == (0.5, 0.5, 0.5, (0.0, 1.0))


def test_seed_mean_interval_uses_the_same_resample_for_every_seed():
    # seed A right on sentence 0 only, seed B on sentence 1 only: each resample gives
    # A + B = 1 correct per sentence drawn, so the seed mean is always 0.5 (a point);
    # resampling the seeds independently would give a wide interval instead
    a = [[1, 1], [0, 1]]
    b = [[0, 1], [1, 1]]
    e = seed_bootstrap([a, b], share, n_boot=500)
    assert (e.mean, e.low, e.high) == (0.5, 0.5, 0.5)


def test_seed_bootstrap_refuses_mismatched_and_empty_input():
    with pytest.raises(InputError, match="same"):
        seed_bootstrap([[[1, 1]], [[1, 1], [0, 1]]], share)
    with pytest.raises(InputError, match="at least one"):
        seed_bootstrap([], share)
    with pytest.raises(InputError, match="level"):
        seed_bootstrap([[[1, 1]]], share, level=1.5)


# -- length_curves -------------------------------------------------------------------


def test_length_curves_bleu_by_bucket_over_seeds():
    ref = ["a", "b", "c", "d"]
    perfect, empty = bleu_statistics(ref, ref), bleu_statistics(["z"], ref)
    # sentence 0 has 5 source words (bucket 1-10), sentence 1 has 12 (11-20)
    seeds = [([True, False], [perfect, empty]), ([True, True], [perfect, perfect])]
    pts = {p.label: p for p in length_curves([5, 12], {"bahdanau": seeds}, n_boot=30)}
    assert set(pts) == {"1-10", "11-20", "all"}
    assert pts["1-10"].bleu.seeds == pytest.approx((100.0, 100.0))
    assert pts["11-20"].bleu.seeds == pytest.approx((0.0, 100.0))
    assert pts["11-20"].bleu.mean == pytest.approx(50.0)
    assert pts["11-20"].exact_match.spread == (0.0, 1.0)
    assert pts["all"].sentences == 2 and pts["all"].exact_match.mean == 0.75


# -- AER interval --------------------------------------------------------------------


def test_aer_interval_by_hand():
    gold = [Alignment.from_links([(0, 0), (1, 1)]), Alignment.from_links([(0, 0)])]
    hyp = [Alignment.from_links([(0, 0), (1, 1)]), Alignment.from_links([(0, 0)])]
    assert aer_interval(gold, hyp, n_boot=20) == {
        "aer": 0.0,
        "low": 0.0,
        "high": 0.0,
        "level": 0.95,
    }
    # sentence 0 right (2 links, 2 sure, 2 hits), sentence 1 wrong (1 link, 1 sure, 0 hits):
    # AER = 1 - 4/6 = 1/3; a resample of sentence 1 twice gives 1, of 0 twice gives 0
    hyp[1] = Alignment.from_links([(0, 1)])
    iv = aer_interval(gold, hyp, n_boot=2000)
    assert iv["aer"] == pytest.approx(1 / 3) and (iv["low"], iv["high"]) == (0.0, 1.0)


# -- the commands of the pages -------------------------------------------------------


def _toy_checkpoints(tmp_path, test_vocab=True):
    """Untrained models of the toy En->Fr pair (two seeds per architecture, vocabularies
    of its test split, or of a few words): enough for the commands to run in seconds."""
    from attnprobe.data import Vocab
    from attnprobe.data.toy import split_corpus
    from attnprobe.models.checkpoint import save
    from attnprobe.models.reference.rnn import ModelConfig, arch_fields, build_model

    if test_vocab:
        test = split_corpus("enfr", "test")[0]
        sv, tv = Vocab.build(test.src), Vocab.build(test.tgt)
    else:
        sv, tv = Vocab.build([["the", "cat"]]), Vocab.build([["le", "chat"]])
    paths = []
    for arch in ("bahdanau", "none"):
        for seed in (0, 1):
            cfg = ModelConfig(len(sv), len(tv), **arch_fields(arch), emb_dim=4, enc_dim=4,
                              hidden_dim=8)  # fmt: skip
            model = build_model(cfg, seed=seed)
            model.src_vocab, model.tgt_vocab = sv, tv
            train = {"steps": 0, "stopped": "max_steps", "config": {"seed": seed}, "max_len": 30}
            paths.append(
                save(model, tmp_path / f"{arch}-seed{seed}.pt", data={"toy": "enfr"}, train=train)
            )
    return paths


@pytest.mark.slow
def test_bottleneck_command_runs_on_small_settings(tmp_path):
    paths = _toy_checkpoints(tmp_path)
    js, png = tmp_path / "b.json", tmp_path / "b.png"
    r = invoke("bottleneck", *paths, "--limit", 12, "--boot", 20, "--json", js, "--plot", png)
    assert r.exit_code == 0, r.output
    result = json.loads(js.read_text())
    assert [m["seed"] for m in result["models"]] == [0, 1, 0, 1]
    alls = [p for p in result["points"] if p["label"] == "all"]
    assert [p["arch"] for p in alls] == ["bahdanau", "none"]
    assert all(p["sentences"] == 12 for p in alls)  # every 100th of the 1,200 test pairs
    for p in result["points"]:
        for key in ("bleu", "exact_match"):
            e = p[key]
            assert len(e["seeds"]) == 2
            assert e["mean"] == pytest.approx(np.mean(e["seeds"]))
            assert e["spread"] == [min(e["seeds"]), max(e["seeds"])]
            assert e["low"] <= e["mean"] <= e["high"]
    assert result["train_max_len"] == 30
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "bahdanau  2" in r.output and "max_steps" in r.output


def test_bottleneck_command_refuses_models_of_other_pairs(tmp_path):
    from attnprobe.models.checkpoint import load, save

    paths = _toy_checkpoints(tmp_path, test_vocab=False)
    other = load(paths[0])
    save(other, tmp_path / "enja.pt", data={"toy": "enja"}, train={})
    r = invoke("bottleneck", paths[0], tmp_path / "enja.pt")
    assert r.exit_code == 2
    assert "enja.pt" in r.output and "same toy pair" in r.output


@pytest.mark.slow
def test_score_functions_command_runs_on_the_fixtures(tmp_path):
    """docs/score-functions.md's command (on two fixtures and few resamples)."""
    png, js = tmp_path / "aer.png", tmp_path / "rows.json"
    r = invoke(
        "compare", "fixtures/models/enfr-luong-general.pt", "fixtures/models/enfr-none.pt",
        "--boot", 50, "--plot-aer", png, "--json", js, "--methods", "argmax-target",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = json.loads(js.read_text())
    iv, diag = rows[0]["aer_interval"], rows[0]["diagonal_interval"]
    assert iv["low"] <= rows[0]["aer"][str(iv["offset"])] <= iv["high"]
    assert diag["aer"] == pytest.approx(rows[0]["diagonal_aer"])
    assert iv["high"] < diag["low"]  # attention beats the word-blind diagonal, clearly
    assert rows[1]["aer_interval"] is None  # no attention, no alignment
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "AER 95% CI" in r.output and "diag 95% CI" in r.output


@pytest.mark.slow
def test_interpretability_command_runs_on_the_fixture(tmp_path):
    """docs/interpretability.md's command (on 4 sentences instead of 100)."""
    out = tmp_path / "interp"
    r = invoke(
        "analyze", "fixtures/models/enfr-bahdanau.pt", "--limit", 4, "-o", out,
        "--analyses", "alignment,attribution,faithfulness",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    for name in ("faithfulness", "tau_distribution"):
        assert (out / "figures" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    sections = json.loads((out / "metrics.json").read_text())["sections"]
    uniform = sections["faithfulness"]["summaries"]["uniform"]["tvd"]
    assert 0 <= uniform["low"] <= uniform["mean"] <= uniform["high"] <= 1
    for intervals in sections["attribution"]["agreement_intervals"].values():
        top1 = intervals["top1"]
        assert 0 <= top1["low"] <= top1["mean"] <= top1["high"] <= 1


@pytest.mark.slow
def test_real_text_commands_run_on_a_short_training(tmp_path, shared_data):
    """docs/real-text.md's commands, with 300 training pairs and 3 updates instead of ~1,000.

    The fast_align reference read beside attention must score what its authors
    published for it on this gold (enfr-results.txt: grow-diagonal 10.5%,
    precision 90.8%, recall 87.8%).
    """
    pytest.importorskip("sentencepiece")
    corpus = shared_data / "corpora" / "multi30k" / "tok"
    gold = shared_data / "gold" / "naacl2003-hansards-enfr"
    fast_align = shared_data / "reference-outputs" / "lilt-fastalign"
    train = []
    for name in ("train.lc.norm.tok.en", "train.lc.norm.tok.fr"):
        lines = (corpus / name).read_text(encoding="utf-8").splitlines(keepends=True)
        (tmp_path / name).write_text("".join(lines[:300]), encoding="utf-8")
        train.append(tmp_path / name)
    for src, dst in (("test/test.e", "test.e"), ("test/test.f", "test.f")):
        text = (gold / src).read_text(encoding="utf-8").lower()  # the page's `low`
        (tmp_path / dst).write_text(text, encoding="utf-8")
    model = tmp_path / "m30k-bahdanau.pt"
    r = invoke(
        "train", "--train", *train, "--dev", corpus / "val.lc.norm.tok.en",
        corpus / "val.lc.norm.tok.fr", "--subwords", 300, "--arch", "bahdanau",
        "--max-len", 40, "--max-steps", 3, "--eval-every", 500, "--checkpoint-every", 500,
        "-o", model,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    out = tmp_path / "test-bahdanau"
    r = invoke(
        "analyze", model, "--src", tmp_path / "test.e", "--tgt", tmp_path / "test.f",
        "--gold", gold / "test" / "test.wa.nonullalign", "--gold-one-based",
        "--analyses", "alignment,quality", "--reference-alignments",
        f"fast_align grow-diagonal={fast_align / 'test.enfr.grow-diagonal.talp'}", "-o", out,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["corpus"]["sentences"] == 447
    ref = metrics["alignment"]["references"]["fast_align grow-diagonal"]
    assert (ref["aer"], ref["precision"], ref["recall"]) == pytest.approx(
        (0.105, 0.908, 0.878), abs=5e-4
    )
    assert (out / "figures" / "aer_by_method.png").read_bytes()[:4] == b"\x89PNG"

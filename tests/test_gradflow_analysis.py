"""The gradient-flow analysis of ``attnprobe analyze`` and its report figures."""

from __future__ import annotations

import math

import pytest

from attnprobe.data import ParallelCorpus, Vocab
from attnprobe.models.reference.rnn import ModelConfig, build_model
from attnprobe.pipeline.common import _spread
from attnprobe.pipeline.driver import ANALYSES, analyze
from attnprobe.report.figures import FIGURES, figure_svgs
from attnprobe.report.html import render_report
from attnprobe.report.sections import report_sections

SRC = [["a"] * n for n in (1, 2, 3, 4, 6, 8)]
TGT = [["x"] * n for n in (1, 3, 2, 4, 5, 8)]


@pytest.fixture(scope="module")
def results():
    corpus = ParallelCorpus([list("abcdefgh"[: len(s)]) for s in SRC], TGT, name="g")
    sv, tv = Vocab.build(corpus.src), Vocab.build(corpus.tgt)
    model = build_model(ModelConfig(len(sv), len(tv), emb_dim=4, enc_dim=4, hidden_dim=8), 0)
    model.src_vocab, model.tgt_vocab = sv, tv
    return analyze(model, corpus, analyses=["alignment", "gradflow"], progress=False)


def test_spread_picks_evenly_over_lengths():
    assert _spread([5, 1, 9, 3, 7], 3) == [1, 0, 2]  # lengths 1, 5, 9
    assert _spread([2, 1], 5) == [1, 0]


def test_gradflow_section(results):
    assert "gradflow" in ANALYSES
    data = results.metrics["sections"]["gradflow"]
    assert data["sentences"] == 6
    # the longest pair (8 source, 8 target words) has distances up to 7: none >= 20
    assert data["far"] is None
    assert data["near"] > 0
    # a clean cut: the two parts add up to the total, shares sum to 1
    share = data["paths"]["projection"]["attention"] + data["paths"]["projection"]["recurrent"]
    assert share == pytest.approx(1.0, abs=1e-5)
    assert data["paths"]["residual"] < 1e-5
    # Bahdanau, bidirectional: e_s -> f_s -> c_t -> y_t is 3 edges for every pair; without
    # attention e_s -> b_s ... b_0 -> s_0 ... -> y_t is s + 3 + t, at most 2n + 3 for n words
    assert data["longest_path"] == {
        "words": [5, 10, 20, 40],
        "with": [3.0] * 4,
        "without": [2 * n + 3.0 for n in (5, 10, 20, 40)],
    }
    pl = data["path_lengths"]
    # distance 0 in a 20-word sentence (21 positions): 2s + 3 for s = 0..20: median 23,
    # range 3..43 (an average would hide it); with attention 3 everywhere
    assert pl["with"][0] == 3.0 and pl["without"][0] == 23.0
    assert (pl["without_min"][0], pl["without_max"][0]) == (3.0, 43.0)
    assert pl["with_min"][0] == pl["with_max"][0] == 3.0
    counts = data["profile"]["count"]
    # word entries only: sum over sentences of src words x tgt words
    assert sum(counts) == sum(len(s) * len(t) for s, t in zip(SRC, TGT, strict=True))


def test_report_draws_the_gradflow_figures(results):
    assert {"gradient_by_distance", "path_length"} <= set(FIGURES)
    svgs = figure_svgs(results.metrics)
    assert {"gradient_by_distance", "path_length"} <= set(svgs)
    html = render_report(results)
    assert 'id="section-gradflow"' in html and html.count("<svg") >= 2
    # the report words the data: labels and the path-length table
    assert "<h2>Gradient flow</h2>" in html and "mean gradient norm, distance 0-2" in html
    assert "<th>without attention edges</th>" in html and "share through the attention" in html


def test_model_without_attention_has_no_path_split():
    corpus = ParallelCorpus([["a", "b"], ["b"]], [["x"], ["y", "x"]])
    sv, tv = Vocab.build(corpus.src), Vocab.build(corpus.tgt)
    cfg = ModelConfig(len(sv), len(tv), attention="none", emb_dim=4, enc_dim=4, hidden_dim=8)
    model = build_model(cfg, 0)
    model.src_vocab, model.tgt_vocab = sv, tv
    res = analyze(model, corpus, analyses=["quality", "gradflow"], progress=False)
    data = res.metrics["sections"]["gradflow"]
    assert "paths" not in data
    labels = [m["label"] for m in report_sections(res.metrics)["gradflow"]["metrics"]]
    assert "share through the attention" not in labels and "far / near" in labels
    assert not math.isnan(data["profile"]["mean"][0])

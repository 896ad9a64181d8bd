"""analyze() with the 'attribution' and 'faithfulness' analyses: numbers, files, report, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_toy_model

from attnprobe.errors import UnknownNameError
from attnprobe.pipeline.driver import analyze
from attnprobe.report.html import explorer_data
from attnprobe.report.sections import report_sections
from tests.test_report_browser import browser  # noqa: F401  (fixture)

METHODS = ("saliency", "input_x_gradient")


@pytest.fixture(scope="module")
def tiny():
    """A tiny Bahdanau model trained for a few steps on 12 toy pairs (with gold)."""
    return tiny_toy_model(n_pairs=12, max_len=10)


@pytest.fixture(scope="module")
def analysed(tiny):
    model, corpus, gold = tiny
    res = analyze(
        model,
        corpus,
        gold,
        analyses=["alignment", "attribution", "faithfulness"],
        attribution=METHODS,
        batch_size=5,
        progress=False,
    )
    return res


@pytest.fixture(scope="module")
def direct(tiny):
    """Attention and attribution computed without the pipeline, in the same batches."""
    from attnprobe.runs.attribution import attribute
    from attnprobe.runs.forward import run_corpus

    model, corpus, _ = tiny
    attention = [r.attention for r in run_corpus(model, corpus, batch_size=5, decode=False)]
    mats = {m: attribute(model, corpus, m, batch_size=5).matrices for m in METHODS}
    return attention, mats


def test_agreement_numbers_equal_the_agreement_module_on_attribute_output(analysed, direct):
    from attnprobe.analyses.agreement import agreement
    from attnprobe.analyses.intervals import bootstrap_ci

    attention, mats = direct
    data = analysed.metrics["sections"]["attribution"]
    section = report_sections(analysed.metrics)["attribution"]
    site = analysed.metrics["sites"][0]
    for m in METHODS:
        want = agreement(attention, mats[m]).summary()
        got = data["agreement"][f"{site}/{m}"]
        assert got["steps"] == want["steps"] == sum(len(a) for a in attention)
        for key in ("tau", "rho", "jsd", "top1", "topk"):
            assert got[key] == pytest.approx(want[key], abs=1e-6), (m, key)
        # intervals: the sentence bootstrap of each sentence's own per-step values
        per_sentence = [agreement([a], [b]).tau for a, b in zip(attention, mats[m], strict=True)]
        iv = bootstrap_ci(per_sentence).to_dict()
        got_iv = data["agreement_intervals"][f"{site}/{m}"]["tau"]
        for key in ("mean", "low", "high"):
            assert got_iv[key] == pytest.approx(iv[key], abs=1e-6), (m, key)
        assert iv["low"] < iv["mean"] < iv["high"]
        row = next(r for r in section["tables"][0]["rows"] if r[1] == m)
        assert row[2] == f"{iv['mean']:.3f} [{iv['low']:.3f}, {iv['high']:.3f}]"
    # per-sentence explorer column: mean tau of the first method
    for rec, att, mat in zip(analysed.sentences, attention, mats[METHODS[0]], strict=True):
        tau = agreement([att], [mat]).tau
        assert rec["attr_tau"] == pytest.approx(float(np.nanmean(tau)), abs=1e-5)
    assert any(c["key"] == "attr_tau" for c in explorer_data(analysed)["columns"])


def test_attention_and_attribution_aer_on_the_same_gold(tiny, analysed, direct):
    from attnprobe.analyses.agreement import attribution_aer
    from attnprobe.pipeline.common import attention_aer

    _, _, gold = tiny
    attention, mats = direct
    table = report_sections(analysed.metrics)["attribution"]["tables"][1]
    assert table["columns"][:4] == ["source", "extraction", "AER@0", "AER@-1"]
    rows = {r[0]: r for r in table["rows"]}
    want_att = attention_aer(attention, gold)
    site = analysed.metrics["sites"][0]
    assert rows[f"attention ({site})"][2:4] == pytest.approx([want_att[0], want_att[-1]], abs=1e-6)
    for m in METHODS:
        want = attribution_aer(mats[m], gold)
        assert rows[m][2:4] == pytest.approx([want[0], want[-1]], abs=1e-6)


def test_faithfulness_summary_has_intervals_and_a_zero_identity(analysed):
    data = analysed.metrics["sections"]["faithfulness"]
    rows = {r[0]: r for r in report_sections(analysed.metrics)["faithfulness"]["tables"][0]["rows"]}
    assert set(rows) >= {"identity", "uniform", "zero_top", "other_step", "permute(seed=0)"}
    assert rows["identity"][1] == "0.000 [0.000, 0.000]"
    tvd = data["summaries"]["uniform"]["tvd"]
    assert 0 < tvd["low"] <= tvd["mean"] <= tvd["high"]
    assert data["summaries"]["uniform"]["greedy_change"] is not None


def test_saved_folder_has_attribution_alignments_heatmaps_and_sections(
    tiny, analysed, direct, tmp_path
):
    from attnprobe.analyses.extraction import extract_alignment

    _, corpus, _ = tiny
    _, mats = direct
    out = analysed.save(tmp_path / "rep")
    for m in METHODS:
        path = out / "alignments" / f"attribution.{m}.argmax-target.txt"
        lines = path.read_text().splitlines()
        assert len(lines) == len(corpus)
        offset = analysed.metrics["sections"]["attribution"]["best_offset"][m]
        for line, mat in zip(lines, mats[m], strict=True):
            S, T = mat.shape[1] - 1, mat.shape[0] - 1
            src_mask, tgt_mask = np.arange(S + 1) < S, np.arange(T + 1) < T
            want = extract_alignment(
                np.abs(mat), "argmax-target", offset=offset, src_mask=src_mask, tgt_mask=tgt_mask
            )
            got = {tuple(int(x) for x in link.split("-")) for link in line.split()}
            assert got == set(want.sure)
    html = (out / "report.html").read_text()
    assert 'id="section-attribution"' in html and 'id="section-faithfulness"' in html
    assert "AER of attention vs attribution alignments" in html
    assert "output change per attention edit" in html
    data = json.loads(
        html.split('id="attnprobe-data"', 1)[1].split(">", 1)[1].split("</script>", 1)[0]
    )
    first = data["sentences"][0]
    assert set(first["attr"]) == set(METHODS)
    assert first["attr"]["saliency"]["shape"] == [len(first["tgt"]), len(first["src"]) + 1]
    assert (out / "figures" / "tau_distribution.svg").is_file()
    assert (out / "figures" / "faithfulness.svg").is_file()


def test_unknown_attribution_method_is_named(tiny):
    model, corpus, gold = tiny
    with pytest.raises(UnknownNameError, match="did you mean 'saliency'"):
        analyze(model, corpus, gold, analyses=["attribution"], attribution=["salency"])


def test_cli_analyze_with_attribution_and_faithfulness(tiny_checkpoint, tmp_path):
    from attnprobe.cli.main import cli

    d = tiny_checkpoint
    out = tmp_path / "rep"
    args = ["analyze", d / "m.pt", "--src", d / "t.src", "--tgt", d / "t.tgt"]
    args += ["--gold", d / "t.gold", "--analyses", "alignment,attribution,faithfulness"]
    args += ["--attribution", "saliency,occlusion", "--limit", 5, "--out", out]
    r = CliRunner().invoke(cli, [str(a) for a in args])
    assert r.exit_code == 0, r.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["signature"]["options"]["attribution"] == ["saliency", "occlusion"]
    assert set(metrics["sections"]) == {"attribution", "faithfulness"}
    for data in metrics["sections"].values():  # numbers only: the report words them
        assert not {"title", "description", "metrics", "tables"} & set(data)
    assert (out / "alignments" / "attribution.occlusion.argmax-target.txt").is_file()
    html = (out / "report.html").read_text()
    assert "Attention vs attribution" in html and "Faithfulness" in html
    bad = CliRunner().invoke(
        cli, [str(a) for a in [*args[:-2], "--out", tmp_path / "x"]] + ["--attribution", "ig"]
    )
    assert bad.exit_code == 2 and "attribution method" in bad.output
    assert not (tmp_path / "x").exists()


@pytest.mark.browser
def test_attribution_heatmaps_render_beside_the_attention_in_chromium(analysed, tmp_path, request):
    page = request.getfixturevalue("browser")  # from tests/test_report_browser.py: skips without
    html = analysed.to_html(tmp_path / "report.html")
    page.call("Runtime.enable")
    page.call("Page.enable")
    page.call("Page.navigate", url=html.as_uri())
    page.wait("document.body && document.body.dataset.ready === '1'")
    maps = page.js("document.querySelectorAll('#attribution-maps svg.heatmap').length")
    assert maps == len(METHODS)
    first = analysed.sentences[0]
    cells = page.js(
        "document.querySelectorAll('#attribution-maps svg.heatmap')[0]"
        ".querySelectorAll('rect.cell').length"
    )
    assert cells == first["tgt_len"] * (first["src_len"] + 1)
    page.js("0")
    assert [e for e in page.events if e.get("method") == "Runtime.exceptionThrown"] == []


def test_erasure_comparison_equals_compare_erasure_on_direct_numbers(tiny, analysed, direct):
    from attnprobe.analyses.faithfulness import compare_erasure
    from attnprobe.runs.attribution import attribute

    model, corpus, _ = tiny
    attention, mats = direct  # 12 sentences: all of them are used (fewer than the caps)
    occ = attribute(model, corpus, "occlusion", batch_size=5).matrices
    want = compare_erasure(occ, attention, mats[METHODS[0]], method=METHODS[0]).to_dict()
    got = analysed.metrics["sections"]["faithfulness"]["erasure"]
    assert got["method"] == METHODS[0]
    for key in ("attended", "attributed", "attributed_wins", "same_token"):
        assert got[key]["mean"] == pytest.approx(want[key]["mean"], abs=1e-6), key
    html_rows = report_sections(analysed.metrics)["faithfulness"]["tables"][1]["rows"]
    assert html_rows[2][0] == "attributed token hurts more"


def test_integrated_gradients_gaps_are_reported(tiny):
    from attnprobe.data import ParallelCorpus
    from attnprobe.runs.attribution import attribute

    model, corpus, gold = tiny
    sub = ParallelCorpus(corpus.src[:3], corpus.tgt[:3])
    res = analyze(
        model,
        sub,
        gold[:3],
        analyses=["alignment", "attribution"],
        attribution=["integrated_gradients"],
        progress=False,
    )
    data = res.metrics["sections"]["attribution"]
    alone = attribute(model, sub, "integrated_gradients", delta_tolerance=float("inf"))
    assert data["max_delta"] == pytest.approx(alone.max_delta, rel=1e-6)
    assert data["relative_delta"] == pytest.approx(alone.relative_delta, rel=1e-6)
    assert 0 <= data["relative_delta"] < 1


def test_attribution_and_faithfulness_share_one_sweep_per_batch(tiny, analysed, monkeypatch):
    """With both steps in one run, the erasure comparison reads the attribution step's
    saliency: the sweep runs once per analyze batch (saliency and input x gradient share
    it), and the numbers equal those of a run of faithfulness alone (which attributes
    its sentences itself)."""
    import attnprobe.runs.attribution as A

    model, corpus, gold = tiny
    calls = []
    real = A.sweep

    def counted(*args, **kwargs):
        calls.append(args[2].shape[0])  # the rows of the batch it sweeps
        return real(*args, **kwargs)

    monkeypatch.setattr(A, "sweep", counted)
    kw = dict(attribution=METHODS, batch_size=5, progress=False)
    both = analyze(model, corpus, gold, analyses=["attribution", "faithfulness"], **kw)
    assert calls == [5, 5, 2]  # 12 sentences in batches of 5: one sweep each, nothing more
    calls.clear()
    alone = analyze(model, corpus, gold, analyses=["faithfulness"], **kw)
    assert len(calls) >= 1  # on its own, faithfulness attributes its sentences itself
    got = both.metrics["sections"]["faithfulness"]["erasure"]
    want = alone.metrics["sections"]["faithfulness"]["erasure"]
    assert got.keys() == want.keys()
    for key in ("attended", "attributed", "attributed_wins", "same_token"):
        for part in ("mean", "low", "high"):
            assert got[key][part] == pytest.approx(want[key][part], abs=1e-9), (key, part)
    want_all = analysed.metrics["sections"]["faithfulness"]["erasure"]
    assert got["attributed"]["mean"] == pytest.approx(want_all["attributed"]["mean"], abs=1e-9)

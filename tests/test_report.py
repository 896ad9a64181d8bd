"""The HTML report and the output folder: escaping, self-containment, atomic writes."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from attnprobe.errors import InputError
from attnprobe.report.html import explorer_data, json_for_script, render_report
from attnprobe.results import Results, dequantize, quantize
from tests.report_data import EVIL_SRC, hand_made_results


def test_quantize_round_trip_is_within_half_a_level():
    a = np.random.default_rng(0).dirichlet(np.ones(7), size=5)
    assert np.abs(dequantize(quantize(a)) - a).max() <= 0.5 / 255 + 1e-12


def test_hostile_tokens_render_as_text():
    html = render_report(hand_made_results(), figures=False)
    # no token can open an element or close the data script
    assert "<img" not in html and "<script>alert" not in html and "<i>m</i>" not in html
    assert "<b>loud</b>" not in html and "&lt;b&gt;loud&lt;/b&gt;" in html
    assert html.count("</script>") == 2  # the data element and the code element
    data = re.search(r'id="attnprobe-data">(.*?)</script>', html, re.S).group(1)
    assert json.loads(data)["sentences"][0]["src"] == EVIL_SRC
    assert "innerHTML" not in html  # the explorer writes tokens with textContent only


def test_json_for_script_escapes_every_markup_character():
    s = json_for_script(["</script>", "<!--", "&amp;", "\u2028"])
    assert not set("<>&") & set(s) and json.loads(s) == ["</script>", "<!--", "&amp;", "\u2028"]


def test_report_requests_nothing():
    html = render_report(hand_made_results(), figures=False)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", html)
    assert "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html  # the page may not fetch anything


def test_explorer_data_slices_rows_by_offset():
    r = hand_made_results(1)
    d = explorer_data(r)["sentences"][0]
    assert d["att"]["shape"] == [2, 4] and dequantize(d["att"])[0, 1] == pytest.approx(
        0.7, abs=2e-3
    )
    r.metrics["primary"]["offset"] = -1  # target word j is row j + 1
    d = explorer_data(r)["sentences"][0]
    assert dequantize(d["att"])[0, 2] == pytest.approx(0.9, abs=2e-3)


def test_save_writes_every_file_and_round_trips(tmp_path):
    r = hand_made_results()
    out = r.save(tmp_path / "out")
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"report.html", "metrics.json", "sentences.jsonl"} <= names
    assert "alignments/attention.dec.argmax-target.txt" in names
    assert {"figures/quality_by_length.png", "figures/quality_by_length.svg"} <= names
    assert (out / "alignments/attention.dec.argmax-target.txt").read_text().split("\n")[0] == (
        "1-0 2-1"
    )
    back = Results.from_json(out)
    assert back.metrics == r.metrics and back.sentences == r.sentences
    assert "<svg" in (out / "report.html").read_text()
    with pytest.raises(InputError, match="already exists"):
        r.save(out)


def test_a_failure_mid_write_leaves_nothing(tmp_path, monkeypatch):
    import attnprobe.report.figures as figures

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(figures, "write_figures", boom)
    with pytest.raises(KeyboardInterrupt):
        hand_made_results().save(tmp_path / "out")
    assert list(tmp_path.iterdir()) == []
    # with --force, the old folder survives a failed rewrite
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.txt").write_text("keep")
    with pytest.raises(KeyboardInterrupt):
        hand_made_results().save(tmp_path / "out", force=True)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (tmp_path / "out" / "old.txt").read_text() == "keep"


def test_repr_html_and_1000_sentence_size():
    assert "score-table" in hand_made_results()._repr_html_()
    r = hand_made_results(1)
    big = np.random.default_rng(1).dirichlet(np.ones(31), size=36)  # 30 words + EOS, 35 + EOS
    s = dict(r.sentences[0], src=["w"] * 30, tgt=["v"] * 35, attention=quantize(big))
    r.sentences = [dict(s, index=k) for k in range(1000)]
    size = len(render_report(r, figures=False).encode())
    assert size < 5_000_000, size


def test_model_card_settings_as_tables_and_no_score_function_without_attention():
    r = hand_made_results(1)
    r.metrics["model"]["train"] = {
        "steps": 1500,
        "seconds": 1146.6,
        "dev_loss": 0.018456,
        "config": {"lr": 0.003, "epochs": 20.0},
    }
    r.metrics["model"]["config"] = {"cell": "gru", "bidirectional": True}
    html = render_report(r, figures=False)
    assert "{&#39;lr&#39;" not in html and "{'lr'" not in html  # no Python dict
    for cells in (
        "<th>seconds</th><td>1,147 s (19.1 min)</td>",
        "<th>steps</th><td>1,500</td>",
        "<th>dev_loss</th><td>0.01846</td>",
        "<th>epochs</th><td>20</td>",
        "<th>bidirectional</th><td>yes</td>",
    ):
        assert cells in html
    assert "<h3>training configuration</h3>" in html and "<h3>architecture</h3>" in html
    assert "<th>score function</th><td>additive</td>" in html
    r.metrics["model"].update(arch="none", score=None)
    r.metrics["sites"] = []
    assert "score function" not in render_report(r, figures=False)


def test_no_negative_zero_and_baselines_beside_attention():
    r = hand_made_results(1)
    r.metrics["sections"]["demo"]["metrics"][0]["value"] = -0.0001
    r.metrics["alignment"]["diagonal"] = {
        "aer": 0.54,
        "precision": 0.5,
        "recall": 0.4,
        "f1": 0.444,
        "links": 3,
    }
    r.metrics["alignment"]["references"] = {
        "fast_align forward": {
            "aer": 0.164,
            "precision": 0.8,
            "recall": 0.9,
            "f1": 0.847,
            "links": 7312,
        }
    }
    html = render_report(r, figures=False)
    assert "-0.000" not in html and "<td>0.000</td>" in html
    table = re.search(r'id="baseline-table">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"aer\">(.*?)</td>", table)
    assert rows == [
        ("attention: argmax-target on dec, offset 0", "0.125"),
        ("diagonal (word-blind)", "0.540"),
        ("fast_align forward", "0.164"),
    ]
    del r.metrics["alignment"]["diagonal"], r.metrics["alignment"]["references"]
    assert "baseline-table" not in render_report(r, figures=False)


def test_a_sampled_explorer_says_how_many_of_how_many():
    r = hand_made_results()
    assert "A sample:" not in render_report(r, figures=False)  # every sentence is listed
    r.metrics["explorer"] = {"shown": 1200, "of": 40000}
    html = render_report(r, figures=False)
    assert "the list holds 1,200 of the 40,000 sentences" in html

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

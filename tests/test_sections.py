"""The report's words for each step: hand-made step data -> the section text the report shows.

Steps store numbers only (``metrics["sections"][step]``); :mod:`attnprobe.report.sections`
words them. The expected titles, labels, help texts and table cells are written out
literally: they are what the report showed before the prose left the steps.
"""

from __future__ import annotations

import json

import pytest

from attnprobe.report.html import explorer_data, render_report
from attnprobe.report.sections import (
    COLUMNS,
    SECTIONS,
    TITLES,
    explorer_columns,
    report_sections,
    section,
)
from attnprobe.results import Results


def iv(mean, low, high):
    return {"mean": mean, "low": low, "high": high, "level": 0.95}


PATTERNS = {
    "site": "decoder.attention",
    "offset": -1,
    "sentences": 2,
    "steps": 9,
    "source_words": 8,
    "mean_entropy": 0.4,
    "mean_kendall_tau": 0.75,
    "crossings": 3,
    "sentences_with_crossings": 1,
    "jump_counts": {"1": 6, "0": 1, "-2": 2},
    "forward_jumps": 6,
    "backward_jumps": 2,
    "longest_backward": 2,
    "one_to_many": 1,
    "many_to_one": 0,
    "under": 2,
    "over": 1,
    "mean_special_mass": float("nan"),
    "block_sizes": {"1-1": 5},
    "under_rate": 0.25,
    "over_rate": 0.125,
}

GRADFLOW = {
    "sentences": 4,
    "near": 0.5,
    "far": 0.125,
    "profile": {
        "by": "distance",
        "keys": [0, 1, 4, 5, 7, 10, 20],
        "mean": [1.0, 0.75, 0.5, 0.25, 0.2, 0.125, 0.1],
        "median": [1.0, 0.5, 0.5, 0.25, 0.2, 0.125, 0.1],
        "count": [10, 8, 4, 3, 2, 1, 1],
    },
    "from_end": {"by": "from-end", "keys": [0], "mean": [1.0], "median": [1.0], "count": [4]},
    "paths": {
        "parts": ["attention", "recurrent"],
        "projection": {"attention": 0.8, "recurrent": 0.2},
        "norm": {"attention": 1.0, "recurrent": 0.25},
        "residual": 1e-7,
        "residual_projection": 0.0,
        "entries": 40,
    },
    "longest_path": {"words": [5, 10], "with": [3.0, 3.0], "without": [13.0, 23.0]},
    "path_lengths": {"distance": [0, 1], "with": [3.0, 3.0], "without": [23.0, 23.0]},
}

ATTRIBUTION = {
    "methods": ["saliency", "integrated_gradients"],
    "extraction": "argmax-target",
    "site": "dec",
    "offsets": [0, -1],
    "sentences": 10,
    "agreement": {
        "dec/saliency": {
            "steps": 40,
            "k": 3,
            "tau": 0.5,
            "rho": 0.6,
            "jsd": 0.125,
            "top1": 0.75,
            "topk": 0.9,
        },
        "dec/integrated_gradients": {
            "steps": 40,
            "k": 3,
            "tau": None,
            "rho": 0.1,
            "jsd": 0.5,
            "top1": 0.25,
            "topk": 0.5,
        },
    },  # fmt: skip
    "aer": {
        "attention": {"0": 0.25, "-1": 0.5},
        "saliency": {"0": 0.375, "-1": 0.625},
        "integrated_gradients": {"0": 0.5, "-1": 0.75},
    },
    "precision": {"attention": 0.75, "saliency": 0.625, "integrated_gradients": 0.5},
    "recall": {"attention": 0.7, "saliency": 0.6, "integrated_gradients": 0.5},
    "best_offset": {"attention": 0, "saliency": 0, "integrated_gradients": -1},
    "tau": {"saliency": [0.5, None]},
    "seconds": {"saliency": 2.0, "integrated_gradients": 0.0},
    "max_delta": 0.03125,
    "relative_delta": 0.0625,
    "alignment_files": {"attribution.saliency.argmax-target.txt": "attribution.saliency/x"},
}
EDIT = {"tvd": iv(0.5, 0.25, 0.75), "jsd": iv(0.1, 0.05, 0.2), "delta_logp": iv(-1.0, -2.0, 0.0)}
FAITHFULNESS = {
    "site": "dec",
    "sentences": 12,
    "summaries": {
        "identity": {"edit": "identity", **{k: iv(0.0, 0.0, 0.0) for k in EDIT}},
        "uniform": {
            "edit": "uniform",
            **EDIT,
            "argmax_change": iv(0.3, 0.2, 0.4),
            "greedy_change": iv(0.5, 0.25, 0.75),
        },
        "zero_top": {
            "edit": "zero_top",
            **EDIT,
            "argmax_change": iv(float("nan"), 0.0, 0.0),
            "greedy_change": None,
        },
    },
    "params": {"seeds": [0]},
    "erasure": {
        "method": "saliency",
        "attended": iv(1.5, 1.0, 2.0),
        "attributed": iv(1.25, 1.0, 1.5),
        "attributed_wins": iv(0.4, 0.3, 0.5),
        "same_token": iv(0.6, 0.5, 0.7),
    },
    "erasure_sentences": 5,
}
FAITHFULNESS["summaries"]["identity"].update(
    argmax_change=iv(0.0, 0.0, 0.0), greedy_change=iv(0.0, 0.0, 0.0)
)


def rows(sec):
    return [(m["label"], m["value"], m["help"]) for m in sec["metrics"]]


def test_patterns_section():
    sec = section("patterns", PATTERNS)
    assert sec["title"] == "Attention patterns"
    assert sec["description"] == "Shape of the attention of decoder.attention at offset -1."
    assert rows(sec) == [
        ("mean entropy", 0.4, "nats per target step over real source words"),
        ("mean Kendall tau", 0.75, "1: monotonic argmax links; lower: reordering"),
        ("crossing link pairs", 3, "pairs of argmax links that cross (reordering)"),
        ("sentences with crossings", 1, ""),
        ("backward jumps", 2, "steps whose argmax moves back in the source"),
        ("longest backward jump", 2, "in source words"),
        ("one-to-many source words", 1, "argmax of two or more target steps"),
        ("many-to-one steps", 0, "steps with two or more source words above the threshold"),
        ("under-covered source words", 0.25, "share with total attention < 0.5"),
        ("over-covered source words", 0.125, "share with total attention > 1.5"),
        ("mass on special tokens", None, "mean attention on EOS per step"),  # NaN: a dash
    ]
    assert sec["tables"] == [
        {
            "title": "argmax jumps (source positions moved per step)",
            "columns": ["jump", "steps"],
            "rows": [[1, 6], [0, 1], [-2, 2]],
        }
    ]


def test_patterns_section_scores_against_gold():
    gold = {
        "method": "argmax-target",
        "sentences": 2,
        "crossings": 3,
        "gold_crossings": 2,
        "correct_crossings": 1,
        "found_crossings": 1,
        "one_to_many": 4,
        "gold_one_to_many": 0,
        "correct_one_to_many": 1,
        "found_one_to_many": 0,
        "crossing_precision": 1 / 3,
        "crossing_recall": 0.5,
        "one_to_many_precision": 0.25,
        "one_to_many_recall": float("nan"),
    }
    sec = section("patterns", {**PATTERNS, "against_gold": gold})
    assert (
        "scores the crossings and one-to-many words of the argmax-target links"
        in (sec["description"])
    )
    assert sec["tables"][0]["columns"] == [
        "pattern",
        "attention",
        "gold (sure)",
        "precision",
        "recall",
    ]
    assert sec["tables"][0]["rows"] == [
        ["crossing link pairs", 3, 2, 0.333333, 0.5],
        ["one-to-many source words", 4, 0, 0.25, None],
    ]
    assert sec["tables"][1]["title"].startswith("argmax jumps")


def test_gradflow_section():
    sec = section("gradflow", GRADFLOW)
    assert sec["title"] == "Gradient flow"
    assert sec["description"].startswith("How large the gradient reaching each source word is")
    assert rows(sec) == [
        ("sentences", 4, "spread over the source lengths"),
        ("mean gradient norm, distance 0-2", 0.5, "|| d log p(y_t) / d e_s ||"),
        ("mean gradient norm, distance >= 20", 0.125, "long distances (nan: none that long)"),
        ("far / near", 0.25, "1: no decay with distance"),
        (
            "share through the attention",
            0.8,
            "projection of the gradient with the initial state detached",
        ),
        (
            "share through the initial state",
            0.2,
            "projection of the gradient with the encoder states detached",
        ),
        ("decomposition gap", 0.0, "|| total - sum of parts || / || total ||"),  # 6 decimals
    ]
    distance, longest = sec["tables"]
    assert distance["title"] == "mean gradient norm by distance |t - s| (words)"
    assert distance["columns"] == ["distance", "mean", "median", "entries"]
    # every distance below 5, then every fifth
    assert distance["rows"] == [
        [0, 1.0, 1.0, 10],
        [1, 0.75, 0.5, 8],
        [4, 0.5, 0.5, 4],
        [5, 0.25, 0.25, 3],
        [10, 0.125, 0.125, 1],
        [20, 0.1, 0.1, 1],
    ]
    assert longest == {
        "title": "longest shortest gradient path (edges) by sentence length",
        "columns": ["words", "with attention edges", "without attention edges"],
        "rows": [[5, 3.0, 13.0], [10, 3.0, 23.0]],
    }
    assert sec["figures"] == ["gradient_by_distance", "path_length"]


def test_gradflow_without_far_entries_or_attention_path():
    data = {**GRADFLOW, "far": None}
    del data["paths"]
    labels = [label for label, *_ in rows(section("gradflow", data))]
    assert labels[-1] == "far / near" and "share through the attention" not in labels
    assert rows(section("gradflow", data))[2:] == [
        ("mean gradient norm, distance >= 20", None, "long distances (nan: none that long)"),
        ("far / near", None, "1: no decay with distance"),
    ]


def test_attribution_section():
    sec = section("attribution", ATTRIBUTION)
    assert sec["title"] == "Attention vs attribution"
    assert sec["description"].endswith(
        "The explorer's 'tau attr' column is the mean tau of the sentence (saliency)."
    )
    assert rows(sec) == [
        (
            "mean Kendall tau (saliency)",
            0.5,
            "attention vs attribution ranks per step: 1 same order, 0 unrelated, -1 reversed",
        ),
        ("mean JSD (saliency)", 0.125, "bits between the normalised rows: 0 identical, 1 disjoint"),
        (
            "top-1 agreement (saliency)",
            0.75,
            "share of steps whose most attended and most attributed source token coincide",
        ),
        ("sentences/s (saliency)", 5.0, "attribution speed in this run"),
        ("sentences/s (integrated_gradients)", None, "attribution speed in this run"),
        (
            "IG completeness gap, max",
            0.03125,
            "|sum(attr) - (f(x) - f(x'))| of one step; large: raise n_steps",
        ),
        (
            "IG completeness gaps, relative",
            0.0625,
            "all |gaps| over all |f(x) - f(x')|: how far off the 50-point integral is; large "
            "on long sentences of recurrent models (docs/attribution.md)",
        ),
    ]
    agreement, aer = sec["tables"]
    assert agreement == {
        "title": "agreement per step: mean over all target steps",
        "columns": ["site", "method", "tau", "rho", "JSD", "top-1", "top-3", "steps"],
        "rows": [
            ["dec", "saliency", 0.5, 0.6, 0.125, 0.75, 0.9, 40],
            ["dec", "integrated_gradients", None, 0.1, 0.5, 0.25, 0.5, 40],
        ],
    }
    assert aer == {
        "title": "AER of attention vs attribution alignments (same gold, same extraction)",
        "columns": [
            "source",
            "extraction",
            "AER@0",
            "AER@-1",
            "best offset",
            "precision",
            "recall",
        ],
        "rows": [
            ["attention (dec)", "argmax-target", 0.25, 0.5, 0, 0.75, 0.7],
            ["saliency", "argmax-target", 0.375, 0.625, 0, 0.625, 0.6],
            ["integrated_gradients", "argmax-target", 0.5, 0.75, -1, 0.5, 0.5],
        ],
    }
    assert sec["figures"] == ["tau_distribution"]


def test_attribution_without_gold_or_integrated_gradients():
    data = {**ATTRIBUTION, "aer": {}, "max_delta": None, "relative_delta": None}
    sec = section("attribution", data)
    assert len(sec["tables"]) == 1  # no AER table without gold
    assert not any(label.startswith("IG ") for label, *_ in rows(sec))


def test_faithfulness_section():
    sec = section("faithfulness", FAITHFULNESS)
    assert sec["title"] == "Faithfulness"
    assert sec["description"].startswith(
        "The attention of dec replaced through capture edits, teacher-forced: "
    )
    assert rows(sec) == [
        ("sentences", 12, "spread over the source lengths"),
        (
            "TVD, uniform attention",
            0.5,
            "total variation distance of the next-token distribution per step (0: no change)",
        ),
        (
            "greedy change rate, uniform attention",
            0.5,
            "share of sentences whose greedy translation changes",
        ),
    ]
    edits, erasure = sec["tables"]
    assert edits["title"] == "output change per attention edit: mean [95% interval]"
    assert edits["columns"] == [
        "edit",
        "TVD",
        "JSD (bits)",
        "Δ log p(y)",
        "argmax change",
        "greedy change",
    ]
    zero = "0.000 [0.000, 0.000]"
    assert edits["rows"] == [
        ["identity", zero, zero, zero, zero, zero],
        [
            "uniform",
            "0.500 [0.250, 0.750]",
            "0.100 [0.050, 0.200]",
            "-1.000 [-2.000, 0.000]",
            "0.300 [0.200, 0.400]",
            "0.500 [0.250, 0.750]",
        ],
        [
            "zero_top",
            "0.500 [0.250, 0.750]",
            "0.100 [0.050, 0.200]",
            "-1.000 [-2.000, 0.000]",
            "-",  # NaN: not measured
            "-",  # None: not decoded
        ],
    ]
    assert erasure == {
        "title": "erasing the top-attended vs the top-attributed (saliency) source token, "
        "5 sentences: mean [95% interval]",
        "columns": ["", "value", "how to read it"],
        "rows": [
            [
                "drop of log p(y), top-attended erased",
                "1.500 [1.000, 2.000]",
                "f(x) - f(x without the token); larger: the token mattered more",
            ],
            ["drop of log p(y), top-attributed erased", "1.250 [1.000, 1.500]", ""],
            [
                "attributed token hurts more",
                "0.400 [0.300, 0.500]",
                "share of steps; above 0.5: attribution finds the used token more often",
            ],
            ["same token", "0.600 [0.500, 0.700]", "share of steps"],
        ],
    }
    assert sec["figures"] == ["faithfulness"]


def test_faithfulness_without_a_uniform_edit():
    data = {**FAITHFULNESS, "summaries": {"identity": FAITHFULNESS["summaries"]["identity"]}}
    assert [v for _, v, _ in rows(section("faithfulness", data))] == [12, None, None]


@pytest.mark.parametrize("name", [*SECTIONS, "alignment", "mine"])
def test_a_skipped_step_says_why(name):
    sec = section(name, {"skipped": True, "reason": "the model has no recurrent graph"})
    assert sec == {
        "title": TITLES.get(name, name),
        "description": "skipped: the model has no recurrent graph",
        "skipped": True,
    }


def test_plug_ins_that_word_themselves_and_older_folders_show_as_stored():
    worded = {"title": "Mine", "description": "d", "metrics": [], "tables": [], "data": {}}
    assert section("mine", worded) is worded
    assert section("patterns", {**worded, "title": "Attention patterns"})["title"] == (
        "Attention patterns"
    )  # a metrics.json written before the steps returned data


def test_a_step_without_words_shows_its_numbers():
    assert section("mine", {"n": 2, "share": float("nan"), "xs": [1, 2], "name": "a"}) == {
        "title": "mine",
        "description": "",
        "metrics": [
            {"label": "n", "value": 2, "help": ""},
            {"label": "share", "value": None, "help": ""},
        ],
        "tables": [],
    }


def test_every_step_has_a_title_and_only_known_steps_have_words():
    assert set(SECTIONS) <= set(TITLES)
    assert set(TITLES) == {
        "alignment",
        "quality",
        "patterns",
        "gradflow",
        "attribution",
        "faithfulness",
        "heads",
    }


def test_explorer_columns_follow_the_records_and_keep_their_keys():
    assert [c["key"] for c in COLUMNS] == [
        "aer",
        "src_len",
        "tgt_len",
        "entropy",
        "nll_per_token",
        "exact",
        "tau",
        "crossings",
        "gold_crossings",
        "one_to_many",
        "gold_one_to_many",
        "fertility",
        "unk_src",
        "unk_tgt",
        "attr_tau",
    ]
    cols = explorer_columns([{"src_len": 2, "tgt_len": 1}, {"src_len": 1, "attr_tau": 0.5}])
    assert [(c["key"], c["label"]) for c in cols] == [
        ("src_len", "src"),
        ("tgt_len", "tgt"),
        ("attr_tau", "tau attr"),
    ]
    assert explorer_columns([]) == []
    # unknown-word counts show up only where some sentence has one
    assert explorer_columns([{"unk_src": 0, "unk_tgt": 0}]) == []
    cols = explorer_columns([{"unk_src": 0, "unk_tgt": 0}, {"unk_src": 0, "unk_tgt": 2}])
    assert [c["key"] for c in cols] == ["unk_tgt"]


def _results():
    metrics = {
        "primary": {"site": "dec", "method": "argmax-target", "offset": 0},
        "sections": {
            "patterns": PATTERNS,
            "gradflow": {"skipped": True, "reason": "no <recurrent> graph"},
            "attribution": ATTRIBUTION,
            "faithfulness": FAITHFULNESS,
        },
    }
    sentence = {"index": 0, "src": ["a"], "tgt": ["x"], "src_len": 1, "tgt_len": 1, "tau": 1.0}
    return Results(metrics, [sentence])


def test_the_html_report_shows_the_worded_sections():
    html = render_report(_results(), figures=False)
    nav = html.split("<nav>", 1)[1].split("</nav>", 1)[0]
    assert '<a href="#section-patterns">Attention patterns</a>' in nav
    assert '<a href="#section-gradflow">Gradient flow</a>' in nav
    assert '<p class="help">Shape of the attention of decoder.attention at offset -1.</p>' in html
    assert (
        '<tr><th title="in source words">longest backward jump</th><td>2</td>'
        '<td class="small">in source words</td></tr>'
    ) in html
    assert "<h3>argmax jumps (source positions moved per step)</h3>" in html
    assert "<td>-1.000 [-2.000, 0.000]</td>" in html
    assert "<th>AER@-1</th>" in html
    # skipped: the reason, escaped like every text
    assert '<p class="help">skipped: no &lt;recurrent&gt; graph</p>' in html


def test_re_rendering_from_json_gives_the_same_report(tmp_path):
    res = _results()
    res.to_json(tmp_path)
    again = Results.from_json(tmp_path)
    assert report_sections(again.metrics) == report_sections(json.loads(json.dumps(res.metrics)))
    assert render_report(again, figures=False) == render_report(res, figures=False)


def test_the_explorer_lists_the_columns_the_records_have():
    cols = explorer_data(_results())["columns"]
    assert [c["key"] for c in cols] == ["src_len", "tgt_len", "tau"]
    assert cols[2]["help"] == (
        "Kendall tau of target position vs argmax source position (1: monotonic)"
    )

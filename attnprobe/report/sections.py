"""The report's words for each analysis step: titles, descriptions, labels, help texts, tables.

The steps of :func:`attnprobe.pipeline.driver.analyze` return numbers only
(stored under ``metrics["sections"][step]`` in ``metrics.json``); this module
turns each step's data into the section the report shows::

    {"title": str, "description": str,
     "metrics": [{"label", "value", "help"}],
     "tables": [{"title", "columns", "rows"}],
     "figures": [names of attnprobe.report.figures.FIGURES]}

One function per step in the plain-dict registry :data:`SECTIONS`. It reads
JSON data (what ``to_dict()`` gave, or what ``metrics.json`` holds), so that
``attnprobe report DIR`` re-renders a folder without a model, and so that the
wording of a report can change without running anything again. A step that
could not run on the model is stored as ``{"skipped": True, "reason": ...}``
and shown as "skipped: reason". The explorer's per-sentence :data:`COLUMNS`
live here too: prose about numbers the sentence records hold.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["SECTIONS", "TITLES", "COLUMNS", "section", "report_sections", "explorer_columns"]

#: per-sentence columns of the explorer: key (of the sentence records), label, help, digits
COLUMNS = [
    {"key": "aer", "label": "AER", "help": "alignment error rate of this sentence", "digits": 3},
    {"key": "src_len", "label": "src", "help": "source length (words)", "digits": 0},
    {"key": "tgt_len", "label": "tgt", "help": "target length (words)", "digits": 0},
    {
        "key": "entropy",
        "label": "entropy",
        "help": "mean attention entropy per target step (nats; 0 = one-hot)",
        "digits": 2,
    },
    {
        "key": "nll_per_token",
        "label": "NLL/tok",
        "help": "teacher-forced negative log-likelihood per target step (nats)",
        "digits": 2,
    },
    {"key": "exact", "label": "exact", "help": "greedy output equals the reference"},
    {
        "key": "tau",
        "label": "tau",
        "digits": 2,
        "help": "Kendall tau of target position vs argmax source position (1: monotonic)",
    },
    {
        "key": "crossings",
        "label": "crossings",
        "help": "pairs of argmax links that cross (reordering)",
        "digits": 0,
    },
    {
        "key": "gold_crossings",
        "label": "gold crossings",
        "help": "pairs of sure gold links that cross",
        "digits": 0,
    },
    {
        "key": "one_to_many",
        "label": "1-to-n",
        "help": "source words that are the argmax of two or more target words",
        "digits": 0,
    },
    {
        "key": "gold_one_to_many",
        "label": "gold 1-to-n",
        "help": "source words with two or more sure gold links",
        "digits": 0,
    },
    {
        "key": "fertility",
        "label": "max fertility",
        "help": "the largest total attention one source word receives "
        "(1: one target word's worth; > 1.5: over-translation candidate)",
        "digits": 2,
    },
    {
        "key": "unk_src",
        "label": "unk src",
        "help": "source words the model maps to <unk>",
        "digits": 0,
        "nonzero": True,
    },
    {
        "key": "unk_tgt",
        "label": "unk tgt",
        "help": "target words the model maps to <unk>",
        "digits": 0,
        "nonzero": True,
    },
    {
        "key": "attr_tau",
        "label": "tau attr",
        "digits": 2,
        "help": "mean Kendall tau between attention and attribution rows "
        "(the first attribution method; 1: same ranking)",
    },
]

#: the title of each step's section (also shown when the step was skipped)
TITLES = {
    "alignment": "Alignment",
    "quality": "Quality",
    "patterns": "Attention patterns",
    "gradflow": "Gradient flow",
    "attribution": "Attention vs attribution",
    "faithfulness": "Faithfulness",
    "heads": "Layers and heads",
}


def explorer_columns(sentences) -> list[dict]:
    """The :data:`COLUMNS` that at least one sentence record has a number for (a
    ``nonzero`` column: a number other than 0).

    Examples
    --------
    >>> [c["label"] for c in explorer_columns([{"src_len": 3, "tau": 1.0, "unk_src": 0}])]
    ['src', 'tau']
    """
    return [
        c
        for c in COLUMNS
        if any(s.get(c["key"]) if c.get("nonzero") else c["key"] in s for s in sentences)
    ]


# ------------------------------------------------------------------ helpers


def _value(x):
    """A number as the report shows it: NaN -> None (a dash), floats to 6 decimals.

    Examples
    --------
    >>> _value(float("nan")), _value(0.12345678), _value(3), _value(None)
    (None, 0.123457, 3, None)
    """
    if x is None or isinstance(x, bool | int):
        return x
    x = float(x)
    return None if math.isnan(x) else round(x, 6)


def _count(x):
    """A count stored as a float (JSON, an average of whole numbers) as an int when it is whole.

    Examples
    --------
    >>> _count(3.0), _count(2.5), _count(None), _count(4)
    (3, 2.5, None, 4)
    """
    if isinstance(x, float) and x.is_integer():
        return int(x)
    return x


def _metrics(rows) -> list[dict]:
    return [{"label": label, "value": _value(v), "help": h} for label, v, h in rows]


def _interval(iv: dict | None) -> str:
    """``mean [low, high]`` of a bootstrap interval's dict (``-`` when not measured).

    Examples
    --------
    >>> _interval({"mean": 0.25, "low": 0.2, "high": 0.3125, "level": 0.95}), _interval(None)
    ('0.250 [0.200, 0.312]', '-')
    """
    if iv is None or iv.get("mean") is None or iv["mean"] != iv["mean"]:
        return "-"
    return f"{iv['mean']:.3f} [{iv['low']:.3f}, {iv['high']:.3f}]"


def _mean(iv: dict | None):
    return None if iv is None else iv.get("mean")


# ------------------------------------------------------------------ one function per step


def patterns_section(d: dict) -> dict:
    """The ``patterns`` step: the corpus patterns of one site at one offset.

    Examples
    --------
    >>> s = patterns_section({"site": "dec", "offset": 0, "crossings": 2,
    ...                       "jump_counts": {"1": 5, "-1": 2}})
    >>> s["description"], s["tables"][0]["rows"]
    ('Shape of the attention of dec at offset 0.', [[1, 5], [-1, 2]])
    >>> g = {"method": "argmax-target", "crossings": 4, "gold_crossings": 2,
    ...      "crossing_precision": 0.25, "crossing_recall": 0.5, "one_to_many": 3,
    ...      "gold_one_to_many": 1, "one_to_many_precision": float("nan"),
    ...      "one_to_many_recall": 1.0}
    >>> patterns_section({"site": "dec", "offset": 0, "against_gold": g})["tables"][0]["rows"]
    [['crossing link pairs', 4, 2, 0.25, 0.5], ['one-to-many source words', 3, 1, None, 1.0]]
    """
    rows = [
        ("mean entropy", d.get("mean_entropy"), "nats per target step over real source words"),
        (
            "mean Kendall tau",
            d.get("mean_kendall_tau"),
            "1: monotonic argmax links; lower: reordering",
        ),
        (
            "crossing link pairs",
            d.get("crossings"),
            "pairs of argmax links that cross (reordering)",
        ),
        ("sentences with crossings", d.get("sentences_with_crossings"), ""),
        ("backward jumps", d.get("backward_jumps"), "steps whose argmax moves back in the source"),
        ("longest backward jump", d.get("longest_backward"), "in source words"),
        ("one-to-many source words", d.get("one_to_many"), "argmax of two or more target steps"),
        (
            "many-to-one steps",
            d.get("many_to_one"),
            "steps with two or more source words above the threshold",
        ),
        ("under-covered source words", d.get("under_rate"), "share with total attention < 0.5"),
        ("over-covered source words", d.get("over_rate"), "share with total attention > 1.5"),
        ("mass on special tokens", d.get("mean_special_mass"), "mean attention on EOS per step"),
    ]
    tables = []
    g = d.get("against_gold")
    description = f"Shape of the attention of {d.get('site')} at offset {d.get('offset')}."
    if g:
        description += (
            " A raw count says how often the attention shows a phenomenon, not whether the "
            "languages have it there: the table below scores the crossings and one-to-many "
            f"words of the {g.get('method')} links against the gold alignments (precision: "
            "share of the attention's that the gold has, sure or possible links; recall: "
            "share of the gold's sure ones that the attention has)."
        )
        tables.append(
            {
                "title": "patterns of the attention's links scored against the gold",
                "columns": ["pattern", "attention", "gold (sure)", "precision", "recall"],
                "rows": [
                    [
                        label,
                        g.get(key),
                        g.get(f"gold_{key}"),
                        _value(g.get(f"{rate}_precision")),
                        _value(g.get(f"{rate}_recall")),
                    ]
                    for key, rate, label in (
                        ("crossings", "crossing", "crossing link pairs"),
                        ("one_to_many", "one_to_many", "one-to-many source words"),
                    )
                ],
            }
        )
    tables.append(
        {
            "title": "argmax jumps (source positions moved per step)",
            "columns": ["jump", "steps"],
            "rows": [[int(k), v] for k, v in (d.get("jump_counts") or {}).items()],
        }
    )
    return {
        "title": TITLES["patterns"],
        "description": description,
        "metrics": _metrics(rows),
        "tables": tables,
    }


def gradflow_section(d: dict) -> dict:
    """The ``gradflow`` step: gradient norm by distance, path shares, path lengths.

    Examples
    --------
    >>> s = gradflow_section({"sentences": 2, "near": 0.5, "far": 0.25,
    ...     "profile": {"keys": [0, 7, 10], "mean": [1.0, 0.5, 0.25],
    ...                 "median": [1.0, 0.5, 0.25], "count": [4, 2, 1]},
    ...     "longest_path": {"words": [5], "with": [2.0], "without": [10.0]}})
    >>> s["metrics"][3]["label"], s["metrics"][3]["value"]
    ('far / near', 0.5)
    >>> s["tables"][0]["rows"], s["tables"][1]["rows"]      # path lengths are counts
    ([[0, 1.0, 1.0, 4], [10, 0.25, 0.25, 1]], [[5, 2, 10]])
    """
    near, far = d.get("near"), d.get("far")
    rows = [
        ("sentences", d.get("sentences"), "spread over the source lengths"),
        ("mean gradient norm, distance 0-2", near, "|| d log p(y_t) / d e_s ||"),
        ("mean gradient norm, distance >= 20", far, "long distances (nan: none that long)"),
        (
            "far / near",
            far / near if near and near > 0 and far is not None else None,
            "1: no decay with distance",
        ),
    ]
    paths = d.get("paths")
    if paths:
        rows += [
            (
                "share through the attention",
                paths["projection"]["attention"],
                "projection of the gradient with the initial state detached",
            ),
            (
                "share through the initial state",
                paths["projection"]["recurrent"],
                "projection of the gradient with the encoder states detached",
            ),
            ("decomposition gap", paths["residual"], "|| total - sum of parts || / || total ||"),
        ]
    profile = d.get("profile") or {}
    longest = d.get("longest_path") or {}
    return {
        "title": TITLES["gradflow"],
        "description": (
            "How large the gradient reaching each source word is, by distance to the "
            "target step, and which path it takes (stop-gradient runs through capture "
            "edits); the dependency graph makes the attention shortcut concrete."
        ),
        "metrics": _metrics(rows),
        "tables": [
            {
                "title": "mean gradient norm by distance |t - s| (words)",
                "columns": ["distance", "mean", "median", "entries"],
                "rows": [
                    [k, m, md, c]
                    for k, m, md, c in zip(
                        profile.get("keys", []),
                        profile.get("mean", []),
                        profile.get("median", []),
                        profile.get("count", []),
                        strict=True,
                    )
                    if k % 5 == 0 or k < 5
                ],
            },
            {
                "title": "longest shortest gradient path (edges) by sentence length",
                "columns": ["words", "with attention edges", "without attention edges"],
                "rows": [
                    [_count(x) for x in r]
                    for r in zip(
                        longest.get("words", []),
                        longest.get("with", []),
                        longest.get("without", []),
                        strict=True,
                    )
                ],
            },
        ],
        "figures": ["gradient_by_distance", "path_length"],
    }


def attribution_section(d: dict) -> dict:
    """The ``attribution`` step: attention vs gradient attribution.

    Examples
    --------
    >>> s = attribution_section({"methods": ["saliency"], "extraction": "argmax-target",
    ...     "site": "dec", "offsets": [0], "sentences": 10,
    ...     "agreement": {"dec/saliency": {"tau": 0.5, "rho": 0.6, "jsd": 0.1,
    ...                                    "top1": 0.75, "topk": 0.9, "steps": 40}},
    ...     "aer": {}, "seconds": {"saliency": 2.0}, "max_delta": None})
    >>> [(m["label"], m["value"]) for m in s["metrics"]][::3]
    [('mean Kendall tau (saliency)', 0.5), ('sentences/s (saliency)', 5.0)]
    >>> s["tables"][0]["rows"], len(s["tables"])
    ([['dec', 'saliency', 0.5, 0.6, 0.1, 0.75, 0.9, 40]], 1)

    With intervals (``agreement_intervals``) a cell reads ``mean [low, high]``:

    >>> iv = {"mean": 0.5, "low": 0.25, "high": 0.75, "level": 0.95}
    >>> s = attribution_section({"methods": ["saliency"], "site": "dec", "sentences": 10,
    ...     "agreement": {"dec/saliency": {"tau": 0.5, "rho": 0.6, "jsd": 0.1,
    ...                                    "top1": 0.75, "topk": 0.9, "steps": 40}},
    ...     "agreement_intervals": {"dec/saliency": {"tau": iv}}})
    >>> s["tables"][0]["rows"][0][2:4]
    ['0.500 [0.250, 0.750]', '-']
    """
    methods, site = d.get("methods") or [], d.get("site")
    offsets, extraction = d.get("offsets") or [], d.get("extraction")
    agreement = d.get("agreement") or {}
    rows = []
    first = agreement.get(f"{site}/{methods[0]}") if site and methods else None
    if first is not None:
        m = methods[0]
        rows += [
            (
                f"mean Kendall tau ({m})",
                first["tau"],
                "attention vs attribution ranks per step: 1 same order, 0 unrelated, -1 reversed",
            ),
            (
                f"mean JSD ({m})",
                first["jsd"],
                "bits between the normalised rows: 0 identical, 1 disjoint",
            ),
            (
                f"top-1 agreement ({m})",
                first["top1"],
                "share of steps whose most attended and most attributed source token coincide",
            ),
        ]
    n = d.get("sentences") or 0
    rows += [
        (f"sentences/s ({m})", n / sec if sec > 0 else None, "attribution speed in this run")
        for m, sec in (d.get("seconds") or {}).items()
    ]
    if d.get("max_delta") is not None:
        rows += [
            (
                "IG completeness gap, max",
                d["max_delta"],
                "|sum(attr) - (f(x) - f(x'))| of one step; large: raise n_steps",
            ),
            (
                "IG completeness gaps, relative",
                d.get("relative_delta"),
                "all |gaps| over all |f(x) - f(x')|: how far off the 50-point integral "
                "is; large on long sentences of recurrent models (docs/attribution.md)",
            ),
        ]
    intervals = d.get("agreement_intervals") or {}
    measures = ("tau", "rho", "jsd", "top1", "topk")
    tables = [
        {
            "title": "agreement per step: mean over all target steps"
            + (" [95% bootstrap interval over sentences]" if intervals else ""),
            "columns": ["site", "method", "tau", "rho", "JSD", "top-1", "top-3", "steps"],
            "rows": [
                [
                    *key.rsplit("/", 1),
                    *(
                        _interval(intervals[key].get(x)) if key in intervals else s[x]
                        for x in measures
                    ),
                    s["steps"],
                ]
                for key, s in agreement.items()
            ],
        }
    ]
    aer = d.get("aer") or {}
    if aer:
        best = d.get("best_offset") or {}
        precision, recall = d.get("precision") or {}, d.get("recall") or {}
        tables.append(
            {
                "title": "AER of attention vs attribution alignments (same gold, same extraction)",
                "columns": ["source", "extraction"]
                + [f"AER@{o}" for o in offsets]
                + ["best offset", "precision", "recall"],
                "rows": [
                    [f"attention ({site})" if src == "attention" else src, extraction]
                    + [by_offset.get(str(o)) for o in offsets]
                    + [best.get(src), precision.get(src), recall.get(src)]
                    for src, by_offset in aer.items()
                ],
            }
        )
    return {
        "title": TITLES["attribution"],
        "description": (
            "Does attention agree with what gradient attribution says the model used? "
            "Each method attributes the log-probability of every target word to the source "
            "tokens (absolute values compared); tau and JSD compare each attention row with "
            "the attribution row of the same step, AER scores the alignments extracted from "
            "both against the same gold. The explorer's 'tau attr' column is the mean tau of "
            f"the sentence ({methods[0] if methods else '-'})."
        ),
        "metrics": _metrics(rows),
        "tables": tables,
        "figures": ["tau_distribution"],
    }


def faithfulness_section(d: dict) -> dict:
    """The ``faithfulness`` step: attention edits and the erasure comparison.

    Examples
    --------
    >>> iv = {"mean": 0.5, "low": 0.25, "high": 0.75, "level": 0.95}
    >>> s = faithfulness_section({"site": "dec", "sentences": 3, "erasure_sentences": 2,
    ...     "summaries": {"uniform": {"tvd": iv, "jsd": iv, "delta_logp": iv,
    ...                               "argmax_change": iv, "greedy_change": None}},
    ...     "erasure": {"method": "saliency", "attended": iv, "attributed": iv,
    ...                 "attributed_wins": iv, "same_token": iv}})
    >>> [m["value"] for m in s["metrics"]]
    [3, 0.5, None]
    >>> s["tables"][0]["rows"][0]
    ['uniform', '0.500 [0.250, 0.750]', '0.500 [0.250, 0.750]', '0.500 [0.250, 0.750]', \
'0.500 [0.250, 0.750]', '-']
    """
    summaries = d.get("summaries") or {}
    uniform = summaries.get("uniform")
    erasure = d.get("erasure") or {}
    rows = [
        ("sentences", d.get("sentences"), "spread over the source lengths"),
        (
            "TVD, uniform attention",
            _mean(uniform["tvd"]) if uniform else None,
            "total variation distance of the next-token distribution per step (0: no change)",
        ),
        (
            "greedy change rate, uniform attention",
            _mean(uniform["greedy_change"]) if uniform else None,
            "share of sentences whose greedy translation changes",
        ),
    ]
    edits = [
        [key, *(_interval(s.get(x)) for x in ("tvd", "jsd", "delta_logp", "argmax_change"))]
        + [_interval(s.get("greedy_change"))]
        for key, s in summaries.items()
    ]
    return {
        "title": TITLES["faithfulness"],
        "description": (
            f"The attention of {d.get('site')} replaced through capture edits, teacher-forced: "
            "how much does the output move? Means over target steps (greedy: over "
            "sentences) with 95% bootstrap intervals over sentences. Large changes mean the "
            "model uses its attention; the identity edit must give exactly 0."
        ),
        "metrics": _metrics(rows),
        "tables": [
            {
                "title": "output change per attention edit: mean [95% interval]",
                "columns": [
                    "edit",
                    "TVD",
                    "JSD (bits)",
                    "Δ log p(y)",
                    "argmax change",
                    "greedy change",
                ],
                "rows": edits,
            },
            {
                "title": "erasing the top-attended vs the top-attributed "
                f"({erasure.get('method')}) source token, {d.get('erasure_sentences')} "
                "sentences: mean [95% interval]",
                "columns": ["", "value", "how to read it"],
                "rows": [
                    [
                        "drop of log p(y), top-attended erased",
                        _interval(erasure.get("attended")),
                        "f(x) - f(x without the token); larger: the token mattered more",
                    ],
                    [
                        "drop of log p(y), top-attributed erased",
                        _interval(erasure.get("attributed")),
                        "",
                    ],
                    [
                        "attributed token hurts more",
                        _interval(erasure.get("attributed_wins")),
                        "share of steps; above 0.5: attribution finds the used token more often",
                    ],
                    ["same token", _interval(erasure.get("same_token")), "share of steps"],
                ],
            },
        ],
        "figures": ["faithfulness"],
    }


def heads_section(d: dict) -> dict:
    """The ``heads`` step: AER per cross-attention layer x head, per schedule.

    Examples
    --------
    >>> table = {"heads": [[0.5, 0.25]], "layers": [0.3], "average": 0.3}
    >>> choice = {"head": [0, 1], "head_dev": 0.2, "head_test": 0.25, "layer": 0,
    ...           "layer_dev": 0.3, "layer_test": 0.35, "average_test": 0.35}
    >>> s = heads_section({"dev": 5, "test": 5,
    ...                    "schedules": {"naive": {"all": table, "choice": choice}}})
    >>> s["tables"][0]["columns"], s["tables"][0]["rows"]
    (['layer', 'head 0', 'head 1', 'heads averaged'], [[0, 0.5, 0.25, 0.3]])
    >>> s["metrics"][0]["label"], s["metrics"][0]["value"], s["metrics"][0]["help"]
    ('naive: best head on dev, AER on test', 0.25, 'layer 0 head 1 (dev AER 0.200)')
    """
    from attnprobe.analyses.heads import SCHEDULES

    tables, rows = [], []
    for schedule, data in (d.get("schedules") or {}).items():
        t, c = data["all"], data["choice"]
        H = len(t["heads"][0]) if t["heads"] else 0
        tables.append(
            {
                "title": f"AER per layer x head, {schedule}: {SCHEDULES.get(schedule, '')} "
                "(all sentences)",
                "columns": ["layer", *[f"head {h}" for h in range(H)], "heads averaged"],
                "rows": [
                    [layer, *map(_value, heads), _value(t["layers"][layer])]
                    for layer, heads in enumerate(t["heads"])
                ],
            }
        )
        layer, head = c["head"]
        rows += [
            (
                f"{schedule}: best head on dev, AER on test",
                c["head_test"],
                f"layer {layer} head {head} (dev AER {c['head_dev']:.3f})",
            ),
            (
                f"{schedule}: best layer on dev, AER on test",
                c["layer_test"],
                f"layer {c['layer']}, heads averaged (dev AER {c['layer_dev']:.3f})",
            ),
            (f"{schedule}: all layers and heads averaged, AER on test", c["average_test"], ""),
        ]
    return {
        "title": TITLES["heads"],
        "description": (
            "Alignment error rate of every cross-attention head, of each layer (heads "
            "averaged) and of all of them averaged: argmax per target word after pooling "
            "pieces to words (sum over source pieces, mean over target pieces). The best head "
            f"and layer are chosen on the {d.get('dev')} even-numbered sentences and scored "
            f"on the {d.get('test')} odd-numbered ones."
        ),
        "metrics": _metrics(rows),
        "tables": tables,
    }


#: step name -> the function that words its data (the core steps, ``alignment`` and
#: ``quality``, have fixed places in the report's templates)
SECTIONS: dict[str, Callable[[dict], dict]] = {
    "patterns": patterns_section,
    "gradflow": gradflow_section,
    "attribution": attribution_section,
    "faithfulness": faithfulness_section,
    "heads": heads_section,
}


def _plain(name: str, d: dict) -> dict:
    """A step this module has no words for: its top-level numbers, labelled by their keys."""
    numbers = [(k, v, "") for k, v in d.items() if isinstance(v, int | float) or v is None]
    return {"title": name, "description": "", "metrics": _metrics(numbers), "tables": []}


def section(name: str, data: dict) -> dict:
    """The section the report shows for step ``name`` with the data it stored.

    A skipped step shows "skipped: reason"; data that is already a section (a
    ``title`` and no renderer here: plug-ins that word themselves) is shown as
    it is; a step without a renderer shows its top-level numbers.

    Examples
    --------
    >>> section("gradflow", {"skipped": True, "reason": "no recurrent graph"})
    {'title': 'Gradient flow', 'description': 'skipped: no recurrent graph', 'skipped': True}
    >>> section("mine", {"title": "Mine", "metrics": []})["title"]
    'Mine'
    >>> section("mine", {"n": 2, "xs": [1]})["metrics"]
    [{'label': 'n', 'value': 2, 'help': ''}]
    """
    if data.get("skipped"):
        reason = data.get("reason") or data.get("description") or "not run"
        return {
            "title": TITLES.get(name, data.get("title") or name),
            "description": f"skipped: {reason}",
            "skipped": True,
        }
    if "title" in data:  # step data has no title: worded by a plug-in itself, or a folder
        return data  # written before the steps returned data
    if name in SECTIONS:
        return SECTIONS[name](data)
    return _plain(name, data)


def report_sections(metrics: dict) -> dict[str, dict]:
    """Every step's section of a report's ``metrics``, in the order the steps ran.

    Examples
    --------
    >>> report_sections({"sections": {"patterns": {"skipped": True, "reason": "r"}}})
    {'patterns': {'title': 'Attention patterns', 'description': 'skipped: r', 'skipped': True}}
    """
    return {
        name: section(name, data or {}) for name, data in (metrics.get("sections") or {}).items()
    }

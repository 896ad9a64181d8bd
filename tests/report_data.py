"""A hand-made Results (no model, no torch) for the report tests, with hostile tokens."""

from __future__ import annotations

from attnprobe.results import Results, quantize

EVIL_SRC = ["<script>alert(1)</script>", '"><img src=x onerror=alert(2)>', "cat"]
EVIL_TGT = ["le", "</script><b>chat</b>"]


#: a second site's attention (heads averaged) and its two heads, for every sentence
LAYER2 = [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.2, 0.8], [0.0, 0.0, 0.0, 1.0]]
HEADS2 = [
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]],
    [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.4, 0.6], [0.0, 0.0, 0.0, 1.0]],
]


def hand_made_results(n: int = 3, heads: int = 2) -> Results:
    """Sentence 0 has the hostile tokens; its attention is the [3, 4] matrix below.

    Sentence k has ``k % 3`` crossings; its source word 2 is unknown to the model
    when k is even; every sentence has a second site ``dec2`` (:data:`LAYER2`),
    the first ``heads`` sentences every head of it (:data:`HEADS2`)."""
    att = [[0.1, 0.7, 0.1, 0.1], [0.0, 0.1, 0.9, 0.0], [0.0, 0.0, 0.0, 1.0]]
    sentences = []
    for k in range(n):
        sentences.append(
            {
                "index": k,
                "src": EVIL_SRC if k == 0 else ["a", "b", "c"],
                "tgt": EVIL_TGT if k == 0 else ["x", "y"],
                "src_len": 3,
                "tgt_len": 2,
                "aer": 0.25 * k,
                "entropy": 0.5 + k,
                "exact": k % 2 == 0,
                "gold": {"sure": [[1, 0]], "possible": [[2, 1]]},
                "links": {"dec/argmax-target": [[1, 0], [2, 1]]},
                "attention": quantize(att),
                "crossings": k % 3,
                "unk_src": int(k % 2 == 0),
                "unk_src_at": [2] if k % 2 == 0 else [],
                "site_attention": {"dec2": quantize(LAYER2)},
                **(
                    {"head_attention": {"dec2": [quantize(h) for h in HEADS2]}} if k < heads else {}
                ),
            }
        )
    metrics = {
        "signature": {"attnprobe": "0.1.0", "torch": "x", "seed": 7},
        "model": {"name": "<i>m</i>", "arch": "bahdanau", "score": "additive", "parameters": 10},
        "corpus": {"name": "evil <corpus>", "sentences": n, "analysed": n, "gold": True},
        "sites": ["dec"],
        "primary": {"site": "dec", "method": "argmax-target", "offset": 0},
        "alignment": {
            "scores": [
                {
                    "site": "dec",
                    "method": "argmax-target",
                    "offset": 0,
                    "best": True,
                    "aer": 0.125,
                    "precision": 0.9,
                    "recall": 0.8,
                    "f1": 0.847,
                    "links": 6,
                },
                {
                    "site": "dec",
                    "method": "argmax-target",
                    "offset": -1,
                    "best": False,
                    "aer": 0.625,
                    "precision": 0.3,
                    "recall": 0.4,
                    "f1": 0.343,
                    "links": 6,
                },
            ],
            "best_offset": {"dec/argmax-target": 0},
            "keys": ["dec/argmax-target"],
        },
        "quality": {
            "token_accuracy": 0.5,
            "nll_per_token": 1.0,
            "exact_match": 0.5,
            "buckets": [
                {
                    "label": "1-10",
                    "sentences": n,
                    "exact_match": 0.5,
                    "token_accuracy": 0.5,
                    "nll_per_token": 1.0,
                    "bleu": 40.0,
                }
            ],
        },
        "sections": {
            "demo": {
                "title": "Plug-in <section>",
                "description": "d",
                "metrics": [{"label": "x", "value": 1.5, "help": "h"}],
                "tables": [],
            }
        },
        "warnings": ["<b>loud</b> warning"],
        "skipped": [],
    }
    return Results(metrics, sentences)

"""compare(): AER per extraction method, attention statistics, gradient summary, tables."""

from __future__ import annotations

import math

import pytest

from attnprobe.alignment import Alignment
from attnprobe.analyses.gradflow import gradient_profile
from attnprobe.data import ParallelCorpus, Vocab
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.models.reference.rnn import ModelConfig, build_model
from attnprobe.pipeline.comparison import (
    FAST_ALIGN_FILES,
    ModelComparison,
    compare,
    diagonal_aer,
    format_comparison,
    read_fast_align_outputs,
    reference_scores,
)

CORPUS = ParallelCorpus([["a", "b"], ["b"]], [["x", "y"], ["y"]])
GOLD = [
    Alignment.from_links([(0, 0), (1, 1)], src_len=2, tgt_len=2),
    Alignment.from_links([(0, 0)], src_len=1, tgt_len=1),
]
VOCAB = Vocab.build(CORPUS.src + CORPUS.tgt)


def tiny(attention):
    cfg = ModelConfig(
        len(VOCAB), len(VOCAB), attention=attention, emb_dim=4, enc_dim=4, hidden_dim=8
    )
    m = build_model(cfg, seed=0)
    m.src_vocab = m.tgt_vocab = VOCAB
    return m


def test_compare_reports_methods_entropy_and_gradients():
    rows = compare(
        [tiny("bahdanau"), tiny("none")],
        CORPUS,
        GOLD,
        progress=False,
        methods=("argmax-target", "union"),
        gradients=2,
    )
    att, none = rows
    assert set(att.aer_methods) == {"argmax-target", "union"}
    assert set(att.aer_methods["union"]) == {0, -1}
    assert att.aer == att.aer_methods["argmax-target"]
    # entropy over the real words of 1- and 2-word sentences: between 0 and ln 2
    assert 0.0 <= att.entropy <= math.log(2) + 1e-9
    assert 0.0 <= att.eos_mass <= 1.0
    assert none.aer_methods == {} and none.entropy is None and none.eos_mass is None
    # equal lengths and gold on the diagonal: the diagonal baseline is perfect
    assert att.diagonal_aer == 0.0 == none.diagonal_aer
    # 2-word sentence: 2 x 2 word entries (d = 0, 1, 1, 0); 1-word: 1 entry (d = 0)
    assert att.gradient.count == (3, 2) and none.gradient.count == (3, 2)
    d = att.to_dict()
    assert d["aer_methods"]["union"].keys() == {"0", "-1"}
    assert d["gradient"]["keys"] == [0, 1]


def test_compare_checks_its_options():
    with pytest.raises(UnknownNameError, match="did you mean"):
        compare([tiny("none")], CORPUS, GOLD, methods=("argmax-targt",))
    with pytest.raises(InputError, match="gradients"):
        compare([tiny("none")], CORPUS, GOLD, gradients=-1)


def row(name, arch, far_norm, near_norm, data=None):
    # one sentence: G with distance-0 entries near_norm and a distance-20 entry far_norm
    g = [[near_norm] + [0.0] * 19 + [far_norm]]
    return ModelComparison(
        name, arch, 10, 0, None, None, 1, 1.0, 1.0, gradient=gradient_profile([g]), data=data
    )


def test_format_comparison_gradient_columns():
    text = format_comparison([row("att", "bahdanau", 0.5, 1.0), row("none", "none", 0.01, 1.0)])
    head, first, second = text.split("\n\n")[0].splitlines()
    assert head.split()[-2:] == ["far", "far/none"]
    # far/none = 0.5 / 0.01 = 50 for the attention model, 1 for the baseline
    assert first.split()[-2:] == ["5.00e-01", "50.00"]
    assert second.split()[-2:] == ["1.00e-02", "1.00"]
    # without a no-attention row the ratio is far / near: 0.5 / mean(1.0, 0, ...) over d <= 2
    alone = format_comparison([row("att", "bahdanau", 0.5, 1.0)], legend=False).splitlines()
    assert alone[0].split()[-1] == "far/near"
    assert alone[1].split()[-1] == f"{0.5 / (1.0 / 3):.2f}"


def test_format_comparison_markdown_has_both_tables():
    r = ModelComparison(
        "m",
        "luong-dot",
        1,
        0,
        None,
        None,
        1,
        1.0,
        1.0,
        aer={0: 0.5},
        aer_methods={"argmax-target": {0: 0.5}},
    )
    text = format_comparison([r], markdown=True)
    first, second, legend = text.split("\n\n")
    assert first.startswith("| model | arch |")
    assert second.splitlines()[2] == "| m | 0.500 |"
    # the legend names the columns the table has, and only those
    assert legend.splitlines()[0] == "- `params`: trainable parameters"
    assert "- `H`: mean attention entropy per target word, nats (0: all on one word)" in legend
    assert "- `EOS`: mean attention mass on the source end-of-sentence token" in legend
    assert "- `attn`: parameters of the attention module (dot scores: 0)" in legend
    assert "grad far" not in legend and "diag AER" not in legend


def test_each_model_is_divided_by_the_baseline_of_its_own_data():
    rows = [
        row("enfr-att", "bahdanau", 0.5, 1.0, data="toy enfr test"),
        row("enfr-none", "none", 0.01, 1.0, data="toy enfr test"),
        row("enja-att", "bahdanau", 0.3, 1.0, data="toy enja test"),
        row("enja-none", "none", 0.1, 1.0, data="toy enja test"),
        row("other", "bahdanau", 0.2, 1.0, data="my corpus"),  # no baseline of its own
    ]
    table = format_comparison(rows, legend=False).splitlines()
    assert table[0].split()[-1] == "far/none"
    ratios = {line.split()[0]: line.split()[-1] for line in table[1:]}
    # 0.5 / 0.01, 0.01 / 0.01, 0.3 / 0.1 (not 0.3 / 0.01), 0.1 / 0.1, nothing to divide by
    assert ratios == {
        "enfr-att": "50.00",
        "enfr-none": "1.00",
        "enja-att": "3.00",
        "enja-none": "1.00",
        "other": "-",
    }


def test_diagonal_aer_by_hand():
    # 2 source and 4 target words: the diagonal links 0-0 0-1 1-2 1-3; gold sure 0-0 1-1,
    # possible 0-1. A & S = {0-0}, A & P = {0-0, 0-1}: AER = 1 - (1 + 2) / (4 + 2) = 0.5
    corpus = ParallelCorpus([["a", "b"]], [["w", "x", "y", "z"]])
    gold = [Alignment.from_links([(0, 0), (1, 1)], possible=[(0, 1)], src_len=2, tgt_len=4)]
    assert diagonal_aer(corpus, gold) == pytest.approx(0.5)


def test_diagonal_aer_column_beside_attention():
    r = ModelComparison("m", "bahdanau", 1, 0, None, None, 1, 1.0, 1.0, aer={0: 0.1})
    r.diagonal_aer = 0.54
    head, cells = format_comparison([r], legend=False).splitlines()
    assert "AER (offset)  diag AER" in head
    # AER (offset), diag AER, H, EOS
    assert cells.split()[-5:] == ["0.100", "(0)", "0.540", "-", "-"]
    assert "diag AER" not in format_comparison([row("m", "none", 0.1, 1.0)])


def test_reference_scores_hand_computed():
    gold = [Alignment.from_links([(0, 0), (1, 1)], possible=[(1, 0)])]
    # 2 links, both allowed (one sure, one possible); 1 of 2 sure links found
    sc = reference_scores(gold, {"x": [Alignment.from_links([(0, 0), (1, 0)])]})["x"]
    assert (sc["precision"], sc["recall"], sc["links"], sc["sure"]) == (1.0, 0.5, 2, 2)
    assert sc["aer"] == pytest.approx(1 - (1 + 2) / (2 + 2))
    with pytest.raises(InputError, match="has 2 sentences, the gold 1"):
        reference_scores(gold, {"x": gold * 2})


def test_fast_align_outputs_score_as_their_scorer_printed(shared_data, tmp_path):
    from attnprobe.alignment import read_alignments

    folder = shared_data / "reference-outputs" / "lilt-fastalign"
    gold = read_alignments(shared_data / "gold" / "awesome-align" / "enfr.gold", one_based=True)
    scores = reference_scores(gold, read_fast_align_outputs(folder, "enfr"))
    assert list(scores) == list(FAST_ALIGN_FILES)
    # the reference scorer's lines: "file: AER% (precision%/recall%/links)"; the README
    # says the files reproduce them within 0.1 point
    printed = {}
    for line in (folder / "enfr-results.txt").read_text().splitlines():
        name, rest = line.split(": ")
        printed[name] = float(rest.split("%")[0])
    for name, (pattern, _) in FAST_ALIGN_FILES.items():
        assert abs(100 * scores[name]["aer"] - printed[pattern.format(pair="enfr")]) <= 0.1
    with pytest.raises(InputError, match="no fast_align output for 'xxyy'"):
        read_fast_align_outputs(folder, "xxyy")


def test_no_negative_zero_in_the_table():
    r = ModelComparison("m", "bahdanau", 1, 0, None, None, 1, 1.0, 1.0, aer={0: -0.0001})
    r.entropy, r.eos_mass = -0.001, 0.25
    cells = format_comparison([r], legend=False).splitlines()[1].split()
    assert cells[-4:] == ["0.000", "(0)", "0.00", "0.25"]

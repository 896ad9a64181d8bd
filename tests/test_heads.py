"""AER per layer x head (attnprobe.analyses.heads) on tiny matrices scored by hand."""

from __future__ import annotations

import numpy as np
import pytest

from attnprobe.alignment import Alignment
from attnprobe.analyses.heads import HeadTable, head_table, row_words, select_head
from attnprobe.errors import InputError, UnknownNameError

# Sentence A: source words a b (pieces a | b b | EOS), target words x y (pieces x | y | EOS).
SRC_A, TGT_A = [0, 1, 1, -1], [0, 1, -1]
GOLD_A = Alignment.from_links([(0, 0), (1, 1)], possible=[(1, 0)], src_len=2, tgt_len=2)
# head (0, 0): right under Naive-Att; its row 1 needs the *sum* over b's two pieces
H00 = [[0.8, 0.05, 0.05, 0.1], [0.35, 0.3, 0.3, 0.05], [0.02, 0.04, 0.04, 0.9]]
# head (0, 1): right under Shift-Att (row t looks at the source of the word step t reads)
H01 = [[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1], [0.1, 0.4, 0.4, 0.1]]
ATT_A = np.array([[H00, H01], [H00, H00]])  # [L=2, H=2, T=3, S=4]
# Sentence B: one word each side, every row looks at it: one right link under both schedules
ATT_B = np.array([[[[0.6, 0.4]]] * 2] * 2).repeat(2, axis=2)  # [2, 2, T=2, S=2]
SRC_B, TGT_B = [0, -1], [0, -1]
GOLD_B = Alignment.from_links([(0, 0)], src_len=1, tgt_len=1)


def table(schedule, sentences="A"):
    data = {"A": (ATT_A, SRC_A, TGT_A, GOLD_A), "B": (ATT_B, SRC_B, TGT_B, GOLD_B)}
    att, src, tgt, gold = zip(*(data[s] for s in sentences), strict=True)
    return head_table(list(att), list(src), list(tgt), list(gold), schedule=schedule)


def test_naive_schedule_by_hand():
    t = table("naive")
    # (0,1) links x-b (possible) and y-a (wrong): AER = 1 - (0 + 1) / (2 + 2)
    np.testing.assert_allclose(t.heads, [[0.0, 0.75], [0.0, 0.0]])
    # layer 0 averaged: rows (a .525, b .3), (a .525, b .4): x-a, y-a -> 1 - (1 + 1) / 4
    np.testing.assert_allclose(t.layers, [0.5, 0.0])
    # all layers: rows (a .6625, b .2), (a .4375, b .5): x-a, y-b
    assert t.average == 0.0 and t.sentences == 1
    assert t.best_head() == (0, 0) and t.best_layer() == 1


def test_shift_schedule_by_hand():
    t = table("shift")
    # (0,0): x <- row 1 (b: .6), y <- row 2 (b: .08): b-x possible, b-y sure: 1 - (1 + 2) / 4
    np.testing.assert_allclose(t.heads, [[0.25, 0.0], [0.25, 0.25]])
    np.testing.assert_allclose(t.layers, [0.0, 0.25])
    assert t.average == 0.25
    assert t.signature["schedule"] == "shift" and "sum" in t.signature["pooling"]["source"]


def test_aer_is_micro_averaged_over_sentences():
    t = table("naive", "AB")
    # head (0,1): |A| = 3, |S| = 3, |A∩S| = 1, |A∩P| = 2 -> 1 - 3/6
    # (not 0.375, the mean of the two sentences' 0.75 and 0)
    np.testing.assert_allclose(t.heads, [[0.0, 0.5], [0.0, 0.0]])
    assert t.sentences == 2


def test_a_target_word_without_pieces_gets_no_link():
    gold = Alignment.from_links([(0, 0), (1, 1)], src_len=2, tgt_len=3)  # word 2: no piece
    t = head_table([ATT_A], [SRC_A], [TGT_A], [gold])
    # head (0,0) finds both sure links and proposes nothing for word 2
    assert t.heads[0, 0] == 0.0


def test_row_words_and_errors():
    assert row_words([0, 0, 1, -1], "shift") == [-1, 0, 0, 1]
    with pytest.raises(UnknownNameError, match="did you mean 'shift'"):
        row_words([0], "shfit")
    with pytest.raises(InputError, match=r"does not fit \[L, H, T=3, S=4\]"):
        head_table([ATT_A[:, :, :2]], [SRC_A], [TGT_A], [GOLD_A])
    with pytest.raises(InputError, match="one of each per sentence"):
        head_table([ATT_A], [SRC_A], [TGT_A], [])
    with pytest.raises(InputError, match="different layers x heads"):
        head_table([ATT_A, ATT_A[:1]], [SRC_A] * 2, [TGT_A] * 2, [GOLD_A] * 2)


def test_select_on_dev_report_on_test():
    dev, test = table("shift"), table("shift", "AB")
    c = select_head(dev, test)
    assert c.head == (0, 1) and c.head_dev == 0.0 and c.layer == 0
    assert c.head_test == test.heads[0, 1] and c.layer_test == test.layers[0]
    with pytest.raises(InputError, match="differ"):
        select_head(table("naive"), test)
    assert HeadTable(**{**dev.__dict__}).to_dict()["heads"] == dev.heads.tolist()


# --- the pipeline step -------------------------------------------------------------


def _check_against_alignment_step(res):
    """The heads-averaged naive AER of each layer is what the alignment step (its own pooling
    and extraction code) finds for that site with argmax-target at offset 0. Returns the
    step's data and the report's section made from it."""
    from attnprobe.report.sections import section

    data = res.metrics["sections"]["heads"]
    naive = data["schedules"]["naive"]["all"]
    scores = {
        r["site"]: r["aer"]
        for r in res.metrics["alignment"]["scores"]
        if r["method"] == "argmax-target" and r["offset"] == 0
    }
    assert len(naive["layers"]) == len(scores)
    for k, site in enumerate(res.metrics["sites"]):
        assert naive["layers"][k] == pytest.approx(scores[site], abs=1e-6)
    return data, section("heads", data)


def test_pipeline_step_on_a_reference_model(tiny_checkpoint):
    from attnprobe.alignment import read_alignments
    from attnprobe.data import ParallelCorpus
    from attnprobe.pipeline.driver import analyze

    d = tiny_checkpoint
    corpus = ParallelCorpus.read(d / "t.src", d / "t.tgt")
    gold = read_alignments(d / "t.gold")
    res = analyze(d / "m.pt", corpus, gold, analyses=["alignment", "heads"], progress=False)
    data, shown = _check_against_alignment_step(res)
    assert (data["dev"], data["test"]) == (2, 1)  # sentences 0, 2 choose; sentence 1 scores
    assert [t["columns"] for t in shown["tables"]] == [["layer", "head 0", "heads averaged"]] * 2
    assert {m["label"].split(":")[0] for m in shown["metrics"]} == {"naive", "shift"}
    # for the explorer: one site of one head, so no other site and the head is the average
    (site,) = res.metrics["sites"]
    for rec in res.sentences:
        assert rec["site_attention"] == {}
        assert rec["head_attention"] == {site: [rec["attention"]]}
    # without gold there is nothing to score
    res = analyze(d / "m.pt", corpus, None, analyses=["heads"], progress=False)
    assert res.metrics["sections"]["heads"]["skipped"]


@pytest.mark.slow
def test_pipeline_step_on_the_shared_marian(shared_data):
    pytest.importorskip("transformers", reason="the [hf] extra is not installed")
    from attnprobe.alignment import read_alignments
    from attnprobe.data import ParallelCorpus
    from attnprobe.pipeline.driver import analyze

    model = shared_data.parent / "models" / "marian-enfr-multi30k"
    if not model.is_dir():
        pytest.skip(f"the shared Marian model is not at {model}")
    folder = shared_data / "gold" / "awesome-align"
    bitext = ParallelCorpus.read_bitext(folder / "enfr.src-tgt")
    lower = (
        [[w.lower() for w in s] for s in bitext.src],
        [[w.lower() for w in t] for t in bitext.tgt],
    )
    corpus = ParallelCorpus(*lower, name="hansards-lc")
    gold = read_alignments(folder / "enfr.gold", one_based=True)
    res = analyze(model, corpus, gold, analyses=["alignment", "heads"], limit=40, progress=False)
    data, shown = _check_against_alignment_step(res)
    # the primary site is the layer the heads step finds best on the same dev sentences
    # (even positions), by its own extraction code, under either schedule
    best = min(
        (data["schedules"][s]["choice"] for s in ("naive", "shift")), key=lambda c: c["layer_dev"]
    )
    primary = res.metrics["primary"]
    assert primary["site"] == res.metrics["sites"][best["layer"]]
    assert primary["chosen_on"]["dev_sentences"] == data["dev"] == 20
    assert primary["chosen_on"]["dev_aer"][primary["site"]] == pytest.approx(best["layer_dev"])
    assert [len(t["rows"]) for t in shown["tables"]] == [3, 3]  # 3 layers of 4 heads
    assert len(shown["tables"][0]["columns"]) == 6

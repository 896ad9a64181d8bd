"""analyze(): scores of hand-made attention against hand-made gold, streaming, signature."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import tiny_toy_model

from attnprobe.alignment import Alignment
from attnprobe.data import ParallelCorpus, Vocab
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.pipeline.alignment import AlignmentAnalysis
from attnprobe.pipeline.common import AnalysisContext, CapturedBatch, resolve_choices
from attnprobe.pipeline.driver import ANALYSES, analyze


def _ctx(sentences, gold, methods=("argmax-target",)):
    return AnalysisContext(None, None, gold, ["s"], methods, (0, -1), 0, 8, len(sentences))


def _finish(step, recs):
    """Finish a step on its own statistics, and fill the records' chosen fields."""
    out = step.finish({}, step.stats())
    for rec in recs:
        resolve_choices(rec, step.choices)
    return out


def test_alignment_scores_of_a_hand_made_matrix():
    # 2 source words + EOS column, 2 target words + EOS row; row t predicts word t (offset 0).
    att = np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    # gold: word 0 <-> source 1 (sure), word 1 <-> source 0 (possible only)
    gold = [Alignment.from_links([(1, 0)], possible=[(0, 1)], src_len=2, tgt_len=2)]
    recs = [{"src_len": 2, "tgt_len": 2}]
    ctx = _ctx(recs, gold)
    a = AlignmentAnalysis(ctx)
    a.update(CapturedBatch([0], None, {"s": [att]}, recs))
    out = _finish(a, recs)
    by_offset = {r["offset"]: r for r in out["scores"]}
    # offset 0: links {(1,0), (0,1)}: A&S = 1, A&P = 2 -> AER = 1 - 3/3 = 0, P = 1, R = 1
    assert by_offset[0]["aer"] == 0.0 and by_offset[0]["precision"] == 1.0
    # offset -1: row 1 -> word 0 (source 0); row 2 -> word 1, EOS masked, tie 0.1/0.1 -> the
    # first source word; links {(0,0), (0,1)}: A&S = 0, A&P = 1 -> AER = 1 - 1/3, R = 0
    assert by_offset[-1]["aer"] == pytest.approx(2 / 3, abs=1e-6)
    assert by_offset[-1]["recall"] == 0.0
    assert out["best_offset"] == {"s/argmax-target": 0} and by_offset[0]["best"]
    assert recs[0]["links"]["s/argmax-target"] == [[0, 1], [1, 0]]
    assert recs[0]["aer"] == 0.0


def test_alignment_counts_of_a_two_sentence_batch_by_hand():
    # sentence 0: the matrix above, same gold; sentence 1: one source word, two target words
    att0 = np.array([[0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    att1 = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    gold = [
        Alignment.from_links([(1, 0)], possible=[(0, 1)], src_len=2, tgt_len=2),
        Alignment.from_links([(0, 0)], possible=[(0, 1)], src_len=1, tgt_len=2),
    ]
    recs = [{"src_len": 2, "tgt_len": 2}, {"src_len": 1, "tgt_len": 2}]
    a = AlignmentAnalysis(_ctx(recs, gold))
    a.update(CapturedBatch([0, 1], None, {"s": [att0, att1]}, recs))
    counts = a.stats()["counts"]["s"]["argmax-target"]
    # (links, sure, possible, hits_sure, hits_possible, sentences)
    # offset 0: sentence 0 links (1,0), (0,1): 1 sure and 2 possible hits; sentence 1 links
    # (0,0), (0,1) (its only source word): 1 and 2 hits
    assert counts["0"].tolist() == [4, 2, 4, 2, 4, 2]
    # offset -1: sentence 0 links (0,0), (0,1): 0 and 1 hits; sentence 1 as at offset 0
    assert counts["-1"].tolist() == [4, 2, 4, 1, 3, 2]
    # diagonal: sentence 0 (0,0), (1,1): no hit; sentence 1 (0,0), (0,1): 1 and 2 hits
    assert a.stats()["diagonal"].tolist() == [4, 2, 4, 1, 2, 2]
    out = _finish(a, recs)
    assert out["best_offset"] == {"s/argmax-target": 0}
    assert [r["links"]["s/argmax-target"] for r in recs] == [[[0, 1], [1, 0]], [[0, 0], [0, 1]]]
    # sentence 1: AER 1 - (1 + 2) / (2 + 1) = 0, precision 2/2, recall 1/1
    assert (recs[1]["aer"], recs[1]["precision"], recs[1]["recall"]) == (0.0, 1.0, 1.0)


def test_chosen_pairs_come_back_as_lists_as_from_json():
    from attnprobe.pipeline.common import choose_later

    rec = {"links": {"x": [[9, 9]]}}
    choose_later(rec, "c", 0, {"links": {"m": [(0, 1), (2, 3)], "n": []}, "aer": 0.5, "k": [1, 2]})
    choose_later(rec, "c", -1, {"links": {"m": [(5, 5)]}, "aer": 1.0})
    choose_later(rec, "d", 0, {"links": {"j": [[4, 4]]}})  # as read back from a JSON line
    out = resolve_choices(rec, {"c": 0, "d": 0})
    assert out == {
        "links": {"x": [[9, 9]], "m": [[0, 1], [2, 3]], "n": [], "j": [[4, 4]]},
        "aer": 0.5,
        "k": [1, 2],
    }
    assert all(type(p) is list for p in out["links"]["m"])


def test_best_offset_prefers_zero_on_a_tie_and_without_gold():
    att = np.full((2, 2), 0.5)
    recs = [{"src_len": 1, "tgt_len": 1}]
    a = AlignmentAnalysis(_ctx(recs, None))
    a.update(CapturedBatch([0], None, {"s": [att]}, recs))
    out = _finish(a, recs)
    assert out["scores"] == [] and out["best_offset"] == {"s/argmax-target": 0}


def test_primary_site_is_chosen_on_the_even_sentences(monkeypatch):
    """Two sites: "a" attends anti-diagonally, "b" diagonally, on the dev (even) sentences;
    on the odd ones the roles swap, and they take no part. Gold: the diagonal."""
    import attnprobe.runs.forward as forward
    from attnprobe.pipeline.alignment import primary_site

    diag = np.array([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.1, 0.1, 0.8]])
    anti = np.array([[0.05, 0.9, 0.05], [0.9, 0.05, 0.05], [0.1, 0.1, 0.8]])

    class Fake:
        def encode(self, src, tgt, idx):
            return idx

    def teacher_forced(model, idx, sites):
        att = {s: [] for s in sites}
        for k in idx:
            dev = k % 2 == 0
            att["a"].append(anti if dev else diag)
            att["b"].append(diag if dev else anti)
        return type("F", (), {"attention": att})

    monkeypatch.setattr(forward, "teacher_forced", teacher_forced)
    monkeypatch.setattr(forward, "eval_mode", lambda m: __import__("contextlib").nullcontext())
    corpus = ParallelCorpus([["x", "y"]] * 5, [["u", "v"]] * 5)
    gold = [Alignment.from_links([(0, 0), (1, 1)], src_len=2, tgt_len=2)] * 5
    sites, why = primary_site(Fake(), corpus, gold, ["a", "b"], "argmax-target", (0,), 2)
    # dev = sentences 0, 2, 4: "b" links (0,0),(1,1): AER 0; "a" links (0,1),(1,0): AER 1
    assert sites == ["b", "a"]
    assert why == {"site": "b", "dev_sentences": 3, "dev_aer": {"a": 1.0, "b": 0.0}}
    # at most `dev` sentences are read: with one (sentence 0) the answer is the same
    assert (
        primary_site(Fake(), corpus, gold, ["a", "b"], "argmax-target", (0,), 2, dev=1)[1][
            "dev_sentences"
        ]
        == 1
    )
    # one site or no gold: nothing to choose, nothing run
    assert primary_site(Fake(), corpus, None, ["a", "b"], "argmax-target", (0,)) == (["a", "b"], {})
    assert primary_site(Fake(), corpus, gold, ["a"], "argmax-target", (0,)) == (["a"], {})


@pytest.fixture(scope="module")
def tiny():
    """A tiny Bahdanau model trained for a few steps on 24 toy pairs (with gold)."""
    return tiny_toy_model(n_pairs=24, max_len=12)


def test_analyze_end_to_end_matches_independent_scoring(tiny):
    from attnprobe.alignment import score_alignments
    from attnprobe.analyses.extraction import argmax_target
    from attnprobe.pipeline.common import word_masks
    from attnprobe.runs.forward import run_corpus

    model, corpus, gold = tiny
    res = analyze(model, corpus, gold, batch_size=5, progress=False)
    assert res.n_sentences == len(corpus) and [s["index"] for s in res.sentences] == list(
        range(len(corpus))
    )
    # oracle: attention from the model's own output (no hooks), scored directly
    ref = run_corpus(model, corpus, decode=False, progress=False)
    for off in (0, -1):
        hyp = [
            argmax_target(r.attention, offset=off, **word_masks(r.src_len, r.tgt_len)) for r in ref
        ]
        want = score_alignments(gold, hyp).aer
        assert res.score(method="argmax-target", offset=off)["aer"] == pytest.approx(want, abs=1e-6)
    assert sum(s["nll"] for s in res.sentences) == pytest.approx(sum(r.nll for r in ref), rel=1e-5)
    sig = res.signature
    assert sig["checkpoint_sha256"] == "0" * 64 and sig["seed"] == 0 and sig["torch"]
    assert sig["options"]["batch_size"] == 5
    assert res.metrics["quality"]["buckets"][0]["label"] == "1-10"
    assert {"aer", "entropy", "src_len"} <= set(res.sentences[0])
    # the word-blind diagonal on the same gold, the baseline beside attention's AER
    from attnprobe.pipeline.comparison import diagonal_aer

    diagonal = res.metrics["alignment"]["diagonal"]
    assert diagonal["aer"] == pytest.approx(diagonal_aer(corpus, gold), abs=1e-6)
    assert diagonal["links"] == sum(len(t) for t in corpus.tgt)  # one link per target word
    # the batch size does not change a number
    again = analyze(model, corpus, gold, batch_size=24, progress=False)
    assert again.scores == res.scores


def test_limit_unk_warning_and_patterns(tiny, caplog):
    model, corpus, gold = tiny
    foreign = ParallelCorpus([["zz"] * 3] * 4, [["qq", "yy"]] * 4, name="foreign")
    with caplog.at_level("WARNING", logger="attnprobe"):
        res = analyze(model, foreign, analyses=["alignment"], progress=False)
    assert res.metrics["corpus"]["src_unk"] == 12 and res.metrics["corpus"]["src_unk_rate"] == 1.0
    assert [r["unk_src_at"] for r in res.sentences] == [[0, 1, 2]] * 4
    assert [r["unk_tgt_at"] for r in res.sentences] == [[0, 1]] * 4  # toy French has no qq, yy
    assert any("unknown to the model" in w for w in res.metrics["warnings"])
    assert "unknown to the model" in caplog.text
    res = analyze(model, corpus, gold, analyses=["patterns", "alignment"], limit=6, progress=False)
    assert res.n_sentences == 6 and res.metrics["corpus"]["sentences"] == len(corpus)
    assert "patterns" in res.metrics["sections"] and "tau" in res.sentences[0]
    # with gold: the raw counts scored against it, the per-sentence parts add up
    p = res.metrics["sections"]["patterns"]
    g = p["against_gold"]
    assert (g["crossings"], g["one_to_many"], g["sentences"]) == (
        p["crossings"],
        p["one_to_many"],
        6,
    )

    def crossing_pairs(links):
        return sum((a[0] - b[0]) * (a[1] - b[1]) < 0 for a, b in itertools.combinations(links, 2))

    assert g["gold_crossings"] == sum(crossing_pairs(sorted(gold[k].sure)) for k in range(6))
    assert sum(r["gold_crossings"] for r in res.sentences) == g["gold_crossings"]
    assert sum(r["one_to_many"] for r in res.sentences) == p["one_to_many"]
    assert all(r["fertility"] > 0 for r in res.sentences)


def test_location_model_reports_too_long_sentences(tiny):
    from attnprobe.models.reference.rnn import ModelConfig, arch_fields, build_model

    _, corpus, gold = tiny
    sv, tv = Vocab.build(corpus.src), Vocab.build(corpus.tgt)
    fields = arch_fields("luong-location")
    cfg = ModelConfig(len(sv), len(tv), emb_dim=4, enc_dim=4, hidden_dim=8, max_src_len=6, **fields)
    model = build_model(cfg, seed=0)
    model.src_vocab, model.tgt_vocab = sv, tv
    res = analyze(model, corpus, gold, analyses=["alignment"], progress=False)
    long_ = [k for k, s in enumerate(corpus.src) if len(s) + 1 > 6]
    assert long_ and [s["index"] for s in res.metrics["skipped"]] == long_
    assert res.n_sentences == len(corpus) - len(long_)


def test_bad_input():
    with pytest.raises(UnknownNameError, match="did you mean 'quality'"):
        analyze(None, analyses=["qualty"])
    with pytest.raises(UnknownNameError, match="attribution method"):
        analyze(None, analyses=["attribution"], attribution=["integrated_gradient"])
    with pytest.raises(UnknownNameError, match="extraction method"):
        analyze(None, methods=["argmax"])
    assert list(ANALYSES)[:4] == ["alignment", "quality", "patterns", "gradflow"]


def test_gold_of_the_wrong_size_or_outside_the_sentence(tiny):
    model, corpus, gold = tiny
    with pytest.raises(InputError, match="23 gold alignments for 24"):
        analyze(model, corpus, gold[:-1], progress=False)
    bad = [Alignment.from_links([(40, 0)])] + list(gold[1:])
    with pytest.raises(InputError, match="outside sentence pair 1"):
        analyze(model, corpus, bad, progress=False)


PROSE = {"title", "description", "metrics", "tables", "figures", "label", "help"}


def test_steps_store_data_and_a_step_that_cannot_run_stores_why(tiny, monkeypatch):
    from attnprobe.models.interface import CapabilityError
    from attnprobe.report.sections import report_sections

    class Unable:  # a step that needs a capability this model lacks
        requires: tuple[str, ...] = ()

        def __init__(self, ctx):
            pass

        def update(self, cb):
            pass

        def stats(self):
            return {}

        def finish(self, done, stats):
            raise CapabilityError("gradient flow needs the model's recurrent graph")

    monkeypatch.setitem(ANALYSES, "gradflow", Unable)
    model, corpus, gold = tiny
    res = analyze(model, corpus, gold, analyses=["patterns", "gradflow"], limit=4, progress=False)
    sections = res.metrics["sections"]
    assert sections["gradflow"] == {
        "skipped": True,
        "reason": "gradient flow needs the model's recurrent graph",
    }
    assert any(w.startswith("gradflow: gradient flow needs") for w in res.metrics["warnings"])
    assert not PROSE & set(sections["patterns"]) and "columns" not in res.metrics
    assert sections["patterns"]["site"] == res.metrics["sites"][0]
    shown = report_sections(res.metrics)
    assert shown["gradflow"]["description"] == (
        "skipped: gradient flow needs the model's recurrent graph"
    )
    assert shown["patterns"]["title"] == "Attention patterns"

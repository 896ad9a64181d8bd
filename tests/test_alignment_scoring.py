"""Scoring against an independent set-based scorer, on files in every layout.

The reference scorer here is written from scratch: corpus sums of |A∩S|,
|A∩P|, |A| and |S| over sentence pairs, and the definitions of the scores
with None for a zero denominator. It shares no code with attnprobe.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attnprobe.alignment import (
    Alignment,
    LinkTable,
    read_link_table,
    score_alignments,
    score_files,
    write_naacl,
    write_pharaoh,
)
from attnprobe.errors import InputError

A = Alignment.from_links


def reference(gold: list[Alignment], hyp: list[Alignment]) -> dict:
    a = s = p = a_s = a_p = 0
    for g, h in zip(gold, hyp, strict=True):
        sure, possible, links = set(g.sure), set(g.sure) | set(g.possible), set(h.possible)
        a, s, p = a + len(links), s + len(sure), p + len(possible)
        a_s, a_p = a_s + len(links & sure), a_p + len(links & possible)
    precision = a_p / a if a else None
    recall = a_s / s if s else None
    aer = 1 - (a_s + a_p) / (a + s) if a + s else None
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "aer": aer,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "links": a,
        "sure": s,
        "possible": p,
        "hits_sure": a_s,
        "hits_possible": a_p,
        "sentences": len(gold),
    }


def same(got: dict, expected: dict) -> None:
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == (value if value is None else pytest.approx(value)), key


links = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), max_size=8)
alignments = st.builds(lambda s, p: A(s, p), links, links)
pairs = st.lists(st.tuples(alignments, alignments), max_size=6)
LAYOUTS = ["pharaoh", "ids", "naacl-gold", "naacl-hyp", "naacl-both-with-text"]


def write_layout(folder, layout, gold, hyp, rnd):
    """Write gold and hyp in ``layout``; return (paths, score_files options, expected hyp)."""
    g, h = folder / "gold", folder / "hyp"
    n = len(gold)
    if layout == "pharaoh":
        write_pharaoh(g, gold)
        write_pharaoh(h, hyp)
        return g, h, {}, hyp
    if layout == "ids":  # hyp lines shuffled, some hyp sentences missing (scored as empty)
        ids = [f"s{k}" for k in rnd.sample(range(1000), n)]
        write_pharaoh(g, gold, ids=ids)
        keep = [k for k in range(n) if rnd.random() < 0.8]
        if not keep:
            return None
        rnd.shuffle(keep)
        write_pharaoh(h, [hyp[k] for k in keep], ids=[ids[k] for k in keep])
        kept = set(keep)
        return g, h, {}, [hyp[k] if k in kept else A([]) for k in range(n)]
    if layout == "naacl-gold":  # NAACL ids are the line numbers of the Pharaoh hypothesis
        if not any(a.possible for a in gold):
            return None  # an empty gold file: an error (tested elsewhere)
        write_naacl(g, gold)
        write_pharaoh(h, hyp)
        return g, h, {"match": "line"}, hyp
    if layout == "naacl-hyp":
        if not any(a.possible for a in hyp):
            return None
        write_pharaoh(g, gold)
        write_naacl(h, hyp)
        return g, h, {"match": "line"}, hyp
    # both NAACL, each paired with a bitext of n lines: empty files are fine here
    write_naacl(g, gold)
    write_naacl(h, hyp)
    return g, h, {"match": "line", "format": "naacl", "lengths": [(10, 10)] * n}, hyp


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_scores_equal_a_set_based_scorer_on_files(tmp_path_factory, data):
    layout = data.draw(st.sampled_from(LAYOUTS))
    min_size = 0 if layout == "naacl-both-with-text" else 1
    corpus = data.draw(st.lists(st.tuples(alignments, alignments), min_size=min_size, max_size=6))
    gold, hyp = [g for g, _ in corpus], [h for _, h in corpus]
    written = write_layout(tmp_path_factory.mktemp("s"), layout, gold, hyp, data.draw(st.randoms()))
    if written is None:
        return
    g, h, options, expected_hyp = written
    s = score_files(g, h, **options)
    same(s.as_dict(), reference(gold, expected_hyp))
    undefined = any(v is None for v in reference(gold, expected_hyp).values())
    assert sum("undefined" in w for w in s.warnings) == undefined


@settings(max_examples=100, deadline=None)
@given(pairs)
def test_scores_equal_a_set_based_scorer_in_memory(corpus):
    gold, hyp = [g for g, _ in corpus], [h for _, h in corpus]
    same(score_alignments(gold, hyp).as_dict(), reference(gold, hyp))
    per = score_alignments(gold, hyp).per_sentence()
    for k, (g, h) in enumerate(corpus):
        one = reference([g], [h])
        got = (per.links[k], per.sure[k], per.hits_sure[k], per.hits_possible[k])
        assert got == (one["links"], one["sure"], one["hits_sure"], one["hits_possible"])


@settings(max_examples=60, deadline=None)
@given(pairs, st.randoms())
def test_shuffling_id_prefixed_lines_changes_no_score(tmp_path_factory, corpus, rnd):
    if not corpus:
        return
    folder = tmp_path_factory.mktemp("shuffle")
    gold, hyp = [g for g, _ in corpus], [h for _, h in corpus]
    ids = [str(k) for k in rnd.sample(range(1, 500), len(corpus))]
    write_pharaoh(folder / "g", gold, ids=ids)
    write_pharaoh(folder / "h", hyp, ids=ids)
    before = score_files(folder / "g", folder / "h").as_dict()
    for name in ("g", "h"):
        lines = (folder / name).read_text().splitlines(keepends=True)
        rnd.shuffle(lines)
        (folder / name).write_text("".join(lines))
    assert score_files(folder / "g", folder / "h").as_dict() == before
    same(before, reference(gold, hyp))


@settings(max_examples=60, deadline=None)
@given(pairs, st.integers(0, 2**31 - 1 - 9))
def test_long_sentences_score_like_short_ones(corpus, shift):
    # indices shifted past the dense scorer's width go through the sort-based scorer
    def far(a):
        return A([(i + shift, j) for i, j in a.sure], [(i + shift, j) for i, j in a.possible])

    gold, hyp = [g for g, _ in corpus], [h for _, h in corpus]
    assert score_alignments([far(g) for g in gold], [far(h) for h in hyp]).as_dict() == (
        score_alignments(gold, hyp).as_dict()
    )


def test_an_empty_corpus_has_no_defined_score():
    s = score_alignments([], [])
    assert s.sentences == 0 and s.undefined() == ["aer", "precision", "recall", "f1"]
    assert str(s).startswith("AER n/a  precision n/a  recall n/a  F1 n/a  (0 links")


def test_ids_pair_tables_in_memory():
    gold = LinkTable.from_alignments([A([(0, 0)]), A([(1, 1)])], ids=["a", "b"])
    hyp = LinkTable.from_alignments([A([(1, 1)])], ids=["b"])
    s = score_alignments(gold, hyp)
    assert (s.sentences, s.links, s.hits_sure) == (2, 1, 1)
    assert (
        s.warnings[0]
        == "the hypothesis: no entry for 1 of 2 sentences; read as sentences without links"
    )
    assert s.per_sentence().links.tolist() == [0, 1]


def test_wpt_2005_english_hindi_layout(tmp_path):
    # Hand-made in the layout of the WPT 2005 En-Hi gold: sentence ids that skip (26, 27,
    # 29), CRLF line ends, three columns (no label: sure), 1-based.
    # gold: 26 {0-0, 1-2}, 27 {0-0}, 29 {1-0, 2-2}
    gold = tmp_path / "test.wa"
    gold.write_bytes(b"26 1 1\r\n26 2 3\r\n27 1 1\r\n29 2 1\r\n29 3 3\r\n")
    assert len(read_link_table(gold)) == 3
    itself = score_files(gold, gold)
    assert (itself.sentences, itself.links, itself.hits_sure, itself.aer) == (3, 5, 5, 0.0)
    # a 90-line style Pharaoh hypothesis, in the same order: {0-0, 1-1} {0-0} {1-0, 2-1}
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("0-0 1-1\n0-0\n1-0 2-1\n")
    with pytest.raises(InputError, match=r"test\.wa:1: sentences carry ids \(26, 27, 29\)"):
        score_files(gold, hyp)  # which hypothesis line is sentence 26? the user says
    s = score_files(gold, hyp, match="position")
    # |A| = 5, |S| = 5, |A∩S| = 1 + 1 + 1: AER = 1 - 6/10, precision = recall = 3/5
    assert (s.sentences, s.links, s.sure, s.hits_sure) == (3, 5, 5, 3)
    assert s.aer == pytest.approx(0.4) and s.precision == pytest.approx(0.6)
    # the same hypothesis with ids, in another order: paired by id without an option
    hyp.write_text("29\t1-0 2-1\n26\t0-0 1-1\n27\t0-0\n")
    assert score_files(gold, hyp).as_dict() == s.as_dict()


def test_a_position_order_would_have_given_another_figure(tmp_path):
    # by id: a {0-0} vs {0-0}; b {1-1, 0-1} vs {1-1}; c {} vs {0-0}: |A∩S| = 2 of |A| = 3
    (tmp_path / "g").write_text("a\t0-0\nb\t1-1 0-1\nc\t\n")
    (tmp_path / "h").write_text("c\t0-0\na\t0-0\nb\t1-1\n")
    s = score_files(tmp_path / "g", tmp_path / "h")
    assert (s.hits_sure, s.links, s.sure) == (2, 3, 3) and s.aer == pytest.approx(1 - 4 / 6)
    by_position = score_files(tmp_path / "g", tmp_path / "h", match="position")
    assert by_position.hits_sure == 1  # 0-0 | 0-0 only


def test_notes_name_the_file_and_the_count(tmp_path):
    lines = "1-1 2-2\n1-1\n2-1\n"  # 1-based, read 0-based: never position 0
    (tmp_path / "g").write_text(lines)
    (tmp_path / "h").write_text("0-0 1-1\n0-0\n1-0\n")
    s = score_files(tmp_path / "g", tmp_path / "h")
    assert len(s.warnings) == 1 and "no link uses word position 0" in s.warnings[0]
    assert s.warnings[0].startswith(str(tmp_path / "g"))
    told = score_files(tmp_path / "g", tmp_path / "h", gold_one_based=True)
    assert told.warnings == () and told.hits_sure == 4


def test_shuffled_hypothesis_in_random_order_example():
    # many sentences: the by-id figure does not depend on the order of the lines
    rnd = random.Random(7)
    gold = [A([(k % 3, k % 4)]) for k in range(40)]
    ids = [str(k + 1) for k in range(40)]
    order = list(range(40))
    rnd.shuffle(order)
    g = LinkTable.from_alignments(gold, ids=ids)
    h = LinkTable.from_alignments([gold[k] for k in order], ids=[ids[k] for k in order])
    assert score_alignments(g, h).aer == 0.0
    assert score_alignments(g, h, match="position").aer > 0.0


# -- per-sentence counts and scores, worked out by hand ----------------------------

# sentence 0: S = {0-0, 1-1}, P-only = {1-2}; A = {0-0, 1-2, 2-2}: |A∩S| = 1, |A∩P| = 2
# sentence 1: no gold link; A = {0-0}
# sentence 2: S = {0-0}; A empty
HAND_GOLD = [A([(0, 0), (1, 1)], [(1, 2)]), A([]), A([(0, 0)])]
HAND_HYP = [A([(0, 0), (1, 2), (2, 2)]), A([(0, 0)]), A([])]
HAND = {
    "links": [3, 1, 0],
    "sure": [2, 0, 1],
    "possible": [3, 0, 1],
    "hits_sure": [1, 0, 0],
    "hits_possible": [2, 0, 0],
}
NAN = float("nan")
HAND_SCORES = {
    "precision": [2 / 3, 0.0, NAN],  # |A∩P| / |A|; sentence 2 has no link
    "recall": [1 / 2, NAN, 0.0],  # |A∩S| / |S|; sentence 1 has no sure link
    "aer": [1 - 3 / 5, 1 - 0 / 1, 1 - 0 / 1],
    "f1": [2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2), NAN, NAN],
}


def assert_per_sentence(per, counts, scores):
    for name, expected in counts.items():
        assert getattr(per, name).tolist() == expected, name
    for name, expected in scores.items():
        assert getattr(per, name).tolist() == pytest.approx(expected, nan_ok=True), name


def test_per_sentence_counts_and_scores_by_hand():
    assert_per_sentence(score_alignments(HAND_GOLD, HAND_HYP).per_sentence(), HAND, HAND_SCORES)


def test_per_sentence_on_the_sorted_path_by_hand():
    # source positions past 2**20 make a sentence too wide for the dense marks
    def far(a):
        return A([(i + 2**20, j) for i, j in a.sure], [(i + 2**20, j) for i, j in a.possible])

    gold, hyp = [far(a) for a in HAND_GOLD], [far(a) for a in HAND_HYP]
    assert_per_sentence(score_alignments(gold, hyp).per_sentence(), HAND, HAND_SCORES)


def test_per_sentence_of_files_in_either_index_base(tmp_path):
    (tmp_path / "g1").write_text("1-1 2-2 2p3\n\n1-1\n")  # HAND_GOLD, 1-based
    (tmp_path / "h0").write_text("0-0 1-2 2-2\n0-0\n\n")  # HAND_HYP, 0-based
    s = score_files(tmp_path / "g1", tmp_path / "h0", gold_one_based=True, hyp_one_based=False)
    assert_per_sentence(s.per_sentence(), HAND, HAND_SCORES)


def test_duplicated_links_count_once_per_sentence():
    gold = LinkTable.from_links(
        [0, 0, 0, 1], [0, 0, 1, 0], [0, 0, 1, 0], [True, False, False, True], n_sentences=2
    )  # sentence 0: 0-0 listed sure and possible (sure), 1-1 possible; sentence 1: 0-0
    hyp = LinkTable.from_links([0, 0, 0, 1, 1], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0], n_sentences=2)
    per = score_alignments(gold, hyp).per_sentence()
    assert per.links.tolist() == [2, 1] and per.sure.tolist() == [1, 1]
    assert per.hits_sure.tolist() == [1, 1] and per.hits_possible.tolist() == [2, 1]
    assert per.aer.tolist() == [1 - 3 / 3, 1 - 2 / 2]


def test_empty_alignments_per_sentence():
    per = score_alignments([A([]), A([])], [A([]), A([])]).per_sentence()
    assert per.links.tolist() == [0, 0] and per.hits_possible.tolist() == [0, 0]
    assert all(np.isnan(getattr(per, name)).all() for name in ("aer", "precision", "recall", "f1"))
    none = score_alignments([], []).per_sentence()
    assert none.hits_sure.shape == (0,) and none.aer.shape == (0,)


def test_per_sentence_counts_across_64_link_words():
    # sentence 0: gold 0-0 .. 0-4 sure; A = {0-1, 0-4}                    -> 2 sure hits
    # sentence 1: gold 0-0 .. 0-69 sure, 1-0 .. 1-59 possible (130 links: its bounds
    #   5, 75 and 135 lie inside 64-link words); A = 0-j for j % 3 == 0 (24 links,
    #   j = 0..69), 1-j for j % 4 == 0 (15 links, j = 0..59), and 5-5 (a miss)
    # sentence 2: gold 0-0 sure; A empty
    sentence = [0] * 5 + [1] * 130 + [2]
    src = [0] * 5 + [0] * 70 + [1] * 60 + [0]
    tgt = [*range(5), *range(70), *range(60), 0]
    sure = [True] * 75 + [False] * 60 + [True]
    gold = LinkTable.from_links(sentence, src, tgt, sure, n_sentences=3)
    hyp_links = [(0, 0, 1), (0, 0, 4)]
    hyp_links += [(1, 0, j) for j in range(0, 70, 3)] + [(1, 1, j) for j in range(0, 60, 4)]
    hyp_links += [(1, 5, 5)]
    hyp = LinkTable.from_links(*zip(*hyp_links, strict=True), n_sentences=3)
    s = score_alignments(gold, hyp)
    per = s.per_sentence()
    assert per.hits_sure.tolist() == [2, 24, 0]
    assert per.hits_possible.tolist() == [2, 24 + 15, 0]
    assert per.links.tolist() == [2, 24 + 15 + 1, 0]
    assert (s.hits_sure, s.hits_possible) == (26, 41)


def test_tables_of_different_widths_score_together():
    # gold positions need 6 bits (40), the hypothesis' 5: the wider packing serves both
    gold = [A([(40, 0), (3, 3)]), A([(1, 1)])]
    hyp = [A([(40, 0), (3, 2)]), A([(1, 1), (0, 0)])]
    per = score_alignments(gold, hyp).per_sentence()
    assert per.hits_sure.tolist() == [1, 1] and per.links.tolist() == [2, 2]


def test_bit_count_without_numpy_bitwise_count(monkeypatch):
    from attnprobe.alignment import scoring

    words = np.array([0, 1, 2**64 - 1, 0b1011, 2**63], np.uint64)
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert scoring._bit_count(words).tolist() == [0, 1, 64, 3, 1]

"""Attention patterns: hand-computed cases, degenerate inputs, and the toy pairs' phenomena."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from attnprobe.alignment import Alignment
from attnprobe.analyses.patterns import (
    PatternScore,
    alignment_matrix,
    attention_entropy,
    corpus_patterns,
    coverage,
    crossings,
    fertility,
    jumps,
    many_to_one,
    monotonicity,
    one_to_many,
    pattern_score,
    phrase_blocks,
    sentence_patterns,
    special_mass,
)
from attnprobe.data.toy import NP, Clause, Sentence, translate
from attnprobe.errors import InputError, UnknownNameError

# A teacher-forced matrix [m + 1, n + 1] for 2 source and 2 target words:
# last row = the step predicting EOS, last column = the source EOS.
TF = np.array(
    [
        [0.6, 0.3, 0.1],
        [0.2, 0.2, 0.6],
        [0.0, 0.1, 0.9],
    ]
)
MASKS = {"src_mask": [True, True, False], "tgt_mask": [True, True, False]}


def toy(pair, *parts, conjs=()):
    return translate(pair, Sentence(tuple(parts), conjs))


# --------------------------------------------------------------------------- soft metrics


def test_entropy_hand_computed():
    # row 0 over the words: [0.6, 0.3] / 0.9 = [2/3, 1/3]
    #   H = 2/3 ln(3/2) + 1/3 ln 3 = 0.270310 + 0.366204 = 0.636514
    # row 1: [0.2, 0.2] / 0.4 = [1/2, 1/2] -> ln 2 = 0.693147
    h = attention_entropy(TF, **MASKS)
    assert h == pytest.approx([0.636514, 0.693147], abs=1e-6)
    # full distribution (no src_mask), row 0: -(0.6 ln .6 + 0.3 ln .3 + 0.1 ln .1)
    #   = 0.306495 + 0.361192 + 0.230259 = 0.897946
    full = attention_entropy(TF, tgt_mask=MASKS["tgt_mask"])
    assert full[0] == pytest.approx(0.897946, abs=1e-6)


def test_entropy_degenerate_rows():
    # one-hot row: 0; uniform over 4: ln 4 = 1.386294; all mass on a masked column: NaN
    h = attention_entropy(
        [[0, 1, 0, 0, 0], [0.25, 0.25, 0.25, 0.25, 0], [0, 0, 0, 0, 1]],
        src_mask=[True] * 4 + [False],
    )
    assert h[:2] == pytest.approx([0.0, 1.386294], abs=1e-6)
    assert math.isnan(h[2])


def test_special_mass_and_fertility_follow_offset():
    # offset 0: rows 0, 1 (the EOS row goes); EOS column mass 0.1 and 0.6
    assert special_mass(TF, MASKS["src_mask"], tgt_mask=MASKS["tgt_mask"]) == pytest.approx(
        [0.1, 0.6]
    )
    # fertility: column sums over rows 0, 1 -> [0.6 + 0.2, 0.3 + 0.2] = [0.8, 0.5]
    assert fertility(TF, **MASKS) == pytest.approx([0.8, 0.5])
    # offset -1: row 0 (reads BOS) goes, rows 1, 2 are words 0, 1
    #   EOS mass [0.6, 0.9]; fertility [0.2 + 0.0, 0.2 + 0.1] = [0.2, 0.3]
    assert special_mass(TF, MASKS["src_mask"], offset=-1, tgt_mask=MASKS["tgt_mask"]) == (
        pytest.approx([0.6, 0.9])
    )
    assert fertility(TF, offset=-1, **MASKS) == pytest.approx([0.2, 0.3])


def test_coverage_bounds():
    # column sums: [0.9 + 0.8 + 0.1, 0.1 + 0.1 + 0.1, 0.0 + 0.1 + 0.8] = [1.8, 0.3, 0.9]
    a = [[0.9, 0.1, 0.0], [0.8, 0.1, 0.1], [0.1, 0.1, 0.8]]
    c = coverage(a)
    assert c.fertility == pytest.approx((1.8, 0.3, 0.9))
    assert (c.under, c.over) == ((1,), (0,))
    # bounds are strict: 0.5 is not under, 1.5 not over
    c = coverage([[0.5, 0.5], [0.0, 0.5], [0.0, 0.5]])  # sums [0.5, 1.5]
    assert (c.under, c.over) == ((), ())
    with pytest.raises(InputError, match="lower <= upper"):
        coverage(a, lower=2.0, upper=1.0)


def test_jumps_hand_computed():
    # argmax per row: 0, 1, 3, 2, 2, 0 -> steps 1, 2, -1, 0, -2
    a = np.eye(4)[[0, 1, 3, 2, 2, 0]]
    j = jumps(a)
    assert j.steps == (1, 2, -1, 0, -2)
    assert (j.forward, j.backward, j.stays) == (1, 2, 1)
    assert (j.longest_forward, j.longest_backward) == (2, 2)


# --------------------------------------------------------------------------- link metrics


def test_crossings_and_tau_hand_computed():
    # the black cat -> le chat noir: links (0,0) (1,2) (2,1)
    # pairs by target: (t0,s0)-(t1,s2) concordant, (t0,s0)-(t2,s1) concordant,
    # (t1,s2)-(t2,s1) discordant -> tau = (2 - 1) / 3
    al = Alignment.from_links([(0, 0), (1, 2), (2, 1)])
    m = monotonicity(al)
    assert m.kendall_tau == pytest.approx(1 / 3)
    assert (m.crossings, m.links) == (1, 3)
    # fully reversed 3 words: every pair crosses -> 3 crossings, tau -1
    rev = monotonicity(Alignment.from_links([(0, 2), (1, 1), (2, 0)]))
    assert (rev.crossings, rev.kendall_tau) == (3, pytest.approx(-1.0))


def test_links_sharing_a_word_do_not_cross():
    # not -> ne (1) and pas (3), see -> voit (2): only (3,2)-(2,3) crosses
    al = Alignment.from_links([(0, 0), (2, 1), (3, 2), (2, 3), (4, 4)])
    assert crossings(al) == 1


def test_crossings_match_a_pairwise_loop():
    rng = np.random.default_rng(0)
    for _ in range(20):
        links = {(int(s), int(t)) for s, t in rng.integers(0, 6, size=(8, 2))}
        brute = sum(
            (s1 - s2) * (t1 - t2) < 0 for (s1, t1), (s2, t2) in itertools.combinations(links, 2)
        )
        assert crossings(Alignment.from_links(links)) == brute


def test_link_metrics_from_a_matrix_use_argmax_or_threshold():
    a = [[0.45, 0.45, 0.1], [0.1, 0.2, 0.7], [0.1, 0.2, 0.7]]
    # argmax per row: 0 (tie -> first), 2, 2 -> source 2 is the argmax of two steps
    assert one_to_many(a) == (2,)
    # only row 0 has two weights above 0.3
    assert many_to_one(a) == (0,)
    assert many_to_one(a, value=0.5) == ()
    # blocks of the argmax links (0,0) (2,1) (2,2): {s0-t0}, {s2-t1,t2}
    assert phrase_blocks(a) == (((0,), (0,)), ((2,), (1, 2)))
    # threshold extraction instead: row 0 links to 0 and 1 -> one block with both
    assert phrase_blocks(a, method="threshold", value=0.3) == (((0, 1), (0,)), ((2,), (1, 2)))


def test_kendall_tau_is_nan_without_two_positions():
    assert math.isnan(monotonicity(Alignment.from_links([(0, 0)])).kendall_tau)
    assert math.isnan(monotonicity(Alignment.from_links([(0, 0), (0, 1)])).kendall_tau)
    assert math.isnan(monotonicity(Alignment.from_links([])).kendall_tau)


def test_bad_inputs():
    al = Alignment.from_links([(0, 0)], src_len=1, tgt_len=1)
    with pytest.raises(InputError, match="offset and masks"):
        crossings(al, offset=-1)
    with pytest.raises(InputError, match="alignment_matrix"):
        attention_entropy(al)
    with pytest.raises(InputError, match="non-negative"):
        fertility([[1.5, -0.5]])
    with pytest.raises(UnknownNameError, match="did you mean"):
        crossings([[1.0]], method="argmax-targt")
    with pytest.raises(InputError, match="src_len and tgt_len"):
        alignment_matrix(Alignment.from_links([(0, 0)]))
    with pytest.raises(InputError, match="src_mask"):
        special_mass([[1.0]], None)


# --------------------------------------------------------------------------- degenerate


def test_one_by_one():
    p = sentence_patterns([[1.0]])
    assert p.entropy == (0.0,)
    assert math.isnan(p.monotonicity.kendall_tau)
    assert p.monotonicity.crossings == 0
    assert p.jumps.steps == ()
    assert p.coverage.fertility == (1.0,)
    assert (p.coverage.under, p.coverage.over, p.one_to_many, p.many_to_one) == ((), (), (), ())
    assert p.blocks == (((0,), (0,)),)


def test_uniform_rows():
    # 2 steps uniform over 3 words: entropy ln 3 = 1.098612 per step; argmax ties -> word 0
    # twice (one-to-many, a stay); 1/3 > 0.3 so every step is many-to-one;
    # fertility 2/3 per word: neither under (< 0.5) nor over
    p = sentence_patterns(np.full((2, 3), 1 / 3))
    assert p.entropy == pytest.approx((1.098612, 1.098612), abs=1e-6)
    assert p.one_to_many == (0,)
    assert p.many_to_one == (0, 1)
    assert p.jumps.stays == 1
    assert p.coverage.under == () and p.coverage.over == ()


def test_no_rows_left():
    # offset -1 drops the only row: nothing attended, both words under-covered
    p = sentence_patterns([[0.5, 0.5]], offset=-1)
    assert p.entropy == () and math.isnan(p.mean_entropy)
    assert p.coverage.under == (0, 1)
    assert p.blocks == ()


# --------------------------------------------------------------------------- toy phenomena


def test_toy_adjectives_cross_and_compounds_fan_out():
    ex = toy(
        "enfr",
        Clause("eat", subj=NP("cat", "the", ("small", "black")), obj=NP("potato", "a")),
    )
    assert " ".join(ex.tgt) == "le petit chat noir mange une pomme de terre"
    gold = alignment_matrix(ex.alignment)  # [9, 7]
    # cat (3) -> chat (2) and black (2) -> noir (3) cross; everything else is monotone
    m = monotonicity(gold, method="threshold", value=0.5)
    assert m.crossings == 1
    # t = 0..8, s = 0 1 3 2 4 5 6 6 6: 36 pairs, 3 tied in s, 1 discordant, 32 concordant
    # tau-b = (32 - 1) / sqrt(36 * (36 - 3)) = 31 / sqrt(1188)
    assert m.kendall_tau == pytest.approx(31 / math.sqrt(1188), abs=1e-12)
    # potato (6) -> pomme de terre: one source word is the argmax of three steps
    assert one_to_many(gold) == (6,)
    assert many_to_one(gold) == ()
    assert phrase_blocks(gold)[-1] == ((6,), (6, 7, 8))
    # gold fertility: potato 3 (over), every other word 1
    c = coverage(gold)
    assert c.over == (6,) and c.under == ()


def test_toy_many_to_one():
    ex = toy("enfr", Clause("look for", subj=NP("tom"), obj=NP("cat", "the")))
    assert " ".join(ex.tgt) == "thomas cherche le chat"
    gold = alignment_matrix(ex.alignment)
    assert many_to_one(gold) == (1,)  # cherche <- looks, for
    assert many_to_one(ex.alignment) == (1,)
    assert phrase_blocks(ex.alignment) == (
        ((0,), (0,)),
        ((1, 2), (1,)),
        ((3,), (2,)),
        ((4,), (3,)),
    )
    assert crossings(ex.alignment) == 0


def test_toy_japanese_verb_moves_to_the_end():
    ex = toy("enja", Clause("eat", subj=NP("tom"), obj=NP("potato", "a"), adv="today"))
    assert " ".join(ex.tgt) == "tomu wa kyou jagaimo o taberu"
    # sure links by target: (0,0) (4,2) (3,3) (1,5): eats (1) and today (4) move right
    # crossing pairs: (4,2)-(3,3), (4,2)-(1,5), (3,3)-(1,5) = 3; tau = (3 - 3) / 6 = 0
    m = monotonicity(ex.alignment)
    assert (m.crossings, m.kendall_tau) == (3, pytest.approx(0.0))
    # with the particles' possible links: argmax 0 0 4 3 3 1 -> steps 0, 4, -1, 0, -2
    j = jumps(alignment_matrix(ex.alignment, possible=True))
    assert j.steps == (0, 4, -1, 0, -2)
    assert (j.longest_forward, j.longest_backward, j.backward) == (4, 2, 2)


def test_corpus_summary_of_toy_sentences():
    a = toy("enfr", Clause("see", subj=NP("cat", "the", ("black",)), obj=NP("mary")))
    b = toy("enfr", NP("potato"))
    pats = [
        sentence_patterns(alignment_matrix(a.alignment)),  # 5x5: 1 crossing
        sentence_patterns(alignment_matrix(b.alignment)),  # 3x1: pomme de terre
    ]
    c = corpus_patterns(pats)
    assert (c.sentences, c.steps, c.source_words) == (2, 8, 6)
    assert (c.crossings, c.sentences_with_crossings) == (1, 1)
    # argmax a: 0 2 1 3 4 -> steps 2 -1 2 1; b: 0 0 0 -> steps 0 0
    assert c.jump_counts == {-1: 1, 0: 2, 1: 1, 2: 2}
    assert (c.forward_jumps, c.backward_jumps) == (2, 1)
    assert (c.one_to_many, c.over) == (1, 1)
    assert c.over_rate == pytest.approx(1 / 6)
    assert c.block_sizes == {"1-1": 5, "1-3": 1}
    assert c.mean_entropy == 0.0
    assert math.isnan(c.mean_special_mass)
    d = c.to_dict()
    assert d["jump_counts"]["-1"] == 1 and d["under_rate"] == 0.0


def test_sentence_patterns_with_masks_to_dict():
    p = sentence_patterns(TF, **MASKS)
    assert (p.n_src, p.n_tgt) == (2, 2)
    assert p.special_mass == pytest.approx((0.1, 0.6))
    d = p.to_dict()
    assert d["blocks"] == [[[0], [0, 1]]]  # argmax links (0,0), (0,1): one block
    assert d["mean_entropy"] == pytest.approx((0.636514 + 0.693147) / 2, abs=1e-6)


# --------------------------------------------------------------------------- against gold


def test_pattern_score_precision_uses_possible_links():
    # gold: sure 0-1, 1-0, 2-2 (one crossing pair) and a possible 2-0
    gold = Alignment.from_links([(0, 1), (1, 0), (2, 2)], possible=[(2, 0)])
    hyp = Alignment.from_links([(0, 1), (1, 0), (2, 0), (2, 2)])
    sc = pattern_score(hyp, gold)
    # predicted crossing pairs: {0-1, 1-0} and {0-1, 2-0}; both pairs are gold links
    assert (sc.crossings, sc.correct_crossings) == (2, 2)
    assert (sc.gold_crossings, sc.found_crossings) == (1, 1)
    # word 2 -> targets 0 and 2: one-to-many, allowed by the possible link, not sure
    assert (sc.one_to_many, sc.correct_one_to_many) == (1, 1)
    assert (sc.gold_one_to_many, sc.found_one_to_many) == (0, 0)
    assert sc.crossing_precision == 1.0 and sc.one_to_many_precision == 1.0
    assert math.isnan(sc.one_to_many_recall)
    assert sc.crossings == crossings(hyp)  # the same count as the raw pattern


def test_pattern_scores_add_over_sentences():
    first = pattern_score(
        Alignment.from_links([(0, 1), (1, 0), (2, 0), (2, 2)]),
        Alignment.from_links([(0, 1), (1, 0), (2, 2)], possible=[(2, 0)]),
    )
    # gold makes word 0 one-to-many, the prediction word 1; nothing crosses
    second = pattern_score(
        Alignment.from_links([(0, 0), (1, 1), (1, 2)]),
        Alignment.from_links([(0, 0), (0, 1), (1, 2)]),
    )
    assert (second.crossings, second.gold_crossings) == (0, 0)
    assert (second.one_to_many, second.gold_one_to_many) == (1, 1)
    assert (second.correct_one_to_many, second.found_one_to_many) == (0, 0)
    total = sum([first, second], PatternScore())
    assert total == first + second
    assert (total.sentences, total.crossings, total.gold_crossings) == (2, 2, 1)
    assert (total.one_to_many, total.gold_one_to_many, total.correct_one_to_many) == (2, 1, 1)
    assert total.crossing_recall == 1.0
    assert total.one_to_many_precision == 0.5 and total.one_to_many_recall == 0.0
    d = total.to_dict()
    assert d["one_to_many_precision"] == 0.5 and d["found_crossings"] == 1


def test_pattern_score_of_empty_alignments():
    sc = pattern_score(Alignment.from_links([]), Alignment.from_links([]))
    assert sc == PatternScore(sentences=1)
    assert math.isnan(sc.crossing_precision) and math.isnan(sc.crossing_recall)
    assert sc.to_dict()["crossing_recall"] is None  # JSON null, equal to itself
    with pytest.raises(TypeError):
        sc + 1

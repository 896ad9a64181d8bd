"""Toy language pairs: hand-checked translations, alignment properties, committed data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from attnprobe.alignment import format_pharaoh
from attnprobe.cli.main import cli
from attnprobe.data import toy
from attnprobe.data.toy import NP, PAIRS, SPLITS, Clause, Sentence, generate, translate
from attnprobe.data.toy.corpus import _bucket
from attnprobe.errors import InputError, UnknownNameError

DATA = Path(__file__).resolve().parent.parent / "fixtures" / "data"


def _one(clause_or_np) -> Sentence:
    return Sentence((clause_or_np,))


# (pair, sentence, English, target, gold in Pharaoh order): worked out by hand
# from the rules in the module docstring, not copied from the generator.
HAND_CHECKED = [
    # adjective after the noun: crossing links
    ("enfr", _one(Clause("see", subj=NP("cat", "the", ("black",)), obj=NP("mary"))),
     "the black cat sees mary", "le chat noir voit marie", "0-0 2-1 1-2 3-3 4-4"),
    # not -> ne ... pas around the verb; "does" unaligned
    ("enfr", _one(Clause("see", subj=NP("cat", "the"), neg=True, obj=NP("dog", "the"))),
     "the cat does not see the dog", "le chat ne voit pas le chien",
     "0-0 1-1 3-2 4-3 3-4 5-5 6-6"),
    # one-to-many noun; feminine article and adjective
    ("enfr", _one(Clause("eat", subj=NP("mary"), obj=NP("potato", "a", ("small",)))),
     "mary eats a small potato", "marie mange une petite pomme de terre",
     "0-0 1-1 2-2 3-3 4-4 4-5 4-6"),
    # phrasal verb many-to-one, elision l', contraction de + le -> du
    ("enfr", _one(Clause("look for", subj=NP("bird", "the"), obj=NP("key", "the"),
                         pps=(("near", NP("garden", "the")),))),
     "the bird looks for the key near the garden", "l' oiseau cherche la clé près du jardin",
     "0-0 1-1 2-2 3-2 4-3 5-4 6-5 6-6 7-6 8-7"),
    # reflexive "se" (possible link to its verb), negation, "in front of" -> devant
    ("enfr", _one(Clause("rest", subj=NP("dog", "the"), neg=True,
                         pps=(("in front of", NP("house", "the")),))),
     "the dog does not rest in front of the house", "le chien ne se repose pas devant la maison",
     "0-0 1-1 3-2 4p3 4-4 3-5 5-6 6-6 7-6 8-7 9-8"),
    # two adjectives after the noun mirror their English order
    ("enfr", _one(NP("box", "a", ("heavy", "black"))),
     "a heavy black box", "une boîte noire lourde", "0-0 3-1 2-2 1-3"),
    # imperative; English "an"
    ("enfr", _one(Clause("eat", obj=NP("apple", "a"))), "eat an apple", "mange une pomme",
     "0-0 1-1 2-2"),
    # one-to-many conjunction, que -> qu' before a vowel
    ("enfr", Sentence((Clause("laugh", subj=NP("tom")), Clause("sleep", subj=NP("anna"))),
                      ("because",)),
     "tom laughs because anna sleeps", "thomas rit parce qu' anne dort",
     "0-0 1-1 2-2 2-3 3-4 4-5"),
    ("enfr", _one(NP("school", "my")), "my school", "mon école", "0-0 1-1"),
    ("enfr", _one(NP("tree", "this", ("old",))), "this old tree", "ce vieil arbre",
     "0-0 1-1 2-2"),
    # a compound whose "de" belongs to both English words (possible links)
    ("enfr", _one(NP("fire truck", "the")), "the fire truck", "le camion de pompiers",
     "0-0 2-1 1p2 2p2 1-3"),
    ("enfr", _one(Clause("run")), "run", "cours", "0-0"),
    # SVO -> SOV, postposition, case markers possible to their noun, articles dropped
    ("enja", _one(Clause("see", subj=NP("cat", "the"), obj=NP("dog", "the"),
                         pps=(("in", NP("house", "the")),))),
     "the cat sees the dog in the house", "neko ga ie ni inu o miru",
     "1-0 1p1 7-2 5-3 4-4 4p5 2-6"),
    ("enja", _one(Clause("eat", subj=NP("mary"), neg=True, obj=NP("fish", "the"))),
     "mary does not eat the fish", "mari wa sakana o tabe nai", "0-0 0p1 5-2 5p3 3-4 2-5"),
    # my -> watashi no, adjective particle na, multi-word postposition, every day -> mainichi
    ("enja", _one(Clause("sleep", subj=NP("cat", "my", ("pretty",)),
                         pps=(("on", NP("table", "the")),), adv="every day")),
     "my pretty cat sleeps on the table every day",
     "watashi no kirei na neko ga mainichi teeburu no ue ni neru",
     "0-0 0-1 1-2 1p3 2-4 2p5 7-6 8-6 6-7 4-8 4-9 4-10 3-11"),
    # in front of -> no mae ni: three links that cross
    ("enja", _one(Clause("wait", subj=NP("tom"), pps=(("in front of", NP("station", "the")),))),
     "tom waits in front of the station", "tomu wa eki no mae ni matsu",
     "0-0 0p1 6-2 4-3 3-4 2-5 1-6"),
    ("enja", _one(Clause("run")), "run", "hashire", "0-0"),
]  # fmt: skip


@pytest.mark.parametrize(("pair", "sentence", "src", "tgt", "gold"), HAND_CHECKED)
def test_hand_checked_translation(pair, sentence, src, tgt, gold):
    ex = translate(pair, sentence)
    assert " ".join(ex.src) == src
    assert " ".join(ex.tgt) == tgt
    assert format_pharaoh(ex.alignment) == gold


@settings(max_examples=25, deadline=None)
@given(
    pair=st.sampled_from(sorted(PAIRS)),
    seed=st.integers(0, 2**32),
    lo=st.integers(1, 60),
    span=st.integers(0, 20),
)
def test_generated_pairs_are_well_formed(pair, seed, lo, span):
    hi = min(60, lo + span)
    examples = generate(pair, 4, seed, min_len=lo, max_len=hi)
    unlinked_ok = {"enfr": {"does"}, "enja": {"does", "the", "a", "an"}}[pair]
    for ex in examples:
        a = ex.alignment
        assert lo <= len(ex.src) <= hi
        assert (a.src_len, a.tgt_len) == (len(ex.src), len(ex.tgt))
        assert all(0 <= i < len(ex.src) and 0 <= j < len(ex.tgt) for i, j in a.possible)
        assert a.sure <= a.possible
        assert all(ex.src) and all(ex.tgt)  # no empty tokens
        # every target word is linked; only known function words are not
        assert {j for _, j in a.possible} == set(range(len(ex.tgt)))
        linked = {i for i, _ in a.possible}
        assert {w for i, w in enumerate(ex.src) if i not in linked} <= unlinked_ok


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_deterministic_for_a_seed(seed):
    first = generate("enfr", 5, seed)
    assert generate("enfr", 5, seed) == first
    assert generate("enfr", 3, seed) == first[:3]  # a prefix does not depend on n
    assert generate("enfr", 5, seed + 1) != first
    # the English side is shared by the pairs
    assert [e.src for e in generate("enja", 5, seed)] == [e.src for e in first]


def test_lengths_are_uniform_within_a_block():
    lengths = [len(e.src) for e in generate("enja", 120, seed=5, min_len=1, max_len=60)]
    assert Counter(lengths) == {n: 2 for n in range(1, 61)}


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_committed_data_is_what_the_generator_writes(pair, tmp_path):
    toy.write_corpus(pair, tmp_path, splits=("dev", "test"))
    for split in ("dev", "test"):
        for ext in ("src", "tgt", "gold"):
            name = f"{split}.{ext}"
            assert (DATA / pair / name).read_bytes() == (tmp_path / name).read_bytes(), name


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_committed_test_split_covers_lengths_1_to_60(pair):
    lines = (DATA / pair / "test.src").read_text(encoding="utf-8").splitlines()
    assert len(lines) == SPLITS["test"].size >= 1000
    assert Counter(len(line.split()) for line in lines) == {n: 20 for n in range(1, 61)}
    for ext in ("src", "tgt", "gold"):
        assert (DATA / pair / f"test.{ext}").stat().st_size < 1_000_000


def _sources(pair: str, split: str) -> set[str]:
    return set((DATA / pair / f"{split}.src").read_text(encoding="utf-8").splitlines())


def test_splits_own_disjoint_hash_shares():
    shares = [set(spec.buckets) for spec in SPLITS.values()]
    assert set().union(*shares) == set(range(100))
    assert sum(map(len, shares)) == 100
    dev, test = _sources("enfr", "dev"), _sources("enfr", "test")
    assert not dev & test
    assert all(_bucket(s) in SPLITS["test"].buckets for s in test)
    assert all(_bucket(s) in SPLITS["dev"].buckets for s in dev)
    # train is too big for a fast test; its first 600 sentences stay in its share
    spec = SPLITS["train"]
    head = generate("enfr", 600, spec.seed, split="train")
    assert not {" ".join(e.src) for e in head} & (dev | test)


@pytest.mark.slow
def test_full_train_split_shares_no_source_with_dev_or_test():
    train = {" ".join(e.src) for e in toy.generate_split("enja", "train")}
    assert not train & (_sources("enja", "dev") | _sources("enja", "test"))


def test_vocabulary_is_a_few_hundred_words_per_side():
    for pair in PAIRS:
        src = {w for line in _sources(pair, "test") for w in line.split()}
        tgt_text = (DATA / pair / "test.tgt").read_text(encoding="utf-8")
        tgt = set(tgt_text.split())
        assert 200 <= len(src) <= 500 and 200 <= len(tgt) <= 500, (pair, len(src), len(tgt))


def test_unknown_names_suggest_the_close_match():
    with pytest.raises(UnknownNameError, match="did you mean 'enfr'"):
        generate("enfx", 1, 0)
    with pytest.raises(UnknownNameError, match="did you mean 'test'"):
        toy.generate_split("enfr", "tset")
    with pytest.raises(UnknownNameError, match="did you mean 'cat'"):
        translate("enfr", _one(NP("caat", "the")))


@pytest.mark.parametrize(
    "sentence",
    [
        _one(Clause("see", subj=NP("cat", "the"))),  # transitive without an object
        _one(Clause("sleep", subj=NP("cat", "the"), obj=NP("dog", "the"))),
        _one(Clause("rest")),  # reflexive imperative
        _one(Clause("sleep", subj=NP("table", "the"))),  # inanimate subject
        _one(Clause("sleep", subj=NP("cat"))),  # bare noun inside a clause
        _one(NP("mary", "the")),  # a name with a determiner
        Sentence((Clause("run"), Clause("sleep", subj=NP("tom"))), ("and",)),
        Sentence((Clause("sleep", subj=NP("tom")),), ("and",)),
    ],
)
def test_structures_outside_the_grammar_are_refused(sentence):
    with pytest.raises(InputError):
        translate("enfr", sentence)


def test_bad_counts_and_lengths_are_refused():
    with pytest.raises(InputError, match="min_len"):
        generate("enfr", 1, 0, min_len=5, max_len=4)
    with pytest.raises(InputError, match=">= 0"):
        generate("enfr", -1, 0)


def test_cli_toy_writes_the_files_and_explains_itself(tmp_path):
    runner = CliRunner()
    help_text = runner.invoke(cli, ["toy", "--help"]).output
    assert all(name in help_text for name in PAIRS)
    assert ".gold" in help_text
    result = runner.invoke(cli, ["toy", "enja", "-o", str(tmp_path / "out"), "--splits", "dev"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "dev.gold").read_bytes() == (DATA / "enja" / "dev.gold").read_bytes()
    bad = runner.invoke(cli, ["toy", "enjp", "-o", str(tmp_path)])
    assert bad.exit_code == 2
    assert "did you mean 'enja'" in bad.output

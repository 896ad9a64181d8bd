"""Subword-to-word alignment mapping."""

from __future__ import annotations

import pytest

from attnprobe.alignment import Alignment
from attnprobe.alignment.subwords import subword_to_word, word_ids
from attnprobe.errors import InputError, UnknownNameError

A = Alignment.from_links


@pytest.mark.parametrize(
    "tokens, convention, expected",
    [
        (["▁the", "▁house", "s"], "sentencepiece", [0, 1, 1]),
        (["house", "s", "▁!"], "sentencepiece", [0, 0, 1]),  # first piece starts a word
        (["▁", "X", "▁y"], "sentencepiece", [0, 0, 1]),
        (["the", "hou@@", "s@@", "es", "!"], "bpe", [0, 1, 1, 1, 2]),
        ([], "bpe", []),
        ([], "sentencepiece", []),
    ],
)
def test_word_ids(tokens, convention, expected):
    assert word_ids(tokens, convention) == expected


def test_word_id_errors():
    with pytest.raises(UnknownNameError, match="did you mean 'bpe'"):
        word_ids(["a"], "bpee")
    with pytest.raises(InputError, match="ends with '@@'"):
        word_ids(["a@@"], "bpe")


def test_any_to_any_mapping_keeps_sure_and_possible():
    src = [0, 0, 1]  # "un believ" "!"
    tgt = [0, 1, 1]
    sub = A([(0, 0), (1, 0)], possible=[(2, 1), (2, 2)])
    word = subword_to_word(sub, src, tgt)
    assert word == A([(0, 0)], [(1, 1)], src_len=2, tgt_len=2)
    # a word pair reached by a sure and by a possible subword link is sure
    both = subword_to_word(A([(0, 1)], [(1, 2)]), src, tgt)
    assert both.sure == {(0, 1)} and both.possible_only == frozenset()


def test_links_past_the_subwords_are_an_error():
    with pytest.raises(InputError, match="points past the 2 source / 1 target subwords"):
        subword_to_word(A([(2, 0)]), [0, 1], [0])

"""Quality-by-length buckets, computed by hand."""

from __future__ import annotations

import pytest

from attnprobe.analyses.bottleneck import BUCKETS, bucket_of, corpus_bleu, quality_by_length
from attnprobe.errors import InputError


def test_bucket_bounds_are_inclusive_and_the_last_is_open():
    assert [bucket_of(n) for n in (1, 10, 11, 20, 60, 61, 500)] == [0, 0, 1, 1, 5, 6, 6]
    assert bucket_of(0) == -1 and BUCKETS[-1] == (61, None)


def test_bucket_table_by_hand():
    # bucket 1-10: sentences 0, 1; bucket 51-60: sentence 2; 11-50 empty (left out)
    rows = quality_by_length(
        src_lens=[2, 10, 55],
        steps=[3, 5, 56],
        nll=[3.0, 5.0, 28.0],
        correct=[3, 4, 42],
        exact=[True, False, False],
    )
    assert [r.label for r in rows] == ["1-10", "51-60"]
    short, long = rows
    assert short.sentences == 2 and short.exact_match == 0.5
    assert short.token_accuracy == pytest.approx(7 / 8)  # micro-average over steps
    assert short.nll_per_token == pytest.approx(1.0)
    assert long.token_accuracy == pytest.approx(0.75) and long.nll_per_token == 0.5
    assert short.bleu is None and long.to_dict()["label"] == "51-60"


def test_bleu_per_bucket_uses_that_bucket_only():
    rows = quality_by_length(
        [1, 12],
        [2, 2],
        [0.0, 0.0],
        [2, 2],
        [True, False],
        hypotheses=[["a", "b", "c", "d"], ["x"]],
        references=[["a", "b", "c", "d"], ["y", "z"]],
    )
    assert rows[0].bleu == pytest.approx(100.0) and rows[1].bleu == 0.0
    # a hypothesis with the first four of six words right scores strictly between 0 and 100
    half = corpus_bleu([["a", "b", "c", "d", "x", "y"]], [["a", "b", "c", "d", "e", "f"]])
    assert 0.0 < half < 100.0


def test_mismatched_inputs_are_refused():
    with pytest.raises(InputError, match="one entry per sentence"):
        quality_by_length([1, 2], [1], [1.0], [1], [True])
    with pytest.raises(InputError, match="both hypotheses and references"):
        quality_by_length([1], [1], [1.0], [1], [True], hypotheses=[["a"]])

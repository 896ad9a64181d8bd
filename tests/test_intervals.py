"""Sentence bootstrap intervals (attnprobe.analyses.intervals)."""

import numpy as np
import pytest

from attnprobe.analyses import intervals
from attnprobe.analyses.intervals import bootstrap_by_sentence, bootstrap_ci
from attnprobe.errors import InputError


def test_micro_mean_and_the_extreme_resamples():
    # sentence 0: steps 1, 1, 1 (sum 3 of 3); sentence 1: steps 0 (sum 0 of 1).
    # micro mean 3/4; a resample of two sentences is {0,0} -> 1, {0,1} -> 3/4, {1,1} -> 0,
    # each of {0,0} and {1,1} with probability 1/4, so both percentiles are the extremes.
    iv = bootstrap_ci([[1.0, 1.0, 1.0], [0.0]])
    assert (iv.mean, iv.low, iv.high) == (0.75, 0.0, 1.0)


def test_nan_steps_count_nowhere():
    iv = bootstrap_ci([[1.0, float("nan")], [float("nan")], [0.0, 1.0]])
    assert iv.mean == pytest.approx(2 / 3)
    nothing = bootstrap_ci([[float("nan")]])
    assert np.isnan(nothing.mean) and np.isnan(nothing.low)


def test_flat_values_with_sentence_ids_equal_grouped_values():
    rng = np.random.default_rng(3)
    groups = [rng.normal(size=rng.integers(1, 9)) for _ in range(40)]
    groups[5][0] = np.nan
    flat = np.concatenate(groups)
    ids = np.concatenate([np.full(len(g), k) for k, g in enumerate(groups)])
    got, want = bootstrap_by_sentence(flat, ids, seed=7), bootstrap_ci(groups, seed=7)
    for name in ("mean", "low", "high"):  # sums in another order: equal to rounding
        assert getattr(got, name) == pytest.approx(getattr(want, name), abs=1e-12)


def test_blocks_of_resamples_give_the_one_draw_numbers(monkeypatch):
    groups = [[0.1 * k, 1.0] for k in range(30)]
    whole = bootstrap_ci(groups, n_boot=200)
    monkeypatch.setattr(intervals, "_BLOCK_CELLS", 30 * 7)  # blocks of 7 resamples
    assert bootstrap_ci(groups, n_boot=200) == whole


def test_seed_and_level_matter():
    groups = [[float(k % 3)] for k in range(50)]
    a, b = bootstrap_ci(groups, seed=0), bootstrap_ci(groups, seed=1)
    assert a.mean == b.mean == pytest.approx(49 / 50)
    narrow = bootstrap_ci(groups, level=0.5)
    assert a.low < narrow.low < narrow.high < a.high


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"level": 1.0}, "level"), ({"n_boot": 0}, "n_boot")],
)
def test_bad_settings_are_one_line_errors(kwargs, match):
    with pytest.raises(InputError, match=match):
        bootstrap_ci([[1.0]], **kwargs)


def test_bad_sentence_ids():
    with pytest.raises(InputError, match="alike"):
        bootstrap_by_sentence([1.0, 2.0], [0])
    with pytest.raises(InputError, match="0 or more"):
        bootstrap_by_sentence([1.0], [-1])

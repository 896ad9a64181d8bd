"""Agreement metrics on hand-made matrices; expected values computed by hand in comments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attnprobe.alignment import Alignment
from attnprobe.analyses.agreement import (
    agreement,
    agreement_table,
    attribution_aer,
    js_divergence,
    row_agreement,
)
from attnprobe.errors import InputError


def test_identical_matrices_agree_perfectly():
    m = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    s = agreement([m], [m]).summary()
    assert s == {"steps": 2, "k": 3, "tau": 1.0, "rho": 1.0, "jsd": 0.0, "top1": 1.0, "topk": 1.0}


@pytest.mark.parametrize(
    ("att", "attr", "tau", "rho", "top1", "topk"),
    [
        # ranks (3, 2, 1) vs (1, 2, 3): every pair discordant; d = (2, 0, -2), rho = 1 - 6*8/24
        ([0.5, 0.3, 0.2], [0.1, 0.2, 0.7], -1.0, -1.0, 0.0, 0.5),
        # |attr| = (3, 1, 2): pairs (0,1)+ (0,2)+ (1,2)-: tau = 1/3; d = (0, 1, -1): rho = 1 - 12/24
        # top-2: {0, 1} vs {0, 2}
        ([0.6, 0.3, 0.1], [3.0, -1.0, 2.0], 1 / 3, 0.5, 1.0, 0.5),
        # signs do not matter: |(-2, 1)| ranks like (2, 1)
        ([0.8, 0.2], [-2.0, 1.0], 1.0, 1.0, 1.0, 1.0),
    ],
)
def test_row_agreement_by_hand(att, attr, tau, rho, top1, topk):
    r = row_agreement(att, attr, k=2)
    assert r["tau"] == pytest.approx(tau)
    assert r["rho"] == pytest.approx(rho)
    assert (r["top1"], r["topk"]) == (top1, topk)


def test_jsd_by_hand():
    # disjoint supports: 1 bit
    assert float(js_divergence([1, 0], [0, 1])) == pytest.approx(1.0)
    # p = (1/2, 1/2), q = (1, 0), M = (3/4, 1/4):
    # KL(p||M) = 1/2 log2(2/3) + 1/2 log2(2) = 0.207519; KL(q||M) = log2(4/3) = 0.415037
    assert float(js_divergence([0.5, 0.5], [1, 0])) == pytest.approx(0.311278, abs=1e-6)
    # scale-free: rows are normalised (absolute values) first
    assert float(js_divergence([2, 2], [-3, 0])) == pytest.approx(0.311278, abs=1e-6)


def test_single_token_and_constant_rows_have_no_rank():
    r = row_agreement([1.0], [0.3])
    assert math.isnan(r["tau"]) and math.isnan(r["rho"]) and r["top1"] == 1.0
    a = agreement([np.array([[1.0], [1.0]]), np.array([[0.5, 0.5]])], [np.ones((2, 1)), [[1, 2]]])
    assert a.summary()["steps"] == 3 and math.isnan(a.summary()["tau"])


def test_table_labels_and_json():
    eye = np.eye(3)
    t = agreement_table({"dec": [eye]}, {"ig": [eye], "sal": [eye[::-1]]}, k=1)
    assert set(t) == {("dec", "ig"), ("dec", "sal")}
    # reversed identity: top-1 agrees only in the middle row
    assert t["dec", "sal"].summary()["top1"] == pytest.approx(1 / 3)
    d = t["dec", "ig"].to_dict()
    assert d["site"] == "dec" and d["method"] == "ig" and d["step"] == [0, 1, 2]


def test_mismatched_inputs_are_refused():
    with pytest.raises(InputError, match="one shape"):
        agreement([np.eye(2)], [np.eye(3)])
    with pytest.raises(InputError, match="2 attention matrices but 1"):
        agreement([np.eye(2)] * 2, [np.eye(2)])


def test_attribution_aer_uses_absolute_values_and_eos_masks():
    # 2 source words + EOS, 2 target words + EOS row; row t explains target word t
    m = np.array([[0.1, -0.9, 5.0], [0.8, 0.1, 5.0], [9.0, 9.0, 9.0]])
    gold = [Alignment.from_links([(1, 0), (0, 1)], src_len=2, tgt_len=2)]
    # the EOS column (5.0) and the EOS row are masked; |-0.9| wins row 0
    assert attribution_aer([m], gold, offsets=(0,)) == {0: 0.0}


def test_vectorised_ranks_equal_scipy_on_random_rows_with_ties():
    """Every row at once == scipy's spearmanr / kendalltau / rankdata row by row, to 1e-12."""
    from scipy.stats import kendalltau, rankdata, spearmanr

    from attnprobe.analyses.agreement import rank_rows, rows_agreement

    rng = np.random.default_rng(0)
    for S in (2, 3, 7, 40):
        # few distinct values: many ties, also in both rows at once
        a = rng.integers(0, 4, (60, S)).astype(float) * rng.choice([1.0, -1.0], (60, S))
        b = rng.integers(0, 3, (60, S)) + rng.random((60, S)) * (rng.random((60, S)) < 0.3)
        np.testing.assert_array_equal(rank_rows(np.abs(a)), rankdata(np.abs(a), axis=-1))
        got = rows_agreement(a, b, k=2)
        for r in range(60):
            x, y = np.abs(a[r]), np.abs(b[r])
            if np.ptp(x) == 0 or np.ptp(y) == 0:
                assert np.isnan(got["rho"][r]) and np.isnan(got["tau"][r])
                continue
            assert got["rho"][r] == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
            assert got["tau"][r] == pytest.approx(kendalltau(x, y).statistic, abs=1e-12)

"""Corpus evaluation: results agree with the model run directly, in corpus order."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from attnprobe.data import ParallelCorpus, Vocab, make_batch
from attnprobe.models.reference.rnn import ModelConfig, build_model
from attnprobe.runs.forward import cross_sites, run_corpus, teacher_forced, token_nll

CORPUS = ParallelCorpus([["a", "b", "c"], ["b"], ["c", "a"]], [["x", "y"], ["y", "y", "x"], ["x"]])


def model():
    src, tgt = Vocab.build(CORPUS.src), Vocab.build(CORPUS.tgt)
    m = build_model(ModelConfig(len(src), len(tgt), emb_dim=4, enc_dim=4, hidden_dim=8), seed=1)
    m.src_vocab, m.tgt_vocab = src, tgt
    return m.eval()


def test_each_sentence_matches_a_one_sentence_run():
    m = model()
    results = run_corpus(m, CORPUS, batch_size=2, progress=False)
    assert [r.index for r in results] == [0, 1, 2]
    for i, r in enumerate(results):
        b = make_batch([CORPUS.src[i]], [CORPUS.tgt[i]], m.src_vocab, m.tgt_vocab)
        with torch.no_grad():
            out = m(b.src, b.src_lens, b.tgt_in)
            hyp = m.greedy(b.src, b.src_lens)[0]
        nll = F.cross_entropy(out.logits[0], b.tgt_out[0], reduction="sum")
        assert r.src_len == len(CORPUS.src[i]) and r.steps == len(CORPUS.tgt[i]) + 1
        assert abs(r.nll - float(nll)) < 1e-5
        assert r.correct == int((out.logits[0].argmax(-1) == b.tgt_out[0]).sum())
        torch.testing.assert_close(
            torch.from_numpy(r.attention), out.attention[0].double(), atol=1e-6, rtol=0
        )
        assert r.hypothesis == m.tgt_vocab.decode(hyp.tokens)
        assert r.exact(r.hypothesis) and not r.exact(["not", "it"])


def test_a_batch_over_the_cell_bound_runs_in_row_pieces_with_the_same_results(monkeypatch):
    import attnprobe.runs.forward as forward

    m = model()
    b = make_batch(CORPUS.src, CORPUS.tgt, m.src_vocab, m.tgt_vocab, [0, 1, 2])
    sites = cross_sites(m)
    whole = teacher_forced(m, b, sites)
    rows = []
    inner = forward._teacher_forced
    monkeypatch.setattr(
        forward, "_teacher_forced", lambda m, b, s: rows.append(len(b.src)) or inner(m, b, s)
    )
    # 4 decoder steps x 4 source positions a row: 16 cells; 2 rows fit in 40
    pieces = teacher_forced(m, b, sites, cells=40)
    assert rows == [2, 1]
    assert pieces.steps == whole.steps == [3, 4, 2] and pieces.correct == whole.correct
    assert pieces.nll == pytest.approx(whole.nll, rel=1e-6)
    for key in sites:
        for a, w in zip(pieces.attention[key], whole.attention[key], strict=True):
            np.testing.assert_allclose(a, w, atol=1e-7)
        assert pieces.weights[key].shape == whole.weights[key].shape == (3, 1, 4, 4)
        torch.testing.assert_close(pieces.weights[key], whole.weights[key], atol=1e-7, rtol=0)


@pytest.mark.parametrize("cells", [1, 7, 60, 10**9])
def test_token_nll_in_row_pieces_equals_one_cross_entropy_bitwise(cells):
    # a few rows at a time (60 cells: 2 rows of 3 steps x 10 words) must not move a bit
    torch.manual_seed(3)
    logits = 4 * torch.randn(5, 3, 10)
    gold = torch.randint(10, (5, 3))
    whole = F.cross_entropy(logits.transpose(1, 2).double(), gold, reduction="none")
    got = token_nll(logits, gold, cells)
    assert got.dtype == torch.float64 and got.shape == (5, 3)
    assert torch.equal(got, whole)


def test_token_nll_of_known_probabilities():
    # p(gold) = 0.5 and 0.8 of softmax(log p): -log p by hand
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]]))
    got = token_nll(logits, torch.tensor([[0, 2]]), cells=3)
    np.testing.assert_allclose(got.numpy(), [[0.6931471805599453, 0.2231435513142097]], atol=1e-7)


def test_without_decoding_there_is_no_hypothesis():
    assert run_corpus(model(), CORPUS, decode=False, progress=False)[0].hypothesis is None


def test_torch_threads_restores_the_callers_count_also_on_error():
    import pytest

    from attnprobe.errors import InputError
    from attnprobe.runs.forward import torch_threads

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), torch_threads(1):
            raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
        with torch_threads(None):
            assert torch.get_num_threads() == 2
        for bad in (0, -1, 1.5, True):
            with pytest.raises(InputError, match="threads"), torch_threads(bad):
                pass
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)

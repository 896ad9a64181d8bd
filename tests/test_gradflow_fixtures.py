"""On the fixture models, attention carries more gradient to distant source words.

The claim (issue 6, after Bahdanau et al. 2015): without attention the source
reaches the decoder only through its initial state, so the gradient of a
target word with respect to a source word far from it is smaller than with
attention, which is a short path from every step to every source position.
"""

from __future__ import annotations

import logging

import pytest

from attnprobe.analyses.gradflow import gradient_profile, gradient_ratio
from attnprobe.data import ParallelCorpus
from attnprobe.models.checkpoint import load
from attnprobe.pipeline.common import FAR, default_corpus, word_masks
from attnprobe.runs.gradients import gradient_matrices
from fixtures.build import MODELS

ATTENTION, NONE = MODELS / "enfr-bahdanau.pt", MODELS / "enfr-none.pt"
log = logging.getLogger("attnprobe")


def long_sentences(corpus: ParallelCorpus) -> ParallelCorpus:
    """The first test pair of each source length 30, 33, ..., 60 (11 pairs)."""
    first = {}
    for k, s in enumerate(corpus.src):
        first.setdefault(len(s), k)
    picks = [first[n] for n in range(30, 61, 3) if n in first]
    return ParallelCorpus([corpus.src[k] for k in picks], [corpus.tgt[k] for k in picks])


def far_profile(model, corpus):
    mats = gradient_matrices(model, corpus, batch_size=4)
    return gradient_profile(mats, masks=[word_masks(g.shape[1] - 1, g.shape[0] - 1) for g in mats])


@pytest.mark.slow
@pytest.mark.skipif(
    not (ATTENTION.is_file() and NONE.is_file()), reason="fixture models not built yet"
)
def test_no_attention_model_has_smaller_gradients_at_long_distances():
    attention, none = load(ATTENTION), load(NONE)
    corpus, _ = default_corpus(attention)
    sub = long_sentences(corpus)
    assert len(sub) == 11
    a, b = far_profile(attention, sub), far_profile(none, sub)
    ratio = gradient_ratio(a, b, *FAR)
    log.info("gradient ratio attention / none at distance >= %d: %.3g", FAR[0], ratio)
    assert ratio > 1.0

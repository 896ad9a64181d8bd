"""Run a model over a corpus once and keep what the quality analyses need.

This is the model-running half of the quality measurements (the summaries
are pure functions in :mod:`attnprobe.analyses.bottleneck`): one
teacher-forced pass per batch (token log-likelihood, accuracy and the
attention matrices the model returns) and, optionally, greedy decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from attnprobe.data import PAD_ID, ParallelCorpus, corpus_batches
from attnprobe.models.reference.rnn import Seq2Seq

__all__ = ["SentenceResult", "run_corpus"]


@dataclass
class SentenceResult:
    """One sentence pair's teacher-forced and decoded results.

    ``attention`` is ``[T, S]`` with T = target words + 1 (the EOS step) and
    S = source words + 1 (the source EOS), or None for a model without attention.
    """

    index: int  # position in the corpus
    src_len: int  # source words
    tgt_len: int  # reference target words
    nll: float  # summed negative log-likelihood of the reference (EOS included), nats
    correct: int  # teacher-forced argmax == reference, over T steps
    attention: np.ndarray | None
    hypothesis: list[str] | None = None  # greedy output (None when not decoded)

    @property
    def steps(self) -> int:
        """Number of target steps T (words + EOS)."""
        return self.tgt_len + 1

    def exact(self, reference: list[str]) -> bool:
        """Whether the greedy hypothesis equals ``reference`` token for token."""
        return self.hypothesis == list(reference)


@torch.no_grad()
def run_corpus(
    model: Seq2Seq,
    corpus: ParallelCorpus,
    batch_size: int = 64,
    decode: bool = True,
    progress: bool | None = None,
) -> list[SentenceResult]:
    """Teacher-forced pass (and greedy decoding) over ``corpus``, in corpus order.

    Examples
    --------
    >>> from attnprobe.data import ParallelCorpus, Vocab
    >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
    >>> c = ParallelCorpus([["a", "b"]], [["x"]]); v = Vocab.build(c.src + c.tgt)
    >>> m = build_model(ModelConfig(len(v), len(v), emb_dim=4, enc_dim=4, hidden_dim=8), seed=0)
    >>> m.src_vocab = m.tgt_vocab = v
    >>> r = run_corpus(m, c, progress=False)[0]
    >>> r.attention.shape, r.steps, len(r.hypothesis) <= 2 * 3 + 10
    ((2, 3), 2, True)
    """
    from tqdm.auto import tqdm

    model.eval()
    results: list[SentenceResult | None] = [None] * len(corpus)
    bar = tqdm(
        total=len(corpus),
        unit="sent",
        disable=None if progress is None else not progress,
        desc="evaluate",
    )
    for batch in corpus_batches(corpus, model.src_vocab, model.tgt_vocab, batch_size):
        idx = batch.index.tolist()
        out = model(batch.src, batch.src_lens, batch.tgt_in)
        nll = F.cross_entropy(
            out.logits.transpose(1, 2), batch.tgt_out, ignore_index=PAD_ID, reduction="none"
        ).sum(1)  # [B]
        correct = ((out.logits.argmax(-1) == batch.tgt_out) & (batch.tgt_out != PAD_ID)).sum(1)
        hyps = model.greedy(batch.src, batch.src_lens) if decode else None
        for b, i in enumerate(idx):
            S, T = int(batch.src_lens[b]), int(batch.tgt_lens[b])
            attn = None if out.attention is None else out.attention[b, :T, :S].numpy().copy()
            hyp = None if hyps is None else model.tgt_vocab.decode(hyps[b].tokens)
            results[i] = SentenceResult(i, S - 1, T - 1, float(nll[b]), int(correct[b]), attn, hyp)
        bar.update(len(idx))
    bar.close()
    return results

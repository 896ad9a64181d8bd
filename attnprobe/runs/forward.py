"""Teacher-forced passes: the one place where loss, accuracy and attention are computed.

Every part of attnprobe that needs a model's likelihood, its token accuracy or
its attention on a corpus comes here (the pipeline, ``compare``): one
teacher-forced pass per batch inside :func:`attnprobe.capture`, and optionally
greedy decoding. Batches are the model's own (:meth:`Seq2SeqModel.encode`);
attention is read from the model's cross-attention sites, heads averaged and
pooled to words (:func:`attnprobe.analyses.pooling.pool_words`). The summaries
are pure functions in :mod:`attnprobe.analyses`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from attnprobe.analyses.pooling import pool_words
from attnprobe.data import Batch, ParallelCorpus, bucket_batches

__all__ = [
    "SentenceResult",
    "ForwardBatch",
    "eval_mode",
    "torch_threads",
    "model_batches",
    "teacher_forced",
    "run_corpus",
]


@contextlib.contextmanager
def eval_mode(model) -> Iterator[None]:
    """Run ``model`` in ``eval()`` mode (no dropout), restoring every module's flag after.

    Examples
    --------
    >>> from torch import nn
    >>> m = nn.Sequential(nn.Linear(2, 2), nn.Dropout()).train()
    >>> m[0].eval() and None
    >>> with eval_mode(m):
    ...     m.training, m[1].training
    (False, False)
    >>> m.training, m[0].training, m[1].training
    (True, False, True)
    """
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, t in flags:
            m.train(t)


@contextlib.contextmanager
def torch_threads(n: int | None = 1) -> Iterator[None]:
    """Run torch's CPU ops on ``n`` threads inside, restoring the caller's count after.

    One thread is the default of ``attnprobe analyze`` and ``compare``: the
    models are small, and with torch's default (one thread per core) a run
    slowed down 3.7x (median; up to 12x) whenever another process held a core,
    while gaining nothing on a quiet machine. ``None`` leaves the count as it is.

    Examples
    --------
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    from attnprobe.errors import InputError

    if n is None:
        yield
        return
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"threads must be a positive integer or None, got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def model_batches(model, corpus: ParallelCorpus, batch_size: int) -> Iterator[Batch]:
    """Length-bucketed batches of ``corpus`` in the model's own ids (``Batch.index``: rows).

    Examples
    --------
    >>> import attnprobe
    >>> model = attnprobe.load("fixtures/models/enfr-bahdanau.pt")
    >>> c = attnprobe.ParallelCorpus([["the", "cat"], ["a"]], [["le", "chat"], ["un"]])
    >>> [b.index.tolist() for b in model_batches(model, c, batch_size=1)]
    [[1], [0]]
    """
    for idx in bucket_batches(corpus.lengths, batch_size):
        yield model.encode([corpus.src[i] for i in idx], [corpus.tgt[i] for i in idx], idx)


def cross_sites(model) -> list[str]:
    """Keys of the model's cross-attention sites, in the model's order."""
    return [s.key for s in getattr(model, "sites", []) if s.role == "cross"]


@dataclass
class ForwardBatch:
    """What one teacher-forced pass gives per sentence of a batch (batch row order).

    ``nll``: summed negative log-likelihood of the reference over the model's
    steps (EOS included), nats; ``correct``: steps whose argmax is the reference;
    ``steps``: the model's decoder steps; ``attention[key][b]``: the site's
    attention, heads averaged, pooled to words ``[m + 1, n + 1]``; ``weights[key]``:
    the site's captured weights as they are, ``[B, H, T, S]`` padded (every head).
    """

    nll: list[float]
    correct: list[int]
    steps: list[int]
    attention: dict[str, list[np.ndarray]]
    weights: dict[str, torch.Tensor]


#: padded cells (rows x decoder steps x source positions) one teacher-forced pass holds at
#: most; a batch of more runs in row pieces (the same numbers, a bounded peak memory: the
#: largest batch of a long corpus holds its longest sentences)
PIECE_CELLS = 64 * 40 * 40


def _row_pieces(batch: Batch, cells: int) -> list[slice]:
    """Row ranges of ``batch`` holding at most ``cells`` padded cells each (one at least).

    Examples
    --------
    >>> import torch
    >>> b = Batch(torch.zeros(5, 4), None, torch.zeros(5, 3), None, None, None)
    >>> _row_pieces(b, 60), _row_pieces(b, 24), _row_pieces(b, 1)
    ([slice(0, 5, None)], [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)], \
[slice(0, 1, None), slice(1, 2, None), slice(2, 3, None), slice(3, 4, None), slice(4, 5, None)])
    """
    B, S = batch.src.shape
    per_row = S * batch.tgt_in.shape[1]
    rows = max(1, cells // max(1, per_row))
    return [slice(i, min(B, i + rows)) for i in range(0, B, rows)]


def _rows(batch: Batch, part: slice) -> Batch:
    """The rows ``part`` of ``batch``, at the batch's own padded width."""
    words = [None if w is None else w[part] for w in (batch.src_words, batch.tgt_words)]
    return Batch(*(t[part] for t in batch[:6]), *words)


@torch.no_grad()
def teacher_forced(
    model, batch: Batch, sites: Sequence[str] = (), cells: int = PIECE_CELLS
) -> ForwardBatch:
    """One teacher-forced pass over ``batch``, reading the attention of ``sites``.

    A batch of more than ``cells`` padded cells (:data:`PIECE_CELLS`) runs
    in pieces of rows at its own padded width, so that peak memory does not grow
    with the longest sentences; the results are joined in row order.

    Examples
    --------
    >>> import attnprobe
    >>> model = attnprobe.load("fixtures/models/enfr-bahdanau.pt")
    >>> batch = model.encode([["the", "cat"]], [["le", "chat"]])
    >>> fb = teacher_forced(model, batch, cross_sites(model))
    >>> fb.steps, fb.attention["decoder.attention"][0].shape
    ([3], (3, 3))
    """
    pieces = _row_pieces(batch, cells)
    if len(pieces) > 1:
        parts = [_teacher_forced(model, _rows(batch, p), list(sites)) for p in pieces]
        return ForwardBatch(
            *([x for fb in parts for x in getattr(fb, f)] for f in ("nll", "correct", "steps")),
            {k: [a for fb in parts for a in fb.attention[k]] for k in parts[0].attention},
            {k: torch.cat([fb.weights[k] for fb in parts]) for k in parts[0].weights},
        )
    return _teacher_forced(model, batch, list(sites))


#: logits cells (rows x steps x vocabulary) whose negative log-likelihoods are taken in
#: float64 at once: the float64 copy and its log-softmax are 4x the logits' own size, which
#: for a batch of long sentences was the largest allocation of an attention-only run
NLL_CELLS = 1 << 18


def token_nll(logits: torch.Tensor, gold: torch.Tensor, cells: int = NLL_CELLS) -> torch.Tensor:
    """Negative log-likelihood of each gold token, in float64: ``[B, T]`` from logits ``[B, T, V]``.

    The same numbers as ``F.cross_entropy(logits.transpose(1, 2).double(), gold,
    reduction="none")``, taken a few rows at a time (at most ``cells`` logits), so
    that the float64 copy of a long batch's logits is never made whole.

    Examples
    --------
    >>> import torch
    >>> logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]]))
    >>> (-token_nll(logits, torch.tensor([[0, 2]]))).exp()  # p(gold)
    tensor([[0.5000, 0.8000]], dtype=torch.float64)
    """
    B, T, V = logits.shape
    rows = max(1, cells // max(1, T * V))
    return torch.cat(
        [
            F.cross_entropy(
                logits[i : i + rows].transpose(1, 2).double(), gold[i : i + rows], reduction="none"
            )
            for i in range(0, B, rows)
        ]
    )


def _teacher_forced(model, batch: Batch, sites: list[str]) -> ForwardBatch:
    from attnprobe.capturing.hooks import capture

    if sites:
        with capture(model, sites, src_lens=batch.src_lens, tgt_lens=batch.tgt_lens) as cap:
            logits = model(batch.src, batch.src_lens, batch.tgt_in).logits  # [B, T, V]
    else:  # no attention to read (a model without attention)
        logits = model(batch.src, batch.src_lens, batch.tgt_in).logits
    B, T = batch.tgt_out.shape
    valid = torch.arange(T)[None, :] < batch.tgt_lens[:, None]  # [B, T] real steps
    nll = (token_nll(logits, batch.tgt_out) * valid).sum(1)  # [B]
    correct = ((logits.argmax(-1) == batch.tgt_out) & valid).sum(1)  # [B]
    attention, weights = {}, {}
    for key in sites:
        weights[key] = cap.trace.weights(key)
        w = cap.trace.weights(key).mean(1).double().numpy()  # [B, T, S], heads averaged
        rows = []
        for b in range(B):
            t, s = int(batch.tgt_lens[b]), int(batch.src_lens[b])
            rows.append(pool_words(w[b, :t, :s], *batch.word_ids(b, s, t)))
        attention[key] = rows
    steps = batch.tgt_lens.tolist()
    return ForwardBatch(nll.tolist(), correct.tolist(), steps, attention, weights)


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
    correct: int  # teacher-forced argmax == reference, over the model's steps
    attention: np.ndarray | None
    hypothesis: list[str] | None = None  # greedy output (None when not decoded)
    model_steps: int | None = None  # the model's decoder steps (subword models: pieces)

    @property
    def steps(self) -> int:
        """Number of decoder steps the accuracy counts over (word-level: words + EOS)."""
        return self.model_steps if self.model_steps is not None else self.tgt_len + 1

    def exact(self, reference: list[str]) -> bool:
        """Whether the greedy hypothesis equals ``reference`` token for token."""
        return self.hypothesis == list(reference)


def run_corpus(
    model,
    corpus: ParallelCorpus,
    batch_size: int = 64,
    decode: bool = True,
    progress: bool | None = None,
) -> list[SentenceResult]:
    """Teacher-forced pass (and greedy decoding) over ``corpus``, in corpus order.

    The attention is the first cross-attention site's (None without one).

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

    keys = cross_sites(model)[:1]
    results: list[SentenceResult | None] = [None] * len(corpus)
    bar = tqdm(
        total=len(corpus),
        unit="sent",
        disable=None if progress is None else not progress,
        desc="evaluate",
    )
    with eval_mode(model):
        try:
            for batch in model_batches(model, corpus, batch_size):
                fb = teacher_forced(model, batch, keys)
                hyps = None
                if decode:
                    with torch.no_grad():
                        hyps = model.greedy(batch.src, batch.src_lens)
                for b, i in enumerate(batch.index.tolist()):
                    attn = fb.attention[keys[0]][b] if keys else None
                    hyp = None if hyps is None else model.decode_ids(hyps[b].tokens)
                    results[i] = SentenceResult(
                        i,
                        len(corpus.src[i]),
                        len(corpus.tgt[i]),
                        float(fb.nll[b]),
                        int(fb.correct[b]),
                        attn,
                        hyp,
                        int(fb.steps[b]),
                    )
                bar.update(len(batch.index))
        finally:
            bar.close()
    return results

"""Run a model for gradient flow: per-step gradient matrices and stop-gradient runs.

The model-running half of :mod:`attnprobe.analyses.gradflow` (which holds the
pure summaries). Every run goes through :func:`attnprobe.capture` (the sweep's
output edits, or the trace's ``state_grads`` for the loop and replicate
methods); no hooks are registered here.

**One sweep per batch for all target steps.** ``G[t, s] = || d log p(y_t) /
d e_s ||`` needs the gradient of every target step. ``method="sweep"`` (the
default) gets all ``T`` of them from one forward of the batch, through the
gradient engine that attribution uses (:func:`attnprobe.runs.sweep.sweep`):
one reverse sweep over the unrolled decoder, then one vectorised pass through
the encoder, padded batches included; the stop-gradient edits ride along in the
same capture. It is saliency with ``target="log_prob"`` and the L2 norm.
``method="loop"`` runs one capture per step instead (T forwards and
backwards), and ``method="replicate"`` copies each sentence once per target
step so that row ``(b, t)`` of the enlarged batch back-propagates only
``log p(y_t)`` (one forward and backward over ``sum T_b`` rows; kept as the
baseline of ``benchmarks/bench_gradients.py``, which measures the sweep's time
and peak memory against it). The three agree (tested).

**Path decomposition.** The source reaches an attentional decoder along two
paths that meet only at the encoder: the attention path (the encoder states
used as keys and values) and the recurrent path (the decoder's initial state,
computed from the final encoder states). :func:`path_gradients` measures each by
stopping the other with a capture edit (:func:`attnprobe.capturing.edits.detach`):
``stop="init"`` detaches the output of ``decoder.hook_init`` (the initial
decoder state), ``stop="attention"`` the output of ``encoder.hook_states`` (the
encoder states h_s, which only the attention reads), ``stop="scores"`` the
attention weights only, which leaves the value path ``c = sum_s a_s h_s`` open,
and ``stop="context"`` every step's context vector (the output of
``decoder.attention.hook_context``): what is left is the purely recurrent path,
with no attention on it at all -- not even the route from the initial state
through the attention's query. Every run is the model's own ``forward`` inside
one capture.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch

from attnprobe.capturing.edits import detach
from attnprobe.capturing.sites import Site
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.runs.forward import eval_mode, model_batches

__all__ = [
    "WRT",
    "STOPS",
    "STOP_POINTS",
    "METHODS",
    "gradient_matrices",
    "path_gradients",
]

log = logging.getLogger("attnprobe")

#: what the gradient is taken with respect to -> the reference models' hook point
WRT = {"embeddings": "encoder.hook_embeddings", "states": "encoder.hook_states"}
#: what a stop-gradient run detaches: the module output (or attention site) it detaches
STOPS = ("scores", "attention", "init", "context")
STOP_POINTS = {
    "scores": "decoder.attention",
    "attention": "encoder.hook_states",
    "init": "decoder.hook_init",
    "context": "decoder.attention.hook_context",
}
METHODS = ("sweep", "loop", "replicate")


def _check(model, wrt: str, stop: str | None, method: str) -> None:
    from attnprobe.models.interface import require

    if wrt not in WRT:
        raise UnknownNameError("gradient target", wrt, WRT)
    if method not in METHODS:
        raise UnknownNameError("gradient method", method, METHODS)
    require(model, "recurrent_graph", "gradient flow")
    if method == "sweep":
        require(model, "step_decoder", "gradient flow by the decoder sweep")
    if stop is None:
        return
    if stop not in STOPS:
        raise UnknownNameError("stop-gradient path", stop, STOPS)
    if not any(s.role == "cross" for s in model.sites):
        raise InputError(
            f"stop={stop!r}: a model without attention has one path from the source (its "
            "initial state); there is nothing to decompose",
        )
    if wrt == "states" and stop == "attention":
        raise InputError(
            "wrt='states' with stop='attention': the encoder states reach the output only "
            "through the attention, so that gradient is zero by construction",
            fix="use wrt='embeddings' to split the gradient into its paths",
        )


def _stop_edits(model, stop: str | None) -> dict | None:
    """The capture edit that stops ``stop``'s path (None: no edit).

    ``"scores"`` detaches the weights of the model's cross-attention site, keyed
    by the site itself: a run that captures no sites (the sweep) then edits
    the output the site reads.
    """
    if stop is None:
        return None
    if stop == "scores":
        return {next(s for s in model.sites if s.role == "cross"): detach()}
    return {STOP_POINTS[stop]: detach()}


def _run_rows(model, batch, rows_b, rows_t, wrt, stop) -> torch.Tensor:
    """One capture: rows ``(b, t)`` back-propagate log p(y_t) of sentence b -> [R, S, D]."""
    import attnprobe

    src, lens = batch.src[rows_b], batch.src_lens[rows_b]
    tgt_in, tgt_out = batch.tgt_in[rows_b], batch.tgt_out[rows_b]
    target = Site(WRT[wrt], pattern="full", role="states", name=f"grad:{wrt}")
    edits = _stop_edits(model, stop)
    with attnprobe.capture(
        model,
        edits=edits,
        states=target,
        state_grads=True,
        src_lens=lens,
        tgt_lens=batch.tgt_lens[rows_b],
    ) as cap:
        logp = torch.log_softmax(model(src, lens, tgt_in).logits, dim=-1)  # [R, T, V]
        r = torch.arange(len(rows_b))
        logp[r, rows_t, tgt_out[r, rows_t]].sum().backward()
    return cap.trace.state_grads  # [R, S, D]


def _swept_vectors(model, batch, wrt, stop) -> torch.Tensor:
    """One sweep of the gradient engine: [T, B, S, D], row t the gradient of log p(y_t)."""
    from attnprobe.runs.sweep import Runner, sweep

    run = Runner(model, "log_prob", target_share=False, stops=_stop_edits(model, stop))
    x = run.embed(batch.src).requires_grad_()  # [B, S, E]
    mask = torch.arange(batch.src.shape[1]) < batch.src_lens[:, None]  # [B, S] real positions
    with eval_mode(model), torch.enable_grad():
        grads = sweep(run, [x], mask, batch.src_lens, batch.tgt_in, batch.tgt_out, wrt=wrt)[0]
    return grads.detach()


def _batch_vectors(model, batch, wrt, stop, method) -> list[np.ndarray]:
    """Gradient vectors [T_b, S_b, D] of each sentence of one batch."""
    B = len(batch.index)
    T = batch.tgt_lens  # [B] steps, EOS included
    if method == "sweep":
        grads = _swept_vectors(model, batch, wrt, stop).numpy()  # [T, B, S, D]
        return [grads[: int(T[b]), b, : int(batch.src_lens[b])] for b in range(B)]
    if method == "replicate":
        rows_b = torch.repeat_interleave(torch.arange(B), T)
        rows_t = torch.cat([torch.arange(int(n)) for n in T])
        plan = [(rows_b, rows_t)]
    else:
        plan = []
        for t in range(int(T.max())):
            rows_b = torch.nonzero(T > t).flatten()
            plan.append((rows_b, torch.full_like(rows_b, t)))
    parts: dict[int, list] = {b: [None] * int(T[b]) for b in range(B)}
    for rows_b, rows_t in plan:
        grads = _run_rows(model, batch, rows_b, rows_t, wrt, stop).numpy()
        for k, (b, t) in enumerate(zip(rows_b.tolist(), rows_t.tolist(), strict=True)):
            parts[b][t] = grads[k, : int(batch.src_lens[b])]
    return [np.stack(parts[b]) for b in range(B)]  # [T_b, S_b, D] each


def gradient_matrices(
    model,
    corpus: ParallelCorpus,
    *,
    wrt: str = "embeddings",
    stop: str | None = None,
    batch_size: int = 8,
    method: str = "sweep",
    vectors: bool = False,
) -> list[np.ndarray]:
    """``G[t, s] = || d log p(y_t) / d x_s ||`` for every sentence of ``corpus``, in order.

    Parameters
    ----------
    model : a reference :class:`~attnprobe.models.reference.rnn.Seq2Seq` with vocabularies.
    corpus : the sentence pairs (teacher forcing on the reference).
    wrt : ``"embeddings"`` (source embeddings ``e_s``) or ``"states"`` (encoder states ``h_s``).
    stop : None, or a path whose gradient is stopped (see the module docstring).
    batch_size : sentences per sweep (``"replicate"``: the enlarged batch holds
        ``sum of T_b`` rows).
    method : ``"sweep"`` (the gradient engine: one forward per batch, all steps
        in one reverse sweep), ``"loop"`` (one forward and backward per target
        step) or ``"replicate"`` (each sentence copied once per target step; the
        old method, kept as the benchmark's baseline).
    vectors : return the gradient vectors ``[T, S, D]`` instead of their norms.

    Returns
    -------
    One float array per sentence: ``[m + 1, n + 1]`` (the EOS step and the source
    EOS included, as in teacher-forced attention; see
    :func:`attnprobe.pipeline.driver.word_masks`), or ``[m + 1, n + 1, D]`` with ``vectors``.

    Examples
    --------
    >>> from attnprobe.data import Vocab
    >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
    >>> c = ParallelCorpus([["a", "b"]], [["x", "y", "z"]]); v = Vocab.build(c.src + c.tgt)
    >>> m = build_model(ModelConfig(len(v), len(v), emb_dim=4, enc_dim=4, hidden_dim=8), seed=0)
    >>> m.src_vocab = m.tgt_vocab = v
    >>> [g.shape for g in gradient_matrices(m, c)]      # 3 words + EOS, 2 words + EOS
    [(4, 3)]
    """
    _check(model, wrt, stop, method)
    out: list[np.ndarray | None] = [None] * len(corpus)
    for batch in model_batches(model, corpus, batch_size):
        for i, g in zip(
            batch.index.tolist(), _batch_vectors(model, batch, wrt, stop, method), strict=True
        ):
            out[i] = g if vectors else np.linalg.norm(g, axis=-1)
    return out


def path_gradients(
    model,
    corpus: ParallelCorpus,
    *,
    wrt: str = "embeddings",
    batch_size: int = 8,
    stops: Sequence[str] = STOPS,
) -> dict[str, list[np.ndarray]]:
    """Gradient vectors with no path stopped (``"total"``) and with each of ``stops``.

    Feed them to :func:`attnprobe.analyses.gradflow.decompose_paths`: the part
    that flows through the attention is the run with ``stop="init"``, the part
    through the initial state the run with ``stop="attention"``, and the part
    through the attention weights (scores) is ``total`` minus the run with
    ``stop="scores"``. The run with ``stop="context"`` is the purely recurrent
    path; ``"attention"`` minus ``"context"`` is the gradient that leaves the
    initial state and comes back through the attention's query.

    Returns
    -------
    ``{"total": [...], stop: [...]}``, one ``[T, S, D]`` array per sentence each.

    Examples
    --------
    >>> from attnprobe.data import Vocab
    >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
    >>> from attnprobe.analyses.gradflow import decompose_paths
    >>> c = ParallelCorpus([["a", "b"]], [["x", "y"]]); v = Vocab.build(c.src + c.tgt)
    >>> m = build_model(ModelConfig(len(v), len(v), emb_dim=4, enc_dim=4, hidden_dim=8), seed=0)
    >>> m.src_vocab = m.tgt_vocab = v
    >>> g = path_gradients(m, c, stops=("init", "attention"))
    >>> d = decompose_paths(g["total"][0], {"attention": g["init"][0], "init": g["attention"][0]})
    >>> d.residual < 1e-5
    True
    """
    runs = {"total": gradient_matrices(model, corpus, wrt=wrt, batch_size=batch_size, vectors=True)}
    for stop in stops:
        runs[stop] = gradient_matrices(
            model, corpus, wrt=wrt, stop=stop, batch_size=batch_size, vectors=True
        )
    return runs

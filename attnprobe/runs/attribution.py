"""Which source tokens did each target token use? Gradient and ablation attribution, batched.

For a teacher-forced sentence pair every target step ``t`` has one scalar
``f_t`` (the log-probability, probability or logit of the gold token ``y_t``),
and each method gives a ``[T, S]`` matrix: the attribution of ``f_t`` to each
source token, aggregated over the embedding dimension. The methods are
captum's, applied to the output of ``model.source_embedding``:

==========================  =================================================
``integrated_gradients``    ``LayerIntegratedGradients``: (x - x') times the
                            path integral of the gradient from a baseline x'
``saliency``                ``|df/dx|`` (aggregated: the gradient norm)
``input_x_gradient``        ``LayerGradientXActivation``: ``x * df/dx``
``gradient_shap``           ``LayerGradientShap``: the gradient at random points
                            between baseline and input, times (x - x')
``deeplift``                ``LayerDeepLift`` -- refused for recurrent models
                            (see below)
``occlusion``               leave-one-out: ``f(x) - f(x with token s replaced
                            by PAD or UNK)``; no gradient
==========================  =================================================

**Why not one captum call per step.** captum attributes one scalar output per
call, so the straightforward use runs a forward pass for every target step (and
every interpolation point). With teacher forcing the forward pass is the same
for all ``T`` steps; only the backward differs. This module runs *one* forward
per sentence (Integrated Gradients and GradientShap: its ``n_steps`` or
``n_samples`` points fill the batch; the other methods: a batch of sentences)
and gets the ``T`` per-step gradients from it:

* reference :class:`~attnprobe.models.reference.rnn.Seq2Seq` models: one reverse
  **sweep** over the unrolled decoder (cut at every recurrent state), where
  step k takes the adjoints of all later steps in one vmapped backward
  (``torch.func.vmap`` over ``torch.autograd.grad``), then one vmapped
  pass through the encoder for all steps. Same arithmetic as T separate
  backwards, in ``T`` autograd calls instead of ``T (T + 1) / 2`` step
  backwards; see :func:`attnprobe.runs.sweep.sweep`.
* other models (:func:`attnprobe.wrap`): one backward per step from the shared
  forward (``retain_graph=True``), or with ``vectorize=True`` all steps as one
  vmapped backward (which, on CPU, was slower than the loop: it also runs the
  steps after t for step t's gradient). A causal decoder runs each step's
  backward over a prefix of the decoder (:func:`_gradients_at`); a model that
  runs in two halves (``encode_source`` and ``decode_states``: the Hugging Face
  adapter) runs its encoder once for all those prefixes, and each step's
  backward stops at the encoder's output before one pass through the encoder
  (Integrated Gradients 1.10x faster on the shared Marian, same numbers); a
  prefix block runs only the rows of a padded batch whose target reaches it
  (saliency in batches of 10: 1.41x faster).

Measured with ``python -m benchmarks.bench_attribution`` (one thread, 20 test
sentences of 1-60 words, busy machine): IG with 50 steps is 5.2x faster on the
Bahdanau fixture, 5.5x on Luong-general, than captum's
``LayerIntegratedGradients`` called once per (sentence, target step), with the
same numbers (docs/attribution.md, Speed).
captum's API cannot express that shared forward, so the methods are assembled
from captum's building blocks: the integration points and weights of
Integrated Gradients come from
``captum.attr._utils.approximation_methods.approximation_parameters`` (Riemann
rules, Gauss-Legendre), and the tests check every method against captum called
the plain way (one sentence and one target step per call) to 1e-5.

**Running the model from embeddings.** Every run goes through
``attnprobe.capture``: an output edit on the module ``model.source_embedding``
(:func:`attnprobe.capturing.edits.constant`) replaces the embeddings the model computes
by the given -- interpolated, noisy -- ones, which require grad; with
``target_share`` a second output edit replaces the decoder-input embeddings
(step by step when the decoder embeds one step per call). The model must use
the source ids only through ``source_embedding`` and as a padding mask
(``src != PAD``), as the reference models do, and must not embed the target
side with the same module.

**DeepLift.** captum's DeepLift replaces the gradient of the non-linear
*modules* it finds; the sigmoid and tanh gates inside ``nn.GRU``/``nn.LSTM``
(and ``torch.tanh`` called as a function) are not modules, so on a recurrent
model it silently returns numbers that are neither DeepLift nor gradients.
It is refused there with an :class:`AttributionError`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.models.interface import check_model, has_capability
from attnprobe.runs.forward import eval_mode, model_batches
from attnprobe.runs.sweep import (
    TARGETS,
    AttributionError,
    Runner,
    select,
    step_grads,
    sweep,
    vjp_rows,
)

__all__ = [
    "METHODS",
    "TARGETS",
    "AGGREGATIONS",
    "AttributionError",
    "Attribution",
    "BatchAttribution",
    "attribute",
    "attribute_batch",
    "attribute_methods",
]

log = logging.getLogger("attnprobe")

METHODS = (
    "integrated_gradients",
    "saliency",
    "input_x_gradient",
    "gradient_shap",
    "deeplift",
    "occlusion",
)
#: over the embedding dimension: L2 norm, sum of absolute values, plain (signed) sum
AGGREGATIONS = ("l2", "sum", "signed_sum")
#: the token whose embedding is the baseline (IG, GradientShap) or the replacement (occlusion)
BASELINES = ("pad", "unk")  # rows of the model's own embedding table (its special ids)
#: special tokens that ``baseline_keep`` may name (keys of the model's ``special_ids``)
SPECIALS = ("pad", "unk", "bos", "eos")
#: integration rules of captum's approximation_parameters
INTEGRATION = (
    "gausslegendre",
    "riemann_trapezoid",
    "riemann_left",
    "riemann_right",
    "riemann_middle",
)
_GRADIENT_METHODS = ("integrated_gradients", "saliency", "input_x_gradient", "gradient_shap")


class BatchAttribution(NamedTuple):
    """What :func:`attribute_batch` returns: one entry per batch row, trimmed to its lengths."""

    matrices: list[np.ndarray]  # [T_i, S_i]
    delta: list[np.ndarray] | None  # Integrated Gradients: [T_i] completeness gaps
    source_share: list[np.ndarray] | None  # target_share=True: [T_i]
    gain: list[np.ndarray] | None  # Integrated Gradients: [T_i] f(x) - f(x')


@dataclass
class Attribution:
    """Attributions of one method on a corpus: one ``[T_i, S_i]`` matrix per sentence.

    Rows are target steps (step t predicts target token t; the last row is EOS),
    columns source tokens (the last is EOS), as attention matrices.

    Attributes
    ----------
    method, target, aggregate : what was computed (see :func:`attribute`).
    matrices : ``[T_i, S_i]`` float arrays, in corpus order.
    delta : Integrated Gradients only: per sentence ``[T_i]`` completeness gaps
        ``sum(attributions) - (f(x) - f(x'))`` (signed sums over every position
        and embedding dimension that was interpolated).
    source_share : with ``target_share=True``: per sentence ``[T_i]``, the share
        of the absolute attribution that goes to the source (the rest goes to the
        target prefix).
    gain : Integrated Gradients only: per sentence ``[T_i]``, ``f(x) - f(x')``,
        what the attributions of a step should add up to.
    params : the options used; signature : versions and the checkpoint hash.
    """

    method: str
    target: str
    aggregate: str
    matrices: list[np.ndarray]
    delta: list[np.ndarray] | None = None
    source_share: list[np.ndarray] | None = None
    gain: list[np.ndarray] | None = None
    params: dict = field(default_factory=dict)
    signature: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.matrices)

    @property
    def max_delta(self) -> float | None:
        """The largest ``|delta|`` over the corpus (Integrated Gradients), else None."""
        if self.delta is None:
            return None
        return max((float(np.abs(d).max()) for d in self.delta if d.size), default=0.0)

    @property
    def relative_delta(self) -> float | None:
        """``sum |delta| / sum |f(x) - f(x')|`` over all steps of the corpus (IG), else None.

        How much of what should have been attributed the completeness gaps amount to,
        over the whole corpus (a per-step ratio explodes where ``f(x) - f(x')`` is
        near zero).

        Examples
        --------
        >>> a = Attribution("integrated_gradients", "log_prob", "l2", [np.zeros((2, 2))],
        ...                 delta=[np.array([0.1, -0.1])], gain=[np.array([-2.0, 0.0])])
        >>> a.max_delta, a.relative_delta
        (0.1, 0.1)
        """
        if self.delta is None or self.gain is None:
            return None
        total = sum(float(np.abs(g).sum()) for g in self.gain)
        gaps = sum(float(np.abs(d).sum()) for d in self.delta)
        return gaps / total if total > 0 else 0.0

    def to_dict(self) -> dict:
        """Plain-JSON form (matrices as nested lists).

        Examples
        --------
        >>> a = Attribution("saliency", "log_prob", "l2", [np.array([[0.5, 1.0]])])
        >>> a.to_dict()["matrices"], a.to_dict()["delta"]
        ([[[0.5, 1.0]]], None)
        """

        def lists(xs):
            return None if xs is None else [np.asarray(x).tolist() for x in xs]

        return {
            "method": self.method,
            "target": self.target,
            "aggregate": self.aggregate,
            "matrices": lists(self.matrices),
            "delta": lists(self.delta),
            "source_share": lists(self.source_share),
            "gain": lists(self.gain),
            "max_delta": self.max_delta,
            "relative_delta": self.relative_delta,
            "params": dict(self.params),
            "signature": dict(self.signature),
        }


# -- the methods on one batch ---------------------------------------------------


@dataclass
class _Batch:
    """One padded batch and the masks every method needs."""

    src: Tensor  # [N, S]
    lens: Tensor  # [N]
    tgt_in: Tensor  # [N, T]
    tgt_out: Tensor  # [N, T]
    tgt_lens: Tensor  # [N]

    @property
    def src_mask(self) -> Tensor:  # [N, S] real source positions
        return torch.arange(self.src.shape[1], device=self.src.device) < self.lens[:, None]

    def repeat(self, k: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """src mask, lengths, decoder input, gold output for ``k`` stacked copies."""
        return (
            self.src_mask.repeat(k, 1),
            self.lens.repeat(k),
            self.tgt_in.repeat(k, 1),
            self.tgt_out.repeat(k, 1),
        )


#: blocks of target steps whose backward passes run over a prefix of a causal decoder
PREFIX_BLOCKS = 4

#: the most forward rows (points x sentences) in one pass of a path method (Integrated
#: Gradients, GradientShap) on a model without a step decoder, unless ``internal_batch_size``
#: says otherwise: every step's backward holds the whole pass's graph, so the rows bound the
#: peak memory (shared Marian, IG-50, one thread: +42-50 MiB above the loaded model with 25
#: rows a pass against +92-95 with all 50 points, for 1.7% more CPU time; docs/attribution.md)
PASS_ROWS = 25


def _prefix_ends(T: int, blocks: int | None = None) -> list[int]:
    """Where the decoder prefixes of :func:`_gradients_at` end: ``blocks`` near-equal parts
    (default :data:`PREFIX_BLOCKS`).

    Examples
    --------
    >>> _prefix_ends(10), _prefix_ends(3), _prefix_ends(1)
    ([3, 5, 8, 10], [1, 2, 3], [1])
    """
    blocks = blocks or PREFIX_BLOCKS
    return sorted({-(-T * k // blocks) for k in range(1, blocks + 1)})


def _gradients_at(run: Runner, batch: _Batch, points: list[Tensor]) -> list[Tensor]:
    """Per-step gradients at ``points`` (each [K * N, L, E], stacked copies of the batch).

    Each [T, K * N, L, E]; a row's steps past its own target length are zero.
    Without a step decoder, every step takes a backward pass of its own through
    a shared forward. With a causal decoder the steps are cut into
    :data:`PREFIX_BLOCKS` blocks, and each block's steps read their logits
    from a forward over the decoder inputs up to the block's end: a step's
    backward then runs through that prefix of the decoder, not all of it (on
    average 5/8 of it, for three more decoder forwards); the first steps of a
    causal decoder are the same whatever follows them. A block runs only the
    rows whose target reaches it, cut to their longest source (in a padded
    batch the rows that have ended cost nothing). A model that runs in two
    halves (:attr:`~attnprobe.runs.sweep.Runner.splits`) runs its encoder once
    for the blocks that have every row, and each step's backward stops at the
    encoder's output (:func:`_through_encoder`).
    """
    k = points[0].shape[0] // batch.src.shape[0]
    mask, lens, tgt_in, tgt_out = batch.repeat(k)
    points = [p.detach().requires_grad_() for p in points]
    with torch.enable_grad():
        if run.sweeps:
            return sweep(run, points, mask, lens, tgt_in, tgt_out)
        T = tgt_in.shape[1]
        causal = has_capability(run.model, "causal_decoder")
        ends = _prefix_ends(T) if causal else [T]
        split = causal and run.splits
        # a row's padded steps are left out (zero gradients), as in the sweep
        real = (torch.arange(T) < batch.tgt_lens.repeat(k)[:, None]).to(points[0].dtype)
        # the encoder's output, in the graph of x, for the blocks that have every row
        encoded = run.encode(points[0], mask, lens) if split else None
        grads, start = [[] for _ in points], 0
        for end in ends:
            rows = torch.nonzero(real[:, start] > 0).flatten()  # the rows still running
            if len(rows) == len(real):
                args = (mask, lens, tgt_in[:, :end], tgt_out, real)
                got = _block(run, points, *args, range(start, end), split, encoded)
            else:  # fresh leaves for the running rows, cut to their longest source
                s = int(lens[rows].max())
                sub = [points[0][rows, :s], *(y[rows] for y in points[1:])]
                sub = [p.detach().requires_grad_() for p in sub]
                args = (mask[rows, :s], lens[rows], tgt_in[rows, :end], tgt_out[rows], real[rows])
                part = _block(run, sub, *args, range(start, end), split, None)
                got = [p.new_zeros((end - start, *p.shape)) for p in points]
                for g, q in zip(got, part, strict=True):
                    g[:, rows, : q.shape[2]] = q  # the rows that ended: zeros
            for acc, g in zip(grads, got, strict=True):
                acc.append(g)
            start = end
        return [torch.cat(g) for g in grads]


def _block(run, points, mask, lens, tgt_in, tgt_out, real, steps: range, split, encoded):
    """Gradients of the steps ``steps`` at ``points`` from one forward over the decoder
    inputs ``tgt_in`` (a prefix): each [len(steps), *point.shape]. ``split``: through the
    encoder's output (``encoded``, or computed here), then the encoder."""
    x, ys = points[0], [y[:, : tgt_in.shape[1]] for y in points[1:]]
    cut = None
    if split:
        if encoded is None:
            encoded = run.encode(x, mask, lens)
        cut = encoded.detach().requires_grad_()
    step_logits = _step_logits(run, x, mask, lens, tgt_in, ys, cut)
    # one scalar per step, each from its own slice: a step's backward then skips the
    # log-softmax of all the other steps (measured 1.6x faster than slicing f [N, T])
    f = [select(step_logits(t), tgt_out[:, t], run.target) * real[:, t] for t in steps]
    if cut is None:
        return step_grads(f, points, run.vectorize)
    got = step_grads(f, [cut, *points[1:]], run.vectorize)
    got[0] = _through_encoder(encoded, x, got[0], run.vectorize)
    return got


def _through_encoder(states: Tensor, x: Tensor, cots: Tensor, vectorize: bool) -> Tensor:
    """``[n, *x.shape]``: the n cotangents ``cots`` [n, *states.shape] of the encoder's
    output taken back to its input ``x``, one backward each (or one vmapped backward)."""
    if vectorize:
        return vjp_rows([states], [x], [cots])[0]
    return torch.stack([torch.autograd.grad(states, x, c, retain_graph=True)[0] for c in cots])


def _step_logits(run: Runner, x, mask, lens, tgt_in, ys, states=None):
    """One forward; returns ``t -> logits [N, V] of step t``, differentiable.

    With ``states`` (the encoder's output, :meth:`Runner.encode`), only the
    decoder runs, from them. When the model names its ``output_layer`` (the
    module whose output, plus constants, is the logits), step t's logits carry
    their gradient through that layer applied to step t's hidden state alone:
    the value is the model's own logits, exactly (``z - z.detach()`` is zero),
    and a step's backward skips the output layer of every other step ([N, T,
    V] x [V, E] per step otherwise).
    """
    head = getattr(run.model, "output_layer", None)
    if head is None:
        logits = run.forward(x, mask, lens, tgt_in, *ys, states=states)
        return lambda t: logits[:, t]
    seen = {}

    def cut(module, args, out):
        seen["h"] = args[0]
        return out.detach()

    handle = head.register_forward_hook(cut)
    try:
        logits = run.forward(x, mask, lens, tgt_in, *ys, states=states)
    finally:
        handle.remove()
    h = seen["h"]  # [N, T, E], in the graph of the decoder

    def at(t: int) -> Tensor:
        z = head(h[:, t])
        return logits[:, t] + (z - z.detach())

    return at


def _chunks(n: int, batch_rows: int, per_chunk_rows: int | None) -> list[range]:
    """Split ``n`` points into chunks of at most ``per_chunk_rows`` forward rows."""
    k = n if not per_chunk_rows else max(1, per_chunk_rows // batch_rows)
    return [range(i, min(n, i + k)) for i in range(0, n, k)]


def _baseline_ids(run: Runner, ids: Tensor, baseline: str, keep: Sequence[str]) -> Tensor:
    """The baseline's token ids: ``baseline`` everywhere, except where ``ids`` holds one of
    the special tokens named in ``keep`` (those positions keep their own token)."""
    base = torch.full_like(ids, run.ids[baseline])
    for name in keep:
        if name not in run.ids:
            raise UnknownNameError("special token of baseline_keep", name, sorted(run.ids))
        base = torch.where(ids == run.ids[name], ids, base)
    return base


def _inputs(
    run: Runner, batch: _Batch, baseline: str, keep: Sequence[str] = ()
) -> tuple[list[Tensor], list[Tensor]]:
    """Embeddings and baseline embeddings: [source] or [source, decoder input]."""
    xs = [run.embed(batch.src)]
    base = [run.embed(_baseline_ids(run, batch.src, baseline, keep))]
    if run.tgt_emb is not None:
        xs.append(run.embed(batch.tgt_in, "tgt"))
        base.append(run.embed(_baseline_ids(run, batch.tgt_in, baseline, keep), "tgt"))
    return xs, base


def _path_gradients(run, batch, ends, base, alphas: Tensor, weights: Tensor, rows) -> list[Tensor]:
    """``sum_k weights[k] * grad f(p_k) * (e_k - b)`` with ``p_k = b + alphas[k] (e_k - b)``.

    Per step and input. ``ends`` are the inputs ``x`` [N, L, E] (every point on
    the path to the same end: Integrated Gradients) or one end per point
    [K, N, L, E] (GradientShap's noisy inputs). ``alphas`` and ``weights`` are
    [K] (shared by all sentences) or [K, N]; ``rows`` caps the forward rows per
    pass (``internal_batch_size``; None: all points in one pass on a step
    decoder, :data:`PASS_ROWS` otherwise). Returns one [T, N, L, E] tensor per input.
    """
    N = batch.src.shape[0]
    K = alphas.shape[0]
    if rows is None and not run.sweeps:
        rows = PASS_ROWS
    alphas = alphas.reshape(K, -1).expand(K, N).to(base[0])  # its dtype and device
    weights = weights.reshape(K, -1).expand(K, N).to(base[0])
    total = [None] * len(base)
    for chunk in _chunks(K, N, rows):
        a = alphas[chunk.start : chunk.stop, :, None, None]  # [k, N, 1, 1]
        w = weights[chunk.start : chunk.stop, :, None, None]
        deltas = [
            (e[chunk.start : chunk.stop] if e.dim() > b.dim() else e[None]) - b[None]
            for e, b in zip(ends, base, strict=True)
        ]  # [k or 1, N, L, E]
        points = [(b[None] + a * d).flatten(0, 1) for d, b in zip(deltas, base, strict=True)]
        grads = _gradients_at(run, batch, points)
        for i, (g, d) in enumerate(zip(grads, deltas, strict=True)):
            g = g.view(g.shape[0], len(chunk), N, *g.shape[2:])  # [T, k, N, L, E]
            part = (g * (w * d)[None]).sum(1)  # [T, N, L, E]
            total[i] = part if total[i] is None else total[i] + part
    return total


@functools.lru_cache(maxsize=16)
def _integration_points(method: str, n: int) -> tuple[list[float], list[float]]:
    """captum's step sizes and points for ``n`` steps of ``method`` (computed once per pair)."""
    from captum.attr._utils.approximation_methods import approximation_parameters

    step_sizes, alphas = approximation_parameters(method)
    return list(step_sizes(n)), list(alphas(n))


def _integrated_gradients(run, batch, opts) -> tuple[list[Tensor], Tensor, Tensor]:
    if opts["integration"] not in INTEGRATION:
        raise UnknownNameError("integration method", opts["integration"], INTEGRATION)
    n = opts["n_steps"]
    step_sizes, alphas = _integration_points(opts["integration"], n)
    xs, base = _inputs(run, batch, opts["baseline"], opts["baseline_keep"])
    dtype = xs[0].dtype
    attrs = _path_gradients(
        run,
        batch,
        xs,
        base,
        torch.tensor(alphas, dtype=dtype),
        torch.tensor(step_sizes, dtype=dtype),
        opts["internal_batch_size"],
    )
    # completeness: f(x) - f(x') against the signed sum of everything attributed
    with torch.no_grad():
        ends = [torch.cat([x, b]) for x, b in zip(xs, base, strict=True)]
        mask, lens, tgt_in, tgt_out = batch.repeat(2)
        fx, fb = run.scores(ends[0], mask, lens, tgt_in, tgt_out, *ends[1:]).chunk(2)
    gain = (fx - fb).T  # [T, N]
    summed = sum(a.flatten(2).sum(-1) for a in attrs)  # [T, N]
    return attrs, summed - gain, gain


def _gradient_shap(run, batch, opts, alphas: Tensor | None = None) -> list[Tensor]:
    """Mean over samples of ``grad f(b + a (x~ - b)) * (x~ - b)``, ``x~ = x + noise``.

    ``alphas`` [n_samples, N] default: uniform draws from a generator seeded with
    ``opts["seed"]`` (then the noise, sample by sample). All samples share the
    forward passes, like Integrated Gradients' points.
    """
    n, stdev = opts["n_samples"], opts["stdevs"]
    xs, base = _inputs(run, batch, opts["baseline"], opts["baseline_keep"])
    N = batch.src.shape[0]
    gen = torch.Generator().manual_seed(opts["seed"])
    if alphas is None:
        alphas = torch.rand(n, N, generator=gen, dtype=torch.float64)
    K = alphas.shape[0]
    noisy = [
        [
            x + stdev * torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x) if stdev else x
            for x in xs
        ]
        for _ in range(K)
    ]  # each sample has its own noisy input
    ends = [torch.stack([sample[i] for sample in noisy]) for i in range(len(xs))]
    return _path_gradients(
        run, batch, ends, base, alphas, torch.full((K,), 1.0 / K), opts["internal_batch_size"]
    )


def _plain_gradients(run, batch, times_input: bool, shared: dict) -> list[Tensor]:
    """Saliency ``|df/dx|`` or input x gradient ``x * df/dx``, per step: [T, N, L, E] each.

    Both are the same gradient at the input: the first method of a call computes it
    (one sweep) and leaves it in ``shared`` for the other.
    """
    if "plain" not in shared:
        xs, _ = _inputs(run, batch, "pad")
        shared["plain"] = xs, _gradients_at(run, batch, xs)
    xs, grads = shared["plain"]
    return [g * x[None] if times_input else g.abs() for g, x in zip(grads, xs, strict=True)]


#: occlusion without ``internal_batch_size``: the most logits elements ([rows, T, V]) of
#: one forward (64 MiB in float32); the passes change nothing but the memory
OCCLUSION_ELEMENTS = 16_000_000


def _occlusion(run, batch, opts) -> Tensor:
    """``f(x) - f(x with source position s replaced)``: [T, N, S], one forward row per (s, n).

    Only the real source positions of each sentence get a row (a padded position
    changes nothing: its column is zero); the rows go in sentence order, in passes
    of ``internal_batch_size`` rows, or as many as keep the logits within
    :data:`OCCLUSION_ELEMENTS`, each pass cut to its own longest source and target.
    """
    N, S = batch.src.shape
    replace = run.ids[opts["baseline"]]
    lens, tgt_lens = batch.lens, batch.tgt_lens
    sent = torch.repeat_interleave(torch.arange(N), lens)  # [R]: each row's sentence
    pos = torch.cat([torch.arange(int(n)) for n in lens])  # [R]: the position it replaces
    variants = batch.src[sent]
    variants[torch.arange(len(sent)), pos] = replace
    with torch.no_grad():
        logits = run.model(batch.src, lens, batch.tgt_in)[0]
        full = select(logits, batch.tgt_out, run.target)  # [N, T]
        cap = opts["internal_batch_size"] or max(1, OCCLUSION_ELEMENTS // logits[0].numel())
        del logits
        occluded = full[None].repeat(S, 1, 1)  # [S, N, T]
        for lo in range(0, len(sent), cap):
            n = sent[lo : lo + cap]
            s, t = int(lens[n].max()), int(tgt_lens[n].max())
            logits = run.model(variants[lo : lo + cap, :s], lens[n], batch.tgt_in[n, :t])[0]
            occluded[pos[lo : lo + cap], n, :t] = select(logits, batch.tgt_out[n, :t], run.target)
    return (full[None] - occluded).permute(2, 1, 0)  # [T, N, S]


def _check_deeplift(model: nn.Module) -> None:
    rnns = [n for n, m in model.named_modules() if isinstance(m, nn.RNNBase)]
    if rnns:
        raise AttributionError(
            f"DeepLift is not supported for this model: captum's DeepLift overrides the "
            f"gradients of non-linear modules, but the gates inside the recurrent layers "
            f"{rnns} are not modules, so its numbers would be wrong; use "
            "method='integrated_gradients' (the closest path method) instead",
        )


def _deeplift(run, batch, opts) -> list[Tensor]:
    """captum's LayerDeepLift, one call per step (non-recurrent models only; not batched)."""
    from captum.attr import LayerDeepLift

    def forward(src, lens, tgt_in, tgt_out, t):
        return select(run.model(src, lens, tgt_in)[0], tgt_out, run.target)[:, t]

    base = torch.full_like(batch.src, run.ids[opts["baseline"]])
    dl = LayerDeepLift(run.model, run.src_emb)
    dl.forward_func = forward
    rows = [
        dl.attribute(
            batch.src, base, additional_forward_args=(batch.lens, batch.tgt_in, batch.tgt_out, t)
        )
        for t in range(batch.tgt_in.shape[1])
    ]
    return [torch.stack(rows)]


def _aggregate(a: Tensor, how: str) -> Tensor:
    """[..., E] -> [...]."""
    if how == "l2":
        return a.norm(dim=-1)
    if how == "sum":
        return a.abs().sum(-1)
    return a.sum(-1)


def attribute_batch(model: nn.Module, batch, method: str = "integrated_gradients", **options):
    """Attributions for one padded :class:`~attnprobe.data.Batch` (see :func:`attribute`).

    Returns
    -------
    BatchAttribution : ``(matrices, delta, source_share, gain)``, lists with one
    entry per batch row, trimmed to ``[T_i, S_i]`` / ``[T_i]``; ``delta``,
    ``source_share`` and ``gain`` are None when not computed.

    Examples
    --------
    >>> import torch
    >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
    >>> from attnprobe.data import Vocab
    >>> v = Vocab.build([["a", "b"]])
    >>> cfg = ModelConfig(len(v), len(v), attention="luong", score="general", emb_dim=4,
    ...                   enc_dim=4, hidden_dim=8)      # smooth (Bahdanau's maxout is not)
    >>> model = build_model(cfg, seed=0).double()
    >>> model.src_vocab = model.tgt_vocab = v
    >>> b = model.encode([["a", "b"], ["b"]], [["b"], ["a", "a"]])
    >>> r = attribute_batch(model, b, "integrated_gradients", n_steps=64)
    >>> [tuple(x.shape) for x in r.matrices], float(max(abs(d).max() for d in r.delta)) < 1e-4
    ([(2, 3), (3, 2)], True)
    """
    return _attribute_one(model, batch, method, options, {})


def attribute_methods(
    model: nn.Module, batch, methods: Sequence[str], **options
) -> dict[str, BatchAttribution]:
    """Several methods on one padded batch, sharing the gradients they have in common.

    The same as one :func:`attribute_batch` call per method (same ``options``
    for all), but saliency and input x gradient come from one sweep: input x
    gradient is saliency's gradient times the input.

    Returns
    -------
    ``{method: BatchAttribution}``, in the order of ``methods``.

    Examples
    --------
    >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
    >>> from attnprobe.data import Vocab
    >>> v = Vocab.build([["a", "b"]])
    >>> model = build_model(ModelConfig(len(v), len(v), emb_dim=4, enc_dim=4, hidden_dim=8), seed=0)
    >>> model.src_vocab = model.tgt_vocab = v
    >>> b = model.encode([["a", "b"], ["b"]], [["b"], ["a", "a"]])
    >>> r = attribute_methods(model, b, ["saliency", "input_x_gradient"])
    >>> [m.shape for m in r["input_x_gradient"].matrices]
    [(2, 3), (3, 2)]
    """
    methods = list(dict.fromkeys(methods))
    for method in methods:  # every name and option checked before anything runs
        _options(method, options)
    shared: dict = {}
    return {m: _attribute_one(model, batch, m, options, shared) for m in methods}


def _attribute_one(model, batch, method: str, options: dict, shared: dict) -> BatchAttribution:
    """One method on one batch; ``shared`` carries gradients between methods of one call."""
    opts = _options(method, options)
    N = batch.src.shape[0]
    if method in ("integrated_gradients", "gradient_shap") and N > 1:
        # One sentence at a time, each trimmed to its own lengths: its points already fill a
        # forward, and in a padded batch every step's backward runs over all rows up to the
        # longest target (measured 1.5x slower for 6 sentences, one thread). GradientShap
        # draws the same random points for every sentence, whatever the batch.
        parts = [attribute_batch(model, _row(batch, n), method, **options) for n in range(N)]
        return BatchAttribution(
            *(None if parts[0][k] is None else [p[k][0] for p in parts] for k in range(4))
        )
    b = _Batch(batch.src, batch.src_lens, batch.tgt_in, batch.tgt_out, batch.tgt_lens)
    run = Runner(model, opts["target"], opts["target_share"], opts["vectorize"])
    delta = gain = None
    with eval_mode(model):
        if method == "integrated_gradients":
            attrs, delta, gain = _integrated_gradients(run, b, opts)
        elif method == "gradient_shap":
            attrs = _gradient_shap(run, b, opts)
        elif method in ("saliency", "input_x_gradient"):
            attrs = _plain_gradients(run, b, method == "input_x_gradient", shared)
        elif method == "deeplift":
            _check_deeplift(model)
            attrs = _deeplift(run, b, opts)
        else:
            attrs = [_occlusion(run, b, opts)[..., None]]
    agg = [
        _aggregate(a, opts["aggregate"] if method != "occlusion" else "signed_sum") for a in attrs
    ]  # each [T, N, L]
    share = None
    if len(agg) == 2:
        src_mass = agg[0].abs().sum(-1)
        share = src_mass / (src_mass + agg[1].abs().sum(-1)).clamp_min(1e-30)  # [T, N]
    S_lens, T_lens = b.lens.tolist(), b.tgt_lens.tolist()
    matrices = [
        agg[0][:t, n, :s].detach().cpu().numpy()
        for n, (s, t) in enumerate(zip(S_lens, T_lens, strict=True))
    ]

    def per_row(x: Tensor | None) -> list[np.ndarray] | None:  # [T, N] -> [T_i] per row
        return (
            None if x is None else [x[:t, n].detach().cpu().numpy() for n, t in enumerate(T_lens)]
        )

    return BatchAttribution(matrices, per_row(delta), per_row(share), per_row(gain))


def _row(batch, n: int):
    """Row ``n`` of a padded batch, trimmed to its own source and target lengths."""
    from types import SimpleNamespace

    S, T = int(batch.src_lens[n]), int(batch.tgt_lens[n])
    return SimpleNamespace(
        src=batch.src[n : n + 1, :S],
        src_lens=batch.src_lens[n : n + 1],
        tgt_in=batch.tgt_in[n : n + 1, :T],
        tgt_out=batch.tgt_out[n : n + 1, :T],
        tgt_lens=batch.tgt_lens[n : n + 1],
    )


_DEFAULTS = {
    "target": "log_prob",
    "aggregate": "l2",
    "baseline": "pad",
    "baseline_keep": (),
    "n_steps": 50,
    "integration": "gausslegendre",
    "internal_batch_size": None,
    "n_samples": 20,
    "stdevs": 0.0,
    "seed": 0,
    "target_share": False,
    "vectorize": False,
}


def _options(method: str, options: dict) -> dict:
    if method not in METHODS:
        raise UnknownNameError("attribution method", method, METHODS)
    unknown = sorted(set(options) - set(_DEFAULTS))
    if unknown:
        raise UnknownNameError("attribution option", unknown[0], _DEFAULTS)
    opts = {**_DEFAULTS, **options}
    if opts["aggregate"] not in AGGREGATIONS:
        raise UnknownNameError("aggregation", opts["aggregate"], AGGREGATIONS)
    if opts["baseline"] not in BASELINES:
        raise UnknownNameError("baseline token", opts["baseline"], BASELINES)
    keep = opts["baseline_keep"]
    if isinstance(keep, str) or not all(isinstance(k, str) for k in keep):
        raise InputError(
            f"baseline_keep must be a sequence of special-token names, got {keep!r}",
            fix="e.g. baseline_keep=('eos',)",
        )
    for name in keep:
        if name not in SPECIALS:
            raise UnknownNameError("special token of baseline_keep", name, SPECIALS)
    opts["baseline_keep"] = tuple(keep)
    for name in ("n_steps", "n_samples"):
        if isinstance(opts[name], bool) or not isinstance(opts[name], int) or opts[name] < 1:
            raise InputError(f"{name} must be a positive integer, got {opts[name]!r}")
    if method == "integrated_gradients" and opts["n_steps"] < 2:
        raise InputError(f"integrated gradients needs n_steps >= 2, got {opts['n_steps']}")
    ibs = opts["internal_batch_size"]
    if ibs is not None and (isinstance(ibs, bool) or not isinstance(ibs, int) or ibs < 1):
        raise InputError(f"internal_batch_size must be a positive integer or None, got {ibs!r}")
    if opts["target_share"] and method in ("occlusion", "deeplift"):
        raise InputError(
            f"target_share is computed for gradient methods {_GRADIENT_METHODS}, not {method!r}"
        )
    return opts


def _signature(model, method: str, opts: dict) -> dict:
    import captum

    from attnprobe import __version__

    meta = getattr(model, "meta", None) or {}
    return {
        "attnprobe": __version__,
        "torch": torch.__version__,
        "captum": captum.__version__,
        "checkpoint": meta.get("sha256"),
        "method": method,
        **{k: v for k, v in opts.items() if k != "target_share"},
        "target_share": opts["target_share"],
    }


def attribute(
    model: nn.Module,
    corpus: ParallelCorpus,
    method: str = "integrated_gradients",
    *,
    batch_size: int = 32,
    delta_tolerance: float = 1e-2,
    **options,
) -> Attribution:
    """Attribute every target token of a teacher-forced corpus to its source tokens.

    Parameters
    ----------
    model : a reference :class:`~attnprobe.models.reference.rnn.Seq2Seq` or a model made by
        :func:`attnprobe.wrap` (with ``source_embedding``), with vocabularies.
    corpus : the sentence pairs (target = the gold translation, teacher-forced).
    method : one of :data:`METHODS` (see the module docstring).
    batch_size : sentences per forward pass.
    delta_tolerance : Integrated Gradients: log a warning when a step's
        completeness gap ``|sum(attr) - (f(x) - f(x'))|`` exceeds it (raise
        ``n_steps``, or use ``integration="gausslegendre"``).
    **options :
        ``target`` (``"log_prob"``, ``"prob"``, ``"logit"``), ``aggregate``
        over the embedding dimension (``"l2"``, ``"sum"`` of absolute values,
        ``"signed_sum"``; occlusion is a scalar per token and ignores it),
        ``baseline`` (``"pad"`` or ``"unk"``: the baseline embedding of IG and
        GradientShap, the replacement token of occlusion), ``baseline_keep``
        (IG and GradientShap: names of special tokens, e.g. ``("eos",)``, whose
        positions keep their own embedding in the baseline; inseq's default
        baseline keeps EOS), ``n_steps`` and
        ``integration`` (IG), ``internal_batch_size`` (most forward rows per
        pass, i.e. sentences x interpolation points, like captum's),
        ``n_samples``, ``stdevs`` and ``seed`` (GradientShap), ``target_share``
        (also attribute to the decoder-input embeddings; gives ``source_share``),
        ``vectorize`` (models made by :func:`attnprobe.wrap`: the per-step
        backward as one vmap instead of a loop over steps from the shared
        forward; reference models always use the decoder sweep; see the module
        docstring).

    Returns
    -------
    Attribution : one ``[T_i, S_i]`` matrix per sentence, in corpus order.

    Raises
    ------
    AttributionError : ``deeplift`` on a recurrent model; an embedding that is
        not an ``nn.Embedding``.
    UnknownNameError : an unknown method, target, aggregation or option.

    Examples
    --------
    >>> import attnprobe
    >>> from attnprobe.models.reference.rnn import ModelConfig
    >>> from attnprobe.models.reference.train import TrainConfig, train
    >>> data = attnprobe.ParallelCorpus([["a", "b"], ["b"]] * 4, [["x", "y"], ["y"]] * 4)
    >>> cfg = ModelConfig(src_vocab=6, tgt_vocab=6, emb_dim=4, enc_dim=4, hidden_dim=8)
    >>> model = train(cfg, data, data, TrainConfig(max_steps=2), progress=False).model
    >>> att = attribute(model, data, "saliency")
    >>> len(att), att.matrices[0].shape      # 2 words + EOS on both sides
    (8, (3, 3))
    """
    opts = _options(method, options)
    check_model(model)
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    n = len(corpus)
    matrices: list = [None] * n
    deltas: list | None = [None] * n if method == "integrated_gradients" else None
    shares: list | None = [None] * n if opts["target_share"] else None
    gains: list | None = [None] * n if method == "integrated_gradients" else None
    for batch in model_batches(model, corpus, batch_size):
        part = attribute_batch(model, batch, method, **opts)
        for row, i in enumerate(batch.index.tolist()):
            matrices[i] = part.matrices[row]
            for whole, got in (
                (deltas, part.delta),
                (shares, part.source_share),
                (gains, part.gain),
            ):
                if whole is not None:
                    whole[i] = got[row]
    result = Attribution(
        method,
        opts["target"],
        opts["aggregate"],
        matrices,
        deltas,
        shares,
        gains,
        params={**opts, "batch_size": batch_size},
        signature=_signature(model, method, opts),
    )
    worst = result.max_delta
    if worst is not None and worst > delta_tolerance:
        log.warning(
            "integrated gradients: completeness gap up to %.3g (tolerance %.3g); the gaps add up "
            "to %.1f%% of all f(x) - f(x'); raise n_steps (now %d)",
            worst,
            delta_tolerance,
            100 * (result.relative_delta or 0.0),
            opts["n_steps"],
        )
    return result

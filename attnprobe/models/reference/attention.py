"""Attention score functions and the attention module that uses them.

The score functions are the ones of Bahdanau et al. (2015) and Luong et al.
(2015). For a query ``q`` (a decoder state) and keys ``h_s`` (encoder states):

===========  ==========================================  ============================
name         score(q, h_s)                               parameters
===========  ==========================================  ============================
dot          q^T h_s                                     none
general      q^T W_a h_s                                 W_a
concat       v_a^T tanh(W_a [q; h_s])                    W_a, v_a (a vector)
additive     v^T tanh(W q + U h_s)  (Bahdanau)            W, U, v
location     (W_a q)_s, no dependence on h_s             W_a (one row per position)
===========  ==========================================  ============================

``concat`` and ``additive`` are the same function: splitting ``W_a`` into the
columns that multiply ``q`` and those that multiply ``h_s`` gives
``W_a [q; h_s] = W q + U h_s``. They differ in the *query* the decoder passes:
Bahdanau's decoder scores with the previous state ``s_{t-1}`` before its RNN
update, Luong's with the current ``h_t`` after it (see :mod:`attnprobe.models.reference.rnn`).

Every score function splits into ``prepare(keys)`` (work that depends only on
the source, done once per sentence: ``U h_s`` for additive, ``W_a h_s`` for
general) and ``forward(query, prepared)`` (once per target step).

:class:`Attention` turns scores into weights and a context vector and exposes
its intermediate tensors as identity :class:`HookPoint` modules, so that
``attnprobe.capture`` can read and replace them without touching the maths::

    self.hook_scores   # [B, S]  scores, -inf at padding (and outside local windows)
    self.hook_weights  # [B, S]  the attention distribution a_t
    self.hook_context  # [B, D]  c_t = sum_s a_t(s) h_s

Replacing the output of ``hook_weights`` changes the context and therefore the
model's prediction: the context is computed from what the hook returns.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "HookPoint",
    "DotScore",
    "GeneralScore",
    "AdditiveScore",
    "LocationScore",
    "SCORES",
    "MODES",
    "Memory",
    "Attention",
    "make_score",
]


class HookPoint(nn.Module):
    """An identity module: a named place where capture can read or replace a tensor.

    Examples
    --------
    >>> import torch
    >>> HookPoint()(torch.ones(2)).tolist()
    [1.0, 1.0]
    """

    def forward(self, x: Tensor) -> Tensor:
        return x


def _dot(query: Tensor, prepared: Tensor) -> Tensor:
    """``q . p_s`` for every source position: [B, D] x [B, S, D] -> [B, S].

    A product and a sum rather than ``torch.bmm(prepared, query[..., None])``:
    on CPU that matrix-vector bmm took 784 us forward + backward against 264 us
    (B = 50, S = 21, D = 96), which made attribution's per-step backward slow.
    """
    return (prepared * query.unsqueeze(1)).sum(-1)


class _WeightsGrad(torch.autograd.Function):
    """``bmm(g [B, 1, D], keys^T)`` -> ``[B, S]``: the context's gradient to the weights.

    Under ``torch.func.vmap`` (attribution's per-step backward runs one backward per
    row of cotangents) the rows of ``g`` fold into the matrix rows of one ``bmm``;
    the stock batching rule of ``bmm`` copied ``keys`` once per row instead (measured
    9.1 ms against 3.1 ms for the whole context backward, 16 rows, B = 50, S = 26,
    D = 96, one thread).
    """

    @staticmethod
    def forward(g: Tensor, keys: Tensor) -> Tensor:
        return torch.bmm(g.unsqueeze(1), keys.transpose(1, 2)).squeeze(1)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        pass

    @staticmethod
    def vmap(info, in_dims, g: Tensor, keys: Tensor):
        g_dim, keys_dim = in_dims
        if keys_dim is not None or g_dim is None:  # batched keys: the plain broadcast
            n = info.batch_size
            g = g.movedim(g_dim, 0) if g_dim is not None else g.expand(n, *g.shape)
            keys = (
                keys.movedim(keys_dim, 0) if keys_dim is not None else keys.expand(n, *keys.shape)
            )
            return torch.matmul(g.unsqueeze(-2), keys.transpose(-1, -2)).squeeze(-2), 0
        return torch.bmm(g.movedim(g_dim, 1), keys.transpose(1, 2)), 1  # [B, rows, S]


class _Context(torch.autograd.Function):
    """``c = sum_s a_s h_s`` as ``bmm(weights [B, 1, S], keys)``, with a backward that
    batches well under ``torch.func.vmap`` (see :class:`_WeightsGrad`); the forward is
    the same ``bmm``."""

    generate_vmap_rule = True  # vmapped forwards (e.g. torch.func.jacrev) batch as usual

    @staticmethod
    def forward(weights: Tensor, keys: Tensor) -> Tensor:
        return torch.bmm(weights.unsqueeze(1), keys).squeeze(1)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, grad: Tensor):
        weights, keys = ctx.saved_tensors
        grad_w = _WeightsGrad.apply(grad, keys) if ctx.needs_input_grad[0] else None
        # the outer product a_s g: one product per element, as bmm's k = 1 computes it
        grad_k = weights.unsqueeze(2) * grad.unsqueeze(1) if ctx.needs_input_grad[1] else None
        return grad_w, grad_k


def _context(weights: Tensor, keys: Tensor) -> Tensor:
    """``[B, S] x [B, S, D] -> [B, D]``; with a graph, through :class:`_Context`."""
    if torch.is_grad_enabled() and (weights.requires_grad or keys.requires_grad):
        return _Context.apply(weights, keys)
    return torch.bmm(weights.unsqueeze(1), keys).squeeze(1)


class DotScore(nn.Module):
    """Luong ``dot``: ``score(q, h_s) = q^T h_s``. No parameters; needs ``dim(q) == dim(h_s)``.

    Examples
    --------
    >>> import torch
    >>> s = DotScore(2, 2)
    >>> s(torch.tensor([[1., 2.]]), s.prepare(torch.tensor([[[1., 0.], [0., 1.]]]))).tolist()
    [[1.0, 2.0]]
    """

    def __init__(self, query_dim: int, key_dim: int, max_len: int = 0, attn_dim: int = 0):
        super().__init__()
        if query_dim != key_dim:
            raise InputError(
                f"dot attention needs equal query and key sizes, got {query_dim} and {key_dim}",
                fix="use the 'general' score or make the encoder output size equal the decoder's",
            )

    def prepare(self, keys: Tensor) -> Tensor:
        return keys  # [B, S, D]

    def forward(self, query: Tensor, prepared: Tensor) -> Tensor:
        return _dot(query, prepared)


class GeneralScore(nn.Module):
    """Luong ``general``: ``score(q, h_s) = q^T W_a h_s`` (a learnable weighted dot product).

    Examples
    --------
    >>> import torch
    >>> s = GeneralScore(2, 2)
    >>> with torch.no_grad(): _ = s.W_a.weight.copy_(torch.tensor([[2., 0.], [0., 3.]]))
    >>> s(torch.tensor([[1., 1.]]), s.prepare(torch.tensor([[[1., 0.], [0., 1.]]]))).tolist()
    [[2.0, 3.0]]
    """

    def __init__(self, query_dim: int, key_dim: int, max_len: int = 0, attn_dim: int = 0):
        super().__init__()
        self.W_a = nn.Linear(key_dim, query_dim, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.W_a(keys)  # [B, S, Dq]

    def forward(self, query: Tensor, prepared: Tensor) -> Tensor:
        return _dot(query, prepared)


class AdditiveScore(nn.Module):
    """Bahdanau ``additive`` = Luong ``concat``: ``v^T tanh(W q + U h_s)``.

    A one-hidden-layer network of width ``attn_dim`` whose output layer is the
    *vector* ``v``. ``W`` has no bias, ``U`` carries the hidden layer's bias.

    Examples
    --------
    >>> import torch
    >>> s = AdditiveScore(1, 1, attn_dim=1)
    >>> with torch.no_grad():
    ...     _ = s.W.weight.fill_(1.); _ = s.U.weight.fill_(1.); _ = s.U.bias.zero_()
    ...     _ = s.v.weight.fill_(2.)
    >>> out = s(torch.tensor([[0.5]]), s.prepare(torch.tensor([[[0.], [1.]]])))
    >>> [round(x, 4) for x in out[0].tolist()]  # 2 tanh(0.5), 2 tanh(1.5)
    [0.9242, 1.8103]
    """

    def __init__(self, query_dim: int, key_dim: int, max_len: int = 0, attn_dim: int = 0):
        super().__init__()
        attn_dim = attn_dim or query_dim
        self.W = nn.Linear(query_dim, attn_dim, bias=False)
        self.U = nn.Linear(key_dim, attn_dim, bias=True)
        self.v = nn.Linear(attn_dim, 1, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.U(keys)  # [B, S, A]

    def forward(self, query: Tensor, prepared: Tensor) -> Tensor:
        # in place: one [B, S, A] buffer a step instead of two (the same numbers); on a
        # long batch the second one fragmented the heap by ~20 MB over the decoder's steps
        hidden = torch.tanh_(prepared + self.W(query).unsqueeze(1))  # [B, S, A]
        return self.v(hidden).squeeze(2)  # [B, S]


class LocationScore(nn.Module):
    """Luong ``location``: ``a_t = softmax(W_a h_t)``, scores from the query alone.

    ``W_a`` has one output per source position up to ``max_len``; positions past
    the sentence end are masked by :class:`Attention`. A source longer than
    ``max_len`` is an error (it cannot be scored), never silently cut.

    Examples
    --------
    >>> import torch
    >>> s = LocationScore(1, 1, max_len=3)
    >>> with torch.no_grad(): _ = s.W_a.weight.copy_(torch.tensor([[1.], [2.], [3.]]))
    >>> s(torch.tensor([[1.]]), s.prepare(torch.zeros(1, 2, 1))).tolist()
    [[1.0, 2.0]]
    """

    def __init__(self, query_dim: int, key_dim: int, max_len: int = 0, attn_dim: int = 0):
        super().__init__()
        if max_len <= 0:
            raise InputError("location attention needs max_src_len > 0", fix="set max_src_len")
        self.max_len = max_len
        self.W_a = nn.Linear(query_dim, max_len, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        S = keys.shape[1]
        if self.max_len < S:
            raise InputError(
                f"source of {S} positions is longer than this location-attention model's "
                f"maximum of {self.max_len}",
                fix="drop or split longer sentences; location scores exist only up to max_src_len",
            )
        return keys.new_empty(keys.shape[0], S, 0)  # only S matters: [B, S, 0]

    def forward(self, query: Tensor, prepared: Tensor) -> Tensor:
        return self.W_a(query)[:, : prepared.shape[1]]  # [B, S]


# registry: score name -> class (plain dict; CLI choices read from it)
SCORES: dict[str, type[nn.Module]] = {
    "dot": DotScore,
    "general": GeneralScore,
    "concat": AdditiveScore,
    "additive": AdditiveScore,
    "location": LocationScore,
}

#: global attention, or Luong's local attention with a monotonic (m) or predicted (p) centre
MODES = ("global", "local-m", "local-p")


def make_score(
    name: str, query_dim: int, key_dim: int, max_len: int = 0, attn_dim: int = 0
) -> nn.Module:
    """Build a score function by name (see :data:`SCORES`).

    ``max_len`` is used by ``location``, ``attn_dim`` (0: query size) by the
    additive/concat hidden layer; other scores ignore them.

    Examples
    --------
    >>> type(make_score("general", 4, 4)).__name__
    'GeneralScore'
    >>> make_score("genral", 4, 4)
    Traceback (most recent call last):
    ...
    attnprobe.errors.UnknownNameError: unknown score function 'genral'; did you mean 'general'? ...
    """
    if name not in SCORES:
        raise UnknownNameError("score function", name, SCORES)
    return SCORES[name](query_dim, key_dim, max_len=max_len, attn_dim=attn_dim)


class Memory(NamedTuple):
    """What the decoder attends to: the encoder states of a batch, prepared once.

    ``keys`` [B, S, D] encoder states; ``prepared`` [B, S, *] the score
    function's per-source precomputation; ``mask`` [B, S] True at real tokens;
    ``lengths`` [B] number of real source positions.
    """

    keys: Tensor
    prepared: Tensor
    mask: Tensor
    lengths: Tensor

    def select(self, index: Tensor) -> Memory:
        """Rows ``index`` of every tensor (for beam search).

        Examples
        --------
        >>> import torch
        >>> m = Memory(torch.zeros(2, 3, 1), torch.zeros(2, 3, 1), torch.ones(2, 3, dtype=bool),
        ...            torch.tensor([3, 2]))
        >>> m.select(torch.tensor([1, 1, 0])).lengths.tolist()
        [2, 2, 3]
        """
        return Memory(*(t.index_select(0, index) for t in self))


class Attention(nn.Module):
    """Score, mask, normalise and average: ``c_t = sum_s a_t(s) h_s``.

    Parameters
    ----------
    score : a score module (see :data:`SCORES`).
    mode : ``"global"`` (all source positions), ``"local-m"`` (window
        ``[t - D, t + D]``, Luong's monotonic alignment ``p_t = t``) or
        ``"local-p"`` (predicted centre ``p_t = S * sigmoid(v_p^T tanh(W_p h_t))``,
        weights multiplied by ``exp(-(s - p_t)^2 / (2 sigma^2))`` with ``sigma = D/2``).
    window : D, the half-width of a local window.
    query_dim : size of the query (needed by local-p's position predictor).

    Shapes: ``query`` [B, Dq] -> ``context`` [B, D], ``weights`` [B, S].

    Global and local-m weights sum to 1 over the valid positions; local-p
    weights, as in Luong et al. (2015, eq. 10), are the windowed softmax times
    the Gaussian and sum to at most 1 (no renormalisation).

    Examples
    --------
    >>> import torch
    >>> attn = Attention(DotScore(2, 2))
    >>> keys = torch.tensor([[[1., 0.], [0., 1.], [9., 9.]]])
    >>> mem = attn.prepare(keys, torch.tensor([2]))
    >>> ctx, w = attn(torch.tensor([[0., 0.]]), mem)
    >>> w.tolist(), ctx.tolist()   # equal scores -> uniform over the 2 real positions
    ([[0.5, 0.5, 0.0]], [[0.5, 0.5]])
    """

    def __init__(self, score: nn.Module, mode: str = "global", window: int = 5, query_dim: int = 0):
        super().__init__()
        if mode not in MODES:
            raise UnknownNameError("attention mode", mode, MODES)
        if mode != "global" and window < 1:
            raise InputError(f"local attention needs a window D >= 1, got {window}")
        self.score = score
        self.mode = mode
        self.window = window
        if mode == "local-p":
            self.W_p = nn.Linear(query_dim, query_dim, bias=False)
            self.v_p = nn.Linear(query_dim, 1, bias=False)
        self.hook_scores = HookPoint()  # [B, S]
        self.hook_weights = HookPoint()  # [B, S]
        self.hook_context = HookPoint()  # [B, D]

    def prepare(self, keys: Tensor, lengths: Tensor) -> Memory:
        """Precompute what depends only on the source. ``keys`` [B, S, D], ``lengths`` [B]."""
        B, S, _ = keys.shape
        mask = torch.arange(S, device=keys.device).unsqueeze(0) < lengths.unsqueeze(1)  # [B, S]
        return Memory(keys, self.score.prepare(keys), mask, lengths)

    def forward(self, query: Tensor, memory: Memory, step: int = 0) -> tuple[Tensor, Tensor]:
        scores = self.score(query, memory.prepared)  # [B, S]
        valid = memory.mask
        gauss = None
        if self.mode != "global":
            centre = self._centre(query, memory.lengths, step)  # [B], float
            positions = torch.arange(scores.shape[1], device=scores.device, dtype=scores.dtype)
            distance = positions.unsqueeze(0) - centre.unsqueeze(1)  # [B, S]
            valid = valid & (distance.abs() <= self.window)
            if self.mode == "local-p":
                sigma = self.window / 2.0
                gauss = torch.exp(-(distance**2) / (2 * sigma**2))
        scores = self.hook_scores(scores.masked_fill(~valid, -math.inf))
        weights = torch.softmax(scores, dim=-1)  # [B, S]
        if gauss is not None:
            weights = weights * gauss
        weights = self.hook_weights(weights)
        context = self.hook_context(_context(weights, memory.keys))
        return context, weights

    def _centre(self, query: Tensor, lengths: Tensor, step: int) -> Tensor:
        """Window centre p_t per sentence: t (local-m) or predicted (local-p)."""
        last = (lengths - 1).to(query.dtype)  # [B]
        if self.mode == "local-m":
            # p_t = t; kept inside the sentence so that the window is never empty
            return torch.clamp(torch.full_like(last, float(step)), max=last)
        predicted = torch.sigmoid(self.v_p(torch.tanh(self.W_p(query)))).squeeze(1)  # [B]
        # p_t in [0, S-1]: the paper's S * sigmoid(.) for 0-based positions
        return last * predicted

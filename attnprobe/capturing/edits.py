"""Capture edits: pure functions that replace attention weights (or any module's output).

An edit is any callable ``edit(weights, info) -> weights``. ``capture(model,
edits={site: edit})`` calls it on every call of the site with the weights in
the canonical layout ``[B, H, Tq, S]`` (``Tq = 1`` for a per-step site: one
decoder step) and an :class:`EditInfo`; what it returns is what the model uses
from then on, so the model's output changes accordingly. Returning the very
same tensor object is the identity: the model runs exactly as without the edit.

The same callables can edit the *output of any module* (an identity hook point
such as ``decoder.hook_init``, ``decoder.attention.hook_context`` or
``encoder.hook_embeddings``): key the edit by the module path instead of an
attention site. Then ``edit(output, info)`` gets the tensor as the module
returned it (its own layout), ``info.step`` counts the module's calls, and
``info.rows`` and ``info.mask`` are None. :func:`detach` (stop the gradient on
one path) and :func:`constant` (run the model from given embeddings) are made
for this; the attention edits below assume ``[B, H, Tq, S]`` weights.

This module registers no hooks and runs no model; every edit here can be
checked on hand-made tensors.

Examples
--------
>>> import torch
>>> w = torch.tensor([[[[0.7, 0.2, 0.1, 0.0]]]])          # [B=1, H=1, Tq=1, S=4]
>>> info = EditInfo("attn", step=0, rows=slice(0, 1), mask=torch.tensor([[True] * 3 + [False]]))
>>> uniform()(w, info).flatten().tolist()               # 3 real positions, 1 padding
[0.3333333432674408, 0.3333333432674408, 0.3333333432674408, 0.0]
>>> [round(x, 4) for x in zero_topk(1)(w, info).flatten().tolist()]
[0.0, 0.6667, 0.3333, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "EditInfo",
    "Edit",
    "identity",
    "uniform",
    "permute",
    "zero_topk",
    "replace",
    "detach",
    "constant",
]


class EditInfo(NamedTuple):
    """What an edit knows about the call it edits.

    ``site`` the site's key; ``step`` the call's index in this capture (the
    decoder step of a per-step site); ``rows`` the target rows this call covers
    (``slice(t, t + 1)`` per step, ``slice(0, T)`` for a full call); ``mask``
    [B, S] bool, True at real key positions (from the source lengths when the
    capture knows them, else all True). For an output edit ``site`` is the
    module path, and ``rows`` and ``mask`` are None.
    """

    site: str
    step: int
    rows: slice | None
    mask: Tensor | None


@dataclass(frozen=True)
class Edit:
    """A named edit (the name is recorded in the Trace's metadata).

    Examples
    --------
    >>> identity().name
    'identity'
    """

    name: str
    fn: Callable[[Tensor, EditInfo], Tensor]

    def __call__(self, weights: Tensor, info: EditInfo) -> Tensor:
        return self.fn(weights, info)


def _key_mask(weights: Tensor, info: EditInfo) -> Tensor:
    """The valid-key mask broadcast to ``weights`` [B, H, Tq, S], as weights' dtype."""
    return info.mask[:, None, None, :].to(device=weights.device, dtype=weights.dtype)


def identity() -> Edit:
    """Return the weights unchanged (the same tensor object): the model runs as without edits.

    Examples
    --------
    >>> import torch
    >>> w = torch.ones(1, 1, 1, 2) / 2
    >>> identity()(w, None) is w
    True
    """
    return Edit("identity", lambda weights, info: weights)


_SUPPORTS = ("source", "nonzero")


def uniform(support: str = "source") -> Edit:
    """Uniform attention: ``1 / n`` on each of ``n`` positions, 0 elsewhere.

    Parameters
    ----------
    support : ``"source"``: the real (non-padding) key positions; ``"nonzero"``:
        the positions where the original weights are non-zero (inside a local
        window, or a causal mask).

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([[[[0.0, 0.9, 0.1]]]])
    >>> info = EditInfo("a", 0, slice(0, 1), torch.ones(1, 3, dtype=torch.bool))
    >>> uniform("nonzero")(w, info).flatten().tolist()
    [0.0, 0.5, 0.5]
    """
    if support not in _SUPPORTS:
        raise UnknownNameError("uniform support", support, _SUPPORTS)

    def edit(weights: Tensor, info: EditInfo) -> Tensor:
        if support == "source":
            keep = _key_mask(weights, info).expand_as(weights)
        else:
            keep = (weights > 0).to(weights.dtype)
        return keep / keep.sum(-1, keepdim=True).clamp_min(1)

    return Edit(f"uniform({support})", edit)


def permute(seed: int = 0) -> Edit:
    """Shuffle each sentence's weights over its real positions (Jain & Wallace, 2019).

    One random permutation per sentence and call, the same for every head and
    row of that call; deterministic for ``seed``. Padding stays at zero.

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([[[[0.5, 0.3, 0.2, 0.0]]]])
    >>> info = EditInfo("a", 0, slice(0, 1), torch.tensor([[True, True, True, False]]))
    >>> out = permute(seed=1)(w, info)
    >>> sorted(out[..., :3].flatten().tolist()) == sorted(w[..., :3].flatten().tolist())
    True
    >>> out[..., 3].item()          # padding stays
    0.0
    >>> out.flatten().tolist() != w.flatten().tolist()   # this seed moves them
    True
    """

    def edit(weights: Tensor, info: EditInfo) -> Tensor:
        gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + info.step)
        S = weights.shape[-1]
        lengths = info.mask.sum(-1).tolist()  # masks from lengths: real positions come first
        index = torch.arange(S).repeat(weights.shape[0], 1)  # [B, S]
        for b, n in enumerate(lengths):
            index[b, :n] = torch.randperm(n, generator=gen)
        index = index.to(weights.device)[:, None, None, :].expand_as(weights)
        return weights.gather(-1, index)

    return Edit(f"permute(seed={seed})", edit)


def zero_topk(k: int) -> Edit:
    """Zero the ``k`` largest weights of each row and rescale the rest to the row's mass.

    A row keeps its original total (1 for a softmax; less for local-p). A row
    with nothing left (``k`` >= its support) becomes all zeros.

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([[[[0.5, 0.25, 0.25]]]])
    >>> info = EditInfo("a", 0, slice(0, 1), torch.ones(1, 3, dtype=torch.bool))
    >>> zero_topk(1)(w, info).flatten().tolist()
    [0.0, 0.5, 0.5]
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"zero_topk needs k >= 1, got {k!r}")

    def edit(weights: Tensor, info: EditInfo) -> Tensor:
        top = weights.topk(min(k, weights.shape[-1]), dim=-1).indices
        rest = weights.scatter(-1, top, 0.0)
        left = rest.sum(-1, keepdim=True)
        scale = torch.where(left > 0, weights.sum(-1, keepdim=True) / left, torch.zeros_like(left))
        return rest * scale

    return Edit(f"zero_topk({k})", edit)


def replace(matrix: Tensor) -> Edit:
    """Use the given weights: ``[T, S]`` (every sentence), ``[B, T, S]`` or ``[B, H, T, S]``.

    Each call takes its rows (``info.rows``) of the matrix.

    Examples
    --------
    >>> import torch
    >>> m = torch.tensor([[1.0, 0.0], [0.0, 1.0]])                 # [T=2, S=2]
    >>> info = EditInfo("a", 1, slice(1, 2), torch.ones(3, 2, dtype=torch.bool))
    >>> replace(m)(torch.full((3, 1, 1, 2), 0.5), info)[:, 0, 0].tolist()
    [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]
    """
    if not isinstance(matrix, Tensor) or matrix.dim() not in (2, 3, 4):
        raise InputError(
            "replace() needs a tensor [T, S], [B, T, S] or [B, H, T, S]",
            fix="pass one attention matrix per sentence (rows: target steps)",
        )
    canon = {2: matrix[None, None], 3: matrix[:, None], 4: matrix}[matrix.dim()]

    def edit(weights: Tensor, info: EditInfo) -> Tensor:
        B, H, Tq, S = weights.shape
        rows = canon[:, :, info.rows]
        if (
            rows.shape[-1] != S
            or rows.shape[2] != Tq
            or rows.shape[0] not in (1, B)
            or rows.shape[1] not in (1, H)
        ):
            raise InputError(
                f"replace(): site {info.site!r} call {info.step} needs rows {info.rows.start}.."
                f"{info.rows.stop - 1} of a [B={B}, H={H}, T, S={S}] matrix; the matrix given "
                f"is {list(matrix.shape)}",
                fix="give one row per target step and one column per source position",
            )
        return rows.to(device=weights.device, dtype=weights.dtype).expand(B, H, Tq, S).clone()

    return Edit("replace", edit)


def detach() -> Edit:
    """Keep the values, stop the gradient: the tensor is used as a constant.

    On attention weights it blocks the gradient through the scores (the values
    ``c = sum_s a_s h_s`` stay open); as an output edit it blocks one path of
    the computation, e.g. ``edits={"decoder.hook_init": detach()}`` (the
    recurrent path from the encoder's final states) or
    ``{"decoder.attention.hook_context": detach()}`` (every step's context).

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(2, 3, requires_grad=True)
    >>> y = detach()(x * 2, None)
    >>> y.tolist()[0], y.requires_grad
    ([2.0, 2.0, 2.0], False)
    """
    return Edit("detach", lambda tensor, info: tensor.detach())


def constant(value: Tensor) -> Edit:
    """Replace the tensor by ``value`` (same shape; moved to its device and dtype).

    For running a model from given inputs, e.g. interpolated embeddings for
    Integrated Gradients: ``edits={"encoder.hook_embeddings": constant(x)}``
    with ``x`` requiring grad, then ``torch.autograd.grad(f, x)``. A ``value``
    whose shape differs from the module's output is refused by ``capture``.

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(1, 2, requires_grad=True)
    >>> out = constant(x)(torch.ones(1, 2), None)
    >>> out is x
    True
    """
    if not isinstance(value, Tensor):
        raise InputError(
            f"constant() needs a tensor, got {type(value).__name__}",
            fix="pass a torch.Tensor shaped like the module's output",
        )

    def edit(tensor: Tensor, info: EditInfo) -> Tensor:
        if value.shape != tensor.shape:
            where = "" if info is None else f" of {info.site!r} (call {info.step})"
            raise InputError(
                f"constant(): the output{where} is {list(tensor.shape)}, the value given is "
                f"{list(value.shape)}",
                fix="give a tensor of the output's shape",
            )
        return value.to(device=tensor.device, dtype=tensor.dtype)

    return Edit("constant", edit)

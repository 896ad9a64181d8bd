"""find_sites(): where a model's attention lives, found by structure, code or one run.

It composes the static evidence of :mod:`attnprobe.capturing.sites` (built-in
specs, the code of each ``forward``) with one probed run of the model
(:func:`attnprobe.capturing.hooks.probe`, the hooks removed afterwards), so that
``sites`` (what a site is) never needs ``hooks`` (how it is read).
"""

from __future__ import annotations

from attnprobe.capturing.hooks import probe
from attnprobe.capturing.sites import Candidate, _runner, candidates, find_unreadable
from attnprobe.errors import InputError

__all__ = ["find_sites", "find_unreadable"]


def find_sites(model, example=None, *, src_len: int | None = None) -> list[Candidate]:
    """List candidate attention sites of ``model``, each with a one-line reason.

    Three kinds of evidence, whatever the modules are called:

    1. Built-in specs (:data:`BUILTIN_SITES`, ``spec`` = its key) are tried on every
       module; they know the module and how to read it, and are what
       ``capture(model)`` uses without sites.
    2. Without ``example``, the code of each other module's ``forward`` (and of the
       methods it calls on ``self``) is read (``spec="code"``): a forward that
       returns a softmax result (``return context, weights``) is read there
       (``read=index``); one that computes a softmax and keeps or stores it is read
       inside the forward (``read="softmax"``). Nothing is run, so the pattern
       (per step or full), the layout and the role are assumed: check them.
    3. With ``example``, the model runs once (in ``eval()`` mode, without gradients,
       under temporary hooks that are removed afterwards, also when it raises)
       and every distribution that appears is reported (``spec="example"``):
       each softmax computed inside a module's forward (the innermost module whose
       forward was running), and each element of a module's output that is
       non-negative and sums to 1 over an axis, unless it is a tensor already
       reported. The number of calls and the shape give the pattern and layout.

    Modules that are merely named like attention (``attn``, ``attention``,
    ``align``) and for which there is no other evidence are listed with
    ``read="softmax"`` and ``spec="name"``: a guess to check. Modules that compute
    their attention in a fused kernel are not sites: :func:`find_unreadable` lists
    them.

    Parameters
    ----------
    model : a ``torch.nn.Module``.
    example : ``(args, kwargs)`` for one call ``model(*args, **kwargs)``, or a function
        of no arguments that runs the model (a decoding loop). It should run as
        the capture will: per-step modules then run more than once.
    src_len : with ``example``, the source length: only distributions over an axis
        of that size are reported (default: any axis of size 2 or more).

    Returns
    -------
    list of :class:`Candidate` ``(site, reason, spec)``, in module order.

    Raises
    ------
    InputError : an ``example`` of the wrong form, or ``src_len`` without one.

    Examples
    --------
    >>> from torch import nn
    >>> model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1,
    ...                        num_decoder_layers=1, dim_feedforward=16, batch_first=True)
    >>> for c in find_sites(model):
    ...     print(c.site.role, c.site.path)
    encoder-self encoder.layers.0.self_attn
    decoder-self decoder.layers.0.self_attn
    cross decoder.layers.0.multihead_attn

    An attention module called ``scorer`` that returns ``(context, weights)``:

    >>> import torch
    >>> class Dot(nn.Module):
    ...     def forward(self, query, keys):                   # [B, D], [B, S, D]
    ...         weights = torch.softmax((keys @ query[:, :, None])[..., 0], -1)  # [B, S]
    ...         return (weights[:, :, None] * keys).sum(1), weights
    >>> model = nn.ModuleDict({"scorer": Dot()})
    >>> [(c.site.path, c.site.read, c.spec) for c in find_sites(model)]
    [('scorer', 1, 'code')]
    >>> q, k = torch.randn(2, 4), torch.randn(2, 3, 4)
    >>> (c,) = find_sites(model, example=lambda: model["scorer"](q, k))
    >>> c.site.read, c.site.pattern, c.spec
    ('softmax', 'per_step', 'example')
    """
    if src_len is not None and (example is None or not isinstance(src_len, int) or src_len < 1):
        raise InputError(
            f"src_len={src_len!r} needs an example run and must be a positive int",
            fix="pass example=(args, kwargs) with it, or leave src_len out",
        )
    if example is None:
        return candidates(model)
    return candidates(model, probe(model, _runner(model, example), src_len=src_len))

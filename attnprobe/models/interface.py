"""The one interface through which attnprobe reaches every model family.

Everything above ``models/`` (capture, runs, pipeline, CLI) talks to a model
only through :class:`Seq2SeqModel`: it never reads a family's internals
(``model.cfg``, ``model.decoder.attention``), never assumes attnprobe's own
token ids, and never checks a model's type. A family (the reference RNNs,
:func:`attnprobe.wrap` for any ``nn.Module``, Hugging Face encoder-decoders)
is one adapter file plus one line in :data:`attnprobe.models.registry.LOADERS`.

The required part:

- ``forward(src [B, S], src_lens [B], tgt_in [B, T])`` -> an object with
  ``.logits`` [B, T, V]: one teacher-forced pass, in the model's own ids.
  Attention is read through :func:`attnprobe.capture`, never from the output.
- ``encode(src_words, tgt_words, index=None)`` -> :class:`~attnprobe.data.Batch`:
  the model's own tokenisation and ids. ``Batch.src_words`` / ``tgt_words``
  say which position holds which word (``-1``: a special token such as BOS,
  EOS, padding or a language code); a step's target position is the token it
  *outputs*.
- ``decode_ids(ids)`` -> words of a generated id sequence.
- ``greedy(src, src_lens, max_len=None)`` -> hypotheses (``.tokens``: ids).
- ``sites`` (the attention sites, see :class:`~attnprobe.capturing.sites.Site`),
  ``source_embedding`` (the module whose output is the source embeddings
  ``[B, S, E]``, for attribution), ``special_ids`` (``{"pad", "unk", "bos",
  "eos"}`` -> id of the source side), ``count_unknown(words, side)``,
  ``card()`` (the model card of the report: family, sizes, vocabulary).

Optional: ``site_root`` (the module that site paths are relative to; default the
model), ``output_layer`` (the module whose output, plus constants, is the logits:
per-step gradients then take each step's backward through its own row of it),
``encode_source(src, src_lens)`` and ``decode_states(states, src_lens, tgt_in)``
(the encoder's output states, and the logits from them: the two halves of
``forward``, which per-step attribution runs apart to run the encoder once),
``check(batch)`` (an adapter of a foreign model verifies that what
attnprobe runs reproduces the model's own log-probabilities on the run's first
batch, and raises if not) and ``token_table(side)`` (the ``"src"`` or ``"tgt"``
vocabulary's tokens by id, or None: a capture's trace spells its token rows
from it when they are read).

Optional capabilities, checked by :func:`has_capability` (never by type):

- ``"step_decoder"``: the decoder can be unrolled step by step
  (``model.encoder``, ``model.decoder.init / step``), for the attribution sweep.
- ``"recurrent_graph"``: ``model.path_lengths(S, T, attention_edges=...)`` gives
  the shortest gradient paths through the unrolled computation, and the model
  has the hook points of gradient flow (``encoder.hook_embeddings``,
  ``encoder.hook_states``, ``decoder.hook_init``).
- ``"max_source_length"``: ``model.max_source_length`` is the longest source
  the model can score (location attention), or None.
- ``"length_limit"``: ``model.too_long(src_words, tgt_words)`` says why a
  sentence pair is longer than the model reads (a Transformer's fixed table of
  position embeddings counts pieces, not words), or returns None; ``analyze``
  leaves such pairs out and lists them.
- ``"causal_decoder"``: step ``t``'s logits depend on the decoder inputs up to
  ``t`` only, so a forward over the first ``L`` decoder inputs gives the first
  ``L`` steps exactly (Transformer decoders under teacher forcing); per-step
  gradients then run each step's backward over a prefix of the decoder.

An analysis that needs a missing capability raises :class:`CapabilityError`
(one line); the pipeline reports it and runs the rest.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from attnprobe.errors import AttnprobeError

__all__ = [
    "Seq2SeqModel",
    "CAPABILITIES",
    "CapabilityError",
    "has_capability",
    "require",
    "check_model",
]


@runtime_checkable
class Seq2SeqModel(Protocol):
    """What every model family offers attnprobe (see the module docstring)."""

    sites: list
    name: str

    def __call__(self, src, src_lens, tgt_in) -> Any: ...

    def encode(self, src_words, tgt_words, index=None) -> Any: ...

    def decode_ids(self, ids) -> list[str]: ...

    def greedy(self, src, src_lens, max_len: int | None = None) -> list: ...

    @property
    def source_embedding(self) -> Any: ...

    @property
    def special_ids(self) -> dict[str, int]: ...

    def count_unknown(self, words, side: str) -> int: ...

    def card(self) -> dict: ...


REQUIRED = (
    "encode",
    "decode_ids",
    "greedy",
    "sites",
    "source_embedding",
    "special_ids",
    "count_unknown",
    "card",
)

CAPABILITIES = {
    "step_decoder": "a decoder that can be unrolled step by step (the attribution sweep)",
    "recurrent_graph": "a recurrent computation graph with gradient hook points (gradient flow)",
    "max_source_length": "a longest source length the model can score",
    "length_limit": "a check of each sentence pair against the longest input the model reads",
    "causal_decoder": "a decoder whose step t reads the decoder inputs up to t only",
}


class CapabilityError(AttnprobeError):
    """An analysis needs a capability that the model does not have."""


def has_capability(model, name: str) -> bool:
    """Does ``model`` offer the optional capability ``name`` (see :data:`CAPABILITIES`)?

    Examples
    --------
    >>> class M:
    ...     def path_lengths(self, S, T, attention_edges=True): ...
    ...     capabilities = ("recurrent_graph",)
    >>> has_capability(M(), "recurrent_graph"), has_capability(M(), "step_decoder")
    (True, False)
    """
    if name not in CAPABILITIES:
        from attnprobe.errors import UnknownNameError

        raise UnknownNameError("capability", name, CAPABILITIES)
    return name in tuple(getattr(model, "capabilities", ()))


def require(model, name: str, what: str) -> None:
    """Raise :class:`CapabilityError` when ``model`` lacks capability ``name`` needed by ``what``.

    Examples
    --------
    >>> require(object(), "recurrent_graph", "gradient flow")
    Traceback (most recent call last):
    ...
    attnprobe.models.interface.CapabilityError: gradient flow needs a recurrent computation ...
    """
    if not has_capability(model, name):
        raise CapabilityError(
            f"{what} needs {CAPABILITIES[name]}; {_name(model)} has none"
            " (this part of the analysis is skipped)"
        )


def check_model(model) -> None:
    """Raise a one-line error when ``model`` does not implement :class:`Seq2SeqModel`.

    Examples
    --------
    >>> check_model(object())
    Traceback (most recent call last):
    ...
    attnprobe.errors.InputError: object is not an attnprobe model (missing encode, ...
    """
    from attnprobe.errors import InputError

    missing = [a for a in REQUIRED if not hasattr(type(model), a) and not hasattr(model, a)]
    if missing or not callable(model):
        raise InputError(
            f"{_name(model)} is not an attnprobe model (missing {', '.join(missing)})",
            fix="load a checkpoint with attnprobe.load(path), or wrap your module with "
            "attnprobe.wrap(module, forward=..., src_vocab=..., tgt_vocab=..., sites=...)",
        )


def _name(model) -> str:
    return getattr(model, "name", None) or type(model).__name__

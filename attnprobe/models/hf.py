"""Hugging Face encoder-decoders (MarianMT, T5, BART, M2M100) behind the model interface.

:func:`load_hf` reads a local model folder (``config.json``, weights, tokenizer
files) with the hub switched off (``local_files_only=True``): a missing file is
a one-line :class:`~attnprobe.errors.InputError`, never a download.
:class:`HFSeq2Seq` holds the loaded model and gives it
:class:`~attnprobe.models.interface.Seq2SeqModel`.

Why the adapter is shaped this way:

- **Attention is read where it is computed.** Every attention module of these
  families calls one softmax inside its forward when it runs the ``"eager"``
  attention implementation, so each layer is a ``Site(..., read="softmax",
  pattern="full")``: :func:`attnprobe.capture` reads, edits and differentiates
  it like any other softmax site, and no ``output_attentions`` is needed. The
  fused kernels (``sdpa``, flash) never materialise the weights, so
  :meth:`HFSeq2Seq.forward` runs with ``"eager"`` on every config of the model
  and puts back the implementation the user loaded when it returns (also when it
  raises). The attention *mask* follows the implementation inside transformers
  (``create_bidirectional_mask`` / ``create_causal_mask`` read the same
  setting), so weights and mask always match.
- **Source embeddings are one module of their own.** The teacher-forced forward
  feeds the encoder ``inputs_embeds`` computed by :attr:`HFSeq2Seq.source_embedding`,
  an ``nn.Embedding`` that shares the encoder's weight and applies the encoder's
  own embedding scale (Marian scales ``embed_tokens(ids)`` by ``embed_scale``
  only when it embeds ids itself; BART and M2M100 scale inside the embedding
  module). Attribution replaces that module's output; the decoder's embedding
  (often the same table) is untouched.
- **Checked once.** Building an adapter runs :meth:`HFSeq2Seq.check` on a small
  padded batch: the adapter's forward (eager attention, own embeddings) must
  give the model's own log-probabilities (its own implementation, its own
  embedding of the ids) within ``1e-4``; otherwise it refuses with
  :class:`AdapterCheckError`.
- **Words.** :meth:`HFSeq2Seq.encode` tokenises each word on its own (as
  awesome-align does) and checks per sentence that the concatenated pieces are
  the model's tokenisation of the whole sentence; mismatches are counted in
  :attr:`HFSeq2Seq.tokenisation_mismatches` and shown on the model card.

``transformers`` is imported inside functions: ``import attnprobe`` never needs it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from attnprobe.capturing.sites import Site
from attnprobe.data import Batch, Vocab
from attnprobe.errors import AttnprobeError, InputError
from attnprobe.models.reference.rnn import Hypothesis, Seq2SeqOutput, decode_limit

__all__ = ["HFSeq2Seq", "AdapterCheckError", "load_hf", "is_hf_dir", "position_limit", "FAMILIES"]

log = logging.getLogger("attnprobe")

#: model_type -> the leaf names of its attention modules: cross, decoder self, encoder self
FAMILIES = {
    "marian": ("encoder_attn", "self_attn", "self_attn"),
    "bart": ("encoder_attn", "self_attn", "self_attn"),
    "m2m_100": ("encoder_attn", "self_attn", "self_attn"),
    "t5": ("EncDecAttention", "SelfAttention", "SelfAttention"),
}
_WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
CHECK_ATOL = 1e-4  # largest log-probability difference accepted by HFSeq2Seq.check


class AdapterCheckError(AttnprobeError):
    """The adapter's forward does not reproduce the model's own log-probabilities."""


def _need_transformers():
    try:
        import transformers
    except ImportError:
        raise InputError(
            "reading a Hugging Face model needs the transformers and sentencepiece packages",
            fix="pip install 'attnprobe[hf]'",
        ) from None
    return transformers


class SourceEmbedding(nn.Embedding):
    """The encoder's token embedding as the encoder applies it: ``weight[ids] * scale``.

    Shares the ``weight`` parameter of the model's own encoder embedding (no
    copy); ``scale`` is the encoder's ``embed_scale`` (1 when it has none).
    ``padding_idx`` is None: padded positions are masked by length, not by id.
    """

    def __init__(self, embedding: nn.Embedding, scale: float):
        super().__init__(*embedding.weight.shape, _weight=embedding.weight, _freeze=False)
        self.weight = embedding.weight  # the very parameter, so that it stays tied
        self.scale = float(scale)

    def forward(self, ids: Tensor) -> Tensor:  # [B, S] -> [B, S, E]
        out = F.embedding(ids, self.weight)
        return out if self.scale == 1.0 else out * self.scale


def _encoder_scale(encoder: nn.Module, embedding: nn.Module) -> float:
    """The factor by which ``encoder`` multiplies ``embedding(ids)``.

    A ``*ScaledWordEmbedding`` (BART, M2M100) scales inside the module; Marian
    and Pegasus keep ``embed_scale`` on the encoder and apply it to ids only.
    """
    inner = getattr(embedding, "embed_scale", None)
    outer = getattr(encoder, "embed_scale", None)
    scale = 1.0
    for s in (inner, outer):
        if s is not None:
            scale *= float(s)
    return scale


def position_limit(model: nn.Module) -> int | None:
    """The most positions a Hugging Face encoder-decoder's encoder and decoder read.

    ``max_position_embeddings`` for a model with a fixed table of position
    embeddings (Marian, BART: a longer sentence would index past it), else None
    (T5's relative positions, M2M100's sinusoids that grow as needed).

    Examples
    --------
    >>> import transformers
    >>> cfg = transformers.MarianConfig(vocab_size=8, pad_token_id=1, d_model=4,
    ...     encoder_layers=1, decoder_layers=1, encoder_attention_heads=1,
    ...     decoder_attention_heads=1, encoder_ffn_dim=4, decoder_ffn_dim=4,
    ...     max_position_embeddings=16, decoder_vocab_size=8)
    >>> position_limit(transformers.MarianMTModel(cfg))
    16
    """
    table = getattr(model.get_encoder(), "embed_positions", None)
    return int(model.config.max_position_embeddings) if isinstance(table, nn.Embedding) else None


def _token_list(tokenizer, size: int) -> list[str]:
    """The token of every id ``0 .. size-1`` (placeholders for ids the tokenizer lacks)."""
    tokens, seen = [], set()
    for i in range(size):
        t = tokenizer.convert_ids_to_tokens(i) if i < len(tokenizer) else None
        if t is None or t in seen:
            t = f"<id:{i}>"
        seen.add(t)
        tokens.append(t)
    return tokens


class HFSeq2Seq(nn.Module):
    """A Hugging Face encoder-decoder behind :class:`~attnprobe.models.interface.Seq2SeqModel`.

    Parameters
    ----------
    model : a loaded ``*ForConditionalGeneration`` (MarianMT, T5, BART, M2M100).
    tokenizer : its tokenizer.
    name : shown in reports and messages.
    check : run :meth:`check` now (a small padded batch of random ids).

    Attributes
    ----------
    hf : the Hugging Face model (left as loaded: mode, attention implementation).
    sites : one cross-attention site per decoder layer, ``cross.0`` .. (``[B, H, T, S]``).
    self_sites : decoder and encoder self-attention sites (``decoder-self.k``,
        ``encoder-self.k``), for ``capture(model, sites=model.sites + model.self_sites)``.
    src_vocab, tgt_vocab : :class:`~attnprobe.data.Vocab` of the model's ids (token strings).
    tokenisation_mismatches : ``{"src": [...], "tgt": [...]}`` sentence numbers whose
        per-word tokenisation differs from the sentence's own.

    Examples
    --------
    The shared trained Marian (beside the checkout; needs the [hf] extra):

    >>> import pytest, attnprobe
    >>> _ = pytest.importorskip("transformers")
    >>> model = attnprobe.load("../shared/models/marian-enfr-multi30k")
    >>> b = model.encode([["a", "man", "starring", "."]], [["un", "homme", "."]])
    >>> [model.src_vocab.tokens[i] for i in b.src[0]], b.src_words[0]
    (['▁a', '▁man', '▁star', 'r', 'ing', '▁.', '</s>'], [0, 1, 2, 2, 2, 3, -1])
    >>> [model.tgt_vocab.tokens[i] for i in b.tgt_in[0]], b.tgt_words[0]  # step t outputs
    (['<pad>', '▁un', '▁homme', '▁.'], [0, 1, 2, -1])
    >>> with attnprobe.capture(model) as cap:
    ...     logits = model(b.src, b.src_lens, b.tgt_in).logits
    >>> [tuple(cap.trace.attention[s.key].shape) for s in model.sites]   # [B, H, T, S]
    [(1, 4, 4, 7), (1, 4, 4, 7), (1, 4, 4, 7)]
    >>> model.decode_ids(model.greedy(b.src, b.src_lens)[0].tokens)
    ['un', 'homme', 'regardant', 'la', 'regarde', '.']
    """

    #: the decoders of encoder-decoder Transformers are causal under teacher forcing; a
    #: fixed table of position embeddings bounds the pieces a sentence may have
    capabilities = ("causal_decoder", "length_limit")

    def __init__(self, model: nn.Module, tokenizer, name: str | None = None, check: bool = True):
        super().__init__()
        config = model.config
        if not getattr(config, "is_encoder_decoder", False):
            raise InputError(
                f"{type(model).__name__} is not an encoder-decoder model",
                fix="give a sequence-to-sequence model (MarianMT, T5, BART, M2M100)",
            )
        self.hf = model
        self.tokenizer = tokenizer
        self.name = name or type(model).__name__
        self.meta: dict = {}
        encoder = model.get_encoder()
        embedding = encoder.get_input_embeddings()
        self.source_embedding_module = SourceEmbedding(
            embedding, _encoder_scale(encoder, embedding)
        )
        self.start_id = int(config.decoder_start_token_id)
        self.pad_token_id = int(config.pad_token_id)
        self.eos_id = int(config.eos_token_id)
        V = model.get_output_embeddings().weight.shape[0]
        tokens = _token_list(tokenizer, max(V, len(tokenizer)))
        specials = {
            "pad": tokens[self.pad_token_id],
            "unk": tokens[tokenizer.unk_token_id],
            "bos": tokens[self.start_id],
            "eos": tokens[self.eos_id],
        }
        self.src_vocab = self.tgt_vocab = Vocab(tokens, **specials)
        self.sites, self.self_sites = self._find_sites()
        self.tokenisation_mismatches: dict[str, list[int]] = {"src": [], "tgt": []}
        self._prefix = self._word_prefix()
        self._limit = position_limit(model)
        # the special pieces tokenisation adds to a sentence (language codes, EOS, ...)
        self._specials = {
            side: len(self._ids("a", side, specials=True)) - len(self._ids("a", side))
            for side in ("src", "tgt")
        }
        if check:
            self.check()

    # -- structure -------------------------------------------------------------

    def _find_sites(self) -> tuple[list[Site], list[Site]]:
        kind = self.hf.config.model_type
        if kind not in FAMILIES:
            raise InputError(
                f"model type {kind!r} has no attention spec in attnprobe",
                fix=f"use one of {', '.join(FAMILIES)}, or attnprobe.wrap with declared sites",
            )
        cross_leaf, dec_leaf, enc_leaf = FAMILIES[kind]
        paths = {m: f"hf.{p}" for p, m in self.hf.named_modules()}
        found: dict[str, list[str]] = {"cross": [], "decoder-self": [], "encoder-self": []}
        for side, roles in (
            (self.hf.get_decoder(), (("cross", cross_leaf), ("decoder-self", dec_leaf))),
            (self.hf.get_encoder(), (("encoder-self", enc_leaf),)),
        ):
            for p, m in side.named_modules():
                leaf = p.rsplit(".", 1)[-1]
                for role, want in roles:
                    if leaf == want:
                        found[role].append(paths[m])
        if not found["cross"]:
            raise InputError(f"no cross-attention modules named {cross_leaf!r} in {self.name}")

        def sites(role: str) -> list[Site]:
            return [
                Site(p, read="softmax", pattern="full", role=role, name=f"{role}.{k}")
                for k, p in enumerate(found[role])
            ]

        return sites("cross"), sites("decoder-self") + sites("encoder-self")

    @property
    def source_embedding(self) -> nn.Module:
        """The module whose output is the source embeddings [B, S, E] the encoder reads."""
        return self.source_embedding_module

    @property
    def output_layer(self) -> nn.Module:
        """The module whose output, plus constants (a bias), is the logits: the LM head."""
        return self.hf.get_output_embeddings()

    @property
    def special_ids(self) -> dict[str, int]:
        """``pad``, ``unk``, ``bos`` (the decoder start) and ``eos`` ids."""
        v = self.src_vocab
        return {"pad": v.pad_id, "unk": v.unk_id, "bos": v.bos_id, "eos": v.eos_id}

    def card(self) -> dict:
        """The report's model card: family, architecture, sizes, vocabulary, sites."""
        cfg = self.hf.config
        return {
            "name": self.name,
            "family": "huggingface",
            "arch": cfg.model_type,
            "class": type(self.hf).__name__,
            "parameters": sum(p.numel() for p in self.hf.parameters()),
            "layers": len(self.sites),
            "heads": getattr(cfg, "decoder_attention_heads", None)
            or getattr(cfg, "num_heads", None),
            "src_vocab": len(self.src_vocab),
            "tgt_vocab": len(self.tgt_vocab),
            "sites": [s.key for s in self.sites],
            "attn_implementation": cfg._attn_implementation,
            "tokenisation_mismatches": {k: len(v) for k, v in self.tokenisation_mismatches.items()},
            "sha256": self.meta.get("sha256"),
        }

    # -- running -----------------------------------------------------------------

    @contextlib.contextmanager
    def eager_attention(self) -> Iterator[None]:
        """Run every attention module with the ``"eager"`` implementation, then restore.

        Every config object of the model (T5 keeps one per stack) is switched
        and put back in ``finally``.
        """
        configs = {id(c): c for m in self.hf.modules() if (c := getattr(m, "config", None))}
        configs = [c for c in configs.values() if hasattr(c, "_attn_implementation")]
        before = [c._attn_implementation for c in configs]
        try:
            for c in configs:
                c._attn_implementation = "eager"
            yield
        finally:
            for c, impl in zip(configs, before, strict=True):
                c._attn_implementation = impl

    def forward(self, src: Tensor, src_lens: Tensor, tgt_in: Tensor) -> Seq2SeqOutput:
        """Teacher-forced pass: logits [B, T, V] from ``src`` [B, S], ``src_lens`` [B],
        ``tgt_in`` [B, T] (decoder start token first). Attention is read with capture."""
        mask = _src_mask(src, src_lens)
        x = self.source_embedding_module(src)  # [B, S, E]
        with self.eager_attention():
            out = self.hf(
                inputs_embeds=x,
                attention_mask=mask,
                decoder_input_ids=tgt_in,
                use_cache=False,
                return_dict=True,
            )
        return Seq2SeqOutput(out.logits, None)

    def encode_source(self, src: Tensor, src_lens: Tensor) -> Tensor:
        """The encoder's output states [B, S, H] (eager attention), from the source
        embeddings of :attr:`source_embedding` -- an output edit on that module acts here.

        With :meth:`decode_states`, the two halves of :meth:`forward`: per-step
        attribution runs the encoder once and the decoder on several prefixes.

        Examples
        --------
        >>> # states = model.encode_source(batch.src, batch.src_lens)
        >>> # logits = model.decode_states(states, batch.src_lens, batch.tgt_in).logits
        """
        mask = _src_mask(src, src_lens)
        x = self.source_embedding_module(src)
        with self.eager_attention():
            out = self.hf.get_encoder()(inputs_embeds=x, attention_mask=mask, return_dict=True)
        return out.last_hidden_state

    def decode_states(self, states: Tensor, src_lens: Tensor, tgt_in: Tensor) -> Seq2SeqOutput:
        """Teacher-forced logits [B, T, V] from encoder output ``states`` [B, S, H]
        (:meth:`encode_source`): the decoder half of :meth:`forward`, the same numbers."""
        from transformers.modeling_outputs import BaseModelOutput

        mask = _src_mask(states[..., 0], src_lens)
        with self.eager_attention():
            out = self.hf(
                encoder_outputs=BaseModelOutput(last_hidden_state=states),
                attention_mask=mask,
                decoder_input_ids=tgt_in,
                use_cache=False,
                return_dict=True,
            )
        return Seq2SeqOutput(out.logits, None)

    def pad_id(self, side: str) -> int:
        """The id that pads ``side`` ("src" or "tgt"): the model's padding id, except on
        the decoder input when the decoder starts with it (Marian, T5): there EOS pads,
        which no real decoder input holds. (The decoder is causal: what follows the
        real steps never changes them.)"""
        if side == "tgt" and self.start_id == self.pad_token_id:
            return self.eos_id
        return self.pad_token_id

    def token_strings(self, ids: Sequence[int], side: str) -> list[str]:
        """The tokens of ``ids`` as the tokenizer spells them (specials included)."""
        vocab = self.src_vocab if side == "src" else self.tgt_vocab
        return [vocab.tokens[int(i)] for i in ids]

    def token_table(self, side: str) -> Sequence[str]:
        """The ``side`` vocabulary's tokens by id (what :meth:`token_strings` reads; a
        capture keeps this list, not the model)."""
        return (self.src_vocab if side == "src" else self.tgt_vocab).tokens

    @torch.no_grad()
    def check(self, batch: Batch | None = None, atol: float = CHECK_ATOL) -> float:
        """Does :meth:`forward` give the model's own log-probabilities? Returns the largest gap.

        Compares, on the real target steps of ``batch`` (default: two random
        sentences of different lengths, so that padding and masks are exercised),
        the adapter's log-probabilities with those of the model's own forward
        (its own attention implementation, its own embedding of the ids):
        ``|own - mine| / (1 + |own|)`` must stay within ``atol`` everywhere.

        Raises
        ------
        AdapterCheckError : a gap above ``atol``.
        """
        if batch is None:
            batch = self._probe_batch()
        flags = [(m, m.training) for m in self.modules()]
        self.eval()
        try:
            mask = _src_mask(batch.src, batch.src_lens)
            own = self.hf(
                input_ids=batch.src, attention_mask=mask, decoder_input_ids=batch.tgt_in
            ).logits
            mine = self(batch.src, batch.src_lens, batch.tgt_in).logits
        finally:
            for m, t in flags:
                m.train(t)
        steps = torch.arange(batch.tgt_in.shape[1])[None, :] < batch.tgt_lens[:, None]  # [B, T]
        own, mine = own.log_softmax(-1)[steps], mine.log_softmax(-1)[steps]  # [N, V]
        # float32 rounding grows with the size of a log-probability: allow atol per unit
        gap = ((own - mine).abs() / (1 + own.abs())).max()
        worst = float(gap) if own.numel() else 0.0
        if not worst <= atol:
            raise AdapterCheckError(
                f"{self.name}: the captured forward gives log-probabilities up to {worst:.3g} "
                f"(relative to 1 + |log p|) away from the model's own forward (allowed "
                f"{atol:g}); attnprobe cannot measure this model faithfully (fix: report it "
                "with the model's config; check its embedding scale and attention implementation)"
            )
        return worst

    def _probe_batch(self) -> Batch:
        g = torch.Generator().manual_seed(0)
        specials = set(self.tokenizer.all_special_ids) | {self.pad_token_id, self.start_id}
        pool = torch.tensor([i for i in range(min(len(self.tokenizer), 500)) if i not in specials])
        S, T = 7, 6
        src = pool[torch.randint(len(pool), (2, S), generator=g)]
        src[:, -1] = self.eos_id
        src[1, 4] = self.eos_id
        src[1, 5:] = self.pad_id("src")
        tgt = pool[torch.randint(len(pool), (2, T), generator=g)]
        tgt[:, 0] = self.start_id
        tgt[1, 3:] = self.pad_id("tgt")
        lens = torch.tensor([S, 5])
        tgt_lens = torch.tensor([T, 3])
        return Batch(src, lens, tgt, None, tgt_lens, torch.arange(2))

    @torch.no_grad()
    def greedy(self, src: Tensor, src_lens: Tensor, max_len: int | None = None) -> list[Hypothesis]:
        """Greedy decoding with the model's ``generate`` (one beam, no sampling).

        ``max_len`` defaults to twice the longest source plus 10 steps. Tokens
        exclude the decoder start and EOS; the score is the sum of the
        log-probabilities of the chosen tokens.
        """
        max_len = max_len or decode_limit(src_lens)
        mask = _src_mask(src, src_lens)
        flags = [(m, m.training) for m in self.modules()]
        self.eval()
        try:
            with self.eager_attention():  # capture and edits need a materialised softmax
                out = self.hf.generate(
                    input_ids=src,
                    attention_mask=mask,
                    num_beams=1,
                    do_sample=False,
                    max_new_tokens=max_len,
                    output_logits=True,
                    return_dict_in_generate=True,
                )
        finally:
            for m, t in flags:
                m.train(t)
        steps = out.sequences[:, 1:]  # [B, L] without the decoder start
        logp = torch.stack(out.logits, 1).log_softmax(-1).gather(2, steps[..., None])[..., 0]
        hyps = []
        for row, lp in zip(steps.tolist(), logp.tolist(), strict=True):
            n = row.index(self.eos_id) if self.eos_id in row else len(row)
            hyps.append(Hypothesis(row[:n], None, float(sum(lp[: n + 1 if n < len(row) else n]))))
        return hyps

    def decode_ids(self, ids) -> list[str]:
        """The words of generated ids (up to the first EOS, special tokens dropped)."""
        ids = [int(i) for i in ids]
        if self.eos_id in ids:
            ids = ids[: ids.index(self.eos_id)]
        return self.tokenizer.decode(ids, skip_special_tokens=True).split()

    # -- tokenisation ------------------------------------------------------------

    def _ids(self, text: str, side: str, specials: bool = False) -> list[int]:
        tok = self.tokenizer
        kwargs = {"text_target": text} if side == "tgt" else {"text": text}
        # verbose=False: a sentence over the tokenizer's own length is not an error here
        return list(tok(**kwargs, add_special_tokens=specials, verbose=False)["input_ids"])

    def _word_prefix(self) -> str:
        """``""`` when words tokenise alone as inside a sentence (SentencePiece), ``" "``
        when a word after a space needs that space (byte-level BPE's ``Ġ``)."""
        a, b = self._ids("house", "src"), self._ids("garden", "src")
        whole = self._ids("house garden", "src")
        if whole == a + b:
            return ""
        if whole == a + self._ids(" garden", "src"):
            return " "
        return ""

    def _pieces(self, words: Sequence[str], side: str) -> tuple[list[int], list[int], bool]:
        """Ids with specials, the word of each id (-1: special), and whether the per-word
        pieces equal the sentence's own tokenisation."""
        ids, owner = [], []
        for k, w in enumerate(words):
            piece = self._ids((self._prefix if k else "") + w, side)
            ids += piece
            owner += [k] * len(piece)
        text = " ".join(words)
        full = self._ids(text, side, specials=True)
        bare = self._ids(text, side)
        start = _find(full, bare)
        if start is None:  # the specials could not be located: specials at the end
            start, bare = 0, []
        prefix, suffix = full[:start], full[start + len(bare) :]
        return prefix + ids + suffix, [-1] * len(prefix) + owner + [-1] * len(suffix), ids == bare

    def too_long(self, src: Sequence[str], tgt: Sequence[str]) -> str | None:
        """Why the pair ``src``, ``tgt`` (words) has more pieces than the model's position
        table reads, or None when it fits (or the model has no fixed table).

        A sentence whose words could not make more pieces than the table holds
        (at most one piece per UTF-8 byte and one per word boundary, plus the
        specials) is not tokenised: only long sentences are.

        Examples
        --------
        The shared trained Marian reads 256 positions (needs the [hf] extra):

        >>> import pytest, attnprobe
        >>> _ = pytest.importorskip("transformers")
        >>> model = attnprobe.load("../shared/models/marian-enfr-multi30k")
        >>> model.too_long(["starring"] * 100, ["un"])  # 3 pieces a word, and </s>
        '301 source and 2 target pieces, more than the 256 positions marian-enfr-multi30k ...'
        >>> model.too_long(["a", "man"], ["un", "homme"]) is None
        True
        """
        if self._limit is None:
            return None
        sides = {"src": src, "tgt": tgt}
        most = max(
            sum(len(w.encode("utf-8")) + 1 for w in words) + self._specials[side]
            for side, words in sides.items()
        )
        if most <= self._limit:
            return None
        n_src, n_tgt = (len(self._pieces(words, side)[0]) for side, words in sides.items())
        if max(n_src, n_tgt) <= self._limit:
            return None
        return (
            f"{n_src} source and {n_tgt} target pieces, more than the {self._limit} "
            f"positions {self.name} reads (max_position_embeddings)"
        )

    def encode(
        self,
        src_words: Sequence[Sequence[str]],
        tgt_words: Sequence[Sequence[str]],
        index: Sequence[int] | None = None,
    ) -> Batch:
        """A padded batch in the model's ids, each word tokenised on its own.

        The source is the tokenizer's input (with its specials: language codes,
        BOS, EOS); the decoder reads the decoder start token and then the
        labels, and outputs the labels (``text_target`` tokenisation with its
        specials). Sentences whose per-word pieces differ from the tokenisation
        of the whole sentence are logged and counted in
        :attr:`tokenisation_mismatches`; the per-word pieces are used.
        """
        if len(src_words) != len(tgt_words):
            raise InputError(f"{len(src_words)} source sentences but {len(tgt_words)} targets")
        index = list(range(len(src_words))) if index is None else list(index)
        limit = self._limit
        rows = []
        for n, (s, t) in enumerate(zip(src_words, tgt_words, strict=True)):
            src, sw, ok_s = self._pieces(s, "src")
            tgt, tw, ok_t = self._pieces(t, "tgt")
            for side, ok in (("src", ok_s), ("tgt", ok_t)):
                if not ok:
                    self.tokenisation_mismatches[side].append(index[n])
                    log.info(
                        "%s: %s sentence %d tokenises differently word by word",
                        self.name,
                        side,
                        index[n],
                    )
            rows.append((src, sw, tgt, tw))
            if limit is not None and max(len(src), len(tgt)) > limit:
                raise InputError(
                    f"sentence {index[n]} has {len(src)} source and {len(tgt)} target pieces, "
                    f"more than the {limit} positions {self.name} reads "
                    "(max_position_embeddings)",
                    fix="leave the longest sentences out of the corpus, or cut them",
                )
        B = len(rows)
        S = max(len(r[0]) for r in rows)
        T = max(len(r[2]) for r in rows)
        src_t = torch.full((B, S), self.pad_id("src"), dtype=torch.long)
        tgt_in = torch.full((B, T), self.pad_id("tgt"), dtype=torch.long)
        tgt_out = torch.full((B, T), self.pad_token_id, dtype=torch.long)
        for b, (src, _, tgt, _) in enumerate(rows):
            src_t[b, : len(src)] = torch.tensor(src)
            tgt_in[b, : len(tgt)] = torch.tensor([self.start_id, *tgt[:-1]])
            tgt_out[b, : len(tgt)] = torch.tensor(tgt)
        return Batch(
            src_t,
            torch.tensor([len(r[0]) for r in rows]),
            tgt_in,
            tgt_out,
            torch.tensor([len(r[2]) for r in rows]),
            torch.tensor(index),
            [r[1] for r in rows],
            [r[3] for r in rows],
        )

    def count_unknown(self, words: Sequence[str], side: str) -> int:
        """How many of ``words`` contain a piece the tokenizer maps to ``<unk>``."""
        unk = self.tokenizer.unk_token_id
        return sum(unk in self._ids(w, side) for w in words)


def _src_mask(src: Tensor, src_lens: Tensor) -> Tensor:
    """[B, S] 1 at real source positions, 0 at padding (the Hugging Face attention_mask)."""
    S = src.shape[1]
    return (torch.arange(S, device=src.device)[None, :] < src_lens.to(src.device)[:, None]).long()


def _find(seq: list[int], part: list[int]) -> int | None:
    """The first index at which ``part`` occurs in ``seq`` as a contiguous run."""
    n = len(part)
    for i in range(len(seq) - n + 1):
        if seq[i : i + n] == part:
            return i
    return None


def is_hf_dir(path: Path) -> bool:
    """A folder with a ``config.json``: a Hugging Face model (cheap: file names only)."""
    return path.is_dir() and (path / "config.json").is_file()


def _sha256(path: Path) -> str | None:
    f = path / "model.safetensors"
    if not f.is_file():
        return None
    h = hashlib.sha256()
    with f.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_hf(path, trust: bool = False) -> HFSeq2Seq:
    """Load a local Hugging Face encoder-decoder folder; never downloads anything.

    Parameters
    ----------
    path : a folder with ``config.json``, the weights (``model.safetensors``, or
        ``pytorch_model.bin``, read with ``weights_only``) and the tokenizer files.
    trust : unused (Hugging Face folders hold no pickled code); for the registry.

    Returns
    -------
    HFSeq2Seq : in eval mode, checked with :meth:`HFSeq2Seq.check`.

    Raises
    ------
    InputError : a missing file, an unreadable tokenizer, transformers missing,
        or not an encoder-decoder.

    Examples
    --------
    >>> load_hf("fixtures")
    Traceback (most recent call last):
    ...
    attnprobe.errors.InputError: fixtures: no config.json: not a Hugging Face model folder ...
    """
    path = Path(path)
    if not is_hf_dir(path):
        raise InputError(
            "no config.json: not a Hugging Face model folder",
            path=path,
            fix="give the folder that model.save_pretrained and tokenizer.save_pretrained wrote",
        )
    if not any((path / w).is_file() for w in _WEIGHTS):
        raise InputError(
            f"no weights file ({', '.join(_WEIGHTS[::2])})",
            path=path,
            fix="save the model into this folder with model.save_pretrained(folder)",
        )
    transformers = _need_transformers()
    try:
        config = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"unreadable config.json: {_first_line(exc)}", path=path) from None
    if not getattr(config, "is_encoder_decoder", False):
        raise InputError(
            f"model type {config.model_type!r} is not an encoder-decoder",
            path=path,
            fix="give a sequence-to-sequence model (MarianMT, T5, BART, M2M100)",
        )
    with _quiet(transformers):
        return _load_folder(transformers, config, path)


@contextlib.contextmanager
def _quiet(transformers) -> Iterator[None]:
    """Loading prints nothing: transformers' weight-loading bar and MarianTokenizer's
    hint about sacremoses (used only for detokenising raw text) are switched off
    while it runs and put back afterwards."""
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*sacremoses")
            yield
    finally:
        if bar:
            hf_logging.enable_progress_bar()


def _load_folder(transformers, config, path: Path) -> HFSeq2Seq:
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(
            f"no usable tokenizer: {_first_line(exc)}",
            path=path,
            fix="save the tokenizer into this folder with tokenizer.save_pretrained(folder)",
        ) from None
    if tokenizer is None or isinstance(tokenizer, bool):
        raise InputError(
            "no tokenizer files",
            path=path,
            fix="save the tokenizer into this folder with tokenizer.save_pretrained(folder)",
        )
    try:
        model = transformers.AutoModelForSeq2SeqLM.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise InputError(f"unreadable weights: {_first_line(exc)}", path=path) from None
    model.eval()
    adapter = HFSeq2Seq(model, tokenizer, name=path.name)
    adapter.meta = {"path": str(path), "sha256": _sha256(path)}
    return adapter.eval()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

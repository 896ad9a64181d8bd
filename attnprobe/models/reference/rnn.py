"""Reference attentional RNN encoder-decoders: Bahdanau, Luong, and no attention.

One encoder, three decoders, assembled by :func:`build_model` from a
:class:`ModelConfig`. Notation follows the papers; ``h_s`` are the encoder
states (annotations), ``E y`` the target embedding of the previous word.

**Bahdanau et al. (2015)** (``attention="bahdanau"``), per target step i::

    e_ij = v^T tanh(W s_{i-1} + U h_j)          scores from the PREVIOUS state
    a_ij = softmax_j(e_ij);  c_i = sum_j a_ij h_j
    s_i  = GRU([E y_{i-1}; c_i], s_{i-1})       the context feeds the RNN input
    t_i  = maxout(U_o s_{i-1} + V_o E y_{i-1} + C_o c_i)   ... and the output layer
    p(y_i | ...) = softmax(W_o t_i)
    s_0  = tanh(W_s h<-_1)                      from the backward encoder state

**Luong et al. (2015)** (``attention="luong"``), per target step t::

    h_t  = RNN([E y_{t-1}; h~_{t-1}], h_{t-1})  input feeding (switchable)
    a_t  = align(h_t, h_s)                      scores from the CURRENT state:
                                                dot, general, concat or location;
                                                global, local-m or local-p
    c_t  = sum_s a_t(s) h_s
    h~_t = tanh(W_c [c_t; h_t]);  p(y_t | ...) = softmax(W_s h~_t)

**No attention** (``attention="none"``): the decoder's only link to the source
is its initial state, computed from the final encoder states::

    h_t = RNN(E y_{t-1}, h_{t-1});  p(y_t | ...) = softmax(W_s h_t)

The encoder is a (bidirectional) GRU or LSTM over the source embeddings, run on
packed sequences so that padding never changes a result. Luong's and the
no-attention decoder start from ``tanh(W_b [h->_n; h<-_1])`` per layer.

Hook points (identity modules, read and replaced by ``attnprobe.capture``)::

    encoder.hook_embeddings            # [B, S, E]  source embeddings
    encoder.hook_states                # [B, S, D]  encoder states h_s
    decoder.hook_init                  # [L, B, H]  initial decoder state
    decoder.attention.hook_scores      # [B, S]     per step
    decoder.attention.hook_weights     # [B, S]     per step
    decoder.attention.hook_context     # [B, D]     per step
    decoder.hook_state                 # [B, H]     top decoder state per step
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from attnprobe.capturing.sites import Site
from attnprobe.data import BOS_ID, EOS_ID, PAD_ID
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.models.reference.attention import MODES, SCORES, Attention, HookPoint, make_score
from attnprobe.models.words import WordVocabularies

__all__ = [
    "ModelConfig",
    "Encoder",
    "BahdanauDecoder",
    "LuongDecoder",
    "PlainDecoder",
    "Seq2Seq",
    "Seq2SeqOutput",
    "Hypothesis",
    "build_model",
    "ATTENTIONS",
    "ARCHS",
    "arch_fields",
    "CELLS",
]

ATTENTIONS = ("bahdanau", "luong", "none")
CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


@dataclass
class ModelConfig:
    """Architecture of a reference model (stored in checkpoints as ``arch``).

    Examples
    --------
    >>> ModelConfig(src_vocab=10, tgt_vocab=12, attention="luong", score="general").name
    'luong-general'
    >>> ModelConfig(10, 12, attention="luong", score="dot", mode="local-p").name
    'luong-dot-local-p'
    """

    src_vocab: int  # source vocabulary size (specials included)
    tgt_vocab: int  # target vocabulary size
    attention: str = "bahdanau"  # "bahdanau" | "luong" | "none"
    score: str = "additive"  # luong: dot | general | concat | location; bahdanau: additive
    mode: str = "global"  # luong: global | local-m | local-p
    window: int = 5  # D, half-width of a local window (sigma = D / 2)
    input_feeding: bool = True  # luong: feed h~_{t-1} into the RNN input
    max_src_len: int = 0  # location score: number of source positions it can score
    cell: str = "gru"  # "gru" | "lstm"
    emb_dim: int = 64  # word embedding size, both sides
    enc_dim: int = 64  # encoder state size per direction
    hidden_dim: int = 128  # decoder state size
    attn_dim: int = 0  # hidden width of additive/concat scores (0: hidden_dim)
    readout_dim: int = 0  # bahdanau maxout output size (0: emb_dim)
    layers: int = 1  # RNN layers, encoder and decoder
    bidirectional: bool = True  # bidirectional encoder
    dropout: float = 0.0  # on embeddings, between layers and before the output layer

    def __post_init__(self):
        if self.attention not in ATTENTIONS:
            raise UnknownNameError("attention type", self.attention, ATTENTIONS)
        if self.cell not in CELLS:
            raise UnknownNameError("RNN cell", self.cell, CELLS)
        if self.score not in SCORES:
            raise UnknownNameError("score function", self.score, SCORES)
        if self.mode not in MODES:
            raise UnknownNameError("attention mode", self.mode, MODES)
        if self.attention == "bahdanau" and (self.score != "additive" or self.mode != "global"):
            raise InputError(
                "Bahdanau attention is global and additive; use attention='luong' "
                "for other score functions and local attention"
            )
        if self.attention == "luong" and self.score == "additive":
            raise InputError("Luong's name for the additive score is 'concat'")
        if min(self.src_vocab, self.tgt_vocab) < 5:
            raise InputError("vocabularies need the 4 special tokens and at least one word")

    @property
    def name(self) -> str:
        """Short architecture name: ``bahdanau``, ``luong-<score>[-<mode>]``, ``none``."""
        if self.attention != "luong":
            return self.attention
        return f"luong-{self.score}" + ("" if self.mode == "global" else f"-{self.mode}")

    @property
    def key_dim(self) -> int:
        return self.enc_dim * (2 if self.bidirectional else 1)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """Inverse of ``dataclasses.asdict``; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown architecture fields {unknown}")
        return cls(**d)


def _rnn(cfg: ModelConfig, input_size: int, hidden: int, bidirectional: bool = False) -> nn.RNNBase:
    return CELLS[cfg.cell](
        input_size,
        hidden,
        num_layers=cfg.layers,
        batch_first=True,
        dropout=cfg.dropout if cfg.layers > 1 else 0.0,
        bidirectional=bidirectional,
    )


class EncoderOutput(NamedTuple):
    states: Tensor  # [B, S, D] h_s
    final: Tensor  # [L, B, D] top-down concatenation of the final states of each layer
    backward_first: Tensor | None  # [L, B, enc_dim] backward state at position 0 (bidirectional)


class Encoder(nn.Module):
    """Embeddings and a (bidirectional) RNN over the source.

    Shapes: ``src`` [B, S] ids, ``lengths`` [B] -> states [B, S, D]
    (D = enc_dim x directions; zero at padding).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.src_vocab, cfg.emb_dim, padding_idx=PAD_ID)
        self.dropout = nn.Dropout(cfg.dropout)
        self.rnn = _rnn(cfg, cfg.emb_dim, cfg.enc_dim, cfg.bidirectional)
        self.hook_embeddings = HookPoint()  # [B, S, E]
        self.hook_states = HookPoint()  # [B, S, D]

    def forward(self, src: Tensor, lengths: Tensor) -> EncoderOutput:
        B, S = src.shape
        emb = self.dropout(self.hook_embeddings(self.embedding(src)))  # [B, S, E]
        if bool((lengths == S).all()):
            # no padding: packing changes nothing but costs time, and its backward
            # does not batch well under vmap (attribution's vectorised encoder backward)
            states, final = self.rnn(emb)
        else:
            packed = pack_padded_sequence(
                emb, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            out, final = self.rnn(packed)
            states, _ = pad_packed_sequence(out, batch_first=True, total_length=S)  # [B, S, D]
        states = self.hook_states(states)
        h = final[0] if isinstance(final, tuple) else final  # [L * dirs, B, enc_dim]
        L = self.cfg.layers
        if not self.cfg.bidirectional:
            return EncoderOutput(states, h, None)
        h = h.view(L, 2, B, self.cfg.enc_dim)  # [L, dirs, B, enc_dim]
        # backward direction's state after reading the whole sentence = its state at position 0
        return EncoderOutput(states, torch.cat([h[:, 0], h[:, 1]], dim=-1), h[:, 1])


class DecoderState(NamedTuple):
    """Recurrent state between steps; every tensor has the batch on ``dim_b``."""

    hidden: Tensor | tuple[Tensor, Tensor]  # [L, B, H] (GRU) or (h, c) (LSTM)
    feed: Tensor | None  # [B, H] Luong's attentional state h~_{t-1}, or None

    def select(self, index: Tensor) -> DecoderState:
        def pick(t, dim):
            return None if t is None else t.index_select(dim, index)

        hidden = (
            tuple(pick(t, 1) for t in self.hidden)
            if isinstance(self.hidden, tuple)
            else pick(self.hidden, 1)
        )
        return DecoderState(hidden, pick(self.feed, 0))


def _top(hidden) -> Tensor:
    """Top-layer state [B, H] of an RNN hidden state (GRU tensor or LSTM (h, c))."""
    h = hidden[0] if isinstance(hidden, tuple) else hidden
    return h[-1]


class _Decoder(nn.Module):
    """Shared parts: target embeddings, initial state, the teacher-forced loop."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.tgt_vocab, cfg.emb_dim, padding_idx=PAD_ID)
        self.dropout = nn.Dropout(cfg.dropout)
        bridge_in = cfg.enc_dim if cfg.attention == "bahdanau" else cfg.key_dim
        self.bridge = nn.Linear(bridge_in, cfg.hidden_dim)
        self.hook_init = HookPoint()  # [L, B, H]
        self.hook_state = HookPoint()  # [B, H]
        self.attention: Attention | None = None

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        source = enc.final
        if self.cfg.attention == "bahdanau" and enc.backward_first is not None:
            source = enc.backward_first  # s_0 = tanh(W_s h<-_1)
        h0 = self.hook_init(torch.tanh(self.bridge(source)))  # [L, B, H]
        hidden = (h0, torch.zeros_like(h0)) if self.cfg.cell == "lstm" else h0
        feed = None
        if self.cfg.attention == "luong" and self.cfg.input_feeding:
            feed = h0.new_zeros(h0.shape[1], self.cfg.hidden_dim)
        return DecoderState(hidden, feed)

    def memory(self, enc: EncoderOutput, lengths: Tensor):
        return None if self.attention is None else self.attention.prepare(enc.states, lengths)

    def forward(self, tgt_in: Tensor, state: DecoderState, memory):
        """Teacher-forced loop: ``tgt_in`` [B, T] -> logits [B, T, V], weights [B, T, S] or None.

        Each subclass defines ``step(y_prev [B], state, memory, t)`` returning
        logits [B, V], the new state and the attention weights [B, S] (or None).
        """
        logits, weights = [], []
        for t in range(tgt_in.shape[1]):
            step_logits, state, w = self.step(tgt_in[:, t], state, memory, t)
            logits.append(step_logits)
            weights.append(w)
        attn = None if weights[0] is None else torch.stack(weights, dim=1)
        return torch.stack(logits, dim=1), attn


class BahdanauDecoder(_Decoder):
    """GRU/LSTM decoder with additive attention on the previous state (Bahdanau et al. 2015)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        H, K = cfg.hidden_dim, cfg.key_dim
        self.attention = Attention(make_score("additive", H, K, attn_dim=cfg.attn_dim))
        self.rnn = _rnn(cfg, cfg.emb_dim + K, H)
        readout = cfg.readout_dim or cfg.emb_dim
        self.readout = nn.Linear(H + cfg.emb_dim + K, 2 * readout)  # U_o, V_o, C_o in one
        self.out = nn.Linear(readout, cfg.tgt_vocab)  # W_o

    def step(self, y_prev, state, memory, t):
        emb = self.dropout(self.embedding(y_prev))  # [B, E]
        s_prev = _top(state.hidden)  # [B, H]
        context, weights = self.attention(s_prev, memory)  # [B, K], [B, S]
        _, hidden = self.rnn(torch.cat([emb, context], -1).unsqueeze(1), state.hidden)
        self.hook_state(_top(hidden))
        pre = self.readout(torch.cat([s_prev, emb, context], -1))  # [B, 2 * readout]
        maxout = pre.view(pre.shape[0], -1, 2).max(dim=-1).values  # [B, readout]
        return self.out(self.dropout(maxout)), DecoderState(hidden, None), weights


class LuongDecoder(_Decoder):
    """RNN decoder with attention on the current state and input feeding (Luong et al. 2015)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        H, K = cfg.hidden_dim, cfg.key_dim
        score = make_score(cfg.score, H, K, max_len=cfg.max_src_len, attn_dim=cfg.attn_dim)
        self.attention = Attention(score, mode=cfg.mode, window=cfg.window, query_dim=H)
        self.rnn = _rnn(cfg, cfg.emb_dim + (H if cfg.input_feeding else 0), H)
        self.W_c = nn.Linear(K + H, H, bias=False)
        self.out = nn.Linear(H, cfg.tgt_vocab)  # W_s

    def step(self, y_prev, state, memory, t):
        x = self.dropout(self.embedding(y_prev))  # [B, E]
        if state.feed is not None:
            x = torch.cat([x, state.feed], -1)
        _, hidden = self.rnn(x.unsqueeze(1), state.hidden)
        h_t = self.hook_state(_top(hidden))  # [B, H]
        context, weights = self.attention(h_t, memory, step=t)
        h_tilde = torch.tanh(self.W_c(torch.cat([context, h_t], -1)))  # [B, H]
        feed = h_tilde if self.cfg.input_feeding else None
        return self.out(self.dropout(h_tilde)), DecoderState(hidden, feed), weights


class PlainDecoder(_Decoder):
    """Decoder without attention: the source reaches it only through its initial state."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(cfg)
        self.rnn = _rnn(cfg, cfg.emb_dim, cfg.hidden_dim)
        self.out = nn.Linear(cfg.hidden_dim, cfg.tgt_vocab)

    def step(self, y_prev, state, memory, t):
        x = self.dropout(self.embedding(y_prev))
        _, hidden = self.rnn(x.unsqueeze(1), state.hidden)
        h_t = self.hook_state(_top(hidden))
        return self.out(self.dropout(h_t)), DecoderState(hidden, None), None


DECODERS = {"bahdanau": BahdanauDecoder, "luong": LuongDecoder, "none": PlainDecoder}


def decode_limit(src_lens: Tensor) -> int:
    """Default maximum number of decoding steps: twice the longest source plus 10.

    Examples
    --------
    >>> decode_limit(torch.tensor([3, 5]))
    20
    """
    return int(src_lens.max()) * 2 + 10


class Seq2SeqOutput(NamedTuple):
    logits: Tensor  # [B, T, V]
    attention: Tensor | None  # [B, T, S], None without attention


class Hypothesis(NamedTuple):
    """A decoded sentence: target ids (EOS excluded), attention [T, S] or None, log-probability."""

    tokens: list[int]
    attention: Tensor | None
    score: float


class Seq2Seq(WordVocabularies, nn.Module):
    """A reference encoder-decoder behind the model interface
    (:class:`~attnprobe.models.interface.Seq2SeqModel`), with every optional
    capability: a step-by-step decoder, a recurrent graph, a longest source.

    Attributes ``src_vocab`` and ``tgt_vocab`` (:class:`attnprobe.data.Vocab`)
    are set by :func:`attnprobe.load` or by the trainer; ``meta`` holds the
    checkpoint's metadata.

    Examples
    --------
    >>> import torch
    >>> model = build_model(ModelConfig(src_vocab=8, tgt_vocab=9, hidden_dim=8, enc_dim=4,
    ...                                 emb_dim=4))
    >>> src, lens = torch.tensor([[4, 5, 3]]), torch.tensor([3])
    >>> out = model(src, lens, torch.tensor([[2, 6]]))
    >>> tuple(out.logits.shape), tuple(out.attention.shape)
    ((1, 2, 9), (1, 2, 3))
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = DECODERS[cfg.attention](cfg)
        self.src_vocab = None
        self.tgt_vocab = None
        self.meta: dict = {}

    capabilities = ("step_decoder", "recurrent_graph", "max_source_length")

    @property
    def name(self) -> str:
        """The checkpoint's file name without ``.pt``, else the architecture name."""
        import os

        path = self.meta.get("path")
        return os.path.basename(path).removesuffix(".pt") if path else self.cfg.name

    @property
    def max_source_length(self) -> int | None:
        """The longest source (EOS included) the model can score: location attention only."""
        is_location = self.cfg.attention == "luong" and self.cfg.score == "location"
        return self.cfg.max_src_len if is_location and self.cfg.max_src_len else None

    def path_lengths(self, src_len: int, tgt_len: int, *, attention_edges: bool = True):
        """Shortest gradient paths ``[T, S]`` through the unrolled computation
        (:func:`attnprobe.analyses.gradflow.path_lengths` on this architecture)."""
        from attnprobe.analyses.gradflow import path_lengths

        return path_lengths(self.cfg, src_len, tgt_len, attention_edges=attention_edges)

    def card(self) -> dict:
        """The report's model card: family, architecture, sizes, vocabularies, training."""
        cfg, attention = self.cfg, self.decoder.attention
        return {
            "name": self.name,
            "family": "attnprobe reference RNN",
            "arch": cfg.name,
            "score": cfg.score if cfg.attention != "none" else None,
            "parameters": sum(p.numel() for p in self.parameters()),
            "attention_parameters": 0
            if attention is None
            else sum(p.numel() for p in attention.parameters()),
            "config": config_dict(cfg),
            "train": self.meta.get("train"),
            "data": self.meta.get("data"),
            "path": self.meta.get("path"),
            "sha256": self.meta.get("sha256"),
            "src_vocab": len(self.src_vocab) if self.src_vocab else cfg.src_vocab,
            "tgt_vocab": len(self.tgt_vocab) if self.tgt_vocab else cfg.tgt_vocab,
            "subwords": {  # None: both sides read words
                side: None if sw is None else sw.describe()
                for side, sw in (("src", self.src_subwords), ("tgt", self.tgt_subwords))
            }
            if self.src_subwords or self.tgt_subwords
            else None,
        }

    @property
    def sites(self) -> list[Site]:
        """Where the attention lives (for ``attnprobe.capture``): one per-step cross site."""
        if self.decoder.attention is None:
            return []
        return [Site("decoder.attention.hook_weights", read="output", name="decoder.attention")]

    @property
    def states_site(self) -> Site:
        """The encoder states h_s [B, S, D], for ``capture(..., states=True)``."""
        return Site("encoder.hook_states", pattern="full", role="states", name="encoder.states")

    @property
    def source_embedding(self) -> nn.Module:
        """The source embedding module (its output is [B, S, E]; used for attribution)."""
        return self.encoder.embedding

    def forward(self, src: Tensor, src_lens: Tensor, tgt_in: Tensor) -> Seq2SeqOutput:
        """Teacher-forced forward. ``src`` [B, S], ``src_lens`` [B], ``tgt_in`` [B, T]."""
        return self.decode(self.encoder(src, src_lens), src_lens, tgt_in)

    def decode(self, enc: EncoderOutput, src_lens: Tensor, tgt_in: Tensor) -> Seq2SeqOutput:
        """The teacher-forced decoder on encoder output ``enc``; ``forward`` is encoder + this.

        The decoder sees the source only through ``enc`` (and the lengths):
        attribution's decoder sweep (:mod:`attnprobe.runs.attribution`) relies on it.

        Examples
        --------
        >>> import torch
        >>> model = build_model(ModelConfig(src_vocab=8, tgt_vocab=9, hidden_dim=8, enc_dim=4,
        ...                                 emb_dim=4), seed=0)
        >>> src, lens, tgt_in = torch.tensor([[4, 5, 3]]), torch.tensor([3]), torch.tensor([[2, 6]])
        >>> enc = model.encoder(src, lens)
        >>> torch.equal(model.decode(enc, lens, tgt_in).logits, model(src, lens, tgt_in).logits)
        True
        """
        logits, attn = self.decoder(
            tgt_in, self.decoder.init_state(enc), self.decoder.memory(enc, src_lens)
        )
        return Seq2SeqOutput(logits, attn)

    @torch.no_grad()
    def greedy(self, src: Tensor, src_lens: Tensor, max_len: int | None = None) -> list[Hypothesis]:
        """Greedy decoding of a batch; returns one :class:`Hypothesis` per sentence.

        ``max_len`` defaults to twice the source length plus 10 steps.
        """
        B = src.shape[0]
        max_len = max_len or decode_limit(src_lens)
        enc = self.encoder(src, src_lens)
        state, memory = self.decoder.init_state(enc), self.decoder.memory(enc, src_lens)
        y = torch.full((B,), BOS_ID, dtype=torch.long, device=src.device)
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        tokens, rows, score = [], [], torch.zeros(B)
        for t in range(max_len):
            logits, state, w = self.decoder.step(y, state, memory, t)
            logp = torch.log_softmax(logits, -1)
            y = logp.argmax(-1)
            score += torch.where(done, 0.0, logp.gather(1, y[:, None]).squeeze(1).cpu())
            tokens.append(y)
            rows.append(w)
            done |= y == EOS_ID
            if bool(done.all()):
                break
        ids = torch.stack(tokens, 1).tolist()  # [B, steps]
        hyps = []
        for b in range(B):
            n = ids[b].index(EOS_ID) if EOS_ID in ids[b] else len(ids[b])
            attn = None
            if rows[0] is not None:
                # the row of the EOS step is kept: T = n + 1 rows as in teacher forcing
                attn = torch.stack([r[b] for r in rows[: n + 1]])[:, : int(src_lens[b])].cpu()
            hyps.append(Hypothesis(ids[b][:n], attn, float(score[b])))
        return hyps

    @torch.no_grad()
    def beam(
        self, src: Tensor, src_lens: Tensor, beam_size: int = 5, max_len: int | None = None
    ) -> list[Hypothesis]:
        """Beam search, one sentence at a time with the beam as the batch.

        Finished hypotheses are ranked by log-probability divided by length.
        """
        if beam_size < 1:
            raise InputError(f"beam size must be at least 1, got {beam_size}")
        return [
            self._beam_one(
                src[b : b + 1, : int(src_lens[b])], src_lens[b : b + 1], beam_size, max_len
            )
            for b in range(src.shape[0])
        ]

    def _beam_one(self, src, src_lens, k, max_len):
        max_len = max_len or decode_limit(src_lens)
        enc = self.encoder(src, src_lens)
        state, memory = self.decoder.init_state(enc), self.decoder.memory(enc, src_lens)
        beams = [([], [], 0.0)]  # (ids, attention rows, log-prob)
        finished = []
        y = torch.tensor([BOS_ID])
        for t in range(max_len):
            logits, state, w = self.decoder.step(y, state, memory, t)
            logp = torch.log_softmax(logits, -1)  # [n_beams, V]
            total = torch.tensor([b[2] for b in beams]).unsqueeze(1) + logp
            top = total.flatten().topk(min(k, total.numel()))
            V = logp.shape[1]
            keep, next_beams = [], []
            for value, flat in zip(top.values.tolist(), top.indices.tolist(), strict=True):
                parent, word = divmod(flat, V)
                ids, rows, _ = beams[parent]
                rows = rows + ([] if w is None else [w[parent]])
                if word == EOS_ID:
                    finished.append((ids, rows, value))
                else:
                    keep.append(parent)
                    next_beams.append((ids + [word], rows, value))
            if len(finished) >= k or not next_beams:
                break
            beams = next_beams
            index = torch.tensor(keep)
            state = state.select(index)
            memory = None if memory is None else memory.select(index)
            y = torch.tensor([b[0][-1] for b in beams])
        candidates = finished or beams
        ids, rows, value = max(candidates, key=lambda c: c[2] / (len(c[0]) + 1))
        attn = torch.stack(rows).cpu() if rows else None
        return Hypothesis(ids, attn, value)


#: architecture names accepted by ``attnprobe train --arch`` -> ModelConfig fields
ARCHS: dict[str, dict] = {
    "bahdanau": {"attention": "bahdanau", "score": "additive"},
    **{
        f"luong-{score}" + ("" if mode == "global" else f"-{mode}"): {
            "attention": "luong",
            "score": score,
            "mode": mode,
        }
        for score in ("dot", "general", "concat", "location")
        for mode in MODES
        if not (score == "location" and mode != "global")
    },
    "none": {"attention": "none"},
}


def arch_fields(name: str) -> dict:
    """ModelConfig fields for an architecture name (see :data:`ARCHS`).

    Examples
    --------
    >>> arch_fields("luong-general-local-p")
    {'attention': 'luong', 'score': 'general', 'mode': 'local-p'}
    """
    if name not in ARCHS:
        raise UnknownNameError("architecture", name, ARCHS)
    return dict(ARCHS[name])


def build_model(cfg: ModelConfig, seed: int | None = None) -> Seq2Seq:
    """Build a freshly initialised reference model (deterministic for ``seed``).

    Examples
    --------
    >>> m = build_model(ModelConfig(src_vocab=20, tgt_vocab=20, attention="none"), seed=0)
    >>> m.cfg.name, m.decoder.attention is None
    ('none', True)
    """
    if seed is None:
        return Seq2Seq(cfg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Seq2Seq(cfg)


def config_dict(cfg: ModelConfig) -> dict:
    """The plain-dict form stored in checkpoints."""
    return asdict(cfg)

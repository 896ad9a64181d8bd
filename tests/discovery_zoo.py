"""Attention modules whose names give nothing away, for site-discovery tests.

Written in the style of the named projects (their call and return conventions),
not copied. Each module also hands its weights to the test explicitly (returned
or stored), so that what ``find_sites`` proposes can be checked against them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

BOS = 0


class MlpAttender(nn.Module):
    """xnmt-style MLP attender: ``a = softmax(U tanh(W_i h_j + V s))``.

    As xnmt's ``calc_attention``, it keeps every distribution in ``attention_vecs``
    and its forward (``calc_context``) returns only the context ``[B, D]``.
    """

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.W_i = nn.Linear(dim, hidden)
        self.V = nn.Linear(dim, hidden, bias=False)
        self.U = nn.Linear(hidden, 1, bias=False)
        self.attention_vecs: list[torch.Tensor] = []

    def calc_attention(self, state, memory):  # [B, D], [B, S, D]
        h = torch.tanh(self.W_i(memory) + self.V(state)[:, None])  # [B, S, hidden]
        scores = self.U(h)[..., 0]  # [B, S]
        normalized = F.softmax(scores, dim=-1)
        self.attention_vecs.append(normalized)
        return normalized

    def forward(self, state, memory):
        attention = self.calc_attention(state, memory)  # [B, S]
        return torch.bmm(attention[:, None], memory)[:, 0]  # [B, D]


class ReturningAttender(MlpAttender):
    """The same attender, returning ``(context [B, D], weights [B, S])``."""

    def forward(self, state, memory):
        attention = self.calc_attention(state, memory)
        context = torch.bmm(attention[:, None], memory)[:, 0]
        return context, attention


class StepDecoder(nn.Module):
    """An RNN decoder that calls its ``attender`` once per step: ``forward(memory [B, S, D],
    steps)`` -> outputs ``[B, T, D]``."""

    def __init__(self, attender: nn.Module, dim: int):
        super().__init__()
        self.attender = attender
        self.cell = nn.GRUCell(dim, dim)

    def forward(self, memory, steps: int):
        state, outs = memory.mean(1), []
        for _ in range(steps):
            context = self.attender(state, memory)
            context = context[0] if isinstance(context, tuple) else context
            state = self.cell(context, state)
            outs.append(state)
        return torch.stack(outs, 1)


class Additive(nn.Module):
    """Bahdanau's additive score, one step: ``e_j = v^T tanh(W s + U h_j)``, ``alpha =
    softmax(e)``; ``(s [B, D], h [B, S, D])`` -> ``(context [B, D], alpha [B, S])``."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.W = nn.Linear(dim, hidden, bias=False)
        self.U = nn.Linear(dim, hidden, bias=False)
        self.v = nn.Linear(hidden, 1, bias=False)

    def forward(self, s, h):
        e = self.v(torch.tanh(self.W(s)[:, None] + self.U(h)))[..., 0]  # [B, S]
        alpha = e.softmax(-1)
        return (alpha[..., None] * h).sum(1), alpha


class ReturnsDict(nn.Module):
    """Dot attention returning ``{"context": [B, T, D], "weights": [B, T, S]}``."""

    def forward(self, q, k):
        scores = q @ k.transpose(1, 2)  # [B, T, S]
        w = torch.softmax(scores, -1)
        return {"context": w @ k, "weights": w}


class SdpaAttention(nn.Module):
    """Attention through the fused kernel: ``(x [B, T, D], memory [B, S, D])`` -> ``[B, T, D]``."""

    def __init__(self, dim: int):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x, memory):
        return F.scaled_dot_product_attention(self.q(x), self.k(memory), self.v(memory))


class EitherAttention(SdpaAttention):
    """Fused when asked (``fast=True``), else an explicit softmax that it returns."""

    fast = False

    def forward(self, x, memory):
        q, k, v = self.q(x), self.k(memory), self.v(memory)
        if self.fast:
            return F.scaled_dot_product_attention(q, k, v), None
        w = torch.softmax(q @ k.transpose(1, 2) / q.shape[-1] ** 0.5, -1)  # [B, T, S]
        return w @ v, w


class FusedSeq2Seq(nn.Module):
    """An ``nn.TransformerEncoder`` and a decoder whose cross-attention is fused (SDPA)."""

    def __init__(self, dim: int = 8):
        super().__init__()
        layer = nn.TransformerEncoderLayer(dim, 2, 16, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.cross = SdpaAttention(dim)

    def forward(self, src, tgt):  # [B, S, D], [B, T, D]
        return self.cross(tgt, self.encoder(src))


class MixedSeq2Seq(nn.Module):
    """A readable cross-attention (an ``nn.TransformerDecoderLayer``) after a fused
    self-attention on the target side."""

    def __init__(self, dim: int = 8):
        super().__init__()
        self.prenet = SdpaAttention(dim)
        self.layer = nn.TransformerDecoderLayer(dim, 2, 16, dropout=0.0, batch_first=True)

    def forward(self, src, tgt):
        x = tgt + self.prenet(tgt, tgt)
        return self.layer(x, src)


class TutorialAttention(nn.Module):
    """The PyTorch tutorial's ``BahdanauAttention`` (its class name changed): ``(query
    [B, 1, H], keys [B, S, H])`` -> ``(context [B, 1, H], weights [B, 1, S])``."""

    def __init__(self, hidden: int):
        super().__init__()
        self.Wa = nn.Linear(hidden, hidden)
        self.Ua = nn.Linear(hidden, hidden)
        self.Va = nn.Linear(hidden, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))  # [B, S, 1]
        weights = F.softmax(scores.squeeze(2).unsqueeze(1), dim=-1)  # [B, 1, S]
        return torch.bmm(weights, keys), weights


class AttnDecoderRNN(nn.Module):
    """The newer PyTorch tutorial's decoder, which runs its own loop, with its forward's
    parameters renamed (the tutorial's: ``encoder_outputs, encoder_hidden,
    target_tensor=None``): ``(memory [B, S, H], h0 [1, B, H], teacher=None)`` ->
    ``(log-probs [B, T, V], hidden, attentions [B, T, S])``."""

    def __init__(self, hidden: int, vocab: int, steps: int):
        super().__init__()
        self.steps = steps
        self.embedding = nn.Embedding(vocab, hidden)
        self.attention = TutorialAttention(hidden)
        self.gru = nn.GRU(2 * hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, memory, h0, teacher=None):
        x = torch.full((memory.shape[0], 1), BOS, dtype=torch.long)
        h, outs, attentions = h0, [], []
        for i in range(self.steps):
            out, h, w = self.forward_step(x, h, memory)
            outs.append(out)
            attentions.append(w)
            x = teacher[:, i : i + 1] if teacher is not None else out.argmax(-1).detach()
        return F.log_softmax(torch.cat(outs, 1), -1), h, torch.cat(attentions, 1)

    def forward_step(self, x, h, memory):
        emb = self.embedding(x)  # [B, 1, H]
        context, w = self.attention(h.permute(1, 0, 2), memory)
        out, h = self.gru(torch.cat((emb, context), 2), h)
        return self.out(out), h, w


def renamed_step_decoder(hidden: int, vocab: int, max_length: int) -> nn.Module:
    """The older tutorial's step decoder (``attention_zoo.AttnDecoderRNN``) with its
    forward's parameters renamed from ``(input, hidden, encoder_outputs)``."""
    import attention_zoo

    class AttnDecoderRNN(attention_zoo.AttnDecoderRNN):
        def forward(self, token, state, memory):
            return super().forward(token, state, memory)

    return AttnDecoderRNN(hidden, vocab, max_length, dropout_p=0.0)

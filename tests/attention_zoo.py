"""Attention modules written the way other codebases write them, for oracle tests.

Each returns its attention weights explicitly, so a test can compare what
``attnprobe.capture`` reads with what the module itself says. They are
re-implementations in the style of the named projects (same call and return
conventions), not copies.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class AttnDecoderRNN(nn.Module):
    """PyTorch-tutorial style decoder step: ``(input, hidden, encoder_outputs)`` ->
    ``(log-probs [1, V], hidden [1, 1, H], attn_weights [1, max_length])``."""

    def __init__(self, hidden_size: int, output_size: int, max_length: int, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attn = nn.Linear(hidden_size * 2, max_length)
        self.attn_combine = nn.Linear(hidden_size * 2, hidden_size)
        self.dropout = nn.Dropout(dropout_p)
        self.gru = nn.GRU(hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input).view(1, 1, -1))
        attn_weights = F.softmax(self.attn(torch.cat((embedded[0], hidden[0]), 1)), dim=1)
        attn_applied = torch.bmm(attn_weights.unsqueeze(0), encoder_outputs.unsqueeze(0))
        output = torch.cat((embedded[0], attn_applied[0]), 1)
        output = F.relu(self.attn_combine(output).unsqueeze(0))
        output, hidden = self.gru(output, hidden)
        return F.log_softmax(self.out(output[0]), dim=1), hidden, attn_weights


class AttentionLayer(nn.Module):
    """fairseq LSTM-style attention: ``(input [B, D], source_hids [S, B, D], padding [S, B])``
    -> ``(x [B, D], attn_scores [S, B])``, softmax over the source (dim 0)."""

    def __init__(self, dim: int):
        super().__init__()
        self.input_proj = nn.Linear(dim, dim, bias=False)
        self.output_proj = nn.Linear(2 * dim, dim, bias=False)

    def forward(self, input, source_hids, encoder_padding_mask):
        x = self.input_proj(input)
        attn_scores = (source_hids * x.unsqueeze(0)).sum(dim=2)  # [S, B]
        attn_scores = attn_scores.masked_fill(encoder_padding_mask, float("-inf"))
        attn_scores = F.softmax(attn_scores, dim=0)
        x = (attn_scores.unsqueeze(2) * source_hids).sum(dim=0)  # [B, D]
        x = torch.tanh(self.output_proj(torch.cat((x, input), dim=1)))
        return x, attn_scores


class GlobalAttention(nn.Module):
    """OpenNMT-style global attention ("general"), one step:
    ``(source [B, D], memory_bank [B, S, D], memory_lengths [B])`` -> ``(attn_h [B, D],
    align_vectors [B, S])``."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear_in = nn.Linear(dim, dim, bias=False)
        self.linear_out = nn.Linear(2 * dim, dim, bias=False)

    def forward(self, source, memory_bank, memory_lengths):
        align = torch.bmm(memory_bank, self.linear_in(source).unsqueeze(2)).squeeze(2)  # [B, S]
        S = memory_bank.shape[1]
        mask = torch.arange(S)[None, :] < memory_lengths[:, None]
        align_vectors = F.softmax(align.masked_fill(~mask, float("-inf")), -1)  # [B, S]
        c = torch.bmm(align_vectors.unsqueeze(1), memory_bank).squeeze(1)  # [B, D]
        attn_h = torch.tanh(self.linear_out(torch.cat([c, source], 1)))
        return attn_h, align_vectors


class FusedAttention(nn.Module):
    """Attention through the fused kernel: the weights never exist as a tensor."""

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


class TwoSoftmaxes(nn.Module):
    """A forward with two softmaxes: the attention (second) and a gate (first)."""

    def forward(self, q, k):  # q [B, T, D], k [B, S, D]
        gate = torch.softmax(q.sum(-1), dim=-1)  # [B, T]
        weights = torch.softmax(q @ k.transpose(1, 2), dim=-1)  # [B, T, S]
        return (weights @ k) * gate.unsqueeze(-1), weights

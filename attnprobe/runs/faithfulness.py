"""Faithfulness runs: replace attention through capture edits and record what the output does.

This is the small part that runs the model (every run goes through
``attnprobe.capture``, with the edits of :mod:`attnprobe.capturing.edits`); the
summaries are pure functions in :mod:`attnprobe.analyses.faithfulness`. It is
a module of its own rather than part of :mod:`attnprobe.runs.attribution` because it
needs no captum and no gradients: attention edits and attribution are separate
questions that only meet in the erasure comparison, which is a pure function
of an occlusion matrix.

Edits (per sentence and decoder step): ``uniform`` (over the real source
positions), ``permute`` (a random permutation of the row, one per seed),
``zero_top`` (the top-attended source zeroed, the rest renormalised), and
``other_step`` (the row of the previous step; step 0 takes step 1's). The
identity edit is run too, as a check: it must change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from attnprobe.analyses.faithfulness import EditSummary, summarize_edit
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.runs.forward import model_batches

__all__ = ["EDITS", "Faithfulness", "run_edits", "leave_one_out"]

EDITS = ("identity", "uniform", "permute", "zero_top", "other_step")
# edits whose rows do not depend on the teacher-forced steps: greedy decoding can use them
_GREEDY = ("identity", "uniform", "permute", "zero_top")


@dataclass
class Faithfulness:
    """One :class:`~attnprobe.analyses.faithfulness.EditSummary` per edit (and seed)."""

    summaries: dict[str, EditSummary]
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "summaries": {k: v.to_dict() for k, v in self.summaries.items()},
            "params": dict(self.params),
        }


def _edit(name: str, seed: int, attention: torch.Tensor, lens: torch.Tensor):
    from attnprobe.capturing import edits

    if name == "identity":
        return edits.identity()
    if name == "uniform":
        return edits.uniform()
    if name == "permute":
        return edits.permute(seed=seed)
    if name == "zero_top":
        return edits.zero_topk(1)
    # other_step: row t takes the original row t - 1 (row 0 takes row 1, when there is one)
    B, H, T, _ = attention.shape
    src = torch.arange(T) - 1
    src[0] = 1 if T > 1 else 0
    other = attention[:, :, src.clamp(max=T - 1)].clone()  # [B, H, T, S]
    short = lens < 2  # one-step sentences keep their row
    other[short] = attention[short]
    return edits.replace(other)


def _site(model) -> str:
    """The site the edits replace: the model's first cross-attention site."""
    return next(s.key for s in model.sites if s.role == "cross")


def _probs(model, batch, edit=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-word distributions [B, T, V] and the site's attention [B, H, T, S] as captured."""
    from attnprobe.capturing.hooks import capture

    site = _site(model)
    edits = None if edit is None else {site: edit}
    lens = {"src_lens": batch.src_lens, "tgt_lens": batch.tgt_lens}
    with torch.no_grad(), capture(model, [site], edits=edits, **lens) as cap:
        logits = model(batch.src, batch.src_lens, batch.tgt_in).logits
    return torch.softmax(logits.double(), -1), cap.trace.weights(site)


def _greedy(model, batch, edit=None) -> list[list[int]]:
    from attnprobe.capturing.hooks import capture

    if edit is None:
        return [h.tokens for h in model.greedy(batch.src, batch.src_lens)]
    with capture(model, edits={_site(model): edit}, src_lens=batch.src_lens):
        return [h.tokens for h in model.greedy(batch.src, batch.src_lens)]


def run_edits(
    model,
    corpus: ParallelCorpus,
    edits: Sequence[str] = EDITS,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    greedy: bool = True,
    batch_size: int = 32,
    n_boot: int = 1000,
    seed: int = 0,
) -> Faithfulness:
    """Run each attention edit on a teacher-forced corpus and summarise the output changes.

    Parameters
    ----------
    model : a model with one attention site (``model.sites``) and vocabularies.
    corpus : sentence pairs (the gold target is teacher-forced).
    edits : names from :data:`EDITS`; ``permute`` runs once per seed in ``seeds``
        (keys ``"permute(seed=0)"``, ...).
    greedy : also decode greedily with each edit that does not depend on the
        teacher-forced steps, and report the share of changed translations.
    n_boot, seed : bootstrap resamples and their seed.

    Returns
    -------
    Faithfulness : one summary per edit: total variation distance, JSD, change of
    log p(y_t), argmax change rate, greedy change rate, each with a 95% interval.

    Examples
    --------
    >>> import attnprobe
    >>> from attnprobe.models.reference.rnn import ModelConfig
    >>> from attnprobe.models.reference.train import TrainConfig, train
    >>> data = attnprobe.ParallelCorpus([["a", "b"], ["b"]] * 4, [["x", "y"], ["y"]] * 4)
    >>> cfg = ModelConfig(src_vocab=6, tgt_vocab=6, emb_dim=4, enc_dim=4, hidden_dim=8)
    >>> model = train(cfg, data, data, TrainConfig(max_steps=2), progress=False).model
    >>> f = run_edits(model, data, ["identity", "uniform"], greedy=False, n_boot=10)
    >>> f.summaries["identity"].tvd.mean, f.summaries["uniform"].tvd.mean > 0
    (0.0, True)
    """
    unknown = [e for e in edits if e not in EDITS]
    if unknown:
        raise UnknownNameError("attention edit", unknown[0], EDITS)
    if not any(s.role == "cross" for s in getattr(model, "sites", ())):
        raise InputError("the model has no cross-attention site to edit (attention='none'?)")
    runs = [(e, s) for e in edits for s in (seeds if e == "permute" else (0,))]
    keys = [f"permute(seed={s})" if e == "permute" else e for e, s in runs]
    n = len(corpus)
    original, gold = [None] * n, [None] * n
    edited = {k: [None] * n for k in keys}
    changed = {k: [None] * n for k in keys}
    for batch in model_batches(model, corpus, batch_size):
        p, attention = _probs(model, batch)
        base = _greedy(model, batch) if greedy else None
        rows = list(zip(batch.index.tolist(), batch.tgt_lens.tolist(), strict=True))
        for r, (i, t) in enumerate(rows):
            original[i], gold[i] = p[r, :t].numpy(), batch.tgt_out[r, :t].numpy()
        for key, (name, s) in zip(keys, runs, strict=True):
            edit = _edit(name, s, attention, batch.tgt_lens)
            q, _ = _probs(model, batch, edit)
            hyps = _greedy(model, batch, edit) if greedy and name in _GREEDY else None
            for r, (i, t) in enumerate(rows):
                edited[key][i] = q[r, :t].numpy()
                if hyps is not None:
                    changed[key][i] = hyps[r] != base[r]
    summaries = {
        key: summarize_edit(
            key,
            original,
            edited[key],
            gold,
            None if changed[key][0] is None else changed[key],
            n_boot=n_boot,
            seed=seed,
        )
        for key in keys
    }
    params = {
        "edits": list(edits),
        "seeds": list(seeds),
        "greedy": greedy,
        "n_boot": n_boot,
        "seed": seed,
        "sentences": n,
    }
    return Faithfulness(summaries, params)


def leave_one_out(model, corpus: ParallelCorpus, **options) -> list[np.ndarray]:
    """Leave-one-out drops ``f(x) - f(x without s)`` per sentence ``[T, S]`` (occlusion).

    A convenience over :func:`attnprobe.runs.attribution.attribute` for
    :func:`attnprobe.analyses.faithfulness.compare_erasure`.
    """
    from attnprobe.runs.attribution import attribute

    return attribute(model, corpus, "occlusion", **options).matrices

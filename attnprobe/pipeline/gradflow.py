"""Step ``gradflow``: gradient reach by distance, path shares, path lengths (RNN graphs)."""

from __future__ import annotations

import numpy as np

from attnprobe.analyses.gradflow import gradient_profile
from attnprobe.data import ParallelCorpus
from attnprobe.pipeline.common import (
    FAR,
    NEAR,
    AnalysisContext,
    CapturedBatch,
    _clean,
    _finite_max,
    _finite_mean,
    _spread,
    word_masks,
)

#: sentences the gradient-flow analysis runs on (spread over the source lengths),
#: and how many of them the path decomposition uses (it runs the model 3 times)
GRADFLOW_SENTENCES, GRADFLOW_PATH_SENTENCES = 32, 12
#: sentence lengths (words) of the dependency-graph table
GRADFLOW_LENGTHS = (5, 10, 20, 40)


class GradflowAnalysis:
    """Gradient flow (:mod:`attnprobe.analyses.gradflow`, :mod:`attnprobe.runs.gradients`).

    Runs the model itself, in ``finish``, on :data:`GRADFLOW_SENTENCES` sentences
    spread over the source lengths (long distances need long sentences):
    ``|| d log p(y_t) / d e_s ||`` by distance ``|t - s|`` and by position from
    the end of the source, the split of the gradient into the attention and
    the recurrent path (stop-gradient runs through capture edits), and the
    shortest gradient path of the unrolled computation with and without
    attention edges.
    """

    title = "Gradient flow"
    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx

    def update(self, cb: CapturedBatch) -> None:  # runs the model itself in finish()
        return None

    def finish(self, done: dict) -> dict:
        from attnprobe.analyses.gradflow import decompose_paths
        from attnprobe.models.interface import require
        from attnprobe.runs.gradients import gradient_matrices, path_gradients

        model, data = self.ctx.model, self.ctx.corpus
        require(model, "recurrent_graph", "gradient flow")
        picks = _spread(data.lengths, GRADFLOW_SENTENCES)
        sub = ParallelCorpus([data.src[k] for k in picks], [data.tgt[k] for k in picks])
        mats = gradient_matrices(model, sub, batch_size=self.ctx.batch_size)
        masks = [word_masks(g.shape[1] - 1, g.shape[0] - 1) for g in mats]
        by_distance = gradient_profile(mats, masks=masks)
        from_end = gradient_profile(mats, "from-end", masks=masks)
        near, far = by_distance.mean_between(*NEAR), by_distance.mean_between(*FAR)
        rows = [
            ("sentences", len(sub), "spread over the source lengths"),
            ("mean gradient norm, distance 0-2", near, "|| d log p(y_t) / d e_s ||"),
            ("mean gradient norm, distance >= 20", far, "long distances (nan: none that long)"),
            ("far / near", far / near if near > 0 else None, "1: no decay with distance"),
        ]
        data_out = {
            "sentences": len(sub),
            "profile": by_distance.to_dict(),
            "from_end": from_end.to_dict(),
        }
        tables = [
            {
                "title": "mean gradient norm by distance |t - s| (words)",
                "columns": ["distance", "mean", "median", "entries"],
                "rows": [
                    [k, m, md, c]
                    for k, m, md, c in zip(
                        by_distance.keys,
                        by_distance.mean,
                        by_distance.median,
                        by_distance.count,
                        strict=True,
                    )
                    if k % 5 == 0 or k < 5
                ],
            }
        ]
        if self.ctx.sites:  # an attention path to split off
            every = max(1, len(sub) // GRADFLOW_PATH_SENTENCES)
            few = ParallelCorpus(sub.src[::every], sub.tgt[::every])
            runs = path_gradients(model, few, batch_size=self.ctx.batch_size, stops=STOP_PAIR)
            flat = {
                k: np.concatenate([g.reshape(-1, g.shape[-1]) for g in v]) for k, v in runs.items()
            }
            d = decompose_paths(
                flat["total"], {"attention": flat["init"], "recurrent": flat["attention"]}
            )
            rows += [
                (
                    "share through the attention",
                    d.projection["attention"],
                    "projection of the gradient with the initial state detached",
                ),
                (
                    "share through the initial state",
                    d.projection["recurrent"],
                    "projection of the gradient with the encoder states detached",
                ),
                ("decomposition gap", d.residual, "|| total - sum of parts || / || total ||"),
            ]
            data_out["paths"] = d.to_dict()
        lengths = {}
        for n in GRADFLOW_LENGTHS:
            with_attn = model.path_lengths(n + 1, n + 1)
            without = model.path_lengths(n + 1, n + 1, attention_edges=False)
            lengths[n] = (_finite_max(with_attn), _finite_max(without))
        dist = np.abs(np.arange(21)[:, None] - np.arange(21)[None, :])
        graph20 = {
            name: model.path_lengths(21, 21, attention_edges=edges)
            for name, edges in (("with", True), ("without", False))
        }
        data_out["path_lengths"] = {
            "distance": list(range(21)),
            **{
                name: [_finite_mean(m[dist == k]) for k in range(21)] for name, m in graph20.items()
            },
        }
        tables.append(
            {
                "title": "longest shortest gradient path (edges) by sentence length",
                "columns": ["words", "with attention edges", "without attention edges"],
                "rows": [[n, a, b] for n, (a, b) in lengths.items()],
            }
        )
        return {
            "title": self.title,
            "description": (
                "How large the gradient reaching each source word is, by distance to the "
                "target step, and which path it takes (stop-gradient runs through capture "
                "edits); the dependency graph makes the attention shortcut concrete."
            ),
            "metrics": [{"label": k, "value": _clean(v), "help": h} for k, v, h in rows],
            "tables": tables,
            "figures": ["gradient_by_distance", "path_length"],
            "data": data_out,
        }


#: the two stop-gradient runs of a clean cut (attention vs initial-state path)
STOP_PAIR = ("init", "attention")

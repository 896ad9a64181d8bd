"""Step ``gradflow``: gradient reach by distance, path shares, path lengths (RNN graphs)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from attnprobe.analyses.gradflow import gradient_profile, path_length_range
from attnprobe.data import ParallelCorpus
from attnprobe.pipeline.common import (
    FAR,
    NEAR,
    AnalysisContext,
    CapturedBatch,
    _finite_max,
    _spread,
    word_masks,
)

#: sentences the gradient-flow analysis runs on (spread over the source lengths),
#: and how many of them the path decomposition uses (it runs the model 3 times)
GRADFLOW_SENTENCES, GRADFLOW_PATH_SENTENCES = 32, 12
#: sentence lengths (words) of the dependency-graph table
GRADFLOW_LENGTHS = (5, 10, 20, 40)


@dataclass(frozen=True)
class GradflowResult:
    """What the ``gradflow`` step found (numbers only; the report words them).

    ``near`` and ``far`` are the mean gradient norms at the distances
    :data:`~attnprobe.pipeline.common.NEAR` and :data:`~attnprobe.pipeline.common.FAR`
    (None: no entry that far); ``paths`` is the attention / recurrent split
    (:meth:`PathDecomposition.to_dict`, None without attention); ``longest_path``
    holds, per sentence length in ``words``, the longest shortest gradient path
    ``with`` and ``without`` attention edges; ``path_lengths`` the median shortest
    path by distance in a 20-word graph (``with``, ``without``) and its range
    (``with_min``, ``with_max``, ``without_min``, ``without_max``).
    """

    sentences: int
    near: float | None
    far: float | None
    profile: dict  # GradientProfile.to_dict(), by distance |t - s|
    from_end: dict  # GradientProfile.to_dict(), by position from the end of the source
    paths: dict | None
    longest_path: dict  # {"words": [...], "with": [...], "without": [...]}
    path_lengths: dict  # {"distance": [...], "with": [...], "without": [...]}

    def to_dict(self) -> dict:
        """Plain JSON-able data (``paths`` left out when there is no attention path)."""
        d = asdict(self)
        if d["paths"] is None:
            del d["paths"]
        return d


class GradflowAnalysis:
    """Gradient flow (:mod:`attnprobe.analyses.gradflow`, :mod:`attnprobe.runs.gradients`).

    Runs the model itself, in ``finish``, on :data:`GRADFLOW_SENTENCES` sentences
    spread over the source lengths (long distances need long sentences):
    ``|| d log p(y_t) / d e_s ||`` by distance ``|t - s|`` and by position from
    the end of the source, the split of the gradient into the attention and
    the recurrent path (stop-gradient runs through capture edits), and the
    shortest gradient path of the unrolled computation with and without
    attention edges. In a sharded run it runs once, in the driver, on the same
    sentences (they are picked from the lengths of the whole corpus).
    """

    requires: tuple[str, ...] = ()

    def __init__(self, ctx: AnalysisContext):
        self.ctx = ctx

    def update(self, cb: CapturedBatch) -> None:  # runs the model itself in finish()
        return None

    def stats(self) -> dict:
        """Nothing to add up: the step runs once, on its own sample, in ``finish``."""
        return {}

    def finish(self, done: dict, stats: dict) -> GradflowResult:
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
        paths = None
        if self.ctx.sites:  # an attention path to split off
            every = max(1, len(sub) // GRADFLOW_PATH_SENTENCES)
            few = ParallelCorpus(sub.src[::every], sub.tgt[::every])
            runs = path_gradients(model, few, batch_size=self.ctx.batch_size, stops=STOP_PAIR)
            flat = {
                k: np.concatenate([g.reshape(-1, g.shape[-1]) for g in v]) for k, v in runs.items()
            }
            paths = decompose_paths(
                flat["total"], {"attention": flat["init"], "recurrent": flat["attention"]}
            ).to_dict()
        longest = {"words": list(GRADFLOW_LENGTHS), "with": [], "without": []}
        for n in GRADFLOW_LENGTHS:
            longest["with"].append(_finite_max(model.path_lengths(n + 1, n + 1)))
            longest["without"].append(
                _finite_max(model.path_lengths(n + 1, n + 1, attention_edges=False))
            )
        ranges = {  # per distance: min, median and max, not an average that hides the range
            name: path_length_range(model.path_lengths(21, 21, attention_edges=edges))
            for name, edges in (("with", True), ("without", False))
        }
        return GradflowResult(
            sentences=len(sub),
            near=_finite(near),
            far=_finite(far),
            profile=by_distance.to_dict(),
            from_end=from_end.to_dict(),
            paths=paths,
            longest_path=longest,
            path_lengths={
                "distance": ranges["with"]["distance"],
                **{name: r["median"] for name, r in ranges.items()},
                **{f"{name}_{k}": r[k] for name, r in ranges.items() for k in ("min", "max")},
            },
        )


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


#: the two stop-gradient runs of a clean cut (attention vs initial-state path)
STOP_PAIR = ("init", "attention")

"""The registry of analysis steps (a plain dict), shared by the driver and the shard unit."""

from __future__ import annotations

from collections.abc import Callable

from attnprobe.pipeline.alignment import AlignmentAnalysis
from attnprobe.pipeline.attribution import AttributionAnalysis
from attnprobe.pipeline.common import AnalysisContext
from attnprobe.pipeline.faithfulness import FaithfulnessAnalysis
from attnprobe.pipeline.gradflow import GradflowAnalysis
from attnprobe.pipeline.heads import HeadsAnalysis
from attnprobe.pipeline.patterns import PatternsAnalysis
from attnprobe.pipeline.quality import QualityAnalysis

__all__ = ["ANALYSES"]

#: analysis name -> step class (see :mod:`attnprobe.pipeline.common`): ``requires`` names
#: the steps whose results ``finish(done)`` reads; steps run in this dict's order (every
#: step after those it requires), whatever order the user lists them in. ``finish``
#: returns data only (a result dataclass with ``to_dict()``, a plain dict of numbers, or
#: ``skipped(reason)``), stored as ``metrics[name]`` for the core steps and under
#: ``metrics["sections"][name]`` for the others; :mod:`attnprobe.report.sections` words
#: it (titles, labels, help texts, tables). Per-sentence numbers go into
#: ``CapturedBatch.records`` and show up in the explorer when listed in
#: :data:`attnprobe.report.sections.COLUMNS`.
ANALYSES: dict[str, Callable[[AnalysisContext], object]] = {
    "alignment": AlignmentAnalysis,
    "quality": QualityAnalysis,
    "patterns": PatternsAnalysis,
    "gradflow": GradflowAnalysis,
    "attribution": AttributionAnalysis,
    "faithfulness": FaithfulnessAnalysis,
    "heads": HeadsAnalysis,
}

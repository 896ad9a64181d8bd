"""attnprobe: open up trained attentional sequence-to-sequence models.

The public API is imported lazily: ``import attnprobe`` is cheap and does not
import torch, so that model-free commands (``attnprobe score``) start fast.
A name is imported from its module the first time it is used.

Examples
--------
>>> import attnprobe
>>> attnprobe.__version__
'0.1.0'
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_EXPORTS: dict[str, str] = {
    "AttnprobeError": "attnprobe.errors",
    "InputError": "attnprobe.errors",
    "CheckpointError": "attnprobe.errors",
    "UnknownNameError": "attnprobe.errors",
    "SiteError": "attnprobe.errors",
    "Alignment": "attnprobe.alignment",
    "read_alignments": "attnprobe.alignment",
    "write_pharaoh": "attnprobe.alignment",
    "LinkTable": "attnprobe.alignment",
    "AlignmentScores": "attnprobe.alignment",
    "read_link_table": "attnprobe.alignment",
    "write_naacl": "attnprobe.alignment",
    "score_alignments": "attnprobe.alignment",
    "score_files": "attnprobe.alignment",
    "symmetrize_corpus": "attnprobe.alignment.symmetrize",
    "word_ids": "attnprobe.alignment.subwords",
    "subword_to_word": "attnprobe.alignment.subwords",
    "extract_alignment": "attnprobe.analyses.extraction",
    "sentence_patterns": "attnprobe.analyses.patterns",
    "corpus_patterns": "attnprobe.analyses.patterns",
    "SentencePatterns": "attnprobe.analyses.patterns",
    "CorpusPatterns": "attnprobe.analyses.patterns",
    "gradient_profile": "attnprobe.analyses.gradflow",
    "path_lengths": "attnprobe.analyses.gradflow",
    "decompose_paths": "attnprobe.analyses.gradflow",
    "gradient_matrices": "attnprobe.runs.gradients",
    "path_gradients": "attnprobe.runs.gradients",
    "ModelConfig": "attnprobe.models.reference.rnn",
    "Seq2Seq": "attnprobe.models.reference.rnn",
    "build_model": "attnprobe.models.reference.rnn",
    "load": "attnprobe.models.registry",
    "save": "attnprobe.models.checkpoint",
    "Vocab": "attnprobe.data",
    "ParallelCorpus": "attnprobe.data",
    "make_batch": "attnprobe.data",
    "ToyExample": "attnprobe.data.toy",
    "compare": "attnprobe.pipeline.comparison",
    "format_comparison": "attnprobe.pipeline.comparison",
    "analyze": "attnprobe.pipeline.driver",
    "ANALYSES": "attnprobe.pipeline.driver",
    "default_corpus": "attnprobe.pipeline.common",
    "Results": "attnprobe.results",
    "agreement": "attnprobe.analyses.agreement",
    "agreement_table": "attnprobe.analyses.agreement",
    "attribution_aer": "attnprobe.analyses.agreement",
    "run_edits": "attnprobe.runs.faithfulness",
    "attribute": "attnprobe.runs.attribution",
    "Attribution": "attnprobe.runs.attribution",
    "AttributionError": "attnprobe.runs.attribution",
    "TrainConfig": "attnprobe.models.reference.train",
    "Site": "attnprobe.capturing.sites",
    "find_sites": "attnprobe.capturing.discovery",
    "capture": "attnprobe.capturing.hooks",
    "Capture": "attnprobe.capturing.hooks",
    "Trace": "attnprobe.capturing.trace",
    "Example": "attnprobe.capturing.trace",
    "load_trace": "attnprobe.capturing.trace",
    "wrap": "attnprobe.models.wrap",
    "Wrapped": "attnprobe.models.wrap",
}

# public name -> a module that is itself public (``attnprobe.edits.uniform()``)
_MODULES: dict[str, str] = {
    "edits": "attnprobe.capturing.edits",
}

__all__ = ["__version__", *_EXPORTS, *_MODULES]


def __getattr__(name: str):
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    else:
        raise AttributeError(f"module 'attnprobe' has no attribute {name!r}")
    globals()[name] = value  # cache: the next lookup skips __getattr__
    return value


def __dir__():
    return sorted(__all__)

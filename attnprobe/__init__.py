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
    "symmetrize_corpus": "attnprobe.symmetrize",
    "word_ids": "attnprobe.subwords",
    "subword_to_word": "attnprobe.subwords",
    "extract_alignment": "attnprobe.analyses.extraction",
    "sentence_patterns": "attnprobe.analyses.patterns",
    "corpus_patterns": "attnprobe.analyses.patterns",
    "SentencePatterns": "attnprobe.analyses.patterns",
    "CorpusPatterns": "attnprobe.analyses.patterns",
    "gradient_profile": "attnprobe.analyses.gradflow",
    "path_lengths": "attnprobe.analyses.gradflow",
    "decompose_paths": "attnprobe.analyses.gradflow",
    "gradient_matrices": "attnprobe.gradients",
    "path_gradients": "attnprobe.gradients",
    "ModelConfig": "attnprobe.models.rnn",
    "Seq2Seq": "attnprobe.models.rnn",
    "build_model": "attnprobe.models.rnn",
    "load": "attnprobe.models.checkpoint",
    "save": "attnprobe.models.checkpoint",
    "Vocab": "attnprobe.data",
    "ParallelCorpus": "attnprobe.data",
    "ToyExample": "attnprobe.toy",
    "compare": "attnprobe.comparison",
    "format_comparison": "attnprobe.comparison",
    "analyze": "attnprobe.pipeline",
    "ANALYSES": "attnprobe.pipeline",
    "Results": "attnprobe.results",
    "agreement": "attnprobe.analyses.agreement",
    "agreement_table": "attnprobe.analyses.agreement",
    "attribution_aer": "attnprobe.analyses.agreement",
    "run_edits": "attnprobe.faithfulness",
    "attribute": "attnprobe.attribution",
    "Attribution": "attnprobe.attribution",
    "AttributionError": "attnprobe.attribution",
    "TrainConfig": "attnprobe.train",
    "Site": "attnprobe.sites",
    "find_sites": "attnprobe.sites",
    "capture": "attnprobe.hooks",
    "Capture": "attnprobe.hooks",
    "Trace": "attnprobe.trace",
    "Example": "attnprobe.trace",
    "load_trace": "attnprobe.trace",
    "wrap": "attnprobe.adapter",
    "Wrapped": "attnprobe.adapter",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'attnprobe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next lookup skips __getattr__
    return value


def __dir__():
    return sorted(__all__)

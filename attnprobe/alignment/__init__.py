"""Word alignments: the :class:`Alignment` type, its file formats, and AER scoring.

Inside attnprobe a link is ``(i, j)`` = (source index, target index), 0-based,
as in Pharaoh ``i-j``. Index base and direction are converted once, at the file
boundary, by explicit options. Possible links include the sure ones (S ⊆ P).

Two representations, one for people and one for speed:

* :class:`Alignment` holds one sentence pair as frozensets of links; it is what
  extraction and symmetrisation return and what a researcher inspects.
* :class:`LinkTable` holds a whole corpus as flat numpy arrays (links grouped by
  sentence, sure links first). Scoring runs on tables, so that a million
  sentences are scored in vectorised passes instead of a Python loop over sets.

Scoring follows the standard definitions (Och & Ney 2003) as the reference
scorers implement them, micro-averaged over the corpus: precision
``|A∩P|/|A|``, recall ``|A∩S|/|S|``, ``AER = 1 - (|A∩S| + |A∩P|) / (|A| + |S|)``.

The code lives in :mod:`.types` (Alignment, LinkTable), :mod:`.formats`
(readers, writers) and :mod:`.scoring` (AER etc.); every public name is
importable from here.
"""

from __future__ import annotations

from attnprobe.alignment.formats import (
    FORMATS,
    detect_format,
    file_format,
    format_naacl,
    format_pharaoh,
    read_alignments,
    read_bitext_lengths,
    read_link_table,
    write_naacl,
    write_pharaoh,
)
from attnprobe.alignment.scoring import (
    AlignmentScores,
    SentenceScores,
    score_alignments,
    score_files,
)
from attnprobe.alignment.types import Alignment, Link, LinkTable

__all__ = [
    "Alignment",
    "LinkTable",
    "Link",
    "AlignmentScores",
    "SentenceScores",
    "FORMATS",
    "format_pharaoh",
    "write_pharaoh",
    "format_naacl",
    "write_naacl",
    "detect_format",
    "file_format",
    "read_alignments",
    "read_link_table",
    "read_bitext_lengths",
    "score_alignments",
    "score_files",
]

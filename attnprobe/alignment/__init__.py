"""Word alignments: types, file formats, sentence matching, scoring, symmetrisation.

Inside attnprobe a link is ``(i, j)`` = (source index, target index), 0-based,
as in Pharaoh ``i-j``. Index base and direction are converted once, at the file
boundary, by explicit options. Possible links include the sure ones (S ⊆ P).

The package follows the data flow; every public name is importable from here:

* :mod:`.types`: :class:`Alignment` (one sentence) and :class:`LinkTable` (a corpus).
* :mod:`.formats`: Pharaoh and NAACL readers and writers, the text line reader.
* :mod:`.matching`: which sentence of one file pairs with which of another.
* :mod:`.scoring`: AER, precision, recall, F1.
* :mod:`.symmetrize` and :mod:`.subwords`: combining directions, subword to word links.

Examples
--------
>>> from attnprobe.alignment import Alignment, score_alignments
>>> score_alignments([Alignment.from_links([(0, 0)])], [Alignment.from_links([(0, 0)])]).aer
0.0
"""

from __future__ import annotations

from attnprobe.alignment.formats import (
    FORMATS,
    NULL_LINKS,
    detect_format,
    file_format,
    format_naacl,
    format_pharaoh,
    read_alignments,
    read_bitext_lengths,
    read_link_table,
    read_text_lines,
    write_naacl,
    write_pharaoh,
)
from attnprobe.alignment.matching import MATCHING
from attnprobe.alignment.scoring import (
    AlignmentScores,
    SentenceScores,
    score_alignments,
    score_files,
)
from attnprobe.alignment.types import MAX_INDEX, Alignment, Link, LinkTable

__all__ = [
    "Alignment",
    "LinkTable",
    "Link",
    "MAX_INDEX",
    "AlignmentScores",
    "SentenceScores",
    "FORMATS",
    "NULL_LINKS",
    "MATCHING",
    "format_pharaoh",
    "write_pharaoh",
    "format_naacl",
    "write_naacl",
    "detect_format",
    "file_format",
    "read_text_lines",
    "read_alignments",
    "read_link_table",
    "read_bitext_lengths",
    "score_alignments",
    "score_files",
]

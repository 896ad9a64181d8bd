"""Subword to word alignments.

Models read subwords (SentencePiece pieces, BPE units); gold alignments link
words. A word link exists when any subword of the source word is linked to any
subword of the target word ("any-to-any", as awesome-align maps its subword
alignments back to words).

Two tokenisation conventions are understood:

* ``sentencepiece``: a piece that starts with ``▁`` (U+2581) begins a word;
  so does the very first piece.
* ``bpe``: a unit that ends with ``@@`` continues into the next unit (the
  subword-nmt convention); any other unit ends its word.
"""

from __future__ import annotations

from collections.abc import Sequence

from attnprobe.alignment import Alignment
from attnprobe.errors import InputError, UnknownNameError

__all__ = ["SUBWORD_CONVENTIONS", "word_ids", "subword_to_word"]

#: Tokenisation conventions :func:`word_ids` understands.
SUBWORD_CONVENTIONS = ("sentencepiece", "bpe")

_SP_MARK = "\u2581"


def word_ids(tokens: Sequence[str], convention: str) -> list[int]:
    """The 0-based word number of every subword token.

    Parameters
    ----------
    tokens : the subword tokens of one sentence.
    convention : ``"sentencepiece"`` (``▁`` starts a word) or ``"bpe"``
        (``@@`` at the end continues the word).

    Raises
    ------
    UnknownNameError
        An unknown convention.
    InputError
        A BPE sentence whose last unit still ends with ``@@``.

    Examples
    --------
    >>> word_ids(["▁the", "▁house", "s", "▁", "!"], "sentencepiece")
    [0, 1, 1, 2, 2]
    >>> word_ids(["the", "hou@@", "ses", "!"], "bpe")
    [0, 1, 1, 2]
    """
    if convention not in SUBWORD_CONVENTIONS:
        raise UnknownNameError("subword convention", convention, SUBWORD_CONVENTIONS)
    ids: list[int] = []
    word = -1
    if convention == "sentencepiece":
        for k, token in enumerate(tokens):
            if k == 0 or token.startswith(_SP_MARK):
                word += 1
            ids.append(word)
        return ids
    continues = False
    for token in tokens:
        if not continues:
            word += 1
        ids.append(word)
        continues = token.endswith("@@")
    if continues:
        raise InputError(
            f"the last BPE unit {tokens[-1]!r} ends with '@@' but no unit follows",
            fix="pass the complete subword sequence of the sentence",
        )
    return ids


def subword_to_word(
    alignment: Alignment, src_words: Sequence[int], tgt_words: Sequence[int]
) -> Alignment:
    """Map a subword alignment to words: any linked subword pair links its words.

    Sure links map to sure links, possible-only links to possible links (a word
    pair that gets both is sure).

    Parameters
    ----------
    alignment : links between subword positions.
    src_words, tgt_words : the word number of each source / target subword,
        e.g. from :func:`word_ids`.

    Returns
    -------
    Alignment
        Word links, with the word counts as lengths.

    Raises
    ------
    InputError
        A link points past the given subwords.

    Examples
    --------
    >>> src = word_ids(["▁un", "believ", "able", "▁!"], "sentencepiece")
    >>> tgt = word_ids(["un@@", "glaub@@", "lich", "!"], "bpe")
    >>> a = Alignment.from_links([(0, 0), (1, 1), (2, 2), (3, 3)])
    >>> sorted(subword_to_word(a, src, tgt).sure)
    [(0, 0), (1, 1)]
    """
    n_src, n_tgt = len(src_words), len(tgt_words)
    for i, j in alignment.possible:
        if i >= n_src or j >= n_tgt:
            raise InputError(
                f"subword link {i}-{j} points past the {n_src} source / {n_tgt} target subwords",
                fix="pass the word ids of the same tokenisation the alignment was made on",
            )
    sure = {(src_words[i], tgt_words[j]) for i, j in alignment.sure}
    possible = {(src_words[i], tgt_words[j]) for i, j in alignment.possible}
    return Alignment(
        frozenset(sure),
        frozenset(possible),
        max(src_words, default=-1) + 1,
        max(tgt_words, default=-1) + 1,
    )

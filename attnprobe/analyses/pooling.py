"""From token positions to words: pool an attention (or attribution) matrix.

A model's positions are its own tokens: one per word for word-level models,
several for subword models, plus special tokens (EOS, language codes). The
analyses work on word-level matrices ``[m + 1, n + 1]``: one row per target
word and one column per source word, the last row and column holding the
special tokens (the EOS step, the source EOS), as word-level models have them.

The rules are :func:`attnprobe.alignment.subwords.pool_matrix`'s (recorded in
signatures as :data:`attnprobe.alignment.subwords.POOLING`): the columns of a
word's source pieces are summed (attention mass on the word), the rows of a
word's target pieces averaged (each row is a distribution, so the average stays
one). Here special positions are not dropped but pooled into the last row /
column the same way. For a word-level layout (positions ``0 .. n-1`` then one
special) this is the identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from attnprobe.alignment.subwords import pool_matrix

__all__ = ["pool_words"]


def pool_words(
    matrix: np.ndarray, src_words: Sequence[int], tgt_words: Sequence[int]
) -> np.ndarray:
    """Pool a ``[T, S]`` position matrix into words ``[m + 1, n + 1]`` (see the module docstring).

    ``src_words[s]`` / ``tgt_words[t]``: the word of position s / step t, ``-1``
    for a special token. A word without pieces gets a zero column (source) or
    a zero row (target).

    Examples
    --------
    >>> m = np.array([[0.5, 0.25, 0.25], [0.0, 0.5, 0.5]])
    >>> pool_words(m, [0, 1, -1], [0, -1]).tolist()      # word-level: unchanged
    [[0.5, 0.25, 0.25], [0.0, 0.5, 0.5]]
    >>> pool_words(m, [0, 0, -1], [0, 0]).tolist()       # two pieces of one word each side
    [[0.625, 0.375], [0.0, 0.0]]
    """
    T, S = np.shape(matrix)  # pool_matrix checks the word ids against these
    if list(src_words) == [*range(S - 1), -1] and list(tgt_words) == [*range(T - 1), -1]:
        return matrix
    n_src = max((w for w in src_words if w >= 0), default=-1) + 1
    n_tgt = max((w for w in tgt_words if w >= 0), default=-1) + 1
    return pool_matrix(  # specials (-1) become the extra last word of each side
        matrix,
        [w if w >= 0 else n_src for w in src_words],
        [w if w >= 0 else n_tgt for w in tgt_words],
        n_src + 1,
        n_tgt + 1,
    )

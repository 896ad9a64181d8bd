"""From token positions to words: pool an attention (or attribution) matrix.

A model's positions are its own tokens: one per word for word-level models,
several for subword models, plus special tokens (EOS, language codes). The
analyses work on word-level matrices ``[m + 1, n + 1]``: one row per target
word and one column per source word, the last row and column holding the
special tokens (the EOS step, the source EOS), as word-level models have them.

Rules (recorded in the signature as :data:`RULE`): the columns of a word's
source pieces are summed (attention mass on the word), the rows of a word's
target pieces averaged (each row is a distribution, so the average stays one);
special positions pool into the last row / column the same way. For a
word-level layout (positions ``0 .. n-1`` then one special) this is the identity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["RULE", "pool_words"]

RULE = "source pieces summed, target pieces averaged, specials pooled into the last row/column"


def _groups(words: Sequence[int]) -> list[list[int]]:
    n = max((w for w in words if w >= 0), default=-1) + 1
    groups: list[list[int]] = [[] for _ in range(n + 1)]
    for pos, w in enumerate(words):
        groups[w if w >= 0 else n].append(pos)
    return groups


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
    T, S = matrix.shape
    if len(src_words) != S or len(tgt_words) != T:
        from attnprobe.errors import InputError

        raise InputError(
            f"a [{T}, {S}] matrix needs {T} target and {S} source word ids, got "
            f"{len(tgt_words)} and {len(src_words)}"
        )
    if list(src_words) == [*range(S - 1), -1] and list(tgt_words) == [*range(T - 1), -1]:
        return matrix
    cols = _groups(src_words)
    rows = _groups(tgt_words)
    by_col = np.stack(
        [matrix[:, c].sum(1) if c else np.zeros(T) for c in cols], axis=1
    )  # [T, n + 1]
    out = np.stack(
        [by_col[r].mean(0) if r else np.zeros(len(cols)) for r in rows], axis=0
    )  # [m + 1, n + 1]
    return out

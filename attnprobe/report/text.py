"""Plain-text views for the terminal: an attention matrix as a shaded grid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from attnprobe.errors import InputError

__all__ = ["attention_grid"]

_SHADES = " ░▒▓█"


def attention_grid(
    weights, src_tokens: Sequence[str], tgt_tokens: Sequence[str], width: int = 3
) -> str:
    """Render a ``[T, S]`` attention matrix as text: target rows, source columns.

    Each cell is shaded by its weight (blank < 0.1 <= ░ < 0.3 <= ▒ < 0.5 <= ▓ < 0.7 <= █)
    and the row's largest weight is marked with its value in hundredths.
    Source tokens are written vertically above the columns.

    Examples
    --------
    >>> print(attention_grid([[0.9, 0.1], [0.2, 0.8]], ["a", "bb"], ["x", "y"]))
       a  b
          b
    x 90 ░░
    y ░░ 80
    """
    w = np.asarray(weights, dtype=float)
    T, S = w.shape
    if (T, S) != (len(tgt_tokens), len(src_tokens)):
        raise InputError(
            f"weights are {T}x{S} but there are {len(tgt_tokens)} target and "
            f"{len(src_tokens)} source tokens"
        )
    label = max((len(t) for t in tgt_tokens), default=0)
    depth = max((len(s) for s in src_tokens), default=0)
    lines = []
    for k in range(depth):  # source tokens written top to bottom
        cells = "".join(f"{s[k] if k < len(s) else '':>{width}}" for s in src_tokens)
        lines.append(" " * label + cells)
    for t, token in enumerate(tgt_tokens):
        best = int(w[t].argmax()) if S else -1
        cells = []
        for s in range(S):
            if s == best:
                cells.append(f"{min(int(round(w[t, s] * 100)), 99):>{width}}")
            else:
                shade = _SHADES[int(np.searchsorted([0.1, 0.3, 0.5, 0.7], w[t, s], "right"))]
                cells.append(" " + shade * (width - 1))
        lines.append(f"{token:<{label}}" + "".join(cells))
    return "\n".join(line.rstrip() for line in lines)

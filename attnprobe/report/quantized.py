"""Attention matrices at one byte a cell: what ``sentences.jsonl`` stores and the explorer draws.

This module sits below both :mod:`attnprobe.results` (which writes the
records) and :mod:`attnprobe.report.html` (which reads them), so that neither
has to import the other. It needs numpy only.
"""

from __future__ import annotations

import base64

import numpy as np

from attnprobe.errors import InputError

__all__ = ["quantize", "dequantize"]


def quantize(matrix) -> dict:
    """A ``[T, S]`` matrix of weights in [0, 1] as 8-bit levels, base64: ``{"shape", "q8"}``.

    Level ``k`` stands for ``k / 255`` (error at most 0.002): enough to draw a
    heatmap and read a weight to two decimals, at one byte a cell.

    Examples
    --------
    >>> q = quantize([[0.0, 1.0], [0.5, 0.25]])
    >>> q["shape"], dequantize(q).round(3).tolist()
    ([2, 2], [[0.0, 1.0], [0.502, 0.251]])
    """
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2:
        raise InputError(f"expected a [T, S] matrix, got shape {a.shape}")
    levels = np.rint(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8)
    return {"shape": list(a.shape), "q8": base64.b64encode(levels.tobytes()).decode("ascii")}


def dequantize(q: dict) -> np.ndarray:
    """Inverse of :func:`quantize`: float64 ``[T, S]`` in [0, 1].

    Examples
    --------
    >>> dequantize({"shape": [1, 2], "q8": "AP8="}).tolist()
    [[0.0, 1.0]]
    """
    raw = np.frombuffer(base64.b64decode(q["q8"]), dtype=np.uint8)
    return raw.reshape(q["shape"]).astype(np.float64) / 255

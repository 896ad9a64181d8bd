"""Sufficient statistics of a shard, merged exactly into those of the corpus.

Every corpus number of ``analyze`` is a function of statistics that add up
over sentences: link counts for AER (``|A∩S|``, ``|A∩P|``, ``|A|``, ``|S|``),
n-gram counts for BLEU, sums and counts for means, per-sentence values for
bootstrap intervals. A shard returns them as a plain dict (string keys, so it
round-trips through JSON); :func:`merge` combines two such dicts, and the
steps' ``finish`` reads only merged statistics. The merge rule follows the
value's type, so a statistic says how it merges by what it is:

- ``int``, ``float``, numpy arrays: added (counts, sums);
- :class:`Max`: the larger value (a worst case);
- ``list``: concatenated in corpus order (per-sentence values);
- :class:`Rows`: a numeric table's rows stacked, in the order of the arguments
  (per-sentence values as one array, for parts that hold sentences out of order:
  a column says which sentence a row is);
- ``dict``: merged key by key (a key in one side only is taken as it is),
  which covers counters (``{"-1": 3}``) and samples keyed by position.

Merging is associative, so shards can be merged in any grouping: counts come
out exactly equal, float sums equal up to rounding (about 1e-16 relative).
Lists concatenate in the order of the arguments: merge shards in corpus order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

__all__ = ["Max", "Rows", "merge", "merge_all", "dumps", "loads"]


@dataclass(frozen=True)
class Max:
    """A statistic merged by taking the larger value (None: nothing seen yet).

    Examples
    --------
    >>> merge({"worst": Max(0.5)}, {"worst": Max(2.0)})
    {'worst': Max(value=2.0)}
    """

    value: float | None

    def __add__(self, other: Max) -> Max:
        vals = [v for v in (self.value, other.value) if v is not None]
        return Max(max(vals) if vals else None)


@dataclass(frozen=True, eq=False)
class Rows:
    """A statistic of per-sentence rows (a 2-D numpy array), merged by stacking them.

    Examples
    --------
    >>> both = merge({"r": Rows(np.array([[0.0, 1.5]]))}, {"r": Rows(np.array([[1.0, 2.5]]))})
    >>> both["r"].array.tolist()
    [[0.0, 1.5], [1.0, 2.5]]
    """

    array: np.ndarray

    def __add__(self, other: Rows) -> Rows:
        return Rows(np.concatenate([self.array, other.array]))


def merge(a: dict, b: dict) -> dict:
    """Statistics of two parts merged into those of both (neither input changes).

    Examples
    --------
    >>> merge({"n": 2, "sum": 1.5, "by": {"x": 1}, "rows": [1]},
    ...       {"n": 3, "sum": 0.5, "by": {"x": 1, "y": 4}, "rows": [2, 3]})
    {'n': 5, 'sum': 2.0, 'by': {'x': 2, 'y': 4}, 'rows': [1, 2, 3]}
    """
    out = dict(a)
    for key, v in b.items():
        out[key] = _merge_value(out[key], v, key) if key in out else v
    return out


def _merge_value(x, y, key):
    if isinstance(x, dict) and isinstance(y, dict):
        return merge(x, y)
    if isinstance(x, list) and isinstance(y, list):
        return x + y
    if isinstance(x, Max) and isinstance(y, Max) or isinstance(x, Rows) and isinstance(y, Rows):
        return x + y
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return np.add(x, y)
    if isinstance(x, int | float) and isinstance(y, int | float):
        return x + y
    raise TypeError(f"statistic {key!r}: cannot merge {type(x).__name__} with {type(y).__name__}")


def merge_all(parts) -> dict:
    """Merge many parts, in the order given (corpus order).

    Examples
    --------
    >>> merge_all([{"n": 1}, {"n": 2}, {}])
    {'n': 3}
    """
    out: dict = {}
    for p in parts:
        out = merge(out, p)
    return out


def _encode(x):
    if isinstance(x, dict):
        return {k: _encode(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_encode(v) for v in x]
    if isinstance(x, Max):
        return {"__max__": x.value}
    if isinstance(x, Rows):
        return {"__rows__": _encode(x.array)}
    if isinstance(x, np.ndarray):
        return {"__array__": x.tolist(), "dtype": x.dtype.str, "shape": list(x.shape)}
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return x


def _decode(x):
    if isinstance(x, dict):
        if "__max__" in x:
            return Max(x["__max__"])
        if "__rows__" in x:
            return Rows(_decode(x["__rows__"]))
        if "__array__" in x:
            return np.array(x["__array__"], dtype=np.dtype(x["dtype"])).reshape(x["shape"])
        return {k: _decode(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_decode(v) for v in x]
    return x


def dumps(stats: dict) -> str:
    """Statistics as JSON text (floats exactly: Python writes the shortest repr).

    Examples
    --------
    >>> s = {"c": np.array([1, 2]), "m": Max(0.1), "f": 1 / 3, "r": Rows(np.eye(2))}
    >>> t = loads(dumps(s))
    >>> t["c"].tolist(), t["m"], t["f"] == 1 / 3, t["r"].array.tolist()
    ([1, 2], Max(value=0.1), True, [[1.0, 0.0], [0.0, 1.0]])
    """
    return json.dumps(_encode(stats), separators=(",", ":"), allow_nan=True)


def loads(text: str) -> dict:
    """Inverse of :func:`dumps`."""
    return _decode(json.loads(text))

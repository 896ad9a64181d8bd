"""Corpora of random toy pairs: :func:`generate`, the fixed :data:`SPLITS` and files."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from attnprobe.alignment import Alignment, write_pharaoh
from attnprobe.data import ParallelCorpus
from attnprobe.data.toy.grammar import ToyExample, ToyPair, _english, _translate
from attnprobe.data.toy.pairs import _pair
from attnprobe.data.toy.sampling import _sentence
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.fileio import write_text_atomic


@dataclass(frozen=True)
class SplitSpec:
    """Size, seed and hash share of one split.

    An English sentence belongs to the split whose ``buckets`` contain the
    stable hash of its text modulo 100, so splits never share a source.
    """

    size: int
    seed: int
    buckets: range


SPLITS: dict[str, SplitSpec] = {
    "train": SplitSpec(40_000, 1, range(20, 100)),
    "dev": SplitSpec(500, 2, range(12, 20)),
    "test": SplitSpec(1_200, 3, range(0, 12)),
}


def _bucket(source: str) -> int:
    """Stable hash of an English sentence, 0..99 (the same on every platform)."""
    return int.from_bytes(hashlib.blake2b(source.encode(), digest_size=8).digest(), "big") % 100


_MAX_DRAWS = 5_000  # tries to find a sentence of one length in the split's share
_DEDUP_DRAWS = 50  # after this many tries, accept a sentence already in the output


def generate(
    pair: str,
    n: int,
    seed: int,
    *,
    min_len: int = 1,
    max_len: int = 60,
    split: str | None = None,
) -> list[ToyExample]:
    """Generate ``n`` random sentence pairs with gold alignments.

    Source lengths (English words) are exactly uniform over
    ``min_len..max_len`` in each block of ``max_len - min_len + 1`` examples;
    the first ``k`` examples of a call do not depend on ``n``. Sentences repeat
    only where the short lengths run out of distinct sentences.

    Parameters
    ----------
    pair : a key of :data:`PAIRS`.
    n : number of examples.
    seed : seed of a private :class:`random.Random`; the English side does not
        depend on ``pair``.
    min_len, max_len : range of source lengths, 1 <= min_len <= max_len.
    split : keep only sentences whose hash falls in this split's share
        (see :data:`SPLITS`), so that different splits never share a source.

    Returns
    -------
    list of ToyExample

    Raises
    ------
    UnknownNameError : unknown pair or split.
    InputError : bad ``n`` or lengths.

    Examples
    --------
    >>> [" ".join(e.src) for e in generate("enfr", 3, seed=7, max_len=3)]
    ['read john now', 'run', 'often walk']
    >>> generate("enfr", 2, seed=7) == generate("enfr", 2, seed=7)
    True
    """
    p = _pair(pair)
    if split is not None and split not in SPLITS:
        raise UnknownNameError("split", split, list(SPLITS))
    if not isinstance(n, int) or n < 0:
        raise InputError(f"number of examples must be an integer >= 0, got {n!r}")
    if not 1 <= min_len <= max_len:
        raise InputError(f"need 1 <= min_len <= max_len, got {min_len} and {max_len}")
    rng = random.Random(seed)
    buckets = SPLITS[split].buckets if split else range(100)
    out: list[ToyExample] = []
    seen: set[str] = set()
    while len(out) < n:
        block = list(range(min_len, max_len + 1))
        rng.shuffle(block)
        for length in block[: n - len(out)]:
            out.append(_draw(rng, p, length, buckets, seen))
    return out


def _draw(rng, p: ToyPair, length: int, buckets: range, seen: set[str]) -> ToyExample:
    for attempt in range(_MAX_DRAWS):
        s = _sentence(rng, length)
        english = _english(s)
        key = " ".join(english[0])
        if _bucket(key) in buckets and (key not in seen or attempt >= _DEDUP_DRAWS):
            seen.add(key)
            return _translate(p, s, english)
    raise InputError(f"found no sentence of length {length} in {_MAX_DRAWS} tries",
                     fix="widen the split's share or the length range")  # fmt: skip


def generate_split(pair: str, split: str) -> list[ToyExample]:
    """The fixed split ``split`` of ``pair`` (size and seed from :data:`SPLITS`).

    Examples
    --------
    >>> dev = generate_split("enja", "dev")
    >>> len(dev), min(len(e.src) for e in dev), max(len(e.src) for e in dev)
    (500, 1, 60)
    """
    if split not in SPLITS:
        raise UnknownNameError("split", split, list(SPLITS))
    spec = SPLITS[split]
    return generate(pair, spec.size, spec.seed, split=split)


def split_corpus(pair: str, split: str) -> tuple[ParallelCorpus, list[Alignment]]:
    """The split ``split`` of ``pair`` as a corpus, with its gold alignments.

    Examples
    --------
    >>> corpus, gold = split_corpus("enfr", "dev")
    >>> len(corpus), corpus.name, len(gold)
    (500, 'toy enfr dev', 500)
    """
    examples = generate_split(pair, split)
    corpus = ParallelCorpus(
        [list(e.src) for e in examples], [list(e.tgt) for e in examples], name=f"toy {pair} {split}"
    )
    return corpus, [e.alignment for e in examples]


def write_corpus(
    pair: str,
    out_dir: str | os.PathLike,
    splits: Sequence[str] = ("train", "dev", "test"),
) -> list[Path]:
    """Write ``<split>.src``, ``<split>.tgt`` and ``<split>.gold`` for each split.

    Tokens are space-separated, one sentence per line; ``.gold`` is Pharaoh,
    0-based ``src-tgt`` (``i-j`` sure, ``ipj`` possible-only). Each file is
    written atomically; ``out_dir`` is created if needed.

    Returns
    -------
    list of Path : the files written.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_corpus("enfr", tempfile.mkdtemp(), splits=["dev"])
    >>> [p.name for p in paths]
    ['dev.src', 'dev.tgt', 'dev.gold']
    >>> len(paths[0].read_text().splitlines())
    500
    """
    _pair(pair)
    for split in splits:
        if split not in SPLITS:
            raise UnknownNameError("split", split, list(SPLITS))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split in splits:
        examples = generate_split(pair, split)
        src, tgt, gold = (out / f"{split}.{ext}" for ext in ("src", "tgt", "gold"))
        write_text_atomic(src, "".join(" ".join(e.src) + "\n" for e in examples))
        write_text_atomic(tgt, "".join(" ".join(e.tgt) + "\n" for e in examples))
        write_pharaoh(gold, [e.alignment for e in examples])
        written += [src, tgt, gold]
    return written

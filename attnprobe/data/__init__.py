"""Vocabularies, parallel corpora and length-bucketed batches.

Conventions (shared by every reference model):

- Special tokens have fixed ids: ``<pad>`` 0, ``<unk>`` 1, ``<s>`` 2 (BOS), ``</s>`` 3 (EOS).
- A source sentence of n words is encoded as n ids followed by EOS (S = n + 1).
- A target sentence of m words gives the decoder input ``BOS y_1 .. y_m`` and the
  expected output ``y_1 .. y_m EOS`` (T = m + 1). Decoder step t predicts target
  word t (0-based) and reads target word t-1 as input.

Corpora are token lists in memory; files are whitespace-tokenised, one
sentence per line. Reading checks what a user can get wrong (line counts,
empty files) and names the file and line.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from attnprobe.errors import InputError

__all__ = [
    "PAD",
    "UNK",
    "BOS",
    "EOS",
    "SPECIALS",
    "Vocab",
    "ParallelCorpus",
    "Batch",
    "make_batch",
    "bucket_batches",
    "corpus_batches",
]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIALS = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = range(4)


class Vocab:
    """A token <-> id mapping, with the special tokens named.

    attnprobe never renumbers a model's vocabulary: a token list in the model's
    own id order is kept as it is, and the special tokens are found by name
    (``pad``, ``unk``, ``bos``, ``eos``; give the model's own spellings).
    :meth:`build` makes a new vocabulary with ``<pad> <unk> <s> </s>`` first
    (ids 0-3), the layout of attnprobe's reference models.

    Examples
    --------
    >>> v = Vocab.build([["a", "b", "a"], ["c"]])
    >>> v.tokens
    ['<pad>', '<unk>', '<s>', '</s>', 'a', 'b', 'c']
    >>> v.encode(["a", "zzz"])
    [4, 1]
    >>> v.decode([4, 6, 3, 5])
    ['a', 'c']

    A model's own vocabulary, specials anywhere:

    >>> own = Vocab(["</s>", "x", "<blank>", "<u>", "<go>"], pad="<blank>", unk="<u>",
    ...             bos="<go>", eos="</s>")
    >>> own.pad_id, own.unk_id, own.bos_id, own.eos_id, own.encode(["x", "y"])
    (2, 3, 4, 0, [1, 3])
    """

    def __init__(
        self,
        tokens: Sequence[str],
        *,
        pad: str = PAD,
        unk: str = UNK,
        bos: str = BOS,
        eos: str = EOS,
    ):
        tokens = list(tokens)
        if len(set(tokens)) != len(tokens):
            dup = [t for t, n in Counter(tokens).items() if n > 1][:3]
            raise InputError(f"duplicate vocabulary entries {dup}")
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(tokens)}
        named = {"pad": pad, "unk": unk, "bos": bos, "eos": eos}
        missing = {k: v for k, v in named.items() if v not in self.index}
        if missing:
            raise InputError(
                f"the vocabulary ({len(tokens)} tokens, first {tokens[:4]}) has no "
                + ", ".join(f"{k} token {v!r}" for k, v in missing.items()),
                fix="name the model's own special tokens: Vocab(tokens, pad=..., unk=..., "
                "bos=..., eos=...)",
            )
        self.specials = named
        self.pad_id, self.unk_id = self.index[pad], self.index[unk]
        self.bos_id, self.eos_id = self.index[bos], self.index[eos]

    @property
    def special_ids(self) -> frozenset[int]:
        """Ids of the special tokens (never words)."""
        return frozenset((self.pad_id, self.unk_id, self.bos_id, self.eos_id)) - {self.unk_id}

    @classmethod
    def build(
        cls, sentences: Iterable[Sequence[str]], min_freq: int = 1, max_size: int | None = None
    ) -> Vocab:
        """Vocabulary of the tokens seen at least ``min_freq`` times, most frequent first.

        Ties are broken alphabetically, so the result is deterministic.

        Examples
        --------
        >>> Vocab.build([["b", "a", "b"]], max_size=1).tokens[4:]
        ['b']
        """
        counts = Counter(t for s in sentences for t in s)
        ranked = sorted(
            (t for t, n in counts.items() if n >= min_freq and t not in SPECIALS),
            key=lambda t: (-counts[t], t),
        )
        return cls([*SPECIALS, *ranked[:max_size]])

    def __len__(self) -> int:
        return len(self.tokens)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Vocab)
            and self.tokens == other.tokens
            and self.specials == other.specials
        )

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; unknown tokens become ``<unk>`` (id 1)."""
        return [self.index.get(t, self.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` up to the first EOS, without BOS and PAD."""
        out = []
        for i in ids:
            if i == self.eos_id:
                break
            if i not in (self.bos_id, self.pad_id):
                out.append(self.tokens[i])
        return out

    def count_unknown(self, tokens: Sequence[str]) -> int:
        """How many of ``tokens`` are not in the vocabulary.

        Examples
        --------
        >>> Vocab.build([["a"]]).count_unknown(["a", "b", "c"])
        2
        """
        return sum(t not in self.index for t in tokens)


def _read_lines(path: str | os.PathLike) -> list[str]:
    """The lines of a UTF-8 text file, ending at ``\\n`` or ``\\r\\n`` only; an empty file is
    an error (see :func:`attnprobe.alignment.read_text_lines`, the one line reader)."""
    from attnprobe.alignment.formats import read_text_lines

    return read_text_lines(Path(path))


@dataclass
class ParallelCorpus:
    """Sentence pairs as token lists (source, target), with an optional name.

    Examples
    --------
    >>> c = ParallelCorpus([["a", "b"]], [["x"]])
    >>> len(c), c.src[0], c.tgt[0]
    (1, ['a', 'b'], ['x'])
    """

    src: list[list[str]]
    tgt: list[list[str]]
    name: str | None = None
    lengths: list[int] = field(init=False, repr=False)

    def __post_init__(self):
        if len(self.src) != len(self.tgt):
            raise InputError(f"{len(self.src)} source sentences but {len(self.tgt)} target ones")
        self.lengths = [len(s) for s in self.src]

    def __len__(self) -> int:
        return len(self.src)

    @classmethod
    def read(cls, src_path, tgt_path, name: str | None = None) -> ParallelCorpus:
        """Read whitespace-tokenised source and target files (one sentence per line).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a.src").write_text("the cat\\n"); _ = (d / "a.tgt").write_text("le chat\\n")
        >>> ParallelCorpus.read(d / "a.src", d / "a.tgt").tgt
        [['le', 'chat']]
        """
        src, tgt = _read_pair_lines(src_path, tgt_path)
        return cls([s.split() for s in src], [t.split() for t in tgt], name=name)

    @classmethod
    def read_bitext(cls, path, name: str | None = None) -> ParallelCorpus:
        """Read ``source tokens ||| target tokens`` lines.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "b.txt"
        >>> _ = p.write_text("the  cat ||| le chat\\n")
        >>> ParallelCorpus.read_bitext(p).src
        [['the', 'cat']]
        """
        src, tgt = [], []
        for s, t in _bitext_sides(path):
            src.append(s.split())
            tgt.append(t.split())
        return cls(src, tgt, name=name)


def _read_pair_lines(src_path, tgt_path) -> tuple[list[str], list[str]]:
    """The lines of a source and a target file, checked: as many of each, none empty."""
    src, tgt = _read_lines(src_path), _read_lines(tgt_path)
    if len(src) != len(tgt):
        raise InputError(
            f"{len(tgt)} lines, but the source file {src_path} has {len(src)}",
            path=tgt_path,
            fix="give a source and a target file with one sentence per line each",
        )
    for path, lines in ((src_path, src), (tgt_path, tgt)):
        for n, line in enumerate(lines, 1):
            if not line.strip():
                raise InputError(
                    "empty sentence",
                    path=path,
                    line=n,
                    fix="remove empty lines from both files",
                )
    return src, tgt


def _bitext_sides(path) -> Iterator[tuple[str, str]]:
    """The (source, target) text of each ``source ||| target`` line, checked."""
    for n, line in enumerate(_read_lines(path), 1):
        parts = line.split(" ||| ")
        if len(parts) != 2 or not parts[0].split() or not parts[1].split():
            raise InputError(
                "expected 'source tokens ||| target tokens'",
                path=path,
                line=n,
                fix="separate the two sides with ' ||| ' and leave neither empty",
            )
        yield parts[0], parts[1]


class Batch(NamedTuple):
    """A padded batch in a model's own ids. Shapes: ``src`` [B, S], ``tgt_in``/``tgt_out`` [B, T].

    ``src_lens`` and ``tgt_lens`` [B] count real positions (EOS included);
    ``index`` [B] gives each row's sentence number in the corpus.
    ``src_words[b][s]`` is the word (0-based) that source position ``s`` belongs
    to, ``tgt_words[b][t]`` the word that decoder step ``t`` outputs; ``-1``
    marks a special token (EOS, a language code, ...). Word-level models have
    one position per word; subword models several.
    """

    src: object
    src_lens: object
    tgt_in: object
    tgt_out: object
    tgt_lens: object
    index: object
    src_words: list | None = None
    tgt_words: list | None = None

    def word_ids(self, b: int, S: int, T: int) -> tuple[list[int], list[int]]:
        """Row ``b``'s word ids of its first ``S`` source positions and ``T`` steps (without
        ``src_words``/``tgt_words``: the word-level layout, words then one special).

        Examples
        --------
        >>> Batch(*[None] * 6).word_ids(0, 3, 2)
        ([0, 1, -1], [0, -1])
        """
        src = self.src_words[b][:S] if self.src_words else [*range(S - 1), -1]
        tgt = self.tgt_words[b][:T] if self.tgt_words else [*range(T - 1), -1]
        return src, tgt


def make_batch(
    src: Sequence[Sequence[str]],
    tgt: Sequence[Sequence[str]],
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    index: Sequence[int] | None = None,
) -> Batch:
    """Encode and pad sentence pairs into a :class:`Batch` of torch tensors.

    Examples
    --------
    >>> v = Vocab.build([["a", "b"]])
    >>> b = make_batch([["a"], ["a", "b"]], [["b"], ["b"]], v, v)
    >>> b.src.tolist(), b.src_lens.tolist()
    ([[4, 3, 0], [4, 5, 3]], [2, 3])
    >>> b.tgt_in.tolist(), b.tgt_out.tolist()
    ([[2, 5], [2, 5]], [[5, 3], [5, 3]])
    >>> b.src_words, b.tgt_words
    ([[0, -1], [0, 1, -1]], [[0, -1], [0, -1]])
    """
    import torch

    src_ids = [src_vocab.encode(s) + [src_vocab.eos_id] for s in src]
    tgt_ids = [tgt_vocab.encode(t) for t in tgt]
    B, S, T = len(src_ids), max(map(len, src_ids)), max(map(len, tgt_ids)) + 1
    src_t = torch.full((B, S), src_vocab.pad_id, dtype=torch.long)
    tgt_in = torch.full((B, T), tgt_vocab.pad_id, dtype=torch.long)
    tgt_out = torch.full((B, T), tgt_vocab.pad_id, dtype=torch.long)
    for b, (s, t) in enumerate(zip(src_ids, tgt_ids, strict=True)):
        src_t[b, : len(s)] = torch.tensor(s)
        tgt_in[b, : len(t) + 1] = torch.tensor([tgt_vocab.bos_id, *t])
        tgt_out[b, : len(t) + 1] = torch.tensor([*t, tgt_vocab.eos_id])
    return Batch(
        src_t,
        torch.tensor([len(s) for s in src_ids]),
        tgt_in,
        tgt_out,
        torch.tensor([len(t) + 1 for t in tgt_ids]),
        torch.tensor(list(range(B)) if index is None else list(index)),
        [[*range(len(s)), -1] for s in src],
        [[*range(len(t)), -1] for t in tgt],
    )


def bucket_batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random | None = None
) -> Iterator[list[int]]:
    """Group sentence indices of similar length into batches of ``batch_size``.

    Indices are sorted by length (ties by index) and cut into batches, so that
    padding stays small. With ``rng`` the order of batches is shuffled (for
    training) and ties are broken randomly; without it the order is deterministic.

    Examples
    --------
    >>> list(bucket_batches([5, 1, 4, 2], batch_size=2))
    [[1, 3], [2, 0]]
    """
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, got {batch_size}")
    order = list(range(len(lengths)))
    if rng is not None:
        rng.shuffle(order)
    order.sort(key=lambda i: lengths[i])  # stable: shuffled ties stay shuffled
    batches = [order[k : k + batch_size] for k in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    yield from batches


def corpus_batches(
    corpus: ParallelCorpus,
    src_vocab: Vocab,
    tgt_vocab: Vocab,
    batch_size: int,
    rng: random.Random | None = None,
) -> Iterator[Batch]:
    """Length-bucketed :class:`Batch` es over a corpus (see :func:`bucket_batches`).

    ``Batch.index`` holds each row's sentence number in the corpus.

    Examples
    --------
    >>> c = ParallelCorpus([["a", "b"], ["a"]], [["x"], ["x"]])
    >>> v = Vocab.build(c.src + c.tgt)
    >>> [b.index.tolist() for b in corpus_batches(c, v, v, batch_size=1)]
    [[1], [0]]
    """
    for idx in bucket_batches(corpus.lengths, batch_size, rng):
        yield make_batch(
            [corpus.src[i] for i in idx], [corpus.tgt[i] for i in idx], src_vocab, tgt_vocab, idx
        )

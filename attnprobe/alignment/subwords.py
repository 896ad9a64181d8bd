"""Subwords to words: which word each piece belongs to, links and matrices pooled to words.

Models read subwords (SentencePiece pieces, BPE units); gold alignments link
words. A word link exists when any subword of the source word is linked to any
subword of the target word ("any-to-any", as awesome-align maps its subword
alignments back to words).

Tokenisation conventions :func:`word_ids` understands (:data:`SUBWORD_CONVENTIONS`):

* ``sentencepiece``: a piece that starts with ``▁`` (U+2581) begins a word;
  so does the very first piece. A piece that is only ``▁`` begins the word of
  the pieces after it (SentencePiece writes ``▁`` apart when ``▁x`` is not in
  its vocabulary); followed by nothing or by another word it is empty: ``-1``.
* ``bpe``: a unit that ends with ``@@`` continues into the next unit (the
  subword-nmt convention); any other unit ends its word.
* ``byte-level``: a unit that starts with ``Ġ`` (an encoded space, GPT-2 /
  BART / RoBERTa) begins a word; so does the very first unit.
* ``wordpiece``: a piece that starts with ``##`` continues the word before it
  (BERT); any other piece begins a word.

Special tokens (``specials``: BOS, EOS, padding; never ``<unk>``, which stands
for a real piece of a word) and language codes (``__fr__``, ``>>fr<<``,
``fr_XX``) belong to no word: ``-1``.

Given the words the pieces should spell, :func:`word_ids` numbers the pieces
by *those* words, skipping words that tokenise to nothing (a control
character that the normaliser removes), and raises
:class:`TokenisationMismatch` when the pieces spell something else.

Pooling a subword matrix to words (:func:`pool_matrix`, recorded as
:data:`POOLING` in the signature of results made from it): **sum** over a
word's source pieces (attention is a distribution over source positions; the
sum is the word's share, and rows keep summing to at most one) and **mean**
over a word's target pieces (each target piece has its own distribution; the
mean is again a distribution). Pieces of no word are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence

import numpy as np

from attnprobe.alignment import Alignment
from attnprobe.errors import InputError, UnknownNameError

__all__ = [
    "SUBWORD_CONVENTIONS",
    "POOLING",
    "TokenisationMismatch",
    "is_language_code",
    "word_ids",
    "word_texts",
    "subword_to_word",
    "word_to_subword",
    "pool_matrix",
]

#: Tokenisation conventions :func:`word_ids` understands.
SUBWORD_CONVENTIONS = ("sentencepiece", "bpe", "byte-level", "wordpiece")

#: How :func:`pool_matrix` pools subword rows and columns to words (for signatures).
POOLING = {"source": "sum over a word's pieces", "target": "mean over a word's pieces"}

_SP_MARK = "\u2581"
_BYTE_SPACE = "\u0120"  # Ġ
_LANGUAGE_CODE = re.compile(
    r"^(__[a-z]{2,3}(_[A-Za-z]+)?__|>>[a-z]{2,3}(_[A-Za-z]+)?<<|[a-z]{2}_[A-Z]{2})$"
)


class TokenisationMismatch(InputError):
    """The pieces of a sentence do not spell its words."""


def is_language_code(token: str) -> bool:
    """Is ``token`` a language code of a multilingual model (M2M100, Marian, mBART)?

    Examples
    --------
    >>> [is_language_code(t) for t in ("__fr__", ">>fra<<", "fr_XX", "▁fr", "<s>")]
    [True, True, True, False, False]
    """
    return bool(_LANGUAGE_CODE.match(token))


def _starts_word(token: str, convention: str) -> bool | None:
    """True: begins a word; False: continues one; None: decided by the context (``▁``)."""
    if convention == "sentencepiece":
        return None if token == _SP_MARK else token.startswith(_SP_MARK)
    if convention == "byte-level":
        return None if token == _BYTE_SPACE else token.startswith(_BYTE_SPACE)
    if convention == "wordpiece":
        return not token.startswith("##")
    raise AssertionError(convention)  # bpe is handled by its own loop


def word_ids(
    tokens: Sequence[str],
    convention: str,
    *,
    specials: Collection[str] = (),
    words: Sequence[str] | None = None,
) -> list[int]:
    """The 0-based word number of every subword token (``-1``: part of no word).

    Parameters
    ----------
    tokens : the subword tokens of one sentence (specials included or not).
    convention : one of :data:`SUBWORD_CONVENTIONS`.
    specials : tokens that belong to no word (BOS, EOS, padding); language codes
        are recognised without being listed. Do not list the unknown token.
    words : the words the tokens should spell; then the numbers index *these*
        words (a word that tokenises to nothing gets no piece) and a
        tokenisation that does not spell them raises :class:`TokenisationMismatch`.

    Raises
    ------
    UnknownNameError
        An unknown convention.
    InputError
        A BPE sentence whose last unit still ends with ``@@``.
    TokenisationMismatch
        With ``words``: the pieces spell other words.

    Examples
    --------
    >>> word_ids(["▁the", "▁house", "s", "▁", "!"], "sentencepiece")
    [0, 1, 1, 2, 2]
    >>> word_ids(["__fr__", "▁la", "▁", "▁maison", "</s>"], "sentencepiece", specials={"</s>"})
    [-1, 0, -1, 1, -1]
    >>> word_ids(["the", "hou@@", "ses", "!"], "bpe")
    [0, 1, 1, 2]
    >>> word_ids(["<s>", "The", "Ġhouses", "Ġare", "n", "'t", "</s>"], "byte-level",
    ...          specials={"<s>", "</s>"})
    [-1, 0, 1, 2, 2, 2, -1]
    >>> word_ids(["[CLS]", "un", "##believ", "##able", "!", "[SEP]"], "wordpiece",
    ...          specials={"[CLS]", "[SEP]"})
    [-1, 0, 0, 0, 1, -1]
    >>> word_ids(["▁la", "▁maison"], "sentencepiece", words=["la", "\\u200b", "maison"])
    [0, 2]
    """
    if convention not in SUBWORD_CONVENTIONS:
        raise UnknownNameError("subword convention", convention, SUBWORD_CONVENTIONS)
    skip = [t in specials or is_language_code(t) for t in tokens]
    ids = _bpe_ids(tokens, skip) if convention == "bpe" else _marked_ids(tokens, skip, convention)
    if words is None:
        return ids
    return _renumber(tokens, ids, convention, words)


def _bpe_ids(tokens: Sequence[str], skip: list[bool]) -> list[int]:
    ids: list[int] = []
    word, continues = -1, False
    for token, special in zip(tokens, skip, strict=True):
        if special:
            ids.append(-1)
            continue
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


def _marked_ids(tokens: Sequence[str], skip: list[bool], convention: str) -> list[int]:
    real = [k for k, s in enumerate(skip) if not s]
    ids = [-1] * len(tokens)
    word = -1
    for n, k in enumerate(real):
        starts = _starts_word(tokens[k], convention)
        if starts is None:  # a bare marker: it begins the word of the pieces after it
            after = real[n + 1] if n + 1 < len(real) else None
            if after is None or _starts_word(tokens[after], convention) is not False:
                continue  # nothing follows in its word: an empty word
            starts = True
        if starts or word < 0:
            word += 1
        ids[k] = word
    return ids


_MARKS = {"sentencepiece": _SP_MARK, "byte-level": _BYTE_SPACE}


def _byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-in for each byte, reversed (what byte-level units are made of)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[chr(b)] = b
        else:
            chars[chr(256 + extra)] = b
            extra += 1
    return chars


_BYTES = _byte_decoder()


def _piece_text(token: str, convention: str) -> str:
    """The characters a piece contributes to its word (markers removed)."""
    if convention == "bpe":
        return token.removesuffix("@@")
    if convention == "wordpiece":
        return token.removeprefix("##")
    if convention == "byte-level":
        raw = bytes(_BYTES.get(c, 0x3F) for c in token.removeprefix(_BYTE_SPACE))
        return raw.decode("utf-8", errors="replace")
    return token.replace(_SP_MARK, "")


def word_texts(tokens: Sequence[str], ids: Sequence[int], convention: str) -> list[str]:
    """The text each word's pieces spell, in word order (markers removed).

    Examples
    --------
    >>> word_texts(["▁un", "believ", "able", "▁!"], [0, 0, 0, 1], "sentencepiece")
    ['unbelievable', '!']
    >>> word_texts(["ĠcafÃ©"], [0], "byte-level")
    ['café']
    """
    n = max(ids, default=-1) + 1
    parts: list[list[str]] = [[] for _ in range(n)]
    for token, w in zip(tokens, ids, strict=True):
        if w >= 0:
            parts[w].append(token)
    if convention == "byte-level":  # a character's bytes may straddle two units
        return [
            _piece_text(_BYTE_SPACE.join(p).replace(_BYTE_SPACE, ""), convention) for p in parts
        ]
    return ["".join(_piece_text(t, convention) for t in p) for p in parts]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _renumber(tokens, ids, convention: str, words: Sequence[str]) -> list[int]:
    """Map the piece-spelled words onto ``words`` in order, skipping (at most) as many
    words as have no piece (they tokenise to nothing)."""
    spelled = word_texts(tokens, ids, convention)
    target = [_norm(w) for w in words]
    skips = len(words) - len(spelled)
    where: list[int] = []
    j = 0
    for k, text in enumerate(spelled):
        text = _norm(text)
        while skips > 0 and j < len(target) and not _spells(text, target[j]):
            j, skips = j + 1, skips - 1
        if j >= len(target) or not _spells(text, target[j]):
            raise TokenisationMismatch(
                f"the pieces spell {len(spelled)} words {spelled!r}, not the {len(words)} "
                f"words {list(words)!r} (word {k}: {text!r})",
                fix="tokenise the same words (case, normalisation) that the gold links",
            )
        where.append(j)
        j += 1
    return [where[w] if w >= 0 else -1 for w in ids]


def _spells(text: str, word: str) -> bool:
    return text == word or _unk_match(text, word)


def _unk_match(text: str, word: str) -> bool:
    """Does ``text`` (which may hold ``<unk>`` pieces) spell ``word``?"""
    if "<unk>" not in text:
        return False
    pattern = ".+".join(re.escape(p) for p in text.split("<unk>"))
    return re.fullmatch(pattern, word) is not None


def subword_to_word(
    alignment: Alignment, src_words: Sequence[int], tgt_words: Sequence[int]
) -> Alignment:
    """Map a subword alignment to words: any linked subword pair links its words.

    Sure links map to sure links, possible-only links to possible links (a word
    pair that gets both is sure). Links of pieces that belong to no word
    (word id ``-1``: special tokens) are dropped.

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

    def words(links):
        pairs = ((src_words[i], tgt_words[j]) for i, j in links)
        return {(a, b) for a, b in pairs if a >= 0 and b >= 0}

    return Alignment(
        frozenset(words(alignment.sure)),
        frozenset(words(alignment.possible)),
        max(src_words, default=-1) + 1,
        max(tgt_words, default=-1) + 1,
    )


def word_to_subword(
    alignment: Alignment, src_words: Sequence[int], tgt_words: Sequence[int]
) -> Alignment:
    """Expand a word alignment to subwords: every piece of a linked word pair is linked.

    The inverse of :func:`subword_to_word` for words that have pieces.

    Examples
    --------
    >>> a = Alignment.from_links([(0, 1)], possible=[(1, 0)])
    >>> b = word_to_subword(a, [0, 0, 1, -1], [0, 1, 1])
    >>> sorted(b.sure), sorted(b.possible_only)
    ([(0, 1), (0, 2), (1, 1), (1, 2)], [(2, 0)])
    """

    def pieces(ids):
        out: dict[int, list[int]] = {}
        for k, w in enumerate(ids):
            out.setdefault(w, []).append(k)
        return out

    sp, tp = pieces(src_words), pieces(tgt_words)

    def expand(links):
        return {(p, q) for i, j in links for p in sp.get(i, ()) for q in tp.get(j, ())}

    return Alignment(
        frozenset(expand(alignment.sure)),
        frozenset(expand(alignment.possible)),
        len(src_words),
        len(tgt_words),
    )


def pool_matrix(
    matrix,
    src_words: Sequence[int],
    tgt_words: Sequence[int],
    n_src: int | None = None,
    n_tgt: int | None = None,
) -> np.ndarray:
    """Pool a subword matrix ``[..., T, S]`` to words ``[..., n_tgt, n_src]`` (:data:`POOLING`).

    Sum over each source word's pieces, mean over each target word's pieces;
    pieces of no word (``-1``) are dropped. A word without pieces gets zeros.
    Leading axes (layers, heads) are pooled alike.

    Parameters
    ----------
    matrix : ``[..., T, S]`` subword weights (target rows, source columns).
    src_words, tgt_words : the word of each column / row (``-1``: none).
    n_src, n_tgt : the number of words (default: the largest word id plus one).

    Examples
    --------
    >>> w = np.array([[0.5, 0.25, 0.25],
    ...               [0.0, 0.5, 0.5]])
    >>> pool_matrix(w, [0, 1, 1], [0, 0]).tolist()        # one target word of two pieces
    [[0.25, 0.75]]
    >>> pool_matrix(w, [0, 0, -1], [0, 1]).tolist()       # EOS column dropped
    [[0.75], [0.5]]
    """
    w = np.asarray(matrix, dtype=np.float64)
    if w.ndim < 2:
        raise InputError(f"expected a [..., T, S] matrix, got shape {w.shape}")
    T, S = w.shape[-2:]
    if len(src_words) != S or len(tgt_words) != T:
        raise InputError(
            f"a {T}x{S} matrix needs {S} source and {T} target word ids, got "
            f"{len(src_words)} and {len(tgt_words)}"
        )
    src, tgt = np.asarray(src_words, dtype=np.int64), np.asarray(tgt_words, dtype=np.int64)
    n_src = int(src.max(initial=-1)) + 1 if n_src is None else n_src
    n_tgt = int(tgt.max(initial=-1)) + 1 if n_tgt is None else n_tgt
    cols = np.zeros((S, n_src))
    cols[np.flatnonzero(src >= 0), src[src >= 0]] = 1.0  # [S, n_src] membership
    rows = np.zeros((n_tgt, T))
    rows[tgt[tgt >= 0], np.flatnonzero(tgt >= 0)] = 1.0  # [n_tgt, T]
    counts = rows.sum(1, keepdims=True)
    rows = np.divide(rows, counts, out=np.zeros_like(rows), where=counts > 0)
    return rows @ w @ cols

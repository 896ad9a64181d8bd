"""SentencePiece subword vocabularies for the reference models.

A word-level model trained on Multi30k meets 30% unknown words on the Hansards
gold; with pieces it can spell any word whose characters it has seen. A
:class:`Subwords` is one side's SentencePiece model, trained on the training
text (:meth:`Subwords.train`) or read from a ``.model`` file. The model's
vocabulary is ``<pad> <unk> <s> </s>`` followed by the SentencePiece model's
pieces (:meth:`Subwords.vocab`), so the reference models keep their fixed
special ids whatever the SentencePiece model's own layout.

Every word is split on its own (SentencePiece splits at whitespace, so this is
the tokenisation of the whole sentence): a word's pieces are known and
:meth:`Subwords.split` gives, beside the pieces, the word each piece belongs
to. That is what ``Batch.src_words`` / ``tgt_words`` carry to the analyses,
which pool pieces to words exactly as for the Hugging Face models
(:mod:`attnprobe.alignment.subwords`, :func:`attnprobe.analyses.pooling.pool_words`).

SentencePiece is imported when first needed; without it the error names the
extra to install.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from attnprobe.data import SPECIALS, ParallelCorpus, Vocab
from attnprobe.errors import InputError

__all__ = ["Subwords", "sentencepiece_module", "attach", "to_pieces", "words_of_pieces"]

_MARK = "\u2581"  # SentencePiece's word-start marker
_INSTALL = "pip install 'attnprobe[hf]'"


def sentencepiece_module():
    """The ``sentencepiece`` module, or a one-line :class:`InputError` naming the extra.

    Examples
    --------
    >>> sentencepiece_module().__name__
    'sentencepiece'
    """
    try:
        import sentencepiece
    except ImportError:
        raise InputError(
            "subword vocabularies need the sentencepiece package, which is not installed",
            fix=_INSTALL,
        ) from None
    return sentencepiece


class Subwords:
    """One side's SentencePiece model: words to pieces, and the model's piece vocabulary.

    Parameters
    ----------
    proto : the serialised SentencePiece model (the bytes of a ``.model`` file).

    Examples
    --------
    >>> sw = Subwords.train([["the", "cat", "sat"], ["the", "cats", "sat"]] * 20, 30)
    >>> sw.split(["the", "cats"])[1]
    [0, 1, 1]
    >>> "".join(sw.pieces("cats")).replace("\u2581", "")
    'cats'
    """

    def __init__(self, proto: bytes):
        spm = sentencepiece_module()
        self.proto = bytes(proto)
        try:
            self.sp = spm.SentencePieceProcessor(model_proto=self.proto)
        except Exception as exc:  # noqa: BLE001 - sentencepiece raises bare RuntimeErrors
            raise InputError(
                f"not a SentencePiece model ({type(exc).__name__})",
                fix="give the .model file written by spm_train or sentencepiece",
            ) from None
        self._cache: dict[str, list[str]] = {}

    @classmethod
    def read(cls, path: str | os.PathLike) -> Subwords:
        """A SentencePiece model from its ``.model`` file.

        Raises
        ------
        InputError : a missing file or one that is not a SentencePiece model, naming it.
        """
        path = Path(path)
        if not path.is_file():
            raise InputError("file not found", path=path, fix="give a SentencePiece .model file")
        try:
            return cls(path.read_bytes())
        except InputError as exc:
            raise InputError(exc.message, path=path, fix=exc.fix) from None

    @classmethod
    def train(
        cls, sentences: Iterable[Sequence[str]], vocab_size: int, model_type: str = "unigram"
    ) -> Subwords:
        """Train a SentencePiece model on whitespace-tokenised sentences.

        ``vocab_size`` is an upper bound (a small corpus may support fewer pieces).
        All characters are covered; one thread, so the result is the same on every
        run. Unknown characters of later text become ``<unk>`` pieces.

        Examples
        --------
        >>> sw = Subwords.train([["low", "lower", "lowest"]] * 10, 20)
        >>> len(sw.vocab()) <= 4 + 20
        True
        """
        spm = sentencepiece_module()
        if vocab_size < 8:
            raise InputError(f"a subword vocabulary needs at least 8 pieces, got {vocab_size}")
        lines = [" ".join(s) for s in sentences if s]
        if not lines:
            raise InputError("no text to train a subword vocabulary on")
        out = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines),
                model_writer=out,
                vocab_size=vocab_size,
                model_type=model_type,
                character_coverage=1.0,
                hard_vocab_limit=False,
                unk_id=0,
                bos_id=-1,
                eos_id=-1,
                pad_id=-1,
                num_threads=1,
                minloglevel=2,
            )
        except RuntimeError as exc:
            raise InputError(
                f"SentencePiece could not train a {vocab_size}-piece vocabulary: "
                f"{str(exc).strip().splitlines()[-1][:120]}",
                fix="choose a smaller --subwords size",
            ) from None
        return cls(out.getvalue())

    def __len__(self) -> int:
        return self.sp.get_piece_size()

    def pieces(self, word: str) -> list[str]:
        """The pieces of one word (the first starts with ``▁``; an unknown character
        is a piece of its own that :meth:`vocab` does not hold)."""
        got = self._cache.get(word)
        if got is None:
            got = self._cache[word] = list(self.sp.encode(word, out_type=str))
        return got

    def split(self, words: Sequence[str]) -> tuple[list[str], list[int]]:
        """The pieces of a sentence and the (0-based) word each piece belongs to.

        A word that normalises to nothing (a lone control character) has no piece.

        Examples
        --------
        >>> sw = Subwords.train([["ab", "abc", "c"]] * 10, 10)
        >>> pieces, owner = sw.split(["c", "abc"])
        >>> "".join(pieces).replace("\u2581", " ").split(), owner[0], owner[-1]
        (['c', 'abc'], 0, 1)
        """
        pieces: list[str] = []
        owner: list[int] = []
        for k, w in enumerate(words):
            p = self.pieces(w)
            pieces += p
            owner += [k] * len(p)
        return pieces, owner

    def vocab(self) -> Vocab:
        """The model's vocabulary: the four specials, then every ordinary piece in
        SentencePiece's order (its unknown, control and unused pieces left out).

        Examples
        --------
        >>> sw = Subwords.train([["ab", "abc", "c"]] * 10, 10)
        >>> v = sw.vocab()
        >>> v.tokens[:4], v.unk_id, "<unk>" in v.tokens[4:]
        (['<pad>', '<unk>', '<s>', '</s>'], 1, False)
        """
        sp = self.sp
        normal = [
            sp.id_to_piece(i)
            for i in range(len(self))
            if not (sp.is_unknown(i) or sp.is_control(i) or sp.is_unused(i))
        ]
        return Vocab([*SPECIALS, *(p for p in normal if p not in SPECIALS)])

    def describe(self) -> dict:
        """What the model card and training record say about it.

        Examples
        --------
        >>> Subwords.train([["ab", "abc", "c"]] * 10, 10).describe()["kind"]
        'sentencepiece'
        """
        return {"kind": "sentencepiece", "pieces": len(self)}


def words_of_pieces(pieces: Sequence[str]) -> list[str]:
    """The words that pieces spell: a piece starting with ``▁`` begins a word.

    Examples
    --------
    >>> words_of_pieces(["\u2581un", "believ", "able", "\u2581!", "\u2581", "x"])
    ['unbelievable', '!', 'x']
    """
    return "".join(pieces).replace(_MARK, " ").split()


def attach(model, src: Subwords | None, tgt: Subwords | None) -> None:
    """Give a word-vocabulary model subword tokenisers (see
    :class:`~attnprobe.models.words.WordVocabularies`); its vocabularies must be theirs.

    Examples
    --------
    >>> from attnprobe.models.words import WordVocabularies
    >>> sw = Subwords.train([["ab", "abc", "c"]] * 10, 10)
    >>> m = WordVocabularies(); m.src_vocab = m.tgt_vocab = sw.vocab()
    >>> attach(m, sw, sw); m.encode([["abc"]], [["c"]]).src_words
    [[0, 0, -1]]
    """
    for side, sw in (("src", src), ("tgt", tgt)):
        vocab = getattr(model, f"{side}_vocab")
        if sw is not None and vocab != sw.vocab():
            raise InputError(
                f"the model's {side} vocabulary ({len(vocab)} tokens) is not that of its "
                f"SentencePiece model ({len(sw.vocab())})",
                fix="build the vocabulary with Subwords.vocab()",
            )
        setattr(model, f"{side}_subwords", sw)


def to_pieces(corpus: ParallelCorpus, src: Subwords | None, tgt: Subwords | None):
    """The corpus with each side split into pieces (a side without subwords unchanged).

    Examples
    --------
    >>> sw = Subwords.train([["ab", "abc", "c"]] * 10, 10)
    >>> c = to_pieces(ParallelCorpus([["abc", "c"]], [["c"]]), sw, None)
    >>> words_of_pieces(c.src[0]), c.tgt
    (['abc', 'c'], [['c']])
    """

    def side(sentences, sw):
        return sentences if sw is None else [sw.split(s)[0] for s in sentences]

    return ParallelCorpus(side(corpus.src, src), side(corpus.tgt, tgt), corpus.name)

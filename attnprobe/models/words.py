"""Word-level tokenisation shared by the families whose vocabularies are word lists.

The reference RNNs and models brought through :func:`attnprobe.wrap` read
whitespace-tokenised words with a :class:`~attnprobe.data.Vocab` per side, in
the model's own id order: a source sentence of n words is its n ids followed by
EOS; the decoder reads ``BOS y_1 .. y_m`` and outputs ``y_1 .. y_m EOS``.
:class:`WordVocabularies` gives such a model the tokenisation part of
:class:`~attnprobe.models.interface.Seq2SeqModel`.

A side may instead read subwords: with ``src_subwords`` / ``tgt_subwords`` set
(a :class:`~attnprobe.models.reference.subwords.Subwords`, whose pieces are the
vocabulary), each word is split into its pieces and the batch says which word
each position belongs to (``Batch.src_words`` / ``tgt_words``), the one
mapping from positions to words that every analysis reads, whatever the family.
"""

from __future__ import annotations

from collections.abc import Sequence

from attnprobe.data import Batch, make_batch

__all__ = ["WordVocabularies"]


class WordVocabularies:
    """Mixin: ``encode``, ``decode_ids``, ``special_ids``, ``count_unknown`` from
    ``self.src_vocab`` / ``self.tgt_vocab``.

    Examples
    --------
    >>> from attnprobe.data import Vocab
    >>> m = WordVocabularies()
    >>> m.src_vocab = m.tgt_vocab = Vocab.build([["a", "b"]])
    >>> b = m.encode([["a", "b"]], [["b"]])
    >>> b.src.tolist(), b.src_words, b.tgt_words
    ([[4, 5, 3]], [[0, 1, -1]], [[0, -1]])
    >>> m.decode_ids([5, 4, 3, 4]), m.count_unknown(["a", "z"], "src")
    (['b', 'a'], 1)
    """

    src_vocab = None
    tgt_vocab = None
    src_subwords = None  # a Subwords tokeniser: the side reads pieces (None: words)
    tgt_subwords = None

    def _vocab(self, side: str):
        vocab = self.src_vocab if side == "src" else self.tgt_vocab
        if vocab is None:
            from attnprobe.errors import InputError

            raise InputError(
                f"{type(self).__name__} has no {side} vocabulary",
                fix="load the model with attnprobe.load, or pass src_vocab/tgt_vocab to wrap",
            )
        return vocab

    def encode(
        self,
        src_words: Sequence[Sequence[str]],
        tgt_words: Sequence[Sequence[str]],
        index: Sequence[int] | None = None,
    ) -> Batch:
        """A padded batch in the model's own ids (see :func:`attnprobe.data.make_batch`).

        A subword side is split into pieces; ``src_words`` / ``tgt_words`` then say
        which word each piece belongs to (``-1``: EOS and padding).
        """
        src_sw, tgt_sw = self.src_subwords, self.tgt_subwords
        if src_sw is None and tgt_sw is None:
            return make_batch(src_words, tgt_words, self._vocab("src"), self._vocab("tgt"), index)
        src, src_own = _split(src_words, src_sw)
        tgt, tgt_own = _split(tgt_words, tgt_sw)
        batch = make_batch(src, tgt, self._vocab("src"), self._vocab("tgt"), index)
        return batch._replace(
            src_words=[[*o, -1] for o in src_own], tgt_words=[[*o, -1] for o in tgt_own]
        )

    def to_pieces(self, corpus):
        """A :class:`~attnprobe.data.ParallelCorpus` of words in the model's tokens (pieces
        on a subword side; the corpus itself for a word-level model)."""
        if self.src_subwords is None and self.tgt_subwords is None:
            return corpus
        from attnprobe.models.reference.subwords import to_pieces

        return to_pieces(corpus, self.src_subwords, self.tgt_subwords)

    def decode_ids(self, ids) -> list[str]:
        """The target words of generated ids, up to the first EOS (pieces joined to words)."""
        tokens = self._vocab("tgt").decode(ids)
        if self.tgt_subwords is None:
            return tokens
        from attnprobe.models.reference.subwords import words_of_pieces

        return words_of_pieces(tokens)

    @property
    def special_ids(self) -> dict[str, int]:
        """The source side's special ids: ``pad``, ``unk``, ``bos``, ``eos``."""
        v = self._vocab("src")
        return {"pad": v.pad_id, "unk": v.unk_id, "bos": v.bos_id, "eos": v.eos_id}

    def pad_id(self, side: str) -> int:
        """The padding id of the ``side`` ("src" or "tgt") vocabulary (without one: 0, the
        layout of :meth:`attnprobe.data.Vocab.build`)."""
        vocab = self.src_vocab if side == "src" else self.tgt_vocab
        return 0 if vocab is None else vocab.pad_id

    def token_strings(self, ids: Sequence[int], side: str) -> list[str] | None:
        """The tokens of ``ids`` as the model spells them (specials included); None
        while the model has no vocabulary (an untrained model built in code)."""
        vocab = self.src_vocab if side == "src" else self.tgt_vocab
        return None if vocab is None else [vocab.tokens[i] for i in ids]

    def token_table(self, side: str) -> Sequence[str] | None:
        """The ``side`` vocabulary's tokens by id (the list :meth:`token_strings` reads),
        or None without a vocabulary: a capture keeps this list, not the model, and
        spells its token rows from it only when they are read.

        Examples
        --------
        >>> from attnprobe.models.reference.rnn import ModelConfig, build_model
        >>> build_model(ModelConfig(src_vocab=8, tgt_vocab=9), seed=0).token_table("src") is None
        True
        """
        vocab = self.src_vocab if side == "src" else self.tgt_vocab
        return None if vocab is None else vocab.tokens

    def count_unknown(self, words: Sequence[str], side: str) -> int:
        """How many of ``words`` the ``side`` ("src" or "tgt") vocabulary does not know
        (on a subword side: words with at least one piece outside the vocabulary)."""
        vocab = self._vocab(side)
        sw = self.src_subwords if side == "src" else self.tgt_subwords
        if sw is None:
            return vocab.count_unknown(words)
        return sum(any(p not in vocab.index for p in sw.pieces(w)) for w in words)


def _split(sentences, subwords) -> tuple[list, list]:
    """Each sentence as tokens and the word of each token (words stay whole without subwords)."""
    if subwords is None:
        return list(sentences), [list(range(len(s))) for s in sentences]
    pairs = [subwords.split(s) for s in sentences]
    return [p for p, _ in pairs], [o for _, o in pairs]

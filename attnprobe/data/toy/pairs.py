"""The registry of toy pairs (:data:`PAIRS`) and :func:`translate`."""

from __future__ import annotations

from attnprobe.data.toy.enfr import _clause_fr, _np_fr, _spell_fr
from attnprobe.data.toy.enja import _clause_ja, _np_ja
from attnprobe.data.toy.grammar import (
    Sentence,
    ToyExample,
    ToyPair,
    _english,
    _translate,
    _validate,
)
from attnprobe.errors import UnknownNameError

PAIRS: dict[str, ToyPair] = {
    "enfr": ToyPair(
        "enfr",
        "English -> French-like: adjectives after nouns, ne...pas, gender, one-to-many, "
        "many-to-one",
        _clause_fr, _np_fr, "fr", _spell_fr,
    ),
    "enja": ToyPair(
        "enja",
        "English -> Japanese-like (romaji): SOV verb-final order, postpositions, "
        "case markers, no articles",
        _clause_ja, _np_ja, "ja",
    ),
}  # fmt: skip


def _pair(name: str | ToyPair) -> ToyPair:
    if isinstance(name, ToyPair):
        return name
    if name not in PAIRS:
        raise UnknownNameError("toy pair", name, list(PAIRS))
    return PAIRS[name]


def translate(pair: str, sentence: Sentence) -> ToyExample:
    """Write ``sentence`` in English and translate it, with its gold alignment.

    Parameters
    ----------
    pair : a key of :data:`PAIRS`.
    sentence : the structure to render.

    Returns
    -------
    ToyExample

    Raises
    ------
    UnknownNameError : unknown pair or word.
    InputError : a structure outside the grammar.

    Examples
    --------
    >>> from attnprobe.data.toy import NP, Clause
    >>> s = Sentence((Clause("see", subj=NP("cat", "the"), neg=True, obj=NP("dog", "the")),))
    >>> ex = translate("enfr", s)
    >>> " ".join(ex.tgt)
    'le chat ne voit pas le chien'
    >>> sorted(j for i, j in ex.alignment.sure if i == 3)   # "not" -> ne, pas
    [2, 4]
    >>> " ".join(translate("enja", s).tgt)
    'neko ga inu o mi nai'
    """
    p = _pair(pair)
    _validate(sentence)
    return _translate(p, sentence, _english(sentence))

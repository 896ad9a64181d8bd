"""English -> French-like rules: noun phrases, clauses and French spelling.

Adjectives after the noun, gender agreement, ne...pas, reflexive "se",
one-to-many and many-to-one lexicon entries; then elision and de/à + le
contraction over the whole sentence.
"""

from __future__ import annotations

from attnprobe.data.toy.grammar import (
    _NONE,
    NP,
    Clause,
    _ClauseIdx,
    _emit,
    _inserted,
    _NPIdx,
    _Tok,
)
from attnprobe.data.toy.lexicon import (
    _ADJS,
    _ADVS,
    _DETS,
    _NAMES,
    _NOUNS,
    _PRE_ADVS,
    _PREPS,
    _VERBS,
)

# ------------------------------------------------------------------ French-like


def _np_fr(np: NP, ix: _NPIdx) -> list[_Tok]:
    if np.noun in _NAMES:
        return _emit(_NAMES[np.noun][0], ix.noun)
    noun = _NOUNS[np.noun]
    fem = noun.gender == "f"
    out = []
    if np.det is not None:
        out += _emit(_DETS[np.det].fr.split("/")[fem], ix.det)
    adjs = [(_ADJS[a], aix) for a, aix in zip(np.adjs, ix.adjs, strict=True)]
    for adj, aix in adjs:
        if adj.pre:
            out += _emit(adj.fr_f if fem else adj.fr_m, aix)
    out += _emit(noun.fr, ix.noun, noun.fr_links)
    for adj, aix in reversed(adjs):  # mirror order after the noun
        if not adj.pre:
            out += _emit(adj.fr_f if fem else adj.fr_m, aix)
    return out


def _clause_fr(c: Clause, ix: _ClauseIdx) -> list[_Tok]:
    verb = _VERBS[c.verb]
    out = [] if c.subj is None else _np_fr(c.subj, ix.subj)
    not_ = ix.neg[1:]  # "does" (ix.neg[0]) has no target word
    if c.neg:
        out.append(_Tok("ne", frozenset(not_), _NONE))
    if verb.kind == "refl":
        out.append(_inserted("se", ix.verb))
    out += _emit(verb.fr if c.subj is not None else verb.fr_imp, ix.verb)
    if c.neg:
        out.append(_Tok("pas", frozenset(not_), _NONE))
    if c.pre_adv:
        out += _emit(_PRE_ADVS[c.pre_adv].fr, ix.pre_adv)
    if c.obj is not None:
        out += _np_fr(c.obj, ix.obj)
    for (prep, np), (pix, nix) in zip(c.pps, ix.pps, strict=True):
        out += _emit(_PREPS[prep].fr, pix, _PREPS[prep].fr_links) + _np_fr(np, nix)
    if c.adv:
        out += _emit(_ADVS[c.adv].fr, ix.adv, _ADVS[c.adv].fr_links)
    return out


_VOWELS = tuple("aeiouéèêàâîôh")
_ELIDED = {"le": "l'", "la": "l'", "ne": "n'", "de": "d'", "que": "qu'", "se": "s'",
           "ce": "cet", "ma": "mon", "ta": "ton", "sa": "son",
           "vieux": "vieil", "beau": "bel", "nouveau": "nouvel"}  # fmt: skip
_CONTRACTED = {("de", "le"): "du", ("à", "le"): "au"}


def _spell_fr(toks: list[_Tok]) -> list[_Tok]:
    """French spelling rules: elision before a vowel, then de/à + le contraction.

    Elision runs first so that "de le arbre" becomes "de l' arbre", not "du arbre".
    A contraction merges two words into one that keeps the links of both.
    """
    toks = [
        t._replace(word=_ELIDED[t.word])
        if t.word in _ELIDED and k + 1 < len(toks) and toks[k + 1].word.startswith(_VOWELS)
        else t
        for k, t in enumerate(toks)
    ]
    out: list[_Tok] = []
    for t in toks:
        merged = _CONTRACTED.get((out[-1].word, t.word)) if out else None
        if merged:
            prev = out.pop()
            t = _Tok(merged, prev.sure | t.sure, prev.poss | t.poss)
        out.append(t)
    return out

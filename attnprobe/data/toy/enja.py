"""English -> Japanese-like (romaji) rules: noun phrases and verb-final clauses.

SOV order, postpositions after their noun, no articles, case markers
"wa"/"ga"/"o" inserted with possible links, negation "nai" after the verb.
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

# --------------------------------------------------------------- Japanese-like


def _np_ja(np: NP, ix: _NPIdx) -> list[_Tok]:
    if np.noun in _NAMES:
        return _emit(_NAMES[np.noun][1], ix.noun)
    out = _emit(_DETS[np.det].ja, ix.det) if np.det is not None else []
    for a, aix in zip(np.adjs, ix.adjs, strict=True):
        out += _emit(_ADJS[a].ja, aix, _ADJS[a].ja_links)
    noun = _NOUNS[np.noun]
    return out + _emit(noun.ja, ix.noun, noun.ja_links)


def _clause_ja(c: Clause, ix: _ClauseIdx) -> list[_Tok]:
    out = []
    if c.subj is not None:
        marker = "wa" if c.subj.noun in _NAMES else "ga"
        out += _np_ja(c.subj, ix.subj) + [_inserted(marker, ix.subj.noun)]
    if c.pre_adv:
        out += _emit(_PRE_ADVS[c.pre_adv].ja, ix.pre_adv)
    if c.adv:
        out += _emit(_ADVS[c.adv].ja, ix.adv, _ADVS[c.adv].ja_links)
    for (prep, np), (pix, nix) in zip(c.pps, ix.pps, strict=True):
        out += _np_ja(np, nix) + _emit(_PREPS[prep].ja, pix, _PREPS[prep].ja_links)
    if c.obj is not None:
        out += _np_ja(c.obj, ix.obj) + [_inserted("o", ix.obj.noun)]
    verb = _VERBS[c.verb]
    if c.subj is None:
        out += _emit(verb.ja_imp, ix.verb)
    elif c.neg:
        out += _emit(verb.ja_neg, ix.verb) + [_Tok("nai", frozenset(ix.neg[1:]), _NONE)]
    else:
        out += _emit(verb.ja, ix.verb)
    return out

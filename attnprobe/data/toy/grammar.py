"""Shared machinery of the toy pairs: sentence structures and alignment bookkeeping.

:class:`NP`, :class:`Clause` and :class:`Sentence` describe an English sentence;
:class:`ToyExample` is one rendered pair with its gold alignment. The English
side is written with the source positions of every part; target words carry
the source positions they are sure / possibly linked to (:class:`_Tok`,
:func:`_emit`). Also here: checking a structure against the grammar, the
:class:`ToyPair` interface that each pair's rules fill in, and the assembly of
a whole translation from those rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from attnprobe.alignment import Alignment
from attnprobe.data.toy.lexicon import (
    _ADJS,
    _ADVS,
    _CONJS,
    _DETS,
    _NAMES,
    _NOUNS,
    _PRE_ADVS,
    _PREPS,
    _VERBS,
)
from attnprobe.errors import InputError, UnknownNameError

# ------------------------------------------------------------------- structures


@dataclass(frozen=True)
class NP:
    """A noun phrase: a name, or a determiner, adjectives and a noun.

    Parameters
    ----------
    noun : a noun of the lexicon ("cat", "ice cream") or a name ("mary").
    det : "the", "a", "this", "that", "my", "his", "her", "your"; None for a
        name, or for a bare noun (allowed only as a whole sentence).
    adjs : adjectives in English order.

    Examples
    --------
    >>> NP("cat", "the", ("small", "black"))
    NP(noun='cat', det='the', adjs=('small', 'black'))
    """

    noun: str
    det: str | None = None
    adjs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clause:
    """One clause; without a subject it is an imperative.

    Parameters
    ----------
    verb : base form of a lexicon verb ("see", "look for", "rest").
    subj : the subject (an animate noun or a name); None for an imperative.
    obj : the object; required exactly for transitive verbs.
    neg : "does not" before the verb (needs a subject; excludes ``pre_adv``).
    pre_adv : "often", "always" or "sometimes", before the English verb.
    pps : prepositional phrases ``(preposition, NP)``, attached to the clause.
    adv : a clause-final adverb ("today", "every day").

    Examples
    --------
    >>> Clause("sleep", subj=NP("mary"), neg=True).neg
    True
    """

    verb: str
    subj: NP | None = None
    obj: NP | None = None
    neg: bool = False
    pre_adv: str | None = None
    pps: tuple[tuple[str, NP], ...] = ()
    adv: str | None = None


@dataclass(frozen=True)
class Sentence:
    """Clauses joined by conjunctions (``len(conjs) == len(parts) - 1``).

    A part is a :class:`Clause`, or a bare :class:`NP` when it is the only part.

    Examples
    --------
    >>> from attnprobe.data.toy import translate
    >>> s = Sentence((Clause("run", subj=NP("tom")), Clause("sleep", subj=NP("emma"))), ("and",))
    >>> " ".join(translate("enfr", s).src)
    'tom runs and emma sleeps'
    """

    parts: tuple[Clause | NP, ...]
    conjs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToyExample:
    """One sentence pair with its gold alignment.

    Parameters
    ----------
    src, tgt : tokens.
    alignment : gold links ``(src index, tgt index)``, sure and possible.

    Examples
    --------
    >>> from attnprobe.data.toy import generate
    >>> ex = generate("enfr", 1, seed=1, min_len=2, max_len=2)[0]
    >>> len(ex.src), ex.alignment.src_len
    (2, 2)
    """

    src: tuple[str, ...]
    tgt: tuple[str, ...]
    alignment: Alignment


# --------------------------------------------------------- English, with positions


class _Tok(NamedTuple):
    """A target word with the source positions it is sure / possibly linked to."""

    word: str
    sure: frozenset[int]
    poss: frozenset[int]


_NONE: frozenset[int] = frozenset()


@dataclass
class _NPIdx:  # source positions of the parts of one NP
    det: list[int]
    adjs: list[list[int]]
    noun: list[int]


@dataclass
class _ClauseIdx:  # source positions of the parts of one clause
    subj: _NPIdx | None
    neg: list[int]  # [does, not] or []
    pre_adv: list[int]
    verb: list[int]
    obj: _NPIdx | None
    pps: list[tuple[list[int], _NPIdx]]
    adv: list[int]


class _English:
    """Writes the English sentence and records where each part landed."""

    def __init__(self):
        self.words: list[str] = []

    def add(self, text: str) -> list[int]:
        start = len(self.words)
        self.words += text.split()
        return list(range(start, len(self.words)))

    def np(self, np: NP) -> _NPIdx:
        det = []
        if np.det is not None:
            following = (np.adjs[0] if np.adjs else np.noun)[0]
            det = self.add("an" if np.det == "a" and following in "aeiou" else np.det)
        return _NPIdx(det, [self.add(a) for a in np.adjs], self.add(np.noun))

    def clause(self, c: Clause) -> _ClauseIdx:
        subj = None if c.subj is None else self.np(c.subj)
        neg = self.add("does not") if c.neg else []
        pre_adv = self.add(c.pre_adv) if c.pre_adv else []
        inflected = c.subj is not None and not c.neg
        verb = self.add(_VERBS[c.verb].en3 if inflected else c.verb)
        obj = None if c.obj is None else self.np(c.obj)
        pps = [(self.add(p), self.np(np)) for p, np in c.pps]
        adv = self.add(c.adv) if c.adv else []
        return _ClauseIdx(subj, neg, pre_adv, verb, obj, pps, adv)


def _english(s: Sentence) -> tuple[list[str], list[list[int]], list]:
    """English words, positions of each conjunction, positions of each part."""
    en = _English()
    conjs, parts = [], []
    for k, part in enumerate(s.parts):
        if k:
            conjs.append(en.add(s.conjs[k - 1]))
        parts.append(en.clause(part) if isinstance(part, Clause) else en.np(part))
    return en.words, conjs, parts


@cache
def _local_links(spec: str | None, n_src: int, n_tgt: int):
    """Parse an entry's internal links: (sure, possible-only) sets of (i, j)."""
    if spec is None:
        return frozenset((i, j) for i in range(n_src) for j in range(n_tgt)), frozenset()
    sure, poss = set(), set()
    for link in spec.split():
        sep = "p" if "p" in link else "-"
        i, j = map(int, link.split(sep))
        (poss if sep == "p" else sure).add((i, j))
    return frozenset(sure), frozenset(poss)


def _emit(text: str, src: Sequence[int], links: str | None = None) -> list[_Tok]:
    """Target words of one lexicon entry, linked to the entry's source positions."""
    if links is None and text and " " not in text:  # the common case: one target word
        return [_Tok(text, frozenset(src), _NONE)]
    words = text.split()
    sure, poss = _local_links(links, len(src), len(words))
    return [
        _Tok(
            w,
            frozenset(src[i] for i, jj in sure if jj == j),
            frozenset(src[i] for i, jj in poss if jj == j),
        )
        for j, w in enumerate(words)
    ]


def _inserted(word: str, depends_on: Iterable[int]) -> _Tok:
    """A target word with no source: possible links to the words it depends on."""
    return _Tok(word, _NONE, frozenset(depends_on))


# ----------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class ToyPair:
    """A registered toy language pair.

    Parameters
    ----------
    name : registry key ("enfr").
    description : one line for help texts.
    clause, np : translate one clause / noun phrase, given its source positions.
    conj : which :class:`_Word` field holds the target conjunction ("fr", "ja").
    spell : spelling rules applied to the whole target sentence.
    """

    name: str
    description: str
    clause: Callable[[Clause, _ClauseIdx], list[_Tok]]
    np: Callable[[NP, _NPIdx], list[_Tok]]
    conj: str
    spell: Callable[[list[_Tok]], list[_Tok]] = list


def _check(kind: str, word: str | None, table) -> None:
    if word is not None and word not in table:
        raise UnknownNameError(kind, word, list(table))


def _validate(s: Sentence) -> None:
    """Refuse structures outside the grammar (the translation would be undefined)."""
    if not s.parts or len(s.conjs) != len(s.parts) - 1:
        raise InputError(
            f"a sentence needs n parts and n-1 conjunctions, got {len(s.parts)} parts "
            f"and {len(s.conjs)} conjunctions"
        )
    for conj in s.conjs:
        _check("conjunction", conj, _CONJS)
    for part in s.parts:
        if isinstance(part, NP):
            if len(s.parts) > 1:
                raise InputError("a bare noun phrase must be the whole sentence")
            _validate_np(part, bare_ok=True)
        else:
            _validate_clause(part, whole=len(s.parts) == 1)


def _validate_clause(c: Clause, whole: bool) -> None:
    _check("verb", c.verb, _VERBS)
    _check("adverb", c.adv, _ADVS)
    _check("pre-verbal adverb", c.pre_adv, _PRE_ADVS)
    verb = _VERBS[c.verb]
    if (c.obj is not None) != (verb.kind == "tr"):
        raise InputError(f"verb {c.verb!r} ({verb.kind}) with object {c.obj}",
                         fix="give an object exactly to transitive verbs")  # fmt: skip
    if c.subj is None and (c.neg or verb.kind == "refl" or not whole):
        raise InputError("an imperative is a whole sentence, not negated, not reflexive")
    if c.neg and c.pre_adv:
        raise InputError("a clause takes 'does not' or a pre-verbal adverb, not both")
    if c.subj is not None and c.subj.noun in _NOUNS and not _NOUNS[c.subj.noun].animate:
        raise InputError(f"subject {c.subj.noun!r} is not animate")
    for prep, _ in c.pps:
        _check("preposition", prep, _PREPS)
    for np in [c.subj, c.obj, *(np for _, np in c.pps)]:
        if np is not None:
            _validate_np(np, bare_ok=False)


def _validate_np(np: NP, bare_ok: bool) -> None:
    if np.noun in _NAMES:
        if np.det is not None or np.adjs:
            raise InputError(f"name {np.noun!r} takes no determiner or adjective")
        return
    _check("noun", np.noun, _NOUNS)
    _check("determiner", np.det, _DETS)
    if np.det is None and not (bare_ok and not np.adjs):
        raise InputError(f"noun {np.noun!r} needs a determiner (only a one-word sentence is bare)")
    for a in np.adjs:
        _check("adjective", a, _ADJS)
    if len(set(np.adjs)) != len(np.adjs):
        raise InputError(f"repeated adjective in {np.adjs}")


def _translate(p: ToyPair, s: Sentence, english) -> ToyExample:
    words, conj_ix, part_ix = english
    toks: list[_Tok] = []
    for k, (part, ix) in enumerate(zip(s.parts, part_ix, strict=True)):
        if k:
            toks += _emit(getattr(_CONJS[s.conjs[k - 1]], p.conj), conj_ix[k - 1])
        toks += p.clause(part, ix) if isinstance(part, Clause) else p.np(part, ix)
    toks = p.spell(toks)
    sure = [(i, j) for j, t in enumerate(toks) for i in t.sure]
    poss = [(i, j) for j, t in enumerate(toks) for i in t.poss]
    alignment = Alignment.from_links(sure, poss, len(words), len(toks))
    return ToyExample(tuple(words), tuple(t.word for t in toks), alignment)

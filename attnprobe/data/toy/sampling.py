"""Random sentence structures of an exact English length, for generating corpora."""

from __future__ import annotations

import random
from collections.abc import Iterable

from attnprobe.data.toy.grammar import NP, Clause, Sentence
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

# ------------------------------------------------------------ random sentences
# A clause is grown word by word on a mutable draft: start from the smallest
# clause of a random verb, then add random parts (a determiner and noun in
# place of a name, an adjective, negation, an adverb, a prepositional phrase)
# that fit in the words left, until the clause has exactly the length asked.

_MAX_CLAUSE = 12  # longest clause; longer sentences join clauses
_MIN_CLAUSE = 2  # "mary sleeps"
_WC = {k: k.count(" ") + 1 for t in (_NOUNS, _VERBS, _PREPS, _ADVS) for k in t}  # word counts
_NOUN_KEYS = list(_NOUNS)
_ANIMATE = [n for n in _NOUNS if _NOUNS[n].animate]
_NAME_KEYS = list(_NAMES)
_DET_KEYS = ["the"] * 4 + ["a"] * 2 + list(_DETS)[2:]  # articles are the most common
_ADJ_KEYS = list(_ADJS)
_VERB_KEYS = list(_VERBS)
_IMP_VERB_KEYS = [v for v in _VERBS if _VERBS[v].kind != "refl"]
_PRE_ADV_KEYS = list(_PRE_ADVS)
_CONJ_KEYS = list(_CONJS)


def _fitting(keys: Iterable[str], extra: int = 0) -> dict[int, list[str]]:
    """For each budget 1..12, the keys whose word count (+ extra) fits in it."""
    keys = list(keys)
    return {b: [k for k in keys if _WC[k] + extra <= b] for b in range(1, _MAX_CLAUSE + 1)}


_ADVS_UPTO = _fitting(_ADVS)
_PREPS_UPTO = _fitting(_PREPS, extra=1)  # a preposition and a one-word name


class _DraftNP:
    __slots__ = ("noun", "det", "adjs")

    def __init__(self, noun: str):
        self.noun, self.det, self.adjs = noun, None, []

    def freeze(self) -> NP:
        return NP(self.noun, self.det, tuple(self.adjs))


class _Draft:
    """A clause under construction; ``size`` counts its English words."""

    def __init__(self, verb: str, subj: _DraftNP | None, obj: _DraftNP | None):
        self.verb, self.subj, self.obj = verb, subj, obj
        self.neg, self.pre_adv, self.adv = False, None, None
        self.pps: list[tuple[str, _DraftNP]] = []
        self.size = _WC[verb] + (subj is not None) + (obj is not None)

    def freeze(self) -> Clause:
        return Clause(
            self.verb,
            subj=self.subj and self.subj.freeze(),
            obj=self.obj and self.obj.freeze(),
            neg=self.neg,
            pre_adv=self.pre_adv,
            pps=tuple((p, np.freeze()) for p, np in self.pps),
            adv=self.adv,
        )


def _seed_clause(rng: random.Random, n: int, imperative: bool) -> _Draft:
    """The smallest clause of a random verb that fits in ``n`` words (names as NPs)."""
    while True:
        verb = rng.choice(_IMP_VERB_KEYS if imperative else _VERB_KEYS)
        transitive = _VERBS[verb].kind == "tr"
        if _WC[verb] + transitive + (not imperative) <= n:
            subj = None if imperative else _DraftNP(rng.choice(_NAME_KEYS))
            obj = _DraftNP(rng.choice(_NAME_KEYS)) if transitive else None
            return _Draft(verb, subj, obj)


def _grow_np(rng: random.Random, np: _DraftNP, budget: int, animate: bool) -> int:
    """Replace a name by determiner + noun, or add an adjective; return the words added."""
    if np.det is None:
        while True:
            noun = rng.choice(_ANIMATE if animate else _NOUN_KEYS)
            if _WC[noun] <= budget:
                np.noun, np.det = noun, rng.choice(_DET_KEYS)
                return _WC[noun]
    while True:
        adj = rng.choice(_ADJ_KEYS)
        if adj not in np.adjs:
            np.adjs.append(adj)
            return 1


def _grow(rng: random.Random, d: _Draft, budget: int) -> bool:
    """Add one random part that fits in ``budget`` words; False when nothing fits."""
    nps = [np for np in (d.subj, d.obj, *(np for _, np in d.pps)) if np and len(np.adjs) < 2]
    ops: list = nps + [np for np in nps if np.det is None] * 2  # names: 3x as likely to grow
    if d.subj is not None and not d.neg and d.pre_adv is None and budget >= 2:
        ops.append("neg")
    if not d.neg and d.pre_adv is None:
        ops.append("pre_adv")
    if d.adv is None:
        ops.append("adv")
    if len(d.pps) < 3 and budget >= 2:
        ops.append("pp")
    if not ops:
        return False
    op = rng.choice(ops)
    if op == "neg":
        d.neg, added = True, 2
    elif op == "pre_adv":
        d.pre_adv, added = rng.choice(_PRE_ADV_KEYS), 1
    elif op == "adv":
        d.adv = rng.choice(_ADVS_UPTO[budget])
        added = _WC[d.adv]
    elif op == "pp":
        prep = rng.choice(_PREPS_UPTO[budget])
        d.pps.append((prep, _DraftNP(rng.choice(_NAME_KEYS))))
        added = _WC[prep] + 1
    else:
        added = _grow_np(rng, op, budget, animate=op is d.subj)
    d.size += added
    return True


def _clause(rng: random.Random, n: int, imperative: bool) -> Clause:
    """A random clause of exactly ``n`` English words."""
    while True:
        d = _seed_clause(rng, n, imperative)
        while d.size < n and _grow(rng, d, n - d.size):
            pass
        if d.size == n:
            return d.freeze()


def _fragment(rng: random.Random, n: int) -> NP:
    """A bare noun phrase of ``n`` <= 4 words ("cat", "the cat", "a small red box")."""
    while True:
        noun = rng.choice(_NOUN_KEYS)
        n_adjs = n - 1 - _WC[noun]
        if n == 1 and _WC[noun] == 1:
            return NP(noun)
        if n > 1 and 0 <= n_adjs <= 2:
            return NP(noun, rng.choice(_DET_KEYS), tuple(rng.sample(_ADJ_KEYS, n_adjs)))


def _clause_lengths(rng: random.Random, length: int) -> list[int]:
    """Split a sentence length into clause lengths (plus one conjunction between each)."""
    if length < 2 * _MIN_CLAUSE + 1 or (length <= _MAX_CLAUSE and rng.random() < 0.5):
        return [length]
    lengths, rest = [], length
    while rest > _MAX_CLAUSE or (rest >= 2 * _MIN_CLAUSE + 1 and rng.random() < 0.25):
        n = rng.randint(_MIN_CLAUSE, min(_MAX_CLAUSE, rest - 1 - _MIN_CLAUSE))
        lengths.append(n)
        rest -= n + 1
    return [*lengths, rest]


def _sentence(rng: random.Random, length: int) -> Sentence:
    """A random sentence of exactly ``length`` English words."""
    lengths = _clause_lengths(rng, length)
    if len(lengths) > 1:
        parts = tuple(_clause(rng, n, imperative=False) for n in lengths)
        return Sentence(parts, tuple(rng.choice(_CONJ_KEYS) for _ in lengths[1:]))
    r = rng.random()
    if length <= 4 and r < 0.3:
        return Sentence((_fragment(rng, length),))
    return Sentence((_clause(rng, length, imperative=length == 1 or r < 0.45),))

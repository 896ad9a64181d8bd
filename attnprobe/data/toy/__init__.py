"""Toy language pairs whose gold word alignment is known by construction.

Real gold alignments are scarce and noisy; a synthetic pair lets every
alignment measurement be checked against the exact truth. Sentences are built
as *structures* (:class:`Sentence` of :class:`Clause` and :class:`NP`), then
written out in English and translated by hand-written rules. Each rule emits
target words together with the source positions they come from, so the
alignment is a by-product of the translation, never guessed afterwards.

The translation is a deterministic function of the English sentence: the
grammar is unambiguous (every English word sequence has one parse, e.g. no
preposition doubles as a phrasal-verb particle) and no rule makes a random
choice on the target side. A model can therefore reach (near) perfect accuracy.

Grammar (English source, shared by both pairs)
----------------------------------------------
::

    Sentence := Clause (Conj Clause)*  |  Imperative  |  NP
    Clause   := NP_subj [does not | PreAdv] Verb [NP_obj] PP* [Adv]
    Imperative := [PreAdv] Verb_base [NP_obj] PP* [Adv]
    NP       := Name  |  Det Adj* Noun          (at most two adjectives)
    PP       := Prep NP                         (attached to the clause)

Lexicon classes: nouns (animate ones may be subjects; some are two-word
compounds like "ice cream", some become several target words like
"potato" -> "pomme de terre"), names, determiners (the, a/an, this, that, my,
his, her, your), adjectives (French: before or after the noun), transitive,
intransitive, phrasal ("look for") and reflexive ("rest" -> "se repose")
verbs, prepositions (some multi-word: "in front of"), clause-final adverbs,
pre-verbal adverbs (often, always, sometimes), and conjunctions.
Imperatives and bare noun phrases occur only as whole sentences, which gives
one-word sentences ("run", "cat"). English says "an" before a vowel.

enfr (English -> French-like)
-----------------------------
========================  ==========================  ============================
phenomenon                example                     alignment
========================  ==========================  ============================
adjective after noun      the black cat / le chat     crossing links; two post-
                          noir                        adjectives mirror their order
gender agreement          a small cow / une petite    det and adjective forms follow
                          vache                       the noun's gender (sure links)
negation (discontinuous)  does not see / ne voit pas  not-ne and not-pas sure;
                                                      "does" unaligned
one-to-many noun          potato / pomme de terre     all three sure
many-to-one               look for / cherche,         every source word sure to the
                          in front of / devant        one target word
contraction               near the garden / près du   "du" sure to "near" and "the"
                          jardin
reflexive pronoun         rests / se repose           "se" has no source: possible
                                                      links to the verb only
elision                   the bird / l' oiseau        spelling only, same links
========================  ==========================  ============================

enja (English -> Japanese-like romaji)
--------------------------------------
Clause order becomes ``Subj wa|ga [Adv] PP* [Obj o] Verb [nai]``: the verb moves
to the end of its clause past the object and the prepositional phrases (long-
distance reordering, SVO -> SOV); prepositions become postpositions after their
noun ("in the house" -> "ie ni", "on the table" -> "teeburu no ue ni"); the
articles "the" and "a" and the auxiliary "does" have no target word (unaligned);
case markers "wa"/"ga" (after a name / a noun-phrase subject) and "o" (after
the object) have no source word: they get *possible* links to their head noun
only. The particles "na"/"no" that follow some adjectives ("kirei na") are
possible links of that adjective. "not" becomes "nai" after the verb's
negative stem ("does not eat" -> "tabe nai").

Alignment conventions (both pairs): a target word that translates a source
word is a *sure* link; a word inserted by the target grammar is either possible
(links to the word it depends on, as above) or unaligned; no sentence has an
empty alignment. Links are ``(source index, target index)``, 0-based.

Splits: source lengths are exactly uniform over 1..60 in each block of 60
examples. Each English sentence belongs to one split by a stable hash of its
text (:data:`SPLITS`), so dev and test never share a source sentence with
train or with each other, even for one-word sentences. The English side does
not depend on the pair: for one seed, enfr and enja have the same sources.

Examples
--------
>>> ex = translate("enfr", Sentence((Clause("see", subj=NP("cat", "the", ("black",)),
...                                          obj=NP("mary")),)))
>>> " ".join(ex.src), " ".join(ex.tgt)
('the black cat sees mary', 'le chat noir voit marie')
>>> sorted(ex.alignment.sure)
[(0, 0), (1, 2), (2, 1), (3, 3), (4, 4)]
>>> from attnprobe.alignment import format_pharaoh
>>> ex = generate("enja", 1, seed=0, min_len=3, max_len=3)[0]
>>> " ".join(ex.src), " ".join(ex.tgt), format_pharaoh(ex.alignment)
('my child jumps', 'watashi no kodomo ga tobu', '0-0 0-1 1-2 1p3 2-4')
"""

from attnprobe.data.toy.corpus import (
    SPLITS,
    SplitSpec,
    generate,
    generate_split,
    split_corpus,
    write_corpus,
)
from attnprobe.data.toy.grammar import NP, Clause, Sentence, ToyExample, ToyPair
from attnprobe.data.toy.pairs import PAIRS, translate

__all__ = [
    "PAIRS",
    "SPLITS",
    "ToyPair",
    "SplitSpec",
    "ToyExample",
    "NP",
    "Clause",
    "Sentence",
    "translate",
    "generate",
    "generate_split",
    "split_corpus",
    "write_corpus",
]

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

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from attnprobe.alignment import Alignment, write_pharaoh
from attnprobe.data import ParallelCorpus
from attnprobe.errors import InputError, UnknownNameError
from attnprobe.fileio import write_text_atomic

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

# --------------------------------------------------------------------------- lexicon
# Multi-word entries are space-separated. ``*_links`` give the links inside an
# entry in Pharaoh notation (``i-j`` sure, ``ipj`` possible, local 0-based
# indices); None means every source word is sure to every target word.


@dataclass(frozen=True)
class _Noun:
    fr: str
    gender: str  # "m" | "f": chooses the French determiner and adjective forms
    ja: str
    animate: bool = False  # may be a subject
    fr_links: str | None = None
    ja_links: str | None = None


@dataclass(frozen=True)
class _Adj:
    fr_m: str
    fr_f: str
    pre: bool  # French position: True before the noun, False after it
    ja: str
    ja_links: str | None = None


@dataclass(frozen=True)
class _Verb:
    en3: str  # 3rd person singular ("looks for"); the dict key is the base form
    kind: str  # "tr" (needs an object) | "in" | "refl" (French "se", never imperative)
    fr: str  # 3rd person singular
    fr_imp: str  # imperative
    ja: str  # dictionary form (end of a clause)
    ja_neg: str  # negative stem, followed by "nai"
    ja_imp: str  # imperative


@dataclass(frozen=True)
class _Word:  # a closed-class word (determiner, preposition, adverb, conjunction)
    fr: str
    ja: str
    fr_links: str | None = None
    ja_links: str | None = None


_POSS = "0-0 0p1"  # a second target word that is a grammatical particle: possible link

_NOUNS: dict[str, _Noun] = {
    # animate: may be subjects
    "cat": _Noun("chat", "m", "neko", True),
    "dog": _Noun("chien", "m", "inu", True),
    "bird": _Noun("oiseau", "m", "tori", True),
    "horse": _Noun("cheval", "m", "uma", True),
    "cow": _Noun("vache", "f", "ushi", True),
    "mouse": _Noun("souris", "f", "nezumi", True),
    "fox": _Noun("renard", "m", "kitsune", True),
    "bear": _Noun("ours", "m", "kuma", True),
    "rabbit": _Noun("lapin", "m", "usagi", True),
    "frog": _Noun("grenouille", "f", "kaeru", True),
    "duck": _Noun("canard", "m", "ahiru", True),
    "fish": _Noun("poisson", "m", "sakana", True),
    "boy": _Noun("garçon", "m", "shounen", True),
    "girl": _Noun("fille", "f", "shoujo", True),
    "man": _Noun("homme", "m", "otoko", True),
    "woman": _Noun("femme", "f", "onna", True),
    "child": _Noun("enfant", "m", "kodomo", True),
    "teacher": _Noun("professeur", "m", "sensei", True),
    "doctor": _Noun("médecin", "m", "isha", True),
    "farmer": _Noun("fermier", "m", "noufu", True),
    "king": _Noun("roi", "m", "ou", True),
    "queen": _Noun("reine", "f", "joou", True),
    "baker": _Noun("boulanger", "m", "panya", True),
    "student": _Noun("étudiant", "m", "gakusei", True),
    "neighbor": _Noun("voisin", "m", "rinjin", True),
    "soldier": _Noun("soldat", "m", "heishi", True),
    "sailor": _Noun("marin", "m", "suifu", True),
    "thief": _Noun("voleur", "m", "dorobou", True),
    "nurse": _Noun("infirmière", "f", "kangoshi", True),
    "goalkeeper": _Noun("gardien de but", "m", "gooru kiipaa", True),
    "hummingbird": _Noun("oiseau mouche", "m", "hachidori", True),
    "police officer": _Noun("policier", "m", "keisatsukan", True),
    # inanimate
    "house": _Noun("maison", "f", "ie"),
    "garden": _Noun("jardin", "m", "niwa"),
    "table": _Noun("table", "f", "teeburu"),
    "chair": _Noun("chaise", "f", "isu"),
    "book": _Noun("livre", "m", "hon"),
    "letter": _Noun("lettre", "f", "tegami"),
    "apple": _Noun("pomme", "f", "ringo"),
    "potato": _Noun("pomme de terre", "f", "jagaimo"),
    "bread": _Noun("pain", "m", "pan"),
    "water": _Noun("eau", "f", "mizu"),
    "milk": _Noun("lait", "m", "gyuunyuu"),
    "car": _Noun("voiture", "f", "kuruma"),
    "bicycle": _Noun("vélo", "m", "jitensha"),
    "door": _Noun("porte", "f", "doa"),
    "window": _Noun("fenêtre", "f", "mado"),
    "key": _Noun("clé", "f", "kagi"),
    "box": _Noun("boîte", "f", "hako"),
    "bag": _Noun("sac", "m", "kaban"),
    "hat": _Noun("chapeau", "m", "boushi"),
    "shoe": _Noun("chaussure", "f", "kutsu"),
    "river": _Noun("rivière", "f", "kawa"),
    "mountain": _Noun("montagne", "f", "yama"),
    "tree": _Noun("arbre", "m", "ki"),
    "flower": _Noun("fleur", "f", "hana"),
    "station": _Noun("gare", "f", "eki"),
    "school": _Noun("école", "f", "gakkou"),
    "market": _Noun("marché", "m", "ichiba"),
    "city": _Noun("ville", "f", "machi"),
    "village": _Noun("village", "m", "mura"),
    "street": _Noun("rue", "f", "michi"),
    "bridge": _Noun("pont", "m", "hashi"),
    "forest": _Noun("forêt", "f", "mori"),
    "sea": _Noun("mer", "f", "umi"),
    "lake": _Noun("lac", "m", "mizuumi"),
    "park": _Noun("parc", "m", "kouen"),
    "church": _Noun("église", "f", "kyoukai"),
    "shop": _Noun("magasin", "m", "mise"),
    "kitchen": _Noun("cuisine", "f", "daidokoro"),
    "room": _Noun("chambre", "f", "heya"),
    "bed": _Noun("lit", "m", "beddo"),
    "cake": _Noun("gâteau", "m", "keeki"),
    "egg": _Noun("oeuf", "m", "tamago"),
    "cheese": _Noun("fromage", "m", "chiizu"),
    "knife": _Noun("couteau", "m", "naifu"),
    "cup": _Noun("tasse", "f", "koppu"),
    "plate": _Noun("assiette", "f", "sara"),
    "bottle": _Noun("bouteille", "f", "bin"),
    "pen": _Noun("stylo", "m", "pen"),
    "newspaper": _Noun("journal", "m", "shinbun"),
    "clock": _Noun("horloge", "f", "tokei"),
    "phone": _Noun("téléphone", "m", "denwa"),
    "computer": _Noun("ordinateur", "m", "konpyuutaa"),
    "ball": _Noun("ballon", "m", "booru"),
    "toy": _Noun("jouet", "m", "omocha"),
    "umbrella": _Noun("parapluie", "m", "kasa"),
    "coat": _Noun("manteau", "m", "kooto"),
    "ring": _Noun("bague", "f", "yubiwa"),
    "map": _Noun("carte", "f", "chizu"),
    "ticket": _Noun("billet", "m", "kippu"),
    "boat": _Noun("bateau", "m", "fune"),
    "train": _Noun("train", "m", "densha"),
    "toothbrush": _Noun("brosse à dents", "f", "haburashi"),
    "typewriter": _Noun("machine à écrire", "f", "taipuraitaa"),
    "dishwasher": _Noun("lave vaisselle", "m", "shokki araiki"),
    "ice cream": _Noun("glace", "f", "aisu"),
    "post office": _Noun("poste", "f", "yuubinkyoku"),
    "swimming pool": _Noun("piscine", "f", "puuru"),
    "fire truck": _Noun("camion de pompiers", "m", "shouboosha", fr_links="1-0 0-2 0p1 1p1"),
    "alarm clock": _Noun("réveil", "m", "mezamashi dokei", ja_links="0-0 1-1"),
}

# names: no determiner, no adjectives; (French, Japanese)
_NAMES: dict[str, tuple[str, str]] = {
    "mary": ("marie", "mari"),
    "john": ("jean", "jon"),
    "paul": ("paul", "pooru"),
    "anna": ("anne", "ana"),
    "tom": ("thomas", "tomu"),
    "emma": ("emma", "ema"),
    "lucy": ("lucie", "ruushii"),
    "peter": ("pierre", "piitaa"),
}

# French masculine/feminine forms as "m/f"; Japanese has no article for the/a
_DETS: dict[str, _Word] = {
    "the": _Word("le/la", ""),
    "a": _Word("un/une", ""),
    "this": _Word("ce/cette", "kono"),
    "that": _Word("ce/cette", "ano"),
    "my": _Word("mon/ma", "watashi no"),
    "his": _Word("son/sa", "kare no"),
    "her": _Word("son/sa", "kanojo no"),
    "your": _Word("ton/ta", "anata no"),
}

_ADJS: dict[str, _Adj] = {
    # before the noun in French
    "small": _Adj("petit", "petite", True, "chiisai"),
    "big": _Adj("grand", "grande", True, "ookii"),
    "old": _Adj("vieux", "vieille", True, "furui"),
    "young": _Adj("jeune", "jeune", True, "wakai"),
    "new": _Adj("nouveau", "nouvelle", True, "atarashii"),
    "pretty": _Adj("joli", "jolie", True, "kirei na", _POSS),
    "good": _Adj("bon", "bonne", True, "yoi"),
    "bad": _Adj("mauvais", "mauvaise", True, "warui"),
    "beautiful": _Adj("beau", "belle", True, "utsukushii"),
    "long": _Adj("long", "longue", True, "nagai"),
    # after the noun in French
    "black": _Adj("noir", "noire", False, "kuroi"),
    "white": _Adj("blanc", "blanche", False, "shiroi"),
    "red": _Adj("rouge", "rouge", False, "akai"),
    "blue": _Adj("bleu", "bleue", False, "aoi"),
    "green": _Adj("vert", "verte", False, "midori no", _POSS),
    "yellow": _Adj("jaune", "jaune", False, "kiiroi"),
    "happy": _Adj("heureux", "heureuse", False, "shiawase na", _POSS),
    "sad": _Adj("triste", "triste", False, "kanashii"),
    "tired": _Adj("fatigué", "fatiguée", False, "tsukareta"),
    "heavy": _Adj("lourd", "lourde", False, "omoi"),
    "hot": _Adj("chaud", "chaude", False, "atsui"),
    "cold": _Adj("froid", "froide", False, "tsumetai"),
    "dirty": _Adj("sale", "sale", False, "kitanai"),
    "round": _Adj("rond", "ronde", False, "marui"),
    "wooden": _Adj("en bois", "en bois", False, "mokusei no", _POSS),
    "strange": _Adj("étrange", "étrange", False, "hen na", _POSS),
    "quiet": _Adj("calme", "calme", False, "shizuka na", _POSS),
    "expensive": _Adj("cher", "chère", False, "takai"),
    "cheap": _Adj("bon marché", "bon marché", False, "yasui"),
    "hungry": _Adj("affamé", "affamée", False, "harapeko no", _POSS),
    "broken": _Adj("cassé", "cassée", False, "kowareta"),
    "empty": _Adj("vide", "vide", False, "karappo no", _POSS),
}

_VERBS: dict[str, _Verb] = {
    # transitive
    "see": _Verb("sees", "tr", "voit", "vois", "miru", "mi", "miro"),
    "eat": _Verb("eats", "tr", "mange", "mange", "taberu", "tabe", "tabero"),
    "drink": _Verb("drinks", "tr", "boit", "bois", "nomu", "noma", "nome"),
    "read": _Verb("reads", "tr", "lit", "lis", "yomu", "yoma", "yome"),
    "write": _Verb("writes", "tr", "écrit", "écris", "kaku", "kaka", "kake"),
    "buy": _Verb("buys", "tr", "achète", "achète", "kau", "kawa", "kae"),
    "take": _Verb("takes", "tr", "prend", "prends", "toru", "tora", "tore"),
    "carry": _Verb("carries", "tr", "porte", "porte", "hakobu", "hakoba", "hakobe"),
    "make": _Verb("makes", "tr", "fait", "fais", "tsukuru", "tsukura", "tsukure"),
    "open": _Verb("opens", "tr", "ouvre", "ouvre", "akeru", "ake", "akero"),
    "close": _Verb("closes", "tr", "ferme", "ferme", "shimeru", "shime", "shimero"),
    "push": _Verb("pushes", "tr", "pousse", "pousse", "osu", "osa", "ose"),
    "pull": _Verb("pulls", "tr", "tire", "tire", "hiku", "hika", "hike"),
    "wash": _Verb("washes", "tr", "lave", "lave", "arau", "arawa", "arae"),
    "help": _Verb("helps", "tr", "aide", "aide", "tasukeru", "tasuke", "tasukero"),
    "forget": _Verb("forgets", "tr", "oublie", "oublie", "wasureru", "wasure", "wasurero"),
    "find": _Verb("finds", "tr", "trouve", "trouve", "mitsukeru", "mitsuke", "mitsukero"),
    "sell": _Verb("sells", "tr", "vend", "vends", "uru", "ura", "ure"),
    "cut": _Verb("cuts", "tr", "coupe", "coupe", "kiru", "kira", "kire"),
    "steal": _Verb("steals", "tr", "vole", "vole", "nusumu", "nusuma", "nusume"),
    "catch": _Verb("catches", "tr", "attrape", "attrape", "tsukamaeru", "tsukamae", "tsukamaero"),
    "throw": _Verb("throws", "tr", "lance", "lance", "nageru", "nage", "nagero"),
    "love": _Verb("loves", "tr", "aime", "aime", "aisuru", "aisa", "aise"),
    "follow": _Verb("follows", "tr", "suit", "suis", "ou", "owa", "oe"),
    "call": _Verb("calls", "tr", "appelle", "appelle", "yobu", "yoba", "yobe"),
    "draw": _Verb("draws", "tr", "dessine", "dessine", "egaku", "egaka", "egake"),
    "hold": _Verb("holds", "tr", "tient", "tiens", "motsu", "mota", "mote"),
    # phrasal: several English words, one target word (many-to-one)
    "look for": _Verb("looks for", "tr", "cherche", "cherche", "sagasu", "sagasa", "sagase"),
    "look at": _Verb("looks at", "tr", "regarde", "regarde", "nagameru", "nagame", "nagamero"),
    "listen to": _Verb("listens to", "tr", "écoute", "écoute", "kiku", "kika", "kike"),
    "wait for": _Verb("waits for", "tr", "attend", "attends", "matsu", "mata", "mate"),
    "look after": _Verb("looks after", "tr", "garde", "garde", "mamoru", "mamora", "mamore"),
    "pick up": _Verb("picks up", "tr", "ramasse", "ramasse", "hirou", "hirowa", "hiroe"),
    "take care of": _Verb(
        "takes care of", "tr", "soigne", "soigne", "sewasuru", "sewashi", "sewashiro"
    ),
    # intransitive
    "sleep": _Verb("sleeps", "in", "dort", "dors", "neru", "ne", "nero"),
    "run": _Verb("runs", "in", "court", "cours", "hashiru", "hashira", "hashire"),
    "walk": _Verb("walks", "in", "marche", "marche", "aruku", "aruka", "aruke"),
    "sing": _Verb("sings", "in", "chante", "chante", "utau", "utawa", "utae"),
    "dance": _Verb("dances", "in", "danse", "danse", "odoru", "odora", "odore"),
    "swim": _Verb("swims", "in", "nage", "nage", "oyogu", "oyoga", "oyoge"),
    "laugh": _Verb("laughs", "in", "rit", "ris", "warau", "warawa", "warae"),
    "cry": _Verb("cries", "in", "pleure", "pleure", "naku", "naka", "nake"),
    "wait": _Verb("waits", "in", "attend", "attends", "matsu", "mata", "mate"),
    "work": _Verb("works", "in", "travaille", "travaille", "hataraku", "hataraka", "hatarake"),
    "arrive": _Verb("arrives", "in", "arrive", "arrive", "tsuku", "tsuka", "tsuke"),
    "come": _Verb("comes", "in", "vient", "viens", "kuru", "ko", "koi"),
    "go": _Verb("goes", "in", "va", "va", "iku", "ika", "ike"),
    "play": _Verb("plays", "in", "joue", "joue", "asobu", "asoba", "asobe"),
    "jump": _Verb("jumps", "in", "saute", "saute", "tobu", "toba", "tobe"),
    # reflexive in French: "se" has no source word
    "sit": _Verb("sits", "refl", "assied", "", "suwaru", "suwara", ""),
    "rest": _Verb("rests", "refl", "repose", "", "yasumu", "yasuma", ""),
    "hide": _Verb("hides", "refl", "cache", "", "kakureru", "kakure", ""),
    "wake up": _Verb("wakes up", "refl", "réveille", "", "okiru", "oki", ""),
    "stand up": _Verb("stands up", "refl", "lève", "", "tatsu", "tata", ""),
}

_PREPS: dict[str, _Word] = {
    "in": _Word("dans", "ni"),
    "on": _Word("sur", "no ue ni"),
    "under": _Word("sous", "no shita ni"),
    "near": _Word("près de", "no chikaku ni"),
    "behind": _Word("derrière", "no ushiro ni"),
    "with": _Word("avec", "to"),
    "from": _Word("de", "kara"),
    "to": _Word("à", "e"),
    "at": _Word("à", "de"),
    "without": _Word("sans", "nashi de"),
    "in front of": _Word("devant", "no mae ni", ja_links="2-0 1-1 0-2"),
    "next to": _Word("à côté de", "no tonari ni", "0-0 0-1 1-2", "0-0 0-1 1-2"),
}

_ADVS: dict[str, _Word] = {  # clause-final
    "today": _Word("aujourd'hui", "kyou"),
    "now": _Word("maintenant", "ima"),
    "quickly": _Word("vite", "hayaku"),
    "slowly": _Word("lentement", "yukkuri"),
    "again": _Word("encore", "mata"),
    "here": _Word("ici", "koko de", ja_links=_POSS),
    "together": _Word("ensemble", "issho ni", ja_links=_POSS),
    "tonight": _Word("ce soir", "konban"),
    "every day": _Word("chaque jour", "mainichi", fr_links="0-0 1-1"),
    "every morning": _Word("chaque matin", "maiasa", fr_links="0-0 1-1"),
}

_PRE_ADVS: dict[str, _Word] = {  # English: before the verb; French: after it
    "often": _Word("souvent", "yoku"),
    "always": _Word("toujours", "itsumo"),
    "sometimes": _Word("parfois", "tokidoki"),
}

_CONJS: dict[str, _Word] = {
    "and": _Word("et", "soshite"),
    "but": _Word("mais", "demo"),
    "so": _Word("donc", "dakara"),
    "then": _Word("puis", "sorekara"),
    "or": _Word("ou", "soretomo"),
    "because": _Word("parce que", "nazenara"),
    "while": _Word("pendant que", "sono aida"),
}

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


@dataclass(frozen=True)
class SplitSpec:
    """Size, seed and hash share of one split.

    An English sentence belongs to the split whose ``buckets`` contain the
    stable hash of its text modulo 100, so splits never share a source.
    """

    size: int
    seed: int
    buckets: range


SPLITS: dict[str, SplitSpec] = {
    "train": SplitSpec(40_000, 1, range(20, 100)),
    "dev": SplitSpec(500, 2, range(12, 20)),
    "test": SplitSpec(1_200, 3, range(0, 12)),
}


def _pair(name: str | ToyPair) -> ToyPair:
    if isinstance(name, ToyPair):
        return name
    if name not in PAIRS:
        raise UnknownNameError("toy pair", name, list(PAIRS))
    return PAIRS[name]


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


def _bucket(source: str) -> int:
    """Stable hash of an English sentence, 0..99 (the same on every platform)."""
    return int.from_bytes(hashlib.blake2b(source.encode(), digest_size=8).digest(), "big") % 100


_MAX_DRAWS = 5_000  # tries to find a sentence of one length in the split's share
_DEDUP_DRAWS = 50  # after this many tries, accept a sentence already in the output


def generate(
    pair: str,
    n: int,
    seed: int,
    *,
    min_len: int = 1,
    max_len: int = 60,
    split: str | None = None,
) -> list[ToyExample]:
    """Generate ``n`` random sentence pairs with gold alignments.

    Source lengths (English words) are exactly uniform over
    ``min_len..max_len`` in each block of ``max_len - min_len + 1`` examples;
    the first ``k`` examples of a call do not depend on ``n``. Sentences repeat
    only where the short lengths run out of distinct sentences.

    Parameters
    ----------
    pair : a key of :data:`PAIRS`.
    n : number of examples.
    seed : seed of a private :class:`random.Random`; the English side does not
        depend on ``pair``.
    min_len, max_len : range of source lengths, 1 <= min_len <= max_len.
    split : keep only sentences whose hash falls in this split's share
        (see :data:`SPLITS`), so that different splits never share a source.

    Returns
    -------
    list of ToyExample

    Raises
    ------
    UnknownNameError : unknown pair or split.
    InputError : bad ``n`` or lengths.

    Examples
    --------
    >>> [" ".join(e.src) for e in generate("enfr", 3, seed=7, max_len=3)]
    ['read john now', 'run', 'often walk']
    >>> generate("enfr", 2, seed=7) == generate("enfr", 2, seed=7)
    True
    """
    p = _pair(pair)
    if split is not None and split not in SPLITS:
        raise UnknownNameError("split", split, list(SPLITS))
    if not isinstance(n, int) or n < 0:
        raise InputError(f"number of examples must be an integer >= 0, got {n!r}")
    if not 1 <= min_len <= max_len:
        raise InputError(f"need 1 <= min_len <= max_len, got {min_len} and {max_len}")
    rng = random.Random(seed)
    buckets = SPLITS[split].buckets if split else range(100)
    out: list[ToyExample] = []
    seen: set[str] = set()
    while len(out) < n:
        block = list(range(min_len, max_len + 1))
        rng.shuffle(block)
        for length in block[: n - len(out)]:
            out.append(_draw(rng, p, length, buckets, seen))
    return out


def _draw(rng, p: ToyPair, length: int, buckets: range, seen: set[str]) -> ToyExample:
    for attempt in range(_MAX_DRAWS):
        s = _sentence(rng, length)
        english = _english(s)
        key = " ".join(english[0])
        if _bucket(key) in buckets and (key not in seen or attempt >= _DEDUP_DRAWS):
            seen.add(key)
            return _translate(p, s, english)
    raise InputError(f"found no sentence of length {length} in {_MAX_DRAWS} tries",
                     fix="widen the split's share or the length range")  # fmt: skip


def generate_split(pair: str, split: str) -> list[ToyExample]:
    """The fixed split ``split`` of ``pair`` (size and seed from :data:`SPLITS`).

    Examples
    --------
    >>> dev = generate_split("enja", "dev")
    >>> len(dev), min(len(e.src) for e in dev), max(len(e.src) for e in dev)
    (500, 1, 60)
    """
    if split not in SPLITS:
        raise UnknownNameError("split", split, list(SPLITS))
    spec = SPLITS[split]
    return generate(pair, spec.size, spec.seed, split=split)


def split_corpus(pair: str, split: str) -> tuple[ParallelCorpus, list[Alignment]]:
    """The split ``split`` of ``pair`` as a corpus, with its gold alignments.

    Examples
    --------
    >>> corpus, gold = split_corpus("enfr", "dev")
    >>> len(corpus), corpus.name, len(gold)
    (500, 'toy enfr dev', 500)
    """
    examples = generate_split(pair, split)
    corpus = ParallelCorpus(
        [list(e.src) for e in examples], [list(e.tgt) for e in examples], name=f"toy {pair} {split}"
    )
    return corpus, [e.alignment for e in examples]


def write_corpus(
    pair: str,
    out_dir: str | os.PathLike,
    splits: Sequence[str] = ("train", "dev", "test"),
) -> list[Path]:
    """Write ``<split>.src``, ``<split>.tgt`` and ``<split>.gold`` for each split.

    Tokens are space-separated, one sentence per line; ``.gold`` is Pharaoh,
    0-based ``src-tgt`` (``i-j`` sure, ``ipj`` possible-only). Each file is
    written atomically; ``out_dir`` is created if needed.

    Returns
    -------
    list of Path : the files written.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_corpus("enfr", tempfile.mkdtemp(), splits=["dev"])
    >>> [p.name for p in paths]
    ['dev.src', 'dev.tgt', 'dev.gold']
    >>> len(paths[0].read_text().splitlines())
    500
    """
    _pair(pair)
    for split in splits:
        if split not in SPLITS:
            raise UnknownNameError("split", split, list(SPLITS))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for split in splits:
        examples = generate_split(pair, split)
        src, tgt, gold = (out / f"{split}.{ext}" for ext in ("src", "tgt", "gold"))
        write_text_atomic(src, "".join(" ".join(e.src) + "\n" for e in examples))
        write_text_atomic(tgt, "".join(" ".join(e.tgt) + "\n" for e in examples))
        write_pharaoh(gold, [e.alignment for e in examples])
        written += [src, tgt, gold]
    return written

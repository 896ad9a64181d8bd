"""The toy lexicon: every word the grammar may use, with its translations.

Word classes (:class:`_Noun`, :class:`_Adj`, :class:`_Verb`, :class:`_Word`) and
the tables keyed by English form: nouns, names, determiners, adjectives, verbs,
prepositions, clause-final and pre-verbal adverbs, conjunctions. Each entry holds
its French-like and Japanese-like forms and the links inside multi-word entries.
"""

from __future__ import annotations

from dataclasses import dataclass

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

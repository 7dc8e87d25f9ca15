"""The vocabulary of design from words (tryon.jewelry.prompt), as data: metals, stones, cuts, pieces, styles,
chains and lengths with their synonyms, size words, units, number words, the terms for what designs are not made
of (each group with its reason), and the words that are only filler. `VOCABULARY` maps each phrase, as a tuple
of words, to what it is and which one."""

from __future__ import annotations

from typing import Any

MAX_PROMPT_CHARS = 500
KINDS = {"ring": "a ring", "earring": "earrings", "pendant": "a pendant"}
OF_KIND = {"ring": "a ring's", "earring": "an earring's", "pendant": "a pendant's"}

# --- the vocabulary ---------------------------------------------------------------------------------------------
METALS = {
    "gold": "yellow_gold", "yellow gold": "yellow_gold", "white gold": "white_gold", "rose gold": "rose_gold",
    "pink gold": "rose_gold", "red gold": "rose_gold", "rosegold": "rose_gold", "silver": "silver",
    "sterling": "silver", "sterling silver": "silver", "platinum": "platinum", "plat": "platinum", "pt": "platinum",
}
STONES = {"diamond": "diamond", "diamonds": "diamond", "ruby": "ruby", "rubies": "ruby", "sapphire": "sapphire",
          "sapphires": "sapphire", "emerald": "emerald", "emeralds": "emerald"}
STONE_NOUNS = ("stone", "stones", "gem", "gems", "gemstone", "gemstones", "centre stone", "center stone",
               "center", "centre", "rock")
# Which colour each stone is made in; a colour alone ("a red stone") names the stone.
STONE_COLOURS = {"diamond": ("white", "clear", "colourless", "colorless"), "ruby": ("red",),
                 "sapphire": ("blue",), "emerald": ("green",)}
COLOURS = ("white", "clear", "colourless", "colorless", "red", "blue", "green", "pink", "yellow", "black",
           "purple", "orange", "champagne", "brown", "grey", "gray", "violet", "rose")
# The cuts design.py makes: round brilliants everywhere, pear only as a drop earring's stone.
CUTS = {"round": "round", "brilliant": "round", "round brilliant": "round", "round cut": "round",
        "brilliant cut": "round", "pear": "pear", "pear cut": "pear", "pear shaped": "pear", "teardrop": "pear",
        "oval": "oval", "oval cut": "oval", "oval shaped": "oval", "oval brilliant": "oval"}
PIECES: dict[str, tuple[str, str | None]] = {  # word -> (kind, the style it names)
    "ring": ("ring", None), "rings": ("ring", None),
    "earring": ("earring", None), "earrings": ("earring", None), "ear ring": ("earring", None),
    "ear rings": ("earring", None), "stud": ("earring", "stud"), "studs": ("earring", "stud"),
    "hoop": ("earring", "hoop"), "hoops": ("earring", "hoop"), "huggie": ("earring", "hoop"),
    "huggies": ("earring", "hoop"), "creole": ("earring", "hoop"), "creoles": ("earring", "hoop"),
    "drop": ("earring", "drop"), "drops": ("earring", "drop"), "dangle": ("earring", "drop"),
    "dangles": ("earring", "drop"), "dangly": ("earring", "drop"), "dangling": ("earring", "drop"),
    "pendant": ("pendant", None), "pendants": ("pendant", None), "necklace": ("pendant", None),
    "necklaces": ("pendant", None),
}
STYLES = {  # style word -> (style, the kinds that have it)
    "halo": ("halo", ("ring",)), "solitaire": ("solitaire", ("ring", "pendant")),
    "heart": ("heart", ("pendant",)), "heart shaped": ("heart", ("pendant",)), "coin": ("coin", ("pendant",)),
    "medallion": ("coin", ("pendant",)), "disc": ("coin", ("pendant",)), "disk": ("coin", ("pendant",)),
    "plain": ("band", ("ring",)),
}
BAND_WORDS = ("band", "bands", "shank")
LETTER_WORDS = ("initial", "letter", "monogram", "alphabet")
CHAINS = {"cable": "cable", "trace": "cable", "link": "cable", "box": "box", "venetian": "box", "rope": "rope",
          "twisted": "rope"}
CHAIN_NOUNS = ("chain", "chains")
# Named necklace lengths (the usual retail names) in mm; opera and longer are beyond the longest chain made.
LENGTH_NAMES = {"choker": 400.0, "choker length": 400.0, "princess length": 450.0, "matinee": 550.0,
                "matinee length": 550.0, "opera": 760.0, "opera length": 760.0, "rope length": 1000.0,
                "lariat": 1000.0}
# Size adjectives: where in the parameter's design range they land (0 = its low end, 1 = its high end).
ADJECTIVES = {
    "narrow": ("thin", "slim", "skinny", "narrow", "fine", "delicate", "dainty", "slender", "petite band"),
    "wide": ("wide", "broad", "chunky", "bold", "thick", "heavy", "statement"),
    "small": ("small", "little", "tiny", "mini", "petite", "smaller"),
    "medium": ("medium", "mid", "midsize"),
    "large": ("large", "big", "huge", "larger", "bigger", "oversized"),
    "long": ("long", "longer"),
    "short": ("short", "shorter"),
}
ADJECTIVE_AT = {"narrow": 0.1, "wide": 0.8, "small": 0.2, "medium": 0.5, "large": 0.8, "long": 0.8, "short": 0.0}
# Words after a measurement that say which dimension it is ("3 mm wide", "45 cm long").
DIMENSIONS = {"wide": "width", "width": "width", "thick": "thick", "thickness": "thick", "long": "length",
              "length": "length", "tall": "pendant", "high": "pendant", "height": "pendant", "across": "diameter",
              "diameter": "diameter", "size": "size", "wire": "wire", "gauge": "wire"}
UNITS = {"mm": 1.0, "millimetre": 1.0, "millimetres": 1.0, "millimeter": 1.0, "millimeters": 1.0,
         "cm": 10.0, "centimetre": 10.0, "centimetres": 10.0, "centimeter": 10.0, "centimeters": 10.0,
         "in": 25.4, "inch": 25.4, "inches": 25.4, '"': 25.4, "ct": 0.0, "cts": 0.0, "carat": 0.0,
         "carats": 0.0, "k": -1.0, "kt": -1.0, "karat": -1.0, "karats": -1.0}  # 0: carats; -1: gold purity
KARATS_MADE = (18.0, 750.0)
HALLMARKS = {"yellow_gold": (750.0,), "white_gold": (750.0,), "rose_gold": (750.0,), "silver": (925.0,),
             "platinum": (950.0, 900.0)}
CONJUNCTIONS = ("and", "or", "&", "+", "plus", "also", "nor")
STOPS = ("with", ",", ";", "on", "featuring", "having", "set")

METALS_MADE = "yellow gold, white gold, rose gold, platinum or silver"
STONES_MADE = "diamond, ruby, sapphire or emerald"
REFUSED_GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "metal": (("titanium", "steel", "stainless steel", "stainless", "tungsten", "palladium", "copper", "brass",
               "bronze", "cobalt", "aluminium", "aluminum", "iron", "nickel", "tantalum", "niobium", "pewter",
               "vermeil", "gold plated", "plated", "gold filled", "filled", "two tone", "tri color", "tricolor",
               "mixed metal", "mixed metals", "gunmetal", "black gold", "green gold", "rhodium"),
              f"is not a metal designs are made in (they are {METALS_MADE}, solid)"),
    "stone": (("amethyst", "topaz", "aquamarine", "garnet", "opal", "pearl", "pearls", "moissanite",
               "cubic zirconia", "zirconia", "cz", "onyx", "turquoise", "tanzanite", "morganite", "peridot",
               "citrine", "jade", "tourmaline", "zircon", "spinel", "alexandrite", "lapis", "moonstone", "agate",
               "quartz", "crystal", "crystals", "birthstone", "birthstones"),
              f"is not a stone designs are set with (they are {STONES_MADE})"),
    "cut": (("princess cut", "square", "square cut", "emerald cut", "cushion", "cushion cut",
             "marquise", "marquise cut", "heart cut", "asscher", "asscher cut", "radiant", "radiant cut",
             "baguette", "baguettes", "trillion", "trilliant", "rose cut", "cabochon", "old mine", "old european",
             "octagon", "hexagon"),
            "is not a cut designs are made with: stones are round brilliants (oval in a ring's centre, pear-shaped "
            "only in drop earrings)"),
    "piece": (("bracelet", "bracelets", "bangle", "bangles", "anklet", "anklets", "watch", "watches", "brooch",
               "brooches", "pin", "cufflink", "cufflinks", "cuff links", "tiara", "crown", "locket", "lockets",
               "charm", "charms", "nose ring", "nose stud", "septum", "toe ring", "ear cuff", "ear cuffs",
               "climber", "climbers", "tie clip", "tie bar", "belly ring", "navel", "barrette", "hairpin",
               "lapel", "chandelier", "threader", "threaders", "tennis necklace", "tennis bracelet", "torque",
               "torc", "collar"),
              "is not a piece designs are made of (they are rings, earrings and pendants)"),
    "style": (("eternity", "half eternity", "signet", "cluster", "three stone", "trilogy", "pave", "pavé",
               "cocktail", "bezel", "channel set", "tension", "toi et moi", "bypass", "twist", "split shank",
               "filigree", "milgrain", "engraved", "engraving", "hammered", "braided", "stacking set", "bar",
               "infinity", "cross", "star", "moon", "butterfly", "flower", "floral", "tassel"),
              "is not a style designs are made in (rings: band, solitaire, halo; earrings: stud, hoop, drop; "
              "pendants: solitaire, heart, coin, initial)"),
    "chain": (("curb", "figaro", "snake", "herringbone", "singapore", "wheat", "franco", "paperclip", "mariner",
               "anchor", "ball chain", "bead chain", "beaded", "cuban", "byzantine", "omega", "popcorn",
               "satellite", "rolo", "belcher"),
              "is not a chain designs hang on (they are cable, box or rope)"),
}
# Known words with nothing to set (so they are not mistaken for anything else).
IGNORED = ("engagement", "wedding", "anniversary", "promise", "eternal", "stackable", "classic", "simple",
           "elegant", "minimalist", "modern", "vintage", "solid", "real", "genuine", "natural", "lab grown",
           "lab created", "polished", "shiny", "prong", "prongs", "claw", "claws", "set", "setting", "womens",
           "women's", "mens", "men's", "ladies", "her", "him", "gift", "comfort fit", "piece", "pair", "shape",
           "shaped", "cut", "style", "design", "jewellery", "jewelry", "one")

# Round brilliant diamonds: carat -> girdle diameter (mm), the usual trade chart (GIA-proportioned stones).
ROUND_BRILLIANT_MM = ((0.1, 3.0), (0.25, 4.1), (0.33, 4.4), (0.5, 5.2), (0.75, 5.8), (1.0, 6.5), (1.25, 6.9),
                      (1.5, 7.4), (2.0, 8.2), (2.5, 8.8), (3.0, 9.3), (4.0, 10.2), (5.0, 11.0))
# rings.solitaire and rings.halo take bands up to 4 mm (a band alone up to 10 mm): where "wide" lands.
STONE_RING_BAND_MAX_MM = 4.0

NUMBER_WORDS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
TENS = {w: float(10 * i) for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split())
        if w != "_"}
FRACTIONS = {"half": 0.5, "quarter": 0.25, "quarters": 0.25, "third": 1 / 3, "thirds": 1 / 3}


def _vocabulary() -> dict[tuple[str, ...], tuple[str, Any]]:
    vocab: dict[tuple[str, ...], tuple[str, Any]] = {}

    def add(phrases: Any, cat: str, value: Any = None) -> None:
        for phrase in phrases:
            vocab[tuple(phrase.split())] = (cat, value(phrase) if callable(value) else value)

    add(IGNORED, "ignore")
    add(COLOURS, "colour", lambda p: p)
    for group, (phrases, _) in REFUSED_GROUPS.items():
        add(phrases, "refused", lambda p, g=group: g)
    add(METALS, "metal", METALS.get)
    add(STONES, "stone", STONES.get)
    add(STONE_NOUNS, "stone_noun")
    add(CUTS, "cut", CUTS.get)
    add(PIECES, "piece", PIECES.get)
    add(STYLES, "style", STYLES.get)
    add(BAND_WORDS, "band")
    add(LETTER_WORDS, "letter_word")
    add(CHAINS, "chain", CHAINS.get)
    add(CHAIN_NOUNS, "chain_noun")
    add(LENGTH_NAMES, "length_name", LENGTH_NAMES.get)
    for name, words in ADJECTIVES.items():
        add(words, "adjective", name)
    add([d for d in DIMENSIONS if d not in vocab and (d,) not in vocab], "dimension", DIMENSIONS.get)
    add(CONJUNCTIONS, "and")
    add(STOPS, "stop")
    add(["size", "ring size"], "size_word")
    add(["teardrop earrings", "teardrops"], "piece", ("earring", "drop"))
    add(["princess"], "princess")
    return vocab


VOCABULARY = _vocabulary()
LONGEST = max(len(k) for k in VOCABULARY)

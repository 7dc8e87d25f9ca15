"""Design from words: "rose gold halo ring with a 7 mm sapphire, thin band" -> the parameters `tryon design` takes.

No language model: a small grammar over a vocabulary of jewellery terms (the tables below). The words are split
into tokens; numbers (digits, fractions, number words: "seven", "one and a half") with their units become
measurements; the longest phrase of the vocabulary at each place becomes a term (a metal, a stone, a cut, a piece,
a style, a chain, a size word, a term for something we do not make); other words are filler and ignored.
Then each measurement and size adjective is attached to the thing it describes (the next noun to its right,
else the nearest one to its left, else its unit: carats size a stone, inches and centimetres a chain), and the
terms are resolved into one kind, one style and one value per parameter.

What was not said is left out, for `tryon.jewelry.design.variations` to draw as it does for `tryon design`.
What cannot be made (an unknown metal, a cut we do not make, a piece we do not design, a size out of range),
and what contradicts itself (two metals, two sizes for one stone), raises InputError naming the words at fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tryon.errors import InputError
from tryon.jewelry import design
from tryon.jewelry.facts import STONE_SG
from tryon.jewelry.prompt_words import (
    ADJECTIVE_AT,
    BAND_WORDS,
    COLOURS,
    DIMENSIONS,
    FRACTIONS,
    HALLMARKS,
    KARATS_MADE,
    KINDS,
    LENGTH_NAMES,
    LETTER_WORDS,
    LONGEST,
    MAX_PROMPT_CHARS,
    METALS,
    NUMBER_WORDS,
    OF_KIND,
    REFUSED_GROUPS,
    ROUND_BRILLIANT_MM,
    STONE_COLOURS,
    STONE_RING_BAND_MAX_MM,
    STONES_MADE,
    TENS,
    UNITS,
    VOCABULARY,
)
from tryon.jewelry.rings import DEFAULT_INNER_DIAMETER_MM


@dataclass(frozen=True)
class Term:
    """A recognised phrase: `cat` what it is, `value` which one, `words` as written, `at` its token index."""

    cat: str
    value: Any
    words: str
    at: int
    unit: str = ""  # measurements: "mm" (value in mm) or "ct" (value in carats)


_TOKEN = re.compile(r"\d+(?:\.\d+)?(?:/\d+)?|[^\W\d_]+(?:'s)?|[\"&+,;]")


def tokenize(text: str) -> list[str]:
    """Words, numbers ("7", "7.5", "1/2") and the marks that mean something (" for inches, & + , ;), as written;
    a hyphen or slash between words separates them ("rose-gold", "18-inch")."""
    return _TOKEN.findall(_normalise(text))


def _normalise(text: str) -> str:
    return (text.replace("\u2033", '"').replace("\u201c", '"').replace("\u201d", '"').replace("\u00bd", " 1/2")
            .replace("\u00bc", " 1/4").replace("\u00be", " 3/4").replace("\u2019", "'"))


@dataclass(frozen=True)
class Request:
    """What the words ask for: `kind` and the `fixed` parameters (as design.variations takes them); `said`: for
    each parameter, the words it came from; `notes`: what was understood but is no design parameter."""

    prompt: str
    kind: str
    fixed: dict[str, Any]
    said: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "kind": self.kind, "parameters": dict(self.fixed), "said": dict(self.said),
                "notes": list(self.notes)}

    def describe(self) -> str:
        """One line: the kind and each parameter with the words it came from."""
        parts = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.fixed.items()]
        return f"{self.kind}: {', '.join(parts) if parts else '(everything drawn)'}"


def _refuse(words: str, reason: str) -> InputError:
    return InputError(f"Cannot design this: '{words}' {reason}.")


def _number(tokens: list[str], i: int) -> tuple[float, int] | None:
    """A number starting at tokens[i] (digits, a fraction, number words, "and a half", "point five"), and the
    index after it; None when there is none."""
    low = [t.lower() for t in tokens]
    t = low[i]
    value: float | None = None
    j = i
    if re.fullmatch(r"\d+(\.\d+)?", t):
        value, j = float(t), i + 1
    elif re.fullmatch(r"\d+/\d+", t):
        num, den = (float(x) for x in t.split("/"))
        if den == 0:
            return None
        value, j = num / den, i + 1
    elif t in TENS:
        value, j = TENS[t], i + 1
        if j < len(low) and low[j] in NUMBER_WORDS and 0 < NUMBER_WORDS[low[j]] < 10:
            value, j = value + NUMBER_WORDS[low[j]], j + 1
    elif t in NUMBER_WORDS:
        value, j = NUMBER_WORDS[t], i + 1
        if j < len(low) and low[j] in FRACTIONS and t in ("two", "three"):  # "three quarters"
            return value * FRACTIONS[low[j]], j + 1
    elif t in FRACTIONS or (t in ("a", "an") and i + 1 < len(low) and low[i + 1] in FRACTIONS):
        j = i + (t in ("a", "an"))
        return FRACTIONS[low[j]], j + 1
    if value is None:
        return None
    if j + 1 < len(low) and low[j] == "point" and low[j + 1] in NUMBER_WORDS:  # "seven point five"
        digits, j = "", j + 1
        while j < len(low) and low[j] in NUMBER_WORDS and NUMBER_WORDS[low[j]] < 10:
            digits, j = digits + str(int(NUMBER_WORDS[low[j]])), j + 1
        value += float("0." + digits)
    if j + 2 < len(low) and low[j] == "and" and low[j + 1] in ("a", "an") and low[j + 2] in FRACTIONS:
        value, j = value + FRACTIONS[low[j + 2]], j + 3  # "one and a half"
    elif j + 1 < len(low) and low[j] == "and" and re.fullmatch(r"1/\d+", low[j + 1]):
        num, den = (float(x) for x in low[j + 1].split("/"))
        value, j = value + num / den, j + 2  # "1 and 1/2"
    return value, j


def _scan(text: str) -> list[Term]:
    """The words as terms: measurements (number + unit), bare numbers, letters after "initial", vocabulary
    phrases (longest first). Filler is dropped. Each term's `words` are as written in `text`."""
    text = _normalise(text)
    found = list(_TOKEN.finditer(text))
    tokens = [m.group() for m in found]
    low = [t.lower() for t in tokens]

    def span(i: int, j: int) -> str:
        return text[found[i].start():found[max(i, j - 1)].end()]

    terms: list[Term] = []
    i = 0
    while i < len(tokens):
        num = _number(tokens, i)
        if num is None and low[i] in ("a", "an", "one") and i + 1 < len(low) and low[i + 1] in ("carat", "ct"):
            num = (1.0, i + 1)  # "a carat diamond"
        if num is not None:
            value, j = num
            words = span(i, j)
            unit = low[j] if j < len(low) else ""
            metal_next = j + 1 < len(low) and (low[j + 1] in METALS or low[j + 1] in COLOURS)
            if unit in UNITS and not (unit == "in" and metal_next):
                scale, said = UNITS[unit], span(i, j + 1)
                karat = scale < 0 or (scale == 0 and metal_next)  # "18ct gold" is purity, "1 ct diamond" weight
                if karat:
                    terms.append(Term("karat", value, said, i))
                elif scale == 0:
                    terms.append(Term("measure", value, said, i, "ct"))
                else:
                    terms.append(Term("measure", value * scale, said, i, "mm"))
                i = j + 1
                continue
            if re.fullmatch(r"[\d./]+", tokens[i]):  # a bare number in digits
                terms.append(Term("number", value, words, i))
            i = j  # number words without a unit are filler ("one ring")
            continue
        if low[i] in LETTER_WORDS:  # "initial A", "letter k" (after), "M initial" (before, written as a capital)
            letter = None
            if i + 1 < len(tokens) and re.fullmatch(r"[a-zA-Z]", tokens[i + 1]):
                letter, skip = tokens[i + 1].upper(), 2
            elif terms and terms[-1].cat == "capital" and terms[-1].at == i - 1:
                letter, skip = terms.pop().value, 1
            terms.append(Term("letter_word", letter, span(i, i + (skip if letter else 1)), i))
            i += skip if letter and skip == 2 else 1
            continue
        if re.fullmatch(r"[A-Z]", tokens[i]) and i + 1 < len(tokens) and low[i + 1] in LETTER_WORDS:
            terms.append(Term("capital", tokens[i], tokens[i], i))
            i += 1
            continue
        for n in range(min(LONGEST, len(tokens) - i), 0, -1):
            hit = VOCABULARY.get(tuple(low[i:i + n]))
            if hit is not None:
                cat, value = hit
                if cat != "ignore":
                    terms.append(Term(cat, value, span(i, i + n), i))
                i += n
                break
        else:
            i += 1  # filler
    return terms


# Roles: what a measurement or an adjective describes, by the noun it is attached to.
def _role(term: Term) -> str | None:
    if term.cat in ("stone", "stone_noun", "cut"):
        return "stone"
    if term.cat == "band":
        return "band"
    if term.cat == "piece":
        kind, style = term.value
        return {"stud": "stone", "drop": "stone", "hoop": "diameter"}.get(style or "", kind)
    if term.cat == "style":
        return {"solitaire": "solitaire", "halo": "ring", "plain": "ring"}.get(term.value[0], "pendant")
    if term.cat == "letter_word":
        return "pendant"
    if term.cat in ("chain", "chain_noun", "length_name"):
        return "length"
    if term.cat == "dimension":
        return str(term.value)
    return None


_PASS_OVER = ("metal", "colour", "karat", "adjective", "measure", "and", "princess", "number")


def _attach(terms: list[Term], k: int) -> str | None:
    """The role of what terms[k] (a measurement or adjective) describes: the dimension word right after it,
    else the next noun to its right (over metals, colours, other sizes), else the nearest noun to its left."""
    if k + 1 < len(terms) and terms[k + 1].cat == "dimension" and terms[k].cat == "measure":
        return str(terms[k + 1].value)
    for t in terms[k + 1:]:
        role = _role(t)
        if role is not None:
            return role
        if t.cat not in _PASS_OVER:
            break
    for t in reversed(terms[max(0, k - 3):k]):
        role = _role(t)
        if role is not None:
            return role
        if t.cat == "stop" and t.words.lower() == "with":
            break
    return None


@dataclass
class _Claims:
    """Everything the words claim, each value with the words that said it."""

    kinds: list[tuple[str, str]] = field(default_factory=list)  # (kind, words): the piece named
    implied: list[tuple[tuple[str, ...], str]] = field(default_factory=list)  # (kinds allowed, words)
    styles: list[tuple[str, str]] = field(default_factory=list)
    values: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)
    vague: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)  # from adjectives: a number wins
    sizes: list[tuple[str | None, Term]] = field(default_factory=list)  # (role, measurement or adjective)
    notes: list[str] = field(default_factory=list)

    def claim(self, name: str, value: Any, words: str, vague: bool = False) -> None:
        (self.vague if vague else self.values).setdefault(name, []).append((value, words))


def parse(text: str, kind: str | None = None) -> Request:
    """The design parameters that `text` asks for. `kind` ("ring", "earring", "pendant"): the piece when the
    words do not say (as `tryon design TYPE --prompt ...`); words naming another piece are refused."""
    if not text or not text.strip():
        raise InputError("Say what to design, e.g. 'rose gold halo ring with a 7 mm sapphire'.")
    if len(text) > MAX_PROMPT_CHARS:
        raise InputError(f"A design prompt is at most {MAX_PROMPT_CHARS} characters, got {len(text)}.")
    terms = _scan(text)
    claims = _claim(terms)
    chosen = _kind(claims, kind)
    return _resolve(text, chosen, claims)


def _claim(terms: list[Term]) -> _Claims:
    c = _Claims()
    for k, t in enumerate(terms):
        nxt = terms[k + 1] if k + 1 < len(terms) else None
        prev = terms[k - 1] if k else None
        if t.cat == "refused":
            raise _refuse(t.words, REFUSED_GROUPS[t.value][1])
        if t.cat == "metal":
            if prev is not None and prev.cat == "colour" and k >= 2 and terms[k - 2].cat == "and":
                raise _refuse(f"{terms[k - 3].words} and {t.words}" if k >= 3 else t.words,
                              "asks for two metals; a design is made in one")
            if prev is not None and prev.cat == "and" and k >= 2 and terms[k - 2].cat == "colour" \
                    and METALS.get(f"{terms[k - 2].words.lower()} {t.words.split()[-1].lower()}"):
                raise _refuse(f"{terms[k - 2].words} and {t.words}", "asks for two metals; a design is made in one")
            c.claim("metal", t.value, t.words)
        elif t.cat == "karat":
            gold = nxt is not None and nxt.cat == "metal" and nxt.value.endswith("gold")
            if t.value not in KARATS_MADE:
                raise _refuse(t.words, "gold is not made: designs are in 18k gold (750)")
            if not gold:
                c.claim("metal", "yellow_gold", t.words)  # "an 18k band": gold
        elif t.cat == "number":
            metal = next((x for x in (prev, nxt) if x is not None and x.cat == "metal"), None)
            if prev is not None and prev.cat == "size_word":
                raise _refuse(f"{prev.words} {t.words}", "is a ring size: designs are made at "
                              f"{DEFAULT_INNER_DIAMETER_MM:g} mm inside (US 7); the size is chosen when ordering")
            if metal is not None:  # a hallmark: 750 gold, 925 silver, 950 platinum
                if t.value not in HALLMARKS[metal.value]:
                    raise _refuse(f"{t.words} {metal.words}", "is not made: gold is 18k (750), silver sterling "
                                  "(925), platinum 950")
                continue
            raise _refuse(t.words, "is a number without a unit: say mm, cm, inches or carats")
        elif t.cat == "colour":
            _colour(c, terms, k)
        elif t.cat == "stone":
            c.claim("stone", t.value, t.words)
        elif t.cat == "cut":
            c.claim("cut", t.value, t.words)
        elif t.cat == "princess":  # a cut, or a necklace length
            if any(x.cat in ("chain", "chain_noun") or (x.cat == "piece" and x.value[0] == "pendant")
                   for x in terms):
                c.claim("length_mm", LENGTH_NAMES["princess length"], t.words)
            else:
                raise _refuse(t.words, REFUSED_GROUPS["cut"][1])
        elif t.cat == "piece":
            piece, style = t.value
            c.kinds.append((piece, t.words))
            if style is not None:
                c.styles.append((style, t.words))
        elif t.cat == "style":
            style, kinds = t.value
            if style == "heart" and nxt is not None and nxt.cat in ("stone", "stone_noun"):
                raise _refuse(f"{t.words} {nxt.words}", REFUSED_GROUPS["cut"][1])
            c.styles.append((style, t.words))
            c.implied.append((kinds, t.words))
        elif t.cat == "letter_word":
            c.styles.append(("initial", t.words))
            c.implied.append((("pendant",), t.words))
            if t.value is not None:
                c.claim("letter", t.value, t.words)
        elif t.cat == "chain":
            c.claim("chain", t.value, t.words)
            c.implied.append((("pendant",), t.words))
        elif t.cat == "chain_noun":
            c.implied.append((("pendant",), t.words))
        elif t.cat == "length_name":
            c.claim("length_mm", t.value, t.words)
            c.implied.append((("pendant",), t.words))
        elif t.cat == "band":
            c.implied.append((("ring",), t.words))
        elif t.cat in ("measure", "adjective"):
            if t.cat == "adjective" and prev is not None and prev.cat == "measure" and t.words.lower() in DIMENSIONS:
                continue  # "3 mm wide": said by the measurement
            c.sizes.append((_attach(terms, k), t))
        elif t.cat == "size_word" and not (nxt is not None and nxt.cat in ("number", "measure")):
            continue
    return c


def _colour(c: _Claims, terms: list[Term], k: int) -> None:
    """A colour names a stone ("red stone") or must agree with the stone it describes ("blue sapphire")."""
    colour = terms[k].words.lower()
    nxt = next((t for t in terms[k + 1:k + 4] if t.cat in ("stone", "stone_noun", "piece", "metal", "band",
                                                           "style", "chain", "chain_noun")), None)
    if nxt is None or nxt.cat not in ("stone", "stone_noun"):
        c.notes.append(f"'{terms[k].words}': the colour comes from the metal and the stone")
        return
    made = [s for s, colours in STONE_COLOURS.items() if colour in colours]
    if nxt.cat == "stone":
        if nxt.value not in made:
            want = ", ".join(STONE_COLOURS[nxt.value])
            raise _refuse(f"{terms[k].words} {nxt.words}", f"is not made: {nxt.value}s are made {want}")
        return
    if not made:
        raise _refuse(f"{terms[k].words} {nxt.words}", f"is not made: stones are {STONES_MADE} "
                      "(white, red, blue, green)")
    c.claim("stone", made[0], f"{terms[k].words} {nxt.words}")


def _kind(c: _Claims, given: str | None) -> str:
    named = {k for k, _ in c.kinds}
    if given is not None:
        if given not in KINDS:
            raise InputError(f"Unknown design type {given!r}; choose one of: {', '.join(KINDS)}.")
        other = [(k, w) for k, w in c.kinds if k != given]
        if other:
            raise _refuse(other[0][1], f"names another piece than the {given} asked for")
        named = {given}
    if len(named) > 1:
        words = " and ".join(dict.fromkeys(w for _, w in c.kinds))
        raise _refuse(words, "asks for more than one piece; a design is one piece")
    if named:
        (kind,) = named
        for kinds, words in c.implied:
            if kind not in kinds:
                raise _refuse(words, f"does not go with {KINDS[kind]}: it belongs to {' or '.join(kinds)}s")
        return kind
    possible = set(KINDS)
    for kinds, words in c.implied:
        if not possible & set(kinds):
            raise _refuse(words, "does not go with the rest: " + ", ".join(w for _, w in c.implied))
        possible &= set(kinds)
    if len(possible) == 1:
        return possible.pop()
    if c.implied:  # only "solitaire": a ring unless the words say pendant
        return "ring"
    raise InputError("Cannot design this: say which piece, a ring, earrings or a pendant "
                     "(e.g. 'rose gold halo ring with a 7 mm sapphire').")


_STONE_PARAMS = ("stone", "stone_mm", "cut")


def _resolve(text: str, kind: str, c: _Claims) -> Request:
    space = design.parameters(kind)
    styles = dict.fromkeys(s for s, _ in c.styles)
    band_words = [w for kinds, w in c.implied if kinds == ("ring",) and w.lower() in BAND_WORDS]
    has_stone = any(n in c.values for n in ("stone", "cut")) or any(r in ("stone", "solitaire") for r, _ in c.sizes)
    if kind == "ring" and band_words and not styles and not has_stone:
        styles["band"] = None  # "a gold band": the band style; with a stone or a style it is the shank
        c.styles.append(("band", band_words[0]))
    if len(styles) > 1:
        raise _refuse(" and ".join(dict.fromkeys(w for _, w in c.styles)), "asks for two styles; a design has one")
    for style, words in c.styles:
        if style not in space["style"]:
            raise _refuse(words, f"is not a {kind} style (a {kind} is {', '.join(space['style'])})")
        c.claim("style", style, words)
    for role, term in c.sizes:
        _size(c, kind, styles, role, term)
    for name, claimed in c.vague.items():
        if name not in c.values and not (name == "stone_mm" and "carats" in c.values):
            c.values[name] = claimed
    fixed: dict[str, Any] = {}
    said: dict[str, str] = {}
    for name, claimed in c.values.items():
        values = dict.fromkeys(v for v, _ in claimed)
        if len(values) > 1:
            words = " and ".join(dict.fromkeys(w for _, w in claimed))
            raise _refuse(words, f"gives the {name.removesuffix('_mm').replace('_', ' ')} two values")
        fixed[name], said[name] = claimed[0][0], ", ".join(dict.fromkeys(w for _, w in claimed))
    _cut(kind, fixed, said)
    if "carats" in fixed:
        carats = fixed.pop("carats")
        stone = fixed.get("stone", "diamond")
        if "stone_mm" in fixed:
            raise _refuse(f"{said['stone_mm']} and {said['carats']}", "gives the stone two sizes")
        fixed["stone_mm"], said["stone_mm"] = carat_to_mm(carats, stone), said.pop("carats")
        if "stone" not in fixed:
            c.notes.append(f"'{said['stone_mm']}': read as a diamond's weight")
    for name, value in fixed.items():
        _check(kind, name, value, said[name], space)
    _fits_a_style(kind, fixed, said, space)
    return Request(text, kind, fixed, said, tuple(c.notes))


def _size(c: _Claims, kind: str, styles: dict[str, None], role: str | None, term: Term) -> None:
    """Turn a measurement or size adjective described by `role` into a parameter of this kind."""
    style = next(iter(styles), None)
    words = term.words
    if term.cat == "measure" and term.unit == "ct":
        if role not in (None, "stone", "solitaire", "ring", "pendant", "earring", "size"):
            raise _refuse(words, "is a stone's weight; it cannot size the " + role)
        c.claim("carats", term.value, words)
        return
    stone_ring = kind == "ring" and (style in ("solitaire", "halo") or any(n in c.values for n in ("stone", "cut")))
    table: dict[str, dict[str, str]] = {
        "ring": {"stone": "stone_mm", "solitaire": "stone_mm", "band": "band_width_mm", "width": "band_width_mm",
                 "ring": "stone_mm" if stone_ring and term.cat == "adjective" and term.value in ("small", "large",
                                                                                                  "medium")
                 else "band_width_mm"},
        "earring": {"stone": "stone_mm", "diameter": "diameter_mm", "wire": "wire_mm", "width": "wire_mm",
                    "thick": "wire_mm", "earring": {"hoop": "diameter_mm", "stud": "stone_mm",
                                                    "drop": "stone_mm"}.get(style or "", "")},
        "pendant": {"stone": "stone_mm", "solitaire": "stone_mm", "pendant": "stone_mm" if style == "solitaire"
                    else "size_mm", "diameter": "size_mm", "size": "stone_mm" if style == "solitaire" else "size_mm",
                    "length": "length_mm", "width": "size_mm"},
    }
    if term.cat == "adjective" and term.value in ("narrow", "wide") and kind == "earring" and role in (
            "earring", "diameter"):
        role = "wire"  # "thin hoops": the wire; "small hoops": the diameter
    if term.cat == "adjective" and term.value in ("long", "short") and role not in ("length", "pendant"):
        c.notes.append(f"'{words}': only a chain's length is long or short")
        return
    if term.cat == "adjective" and term.value in ("long", "short"):
        role = "length"
    if term.cat == "measure" and role is None and term.value >= 100 and kind == "pendant":
        role = "length"  # "45 cm": a chain's length
    name = table[kind].get(role or "", "")
    if not name:
        if term.cat == "adjective":
            c.notes.append(f"'{words}': not a size designs vary here")
            return
        what = role or "nothing named"
        raise _refuse(words, f"does not say what it sizes on {KINDS[kind]} (it is next to: {what}); say e.g. "
                      "'7 mm stone', '3 mm band', '30 mm hoops', '45 cm chain'")
    if term.cat == "adjective":
        lo, hi, step = design.parameters(kind)[name]
        if name == "band_width_mm" and stone_ring:
            hi = STONE_RING_BAND_MAX_MM
        at = ADJECTIVE_AT[term.value]
        if term.value in ("narrow", "wide") and name in ("stone_mm", "size_mm", "diameter_mm"):
            at = ADJECTIVE_AT["small" if term.value == "narrow" else "large"]
        c.claim(name, round(lo + step * round(at * (hi - lo) / step), 3), words, vague=True)
    elif name == "length_mm" and term.value < 100 and role == "length":
        raise _refuse(words, "sizes a chain's links, which designs do not vary; they vary its length "
                      "(16 to 24 inches)")
    else:
        c.claim(name, round(term.value, 3), words)


def _cut(kind: str, fixed: dict[str, Any], said: dict[str, str]) -> None:
    """Round brilliants are made everywhere but in drop earrings, which are pear, and a ring's centre stone,
    which may be oval; a pear stone is a drop, an oval one a solitaire's or a halo's centre."""
    cut = fixed.pop("cut", None)
    words = said.pop("cut", "")
    if cut is None:
        return
    if cut == "oval":
        if kind != "ring":
            raise _refuse(words, f"is made only as a ring's centre stone; {KINDS[kind]}'s stones are round")
        if fixed.get("style") not in (None, "solitaire", "halo"):
            raise _refuse(f"{words}' and '{said['style']}", "do not go together: an oval stone is a solitaire's "
                          "or a halo's centre")
        fixed["cut"], said["cut"] = "oval", words
        return
    if cut == "pear":
        if kind != "earring":
            raise _refuse(words, f"is made only as a drop earring's stone; {KINDS[kind]}'s stones are round")
        if fixed.setdefault("style", "drop") != "drop":
            raise _refuse(f"{words}' and '{said['style']}", "do not go together: pear stones hang as drops")
        said.setdefault("style", words)
    elif fixed.get("style") == "drop":
        raise _refuse(f"{words}' and '{said['style']}", "do not go together: drop earrings hang pear-shaped "
                      "stones")


def carat_to_mm(carats: float, stone: str = "diamond") -> float:
    """The girdle diameter (mm) of a round brilliant `stone` of this weight: the diamond chart
    (ROUND_BRILLIANT_MM, interpolated in the cube root of the weight), scaled for a stone of another density
    (the same weight of a denser stone is smaller)."""
    if carats <= 0:
        raise InputError(f"A stone's weight must be above 0 carats, got {carats:g}.")
    cts = [c for c, _ in ROUND_BRILLIANT_MM]
    mms = [m for _, m in ROUND_BRILLIANT_MM]
    x = carats ** (1 / 3)
    xs = [c ** (1 / 3) for c in cts]
    if x <= xs[0] or x >= xs[-1]:  # beyond the chart: diameter grows with the cube root of the weight
        ref = 0 if x <= xs[0] else -1
        diameter = mms[ref] * x / xs[ref]
    else:
        j = next(j for j in range(1, len(xs)) if x <= xs[j])
        f = (x - xs[j - 1]) / (xs[j] - xs[j - 1])
        diameter = mms[j - 1] + f * (mms[j] - mms[j - 1])
    diameter *= (STONE_SG["diamond"] / STONE_SG.get(stone, STONE_SG["diamond"])) ** (1 / 3)
    return round(diameter, 1)


def _check(kind: str, name: str, value: Any, words: str, space: dict[str, Any]) -> None:
    choices = space.get(name)
    if choices is None:
        raise _refuse(words, f"does not apply to {KINDS[kind]} (it takes: {', '.join(space)})")
    if name.endswith("_mm"):
        lo, hi, _ = choices
        if not lo <= value <= hi:
            what = name.removesuffix("_mm").replace("_", " ")
            extra = f" ({lo / 25.4:.1f} to {hi / 25.4:.1f} inches)" if name == "length_mm" else ""
            raise _refuse(words, f"is out of range: {OF_KIND[kind]} {what} is made from {lo:g} to {hi:g} mm{extra}, "
                          f"this is {value:g} mm")
    elif value not in choices:
        raise _refuse(words, f"does not apply to {OF_KIND[kind]} {name} (one of: {', '.join(choices)})")


def _fits_a_style(kind: str, fixed: dict[str, Any], said: dict[str, str], space: dict[str, Any]) -> None:
    """Some style of this kind must use every parameter said (a hoop has no stone, a band no stone)."""
    asked = set(fixed) - {"style", "metal"}
    styles = [fixed["style"]] if "style" in fixed else list(space["style"])
    if any(asked <= design.uses(kind, s) for s in styles):
        return
    if "style" in fixed:
        unused = sorted(asked - design.uses(kind, fixed["style"]))
        raise _refuse(f"{said['style']}' with '{', '.join(said[n] for n in unused)}",
                      f"do not go together: {KINDS[kind]} in the {fixed['style']} style has no "
                      f"{', '.join(unused)}")
    raise _refuse("', '".join(said[n] for n in sorted(asked)),
                  f"do not go together: no {kind} style has all of {', '.join(sorted(asked))}")


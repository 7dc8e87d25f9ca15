"""Design variations: N distinct, valid pieces of one type from a few fixed parameters and a seed.

`variations("ring", {"band_width_mm": 3, "metal": "rose_gold"}, count=6, seed=1)` draws the parameters
not given (style, stone and its size, metal, ...) from ranges the builders accept, keeps only distinct
combinations, and returns catalog entries with their builders. `tryon design` writes them (GLB, thumbnail,
price) into the user catalog, next to the built-in one, where `tryon render`, the live page and the API find
them. Ids are "design-<type>-<8 hex digits of the parameters>": the same parameters always give the same id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np

from tryon.errors import InputError
from tryon.jewelry import earrings, necklaces, rings
from tryon.jewelry.catalog import Item
from tryon.jewelry.geometry.scenes import Builder

TYPES = ("ring", "earring", "pendant")
JEWEL_METALS = ("yellow_gold", "white_gold", "rose_gold", "platinum", "silver")
STONES = ("diamond", "ruby", "sapphire", "emerald")
# What each type's designs vary: a choice from a list, or a (low, high, step) range in mm.
SPACE: dict[str, dict[str, Any]] = {
    "ring": {"style": ("band", "solitaire", "halo"), "metal": JEWEL_METALS, "stone": STONES,
             "band_width_mm": (1.8, 6.0, 0.2), "stone_mm": (4.0, 8.0, 0.25), "cut": ("round", "oval")},
    "earring": {"style": ("stud", "hoop", "drop"), "metal": JEWEL_METALS, "stone": STONES,
                "stone_mm": (3.0, 7.0, 0.25), "diameter_mm": (12.0, 45.0, 1.0), "wire_mm": (1.2, 3.0, 0.1)},
    "pendant": {"style": ("solitaire", "heart", "coin", "initial"), "metal": JEWEL_METALS, "stone": STONES,
                "chain": ("cable", "box", "rope"), "length_mm": (400.0, 600.0, 10.0),
                "stone_mm": (4.0, 8.0, 0.25), "size_mm": (9.0, 20.0, 0.5), "letter": tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")},
}
MAX_TRIES = 50
OVAL_LENGTH_TO_WIDTH = 1.4  # an oval centre stone's proportions (1.35 to 1.5 are usual): a 7 mm oval is 5 mm wide


def parameters(kind: str) -> dict[str, Any]:
    """The parameters a type's designs vary, with their choices or (low, high, step) ranges."""
    if kind not in SPACE:
        raise InputError(f"Unknown design type {kind!r}; choose one of: {', '.join(TYPES)}.")
    return SPACE[kind]


def variations(kind: str, fixed: Mapping[str, Any], count: int, seed: int = 0) -> list[tuple[Item, Builder]]:
    """`count` distinct designs of `kind` with the `fixed` parameters and the rest drawn with `seed`."""
    space = parameters(kind)
    unknown = sorted(set(fixed) - set(space))
    if unknown:
        raise InputError(f"A {kind} design has no parameter {', '.join(unknown)}; it takes: {', '.join(space)}.")
    if not 1 <= count <= 200:
        raise InputError(f"--count must be between 1 and 200, got {count}.")
    fixed = {k: _check(kind, k, v, space[k]) for k, v in fixed.items()}
    rng = np.random.default_rng(seed)
    out: list[tuple[Item, Builder]] = []
    seen: set[str] = set()
    refusal = ""  # why the builders refused the last one (said when none at all can be made)
    tries = 0
    while len(out) < count:
        tries += 1
        if tries > MAX_TRIES * count:
            if not out and refusal:
                raise InputError(f"No {kind} can be made with these parameters: {refusal}")
            raise InputError(f"Only {len(out)} distinct {kind} designs fit these fixed parameters; ask for fewer.")
        # A cut is never drawn (round unless asked for), so the other parameters draw as they always did.
        params = {k: fixed.get(k, "round" if k == "cut" else _draw(rng, v)) for k, v in space.items()}
        params = _relevant(kind, params)
        if not set(fixed) <= set(params):  # this style does not use what was asked for
            continue
        key = json.dumps(params, sort_keys=True)
        if key in seen:
            continue
        build = _builder(kind, params)
        try:
            build()  # valid: the builder accepts it
        except InputError as e:
            refusal = str(e)
            continue
        seen.add(key)
        out.append((_item(kind, params), build))
    return out


def uses(kind: str, style: str) -> frozenset[str]:
    """The parameters a `kind` of this `style` uses (the others are not drawn for it, nor may they be fixed)."""
    space = parameters(kind)
    if style not in space["style"]:
        raise InputError(f"A {kind}'s style is one of: {', '.join(space['style'])}; got {style!r}.")
    return frozenset(_relevant(kind, {**dict.fromkeys(space), "style": style}))


def _check(kind: str, name: str, value: Any, choices: Any) -> Any:
    if isinstance(choices, tuple) and len(choices) == 3 and all(isinstance(c, float) for c in choices):
        lo, hi, _ = choices
        number = float(value)
        if not lo <= number <= hi:
            raise InputError(f"A {kind}'s {name} must be within {lo:g}..{hi:g}, got {number:g}.")
        return number
    v = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if name == "letter":
        v = v.upper()
    if v not in choices:
        raise InputError(f"A {kind}'s {name} is one of: {', '.join(choices)}; got {value!r}.")
    return v


def _draw(rng: np.random.Generator, choices: Any) -> Any:
    if isinstance(choices, tuple) and len(choices) == 3 and all(isinstance(c, float) for c in choices):
        lo, hi, step = choices
        return round(lo + step * int(rng.integers(0, int(round((hi - lo) / step)) + 1)), 3)
    return choices[int(rng.integers(0, len(choices)))]


def _relevant(kind: str, p: dict[str, Any]) -> dict[str, Any]:
    """Only the parameters this style uses (so two designs differing in an unused one are one design)."""
    style = p["style"]
    keep = {"style", "metal"}
    if kind == "ring":
        keep |= {"band_width_mm"} if style == "band" else {"band_width_mm", "stone", "stone_mm", "cut"}
        if p.get("cut") == "round":  # the default: not part of a design's identity
            keep.discard("cut")
    elif kind == "earring":
        keep |= {"stone", "stone_mm"} if style in ("stud", "drop") else {"diameter_mm", "wire_mm"}
    else:
        keep |= {"chain", "length_mm"} | ({"stone", "stone_mm"} if style == "solitaire" else {"size_mm"})
        keep |= {"letter"} if style == "initial" else set()
    return {k: v for k, v in p.items() if k in keep}


def _builder(kind: str, p: dict[str, Any]) -> Builder:
    m, style = p["metal"], p["style"]
    if kind == "ring":
        if style == "band":
            return partial(rings.band, width_mm=p["band_width_mm"], metal=m)
        ring: Callable[..., Any] = rings.solitaire if style == "solitaire" else rings.halo
        if p.get("cut") == "oval":  # stone_mm is an oval's length, as a jeweller names it ("a 7 mm oval")
            return partial(ring, stone_mm=round(p["stone_mm"] / OVAL_LENGTH_TO_WIDTH, 2), length_mm=p["stone_mm"],
                           metal=m, stone=p["stone"], band_width_mm=p["band_width_mm"])
        return partial(ring, stone_mm=p["stone_mm"], metal=m, stone=p["stone"], band_width_mm=p["band_width_mm"])
    if kind == "earring":
        if style == "hoop":
            return partial(earrings.hoop, diameter_mm=p["diameter_mm"], wire_mm=p["wire_mm"], metal=m)
        if style == "drop":
            return partial(earrings.drop, stone_mm=p["stone_mm"] * 1.6, cut="pear", metal=m, stone=p["stone"])
        return partial(earrings.stud, stone_mm=p["stone_mm"], metal=m, stone=p["stone"])
    chain = {"cable": partial(necklaces.cable_chain, link_mm=2.0, wire_mm=0.4, metal=m),
             "box": partial(necklaces.box_chain, link_mm=1.5, metal=m),
             "rope": partial(necklaces.rope_chain, diameter_mm=2.0, metal=m)}[p["chain"]]
    hang = {"solitaire": lambda: necklaces.solitaire_pendant(stone_mm=p.get("stone_mm", 6.5), metal=m,
                                                            stone=p.get("stone", "diamond")),
            "heart": lambda: necklaces.heart_pendant(width_mm=p.get("size_mm", 12.0), metal=m),
            "coin": lambda: necklaces.coin_pendant(diameter_mm=p.get("size_mm", 18.0), metal=m),
            "initial": lambda: necklaces.initial_pendant(letter=p.get("letter", "A"), height_mm=p.get("size_mm", 12.0),
                                                         metal=m)}[style]
    return lambda: necklaces.necklace(chain(), hang())


def _title(name: str) -> str:
    return name.replace("_", " ")


def _item(kind: str, p: dict[str, Any]) -> Item:
    digest = hashlib.sha256(json.dumps({"kind": kind, **p}, sort_keys=True).encode()).hexdigest()[:8]
    item_id = f"design-{kind}-{digest}"
    words = [f"{k.removesuffix('_mm').replace('_', ' ')} {v:g} mm" if k.endswith("_mm") else f"{_title(str(v))}"
             for k, v in p.items() if k not in ("style", "metal")]
    name = f"Design: {p['style']} {kind}, {', '.join(words + [_title(p['metal'])])}"
    stone = p.get("stone")
    site = {"ring": "finger", "earring": "ears", "pendant": "neck"}[kind]
    folder = {"ring": "rings", "earring": "earrings", "pendant": "necklaces"}[kind]
    dims: dict[str, float] = {k: float(v) for k, v in p.items() if k.endswith("_mm")}
    if kind == "ring":
        dims["inner_diameter"] = rings.DEFAULT_INNER_DIAMETER_MM
    if kind == "pendant":
        dims["length"] = dims.pop("length_mm")
    size = dims.get("stone_mm", dims.get("diameter_mm", dims.get("size_mm", dims.get("band_width_mm"))))
    return Item(item_id, name, kind, site, f"{folder}/{item_id}.glb", p["metal"], stone, dims,
                f"design-{kind}", size)

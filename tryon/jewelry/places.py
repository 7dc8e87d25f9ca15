"""Where a catalog item is worn: the places it can be asked for ("id@where") and the anchor sites each covers,
how many pieces one site holds, and turning item specs into placements.

Sites are the person's own left and right: "left_ear", "right_ring", "left_wrist", "neck".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tryon.anchors import fingers, neck
from tryon.anchors.ears import SITES as EAR_SITES
from tryon.errors import InputError
from tryon.jewelry.catalog import Catalog, Item
from tryon.types import FrameAnchors, NotPlaced

HANDS = ("left", "right")
# Where an item can be worn ("item@where"): the anchor sites each choice covers. A catalog item's own site
# ("ears", "finger", "wrist", "neck") is its default: both ears; the ring finger of whichever hand is seen; both
# wrists; the neck.
PLACES: dict[str, dict[str, tuple[str, ...]]] = {
    "ears": {"ears": EAR_SITES},
    "finger": {
        "finger": tuple(f"{h}_ring" for h in HANDS),
        **{f: tuple(f"{h}_{f}" for h in HANDS) for f in fingers.FINGERS},
        **{f"{h}_{f}": (f"{h}_{f}",) for h in HANDS for f in fingers.FINGERS},
    },
    "wrist": {"wrist": tuple(f"{h}_wrist" for h in HANDS), **{f"{h}_wrist": (f"{h}_wrist",) for h in HANDS}},
    "neck": {"neck": (neck.SITE,)},
}
# Two rings stacked on a finger; a watch and a bracelet; two necklaces layered (each drapes by its length).
MAX_PER_SITE = {"ears": 1, "finger": 2, "wrist": 2, "neck": 2}


@dataclass(frozen=True)
class Worn:
    """One worn item: where it was asked to go ("ears", "ring", "left_index", "wrist", ...) and the anchor
    sites that covers."""

    item: Item
    where: str
    sites: tuple[str, ...]

    @property
    def spec(self) -> str:
        """How to ask for it again: "id" or "id@where"."""
        return self.item.id if self.where == self.item.site else f"{self.item.id}@{self.where}"


def place_keys(placements: Sequence[Worn]) -> list[str]:
    """Each placement's key: where it was asked for, with "/2" for a second item at the same place."""
    keys: list[str] = []
    for w in placements:
        keys.append(w.where if w.where not in keys else f"{w.where}/2")
    return keys


def resolve_specs(catalog: Catalog, specs: Sequence[str]) -> list[Worn]:
    """The placements for item specs: "id" or "id@where" (where: a finger such as "index" or "left_ring", a
    wrist such as "left_wrist"). Unknown ids raise UnknownItemError, bad places and crowded sites InputError."""
    chosen: list[Worn] = []
    per_site: dict[str, list[str]] = {}
    for spec in specs:
        item_id, _, where = str(spec).partition("@")
        item = catalog.get(item_id.strip())
        places = PLACES.get(item.site)
        if places is None:
            raise InputError(f"item {item.id} is worn at '{item.site}', which this pipeline cannot track yet")
        where = where.strip() or item.site
        sites = places.get(where)
        if sites is None:
            raise InputError(f"{item.id} cannot be worn at {where!r}; choose one of: {', '.join(places)}")
        for site in sites:
            taken = per_site.setdefault(site, [])
            if len(taken) >= MAX_PER_SITE[item.site]:
                what = "two items for the ears" if item.site == "ears" else f"too many items at {site}"
                raise InputError(f"{what}: {', '.join(taken)} and {item.id}")
            taken.append(item.id)
        chosen.append(Worn(item, where, sites))
    return chosen


def not_placed(placements: Sequence[Worn], anchors: FrameAnchors) -> tuple[NotPlaced, ...]:
    """The worn pieces with no visible anchor in this frame (visible >= 0.5 at none of their sites), each with
    the reason."""
    missing = []
    for w in placements:
        if any((a := anchors.get(s)) is not None and a.visible >= 0.5 for s in w.sites):
            continue
        found = any(anchors.get(s) is not None for s in w.sites)
        missing.append(NotPlaced(w.item.id, w.where, _reason(w.item.site, w.where, found, anchors.head is not None)))
    return tuple(missing)


def _reason(site: str, where: str, found: bool, face: bool) -> str:
    """Why a piece at `site` was not drawn: its anchor was found but hidden, or not found at all."""
    if site == "ears":
        return "the ears are hidden (hair or the head's turn)" if found else "no face found"
    if site == "neck":
        return "the neck is hidden" if found else "no shoulders found" if face else "no face or shoulders found"
    hand = "left hand" if where.startswith("left") else "right hand" if where.startswith("right") else "hand"
    return f"the {hand} is hidden" if found else f"no {hand} found"

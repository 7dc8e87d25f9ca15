"""Reading the item catalog: ``assets/catalog.json`` plus one GLB per item (and a user catalog beside it).

This module reads, checks and looks items up; it imports no generator and no renderer (``Catalog.model``
alone reaches up to :mod:`tryon.render.scene`, when called). Building the catalog (generating the models,
measuring and pricing them, drawing thumbnails, writing the files) is :mod:`tryon.studio.catalog_build`.

catalog.json::

    {"version": 1, "items": [{"id": "stud-diamond-5mm-yellow-gold", "name": "...", "kind": "earring",
      "site": "ears", "file": "earrings/stud-diamond-5mm-yellow-gold.glb", "metal": "yellow_gold",
      "stone": "diamond" | null, "dimensions_mm": {"stone_diameter": 5.0, ...}}, ...]}

``file`` is relative to the folder holding catalog.json. GLB geometry is in metres, in the frame of its kind:
earrings (``earrings/``) in the earring frame of :mod:`tryon.jewelry.earrings`, rings (kind "ring", site
"finger", ``rings/``) in the ring frame of :mod:`tryon.jewelry.rings`, bracelets and watches (kinds
"bracelet" and "watch", site "wrist", ``wrist/``) in the wrist frame of :mod:`tryon.jewelry.wrist`.

``dimensions_mm`` always holds the piece's bounding box plus the generator's own sizes. Bounding box:
earrings: "width" along z, "height" along y, "depth" along x (post included); rings and wrist pieces:
"width" along x (across the finger or wrist), "length" along y (along the finger or forearm), "height"
along z (toward the back of the hand). Rings also carry "inner_diameter" and "band_width"; wrist pieces
"inner_width" and "inner_thickness", the wrist ellipse they are built for (the renderer scales by these).

Necklaces (kind "necklace": a chain, a pearl strand or a choker; kind "pendant": a chain with a pendant; site
"neck", ``necklaces/``) hold one repeat unit of the chain and the pendant (:mod:`tryon.jewelry.necklaces`);
the renderer drapes the chain by its "length" (mm, end to end) and repeats the unit every "pitch".
``dimensions_mm``: "length", "pitch", "chain_width", "thickness" (the chain's), and for pendants
"pendant_width" and "pendant_height" (bail included). No bounding box: the chain's shape is the body's.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trimesh

from tryon.errors import AssetError, InputError, UnknownItemError

__all__ = [
    "CATALOG_FILE",
    "CATALOG_VERSION",
    "DEFAULT_ASSETS_DIR",
    "FAMILY_NAMES",
    "MODEL_SIZES",
    "NECK_KINDS",
    "Catalog",
    "VARIANT_ATTRS",
    "Item",
    "VariantChoice",
    "check_schema",
]

CATALOG_VERSION = 1
THUMBNAILS_DIR = "thumbnails"
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
CATALOG_FILE = "catalog.json"
MAX_ID_LENGTH = 120  # longer ids are no ids: not echoed whole, not matched against the catalog
PRICE_CURRENCY = "USD"
SCHEMA_FILE = DEFAULT_ASSETS_DIR / "catalog.schema.json"  # the JSON Schema every catalog.json must meet
_FIELDS = ("id", "name", "kind", "site", "file", "metal", "stone", "dimensions_mm")
# Display names of the built-in families (Item.family_name; an item of no family here shows its own name).
FAMILY_NAMES = {"stud": "Stud", "hoop-round": "Round hoop", "hoop-knife": "Knife-edge hoop",
                "drop-pear": "Pear drop", "drop-round": "Round drop",
                "ring-band": "Wedding band", "ring-solitaire": "Solitaire ring", "ring-halo": "Halo ring",
                "ring-eternity": "Eternity band", "ring-signet": "Signet ring",
                "bracelet-bangle": "Bangle", "bracelet-tennis": "Tennis bracelet",
                "bracelet-chain": "Cable chain bracelet", "watch-round": "Round watch",
                "necklace-cable": "Cable chain", "necklace-box": "Box chain", "necklace-rope": "Rope chain",
                "necklace-strand": "Pearl strand", "necklace-choker": "Herringbone choker",
                "pendant-solitaire": "Solitaire pendant", "pendant-heart": "Heart pendant",
                "pendant-coin": "Coin pendant", "pendant-initial": "Initial pendant"}

VARIANT_ATTRS = ("metal", "stone", "size_mm")  # what tells a family's members apart (Item.family)
NECK_KINDS = ("necklace", "pendant")  # kinds worn on the neck: a chain unit, drawn along a drape
# The sizes (dimensions_mm) the renderer fits each kind by (tryon.render.scene.ItemModel's nominal_mm).
MODEL_SIZES = {"ring": ("inner_diameter",), "bracelet": ("inner_width", "inner_thickness"),
               "watch": ("inner_width", "inner_thickness"), "necklace": ("length", "pitch", "thickness"),
               "pendant": ("length", "pitch", "thickness")}


@dataclass(frozen=True)
class Item:
    """One catalog entry. ``file`` is relative to the catalog's folder; sizes in ``dimensions_mm`` are mm.

    Frozen; ``dimensions_mm`` is a dict for easy JSON use, not to be mutated (it is left out of the hash).
    """

    id: str
    name: str
    kind: str
    site: str
    file: str
    metal: str
    stone: str | None
    dimensions_mm: Mapping[str, float] = field(default_factory=dict, hash=False)
    family: str = ""  # items of one family differ only in metal, stone or size_mm (the variants)
    size_mm: float | None = None  # the size that tells a family's members apart (stone or hoop diameter)
    price: float | None = None  # list price in PRICE_CURRENCY (tryon.jewelry.pricing: a pair, for earrings)

    def __post_init__(self) -> None:
        # A private plain-dict copy: callers' dicts cannot change the item afterwards, and a plain dict
        # (unlike a read-only mappingproxy) still goes through dataclasses.asdict, copy and pickle.
        object.__setattr__(self, "dimensions_mm", dict(self.dimensions_mm))
        if not self.family:  # an item without siblings is a family of one
            object.__setattr__(self, "family", self.id)

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> Item:
        """The item of one catalog.json entry, which already meets catalog.schema.json (`check_schema`:
        `Catalog.load` checks the whole file first, naming any bad entry)."""
        price = entry.get("price")
        return cls(
            **{k: entry[k] for k in _FIELDS if k != "dimensions_mm"},
            dimensions_mm={str(k): float(v) for k, v in entry["dimensions_mm"].items()},
            family=entry.get("family") or entry["id"],
            size_mm=None if entry.get("size_mm") is None else float(entry["size_mm"]),
            price=None if price is None else float(price["amount"]),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object for catalog.json (keys in a fixed order)."""
        out = {k: getattr(self, k) for k in _FIELDS}
        out["dimensions_mm"] = dict(self.dimensions_mm)
        out["family"] = self.family
        out["size_mm"] = self.size_mm
        out["thumbnail"] = f"{THUMBNAILS_DIR}/{self.id}.png"
        if self.price is not None:
            out["price"] = {"amount": self.price, "currency": PRICE_CURRENCY}
        return out

    @property
    def family_name(self) -> str:
        return FAMILY_NAMES.get(self.family, self.name)


@dataclass(frozen=True)
class VariantChoice:
    """One value a piece's variant chip offers: asking its family for ``attr`` = ``value`` from the piece gives
    ``item_id`` (:meth:`Catalog.variant`), and ``also`` names what else that changes, with the new values
    (empty: only ``attr`` changes). A chip with something in ``also`` must say so."""

    attr: str
    value: str | float
    item_id: str
    also: Mapping[str, str | float | None] = field(default_factory=dict, hash=False)


def _likeness(item: Item) -> Any:
    """Sort key of a family member's likeness to ``item``: the most variant attributes in common first, then
    the nearest size, then (by max's first-wins) catalog order. Catalog.variant and the chips use only this."""
    def key(other: Item) -> tuple[int, float]:
        same = sum(getattr(other, k) == getattr(item, k) for k in VARIANT_ATTRS)
        gap = abs(other.size_mm - item.size_mm) if other.size_mm is not None and item.size_mm is not None else 0.0
        return same, -gap
    return key


@functools.cache
def _schema_validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def check_schema(data: Any, where: str = "catalog") -> None:
    """Raise AssetError naming the first place where `data` breaks catalog.schema.json (and the item's id)."""
    errors = sorted(_schema_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        at = "/".join(str(p) for p in e.absolute_path) or "the top level"
        item = ""
        if len(e.absolute_path) >= 2 and e.absolute_path[0] == "items":
            entry = data["items"][e.absolute_path[1]]
            item = f" (item {entry.get('id')!r})" if isinstance(entry, dict) else ""
        more = f"; and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""
        raise AssetError(f"{where}: {at}{item}: {e.message}{more}")


class Catalog:
    """The items of one catalog.json and the folder their GLB files live in."""

    def __init__(self, items: tuple[Item, ...], assets_dir: Path, item_dirs: Mapping[str, Path] | None = None) -> None:
        """item_dirs: the folder of items whose files live elsewhere than assets_dir (a user catalog's)."""
        ids = [i.id for i in items]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise AssetError(f"Catalog lists these ids more than once: {', '.join(dupes)}.")
        self._items = tuple(items)
        self._by_id = {i.id: i for i in items}
        self._families: dict[str, list[Item]] = {}
        for i in items:
            self._families.setdefault(i.family, []).append(i)
        self.assets_dir = Path(assets_dir)
        self._dirs = {k: Path(v) for k, v in (item_dirs or {}).items()}

    @classmethod
    def load_with_user(cls, assets_dir: Path, user_dir: Path) -> Catalog:
        """The built-in catalog plus the pieces designed or imported into `user_dir` (its own catalog.json,
        models and thumbnails; absent: none)."""
        built_in = cls.load(Path(assets_dir) / CATALOG_FILE)
        if not (Path(user_dir) / CATALOG_FILE).is_file():
            return built_in
        user = cls.load(Path(user_dir) / CATALOG_FILE)
        return cls(built_in.items + user.items, built_in.assets_dir, {i.id: user.assets_dir for i in user.items})

    def folder_of(self, item: Item | str) -> Path:
        """The folder an item's files are relative to."""
        item_id = item.id if isinstance(item, Item) else self.get(item).id
        return self._dirs.get(item_id, self.assets_dir)

    @classmethod
    def load(cls, path: Path | None = None) -> Catalog:
        """Read a catalog.json (default: the repository's ``assets/catalog.json``).

        Raises :class:`AssetError` for a missing, unreadable or malformed file.
        """
        path = Path(path) if path is not None else DEFAULT_ASSETS_DIR / CATALOG_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AssetError(f"No catalog at {path}; build one with `tryon catalog build`.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AssetError(f"Cannot read the catalog {path}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise AssetError(f"Catalog {path} must be an object with an 'items' list.")
        if data.get("version") != CATALOG_VERSION:
            raise AssetError(
                f"Catalog {path} has version {data.get('version')!r}; expected {CATALOG_VERSION}."
            )
        check_schema(data, str(path))
        return cls(tuple(Item.from_json(e) for e in data["items"]), path.parent)

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item, in catalog order."""
        return self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self._items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    def get(self, item_id: str) -> Item:
        """The item with this id; raises :class:`UnknownItemError` suggesting the closest ids."""
        item = self._by_id.get(item_id)
        if item is None:
            text = str(item_id)
            close = difflib.get_close_matches(text.strip().lower(), list(self._by_id), n=3, cutoff=0.5) \
                if len(text) <= MAX_ID_LENGTH else []
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            shown = repr(text) if len(text) <= MAX_ID_LENGTH else repr(text[:MAX_ID_LENGTH - 20] + "...")
            raise UnknownItemError(f"Unknown item {shown}.{hint} ({len(self)} items; see `tryon catalog list`.)")
        return item

    def variant(self, item_id: str, metal: str | None = None, stone: str | None = None,
                size_mm: float | None = None) -> Item:
        """The member of this item's family with the asked metal, stone and/or size; among several, the one
        closest to the item in what was not asked. Raises InputError naming what the family offers."""
        item = self.get(item_id)
        family = self._families[item.family]
        asked = {"metal": metal, "stone": stone, "size_mm": size_mm}
        fits = [i for i in family if all(v is None or getattr(i, k) == v for k, v in asked.items())]
        if not fits:
            offer = {k: sorted({str(getattr(i, k)) for i in family}) for k, v in asked.items() if v is not None}
            wanted = ", ".join(f"{k} {v}" for k, v in asked.items() if v is not None)
            raise InputError(f"no {item.family_name.lower()} with {wanted}; it comes in "
                             + "; ".join(f"{k}: {', '.join(v)}" for k, v in offer.items()))
        return max(fits, key=_likeness(item))

    def variant_choices(self, item: Item | str) -> dict[str, tuple[VariantChoice, ...]]:
        """Per variant attribute its family has values of (VARIANT_ATTRS; metals and stones in catalog order,
        sizes ascending), the choices a piece's chips offer: each value, the member `variant` gives for it
        from this piece, and what else that member changes. A family of one offers each of its values once."""
        item = self.get(item) if isinstance(item, str) else item
        family = self._families[item.family]
        out: dict[str, tuple[VariantChoice, ...]] = {}
        for attr in VARIANT_ATTRS:
            values = list(dict.fromkeys(v for i in family if (v := getattr(i, attr)) is not None))
            if attr == "size_mm":
                values.sort()
            choices = []
            for value in values:
                target = self.variant(item.id, **{attr: value})
                also = {k: getattr(target, k) for k in VARIANT_ATTRS
                        if k != attr and getattr(target, k) != getattr(item, k)}
                choices.append(VariantChoice(attr, value, target.id, also))
            if choices:
                out[attr] = tuple(choices)
        return out

    def thumbnail_of(self, item: Item | str) -> Path:
        """Where the item's thumbnail PNG is (made by `tryon catalog build`)."""
        item_id = item.id if isinstance(item, Item) else self.get(item).id
        return self.folder_of(item_id) / THUMBNAILS_DIR / f"{item_id}.png"

    def path_of(self, item: Item | str) -> Path:
        """Absolute path of an item's GLB file."""
        item = self.get(item) if isinstance(item, str) else item
        return self.folder_of(item) / item.file

    def nominal_sizes(self, item: Item | str) -> dict[str, float]:
        """The sizes (mm) a renderer fits the item by (MODEL_SIZES), from its catalog entry."""
        item = self.get(item) if isinstance(item, str) else item
        return {k: item.dimensions_mm[k] for k in MODEL_SIZES.get(item.kind, ()) if k in item.dimensions_mm}

    def load_scene(self, item: Item | str) -> trimesh.Scene:
        """Load an item's GLB as a scene in metres (earring frame); raises :class:`AssetError` if it is
        missing, unreadable, or holds no geometry."""
        item = self.get(item) if isinstance(item, str) else item
        path = self.path_of(item)
        if not path.is_file():
            raise AssetError(
                f"Asset file for item {item.id!r} is missing: {path}. Rebuild with `tryon catalog build`."
            )
        try:
            scene = trimesh.load(
                path, file_type=path.suffix.lstrip(".").lower(), force="scene", process=False
            )
        except Exception as exc:  # trimesh raises many types (struct, json, KeyError...) for a bad file
            raise AssetError(
                f"Asset file for item {item.id!r} is corrupt or unreadable: {path} ({exc})"
            ) from exc
        if not isinstance(scene, trimesh.Scene) or not scene.geometry:
            raise AssetError(f"Asset file for item {item.id!r} holds no geometry: {path}.")
        return scene


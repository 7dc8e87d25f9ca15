"""The item catalog: ``assets/catalog.json`` plus one GLB per item, and the generator that rebuilds both.

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

import contextlib
import dataclasses
import difflib
import functools
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import trimesh

from tryon.errors import AssetError, InputError, UnknownItemError

if TYPE_CHECKING:
    from tryon.render.scene import ItemModel
from tryon.jewelry import earrings, necklaces, rings, wrist
from tryon.jewelry.geometry.units import MM

if sys.platform != "win32":
    import fcntl

__all__ = ["CATALOG_VERSION", "DEFAULT_ASSETS_DIR", "Catalog", "Item", "build_catalog", "catalog_specs"]

logger = logging.getLogger(__name__)

CATALOG_VERSION = 1
THUMBNAILS_DIR = "thumbnails"
THUMBNAIL_PX = 192
DEFAULT_ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
CATALOG_FILE = "catalog.json"
MAX_ID_LENGTH = 120  # longer ids are no ids: not echoed whole, not matched against the catalog
PRICE_CURRENCY = "USD"
SCHEMA_FILE = DEFAULT_ASSETS_DIR / "catalog.schema.json"  # the JSON Schema every catalog.json must meet
STAGING_PREFIX = ".staging-"  # add_user_items builds into folder/.staging-*, then renames into place
_FIELDS = ("id", "name", "kind", "site", "file", "metal", "stone", "dimensions_mm")


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
        family = [i for i in self._items if i.family == item.family]
        asked = {"metal": metal, "stone": stone, "size_mm": size_mm}
        fits = [i for i in family if all(v is None or getattr(i, k) == v for k, v in asked.items())]
        if not fits:
            offer = {k: sorted({str(getattr(i, k)) for i in family}) for k, v in asked.items() if v is not None}
            wanted = ", ".join(f"{k} {v}" for k, v in asked.items() if v is not None)
            raise InputError(f"no {item.family_name.lower()} with {wanted}; it comes in "
                             + "; ".join(f"{k}: {', '.join(v)}" for k, v in offer.items()))
        return max(fits, key=lambda i: sum(getattr(i, k) == getattr(item, k) for k in asked))

    def thumbnail_of(self, item: Item | str) -> Path:
        """Where the item's thumbnail PNG is (made by `tryon catalog build`)."""
        item_id = item.id if isinstance(item, Item) else self.get(item).id
        return self.folder_of(item_id) / THUMBNAILS_DIR / f"{item_id}.png"

    def path_of(self, item: Item | str) -> Path:
        """Absolute path of an item's GLB file."""
        item = self.get(item) if isinstance(item, str) else item
        return self.folder_of(item) / item.file

    def model(self, item: Item | str) -> ItemModel:
        """The item as draw-ready geometry, with the sizes the renderer fits it by (MODEL_SIZES)."""
        from tryon.render.scene import ItemModel

        item = self.get(item) if isinstance(item, str) else item
        nominal = {k: item.dimensions_mm[k] for k in MODEL_SIZES.get(item.kind, ()) if k in item.dimensions_mm}
        return ItemModel(item.id, self.load_scene(item), nominal)

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


def _title(name: str) -> str:
    return name.replace("_", " ")


def _hyphen(name: str) -> str:
    return name.replace("_", "-")


Builder = Callable[[], trimesh.Scene]
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
# Sites and asset folders of the hand kinds (earrings: "ears", earrings/).
_HAND_SITES = {"ring": ("finger", "rings"), "bracelet": ("wrist", "wrist"), "watch": ("wrist", "wrist")}
_SIZE_KEYS = ("stone_diameter", "diameter", "stone_length")


def catalog_specs() -> list[tuple[Item, Builder]]:
    """The built-in items (earrings, then rings, bracelets and watches) and the generator call that makes
    each one's geometry.

    ``dimensions_mm`` here holds only the generator's sizes; :func:`build_catalog` adds the bounding box.
    """
    specs: list[tuple[Item, Builder]] = []

    def add(
        item_id: str, name: str, metal: str, stone: str | None, dims: dict[str, float], build: Builder
    ) -> None:
        family, size = item_id.split("-")[0], next(v for k, v in dims.items() if k in _SIZE_KEYS)
        if family == "hoop":
            family = "-".join(item_id.split("-")[:2])
        elif family == "drop":
            family = f"drop-{item_id.split('-')[2]}"
        item = Item(item_id, name, "earring", "ears", f"earrings/{item_id}.glb", metal, stone, dims, family, size)
        specs.append((item, build))

    studs = [("diamond", mm, m) for mm in (4.0, 6.0) for m in ("yellow_gold", "white_gold", "platinum")]
    studs.insert(0, ("diamond", 5.0, "yellow_gold"))
    studs += [(s, 5.0, m) for s in ("ruby", "sapphire") for m in ("yellow_gold", "rose_gold")]
    for stone, mm, metal in studs:
        add(
            f"stud-{stone}-{mm:g}mm-{_hyphen(metal)}",
            f"{stone.capitalize()} stud, {mm:g} mm, {_title(metal)}",
            metal,
            stone,
            {"stone_diameter": mm, "post_length": earrings.POST_LENGTH_MM},
            partial(earrings.stud, stone_mm=mm, metal=metal, stone=stone),
        )

    wires = {
        ("round", 15): 1.5,
        ("round", 25): 2.0,
        ("round", 40): 2.5,
        ("knife", 15): 2.0,
        ("knife", 25): 2.5,
        ("knife", 40): 3.0,
    }
    hoops: list[tuple[Literal["round", "knife"], int, str]]
    hoops = [("round", d, "yellow_gold") for d in (15, 25, 40)]
    hoops += [("round", 25, m) for m in ("rose_gold", "white_gold", "silver")]
    hoops += [
        ("knife", 15, "rose_gold"),
        ("knife", 25, "yellow_gold"),
        ("knife", 25, "silver"),
        ("knife", 40, "yellow_gold"),
        ("knife", 40, "white_gold"),
    ]
    for prof, dia, metal in hoops:
        wire = wires[(prof, dia)]
        label = "Round hoop" if prof == "round" else "Knife-edge hoop"
        add(
            f"hoop-{prof}-{dia}mm-{_hyphen(metal)}",
            f"{label}, {dia} mm, {_title(metal)}",
            metal,
            None,
            {"diameter": float(dia), "wire": wire},
            partial(earrings.hoop, diameter_mm=float(dia), wire_mm=wire, profile=prof, metal=metal),
        )

    drops: list[tuple[str, Literal["pear", "round"], float, str]] = [
        ("diamond", "pear", 8.0, "white_gold"),
        ("emerald", "round", 6.0, "yellow_gold"),
        ("amethyst", "pear", 10.0, "silver"),
    ]
    for stone, cut, mm, metal in drops:
        size = {"stone_length": mm, "stone_width": mm / 1.6} if cut == "pear" else {"stone_diameter": mm}
        add(
            f"drop-{stone}-{cut}-{mm:g}mm-{_hyphen(metal)}",
            f"{stone.capitalize()} {cut} drop, {mm:g} mm, {_title(metal)}",
            metal,
            stone,
            {**size, "top_stone_diameter": 3.0},
            partial(earrings.drop, stone_mm=mm, cut=cut, metal=metal, stone=stone),
        )
    return specs + _hand_specs() + _neck_specs()


def _mm(value: float) -> str:
    return f"{value:g}mm"


def _hand_specs() -> list[tuple[Item, Builder]]:
    """Rings, bracelets and watches: each family is one design; its members differ in metal, stone or size."""
    specs: list[tuple[Item, Builder]] = []

    def add(kind: str, family: str, size: float, metal: str, stone: str | None, name: str,
            dims: dict[str, float], build: Builder) -> None:
        words = [family, stone, _mm(size), _hyphen(metal)]
        item_id = "-".join(w for w in words if w)
        site, folder = _HAND_SITES[kind]
        item = Item(item_id, name, kind, site, f"{folder}/{item_id}.glb", metal, stone, dims, family, size)
        specs.append((item, build))

    finger = rings.DEFAULT_INNER_DIAMETER_MM
    for width, metal in ((2.0, "yellow_gold"), (4.0, "yellow_gold"), (4.0, "platinum"), (6.0, "white_gold")):
        add("ring", "ring-band", width, metal, None, f"Wedding band, {width:g} mm, {_title(metal)}",
            {"inner_diameter": finger, "band_width": width, "thickness": 1.8},
            partial(rings.band, width_mm=width, metal=metal))
    for stone, metal, prongs in (("diamond", "platinum", 6), ("diamond", "yellow_gold", 6),
                                 ("sapphire", "white_gold", 4)):
        add("ring", "ring-solitaire", 6.5, metal, stone,
            f"{stone.capitalize()} solitaire ring, 6.5 mm, {prongs} prongs, {_title(metal)}",
            {"inner_diameter": finger, "band_width": 2.0, "stone_diameter": 6.5},
            partial(rings.solitaire, stone_mm=6.5, metal=metal, stone=stone, prongs=prongs))
    for metal in ("white_gold", "rose_gold"):
        add("ring", "ring-halo", 6.0, metal, "diamond", f"Diamond halo ring, 6 mm, {_title(metal)}",
            {"inner_diameter": finger, "band_width": 2.0, "stone_diameter": 6.0, "halo_stone_diameter": 1.3},
            partial(rings.halo, stone_mm=6.0, metal=metal, stone="diamond"))
    for metal in ("platinum", "yellow_gold"):
        add("ring", "ring-eternity", 2.0, metal, "diamond", f"Diamond eternity band, 2 mm stones, {_title(metal)}",
            {"inner_diameter": finger, "band_width": round(rings.eternity_width_mm(2.0), 3), "stone_diameter": 2.0},
            partial(rings.eternity, stone_mm=2.0, metal=metal, stone="diamond"))
    for metal in ("yellow_gold", "silver"):
        add("ring", "ring-signet", 12.0, metal, None, f"Oval signet ring, 12 x 10 mm, {_title(metal)}",
            {"inner_diameter": finger, "band_width": 3.0, "face_length": 12.0, "face_width": 10.0},
            partial(rings.signet, face_length_mm=12.0, face_width_mm=10.0, metal=metal))

    nominal = {"inner_width": wrist.NOMINAL_WRIST_WIDTH_MM, "inner_thickness": wrist.NOMINAL_WRIST_THICKNESS_MM}
    for metal in ("yellow_gold", "silver"):
        add("bracelet", "bracelet-bangle", 3.5, metal, None, f"Bangle, 3.5 mm wire, {_title(metal)}",
            {**nominal, "wire": 3.5}, partial(wrist.bangle, wire_mm=3.5, metal=metal))
    add("bracelet", "bracelet-tennis", 2.75, "white_gold", "diamond", "Diamond tennis bracelet, 2.75 mm, white gold",
        {**nominal, "stone_diameter": 2.75}, partial(wrist.tennis, stone_mm=2.75, metal="white_gold", stone="diamond"))
    for metal in ("yellow_gold", "silver"):
        add("bracelet", "bracelet-chain", 6.0, metal, None, f"Cable chain bracelet, 6 mm links, {_title(metal)}",
            {**nominal, "link_length": 6.0}, partial(wrist.chain, link_mm=6.0, metal=metal))
    for metal, dial, strap in (("stainless_steel", "black", "bracelet"), ("yellow_gold", "white", "leather")):
        band = "steel bracelet" if strap == "bracelet" else "leather strap"
        add("watch", "watch-round", 39.0, metal, None, f"Round watch, 39 mm, {_title(metal)}, {dial} dial, {band}",
            {**nominal, "case_diameter": 39.0, "lug_width": 20.0},
            partial(wrist.watch, case_mm=39.0, metal=metal, dial=dial, strap=strap))
    return specs


NECK_KINDS = ("necklace", "pendant")
MODEL_SIZES = {"ring": ("inner_diameter",), "bracelet": ("inner_width", "inner_thickness"),
               "watch": ("inner_width", "inner_thickness"), "necklace": ("length", "pitch", "thickness"),
               "pendant": ("length", "pitch", "thickness")}


def _neck_specs() -> list[tuple[Item, Builder]]:
    """Chains, a pearl strand, a choker and pendant necklaces: each family one design at one length."""
    specs: list[tuple[Item, Builder]] = []

    def add(kind: str, family: str, size: float, metal: str, stone: str | None, name: str, length_mm: float,
            dims: dict[str, float], build: Builder) -> None:
        item_id = "-".join(w for w in (family, stone, _mm(size), _hyphen(metal)) if w)
        item = Item(item_id, name, kind, "neck", f"necklaces/{item_id}.glb", metal, stone,
                    {"length": length_mm, **dims}, family, size)
        specs.append((item, build))

    princess, matinee = necklaces.NECKLACE_LENGTH_MM, 550.0
    for metal in ("yellow_gold", "white_gold"):
        add("necklace", "necklace-cable", 2.5, metal, None, f"Cable chain, 2.5 mm links, 45 cm, {_title(metal)}",
            princess, {"link_length": 2.5}, partial(necklaces.cable_chain, link_mm=2.5, metal=metal))
    add("necklace", "necklace-box", 1.5, "silver", None, "Box chain, 1.5 mm, 50 cm, silver", 500.0,
        {"link_length": 1.5}, partial(necklaces.box_chain, link_mm=1.5, metal="silver"))
    add("necklace", "necklace-rope", 2.5, "yellow_gold", None, "Rope chain, 2.5 mm, 55 cm, yellow gold", matinee,
        {"chain_diameter": 2.5}, partial(necklaces.rope_chain, diameter_mm=2.5, metal="yellow_gold"))
    add("necklace", "necklace-strand", 7.0, "silver", "pearl", "Akoya pearl strand, 7 mm, 45 cm", princess,
        {"pearl_diameter": 7.0}, partial(necklaces.pearl_strand, pearl_mm=7.0, pearl="pearl"))
    add("necklace", "necklace-choker", 4.0, "yellow_gold", None, "Herringbone choker, 4 mm, 36 cm, yellow gold",
        necklaces.CHOKER_LENGTH_MM, {"chain_width_nominal": 4.0},
        partial(necklaces.choker, width_mm=4.0, metal="yellow_gold"))

    def pendant(chain: Builder, hang: Builder) -> Builder:
        return lambda: necklaces.necklace(chain(), hang())

    for metal in ("white_gold", "yellow_gold"):
        add("pendant", "pendant-solitaire", 6.5, metal, "diamond",
            f"Diamond solitaire pendant, 6.5 mm, on a 45 cm cable chain, {_title(metal)}", princess,
            {"stone_diameter": 6.5}, pendant(partial(necklaces.cable_chain, link_mm=2.0, wire_mm=0.4, metal=metal),
                                             partial(necklaces.solitaire_pendant, stone_mm=6.5, metal=metal)))
    add("pendant", "pendant-heart", 12.0, "rose_gold", None, "Puffed heart pendant, 12 mm, on a 45 cm cable chain, "
        "rose gold", princess, {"heart_width": 12.0},
        pendant(partial(necklaces.cable_chain, link_mm=2.0, wire_mm=0.4, metal="rose_gold"),
                partial(necklaces.heart_pendant, width_mm=12.0, metal="rose_gold")))
    add("pendant", "pendant-coin", 18.0, "yellow_gold", None, "Coin pendant, 18 mm, on a 50 cm box chain, "
        "yellow gold", 500.0, {"coin_diameter": 18.0},
        pendant(partial(necklaces.box_chain, link_mm=1.5, metal="yellow_gold"),
                partial(necklaces.coin_pendant, diameter_mm=18.0, metal="yellow_gold")))
    add("pendant", "pendant-initial", 12.0, "yellow_gold", None, "Initial pendant \"A\", 12 mm, on a 45 cm cable "
        "chain, yellow gold", princess, {"letter_height": 12.0},
        pendant(partial(necklaces.cable_chain, link_mm=2.0, wire_mm=0.4, metal="yellow_gold"),
                partial(necklaces.initial_pendant, letter="A", height_mm=12.0, metal="yellow_gold")))
    return specs


def _with_bounds(item: Item, scene: trimesh.Scene) -> Item:
    if item.kind in NECK_KINDS:
        return _neck_sizes(item, scene)
    lo, hi = scene.bounds
    size = (hi - lo) / MM
    if item.kind == "earring":  # earring frame: z across the ear, y up, x out of the ear
        box = {"width": size[2], "height": size[1], "depth": size[0]}
    else:  # ring and wrist frames: x across, y along the finger or forearm, z toward the back of the hand
        box = {"width": size[0], "length": size[1], "height": size[2]}
    dims = {**item.dimensions_mm, **box}
    # Rounded to 1 um so catalog.json stays readable and stable across platforms' float noise.
    return Item(**{**item.__dict__, "dimensions_mm": {k: round(float(v), 3) for k, v in dims.items()}})


def _neck_sizes(item: Item, scene: trimesh.Scene) -> Item:
    """A necklace's sizes: the chain unit's (from the scene) and the pendant's bounding box (bail included)."""
    unit = necklaces.unit_size(scene)
    dims = {**item.dimensions_mm, "pitch": unit.pitch_mm, "chain_width": unit.width_mm,
            "thickness": unit.thickness_mm}
    hung = [n for n in scene.graph.nodes_geometry if str(n).startswith(necklaces.PENDANT_PREFIX)]
    if hung:
        lo, hi = trimesh.Scene([scene.geometry[scene.graph[n][1]].copy().apply_transform(scene.graph[n][0])
                                for n in hung]).bounds
        dims["pendant_width"], dims["pendant_height"] = (hi - lo)[:2] / MM
    return Item(**{**item.__dict__, "dimensions_mm": {k: round(float(v), 3) for k, v in dims.items()}})


def build_catalog(assets_dir: Path = DEFAULT_ASSETS_DIR) -> list[Item]:
    """Regenerate every built-in GLB and catalog.json under ``assets_dir``; returns the items written.

    Deterministic: the same code writes byte-identical files.
    """

    return write_items(catalog_specs(), Path(assets_dir), keep=())


def write_items(specs: Iterable[tuple[Item, Builder]], folder: Path, keep: Iterable[Item] = ()) -> list[Item]:
    """Build each item's model, measure it (bounds, price), write its GLB and thumbnail under `folder`, and
    write folder/catalog.json with `keep` (items already there) followed by these. Returns the new items."""
    from tryon.jewelry.facts import item_facts
    from tryon.jewelry.pricing import list_price

    items = []
    for item, build in specs:
        scene = build()
        item = _with_bounds(item, scene)
        target = folder / item.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(scene.export(file_type="glb"))
        logger.info("wrote %s", target)
        price = list_price(item_facts(Catalog((item,), folder), item), item.kind)
        items.append(dataclasses.replace(item, price=price))
    write_thumbnails(Catalog(tuple(items), folder))
    doc = {"version": CATALOG_VERSION, "items": [i.to_json() for i in (*keep, *items)]}
    check_schema(doc, str(folder / CATALOG_FILE))
    tmp = folder / f".{CATALOG_FILE}.tmp"
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    tmp.replace(folder / CATALOG_FILE)
    return items


def add_user_items(specs: list[tuple[Item, Builder]], folder: Path, built_in: Catalog) -> list[Item]:
    """Write these items into the user catalog in `folder` (made if missing), keeping what is there; an id
    already built in is refused, one already in the user catalog is replaced.

    All or nothing: models, thumbnails and catalog.json are written into a staging folder inside `folder` and
    renamed into place, catalog.json last, only once all of them are written; on any error `folder` is left as
    it was. Writers of one folder (threads or processes) take turns; a staging folder left by a writer that was
    killed is removed by the next one.
    """
    taken = sorted(i.id for i, _ in specs if i.id in built_in)
    if taken:
        raise InputError(f"{', '.join(taken)} is a built-in item's id")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with _locked(folder):
        for stale in folder.glob(f"{STAGING_PREFIX}*"):  # we hold the lock: no writer is using it
            shutil.rmtree(stale, ignore_errors=True)
        existing = Catalog.load(folder / CATALOG_FILE).items if (folder / CATALOG_FILE).is_file() else ()
        new = {i.id for i, _ in specs}
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))
        try:
            items = write_items(specs, staging, keep=[i for i in existing if i.id not in new])
            _commit(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return items


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` itself (flock on the directory: no lock file is left in it)."""
    if sys.platform == "win32":  # no flock: one writer at a time is then the caller's to arrange
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # and with it the lock


def _commit(staging: Path, folder: Path) -> None:
    """Rename every file written under `staging` to the same place under `folder`, catalog.json last.

    Each rename replaces its target at once (readers see the old file or the new, never none); a replaced
    file is kept (hard-linked) under staging/.old, and if any rename fails, those done are undone.
    """
    files = sorted((p.relative_to(staging) for p in staging.rglob("*") if p.is_file()),
                   key=lambda rel: rel == Path(CATALOG_FILE))
    old = staging / ".old"
    done: list[tuple[Path, Path | None]] = []  # (target, its former version or None where it is new)
    try:
        for rel in files:
            target, kept = folder / rel, None
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                kept = old / rel
                kept.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(target, kept)
                except OSError:  # a file system without hard links
                    shutil.copy2(target, kept)
            os.replace(staging / rel, target)
            done.append((target, kept))
    except BaseException:
        for target, kept in reversed(done):
            if kept is None:
                target.unlink(missing_ok=True)
            else:
                os.replace(kept, target)
        raise


def write_thumbnails(catalog: Catalog) -> None:
    """Render every item's thumbnail with the engine itself (transparent PNG, THUMBNAIL_PX square)."""
    from PIL import Image

    from tryon.render.renderer import Renderer
    from tryon.render.thumbnail import render_thumbnail

    with Renderer() as renderer:
        for item in catalog:
            target = catalog.thumbnail_of(item)
            target.parent.mkdir(parents=True, exist_ok=True)
            model = catalog.model(item)
            rgba = render_thumbnail(renderer, model, THUMBNAIL_PX, item.kind)
            Image.fromarray(rgba, "RGBA").save(target, optimize=True)


if __name__ == "__main__":
    for written in build_catalog():
        print(written.id)

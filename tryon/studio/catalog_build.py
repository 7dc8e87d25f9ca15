"""Building the catalog: each built-in item's generator call, its model measured and priced, written as a GLB
with a thumbnail drawn by the renderer, and catalog.json (the format is in :mod:`tryon.jewelry.catalog`).

``build_catalog`` regenerates the built-in catalog under ``assets/`` (``tryon catalog build``);
``add_user_items`` writes designed or imported pieces into a user catalog, all or nothing.

This sits above the generators, :mod:`tryon.jewelry.facts` and :mod:`tryon.jewelry.pricing` (an item's price
comes from its measured metal and stones) and :mod:`tryon.render` (thumbnails are drawn with the engine
itself). Reading a catalog (:mod:`tryon.jewelry.catalog`) needs none of them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Literal

import trimesh
from PIL import Image

from tryon.errors import InputError
from tryon.jewelry import earrings, necklaces, rings, wrist
from tryon.jewelry.catalog import CATALOG_FILE, CATALOG_VERSION, DEFAULT_ASSETS_DIR, NECK_KINDS, Catalog, Item, check_schema
from tryon.jewelry.facts import item_facts
from tryon.jewelry.geometry.scenes import Builder
from tryon.jewelry.geometry.units import MM
from tryon.jewelry.pricing import list_price
from tryon.render.renderer import Renderer
from tryon.render.scene import item_model
from tryon.render.thumbnail import render_thumbnail

if sys.platform != "win32":
    import fcntl

__all__ = ["THUMBNAIL_PX", "add_user_items", "build_catalog", "catalog_specs", "write_items", "write_thumbnails"]

logger = logging.getLogger(__name__)

THUMBNAIL_PX = 192
STAGING_PREFIX = ".staging-"  # add_user_items builds into folder/.staging-*, then renames into place


def _title(name: str) -> str:
    return name.replace("_", " ")


def _hyphen(name: str) -> str:
    return name.replace("_", "-")


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


def add_designs(kind: str, fixed: Mapping[str, Any], count: int, seed: int, folder: Path,
                built_in: Path) -> list[Item]:
    """`count` distinct designs of `kind` (tryon.jewelry.design.variations: `fixed` kept, the rest drawn with
    `seed`), built, priced and thumbnailed into the user catalog in `folder` (`built_in`: the built-in
    catalog.json, whose ids are not reused). `tryon design` and POST /api/design both make pieces this way."""
    from tryon.jewelry.design import variations

    return add_user_items(variations(kind, fixed, count, seed), folder, Catalog.load(built_in))


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
    with Renderer() as renderer:
        for item in catalog:
            target = catalog.thumbnail_of(item)
            target.parent.mkdir(parents=True, exist_ok=True)
            model = item_model(catalog, item)
            rgba = render_thumbnail(renderer, model, THUMBNAIL_PX, item.kind)
            Image.fromarray(rgba, "RGBA").save(target, optimize=True)


if __name__ == "__main__":
    for written in build_catalog():
        print(written.id)

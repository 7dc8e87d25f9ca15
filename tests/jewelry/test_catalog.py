"""The catalog: catalog.json entries, their GLB files, lookups, errors, and the deterministic rebuild."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import trimesh

from tryon.errors import AssetError, InputError, UnknownItemError
from tryon.jewelry import catalog as catalog_module
from tryon.jewelry import materials
from tryon.jewelry.catalog import Catalog, Item
from tryon.studio.catalog_build import build_catalog

REQUIRED_IDS = (
    "stud-diamond-4mm-yellow-gold",
    "stud-diamond-6mm-white-gold",
    "stud-diamond-6mm-platinum",
    "stud-ruby-5mm-rose-gold",
    "stud-sapphire-5mm-yellow-gold",
    "hoop-round-15mm-yellow-gold",
    "hoop-round-25mm-silver",
    "hoop-knife-40mm-white-gold",
    "drop-diamond-pear-8mm-white-gold",
    "drop-emerald-round-6mm-yellow-gold",
    "drop-amethyst-pear-10mm-silver",
    "ring-band-2mm-yellow-gold",
    "ring-band-4mm-platinum",
    "ring-band-6mm-white-gold",
    "ring-solitaire-diamond-6.5mm-platinum",
    "ring-solitaire-sapphire-6.5mm-white-gold",
    "ring-halo-diamond-6mm-white-gold",
    "ring-eternity-diamond-2mm-platinum",
    "ring-signet-12mm-yellow-gold",
    "bracelet-bangle-3.5mm-yellow-gold",
    "bracelet-tennis-diamond-2.75mm-white-gold",
    "bracelet-chain-6mm-silver",
    "watch-round-39mm-stainless-steel",
    "watch-round-39mm-yellow-gold",
)
# kind -> (site, asset folder, the names its node names start with)
KINDS = {
    "earring": ("ears", "earrings", ("stud", "hoop", "top", "drop")),
    "ring": ("finger", "rings", ("band", "head")),
    "bracelet": ("wrist", "wrist", ("band",)),
    "watch": ("wrist", "wrist", ("band", "case", "hand_")),
    "necklace": ("neck", "necklaces", ("link",)),
    "pendant": ("neck", "necklaces", ("link", "pendant")),
}


@pytest.fixture(scope="module")
def repo_catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly generated assets folder."""
    out = tmp_path_factory.mktemp("assets")
    build_catalog(out)
    return out


@pytest.fixture()
def small_catalog(tmp_path: Path, repo_catalog: Catalog) -> tuple[Path, Catalog]:
    """A copy of two repo items in a temporary folder, free to damage."""
    items = [repo_catalog.get("stud-diamond-4mm-yellow-gold"), repo_catalog.get("hoop-round-25mm-silver")]
    for item in items:
        (tmp_path / item.file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(repo_catalog.path_of(item), tmp_path / item.file)
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"version": 1, "items": [i.to_json() for i in items]}))
    return path, Catalog.load(path)


def test_default_catalog_is_the_repo_assets(repo_catalog: Catalog) -> None:
    assert repo_catalog.assets_dir == Path(catalog_module.__file__).resolve().parents[2] / "assets"
    assert 50 <= len(repo_catalog) <= 60
    assert {i.kind for i in repo_catalog} == set(KINDS)
    ids = [i.id for i in repo_catalog.items]
    assert len(set(ids)) == len(ids)
    assert set(REQUIRED_IDS) <= set(ids)


def test_every_entry_is_valid_and_loads(repo_catalog: Catalog) -> None:
    total_bytes = 0
    for item in repo_catalog.items:
        # Lowercase words and sizes such as 6.5mm, joined by hyphens: stable in URLs and file names.
        assert re.fullmatch(r"[a-z0-9]+(\.[0-9]+)?[a-z]*(-[a-z0-9]+(\.[0-9]+)?[a-z]*)*", item.id), item.id
        site, folder, prefixes = KINDS[item.kind]
        assert item.site == site
        assert item.file == f"{folder}/{item.id}.glb"
        path = repo_catalog.path_of(item)
        assert path.is_file(), path
        total_bytes += path.stat().st_size
        materials.metal(item.metal)
        if item.stone is not None:
            materials.material_spec(item.stone)  # a gem, or a pearl
        scene = repo_catalog.load_scene(item)
        assert isinstance(scene, trimesh.Scene) and scene.geometry
        names = {g.visual.material.name for g in scene.geometry.values()}
        jewels = {item.metal} | ({item.stone} if item.stone else set())
        if item.kind == "watch":  # dials, straps and hand paint besides
            assert jewels <= names and names - jewels <= set(materials.DIELECTRICS), item.id
        elif item.stone in materials.DIELECTRICS:  # a pearl strand: pearls on silk (its clasp is not modelled)
            assert item.stone in names and names <= set(materials.DIELECTRICS), item.id
        else:
            assert names == jewels, item.id
        assert all(str(n).startswith(prefixes) for n in scene.graph.nodes_geometry), item.id
        size_mm = (scene.bounds[1] - scene.bounds[0]) * 1000.0
        dims = item.dimensions_mm
        if item.site == "neck":  # the chain's length and its repeat unit, which the renderer drapes by
            assert 350 <= dims["length"] <= 600 and 0.5 <= dims["pitch"] <= 10 and dims["thickness"] > 0, item.id
            assert ("pendant_height" in dims) == (item.kind == "pendant"), item.id
            continue
        box = ["depth", "height", "width"] if item.kind == "earring" else ["width", "length", "height"]
        np.testing.assert_allclose([dims[k] for k in box], size_mm, atol=2e-3)
        if item.kind == "ring":  # the names the renderer fits rings and wrist pieces by
            assert dims["inner_diameter"] == 17.35 and 1.5 <= dims["band_width"] <= 6.0, item.id
        elif item.kind != "earring":
            assert (dims["inner_width"], dims["inner_thickness"]) == (56.0, 40.0), item.id
    assert total_bytes < 8e6  # 56 items; the tennis bracelet, the biggest, is about 0.5 MB


def test_dimensions_are_real_sizes(repo_catalog: Catalog) -> None:
    hoop = repo_catalog.get("hoop-round-25mm-yellow-gold")
    assert hoop.dimensions_mm["height"] == pytest.approx(25.0 + hoop.dimensions_mm["wire"], abs=1e-3)
    stud = repo_catalog.get("stud-diamond-6mm-platinum")
    stone = repo_catalog.load_scene(stud).geometry["stud_stone"]
    assert (stone.bounds[1][1] - stone.bounds[0][1]) * 1000.0 == pytest.approx(6.0, abs=1e-4)
    drop = repo_catalog.load_scene("drop-diamond-pear-8mm-white-gold")
    assert "drop" in drop.graph.nodes
    band = repo_catalog.get("ring-band-6mm-white-gold")
    assert band.dimensions_mm["length"] == pytest.approx(6.0, abs=1e-3), "a band's length along the finger"
    assert band.dimensions_mm["width"] == pytest.approx(17.35 + 2 * 1.8, abs=1e-2)
    solitaire = repo_catalog.load_scene("ring-solitaire-diamond-6.5mm-platinum")
    stone = solitaire.geometry["head_stone"]
    assert (stone.bounds[1][0] - stone.bounds[0][0]) * 1000.0 == pytest.approx(6.5, abs=1e-4)
    watch = repo_catalog.get("watch-round-39mm-yellow-gold")
    assert watch.dimensions_mm["case_diameter"] == 39.0 and watch.size_mm == 39.0
    eternity = repo_catalog.get("ring-eternity-diamond-2mm-platinum")
    extent = repo_catalog.load_scene(eternity).geometry["band"].extents[1] * 1000.0
    assert eternity.dimensions_mm["band_width"] == pytest.approx(extent, abs=1e-3)


def test_families_and_variants_of_hand_items(repo_catalog: Catalog) -> None:
    families = {i.family for i in repo_catalog if i.site in ("finger", "wrist")}
    assert families == {"ring-band", "ring-solitaire", "ring-halo", "ring-eternity", "ring-signet",
                        "bracelet-bangle", "bracelet-tennis", "bracelet-chain", "watch-round"}
    assert all(f in catalog_module.FAMILY_NAMES for f in families)
    assert repo_catalog.variant("ring-band-4mm-platinum", size_mm=2.0).id == "ring-band-2mm-yellow-gold"
    assert repo_catalog.variant("ring-solitaire-diamond-6.5mm-platinum", stone="sapphire").metal == "white_gold"
    gold = repo_catalog.variant("watch-round-39mm-stainless-steel", metal="yellow_gold")
    assert gold.id == "watch-round-39mm-yellow-gold" and gold.family_name == "Round watch"


def test_unknown_id_suggests_close_ids(repo_catalog: Catalog) -> None:
    with pytest.raises(
        UnknownItemError, match=r"'stud-diamond-5mm-yelow-gold'.*'stud-diamond-5mm-yellow-gold'"
    ):
        repo_catalog.get("stud-diamond-5mm-yelow-gold")
    with pytest.raises(InputError, match="Unknown item 'tiara'"):  # UnknownItemError is an InputError
        repo_catalog.load_scene("tiara")


def test_corrupt_glb_is_an_asset_error(small_catalog: tuple[Path, Catalog]) -> None:
    _, cat = small_catalog
    item = cat.get("hoop-round-25mm-silver")
    cat.path_of(item).write_bytes(b"glTF\x02\x00\x00\x00 this is not a real binary glTF")
    with pytest.raises(AssetError, match="hoop-round-25mm-silver.*corrupt"):
        cat.load_scene(item)
    truncated = cat.path_of("stud-diamond-4mm-yellow-gold")
    truncated.write_bytes(truncated.read_bytes()[:1000])
    with pytest.raises(AssetError, match="corrupt"):
        cat.load_scene("stud-diamond-4mm-yellow-gold")


def test_missing_glb_is_an_asset_error(small_catalog: tuple[Path, Catalog]) -> None:
    _, cat = small_catalog
    cat.path_of("hoop-round-25mm-silver").unlink()
    with pytest.raises(AssetError, match="missing"):
        cat.load_scene("hoop-round-25mm-silver")


def test_bad_catalog_files(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    with pytest.raises(AssetError, match="No catalog"):
        Catalog.load(path)
    path.write_text("{not json")
    with pytest.raises(AssetError, match="Cannot read"):
        Catalog.load(path)
    path.write_text(json.dumps({"version": 1, "items": [{"id": "x"}]}))
    with pytest.raises(AssetError, match="item 'x'.*'name' is a required property"):
        Catalog.load(path)
    entry = Item("a", "A", "earring", "ears", "../a.glb", "silver", None, {"width": 5.0}).to_json()
    path.write_text(json.dumps({"version": 1, "items": [entry]}))
    with pytest.raises(AssetError, match="items/0/file .*does not match"):
        Catalog.load(path)
    entry["file"] = "a.glb"
    path.write_text(json.dumps({"version": 1, "items": [entry, entry]}))
    with pytest.raises(AssetError, match="more than once"):
        Catalog.load(path)


def test_items_are_frozen(repo_catalog: Catalog) -> None:
    item = repo_catalog.items[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.id = "other"  # type: ignore[misc]
    assert Item.from_json(item.to_json()) == item
    assert hash(item) == hash(Item.from_json(item.to_json()))
    plain = json.loads(json.dumps(dataclasses.asdict(item)))
    assert plain == {**{k: v for k, v in item.to_json().items() if k not in ("thumbnail", "price")},
                     "price": item.price}


def test_build_is_deterministic(built: Path, tmp_path: Path) -> None:
    again = build_catalog(tmp_path)
    files = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(files) == 2 * len(again) + 1  # a GLB and a thumbnail per item, and catalog.json
    for rel in files:
        assert (built / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_repo_assets_match_the_generators(built: Path, repo_catalog: Catalog) -> None:
    """The committed GLBs and catalog.json are what the generators make now (rebuild if this fails)."""
    fresh = Catalog.load(built / "catalog.json")
    assert fresh.items == repo_catalog.items
    for item in fresh.items:
        if fresh.path_of(item).read_bytes() == repo_catalog.path_of(item).read_bytes():
            continue
        # Not byte-identical: trimesh's computed normals differ in the last bits from one CPU to another
        # (about 4e-17). The geometry itself must still be the same.
        a, b = fresh.load_scene(item), repo_catalog.load_scene(item)
        assert sorted(a.graph.nodes_geometry) == sorted(b.graph.nodes_geometry), item.id
        for name in a.geometry:
            ga, gb = a.geometry[name], b.geometry[name]
            np.testing.assert_array_equal(ga.faces, gb.faces, err_msg=item.id)
            np.testing.assert_allclose(ga.vertices, gb.vertices, atol=1e-9, err_msg=item.id)
            np.testing.assert_allclose(ga.vertex_normals, gb.vertex_normals, atol=1e-6, err_msg=item.id)
            assert ga.visual.material.name == gb.visual.material.name, item.id


def test_the_repo_catalog_meets_its_schema_and_bad_entries_are_named(tmp_path: Path) -> None:
    data = json.loads((catalog_module.DEFAULT_ASSETS_DIR / "catalog.json").read_text())
    catalog_module.check_schema(data)  # the shipped catalog is valid
    assert all(i["thumbnail"] == f"thumbnails/{i['id']}.png" for i in data["items"])
    bad = [
        ("file", "../../etc/passwd.glb", "does not match"),
        ("file", "/abs/ring.glb", "does not match"),
        ("kind", "tiara", "is not one of"),
        ("site", "finger", "'ears' was expected"),  # an earring worn on a finger
        ("dimensions_mm", {"width": -3.0}, "less than or equal to the minimum"),
        ("extra", 1, "Additional properties"),
    ]
    for key, value, message in bad:
        broken = json.loads(json.dumps(data))
        broken["items"][0][key] = value
        with pytest.raises(AssetError, match=message) as err:
            catalog_module.check_schema(broken, "catalog.json")
        assert "stud-diamond-5mm-yellow-gold" in str(err.value)
        path = tmp_path / "catalog.json"
        path.write_text(json.dumps(broken))
        with pytest.raises(AssetError):
            Catalog.load(path)

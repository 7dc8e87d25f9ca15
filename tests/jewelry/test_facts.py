"""Manufacturing facts: metal weight against analytic volumes, stone carats against jewellers' tables, the
thinnest wall against the builders' wire sizes, chain length scaling, and sane numbers for every item."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import trimesh

from tryon.errors import InputError
from tryon.jewelry import earrings, materials, necklaces, rings
from tryon.jewelry.facts import (
    CARAT_G,
    METAL_ALLOYS,
    STONE_SG,
    ItemFacts,
    catalog_facts,
    item_facts,
    metal_density,
    round_brilliant_carat,
    scene_facts,
    stone_sg,
)
from tryon.jewelry.geometry import solids
from tryon.jewelry.geometry.units import MM


@pytest.fixture(scope="module")
def facts(catalog) -> dict[str, ItemFacts]:
    return {f.item_id: f for f in catalog_facts(catalog)}


def _shoelace(uv: np.ndarray) -> tuple[float, float]:
    """Area and centroid u of a closed counter-clockwise polygon (n, 2)."""
    u, v = uv[:, 0], uv[:, 1]
    cross = u * np.roll(v, -1) - np.roll(u, -1) * v
    area = cross.sum() / 2.0
    return float(area), float(((u + np.roll(u, -1)) * cross).sum() / (6.0 * area))


def _dressed_scene(*meshes: trimesh.Trimesh, material: str = "yellow_gold") -> trimesh.Scene:
    scene = trimesh.Scene()
    for i, mesh in enumerate(meshes):
        mesh.visual = trimesh.visual.TextureVisuals(material=materials.pbr_material(material))
        scene.add_geometry(mesh, node_name=f"part{i}", geom_name=f"part{i}")
    return scene


# ---------------------------------------------------------------- tables


def test_every_metal_and_stone_has_a_density() -> None:
    assert set(METAL_ALLOYS) == set(materials.METALS)
    assert set(materials.GEMS) | set(necklaces.PEARLS) <= set(STONE_SG)
    assert metal_density("yellow_gold") == 15.5 and metal_density("Yellow Gold") == 15.5
    assert metal_density("silver") == 10.36 and metal_density("stainless_steel") == 8.0
    assert 20.0 <= metal_density("platinum") <= 21.45  # Pt 950 alloys; pure Pt 21.45
    assert 14.5 <= metal_density("white_gold") <= 15.0 and 14.9 <= metal_density("rose_gold") <= 15.2
    assert stone_sg("diamond") == 3.52 and stone_sg("ruby") == stone_sg("sapphire") == 4.0
    for alloy in METAL_ALLOYS.values():
        assert alloy.source and alloy.alloy
    assert all("18k" in METAL_ALLOYS[g].alloy for g in ("yellow_gold", "white_gold", "rose_gold"))
    with pytest.raises(InputError):
        metal_density("brass")
    with pytest.raises(InputError):
        stone_sg("glass")


# ---------------------------------------------------------------- metal


def test_band_weighs_its_section_swept_round_the_finger(catalog) -> None:
    """A plain band is one comfort-fit section swept round a circle: Pappus gives its volume exactly."""
    width, thickness = 4.0, 1.8
    got = scene_facts(rings.band(width_mm=width, metal="yellow_gold"), kind="ring")
    # The section exactly as the builder samples it (domed outside and in, rounded edges), u = 0 on the
    # finger: Pappus sweeps its area round the circle through its centroid.
    uv, _ = rings._comfort_section(width * MM, thickness * MM)
    area, centroid_u = _shoelace(uv / MM)
    assert 0.7 * width * thickness < area < width * thickness  # domes and rounded edges take off corners
    radius = rings.DEFAULT_INNER_DIAMETER_MM / 2.0 + centroid_u
    pappus = 2.0 * math.pi * radius * area
    assert got.metal_volume_mm3 == pytest.approx(pappus, rel=0.01)
    assert got.metal_weight_g == pytest.approx(pappus / 1000.0 * 15.5, rel=0.01)
    # The mesh sweeps it round a 72-gon, not a circle: each wedge holds sin(5 deg) / (5 deg) of the arc's.
    n = rings.BAND_SEGMENTS
    assert got.metal_volume_mm3 == pytest.approx(pappus * n * math.sin(2.0 * math.pi / n) / (2.0 * math.pi),
                                                 rel=1e-6)
    assert got.overlap_mm3 == 0.0 and got.stones == [] and got.watertight
    # The catalog's GLB (float32) says the same.
    stored = item_facts(catalog, "ring-band-4mm-yellow-gold")
    assert stored.metal_weight_g == pytest.approx(got.metal_weight_g, rel=1e-5)
    platinum = item_facts(catalog, "ring-band-4mm-platinum")
    assert platinum.metal_weight_g / stored.metal_weight_g == pytest.approx(20.1 / 15.5, rel=1e-5)


def test_overlapping_parts_are_weighed_once() -> None:
    """Two 2 mm cubes sharing a 1.3 x 0.7 x 1.6 mm block: 16 - 1.456 mm^3, not 16."""
    a = trimesh.creation.box([2.0 * MM] * 3)
    b = trimesh.creation.box([2.0 * MM] * 3).apply_translation(np.array([0.7, 1.3, 0.4]) * MM)
    got = scene_facts(_dressed_scene(trimesh.util.concatenate([a, b])))
    common = 1.3 * 0.7 * 1.6
    assert got.overlap_mm3 == pytest.approx(common, rel=0.02)
    assert got.metal_volume_mm3 == pytest.approx(16.0 - common, rel=0.002)
    # Two spheres (radius 1 mm, 1 mm apart): a lens of pi (4r + d)(2r - d)^2 / 12; the 1280-face
    # icospheres are inscribed in the spheres, about 0.5 % short of it.
    s1 = trimesh.creation.icosphere(subdivisions=4, radius=MM)
    s2 = trimesh.creation.icosphere(subdivisions=4, radius=MM).apply_translation([MM, 0.0, 0.0])
    got = scene_facts(_dressed_scene(trimesh.util.concatenate([s1, s2])))
    assert got.overlap_mm3 == pytest.approx(math.pi * 5.0 / 12.0, rel=0.01)


def test_a_part_sunk_into_another_is_not_counted_twice(facts) -> None:
    """The stud's prongs, rails and post are sunk into each other and the base; what the parts share
    (about a tenth of their summed volume) comes off, and no more."""
    stud = facts["stud-diamond-5mm-yellow-gold"]
    assert 0.05 < stud.overlap_mm3 / (stud.metal_volume_mm3 + stud.overlap_mm3) < 0.2
    assert any("counted once" in n for n in stud.notes)
    hoop = facts["hoop-round-25mm-yellow-gold"]
    assert hoop.overlap_mm3 == 0.0  # one closed tube


def test_open_meshes_fall_back_with_a_note() -> None:
    box = trimesh.creation.box([2.0 * MM] * 3)
    holed = trimesh.Trimesh(box.vertices, box.faces[1:], process=False)  # one triangle missing
    got = scene_facts(_dressed_scene(holed))
    assert not got.watertight
    assert got.metal_volume_mm3 == pytest.approx(8.0, rel=1e-6)  # the hole filled
    assert any("not watertight" in n for n in got.notes)
    assert got.thinnest_metal_mm is None and not got.ok  # unmeasured is not known to be ok
    assert any("thickness not measured" in n for n in got.notes)


# ---------------------------------------------------------------- stones


def test_round_brilliants_weigh_as_jewellers_tables_say(facts) -> None:
    """Diamond size charts: 4.0 mm ~ 0.25 ct, 5.0 mm ~ 0.47-0.50 ct, 6.0 mm ~ 0.75 ct, 6.5 mm ~ 1.00 ct."""
    table = {"stud-diamond-4mm-yellow-gold": 0.25, "stud-diamond-5mm-yellow-gold": 0.47,
             "stud-diamond-6mm-yellow-gold": 0.75, "ring-solitaire-diamond-6.5mm-platinum": 1.00,
             "pendant-solitaire-diamond-6.5mm-white-gold": 1.00}
    for item_id, carat in table.items():
        (stone,) = facts[item_id].stones
        assert stone.name == "diamond" and stone.cut == "round brilliant" and stone.count == 1
        assert stone.carat_each == pytest.approx(carat, rel=0.10), item_id
        assert stone.weight_g_each == pytest.approx(stone.carat_each * CARAT_G)
    (solitaire,) = facts["ring-solitaire-diamond-6.5mm-platinum"].stones
    assert solitaire.diameter_mm == pytest.approx(6.5, abs=0.01)
    assert solitaire.depth_mm == pytest.approx(0.607 * 6.5, rel=0.01)  # Tolkowsky's ideal: 60.7 % deep
    # Built directly (no GLB): the same stone weighs the same.
    (built,) = scene_facts(earrings.stud(stone_mm=6.5), kind="earring").stones
    assert built.carat_each == pytest.approx(solitaire.carat_each, rel=1e-4)


def test_mesh_carats_agree_with_the_jewellers_formula(facts) -> None:
    """d^2 x depth x 0.0061 (diamond; coloured stones 0.0018 x SG) is within 10 % of the mesh's carats
    for every round brilliant in the catalog; other cuts get no formula."""
    brilliants = 0
    for f in facts.values():
        for stone in f.stones:
            if stone.cut != "round brilliant":
                assert stone.formula_carat_each is None
                continue
            brilliants += 1
            assert stone.formula_carat_each == pytest.approx(stone.carat_each, rel=0.10), f.item_id
            assert stone.formula_carat_each == pytest.approx(
                round_brilliant_carat(stone.diameter_mm, stone.depth_mm, stone.name))
    assert brilliants >= 20
    assert round_brilliant_carat(6.5, 0.607 * 6.5) == pytest.approx(1.02, abs=0.01)


def test_stones_are_counted_and_sized(facts) -> None:
    halo = facts["ring-halo-diamond-6mm-white-gold"]
    centre, melee = halo.stones
    # The builder rings the centre with as many 1.3 mm stones as fit 0.12 mm apart round 3.9 mm.
    assert melee.count == int(2.0 * math.pi * (3.0 + 0.25 + 0.65) // (1.3 + 0.12)) == 17
    assert melee.cut == "single cut" and melee.diameter_mm == pytest.approx(1.3, abs=0.01)
    assert melee.carat_total == pytest.approx(17 * melee.carat_each)
    assert centre.count == 1 and centre.diameter_mm == pytest.approx(6.0, abs=0.01)
    pear, top = facts["drop-diamond-pear-8mm-white-gold"].stones
    assert pear.cut == "pear" and pear.length_mm == pytest.approx(8.0, abs=0.02)
    assert pear.diameter_mm == pytest.approx(8.0 / 1.6, abs=0.02) and top.diameter_mm == pytest.approx(3.0, abs=0.01)
    tennis = facts["bracelet-tennis-diamond-2.75mm-white-gold"]
    (line,) = tennis.stones
    assert line.count > 40 and tennis.stone_weight_g == pytest.approx(line.carat_total * CARAT_G)


def test_pearls_are_sold_by_size(facts) -> None:
    strand = facts["necklace-strand-pearl-7mm-silver"]
    (pearl,) = strand.stones
    assert pearl.cut == "pearl" and pearl.diameter_mm == pytest.approx(7.0, abs=0.01)
    assert pearl.count == round(450.0 / 7.5) == 60  # 7 mm pearls and 0.5 mm knots over 45 cm
    assert pearl.weight_g_each == pytest.approx(math.pi / 6.0 * 7.0**3 / 1000.0 * 2.70, rel=1e-6)
    assert any("sold by size" in n for n in strand.notes)
    assert strand.metal_weight_g == 0.0 and any("no metal" in n for n in strand.notes)
    assert strand.total_weight_g == pytest.approx(60 * pearl.weight_g_each)


# ---------------------------------------------------------------- thickness


def test_wires_read_their_diameter(facts) -> None:
    wires = {"hoop-round-15mm-yellow-gold": 1.5, "hoop-round-25mm-yellow-gold": 2.0,
             "hoop-round-40mm-yellow-gold": 2.5, "bracelet-bangle-3.5mm-yellow-gold": 3.5,
             "necklace-cable-2.5mm-yellow-gold": 0.5, "pendant-heart-12mm-rose-gold": 0.4,
             "necklace-rope-2.5mm-yellow-gold": 0.17 * 2.5, "necklace-box-1.5mm-silver": 0.11 * 1.5}
    for item_id, wire in wires.items():
        f = facts[item_id]
        assert f.thinnest_metal_mm == pytest.approx(wire, rel=0.10), item_id
        assert f.ok is (wire >= 0.8), item_id
    assert facts["pendant-heart-12mm-rose-gold"].thinnest_part == "link_a"  # the 0.4 mm chain, not the heart
    assert facts["pendant-heart-12mm-rose-gold"].thickness_by_node["pendant_bail"] == pytest.approx(0.55, rel=0.1)
    assert any("machine-made" in n for n in facts["necklace-cable-2.5mm-yellow-gold"].notes)


def test_thin_parts_fail_and_thick_bands_pass(facts, catalog) -> None:
    stud = facts["stud-diamond-5mm-yellow-gold"]
    rail = 2.0 * 0.6 * 0.08 * 5.0  # the basket rails: wire 0.6 x the prong radius (0.08 x the stone)
    assert stud.thinnest_metal_mm == pytest.approx(rail, rel=0.10) and not stud.ok
    assert any("under the 0.8 mm minimum" in n for n in stud.notes)
    for item_id in ("ring-band-2mm-yellow-gold", "ring-band-4mm-yellow-gold", "ring-band-6mm-white-gold"):
        band = facts[item_id]
        assert band.ok and 0.8 <= band.thinnest_metal_mm <= 1.8, item_id  # 1.8 at the crown, 0.81 at the edge
    strict = item_facts(catalog, "ring-band-4mm-yellow-gold", min_wall_mm=2.0)
    assert strict.min_wall_mm == 2.0 and not strict.ok
    assert item_facts(catalog, "ring-band-4mm-yellow-gold", min_wall_mm=0.5).ok
    with pytest.raises(InputError):
        item_facts(catalog, "ring-band-4mm-yellow-gold", min_wall_mm=0.0)


def test_a_sheet_reads_its_thickness(facts) -> None:
    """Flat-shaded faces are sampled at their centres: a 10 x 10 x 0.5 mm plate reads 0.5, not the
    corner-to-corner diagonal its vertices' averaged normals would give."""
    box = trimesh.creation.box([10.0 * MM, 10.0 * MM, 0.5 * MM])
    plate = solids.flat_shaded(np.asarray(box.vertices), np.asarray(box.faces))  # 12 triangles, 36 vertices
    got = scene_facts(_dressed_scene(plate))
    assert got.thinnest_metal_mm == pytest.approx(0.5, rel=1e-3) and not got.ok
    assert got.metal_volume_mm3 == pytest.approx(50.0, rel=1e-9)
    prism = solids.prism(np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]) * MM, 0.0, 1.0 * MM)
    assert scene_facts(_dressed_scene(prism)).thinnest_metal_mm == pytest.approx(1.0, rel=1e-3)
    # The initial pendant is cut from 1.2 mm sheet; the watch's second hand is 0.12 mm.
    assert facts["pendant-initial-12mm-yellow-gold"].thickness_by_node["pendant_letter"] == pytest.approx(1.2, rel=0.02)
    assert facts["watch-round-39mm-yellow-gold"].thickness_by_node["hand_second"] == pytest.approx(0.12, rel=0.02)


def test_inner_surfaces_of_sunk_parts_are_not_walls(facts) -> None:
    """Where one part is sunk into another (the coin's star and raised ring in its field, 0.05 mm deep),
    a ray from the buried surface is no wall: the coin's thinnest is the raised ring round the star,
    2 x 0.04 x the radius wide, not the 0.05 mm sinking."""
    coin = facts["pendant-coin-18mm-yellow-gold"]
    assert coin.thickness_by_node["pendant_coin"] == pytest.approx(2.0 * 0.04 * 9.0, rel=0.05)


def test_ok_is_the_thinnest_against_the_minimum(facts) -> None:
    for f in facts.values():
        if f.thinnest_metal_mm is None:
            assert f.metal_weight_g == 0.0 and f.ok
        else:
            assert f.ok is (f.thinnest_metal_mm >= f.min_wall_mm == 0.8), f.item_id
            assert f.thinnest_metal_mm == min(f.thickness_by_node.values())
            assert f.thickness_by_node[f.thinnest_part] == f.thinnest_metal_mm


# ---------------------------------------------------------------- necklaces


def test_chain_weight_scales_with_length(catalog) -> None:
    at_45 = item_facts(catalog, "necklace-cable-2.5mm-yellow-gold")
    at_50 = item_facts(catalog, "necklace-cable-2.5mm-yellow-gold", length_mm=500.0)
    assert at_45.chain_length_mm == 450.0 and at_50.chain_length_mm == 500.0
    assert at_45.metal_weight_g == pytest.approx(at_50.metal_weight_g * 45.0 / 50.0, rel=1e-9)
    assert at_45.chain_units * at_45.metal_weight_g > 0.0
    assert at_45.chain_units == pytest.approx(450.0 / catalog.get("necklace-cable-2.5mm-yellow-gold").dimensions_mm[
        "pitch"], rel=1e-4)
    # The rope's links cut into the next unit's: that is taken off per unit too, and still scales.
    rope = [item_facts(catalog, "necklace-rope-2.5mm-yellow-gold", length_mm=mm) for mm in (450.0, 550.0)]
    assert rope[0].metal_weight_g == pytest.approx(rope[1].metal_weight_g * 45.0 / 55.0, rel=1e-9)
    with pytest.raises(InputError):
        item_facts(catalog, "ring-band-4mm-yellow-gold", length_mm=500.0)


def test_a_pendant_adds_its_own_metal_to_the_chain(catalog) -> None:
    """Pendant necklace = chain (scales with length) + pendant (does not)."""
    weights = {mm: item_facts(catalog, "pendant-heart-12mm-rose-gold", length_mm=mm).metal_weight_g
               for mm in (400.0, 450.0, 500.0)}
    per_mm = (weights[500.0] - weights[400.0]) / 100.0
    assert weights[450.0] - weights[400.0] == pytest.approx(50.0 * per_mm, rel=1e-9)
    hung = weights[450.0] - 450.0 * per_mm
    alone = scene_facts(necklaces.heart_pendant(width_mm=12.0, metal="rose_gold"))
    assert hung == pytest.approx(alone.metal_weight_g, rel=1e-3)
    assert alone.metal_weight_g > 1.0


# ---------------------------------------------------------------- every item


PLAUSIBLE_G = {  # per piece (one earring), metal and stones together
    "stud": (0.15, 3.0), "hoop": (0.5, 15.0), "drop": (0.2, 5.0), "ring": (1.0, 15.0),
    "bracelet-bangle": (5.0, 60.0), "bracelet": (2.0, 40.0), "watch": (20.0, 200.0),
    "necklace-cable": (1.0, 15.0), "necklace-strand": (10.0, 60.0), "necklace": (2.0, 40.0),
    "pendant": (1.0, 30.0),
}


def _plausible(item_id: str) -> tuple[float, float]:
    return next(v for k, v in PLAUSIBLE_G.items() if item_id.startswith(k))


def test_every_item_has_plausible_facts(catalog, facts) -> None:
    # (How long the whole catalog takes is a speed, not a behaviour: not asserted here.)
    assert list(facts) == [i.id for i in catalog]
    for item in catalog:
        f = facts[item.id]
        lo, hi = _plausible(item.id)
        assert lo <= f.total_weight_g <= hi, (item.id, f.total_weight_g)
        assert f.kind == item.kind and f.metal == item.metal and f.watertight and f.notes
        assert f.total_weight_g == pytest.approx(f.metal_weight_g + f.stone_weight_g)
        if item.id != "necklace-strand-pearl-7mm-silver":  # pearls on silk: no metal modelled
            assert f.metal_volume_mm3 > 0.0 and f.metal_weight_g > 0.0 and f.thinnest_metal_mm > 0.0
            assert f.metal_weight_g == pytest.approx(f.metal_volume_mm3 * metal_density(item.metal) / 1000.0)
            assert f.density_g_cm3 == metal_density(item.metal) and f.alloy == METAL_ALLOYS[item.metal].alloy
        assert (item.stone is None) == (not f.stones), item.id
        for stone in f.stones:
            assert stone.count >= 1 and stone.carat_each > 0.0 and stone.diameter_mm > 0.0
            assert stone.name == item.stone
        json.dumps(f.to_json())
    # A few anchors: a 45 cm cable chain, a pair-of-one stud, a bangle.
    assert 1.0 <= facts["necklace-cable-2.5mm-yellow-gold"].metal_weight_g <= 15.0
    assert 0.3 <= facts["stud-diamond-5mm-yellow-gold"].total_weight_g <= 3.0
    assert 5.0 <= facts["bracelet-bangle-3.5mm-silver"].metal_weight_g <= 60.0
    # Non-metal parts are named, not weighed: the watch's leather strap and lacquer dial.
    watch = facts["watch-round-39mm-yellow-gold"]
    assert any("band_strap (brown_leather)" in n and "case_dial" in n for n in watch.notes)


def test_facts_are_deterministic(catalog, facts) -> None:
    for item_id in ("stud-diamond-5mm-yellow-gold", "bracelet-tennis-diamond-2.75mm-white-gold",
                    "necklace-rope-2.5mm-yellow-gold", "watch-round-39mm-stainless-steel"):
        again = item_facts(catalog, item_id)
        assert again.to_json() == facts[item_id].to_json(), item_id
        assert json.dumps(again.to_json(), sort_keys=True) == json.dumps(facts[item_id].to_json(), sort_keys=True)


def test_to_json_carries_every_number(facts) -> None:
    doc = facts["ring-solitaire-diamond-6.5mm-platinum"].to_json()
    assert doc["item_id"] == "ring-solitaire-diamond-6.5mm-platinum" and doc["metal"] == "platinum"
    assert doc["density_g_cm3"] == 20.1 and doc["min_wall_mm"] == 0.8 and doc["ok"] is False
    (stone,) = doc["stones"]
    assert stone["name"] == "diamond" and stone["count"] == 1 and stone["carat_total"] == stone["carat_each"]
    assert set(doc["thickness_by_node"]) == {"band", "head_setting"}
    assert json.loads(json.dumps(doc)) == doc

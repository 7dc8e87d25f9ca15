"""Lighter variants: a band ring thinned from inside and a heart pendant from the back weigh less, stay
watertight and at least the minimum wall, keep the fit and the front; pieces at the minimum are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh

from tryon.cli import main
from tryon.jewelry.catalog import Catalog
from tryon.jewelry.geometry.units import MM
from tryon.jewelry.lighter import Lighter, front_silhouette, lighter_variant

BAND, HEART, PENDANT = "ring-band-4mm-yellow-gold", "pendant-heart-12mm-rose-gold", "pendant-initial-12mm-yellow-gold"
MIN_WALL = 0.8
# What the variants save (measured 0.69 g / 13.5 %, 1.66 g / 28.9 % and 0.22 g / 6.1 % of the metal, chains
# included): at least this much.
SAVES_G = {BAND: 0.6, HEART: 1.5, PENDANT: 0.18}
SAVES_PCT = {BAND: 12.0, HEART: 25.0, PENDANT: 5.0}
FRONT_IOU = 0.98


@pytest.fixture(scope="module")
def variants(catalog: Catalog) -> dict[str, Lighter]:
    return {i: lighter_variant(catalog, i, min_wall_mm=MIN_WALL) for i in (BAND, HEART)}


def _inner_radius_mm(scene: trimesh.Scene) -> float:
    placed, geom = scene.graph["band"]
    v = trimesh.transform_points(np.asarray(scene.geometry[geom].vertices), np.asarray(placed)) / MM
    return float(np.linalg.norm(v[:, [0, 2]], axis=1).min())


@pytest.mark.parametrize("item_id", [BAND, HEART])
def test_variant_is_lighter_closed_thick_enough_and_cheaper(variants: dict[str, Lighter], item_id: str) -> None:
    v = variants[item_id]
    assert not v.refused, v.refused
    assert v.saved_g is not None and v.saved_g >= SAVES_G[item_id]
    assert v.saved_pct is not None and v.saved_pct >= SAVES_PCT[item_id]
    assert v.thinnest_mm is not None and v.thinnest_mm >= MIN_WALL
    assert v.watertight
    assert v.scene is not None
    for node in v.nodes:
        mesh = v.scene.geometry[v.scene.graph[node][1]].copy()
        mesh.merge_vertices(merge_tex=True, merge_norm=True)  # flat-shaded faces keep their own vertices
        assert mesh.is_watertight
    assert v.price_after is not None and v.price_before is not None and v.price_after < v.price_before
    assert v.price_difference is not None and v.price_difference < 0


@pytest.mark.parametrize("item_id", [BAND, HEART])
def test_front_is_the_same(catalog: Catalog, variants: dict[str, Lighter], item_id: str) -> None:
    before, box = front_silhouette(catalog.load_scene(item_id))
    scene = variants[item_id].scene
    assert scene is not None
    after, _ = front_silhouette(scene, box_mm=box)  # type: ignore[arg-type]
    iou = (before & after).sum() / (before | after).sum()
    assert iou >= FRONT_IOU


def test_ring_keeps_its_fit(catalog: Catalog, variants: dict[str, Lighter]) -> None:
    scene = variants[BAND].scene
    assert scene is not None
    assert _inner_radius_mm(scene) == pytest.approx(_inner_radius_mm(catalog.load_scene(BAND)), abs=1e-6)
    assert _inner_radius_mm(scene) * 2.0 == pytest.approx(catalog.get(BAND).dimensions_mm["inner_diameter"], abs=0.02)


@pytest.mark.parametrize(("item_id", "reason"), [
    ("ring-eternity-diamond-2mm-platinum", "already at the minimum wall: band is 0.45 mm"),
    ("stud-diamond-5mm-yellow-gold", "only rings and pendants"),
])
def test_refused_with_the_reason(catalog: Catalog, item_id: str, reason: str) -> None:
    v = lighter_variant(catalog, item_id, min_wall_mm=MIN_WALL)
    assert reason in v.refused
    assert v.grams_after is None and v.scene is None


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "facts", "--lighter", "--item", PENDANT, "--item", "ring-eternity-diamond-2mm-platinum",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["item_id"] for o in out] == [PENDANT, "ring-eternity-diamond-2mm-platinum"]
    lighter, refused = out
    assert lighter["lighter"] and lighter["refused"] is None
    assert lighter["grams_after"] < lighter["grams_before"] and lighter["saved_g"] >= SAVES_G[PENDANT]
    assert lighter["thinnest_mm"] >= MIN_WALL and lighter["price_difference"] < 0
    assert not refused["lighter"] and "minimum wall" in refused["refused"] and refused["grams_after"] is None

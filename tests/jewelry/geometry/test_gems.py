"""Gem cuts (flat-shaded, closed, with true proportions) and the prong basket that holds a brilliant."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import merged

from tryon.jewelry.geometry.gems import BrilliantCut, brilliant, pear_radius, prong_head, single_cut
from tryon.jewelry.geometry.units import MM

TOL_M = 1e-6  # 1 um: exact constructions, only float noise


def test_round_brilliant_has_57_facets_and_true_proportions() -> None:
    stone = brilliant(5.0)
    assert len(stone.faces) == 110
    normals = np.round(stone.face_normals, 6)
    # 57 facets (pointed culet) + 16 girdle segments; each planar facet has one normal.
    assert len(np.unique(normals, axis=0)) == 57 + 16
    cut = BrilliantCut()
    lo, hi = stone.bounds
    np.testing.assert_allclose(hi[:2] - lo[:2], [5 * MM, 5 * MM], atol=TOL_M)
    girdle = cut.girdle * 5 * MM
    assert hi[2] == pytest.approx(girdle / 2 + cut.crown_height(5 * MM), abs=TOL_M)
    assert lo[2] == pytest.approx(-girdle / 2 - cut.pavilion_depth(5 * MM), abs=TOL_M)
    # Tolkowsky: total depth about 59 % of the diameter.
    assert (hi[2] - lo[2]) / (5 * MM) == pytest.approx(0.59, abs=0.02)


def test_brilliant_is_flat_shaded_and_closed() -> None:
    stone = brilliant(4.0)
    assert len(stone.vertices) == 3 * len(stone.faces), "one vertex per triangle corner"
    np.testing.assert_allclose(stone.vertex_normals[stone.faces[:, 0]], stone.face_normals, atol=1e-9)
    solid = merged(stone)
    assert solid.is_watertight and solid.is_winding_consistent
    assert solid.volume > 0, "outward winding"


def test_pear_brilliant_outline() -> None:
    stone = merged(brilliant(5.0, 8.0))
    assert stone.is_watertight and stone.volume > 0
    lo, hi = stone.bounds
    assert hi[0] - lo[0] == pytest.approx(5 * MM, abs=TOL_M)
    assert hi[1] - lo[1] == pytest.approx(8 * MM, abs=TOL_M)
    assert hi[1] == pytest.approx(5.5 * MM, abs=TOL_M), "point at +y, circle part centred on the origin"


def test_pear_radius_is_a_circle_below_and_comes_to_a_point_above() -> None:
    below = np.linspace(math.pi + 0.01, 2.0 * math.pi - 0.01, 50)
    np.testing.assert_allclose(pear_radius(below, 1.6), 1.0)
    np.testing.assert_allclose(pear_radius(np.array([0.0, math.pi / 2.0, math.pi]), 1.6), [1.0, 2.2, 1.0],
                               atol=1e-9)  # the point at k = 2 L / W - 1


def test_single_cut_has_17_facets_and_is_flat_shaded_and_closed() -> None:
    stone = single_cut(2.0)
    assert len(stone.faces) == 46
    assert len(np.unique(np.round(stone.face_normals, 6), axis=0)) == 17 + 8  # facets and girdle segments
    np.testing.assert_allclose(stone.vertex_normals[stone.faces[:, 0]], stone.face_normals, atol=1e-9)
    solid = merged(stone)
    assert solid.is_watertight and solid.volume > 0.0
    # Girdle corners on the circle of the diameter; flats face +-x and +-y; table up.
    assert np.linalg.norm(stone.vertices[:, :2], axis=1).max() == pytest.approx(1.0 * MM, abs=TOL_M)
    lo, hi = stone.bounds
    assert hi[0] - lo[0] == pytest.approx(2.0 * MM * math.cos(math.radians(22.5)), abs=TOL_M)
    top = stone.face_normals[:, 2].argmax()
    np.testing.assert_allclose(stone.face_normals[top], [0.0, 0.0, 1.0], atol=1e-9)


@pytest.mark.parametrize("count", [4, 6])
def test_prong_head_seats_the_stone_and_reaches_over_its_crown(count: int) -> None:
    d, seat = 6.5 * MM, 10.0 * MM
    parts, stone, z_girdle = prong_head(d, seat, count)
    assert len(parts) == 1 + 2 * count + 1  # gallery, two capsules a claw, rail
    cut = BrilliantCut()
    lo, hi = stone.bounds
    assert lo[2] == pytest.approx(seat + 0.3 * MM, abs=TOL_M), "culet 0.3 mm above the seat"
    assert z_girdle == pytest.approx(seat + 0.3 * MM + cut.girdle * d / 2 + cut.pavilion_depth(d), abs=1e-12)
    np.testing.assert_allclose((hi[:2] + lo[:2]) / 2, [0.0, 0.0], atol=TOL_M)
    tops = [p.bounds[1, 2] for p in parts]
    assert max(tops) > z_girdle + cut.girdle * d / 2 + 0.3 * cut.crown_height(d), "claws over the crown"
    assert min(p.bounds[0, 2] for p in parts) < seat + 0.1 * MM, "the gallery sits on the seat"
    for part in parts:
        assert merged(part).is_watertight

"""Cross-sections: points and outward unit normals, with the sizes and areas they are built to."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tryon.jewelry.geometry.profiles import offset_convex, rect_section, round_profile, rounded_polygon


def area(pts: np.ndarray) -> float:
    x, y = pts[:, 0], pts[:, 1]
    return float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) / 2.0


def assert_outward_unit_normals(pts: np.ndarray, normals: np.ndarray) -> None:
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-12)
    centre = pts.mean(axis=0)
    assert (np.einsum("ij,ij->i", normals, pts - centre) > 0.0).all()


def test_round_profile_lies_on_its_circle() -> None:
    pts, normals = round_profile(0.5, 8)
    assert pts.shape == normals.shape == (8, 2)
    np.testing.assert_allclose(pts, 0.5 * normals, atol=1e-15)
    np.testing.assert_allclose(pts[0], [0.5, 0.0])
    assert area(pts) == pytest.approx(8 / 2 * 0.25 * math.sin(math.pi / 4), rel=1e-12)


def test_rounded_polygon_cuts_each_corner_by_its_arc() -> None:
    corners = np.array([[1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0]])
    pts, normals = rounded_polygon(corners, [0.5] * 4, [200] * 4)
    assert pts.shape == (800, 2)
    assert_outward_unit_normals(pts, normals)
    np.testing.assert_allclose(pts.max(axis=0) - pts.min(axis=0), [2.0, 2.0], atol=1e-12)
    # A square of side 2 with its corners rounded by r: 4 - (4 - pi) r^2.
    assert area(pts) == pytest.approx(4.0 - (4.0 - math.pi) * 0.25, rel=1e-4)


def test_rect_section_spans_its_rectangle() -> None:
    pts, normals = rect_section(-0.2, 0.3, 1.0, 2.0, 0.05, 3)
    assert pts.shape == (12, 2)
    assert_outward_unit_normals(pts, normals)
    np.testing.assert_allclose([pts[:, 0].min(), pts[:, 0].max(), pts[:, 1].min(), pts[:, 1].max()],
                               [-0.2, 0.3, 1.0, 2.0], atol=1e-12)


def test_offset_convex_grows_the_core_by_its_radius() -> None:
    core = np.array([[1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0]])
    pts, normals = offset_convex(core, 0.25, {0, 1, 2, 3}, 300)
    assert_outward_unit_normals(pts, normals)
    np.testing.assert_allclose(pts.max(axis=0) - pts.min(axis=0), [2.5, 2.5], atol=1e-12)
    # Minkowski sum of a square (side s) and a disc (r): s^2 + 4 s r + pi r^2.
    assert area(pts) == pytest.approx(4.0 + 4 * 2.0 * 0.25 + math.pi * 0.0625, rel=1e-4)
    smooth, _ = offset_convex(core, 0.25, set())  # no arcs: one point a vertex, along the mean normal
    np.testing.assert_allclose(np.linalg.norm(smooth - core, axis=1), 0.25, atol=1e-12)

"""2D outlines: circles, stadiums, arc-length resampling, an ellipse's parallel curve, triangulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ellipe

from tryon.jewelry.geometry.outlines import (
    circle,
    drop_collinear,
    ellipse_offset,
    ellipse_perimeter,
    resample,
    stadium,
    triangulate,
)


def signed_area(pts: np.ndarray) -> float:
    """Shoelace area (n, 2): positive for a counter-clockwise polygon."""
    x, y = pts[:, 0], pts[:, 1]
    return float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) / 2.0


def triangles_area(pts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    return ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])) / 2.0


def test_circle_is_a_counter_clockwise_regular_polygon_on_the_circle() -> None:
    pts = circle(2.0, 12)
    assert pts.shape == (12, 2)
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 2.0, atol=1e-12)
    np.testing.assert_allclose(pts[0], [2.0, 0.0], atol=1e-12)
    # A regular 12-gon of circumradius r: area 12 / 2 r^2 sin(30 degrees) = 3 r^2.
    assert signed_area(pts) == pytest.approx(3.0 * 2.0**2, rel=1e-12)


def test_stadium_has_its_length_width_and_area() -> None:
    pts = stadium(10.0, 4.0, 401)  # odd: each end's tip is a sample
    assert pts.shape == (802, 2)
    np.testing.assert_allclose(pts.max(axis=0) - pts.min(axis=0), [10.0, 4.0], atol=1e-12)
    assert signed_area(pts) == pytest.approx(6.0 * 4.0 + math.pi * 2.0**2, rel=1e-4)


def test_resample_spaces_points_evenly_by_arc_length() -> None:
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    closed = resample(square, 8, closed=True)
    assert closed.shape == (8, 2)
    gaps = np.linalg.norm(np.diff(np.concatenate([closed, closed[:1]]), axis=0), axis=1)
    np.testing.assert_allclose(gaps, 0.5, atol=1e-12)
    np.testing.assert_allclose(closed[0], [0.0, 0.0])
    line = resample(np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 1.0]]), 5, closed=False)
    np.testing.assert_allclose(line[[0, -1]], [[0.0, 0.0], [3.0, 1.0]], atol=1e-12)  # both ends kept
    np.testing.assert_allclose(np.linalg.norm(np.diff(line, axis=0), axis=1), 1.0, atol=1e-12)


def test_ellipse_offset_is_the_parallel_curve_with_outward_normals() -> None:
    pts, normals = ellipse_offset(1.0, 1.0, 0.5, 64)  # of a circle: the circle of radius 1.5
    assert pts.shape == normals.shape == (64, 2)
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 1.5, atol=1e-5)
    np.testing.assert_allclose(pts[0], [0.0, 1.5], atol=1e-12)  # starts at the top
    np.testing.assert_allclose(np.einsum("ij,ij->i", normals, pts / 1.5), 1.0, atol=1e-3)
    assert signed_area(pts) > 0.0
    # An ellipse's parallel curve stays `offset` from the ellipse everywhere (a scaled ellipse would not).
    ellipse = np.stack([np.cos(t := np.linspace(0.0, 2.0 * math.pi, 20000)) * 3.0, np.sin(t) * 2.0], axis=1)
    curve, _ = ellipse_offset(3.0, 2.0, 0.4, 90)
    gap = np.min(np.linalg.norm(curve[:, None, :] - ellipse[None, :, :], axis=2), axis=1)
    np.testing.assert_allclose(gap, 0.4, atol=2e-4)


def test_ellipse_perimeter_against_the_elliptic_integral() -> None:
    assert ellipse_perimeter(2.0, 2.0) == pytest.approx(4.0 * math.pi, rel=1e-15)
    exact = 4.0 * 28.0 * ellipe(1.0 - (20.0 / 28.0) ** 2)  # a 56 x 40 mm wrist
    assert ellipse_perimeter(28.0, 20.0) == pytest.approx(exact, rel=3e-6)


def test_drop_collinear_keeps_only_the_corners() -> None:
    square = np.array([[0, 0], [2, 0], [4, 0], [4, 2], [4, 4], [2, 4], [0, 4], [0, 2]], float)
    np.testing.assert_array_equal(drop_collinear(square), [[0, 0], [4, 0], [4, 4], [0, 4]])


def test_a_triangulated_square_has_its_area() -> None:
    square = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    pts, tris = triangulate(square, [])
    assert tris.shape == (2, 3) and tris.dtype == np.int64
    areas = triangles_area(pts, tris)
    assert (areas > 0.0).all(), "counter-clockwise triangles"
    assert areas.sum() == pytest.approx(1.0, rel=1e-12)


def test_a_square_with_a_hole_triangulates_to_the_area_between() -> None:
    outer = np.array([[0, 0], [8, 0], [8, 8], [0, 8]], float)
    hole = np.array([[2, 2], [2, 6], [6, 6], [6, 2]], float)  # clockwise
    notch = np.array([[0, 0], [8, 0], [8, 8], [4, 3], [0, 8]], float)  # not convex
    pts, tris = triangulate(outer, [hole])
    assert len(pts) == 8 and len(tris) == 8 + 2 * 1 - 2
    areas = triangles_area(pts, tris)
    assert (areas > 0.0).all() and areas.sum() == pytest.approx(64.0 - 16.0, rel=1e-12)
    pts, tris = triangulate(notch, [])
    assert len(tris) == 3 and triangles_area(pts, tris).sum() == pytest.approx(signed_area(notch), rel=1e-12)
    with pytest.raises(ValueError, match="hole outside"):
        triangulate(outer, [hole + 20.0])

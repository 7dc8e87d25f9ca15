"""Solids: closed meshes with their stated sizes and volumes, normals kept through moves and joins."""

from __future__ import annotations

import math

import numpy as np
import pytest
import trimesh
from conftest import merged

from tryon.jewelry.geometry.solids import bead, capsule, ellipsoid, extrude, flat_shaded, join, placed, prism, rod

SQUARE = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])


def assert_closed(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    solid = merged(mesh)
    assert solid.is_watertight and solid.is_winding_consistent and solid.volume > 0.0
    return solid


def test_flat_shaded_gives_each_triangle_its_own_vertices_and_normal() -> None:
    box = trimesh.creation.box([1.0, 2.0, 3.0])
    mesh = flat_shaded(np.asarray(box.vertices), np.asarray(box.faces))
    assert len(mesh.vertices) == 3 * len(mesh.faces) == 36
    np.testing.assert_allclose(mesh.vertex_normals[mesh.faces[:, 0]], mesh.face_normals, atol=1e-12)
    assert assert_closed(mesh).volume == pytest.approx(6.0, rel=1e-12)


def test_join_concatenates_and_moves_keeping_normals() -> None:
    a, b = bead(np.zeros(3), 1.0), bead(np.array([5.0, 0.0, 0.0]), 1.0)
    shift = trimesh.transformations.translation_matrix([0.0, 0.0, 2.0])
    both = join([a, b], shift)
    assert len(both.vertices) == 24 and len(both.faces) == 40
    np.testing.assert_allclose(both.vertices[:12], a.vertices + [0.0, 0.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(both.vertex_normals[12:], b.vertex_normals, atol=1e-12)


def test_placed_moves_a_copy_and_turns_its_normals() -> None:
    mesh = bead(np.zeros(3), np.array([1.0, 2.0, 3.0]))
    before = mesh.vertices.copy()
    turn = trimesh.transformations.rotation_matrix(math.pi / 2.0, [0.0, 0.0, 1.0])
    turn[:3, 3] = [1.0, 0.0, 0.0]
    moved = placed(mesh, turn)
    np.testing.assert_allclose(moved.vertices, mesh.vertices @ turn[:3, :3].T + [1.0, 0.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(moved.vertex_normals, mesh.vertex_normals @ turn[:3, :3].T, atol=1e-12)
    np.testing.assert_array_equal(mesh.vertices, before)  # the original stays where it was


def test_capsule_runs_between_its_end_centres() -> None:
    p0, p1, r = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 13.0]), 1.5
    rod_ = capsule(p0, p1, r)
    solid = assert_closed(rod_)
    lo, hi = rod_.bounds
    np.testing.assert_allclose([lo[2], hi[2]], [3.0 - r, 13.0 + r], atol=1e-9)
    # Its vertices lie on the round capsule (distance r from the axis segment), 8 round: it holds more than
    # its octagonal middle alone (L x 2 sqrt(2) r^2) and less than the round capsule, pi r^2 L + 4/3 pi r^3.
    nearest = np.column_stack([np.full(len(rod_.vertices), 1.0), np.full(len(rod_.vertices), 2.0),
                               np.clip(rod_.vertices[:, 2], 3.0, 13.0)])  # on the axis segment
    np.testing.assert_allclose(np.linalg.norm(rod_.vertices - nearest, axis=1), r, atol=1e-9)
    assert 10.0 * 2.0 * math.sqrt(2.0) * r**2 < solid.volume < math.pi * r**2 * 10.0 + 4.0 / 3.0 * math.pi * r**3


def test_ellipsoid_and_bead_have_their_half_axes() -> None:
    radii = np.array([1.0, 2.0, 3.0])
    blob = ellipsoid(np.array([1.0, 1.0, 1.0]), radii)
    np.testing.assert_allclose(blob.bounds, [1.0 - radii, 1.0 + radii], atol=1e-9)
    # Vertices on the ellipsoid, faces inside it: 3.4 % short of 4/3 pi abc at 320 triangles.
    assert assert_closed(blob).volume == pytest.approx(4.0 / 3.0 * math.pi * 6.0, rel=0.04)
    assert blob.volume < 4.0 / 3.0 * math.pi * 6.0
    ball = bead(np.array([0.0, 0.0, 1.0]), 0.5)
    assert len(ball.faces) == 20
    np.testing.assert_allclose(np.linalg.norm(ball.vertices - [0.0, 0.0, 1.0], axis=1), 0.5, atol=1e-12)
    np.testing.assert_allclose(ball.vertex_normals, (ball.vertices - [0.0, 0.0, 1.0]) / 0.5, atol=1e-12)


def test_prism_is_its_outline_times_its_height_either_winding() -> None:
    for outline in (SQUARE, SQUARE[::-1]):
        for smooth in (False, True):
            box = prism(outline * 2.0, 1.0, 1.5, smooth_sides=smooth)
            assert assert_closed(box).volume == pytest.approx(4.0 * 0.5, rel=1e-12)
            np.testing.assert_allclose(box.bounds, [[0.0, 0.0, 1.0], [2.0, 2.0, 1.5]], atol=1e-12)


def test_rod_is_a_hexagon_drawn_from_end_to_end() -> None:
    p0, p1 = np.array([0.0, 0.0, 0.0]), np.array([3.0, 4.0, 0.0])
    bar = rod(p0, p1, 0.5)
    # A regular hexagon of circumradius r: 3 sqrt(3) / 2 r^2.
    assert assert_closed(bar).volume == pytest.approx(1.5 * math.sqrt(3.0) * 0.25 * 5.0, rel=1e-9)
    along = (bar.vertices - p0) @ np.array([0.6, 0.8, 0.0])
    np.testing.assert_allclose([along.min(), along.max()], [0.0, 5.0], atol=1e-9)


def test_extrude_cuts_the_holes_through() -> None:
    outer = np.array([[0, 0], [8, 0], [8, 8], [0, 8]], float)
    hole = np.array([[2, 2], [2, 6], [6, 6], [6, 2]], float)
    plate = extrude([(outer, [hole])], 0.5, np.array([-4.0, -4.0]), 0.0, 0.25)
    solid = assert_closed(plate)
    assert solid.volume == pytest.approx((64.0 - 16.0) * 0.25 * 0.25, rel=1e-12)
    np.testing.assert_allclose(plate.bounds, [[-2.0, -2.0, 0.0], [2.0, 2.0, 0.25]], atol=1e-12)
    assert len(solid.split(only_watertight=False)) == 1

"""Ray casting: distances to a unit sphere and a box, leaving a union of shells, points inside a shell."""

from __future__ import annotations

import math

import numpy as np
import trimesh

from tryon.jewelry.geometry.raycast import exit_distances, points_inside, ray_events

SPHERE = trimesh.creation.icosphere(subdivisions=5, radius=1.0)  # faces within 3e-4 of the unit sphere
BOX = trimesh.creation.box([1.0, 1.0, 1.0])  # -0.5..0.5 on every axis


def triangles(mesh: trimesh.Trimesh) -> np.ndarray:
    return np.asarray(mesh.vertices)[np.asarray(mesh.faces)]


def test_a_ray_hits_a_unit_sphere_at_distance_one() -> None:
    tris = triangles(SPHERE)
    # Through the centre in generic directions (not through the mesh's vertices); the last one misses.
    dirs = np.array([[0.3, -0.2, 0.93], [-0.8, 0.35, 0.1], [0.3, -0.2, 0.93]])
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    origins = -np.array([2.0, 3.0, 2.0])[:, None] * dirs
    origins[2] += 1.5 * np.cross(dirs[2], [0.0, 0.0, 1.0]) / np.linalg.norm(np.cross(dirs[2], [0.0, 0.0, 1.0]))
    ray, dist, sign, owner = ray_events(origins, dirs, tris, np.zeros(len(tris), np.int64), forward_only=True)
    assert ray.tolist() == [0, 0, 1, 1] and owner.tolist() == [0, 0, 0, 0]
    np.testing.assert_allclose(dist, [1.0, 3.0, 2.0, 4.0], atol=1e-3)
    assert sign.tolist() == [1, -1, 1, -1], "enter, then leave"


def test_ray_events_on_a_box_are_exact_and_whole_lines_look_back() -> None:
    tris = triangles(BOX)
    origin, along = np.array([[0.0, 0.1, 0.2]]), np.array([[1.0, 0.0, 0.0]])
    ray, dist, sign, _ = ray_events(origin - [2.0, 0.0, 0.0], along, tris, np.zeros(12, np.int64), True)
    np.testing.assert_allclose(dist, [1.5, 2.5], atol=1e-12)
    _, dist, sign, _ = ray_events(origin, along, tris, np.zeros(12, np.int64), forward_only=False)
    np.testing.assert_allclose(dist, [-0.5, 0.5], atol=1e-12)
    assert sign.tolist() == [1, -1]


def test_exit_distances_from_the_centre_of_a_unit_sphere_are_one() -> None:
    rng = np.random.default_rng(3)
    dirs = rng.normal(size=(200, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    t = exit_distances(np.zeros((200, 3)), dirs, triangles(SPHERE), np.zeros((0, 3, 3)))
    assert t.shape == (200,)
    np.testing.assert_allclose(t, 1.0, atol=3e-4)


def test_exit_distances_leave_the_union_and_refuse_starts_inside_another_shell() -> None:
    own = triangles(BOX)
    other = triangles(BOX.copy().apply_translation([0.8, 0.0, 0.0]))  # overlaps x 0.3..0.5
    origins = np.array([[0.0, 0.1, 0.2], [0.0, 0.1, 0.2], [0.4, 0.1, 0.2]])
    dirs = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    t = exit_distances(origins, dirs, own, other)
    np.testing.assert_allclose(t[:2], [1.3, 0.5], atol=1e-12)  # out through the other box; straight out
    assert math.isnan(t[2]), "starts inside both"


def test_points_inside_a_sphere_and_a_box() -> None:
    points = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.99, 0.0, 0.0], [1.01, 0.0, 0.0], [0.0, 0.0, -3.0]])
    assert points_inside(points, triangles(SPHERE)).tolist() == [True, True, True, False, False]
    assert points_inside(points, triangles(BOX)).tolist() == [True, False, False, False, False]
    assert points_inside(np.zeros((0, 3)), triangles(BOX)).shape == (0,)

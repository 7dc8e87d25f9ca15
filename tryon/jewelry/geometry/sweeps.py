"""A cross-section swept along a path into a tube. Metres.

The "sweep frame": the path (n, 2) lies in the z = 0 plane; a :data:`~tryon.jewelry.geometry.profiles.Profile`
point (u, v) is placed u along the path's outward normal (the right-hand side of a counter-clockwise path) and
v along +z. :data:`SWEEP_TO_Y_AXIS` turns the sweep frame so that a path round the origin goes round the y axis
(a finger's or a forearm's).
"""

from __future__ import annotations

import math

import numpy as np
import trimesh

from tryon.jewelry.geometry.profiles import Profile
from tryon.jewelry.geometry.solids import join
from tryon.jewelry.geometry.units import FloatArray

__all__ = ["SWEEP_TO_Y_AXIS", "loft", "sweep", "sweep_open"]

# +90 degrees about x: the path's plane (sweep x-y) -> x-z, sweep y -> +z, and the sweep's z (a profile's v,
# across the band) -> -y.
SWEEP_TO_Y_AXIS = trimesh.transformations.rotation_matrix(math.pi / 2.0, [1.0, 0.0, 0.0])


def sweep(path: FloatArray, profile: Profile) -> trimesh.Trimesh:
    """Sweep a closed cross-section along a closed counter-clockwise path in the z = 0 plane.

    path: (n, 2) points; profile: (m, 2) points (u along the path's outward normal, v along +z) and their
    (m, 2) normals. Returns a watertight tube of n m vertices and 2 n m triangles, wound outward, with the
    profile's analytic normals.
    """
    uv, nuv = profile
    n, m = len(path), len(uv)
    tangent = np.roll(path, -1, axis=0) - np.roll(path, 1, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    out = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)  # right of a counter-clockwise path = outward
    xy = path[:, None, :] + uv[None, :, 0, None] * out[:, None, :]
    z = np.broadcast_to(uv[None, :, 1, None], (n, m, 1))
    verts = np.concatenate([xy, z], axis=2).reshape(-1, 3)
    nxy = nuv[None, :, 0, None] * out[:, None, :]
    nz = np.broadcast_to(nuv[None, :, 1, None], (n, m, 1))
    normals = np.concatenate([nxy, nz], axis=2).reshape(-1, 3)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    a, b = i * m + j, i * m + (j + 1) % m
    c, d = (i + 1) % n * m + j, (i + 1) % n * m + (j + 1) % m
    faces = np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3), np.stack([a, d, b], -1).reshape(-1, 3)])
    mesh = trimesh.Trimesh(verts, faces, vertex_normals=normals, process=False)
    if mesh.volume < 0.0:
        mesh = trimesh.Trimesh(verts, faces[:, ::-1], vertex_normals=normals, process=False)
    return mesh


def sweep_open(path: FloatArray, profile: Profile) -> trimesh.Trimesh:
    """Sweep a closed cross-section along an OPEN path (n, 2) in the z = 0 plane, capped flat at both ends.

    Like :func:`sweep` (u along the path's right-hand normal, v along +z); the caps have their own vertices
    (flat normals), so the tube is closed once merged by position. 2 (n - 1) m + 2 m triangles.
    """
    uv, nuv = profile
    n, m = len(path), len(uv)
    tangent = np.gradient(path, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    out = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    xy = path[:, None, :] + uv[None, :, 0, None] * out[:, None, :]
    verts = np.concatenate([xy, np.broadcast_to(uv[None, :, 1, None], (n, m, 1))], axis=2).reshape(-1, 3)
    nxy = nuv[None, :, 0, None] * out[:, None, :]
    normals = np.concatenate([nxy, np.broadcast_to(nuv[None, :, 1, None], (n, m, 1))], axis=2).reshape(-1, 3)
    i, j = np.meshgrid(np.arange(n - 1), np.arange(m), indexing="ij")
    a, b = i * m + j, i * m + (j + 1) % m
    c, d = (i + 1) * m + j, (i + 1) * m + (j + 1) % m
    faces = np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3), np.stack([a, d, b], -1).reshape(-1, 3)])
    parts = [trimesh.Trimesh(verts, faces, vertex_normals=normals, process=False)]
    for end, sign in ((0, -1.0), (n - 1, 1.0)):
        ring = verts[end * m : (end + 1) * m]
        cap_v = np.concatenate([ring, ring.mean(axis=0, keepdims=True)])
        fan = np.array([[k, (k + 1) % m, m] for k in range(m)])
        cap_n = np.tile([*(sign * tangent[end]), 0.0], (m + 1, 1))
        parts.append(trimesh.Trimesh(cap_v, fan, vertex_normals=cap_n, process=False))
    mesh = join(parts)
    # Wind every triangle to agree with the normals it carries (they are known to point outward).
    tri = mesh.vertices[mesh.faces]
    facing = np.einsum("ij,ij->i", np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]),
                       mesh.vertex_normals[mesh.faces].sum(axis=1))
    faces = np.where((facing < 0.0)[:, None], mesh.faces[:, ::-1], mesh.faces)
    return trimesh.Trimesh(mesh.vertices, faces, vertex_normals=mesh.vertex_normals, process=False)


def loft(path: FloatArray, sections: list[Profile]) -> trimesh.Trimesh:
    """Like :func:`sweep`, but with its own cross-section at each path point.

    path: (n, 2) closed counter-clockwise; sections: n Profiles with the same point count m. Normals come
    from the surface itself (central differences along and across the path), so a section that grows
    along the path shades as the slope it makes.
    """
    n = len(path)
    tangent = np.roll(path, -1, axis=0) - np.roll(path, 1, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    out = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    uv = np.stack([s[0] for s in sections])  # (n, m, 2)
    nuv = np.stack([s[1] for s in sections])
    m = uv.shape[1]
    xy = path[:, None, :] + uv[:, :, 0, None] * out[:, None, :]
    grid = np.concatenate([xy, uv[:, :, 1, None]], axis=2)  # (n, m, 3)
    along = np.roll(grid, -1, axis=0) - np.roll(grid, 1, axis=0)
    # Across: the section's own normal is exact there (rounded corners); turn it into a surface tangent.
    across = np.concatenate([-nuv[:, :, 1, None] * out[:, None, :], nuv[:, :, 0, None]], axis=2)
    normals = np.cross(along, across)
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    a, b = i * m + j, i * m + (j + 1) % m
    c, d = (i + 1) % n * m + j, (i + 1) % n * m + (j + 1) % m
    faces = np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3), np.stack([a, d, b], -1).reshape(-1, 3)])
    verts, normals = grid.reshape(-1, 3), normals.reshape(-1, 3)
    mesh = trimesh.Trimesh(verts, faces, vertex_normals=normals, process=False)
    if mesh.volume < 0.0:
        mesh = trimesh.Trimesh(verts, faces[:, ::-1], vertex_normals=normals, process=False)
    return mesh

"""Closed meshes: primitives, extruded outlines, and moving and joining parts. Metres.

Meshes are built with ``process=False`` and carry their own vertex normals (analytic where the surface is
smooth); a part whose faces must shade flat has its own vertices per face (:func:`flat_shaded`), so every
part here is closed once its vertices are merged by position.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh
from numpy.typing import NDArray

from tryon.jewelry.geometry.outlines import circle, triangulate
from tryon.jewelry.geometry.units import MM, FloatArray

__all__ = ["bead", "capsule", "ellipsoid", "extrude", "flat_shaded", "join", "placed", "prism", "rod"]


def flat_shaded(verts: FloatArray, tris: NDArray[np.int64]) -> trimesh.Trimesh:
    """A mesh of the triangles ``tris`` (t, 3) over ``verts`` (n, 3) with 3 vertices of its own per
    triangle (3 t vertices), each carrying the triangle's normal: every face shades flat."""
    flat = verts[tris].reshape(-1, 3)
    faces = np.arange(len(flat)).reshape(-1, 3)
    # Explicit per-corner facet normals go into the GLB, so a loader that merges vertices (trimesh's
    # default process=True) still keeps corners with different normals apart and the facets flat.
    normals = trimesh.triangles.normals(flat.reshape(-1, 3, 3))[0]
    return trimesh.Trimesh(flat, faces, vertex_normals=np.repeat(normals, 3, axis=0), process=False)


def join(parts: list[trimesh.Trimesh], transform: FloatArray | None = None) -> trimesh.Trimesh:
    """Concatenate parts into one mesh (vertices not merged), keeping each part's vertex normals; then
    apply ``transform`` (4, 4) if given."""
    verts, faces, normals, offset = [], [], [], 0
    for p in parts:
        verts.append(p.vertices)
        faces.append(p.faces + offset)
        normals.append(p.vertex_normals)
        offset += len(p.vertices)
    mesh = trimesh.Trimesh(
        np.concatenate(verts), np.concatenate(faces), vertex_normals=np.concatenate(normals), process=False
    )
    if transform is not None:
        mesh.apply_transform(transform)
    return mesh


def placed(mesh: trimesh.Trimesh, transform: NDArray[np.float64]) -> trimesh.Trimesh:
    """A copy of ``mesh`` moved by the rigid ``transform`` (4, 4), normals turned with it
    (``Trimesh.copy`` then ``apply_transform`` would drop them)."""
    rotation = transform[:3, :3]
    return trimesh.Trimesh(mesh.vertices @ rotation.T + transform[:3, 3], mesh.faces,
                           vertex_normals=mesh.vertex_normals @ rotation.T, process=False)


def capsule(p0: FloatArray, p1: FloatArray, radius: float) -> trimesh.Trimesh:
    """A rod with hemispherical ends whose axis runs from p0 to p1 (3,): the ends' centres (metres)."""
    axis = np.asarray(p1, float) - np.asarray(p0, float)
    # Built in millimetres: at metre scale trimesh's merge tolerance collapses the pole caps.
    rod = trimesh.creation.capsule(height=float(np.linalg.norm(axis)) / MM, radius=radius / MM, count=[8, 5])
    rod.apply_scale(MM)
    rod.apply_translation(-rod.bounds.mean(axis=0))  # trimesh versions differ on where the capsule starts
    rod.apply_transform(trimesh.geometry.align_vectors([0.0, 0.0, 1.0], axis))
    rod.apply_translation((np.asarray(p0) + np.asarray(p1)) / 2.0)
    return rod


def ellipsoid(centre: FloatArray, radii: FloatArray) -> trimesh.Trimesh:
    """An ellipsoid with half axes ``radii`` (3,) along x, y, z about ``centre`` (3,): a twice-subdivided
    icosphere (320 triangles), scaled."""
    blob = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    blob.apply_scale(radii)
    blob.apply_translation(centre)
    return blob


def bead(centre: FloatArray, radius: float | FloatArray) -> trimesh.Trimesh:
    """A 20-triangle ball about ``centre`` (3,) (or ellipsoid: ``radius`` (3,)) with analytic normals: a grain
    or prong tip too small to need more. Its vertices lie on the sphere, its faces inside it."""
    ball = trimesh.creation.icosahedron()
    unit = ball.vertices / np.linalg.norm(ball.vertices, axis=1, keepdims=True)
    radii = np.broadcast_to(np.asarray(radius, float), (3,))
    normals = unit / radii  # an ellipsoid's normals: the inverse scale of the sphere's
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return trimesh.Trimesh(unit * radii + centre, ball.faces, vertex_normals=normals, process=False)


def prism(outline: FloatArray, z0: float, z1: float, smooth_sides: bool = False) -> trimesh.Trimesh:
    """A convex outline (k, 2) in the x-y plane extruded from z0 to z1: flat top and bottom (fans from the
    outline's mean point), flat or smooth sides. Either winding of the outline (metres).

    Every face group has its own vertices, so normals are exact; merged by position it is closed.
    """
    outline = np.asarray(outline, float)
    x, y = outline[:, 0], outline[:, 1]
    if np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) < 0.0:  # make it counter-clockwise
        outline = outline[::-1]
    k = len(outline)
    lo, hi = np.column_stack([outline, np.full(k, z0)]), np.column_stack([outline, np.full(k, z1)])
    centre = outline.mean(axis=0)
    parts = []
    for ring, z, sign in ((hi, z1, 1.0), (lo, z0, -1.0)):
        fan = np.array([[i, (i + 1) % k, k] for i in range(k)])
        cap_v = np.concatenate([ring, [[centre[0], centre[1], z]]])
        parts.append(trimesh.Trimesh(cap_v, fan if sign > 0 else fan[:, ::-1],
                                     vertex_normals=np.tile([0.0, 0.0, sign], (k + 1, 1)), process=False))
    edge = np.roll(outline, -1, axis=0) - outline
    edge_n = np.stack([edge[:, 1], -edge[:, 0]], axis=1)
    edge_n /= np.linalg.norm(edge_n, axis=1, keepdims=True)
    if smooth_sides:
        vert_n = edge_n + np.roll(edge_n, 1, axis=0)
        vert_n /= np.linalg.norm(vert_n, axis=1, keepdims=True)
        side_v = np.concatenate([lo, hi])
        side_n = np.column_stack([np.concatenate([vert_n, vert_n]), np.zeros(2 * k)])
        ii = np.arange(k)
        jj = (ii + 1) % k
        faces = np.concatenate([np.stack([ii, jj, jj + k], 1), np.stack([ii, jj + k, ii + k], 1)])
        parts.append(trimesh.Trimesh(side_v, faces, vertex_normals=side_n, process=False))
    else:
        for i in range(k):
            j = (i + 1) % k
            quad = np.array([lo[i], lo[j], hi[j], hi[i]])
            n = np.tile([edge_n[i, 0], edge_n[i, 1], 0.0], (4, 1))
            parts.append(trimesh.Trimesh(quad, [[0, 1, 2], [0, 2, 3]], vertex_normals=n, process=False))
    return join(parts)


def _along(mesh: trimesh.Trimesh, p0: FloatArray, p1: FloatArray) -> trimesh.Trimesh:
    """A mesh built along +z from z = 0 to |p1 - p0|, moved to run from p0 to p1."""
    axis = np.asarray(p1, float) - np.asarray(p0, float)
    mesh.apply_transform(trimesh.geometry.align_vectors([0.0, 0.0, 1.0], axis))
    return mesh.apply_translation(p0)


def rod(p0: FloatArray, p1: FloatArray, radius: float, sides: int = 6, smooth: bool = True) -> trimesh.Trimesh:
    """A ``sides``-gon rod from p0 to p1 (3,), its corners on the circle of ``radius``, flat ends; smooth
    (rounded normals) or flat sides (metres)."""
    length = float(np.linalg.norm(np.asarray(p1, float) - np.asarray(p0, float)))
    return _along(prism(circle(radius, sides), 0.0, length, smooth_sides=smooth), p0, p1)


def extrude(shapes: list[tuple[FloatArray, list[FloatArray]]], scale: float, offset: FloatArray, z0: float,
            z1: float) -> trimesh.Trimesh:
    """Polygons with holes (outer (n, 2) counter-clockwise, holes (m, 2) clockwise), moved by ``offset`` (2,)
    then scaled to metres by ``scale``, extruded from z0 to z1 (metres): flat faces, walls smooth where the
    outline turns by less than 35 degrees and creased elsewhere. The faces are triangulated
    (:func:`~tryon.jewelry.geometry.outlines.triangulate`) before the move, so integer (pixel) outlines
    triangulate with exact arithmetic."""
    parts = []
    for raw_outer, raw_holes in shapes:
        pts, tris = triangulate(raw_outer, raw_holes)
        pts = (pts + offset) * scale
        outer, holes = (raw_outer + offset) * scale, [(h + offset) * scale for h in raw_holes]
        k = len(pts)
        for z, sign in ((z1, 1.0), (z0, -1.0)):
            cap = np.column_stack([pts, np.full(k, z)])
            parts.append(trimesh.Trimesh(cap, tris if sign > 0 else tris[:, ::-1],
                                         vertex_normals=np.tile([0.0, 0.0, sign], (k, 1)), process=False))
        for loop in [outer, *holes]:
            parts.append(_wall(loop, z0, z1))
    return join(parts)


def _wall(loop: FloatArray, z0: float, z1: float) -> trimesh.Trimesh:
    """The side wall of a closed loop (n, 2) walked with the solid on its left, z0..z1."""
    n = len(loop)
    nxt = np.roll(loop, -1, axis=0)
    edge = nxt - loop
    normal = np.stack([edge[:, 1], -edge[:, 0]], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    prev_n = np.roll(normal, 1, axis=0)
    smooth = np.einsum("ij,ij->i", normal, prev_n) > math.cos(math.radians(35.0))
    corner = normal + prev_n
    corner /= np.linalg.norm(corner, axis=1, keepdims=True)
    start_n = np.where(smooth[:, None], corner, normal)  # at each edge's first vertex
    end_n = np.roll(np.where(smooth[:, None], corner, prev_n), -1, axis=0)  # at its second
    verts, norms, faces = [], [], []
    for i in range(n):
        base = 4 * i
        verts += [[*loop[i], z0], [*nxt[i], z0], [*nxt[i], z1], [*loop[i], z1]]
        norms += [[*start_n[i], 0.0], [*end_n[i], 0.0], [*end_n[i], 0.0], [*start_n[i], 0.0]]
        faces += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
    return trimesh.Trimesh(np.array(verts), np.array(faces), vertex_normals=np.array(norms), process=False)

"""A flat plate cut to an outline, its edges rounded front and back: a sheet-metal pendant or earring. Metres.

The outline is a polygon with holes (outer (n, 2) counter-clockwise, holes (m, 2) clockwise, as
:func:`~tryon.jewelry.geometry.outlines.triangulate` takes them). The plate's side wall stands on the outline
itself; its front and back faces are the outline moved ``bevel`` into the solid, joined to the wall by a
quarter circle of radius ``bevel`` at each edge. So the silhouette seen from the front is the outline, and
the faces shrink by ``bevel``: the outline's corners must be rounded to at least ``bevel`` (a convex corner
sharper than that makes the inset loop cross itself).
"""

from __future__ import annotations

import math

import numpy as np
import trimesh

from tryon.jewelry.geometry.outlines import resample, triangulate
from tryon.jewelry.geometry.solids import join
from tryon.jewelry.geometry.units import FloatArray

__all__ = ["bevelled_plate", "hang_point", "inset", "polygon_area", "vertex_normals"]

_ARC_STEPS = 3  # segments of each quarter-circle edge


def polygon_area(points: FloatArray) -> float:
    """The signed area of a closed polygon (n, 2): positive when counter-clockwise."""
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def vertex_normals(loop: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per vertex of a closed loop (n, 2) walked with the solid on its left: the unit normal out of the solid
    (the mean of its two edges' right-hand normals), and the miter factor (n,): how far to move along that
    normal per unit of distance from both edges (1 / cos of half the turn, at most 3)."""
    edge = np.roll(loop, -1, axis=0) - loop
    right = np.stack([edge[:, 1], -edge[:, 0]], axis=1)
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    mean = right + np.roll(right, 1, axis=0)
    length = np.linalg.norm(mean, axis=1, keepdims=True)
    normal = mean / np.maximum(length, 1e-12)
    cos_half = np.einsum("ij,ij->i", normal, right)
    return normal, 1.0 / np.clip(cos_half, 1.0 / 3.0, 1.0)


def inset(loop: FloatArray, distance: float) -> FloatArray:
    """The loop (n, 2), solid on its left, moved ``distance`` into the solid at every vertex (mitered)."""
    normal, miter = vertex_normals(loop)
    return loop - (distance * miter)[:, None] * normal


def bevelled_plate(outer: FloatArray, holes: list[FloatArray], z0: float, z1: float,
                   bevel: float) -> trimesh.Trimesh:
    """A plate of the outline ``outer`` (n, 2) counter-clockwise with ``holes`` (each (m, 2) clockwise), from
    z0 (back) to z1 (front), its edges rounded by ``bevel`` (metres; at most a third of the thickness).

    Faces, walls and rounds have their own vertices (flat faces, smooth walls); merged by position the mesh
    is closed and wound outward. Raises ValueError where the inset faces cannot be triangulated (the outline
    crosses itself, or a corner is sharper than ``bevel``).
    """
    if not 0.0 < bevel <= (z1 - z0) / 3.0:
        raise ValueError(f"a bevel of {bevel} m does not fit a plate {z1 - z0} m thick")
    loops = [np.asarray(outer, float), *[np.asarray(h, float) for h in holes]]
    # Rings from the back face round the edge to the front face: (inset, z, normal's outward and z parts).
    phis = np.linspace(0.0, math.pi / 2.0, _ARC_STEPS + 1)
    cos, sin = np.cos(phis), np.sin(phis)
    cos[-1], sin[-1] = 0.0, 1.0  # exactly: the last ring is the face's own loop, at the face's own z
    back = [(bevel * (1.0 - c), z0 if s == 1.0 else z0 + bevel * (1.0 - s), c, -s) for c, s in zip(cos, sin, strict=True)]
    front = [(bevel * (1.0 - c), z1 if s == 1.0 else z1 - bevel * (1.0 - s), c, s) for c, s in zip(cos, sin, strict=True)]
    rings = back[::-1] + front
    parts = []
    faces_2d = [inset(loop, bevel) for loop in loops]
    pts, tris = triangulate(faces_2d[0], faces_2d[1:])
    k = len(pts)
    for z, sign in ((z1, 1.0), (z0, -1.0)):
        cap = np.column_stack([pts, np.full(k, z)])
        parts.append(trimesh.Trimesh(cap, tris if sign > 0 else tris[:, ::-1],
                                     vertex_normals=np.tile([0.0, 0.0, sign], (k, 1)), process=False))
    for loop in loops:
        normal, miter = vertex_normals(loop)
        n = len(loop)
        verts, norms = [], []
        for d, z, out, up in rings:
            xy = loop - (d * miter)[:, None] * normal
            verts.append(np.column_stack([xy, np.full(n, z)]))
            norms.append(np.column_stack([out * normal, np.full(n, up)]))
        v, nrm = np.concatenate(verts), np.concatenate(norms)
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
        faces = []
        i = np.arange(n)
        j = (i + 1) % n
        for r in range(len(rings) - 1):
            lo, hi = r * n, (r + 1) * n
            faces.append(np.stack([lo + i, lo + j, hi + j], axis=1))
            faces.append(np.stack([lo + i, hi + j, hi + i], axis=1))
        parts.append(trimesh.Trimesh(v, np.concatenate(faces), vertex_normals=nrm, process=False))
    return join(parts)


def hang_point(outer: FloatArray, holes: list[FloatArray], band: float) -> tuple[float, float, float]:
    """Where a plate (outer (n, 2), holes (m, 2), any unit, y up) hangs from: (x, y, rise).

    x is the plate's centroid's (its area's, holes taken off), so hung there it hangs straight; y is the
    top of the plate within ``band`` / 2 of that x (the outline's edge sampled every 1/400 of its size);
    rise is how far the plate's top anywhere stands above that point (a heart's lobes above its notch).
    """
    loops = [np.asarray(outer, float), *[np.asarray(h, float) for h in holes]]
    area, moment = 0.0, 0.0
    for loop in loops:  # signed: holes (clockwise) take their part off
        x, y = loop[:, 0], loop[:, 1]
        x1, y1 = np.roll(x, -1), np.roll(y, -1)
        cross = x * y1 - x1 * y
        area += 0.5 * float(cross.sum())
        moment += float(np.sum((x + x1) * cross)) / 6.0
    x_c = moment / area
    size = float(np.ptp(loops[0], axis=0).max())
    dense = resample(loops[0], max(400, int(400 * _perimeter(loops[0]) / size)), closed=True)
    near = np.abs(dense[:, 0] - x_c) <= band / 2.0
    if not near.any():  # the centroid's column misses the plate (a ring-like outline): the nearest edge point
        near = np.abs(dense[:, 0] - x_c) <= np.abs(dense[:, 0] - x_c).min() + band / 2.0
    y_top = float(dense[near, 1].max())
    return x_c, y_top, float(loops[0][:, 1].max()) - y_top


def _perimeter(loop: FloatArray) -> float:
    return float(np.sum(np.linalg.norm(np.roll(loop, -1, axis=0) - loop, axis=1)))

"""A stone cut to any outline as a brilliant's crown: a table, two rings of facets, a girdle. Millimetres.

The outline (n, 2), counter-clockwise, star-shaped from its centroid, is the girdle. Toward the centroid
it is shrunk to RINGS (a share of the way to the girdle, and a share of the crown's height) and then to
the table, each ring's points taken half a step round from the one outside it, so the facets between them
are kites and triangles as on a cut stone rather than a stack of trapezes. Below the girdle a short wall
goes down to a flat base (the stone sits in its setting). Every facet is flat: the mesh is a triangle soup
with each triangle's own normal, closed and wound outward.
"""

from __future__ import annotations

import numpy as np

from tryon.jewelry.geometry.outlines import resample
from tryon.jewelry.geometry.units import FloatArray

__all__ = ["crowned_stone"]

GIRDLE_POINTS = 16  # a girdle of this many facets round
RINGS = ((0.78, 0.55), (0.5, 1.0))  # (share of the way out from the centroid, share of the crown's height)


def crowned_stone(outline: FloatArray, girdle_z: float, base_z: float, crown: float) -> tuple[FloatArray, FloatArray]:
    """(vertices (3 m, 3), normals (3 m, 3)): the stone cut to ``outline`` (module docstring), its girdle at
    ``girdle_z``, its base at ``base_z`` (below), its table ``crown`` above the girdle."""
    n = GIRDLE_POINTS
    girdle = resample(np.asarray(outline, np.float64), 2 * n, closed=True)  # halves: each ring turns half a step
    centre = girdle.mean(axis=0)
    loops = [np.column_stack([girdle[::2], np.full(n, girdle_z)])]
    for k, (share, rise) in enumerate(RINGS):
        half = girdle[1::2] if k % 2 == 0 else girdle[::2]
        xy = centre + share * (half - centre)
        loops.append(np.column_stack([xy, np.full(n, girdle_z + rise * crown)]))
    tris: list[FloatArray] = []
    for k in range(len(loops) - 1):
        outer, inner = loops[k], loops[k + 1]
        turned = k % 2 == 0  # inner point i lies between outer points i and i + 1
        for i in range(n):
            j = (i + 1) % n
            if turned:
                tris += [np.stack([outer[i], outer[j], inner[i]]), np.stack([inner[i], outer[j], inner[j]])]
            else:  # outer point i lies between inner points i and i + 1
                tris += [np.stack([outer[i], inner[j], inner[i]]), np.stack([outer[i], outer[j], inner[j]])]
    table = loops[-1]
    top = np.array([*table[:, :2].mean(axis=0), table[0, 2]])
    tris += [np.stack([top, table[i], table[(i + 1) % n]]) for i in range(n)]
    rim = loops[0]
    base = rim.copy()
    base[:, 2] = base_z
    bottom = np.array([*centre, base_z])
    for i in range(n):
        j = (i + 1) % n
        tris += [np.stack([rim[i], base[i], base[j]]), np.stack([rim[i], base[j], rim[j]]),
                 np.stack([bottom, base[j], base[i]])]
    soup = np.stack(tris)
    normal = np.cross(soup[:, 1] - soup[:, 0], soup[:, 2] - soup[:, 0])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
    # Wound outward: a facet whose normal points to the stone's inside is turned over.
    inward = np.einsum("ij,ij->i", normal, soup.mean(axis=1) - [*centre, (girdle_z + base_z) / 2.0]) < 0.0
    soup[inward] = soup[inward][:, ::-1]
    normal[inward] *= -1.0
    return soup.reshape(-1, 3), np.repeat(normal, 3, axis=0)

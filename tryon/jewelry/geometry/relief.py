"""Relief over a 2D outline: Poisson's equation solved inside it, and the pillow it inflates. Metres.

The height of the inflation is sqrt(u / max u), u the solution of -laplace(u) = 1 inside the outline and
u = 0 on it (the inflation of Igarashi et al.'s "Teddy", 1999): smooth everywhere inside, even where the
outline has corners, and round-edged (vertical at the outline).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import scipy.ndimage
import scipy.sparse
import scipy.sparse.linalg
import trimesh

from tryon.jewelry.geometry.units import FloatArray

__all__ = ["poisson_height", "puffed"]


def poisson_height(outline: FloatArray, cells: int = 160) -> Callable[[FloatArray], FloatArray]:
    """sqrt(u / max u) as a function of points (m, 2) -> (m,) in 0..1, u solving -laplace(u) = 1 inside the
    closed outline (n, 2) and u = 0 outside, on a grid of ``cells`` across the outline's larger side (five-point
    Laplacian, solved sparse; u cubic-splined in between, 0 outside the grid)."""
    lo = outline.min(axis=0)
    h = float((outline.max(axis=0) - lo).max()) / cells
    origin = lo - 2.0 * h
    shape = (cells + 5, cells + 5)  # (rows: y, cols: x)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round((outline - origin) / h * 16.0).astype(np.int32)], (1,), cv2.LINE_8, shift=4)
    inside = np.flatnonzero(mask)
    index = -np.ones(mask.size, np.int64)
    index[inside] = np.arange(len(inside))
    rows, cols, vals = [np.arange(len(inside))], [np.arange(len(inside))], [np.full(len(inside), 4.0)]
    for step in (1, -1, shape[1], -shape[1]):
        nb = index[inside + step]
        ok = nb >= 0
        rows.append(np.arange(len(inside))[ok])
        cols.append(nb[ok])
        vals.append(np.full(int(ok.sum()), -1.0))
    lap = scipy.sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                  shape=(len(inside), len(inside)))
    u = np.zeros(mask.size)
    u[inside] = scipy.sparse.linalg.spsolve(lap, np.full(len(inside), h * h))
    field = u.reshape(shape) / u.max()

    def height(points: FloatArray) -> FloatArray:
        grid = (points - origin) / h
        value = scipy.ndimage.map_coordinates(field, [grid[:, 1], grid[:, 0]], order=3, mode="constant")
        return np.sqrt(np.clip(value, 0.0, 1.0))

    return height


def puffed(outline: FloatArray, centre: FloatArray, z_mid: float, front: float, back: float,
           rings: int = 8) -> trimesh.Trimesh:
    """A pillow: the closed counter-clockwise outline (n, 2) at z = ``z_mid``, domed to ``front`` above and
    ``back`` below (metres).

    The dome's height is ``front`` (``back``) x :func:`poisson_height`. The mesh is rings of the outline
    shrunk toward ``centre`` (2,) (the outline must be star-shaped from it), ``rings`` - 1 a side besides the
    outline, closed by a point on each side; normals come from the height's gradient, not from the (long,
    thin near corners) triangles.
    """
    height = poisson_height(outline)
    n = len(outline)
    tangent = np.roll(outline, -1, axis=0) - np.roll(outline, 1, axis=0)
    rim_n = np.column_stack([tangent[:, 1], -tangent[:, 0], np.zeros(n)])  # right of CCW: outward
    phis = np.linspace(-math.pi / 2.0, math.pi / 2.0, 2 * rings + 1)[1:-1]
    verts, norms = [], []
    eps = 1e-3 * float(np.ptp(outline, axis=0).max())
    for i, phi in enumerate([*phis, -math.pi / 2.0, math.pi / 2.0]):
        xy = centre + math.cos(phi) * (outline - centre) if i < len(phis) else centre[None]
        if i == rings - 1:  # the outline itself
            verts.append(np.column_stack([xy, np.full(n, z_mid)]))
            norms.append(rim_n)
            continue
        depth = front if phi > 0.0 else -back
        grad = np.column_stack([height(xy + [eps, 0.0]) - height(xy - [eps, 0.0]),
                                height(xy + [0.0, eps]) - height(xy - [0.0, eps])]) / (2.0 * eps)
        verts.append(np.column_stack([xy, z_mid + depth * height(xy)]))
        side = math.copysign(1.0, depth)  # outward: up the graph's normal in front, down it behind
        norms.append(side * np.column_stack([-depth * grad, np.ones(len(xy))]))
    v, nrm = np.concatenate(verts), np.concatenate(norms)
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
    k = len(phis)
    faces = []
    for r in range(k - 1):
        for i in range(n):
            a, b = r * n + i, r * n + (i + 1) % n
            faces += [[a, b, b + n], [a, b + n, a + n]]
    bottom, top = k * n, k * n + 1
    for i in range(n):
        faces.append([bottom, (i + 1) % n, i])
        faces.append([top, (k - 1) * n + i, (k - 1) * n + (i + 1) % n])
    return trimesh.Trimesh(v, np.array(faces), vertex_normals=nrm, process=False)

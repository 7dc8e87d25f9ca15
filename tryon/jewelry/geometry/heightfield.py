"""A closed relief over a pixel mask: a front and a back height field joined by a wall. Millimetres.

The mask is a grid of pixels (rows down, columns right), each ``pixel_mm`` wide. Each pixel inside it becomes
a front vertex at (x, y, +front) and a back vertex at (x, y, -back) at its centre (x right, y up: the image
seen from the front); each 2 x 2 block of inside pixels two triangles a side, a block with three inside one
(so a diagonal edge is not a staircase). The edges that only one front triangle uses are the outline (the
outer one and those round holes): a wall joins the front to the back there, so the mesh is closed and a hole
in the mask is a hole through the piece.

Pixel centres lie half a pixel inside the mask's edge; ``edge`` (the mask's coverage, 0..1 per pixel, as an
anti-aliased matte gives it) moves each outline vertex out to where the coverage crosses one half, so the
piece's silhouette is the matte's and not half a pixel smaller all round.

:func:`poisson_dome` is the inflation of the outline (Igarashi et al.'s "Teddy", 1999) on the same grid:
sqrt(2 u), u solving -laplace(u) = 1 inside and 0 outside, which over a disc of radius R rises to R / sqrt(2).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import fast_simplification
import numpy as np
import scipy.ndimage
import scipy.sparse
import scipy.sparse.linalg
import scipy.spatial
from numpy.typing import NDArray

from tryon.jewelry.geometry.units import FloatArray

__all__ = ["Relief", "decimated", "poisson_dome", "relief_mesh"]

Mask = NDArray[np.bool_]
PINCH_PASSES = 4  # pinches (parts touching at a corner) filled, looked for again, at most this many times


def poisson_dome(mask: Mask, pixel_mm: float) -> FloatArray:
    """(h, w) mm: sqrt(2 u) inside the mask, u solving -laplace(u) = 1 there (five-point Laplacian, pixel_mm
    apart) and u = 0 outside; 0 outside."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), bool)
    padded[1:-1, 1:-1] = mask
    inside = np.flatnonzero(padded)
    out = np.zeros(mask.shape)
    if not len(inside):
        return out
    index = -np.ones(padded.size, np.int64)
    index[inside] = np.arange(len(inside))
    n = len(inside)
    rows, cols, vals = [np.arange(n)], [np.arange(n)], [np.full(n, 4.0)]
    for step in (1, -1, w + 2, -(w + 2)):
        nb = index[inside + step]
        ok = nb >= 0
        rows.append(np.arange(n)[ok])
        cols.append(nb[ok])
        vals.append(np.full(int(ok.sum()), -1.0))
    lap = scipy.sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    u = np.zeros(padded.size)
    u[inside] = scipy.sparse.linalg.spsolve(lap.tocsc(), np.full(n, pixel_mm * pixel_mm))
    return np.sqrt(2.0 * np.clip(u.reshape(padded.shape)[1:-1, 1:-1], 0.0, None))


@dataclass(frozen=True)
class Relief:
    """The closed mesh of :func:`relief_mesh`: vertices (2 n, 3) mm (n front, then the n behind them),
    triangles (m, 3) wound outward, and for each vertex its pixel (row, col)."""

    vertices: FloatArray
    faces: NDArray[np.int64]
    vertex_pixels: NDArray[np.int64]


def _grid_triangles(mask: Mask, vid: NDArray[np.int64]) -> NDArray[np.int64]:
    """Front triangles (counter-clockwise seen from the front, y up) of every 2 x 2 block with 3 or 4 pixels
    inside: (k, 3) vertex ids."""
    a, b = vid[:-1, :-1], vid[:-1, 1:]  # top-left, top-right
    c, d = vid[1:, :-1], vid[1:, 1:]  # bottom-left, bottom-right
    ia, ib, ic, id_ = a >= 0, b >= 0, c >= 0, d >= 0
    tris = []
    # Rows go down and y up, so (top-left, bottom-left, bottom-right) is counter-clockwise seen from the front.
    full = ia & ib & ic & id_
    tris += [np.stack([a[full], c[full], d[full]], 1), np.stack([a[full], d[full], b[full]], 1)]
    for keep, tri in (((~ia) & ib & ic & id_, (b, c, d)), (ia & (~ib) & ic & id_, (a, c, d)),
                      (ia & ib & (~ic) & id_, (a, d, b)), (ia & ib & ic & (~id_), (a, c, b))):
        tris.append(np.stack([t[keep] for t in tri], 1))
    return np.concatenate(tris).astype(np.int64)


def _front(mask: Mask) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The front triangles over the mask, each used pixel's (row, col), and the outline's directed edges (front
    edges that one triangle only uses, the piece on their left)."""
    h, w = mask.shape
    vid = -np.ones((h, w), np.int64)
    inside = np.argwhere(mask)
    vid[inside[:, 0], inside[:, 1]] = np.arange(len(inside))
    front = _grid_triangles(mask, vid)
    if not len(front):
        raise ValueError("the mask holds no 2 x 2 block of pixels: nothing to build")
    used = np.unique(front)
    remap = -np.ones(len(inside), np.int64)
    remap[used] = np.arange(len(used))
    front = remap[front]
    n = len(used)
    edges = np.concatenate([front[:, [0, 1]], front[:, [1, 2]], front[:, [2, 0]]])
    key = np.minimum(edges[:, 0], edges[:, 1]) * n + np.maximum(edges[:, 0], edges[:, 1])
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return front, inside[used], edges[counts[inverse] == 1]


def relief_mesh(mask: Mask, front_mm: FloatArray, back_mm: FloatArray, pixel_mm: float,
                edge: FloatArray | None = None) -> Relief:
    """The closed relief of the mask (module docstring): front heights ``front_mm`` and back depths ``back_mm``
    (h, w), both >= 0; the image's centre is the origin. Pixels that no triangle uses (a lone pixel, a
    one-pixel line) are left out. Raises ValueError when nothing is left."""
    h, w = mask.shape
    mask = mask.copy()
    for _ in range(PINCH_PASSES):
        front, rc, rim = _front(mask)
        # A pinch: the outline passes twice through one pixel (two parts touching at a corner). Walls there
        # would share an edge four ways; the blocks round it are filled, which joins the parts.
        starts, count = np.unique(rim[:, 0], return_counts=True)
        pinched = rc[starts[count > 1]]
        if not len(pinched):
            break
        for r, c in pinched:
            mask[max(r - 1, 0):r + 2, max(c - 1, 0):c + 2] = True
    n = len(rc)
    xy = np.column_stack([(rc[:, 1] - (w - 1) / 2.0), ((h - 1) / 2.0 - rc[:, 0])]) * pixel_mm
    if edge is not None:
        xy = _to_edge(xy, rc, rim, edge, pixel_mm)
    z_front = front_mm[rc[:, 0], rc[:, 1]]
    z_back = -back_mm[rc[:, 0], rc[:, 1]]
    vertices = np.vstack([np.column_stack([xy, z_front]), np.column_stack([xy, z_back])])
    back = front[:, ::-1] + n
    # A wall quad per outline edge (i -> j, the piece on its left): front i, front j, back j, back i, outward.
    i, j = rim[:, 0], rim[:, 1]
    wall = np.concatenate([np.stack([i, j + n, j], 1), np.stack([i, i + n, j + n], 1)])
    faces = np.concatenate([front, back, wall])
    return Relief(vertices, faces, np.concatenate([rc, rc]))


def _to_edge(xy: FloatArray, rc: NDArray[np.int64], rim: NDArray[np.int64], coverage: FloatArray,
             pixel_mm: float) -> FloatArray:
    """Outline vertices moved out, along the coverage's falling gradient, to where it crosses 1/2 (at most
    one pixel; linear between the pixel's coverage and the gradient's)."""
    smooth = cv2.GaussianBlur(coverage.astype(np.float32), (0, 0), 0.8)
    gy, gx = np.gradient(smooth)
    on = np.unique(rim)
    r, c = rc[on, 0], rc[on, 1]
    g = np.column_stack([gx[r, c], -gy[r, c]])  # in x right, y up
    norm = np.linalg.norm(g, axis=1)
    ok = norm > 1e-3
    # Along the outward direction (the smoothed coverage's falling gradient) the raw coverage goes from this
    # pixel's to the one a pixel out: the crossing of one half lies between, linearly.
    unit = g[ok] / norm[ok, None]
    a0 = coverage[r[ok], c[ok]].astype(np.float64)
    a1 = scipy.ndimage.map_coordinates(coverage.astype(np.float64), [r[ok] + unit[:, 1], c[ok] - unit[:, 0]],
                                       order=1, mode="constant")
    step = np.zeros(len(on))
    step[ok] = np.clip((a0 - 0.5) / np.maximum(a0 - a1, 1e-3), 0.0, 1.0)  # pixels outward
    out = xy.copy()
    out[on[ok]] -= (g[ok] / norm[ok, None]) * (step[ok] * pixel_mm)[:, None]
    return out


def decimated(vertices: FloatArray, faces: NDArray[np.int64], triangles: int
              ) -> tuple[FloatArray, NDArray[np.int64], NDArray[np.int64]]:
    """The closed mesh brought down to about ``triangles`` by quadric edge collapse (Garland and Heckbert 1997;
    the fast-simplification package): a relief's dense grid is flat in most places and needs few triangles
    there. Where collapsing that far would open the mesh (a thin hook pinched through), half again as many
    are kept, and so on; the mesh as it is where nothing less stays closed. Returns the new vertices and faces
    and, per new vertex, the nearest old one (to carry its attributes)."""
    target = triangles
    while target < 0.8 * len(faces):
        v, f = fast_simplification.simplify(np.asarray(vertices, np.float64), np.asarray(faces, np.int64),
                                            target_reduction=1.0 - target / len(faces))
        if _closed(np.asarray(f, np.int64)):
            _, source = scipy.spatial.cKDTree(vertices).query(v)
            return np.asarray(v, np.float64), np.asarray(f, np.int64), np.asarray(source, np.int64)
        target = int(target * 1.5)
    return vertices, faces, np.arange(len(vertices))


def _closed(faces: NDArray[np.int64]) -> bool:
    """Whether every edge is shared by exactly two triangles, once each way (closed and consistently wound)."""
    edges = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    if len(np.unique(edges, axis=0)) != len(edges):  # an edge walked twice the same way
        return False
    key = np.sort(edges, axis=1)
    _, counts = np.unique(key, axis=0, return_counts=True)
    return bool((counts == 2).all())

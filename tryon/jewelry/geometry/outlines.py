"""2D outlines and paths: points (n, 2) in a plane, metres unless said otherwise.

Closed outlines list each point once (the last joins the first); "counter-clockwise" is seen from +z (the
plane's normal), so a counter-clockwise outline has the solid on its left and its outward normal on its right.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from tryon.jewelry.geometry.units import FloatArray

__all__ = [
    "circle",
    "drop_collinear",
    "ellipse_offset",
    "ellipse_perimeter",
    "resample",
    "stadium",
    "triangulate",
]

_DENSE = 2048  # samples of an ellipse before resampling by arc length


def circle(radius: float, count: int) -> FloatArray:
    """``count`` points (count, 2) evenly round the circle of ``radius`` about the origin, counter-clockwise,
    the first on +x: a regular ``count``-gon whose corners lie on the circle."""
    a = np.arange(count) * (2.0 * math.pi / count)
    return radius * np.stack([np.cos(a), np.sin(a)], axis=1)


def stadium(length: float, width: float, per_end: int) -> FloatArray:
    """A stadium's outline (2 per_end, 2), counter-clockwise: ``length`` along x and ``width`` along y overall,
    centred on the origin; each half-circle end sampled at ``per_end`` points (its two ends included)."""
    r, half = width / 2.0, (length - width) / 2.0
    a = np.linspace(-math.pi / 2.0, math.pi / 2.0, per_end)
    right = np.stack([half + r * np.cos(a), r * np.sin(a)], axis=1)
    return np.concatenate([right, -right])


def resample(points: FloatArray, count: int, closed: bool) -> FloatArray:
    """``count`` points (count, 2) equally spaced by arc length along a polyline (n, 2); a closed one starts
    at its first point (and does not repeat it), an open one keeps both ends."""
    pts = np.concatenate([points, points[:1]]) if closed else points
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    at = np.linspace(0.0, s[-1], count, endpoint=not closed)
    return np.stack([np.interp(at, s, pts[:, 0]), np.interp(at, s, pts[:, 1])], axis=1)


def ellipse_offset(a: float, b: float, offset: float, count: int) -> tuple[FloatArray, FloatArray]:
    """``count`` points (count, 2), counter-clockwise and equally spaced, of the curve ``offset`` outside the
    ellipse with half axes a (x) and b (y), starting at the top (+y); and the unit outward normals there
    (count, 2).

    A parallel curve, not a scaled ellipse: a band of constant thickness whose inside is the ellipse.
    """
    t = math.pi / 2.0 + np.arange(_DENSE) * (2.0 * math.pi / _DENSE)
    normal = np.stack([b * np.cos(t), a * np.sin(t)], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    curve = np.stack([a * np.cos(t), b * np.sin(t)], axis=1) + offset * normal
    pts = resample(curve, count, closed=True)
    # Normals from the resampled points' chords (central differences): exact to the sampling's order.
    tangent = np.roll(pts, -1, axis=0) - np.roll(pts, 1, axis=0)
    normals = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    return pts, normals / np.linalg.norm(normals, axis=1, keepdims=True)


def ellipse_perimeter(a: float, b: float) -> float:
    """Ramanujan's approximation of the perimeter of the ellipse with half axes a and b (same unit): exact
    for a circle, relative error under 3e-6 up to an axis ratio of 2 (a wrist's is about 1.4)."""
    return math.pi * (3.0 * (a + b) - math.sqrt((3.0 * a + b) * (a + 3.0 * b)))


def drop_collinear(pts: FloatArray) -> FloatArray:
    """The closed polygon (n, 2) without vertices that lie on the line through their neighbours. Meant for
    integer coordinates (traced pixels), where the test is exact."""
    while True:
        n = len(pts)
        turn = np.array([_cross2(pts[i - 1], pts[i], pts[(i + 1) % n]) for i in range(n)])
        if n <= 3 or (turn != 0.0).all():
            return pts
        pts = pts[turn != 0.0]


def _cross2(o: FloatArray, a: FloatArray, b: FloatArray) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def _bridge(pts: FloatArray, loop: list[int], hole: list[int]) -> list[int]:
    """Join a clockwise hole to the counter-clockwise ``loop`` (vertex indices into ``pts``) by a two-way
    cut from the hole's rightmost vertex to a loop vertex it can see (D. Eberly, "Triangulation by Ear
    Clipping", 2008), giving one weakly simple loop."""
    mi = max(range(len(hole)), key=lambda k: (pts[hole[k], 0], -k))
    m = pts[hole[mi]]
    best, hit = math.inf, -1
    n = len(loop)
    for k in range(n):  # the nearest loop edge the ray from m along +x crosses
        a, b = pts[loop[k]], pts[loop[(k + 1) % n]]
        if (a[1] - m[1]) * (b[1] - m[1]) > 0.0 or a[1] == b[1]:
            continue
        x = a[0] + (m[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
        if m[0] <= x < best:
            best, hit = x, k
    if hit < 0:
        raise ValueError("a hole outside its outline")
    ka, kb = hit, (hit + 1) % n
    p_pos = ka if pts[loop[ka], 0] > pts[loop[kb], 0] else kb
    p = pts[loop[p_pos]]
    i_pt = np.array([best, m[1]])
    # A reflex loop vertex inside the triangle (m, i, p) would block the view: take the one closest in angle.
    cands = []
    for k in range(n):
        q = pts[loop[k]]
        if loop[k] == loop[p_pos] or _cross2(pts[loop[k - 1]], q, pts[loop[(k + 1) % n]]) >= 0.0:
            continue
        if _in_triangle(q, m, i_pt, p) or _in_triangle(q, m, p, i_pt):
            d = q - m
            cands.append((-d[0] / math.hypot(*d), math.hypot(*d), k))
    if cands:
        p_pos = min(cands)[2]
    # The loop may visit p twice (an earlier bridge): use the visit whose corner the cut enters.
    target = loop[p_pos]
    for k in range(n):
        if loop[k] != target:
            continue
        q = pts[target]
        a_next = math.atan2(*(pts[loop[(k + 1) % n]] - q)[::-1])
        span = (math.atan2(*(pts[loop[k - 1]] - q)[::-1]) - a_next) % (2.0 * math.pi)
        if (math.atan2(*(m - q)[::-1]) - a_next) % (2.0 * math.pi) < span:
            p_pos = k
            break
    ring = hole[mi:] + hole[: mi + 1]
    return loop[: p_pos + 1] + ring + loop[p_pos:]


def _in_triangle(q: FloatArray, a: FloatArray, b: FloatArray, c: FloatArray) -> bool:
    """Whether q lies in the counter-clockwise triangle abc, edges included."""
    return _cross2(a, b, q) >= 0.0 and _cross2(b, c, q) >= 0.0 and _cross2(c, a, q) >= 0.0


def triangulate(outer: FloatArray, holes: list[FloatArray]) -> tuple[FloatArray, NDArray[np.int64]]:
    """Ear-clip a polygon (outer (n, 2) counter-clockwise) with holes (each (m, 2), clockwise, inside it).

    Returns the points (outer, then each hole, concatenated: (n + sum m, 2)) and counter-clockwise triangles
    (t, 3) indexing them, t = (point count) + 2 (hole count) - 2. Raises ValueError for a polygon that cannot
    be clipped (self-intersecting, or a hole outside its outline). Exact for integer coordinates.
    """
    pts = np.concatenate([outer, *holes]) if holes else outer
    loop = list(range(len(outer)))
    start, rings = len(outer), []
    for h in holes:
        rings.append(list(range(start, start + len(h))))
        start += len(h)
    for ring in sorted(rings, key=lambda r: (-pts[r, 0].max(), r[0])):
        loop = _bridge(pts, loop, ring)
    tris = []
    while len(loop) > 3:
        n = len(loop)
        chosen = -1
        for i in range(n):
            a, b, c = loop[i - 1], loop[i], loop[(i + 1) % n]
            if _cross2(pts[a], pts[b], pts[c]) <= 0.0:
                continue
            others = [j for j in loop if j not in (a, b, c)]
            q = pts[others]
            inside = ((_cross_many(pts[a], pts[b], q) >= 0.0) & (_cross_many(pts[b], pts[c], q) >= 0.0)
                      & (_cross_many(pts[c], pts[a], q) >= 0.0))
            if not inside.any():
                chosen = i
                break
        if chosen < 0:
            raise ValueError("polygon cannot be ear-clipped")
        tris.append([loop[chosen - 1], loop[chosen], loop[(chosen + 1) % n]])
        del loop[chosen]
    tris.append(loop)
    return pts, np.array(tris, dtype=np.int64)


def _cross_many(o: FloatArray, a: FloatArray, q: FloatArray) -> FloatArray:
    return (a[0] - o[0]) * (q[:, 1] - o[1]) - (a[1] - o[1]) * (q[:, 0] - o[0])

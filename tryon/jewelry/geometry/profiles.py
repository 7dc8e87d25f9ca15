"""Cross-sections to sweep along a path: a :data:`Profile` is (points (m, 2), unit normals (m, 2)).

A profile's coordinates are (u, v) in the sweep frame (:mod:`tryon.jewelry.geometry.sweeps`): u along the
path's outward normal, v along +z; metres. Points run counter-clockwise in the (u, v) plane and each carries
its analytic outward normal, so a swept tube shades as the smooth shape it samples.
"""

from __future__ import annotations

import math

import numpy as np

from tryon.jewelry.geometry.units import FloatArray

__all__ = ["Profile", "offset_convex", "rect_section", "round_profile", "rounded_polygon"]

Profile = tuple[FloatArray, FloatArray]  # (m, 2) points (u, v) and (m, 2) unit normals, counter-clockwise


def round_profile(radius: float, count: int = 12) -> Profile:
    """A circle of ``radius`` about (0, 0) sampled at ``count`` points, the first at +u."""
    a = np.arange(count) * (2.0 * math.pi / count)
    n = np.stack([np.cos(a), np.sin(a)], axis=1)
    return radius * n, n


def rounded_polygon(corners: FloatArray, radii: list[float], arc_points: list[int]) -> Profile:
    """A convex counter-clockwise polygon (k, 2) with corner i rounded by an arc of ``radii[i]`` sampled at
    ``arc_points[i]`` points (k radii and k counts); the arcs touch the polygon's edges, so the result lies
    inside the polygon."""
    pts, nrms = [], []
    k = len(corners)
    for i in range(k):
        p, prev, nxt = corners[i], corners[i - 1], corners[(i + 1) % k]
        e_in = (p - prev) / np.linalg.norm(p - prev)
        e_out = (nxt - p) / np.linalg.norm(nxt - p)
        n_in, n_out = np.array([e_in[1], -e_in[0]]), np.array([e_out[1], -e_out[0]])
        centre = p - radii[i] * (n_in + n_out) / (1.0 + n_in @ n_out)
        a0, a1 = math.atan2(n_in[1], n_in[0]), math.atan2(n_out[1], n_out[0])
        a1 = a0 + (a1 - a0) % (2.0 * math.pi)
        for a in np.linspace(a0, a1, arc_points[i]):
            n = np.array([math.cos(a), math.sin(a)])
            pts.append(centre + radii[i] * n)
            nrms.append(n)
    return np.array(pts), np.array(nrms)


def rect_section(u0: float, u1: float, v0: float, v1: float, radius: float, arc_points: int = 3) -> Profile:
    """The rectangle u0..u1 x v0..v1 with its corners rounded by ``radius`` (``arc_points`` a corner)."""
    corners = np.array([[u1, v0], [u1, v1], [u0, v1], [u0, v0]])
    return rounded_polygon(corners, [radius] * 4, [arc_points] * 4)


def offset_convex(core: FloatArray, radius: float, corners: set[int], arc_points: int = 4) -> Profile:
    """Round a convex counter-clockwise polygon (k, 2) by pushing it out by ``radius`` along its normals.

    The vertices listed in ``corners`` become arcs of ``arc_points`` points (rounded corners); the others
    one point each along the mean of their edges' normals (a sampled curve stays smooth, and a vertex
    between two mirror-image edges stays exactly where the extents are). The result's extents are the
    core's plus ``radius``.
    """
    pts, nrms = [], []
    k = len(core)
    for i in range(k):
        p, prev, nxt = core[i], core[i - 1], core[(i + 1) % k]
        e_in, e_out = p - prev, nxt - p
        n_in = np.array([e_in[1], -e_in[0]]) / np.linalg.norm(e_in)  # right of a CCW edge = outward
        n_out = np.array([e_out[1], -e_out[0]]) / np.linalg.norm(e_out)
        a0 = math.atan2(n_in[1], n_in[0])
        turn = (math.atan2(n_out[1], n_out[0]) - a0) % (2.0 * math.pi)
        if i not in corners:
            n = (n_in + n_out) / np.linalg.norm(n_in + n_out)
            pts.append(p + radius * n)
            nrms.append(n)
            continue
        for a in np.linspace(a0, a0 + turn, arc_points):
            n = np.array([math.cos(a), math.sin(a)])
            pts.append(p + radius * n)
            nrms.append(n)
    return np.array(pts), np.array(nrms)

"""Rays against triangles, in numpy: every crossing, where a ray leaves a union of closed shells, and which
points lie inside a closed shell.

Triangles are (t, 3, 3) arrays of corner positions, in any one unit (the distances come out in it). A closed
shell's triangles are wound outward (counter-clockwise seen from outside). This is a small Moller-Trumbore in
chunks (trimesh's own ray module needs rtree or embree, which are not dependencies).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from tryon.jewelry.geometry.units import FloatArray

__all__ = ["exit_distances", "points_inside", "ray_events"]

_CHUNK = 300_000  # ray x triangle pairs per numpy pass (memory: ~20 float arrays of this size)
_INSIDE_DIR = np.array([0.5783, 0.5754, 0.5803]) / np.linalg.norm([0.5783, 0.5754, 0.5803])  # generic


def ray_events(origins: FloatArray, dirs: FloatArray, tris: FloatArray, owner: NDArray[np.int64],
               forward_only: bool) -> tuple[NDArray[np.int64], FloatArray, NDArray[np.int64], NDArray[np.int64]]:
    """Every crossing of rays (origins (r, 3), directions (r, 3)) with triangles (t, 3, 3) (Moller-Trumbore).

    ``owner`` (t,): a label per triangle, handed back with each crossing. Returns four (e,) arrays: ray index,
    distance (in units of each ray's direction's length), +1 entering / -1 leaving the triangle's outward
    side, and the triangle's ``owner`` label; sorted by ray, then distance. ``forward_only``: only distances
    > 0 (else the whole lines through the rays).
    """
    v0 = tris[:, 0]
    e1, e2 = tris[:, 1] - v0, tris[:, 2] - v0
    scale = float(np.abs(tris).max()) if len(tris) else 1.0
    eps = 1e-15 * max(scale, 1.0) ** 2
    step = max(1, _CHUNK // max(len(tris), 1))
    rays, dists, signs, owners = [], [], [], []
    for a in range(0, len(origins), step):
        o = origins[a:a + step, None, :]
        d = dirs[a:a + step, None, :]
        p = np.cross(d, e2[None])
        det = np.einsum("rtk,tk->rt", p, e1)
        ok = np.abs(det) > eps
        inv = np.divide(1.0, det, out=np.zeros_like(det), where=ok)
        s = o - v0[None]
        u = np.einsum("rtk,rtk->rt", s, p) * inv
        q = np.cross(s, e1[None])
        v = np.einsum("rtk,rtk->rt", np.broadcast_to(d, q.shape), q) * inv
        t = np.einsum("rtk,tk->rt", q, e2) * inv
        hit = ok & (u >= 0.0) & (v >= 0.0) & (u + v <= 1.0)
        if forward_only:
            hit &= t > 0.0
        ri, ti = np.nonzero(hit)
        rays.append(ri + a)
        dists.append(t[ri, ti])
        # det = -d . (e1 x e2): positive when the ray goes against the outward normal, i.e. enters.
        signs.append(np.where(det[ri, ti] > 0.0, 1, -1))
        owners.append(owner[ti])
    ray = np.concatenate(rays) if rays else np.zeros(0, np.int64)
    dist = np.concatenate(dists) if dists else np.zeros(0)
    sign = np.concatenate(signs) if signs else np.zeros(0, np.int64)
    own = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    order = np.lexsort((dist, ray))
    return ray[order], dist[order], sign[order], own[order]


def _group_cumsum(ray: NDArray[np.int64], values: NDArray[np.int64], count: int) -> NDArray[np.int64]:
    """Running sum of ``values`` within each ray's (contiguous, sorted) run of events."""
    total = np.cumsum(values)
    first = np.searchsorted(ray, np.arange(count))
    before = np.concatenate([[0], total])[first]
    return total - before[ray]


def exit_distances(origins: FloatArray, dirs: FloatArray, own: FloatArray, others: FloatArray) -> FloatArray:
    """How far each ray (origins (r, 3), unit directions (r, 3)), starting just inside the closed shell
    ``own`` (triangles (t, 3, 3)), runs before it leaves the union of ``own`` and the closed shells ``others``
    (triangles (s, 3, 3), s may be 0): (r,) distances; NaN for a ray that does not start inside ``own`` and
    outside every other shell (an inner surface where a part is sunk into another, a nudge out through a
    sharp corner) or whose crossings do not add up (a graze along an edge)."""
    n = len(origins)
    tris = np.concatenate([own, others]) if len(others) else own
    owner = np.concatenate([np.zeros(len(own), np.int64), np.ones(len(others), np.int64)])
    ray, dist, sign, who = ray_events(origins, dirs, tris, owner, forward_only=True)
    out = np.full(n, np.nan)
    if len(ray) == 0:
        return out
    # Counting back from far away (outside everything) to the start: the shells around the start point.
    in_own = -np.bincount(ray, weights=np.where(who == 0, sign, 0), minlength=n).round().astype(np.int64)
    in_others = -np.bincount(ray, weights=np.where(who == 1, sign, 0), minlength=n).round().astype(np.int64)
    start = in_own + in_others
    depth = start[ray] + _group_cumsum(ray, sign, n)
    at_exit = np.flatnonzero(depth == 0)
    rays_out, first = np.unique(ray[at_exit], return_index=True)
    good = (in_own[rays_out] == 1) & (in_others[rays_out] == 0)
    out[rays_out[good]] = dist[at_exit[first]][good]
    return out


def points_inside(points: FloatArray, tris: FloatArray) -> NDArray[np.bool_]:
    """Whether each point (n, 3) lies inside the closed, outward-wound shell of triangles ``tris`` (t, 3, 3):
    (n,) bools. A ray from each point in one fixed, generic direction; the crossings ahead, leaving minus
    entering, are 1 inside and 0 outside.

    All rays are parallel, so this is a 2D problem in the plane across them: triangles are binned into a
    grid by their projected boxes and each point tests only the triangles of its cell.
    """
    result = np.zeros(len(points), bool)
    if len(points) == 0 or len(tris) == 0:
        return result
    axis = _INSIDE_DIR
    e1 = np.cross(axis, [0.0, 0.0, 1.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(axis, e1)
    basis = np.stack([e1, e2], axis=1)  # (3, 2)
    t2 = tris @ basis  # (t, 3, 2)
    depth = tris @ axis  # (t, 3)
    p2, pd = points @ basis, points @ axis
    lo, hi = t2.reshape(-1, 2).min(axis=0), t2.reshape(-1, 2).max(axis=0)
    side = max(1, int(math.sqrt(len(tris))))
    cell = max(float((hi - lo).max()) / side, 1e-9)
    dims = np.floor((hi - lo) / cell).astype(np.int64) + 1
    c0 = np.floor((t2.min(axis=1) - lo) / cell).astype(np.int64)
    c1 = np.floor((t2.max(axis=1) - lo) / cell).astype(np.int64)
    span = c1 - c0 + 1
    count = span[:, 0] * span[:, 1]
    tri_of = np.repeat(np.arange(len(tris)), count)
    k = np.arange(len(tri_of)) - np.repeat(np.cumsum(count) - count, count)
    cx = c0[tri_of, 0] + k % span[tri_of, 0]
    cy = c0[tri_of, 1] + k // span[tri_of, 0]
    cell_id = cx * dims[1] + cy
    order = np.argsort(cell_id, kind="stable")
    cell_id, tri_of = cell_id[order], tri_of[order]
    starts = np.searchsorted(cell_id, np.arange(dims[0] * dims[1] + 1))
    pc = np.floor((p2 - lo) / cell).astype(np.int64)
    ok = ((pc >= 0) & (pc < dims)).all(axis=1)
    pts = np.flatnonzero(ok)
    pid = pc[pts, 0] * dims[1] + pc[pts, 1]
    first, n_cand = starts[pid], starts[pid + 1] - starts[pid]
    point_of = np.repeat(pts, n_cand)
    cand = tri_of[np.repeat(first, n_cand) + np.arange(n_cand.sum()) - np.repeat(np.cumsum(n_cand) - n_cand, n_cand)]
    a, b, c = t2[cand, 0], t2[cand, 1], t2[cand, 2]
    q = p2[point_of]

    def edge(u: FloatArray, v: FloatArray) -> FloatArray:  # twice the signed area of (u, v, q)
        return (v[:, 0] - u[:, 0]) * (q[:, 1] - u[:, 1]) - (v[:, 1] - u[:, 1]) * (q[:, 0] - u[:, 0])

    wa, wb, wc = edge(b, c), edge(c, a), edge(a, b)
    area = wa + wb + wc
    hit = np.where(area > 0.0, (wa >= 0.0) & (wb >= 0.0) & (wc >= 0.0), (wa <= 0.0) & (wb <= 0.0) & (wc <= 0.0))
    hit &= area != 0.0
    safe = np.where(area != 0.0, area, 1.0)
    hit_depth = (wa * depth[cand, 0] + wb * depth[cand, 1] + wc * depth[cand, 2]) / safe
    hit &= hit_depth > pd[point_of]
    # The projection turns counter-clockwise (area > 0) where the outward normal points along the rays:
    # there a ray leaves the part.
    crossings = np.bincount(point_of[hit], weights=np.sign(area[hit]), minlength=len(points))
    return crossings.round() == 1

"""A lighter variant of a ring or pendant: its metal thinned, from the side no one sees, to the minimum wall.

Rings are thinned from the inside: each vertex of the band's inner surface moves straight out from the
finger's axis (ring frame: the y axis) until the metal outside it is ``target`` thick, except the vertices
the finger touches (at the band's smallest radius: the fit), which stay. A comfort-fit band so gets two
channels inside, either side of the rib that sits on the finger; its outside, its width and its inner
diameter are the original's. Pendants are thinned from the back: each vertex of the body's back moves
forward (+z) until the metal in front of it is ``target`` thick, and no nearer than ``target`` to any of the
front where it slopes (a puffed heart's back becomes its front offset inward); the outline seen from the front
and the front itself are the original's. Stones, settings, bails and jump rings are left as they are.

Only vertices move (the faces are the original's), so a watertight mesh stays watertight. ``target`` starts
a little over the minimum wall (the walls are measured along the surface's normal, a sloped channel's wall
reads thinner than the straight-out distance) and grows until :mod:`tryon.jewelry.facts`' ray casting reads
every thinned node at least the minimum. Units: the scene's (metres); facts in millimetres and grams.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import trimesh

from tryon.errors import InputError
from tryon.jewelry.catalog import Catalog, Item
from tryon.jewelry.facts import DEFAULT_MIN_WALL_MM, ItemFacts, item_facts, scene_facts
from tryon.jewelry.geometry.raycast import exit_distances
from tryon.jewelry.geometry.units import MM, FloatArray
from tryon.jewelry.materials import METALS
from tryon.jewelry.necklaces import unit_size
from tryon.jewelry.pricing import list_price

__all__ = ["LIGHTER_KINDS", "Lighter", "front_silhouette", "lighter_variant", "thinned_nodes"]

LIGHTER_KINDS = ("ring", "pendant")
_FIRST_MARGIN = 1.15  # the first target: this times the minimum wall
_GROW = 1.1  # the target grows by this while a thinned node reads under the minimum
_TRIES = 6
_MIN_SAVING = 0.01  # under 1 % of the metal saved is no lighter variant
_FIT_TOL_MM = 1e-3  # inner vertices within this of the smallest radius are the fit: they stay
_KEEP = ("bail", "ring", "stone")  # pendant nodes that are not its body (what hangs it, what it holds)


@dataclass(frozen=True)
class Lighter:
    """The lighter variant proposed for one item (or why there is none: ``refused`` not empty).

    grams: metal only; thinnest_mm: the thinnest of the thinned nodes in the variant; price_*: the
    :func:`tryon.jewelry.pricing.list_price` of the item's and the variant's facts (same model as the catalog).
    """

    item_id: str
    kind: str
    metal: str
    grams_before: float
    refused: str = ""
    grams_after: float | None = None
    thinnest_mm: float | None = None
    min_wall_mm: float = DEFAULT_MIN_WALL_MM
    target_mm: float | None = None
    nodes: tuple[str, ...] = ()
    price_before: float | None = None
    price_after: float | None = None
    watertight: bool = True
    scene: trimesh.Scene | None = field(default=None, compare=False, repr=False)

    @property
    def saved_g(self) -> float | None:
        return None if self.grams_after is None else self.grams_before - self.grams_after

    @property
    def saved_pct(self) -> float | None:
        saved = self.saved_g
        return None if saved is None or self.grams_before <= 0.0 else 100.0 * saved / self.grams_before

    @property
    def price_difference(self) -> float | None:
        if self.price_before is None or self.price_after is None:
            return None
        return self.price_after - self.price_before

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None, nd: int = 4) -> float | None:
            return None if x is None else round(float(x), nd)

        return {"item_id": self.item_id, "kind": self.kind, "metal": self.metal, "lighter": not self.refused,
                "refused": self.refused or None, "grams_before": r(self.grams_before), "grams_after": r(self.grams_after),
                "saved_g": r(self.saved_g), "saved_pct": r(self.saved_pct, 2), "thinnest_mm": r(self.thinnest_mm),
                "min_wall_mm": self.min_wall_mm, "target_mm": r(self.target_mm), "nodes": list(self.nodes),
                "price_before": self.price_before, "price_after": self.price_after,
                "price_difference": self.price_difference, "watertight": self.watertight}


def thinned_nodes(scene: trimesh.Scene, kind: str) -> list[str]:
    """The nodes a lighter variant thins: a ring's "band"; a pendant's metal body (``pendant_*`` nodes other
    than its bail, jump ring and stones)."""
    names = sorted(str(n) for n in scene.graph.nodes_geometry)
    if kind == "ring":
        return [n for n in names if n == "band"]
    if kind == "pendant":
        out = []
        for n in names:
            material = getattr(getattr(scene.geometry[scene.graph[n][1]].visual, "material", None), "name", "")
            if n.startswith("pendant") and not any(n.endswith(k) for k in _KEEP) and material in METALS:
                out.append(n)
        return out
    return []


def _thin_mesh(mesh: trimesh.Trimesh, matrix: FloatArray, kind: str, target_mm: float) -> trimesh.Trimesh:
    """The node's mesh with its hidden side moved in so the metal over each such vertex is at most
    ``target_mm`` along the move (rings: out from the y axis; pendants: +z). Same faces and vertex order."""
    verts = trimesh.transform_points(np.asarray(mesh.vertices, np.float64), matrix) / MM  # mm, scene frame
    normals = np.asarray(mesh.vertex_normals, np.float64) @ matrix[:3, :3].T
    # One move per position: flat-shaded copies of a vertex move together (the mesh stays closed).
    unique, inverse = np.unique(np.round(verts, 6), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if kind == "ring":
        radial = unique * [1.0, 0.0, 1.0]
        radius = np.linalg.norm(radial, axis=1)
        dirs = radial / np.maximum(radius, 1e-9)[:, None]
        movable = radius > radius.min() + _FIT_TOL_MM  # the fit stays
    else:
        dirs = np.tile([0.0, 0.0, 1.0], (len(unique), 1))
        movable = np.ones(len(unique), bool)
    # A position is on the hidden side when one of its copies faces against the move.
    facing = np.einsum("ij,ij->i", normals, dirs[inverse])
    hidden = np.zeros(len(unique), bool)
    np.logical_or.at(hidden, inverse, facing < -0.5)
    pick = np.flatnonzero(hidden & movable)
    tris = unique[inverse][np.asarray(mesh.faces)]
    nudge = 1e-4
    # A 1e-4 rad tilt (seeded): a ray aimed exactly at a vertex across the metal (a back vertex right under a
    # front one) grazes an edge and reads nothing.
    aim = dirs[pick] + np.random.default_rng(7919).normal(scale=1e-4, size=(len(pick), 3))
    aim /= np.linalg.norm(aim, axis=1, keepdims=True)
    # A vertex on an edge (a sheet's back meeting its side wall) would cast along the wall: start 0.01 mm in
    # from the side its copies face (the mean of their normals, less its part along the move).
    mean = np.zeros_like(unique)
    np.add.at(mean, inverse, normals)
    side = mean[pick] - np.einsum("ij,ij->i", mean[pick], dirs[pick])[:, None] * dirs[pick]
    size = np.linalg.norm(side, axis=1, keepdims=True)
    inward = np.divide(side, size, out=np.zeros_like(side), where=size > 1e-6 * np.abs(mean[pick]).max())
    t = exit_distances(unique[pick] + nudge * aim - 0.01 * inward, aim, tris, np.zeros((0, 3, 3))) + nudge
    step = np.where(np.isfinite(t), np.maximum(t - target_mm, 0.0), 0.0)
    if kind == "pendant":  # not only straight ahead: where the front slopes, keep target_mm to all of it
        step = np.minimum(step, _clearance(unique[pick], tris, target_mm))
    moved = unique.copy()
    moved[pick] += step[:, None] * dirs[pick]
    back = trimesh.transform_points(moved[inverse] * MM, np.linalg.inv(matrix))
    out = trimesh.Trimesh(back, np.asarray(mesh.faces), process=False)  # normals from the new faces
    if mesh.visual is not None:
        out.visual = mesh.visual.copy()
    return out


def _clearance(points: FloatArray, tris: FloatArray, target_mm: float) -> FloatArray:
    """How far each point (n, 3; mm) may move along +z and stay ``target_mm`` from every front-facing triangle
    (of ``tris`` (t, 3, 3)): under each point of the front (sampled every 0.05 mm or so), a sphere of that
    radius; the point stops at the lowest of them. (n,) mm, at least 0."""
    from scipy.spatial import cKDTree

    cross = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    front = tris[cross[:, 2] > 1e-12]
    area = 0.5 * np.linalg.norm(np.cross(front[:, 1] - front[:, 0], front[:, 2] - front[:, 0]), axis=1)
    count = int(min(400_000, max(1000, area.sum() / 0.05**2)))
    rng = np.random.default_rng(7919)
    which = rng.choice(len(front), size=count, p=area / area.sum())
    a, b = rng.random((2, count))
    flip = a + b > 1.0
    a, b = np.where(flip, 1.0 - a, a), np.where(flip, 1.0 - b, b)
    f = front[which]
    samples = np.concatenate([f[:, 0] + a[:, None] * (f[:, 1] - f[:, 0]) + b[:, None] * (f[:, 2] - f[:, 0]),
                              front.reshape(-1, 3)])
    tree = cKDTree(samples[:, :2])
    out = np.full(len(points), np.inf)
    for i, near in enumerate(tree.query_ball_point(points[:, :2], target_mm)):
        if near:
            p = samples[near]
            d2 = ((p[:, :2] - points[i, :2]) ** 2).sum(axis=1)
            out[i] = float(np.min(p[:, 2] - np.sqrt(np.maximum(target_mm**2 - d2, 0.0)))) - points[i, 2]
    return np.maximum(out, 0.0)


def _thinned_scene(scene: trimesh.Scene, nodes: list[str], kind: str, target_mm: float) -> trimesh.Scene:
    out = scene.copy()
    for node in nodes:
        matrix, geom = out.graph[node]
        out.geometry[geom] = _thin_mesh(scene.geometry[geom], np.asarray(matrix, np.float64), kind, target_mm)
    return out


def _facts_of(scene: trimesh.Scene, item: Item, min_wall_mm: float, length_mm: float | None) -> ItemFacts:
    pitch = unit_size(scene).pitch_mm if item.kind == "pendant" else None
    return scene_facts(scene, item_id=item.id, kind=item.kind, metal=item.metal, length_mm=length_mm,
                       pitch_mm=pitch, min_wall_mm=min_wall_mm)


def lighter_variant(catalog: Catalog, item: Item | str, *, min_wall_mm: float = DEFAULT_MIN_WALL_MM) -> Lighter:
    """The lighter variant of a ring or pendant thinned to ``min_wall_mm`` (see the module's docstring), or a
    :class:`Lighter` with ``refused`` saying why there is none (not a ring or pendant, no body to thin, a
    body already at or under the minimum, too little to take off)."""
    if not min_wall_mm > 0.0:
        raise InputError(f"Minimum wall {min_wall_mm} mm must be positive.")
    item = catalog.get(item) if isinstance(item, str) else item
    before = item_facts(catalog, item, min_wall_mm=min_wall_mm)

    def refuse(reason: str) -> Lighter:
        return Lighter(item.id, item.kind, item.metal, before.metal_weight_g, reason, min_wall_mm=float(min_wall_mm))

    if item.kind not in LIGHTER_KINDS:
        return refuse(f"a {item.kind}: only rings and pendants are made lighter")
    scene = catalog.load_scene(item)
    nodes = thinned_nodes(scene, item.kind)
    if not nodes:
        return refuse("no metal body to thin (only a setting, a bail or stones)")
    thin = {n: before.thickness_by_node.get(n) for n in nodes}
    for node, value in thin.items():
        if value is None:
            return refuse(f"{node}: its wall could not be measured (not watertight)")
        if value < min_wall_mm * _FIRST_MARGIN:
            return refuse(f"already at the minimum wall: {node} is {value:.2f} mm "
                                             f"(minimum {min_wall_mm:g} mm)")
    length = item.dimensions_mm.get("length") if item.kind == "pendant" else None
    price_before = list_price(before, item.kind)
    target = min_wall_mm * _FIRST_MARGIN
    for _ in range(_TRIES):
        variant = _thinned_scene(scene, nodes, item.kind, target)
        after = _facts_of(variant, item, min_wall_mm, length)
        thinnest = min((after.thickness_by_node.get(n, 0.0) for n in nodes), default=0.0)
        if thinnest >= min_wall_mm:
            break
        target *= _GROW
    else:
        return refuse(f"no thinning reads {min_wall_mm:g} mm everywhere (at {target:.2f} mm "
                                         f"the thinnest is {thinnest:.2f} mm)")
    if after.metal_weight_g > before.metal_weight_g * (1.0 - _MIN_SAVING):
        return refuse(f"little to thin: taking the thinnable metal to {target:.2f} mm saves under "
                      f"{100 * _MIN_SAVING:g} % of the metal")
    return Lighter(item.id, item.kind, item.metal, before.metal_weight_g, min_wall_mm=float(min_wall_mm),
                   grams_after=after.metal_weight_g, thinnest_mm=thinnest, target_mm=target,
                   nodes=tuple(nodes), price_before=price_before, price_after=list_price(after, item.kind),
                   watertight=after.watertight, scene=variant)


def front_silhouette(scene: trimesh.Scene, px_mm: float = 0.05, nodes: list[str] | None = None,
                     box_mm: tuple[float, float, float, float] | None = None) -> tuple[np.ndarray, tuple[float, ...]]:
    """The scene seen from the front (+z, orthographic): a (h, w) bool mask at ``px_mm`` a pixel over
    ``box_mm`` (x0, y0, x1, y1; default the nodes' own box), and that box. ``nodes``: default all but a
    necklace's chain unit (``link*``)."""
    import cv2

    names = nodes if nodes is not None else [str(n) for n in scene.graph.nodes_geometry
                                             if not str(n).startswith("link")]
    tris = []
    for node in names:
        placed, geom = scene.graph[node]
        v = trimesh.transform_points(np.asarray(scene.geometry[geom].vertices, np.float64),
                                     np.asarray(placed, np.float64)) / MM
        tris.append(v[np.asarray(scene.geometry[geom].faces)][:, :, :2])
    xy = np.concatenate(tris)
    if box_mm is None:
        lo, hi = xy.reshape(-1, 2).min(axis=0) - 1.0, xy.reshape(-1, 2).max(axis=0) + 1.0
        box_mm = (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))
    x0, y0, x1, y1 = box_mm
    w, h = int(np.ceil((x1 - x0) / px_mm)), int(np.ceil((y1 - y0) / px_mm))
    img = np.zeros((h, w), np.uint8)
    pts = np.round((xy - [x0, y0]) / px_mm * 16.0).astype(np.int32)  # 4 bits of sub-pixel
    for tri in pts:  # one by one: fillPoly with many polygons fills their overlaps even-odd
        cv2.fillConvexPoly(img, tri, (1,), lineType=cv2.LINE_8, shift=4)
    return img.astype(bool), box_mm

"""Manufacturing facts per catalog item: metal volume and weight, stones (size, count, carat), thinnest metal.

Everything is measured on the item's own meshes (the GLB the renderer draws), in millimetres:

Metal names (:data:`tryon.jewelry.materials.METALS`) are read as these alloys (golds are all 18 karat):

==================  ==========================================================  =========
name                alloy                                                       g/cm^3
==================  ==========================================================  =========
``yellow_gold``     18k (750) yellow gold, Au 75 / Ag 12.5 / Cu 12.5             15.5
``white_gold``      18k (750) nickel white gold, rhodium plated                  14.7
``rose_gold``       18k (750) rose gold, Au 75 / Cu 22 / Ag 3                    15.1
``silver``          sterling silver 925, Ag 92.5 / Cu 7.5                        10.36
``platinum``        platinum 950 (Pt 95 / Co 5 casting alloy)                    20.1
``stainless_steel`` AISI 316L (watch cases)                                      8.0
==================  ==========================================================  =========

(sources in :data:`METAL_ALLOYS`). Stones weigh their mesh volume times the specific gravity in
:data:`STONE_SG`; 1 carat = 0.2 g. Pearls are sold by size (mm), not by carat: they are reported by
diameter with an estimated weight.

Metal volume: each metal node's mesh, vertices merged by position (flat-shaded parts duplicate them), is
split into its closed shells ("parts": a prong, a rail, a post); each part's volume is trimesh's
``volume`` of the closed, outward-wound shell. Parts of one piece overlap where the generator sinks one into
another (a prong into the gallery, a bail into a coin's rim); the overlap of every pair of parts is
measured (the divergence theorem on their common surface, see :func:`_pair_overlap`) and taken off, so the
volume is the union's (to second order: where three parts overlap at once, that little is taken off twice;
the herringbone choker, whose links overlap three deep, reads about 1 % light). A part that is not
watertight is patched (its holes filled) or else falls back to its convex hull's volume (an upper bound),
with a note, and its thickness is not measured.

Necklaces hold one repeat unit of the chain (nodes ``link*``): the chain's metal is the unit's (overlaps
with the next unit taken off) times ``length / pitch``, plus the pendant's (``pendant*`` nodes). Clasps
and jump rings at the chain's ends are not modelled.

Thinnest metal: from a sample of points on each part's designed surface (vertices of smooth-shaded surface,
which lie on it where its faces are chords; centres of flat-shaded faces) a ray is cast inward along the
negative normal; the distance to where it leaves the metal (the union of all parts, so a prong's foot sunk
in the gallery is not read as thin) is the wall, wire or prong thickness there. A part's thickness is a
low percentile (:data:`THIN_PERCENTILE`) of its samples; the item's thinnest metal is the thinnest part's.
A chord along the normal reads a round wire or a sheet exactly, but a section that tapers to an edge (a
comfort-fit band's edges, a knife-edge hoop) reads thicker than its very edge except where the taper is
sharp. Rays are cast by :mod:`tryon.jewelry.geometry.raycast` (numpy Moller-Trumbore), over a deterministic
sample.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.jewelry import materials
from tryon.jewelry.catalog import NECK_KINDS, Catalog, Item
from tryon.jewelry.geometry.raycast import exit_distances, points_inside
from tryon.jewelry.necklaces import PEARLS, unit_size

__all__ = [
    "CARAT_G",
    "DEFAULT_MIN_WALL_MM",
    "METAL_ALLOYS",
    "STONE_SG",
    "ItemFacts",
    "MetalAlloy",
    "StoneFacts",
    "catalog_facts",
    "item_facts",
    "metal_density",
    "round_brilliant_carat",
    "scene_facts",
    "stone_sg",
]

CARAT_G = 0.2  # the metric carat (CIPM 1907)
DEFAULT_MIN_WALL_MM = 0.8  # the usual casting minimum for walls, prongs and wire
THIN_PERCENTILE = 2.0  # a part's thickness: this percentile of its samples (robust to a stray ray)
DEFAULT_SAMPLES = 1200  # thickness rays per item, shared among its distinct parts
_MIN_PART_SAMPLES = 48
_OVERLAP_SAMPLES = 60_000  # sample points on the surfaces of a pair of overlapping parts, at most (about)
_NUDGE_MM = 1e-4  # thickness rays start this far inside the surface

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MetalAlloy:
    """What a catalog metal name means: the alloy, its density (g/cm^3) and where that comes from."""

    name: str
    alloy: str
    density_g_cm3: float
    source: str


# Rule of mixtures below: 1 / sum(w_i / rho_i) with Au 19.32, Ag 10.49, Cu 8.96, Ni 8.91, Zn 7.14,
# Pt 21.45, Co 8.90, Ru 12.45 g/cm^3 (CRC Handbook); real alloys land within about 1 % of it.
METAL_ALLOYS: dict[str, MetalAlloy] = {
    a.name: a
    for a in (
        # 24carat.co.uk "Density of gold, silver, platinum & other jewellery metals": 18ct yellow 15.2-15.9;
        # rule of mixtures for Au 75 / Ag 12.5 / Cu 12.5 (the classic 2N 18k): 15.46.
        MetalAlloy("yellow_gold", "18k (750) yellow gold, Au 75 / Ag 12.5 / Cu 12.5", 15.5,
                   "18ct yellow 15.2-15.9 (24carat.co.uk); rule of mixtures 15.46"),
        # The catalog's white gold is rhodium plated (materials.py), the usual finish of NICKEL white gold.
        # 24carat.co.uk: 18ct white 14.7-16.9 (nickel whites at the low end, palladium whites higher);
        # rule of mixtures for Au 75 / Ni 17.3 / Cu 2.2 / Zn 5.5: 14.62.
        MetalAlloy("white_gold", "18k (750) nickel white gold, Au 75 / Ni 17.3 / Zn 5.5 / Cu 2.2, rhodium plated",
                   14.7, "18ct white 14.7-16.9 (24carat.co.uk), nickel white at the low end; rule of mixtures 14.62"),
        # 18k red/rose gold as in materials.py (Cretu & van der Lingen, Gold Bulletin 1999): Au 75 / Cu 22 /
        # Ag 3; rule of mixtures 15.10. No measured figure at hand: this one is computed.
        MetalAlloy("rose_gold", "18k (750) rose gold, Au 75 / Cu 22 / Ag 3", 15.1,
                   "rule of mixtures 15.10 (computed, not measured)"),
        # Sterling: rule of mixtures for Ag 92.5 / Cu 7.5 gives 10.36 (24carat.co.uk lists 10.2-10.3).
        MetalAlloy("silver", "sterling silver 925, Ag 92.5 / Cu 7.5", 10.36,
                   "rule of mixtures 10.36 (24carat.co.uk: 10.2-10.3)"),
        # 24carat.co.uk: 950 platinum 20.1 (pure Pt 21.45). By the rule of mixtures Pt950/Co (GIA: "an
        # excellent alloy for casting") is 20.0, Pt950/Ru 20.7, Pt950/Ir 21.5: 20.1 reads Pt/Co.
        MetalAlloy("platinum", "platinum 950, Pt 95 / Co 5 (casting alloy)", 20.1,
                   "950 platinum 20.1 (24carat.co.uk); pure Pt 21.45; Pt950/Ru 20.7, Pt950/Ir 21.5 (computed)"),
        # AISI 316L (UNS S31603): 8.0 g/cm^3 (0.29 lb/in^3), as steel makers' 316/316L data sheets give it.
        MetalAlloy("stainless_steel", "AISI 316L stainless steel (UNS S31603)", 8.0,
                   "316/316L data sheets: 8.0 (0.29 lb/in^3)"),
    )
}

# Specific gravity (g/cm^3) of the gems in materials.GEMS and the pearls: GIA Gem Reference Guide values.
STONE_SG: dict[str, float] = {
    "diamond": 3.52,  # 3.52 (+-0.01)
    "ruby": 4.00,  # corundum 3.99-4.01
    "sapphire": 4.00,  # corundum 3.99-4.01
    "emerald": 2.72,  # beryl, emerald 2.67-2.78
    "amethyst": 2.65,  # quartz 2.65
    "aquamarine": 2.72,  # beryl, aquamarine 2.68-2.74
    "citrine": 2.65,  # quartz 2.65
    "cubic_zirconia": 5.70,  # synthetic, 5.6-6.0 by stabiliser
    # Nacre (aragonite in conchiolin): cultured saltwater pearls 2.66-2.78 (GIA); ~2.70.
    "pearl": 2.70,
    "cream_pearl": 2.70,
    "black_pearl": 2.70,
}

# The jeweller's weight estimates of a round brilliant, d = girdle diameter, h = total depth (mm): diamond
# ct = d^2 h 0.0061 (the usual jeweller's formula, as GIA teaches it); coloured stones ct = d^2 h 0.0018 SG
# (the same with the stone's specific gravity in place of diamond's 0.0061 / 3.52 = 0.00173, rounded up).
_DIAMOND_FACTOR = 0.0061
_COLOURED_FACTOR = 0.0018


def metal_density(name: str) -> float:
    """Density (g/cm^3) of a catalog metal; raises :class:`InputError` for a name not in the table."""
    alloy = METAL_ALLOYS.get(materials.metal(name).name)
    if alloy is None:  # a metal added to materials.py without a density here
        raise InputError(f"No density for metal {name!r}; add it to facts.METAL_ALLOYS.")
    return alloy.density_g_cm3


def stone_sg(name: str) -> float:
    """Specific gravity of a gem or pearl material; raises :class:`InputError` for an unknown one."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in STONE_SG:
        raise InputError(f"No specific gravity for stone {name!r}; known: {', '.join(sorted(STONE_SG))}.")
    return STONE_SG[key]


def round_brilliant_carat(diameter_mm: float, depth_mm: float, stone: str = "diamond") -> float:
    """The jeweller's estimate of a round brilliant's weight in carats (see ``_DIAMOND_FACTOR``)."""
    factor = _DIAMOND_FACTOR if stone == "diamond" else _COLOURED_FACTOR * stone_sg(stone)
    return diameter_mm**2 * depth_mm * factor


@dataclass(frozen=True)
class StoneFacts:
    """One kind of stone in an item: ``count`` alike stones of ``name`` (a gem or pearl material).

    diameter_mm: girdle diameter (round), width (pear) or pearl diameter; carat_each from the mesh volume
    times the specific gravity (1 ct = 0.2 g); length_mm: a fancy shape's length (None when round);
    depth_mm: table to culet; formula_carat_each: the jeweller's round-brilliant estimate (None for other
    cuts). :meth:`astuple` gives (name, count, diameter_mm, carat_each, carat_total).
    """

    name: str
    count: int
    diameter_mm: float
    carat_each: float
    carat_total: float
    cut: str = ""
    length_mm: float | None = None
    depth_mm: float = 0.0
    weight_g_each: float = 0.0
    formula_carat_each: float | None = None

    def astuple(self) -> tuple[str, int, float, float, float]:
        return (self.name, self.count, self.diameter_mm, self.carat_each, self.carat_total)


@dataclass(frozen=True)
class ItemFacts:
    """Manufacturing facts of one item (one earring: a pair weighs twice).

    metal_volume_mm3 / metal_weight_g: all metal parts (their union); stones: one :class:`StoneFacts` per
    kind of stone; thinnest_metal_mm: the thinnest wall, prong or wire (None without metal); ok: whether
    it is at least ``min_wall_mm``; notes: what the numbers rest on and what to watch.
    """

    item_id: str
    metal: str
    metal_volume_mm3: float
    metal_weight_g: float
    stones: list[StoneFacts]
    thinnest_metal_mm: float | None
    min_wall_mm: float
    ok: bool
    notes: list[str]
    kind: str = ""
    alloy: str = ""
    density_g_cm3: float = 0.0
    stone_weight_g: float = 0.0
    total_weight_g: float = 0.0
    thinnest_part: str | None = None  # the node holding the thinnest part
    thickness_by_node: dict[str, float] = field(default_factory=dict)
    overlap_mm3: float = 0.0  # taken off the parts' summed volume (the parts' overlaps)
    chain_length_mm: float | None = None
    chain_units: float | None = None
    watertight: bool = True

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (floats rounded to 0.1 um / 0.1 mg / 1e-4 ct)."""

        def r(x: float | None, nd: int = 4) -> float | None:
            return None if x is None else round(float(x), nd)

        return {
            "item_id": self.item_id,
            "kind": self.kind,
            "metal": self.metal,
            "alloy": self.alloy,
            "density_g_cm3": self.density_g_cm3,
            "metal_volume_mm3": r(self.metal_volume_mm3),
            "metal_weight_g": r(self.metal_weight_g),
            "stones": [
                {"name": s.name, "count": s.count, "cut": s.cut, "diameter_mm": r(s.diameter_mm),
                 "length_mm": r(s.length_mm), "depth_mm": r(s.depth_mm), "carat_each": r(s.carat_each),
                 "carat_total": r(s.carat_total), "weight_g_each": r(s.weight_g_each),
                 "formula_carat_each": r(s.formula_carat_each)}
                for s in self.stones
            ],
            "stone_weight_g": r(self.stone_weight_g),
            "total_weight_g": r(self.total_weight_g),
            "thinnest_metal_mm": r(self.thinnest_metal_mm),
            "thinnest_part": self.thinnest_part,
            "thickness_by_node": {k: r(v) for k, v in self.thickness_by_node.items()},
            "min_wall_mm": self.min_wall_mm,
            "ok": self.ok,
            "overlap_mm3": r(self.overlap_mm3),
            "chain_length_mm": r(self.chain_length_mm),
            "chain_units": r(self.chain_units),
            "watertight": self.watertight,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------- parts


@dataclass
class _Part:
    """One closed shell of a node, in millimetres, wound outward."""

    node: str
    material: str
    vertices: FloatArray
    faces: NDArray[np.int64]
    normals: FloatArray  # vertex normals (outward)
    volume: float
    area: float
    watertight: bool
    unit: bool = False  # part of a chain's repeat unit
    # Where the surface is sampled for thickness: vertices of smooth-shaded surface (the designed surface
    # passes through them, with the stored normal) and faces of flat-shaded surface (the face is the
    # designed surface). Vertices on a crease between flat faces have no one normal and are left out.
    smooth: NDArray[np.bool_] | None = None  # per vertex
    flat: NDArray[np.bool_] | None = None  # per face

    @cached_property
    def lo(self) -> FloatArray:
        return self.vertices.min(axis=0)

    @cached_property
    def hi(self) -> FloatArray:
        return self.vertices.max(axis=0)

    @cached_property
    def triangles(self) -> FloatArray:
        return self.vertices[self.faces]

    @property
    def signature(self) -> tuple[Any, ...]:
        """Alike for rigidly moved copies of one shape (a bracelet's links, a halo's beads)."""
        return (self.material, len(self.vertices), len(self.faces), round(self.volume, 3), round(self.area, 3))

    def shifted(self, offset: FloatArray) -> _Part:
        return _Part(self.node, self.material, self.vertices + offset, self.faces, self.normals, self.volume,
                     self.area, self.watertight, self.unit, self.smooth, self.flat)


def _material_name(mesh: trimesh.Trimesh) -> str:
    material = getattr(mesh.visual, "material", None)
    return str(getattr(material, "name", "") or "")


def _classify(material: str) -> str:
    if material in materials.METALS:
        return "metal"
    if material in materials.GEMS or material in PEARLS:
        return "stone"
    return "other"


def _merge_by_position(vertices: FloatArray, faces: NDArray[np.int64], normals: FloatArray) -> tuple[
        FloatArray, NDArray[np.int64], FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
    """Vertices merged where their positions agree (flat-shaded parts duplicate them).

    Returns the vertices, the faces (degenerate ones dropped), each vertex's normal (the mean of its
    copies' stored normals), whether the copies agreed on it (smooth shading: the builders' analytic
    normal), and per face whether its three stored normals are the same (flat shading).
    """
    unique, index, inverse = np.unique(np.round(vertices, 6), axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    unit_n = np.divide(normals, length, out=np.zeros_like(normals), where=length > 0.0)
    summed = np.zeros((len(unique), 3))
    np.add.at(summed, inverse, unit_n)
    size = np.linalg.norm(summed, axis=1, keepdims=True)
    merged_n = np.divide(summed, size, out=np.zeros_like(summed), where=size > 0.0)
    agree = np.ones(len(unique))
    np.minimum.at(agree, inverse, np.einsum("ij,ij->i", unit_n, merged_n[inverse]))
    corner = unit_n[faces]  # (f, 3, 3)
    flat = np.minimum(np.einsum("ij,ij->i", corner[:, 0], corner[:, 1]),
                      np.einsum("ij,ij->i", corner[:, 0], corner[:, 2])) > 0.9999
    out_faces = inverse[faces]
    keep = (out_faces[:, 0] != out_faces[:, 1]) & (out_faces[:, 1] != out_faces[:, 2]) & (
        out_faces[:, 2] != out_faces[:, 0])
    return vertices[index], out_faces[keep], merged_n, agree > 0.999, flat[keep]


def _node_parts(scene: trimesh.Scene, node: str, material: str, unit: bool) -> tuple[list[_Part], list[str]]:
    """The node's geometry in the scene's base frame (mm), merged by position and split into closed shells."""
    placed = scene.graph[node]
    matrix: FloatArray = np.asarray(placed[0], np.float64)
    mesh = scene.geometry[placed[1]]
    verts = trimesh.transform_points(np.asarray(mesh.vertices, np.float64), matrix) * 1000.0
    normals = np.asarray(mesh.vertex_normals, np.float64) @ matrix[:3, :3].T  # rigid: no inverse transpose
    verts, faces, normals, smooth, flat = _merge_by_position(verts, np.asarray(mesh.faces, np.int64), normals)
    whole = trimesh.Trimesh(verts, faces, process=False)
    labels = trimesh.graph.connected_component_labels(whole.face_adjacency, node_count=len(faces))
    notes = []
    parts = []
    for label in np.unique(labels):
        used, local = np.unique(faces[labels == label], return_inverse=True)
        shell = trimesh.Trimesh(verts[used], local.reshape(-1, 3), process=False)
        shell_n, shell_smooth, shell_flat = normals[used], smooth[used], flat[labels == label]
        watertight = bool(shell.is_watertight)
        if watertight and not shell.is_winding_consistent:
            trimesh.repair.fix_winding(shell)
        if watertight:
            with np.errstate(divide="ignore", invalid="ignore"):  # a closed shell of no volume (flat)
                volume = float(shell.volume)
            if volume < 0.0:
                shell.invert()
                volume = -volume
        else:
            patched = shell.copy()
            trimesh.repair.fill_holes(patched)
            if patched.is_watertight and patched.is_winding_consistent:
                volume = abs(float(patched.volume))
                notes.append(f"{node}: a part is not watertight; its holes were filled for its volume "
                             f"({volume:.3f} mm^3, approximate) and its thickness is not measured")
            else:
                try:
                    volume = float(shell.convex_hull.volume)
                except Exception:  # qhull: a flat or tiny shell (fewer than 4 points off one plane) has none
                    volume = 0.0
                notes.append(f"{node}: a part is not watertight; its volume is its convex hull's "
                             f"({volume:.3f} mm^3, an upper bound) and its thickness is not measured")
        # Stored normals that disagree with the (now outward) winding, or none at all: the faces' own.
        agree = np.einsum("ij,ij->i", shell.face_normals, shell_n[shell.faces].mean(axis=1))
        if not (np.isfinite(shell_n).all() and (np.linalg.norm(shell_n, axis=1) > 0.5).all() and
                (agree > 0.0).mean() > 0.9):
            shell_n = np.asarray(shell.vertex_normals, np.float64)
            shell_smooth, shell_flat = np.ones(len(shell_n), bool), np.zeros(len(shell.faces), bool)
        parts.append(_Part(node, material, np.asarray(shell.vertices, np.float64),
                           np.asarray(shell.faces, np.int64), shell_n, volume, float(shell.area), watertight, unit,
                           shell_smooth, shell_flat))
    return parts, notes


# ---------------------------------------------------------------- rays


def _sub_centres(k: int) -> FloatArray:
    """Barycentric (u, v) of the centres of the k^2 triangles a triangle splits into, k to an edge."""
    up = [[i + 1.0 / 3.0, j + 1.0 / 3.0] for i in range(k) for j in range(k - i)]
    down = [[i + 2.0 / 3.0, j + 2.0 / 3.0] for i in range(k - 1) for j in range(k - 1 - i)]
    return np.array(up + down) / k


def _pair_overlap(a: _Part, b: _Part) -> float:
    """Volume (mm^3) common to two closed, outward-wound parts, by the divergence theorem on the common
    solid's surface (a's surface inside b, and b's inside a) with the field (x_k - c_k) e_k, k the common
    box's shortest axis and c its middle: V = sum over that surface of (x_k - c_k) n_k dA. The lever
    x_k - c_k stays under half the box's shortest side (with 1/3 x . n instead, a rail sunk into a ring's
    band would sum terms as large as the ring's radius, and their small errors with them).

    Each triangle is split into k^2 pieces (k to an edge, 3 <= k <= 32; pieces no longer than an eighth of
    the box's shortest side, or as the surfaces' area allows for about _OVERLAP_SAMPLES points) and each
    piece counts where a ray finds its centre inside the other part: only pieces the other's surface cuts
    are approximate. Faces the two parts share (a rail flush with a band's edge) belong to the common
    surface once: a's sample points are moved a hair into a and b's a hair out of b before the test, so
    such a face counts from a's side only. (Faces pressed together from opposite sides would count from
    b's side though they bound no common volume; none of the builders make those.)
    """
    lo, hi = np.maximum(a.lo, b.lo), np.minimum(a.hi, b.hi)
    if (hi < lo).any():
        return 0.0
    axis = int(np.argmin(hi - lo))
    mid = (lo[axis] + hi[axis]) / 2.0
    sides = []
    for one, other, shift in ((a, b, -_NUDGE_MM / 10.0), (b, a, _NUDGE_MM / 10.0)):
        tris = one.triangles
        near = ((tris.max(axis=1) >= lo - 1e-6) & (tris.min(axis=1) <= hi + 1e-6)).all(axis=1)
        sides.append((tris[near], other, shift))
    area = sum(float(np.linalg.norm(np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0]), axis=1).sum()) / 2.0
               for t, _, _ in sides)
    # Pieces: an eighth of the common box's smallest side, but no more than _OVERLAP_SAMPLES in all.
    piece = max(0.125 * float((hi - lo).min()), math.sqrt(area / _OVERLAP_SAMPLES), 0.02)
    total = 0.0
    for tris, other, shift in sides:
        if len(tris) == 0:
            continue
        e1, e2 = tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]
        longest = np.maximum(np.linalg.norm(e1, axis=1), np.maximum(np.linalg.norm(e2, axis=1),
                                                                     np.linalg.norm(e2 - e1, axis=1)))
        cross = np.cross(e1, e2)
        n_area = cross[:, axis] / 2.0  # n_k x area
        hair = shift * cross / np.linalg.norm(cross, axis=1, keepdims=True)  # along the outward normal
        splits = np.clip(np.ceil(longest / piece), 3, 32).astype(int)
        for k in np.unique(splits):
            sel = np.flatnonzero(splits == k)
            uv = _sub_centres(int(k))
            points = (tris[sel, 0, None, :] + uv[None, :, 0, None] * e1[sel, None, :]
                      + uv[None, :, 1, None] * e2[sel, None, :]).reshape(-1, 3)
            moved = points + np.repeat(hair[sel], len(uv), axis=0)
            inside = np.zeros(len(points), bool)
            # Outside the common box (padded: faces on its sides are the parts' own): outside the other.
            box = ((points >= lo - 1e-6) & (points <= hi + 1e-6)).all(axis=1)
            if box.any():
                inside[box] = points_inside(moved[box], other.triangles)
            lever = np.where(inside, points[:, axis] - mid, 0.0).reshape(len(sel), len(uv))
            total += float(np.sum(lever.sum(axis=1) * n_area[sel]) / len(uv))
    return max(total, 0.0)


def _boxes_meet(a: _Part, b: _Part, pad: float = 0.0) -> bool:
    return bool((np.maximum(a.lo, b.lo) <= np.minimum(a.hi, b.hi) + pad).all())


def _pair_key(a: _Part, b: _Part) -> tuple[Any, ...]:
    """Alike for pairs that are rigid copies of one another (the same two shapes, placed alike)."""
    ca, cb = a.vertices.mean(axis=0), b.vertices.mean(axis=0)
    return (a.signature, b.signature, round(float(np.linalg.norm(ca - cb)), 3),
            round(float(np.linalg.norm(b.vertices - ca, axis=1).mean()), 3),
            round(float(np.linalg.norm(a.vertices - cb, axis=1).mean()), 3))


def _overlaps(pairs: Iterable[tuple[_Part, _Part]]) -> tuple[float, float]:
    """The summed common volume (mm^3) of the pairs of parts, and its weight (g, at the first part's
    density); pairs alike (:func:`_pair_key`) are measured once."""
    cache: dict[tuple[Any, ...], float] = {}
    volume = grams = 0.0
    for a, b in pairs:
        if not (a.watertight and b.watertight) or not _boxes_meet(a, b):
            continue
        key = _pair_key(a, b)
        if key not in cache:
            cache[key] = _pair_overlap(a, b)
        volume += cache[key]
        grams += cache[key] * metal_density(a.material) / 1000.0
    return volume, grams


# ---------------------------------------------------------------- thickness


def _surface_samples(part: _Part) -> tuple[FloatArray, FloatArray]:
    """Points on the part's designed surface and their outward normals: smooth-shaded vertices (a round
    wire's facets are chords; its vertices lie on the wire) and the centres of flat-shaded faces (a
    sheet's cap). All vertices, with their normals, where the mesh carries no shading to tell."""
    smooth = part.smooth if part.smooth is not None else np.ones(len(part.vertices), bool)
    flat = part.flat if part.flat is not None else np.zeros(len(part.faces), bool)
    tris = part.triangles[flat]
    cross = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    points = np.concatenate([part.vertices[smooth], tris.mean(axis=1)])
    normals = np.concatenate([part.normals[smooth], cross / np.linalg.norm(cross, axis=1, keepdims=True)])
    if len(points) == 0:
        return part.vertices, part.normals
    return points, normals


def _part_thickness(part: _Part, context: list[_Part], samples: int, seed: int) -> FloatArray:
    """Wall thickness (mm) at up to ``samples`` points of the part's surface (:func:`_surface_samples`):
    rays inward along the negative normals, to where they leave the union of ``context`` (the part and
    every part near it)."""
    rng = np.random.default_rng(seed)
    points, normals = _surface_samples(part)
    pick = np.sort(rng.choice(len(points), size=min(samples, len(points)), replace=False))
    dirs = -normals[pick]
    # A 1e-4 rad tilt: rays aimed exactly at an opposite vertex (a round wire's) hit a triangle's inside.
    dirs = dirs + rng.normal(scale=1e-4, size=dirs.shape)
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    origins = points[pick] + _NUDGE_MM * dirs
    others = [p.triangles for p in context if p is not part]
    t = exit_distances(origins, dirs, part.triangles, np.concatenate(others) if others else np.zeros((0, 3, 3)))
    return t[np.isfinite(t)] + _NUDGE_MM


def _thickness(metal: list[_Part], pitch_mm: float | None, budget: int) -> dict[str, float]:
    """The thinnest of each node's parts (mm), measured on one of each set of alike parts."""
    reps: dict[tuple[Any, ...], _Part] = {}
    for part in metal:
        if part.watertight:
            reps.setdefault(part.signature, part)
    if not reps:
        return {}
    # Neighbours a ray may run into: every part whose box meets the part's, and for a chain unit the
    # next and previous units' copies (the renderer repeats the unit every pitch along +y).
    pool = [p for p in metal if p.watertight]
    if pitch_mm:
        units = [p for p in pool if p.unit]
        for k in (-2, -1, 1, 2):
            pool += [p.shifted(np.array([0.0, k * pitch_mm, 0.0])) for p in units]
    per_part = max(_MIN_PART_SAMPLES, budget // len(reps))
    by_node: dict[str, float] = {}
    for index, part in enumerate(reps.values()):
        context = [part] + [p for p in pool if p is not part and _boxes_meet(part, p, pad=1e-3)]
        t = _part_thickness(part, context, per_part, seed=7919 + index)
        if len(t) == 0:
            continue
        value = float(np.percentile(t, THIN_PERCENTILE))
        by_node[part.node] = min(value, by_node.get(part.node, math.inf))
    return dict(sorted(by_node.items()))


# ---------------------------------------------------------------- stones


def _measure_stone(part: _Part) -> tuple[float, float | None, float, str]:
    """(diameter or width, length or None, depth, cut) of a stone part (mm)."""
    mesh = trimesh.Trimesh(part.vertices, part.faces, process=False)
    pts = part.vertices - part.vertices.mean(axis=0)
    # The table's axis: a stone is wider than deep, so it is the axis of the largest moment of inertia (of
    # a shell that has none, a flat or open one: the direction its corners spread least).
    with np.errstate(all="ignore"):  # a shell of no volume: its inertia divides by zero
        inertia_ok = abs(float(mesh.volume)) > 1e-12 and bool(np.isfinite(mesh.moment_inertia).all())
    if inertia_ok:
        moments, axes = mesh.principal_inertia_components, mesh.principal_inertia_vectors
        axis = axes[int(np.argmax(moments))]
    else:
        axis = np.linalg.eigh(np.cov(pts.T) + 1e-12 * np.eye(3))[1][:, 0]
    depth = float(np.ptp(pts @ axis))
    flat = pts - np.outer(pts @ axis, axis)
    d2 = ((flat[:, None, :] - flat[None, :, :]) ** 2).sum(axis=2)
    i, j = np.unravel_index(int(np.argmax(d2)), d2.shape)
    length = float(math.sqrt(d2[i, j]))
    across = np.cross(axis, (flat[j] - flat[i]) / max(length, 1e-12))
    width = float(np.ptp(flat @ across))
    if part.material in PEARLS:
        return length, None, depth, "pearl"
    cut = {110: "round brilliant", 46: "single cut"}.get(len(part.faces), "faceted")
    if width < 0.97 * length:
        if cut != "round brilliant":
            return width, length, depth, f"fancy {cut}"
        # A stretched brilliant: a pear's widest place lies off its middle, an oval's on it.
        along = flat @ ((flat[j] - flat[i]) / max(length, 1e-12))
        middle = 0.5 * (along.max() + along.min())
        off = abs(float(np.mean(along)) - middle)
        return width, length, depth, "pear" if off > 0.04 * length else "oval"
    return length, None, depth, cut


def _stones(stone_parts: list[_Part], multiplier: dict[str, float]) -> tuple[list[StoneFacts], list[str]]:
    """Group alike stones; ``multiplier``: per node, how many times the item holds it (chain units)."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for part in stone_parts:
        diameter, length, depth, cut = _measure_stone(part)
        sg = stone_sg(part.material)
        if cut == "pearl":  # the 320-triangle ball holds a little less than the pearl it draws
            grams = math.pi / 6.0 * diameter**3 / 1000.0 * sg
        else:
            grams = part.volume / 1000.0 * sg
        formula = round_brilliant_carat(diameter, depth, part.material) if cut == "round brilliant" else None
        key = (part.node, part.material, cut, round(diameter, 2), None if length is None else round(length, 2),
               round(grams, 5))
        entry = groups.setdefault(key, [part, diameter, length, depth, cut, grams, formula, 0])
        entry[7] += 1
    out: list[StoneFacts] = []
    notes: list[str] = []
    for (node, name, *_), (_part, diameter, length, depth, cut, grams, formula, count) in groups.items():
        count = int(round(count * multiplier.get(node, 1.0)))
        carat = grams / CARAT_G
        out.append(StoneFacts(name, count, diameter, carat, carat * count, cut, length, depth, grams, formula))
        if cut == "pearl":
            notes.append(f"pearls are sold by size, not carat: {count} x {diameter:.1f} mm {name.replace('_', ' ')}, "
                         f"about {grams:.2f} g each (a sphere of that size at SG {stone_sg(name):.2f}; "
                         f"{grams / 0.05:.1f} pearl grains)")
        elif formula is not None:
            notes.append(f"{name} {diameter:.2f} mm round brilliant: {carat:.3f} ct from the mesh, "
                         f"{formula:.3f} ct by the jeweller's formula (d^2 x depth x factor)")
    out.sort(key=lambda s: (-s.carat_each, s.name))
    return out, notes


# ---------------------------------------------------------------- facts


def scene_facts(scene: trimesh.Scene, *, item_id: str = "", kind: str = "", metal: str | None = None,
                length_mm: float | None = None, pitch_mm: float | None = None,
                min_wall_mm: float = DEFAULT_MIN_WALL_MM, samples: int = DEFAULT_SAMPLES) -> ItemFacts:
    """Facts of a built or loaded scene (metres, as the builders and GLBs are).

    ``kind``: the catalog kind; "necklace" and "pendant" read ``link*`` nodes as one repeat unit of a chain
    ``length_mm`` long (required then), repeated every ``pitch_mm`` (default: the scene's chain unit).
    ``metal``: the item's metal name (default: the first metal node's).
    """
    if not min_wall_mm > 0.0:
        raise InputError(f"Minimum wall {min_wall_mm} mm must be positive.")
    neck = kind in NECK_KINDS
    if neck:
        if pitch_mm is None:
            pitch_mm = unit_size(scene).pitch_mm
        if length_mm is None or not length_mm > 0.0 or not pitch_mm > 0.0:
            raise InputError(f"A necklace needs its length and pitch (got {length_mm}, {pitch_mm} mm).")
    units = length_mm / pitch_mm if neck and length_mm and pitch_mm else None

    notes: list[str] = []
    metal_parts: list[_Part] = []
    stone_parts: list[_Part] = []
    other: list[str] = []
    for node in sorted(str(n) for n in scene.graph.nodes_geometry):
        name = _material_name(scene.geometry[scene.graph[node][1]])
        role = _classify(name)
        if role == "other":
            other.append(f"{node} ({name or 'no material'})")
            continue
        unit = neck and node.startswith("link")
        parts, part_notes = _node_parts(scene, node, name, unit)
        notes += part_notes
        (metal_parts if role == "metal" else stone_parts).extend(parts)

    if metal is None:
        metal = metal_parts[0].material if metal_parts else ""
    alloy = METAL_ALLOYS.get(metal)
    watertight = all(p.watertight for p in metal_parts + stone_parts)

    # Metal: the parts' volumes, less their overlaps; chain units times the units in the length.
    unit_parts = [p for p in metal_parts if p.unit]
    fixed_parts = [p for p in metal_parts if not p.unit]
    fixed_v, fixed_g = _overlaps((a, b) for i, a in enumerate(fixed_parts) for b in fixed_parts[i + 1:])
    unit_v, unit_g = _overlaps((a, b) for i, a in enumerate(unit_parts) for b in unit_parts[i + 1:])
    if unit_parts and pitch_mm:  # the unit against the next two (each such pair once per unit)
        ahead = [b.shifted(np.array([0.0, k * pitch_mm, 0.0])) for k in (1, 2) for b in unit_parts]
        next_v, next_g = _overlaps((a, b) for a in unit_parts for b in ahead)
        unit_v, unit_g = unit_v + next_v, unit_g + next_g
    scale = units if units is not None else 1.0
    volume = sum(p.volume * (scale if p.unit else 1.0) for p in metal_parts)
    weight = sum(p.volume * (scale if p.unit else 1.0) * metal_density(p.material) / 1000.0 for p in metal_parts)
    overlap = fixed_v + unit_v * scale
    volume -= overlap
    weight -= fixed_g + unit_g * scale
    if overlap > 1e-6:
        notes.append(f"metal: {len(metal_parts)} parts; {overlap:.3f} mm^3 where parts are sunk into one another "
                     "is counted once")
    if alloy is not None and metal_parts:
        notes.append(f"{metal} read as {alloy.alloy}, {alloy.density_g_cm3:g} g/cm^3 ({alloy.source})")
    if not metal_parts:
        notes.append("no metal modelled" + (" (pearls knotted on silk; the clasp is not modelled)"
                                            if stone_parts and neck else ""))
    if neck:
        notes.append(f"chain: {units:.2f} units of {pitch_mm:.3f} mm make {length_mm:g} mm; "
                     "end rings and clasp not modelled")
    if kind == "earring":
        notes.append("one earring: a pair weighs twice this")
    if other:
        notes.append("not metal or stone, not weighed: " + ", ".join(other))

    # Stones.
    multiplier = {p.node: scale for p in stone_parts if neck and p.node.startswith("link")}
    stones, stone_notes = _stones(stone_parts, multiplier)
    notes += stone_notes
    stone_weight = sum(s.weight_g_each * s.count for s in stones)

    # Thinnest metal.
    by_node = _thickness(metal_parts, pitch_mm if unit_parts else None, samples)
    thinnest = min(by_node.values()) if by_node else None
    thinnest_node = min(by_node, key=lambda k: (by_node[k], k)) if by_node else None
    # No metal: nothing to check. Metal whose thickness could not be measured: not known to be ok.
    ok = thinnest >= min_wall_mm if thinnest is not None else not metal_parts
    if metal_parts and thinnest is None:
        notes.append("thickness not measured: no watertight metal part")
    if thinnest is not None and not ok:
        notes.append(f"thinnest metal {thinnest:.2f} mm ({thinnest_node}) is under the {min_wall_mm:g} mm minimum")
        if thinnest_node and thinnest_node.startswith("link"):
            notes.append("chain links are machine-made from wire or sheet, not cast; a casting minimum is "
                         "for cast parts")
        if thinnest_node and thinnest_node.startswith("hand"):
            notes.append("watch hands are stamped from sheet, not cast")

    return ItemFacts(
        item_id=item_id, metal=metal, metal_volume_mm3=volume, metal_weight_g=weight, stones=stones,
        thinnest_metal_mm=thinnest, min_wall_mm=float(min_wall_mm), ok=bool(ok), notes=notes, kind=kind,
        alloy=alloy.alloy if alloy else "", density_g_cm3=alloy.density_g_cm3 if alloy else 0.0,
        stone_weight_g=stone_weight,
        total_weight_g=weight + stone_weight, thinnest_part=thinnest_node, thickness_by_node=by_node,
        overlap_mm3=overlap, chain_length_mm=length_mm if neck else None, chain_units=units, watertight=watertight,
    )


def item_facts(catalog: Catalog, item: Item | str, *, min_wall_mm: float = DEFAULT_MIN_WALL_MM,
               length_mm: float | None = None, samples: int = DEFAULT_SAMPLES) -> ItemFacts:
    """Facts of one catalog item (its GLB). ``length_mm``: a necklace's length, if not the catalog's."""
    item = catalog.get(item) if isinstance(item, str) else item
    if length_mm is not None and item.kind not in NECK_KINDS:
        raise InputError(f"{item.id} is a {item.kind}, not a necklace: it has no chain length to set.")
    scene = catalog.load_scene(item)
    pitch = length = None
    if item.kind in NECK_KINDS:
        length = float(length_mm if length_mm is not None else item.dimensions_mm["length"])
        try:  # the scene's own unit (1e-6 mm); the catalog rounds its copy to 1 um
            pitch = unit_size(scene).pitch_mm
        except InputError:
            pitch = item.dimensions_mm.get("pitch")
    return scene_facts(scene, item_id=item.id, kind=item.kind, metal=item.metal, length_mm=length,
                       pitch_mm=pitch, min_wall_mm=min_wall_mm, samples=samples)


def catalog_facts(catalog: Catalog, *, min_wall_mm: float = DEFAULT_MIN_WALL_MM) -> list[ItemFacts]:
    """Facts of every item, in catalog order."""
    return [item_facts(catalog, item, min_wall_mm=min_wall_mm) for item in catalog]

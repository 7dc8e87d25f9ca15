"""Procedural earrings as ``trimesh.Scene`` objects, in real dimensions. Units: METRES.

Earring frame (the renderer relies on it):
    origin  the piercing point, where the post or wire enters the outer skin of the ear lobe;
    +y      up;
    +x      out of the ear along the piercing axis, away from the head;
    +z      completes a right-handed frame. Every piece is mirror-symmetric in z, so it fits either ear.

Stones are built in a "stone frame": girdle plane z = 0 through the girdle's centre, table facing +z.
``_STONE_TO_EAR`` turns that frame so the table faces +x.

Metal meshes carry smooth vertex normals; stone meshes have their vertices duplicated per triangle so
every facet shades flat (that is what makes facets read as facets). Merging a stone's vertices by position
gives a closed, watertight solid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import trimesh
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.jewelry import materials

__all__ = ["BrilliantCut", "MM", "brilliant", "drop", "hoop", "stud"]

MM = 1e-3  # metres per millimetre: every public size argument is in mm, every coordinate in m
POST_RADIUS_MM = 0.4  # 0.8 mm (20 gauge) is the usual earring post
POST_LENGTH_MM = 10.0

# Table normal +z (stone frame) -> +x (ear frame); a rotation of +90 degrees about y: z->x, x->-z, y->y.
_STONE_TO_EAR = trimesh.transformations.rotation_matrix(math.pi / 2.0, [0.0, 1.0, 0.0])

FloatArray = NDArray[np.float64]
Profile = tuple[FloatArray, FloatArray]  # (m, 2) points (u, v) and (m, 2) unit normals, counter-clockwise


@dataclass(frozen=True)
class BrilliantCut:
    """Proportions of a 57-facet brilliant, as fractions of the girdle diameter. Defaults: Tolkowsky's ideal.

    table: table width, corner to corner; crown/pavilion angles in degrees from the girdle plane;
    girdle: girdle thickness; star: star facet length from table edge towards the girdle;
    lower_girdle: lower girdle facet length from girdle towards the culet.
    """

    table: float = 0.56
    crown_angle_deg: float = 34.5
    pavilion_angle_deg: float = 40.75
    girdle: float = 0.025
    star: float = 0.5
    lower_girdle: float = 0.775

    def crown_height(self, diameter: float) -> float:
        """Height of the table above the girdle's top edge (same unit as ``diameter``)."""
        return (1.0 - self.table) * diameter / 2.0 * math.tan(math.radians(self.crown_angle_deg))

    def pavilion_depth(self, diameter: float) -> float:
        """Depth of the culet below the girdle's bottom edge (same unit as ``diameter``)."""
        return diameter / 2.0 * math.tan(math.radians(self.pavilion_angle_deg))


def _ring(radius: float, angles_deg: FloatArray, z: float) -> FloatArray:
    a = np.radians(angles_deg)
    return np.stack([radius * np.cos(a), radius * np.sin(a), np.full_like(a, z)], axis=1)


def _brilliant_facets(cut: BrilliantCut) -> tuple[FloatArray, list[list[int]]]:
    """Vertices (n, 3) of a brilliant with girdle radius 1, and its facets as vertex-index polygons.

    Facets: table 1, stars 8, bezels 8, upper girdles 16, pavilion mains 8, lower girdles 16 = 57 (pointed
    culet), plus 16 girdle quads. Mains and bezels are planar kites: their side points lie on the
    plane through the girdle point at the crown/pavilion angle, so the facets are true planes.
    """
    tan_c = math.tan(math.radians(cut.crown_angle_deg))
    tan_p = math.tan(math.radians(cut.pavilion_angle_deg))
    # Radius 1 means diameter 2, so half the girdle thickness is `girdle` (a fraction of the diameter).
    z_top, z_bot = cut.girdle, -cut.girdle
    rt = cut.table
    main = np.arange(8) * 45.0
    half = main + 22.5
    c225 = math.cos(math.radians(22.5))
    rs = rt * c225 + cut.star * (1.0 - rt * c225)
    rp = 1.0 - cut.lower_girdle
    blocks = [
        _ring(rt, main, z_top + (1.0 - rt) * tan_c),  # 0..7   table corners T
        _ring(rs, half, z_top + (1.0 - rs * c225) * tan_c),  # 8..15  star points S
        _ring(1.0, np.arange(16) * 22.5, z_top),  # 16..31 girdle top (even = main G, odd = half M)
        _ring(1.0, np.arange(16) * 22.5, z_bot),  # 32..47 girdle bottom
        _ring(rp, half, z_bot - (1.0 - rp * c225) * tan_p),  # 48..55 pavilion points P
        np.array([[0.0, 0.0, z_bot - tan_p]]),  # 56 culet
    ]
    verts = np.concatenate(blocks)
    ti, si, gt, gb, pi, cu = 0, 8, 16, 32, 48, 56  # first index of each block
    facets: list[list[int]] = [[ti + k for k in range(8)]]
    for k in range(8):
        k1, km = (k + 1) % 8, (k - 1) % 8
        g0, m0, g1 = 2 * k, 2 * k + 1, (2 * k + 2) % 16
        facets.append([ti + k, ti + k1, si + k])  # star
        facets.append([ti + k, si + km, gt + g0, si + k])  # bezel kite
        facets.append([si + k, gt + g0, gt + m0])  # upper girdle pair
        facets.append([si + k, gt + m0, gt + g1])
        facets.append([gb + g0, pi + k, cu, pi + km])  # pavilion main kite
        facets.append([gb + g0, gb + m0, pi + k])  # lower girdle pair
        facets.append([gb + m0, gb + g1, pi + k])
    for i in range(16):
        j = (i + 1) % 16
        facets.append([gt + i, gt + j, gb + j, gb + i])  # girdle
    return verts, facets


def _pear_radius(angles: FloatArray, length_over_width: float) -> FloatArray:
    """Distance from a pear outline's circle centre to the outline along ``angles`` (rad), width 2.

    Bottom half: the unit circle. Top half: y = k sqrt(1 - x^2) (1 - 0.55 |x|), which meets the circle
    with a vertical tangent and comes to a point (about 80 degrees) at (0, k), k = 2 L/W - 1.
    """
    k = 2.0 * length_over_width - 1.0
    x = np.linspace(1.0, -1.0, 2001)
    y = k * np.sqrt(1.0 - x**2) * (1.0 - 0.55 * np.abs(x))
    phi = np.arctan2(y, x)  # 0 .. pi, increasing
    rho = np.hypot(x, y)
    a = np.mod(angles, 2.0 * math.pi)
    top = np.interp(a, phi, rho)
    return np.where(a <= math.pi, top, 1.0)


def brilliant(
    diameter_mm: float, length_mm: float | None = None, cut: BrilliantCut = BrilliantCut()
) -> trimesh.Trimesh:
    """A flat-shaded brilliant in the stone frame (girdle plane z = 0, table towards +z), in metres.

    Round when ``length_mm`` is None; otherwise a pear of width ``diameter_mm`` and length ``length_mm``
    whose point is at +y, made by stretching the round cut radially onto the pear outline (the facet
    pattern then matches a real pear brilliant's only roughly). The circle part of a pear's outline is
    centred on the origin. Returns a mesh of 110 triangles with 3 unique vertices each (330 vertices).
    """
    if diameter_mm <= 0.0 or (length_mm is not None and length_mm < diameter_mm):
        raise InputError(f"Bad stone size: width {diameter_mm} mm, length {length_mm} mm.")
    verts, facets = _brilliant_facets(cut)
    tris = _outward_triangles(verts, facets)
    if length_mm is not None:
        # Radial stretch onto the pear outline: keeps horizontal rings planar and keeps the winding.
        scale = _pear_radius(np.arctan2(verts[:, 1], verts[:, 0]), length_mm / diameter_mm)
        verts = verts * np.stack([scale, scale, np.ones_like(scale)], axis=1)
    return _flat_shaded(verts * (diameter_mm / 2.0 * MM), tris)


def _outward_triangles(verts: FloatArray, facets: list[list[int]]) -> NDArray[np.int64]:
    """Fan-triangulate convex facets (vertex-index polygons) of a convex solid centred on the z axis, and
    wind every triangle outward (done while the solid is still convex and centred on the axis)."""
    tris = np.array([[f[0], f[i], f[i + 1]] for f in facets for i in range(1, len(f) - 1)])
    centre = np.array([0.0, 0.0, verts[:, 2].mean()])
    tv = verts[tris]
    normal = np.cross(tv[:, 1] - tv[:, 0], tv[:, 2] - tv[:, 0])
    inward = np.einsum("ij,ij->i", normal, tv.mean(axis=1) - centre) < 0.0
    tris[inward] = tris[inward][:, ::-1]
    return tris


def _flat_shaded(verts: FloatArray, tris: NDArray[np.int64]) -> trimesh.Trimesh:
    """A mesh with 3 vertices of its own per triangle, each carrying the triangle's normal."""
    flat = verts[tris].reshape(-1, 3)
    faces = np.arange(len(flat)).reshape(-1, 3)
    # Explicit per-corner facet normals go into the GLB, so a loader that merges vertices (trimesh's
    # default process=True) still keeps corners with different normals apart and the facets flat.
    normals = trimesh.triangles.normals(flat.reshape(-1, 3, 3))[0]
    return trimesh.Trimesh(flat, faces, vertex_normals=np.repeat(normals, 3, axis=0), process=False)


def _round_profile(radius: float, count: int = 12) -> Profile:
    a = np.arange(count) * (2.0 * math.pi / count)
    n = np.stack([np.cos(a), np.sin(a)], axis=1)
    return radius * n, n


def _rounded_polygon(corners: FloatArray, radii: list[float], arc_points: list[int]) -> Profile:
    """A convex counter-clockwise polygon (k, 2) with each corner rounded by an arc; returns a Profile."""
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


def _knife_profile(wire: float) -> Profile:
    """Knife-edge cross-section: a lozenge ``wire`` tall radially and 0.44 ``wire`` thick, nearly sharp
    at the outer edge (u > 0), softly rounded at the inner edge where it rests on skin."""
    u, v = wire / 2.0, 0.22 * wire
    corners = np.array([[u, 0.0], [0.0, v], [-u, 0.0], [0.0, -v]])
    uv, n = _rounded_polygon(corners, [0.02 * wire, 0.06 * wire, 0.12 * wire, 0.06 * wire], [3, 5, 7, 5])
    # Rounding pulls the outer edge and the ridges in; stretch back so the sizes are exactly as named.
    # Normals transform by the inverse scale (inverse transpose of a diagonal map).
    scale = np.array([u / uv[:, 0].max(), v / uv[:, 1].max()])
    n = n / scale
    return uv * scale, n / np.linalg.norm(n, axis=1, keepdims=True)


def _band_profile(width: float, v0: float, v1: float) -> Profile:
    """A bezel wall's cross-section: a rectangle ``width`` wide (radially) from height v0 to v1."""
    w = width / 2.0
    corners = np.array([[w, v0], [w, v1], [-w, v1], [-w, v0]])
    return _rounded_polygon(corners, [0.4 * w] * 4, [3] * 4)


def _sweep(path: FloatArray, profile: Profile) -> trimesh.Trimesh:
    """Sweep a closed cross-section along a closed counter-clockwise path in the z = 0 plane.

    path: (n, 2) points; profile: (m, 2) points (u along the path's outward normal, v along +z) and their
    (m, 2) normals. Returns a watertight tube of 2 n m triangles with the profile's analytic normals.
    """
    uv, nuv = profile
    n, m = len(path), len(uv)
    tangent = np.roll(path, -1, axis=0) - np.roll(path, 1, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    out = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)  # right of a counter-clockwise path = outward
    xy = path[:, None, :] + uv[None, :, 0, None] * out[:, None, :]
    z = np.broadcast_to(uv[None, :, 1, None], (n, m, 1))
    verts = np.concatenate([xy, z], axis=2).reshape(-1, 3)
    nxy = nuv[None, :, 0, None] * out[:, None, :]
    nz = np.broadcast_to(nuv[None, :, 1, None], (n, m, 1))
    normals = np.concatenate([nxy, nz], axis=2).reshape(-1, 3)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    a, b = i * m + j, i * m + (j + 1) % m
    c, d = (i + 1) % n * m + j, (i + 1) % n * m + (j + 1) % m
    faces = np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3), np.stack([a, d, b], -1).reshape(-1, 3)])
    mesh = trimesh.Trimesh(verts, faces, vertex_normals=normals, process=False)
    if mesh.volume < 0.0:
        mesh = trimesh.Trimesh(verts, faces[:, ::-1], vertex_normals=normals, process=False)
    return mesh


def _circle(radius: float, count: int) -> FloatArray:
    a = np.arange(count) * (2.0 * math.pi / count)
    return radius * np.stack([np.cos(a), np.sin(a)], axis=1)


def _torus(major: float, minor: float, count: int = 32) -> trimesh.Trimesh:
    """A ring in the z = 0 plane around the origin (metres)."""
    return _sweep(_circle(major, count), _round_profile(minor, 10))


def _capsule(p0: FloatArray, p1: FloatArray, radius: float) -> trimesh.Trimesh:
    """A rod with hemispherical ends from p0 to p1 (3,) (metres)."""
    axis = np.asarray(p1, float) - np.asarray(p0, float)
    # Built in millimetres: at metre scale trimesh's merge tolerance collapses the pole caps.
    rod = trimesh.creation.capsule(height=float(np.linalg.norm(axis)) / MM, radius=radius / MM, count=[8, 5])
    rod.apply_scale(MM)
    rod.apply_translation(-rod.bounds.mean(axis=0))  # trimesh versions differ on where the capsule starts
    rod.apply_transform(trimesh.geometry.align_vectors([0.0, 0.0, 1.0], axis))
    rod.apply_translation((np.asarray(p0) + np.asarray(p1)) / 2.0)
    return rod


def _ellipsoid(centre: FloatArray, radii: FloatArray) -> trimesh.Trimesh:
    blob = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    blob.apply_scale(radii)
    blob.apply_translation(centre)
    return blob


def _join(parts: list[trimesh.Trimesh], transform: FloatArray | None = None) -> trimesh.Trimesh:
    """Concatenate closed parts into one mesh, keeping each part's smooth vertex normals."""
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


def _dress(mesh: trimesh.Trimesh, material: str) -> trimesh.Trimesh:
    mesh.visual = trimesh.visual.TextureVisuals(material=materials.pbr_material(material))
    return mesh


def _translate(x: float, y: float, z: float) -> FloatArray:
    return trimesh.transformations.translation_matrix([x, y, z])


def stud(stone_mm: float = 5.0, metal: str = "yellow_gold", stone: str = "diamond") -> trimesh.Scene:
    """A round brilliant stud in a four-prong basket, with a post along -x into the lobe.

    Nodes: "stud_stone" (flat-shaded gem), "stud_setting" (prongs, basket rails, base, post). The back of the
    basket sits on the skin at x = 0; the table faces +x. Units: metres; ``stone_mm`` is the girdle diameter.
    """
    _check_names(metal, stone)
    if not 1.5 <= stone_mm <= 15.0:
        raise InputError(f"Stud stone {stone_mm} mm is outside 1.5..15 mm.")
    cut = BrilliantCut()
    d, r = stone_mm * MM, stone_mm * MM / 2.0
    g = cut.girdle * d / 2.0  # half the girdle thickness
    pav, crown = cut.pavilion_depth(d), cut.crown_height(d)
    prong = max(0.08 * d, 0.25 * MM)
    z_g = 0.6 * MM + prong + g + pav  # girdle centre: culet clears the base by 0.6 mm
    base_r = 0.3 * d
    parts = [_ellipsoid(np.array([0.0, 0.0, prong]), np.array([base_r + prong, base_r + prong, prong]))]
    for a in np.radians([45.0, 135.0, 225.0, 315.0]):  # an X of prongs, the classic four-prong look
        u = np.array([math.cos(a), math.sin(a), 0.0])
        low = u * base_r + [0.0, 0.0, prong]
        mid = u * (r + 0.5 * prong) + [0.0, 0.0, z_g]
        tip = u * (r - 0.05 * d) + [0.0, 0.0, z_g + g + 0.35 * crown]
        parts += [_capsule(low, mid, prong), _capsule(mid, tip, prong)]
    # Two rails tie the prongs together: one just under the girdle, one halfway down the pavilion.
    for frac in (0.15, 0.55):
        z = z_g - g - frac * pav
        rail = _torus(r * (1.0 - frac) + 0.5 * prong, 0.6 * prong)
        parts.append(rail.apply_translation([0.0, 0.0, z]))
    parts.append(
        _capsule(np.array([0.0, 0.0, prong]), np.array([0.0, 0.0, -POST_LENGTH_MM * MM]), POST_RADIUS_MM * MM)
    )
    gem_mesh = brilliant(stone_mm, cut=cut).apply_translation([0.0, 0.0, z_g]).apply_transform(_STONE_TO_EAR)
    scene = trimesh.Scene()
    scene.add_geometry(
        _dress(_join(parts, _STONE_TO_EAR), metal), node_name="stud_setting", geom_name="stud_setting"
    )
    scene.add_geometry(_dress(gem_mesh, stone), node_name="stud_stone", geom_name="stud_stone")
    return scene


def hoop(
    diameter_mm: float = 25.0,
    wire_mm: float = 2.0,
    profile: Literal["round", "knife"] = "round",
    metal: str = "yellow_gold",
    segments: int = 64,
) -> trimesh.Scene:
    """A closed hoop in the x-y plane whose wire runs through the lobe along x at its top.

    ``diameter_mm`` is the diameter of the wire's centre line, whose circle is centred at (0, -R, 0) so its
    top passes through the origin; the outer extent is ``diameter_mm + wire_mm``. ``profile`` "round" is a
    circular wire of diameter ``wire_mm``; "knife" a lozenge ``wire_mm`` wide radially, sharp at the outer
    edge.
    One node, "hoop"; 2 * segments * 12 (round) or 2 * segments * 20 (knife) triangles (64 segments: the
    polygon is within 0.03 mm of a 40 mm circle, and a few hundred triangles is what a software rasteriser
    draws in well under a millisecond).
    """
    _check_names(metal, None)
    if wire_mm <= 0.0 or diameter_mm < 4.0 * wire_mm:
        raise InputError(f"Hoop {diameter_mm} mm with a {wire_mm} mm wire is not a hoop.")
    if profile not in ("round", "knife"):
        raise InputError(f"Unknown hoop profile {profile!r}; use 'round' or 'knife'.")
    radius, wire = diameter_mm / 2.0 * MM, wire_mm * MM
    section = _round_profile(wire / 2.0) if profile == "round" else _knife_profile(wire)
    mesh = _sweep(_circle(radius, segments), section).apply_translation([0.0, -radius, 0.0])
    scene = trimesh.Scene()
    scene.add_geometry(_dress(mesh, metal), node_name="hoop", geom_name="hoop")
    return scene


def drop(
    stone_mm: float = 8.0,
    cut: Literal["pear", "round"] = "pear",
    metal: str = "white_gold",
    stone: str = "diamond",
    top_stone_mm: float = 3.0,
) -> trimesh.Scene:
    """A bezel-set stud with a loop, and a bezel-set stone hanging from it on a jump ring.

    ``stone_mm``: the hanging stone's length (pear, width = length / 1.6, point up) or diameter (round).
    Rigid nodes: "top_stone", "top_setting" (bezel, back, post along -x, loop under the bezel).
    Dangling: node "drop" (no geometry, identity transform, so its origin is the pivot = the piercing
    point) with children "drop_setting" (jump ring, bail, bezel) and "drop_stone", all below y = 0.
    Rotating node "drop" about its origin swings the dangling part. Units: metres.
    """
    _check_names(metal, stone)
    if cut not in ("pear", "round"):
        raise InputError(f"Unknown drop cut {cut!r}; use 'pear' or 'round'.")
    if not 3.0 <= stone_mm <= 25.0 or not 1.5 <= top_stone_mm <= 8.0:
        raise InputError(f"Drop stones {stone_mm} mm / {top_stone_mm} mm are outside 3..25 / 1.5..8 mm.")
    bc = BrilliantCut()
    wall = 0.35 * MM
    # Rigid top: a bezel cup in the stone frame, then turned to face +x.
    dt = top_stone_mm * MM
    rt, gt = dt / 2.0, bc.girdle * dt / 2.0
    zt = 0.3 * MM + gt + bc.pavilion_depth(dt)
    top_parts = [
        _sweep(_circle(rt + wall / 2.0 - 0.03 * MM, 48), _band_profile(wall, 0.1 * MM, zt + gt + 0.25 * MM)),
        _ellipsoid(np.array([0.0, 0.0, 0.35 * MM]), np.array([rt + wall, rt + wall, 0.35 * MM])),
        _capsule(
            np.array([0.0, 0.0, 0.3 * MM]), np.array([0.0, 0.0, -POST_LENGTH_MM * MM]), POST_RADIUS_MM * MM
        ),
    ]
    top_setting = _join(top_parts, _STONE_TO_EAR)
    x0 = zt / 2.0  # the chain of rings hangs in the middle of the bezel's depth
    loop_r, loop_t = 0.6 * MM, 0.2 * MM
    y_loop = -(rt + wall) - loop_r + loop_t  # top of the loop's wire sunk into the bezel wall
    top_setting = _join([top_setting, _torus(loop_r, loop_t).apply_translation([x0, y_loop, 0.0])])
    top_gem = brilliant(top_stone_mm, cut=bc).apply_translation([0.0, 0.0, zt]).apply_transform(_STONE_TO_EAR)

    # Dangling part. Each ring rests on the one above: inner edge on the other's wire.
    jr, jt = 1.0 * MM, 0.25 * MM
    y_jump = y_loop - loop_r + loop_t + jt - jr
    jump = _torus(jr, jt).apply_transform(_STONE_TO_EAR).apply_translation([x0, y_jump, 0.0])  # y-z plane
    br, bt = 0.7 * MM, 0.22 * MM
    y_bail = y_jump - jr + jt + bt - br
    bail = _torus(br, bt).apply_translation([x0, y_bail, 0.0])  # x-y plane, interlocked with the jump ring
    width = stone_mm / 1.6 if cut == "pear" else stone_mm
    length = stone_mm if cut == "pear" else None
    w = width * MM
    k = 2.0 * stone_mm / width - 1.0 if cut == "pear" else 1.0  # tip (or top) height over the circle centre
    y_centre = y_bail - br - wall / 2.0 - k * w / 2.0
    phi = np.arange(96) * (2.0 * math.pi / 96)
    rho = _pear_radius(phi, stone_mm / width) if cut == "pear" else np.ones_like(phi)
    path = (rho * w / 2.0 + wall / 2.0 - 0.03 * MM)[:, None] * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    g = bc.girdle * w / 2.0
    bezel = _sweep(path, _band_profile(wall, -g - 0.25 * bc.pavilion_depth(w), g + 0.25 * MM))
    place = _translate(x0, y_centre, 0.0) @ _STONE_TO_EAR
    drop_setting = _join([jump, bail, bezel.apply_transform(place)])
    drop_gem = brilliant(width, length, bc).apply_transform(place)

    scene = trimesh.Scene()
    scene.add_geometry(_dress(top_setting, metal), node_name="top_setting", geom_name="top_setting")
    scene.add_geometry(_dress(top_gem, stone), node_name="top_stone", geom_name="top_stone")
    scene.graph.update(frame_from=scene.graph.base_frame, frame_to="drop", matrix=np.eye(4))
    scene.add_geometry(
        _dress(drop_setting, metal),
        node_name="drop_setting",
        geom_name="drop_setting",
        parent_node_name="drop",
    )
    scene.add_geometry(
        _dress(drop_gem, stone), node_name="drop_stone", geom_name="drop_stone", parent_node_name="drop"
    )
    return scene


def _check_names(metal_name: str, stone_name: str | None) -> None:
    # Fail before building anything, with the materials module's message (it lists the known names).
    materials.metal(metal_name)
    if stone_name is not None:
        materials.gem(stone_name)

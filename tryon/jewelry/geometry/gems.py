"""Gem cuts as flat-shaded meshes, and the prong basket that holds a round brilliant. Metres.

Stones are built in the "stone frame": girdle plane z = 0 through the girdle's centre, table facing +z.
A stone's mesh has 3 vertices of its own per triangle, each with the facet's normal, so every facet shades
flat (that is what makes facets read as facets); merged by position it is a closed, convex solid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import trimesh
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.jewelry.geometry.outlines import circle
from tryon.jewelry.geometry.profiles import round_profile
from tryon.jewelry.geometry.solids import capsule, flat_shaded
from tryon.jewelry.geometry.sweeps import sweep
from tryon.jewelry.geometry.units import MM, FloatArray

__all__ = ["BrilliantCut", "brilliant", "pear_radius", "prong_head", "single_cut"]


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


def pear_radius(angles: FloatArray, length_over_width: float) -> FloatArray:
    """Distance from a pear outline's circle centre to the outline along ``angles`` (rad, from +x toward
    +y; any shape), for a pear of width 2 whose point is at +y.

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
    diameter_mm: float, length_mm: float | None = None, cut: BrilliantCut = BrilliantCut(), shape: str = "pear"
) -> trimesh.Trimesh:
    """A flat-shaded brilliant in the stone frame (girdle plane z = 0, table towards +z), in metres.

    Round when ``length_mm`` is None; otherwise ``shape`` "pear": a pear of width ``diameter_mm`` and length
    ``length_mm`` whose point is at +y, made by stretching the round cut radially onto the pear outline (the
    facet pattern then matches a real pear brilliant's only roughly; the circle part of its outline is centred
    on the origin); or "oval": the round cut stretched along y to ``length_mm`` (an oval brilliant's facets
    are the round's, drawn out). Returns a mesh of 110 triangles with 3 unique vertices each (330 vertices).
    """
    if diameter_mm <= 0.0 or (length_mm is not None and length_mm < diameter_mm):
        raise InputError(f"Bad stone size: width {diameter_mm} mm, length {length_mm} mm.")
    verts, facets = _brilliant_facets(cut)
    tris = _outward_triangles(verts, facets)
    if length_mm is not None and shape == "oval":
        verts = verts * np.array([1.0, length_mm / diameter_mm, 1.0])  # an affine stretch keeps facets flat
    elif length_mm is not None:
        # Radial stretch onto the pear outline: keeps horizontal rings planar and keeps the winding.
        scale = pear_radius(np.arctan2(verts[:, 1], verts[:, 0]), length_mm / diameter_mm)
        verts = verts * np.stack([scale, scale, np.ones_like(scale)], axis=1)
    return flat_shaded(verts * (diameter_mm / 2.0 * MM), tris)


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


def single_cut(diameter_mm: float, rotation_deg: float = 22.5) -> trimesh.Trimesh:
    """A flat-shaded single cut (17 facets: table, 8 crown, 8 pavilion; pointed culet) in the stone frame.

    The cut of melee, the small stones of halos, pave and tennis lines: 46 triangles against the round
    brilliant's 110, and at 1-3 mm it reads the same on screen. The girdle is an octagon whose corners lie
    on the circle of ``diameter_mm``, the first at ``rotation_deg`` from +x (22.5: flats facing +-x and +-y).
    Crown 35 and pavilion 41 degrees, table 55 %, girdle 3 % of the diameter.
    """
    if not 0.5 <= diameter_mm <= 6.0:
        raise InputError(f"Single-cut stone {diameter_mm} mm is outside 0.5..6 mm.")
    table, girdle, apothem = 0.55, 0.03, math.cos(math.radians(22.5))
    tan_c, tan_p = math.tan(math.radians(35.0)), math.tan(math.radians(41.0))
    angles = rotation_deg + np.arange(8) * 45.0
    # Table and girdle octagons share their corners' directions, so each crown facet is a planar trapezoid.
    z_table = girdle + (1.0 - table) * apothem * tan_c
    ring = [
        np.stack([r * np.cos(np.radians(angles)), r * np.sin(np.radians(angles)), np.full(8, z)], axis=1)
        for r, z in ((table, z_table), (1.0, girdle), (1.0, -girdle))
    ]
    verts = np.concatenate([*ring, [[0.0, 0.0, -girdle - apothem * tan_p]]])
    t, gt, gb, culet = 0, 8, 16, 24
    facets = [[t + k for k in range(8)]]
    for k in range(8):
        k1 = (k + 1) % 8
        facets += [[t + k, t + k1, gt + k1, gt + k], [gt + k, gt + k1, gb + k1, gb + k], [gb + k, gb + k1, culet]]
    return flat_shaded(verts * (diameter_mm / 2.0 * MM), _outward_triangles(verts, facets))


def prong_head(d: float, z_seat: float, count: int, length: float | None = None
               ) -> tuple[list[trimesh.Trimesh], trimesh.Trimesh, float]:
    """A round brilliant of girdle diameter ``d`` (m), or with ``length`` (m, along y) an oval one of that
    width, in a prong basket standing on z = ``z_seat`` (m), in the stone frame's orientation (table up, +z),
    centred on the z axis.

    Returns the basket's parts (a gallery ring on the seat, ``count`` claws from it over the crown, a rail
    under the girdle; an oval's follow its outline), the stone, and the girdle's height (m). The culet clears
    the seat by 0.3 mm. ``count`` 4: claws in an X; otherwise the first claw is on +x.
    """
    cut = BrilliantCut()
    stretch = np.array([1.0, 1.0 if length is None else length / d, 1.0])
    r, g = d / 2.0, cut.girdle * d / 2.0
    pav, crown = cut.pavilion_depth(d), cut.crown_height(d)
    p = min(max(0.065 * d, 0.3 * MM), 0.5 * MM)  # claw radius: 0.6..1 mm claws
    z_g = z_seat + 0.3 * MM + g + pav
    r_low, z_low = 0.22 * d, z_seat + 0.1 * MM  # gallery sunk 0.1 mm into the band's top
    parts = [sweep(circle(r_low, 24) * stretch[:2], round_profile(0.7 * p, 6)).apply_translation([0.0, 0.0, z_low])]
    start = 45.0 if count == 4 else 0.0  # four claws in an X; six with two of them over the band
    for a in np.radians(start + np.arange(count) * 360.0 / count):
        u = np.array([math.cos(a), math.sin(a), 0.0]) * stretch
        along = u / np.linalg.norm(u) * 0.5 * p  # the claw's half thickness, outward
        low = u * r_low + [0.0, 0.0, z_low]
        mid = u * r + along + [0.0, 0.0, z_g]
        tip = u * (r - 0.05 * d) + [0.0, 0.0, z_g + g + 0.35 * crown]
        parts += [capsule(low, mid, p), capsule(mid, tip, p)]
    frac = 0.15  # the rail holds the pavilion just under the girdle
    rail = sweep(circle(r * (1.0 - frac) + 0.5 * p, 32) * stretch[:2], round_profile(0.6 * p, 6))
    parts.append(rail.apply_translation([0.0, 0.0, z_g - g - frac * pav]))
    stone = brilliant(d / MM, None if length is None else length / MM, cut=cut, shape="oval")
    stone.apply_translation([0.0, 0.0, z_g])
    return parts, stone, z_g

"""Procedural rings as ``trimesh.Scene`` objects, in real dimensions. Units: METRES.

Ring frame (the renderer relies on it):
    origin  the centre of the band: on the finger's axis, halfway along the band's width;
    +y      along the finger, toward the fingertip (the finger passes along y through the band's hole);
    +z      out of the back of the hand (dorsal): where a ring's stone or signet face sits;
    +x      y x z (right-handed).
Every piece is mirror-symmetric in x and in y, so it fits either hand.

Node names tell the renderer how to fit a ring to the measured finger: every part that goes round the
finger (an eternity band's stones included) starts with ``band``; every part that sits on top (stone,
prongs, basket, halo, signet face) starts with ``head``. No name starts with ``drop`` (that would make a
part swing).

Bands are swept in the "sweep frame" of :func:`tryon.jewelry.earrings._sweep` (path in the z = 0 plane,
cross-section (u, v) = (outward, +z)) and turned into the ring frame by ``_SWEEP_TO_RING`` (sweep y -> ring
z, sweep z -> ring -y). Stones are built in the stone frame of :mod:`tryon.jewelry.earrings` (girdle plane
z = 0, table towards +z), which is already the ring frame's orientation for a stone on top.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh

from tryon.errors import InputError
from tryon.jewelry import materials
from tryon.jewelry.earrings import (
    MM,
    BrilliantCut,
    FloatArray,
    Profile,
    _capsule,
    _check_names,
    _circle,
    _flat_shaded,
    _join,
    _outward_triangles,
    _round_profile,
    _rounded_polygon,
    _sweep,
    brilliant,
)

__all__ = [
    "DEFAULT_INNER_DIAMETER_MM",
    "band",
    "eternity",
    "eternity_width_mm",
    "halo",
    "signet",
    "single_cut",
    "solitaire",
]

DEFAULT_INNER_DIAMETER_MM = 17.35  # US size 7 (ISO 8653 circumference 54.5 mm)
INNER_DIAMETER_RANGE_MM = (12.0, 26.0)  # below US 1 .. above US 16
BAND_SEGMENTS = 72  # the 72-gon's flats sit 0.008 mm inside a 17 mm circle: finer than any fit
# One sweep frame for all bands: the path circle lies in the sweep frame's x-y plane; +90 degrees about x
# takes sweep y (the top of the path) to ring +z and the sweep's z (across the band) to ring -y.
_SWEEP_TO_RING = trimesh.transformations.rotation_matrix(math.pi / 2.0, [1.0, 0.0, 0.0])
# Coordinates are rounded before export so the GLB's float32 values do not depend on the CPU's last-bit
# rounding of normals and transforms (1e-10 m is far below float32's resolution at ring sizes).
_POSITION_DECIMALS, _NORMAL_DECIMALS = 10, 9


def _check_range(what: str, value: float, lo: float, hi: float) -> None:
    # `not lo <= v <= hi` also catches NaN.
    if not lo <= value <= hi:
        raise InputError(f"{what} {value} mm is outside {lo:g}..{hi:g} mm.")


def _finish(mesh: trimesh.Trimesh, material: str) -> trimesh.Trimesh:
    """The mesh, rounded (see ``_POSITION_DECIMALS``), with the named PBR material."""
    out = trimesh.Trimesh(
        np.round(mesh.vertices, _POSITION_DECIMALS) + 0.0,  # + 0.0: no negative zeros in the file
        mesh.faces,
        vertex_normals=np.round(mesh.vertex_normals, _NORMAL_DECIMALS) + 0.0,
        process=False,
    )
    out.visual = trimesh.visual.TextureVisuals(material=materials.pbr_material(material))
    return out


def _offset_convex(core: FloatArray, radius: float, corners: set[int], arc_points: int = 4) -> Profile:
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


def _comfort_section(
    width: float,
    thickness: float,
    inner_dome: float = 0.1,
    outer_dome: float = 0.45,
    points: int = 9,
    arc_points: int = 4,
) -> Profile:
    """A comfort-fit band's cross-section (metres): u from 0 (the inner apex, on the finger) to
    ``thickness`` (the outer apex), v across the band from -width/2 to width/2.

    Outside domed by ``outer_dome`` x thickness and inside by ``inner_dome`` x thickness (parabolas: the
    edges stand off the finger and are thinner), edges rounded. ``points``: samples of the outer dome;
    ``arc_points``: of each rounded edge.
    """
    edge = thickness * (1.0 - inner_dome - outer_dome)
    rc = 0.3 * edge  # edge rounding radius
    b = width / 2.0 - rc
    v_out = np.linspace(-b, b, points)
    v_in = np.linspace(b, -b, max(3, points // 2 | 1))
    outer = np.stack([thickness - rc - outer_dome * thickness * (v_out / b) ** 2, v_out], axis=1)
    inner = np.stack([rc + inner_dome * thickness * (v_in / b) ** 2, v_in], axis=1)
    k = len(v_out) + len(v_in)
    return _offset_convex(np.concatenate([outer, inner]), rc, {0, len(v_out) - 1, len(v_out), k - 1}, arc_points)


def _rect_section(u0: float, u1: float, v0: float, v1: float, radius: float, arc_points: int = 3) -> Profile:
    """A rounded rectangle u0..u1 x v0..v1 (metres) as a sweep cross-section."""
    corners = np.array([[u1, v0], [u1, v1], [u0, v1], [u0, v0]])
    return _rounded_polygon(corners, [radius] * 4, [arc_points] * 4)


def _loft(path: FloatArray, sections: list[Profile]) -> trimesh.Trimesh:
    """Like :func:`tryon.jewelry.earrings._sweep`, but with its own cross-section at each path point.

    path: (n, 2) closed counter-clockwise; sections: n Profiles with the same point count. Normals come
    from the surface itself (central differences along and across the path), so a section that grows
    along the path shades as the slope it makes.
    """
    n = len(path)
    tangent = np.roll(path, -1, axis=0) - np.roll(path, 1, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    out = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    uv = np.stack([s[0] for s in sections])  # (n, m, 2)
    nuv = np.stack([s[1] for s in sections])
    m = uv.shape[1]
    xy = path[:, None, :] + uv[:, :, 0, None] * out[:, None, :]
    grid = np.concatenate([xy, uv[:, :, 1, None]], axis=2)  # (n, m, 3)
    along = np.roll(grid, -1, axis=0) - np.roll(grid, 1, axis=0)
    # Across: the section's own normal is exact there (rounded corners); turn it into a surface tangent.
    across = np.concatenate([-nuv[:, :, 1, None] * out[:, None, :], nuv[:, :, 0, None]], axis=2)
    normals = np.cross(along, across)
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    i, j = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    a, b = i * m + j, i * m + (j + 1) % m
    c, d = (i + 1) % n * m + j, (i + 1) % n * m + (j + 1) % m
    faces = np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3), np.stack([a, d, b], -1).reshape(-1, 3)])
    verts, normals = grid.reshape(-1, 3), normals.reshape(-1, 3)
    mesh = trimesh.Trimesh(verts, faces, vertex_normals=normals, process=False)
    if mesh.volume < 0.0:
        mesh = trimesh.Trimesh(verts, faces[:, ::-1], vertex_normals=normals, process=False)
    return mesh


def _ring_band(inner_radius: float, section: Profile, segments: int = BAND_SEGMENTS) -> trimesh.Trimesh:
    """A band around the finger (ring frame): ``section``'s u = 0 lies on the circle of ``inner_radius``."""
    return _sweep(_circle(inner_radius, segments), section).apply_transform(_SWEEP_TO_RING)


def _bead(centre: FloatArray, radius: float | FloatArray) -> trimesh.Trimesh:
    """A 20-triangle ball (or ellipsoid: ``radius`` (3,)) with analytic normals: a grain or prong tip too
    small to need more."""
    ball = trimesh.creation.icosahedron()
    unit = ball.vertices / np.linalg.norm(ball.vertices, axis=1, keepdims=True)
    radii = np.broadcast_to(np.asarray(radius, float), (3,))
    normals = unit / radii  # an ellipsoid's normals: the inverse scale of the sphere's
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return trimesh.Trimesh(unit * radii + centre, ball.faces, vertex_normals=normals, process=False)


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
    return _flat_shaded(verts * (diameter_mm / 2.0 * MM), _outward_triangles(verts, facets))


def _check_ring(inner_diameter_mm: float, metal: str, stone: str | None) -> float:
    _check_names(metal, stone)
    _check_range("Ring inner diameter", inner_diameter_mm, *INNER_DIAMETER_RANGE_MM)
    return inner_diameter_mm / 2.0 * MM


def _scene(*parts: tuple[str, trimesh.Trimesh, str]) -> trimesh.Scene:
    """A scene of (node name, mesh, material) parts; geometry named like its node."""
    scene = trimesh.Scene()
    for name, mesh, material in parts:
        scene.add_geometry(_finish(mesh, material), node_name=name, geom_name=name)
    return scene


def band(
    width_mm: float = 4.0,
    inner_diameter_mm: float = DEFAULT_INNER_DIAMETER_MM,
    metal: str = "yellow_gold",
    thickness_mm: float = 1.8,
) -> trimesh.Scene:
    """A plain comfort-fit wedding band: domed outside and, less, inside; edges thinner and rounded.

    The inner apex lies on the circle of ``inner_diameter_mm`` (at the sweep's vertices), the band is
    ``width_mm`` along y and ``thickness_mm`` thick at its centre. One node, "band";
    2 x 72 x 26 = 3744 triangles.
    """
    r_in = _check_ring(inner_diameter_mm, metal, None)
    _check_range("Band width", width_mm, 1.5, 10.0)
    _check_range("Band thickness", thickness_mm, 1.0, 3.0)
    mesh = _ring_band(r_in, _comfort_section(width_mm * MM, thickness_mm * MM))
    return _scene(("band", mesh, metal))


def _prong_head(d: float, z_seat: float, count: int) -> tuple[list[trimesh.Trimesh], trimesh.Trimesh, float]:
    """A round brilliant of diameter ``d`` (m) in a prong basket standing on z = ``z_seat`` (ring frame).

    Returns the basket's parts (a gallery ring on the seat, ``count`` claws from it over the crown, a rail
    under the girdle), the stone, and the girdle's height. The culet clears the seat by 0.3 mm.
    """
    cut = BrilliantCut()
    r, g = d / 2.0, cut.girdle * d / 2.0
    pav, crown = cut.pavilion_depth(d), cut.crown_height(d)
    p = min(max(0.065 * d, 0.3 * MM), 0.5 * MM)  # claw radius: 0.6..1 mm claws
    z_g = z_seat + 0.3 * MM + g + pav
    r_low, z_low = 0.22 * d, z_seat + 0.1 * MM  # gallery sunk 0.1 mm into the band's top
    parts = [_sweep(_circle(r_low, 24), _round_profile(0.7 * p, 6)).apply_translation([0.0, 0.0, z_low])]
    start = 45.0 if count == 4 else 0.0  # four claws in an X; six with two of them over the band
    for a in np.radians(start + np.arange(count) * 360.0 / count):
        u = np.array([math.cos(a), math.sin(a), 0.0])
        low = u * r_low + [0.0, 0.0, z_low]
        mid = u * (r + 0.5 * p) + [0.0, 0.0, z_g]
        tip = u * (r - 0.05 * d) + [0.0, 0.0, z_g + g + 0.35 * crown]
        parts += [_capsule(low, mid, p), _capsule(mid, tip, p)]
    frac = 0.15  # the rail holds the pavilion just under the girdle
    rail = _sweep(_circle(r * (1.0 - frac) + 0.5 * p, 32), _round_profile(0.6 * p, 6))
    parts.append(rail.apply_translation([0.0, 0.0, z_g - g - frac * pav]))
    stone = brilliant(d / MM, cut=cut).apply_translation([0.0, 0.0, z_g])
    return parts, stone, z_g


def solitaire(
    stone_mm: float = 6.5,
    inner_diameter_mm: float = DEFAULT_INNER_DIAMETER_MM,
    metal: str = "platinum",
    stone: str = "diamond",
    prongs: int = 6,
    band_width_mm: float = 2.0,
) -> trimesh.Scene:
    """A round brilliant (``stone_mm``: 6.5 mm is about 1 ct of diamond) held by 4 or 6 claws in a basket
    on a thin comfort-fit band (1.7 mm thick).

    Nodes: "band", "head_setting" (gallery, claws, rail), "head_stone" (table facing +z).
    """
    r_in = _check_ring(inner_diameter_mm, metal, stone)
    _check_range("Solitaire stone", stone_mm, 3.0, 12.0)
    _check_range("Band width", band_width_mm, 1.5, 4.0)
    if prongs not in (4, 6):
        raise InputError(f"A solitaire has 4 or 6 prongs, not {prongs}.")
    t = 1.7 * MM
    shank = _ring_band(r_in, _comfort_section(band_width_mm * MM, t, points=5, arc_points=3), 64)
    setting, gem, _ = _prong_head(stone_mm * MM, r_in + t, prongs)
    return _scene(("band", shank, metal), ("head_setting", _join(setting), metal), ("head_stone", gem, stone))


def halo(
    stone_mm: float = 6.0,
    inner_diameter_mm: float = DEFAULT_INNER_DIAMETER_MM,
    metal: str = "white_gold",
    stone: str = "diamond",
    halo_stone_mm: float = 1.3,
    halo_stone: str = "diamond",
    band_width_mm: float = 2.0,
) -> trimesh.Scene:
    """A centre brilliant in four claws, ringed by single-cut ``halo_stone_mm`` stones set in a halo frame
    with shared beads between them, half a millimetre lower than the centre stone; two struts carry the
    halo down to the band (1.7 mm thick, ``band_width_mm`` wide).

    Nodes: "band", "head_setting" (basket, halo frame, beads, struts), "head_stone", "head_halo_stones".
    """
    r_in = _check_ring(inner_diameter_mm, metal, stone)
    _check_names(metal, halo_stone)
    _check_range("Halo centre stone", stone_mm, 3.0, 10.0)
    _check_range("Halo stone", halo_stone_mm, 0.8, 2.5)
    _check_range("Band width", band_width_mm, 1.5, 4.0)
    t, d, s = 1.7 * MM, stone_mm * MM, halo_stone_mm * MM
    shank = _ring_band(r_in, _comfort_section(band_width_mm * MM, t, points=5, arc_points=3), 64)
    setting, gem, z_g = _prong_head(d, r_in + t, 4)
    gs = 0.03 * s / 2.0  # the single cut's half girdle
    pav_s = math.cos(math.radians(22.5)) * math.tan(math.radians(41.0)) * s / 2.0
    radius = d / 2.0 + 0.25 * MM + s / 2.0  # halo girdles 0.25 mm clear of the centre stone's
    z_h = z_g - 0.5 * MM
    count = int(2.0 * math.pi * radius // (s + 0.12 * MM))
    step = 2.0 * math.pi / count
    bottom = -(gs + pav_s + 0.25 * MM)
    rim = s / 2.0 + 0.22 * MM
    frame = _sweep(_circle(radius, 48), _rect_section(-rim, rim, bottom, -gs + 0.04 * MM, 0.12 * MM, 2))
    setting.append(frame.apply_translation([0.0, 0.0, z_h]))
    stones = []
    for k in range(count):
        a, b = k * step, (k + 0.5) * step
        stones.append(single_cut(s / MM).apply_translation([radius * math.cos(a), radius * math.sin(a), z_h]))
        setting.append(_bead(np.array([radius * math.cos(b), radius * math.sin(b), z_h + gs + 0.03 * MM]), 0.22 * MM))
    for side in (-1.0, 1.0):  # struts from under the halo into the band's top
        top = np.array([side * radius, 0.0, z_h + bottom + 0.2 * MM])
        setting.append(_capsule(top, np.array([side * 1.6 * MM, 0.0, r_in + t - 0.2 * MM]), 0.4 * MM))
    return _scene(
        ("band", shank, metal),
        ("head_setting", _join(setting), metal),
        ("head_stone", gem, stone),
        ("head_halo_stones", _join(stones), halo_stone),
    )


_ETERNITY_WALL_MM, _ETERNITY_GRIP_MM = 0.45, 0.06  # channel rail thickness; how far rails overlap the stones


def eternity_width_mm(stone_mm: float) -> float:
    """The width (along the finger) of :func:`eternity`'s band for ``stone_mm`` stones."""
    flat = math.cos(math.radians(22.5)) * stone_mm  # across the single cut's flats
    return 2.0 * (flat / 2.0 - _ETERNITY_GRIP_MM + _ETERNITY_WALL_MM)


def eternity(
    stone_mm: float = 2.0,
    inner_diameter_mm: float = DEFAULT_INNER_DIAMETER_MM,
    metal: str = "platinum",
    stone: str = "diamond",
) -> trimesh.Scene:
    """Single-cut stones all the way round, tables facing out, in a channel: two rails hold the stones'
    girdles over a thin comfort-fit base band; one stone sits at the top (+z).

    Nodes: "band" (base and rails), "band_stones". Width: :func:`eternity_width_mm`, the stones plus two
    0.45 mm rails.
    """
    r_in = _check_ring(inner_diameter_mm, metal, stone)
    _check_range("Eternity stone", stone_mm, 1.2, 4.0)
    s, wall, base = stone_mm * MM, _ETERNITY_WALL_MM * MM, 0.8 * MM
    flat = math.cos(math.radians(22.5)) * s  # across the octagon's flats
    gs = 0.03 * s / 2.0
    pav = math.cos(math.radians(22.5)) * math.tan(math.radians(41.0)) * s / 2.0
    r_girdle = r_in + base + gs + pav - 0.15 * MM  # culets sunk 0.15 mm into the base
    inner_face = flat / 2.0 - _ETERNITY_GRIP_MM * MM  # rails overlap the girdle's flats
    width = eternity_width_mm(stone_mm) * MM
    segments = 60  # fewer than a plain band's: the stones carry the triangles here
    parts = [_ring_band(r_in, _comfort_section(width, base, 0.1, 0.1, points=5, arc_points=3), segments)]
    u0, u1 = 0.3 * MM, r_girdle + gs + 0.18 * MM - r_in  # rails from inside the base to above the girdle
    for side in (-1.0, 1.0):
        v0, v1 = sorted((side * inner_face, side * (inner_face + wall)))
        parts.append(_ring_band(r_in, _rect_section(u0, u1, v0, v1, 0.15 * MM, 2), segments))
    count = int(2.0 * math.pi * r_girdle // (flat + 0.15 * MM))
    stones = []
    for k in range(count):
        a = math.pi / 2.0 + k * 2.0 * math.pi / count  # sweep frame, starting at the top
        out, tangent = np.array([math.cos(a), math.sin(a), 0.0]), np.array([-math.sin(a), math.cos(a), 0.0])
        place = np.eye(4)
        place[:3, :3] = np.column_stack([tangent, np.cross(out, tangent), out])  # stone z -> outward
        place[:3, 3] = out * r_girdle
        stones.append(single_cut(stone_mm).apply_transform(_SWEEP_TO_RING @ place))
    return _scene(("band", _join(parts), metal), ("band_stones", _join(stones), stone))


def _oval_face(half_x: float, half_y: float, z_bottom: float, z_top: float, inset: float) -> trimesh.Trimesh:
    """A signet's face (metres): a flat oval top (half axes ``half_x``, ``half_y``) at ``z_top`` with a
    rounded edge, flaring out from an outline ``inset`` smaller at ``z_bottom``. Flat-shaded top and bottom
    (their own vertices); merged by position it is closed."""
    count = 64
    t = np.arange(count) * (2.0 * math.pi / count)
    ellipse = np.stack([half_x * np.cos(t), half_y * np.sin(t)], axis=1)
    normal = np.stack([half_y * np.cos(t), half_x * np.sin(t)], axis=1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    rho = 0.5 * MM  # edge rounding
    slope = math.atan2(inset, z_top - rho - z_bottom)  # the flank leans out by this from the vertical
    # (offset from the top outline, height, normal's elevation) per ring, bottom to top: the flank, then
    # the rounded edge from its widest ring (exactly the asked outline) to the top's.
    rings = [(-inset, z_bottom, -slope)]
    for elev in np.linspace(0.0, math.pi / 2.0, 4):
        rings.append((-rho * (1.0 - math.cos(elev)), z_top - rho + rho * math.sin(elev), elev))
    verts, norms = [], []
    for off, z, elev in rings:
        verts.append(np.column_stack([ellipse + off * normal, np.full(count, z)]))
        norms.append(np.column_stack([math.cos(elev) * normal, np.full(count, math.sin(elev))]))
    side_v, side_n = np.concatenate(verts), np.concatenate(norms)
    faces = []
    for r in range(len(rings) - 1):
        for k in range(count):
            a, b = r * count + k, r * count + (k + 1) % count
            faces += [[a, b, b + count], [a, b + count, a + count]]
    parts = [trimesh.Trimesh(side_v, np.array(faces), vertex_normals=side_n, process=False)]
    for ring, z, sign in ((verts[-1], z_top, 1.0), (verts[0], z_bottom, -1.0)):
        cap_v = np.concatenate([ring, [[0.0, 0.0, z]]])
        fan = np.array([[k, (k + 1) % count, count] for k in range(count)])
        fan = fan if sign > 0 else fan[:, ::-1]
        cap_n = np.tile([0.0, 0.0, sign], (count + 1, 1))
        parts.append(trimesh.Trimesh(cap_v, fan, vertex_normals=cap_n, process=False))
    return _join(parts)


def signet(
    face_length_mm: float = 12.0,
    face_width_mm: float = 10.0,
    inner_diameter_mm: float = DEFAULT_INNER_DIAMETER_MM,
    metal: str = "yellow_gold",
) -> trimesh.Scene:
    """A signet: a 3 mm comfort-fit shank (1.6 mm thick) that swells toward the top into a flat oval face,
    ``face_length_mm`` along the finger (y) and ``face_width_mm`` across (x), 3.2 mm above the finger.

    Nodes: "band" (the shank, thickening over +-75 degrees around the top), "head_face" (the oval).
    """
    r_in = _check_ring(inner_diameter_mm, metal, None)
    _check_range("Signet face length", face_length_mm, 6.0, 20.0)
    _check_range("Signet face width", face_width_mm, 6.0, 18.0)
    length, width = face_length_mm * MM, face_width_mm * MM
    w0, t0, t_top, z_top = 3.0 * MM, 1.6 * MM, 3.0 * MM, r_in + 3.2 * MM
    w_top = max(w0, 0.85 * length)  # the shoulders carry the face's ends
    path = _circle(r_in, BAND_SEGMENTS)
    sections = []
    for a in np.arange(BAND_SEGMENTS) * (360.0 / BAND_SEGMENTS):
        phi = (a - 90.0 + 180.0) % 360.0 - 180.0  # degrees from the top (sweep +y = ring +z)
        bump = math.cos(math.pi / 2.0 * phi / 75.0) ** 2 if abs(phi) < 75.0 else 0.0
        sections.append(
            _comfort_section(w0 + (w_top - w0) * bump, t0 + (t_top - t0) * bump, 0.08, 0.3, points=7)
        )
    shank = _loft(path, sections).apply_transform(_SWEEP_TO_RING)
    inset = 0.35 * min(length, width) / 2.0
    face = _oval_face(width / 2.0, length / 2.0, r_in + 0.8 * MM, z_top, inset)
    return _scene(("band", shank, metal), ("head_face", face, metal))

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

Bands are swept in the sweep frame of :mod:`tryon.jewelry.geometry.sweeps` (path in the z = 0 plane,
cross-section (u, v) = (outward, +z)) and turned into the ring frame by ``_SWEEP_TO_RING`` (sweep y -> ring
z, sweep z -> ring -y). Stones are built in the stone frame of :mod:`tryon.jewelry.geometry.gems` (girdle
plane z = 0, table towards +z), which is already the ring frame's orientation for a stone on top.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh

from tryon.errors import InputError
from tryon.jewelry import materials
from tryon.jewelry.geometry.gems import prong_head, single_cut
from tryon.jewelry.geometry.outlines import circle, resample
from tryon.jewelry.geometry.profiles import Profile, offset_convex, rect_section
from tryon.jewelry.geometry.scenes import scene
from tryon.jewelry.geometry.solids import bead, capsule, join
from tryon.jewelry.geometry.sweeps import SWEEP_TO_Y_AXIS, loft, sweep
from tryon.jewelry.geometry.units import MM, check_range

__all__ = [
    "DEFAULT_INNER_DIAMETER_MM",
    "band",
    "eternity",
    "eternity_width_mm",
    "halo",
    "signet",
    "solitaire",
]

DEFAULT_INNER_DIAMETER_MM = 17.35  # US size 7 (ISO 8653 circumference 54.5 mm)
INNER_DIAMETER_RANGE_MM = (12.0, 26.0)  # below US 1 .. above US 16
BAND_SEGMENTS = 72  # the 72-gon's flats sit 0.008 mm inside a 17 mm circle: finer than any fit
# One sweep frame for all bands: the path circle lies in the sweep frame's x-y plane; +90 degrees about x
# takes sweep y (the top of the path) to ring +z and the sweep's z (across the band) to ring -y.
_SWEEP_TO_RING = SWEEP_TO_Y_AXIS


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
    return offset_convex(np.concatenate([outer, inner]), rc, {0, len(v_out) - 1, len(v_out), k - 1}, arc_points)


def _ring_band(inner_radius: float, section: Profile, segments: int = BAND_SEGMENTS) -> trimesh.Trimesh:
    """A band around the finger (ring frame): ``section``'s u = 0 lies on the circle of ``inner_radius``."""
    return sweep(circle(inner_radius, segments), section).apply_transform(_SWEEP_TO_RING)


def _check_ring(inner_diameter_mm: float, metal: str, stone: str | None) -> float:
    materials.check_names(metal, stone)
    check_range("Ring inner diameter", inner_diameter_mm, *INNER_DIAMETER_RANGE_MM)
    return inner_diameter_mm / 2.0 * MM


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
    check_range("Band width", width_mm, 1.5, 10.0)
    check_range("Band thickness", thickness_mm, 1.0, 3.0)
    mesh = _ring_band(r_in, _comfort_section(width_mm * MM, thickness_mm * MM))
    return scene(("band", mesh, metal))


def solitaire(
    stone_mm: float = 6.5,
    inner_diameter_mm: float = DEFAULT_INNER_DIAMETER_MM,
    metal: str = "platinum",
    stone: str = "diamond",
    prongs: int = 6,
    band_width_mm: float = 2.0,
    length_mm: float | None = None,
) -> trimesh.Scene:
    """A round brilliant (``stone_mm``: 6.5 mm is about 1 ct of diamond) held by 4 or 6 claws in a basket
    on a thin comfort-fit band (1.7 mm thick). With ``length_mm``: an oval brilliant ``stone_mm`` wide and that
    long, set lengthwise along the finger (north-south).

    Nodes: "band", "head_setting" (gallery, claws, rail), "head_stone" (table facing +z).
    """
    r_in = _check_ring(inner_diameter_mm, metal, stone)
    check_range("Solitaire stone", stone_mm, 3.0, 12.0)
    _check_oval(stone_mm, length_mm)
    check_range("Band width", band_width_mm, 1.5, 4.0)
    if prongs not in (4, 6):
        raise InputError(f"A solitaire has 4 or 6 prongs, not {prongs}.")
    t = 1.7 * MM
    shank = _ring_band(r_in, _comfort_section(band_width_mm * MM, t, points=5, arc_points=3), 64)
    setting, gem, _ = prong_head(stone_mm * MM, r_in + t, prongs, None if length_mm is None else length_mm * MM)
    return scene(("band", shank, metal), ("head_setting", join(setting), metal), ("head_stone", gem, stone))


OVAL_RATIO = (1.2, 1.7)  # an oval's length over its width: from plump to long (1.35 to 1.5 the usual)


def _check_oval(width_mm: float, length_mm: float | None) -> None:
    if length_mm is not None and not OVAL_RATIO[0] <= length_mm / width_mm <= OVAL_RATIO[1]:
        raise InputError(f"An oval {length_mm:g} x {width_mm:g} mm is not an oval stone's shape: its length is "
                         f"{OVAL_RATIO[0]:g} to {OVAL_RATIO[1]:g} times its width.")


def halo(
    stone_mm: float = 6.0,
    inner_diameter_mm: float = DEFAULT_INNER_DIAMETER_MM,
    metal: str = "white_gold",
    stone: str = "diamond",
    halo_stone_mm: float = 1.3,
    halo_stone: str = "diamond",
    band_width_mm: float = 2.0,
    length_mm: float | None = None,
) -> trimesh.Scene:
    """A centre brilliant in four claws, ringed by single-cut ``halo_stone_mm`` stones set in a halo frame
    with shared beads between them, half a millimetre lower than the centre stone; two struts carry the
    halo down to the band (1.7 mm thick, ``band_width_mm`` wide). With ``length_mm``: an oval centre stone
    ``stone_mm`` wide and that long, set along the finger, in an oval halo.

    Nodes: "band", "head_setting" (basket, halo frame, beads, struts), "head_stone", "head_halo_stones".
    """
    r_in = _check_ring(inner_diameter_mm, metal, stone)
    materials.check_names(metal, halo_stone)
    check_range("Halo centre stone", stone_mm, 3.0, 10.0)
    check_range("Halo stone", halo_stone_mm, 0.8, 2.5)
    check_range("Band width", band_width_mm, 1.5, 4.0)
    _check_oval(stone_mm, length_mm)
    t, d, s = 1.7 * MM, stone_mm * MM, halo_stone_mm * MM
    length = d if length_mm is None else length_mm * MM
    shank = _ring_band(r_in, _comfort_section(band_width_mm * MM, t, points=5, arc_points=3), 64)
    setting, gem, z_g = prong_head(d, r_in + t, 4, None if length_mm is None else length)
    gs = 0.03 * s / 2.0  # the single cut's half girdle
    pav_s = math.cos(math.radians(22.5)) * math.tan(math.radians(41.0)) * s / 2.0
    clear = 0.25 * MM + s / 2.0  # halo girdles 0.25 mm clear of the centre stone's
    radius = d / 2.0 + clear
    if length_mm is None:
        count = int(2.0 * math.pi * radius // (s + 0.12 * MM))
        path = circle(radius, 48)
        places = circle(radius, 2 * count)  # stones and, between them, beads
    else:  # the oval's outline moved out by `clear` along its normals
        axes = np.array([d / 2.0, length / 2.0])
        outline = circle(1.0, 360) * axes
        normal = outline / axes**2
        line = outline + clear * normal / np.linalg.norm(normal, axis=1, keepdims=True)
        count = int(float(np.linalg.norm(np.diff(np.vstack([line, line[:1]]), axis=0), axis=1).sum())
                    // (s + 0.12 * MM))
        path, places = resample(line, 96, closed=True), resample(line, 2 * count, closed=True)
    z_h = z_g - 0.5 * MM
    bottom = -(gs + pav_s + 0.25 * MM)
    rim = s / 2.0 + 0.22 * MM
    frame = sweep(path, rect_section(-rim, rim, bottom, -gs + 0.04 * MM, 0.12 * MM, 2))
    setting.append(frame.apply_translation([0.0, 0.0, z_h]))
    stones = []
    for k in range(count):
        (x, y), (bx, by) = places[2 * k], places[2 * k + 1]
        stones.append(single_cut(s / MM).apply_translation([x, y, z_h]))
        setting.append(bead(np.array([bx, by, z_h + gs + 0.03 * MM]), 0.22 * MM))
    for side in (-1.0, 1.0):  # struts from under the halo into the band's top
        top = np.array([side * radius, 0.0, z_h + bottom + 0.2 * MM])
        setting.append(capsule(top, np.array([side * 1.6 * MM, 0.0, r_in + t - 0.2 * MM]), 0.4 * MM))
    return scene(
        ("band", shank, metal),
        ("head_setting", join(setting), metal),
        ("head_stone", gem, stone),
        ("head_halo_stones", join(stones), halo_stone),
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
    check_range("Eternity stone", stone_mm, 1.2, 4.0)
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
        parts.append(_ring_band(r_in, rect_section(u0, u1, v0, v1, 0.15 * MM, 2), segments))
    count = int(2.0 * math.pi * r_girdle // (flat + 0.15 * MM))
    stones = []
    for k in range(count):
        a = math.pi / 2.0 + k * 2.0 * math.pi / count  # sweep frame, starting at the top
        out, tangent = np.array([math.cos(a), math.sin(a), 0.0]), np.array([-math.sin(a), math.cos(a), 0.0])
        place = np.eye(4)
        place[:3, :3] = np.column_stack([tangent, np.cross(out, tangent), out])  # stone z -> outward
        place[:3, 3] = out * r_girdle
        stones.append(single_cut(stone_mm).apply_transform(_SWEEP_TO_RING @ place))
    return scene(("band", join(parts), metal), ("band_stones", join(stones), stone))


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
    return join(parts)


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
    check_range("Signet face length", face_length_mm, 6.0, 20.0)
    check_range("Signet face width", face_width_mm, 6.0, 18.0)
    length, width = face_length_mm * MM, face_width_mm * MM
    w0, t0, t_top, z_top = 3.0 * MM, 1.6 * MM, 3.0 * MM, r_in + 3.2 * MM
    w_top = max(w0, 0.85 * length)  # the shoulders carry the face's ends
    path = circle(r_in, BAND_SEGMENTS)
    sections = []
    for a in np.arange(BAND_SEGMENTS) * (360.0 / BAND_SEGMENTS):
        phi = (a - 90.0 + 180.0) % 360.0 - 180.0  # degrees from the top (sweep +y = ring +z)
        bump = math.cos(math.pi / 2.0 * phi / 75.0) ** 2 if abs(phi) < 75.0 else 0.0
        sections.append(
            _comfort_section(w0 + (w_top - w0) * bump, t0 + (t_top - t0) * bump, 0.08, 0.3, points=7)
        )
    shank = loft(path, sections).apply_transform(_SWEEP_TO_RING)
    inset = 0.35 * min(length, width) / 2.0
    face = _oval_face(width / 2.0, length / 2.0, r_in + 0.8 * MM, z_top, inset)
    return scene(("band", shank, metal), ("head_face", face, metal))

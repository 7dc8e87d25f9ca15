"""Procedural bracelets and a watch as ``trimesh.Scene`` objects, in real dimensions. Units: METRES.

Wrist frame (the renderer relies on it):
    origin  the centre of the wrist's cross-section;
    +y      along the forearm, toward the hand;
    +z      out of the back of the wrist (dorsal): where a watch's case sits;
    +x      y x z (right-handed).
The wrist's cross-section is an ellipse ``wrist_width_mm`` across (x) and ``wrist_thickness_mm`` deep (z),
by default NOMINAL_WRIST_WIDTH_MM x NOMINAL_WRIST_THICKNESS_MM (about 152 mm round, a medium wrist).
Every piece is built for that ellipse; the renderer scales it to the measured wrist.

Node names: parts that go round the wrist (strap, bracelet, links, bangle, tennis stones) start with
``band``; parts on the back of the wrist (case, dial, bezel, crown, markers) start with ``case``; a watch's
hands are ``hand_hour``, ``hand_minute`` and ``hand_second``. No name starts with ``drop``.

Watch dial: seen from +z, 12 o'clock points to -x and 3 o'clock to +y (the crown's side, toward the hand).
Each hand's node transform is a pure translation to (0, 0, its height): its origin is the dial's centre and
in its own frame it points to 12 o'clock (-x). To show a time, turn a hand by MINUS its clockwise angle from
12 about its local +z (clockwise seen from +z is a negative turn about +z): see :func:`hand_rotation`.

Round things are swept in the sweep frame of :mod:`tryon.jewelry.geometry.sweeps` (path in its x-y plane) and
turned by ``_SWEEP_TO_WRIST`` (sweep y -> wrist z, sweep z -> wrist -y), so a path's (x, y) is the wrist's (x, z).
"""

from __future__ import annotations

import math

import numpy as np
import trimesh
from numpy.typing import NDArray
from scipy.spatial import ConvexHull

from tryon.errors import InputError
from tryon.jewelry import materials
from tryon.jewelry.geometry.gems import single_cut
from tryon.jewelry.geometry.outlines import circle, ellipse_offset, ellipse_perimeter, resample, stadium
from tryon.jewelry.geometry.profiles import rect_section, round_profile, rounded_polygon
from tryon.jewelry.geometry.scenes import finish, scene
from tryon.jewelry.geometry.solids import bead, ellipsoid, join, placed, prism, rod
from tryon.jewelry.geometry.sweeps import SWEEP_TO_Y_AXIS, sweep, sweep_open
from tryon.jewelry.geometry.units import MM, FloatArray, check_range

__all__ = [
    "NOMINAL_WRIST_THICKNESS_MM",
    "NOMINAL_WRIST_WIDTH_MM",
    "bangle",
    "chain",
    "hand_rotation",
    "tennis",
    "watch",
]

NOMINAL_WRIST_WIDTH_MM = 56.0
NOMINAL_WRIST_THICKNESS_MM = 40.0
_SWEEP_TO_WRIST = SWEEP_TO_Y_AXIS  # as a ring's: path plane -> x-z, sweep z -> -y


def _check_wrist(width_mm: float, thickness_mm: float) -> tuple[float, float]:
    """Half axes (m) of the wrist ellipse, after checking its size."""
    check_range("Wrist width", width_mm, 40.0, 90.0)
    check_range("Wrist thickness", thickness_mm, 25.0, 70.0)
    if thickness_mm > width_mm:
        raise InputError(f"Wrist {width_mm} mm wide and {thickness_mm} mm thick: a wrist is wider than thick.")
    return width_mm / 2.0 * MM, thickness_mm / 2.0 * MM


def _frame(point: FloatArray, normal: FloatArray) -> NDArray[np.float64]:
    """(4, 4) sweep-frame pose of a link at ``point`` (2,): z outward along ``normal`` (2,), x along the
    counter-clockwise tangent, y along the sweep's z (across the band)."""
    out = np.array([normal[0], normal[1], 0.0])
    tangent = np.array([-normal[1], normal[0], 0.0])
    m = np.eye(4)
    m[:3, :3] = np.column_stack([tangent, np.cross(out, tangent), out])
    m[:2, 3] = point
    return m


def hand_rotation(clockwise_deg: float) -> NDArray[np.float64]:
    """(4, 4) rotation about a hand's local +z that turns it from 12 o'clock to ``clockwise_deg`` (clockwise
    seen from +z, the dial's side): for 3 o'clock, 90."""
    return trimesh.transformations.rotation_matrix(-math.radians(clockwise_deg), [0.0, 0.0, 1.0])


# ---------------------------------------------------------------- bracelets


def bangle(
    wire_mm: float = 3.5,
    metal: str = "yellow_gold",
    wrist_width_mm: float = NOMINAL_WRIST_WIDTH_MM,
    wrist_thickness_mm: float = NOMINAL_WRIST_THICKNESS_MM,
    ease_mm: float = 4.0,
) -> trimesh.Scene:
    """A rigid oval bangle of round wire ``wire_mm`` thick, worn loose: its inside is the wrist ellipse
    grown by ``ease_mm`` all round (64 x 48 mm by default).

    One node, "band_bangle"; 128 x 16 x 2 = 4096 triangles.
    """
    a, b = _check_wrist(wrist_width_mm, wrist_thickness_mm)
    materials.check_names(metal, None)
    check_range("Bangle wire", wire_mm, 1.5, 8.0)
    check_range("Bangle ease", ease_mm, 0.0, 15.0)
    wire, ease = wire_mm * MM, ease_mm * MM
    path, _ = ellipse_offset(a + ease, b + ease, wire / 2.0, 128)
    mesh = sweep(path, round_profile(wire / 2.0, 16)).apply_transform(_SWEEP_TO_WRIST)
    return scene(("band_bangle", mesh, metal))


def tennis(
    stone_mm: float = 2.75,
    metal: str = "white_gold",
    stone: str = "diamond",
    wrist_width_mm: float = NOMINAL_WRIST_WIDTH_MM,
    wrist_thickness_mm: float = NOMINAL_WRIST_THICKNESS_MM,
    ease_mm: float = 2.0,
) -> trimesh.Scene:
    """A line of single-cut stones all round, each in a four-prong box link hinged to the next; tables face
    out. The links' undersides lie on the wrist ellipse grown by ``ease_mm``.

    Nodes: "band_links" (boxes, prong beads, hinge pins), "band_stones". 232 + 46 triangles a link.
    """
    a, b = _check_wrist(wrist_width_mm, wrist_thickness_mm)
    materials.check_names(metal, stone)
    check_range("Tennis stone", stone_mm, 1.5, 5.0)
    check_range("Tennis bracelet ease", ease_mm, 0.0, 15.0)
    s, ease = stone_mm * MM, ease_mm * MM
    flat = math.cos(math.radians(22.5)) * s  # across the single cut's flats, which face the box's walls
    gs = 0.03 * s / 2.0
    pav = math.cos(math.radians(22.5)) * math.tan(math.radians(41.0)) * s / 2.0
    depth = gs + pav + 0.1 * MM  # girdle above the box's underside
    c, wall = flat / 2.0 + 0.05 * MM, 0.25 * MM  # box: inner half side, wall outside it
    pitch = 2.0 * (c + wall) + 0.08 * MM
    count = round(ellipse_perimeter(a + ease + depth, b + ease + depth) / pitch)
    points, normals = ellipse_offset(a + ease, b + ease, depth, count)
    corners = np.array([[c, -c], [c, c], [-c, c], [-c, -c]])
    box = sweep(rounded_polygon(corners, [0.35 * MM] * 4, [2] * 4)[0],
                 rect_section(-0.12 * MM, wall, -depth, gs + 0.06 * MM, 0.08 * MM, 2))
    # Prong beads in the box's corners, halfway between the stone's edge and the wall, over the crown.
    corner = math.sqrt(2.0) * (c - 0.35 * MM) + (0.35 - 0.12) * MM  # the wall's inside along the diagonal
    diag = ((flat / 2.0 + corner) / 2.0 + 0.02 * MM) / math.sqrt(2.0)
    link_parts = [box]
    for sx, sy in ((1, 1), (-1, 1), (-1, -1), (1, -1)):
        link_parts.append(bead(np.array([sx * diag, sy * diag, gs + 0.05 * MM]), np.array([0.3, 0.3, 0.4]) * MM))
    link_parts.append(rod(np.array([pitch / 2.0, -(c - 0.1 * MM), 0.3 * MM - depth]),
                           np.array([pitch / 2.0, c - 0.1 * MM, 0.3 * MM - depth]), 0.3 * MM))
    link = join(link_parts)
    gem = single_cut(stone_mm)
    links, stones = [], []
    for p, n in zip(points, normals, strict=True):
        place = _SWEEP_TO_WRIST @ _frame(p, n)
        links.append(placed(link, place))
        stones.append(placed(gem, place))
    return scene(("band_links", join(links), metal), ("band_stones", join(stones), stone))


def chain(
    link_mm: float = 6.0,
    metal: str = "yellow_gold",
    wrist_width_mm: float = NOMINAL_WRIST_WIDTH_MM,
    wrist_thickness_mm: float = NOMINAL_WRIST_THICKNESS_MM,
    wire_mm: float | None = None,
    ease_mm: float = 3.0,
) -> trimesh.Scene:
    """A cable chain: oval links ``link_mm`` long outside (0.73 as wide) of round wire (default 0.18 of the
    length), each turned a quarter turn from the last, closed round the wrist ellipse grown by ``ease_mm``.

    Links interlock exactly: each one's inside length is the chain's pitch. One node, "band_chain";
    14 x 8 x 2 = 224 triangles a link (48 links of 6 mm at the nominal wrist).
    """
    a, b = _check_wrist(wrist_width_mm, wrist_thickness_mm)
    materials.check_names(metal, None)
    check_range("Chain link", link_mm, 3.0, 15.0)
    check_range("Chain ease", ease_mm, 0.0, 15.0)
    wire = (0.18 * link_mm if wire_mm is None else wire_mm) * MM
    length, width = link_mm * MM, 0.73 * link_mm * MM
    if not 0.08 * length <= wire <= (width - wire) / 3.0:
        raise InputError(f"Chain wire {wire / MM:g} mm does not make a {link_mm:g} mm link.")
    ease = ease_mm * MM
    # Centre line: upright links just touch the grown wrist ellipse.
    perimeter = ellipse_perimeter(a + ease + width / 2.0, b + ease + width / 2.0)
    count = 2 * round(perimeter / (length - 2.0 * wire) / 2.0)  # even: flat and upright alternate
    ends, _ = ellipse_offset(a + ease, b + ease, width / 2.0, 2 * count)
    pitch = perimeter / count
    centre_line = stadium(pitch + wire, width - wire, 7)  # centre-line length = pitch + wire: they interlock
    link_mesh = sweep(centre_line, round_profile(wire / 2.0, 8))
    links = []
    for k in range(count):
        p0, p1 = ends[(2 * k - 1) % (2 * count)], ends[(2 * k + 1) % (2 * count)]
        along = (p1 - p0) / np.linalg.norm(p1 - p0)
        place = np.eye(4)
        out = np.array([along[1], -along[0], 0.0])  # right of the counter-clockwise chain: outward
        flat_or_up = np.array([0.0, 0.0, 1.0]) if k % 2 == 0 else out  # the link plane's second axis
        place[:3, :3] = np.column_stack([[along[0], along[1], 0.0], flat_or_up, np.cross([along[0], along[1], 0.0],
                                                                                          flat_or_up)])
        place[:2, 3] = (p0 + p1) / 2.0
        links.append(placed(link_mesh, _SWEEP_TO_WRIST @ place))
    return scene(("band_chain", join(links), metal))


# ---------------------------------------------------------------- watch


def _strap_path(a: float, b: float, offset: float, lug_tip: FloatArray, end_x: float,
                spacing: float) -> FloatArray:
    """The strap's centre line (n, 2) in the sweep frame: from the left lug tip round the bottom of the
    wrist to the right one, pulled taut: the convex hull of the curve ``offset`` outside the ellipse with
    half axes a, b (the strap's inside) and the two lug tips (``lug_tip``: the right one, (2,)); then on
    from each tip, level, in toward the case to x = +-``end_x``; resampled every ``spacing``.

    Past the spring bar the strap runs on under the lugs to the case, as a real one does; it also keeps
    the lugs covered when a renderer stretches the band parts to a wider wrist than the nominal one.
    """
    ellipse, _ = ellipse_offset(a, b, offset, 720)
    left, right = lug_tip * [-1.0, 1.0], lug_tip
    pts = np.concatenate([ellipse, [left, right]])
    order = list(ConvexHull(pts).vertices)  # counter-clockwise
    i, j = order.index(len(pts) - 2), order.index(len(pts) - 1)
    hull = [pts[order[(i + k) % len(order)]] for k in range((j - i) % len(order) + 1)]
    chain = np.array([[-end_x, left[1]], *hull, [end_x, right[1]]])
    length = float(np.sum(np.linalg.norm(np.diff(chain, axis=0), axis=1)))
    return resample(chain, max(8, round(length / spacing) + 1), closed=False)


def _block(length: float, width: float, height: float, radius: float) -> trimesh.Trimesh:
    """A bracelet link: a rounded-edge block, ``length`` along x, ``width`` along y, ``height`` along z."""
    section = rounded_polygon(
        np.array([[width / 2, -height / 2], [width / 2, height / 2], [-width / 2, height / 2],
                  [-width / 2, -height / 2]]), [radius] * 4, [2] * 4)[0]
    block = prism(section, -length / 2.0, length / 2.0, smooth_sides=True)
    # Built along z; turn z -> x, keeping the section's first axis along y.
    turn = np.array([[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    return block.apply_transform(turn)


def _hand(outline: list[tuple[float, float]], hub: float, thickness: float, cap: float = 0.0) -> trimesh.Trimesh:
    """A flat hand in its own frame (mm in, metres out): origin at the dial's centre, pointing to -x, from
    z = 0 up to ``thickness``; a round hub of radius ``hub``, ``cap`` taller than the hand."""
    blade = prism(np.array(outline) * MM, 0.0, thickness * MM)
    boss = prism(circle(hub * MM, 16), 0.0, (thickness + cap) * MM, smooth_sides=True)
    return join([blade, boss])


def watch(
    case_mm: float = 39.0,
    metal: str = "stainless_steel",
    dial: str = "black",
    strap: str = "leather",
    wrist_width_mm: float = NOMINAL_WRIST_WIDTH_MM,
    wrist_thickness_mm: float = NOMINAL_WRIST_THICKNESS_MM,
) -> trimesh.Scene:
    """A round three-hand watch: a ``case_mm`` case (without crown) on the back of the wrist, dial up (+z),
    with a sloped bezel, twelve applied baton markers (doubled at 12), a crown at 3 o'clock (+y) and four
    lugs carrying a strap whose width is about half the case's.

    ``dial``: "black" (lacquer; luminous hour and minute hands) or "white" (lacquer; hands in the metal).
    ``strap``: "leather" (brown, with a buckle at the bottom of the wrist) or "bracelet" (three-piece metal
    links). The case back rests 0.5 mm above the wrist ellipse; the strap hugs the ellipse and runs taut
    to the lugs.

    Nodes: "case" (middle, lugs, back), "case_bezel", "case_crown", "case_dial", "case_markers",
    "hand_hour", "hand_minute", "hand_second", "band_strap" and, with leather, "band_buckle".
    """
    a, b = _check_wrist(wrist_width_mm, wrist_thickness_mm)
    materials.check_names(metal, None)
    check_range("Watch case", case_mm, 26.0, 48.0)
    if dial not in ("black", "white"):
        raise InputError(f"Unknown dial {dial!r}; use 'black' or 'white'.")
    if strap not in ("leather", "bracelet"):
        raise InputError(f"Unknown strap {strap!r}; use 'leather' or 'bracelet'.")
    r = case_mm / 2.0 * MM
    lug_width = round(case_mm * 0.52) * MM  # between the lugs: 20 mm for a 39 mm case
    z0 = b + 0.5 * MM  # the case back's lowest point
    aperture = r - 3.5 * MM  # inside the bezel
    z_dial = z0 + 5.4 * MM
    mm = MM

    middle = sweep(
        circle(r - 2.0 * mm, 96),
        rounded_polygon(np.array([[2.0, 0.7], [2.0, 6.3], [-2.0, 6.3], [-2.0, 0.7]]) * mm,
                         [1.5 * mm, 0.4 * mm, 0.2 * mm, 0.2 * mm], [5, 3, 2, 2]),
    ).apply_translation([0.0, 0.0, z0])
    back = ellipsoid(np.array([0.0, 0.0, z0 + 1.0 * mm]), np.array([r - 3.0 * mm, r - 3.0 * mm, 1.0 * mm]))
    # Lugs: horns leaving the case's flank and curving down toward the wrist, in the sweep frame's x-y
    # (the wrist's x-z); the strap's spring bar passes through them at lug_tip.
    tau = np.linspace(0.0, 1.0, 7)
    horn = np.stack([r - 1.5 * mm + 7.1 * mm * tau, z0 + 4.8 * mm - 3.2 * mm * tau**2], axis=1)
    lug_tip = np.array([r + 4.6 * mm, z0 + 4.8 * mm - 3.2 * mm * (6.1 / 7.1) ** 2])
    lugs = []
    for side in (-1.0, 1.0):
        for v in (-1.0, 1.0):
            y = v * (lug_width / 2.0 + 1.1 * mm)
            section = rect_section(-1.4 * mm, 1.4 * mm, y - 1.1 * mm, y + 1.1 * mm, 0.5 * mm, 2)
            lugs.append(sweep_open(horn * [side, 1.0], section).apply_transform(_SWEEP_TO_WRIST))
    # _SWEEP_TO_WRIST sends sweep z to wrist -y; the lugs are symmetric in y, so that sign does not matter.
    case = join([middle, back, *lugs])

    bezel_w = (r + 0.1 * mm - aperture) / 2.0
    bezel = sweep(
        circle(aperture + bezel_w, 96),
        rounded_polygon(np.array([[bezel_w, 0.0], [bezel_w, 0.55 * mm], [bezel_w - 1.6 * mm, 1.5 * mm],
                                   [-bezel_w, 1.5 * mm], [-bezel_w, 0.0]]),
                         [0.15 * mm, 0.45 * mm, 0.45 * mm, 0.2 * mm, 0.1 * mm], [2, 3, 3, 2, 2]),
    ).apply_translation([0.0, 0.0, z0 + 6.1 * mm])
    crown_z = z0 + 3.6 * mm
    crown = rod(np.array([0.0, r - 1.0 * mm, crown_z]), np.array([0.0, r + 2.4 * mm, crown_z]), 2.2 * mm,
                 sides=20, smooth=False)  # flat sides read as the crown's knurling
    dial_mesh = prism(circle(aperture + 0.6 * mm, 96), z_dial - 0.4 * mm, z_dial, smooth_sides=True)

    markers = []
    for hour in range(12):
        angle = math.radians(30.0 * hour)
        out = np.array([-math.cos(angle), math.sin(angle)])  # 12 at -x, 3 at +y, seen from +z
        across = np.array([-out[1], out[0]])
        inner, outer = aperture - 3.8 * mm, aperture - 1.1 * mm
        for offset, half_w in ((-0.55, 0.35), (0.55, 0.35)) if hour == 0 else ((0.0, 0.5),):
            c, w = across * offset * mm, across * half_w * mm
            bar = [c + inner * out - w, c + outer * out - w, c + outer * out + w, c + inner * out + w]
            markers.append(prism(np.array(bar), z_dial - 0.05 * mm, z_dial + 0.35 * mm))

    hand_paint = "luminous_paint" if dial == "black" else metal
    hands = {
        "hand_hour": (_hand([(2.2, -0.9), (-7.6, -0.75), (-9.3, 0.0), (-7.6, 0.75), (2.2, 0.9)], 1.5, 0.18), 0.30,
                      hand_paint),
        "hand_minute": (_hand([(2.6, -0.7), (-12.4, -0.5), (-14.0, 0.0), (-12.4, 0.5), (2.6, 0.7)], 1.2, 0.18), 0.55,
                        hand_paint),
        "hand_second": (_hand([(4.5, -0.3), (-15.0, -0.1), (-15.0, 0.1), (4.5, 0.3)], 0.8, 0.12, 0.25), 0.80, metal),
    }

    strap_t = 3.0 * mm
    spacing = 2.5 * mm if strap == "leather" else 5.0 * mm  # bends every 2.5 mm, or a bracelet's links
    chain_path = _strap_path(a + 0.5 * mm, b + 0.5 * mm, strap_t / 2.0, lug_tip, r + 0.3 * mm, spacing)
    parts: list[tuple[str, trimesh.Trimesh, str]] = []
    if strap == "leather":
        section = rect_section(-strap_t / 2.0, strap_t / 2.0, -lug_width / 2.0, lug_width / 2.0, 1.2 * mm, 3)
        band = sweep_open(chain_path, section).apply_transform(_SWEEP_TO_WRIST)
        low = chain_path[np.argmin(chain_path[:, 1])]
        # A pin buckle's frame round the strap at the bottom of the wrist, 0.35 mm clear of the leather.
        loop_half = np.array([strap_t / 2.0, lug_width / 2.0]) + 0.35 * mm
        loop = rounded_polygon(np.array([[1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0]]) * loop_half,
                                [1.0 * mm] * 4, [3] * 4)[0]
        buckle = sweep(loop, round_profile(0.6 * mm, 6))
        # The loop is built in its x-y plane (x radial, y across): x -> sweep -y (down), y -> sweep z.
        to_bottom = np.array([[0.0, 0.0, -1.0, low[0]], [-1.0, 0.0, 0.0, low[1]], [0.0, 1.0, 0.0, 0.0],
                              [0.0, 0.0, 0.0, 1.0]])
        parts += [("band_strap", band, "brown_leather"),
                  ("band_buckle", buckle.apply_transform(_SWEEP_TO_WRIST @ to_bottom), metal)]
    else:  # one row of three blocks on each chord of the strap's path, lug tip to lug tip
        chords = np.diff(chain_path, axis=0)
        step = float(np.linalg.norm(chords[0]))
        tangent = chords / np.linalg.norm(chords, axis=1, keepdims=True)
        centre, edge = 0.47 * lug_width, (lug_width - 0.47 * lug_width) / 2.0 - 0.1 * mm
        row = [_block(step - 0.25 * mm, centre, strap_t, 0.6 * mm)]
        for v in (-1.0, 1.0):
            row.append(_block(step - 0.25 * mm, edge, strap_t * 0.9, 0.6 * mm).apply_translation(
                [0.0, v * (centre / 2.0 + 0.1 * mm + edge / 2.0), 0.0]))
        row_mesh = join(row)
        blocks = []
        for p, t in zip((chain_path[1:] + chain_path[:-1]) / 2.0, tangent, strict=True):
            blocks.append(placed(row_mesh, _SWEEP_TO_WRIST @ _frame(p, np.array([t[1], -t[0]]))))
        parts.append(("band_strap", join(blocks), metal))

    piece = scene(
        ("case", case, metal),
        ("case_bezel", bezel, metal),
        ("case_crown", crown, metal),
        ("case_dial", dial_mesh, f"{dial}_lacquer"),
        ("case_markers", join(markers), metal),
        *parts,
    )
    for name, (mesh, height, paint) in hands.items():
        piece.add_geometry(finish(mesh, paint), node_name=name, geom_name=name,
                           transform=trimesh.transformations.translation_matrix([0.0, 0.0, z_dial + height * mm]))
    return piece

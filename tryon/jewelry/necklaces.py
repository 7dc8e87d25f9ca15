"""Procedural necklaces as ``trimesh.Scene`` objects, in real dimensions. Units: METRES.

A necklace is drawn along a curve the renderer computes every frame (the chain draped round the neck), so
a chain is not modelled whole: a builder makes ONE REPEAT UNIT that the renderer instances along the curve,
and pendants are rigid parts hung from it.

Unit frame (every node whose name starts with ``link``; node transforms are the identity):
    origin  on the chain's centre line, at the start of the unit;
    +y      along the chain, the direction of travel;
    +z      out of the body: away from the skin, toward the viewer when worn at the front;
    +x      y x z: across the chain, along the skin.
The unit occupies y in [0, pitch); its parts may reach into the neighbours' ranges (interlocking links do),
and copies placed at y = 0, pitch, 2 pitch, ... make a continuous, correctly interlocked chain. The chain's
surface lies within half its thickness of the x-y plane: the skin is at about z = -thickness / 2.
:class:`ChainUnit` (``pitch_mm``, ``width_mm`` along x, ``thickness_mm`` along z) travels with the scene
in ``scene.metadata["chain_unit"]`` (it survives a GLB round trip); read it with :func:`unit_size`.

Pendant frame (every node whose name starts with ``pendant``; node transforms are rigid):
    origin  the pivot: the centre of the bail's opening, where the chain's centre line passes through;
    +y      up: the pendant hangs below, at y < 0 (only the bail's upper half is above y = 0);
    +z      out of the front face, toward the viewer;
    +x      y x z.
The chain runs along x through the bail, whose opening is ``BAIL_OPENING_MM`` (height along y, depth along
z): chains up to 2.6 mm thick pass. Pendant bodies rest their backs on the plane z = ``-BACK_MM`` (the back
of the bail's opening, about where the skin is under a chain), fronts toward +z.

Node names: ``link...`` and ``pendant...`` only (no ``drop``, ``band``, ``head``, ``case`` or ``hand_``
prefixes: those mean other things to the renderer). Every mesh's material is named after a metal, gem or
dielectric of :mod:`tryon.jewelry.materials`. A pendant necklace is :func:`necklace` (chain, pendant).

Metal meshes carry smooth vertex normals; gems are flat-shaded (:mod:`tryon.jewelry.geometry.gems`).
Every part is closed once its vertices are merged by position.
"""

from __future__ import annotations

import math
import string
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import trimesh
from numpy.typing import NDArray

from tryon.errors import InputError
from tryon.jewelry import materials
from tryon.jewelry.geometry.gems import prong_head
from tryon.jewelry.geometry.outlines import circle, drop_collinear, resample, stadium
from tryon.jewelry.geometry.plates import bevelled_plate, hang_point
from tryon.jewelry.geometry.profiles import rect_section, round_profile, rounded_polygon
from tryon.jewelry.geometry.relief import puffed
from tryon.jewelry.geometry.scenes import scene
from tryon.jewelry.geometry.solids import bead, capsule, extrude, flat_shaded, join, placed, prism, rod
from tryon.jewelry.geometry.sweeps import sweep, sweep_open
from tryon.jewelry.geometry.units import MM, FloatArray, check_range

__all__ = [
    "BACK_MM",
    "BAIL_OPENING_MM",
    "CHOKER_LENGTH_MM",
    "NECKLACE_LENGTH_MM",
    "PEARLS",
    "ChainUnit",
    "box_chain",
    "cable_chain",
    "choker",
    "coin_pendant",
    "heart_pendant",
    "initial_pendant",
    "necklace",
    "pearl_strand",
    "plate_pendant",
    "rope_chain",
    "solitaire_pendant",
    "unit_size",
]

NECKLACE_LENGTH_MM = 450.0  # "princess": the usual chain length, resting on the collarbones
CHOKER_LENGTH_MM = 360.0  # a choker sits high on the neck: 35..38 cm
BAIL_OPENING_MM = (3.6, 2.6)  # (height along y, depth along z) inside the bail
BACK_MM = BAIL_OPENING_MM[1] / 2.0  # pendant backs on z = -BACK_MM
PEARLS = ("pearl", "cream_pearl", "black_pearl")  # pearl materials in tryon.jewelry.materials
SILK_GAP_MM = 0.5  # between knotted pearls
LINK_PREFIX, PENDANT_PREFIX = "link", "pendant"

_UNIT_KEY = "chain_unit"
# Sweep frame -> unit frame for a link whose path's long axis (sweep x) runs along the chain: sweep x -> y,
# sweep y -> -x, sweep z -> z (a quarter turn about z). The link then lies flat in the x-y plane.
_FLAT = trimesh.transformations.rotation_matrix(math.pi / 2.0, [0.0, 0.0, 1.0])
# A quarter turn about the chain's axis: a flat link stands up in the y-z plane.
_UPRIGHT = trimesh.transformations.rotation_matrix(math.pi / 2.0, [0.0, 1.0, 0.0]) @ _FLAT
# Sweep frame -> unit frame for a tube round the chain's axis: path plane (sweep x-y) -> unit x-z, and the
# sweep's z (the cross-section's v) -> unit +y (a quarter turn about x, the other way from SWEEP_TO_Y_AXIS).
_AROUND_Y = trimesh.transformations.rotation_matrix(-math.pi / 2.0, [1.0, 0.0, 0.0])
# Sweep frame -> pendant frame for a bail: sweep x -> y, sweep y -> z, sweep z -> x (its width across).
_BAIL = np.array([[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class ChainUnit:
    """Size of a chain's repeat unit, in millimetres (unit frame).

    pitch_mm: how far the unit advances along the chain (y); width_mm: the chain's extent across it (x),
    along the skin; thickness_mm: its depth (z), out of the skin, for sitting it on the skin.
    """

    pitch_mm: float
    width_mm: float
    thickness_mm: float


def unit_size(scene: trimesh.Scene) -> ChainUnit:
    """The :class:`ChainUnit` a chain builder stored in ``scene.metadata`` (kept through GLB export)."""
    data = scene.metadata.get(_UNIT_KEY) if isinstance(scene.metadata, dict) else None
    if not isinstance(data, dict):
        raise InputError("This scene is not a chain: it carries no chain unit (pitch, width, thickness).")
    return ChainUnit(float(data["pitch_mm"]), float(data["width_mm"]), float(data["thickness_mm"]))


def _chain_scene(unit: ChainUnit, *parts: tuple[str, trimesh.Trimesh, str]) -> trimesh.Scene:
    out = scene(*parts)
    out.metadata[_UNIT_KEY] = {k: round(v, 6) for k, v in asdict(unit).items()}
    return out


def _translate(x: float, y: float, z: float) -> NDArray[np.float64]:
    return trimesh.transformations.translation_matrix([x, y, z])


# ---------------------------------------------------------------- chains


def cable_chain(link_mm: float = 2.5, wire_mm: float = 0.5, metal: str = "yellow_gold") -> trimesh.Scene:
    """A cable chain: oval links of round wire, each a quarter turn from the last.

    ``link_mm``: a link's outside length; it is 0.72 of that wide outside; ``wire_mm``: the wire's diameter.
    Unit: two links, "link_a" lying flat in the x-y plane centred at y = pitch / 4, and "link_b" upright in
    the y-z plane at y = 3 pitch / 4. Each link advances the chain by its inside length (link - 2 wire),
    so pitch = 2 x inside length and every link's wire rests in the ends of its neighbours (wire on
    wire: their centre lines one wire apart).
    Width (x) and thickness (z) are both the link's outside width. 2 x 14 x 6 x 2 = 336 triangles.
    """
    materials.check_names(metal, None)
    check_range("Cable link", link_mm, 1.5, 10.0)
    width_mm = 0.72 * link_mm
    check_range("Cable wire", wire_mm, 0.15, round(width_mm / 3.1, 2))  # a wire passes through the inside
    length, width, wire = link_mm * MM, width_mm * MM, wire_mm * MM
    step = length - 2.0 * wire  # the inside length: how far one link advances the chain
    link = sweep(_link_path(length - wire, width - wire), round_profile(wire / 2.0, 6))
    a = placed(link, _translate(0.0, 0.5 * step, 0.0) @ _FLAT)
    b = placed(link, _translate(0.0, 1.5 * step, 0.0) @ _UPRIGHT)
    unit = ChainUnit(2.0 * step / MM, width_mm, width_mm)
    return _chain_scene(unit, ("link_a", a, metal), ("link_b", b, metal))


# Where a cable link's end arcs are sampled (degrees from the link's long axis): dense at the tip, where the
# next link's wire rests, so the polygon's chords there stay within 1.3 % of a wire of the true arcs.
_LINK_END_DEG = (-90.0, -40.0, -12.0, 0.0, 12.0, 40.0, 90.0)


def _link_path(length: float, width: float) -> FloatArray:
    """A cable link's centre line (14, 2), counter-clockwise: a stadium ``length`` along x and ``width``
    along y, its end arcs sampled at ``_LINK_END_DEG``."""
    r, half = width / 2.0, (length - width) / 2.0
    a = np.radians(_LINK_END_DEG)
    right = np.stack([half + r * np.cos(a), r * np.sin(a)], axis=1)
    return np.concatenate([right, -right])


def box_chain(link_mm: float = 1.5, metal: str = "yellow_gold") -> trimesh.Scene:
    """A Venetian box chain: square links, each a short square tube bent from sheet, open along the chain.

    ``link_mm``: a box's outside side. A box is 0.85 of that long (y); a narrower square collar behind it
    (also open along y) reaches back inside the previous box, past that box's front face, and holds the
    two together; what shows between the boxes is a groove 0.15 x the side wide, with the collar in it.
    Unit: one link, node "link"; pitch = ``link_mm``; width = thickness = ``link_mm``. 2 x 12 x 8 x 2 =
    384 triangles.
    """
    materials.check_names(metal, None)
    check_range("Box link", link_mm, 0.8, 5.0)
    side = link_mm * MM
    wall = 0.11 * side
    body = 0.85 * side  # the box's length; the rest of the pitch is the groove
    half = side / 2.0
    corner = 0.18 * side  # outside corner radius
    box = sweep(_rounded_square(half - wall / 2.0, corner - wall / 2.0),
                 rect_section(-wall / 2.0, wall / 2.0, 0.0, body, 0.35 * wall, 2))
    # Collar: its outside clears the box's inside by 0.3 wall; from the box's back (y = 0) back past the
    # previous box's front face (y = -(pitch - body)) by 1.5 walls.
    c_half = half - wall - 0.3 * wall - wall / 2.0
    collar = sweep(_rounded_square(c_half, corner - wall),
                    rect_section(-wall / 2.0, wall / 2.0, -(side - body) - 1.5 * wall, 0.4 * wall,
                                  0.35 * wall, 2))
    mesh = join([box, collar], _AROUND_Y)
    return _chain_scene(ChainUnit(link_mm, link_mm, link_mm), ("link", mesh, metal))


def _rounded_square(half: float, radius: float, arc_points: int = 3) -> FloatArray:
    """A counter-clockwise square path (n, 2) of half side ``half`` with corners rounded by ``radius``."""
    c = half - radius
    pts = []
    for k, (sx, sy) in enumerate(((1, -1), (1, 1), (-1, 1), (-1, -1))):
        for a in np.linspace(-math.pi / 2.0 + k * math.pi / 2.0, k * math.pi / 2.0, arc_points):
            pts.append([sx * c + radius * math.cos(a), sy * c + radius * math.sin(a)])
    return np.array(pts)


def rope_chain(diameter_mm: float = 2.5, metal: str = "yellow_gold") -> trimesh.Scene:
    """A rope chain ``diameter_mm`` across: small oval links of round wire laid along a two-start helix, so
    the links' arcs make the diagonal ridges of a twisted two-strand rope.

    One full twist is 2 x the diameter long. A double helix repeats every half twist (the two strands swap
    places), so the unit is half a twist: node "link", seven links that alternate between the strands
    (each turned half a turn plus a seventh of a half twist from the last). A link is 1.1 x the diameter
    long and 0.62 x wide outside, of 0.17 x diameter wire; its long axis follows its helix and its width
    points outward from the chain's axis. Each link passes through the next two, as a real rope chain's
    do, but packed tighter than real wire allows (neighbouring wires cut up to 0.1 x diameter into each
    other: unseen at a link's one or two pixels) so seven links a unit read as a solid rope. Pitch = the
    diameter; width = thickness = the diameter (the outermost wire is exactly on it). 7 x 6 x 4 x 2 = 336
    triangles: hexagonal links of square wire, whose round normals make them shade round.
    """
    materials.check_names(metal, None)
    check_range("Rope diameter", diameter_mm, 1.5, 6.0)
    d = diameter_mm * MM
    twist = 2.0 * d
    pitch, count = twist / 2.0, 7
    wire = 0.17 * d
    length, width = 1.1 * d, 0.62 * d  # a link's outside size
    link = sweep(stadium(length - wire, width - wire, 3), round_profile(wire / 2.0, 4))

    def links_at(radius: float) -> list[trimesh.Trimesh]:
        out = []
        for m in range(count):
            y = (m + 0.5) * pitch / count
            theta = 2.0 * math.pi * y / twist + math.pi * m  # odd count: the next unit continues the helix
            out.append(placed(link, _rope_pose(radius, theta, y, twist)))
        return out

    # The links' centres sit on a helix whose radius puts the rope's outside exactly at d / 2.
    lo, hi = 0.0, d / 2.0
    for _ in range(40):
        mid = (lo + hi) / 2.0
        reach = max(float(np.hypot(p.vertices[:, 0], p.vertices[:, 2]).max()) for p in links_at(mid))
        lo, hi = (mid, hi) if reach < d / 2.0 else (lo, mid)
    mesh = join(links_at(lo))
    return _chain_scene(ChainUnit(pitch / MM, diameter_mm, diameter_mm), ("link", mesh, metal))


def _rope_pose(radius: float, theta: float, y: float, twist: float) -> NDArray[np.float64]:
    """(4, 4) pose of a rope link (built flat in the sweep frame, long axis x) centred on the helix of
    ``radius`` at angle ``theta`` (from +x toward +z about the chain's y axis) and height ``y``: long axis
    along the helix's tangent, width axis outward from the chain's axis."""
    radial = np.array([math.cos(theta), 0.0, math.sin(theta)])
    tangent = np.array([-radius * math.sin(theta), twist / (2.0 * math.pi), radius * math.cos(theta)])
    tangent /= np.linalg.norm(tangent)
    pose = np.eye(4)
    pose[:3, :3] = np.column_stack([tangent, radial, np.cross(tangent, radial)])
    pose[:3, 3] = radius * radial + [0.0, y, 0.0]
    return pose


def pearl_strand(pearl_mm: float = 7.0, pearl: str = "pearl") -> trimesh.Scene:
    """A knotted strand of round pearls ``pearl_mm`` across on silk.

    ``pearl``: one of ``PEARLS`` (white Akoya, cream, black Tahitian). Unit: "link_pearl" (a sphere centred
    at y = pitch / 2) and "link_silk" (the thread: a 0.4 mm cord reaching 0.6 mm into the drill holes of the
    pearls either side, and a knot in the 0.5 mm gap between them). Pitch = pearl + 0.5 mm; width =
    thickness = pearl. 320 + 44 triangles.
    """
    check_range("Pearl", pearl_mm, 3.0, 12.0)
    if pearl not in PEARLS:
        raise InputError(f"Unknown pearl {pearl!r}; use one of {', '.join(PEARLS)}.")
    r, gap = pearl_mm / 2.0 * MM, SILK_GAP_MM * MM
    pitch = 2.0 * r + gap
    ball = trimesh.creation.icosphere(subdivisions=2, radius=1.0)
    unit_n = ball.vertices / np.linalg.norm(ball.vertices, axis=1, keepdims=True)
    sphere = trimesh.Trimesh(unit_n * r + [0.0, pitch / 2.0, 0.0], ball.faces, vertex_normals=unit_n,
                             process=False)
    reach = gap / 2.0 + 0.6 * MM
    cord = rod(np.array([0.0, -reach, 0.0]), np.array([0.0, reach, 0.0]), 0.2 * MM, sides=6)
    knot = bead(np.zeros(3), np.array([0.36, gap / 2.0 / MM, 0.36]) * MM)
    silk = join([cord, knot])
    return _chain_scene(ChainUnit(pitch / MM, pearl_mm, pearl_mm), ("link_pearl", sphere, pearl),
                        ("link_silk", silk, "silk"))


def choker(width_mm: float = 4.0, metal: str = "yellow_gold") -> trimesh.Scene:
    """A flat herringbone choker ``width_mm`` wide (worn ``CHOKER_LENGTH_MM`` long).

    Herringbone: flat V-shaped links (chevrons pointing along +y) laid like shingles: each leans at 12
    degrees, its front edge raised over the next one's back, so the band shows a continuous, mirror-bright
    V pattern. Unit: four chevrons 0.2 x width apart, node "link"; pitch = 0.8 x width; thickness = 0.178 x
    width (0.71 mm at 4 mm). 4 x 80 = 320 triangles.
    """
    materials.check_names(metal, None)
    check_range("Choker width", width_mm, 2.0, 8.0)
    w = width_mm * MM
    step, count = 0.2 * w, 4
    tau = 0.1 * w  # strip thickness
    lean = math.radians(12.0)
    depth = 2.2 * step  # the strip's width (across its own length): it overlaps the next two
    rise = 0.5 * depth * math.tan(lean)
    # Cross-section (u along the path's right-hand normal, i.e. backward; v along +z): a slanted plate.
    corners = np.array([[depth / 2.0, -rise - tau / 2.0], [depth / 2.0, -rise + tau / 2.0],
                        [-depth / 2.0, rise + tau / 2.0], [-depth / 2.0, rise - tau / 2.0]])
    section = rounded_polygon(corners, [0.3 * tau] * 4, [2] * 4)
    # The V's arms rise at 24 degrees to x from the apex and level off for the last 0.12 x width, so the
    # strips' cut ends line up along the chain's edges at x = +-w / 2.
    x1 = 0.38 * w
    drop = x1 * math.tan(math.radians(24.0))
    path = np.array([[-w / 2.0, -drop], [-x1, -drop], [0.0, 0.0], [x1, -drop], [w / 2.0, -drop]])
    chevron = sweep_open(path, section)
    apex = drop / 2.0  # centre the V on its own step
    parts = [placed(chevron, _translate(0.0, (k + 0.5) * step + apex, 0.0)) for k in range(count)]
    mesh = join(parts)
    thickness = float(np.ptp(mesh.vertices[:, 2])) / MM
    return _chain_scene(ChainUnit(count * step / MM, width_mm, round(thickness, 6)), ("link", mesh, metal))


# ---------------------------------------------------------------- pendants


def _bail(band_mm: float, wire_mm: float = 0.55) -> trimesh.Trimesh:
    """A bail round the origin: a loop of flat wire in the y-z plane, ``BAIL_OPENING_MM`` inside, the chain
    passing along x; ``band_mm`` wide along x, ``wire_mm`` thick. Its lowest point is at y =
    -(opening height / 2 + wire)."""
    h, d = BAIL_OPENING_MM[0] * MM, BAIL_OPENING_MM[1] * MM
    t, band = wire_mm * MM, band_mm * MM
    loop = sweep(stadium(h + t, d + t, 9), rect_section(-t / 2.0, t / 2.0, -band / 2.0, band / 2.0, 0.4 * t, 2))
    return loop.apply_transform(_BAIL)


def _bail_bottom(wire_mm: float = 0.55) -> float:
    """y (m) of the bail's lowest point."""
    return -(BAIL_OPENING_MM[0] / 2.0 + wire_mm) * MM


def solitaire_pendant(stone_mm: float = 6.5, metal: str = "white_gold", stone: str = "diamond") -> trimesh.Scene:
    """A round brilliant (``stone_mm`` girdle diameter; 6.5 mm is about 1 ct of diamond) in a four-claw
    basket, claws in an X, table facing +z, hung from a bail by a short peg from the basket's top rail.

    Nodes: "pendant_setting" (gallery, claws, rail, peg), "pendant_stone" (girdle centre on x = 0 below the
    bail), "pendant_bail". The gallery rests on z = -BACK_MM; the table is 2.9 mm in front of the pivot
    (6.5 mm stone).
    """
    materials.check_names(metal, stone)
    check_range("Solitaire pendant stone", stone_mm, 3.0, 10.0)
    d = stone_mm * MM
    basket, gem, z_g = prong_head(d, -BACK_MM * MM, 4)
    r_rail = 0.85 * d / 2.0
    y_c = _bail_bottom() - 0.25 * MM - r_rail  # the rail's top 0.25 mm under the bail
    z_peg = z_g - d * 0.06
    peg = capsule(np.array([0.0, _bail_bottom() + 0.3 * MM, 0.0]), np.array([0.0, y_c + r_rail, z_peg]),
                   0.35 * MM)
    setting = join([join(basket, _translate(0.0, y_c, 0.0)), peg])
    gem.apply_translation([0.0, y_c, 0.0])
    return scene(("pendant_setting", setting, metal), ("pendant_stone", gem, stone), ("pendant_bail", _bail(1.2), metal))


def _heart_outline(width: float, count: int) -> FloatArray:
    """A heart (n, 2), counter-clockwise from its top notch: x = 16 sin^3 t, y = 13 cos t - 5 cos 2t -
    2 cos 3t - cos 4t, scaled to ``width``, resampled evenly by arc length (the notch and the point are
    samples)."""
    t = np.linspace(0.0, 2.0 * math.pi, 4096, endpoint=False)
    x = -16.0 * np.sin(t) ** 3  # minus: counter-clockwise
    y = 13.0 * np.cos(t) - 5.0 * np.cos(2.0 * t) - 2.0 * np.cos(3.0 * t) - np.cos(4.0 * t)
    return resample(np.stack([x, y], axis=1) * (width / 32.0), count, closed=True)


def heart_pendant(width_mm: float = 12.0, metal: str = "rose_gold") -> trimesh.Scene:
    """A polished puffed heart ``width_mm`` wide (0.9 of that tall, up to 0.33 of it thick: 0.2 domed in
    front, 0.13 behind), hung by a jump ring (in the x-y plane, through the bail) soldered into its top
    notch, long enough that the lobes stay below a 2.6 mm chain.

    Nodes: "pendant_heart", "pendant_ring" (the jump ring; its top wire lies in the bottom 0.4 mm of
    the bail's opening, under any chain up to 2.6 mm), "pendant_bail". The heart's flatter-domed back
    reaches z = -BACK_MM at its deepest.
    """
    materials.check_names(metal, None)
    check_range("Heart width", width_mm, 6.0, 30.0)
    w = width_mm * MM
    outline = _heart_outline(w, 96)
    notch_to_top = float(outline[:, 1].max() - outline[0, 1])  # the lobes rise above the notch
    ring_t = max(0.35 * MM, 0.035 * w)
    ring_top = -BAIL_OPENING_MM[0] / 2.0 * MM + ring_t / 2.0  # the ring's wire rests in the bail
    # The ring reaches down into the notch, far enough that the lobes' tops clear a 2.6 mm chain.
    ring_r = max(0.9 * MM + ring_t / 2.0, (ring_top + 0.3 * ring_t + notch_to_top + 1.3 * MM) / 2.0)
    notch_y = ring_top - 2.0 * ring_r + 0.3 * ring_t
    back, front = 0.13 * w, 0.2 * w
    z_mid = -BACK_MM * MM + back
    centre = np.array([0.0, 0.35 * outline[:, 1].min() + 0.65 * outline[0, 1]])
    heart = puffed(outline, centre, z_mid, front, back).apply_translation([0.0, notch_y - outline[0, 1], 0.0])
    ring = sweep(circle(ring_r, 24), round_profile(ring_t / 2.0, 8))
    ring.apply_translation([0.0, ring_top - ring_r, z_mid])
    return scene(("pendant_heart", heart, metal), ("pendant_ring", ring, metal), ("pendant_bail", _bail(1.4), metal))


def _star(outer: float, inner: float, z0: float, z_edge: float, z_apex: float, points: int = 5) -> trimesh.Trimesh:
    """A faceted star in relief, centred on the origin, one point up (+y): upright walls from z0 to z_edge
    round a ``points``-pointed outline (tips at radius ``outer``, notches at ``inner``), and a top of
    2 x points flat facets rising to a point at (0, 0, z_apex). Flat-shaded, so each facet catches the
    light on its own (a flat relief would shade like the field around it)."""
    a = math.pi / 2.0 + np.arange(2 * points) * (math.pi / points)
    r = np.where(np.arange(2 * points) % 2 == 0, outer, inner)
    ring = np.stack([r * np.cos(a), r * np.sin(a)], axis=1)  # counter-clockwise
    k = len(ring)
    verts = np.concatenate([np.column_stack([ring, np.full(k, z0)]), np.column_stack([ring, np.full(k, z_edge)]),
                            [[0.0, 0.0, z0], [0.0, 0.0, z_apex]]])
    tris = []
    for i in range(k):
        j = (i + 1) % k
        tris += [[i, j, k + j], [i, k + j, k + i], [2 * k + 1, k + i, k + j], [2 * k, j, i]]
    return flat_shaded(verts, np.array(tris))


def coin_pendant(diameter_mm: float = 18.0, metal: str = "yellow_gold") -> trimesh.Scene:
    """A coin ``diameter_mm`` across: a flat disc with a raised rounded rim, a faceted five-pointed star in
    relief in the middle of the front and a raised ring round it, hung from a bail on its top edge.

    Nodes: "pendant_coin" (centre on x = 0), "pendant_bail". The back is flat on z = -BACK_MM; the field
    is 1.1 mm thick, the rim 1.6 mm, the star's point 1.6 mm.
    """
    materials.check_names(metal, None)
    check_range("Coin diameter", diameter_mm, 10.0, 35.0)
    r = diameter_mm / 2.0 * MM
    z0 = -BACK_MM * MM
    field, rim_top, relief = z0 + 1.1 * MM, z0 + 1.6 * MM, 0.5 * MM
    rim_w = 0.08 * 2.0 * r
    rim = sweep(circle(r - rim_w / 2.0, 72),
                 rect_section(-rim_w / 2.0, rim_w / 2.0, z0, rim_top, 0.3 * rim_w, 3))
    disc = prism(circle(r - rim_w + 0.05 * MM, 72), z0 + 0.05 * MM, field, smooth_sides=True)
    star = _star(0.38 * r, 0.16 * r, field - 0.05 * MM, field + 0.1 * MM, field + relief)
    ring_w = 0.04 * r
    ring = sweep(circle(0.55 * r, 72), rect_section(-ring_w, ring_w, field - 0.05 * MM, field + 0.3 * MM,
                                                      0.4 * ring_w, 2))
    y_c = _bail_bottom() + 0.3 * MM - r  # the bail sunk 0.3 mm into the rim's top
    body = join([rim, disc, star, ring], _translate(0.0, y_c, 0.0))
    return scene(("pendant_coin", body, metal), ("pendant_bail", _bail(2.0), metal))


# ---------------------------------------------------------------- initial


_LETTER_PX = 400  # cap height of the rasterised letter
_LETTER_STROKE = 0.14  # Hershey stroke thickness as a fraction of the cap height: a bold block letter


def _letter_contours(letter: str) -> list[tuple[FloatArray, list[FloatArray]]]:
    """The capital ``letter`` in OpenCV's Hershey Duplex, drawn with a thick stroke and traced: a list of
    (outer (n, 2) counter-clockwise, holes [(m, 2) clockwise]) in pixels, y up."""
    font = cv2.FONT_HERSHEY_DUPLEX
    scale = _LETTER_PX / cv2.getTextSize("H", font, 1.0, 1)[0][1]
    thick = round(_LETTER_STROKE * _LETTER_PX)
    size = 2 * _LETTER_PX
    img = np.zeros((size, size), np.uint8)
    (w, h), _ = cv2.getTextSize(letter, font, scale, thick)
    cv2.putText(img, letter, ((size - w) // 2, (size + h) // 2), font, scale, (255,), thick, cv2.LINE_8)
    found, hierarchy = cv2.findContours(img, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    eps = 0.0015 * _LETTER_PX

    def clean(c: NDArray[Any], ccw: bool) -> FloatArray:
        pts = cv2.approxPolyDP(c, eps, True)[:, 0, :].astype(np.float64) * [1.0, -1.0]  # y up
        pts = drop_collinear(pts)
        area = float(np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1]))
        return pts if (area > 0.0) == ccw else pts[::-1]

    shapes = []
    for i, c in enumerate(found):
        if hierarchy[0, i, 3] >= 0:
            continue  # a hole: collected with its outer contour
        holes = [clean(found[j], False) for j in range(len(found)) if hierarchy[0, j, 3] == i]
        shapes.append((clean(c, True), [h for h in holes if len(h) >= 3]))
    return shapes


def initial_pendant(letter: str = "A", height_mm: float = 12.0, metal: str = "yellow_gold") -> trimesh.Scene:
    """A capital ``letter`` (A-Z) cut from 1.2 mm sheet, ``height_mm`` tall (its full outline), in OpenCV's
    Hershey Duplex drawn bold, hung from a bail standing on the middle of its summit nearest the middle
    (an "A"'s apex, the middle of a "T"'s bar, the left stem of an "H" or arm of a "V"); the letter is
    moved so that point is under the pivot (x = 0).

    Nodes: "pendant_letter", "pendant_bail". The back is flat on z = -BACK_MM; the letter's pixels are
    traced and simplified to within 0.15 % of its height; the faces are ear-clipped (no extra dependency).
    """
    materials.check_names(metal, None)
    if not isinstance(letter, str) or len(letter) != 1 or letter not in string.ascii_uppercase:
        raise InputError(f"An initial pendant takes one capital letter A-Z, not {letter!r}.")
    check_range("Initial height", height_mm, 6.0, 30.0)
    shapes = _letter_contours(letter)
    band = 1.4 * MM
    every = np.concatenate([o for o, _ in shapes])
    lo, hi = every.min(axis=0), every.max(axis=0)
    scale = height_mm * MM / (hi[1] - lo[1])
    # Where it hangs: the outline's stretches within 2 % of the letter's top are its summits (an "A"'s
    # apex, a "T"'s bar, each stem of an "H"); the bail stands on the middle of the summit nearest the
    # letter's middle (ties: the left one), on the highest point under its band, sunk 0.3 mm in.
    outline = np.concatenate([resample(o, int(np.sum(np.linalg.norm(o - np.roll(o, 1, axis=0), axis=1))),
                                        closed=True) for o, _ in shapes])
    height = hi[1] - lo[1]
    xs = np.sort(outline[outline[:, 1] >= hi[1] - 0.02 * height, 0])
    summits = np.split(xs, np.flatnonzero(np.diff(xs) > 0.02 * height) + 1)
    centres = [(float(x[0]) + float(x[-1])) / 2.0 for x in summits]
    x_hang = min(centres, key=lambda c: (abs(c - (lo[0] + hi[0]) / 2.0), c))
    y_hang = outline[np.abs(outline[:, 0] - x_hang) <= band / 2.0 / scale, 1].max()
    offset = np.array([-x_hang, (_bail_bottom() + 0.3 * MM) / scale - y_hang])
    z0 = -BACK_MM * MM
    body = extrude(shapes, scale, offset, z0, z0 + 1.2 * MM)
    return scene(("pendant_letter", body, metal), ("pendant_bail", _bail(band / MM), metal))


PLATE_MM = 1.2  # a cut-out plate pendant's sheet
PLATE_WIRE_MM = 0.9  # its jump ring's and bail's wire: over the 0.8 mm casting minimum


def plate_pendant(outer_mm: FloatArray, holes_mm: list[FloatArray], metal: str = "yellow_gold",
                  thickness_mm: float = PLATE_MM) -> trimesh.Scene:
    """A plate cut to an outline (outer (n, 2) counter-clockwise, holes (m, 2) clockwise; millimetres, x
    right, y up, as seen from the front) from ``thickness_mm`` sheet, its edges rounded front and back,
    hung by a jump ring (in the x-y plane, through the bail) sunk into its top edge above its centroid, so
    it hangs straight; the ring is long enough that the plate's top anywhere (a heart's lobes) stays below
    the bail.

    Nodes: "pendant_plate" (back on z = -BACK_MM), "pendant_ring", "pendant_bail" (0.9 mm wire). The outline's
    corners must be rounded to at least 0.3 mm (:func:`~tryon.jewelry.geometry.plates.bevelled_plate`).
    """
    materials.check_names(metal, None)
    check_range("Plate thickness", thickness_mm, 0.8, 3.0)
    t, wire = thickness_mm * MM, PLATE_WIRE_MM * MM
    x_c, y_top, rise = hang_point(outer_mm, holes_mm, 2.0 * PLATE_WIRE_MM)
    ring_top = -BAIL_OPENING_MM[0] / 2.0 * MM + wire / 2.0  # the ring's wire rests in the bail's bottom
    below_bail = _bail_bottom(PLATE_WIRE_MM) - 0.2 * MM  # the plate's top stays under the bail
    sink = 0.6 * wire  # the ring's wire sunk into the plate's edge
    # The ring's bottom (its wire's outside) is `sink` into the plate at the hanging point, whose top is
    # `rise` above that: ring_top - 2 r - wire / 2 + sink + rise <= below_bail.
    radius = max(1.4 * MM, (ring_top - wire / 2.0 + sink + rise * MM - below_bail) / 2.0)
    y_hang = ring_top - 2.0 * radius - wire / 2.0 + sink
    z0 = -BACK_MM * MM
    offset = np.array([-x_c * MM, y_hang - y_top * MM])
    plate = bevelled_plate(outer_mm * MM + offset, [h * MM + offset for h in holes_mm], z0, z0 + t,
                           min(0.3 * MM, t / 3.0))
    ring = sweep(circle(radius, 32), round_profile(wire / 2.0, 10))
    ring.apply_translation([0.0, ring_top - radius, z0 + t / 2.0])
    return scene(("pendant_plate", plate, metal), ("pendant_ring", ring, metal),
                 ("pendant_bail", _bail(1.6, PLATE_WIRE_MM), metal))


# ---------------------------------------------------------------- necklace


def necklace(chain_scene: trimesh.Scene, pendant_scene: trimesh.Scene | None = None) -> trimesh.Scene:
    """One scene for a necklace: the chain's unit nodes (``link...``, unit frame) and, if given, the
    pendant's nodes (``pendant...``, pendant frame), names, transforms and materials kept, and the chain's
    :class:`ChainUnit`."""
    unit = unit_size(chain_scene)
    out = trimesh.Scene()
    for part, prefix in ((chain_scene, LINK_PREFIX), (pendant_scene, PENDANT_PREFIX)):
        if part is None:
            continue
        for node in part.graph.nodes_geometry:
            if not str(node).startswith(prefix):
                raise InputError(f"Node {node!r} does not belong in a necklace's {prefix} part.")
            transform, geom_name = part.graph[node]
            out.add_geometry(part.geometry[geom_name], node_name=node, geom_name=node,
                             transform=np.asarray(transform, np.float64))
    out.metadata[_UNIT_KEY] = asdict(unit)
    return out


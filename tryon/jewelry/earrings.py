"""Procedural earrings as ``trimesh.Scene`` objects, in real dimensions. Units: METRES.

Earring frame (the renderer relies on it):
    origin  the piercing point, where the post or wire enters the outer skin of the ear lobe;
    +y      up;
    +x      out of the ear along the piercing axis, away from the head;
    +z      completes a right-handed frame. Every piece is mirror-symmetric in z, so it fits either ear.

Stones are built in the "stone frame" of :mod:`tryon.jewelry.geometry.gems` (girdle plane z = 0 through the
girdle's centre, table facing +z). ``_STONE_TO_EAR`` turns that frame so the table faces +x.

Metal meshes carry smooth vertex normals; stone meshes have their vertices duplicated per triangle so
every facet shades flat (that is what makes facets read as facets). Merging a stone's vertices by position
gives a closed, watertight solid.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import trimesh

from tryon.errors import InputError
from tryon.jewelry import materials
from tryon.jewelry.geometry.gems import BrilliantCut, brilliant, pear_radius
from tryon.jewelry.geometry.outlines import circle
from tryon.jewelry.geometry.plates import bevelled_plate, hang_point
from tryon.jewelry.geometry.profiles import Profile, round_profile, rounded_polygon
from tryon.jewelry.geometry.solids import capsule, ellipsoid, join, placed
from tryon.jewelry.geometry.sweeps import sweep, sweep_open
from tryon.jewelry.geometry.units import MM, FloatArray, check_range

__all__ = ["drop", "hoop", "plate_earring", "stud"]

POST_RADIUS_MM = 0.4  # 0.8 mm (20 gauge) is the usual earring post
POST_LENGTH_MM = 10.0

# Table normal +z (stone frame) -> +x (ear frame); a rotation of +90 degrees about y: z->x, x->-z, y->y.
_STONE_TO_EAR = trimesh.transformations.rotation_matrix(math.pi / 2.0, [0.0, 1.0, 0.0])


def _knife_profile(wire: float) -> Profile:
    """Knife-edge cross-section: a lozenge ``wire`` tall radially and 0.44 ``wire`` thick, nearly sharp
    at the outer edge (u > 0), softly rounded at the inner edge where it rests on skin."""
    u, v = wire / 2.0, 0.22 * wire
    corners = np.array([[u, 0.0], [0.0, v], [-u, 0.0], [0.0, -v]])
    uv, n = rounded_polygon(corners, [0.02 * wire, 0.06 * wire, 0.12 * wire, 0.06 * wire], [3, 5, 7, 5])
    # Rounding pulls the outer edge and the ridges in; stretch back so the sizes are exactly as named.
    # Normals transform by the inverse scale (inverse transpose of a diagonal map).
    scale = np.array([u / uv[:, 0].max(), v / uv[:, 1].max()])
    n = n / scale
    return uv * scale, n / np.linalg.norm(n, axis=1, keepdims=True)


def _band_profile(width: float, v0: float, v1: float) -> Profile:
    """A bezel wall's cross-section: a rectangle ``width`` wide (radially) from height v0 to v1."""
    w = width / 2.0
    corners = np.array([[w, v0], [w, v1], [-w, v1], [-w, v0]])
    return rounded_polygon(corners, [0.4 * w] * 4, [3] * 4)


def _torus(major: float, minor: float, count: int = 32) -> trimesh.Trimesh:
    """A ring in the z = 0 plane around the origin (metres)."""
    return sweep(circle(major, count), round_profile(minor, 10))


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
    materials.check_names(metal, stone)
    if not 1.5 <= stone_mm <= 15.0:
        raise InputError(f"Stud stone {stone_mm} mm is outside 1.5..15 mm.")
    cut = BrilliantCut()
    d, r = stone_mm * MM, stone_mm * MM / 2.0
    g = cut.girdle * d / 2.0  # half the girdle thickness
    pav, crown = cut.pavilion_depth(d), cut.crown_height(d)
    prong = max(0.08 * d, 0.25 * MM)
    z_g = 0.6 * MM + prong + g + pav  # girdle centre: culet clears the base by 0.6 mm
    base_r = 0.3 * d
    parts = [ellipsoid(np.array([0.0, 0.0, prong]), np.array([base_r + prong, base_r + prong, prong]))]
    for a in np.radians([45.0, 135.0, 225.0, 315.0]):  # an X of prongs, the classic four-prong look
        u = np.array([math.cos(a), math.sin(a), 0.0])
        low = u * base_r + [0.0, 0.0, prong]
        mid = u * (r + 0.5 * prong) + [0.0, 0.0, z_g]
        tip = u * (r - 0.05 * d) + [0.0, 0.0, z_g + g + 0.35 * crown]
        parts += [capsule(low, mid, prong), capsule(mid, tip, prong)]
    # Two rails tie the prongs together: one just under the girdle, one halfway down the pavilion.
    for frac in (0.15, 0.55):
        z = z_g - g - frac * pav
        rail = _torus(r * (1.0 - frac) + 0.5 * prong, 0.6 * prong)
        parts.append(rail.apply_translation([0.0, 0.0, z]))
    parts.append(
        capsule(np.array([0.0, 0.0, prong]), np.array([0.0, 0.0, -POST_LENGTH_MM * MM]), POST_RADIUS_MM * MM)
    )
    gem_mesh = brilliant(stone_mm, cut=cut).apply_translation([0.0, 0.0, z_g]).apply_transform(_STONE_TO_EAR)
    scene = trimesh.Scene()
    scene.add_geometry(
        _dress(join(parts, _STONE_TO_EAR), metal), node_name="stud_setting", geom_name="stud_setting"
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
    materials.check_names(metal, None)
    if wire_mm <= 0.0 or diameter_mm < 4.0 * wire_mm:
        raise InputError(f"Hoop {diameter_mm} mm with a {wire_mm} mm wire is not a hoop.")
    if profile not in ("round", "knife"):
        raise InputError(f"Unknown hoop profile {profile!r}; use 'round' or 'knife'.")
    radius, wire = diameter_mm / 2.0 * MM, wire_mm * MM
    section = round_profile(wire / 2.0) if profile == "round" else _knife_profile(wire)
    mesh = sweep(circle(radius, segments), section).apply_translation([0.0, -radius, 0.0])
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
    materials.check_names(metal, stone)
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
        sweep(circle(rt + wall / 2.0 - 0.03 * MM, 48), _band_profile(wall, 0.1 * MM, zt + gt + 0.25 * MM)),
        ellipsoid(np.array([0.0, 0.0, 0.35 * MM]), np.array([rt + wall, rt + wall, 0.35 * MM])),
        capsule(
            np.array([0.0, 0.0, 0.3 * MM]), np.array([0.0, 0.0, -POST_LENGTH_MM * MM]), POST_RADIUS_MM * MM
        ),
    ]
    top_setting = join(top_parts, _STONE_TO_EAR)
    x0 = zt / 2.0  # the chain of rings hangs in the middle of the bezel's depth
    loop_r, loop_t = 0.6 * MM, 0.2 * MM
    y_loop = -(rt + wall) - loop_r + loop_t  # top of the loop's wire sunk into the bezel wall
    top_setting = join([top_setting, _torus(loop_r, loop_t).apply_translation([x0, y_loop, 0.0])])
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
    rho = pear_radius(phi, stone_mm / width) if cut == "pear" else np.ones_like(phi)
    path = (rho * w / 2.0 + wall / 2.0 - 0.03 * MM)[:, None] * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    g = bc.girdle * w / 2.0
    bezel = sweep(path, _band_profile(wall, -g - 0.25 * bc.pavilion_depth(w), g + 0.25 * MM))
    place = _translate(x0, y_centre, 0.0) @ _STONE_TO_EAR
    drop_setting = join([jump, bail, bezel.apply_transform(place)])
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




PLATE_MM = 1.0  # a cut-out plate earring's sheet
HOOK_WIRE_MM = 0.9  # ear wire and rings: over the 0.8 mm casting minimum (ear wires are usually 0.6-0.8)
HOOK_RADIUS_MM = 4.0  # the French hook's curve over the lobe


def _french_hook(front_x: float, wire: float) -> tuple[trimesh.Trimesh, float]:
    """A French ear wire in the x-y plane through the piercing point (the origin): a front leg standing at
    x = ``front_x`` in front of the ear, a curve of HOOK_RADIUS_MM over and through the lobe, and a tail
    hanging behind it; and y (m) of the front leg's lower end, where the eye hangs."""
    r = HOOK_RADIUS_MM * MM
    cx = front_x - r  # the curve's centre: its front side vertical at front_x, the origin on it
    cy = -math.sqrt(r * r - cx * cx)
    leg_end = cy - 3.0 * MM
    leg = np.stack([np.full(6, front_x), np.linspace(leg_end, cy, 6)], axis=1)[:-1]
    a = np.linspace(0.0, math.pi, 33)
    arc = np.stack([cx + r * np.cos(a), cy + r * np.sin(a)], axis=1)
    s = np.linspace(0.0, 1.0, 9)[1:]
    tail = np.stack([cx - r - 1.2 * MM * s ** 2, cy - 8.0 * MM * s], axis=1)
    path = np.concatenate([leg, arc, tail])
    return sweep_open(path, round_profile(wire / 2.0, 10)), leg_end


def plate_earring(outer_mm: FloatArray, holes_mm: list[FloatArray], metal: str = "yellow_gold",
                  thickness_mm: float = PLATE_MM) -> trimesh.Scene:
    """A plate cut to an outline (outer (n, 2) counter-clockwise, holes (m, 2) clockwise; millimetres, x
    right, y up, as seen from the front) from ``thickness_mm`` sheet, its edges rounded, facing +x (out of the
    ear; the drawing reads unmirrored from there), hung from a French ear wire by an eye and a jump ring
    sunk into its top edge above its centroid (so it hangs straight); the plate's top stays below the eye.

    Nodes: "hook" (the ear wire and its eye, in the x-y plane through the piercing point), "plate_ring"
    (in the y-z plane), "plate". Every wire is HOOK_WIRE_MM thick.
    """
    materials.check_names(metal, None)
    check_range("Plate thickness", thickness_mm, 0.8, 3.0)
    t, wire = thickness_mm * MM, HOOK_WIRE_MM * MM
    front_x = t / 2.0 + 1.0 * MM  # the plate's back 1 mm in front of the lobe
    hook, leg_end = _french_hook(front_x, wire)
    eye_r = 1.0 * MM
    y_eye = leg_end - eye_r + 0.5 * wire  # the leg's end sunk into the eye's top wire
    eye = sweep(circle(eye_r, 24), round_profile(wire / 2.0, 10)).apply_translation([front_x, y_eye, 0.0])
    x_c, y_top, rise = hang_point(outer_mm, holes_mm, 2.0 * HOOK_WIRE_MM)
    ring_top = y_eye - eye_r + wire  # the ring's wire rests on the eye's bottom wire, inside it
    below_eye = y_eye - eye_r - wire / 2.0 - 0.2 * MM
    sink = 0.6 * wire
    radius = max(1.4 * MM, (ring_top - wire / 2.0 + sink + rise * MM - below_eye) / 2.0)
    y_hang = ring_top - 2.0 * radius - wire / 2.0 + sink
    ring = placed(sweep(circle(radius, 32), round_profile(wire / 2.0, 10)),
                  _translate(front_x, ring_top - radius, 0.0) @ _STONE_TO_EAR)
    offset = np.array([-x_c * MM, y_hang - y_top * MM])
    plate = bevelled_plate(outer_mm * MM + offset, [h * MM + offset for h in holes_mm], -t / 2.0, t / 2.0,
                           min(0.3 * MM, t / 3.0))
    plate = placed(plate, _translate(front_x, 0.0, 0.0) @ _STONE_TO_EAR)
    scene = trimesh.Scene()
    for name, mesh in (("hook", join([hook, eye])), ("plate_ring", ring), ("plate", plate)):
        scene.add_geometry(_dress(mesh, metal), node_name=name, geom_name=name)
    return scene

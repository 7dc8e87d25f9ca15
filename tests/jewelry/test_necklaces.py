"""Procedural necklaces: chain repeat units that tile into interlocked chains (unit frame), pendants that
hang from their pivot (pendant frame), real sizes, node names and materials the renderer reads, closed
meshes, triangle budgets, GLB round trips and determinism."""

from __future__ import annotations

import io
import math
import string
from collections.abc import Callable

import numpy as np
import pytest
import trimesh
from conftest import merged, world_mesh

from tryon.errors import InputError
from tryon.jewelry import materials
from tryon.jewelry import necklaces as nk
from tryon.jewelry.geometry.units import MM

UNIT_TRIANGLES = 400  # instanced 100-150 times a frame on a software rasteriser
PENDANT_TRIANGLES = 6000
TOL_M = 1e-6
CHAINS: dict[str, Callable[[], trimesh.Scene]] = {
    "cable": lambda: nk.cable_chain(),
    "box": lambda: nk.box_chain(),
    "rope": lambda: nk.rope_chain(),
    "pearl": lambda: nk.pearl_strand(),
    "choker": lambda: nk.choker(),
}
PENDANTS: dict[str, Callable[[], trimesh.Scene]] = {
    "solitaire": lambda: nk.solitaire_pendant(),
    "heart": lambda: nk.heart_pendant(),
    "coin": lambda: nk.coin_pendant(),
    "initial": lambda: nk.initial_pendant("R"),
}
BAIL_WIRE_MM = 0.55
BAIL_TOP_MM = nk.BAIL_OPENING_MM[0] / 2.0 + BAIL_WIRE_MM


def glb(scene: trimesh.Scene) -> trimesh.Scene:
    loaded = trimesh.load(io.BytesIO(scene.export(file_type="glb")), file_type="glb", force="scene", process=False)
    assert isinstance(loaded, trimesh.Scene)
    return loaded


def centre_line(mesh: trimesh.Trimesh, wire_mm: float) -> np.ndarray:
    """Points (n, 3) on the centre line of a round-wire sweep: each vertex moved in along its (analytic,
    radial) normal by the wire's radius."""
    return mesh.vertices - wire_mm / 2.0 * MM * mesh.vertex_normals


def sweep_rings(mesh: trimesh.Trimesh, wire_mm: float, path_points: int) -> np.ndarray:
    """The closed centre-line polygon (path_points, 3) of a round-wire sweep (its vertices come a path
    point at a time, the profile's points round each)."""
    return centre_line(mesh, wire_mm).reshape(path_points, -1, 3).mean(axis=1)


def linking_number(p: np.ndarray, q: np.ndarray) -> float:
    """Gauss linking number of two closed polygons (n, 3), (m, 3), as a sum of the signed solid angles of
    segment pairs (Klenin & Langowski, Biopolymers 2000): +-1 for two links of a chain, 0 for loose ones."""
    p1, p2 = p[:, None], np.roll(p, -1, axis=0)[:, None]
    q1, q2 = q[None], np.roll(q, -1, axis=0)[None]
    r13, r14, r23, r24 = q1 - p1, q2 - p1, q1 - p2, q2 - p2

    def unit(v: np.ndarray) -> np.ndarray:
        n = np.linalg.norm(v, axis=-1, keepdims=True)
        return np.divide(v, n, out=np.zeros_like(v), where=n > 0.0)

    n = [unit(np.cross(r13, r14)), unit(np.cross(r14, r24)), unit(np.cross(r24, r23)), unit(np.cross(r23, r13))]
    omega = sum(np.arcsin(np.clip(np.sum(n[i] * n[(i + 1) % 4], -1), -1.0, 1.0)) for i in range(4))
    sign = np.sign(np.sum(np.cross(q2 - q1, p2 - p1) * r13, -1))
    return float(np.sum(omega * sign) / (4.0 * math.pi))


def dense(polygon: np.ndarray, per_edge: int = 24) -> np.ndarray:
    """A closed polygon (n, 3) resampled with ``per_edge`` points on each edge."""
    t = np.linspace(0.0, 1.0, per_edge, endpoint=False)[None, :, None]
    nxt = np.roll(polygon, -1, axis=0)
    return (polygon[:, None] + t * (nxt - polygon)[:, None]).reshape(-1, 3)


def min_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a[:, None] - b[None], axis=2).min())


def on_front(mesh: trimesh.Trimesh, xy: np.ndarray) -> bool:
    """Whether the point (x, y) lies on a flat face of the mesh that looks forward (+z)."""
    front = mesh.triangles[mesh.face_normals[:, 2] > 1.0 - 1e-9][:, :, :2]
    a, b, c = front[:, 0], front[:, 1], front[:, 2]

    def side(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (q[:, 0] - p[:, 0]) * (xy[1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (xy[0] - p[:, 0])

    return bool(((side(a, b) >= 0.0) & (side(b, c) >= 0.0) & (side(c, a) >= 0.0)).any())


def shifted(points: np.ndarray, y: float) -> np.ndarray:
    return points + np.array([0.0, y, 0.0])


# ---------------------------------------------------------------- chains


def test_cable_links_interlock_wire_on_wire() -> None:
    link, wire = 2.5, 0.5
    scene = nk.cable_chain(link, wire)
    unit = nk.unit_size(scene)
    inside = link - 2.0 * wire
    assert unit.pitch_mm == pytest.approx(2.0 * inside), "each link advances the chain by its inside length"
    a, b = (sweep_rings(scene.geometry[n], wire, 14) for n in ("link_a", "link_b"))
    assert np.ptp(a[:, 2]) < 1e-9 and np.ptp(b[:, 0]) < 1e-9, "link_a flat (x-y), link_b upright (y-z)"
    pitch = unit.pitch_mm * MM
    links = [shifted(p, k * pitch) for k in range(10) for p in (a, b)]
    for i in range(len(links) - 1):
        this, nxt = links[i], links[i + 1]
        # Linked: the wires pass through each other's openings (a linking number of +-1), not just touch.
        assert abs(linking_number(this, nxt)) == pytest.approx(1.0, abs=1e-6), i
        # Resting wire on wire: centre lines one wire diameter apart (touching, not cutting into each other).
        assert min_distance(dense(this), dense(nxt)) == pytest.approx(wire * MM, rel=0.02), i
        # This link's far end reaches one wire past the next link's near end: no gap along the chain.
        assert this[:, 1].max() - nxt[:, 1].min() == pytest.approx(wire * MM, abs=TOL_M), i
        if i + 2 < len(links):
            assert linking_number(this, links[i + 2]) == pytest.approx(0.0, abs=1e-6), "only neighbours link"
            assert min_distance(this, links[i + 2]) > 1.5 * wire * MM


def test_box_chain_collars_sit_inside_the_previous_box() -> None:
    side = 1.5
    scene = nk.box_chain(side)
    unit = nk.unit_size(scene)
    assert (unit.pitch_mm, unit.width_mm, unit.thickness_mm) == (side, side, side)
    v = scene.geometry["link"].vertices
    cheb = np.abs(v[:, [0, 2]]).max(axis=1)  # distance from the axis in the square's own metric
    front = v[:, 1].max()
    body = v[:, 1] > 0.1 * side * MM  # the box's walls (the collar stops short of that)
    inner_half = cheb[body].min()
    assert cheb[body].max() == pytest.approx(side / 2.0 * MM, abs=TOL_M), "square, side as named"
    collar = v[:, 1] < 0.0
    assert cheb[collar].max() < inner_half - 0.01 * MM, "the collar passes inside the previous box's opening"
    # Placed one pitch on, the collar reaches back past the previous box's front face: no gap.
    assert v[collar, 1].min() + unit.pitch_mm * MM < front - 0.1 * MM
    assert front < unit.pitch_mm * MM, "boxes do not collide: a groove between them"


def test_rope_links_follow_a_double_helix_and_each_passes_through_the_next_two() -> None:
    d = 2.5
    scene = nk.rope_chain(d)
    unit = nk.unit_size(scene)
    assert unit.pitch_mm == pytest.approx(d), "half a twist of 2 diameters"
    mesh = scene.geometry["link"]
    assert np.hypot(mesh.vertices[:, 0], mesh.vertices[:, 2]).max() == pytest.approx(d / 2.0 * MM, rel=1e-4)
    wire = 0.17 * d
    rings = sweep_rings(mesh, wire, 7 * 6).reshape(7, 6, 3)  # 7 links of 6 path points
    assert len(merged(mesh).split(only_watertight=False)) == 7
    links = [shifted(r, k * unit.pitch_mm * MM) for k in range(3) for r in rings]
    azimuth = np.degrees([math.atan2(r[:, 2].mean(), r[:, 0].mean()) for r in links])
    # Each link half a turn and a seventh of a half twist on from the last, across unit boundaries too:
    # the copies continue the helix.
    np.testing.assert_allclose(np.diff(azimuth) % 360.0, 180.0 + 180.0 / 7.0, atol=1e-6)
    for i in range(len(links) - 2):
        assert abs(linking_number(links[i], links[i + 1])) == pytest.approx(1.0, abs=1e-6), i
        assert abs(linking_number(links[i], links[i + 2])) == pytest.approx(1.0, abs=1e-6), i


def test_pearls_are_knotted_half_a_millimetre_apart() -> None:
    size = 7.0
    scene = nk.pearl_strand(size, "black_pearl")
    unit = nk.unit_size(scene)
    assert unit.pitch_mm == pytest.approx(size + nk.SILK_GAP_MM)
    pearl, silk = scene.geometry["link_pearl"], scene.geometry["link_silk"]
    assert pearl.visual.material.name == "black_pearl" and silk.visual.material.name == "silk"
    centre = np.array([0.0, unit.pitch_mm / 2.0 * MM, 0.0])
    np.testing.assert_allclose(np.linalg.norm(pearl.vertices - centre, axis=1), size / 2.0 * MM, atol=TOL_M)
    lo, hi = silk.bounds
    gap = nk.SILK_GAP_MM / 2.0 * MM  # the gap before this unit's pearl: y in [-gap, gap]
    assert lo[1] < -gap - 0.3 * MM and hi[1] > gap + 0.3 * MM, "the thread runs on into both pearls"
    assert np.abs([lo[0], lo[2], hi[0], hi[2]]).max() < 0.5 * MM, "a thin cord"
    assert hi[1] < pearl.vertices[:, 1].max() - unit.pitch_mm * MM + size * MM, "inside the next pearl's reach"


def test_herringbone_choker_is_flat_wide_and_shingled() -> None:
    width = 4.0
    scene = nk.choker(width)
    unit = nk.unit_size(scene)
    v = scene.geometry["link"].vertices
    assert np.ptp(v[:, 0]) == pytest.approx(width * MM, abs=TOL_M)
    assert np.ptp(v[:, 2]) == pytest.approx(unit.thickness_mm * MM, abs=TOL_M)
    assert 0.15 * width < unit.thickness_mm < 0.25 * width, "flat"
    assert abs(v[:, 2].max() + v[:, 2].min()) < TOL_M, "centred on the chain's centre line"
    chevrons = sorted(merged(scene.geometry["link"]).split(only_watertight=False), key=lambda m: m.bounds[0, 1])
    assert len(chevrons) == 4
    step = unit.pitch_mm * MM / 4
    # Seen down the middle of the band (x = 0), each chevron's strip runs on under the next two: no gap.
    for a, b in zip(chevrons, chevrons[1:], strict=False):
        mid_a = a.vertices[np.abs(a.vertices[:, 0]) < 1e-9, 1]
        mid_b = b.vertices[np.abs(b.vertices[:, 0]) < 1e-9, 1]
        assert mid_a.max() - mid_b.min() > step
        assert mid_b.min() - mid_a.min() == pytest.approx(step, abs=TOL_M)


@pytest.mark.parametrize("name", CHAINS)
def test_chain_units_fit_their_stated_size_and_budget(name: str) -> None:
    scene = CHAINS[name]()
    unit = nk.unit_size(scene)
    lo, hi = scene.bounds
    assert hi[0] - lo[0] <= unit.width_mm * MM + TOL_M and hi[0] - lo[0] >= 0.95 * unit.width_mm * MM
    assert hi[2] - lo[2] <= unit.thickness_mm * MM + TOL_M and hi[2] - lo[2] >= 0.95 * unit.thickness_mm * MM
    assert abs(hi[0] + lo[0]) < 1e-3 * MM and abs(hi[2] + lo[2]) < 0.1 * MM, "centred on the centre line"
    # The unit's parts straddle [0, pitch) and reach at most half a unit into each neighbour's.
    pitch = unit.pitch_mm * MM
    assert -0.5 * pitch < lo[1] < 0.5 * pitch and 0.5 * pitch < hi[1] < 1.5 * pitch
    assert sum(len(g.faces) for g in scene.geometry.values()) <= UNIT_TRIANGLES


# ---------------------------------------------------------------- pendants


def test_solitaire_stone_size_and_table_facing_front() -> None:
    stone_mm = 6.5
    scene = nk.solitaire_pendant(stone_mm, metal="platinum", stone="sapphire")
    stone = world_mesh(scene, "pendant_stone")
    lo, hi = stone.bounds
    assert hi[0] - lo[0] == pytest.approx(stone_mm * MM, rel=0.02)
    assert abs(hi[0] + lo[0]) < TOL_M, "centred under the pivot"
    top = stone.triangles_center[:, 2].argmax()
    np.testing.assert_allclose(stone.face_normals[top], [0.0, 0.0, 1.0], atol=1e-6)  # the table
    setting = world_mesh(scene, "pendant_setting")
    assert setting.bounds[1, 2] > hi[2] - 0.5 * stone_mm * MM, "claws come up over the crown"
    assert setting.bounds[0, 2] < lo[2], "the basket is behind the culet"


def test_heart_is_a_puffed_heart_below_the_chain() -> None:
    width = 12.0
    scene = nk.heart_pendant(width)
    heart, ring = world_mesh(scene, "pendant_heart"), world_mesh(scene, "pendant_ring")
    # The jump ring hangs in the bail (its top wire inside the opening, under the chain) and reaches down
    # into the heart's notch.
    assert -nk.BAIL_OPENING_MM[0] / 2.0 * MM < ring.bounds[1, 1] <= -nk.BAIL_OPENING_MM[1] / 2.0 * MM + TOL_M
    assert ring.bounds[0, 1] < heart.bounds[1, 1]
    lo, hi = heart.bounds
    assert hi[0] - lo[0] == pytest.approx(width * MM, rel=0.02)
    assert hi[1] - lo[1] == pytest.approx(0.9 * width * MM, rel=0.02)
    clear = -nk.BAIL_OPENING_MM[1] / 2.0 * MM + TOL_M  # under a 2.6 mm chain through the bail
    assert hi[1] <= clear, "the lobes clear the chain"
    assert lo[2] == pytest.approx(-nk.BACK_MM * MM, abs=0.05 * MM), "back on the skin plane"
    assert hi[2] > 0.0 and hi[2] - lo[2] > 0.25 * width * MM, "puffed, domed toward the front"
    v = heart.vertices
    # A heart: two lobes with a notch between them at the top, one point at the bottom.
    top_mid = v[np.abs(v[:, 0]) < 1e-9, 1].max()  # the outline's top point on the middle line
    assert hi[1] - top_mid > 0.15 * width * MM, "a notch between the lobes"
    tip = v[v[:, 1].argmin()]
    assert abs(tip[0]) < TOL_M, "the point is at the bottom, in the middle"
    pole = heart.vertex_normals[v[:, 2].argmax()]
    assert pole[2] > 0.99, "the front faces +z"


def test_coin_has_rim_and_relief_in_front() -> None:
    diameter = 18.0
    coin = world_mesh(nk.coin_pendant(diameter), "pendant_coin")
    lo, hi = coin.bounds
    assert hi[0] - lo[0] == pytest.approx(diameter * MM, rel=0.02)
    assert hi[1] - lo[1] == pytest.approx(diameter * MM, rel=0.02)
    assert lo[2] == pytest.approx(-nk.BACK_MM * MM, abs=TOL_M) and hi[2] > lo[2] + 1.4 * MM
    centre = (lo + hi) / 2.0
    # Flat faces looking forward (+z): the field, the ring round the star, the rim's top.
    up = coin.face_normals[:, 2] > 1.0 - 1e-9
    z = coin.triangles_center[up, 2]
    r = np.hypot(*(coin.triangles_center[up, :2] - centre[:2]).T) / (diameter / 2.0 * MM)
    field = z.min()  # the lowest surface looking forward
    assert field == pytest.approx(lo[2] + 1.1 * MM, abs=TOL_M)
    assert z[r > 0.85].max() > field + 0.4 * MM, "a raised rim"
    middle = np.hypot(*(coin.vertices[:, :2] - centre[:2]).T) < 0.4 * diameter / 2.0 * MM
    assert coin.vertices[middle, 2].max() > field + 0.4 * MM, "a star in relief on the front (+z)"
    back = coin.vertices[coin.vertices[:, 2] < lo[2] + 1e-9]
    assert len(back) > 0 and np.ptp(back[:, 2]) == 0.0, "a flat back"


@pytest.mark.parametrize("letter", list(string.ascii_uppercase))
def test_every_initial_is_a_solid_letter_hung_from_its_top(letter: str) -> None:
    height = 12.0
    scene = nk.initial_pendant(letter, height)
    body = world_mesh(scene, "pendant_letter")
    lo, hi = body.bounds
    assert hi[1] - lo[1] == pytest.approx(height * MM, rel=0.02)
    bail_bottom = -BAIL_TOP_MM * MM
    # The bail stands on the letter's top (within 2 % of the height), sunk 0.3 mm into it.
    assert bail_bottom < hi[1] <= bail_bottom + 0.3 * MM + 0.02 * height * MM
    solid = merged(body)
    assert solid.is_watertight and solid.volume > 0.0
    holes = {"A": 1, "B": 2, "D": 1, "O": 1, "P": 1, "Q": 1, "R": 1}.get(letter, 0)
    assert len(solid.split(only_watertight=False)) == 1, "one piece"
    assert solid.euler_number == 2 - 2 * holes, "its counters (the holes of A, B, D, O, P, Q, R) are open"
    front = body.face_normals[:, 2] > 0.999
    assert np.allclose(body.triangles_center[front, 2], lo[2] + 1.2 * MM), "flat front toward +z"
    assert lo[2] == pytest.approx(-nk.BACK_MM * MM, abs=TOL_M)
    # The bail stands on the letter: just above the bail's bottom, under its middle, is metal.
    assert on_front(body, np.array([0.0, bail_bottom + 0.1 * MM]))
    assert not on_front(body, np.array([0.0, bail_bottom + 0.3 * MM + 0.03 * height * MM]))


@pytest.mark.parametrize("name", PENDANTS)
def test_pendants_hang_below_their_pivot(name: str) -> None:
    scene = PENDANTS[name]()
    lo, hi = scene.bounds
    assert hi[1] == pytest.approx(BAIL_TOP_MM * MM, abs=TOL_M), "only the bail's top is above the pivot"
    assert lo[1] < -5.0 * MM
    bail = world_mesh(scene, "pendant_bail")
    # The chain's centre line (the x axis) passes through the bail's opening.
    assert np.hypot(bail.vertices[:, 1], bail.vertices[:, 2]).min() >= nk.BAIL_OPENING_MM[1] / 2.0 * MM - TOL_M
    assert bail.bounds[0, 1] == pytest.approx(-BAIL_TOP_MM * MM, abs=TOL_M)
    for node in scene.graph.nodes_geometry:
        if node != "pendant_bail":
            assert world_mesh(scene, node).bounds[1, 1] < 0.0, f"{node} hangs below the pivot"
    assert abs(hi[0] + lo[0]) < 2.0 * MM or name == "initial", "balanced under the pivot"
    assert sum(len(g.faces) for g in scene.geometry.values()) <= PENDANT_TRIANGLES


# ---------------------------------------------------------------- every piece


ALL = {**CHAINS, **PENDANTS}


@pytest.mark.parametrize("name", ALL)
def test_node_names_materials_and_closed_meshes(name: str) -> None:
    scene = ALL[name]()
    prefix = "link" if name in CHAINS else "pendant"
    nodes = list(scene.graph.nodes_geometry)
    assert nodes and all(str(n).startswith(prefix) for n in nodes), nodes
    forbidden = ("drop", "band", "head", "case", "hand_")
    assert not any(str(n).startswith(forbidden) for n in scene.graph.nodes), "those prefixes mean other things"
    for node in nodes:
        transform, geom = scene.graph[node]
        if prefix == "link":
            np.testing.assert_allclose(np.asarray(transform), np.eye(4), atol=0.0)
        mesh = scene.geometry[geom]
        materials.material_spec(mesh.visual.material.name)  # resolves, or raises
        assert np.isfinite(mesh.vertices).all() and np.isfinite(mesh.vertex_normals).all()
        assert mesh.area_faces.min() > 1e-14, f"{node}: degenerate triangles"
        solid = merged(mesh)
        assert solid.is_watertight and solid.volume > 0.0, node
        agree = np.einsum("ij,ij->i", mesh.face_normals, mesh.vertex_normals[mesh.faces].mean(axis=1))
        assert (agree > 0.0).mean() > 0.99, f"{node}: normals disagree with the winding"


def test_materials_follow_the_arguments() -> None:
    names = {n: g.visual.material.name for n, g in nk.solitaire_pendant(metal="Rose Gold", stone="ruby").geometry.items()}
    assert names == {"pendant_setting": "rose_gold", "pendant_stone": "ruby", "pendant_bail": "rose_gold"}
    assert {g.visual.material.name for g in nk.rope_chain(metal="silver").geometry.values()} == {"silver"}
    assert {g.visual.material.name for g in nk.pearl_strand(pearl="cream_pearl").geometry.values()} == {
        "cream_pearl", "silk"}
    for pearl in nk.PEARLS:
        spec = materials.dielectric(pearl)
        assert spec.metallic == 0.0 and spec.roughness == pytest.approx(0.2), "lustrous non-metal"
    white, black = materials.dielectric("pearl").base_color, materials.dielectric("black_pearl").base_color
    assert min(white) > 0.7 and max(black) < 0.1


# ---------------------------------------------------------------- necklace, GLB, determinism


def test_necklace_merges_chain_and_pendant() -> None:
    chain, pendant = nk.cable_chain(), nk.heart_pendant()
    scene = nk.necklace(chain, pendant)
    assert sorted(scene.graph.nodes_geometry) == ["link_a", "link_b", "pendant_bail", "pendant_heart", "pendant_ring"]
    assert nk.unit_size(scene) == nk.unit_size(chain)
    for node in ("link_a", "pendant_heart"):
        src = chain if node.startswith("link") else pendant
        np.testing.assert_array_equal(world_mesh(scene, node).vertices, world_mesh(src, node).vertices)
        assert scene.geometry[node].visual.material.name == src.geometry[node].visual.material.name
    plain = nk.necklace(nk.rope_chain())
    assert list(plain.graph.nodes_geometry) == ["link"]


@pytest.mark.parametrize("name", ALL)
def test_glb_round_trip_keeps_nodes_materials_and_the_chain_unit(name: str) -> None:
    scene = ALL[name]()
    loaded = glb(scene)
    assert set(loaded.graph.nodes_geometry) == set(scene.graph.nodes_geometry)
    for node in scene.graph.nodes_geometry:
        a, b = world_mesh(scene, node), world_mesh(loaded, node)
        assert len(a.faces) == len(b.faces), node
        np.testing.assert_allclose(b.bounds, a.bounds, atol=1e-7)
        np.testing.assert_allclose(b.vertex_normals, a.vertex_normals, atol=1e-5)
        assert b.visual.material.name == a.visual.material.name
    if name in CHAINS:
        assert nk.unit_size(loaded) == nk.unit_size(scene)
    necklace = glb(nk.necklace(nk.box_chain(), nk.coin_pendant()))
    assert nk.unit_size(necklace) == nk.unit_size(nk.box_chain())


def test_builds_are_deterministic() -> None:
    for build in ALL.values():
        assert build().export(file_type="glb") == build().export(file_type="glb")
    pair = lambda: nk.necklace(nk.rope_chain(), nk.initial_pendant("Q")).export(file_type="glb")  # noqa: E731
    assert pair() == pair()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: nk.initial_pendant("ß"), "one capital letter A-Z, not 'ß'"),
        (lambda: nk.initial_pendant("1"), "one capital letter A-Z, not '1'"),
        (lambda: nk.initial_pendant("a"), "one capital letter A-Z, not 'a'"),
        (lambda: nk.initial_pendant("AB"), "one capital letter A-Z, not 'AB'"),
        (lambda: nk.initial_pendant("A", -12.0), "Initial height -12.0 mm is outside 6..30 mm"),
        (lambda: nk.cable_chain(-2.5), "Cable link -2.5 mm is outside"),
        (lambda: nk.cable_chain(2.5, 0.9), "Cable wire 0.9 mm is outside 0.15..0.58 mm"),
        (lambda: nk.cable_chain(metal="gold"), "Unknown metal 'gold'"),
        (lambda: nk.box_chain(float("nan")), "Box link nan mm"),
        (lambda: nk.rope_chain(0.0), "Rope diameter 0.0 mm is outside"),
        (lambda: nk.pearl_strand(-7.0), "Pearl -7.0 mm is outside"),
        (lambda: nk.pearl_strand(pearl="ruby"), "Unknown pearl 'ruby'; use one of pearl, cream_pearl, black_pearl"),
        (lambda: nk.choker(20.0), "Choker width 20.0 mm is outside"),
        (lambda: nk.solitaire_pendant(-6.5), "Solitaire pendant stone -6.5 mm"),
        (lambda: nk.solitaire_pendant(stone="glass"), "Unknown gem 'glass'"),
        (lambda: nk.heart_pendant(-12.0), "Heart width -12.0 mm"),
        (lambda: nk.coin_pendant(metal="tin"), "Unknown metal 'tin'"),
        (lambda: nk.coin_pendant(0.0), "Coin diameter 0.0 mm"),
        (lambda: nk.necklace(nk.coin_pendant()), "not a chain"),
        (lambda: nk.necklace(nk.cable_chain(), nk.box_chain()), "Node 'link' does not belong in a necklace's pendant"),
    ],
)
def test_bad_parameters_are_input_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(".", r"\.")):
        call()

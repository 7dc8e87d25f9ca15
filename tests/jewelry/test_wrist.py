"""Procedural bracelets and the watch: the wrist ellipse they are built on, real sizes, the dial's clock
directions and hands, node names, closed meshes, triangle budgets, materials through GLB."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
import pytest
import trimesh
from conftest import merged, world_mesh

from tryon.errors import InputError
from tryon.jewelry import materials, wrist
from tryon.jewelry.geometry.units import MM

TOL_M = 1e-6
WRIST_TRIANGLES = 20000  # llvmpipe draws on a CPU: cost is per triangle
A, B = wrist.NOMINAL_WRIST_WIDTH_MM / 2 * MM, wrist.NOMINAL_WRIST_THICKNESS_MM / 2 * MM
BUILDERS: dict[str, Callable[[], trimesh.Scene]] = {
    "bangle": lambda: wrist.bangle(),
    "tennis": lambda: wrist.tennis(),
    "chain": lambda: wrist.chain(),
    "watch-leather": lambda: wrist.watch(metal="yellow_gold", dial="white", strap="leather"),
    "watch-bracelet": lambda: wrist.watch(metal="stainless_steel", dial="black", strap="bracelet"),
}
HANDS = ("hand_hour", "hand_minute", "hand_second")


def ellipse_level(points: np.ndarray, a: float, b: float) -> np.ndarray:
    """(x / a)^2 + (z / b)^2 of (n, 3) wrist-frame points: 1 on the ellipse, > 1 outside."""
    return (points[:, 0] / a) ** 2 + (points[:, 2] / b) ** 2


def glb(scene: trimesh.Scene) -> trimesh.Scene:
    loaded = trimesh.load(io.BytesIO(scene.export(file_type="glb")), file_type="glb", force="scene", process=False)
    assert isinstance(loaded, trimesh.Scene)
    return loaded


def test_nominal_wrist_is_a_medium_wrist() -> None:
    # Ramanujan's perimeter of the 56 x 40 mm ellipse: about 152 mm, a medium adult wrist.
    a, b = wrist.NOMINAL_WRIST_WIDTH_MM / 2, wrist.NOMINAL_WRIST_THICKNESS_MM / 2
    assert math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b))) == pytest.approx(152.0, abs=1.0)


# ---------------------------------------------------------------- bracelets


@pytest.mark.parametrize(("width", "thickness"), [(56.0, 40.0), (50.0, 38.0), (64.0, 44.0)])
def test_bangle_inside_is_the_wrist_ellipse_plus_ease(width: float, thickness: float) -> None:
    wire, ease = 3.5, 4.0
    scene = wrist.bangle(wire, wrist_width_mm=width, wrist_thickness_mm=thickness, ease_mm=ease)
    assert list(scene.graph.nodes_geometry) == ["band_bangle"]
    mesh = world_mesh(scene, "band_bangle")
    a, b = (width / 2 + ease) * MM, (thickness / 2 + ease) * MM
    v = mesh.vertices
    sides, top = v[np.abs(v[:, 2]) < 1e-9], v[np.abs(v[:, 0]) < 1e-9]
    assert np.abs(sides[:, 0]).min() == pytest.approx(a, abs=1e-5), "inner width"
    assert np.abs(top[:, 2]).min() == pytest.approx(b, abs=1e-5), "inner thickness"
    assert ellipse_level(v, a, b).min() > 1.0 - 1e-4, "nothing inside the ellipse"
    lo, hi = mesh.bounds
    assert hi[1] - lo[1] == pytest.approx(wire * MM, abs=TOL_M)
    assert hi[0] == pytest.approx(a + wire * MM, abs=1e-5)
    assert mesh.is_watertight and mesh.volume > 0.0


def test_tennis_stones_all_round_tables_out() -> None:
    stone_mm, ease = 2.75, 2.0
    scene = wrist.tennis(stone_mm, ease_mm=ease)
    assert sorted(scene.graph.nodes_geometry) == ["band_links", "band_stones"]
    stones, links = world_mesh(scene, "band_stones"), world_mesh(scene, "band_links")
    count = len(stones.faces) // 46
    assert 40 <= count <= 70 and len(stones.faces) == 46 * count, "single-cut stones, one a link"
    tris = stones.triangles.reshape(count, 46 * 3, 3)
    centres = (tris.min(axis=1) + tris.max(axis=1)) / 2.0
    table = stones.face_normals.reshape(count, 46, 3)[:, 0]  # a single cut's first triangles are its table
    out = np.stack([centres[:, 0] / (A + ease * MM) ** 2, np.zeros(count), centres[:, 2] / (B + ease * MM) ** 2], 1)
    out /= np.linalg.norm(out, axis=1, keepdims=True)  # the ellipse's normal near each stone
    assert np.einsum("ij,ij->i", table, out).min() > 0.99, "tables face out"
    angles = np.sort(np.arctan2(centres[:, 2], centres[:, 0]))
    assert np.diff(angles).max() < 2.0 * 2 * math.pi / count, "no gap in the line"
    a, b = A + ease * MM, B + ease * MM
    assert ellipse_level(links.vertices, a - 1e-5, b - 1e-5).min() > 1.0, "links rest on the grown ellipse"
    assert ellipse_level(links.vertices, a + 0.1 * MM, b + 0.1 * MM).min() < 1.0
    assert (stones.bounds[1] - stones.bounds[0])[1] == pytest.approx(stone_mm * MM * math.cos(math.radians(22.5)),
                                                                     abs=TOL_M)


def test_chain_links_interlock_round_the_wrist() -> None:
    link, ease = 6.0, 3.0
    scene = wrist.chain(link, ease_mm=ease)
    mesh = world_mesh(scene, "band_chain")
    shells = merged(mesh).split(only_watertight=True)
    assert len(shells) % 2 == 0 and 40 <= len(shells) <= 60, "an even number of links: flat and upright alternate"
    sizes = np.sort(np.array([s.bounding_box_oriented.primitive.extents for s in shells]), axis=1)
    wire = 0.18 * link * MM
    np.testing.assert_allclose(sizes[:, 0], wire, atol=1e-5)  # each link is one wire thick one way,
    assert np.abs(sizes[:, 2] - link * MM).max() < 0.1 * MM  # about link_mm long the other
    centres = np.array([s.bounds.mean(axis=0) for s in shells])
    order = np.argsort(np.arctan2(centres[:, 2], centres[:, 0]))
    step = np.linalg.norm(np.diff(centres[order], axis=0, append=centres[order][:1]), axis=1)
    pitch = link * MM - 2 * wire
    np.testing.assert_allclose(step, pitch, rtol=0.03)  # neighbours one inside length apart: they interlock
    # Every link crosses into its neighbour's box, so nothing floats.
    for i, j in zip(order, np.roll(order, -1), strict=True):
        a, b = shells[i].bounds, shells[j].bounds
        assert (np.minimum(a[1], b[1]) > np.maximum(a[0], b[0])).all()
    level = ellipse_level(mesh.vertices, A + ease * MM, B + ease * MM)
    assert level.min() > 1.0 - 0.02, "links stay outside the grown ellipse (chords cut in a little)"


# ---------------------------------------------------------------- watch


def test_watch_case_dial_crown_and_clock_directions() -> None:
    case_mm = 39.0
    scene = wrist.watch(case_mm)
    case, bezel, crown = (world_mesh(scene, n) for n in ("case", "case_bezel", "case_crown"))
    dial, markers = world_mesh(scene, "case_dial"), world_mesh(scene, "case_markers")
    middle = case.vertices[np.abs(case.vertices[:, 0]) < 5 * MM]  # away from the lugs
    assert np.abs(middle[:, 1]).max() == pytest.approx(case_mm / 2 * MM, abs=TOL_M), "case diameter"
    assert radial_xy(bezel.vertices).max() == pytest.approx(case_mm / 2 * MM + 0.1 * MM, abs=1e-5)
    assert case.bounds[0][2] == pytest.approx(B + 0.5 * MM, abs=1e-5), "the back rests on the wrist"
    # Dial: centred on the case's axis, facing +z, under the hands.
    lo, hi = dial.bounds
    np.testing.assert_allclose((lo[:2] + hi[:2]) / 2, [0.0, 0.0], atol=1e-5)
    top = dial.face_normals[:, 2].argmax()
    np.testing.assert_allclose(dial.face_normals[top], [0.0, 0.0, 1.0], atol=1e-9)
    # Crown at 3 o'clock = +y, toward the hand.
    clo, chi = crown.bounds
    assert clo[1] > case_mm / 2 * MM - 1.5 * MM and abs(clo[0] + chi[0]) < 1e-5
    # Markers: twelve bars and a second one at 12 o'clock (-x).
    bars = merged(markers).split(only_watertight=True)
    assert len(bars) == 13
    centres = np.array([b.bounds.mean(axis=0) for b in bars])
    clock = np.degrees(np.arctan2(centres[:, 1], -centres[:, 0])) % 360.0  # 0 at -x, 90 at +y
    hours = np.round(clock / 30.0) % 12
    assert sorted(np.bincount(hours.astype(int), minlength=12).tolist()) == [1] * 11 + [2]
    assert np.bincount(hours.astype(int))[0] == 2, "the doubled marker is at 12, toward -x"
    assert (centres[:, 2] > hi[2] - 1e-4).all(), "markers stand on the dial"


def radial_xy(points: np.ndarray) -> np.ndarray:
    return np.hypot(points[:, 0], points[:, 1])


def test_watch_hands_turn_about_the_dial_centre() -> None:
    scene = wrist.watch()
    dial_top = world_mesh(scene, "case_dial").bounds[1][2]
    bezel_top = world_mesh(scene, "case_bezel").bounds[1][2]
    lengths = []
    for name in HANDS:
        transform = np.asarray(scene.graph[name][0])
        np.testing.assert_allclose(transform[:3, :3], np.eye(3), atol=0.0)
        np.testing.assert_allclose(transform[:2, 3], [0.0, 0.0], atol=0.0)  # origin on the dial's centre
        assert dial_top < transform[2, 3] < bezel_top, name
        local = scene.geometry[name].vertices
        tip = local[np.linalg.norm(local[:, :2], axis=1).argmax()]
        assert tip[0] < 0.0 and abs(tip[1]) < 0.2 * MM, f"{name} points to 12 o'clock (-x)"
        assert local[:, 2].min() >= 0.0, "just above its origin"
        lengths.append(-tip[0])
        # A quarter turn clockwise (seen from +z) takes it to 3 o'clock, +y.
        turned = trimesh.transform_points(np.array([tip]), wrist.hand_rotation(90.0))[0]
        np.testing.assert_allclose(turned[:2], [tip[1], -tip[0]], atol=1e-9)
    assert lengths[0] < lengths[1] < lengths[2] < 16 * MM, "hour < minute < second, inside the bezel"
    heights = [scene.graph[n][0][2, 3] for n in HANDS]
    assert heights == sorted(heights), "stacked hour, minute, second"


def test_watch_strap_hugs_the_wrist_and_reaches_the_lugs() -> None:
    # Leather bends on the ellipse; a bracelet's straight links cut their chords' sagitta (<0.3 mm) inside.
    for strap, slack in (("leather", 1e-5), ("bracelet", 0.3 * MM)):
        scene = wrist.watch(strap=strap)
        band = world_mesh(scene, "band_strap")
        assert ellipse_level(band.vertices, A + 0.5 * MM - slack, B + 0.5 * MM - slack).min() > 1.0, strap
        bottom = band.vertices[np.abs(band.vertices[:, 0]) < 3.0 * MM]
        bottom = bottom[bottom[:, 2] < 0.0]
        assert bottom[:, 2].max() == pytest.approx(-(B + 0.5 * MM), abs=slack + 0.05 * MM), "0.5 mm under the wrist"
        assert bottom[:, 2].min() == pytest.approx(-(B + 3.5 * MM), abs=slack + 0.05 * MM), "3 mm thick"
        lo, hi = band.bounds
        assert hi[1] - lo[1] == pytest.approx(20.0 * MM, abs=TOL_M), "20 mm between the lugs"
        case = world_mesh(scene, "case")
        top = band.vertices[band.vertices[:, 2] > B + 1.0 * MM]  # the strap's ends, up at the lugs
        assert len(top) and (np.abs(top[:, 0]) > 19.5 * MM).all() and (np.abs(top[:, 0]) < case.bounds[1][0]).all()


def test_watch_materials_survive_glb_and_the_renderer() -> None:
    from tryon.render.scene import ItemModel

    scene = glb(wrist.watch(metal="stainless_steel", dial="black", strap="leather"))
    names = {n: scene.geometry[n].visual.material.name for n in scene.graph.nodes_geometry}
    assert names["case_dial"] == "black_lacquer" and names["band_strap"] == "brown_leather"
    assert names["hand_hour"] == names["hand_minute"] == "luminous_paint"
    assert names["case"] == names["hand_second"] == names["band_buckle"] == "stainless_steel"
    model = ItemModel("watch", scene)
    by_node = dict(zip(scene.graph.nodes_geometry, model.parts, strict=True))
    for node, part in by_node.items():
        spec = materials.material_spec(names[node])
        assert part.material.base_color == spec.base_color, node
        assert part.material.metallic == spec.metallic and part.material.roughness == spec.roughness, node
        assert part.material.ior == 0.0 and not part.hangs, node
    assert by_node["case_dial"].material.metallic == 0.0 and by_node["case"].material.metallic == 1.0
    # The hands keep their node transforms: a renderer can turn them about their own z.
    hour = by_node["hand_hour"]
    assert hour.item_T_part[2, 3] > 0.0 and np.allclose(hour.item_T_part[:3, :3], np.eye(3))
    white = glb(wrist.watch(metal="yellow_gold", dial="white"))
    assert white.geometry["hand_hour"].visual.material.name == "yellow_gold"
    assert white.geometry["case_dial"].visual.material.name == "white_lacquer"


# ---------------------------------------------------------------- every wrist piece


@pytest.mark.parametrize("name", BUILDERS)
def test_node_names_closed_meshes_and_budget(name: str) -> None:
    scene = BUILDERS[name]()
    nodes = list(scene.graph.nodes_geometry)
    assert all(n.startswith(("band", "case")) or n in HANDS for n in nodes), nodes
    assert not any(str(n).startswith("drop") for n in scene.graph.nodes)
    if name.startswith("watch"):
        assert set(HANDS) <= set(nodes) and any(n.startswith("case") for n in nodes)
    for node in nodes:
        mesh = scene.geometry[node]
        solid = merged(mesh)
        assert solid.is_watertight and solid.volume > 0.0, node
        agree = np.einsum("ij,ij->i", mesh.face_normals, mesh.vertex_normals[mesh.faces].mean(axis=1))
        assert (agree > 0.0).mean() > 0.99, f"{node}: normals against the winding"
        if not node.startswith("band"):  # on the back of the wrist
            assert world_mesh(scene, node).bounds[0][2] >= B, node
    # The band parts together go round the wrist.
    lo, hi = np.array([world_mesh(scene, n).bounds for n in nodes if n.startswith("band")]).transpose(1, 0, 2)
    assert lo[:, 2].min() < -B and hi[:, 2].max() > B - 1e-3 and lo[:, 0].min() < -A < A < hi[:, 0].max()
    assert sum(len(g.faces) for g in scene.geometry.values()) < WRIST_TRIANGLES


def test_glb_round_trip_keeps_geometry_and_normals() -> None:
    for name, build in BUILDERS.items():
        scene = build()
        loaded = glb(scene)
        assert set(loaded.graph.nodes_geometry) == set(scene.graph.nodes_geometry), name
        for node in scene.graph.nodes_geometry:
            a, b = world_mesh(scene, node), world_mesh(loaded, node)
            assert len(a.faces) == len(b.faces), (name, node)
            np.testing.assert_allclose(b.bounds, a.bounds, atol=1e-6)
            np.testing.assert_allclose(b.vertex_normals, a.vertex_normals, atol=1e-5)


def test_builds_are_deterministic() -> None:
    for build in BUILDERS.values():
        assert build().export(file_type="glb") == build().export(file_type="glb")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wrist.bangle(wrist_width_mm=-56.0), "Wrist width -56.0 mm is outside 40..90 mm"),
        (lambda: wrist.bangle(wrist_width_mm=500.0), "Wrist width 500.0 mm"),
        (lambda: wrist.bangle(wrist_thickness_mm=float("nan")), "Wrist thickness nan mm"),
        (lambda: wrist.bangle(wrist_width_mm=45.0, wrist_thickness_mm=60.0), "wider than thick"),
        (lambda: wrist.bangle(wire_mm=0.0), "Bangle wire 0.0 mm"),
        (lambda: wrist.bangle(metal="brass"), "Unknown metal 'brass'"),
        (lambda: wrist.tennis(stone_mm=12.0), "Tennis stone 12.0 mm"),
        (lambda: wrist.tennis(stone="glass"), "Unknown gem 'glass'"),
        (lambda: wrist.chain(link_mm=50.0), "Chain link 50.0 mm"),
        (lambda: wrist.chain(wire_mm=3.0), "does not make a 6 mm link"),
        (lambda: wrist.watch(case_mm=80.0), "Watch case 80.0 mm"),
        (lambda: wrist.watch(dial="blue"), "Unknown dial 'blue'"),
        (lambda: wrist.watch(strap="rope"), "Unknown strap 'rope'"),
    ],
)
def test_bad_parameters_are_input_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        call()

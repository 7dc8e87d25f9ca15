"""Procedural rings: real sizes in the ring frame, node names the renderer fits by, closed meshes, budgets."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
import pytest
import trimesh
from conftest import merged, world_mesh

from tryon.errors import InputError
from tryon.jewelry import materials, rings
from tryon.jewelry.geometry.gems import BrilliantCut, single_cut
from tryon.jewelry.geometry.units import MM

TOL_M = 1e-6  # 1 um: exact constructions, only float noise (and the GLB's float32)
RING_TRIANGLES = 6000  # llvmpipe draws on a CPU: cost is per triangle
BUILDERS: dict[str, Callable[[], trimesh.Scene]] = {
    "band": lambda: rings.band(4.0),
    "solitaire": lambda: rings.solitaire(),
    "solitaire4": lambda: rings.solitaire(prongs=4, stone="sapphire", metal="white_gold"),
    "halo": lambda: rings.halo(),
    "eternity": lambda: rings.eternity(),
    "signet": lambda: rings.signet(),
}


def radial(points: np.ndarray) -> np.ndarray:
    """Distance from the finger's axis (y) of (n, 3) ring-frame points."""
    return np.hypot(points[:, 0], points[:, 2])


def assert_normals_outward(mesh: trimesh.Trimesh, name: str) -> None:
    """The stored normals agree with the winding (a flipped part renders dark or inside out)."""
    agree = np.einsum("ij,ij->i", mesh.face_normals, mesh.vertex_normals[mesh.faces].mean(axis=1))
    assert (agree > 0.0).mean() > 0.99, name


# ---------------------------------------------------------------- band


@pytest.mark.parametrize("width", [2.0, 4.0, 6.0])
@pytest.mark.parametrize("inner", [15.0, rings.DEFAULT_INNER_DIAMETER_MM, 21.0])
def test_band_real_dimensions(width: float, inner: float) -> None:
    scene = rings.band(width, inner, metal="platinum")
    assert list(scene.graph.nodes_geometry) == ["band"]
    mesh = world_mesh(scene, "band")
    r = radial(mesh.vertices)
    assert 2.0 * r.min() == pytest.approx(inner * MM, abs=TOL_M), "inner apex on the asked circle"
    # Between the sweep's vertices the 72-gon's flats come in by r (1 - cos(pi / 72)): far under 0.05 mm.
    assert 2.0 * r.min() * math.cos(math.pi / rings.BAND_SEGMENTS) > (inner - 0.05) * MM
    assert r.max() - r.min() == pytest.approx(1.8 * MM, abs=TOL_M), "thickness at the crown"
    lo, hi = mesh.bounds
    np.testing.assert_allclose([lo[1], hi[1]], [-width / 2 * MM, width / 2 * MM], atol=TOL_M)
    np.testing.assert_allclose(lo[[0, 2]], -hi[[0, 2]], atol=TOL_M)  # centred on the finger's axis
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0.0
    assert_normals_outward(mesh, "band")


def test_band_is_comfort_fit() -> None:
    """Domed outside and, less, inside: at the edges the inside stands off the finger, the outside drops."""
    width, inner = 5.0, rings.DEFAULT_INNER_DIAMETER_MM
    mesh = world_mesh(rings.band(width, inner), "band")
    v, r = mesh.vertices, radial(mesh.vertices)
    outer = r > (inner / 2 + 0.9) * MM
    centre, edge = np.abs(v[:, 1]) < 0.2 * MM, np.abs(v[:, 1]) > (width / 2 - 0.6) * MM
    inner_centre, inner_edge = r[~outer & centre].min(), r[~outer & edge].min()
    outer_centre, outer_edge = r[outer & centre].max(), r[outer & edge].max()
    assert 0.05 * MM < inner_edge - inner_centre < 0.3 * MM, "inside slightly domed"
    assert outer_centre - outer_edge > 0.4 * MM, "outside domed"


def test_band_normals_point_away_from_the_metal() -> None:
    mesh = world_mesh(rings.band(4.0), "band")
    r = radial(mesh.vertices)
    out = np.stack([mesh.vertices[:, 0], np.zeros(len(r)), mesh.vertices[:, 2]], axis=1) / r[:, None]
    facing = np.einsum("ij,ij->i", mesh.vertex_normals, out)
    assert (facing[r > r.max() - 0.1 * MM] > 0.9).all(), "the outer dome faces away from the finger"
    assert (facing[r < r.min() + 0.1 * MM] < -0.9).all(), "the inner dome faces the finger"


# ---------------------------------------------------------------- heads


@pytest.mark.parametrize("prongs", [4, 6])
def test_solitaire_stone_sits_in_its_claws_above_the_band(prongs: int) -> None:
    stone_mm, inner = 6.5, rings.DEFAULT_INNER_DIAMETER_MM
    scene = rings.solitaire(stone_mm, inner, prongs=prongs)
    assert sorted(scene.graph.nodes_geometry) == ["band", "head_setting", "head_stone"]
    band, setting, stone = (world_mesh(scene, n) for n in ("band", "head_setting", "head_stone"))
    band_top = radial(band.vertices).max()
    lo, hi = stone.bounds
    np.testing.assert_allclose(hi[:2] - lo[:2], [stone_mm * MM] * 2, atol=TOL_M)
    np.testing.assert_allclose((hi[:2] + lo[:2]) / 2, [0.0, 0.0], atol=TOL_M)  # over the band's top
    assert lo[2] == pytest.approx(band_top + 0.3 * MM, abs=TOL_M), "culet 0.3 mm above the band"
    top = stone.face_normals[:, 2].argmax()
    assert stone.triangles_center[top, 2] == pytest.approx(hi[2], abs=TOL_M), "table faces +z"
    # The basket stands on the band (no floating claws) and the claws reach over the crown.
    slo, shi = setting.bounds
    assert slo[2] < band_top
    cut = BrilliantCut()
    girdle_top = lo[2] + cut.pavilion_depth(stone_mm * MM) + cut.girdle * stone_mm * MM
    assert shi[2] > girdle_top + 0.3 * MM
    # Gallery, rail and two capsules a claw: separate closed shells.
    assert len(merged(setting).split(only_watertight=True)) == 2 + 2 * prongs


def test_halo_surrounds_the_centre_stone() -> None:
    d, s = 6.0, 1.3
    scene = rings.halo(d, halo_stone_mm=s)
    assert sorted(scene.graph.nodes_geometry) == ["band", "head_halo_stones", "head_setting", "head_stone"]
    centre, halo_stones = world_mesh(scene, "head_stone"), world_mesh(scene, "head_halo_stones")
    count = len(halo_stones.faces) // 46
    assert 14 <= count <= 24 and len(halo_stones.faces) == 46 * count
    centres = halo_stones.triangles_center.reshape(count, 46, 3).mean(axis=1)
    dist = np.hypot(centres[:, 0], centres[:, 1])
    np.testing.assert_allclose(dist, d / 2 * MM + 0.25 * MM + s / 2 * MM, atol=0.1 * MM)
    assert (halo_stones.bounds[1][2] < centre.bounds[1][2]), "halo below the centre table"
    gaps = np.diff(np.sort(np.arctan2(centres[:, 1], centres[:, 0])))
    assert gaps.max() < 1.5 * 2 * math.pi / count, "all the way round"


def test_eternity_stones_go_all_round_tables_out() -> None:
    stone_mm, inner = 2.0, 18.0
    scene = rings.eternity(stone_mm, inner)
    assert sorted(scene.graph.nodes_geometry) == ["band", "band_stones"]
    band, stones = world_mesh(scene, "band"), world_mesh(scene, "band_stones")
    count = len(stones.faces) // 46
    assert count >= 25
    tris = stones.triangles.reshape(count, 46 * 3, 3)
    normals = stones.face_normals.reshape(count, 46, 3)
    centres = (tris.min(axis=1) + tris.max(axis=1)) / 2.0  # the stones' box centres
    out = centres / np.linalg.norm(centres, axis=1, keepdims=True)
    table = normals[np.arange(count), np.einsum("kij,kj->ki", normals, out).argmax(axis=1)]
    assert np.einsum("ij,ij->i", table, out).min() > 0.999, "every table faces away from the finger"
    angles = np.sort(np.arctan2(centres[:, 0], centres[:, 2]))
    assert np.diff(angles).max() < 1.2 * 2 * math.pi / count
    assert np.abs(angles).min() < 1e-9, "a stone at the top (+z)"
    assert 2.0 * radial(band.vertices).min() == pytest.approx(inner * MM, abs=TOL_M)
    lo, hi = band.bounds
    assert hi[1] - lo[1] == pytest.approx(rings.eternity_width_mm(stone_mm) * MM, abs=TOL_M)
    assert radial(stones.vertices).min() > radial(band.vertices).min() + 0.5 * MM, "stones clear the finger"


def test_signet_has_a_flat_oval_face_on_top() -> None:
    inner = rings.DEFAULT_INNER_DIAMETER_MM
    scene = rings.signet(12.0, 10.0, inner, metal="silver")
    assert sorted(scene.graph.nodes_geometry) == ["band", "head_face"]
    face, band = world_mesh(scene, "head_face"), world_mesh(scene, "band")
    lo, hi = face.bounds
    np.testing.assert_allclose(hi - lo, [10.0 * MM, 12.0 * MM, hi[2] - lo[2]], atol=TOL_M)
    assert hi[2] == pytest.approx(inner / 2 * MM + 3.2 * MM, abs=TOL_M)
    top = np.isclose(face.vertices[:, 2], hi[2], atol=1e-9)
    np.testing.assert_allclose(face.vertex_normals[top], np.tile([0.0, 0.0, 1.0], (top.sum(), 1)), atol=1e-9)
    assert top.sum() > 60, "a flat table, not a point"
    assert 2.0 * radial(band.vertices).min() == pytest.approx(inner * MM, abs=TOL_M), "round hole under the face"
    assert band.bounds[1][2] > face.bounds[0][2], "the shank runs up into the face"
    shank = band.vertices[band.vertices[:, 2] < -5 * MM]  # the bottom of the shank stays slim
    assert shank[:, 1].max() - shank[:, 1].min() == pytest.approx(3.0 * MM, abs=TOL_M)


# ---------------------------------------------------------------- every ring


@pytest.mark.parametrize("name", BUILDERS)
def test_node_names_closed_meshes_and_budget(name: str) -> None:
    scene = BUILDERS[name]()
    nodes = list(scene.graph.nodes_geometry)
    assert all(n.startswith(("band", "head")) for n in nodes), nodes
    assert not any(str(n).startswith("drop") for n in scene.graph.nodes), "nothing swings on a ring"
    for node in nodes:
        np.testing.assert_allclose(np.asarray(scene.graph[node][0]), np.eye(4), atol=0.0)
        mesh = scene.geometry[node]
        assert merged(mesh).is_watertight, node
        assert merged(mesh).volume > 0.0, node
        assert_normals_outward(mesh, node)
    assert sum(len(g.faces) for g in scene.geometry.values()) < RING_TRIANGLES
    # Every band part goes round the finger's axis; every head part sits on the +z side.
    for node in nodes:
        lo, hi = world_mesh(scene, node).bounds
        if node.startswith("band"):
            assert lo[2] < -5 * MM < 5 * MM < hi[2], node
        else:
            assert lo[2] > 5 * MM, node


def test_materials() -> None:
    scene = rings.halo(metal="rose_gold", stone="ruby", halo_stone="diamond")
    names = {n: scene.geometry[n].visual.material.name for n in scene.graph.nodes_geometry}
    assert names == {"band": "rose_gold", "head_setting": "rose_gold", "head_stone": "ruby",
                     "head_halo_stones": "diamond"}


def test_glb_round_trip_keeps_geometry_normals_and_materials() -> None:
    from tryon.render.scene import ItemModel

    for name, build in BUILDERS.items():
        scene = build()
        loaded = trimesh.load(io.BytesIO(scene.export(file_type="glb")), file_type="glb", force="scene",
                              process=False)
        assert set(loaded.graph.nodes_geometry) == set(scene.graph.nodes_geometry), name
        for node in scene.graph.nodes_geometry:
            a, b = world_mesh(scene, node), world_mesh(loaded, node)
            assert len(a.faces) == len(b.faces), (name, node)
            np.testing.assert_allclose(b.bounds, a.bounds, atol=1e-7)
            np.testing.assert_allclose(b.vertex_normals, a.vertex_normals, atol=1e-5)
            assert b.visual.material.name == a.visual.material.name
        model = ItemModel(name, loaded)
        for part in model.parts:
            assert part.material.metallic in (0.0, 1.0) and not part.hangs
    sapphire = ItemModel("s", trimesh.load(io.BytesIO(BUILDERS["solitaire4"]().export(file_type="glb")),
                                           file_type="glb", force="scene", process=False))
    gems = [p.material for p in sapphire.parts if p.material.ior > 0.0]
    metals = [p.material for p in sapphire.parts if p.material.ior == 0.0]
    assert len(gems) == 1 and gems[0].ior == materials.gem("sapphire").ior
    assert all(m.metallic == 1.0 and m.base_color == materials.metal("white_gold").base_color for m in metals)


def test_builds_are_deterministic() -> None:
    for build in BUILDERS.values():
        assert build().export(file_type="glb") == build().export(file_type="glb")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rings.band(4.0, -17.0), "Ring inner diameter -17.0 mm is outside 12..26 mm"),
        (lambda: rings.band(4.0, 100.0), "Ring inner diameter 100.0 mm is outside"),
        (lambda: rings.band(4.0, float("nan")), "Ring inner diameter nan mm"),
        (lambda: rings.band(0.0), "Band width 0.0 mm is outside"),
        (lambda: rings.band(4.0, thickness_mm=-1.0), "Band thickness"),
        (lambda: rings.band(4.0, metal="gold"), "Unknown metal 'gold'"),
        (lambda: rings.solitaire(25.0), "Solitaire stone 25.0 mm"),
        (lambda: rings.solitaire(stone="glass"), "Unknown gem 'glass'"),
        (lambda: rings.solitaire(prongs=5), "4 or 6 prongs, not 5"),
        (lambda: rings.halo(halo_stone_mm=5.0), "Halo stone 5.0 mm"),
        (lambda: rings.eternity(-2.0), "Eternity stone -2.0 mm"),
        (lambda: rings.signet(face_length_mm=40.0), "Signet face length 40.0 mm"),
        (lambda: single_cut(0.0), "Single-cut stone 0.0 mm"),
    ],
)
def test_bad_parameters_are_input_errors(call: Callable[[], object], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        call()


def test_an_oval_centre_stone_lies_along_the_finger_in_an_oval_halo() -> None:
    """`rings.halo(..., length_mm=7)`: a 7 x 5 mm oval brilliant (the finger along y), its halo of single cuts
    following it 0.25 mm clear; facts read the centre as an oval, not a pear; a round stone's ratio is refused."""
    from tryon.jewelry.facts import scene_facts

    sc = rings.halo(stone_mm=5.0, length_mm=7.0, metal="rose_gold", stone="sapphire")
    stone = sc.geometry["head_stone"]
    ext = np.ptp(stone.vertices, axis=0) * 1e3
    assert ext[0] == pytest.approx(5.0, abs=0.05) and ext[1] == pytest.approx(7.0, abs=0.05)
    halo = sc.geometry["head_halo_stones"].vertices * 1e3
    assert np.ptp(halo[:, 1]) > np.ptp(halo[:, 0]) + 1.5  # the halo is an oval too, long along the finger
    facts = scene_facts(sc, kind="ring", metal="rose_gold", samples=200)
    centre = [s for s in facts.stones if s.name == "sapphire"]
    assert len(centre) == 1 and centre[0].cut == "oval"
    with pytest.raises(InputError, match="not an oval"):
        rings.solitaire(stone_mm=6.0, length_mm=6.3)

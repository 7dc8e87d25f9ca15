"""Procedural earrings: real sizes (metres), the earring frame, closed meshes, GLB round trips."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Literal

import numpy as np
import pytest
import trimesh
from trimesh.visual.material import PBRMaterial

from tryon.errors import InputError
from tryon.jewelry import earrings, materials
from tryon.jewelry.geometry.units import MM

TOL_M = 1e-6  # 1 um: exact constructions, only float noise


def world_mesh(scene: trimesh.Scene, node: str) -> trimesh.Trimesh:
    """The node's geometry moved into the scene's base frame."""
    transform, geom_name = scene.graph[node]
    mesh = scene.geometry[geom_name].copy()
    mesh.apply_transform(transform)
    return mesh


def merged(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Vertices merged by position, as a watertightness check needs (stones duplicate them per facet)."""
    return trimesh.Trimesh(mesh.vertices, mesh.faces, process=True)


def glb_round_trip(scene: trimesh.Scene) -> trimesh.Scene:
    data = scene.export(file_type="glb")
    loaded = trimesh.load(io.BytesIO(data), file_type="glb", force="scene", process=False)
    assert isinstance(loaded, trimesh.Scene)
    return loaded


def material_of(mesh: trimesh.Trimesh) -> PBRMaterial:
    assert isinstance(mesh.visual, trimesh.visual.TextureVisuals)
    material = mesh.visual.material
    assert isinstance(material, PBRMaterial)
    return material


# ---------------------------------------------------------------- stud


def test_stud_frame_and_sizes() -> None:
    scene = earrings.stud(5.0, metal="platinum", stone="ruby")
    stone, setting = world_mesh(scene, "stud_stone"), world_mesh(scene, "stud_setting")
    lo, hi = stone.bounds
    # Girdle in the y-z plane: 5 mm across; table towards +x, in front of the lobe.
    np.testing.assert_allclose([hi[1] - lo[1], hi[2] - lo[2]], [5 * MM, 5 * MM], atol=TOL_M)
    assert lo[0] > 0.0
    top = stone.face_normals[:, 0].argmax()
    np.testing.assert_allclose(stone.face_normals[top], [1.0, 0.0, 0.0], atol=1e-9)
    assert stone.triangles_center[top, 0] == pytest.approx(hi[0], abs=TOL_M), "the table is the +x-most face"
    # Post along -x into the lobe, centred on the piercing axis.
    slo, shi = setting.bounds
    assert slo[0] == pytest.approx(-(earrings.POST_LENGTH_MM + earrings.POST_RADIUS_MM) * MM, abs=1e-5)
    np.testing.assert_allclose((slo[1:] + shi[1:]) / 2, [0.0, 0.0], atol=1e-5)
    assert setting.bounds[0][0] < 0.0 < setting.bounds[1][0]
    assert shi[0] > hi[0] - 0.5 * MM, "prong tips reach over the crown"


def test_stud_meshes_are_closed_and_small() -> None:
    scene = earrings.stud(6.0)
    setting = scene.geometry["stud_setting"]
    assert setting.is_watertight and setting.volume > 0
    assert merged(scene.geometry["stud_stone"]).is_watertight
    assert sum(len(g.faces) for g in scene.geometry.values()) < 5000


def test_stud_materials() -> None:
    scene = earrings.stud(4.0, metal="white_gold", stone="sapphire")
    assert scene.geometry["stud_setting"].visual.material.name == "white_gold"
    assert scene.geometry["stud_stone"].visual.material.name == "sapphire"
    assert scene.geometry["stud_stone"].visual.material.metallicFactor == 0.0


def test_stud_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="Unknown metal 'gold'.*yellow_gold"):
        earrings.stud(5.0, metal="gold")
    with pytest.raises(InputError, match="Unknown gem"):
        earrings.stud(5.0, stone="glass")
    with pytest.raises(InputError, match="outside"):
        earrings.stud(50.0)


# ---------------------------------------------------------------- hoop


@pytest.mark.parametrize("profile", ["round", "knife"])
@pytest.mark.parametrize("diameter", [15.0, 25.0, 40.0])
def test_hoop_sizes_and_frame(diameter: float, profile: Literal["round", "knife"]) -> None:
    wire = 2.0
    mesh = earrings.hoop(diameter, wire, profile=profile).geometry["hoop"]
    lo, hi = mesh.bounds
    across = (diameter + wire) * MM
    # Knife edge: the outer edge is rounded by 2 % of the wire, so it reaches a hair less than wire / 2.
    tol = TOL_M if profile == "round" else 0.01 * wire * MM
    assert hi[0] - lo[0] == pytest.approx(across, abs=tol)
    assert hi[1] - lo[1] == pytest.approx(across, abs=tol)
    assert hi[1] == pytest.approx(wire / 2 * MM, abs=tol), "the centre line's top is at the origin"
    assert lo[1] == pytest.approx(-(diameter + wire / 2) * MM, abs=tol)
    thickness = hi[2] - lo[2]
    assert thickness == pytest.approx(wire * MM if profile == "round" else 0.44 * wire * MM, abs=tol)
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    assert len(mesh.faces) < 8000


def test_hoop_wire_passes_through_the_origin_along_x() -> None:
    mesh = earrings.hoop(25.0, 2.0).geometry["hoop"]
    v = mesh.vertices
    near_top = v[(np.abs(v[:, 0]) < 0.3 * MM) & (v[:, 1] > -5 * MM)]
    # Around the top the wire is a tube of radius 1 mm around the x axis.
    r = np.hypot(near_top[:, 1], near_top[:, 2])
    assert r.max() == pytest.approx(1 * MM, rel=1e-3)


def test_hoop_normals_are_smooth_and_analytic() -> None:
    radius, wire = 12.5 * MM, 2.0 * MM
    mesh = earrings.hoop(25.0, 2.0).geometry["hoop"]
    v = mesh.vertices - [0.0, -radius, 0.0]
    centre_line = np.column_stack(
        [v[:, :2] / np.linalg.norm(v[:, :2], axis=1, keepdims=True) * radius, np.zeros(len(v))]
    )
    expected = (v - centre_line) / (wire / 2)
    np.testing.assert_allclose(mesh.vertex_normals, expected, atol=1e-6)


def test_hoop_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="profile"):
        earrings.hoop(25.0, 2.0, profile="square")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not a hoop"):
        earrings.hoop(5.0, 2.0)
    with pytest.raises(InputError, match="Unknown metal"):
        earrings.hoop(25.0, 2.0, metal="tin")


# ---------------------------------------------------------------- drop


@pytest.mark.parametrize("cut", ["pear", "round"])
def test_drop_has_a_dangling_node_below_the_pivot(cut: Literal["pear", "round"]) -> None:
    scene = earrings.drop(8.0, cut=cut, metal="yellow_gold", stone="emerald")
    graph = scene.graph
    assert "drop" in graph.nodes
    np.testing.assert_allclose(np.asarray(graph["drop"][0]), np.eye(4), atol=1e-12)
    dangling = [n for n in graph.nodes_geometry if n.startswith("drop")]
    assert sorted(dangling) == ["drop_setting", "drop_stone"]
    for node in dangling:
        assert graph.transforms.parents[node] == "drop"
        assert world_mesh(scene, node).bounds[1][1] < 0.0, f"{node} hangs below the piercing point"
    rigid = [n for n in graph.nodes_geometry if not n.startswith("drop")]
    assert sorted(rigid) == ["top_setting", "top_stone"]
    stone = world_mesh(scene, "drop_stone")
    extent = stone.bounds[1] - stone.bounds[0]
    assert extent[1] == pytest.approx(8 * MM, abs=TOL_M)
    assert extent[2] == pytest.approx(5 * MM if cut == "pear" else 8 * MM, abs=TOL_M)
    for name, mesh in scene.geometry.items():
        assert merged(mesh).is_watertight, name


def test_rotating_the_drop_node_swings_about_the_origin() -> None:
    scene = earrings.drop(8.0)
    before = world_mesh(scene, "drop_stone")
    swing = trimesh.transformations.rotation_matrix(np.radians(20.0), [0.0, 0.0, 1.0])
    scene.graph.update(frame_to="drop", matrix=swing)
    after = world_mesh(scene, "drop_stone")
    # Distances to the pivot are kept; the stone moved.
    np.testing.assert_allclose(
        np.linalg.norm(after.vertices, axis=1), np.linalg.norm(before.vertices, axis=1), atol=1e-9
    )
    assert np.abs(after.vertices - before.vertices).max() > 1 * MM


# ---------------------------------------------------------------- GLB


@pytest.mark.parametrize(
    "build",
    [
        lambda: earrings.stud(5.0, metal="rose_gold", stone="ruby"),
        lambda: earrings.hoop(25.0, 2.5, profile="knife", metal="silver"),
        lambda: earrings.drop(10.0, metal="white_gold", stone="amethyst"),
    ],
    ids=["stud", "hoop", "drop"],
)
def test_glb_round_trip(build: Callable[[], trimesh.Scene]) -> None:
    scene = build()
    loaded = glb_round_trip(scene)
    assert set(loaded.graph.nodes_geometry) == set(scene.graph.nodes_geometry)
    for node in scene.graph.nodes_geometry:
        a, b = world_mesh(scene, node), world_mesh(loaded, node)
        assert len(b.vertices) == len(a.vertices) and len(b.faces) == len(a.faces), node
        np.testing.assert_allclose(b.bounds, a.bounds, atol=1e-7)
        np.testing.assert_allclose(b.vertex_normals, a.vertex_normals, atol=1e-5)
        ma, mb = material_of(a), material_of(b)
        assert mb.name == ma.name
        assert mb.metallicFactor == pytest.approx(ma.metallicFactor)
        assert mb.roughnessFactor == pytest.approx(ma.roughnessFactor)
        np.testing.assert_array_equal(mb.baseColorFactor, ma.baseColorFactor)


def test_stone_facets_stay_flat_even_if_a_loader_merges_vertices() -> None:
    data = earrings.stud(5.0).export(file_type="glb")
    loaded = trimesh.load(io.BytesIO(data), file_type="glb", force="scene")  # default: process=True
    assert isinstance(loaded, trimesh.Scene)
    stone = loaded.geometry["stud_stone"]
    assert len(stone.vertices) == 330
    np.testing.assert_allclose(stone.vertex_normals[stone.faces[:, 0]], stone.face_normals, atol=1e-6)


def test_render_model_reads_the_pbr_material() -> None:
    from tryon.render.scene import ItemModel

    model = ItemModel("stud", glb_round_trip(earrings.stud(5.0, metal="yellow_gold", stone="diamond")))
    by_ior = {part.material.ior > 0: part.material for part in model.parts}
    metal, gem = materials.metal("yellow_gold"), materials.gem("diamond")
    assert by_ior[False].metallic == metal.metallic and by_ior[False].roughness == metal.roughness
    np.testing.assert_allclose(by_ior[False].base_color, metal.base_color)
    assert by_ior[True].ior == gem.ior and by_ior[True].dispersion == gem.dispersion


def test_builds_are_deterministic() -> None:
    for build in (
        lambda: earrings.stud(6.0),
        lambda: earrings.hoop(40.0, 3.0, "knife"),
        lambda: earrings.drop(),
    ):
        assert build().export(file_type="glb") == build().export(file_type="glb")

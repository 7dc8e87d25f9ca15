"""Scenes: named nodes with PBR materials, coordinates rounded so exports do not depend on float noise."""

from __future__ import annotations

import io

import numpy as np
import trimesh

from tryon.jewelry.geometry.scenes import finish, scene
from tryon.jewelry.geometry.solids import bead


def test_finish_rounds_coordinates_and_dresses_the_mesh() -> None:
    verts = np.array([[-1e-13, 0.0, 0.0], [1e-3 + 3e-13, 0.0, 0.0], [0.0, 1e-3, 0.0]])
    normals = np.array([[0.0, 0.0, 1.0], [0.0, -1e-12, 1.0], [0.0, 0.0, 1.0]])
    mesh = trimesh.Trimesh(verts, [[0, 1, 2]], vertex_normals=normals, process=False)
    out = finish(mesh, "Yellow Gold")
    assert out.visual.material.name == "yellow_gold"
    assert out.vertices[0, 0] == 0.0 and not np.signbit(out.vertices[0, 0]), "no negative zero"
    assert out.vertices[1, 0] == 1e-3, "rounded to 1e-10 m"
    np.testing.assert_array_equal(out.vertex_normals[1], [0.0, 0.0, 1.0])
    assert out is not mesh and mesh.vertices[0, 0] == -1e-13


def test_scene_names_nodes_and_geometry_and_survives_a_glb_round_trip() -> None:
    built = scene(("band", bead(np.zeros(3), 1e-3), "platinum"), ("head_stone", bead(np.ones(3) * 1e-3, 5e-4), "ruby"))
    assert sorted(built.graph.nodes_geometry) == ["band", "head_stone"]
    assert sorted(built.geometry) == ["band", "head_stone"]
    loaded = trimesh.load(io.BytesIO(built.export(file_type="glb")), file_type="glb", force="scene", process=False)
    names = {node: loaded.geometry[loaded.graph[node][1]].visual.material.name for node in loaded.graph.nodes_geometry}
    assert names == {"band": "platinum", "head_stone": "ruby"}

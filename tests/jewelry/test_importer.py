"""Importing customers' models: units, frames and materials right; hostile or broken files refused clearly."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from tryon.errors import InputError
from tryon.jewelry.catalog import DEFAULT_ASSETS_DIR
from tryon.jewelry.importer import import_model
from tryon.render.scene import ItemModel

RINGS = DEFAULT_ASSETS_DIR / "rings"


def _points(scene: trimesh.Scene) -> np.ndarray:
    return np.vstack([g.vertices @ scene.graph[n][0][:3, :3].T + scene.graph[n][0][:3, 3]
                      for n in scene.graph.nodes_geometry for g in [scene.geometry[scene.graph[n][1]]]])


def _names(scene: trimesh.Scene) -> set[str]:
    return {g.visual.material.name for g in scene.geometry.values()}


def test_export_then_import_keeps_geometry_and_materials():
    path = RINGS / "ring-solitaire-diamond-6.5mm-platinum.glb"
    original = trimesh.load(path, force="scene")
    item, scene = import_model(path, "ring", "My solitaire")
    back = trimesh.load(io.BytesIO(scene.export(file_type="glb")), file_type="glb", force="scene")
    a, b = _points(original), _points(back)
    assert len(a) == len(b)
    assert np.max(cKDTree(a).query(b)[0]) < 5e-5  # the same shape in the same ring frame (within 0.05 mm)
    assert _names(back) == {"platinum", "diamond"} and item.metal == "platinum" and item.stone == "diamond"
    assert item.dimensions_mm["inner_diameter"] == pytest.approx(17.35, abs=0.05)
    assert item.id.startswith("import-my-solitaire-") and item.site == "finger"


def test_an_stl_in_millimetres_on_its_side_becomes_a_ring_in_metres(tmp_path):
    band = trimesh.load(RINGS / "ring-band-4mm-yellow-gold.glb", force="scene").to_geometry()
    band.apply_scale(1000.0)  # millimetres
    band.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))  # finger axis along z
    path = tmp_path / "band.stl"
    band.export(path)
    item, scene = import_model(path, "ring", "Band", metal="rose-gold")
    lo, hi = scene.bounds
    assert np.allclose(hi - lo, [0.02095, 0.004, 0.02095], atol=2e-4)  # 4 mm along the finger (+y)
    assert item.dimensions_mm["inner_diameter"] == pytest.approx(17.35, abs=0.05)
    assert _names(scene) == {"rose_gold"} and item.metal == "rose_gold"


def test_an_earring_hangs_from_its_top_and_a_pendant_from_a_chain():
    _, drop = import_model(DEFAULT_ASSETS_DIR / "earrings" / "drop-diamond-pear-8mm-white-gold.glb", "earring", "Drop")
    assert abs(drop.bounds[1][1]) < 1e-9  # the top at the piercing
    item, pendant = import_model(DEFAULT_ASSETS_DIR / "earrings" / "stud-diamond-6mm-platinum.glb", "pendant", "Charm")
    nodes = [str(n) for n in pendant.graph.nodes_geometry]
    assert any(n.startswith("link") for n in nodes) and any(n.startswith("pendant") for n in nodes)
    model = ItemModel(item.id, pendant, {k: item.dimensions_mm[k] for k in ("length", "pitch", "thickness")})
    assert model.is_necklace and model.pendant_m > 0


def _write(tmp_path: Path, name: str, mesh: trimesh.Trimesh) -> Path:
    path = tmp_path / name
    mesh.export(path)
    return path


@pytest.mark.parametrize("make, message", [
    (lambda d: (d / "cut.glb").write_bytes((RINGS / "ring-band-4mm-yellow-gold.glb").read_bytes()[:900]) and d / "cut.glb",
     "not a readable GLB"),
    (lambda d: _write(d, "huge.stl", trimesh.creation.box((500.0, 500.0, 500.0))), "would be 500 mm across"),
    (lambda d: _write(d, "which.stl", trimesh.creation.box((0.5, 0.5, 0.5))), "millimetres or metres"),
    (lambda d: _write(d, "dense.stl", trimesh.creation.icosphere(subdivisions=7, radius=10.0)), "triangles; the budget"),
    (lambda d: (d / "ext.gltf").write_text('{"asset": {"version": "2.0"}, "buffers": [{"uri": "../../etc/passwd", '
                                           '"byteLength": 10}]}') and d / "ext.gltf", "refers to files beside it"),
    (lambda d: (d / "model.fbx").write_bytes(b"x") and d / "model.fbx", "is one of glb, gltf, obj, stl"),
    (lambda d: (d / "empty.obj").write_text("# nothing\n") and d / "empty.obj", "no geometry"),
])
def test_broken_or_hostile_files_get_a_clear_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(InputError, match=message):
        import_model(path, "ring", "Test")


def test_limits_and_names():
    path = RINGS / "ring-band-4mm-yellow-gold.glb"
    with pytest.raises(InputError, match="limit is"):
        import_model(path, "ring", "Big", max_bytes=100)
    item, _ = import_model(path, "ring", "../../etc/passwd; rm -rf /")
    assert "/" not in item.id and ".." not in item.id and item.file == f"rings/{item.id}.glb"
    with pytest.raises(InputError, match="import as one of"):
        import_model(path, "tiara", "x")
    with pytest.raises(InputError, match="Unknown metal"):
        import_model(path, "ring", "x", metal="adamantium")

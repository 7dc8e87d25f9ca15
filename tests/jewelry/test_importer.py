"""Importing customers' models: units, frames and materials right; hostile or broken files refused clearly."""

from __future__ import annotations

import io
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import trimesh
from scipy.spatial import cKDTree

from tryon.errors import AssetError, InputError
from tryon.jewelry.catalog import CATALOG_FILE, DEFAULT_ASSETS_DIR, Catalog, Item
from tryon.jewelry.importer import MAX_NODES, import_model
from tryon.render.scene import ItemModel
from tryon.studio.catalog_build import add_user_items

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
    (lambda d: _write(d, "coin.stl", trimesh.creation.cylinder(radius=10.0, height=2.0)), "no hole for a finger"),
    (lambda d: _write(d, "ball.stl", trimesh.creation.icosphere(radius=10.0)), "which way a finger goes"),
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


def _glb(doc: dict, binary: bytes) -> bytes:
    """A GLB file: the 12-byte header, the JSON chunk and the binary chunk, each padded to 4 bytes."""
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(binary), b"BIN\0") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def _instanced_glb(vertices: np.ndarray, faces: np.ndarray, nodes: int, step_m: float = 1e-4) -> bytes:
    """One mesh ((n, 3) vertices in metres, (m, 3) faces) placed by `nodes` nodes on a grid `step_m` apart."""
    v, f = np.asarray(vertices, np.float32), np.asarray(faces, np.uint32)
    doc = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": list(range(nodes))}],
           "nodes": [{"mesh": 0, "translation": [step_m * (i % 100), step_m * (i // 100), 0.0]} for i in range(nodes)],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 1}, "indices": 0}]}],
           "buffers": [{"byteLength": f.nbytes + v.nbytes}],
           "bufferViews": [{"buffer": 0, "byteLength": f.nbytes},
                           {"buffer": 0, "byteOffset": f.nbytes, "byteLength": v.nbytes}],
           "accessors": [{"bufferView": 0, "componentType": 5125, "count": f.size, "type": "SCALAR"},
                         {"bufferView": 1, "componentType": 5126, "count": len(v), "type": "VEC3",
                          "min": v.min(axis=0).tolist(), "max": v.max(axis=0).tolist()}]}
    return _glb(doc, f.tobytes() + v.tobytes())


def test_triangles_are_counted_as_drawn_every_instance_included():
    bead = trimesh.creation.icosphere(subdivisions=3, radius=4e-4)  # 1,280 triangles, 0.8 mm
    assert len(bead.faces) == 1280
    many = _instanced_glb(bead.vertices, bead.faces, nodes=5000)  # 6.4 M triangles drawn from 0.3 MB
    assert len(many) < 400_000
    with pytest.raises(InputError, match="draws 6,400,000 triangles; the budget is 200,000"):
        import_model(Path("beads.glb"), "earring", "Beads", data=many)
    fewer = _instanced_glb(bead.vertices, bead.faces, nodes=200)  # under the node limit, over the triangles'
    with pytest.raises(InputError, match="draws 256,000 triangles"):
        import_model(Path("beads.glb"), "earring", "Beads", data=fewer)
    three = _instanced_glb(bead.vertices, bead.faces, nodes=3, step_m=2e-3)
    _, scene = import_model(Path("beads.glb"), "earring", "Beads", data=three)
    assert sum(len(g.faces) for g in scene.geometry.values()) == 3 * 1280  # each instance made a part of its own


def test_a_glb_of_100000_nodes_is_refused_by_its_node_count_before_it_is_parsed():
    speck = _instanced_glb([[0, 0, 0], [1e-3, 0, 0], [0, 1e-3, 0]], [[0, 1, 2]], nodes=100_000)
    with pytest.raises(InputError, match=f"has 100,000 nodes; the limit is {MAX_NODES:,}"):
        import_model(Path("dust.glb"), "earring", "Dust", data=speck)
    # OBJ: trimesh makes one part per material, and its time grows with their square.
    lines = [f"usemtl m{i}\nv {i} 0 0\nv {i + 0.5} 0 0\nv {i} 1 0\nf {3 * i + 1} {3 * i + 2} {3 * i + 3}"
             for i in range(MAX_NODES + 1)]
    with pytest.raises(InputError, match=f"has {MAX_NODES + 1:,} nodes"):
        import_model(Path("parts.obj"), "earring", "Parts", data="\n".join(lines).encode())


def _ring_checks(item: Item, scene: trimesh.Scene, width_mm: float) -> None:
    """A round band of 20.95 mm outside, 17.35 mm inside: in the ring frame, the hole's centre at the origin."""
    lo, hi = scene.bounds
    assert np.allclose(lo, -hi, atol=1e-6)  # centred on the hole
    # The finger's axis is +y; across it, a polygon's box is up to cos(180 / 64 degrees) smaller as it turns.
    assert np.allclose((hi - lo) / 1e-3, [20.95, width_mm, 20.95], atol=0.03)
    assert (hi - lo)[1] / 1e-3 == pytest.approx(width_mm, abs=1e-3)
    assert item.dimensions_mm["inner_diameter"] == pytest.approx(17.35, abs=0.01)
    assert item.dimensions_mm["length"] == pytest.approx(width_mm, abs=0.01)


@pytest.mark.parametrize("tilt", [0.0, 0.7])
def test_a_band_with_vertices_only_on_its_edges_is_found_in_the_ring_frame(tilt):
    band = trimesh.creation.annulus(r_min=8.675, r_max=10.475, height=2.0)  # mm, axis along z, no inner vertex rows
    assert set(np.round(np.abs(band.vertices[:, 2]), 6)) == {1.0}
    band.apply_transform(trimesh.transformations.rotation_matrix(tilt, [1.0, 2.0, 0.5]))
    item, scene = import_model(Path("annulus.glb"), "ring", "Annulus", data=band.export(file_type="glb"))
    _ring_checks(item, scene, 2.0)


def test_our_own_band_imports_again_unchanged():
    path = RINGS / "ring-band-2mm-yellow-gold.glb"
    item, scene = import_model(path, "ring", "Our band")
    _ring_checks(item, scene, 2.0)
    a, b = _points(trimesh.load(path, force="scene")), _points(scene)
    assert len(a) == len(b) and np.max(cKDTree(a).query(b)[0]) < 1e-6  # the same frame: nothing moved


def _corrupt_glb() -> bytes:
    """A tetrahedron (metres) whose last face uses vertex 99 of 4."""
    vertices = 0.01 * np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    return _instanced_glb(vertices, [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 99]], nodes=1)


def test_faces_with_vertices_that_do_not_exist_are_refused():
    with pytest.raises(InputError, match="is corrupt: a face uses vertex 99 of a mesh that has 4 vertices"):
        import_model(Path("broken.glb"), "earring", "Broken", data=_corrupt_glb())


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_failed_import_leaves_the_user_catalog_as_it_was(tmp_path, monkeypatch):
    built_in = Catalog.load(DEFAULT_ASSETS_DIR / CATALOG_FILE)
    user = tmp_path / "user"
    mine, mine_scene = import_model(RINGS / "ring-band-2mm-yellow-gold.glb", "ring", "Mine")
    (user / ".staging-killed").mkdir(parents=True)  # left by a writer that was killed: cleared by the next
    (user / ".staging-killed" / "half.glb").write_bytes(b"glTF")
    add_user_items([(mine, lambda: mine_scene)], user, built_in)
    before = _snapshot(user)
    assert set(before) == {CATALOG_FILE, mine.file, f"thumbnails/{mine.id}.png"}

    with pytest.raises(InputError, match="is corrupt"):
        import_model(Path("broken.glb"), "earring", "Broken", data=_corrupt_glb())
    # A model that fails part-way through writing (here: when its thumbnail is drawn), after a good one.
    other, other_scene = import_model(RINGS / "ring-band-4mm-yellow-gold.glb", "ring", "Other")
    bad = trimesh.load(io.BytesIO(_corrupt_glb()), file_type="glb", force="scene", process=False)
    broken = Item("import-broken-0", "Broken", "earring", "ears", "earrings/import-broken-0.glb", "silver", None)
    with pytest.raises(AssetError):
        add_user_items([(other, lambda: other_scene), (broken, lambda: bad)], user, built_in)
    assert _snapshot(user) == before
    assert {p.name for p in user.iterdir()} == {CATALOG_FILE, "rings", "thumbnails"}

    # Renaming into place fails at the last step (catalog.json): the files already moved are taken back, and
    # the ones they replaced (Mine, written again with other geometry) put back as they were.
    real = os.replace

    def failing(src: object, dst: object) -> None:
        if Path(str(dst)) == user / CATALOG_FILE:
            raise OSError(28, "No space left on device")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="No space left"):
        add_user_items([(mine, lambda: other_scene), (other, lambda: other_scene)], user, built_in)
    monkeypatch.undo()
    assert _snapshot(user) == before
    assert {p.name for p in user.iterdir()} == {CATALOG_FILE, "rings", "thumbnails"}
    assert [i.id for i in Catalog.load(user / CATALOG_FILE)] == [mine.id]

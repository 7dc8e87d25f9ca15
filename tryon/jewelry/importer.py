"""Bring a customer's own 3D model into the catalog: glTF (embedded buffers), GLB, OBJ or STL.

`import_model(path, kind, name, ...)` reads the file under limits (size, triangles, a sane physical size),
finds its units (jewelry is 3 to 150 mm: a model whose largest side is under 0.2 is in metres, over 2 in
millimetres; in between it asks), turns it into the frame of its kind, puts its anchor at the origin, keeps
its materials or assigns a metal (and a stone to parts named like one), and returns the scene with its
catalog entry. `add_to_user_catalog` writes it (GLB, thumbnail, price) into the user catalog.

Frames (see tryon.jewelry.earrings, rings, necklaces): files are taken as glTF's +y up (`z_up=True` for
the many OBJ and STL files that are +z up).
  - ring: the finger's axis is the model's thinnest direction, made +y; the side that reaches farthest
    from the axis (the head, the stone) is made +z; the anchor (the origin) is the centre of the hole.
  - earring: +y up as given; the anchor is the top of the model (where it hangs from the piercing),
    unless `anchor` gives it; the front faces +x as in the earring frame (a glTF front, +z, is turned to +x).
  - pendant: +y up as given; the anchor is the top (the bail); it hangs from a 45 cm cable chain.
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import numpy as np
import trimesh

from tryon.errors import InputError
from tryon.jewelry import materials, necklaces
from tryon.jewelry.catalog import Item
from tryon.jewelry.earrings import MM

FORMATS = ("glb", "gltf", "obj", "stl")
KINDS = ("ring", "earring", "pendant")
MAX_BYTES = 25 * 1024 * 1024
MAX_TRIANGLES = 200_000
SIZE_RANGE_MM = (2.0, 150.0)  # a piece's largest side
STONE_WORDS = re.compile(r"stone|gem|diamond|ruby|sapphire|emerald|crystal|jewel", re.IGNORECASE)


def import_model(path: Path, kind: str, name: str, *, metal: str | None = None, stone: str | None = None,
                 units: str = "auto", z_up: bool = False, anchor: tuple[float, float, float] | None = None,
                 data: bytes | None = None, max_bytes: int = MAX_BYTES) -> tuple[Item, trimesh.Scene]:
    """The model as a catalog item of `kind` (ring, earring, pendant) in its kind's frame, in metres.

    data: the file's bytes when they do not come from `path` (an upload; `path` then only names it).
    units: "auto", "mm" or "m". anchor: the attachment point in the file's own coordinates and units.
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InputError(f"{path.name}: a model is one of {', '.join(FORMATS)} (got {suffix or 'no extension'!r})")
    if kind not in KINDS:
        raise InputError(f"import as one of {', '.join(KINDS)}, not {kind!r}")
    if not name.strip() or len(name) > 120:
        raise InputError("give the piece a name of 1 to 120 characters")
    if metal is not None:
        metal = materials.metal(metal).name
    if stone is not None:
        stone = materials.gem(stone).name
    if data is None:
        try:
            size = path.stat().st_size
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror}") from None
        if size > max_bytes:
            raise InputError(f"{path.name} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
        data = path.read_bytes()
    elif len(data) > max_bytes:
        raise InputError(f"{path.name} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    if suffix == "gltf" and re.search(rb'"uri"\s*:\s*"(?!data:)', data):
        raise InputError(f"{path.name} refers to files beside it; send a .glb, or a .gltf with embedded buffers")
    scene = _load(data, suffix, path.name)
    triangles = sum(len(g.faces) for g in scene.geometry.values())
    if triangles > MAX_TRIANGLES:
        raise InputError(f"{path.name} has {triangles:,} triangles; the budget is {MAX_TRIANGLES:,} (a piece this "
                         "small needs far fewer: decimate it in your modelling tool)")
    scene = _flatten(scene)
    scale = _units(scene, units, path.name)
    m = np.diag([scale, scale, scale, 1.0])
    if z_up:  # +z up -> +y up: a quarter turn about x
        m = trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]) @ m
    _bake(scene, m)
    point = None if anchor is None else (m @ np.array([*anchor, 1.0]))[:3]
    _bake(scene, _to_frame(scene, kind, point))
    _dress(scene, metal, stone)
    if kind == "pendant":
        scene = _hang(scene)
    digest = hashlib.sha256(data).hexdigest()[:8]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "piece"
    item_id = f"import-{slug}-{digest}"
    site, folder = {"ring": ("finger", "rings"), "earring": ("ears", "earrings"), "pendant": ("neck", "necklaces")}[kind]
    lo, hi = scene.bounds
    extent = (hi - lo) / MM
    dims = {"width": round(float(extent[0]), 3), "height": round(float(extent[1]), 3),
            "depth": round(float(extent[2]), 3)}
    if kind == "ring":
        dims["inner_diameter"] = round(_hole_diameter(scene) / MM, 3)
    if kind == "pendant":
        unit = necklaces.unit_size(scene)
        dims = {"length": necklaces.NECKLACE_LENGTH_MM, "pitch": unit.pitch_mm, "chain_width": unit.width_mm,
                "thickness": unit.thickness_mm, "pendant_height": dims["height"], "pendant_width": dims["width"]}
    used = _material_names(scene)
    item_metal = metal or next((n for n in used if n in materials.METALS), "silver")
    item_stone = stone or next((n for n in used if n in materials.GEMS), None)
    item = Item(item_id, name.strip(), kind, site, f"{folder}/{item_id}.glb", item_metal, item_stone,
                {k: v for k, v in dims.items() if v > 0}, item_id, None)
    return item, scene


def _load(data: bytes, suffix: str, label: str) -> trimesh.Scene:
    try:
        loaded = trimesh.load(io.BytesIO(data), file_type=suffix, force="scene", process=False)
    except Exception as e:  # trimesh raises many types for a bad file
        raise InputError(f"{label} is not a readable {suffix.upper()} file ({type(e).__name__}: {e})") from None
    if not isinstance(loaded, trimesh.Scene) or not loaded.geometry:
        raise InputError(f"{label} holds no geometry")
    for g in loaded.geometry.values():
        if not isinstance(g, trimesh.Trimesh):
            raise InputError(f"{label} holds {type(g).__name__} geometry; only triangle meshes can be worn")
        if not np.isfinite(g.vertices).all():
            raise InputError(f"{label} has vertices that are not finite numbers")
    return loaded


def _flatten(scene: trimesh.Scene) -> trimesh.Scene:
    """One node per mesh, transforms applied, names made safe (letters, digits, _ and -)."""
    out = trimesh.Scene()
    for i, node in enumerate(scene.graph.nodes_geometry):
        transform, geom = scene.graph[node]
        mesh = scene.geometry[geom].copy()
        mesh.apply_transform(transform)
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", str(node))[:40] or "part"
        out.add_geometry(mesh, node_name=f"{safe}_{i}", geom_name=f"{safe}_{i}")
    return out


def _bake(scene: trimesh.Scene, m: np.ndarray) -> None:
    """Move every mesh's vertices (and normals) by m (the flattened scene's nodes stay identities)."""
    for g in scene.geometry.values():
        g.apply_transform(m)


def _units(scene: trimesh.Scene, units: str, label: str) -> float:
    largest = float(np.max(scene.extents))
    if units == "mm":
        scale = MM
    elif units == "m":
        scale = 1.0
    elif units != "auto":
        raise InputError(f"units are auto, mm or m, not {units!r}")
    elif largest >= 2.0:
        scale = MM
    elif largest <= 0.2:
        scale = 1.0
    else:
        raise InputError(f"{label} is {largest:g} units across: millimetres or metres? say --units mm or --units m")
    size_mm = largest * scale / MM
    if not SIZE_RANGE_MM[0] <= size_mm <= SIZE_RANGE_MM[1]:
        raise InputError(f"{label} would be {size_mm:g} mm across; a piece of jewelry is {SIZE_RANGE_MM[0]:g} to "
                         f"{SIZE_RANGE_MM[1]:g} mm (wrong units?)")
    return scale


def _to_frame(scene: trimesh.Scene, kind: str, anchor: np.ndarray | None) -> np.ndarray:
    """(4, 4) from the file's (metric, +y up) frame to the kind's, the anchor at the origin."""
    points = np.vstack([g.vertices for g in scene.geometry.values()])
    m = np.eye(4)
    if kind == "ring":
        centre = 0.5 * (points.min(axis=0) + points.max(axis=0))
        _, vecs = np.linalg.eigh(np.cov((points - centre).T))
        axis = vecs[:, 0]  # the thinnest direction: along the finger
        for _ in range(2):  # the head makes the box lopsided: the band's circle is below it
            radial = points - centre - np.outer((points - centre) @ axis, axis)
            reach = np.linalg.norm(radial, axis=1)
            far = radial[reach > 0.97 * reach.max()].mean(axis=0)  # the head's tips together: its middle
            up = far / np.linalg.norm(far)
            across = np.cross(axis, up)
            a, u, t = points @ across, points @ up, points @ axis
            outer_r = 0.5 * float(np.ptp(a))
            centre = 0.5 * (a.min() + a.max()) * across + (u.min() + outer_r) * up + 0.5 * (t.min() + t.max()) * axis
        r = np.stack([across, axis, up])  # rows: the ring frame's x, y, z in file coordinates
        m[:3, :3] = r
        m[:3, 3] = -r @ (centre if anchor is None else anchor)
        return m
    if kind == "earring":  # glTF's front (+z) to the earring frame's +x: a quarter turn about y
        m[:3, :3] = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0])[:3, :3]
    top = points[np.argmax(points[:, 1])]
    m[:3, 3] = -m[:3, :3] @ (top if anchor is None else anchor)
    return m


def _dress(scene: trimesh.Scene, metal: str | None, stone: str | None) -> None:
    """Assign our metal (and stone, to parts named like stones) where asked; otherwise keep the file's."""
    for node in scene.graph.nodes_geometry:
        mesh = scene.geometry[scene.graph[node][1]]
        want = stone if stone is not None and STONE_WORDS.search(str(node)) else metal
        if want is not None:
            mesh.visual = trimesh.visual.TextureVisuals(material=materials.pbr_material(want))


def _material_names(scene: trimesh.Scene) -> list[str]:
    names = []
    for g in scene.geometry.values():
        name = getattr(getattr(g.visual, "material", None), "name", None)
        if name:
            names.append(str(name))
    return names


def _hole_diameter(scene: trimesh.Scene) -> float:
    """A ring's inner diameter: twice the smallest distance from the axis (y) to the band near the axis' middle."""
    points = np.vstack([g.vertices for g in scene.geometry.values()])
    near = points[np.abs(points[:, 1]) < 0.25 * np.ptp(points[:, 1]) + 1e-6]
    return float(2.0 * np.min(np.hypot(near[:, 0], near[:, 2])))


def _hang(pendant: trimesh.Scene) -> trimesh.Scene:
    """The pendant's parts renamed pendant_*, hung from a 45 cm, 2 mm cable chain of its main metal."""
    metal = next((n for n in _material_names(pendant) if n in materials.METALS), "yellow_gold")
    renamed = trimesh.Scene()
    for i, node in enumerate(pendant.graph.nodes_geometry):
        renamed.add_geometry(pendant.geometry[pendant.graph[node][1]], node_name=f"pendant_{i}",
                             geom_name=f"pendant_{i}")
    return necklaces.necklace(necklaces.cable_chain(link_mm=2.0, wire_mm=0.4, metal=metal), renamed)

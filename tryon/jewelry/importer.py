"""Bring a customer's own 3D model into the catalog: glTF (embedded buffers), GLB, OBJ or STL.

`import_model(path, kind, name, ...)` reads the file under limits (size, triangles drawn, nodes, a sane
physical size), finds its units (jewelry is 3 to 150 mm: a model whose largest side is under 0.2 is in
metres, over 2 in millimetres; in between it asks), turns it into the frame of its kind, puts its anchor at
the origin, keeps its materials or assigns a metal (and a stone to parts named like one), and returns the
scene with its catalog entry. `tryon.studio.catalog_build.add_user_items` writes it (GLB, thumbnail, price)
into the user catalog, all or nothing.

Limits are counted on what would be drawn, before any work proportional to it: a mesh placed by 5,000 nodes
is drawn 5,000 times. For glTF and GLB they are read from the file's JSON (a GLB's first chunk) before the
file is parsed, so a hostile file is refused in milliseconds; they are checked again on the parsed scene.
The whole import, writing included, should finish within IMPORT_TIMEOUT_S (callers enforce it).

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
import json
import re
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from tryon.errors import InputError
from tryon.jewelry import materials, necklaces
from tryon.jewelry.catalog import Item
from tryon.jewelry.geometry.units import MM

FORMATS = ("glb", "gltf", "obj", "stl")
KINDS = ("ring", "earring", "pendant")
MAX_BYTES = 25 * 1024 * 1024
MAX_TRIANGLES = 200_000  # drawn: every node that places a mesh counts its triangles
MAX_NODES = 2_000  # scene-graph nodes, mesh primitives or parts drawn (OBJ: materials); a piece has tens
# Wall-clock budget of one import, writing into the user catalog included, for callers to enforce. Within the
# limits above the slowest takes about 6 s (2,000 parts: 1.6 s to import, 4.5 s to write and draw its thumbnail).
IMPORT_TIMEOUT_S = 60.0
HOLE_MIN_MM = 8.0  # a ring's smallest inner diameter (a child's ring, a toe ring); less is no finger hole
AXIS_RATIO_MAX = 0.8  # a ring's thinnest spread over its next: nearer 1, the finger's axis is a guess
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
    _check_budget(*_declared_size(data, suffix, path.name), path.name)  # before parsing: cheap, from the header
    scene = _load(data, suffix, path.name)
    drawn = scene.graph.geometry_nodes  # {geometry name: [nodes placing it]}
    _check_budget(sum(len(g.faces) * len(drawn.get(k, ())) for k, g in scene.geometry.items()),
                  len(scene.graph.nodes_geometry), path.name)
    scene = _flatten(scene)
    scale = _units(scene, units, path.name)
    m = np.diag([scale, scale, scale, 1.0])
    if z_up:  # +z up -> +y up: a quarter turn about x
        m = trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]) @ m
    _bake(scene, m)
    point = None if anchor is None else (m @ np.array([*anchor, 1.0]))[:3]
    _bake(scene, _to_frame(scene, kind, point, path.name))
    _dress(scene, metal, stone)
    if kind == "pendant":
        scene = _hang(scene)
    digest = hashlib.sha256(data).hexdigest()[:8]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "piece"
    item_id = f"import-{slug}-{digest}"
    site, folder = {"ring": ("finger", "rings"), "earring": ("ears", "earrings"), "pendant": ("neck", "necklaces")}[kind]
    lo, hi = scene.bounds
    extent = [round(float(e), 3) for e in (hi - lo) / MM]
    # The box's sides (x, y, z) named as the catalog names them in each kind's frame (tryon.jewelry.catalog).
    sides = {"ring": ("width", "length", "height"), "earring": ("depth", "height", "width")}
    dims = dict(zip(sides.get(kind, ("width", "height", "depth")), extent, strict=True))
    if kind == "ring":
        dims["inner_diameter"] = round(_hole_diameter(scene, path.name) / MM, 3)
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


def _check_budget(triangles: int, nodes: int, label: str) -> None:
    """Refuse a model that would draw more than MAX_TRIANGLES or has more than MAX_NODES nodes."""
    if triangles > MAX_TRIANGLES:
        raise InputError(f"{label} draws {triangles:,} triangles; the budget is {MAX_TRIANGLES:,} (each copy of a "
                         "repeated part counts; a piece this small needs far fewer: decimate it in your modelling tool)")
    if nodes > MAX_NODES:
        raise InputError(f"{label} has {nodes:,} nodes; the limit is {MAX_NODES:,} (a piece has tens of parts: "
                         "merge repeated parts in your modelling tool)")


def _declared_size(data: bytes, suffix: str, label: str) -> tuple[int, int]:
    """(triangles drawn, nodes) as the file declares them, read without parsing its geometry.

    glTF and GLB: from the JSON (nodes, primitives, accessor counts); exact for what trimesh will draw. OBJ:
    face lines (each at least one triangle) and materials (trimesh makes one part per material, in time that
    grows with their square). STL: the binary header's count, or the ASCII facets. Raises InputError for a
    GLB or glTF whose JSON is unreadable.
    """
    if suffix in ("glb", "gltf"):
        return _gltf_size(_gltf_json(data, suffix, label), suffix, label)
    if suffix == "obj":  # plain counts (tens of ms for 25 MB, a regex takes a second): close enough for a bound
        return data.count(b"\nf ") + data.startswith(b"f "), data.count(b"usemtl")
    if len(data) >= 84 and 84 + 50 * struct.unpack_from("<I", data, 80)[0] == len(data):  # binary STL
        return struct.unpack_from("<I", data, 80)[0], 1
    return data.count(b"endfacet"), 1


def _gltf_json(data: bytes, suffix: str, label: str) -> dict[str, Any]:
    """The glTF JSON of a .gltf file, or of a GLB's first chunk (12-byte header, then chunk length, type, JSON)."""
    try:
        if suffix == "glb":
            magic, _version, _length, size, kind = struct.unpack_from("<4sIIII", data, 0)
            if magic != b"glTF" or kind != 0x4E4F534A or 20 + size > len(data):  # "JSON"
                raise ValueError("no glTF header and JSON chunk")
            data = data[20:20 + size]
        doc = json.loads(data)
        if not isinstance(doc, dict):
            raise ValueError("the JSON is not an object")
    except (struct.error, ValueError) as e:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InputError(f"{label} is not a readable {suffix.upper()} file ({type(e).__name__}: {e})") from None
    return doc


def _gltf_size(doc: Mapping[str, Any], suffix: str, label: str) -> tuple[int, int]:
    """(triangles drawn, nodes) of a glTF document: each node reachable from the scene trimesh loads (the
    default scene, else the first) draws its mesh's triangles once; nodes counts every node and primitive."""
    try:
        nodes, accessors = doc.get("nodes", []), doc.get("accessors", [])
        meshes = doc.get("meshes", [])

        def triangles(primitive: Mapping[str, Any]) -> int:
            source = primitive["indices"] if "indices" in primitive else primitive["attributes"]["POSITION"]
            count, mode = int(accessors[source]["count"]), primitive.get("mode", 4)
            return count // 3 if mode == 4 else max(count - 2, 0) if mode in (5, 6) else 0  # list, strip, fan

        per_mesh = [sum(triangles(p) for p in m.get("primitives", [])) for m in meshes]
        primitives = sum(len(m.get("primitives", [])) for m in meshes)
        parts = max(len(nodes), primitives)
        scenes = doc.get("scenes", [])
        if not scenes:  # no scene graph: each mesh is drawn once
            return sum(per_mesh), parts
        drawn = sum(per_mesh[n["mesh"]] for n in nodes if "mesh" in n)  # at most: every node in the scene
        if drawn <= MAX_TRIANGLES:
            return drawn, parts
        seen: set[int] = set()  # over budget at most: count only what the scene draws
        stack = list(scenes[doc.get("scene", 0)].get("nodes", []))
        while stack:  # a node listed under two parents (invalid glTF) is drawn once, as trimesh does
            i = int(stack.pop())
            if i not in seen:
                seen.add(i)
                stack.extend(nodes[i].get("children", []))
        drawn = sum(per_mesh[nodes[i]["mesh"]] for i in seen if "mesh" in nodes[i])
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
        raise InputError(f"{label} is not a readable {suffix.upper()} file (its JSON is malformed: "
                         f"{type(e).__name__}: {e})") from None
    return drawn, parts


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
        outside = (g.faces < 0) | (g.faces >= len(g.vertices))
        if outside.any():
            raise InputError(f"{label} is corrupt: a face uses vertex {int(g.faces[outside][0]):,} of a mesh "
                             f"that has {len(g.vertices):,} vertices")
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


def _to_frame(scene: trimesh.Scene, kind: str, anchor: np.ndarray | None, label: str) -> np.ndarray:
    """(4, 4) from the file's (metric, +y up) frame to the kind's, the anchor at the origin."""
    points = np.vstack([g.vertices for g in scene.geometry.values()])
    m = np.eye(4)
    if kind == "ring":
        axis = _finger_axis(scene, label)
        # The file's up (+y), else its front (+z), else +x, made square to the axis: one of them is more than
        # 30 degrees off it (no direction is within 30 degrees of all three).
        ups = [e - (e @ axis) * axis for e in np.eye(3)[[1, 2, 0]]]
        file_up = next(v / np.linalg.norm(v) for v in ups if np.linalg.norm(v) > 0.5)
        centre = 0.5 * (points.min(axis=0) + points.max(axis=0))
        for _ in range(2):  # the head makes the box lopsided: the band's circle is below it
            radial = points - centre - np.outer((points - centre) @ axis, axis)
            reach = np.linalg.norm(radial, axis=1)
            far = radial[reach > 0.97 * reach.max()].mean(axis=0)  # the head's tips together: its middle
            # Round all the way (a plain band, an eternity ring): the farthest points surround the axis, their
            # middle is near it and points nowhere, so the file's own up is kept.
            up = far / np.linalg.norm(far) if np.linalg.norm(far) > 0.5 * reach.max() else file_up
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


def _triangles(scene: trimesh.Scene) -> np.ndarray:
    """(n, 3, 3) every face's corners, in the scene's geometry coordinates (flattened scenes: its frame)."""
    return np.concatenate([g.vertices[g.faces] for g in scene.geometry.values()])


def _finger_axis(scene: trimesh.Scene, label: str) -> np.ndarray:
    """(3,) unit vector, its largest component positive: the direction the surface is thinnest along.

    From the spread (second moments) of the surface itself, each triangle weighted by its area, not of its
    vertices: a band whose vertices lie only on its two edges, or a head far denser than its band, gives the
    same axis. Raises InputError where no direction is clearly the thinnest (the axis would be a guess).
    """
    tri = _triangles(scene)
    tri = tri - 0.5 * (tri.min(axis=(0, 1)) + tri.max(axis=(0, 1)))  # centred: no cancellation below
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    total = float(area.sum())
    if not total > 0.0:
        raise InputError(f"{label} has no surface: its triangles have no area")
    corners = tri.sum(axis=1)  # (n, 3)
    mean = area @ corners / (3.0 * total)
    # A triangle's integral of p p^T over its area is area / 12 (S S^T + sum of v v^T), S its corners' sum.
    second = (np.einsum("n,ni,nj->ij", area, corners, corners) + np.einsum("n,nki,nkj->ij", area, tri, tri))
    spread, vecs = np.linalg.eigh(second / (12.0 * total) - np.outer(mean, mean))
    if spread[0] > AXIS_RATIO_MAX * spread[1]:
        raise InputError(f"{label} is about as long as it is wide in every direction, so which way a finger goes "
                         "through it cannot be told: a ring must be thinnest along the finger")
    axis = vecs[:, 0]
    return axis * np.sign(axis[np.argmax(np.abs(axis))])


def _hole_diameter(scene: trimesh.Scene, label: str) -> float:
    """A ring's inner diameter (m), the scene in the ring frame: twice the smallest distance from the axis (y)
    to the corners of the faces that reach into the middle half of the band (|y| under a quarter of its
    length), so a band with vertices only on its edges is measured across its faces.

    Raises InputError where the axis runs into the model (a disc, a solid) or the hole is under HOLE_MIN_MM.
    """
    tri = _triangles(scene)
    y = tri[:, :, 1]
    half = 0.25 * float(y.max() - y.min()) + 1e-6
    middle = tri[(y.min(axis=1) < half) & (y.max(axis=1) > -half)]
    diameter = float(2.0 * np.min(np.hypot(middle[:, :, 0], middle[:, :, 2]))) if len(middle) else 0.0
    # A face whose shadow along the axis (on the xz plane) covers the axis closes the hole. Faces along the axis
    # (the band's walls) cast a line, which covers nothing.
    xz = tri[:, :, [0, 2]]
    edge = np.roll(xz, -1, axis=1) - xz
    side = edge[:, :, 0] * -xz[:, :, 1] - edge[:, :, 1] * -xz[:, :, 0]  # (n, 3): which side of each edge 0 is
    closed = bool(np.any(np.all(side > 0, axis=1) | np.all(side < 0, axis=1)))
    if closed or diameter < HOLE_MIN_MM * MM:
        found = "the axis runs into it" if closed else f"the hole is {diameter / MM:.1f} mm across"
        raise InputError(f"{label} has no hole for a finger along its thinnest direction ({found}; a ring's is at "
                         f"least {HOLE_MIN_MM:g} mm): import it as an earring or a pendant, or check the model")
    return diameter


def _hang(pendant: trimesh.Scene) -> trimesh.Scene:
    """The pendant's parts renamed pendant_*, hung from a 45 cm, 2 mm cable chain of its main metal."""
    metal = next((n for n in _material_names(pendant) if n in materials.METALS), "yellow_gold")
    renamed = trimesh.Scene()
    for i, node in enumerate(pendant.graph.nodes_geometry):
        renamed.add_geometry(pendant.geometry[pendant.graph[node][1]], node_name=f"pendant_{i}",
                             geom_name=f"pendant_{i}")
    return necklaces.necklace(necklaces.cable_chain(link_mm=2.0, wire_mm=0.4, metal=metal), renamed)

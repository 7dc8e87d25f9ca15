"""Jewelry items as draw-ready geometry, and where each worn item sits in the camera frame.

This module knows nothing about GL: an `ItemModel` is plain numpy arrays and material numbers, so loading
and checking an item needs no context, and one model can be drawn by several renderers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import trimesh

from tryon.anchors.drape import drape_for, pendant_rest
from tryon.body import BODY
from tryon.errors import AssetError, InputError
from tryon.jewelry.catalog import Catalog, Item
from tryon.jewelry.materials import GemSpec, material_spec
from tryon.jewelry.necklaces import BACK_MM
from tryon.physics import hang_rotation, swing_matrix
from tryon.types import AnchorPose

PENDANT_BACK_M = BACK_MM * 1e-3  # pendants' backs lie this far behind their pivot (tryon.jewelry.necklaces)


@dataclass(frozen=True)
class Material:
    base_color: tuple[float, float, float]  # linear RGB: F0 for metals, body colour for gems
    metallic: float
    roughness: float
    ior: float = 0.0  # > 0 marks a faceted gem
    dispersion: float = 0.0
    pearl: bool = False  # nacre: soft body light, lustre and orient (shaders/jewel.frag)


@dataclass(frozen=True)
class Part:
    vertices: np.ndarray  # (N, 6) float32: position (m) and unit normal, in the part frame, 3 per triangle
    material: Material
    item_T_part: np.ndarray  # (4, 4)
    hangs: bool  # turns about the piercing to hang along gravity
    role: str = ""  # from the node name: "band" (fitted round the body), "head"/"case" (ride on top),
    #                "hand_hour"/"hand_minute"/"hand_second" (a watch's hands), "link" (a necklace's repeat
    #                unit, drawn all along its chain), "pendant" (hangs from the chain), "" (rigid)
    tint: np.ndarray | None = None  # (N, 3) float32, 3 per triangle: a photo piece's detail (the mesh's "_TINT"
    #                                 vertex attribute, see _tint); None: plain

    @functools.cached_property
    def extent_m(self) -> float:
        """The part's largest side (its bounding box's), metres."""
        return float(np.ptp(self.vertices[:, :3], axis=0).max())

    @property
    def corners(self) -> np.ndarray:
        """(8, 3) corners of the part's bounding box, in its own frame."""
        lo, hi = self.vertices[:, :3].min(axis=0), self.vertices[:, :3].max(axis=0)
        return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


ROLES = ("band", "head", "case", "hand_hour", "hand_minute", "hand_second", "link", "pendant")
DIAL_TIME_S = 10 * 3600 + 10 * 60 + 30  # 10:10:30, the hands' product-photo position, when no time is given


class ItemModel:
    """One jewelry item as draw-ready parts, anchored at the item origin (the piercing; a ring's or a wrist
    piece's centre).

    nominal_mm: the body size the model was built for ("inner_diameter" for rings; "inner_width" and
    "inner_thickness" for wrist pieces): `cam_T_parts` fits band parts from it to the measured size. For a
    necklace (parts "link*", and "pendant*"): its "length", and the repeat unit's "pitch" and "thickness".

    A necklace's link parts are posed all along its chain: their entry in `cam_T_parts` is a (k, 4, 4)
    stack, one pose per repeat unit (drawn instanced), where every other part's is one (4, 4) pose.
    """

    def __init__(self, item_id: str, scene: trimesh.Scene, nominal_mm: dict[str, float] | None = None) -> None:
        self.item_id = item_id
        self.nominal_mm = dict(nominal_mm or {})
        try:
            self.parts = tuple(_part(scene, node) for node in scene.graph.nodes_geometry)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as e:
            raise AssetError(f"item {item_id}: cannot convert its model for rendering: {e}") from e
        if not self.parts:
            raise AssetError(f"item {item_id}: its model has no geometry")
        self._corners = [np.hstack([p.corners, np.ones((8, 1))]) for p in self.parts]
        posed = np.vstack([(c @ p.item_T_part.T)[:, :3] for c, p in zip(self._corners, self.parts, strict=True)])
        self._span = posed.max(axis=0) - posed.min(axis=0)
        self.is_necklace = any(p.role == "link" for p in self.parts)
        # A drop's pendulum length: from the piercing to the middle of what hangs (0: nothing hangs).
        hanging = [(p.vertices[:, :3] @ p.item_T_part[:3, :3].T + p.item_T_part[:3, 3]) for p in self.parts if p.hangs]
        self.hang_length_m = float(np.linalg.norm(np.vstack(hanging).mean(axis=0))) if hanging else 0.0
        if self.is_necklace:
            missing = [k for k in ("length", "pitch", "thickness") if not self.nominal_mm.get(k)]
            if missing:
                raise AssetError(f"item {item_id}: a necklace needs its {', '.join(missing)} (mm)")
            # The pendant's weight as a length of this chain (same metal: volumes compare as weights).
            unit = sum(_volume(p) for p in self.parts if p.role == "link")
            pendant = sum(_volume(p) for p in self.parts if p.role == "pendant")
            self.pendant_m = pendant / unit * self.nominal_mm["pitch"] * 1e-3 if unit > 0 else 0.0

    def cam_T_parts(self, cam_T_anchor: np.ndarray, fit_m: dict[str, float] | None = None,
                    dial_time_s: float | None = None, mirror_dial: bool = False,
                    swing_rad: tuple[float, float] = (0.0, 0.0)) -> list[np.ndarray]:
        """Each part's pose in the camera frame when the item's anchor is at `cam_T_anchor`.

        fit_m: the body's measured size (AnchorPose.fit_m): bands stretch to it, what sits on them moves out
        with their surface. dial_time_s: seconds past 12:00 that a watch shows (default 10:10:30).
        mirror_dial: the frame will be shown mirrored: the hands turn the other way so the time reads right.
        A necklace's anchor is the torso frame (tryon.anchors.neck) with fit_m {"scale": the body's}; its
        pendant turns by swing_rad (tryon.physics.swing_matrix) about where it hangs. A drop earring's
        hanging parts hang along gravity, then turn by swing_rad about the piercing.
        """
        if self.is_necklace:
            return self.necklace_parts(cam_T_anchor, (fit_m or {}).get("scale", 1.0), swing_rad)
        swing = hang_rotation(cam_T_anchor) @ swing_matrix(*swing_rad) if self.hang_length_m > 0 else None
        stretch, lift = self._fit(fit_m or {})
        out = []
        for p in self.parts:
            m = p.item_T_part
            if p.hangs and swing is not None:
                m = swing @ m
            elif p.role == "band":
                m = stretch @ m
            elif p.role:
                m = lift @ m
                if p.role.startswith("hand_"):
                    m = m @ _hand_turn(p.role, DIAL_TIME_S if dial_time_s is None else dial_time_s, mirror_dial)
            out.append(cam_T_anchor @ m)
        return out

    def necklace_parts(self, cam_T_torso: np.ndarray, scale: float = 1.0, swing_rad: tuple[float, float] = (0.0, 0.0),
                       whole_loop: bool = False) -> list[np.ndarray]:
        """A necklace's part poses when the torso frame is at cam_T_torso. Units deeper than the neck's axis
        are behind the neck (its occluder hides them) and left out, unless whole_loop (a turntable)."""
        n = self.nominal_mm
        thickness = n["thickness"] * 1e-3
        curve = drape_for(n["length"] * 1e-3, self.pendant_m, scale)
        behind = None if whole_loop else BODY.half_depth * scale
        units = cam_T_torso @ curve.frames(n["pitch"] * 1e-3, thickness, behind_z=behind)
        rest = pendant_rest(curve)
        rest[:3, 3] += PENDANT_BACK_M * rest[:3, 2]  # the pendant's back on the skin
        cam_T_pendant = cam_T_torso @ rest @ swing_matrix(*swing_rad)
        return [units @ p.item_T_part if p.role == "link" else cam_T_pendant @ p.item_T_part for p in self.parts]

    def _fit(self, fit_m: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(stretch for band parts, lift for parts on top), both (4, 4), from the measured vs nominal size."""
        stretch, lift = np.eye(4), np.eye(4)
        n = self.nominal_mm
        if "diameter" in fit_m and n.get("inner_diameter"):
            d0 = n["inner_diameter"] * 1e-3
            s = fit_m["diameter"] / d0
            stretch[0, 0] = stretch[2, 2] = s
            lift[2, 3] = 0.5 * (s - 1.0) * d0
        elif "width" in fit_m and n.get("inner_width") and n.get("inner_thickness"):
            t0 = n["inner_thickness"] * 1e-3
            stretch[0, 0] = fit_m["width"] / (n["inner_width"] * 1e-3)
            stretch[2, 2] = fit_m.get("thickness", t0) / t0
            lift[2, 3] = 0.5 * (stretch[2, 2] - 1.0) * t0
        return stretch, lift

    @property
    def length_m(self) -> float:
        """The item's extent along its anchor's y (a ring's band width): what it takes up in a stack.
        Necklaces take none: each drapes by its own length, so several layer without stacking."""
        return 0.0 if self.is_necklace else float(self._span[1])

    def corners_cam(self, cam_T_parts: list[np.ndarray]) -> np.ndarray:
        """(8 * poses, 3) bounding-box corners of every part at each of its poses, in the camera frame."""
        return np.vstack([(c @ np.swapaxes(m, -1, -2)).reshape(-1, 4)[:, :3]
                          for c, m in zip(self._corners, cam_T_parts, strict=True)])


def _part(scene: trimesh.Scene, node: str) -> Part:
    transform, geom_name = scene.graph[node]
    mesh = scene.geometry[geom_name]
    material = _material(mesh)
    path = [str(n) for n in scene.graph.transforms.shortest_path(scene.graph.base_frame, node)]
    hangs = any(n.startswith("drop") for n in path)
    role = next((r for r in sorted(ROLES, key=len, reverse=True) if str(node).startswith(r)), "")
    # The builders store the normals they mean (flat facets on gems, a sharp knife edge, smooth wire);
    # a model without them gets trimesh's smooth vertex normals.
    positions = mesh.vertices[mesh.faces].reshape(-1, 3)
    normals = mesh.vertex_normals[mesh.faces].reshape(-1, 3)
    vertices = np.ascontiguousarray(np.hstack([positions, normals]), np.float32)
    if not np.isfinite(vertices).all():
        raise ValueError(f"part {node} has non-finite vertices")
    return Part(vertices, material, np.asarray(transform, np.float64), hangs, role, _tint(mesh, str(node)))


TINT_ATTRIBUTE = "_TINT"  # glTF's rule for an application's own vertex attribute: a leading underscore


def _tint(mesh: trimesh.Trimesh, node: str) -> np.ndarray | None:
    """The mesh's per-vertex tint (its "_TINT" attribute: linear RGB, 0..1), 3 per triangle; None where it has
    none. On a non-metal it multiplies the base colour, as glTF's COLOR_0 does; on a metal it darkens the whole
    shading (a cavity map: engraving, grain), which keeps the alloy's hue."""
    tint = mesh.vertex_attributes.get(TINT_ATTRIBUTE)
    if tint is None:
        return None
    tint = np.asarray(tint, np.float32)
    if tint.shape != (len(mesh.vertices), 3) or not np.isfinite(tint).all() or tint.min() < 0.0 or tint.max() > 1.0:
        raise ValueError(f"part {node}: its {TINT_ATTRIBUTE} must be one RGB in 0..1 per vertex")
    return np.ascontiguousarray(tint[mesh.faces].reshape(-1, 3))


def _volume(part: Part) -> float:
    """The enclosed volume of a part's triangles (m^3, its own frame; exact for a closed surface)."""
    v = part.vertices[:, :3].astype(np.float64).reshape(-1, 3, 3)
    return abs(float(np.einsum("ij,ij->i", v[:, 0], np.cross(v[:, 1], v[:, 2])).sum()) / 6.0)


def _material(mesh: trimesh.Trimesh) -> Material:
    """Our spec for the material's name where it names a known metal or gem, else its glTF factors."""
    visual_material = getattr(mesh.visual, "material", None)
    name = getattr(visual_material, "name", None) or ""
    try:
        spec = material_spec(name)
    except InputError:  # an imported model's own material
        spec = None
    if isinstance(spec, GemSpec):
        return Material(spec.base_color, 0.0, spec.roughness, spec.ior, spec.dispersion)
    if spec is not None:
        return Material(spec.base_color, spec.metallic, spec.roughness, pearl=spec.name.endswith("pearl"))
    factor = getattr(visual_material, "baseColorFactor", None)  # trimesh: a uint8 RGBA array, whose truth is an error
    color = np.asarray((200, 200, 200, 255) if factor is None else factor, np.float64)
    color = color[:3] / 255.0 if color.max() > 1.0 else color[:3]
    metallic = getattr(visual_material, "metallicFactor", None)
    roughness = getattr(visual_material, "roughnessFactor", None)
    rgb = (float(color[0]), float(color[1]), float(color[2]))
    return Material(rgb, float(1.0 if metallic is None else metallic), float(0.3 if roughness is None else roughness))


def _hand_turn(role: str, t_s: float, mirror: bool) -> np.ndarray:
    """A watch hand's turn about its dial's z (clockwise seen from +z: negative angles) for the time t_s."""
    period = {"hand_hour": 12 * 3600.0, "hand_minute": 3600.0, "hand_second": 60.0}[role]
    angle = -2.0 * np.pi * ((t_s % period) / period)
    if role == "hand_second":
        angle = -2.0 * np.pi * (int(t_s % period) / period)  # a quartz second hand ticks
    return trimesh.transformations.rotation_matrix(-angle if mirror else angle, [0.0, 0.0, 1.0])


@dataclass(frozen=True)
class Placement:
    """Items posed for one frame at one site: what the renderer draws in one region."""

    site: str
    items: tuple[tuple[ItemModel, list[np.ndarray]], ...]  # each model with its parts' camera poses
    visible: float


def item_model(catalog: Catalog, item: Item | str) -> ItemModel:
    """A catalog item as draw-ready geometry, with the sizes it is fitted by."""
    item = catalog.get(item) if isinstance(item, str) else item
    return ItemModel(item.id, catalog.load_scene(item), catalog.nominal_sizes(item))


def place(worn: dict[str, list[ItemModel]], anchors: tuple[AnchorPose, ...], dial_time_s: float | None = None,
          mirror_dial: bool = False) -> list[Placement]:
    """Pose what is worn at each anchor. Several items at one site (rings stacked on a finger, a watch and a
    bracelet) sit side by side along the anchor's y, the stack centred on the site."""
    out = []
    for a in anchors:
        models = worn.get(a.site) or []
        if not models or a.visible <= 0.004:
            continue
        lengths = [m.length_m for m in models] if len(models) > 1 else [0.0]
        offset = -0.5 * sum(lengths)
        items = []
        for model, length in zip(models, lengths, strict=False):
            shift = np.eye(4)
            shift[1, 3] = offset + 0.5 * length
            offset += length
            items.append((model, model.cam_T_parts(a.cam_T_anchor @ shift, a.fit_m, dial_time_s, mirror_dial,
                                                   a.swing_rad)))
        out.append(Placement(a.site, tuple(items), a.visible))
    return out

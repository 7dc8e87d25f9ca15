"""Jewelry items as draw-ready geometry, and where each worn item sits in the camera frame.

This module knows nothing about GL: an `ItemModel` is plain numpy arrays and material numbers, so loading
and checking an item needs no context, and one model can be drawn by several renderers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from tryon.errors import AssetError, InputError
from tryon.jewelry.materials import GemSpec, material_spec

GRAVITY_CAM = np.array([0.0, 1.0, 0.0])  # "down" in an upright camera's frame (OpenCV: y down)


@dataclass(frozen=True)
class Material:
    base_color: tuple[float, float, float]  # linear RGB: F0 for metals, body colour for gems
    metallic: float
    roughness: float
    ior: float = 0.0  # > 0 marks a faceted gem
    dispersion: float = 0.0


@dataclass(frozen=True)
class Part:
    vertices: np.ndarray  # (N, 6) float32: position (m) and unit normal, in the part frame, 3 per triangle
    material: Material
    item_T_part: np.ndarray  # (4, 4)
    hangs: bool  # turns about the piercing to hang along gravity

    @property
    def corners(self) -> np.ndarray:
        """(8, 3) corners of the part's bounding box, in its own frame."""
        lo, hi = self.vertices[:, :3].min(axis=0), self.vertices[:, :3].max(axis=0)
        return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


class ItemModel:
    """One jewelry item as draw-ready parts, anchored at the item origin (the piercing)."""

    def __init__(self, item_id: str, scene: trimesh.Scene) -> None:
        self.item_id = item_id
        try:
            self.parts = tuple(_part(scene, node) for node in scene.graph.nodes_geometry)
        except (KeyError, ValueError, TypeError, AttributeError, IndexError) as e:
            raise AssetError(f"item {item_id}: cannot convert its model for rendering: {e}") from e
        if not self.parts:
            raise AssetError(f"item {item_id}: its model has no geometry")
        self._corners = [np.hstack([p.corners, np.ones((8, 1))]) for p in self.parts]

    def cam_T_parts(self, cam_T_anchor: np.ndarray) -> list[np.ndarray]:
        """Each part's pose in the camera frame when the item's anchor is at `cam_T_anchor`."""
        swing = hang_rotation(cam_T_anchor)
        return [cam_T_anchor @ (swing @ p.item_T_part if p.hangs else p.item_T_part) for p in self.parts]

    def corners_cam(self, cam_T_parts: list[np.ndarray]) -> np.ndarray:
        """(8 * parts, 3) bounding-box corners of every part, posed, in the camera frame."""
        return np.vstack([(c @ m.T)[:, :3] for c, m in zip(self._corners, cam_T_parts, strict=True)])


def _part(scene: trimesh.Scene, node: str) -> Part:
    transform, geom_name = scene.graph[node]
    mesh = scene.geometry[geom_name]
    material = _material(mesh)
    hangs = any(str(n).startswith("drop") for n in scene.graph.transforms.shortest_path(scene.graph.base_frame, node))
    # The builders store the normals they mean (flat facets on gems, a sharp knife edge, smooth wire);
    # a model without them gets trimesh's smooth vertex normals.
    positions = mesh.vertices[mesh.faces].reshape(-1, 3)
    normals = mesh.vertex_normals[mesh.faces].reshape(-1, 3)
    vertices = np.ascontiguousarray(np.hstack([positions, normals]), np.float32)
    if not np.isfinite(vertices).all():
        raise ValueError(f"part {node} has non-finite vertices")
    return Part(vertices, material, np.asarray(transform, np.float64), hangs)


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
        return Material(spec.base_color, spec.metallic, spec.roughness)
    color = np.asarray(getattr(visual_material, "baseColorFactor", None) or (200, 200, 200, 255), np.float64)
    color = color[:3] / 255.0 if color.max() > 1.0 else color[:3]
    metallic = getattr(visual_material, "metallicFactor", None)
    roughness = getattr(visual_material, "roughnessFactor", None)
    return Material(tuple(float(c) for c in color), float(1.0 if metallic is None else metallic),
                    float(0.3 if roughness is None else roughness))


def hang_rotation(cam_T_anchor: np.ndarray) -> np.ndarray:
    """(4, 4) rotation about the pivot (anchor origin) that turns the anchor's -y onto gravity."""
    down_anchor = cam_T_anchor[:3, :3].T @ GRAVITY_CAM
    return _rotation_between(np.array([0.0, -1.0, 0.0]), down_anchor)


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    m = np.eye(4)
    if c < -0.999999:  # opposite: half a turn about any perpendicular axis
        m[:3, :3] = trimesh.transformations.rotation_matrix(np.pi, [0, 0, 1])[:3, :3]
        return m
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    m[:3, :3] = np.eye(3) + vx + vx @ vx / (1.0 + c)
    return m

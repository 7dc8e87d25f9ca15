"""The pyrender scene: built once per set of worn items, re-posed every frame with `set_pose`."""

from __future__ import annotations

import numpy as np
import pyrender
import trimesh

from tryon.errors import AssetError

# OpenCV camera frame (x right, y down, z forward) -> OpenGL camera frame (y up, z backward).
CV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])
GRAVITY_CAM = np.array([0.0, 1.0, 0.0])  # "down" in an upright camera's frame


def _light_pose(direction_cam: np.ndarray) -> np.ndarray:
    """A pyrender light shines along its node's -z; point it along `direction_cam` (OpenCV frame)."""
    d = np.asarray(direction_cam, np.float64)
    z = -d / np.linalg.norm(d)
    x = np.cross([0.0, -1.0, 0.0], z)
    if np.linalg.norm(x) < 1e-6:
        x = np.array([1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    m = np.eye(4)
    m[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    return m


# Studio-like lighting fixed to the camera: key from upper left, fill from the right, rim from behind.
LIGHTS = (
    (np.array([0.6, 0.8, 1.0]), 3.0),
    (np.array([-1.0, 0.2, 0.6]), 1.5),
    (np.array([0.2, 0.6, -1.0]), 2.0),
    (np.array([-0.3, -1.0, 0.3]), 0.8),
)


class ItemModel:
    """One jewelry item as pyrender meshes: rigid parts and the parts that hang from the pivot.

    parts : list of (geometry, (4, 4) transform in the item frame, hangs: bool). Each site that wears
    the item gets its own GPU meshes (pyrender's visibility flag is per mesh, and sites draw apart).
    """

    def __init__(self, item_id: str, scene: trimesh.Scene) -> None:
        self.item_id = item_id
        self.parts: list[tuple[trimesh.Trimesh, np.ndarray, bool]] = []
        try:
            for node in scene.graph.nodes_geometry:
                transform, geom_name = scene.graph[node]
                geom = scene.geometry[geom_name]
                hangs = any(n.startswith("drop") for n in _ancestors(scene, node))
                pyrender.Mesh.from_trimesh(geom, smooth=False)  # fail here, on load, not when worn
                self.parts.append((geom, transform, hangs))
        except (KeyError, ValueError, TypeError, AttributeError) as e:
            raise AssetError(f"item {item_id}: cannot convert its model for rendering: {e}") from e
        bounds = scene.bounds if scene.geometry else np.zeros((2, 3))
        self.radius_m = float(np.max(np.linalg.norm(np.asarray(bounds), axis=1)))


def _ancestors(scene: trimesh.Scene, node: str) -> list[str]:
    path = scene.graph.transforms.shortest_path(scene.graph.base_frame, node)
    return [str(n) for n in path]


class JewelryScene:
    """Items worn at sites. `pose(site, cam_T_anchor)` moves a site's item; hanging parts turn about the
    pivot so they hang along gravity."""

    def __init__(self) -> None:
        self.scene = pyrender.Scene(bg_color=np.zeros(4), ambient_light=np.full(3, 0.35))
        for direction, intensity in LIGHTS:
            self.scene.add(pyrender.DirectionalLight(color=np.ones(3), intensity=intensity),
                           pose=CV_TO_GL @ _light_pose(direction))
        self.camera_node: pyrender.Node | None = None
        self._sites: dict[str, tuple[ItemModel, list[tuple[pyrender.Node, np.ndarray, bool]]]] = {}

    def wear(self, site: str, model: ItemModel | None) -> None:
        """Put `model` on `site` (None takes off whatever is there)."""
        old = self._sites.pop(site, None)
        if old is not None:
            for node, _, _ in old[1]:
                self.scene.remove_node(node)
        if model is None:
            return
        nodes = [
            (self.scene.add(pyrender.Mesh.from_trimesh(geom, smooth=False), pose=np.eye(4)), t, hangs)
            for geom, t, hangs in model.parts
        ]
        for node, _, _ in nodes:
            node.mesh.is_visible = False
        self._sites[site] = (model, nodes)

    def worn(self, site: str) -> ItemModel | None:
        entry = self._sites.get(site)
        return entry[0] if entry else None

    def show_only(self, site: str | None) -> None:
        for s, (_, nodes) in self._sites.items():
            for node, _, _ in nodes:
                node.mesh.is_visible = s == site

    def pose(self, site: str, cam_T_anchor: np.ndarray) -> None:
        """cam_T_anchor : (4, 4) OpenCV camera-frame metres. The world frame is the camera frame."""
        entry = self._sites.get(site)
        if entry is None:
            return
        swing = hang_rotation(cam_T_anchor)
        for node, item_T_part, hangs in entry[1]:
            m = cam_T_anchor @ (swing @ item_T_part if hangs else item_T_part)
            self.scene.set_pose(node, m)


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

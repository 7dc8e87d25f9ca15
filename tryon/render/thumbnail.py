"""Product thumbnails: one item alone, three-quarter view, framed to fill a square, transparent background."""

from __future__ import annotations

import math

import numpy as np
import trimesh

from tryon.render.renderer import Renderer, Roi
from tryon.render.scene import ItemModel
from tryon.types import Intrinsics

THUMB_HFOV_DEG = 20.0
THUMB_YAW_DEG = 55.0  # from straight out of the ear (+x) toward the face's front: studs and hoops both read
THUMB_MARGIN = 1.08  # rings, bracelets, watches: the item spans 1 / 1.08 of the picture's wider way


def _view(toward: tuple[float, float, float], up: tuple[float, float, float]) -> np.ndarray:
    """cam_R_item (3, 3) that puts the item direction ``toward`` toward the camera and ``up`` up on screen
    (both in the item's frame; ``up`` need not be orthogonal to ``toward``). Camera frame: OpenCV."""
    back = np.asarray(toward, float) / np.linalg.norm(toward)
    u = np.asarray(up, float) - (np.asarray(up, float) @ back) * back
    y_cam = -u / np.linalg.norm(u)
    z_cam = -back
    return np.stack([np.cross(y_cam, z_cam), y_cam, z_cam])  # rows: the camera's axes in item coordinates


def _spherical(azimuth_deg: float, elevation_deg: float, right: np.ndarray, front: np.ndarray,
               top: np.ndarray) -> tuple[float, float, float]:
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    d = math.cos(el) * (math.sin(az) * right + math.cos(az) * front) + math.sin(el) * top
    return float(d[0]), float(d[1]), float(d[2])


_X, _Y, _Z = np.eye(3)
# Per kind (frames: tryon.jewelry.rings and tryon.jewelry.wrist): which item direction faces the camera and
# which is up on screen.
VIEWS = {
    # Upright, stone on top, from in front of the hole (-y), a little to the side and from above: the
    # band's hole opens as an ellipse and the table shows.
    "ring": _view(_spherical(30.0, 28.0, _X, -_Y, _Z), (0.0, 0.0, 1.0)),
    # Dial almost face-on, 12 o'clock (-x) up, tilted toward 6 o'clock and the crown (+y): the case's
    # flank, the crown and the strap leaving the lugs read.
    "watch": _view((0.25, 0.25, 1.0), (-1.0, 0.0, 0.0)),
    # Axis (y) upright, seen from 45 degrees above the bracelet's plane, the back of the wrist in front.
    "bracelet": _view(_spherical(25.0, 45.0, _X, _Z, _Y), (0.0, 1.0, 0.0)),
}


def _posed_vertices(model: ItemModel, cam_T_parts: list[np.ndarray]) -> np.ndarray:
    """(n, 3) every part's vertices at each of its poses (a necklace's links at every unit)."""
    out = []
    for p, m in zip(model.parts, cam_T_parts, strict=True):
        for pose in m.reshape(-1, 4, 4):
            out.append(p.vertices[:, :3] @ pose[:3, :3].T + pose[:3, 3])
    return np.vstack(out)


def _fit(points: np.ndarray) -> np.ndarray:
    """(3,) the shift that puts these camera-oriented points in front of the camera, filling 1/THUMB_MARGIN
    of the picture's wider way."""
    centre = 0.5 * (points.min(axis=0) + points.max(axis=0))
    rel = points - centre
    reach = math.tan(math.radians(THUMB_HFOV_DEG) / 2.0) / THUMB_MARGIN
    distance = float(np.max(np.abs(rel[:, :2]).max(axis=1) / reach - rel[:, 2]))
    return np.array([0.0, 0.0, distance]) - centre


def thumbnail_pose(model: ItemModel, size_px: int, kind: str = "earring") -> tuple[Intrinsics, np.ndarray]:
    """Intrinsics and cam_T_item that fit the whole item (hanging parts hanging) into a square, seen from
    the three-quarter view of its ``kind`` (earring, ring, bracelet or watch; other kinds as earrings).
    Necklaces and pendants: draped on a nominal neck (tryon.anchors.drape) seen from the front, a little
    from above; pendants framed on the pendant and the chain's lower part."""
    intr = Intrinsics.from_hfov(size_px, size_px, THUMB_HFOV_DEG)
    cam_T_item = np.eye(4)
    if kind in ("necklace", "pendant"):
        cam_T_item[:3, :3] = trimesh.transformations.rotation_matrix(math.radians(-20.0), [1, 0, 0])[:3, :3]
        points = _posed_vertices(model, model.cam_T_parts(cam_T_item))
        if kind == "pendant":  # the pendant and what of the chain hangs within twice its height above it
            hung = [p.vertices[:, :3] @ m[:3, :3].T + m[:3, 3]
                    for p, m in zip(model.parts, model.cam_T_parts(cam_T_item), strict=True) if p.role == "pendant"]
            low = np.vstack(hung)
            top = low[:, 1].min() - (low[:, 1].max() - low[:, 1].min())
            points = points[points[:, 1] >= top]
        cam_T_item[:3, 3] = _fit(points)
        return intr, cam_T_item
    if kind in VIEWS:
        # Framed on the vertices, not on a sphere round the parts' boxes: a bracelet's box is mostly air.
        cam_T_item[:3, :3] = VIEWS[kind]
        cam_T_item[:3, 3] = _fit(_posed_vertices(model, model.cam_T_parts(cam_T_item)))
        return intr, cam_T_item
    # Earrings: the item's +x toward the camera, +y up, then turned about the vertical.
    facing = np.array([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]]).T
    yaw = math.radians(THUMB_YAW_DEG)
    turn = np.array([[math.cos(yaw), 0.0, math.sin(yaw)], [0.0, 1.0, 0.0], [-math.sin(yaw), 0.0, math.cos(yaw)]])
    cam_T_item[:3, :3] = turn @ facing
    corners = model.corners_cam(model.cam_T_parts(cam_T_item))  # posed at the camera centre
    centre = 0.5 * (corners.min(axis=0) + corners.max(axis=0))
    radius = float(np.max(np.linalg.norm(corners - centre, axis=1)))
    distance = 1.05 * radius / math.sin(math.radians(THUMB_HFOV_DEG) / 2.0)
    cam_T_item[:3, 3] = np.array([0.0, 0.0, distance]) - centre
    return intr, cam_T_item


def render_thumbnail(renderer: Renderer, model: ItemModel, size_px: int = 192, kind: str = "earring") -> np.ndarray:
    """(size, size, 4) uint8 straight-alpha RGBA, seen as :func:`thumbnail_pose` poses ``kind``."""
    intr, cam_T_item = thumbnail_pose(model, size_px, kind)
    rgba = renderer.draw(Roi(0, 0, size_px, size_px), intr, [(model, model.cam_T_parts(cam_T_item))])
    alpha = rgba[..., 3:4]
    rgb = np.where(alpha > 1e-4, rgba[..., :3] / np.maximum(alpha, 1e-4), 0.0)
    return np.clip(np.concatenate([rgb, alpha], axis=2) * 255.0 + 0.5, 0, 255).astype(np.uint8)

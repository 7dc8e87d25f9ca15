"""Product thumbnails: one item alone, three-quarter view, framed to fill a square, transparent background."""

from __future__ import annotations

import math

import numpy as np

from tryon.render.renderer import Renderer, Roi
from tryon.render.scene import ItemModel
from tryon.types import Intrinsics

THUMB_HFOV_DEG = 20.0
THUMB_YAW_DEG = 55.0  # from straight out of the ear (+x) toward the face's front: studs and hoops both read


def thumbnail_pose(model: ItemModel, size_px: int) -> tuple[Intrinsics, np.ndarray]:
    """Intrinsics and cam_T_item that fit the whole item (hanging parts hanging) into a square."""
    intr = Intrinsics.from_hfov(size_px, size_px, THUMB_HFOV_DEG)
    # The item's +x toward the camera, +y up, then turned about the vertical.
    facing = np.array([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]]).T
    yaw = math.radians(THUMB_YAW_DEG)
    turn = np.array([[math.cos(yaw), 0.0, math.sin(yaw)], [0.0, 1.0, 0.0], [-math.sin(yaw), 0.0, math.cos(yaw)]])
    cam_T_item = np.eye(4)
    cam_T_item[:3, :3] = turn @ facing
    corners = model.corners_cam(model.cam_T_parts(cam_T_item))  # posed at the camera centre
    centre = 0.5 * (corners.min(axis=0) + corners.max(axis=0))
    radius = float(np.max(np.linalg.norm(corners - centre, axis=1)))
    distance = 1.05 * radius / math.sin(math.radians(THUMB_HFOV_DEG) / 2.0)
    cam_T_item[:3, 3] = np.array([0.0, 0.0, distance]) - centre
    return intr, cam_T_item


def render_thumbnail(renderer: Renderer, model: ItemModel, size_px: int = 192) -> np.ndarray:
    """(size, size, 4) uint8 straight-alpha RGBA."""
    intr, cam_T_item = thumbnail_pose(model, size_px)
    rgba = renderer.draw(Roi(0, 0, size_px, size_px), intr, [(model, model.cam_T_parts(cam_T_item))])
    alpha = rgba[..., 3:4]
    rgb = np.where(alpha > 1e-4, rgba[..., :3] / np.maximum(alpha, 1e-4), 0.0)
    return np.clip(np.concatenate([rgb, alpha], axis=2) * 255.0 + 0.5, 0, 255).astype(np.uint8)

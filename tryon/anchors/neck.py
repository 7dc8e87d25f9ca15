"""The neck anchor: where a necklace sits, from MediaPipe pose (shoulders) and the head's metric depth.

Torso frame (the anchor's frame; the drape in tryon.anchors.drape is built in it), metres:
    origin  the sternal notch: the front of the neck's base, between the collarbones;
    +x      along the shoulder line, from the person's right shoulder to their left (image right for a
            person facing an unmirrored camera);
    +y      down the torso, square to x and to the camera's x-z plane's up (the torso is taken upright:
            its roll follows the shoulders, its pitch is the camera's);
    +z      into the body (away from the camera for a person facing it).
It follows the torso, not the head: turning or nodding the head does not move it.

The body round the neck's base is a nominal adult's (tryon.body.NeckBody), scaled by the shoulders' measured width.
Depth comes from the face when it is seen (the iris fixes the head's distance; the shoulders are about as
far away), else from MediaPipe's metric body estimate of the shoulders' width.
"""

from __future__ import annotations

import math

import numpy as np

from tryon.body import BODY
from tryon.types import AnchorPose, BodyLandmarks, Capsule, HeadPose, Intrinsics

SITE = "neck"
SHOULDERS = (12, 11)  # pose landmarks: the person's right and left shoulder joints
NOMINAL_SHOULDER_WIDTH_M = 0.30  # between MediaPipe's shoulder points: 0.29-0.31 m on photos with face depth
SCALE_RANGE = (0.8, 1.25)
# Where the notch sits relative to the shoulder points' midpoint, torso frame: above them by NOTCH_UP of
# their span (a prior, from the red-haired woman's photo), and how far in front of the shoulder joints
# the front of the neck's base is. Where MediaPipe puts the shoulder points varies with posture and the
# camera's height (0.03 to 0.15 of the span on the photos here); the chin is a second cue: the notch is
# CHIN_TO_NOTCH face widths below it (0.33 and 0.36 on the two photos where the notch can be seen).
NOTCH_UP = 0.15
CHIN_TO_NOTCH = 0.35
NOTCH_UP_RANGE = (0.0, 0.3)
NOTCH_FORWARD_M = 0.04
SHOULDERS_BEHIND_HEAD_M = 0.02  # shoulder joints vs the head frame's origin (in front of the ears), depth
MIN_VISIBILITY = 0.5


# The neck's occluder leans forward a little as it rises (the neck does, more, above where chains lie): a
# choker on the front of the neck's base must stay in front of it.
OCCLUDER_TILT_DEG = 5.0


def notch_up_from_chin(body: BodyLandmarks, chin_px: np.ndarray, face_width_px: float) -> float | None:
    """The notch's height above the shoulder points (a fraction of their span) that the chin implies:
    CHIN_TO_NOTCH face widths below the chin, square to the shoulder line. None without both shoulders."""
    if not body.seen(*SHOULDERS, at_least=MIN_VISIBILITY):
        return None
    right, left = body.points_px[SHOULDERS[0]], body.points_px[SHOULDERS[1]]
    across = left - right
    span = float(np.linalg.norm(across))
    if span < 4.0:
        return None
    down = np.array([-across[1], across[0]]) / span
    notch = np.asarray(chin_px, np.float64) + CHIN_TO_NOTCH * face_width_px * down
    return float(np.clip((0.5 * (left + right) - notch) @ down / span, *NOTCH_UP_RANGE))


def torso_frame(body: BodyLandmarks, intr: Intrinsics, head: HeadPose | None = None,
                notch_up: float = NOTCH_UP) -> tuple[np.ndarray, float] | None:
    """(cam_T_torso (4, 4), scale) from the shoulders, or None when they are not both seen. notch_up: the
    notch's height above the shoulder points as a fraction of their span (see notch_up_from_chin).

    Depth: the head's, when the face is tracked, else from MediaPipe's metric shoulder width. The shoulder
    line's turn toward or away from the camera (the torso's yaw) comes from MediaPipe's metric depths.
    """
    if not body.seen(*SHOULDERS, at_least=MIN_VISIBILITY):
        return None
    right_px, left_px = body.points_px[SHOULDERS[0]], body.points_px[SHOULDERS[1]]
    world = body.world_m[SHOULDERS[1]] - body.world_m[SHOULDERS[0]]
    span_px = float(np.linalg.norm(left_px - right_px))
    world_xy = float(np.linalg.norm(world[:2]))
    if span_px < 4.0 or world_xy < 1e-3:
        return None
    if head is not None:
        depth = float(head.cam_T_head[2, 3]) + SHOULDERS_BEHIND_HEAD_M
    else:
        depth = intr.fx * world_xy / span_px
    mid_px = 0.5 * (left_px + right_px)
    mid = np.array([(mid_px[0] - intr.cx) / intr.fx, (mid_px[1] - intr.cy) / intr.fy, 1.0]) * depth
    metres_per_px = depth / intr.fx
    across = np.array([*(left_px - right_px) * metres_per_px, world[2] * span_px * metres_per_px / world_xy])
    width = float(np.linalg.norm(across))
    x = across / width
    z = np.cross(x, [0.0, 1.0, 0.0])
    z /= np.linalg.norm(z)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, :3] = np.stack([x, y, z], axis=1)
    m[:3, 3] = mid + m[:3, :3] @ np.array([0.0, -notch_up * width, -NOTCH_FORWARD_M * width / NOMINAL_SHOULDER_WIDTH_M])
    scale = float(np.clip(width / NOMINAL_SHOULDER_WIDTH_M, *SCALE_RANGE))
    return m, scale


def neck_anchor(cam_T_torso: np.ndarray, scale: float, intr: Intrinsics, visible: float = 1.0) -> AnchorPose:
    """The "neck" anchor at the notch; fit_m carries the body's scale (the nominal NeckBody times it)."""
    return AnchorPose(SITE, cam_T_torso, visible, intr.project(cam_T_torso[:3, 3][None])[0], {"scale": scale})


def neck_occluders(cam_T_torso: np.ndarray, scale: float) -> tuple[Capsule, Capsule]:
    """Depth-only capsules for the neck, from inside the torso up to the jaw, leaning forward: the back
    of a chain passes behind them, its front (on the neck's front and the chest) stays in front. Two
    capsules side by side make the neck's cross-section wider than deep, a little inside NeckBody's."""
    b = BODY.scaled(scale)
    tilt = math.radians(OCCLUDER_TILT_DEG)
    radius = 0.9 * b.half_depth
    offset = b.half_width - b.half_depth
    up = 0.13 * scale * np.array([0.0, -math.cos(tilt), -math.sin(tilt)])
    r, t = cam_T_torso[:3, :3], cam_T_torso[:3, 3]
    out = []
    for side in (-1.0, 1.0):
        base = np.array([side * offset, 0.01 * scale, b.half_depth])  # a little below the notch
        out.append(Capsule(r @ base + t, r @ (base + up) + t, radius, radius * 0.95))
    return out[0], out[1]

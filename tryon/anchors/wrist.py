"""Wrist anchors for bracelets and watches: a pose on the wrist, its measured width (a circumference), and a
forearm occluder.

The wrist frame: origin on the forearm's axis WATCH_BACK_M up the arm from landmark 0 (where a watch sits,
just above the wrist bone), +y along the forearm toward the hand, +z out of the back of the wrist, +x = y x z.
Where the arm leaves the picture close to the wrist (a hand photographed to the wrist), the origin slides
toward the wrist joint, at most to landmark 0, so that a piece around the wrist is not cut off by the edge:
there is no arm to wear it on past the edge, and a loose bangle rests at the joint anyway.
On the right wrist the frame is turned half a turn about z, so a watch reads the right way up there too
(its crown then faces the elbow, as a right-wrist watch is worn).
The forearm's direction comes from the hand (wrist to the middle of the index and little knuckles) or, when
the pose tracker saw the elbow, from elbow to wrist in the image, keeping the hand's depth slope.
"""

from __future__ import annotations

import math

import numpy as np

from tryon.anchors.fingers import HandPose, ellipse_perimeter, frame_from, measure_width_px
from tryon.types import AnchorPose, Capsule, HandLandmarks, Intrinsics, Size

WATCH_BACK_M = 0.012
IN_VIEW_M = 0.026  # the origin stays this far (a piece's front, over the wrist) inside the picture's edge
PRIOR_WIDTH_MM = 58.0  # adult wrist breadth (ANSUR II: women ~54, men ~62)
THICKNESS_TO_WIDTH = 0.72
OCCLUDER_INSET = 0.92


def forearm_axis(pose: HandPose, elbow_px: np.ndarray | None, hand: HandLandmarks, intr: Intrinsics) -> np.ndarray:
    """Unit vector along the forearm toward the hand, camera frame."""
    p = pose.points_m
    y = 0.5 * (p[5] + p[17]) - p[0]
    if elbow_px is not None:
        d2 = hand.points_px[0, :2].astype(np.float64) - elbow_px
        if float(np.linalg.norm(d2)) > 1e-3:
            # The image direction from the elbow; the component toward the camera from the hand.
            z = float(p[0, 2])
            d2 = d2 / np.linalg.norm(d2)
            lateral = np.array([d2[0] * z / intr.fx, d2[1] * z / intr.fy, 0.0])
            lateral *= float(np.linalg.norm(y[:2])) / max(float(np.linalg.norm(lateral)), 1e-12)
            y = np.array([lateral[0], lateral[1], y[2]])
    return y / max(float(np.linalg.norm(y)), 1e-12)


def wrist_frame(pose: HandPose, axis: np.ndarray, intr: Intrinsics | None = None) -> np.ndarray:
    """(4, 4) cam_T_anchor of the wrist (see the module's docstring); with `intr`, kept in view."""
    back = WATCH_BACK_M
    if intr is not None:
        p0 = pose.points_m[0]
        for k in range(6, -1, -1):  # from the watch's place toward the joint, the first one in view
            back = WATCH_BACK_M * k / 6
            if _inside(intr, p0 - back * axis, IN_VIEW_M):
                break
    m = frame_from(pose.points_m[0] - back * axis, axis, pose.dorsal_m)
    if pose.side == "right":
        m[:3, :2] *= -1.0  # half a turn about z
    return m


def _inside(intr: Intrinsics, point_m: np.ndarray, margin_m: float) -> bool:
    """Whether a point (camera metres) projects at least margin_m (at its depth) inside the picture."""
    xy = intr.project(point_m[None])[0]
    pad = margin_m * intr.fx / max(float(point_m[2]), 1e-6)
    return bool(pad <= xy[0] <= intr.width_px - 1 - pad and pad <= xy[1] <= intr.height_px - 1 - pad)


def wrist_size(gray: np.ndarray, hand: HandLandmarks, frame: np.ndarray, intr: Intrinsics,
               scale_sigma: float) -> tuple[Size, Size]:
    """(width, circumference) of the wrist in mm, measured across the forearm at the watch's place."""
    z = float(frame[2, 3])
    mm_per_px = z / intr.fx * 1e3
    centre = intr.project(frame[:3, 3][None])[0]
    tip = intr.project((frame[:3, 3] + 0.02 * frame[:3, 1])[None])[0]
    found = measure_width_px(gray, centre, tip - centre, PRIOR_WIDTH_MM / mm_per_px, 8.0 / mm_per_px)
    if found is None:
        width, sigma = PRIOR_WIDTH_MM, 0.1 * PRIOR_WIDTH_MM
    else:
        width = found[0] * mm_per_px
        sigma = math.hypot(math.hypot(1.0, found[1]) * mm_per_px, scale_sigma * width)
    circ = ellipse_perimeter(width / 2, THICKNESS_TO_WIDTH * width / 2)
    return Size(round(width, 1), round(sigma, 1)), Size(round(circ, 1), round(sigma * circ / width, 1))


def wrist_anchor(pose: HandPose, frame: np.ndarray, width: Size, intr: Intrinsics) -> AnchorPose:
    w = width.value_mm * 1e-3
    return AnchorPose(f"{pose.side}_wrist", frame, 1.0, intr.project(frame[:3, 3][None])[0],
                      {"width": w, "thickness": THICKNESS_TO_WIDTH * w})


def forearm_occluder(frame: np.ndarray, axis: np.ndarray, width: Size) -> Capsule:
    """From the hand's heel back 15 cm along the forearm (`axis` points to the hand); radius inside the band."""
    r = 0.5e-3 * width.value_mm * THICKNESS_TO_WIDTH * OCCLUDER_INSET
    o = frame[:3, 3]
    return Capsule(o + 0.02 * axis, o - 0.15 * axis, r, 1.1 * r)

"""Ear lobe anchors: where each earring's piercing point is, which way the lobe faces, and whether the
earring should show (the far ear hides as the head turns). Hair over an ear does not hide the ear's earring
as a whole: it hides the pixels of the piece that it covers (tryon.anchors.hair, the frame's covers)."""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from tryon.anchors.face_model import FaceModel
from tryon.filters.hold import Hysteresis
from tryon.tracking import landmarks as lm
from tryon.types import AnchorPose, FaceLandmarks, HeadPose, Intrinsics

SITES = ("left_ear", "right_ear")  # the person's left and right
LOBE_FORWARD_DEG = 60.0  # lobes face out and well forward: front-on hoops look like narrow ellipses
# The far ear hides once the yaw ratio passes HIDE and shows again below SHOW (a photo: the midpoint).
# Measured on the photos in shared/media: both lobes visible at 0.29; the far lobe hidden at 0.37 and
# 0.41 (profiles, where the mesh's ratio saturates) and from 0.44 (three-quarter) up.
FAR_EAR_HIDE = 0.38
FAR_EAR_SHOW = 0.28

# The lobe's image position is regressed on these landmarks around the person's left ear (mirrored for
# the right), relative to LOBE_ORIGIN, in a similarity-invariant way (see lobe_features). Chosen by
# leave-one-photo-out error on assets/annotations/earlobe_truth.json.
LOBE_LANDMARKS = (361, 323, 397, 435, 366, 447)
LOBE_ORIGIN = 323


@functools.lru_cache(maxsize=4)
def lobe_frames(model: FaceModel) -> dict[str, np.ndarray]:
    """Each lobe's anchor frame in the head frame, (4, 4): +x out of the ear, +y up. Read-only."""
    a = math.radians(LOBE_FORWARD_DEG)
    out = {}
    for site, sign, p in (("left_ear", 1.0, model.lobe_left_m), ("right_ear", -1.0, model.lobe_right_m)):
        x = np.array([sign * math.cos(a), 0.0, math.sin(a)])
        y = np.array([0.0, 1.0, 0.0])
        m = np.eye(4)
        m[:3, :3] = np.stack([x, y, np.cross(x, y)], axis=1)
        m[:3, 3] = p
        out[site] = m
    return out


def yaw_ratio(face: FaceLandmarks) -> float:
    """Head turn from the 2D layout: (|nose - 234| - |nose - 454|) / sum. 0 frontal, about 0.5 at three
    quarters, near 1 in profile; positive when the person turns to their left (their left ear goes away).
    It reads the image directly, so it says whether the cheek hides an ear better than a fitted yaw."""
    p = face.points_px[:, :2]
    a = float(np.linalg.norm(p[1] - p[lm.FACE_SIDE_IMAGE_LEFT]))
    b = float(np.linalg.norm(p[1] - p[lm.FACE_SIDE_IMAGE_RIGHT]))
    return (a - b) / max(a + b, 1e-6)


def lobe_features(points_px: np.ndarray, site: str, mirror: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(origin (2,), features (2, 2n)): each landmark's offset from the origin and that offset turned by
    90 degrees (the turn mirrored for the right ear), so lobe = origin + features @ weights is unchanged
    by any shift, rotation and scale of the image, and the two ears mirror each other."""
    def idx(i: int) -> int:
        return i if site == "left_ear" else int(mirror[i])

    sign = 1.0 if site == "left_ear" else -1.0
    p = np.asarray(points_px[:, :2], np.float64)
    p0 = p[idx(LOBE_ORIGIN)]
    cols = []
    for i in LOBE_LANDMARKS:
        d = p[idx(i)] - p0
        cols.append(np.stack([d, sign * np.array([-d[1], d[0]])], axis=1))
    return p0, np.concatenate(cols, axis=1)


def lobe_xy_px(face: FaceLandmarks, site: str, model: FaceModel) -> np.ndarray:
    """Where the lobe's piercing point is in the image, (2,) pixels, from the landmarks around the ear."""
    p0, f = lobe_features(face.points_px, site, model.mirror)
    return p0 + f @ model.lobe_weights


def lobe_in_head(face: FaceLandmarks, head: HeadPose, intrinsics: Intrinsics, site: str,
                 model: FaceModel) -> np.ndarray:
    """The lobe's piercing point in the head frame, (3,) metres (before scale): its image position from
    the landmark regression, its depth from the head model, mapped back through the head pose."""
    frame = lobe_frames(model)[site]
    if model.lobe_weights.size == 0:
        return frame[:3, 3].copy()
    z = float(head.to_camera(frame[:3, 3][None])[0, 2])
    xy = lobe_xy_px(face, site, model)
    p_cam = np.array([(xy[0] - intrinsics.cx) / intrinsics.fx, (xy[1] - intrinsics.cy) / intrinsics.fy, 1.0]) * z
    r, t = head.cam_T_head[:3, :3], head.cam_T_head[:3, 3]
    return (r.T @ (p_cam - t)) / head.scale


def far_ear_signal(face: FaceLandmarks, site: str) -> float:
    """How far the head has turned this ear away from the camera (negative: toward it)."""
    r = yaw_ratio(face)
    return r if site == "left_ear" else -r


def skin_model(rgb: np.ndarray, face: FaceLandmarks) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of the cheeks' colour in Lab, from 5x5 patches at the cheek landmarks."""
    h, w = rgb.shape[:2]
    patches = []
    for i in lm.CHEEKS:
        x, y = np.clip(face.points_px[i, :2].round().astype(int), [2, 2], [w - 3, h - 3])
        patches.append(rgb[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3))
    lab = cv2.cvtColor(np.concatenate(patches)[None], cv2.COLOR_RGB2LAB)[0].astype(np.float32)
    # Floors on the spread: lighting changes brightness across the face far more than hue.
    return lab.mean(axis=0), np.maximum(lab.std(axis=0), np.array([14.0, 4.0, 4.0], np.float32))


class EarVisibility:
    """Per-stream visibility of each ear: the far ear's hysteresis. The first frame of a stream (a photo: a
    fresh stream and one frame) has no transition to ease: each ear is shown or hidden."""

    def __init__(self) -> None:
        self._far = {s: Hysteresis(FAR_EAR_HIDE, FAR_EAR_SHOW) for s in SITES}

    def __call__(self, face: FaceLandmarks, site: str, t_ms: float, first: bool = False) -> float:
        shown = self._far[site](far_ear_signal(face, site), t_ms)
        if first:
            return 1.0 if shown >= 0.5 else 0.0
        return shown


def ear_anchors(
    head: HeadPose, intrinsics: Intrinsics, model: FaceModel, visible: dict[str, float],
    lobes_m: dict[str, np.ndarray] | None = None,
) -> tuple[AnchorPose, ...]:
    """Both ear anchors in camera metres; `visible` maps site -> 0..1; `lobes_m` (site -> (3,) head-frame
    metres) overrides the model's fixed lobe points (see lobe_in_head)."""
    out = []
    s = np.diag([head.scale, head.scale, head.scale, 1.0])
    for site, head_T_lobe in lobe_frames(model).items():
        if lobes_m is not None and site in lobes_m:
            head_T_lobe = head_T_lobe.copy()
            head_T_lobe[:3, 3] = lobes_m[site]
        # Position scales with the head; orientation does not (the earring keeps its real size).
        m = head.cam_T_head @ s @ head_T_lobe
        m[:3, :3] = head.cam_T_head[:3, :3] @ head_T_lobe[:3, :3]
        xy = intrinsics.project(m[:3, 3][None])[0]
        out.append(AnchorPose(site, m, float(visible.get(site, 1.0)), xy))
    return tuple(out)

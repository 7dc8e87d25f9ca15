"""6-DoF head pose in metres from face landmarks: PnP against the metric face model, then the iris sets
the person's scale (and with it the distance to the camera)."""

from __future__ import annotations

import cv2
import numpy as np

from tryon.anchors.face_model import FaceModel, iris_diameter_px
from tryon.tracking import landmarks as lm
from tryon.types import FaceLandmarks, HeadPose, Intrinsics

# Points that move little with expressions: the face without lips and chin.
RIGID_POINTS = np.array(sorted(set(range(468)) - set(lm.LIPS) - set(lm.CHIN)), np.int64)


def solve_head_pose(
    face: FaceLandmarks, intrinsics: Intrinsics, model: FaceModel, prior: HeadPose | None = None
) -> HeadPose:
    """Head pose for one face. `prior` (last frame's pose) seeds the solver in video, which keeps it on
    the same solution from frame to frame."""
    obj = model.points_m[RIGID_POINTS]
    img = face.points_px[RIGID_POINTS, :2].astype(np.float64)
    k = intrinsics.K
    if prior is not None:
        rvec = cv2.Rodrigues(prior.cam_T_head[:3, :3])[0]
        tvec = (prior.cam_T_head[:3, 3] / prior.scale).reshape(3, 1)
        ok, rvec, tvec = cv2.solvePnP(obj, img, k, None, rvec, tvec, True, cv2.SOLVEPNP_ITERATIVE)
    else:
        ok, rvec, tvec = cv2.solvePnP(obj, img, k, None, flags=cv2.SOLVEPNP_SQPNP)
        if ok:
            rvec, tvec = cv2.solvePnPRefineLM(obj, img, k, None, rvec, tvec)
    r = cv2.Rodrigues(rvec)[0]
    t1 = tvec.ravel()
    scale = _iris_scale(face, intrinsics, model, r, t1)
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = r, t1 * scale
    return HeadPose(m, scale, face.timestamp_ms)


def _iris_scale(
    face: FaceLandmarks, intrinsics: Intrinsics, model: FaceModel, r: np.ndarray, t1: np.ndarray
) -> float:
    """The factor s that makes each iris 11.7 mm across: the model's eye lies at depth z1 when s=1,
    the iris's pixel size says it lies at f * 11.7 mm / d; s = that / z1 (a weighted mean of both eyes,
    the larger iris counting more as it is nearer and less foreshortened)."""
    num = den = 0.0
    for iris in (lm.IRIS_LEFT, lm.IRIS_RIGHT):
        d_px = iris_diameter_px(face.points_px, iris)
        # The model's own iris diameter (11.7 mm on average over the photos it was built from).
        d_model = iris_diameter_px(model.points_m * 1.0, iris)
        z1 = float((r @ model.points_m[iris[0]] + t1)[2])
        if d_px <= 1.0 or z1 <= 0.0:
            continue
        z_true = intrinsics.fx * d_model / d_px
        num += d_px * z_true / z1
        den += d_px
    return num / den if den > 0 else 1.0

"""6-DoF head pose in metres from face landmarks: PnP against the metric face model, then the iris sets
the person's scale (and with it the distance to the camera)."""

from __future__ import annotations

import cv2
import numpy as np

from tryon.anchors.face_model import FaceModel
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
    # distCoeffs=None: no lens distortion, which OpenCV takes (its stubs want an array there).
    if prior is not None:
        rvec = cv2.Rodrigues(prior.cam_T_head[:3, :3])[0]
        tvec = (prior.cam_T_head[:3, 3] / prior.scale).reshape(3, 1)
        ok, rvec, tvec = cv2.solvePnP(obj, img, k, None, rvec, tvec, True,  # type: ignore[call-overload]
                                      cv2.SOLVEPNP_ITERATIVE)
    else:
        ok, rvec, tvec = cv2.solvePnP(obj, img, k, None, flags=cv2.SOLVEPNP_SQPNP)  # type: ignore[call-overload]
        if ok:
            rvec, tvec = cv2.solvePnPRefineLM(obj, img, k, None, rvec, tvec)  # type: ignore[call-overload]
    r = cv2.Rodrigues(rvec)[0]
    t1 = tvec.ravel()
    scale = _iris_scale(face, intrinsics, model, r, t1)
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = r, t1 * scale
    return HeadPose(m, scale, face.timestamp_ms)


def _iris_scale(
    face: FaceLandmarks, intrinsics: Intrinsics, model: FaceModel, r: np.ndarray, t1: np.ndarray
) -> float:
    """The person's scale s. The model's irises are 11.7 mm across (the human average, fixed when the
    model was built), as every person's are to about 5 %. Posed at s=1 the model's iris would look
    `predicted` pixels across; the real one, equally large but s times farther away, looks predicted / s.
    Projecting the model's iris under the same pose accounts for foreshortening on a turned head. Both
    eyes count, the larger one (nearer, less foreshortened) more."""
    num = den = 0.0
    for iris in (lm.IRIS_LEFT, lm.IRIS_RIGHT):
        seen = _iris_size_px(face.points_px[list(iris), :2])
        predicted = _iris_size_px(intrinsics.project(model.points_m[list(iris)] @ r.T + t1))
        if seen > 1.0:
            num += predicted
            den += seen
    return num / den if den > 0 else 1.0


def _iris_size_px(contour: np.ndarray) -> float:
    """(5, 2) centre then four contour points -> the sum of the two contour diameters, pixels."""
    return float(np.linalg.norm(contour[1] - contour[3]) + np.linalg.norm(contour[2] - contour[4]))

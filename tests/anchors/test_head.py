import cv2
import numpy as np
import pytest

from tryon.anchors.head import solve_head_pose
from tryon.errors import InputError
from tryon.tracking.face import FaceTracker
from tryon.types import FaceLandmarks, Intrinsics


def _synthetic_face(face_model, cam_T_head, scale, intr):
    """A head `scale` times the model, whose irises keep the human 11.7 mm (the solver's assumption)."""
    head = face_model.points_m * scale
    for iris in ((468, 469, 470, 471, 472), (473, 474, 475, 476, 477)):
        c = list(iris)
        head[c[1:]] = head[c[0]] + (face_model.points_m[c[1:]] - face_model.points_m[c[0]])
    pts = head @ cam_T_head[:3, :3].T + cam_T_head[:3, 3]
    px = intr.project(pts)
    # z is not used by the solver.
    return FaceLandmarks(np.concatenate([px, np.zeros((478, 1))], 1).astype(np.float32), (640, 480), 0)


@pytest.mark.parametrize("yaw_deg,scale", [(0.0, 1.0), (25.0, 0.92), (-35.0, 1.08)])
def test_recovers_known_pose_and_scale(face_model, yaw_deg, scale):
    intr = Intrinsics.from_hfov(640, 480, 60.0)
    m = np.eye(4)
    m[:3, :3] = cv2.Rodrigues(np.radians([8.0, yaw_deg, -5.0]))[0]
    m[:3, 3] = [0.03, -0.02, 0.55]
    hp = solve_head_pose(_synthetic_face(face_model, m, scale, intr), intr, face_model)
    assert hp.scale == pytest.approx(scale, rel=0.01)
    np.testing.assert_allclose(hp.cam_T_head[:3, 3], m[:3, 3], atol=1e-3)
    np.testing.assert_allclose(hp.cam_T_head[:3, :3], m[:3, :3], atol=1e-3)


def test_astronaut_distance_is_plausible(astronaut, face_model):
    intr = Intrinsics.from_hfov(512, 512, 60.0)
    with FaceTracker("image") as t:
        face = t.process(astronaut)[0]
    hp = solve_head_pose(face, intr, face_model)
    # An adult head: within 15 % of the mean model; about 0.7 m away at a 60 degree field of view.
    assert 0.85 < hp.scale < 1.15
    assert 0.5 < hp.cam_T_head[2, 3] < 0.9
    assert abs(hp.yaw_deg) < 10
    # The model, posed, lands on the landmarks (mean error a few % of the face width).
    err = np.linalg.norm(intr.project(hp.to_camera(face_model.points_m))[:468] - face.points_px[:468, :2], axis=1)
    assert err.mean() < 0.04 * face.face_width_px


def test_intrinsics_from_hfov():
    k = Intrinsics.from_hfov(640, 480, 90.0)
    assert k.fx == pytest.approx(320.0) and k.cx == pytest.approx(319.5)
    with pytest.raises(InputError):
        Intrinsics.from_hfov(640, 480, 0.0)

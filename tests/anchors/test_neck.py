"""The neck anchor on real upper-body photos: the notch between chin and shoulders, the torso's frame,
and a frame that follows the torso, not the head."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import load_rgb

from tryon.anchors import neck
from tryon.anchors.head import solve_head_pose
from tryon.tracking.face import FaceTracker
from tryon.tracking.pose import PoseTracker
from tryon.types import HeadPose, Intrinsics

# Upper-body photos where MediaPipe sees both shoulders and the face (light skin; bare neck, tank top,
# T-shirt, a flight suit; frontal and three-quarter).
BODY_PHOTOS = ["body/woman_red_hair_pendant_necklace.jpg", "body/woman_blonde_bare_shoulders.jpg",
               "body/astronaut_upper_body.png", "body/woman_one_shoulder_dress_earrings.jpg",
               "faces/woman_long_dark_hair_necklace_earrings.jpg", "faces/woman_drop_earrings_hair_up_frontal.jpg",
               "faces/man_3q_ear_visible.jpg"]


def _track(rel: str):
    rgb = load_rgb(rel)
    h, w = rgb.shape[:2]
    intr = Intrinsics.from_hfov(w, h, 60.0)
    with FaceTracker("image") as ft, PoseTracker("image") as pt:
        faces, body = ft.process(rgb), pt.process(rgb)
    return rgb, intr, faces[0], body


@pytest.mark.parametrize("rel", BODY_PHOTOS)
def test_the_notch_sits_between_the_chin_and_the_shoulders(rel: str, face_model) -> None:
    _, intr, face, body = _track(rel)
    head = solve_head_pose(face, intr, face_model)
    found = neck.torso_frame(body, intr, head)
    assert found is not None
    m, scale = found
    a = neck.neck_anchor(m, scale, intr)
    right, left = body.points_px[12], body.points_px[11]
    chin = face.points_px[152, :2]
    shoulders_y = 0.5 * (left[1] + right[1])
    assert chin[1] < a.xy_px[1] < shoulders_y, rel  # below the chin, above the shoulder joints
    span = abs(left[0] - right[0])
    assert abs(a.xy_px[0] - 0.5 * (left[0] + right[0])) < 0.2 * span, rel  # near the body's middle
    assert 0.8 <= scale <= 1.25
    r = m[:3, :3]
    assert np.allclose(r.T @ r, np.eye(3), atol=1e-9) and np.linalg.det(r) > 0
    assert r[0, 0] > 0.5  # +x toward image right (the person's left, unmirrored)
    assert r[1, 1] > 0.8  # +y down
    assert r[2, 2] > 0.5  # +z away from the camera: the torso faces it


def test_a_turned_torso_turns_the_frame(face_model) -> None:
    _, intr, face, body = _track("faces/man_3q_ear_visible.jpg")
    m, _ = neck.torso_frame(body, intr, solve_head_pose(face, intr, face_model))
    # His left shoulder (image right) is the nearer: his chest turns toward image left, and its normal
    # (-z) with it.
    assert -m[0, 2] < -0.3


def test_turning_the_head_does_not_move_the_torso(face_model) -> None:
    _, intr, face, body = _track("body/woman_red_hair_pendant_necklace.jpg")
    head = solve_head_pose(face, intr, face_model)
    turn = np.eye(4)
    turn[:3, :3] = cv2.Rodrigues(np.array([0.2, 0.5, 0.1]))[0]  # nod, turn and tilt, same place
    turned = HeadPose(head.cam_T_head @ turn, head.scale, head.timestamp_ms)
    a, _ = neck.torso_frame(body, intr, head)
    b, _ = neck.torso_frame(body, intr, turned)
    assert np.allclose(a, b)


def test_no_shoulders_no_anchor() -> None:
    rgb = load_rgb("hands/back_of_hand_outdoor.jpg")
    with PoseTracker("image") as pt:
        body = pt.process(rgb)
    intr = Intrinsics.from_hfov(rgb.shape[1], rgb.shape[0])
    assert body is None or neck.torso_frame(body, intr, None) is None
    with PoseTracker("image") as pt:
        assert pt.process(np.full((240, 320, 3), 128, np.uint8)) is None


def test_depth_without_a_face_comes_from_the_body(face_model) -> None:
    _, intr, face, body = _track("body/woman_red_hair_pendant_necklace.jpg")
    with_face, _ = neck.torso_frame(body, intr, solve_head_pose(face, intr, face_model))
    without, _ = neck.torso_frame(body, intr, None)
    assert without[2, 3] == pytest.approx(with_face[2, 3], rel=0.25)  # MediaPipe's body size is an adult's


def test_the_neck_occluder_stands_behind_the_notch_inside_the_neck() -> None:
    m = np.eye(4)
    m[:3, 3] = (0.0, 0.0, 0.8)
    caps = neck.neck_occluders(m, 1.0)
    for c in caps:
        assert c.a_m[2] > 0.8 and c.b_m[1] < c.a_m[1]  # behind the notch, rising up the neck
        assert c.a_m[2] - c.radius_a_m > 0.8  # its front is behind the notch: a chain there shows
    # The neck's sides are covered out to about the neck's half width.
    assert max(abs(c.a_m[0]) + c.radius_a_m for c in caps) == pytest.approx(neck.BODY.half_width, abs=0.006)

"""Ring and wrist anchors on real hand photos: where the ring sits, which way it faces, the sizes."""

import cv2
import numpy as np
import pytest
from conftest import load_rgb

from tryon.anchors import fingers, wrist
from tryon.tracking.hands import HandTracker
from tryon.types import Intrinsics

# Every hand photo in shared/media where MediaPipe finds a hand (light, tanned and dark skin).
HAND_PHOTOS = ["hands/back_of_hand_outdoor.jpg", "hands/back_of_hand_ring.jpg", "hands/fist_wristwatch.jpg",
               "hands/ok_sign_white_bg.jpg", "hands/two_women_pinch_gestures_dark_skin.jpg",
               "hands/woman_hands_over_face_dark_skin.jpg", "hands/clasped_hands_studio.jpg",
               "hands/hand_holding_spoon_greenscreen.jpg", "faces/woman_hand_over_eye_ring_occlusion.jpg"]


def _hands(rel):
    rgb = load_rgb(rel)
    h, w = rgb.shape[:2]
    intr = Intrinsics.from_hfov(w, h, 60.0)
    with HandTracker("image") as t:
        return rgb, intr, t.process(rgb)


@pytest.mark.parametrize("rel", HAND_PHOTOS)
def test_ring_seat_is_on_the_proximal_phalanx(rel):
    rgb, intr, hands = _hands(rel)
    assert hands, rel
    gray = rgb.mean(axis=2).astype(np.float32)
    for hand in hands:
        pose = fingers.hand_pose(hand, intr)
        assert pose is not None
        for finger in fingers.FINGERS:
            size = fingers.finger_size(gray, hand, pose, finger, intr)
            a = fingers.ring_anchor(pose, finger, size, intr)
            knuckle, joint = (hand.points_px[i, :2] for i in fingers.PROXIMAL[finger])
            bone = joint - knuckle
            t = float((a.xy_px - knuckle) @ bone / (bone @ bone))
            off = abs(float(np.cross(bone, a.xy_px - knuckle))) / np.linalg.norm(bone)
            assert 0.35 < t < 0.6, (rel, finger, t)  # between knuckle and middle joint, past the web
            assert off < 0.1 * np.linalg.norm(bone), (rel, finger, off)  # on the finger's line
            # The band's axis runs along the finger, in the image as in 3D.
            y2 = intr.project((a.cam_T_anchor[:3, 3] + 0.01 * a.cam_T_anchor[:3, 1])[None])[0] - a.xy_px
            assert float(y2 @ bone) > 0
            # Ring sizes of adults: inner diameter 13 to 25 mm, with an honest uncertainty.
            assert 13.0 < size.value_mm < 25.0 and 0.5 < size.sigma_mm < 5.0, (rel, finger, size)


def test_back_of_the_hand_faces_the_camera():
    _, intr, hands = _hands("hands/back_of_hand_outdoor.jpg")
    pose = fingers.hand_pose(hands[0], intr)
    assert pose.dorsal_m[2] < -0.7  # the back of the hand looks at the camera (camera z is forward)
    seat = fingers.ring_seat(pose, "ring")
    assert seat[2, 2] < -0.5  # so a ring's stone (+z) does too
    assert np.allclose(seat[:3, :3].T @ seat[:3, :3], np.eye(3), atol=1e-9) and np.linalg.det(seat[:3, :3]) > 0


def test_palm_side_faces_away():
    # The ring photo shows a left palm (thumb on top, fingers right): the back of the hand faces away.
    _, intr, hands = _hands("hands/back_of_hand_ring.jpg")
    assert hands[0].side == "left"
    assert fingers.hand_pose(hands[0], intr).dorsal_m[2] > 0.5


def test_hand_is_metric():
    _, intr, hands = _hands("hands/back_of_hand_outdoor.jpg")
    pose = fingers.hand_pose(hands[0], intr)
    breadth = np.linalg.norm(pose.points_m[5] - pose.points_m[17])
    assert 0.05 < breadth < 0.1  # knuckle breadth of an adult hand
    assert 0.1 < pose.points_m[:, 2].mean() < 1.0  # a hand held in front of a camera


def test_width_measurement_on_a_known_bar():
    img = np.full((200, 200), 40, np.float32)
    cv2.fillConvexPoly(img, np.array([[60, 0], [100, 0], [140, 200], [100, 200]], np.int32), 200)  # slanted bar
    along = np.array([40.0, 200.0])
    along /= np.linalg.norm(along)
    found = fingers.measure_width_px(cv2.GaussianBlur(img, (5, 5), 1.0), np.array([100.0, 100.0]), along, 40.0, 20.0)
    assert found is not None
    true_width = 40.0 * 200.0 / np.hypot(40.0, 200.0)  # horizontal width 40 px, measured square to the bar
    assert abs(found[0] - true_width) < 1.0
    flat = np.full((200, 200), 90, np.float32)
    assert fingers.measure_width_px(flat, np.array([100.0, 100.0]), along, 40.0, 20.0) is None


def test_ring_size_tables():
    assert fingers.ring_sizes(17.35) == {"us": 7.0, "eu": 54.5}  # US 7 is 17.3 mm, ISO 54.4 mm circumference
    assert fingers.ring_sizes(15.7)["us"] == 5.0
    assert abs(fingers.width_to_inner_diameter(18.0) - 16.7) < 0.1  # an 18 mm wide, 15.3 mm deep finger


def test_wrist_anchor_and_size():
    rgb, intr, hands = _hands("hands/fist_wristwatch.jpg")
    hand = hands[0]
    pose = fingers.hand_pose(hand, intr)
    axis = wrist.forearm_axis(pose, None, hand, intr)
    frame = wrist.wrist_frame(pose, axis)
    width, circumference = wrist.wrist_size(rgb.mean(axis=2).astype(np.float32), hand, frame, intr, pose.scale_sigma)
    a = wrist.wrist_anchor(pose, frame, width, intr)
    assert a.site == f"{hand.side}_wrist"
    # The watch sits up the forearm from the wrist landmark, away from the knuckles.
    knuckles = hand.points_px[[5, 17], :2].mean(axis=0)
    assert np.linalg.norm(a.xy_px - knuckles) > np.linalg.norm(hand.points_px[0, :2] - knuckles)
    assert 120.0 < circumference.value_mm < 220.0 and circumference.sigma_mm > 0
    assert a.fit_m["width"] == pytest.approx(width.value_mm * 1e-3)


def test_ring_seats_on_a_real_video():
    """Every tracked frame of a real video of moving hands: each ring seat on its finger's proximal phalanx."""
    from conftest import media_path

    from tryon.media import read_video

    frames = 0
    with HandTracker("video") as t:
        for i, (rgb, ts) in enumerate(read_video(media_path("video/woman_hands_upper_body.mp4"))):
            if i >= 60:
                break
            h, w = rgb.shape[:2]
            intr = Intrinsics.from_hfov(w, h, 60.0)
            for hand in t.process(rgb, ts):
                pose = fingers.hand_pose(hand, intr)
                for finger in fingers.FINGERS:
                    a = fingers.ring_anchor(pose, finger, fingers.Size(17.0, 1.0), intr)
                    knuckle, joint = (hand.points_px[k, :2] for k in fingers.PROXIMAL[finger])
                    bone = joint - knuckle
                    t_along = float((a.xy_px - knuckle) @ bone / max(float(bone @ bone), 1e-9))
                    assert 0.4 < t_along < 0.56, (i, finger, t_along)
                frames += 1
    assert frames >= 60  # both hands in most frames

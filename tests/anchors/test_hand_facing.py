"""Which way a hand's anchors face (issue 21): a ring's head on the back of the finger, a bangle round the wrist,
and both hands of a photo given anchors when MediaPipe calls both of them left."""

import math

import cv2
import numpy as np
import pytest
from conftest import load_rgb

from tryon.anchors import fingers
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.quality.measures import angle_to_camera_deg
from tryon.types import Frame, Intrinsics

SOLITAIRE = "ring-solitaire-diamond-6.5mm-platinum"
BANGLE = "bracelet-bangle-3.5mm-yellow-gold"


@pytest.fixture(scope="module")
def hands_only(catalog):
    with Pipeline(catalog, [], PipelineOptions(mode="image", render=False, track=frozenset({"hands"}))) as p:
        yield p


@pytest.fixture(scope="module")
def bangle(catalog):
    with Pipeline(catalog, [BANGLE], PipelineOptions(mode="image", use_compositor=False)) as p:
        yield p


def _outline(turn: np.ndarray) -> np.ndarray:
    """(21, 3) pixels: the palm outline turned by `turn` (3, 3), seen from far away, 200 px across."""
    pts = np.zeros((21, 3))
    flat = np.column_stack([fingers.PALM_OUTLINE, np.zeros(len(fingers.PALM))])
    pts[list(fingers.PALM)] = 200.0 * flat @ turn.T + [320.0, 240.0, 0.0]
    return pts


def _turn(axis: tuple[float, float, float], deg: float) -> np.ndarray:
    return cv2.Rodrigues(np.asarray(axis, np.float64) / np.linalg.norm(axis) * math.radians(deg))[0]


@pytest.mark.parametrize("axis", [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 1.0, 0.0)])
def test_palm_tilt_from_the_outline(axis):
    """A palm square to the camera reads as square on; turned, its tilt grows with the turn, toward it."""
    assert fingers.palm_tilt(_outline(np.eye(3)))[0] == pytest.approx(0.0, abs=1e-6)
    tilts = [math.degrees(fingers.palm_tilt(_outline(_turn(axis, deg)))[0]) for deg in (15.0, 40.0, 60.0, 75.0)]
    assert tilts[0] < 5.0  # within the spread of palm shapes: square on
    assert all(abs(t - deg) < 10.0 for t, deg in zip(tilts[1:], (40.0, 60.0, 75.0), strict=True)), tilts
    # The foreshortened direction is square to the turn's axis (in the image).
    along = fingers.palm_tilt(_outline(_turn(axis, 60.0)))[1]
    assert abs(float(along @ np.asarray(axis[:2]) / np.linalg.norm(axis[:2]))) < 0.05


def test_turning_the_palm_keeps_every_landmark_on_its_pixel():
    rgb = load_rgb("hands/back_of_hand_outdoor.jpg")
    intr = Intrinsics.from_hfov(rgb.shape[1], rgb.shape[0], 60.0)
    from tryon.tracking.hands import HandTracker

    with HandTracker("image") as t:
        hand = t.process(rgb)[0]
    pose = fingers.hand_pose(hand, intr)
    assert pose is not None and pose.points_m.shape == (21, 3)
    assert np.abs(intr.project(pose.points_m) - hand.points_px[:, :2]).max() < 1e-6
    assert np.linalg.norm(pose.points_m[5] - pose.points_m[17]) == pytest.approx(0.07, abs=0.03)


def test_solitaire_head_on_the_back_of_a_finger(hands_only):
    """The back of a right hand faces the camera: each ring's +z (where a solitaire's head sits) within 20
    degrees of the way to the camera, so the stone shows on the finger's middle, not its lower edge
    (MediaPipe's own depths put it 26 degrees off, the head at the finger's edge)."""
    rgb = load_rgb("hands/back_of_hand_outdoor.jpg")
    anchors = hands_only.track(Frame(rgb))
    intr = anchors.intrinsics
    for finger in ("index", "middle", "ring", "little"):
        seat = anchors.get(f"right_{finger}")
        assert seat is not None, finger
        assert angle_to_camera_deg(seat.cam_T_anchor) < 20.0, finger
    # Where the solitaire's stone shows: its table, 13 mm out along +z, against the finger's width.
    seat = anchors.get("right_ring")
    o, z = seat.cam_T_anchor[:3, 3], seat.cam_T_anchor[:3, 2]
    stone = intr.project((o + 0.0133 * z)[None])[0]
    across = intr.project((o + 0.5 * seat.fit_m["diameter"] * seat.cam_T_anchor[:3, 0])[None])[0] - seat.xy_px
    off = float((stone - seat.xy_px) @ across) / float(across @ across)
    assert abs(off) < 0.5  # inside the middle half of the finger's width


def test_bangle_is_one_band_round_the_wrist(bangle):
    """The wrists meet the picture's edges: the bangle slides to the wrist joint to stay in view, and facing
    the camera it reads as one band over the wrist (it was two horns: its front out of the picture, its
    back hidden by the forearm)."""
    rgb = load_rgb("hands/two_hands_palm_and_back.jpg")
    result = bangle.process(Frame(rgb))
    alpha = result.layer.full_frame()[..., 3] > 0.05
    n, labels = cv2.connectedComponents(alpha.astype(np.uint8))
    wrists = {a.site: a for a in result.anchors.anchors if a.site.endswith("_wrist")}
    assert wrists
    for a in wrists.values():
        # The blob nearest the wrist holds nearly all the alpha about it, and crosses the forearm's line.
        near = np.zeros_like(alpha)
        x, y = np.rint(a.xy_px).astype(int)
        near[max(0, y - 60): y + 60, max(0, x - 90): x + 90] = True
        sizes = np.bincount(labels[alpha & near], minlength=n)
        sizes[0] = 0
        assert sizes.max() >= 0.9 * sizes.sum(), sorted(sizes[sizes > 0])
        band = labels == int(np.argmax(sizes))
        cols = np.nonzero(band.any(axis=0))[0]
        assert cols.min() < x - 40 and cols.max() > x + 40  # wider than the wrist, round it
    assert len(wrists) == 2  # both hands wear one (MediaPipe calls both of them left hands)

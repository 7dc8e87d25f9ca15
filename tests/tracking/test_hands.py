import numpy as np
import pytest
from conftest import load_rgb

from tryon.errors import InputError
from tryon.tracking.hands import HandTracker


def test_hand_in_pixels_and_metres():
    rgb = load_rgb("hands/back_of_hand_outdoor.jpg")
    with HandTracker("image") as t:
        hands = t.process(rgb)
    assert len(hands) == 1
    h = hands[0]
    assert h.points_px.shape == (21, 3) and h.world_m.shape == (21, 3)
    # The hand spans the middle of the 1280x960 photo; the wrist is left of the fingertips.
    assert 200 < h.points_px[:, 0].mean() < 1000 and 200 < h.points_px[:, 1].mean() < 700
    assert h.points_px[0, 0] < h.points_px[12, 0]
    assert h.side == "right"  # the back of a right hand, thumb on top, fingers to the right


@pytest.mark.parametrize("rel", ["hands/woman_hands_over_face_dark_skin.jpg", "hands/fist_wristwatch.jpg"])
def test_handedness_holds_for_mirrored_input(rel):
    """The same hands seen through a mirror (a selfie camera) keep their sides when the tracker is told."""
    rgb = load_rgb(rel)
    w = rgb.shape[1]
    flipped = np.ascontiguousarray(rgb[:, ::-1])
    with HandTracker("image") as t, HandTracker("image", mirrored=True) as tm:
        straight = sorted((round(float(h.points_px[0, 0]) / 20), h.side) for h in t.process(rgb))
        mirrored = sorted((round((w - 1 - float(h.points_px[0, 0])) / 20), h.side) for h in tm.process(flipped))
        plain = {h.side for h in t.process(flipped)}  # the flipped photo taken as a plain camera view
    assert straight and straight == mirrored
    assert plain == {"left" if s == "right" else "right" for _, s in straight}


def test_two_hands_largest_first():
    rgb = load_rgb("hands/woman_hands_over_face_dark_skin.jpg")
    with HandTracker("image") as t:
        hands = t.process(rgb)
    assert sorted(h.side for h in hands) == ["left", "right"]
    assert hands[0].area_px >= hands[1].area_px


def test_no_hand_is_empty_not_error():
    blank = np.full((240, 320, 3), 128, np.uint8)
    with HandTracker("image") as t:
        assert t.process(blank) == ()
    with HandTracker("video") as t:
        assert t.process(blank, 0) == ()


def test_bad_input():
    with HandTracker("image") as t, pytest.raises(InputError, match="uint8"):
        t.process(np.zeros((64, 64), np.float32))
    with pytest.raises(InputError, match="max_hands"):
        HandTracker("image", max_hands=9)

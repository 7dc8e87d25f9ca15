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


def test_video_follows_each_hand_and_finds_a_second_one_soon():
    """Video runs one graph per hand: a second hand that comes into view is found within SEARCH_EVERY
    frames, each hand once, with the sides photo mode gives; a hand that leaves is dropped."""
    from tryon.tracking.hands import SEARCH_EVERY

    rgb = load_rgb("hands/woman_hands_over_face_dark_skin.jpg")
    with HandTracker("image") as still:
        both = still.process(rgb)
    assert len(both) == 2
    # One hand hidden: paint the other hand's box out.
    lo, hi = both[1].points_px[:, :2].min(0).astype(int), both[1].points_px[:, :2].max(0).astype(int)
    one = rgb.copy()
    one[max(0, lo[1] - 40) : hi[1] + 40, max(0, lo[0] - 40) : hi[0] + 40] = 128
    with HandTracker("video") as t:
        seen = [len(t.process(one, 33 * i)) for i in range(12)]
        assert seen == [1] * 12  # the search graph never finds the followed hand again
        counts = [t.process(rgb, 33 * i) for i in range(12, 12 + SEARCH_EVERY + 1)]
        assert len(counts[-1]) == 2
        assert sorted(h.side for h in counts[-1]) == sorted(h.side for h in both)
        for h in counts[-1]:  # the same places as photo mode
            ref = min(both, key=lambda b: np.linalg.norm(b.points_px[:, :2].mean(0) - h.points_px[:, :2].mean(0)))
            size = np.ptp(ref.points_px[:, :2], axis=0).max()
            assert np.linalg.norm(h.points_px[:, :2] - ref.points_px[:, :2], axis=1).mean() < 0.05 * size
        left = [len(t.process(one, 33 * i)) for i in range(30, 34)]
    assert left[-1] == 1

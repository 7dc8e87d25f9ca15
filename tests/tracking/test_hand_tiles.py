"""Photos are also read in tiles: a hand too small for the palm detector's view of the whole picture is found,
and no hand is made up where there is none."""

import cv2
import numpy as np
import pytest
from conftest import load_rgb

from tryon.tracking.hands import TILE_MIN_PX, HandTracker, tiles


@pytest.fixture(scope="module")
def tracker():
    with HandTracker("image", max_hands=4) as t:
        yield t


def test_tiles_cover_the_picture_and_overlap():
    boxes = tiles(1600, 1200)
    assert len(boxes) == 4
    covered = np.zeros((1200, 1600), bool)
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 < x1 <= 1600 and 0 <= y0 < y1 <= 1200
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    assert boxes[0][2] > boxes[1][0] and boxes[0][3] > boxes[2][1]  # neighbours overlap


def test_a_small_hand_in_a_large_photo_is_found(tracker):
    """The back of a hand shrunk to 320 x 240 pixels in a 1600 x 1200 photo: the whole picture's pass misses it
    (its palm is a few pixels of the detector's 192), a tile finds it, where it is."""
    small = cv2.resize(load_rgb("hands/back_of_hand_outdoor.jpg"), (320, 240), interpolation=cv2.INTER_AREA)
    canvas = np.full((1200, 1600, 3), 200, np.uint8)
    canvas[700:940, 1100:1420] = small
    hands = tracker.process(canvas)
    assert len(hands) == 1
    hand = hands[0]
    assert hand.side == "right" and hand.image_size == (1600, 1200)
    assert 1100 <= hand.points_px[:, 0].min() and hand.points_px[:, 0].max() <= 1420
    assert 700 <= hand.points_px[:, 1].min() and hand.points_px[:, 1].max() <= 940


@pytest.mark.parametrize("rel", ["faces/man_profile_ear_visible.jpg", "body/man_yoga_full_body.jpg",
                                 "body/astronaut_upper_body.png"])
def test_no_hand_made_up_in_tiles(tracker, rel):
    """Tiles magnify: in these photos the detector's tiles find 'hands' in an ear, an arm or nothing, which
    the tile's checks (size, handedness score, shape) turn away."""
    assert tracker.process(load_rgb(rel)) == ()


def test_small_pictures_are_not_tiled():
    assert max(x1 - x0 for x0, _, x1, _ in tiles(300, 300)) < TILE_MIN_PX

"""Face shape from the face mesh: bad input, labels on a few portraits, and stability across a video."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from conftest import load_rgb, media_path

from tryon import media
from tryon.anchors.face_shape import SHAPES, classify, face_shape, steady_face_shape
from tryon.errors import InputError
from tryon.tracking.face import FaceTracker
from tryon.types import FaceLandmarks


def test_the_bands_give_each_shape():
    assert classify({"length": 0.80, "jaw": 0.69, "forehead": 0.72}).label == "long"
    assert classify({"length": 0.72, "jaw": 0.66, "forehead": 0.75}).label == "heart"
    assert classify({"length": 0.65, "jaw": 0.72, "forehead": 0.72}).label == "square"
    assert classify({"length": 0.65, "jaw": 0.67, "forehead": 0.70}).label == "round"
    oval = classify({"length": 0.72, "jaw": 0.69, "forehead": 0.70})
    assert oval.label == "oval" and oval.confidence == 1.0
    assert classify({"length": 0.759, "jaw": 0.69, "forehead": 0.70}).confidence < 0.1  # at a boundary


def test_a_flat_face_and_no_faces_are_refused():
    with pytest.raises(InputError, match="no width"):
        face_shape(FaceLandmarks(np.zeros((478, 3), np.float32), (10, 10), 0))
    with pytest.raises(InputError, match="no faces"):
        steady_face_shape([])


# Pinned from the development portraits (2026-12-07); the mesh's shape is the same for the same photo.
@pytest.mark.parametrize(("name", "shape"), [
    ("boy_dark_skin_smile.jpg", "heart"), ("man_frontal_white_bg.jpg", "long"), ("man_bald_looking_up.png", "square"),
    ("woman_snake_earring_near_profile.png", "round"), ("man_frontal_dark_jacket.jpg", "oval"),
])
def test_face_shape_on_portraits(name, shape):
    rgb = load_rgb(f"people/faces/{name}")
    with FaceTracker("image") as mesh:
        got = face_shape(mesh.process(rgb)[0])
    assert got.label == shape and got.label in SHAPES
    assert set(got.ratios) == {"length", "jaw", "forehead"}


# Measured 2026-12-07, the share of frames with the video's most frequent shape (one reading per frame, no
# smoothing): the girl turning her head side to side 0.907, the woman turning from three-quarter 0.983. Over all
# seven shared videos with a face: 0.70 to 1.0, mean 0.88 (man_glasses_expressions 0.71, woman_hands_upper_body
# 0.70: faces that sit near a band's edge).
@pytest.mark.parametrize(("video", "least"), [("girl_child_head_turns_green_bg.mp4", 0.85),
                                              ("woman_blonde_coat_upper_body_turn.mp4", 0.9)])
def test_face_shape_is_stable_across_a_video(video, least):
    path = media_path(f"people/video/{video}")
    counts: collections.Counter[str] = collections.Counter()
    with FaceTracker("video") as mesh:
        for rgb, ts in media.read_video(path):
            faces = mesh.process(rgb, ts)
            if faces:
                counts[face_shape(faces[0]).label] += 1
    share = counts.most_common(1)[0][1] / sum(counts.values())
    print(f"\n{path.name}: {dict(counts)}; modal share {share:.3f}")
    assert share >= least

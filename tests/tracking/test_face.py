import numpy as np
import pytest
from conftest import load_rgb

from tryon.errors import InputError
from tryon.tracking.face import FaceTracker


def test_astronaut_face_in_pixels(astronaut):
    with FaceTracker("image") as t:
        faces = t.process(astronaut)
    assert len(faces) == 1
    p = faces[0].points_px
    assert p.shape == (478, 3) and p.dtype == np.float32
    # The face is in the upper middle of the 512x512 photo; irises between the face's sides.
    assert 150 < p[:, 0].mean() < 300 and 60 < p[:, 1].mean() < 220
    assert p[234, 0] < p[468, 0] < p[473, 0] < p[454, 0]
    assert 70 < faces[0].face_width_px < 120


def test_no_face_is_empty_not_error():
    blank = np.full((240, 320, 3), 128, np.uint8)
    with FaceTracker("image") as t:
        assert t.process(blank) == ()
    with FaceTracker("video") as t:
        assert t.process(blank, 0) == ()


def test_largest_face_first():
    rgb = load_rgb("body/three_men_upper_body.jpg")
    with FaceTracker("image") as t:
        faces = t.process(rgb)
    assert len(faces) == 3
    areas = [f.area_px for f in faces]
    assert areas == sorted(areas, reverse=True)


def test_video_mode_takes_real_timestamps(astronaut):
    with FaceTracker("video") as t:
        for ts in (0, 40, 41, 1000):  # irregular, as a live camera delivers them
            faces = t.process(astronaut, ts)
            assert len(faces) == 1 and faces[0].timestamp_ms == ts
        # A repeated or older timestamp must not crash MediaPipe's graph.
        assert len(t.process(astronaut, 1000)) == 1


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((64, 64, 4), np.uint8),
                                 np.zeros((64, 64, 3), np.float32), "not an image"])
def test_bad_frames_are_input_errors(bad):
    with FaceTracker("image") as t, pytest.raises(InputError, match="RGB frame"):
        t.process(bad)


def test_bad_mode():
    with pytest.raises(InputError):
        FaceTracker("webcam")  # type: ignore[arg-type]

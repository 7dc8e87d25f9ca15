"""Drop earrings swing as damped pendulums driven by the filtered head motion."""

import cv2
import numpy as np

from tryon.jewelry.catalog import Catalog
from tryon.physics import hang_rotation
from tryon.pipeline import Pipeline, PipelineOptions
from tryon.render.scene import item_model
from tryon.types import AnchorPose, Frame

DROP = "drop-emerald-round-6mm-yellow-gold"


def _bottom(model, cam_T_anchor, swing):
    """(3,) camera position of the lowest hanging vertex."""
    a = AnchorPose("left_ear", cam_T_anchor, 1.0, np.zeros(2), swing_rad=swing)
    points = [p.vertices[:, :3] @ m[:3, :3].T + m[:3, 3]
              for p, m in zip(model.parts, model.cam_T_parts(a.cam_T_anchor, swing_rad=a.swing_rad), strict=True)
              if p.hangs]
    pts = np.vstack(points)
    return pts[np.argmax(pts[:, 1])]  # camera y is down


def test_the_swing_turns_the_drop_about_the_piercing(catalog: Catalog):
    model = item_model(catalog, catalog.get(DROP))
    assert 0.005 < model.hang_length_m < 0.03
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = np.diag([1.0, -1.0, -1.0]), [0.0, 0.0, 0.3]  # +y up, facing the camera
    rest, swung = _bottom(model, m, (0.0, 0.0)), _bottom(model, m, (0.3, 0.0))
    assert abs(np.linalg.norm(swung - m[:3, 3]) - np.linalg.norm(rest - m[:3, 3])) < 2e-4  # about the pivot
    rest_frame = m @ hang_rotation(m)
    sideways = (swung - rest) @ rest_frame[:3, 0]
    assert sideways > 0.002  # about 0.3 rad of a centimetre-long drop moves its bottom millimetres to +x


def _clip(photo: np.ndarray, shifts_px: list[float]) -> list[np.ndarray]:
    h, w = photo.shape[:2]
    return [cv2.warpAffine(photo, np.float32([[1, 0, s], [0, 1, 0]]), (w, h), borderMode=cv2.BORDER_REPLICATE)
            for s in shifts_px]


def test_a_head_that_stops_sets_the_drop_swinging_then_it_settles(astronaut, catalog):
    """Still for half a second: no swing. The head moves sideways and stops: the drop swings, then dies
    down within a second."""
    still = [0.0] * 15
    move = [6.0 * i for i in range(1, 7)]  # 6 px a frame at 30 fps, then stop
    stop = [move[-1]] * 30
    frames = _clip(astronaut, still + move + stop)
    swings = []
    with Pipeline(catalog, [DROP], PipelineOptions(mode="video", render=False)) as pipe:
        for i, f in enumerate(frames):
            anchors = pipe.track(Frame(f, int(i * 1000 / 30)))
            swings.append(max((abs(a.swing_rad[0]) for a in anchors.anchors), default=0.0))
    swings = np.degrees(swings)
    assert swings[:15].max() < 1.0  # (the depth filter settling in its first frames)
    assert swings[15:30].max() > 3.0
    assert swings[-5:].max() < 0.5 * swings[15:30].max()


def test_fifteen_and_sixty_fps_swing_alike(astronaut, catalog):
    """The same head motion sampled at 15 and at 60 fps: the drop's swing at the shared instants agrees
    (fixed physics sub-steps; MediaPipe's own noise differs a little between the two)."""
    def run(fps: int) -> np.ndarray:
        n = fps  # one second: still, a move, still
        t = np.arange(n) / fps
        shifts = 40.0 * np.clip((t - 0.3) / 0.2, 0.0, 1.0)
        out = []
        with Pipeline(catalog, [DROP], PipelineOptions(mode="video", render=False)) as pipe:
            for i, f in enumerate(_clip(astronaut, list(shifts))):
                a = pipe.track(Frame(f, int(round(1000 * t[i]))))
                out.append(np.degrees(a.anchors[0].swing_rad[0]) if a.anchors else 0.0)
        return np.array(out)

    slow, fast = run(15), run(60)
    assert np.abs(slow).max() > 2.0
    np.testing.assert_allclose(slow, fast[::4], atol=max(1.5, 0.4 * np.abs(slow).max()))

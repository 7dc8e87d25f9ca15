"""Clips are H.264 MP4 files that ordinary players open, with real timing, capped in length."""

import av
import numpy as np

from tryon.server.clips import ClipWriter


def _frame(i: int) -> np.ndarray:
    rgb = np.zeros((481, 641, 3), np.uint8)  # odd sizes: the writer crops to even ones for yuv420p
    rgb[:, : (i * 10) % 641] = (200, 120, 40)
    return rgb


def test_clip_is_h264_mp4_with_the_frames_timing(tmp_path):
    w = ClipWriter(tmp_path / "c.mp4")
    for i in range(45):
        assert w.add(_frame(i), 1000.0 + i * 1000 / 15)  # 15 fps for 3 s
    assert abs(w.finish() - 44 / 15) < 0.01
    with av.open(str(tmp_path / "c.mp4")) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and (s.width, s.height) == (640, 480)
        frames = list(c.decode(video=0))
    assert len(frames) == 45
    assert abs(float(frames[-1].time) - 44 / 15) < 0.01


def test_clip_stops_at_its_maximum_length(tmp_path):
    w = ClipWriter(tmp_path / "c.mp4", max_s=1.0)
    accepted = [w.add(_frame(i), i * 100.0) for i in range(20)]
    assert accepted == [True] * 11 + [False] * 9
    assert w.finish() == 1.0

"""Recording the processed video into an MP4 (H.264, yuv420p, fast start) that ordinary players open."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

MAX_CLIP_S = 30.0
TIME_BASE = Fraction(1, 1000)  # pts in milliseconds: live frames come at whatever rate the camera gives


class ClipWriter:
    """Frames in, an MP4 out. Write from one thread; `finish()` closes the file (then it is complete)."""

    def __init__(self, path: Path, max_s: float = MAX_CLIP_S) -> None:
        self.path = Path(path)
        self.max_s = max_s
        self._container = av.open(str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"})
        self._stream: av.video.stream.VideoStream | None = None
        self._t0_ms: float | None = None
        self._last_pts = -1
        self.duration_s = 0.0

    def add(self, rgb: np.ndarray, t_ms: float) -> bool:
        """Append a frame shown at t_ms (any monotonic clock); False once the clip is full (frame dropped)."""
        h, w = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2  # yuv420p needs even sizes
        if self._stream is None:
            self._stream = self._container.add_stream("libx264", rate=30)
            self._stream.width, self._stream.height = w, h
            self._stream.pix_fmt = "yuv420p"
            self._stream.time_base = TIME_BASE
            self._stream.codec_context.time_base = TIME_BASE
            self._stream.options = {"preset": "superfast", "crf": "23"}
            self._t0_ms = t_ms
        assert self._t0_ms is not None
        pts = max(int(round(t_ms - self._t0_ms)), self._last_pts + 1)
        if pts / 1000.0 > self.max_s:
            return False
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:h, :w]), format="rgb24")
        frame.pts, frame.time_base = pts, TIME_BASE
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_pts = pts
        self.duration_s = pts / 1000.0
        return True

    def finish(self) -> float:
        """Flush and close; returns the clip's duration in seconds (0 if no frame came)."""
        if self._stream is not None:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        self._container.close()
        return self.duration_s

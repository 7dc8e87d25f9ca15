"""Face mesh with irises: RGB frames -> `FaceLandmarks` in pixels.

Two modes: "image" (each call independent: photos) and "video" (tracks from frame to frame, and takes
each frame's real timestamp). One tracker per stream: MediaPipe keeps tracking state inside.
"""

from __future__ import annotations

from typing import Literal

import mediapipe as mp
import numpy as np

from tryon.errors import InputError, TrackingError
from tryon.types import FaceLandmarks

Mode = Literal["image", "video"]


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Accept an (H, W, 3) uint8 frame; anything else is an InputError naming what it got."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise InputError(f"expected an (H, W, 3) uint8 RGB frame, got {got}")
    if rgb.shape[0] < 16 or rgb.shape[1] < 16:
        raise InputError(f"frame too small: {rgb.shape[1]}x{rgb.shape[0]}")
    return np.ascontiguousarray(rgb)


def feed_timestamp(solution: object, timestamp_ms: int, last_ts_us: int) -> int:
    """Make a legacy `mp.solutions` graph take this frame's real time (it invents steps of 33.3 ms otherwise);
    returns the timestamp used, in microseconds, kept strictly increasing as MediaPipe requires."""
    ts_us = max(int(timestamp_ms) * 1000, last_ts_us + 1)
    solution._simulated_timestamp = ts_us - 33333  # type: ignore[attr-defined]
    return ts_us


class FaceTracker:
    """MediaPipe face mesh (refined: with irises).

    `process(rgb, timestamp_ms)` returns the faces found, largest first; an empty tuple when there is none.
    In video mode timestamps must increase; they are passed to MediaPipe as they are.
    """

    def __init__(self, mode: Mode = "video", max_faces: int | None = None, min_confidence: float = 0.5):
        if mode not in ("image", "video"):
            raise InputError(f"mode must be 'image' or 'video', got {mode!r}")
        self.mode = mode
        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=mode == "image",
            max_num_faces=max_faces or (4 if mode == "image" else 1),
            refine_landmarks=True,
            min_detection_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        self._last_ts_us = -1

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._mesh.close()

    def process(self, rgb: np.ndarray, timestamp_ms: int = 0) -> tuple[FaceLandmarks, ...]:
        rgb = check_rgb(rgb)
        h, w = rgb.shape[:2]
        if self.mode == "video":
            self._last_ts_us = feed_timestamp(self._mesh, timestamp_ms, self._last_ts_us)
        try:
            result = self._mesh.process(rgb)
        except (RuntimeError, ValueError) as e:  # MediaPipe's graph errors
            raise TrackingError(f"face mesh failed: {e}") from e
        found = result.multi_face_landmarks or []
        faces = []
        scale = np.array([w, h, w], np.float32)
        for lm in found:
            pts = np.array([(p.x, p.y, p.z) for p in lm.landmark], np.float32) * scale
            # MediaPipe's normalised coordinates put pixel centres at +0.5; ours are at integers.
            pts[:, :2] -= 0.5
            faces.append(FaceLandmarks(pts, (w, h), int(timestamp_ms)))
        return tuple(sorted(faces, key=lambda f: f.area_px, reverse=True))

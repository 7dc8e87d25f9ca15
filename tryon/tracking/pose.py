"""MediaPipe pose: RGB frames -> `BodyLandmarks` (33 points in pixels, with MediaPipe's metric estimate).

Run only for what the face and hands cannot tell: where the forearms point (elbow to wrist, for wrist
pieces) and where the shoulders are (for necklaces). One tracker per stream: in video mode MediaPipe tracks
the body from frame to frame and takes each frame's real timestamp.
"""

from __future__ import annotations

import mediapipe as mp
import numpy as np

from tryon.errors import TrackingError
from tryon.tracking.face import Mode, check_rgb, feed_timestamp
from tryon.tracking.quiet import QuietStart, native_quiet
from tryon.types import BodyLandmarks

SHOULDERS = (12, 11)  # the person's right, then left
ELBOWS, WRISTS = (13, 14), (15, 16)
MIN_VISIBILITY = 0.5


class PoseTracker:
    """`process(rgb, timestamp_ms)` -> the body in view (the most prominent one), or None."""

    def __init__(self, mode: Mode = "video") -> None:
        # model_complexity 1: the one model the wheel ships (0 and 2 would be downloaded at run time).
        self._mode = mode
        with native_quiet():
            self._pose = mp.solutions.pose.Pose(static_image_mode=mode == "image", model_complexity=1,
                                                smooth_landmarks=False, enable_segmentation=False)
        self._quiet = QuietStart()
        self._last_ts_us = -1

    def __enter__(self) -> PoseTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pose.close()

    def process(self, rgb: np.ndarray, timestamp_ms: int = 0) -> BodyLandmarks | None:
        rgb = check_rgb(rgb)
        h, w = rgb.shape[:2]
        if self._mode == "video":
            self._last_ts_us = feed_timestamp(self._pose, timestamp_ms, self._last_ts_us)
        try:
            with self._quiet():
                result = self._pose.process(rgb)
        except (RuntimeError, ValueError) as e:
            raise TrackingError(f"pose tracking failed: {e}") from e
        if result.pose_landmarks is None or result.pose_world_landmarks is None:
            return None
        lms = result.pose_landmarks.landmark
        world = result.pose_world_landmarks.landmark
        return BodyLandmarks(
            np.array([[p.x * w - 0.5, p.y * h - 0.5] for p in lms], np.float64),
            np.array([p.visibility for p in lms], np.float64),
            np.array([[p.x, p.y, p.z] for p in world], np.float64),
            (w, h), int(timestamp_ms))


def arms(body: BodyLandmarks | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """(elbow_px (2,), wrist_px (2,)) for each arm whose elbow and wrist are both seen."""
    if body is None:
        return []
    return [(body.points_px[e].copy(), body.points_px[wr].copy())
            for e, wr in zip(ELBOWS, WRISTS, strict=True) if body.seen(e, wr, at_least=MIN_VISIBILITY)]


def elbow_for(arms: list[tuple[np.ndarray, np.ndarray]], wrist_px: np.ndarray, hand_size_px: float) -> np.ndarray | None:
    """The elbow of the arm whose pose wrist is nearest this hand's wrist landmark (within a hand's size)."""
    best = min(arms, key=lambda a: float(np.linalg.norm(a[1] - wrist_px)), default=None)
    if best is None or float(np.linalg.norm(best[1] - wrist_px)) > hand_size_px:
        return None
    return best[0]

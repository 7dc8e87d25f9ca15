"""MediaPipe pose, for what the hands alone cannot tell: where the forearms point (elbow to wrist).

Only run for wrist pieces, and not on every frame: forearms move slowly relative to the hand, and the hand
tracker carries the wrist between pose runs.
"""

from __future__ import annotations

import mediapipe as mp
import numpy as np

from tryon.errors import TrackingError
from tryon.tracking.face import Mode, check_rgb

ELBOWS, WRISTS = (13, 14), (15, 16)
MIN_VISIBILITY = 0.5


class PoseTracker:
    """`elbows(rgb)` -> [(elbow_px (2,), wrist_px (2,))] for each arm whose elbow and wrist are both seen."""

    def __init__(self, mode: Mode = "video") -> None:
        # model_complexity 1: the one model the wheel ships (0 and 2 would be downloaded at run time).
        self._pose = mp.solutions.pose.Pose(static_image_mode=mode == "image", model_complexity=1,
                                            smooth_landmarks=mode == "video", enable_segmentation=False)

    def __enter__(self) -> PoseTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pose.close()

    def arms(self, rgb: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        rgb = check_rgb(rgb)
        h, w = rgb.shape[:2]
        try:
            result = self._pose.process(rgb)
        except (RuntimeError, ValueError) as e:
            raise TrackingError(f"pose tracking failed: {e}") from e
        if result.pose_landmarks is None:
            return []
        lms = result.pose_landmarks.landmark
        out = []
        for e, wr in zip(ELBOWS, WRISTS, strict=True):
            if min(lms[e].visibility, lms[wr].visibility) >= MIN_VISIBILITY:
                out.append((np.array([lms[e].x * w - 0.5, lms[e].y * h - 0.5]),
                            np.array([lms[wr].x * w - 0.5, lms[wr].y * h - 0.5])))
        return out


def elbow_for(arms: list[tuple[np.ndarray, np.ndarray]], wrist_px: np.ndarray, hand_size_px: float) -> np.ndarray | None:
    """The elbow of the arm whose pose wrist is nearest this hand's wrist landmark (within a hand's size)."""
    best = min(arms, key=lambda a: float(np.linalg.norm(a[1] - wrist_px)), default=None)
    if best is None or float(np.linalg.norm(best[1] - wrist_px)) > hand_size_px:
        return None
    return best[0]

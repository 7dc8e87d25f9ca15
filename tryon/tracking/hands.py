"""MediaPipe hands: RGB frames -> `HandLandmarks` (21 points in pixels plus MediaPipe's metric world points).

Handedness: MediaPipe labels hands as if the image were mirrored (a selfie view). Our frames are what the
camera sees, unmirrored, unless the caller says otherwise, so the label is swapped to give the hand the
person really uses ("left" is the person's left hand) for mirrored and unmirrored input alike.
"""

from __future__ import annotations

import mediapipe as mp
import numpy as np

from tryon.errors import InputError, TrackingError
from tryon.tracking.face import Mode, check_rgb, feed_timestamp, landmark_array
from tryon.types import HandLandmarks


class HandTracker:
    """`process(rgb, timestamp_ms)` -> the hands found (at most `max_hands`), largest first; () when none.

    mirrored: True when the frames are mirror images of the scene (a selfie camera that flips).
    """

    def __init__(self, mode: Mode = "video", max_hands: int = 2, mirrored: bool = False,
                 model_complexity: int = 1, min_confidence: float = 0.5) -> None:
        if mode not in ("image", "video"):
            raise InputError(f"mode must be 'image' or 'video', got {mode!r}")
        if not 1 <= max_hands <= 4:
            raise InputError(f"max_hands must be 1..4, got {max_hands}")
        self.mode, self.mirrored = mode, mirrored
        self._hands = mp.solutions.hands.Hands(
            static_image_mode=mode == "image", max_num_hands=max_hands, model_complexity=model_complexity,
            min_detection_confidence=min_confidence, min_tracking_confidence=min_confidence)
        self._last_ts_us = -1

    def __enter__(self) -> HandTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._hands.close()

    def process(self, rgb: np.ndarray, timestamp_ms: int = 0) -> tuple[HandLandmarks, ...]:
        rgb = check_rgb(rgb)
        h, w = rgb.shape[:2]
        if self.mode == "video":
            self._last_ts_us = feed_timestamp(self._hands, timestamp_ms, self._last_ts_us)
        try:
            result = self._hands.process(rgb)
        except (RuntimeError, ValueError) as e:
            raise TrackingError(f"hand tracking failed: {e}") from e
        hands = []
        scale = np.array([w, h, w], np.float32)
        for pts, world, label in zip(result.multi_hand_landmarks or [], result.multi_hand_world_landmarks or [],
                                     result.multi_handedness or [], strict=True):
            px = landmark_array(pts) * scale
            px[:, :2] -= 0.5  # MediaPipe's pixel centres sit at +0.5, ours at integers
            wm = landmark_array(world)
            cls = label.classification[0]
            said = cls.label.lower()  # as if mirrored
            side = said if self.mirrored else ("left" if said == "right" else "right")
            hands.append(HandLandmarks(px, wm, side, float(cls.score), (w, h), int(timestamp_ms)))
        return tuple(sorted(hands, key=lambda hd: hd.area_px, reverse=True))

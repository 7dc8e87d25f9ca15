"""Face mesh with irises: RGB frames -> `FaceLandmarks` in pixels.

Two modes: "image" (each call independent: photos) and "video" (tracks from frame to frame, and takes
each frame's real timestamp). One tracker per stream: MediaPipe keeps tracking state inside. In video the
face mesh gets a face-steadied copy of each frame (tryon.tracking.crop), which halves the landmarks'
motion-dependent error.
"""

from __future__ import annotations

from typing import Literal

import mediapipe as mp
import numpy as np

from tryon.errors import InputError, TrackingError
from tryon.tracking.crop import FaceCrop
from tryon.tracking.quiet import QuietStart, native_quiet
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


# A landmark with only x, y and z set, serialised (proto2: set fields are written even when 0): field 1,
# 15 bytes long, holding fields 1-3 as little-endian fixed32 floats.
_RECORD_TAGS = np.array([0x0A, 0x0F, 0x0D, 0x15, 0x1D], np.uint8)
_TAG_AT = [0, 1, 2, 7, 12]
_FLOATS_AT = [3, 4, 5, 6, 8, 9, 10, 11, 13, 14, 15, 16]


def landmark_array(landmarks: object) -> np.ndarray:
    """A MediaPipe (Normalized)LandmarkList -> (n, 3) float32 x, y, z. Reads the serialised message in one
    go (a tenth of the time of reading 478 landmarks one attribute at a time); any other layout (visibility
    or presence set, as the pose tracker's are) is read the slow way."""
    raw = np.frombuffer(landmarks.SerializeToString(), np.uint8)  # type: ignore[attr-defined]
    if raw.size % 17 == 0:
        rec = raw.reshape(-1, 17)
        if np.array_equal(rec[:, _TAG_AT], np.broadcast_to(_RECORD_TAGS, (len(rec), 5))):
            return np.ascontiguousarray(rec[:, _FLOATS_AT]).view("<f4").astype(np.float32).reshape(-1, 3)
    return np.array([(p.x, p.y, p.z) for p in landmarks.landmark], np.float32)  # type: ignore[attr-defined]


def feed_timestamp(solution: object, timestamp_ms: int, last_ts_us: int) -> int:
    """Make a legacy `mp.solutions` graph take this frame's real time (it invents steps of 33.3 ms otherwise);
    returns the timestamp used, in microseconds, kept strictly increasing as MediaPipe requires."""
    ts_us = max(int(timestamp_ms) * 1000, last_ts_us + 1)
    solution._simulated_timestamp = ts_us - 33333  # type: ignore[attr-defined]
    return ts_us


class FaceTracker:
    """MediaPipe face mesh (refined: with irises).

    `process(rgb, timestamp_ms)` returns the faces found, largest first; an empty tuple when there is none.
    In video mode timestamps must increase; they are passed to MediaPipe as they are. steady (the default
    in video with one face): the face mesh reads a face-steadied copy of the frame (tryon.tracking.crop).
    """

    def __init__(self, mode: Mode = "video", max_faces: int | None = None, min_confidence: float = 0.5,
                 steady: bool | None = None):
        if mode not in ("image", "video"):
            raise InputError(f"mode must be 'image' or 'video', got {mode!r}")
        one = mode == "video" and (max_faces or 1) == 1
        if steady and not one:
            raise InputError("a steadied face mesh follows one face in video: a photo has no previous frame")
        self.mode = mode
        with native_quiet():
            self._mesh = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=mode == "image",
                max_num_faces=max_faces or (4 if mode == "image" else 1),
                refine_landmarks=True,
                min_detection_confidence=min_confidence,
                min_tracking_confidence=min_confidence,
            )
        self._quiet = QuietStart()
        self._last_ts_us = -1
        self._steady = FaceCrop() if (one if steady is None else steady) else None

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
        image = rgb if self._steady is None else self._steady(rgb)
        try:
            with self._quiet():
                result = self._mesh.process(image)
        except (RuntimeError, ValueError) as e:  # MediaPipe's graph errors
            raise TrackingError(f"face mesh failed: {e}") from e
        found = result.multi_face_landmarks or []
        faces = []
        ih, iw = image.shape[:2]  # the steadied copy may be smaller than the frame
        scale = np.array([iw, ih, iw], np.float32)
        for lm in found:
            pts = landmark_array(lm) * scale
            # MediaPipe's normalised coordinates put pixel centres at +0.5; ours are at integers.
            pts[:, :2] -= 0.5
            if self._steady is not None:
                seen, pts = pts, self._steady.to_frame(pts)
                self._steady.follow(seen, pts, timestamp_ms)
            faces.append(FaceLandmarks(pts, (w, h), int(timestamp_ms)))
        if self._steady is not None and not faces:
            self._steady.reset()
        return tuple(sorted(faces, key=lambda f: f.area_px, reverse=True))

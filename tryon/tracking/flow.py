"""Sparse optical flow on a region: how a patch of the picture moved between two frames, as a similarity.

MediaPipe's shoulder points are noisy from frame to frame; the texture of the chest and clothes below the
neck moves with the torso and can be followed to a fraction of a pixel. `RegionFlow.step(gray, box)` tracks
corners found in `box` from the last frame to this one (pyramidal Lucas-Kanade, checked forward and back) and
fits a rotation + scale + shift to them with RANSAC. Too little texture (bare skin, a plain shirt): None,
and the caller falls back on what it has.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_CORNERS = 80
MIN_POINTS = 12  # fewer than this tracked: no answer, and new corners are found
LK_WINDOW_PX = (15, 15)  # pyramidal Lucas-Kanade: search window, pyramid levels, stopping criteria
LK_LEVELS = 2
LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.01)
FB_MAX_PX = 0.5  # forward-backward disagreement above this: the point is dropped
RANSAC_PX = 1.0


class RegionFlow:
    def __init__(self) -> None:
        self._gray: np.ndarray | None = None
        self._points: np.ndarray | None = None  # (n, 1, 2) float32 in the last frame

    def reset(self) -> None:
        self._gray = self._points = None

    def step(self, gray: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray | None:
        """(2, 3) similarity from the last frame's pixels to this frame's for the region's texture, or None
        (first frame, too little texture, a cut). box: (x0, y0, x1, y1) where to look for new corners."""
        moved = None
        if self._gray is not None and self._points is not None and len(self._points) >= MIN_POINTS \
                and self._gray.shape == gray.shape:
            ahead, ok = _lucas_kanade(self._gray, gray, self._points)
            back, ok_back = _lucas_kanade(gray, self._gray, ahead)
            good = (ok.ravel() == 1) & (ok_back.ravel() == 1) & \
                (np.linalg.norm((back - self._points).reshape(-1, 2), axis=1) < FB_MAX_PX)
            if int(good.sum()) >= MIN_POINTS:
                m, inliers = cv2.estimateAffinePartial2D(self._points[good], ahead[good], method=cv2.RANSAC,
                                                         ransacReprojThreshold=RANSAC_PX)
                if m is not None and int(inliers.sum()) >= MIN_POINTS:
                    moved = m
                    keep = np.flatnonzero(good)[inliers.ravel() == 1]
                    self._points = ahead[keep]
                else:
                    self._points = None
            else:
                self._points = None
        self._gray = gray
        if (self._points is None or len(self._points) < 2 * MIN_POINTS) and box is not None:
            self._points = _corners(gray, box)
        return moved


def _lucas_kanade(prev: np.ndarray, nxt: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the (n, 1, 2) float32 `points` of `prev` lie in `nxt`, and (n, 1) uint8 status (1: found)."""
    # nextPts=None: OpenCV allocates the output (its stubs want an array there).
    moved, status, _ = cv2.calcOpticalFlowPyrLK(prev, nxt, points, None,  # type: ignore[call-overload]
                                                winSize=LK_WINDOW_PX, maxLevel=LK_LEVELS, criteria=LK_CRITERIA)
    return moved, status


def _corners(gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    h, w = gray.shape
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(w, box[2]), min(h, box[3])
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    mask = np.zeros_like(gray, np.uint8)
    mask[y0:y1, x0:x1] = 255
    found = cv2.goodFeaturesToTrack(gray, MAX_CORNERS, 0.01, 5, mask=mask, blockSize=5)
    return None if found is None else found.astype(np.float32)


class FlowCarrier:
    """A point (and a direction's angle) carried from frame to frame by the flow of a region around it, and
    pulled toward each new measurement by `correction` (a complementary filter: the flow gives the fast,
    precise motion, the measurement keeps it from drifting). No flow (a first frame, no texture): the
    measurement as it is."""

    def __init__(self, correction: float) -> None:
        self.correction = correction
        self._flow = RegionFlow()
        self.px: np.ndarray | None = None
        self.angle = 0.0

    def reset(self) -> None:
        self._flow.reset()
        self.px = None

    def step(self, gray: np.ndarray, box: tuple[int, int, int, int], measured_px: np.ndarray | None,
             measured_angle: float | None = None) -> bool:
        """Advance to this frame; True when `px` (and `angle`) now come from the flow."""
        moved = self._flow.step(gray, box)
        if moved is None or self.px is None:
            if measured_px is not None:
                self.px = np.asarray(measured_px, np.float64).copy()
                self.angle = self.angle if measured_angle is None else measured_angle
            return False
        self.px = moved[:, :2] @ self.px + moved[:, 2]
        self.angle += float(np.arctan2(moved[1, 0], moved[0, 0]))
        if measured_px is not None:
            self.px += self.correction * (np.asarray(measured_px, np.float64) - self.px)
        if measured_angle is not None:
            turn = measured_angle - self.angle
            self.angle += self.correction * float(np.arctan2(np.sin(turn), np.cos(turn)))
        return True

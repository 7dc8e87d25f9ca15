"""Face-steadied input for the face mesh in video.

MediaPipe's face mesh crops its input round the previous frame's landmarks, turned to the eye line and
sized to the face, and its landmarks shift by fractions of a pixel with where the face sits in that crop
and how it is turned and sized there. A face that moves, rolls or changes size therefore moves the
landmarks by errors that follow the motion: slow, smooth errors that no time filter removes without
lag. On the astronaut clip (tryon.tools.stability) the ear landmarks wander 0.45-0.5 px while the
whole face's similarity fit wanders 0.15 px.

`FaceCrop` gives the face mesh a resampled copy of the frame in which the face stays where it was when
it was found: the same place, turn and size from frame to frame, through the similarity that fits the
previous frame's landmarks to that placement. The face mesh then sees nearly the same picture each
frame, and its landmarks, mapped back, follow the face. That similarity goes through a One Euro filter:
followed exactly, the landmarks' own jitter would move the copy, and the copy's motion the landmarks
(a still face's earlobes jittered 0.66 px that way, 0.18 px filtered).

The copy is the frame scaled by k <= 1 (the face keeps its place in normalised coordinates when the
copy starts, so the face mesh's tracking carries over), with k chosen so that the face mesh's region is
about REGION_PX across: it reads 192 px, so little is lost. Only what the face mesh reads is resampled:
the region it takes its next crop from (the previous frame's landmarks in the copy), a little grown. A
face that comes much nearer or goes further away is re-sized in the copy, and one whose region reaches
past the copy's edge is moved in, by small steps the face mesh follows. When the face is lost the next
frame goes to the face mesh whole, for detection.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.filters.one_euro import OneEuroFilter, OneEuroParams

# The face mesh's own region (MediaPipe's face_landmark_front graph): a square 1.5 times the landmarks'
# longer side, centred on their box, turned to the line from landmark 33 to 263.
REGION_SCALE = 1.5
EYE_LINE = (33, 263)
REGION_PX = 192.0  # that region's side in the copy (the face mesh reads it at 192 px)...
MAX_ZOOM = 1.25  # ...within this factor: outside it (or finer than the frame by more than this)
ZOOM_STEP = 0.1  # each frame moves this fraction of the way back (in log scale)
REGION_SLACK = 0.05  # resampled: that region's bounding box grown by this fraction (rounding, MediaPipe's own fit)
RECENTRE_STEP = 0.25  # a placement whose region leaves the copy moves this fraction of the way back per frame
# The copy's similarity, filtered as the face's centre, log scale and turn (both times the face's
# half-size, so all three are pixels of the frame at the face's edge).
MAP_FILTER = OneEuroParams(min_cutoff_hz=1.0, beta=0.2)


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> tuple[complex, complex]:
    """Least-squares similarity dst ~ a * src + b on (n, 2) points, as complex numbers (a, b)."""
    zs, zd = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    ms, md = zs.mean(), zd.mean()
    a = complex(np.vdot(zs - ms, zd - md) / np.vdot(zs - ms, zs - ms))
    return a, complex(md - a * ms)


def region_side(points: np.ndarray) -> float:
    """The face mesh's region's side for these (468+, 2) landmarks, pixels."""
    p = points[:468]
    return REGION_SCALE * float(np.ptp(p, axis=0).max())


def region_box(points: np.ndarray, slack: float = REGION_SLACK) -> tuple[np.ndarray, np.ndarray]:
    """The bounding box (lo, hi), (2,) pixels each, of the face mesh's turned square region for these
    (468+, 2) landmarks, grown by `slack` of its size."""
    p = np.asarray(points, np.float64)[:468, :2]
    lo, hi = p.min(axis=0), p.max(axis=0)
    ex, ey = p[EYE_LINE[1]] - p[EYE_LINE[0]]
    spread = (abs(ex) + abs(ey)) / max(float(np.hypot(ex, ey)), 1e-6)  # a turned square is wider
    half = 0.5 * region_side(p) * spread * (1.0 + slack)
    return 0.5 * (lo + hi) - half, 0.5 * (lo + hi) + half


class FaceCrop:
    """The copy's map to the frame: copy point c -> frame point a * c + b, complex pixel coordinates
    (pixel centres at integers in both)."""

    def __init__(self) -> None:
        self._place: np.ndarray | None = None  # (468, 2) where the face stays in the copy
        self._seen: np.ndarray | None = None  # (468, 2) the last landmarks in the copy: the face mesh's next crop
        self._place_box = (np.zeros(2), np.zeros(2))  # the placement's region (no slack)
        self._map: tuple[complex, complex] | None = None  # None: the frame as it is
        self._buffer: np.ndarray | None = None
        self._frame_size = (0, 0)
        self._lever = 1.0
        self._filter = OneEuroFilter(MAP_FILTER)
        self.a, self.b = 1.0 + 0j, 0j

    def reset(self) -> None:
        """The face is lost: the next frame goes to the face mesh whole."""
        self._place, self._seen, self._map, self._buffer = None, None, None, None
        self._filter.reset()

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        """The picture the face mesh gets for this frame; sets the map `to_frame` uses."""
        h, w = rgb.shape[:2]
        if (w, h) != self._frame_size:  # a new stream or a new size: start again
            self.reset()
            self._frame_size = (w, h)
        if self._map is None or self._place is None or self._seen is None or self._buffer is None:
            self.a, self.b = 1.0 + 0j, 0j
            return rgb
        self.a, self.b = self._map
        ch, cw = self._buffer.shape[:2]
        lo, hi = region_box(self._seen)
        x0, y0 = np.clip(np.floor(lo).astype(int), 0, [cw, ch])
        x1, y1 = np.clip(np.ceil(hi).astype(int) + 1, 0, [cw, ch])
        if x1 > x0 and y1 > y0:
            # The region's own origin: c = (x0, y0) + local, so frame = a * local + (a * (x0 + i y0) + b).
            b = self.a * complex(x0, y0) + self.b
            m = np.array([[self.a.real, -self.a.imag, b.real], [self.a.imag, self.a.real, b.imag]])
            self._buffer[y0:y1, x0:x1] = cv2.warpAffine(
                rgb, m, (int(x1 - x0), int(y1 - y0)), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE)
        return self._buffer

    def _set_place(self, place: np.ndarray) -> None:
        self._place = place
        self._place_box = region_box(place, slack=0.0)

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) landmarks in the copy (x, y, z pixels) -> in the frame; z scales with the copy."""
        z = self.a * (points[:, 0] + 1j * points[:, 1]) + self.b
        return np.stack([z.real, z.imag, points[:, 2] * abs(self.a)], axis=1).astype(np.float32)

    def follow(self, seen: np.ndarray, frame_points: np.ndarray, t_ms: float) -> None:
        """After a frame in which the face was found: aim the next copy. seen, frame_points : (n, 2+) the
        landmarks in this frame's copy and in the frame; t_ms the frame's time."""
        self._seen = np.asarray(seen, np.float64)[:468, :2].copy()
        target = np.asarray(frame_points, np.float64)[:468, :2]
        if self._place is None:  # just found: the copy starts as the frame scaled by k, the face in place
            w, h = self._frame_size
            k = min(1.0, REGION_PX / region_side(target))
            self._buffer = np.zeros((max(16, round(h * k)), max(16, round(w * k)), 3), np.uint8)
            self._set_place((target + 0.5) * k - 0.5)
            self._lever = 0.5 * region_side(target)  # the filter's unit for scale and turn, frame pixels
        assert self._place is not None and self._buffer is not None
        a, b = fit_similarity(self._place, target)
        side = region_side(self._place)
        goal = min(REGION_PX, side * abs(a))  # not finer than the frame
        moved = not 1.0 / MAX_ZOOM <= goal / side <= MAX_ZOOM
        if moved:
            centre = self._place.mean(axis=0)
            self._set_place(centre + (self._place - centre) * (goal / side) ** ZOOM_STEP)
        lo, hi = self._place_box
        size = np.array(self._buffer.shape[1::-1], np.float64) - 1.0
        # Where the region leaves the copy: the shift that brings it in (or centres it, if it is larger).
        shift = np.where(hi - lo > size, 0.5 * (size - lo - hi), np.maximum(0.0, -lo) - np.maximum(0.0, hi - size))
        if shift.any():
            self._set_place(self._place + RECENTRE_STEP * shift)
            moved = True
        if moved:
            a, b = fit_similarity(self._place, target)
        centre = self._place.mean(axis=0) @ np.array([1.0, 1j])
        lever = self._lever
        q = a * centre + b
        v = self._filter(np.array([q.real, q.imag, lever * np.log(abs(a)), lever * np.angle(a)]), t_ms)
        a = complex(np.exp(v[2] / lever) * np.exp(1j * v[3] / lever))
        self._map = (a, complex(v[0], v[1]) - a * centre)

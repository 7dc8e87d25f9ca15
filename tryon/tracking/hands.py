"""MediaPipe hands: RGB frames -> `HandLandmarks` (21 points in pixels plus MediaPipe's metric world points).

Handedness: MediaPipe labels hands as if the image were mirrored (a selfie view). Our frames are what the
camera sees, unmirrored, unless the caller says otherwise, so the label is swapped to give the hand the
person really uses ("left" is the person's left hand) for mirrored and unmirrored input alike.

Video: one MediaPipe graph per hand. A graph asked for two hands runs its palm detector on every frame in
which it tracks fewer than two, which is most frames of a ring try-on (one hand up): 20 ms a frame on this
machine against 9 ms for one hand's graph. Here each graph follows one hand; while a hand is followed, an
idle graph looks for another every SEARCH_EVERY frames, in a copy of the frame with the hands followed so
far painted out; with no hand followed, the first graph looks on every frame. A graph that finds a hand
another already follows is dropped back to looking. The graphs of one frame run at once, in threads
(MediaPipe releases the GIL): two hands cost about what one does on two cores.

Photos: the palm detector sees the whole picture at 192 pixels, where a small hand, or one cut by the frame's
edge, is a few pixels of palm. So a photo is also read in TILES x TILES overlapping tiles (each one the
detector sees at up to its full 192 pixels); a hand found there that no hand of the whole picture overlaps
is added if it is what a tile is for: small in the picture, surely a hand (handedness score), not collapsed
onto a line. Tiles smaller than TILE_MIN_PX are not read: the detector would see them magnified, and finds
hands in faces there.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import mediapipe as mp
import numpy as np

from tryon.errors import InputError, TrackingError
from tryon.tracking.face import Mode, check_rgb, feed_timestamp, landmark_array
from tryon.tracking.quiet import QuietStart, native_quiet
from tryon.types import HandLandmarks

SEARCH_EVERY = 5  # video, a hand tracked: look for another one every n-th frame (6 times a second at 30 fps)
MASK_GROW = 0.3  # a tracked hand is painted out over its box grown by this fraction of its size each side
SAME_HAND_IOU = 0.3  # two graphs' hands whose boxes overlap this much are the same hand
TILES = 2  # photos: also read in 2 x 2 tiles, each TILE_OVERLAP of its size into its neighbours
TILE_OVERLAP = 0.3
TILE_MIN_PX = 256  # a tile's longer side at least this
TILE_HAND_MAX = 0.3  # a tile's hand spans at most this fraction of the picture's longer side
TILE_HAND_SCORE = 0.9  # and MediaPipe is at least this sure of its side (false hands in faces score lower)
TILE_HAND_ASPECT = 0.25  # its box's shorter side at least this fraction of its longer one


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
        self.mode, self.mirrored, self.max_hands = mode, mirrored, max_hands
        video = mode == "video"
        with native_quiet():
            self._graphs = [mp.solutions.hands.Hands(
                static_image_mode=not video, max_num_hands=1 if video else max_hands,
                model_complexity=model_complexity, min_detection_confidence=min_confidence,
                min_tracking_confidence=min_confidence)
                for _ in range(max_hands if video else 1)]
        self._quiet = [QuietStart() for _ in self._graphs]  # a graph's first frames chatter on stderr
        self._last_ts_us = [-1] * len(self._graphs)
        self._following = [False] * len(self._graphs)  # video: which graphs follow a hand
        self._last: list[HandLandmarks] = []  # video: the previous frame's hands
        self._frame = 0
        self._pool = ThreadPoolExecutor(len(self._graphs), "hands") if len(self._graphs) > 1 else None

    def __enter__(self) -> HandTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        for g in self._graphs:
            g.close()

    def process(self, rgb: np.ndarray, timestamp_ms: int = 0) -> tuple[HandLandmarks, ...]:
        rgb = check_rgb(rgb)
        if self.mode == "image":
            found = self._run(0, rgb, timestamp_ms)
            h, w = rgb.shape[:2]
            for x0, y0, x1, y1 in tiles(w, h):
                if max(x1 - x0, y1 - y0) < TILE_MIN_PX:
                    break
                for hand in self._run(0, np.ascontiguousarray(rgb[y0:y1, x0:x1]), timestamp_ms):
                    hand = _moved(hand, x0, y0, w, h)
                    if _tile_hand(hand, max(w, h)) and not _same_hand(hand, found):
                        found.append(hand)
            return tuple(sorted(found, key=lambda hd: hd.area_px, reverse=True)[:self.max_hands])
        jobs = [(g, rgb) for g in range(len(self._graphs)) if self._following[g]]
        idle = [g for g in range(len(self._graphs)) if not self._following[g]]
        if idle and (not jobs or self._frame % SEARCH_EVERY == 0):
            jobs.append((idle[0], _paint_out(rgb, self._last) if jobs else rgb))
        if self._pool is not None and len(jobs) > 1:
            results = list(self._pool.map(lambda job: self._run(job[0], job[1], timestamp_ms), jobs))
        else:
            results = [self._run(g, image, timestamp_ms) for g, image in jobs]
        hands: list[HandLandmarks] = []
        for (g, _), found in zip(jobs, results, strict=True):  # followers first, then the search
            found = [hd for hd in found if not _same_hand(hd, hands)]
            self._following[g] = bool(found)
            hands += found
        self._last = hands
        self._frame += 1
        return tuple(sorted(hands, key=lambda hd: hd.area_px, reverse=True))

    def _run(self, g: int, rgb: np.ndarray, timestamp_ms: int) -> list[HandLandmarks]:
        """Graph g on this picture: its hands (pixel coordinates of rgb)."""
        h, w = rgb.shape[:2]
        graph = self._graphs[g]
        if self.mode == "video":
            self._last_ts_us[g] = feed_timestamp(graph, timestamp_ms, self._last_ts_us[g])
        try:
            with self._quiet[g]():
                result = graph.process(rgb)
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
        return hands


def tiles(w: int, h: int, n: int = TILES, overlap: float = TILE_OVERLAP) -> list[tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of n x n tiles covering a w x h picture, each `overlap` of its size into the next."""
    tw, th = w / (n - (n - 1) * overlap), h / (n - (n - 1) * overlap)
    return [(round(j * tw * (1 - overlap)), round(i * th * (1 - overlap)),
             min(w, round(j * tw * (1 - overlap) + tw)), min(h, round(i * th * (1 - overlap) + th)))
            for i in range(n) for j in range(n)]


def _moved(hand: HandLandmarks, x0: int, y0: int, w: int, h: int) -> HandLandmarks:
    """A hand found in a tile whose corner is (x0, y0), in the whole w x h picture's pixels."""
    px = hand.points_px.copy()
    px[:, 0] += x0
    px[:, 1] += y0  # (relative depth is in pixels too: a tile's are the picture's)
    return dataclasses.replace(hand, points_px=px, image_size=(w, h))


def _tile_hand(hand: HandLandmarks, picture_px: int) -> bool:
    """Whether a hand found in a tile is kept (see the module's docstring)."""
    lo, hi = hand.points_px[:, :2].min(axis=0), hand.points_px[:, :2].max(axis=0)
    span = hi - lo
    return (float(span.max()) <= TILE_HAND_MAX * picture_px and hand.score >= TILE_HAND_SCORE
            and float(span.min()) >= TILE_HAND_ASPECT * float(span.max()))


def _box(hand: HandLandmarks, grow: float = 0.0) -> np.ndarray:
    lo, hi = hand.points_px[:, :2].min(axis=0), hand.points_px[:, :2].max(axis=0)
    pad = grow * (hi - lo).max()
    return np.concatenate([lo - pad, hi + pad])


def _same_hand(hand: HandLandmarks, others: list[HandLandmarks]) -> bool:
    a = _box(hand)
    for other in others:
        b = _box(other)
        inter = np.prod(np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0.0, None))
        union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
        if inter > SAME_HAND_IOU * max(union, 1e-6):
            return True
    return False


def _paint_out(rgb: np.ndarray, hands: list[HandLandmarks]) -> np.ndarray:
    """The frame with these hands covered in mid grey (the frame itself when there are none)."""
    if not hands:
        return rgb
    out = rgb.copy()
    h, w = rgb.shape[:2]
    for hand in hands:
        x0, y0, x1, y1 = _box(hand, MASK_GROW)
        out[max(0, int(y0)) : min(h, int(y1) + 1), max(0, int(x0)) : min(w, int(x1) + 1)] = 128
    return out

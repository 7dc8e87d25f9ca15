"""Hands in front of a necklace or an earring: which pixels of a region a hand covers, so the piece passes
behind it, pixel by pixel.

A hand that overlaps a chain in the picture is in front of it: the chain lies on the skin of the neck and chest,
and a hand cannot reach between them. A hand over an ear's lobe (a phone held to it, a hand at the cheek) is in
front of the earring that hangs there. So these pieces are hidden where the hand's silhouette lies, drawn flat:
the hand's capsule occluders (tryon.anchors.fingers.hand_occluders, each phalanx at its measured width, the palm
and the forearm), projected, and each palm's outline with the web of its thumb (landmarks PALM_OUTLINE). Their
depth is not used: it comes from an average hand's size and the neck's from an average head's, and the two are
not known well enough to say which is nearer (drawn with depth, the capsules of a hand at the chin hid nothing
of the chain there).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from tryon.anchors.fingers import OCCLUDER_INSET
from tryon.types import Capsule, Cover, HandLandmarks, Intrinsics

SHIFT = 2  # cv2 drawing's fractional bits: quarter pixels
PALM_OUTLINE = (0, 1, 2, 5, 9, 13, 17)  # the wrist, the thumb's base and first joint, the knuckles
CLOSE_MAX_PX = 17  # the slits' closing at most this wide (a hand at the lens would ask for a huge one)


class HandCover:
    """`HandCover(capsules, intrinsics, hands)(x0, y0, w, h)` -> (h, w) float32 0..1, how much the hands'
    silhouette covers each pixel of that region of the frame; None where it covers none of it. hands: the
    hands' landmarks, for their palms' outlines. The silhouette is drawn once, over the hands' box, when a
    region first reaches it."""

    def __init__(self, capsules: Sequence[Capsule], intr: Intrinsics, hands: Sequence[HandLandmarks] = ()) -> None:
        outlines = [h.points_px[list(PALM_OUTLINE), :2].astype(np.float32) for h in hands]
        self._palms = [cv2.convexHull(p)[:, 0] for p in outlines if np.isfinite(p).all()]
        # Each capsule as a row: a (3), b (3), radius at a, radius at b; those in front of the camera and finite.
        rows = np.array([[*c.a_m, *c.b_m, c.radius_a_m, c.radius_b_m] for c in capsules], np.float64).reshape(-1, 8)
        rows = rows[np.isfinite(rows).all(axis=1) & (rows[:, 2] > 0.0) & (rows[:, 5] > 0.0)]
        # A capsule sits inside the finger (OCCLUDER_INSET of its radius): its silhouette is the finger's.
        ra = rows[:, 6] / rows[:, 2] * intr.fx / OCCLUDER_INSET
        rb = rows[:, 7] / rows[:, 5] * intr.fx / OCCLUDER_INSET
        self._caps = np.column_stack([intr.project(rows[:, 0:3]), ra, intr.project(rows[:, 3:6]), rb]) if len(rows) \
            else np.zeros((0, 6))  # (n, 6): xa, ya, ra, xb, yb, rb pixels
        r = np.maximum(self._caps[:, 2:3], self._caps[:, 5:6])
        lo = np.minimum(self._caps[:, 0:2], self._caps[:, 3:5]) - r
        hi = np.maximum(self._caps[:, 0:2], self._caps[:, 3:5]) + r
        palms = [np.concatenate([p.min(axis=0), p.max(axis=0)]) for p in self._palms]
        self._boxes = np.vstack([np.hstack([lo, hi]), *palms]) if palms else np.hstack([lo, hi])  # x0 y0 x1 y1 each
        self._frame = (intr.width_px, intr.height_px)
        self._drawn: tuple[int, int, np.ndarray] | None = None

    def __call__(self, x0: int, y0: int, w: int, h: int) -> np.ndarray | None:
        if not ((self._boxes[:, 0] < x0 + w) & (self._boxes[:, 2] > x0)
                & (self._boxes[:, 1] < y0 + h) & (self._boxes[:, 3] > y0)).any():
            return None
        mx, my, mask = self._silhouette()
        out = np.zeros((h, w), np.uint8)
        sx0, sy0 = max(x0, mx), max(y0, my)
        sx1, sy1 = min(x0 + w, mx + mask.shape[1]), min(y0 + h, my + mask.shape[0])
        if sx1 <= sx0 or sy1 <= sy0:
            return None
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = mask[sy0 - my : sy1 - my, sx0 - mx : sx1 - mx]
        if not out.any():
            return None
        return cv2.GaussianBlur(out.astype(np.float32), (3, 3), 0)

    def _silhouette(self) -> tuple[int, int, np.ndarray]:
        """(x0, y0, mask): the hands' silhouette, uint8 0/1, over their box (grown by the closing's reach, so
        that the closing does not fill out to the box's edge; within the frame: a capsule close to the camera
        can reach far past it) at (x0, y0)."""
        if self._drawn is None:
            # Fingers held together leave slits between their capsules (each a little thinner than its finger):
            # closed, up to about half a finger's width (at most CLOSE_MAX_PX across).
            finger_px = float(np.median(self._caps[:, 2])) if len(self._caps) else 0.0
            k = min(2 * max(1, round(0.25 * finger_px)) + 1, CLOSE_MAX_PX)
            size, grow = np.array(self._frame), k // 2 + 2
            x0, y0 = np.clip(np.floor(self._boxes[:, :2].min(axis=0)) - grow, 0, size).astype(int).tolist()
            x1, y1 = np.clip(np.ceil(self._boxes[:, 2:].max(axis=0)) + grow, 0, size).astype(int).tolist()
            x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            one = 1 << SHIFT
            origin = np.array([x0, y0], np.float64)
            for palm in self._palms:
                cv2.fillConvexPoly(mask, np.round((palm - origin) * one).astype(np.int32), (1,), cv2.LINE_8, SHIFT)
            caps = self._caps.copy()
            caps[:, [0, 3]] -= x0
            caps[:, [1, 4]] -= y0
            fixed = np.round(caps * one).astype(np.int64)
            quads = np.round(_tangent_quads(caps) * one).astype(np.int32)
            # The end circles, each joint once (a finger's bones meet at joints, the palm's at the wrist).
            for x, y, r in np.unique(np.vstack([fixed[:, 0:3], fixed[:, 3:6]]), axis=0).tolist():
                cv2.circle(mask, (x, y), max(1, r), (1,), -1, cv2.LINE_8, SHIFT)
            for quad in quads[quads[:, 0, 0] != NO_QUAD]:
                cv2.fillConvexPoly(mask, quad, (1,), cv2.LINE_8, SHIFT)
            closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
            self._drawn = (x0, y0, closed)
        return self._drawn


NO_QUAD = np.iinfo(np.int32).min  # _tangent_quads' mark for a capsule whose one end circle holds the other


def _tangent_quads(caps: np.ndarray) -> np.ndarray:
    """(n, 4, 2) for (n, 6) capsules (xa, ya, ra, xb, yb, rb): the quadrilateral between each one's two end
    circles' outer tangents (a cone-sided capsule's flat silhouette); NO_QUAD where one circle holds the other."""
    pa, ra, pb, rb = caps[:, 0:2], caps[:, 2:3], caps[:, 3:5], caps[:, 5:6]
    d = pb - pa
    length = np.hypot(d[:, 0:1], d[:, 1:2])
    ok = (length > np.abs(ra - rb))[:, 0]
    u = d / np.maximum(length, 1e-9)
    # The tangent points lie off the axis by the angle whose cosine is (ra - rb) / length.
    c = np.clip((ra - rb) / np.maximum(length, 1e-9), -1.0, 1.0)
    s = np.sqrt(1.0 - c * c)
    perp = np.column_stack([-u[:, 1], u[:, 0]])
    n1, n2 = c * u + s * perp, c * u - s * perp
    quads = np.stack([pa + ra * n1, pb + rb * n1, pb + rb * n2, pa + ra * n2], axis=1)
    quads[~ok] = NO_QUAD / (1 << SHIFT)
    return quads


class Either:
    """Two covers of one site as one: what either hides (hair over an ear and a hand at it)."""

    def __init__(self, first: Cover, second: Cover) -> None:
        self.covers = (first, second)

    def __call__(self, x0: int, y0: int, w: int, h: int) -> np.ndarray | None:
        a, b = (cover(x0, y0, w, h) for cover in self.covers)
        if a is None or b is None:
            return a if b is None else b
        return np.maximum(a, b)

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

import math
from collections.abc import Sequence

import cv2
import numpy as np

from tryon.anchors.fingers import OCCLUDER_INSET
from tryon.types import Capsule, Cover, HandLandmarks, Intrinsics

SHIFT = 2  # cv2 drawing's fractional bits: quarter pixels
PALM_OUTLINE = (0, 1, 2, 5, 9, 13, 17)  # the wrist, the thumb's base and first joint, the knuckles


class HandCover:
    """`HandCover(capsules, intrinsics, hands)(x0, y0, w, h)` -> (h, w) float32 0..1, how much the hands'
    silhouette covers each pixel of that region of the frame; None where it covers none of it. hands: the
    hands' landmarks, for their palms' outlines."""

    def __init__(self, capsules: Sequence[Capsule], intr: Intrinsics, hands: Sequence[HandLandmarks] = ()) -> None:
        outlines = [h.points_px[list(PALM_OUTLINE), :2].astype(np.float32) for h in hands]
        self._palms = [cv2.convexHull(p)[:, 0] for p in outlines if np.isfinite(p).all()]
        ends = [(c.a_m, c.radius_a_m, c.b_m, c.radius_b_m) for c in capsules  # in front of the camera, finite
                if c.a_m[2] > 0.0 and c.b_m[2] > 0.0 and np.isfinite([*c.a_m, *c.b_m, c.radius_a_m, c.radius_b_m]).all()]
        if ends:
            a = intr.project(np.array([e[0] for e in ends]))
            b = intr.project(np.array([e[2] for e in ends]))
            # A capsule sits inside the finger (OCCLUDER_INSET of its radius): its silhouette is the finger's.
            ra = np.array([e[1] / e[0][2] for e in ends]) * intr.fx / OCCLUDER_INSET
            rb = np.array([e[3] / e[2][2] for e in ends]) * intr.fx / OCCLUDER_INSET
            self._caps = np.column_stack([a, ra, b, rb])  # (n, 6): xa, ya, ra, xb, yb, rb pixels
        else:
            self._caps = np.zeros((0, 6))
        self._finger_px = float(np.median(self._caps[:, 2])) if len(self._caps) else 0.0  # a typical radius
        lo = np.minimum(self._caps[:, 0:2], self._caps[:, 3:5]) - np.maximum(self._caps[:, 2:3], self._caps[:, 5:6])
        hi = np.maximum(self._caps[:, 0:2], self._caps[:, 3:5]) + np.maximum(self._caps[:, 2:3], self._caps[:, 5:6])
        palms = [np.concatenate([p.min(axis=0), p.max(axis=0)]) for p in self._palms]
        self._boxes = np.vstack([np.hstack([lo, hi]), *palms]) if palms else np.hstack([lo, hi])  # x0 y0 x1 y1 each

    def __call__(self, x0: int, y0: int, w: int, h: int) -> np.ndarray | None:
        near = np.flatnonzero((self._boxes[:, 0] < x0 + w) & (self._boxes[:, 2] > x0)
                              & (self._boxes[:, 1] < y0 + h) & (self._boxes[:, 3] > y0))
        if not len(near):
            return None
        mask = np.zeros((h, w), np.uint8)
        one = 1 << SHIFT
        for k in near[near >= len(self._caps)]:
            palm = np.round((self._palms[k - len(self._caps)] - [x0, y0]) * one).astype(np.int32)
            cv2.fillConvexPoly(mask, palm, (1,), cv2.LINE_8, SHIFT)
        for xa, ya, ra, xb, yb, rb in self._caps[near[near < len(self._caps)]]:
            pa, pb = np.array([xa - x0, ya - y0]), np.array([xb - x0, yb - y0])
            for p, r in ((pa, ra), (pb, rb)):
                cv2.circle(mask, tuple(int(v) for v in np.round(p * one)), max(1, round(r * one)), (1,), -1,
                           cv2.LINE_8, SHIFT)
            side = _tangent_quad(pa, ra, pb, rb)
            if side is not None:
                cv2.fillConvexPoly(mask, np.round(side * one).astype(np.int32), (1,), cv2.LINE_8, SHIFT)
        if not mask.any():
            return None
        # Fingers held together leave slits between their capsules (each a little thinner than its finger):
        # closed, up to about half a finger's width.
        k = 2 * max(1, round(0.25 * self._finger_px)) + 1
        closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        return cv2.GaussianBlur(closed.astype(np.float32), (3, 3), 0)


def _tangent_quad(pa: np.ndarray, ra: float, pb: np.ndarray, rb: float) -> np.ndarray | None:
    """(4, 2) the quadrilateral between two circles' outer tangents (a cone-sided capsule's flat silhouette);
    None when one circle holds the other."""
    d = pb - pa
    length = float(np.hypot(*d))
    if length <= abs(ra - rb):
        return None
    u = d / length
    # The tangent points lie off the axis by the angle whose cosine is (ra - rb) / length.
    c = (ra - rb) / length
    s = math.sqrt(max(0.0, 1.0 - c * c))
    n1, n2 = np.array([c * u[0] - s * u[1], s * u[0] + c * u[1]]), np.array([c * u[0] + s * u[1], -s * u[0] + c * u[1]])
    return np.array([pa + ra * n1, pb + rb * n1, pb + rb * n2, pa + ra * n2])


class Either:
    """Two covers of one site as one: what either hides (hair over an ear and a hand at it)."""

    def __init__(self, first: Cover, second: Cover) -> None:
        self._first, self._second = first, second

    def __call__(self, x0: int, y0: int, w: int, h: int) -> np.ndarray | None:
        a, b = self._first(x0, y0, w, h), self._second(x0, y0, w, h)
        if a is None or b is None:
            return a if b is None else b
        return np.maximum(a, b)

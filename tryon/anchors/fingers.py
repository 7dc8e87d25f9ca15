"""Ring anchors: a pose on each finger's proximal phalanx, the finger's measured width (a ring size), and
capsule occluders for the fingers and palm.

Steps for one hand in one frame:
1. `hand_pose`: each landmark on its pixel's ray, at MediaPipe's relative depth around a distance that gives
   the palm the metric size of MediaPipe's world hand (within adult bounds). (PnP of the world landmarks onto
   the pixels was the first way: on some photos the world hand collapses and PnP lands 100 px off.)
2. `ring_seats`: on each proximal phalanx (thumb: MCP->IP; fingers: MCP->PIP) the point where a ring rests,
   SEAT_AT of the way from the knuckle, oriented +y toward the fingertip, +z out of the back of the hand.
3. `measure_width_px`: the finger's width across the phalanx at the seat, from the strongest edges on both
   sides of image profiles square to the finger; metres through the seat's depth. The ring's inner diameter
   is the circle of the same circumference as the finger's (elliptical) cross-section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from tryon.body import us_ring_size
from tryon.types import AnchorPose, Capsule, HandLandmarks, HandSizes, Intrinsics, Size

FINGERS = ("thumb", "index", "middle", "ring", "little")
# Landmark chains per finger, base to tip; the proximal phalanx is the first bone after the knuckle.
CHAINS = {"thumb": (1, 2, 3, 4), "index": (5, 6, 7, 8), "middle": (9, 10, 11, 12), "ring": (13, 14, 15, 16),
          "little": (17, 18, 19, 20)}
PROXIMAL = {f: (c[1], c[2]) if f == "thumb" else (c[0], c[1]) for f, c in CHAINS.items()}
SEAT_AT = 0.48  # a ring rests just past the finger's web: about halfway from the knuckle to the middle joint
# Adult finger widths across the proximal phalanx at the ring seat (mm), the prior where no edge is found
# (ring size US 7 is 17.3 mm inner diameter; thumbs and little fingers are the widest and narrowest).
PRIOR_WIDTH_MM = {"thumb": 21.0, "index": 18.5, "middle": 18.8, "ring": 17.8, "little": 15.6}
DEPTH_TO_WIDTH = 0.85  # a finger's cross-section is an ellipse this much thinner (palm to back) than wide
# MediaPipe's world hand gives the palm's size (MCP breadth 5-17 plus palm length 0-9); adult hands span
# about this (breadth 70-90 mm, length 90-110 mm as MediaPipe places the points).
PALM_SIZE_MM = (120.0, 200.0)
PALM_SIZE_PRIOR_MM = 158.0
PALM = (0, 5, 9, 13, 17)  # the wrist and the four knuckles: the palm's points that move together
# The palm's outline seen square on (PALM's points, x toward the little finger on a right hand's back, y toward the
# wrist, unit size): the mean of nine hands held square to the camera, aligned by similarity.
PALM_OUTLINE = np.array([[-0.043, 0.746], [-0.357, -0.235], [-0.092, -0.261], [0.141, -0.192], [0.350, -0.059]])
SQUARE_ON = 0.90  # palms' outlines differ: a foreshortening ratio above this is within that spread (no tilt)
MAX_TILT = math.radians(80.0)  # the palm's tilt is capped short of edge-on (its depth slope would be infinite)
WORLD_SCALE_SIGMA = 0.07  # relative uncertainty of the metric scale
EDGE_SIGMA_PX = 1.0
OCCLUDER_INSET = 0.9  # the finger occluder sits inside the ring's inner radius: the band's back hides


def ellipse_perimeter(a: float, b: float) -> float:
    """Ramanujan's approximation; a, b the semi-axes."""
    return math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))


def width_to_inner_diameter(width_mm: float) -> float:
    """The round ring whose inner circumference equals the finger's elliptical cross-section's."""
    return ellipse_perimeter(width_mm / 2, DEPTH_TO_WIDTH * width_mm / 2) / math.pi


def ring_sizes(inner_diameter_mm: float) -> dict[str, float]:
    """US/Canada size to a quarter and ISO 8653 / EU size (inner circumference, mm) (tryon.body's scale)."""
    return {"us": round(us_ring_size(inner_diameter_mm) * 4) / 4, "eu": round(math.pi * inner_diameter_mm, 1)}


def sizes_to_json(hand: HandSizes) -> dict[str, Any]:
    """One hand's sizes as JSON (`tryon anchors --json`, the live stats): per finger the ring's inner diameter
    (mm, one sigma) with US and EU sizes, and the wrist's circumference."""
    return {
        "side": hand.side,
        "ring_size": {f: {"inner_diameter_mm": s.value_mm, "sigma_mm": s.sigma_mm, **ring_sizes(s.value_mm)}
                      for f, s in hand.fingers.items()},
        "wrist_circumference_mm": None if hand.wrist_circumference is None else {
            "value": hand.wrist_circumference.value_mm, "sigma": hand.wrist_circumference.sigma_mm},
    }


@dataclass(frozen=True)
class HandPose:
    """One hand in camera metres. points_m : (21, 3) the landmarks; dorsal_m : (3,) unit normal out of the
    back of the hand; scale_sigma : relative uncertainty of the metric scale."""

    side: str
    points_m: np.ndarray
    dorsal_m: np.ndarray
    scale_sigma: float


def hand_pose(hand: HandLandmarks, intr: Intrinsics) -> HandPose | None:
    """Lift the hand into camera metres: every landmark on its own pixel's ray, at depths from MediaPipe's
    relative z around a hand distance that makes the palm as big as MediaPipe's metric world hand (where
    that is within adult bounds; else an average adult palm). None for a degenerate hand."""
    px = hand.points_px.astype(np.float64)
    world = hand.world_m.astype(np.float64)
    world_mm = _palm_size(world) * 1e3
    sigma = WORLD_SCALE_SIGMA
    if not PALM_SIZE_MM[0] <= world_mm <= PALM_SIZE_MM[1]:  # MediaPipe's metric estimate failed
        world_mm, sigma = PALM_SIZE_PRIOR_MM, 0.15
    size_px = _palm_size(px)  # MediaPipe's z is in the same units as x: pixels at the hand's distance
    if size_px < 4.0:
        return None
    z0 = intr.fx * world_mm * 1e-3 / size_px
    z = z0 * (1.0 + (px[:, 2] - px[0, 2]) / intr.fx)
    if float(z.min()) <= 0.02:
        return None
    pts = np.stack([(px[:, 0] - intr.cx) * z / intr.fx, (px[:, 1] - intr.cy) * z / intr.fy, z], axis=1)
    pts, normal = turn_palm(pts, px)
    if float(pts[:, 2].min()) <= 0.02:
        return None
    back = palm_dorsal(pts, hand.side)
    return HandPose(hand.side, pts, normal if float(normal @ back) >= 0 else -normal, sigma)


def palm_tilt(points_px: np.ndarray) -> tuple[float, np.ndarray]:
    """(tilt, direction): how far the palm turns from square to the camera (radians) as its outline's
    foreshortening tells, and the unit image direction (2,) along which the outline is shortened (the depth
    slope's direction, up to its sign). points_px : (21, 2+) landmarks in pixels."""
    q = points_px[list(PALM), :2].astype(np.float64)
    q -= q.mean(axis=0)
    t = PALM_OUTLINE - PALM_OUTLINE.mean(axis=0)
    m, *_ = np.linalg.lstsq(t, q, rcond=None)  # q ~ t @ m: the outline's affine image
    u, s, _ = np.linalg.svd(m.T)
    ratio = float(s[1] / max(float(s[0]), 1e-12))
    return math.acos(min(1.0, ratio / SQUARE_ON)), u[:, 1]


def turn_palm(points_m: np.ndarray, points_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(points (21, 3), normal (3,)): the landmarks (camera metres, each on its pixel's ray) turned with the
    palm to the tilt that its outline's foreshortening gives (`palm_tilt`), and the palm's unit normal then
    (facing the camera; which side of it is the back is the hand's side's business).

    MediaPipe's relative z tilts a palm held square to the camera by 20 to 35 degrees (the wrist deeper than
    the knuckles, one side of the knuckles deeper than the other), which turns a ring's head off the back of
    the finger; but which side is nearer, and each finger's depth against its palm, hold. So the palm's normal
    keeps MediaPipe's direction of lean where the outline barely shows one and takes the outline's where it is
    clearly foreshortened, with the outline's magnitude. Square on means facing along the ray to the palm,
    not along the optical axis: that is how a palm off the image's centre looks unforeshortened. The whole
    hand turns with its palm about the palm's centre, each landmark then back on its own pixel's ray at its
    turned depth (a turn moves depths by at most the hand's size)."""
    p = points_m
    palm = list(PALM)
    c = p[palm].mean(axis=0)
    e3 = c / max(float(np.linalg.norm(c)), 1e-12)  # the ray to the palm, away from the camera
    e1 = np.array([1.0, 0.0, 0.0]) - e3[0] * e3
    e1 /= float(np.linalg.norm(e1))
    e2 = _cross(e3, e1)  # image down, square to the ray
    n_mp = np.linalg.svd(p[palm] - c)[2][2]  # MediaPipe's palm plane
    n_mp = -n_mp if float(n_mp @ e3) > 0 else n_mp  # facing the camera
    tilt, along = palm_tilt(points_px)
    lean = np.array([float(n_mp @ e1), float(n_mp @ e2)])  # the normal leans toward where the plane recedes
    if float(np.linalg.norm(lean)) > 1e-9:
        lean /= float(np.linalg.norm(lean))
        along = along if float(along @ lean) >= 0 else -along
        w = math.sin(tilt) ** 2
        along = w * along + (1.0 - w) * lean
        along /= max(float(np.linalg.norm(along)), 1e-12)
    tilt = min(tilt, MAX_TILT)
    n = -math.cos(tilt) * e3 + math.sin(tilt) * (along[0] * e1 + along[1] * e2)
    axis = _cross(n_mp, n)
    angle = math.atan2(float(np.linalg.norm(axis)), float(n_mp @ n))
    turn = cv2.Rodrigues(axis / max(float(np.linalg.norm(axis)), 1e-12) * angle)[0]
    depth = c[2] + (p - c) @ turn[2]  # each landmark's depth after the turn
    return p * (depth / p[:, 2])[:, None], n


def _palm_size(points: np.ndarray) -> float:
    """MCP breadth (5 to 17) plus palm length (0 to 9): a size that does not change as the fingers move."""
    return float(np.linalg.norm(points[5] - points[17]) + np.linalg.norm(points[0] - points[9]))


def palm_dorsal(points_m: np.ndarray, side: str) -> np.ndarray:
    """Unit normal out of the back of the hand. For a right hand, index-knuckle x little-knuckle (from the
    wrist) points out of the palm; a left hand is its mirror image."""
    n = _cross(points_m[5] - points_m[0], points_m[17] - points_m[0])
    n /= max(float(np.linalg.norm(n)), 1e-12)
    return -n if side == "right" else n


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a x b of two 3-vectors (numpy's cross costs about 40 us a call: several per finger per frame)."""
    return np.array([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def frame_from(origin: np.ndarray, y: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    """(4, 4): +y along `y`, +z the part of `z_hint` square to it, +x = y x z."""
    y = y / max(float(np.linalg.norm(y)), 1e-12)
    z = z_hint - (z_hint @ y) * y
    if float(np.linalg.norm(z)) < 1e-6:  # hint along the bone: any square direction
        z = _cross(y, np.array([1.0, 0.0, 0.0] if abs(y[0]) < 0.9 else [0.0, 1.0, 0.0]))
    z /= float(np.linalg.norm(z))
    m = np.eye(4)
    m[:3, :3] = np.stack([_cross(y, z), y, z], axis=1)
    m[:3, 3] = origin
    return m


def ring_seat(pose: HandPose, finger: str) -> np.ndarray:
    """(4, 4) cam_T_anchor of the ring seat on `finger`: +y along the proximal phalanx, +z out of its back.

    A finger bends at its knuckle about the knuckles' line, so the back of its first bone is the back of the
    hand turned about that line: +z is square to both the bone and the knuckles' line (on the thumb, which
    bends about another axis, the back of the hand made square to the bone). A bone's depth slope that
    leans it along the knuckles' line (MediaPipe's finger depths are noisy) then cannot turn the ring's head
    to the side of the finger."""
    p = pose.points_m
    a, b = (p[i] for i in PROXIMAL[finger])
    bone = b - a
    hint = pose.dorsal_m
    if finger != "thumb":
        across = p[17] - p[5]
        across = across - (across @ pose.dorsal_m) * pose.dorsal_m  # the knuckles' line in the palm's plane
        z = _cross(across, bone)
        if float(np.linalg.norm(z)) > 1e-3 * float(np.linalg.norm(across)) * float(np.linalg.norm(bone)):
            # The sign that gives the back of the hand for a straight finger (the palm's own axis as the bone).
            hint = z if float(_cross(across, p[9] - p[0]) @ pose.dorsal_m) > 0 else -z
    return frame_from(a + SEAT_AT * bone, bone, hint)


def measure_width_px(gray: np.ndarray, centre_px: np.ndarray, along_px: np.ndarray, expected_px: float,
                     span_px: float, lines: int = 5) -> tuple[float, float] | None:
    """A limb's width in pixels across `centre_px`, square to the unit direction `along_px`.

    Profiles square to the limb, spread over `span_px` along it, each give the strongest edge on either side
    between 0.55 and 1.35 times the expected half-width (a neighbouring finger lies beyond); returns (median
    width, spread of the widths) or None where too few profiles find clear edges on both sides.
    """
    h, w = gray.shape
    d = along_px / max(float(np.linalg.norm(along_px)), 1e-9)
    n = np.array([-d[1], d[0]])
    half = 0.5 * expected_px
    reach = 1.7 * half
    step = 0.25
    s = np.arange(-reach, reach + step, step, dtype=np.float32)
    offsets = np.linspace(-0.5 * span_px, 0.5 * span_px, lines, dtype=np.float32)
    xs = centre_px[0] + offsets[:, None] * d[0] + s[None, :] * n[0]
    ys = centre_px[1] + offsets[:, None] * d[1] + s[None, :] * n[1]
    if xs.min() < 0 or ys.min() < 0 or xs.max() > w - 1 or ys.max() > h - 1:
        return None
    prof = cv2.remap(gray, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR)
    k = max(1, int(round(0.06 * half / step)))  # smooth over ~6% of the half-width
    prof = cv2.GaussianBlur(prof, (1, 2 * k + 1), 0) if k > 1 else prof
    grad = np.abs(np.gradient(prof, axis=1)) / step  # (lines, samples) grey levels per pixel
    # All profiles at once (12 calls a frame with two hands in view; a Python loop over the profiles cost
    # about a millisecond a call): each profile's strongest edge on either side, against its own noise.
    lo, hi = 0.55 * half, 1.35 * half
    pos = np.flatnonzero((s >= lo) & (s <= hi))
    neg = np.flatnonzero((s <= -lo) & (s >= -hi))
    rows = np.arange(len(grad))
    noise = np.median(grad, axis=1) + 1e-3
    i_pos = pos[np.argmax(grad[:, pos], axis=1)]
    i_neg = neg[np.argmax(grad[:, neg], axis=1)]
    g_pos, g_neg = grad[rows, i_pos], grad[rows, i_neg]
    clear = (g_pos >= 3 * noise) & (g_neg >= 3 * noise) & (np.minimum(g_pos, g_neg) >= 4.0)
    widths = (s[i_pos[clear]] - s[i_neg[clear]]).astype(np.float64)
    if len(widths) < (lines + 1) // 2:
        return None
    return float(np.median(widths)), float(np.std(widths))


def finger_size(gray: np.ndarray, hand: HandLandmarks, pose: HandPose, finger: str, intr: Intrinsics) -> Size:
    """The ring size (inner diameter, mm) that fits `finger`, measured at its seat."""
    seat = ring_seat(pose, finger)
    z = float(seat[2, 3])
    mm_per_px = z / intr.fx * 1e3
    a, b = (hand.points_px[i, :2].astype(np.float64) for i in PROXIMAL[finger])
    centre = a + SEAT_AT * (b - a)
    prior = PRIOR_WIDTH_MM[finger]
    found = measure_width_px(gray, centre, b - a, prior / mm_per_px, 0.25 * float(np.linalg.norm(b - a)))
    if found is None:
        d = width_to_inner_diameter(prior)
        return Size(round(d, 2), round(0.1 * d, 2))
    width_px, spread_px = found
    d = width_to_inner_diameter(width_px * mm_per_px)
    edge = math.hypot(EDGE_SIGMA_PX, spread_px) * mm_per_px
    return Size(round(d, 2), round(math.hypot(edge, pose.scale_sigma * d), 2))


def ring_anchor(pose: HandPose, finger: str, size: Size, intr: Intrinsics) -> AnchorPose:
    seat = ring_seat(pose, finger)
    return AnchorPose(f"{pose.side}_{finger}", seat, 1.0, intr.project(seat[:3, 3][None])[0],
                      {"diameter": size.value_mm * 1e-3})


def hand_occluders(pose: HandPose, sizes: dict[str, Size]) -> list[Capsule]:
    """Capsules for every phalanx (radius from the measured ring size, tapering toward the tip) and the palm."""
    p = pose.points_m
    caps = []
    for finger, chain in CHAINS.items():
        size = sizes.get(finger)
        d_mm = size.value_mm if size is not None else width_to_inner_diameter(PRIOR_WIDTH_MM[finger])
        r = 0.5e-3 * d_mm * OCCLUDER_INSET
        bones = list(zip(chain[1:-1], chain[2:], strict=True)) if finger == "thumb" else \
            list(zip(chain[:-1], chain[1:], strict=True))
        for k, (i, j) in enumerate(bones):
            caps.append(Capsule(p[i], p[j], r * (1.0 - 0.08 * k), r * (1.0 - 0.08 * (k + 1))))
    palm_r = 0.010
    for i, j in ((0, 5), (0, 9), (0, 13), (0, 17), (5, 17), (1, 2)):
        caps.append(Capsule(p[i], p[j], palm_r, palm_r))
    return caps

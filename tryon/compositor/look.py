"""The camera's look applied to a render layer, in numpy and OpenCV: the live path (no torch here).

`composite_look_np` is the same arithmetic as `tryon.compositor.net.composite_look` (tests check that
they agree), for one region at a time; what the network sees of a frame (`thumbnail`, `patch_at`) is
made here too, so training and the live path make it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import cv2
import numpy as np

from tryon.compositor.camera import LUMA, linear_to_srgb, srgb_to_linear
from tryon.errors import InputError

THUMB_PX = 32  # the whole frame, resized to this square
PATCH_PX = 64  # native pixels round the jewelry (its noise and sharpness): as big as a training crop
CURVE_KNOTS = 12
BLUR_RADIUS_PX = 6  # Gaussian taps: 2 * radius + 1
SHADOW_RADIUS_PX = 8
BLUR_MAX_PX = 2.5
SHADOW_SIGMA_PX = (0.5, 3.0)
SHADOW_OFFSET_MAX_PX = 2.0
SHADOW_MAX = 0.8
READ_NOISE_MAX = 0.05
SHOT_NOISE_MAX = 0.01
REGION_DILATE_PX = 4  # the jewelry region in which errors are counted: alpha > ALPHA_MIN, grown by this
ALPHA_MIN = 0.02
MARGIN_PX = SHADOW_RADIUS_PX + 2  # round each piece: where its blur and shadow can reach
MIN_SIGMA_PX = 0.3
# What the look may do to the jewelry's colour (`held_colour`). A frame alone cannot tell a camera's white
# balance or saturation from the colours of what is in it: the network read a red wall as a warm camera and a
# grey or deep blue one as a washed-out camera, and turned gold copper or grey. So on the piece a look is held
# to a mild setting: white at most CAST_MAX from neutral in any channel (relative to its luminance), the
# saturation of colours within SATURATION_RANGE, the black levels at most BLACK_CAST_MAX apart from their mean.
# Exposure, the tone curve, blur, noise and shadow are the network's as read. The colour read was worth little
# on held-out examples (`tryon compositor eval`, 1,200): the network's error against plain compositing is
# -43.3 % raw, -43.0 % held, -42.2 % with no colour change at all.
CAST_MAX = 0.02
SATURATION_RANGE = (0.95, 1.05)
BLACK_CAST_MAX = 0.003
_KNOTS = np.linspace(0.0, 1.0, CURVE_KNOTS).astype(np.float32)


@dataclass(frozen=True)
class LookParams:
    """One camera look (see tryon.compositor.net.Look): matrix (3, 3) on linear RGB, curve (CURVE_KNOTS,)
    display levels, black (3,), blur_px, read, shot, shadow (4,): strength, sigma px, dx px, dy px."""

    matrix: np.ndarray
    curve: np.ndarray
    black: np.ndarray
    blur_px: float
    read: float
    shot: float
    shadow: np.ndarray


def held_colour(p: LookParams) -> LookParams:
    """The look with its colour held to a mild setting (CAST_MAX, SATURATION_RANGE, BLACK_CAST_MAX).

    The matrix is split as diag(w) @ N: w (3,) what it makes of white (linear RGB), N with rows summing to one.
    w's departure from grey is scaled down (its luminance, the exposure, kept). N's saturation s is read off its
    trace (a pure saturation matrix s I + (1 - s) 1 LUMA^T has trace 2 s + 1); s is clipped to the range and
    what N does besides saturating is kept."""
    m = np.asarray(p.matrix, np.float64)
    w = np.maximum(m.sum(axis=1), 1e-6)
    lum = float(LUMA @ w)
    held_w = lum + _shrunk(w - lum, CAST_MAX * lum)
    n = m / w[:, None]
    s = 0.5 * (float(np.trace(n)) - 1.0)
    held_s = float(np.clip(s, *SATURATION_RANGE))
    grey = np.ones((3, 1)) @ LUMA[None, :].astype(np.float64)
    n = n + (held_s - s) * (np.eye(3) - grey)  # rows still sum to one: white is held_w
    black = np.asarray(p.black, np.float64)
    mid = float(black.mean())
    return LookParams(**{**{f.name: getattr(p, f.name) for f in fields(LookParams)},
                         "matrix": (held_w[:, None] * n).astype(np.float32),
                         "black": (mid + _shrunk(black - mid, BLACK_CAST_MAX)).astype(np.float32)})


def _shrunk(off: np.ndarray, most: float) -> np.ndarray:
    """off (3,) scaled down as a whole so that no channel is more than `most` from zero (its direction, and so
    a zero luminance or mean, kept)."""
    return off * min(1.0, most / max(float(np.abs(off).max()), 1e-12))


def blend_looks(old: LookParams, new: LookParams, weight: float) -> LookParams:
    """(1 - weight) * old + weight * new, field by field (every field is a smooth parameter)."""
    mixed = {f.name: (1.0 - weight) * getattr(old, f.name) + weight * getattr(new, f.name)
             for f in fields(LookParams)}
    return LookParams(**mixed)


def thumbnail(frame_rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (THUMB_PX, THUMB_PX, 3) uint8: the whole frame, area-averaged (aspect not kept)."""
    return cv2.resize(frame_rgb, (THUMB_PX, THUMB_PX), interpolation=cv2.INTER_AREA)


def patch_at(frame_rgb: np.ndarray, cx: float, cy: float) -> np.ndarray:
    """(PATCH_PX, PATCH_PX, 3) native pixels of the frame centred near (cx, cy), kept inside the frame
    (a frame smaller than the patch is padded by reflection)."""
    h, w = frame_rgb.shape[:2]
    if h < PATCH_PX or w < PATCH_PX:
        frame_rgb = cv2.copyMakeBorder(frame_rgb, 0, max(0, PATCH_PX - h), 0, max(0, PATCH_PX - w),
                                       cv2.BORDER_REFLECT_101 if min(h, w) > 1 else cv2.BORDER_REPLICATE)
        h, w = frame_rgb.shape[:2]
    x0 = int(np.clip(round(cx) - PATCH_PX // 2, 0, w - PATCH_PX))
    y0 = int(np.clip(round(cy) - PATCH_PX // 2, 0, h - PATCH_PX))
    return frame_rgb[y0 : y0 + PATCH_PX, x0 : x0 + PATCH_PX]


def gaussian_taps(sigma_px: float, radius: int, offset_px: float = 0.0) -> np.ndarray:
    """(2 * radius + 1,) float32 normalised taps for correlation, out(x) = sum_u taps(u) in(x + u)."""
    u = np.arange(-radius, radius + 1, dtype=np.float32) + np.float32(offset_px)
    w = np.exp(-0.5 * (u / np.float32(max(sigma_px, MIN_SIGMA_PX))) ** 2)
    return (w / w.sum()).astype(np.float32)


def region_mask(alpha: np.ndarray) -> np.ndarray:
    """(h, w) alpha -> (h, w) bool: the piece grown by REGION_DILATE_PX (a square), where errors count."""
    k = np.ones((2 * REGION_DILATE_PX + 1,) * 2, np.uint8)
    return cv2.dilate((alpha > ALPHA_MIN).astype(np.uint8), k).astype(bool)


def regions(alpha: np.ndarray, gap_px: int = 2 * MARGIN_PX) -> list[tuple[int, int, int, int]]:
    """(h, w) alpha -> [(x0, y0, x1, y1)] boxes round the pieces (ends exclusive): columns with any alpha,
    split where more than gap_px empty columns part them (two earrings: two boxes, not the face between)."""
    cols = np.flatnonzero(alpha.max(axis=0) > 0)
    if cols.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(cols) > gap_px)
    starts = np.concatenate([[cols[0]], cols[cuts + 1]])
    ends = np.concatenate([cols[cuts], [cols[-1]]]) + 1
    out = []
    for x0, x1 in zip(starts, ends, strict=True):
        rows = np.flatnonzero(alpha[:, x0:x1].max(axis=1) > 0)
        out.append((int(x0), int(rows[0]), int(x1), int(rows[-1]) + 1))
    return out


def look_colour_np(rgb: np.ndarray, p: LookParams) -> np.ndarray:
    """(n, 3) straight display colour -> (n, 3) float32 in the camera's colour and tone."""
    lin = srgb_to_linear(np.clip(rgb, 0.0, 1.0)) @ p.matrix.T.astype(np.float32)
    y = np.interp(linear_to_srgb(lin), _KNOTS, p.curve).astype(np.float32) + p.black.astype(np.float32)
    return np.clip(y, 0.0, 1.0)


def composite_look_np(frame: np.ndarray, layer: np.ndarray, p: LookParams, noise: np.ndarray | None = None
                      ) -> np.ndarray:
    """One region: frame (h, w, 3) float32 0..1, layer (h, w, 4) float32 premultiplied -> (h, w, 3)
    float32, not clipped. noise: (h, w, 3) standard normal or None. Zeros are assumed outside the region
    (as net.composite_look pads)."""
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise InputError(f"frame must have shape (h, w, 3), got {frame.shape}")
    if layer.shape != frame.shape[:2] + (4,):
        raise InputError(f"layer must have shape {frame.shape[:2] + (4,)}, got {layer.shape}")
    alpha = layer[..., 3]
    paint = np.zeros(frame.shape, np.float32)
    on = alpha > 0
    a_on = alpha[on][:, None]
    paint[on] = look_colour_np(layer[..., :3][on] / np.maximum(a_on, np.float32(1 / 255)), p) * a_on
    taps = gaussian_taps(p.blur_px, BLUR_RADIUS_PX)
    both = cv2.sepFilter2D(np.dstack([paint, alpha]), -1, taps, taps, borderType=cv2.BORDER_CONSTANT)
    strength, sigma, dx, dy = (float(v) for v in p.shadow)
    shade = 1.0 - np.float32(strength) * cv2.sepFilter2D(
        np.ascontiguousarray(alpha), -1, gaussian_taps(sigma, SHADOW_RADIUS_PX, dx),
        gaussian_taps(sigma, SHADOW_RADIUS_PX, dy), borderType=cv2.BORDER_CONSTANT)
    alpha_b = both[..., 3:4]
    out = both[..., :3] + frame * (1.0 - alpha_b) * shade[..., None]
    if noise is not None:
        sd = np.sqrt(np.float32(p.read) ** 2 + np.float32(p.shot) * np.clip(out, 0.0, 1.0))
        out = out + sd * noise * alpha_b
    return out

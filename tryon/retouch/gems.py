"""Gem contrast: local contrast and a little colour restored inside the stones, nowhere else.

A stone is either a saturated coloured region whose hue is not the metal's (sapphire, emerald, garnet, peridot) or
a bright, faceted, nearly neutral region (diamonds, pavé): bright with strong fine-scale contrast. The metal, the
backdrop and everything outside the stone mask keep their exact pixel values.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.retouch.tone import PIECE, check_photo, metal_pixels, piece_box, to_lab

CLARITY = 0.15  # fraction of the fine-scale detail added back inside stones
VIBRANCE = 0.03  # chroma lift of coloured stones (less for stones already saturated)
CLARITY_SIGMA = 1.0  # px per 400 px of piece: the scale of the contrast restored
DIAMOND_TINT_CUT = 0.5  # share of a colourless stone's chroma (reflected metal colour) taken away
MIN_STONE_SHARE = 1e-4  # of the piece's pixels: smaller regions are noise, not stones
MAX_HOLE_SHARE = 5e-3  # of the piece's pixels: holes in a stone up to this size are its dark facets
WORK_PIXELS = 300_000  # stones are found on the piece's box scaled down to at most this many pixels


def _metal_colour(lab: np.ndarray, inside: np.ndarray) -> tuple[float, float]:
    """(chroma, hue in degrees) of the piece's metal: the median over its metal-like pixels; (0, 0) when none."""
    step = max(1, inside.size // 50_000)  # a median needs no more samples than this
    flat = lab.reshape(-1, 3)[::step]
    metal = metal_pixels(flat) & inside.ravel()[::step]
    if metal.sum() < 50:
        return 0.0, 0.0
    m = flat[metal]
    strong = np.hypot(m[:, 1], m[:, 2]) >= 9.0
    if strong.mean() < 0.35:
        return float(np.median(np.hypot(m[:, 1], m[:, 2]))), 0.0
    ms = m[strong]
    a, b = float(np.median(ms[:, 1])), float(np.median(ms[:, 2]))
    return float(np.hypot(a, b)), float(np.degrees(np.arctan2(b, a)) % 360.0)


def stone_masks(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(soft, diamond) inside the piece's bounding box (piece_box), both (h, w) float32 0..1.

    soft: how surely each pixel is a stone; zero on the metal, the backdrop and the matte's edge, feathered only
    inward so it never spills out. diamond: the part of it that is colourless stone (diamonds, white sapphires).
    On coloured metal a stone is what the metal's colour is not: much less saturated (diamonds) or another hue or
    far more saturated (coloured stones). On white metal diamonds share the metal's colour, so there they must also
    be faceted: dense fine-scale contrast. Found at up to WORK_PIXELS (the box is scaled down) and scaled back.
    """
    box = piece_box(alpha)
    assert box is not None
    x0, y0, x1, y1 = box
    full = (x1 - x0, y1 - y0)
    down = min(1.0, float(np.sqrt(WORK_PIXELS / (full[0] * full[1]))))
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    a_crop = alpha[y0:y1, x0:x1]
    if down < 1.0:
        size = (max(1, round(full[0] * down)), max(1, round(full[1] * down)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        a_crop = cv2.resize(a_crop, size, interpolation=cv2.INTER_AREA)
    inside = a_crop > PIECE
    lab = to_lab(crop)
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    c = np.hypot(a, b)
    metal_c, metal_h = _metal_colour(lab, inside)
    scale = max(1.0, max(crop.shape[:2]) / 400.0)
    y = L / 100.0
    k = int(2 * round(1.5 * scale) + 1)
    mean = cv2.blur(y, (k, k))
    var = cv2.blur(y * y, (k, k)) - mean * mean
    wide = (4 * k + 1, 4 * k + 1)
    c_local = cv2.blur(c, wide)  # facets flash every colour: a stone's colour is its neighbourhood's mean
    if metal_c >= 12.0:
        # Another hue than the metal's: the cosine of the hue gap below cos 35 degrees.
        cos_gap = (a * np.cos(np.radians(metal_h)) + b * np.sin(np.radians(metal_h))) / np.maximum(c, 1e-3)
        coloured = (c > 14.0) & ((cos_gap < np.cos(np.radians(35.0))) | (c > metal_c * 2.0 + 15.0))
        faceted = cv2.blur((var > 0.004).astype(np.float32), wide) > 0.3
        diamond = (c_local < 0.55 * metal_c) & (cv2.blur(L, wide) > 40.0) & faceted
    else:
        coloured = c > max(18.0, metal_c * 1.5 + 8.0)
        # On white metal a diamond and polished metal share their colour: only dense facet texture tells them
        # apart.
        faceted = cv2.blur((var > 0.01).astype(np.float32), wide) > 0.4
        diamond = (c_local < 12.0) & (cv2.blur(y, wide) > 0.45) & faceted
    coloured &= inside & (L > 8.0)
    diamond &= inside
    r = max(1, int(round(1.5 * scale)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    # A coloured stone's dark facets are colourless: close over them with a wider disc (only coloured pixels, so
    # metal between stones is not bridged by the diamonds' texture).
    wide_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (6 * r + 1, 6 * r + 1))
    coloured_closed = cv2.morphologyEx(coloured.astype(np.uint8), cv2.MORPH_CLOSE, wide_kernel) > 0
    closed = cv2.morphologyEx((coloured_closed | diamond).astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    stones = cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(stones, connectivity=8)
    min_area = max(9, int(MIN_STONE_SHARE * inside.sum()))
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    hard = keep[labels] & inside
    # Dark facets inside a stone are colourless and flat: they fail both tests, so fill the stone's small holes.
    n, labels, stats, _ = cv2.connectedComponentsWithStats((~hard).astype(np.uint8), connectivity=4)
    hole = stats[:, cv2.CC_STAT_AREA] <= max(50, int(MAX_HOLE_SHARE * inside.sum()))
    hw, hh = crop.shape[1], crop.shape[0]
    touches = ((stats[:, cv2.CC_STAT_LEFT] == 0) | (stats[:, cv2.CC_STAT_TOP] == 0)
               | (stats[:, cv2.CC_STAT_LEFT] + stats[:, cv2.CC_STAT_WIDTH] == hw)
               | (stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT] == hh))
    hole &= ~touches
    hard |= hole[labels] & inside & ~hard
    # Colourless stone: closed diamond regions, their pixels well below the metal's chroma.
    colourless = cv2.morphologyEx(diamond.astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
    white = (colourless & hard & (c < max(8.0, 0.8 * metal_c))).astype(np.float32)
    hard_f = hard.astype(np.float32)
    # Feather inward only: the soft mask is the blurred hard mask times the hard mask.
    soft = cv2.GaussianBlur(hard_f, (0, 0), sigmaX=max(0.8, 0.8 * scale)) * hard_f
    white *= soft
    if down < 1.0:
        soft = cv2.resize(soft, full, interpolation=cv2.INTER_LINEAR)
        white = cv2.resize(white, full, interpolation=cv2.INTER_LINEAR)
        # Scaled back, the mask ends where the stone does: half way up its edge, and never outside the piece.
        soft *= (soft > 0.25) & (alpha[y0:y1, x0:x1] > PIECE)
        white *= soft > 0
    return soft.astype(np.float32), white.astype(np.float32)


def restore_gems(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, int]:
    """Restore the stones' sparkle; returns (rgb (H, W, 3) uint8, stone pixels).

    Inside stone_masks: the luminance's fine-scale detail (luma minus its Gaussian blur, sigma CLARITY_SIGMA px per
    400 px of piece) is amplified by CLARITY, coloured stones get a small chroma lift (VIBRANCE) and colourless ones
    lose most of the metal's reflected tint (DIAMOND_TINT_CUT). Chroma is scaled about each pixel's own luma, so
    hue stays. Pixels outside the stones are returned exactly as they were.
    """
    alpha = check_photo(rgb, alpha, "restore_gems")
    out = rgb.copy()
    box = piece_box(alpha)
    if box is None:
        return out, 0
    x0, y0, x1, y1 = box
    mask, diamond = stone_masks(rgb, alpha)
    ys, xs = np.nonzero(mask > 0)
    if ys.size == 0:
        return out, 0
    scale = max(1.0, max(x1 - x0, y1 - y0) / 400.0)
    sigma = CLARITY_SIGMA * scale
    # The blur needs only the stones' own box and a margin of three sigmas.
    m = int(3 * sigma) + 1
    sy0, sy1 = max(0, int(ys.min()) - m), min(y1 - y0, int(ys.max()) + 1 + m)
    sx0, sx1 = max(0, int(xs.min()) - m), min(x1 - x0, int(xs.max()) + 1 + m)
    sub = np.ascontiguousarray(rgb[y0 + sy0:y0 + sy1, x0 + sx0:x0 + sx1])
    luma = cv2.cvtColor(sub, cv2.COLOR_RGB2GRAY).astype(np.float32)
    if sigma >= 3.0:
        # A wide blur at half size and scaled back: the same base for a quarter of the work.
        half = cv2.resize(luma, (max(1, luma.shape[1] // 2), max(1, luma.shape[0] // 2)), interpolation=cv2.INTER_AREA)
        base = cv2.resize(cv2.GaussianBlur(half, (0, 0), sigmaX=sigma / 2.0), (luma.shape[1], luma.shape[0]),
                          interpolation=cv2.INTER_LINEAR)
    else:
        base = cv2.GaussianBlur(luma, (0, 0), sigmaX=sigma)
    detail = luma - base
    py, px = ys - sy0, xs - sx0
    w = mask[ys, xs][:, None]
    d = diamond[ys, xs][:, None]
    pix = sub[py, px].astype(np.float32)
    grey = luma[py, px][:, None] + CLARITY * w * detail[py, px][:, None]
    chroma = pix - luma[py, px][:, None]
    lift = (1.0 + VIBRANCE * (w - d) * np.clip((200.0 - np.abs(chroma).max(axis=1, keepdims=True)) / 120.0, 0.0, 1.0))
    lift *= 1.0 - DIAMOND_TINT_CUT * d
    moved = np.clip(grey + chroma * lift + 0.5, 0, 255).astype(np.uint8)
    out[y0 + ys, x0 + xs] = moved
    return out, int(ys.size)

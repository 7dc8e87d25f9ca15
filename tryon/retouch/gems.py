"""Gem contrast: local contrast and a little colour restored inside the stones, nowhere else.

A stone is either a saturated coloured region whose hue is not the metal's (sapphire, emerald, garnet, peridot) or
a bright, faceted, nearly neutral region (diamonds, pavé): bright with strong fine-scale contrast. The metal, the
backdrop and everything outside the stone mask keep their exact pixel values.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.retouch.tone import PIECE, check_photo, metal_pixels, piece_box, to_lab

CLARITY = 0.45  # fraction of the fine-scale detail added back inside stones
VIBRANCE = 0.12  # chroma lift of coloured stones (less for stones already saturated)
MIN_STONE_SHARE = 1e-4  # of the piece's pixels: smaller regions are noise, not stones


def stone_mask(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """(h, w) float32 0..1 inside the piece's bounding box (piece_box): how surely each pixel is a stone.

    Zero on the metal, the backdrop and at the matte's edge; feathered only inward so it never spills out.
    """
    box = piece_box(alpha)
    assert box is not None
    x0, y0, x1, y1 = box
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    inside = alpha[y0:y1, x0:x1] > PIECE
    lab = to_lab(crop)
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    c = np.hypot(a, b)
    flat = lab.reshape(-1, 3)
    metal = metal_pixels(flat).reshape(L.shape) & inside
    if metal.sum() >= 50:
        mc = np.hypot(flat[metal.ravel(), 1], flat[metal.ravel(), 2])
        metal_c = float(np.median(mc))
    else:
        metal_c = 0.0
    scale = max(1.0, max(crop.shape[:2]) / 400.0)
    # Coloured stones: saturated beyond the metal and not metal-hued (metal_pixels refuses them).
    coloured = inside & ~metal & (c > max(22.0, metal_c * 1.4 + 8.0)) & (L > 8)
    # Diamonds: bright, nearly neutral, faceted (strong fine-scale contrast around them).
    y = L / 100.0
    k = int(2 * round(1.5 * scale) + 1)
    mean = cv2.blur(y, (k, k))
    var = cv2.blur(y * y, (k, k)) - mean * mean
    facet = cv2.blur((var > 0.006).astype(np.float32), (2 * k + 1, 2 * k + 1)) > 0.35
    neutral = c < max(8.0, 0.45 * metal_c)
    diamond = inside & facet & neutral & (cv2.blur(y, (2 * k + 1, 2 * k + 1)) > 0.55)
    if metal_c < 9.0:
        # On white metal a diamond and polished metal share their colour: only dense facet texture tells them
        # apart, so ask for more of it.
        diamond &= cv2.blur((var > 0.012).astype(np.float32), (2 * k + 1, 2 * k + 1)) > 0.4
    r = max(1, int(round(scale)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    closed = cv2.morphologyEx((coloured | diamond).astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    stones = cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(stones, connectivity=8)
    min_area = max(9, int(MIN_STONE_SHARE * inside.sum()))
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    hard = keep[labels] & inside
    # Feather inward only: the soft mask is the blurred hard mask times the hard mask.
    soft = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), sigmaX=max(0.8, 0.8 * scale))
    return (soft * hard).astype(np.float32)


def restore_gems(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, int]:
    """Restore the stones' sparkle; returns (rgb (H, W, 3) uint8, stone pixels).

    Inside stone_mask: the luminance's fine-scale detail (L minus its Gaussian blur, sigma ~ 2 px per 400 px of
    piece) is amplified by CLARITY and coloured stones get a small chroma lift (VIBRANCE). Pixels outside the stones
    are returned exactly as they were.
    """
    alpha = check_photo(rgb, alpha, "restore_gems")
    out = rgb.copy()
    box = piece_box(alpha)
    if box is None:
        return out, 0
    x0, y0, x1, y1 = box
    mask = stone_mask(rgb, alpha)
    hard = mask > 0
    count = int(hard.sum())
    if count == 0:
        return out, 0
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    lab = to_lab(crop)
    scale = max(1.0, max(crop.shape[:2]) / 400.0)
    L = lab[..., 0]
    detail = L - cv2.GaussianBlur(L, (0, 0), sigmaX=2.0 * scale)
    lab[..., 0] = np.clip(L + CLARITY * mask * detail, 0.0, 100.0)
    c = np.hypot(lab[..., 1], lab[..., 2])
    lift = 1.0 + VIBRANCE * mask * np.clip((60.0 - c) / 40.0, 0.0, 1.0)
    lab[..., 1] *= lift
    lab[..., 2] *= lift
    moved = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    patch = out[y0:y1, x0:x1]
    patch[hard] = moved[hard]
    return out, count

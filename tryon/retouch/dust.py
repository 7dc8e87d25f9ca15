"""Dust, fibres and specks: small isolated blobs that differ from their neighbourhood, removed on the piece and the
backdrop while prongs, pavé, engraving and metal grain stay exactly as they were.

A speck is found on the luminance: a connected blob where the photo differs from its local median by more than the
local texture allows, and then shape-filtered. It is removed only when it is
  * small: it fits inside the median window (a prong or an engraved line that continues is longer),
  * isolated: few other blobs around it (pavé and metal grain repeat; dust is alone),
  * on smooth ground: on the piece, only where the surrounding metal is smooth (a speck on textured metal cannot
    be told from the texture, so it is left), and never at the matte's edge (prong tips, chain links),
  * on the backdrop, a thin fibre may be longer: nothing there is the piece.
Removed pixels (the blob grown by one pixel) are filled by cv2.inpaint from their surroundings; no other pixel
changes.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.retouch.tone import BACKDROP, PIECE, check_photo

MIN_CONTRAST = 14.0  # grey levels (0..255): weaker blobs are noise or the surface's own tone
TEXTURE_FACTOR = 4.5  # a blob must stand out this many times the local mean absolute deviation
SMOOTH_METAL = 5.0  # grey levels: on the piece, specks are removed only where the local deviation is below this
CROWD = 0.6  # other candidate pixels around a blob on the piece, as a share of its own area, above which it is texture
CROWD_BACKDROP = 2.5  # the same on the backdrop, where dust gathers in clusters and nothing repeats like pavé


def speck_scale(shape: tuple[int, ...]) -> int:
    """The median window's side in px (odd): about 1/100 of the longer side, at least 9."""
    k = max(9, int(round(max(shape[0], shape[1]) / 100.0)))
    return k | 1


def find_specks(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, int]:
    """(H, W) uint8 0/1 mask of speck pixels to fill (grown by 1 px) and the number of specks."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    k = speck_scale(grey.shape)
    med = cv2.medianBlur(grey, k)
    diff = grey.astype(np.float32) - med.astype(np.float32)
    dev = np.abs(diff)
    # The ground's own texture: mean absolute deviation around, not counting the strong blobs themselves (a
    # speck would otherwise raise the bar it has to clear).
    calm = (dev <= MIN_CONTRAST).astype(np.float32)
    texture = cv2.blur(dev * calm, (3 * k, 3 * k)) / np.maximum(cv2.blur(calm, (3 * k, 3 * k)), 0.05)
    thresh = np.maximum(MIN_CONTRAST, TEXTURE_FACTOR * texture)
    cand = (dev > thresh).astype(np.uint8)
    n, labels, stats, cents = cv2.connectedComponentsWithStats(cand, connectivity=8)
    empty = np.zeros(grey.shape, np.uint8)
    if n <= 1:
        return empty, 0
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float32)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float32)
    flat_labels = labels.ravel()
    mean_alpha = np.bincount(flat_labels, weights=alpha.ravel(), minlength=n) / np.maximum(area, 1)
    # The matte's edge band, grown a little: a blob touching it may be a prong tip or a link the matte half-caught.
    # (A hard 0/1 matte has no soft band, so the band is the grown matte less the shrunk one.)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    outer = cv2.dilate((alpha > BACKDROP).astype(np.uint8), disc)
    inner = cv2.erode((alpha > 0.98).astype(np.uint8), disc)
    edge = (outer > inner).astype(np.float32)
    touches_edge = np.bincount(flat_labels, weights=edge.ravel(), minlength=n) > 0
    # A blob on the backdrop whose grown outline meets the piece is attached to it (a prong the matte missed).
    near_piece = cv2.dilate((alpha > PIECE).astype(np.uint8), np.ones((3, 3), np.uint8))
    touches_piece = np.bincount(flat_labels, weights=near_piece.ravel().astype(np.float32), minlength=n) > 0
    # Crowding: candidate pixels in a 3k window around the blob's centre that are not the blob itself.
    around = cv2.boxFilter(cand.astype(np.float32), -1, (3 * k, 3 * k), normalize=False)
    cx = np.clip(np.round(cents[:, 0]).astype(int), 0, grey.shape[1] - 1)
    cy = np.clip(np.round(cents[:, 1]).astype(int), 0, grey.shape[0] - 1)
    others = around[cy, cx] - area
    tex_at = texture[cy, cx]
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, flat_labels, dev.ravel())
    big_enough = (area >= 2) | (peak > 2.5 * MIN_CONTRAST)
    on_backdrop = mean_alpha < BACKDROP
    on_piece = mean_alpha > PIECE
    isolated = others <= np.where(on_backdrop, CROWD_BACKDROP * area + 4, CROWD * area + 1)
    thin = area <= 2.5 * extent  # a fibre: about two pixels wide
    small = extent <= k
    remove = big_enough & isolated & ~touches_edge & (
        (on_backdrop & ~touches_piece & (small | (thin & (extent <= 4 * k))))
        | (on_piece & (small | (thin & (extent <= 2 * k))) & (tex_at < SMOOTH_METAL))
    )
    remove[0] = False
    count = int(remove.sum())
    if count == 0:
        return empty, 0
    mask = remove[labels].astype(np.uint8)
    return cv2.dilate(mask, np.ones((3, 3), np.uint8)), count


def remove_dust(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, int]:
    """Remove dust, fibres and specks; returns (rgb (H, W, 3) uint8, specks removed).

    rgb : (H, W, 3) uint8 sRGB. alpha : (H, W) float32 0..1, the piece's matte (the backdrop is cleaned too).
    Only the specks' pixels change (see find_specks); they are filled with cv2.inpaint (Telea) from around them.
    """
    alpha = check_photo(rgb, alpha, "remove_dust")
    mask, count = find_specks(rgb, alpha)
    if count == 0:
        return rgb.copy(), 0
    out = rgb.copy()
    ys, xs = np.nonzero(mask)
    pad = 6
    y0, y1 = max(0, int(ys.min()) - pad), min(rgb.shape[0], int(ys.max()) + 1 + pad)
    x0, x1 = max(0, int(xs.min()) - pad), min(rgb.shape[1], int(xs.max()) + 1 + pad)
    sub = mask[y0:y1, x0:x1]
    filled = cv2.inpaint(np.ascontiguousarray(rgb[y0:y1, x0:x1]), sub, 3, cv2.INPAINT_TELEA)
    patch = out[y0:y1, x0:x1]
    hit = sub > 0
    patch[hit] = filled[hit]
    return out, count

"""Dust, fibres and specks: small isolated blobs that differ from their neighbourhood, removed on the piece and the
backdrop while prongs, pavé, engraving and metal grain stay exactly as they were.

A speck is found on the luminance: a connected blob that a closing fills (dark) or an opening removes (bright) with a
k x k square (k ~ 1/100 of the longer side), by more than MIN_CONTRAST and TEXTURE_FACTOR times the local texture.
Near the piece the two sides of the matte are measured apart, so a thin chain on white is not itself a dark blob.
It is removed only when it is
  * small: it fits inside the window (a prong or an engraved line that continues is longer); on the piece a thin
    fibre may be two windows long, on the backdrop four,
  * isolated: few other blobs around it (pavé and metal grain repeat; dust is alone),
  * clear of its ground: it stands PIECE_STANDOUT (BACKDROP_STANDOUT) times above the surrounding texture, and
    nothing is removed on rough metal (a speck there cannot be told from the texture),
  * away from the matte's edge (prong tips, links the matte half-caught), and on the backdrop not touching the piece.
The speck's pixels (grown by one pixel, and over its halo when it is on the backdrop) are filled by cv2.inpaint from
their surroundings; no other pixel changes.
"""


from __future__ import annotations

import cv2
import numpy as np

from tryon.retouch.tone import BACKDROP, PIECE, check_photo, piece_box

MIN_CONTRAST = 14.0  # grey levels (0..255): weaker blobs are noise or the surface's own tone
TEXTURE_CAP = 40  # grey levels: one pixel's share in the texture measure is capped here
TEXTURE_FACTOR = 4.5  # a blob must stand out this many times the local mean absolute deviation
PIECE_STANDOUT = 8.0  # on the piece a speck's peak must stand this many times above the local texture
BACKDROP_STANDOUT = 7.0  # the same on the backdrop (where the matte may have missed some of the piece's metal)
ROUGH_METAL = 20.0  # grey levels: on the piece, nothing is removed where the local texture is above this
CROWD = 1.5  # other candidate pixels around a blob on the piece, as a share of its own area (plus 4), past which
# it is texture
HALO_CONTRAST = 6  # grey levels: a speck's halo still differs this much from the ground around it
INPAINT_CALLS_PER_MP = 100  # one inpaint call per speck costs about what one call over 1/100 MP does
CROWD_BACKDROP = 2.5  # the same on the backdrop (plus half a window), where dust and lint gather in clusters


def speck_scale(shape: tuple[int, ...]) -> int:
    """The window's side in px (odd): about 1/100 of the longer side, at least 9."""
    k = max(9, int(round(max(shape[0], shape[1]) / 100.0)))
    return k | 1


def _matte_bands(alpha: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """The matte's edge band and the piece grown by a pixel, on the box around alpha > BACKDROP (outside it both
    are empty): (edge uint8, near_piece uint8, (x0, y0) of the box)."""
    rows = np.flatnonzero((alpha > BACKDROP).any(axis=1))
    if rows.size == 0:
        return np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.uint8), (0, 0)
    cols = np.flatnonzero((alpha[rows[0]:rows[-1] + 1] > BACKDROP).any(axis=0))
    pad = 4
    y0, y1 = max(0, int(rows[0]) - pad), min(shape[0], int(rows[-1]) + 1 + pad)
    x0, x1 = max(0, int(cols[0]) - pad), min(shape[1], int(cols[-1]) + 1 + pad)
    a = alpha[y0:y1, x0:x1]
    # A hard 0/1 matte has no soft band, so the band is the grown matte less the shrunk one.
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    outer = cv2.dilate((a > BACKDROP).astype(np.uint8), disc)
    inner = cv2.erode((a > 0.98).astype(np.uint8), disc)
    near_piece = cv2.dilate((a > PIECE).astype(np.uint8), np.ones((3, 3), np.uint8))
    return (outer > inner).astype(np.uint8), near_piece, (x0, y0)


def _standing_out(grey: np.ndarray, piece: np.ndarray, square: np.ndarray) -> np.ndarray:
    """(H, W) uint8: how far each pixel stands out from its own side of the matte (black-hat and top-hat).

    The piece and the backdrop are looked at apart: each side's pixels across the matte's edge are replaced by
    that side's local mean (a normalised box filter), so a thin chain on white is not one dark blob against the
    white, and a speck on it stands out against the metal around it.
    """
    k = square.shape[0]
    inside = piece.astype(np.float32)
    g = grey.astype(np.float32)
    dev = np.zeros_like(grey)
    for side, weight in ((piece, inside), (~piece, 1.0 - inside)):
        if not side.any():
            continue
        mean = cv2.blur(g * weight, (2 * k + 1, 2 * k + 1)) / np.maximum(cv2.blur(weight, (2 * k + 1, 2 * k + 1)), 1e-3)
        filled = np.where(side, grey, np.clip(mean + 0.5, 0, 255).astype(np.uint8))
        here = cv2.max(cv2.morphologyEx(filled, cv2.MORPH_BLACKHAT, square),
                       cv2.morphologyEx(filled, cv2.MORPH_TOPHAT, square))
        dev[side] = here[side]
    return dev


def find_specks(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) uint8 0/1 mask of speck pixels to fill (grown by 1 px) and the specks' boxes (n, 4) int (x, y, w, h).

    Past the morphology and a few full-image uint8 passes, everything works on the few pixels that stand out.
    """
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    k = speck_scale(grey.shape)
    # How far each pixel stands out from its neighbourhood: dark blobs narrower than k are what a closing fills
    # (black-hat), bright ones what an opening removes (top-hat). Square elements are separable, so this costs
    # a few passes where a k x k median would cost twenty times more.
    square = np.ones((k, k), np.uint8)
    dev = cv2.max(cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, square), cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, square))
    box = piece_box(alpha, pad=2 * k)
    if box is not None:
        # Near the piece each side of the matte is looked at apart; far from it the plain measure is the same.
        x0, y0, x1, y1 = box
        dev[y0:y1, x0:x1] = _standing_out(np.ascontiguousarray(grey[y0:y1, x0:x1]), alpha[y0:y1, x0:x1] > PIECE,
                                          square)
    empty = np.zeros(grey.shape, np.uint8)
    none = np.zeros((0, 4), np.int64)
    # The ground's own texture: mean deviation around, each pixel's capped at TEXTURE_CAP so that a speck (at most
    # half a k x k window in a 3k window) cannot raise the bar it has to clear past MIN_CONTRAST. Local statistics
    # live on a grid of k x k cells (area-averaged, then 3 x 3 cells: a 3k window): the texture is smooth at that
    # scale, and the grid costs a fraction of full-resolution windows. Kept x4 in uint8 so averages keep a fraction.
    cells = (max(1, w // k), max(1, h // k))
    capped4 = np.minimum(dev, np.uint8(TEXTURE_CAP)) * np.uint8(4)
    texture_grid = cv2.blur(cv2.resize(capped4, cells, interpolation=cv2.INTER_AREA).astype(np.float32), (3, 3)) / 4
    # A blob must clear both MIN_CONTRAST and TEXTURE_FACTOR times the texture around it.
    bar = np.clip(np.maximum(MIN_CONTRAST, TEXTURE_FACTOR * texture_grid), 0, 255).astype(np.uint8)
    cand = cv2.compare(dev, cv2.resize(bar, (w, h), interpolation=cv2.INTER_NEAREST), cv2.CMP_GT)

    def grid_at(grid: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        gx = np.minimum(xs * grid.shape[1] // w, grid.shape[1] - 1)
        gy = np.minimum(ys * grid.shape[0] // h, grid.shape[0] - 1)
        return grid[gy, gx]

    # Blobs a pixel apart on the backdrop are one speck: a faint fibre breaks into pieces that must not count as
    # each other's crowd. (On the piece they stay apart: joined, a speck would merge with the metal's edges.)
    joined = cv2.dilate(cand, np.ones((3, 3), np.uint8))
    joined[alpha > PIECE] = cand[alpha > PIECE]
    n, labels, stats, cents = cv2.connectedComponentsWithStats(joined, connectivity=8)
    if n <= 1:
        return empty, none
    idx = np.flatnonzero(cand)  # every candidate pixel (each labelled by its joined blob), and only those
    sy, sx = np.divmod(idx, w)
    lab = np.asarray(labels).ravel()[idx].astype(np.int64)
    area = np.bincount(lab, minlength=n).astype(np.float32)
    extent = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]).astype(np.float32) - 2.0
    mean_alpha = np.bincount(lab, weights=alpha.ravel()[idx], minlength=n) / np.maximum(area, 1)
    # The matte's edge band, grown a little: a blob touching it may be a prong tip or a link the matte half-caught.
    # A blob on the backdrop whose grown outline meets the piece is attached to it (a prong the matte missed).
    edge, near_piece, (bx, by) = _matte_bands(alpha, (h, w))
    py, px = sy - by, sx - bx
    inbox = (py >= 0) & (px >= 0) & (py < edge.shape[0]) & (px < edge.shape[1])
    pyc, pxc = np.clip(py, 0, edge.shape[0] - 1), np.clip(px, 0, edge.shape[1] - 1)
    touches_edge = np.bincount(lab, weights=(edge[pyc, pxc] * inbox).astype(np.float32), minlength=n) > 0
    touches_piece = np.bincount(lab, weights=(near_piece[pyc, pxc] * inbox).astype(np.float32), minlength=n) > 0
    # Crowding: candidate pixels in a 3k window around the blob's centre that are not the blob itself.
    cx = np.clip(np.round(cents[:, 0]).astype(np.int64), 0, w - 1)
    cy = np.clip(np.round(cents[:, 1]).astype(np.int64), 0, h - 1)
    cell_area = (h / cells[1]) * (w / cells[0])
    crowd_grid = cv2.blur(cv2.resize(cand, cells, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0, (3, 3))
    others = grid_at(crowd_grid, cx, cy) * 9.0 * cell_area - area
    tex_at = grid_at(texture_grid, cx, cy)
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, lab, dev.ravel()[idx].astype(np.float32))
    big_enough = (area >= 2) | (peak > 2.5 * MIN_CONTRAST)
    on_backdrop = mean_alpha < BACKDROP
    on_piece = mean_alpha > PIECE
    isolated = others <= np.where(on_backdrop, CROWD_BACKDROP * area + 0.5 * k * k, CROWD * area + 4)
    thin = area <= 4.5 * extent  # a fibre: up to about four pixels wide, soft edges included
    small = extent <= k
    remove = big_enough & isolated & ~touches_edge & (
        (on_backdrop & ~touches_piece & (small | (thin & (extent <= 4 * k))) & (peak > BACKDROP_STANDOUT * tex_at))
        | (on_piece & (small | (thin & (extent <= 2 * k))) & (peak > PIECE_STANDOUT * tex_at) & (tex_at < ROUGH_METAL))
    )
    remove[0] = False
    if not remove.any():
        return empty, none
    mask = empty
    mask.ravel()[idx[remove[lab]]] = 1
    return cv2.dilate(mask, np.ones((3, 3), np.uint8)), stats[remove, :4].astype(np.int64)


def _with_halo(patch: np.ndarray, sub: np.ndarray, side: np.ndarray, more: int) -> np.ndarray:
    """A backdrop speck's fill mask grown over its soft halo: the pixels around it (within `more` px) that still
    differ from the patch's ground by HALO_CONTRAST grey levels (or 4x its grain) and touch it, off the piece.

    patch: (h, w, 3) uint8 around the speck; sub: (h, w) uint8 0/1 its mask; side: (h, w) bool, the piece."""
    if side[sub > 0].mean() > 0.5:
        return sub  # on the piece a speck's surroundings are the metal's own detail: only the speck goes
    same = (~side).astype(np.uint8)
    grey = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2GRAY).astype(np.int16)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * more + 1, 2 * more + 1))
    reach = cv2.dilate(sub, disc) * same
    ground = grey[(reach == 0) & (same > 0)]
    if ground.size < 8:
        return reach
    level = int(np.median(ground))
    noise = float(np.median(np.abs(ground - level)))  # the ground's own grain or gradient raises the bar
    weak = (np.abs(grey - level) > max(HALO_CONTRAST, 4.0 * noise)).astype(np.uint8) * reach
    n, labels = cv2.connectedComponents(weak | sub, connectivity=8)
    touching = np.zeros(n, bool)
    touching[labels[sub > 0]] = True
    touching[0] = False
    return cv2.dilate(touching[labels].astype(np.uint8), np.ones((3, 3), np.uint8)) * same


def remove_dust(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, int]:
    """Remove dust, fibres and specks; returns (rgb (H, W, 3) uint8, specks removed).

    rgb : (H, W, 3) uint8 sRGB. alpha : (H, W) float32 0..1, the piece's matte (the backdrop is cleaned too).
    Only the specks' pixels change (see find_specks); they are filled with cv2.inpaint (Telea) from around them,
    speck by speck on a small window (specks lie all over the photo; one window round them all would be the photo).
    """
    alpha = check_photo(rgb, alpha, "remove_dust")
    mask, boxes = find_specks(rgb, alpha)
    out = rgb.copy()
    if len(boxes) == 0:
        return out, 0
    h, w = mask.shape
    # A bigger speck drags a soft halo (out of focus, its shadow, a glint): its fill follows it up to 7 px further
    # (_with_halo), on the backdrop only. Small specks have none worth the look.
    pad = 14  # the largest growth and a ring of context for the fill
    grow = np.clip(2 * np.maximum(boxes[:, 2], boxes[:, 3]) // 3, 0, 7)
    windows = [(max(0, int(x) - pad), max(0, int(y) - pad), min(w, int(x + bw) + pad), min(h, int(y + bh) + pad))
               for x, y, bw, bh in boxes]
    for (wx0, wy0, wx1, wy1), more in zip(windows, grow, strict=True):
        if more >= 3:
            sub = mask[wy0:wy1, wx0:wx1]
            sub |= _with_halo(out[wy0:wy1, wx0:wx1], sub, alpha[wy0:wy1, wx0:wx1] > PIECE, int(more))
    x0, y0 = min(wi[0] for wi in windows), min(wi[1] for wi in windows)
    x1, y1 = max(wi[2] for wi in windows), max(wi[3] for wi in windows)
    if len(boxes) > INPAINT_CALLS_PER_MP * (x1 - x0) * (y1 - y0) / 1e6:
        # Many specks (a textured backdrop), or a few close together: one fill over their common box costs less
        # than one call each.
        windows = [(x0, y0, x1, y1)]
    for wx0, wy0, wx1, wy1 in windows:
        sub = mask[wy0:wy1, wx0:wx1]
        filled = cv2.inpaint(np.ascontiguousarray(out[wy0:wy1, wx0:wx1]), sub, 3, cv2.INPAINT_TELEA)
        patch = out[wy0:wy1, wx0:wx1]
        hit = sub > 0
        patch[hit] = filled[hit]
    return out, int(len(boxes))

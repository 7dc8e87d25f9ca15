"""Jewelry matting: the piece's alpha, and its own colour at the edges.

    cut_out(rgb) -> Matte               the piece's alpha (H, W) float32 0..1 and its box
    foreground_colours(rgb, alpha)      (H, W, 3) float32 0..1 sRGB: the piece's colour with the backdrop removed

How cut_out decides, at a working copy of at most WORK_PIXELS:
1. the backdrop's colour everywhere, fitted to the border (backdrop.py);
2. a pixel is the piece where it differs from that backdrop in a way a shadow, a sweep's fall-off or the backdrop's
   own grain cannot explain: another hue (chroma), much brighter, much darker than a shadow gets, or sharp local
   contrast (polished metal mirrors the backdrop, so its colour can be the backdrop's, but its reflections are
   sharp-edged where a shadow is soft);
3. sure seeds grow into their less sure neighbours (hysteresis); specks far smaller than the piece go; holes
   enclosed by the piece are filled only when their colour is not the backdrop's (a ring's open interior shows the
   backdrop and stays background);
4. closed-form matting (cfm.py) solves alpha in a narrow unsure band along the edge;
5. a guided filter carries the alpha to full resolution along the photo's own edges.
A learned coarse alpha (net.py) joins at step 2 when its weights exist (see `_learned_score`).
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from tryon.errors import InputError
from tryon.retouch.backdrop import Backdrop, fit_backdrop, local_contrast, to_lab
from tryon.retouch.cfm import solve_band
from tryon.retouch.types import Matte

log = logging.getLogger(__name__)

WORK_PIXELS = 300_000  # heavy work at about 0.3 MP: edges are refined back at full resolution by the guided filter
CHROMA_MIN = 7.0  # Lab units of a/b difference that are another hue, not JPEG noise or a colour cast's gradient
CHROMA_SIGMAS = 6.0
BRIGHT_MIN = 9.0  # L units brighter than the backdrop (a highlight, a white stone on grey)
DARK_RATIO = 0.62  # darker than this share of the backdrop's L is the piece; a soft shadow seldom gets that dark
CONTRAST_MIN = 5.0  # local std of L (5 px window) that is a reflection's edge, not the backdrop's grain
CONTRAST_TEXTURES = 3.5  # ... and this many times the backdrop's own local contrast
SEED_LEVEL = 1.6  # score of a sure seed; grown into neighbours with a score of at least 1
MIN_PIECE_SHARE = 0.0004  # the piece covers at least this share of the frame
SPECK_SHARE = 0.004  # components smaller than this share of the largest are dust, fibre or grain
BAND_PX = 2  # half-width of the unsure band solved by closed-form matting (working pixels)
GUIDE_EPS = 1e-4


def _check_rgb(rgb: np.ndarray, what: str) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise InputError(f"{what}: expected an (H, W, 3) uint8 RGB image, got {got}")
    if min(rgb.shape[:2]) < 16:
        raise InputError(f"{what}: the image is {rgb.shape[1]}x{rgb.shape[0]} px, too small to cut a piece out of")


def working_copy(rgb: np.ndarray, max_pixels: int = WORK_PIXELS) -> tuple[np.ndarray, float]:
    """(h, w, 3) float32 0..1 copy of `rgb` with at most max_pixels, and its scale (working px per photo px)."""
    h, w = rgb.shape[:2]
    scale = min(1.0, float(np.sqrt(max_pixels / (h * w))))
    small = rgb if scale >= 1.0 else cv2.resize(rgb, (max(16, round(w * scale)), max(16, round(h * scale))),
                                                interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0, scale


def piece_score(lab: np.ndarray, bd: Backdrop) -> np.ndarray:
    """(h, w) float32: how surely each pixel is the piece; >= 1 is the piece, >= SEED_LEVEL sure.

    The largest of four ratios, each 1 at its threshold: chroma difference, brightening, darkening beyond a
    shadow's, and local contrast beyond the backdrop's grain.
    """
    d = lab - bd.lab
    chroma = np.sqrt(d[..., 1] ** 2 + d[..., 2] ** 2)
    sig_ab = float(max(bd.sigma[1], bd.sigma[2]))
    s_chroma = chroma / max(CHROMA_MIN, CHROMA_SIGMAS * sig_ab)
    s_bright = d[..., 0] / max(BRIGHT_MIN, 5.0 * float(bd.sigma[0]))
    ratio = lab[..., 0] / np.maximum(bd.lab[..., 0], 1.0)
    s_dark = (1.0 - ratio) / (1.0 - DARK_RATIO)
    contrast = local_contrast(lab[..., 0])
    s_contrast = contrast / max(CONTRAST_MIN, CONTRAST_TEXTURES * bd.texture)
    score = np.maximum(np.maximum(s_chroma, s_bright), np.maximum(s_dark, s_contrast))
    # grain and JPEG blocks make single pixels jump: a 3 px median keeps chains (2+ px wide) and drops the jumps
    return cv2.medianBlur(score.astype(np.float32), 3)


def _learned_score(small_rgb: np.ndarray) -> np.ndarray | None:
    """The learned net's coarse alpha (h, w) float32, or None when it has no weights (or is not built)."""
    try:
        from tryon.retouch import net
    except ImportError:
        return None
    fn = getattr(net, "coarse_alpha", None)
    if fn is None:
        return None
    out = fn((small_rgb * 255.0 + 0.5).astype(np.uint8))
    return None if out is None else np.asarray(out, np.float32)


def _grow(score: np.ndarray) -> np.ndarray:
    """(h, w) bool: components of score >= 1 that hold a seed (score >= SEED_LEVEL), specks dropped."""
    weak = (score >= 1.0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(weak, connectivity=8)
    if n <= 1:
        return np.zeros(score.shape, bool)
    seeded = np.zeros(n, bool)
    seeded[np.unique(labels[score >= SEED_LEVEL])] = True
    seeded[0] = False
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    areas[~seeded] = 0
    biggest = areas.max()
    keep = seeded & (areas >= max(SPECK_SHARE * biggest, 4.0))
    return keep[labels]


def _fill_holes(mask: np.ndarray, lab: np.ndarray, bd: Backdrop) -> np.ndarray:
    """Fill holes enclosed by the piece unless they show the backdrop (a ring's open interior stays open).

    A hole is a background component that does not touch the frame's edge. It is backdrop when its median colour
    is within the backdrop's spread of the fitted backdrop colour there (chroma and L, shadows allowed).
    """
    inv = (~mask).astype(np.uint8)
    n, labels = cv2.connectedComponents(inv, connectivity=4)
    if n <= 2:
        return mask
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    out = mask.copy()
    d = lab - bd.lab
    chroma = np.sqrt(d[..., 1] ** 2 + d[..., 2] ** 2)
    lim = max(CHROMA_MIN, CHROMA_SIGMAS * float(max(bd.sigma[1], bd.sigma[2]))) * 0.6
    for k in range(1, n):
        if k in edge:
            continue
        sel = labels == k
        if np.median(chroma[sel]) > lim or np.median(np.abs(d[..., 0][sel])) > 3 * BRIGHT_MIN:
            out[sel] = True
    return out


def coarse_mask(small: np.ndarray) -> tuple[np.ndarray, np.ndarray, Backdrop]:
    """Binary piece mask (h, w) bool, the score (h, w) float32 and the backdrop, from the working copy (h, w, 3)."""
    lab = to_lab(small)
    bd = fit_backdrop(lab)
    score = piece_score(lab, bd)
    learned = _learned_score(small)
    if learned is not None and learned.shape == score.shape:
        # the net's alpha (0..1) joins as one more ratio: 0.5 is its threshold, so 2 * alpha is 1 there
        score = np.maximum(score, 2.0 * learned)
    mask = _grow(score)
    if mask.any():
        mask = _fill_holes(mask, lab, bd)
    return mask, score, bd


def trimap_of(mask: np.ndarray, score: np.ndarray) -> np.ndarray:
    """(h, w) float32 trimap: 1 sure piece, 0 sure backdrop, 0.5 the unsure band within BAND_PX of the mask's edge.

    Inside the band, pixels that are the piece beyond doubt stay fixed: a chain thinner than the band would
    otherwise have no piece pixel to hold it, and the Laplacian's cheapest answer would be to let it vanish.
    """
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BAND_PX + 1, 2 * BAND_PX + 1))
    m8 = mask.astype(np.uint8)
    band = (cv2.dilate(m8, k) > 0) & ~(cv2.erode(m8, k) > 0)
    tri = mask.astype(np.float32)
    tri[band] = 0.5
    tri[band & mask & (score >= 2.5 * SEED_LEVEL)] = 1.0
    tri[band & (score < 0.4)] = 0.0
    return tri


def _upsample(alpha_small: np.ndarray, rgb: np.ndarray, scale: float) -> np.ndarray:
    """Alpha at the photo's resolution: bilinear, then a guided filter on the photo's grey inside the piece's box."""
    h, w = rgb.shape[:2]
    if scale >= 1.0:
        return alpha_small
    up = cv2.resize(alpha_small, (w, h), interpolation=cv2.INTER_LINEAR)
    r = max(2, int(round(1.0 / scale)))
    ys, xs = np.nonzero((up > 0.01) & (up < 0.99))
    if len(ys) == 0:
        return up
    y0, y1 = max(0, ys.min() - 2 * r), min(h, ys.max() + 2 * r + 1)
    x0, x1 = max(0, xs.min() - 2 * r), min(w, xs.max() + 2 * r + 1)
    guide = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    up[y0:y1, x0:x1] = cv2.ximgproc.guidedFilter(guide, up[y0:y1, x0:x1], r, GUIDE_EPS)
    return np.clip(up, 0.0, 1.0)


def box_of(alpha: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of alpha > 0.5, x1 and y1 exclusive; (0, 0, 0, 0) when empty."""
    ys = np.flatnonzero((alpha > 0.5).any(axis=1))
    xs = np.flatnonzero((alpha > 0.5).any(axis=0))
    if len(ys) == 0:
        return (0, 0, 0, 0)
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def cut_out(rgb: np.ndarray) -> Matte:
    """The piece's matte in `rgb` (H, W, 3) uint8 sRGB: alpha (H, W) float32 0..1 and its box.

    Raises InputError ("cut out: nothing to cut out: ...") when no piece stands out from the backdrop.
    """
    _check_rgb(rgb, "cut out")
    small, scale = working_copy(rgb)
    mask, score, bd = coarse_mask(small)
    share = float(mask.mean())
    if share < MIN_PIECE_SHARE:
        raise InputError("cut out: nothing to cut out: no piece stands out from the backdrop "
                         f"(the largest candidate covers {share:.2%} of the frame)")
    if share > 0.9 or bd.inlier_share < 0.3:
        raise InputError("cut out: nothing to cut out: no backdrop to tell the piece from "
                         f"(the piece would cover {share:.0%} of the frame)")
    alpha_small = solve_band(small, trimap_of(mask, score), prior=mask.astype(np.float32))
    alpha = _upsample(alpha_small, rgb, scale)
    box = box_of(alpha)
    if box == (0, 0, 0, 0):
        raise InputError("cut out: nothing to cut out: the matte came out empty")
    return Matte(alpha=alpha.astype(np.float32), box=box)


def foreground_colours(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 0..1 sRGB: the piece's own colour, the backdrop removed from edge pixels.

    Solves I = a F + (1 - a) B for F where 0 < a < 1, with B the backdrop fitted to the border (at working
    resolution, upsampled), in linear light; where a is small F is poorly determined, so it is blended toward the
    nearest sure piece colour (a blur of a-weighted colours). Where a is 1 F is the photo itself.
    """
    _check_rgb(rgb, "foreground colours")
    if not isinstance(alpha, np.ndarray) or alpha.shape != rgb.shape[:2]:
        got = alpha.shape if isinstance(alpha, np.ndarray) else type(alpha).__name__
        raise InputError(f"foreground colours: alpha must be (H, W) = {rgb.shape[:2]}, got {got}")
    a = np.clip(alpha.astype(np.float32), 0.0, 1.0)
    h, w = a.shape
    img = rgb.astype(np.float32) / 255.0
    small, scale = working_copy(rgb)
    bd = fit_backdrop(to_lab(small))
    b_small = np.clip(cv2.cvtColor(bd.lab, cv2.COLOR_LAB2RGB), 0.0, 1.0)
    b = b_small if scale >= 1.0 else cv2.resize(b_small, (w, h), interpolation=cv2.INTER_LINEAR)
    lin_i, lin_b = _to_linear(img), _to_linear(b)
    a3 = a[..., None]
    solved = (lin_i - (1.0 - a3) * lin_b) / np.maximum(a3, 1e-3)
    # the piece's nearby sure colour: alpha-weighted blur, wide enough to reach across the edge band
    k = max(3, int(round(4.0 / max(scale, 1e-3))) | 1)
    wsum = cv2.GaussianBlur(a ** 4, (0, 0), k / 2.0)[..., None]
    near = cv2.GaussianBlur(lin_i * (a ** 4)[..., None], (0, 0), k / 2.0) / np.maximum(wsum, 1e-6)
    # trust the solve where alpha is large; low alpha amplifies noise (1/a), so lean on the nearby colour there
    trust = np.clip((a3 - 0.15) / 0.6, 0.0, 1.0)
    f = trust * np.clip(solved, 0.0, 1.0) + (1.0 - trust) * near
    f = np.where(a3 >= 0.999, lin_i, f)
    return np.clip(_to_srgb(f), 0.0, 1.0).astype(np.float32)


def _to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)

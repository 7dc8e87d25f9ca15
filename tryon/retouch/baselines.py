"""The two baselines the evaluation compares cut_out against (what a quick tool would do).

    colour_key(rgb) -> alpha         key against the border's one colour: a soft ramp on the Lab distance to it
    colour_key_cfm(rgb) -> alpha     that key's hard decision, then closed-form matting in a band along its edge

Both take rgb (H, W, 3) uint8 sRGB and return alpha (H, W) float32 0..1. Neither models a gradient, a shadow, a
prop or the backdrop's grain, and neither fills or opens holes: that is what they are there to show.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.retouch.backdrop import border_mask, to_lab
from tryon.retouch.cfm import solve_band
from tryon.retouch.matte import check_rgb, working_copy

KEY_LOW = 6.0  # Lab distance (Delta E 76) to the border's colour below which a pixel is all backdrop
KEY_HIGH = 16.0  # ... and above which it is all piece
BAND_PX = 3  # half-width of the baseline's unsure band (working pixels)


def _key_small(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The key's soft alpha (h, w) at the working copy, the working copy itself, and its scale."""
    small, scale = working_copy(rgb)
    lab = to_lab(small)
    h, w = lab.shape[:2]
    key = np.median(lab[border_mask(h, w)], axis=0)
    dist = np.sqrt(np.sum((lab - key[None, None]) ** 2, axis=2))
    alpha = np.clip((dist - KEY_LOW) / (KEY_HIGH - KEY_LOW), 0.0, 1.0).astype(np.float32)
    return alpha, small, scale


def _to_full(alpha_small: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    h, w = shape[:2]
    if alpha_small.shape == (h, w):
        return alpha_small.astype(np.float32)
    return np.clip(cv2.resize(alpha_small, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0).astype(np.float32)


def colour_key(rgb: np.ndarray) -> np.ndarray:
    """Baseline 1: alpha (H, W) float32 from the distance to the border's median colour (rgb (H, W, 3) uint8)."""
    check_rgb(rgb, "colour key")
    alpha, _, _ = _key_small(rgb)
    return _to_full(alpha, rgb.shape)


def colour_key_cfm(rgb: np.ndarray) -> np.ndarray:
    """Baseline 2: the colour key's decision (alpha > 0.5) refined by closed-form matting in a band along its edge."""
    check_rgb(rgb, "colour key + closed-form matting")
    alpha, small, _ = _key_small(rgb)
    hard = (alpha > 0.5).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BAND_PX + 1, 2 * BAND_PX + 1))
    band = (cv2.dilate(hard, k) > 0) & ~(cv2.erode(hard, k) > 0)
    tri = hard.astype(np.float32)
    tri[band] = 0.5
    return _to_full(solve_band(small, tri, prior=alpha), rgb.shape)

"""One look across a batch: the piece's exposure and white point measured on one photo and imposed on others.

measure_look reads a Look from a photo and its matte (the batch's first output, or the image given to --match);
apply_look moves another photo's piece to it with two global, monotone per-channel curves (a linear-light gain per
channel for the white point, then a power curve on the sRGB value for the exposure), so no tone is clipped or
reordered and the piece's own shading survives.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.errors import InputError
from tryon.retouch.tone import PIECE, check_photo, gain_luts, piece_box, srgb_to_linear
from tryon.retouch.types import Look

LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec. 709 weights on the sRGB values (luma)
WHITE_SHARE = 0.03  # the brightest share of the piece's unclipped pixels that makes its white point
MAX_WHITE_GAIN = 1.2  # per channel: a look evens out a batch, it does not recolour a piece
POWER_RANGE = (0.4, 2.5)  # bounds of the exposure curve's exponent


def _piece_px(rgb: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The piece's pixels (alpha > PIECE) as (n, 3) float32 0..1, subsampled to <= ~60k, and its box."""
    box = piece_box(alpha)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    step = max(1, int(np.sqrt((x1 - x0) * (y1 - y0) / 60_000)))
    inside = alpha[y0:y1:step, x0:x1:step] > PIECE
    px = rgb[y0:y1:step, x0:x1:step][inside].astype(np.float32) * (1.0 / 255.0)
    if px.shape[0] < 10:
        return None
    return px, box


def _white(px: np.ndarray) -> np.ndarray:
    """(3,) the mean of the brightest WHITE_SHARE of the unclipped pixels (n, 3) 0..1: the piece's white point."""
    ok = px.max(axis=1) < 0.985
    use = px[ok] if ok.sum() >= 10 else px
    y = use @ LUMA
    cut = np.quantile(y, 1.0 - WHITE_SHARE)
    return use[y >= cut].mean(axis=0)


def measure_look(rgb: np.ndarray, alpha: np.ndarray) -> Look:
    """The piece's Look: exposure (median luma 0..1), white_rgb (its bright point, 0..1 sRGB), fill_share.

    fill_share is the piece's bounding box's longer side over the photo's longer side. InputError when the matte
    holds no piece.
    """
    alpha = check_photo(rgb, alpha, "measure_look")
    got = _piece_px(rgb, alpha)
    if got is None:
        raise InputError("measure_look: the matte holds no piece to measure")
    px, (x0, y0, x1, y1) = got
    white = _white(px)
    share = max(x1 - x0, y1 - y0) / max(rgb.shape[0], rgb.shape[1])
    return Look(exposure=float(np.median(px @ LUMA)), white_rgb=(float(white[0]), float(white[1]), float(white[2])),
                fill_share=float(share))


def apply_look(rgb: np.ndarray, alpha: np.ndarray, look: Look) -> np.ndarray:
    """Move the photo so its piece has `look`'s white point (chromaticity) and exposure; returns (H, W, 3) uint8.

    White point: per-channel linear-light gains (bounded by MAX_WHITE_GAIN) that give the piece's bright point the
    look's colour ratios, its brightness left to the exposure. Exposure: value ** p on sRGB values with p chosen so
    the piece's median luma lands on look.exposure (0 and 1 stay fixed: nothing clips). The whole photo moves with
    the piece: the backdrop is replaced later anyway. fill_share is framing, applied by compose, not here.
    """
    alpha = check_photo(rgb, alpha, "apply_look")
    if not (0.0 < look.exposure < 1.0) or len(look.white_rgb) != 3 or min(look.white_rgb) <= 0.0:
        raise InputError(f"apply_look: a look needs 0 < exposure < 1 and a positive white point, got {look}")
    got = _piece_px(rgb, alpha)
    if got is None:
        return rgb.copy()
    px, _ = got
    cur_white = srgb_to_linear(_white(px))
    ref_white = srgb_to_linear(np.asarray(look.white_rgb, np.float32))
    cur_ratio = cur_white / max(float(cur_white.mean()), 1e-4)
    ref_ratio = ref_white / max(float(ref_white.mean()), 1e-4)
    gains = np.clip(ref_ratio / np.maximum(cur_ratio, 1e-4), 1 / MAX_WHITE_GAIN, MAX_WHITE_GAIN)
    gains = gains / float(gains @ LUMA)  # the white point's colour, not its brightness
    g3 = (float(gains[0]), float(gains[1]), float(gains[2]))
    # The exposure of the piece once the gains are applied, then the power that puts its median on the target.
    lut = gain_luts(g3)[:, 0, :].astype(np.float32) / 255.0
    idx = np.clip(np.round(px * 255.0), 0, 255).astype(np.int32)
    moved = np.stack([lut[idx[:, c], c] for c in range(3)], axis=1)
    power = 1.0
    # Luma of per-channel powers is not the power of luma: a few Newton-like steps on the sample settle it.
    for _ in range(4):
        med = float(np.median((moved ** power) @ LUMA))
        if not 0.005 < med < 0.995 or abs(med - look.exposure) < 1e-3:
            break
        power = float(np.clip(power * np.log(look.exposure) / np.log(med), *POWER_RANGE))
    return cv2.LUT(rgb, gain_luts(g3, power))

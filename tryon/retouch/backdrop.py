"""The backdrop's colour model, read from the photo's border: a smooth gradient fitted robustly.

Product photos are shot on a sweep, card, cloth or textured surface that fills the frame's edges; the piece seldom
covers more than a part of the border. So the border strip, with its outliers (the piece touching the edge, a
stand, a fibre) trimmed away, tells the backdrop's colour everywhere as a low-order polynomial surface in CIELAB,
and its residuals tell how much the backdrop itself varies (grain of wood, sand, marble, noise, JPEG).

All images here are the working-resolution copy: lab (H, W, 3) float32 CIELAB (L 0..100, a and b about -128..127).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tryon.errors import InputError

BORDER_SHARE = 0.03  # the strip read as backdrop: 3 % of the shorter side (at least 3 px)
TRIM_SIGMAS = 2.5  # border samples further than this many robust sigmas from the fit are not backdrop
FIT_ROUNDS = 4
MIN_SIGMA = (1.2, 0.8, 0.8)  # Lab units: JPEG and sensor noise on even the cleanest sweep


@dataclass(frozen=True)
class Backdrop:
    """The backdrop's colour everywhere and how much it varies.

    lab : (H, W, 3) float32 CIELAB, the fitted backdrop colour at every pixel
    sigma : (3,) float32 robust standard deviation of the border's residuals per Lab channel (at least MIN_SIGMA)
    texture : float, the median local contrast (std of L in a 5 px window, Lab units) of the backdrop's border:
        high for sand, wood and marble, low for a paper sweep
    inlier_share : share of the border strip that matched the fit (low when the piece or a prop fills the edges)
    """

    lab: np.ndarray
    sigma: np.ndarray
    texture: float
    inlier_share: float


def to_lab(rgb_f: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 0..1 sRGB -> (H, W, 3) float32 CIELAB (L 0..100)."""
    return cv2.cvtColor(np.ascontiguousarray(rgb_f, dtype=np.float32), cv2.COLOR_RGB2LAB)


def border_mask(h: int, w: int) -> np.ndarray:
    """(H, W) bool, the strip along the four edges that is read as backdrop."""
    b = max(3, int(round(BORDER_SHARE * min(h, w))))
    m = np.zeros((h, w), bool)
    m[:b] = m[-b:] = True
    m[:, :b] = m[:, -b:] = True
    return m


def _design(xs: np.ndarray, ys: np.ndarray, degree: int) -> np.ndarray:
    """(n, k) polynomial terms x^i y^j with i + j <= degree; xs and ys scaled to -1..1."""
    cols = [xs ** i * ys ** j for i in range(degree + 1) for j in range(degree + 1 - i)]
    return np.stack(cols, axis=1).astype(np.float64)


def local_contrast(lum: np.ndarray, size: int = 5) -> np.ndarray:
    """(H, W) float32 local standard deviation of `lum` in a size x size window."""
    m = cv2.blur(lum, (size, size))
    m2 = cv2.blur(lum * lum, (size, size))
    return np.sqrt(np.maximum(m2 - m * m, 0.0)).astype(np.float32)


def fit_backdrop(lab: np.ndarray, degree: int = 2) -> Backdrop:
    """Fit the backdrop to the border strip of `lab` (H, W, 3) float32 CIELAB; see Backdrop.

    Trimmed least squares: each round refits on the border samples within TRIM_SIGMAS of the last fit, so a piece
    or prop that covers part of the edge does not pull the gradient toward its own colour.
    """
    if lab.ndim != 3 or lab.shape[2] != 3 or min(lab.shape[:2]) < 16:
        raise InputError(f"backdrop: expected an (H, W, 3) image at least 16 px a side, got {lab.shape}")
    h, w = lab.shape[:2]
    strip = border_mask(h, w)
    # every other sample is plenty for a 6-term fit and halves the cost
    ys, xs = np.nonzero(strip)
    ys, xs = ys[::2], xs[::2]
    sx, sy = 2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)
    a = _design(xs * sx - 1.0, ys * sy - 1.0, degree)
    vals = lab[ys, xs].astype(np.float64)
    keep = np.ones(len(vals), bool)
    floor = np.asarray(MIN_SIGMA)
    coef = np.zeros((a.shape[1], 3))
    sigma = floor.copy()
    for _ in range(FIT_ROUNDS):
        coef, *_ = np.linalg.lstsq(a[keep], vals[keep], rcond=None)
        res = vals - a @ coef
        sigma = np.maximum(1.4826 * np.median(np.abs(res[keep]), axis=0), floor)
        dist = np.sqrt(np.sum((res / sigma) ** 2, axis=1))
        new_keep = dist < TRIM_SIGMAS * np.sqrt(3.0)
        if new_keep.sum() < a.shape[1] * 4:
            break
        keep = new_keep
    gy, gx = np.mgrid[0:h, 0:w]
    full = _design(gx.ravel() * sx - 1.0, gy.ravel() * sy - 1.0, degree) @ coef
    contrast = local_contrast(lab[..., 0])
    tex = float(np.median(contrast[ys[keep], xs[keep]])) if keep.any() else 0.0
    return Backdrop(lab=full.reshape(h, w, 3).astype(np.float32), sigma=sigma.astype(np.float32), texture=tex,
                    inlier_share=float(keep.mean()))

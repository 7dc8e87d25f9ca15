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
MAX_SAMPLES = 4000  # border samples fitted (a 6-term surface needs few)
TEXTURE_GROWTH = 2.5  # the local grain may be at most this many times the border's
TEXTURE_FLOOR = 0.4  # Lab L units: the border's grain is taken as at least this (JPEG noise)


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
    # a few thousand samples are plenty for a 6-term fit
    ys, xs = np.nonzero(strip)
    step = max(1, len(ys) // MAX_SAMPLES)
    ys, xs = ys[::step], xs[::step]
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
    # the surface is smooth: evaluate it on a coarse grid and interpolate
    gh, gw = max(2, h // 8), max(2, w // 8)
    gy, gx = np.mgrid[0:gh, 0:gw]
    coarse = _design((gx.ravel() * (w - 1) / (gw - 1)) * sx - 1.0, (gy.ravel() * (h - 1) / (gh - 1)) * sy - 1.0,
                     degree) @ coef
    full = cv2.resize(coarse.reshape(gh, gw, 3).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    contrast = local_contrast(lab[..., 0])
    tex = float(np.median(contrast[ys[keep], xs[keep]])) if keep.any() else 0.0
    return Backdrop(lab=full, sigma=sigma.astype(np.float32), texture=tex,
                    inlier_share=float(keep.mean()))


@dataclass(frozen=True)
class LocalBackdrop:
    """The backdrop seen around each pixel, read from the pixels that are surely backdrop.

    lab : (h, w, 3) float32 CIELAB, the backdrop's local mean colour (filled in under the piece from around it)
    spread : (h, w, 3) float32, the local robust spread of the backdrop's colour per Lab channel (grain, noise)
    texture : (h, w) float32, the backdrop's local contrast (mean 5 px std of L) around each pixel
    """

    lab: np.ndarray
    spread: np.ndarray
    texture: np.ndarray


COARSE_CELL = 8  # local statistics are gathered on a grid of 8 x 8 working pixels
FILL_SIGMAS = (1.5, 4.0, 12.0)  # Gaussian widths (grid cells) tried in turn until enough backdrop is in reach


def _normalised_blur(values: np.ndarray, weight: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Weighted local mean of `values` (h, w, c) with `weight` (h, w), filled from further away where the weight
    is thin (normalised convolution at FILL_SIGMAS on a coarse grid), returned at `shape` (h, w)."""
    h, w = shape
    gw, gh = max(2, w // COARSE_CELL), max(2, h // COARSE_CELL)
    wv = cv2.resize(values * weight[..., None], (gw, gh), interpolation=cv2.INTER_AREA)
    ww = cv2.resize(weight, (gw, gh), interpolation=cv2.INTER_AREA)
    if wv.ndim == 2:
        wv = wv[..., None]
    out = np.zeros_like(wv)
    done = np.zeros((gh, gw), bool)
    for i, s in enumerate(FILL_SIGMAS):
        num = cv2.GaussianBlur(wv, (0, 0), s)
        if num.ndim == 2:
            num = num[..., None]
        den = cv2.GaussianBlur(ww, (0, 0), s)
        ok = (den > 0.15) if i < len(FILL_SIGMAS) - 1 else np.ones_like(done)
        take = ok & ~done
        out[take] = num[take] / np.maximum(den[take], 1e-6)[..., None]
        done |= take
    up = cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    return up.reshape(h, w, -1).astype(np.float32)


def local_backdrop(lab: np.ndarray, weight: np.ndarray, global_fit: Backdrop,
                   texture_weight: np.ndarray | None = None, texture_cap: float = 10.0) -> LocalBackdrop:
    """Local backdrop statistics of `lab` (h, w, 3) from the pixels with `weight` (h, w) float32 0..1 near 1.

    Backdrops are seldom one smooth gradient: sand is warmer where the gold reflects on it, a marble's veins
    wander, a sweep shades off behind the piece. Read from everything that is surely backdrop (not just the
    border) the local colour, its spread and its grain, so that the piece is judged against its own surroundings.
    Where no backdrop pixel is in reach the global fit stands in. The grain is read with its own weight
    (`texture_weight`, default `weight`): the grain's brightest grains must count, or sand looks calmer than it is;
    contrast is capped at `texture_cap` so that a stray edge of the piece cannot make the backdrop look rough.
    """
    h, w = lab.shape[:2]
    wt = np.clip(weight, 0.0, 1.0).astype(np.float32)
    if wt.sum() < 64:
        zeros = np.zeros((h, w), np.float32)
        return LocalBackdrop(global_fit.lab, np.broadcast_to(global_fit.sigma, (h, w, 3)).astype(np.float32),
                             zeros + global_fit.texture)
    # the residual from the global fit is smoother to fill than the raw colour (the gradient is already in the fit)
    res = (lab - global_fit.lab).astype(np.float32)
    mean = _normalised_blur(res, wt, (h, w))
    dev = np.abs(res - mean)
    spread = 1.25 * _normalised_blur(dev, wt, (h, w))  # mean absolute deviation -> standard deviation
    spread = np.maximum(spread, np.asarray(MIN_SIGMA, np.float32)[None, None])
    contrast = np.minimum(local_contrast(lab[..., 0]), texture_cap)
    tw = wt if texture_weight is None else np.clip(texture_weight, 0.0, 1.0).astype(np.float32)
    texture = _normalised_blur(contrast[..., None], tw, (h, w))[..., 0]
    # the border's grain bounds the local one: where the local grain reads far rougher than anything on the border,
    # the piece's own faint edges (a silver shank on white) have crept into it
    texture = np.minimum(texture, TEXTURE_GROWTH * max(global_fit.texture, TEXTURE_FLOOR))
    return LocalBackdrop(lab=(global_fit.lab + mean).astype(np.float32), spread=spread.astype(np.float32),
                         texture=texture.astype(np.float32))

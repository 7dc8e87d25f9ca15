"""Closed-form matting (Levin, Lischinski and Weiss, 2008) solved only in an unsure band.

Inside each 3 x 3 window the alpha is an affine function of the colour (the colour-line model); the matting
Laplacian L sums, over windows, how far alpha strays from that. With the sure pixels fixed, the unsure ones solve
    L_uu alpha_u = -L_uk alpha_k  (+ a weak pull toward the coarse mask so that a band with no sure piece pixel
                                    nearby keeps its coarse value rather than drifting to 0)
Only windows that touch an unsure pixel are built, so the cost follows the band's length, not the image's area.

Images here are the working-resolution copy: img (h, w, 3) float32 0..1.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from tryon.errors import InputError

EPS = 1e-5  # the Laplacian's regulariser: larger is smoother alpha in flat regions
PRIOR_WEIGHT = 0.02  # pull of the coarse alpha on the unsure pixels (the Laplacian's diagonal is about 1)
CG_TOL = 1e-4
CG_ITERS = 300


def _windows(unknown: np.ndarray) -> np.ndarray:
    """Flat indices of the centres of every 3 x 3 window (fully inside the image) that holds an unsure pixel."""
    h, w = unknown.shape
    touch = unknown.copy()
    touch[1:] |= unknown[:-1]
    touch[:-1] |= unknown[1:]
    touch[:, 1:] |= touch[:, :-1].copy()
    touch[:, :-1] |= touch[:, 1:].copy()
    touch[0] = touch[-1] = False
    touch[:, 0] = touch[:, -1] = False
    return np.flatnonzero(touch)


def _inv3(m: np.ndarray) -> np.ndarray:
    """Inverse of a stack of 3 x 3 matrices (n, 3, 3) by the adjugate: many times faster than np.linalg.inv."""
    a, b, c = m[:, 0, 0], m[:, 0, 1], m[:, 0, 2]
    d, e, f = m[:, 1, 0], m[:, 1, 1], m[:, 1, 2]
    g, h, i = m[:, 2, 0], m[:, 2, 1], m[:, 2, 2]
    co = np.stack([e * i - f * h, c * h - b * i, b * f - c * e,
                   f * g - d * i, a * i - c * g, c * d - a * f,
                   d * h - e * g, b * g - a * h, a * e - b * d], axis=1).reshape(-1, 3, 3)
    det = a * co[:, 0, 0] + b * co[:, 1, 0] + c * co[:, 2, 0]
    return co / det[:, None, None]


def matting_laplacian(img: np.ndarray, centres: np.ndarray, eps: float = EPS) -> tuple[sp.csr_matrix, np.ndarray]:
    """The matting Laplacian of the 3 x 3 windows centred at flat indices `centres`, on the pixels they cover.

    Returns (L, pixels): L (m, m) sparse over `pixels` (m,) int64, the sorted flat indices of every covered pixel.
    """
    h, w = img.shape[:2]
    offs = np.array([dy * w + dx for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
    idx = centres[:, None] + offs[None, :]  # (n, 9)
    pixels, local = np.unique(idx, return_inverse=True)
    local = local.reshape(idx.shape)
    win = img.reshape(-1, 3)[idx].astype(np.float64)  # (n, 9, 3)
    x = win - win.mean(axis=1, keepdims=True)
    cov = np.einsum("nki,nkj->nij", x, x) / 9.0 + (eps / 9.0) * np.eye(3)[None]
    inv = _inv3(cov)
    # x inv x^T per window, spelled out over the 3 colour channels: batched matmul of tiny matrices is slow
    y = [x[:, :, 0] * inv[:, None, 0, j] + x[:, :, 1] * inv[:, None, 1, j] + x[:, :, 2] * inv[:, None, 2, j]
         for j in range(3)]
    quad = sum(y[j][:, :, None] * x[:, None, :, j] for j in range(3))
    # float32 entries and int32 indices: the sparse assembly (sorting 81 entries per window) is the costly part
    vals = (np.eye(9)[None] - (1.0 + quad) / 9.0).astype(np.float32)
    local = local.astype(np.int32)
    rows = np.broadcast_to(local[:, :, None], vals.shape).ravel()
    cols = np.broadcast_to(local[:, None, :], vals.shape).ravel()
    m = len(pixels)
    return sp.csr_matrix((vals.ravel(), (rows, cols)), shape=(m, m)), pixels


def solve_band(img: np.ndarray, trimap: np.ndarray, prior: np.ndarray | None = None) -> np.ndarray:
    """Alpha (h, w) float32 0..1 from `trimap` (h, w) float32: 0 background, 1 piece, anything else unsure.

    img : (h, w, 3) float32 0..1, the working copy
    prior : (h, w) float32 0..1, the coarse alpha the unsure pixels are weakly pulled toward (default 0.5)
    """
    if img.ndim != 3 or img.shape[2] != 3 or trimap.shape != img.shape[:2]:
        raise InputError(f"closed-form matting: image {img.shape} and trimap {trimap.shape} do not match")
    unknown = (trimap > 0.0) & (trimap < 1.0)
    alpha = np.where(unknown, 0.0, trimap).astype(np.float64)
    if not unknown.any():
        return alpha.astype(np.float32)
    p = np.full(trimap.shape, 0.5) if prior is None else prior.astype(np.float64)
    lap, pixels = matting_laplacian(img, _windows(unknown))
    is_u = unknown.ravel()[pixels]
    u = pixels[is_u]
    lap_u = lap[np.flatnonzero(is_u)]
    a_uu = lap_u[:, np.flatnonzero(is_u)] + sp.identity(len(u), format="csr") * PRIOR_WEIGHT
    known = alpha.ravel()[pixels]
    known[is_u] = 0.0
    rhs = -(lap_u @ known) + PRIOR_WEIGHT * p.ravel()[u]
    precond = sp.diags(1.0 / np.maximum(a_uu.diagonal(), 1e-8))
    sol, _ = spla.cg(a_uu, rhs, x0=p.ravel()[u], rtol=CG_TOL, maxiter=CG_ITERS, M=precond)
    alpha.ravel()[u] = sol
    return np.clip(alpha, 0.0, 1.0).astype(np.float32)

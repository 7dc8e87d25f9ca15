"""Plain alpha compositing of a premultiplied render layer over the frame (the compositor's fallback)."""

from __future__ import annotations

import numpy as np

from tryon.errors import InputError
from tryon.types import RenderLayer


def composite(frame_rgb: np.ndarray, layer: RenderLayer) -> np.ndarray:
    """frame_rgb : (H, W, 3) uint8 -> a new (H, W, 3) uint8 with the layer drawn over it.

    Only the layer's region is touched; the rest is copied as is.
    """
    w, h = layer.frame_size
    if frame_rgb.shape != (h, w, 3):
        raise InputError(f"frame is {frame_rgb.shape}, the layer was rendered for {(h, w, 3)}")
    out = frame_rgb.copy()
    if layer.rgba.size == 0:
        return out
    x0, y0 = layer.origin_px
    rh, rw = layer.rgba.shape[:2]
    region = out[y0 : y0 + rh, x0 : x0 + rw].astype(np.float32)
    rgba = layer.rgba
    region = rgba[..., :3] * 255.0 + region * (1.0 - rgba[..., 3:4])
    out[y0 : y0 + rh, x0 : x0 + rw] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
    return out

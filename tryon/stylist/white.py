"""The scene's white, read from the frame itself, and cameras set to a colour temperature.

The undertone is read relative to the light (tryon.anchors.skin), so the light's colour must come from the
frame. The renderer's room light (tryon.render.environment.room_light) is the frame's mean colour held to a
5 % tint on purpose (gold must stay gold on a blue wall), and the compositor's look network reads a camera's
colour poorly (tryon.compositor.look: its colour read was worth little on held-out frames); neither can undo a
3000 K lamp. So the white here is the grey-edge estimate (van de Weijer, Gevers and Gijsenij, "Edge-based
colour constancy", IEEE TIP 2007): the Minkowski p-norm of each channel's gradient in linear light. Edges,
not areas: a large coloured wall has few edges and moves the estimate little, where grey-world follows it.
The face itself is left out (its edges are skin's colour: reading them would cancel the undertone), as are
clipped pixels. The compositor's camera model supplies the linearisation and the luminance weights.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.compositor.camera import LUMA, Camera, srgb_to_linear
from tryon.errors import InputError

WORK_PX = 320  # the frame's long side is shrunk to this first: the light is a property of the whole frame
EDGE_SIGMA_PX = 1.0
MINKOWSKI_P = 6.0
CLIP_LEVEL = 0.97  # linear: clipped pixels' ratios are wrong
MIN_EDGE_PX = 200  # fewer usable pixels than this: grey world over what is left
REFERENCE_K = 6500.0  # a camera balanced for this temperature is neutral


def scene_white(rgb: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """(3,) float64 linear RGB of the scene's light at luminance 1, from rgb (H, W, 3) uint8 display sRGB.

    exclude: (H, W) bool, pixels not to read (the face). Raises InputError on a bad frame."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"frame must be (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_PX / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else rgb
    lin = srgb_to_linear(small.astype(np.float32) / np.float32(255.0))
    keep = lin.max(axis=2) < CLIP_LEVEL
    if exclude is not None:
        if exclude.shape != (h, w):
            raise InputError(f"exclude must be {(h, w)}, got {exclude.shape}")
        ex = cv2.resize(exclude.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        keep &= ~cv2.dilate(ex.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    keep = cv2.erode(keep.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)  # no gradient across a cut
    blurred = cv2.GaussianBlur(lin, (0, 0), EDGE_SIGMA_PX)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt(gx * gx + gy * gy)[keep].astype(np.float64)
    if len(grad) >= MIN_EDGE_PX and grad.sum() > 0:
        white = np.power(np.mean(np.power(grad, MINKOWSKI_P), axis=0), 1.0 / MINKOWSKI_P)
    else:
        px = lin[keep] if keep.sum() >= MIN_EDGE_PX else lin.reshape(-1, 3)
        white = px.astype(np.float64).mean(axis=0)
    white = np.maximum(white, 1e-6)
    return white / float(white @ LUMA.astype(np.float64))


def planck_xy(kelvin: float) -> tuple[float, float]:
    """CIE 1931 xy of a black body at this temperature, 1667-25000 K (Kim et al., US patent 7024034, 2006: the
    cubic spline of the Planckian locus)."""
    t = float(kelvin)
    if not 1667.0 <= t <= 25000.0:
        raise InputError(f"colour temperature must be 1667-25000 K, got {kelvin}")
    if t <= 4000.0:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222.0:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000.0:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


_XYZ_TO_RGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                        [-0.9692660, 1.8760108, 0.0415560],
                        [0.0556434, -0.2040259, 1.0572252]])


def kelvin_rgb(kelvin: float) -> np.ndarray:
    """(3,) linear sRGB of a black body's light at this temperature, luminance 1."""
    x, y = planck_xy(kelvin)
    rgb = _XYZ_TO_RGB @ np.array([x / y, 1.0, (1.0 - x - y) / y])
    return rgb / float(rgb @ LUMA.astype(np.float64))


def camera_at_kelvin(kelvin: float, reference_k: float = REFERENCE_K) -> Camera:
    """The compositor's camera balanced for `reference_k` recording a scene lit at `kelvin`: its white balance
    gains are the light's colour relative to the reference, exposed so that no channel is amplified (as a camera
    exposes for its brightest channel rather than clip it). 3000 K: a warm, orange cast."""
    gains = kelvin_rgb(kelvin) / kelvin_rgb(reference_k)
    gains = gains / float(gains.max())
    return Camera(wb_gains=(float(gains[0]), float(gains[1]), float(gains[2])))




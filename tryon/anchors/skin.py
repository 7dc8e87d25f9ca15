"""The skin of the face as colour: which pixels are skin (cheeks and forehead from the face mesh), and the
skin's undertone (warm, cool, neutral) under the scene's light.

Undertone is the hue of the skin, not its depth: yellow-golden (warm), pink-red (cool) or between (neutral).
A lamp colours the skin as much as the undertone does (a 3000 K bulb makes everyone "warm"), so the skin is
read relative to the scene's white: the caller gives the light's colour (tryon.stylist.white), the skin's
linear RGB is divided by it (von Kries, in linear sRGB), and the CIELAB hue angle h = atan2(b*, a*) of the
balanced skin is compared with the bands below. Lighter skin and darker skin share the bands: the hue angle
does not depend on L*.

Everything here is a pure function of arrays: colours are linear RGB (the caller linearises), points pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from tryon.errors import InputError
from tryon.types import FaceLandmarks

# Face mesh polygons (indices into the 478 points). Cheeks: below the eye, beside the nose, above the mouth's
# corner; forehead: between the brows' tops and the mesh's upper edge. Each stays off the eyes, brows,
# nostrils and lips, and the regions to exclude are cut out again below in case a pose folds them over.
CHEEK_IMAGE_LEFT = (117, 118, 101, 36, 206, 216, 192, 123)
CHEEK_IMAGE_RIGHT = (346, 347, 330, 266, 426, 436, 416, 352)
FOREHEAD = (103, 67, 109, 10, 338, 297, 332, 333, 299, 337, 151, 108, 69, 104)
EXCLUDE = (
    (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),  # eye, image left
    (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249),  # eye, image right
    (70, 63, 105, 66, 107, 55, 65, 52, 53, 46),  # brow, image left
    (300, 293, 334, 296, 336, 285, 295, 282, 283, 276),  # brow, image right
    (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146),  # lips
)
EXCLUDE_GROW_FW = 0.02  # the excluded regions grown by this share of the face width (lashes, lip liner)
MIN_SKIN_PX = 60
# Shading: the skin's luminance varies with the face's shape. Speculars (the forehead's and cheekbones' shine)
# carry the light's colour, not the skin's; deep shadow carries inter-reflections and noise. Kept: the pixels
# between these luminance quantiles, none with a channel near clipping.
SHADE_QUANTILES = (0.15, 0.85)
CLIP_LEVEL = 0.97  # linear: a channel this bright has likely clipped (its ratio to the others is wrong)
# Undertone bands of the balanced skin's CIELAB hue angle (degrees). Measured skin spans about 40-75 degrees
# (the redder, pinker skin low, the yellower high; the hue angle is independent of depth of skin). The bands
# were fitted to the hand-marked development portraits (assets/annotations/undertone_labels.json, 34 colour
# photos): the a-priori guess of 52 / 60 agreed with 41 % of the labels; these agree with 62 %, and 59 % when
# each portrait is left out of the fit that labels it (leave-one-out: the figure to expect on new faces).
COOL_BELOW_DEG = 46.0
WARM_ABOVE_DEG = 54.0
CONFIDENT_DEG = 6.0  # this far inside a band: confidence 1
# CIELAB from linear sRGB (D65).
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_D65 = np.array([0.95047, 1.0, 1.08883])


@dataclass(frozen=True)
class Undertone:
    """label: "warm", "cool" or "neutral"; confidence 0..1; hue_deg: the balanced skin's CIELAB hue angle;
    lab: (3,) its median L*, a*, b*; pixels: how many skin pixels were read."""

    label: str
    confidence: float
    hue_deg: float
    lab: tuple[float, float, float]
    pixels: int


def skin_mask(face: FaceLandmarks, size: tuple[int, int]) -> np.ndarray:
    """(h, w) bool: the cheeks and forehead of this face, without eyes, brows and lips. size: (width, height)."""
    w, h = size
    pts = face.points_px[:, :2]
    mask = np.zeros((h, w), np.uint8)
    for keep in (CHEEK_IMAGE_LEFT, CHEEK_IMAGE_RIGHT, FOREHEAD):
        cv2.fillPoly(mask, [np.round(pts[list(keep)]).astype(np.int32)], (1,))
    cut = np.zeros((h, w), np.uint8)
    for drop in EXCLUDE:
        cv2.fillPoly(cut, [cv2.convexHull(np.round(pts[list(drop)]).astype(np.int32))], (1,))
    grow = max(1, int(round(EXCLUDE_GROW_FW * face.face_width_px)))
    grown = cv2.dilate(cut, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return np.asarray((mask > 0) & (grown == 0))


def lit_skin(linear_rgb: np.ndarray) -> np.ndarray:
    """(n, 3) linear skin pixels -> (m, 3): those neither in specular shine nor in shadow (SHADE_QUANTILES),
    with no channel near clipping."""
    px = np.asarray(linear_rgb, np.float64).reshape(-1, 3)
    px = px[px.max(axis=1) < CLIP_LEVEL]
    if len(px) == 0:
        return px
    lum = px @ _RGB_TO_XYZ[1]
    lo, hi = np.quantile(lum, SHADE_QUANTILES)
    return px[(lum >= lo) & (lum <= hi) & (lum > 1e-4)]


def linear_to_lab(linear_rgb: np.ndarray) -> np.ndarray:
    """(n, 3) linear sRGB (D65 white = 1, 1, 1) -> (n, 3) CIELAB."""
    xyz = np.asarray(linear_rgb, np.float64) @ _RGB_TO_XYZ.T / _D65
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(np.maximum(xyz, 0.0)), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def undertone(skin_linear: np.ndarray, white_linear: np.ndarray) -> Undertone:
    """The undertone of skin pixels (n, 3) linear RGB under a light of colour white_linear (3,) (any scale).

    Raises InputError with fewer than MIN_SKIN_PX usable pixels or a light with a non-positive channel."""
    white = np.asarray(white_linear, np.float64).reshape(-1)
    if white.shape != (3,) or not np.all(np.isfinite(white)) or white.min() <= 0:
        raise InputError(f"the light's colour must be (3,) positive, got {white_linear!r}")
    px = lit_skin(skin_linear)
    if len(px) < MIN_SKIN_PX:
        raise InputError(f"too little skin in view to read its undertone ({len(px)} pixels, need {MIN_SKIN_PX})")
    balanced = px / (white / (white @ _RGB_TO_XYZ[1]))  # the light made white at its own luminance
    lab = linear_to_lab(balanced)
    med = np.median(lab, axis=0)
    hue = math.degrees(math.atan2(float(med[2]), float(med[1])))
    if hue > WARM_ABOVE_DEG:
        label, margin = "warm", hue - WARM_ABOVE_DEG
    elif hue < COOL_BELOW_DEG:
        label, margin = "cool", COOL_BELOW_DEG - hue
    else:
        label, margin = "neutral", min(hue - COOL_BELOW_DEG, WARM_ABOVE_DEG - hue)
    # A grey or near-grey "skin" (a black-and-white photo) has no undertone to read.
    chroma = float(np.hypot(med[1], med[2]))
    confidence = min(1.0, margin / CONFIDENT_DEG) * min(1.0, chroma / 12.0)
    return Undertone(label, round(confidence, 3), round(hue, 2), (float(med[0]), float(med[1]), float(med[2])),
                     int(len(px)))

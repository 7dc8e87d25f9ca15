"""Hair in front of a necklace: which pixels of a region are the person's hair, so a chain passes behind it.

Long hair falls over the shoulders in front of the collarbones, where a chain lies. A pixel is hair when
the person mask says "person", its colour is far from the cheeks' skin (tryon.anchors.ears.skin_model) and
near the hair's own colour, sampled above the forehead where hair is almost always found. No hair there
(short or no hair, a hat): no hair model, nothing is hidden.
"""

from __future__ import annotations

import cv2
import numpy as np

from tryon.anchors.ears import skin_model
from tryon.types import Cover, FaceLandmarks

FOREHEAD_TOP = 10  # face mesh landmark at the hairline's middle
MIN_SAMPLES = 40
HAIR_SD_FLOOR = np.array([8.0, 4.0, 4.0], np.float32)  # Lab: hair's brightness varies most (sheen, shade)
HAIR_Z = 2.5  # within this many spreads of the hair's colour
SKIN_Z = 3.0  # at least this far from the skin's colour (as the ears' hair test)
# The person mask's edge is soft and bleeds into the background for a few percent of a face width: a dark
# wall there looks like dark hair beside a bare ear. Hair in front of an ear or a chain lies well inside it.
MASK_EDGE_FW = 0.03
HUE_OFF_DEG = 12.0  # chosen on the fit part: 10 hid a visible lobe, 15 no more hair than without
HUE_MIN_CHROMA = 12.0


class HairCover:
    """`HairCover(rgb, person, face)(x0, y0, w, h)` -> (h, w) float32 0..1, how much hair covers each pixel."""

    def __init__(self, rgb: np.ndarray, person: np.ndarray, face: FaceLandmarks) -> None:
        self._rgb, self._person = rgb, person
        self._edge_px = max(1, round(MASK_EDGE_FW * face.face_width_px))
        self._skin = skin_model(rgb, face)
        self.hair = self._hair_model(face)

    def _not_skin(self, lab: np.ndarray) -> np.ndarray:
        mean, sd = self._skin
        z = np.abs(lab - mean) / sd
        far = (z[..., 0] > SKIN_Z) | (np.hypot(z[..., 1], z[..., 2]) > SKIN_Z)
        # Blond and red hair can sit within the skin's spread of a* and b* and still be another hue (yellower
        # or redder than any skin on that face): a hue far from the skin's, at a clear colour, is not skin.
        a, b = lab[..., 1] - 128.0, lab[..., 2] - 128.0
        hue = np.degrees(np.arctan2(b, a))
        skin_hue = float(np.degrees(np.arctan2(mean[2] - 128.0, mean[1] - 128.0)))
        off = np.abs((hue - skin_hue + 180.0) % 360.0 - 180.0)
        return far | ((off > HUE_OFF_DEG) & (np.hypot(a, b) > HUE_MIN_CHROMA))

    def _hair_model(self, face: FaceLandmarks) -> tuple[np.ndarray, np.ndarray] | None:
        """Mean and spread (Lab) of the person's non-skin pixels in a band above the forehead."""
        h, w = self._person.shape
        top = face.points_px[FOREHEAD_TOP, :2]
        fw = face.face_width_px
        x0, x1 = int(max(0, top[0] - 0.3 * fw)), int(min(w, top[0] + 0.3 * fw))
        y0, y1 = int(max(0, top[1] - 0.35 * fw)), int(min(h, top[1] - 0.05 * fw))
        if x1 - x0 < 3 or y1 - y0 < 3:
            return None
        lab = cv2.cvtColor(self._rgb[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(np.float32)
        hair = (self._person[y0:y1, x0:x1] > 0.5) & self._not_skin(lab)
        if int(hair.sum()) < max(MIN_SAMPLES, 0.15 * hair.size):
            return None
        samples = lab[hair]
        # The median and the median's spread: a few bright pixels (the wall behind a soft mask edge, a
        # highlight) must not stretch dark hair's model over a worn earring or the jaw's shade.
        mid = np.median(samples, axis=0)
        spread = 1.4826 * np.median(np.abs(samples - mid), axis=0)
        return mid, np.maximum(spread, HAIR_SD_FLOOR)

    def _inside(self, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """(h', w') bool: the region's pixels well inside the person mask (its edge eroded away; the frame's
        border is not an edge)."""
        m = self._edge_px
        fh, fw = self._person.shape
        px0, py0, px1, py1 = max(0, x0 - m), max(0, y0 - m), min(fw, x0 + w + m), min(fh, y0 + h + m)
        person = (self._person[py0:py1, px0:px1] > 0.5).astype(np.uint8)
        core = cv2.erode(person, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * m + 1, 2 * m + 1)),
                         borderType=cv2.BORDER_REPLICATE)
        return core[y0 - py0 : y0 - py0 + h, x0 - px0 : x0 - px0 + w].astype(bool)

    def __call__(self, x0: int, y0: int, w: int, h: int) -> np.ndarray | None:
        """Hair cover of the frame region at (x0, y0), w by h pixels; None when no hair model."""
        if self.hair is None:
            return None
        rgb = self._rgb[y0 : y0 + h, x0 : x0 + w]
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        mean, sd = self.hair
        z = np.abs(lab - mean) / sd
        near_hair = np.sqrt(np.sum(np.square(z), axis=-1)) < HAIR_Z * np.sqrt(3.0)
        hair = (self._inside(x0, y0, w, h) & near_hair & self._not_skin(lab)).astype(np.uint8)
        # Hair comes in strands and locks, not single pixels: drop specks, then soften the edges.
        hair = cv2.morphologyEx(hair, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        out = np.zeros((h, w), np.float32)
        rh, rw = hair.shape
        out[:rh, :rw] = cv2.GaussianBlur(hair.astype(np.float32), (3, 3), 0)
        return out


def cover_at(cover: Cover | None, xy: np.ndarray, radius_px: float, shape: tuple[int, int]) -> float:
    """How much of a disc of `radius_px` around `xy` a cover hides, 0..1 (0 without a cover or outside the
    frame of `shape` (h, w)): whether a small piece there, a stud at the lobe, is seen."""
    if cover is None:
        return 0.0
    h, w = shape
    r = max(1, round(radius_px))
    cx, cy = round(float(xy[0])), round(float(xy[1]))
    x0, y0, x1, y1 = max(0, cx - r), max(0, cy - r), min(w, cx + r + 1), min(h, cy + r + 1)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    front = cover(x0, y0, x1 - x0, y1 - y0)
    if front is None:
        return 0.0
    yy, xx = np.mgrid[y0:y1, x0:x1]
    disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    return float(front[disc].mean())

"""Hair in front of jewelry: which pixels of a region are the person's hair, so a chain or an earring passes
behind it, pixel by pixel.

Hair in front of an earring is hair in front of the ear: it covers the ear the earring hangs from. Where the
ear shows, the hair around and below it (pigtails, a bob's ends, long hair behind the shoulders) is behind the
earring, and hides none of it (`ear_covers`).

Long hair falls over the ears and over the shoulders in front of the collarbones, where a chain lies. A pixel
is hair when it lies well inside the person mask, its colour is not the cheeks' skin (tryon.anchors.ears.
skin_model) and is near the hair's own colour, sampled above the forehead where hair is almost always found. No
hair there (short or no hair, a hat): no hair model, nothing is hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from tryon.anchors.ears import skin_model
from tryon.types import AnchorPose, Cover, FaceLandmarks, Intrinsics

FOREHEAD_TOP = 10  # face mesh landmark at the hairline's middle
MIN_SAMPLES = 40
HAIR_SD_FLOOR = np.array([8.0, 4.0, 4.0], np.float32)  # Lab: hair's brightness varies most (sheen, shade)
HAIR_Z = 2.5  # within this many spreads of the hair's colour
SKIN_Z = 3.0  # at least this far from the skin's colour (as the ears' hair test)
# The person mask's edge is soft and bleeds into the background for a few percent of a face width: a dark
# wall there looks like dark hair beside a bare ear. Hair in front of an ear or a chain lies well inside it.
MASK_EDGE_FW = 0.03
# Hair in front of an ear: hair over EAR_IN_FRONT of a disc of radius EAR_PROBE_FW face widths, EAR_PROBE_UP_FW
# above the lobe (the ear's lower half). Chosen on the older sets' photos (faces/, body/) and the hoop clip: hair over an
# ear covers 0.17-0.98 of it there, a bare ear with hair behind it 0-0.06 (the hoop clip's bare ear: 0.18 in
# its worst tenth of frames, which then keep the pixel-by-pixel cover).
EAR_PROBE_UP_FW = 0.05
EAR_PROBE_FW = 0.04
EAR_IN_FRONT = 0.1
HUE_OFF_DEG = 12.0  # chosen on the fit part: 10 hid a visible lobe, 15 no more hair than without
HUE_MIN_CHROMA = 12.0


_LEVELS = np.arange(256, dtype=np.float32)  # the 8-bit Lab levels OpenCV gives: L*255/100, a*+128, b*+128
_A, _B = np.meshgrid(_LEVELS - 128.0, _LEVELS - 128.0, indexing="ij")  # (256, 256) over (a, b), from neutral


def _skin_tables(skin: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Which 8-bit Lab levels are not the face's skin: ((256,) bool over L, (256, 256) bool over (a, b)); a
    pixel is not skin when either says so. Far from the skin's brightness or its colour, or (blond and red
    hair can sit within the skin's spread of a* and b* and still be another hue, yellower or redder than any
    skin on that face) a clear colour more than HUE_OFF_DEG from the skin's hue, through the cosine of the
    angle between the (a*, b*) directions."""
    mean, sd = skin
    l_far = np.abs(_LEVELS - mean[0]) / sd[0] > SKIN_Z
    ab_far = np.hypot((_A + 128.0 - mean[1]) / sd[1], (_B + 128.0 - mean[2]) / sd[2]) > SKIN_Z
    a0, b0 = float(mean[1]) - 128.0, float(mean[2]) - 128.0
    chroma = np.hypot(_A, _B)
    other_hue = (_A * a0 + _B * b0) < np.float32(np.cos(np.radians(HUE_OFF_DEG)) * np.hypot(a0, b0)) * chroma
    return l_far, ab_far | (other_hue & (chroma > HUE_MIN_CHROMA))


def _hair_tables(hair: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The squared distance from the hair's colour, in its spreads, split into its L and (a, b) parts."""
    mean, sd = hair
    l2 = np.square((_LEVELS - mean[0]) / sd[0]).astype(np.float32)
    ab2 = (np.square((_A + 128.0 - mean[1]) / sd[1]) + np.square((_B + 128.0 - mean[2]) / sd[2])).astype(np.float32)
    return l2, ab2


@dataclass(frozen=True)
class HairColours:
    """The face's skin and the hair's colours as tables over the 8-bit Lab levels: which levels are not skin
    (`not_skin_l` over L, `not_skin_ab` over (a, b); a pixel is not skin when either says so) and each level's
    squared distance from the hair's colour in its spreads (`hair_l2` + `hair_ab2`; None when no hair was
    found); and how much of the person mask's edge is not to be trusted, in pixels. Measured on one frame,
    used on the next few (colours change slowly): `hair_colours(rgb, person, face)`."""

    edge_px: int
    not_skin_l: np.ndarray = field(repr=False)
    not_skin_ab: np.ndarray = field(repr=False)
    hair_l2: np.ndarray | None = field(default=None, repr=False)
    hair_ab2: np.ndarray | None = field(default=None, repr=False)

    def not_skin(self, lab: np.ndarray) -> np.ndarray:
        """(...) bool: 8-bit Lab pixels that are not the face's skin."""
        return self.not_skin_l[lab[..., 0]] | self.not_skin_ab[lab[..., 1], lab[..., 2]]

    def hair_in(self, lab: np.ndarray) -> np.ndarray:
        """(...) bool: 8-bit Lab pixels that are not skin and within HAIR_Z spreads of the hair's colour (all
        False when no hair was found)."""
        if self.hair_l2 is None or self.hair_ab2 is None:
            return np.zeros(lab.shape[:-1], bool)
        near = self.hair_l2[lab[..., 0]] + self.hair_ab2[lab[..., 1], lab[..., 2]] < np.float32(3.0 * HAIR_Z**2)
        return near & self.not_skin(lab)


def hair_colours(rgb: np.ndarray, person: np.ndarray, face: FaceLandmarks) -> HairColours:
    """The skin's colour from the cheeks; the hair's from the person's non-skin pixels in a band above the
    forehead (its median and the median's spread: a few bright pixels, the wall behind a soft mask edge or a
    highlight, must not stretch dark hair's model over a worn earring or the jaw's shade)."""
    none = HairColours(max(1, round(MASK_EDGE_FW * face.face_width_px)), *_skin_tables(skin_model(rgb, face)))
    h, w = person.shape
    top = face.points_px[FOREHEAD_TOP, :2]
    fw = face.face_width_px
    x0, x1 = int(max(0, top[0] - 0.3 * fw)), int(min(w, top[0] + 0.3 * fw))
    y0, y1 = int(max(0, top[1] - 0.35 * fw)), int(min(h, top[1] - 0.05 * fw))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return none
    step = max(1, (y1 - y0) // 40)  # at most about 40 rows and columns: the colour, not the detail
    lab = cv2.cvtColor(rgb[y0:y1:step, x0:x1:step], cv2.COLOR_RGB2LAB)
    hair = (person[y0:y1:step, x0:x1:step] > 0.5) & none.not_skin(lab)
    if int(hair.sum()) < max(MIN_SAMPLES // step**2, 4, 0.15 * hair.size):
        return none
    samples = lab[hair].astype(np.float32)
    mid = np.median(samples, axis=0)
    spread = 1.4826 * np.median(np.abs(samples - mid), axis=0)
    l2, ab2 = _hair_tables((mid, np.maximum(spread, HAIR_SD_FLOOR)))
    return replace(none, hair_l2=l2, hair_ab2=ab2)


class HairCover:
    """`HairCover(rgb, person, colours)(x0, y0, w, h)` -> (h, w) float32 0..1, how much hair covers each pixel
    of that region of the frame `rgb` (with its person mask, perhaps held from an earlier frame)."""

    def __init__(self, rgb: np.ndarray, person: np.ndarray, colours: HairColours) -> None:
        self._rgb, self._person, self.colours = rgb, person, colours

    def _inside(self, x0: int, y0: int, w: int, h: int) -> np.ndarray:
        """(h', w') uint8 0/1: the region's pixels well inside the person mask (its edge eroded away; the
        frame's border is not an edge)."""
        m = self.colours.edge_px
        fh, fw = self._person.shape
        px0, py0, px1, py1 = max(0, x0 - m), max(0, y0 - m), min(fw, x0 + w + m), min(fh, y0 + h + m)
        person = (self._person[py0:py1, px0:px1] > 0.5).astype(np.uint8)
        core = cv2.erode(person, np.ones((2 * m + 1, 2 * m + 1), np.uint8),  # a square: separable, fast
                         borderType=cv2.BORDER_REPLICATE)
        return core[y0 - py0 : y0 - py0 + h, x0 - px0 : x0 - px0 + w]

    def __call__(self, x0: int, y0: int, w: int, h: int) -> np.ndarray | None:
        """Hair cover of the frame region at (x0, y0), w by h pixels; None when no hair model."""
        if self.colours.hair_l2 is None:
            return None
        lab = cv2.cvtColor(np.ascontiguousarray(self._rgb[y0 : y0 + h, x0 : x0 + w]), cv2.COLOR_RGB2LAB)
        hair = self._inside(x0, y0, w, h) & self.colours.hair_in(lab)
        # Hair comes in strands and locks, not single pixels: drop specks, then soften the edges.
        hair = cv2.morphologyEx(hair.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
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


def ear_covers(hair: Cover, ears: Sequence[AnchorPose], face_width_px: float, intrinsics: Intrinsics,
               shape: tuple[int, int]) -> dict[str, Cover]:
    """The hair cover for each ear site whose ear the hair lies over (EAR_IN_FRONT of a disc of radius
    EAR_PROBE_FW face widths, EAR_PROBE_UP_FW above the lobe along the head's up): that hair is in front of the ear and
    hides the earring's pixels it covers. An ear that shows gets no cover: the hair beside and below it is
    behind its earring. shape: (h, w)."""
    out: dict[str, Cover] = {}
    for a in ears:
        lobe = a.cam_T_anchor[:3, 3]
        up = intrinsics.project(np.stack([lobe, lobe + 0.005 * a.cam_T_anchor[:3, 1]]))  # the head's up, 5 mm
        step = up[1] - up[0]
        probe = a.xy_px + EAR_PROBE_UP_FW * face_width_px * step / max(float(np.linalg.norm(step)), 1e-9)
        if cover_at(hair, probe, EAR_PROBE_FW * face_width_px, shape) >= EAR_IN_FRONT:
            out[a.site] = hair
    return out

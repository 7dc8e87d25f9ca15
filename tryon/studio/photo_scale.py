"""The scale of a product photo from something of known size beside the piece: a bank card or a ruler.

Each is a part of the photo's matte apart from the piece (tryon.studio.photo_piece):

- a **bank card** (ISO/IEC 7810 ID-1, 85.60 x 53.98 mm): a part that fills the rectangle it spans (at least
  CARD_FILL of it) with the card's ratio (within CARD_RATIO_TOLERANCE): its long side is 85.60 mm;
- a **millimetre ruler**: a long strip (at least RULER_ASPECT times as long as wide, filling its rectangle)
  whose tick marks repeat along it: the strip is turned level, the darkness along each long edge's band is a
  profile, and the strongest period of the better band (its power at least RULER_PEAK times the spectrum's
  median, between RULER_PERIOD_PX pixels) is one millimetre. A ruler under RULER_MM[0] or over RULER_MM[1]
  long at that scale is not one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["CARD_MM", "Scale", "find_scale"]

CARD_MM = (85.60, 53.98)  # ISO/IEC 7810 ID-1
CARD_RATIO_TOLERANCE = 0.04
CARD_FILL = 0.93
RULER_ASPECT = 4.0
RULER_FILL = 0.85
RULER_PERIOD_PX = (3.0, 80.0)
RULER_PEAK = 8.0
RULER_MM = (30.0, 600.0)
RULER_BAND = 0.4  # of the ruler's width: where its ticks are looked for along each long edge


@dataclass(frozen=True)
class Scale:
    """Pixels per millimetre, what gave it ("bank card" or "ruler"), and which of the parts it is."""

    px_per_mm: float
    what: str
    part: int


def _card(part: np.ndarray) -> float | None:
    points = cv2.findNonZero(part.astype(np.uint8))
    (_, _), (w, h), _ = cv2.minAreaRect(points)
    long, short = max(w, h), min(w, h)
    if short < 20 or abs(long / short / (CARD_MM[0] / CARD_MM[1]) - 1.0) > CARD_RATIO_TOLERANCE:
        return None
    return float(long / CARD_MM[0]) if part.sum() >= CARD_FILL * w * h else None


def _ruler(grey: np.ndarray, part: np.ndarray) -> float | None:
    points = cv2.findNonZero(part.astype(np.uint8))
    (cx, cy), (w, h), angle = cv2.minAreaRect(points)
    long, short = max(w, h), min(w, h)
    if short < 8 or long < RULER_ASPECT * short or part.sum() < RULER_FILL * w * h:
        return None
    if w < h:  # turn the long side level
        angle += 90.0
    turn = np.asarray(cv2.getRotationMatrix2D((cx, cy), angle, 1.0), np.float64)
    turn[:, 2] += np.array([long / 2.0 - cx, short / 2.0 - cy])
    strip = cv2.warpAffine(grey, turn, (int(long), int(short)), flags=cv2.INTER_LINEAR)
    strip = strip[:, int(0.02 * long): int(0.98 * long)].astype(np.float64)  # its ends are not ticks
    band = max(2, int(RULER_BAND * short))
    best: tuple[float, float] | None = None
    for rows in (strip[:band], strip[-band:]):
        profile = rows.mean(axis=0)
        trend = cv2.blur(profile[None], (int(RULER_PERIOD_PX[1]) | 1, 1))[0]
        power = np.abs(np.fft.rfft((profile - trend) * np.hanning(len(profile)))) ** 2
        freqs = np.fft.rfftfreq(len(profile))
        ok = (freqs >= 1.0 / RULER_PERIOD_PX[1]) & (freqs <= 1.0 / RULER_PERIOD_PX[0])
        if not ok.any():
            continue
        k = int(np.flatnonzero(ok)[np.argmax(power[ok])])
        strength = float(power[k] / max(np.median(power[ok]), 1e-12))
        if strength >= RULER_PEAK and (best is None or strength > best[1]):
            best = (1.0 / float(freqs[k]), strength)
    if best is None or not RULER_MM[0] <= long / best[0] <= RULER_MM[1]:
        return None
    return best[0]


def find_scale(rgb: np.ndarray, parts: list[np.ndarray]) -> Scale | None:
    """The first bank card, else the first ruler, among the parts (boolean masks of ``rgb``'s size)."""
    for i, part in enumerate(parts):
        px = _card(part)
        if px is not None:
            return Scale(px, "bank card", i)
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    for i, part in enumerate(parts):
        px = _ruler(grey, part)
        if px is not None:
            return Scale(px, "ruler", i)
    return None

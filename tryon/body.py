"""The nominal body that anchors and the renderer share: the neck's base, where chains lie; and the ring size
scale that a finger's measure and a ring's size are both said in.

Below every stage (tracking, anchors, render): it holds only numbers and the shapes they make.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NeckBody:
    """The body round the neck's base in the torso frame, metres (a nominal adult at scale 1).

    The neck's cross-section where a chain lies on it is an ellipse `half_width` by `half_depth`, centred
    `half_depth` behind the notch; the chain leaves it `side_angle_deg` in front of its sides and lies on
    the chest, which slopes forward `chest_slope_deg` below the notch and curves back toward the neck.
    The chain's back rises `back_rise` over the trapezius to the base of the neck behind (C7).
    """

    half_width: float = 0.058
    half_depth: float = 0.050
    side_angle_deg: float = 25.0
    side_height: float = -0.012  # the chain's height where it leaves the neck (above the notch: negative)
    back_rise: float = 0.025
    chest_slope_deg: float = 22.0

    def scaled(self, s: float) -> NeckBody:
        return NeckBody(self.half_width * s, self.half_depth * s, self.side_angle_deg, self.side_height * s,
                        self.back_rise * s, self.chest_slope_deg)

    @property
    def side_point(self) -> np.ndarray:
        """(3,) where the chain leaves the neck on the +x side."""
        t = math.radians(self.side_angle_deg)
        return np.array([self.half_width * math.cos(t), self.side_height,
                         self.half_depth - self.half_depth * math.sin(t)])

    def chest_z(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Depth of the skin under a chain hanging in front, at (x, y): the front of the neck's ellipse at
        its base, or the chest, whichever is nearer the camera. The chest slopes forward below the notch
        and curves back toward the neck's sides through the side points."""
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        sx, _, sz = self.side_point
        chest = -math.tan(math.radians(self.chest_slope_deg)) * np.maximum(y, 0.0) + sz / (sx * sx) * np.square(x)
        across = np.clip(x / self.half_width, -1.0, 1.0)
        neck = self.half_depth * (1.0 - np.sqrt(1.0 - np.square(across)))
        return np.minimum(chest, np.where(np.abs(x) < self.half_width, neck, np.inf))

    def chest_normal(self, x: np.ndarray, y: np.ndarray, eps: float = 1e-4) -> np.ndarray:
        """(n, 3) unit outward (toward the camera) normals of the skin surface z = chest_z(x, y)."""
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        dzdx = (self.chest_z(x + eps, y) - self.chest_z(x - eps, y)) / (2.0 * eps)
        dzdy = (self.chest_z(x, y + eps) - self.chest_z(x, y - eps)) / (2.0 * eps)
        n = np.stack([dzdx, dzdy, -np.ones_like(dzdx)], axis=-1)
        return n / np.linalg.norm(n, axis=-1, keepdims=True)


BODY = NeckBody()


# US/Canada ring sizes: size 0 is 11.63 mm across inside, and each size 0.8128 mm more. ISO 8653 (EU) sizes are
# the inner circumference in mm.
US_SIZE_0_MM = 11.63
US_SIZE_STEP_MM = 0.8128


def us_ring_size(inner_diameter_mm: float) -> float:
    """The US size (any real number) of a ring or finger this many mm across inside."""
    return (inner_diameter_mm - US_SIZE_0_MM) / US_SIZE_STEP_MM


def us_inner_diameter_mm(us: float) -> float:
    """The inner diameter in mm of US size `us`."""
    return US_SIZE_0_MM + US_SIZE_STEP_MM * us


# The US sizes shops carry for adults, in half sizes (the live page's web/format.js holds the same range). A
# measure outside them is said to be outside: a little finger measured at 11.8 mm is not a "US 0.25".
US_SIZES_SOLD = (3.0, 13.0)


def ring_size_text(us: float, eu: float) -> str:
    """A measured ring size (US size, any real number; EU size) as a size sold: "US 6.5, EU 53", or
    "below US 3 / EU 44" and "above US 13 / EU 70" outside US_SIZES_SOLD."""
    if not math.isfinite(us):
        return "US -, EU -"
    low, high = US_SIZES_SOLD
    half = math.floor(us * 2 + 0.5) / 2  # half up, as the page's Math.round
    if half < low:
        return f"below US {low:g} / EU {math.pi * us_inner_diameter_mm(low):.0f}"
    if half > high:
        return f"above US {high:g} / EU {math.pi * us_inner_diameter_mm(high):.0f}"
    return f"US {half:g}, EU {math.floor(eu + 0.5)}"

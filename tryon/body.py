"""The nominal body that anchors and the renderer share: the neck's base, where chains lie.

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

"""One Euro smoothing (Casiez et al. 2012) of vectors, head poses and rigid transforms.

Filtering works on poses (rotation, translation, scale), not on raw landmark pixels: the anchors are rigid
points on the head or hand, so a smooth pose gives smooth anchors at every site at once. A filter's first
input after `reset()` (or creation) comes out as it went in: a photo is a fresh filter and one frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from tryon.types import HeadPose


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


@dataclass(frozen=True)
class OneEuroParams:
    """min_cutoff_hz: smoothing when still; beta: how fast the cutoff opens with speed (per unit/s)."""

    min_cutoff_hz: float
    beta: float
    d_cutoff_hz: float = 1.0


class OneEuroFilter:
    """One Euro filter (Casiez et al. 2012) on a vector; speed is the vector's norm.

    Reference: https://gery.casiez.net/1euro/ . Times in milliseconds.
    """

    def __init__(self, params: OneEuroParams) -> None:
        self.params = params
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t_ms: float | None = None

    def reset(self) -> None:
        self._x = self._dx = self._t_ms = None

    @property
    def value(self) -> np.ndarray | None:
        """The last output (None before the first input)."""
        return self._x

    def __call__(self, x: np.ndarray, t_ms: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t_ms is None or self._dx is None or t_ms <= self._t_ms:
            if self._x is not None and self._t_ms is not None and t_ms == self._t_ms:
                return self._x  # the same instant twice: keep the answer
            self._x, self._dx, self._t_ms = x.copy(), np.zeros_like(x), t_ms
            return x
        dt = (t_ms - self._t_ms) / 1000.0
        p = self.params
        dx = (x - self._x) / dt
        a_d = _alpha(p.d_cutoff_hz, dt)
        self._dx = a_d * dx + (1.0 - a_d) * self._dx
        cutoff = p.min_cutoff_hz + p.beta * float(np.linalg.norm(self._dx))
        a = _alpha(cutoff, dt)
        self._x = a * x + (1.0 - a) * self._x
        self._t_ms = t_ms
        return self._x


@dataclass(frozen=True)
class PoseFilterParams:
    """Units: rotation in radians, translation in metres, scale unitless."""

    rotation: OneEuroParams = OneEuroParams(min_cutoff_hz=1.0, beta=5.0)
    translation: OneEuroParams = OneEuroParams(min_cutoff_hz=1.0, beta=100.0)
    scale: OneEuroParams = OneEuroParams(min_cutoff_hz=0.05, beta=0.0)


class HeadPoseFilter:
    """One Euro on a head pose: rotation as a rotation vector relative to the last output, translation, scale."""

    def __init__(self, params: PoseFilterParams | None = None) -> None:
        self.params = params or PoseFilterParams()
        self._rot = OneEuroFilter(self.params.rotation)
        self._trans = OneEuroFilter(self.params.translation)
        self._scale = OneEuroFilter(self.params.scale)
        self._r_ref: np.ndarray | None = None

    def reset(self) -> None:
        for f in (self._rot, self._trans, self._scale):
            f.reset()
        self._r_ref = None

    def __call__(self, pose: HeadPose) -> HeadPose:
        t_ms = float(pose.timestamp_ms)
        r = pose.cam_T_head[:3, :3]
        if self._r_ref is None:
            self._r_ref = r.copy()
        # Rotations are filtered as small rotation vectors about a reference that follows the output,
        # so the filter never sees the wrap-around of angles.
        rvec, _ = cv2.Rodrigues(self._r_ref.T @ r)
        rvec_f = self._rot(rvec.ravel(), t_ms)
        r_out = self._r_ref @ cv2.Rodrigues(rvec_f.reshape(3, 1))[0]
        s_out = float(self._scale(np.array([pose.scale]), t_ms)[0])
        # Scaling a head about the camera centre leaves its image unchanged (p = R s p_head + t), so a
        # smoothed scale moves the translation by the same ratio before that is smoothed in turn.
        t_out = self._trans(pose.cam_T_head[:3, 3] * (s_out / pose.scale), t_ms)
        m = np.eye(4)
        m[:3, :3], m[:3, 3] = r_out, t_out
        return HeadPose(m, s_out, pose.timestamp_ms)


class RigidFilter:
    """One Euro on a (4, 4) rigid transform: rotation as a rotation vector about a reference that follows
    the output (no angle wrap-around), translation as a vector."""

    def __init__(self, rotation: OneEuroParams, translation: OneEuroParams) -> None:
        self._rot = OneEuroFilter(rotation)
        self._trans = OneEuroFilter(translation)
        self._r_ref: np.ndarray | None = None

    def __call__(self, m: np.ndarray, t_ms: float) -> np.ndarray:
        r = m[:3, :3]
        if self._r_ref is None:
            self._r_ref = r.copy()
        rvec, _ = cv2.Rodrigues(self._r_ref.T @ r)
        r_out = self._r_ref @ cv2.Rodrigues(self._rot(rvec.ravel(), t_ms).reshape(3, 1))[0]
        out = np.eye(4)
        out[:3, :3], out[:3, 3] = r_out, self._trans(m[:3, 3], t_ms)
        return out

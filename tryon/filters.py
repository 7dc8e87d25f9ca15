"""Temporal filters on poses: One Euro smoothing and hold-and-fade on tracking loss.

Filtering works on the head pose (rotation, translation, scale), not on raw landmark pixels: the
anchors are rigid points on the head, so a smooth head pose gives smooth anchors at every site at once.
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


@dataclass(frozen=True)
class HoldFadeParams:
    hold_ms: float = 250.0  # keep the last pose this long after tracking drops
    fade_ms: float = 250.0  # then fade it out over this long
    fade_in_ms: float = 120.0  # fade in when tracking (re)starts, so nothing pops


class HoldAndFade:
    """Decides what to show while tracking comes and goes.

    `update(pose_or_none, t_ms)` returns (pose to draw or None, opacity 0..1, reset) where reset is True
    when the caller should reset its smoothing (tracking came back after a long gap: snap, don't glide).
    """

    def __init__(self, params: HoldFadeParams | None = None) -> None:
        self.params = params or HoldFadeParams()
        self._last: HeadPose | None = None
        self._last_seen_ms: float | None = None
        self._acquired_ms: float | None = None

    def update(self, pose: HeadPose | None, t_ms: float) -> tuple[HeadPose | None, float, bool]:
        p = self.params
        if pose is not None:
            gap = math.inf if self._last_seen_ms is None else t_ms - self._last_seen_ms
            reset = gap > p.hold_ms + p.fade_ms
            if reset or self._acquired_ms is None:
                self._acquired_ms = t_ms
            self._last, self._last_seen_ms = pose, t_ms
            fade_in = min(1.0, (t_ms - self._acquired_ms) / p.fade_in_ms) if p.fade_in_ms > 0 else 1.0
            return pose, max(fade_in, 0.0), reset
        if self._last is None or self._last_seen_ms is None:
            return None, 0.0, False
        since = t_ms - self._last_seen_ms
        if since <= p.hold_ms:
            return self._last, 1.0, False
        if since <= p.hold_ms + p.fade_ms:
            return self._last, 1.0 - (since - p.hold_ms) / p.fade_ms, False
        self._last = self._last_seen_ms = self._acquired_ms = None
        return None, 0.0, False


class Hysteresis:
    """A 0..1 visibility from a signal with separate hide and show thresholds, eased over time.

    Used for the far ear: it hides once the head turns past `hide_at` and shows again only when the head
    comes back below `show_at`, so it never flickers at the boundary.
    """

    def __init__(self, hide_at: float, show_at: float, ease_ms: float = 100.0) -> None:
        if show_at >= hide_at:
            raise ValueError("show_at must be below hide_at")
        self.hide_at, self.show_at, self.ease_ms = hide_at, show_at, ease_ms
        self._shown: bool | None = None
        self._level = 1.0
        self._t_ms: float | None = None

    def __call__(self, value: float, t_ms: float | None) -> float:
        if t_ms is None:  # a single photo: no history, decide at the midpoint
            return 1.0 if value < 0.5 * (self.hide_at + self.show_at) else 0.0
        if self._shown is None:
            self._shown = value < 0.5 * (self.hide_at + self.show_at)
            self._level = 1.0 if self._shown else 0.0
        elif self._shown and value > self.hide_at:
            self._shown = False
        elif not self._shown and value < self.show_at:
            self._shown = True
        target = 1.0 if self._shown else 0.0
        dt = 0.0 if self._t_ms is None else max(0.0, t_ms - self._t_ms)
        step = 1.0 if self.ease_ms <= 0 else dt / self.ease_ms
        self._level += float(np.clip(target - self._level, -step, step))
        self._t_ms = t_ms
        return self._level

"""Hold-and-fade on tracking loss, and hysteresis for a visibility that must not flicker.

Both take times in milliseconds. After `reset()` (or creation) a hysteresis decides its first input at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class HoldFadeParams:
    hold_ms: float = 250.0  # keep the last pose this long after tracking drops
    fade_ms: float = 250.0  # then fade it out over this long
    fade_in_ms: float = 120.0  # fade in when tracking (re)starts, so nothing pops


class HoldAndFade(Generic[T]):
    """Decides what to show while tracking comes and goes, for any tracked value (a head pose, a torso frame,
    a hand pose).

    `update(value_or_none, t_ms)` returns (value to draw or None, opacity 0..1, reset) where reset is True
    when the caller should reset its smoothing (tracking came back after a long gap: snap, don't glide).
    A value found fades in over `fade_in_ms`; with `at_once`, one found on the stream's first update after
    `reset()` (or creation) is shown fully at once (a photo is a fresh stream and one frame: nothing was on screen
    to pop from).
    """

    def __init__(self, params: HoldFadeParams | None = None, at_once: bool = False) -> None:
        self.params = params or HoldFadeParams()
        self.at_once = at_once
        self.reset()

    def reset(self) -> None:
        self._last: T | None = None
        self._last_seen_ms: float | None = None
        self._acquired_ms: float | None = None
        self._fresh = True

    @property
    def fresh(self) -> bool:
        """No update since the last reset: the next is the stream's first frame."""
        return self._fresh

    def update(self, value: T | None, t_ms: float) -> tuple[T | None, float, bool]:
        p = self.params
        first, self._fresh = self._fresh, False
        if value is not None:
            gap = math.inf if self._last_seen_ms is None else t_ms - self._last_seen_ms
            reset = gap > p.hold_ms + p.fade_ms
            if reset or self._acquired_ms is None:
                self._acquired_ms = t_ms
            self._last, self._last_seen_ms = value, t_ms
            if first and self.at_once:
                return value, 1.0, reset
            fade_in = min(1.0, (t_ms - self._acquired_ms) / p.fade_in_ms) if p.fade_in_ms > 0 else 1.0
            return value, max(fade_in, 0.0), reset
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
        self.reset()

    def reset(self) -> None:
        self._shown: bool | None = None
        self._level = 1.0
        self._t_ms: float | None = None

    def __call__(self, value: float, t_ms: float) -> float:
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

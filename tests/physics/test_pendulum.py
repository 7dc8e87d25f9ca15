"""The pendant's pendulum: swings against the motion, settles, behaves the same at 15 and 60 fps."""

from __future__ import annotations

import math

import numpy as np

from tryon.physics import Pendulum, swing_matrix

UPRIGHT = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])  # rest frame: +y up, +z to the camera


def _run(fps: float, seconds: float, motion, pendulum: Pendulum | None = None) -> tuple[np.ndarray, np.ndarray]:
    p = pendulum or Pendulum()
    t = np.arange(0.0, seconds, 1.0 / fps)
    angles = np.array([p.swing(motion(ti), UPRIGHT, ti * 1000.0) for ti in t])
    return t, angles


def _sway(t: float) -> np.ndarray:
    return np.array([0.03 * math.sin(2 * math.pi * 1.2 * t), 0.0, 0.7])


def test_still_body_still_pendant() -> None:
    _, a = _run(30, 2.0, lambda t: np.array([0.0, 0.1, 0.7]))
    assert np.abs(a).max() == 0.0


def test_a_sideways_jerk_swings_it_the_other_way_then_it_settles() -> None:
    def jerk(t: float) -> np.ndarray:  # moves 2 cm to +x in 0.1 s, then stops
        return np.array([0.02 * min(1.0, max(0.0, (t - 0.2) / 0.1)), 0.0, 0.7])

    t, a = _run(60, 3.0, jerk)
    during = a[(t > 0.2) & (t < 0.32), 0]
    assert during.min() < -0.02  # lags behind: the bob swings toward -x while the pivot speeds to +x
    assert np.abs(a[t > 2.5, 0]).max() < 0.2 * np.abs(a[:, 0]).max()  # damped


def test_the_same_motion_swings_alike_at_15_and_60_fps() -> None:
    t60, a60 = _run(60, 4.0, _sway)
    t15, a15 = _run(15, 4.0, _sway)
    ref = np.interp(t15, t60, a60[:, 0])
    steady = t15 > 1.0
    amplitude = np.abs(a60[t60 > 1.0, 0]).max()
    assert amplitude > 0.02
    assert np.sqrt(np.mean((a15[steady, 0] - ref[steady]) ** 2)) < 0.35 * amplitude


def test_it_never_swings_into_the_chest_and_stays_bounded() -> None:
    def push(t: float) -> np.ndarray:  # the body lurches toward the camera and back
        return np.array([0.0, 0.0, 0.7 - 0.05 * math.sin(2 * math.pi * 2.0 * t)])

    _, a = _run(30, 3.0, push)
    assert (a[:, 1] >= 0.0).all()
    assert a[:, 1].max() > 0.0
    assert np.abs(a).max() <= Pendulum().max_angle


def test_a_long_gap_starts_again_at_rest() -> None:
    p = Pendulum()
    _run(60, 1.0, _sway, p)
    assert p.swing(np.array([0.5, 0.0, 0.7]), UPRIGHT, 5000.0) == (0.0, 0.0)


def test_swing_matrix_moves_the_bob_the_named_way() -> None:
    bob = np.array([0.0, -1.0, 0.0])
    assert (swing_matrix(0.2, 0.0)[:3, :3] @ bob)[0] > 0.15
    assert (swing_matrix(0.0, 0.2)[:3, :3] @ bob)[2] > 0.15
    assert np.allclose(swing_matrix(0.0, 0.0), np.eye(4))

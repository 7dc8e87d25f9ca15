"""Dangling parts: a damped pendulum driven by the filtered motion of its pivot.

A pendant on a chain (or a drop earring on its hook) swings when the body moves and settles again. The
model is a spherical pendulum at small angles: two swing angles in the pivot's rest frame, about its z
(sideways, in the rest frame's x-y plane) and about its x (out of the plane, toward +z). The pivot's
acceleration drives it; gravity and damping bring it back to rest.

It integrates with fixed sub-steps (SUBSTEP_S) whatever the frame rate, and treats the pivot's
acceleration as constant between two frames (the change of its measured velocity over the last frame
interval), so a clip at 15 fps and the same motion at 60 fps swing the same way.
"""

from __future__ import annotations

import math

import numpy as np

GRAVITY_M_S2 = 9.81
SUBSTEP_S = 1.0 / 240.0
MAX_GAP_S = 0.25  # longer between frames (a stall, tracking lost): start again at rest


class Pendulum:
    """swing(pivot_cam, cam_R_rest, t_ms) -> (about_z, about_x) radians.

    length_m: pivot to the centre of mass (the effective length of the swinging part). damping: the
    damping ratio (0.2: a swing dies within about two periods, like a pendant on skin and chain).
    max_angle: the swing's limit either way; out_only: the pendulum cannot swing toward -z (a pendant
    lies against the chest behind it), only away from it.
    """

    def __init__(self, length_m: float = 0.03, damping: float = 0.2, max_angle: float = 0.6,
                 out_only: bool = True, drive_cutoff_hz: float | None = None, friction_m_s2: float = 0.0) -> None:
        self.omega = math.sqrt(GRAVITY_M_S2 / length_m)
        self.length_m = length_m
        self.damping = damping
        self.max_angle = max_angle
        self.out_only = out_only
        # Tracking noise differentiated twice is a large, fast acceleration: drive_cutoff_hz low-passes the
        # pivot's velocity and acceleration (frame-rate independent), friction_m_s2 ignores accelerations
        # below it (a hook's static friction: a head's tremor does not set a drop jiggling).
        self.drive_cutoff_hz = drive_cutoff_hz
        self.friction_m_s2 = friction_m_s2
        self.reset()

    def reset(self) -> None:
        self._angle = np.zeros(2)  # (about z: +x side, about x: toward +z), radians
        self._rate = np.zeros(2)
        self._pivot: np.ndarray | None = None
        self._velocity: np.ndarray | None = None
        self._accel: np.ndarray | None = None
        self._t_s: float | None = None

    def swing(self, pivot_cam: np.ndarray, cam_R_rest: np.ndarray, t_ms: float) -> tuple[float, float]:
        """Advance to time t_ms with the pivot now at pivot_cam (camera metres) and the rest frame's axes
        cam_R_rest (3, 3); returns the swing angles now."""
        t_s = t_ms / 1000.0
        pivot = np.asarray(pivot_cam, np.float64)
        if self._t_s is None or self._pivot is None or not 0.0 < t_s - self._t_s <= MAX_GAP_S:
            if self._t_s is not None and t_s == self._t_s:
                return float(self._angle[0]), float(self._angle[1])
            self.reset()
            self._pivot, self._t_s = pivot, t_s
            return 0.0, 0.0
        dt = t_s - self._t_s
        velocity = (pivot - self._pivot) / dt
        keep = 0.0 if self.drive_cutoff_hz is None else math.exp(-2.0 * math.pi * self.drive_cutoff_hz * dt)
        if self._velocity is not None:
            velocity = keep * self._velocity + (1.0 - keep) * velocity
        accel = np.zeros(3) if self._velocity is None else (velocity - self._velocity) / dt
        if self._accel is not None:
            accel = keep * self._accel + (1.0 - keep) * accel
        self._pivot, self._velocity, self._accel, self._t_s = pivot, velocity, accel, t_s
        size = float(np.linalg.norm(accel))
        if self.friction_m_s2 > 0.0:
            accel = accel * (max(0.0, size - self.friction_m_s2) / size if size > 0.0 else 0.0)
        # The pivot's acceleration and gravity in the rest frame: x sideways, y up the pendant, z out.
        a = cam_R_rest.T @ accel
        g = cam_R_rest.T @ np.array([0.0, GRAVITY_M_S2, 0.0])  # camera y is down
        # Small angles: the bob is pushed opposite the pivot's acceleration, and gravity's sideways and
        # outward parts move where it rests (a torso rolled to one side: the pendant still hangs down).
        drive = np.array([g[0] - a[0], g[2] - a[2]]) / self.length_m
        pull = max(1e-6, -g[1]) / self.length_m  # gravity along the pendant (it hangs along -y)
        w2 = pull
        c = 2.0 * self.damping * math.sqrt(w2)
        steps = max(1, round(dt / SUBSTEP_S))
        h = dt / steps
        for _ in range(steps):  # semi-implicit Euler
            self._rate += h * (drive - w2 * self._angle - c * self._rate)
            self._angle += h * self._rate
            np.clip(self._angle, -self.max_angle, self.max_angle, out=self._angle)
            if self.out_only and self._angle[1] < 0.0:
                self._angle[1] = 0.0
                self._rate[1] = max(0.0, self._rate[1])
        return float(self._angle[0]), float(self._angle[1])


def swing_matrix(about_z: float, about_x: float) -> np.ndarray:
    """(4, 4) rotation of a pendant about its pivot (the rest frame's origin) by the swing angles: the part
    below the pivot (-y) moves toward +x for about_z > 0 and toward +z for about_x > 0."""
    cz, sz = math.cos(about_z), math.sin(about_z)
    cx, sx = math.cos(about_x), math.sin(about_x)
    rz = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])  # -y -> (+sin, -cos): toward +x
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cx, sx], [0.0, -sx, cx]])  # -y -> (0, -cos, +sin): toward +z
    m = np.eye(4)
    m[:3, :3] = rz @ rx
    return m


# "Down" in an upright camera's frame (OpenCV: y down).
GRAVITY_CAM = np.array([0.0, 1.0, 0.0])


def hang_rotation(cam_T_anchor: np.ndarray) -> np.ndarray:
    """(4, 4) rotation about the pivot (anchor origin) that turns the anchor's -y onto gravity."""
    down_anchor = cam_T_anchor[:3, :3].T @ GRAVITY_CAM
    return rotation_between(np.array([0.0, -1.0, 0.0]), down_anchor)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(4, 4) the shortest rotation taking direction `a` (3,) onto direction `b` (3,)."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(a @ b)
    m = np.eye(4)
    if c < -0.999999:  # opposite: half a turn about any perpendicular axis (z, or x when a is along z)
        axis = np.array([0.0, 0.0, 1.0]) if abs(a[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        axis = axis - (axis @ a) * a
        axis /= np.linalg.norm(axis)
        m[:3, :3] = 2.0 * np.outer(axis, axis) - np.eye(3)
        return m
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    m[:3, :3] = np.eye(3) + vx + vx @ vx / (1.0 + c)
    return m

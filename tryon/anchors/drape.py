"""How a necklace lies on the body: the chain's 3D curve round the neck, by its length, under gravity.

Everything here is in the torso frame of tryon.anchors.neck (metres; x across to the person's left, y down,
z into the body, origin at the sternal notch), for a body of a given scale.

The chain is a closed curve of the necklace's length:
  - behind, it wraps the base of the neck (the ellipse of NeckBody), rising over the trapezius to the
    base of the neck behind, from one side point (where it leaves the neck, a little in front of the
    neck's side) round the back to the other;
  - in front, the rest of its length hangs between the two side points as a catenary under gravity (down
    the torso), in the frontal plane, then lies on the skin (NeckBody.chest_z). A pendant's weight at the
    lowest point pulls the two halves into a V: each half is a catenary whose slope at the bottom carries
    half the pendant's weight. The frontal length is solved so that the curve's 3D length on the skin is
    the necklace's length; a chain too short to hang sits tight round the front of the neck (a choker).
The result depends only on the length, the pendant's weight and the body's scale, so it is cached.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from tryon.body import BODY, NeckBody

SAMPLES_FRONT = 161  # points on the hanging front (odd: one at the bottom)
SAMPLES_BACK = 64


@dataclass(frozen=True, eq=False)
class ChainCurve:
    """A closed chain in the torso frame. points, normals : (n, 3); normals point away from the body.
    s : (n,) arc length from the lowest front point (index 0) toward +x, round the back and back again;
    length : the whole loop's length (s[-1] + the closing segment). bottom : (3,) the lowest front point,
    where a pendant hangs; bottom_normal : its outward normal."""

    points: np.ndarray
    normals: np.ndarray
    s: np.ndarray
    length: float
    bottom: np.ndarray
    bottom_normal: np.ndarray

    def frames(self, pitch: float, thickness: float, behind_z: float | None = None) -> np.ndarray:
        """(k, 4, 4) frames of the chain's repeat units, one every `pitch` metres from the bottom: origin on
        the centre line (the skin plus half the chain's thickness), +y along the chain, +z away from the
        body, +x = y x z. behind_z: leave out units whose origin lies deeper than this (hidden behind the
        neck anyway)."""
        count = max(1, int(self.length / pitch))
        at = np.arange(count) * (self.length / count)  # a whole number of units round the loop
        loop = np.vstack([self.points, self.points[:1]])
        loop_n = np.vstack([self.normals, self.normals[:1]])
        loop_s = np.append(self.s, self.length)
        p = np.stack([np.interp(at, loop_s, loop[:, i]) for i in range(3)], axis=1)
        n = np.stack([np.interp(at, loop_s, loop_n[:, i]) for i in range(3)], axis=1)
        ahead = np.stack([np.interp((at + 0.5 * pitch) % self.length, loop_s, loop[:, i]) for i in range(3)], axis=1)
        behind = np.stack([np.interp((at - 0.5 * pitch) % self.length, loop_s, loop[:, i]) for i in range(3)], axis=1)
        y = ahead - behind
        y /= np.linalg.norm(y, axis=1, keepdims=True)
        z = n - np.sum(n * y, axis=1, keepdims=True) * y
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        x = np.cross(y, z)
        out = np.zeros((count, 4, 4))
        out[:, :3, 0], out[:, :3, 1], out[:, :3, 2] = x, y, z
        out[:, :3, 3] = p + 0.5 * thickness * z
        out[:, 3, 3] = 1.0
        if behind_z is not None:
            out = out[out[:, 2, 3] <= behind_z]
        return out


def catenary_half(half_span: float, half_length: float, pendant_m: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """One half of a hanging chain, from its lowest point (x = 0) to its end (x = half_span), with the end
    at height 0: (x (n,), drop below the end (n,), >= 0). pendant_m: the pendant's weight as a length of
    this chain (metres of chain that weigh as much); half of it hangs on this half.

    Shape: height(x) = a (cosh((x + c) / a) - cosh(c / a)) above the bottom, with sinh(c / a) the slope at
    the bottom = (pendant weight / 2) / horizontal tension; a is found from the half's arc length.
    """
    x = np.linspace(0.0, half_span, n)
    if half_length <= half_span * (1.0 + 1e-9):
        return x, np.zeros(n)  # pulled straight

    def arc(a: float) -> float:
        c = a * math.asinh(0.5 * pendant_m / a)
        return a * (math.sinh((half_span + c) / a) - math.sinh(c / a))

    lo, hi = math.log(1e-5), math.log(1e3)  # arc length falls as a (the tension) grows
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if arc(math.exp(mid)) > half_length:
            lo = mid
        else:
            hi = mid
    a = math.exp(0.5 * (lo + hi))
    c = a * math.asinh(0.5 * pendant_m / a)
    height = a * (np.cosh((x + c) / a) - math.cosh(c / a))
    return x, height[-1] - height


def _front(body: NeckBody, frontal_half_length: float, pendant_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(points, normals) of the hanging front, from the -x side point to the +x one, on the skin."""
    side = body.side_point
    half = SAMPLES_FRONT // 2 + 1
    x, drop = catenary_half(float(side[0]), frontal_half_length, pendant_m, half)
    x = np.concatenate([-x[:0:-1], x])
    y = side[1] + np.concatenate([drop[:0:-1], drop])
    z = body.chest_z(x, y)
    return np.stack([x, y, z], axis=1), body.chest_normal(x, y)


def _back(body: NeckBody) -> tuple[np.ndarray, np.ndarray]:
    """(points, normals) round the back of the neck, from the +x side point to the -x one (ends excluded)."""
    t0 = math.radians(body.side_angle_deg)
    t = np.linspace(-t0, math.pi + t0, SAMPLES_BACK + 2)[1:-1]  # angle from +x toward the back (+z)
    x = body.half_width * np.cos(t)
    z = body.half_depth + body.half_depth * np.sin(t)
    y = body.side_height - body.back_rise * np.clip(np.sin(t), 0.0, None)
    radial = np.stack([np.cos(t) / body.half_width, np.zeros_like(t), np.sin(t) / body.half_depth], axis=1)
    return np.stack([x, y, z], axis=1), radial / np.linalg.norm(radial, axis=1, keepdims=True)


def _length(points: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


@functools.lru_cache(maxsize=64)
def drape(length_m: float, pendant_m: float = 0.0, scale: float = 1.0) -> ChainCurve:
    """The chain of this length round the neck of a body of this scale (NeckBody times scale), with a
    pendant weighing as much as `pendant_m` metres of the chain (0: none). Cached: call it with rounded
    arguments (see `drape_for`)."""
    body = BODY.scaled(scale)
    back, back_n = _back(body)
    side = body.side_point
    back_length = _length(np.vstack([side, back, side * [-1.0, 1.0, 1.0]]))
    want = max(length_m - back_length, 0.0)  # the front's 3D length on the skin
    lo, hi = float(side[0]), max(float(side[0]), want)  # frontal half lengths to search
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if _length(_front(body, mid, pendant_m)[0]) > want:
            hi = mid
        else:
            lo = mid
    front, front_n = _front(body, lo, pendant_m)
    k = SAMPLES_FRONT // 2  # the bottom
    # Loop from the bottom toward +x: right half of the front, the back (+x side to -x side), left half.
    points = np.vstack([front[k:], back, front[:k]])
    normals = np.vstack([front_n[k:], back_n, front_n[:k]])
    seg = np.linalg.norm(np.diff(np.vstack([points, points[:1]]), axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg[:-1])])
    return ChainCurve(points, normals, s, float(seg.sum()), front[k].copy(), front_n[k].copy())


def drape_for(length_m: float, pendant_m: float, scale: float) -> ChainCurve:
    """`drape` at rounded arguments (1 mm of length, 1 mm of pendant weight, 1 % of scale): a body whose
    measured size drifts by noise reuses the cached curve."""
    return drape(round(length_m, 3), round(pendant_m, 3), round(scale, 2))


def pendant_rest(curve: ChainCurve) -> np.ndarray:
    """(4, 4) torso_T_pendant at rest: origin at the chain's lowest point (on its centre line, set by the
    caller), +z out of the chest (the skin's normal there), +y up along the chest, +x = y x z."""
    z = curve.bottom_normal
    y = np.array([0.0, -1.0, 0.0])
    y = y - (y @ z) * z
    y /= np.linalg.norm(y)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2] = np.cross(y, z), y, z
    m[:3, 3] = curve.bottom
    return m

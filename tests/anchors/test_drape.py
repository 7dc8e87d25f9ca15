"""The chain's drape round the neck: length kept, longer hangs lower, a pendant pulls a V, a choker hugs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tryon.anchors.drape import catenary_half, drape, pendant_rest
from tryon.anchors.neck import BODY


@pytest.mark.parametrize("length", [0.36, 0.45, 0.55])
def test_the_curve_is_as_long_as_the_chain(length: float) -> None:
    c = drape(length, 0.0, 1.0)
    assert c.length == pytest.approx(length, rel=0.01)
    loop = np.vstack([c.points, c.points[:1]])
    assert float(np.linalg.norm(np.diff(loop, axis=0), axis=1).sum()) == pytest.approx(length, rel=0.01)


def test_longer_chains_hang_lower_and_lengths_fall_where_jewellers_say() -> None:
    drops = {L: float(drape(L, 0.0, 1.0).bottom[1]) for L in (0.36, 0.40, 0.45, 0.50, 0.55, 0.60)}
    assert list(drops.values()) == sorted(drops.values())
    assert drops[0.36] < 0.02  # a choker stays at the base of the neck
    assert 0.04 < drops[0.45] < 0.09  # princess: just below the collarbones
    assert 0.09 < drops[0.55] < 0.15  # matinee: on the upper chest


def test_a_pendant_pulls_the_chain_into_a_v() -> None:
    plain, weighted = drape(0.45, 0.0, 1.0), drape(0.45, 0.2, 1.0)
    assert weighted.bottom[1] > plain.bottom[1] + 0.002
    # The V's arms are straighter: at the bottom the weighted chain meets at an angle.
    def slope_at_bottom(c):
        p = c.points[:4]
        return abs((p[3, 1] - p[0, 1]) / (p[3, 0] - p[0, 0]))
    assert slope_at_bottom(weighted) > 2.0 * slope_at_bottom(plain) + 0.05


def test_catenary_half_matches_its_arc_length_and_the_pendants_slope() -> None:
    x, drop = catenary_half(0.05, 0.08, 0.1, 2001)
    heights = drop[0] - drop
    arc = float(np.hypot(np.diff(x), np.diff(heights)).sum())
    assert arc == pytest.approx(0.08, rel=1e-3)
    assert drop[-1] == pytest.approx(0.0)
    assert drop[0] == drop.max()
    straight = catenary_half(0.05, 0.04, 0.0, 11)[1]
    assert np.allclose(straight, 0.0)  # too short to hang: pulled straight


def test_the_chain_lies_on_the_skin_in_front_and_round_the_neck_behind() -> None:
    c = drape(0.45, 0.1, 1.0)
    front = c.points[:, 1] > BODY.side_height + 1e-6  # below where the chain leaves the neck
    # In front, on the skin surface (chest or neck front).
    assert np.allclose(c.points[front, 2], BODY.chest_z(c.points[front, 0], c.points[front, 1]), atol=1e-6)
    # Behind, on the neck's ellipse, never inside it.
    back = c.points[~front]
    assert len(back) > 20
    r = np.hypot(back[:, 0] / BODY.half_width, (back[:, 2] - BODY.half_depth) / BODY.half_depth)
    assert np.allclose(r, 1.0, atol=1e-6)
    assert np.abs(c.points[:, 0]).max() <= BODY.half_width + 1e-9  # never wider than the neck's base
    # Normals point away from the body: toward the camera in front.
    assert (c.normals[front, 2] < 0).all()


def test_the_body_scale_scales_the_drape() -> None:
    small, big = drape(0.45, 0.0, 0.9), drape(0.45, 0.0, 1.1)
    assert big.bottom[1] < small.bottom[1]  # the same chain round a bigger neck hangs higher


def test_unit_frames_are_rigid_follow_the_chain_and_skip_the_back() -> None:
    c = drape(0.45, 0.0, 1.0)
    frames = c.frames(0.004, 0.001)
    assert len(frames) == int(0.45 / 0.004)
    r = frames[:, :3, :3]
    assert np.allclose(np.einsum("kij,kil->kjl", r, r), np.eye(3), atol=1e-9)
    assert np.allclose(np.linalg.det(r), 1.0)
    steps = np.diff(frames[:, :3, 3], axis=0)
    along = np.einsum("ki,ki->k", steps / np.linalg.norm(steps, axis=1, keepdims=True), frames[:-1, :3, 1])
    assert (along > 0.8).all()  # +y points along the chain (a bend where it leaves the neck)
    front = c.frames(0.004, 0.001, behind_z=BODY.half_depth)
    assert 0.3 * len(frames) < len(front) < 0.8 * len(frames)
    assert (front[:, 2, 3] <= BODY.half_depth).all()


def test_the_pendant_rests_on_the_chest_facing_out() -> None:
    c = drape(0.45, 0.1, 1.0)
    rest = pendant_rest(c)
    assert np.allclose(rest[:3, 3], c.bottom)
    assert rest[2, 2] < -0.8  # faces the camera (torso -z)
    assert rest[1, 1] < -0.8  # +y up the torso
    slope = math.degrees(math.atan2(rest[2, 1], -rest[1, 1]))
    assert slope == pytest.approx(BODY.chest_slope_deg, abs=1.0)  # lies back along the chest's slope

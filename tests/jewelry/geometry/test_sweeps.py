"""Sweeps: closed tubes with the volume Pappus gives, open ones capped, lofts through changing sections."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import merged

from tryon.jewelry.geometry.outlines import circle
from tryon.jewelry.geometry.profiles import rect_section, round_profile
from tryon.jewelry.geometry.sweeps import SWEEP_TO_Y_AXIS, loft, sweep, sweep_open


def test_a_swept_circle_is_a_torus_of_pappus_volume() -> None:
    big, small = 10.0, 1.0
    tube = sweep(circle(big, 256), round_profile(small, 64))
    assert len(tube.vertices) == 256 * 64 and len(tube.faces) == 2 * 256 * 64
    solid = merged(tube)
    assert solid.is_watertight and solid.is_winding_consistent
    # Pappus: 2 pi R x pi r^2; the polygons fall short by a little under 0.2 %.
    assert solid.volume == pytest.approx(2.0 * math.pi**2 * big * small**2, rel=3e-3)
    np.testing.assert_allclose(np.linalg.norm(tube.vertex_normals, axis=1), 1.0, atol=1e-12)
    assert np.hypot(tube.vertices[:, 0], tube.vertices[:, 1]).max() == pytest.approx(big + small, rel=1e-12)


def test_a_clockwise_path_is_wound_outward_too() -> None:
    tube = sweep(circle(5.0, 32)[::-1], round_profile(1.0, 8))
    assert tube.volume > 0.0


def test_sweep_open_along_a_line_is_a_capped_prism() -> None:
    path = np.stack([np.linspace(0.0, 10.0, 11), np.zeros(11)], axis=1)
    profile = rect_section(-1.0, 1.0, -0.5, 0.5, 0.1, 3)
    bar = sweep_open(path, profile)
    m = 12  # the rounded rectangle's points
    assert len(bar.faces) == 2 * 10 * m + 2 * m
    solid = merged(bar)
    assert solid.is_watertight and solid.volume > 0.0
    u, v = profile[0][:, 0], profile[0][:, 1]
    section = float(np.sum(u * np.roll(v, -1) - np.roll(u, -1) * v)) / 2.0  # the polygon's own area
    assert section == pytest.approx(2.0 - (4.0 - math.pi) * 0.01, rel=2e-3)  # ~ the rounded rectangle's
    assert solid.volume == pytest.approx(section * 10.0, rel=1e-12)  # straight: exactly section x length
    np.testing.assert_allclose(bar.bounds, [[0.0, -1.0, -0.5], [10.0, 1.0, 0.5]], atol=1e-12)


def test_loft_of_one_section_is_the_sweep_and_follows_growing_sections() -> None:
    path, profile = circle(4.0, 48), round_profile(0.5, 12)
    same = loft(path, [profile] * 48)
    np.testing.assert_allclose(same.vertices, sweep(path, profile).vertices, atol=1e-12)
    assert same.volume == pytest.approx(sweep(path, profile).volume, rel=1e-12)
    grown = loft(path, [round_profile(0.5 + 0.5 * (k < 24), 12) for k in range(48)])
    assert merged(grown).is_watertight and grown.volume > same.volume


def test_sweep_to_y_axis_turns_the_path_plane_round_y() -> None:
    turn = SWEEP_TO_Y_AXIS[:3, :3]
    np.testing.assert_allclose(turn @ [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], atol=1e-15)  # sweep y -> z
    np.testing.assert_allclose(turn @ [0.0, 0.0, 1.0], [0.0, -1.0, 0.0], atol=1e-15)  # sweep z -> -y
    np.testing.assert_allclose(turn @ [1.0, 0.0, 0.0], [1.0, 0.0, 0.0], atol=1e-15)

"""Relief: the Poisson height of a disc is its analytic paraboloid's root; the pillow it inflates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import merged

from tryon.jewelry.geometry.outlines import circle
from tryon.jewelry.geometry.relief import poisson_height, puffed


def test_poisson_height_of_a_disc() -> None:
    # -laplace(u) = 1 in a disc of radius R, 0 on its edge: u = (R^2 - r^2) / 4, so sqrt(u / max u) =
    # sqrt(1 - r^2 / R^2).
    radius = 5e-3
    height = poisson_height(circle(radius, 256))
    r = np.array([0.0, 0.25, 0.5, 0.75]) * radius
    got = height(np.stack([r, np.zeros_like(r)], axis=1))
    np.testing.assert_allclose(got, np.sqrt(1.0 - (r / radius) ** 2), atol=0.02)
    assert got.shape == (4,)
    np.testing.assert_allclose(height(np.array([[2.0 * radius, 0.0], [0.0, -3.0 * radius]])), 0.0, atol=1e-12)


def test_puffed_disc_is_a_closed_pillow_of_the_dome_volume() -> None:
    radius, front, back, z_mid = 5e-3, 2e-3, 1e-3, 0.5e-3
    pillow = puffed(circle(radius, 96), np.zeros(2), z_mid, front, back)
    solid = merged(pillow)
    assert solid.is_watertight and solid.volume > 0.0
    lo, hi = pillow.bounds
    assert hi[2] == pytest.approx(z_mid + front, rel=0.02) and lo[2] == pytest.approx(z_mid - back, rel=0.04)
    np.testing.assert_allclose(hi[:2], [radius, radius], rtol=1e-3)
    # Dome heights h sqrt(1 - r^2 / R^2) over the disc hold h x 2 pi R^2 / 3 each side; the mesh's coarse
    # rings (and the grid's solution) come within a few per cent of it.
    assert solid.volume == pytest.approx((front + back) * 2.0 * math.pi * radius**2 / 3.0, rel=0.06)
    np.testing.assert_allclose(np.linalg.norm(pillow.vertex_normals, axis=1), 1.0, atol=1e-9)

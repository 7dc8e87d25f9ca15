"""The random camera that makes the compositor's targets."""

import numpy as np
import pytest

from tryon.compositor.camera import NEUTRAL, Camera, capture, linear_to_srgb, random_camera, srgb_to_linear, tone
from tryon.errors import InputError


def test_srgb_round_trip():
    x = np.linspace(0.0, 1.0, 257, dtype=np.float32)
    assert np.allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-5)


def test_neutral_tone_is_the_identity():
    rgb = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    assert np.allclose(tone(NEUTRAL, rgb), rgb, atol=1e-5)


def test_exposure_and_white_balance_move_the_colours():
    grey = np.full((4, 4, 3), 0.5, np.float32)
    dark_warm = tone(Camera(exposure_ev=-1.0, wb_gains=(1.2, 1.0, 0.8)), grey)[0, 0]
    assert dark_warm.max() < 0.5 and dark_warm[0] > dark_warm[1] > dark_warm[2]


def test_same_noise_gives_the_same_pixels_outside_what_differs():
    rng = np.random.default_rng(1)
    cam = Camera(exposure_ev=-0.5, blur_sigma_px=1.0, read_noise=0.02, jpeg_quality=70)
    scene = rng.random((64, 64, 3)).astype(np.float32)
    noise = rng.standard_normal((64, 64, 3), np.float32)
    other = scene.copy()
    other[40:48, 40:48] = 1.0  # one 8x8 spot changes: within one 16 px JPEG block
    a, b = capture(cam, scene, noise), capture(cam, other, noise)
    assert a.dtype == np.uint8 and a.shape == (64, 64, 3)
    # The blur reaches 3 px, JPEG's block and its chroma upsampling one pixel more.
    assert np.array_equal(a[:30], b[:30]) and np.array_equal(a[:, :30], b[:, :30])
    assert not np.array_equal(a[40:48, 40:48], b[40:48, 40:48])


def test_random_cameras_are_seeded_and_varied():
    a = [random_camera(np.random.default_rng(7)) for _ in range(2)]
    assert a[0] == a[1]
    many = [random_camera(np.random.default_rng(s)) for s in range(50)]
    assert len({round(c.exposure_ev, 3) for c in many}) > 30
    assert any(c.jpeg_quality for c in many) and any(not c.jpeg_quality for c in many)


def test_bad_shapes_are_named():
    with pytest.raises(InputError, match=r"scene must be \(h, w, 3\), got \(4, 4\)"):
        capture(NEUTRAL, np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32))
    with pytest.raises(InputError, match=r"noise must be \(4, 4, 3\), got \(4, 4, 1\)"):
        capture(NEUTRAL, np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 1), np.float32))

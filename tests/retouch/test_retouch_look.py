"""One look across a batch: a darker or tinted copy of a photo is brought to the reference's exposure and white
point; the look is measured on the piece, not the backdrop."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import load_rgb, media_path

from tryon.errors import InputError
from tryon.retouch.look import apply_look, measure_look
from tryon.retouch.tone import linear_to_srgb, srgb_to_linear
from tryon.retouch.types import Look


def watch() -> tuple[np.ndarray, np.ndarray]:
    rgb = load_rgb("products/watch_gold_pave_dial_on_sand.jpg")
    mask = cv2.imread(str(media_path("products/watch_gold_pave_dial_on_sand.mask.png")), 0)
    return rgb, (mask > 127).astype(np.float32)


def relit(rgb: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    """The same photo under other light: per-channel linear gains."""
    lin = srgb_to_linear(rgb.astype(np.float32) / 255.0) * np.asarray(gains, np.float32)
    return np.clip(linear_to_srgb(lin) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def test_measure_look_reads_the_piece() -> None:
    rgb, alpha = watch()
    look = measure_look(rgb, alpha)
    assert 0.2 < look.exposure < 0.9
    r, g, b = look.white_rgb
    assert r > b  # a gold watch's bright point is warm
    assert 0.3 < look.fill_share <= 1.0
    # The backdrop does not count: repainting it leaves the look as it was.
    other = rgb.copy()
    other[alpha < 0.5] = (30, 60, 200)
    again = measure_look(other, alpha)
    assert again.exposure == pytest.approx(look.exposure, abs=1e-6)


def test_apply_look_brings_a_darker_copy_to_the_reference_exposure() -> None:
    rgb, alpha = watch()
    ref = measure_look(rgb, alpha)
    dark = relit(rgb, (0.55, 0.55, 0.55))
    assert measure_look(dark, alpha).exposure < ref.exposure - 0.1
    matched = measure_look(apply_look(dark, alpha, ref), alpha)
    assert matched.exposure == pytest.approx(ref.exposure, abs=0.01)


def test_apply_look_brings_a_tinted_copy_to_the_reference_white_point() -> None:
    rgb, alpha = watch()
    ref = measure_look(rgb, alpha)
    blue = relit(rgb, (0.85, 0.95, 1.15))
    out = apply_look(blue, alpha, ref)
    got = measure_look(out, alpha)

    def ratio(w: tuple[float, float, float]) -> np.ndarray:
        v = np.asarray(w)
        return v / v.mean()

    before = np.abs(ratio(measure_look(blue, alpha).white_rgb) - ratio(ref.white_rgb)).max()
    after = np.abs(ratio(got.white_rgb) - ratio(ref.white_rgb)).max()
    assert after < 0.4 * before
    assert got.exposure == pytest.approx(ref.exposure, abs=0.015)


def test_apply_look_to_its_own_look_changes_almost_nothing() -> None:
    rgb, alpha = watch()
    out = apply_look(rgb, alpha, measure_look(rgb, alpha))
    assert np.abs(out.astype(int) - rgb.astype(int)).mean() < 1.0


def test_bad_input_is_refused() -> None:
    rgb, alpha = watch()
    with pytest.raises(InputError):
        measure_look(rgb, np.zeros_like(alpha))  # no piece to measure
    with pytest.raises(InputError):
        measure_look(rgb, alpha[:-1])
    with pytest.raises(InputError):
        apply_look(rgb.astype(np.float32), alpha, Look(0.5, (0.9, 0.9, 0.9)))
    with pytest.raises(InputError):
        apply_look(rgb, alpha, Look(0.0, (0.9, 0.9, 0.9)))

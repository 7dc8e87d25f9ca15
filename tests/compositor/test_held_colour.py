"""The camera look's colour held to a mild setting on the jewelry (tryon.compositor.look.held_colour)."""

import cv2
import numpy as np

from tryon.compositor.camera import LUMA
from tryon.compositor.look import (
    _KNOTS,
    BLACK_CAST_MAX,
    CAST_MAX,
    SATURATION_RANGE,
    LookParams,
    held_colour,
    look_colour_np,
)


def _look(matrix: np.ndarray, black=(0.0, 0.0, 0.0)) -> LookParams:
    return LookParams(np.asarray(matrix, np.float32), _KNOTS.copy(), np.asarray(black, np.float32), 0.7, 0.01,
                      0.001, np.array([0.3, 1.0, 0.0, 1.0], np.float32))


def _saturation(matrix: np.ndarray) -> float:
    n = matrix / matrix.sum(axis=1, keepdims=True)
    return 0.5 * (float(np.trace(n)) - 1.0)


def test_a_mild_look_is_kept_as_it_is():
    m = np.diag([1.2, 1.2 * 1.01, 1.2 * 0.99]) @ (np.eye(3) * 1.02 - 0.02 * np.ones((3, 1)) @ LUMA[None, :])
    look = _look(m, (0.01, 0.011, 0.009))
    held = held_colour(look)
    np.testing.assert_allclose(held.matrix, look.matrix, atol=1e-6)
    np.testing.assert_allclose(held.black, look.black, atol=1e-7)


def test_a_strong_cast_and_saturation_are_held_and_exposure_kept():
    """A warm (red up, blue down) and oversaturated look, as the network read a red wall: white stays within
    CAST_MAX of neutral, saturation within the range, black levels within BLACK_CAST_MAX, and the exposure
    (what white's luminance becomes), the curve, blur, noise and shadow are untouched."""
    sat = 1.3
    pure = sat * np.eye(3) + (1.0 - sat) * np.ones((3, 1)) @ LUMA[None, :]
    look = _look(np.diag([1.5, 1.2, 0.8]) @ pure, (0.02, -0.01, -0.03))
    held = held_colour(look)
    white = held.matrix.sum(axis=1)
    lum = float(LUMA @ white)
    assert np.abs(white - lum).max() <= CAST_MAX * lum * 1.0001
    assert abs(lum - float(LUMA @ look.matrix.sum(axis=1))) < 1e-5
    assert SATURATION_RANGE[0] - 1e-6 <= _saturation(held.matrix) <= SATURATION_RANGE[1] + 1e-6
    assert np.ptp(held.black) <= 2 * BLACK_CAST_MAX + 1e-7
    for f in ("curve", "blur_px", "read", "shot", "shadow"):
        assert np.array_equal(getattr(held, f), getattr(look, f)), f
    # On gold: the held look keeps the piece's hue where the raw one turns it copper.
    gold = np.array([[0.75, 0.6, 0.3]], np.float32)
    hue = {k: _hue_deg(c) for k, c in (("own", gold), ("raw", look_colour_np(gold, look)),
                                       ("held", look_colour_np(gold, held)))}
    assert hue["own"] - hue["raw"] > 6.0 and abs(hue["held"] - hue["own"]) < 2.0, hue


def _hue_deg(rgb: np.ndarray) -> float:
    _, a, b = cv2.cvtColor(rgb.reshape(1, 1, 3).astype(np.float32), cv2.COLOR_RGB2Lab)[0, 0]
    return float(np.degrees(np.arctan2(b, a)))


def test_held_twice_is_held_once():
    look = _look(np.diag([0.6, 1.0, 1.6]) @ (0.7 * np.eye(3) + 0.3 * np.ones((3, 1)) @ LUMA[None, :]))
    once = held_colour(look)
    np.testing.assert_allclose(held_colour(once).matrix, once.matrix, atol=1e-6)

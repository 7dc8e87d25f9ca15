"""checks.marketplace_checks: pass on a good composite, fail on a grey backdrop, a stray 254, a small piece."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import load_rgb, media_path

from tryon.errors import InputError
from tryon.retouch.checks import marketplace_checks
from tryon.retouch.compose import compose
from tryon.retouch.types import RetouchOptions

NAMES = {"background", "fill", "size", "square", "clipping"}


def piece(h: int = 500, w: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """fg (h, w, 3) and alpha (h, w) of a gold ring seen from the front, off-centre."""
    a = np.zeros((h, w), np.float32)
    cv2.circle(a, (250, 230), 140, 1.0, -1, lineType=cv2.LINE_AA)
    cv2.circle(a, (250, 230), 110, 0.0, -1, lineType=cv2.LINE_AA)
    fg = np.empty((h, w, 3), np.float32)
    fg[...] = (0.85, 0.65, 0.25)
    return fg, a


@pytest.mark.parametrize("options", [
    RetouchOptions(),
    RetouchOptions(shadow="drop", size_px=1200),
    RetouchOptions(shadow="reflection", background="#101820"),
    RetouchOptions(shadow="contact", background="transparent", size_px=1000),
    RetouchOptions(shadow="none", size_px=2100),
])
def test_a_good_composite_passes(options: RetouchOptions) -> None:
    image, alpha_out = compose(*piece(), options)
    checks = marketplace_checks(image, alpha_out, options)
    assert set(checks) == NAMES
    for name, c in checks.items():
        assert c["ok"], (name, c)
        assert isinstance(c["rule"], str) and c["rule"]
    assert checks["fill"]["value"] == pytest.approx(0.85, abs=0.01)
    assert checks["background"]["value"] == 0


def test_grey_background_fails() -> None:
    options = RetouchOptions(shadow="contact", size_px=1000)
    image, alpha_out = compose(*piece(), options)
    grey = image.copy()
    grey[alpha_out == 0] = np.minimum(grey[alpha_out == 0], 238)
    checks = marketplace_checks(grey, alpha_out, options)
    assert not checks["background"]["ok"] and checks["background"]["value"] > 100_000
    assert checks["fill"]["ok"] and checks["size"]["ok"]


def test_one_stray_254_fails() -> None:
    options = RetouchOptions(size_px=1000)
    image, alpha_out = compose(*piece(), options)
    image[20, 900] = 254
    checks = marketplace_checks(image, alpha_out, options)
    assert not checks["background"]["ok"] and checks["background"]["value"] == 1


def test_a_shadow_where_none_was_asked_fails() -> None:
    image, alpha_out = compose(*piece(), RetouchOptions(shadow="drop", size_px=1000))
    checks = marketplace_checks(image, alpha_out, RetouchOptions(shadow="none", size_px=1000))
    assert not checks["background"]["ok"]


def test_keep_a_small_piece_on_a_small_canvas() -> None:
    options = RetouchOptions(frame="keep")
    image, alpha_out = compose(*piece(), options)
    checks = marketplace_checks(image, alpha_out, options)
    assert image.shape == (500, 600, 3)
    assert not checks["fill"]["ok"] and checks["fill"]["value"] == pytest.approx(281 / 500, abs=0.01)
    assert not checks["size"]["ok"] and checks["size"]["value"] == 600
    assert checks["square"] == {"ok": True, "value": None, "rule": checks["square"]["rule"]}
    assert "not checked" in checks["square"]["rule"]
    assert checks["background"]["ok"] and checks["clipping"]["ok"]


def test_a_piece_cut_by_the_edge_fails() -> None:
    fg, a = piece()
    options = RetouchOptions(frame="keep")
    image, alpha_out = compose(fg, np.roll(a, -200, axis=1), options)  # the ring runs off the left edge
    checks = marketplace_checks(image, alpha_out, options)
    assert not checks["clipping"]["ok"] and checks["clipping"]["value"] > 10


def test_transparent_background_must_be_alpha_zero() -> None:
    options = RetouchOptions(background="transparent", shadow="none", size_px=1000)
    image, alpha_out = compose(*piece(), options)
    image[5, 5, 3] = 1
    checks = marketplace_checks(image, alpha_out, options)
    assert not checks["background"]["ok"] and checks["background"]["value"] == 1


def test_colour_background_must_be_that_colour() -> None:
    image, alpha_out = compose(*piece(), RetouchOptions(size_px=1000))  # on white
    checks = marketplace_checks(image, alpha_out, RetouchOptions(background="#F5F5F5", size_px=1000))
    assert not checks["background"]["ok"]
    assert "#F5F5F5" in checks["background"]["rule"]


def test_a_real_photo_passes() -> None:
    name = "products/rings_wedding_bands_yellow_gold_white_bg"
    rgb = load_rgb(name + ".jpg")
    mask = cv2.imread(str(media_path(name + ".mask.png")), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    options = RetouchOptions(shadow="contact")
    image, alpha_out = compose(rgb.astype(np.float32) / 255, mask, options)
    checks = marketplace_checks(image, alpha_out, options)
    assert all(c["ok"] for c in checks.values()), checks


@pytest.mark.parametrize("case", ["rgb for transparent", "rgba for white", "float image", "alpha shape", "options"])
def test_bad_input(case: str) -> None:
    options = RetouchOptions(size_px=1000)
    image, alpha_out = compose(*piece(), options)
    args: list[object] = [image, alpha_out, options]
    if case == "rgb for transparent":
        args[2] = RetouchOptions(background="transparent", size_px=1000)
    elif case == "rgba for white":
        args[0] = np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])
    elif case == "float image":
        args[0] = image.astype(np.float32) / 255
    elif case == "alpha shape":
        args[1] = alpha_out[:-1]
    elif case == "options":
        args[2] = "white"
    with pytest.raises(InputError):
        marketplace_checks(*args)  # type: ignore[arg-type]

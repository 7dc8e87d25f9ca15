"""Dust removal: seeded specks and fibres on the piece and the backdrop go; a prong, pavé and the rest stay."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import load_rgb, media_path
from skimage.metrics import structural_similarity

from tryon.errors import InputError
from tryon.retouch.dust import remove_dust


def add_specks(rgb: np.ndarray, where: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Dark and bright dots (radius 1 to 3 px) and short fibres (6 to 14 px) at random points of `where`.

    Returns (dusty rgb, (H, W) bool: the pixels the specks cover, grown by 2 px).
    """
    rng = np.random.default_rng(seed)
    ys, xs = np.nonzero(where)
    pick = rng.choice(ys.size, size=n, replace=False)
    dusty = rgb.copy()
    hit = np.zeros(rgb.shape[:2], np.uint8)
    for i, j in enumerate(pick):
        x, y = int(xs[j]), int(ys[j])
        one = np.zeros_like(hit)
        if i % 3 == 2:
            ang = rng.uniform(0, np.pi)
            half = rng.uniform(3, 7)
            dx, dy = half * np.cos(ang), half * np.sin(ang)
            cv2.line(one, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), 1, 1, cv2.LINE_8)
        else:
            cv2.circle(one, (x, y), int(rng.integers(1, 4)), 1, -1)
        local = float(rgb[y, x].mean())
        level = 15 if (i % 2 == 0 and local > 90) or local > 200 else 245  # dark on light ground, else bright
        dusty[one > 0] = level
        hit |= one
    grown = cv2.dilate(hit, np.ones((5, 5), np.uint8)) > 0
    return dusty, grown


def synthetic_piece(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 400x400 grey backdrop with noise, a shaded gold disc (the piece) and a thin prong leaving it.

    Returns (rgb, alpha, prong (H, W) bool).
    """
    rng = np.random.default_rng(seed)
    h = w = 400
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = (175, 175, 178)
    rgb += rng.normal(0, 2.0, (h, w, 1))
    disc = (xx - 200) ** 2 + (yy - 220) ** 2 < 110 ** 2
    shade = 0.75 + 0.25 * np.cos((xx - 170) / 90.0) * np.cos((yy - 200) / 90.0)
    gold = np.array([205, 165, 80], np.float32)
    rgb[disc] = (gold * shade[..., None])[disc] + rng.normal(0, 1.5, (int(disc.sum()), 1))
    prong = np.zeros((h, w), np.uint8)
    cv2.line(prong, (200, 112), (215, 60), 1, 2)  # 2 px wide, ~55 px long: a claw reaching up from the disc
    rgb[prong > 0] = (120, 95, 45)
    alpha = (disc | (prong > 0)).astype(np.float32)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8), alpha, prong > 0


def test_specks_on_piece_and_backdrop_go_and_the_prong_stays() -> None:
    rgb, alpha, prong = synthetic_piece()
    inner = cv2.erode((alpha > 0.5).astype(np.uint8), np.ones((21, 21), np.uint8)) > 0
    outer = cv2.dilate((alpha > 0.5).astype(np.uint8), np.ones((31, 31), np.uint8)) == 0
    dusty, hit_piece = add_specks(rgb, inner, 12, seed=1)
    dusty, hit_back = add_specks(dusty, outer, 12, seed=2)
    cleaned, count = remove_dust(dusty, alpha)
    assert count >= 22
    for hit in (hit_piece, hit_back):
        err = np.abs(cleaned.astype(np.int16) - rgb.astype(np.int16))[hit].max(axis=1)
        assert np.percentile(err, 95) < 20, "a speck is still there"
    assert np.array_equal(cleaned[prong], rgb[prong]), "the prong was touched"
    untouched = (alpha > 0.5) & ~hit_piece
    ssim = structural_similarity(cleaned, rgb, channel_axis=2, full=True, data_range=255)[1].mean(axis=2)
    assert ssim[untouched].mean() >= 0.99


def test_a_clean_piece_is_left_as_it_is() -> None:
    rgb, alpha, _ = synthetic_piece(seed=3)
    cleaned, count = remove_dust(rgb, alpha)
    assert count <= 2
    assert np.count_nonzero(np.any(cleaned != rgb, axis=2)) < 60


def test_real_ring_with_added_dust_keeps_its_pave() -> None:
    rgb = load_rgb("products/ring_sapphire_solitaire_side_view_light_grey_bg.jpg")
    mask = cv2.imread(str(media_path("products/ring_sapphire_solitaire_side_view_light_grey_bg.mask.png")), 0)
    alpha = (mask > 127).astype(np.float32)
    back = cv2.dilate(mask, np.ones((61, 61), np.uint8)) == 0
    dusty, hit = add_specks(rgb, back, 20, seed=4)
    on_piece = cv2.erode(mask, np.ones((9, 9), np.uint8)) > 0
    cleaned, _ = remove_dust(dusty, alpha)
    err = np.abs(cleaned.astype(np.int16) - rgb.astype(np.int16))[hit].max(axis=1)
    assert np.percentile(err, 95) < 25
    untouched = on_piece & ~hit
    ssim = structural_similarity(cleaned, rgb, channel_axis=2, full=True, data_range=255)[1].mean(axis=2)
    assert ssim[untouched].mean() >= 0.99


def test_real_dust_on_the_three_stone_ring_photo_is_found() -> None:
    rgb = load_rgb("products/ring_three_stone_channel_white_gold_dust_grey_bg.jpg")
    alpha = np.zeros(rgb.shape[:2], np.float32)
    alpha[120:330, 300:660] = 1.0  # the ring's rough box; the dust lies on the grey card around it
    cleaned, count = remove_dust(rgb, alpha)
    assert count >= 5
    # Only the specks and their halos change: a small share of the photo.
    assert np.count_nonzero(np.any(cleaned != rgb, axis=2)) < 0.02 * alpha.size


@pytest.mark.parametrize("rgb, alpha", [
    (np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.float32)),
    (np.zeros((10, 10, 3), np.float32), np.zeros((10, 10), np.float32)),
    (np.zeros((10, 10, 3), np.uint8), np.zeros((10, 12), np.float32)),
    (np.zeros((10, 10, 3), np.uint8), np.zeros((10, 10), np.uint8)),
])
def test_bad_input_is_refused(rgb: np.ndarray, alpha: np.ndarray) -> None:
    with pytest.raises(InputError):
        remove_dust(rgb, alpha)

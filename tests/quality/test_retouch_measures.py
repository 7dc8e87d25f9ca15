"""The retouch evaluation's measures on synthetic arrays with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from tryon.quality.retouch_measures import (
    add_specks,
    boundary_f,
    boundary_of,
    boundary_tolerance_px,
    delta_e,
    matte_iou,
    measured_shift,
    on_white,
    piece_of_professional,
    score_cleaning,
    shift_back,
    speck_removed,
    ssim_on,
    stats,
    untouched_region,
    white_background,
)


def disc(h: int = 200, w: int = 200, cx: float = 100, cy: float = 100, r: float = 50) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return ((xx - cx) ** 2 + (yy - cy) ** 2 <= r * r).astype(np.uint8) * 255


def test_iou_perfect_shifted_and_empty():
    mask = disc()
    assert matte_iou(mask.astype(np.float32) / 255, mask) == 1.0
    shifted = np.roll(mask, 10, axis=1).astype(np.float32) / 255
    # two discs of radius 50 whose centres are 10 px apart: the lens over the union, ~0.77
    assert 0.74 < matte_iou(shifted, mask) < 0.80
    assert matte_iou(np.zeros((5, 5), np.float32), np.zeros((5, 5), np.uint8)) == 1.0
    assert matte_iou(np.ones((5, 5), np.float32), np.zeros((5, 5), np.uint8)) == 0.0


def test_iou_thresholds_alpha_at_half_and_mask_at_128():
    alpha = np.array([[0.5, 0.51]], np.float32)
    mask = np.array([[127, 128]], np.uint8)
    assert matte_iou(alpha, mask) == 1.0  # 0.5 and 127 are both background


def test_iou_refuses_other_sizes():
    with pytest.raises(ValueError, match="shapes differ"):
        matte_iou(np.zeros((4, 4), np.float32), np.zeros((4, 5), np.uint8))


def test_boundary_tolerance_scales_with_the_image():
    assert boundary_tolerance_px((1000, 600)) == 3
    assert boundary_tolerance_px((800, 800)) == 2
    assert boundary_tolerance_px((300, 200)) == 1
    assert boundary_tolerance_px((1500, 3000, 3)) == 9


def test_boundary_of_a_square_is_its_outline_and_the_frame_is_no_edge():
    m = np.zeros((10, 10), bool)
    m[2:8, 2:8] = True
    b = boundary_of(m)
    assert b.sum() == 20 and not b[3:7, 3:7].any()
    assert not boundary_of(np.ones((6, 6), bool)).any()


def test_boundary_f_perfect_within_and_beyond_tolerance():
    mask = disc()
    assert boundary_f(mask.astype(np.float32) / 255, mask)["f"] == 1.0
    near = np.roll(mask, 2, axis=1).astype(np.float32) / 255
    assert boundary_f(near, mask, tolerance_px=3)["f"] == 1.0
    far = np.roll(mask, 10, axis=1).astype(np.float32) / 255
    r = boundary_f(far, mask, tolerance_px=3)
    assert 0.0 < r["f"] < 0.5 and r["precision"] == pytest.approx(r["recall"], abs=0.05)


def test_boundary_f_extra_blob_costs_precision_not_recall():
    mask = disc()
    ours = mask.copy()
    ours[5:25, 5:25] = 255  # a speck of background taken as the piece
    r = boundary_f(ours.astype(np.float32) / 255, mask, tolerance_px=2)
    assert r["recall"] == 1.0 and r["precision"] < 0.85


def test_boundary_f_empty_cases():
    z, o = np.zeros((20, 20), np.float32), disc(20, 20, 10, 10, 5)
    assert boundary_f(z, np.zeros((20, 20), np.uint8))["f"] == 1.0
    assert boundary_f(z, o)["f"] == 0.0


def test_on_white_composites_rgba():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (0, 0, 0, 255)
    rgba[0, 1] = (0, 0, 0, 0)
    rgba[1, 0] = (0, 0, 0, 128)
    out = on_white(rgba)
    assert out.shape == (2, 2, 3)
    assert tuple(out[0, 0]) == (0, 0, 0) and tuple(out[0, 1]) == (255, 255, 255)
    assert 125 <= out[1, 0, 0] <= 128
    rgb = np.zeros((2, 2, 3), np.uint8)
    assert on_white(rgb) is rgb


def test_delta_e_identical_zero_and_known_grey_step():
    a = np.full((4, 4, 3), 128, np.uint8)
    assert delta_e(a, a)["whole"] == 0.0
    b = a.copy()
    b[:2] = 255
    region = np.zeros((4, 4), bool)
    region[2:] = True
    d = delta_e(a, b, region)
    assert d["piece"] == 0.0
    # sRGB 128 grey is L* 53.6, white 100: a CIEDE2000 near 34 on the changed half
    assert 15 < d["whole"] < 20
    assert delta_e(a, b, np.zeros((4, 4), bool))["piece"] is None


def test_white_background_and_professional_piece():
    img = np.full((50, 50, 3), 255, np.uint8)
    img[20:30, 20:30] = (200, 160, 60)  # a gold piece
    assert white_background(img)
    assert not white_background(np.full((50, 50, 3), 200, np.uint8))
    piece = piece_of_professional(img)
    assert piece.sum() == 100 and piece[25, 25]
    alpha = np.zeros((50, 50), np.uint8)
    alpha[10:15, 10:15] = 255
    alpha[40:45, 40:45] = 60  # the faint added shadow
    assert piece_of_professional(img, alpha).sum() == 25


def _clean_photo() -> tuple[np.ndarray, np.ndarray]:
    """A 400 px 'photo': white background, a large textured grey-gold piece."""
    rng = np.random.default_rng(7)
    img = np.full((400, 400, 3), 250, np.uint8)
    piece = disc(400, 400, 200, 200, 120) > 0
    tex = (np.array([190, 160, 80]) + rng.normal(0, 6, (400, 400, 1))).clip(0, 255).astype(np.uint8)
    img[piece] = tex[piece]
    return img, piece


def test_add_specks_is_seeded_and_places_them_where_asked():
    img, piece = _clean_photo()
    a, specks = add_specks(img, piece, seed=3, n_piece=5, n_background=5)
    b, _ = add_specks(img, piece, seed=3, n_piece=5, n_background=5)
    assert np.array_equal(a, b)
    assert len(specks) == 10 and {s.where for s in specks} == {"piece", "background"}
    for s in specks:
        fp = s.footprint
        assert fp.any()
        inside = piece[fp]
        assert inside.all() if s.where == "piece" else not inside.any()
        assert np.abs(a[fp].astype(int) - img[fp].astype(int)).mean() > 30  # visible
    together = np.sum([s.footprint for s in specks], axis=0)
    assert together.max() == 1  # none overlap
    changed = np.any(a != img, axis=2)
    assert not changed[~np.any([s.coverage > 0 for s in specks], axis=0)].any()


def test_speck_removed_and_ssim_of_untouched_piece():
    img, piece = _clean_photo()
    specked, specks = add_specks(img, piece, seed=5)
    assert not any(speck_removed(img, specked, specked, s) for s in specks)  # nothing done: none removed
    assert all(speck_removed(img, specked, img, s) for s in specks)  # perfectly restored: all removed
    region = untouched_region(piece, specks)
    assert region.sum() < piece.sum()
    assert ssim_on(img, specked, region) == pytest.approx(1.0, abs=1e-6)  # specks are outside the region
    blurred = img.copy()
    blurred[piece] = 170  # texture flattened: structure lost
    s = ssim_on(img, blurred, region)
    assert s is not None and s < 0.9
    assert ssim_on(img, img, np.zeros(piece.shape, bool)) is None


def test_stats_skip_none():
    assert stats([1.0, None, 3.0]) == {"n": 2, "mean": 2.0, "min": 1.0, "max": 3.0}
    assert stats([None])["mean"] is None


def test_measured_shift_finds_and_undoes_an_offset():
    img, _ = _clean_photo()
    moved = np.roll(img, (2, -3), axis=(0, 1))  # content 3 px left and 2 px down
    dx, dy, response = measured_shift(img, moved)
    assert dx == pytest.approx(-3, abs=0.2) and dy == pytest.approx(2, abs=0.2) and response > 0.3
    back = shift_back(moved, dx, dy)
    assert np.array_equal(back[10:-10, 10:-10], img[10:-10, 10:-10])
    assert shift_back(img, 0.3, -0.4) is img
    assert measured_shift(img, img)[:2] == pytest.approx((0.0, 0.0), abs=0.05)


def test_score_cleaning_counts_by_place_ground_and_matte():
    img, piece = _clean_photo()
    specked, specks = add_specks(img, piece, seed=11)
    n_bg = sum(s.where == "background" for s in specks)
    perfect = score_cleaning(img, specked, img, piece, specks, piece.astype(np.float32))
    assert perfect["removed"] == perfect["specks"] == len(specks)
    assert perfect["piece"]["removed"] + perfect["background"]["removed"] == len(specks)
    # the synthetic piece's texture (sd 6) is smooth metal by SMOOTH_SD
    assert perfect["piece_smooth"] == perfect["piece"] and all(s.ground_sd < 8 for s in specks if s.where == "piece")
    assert perfect["background"]["in_matte"] == 0 and perfect["ssim"] == pytest.approx(1.0)
    nothing = score_cleaning(img, specked, specked, piece, specks, np.ones(piece.shape, np.float32))
    assert nothing["removed"] == 0 and nothing["background"]["in_matte"] == n_bg
    assert "in_matte" not in score_cleaning(img, specked, img, piece, specks)["background"]

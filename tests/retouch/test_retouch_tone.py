"""Tone: white balance from the backdrop (gold stays gold), the metal's alloy found and corrected (stones left
alone), blown hotspots rolled off (nothing else touched), stone contrast only inside stones."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import load_rgb, media_path

from tryon.errors import InputError
from tryon.retouch.gems import restore_gems
from tryon.retouch.tone import (
    balance_white,
    correct_metal,
    detect_metal,
    linear_to_srgb,
    roll_off_highlights,
    srgb_to_linear,
)


def lab_of(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def hue(lab: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(np.median(lab[..., 2]), np.median(lab[..., 1]))) % 360.0)


def disc_scene(bg: tuple[int, int, int], piece: tuple[int, int, int], size: int = 300,
               radius: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A flat backdrop with a shaded disc (the piece) in the middle: (rgb uint8, alpha float32)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    disc = (xx - size / 2) ** 2 + (yy - size / 2) ** 2 < radius ** 2
    rgb = np.empty((size, size, 3), np.float32)
    rgb[:] = bg
    shade = 0.8 + 0.2 * np.cos((xx - size / 2) / 40.0)
    rgb[disc] = (np.asarray(piece, np.float32) * shade[..., None])[disc]
    rgb += rng.normal(0, 1.0, rgb.shape)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8), disc.astype(np.float32)


def cast(rgb: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    lin = srgb_to_linear(rgb.astype(np.float32) / 255.0) * np.asarray(gains, np.float32)
    return np.clip(linear_to_srgb(lin) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def product(name: str) -> tuple[np.ndarray, np.ndarray]:
    rgb = load_rgb(f"products/{name}.jpg")
    mask = cv2.imread(str(media_path(f"products/{name}.mask.png")), 0)
    return rgb, (mask > 127).astype(np.float32)


# ---------------------------------------------------------------- white balance

def test_a_blue_cast_backdrop_turns_neutral_and_the_gold_keeps_its_hue() -> None:
    truth, alpha = disc_scene((175, 175, 175), (212, 168, 72))
    blue = cast(truth, (0.85, 0.95, 1.25))
    out, gains = balance_white(blue, alpha)
    assert gains[2] < 1.0 < gains[0]
    back = lab_of(out)[:30, :30]
    assert abs(float(np.median(back[..., 1]))) < 1.5 and abs(float(np.median(back[..., 2]))) < 1.5
    gold_true, gold_out = lab_of(truth)[alpha > 0.5], lab_of(out)[alpha > 0.5]
    assert abs(hue(gold_out) - hue(gold_true)) < 5.0
    assert float(np.median(np.hypot(gold_out[:, 1], gold_out[:, 2]))) > 30.0


def test_a_gold_piece_on_a_neutral_backdrop_is_not_neutralised() -> None:
    # A big gold piece and a neutral card: the piece's own colour must not be read as a cast.
    rgb, alpha = disc_scene((200, 200, 200), (212, 168, 72), radius=120)
    out, gains = balance_white(rgb, alpha)
    assert np.allclose(gains, 1.0, atol=0.02)
    assert np.abs(out.astype(int) - rgb.astype(int)).max() <= 3


def test_a_red_paper_backdrop_is_a_choice_not_a_cast() -> None:
    rgb, alpha = disc_scene((200, 40, 40), (212, 168, 72))
    _, gains = balance_white(rgb, alpha)
    assert np.allclose(gains, 1.0, atol=0.02)


# ---------------------------------------------------------------- metal

@pytest.mark.parametrize("name, metals", [
    ("rings_wedding_bands_yellow_gold_white_bg", {"yellow-gold"}),
    ("watch_gold_pave_dial_on_sand", {"yellow-gold"}),
    ("rings_eternity_pair_white_gold_white_bg", {"white-gold", "silver"}),
    ("ring_sapphire_solitaire_side_view_light_grey_bg", {"white-gold", "silver"}),
])
def test_detect_metal_on_real_pieces(name: str, metals: set[str]) -> None:
    rgb, alpha = product(name)
    assert detect_metal(rgb, alpha) in metals


def test_detect_metal_says_none_for_a_piece_without_metal() -> None:
    rgb, alpha = disc_scene((200, 200, 200), (60, 90, 200))  # blue enamel
    assert detect_metal(rgb, alpha) == "none"
    assert detect_metal(rgb, np.zeros_like(alpha)) == "none"


def brassy_ring_with_a_blue_stone() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rgb, alpha = disc_scene((210, 210, 210), (190, 178, 92))  # brassy: greenish yellow, hue ~ 97
    yy, xx = np.mgrid[0:300, 0:300]
    stone = (xx - 150) ** 2 + (yy - 150) ** 2 < 30 ** 2
    rgb[stone] = (40, 70, 190)
    return rgb, alpha, stone


def test_correct_metal_turns_brassy_gold_toward_yellow_gold_and_leaves_the_stone() -> None:
    rgb, alpha, stone = brassy_ring_with_a_blue_stone()
    out = correct_metal(rgb, alpha, "yellow-gold")
    metal = (alpha > 0.5) & ~cv2.dilate(stone.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    before, after = lab_of(rgb)[metal], lab_of(out)[metal]
    assert hue(before) > 93.0
    assert abs(hue(after) - 84.0) < abs(hue(before) - 84.0) - 8.0
    assert float(np.abs(after[:, 0] - before[:, 0]).mean()) < 1.0  # the shading is kept
    assert np.array_equal(out[stone], rgb[stone])
    assert np.array_equal(out[alpha == 0], rgb[alpha == 0])


def test_correct_metal_takes_the_blue_off_silver_without_making_it_yellow() -> None:
    rgb, alpha = disc_scene((210, 210, 210), (170, 180, 205))  # silver with a blue cast
    out = correct_metal(rgb, alpha, "silver")
    b_before = float(np.median(lab_of(rgb)[alpha > 0.5][:, 2]))
    b_after = float(np.median(lab_of(out)[alpha > 0.5][:, 2]))
    assert b_before < -8.0
    assert b_before + 5.0 < b_after < 1.0


def test_correct_metal_none_and_unknown() -> None:
    rgb, alpha, _ = brassy_ring_with_a_blue_stone()
    assert np.array_equal(correct_metal(rgb, alpha, "none"), rgb)
    with pytest.raises(InputError):
        correct_metal(rgb, alpha, "bronze")


# ---------------------------------------------------------------- highlights

def test_roll_off_reshapes_only_clipped_hotspots() -> None:
    rgb, alpha = disc_scene((200, 200, 200), (200, 170, 90))
    yy, xx = np.mgrid[0:300, 0:300]
    hot = (xx - 130) ** 2 + (yy - 140) ** 2 < 18 ** 2
    sparkle = (xx - 190) ** 2 + (yy - 170) ** 2 < 2 ** 2
    rgb[hot | sparkle] = 255
    out, touched = roll_off_highlights(rgb, alpha)
    assert 0 < touched <= int(hot.sum())
    assert np.array_equal(out[~hot], rgb[~hot]), "an unclipped pixel (or sparkle) changed"
    inside = out[hot].astype(np.float32)
    assert inside.max() < 255 and inside.std() > 3.0, "the hotspot is still a flat plateau"
    # The shoulder: brighter toward the centre.
    assert out[140, 130].mean() > out[140, 130 + 16].mean()


def test_roll_off_with_nothing_clipped_is_a_no_op() -> None:
    rgb, alpha = disc_scene((200, 200, 200), (200, 170, 90))
    out, touched = roll_off_highlights(rgb, alpha)
    assert touched == 0 and np.array_equal(out, rgb)


# ---------------------------------------------------------------- stones

def test_restore_gems_touches_only_the_stone() -> None:
    rng = np.random.default_rng(5)
    rgb, alpha = disc_scene((210, 210, 210), (205, 165, 80), radius=100)
    yy, xx = np.mgrid[0:300, 0:300]
    stone = (xx - 150) ** 2 + (yy - 150) ** 2 < 40 ** 2
    facets = rng.uniform(0.6, 1.0, (300, 300, 1)) * np.array([50, 90, 210], np.float32)
    rgb[stone] = cv2.GaussianBlur(facets, (0, 0), 1.5)[stone].astype(np.uint8)
    out, n = restore_gems(rgb, alpha)
    assert n > 0.7 * stone.sum()
    changed = np.any(out != rgb, axis=2)
    assert not changed[~stone].any(), "a pixel outside the stone changed"
    assert out[stone].astype(np.float32).std(axis=0).mean() >= rgb[stone].astype(np.float32).std(axis=0).mean()


def test_restore_gems_on_a_real_ring_leaves_the_backdrop() -> None:
    rgb, alpha = product("ring_sapphire_halo_split_shank_marble_bg")
    out, n = restore_gems(rgb, alpha)
    assert n > 1000
    assert np.array_equal(out[alpha < 0.5], rgb[alpha < 0.5])


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("call", [
    lambda r, a: balance_white(r, a),
    lambda r, a: roll_off_highlights(r, a),
    lambda r, a: detect_metal(r, a),
    lambda r, a: correct_metal(r, a, "yellow-gold"),
    lambda r, a: restore_gems(r, a),
])
@pytest.mark.parametrize("rgb, alpha", [
    (np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.float32)),
    (np.zeros((10, 10, 3), np.float64), np.zeros((10, 10), np.float32)),
    (np.zeros((10, 10, 4), np.uint8), np.zeros((10, 10), np.float32)),
    (np.zeros((10, 10, 3), np.uint8), np.zeros((9, 10), np.float32)),
    (np.zeros((10, 10, 3), np.uint8), None),
])
def test_bad_input_is_refused(call, rgb, alpha) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError):
        call(rgb, alpha)

"""The evaluation's two baselines: they run, give alpha of the photo's shape, and cut_out beats them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import load_rgb, media_path

from tryon.errors import InputError
from tryon.retouch.baselines import colour_key, colour_key_cfm
from tryon.retouch.matte import cut_out

EXACT = (
    "earrings_garnet_drop_rose_gold_two_panel_grey_bg",
    "ring_sapphire_halo_split_shank_marble_bg",
    "ring_sapphire_solitaire_side_view_light_grey_bg",
    "watch_gold_pave_dial_on_sand",
)


def iou(alpha: np.ndarray, mask: np.ndarray) -> float:
    p, g = alpha > 0.5, mask > 127
    return float((p & g).sum() / max((p | g).sum(), 1))


def test_baselines_shapes() -> None:
    rng = np.random.default_rng(5)
    rgb = np.full((120, 160, 3), 200, np.uint8)
    rgb[40:80, 60:100] = (180, 140, 40)
    rgb = np.clip(rgb + rng.normal(0, 2, rgb.shape), 0, 255).astype(np.uint8)
    for fn in (colour_key, colour_key_cfm):
        a = fn(rgb)
        assert a.shape == (120, 160) and a.dtype == np.float32
        assert a[60, 80] > 0.9 and a[5, 5] < 0.1


def test_baselines_bad_input() -> None:
    for fn in (colour_key, colour_key_cfm):
        with pytest.raises(InputError):
            fn(np.zeros((50, 50), np.uint8))


@pytest.mark.parametrize("name", EXACT)
def test_cut_out_beats_both_baselines(name: str) -> None:
    rgb = load_rgb(f"products/{name}.jpg")
    mask = cv2.imread(str(media_path(f"products/{name}.mask.png")), cv2.IMREAD_GRAYSCALE)
    ours = iou(cut_out(rgb).alpha, mask)
    for fn in (colour_key, colour_key_cfm):
        theirs = iou(fn(rgb), mask)
        assert ours > theirs, f"{name}: cut_out {ours:.3f} vs {fn.__name__} {theirs:.3f}"

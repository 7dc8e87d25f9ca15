"""The learned matte (tryon.retouch.net): its contract, its weights, its data and its training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tryon.errors import InputError
from tryon.retouch import net


def _ring_picture(size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """A gold ring (an annulus) on a grey card: (rgb uint8, mask bool)."""
    y, x = np.mgrid[0:size, 0:size]
    r = np.hypot(x - size / 2, y - size / 2)
    mask = (r > size * 0.2) & (r < size * 0.3)
    rgb = np.full((size, size, 3), 180, np.uint8)
    rgb[mask] = (212, 175, 55)
    return rgb, mask


def test_no_weights_gives_none(tmp_path: Path) -> None:
    rgb, _ = _ring_picture()
    assert net.coarse_alpha(rgb, weights=tmp_path / "absent.pt") is None


def test_corrupt_weights_give_none(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    rgb, _ = _ring_picture()
    assert net.coarse_alpha(rgb, weights=bad) is None


def test_bad_input_is_an_input_error() -> None:
    with pytest.raises(InputError, match="uint8"):
        net.coarse_alpha(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(InputError, match="RGB"):
        net.coarse_alpha(np.zeros((64, 64), np.uint8))
    with pytest.raises(InputError, match="px a side"):
        net.coarse_alpha(np.zeros((8, 64, 3), np.uint8))


def test_shape_and_dtype_any_size(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "w.pt"
    net.save_weights(net.MatteNet(), path, {"seed": 0})
    for h, w in ((96, 96), (75, 131), (33, 200)):
        rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
        alpha = net.coarse_alpha(rgb, weights=path)
        assert alpha is not None
        assert alpha.shape == (h, w) and alpha.dtype == np.float32
        assert float(alpha.min()) >= 0.0 and float(alpha.max()) <= 1.0


def test_border_distance_reads_the_backdrop() -> None:
    rgb, mask = _ring_picture()
    d = net.border_distance(rgb)
    assert d.shape == mask.shape and d.dtype == np.float32
    assert float(d[~mask].max()) == 0.0 and float(d[mask].min()) > 0.1

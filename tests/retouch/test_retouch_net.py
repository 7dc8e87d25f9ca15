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


def test_training_lowers_the_loss_seeded() -> None:
    """A few seeded steps on simple pictures lower the loss, and the same seed gives the same losses."""
    from tryon.retouch.train import Settings, train_steps

    rng = np.random.default_rng(0)
    rgbs, alphas = [], []
    for _ in range(8):
        rgb, mask = _ring_picture(64)
        rgb = np.clip(rgb.astype(np.int16) + rng.integers(-40, 41, 3), 0, 255).astype(np.uint8)
        rgbs.append(rgb)
        alphas.append(mask.astype(np.uint8) * 255)
    settings = Settings(seed=3, batch=4, lr=1e-2)
    runs = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny batches: more threads only wait on each other
    try:
        for _ in range(2):
            torch.manual_seed(3)
            _, losses = train_steps(net.MatteNet(), np.stack(rgbs), np.stack(alphas), 16, settings)
            runs.append(losses)
    finally:
        torch.set_num_threads(threads)
    assert runs[0] == pytest.approx(runs[1], rel=1e-4)
    assert np.mean(runs[0][-3:]) < 0.8 * np.mean(runs[0][:3])


def test_shipped_weights_are_small() -> None:
    if not net.DEFAULT_WEIGHTS.is_file():
        pytest.skip("no shipped weights yet")
    assert net.DEFAULT_WEIGHTS.stat().st_size <= 10 * 1024 * 1024
    assert net.load_model() is not None


def test_synthetic_photos_are_matted() -> None:
    """Held-out synthetic photos (a seed the training never used; chains, props, shadows, textured backdrops):
    the shipped net finds the pieces far better than a plain key against the border's colour."""
    if not net.DEFAULT_WEIGHTS.is_file():
        pytest.skip("no shipped weights yet")
    from tryon.retouch.synth import make_dataset

    rgb, alpha, _ = make_dataset(8, 160, seed=12345)

    def iou(truth: np.ndarray, found: np.ndarray) -> float:
        return float((truth & found).sum()) / max(1, int((truth | found).sum()))

    ours, keyed = [], []
    for im, al in zip(rgb, alpha, strict=True):
        pred = net.coarse_alpha(im)
        assert pred is not None
        ours.append(iou(al > 127, pred > 0.5))
        keyed.append(iou(al > 127, net.border_distance(im) > 0.1))
    assert float(np.mean(ours)) > 0.5, ours  # 0.61 when written (thin chains pull it down)
    assert float(np.mean(ours)) > 2.0 * float(np.mean(keyed)), (ours, keyed)


def test_synthetic_samples_are_seeded() -> None:
    """Synthetic photos come from the seed alone, each with a piece in its alpha."""
    from tryon.retouch.synth import make_dataset

    rgb, alpha, notes = make_dataset(2, 96, seed=7)
    assert rgb.shape == (2, 96, 96, 3) and rgb.dtype == np.uint8 and alpha.shape == (2, 96, 96)
    assert all((a > 127).sum() > 30 for a in alpha)
    again = make_dataset(2, 96, seed=7)
    assert np.array_equal(rgb, again[0]) and np.array_equal(alpha, again[1]) and notes == again[2]

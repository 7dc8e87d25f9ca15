"""The compositor on the live path: same contract as plain compositing, deterministic, and safe when its
weights are missing or broken."""

import logging

import numpy as np
import pytest
import torch

from tryon.compositor import neural
from tryon.compositor.alpha import composite
from tryon.compositor.look import MARGIN_PX, regions
from tryon.compositor.net import CompositorNet
from tryon.compositor.neural import DEFAULT_WEIGHTS, Compositor
from tryon.errors import InputError
from tryon.types import RenderLayer

FRAME = (120, 160)


def _frame(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, FRAME + (3,), dtype=np.uint8)


def _layer(two: bool = False) -> RenderLayer:
    """A 60x100 region at (30, 20) holding a gold disc (and a second piece far to its right)."""
    rgba = np.zeros((60, 100, 4), np.float32)
    yy, xx = np.mgrid[:60, :100]
    for cx in (20, 85) if two else (20,):
        a = np.clip(8.5 - np.hypot(xx - cx, yy - 30), 0, 1).astype(np.float32)
        rgba[..., 3] = np.maximum(rgba[..., 3], a)
    rgba[..., :3] = np.array([0.9, 0.7, 0.3], np.float32) * rgba[..., 3:4]
    return RenderLayer(rgba, (30, 20), (FRAME[1], FRAME[0]))


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A weights file with a non-trivial head (the look differs from plain compositing)."""
    torch.manual_seed(0)
    net = CompositorNet()
    torch.nn.init.normal_(net.encoder.head[2].weight, std=0.05)
    path = tmp_path_factory.mktemp("w") / "compositor.pt"
    torch.save({"state_dict": net.state_dict(), "meta": {"width": 24, "hidden": 64}}, path)
    return path


@pytest.fixture(autouse=True)
def _fresh_warnings():
    neural._warned.clear()
    neural._load.cache_clear()


def test_shipped_weights_load_and_are_small():
    assert DEFAULT_WEIGHTS.is_file(), "assets/models/compositor.pt is missing: run `tryon compositor train`"
    assert DEFAULT_WEIGHTS.stat().st_size <= 10 * 2**20
    assert Compositor().active


def test_same_contract_as_plain_compositing(weights):
    c = Compositor(weights)
    frame, layer = _frame(), _layer()
    out = c(frame, layer)
    assert out.shape == frame.shape and out.dtype == np.uint8 and out is not frame
    changed = np.abs(out.astype(int) - frame).sum(axis=2) > 0
    ys, xs = np.nonzero(changed)
    # Only round the piece: its box (x 30+11..30+30, y 20+21..20+40) grown by the margin.
    assert xs.min() >= 30 + 11 - MARGIN_PX and xs.max() <= 30 + 29 + MARGIN_PX
    assert ys.min() >= 20 + 21 - MARGIN_PX and ys.max() <= 20 + 39 + MARGIN_PX
    assert not np.array_equal(out, composite(frame, layer))  # a look, not plain compositing


def test_deterministic_bit_for_bit(weights):
    frame, layer = _frame(), _layer(two=True)
    a = Compositor(weights)(frame, layer)
    b = Compositor(weights)(frame.copy(), layer)
    assert np.array_equal(a, b)
    assert np.array_equal(a, Compositor(weights)(frame, layer))


def test_grain_changes_with_the_frame(weights):
    layer = _layer()
    a, b = Compositor(weights)(_frame(0), layer), Compositor(weights)(_frame(1), layer)
    inside = (slice(45, 55), slice(45, 55))  # the disc's opaque middle: only the look and the grain there
    assert not np.array_equal(a[inside], b[inside])


def test_two_pieces_two_regions():
    alpha = _layer(two=True).rgba[..., 3]
    boxes = regions(alpha)
    assert len(boxes) == 2 and boxes[0][2] < boxes[1][0]
    assert regions(np.zeros((5, 5), np.float32)) == []


def test_empty_layer_changes_nothing(weights):
    frame = _frame()
    empty = RenderLayer(np.zeros((0, 0, 4), np.float32), (0, 0), (FRAME[1], FRAME[0]))
    out = Compositor(weights)(frame, empty)
    assert np.array_equal(out, frame) and out is not frame
    clear = RenderLayer(np.zeros((10, 10, 4), np.float32), (5, 5), (FRAME[1], FRAME[0]))
    assert np.array_equal(Compositor(weights)(frame, clear), frame)


def test_bad_frames_are_refused(weights):
    c = Compositor(weights)
    with pytest.raises(InputError, match=r"frame must be a \(120, 160, 3\) uint8 image .* got \(120, 150, 3\)"):
        c(np.zeros((120, 150, 3), np.uint8), _layer())
    with pytest.raises(InputError, match="uint8"):
        c(np.zeros(FRAME + (3,), np.float32), _layer())


@pytest.mark.parametrize("content", [None, b"not a torch file at all", "wrong-keys", "nan"])
def test_missing_or_corrupt_weights_fall_back_with_one_warning(tmp_path, caplog, content):
    path = tmp_path / "compositor.pt"
    if content == "wrong-keys":
        torch.save({"state_dict": {"w": torch.zeros(3)}}, path)
    elif content == "nan":
        net = CompositorNet()
        torch.nn.init.constant_(net.encoder.head[2].bias, float("nan"))
        torch.save({"state_dict": net.state_dict()}, path)
    elif content is not None:
        path.write_bytes(content)
    frame, layer = _frame(), _layer()
    with caplog.at_level(logging.WARNING, logger="tryon.compositor.neural"):
        outs = [Compositor(path)(frame, layer) for _ in range(3)]
    assert all(np.array_equal(o, composite(frame, layer)) for o in outs)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "plain compositing" in warnings[0].getMessage()
    assert not Compositor(path).active


def test_a_failure_on_the_live_path_falls_back(weights, caplog, monkeypatch):
    c = Compositor(weights)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(c, "looks", broken)
    frame, layer = _frame(), _layer()
    with caplog.at_level(logging.ERROR, logger="tryon.compositor.neural"):
        assert np.array_equal(c(frame, layer), composite(frame, layer))
        assert np.array_equal(c(frame, layer), composite(frame, layer))
    assert not c.active and len(caplog.records) == 1


def test_no_weights_means_plain(caplog):
    with caplog.at_level(logging.WARNING):
        c = Compositor(None)
    assert not c.active and not caplog.records
    frame, layer = _frame(), _layer()
    assert np.array_equal(c(frame, layer), composite(frame, layer))


def test_video_reads_the_look_every_nth_frame(weights, monkeypatch):
    c = Compositor(weights, look_every=3)
    calls = []
    real = c.looks
    monkeypatch.setattr(c, "looks", lambda t, p: calls.append(len(t)) or real(t, p))
    layer, two = _layer(), _layer(two=True)
    for i in range(7):
        c(_frame(i), layer)
    assert calls == [1, 1, 1]  # frames 0, 3 and 6
    c(_frame(7), two)  # another number of pieces: read again
    assert calls == [1, 1, 1, 2]
    # Between reads the look is kept, the grain still follows the frame.
    first = Compositor(weights)(_frame(0), layer)
    assert np.array_equal(Compositor(weights, look_every=3)(_frame(0), layer), first)


def test_video_eases_into_each_new_look(weights, monkeypatch):
    """A new reading moves the held look LOOK_BLEND of the way (the raw readings of a real video jump by
    up to 13 grey levels on gold between readings, 3.4 eased); photos and a first reading are not eased."""
    from tryon.compositor.look import blend_looks, look_colour_np
    from tryon.compositor.neural import LOOK_BLEND

    c = Compositor(weights, look_every=2)
    raw = []
    real = c.looks
    monkeypatch.setattr(c, "looks", lambda t, p: raw.append(real(t, p)[0]) or [raw[-1]])
    layer = _layer()
    warm = np.zeros(FRAME + (3,), np.uint8) + np.uint8([230, 150, 60])
    cool = np.zeros(FRAME + (3,), np.uint8) + np.uint8([20, 40, 90])
    c(warm, layer)
    assert c._held[0] is raw[0]  # the first reading as it is
    c(warm, layer)
    c(cool, layer)  # the second reading
    held, expect = c._held[0], blend_looks(raw[0], raw[1], LOOK_BLEND)
    for name in ("matrix", "curve", "black", "shadow"):
        assert np.allclose(getattr(held, name), getattr(expect, name)), name
    probe = np.float32([[0.8, 0.6, 0.3]])
    full = np.abs(look_colour_np(probe, raw[1]) - look_colour_np(probe, raw[0])).max()
    moved = np.abs(look_colour_np(probe, held) - look_colour_np(probe, raw[0])).max()
    assert full > 0.01 and moved < 0.5 * full

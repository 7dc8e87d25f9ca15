"""The data the compositor learns from, and its evaluation on a tiny held-out set (photos it never saw)."""

import numpy as np
import pytest

from tryon.compositor import data
from tryon.compositor.evaluate import evaluate, format_scores, gray_world, reinhard
from tryon.compositor.look import region_mask
from tryon.compositor.neural import Compositor

ITEMS = ("hoop-round-25mm-yellow-gold", "stud-diamond-6mm-white-gold", "ring-solitaire-diamond-6.5mm-platinum",
         "pendant-heart-12mm-rose-gold")


@pytest.fixture(scope="module")
def jewelry(catalog):
    with data.Jewelry(ITEMS, catalog) as j:
        yield j


@pytest.fixture(scope="module")
def held_out(jewelry):
    """48 examples on the two held-out photos that ship with scikit-image (this runs anywhere)."""
    photos = [p for p in data.photos(None) if p.group in ("astronaut", "coffee")]
    return data.make_examples(photos, jewelry, 48, seed=11)


def test_split_is_by_photo():
    train, test = data.split(data.photos())
    assert {p.group for p in train}.isdisjoint({p.group for p in test})
    assert {"astronaut", "coffee"} <= {p.group for p in test}
    # The astronaut in the media folder is the same photo: held out with scikit-image's.
    assert all(p.group == "astronaut" for p in data.photos() if "astronaut" in p.name)


def test_pieces_are_our_renders_lit_by_the_frame(jewelry, astronaut):
    from tryon.render.environment import FrameLight

    views = jewelry.views(np.random.default_rng(0), 6)
    warm = astronaut.copy()
    warm[..., 2] //= 3
    lit = [jewelry.draw(views, FrameLight()(img)) for img in (astronaut, warm)]
    for s in lit[0]:
        assert s.dtype == np.uint8 and s.shape[2] == 4 and s.shape[0] == s.shape[1]
        assert (s[..., :3] <= s[..., 3:4]).all()  # premultiplied
        assert s[..., 3].max() == 255
    assert all(np.array_equal(a[..., 3], b[..., 3]) for a, b in zip(*lit, strict=True))  # same geometry
    assert sum(int(a[..., 2].sum()) for a in lit[0]) > sum(int(b[..., 2].sum()) for b in lit[1])  # lit by the frame


def test_examples(held_out):
    ex = held_out
    n = len(ex)
    assert n == 48
    assert ex.frame.shape == ex.target.shape == (n, data.CROP_PX, data.CROP_PX, 3)
    assert ex.layer.shape == (n, data.CROP_PX, data.CROP_PX, 4) and ex.thumb.shape == (n, 32, 32, 3)
    for i in range(n):
        region = region_mask(ex.layer[i, ..., 3] / 255.0)
        diff = np.abs(ex.target[i].astype(int) - ex.frame[i]).max(axis=2)
        # The target is the input frame except round the piece (its shadow, and the JPEG blocks it touches).
        assert diff[region].mean() > 2 * diff[~region].mean()
        assert (diff[~region] == 0).mean() > 0.3


def test_examples_are_seeded(jewelry):
    photos = [p for p in data.photos(None) if p.group == "coffee"]
    a, b = (data.make_examples(photos, jewelry, 4, seed=3) for _ in range(2))
    assert np.array_equal(a.target, b.target) and np.array_equal(a.frame, b.frame)


def test_baselines_leave_the_background_alone(held_out):
    frame = held_out.frame[0].astype(np.float32) / 255.0
    layer = held_out.layer[0].astype(np.float32) / 255.0
    outside = layer[..., 3] == 0
    for out in (reinhard(frame, layer), gray_world(frame, layer, held_out.thumb[0])):
        assert np.allclose(out[outside], frame[outside])


def test_the_network_beats_plain_compositing_on_held_out_photos(held_out):
    scores = {s.method: s for s in evaluate(held_out, Compositor())}
    print(format_scores(list(scores.values()), len(held_out), 2))
    assert set(scores) == {"plain", "reinhard", "gray world", "network"}
    assert scores["network"].mse < 0.8 * scores["plain"].mse
    assert scores["network"].psnr_db > scores["plain"].psnr_db
